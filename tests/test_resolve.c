/*
 * Resolver on the project's own schema answer (tests/data/resolve):
 * identities, nested links from the child's side, references by HFID or
 * default_filter, computed HFIDs, repeats, and the errors with positions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/resolve.h"
#include "testutil.h"

static hf_schema *schema;

struct diags {
	int errors, warnings;
	char text[4096];
};

static void on_diag(void *payload, enum hf_mdiag_level lvl, const hf_error *e)
{
	struct diags *d = payload;
	size_t n = strlen(d->text);

	if (lvl == HF_MDIAG_ERROR)
		d->errors++;
	else
		d->warnings++;
	snprintf(d->text + n, sizeof(d->text) - n, "%s:%d:%d: %s\n", e->where,
		 e->line, e->col, e->msg);
}

static int setup(void **state)
{
	char path[600];
	json_t *j;

	(void)state;
	snprintf(path, sizeof(path), "%s/resolve/schema.json", hf_test_data());
	j = json_load_file(path, 0, NULL);
	if (!j || hf_schema_parse(&schema, j, NULL) < 0)
		return -1;
	json_decref(j);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hf_schema_free(schema);
	return 0;
}

static hf_objset *resolve(const char *yaml, int strict, struct diags *d)
{
	struct hf_resolve_opts o = HF_RESOLVE_OPTS_INIT;
	hf_manifest *m;
	hf_objset *set = NULL;

	memset(d, 0, sizeof(*d));
	o.strict = strict;
	assert_int_equal(hf_manifest_new(&m), 0);
	hf_manifest_add_buffer(m, "t.yml", yaml, strlen(yaml), NULL);
	assert_int_equal(hf_manifest_error_count(m), 0);
	hf_resolve(&set, m, schema, &o, on_diag, d, NULL);
	hf_manifest_free(m);
	return set;
}

static const struct hf_object *find(hf_objset *s, const char *kind,
				    const char *a, const char *b)
{
	json_t *h = b ? json_pack("[s,s]", a, b) : json_pack("[s]", a);
	long at = hf_objset_find(s, kind, h);

	json_decref(h);
	return at >= 0 ? hf_objset_at(s, (size_t)at) : NULL;
}

static const char devices[] =
	"apiVersion: infrahub.app/v1\nkind: Object\nspec:\n  kind: TestDevice\n  data:\n"
	"    - name: core1\n"
	"      role: core\n"
	"      asn: 65001\n"
	"      site: paris\n"
	"      tags: [red, blue]\n"
	"      prefixes: [10.0.0.0/24]\n"
	"      interfaces:\n"
	"        kind: TestInterface\n"
	"        data:\n"
	"          - name: eth0\n"
	"          - {name: eth1, mtu: 9000}\n";

static void test_resolve__identities_and_links(void **state)
{
	struct diags d;
	hf_objset *s = resolve(devices, 0, &d);
	const struct hf_object *dev, *eth;
	const struct hf_field *f;

	(void)state;
	assert_int_equal(d.errors, 0);
	assert_int_equal(hf_objset_count(s), 3);
	dev = find(s, "TestDevice", "core1", NULL);
	eth = find(s, "TestInterface", "core1", "eth1");
	assert_non_null(dev);
	assert_non_null(eth);
	/* the child carries the link; the parent manages no interfaces field */
	f = hf_object_field(eth, "device");
	assert_int_equal(f->type, HF_FIELD_ONE);
	assert_string_equal(json_string_value(json_array_get(f->refs[0].hfid, 0)), "core1");
	assert_null(hf_object_field(dev, "interfaces"));
	/* a one-ref string is a one-element HFID */
	f = hf_object_field(dev, "site");
	assert_string_equal(json_string_value(json_array_get(f->refs[0].hfid, 0)), "paris");
	/* many strings: the HFID when default_filter is the HFID ... */
	f = hf_object_field(dev, "tags");
	assert_int_equal(f->nrefs, 2);
	assert_non_null(f->refs[1].hfid);
	/* ... else a default_filter reference */
	f = hf_object_field(dev, "prefixes");
	assert_null(f->refs[0].hfid);
	assert_string_equal(f->refs[0].filter_attr, "prefix");
	assert_int_equal(json_integer_value(hf_object_field(dev, "asn")->value), 65001);
	assert_int_equal(hf_object_field(eth, "mtu")->line, 16);
	hf_objset_free(s);
}

static void test_resolve__computed_hfid(void **state)
{
	struct diags d;
	hf_objset *s = resolve("apiVersion: infrahub.app/v1\nkind: Object\nspec:\n"
			       "  kind: TestAutonomousSystem\n  data:\n    - asn: 65000\n",
			       0, &d);

	(void)state;
	assert_int_equal(d.errors, 0);
	assert_non_null(find(s, "TestAutonomousSystem", "AS65000", NULL));
	hf_objset_free(s);
}

static const char repeat[] =
	"apiVersion: infrahub.app/v1\nkind: Object\nspec:\n  kind: TestSite\n  data:\n"
	"    - {name: paris, description: hq}\n"
	"    - {name: paris, description: hq}\n"
	"    - {name: paris, description: headquarters}\n";

static void test_resolve__repeats_merge_later_wins(void **state)
{
	struct diags d;
	hf_objset *s = resolve(repeat, 0, &d);

	(void)state;
	assert_int_equal(d.errors, 0);
	assert_int_equal(d.warnings, 1);
	assert_non_null(strstr(d.text, "t.yml:8:34: TestSite [\"paris\"]: field 'description' set to \"hq\" at t.yml:6:34"));
	assert_int_equal(hf_objset_count(s), 1);
	assert_string_equal(json_string_value(hf_object_field(hf_objset_at(s, 0),
							      "description")->value),
			    "headquarters");
	hf_objset_free(s);
	s = resolve(repeat, 1, &d);
	assert_int_equal(d.errors, 1);
	hf_objset_free(s);
}

static void test_resolve__errors_with_positions(void **state)
{
	struct diags d;
	hf_objset *s = resolve(
		"apiVersion: infrahub.app/v1\nkind: Object\nspec:\n  kind: TestDevice\n  data:\n"
		"    - name: a\n      role: spine\n      site: x\n      colour: red\n"
		"    - name: b\n      role: core\n"
		"    - name: c\n      role: core\n      site: x\n      serial: S1\n"
		"    - name: d\n      role: core\n      site: x\n      serial: S1\n"
		"    - name: e\n      role: core\n      site: x\n      asn: \"12\"\n",
		0, &d);

	(void)state;
	assert_non_null(strstr(d.text, "t.yml:7:13: \"spine\" is not a valid choice"));
	assert_non_null(strstr(d.text, "t.yml:9:7: 'colour' is not a valid attribute or relationship for TestDevice"));
	assert_non_null(strstr(d.text, "t.yml:10:7: site is mandatory for TestDevice"));
	assert_non_null(strstr(d.text, "both have unique serial = \"S1\""));
	assert_non_null(strstr(d.text, "t.yml:23:12:"));
	assert_int_equal(d.errors, 5);
	hf_objset_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve__identities_and_links),
		cmocka_unit_test(test_resolve__computed_hfid),
		cmocka_unit_test(test_resolve__repeats_merge_later_wins),
		cmocka_unit_test(test_resolve__errors_with_positions),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
