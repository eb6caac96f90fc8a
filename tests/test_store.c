/* Plan store: save, load (id, prefix, latest), list, atomic transitions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hf/alloc.h"
#include "hf/model.h"
#include "hf/store.h"
#include "testutil.h"

static hf_plan *make_plan(const char *name)
{
	struct hf_change c;
	hf_plan *p;

	assert_int_equal(hf_plan_new(&p, "http://127.0.0.1:1", "main", NULL),
	                 0);
	memset(&c, 0, sizeof(c));
	c.action = HF_ACT_CREATE;
	c.kind = hf_strdup("NetSite");
	c.hfid = json_pack("[s]", name);
	c.after = json_pack("{s:s}", "name", name);
	assert_int_equal(hf_plan_add(p, &c, NULL), 0);
	assert_int_equal(hf_plan_finish(p, NULL), 0);
	return p;
}

static hf_store *open_store(const char *name)
{
	char path[600];
	hf_store *st;

	snprintf(path, sizeof(path), "%s/plans.db", hf_test_tmpdir(name));
	assert_int_equal(hf_store_open(&st, path, NULL), 0);
	return st;
}

static int count_rows(const struct hf_plan_row *r, void *payload)
{
	(void)r;
	(*(int *)payload)++;
	return 0;
}

static void test_store__save_load_list(void **state)
{
	hf_store *st = open_store("store1");
	hf_error err = HF_ERROR_INIT;
	hf_plan *a = make_plan("a"), *b = make_plan("b"), *got;
	char prefix[5];
	int n = 0;

	(void)state;
	assert_int_equal(hf_store_save(st, a, &err), 0);
	assert_int_equal(hf_store_save(st, b, &err), 0);
	assert_int_equal(hf_store_save(st, b, &err), HF_EINVAL);
	assert_int_equal(hf_store_load(st, "latest", &got, &err), 0);
	assert_string_equal(hf_plan_meta(got)->id, hf_plan_meta(b)->id);
	assert_string_equal(hf_plan_at(got, 0)->id, hf_plan_at(b, 0)->id);
	hf_plan_free(got);
	memcpy(prefix, hf_plan_meta(a)->id, 4);
	prefix[4] = '\0';
	assert_int_equal(hf_store_load(st, prefix, &got, &err), 0);
	assert_string_equal(hf_plan_meta(got)->id, hf_plan_meta(a)->id);
	hf_plan_free(got);
	assert_int_equal(hf_store_load(st, "zzzzzzzz", &got, &err),
	                 HF_ENOTFOUND);
	assert_int_equal(hf_store_list(st, count_rows, &n, &err), 0);
	assert_int_equal(n, 2);
	hf_plan_free(a);
	hf_plan_free(b);
	hf_store_close(st);
}

/*
 * The store writes changes in the order of its key (by change id), not
 * the plan's: what it loads is still the plan, change for change in the
 * plan's order.
 */
static void test_store__saved_plan_keeps_its_order(void **state)
{
	hf_store *st = open_store("store_order");
	hf_error err = HF_ERROR_INIT;
	struct hf_change c;
	hf_plan *p, *got;
	json_t *a, *b;
	char name[32], *t;
	int i;

	(void)state;
	assert_int_equal(hf_plan_new(&p, "http://127.0.0.1:1", "main", NULL),
	                 0);
	for (i = 0; i < 300; i++) {
		memset(&c, 0, sizeof(c));
		snprintf(name, sizeof(name), "site-%03d", i);
		c.action = i % 3 ? HF_ACT_CREATE : HF_ACT_NOOP;
		c.kind = hf_strdup("NetSite");
		c.hfid = json_pack("[s]", name);
		c.after = json_pack("{s:s, s:i}", "name", name, "n", i);
		if (i % 3 == 1) {
			c.src_file = hf_name("sites.yml");
			c.src_line = i + 1;
		} else if (i % 3 == 2) {
			c.sources = json_pack("[{s:s, s:i}, {s:s, s:i}]",
			                      "file", "a.yml", "line", i,
			                      "file", "b.yml", "line", 1);
		}
		if (c.action == HF_ACT_NOOP) {
			/* as the diff makes them: text, no trees */
			t = json_dumps(c.after, JSON_COMPACT | JSON_SORT_KEYS);
			c.text = hf_strdup(t);
			free(t);
			json_decref(c.after);
			c.after = NULL;
			c.node_id = hf_strdup(name);
			memset(c.fingerprint, 'a', 64);
		}
		assert_int_equal(hf_plan_add(p, &c, NULL), 0);
	}
	assert_int_equal(hf_plan_finish(p, NULL), 0);
	/* ids are hashes: the plan's order is not the key's */
	for (i = 1; i < 300; i++)
		if (strcmp(hf_plan_at(p, (size_t)i - 1)->id,
		           hf_plan_at(p, (size_t)i)->id) > 0)
			break;
	assert_true(i < 300);
	assert_int_equal(hf_store_save(st, p, &err), 0);
	assert_int_equal(hf_store_load(st, hf_plan_meta(p)->id, &got, &err), 0);
	a = hf_plan_to_json(p);
	b = hf_plan_to_json(got);
	assert_true(json_equal(a, b));
	/* a no-op's text is both before and after: read back as that text */
	assert_non_null(hf_plan_at(p, 0)->text);
	assert_string_equal(hf_plan_at(got, 0)->text, hf_plan_at(p, 0)->text);
	assert_null(hf_plan_at(got, 0)->before);
	assert_int_equal(hf_change_expand(hf_plan_at(got, 0)), 0);
	assert_int_equal(json_integer_value(json_object_get(
	                         hf_plan_at(got, 0)->before, "n")),
	                 0);
	assert_true(json_equal(hf_plan_at(got, 0)->before,
	                       hf_plan_at(got, 0)->after));
	/* one declaration comes back as file and line, more as the array */
	assert_string_equal(hf_plan_at(got, 1)->src_file, "sites.yml");
	assert_int_equal(hf_plan_at(got, 1)->src_line, 2);
	assert_null(hf_plan_at(got, 1)->sources);
	assert_int_equal(json_array_size(hf_plan_at(got, 2)->sources), 2);
	for (i = 0; i < 300; i++)
		assert_string_equal(hf_plan_at(got, (size_t)i)->id,
		                    hf_plan_at(p, (size_t)i)->id);
	json_decref(a);
	json_decref(b);
	hf_plan_free(p);
	hf_plan_free(got);
	hf_store_close(st);
}

static int sql_count(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s = NULL;
	int n = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

static void sql_exec(const char *path, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/*
 * Stores keep no index by seq (saving would insert into it at random):
 * one made before loses it when opened for writing, and its plans load
 * in their order all the same. A row that no longer reads is an error
 * naming the store, not a change silently left out.
 */
static void test_store__no_index_by_seq(void **state)
{
	char path[700];
	hf_store *st;
	hf_plan *p = make_plan("a"), *got = NULL;
	hf_error err = HF_ERROR_INIT;

	(void)state;
	snprintf(path, sizeof(path), "%s/plans.db",
	         hf_test_tmpdir("store_seq"));
	assert_int_equal(hf_store_open(&st, path, NULL), 0);
	assert_int_equal(hf_store_save(st, p, NULL), 0);
	hf_store_close(st);
	sql_exec(path, "CREATE INDEX changes_by_seq ON changes (plan_id, seq)");
	/* read-only: nothing written, the index stays */
	assert_int_equal(hf_store_open_mode(&st, path, HF_STORE_READONLY, NULL),
	                 0);
	assert_int_equal(hf_store_load(st, hf_plan_meta(p)->id, &got, NULL), 0);
	assert_int_equal(hf_plan_count(got), 1);
	hf_plan_free(got);
	hf_store_close(st);
	assert_int_equal(sql_count(path, "SELECT count(*) FROM sqlite_master"
	                                 " WHERE name = 'changes_by_seq'"),
	                 1);
	assert_int_equal(hf_store_open(&st, path, NULL), 0);
	hf_store_close(st);
	assert_int_equal(sql_count(path, "SELECT count(*) FROM sqlite_master"
	                                 " WHERE name = 'changes_by_seq'"),
	                 0);
	sql_exec(path, "UPDATE changes SET hfid = '[' WHERE seq = 0");
	assert_int_equal(hf_store_open(&st, path, NULL), 0);
	assert_int_equal(hf_store_load(st, hf_plan_meta(p)->id, &got, &err),
	                 HF_EINVAL);
	assert_null(got);
	assert_non_null(strstr(err.msg, "change 0 of the plan is malformed"));
	assert_non_null(strstr(err.msg, path));
	/* a row that reads but is not the change it says: named the same */
	sql_exec(path, "UPDATE changes SET hfid = '[\"a\"]',"
	               " id = '0123456789abcdef' WHERE seq = 0");
	assert_int_equal(hf_store_load(st, hf_plan_meta(p)->id, &got, &err),
	                 HF_EINVAL);
	assert_non_null(strstr(err.msg, "plan change 0 has a wrong id"));
	assert_non_null(strstr(err.msg, path));
	hf_store_close(st);
	hf_plan_free(p);
}

/* A no-op of NetSite ["ams"] (node n1), its fields not set yet. */
static void noop_ams(struct hf_change *c, char fp)
{
	memset(c, 0, sizeof(*c));
	c->action = HF_ACT_NOOP;
	c->kind = hf_strdup("NetSite");
	c->hfid = json_pack("[s]", "ams");
	c->node_id = hf_strdup("n1");
	memset(c->fingerprint, fp, 64);
}

/*
 * A no-op stored from trees (a plan read back and saved again, or an
 * older hubform) has its fields' text in the tree's key order, not the
 * diff's canonical one: it still loads and its checksum holds (read as
 * trees when read as text it would not). A changed text fails it.
 */
static void test_store__noop_text_not_canonical(void **state)
{
	char path[700], sql[200];
	hf_store *st;
	hf_plan *p, *got = NULL;
	hf_error err = HF_ERROR_INIT;
	struct hf_change c;

	(void)state;
	assert_int_equal(hf_plan_new(&p, "http://127.0.0.1:1", "main", NULL),
	                 0);
	noop_ams(&c, 'b');
	/* one tree for both sides, keys not in sorted order */
	c.after = json_object();
	json_object_set_new(c.after, "z", json_string("last"));
	json_object_set_new(c.after, "a", json_string("first"));
	c.before = json_incref(c.after);
	c.changed = json_array();
	c.deps = json_array();
	assert_int_equal(hf_plan_add(p, &c, NULL), 0);
	assert_int_equal(hf_plan_finish(p, NULL), 0);
	snprintf(path, sizeof(path), "%s/plans.db",
	         hf_test_tmpdir("store_noop_text"));
	assert_int_equal(hf_store_open(&st, path, NULL), 0);
	assert_int_equal(hf_store_save(st, p, NULL), 0);
	assert_int_equal(sql_count(path, "SELECT count(*) FROM changes WHERE"
	                                 " before = after AND before LIKE"
	                                 " '{\"z\"%'"),
	                 1);
	assert_int_equal(hf_store_load(st, hf_plan_meta(p)->id, &got, &err), 0);
	assert_string_equal(json_string_value(json_object_get(
	                            hf_plan_at(got, 0)->after, "a")),
	                    "first");
	hf_plan_free(got);
	hf_store_close(st);
	snprintf(sql, sizeof(sql),
	         "UPDATE changes SET before = '{\"a\":\"x\"}',"
	         " after = '{\"a\":\"x\"}'");
	sql_exec(path, sql);
	assert_int_equal(hf_store_open(&st, path, NULL), 0);
	got = NULL;
	assert_int_equal(hf_store_load(st, hf_plan_meta(p)->id, &got, &err),
	                 HF_EINVAL);
	assert_null(got);
	assert_non_null(strstr(err.msg, "fails its checksum"));
	hf_store_close(st);
	hf_plan_free(p);
}

/*
 * The insert of a plan's rows is prepared without the table's CHECKs
 * (they cost two temporary B-trees a row): the rows are checked before
 * anything is written, and the connection checks again afterwards.
 */
static void test_store__rows_checked_before_written(void **state)
{
	hf_store *st = open_store("store_checks");
	hf_error err = HF_ERROR_INIT;
	hf_plan *p = make_plan("a"), *ok = make_plan("b"), *got;
	int n = 0;

	(void)state;
	hf_plan_at(p, 0)->action = (enum hf_action)42;
	assert_int_equal(hf_store_save(st, p, &err), HF_EINVAL);
	assert_non_null(strstr(err.msg, hf_plan_at(p, 0)->id));
	assert_int_equal(hf_store_list(st, count_rows, &n, &err), 0);
	assert_int_equal(n, 0);
	hf_plan_at(p, 0)->action = HF_ACT_CREATE;
	hf_plan_at(p, 0)->status = (enum hf_change_status)9;
	assert_int_equal(hf_store_save(st, p, &err), HF_EINVAL);
	/* a good plan saves; the CHECKs hold again for what follows */
	assert_int_equal(hf_store_save(st, ok, &err), 0);
	hf_plan_at(ok, 0)->status = (enum hf_change_status)9;
	assert_true(hf_store_update_change(st, hf_plan_meta(ok)->id,
	                                   hf_plan_at(ok, 0), &err) < 0);
	/* apply's outcomes: the same, checked first, nothing written */
	assert_int_equal(hf_store_update_changes(st, ok, &err), HF_EINVAL);
	hf_plan_at(ok, 0)->status = HF_CH_APPLIED;
	assert_int_equal(hf_store_update_changes(st, ok, &err), 0);
	hf_plan_at(ok, 0)->status = (enum hf_change_status)9;
	assert_true(hf_store_update_change(st, hf_plan_meta(ok)->id,
	                                   hf_plan_at(ok, 0), &err) < 0);
	hf_plan_at(ok, 0)->status = HF_CH_PENDING;
	assert_int_equal(hf_store_update_changes(st, ok, &err), 0);
	/* a plan file's id may be shorter than hubform's own: rows follow */
	snprintf(hf_plan_meta(p)->id, sizeof(hf_plan_meta(p)->id), "abcdef");
	hf_plan_at(p, 0)->status = HF_CH_PENDING;
	assert_int_equal(hf_store_save(st, p, &err), 0);
	assert_int_equal(hf_store_load(st, "abcdef", &got, &err), 0);
	assert_int_equal(hf_plan_count(got), 1);
	hf_plan_free(got);
	assert_int_equal(hf_store_load(st, hf_plan_meta(ok)->id, &got, &err),
	                 0);
	assert_int_equal(hf_plan_at(got, 0)->status, HF_CH_PENDING);
	hf_plan_free(got);
	hf_plan_free(p);
	hf_plan_free(ok);
	hf_store_close(st);
}

static void test_store__transition_is_atomic(void **state)
{
	hf_store *st = open_store("store2");
	hf_error err = HF_ERROR_INIT;
	hf_plan *a = make_plan("a");
	const char *id = hf_plan_meta(a)->id;

	(void)state;
	assert_int_equal(hf_store_save(st, a, &err), 0);
	assert_int_equal(
	        hf_store_transition(st, id, "planned", "applying", &err), 0);
	assert_int_equal(
	        hf_store_transition(st, id, "planned", "applying", &err),
	        HF_ECONFLICT);
	assert_non_null(strstr(err.msg, "is applying"));
	assert_int_equal(
	        hf_store_transition(st, "nope", "planned", "applying", &err),
	        HF_ENOTFOUND);
	{
		char other[HF_PLAN_ID_LEN + 1];
		hf_plan *b = make_plan("b");

		assert_int_equal(hf_store_save(st, b, &err), 0);
		/* a's apply is under way: b, same target, must see it */
		assert_int_equal(
		        hf_store_find_applying(st, "http://127.0.0.1:1", "main",
		                               hf_plan_meta(b)->id, other),
		        1);
		assert_string_equal(other, id);
		assert_int_equal(
		        hf_store_find_applying(st, "http://127.0.0.1:1", "dev",
		                               hf_plan_meta(b)->id, other),
		        0);
		hf_plan_free(b);
	}
	hf_plan_free(a);
	hf_store_close(st);
}

static void test_store__change_outcomes_recorded(void **state)
{
	hf_store *st = open_store("store3");
	hf_plan *a = make_plan("a"), *got;
	struct hf_change *c = hf_plan_at(a, 0);

	(void)state;
	assert_int_equal(hf_store_save(st, a, NULL), 0);
	c->status = HF_CH_FAILED;
	c->error = hf_strdup("An object already exist with this value");
	c->started = 1.5;
	c->finished = 2.5;
	assert_int_equal(
	        hf_store_update_change(st, hf_plan_meta(a)->id, c, NULL), 0);
	assert_int_equal(hf_store_set_apply(st, hf_plan_meta(a)->id,
	                                    "hubform-x", NULL, NULL, 7, NULL,
	                                    NULL),
	                 0);
	assert_int_equal(hf_store_load(st, "latest", &got, NULL), 0);
	assert_int_equal(hf_plan_at(got, 0)->status, HF_CH_FAILED);
	assert_string_equal(hf_plan_at(got, 0)->error,
	                    "An object already exist with this value");
	hf_plan_free(got);
	hf_plan_free(a);
	hf_store_close(st);
}

static void test_store__not_a_store(void **state)
{
	char path[600];
	hf_error err = HF_ERROR_INIT;
	hf_store *st;

	(void)state;
	snprintf(path, sizeof(path), "%s/garbage.db", hf_test_tmpdir("store4"));
	assert_int_equal(
	        hf_write_file(path, "this is not sqlite at all, just text"), 0);
	assert_int_equal(hf_store_open(&st, path, &err), HF_EINVAL);
	assert_null(st);
	assert_non_null(strstr(err.msg, "garbage.db"));
}

/* "Is this a plan file?" is answered by content, never by name. */
static void test_store__plan_file_by_content(void **state)
{
	char dirp[600], a[700], b[700], c[700];
	hf_store *st;
	hf_plan *p = make_plan("a"), *got;
	hf_error err = HF_ERROR_INIT;

	(void)state;
	snprintf(dirp, sizeof(dirp), "%s", hf_test_tmpdir("store5"));
	snprintf(a, sizeof(a), "%s/p.hfplan", dirp);
	snprintf(b, sizeof(b), "%s/objects.db", dirp);
	snprintf(c, sizeof(c), "%s/missing.db", dirp);
	assert_int_equal(hf_store_open(&st, a, NULL), 0);
	assert_int_equal(hf_store_save(st, p, NULL), 0);
	hf_store_close(st);
	assert_int_equal(hf_write_file(b, "apiVersion: infrahub.app/v1\n"), 0);
	assert_true(hf_store_is_plan_file(a));
	{
		struct stat sb;

		/* plans hold passwords they will write: owner only */
		assert_int_equal(stat(a, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0600);
	}
	assert_false(hf_store_is_plan_file(b));
	assert_false(hf_store_is_plan_file(c));
	assert_false(hf_store_is_plan_file(dirp));
	/* read-only and existing-only opens never create the file */
	assert_int_equal(hf_store_open_mode(&st, c, HF_STORE_READONLY, &err),
	                 HF_ENOTFOUND);
	assert_int_equal(hf_store_open_mode(&st, c, HF_STORE_EXISTING, &err),
	                 HF_ENOTFOUND);
	assert_int_not_equal(access(c, F_OK), 0);
	assert_int_equal(hf_store_open_mode(&st, b, HF_STORE_READONLY, &err),
	                 HF_EINVAL);
	assert_int_equal(hf_store_open_mode(&st, a, HF_STORE_READONLY, &err),
	                 0);
	assert_int_equal(hf_store_load(st, "latest", &got, &err), 0);
	assert_string_equal(hf_plan_meta(got)->id, hf_plan_meta(p)->id);
	/* and cannot write */
	assert_int_not_equal(hf_store_transition(st, hf_plan_meta(p)->id,
	                                         "planned", "applying", &err),
	                     0);
	hf_plan_free(got);
	hf_store_close(st);
	hf_plan_free(p);
}

/* latest for a target: never a plan of another address or branch. */
static void test_store__latest_for_target(void **state)
{
	hf_store *st = open_store("store6");
	hf_plan *a = make_plan("a"), *b = make_plan("b"), *c = make_plan("c");
	char id[HF_PLAN_ID_LEN + 1];
	hf_error err = HF_ERROR_INIT;

	(void)state;
	hf_free(hf_plan_meta(b)->address);
	hf_plan_meta(b)->address = hf_strdup("local:/x/.hubform/local.db");
	hf_plan_meta(a)->branch_is_default = 1;
	hf_free(hf_plan_meta(c)->branch);
	hf_plan_meta(c)->branch = hf_strdup("dev");
	assert_int_equal(hf_plan_finish(b, NULL), 0);
	assert_int_equal(hf_plan_finish(c, NULL), 0);
	assert_int_equal(hf_store_save(st, a, NULL), 0);
	assert_int_equal(hf_store_save(st, b, NULL), 0);
	assert_int_equal(hf_store_save(st, c, NULL), 0);
	assert_int_equal(
	        hf_store_latest_for(st, "http://127.0.0.1:1", NULL, id, &err),
	        0);
	assert_string_equal(id, hf_plan_meta(a)->id);
	assert_int_equal(
	        hf_store_latest_for(st, "http://127.0.0.1:1", "dev", id, &err),
	        0);
	assert_string_equal(id, hf_plan_meta(c)->id);
	assert_int_equal(hf_store_latest_for(st, "local:/x/.hubform/local.db",
	                                     "main", id, &err),
	                 0);
	assert_string_equal(id, hf_plan_meta(b)->id);
	assert_int_equal(
	        hf_store_latest_for(st, "http://other", NULL, id, &err),
	        HF_ENOTFOUND);
	hf_plan_free(a);
	hf_plan_free(b);
	hf_plan_free(c);
	hf_store_close(st);
}

/* A store written before plans knew their default branch is upgraded. */
static void test_store__old_store_upgraded(void **state)
{
	char path[700];
	sqlite3 *db;
	hf_store *st;
	hf_plan *got = NULL, *p = make_plan("a");
	char id[HF_PLAN_ID_LEN + 1];

	(void)state;
	snprintf(path, sizeof(path), "%s/old.db", hf_test_tmpdir("store7"));
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	        sqlite3_exec(
	                db,
	                "CREATE TABLE plans (id TEXT PRIMARY KEY, created_at TEXT NOT NULL,"
	                " address TEXT NOT NULL, branch TEXT NOT NULL, schema_hash TEXT NOT NULL,"
	                " manifest_digest TEXT NOT NULL, checksum TEXT NOT NULL, status TEXT NOT NULL,"
	                " n_create INTEGER NOT NULL, n_update INTEGER NOT NULL, n_noop INTEGER NOT NULL,"
	                " waves INTEGER NOT NULL, apply_branch TEXT, apply_started_at TEXT,"
	                " apply_finished_at TEXT, requests_sent INTEGER, error TEXT);"
	                "CREATE TABLE changes (plan_id TEXT NOT NULL, seq INTEGER NOT NULL,"
	                " id TEXT NOT NULL, action TEXT NOT NULL, kind TEXT NOT NULL, hfid TEXT NOT NULL,"
	                " node_id TEXT, before TEXT, after TEXT, changed TEXT NOT NULL, deps TEXT NOT NULL,"
	                " wave INTEGER NOT NULL, fingerprint TEXT NOT NULL, status TEXT NOT NULL DEFAULT"
	                " 'pending', error TEXT, started_at REAL, finished_at REAL,"
	                " PRIMARY KEY (plan_id, id));",
	                NULL, NULL, NULL),
	        SQLITE_OK);
	sqlite3_close(db);
	/* read-only: usable as it is, nothing written */
	assert_int_equal(hf_store_open_mode(&st, path, HF_STORE_READONLY, NULL),
	                 0);
	hf_store_close(st);
	assert_int_equal(hf_store_open(&st, path, NULL), 0);
	assert_int_equal(hf_store_save(st, p, NULL), 0);
	assert_int_equal(
	        hf_store_latest_for(st, "http://127.0.0.1:1", "main", id, NULL),
	        0);
	assert_int_equal(hf_store_load(st, id, &got, NULL), 0);
	hf_plan_free(got);
	hf_store_close(st);
	hf_plan_free(p);
}

/* The plan `id` in the store at `path` fails to load, saying `needle`. */
static void expect_load_fails(const char *path, const char *id,
                              const char *needle)
{
	hf_store *st;
	hf_plan *got = NULL;
	hf_error err = HF_ERROR_INIT;

	assert_int_equal(hf_store_open(&st, path, NULL), 0);
	assert_int_equal(hf_store_load(st, id, &got, &err), HF_EINVAL);
	assert_null(got);
	if (!strstr(err.msg, needle))
		fail_msg("'%s' does not say '%s'", err.msg, needle);
	assert_non_null(strstr(err.msg, path));
	hf_store_close(st);
}

/* A no-op as the diff makes it: its fields as one canonical text. */
static void add_noop(hf_plan *p, const char *name, const char *node_id,
                     int adopt)
{
	struct hf_change c;
	char text[200];

	memset(&c, 0, sizeof(c));
	c.action = HF_ACT_NOOP;
	c.kind = hf_strdup("NetDevice");
	c.hfid = json_pack("[s]", name);
	c.node_id = hf_strdup(node_id);
	memset(c.fingerprint, 'f', 64);
	snprintf(text, sizeof(text), "{\"name\":\"%s\",\"note\":\"a\\\"b\"}",
	         name);
	c.text = hf_strdup(text);
	c.adopt = adopt;
	c.src_file = hf_name("objects/devices.yml");
	c.src_line = 7;
	assert_int_equal(hf_plan_add(p, &c, NULL), 0);
}

/*
 * Unchanged objects apply leaves alone are saved many to a row of the
 * unchanged table, not a row each of changes; they load back as they
 * were, in the plan's order, and the view all_changes shows every change
 * as a row. No-ops apply records something of (adopting) stay rows.
 */
static void test_store__unchanged_in_parts(void **state)
{
	char path[700], name[32];
	hf_store *st;
	hf_plan *p, *got = NULL;
	hf_error err = HF_ERROR_INIT;
	json_t *a, *b;
	int i;

	(void)state;
	assert_int_equal(hf_plan_new(&p, "http://127.0.0.1:1", "main", NULL),
	                 0);
	for (i = 0; i < 2500; i++) {
		snprintf(name, sizeof(name), "dev%04d", i);
		/* a node id with characters a JSON string escapes */
		add_noop(p, name, i == 3 ? "n\"3\\x" : "n", i == 7);
	}
	{
		struct hf_change c;

		memset(&c, 0, sizeof(c));
		c.action = HF_ACT_CREATE;
		c.kind = hf_strdup("NetSite");
		c.hfid = json_pack("[s]", "ams");
		c.after = json_pack("{s:s}", "name", "ams");
		assert_int_equal(hf_plan_add(p, &c, NULL), 0);
	}
	assert_int_equal(hf_plan_finish(p, NULL), 0);
	snprintf(path, sizeof(path), "%s/plans.db",
	         hf_test_tmpdir("store_parts"));
	assert_int_equal(hf_store_open(&st, path, NULL), 0);
	assert_int_equal(hf_store_save(st, p, &err), 0);
	/* the create and the adopting no-op are rows; 2499 no-ops in parts */
	assert_int_equal(sql_count(path, "SELECT count(*) FROM changes"), 2);
	assert_int_equal(sql_count(path, "SELECT count(*) FROM unchanged"), 3);
	assert_int_equal(sql_count(path, "SELECT count(*) FROM all_changes"),
	                 2501);
	assert_int_equal(sql_count(path, "SELECT count(*) FROM all_changes"
	                                 " WHERE action = 'no-op' AND"
	                                 " before = after AND changed = '[]'"
	                                 " AND status = 'pending' AND"
	                                 " hfid LIKE '[\"dev%'"
	                                 " AND sources LIKE '%devices.yml%'"),
	                 2500);
	assert_int_equal(sql_count(path, "SELECT seq FROM all_changes WHERE"
	                                 " node_id = 'n\"3\\x'"),
	                 3);
	assert_int_equal(hf_store_load(st, hf_plan_meta(p)->id, &got, &err), 0);
	a = hf_plan_to_json(p);
	b = hf_plan_to_json(got);
	assert_true(json_equal(a, b));
	assert_string_equal(hf_plan_at(got, 3)->node_id, "n\"3\\x");
	assert_string_equal(hf_plan_at(got, 2499)->src_file,
	                    "objects/devices.yml");
	json_decref(b);
	hf_plan_free(got);
	got = NULL;
	hf_store_close(st);
	/* the same from a store opened read-only (show, a plan file) */
	assert_int_equal(hf_store_open_mode(&st, path, HF_STORE_READONLY, &err),
	                 0);
	assert_int_equal(hf_store_load(st, hf_plan_meta(p)->id, &got, &err), 0);
	b = hf_plan_to_json(got);
	assert_true(json_equal(a, b));
	assert_true(hf_plan_at(got, 7)->adopt);
	json_decref(a);
	json_decref(b);
	hf_plan_free(got);
	got = NULL;
	hf_store_close(st);
	/* a part that no longer reads: named, nothing loaded */
	sql_exec(path, "UPDATE unchanged SET changes ="
	               " replace(changes, '\"],\"n\",', '\"];\"n\",')"
	               " WHERE part = 1");
	expect_load_fails(path, hf_plan_meta(p)->id,
	                  "part 1 of the plan's unchanged objects is "
	                  "malformed");
	/* one that reads but says another value: the checksum */
	sql_exec(path, "UPDATE unchanged SET changes ="
	               " replace(changes, '\"];\"n\",', '\"],\"n\",')"
	               " WHERE part = 1;"
	               "UPDATE unchanged SET changes = replace(changes,"
	               " 'dev2400\",\"note', 'dev2401\",\"note')");
	expect_load_fails(path, hf_plan_meta(p)->id, "fails its checksum");
	hf_plan_free(p);
}

/*
 * Every cut and every byte of a part replaced by a character that means
 * something to JSON: each loads as the plan or fails as malformed (or its
 * checksum), never reads past the text (ASan in CI).
 */
static void test_store__damaged_parts(void **state)
{
	static const char marks[] = "\"\\],[{}\n0";
	char path[700];
	hf_store *st;
	hf_plan *p, *got;
	sqlite3 *db;
	sqlite3_stmt *s = NULL, *set = NULL;
	char *orig, *text;
	size_t n, i, k;
	int rc;

	(void)state;
	assert_int_equal(hf_plan_new(&p, "http://127.0.0.1:1", "main", NULL),
	                 0);
	add_noop(p, "a1", "n\\1", 0);
	add_noop(p, "a2", "n2", 0);
	assert_int_equal(hf_plan_finish(p, NULL), 0);
	snprintf(path, sizeof(path), "%s/plans.db",
	         hf_test_tmpdir("store_damaged"));
	assert_int_equal(hf_store_open(&st, path, NULL), 0);
	assert_int_equal(hf_store_save(st, p, NULL), 0);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_exec(db, "PRAGMA synchronous = OFF", NULL, NULL, NULL);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT changes FROM unchanged",
	                                    -1, &s, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	orig = hf_strdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	n = strlen(orig);
	text = hf_calloc(1, n + 1);
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "UPDATE unchanged SET changes = ?",
	                                    -1, &set, NULL),
	                 SQLITE_OK);
	for (i = 0; i <= n; i++) {
		for (k = 0; k < sizeof(marks); k++) {
			memcpy(text, orig, n + 1);
			if (k == sizeof(marks) - 1)
				text[i] = '\0'; /* cut */
			else if (i < n)
				text[i] = marks[k];
			else
				continue;
			sqlite3_reset(set);
			sqlite3_bind_text(set, 1, text, -1, SQLITE_STATIC);
			assert_int_equal(sqlite3_step(set), SQLITE_DONE);
			got = NULL;
			rc = hf_store_load(st, hf_plan_meta(p)->id, &got, NULL);
			assert_true(rc == 0 || rc == HF_EINVAL);
			assert_true(rc == 0 ? got != NULL : got == NULL);
			hf_plan_free(got);
		}
	}
	sqlite3_finalize(set);
	sqlite3_close(db);
	hf_free(text);
	hf_free(orig);
	hf_store_close(st);
	hf_plan_free(p);
}

/*
 * A plan finished without its checksum (computed beside the save, as
 * `plan` does) has a random id and no checksum: the store refuses it
 * whole, and takes it in two steps once the checksum is set before the
 * commit; it loads back with its checksum verified. A commit without
 * the checksum leaves nothing behind.
 */
static void test_store__checksum_after_the_rows(void **state)
{
	char path[700], sum[65];
	hf_store *st;
	hf_plan *p, *q, *got = NULL;
	hf_error err = HF_ERROR_INIT;
	const char *id;
	size_t i;

	(void)state;
	assert_int_equal(hf_plan_new(&p, "http://127.0.0.1:1", "main", NULL),
	                 0);
	assert_int_equal(hf_plan_new(&q, "http://127.0.0.1:1", "main", NULL),
	                 0);
	add_noop(p, "a1", "n1", 0);
	add_noop(q, "a1", "n1", 0);
	assert_int_equal(hf_plan_finish_unsummed(p, NULL), 0);
	assert_int_equal(hf_plan_finish_unsummed(q, NULL), 0);
	id = hf_plan_meta(p)->id;
	assert_int_equal(strlen(id), HF_PLAN_ID_LEN);
	for (i = 0; i < HF_PLAN_ID_LEN; i++)
		assert_non_null(strchr("0123456789abcdef", id[i]));
	assert_string_not_equal(id, hf_plan_meta(q)->id);
	assert_string_equal(hf_plan_meta(p)->checksum, "");
	snprintf(path, sizeof(path), "%s/plans.db",
	         hf_test_tmpdir("store_unsummed"));
	assert_int_equal(hf_store_open(&st, path, NULL), 0);
	assert_int_equal(hf_store_save(st, p, &err), HF_EINVAL);
	assert_non_null(strstr(err.msg, "has no checksum"));
	assert_int_equal(hf_store_save_begin(st, p, &err), 0);
	assert_int_equal(hf_store_save_commit(st, p, &err), HF_EINVAL);
	assert_int_equal(hf_store_has(st, id), 0);
	assert_int_equal(sql_count(path, "SELECT count(*) FROM unchanged"), 0);
	/* the checksum made while the rows are written */
	assert_int_equal(hf_store_save_begin(st, p, &err), 0);
	assert_int_equal(hf_plan_compute_checksum(p, sum), 0);
	hf_plan_set_checksum(p, sum);
	assert_int_equal(hf_store_save_commit(st, p, &err), 0);
	assert_int_equal(hf_store_load(st, id, &got, &err), 0);
	assert_string_equal(hf_plan_meta(got)->id, id);
	assert_string_equal(hf_plan_meta(got)->checksum, sum);
	hf_plan_free(got);
	/* an abort leaves nothing, and the store takes plans after it */
	assert_int_equal(hf_plan_compute_checksum(q, sum), 0);
	hf_plan_set_checksum(q, sum);
	assert_int_equal(hf_store_save_begin(st, q, &err), 0);
	hf_store_save_abort(st);
	assert_int_equal(hf_store_has(st, hf_plan_meta(q)->id), 0);
	assert_int_equal(hf_store_save(st, q, &err), 0);
	assert_int_equal(hf_store_has(st, hf_plan_meta(q)->id), 1);
	hf_store_close(st);
	hf_plan_free(p);
	hf_plan_free(q);
}

/*
 * A no-op's text as a row of an edited plan file may hold it: JSON over
 * two lines stays a row (a part is one line a change) and loads back;
 * text that is not JSON is not taken as a no-op's text at all: the row
 * is malformed, whatever its checksum says.
 */
static void test_store__noop_texts_from_rows(void **state)
{
	char path[700];
	hf_store *st;
	hf_plan *p, *got = NULL;
	hf_error err = HF_ERROR_INIT;
	struct hf_change c;
	json_t *a, *b;

	(void)state;
	assert_int_equal(hf_plan_new(&p, "http://127.0.0.1:1", "main", NULL),
	                 0);
	noop_ams(&c, 'f');
	c.text = hf_strdup("{\"a\":\n1}");
	assert_int_equal(hf_plan_add(p, &c, NULL), 0);
	add_noop(p, "a2", "n2", 0);
	assert_int_equal(hf_plan_finish(p, NULL), 0);
	snprintf(path, sizeof(path), "%s/plans.db",
	         hf_test_tmpdir("store_texts"));
	assert_int_equal(hf_store_open(&st, path, NULL), 0);
	assert_int_equal(hf_store_save(st, p, &err), 0);
	assert_int_equal(sql_count(path, "SELECT count(*) FROM changes"), 1);
	assert_int_equal(sql_count(path, "SELECT count(*) FROM all_changes"),
	                 2);
	assert_int_equal(hf_store_load(st, hf_plan_meta(p)->id, &got, &err), 0);
	a = hf_plan_to_json(p);
	b = hf_plan_to_json(got);
	assert_true(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	hf_plan_free(got);
	got = NULL;
	hf_store_close(st);
	sql_exec(path, "UPDATE changes SET before = '{\"a\" 1}',"
	               " after = '{\"a\" 1}'");
	expect_load_fails(path, hf_plan_meta(p)->id, "is malformed");
	hf_plan_free(p);
}

/*
 * A store a newer hubform wrote (a higher user_version) is refused with
 * the reason, read-only or not, and left as it was.
 */
static void test_store__newer_format_refused(void **state)
{
	char path[700];
	hf_store *st;
	hf_error err = HF_ERROR_INIT;

	(void)state;
	snprintf(path, sizeof(path), "%s/plans.db",
	         hf_test_tmpdir("store_newer"));
	assert_int_equal(hf_store_open(&st, path, NULL), 0);
	hf_store_close(st);
	assert_int_equal(sql_count(path, "PRAGMA user_version"), 4);
	sql_exec(path, "PRAGMA user_version = 5");
	assert_int_equal(hf_store_open(&st, path, &err), HF_EINVAL);
	assert_non_null(strstr(err.msg, "written by a newer hubform"));
	assert_non_null(strstr(err.msg, path));
	assert_int_equal(hf_store_open_mode(&st, path, HF_STORE_READONLY, &err),
	                 HF_EINVAL);
	assert_int_equal(sql_count(path, "PRAGMA user_version"), 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store__save_load_list),
		cmocka_unit_test(test_store__saved_plan_keeps_its_order),
		cmocka_unit_test(test_store__no_index_by_seq),
		cmocka_unit_test(test_store__noop_text_not_canonical),
		cmocka_unit_test(test_store__rows_checked_before_written),
		cmocka_unit_test(test_store__transition_is_atomic),
		cmocka_unit_test(test_store__change_outcomes_recorded),
		cmocka_unit_test(test_store__not_a_store),
		cmocka_unit_test(test_store__plan_file_by_content),
		cmocka_unit_test(test_store__latest_for_target),
		cmocka_unit_test(test_store__old_store_upgraded),
		cmocka_unit_test(test_store__unchanged_in_parts),
		cmocka_unit_test(test_store__damaged_parts),
		cmocka_unit_test(test_store__checksum_after_the_rows),
		cmocka_unit_test(test_store__noop_texts_from_rows),
		cmocka_unit_test(test_store__newer_format_refused),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
