/* Diff: create/update/no-op, echo normalisation, sets, deps, fingerprints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/diff.h"

static struct hf_object obj(const char *kind, const char *name,
			    const char *id)
{
	struct hf_object o;

	memset(&o, 0, sizeof(o));
	o.kind = hf_strdup(kind);
	o.hfid = json_pack("[s]", name);
	o.id = id ? hf_strdup(id) : NULL;
	return o;
}

static void attr(struct hf_object *o, const char *name, enum hf_attr_kind k,
		 json_t *v)
{
	struct hf_field f;

	memset(&f, 0, sizeof(f));
	f.name = hf_strdup(name);
	f.type = HF_FIELD_ATTR;
	f.akind = k;
	f.value = v;
	assert_int_equal(hf_object_add_field(o, &f), 0);
}

static void rel(struct hf_object *o, const char *name, int many,
		const char *kind, const char *const *peers, const char *const *ids)
{
	struct hf_field f;
	size_t n = 0, i;

	while (peers[n])
		n++;
	memset(&f, 0, sizeof(f));
	f.name = hf_strdup(name);
	f.type = many ? HF_FIELD_MANY : HF_FIELD_ONE;
	f.refs = hf_calloc(n ? n : 1, sizeof(*f.refs));
	f.nrefs = n;
	for (i = 0; i < n; i++) {
		f.refs[i].kind = hf_strdup(kind);
		f.refs[i].hfid = json_pack("[s]", peers[i]);
		f.refs[i].id = ids ? hf_strdup(ids[i]) : NULL;
	}
	assert_int_equal(hf_object_add_field(o, &f), 0);
}

static void put(hf_objset *s, struct hf_object o)
{
	assert_int_equal(hf_objset_add(s, &o, NULL), 0);
}

struct sets {
	hf_objset *want, *have;
	hf_plan *plan;
};

static void run(struct sets *s)
{
	hf_error err = HF_ERROR_INIT;

	assert_int_equal(hf_plan_new(&s->plan, "http://x", "main", NULL), 0);
	assert_int_equal(hf_diff(s->plan, s->want, s->have, NULL, &err), 0);
	assert_int_equal(hf_plan_finish(s->plan, &err), 0);
}

static void done(struct sets *s)
{
	hf_objset_free(s->want);
	hf_objset_free(s->have);
	hf_plan_free(s->plan);
}

static void test_diff__create_update_noop(void **state)
{
	struct sets s;
	struct hf_object w1 = obj("NetSite", "par1", NULL);
	struct hf_object w2 = obj("NetSite", "lyo1", NULL);
	struct hf_object w3 = obj("NetSite", "nce1", NULL);
	struct hf_object h1 = obj("NetSite", "par1", "id-par1");
	struct hf_object h2 = obj("NetSite", "lyo1", "id-lyo1");
	struct hf_change *c;

	(void)state;
	hf_objset_new(&s.want);
	hf_objset_new(&s.have);
	attr(&w1, "description", HF_ATTR_TEXT, json_string("HQ"));
	attr(&h1, "description", HF_ATTR_TEXT, json_string("old"));
	attr(&h1, "other", HF_ATTR_TEXT, json_string("unmanaged"));
	attr(&w2, "asn", HF_ATTR_NUMBER, json_integer(65000));
	attr(&h2, "asn", HF_ATTR_NUMBER, json_real(65000.0));
	attr(&w3, "description", HF_ATTR_TEXT, json_string("new"));
	put(s.want, w1);
	put(s.want, w2);
	put(s.want, w3);
	put(s.have, h1);
	put(s.have, h2);
	run(&s);
	c = hf_plan_at(s.plan, 0);
	assert_int_equal(c->action, HF_ACT_UPDATE);
	assert_string_equal(c->node_id, "id-par1");
	assert_int_equal(json_array_size(c->changed), 1);
	assert_string_equal(json_string_value(json_object_get(c->before, "description")), "old");
	/* unmanaged fields never appear */
	assert_null(json_object_get(c->before, "other"));
	assert_int_equal(strlen(c->fingerprint), 64);
	assert_int_equal(hf_plan_at(s.plan, 1)->action, HF_ACT_NOOP);
	assert_int_equal(hf_plan_at(s.plan, 2)->action, HF_ACT_CREATE);
	assert_null(hf_plan_at(s.plan, 2)->before);
	assert_int_equal(hf_plan_meta(s.plan)->n_update, 1);
	done(&s);
}

static void test_diff__echoed_values_are_not_changes(void **state)
{
	struct sets s;
	struct hf_object w = obj("IpamIPAddress", "a", NULL);
	struct hf_object h = obj("IpamIPAddress", "a", "id-a");

	(void)state;
	hf_objset_new(&s.want);
	hf_objset_new(&s.have);
	attr(&w, "address", HF_ATTR_IPHOST, json_string("2001:DB8:0:0::1"));
	attr(&h, "address", HF_ATTR_IPHOST, json_string("2001:db8::1/128"));
	attr(&w, "enabled", HF_ATTR_BOOLEAN, json_true());
	attr(&h, "enabled", HF_ATTR_BOOLEAN, json_true());
	attr(&w, "prefix", HF_ATTR_IPNETWORK, json_string("10.0.0.0/24"));
	attr(&h, "prefix", HF_ATTR_IPNETWORK, json_string("10.0.0.0/24"));
	put(s.want, w);
	put(s.have, h);
	run(&s);
	assert_int_equal(hf_plan_at(s.plan, 0)->action, HF_ACT_NOOP);
	done(&s);
}

static void test_diff__many_relationships_are_sets(void **state)
{
	const char *const a[] = { "red", "blue", NULL };
	const char *const b[] = { "blue", "red", NULL };
	const char *const c3[] = { "blue", NULL };
	const char *const ids[] = { "i-blue", "i-red" };
	struct sets s;
	struct hf_object w = obj("NetDevice", "d1", NULL);
	struct hf_object w2 = obj("NetDevice", "d2", NULL);
	struct hf_object h = obj("NetDevice", "d1", "id-d1");
	struct hf_object h2 = obj("NetDevice", "d2", "id-d2");

	(void)state;
	hf_objset_new(&s.want);
	hf_objset_new(&s.have);
	rel(&w, "tags", 1, "BuiltinTag", a, NULL);
	rel(&h, "tags", 1, "BuiltinTag", b, ids);
	rel(&w2, "tags", 1, "BuiltinTag", c3, NULL);
	rel(&h2, "tags", 1, "BuiltinTag", b, ids);
	put(s.want, w);
	put(s.want, w2);
	put(s.have, h);
	put(s.have, h2);
	run(&s);
	assert_int_equal(hf_plan_at(s.plan, 0)->action, HF_ACT_NOOP);
	assert_int_equal(hf_plan_at(s.plan, 1)->action, HF_ACT_UPDATE);
	assert_int_equal(json_array_size(json_object_get(hf_plan_at(s.plan, 1)->after,
							 "tags")),
			 1);
	done(&s);
}

static void test_diff__references_to_creates_are_dependencies(void **state)
{
	const char *const site[] = { "par1", NULL };
	struct sets s;
	struct hf_object ws = obj("NetSite", "par1", NULL);
	struct hf_object wd = obj("NetDevice", "core1", NULL);
	struct hf_object wd2 = obj("NetDevice", "core2", NULL);
	struct hf_object hd2 = obj("NetDevice", "core2", "id-core2");
	struct hf_change *dev;

	(void)state;
	hf_objset_new(&s.want);
	hf_objset_new(&s.have);
	rel(&wd, "site", 0, "NetSite", site, NULL);
	rel(&wd2, "site", 0, "NetSite", site, NULL);
	put(s.want, wd);
	put(s.want, wd2);
	put(s.want, ws);
	put(s.have, hd2);
	run(&s);
	dev = hf_plan_at(s.plan, 0);
	assert_int_equal(json_array_size(dev->deps), 1);
	assert_string_equal(json_string_value(json_array_get(dev->deps, 0)),
			    hf_plan_at(s.plan, 2)->id);
	assert_int_equal(dev->wave, 1);
	assert_int_equal(hf_plan_at(s.plan, 2)->wave, 0);
	/* the update moving core2 to the new site waits for it too */
	assert_int_equal(hf_plan_at(s.plan, 1)->action, HF_ACT_UPDATE);
	assert_int_equal(hf_plan_at(s.plan, 1)->wave, 1);
	done(&s);
}

static void test_diff__fingerprint_tracks_managed_fields_only(void **state)
{
	struct hf_object a = obj("NetSite", "x", "id-x");
	struct hf_object b = obj("NetSite", "x", "id-x");
	struct hf_object w = obj("NetSite", "x", NULL);
	char fa[65], fb[65];

	(void)state;
	attr(&a, "description", HF_ATTR_TEXT, json_string("same"));
	attr(&a, "noise", HF_ATTR_TEXT, json_string("1"));
	attr(&b, "description", HF_ATTR_TEXT, json_string("same"));
	attr(&b, "noise", HF_ATTR_TEXT, json_string("2"));
	attr(&w, "description", HF_ATTR_TEXT, json_string("want"));
	assert_int_equal(hf_diff_fingerprint(fa, &a, &w), 0);
	assert_int_equal(hf_diff_fingerprint(fb, &b, &w), 0);
	assert_string_equal(fa, fb);
	assert_int_equal(hf_diff_fingerprint(fb, &b, NULL), 0);
	assert_string_not_equal(fa, fb);
	hf_object_release(&a);
	hf_object_release(&b);
	hf_object_release(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diff__create_update_noop),
		cmocka_unit_test(test_diff__echoed_values_are_not_changes),
		cmocka_unit_test(test_diff__many_relationships_are_sets),
		cmocka_unit_test(test_diff__references_to_creates_are_dependencies),
		cmocka_unit_test(test_diff__fingerprint_tracks_managed_fields_only),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
