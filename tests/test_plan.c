/* Plan model: ids, waves, cycles, checksum, JSON round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/plan.h"

static void add(hf_plan *p, enum hf_action a, const char *kind,
		const char *name, json_t *deps)
{
	struct hf_change c;
	hf_error err = HF_ERROR_INIT;

	memset(&c, 0, sizeof(c));
	c.action = a;
	c.kind = hf_strdup(kind);
	c.hfid = json_pack("[s]", name);
	c.after = json_pack("{s:s}", "name", name);
	c.deps = deps;
	if (a != HF_ACT_CREATE) {
		c.node_id = hf_strdup("0190f1e2-0000-7000-8000-000000000001");
		c.before = json_pack("{s:s}", "name", name);
		memset(c.fingerprint, 'a', 64);
	}
	assert_int_equal(hf_plan_add(p, &c, &err), 0);
}

static void test_plan__ids_are_stable(void **state)
{
	hf_plan *a, *b;

	(void)state;
	assert_int_equal(hf_plan_new(&a, "http://x", "main", NULL), 0);
	assert_int_equal(hf_plan_new(&b, "http://y", "main", NULL), 0);
	add(a, HF_ACT_CREATE, "NetSite", "par1", NULL);
	add(b, HF_ACT_CREATE, "NetSite", "par1", NULL);
	add(b, HF_ACT_UPDATE, "NetSite", "par1", NULL);
	assert_string_equal(hf_plan_at(a, 0)->id, hf_plan_at(b, 0)->id);
	assert_string_not_equal(hf_plan_at(b, 0)->id, hf_plan_at(b, 1)->id);
	assert_int_equal(strlen(hf_plan_at(a, 0)->id), 16);
	hf_plan_free(a);
	hf_plan_free(b);
}

static void test_plan__waves_follow_dependencies(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hf_plan *p;
	const char *site, *dev;

	(void)state;
	assert_int_equal(hf_plan_new(&p, "http://x", "main", NULL), 0);
	add(p, HF_ACT_CREATE, "NetSite", "par1", NULL);
	site = hf_plan_at(p, 0)->id;
	add(p, HF_ACT_CREATE, "NetDevice", "core1", json_pack("[s]", site));
	dev = hf_plan_at(p, 1)->id;
	add(p, HF_ACT_CREATE, "NetInterface", "eth0",
	    json_pack("[s,s]", dev, hf_plan_at(p, 0)->id));
	add(p, HF_ACT_NOOP, "NetSite", "lyo1", NULL);
	assert_int_equal(hf_plan_finish(p, &err), 0);
	assert_int_equal(hf_plan_at(p, 0)->wave, 0);
	assert_int_equal(hf_plan_at(p, 1)->wave, 1);
	assert_int_equal(hf_plan_at(p, 2)->wave, 2);
	assert_int_equal(hf_plan_at(p, 3)->wave, 0);
	assert_int_equal(hf_plan_waves(p), 3);
	assert_int_equal(hf_plan_meta(p)->n_create, 3);
	assert_int_equal(hf_plan_meta(p)->n_noop, 1);
	assert_int_equal(strlen(hf_plan_meta(p)->id), HF_PLAN_ID_LEN);
	hf_plan_free(p);
}

static void test_plan__cycle_is_reported_by_name(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hf_plan *p;
	char a[17], b[17];

	(void)state;
	assert_int_equal(hf_plan_new(&p, "http://x", "main", NULL), 0);
	add(p, HF_ACT_CREATE, "NetSite", "a", NULL);
	add(p, HF_ACT_CREATE, "NetSite", "b", NULL);
	memcpy(a, hf_plan_at(p, 0)->id, 17);
	memcpy(b, hf_plan_at(p, 1)->id, 17);
	json_array_append_new(hf_plan_at(p, 0)->deps, json_string(b));
	json_array_append_new(hf_plan_at(p, 1)->deps, json_string(a));
	assert_int_equal(hf_plan_finish(p, &err), HF_EINVAL);
	assert_non_null(strstr(err.msg, "dependency cycle"));
	assert_non_null(strstr(err.msg, "NetSite [\"a\"]"));
	hf_plan_free(p);
}

static void test_plan__unknown_dependency(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hf_plan *p;

	(void)state;
	assert_int_equal(hf_plan_new(&p, "http://x", "main", NULL), 0);
	add(p, HF_ACT_CREATE, "NetSite", "a", json_pack("[s]", "ffffffffffffffff"));
	assert_int_equal(hf_plan_finish(p, &err), HF_EINVAL);
	assert_non_null(strstr(err.msg, "unknown change"));
	hf_plan_free(p);
}

static void test_plan__json_round_trip_and_tamper(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hf_plan *p, *q;
	json_t *j, *j2;

	(void)state;
	assert_int_equal(hf_plan_new(&p, "http://x", "main", NULL), 0);
	add(p, HF_ACT_CREATE, "NetSite", "par1", NULL);
	add(p, HF_ACT_UPDATE, "NetDevice", "core1",
	    json_pack("[s]", hf_plan_at(p, 0)->id));
	assert_int_equal(hf_plan_finish(p, &err), 0);
	j = hf_plan_to_json(p);
	assert_non_null(j);
	assert_int_equal(hf_plan_from_json(&q, j, &err), 0);
	j2 = hf_plan_to_json(q);
	assert_true(json_equal(j, j2));
	json_decref(j2);
	hf_plan_free(q);
	/* an edited plan fails its checksum */
	json_object_set_new(json_object_get(json_array_get(json_object_get(j, "changes"), 0),
					    "after"),
			    "name", json_string("evil"));
	assert_int_equal(hf_plan_from_json(&q, j, &err), HF_EINVAL);
	assert_non_null(strstr(err.msg, "checksum"));
	assert_null(q);
	json_decref(j);
	hf_plan_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan__ids_are_stable),
		cmocka_unit_test(test_plan__waves_follow_dependencies),
		cmocka_unit_test(test_plan__cycle_is_reported_by_name),
		cmocka_unit_test(test_plan__unknown_dependency),
		cmocka_unit_test(test_plan__json_round_trip_and_tamper),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
