/*
 * Strict answers (issue 13): every reader of a server answer outside the
 * fetch listings (tests/test_fetch.c) fed malformed shapes through the
 * fake transport — wrong JSON types, missing members, null where a value
 * is needed, negative numbers, arrays for objects, duplicates — must fail
 * with an error naming the request, never read them as "nothing there"
 * or a default. Also: a listing with the same node id twice (in one page,
 * or in two pages of one kind) is an error naming the kind.
 */
/* clang-format off: cmocka needs these first, in this order */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_transport.h"
#include "hf/alloc.h"
#include "hf/branch.h"
#include "hf/fetch.h"
#include "hf/lock.h"
#include "hf/manifest.h"
#include "hf/menu.h"
#include "hf/model.h"
#include "hf/schema.h"
#include "hf/schema_io.h"
#include "schemahelp.h"
#include "testutil.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A fake answering every request matching `match` with `json`. */
static hf_fake *fake_with(const char *match, const char *json)
{
	hf_fake *f = hf_fake_new();

	assert_non_null(f);
	assert_int_equal(hf_fake_answer(f, match, -1, json), 0);
	return f;
}

static void assert_has(const char *msg, const char *part, const char *input)
{
	if (!strstr(msg, part))
		fail_msg("answer %s: message '%s' lacks '%s'", input, msg,
		         part);
}

/* ---- fetch: duplicate node ids in a listing ------------------------------ */

static hf_schema *site_schema(void)
{
	static const char text[] =
	        "{\"nodes\": [{\"namespace\": \"Location\", \"name\": \"Site\","
	        " \"human_friendly_id\": [\"name__value\"],"
	        " \"attributes\": [{\"name\": \"name\", \"kind\": \"Text\","
	        " \"unique\": true}]}]}";

	return hf_test_schema_text(text);
}

/* A listing of LocationSite: `count` objects, pages of `pages` (by offset). */
struct listing {
	long count;
	const char *pages[4]; /* the edges of each page, JSON text */
	long page_size;
};

static int listing_handler(void *payload, const struct hf_fake_req *r,
                           json_t **answer, hf_error *err)
{
	const struct listing *l = payload;
	json_t *off = json_object_get(r->variables, "offset");
	long page = json_is_integer(off) ? (long)json_integer_value(off) : 0;
	json_t *edges;

	(void)err;
	if (!strstr(r->query, "edges")) {
		*answer = json_pack("{s:{s:{s:I}}}", "data", "LocationSite",
		                    "count", (json_int_t)l->count);
		return 0;
	}
	page /= l->page_size;
	edges = json_loads(page < (long)N(l->pages) && l->pages[page]
	                           ? l->pages[page]
	                           : "[]",
	                   0, NULL);
	assert_non_null(edges);
	*answer = json_pack("{s:{s:{s:I, s:o}}}", "data", "LocationSite",
	                    "count", (json_int_t)l->count, "edges", edges);
	return 0;
}

#define SITE(id, name)                                                     \
	"{\"node\": {\"id\": \"" id "\", \"hfid\": [\"" name "\"],"        \
	" \"__typename\": \"LocationSite\", \"name\": {\"value\": \"" name \
	"\"}}}"

#define NOHFID(id)                                        \
	"{\"node\": {\"id\": \"" id "\", \"hfid\": null," \
	" \"__typename\": \"LocationSite\"}}"

static struct listing dup_listings[] = {
	/* the same object twice in one page */
	{ 2, { "[" SITE("s-1", "fra") "," SITE("s-1", "fra") "]" }, 10 },
	/* one id claimed by two different objects in one page */
	{ 2, { "[" SITE("s-1", "fra") "," SITE("s-1", "par") "]" }, 10 },
	/* the same id in two pages of one kind */
	{ 2, { "[" SITE("s-1", "fra") "]", "[" SITE("s-1", "par") "]" }, 1 },
	/* ... also for an object without HFID (never a live object) */
	{ 3,
	  { "[" NOHFID("s-9") "]", "[" NOHFID("s-9") "]",
	    "[" SITE("s-1", "par") "]" },
	  1 },
	/* ... and one page listing it twice */
	{ 3,
	  { "[" NOHFID("s-9") "," NOHFID("s-9") "," SITE("s-1", "par") "]" },
	  10 },
};

/*
 * A desired site "par": the listing's second object claims the id of the
 * first. Read silently as one object, "par" looks absent and the plan
 * would create it (or, one object twice, the count would be wrong).
 */
static void test_strict__fetch_duplicate_ids(void **state)
{
	struct hf_fetch_opts o = HF_FETCH_OPTS_INIT;
	hf_schema *s = site_schema();
	hf_objset *want, *have;
	struct hf_object site;
	hf_error err;
	hf_fake *f;
	size_t i;
	int rc;

	(void)state;
	o.lookup_cost = 1e9; /* read pages, never look up */
	for (i = 0; i < N(dup_listings); i++) {
		o.page_size = dup_listings[i].page_size;
		memset(&site, 0, sizeof(site));
		site.kind = hf_name("LocationSite");
		site.hfid = json_pack("[s]", "par");
		site.file = "f.yml";
		site.line = 1;
		site.col = 1;
		assert_int_equal(hf_objset_new(&want), 0);
		assert_int_equal(hf_objset_add(want, &site, NULL), 0);
		f = hf_fake_new();
		assert_non_null(f);
		assert_int_equal(hf_fake_handler(f, NULL, -1, listing_handler,
		                                 &dup_listings[i]),
		                 0);
		hf_error_clear(&err);
		have = NULL;
		rc = hf_fetch(&have, want, s, &o, hf_fake_transport(f), NULL,
		              NULL, NULL, &err);
		if (rc == 0)
			fail_msg("listing %zu with a duplicate id was accepted "
			         "(%zu live objects)",
			         i, hf_objset_count(have));
		assert_int_equal(rc, HF_ESERVER);
		assert_null(have);
		assert_has(err.msg,
		           "malformed answer to the LocationSite listing",
		           dup_listings[i].pages[0]);
		assert_has(err.msg, "twice", dup_listings[i].pages[0]);
		hf_objset_free(want);
		hf_fake_free(f);
	}
	hf_schema_free(s);
}

/* ---- the apply lock's Branch query -------------------------------------- */

#define LOCK_NAME "hubform-lock-main"
#define OURS(desc)                                                \
	"{\"data\": {\"Branch\": [{\"name\": \"" LOCK_NAME "\", " \
	"\"description\": " desc "}]}}"

static const char *const bad_lock_reads[] = {
	"{\"data\": {\"Branch\": {}}}",
	"{\"data\": {\"Branch\": null}}",
	"{\"data\": {}}",
	"{\"data\": {\"Branch\": [5]}}",
	"{\"data\": {\"Branch\": [null]}}",
	"{\"data\": {\"Branch\": [{}]}}",
	"{\"data\": {\"Branch\": [{\"name\": 5}]}}",
	"{\"data\": {\"Branch\": [{\"name\": null}]}}",
	"{\"data\": {\"Branch\": [[\"" LOCK_NAME "\"]]}}",
	"{\"data\": {\"Branch\": [{\"name\": \"" LOCK_NAME "\"}, "
	"{\"name\": \"" LOCK_NAME "\"}]}}",
	OURS("5"),
	OURS("{}"),
};

static void test_strict__lock_read(void **state)
{
	struct hf_lock_info in;
	hf_error err;
	hf_fake *f;
	size_t i;

	(void)state;
	for (i = 0; i < N(bad_lock_reads); i++) {
		f = fake_with("Branch(name", bad_lock_reads[i]);
		hf_error_clear(&err);
		if (hf_lock_read(hf_fake_transport(f), "main", &in, &err) !=
		    HF_ESERVER)
			fail_msg("lock answer %s accepted (held %d)",
			         bad_lock_reads[i], in.held);
		assert_has(err.msg, LOCK_NAME, bad_lock_reads[i]);
		hf_fake_free(f);
	}
}

/*
 * A description that says it is ours but has members of other types
 * (tampered, or written by something else) is foreign, never half read.
 */
static const char *const tampered[] = {
	"\"{\\\"hubform_lock\\\":1,\\\"holder\\\":\\\"u@h:1.a\\\","
	"\\\"pid\\\":\\\"12\\\"}\"",
	"\"{\\\"hubform_lock\\\":1,\\\"holder\\\":\\\"u@h:1.a\\\","
	"\\\"pid\\\":-3}\"",
	"\"{\\\"hubform_lock\\\":1,\\\"holder\\\":\\\"u@h:1.a\\\","
	"\\\"plan\\\":[\\\"p\\\"]}\"",
	"\"{\\\"hubform_lock\\\":1,\\\"holder\\\":\\\"u@h:1.a\\\","
	"\\\"user\\\":7}\"",
	"\"{\\\"hubform_lock\\\":\\\"1\\\",\\\"holder\\\":\\\"u@h:1.a\\\"}\"",
	"\"{\\\"hubform_lock\\\":1,\\\"holder\\\":\\\"u@h:1.a\\\","
	"\\\"holder\\\":\\\"x@y:2.b\\\"}\"",
};

static void test_strict__lock_description(void **state)
{
	char text[512];
	struct hf_lock_info in;
	hf_error err = HF_ERROR_INIT;
	hf_fake *f;
	size_t i;

	(void)state;
	for (i = 0; i < N(tampered); i++) {
		snprintf(text, sizeof(text), OURS("%s"), tampered[i]);
		f = fake_with("Branch(name", text);
		assert_int_equal(
		        hf_lock_read(hf_fake_transport(f), "main", &in, &err),
		        0);
		assert_int_equal(in.held, 1);
		if (!in.foreign)
			fail_msg("description %s read as ours (pid %ld)",
			         tampered[i], in.pid);
		assert_string_equal(in.holder_id, "unknown");
		hf_fake_free(f);
	}
	/* the well-formed one still reads */
	f = fake_with("Branch(name",
	              OURS("\"{\\\"hubform_lock\\\":1,\\\"holder\\\":"
	                   "\\\"u@h:12.ab\\\",\\\"pid\\\":12,\\\"plan\\\":"
	                   "\\\"p-1\\\",\\\"user\\\":\\\"u\\\"}\""));
	assert_int_equal(hf_lock_read(hf_fake_transport(f), "main", &in, &err),
	                 0);
	assert_int_equal(in.foreign, 0);
	assert_string_equal(in.holder_id, "u@h:12.ab");
	assert_int_equal(in.pid, 12);
	assert_string_equal(in.plan_id, "p-1");
	hf_fake_free(f);
}

/* ---- the menu item schema and upserts ----------------------------------- */

static const char *const bad_menu_schemas[] = {
	"[]",
	"null",
	"{}",
	"{\"attributes\": {}}",
	"{\"attributes\": null}",
	"{\"attributes\": [5]}",
	"{\"attributes\": [{\"label\": \"x\"}]}",
	"{\"attributes\": [{\"name\": 5}]}",
	"{\"attributes\": [{\"name\": \"\"}]}",
	"{\"attributes\": [{\"name\": \"a\"}, {\"name\": \"a\"}]}",
	"{\"attributes\": [{\"name\": \"a\", \"optional\": \"no\"}]}",
	"{\"attributes\": [{\"name\": \"a\", \"read_only\": 0}]}",
	"{\"attributes\": [], \"relationships\": {}}",
	"{\"attributes\": [], \"relationships\": [{\"peer\": \"X\"}]}",
};

static void test_strict__menu_schema(void **state)
{
	json_t *out;
	hf_error err;
	hf_fake *f;
	size_t i;

	(void)state;
	for (i = 0; i < N(bad_menu_schemas); i++) {
		f = fake_with("/api/schema/CoreMenuItem", bad_menu_schemas[i]);
		hf_error_clear(&err);
		out = NULL;
		if (hf_menu_schema(hf_fake_transport(f), "main", &out, &err) !=
		    HF_ESERVER)
			fail_msg("menu schema %s accepted",
			         bad_menu_schemas[i]);
		assert_null(out);
		assert_has(err.msg,
		           "malformed answer to GET /api/schema/CoreMenuItem",
		           bad_menu_schemas[i]);
		hf_fake_free(f);
	}
	f = fake_with("/api/schema/CoreMenuItem",
	              "{\"attributes\": [{\"name\": \"name\", \"optional\": "
	              "false, \"read_only\": null}], \"relationships\": null}");
	assert_int_equal(
	        hf_menu_schema(hf_fake_transport(f), "main", &out, &err), 0);
	assert_non_null(out);
	json_decref(out);
	hf_fake_free(f);
}

static const char *const bad_upserts[] = {
	"{\"data\": {\"CoreMenuItemUpsert\": {\"ok\": false, \"object\": "
	"{\"id\": \"x\"}}}}",
	"{\"data\": {\"CoreMenuItemUpsert\": {\"ok\": \"true\", \"object\": "
	"{\"id\": \"x\"}}}}",
	"{\"data\": {\"CoreMenuItemUpsert\": {\"object\": {\"id\": \"x\"}}}}",
	"{\"data\": {\"CoreMenuItemUpsert\": {\"ok\": true, \"object\": "
	"{\"id\": \"\"}}}}",
	"{\"data\": {\"CoreMenuItemUpsert\": {\"ok\": true, \"object\": "
	"{\"id\": 5}}}}",
	"{\"data\": {\"CoreMenuItemUpsert\": {\"ok\": true, \"object\": "
	"null}}}",
	"{\"data\": {\"CoreMenuItemUpsert\": {\"ok\": true, \"object\": "
	"[{\"id\": \"x\"}]}}}",
	"{\"data\": {\"CoreMenuItemUpsert\": null}}",
	"{\"data\": {}}",
};

static void test_strict__menu_upsert(void **state)
{
	static const char schema_text[] =
	        "{\"attributes\": [{\"name\": \"namespace\", \"optional\": "
	        "false, \"default_value\": null}, {\"name\": \"name\", "
	        "\"optional\": false, \"default_value\": null}], "
	        "\"relationships\": [{\"name\": \"parent\"}]}";
	static const char menu[] = "---\napiVersion: infrahub.app/v1\n"
	                           "kind: Menu\nspec:\n  data:\n"
	                           "    - namespace: Dcim\n"
	                           "      name: DeviceMenu\n";
	json_t *schema = json_loads(schema_text, 0, NULL);
	hf_manifest *m;
	hf_menu *mn;
	hf_error err;
	hf_fake *f;
	size_t i, loaded;

	(void)state;
	assert_non_null(schema);
	assert_int_equal(hf_manifest_new(&m), 0);
	hf_manifest_add_buffer(m, "menu.yml", menu, strlen(menu), NULL);
	assert_int_equal(hf_menu_build(&mn, m, schema, NULL, NULL), 0);
	for (i = 0; i < N(bad_upserts); i++) {
		f = fake_with("CoreMenuItemUpsert", bad_upserts[i]);
		hf_error_clear(&err);
		loaded = 9;
		if (hf_menu_load(mn, hf_fake_transport(f), NULL, &loaded,
		                 &err) != HF_ESERVER)
			fail_msg("upsert answer %s accepted", bad_upserts[i]);
		assert_int_equal((int)loaded, 0);
		assert_string_equal(err.where, "menu.yml");
		assert_has(err.msg, "CoreMenuItemUpsert", bad_upserts[i]);
		hf_fake_free(f);
	}
	hf_menu_free(mn);
	hf_manifest_free(m);
	json_decref(schema);
}

/* ---- POST /api/schema/load ----------------------------------------------- */

static const char *const bad_loads[] = {
	"[]",
	"null",
	"{}",
	"{\"schema_updated\": true}",
	"{\"hash\": 5, \"schema_updated\": true}",
	"{\"hash\": \"\", \"schema_updated\": true}",
	"{\"hash\": [\"a\"], \"schema_updated\": true}",
	"{\"hash\": \"abc\", \"schema_updated\": \"yes\"}",
	"{\"hash\": \"abc\", \"schema_updated\": 1}",
	"{\"hash\": \"abc\"}",
	"{\"hash\": \"abc\", \"previous_hash\": 5}",
};

static void test_strict__schema_load(void **state)
{
	struct hf_schema_load_result res;
	json_t *docs = json_array();
	hf_error err;
	hf_fake *f;
	size_t i;

	(void)state;
	for (i = 0; i < N(bad_loads); i++) {
		f = fake_with("/api/schema/load", bad_loads[i]);
		hf_error_clear(&err);
		if (hf_schema_send(hf_fake_transport(f), "b1", docs, &res,
		                   &err) != HF_ESERVER)
			fail_msg("load answer %s accepted (hash '%s')",
			         bad_loads[i], res.hash);
		assert_has(err.msg,
		           "malformed answer to POST /api/schema/load "
		           "(branch 'b1')",
		           bad_loads[i]);
		hf_fake_free(f);
	}
	f = fake_with("/api/schema/load",
	              "{\"hash\": \"h2\", \"previous_hash\": \"h1\"}");
	assert_int_equal(
	        hf_schema_send(hf_fake_transport(f), "b1", docs, &res, &err),
	        0);
	assert_int_equal(res.updated, 1);
	assert_string_equal(res.hash, "h2");
	hf_fake_free(f);
	f = fake_with("/api/schema/load",
	              "{\"hash\": \"h1\", \"previous_hash\": \"h1\", "
	              "\"schema_updated\": false, \"diff\": {}}");
	assert_int_equal(
	        hf_schema_send(hf_fake_transport(f), "b1", docs, &res, &err),
	        0);
	assert_int_equal(res.updated, 0);
	assert_string_equal(res.hash, "h1");
	hf_fake_free(f);
	json_decref(docs);
}

/* ---- GET /api/schema: members of the wrong type -------------------------- */

#define ATTR(x) "{\"nodes\": [{\"kind\": \"TestX\", \"attributes\": [" x "]}]}"
#define REL(x) \
	"{\"nodes\": [{\"kind\": \"TestX\", \"relationships\": [" x "]}]}"
#define KIND(x) "{\"nodes\": [{\"kind\": \"TestX\", " x "}]}"

static const struct {
	const char *json;
	const char *msg;
} bad_schemas[] = {
	{ ATTR("{\"name\": \"a\", \"optional\": \"false\"}"),
	  "kind 'TestX': attribute 'a': optional is not a boolean" },
	{ ATTR("{\"name\": \"a\", \"unique\": 1}"),
	  "kind 'TestX': attribute 'a': unique is not a boolean" },
	{ ATTR("{\"name\": \"a\", \"kind\": 5}"),
	  "kind 'TestX': attribute 'a': kind is not a string" },
	{ ATTR("{\"name\": \"a\", \"min_length\": -1}"),
	  "kind 'TestX': attribute 'a': min_length is not a non-negative "
	  "integer" },
	{ ATTR("{\"name\": \"a\", \"max_length\": \"10\"}"),
	  "kind 'TestX': attribute 'a': max_length is not a non-negative "
	  "integer" },
	{ ATTR("{\"name\": \"a\", \"max_length\": 1e308}"),
	  "kind 'TestX': attribute 'a': max_length is not a non-negative "
	  "integer" },
	{ ATTR("{\"name\": \"a\", \"choices\": [5]}"),
	  "kind 'TestX': attribute 'a': choices is not a list of choices "
	  "with names" },
	{ ATTR("{\"name\": \"a\", \"choices\": {}}"),
	  "kind 'TestX': attribute 'a': choices is not a list of choices "
	  "with names" },
	{ ATTR("{\"name\": \"a\", \"enum\": [1, {}]}"),
	  "kind 'TestX': attribute 'a': enum is not a list of strings and "
	  "numbers" },
	{ ATTR("{\"name\": \"a\", \"regex\": []}"),
	  "kind 'TestX': attribute 'a': regex is not a string" },
	{ ATTR("{\"name\": \"a\", \"computed_attribute\": []}"),
	  "kind 'TestX': attribute 'a': computed_attribute is not an object" },
	{ ATTR("{\"name\": \"a\", \"computed_attribute\": {\"kind\": 5}}"),
	  "kind 'TestX': attribute 'a': kind is not a string" },
	{ REL("{\"name\": \"r\", \"peer\": \"TestX\", \"cardinality\": 1}"),
	  "kind 'TestX': relationship 'r': cardinality is not a string" },
	{ REL("{\"name\": \"r\", \"peer\": \"TestX\", \"optional\": \"yes\"}"),
	  "kind 'TestX': relationship 'r': optional is not a boolean" },
	{ REL("{\"name\": \"r\", \"peer\": \"TestX\", \"min_count\": -2}"),
	  "kind 'TestX': relationship 'r': min_count is not a non-negative "
	  "integer" },
	{ REL("{\"name\": \"r\", \"peer\": \"TestX\", \"identifier\": {}}"),
	  "kind 'TestX': relationship 'r': identifier is not a string" },
	{ KIND("\"inherit_from\": [5]"),
	  "kind 'TestX': inherit_from is not a list of strings" },
	{ KIND("\"human_friendly_id\": [\"name__value\", null]"),
	  "kind 'TestX': human_friendly_id is not a list of strings" },
	{ KIND("\"uniqueness_constraints\": [[\"a\", 1]]"),
	  "kind 'TestX': uniqueness_constraints is not a list of lists of "
	  "strings" },
	{ KIND("\"uniqueness_constraints\": [\"a\"]"),
	  "kind 'TestX': uniqueness_constraints is not a list of lists of "
	  "strings" },
	{ KIND("\"hierarchical\": \"true\""),
	  "kind 'TestX': hierarchical is not a boolean" },
	{ KIND("\"default_filter\": 3"),
	  "kind 'TestX': default_filter is not a string" },
	{ "{\"main\": 5, \"nodes\": []}",
	  "schema answer: 'main' is not a string" },
};

static void test_strict__schema_fetch(void **state)
{
	hf_schema *s;
	hf_error err;
	hf_fake *f;
	size_t i;

	(void)state;
	for (i = 0; i < N(bad_schemas); i++) {
		f = fake_with("/api/schema", bad_schemas[i].json);
		hf_error_clear(&err);
		s = NULL;
		if (hf_schema_fetch(&s, hf_fake_transport(f), "main", &err) !=
		    HF_ESERVER)
			fail_msg("schema %s accepted", bad_schemas[i].json);
		assert_null(s);
		assert_has(err.msg,
		           "the schema answer of branch 'main' is not usable",
		           bad_schemas[i].json);
		assert_has(err.msg, bad_schemas[i].msg, bad_schemas[i].json);
		hf_fake_free(f);
	}
	/* null is "not set", as Infrahub sends it */
	f = fake_with(
	        "/api/schema",
	        "{\"main\": null, \"nodes\": [{\"kind\": \"TestX\", "
	        "\"label\": null, \"inherit_from\": [], \"hierarchical\": "
	        "null, \"attributes\": [{\"name\": \"a\", \"optional\": "
	        "null, \"min_length\": null, \"choices\": [{\"name\": "
	        "\"c\"}], \"computed_attribute\": null}], "
	        "\"relationships\": [{\"name\": \"r\", \"peer\": "
	        "\"TestX\", \"min_count\": 0, \"on_delete\": null}]}]}");
	assert_int_equal(
	        hf_schema_fetch(&s, hf_fake_transport(f), "main", &err), 0);
	assert_non_null(hf_schema_kind(s, "TestX"));
	hf_schema_free(s);
	hf_fake_free(f);
}

/* ---- engine/branch.c ----------------------------------------------------- */

static void accepted(const char *reader, const char *answer)
{
	fail_msg("%s accepted %s", reader, answer);
}

static const char *const bad_branch_lists[] = {
	"{\"data\": {\"Branch\": [5]}}",
	"{\"data\": {\"Branch\": [{\"is_default\": true}]}}",
	"{\"data\": {\"Branch\": [{\"name\": 5, \"is_default\": true}]}}",
	"{\"data\": {\"Branch\": [{\"name\": \"main\", \"is_default\": "
	"\"true\"}]}}",
	"{\"data\": {\"Branch\": [{\"name\": \"main\", \"is_default\": "
	"true}, {\"name\": \"b\", \"is_default\": true}]}}",
	"{\"data\": {\"Branch\": [{\"name\": \"main\", \"is_default\": "
	"true}, {\"name\": \"main\", \"is_default\": false}]}}",
	"{\"data\": {\"Branch\": [{\"name\": \"b\", \"is_default\": "
	"false}]}}",
	"{\"data\": {\"Branch\": [{\"name\": \"main\", \"is_default\": "
	"true, \"description\": 5}]}}",
	"{\"data\": {\"Branch\": [{\"name\": \"main\", \"is_default\": "
	"true, \"status\": [\"OPEN\"]}]}}",
	"{\"data\": {\"Branch\": [{\"name\": \"main\", \"is_default\": "
	"true, \"sync_with_git\": \"no\"}]}}",
};

static const char *const bad_branch_status[] = {
	"{\"data\": {\"Branch\": {}}}",
	"{\"data\": {}}",
	"{\"data\": {\"Branch\": null}}",
	"{\"data\": {\"Branch\": [5]}}",
	"{\"data\": {\"Branch\": [{\"name\": \"main\", \"status\": "
	"\"OPEN\"}]}}",
	"{\"data\": {\"Branch\": [{\"name\": \"b1\", \"status\": 5}]}}",
	"{\"data\": {\"Branch\": [{\"name\": \"b1\"}, {\"name\": \"b1\"}]}}",
};

static void test_strict__branch_answers(void **state)
{
	struct hf_branch_info info;
	struct hf_branch *list = NULL;
	char status[64];
	hf_error err;
	hf_fake *f;
	size_t i, n;
	int exists;

	(void)state;
	for (i = 0; i < N(bad_branch_lists); i++) {
		f = fake_with("Branch", bad_branch_lists[i]);
		hf_error_clear(&err);
		if (hf_branch_info(hf_fake_transport(f), "b1", &info, &err) ==
		    0)
			accepted("hf_branch_info", bad_branch_lists[i]);
		else
			assert_has(err.msg, "Branch", bad_branch_lists[i]);
		hf_error_clear(&err);
		if (hf_branch_list(hf_fake_transport(f), &list, &n, &err) ==
		    0) {
			hf_branch_list_free(list, n);
			accepted("hf_branch_list", bad_branch_lists[i]);
		} else {
			assert_has(err.msg, "Branch", bad_branch_lists[i]);
		}
		hf_fake_free(f);
	}
	for (i = 0; i < N(bad_branch_status); i++) {
		f = fake_with("Branch(name", bad_branch_status[i]);
		hf_error_clear(&err);
		if (hf_branch_status(hf_fake_transport(f), "b1", status,
		                     sizeof(status), &exists, &err) == 0)
			accepted("hf_branch_status", bad_branch_status[i]);
		else
			assert_has(err.msg, "b1", bad_branch_status[i]);
		hf_fake_free(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strict__lock_read),
		cmocka_unit_test(test_strict__lock_description),
		cmocka_unit_test(test_strict__menu_schema),
		cmocka_unit_test(test_strict__menu_upsert),
		cmocka_unit_test(test_strict__schema_load),
		cmocka_unit_test(test_strict__schema_fetch),
		cmocka_unit_test(test_strict__fetch_duplicate_ids),
		cmocka_unit_test(test_strict__branch_answers),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
