/* Diff: create/update/no-op, echo normalisation, sets, deps, fingerprints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "failalloc.h"
#include "schemahelp.h"
#include "hf/alloc.h"
#include "hf/diff.h"
#include "hf/render.h"
#include "hf/sha256.h"

static struct hf_object obj(const char *kind, const char *name, const char *id)
{
	struct hf_object o;

	memset(&o, 0, sizeof(o));
	o.kind = hf_name(kind);
	o.hfid = json_pack("[s]", name);
	o.id = id ? hf_strdup(id) : NULL;
	return o;
}

static void attr(struct hf_object *o, const char *name, enum hf_attr_kind k,
                 json_t *v)
{
	struct hf_field f;

	memset(&f, 0, sizeof(f));
	f.name = hf_name(name);
	f.type = HF_FIELD_ATTR;
	f.akind = (unsigned char)k;
	f.value = v;
	assert_int_equal(hf_object_add_field(o, &f), 0);
}

static void rel(struct hf_object *o, const char *name, int many,
                const char *kind, const char *const *peers,
                const char *const *ids)
{
	struct hf_field f;
	size_t n = 0, i;

	while (peers[n])
		n++;
	memset(&f, 0, sizeof(f));
	f.name = hf_name(name);
	f.type = many ? HF_FIELD_MANY : HF_FIELD_ONE;
	f.refs = hf_calloc(n ? n : 1, sizeof(*f.refs));
	f.nrefs = (uint32_t)n;
	for (i = 0; i < n; i++) {
		f.refs[i].kind = hf_name(kind);
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

static void run_with(struct sets *s, const hf_schema *schema)
{
	hf_error err = HF_ERROR_INIT;

	assert_int_equal(hf_plan_new(&s->plan, "http://x", "main", NULL), 0);
	assert_int_equal(hf_diff(s->plan, s->want, s->have, schema, &err), 0);
	assert_int_equal(hf_plan_finish(s->plan, &err), 0);
}

static void run(struct sets *s)
{
	run_with(s, NULL);
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
	assert_string_equal(
	        json_string_value(json_object_get(c->before, "description")),
	        "old");
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
	assert_int_equal(json_array_size(json_object_get(
	                         hf_plan_at(s.plan, 1)->after, "tags")),
	                 1);
	done(&s);
}

/*
 * A no-op is kept as the canonical text of its live managed fields, no
 * trees: expanded, it is what the trees were (the live fields as
 * hf_field_json() shows them, many-relationships sorted), and the
 * checksum and the plan's JSON form read both forms alike.
 */
/*
 * The plan's array is made at its size; no-ops share one empty "changed"
 * and "deps", a create keeps its own.
 */
static void test_diff__noops_share_empty_arrays(void **state)
{
	struct sets s;
	struct hf_object w1 = obj("NetSite", "a", NULL);
	struct hf_object h1 = obj("NetSite", "a", "id-a");
	struct hf_object w2 = obj("NetSite", "b", NULL);
	struct hf_object h2 = obj("NetSite", "b", "id-b");
	struct hf_object w3 = obj("NetSite", "c", NULL);
	const struct hf_change *a, *b, *c;

	(void)state;
	hf_objset_new(&s.want);
	hf_objset_new(&s.have);
	attr(&w1, "description", HF_ATTR_TEXT, json_string("x"));
	attr(&h1, "description", HF_ATTR_TEXT, json_string("x"));
	attr(&w2, "description", HF_ATTR_TEXT, json_string("y"));
	attr(&h2, "description", HF_ATTR_TEXT, json_string("y"));
	attr(&w3, "description", HF_ATTR_TEXT, json_string("z"));
	put(s.want, w1);
	put(s.want, w2);
	put(s.want, w3);
	put(s.have, h1);
	put(s.have, h2);
	run(&s);
	assert_int_equal(hf_plan_count(s.plan), 3);
	a = hf_plan_at(s.plan, 0);
	b = hf_plan_at(s.plan, 1);
	c = hf_plan_at(s.plan, 2);
	assert_int_equal(a->action, HF_ACT_NOOP);
	assert_int_equal(b->action, HF_ACT_NOOP);
	assert_int_equal(c->action, HF_ACT_CREATE);
	assert_ptr_equal(a->changed, b->changed);
	assert_ptr_equal(a->changed, a->deps);
	assert_int_equal(json_array_size(a->changed), 0);
	assert_ptr_not_equal(c->changed, a->changed);
	assert_int_equal(json_array_size(c->changed), 1);
	done(&s);
}

/* A change never moves once added, however large the plan grows. */
static void test_diff__plan_changes_stay_put(void **state)
{
	hf_plan *p;
	struct hf_change ch;
	const struct hf_change *first = NULL;
	char name[16];
	int i;

	(void)state;
	assert_int_equal(hf_plan_new(&p, "http://x", "main", NULL), 0);
	for (i = 0; i < 9000; i++) {
		memset(&ch, 0, sizeof(ch));
		snprintf(name, sizeof(name), "s%d", i);
		ch.action = HF_ACT_CREATE;
		ch.kind = hf_strdup("NetSite");
		ch.hfid = json_pack("[s]", name);
		assert_int_equal(hf_plan_add(p, &ch, NULL), 0);
		if (i == 0)
			first = hf_plan_at(p, 0);
	}
	assert_ptr_equal(hf_plan_at(p, 0), first);
	assert_int_equal(hf_plan_count(p), 9000);
	assert_string_equal(
	        json_string_value(json_array_get(hf_plan_at(p, 8999)->hfid, 0)),
	        "s8999");
	assert_null(hf_plan_at(p, 9000));
	assert_int_equal(hf_plan_finish(p, NULL), 0);
	assert_ptr_equal(hf_plan_find(p, hf_plan_at(p, 4097)->id),
	                 hf_plan_at(p, 4097));
	hf_plan_free(p);
}

static void test_diff__noop_is_text_until_expanded(void **state)
{
	const char *const tags[] = { "red", "blue", NULL };
	const char *const ids[] = { "i-red", "i-blue" };
	const char *const site[] = { "par1", NULL };
	struct sets s;
	struct hf_object w = obj("NetDevice", "d1", NULL);
	struct hf_object h = obj("NetDevice", "d1", "id-d1");
	struct hf_change *c;
	json_t *j1, *j2, *want;
	char sum[65], fp[65];

	(void)state;
	hf_objset_new(&s.want);
	hf_objset_new(&s.have);
	attr(&w, "serial", HF_ATTR_TEXT, json_string("SN-1"));
	attr(&h, "serial", HF_ATTR_TEXT, json_string("SN-1"));
	attr(&h, "other", HF_ATTR_TEXT, json_string("unmanaged"));
	rel(&w, "tags", 1, "BuiltinTag", tags, NULL);
	rel(&h, "tags", 1, "BuiltinTag", tags, ids);
	rel(&w, "site", 0, "NetSite", site, NULL);
	rel(&h, "site", 0, "NetSite", site, NULL);
	put(s.want, w);
	put(s.have, h);
	run(&s);
	c = hf_plan_at(s.plan, 0);
	assert_int_equal(c->action, HF_ACT_NOOP);
	assert_null(c->after);
	assert_null(c->before);
	assert_non_null(c->text);
	assert_int_equal(hf_diff_fingerprint(fp, hf_objset_at(s.have, 0),
	                                     hf_objset_at(s.want, 0)),
	                 0);
	assert_string_equal(c->fingerprint, fp);
	j1 = hf_plan_to_json(s.plan);
	assert_non_null(j1);
	assert_int_equal(hf_plan_expand(s.plan), 0);
	assert_null(c->text);
	assert_ptr_equal(c->before, c->after);
	want = json_pack(
	        "{s:s, s:{s:s, s:[s]}, s:[{s:[s], s:s}, {s:[s], s:s}]}",
	        "serial", "SN-1", "site", "kind", "NetSite", "hfid", "par1",
	        "tags", "hfid", "blue", "kind", "BuiltinTag", "hfid", "red",
	        "kind", "BuiltinTag");
	assert_true(json_equal(c->after, want));
	assert_int_equal(hf_plan_compute_checksum(s.plan, sum), 0);
	assert_string_equal(sum, hf_plan_meta(s.plan)->checksum);
	j2 = hf_plan_to_json(s.plan);
	assert_true(json_equal(j1, j2));
	assert_int_equal(hf_plan_expand(s.plan), 0); /* twice: a no-op */
	json_decref(want);
	json_decref(j1);
	json_decref(j2);
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

/*
 * The fingerprint is SHA-256 over the canonical JSON text {"fields":
 * {NAME: hf_field_json(field)...}, "id": ID} (sorted keys, compact): plans
 * stored by earlier versions carry fingerprints made that way, and apply
 * compares them. Built here the slow way, through jansson.
 */
static void expect_canonical(const struct hf_object *live,
                             const struct hf_object *want)
{
	json_t *j = json_object(), *fields = json_object();
	const struct hf_field *f;
	size_t i, n = want ? want->nfields : live->nfields;
	char want_hex[65], got[65], *text;

	for (i = 0; i < n; i++) {
		f = want ? hf_object_field(live, want->fields[i].name)
		         : &live->fields[i];
		if (f)
			json_object_set_new(fields, f->name, hf_field_json(f));
	}
	json_object_set_new(j, "id", json_string(live->id));
	json_object_set_new(j, "fields", fields);
	text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	assert_non_null(text);
	hf_sha256_hex(text, strlen(text), want_hex);
	assert_int_equal(hf_diff_fingerprint(got, live, want), 0);
	assert_string_equal(got, want_hex);
	hf_free(text);
	json_decref(j);
}

static void test_diff__fingerprint_is_the_canonical_json(void **state)
{
	static const char *const peers[] = { "zeta", "alpha", "Mid\"q", NULL };
	static const char *const ids[] = { "i3", "i1", "i2", NULL };
	static const char *const one[] = { "site-1", NULL };
	static const char *const none[] = { NULL };
	struct hf_object live = obj("NetDevice", "d1", "id-\u00e9\n1");
	struct hf_object w = obj("NetDevice", "d1", NULL);
	json_t *many;
	char *text;

	(void)state;
	attr(&live, "name", HF_ATTR_TEXT,
	     json_string("d1 \"q\" \\ \t \x01 \xc3\xa9"));
	attr(&live, "asn", HF_ATTR_NUMBER, json_integer(65001));
	attr(&live, "ratio", HF_ATTR_OTHER, json_real(0.1));
	attr(&live, "cleared", HF_ATTR_TEXT, NULL);
	attr(&live, "data", HF_ATTR_OTHER,
	     json_pack("{s:[i,s,n], s:{s:b}}", "list", 1, "two", "obj", "z",
	               1));
	rel(&live, "site", 0, "LocationSite", one, NULL);
	rel(&live, "tags", 1, "BuiltinTag", peers, ids);
	rel(&live, "empty", 1, "BuiltinTag", none, NULL);
	rel(&live, "parent", 0, "NetDevice", none, NULL);
	/* a reference known only by its id */
	json_decref(live.fields[5].refs[0].hfid);
	live.fields[5].refs[0].hfid = NULL;
	live.fields[5].refs[0].id = hf_strdup("site-id");
	expect_canonical(&live, NULL);
	/* a subset, named in another order, one name twice, one unknown */
	attr(&w, "tags", HF_ATTR_TEXT, NULL);
	attr(&w, "asn", HF_ATTR_TEXT, NULL);
	attr(&w, "unknown", HF_ATTR_TEXT, NULL);
	attr(&w, "name", HF_ATTR_TEXT, NULL);
	attr(&w, "asn", HF_ATTR_TEXT, NULL);
	expect_canonical(&live, &w);
	/* many-relationships read back as their sorted texts did: hfid first */
	many = hf_field_json(&live.fields[6]);
	text = json_dumps(many, JSON_COMPACT);
	assert_string_equal(
	        text, "[{\"hfid\":[\"Mid\\\"q\"],\"kind\":\"BuiltinTag\"},"
	              "{\"hfid\":[\"alpha\"],\"kind\":\"BuiltinTag\"},"
	              "{\"hfid\":[\"zeta\"],\"kind\":\"BuiltinTag\"}]");
	hf_free(text);
	json_decref(many);
	hf_object_release(&live);
	hf_object_release(&w);
}

/* A generic peer kind: LocationGeneric, implemented by Site and Country. */
static hf_schema *generic_schema(void)
{
	static const char text[] =
	        "{\"generics\": [{\"namespace\": \"Location\", \"name\": \"Generic\","
	        "  \"human_friendly_id\": [\"name__value\"],"
	        "  \"attributes\": [{\"name\": \"name\", \"kind\": \"Text\"}]}],"
	        " \"nodes\": ["
	        "  {\"namespace\": \"Location\", \"name\": \"Site\","
	        "   \"inherit_from\": [\"LocationGeneric\"],"
	        "   \"human_friendly_id\": [\"name__value\"],"
	        "   \"attributes\": [{\"name\": \"name\", \"kind\": \"Text\"}]},"
	        "  {\"namespace\": \"Location\", \"name\": \"Country\","
	        "   \"inherit_from\": [\"LocationGeneric\"],"
	        "   \"human_friendly_id\": [\"name__value\"],"
	        "   \"attributes\": [{\"name\": \"name\", \"kind\": \"Text\"}]},"
	        "  {\"namespace\": \"Net\", \"name\": \"Device\","
	        "   \"human_friendly_id\": [\"name__value\"],"
	        "   \"attributes\": [{\"name\": \"name\", \"kind\": \"Text\"},"
	        "    {\"name\": \"description\", \"kind\": \"Text\"}],"
	        "   \"relationships\": ["
	        "    {\"name\": \"location\", \"peer\": \"LocationGeneric\","
	        "     \"cardinality\": \"one\"},"
	        "    {\"name\": \"locations\", \"peer\": \"LocationGeneric\","
	        "     \"cardinality\": \"many\"}]}]}";

	return hf_test_schema_text(text);
}

static const char *ref_kind(const json_t *fields, const char *name, size_t i)
{
	const json_t *v = json_object_get(fields, name);

	if (json_is_array(v))
		v = json_array_get(v, i);
	return json_string_value(json_object_get(v, "kind"));
}

/*
 * The resolver names a peer by the schema's peer kind (here a generic),
 * Infrahub by the concrete kind: the plan names both sides by the
 * concrete kind, and a difference of labels alone is no change.
 */
static void test_diff__generic_peers_are_named_by_concrete_kind(void **state)
{
	const char *const fra[] = { "fra", NULL }, *const par[] = { "par",
		                                                    NULL };
	const char *const ams[] = { "ams", NULL };
	const char *const fra_id[] = { "id-fra" }, *const par_id[] = {
		"id-par"
	};
	const char *const ams_id[] = { "id-ams" };
	hf_schema *schema = generic_schema();
	struct hf_render_opts ro = HF_RENDER_OPTS_INIT;
	hf_buf text = HF_BUF_INIT;
	struct sets s;
	struct hf_object site = obj("LocationSite", "fra", NULL);
	struct hf_object d1 = obj("NetDevice", "d1", NULL);
	struct hf_object d2 = obj("NetDevice", "d2", NULL);
	struct hf_object d3 = obj("NetDevice", "d3", NULL);
	struct hf_object hsite = obj("LocationSite", "fra", "id-fra");
	struct hf_object h1 = obj("NetDevice", "d1", "id-d1");
	struct hf_object h2 = obj("NetDevice", "d2", "id-d2");
	struct hf_object h3 = obj("NetDevice", "d3", "id-d3");
	const struct hf_change *c;

	(void)state;
	hf_objset_new(&s.want);
	hf_objset_new(&s.have);
	/* d1: a declared peer, and a set that gains a member */
	rel(&d1, "location", 0, "LocationGeneric", fra, NULL);
	rel(&d1, "locations", 1, "LocationGeneric", fra, NULL);
	rel(&h1, "location", 0, "LocationSite", fra, fra_id);
	rel(&h1, "locations", 1, "LocationSite", fra, fra_id);
	{
		struct hf_field *f = hf_object_field(&d1, "locations");
		struct hf_ref *r = hf_reallocarray(f->refs, 2, sizeof(*r));

		/* as the fetch completes a reference to a live peer */
		assert_non_null(r);
		f->refs = r;
		memset(&r[1], 0, sizeof(r[1]));
		r[1].kind = hf_name("LocationSite");
		r[1].hfid = json_pack("[s]", ams[0]);
		r[1].id = hf_strdup(ams_id[0]);
		f->nrefs = 2;
	}
	/* d2: a peer only Infrahub has; another field changes */
	rel(&d2, "location", 0, "LocationGeneric", par, NULL);
	attr(&d2, "description", HF_ATTR_TEXT, json_string("new"));
	rel(&h2, "location", 0, "LocationSite", par, par_id);
	attr(&h2, "description", HF_ATTR_TEXT, json_string("old"));
	/* d3: points at a Country fra, the files at the Site fra they declare
	 */
	rel(&d3, "location", 0, "LocationGeneric", fra, NULL);
	rel(&h3, "location", 0, "LocationCountry", fra, fra_id);
	put(s.want, d1);
	put(s.want, d2);
	put(s.want, d3);
	put(s.want, site);
	put(s.have, hsite);
	put(s.have, h1);
	put(s.have, h2);
	put(s.have, h3);
	run_with(&s, schema);

	c = hf_plan_at(s.plan, 0);
	assert_int_equal(c->action, HF_ACT_UPDATE);
	assert_int_equal(json_array_size(c->changed), 1);
	assert_string_equal(json_string_value(json_array_get(c->changed, 0)),
	                    "locations");
	assert_string_equal(ref_kind(c->after, "location", 0), "LocationSite");
	assert_string_equal(ref_kind(c->after, "locations", 0), "LocationSite");
	assert_string_equal(ref_kind(c->after, "locations", 1), "LocationSite");
	c = hf_plan_at(s.plan, 1);
	assert_int_equal(c->action, HF_ACT_UPDATE);
	assert_int_equal(json_array_size(c->changed), 1);
	assert_string_equal(ref_kind(c->after, "location", 0), "LocationSite");
	assert_true(json_equal(json_object_get(c->before, "location"),
	                       json_object_get(c->after, "location")));
	/* a different object under the same HFID is a change */
	c = hf_plan_at(s.plan, 2);
	assert_int_equal(c->action, HF_ACT_UPDATE);
	assert_string_equal(ref_kind(c->after, "location", 0), "LocationSite");
	assert_int_equal(hf_plan_at(s.plan, 3)->action, HF_ACT_NOOP);

	assert_int_equal(hf_render_text(&text, s.plan, &ro), 0);
	assert_non_null(strstr(text.ptr,
	                       "~ locations: [LocationSite[fra]] -> "
	                       "[LocationSite[ams], LocationSite[fra]]\n"));
	assert_non_null(strstr(text.ptr, "~ location: LocationCountry[fra] -> "
	                                 "LocationSite[fra]\n"));
	assert_null(strstr(text.ptr, "LocationGeneric"));
	hf_buf_release(&text);
	hf_schema_free(schema);
	done(&s);
}

struct seen {
	size_t calls, done, total;
	int monotonic;
};

static void on_progress(void *payload, size_t done_n, size_t total)
{
	struct seen *p = payload;

	p->monotonic &= done_n >= p->done && done_n <= total;
	p->calls++;
	p->done = done_n;
	p->total = total;
}

/*
 * Secrets (Password, HashedPassword) are write-only: a create carries the
 * value, wrapped so that nothing shows it; an existing object never
 * compares it (Infrahub holds a hash) and leaves it out of before, after,
 * changed and the fingerprint, so it is never an update.
 */
static void test_diff__secrets_are_write_only(void **state)
{
	struct sets s;
	struct hf_object w1 = obj("CoreAccount", "ann", NULL);
	struct hf_object w2 = obj("CoreAccount", "bob", NULL);
	struct hf_object w3 = obj("CoreAccount", "cat", NULL);
	struct hf_object h1 = obj("CoreAccount", "ann", "id-ann");
	struct hf_object h3 = obj("CoreAccount", "cat", "id-cat");
	struct hf_object names = obj("CoreAccount", "ann", NULL);
	struct hf_change *c;
	char fp[65];

	(void)state;
	hf_objset_new(&s.want);
	hf_objset_new(&s.have);
	attr(&w1, "password", HF_ATTR_HASHED_PASSWORD, json_string("hunter2"));
	attr(&w1, "label", HF_ATTR_TEXT, json_string("Ann"));
	attr(&h1, "password", HF_ATTR_HASHED_PASSWORD,
	     json_string("$2b$12$abcdefghijklmnopqrstuv"));
	attr(&h1, "label", HF_ATTR_TEXT, json_string("Ann"));
	attr(&w2, "password", HF_ATTR_PASSWORD, json_string("swordfish"));
	attr(&w3, "password", HF_ATTR_HASHED_PASSWORD, json_string("x"));
	attr(&w3, "label", HF_ATTR_TEXT, json_string("Cat"));
	attr(&h3, "label", HF_ATTR_TEXT, json_string("cat"));
	put(s.want, w1);
	put(s.want, w2);
	put(s.want, w3);
	put(s.have, h1);
	put(s.have, h3);
	run(&s);
	/* unchanged, whatever the stored hash */
	c = hf_plan_at(s.plan, 0);
	assert_int_equal(c->action, HF_ACT_NOOP);
	assert_null(json_object_get(c->after, "password"));
	assert_null(json_object_get(c->before, "password"));
	assert_int_equal(json_array_size(c->changed), 0);
	/* the fingerprint covers the managed fields without the secret */
	attr(&names, "label", HF_ATTR_TEXT, json_string("Ann"));
	assert_int_equal(
	        hf_diff_fingerprint(fp, hf_objset_at(s.have, 0), &names), 0);
	assert_string_equal(fp, c->fingerprint);
	/* a create writes it, wrapped */
	c = hf_plan_at(s.plan, 1);
	assert_int_equal(c->action, HF_ACT_CREATE);
	assert_string_equal(json_string_value(hf_value_sensitive_get(
	                            json_object_get(c->after, "password"))),
	                    "swordfish");
	assert_string_equal(json_string_value(json_array_get(c->changed, 0)),
	                    "password");
	/* an update never sends it */
	c = hf_plan_at(s.plan, 2);
	assert_int_equal(c->action, HF_ACT_UPDATE);
	assert_int_equal(json_array_size(c->changed), 1);
	assert_string_equal(json_string_value(json_array_get(c->changed, 0)),
	                    "label");
	assert_null(json_object_get(c->after, "password"));
	hf_object_release(&names);
	done(&s);
}

/*
 * consume: the same plan as without it, and each desired and live object
 * keeps its identity (kind, HFID, id, position) but no longer its fields.
 */
static void test_diff__consume_gives_fields_back(void **state)
{
	struct hf_diff_opts o = HF_DIFF_OPTS_INIT;
	struct sets a, b;
	struct sets *s[] = { &a, &b };
	json_t *ja, *jb;
	size_t i, k;

	(void)state;
	for (k = 0; k < 2; k++) {
		struct hf_object w1 = obj("NetSite", "par1", NULL);
		struct hf_object w2 = obj("NetSite", "lyo1", NULL);
		struct hf_object w0 = obj("NetSite", "mrs1", NULL);
		struct hf_object w3 = obj("NetSite", "nce1", NULL);
		struct hf_object h1 = obj("NetSite", "par1", "id-par1");
		struct hf_object h2 = obj("NetSite", "lyo1", "id-lyo1");
		const char *mrs[] = { "mrs1", NULL };

		hf_objset_new(&s[k]->want);
		hf_objset_new(&s[k]->have);
		attr(&w1, "description", HF_ATTR_TEXT, json_string("HQ"));
		attr(&h1, "description", HF_ATTR_TEXT, json_string("old"));
		attr(&w2, "asn", HF_ATTR_NUMBER, json_integer(65000));
		attr(&h2, "asn", HF_ATTR_NUMBER, json_integer(65000));
		attr(&w0, "description", HF_ATTR_TEXT, json_string("new"));
		rel(&w3, "parent", 0, "NetSite", mrs, NULL);
		put(s[k]->want, w1);
		put(s[k]->want, w2);
		put(s[k]->want, w0); /* consumed before nce1 refers to it */
		put(s[k]->want, w3);
		put(s[k]->have, h1);
		put(s[k]->have, h2);
		o.consume = (int)k;
		assert_int_equal(
		        hf_plan_new(&s[k]->plan, "http://x", "main", NULL), 0);
		assert_int_equal(hf_diff_ext(s[k]->plan, s[k]->want, s[k]->have,
		                             &o, NULL),
		                 0);
		assert_int_equal(hf_plan_finish(s[k]->plan, NULL), 0);
	}
	ja = hf_plan_to_json(a.plan);
	jb = hf_plan_to_json(b.plan);
	json_object_del(ja, "created_at");
	json_object_del(jb, "created_at");
	json_object_del(ja, "checksum");
	json_object_del(jb, "checksum");
	json_object_del(ja, "id");
	json_object_del(jb, "id");
	assert_true(json_equal(ja, jb));
	/* nce1's create still waits for mrs1's, whose fields went first */
	assert_int_equal(json_array_size(hf_plan_at(b.plan, 3)->deps), 1);
	assert_string_equal(json_string_value(json_array_get(
	                            hf_plan_at(b.plan, 3)->deps, 0)),
	                    hf_plan_at(b.plan, 2)->id);
	for (i = 0; i < 4; i++) {
		assert_int_equal(hf_objset_at(a.want, i)->nfields, 1);
		assert_int_equal(hf_objset_at(b.want, i)->nfields, 0);
		assert_null(hf_objset_at(b.want, i)->fields);
	}
	for (i = 0; i < 2; i++)
		assert_int_equal(hf_objset_at(b.have, i)->nfields, 0);
	assert_int_equal(hf_objset_find(b.want, "NetSite",
	                                hf_objset_at(b.want, 3)->hfid),
	                 3);
	assert_int_equal(hf_objset_find_id(b.have, "id-lyo1"), 1);
	json_decref(ja);
	json_decref(jb);
	done(&a);
	done(&b);
}

static void test_diff__progress(void **state)
{
	struct hf_diff_opts o = HF_DIFF_OPTS_INIT;
	struct seen seen = { 0, 0, 0, 1 };
	char name[32];
	struct sets s;
	size_t i;

	(void)state;
	hf_objset_new(&s.want);
	hf_objset_new(&s.have);
	for (i = 0; i < 2500; i++) {
		snprintf(name, sizeof(name), "s%zu", i);
		put(s.want, obj("NetSite", name, NULL));
	}
	o.progress = on_progress;
	o.payload = &seen;
	assert_int_equal(hf_plan_new(&s.plan, "http://x", "main", NULL), 0);
	assert_int_equal(hf_diff_ext(s.plan, s.want, s.have, &o, NULL), 0);
	/* every 1024 objects, then once at the end */
	assert_int_equal(seen.calls, 3);
	assert_true(seen.monotonic);
	assert_int_equal(seen.done, 2500);
	assert_int_equal(seen.total, 2500);
	assert_int_equal(hf_plan_count(s.plan), 2500);
	done(&s);
}

/* Sets of n devices, most live, some changed, some new, with references. */
static void big_sets(struct sets *s, size_t n)
{
	const char *const fra[] = { "fra", NULL }, *const par[] = { "par",
		                                                    NULL };
	const char *const fra_id[] = { "id-fra" }, *const two[] = { "fra",
		                                                    "par",
		                                                    NULL };
	char name[32], id[40];
	size_t i;

	hf_objset_new(&s->want);
	hf_objset_new(&s->have);
	put(s->want, obj("LocationSite", "fra", NULL));
	put(s->want, obj("LocationSite", "par", NULL));
	for (i = 0; i < n; i++) {
		struct hf_object w, h;

		snprintf(name, sizeof(name), "d%05zu", i);
		snprintf(id, sizeof(id), "id-%s", name);
		w = obj("NetDevice", name, NULL);
		attr(&w, "description", HF_ATTR_TEXT, json_string(name));
		rel(&w, "location", 0, "LocationGeneric", i % 5 ? fra : par,
		    NULL);
		rel(&w, "locations", 1, "LocationGeneric", two, NULL);
		put(s->want, w);
		if (i % 11 == 10)
			continue; /* a create */
		h = obj("NetDevice", name, id);
		attr(&h, "description", HF_ATTR_TEXT,
		     json_string(i % 7 ? name : "old"));
		rel(&h, "location", 0, "LocationSite", fra, fra_id);
		rel(&h, "locations", 1, "LocationSite", two, NULL);
		put(s->have, h);
	}
}

/*
 * The diff reading ahead on a second thread (hf_diff_opts.ahead, from
 * 4096 objects on) makes the same plan as without, its fields given back
 * or not: no-ops, updates (every seventh) and creates (every eleventh)
 * alike, generic peers named by their concrete kind.
 */
static void test_diff__read_ahead_is_the_same_plan(void **state)
{
	hf_schema *schema = generic_schema();
	struct hf_diff_opts o = HF_DIFF_OPTS_INIT;
	struct sets s[3];
	json_t *j[3];
	size_t k;

	(void)state;
	o.schema = schema;
	for (k = 0; k < 3; k++) {
		big_sets(&s[k], 6000);
		o.ahead = k > 0;
		o.consume = k == 2;
		assert_int_equal(
		        hf_plan_new(&s[k].plan, "http://x", "main", NULL), 0);
		assert_int_equal(
		        hf_diff_ext(s[k].plan, s[k].want, s[k].have, &o, NULL),
		        0);
		assert_int_equal(hf_plan_finish(s[k].plan, NULL), 0);
		j[k] = hf_plan_to_json(s[k].plan);
		json_object_del(j[k], "created_at");
		json_object_del(j[k], "checksum");
		json_object_del(j[k], "id");
	}
	assert_int_equal(hf_plan_count(s[0].plan), 6002);
	assert_int_equal(hf_plan_meta(s[0].plan)->n_update, 1715);
	assert_int_equal(hf_plan_meta(s[0].plan)->n_create, 547);
	assert_int_equal(hf_plan_meta(s[0].plan)->n_noop, 3740);
	for (k = 1; k < 3; k++)
		assert_true(json_equal(j[0], j[k]));
	for (k = 0; k < 3; k++) {
		json_decref(j[k]);
		done(&s[k]);
	}
	hf_schema_free(schema);
}

/*
 * Failing allocation n, for each n: no crash, no leak (under valgrind),
 * and HF_ENOMEM or success.
 */
static void test_diff__torture(void **state)
{
	const char *const fra[] = { "fra", NULL }, *const fra_id[] = {
		"id-fra"
	};
	hf_schema *schema = generic_schema();
	hf_objset *want, *have;
	struct hf_object site = obj("LocationSite", "fra", NULL);
	struct hf_object d1 = obj("NetDevice", "d1", NULL);
	struct hf_object d2 = obj("NetDevice", "d2", NULL);
	struct hf_object h1 = obj("NetDevice", "d1", "id-d1");
	hf_error err = HF_ERROR_INIT;
	hf_plan *plan = NULL;
	long n;
	int rc;

	(void)state;
	hf_objset_new(&want);
	hf_objset_new(&have);
	rel(&d1, "locations", 1, "LocationGeneric", fra, NULL);
	attr(&d1, "description", HF_ATTR_TEXT, json_string("new"));
	rel(&h1, "locations", 1, "LocationSite", fra, fra_id);
	attr(&h1, "description", HF_ATTR_TEXT, json_string("old"));
	rel(&d2, "location", 0, "LocationGeneric", fra, NULL);
	put(want, d1);
	put(want, d2);
	put(want, site);
	put(have, h1);
	for (n = 1;; n++) {
		assert_int_equal(hf_plan_new(&plan, "http://x", "main", NULL),
		                 0);
		hf_failalloc_nth(n);
		rc = hf_diff(plan, want, have, schema, &err);
		hf_failalloc_reset();
		if (!hf_failalloc_failed())
			break;
		assert_true(rc == 0 || rc == HF_ENOMEM);
		hf_plan_free(plan);
	}
	assert_int_equal(rc, 0);
	assert_true(n > 5);
	assert_int_equal(hf_plan_count(plan), 3);
	assert_int_equal(json_array_size(hf_plan_at(plan, 0)->changed), 1);
	hf_plan_free(plan);
	hf_objset_free(want);
	hf_objset_free(have);
	hf_schema_free(schema);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diff__create_update_noop),
		cmocka_unit_test(test_diff__echoed_values_are_not_changes),
		cmocka_unit_test(test_diff__many_relationships_are_sets),
		cmocka_unit_test(
		        test_diff__references_to_creates_are_dependencies),
		cmocka_unit_test(
		        test_diff__fingerprint_tracks_managed_fields_only),
		cmocka_unit_test(test_diff__fingerprint_is_the_canonical_json),
		cmocka_unit_test(
		        test_diff__generic_peers_are_named_by_concrete_kind),
		cmocka_unit_test(test_diff__secrets_are_write_only),
		cmocka_unit_test(test_diff__consume_gives_fields_back),
		cmocka_unit_test(test_diff__noop_is_text_until_expanded),
		cmocka_unit_test(test_diff__noops_share_empty_arrays),
		cmocka_unit_test(test_diff__plan_changes_stay_put),
		cmocka_unit_test(test_diff__progress),
		cmocka_unit_test(test_diff__torture),
		cmocka_unit_test(test_diff__read_ahead_is_the_same_plan),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
