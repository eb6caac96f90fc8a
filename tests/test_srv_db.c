/*
 * The local endpoint's store (server/db*.c): persistence, UUIDs, nodes,
 * edges, branches as copy-on-write views of main, delete, merge with
 * conflict detection, rebase, savepoints, and bulk speed (printed only).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../server/db.h"
#include "hf/alloc.h"
#include "hf/buf.h"
#include "testutil.h"

static hfs_db *open_mem(void)
{
	hf_error err = HF_ERROR_INIT;
	hfs_db *db = NULL;

	assert_int_equal(hfs_db_open(&db, ":memory:", &err), 0);
	assert_non_null(db);
	return db;
}

/* Create a node from JSON text; returns the id in static storage. */
static const char *mk(hfs_db *db, const char *branch, const char *kind,
                      const char *data)
{
	static char id[8][HFS_UUID_LEN + 1];
	static int slot;
	hf_error err = HF_ERROR_INIT;
	json_t *d = json_loads(data, 0, NULL);
	char *out = id[slot++ % 8];

	assert_non_null(d);
	assert_int_equal(
	        hfs_db_node_create(db, branch, kind, NULL, d, out, &err), 0);
	json_decref(d);
	return out;
}

static char *mkdup(hfs_db *db, const char *branch, const char *kind,
                   const char *data)
{
	return hf_strdup(mk(db, branch, kind, data));
}

static void upd(hfs_db *db, const char *branch, const char *id,
                const char *data)
{
	hf_error err = HF_ERROR_INIT;
	json_t *d = json_loads(data, 0, NULL);

	assert_non_null(d);
	assert_int_equal(hfs_db_node_update(db, branch, id, d, &err), 0);
	json_decref(d);
}

/* The node's data as compact sorted text (hf_free), or NULL if absent. */
static char *get(hfs_db *db, const char *branch, const char *id)
{
	hf_error err = HF_ERROR_INIT;
	json_t *d = NULL;
	char *kind = NULL, *text;

	if (hfs_db_node_get(db, branch, id, &kind, &d, &err) < 0) {
		assert_int_equal(err.code, HF_ENOTFOUND);
		return NULL;
	}
	text = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(d);
	hf_free(kind);
	return text;
}

static void assert_data(hfs_db *db, const char *branch, const char *id,
                        const char *want)
{
	char *got = get(db, branch, id);

	if (!want) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	hf_free(got);
}

static char *dump(hfs_db *db, const char *branch)
{
	hf_error err = HF_ERROR_INIT;
	json_t *d = NULL;
	char *text;

	assert_int_equal(hfs_db_dump(db, branch, &d, &err), 0);
	text = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(d);
	return text;
}

static void edge(hfs_db *db, const char *branch, const char *ident,
                 const char *src, const char *rel, const char *dst)
{
	struct hfs_edge e = { ident, src, rel, dst, NULL, NULL };
	hf_error err = HF_ERROR_INIT;

	assert_int_equal(hfs_db_edge_add(db, branch, &e, &err), 0);
}

static int collect_peer(const struct hfs_edge *e, void *payload)
{
	hf_buf *b = payload;

	hf_buf_addf(b, "%s%s", b->len ? "," : "", e->peer);
	return 0;
}

/* Peers of one relationship side, "id,id,...". */
static char *peers(hfs_db *db, const char *branch, const char *node,
                   const char *name, const char *ident)
{
	struct hfs_db_side rel = { node, name, ident };
	hf_error err = HF_ERROR_INIT;
	hf_buf b = HF_BUF_INIT;

	assert_int_equal(hfs_db_peers(db, branch, &rel, collect_peer, &b, &err),
	                 0);
	return hf_buf_detach(&b);
}

static void assert_peers(hfs_db *db, const char *branch, const char *node,
                         const char *name, const char *ident, const char *want)
{
	char *got = peers(db, branch, node, name, ident);

	assert_string_equal(got, want);
	hf_free(got);
}

static char *join2(const char *a, const char *b)
{
	hf_buf buf = HF_BUF_INIT;

	hf_buf_addf(&buf, "%s,%s", a, b);
	return hf_buf_detach(&buf);
}

static void mkbranch(hfs_db *db, const char *name)
{
	struct hfs_branch_input in = HFS_BRANCH_INPUT_INIT;
	hf_error err = HF_ERROR_INIT;

	in.name = name;
	assert_int_equal(hfs_db_branch_create(db, &in, NULL, &err), 0);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- tests --------------------------------------------------------------- */

static void test_srv_db__uuid_format_and_order(void **state)
{
	char prev[HFS_UUID_LEN + 1] = "", id[HFS_UUID_LEN + 1];

	(void)state;
	for (int i = 0; i < 20000; i++) {
		hfs_db_uuid(id);
		assert_int_equal(strlen(id), HFS_UUID_LEN);
		assert_true(hfs_db_is_uuid(id));
		for (const char *p = id; *p; p++)
			assert_false(*p >= 'A' && *p <= 'F');
		assert_int_equal(id[14], '7');
		assert_non_null(strchr("89ab", id[19]));
		assert_true(strcmp(prev, id) < 0);
		memcpy(prev, id, sizeof(id));
	}
	assert_false(hfs_db_is_uuid("not-a-uuid"));
	assert_false(hfs_db_is_uuid("0188a0a0-0000-7000-8000-00000000000"));
	assert_true(hfs_db_is_uuid("17AEC828-9814-CE00-3F20-1A053670F1C8"));
}

static void test_srv_db__persists_across_reopen(void **state)
{
	hf_error err = HF_ERROR_INIT;
	const char *dir = hf_test_tmpdir("srv_db_persist");
	char path[1100], wal[1110], *a, *b, *v = NULL;
	hfs_db *db = NULL;
	long long seq;

	(void)state;
	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/store.db", dir);
	assert_int_equal(hfs_db_open(&db, path, &err), 0);
	a = mkdup(db, "main", "BuiltinTag", "{\"name\":{\"value\":\"red\"}}");
	b = mkdup(db, "main", "BuiltinTag", "{\"name\":{\"value\":\"blue\"}}");
	edge(db, "main", "tag__tag", a, "related", b);
	assert_int_equal(hfs_db_meta_set(db, "schema:main", "{\"v\":1}", &err),
	                 0);
	mkbranch(db, "feature/new-dc");
	upd(db, "feature/new-dc", a, "{\"name\":{\"value\":\"crimson\"}}");
	seq = hfs_db_seq(db);
	/* WAL mode: the write-ahead log sits next to the database. */
	snprintf(wal, sizeof(wal), "%s-wal", path);
	assert_int_equal(access(wal, F_OK), 0);
	hfs_db_close(db);

	db = NULL;
	assert_int_equal(hfs_db_open(&db, path, &err), 0);
	assert_true(hfs_db_seq(db) >= seq);
	assert_data(db, "main", a, "{\"name\":{\"value\":\"red\"}}");
	assert_data(db, "feature/new-dc", a,
	            "{\"name\":{\"value\":\"crimson\"}}");
	assert_peers(db, "main", a, "related", "tag__tag", b);
	assert_int_equal(hfs_db_meta_get(db, "schema:main", &v, &err), 0);
	assert_string_equal(v, "{\"v\":1}");
	hf_free(v);
	/* The branch copied main's schema when it was created. */
	assert_int_equal(hfs_db_meta_get(db, "schema:feature/new-dc", &v, &err),
	                 0);
	assert_string_equal(v, "{\"v\":1}");
	hf_free(v);
	/* New ids still sort after the old ones. */
	assert_true(strcmp(mk(db, "main", "BuiltinTag", "{}"), b) > 0);
	hfs_db_close(db);
	hf_free(a);
	hf_free(b);
}

static void test_srv_db__meta(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hfs_db *db = open_mem();
	char *v = NULL;

	(void)state;
	assert_int_equal(hfs_db_meta_get(db, "nope", &v, &err), HF_ENOTFOUND);
	assert_null(v);
	assert_int_equal(hfs_db_meta_set(db, "k", "one", &err), 0);
	assert_int_equal(hfs_db_meta_set(db, "k", "two", &err), 0);
	assert_int_equal(hfs_db_meta_get(db, "k", &v, &err), 0);
	assert_string_equal(v, "two");
	hf_free(v);
	assert_int_equal(hfs_db_meta_set(db, "k", NULL, &err), 0);
	assert_int_equal(hfs_db_meta_get(db, "k", &v, &err), HF_ENOTFOUND);
	hfs_db_close(db);
}

static int collect_id(const struct hfs_node *n, void *payload)
{
	const char *v = json_string_value(json_object_get(n->data, "n"));
	hf_buf *b = payload;

	hf_buf_addf(b, "%s%s:%s", b->len ? "," : "", n->kind, v ? v : "-");
	return 0;
}

static char *list(hfs_db *db, const char *branch,
                  const struct hfs_node_query *q)
{
	hf_error err = HF_ERROR_INIT;
	hf_buf b = HF_BUF_INIT;

	assert_int_equal(hfs_db_node_list(db, branch, q, collect_id, &b, &err),
	                 0);
	return hf_buf_detach(&b);
}

static void assert_list(hfs_db *db, const char *branch,
                        const struct hfs_node_query *q, const char *want)
{
	char *got = list(db, branch, q);
	hf_error err = HF_ERROR_INIT;
	size_t n = 0, commas = 0;

	assert_string_equal(got, want);
	assert_int_equal(hfs_db_node_count(db, branch, q, &n, &err), 0);
	for (const char *p = want; *p; p++)
		commas += *p == ',';
	assert_int_equal(n, *want ? commas + 1 : 0);
	hf_free(got);
}

static void test_srv_db__node_crud_on_main(void **state)
{
	struct hfs_node_query q = HFS_NODE_QUERY_INIT;
	const char *kinds[] = { "B" };
	hf_error err = HF_ERROR_INIT;
	hfs_db *db = open_mem();
	char *a, *b, *c, *kind = NULL,
	                 given[] = "0188a0a0-0000-7000-8000-000000000001";
	json_t *d = json_object();

	(void)state;
	a = mkdup(db, "main", "A", "{\"n\":\"a\"}");
	b = mkdup(db, "main", "B", "{\"n\":\"b\"}");
	c = mkdup(db, "main", "A", "{\"n\":\"c\"}");
	assert_data(db, "main", a, "{\"n\":\"a\"}");
	assert_int_equal(hfs_db_node_get(db, "main", b, &kind, NULL, &err), 0);
	assert_string_equal(kind, "B");
	hf_free(kind);
	assert_list(db, "main", NULL, "A:a,B:b,A:c");
	q.kinds = kinds;
	q.nkinds = 1;
	assert_list(db, "main", &q, "B:b");
	q.nkinds = 0; /* an empty set matches nothing */
	assert_list(db, "main", &q, "");
	q.kinds = NULL;
	q.ids = (const char *const[]){ c, a };
	q.nids = 2;
	assert_list(db, "main", &q, "A:a,A:c");
	q.skip_data = 1;
	assert_list(db, "main", &q, "A:-,A:-");

	upd(db, "main", b, "{\"n\":\"b2\",\"x\":1}");
	assert_data(db, "main", b, "{\"n\":\"b2\",\"x\":1}");
	assert_int_equal(hfs_db_node_delete(db, "main", a, &err), 0);
	assert_data(db, "main", a, NULL);
	assert_int_equal(hfs_db_node_delete(db, "main", a, &err), HF_ENOTFOUND);
	assert_int_equal(hfs_db_node_update(db, "main", a, d, &err),
	                 HF_ENOTFOUND);
	assert_list(db, "main", NULL, "B:b2,A:c");

	/* Client-supplied ids: must be UUIDs and unused. */
	assert_int_equal(
	        hfs_db_node_create(db, "main", "A", given, d, NULL, &err), 0);
	assert_int_equal(
	        hfs_db_node_create(db, "main", "A", given, d, NULL, &err),
	        HF_EINVAL);
	assert_string_equal(err.msg, "0188a0a0-0000-7000-8000-000000000001 is "
	                             "already in use");
	assert_int_equal(
	        hfs_db_node_create(db, "main", "A", "red", d, NULL, &err),
	        HF_EINVAL);
	assert_string_equal(err.msg, "red is not a valid UUID");
	/* A client id sorts by its value. */
	assert_list(db, "main", &(struct hfs_node_query)HFS_NODE_QUERY_INIT,
	            "A:-,B:b2,A:c");
	assert_int_equal(
	        hfs_db_node_list(db, "nope", NULL, collect_id, NULL, &err),
	        HF_ENOTFOUND);
	assert_string_equal(err.msg, "Branch: nope not found.");
	json_decref(d);
	hf_free(a);
	hf_free(b);
	hf_free(c);
	hfs_db_close(db);
}

static int stop_after_one(const struct hfs_node *n, void *payload)
{
	(*(int *)payload)++;
	(void)n;
	return 1;
}

static void test_srv_db__list_callback_stops(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hfs_db *db = open_mem();
	int calls = 0;

	(void)state;
	mk(db, "main", "A", "{}");
	mk(db, "main", "A", "{}");
	assert_int_equal(hfs_db_node_list(db, "main", NULL, stop_after_one,
	                                  &calls, &err),
	                 0);
	assert_int_equal(calls, 1);
	hfs_db_close(db);
}

static void test_srv_db__edges_both_directions(void **state)
{
	hf_error err = HF_ERROR_INIT;
	struct hfs_db_side rel;
	hfs_db *db = open_mem();
	char *dev, *t1, *t2, *site, *rack, *want;
	json_t *props = json_pack("{s:b}", "_relation__is_protected", 1);
	struct hfs_edge e;
	char *d;

	(void)state;
	dev = mkdup(db, "main", "Device", "{}");
	t1 = mkdup(db, "main", "Tag", "{}");
	t2 = mkdup(db, "main", "Tag", "{}");
	site = mkdup(db, "main", "Location", "{}");
	rack = mkdup(db, "main", "Location", "{}");

	/* Creation order, not id order. */
	edge(db, "main", "device__tag", dev, "tags", t2);
	edge(db, "main", "device__tag", dev, "tags", t1);
	want = join2(t2, t1);
	assert_peers(db, "main", dev, "tags", "device__tag", want);
	hf_free(want);
	assert_peers(db, "main", t1, "devices", "device__tag", dev);
	assert_peers(db, "main", t1, "tags", "device__tag", "");

	/* A hierarchy: one identifier, parent and children sides. */
	edge(db, "main", "parent__child", rack, "parent", site);
	assert_peers(db, "main", site, "children", "parent__child", rack);
	assert_peers(db, "main", rack, "parent", "parent__child", site);
	assert_peers(db, "main", rack, "children", "parent__child", "");
	assert_peers(db, "main", site, "parent", "parent__child", "");

	/* Re-adding replaces the properties and keeps the position. */
	e = (struct hfs_edge){ "device__tag", dev, "tags", t2, props, NULL };
	assert_int_equal(hfs_db_edge_add(db, "main", &e, &err), 0);
	want = join2(t2, t1);
	assert_peers(db, "main", dev, "tags", "device__tag", want);
	hf_free(want);
	d = dump(db, "main");
	assert_non_null(strstr(d, "\"props\":{\"_relation__is_protected\":"
	                          "true}"));
	hf_free(d);

	assert_int_equal(hfs_db_edge_remove(db, "main", &e, &err), 0);
	assert_int_equal(hfs_db_edge_remove(db, "main", &e, &err),
	                 HF_ENOTFOUND);
	assert_peers(db, "main", dev, "tags", "device__tag", t1);

	/* Clearing one side; deleting a node drops its edges. */
	edge(db, "main", "device__tag", dev, "tags", t2);
	rel = (struct hfs_db_side){ t2, "devices", "device__tag" };
	assert_int_equal(hfs_db_peers_clear(db, "main", &rel, &err), 0);
	assert_peers(db, "main", dev, "tags", "device__tag", t1);
	assert_int_equal(hfs_db_node_delete(db, "main", t1, &err), 0);
	assert_peers(db, "main", dev, "tags", "device__tag", "");
	assert_peers(db, "main", site, "children", "parent__child", rack);
	assert_int_equal(hfs_db_node_delete(db, "main", site, &err), 0);
	assert_peers(db, "main", rack, "parent", "parent__child", "");
	json_decref(props);
	hf_free(dev);
	hf_free(t1);
	hf_free(t2);
	hf_free(site);
	hf_free(rack);
	hfs_db_close(db);
}

static int count_edge(const struct hfs_edge *e, void *payload)
{
	(void)e;
	(*(int *)payload)++;
	return 0;
}

static void test_srv_db__edges_bulk_read(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hfs_db *db = open_mem();
	char *a = mkdup(db, "main", "A", "{}");
	char *b = mkdup(db, "main", "B", "{}");
	int n = 0;

	(void)state;
	edge(db, "main", "a__b", a, "bs", b);
	edge(db, "main", "x__y", b, "ys", a);
	assert_int_equal(hfs_db_edges_by_identifier(db, "main", "a__b",
	                                            count_edge, &n, &err),
	                 0);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(hfs_db_node_edges(db, "main", a, count_edge, &n, &err),
	                 0);
	assert_int_equal(n, 2);
	hf_free(a);
	hf_free(b);
	hfs_db_close(db);
}

static void expect_bad_name(const char *name, const char *why)
{
	hf_error err = HF_ERROR_INIT;
	char want[600];

	snprintf(want, sizeof(want),
	         "Branch name contains invalid patterns or characters: %s",
	         why);
	assert_int_equal(hfs_db_branch_check_name(name, &err), HF_EINVAL);
	assert_string_equal(err.msg, want);
}

static void test_srv_db__branch_names(void **state)
{
	hf_error err = HF_ERROR_INIT;
	char longname[260];

	(void)state;
	assert_int_equal(hfs_db_branch_check_name("feature/new-dc", &err), 0);
	assert_int_equal(hfs_db_branch_check_name("Cr1234.v2_x", &err), 0);
	assert_int_equal(hfs_db_branch_check_name("abc", &err), 0);
	expect_bad_name("a/.b", "/.");
	expect_bad_name("a..b", "..");
	expect_bad_name("/abc", "starts with /");
	expect_bad_name("a//b", "//");
	expect_bad_name("a@{b", "@{");
	expect_bad_name("a\\b", "backslash (\\)");
	expect_bad_name("not valid", "disallowed ASCII characters/patterns");
	expect_bad_name("a\tb", "disallowed ASCII characters/patterns");
	expect_bad_name("a~b", "disallowed ASCII characters/patterns");
	expect_bad_name("a^b", "disallowed ASCII characters/patterns");
	expect_bad_name("a:b", "disallowed ASCII characters/patterns");
	expect_bad_name("a?b", "disallowed ASCII characters/patterns");
	expect_bad_name("a*b", "disallowed ASCII characters/patterns");
	expect_bad_name("a[b", "disallowed ASCII characters/patterns");
	expect_bad_name("a\177b", "disallowed ASCII characters/patterns");
	expect_bad_name("abc.lock", "ends with .lock");
	expect_bad_name("abc/", "ends with /");
	expect_bad_name("abc.", "ends with .");
	expect_bad_name("/a..b/", ".., starts with /, ends with /");
	assert_int_equal(hfs_db_branch_check_name("ab", &err), HF_EINVAL);
	assert_string_equal(err.msg, "invalid field name: String should have "
	                             "at least 3 characters");
	memset(longname, 'x', 251);
	longname[251] = '\0';
	assert_int_equal(hfs_db_branch_check_name(longname, &err), HF_EINVAL);
	assert_string_equal(err.msg, "invalid field name: String should have "
	                             "at most 250 characters");
	longname[250] = '\0';
	assert_int_equal(hfs_db_branch_check_name(longname, &err), 0);
	/* Lengths count characters, not bytes. */
	assert_int_equal(hfs_db_branch_check_name("\xc3\xa9\xc3\xa9", &err),
	                 HF_EINVAL);
}

static void test_srv_db__branch_create_get_list(void **state)
{
	struct hfs_branch_input in = HFS_BRANCH_INPUT_INIT;
	hf_error err = HF_ERROR_INIT;
	json_t *b = NULL, *l = NULL, *m, *o = NULL;
	hfs_db *db = open_mem();
	const char *bf;

	(void)state;
	in.name = "feature/new-dc";
	in.description = "new dc";
	in.sync_with_git = 0;
	assert_int_equal(hfs_db_branch_create(db, &in, &b, &err), 0);
	assert_string_equal(json_string_value(json_object_get(b, "name")),
	                    "feature/new-dc");
	assert_string_equal(
	        json_string_value(json_object_get(b, "description")), "new dc");
	assert_string_equal(
	        json_string_value(json_object_get(b, "origin_branch")), "main");
	assert_true(json_is_false(json_object_get(b, "sync_with_git")));
	assert_true(json_is_false(json_object_get(b, "is_default")));
	assert_true(json_is_false(json_object_get(b, "has_schema_changes")));
	assert_true(json_is_true(json_object_get(b, "is_isolated")));
	assert_true(
	        hfs_db_is_uuid(json_string_value(json_object_get(b, "id"))));
	bf = json_string_value(json_object_get(b, "branched_from"));
	assert_non_null(bf);
	/* 2023-02-17T09:30:17.811719Z */
	assert_int_equal(strlen(bf), 27);
	assert_int_equal(bf[10], 'T');
	assert_int_equal(bf[19], '.');
	assert_int_equal(bf[26], 'Z');

	assert_int_equal(hfs_db_branch_create(db, &in, NULL, &err), HF_EINVAL);
	assert_string_equal(err.msg,
	                    "The branch feature/new-dc, already exist");
	in.name = "bad name";
	assert_int_equal(hfs_db_branch_create(db, &in, NULL, &err), HF_EINVAL);

	assert_int_equal(hfs_db_branch_list(db, &l, &err), 0);
	assert_int_equal(json_array_size(l), 2);
	m = json_array_get(l, 0);
	assert_string_equal(json_string_value(json_object_get(m, "name")),
	                    "main");
	assert_true(json_is_true(json_object_get(m, "is_default")));
	assert_true(json_is_true(json_object_get(m, "sync_with_git")));
	assert_string_equal(
	        json_string_value(json_object_get(m, "origin_branch")), "main");
	assert_int_equal(hfs_db_branch_get_by_id(
	                         db,
	                         json_string_value(json_object_get(b, "id")),
	                         &o, &err),
	                 0);
	assert_true(json_equal(o, b));
	json_decref(o);
	assert_int_equal(
	        hfs_db_branch_update(db, "feature/new-dc", "changed", &err), 0);
	assert_int_equal(hfs_db_branch_get(db, "feature/new-dc", &o, &err), 0);
	assert_string_equal(
	        json_string_value(json_object_get(o, "description")),
	        "changed");
	json_decref(o);
	assert_int_equal(hfs_db_branch_get(db, "nope", &o, &err), HF_ENOTFOUND);
	assert_string_equal(err.msg, "Branch: nope not found.");
	json_decref(b);
	json_decref(l);
	hfs_db_close(db);
}

static void test_srv_db__branch_isolation(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hfs_db *db = open_mem();
	char *n1, *n2, *n3, *t, *before, *after;
	struct hfs_node_query q = HFS_NODE_QUERY_INIT;
	const char *kinds[] = { "T" };
	const char *br = "feature/x";

	(void)state;
	n1 = mkdup(db, "main", "A", "{\"n\":\"one\"}");
	t = mkdup(db, "main", "T", "{\"n\":\"t\"}");
	edge(db, "main", "a__t", n1, "tags", t);
	mkbranch(db, br);
	before = dump(db, "main");

	/* Branch writes stay on the branch. */
	upd(db, br, n1, "{\"n\":\"one-b\"}");
	n2 = mkdup(db, br, "A", "{\"n\":\"two\"}");
	edge(db, br, "a__t", n2, "tags", t);
	assert_int_equal(hfs_db_node_delete(db, br, t, &err), 0);
	after = dump(db, "main");
	assert_string_equal(before, after);
	hf_free(after);
	assert_data(db, "main", n2, NULL);
	assert_data(db, br, n1, "{\"n\":\"one-b\"}");
	assert_data(db, br, t, NULL);
	assert_peers(db, br, n1, "tags", "a__t", "");
	assert_peers(db, "main", n1, "tags", "a__t", t);
	assert_list(db, br, NULL, "A:one-b,A:two");

	/* Main writes after the branch was made stay on main. */
	upd(db, "main", n1, "{\"n\":\"one-m\"}");
	n3 = mkdup(db, "main", "A", "{\"n\":\"three\"}");
	edge(db, "main", "a__t", n3, "tags", t);
	assert_data(db, br, n3, NULL);
	assert_data(db, br, n1, "{\"n\":\"one-b\"}");
	assert_list(db, br, NULL, "A:one-b,A:two");
	assert_list(db, "main", NULL, "A:one-m,T:t,A:three");
	q.kinds = kinds;
	q.nkinds = 1;
	assert_list(db, br, &q, "");
	q.ids = (const char *const[]){ n1, n3 };
	q.nids = 2;
	q.kinds = NULL;
	assert_list(db, br, &q, "A:one-b");

	/* Edge versions too: the branch keeps main's edges as of its base. */
	{
		json_t *pr = json_pack("{s:b}", "_relation__is_protected", 1);
		struct hfs_edge e = { "a__t", n1, "tags", t, pr, NULL };
		char *bd;

		mkbranch(db, "edges-br");
		assert_int_equal(hfs_db_edge_add(db, "main", &e, &err), 0);
		bd = dump(db, "edges-br");
		assert_null(strstr(bd, "is_protected"));
		hf_free(bd);
		assert_int_equal(hfs_db_edge_remove(db, "main", &e, &err), 0);
		assert_peers(db, "main", n1, "tags", "a__t", "");
		assert_peers(db, "edges-br", n1, "tags", "a__t", t);
		json_decref(pr);
	}

	/* A second branch sees main as of its own creation. */
	mkbranch(db, "other");
	assert_data(db, "other", n1, "{\"n\":\"one-m\"}");
	assert_data(db, "other", n3, "{\"n\":\"three\"}");
	assert_peers(db, "other", t, "members", "a__t", n3);
	upd(db, "main", n3, "{\"n\":\"three-m\"}");
	assert_int_equal(hfs_db_node_delete(db, "main", n1, &err), 0);
	assert_data(db, "other", n1, "{\"n\":\"one-m\"}");
	assert_data(db, "other", n3, "{\"n\":\"three\"}");
	hf_free(before);
	hf_free(n1);
	hf_free(n2);
	hf_free(n3);
	hf_free(t);
	hfs_db_close(db);
}

static void test_srv_db__branch_delete_discards(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hfs_db *db = open_mem();
	char *n1, *n2, *before, *after;
	json_t *b = NULL;

	(void)state;
	n1 = mkdup(db, "main", "A", "{\"n\":\"one\"}");
	mkbranch(db, "tmp-branch");
	before = dump(db, "main");
	upd(db, "tmp-branch", n1, "{\"n\":\"changed\"}");
	n2 = mkdup(db, "tmp-branch", "A", "{\"n\":\"two\"}");
	assert_int_equal(hfs_db_branch_delete(db, "tmp-branch", &err), 0);
	assert_int_equal(hfs_db_branch_get(db, "tmp-branch", &b, &err),
	                 HF_ENOTFOUND);
	assert_int_equal(
	        hfs_db_node_get(db, "tmp-branch", n1, NULL, NULL, &err),
	        HF_ENOTFOUND);
	after = dump(db, "main");
	assert_string_equal(before, after);
	/* The name can be reused and starts clean. */
	mkbranch(db, "tmp-branch");
	assert_data(db, "tmp-branch", n1, "{\"n\":\"one\"}");
	assert_data(db, "tmp-branch", n2, NULL);
	assert_int_equal(hfs_db_branch_delete(db, "main", &err), HF_EINVAL);
	assert_string_equal(err.msg,
	                    "Unable to delete main it is the default branch.");
	assert_int_equal(hfs_db_branch_delete(db, "nope", &err), HF_ENOTFOUND);
	hf_free(before);
	hf_free(after);
	hf_free(n1);
	hf_free(n2);
	hfs_db_close(db);
}

static void test_srv_db__merge_applies(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hfs_db *db = open_mem();
	char *keep, *gone, *tag, *t2, *newn, *v = NULL, *bview, *mview;
	json_t *conf = NULL, *b = NULL;
	const char *br = "cr1234";

	(void)state;
	keep = mkdup(db, "main", "A", "{\"n\":\"keep\",\"d\":\"x\"}");
	gone = mkdup(db, "main", "A", "{\"n\":\"gone\"}");
	tag = mkdup(db, "main", "T", "{\"n\":\"t\"}");
	t2 = mkdup(db, "main", "T", "{\"n\":\"t2\"}");
	edge(db, "main", "a__t", keep, "tags", tag);
	assert_int_equal(hfs_db_meta_set(db, "schema:main", "s0", &err), 0);
	mkbranch(db, br);

	upd(db, br, keep, "{\"n\":\"keep-b\",\"d\":\"x\"}");
	assert_int_equal(hfs_db_node_delete(db, br, gone, &err), 0);
	newn = mkdup(db, br, "A", "{\"n\":\"new\"}");
	edge(db, br, "a__t", newn, "tags", tag);
	edge(db, br, "a__t", keep, "tags", t2);
	{
		struct hfs_edge e = { "a__t", keep, "tags", tag, NULL, NULL };

		assert_int_equal(hfs_db_edge_remove(db, br, &e, &err), 0);
	}
	assert_int_equal(hfs_db_meta_set(db, "schema:cr1234", "s1", &err), 0);
	assert_int_equal(hfs_db_branch_set_schema_changed(db, br, 1, &err), 0);
	/* Main changes another field of the same node meanwhile. */
	upd(db, "main", keep, "{\"n\":\"keep\",\"d\":\"y\"}");

	assert_int_equal(hfs_db_branch_validate(db, br, &conf, &err), 0);
	assert_int_equal(json_array_size(conf), 0);
	json_decref(conf);
	assert_int_equal(hfs_db_branch_merge(db, br, &err), 0);

	assert_data(db, "main", keep, "{\"d\":\"y\",\"n\":\"keep-b\"}");
	assert_data(db, "main", gone, NULL);
	assert_data(db, "main", newn, "{\"n\":\"new\"}");
	assert_peers(db, "main", keep, "tags", "a__t", t2);
	assert_peers(db, "main", tag, "members", "a__t", newn);
	assert_int_equal(hfs_db_meta_get(db, "schema:main", &v, &err), 0);
	assert_string_equal(v, "s1");
	hf_free(v);

	/* The branch survives, rebased: it reads exactly as main. */
	assert_int_equal(hfs_db_branch_get(db, br, &b, &err), 0);
	assert_true(json_is_false(json_object_get(b, "has_schema_changes")));
	json_decref(b);
	bview = dump(db, br);
	mview = dump(db, "main");
	assert_string_equal(bview, mview);
	hf_free(bview);
	hf_free(mview);
	/* ... and keeps working as a branch. */
	upd(db, br, newn, "{\"n\":\"after\"}");
	assert_data(db, "main", newn, "{\"n\":\"new\"}");
	assert_int_equal(hfs_db_branch_merge(db, br, &err), 0);
	assert_data(db, "main", newn, "{\"n\":\"after\"}");

	assert_int_equal(hfs_db_branch_merge(db, "main", &err), HF_EINVAL);
	assert_string_equal(err.msg,
	                    "Unable to merge the branch 'main' into itself");
	hf_free(keep);
	hf_free(gone);
	hf_free(tag);
	hf_free(t2);
	hf_free(newn);
	hfs_db_close(db);
}

static void test_srv_db__merge_conflict_changes_nothing(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hfs_db *db = open_mem();
	char *a, *b, *c, *before, *after, want[300];
	json_t *conf = NULL;
	const char *br = "conflicting";

	(void)state;
	a = mkdup(db, "main", "BuiltinTag", "{\"name\":\"a\",\"d\":\"1\"}");
	b = mkdup(db, "main", "BuiltinTag", "{\"name\":\"b\"}");
	c = mkdup(db, "main", "BuiltinTag", "{\"name\":\"c\"}");
	mkbranch(db, br);
	upd(db, br, a, "{\"name\":\"a-branch\",\"d\":\"1\"}");
	upd(db, br, b, "{\"name\":\"b-branch\"}");
	mk(db, br, "BuiltinTag", "{\"name\":\"fresh\"}");
	upd(db, "main", a, "{\"name\":\"a-main\",\"d\":\"1\"}");
	assert_int_equal(hfs_db_node_delete(db, "main", b, &err), 0);
	/* Same value on both sides is no conflict. */
	upd(db, br, c, "{\"name\":\"same\"}");
	upd(db, "main", c, "{\"name\":\"same\"}");
	before = dump(db, "main");

	assert_int_equal(hfs_db_branch_validate(db, br, &conf, &err), 0);
	assert_int_equal(json_array_size(conf), 2);
	snprintf(want, sizeof(want),
	         "data/%s/name (BuiltinTag): changed on both branches", a);
	assert_string_equal(json_string_value(json_array_get(conf, 0)), want);
	json_decref(conf);

	assert_int_equal(hfs_db_branch_merge(db, br, &err), HF_ECONFLICT);
	assert_non_null(strstr(err.msg, "Unable to merge the branch "
	                                "'conflicting', validation failed: "));
	assert_non_null(strstr(err.msg, want));
	snprintf(want, sizeof(want),
	         "data/%s (BuiltinTag): deleted on main, "
	         "changed on the branch",
	         b);
	assert_non_null(strstr(err.msg, want));
	after = dump(db, "main");
	assert_string_equal(before, after);
	/* The branch is untouched as well. */
	assert_data(db, br, a, "{\"d\":\"1\",\"name\":\"a-branch\"}");
	assert_int_equal(hfs_db_branch_rebase(db, br, &err), HF_ECONFLICT);
	hf_free(before);
	hf_free(after);
	hf_free(a);
	hf_free(b);
	hf_free(c);
	hfs_db_close(db);
}

static void test_srv_db__merge_conflict_delete_vs_change(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hfs_db *db = open_mem();
	char *a, *t, *before, *after, want[300];

	(void)state;
	a = mkdup(db, "main", "A", "{\"n\":\"a\"}");
	t = mkdup(db, "main", "T", "{\"n\":\"t\"}");
	mkbranch(db, "del-branch");
	assert_int_equal(hfs_db_node_delete(db, "del-branch", a, &err), 0);
	edge(db, "del-branch", "a__t", t, "owner", t);
	upd(db, "main", a, "{\"n\":\"a2\"}");
	before = dump(db, "main");
	assert_int_equal(hfs_db_branch_merge(db, "del-branch", &err),
	                 HF_ECONFLICT);
	snprintf(want, sizeof(want),
	         "data/%s (A): changed on main, deleted "
	         "on the branch",
	         a);
	assert_non_null(strstr(err.msg, want));
	after = dump(db, "main");
	assert_string_equal(before, after);
	hf_free(after);
	hf_free(before);

	/* A relationship added on the branch to a node main deleted. */
	mkbranch(db, "link-branch");
	edge(db, "link-branch", "a__t", a, "tags", t);
	assert_int_equal(hfs_db_node_delete(db, "main", t, &err), 0);
	assert_int_equal(hfs_db_branch_merge(db, "link-branch", &err),
	                 HF_ECONFLICT);
	snprintf(want, sizeof(want), "data/%s (T): deleted on main", t);
	assert_non_null(strstr(err.msg, want));
	hf_free(a);
	hf_free(t);
	hfs_db_close(db);
}

static void test_srv_db__rebase(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hfs_db *db = open_mem();
	char *a, *b;

	(void)state;
	a = mkdup(db, "main", "A", "{\"n\":\"a\",\"d\":\"1\"}");
	mkbranch(db, "rebase-me");
	upd(db, "rebase-me", a, "{\"n\":\"a-rb\",\"d\":\"1\"}");
	upd(db, "main", a, "{\"n\":\"a\",\"d\":\"2\"}");
	b = mkdup(db, "main", "A", "{\"n\":\"b\"}");
	assert_data(db, "rebase-me", b, NULL);
	assert_int_equal(hfs_db_branch_rebase(db, "rebase-me", &err), 0);
	assert_data(db, "rebase-me", b, "{\"n\":\"b\"}");
	assert_data(db, "rebase-me", a, "{\"d\":\"2\",\"n\":\"a-rb\"}");
	assert_data(db, "main", a, "{\"d\":\"2\",\"n\":\"a\"}");
	assert_int_equal(hfs_db_branch_rebase(db, "main", &err), HF_EINVAL);
	hf_free(a);
	hf_free(b);
	hfs_db_close(db);
}

static void test_srv_db__savepoints(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hfs_db *db = open_mem();
	char *a, *b, *c;

	(void)state;
	assert_int_equal(hfs_db_begin(db, &err), 0);
	assert_true(hfs_db_in_transaction(db));
	assert_int_equal(hfs_db_begin(db, &err), HF_EINVAL);
	a = mkdup(db, "main", "A", "{}");
	assert_int_equal(hfs_db_savepoint(db, "field_1", &err), 0);
	b = mkdup(db, "main", "A", "{}");
	assert_int_equal(hfs_db_rollback_to(db, "field_1", &err), 0);
	assert_int_equal(hfs_db_savepoint(db, "field_2", &err), 0);
	c = mkdup(db, "main", "A", "{}");
	assert_int_equal(hfs_db_release(db, "field_2", &err), 0);
	assert_int_equal(hfs_db_commit(db, &err), 0);
	assert_false(hfs_db_in_transaction(db));
	assert_data(db, "main", a, "{}");
	assert_data(db, "main", b, NULL);
	assert_data(db, "main", c, "{}");

	/* A whole transaction rolled back; the sequence never goes back. */
	{
		long long seq = hfs_db_seq(db);
		char *d;

		assert_int_equal(hfs_db_begin(db, &err), 0);
		d = mkdup(db, "main", "A", "{}");
		hfs_db_rollback(db);
		assert_data(db, "main", d, NULL);
		assert_true(hfs_db_seq(db) > seq);
		hf_free(d);
	}
	assert_int_equal(hfs_db_savepoint(db, "bad name", &err), HF_EINVAL);
	assert_int_equal(hfs_db_commit(db, &err), HF_EINVAL);
	hf_free(a);
	hf_free(b);
	hf_free(c);
	hfs_db_close(db);
}

struct scan {
	size_t n;
	size_t bytes;
};

static int scan_node(const struct hfs_node *n, void *payload)
{
	struct scan *s = payload;

	s->n++;
	s->bytes += json_object_size(n->data);
	return 0;
}

struct ids {
	char (*v)[HFS_UUID_LEN + 1];
	size_t n;
};

static int grab_id(const struct hfs_node *n, void *payload)
{
	struct ids *ids = payload;

	memcpy(ids->v[ids->n++], n->id, HFS_UUID_LEN + 1);
	return 0;
}

/* Link every node to the first one and read it back three ways. */
static void edges_10k(hfs_db *db)
{
	struct hfs_node_query q = HFS_NODE_QUERY_INIT;
	struct ids ids = { NULL, 0 };
	hf_error err = HF_ERROR_INIT;
	double t0, t1, t2, t3;
	int n = 0;

	ids.v = hf_calloc(10000, sizeof(*ids.v));
	assert_non_null(ids.v);
	q.skip_data = 1;
	assert_int_equal(hfs_db_node_list(db, "main", &q, grab_id, &ids, &err),
	                 0);
	t0 = now_ms();
	assert_int_equal(hfs_db_begin(db, &err), 0);
	for (size_t i = 1; i < ids.n; i++)
		edge(db, "main", "dev__site", ids.v[i], "site", ids.v[0]);
	assert_int_equal(hfs_db_commit(db, &err), 0);
	t1 = now_ms();
	for (size_t i = 1; i < ids.n; i++) {
		struct hfs_db_side rel = { ids.v[i], "site", "dev__site" };

		assert_int_equal(
		        hfs_db_peers(db, "main", &rel, count_edge, &n, &err),
		        0);
	}
	assert_int_equal(n, (int)ids.n - 1);
	t2 = now_ms();
	n = 0;
	assert_int_equal(hfs_db_edges_by_identifier(db, "main", "dev__site",
	                                            count_edge, &n, &err),
	                 0);
	assert_int_equal(n, (int)ids.n - 1);
	t3 = now_ms();
	printf("# 10k edge adds in one transaction: %.1f ms\n", t1 - t0);
	printf("# 10k single-node peer reads: %.1f ms\n", t2 - t1);
	printf("# bulk read of 10k edges by identifier: %.1f ms\n", t3 - t2);
	hf_free(ids.v);
}

static void test_srv_db__bulk_10k(void **state)
{
	struct hfs_node_query q = HFS_NODE_QUERY_INIT;
	const char *kinds[] = { "InfraDevice" };
	hf_error err = HF_ERROR_INIT;
	struct scan s = { 0, 0 };
	hfs_db *db = open_mem();
	double t0, t1, t2, t3, t4;
	json_t *d;
	size_t n = 0;

	(void)state;
	d = json_pack("{s:{s:s, s:b}, s:{s:s}, s:{s:i}}", "name", "value",
	              "device-000001", "is_protected", 0, "description",
	              "value", "a device in the lab rack", "asn", "value",
	              65000);
	t0 = now_ms();
	assert_int_equal(hfs_db_begin(db, &err), 0);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(hfs_db_node_create(db, "main",
		                                    i % 2 ? "InfraDevice"
		                                          : "InfraInterface",
		                                    NULL, d, NULL, &err),
		                 0);
	assert_int_equal(hfs_db_commit(db, &err), 0);
	t1 = now_ms();
	assert_int_equal(
	        hfs_db_node_list(db, "main", NULL, scan_node, &s, &err), 0);
	t2 = now_ms();
	assert_int_equal(s.n, 10000);
	q.kinds = kinds;
	q.nkinds = 1;
	assert_int_equal(hfs_db_node_count(db, "main", &q, &n, &err), 0);
	assert_int_equal(n, 5000);
	mkbranch(db, "bulk");
	s.n = 0;
	t3 = now_ms();
	assert_int_equal(
	        hfs_db_node_list(db, "bulk", NULL, scan_node, &s, &err), 0);
	t4 = now_ms();
	assert_int_equal(s.n, 10000);
	printf("# 10k creates in one transaction: %.1f ms\n", t1 - t0);
	printf("# full scan of 10k nodes with JSON (main): %.1f ms\n", t2 - t1);
	printf("# full scan of 10k nodes with JSON (branch): %.1f ms\n",
	       t4 - t3);
	edges_10k(db);
	json_decref(d);
	hfs_db_close(db);
}

/* ---- allocation failure -------------------------------------------------- */

static long fail_at, nallocs;

static void *fail_malloc(size_t n)
{
	return ++nallocs == fail_at ? NULL : malloc(n);
}

static void *fail_realloc(void *p, size_t n)
{
	return ++nallocs == fail_at ? NULL : realloc(p, n);
}

static const struct hf_allocator failing = { fail_malloc, fail_realloc, free };

static int count_node(const struct hfs_node *n, void *payload)
{
	(void)n;
	(*(int *)payload)++;
	return 0;
}

/* Every API path once; stops at the first failure. */
static int torture_steps(hfs_db *db, json_t *d, hf_error *err)
{
	struct hfs_branch_input in = HFS_BRANCH_INPUT_INIT;
	char a[HFS_UUID_LEN + 1], b[HFS_UUID_LEN + 1];
	struct hfs_edge e = { "a__b", a, "bs", b, d, NULL };
	struct hfs_db_side rel = { b, "as", "a__b" };
	json_t *out = NULL;
	int rc, n = 0;

	in.name = "torture";
	rc = hfs_db_node_create(db, "main", "A", NULL, d, a, err);
	if (rc == 0)
		rc = hfs_db_node_create(db, "main", "B", NULL, d, b, err);
	if (rc == 0)
		rc = hfs_db_edge_add(db, "main", &e, err);
	if (rc == 0)
		rc = hfs_db_branch_create(db, &in, &out, err);
	json_decref(out);
	out = NULL;
	if (rc == 0)
		rc = hfs_db_node_update(db, "torture", a,
		                        json_object_get(d, "x"), err);
	if (rc == 0)
		rc = hfs_db_node_create(db, "torture", "A", NULL, d, NULL, err);
	if (rc == 0)
		rc = hfs_db_node_delete(db, "torture", b, err);
	if (rc == 0)
		rc = hfs_db_node_list(db, "torture", NULL, count_node, &n, err);
	if (rc == 0)
		rc = hfs_db_peers(db, "main", &rel, count_edge, &n, err);
	if (rc == 0)
		rc = hfs_db_branch_validate(db, "torture", &out, err);
	json_decref(out);
	out = NULL;
	if (rc == 0)
		rc = hfs_db_branch_merge(db, "torture", err);
	if (rc == 0)
		rc = hfs_db_dump(db, "main", &out, err);
	json_decref(out);
	if (rc == 0)
		rc = hfs_db_branch_list(db, &out, err);
	json_decref(out);
	if (rc == 0)
		rc = hfs_db_branch_delete(db, "torture", err);
	return rc;
}

static void test_srv_db__torture_allocation_failures(void **state)
{
	hf_error err = HF_ERROR_INIT;
	json_t *d;
	int rc;

	(void)state;
	d = json_pack("{s:{s:s}, s:{s:i}}", "x", "value", "v", "y", "value", 1);
	for (fail_at = 1;; fail_at++) {
		hfs_db *db = NULL;

		nallocs = 0;
		hf_alloc_set(&failing);
		rc = hfs_db_open(&db, ":memory:", &err);
		if (rc == 0)
			rc = torture_steps(db, d, &err);
		hf_alloc_set(NULL);
		hfs_db_close(db);
		if (nallocs < fail_at) {
			assert_int_equal(rc, 0);
			break;
		}
	}
	printf("# torture: %ld allocation sites failed in turn\n", fail_at - 1);
	json_decref(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_srv_db__uuid_format_and_order),
		cmocka_unit_test(test_srv_db__persists_across_reopen),
		cmocka_unit_test(test_srv_db__meta),
		cmocka_unit_test(test_srv_db__node_crud_on_main),
		cmocka_unit_test(test_srv_db__list_callback_stops),
		cmocka_unit_test(test_srv_db__edges_both_directions),
		cmocka_unit_test(test_srv_db__edges_bulk_read),
		cmocka_unit_test(test_srv_db__branch_names),
		cmocka_unit_test(test_srv_db__branch_create_get_list),
		cmocka_unit_test(test_srv_db__branch_isolation),
		cmocka_unit_test(test_srv_db__branch_delete_discards),
		cmocka_unit_test(test_srv_db__merge_applies),
		cmocka_unit_test(test_srv_db__merge_conflict_changes_nothing),
		cmocka_unit_test(test_srv_db__merge_conflict_delete_vs_change),
		cmocka_unit_test(test_srv_db__rebase),
		cmocka_unit_test(test_srv_db__savepoints),
		cmocka_unit_test(test_srv_db__bulk_10k),
		cmocka_unit_test(test_srv_db__torture_allocation_failures),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
