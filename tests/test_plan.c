/* Plan model: ids, waves, cycles, checksum, JSON round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/jsontext.h"
#include "hf/plan.h"
#include "hf/sha256.h"
#include "hf/store.h"
#include "testutil.h"

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

/* Two changes with one id (the same object twice) fail the plan, named. */
static void test_plan__two_changes_with_one_id_fail(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hf_plan *p;
	char id[17];

	(void)state;
	assert_int_equal(hf_plan_new(&p, "http://x", "main", NULL), 0);
	add(p, HF_ACT_CREATE, "NetSite", "par1", NULL);
	add(p, HF_ACT_CREATE, "NetSite", "lyo1", NULL);
	add(p, HF_ACT_CREATE, "NetSite", "par1", NULL);
	snprintf(id, sizeof(id), "%s", hf_plan_at(p, 0)->id);
	assert_int_equal(hf_plan_finish(p, &err), HF_EINVAL);
	assert_non_null(strstr(err.msg, "two changes share the id"));
	assert_non_null(strstr(err.msg, id));
	hf_plan_free(p);
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
	add(p, HF_ACT_CREATE, "NetSite", "a",
	    json_pack("[s]", "ffffffffffffffff"));
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
	json_object_set_new(
	        json_object_get(
	                json_array_get(json_object_get(j, "changes"), 0),
	                "after"),
	        "name", json_string("evil"));
	assert_int_equal(hf_plan_from_json(&q, j, &err), HF_EINVAL);
	assert_non_null(strstr(err.msg, "checksum"));
	assert_null(q);
	json_decref(j);
	hf_plan_free(p);
}

static void add_delete(hf_plan *p, enum hf_action a, const char *kind,
                       const char *name, const char *node_id, json_t *deps)
{
	struct hf_change c;
	hf_error err = HF_ERROR_INIT;

	memset(&c, 0, sizeof(c));
	c.action = a;
	c.kind = hf_strdup(kind);
	c.hfid = name ? json_pack("[s]", name) : NULL;
	c.node_id = hf_strdup(node_id);
	c.before = json_pack("{s:s}", "name", name ? name : "x");
	c.deps = deps;
	memset(c.fingerprint, 'b', 64);
	assert_int_equal(hf_plan_add(p, &c, &err), 0);
}

/* A plan with every new field set: stack, group, partial, adopt,
 * delete with a cascade, forget, sources. */
static hf_plan *ownership_plan(void)
{
	hf_error err = HF_ERROR_INIT;
	struct hf_change *c;
	hf_plan *p;

	assert_int_equal(hf_plan_new(&p, "http://x", "main", NULL), 0);
	assert_int_equal(hf_plan_set_stack(p, "fin", "grp-1", &err), 0);
	hf_plan_meta(p)->partial = 1;
	add(p, HF_ACT_CREATE, "NetSite", "par1", NULL);
	hf_plan_at(p, 0)->sources = json_pack("[{s:s, s:i}]", "file",
	                                      "objects/sites.yml", "line", 4);
	add(p, HF_ACT_NOOP, "NetSite", "lyo1", NULL);
	hf_plan_at(p, 1)->adopt = 1;
	add_delete(p, HF_ACT_DELETE, "NetDevice", "core1", "id-dev", NULL);
	add_delete(p, HF_ACT_DELETE, "NetInterface", "core1-eth0", "id-if",
	           NULL);
	c = hf_plan_at(p, 3);
	c->cascade_of = hf_strdup(hf_plan_at(p, 2)->id);
	/* the device's delete waits for the interface (referrer first) */
	json_array_append_new(hf_plan_at(p, 2)->deps, json_string(c->id));
	add_delete(p, HF_ACT_FORGET, "BuiltinTag", "shared", "id-tag", NULL);
	assert_int_equal(hf_plan_finish(p, &err), 0);
	return p;
}

static void test_plan__delete_and_forget_actions(void **state)
{
	hf_plan *p = ownership_plan();
	enum hf_action a;

	(void)state;
	assert_string_equal(hf_action_str(HF_ACT_DELETE), "delete");
	assert_string_equal(hf_action_str(HF_ACT_FORGET), "forget");
	a = HF_ACT_DELETE;
	assert_int_equal(hf_plan_at(p, 2)->action, a);
	assert_int_equal(hf_plan_meta(p)->n_create, 1);
	assert_int_equal(hf_plan_meta(p)->n_noop, 1);
	assert_int_equal(hf_plan_meta(p)->n_update, 0);
	assert_int_equal(hf_plan_meta(p)->n_delete, 2);
	assert_int_equal(hf_plan_meta(p)->n_forget, 1);
	assert_int_equal(hf_plan_meta(p)->n_adopt, 1);
	/* referrers first: the interface in wave 0, the device after it */
	assert_int_equal(hf_plan_at(p, 3)->wave, 0);
	assert_int_equal(hf_plan_at(p, 2)->wave, 1);
	assert_string_equal(hf_plan_meta(p)->stack, "fin");
	assert_string_equal(hf_plan_meta(p)->group_id, "grp-1");
	hf_plan_free(p);
}

static void test_plan__delete_ids_differ_from_create_ids(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hf_plan *p;

	(void)state;
	assert_int_equal(hf_plan_new(&p, "http://x", "main", NULL), 0);
	add(p, HF_ACT_CREATE, "NetSite", "a", NULL);
	add_delete(p, HF_ACT_DELETE, "NetSite", "a", "id-1", NULL);
	add_delete(p, HF_ACT_FORGET, "NetSite", "a", "id-1", NULL);
	/* kinds without an HFID: two deletes told apart by node id */
	add_delete(p, HF_ACT_DELETE, "NetNote", NULL, "id-2", NULL);
	add_delete(p, HF_ACT_DELETE, "NetNote", NULL, "id-3", NULL);
	assert_int_equal(hf_plan_finish(p, &err), 0);
	assert_string_not_equal(hf_plan_at(p, 0)->id, hf_plan_at(p, 1)->id);
	assert_string_not_equal(hf_plan_at(p, 1)->id, hf_plan_at(p, 2)->id);
	assert_string_not_equal(hf_plan_at(p, 3)->id, hf_plan_at(p, 4)->id);
	assert_int_equal(hf_plan_meta(p)->n_delete, 3);
	hf_plan_free(p);
}

static void test_plan__has_changes(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hf_plan *p;

	(void)state;
	assert_int_equal(hf_plan_new(&p, "http://x", "main", NULL), 0);
	add(p, HF_ACT_NOOP, "NetSite", "a", NULL);
	assert_int_equal(hf_plan_finish(p, &err), 0);
	assert_false(hf_plan_has_changes(p));
	/* adopting an unchanged object is a change (it joins the group) */
	hf_plan_at(p, 0)->adopt = 1;
	assert_int_equal(hf_plan_finish(p, &err), 0);
	assert_true(hf_plan_has_changes(p));
	hf_plan_free(p);

	assert_int_equal(hf_plan_new(&p, "http://x", "main", NULL), 0);
	add_delete(p, HF_ACT_FORGET, "NetSite", "a", "id-1", NULL);
	assert_int_equal(hf_plan_finish(p, &err), 0);
	assert_true(hf_plan_has_changes(p));
	hf_plan_free(p);

	assert_int_equal(hf_plan_new(&p, "http://x", "main", NULL), 0);
	add_delete(p, HF_ACT_DELETE, "NetSite", "a", "id-1", NULL);
	assert_int_equal(hf_plan_finish(p, &err), 0);
	assert_true(hf_plan_has_changes(p));
	hf_plan_free(p);
}

static void test_plan__ownership_json_round_trip(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hf_plan *p = ownership_plan(), *q;
	json_t *j, *j2, *ch;

	(void)state;
	j = hf_plan_to_json(p);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "stack")),
	                    "fin");
	assert_string_equal(json_string_value(json_object_get(j, "group_id")),
	                    "grp-1");
	assert_true(json_is_true(json_object_get(j, "partial")));
	assert_int_equal(json_integer_value(json_object_get(
	                         json_object_get(j, "counts"), "delete")),
	                 2);
	assert_int_equal(json_integer_value(json_object_get(
	                         json_object_get(j, "counts"), "forget")),
	                 1);
	assert_int_equal(json_integer_value(json_object_get(
	                         json_object_get(j, "counts"), "adopt")),
	                 1);
	ch = json_array_get(json_object_get(j, "changes"), 3);
	assert_string_equal(json_string_value(json_object_get(ch, "action")),
	                    "delete");
	assert_string_equal(
	        json_string_value(json_object_get(ch, "cascade_of")),
	        hf_plan_at(p, 2)->id);
	assert_true(json_is_null(json_object_get(ch, "after")));
	assert_true(json_is_null(json_object_get(ch, "sources")));
	assert_true(json_is_false(json_object_get(ch, "adopt")));
	ch = json_array_get(json_object_get(j, "changes"), 0);
	assert_true(json_is_array(json_object_get(ch, "sources")));
	assert_true(json_is_null(json_object_get(ch, "cascade_of")));
	assert_int_equal(hf_plan_from_json(&q, j, &err), 0);
	assert_string_equal(hf_plan_meta(q)->stack, "fin");
	assert_string_equal(hf_plan_meta(q)->group_id, "grp-1");
	assert_int_equal(hf_plan_meta(q)->partial, 1);
	assert_int_equal(hf_plan_at(q, 1)->adopt, 1);
	assert_int_equal(hf_plan_at(q, 4)->action, HF_ACT_FORGET);
	assert_string_equal(hf_plan_at(q, 3)->cascade_of, hf_plan_at(q, 2)->id);
	assert_int_equal(hf_plan_meta(q)->n_delete, 2);
	assert_int_equal(hf_plan_meta(q)->n_forget, 1);
	assert_int_equal(hf_plan_meta(q)->n_adopt, 1);
	j2 = hf_plan_to_json(q);
	assert_true(json_equal(j, j2));
	json_decref(j2);
	hf_plan_free(q);
	json_decref(j);
	hf_plan_free(p);
}

/* Edit one field of the JSON form; the plan must fail its checksum. */
static void assert_tamper_detected(const hf_plan *p, const char *path,
                                   json_t *value)
{
	hf_error err = HF_ERROR_INIT;
	json_t *j = hf_plan_to_json(p), *obj = j;
	char key[64];
	const char *dot;
	hf_plan *q = NULL;

	while ((dot = strchr(path, '.'))) {
		memcpy(key, path, (size_t)(dot - path));
		key[dot - path] = '\0';
		obj = key[0] >= '0' && key[0] <= '9'
		              ? json_array_get(json_object_get(obj, "changes"),
		                               (size_t)atoi(key))
		              : json_object_get(obj, key);
		path = dot + 1;
	}
	assert_non_null(obj);
	json_object_set_new(obj, path, value);
	assert_int_equal(hf_plan_from_json(&q, j, &err), HF_EINVAL);
	assert_null(q);
	json_decref(j);
}

static void test_plan__checksum_covers_ownership_fields(void **state)
{
	hf_plan *p = ownership_plan();

	(void)state;
	assert_tamper_detected(p, "stack", json_string("other"));
	assert_tamper_detected(p, "stack", json_string("default"));
	assert_tamper_detected(p, "group_id", json_null());
	assert_tamper_detected(p, "group_id", json_string("grp-2"));
	assert_tamper_detected(p, "partial", json_false());
	assert_tamper_detected(p, "1.adopt", json_false());
	assert_tamper_detected(p, "2.adopt", json_true());
	assert_tamper_detected(p, "3.cascade_of", json_null());
	assert_tamper_detected(p, "2.cascade_of",
	                       json_string(hf_plan_at(p, 3)->id));
	assert_tamper_detected(p, "0.sources", json_null());
	assert_tamper_detected(p, "0.sources",
	                       json_pack("[{s:s, s:i}]", "file",
	                                 "objects/sites.yml", "line", 5));
	hf_plan_free(p);
}

/* One part of the checksum: the sorted compact text and its NUL. */
static void hash_part(struct hf_sha256 *h, const json_t *j)
{
	char *t =
	        json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

	assert_non_null(t);
	hf_sha256_update(h, t, strlen(t) + 1);
	free(t);
}

/*
 * The checksum is SHA-256 over the meta part, then each change's reviewed
 * content (the JSON form without status and error, the ownership fields
 * only where not the defaults), as sorted compact JSON: recomputed here
 * from the plan's JSON form with jansson's own dumper, it must agree with
 * what hf_plan_finish() writes without building those trees.
 */
static void test_plan__checksum_is_the_sorted_json_of_the_content(void **state)
{
	static const char *const metakeys[] = { "created_at", "address",
		                                "branch", "schema_hash",
		                                "manifest_digest" };
	static const char digits[] = "0123456789abcdef";
	hf_plan *p = ownership_plan();
	json_t *j = hf_plan_to_json(p), *meta = json_object(), *ch, *c;
	struct hf_sha256 h;
	unsigned char d[32];
	char hex[65];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(metakeys) / sizeof(*metakeys); i++)
		json_object_set(meta, metakeys[i],
		                json_object_get(j, metakeys[i]));
	json_object_set(meta, "stack", json_object_get(j, "stack"));
	json_object_set(meta, "group_id", json_object_get(j, "group_id"));
	json_object_set(meta, "partial", json_true());
	hf_sha256_init(&h);
	hash_part(&h, meta);
	json_array_foreach(json_object_get(j, "changes"), i, ch)
	{
		c = json_deep_copy(ch);
		json_object_del(c, "status");
		json_object_del(c, "error");
		if (!json_is_true(json_object_get(c, "adopt")))
			json_object_del(c, "adopt");
		if (json_is_null(json_object_get(c, "cascade_of")))
			json_object_del(c, "cascade_of");
		if (json_is_null(json_object_get(c, "sources")))
			json_object_del(c, "sources");
		hash_part(&h, c);
		json_decref(c);
	}
	hf_sha256_final(&h, d);
	for (i = 0; i < 32; i++) {
		hex[2 * i] = digits[d[i] >> 4];
		hex[2 * i + 1] = digits[d[i] & 15];
	}
	hex[64] = '\0';
	assert_string_equal(hf_plan_meta(p)->checksum, hex);
	json_decref(meta);
	json_decref(j);
	hf_plan_free(p);
}

/* A stored plan written before stacks existed still reads and verifies. */
static void test_plan__plan_without_stack_fields_reads_as_default(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hf_plan *p, *q;
	json_t *j, *ch;
	size_t i;

	(void)state;
	assert_int_equal(hf_plan_new(&p, "http://x", "main", NULL), 0);
	add(p, HF_ACT_CREATE, "NetSite", "par1", NULL);
	add(p, HF_ACT_UPDATE, "NetDevice", "core1", NULL);
	assert_int_equal(hf_plan_finish(p, &err), 0);
	assert_string_equal(hf_plan_meta(p)->stack, "default");
	assert_null(hf_plan_meta(p)->group_id);
	j = hf_plan_to_json(p);
	json_object_del(j, "stack");
	json_object_del(j, "group_id");
	json_object_del(j, "partial");
	json_object_del(json_object_get(j, "counts"), "delete");
	json_object_del(json_object_get(j, "counts"), "forget");
	json_object_del(json_object_get(j, "counts"), "adopt");
	json_array_foreach(json_object_get(j, "changes"), i, ch)
	{
		json_object_del(ch, "adopt");
		json_object_del(ch, "cascade_of");
		json_object_del(ch, "sources");
	}
	assert_int_equal(hf_plan_from_json(&q, j, &err), 0);
	assert_string_equal(hf_plan_meta(q)->stack, "default");
	assert_null(hf_plan_meta(q)->group_id);
	assert_int_equal(hf_plan_meta(q)->partial, 0);
	assert_int_equal(hf_plan_at(q, 0)->adopt, 0);
	assert_null(hf_plan_at(q, 0)->sources);
	assert_null(hf_plan_at(q, 0)->cascade_of);
	assert_int_equal(hf_plan_meta(q)->n_create, 1);
	assert_int_equal(hf_plan_meta(q)->n_delete, 0);
	hf_plan_free(q);
	/* a wrong type is malformed, not a default */
	json_object_set_new(j, "stack", json_integer(3));
	assert_int_equal(hf_plan_from_json(&q, j, &err), HF_EINVAL);
	json_decref(j);
	hf_plan_free(p);
}

/* The store keeps every ownership field: a saved plan loads back equal,
 * also in a store made before stacks (its changes table is rebuilt so
 * that it admits deletes). */
static void store_round_trip(const char *path)
{
	hf_error err = HF_ERROR_INIT;
	hf_plan *p = ownership_plan(), *q = NULL;
	hf_store *st;
	json_t *a, *b;

	assert_int_equal(hf_store_open(&st, path, &err), 0);
	assert_int_equal(hf_store_save(st, p, &err), 0);
	assert_int_equal(hf_store_load(st, hf_plan_meta(p)->id, &q, &err), 0);
	a = hf_plan_to_json(p);
	b = hf_plan_to_json(q);
	assert_true(json_equal(a, b));
	assert_null(hf_plan_at(q, 3)->hfid ? NULL : "hfid lost");
	json_decref(a);
	json_decref(b);
	hf_plan_free(q);
	hf_store_close(st);
	hf_plan_free(p);
}

static void test_plan__store_keeps_ownership_fields(void **state)
{
	char path[700];
	sqlite3 *db;

	(void)state;
	snprintf(path, sizeof(path), "%s/plans.db",
	         hf_test_tmpdir("plan-store"));
	store_round_trip(path);
	snprintf(path, sizeof(path), "%s/v2.db",
	         hf_test_tmpdir("plan-store-v2"));
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	        sqlite3_exec(
	                db,
	                "CREATE TABLE plans (id TEXT PRIMARY KEY, created_at TEXT NOT NULL,"
	                " address TEXT NOT NULL, branch TEXT NOT NULL,"
	                " branch_is_default INTEGER NOT NULL DEFAULT 0,"
	                " schema_hash TEXT NOT NULL,"
	                " manifest_digest TEXT NOT NULL, checksum TEXT NOT NULL, status TEXT NOT NULL,"
	                " n_create INTEGER NOT NULL, n_update INTEGER NOT NULL, n_noop INTEGER NOT NULL,"
	                " waves INTEGER NOT NULL, apply_branch TEXT, apply_started_at TEXT,"
	                " apply_finished_at TEXT, requests_sent INTEGER, error TEXT);"
	                "CREATE TABLE changes (plan_id TEXT NOT NULL REFERENCES plans(id)"
	                " ON DELETE CASCADE, seq INTEGER NOT NULL, id TEXT NOT NULL,"
	                " action TEXT NOT NULL CHECK (action IN ('create', 'update', 'no-op')),"
	                " kind TEXT NOT NULL, hfid TEXT NOT NULL,"
	                " node_id TEXT, before TEXT, after TEXT, changed TEXT NOT NULL, deps TEXT NOT NULL,"
	                " wave INTEGER NOT NULL, fingerprint TEXT NOT NULL, status TEXT NOT NULL DEFAULT"
	                " 'pending', error TEXT, started_at REAL, finished_at REAL,"
	                " PRIMARY KEY (plan_id, id));",
	                NULL, NULL, NULL),
	        SQLITE_OK);
	sqlite3_close(db);
	store_round_trip(path);
}

/*
 * The id order finish keeps (and the store writes rows in) is strcmp's,
 * also where ids share their first eight bytes or end within them; a
 * dependency on such an id is still found; an add drops the order.
 */
static void test_plan__id_order_is_strcmp_order(void **state)
{
	static const char *const ids[] = { "abcdefgh1",        "abcdefgh",
		                           "abcdefgh0",        "abc",
		                           "abcdefgg~",        "b",
		                           "abcdefgh\xc3\xa9", "ab" };
	const size_t n = sizeof(ids) / sizeof(*ids);
	hf_error err = HF_ERROR_INIT;
	const size_t *o;
	size_t *again, i;
	char name[8];
	hf_plan *p;

	(void)state;
	assert_int_equal(hf_plan_new(&p, "http://x", "main", NULL), 0);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "s%zu", i);
		add(p, HF_ACT_CREATE, "NetSite", name,
		    i ? json_pack("[s]", ids[i - 1]) : NULL);
		strcpy(hf_plan_at(p, i)->id, ids[i]);
	}
	assert_null(hf_plan_by_id(p));
	if (hf_plan_finish(p, &err) != 0)
		fail_msg("%s", err.msg);
	for (i = 0; i < n; i++)
		assert_int_equal(hf_plan_at(p, i)->wave, (int)i);
	o = hf_plan_by_id(p);
	again = hf_plan_sort_by_id(p);
	assert_non_null(o);
	assert_non_null(again);
	for (i = 0; i < n; i++) {
		assert_int_equal(o[i], again[i]);
		if (i)
			assert_true(strcmp(hf_plan_at(p, o[i - 1])->id,
			                   hf_plan_at(p, o[i])->id) < 0);
	}
	assert_string_equal(hf_plan_at(p, o[0])->id, "ab");
	assert_string_equal(hf_plan_at(p, o[n - 1])->id, "b");
	hf_free(again);
	add(p, HF_ACT_CREATE, "NetSite", "late", NULL);
	assert_null(hf_plan_by_id(p));
	hf_plan_free(p);
}

/*
 * A change's sources written as text (the checksum and the store) are
 * the bytes of the tree hf_change_sources() gives, in either key order,
 * from either form; a file name json_pack() refuses fails both ways.
 */
static void sources_alike(const struct hf_change *c)
{
	hf_buf want = HF_BUF_INIT, got = HF_BUF_INIT;
	json_t *src;
	int flags;

	assert_int_equal(hf_change_sources(c, &src), 0);
	for (flags = 0; flags <= HF_JSON_SORTED; flags++) {
		hf_buf_reset(&want);
		hf_buf_reset(&got);
		assert_int_equal(hf_change_sources_write(c, &got, flags),
		                 src ? 1 : 0);
		if (src)
			assert_int_equal(hf_json_write(&want, src, flags), 0);
		assert_int_equal(got.len, want.len);
		assert_memory_equal(got.ptr ? got.ptr : "",
		                    want.ptr ? want.ptr : "", got.len);
	}
	json_decref(src);
	hf_buf_release(&want);
	hf_buf_release(&got);
}

static void test_plan__sources_text_is_the_trees(void **state)
{
	struct hf_change c;
	hf_buf b = HF_BUF_INIT;
	json_t *src;

	(void)state;
	memset(&c, 0, sizeof(c));
	sources_alike(&c);
	c.src_file = "dir/o\"b\\\xc3\xa9\x01.yml";
	c.src_line = 12345;
	sources_alike(&c);
	c.src_line = -1;
	sources_alike(&c);
	c.sources = json_pack("[{s:s, s:i}, {s:s, s:i}]", "file", "b.yml",
	                      "line", 3, "file", "a.yml", "line", 9);
	json_array_append_new(
	        c.sources, json_pack("{s:i, s:s}", "line", 1, "file", "z.yml"));
	sources_alike(&c);
	json_decref(c.sources);
	c.sources = NULL;
	c.src_file = "bad\xff.yml";
	assert_int_equal(hf_change_sources(&c, &src), HF_ENOMEM);
	assert_int_equal(hf_change_sources_write(&c, &b, 0), HF_ENOMEM);
	hf_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan__ids_are_stable),
		cmocka_unit_test(test_plan__two_changes_with_one_id_fail),
		cmocka_unit_test(test_plan__waves_follow_dependencies),
		cmocka_unit_test(test_plan__cycle_is_reported_by_name),
		cmocka_unit_test(test_plan__unknown_dependency),
		cmocka_unit_test(test_plan__json_round_trip_and_tamper),
		cmocka_unit_test(test_plan__delete_and_forget_actions),
		cmocka_unit_test(test_plan__delete_ids_differ_from_create_ids),
		cmocka_unit_test(test_plan__has_changes),
		cmocka_unit_test(test_plan__ownership_json_round_trip),
		cmocka_unit_test(test_plan__checksum_covers_ownership_fields),
		cmocka_unit_test(
		        test_plan__checksum_is_the_sorted_json_of_the_content),
		cmocka_unit_test(
		        test_plan__plan_without_stack_fields_reads_as_default),
		cmocka_unit_test(test_plan__store_keeps_ownership_fields),
		cmocka_unit_test(test_plan__sources_text_is_the_trees),
		cmocka_unit_test(test_plan__id_order_is_strcmp_order),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
