/* YAML to JSON with PyYAML's typing, through the manifest's value tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "hf/manifest.h"
#include "hf/yjson.h"

static const char doc[] = "version: \"1.0\"\n"
                          "nodes:\n"
                          "  - name: Device\n"
                          "    namespace: Net\n"
                          "    order_weight: 1000\n"
                          "    ratio: 1.5\n"
                          "    enabled: yes\n"
                          "    quoted: \"100\"\n"
                          "    nothing: ~\n"
                          "    octal: 0o17\n"
                          "    inf: .inf\n"
                          "    when: 2024-01-02\n"
                          "    list: [a, 2, false]\n"
                          "    anchor: &x {k: v}\n"
                          "    alias: *x\n";

static void test_yjson__pyyaml_types(void **state)
{
	hf_manifest *m;
	json_t *j, *node;
	const hf_mdoc *d;

	(void)state;
	assert_int_equal(hf_manifest_new(&m), 0);
	hf_manifest_add_buffer(m, "s.yml", doc, strlen(doc), NULL);
	assert_int_equal(hf_manifest_doc_count(m), 1);
	d = hf_manifest_doc_at(m, 0);
	assert_int_equal(hf_mdoc_type(d), HF_MDOC_SCHEMA);
	assert_int_equal(hf_yval_json(&j, hf_mdoc_root(d), NULL), 0);
	assert_string_equal(json_string_value(json_object_get(j, "version")),
	                    "1.0");
	node = json_array_get(json_object_get(j, "nodes"), 0);
	assert_int_equal(
	        json_integer_value(json_object_get(node, "order_weight")),
	        1000);
	assert_true(json_is_real(json_object_get(node, "ratio")));
	assert_true(json_is_true(json_object_get(node, "enabled")));
	assert_string_equal(json_string_value(json_object_get(node, "quoted")),
	                    "100");
	assert_true(json_is_null(json_object_get(node, "nothing")));
	assert_true(json_is_string(json_object_get(node, "inf")));
	assert_true(json_is_string(json_object_get(node, "when")));
	assert_int_equal(json_integer_value(json_array_get(
	                         json_object_get(node, "list"), 1)),
	                 2);
	assert_true(json_is_false(
	        json_array_get(json_object_get(node, "list"), 2)));
	assert_true(json_equal(json_object_get(node, "anchor"),
	                       json_object_get(node, "alias")));
	json_decref(j);
	hf_manifest_free(m);
}

/* 20 levels of 9 aliases: 9^20 values if copied out; refused instead. */
static void test_yjson__alias_bomb_is_bounded(void **state)
{
	hf_manifest *m;
	hf_error err = HF_ERROR_INIT;
	hf_buf b = HF_BUF_INIT;
	json_t *j = NULL;
	int i, k;

	(void)state;
	hf_buf_add(
	        &b,
	        "version: \"1.0\"\nnodes: &a0 [x, x, x, x, x, x, x, x, x]\n");
	for (i = 1; i < 20; i++) {
		hf_buf_addf(&b, "l%d: &a%d [", i, i);
		for (k = 0; k < 9; k++)
			hf_buf_addf(&b, "%s*a%d", k ? ", " : "", i - 1);
		hf_buf_add(&b, "]\n");
	}
	assert_int_equal(hf_manifest_new(&m), 0);
	hf_manifest_add_buffer(m, "bomb.yml", b.ptr, b.len, NULL);
	assert_int_equal(
	        hf_yval_json(&j, hf_mdoc_root(hf_manifest_doc_at(m, 0)), &err),
	        HF_EINVAL);
	assert_null(j);
	assert_non_null(strstr(err.msg, "expands to more than"));
	assert_string_equal(err.where, "bomb.yml");
	hf_manifest_free(m);
	hf_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yjson__pyyaml_types),
		cmocka_unit_test(test_yjson__alias_bomb_is_bounded),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
