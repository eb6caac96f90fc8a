/*
 * The apply transaction (engine/apply.c, engine/apply_run.c) through the
 * fake transport: every branch create / merge / delete failure, every
 * status transition, recovery, stop flag, deadline, and failing
 * allocations (no half-built mutation is ever sent). Plans are recorded
 * in real plan stores in a scratch directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "hf/apply.h"
#include "hf/diff.h"
#include "hf/store.h"
#include "failalloc.h"
#include "fake_transport.h"
#include "testutil.h"

#define ADDRESS "http://infrahub.test"

static const char schema_text[] =
        "{\"main\": \"h1\", \"nodes\": ["
        " {\"namespace\": \"Test\", \"name\": \"Site\","
        "  \"human_friendly_id\": [\"name__value\"],"
        "  \"attributes\": [{\"name\": \"name\", \"kind\": \"Text\", \"unique\": true},"
        "   {\"name\": \"description\", \"kind\": \"Text\", \"optional\": true}]},"
        " {\"namespace\": \"Test\", \"name\": \"Device\","
        "  \"human_friendly_id\": [\"name__value\"],"
        "  \"attributes\": [{\"name\": \"name\", \"kind\": \"Text\", \"unique\": true}],"
        "  \"relationships\": [{\"name\": \"site\", \"peer\": \"TestSite\","
        "   \"cardinality\": \"one\"},"
        "   {\"name\": \"tags\", \"peer\": \"TestSite\", \"cardinality\": \"many\"}]}]}";

/* One test's world: the fake, a schema, a store, a plan, what was said. */
struct fx {
	hf_fake *fake;
	hf_schema *schema;
	hf_store *st;
	hf_plan *plan;
	char path[600];
	struct hf_apply_run_opts o;
	struct hf_apply_result res;
	hf_error err;
	int rc;
	int msgs[HF_AMSG_WRITING + 1];
	char text[HF_AMSG_WRITING + 1][256];
	int waves; /* progress calls */
	volatile int stop;
	int stop_at_wave; /* set the stop flag in progress at this wave */
	int stop_in_mutation; /* set it while answering the first mutation */
	int cancel; /* confirm says no */
	const char *fail_name; /* the change (by name) whose mutation fails */
	const char *exists; /* a create probe that finds this name */
	long kind_count; /* what counting a kind says; 0 with exists:
	                    a count so large that creates are looked up */
	const char *page_hfid; /* when set, paging a kind lists objects
	                          [page_hfid] and [page_hfid-N] */
	const char *live_desc; /* the live description of site "lyon" */
	json_t *live; /* id -> {"kind", "node"}: what the deletes see */
	json_t *cascades; /* id -> [ids its delete takes along] */
	const char *fail_id; /* the delete (by node id) that is refused */
	const char *gone_id; /* the delete (by node id) that finds nothing */
	int no_cascade; /* the fake does not cascade */
	json_t *lock; /* the lock branch {name, description}, or NULL */
	int lock_creates; /* lock BranchCreate requests answered */
	int lock_deletes; /* lock branches deleted */
	int lock_at_check; /* the lock was held when the staleness check ran */
	int lock_delete_fails; /* the lock branch's delete is refused */
	size_t adds_at_first; /* RelationshipAdd requests received when the
	                         first was answered */
};

static struct fx F;
static int nstore;

/* ---- callbacks ---------------------------------------------------------- */

static void on_msg(void *payload, const struct hf_apply_msg *m)
{
	struct fx *f = payload;

	f->msgs[m->code]++;
	snprintf(f->text[m->code], sizeof(f->text[0]), "%s|%s|%s",
	         m->text ? m->text : "", m->name ? m->name : "",
	         m->path ? m->path : "");
}

static int on_progress(void *payload, int wave, int waves, long done,
                       long total)
{
	struct fx *f = payload;

	(void)waves;
	(void)done;
	(void)total;
	f->waves++;
	if (f->stop_at_wave == wave)
		f->stop = 1;
	return 0;
}

static int on_confirm(void *payload, const hf_plan *p)
{
	struct fx *f = payload;

	(void)p;
	return f->cancel;
}

/* ---- the fake Infrahub -------------------------------------------------- */

/* Whether alias `alias` of `q` is a <Kind>Delete. */
static int is_delete(const char *q, const char *alias)
{
	char pat[40];
	const char *at, *paren;

	snprintf(pat, sizeof(pat), " %s: ", alias);
	at = strstr(q, pat);
	paren = at ? strchr(at, '(') : NULL;
	return paren && paren - at > 6 && !strncmp(paren - 6, "Delete", 6);
}

/* A delete by id: refused (fail_id), not found (gone_id or not live), done. */
static void delete_one(struct fx *f, const char *id, const char *alias,
                       json_t *data, json_t *errors)
{
	char msg[200];
	json_t *also;
	size_t i;

	if (id && f->fail_id && !strcmp(id, f->fail_id)) {
		snprintf(msg, sizeof(msg), "refused by the fake");
	} else if (!id || (f->gone_id && !strcmp(id, f->gone_id)) ||
	           !json_object_get(f->live, id)) {
		snprintf(msg, sizeof(msg),
		         "Unable to find the node %s / TestSite in "
		         "the database.",
		         id ? id : "?");
	} else {
		also = json_object_get(f->cascades, id);
		for (i = 0; !f->no_cascade && i < json_array_size(also); i++)
			json_object_del(
			        f->live,
			        json_string_value(json_array_get(also, i)));
		json_object_del(f->live, id);
		json_object_set_new(data, alias, json_pack("{s:b}", "ok", 1));
		return;
	}
	json_object_set_new(data, alias, json_null());
	json_array_append_new(errors, json_pack("{s:s, s:[s]}", "message", msg,
	                                        "path", alias));
}

/* Every alias cN of a mutation: ok, or refused for F.fail_name. */
static int mutations(void *payload, const struct hf_fake_req *r,
                     json_t **answer, hf_error *err)
{
	struct fx *f = payload;
	json_t *data = json_object(), *errors = json_array(), *v;
	const char *key, *name;
	char alias[32];

	(void)err;
	if (f->stop_in_mutation)
		f->stop = 1;
	json_object_foreach(r->variables, key, v)
	{
		snprintf(alias, sizeof(alias), "c%s", key + 1);
		name = json_string_value(
		        json_object_get(json_object_get(v, "name"), "value"));
		if (is_delete(r->query, alias)) {
			delete_one(f,
			           json_string_value(json_object_get(v, "id")),
			           alias, data, errors);
		} else if (f->fail_name && name &&
		           !strcmp(name, f->fail_name)) {
			json_object_set_new(data, alias, json_null());
			json_array_append_new(
			        errors, json_pack("{s:s, s:[s]}", "message",
			                          "refused by the fake", "path",
			                          alias));
		} else {
			char id[64];

			snprintf(id, sizeof(id), "id-%s", name ? name : "new");
			json_object_set_new(data, alias,
			                    json_pack("{s:b, s:{s:s}}", "ok", 1,
			                              "object", "id", id));
		}
	}
	*answer = json_array_size(errors) ? json_pack("{s:o, s:o}", "data",
	                                              data, "errors", errors)
	                                  : json_pack("{s:o}", "data", data);
	if (!json_array_size(errors))
		json_decref(errors);
	return 0;
}

/* Create probes aN(hfid: $hN): found only for F.exists. */
static int probes(void *payload, const struct hf_fake_req *r, json_t **answer,
                  hf_error *err)
{
	struct fx *f = payload;
	json_t *data = json_object(), *v;
	const char *key, *name;
	char alias[32];

	(void)err;
	json_object_foreach(r->variables, key, v)
	{
		snprintf(alias, sizeof(alias), "a%s", key + 1);
		name = json_string_value(json_array_get(v, 0));
		json_object_set_new(
		        data, alias,
		        json_pack("{s:i}", "count",
		                  f->exists && name &&
		                          !strcmp(name, f->exists)));
	}
	*answer = json_pack("{s:o}", "data", data);
	return 0;
}

/*
 * The count round `query { kN: Kind { count } ... }`: F.kind_count, or
 * with F.exists a count large enough that the creates are looked up.
 */
static int counts(void *payload, const struct hf_fake_req *r, json_t **answer,
                  hf_error *err)
{
	struct fx *f = payload;
	json_t *data = json_object();
	const char *at = r->query;
	char alias[32];
	long n = f->kind_count ? f->kind_count : f->exists ? 1000000 : 0;

	(void)err;
	while ((at = strstr(at, " k")) != NULL) {
		if (sscanf(at + 1, "%31[a-z0-9]:", alias) == 1)
			json_object_set_new(
			        data, alias,
			        json_pack("{s:I}", "count", (json_int_t)n));
		at += 2;
	}
	*answer = json_pack("{s:o}", "data", data);
	return 0;
}

/* A page of a kind: `limit` objects named page_hfid-N, one [page_hfid]. */
static int pages(void *payload, const struct hf_fake_req *r, json_t **answer,
                 hf_error *err)
{
	struct fx *f = payload;
	json_t *edges = json_array();
	json_int_t off =
	        json_integer_value(json_object_get(r->variables, "offset"));
	json_int_t lim =
	        json_integer_value(json_object_get(r->variables, "limit"));
	char kind[64] = "", name[96];
	json_int_t i;

	(void)err;
	sscanf(strstr(r->query, "{ ") + 2, "%63[A-Za-z]", kind);
	for (i = off; i < off + lim && i < f->kind_count; i++) {
		if (i == f->kind_count - 1)
			snprintf(name, sizeof(name), "%s", f->page_hfid);
		else
			snprintf(name, sizeof(name), "%s-%lld", f->page_hfid,
			         (long long)i);
		json_array_append_new(
		        edges, json_pack("{s:{s:[s]}}", "node", "hfid", name));
	}
	*answer = json_pack("{s:{s:{s:o}}}", "data", kind, "edges", edges);
	return 0;
}

/* Kind(ids: $ids): the live objects of that kind among the ids. */
static int live_ids(void *payload, const struct hf_fake_req *r, json_t **answer,
                    hf_error *err)
{
	struct fx *f = payload;
	json_t *ids = json_object_get(r->variables, "ids"),
	       *edges = json_array();
	json_t *o, *id;
	char kind[64] = "";
	const char *q = strstr(r->query, "{ ");
	size_t i;

	(void)err;
	if (q)
		sscanf(q + 2, "%63[A-Za-z]", kind);
	json_array_foreach(ids, i, id)
	{
		o = json_object_get(f->live, json_string_value(id));
		if (o && !strcmp(json_string_value(json_object_get(o, "kind")),
		                 kind))
			json_array_append(edges, json_object_get(o, "edge"));
	}
	*answer = json_pack("{s:{s:{s:i, s:o}}}", "data", kind, "count",
	                    (int)json_array_size(edges), "edges", edges);
	return 0;
}

/* TestSite(ids: ...): site "lyon" with F.live_desc, or nothing. */
static int by_ids(void *payload, const struct hf_fake_req *r, json_t **answer,
                  hf_error *err)
{
	struct fx *f = payload;

	(void)err;
	if (f->live)
		return live_ids(payload, r, answer, err);
	if (!f->live_desc) {
		*answer = json_pack("{s:{s:{s:i, s:[]}}}", "data", "TestSite",
		                    "count", 0, "edges");
		return 0;
	}
	*answer = json_pack("{s:{s:{s:i, s:[{s:{s:s, s:[s], s:s, s:{s:s}}}]}}}",
	                    "data", "TestSite", "count", 1, "edges", "node",
	                    "id", "n-lyon", "hfid", "lyon", "__typename",
	                    "TestSite", "description", "value", f->live_desc);
	return 0;
}

static void script(const char *match, int times, const char *json)
{
	assert_int_equal(hf_fake_answer(F.fake, match, times, json), 0);
}

/* Branch(name:) answered for the plan's work branch, in `status`. */
static void script_branch(const char *status)
{
	char json[256];

	snprintf(json, sizeof(json),
	         "{\"data\": {\"Branch\": [{\"name\": "
	         "\"hubform-%s\", \"status\": \"%s\"}]}}",
	         hf_plan_meta(F.plan)->id, status);
	script("Branch(name: $n)", 1, json);
}

/* The happy defaults, after whatever a test scripted first. */
static void defaults(void)
{
	script("BranchCreate", -1,
	       "{\"data\": {\"BranchCreate\": {\"ok\": true}}}");
	script("BranchMerge", -1,
	       "{\"data\": {\"BranchMerge\": {\"ok\": true}}}");
	script("BranchDelete", -1,
	       "{\"data\": {\"BranchDelete\": {\"ok\": true}}}");
	assert_int_equal(
	        hf_fake_handler(F.fake, "(data: $d", -1, mutations, &F), 0);
	assert_int_equal(hf_fake_handler(F.fake, "query { k0:", -1, counts, &F),
	                 0);
	assert_int_equal(hf_fake_handler(F.fake, "(hfid: $h", -1, probes, &F),
	                 0);
	assert_int_equal(
	        hf_fake_handler(F.fake, "(offset: $offset", -1, pages, &F), 0);
	assert_int_equal(
	        hf_fake_handler(F.fake, "TestSite(ids:", -1, by_ids, &F), 0);
	assert_int_equal(
	        hf_fake_handler(F.fake, "TestDevice(ids:", -1, live_ids, &F),
	        0);
	/* the stack's group: none yet on the target, made in the branch */
	script("CoreStandardGroup(name__value", -1,
	       "{\"data\": {\"CoreStandardGroup\": {\"edges\": []}}}");
	script("CoreStandardGroupUpsert", -1,
	       "{\"data\": {\"CoreStandardGroupUpsert\":"
	       " {\"ok\": true, \"object\": {\"id\": \"g-1\"}}}}");
	script("RelationshipAdd", -1,
	       "{\"data\": {\"RelationshipAdd\": {\"ok\": true}}}");
	script("RelationshipRemove", -1,
	       "{\"data\": {\"RelationshipRemove\": {\"ok\": true}}}");
}

/* ---- plans and stores --------------------------------------------------- */

static void add(hf_plan *p, struct hf_change *c)
{
	hf_error err = HF_ERROR_INIT;

	if (!c->changed)
		c->changed = json_array();
	if (!c->deps)
		c->deps = json_array();
	assert_int_equal(hf_plan_add(p, c, &err), 0);
}

static void add_site(hf_plan *p, const char *name)
{
	struct hf_change c;

	memset(&c, 0, sizeof(c));
	c.action = HF_ACT_CREATE;
	c.kind = hf_strdup("TestSite");
	c.hfid = json_pack("[s]", name);
	c.after = json_pack("{s:s, s:s}", "name", name, "description", "new");
	add(p, &c);
}

static void add_device(hf_plan *p, const char *name, const char *site)
{
	struct hf_change c;
	char dep[17];
	json_t *h = json_pack("[s]", site);

	memset(&c, 0, sizeof(c));
	hf_plan_change_id(dep, HF_ACT_CREATE, "TestSite", h);
	c.action = HF_ACT_CREATE;
	c.kind = hf_strdup("TestDevice");
	c.hfid = json_pack("[s]", name);
	c.after = json_pack("{s:s, s:{s:O, s:s}, s:[{s:O, s:s}]}", "name", name,
	                    "site", "hfid", h, "kind", "TestSite", "tags",
	                    "hfid", h, "kind", "TestSite");
	c.deps = json_pack("[s]", dep);
	json_decref(h);
	add(p, &c);
}

/* The fingerprint of site "lyon" as the fake shows it now. */
static void lyon_fingerprint(char out[65])
{
	hf_objset *set = NULL;
	json_t *fields = json_pack("{s:s}", "description", "attr");
	json_t *ids = json_pack("[s]", "n-lyon");
	struct hf_object names;
	struct hf_field fl;
	hf_error err = HF_ERROR_INIT;

	assert_int_equal(
	        hf_fake_handler(F.fake, "TestSite(ids:", 1, by_ids, &F), 0);
	assert_int_equal(hf_objset_new(&set), 0);
	assert_int_equal(hf_fetch_by_ids(set, F.schema, "TestSite", fields, ids,
	                                 hf_fake_transport(F.fake), &err),
	                 0);
	memset(&names, 0, sizeof(names));
	memset(&fl, 0, sizeof(fl));
	fl.name = hf_name("description");
	assert_int_equal(hf_object_add_field(&names, &fl), 0);
	assert_int_equal(hf_diff_fingerprint(out, hf_objset_at(set, 0), &names),
	                 0);
	hf_object_release(&names);
	hf_objset_free(set);
	json_decref(fields);
	json_decref(ids);
	hf_fake_clear_log(F.fake);
}

/* An update of site "lyon"'s description, planned against "old". */
static void add_update(hf_plan *p)
{
	struct hf_change c;
	const char *was = F.live_desc;

	memset(&c, 0, sizeof(c));
	F.live_desc = "old";
	lyon_fingerprint(c.fingerprint);
	F.live_desc = was;
	c.action = HF_ACT_UPDATE;
	c.kind = hf_strdup("TestSite");
	c.hfid = json_pack("[s]", "lyon");
	c.node_id = hf_strdup("n-lyon");
	c.before = json_pack("{s:s}", "description", "old");
	c.after = json_pack("{s:s}", "description", "new");
	c.changed = json_pack("[s]", "description");
	add(p, &c);
}

/* ---- prune: a live world to delete from -------------------------------- */

/* Put object `id` of `kind` in the fake's live state. */
static void live(const char *kind, const char *id, const char *name,
                 const char *desc)
{
	if (!F.live)
		F.live = json_object();
	json_object_set_new(
	        F.live, id,
	        json_pack("{s:s, s:{s:{s:s, s:[s], s:s, s:{s:s}, s:{s:s?}}}}",
	                  "kind", kind, "edge", "node", "id", id, "hfid", name,
	                  "__typename", kind, "name", "value", name,
	                  "description", "value", desc));
}

/* The fingerprint the fake's live object gives over the fields of `before`. */
static void live_fingerprint(char out[65], const char *kind, const char *id,
                             json_t *before)
{
	hf_objset *set = NULL;
	json_t *fields = json_object(), *ids = json_pack("[s]", id), *v;
	struct hf_object names;
	struct hf_field fl;
	hf_error err = HF_ERROR_INIT;
	const char *key;

	memset(&names, 0, sizeof(names));
	json_object_foreach(before, key, v)
	{
		json_object_set_new(fields, key, json_string("attr"));
		memset(&fl, 0, sizeof(fl));
		fl.name = hf_name(key);
		assert_int_equal(hf_object_add_field(&names, &fl), 0);
	}
	assert_int_equal(hf_fake_handler(F.fake, "(ids:", 1, live_ids, &F), 0);
	assert_int_equal(hf_objset_new(&set), 0);
	assert_int_equal(hf_fetch_by_ids(set, F.schema, kind, fields, ids,
	                                 hf_fake_transport(F.fake), &err),
	                 0);
	assert_int_equal(hf_objset_count(set), 1);
	assert_int_equal(hf_diff_fingerprint(out, hf_objset_at(set, 0), &names),
	                 0);
	hf_object_release(&names);
	hf_objset_free(set);
	json_decref(fields);
	json_decref(ids);
	hf_fake_clear_log(F.fake);
}

/* A delete (or forget) of live object `id`; its change id in `out`. */
static void add_gone(hf_plan *p, enum hf_action a, const char *kind,
                     const char *id, const char *name, const char *dep,
                     const char *cascade_of, char out[17])
{
	struct hf_change c;

	memset(&c, 0, sizeof(c));
	c.action = a;
	c.kind = hf_strdup(kind);
	c.hfid = json_pack("[s]", name);
	c.node_id = hf_strdup(id);
	if (a == HF_ACT_DELETE) {
		c.before = json_pack("{s:s}", "name", name);
		live_fingerprint(c.fingerprint, kind, id, c.before);
	}
	c.deps = dep ? json_pack("[s]", dep) : json_array();
	c.cascade_of = cascade_of ? hf_strdup(cascade_of) : NULL;
	if (out)
		hf_plan_change_id(out, a, kind, c.hfid);
	add(p, &c);
}

/* Site lyon, declared and live, not owned yet: adopted, no other change. */
static void add_adopt(hf_plan *p)
{
	struct hf_change c;

	memset(&c, 0, sizeof(c));
	c.action = HF_ACT_NOOP;
	c.adopt = 1;
	c.kind = hf_strdup("TestSite");
	c.hfid = json_pack("[s]", "lyon");
	c.node_id = hf_strdup("n-lyon");
	c.before = json_pack("{s:s}", "description", "old");
	c.after = json_pack("{s:s}", "description", "old");
	live_fingerprint(c.fingerprint, "TestSite", "n-lyon", c.after);
	add(p, &c);
}

/*
 * Create site paris; adopt site lyon; delete device d9 then site s9 (d9
 * refers to it), whose delete cascades to device d8; forget site shared
 * (another stack owns it too). Stack "fin", group g-fin unless `group`.
 */
static void add_prune(hf_plan *p)
{
	hf_error err = HF_ERROR_INIT;
	char d9[17], s9[17], d8[17];

	live("TestSite", "n-lyon", "lyon", "old");
	live("TestDevice", "n-d9", "d9", NULL);
	live("TestSite", "n-s9", "s9", NULL);
	live("TestDevice", "n-d8", "d8", NULL);
	live("TestSite", "n-shared", "shared", NULL);
	F.cascades = json_pack("{s:[s]}", "n-s9", "n-d8");
	add_site(p, "paris");
	add_adopt(p);
	add_gone(p, HF_ACT_DELETE, "TestDevice", "n-d9", "d9", NULL, NULL, d9);
	add_gone(p, HF_ACT_DELETE, "TestSite", "n-s9", "s9", d9, NULL, s9);
	add_gone(p, HF_ACT_DELETE, "TestDevice", "n-d8", "d8", NULL, s9, d8);
	add_gone(p, HF_ACT_FORGET, "TestSite", "n-shared", "shared", NULL, NULL,
	         NULL);
	assert_int_equal(hf_plan_set_stack(p, "fin", "g-fin", &err), 0);
}

enum shape {
	TWO_WAVES, /* site paris, then device d1 on it */
	ONE_WAVE, /* sites a, b, c */
	UPDATE, /* site lyon's description */
	NOTHING, /* no change */
	PRUNE, /* add_prune() */
};

static hf_plan *make_plan(enum shape shape, const char *branch,
                          const char *extra)
{
	hf_error err = HF_ERROR_INIT;
	hf_plan *p = NULL;

	assert_int_equal(hf_plan_new(&p, ADDRESS, branch, &err), 0);
	snprintf(hf_plan_meta(p)->schema_hash, 65, "h1");
	if (shape == TWO_WAVES) {
		add_site(p, "paris");
		add_device(p, "d1", "paris");
	} else if (shape == ONE_WAVE) {
		add_site(p, "a");
		add_site(p, "b");
		add_site(p, "c");
	} else if (shape == UPDATE) {
		add_update(p);
	} else if (shape == PRUNE) {
		add_prune(p);
	}
	if (extra)
		add_site(p, extra);
	assert_int_equal(hf_plan_finish(p, &err), 0);
	return p;
}

/*
 * Where the stores go. The allocation-failure loops write a store per
 * iteration, thousands of fsyncs: on tmpfs (/dev/shm) when there is one,
 * removed at the end, else in the test's scratch directory.
 */
static char shm_dir[64];

static void store_dir(char *dir, size_t n)
{
	snprintf(shm_dir, sizeof(shm_dir), "/dev/shm/hubform-apply-run-XXXXXX");
	if (mkdtemp(shm_dir)) {
		snprintf(dir, n, "%s", shm_dir);
		return;
	}
	shm_dir[0] = '\0';
	snprintf(dir, n, "%s", hf_test_tmpdir("apply_run"));
}

static void remove_stores(void)
{
	char path[128];
	int i;

	if (!shm_dir[0])
		return;
	for (i = 0; i < nstore; i++) {
		snprintf(path, sizeof(path), "%s/plans-%d.db", shm_dir, i);
		unlink(path);
	}
	rmdir(shm_dir);
}

static hf_store *new_store(char *path, size_t n)
{
	static char dir[512];
	hf_error err = HF_ERROR_INIT;
	hf_store *st = NULL;

	if (!dir[0]) /* made once: it holds every store of the run */
		store_dir(dir, sizeof(dir));
	snprintf(path, n, "%s/plans-%d.db", dir, nstore++);
	unlink(path);
	assert_int_equal(hf_store_open(&st, path, &err), 0);
	return st;
}

/* A world with plan `shape` saved in a fresh store, options set. */
/*
 * F.plan saved in a new store, and the options every run needs: the fake
 * as transport, branch main, that one store, messages to on_msg.
 */
static void plan_saved(void)
{
	hf_error err = HF_ERROR_INIT;

	F.st = new_store(F.path, sizeof(F.path));
	assert_int_equal(hf_store_save(F.st, F.plan, &err), 0);
	F.o.transport = hf_fake_transport(F.fake);
	F.o.schema = F.schema;
	F.o.branch = "main";
	F.o.default_branch = "main";
	F.o.stores[0] = F.st;
	F.o.n_stores = 1;
	F.o.msg = on_msg;
	F.o.payload = &F;
}

static void world(enum shape shape)
{
	F.plan = make_plan(shape, "main", NULL);
	plan_saved();
	F.o.batch_size = 50;
	F.o.stop = &F.stop;
	F.o.confirm = on_confirm;
	F.o.progress = on_progress;
	F.o.no_lock = 1; /* the lock has its own tests */
}

static void run(void)
{
	hf_error_clear(&F.err);
	F.rc = hf_apply_run(F.plan, &F.o, &F.res, &F.err);
}

/* The plan's status as store `st` has it. */
static void assert_stored(hf_store *st, const char *status)
{
	hf_error err = HF_ERROR_INIT;
	hf_plan *p = NULL;

	assert_int_equal(hf_store_load(st, hf_plan_meta(F.plan)->id, &p, &err),
	                 0);
	assert_string_equal(hf_plan_meta(p)->status, status);
	assert_string_equal(hf_plan_meta(F.plan)->status, status);
	hf_plan_free(p);
}

/* The stored status of change i. */
static enum hf_change_status stored_change(size_t i)
{
	hf_error err = HF_ERROR_INIT;
	enum hf_change_status s;
	hf_plan *p = NULL;

	assert_int_equal(
	        hf_store_load(F.st, hf_plan_meta(F.plan)->id, &p, &err), 0);
	s = hf_plan_at(p, i)->status;
	hf_plan_free(p);
	return s;
}

static size_t sent(const char *match)
{
	return hf_fake_sent(F.fake, match);
}

/* Index of the first request containing `match`, or -1. */
static long first(const char *match)
{
	size_t i;

	for (i = 0; i < hf_fake_count(F.fake); i++) {
		const struct hf_fake_req *r = hf_fake_at(F.fake, i);
		const char *t = r->query ? r->query : r->path;

		if (strstr(t, match))
			return (long)i;
	}
	return -1;
}

static int setup(void **state)
{
	json_t *j = json_loads(schema_text, 0, NULL);

	(void)state;
	memset(&F, 0, sizeof(F));
	F.fake = hf_fake_new();
	if (!j || !F.fake || hf_schema_parse(&F.schema, j, NULL) < 0)
		return -1;
	json_decref(j);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	json_decref(F.live);
	json_decref(F.cascades);
	json_decref(F.lock);
	hf_plan_free(F.plan);
	hf_store_close(F.st);
	if (F.st)
		unlink(F.path);
	hf_schema_free(F.schema);
	hf_fake_free(F.fake);
	memset(&F, 0, sizeof(F));
	return 0;
}

/* ---- the transaction ---------------------------------------------------- */

/* planned -> applying -> applied: probes, create, two waves, merge, delete. */
static void test_apply_run__applies_in_a_branch(void **state)
{
	const struct hf_fake_req *r;
	char branch[64];

	(void)state;
	world(TWO_WAVES);
	defaults();
	run();
	assert_int_equal(F.rc, 0);
	assert_int_equal(F.res.outcome, HF_APPLY_DONE);
	assert_true(F.res.recorded);
	assert_int_equal(F.res.stats.applied, 2);
	/* a create per wave, the stack's group made and filled */
	assert_int_equal(F.res.stats.requests, 4);
	assert_int_equal(F.waves, 2);
	assert_int_equal(F.msgs[HF_AMSG_WRITING], 1);
	assert_stored(F.st, "applied");
	assert_int_equal(stored_change(0), HF_CH_APPLIED);
	assert_int_equal(stored_change(1), HF_CH_APPLIED);
	snprintf(branch, sizeof(branch), "hubform-%s",
	         hf_plan_meta(F.plan)->id);
	assert_string_equal(F.res.branch, branch);
	/* the order of the transaction: the kinds with creates are counted
	 * (empty: nothing to look up) before anything is written */
	assert_true(first("query { k0:") < first("BranchCreate"));
	assert_int_equal(sent("(hfid: $h"), 0);
	assert_true(first("BranchCreate") < first("TestSiteUpsert"));
	assert_true(first("TestSiteUpsert") < first("TestDeviceUpsert"));
	assert_true(first("TestDeviceUpsert") < first("BranchMerge"));
	assert_true(first("BranchMerge") < first("BranchDelete"));
	/* the branch travels as a variable, the mutations go to it */
	r = hf_fake_at(F.fake, (size_t)first("BranchCreate"));
	assert_string_equal(
	        json_string_value(json_object_get(r->variables, "name")),
	        branch);
	assert_true(r->flags & HF_TX_SERVER_DEFAULT);
	r = hf_fake_at(F.fake, (size_t)first("TestDeviceUpsert"));
	assert_string_equal(r->branch, branch);
	assert_true(r->flags & HF_TX_RETRY);
	/* the device's references as inputs: one by HFID, many as a list */
	assert_non_null(json_object_get(
	        json_object_get(json_object_get(r->variables, "d0"), "site"),
	        "hfid"));
	assert_int_equal(json_array_size(json_object_get(
	                         json_object_get(r->variables, "d0"), "tags")),
	                 1);
}

/* A branch left by an earlier try of this very apply is fine to reuse. */
static void test_apply_run__existing_branch_is_reused(void **state)
{
	(void)state;
	world(TWO_WAVES);
	script("BranchCreate", 1,
	       "{\"data\": {\"BranchCreate\": null}, \"errors\": "
	       "[{\"message\": \"The branch hubform-x, already exist\"}]}");
	defaults();
	run();
	assert_int_equal(F.rc, 0);
	assert_int_equal(F.res.outcome, HF_APPLY_DONE);
	assert_stored(F.st, "applied");
}

/* BranchCreate refused, or no answer: failed, nothing written. */
static void test_apply_run__create_fails(void **state)
{
	int round;

	(void)state;
	for (round = 0; round < 2; round++) {
		world(TWO_WAVES);
		if (round == 0)
			script("BranchCreate", 1,
			       "{\"data\": {\"BranchCreate\": null}, "
			       "\"errors\": [{\"message\": \"invalid field name\"}]}");
		else
			assert_int_equal(hf_fake_fail(F.fake, "BranchCreate", 1,
			                              HF_ENET,
			                              "connection refused"),
			                 0);
		defaults();
		run();
		assert_int_equal(F.rc, round == 0 ? HF_ESERVER : HF_ENET);
		assert_int_equal(F.res.outcome, HF_APPLY_CREATE_FAILED);
		assert_non_null(
		        strstr(F.err.msg, round == 0 ? "invalid field name"
		                                     : "connection refused"));
		assert_int_equal(sent("Upsert("), 0);
		assert_int_equal(sent("BranchMerge"), 0);
		assert_stored(F.st, "failed");
		teardown(NULL);
		setup(NULL);
	}
}

/* BranchMerge refused: failed, the branch deleted, the target unchanged. */
static void test_apply_run__merge_fails(void **state)
{
	(void)state;
	world(TWO_WAVES);
	script("BranchMerge", 1,
	       "{\"data\": {\"BranchMerge\": null}, \"errors\": "
	       "[{\"message\": \"Unable to merge the branch, validation failed\"}]}");
	defaults();
	run();
	assert_int_equal(F.rc, HF_ESERVER);
	assert_int_equal(F.res.outcome, HF_APPLY_FAILED);
	assert_non_null(strstr(F.err.msg, "Unable to merge"));
	assert_true(F.res.branch_deleted);
	assert_int_equal(sent("BranchDelete"), 1);
	assert_stored(F.st, "failed");
}

/* BranchDelete refused after a failure: said, and the branch is reported kept.
 */
static void test_apply_run__delete_fails(void **state)
{
	(void)state;
	world(TWO_WAVES);
	F.fail_name = "paris";
	script("BranchDelete", 1,
	       "{\"data\": {\"BranchDelete\": null}, \"errors\": "
	       "[{\"message\": \"database is locked\"}]}");
	defaults();
	run();
	assert_int_equal(F.res.outcome, HF_APPLY_FAILED);
	assert_false(F.res.branch_deleted);
	assert_int_equal(F.msgs[HF_AMSG_DELETE_FAILED], 1);
	assert_non_null(
	        strstr(F.text[HF_AMSG_DELETE_FAILED], "database is locked"));
	/* left applying (issue 13, finding 5): --recover takes it from there */
	assert_stored(F.st, "applying");
	assert_false(F.res.recorded);
	hf_fake_clear_log(F.fake);
	script_branch("OPEN");
	F.o.recover = 1;
	run();
	assert_int_equal(F.rc, 0);
	assert_int_equal(F.res.outcome, HF_APPLY_RECOVERED_FAILED);
	assert_int_equal(sent("BranchDelete"), 1);
	assert_stored(F.st, "failed");
}

/* A branch already gone ("not found", by message or by code) is deleted. */
static void test_apply_run__delete_of_a_gone_branch_is_fine(void **state)
{
	int round;

	(void)state;
	for (round = 0; round < 2; round++) {
		world(TWO_WAVES);
		F.fail_name = "paris";
		script("BranchDelete", 1,
		       round == 0
		               ? "{\"data\": {\"BranchDelete\": null}, \"errors\": [{\"message\":"
		                 " \"Branch: hubform-x not found.\"}]}"
		               : "{\"data\": null, \"errors\": [{\"message\": \"gone\", "
		                 "\"extensions\": {\"code\": \"BRANCH_NOT_FOUND\"}}]}");
		defaults();
		run();
		assert_int_equal(F.res.outcome, HF_APPLY_FAILED);
		assert_true(F.res.branch_deleted);
		assert_int_equal(F.msgs[HF_AMSG_DELETE_FAILED], 0);
		teardown(NULL);
		setup(NULL);
	}
}

/* A refused change: failed; what depends on it skipped; no merge. */
static void test_apply_run__change_fails(void **state)
{
	(void)state;
	world(TWO_WAVES);
	F.fail_name = "paris";
	defaults();
	run();
	assert_int_equal(F.rc, HF_ESERVER);
	assert_int_equal(F.res.outcome, HF_APPLY_FAILED);
	assert_int_equal(F.res.stats.failed, 1);
	assert_int_equal(F.res.stats.skipped, 1);
	assert_int_equal(sent("TestDeviceUpsert"), 0);
	assert_int_equal(sent("BranchMerge"), 0);
	assert_true(F.res.branch_deleted);
	assert_int_equal(stored_change(0), HF_CH_FAILED);
	assert_int_equal(stored_change(1), HF_CH_SKIPPED);
	assert_string_equal(hf_plan_at(F.plan, 0)->error,
	                    "refused by the fake");
	assert_stored(F.st, "failed");
}

/* keep_going: every independent change still runs, then rollback. */
static void test_apply_run__keep_going(void **state)
{
	(void)state;
	world(ONE_WAVE);
	F.o.batch_size = 1;
	F.o.keep_going = 1;
	F.fail_name = "a";
	defaults();
	run();
	assert_int_equal(F.res.outcome, HF_APPLY_FAILED);
	assert_int_equal(sent("TestSiteUpsert"), 3);
	assert_int_equal(F.res.stats.applied, 2);
	assert_int_equal(F.res.stats.failed, 1);
	assert_int_equal(sent("BranchMerge"), 0);
	assert_stored(F.st, "failed");
	/* without it, the requests after the failure are not sent */
	teardown(NULL);
	setup(NULL);
	world(ONE_WAVE);
	F.o.batch_size = 1;
	F.fail_name = "a";
	defaults();
	run();
	assert_int_equal(sent("TestSiteUpsert"), 1);
	assert_int_equal(F.res.stats.skipped, 2);
}

/* keep_branch: no merge, no delete. */
static void test_apply_run__keep_branch(void **state)
{
	(void)state;
	world(TWO_WAVES);
	F.o.keep_branch = 1;
	defaults();
	run();
	assert_int_equal(F.rc, 0);
	assert_int_equal(F.res.outcome, HF_APPLY_DONE);
	assert_int_equal(sent("BranchMerge"), 0);
	assert_int_equal(sent("BranchDelete"), 0);
	assert_stored(F.st, "applied");
}

/* direct: straight to the (non-default) branch, no branch operations. */
static void test_apply_run__direct(void **state)
{
	const struct hf_fake_req *r;

	(void)state;
	world(TWO_WAVES);
	F.o.branch = "dev";
	F.o.direct = 1;
	defaults();
	run();
	assert_int_equal(F.rc, 0);
	assert_int_equal(F.res.outcome, HF_APPLY_DONE);
	assert_int_equal(sent("Branch"), 0);
	r = hf_fake_at(F.fake, (size_t)first("TestSiteUpsert"));
	assert_string_equal(r->branch, "dev");
	teardown(NULL);
	setup(NULL);
	/* a failure stays: nothing to delete */
	world(TWO_WAVES);
	F.o.branch = "dev";
	F.o.direct = 1;
	F.fail_name = "d1";
	defaults();
	run();
	assert_int_equal(F.res.outcome, HF_APPLY_FAILED);
	assert_int_equal(sent("Branch"), 0);
	assert_int_equal(stored_change(0), HF_CH_APPLIED);
	assert_stored(F.st, "failed");
}

/* Only the default branch goes through a work branch; others need direct. */
static void test_apply_run__branch_rules(void **state)
{
	(void)state;
	world(TWO_WAVES);
	defaults();
	F.o.branch = "dev";
	run();
	assert_int_equal(F.res.outcome, HF_APPLY_NEEDS_DIRECT);
	F.o.branch = "main";
	F.o.direct = 1;
	run();
	assert_int_equal(F.res.outcome, HF_APPLY_DIRECT_DEFAULT);
	assert_int_equal(hf_fake_count(F.fake), 0);
	assert_stored(F.st, "planned");
}

/* Only a planned plan is applied; a cancelled one stays planned. */
static void test_apply_run__not_planned_or_cancelled(void **state)
{
	hf_error err = HF_ERROR_INIT;

	(void)state;
	world(TWO_WAVES);
	defaults();
	F.cancel = 1;
	run();
	assert_int_equal(F.res.outcome, HF_APPLY_CANCELLED);
	assert_int_equal(hf_fake_count(F.fake), 0);
	assert_stored(F.st, "planned");
	F.cancel = 0;
	assert_int_equal(hf_store_move(F.st, hf_plan_meta(F.plan)->id,
	                               HF_PLAN_PLANNED, HF_PLAN_APPLIED, &err),
	                 0);
	snprintf(hf_plan_meta(F.plan)->status, 16, "applied");
	run();
	assert_int_equal(F.rc, HF_EINVAL);
	assert_int_equal(F.res.outcome, HF_APPLY_NOT_PLANNED);
	assert_int_equal(F.res.status, HF_PLAN_APPLIED);
	assert_int_equal(hf_fake_count(F.fake), 0);
}

/* A create that exists now: planned -> stale, nothing written. */
static void test_apply_run__stale_create(void **state)
{
	(void)state;
	world(TWO_WAVES);
	F.exists = "paris";
	defaults();
	run();
	assert_int_equal(F.rc, HF_ECONFLICT);
	assert_int_equal(F.res.outcome, HF_APPLY_STALE);
	assert_int_equal(F.msgs[HF_AMSG_STALE], 1);
	assert_non_null(strstr(F.text[HF_AMSG_STALE], "planned as a create"));
	assert_int_equal(sent("Branch"), 0);
	assert_int_equal(sent("Upsert("), 0);
	assert_stored(F.st, "stale");
}

/*
 * Creates into kinds that hold objects: counted first, then the kind is
 * paged when that costs less than looking each create up (3 objects
 * against 1 lookup), and a page listing the create's HFID makes the plan
 * stale. Listed objects that are not planned creates change nothing.
 */
static void test_apply_run__creates_checked_by_paging(void **state)
{
	int round;

	(void)state;
	for (round = 0; round < 2; round++) {
		world(TWO_WAVES);
		F.kind_count = 3;
		F.page_hfid = round == 0 ? "paris" : "rome";
		defaults();
		run();
		/* one count round for both kinds, a page each, no lookup */
		assert_int_equal(sent("query { k0:"), 1);
		assert_int_equal(sent("(offset: $offset"), 2);
		assert_int_equal(sent("(hfid: $h"), 0);
		if (round == 0) {
			assert_int_equal(F.rc, HF_ECONFLICT);
			assert_int_equal(F.res.outcome, HF_APPLY_STALE);
			assert_int_equal(F.msgs[HF_AMSG_STALE], 1);
			assert_non_null(
			        strstr(F.text[HF_AMSG_STALE],
			               "TestSite "
			               "[\"paris\"]: planned as a create"));
			assert_int_equal(sent("Branch"), 0);
		} else {
			assert_int_equal(F.rc, 0);
			assert_int_equal(F.res.outcome, HF_APPLY_DONE);
		}
		teardown(NULL);
		setup(NULL);
	}
}

/*
 * Strict answers to the create checks: a count, a lookup or a page that
 * is not what was asked for is an error naming the kind (or the object);
 * never "absent", so nothing is written and the plan stays planned.
 */
static void test_apply_run__malformed_create_checks(void **state)
{
	static const struct {
		const char *match, *answer, *says;
		long count;
	} bad[] = {
		{ "query { k0:",
		  "{\"data\": {\"k0\": {\"count\": \"0\"}, \"k1\": {\"count\": 0}}}",
		  "count of TestSite: count is not a non-negative integer", 0 },
		{ "query { k0:",
		  "{\"data\": {\"k0\": {\"count\": -1}, \"k1\": {\"count\": 0}}}",
		  "count of TestSite: count is not a non-negative integer", 0 },
		{ "query { k0:",
		  "{\"data\": {\"k0\": {\"count\": 1.5}, \"k1\": {\"count\": 0}}}",
		  "count of TestSite: count is not a non-negative integer", 0 },
		{ "query { k0:",
		  "{\"data\": {\"k0\": {\"count\": 0}, \"k1\": null}}",
		  "count of TestDevice: no result object", 0 },
		{ "query { k0:", "{\"data\": {\"k0\": {\"count\": 0}}}",
		  "count of TestDevice: no result object", 0 },
		{ "(hfid: $h", "{\"data\": {\"a0\": {\"count\": \"1\"}}}",
		  "lookup of TestSite [\"paris\"]: count is not a non-negative integer",
		  1000000 },
		{ "(hfid: $h", "{\"data\": {\"a0\": {\"count\": null}}}",
		  "lookup of TestSite [\"paris\"]: count is not a non-negative integer",
		  1000000 },
		{ "(hfid: $h", "{\"data\": {}}",
		  "lookup of TestSite [\"paris\"]: no result object", 1000000 },
		{ "(offset: $offset",
		  "{\"data\": {\"TestSite\": {\"edges\": {}}}}",
		  "check of the TestSite creates: no TestSite.edges list", 3 },
		{ "(offset: $offset",
		  "{\"data\": {\"TestSite\": {\"edges\": "
		  "[{\"node\": {\"hfid\": \"paris\"}}]}}}",
		  "a node whose hfid is not a list of strings", 3 },
		{ "(offset: $offset",
		  "{\"data\": {\"TestSite\": {\"edges\": "
		  "[{\"node\": null}]}}}",
		  "a node whose hfid is not a list of strings", 3 },
		{ "(offset: $offset",
		  "{\"data\": {\"TestSite\": {\"edges\": "
		  "[{\"node\": {\"hfid\": [\"paris\", 7]}}]}}}",
		  "a node whose hfid is not a list of strings", 3 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		world(TWO_WAVES);
		F.kind_count = bad[i].count;
		F.page_hfid = "x";
		script(bad[i].match, 1, bad[i].answer);
		defaults();
		run();
		if (!strstr(F.err.msg, bad[i].says) ||
		    F.res.outcome != HF_APPLY_CHECK_FAILED)
			fail_msg("case %zu: outcome %d: %s", i,
			         (int)F.res.outcome, F.err.msg);
		assert_int_equal(F.rc, HF_ESERVER);
		assert_int_equal(sent("Branch"), 0);
		assert_int_equal(sent("Upsert("), 0);
		assert_stored(F.st, "planned");
		teardown(NULL);
		setup(NULL);
	}
}

/*
 * Strict answers to the mutations: only {"ok": true} (and, for a create,
 * a non-empty string id) is done. Anything else fails the change, naming
 * what was wrong; nothing is merged.
 */
static void test_apply_run__malformed_mutation_answers(void **state)
{
	static const struct {
		const char *c0, *says;
	} bad[] = {
		{ "{\"ok\": \"true\", \"object\": {\"id\": \"x\"}}",
		  "ok is not a boolean" },
		{ "{\"ok\": 1, \"object\": {\"id\": \"x\"}}",
		  "ok is not a boolean" },
		{ "{\"ok\": null, \"object\": {\"id\": \"x\"}}",
		  "the result has no ok" },
		{ "{\"object\": {\"id\": \"x\"}}", "the result has no ok" },
		{ "{\"ok\": false, \"object\": {\"id\": \"x\"}}",
		  "did not answer ok" },
		{ "\"done\"", "the result is not an object" },
		{ "[true]", "the result is not an object" },
		{ "null", "the server gave no result" },
		{ "{\"ok\": true, \"object\": {\"id\": 7}}",
		  "not a string (or is empty)" },
		{ "{\"ok\": true, \"object\": {\"id\": \"\"}}",
		  "not a string (or is empty)" },
		{ "{\"ok\": true, \"object\": {\"id\": null}}", "gave no id" },
		{ "{\"ok\": true, \"object\": \"x\"}", "gave no id" },
		{ "{\"ok\": true}", "gave no id" },
	};
	char answer[400];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		world(ONE_WAVE);
		snprintf(
		        answer, sizeof(answer),
		        "{\"data\": {\"c0\": %s,"
		        " \"c1\": {\"ok\": true, \"object\": {\"id\": \"y\"}},"
		        " \"c2\": {\"ok\": true, \"object\": {\"id\": \"z\"}}}}",
		        bad[i].c0);
		script("TestSiteUpsert", -1, answer);
		defaults();
		run();
		if (F.res.outcome != HF_APPLY_FAILED ||
		    !hf_plan_at(F.plan, 0)->error ||
		    !strstr(hf_plan_at(F.plan, 0)->error, bad[i].says))
			fail_msg("case %zu: outcome %d: %s", i,
			         (int)F.res.outcome,
			         hf_plan_at(F.plan, 0)->error
			                 ? hf_plan_at(F.plan, 0)->error
			                 : "(no error)");
		assert_int_equal(F.res.stats.failed, 1);
		assert_int_equal(stored_change(0), HF_CH_FAILED);
		assert_int_equal(sent("RelationshipAdd"), 0);
		assert_int_equal(sent("BranchMerge"), 0);
		assert_stored(F.st, "failed");
		teardown(NULL);
		setup(NULL);
	}
}

/* A group edit answered with anything but {"ok": true} fails the apply. */
static void test_apply_run__malformed_group_answers(void **state)
{
	static const char *const bad[] = {
		"{\"data\": {\"RelationshipAdd\": {\"ok\": \"true\"}}}",
		"{\"data\": {\"RelationshipAdd\": {}}}",
		"{\"data\": {\"RelationshipAdd\": true}}",
		"{\"data\": {\"RelationshipAdd\": null}}",
		"{\"data\": {}}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		world(ONE_WAVE);
		script("RelationshipAdd", 1, bad[i]);
		defaults();
		run();
		if (F.res.outcome != HF_APPLY_FAILED ||
		    !strstr(F.err.msg,
		            "cannot add 3 objects to group hubform-default"))
			fail_msg("case %zu: outcome %d: %s", i,
			         (int)F.res.outcome, F.err.msg);
		assert_int_equal(sent("BranchMerge"), 0);
		assert_true(F.res.branch_deleted);
		assert_stored(F.st, "failed");
		teardown(NULL);
		setup(NULL);
	}
}

/* The schema changed: stale without reading any object. */
static void test_apply_run__stale_schema(void **state)
{
	(void)state;
	world(TWO_WAVES);
	snprintf(hf_plan_meta(F.plan)->schema_hash, 65, "h0");
	defaults();
	run();
	assert_int_equal(F.res.outcome, HF_APPLY_STALE);
	assert_int_equal(F.msgs[HF_AMSG_STALE_SCHEMA], 1);
	assert_int_equal(hf_fake_count(F.fake), 0);
	assert_stored(F.st, "stale");
}

/* An update: applied when the live object is as planned, stale otherwise. */
static void test_apply_run__update_and_stale_update(void **state)
{
	const struct hf_fake_req *r;
	json_t *d0;

	(void)state;
	F.live_desc = "old";
	world(UPDATE);
	defaults();
	run();
	assert_int_equal(F.rc, 0);
	r = hf_fake_at(F.fake, (size_t)first("TestSiteUpdate"));
	d0 = json_object_get(r->variables, "d0");
	/* only the changed field, by id */
	assert_int_equal(json_object_size(d0), 2);
	assert_string_equal(json_string_value(json_object_get(d0, "id")),
	                    "n-lyon");
	assert_string_equal(
	        json_string_value(json_object_get(
	                json_object_get(d0, "description"), "value")),
	        "new");
	assert_stored(F.st, "applied");
	teardown(NULL);
	setup(NULL);
	F.live_desc = "old";
	world(UPDATE);
	F.live_desc = "edited";
	defaults();
	run();
	assert_int_equal(F.res.outcome, HF_APPLY_STALE);
	assert_non_null(strstr(F.text[HF_AMSG_STALE], "changed in Infrahub"));
	assert_stored(F.st, "stale");
	teardown(NULL);
	setup(NULL);
	F.live_desc = "old";
	world(UPDATE);
	F.live_desc = NULL;
	defaults();
	run();
	assert_int_equal(F.res.outcome, HF_APPLY_STALE);
	assert_non_null(strstr(F.text[HF_AMSG_STALE], "deleted since"));
}

/* The check cannot run (no answer): nothing written, the plan stays planned. */
static void test_apply_run__check_fails(void **state)
{
	(void)state;
	world(TWO_WAVES);
	assert_int_equal(
	        hf_fake_fail(F.fake, "query { k0:", 1, HF_EAUTH, "denied"), 0);
	defaults();
	run();
	assert_int_equal(F.rc, HF_EAUTH);
	assert_int_equal(F.res.outcome, HF_APPLY_CHECK_FAILED);
	assert_int_equal(sent("Branch"), 0);
	assert_stored(F.st, "planned");
}

/* Nothing to change: planned -> applying -> applied, no branch. */
static void test_apply_run__nothing(void **state)
{
	(void)state;
	world(NOTHING);
	defaults();
	run();
	assert_int_equal(F.rc, 0);
	assert_int_equal(F.res.outcome, HF_APPLY_NOTHING);
	assert_int_equal(sent("Branch"), 0);
	assert_stored(F.st, "applied");
}

/* Another plan being applied to the same target: refused (or waited for). */
static void test_apply_run__busy(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hf_plan *other = make_plan(TWO_WAVES, "main", "other");

	(void)state;
	world(TWO_WAVES);
	defaults();
	assert_int_equal(hf_store_save(F.st, other, &err), 0);
	assert_int_equal(hf_store_move(F.st, hf_plan_meta(other)->id,
	                               HF_PLAN_PLANNED, HF_PLAN_APPLYING, &err),
	                 0);
	F.o.lock_timeout = 1;
	run();
	assert_int_equal(F.rc, HF_ECONFLICT);
	assert_int_equal(F.res.outcome, HF_APPLY_BUSY);
	assert_string_equal(F.res.other, hf_plan_meta(other)->id);
	assert_int_equal(F.msgs[HF_AMSG_WAITING], 1);
	assert_int_equal(sent("Branch"), 0);
	assert_stored(F.st, "planned");
	hf_plan_free(other);
}

/*
 * planned -> applying must hold in every store: when the plan file's copy
 * is no longer planned, the plan store is put back and nothing is sent.
 */
static void test_apply_run__start_is_all_or_nothing(void **state)
{
	hf_error err = HF_ERROR_INIT;
	char path2[600];
	hf_store *file = new_store(path2, sizeof(path2));

	(void)state;
	world(TWO_WAVES);
	defaults();
	assert_int_equal(hf_store_save(file, F.plan, &err), 0);
	assert_int_equal(hf_store_move(file, hf_plan_meta(F.plan)->id,
	                               HF_PLAN_PLANNED, HF_PLAN_APPLIED, &err),
	                 0);
	F.o.stores[1] = file;
	F.o.n_stores = 2;
	run();
	assert_int_equal(F.rc, HF_ECONFLICT);
	assert_int_equal(F.res.outcome, HF_APPLY_NOT_STARTED);
	assert_int_equal(sent("Branch"), 0);
	assert_stored(F.st, "planned");
	hf_store_close(file);
}

/* Both stores follow every transition. */
static void test_apply_run__every_store_records(void **state)
{
	hf_error err = HF_ERROR_INIT;
	char path2[600];
	hf_store *file = new_store(path2, sizeof(path2));

	(void)state;
	world(TWO_WAVES);
	defaults();
	assert_int_equal(hf_store_save(file, F.plan, &err), 0);
	F.o.stores[1] = file;
	F.o.n_stores = 2;
	run();
	assert_int_equal(F.rc, 0);
	assert_stored(F.st, "applied");
	assert_stored(file, "applied");
	hf_store_close(file);
}

/* A store that refuses the final status: said, and never "done". */
static void test_apply_run__unrecorded_status_is_an_error(void **state)
{
	sqlite3 *db = NULL;

	(void)state;
	world(TWO_WAVES);
	defaults();
	assert_int_equal(sqlite3_open(F.path, &db), SQLITE_OK);
	assert_int_equal(
	        sqlite3_exec(
	                db,
	                "CREATE TRIGGER no_applied BEFORE UPDATE "
	                "OF status ON plans WHEN NEW.status = 'applied' "
	                "BEGIN SELECT RAISE(ABORT, 'refused by trigger'); END;",
	                NULL, NULL, NULL),
	        SQLITE_OK);
	sqlite3_close(db);
	run();
	assert_int_equal(F.res.outcome, HF_APPLY_DONE);
	assert_false(F.res.recorded);
	assert_int_equal(F.rc, HF_ERR);
	assert_int_equal(F.msgs[HF_AMSG_RECORD_STATUS], 1);
	assert_non_null(
	        strstr(F.text[HF_AMSG_RECORD_STATUS], "refused by trigger"));
}

/* The stop flag between waves: rolled back, failed. */
static void test_apply_run__stop_between_waves(void **state)
{
	(void)state;
	world(TWO_WAVES);
	F.stop_at_wave = 1;
	defaults();
	run();
	assert_int_equal(F.rc, HF_ERR);
	assert_string_equal(F.err.msg, "interrupted");
	assert_int_equal(F.res.outcome, HF_APPLY_FAILED);
	assert_int_equal(sent("TestDeviceUpsert"), 0);
	assert_int_equal(sent("BranchMerge"), 0);
	assert_true(F.res.branch_deleted);
	assert_int_equal(stored_change(1), HF_CH_SKIPPED);
	assert_stored(F.st, "failed");
}

/* The stop flag inside a wave: requests not yet started are not sent. */
static void test_apply_run__stop_inside_a_wave(void **state)
{
	(void)state;
	world(ONE_WAVE);
	F.o.batch_size = 1;
	F.stop_in_mutation = 1;
	defaults();
	run();
	assert_int_equal(F.res.outcome, HF_APPLY_FAILED);
	assert_int_equal(sent("TestSiteUpsert"), 1);
	assert_int_equal(F.res.stats.applied, 1);
	assert_int_equal(F.res.stats.skipped, 2);
	assert_true(F.res.branch_deleted);
	assert_stored(F.st, "failed");
}

/* Past the deadline after a wave: said, rolled back. */
static void test_apply_run__deadline(void **state)
{
	(void)state;
	world(TWO_WAVES);
	F.o.deadline = 1; /* long past */
	defaults();
	run();
	assert_int_equal(F.res.outcome, HF_APPLY_FAILED);
	assert_string_equal(F.err.msg, "stopped");
	assert_int_equal(F.msgs[HF_AMSG_DEADLINE], 1);
	assert_int_equal(sent("TestDeviceUpsert"), 0);
	assert_true(F.res.branch_deleted);
	assert_stored(F.st, "failed");
}

/* BranchCreate answered, then the next run (the first wave's) fails. */
static int create_then_fail(void *payload, const struct hf_fake_req *r,
                            json_t **answer, hf_error *err)
{
	struct fx *f = payload;

	(void)r;
	(void)err;
	hf_fake_fail_run(f->fake, HF_ENET);
	*answer = json_pack("{s:{s:{s:b}}}", "data", "BranchCreate", "ok", 1);
	return 0;
}

/* The transport's run fails: nothing sent, rolled back, failed. */
static void test_apply_run__transport_run_fails(void **state)
{
	(void)state;
	world(TWO_WAVES);
	assert_int_equal(hf_fake_handler(F.fake, "BranchCreate", 1,
	                                 create_then_fail, &F),
	                 0);
	defaults();
	run();
	assert_int_equal(F.rc, HF_ENET);
	assert_int_equal(F.res.outcome, HF_APPLY_FAILED);
	assert_int_equal(sent("Upsert("), 0);
	assert_int_equal(F.res.stats.skipped, 2);
	assert_true(F.res.branch_deleted);
	assert_stored(F.st, "failed");
	teardown(NULL);
	setup(NULL);
	/* the first run is the probes': then the check cannot run */
	world(TWO_WAVES);
	defaults();
	hf_fake_fail_run(F.fake, HF_ENET);
	run();
	assert_int_equal(F.res.outcome, HF_APPLY_CHECK_FAILED);
	assert_stored(F.st, "planned");
}

/* ---- recovery ----------------------------------------------------------- */

static void applying(void)
{
	hf_error err = HF_ERROR_INIT;

	assert_int_equal(hf_store_move(F.st, hf_plan_meta(F.plan)->id,
	                               HF_PLAN_PLANNED, HF_PLAN_APPLYING, &err),
	                 0);
	snprintf(hf_plan_meta(F.plan)->status, 16, "applying");
	F.o.recover = 1;
}

/* The branch says MERGED: applied; the branch is deleted. */
static void test_apply_run__recover_merged(void **state)
{
	(void)state;
	world(TWO_WAVES);
	applying();
	script_branch("MERGED");
	defaults();
	run();
	assert_int_equal(F.rc, 0);
	assert_int_equal(F.res.outcome, HF_APPLY_RECOVERED_APPLIED);
	assert_int_equal(F.msgs[HF_AMSG_BRANCH_DELETED], 1);
	assert_int_equal(sent("BranchDelete"), 1);
	assert_int_equal(sent("Upsert("), 0);
	assert_stored(F.st, "applied");
}

/* The branch is open (never merged): failed. */
static void test_apply_run__recover_open(void **state)
{
	(void)state;
	world(TWO_WAVES);
	applying();
	script_branch("OPEN");
	defaults();
	run();
	assert_int_equal(F.res.outcome, HF_APPLY_RECOVERED_FAILED);
	assert_stored(F.st, "failed");
}

/*
 * An old server without Branch.status, the branch gone: the target says
 * whether it landed (every create present) or not (none).
 */
static void test_apply_run__recover_from_the_target(void **state)
{
	int round;

	(void)state;
	for (round = 0; round < 3; round++) {
		world(TWO_WAVES);
		applying();
		script("Branch(name: $n)", 1,
		       "{\"data\": null, \"errors\": "
		       "[{\"message\": \"Cannot query field status\"}]}");
		script("is_default", 1,
		       "{\"data\": {\"Branch\": [{\"name\": \"main\", "
		       "\"is_default\": true}]}}");
		/* round 0: both present; 1: none; 2: only paris */
		F.kind_count = 1000000; /* counted: then each looked up */
		script("(hfid: $h", 2,
		       round == 0
		               ? "{\"data\": {\"a0\": {\"count\": 1}, \"a1\": {\"count\": 1}}}"
		       : round == 1
		               ? "{\"data\": {\"a0\": {\"count\": 0}, \"a1\": {\"count\": 0}}}"
		               : "{\"data\": {\"a0\": {\"count\": 1}, \"a1\": {\"count\": 0}}}");
		defaults();
		run();
		assert_int_equal(F.rc, 0);
		assert_int_equal(F.msgs[HF_AMSG_BRANCH_GONE], 1);
		assert_int_equal(sent("BranchDelete"), 0);
		assert_int_equal(F.res.outcome,
		                 round == 0 ? HF_APPLY_RECOVERED_APPLIED
		                            : HF_APPLY_RECOVERED_FAILED);
		assert_int_equal(F.msgs[HF_AMSG_PARTLY_PRESENT], round == 2);
		assert_stored(F.st, round == 0 ? "applied" : "failed");
		teardown(NULL);
		setup(NULL);
	}
}

/* Recovery that cannot tell, or cannot delete: the plan stays applying. */
static void test_apply_run__recover_unsettled(void **state)
{
	(void)state;
	world(TWO_WAVES);
	applying();
	assert_int_equal(
	        hf_fake_fail(F.fake, "Branch", -1, HF_ENET, "no route"), 0);
	run();
	assert_int_equal(F.res.outcome, HF_APPLY_RECOVER_UNKNOWN);
	assert_int_equal(F.rc, HF_ENET);
	assert_stored(F.st, "applying");
	teardown(NULL);
	setup(NULL);
	world(TWO_WAVES);
	applying();
	script_branch("OPEN");
	script("BranchDelete", 1,
	       "{\"data\": {\"BranchDelete\": null}, \"errors\": "
	       "[{\"message\": \"database is locked\"}]}");
	defaults();
	run();
	assert_int_equal(F.res.outcome, HF_APPLY_RECOVER_KEPT);
	assert_non_null(strstr(F.err.msg, "database is locked"));
	assert_stored(F.st, "applying");
}

/* Only a plan left applying is recovered. */
static void test_apply_run__recover_needs_applying(void **state)
{
	(void)state;
	world(TWO_WAVES);
	F.o.recover = 1;
	defaults();
	run();
	assert_int_equal(F.res.outcome, HF_APPLY_NOT_APPLYING);
	assert_int_equal(F.res.status, HF_PLAN_PLANNED);
	assert_int_equal(hf_fake_count(F.fake), 0);
}

/* ---- ownership and deletes --------------------------------------------- */

/* The target's group hubform-<stack> is `id` (NULL: none); before defaults. */
static void group_is(const char *id)
{
	char answer[200];

	snprintf(answer, sizeof(answer),
	         "{\"data\": {\"CoreStandardGroup\": "
	         "{\"edges\": [%s%s%s]}}}",
	         id ? "{\"node\": {\"id\": \"" : "", id ? id : "",
	         id ? "\"}}" : "");
	script("CoreStandardGroup(name__value", -1, answer);
}

/* The node ids of the first request containing `match`'s $m.nodes. */
static char *member_ids(const char *match)
{
	const struct hf_fake_req *r;
	hf_buf b = HF_BUF_INIT;
	json_t *n;
	size_t i;
	long at = first(match);

	assert_true(at >= 0);
	r = hf_fake_at(F.fake, (size_t)at);
	json_array_foreach(
	        json_object_get(json_object_get(r->variables, "m"), "nodes"), i,
	        n) hf_buf_addf(&b, "%s%s", i ? "," : "",
	                       json_string_value(json_object_get(n, "id")));
	return hf_buf_detach(&b);
}

static void assert_members(const char *match, const char *ids)
{
	char *got = member_ids(match);

	assert_string_equal(got, ids);
	hf_free(got);
}

/*
 * No group yet: the lookup on the target finds none, the group is made in
 * the work branch (an Upsert matched by name) and every created object
 * joins it by the id its create's answer gave, before the merge.
 */
static void test_apply_run__creates_join_a_new_group(void **state)
{
	const struct hf_fake_req *r;
	json_t *g;

	(void)state;
	world(TWO_WAVES);
	defaults();
	run();
	assert_int_equal(F.rc, 0);
	assert_int_equal(F.res.outcome, HF_APPLY_DONE);
	/* looked up on the target, before anything is written */
	r = hf_fake_at(F.fake, (size_t)first("CoreStandardGroup(name__value"));
	assert_null(r->branch);
	assert_string_equal(
	        json_string_value(json_object_get(r->variables, "name")),
	        "hubform-default");
	assert_true(first("CoreStandardGroup(name__value") <
	            first("BranchCreate"));
	/* made in the branch, named by a variable */
	r = hf_fake_at(F.fake, (size_t)first("CoreStandardGroupUpsert"));
	assert_string_equal(r->branch, F.res.branch);
	g = json_object_get(r->variables, "g");
	assert_string_equal(json_string_value(json_object_get(
	                            json_object_get(g, "name"), "value")),
	                    "hubform-default");
	assert_string_equal(
	        json_string_value(json_object_get(
	                json_object_get(g, "description"), "value")),
	        "hubform stack default");
	assert_null(strstr(r->query, "hubform-"));
	/* filled after the last create, before the merge */
	assert_true(first("TestDeviceUpsert") <
	            first("CoreStandardGroupUpsert"));
	assert_true(first("CoreStandardGroupUpsert") <
	            first("RelationshipAdd"));
	assert_true(first("RelationshipAdd") < first("BranchMerge"));
	r = hf_fake_at(F.fake, (size_t)first("RelationshipAdd"));
	assert_string_equal(r->branch, F.res.branch);
	assert_true(r->flags & HF_TX_RETRY);
	assert_string_equal(json_string_value(json_object_get(
	                            json_object_get(r->variables, "m"), "id")),
	                    "g-1");
	assert_string_equal(
	        json_string_value(json_object_get(
	                json_object_get(r->variables, "m"), "name")),
	        "members");
	assert_members("RelationshipAdd", "id-paris,id-d1");
	assert_int_equal(sent("RelationshipRemove"), 0);
	/* 2 creates + the group + its members */
	assert_int_equal(F.res.stats.requests, 4);
}

/*
 * A kind with member_of_groups (as the server gives every node that is not
 * a group): its creates join the stack group in their own mutation, after
 * the groups the files give them; the group is made before the first wave.
 * A kind without it (TestSite here) still joins by a membership edit.
 */
static const char schema_groups_text[] =
        "{\"main\": \"h1\", \"nodes\": ["
        " {\"namespace\": \"Test\", \"name\": \"Site\","
        "  \"human_friendly_id\": [\"name__value\"],"
        "  \"attributes\": [{\"name\": \"name\", \"kind\": \"Text\", \"unique\": true}]},"
        " {\"namespace\": \"Test\", \"name\": \"Device\","
        "  \"human_friendly_id\": [\"name__value\"],"
        "  \"attributes\": [{\"name\": \"name\", \"kind\": \"Text\", \"unique\": true}],"
        "  \"relationships\": [{\"name\": \"member_of_groups\","
        "   \"peer\": \"CoreGroup\", \"kind\": \"Group\","
        "   \"cardinality\": \"many\", \"optional\": true}]}]}";

static hf_plan *groups_plan(const char *group_id)
{
	hf_error err = HF_ERROR_INIT;
	struct hf_change c;
	hf_plan *p = NULL;

	assert_int_equal(hf_plan_new(&p, ADDRESS, "main", &err), 0);
	snprintf(hf_plan_meta(p)->schema_hash, 65, "h1");
	if (group_id)
		assert_int_equal(
		        hf_plan_set_stack(p, "default", group_id, &err), 0);
	add_site(p, "paris");
	memset(&c, 0, sizeof(c));
	c.action = HF_ACT_CREATE;
	c.kind = hf_strdup("TestDevice");
	c.hfid = json_pack("[s]", "d1");
	c.after = json_pack("{s:s, s:[{s:s}]}", "name", "d1",
	                    "member_of_groups", "id", "g-ops");
	add(p, &c);
	memset(&c, 0, sizeof(c));
	c.action = HF_ACT_CREATE;
	c.kind = hf_strdup("TestDevice");
	c.hfid = json_pack("[s]", "d2");
	c.after = json_pack("{s:s}", "name", "d2");
	add(p, &c);
	/* the file names the stack's group itself, by HFID */
	memset(&c, 0, sizeof(c));
	c.action = HF_ACT_CREATE;
	c.kind = hf_strdup("TestDevice");
	c.hfid = json_pack("[s]", "d3");
	c.after = json_pack("{s:s, s:[{s:[s], s:s}]}", "name", "d3",
	                    "member_of_groups", "hfid", "hubform-default",
	                    "kind", "CoreGroup");
	add(p, &c);
	assert_int_equal(hf_plan_finish(p, &err), 0);
	return p;
}

/* The ids in member_of_groups of the mutation that creates `name`. */
static char *groups_sent(const char *name)
{
	const struct hf_fake_req *r;
	hf_buf b = HF_BUF_INIT;
	const char *key, *n;
	json_t *v, *e, *g;
	size_t i, j;

	for (i = 0; i < hf_fake_count(F.fake); i++) {
		r = hf_fake_at(F.fake, i);
		json_object_foreach(r->variables, key, v)
		{
			n = json_string_value(json_object_get(
			        json_object_get(v, "name"), "value"));
			if (!n || strcmp(n, name))
				continue;
			json_array_foreach(
			        json_object_get(v, "member_of_groups"), j, e)
			{
				/* by id, or the first part of its HFID */
				g = json_object_get(e, "id");
				if (!g)
					g = json_array_get(
					        json_object_get(e, "hfid"), 0);
				hf_buf_addf(&b, "%s%s", j ? "," : "",
				            json_string_value(g));
			}
			return hf_buf_detach(&b);
		}
	}
	return NULL;
}

static void assert_groups_sent(const char *name, const char *ids)
{
	char *got = groups_sent(name);

	assert_non_null(got);
	assert_string_equal(got, ids);
	hf_free(got);
}

static void use_groups_schema(void)
{
	json_t *j = json_loads(schema_groups_text, 0, NULL);

	assert_non_null(j);
	hf_schema_free(F.schema);
	F.schema = NULL;
	assert_int_equal(hf_schema_parse(&F.schema, j, NULL), 0);
	json_decref(j);
}

/* groups_plan(group_id) applied with the groups schema, in batches. */
static void run_groups(const char *group_id, int batch_size)
{
	use_groups_schema();
	F.plan = groups_plan(group_id);
	plan_saved();
	F.o.batch_size = batch_size;
	F.o.stop = &F.stop;
	F.o.no_lock = 1;
	defaults();
	run();
	if (F.rc)
		fail_msg("%s", F.err.msg);
	assert_int_equal(F.res.outcome, HF_APPLY_DONE);
}

static void test_apply_run__creates_join_in_their_mutation(void **state)
{
	(void)state;
	run_groups(NULL, 50);
	/* the group first, then the creates that name it */
	assert_true(first("CoreStandardGroupUpsert") >= 0);
	assert_true(first("CoreStandardGroupUpsert") < first("TestSiteUpsert"));
	assert_true(first("CoreStandardGroupUpsert") <
	            first("TestDeviceUpsert"));
	/* the files' groups kept, the stack's added; a site has none */
	assert_groups_sent("d1", "g-ops,g-1");
	assert_groups_sent("d2", "g-1");
	assert_groups_sent("d3", "hubform-default"); /* not twice */
	assert_groups_sent("paris", "");
	/* only the site needs a membership edit */
	assert_int_equal(sent("RelationshipAdd"), 1);
	assert_members("RelationshipAdd", "id-paris");
	assert_true(first("TestDeviceUpsert") < first("RelationshipAdd"));
	/* the group, the creates (one request), one edit */
	assert_int_equal(F.res.stats.requests, 3);
	assert_int_equal(F.res.stats.applied, 4);
}

/* A group the plan found: its id goes into the creates, none is made. */
static void test_apply_run__creates_join_the_planned_group(void **state)
{
	(void)state;
	group_is("g-planned");
	run_groups("g-planned", 1);
	assert_int_equal(sent("CoreStandardGroupUpsert"), 0);
	assert_groups_sent("d1", "g-ops,g-planned");
	assert_groups_sent("d2", "g-planned");
	assert_members("RelationshipAdd", "id-paris");
	assert_int_equal(sent("RelationshipAdd"), 1);
}

/* RelationshipAdd: records how many adds had been submitted at the first. */
static int adds_seen(void *payload, const struct hf_fake_req *r,
                     json_t **answer, hf_error *err)
{
	struct fx *f = payload;
	size_t i;

	(void)r;
	(void)err;
	if (!f->adds_at_first)
		for (i = 0; i < hf_fake_count(f->fake); i++)
			f->adds_at_first +=
			        strstr(hf_fake_at(f->fake, i)->query,
			               "RelationshipAdd") != NULL;
	*answer =
	        json_pack("{s:{s:{s:b}}}", "data", "RelationshipAdd", "ok", 1);
	return 0;
}

/*
 * A group edit is one operation whatever its size: batch_size does not
 * split it (one request for the three sites at batch size 2). group_chunk
 * does, and the chunks go one at a time (they all write the group node:
 * when the first is answered, the second has not been sent yet).
 */
static void test_apply_run__members_are_chunked(void **state)
{
	(void)state;
	world(ONE_WAVE);
	F.o.batch_size = 2;
	defaults();
	run();
	assert_int_equal(F.rc, 0);
	assert_int_equal(sent("RelationshipAdd"), 1);
	assert_members("RelationshipAdd", "id-a,id-b,id-c");
	/* 2 requests of creates, the group, one edit */
	assert_int_equal(F.res.stats.requests, 4);
	teardown(NULL);
	setup(NULL);
	world(ONE_WAVE);
	F.o.group_chunk = 2;
	assert_int_equal(
	        hf_fake_handler(F.fake, "RelationshipAdd", -1, adds_seen, &F),
	        0);
	defaults();
	run();
	assert_int_equal(F.rc, 0);
	assert_int_equal(sent("RelationshipAdd"), 2);
	assert_members("RelationshipAdd", "id-a,id-b");
	assert_int_equal(F.adds_at_first, 1);
	assert_int_equal(F.res.stats.applied, 3);
}

/* A plan that only updates owned objects leaves the group alone. */
static void test_apply_run__updates_do_not_touch_the_group(void **state)
{
	(void)state;
	F.live_desc = "old";
	world(UPDATE);
	defaults();
	run();
	assert_int_equal(F.rc, 0);
	assert_int_equal(sent("CoreStandardGroup"), 0);
	assert_int_equal(sent("Relationship"), 0);
}

/* A create the server answers without an id cannot be owned: failed. */
static void test_apply_run__create_without_id_fails(void **state)
{
	(void)state;
	world(ONE_WAVE);
	script("TestSiteUpsert", -1,
	       "{\"data\": {\"c0\": {\"ok\": true, \"object\": null},"
	       " \"c1\": {\"ok\": true, \"object\": {\"id\": \"x\"}},"
	       " \"c2\": {\"ok\": true, \"object\": {\"id\": \"y\"}}}}");
	defaults();
	run();
	assert_int_equal(F.res.outcome, HF_APPLY_FAILED);
	assert_int_equal(F.res.stats.failed, 1);
	assert_non_null(strstr(hf_plan_at(F.plan, 0)->error, "no id"));
	assert_int_equal(sent("RelationshipAdd"), 0);
	assert_int_equal(sent("BranchMerge"), 0);
}

/*
 * The whole prune: creates, then the group (the planned one, not made
 * again) gains the created and adopted objects and loses the forgotten
 * one, then the deletes run referrers first (each node's membership goes
 * with it), the cascade is checked gone, then the merge.
 */
static void test_apply_run__prune(void **state)
{
	const struct hf_fake_req *r;
	long d9, s9;

	(void)state;
	group_is("g-fin");
	world(PRUNE);
	defaults();
	run();
	if (F.rc)
		fail_msg("%s", F.err.msg);
	assert_int_equal(F.res.outcome, HF_APPLY_DONE);
	assert_int_equal(sent("CoreStandardGroupUpsert"), 0);
	assert_int_equal(
	        json_string_value(json_object_get(
	                hf_fake_at(
	                        F.fake,
	                        (size_t)first("CoreStandardGroup(name__value"))
	                        ->variables,
	                "name")) != NULL,
	        1);
	assert_string_equal(
	        json_string_value(json_object_get(
	                hf_fake_at(
	                        F.fake,
	                        (size_t)first("CoreStandardGroup(name__value"))
	                        ->variables,
	                "name")),
	        "hubform-fin");
	assert_members("RelationshipAdd", "id-paris,n-lyon");
	/* the forget leaves; the deletes' nodes take their membership along */
	assert_members("RelationshipRemove", "n-shared");
	r = hf_fake_at(F.fake, (size_t)first("RelationshipRemove"));
	assert_string_equal(json_string_value(json_object_get(
	                            json_object_get(r->variables, "m"), "id")),
	                    "g-fin");
	/* the deletes: one request a wave, by id in a variable, referrers first
	 */
	d9 = first("TestDeviceDelete(data: $d0)");
	s9 = first("TestSiteDelete(data: $d0)");
	assert_true(first("TestSiteUpsert") < first("RelationshipAdd"));
	assert_true(first("RelationshipAdd") < first("RelationshipRemove"));
	assert_true(first("RelationshipRemove") < d9);
	assert_true(d9 < s9);
	r = hf_fake_at(F.fake, (size_t)s9);
	assert_string_equal(r->branch, F.res.branch);
	assert_non_null(strstr(r->query, "$d0: DeleteInput!"));
	assert_true(r->flags & HF_TX_RETRY);
	assert_string_equal(json_string_value(json_object_get(
	                            json_object_get(r->variables, "d0"), "id")),
	                    "n-s9");
	assert_null(strstr(r->query, "n-s9"));
	/* the cascade is never sent, it is looked for on the branch */
	assert_int_equal(sent("TestDeviceDelete"), 1);
	assert_false(json_object_get(F.live, "n-d8"));
	assert_true(s9 < (long)hf_fake_count(F.fake) - 1);
	assert_true(s9 < first("BranchMerge"));
	assert_int_equal(F.res.stats.cascaded, 1);
	assert_int_equal(F.res.stats.applied, 6);
	assert_int_equal(F.res.stats.gone, 0);
	{
		size_t i;

		/* the store records no-ops' outcomes not at all: the adopted
		 * one in memory */
		for (i = 0; i < hf_plan_count(F.plan); i++)
			assert_int_equal(i == 1 ? hf_plan_at(F.plan, i)->status
			                        : stored_change(i),
			                 HF_CH_APPLIED);
	}
	assert_stored(F.st, "applied");
}

/* A refused delete: failed, what needs it first skipped, rolled back. */
static void test_apply_run__delete_refused_rolls_back(void **state)
{
	(void)state;
	group_is("g-fin");
	world(PRUNE);
	F.fail_id = "n-d9";
	defaults();
	run();
	assert_int_equal(F.rc, HF_ESERVER);
	assert_int_equal(F.res.outcome, HF_APPLY_FAILED);
	assert_int_equal(sent("TestSiteDelete"),
	                 0); /* s9 needs d9 gone first */
	assert_int_equal(sent("BranchMerge"), 0);
	assert_true(F.res.branch_deleted);
	assert_int_equal(stored_change(2), HF_CH_FAILED);
	assert_int_equal(stored_change(3), HF_CH_SKIPPED);
	assert_int_equal(stored_change(4), HF_CH_SKIPPED);
	assert_string_equal(hf_plan_at(F.plan, 2)->error,
	                    "refused by the fake");
	assert_stored(F.st, "failed");
}

/* A delete that finds its object gone is applied: absence was the goal. */
static void test_apply_run__delete_of_a_gone_object(void **state)
{
	(void)state;
	group_is("g-fin");
	world(PRUNE);
	F.gone_id = "n-d9";
	defaults();
	run();
	assert_int_equal(F.rc, 0);
	assert_int_equal(F.res.outcome, HF_APPLY_DONE);
	assert_int_equal(F.res.stats.gone, 1);
	assert_int_equal(stored_change(2), HF_CH_APPLIED);
	assert_null(hf_plan_at(F.plan, 2)->error);
	/* another refusal naming another node is a failure */
	teardown(NULL);
	setup(NULL);
	group_is("g-fin");
	world(PRUNE);
	script("TestDeviceDelete", 1,
	       "{\"data\": {\"c0\": null}, \"errors\": "
	       "[{\"message\": \"Unable to find the node n-other / TestSite in "
	       "the database.\", \"path\": [\"c0\"]}]}");
	defaults();
	run();
	assert_int_equal(F.res.outcome, HF_APPLY_FAILED);
	assert_int_equal(F.res.stats.gone, 0);
	assert_int_equal(stored_change(2), HF_CH_FAILED);
}

/* A cascade the server did not do: failed, rolled back. */
static void test_apply_run__cascade_not_done(void **state)
{
	(void)state;
	group_is("g-fin");
	world(PRUNE);
	F.no_cascade = 1;
	defaults();
	run();
	assert_int_equal(F.res.outcome, HF_APPLY_FAILED);
	assert_int_equal(stored_change(4), HF_CH_FAILED);
	assert_non_null(
	        strstr(hf_plan_at(F.plan, 4)->error, "did not cascade"));
	assert_non_null(strstr(hf_plan_at(F.plan, 4)->error, "TestSite n-s9"));
	assert_int_equal(sent("BranchMerge"), 0);
	assert_true(F.res.branch_deleted);
}

/*
 * The cascade check answered with a node that has no string id: an
 * error, never taken as "the cascade is gone".
 */
static void test_apply_run__malformed_cascade_answer(void **state)
{
	(void)state;
	group_is("g-fin");
	script("(ids: $ids) { edges { node { id } } }", 1,
	       "{\"data\": {\"TestDevice\":"
	       " {\"edges\": [{\"node\": {\"id\": 8}}]}}}");
	world(PRUNE);
	defaults();
	run();
	assert_int_equal(F.res.outcome, HF_APPLY_FAILED);
	assert_non_null(strstr(F.err.msg,
	                       "malformed answer to the check of the "
	                       "TestDevice cascades: a node without an id"));
	assert_int_equal(sent("BranchMerge"), 0);
	assert_true(F.res.branch_deleted);
}

/*
 * Staleness covers deletes and forgets: an object to delete that changed
 * or is gone, a forget whose object is gone, and the group not as planned
 * (gone, replaced, or made since a plan that had none): stale, nothing
 * written.
 */
static void test_apply_run__stale_prune(void **state)
{
	int round;

	(void)state;
	for (round = 0; round < 6; round++) {
		group_is(round == 3 ? NULL : round == 4 ? "g-other" : "g-fin");
		world(PRUNE);
		if (round == 0)
			live("TestSite", "n-s9", "s9-renamed", NULL);
		else if (round == 1)
			json_object_del(F.live, "n-d9");
		else if (round == 2)
			json_object_del(F.live, "n-shared");
		else if (round == 5)
			live("TestSite", "n-shared", "shared",
			     "changed"); /* fine */
		defaults();
		run();
		if (round == 5) {
			assert_int_equal(F.res.outcome, HF_APPLY_DONE);
		} else {
			assert_int_equal(F.rc, HF_ECONFLICT);
			assert_int_equal(F.res.outcome, HF_APPLY_STALE);
			assert_int_equal(sent("BranchCreate"), 0);
			assert_int_equal(sent("Delete(data: $d"), 0);
			assert_stored(F.st, "stale");
		}
		if (round == 0)
			assert_non_null(strstr(F.text[HF_AMSG_STALE],
			                       "[\"s9\"]: changed"));
		if (round == 1 || round == 2)
			assert_non_null(
			        strstr(F.text[HF_AMSG_STALE], "deleted since"));
		if (round == 3)
			assert_non_null(strstr(F.text[HF_AMSG_STALE],
			                       "hubform-fin: deleted"));
		if (round == 4)
			assert_non_null(
			        strstr(F.text[HF_AMSG_STALE], "replaced"));
		teardown(NULL);
		setup(NULL);
	}
	/* a plan that made no group, but one exists now */
	group_is("g-new");
	world(TWO_WAVES);
	defaults();
	run();
	assert_int_equal(F.res.outcome, HF_APPLY_STALE);
	assert_non_null(
	        strstr(F.text[HF_AMSG_STALE], "hubform-default: created"));
}

/* --max-deletes: more deletes (cascades count) are refused before anything. */
static void test_apply_run__max_deletes(void **state)
{
	(void)state;
	group_is("g-fin");
	world(PRUNE);
	F.o.limit_deletes = 1;
	F.o.max_deletes = 2;
	defaults();
	run();
	assert_int_equal(F.rc, HF_EINVAL);
	assert_int_equal(F.res.outcome, HF_APPLY_TOO_MANY_DELETES);
	assert_non_null(strstr(F.err.msg,
	                       "deletes 3 objects, more than the 2 allowed"));
	assert_int_equal(hf_fake_count(F.fake), 0);
	assert_int_equal(F.msgs[HF_AMSG_WRITING], 0);
	assert_stored(F.st, "planned");
	teardown(NULL);
	setup(NULL);
	group_is("g-fin");
	world(PRUNE);
	F.o.limit_deletes = 1;
	F.o.max_deletes = 3;
	defaults();
	run();
	assert_int_equal(F.res.outcome, HF_APPLY_DONE);
	/* 0 is a limit too */
	teardown(NULL);
	setup(NULL);
	world(ONE_WAVE);
	F.o.limit_deletes = 1;
	F.o.max_deletes = 0;
	defaults();
	run();
	assert_int_equal(F.res.outcome, HF_APPLY_DONE);
}

/* The group edit refused: failed, no delete sent, rolled back. */
static void test_apply_run__group_edit_fails(void **state)
{
	int round;

	(void)state;
	for (round = 0; round < 3; round++) {
		group_is(round == 2 ? NULL : "g-fin");
		if (round == 0)
			script("RelationshipAdd", 1,
			       "{\"data\": {\"RelationshipAdd\": null},"
			       " \"errors\": [{\"message\": \"injected fault\"}]}");
		else if (round == 1)
			assert_int_equal(
			        hf_fake_fail(F.fake, "RelationshipRemove", 1,
			                     HF_ENET, "connection reset"),
			        0);
		else
			script("CoreStandardGroupUpsert", 1,
			       "{\"data\": null, \"errors\":"
			       " [{\"message\": \"name must be unique\"}]}");
		world(round == 2 ? TWO_WAVES : PRUNE);
		defaults();
		run();
		assert_int_equal(F.res.outcome, HF_APPLY_FAILED);
		if (!strstr(F.err.msg,
		            round == 0 ? "cannot add 2 objects to group "
		                         "hubform-fin: injected fault"
		            : round == 1
		                    ? "cannot "
		                      "remove 1 object from group hubform-fin: connection "
		                      "reset"
		                    : "name must be unique"))
			fail_msg("round %d: %s", round, F.err.msg);
		assert_int_equal(sent("Delete(data: $d"), 0);
		assert_int_equal(sent("BranchMerge"), 0);
		assert_true(F.res.branch_deleted);
		if (round == 1) /* the forget was the removal itself */
			assert_int_equal(stored_change(5), HF_CH_FAILED);
		if (round < 2) {
			assert_int_equal(stored_change(2), HF_CH_SKIPPED);
			assert_int_equal(stored_change(4), HF_CH_SKIPPED);
		}
		assert_stored(F.st, "failed");
		teardown(NULL);
		setup(NULL);
	}
}

/* The stop flag after the creates: the deletes are never sent. */
static void test_apply_run__stop_before_deletes(void **state)
{
	(void)state;
	group_is("g-fin");
	world(PRUNE);
	F.stop_at_wave = 1; /* the creates' only wave */
	defaults();
	run();
	assert_int_equal(F.res.outcome, HF_APPLY_FAILED);
	assert_non_null(strstr(F.err.msg, "interrupted"));
	assert_int_equal(sent("Delete(data: $d"), 0);
	assert_int_equal(sent("Relationship"), 0);
	assert_int_equal(sent("BranchMerge"), 0);
	assert_true(F.res.branch_deleted);
}

/* Adoption alone is work: the adopted object joins the group. */
static void test_apply_run__adopt_only(void **state)
{
	hf_error err = HF_ERROR_INIT;

	(void)state;
	live("TestSite", "n-lyon", "lyon", "old");
	assert_int_equal(hf_plan_new(&F.plan, ADDRESS, "main", &err), 0);
	snprintf(hf_plan_meta(F.plan)->schema_hash, 65, "h1");
	add_adopt(F.plan);
	assert_int_equal(hf_plan_finish(F.plan, &err), 0);
	plan_saved();
	defaults();
	run();
	assert_int_equal(F.rc, 0);
	assert_int_equal(F.res.outcome, HF_APPLY_DONE);
	assert_members("RelationshipAdd", "n-lyon");
	assert_int_equal(F.res.stats.applied, 1);
	assert_int_equal(hf_plan_at(F.plan, 0)->status, HF_CH_APPLIED);
}

/* Site lyon adopted, its fields as text, as the diff and the store give it. */
static void adopt_text_world(const char *live_desc)
{
	hf_error err = HF_ERROR_INIT;
	struct hf_change c;
	json_t *fields = json_pack("{s:s}", "description", "old");

	live("TestSite", "n-lyon", "lyon", "old");
	assert_int_equal(hf_plan_new(&F.plan, ADDRESS, "main", &err), 0);
	snprintf(hf_plan_meta(F.plan)->schema_hash, 65, "h1");
	memset(&c, 0, sizeof(c));
	c.action = HF_ACT_NOOP;
	c.adopt = 1;
	c.kind = hf_strdup("TestSite");
	c.hfid = json_pack("[s]", "lyon");
	c.node_id = hf_strdup("n-lyon");
	c.text = hf_strdup("{\"description\":\"old\"}");
	live_fingerprint(c.fingerprint, "TestSite", "n-lyon", fields);
	json_decref(fields);
	add(F.plan, &c);
	assert_int_equal(hf_plan_finish(F.plan, &err), 0);
	live("TestSite", "n-lyon", "lyon", live_desc);
	plan_saved();
	defaults();
}

/*
 * A no-op in text form is checked and applied as it is: its fields are
 * read from the text for the check and dropped, never kept as trees
 * (a large plan's no-ops would all be trees at once); a change in
 * Infrahub since the plan is found and named all the same.
 */
static void test_apply_run__noop_text_checked_as_text(void **state)
{
	(void)state;
	adopt_text_world("old");
	run();
	assert_int_equal(F.rc, 0);
	assert_int_equal(F.res.outcome, HF_APPLY_DONE);
	assert_members("RelationshipAdd", "n-lyon");
	assert_int_equal(hf_plan_at(F.plan, 0)->status, HF_CH_APPLIED);
	assert_non_null(hf_plan_at(F.plan, 0)->text);
	assert_null(hf_plan_at(F.plan, 0)->after);
	assert_null(hf_plan_at(F.plan, 0)->before);
	teardown(NULL);
	setup(NULL);
	adopt_text_world("edited");
	run();
	assert_int_equal(F.res.outcome, HF_APPLY_STALE);
	assert_non_null(strstr(F.text[HF_AMSG_STALE], "changed in Infrahub"));
	assert_non_null(
	        strstr(F.text[HF_AMSG_STALE], "(changed: description)"));
	assert_non_null(hf_plan_at(F.plan, 0)->text);
	assert_null(hf_plan_at(F.plan, 0)->after);
}

/* Recovery of a killed prune that had landed: the deletes count as present. */
static void test_apply_run__recover_landed_prune(void **state)
{
	hf_error err = HF_ERROR_INIT;

	int round;

	(void)state;
	(void)err;
	for (round = 0; round < 2; round++) {
		group_is("g-fin");
		world(PRUNE);
		applying();
		/* an old server: no Branch.status; the branch is gone */
		script("Branch(name: $n)", 1,
		       "{\"data\": null, \"errors\": "
		       "[{\"message\": \"Cannot query field status\"}]}");
		script("is_default", 1,
		       "{\"data\": {\"Branch\": [{\"name\": \"main\", "
		       "\"is_default\": true}]}}");
		/* round 0: the target holds the result; 1: only the create */
		json_object_del(F.live, "n-d8");
		if (round == 0) {
			json_object_del(F.live, "n-d9");
			json_object_del(F.live, "n-s9");
		}
		F.exists = "paris";
		defaults();
		run();
		assert_int_equal(F.res.outcome,
		                 round == 0 ? HF_APPLY_RECOVERED_APPLIED
		                            : HF_APPLY_RECOVERED_FAILED);
		assert_int_equal(F.msgs[HF_AMSG_PARTLY_PRESENT], round);
		teardown(NULL);
		setup(NULL);
	}
}

/* ---- the apply lock in Infrahub ---------------------------------------- */

/* The lock branch's BranchCreate: made, or "already exist". */
static int lock_create(void *payload, const struct hf_fake_req *r,
                       json_t **answer, hf_error *err)
{
	struct fx *f = payload;

	(void)err;
	f->lock_creates++;
	if (f->lock) {
		*answer = json_pack("{s:{s:n}, s:[{s:s}]}", "data",
		                    "BranchCreate", "errors", "message",
		                    "The branch x, already exist");
		return 0;
	}
	f->lock = json_pack(
	        "{s:O, s:O}", "name", json_object_get(r->variables, "name"),
	        "description", json_object_get(r->variables, "description"));
	*answer = json_pack("{s:{s:{s:b}}}", "data", "BranchCreate", "ok", 1);
	return 0;
}

static int lock_read(void *payload, const struct hf_fake_req *r,
                     json_t **answer, hf_error *err)
{
	struct fx *f = payload;

	(void)r;
	(void)err;
	*answer = f->lock ? json_pack("{s:{s:[O]}}", "data", "Branch", f->lock)
	                  : json_pack("{s:{s:[]}}", "data", "Branch");
	return 0;
}

/* BranchDelete: the lock branch goes; any other is fine. */
static int any_delete(void *payload, const struct hf_fake_req *r,
                      json_t **answer, hf_error *err)
{
	struct fx *f = payload;
	const char *name =
	        json_string_value(json_object_get(r->variables, "name"));

	(void)err;
	if (f->lock && name && f->lock_delete_fails &&
	    !strcmp(name,
	            json_string_value(json_object_get(f->lock, "name")))) {
		*answer = json_pack("{s:{s:n}, s:[{s:s}]}", "data",
		                    "BranchDelete", "errors", "message",
		                    "database is locked");
		return 0;
	}
	if (f->lock && name &&
	    !strcmp(name,
	            json_string_value(json_object_get(f->lock, "name")))) {
		json_decref(f->lock);
		f->lock = NULL;
		f->lock_deletes++;
	}
	*answer = json_pack("{s:{s:{s:b}}}", "data", "BranchDelete", "ok", 1);
	return 0;
}

/* The count of the creates' kinds, noting whether the lock was held. */
static int counts_locked(void *payload, const struct hf_fake_req *r,
                         json_t **answer, hf_error *err)
{
	struct fx *f = payload;

	f->lock_at_check = f->lock != NULL;
	return counts(payload, r, answer, err);
}

static void lock_fake(void)
{
	assert_int_equal(hf_fake_handler(F.fake, "$description: String!)", -1,
	                                 lock_create, &F),
	                 0);
	assert_int_equal(hf_fake_handler(F.fake, "{ name description }", -1,
	                                 lock_read, &F),
	                 0);
	assert_int_equal(
	        hf_fake_handler(F.fake, "BranchDelete", -1, any_delete, &F), 0);
	assert_int_equal(
	        hf_fake_handler(F.fake, "query { k0:", -1, counts_locked, &F),
	        0);
}

/* A plan whose lock holder is someone else, for plan `plan`. */
static void held_by_other(const char *plan)
{
	char desc[300];

	snprintf(
	        desc, sizeof(desc),
	        "{\"hubform_lock\": 1, \"holder\": "
	        "\"bob@ci:7.0a1b2c3d\", \"user\": \"bob\", \"host\": \"ci\", "
	        "\"pid\": 7, \"plan\": \"%s\", \"since\": \"2026-12-03T01:00:00Z\"}",
	        plan);
	F.lock = json_pack("{s:s, s:s}", "name", "hubform-lock-main",
	                   "description", desc);
}

/*
 * The lock is taken before the staleness check (a second runner checks
 * what the first wrote), named after the target branch, recorded with the
 * plan, and released after the merge; on every other path too.
 */
static void test_apply_run__lock_held_for_the_apply(void **state)
{
	const struct hf_fake_req *r;
	json_t *d;
	int round;

	(void)state;
	/* 0: applied; 1: a change fails; 2: stale; 3: stop flag */
	for (round = 0; round < 4; round++) {
		lock_fake();
		world(TWO_WAVES);
		F.o.no_lock = 0;
		if (round == 1)
			F.fail_name = "d1";
		if (round == 2)
			F.exists = "paris";
		if (round == 3)
			F.stop_at_wave = 1;
		defaults();
		run();
		assert_int_equal(F.res.outcome, round == 0   ? HF_APPLY_DONE
		                                : round == 2 ? HF_APPLY_STALE
		                                             : HF_APPLY_FAILED);
		if (F.lock_creates != 1 || F.lock_deletes != 1 || F.lock)
			fail_msg("round %d: %d creates, %d deletes, %s", round,
			         F.lock_creates, F.lock_deletes, F.err.msg);
		assert_true(F.lock_at_check);
		assert_int_equal(F.msgs[HF_AMSG_LOCK_RELEASE], 0);
		r = hf_fake_at(F.fake, (size_t)first("$description: String!)"));
		assert_string_equal(json_string_value(json_object_get(
		                            r->variables, "name")),
		                    "hubform-lock-main");
		d = json_loads(json_string_value(json_object_get(
		                       r->variables, "description")),
		               0, NULL);
		assert_string_equal(
		        json_string_value(json_object_get(d, "plan")),
		        hf_plan_meta(F.plan)->id);
		json_decref(d);
		/* taken before anything is read, given back after the merge */
		assert_int_equal(first("$description: String!)"), 0);
		if (round == 0)
			assert_true(first("BranchMerge") <
			            (long)hf_fake_count(F.fake) - 1);
		teardown(NULL);
		setup(NULL);
	}
}

/* Another runner holds it: LOCKED, nothing read or written, still planned. */
static void test_apply_run__lock_held_by_another(void **state)
{
	(void)state;
	lock_fake();
	world(TWO_WAVES);
	F.o.no_lock = 0;
	held_by_other("0123456789ab");
	defaults();
	run();
	assert_int_equal(F.rc, HF_ECONFLICT);
	assert_int_equal(F.res.outcome, HF_APPLY_LOCKED);
	assert_non_null(strstr(F.err.msg,
	                       "held by bob@ci:7.0a1b2c3d (plan 0123456789ab"));
	assert_int_equal(sent("query { k0:"), 0);
	assert_int_equal(sent("Upsert("), 0);
	assert_int_equal(F.lock_deletes, 0);
	assert_non_null(F.lock);
	assert_stored(F.st, "planned");
	/* a transport failure while asking: nothing written either */
	teardown(NULL);
	setup(NULL);
	assert_int_equal(hf_fake_fail(F.fake, "$description", -1, HF_ENET,
	                              "connection refused"),
	                 0);
	world(TWO_WAVES);
	F.o.no_lock = 0;
	defaults();
	run();
	assert_int_equal(F.rc, HF_ENET);
	assert_int_equal(F.res.outcome, HF_APPLY_CHECK_FAILED);
	assert_int_equal(sent("Upsert("), 0);
	assert_stored(F.st, "planned");
}

/* A release that fails is said; the outcome stands, the lock stays. */
static void test_apply_run__lock_release_fails(void **state)
{
	(void)state;
	lock_fake();
	world(TWO_WAVES);
	F.o.no_lock = 0;
	F.lock_delete_fails = 1;
	defaults();
	run();
	assert_int_equal(F.rc, 0);
	assert_int_equal(F.res.outcome, HF_APPLY_DONE);
	assert_int_equal(F.msgs[HF_AMSG_LOCK_RELEASE], 1);
	assert_non_null(
	        strstr(F.text[HF_AMSG_LOCK_RELEASE], "was not released"));
	assert_non_null(F.lock);
}

/* Recovery breaks the lock the killed apply of this plan held, no other. */
static void test_apply_run__recover_breaks_its_lock(void **state)
{
	int round;

	(void)state;
	for (round = 0; round < 2; round++) {
		lock_fake();
		world(TWO_WAVES);
		applying();
		F.o.no_lock = 0;
		held_by_other(round == 0 ? hf_plan_meta(F.plan)->id
		                         : "0123456789ab");
		script_branch("OPEN");
		defaults();
		run();
		assert_int_equal(F.res.outcome, HF_APPLY_RECOVERED_FAILED);
		assert_int_equal(F.msgs[HF_AMSG_LOCK_BROKEN], round == 0);
		if (round == 0)
			assert_null(F.lock);
		else
			assert_non_null(F.lock);
		teardown(NULL);
		setup(NULL);
	}
}

/* ---- failing allocations ------------------------------------------------ */

/*
 * Every mutation the fake received is whole: as many variables as
 * aliases, each with every field of its change.
 */
static void assert_whole_mutations(void)
{
	size_t i, n, k;
	const char *q, *at;
	char alias[32];

	for (i = 0; i < hf_fake_count(F.fake); i++) {
		const struct hf_fake_req *r = hf_fake_at(F.fake, i);
		json_t *d;

		if (!r->query || !strstr(r->query, "Upsert(") ||
		    strstr(r->query, "CoreStandardGroupUpsert"))
			continue;
		q = r->query;
		for (n = 0, at = q; (at = strstr(at, "Upsert(data:")) != NULL;
		     at++)
			n++;
		if (json_object_size(r->variables) != n)
			fail_msg("%zu aliases, %zu variables: %s", n,
			         json_object_size(r->variables), q);
		for (k = 0; k < n; k++) {
			snprintf(alias, sizeof(alias), "d%zu", k);
			d = json_object_get(r->variables, alias);
			assert_non_null(d);
			assert_non_null(json_object_get(
			        json_object_get(d, "name"), "value"));
			if (json_object_get(d, "site")) {
				assert_int_equal(json_object_size(d), 3);
				assert_int_equal(
				        json_array_size(
				                json_object_get(d, "tags")),
				        1);
				assert_non_null(json_object_get(
				        json_object_get(d, "site"), "hfid"));
			} else {
				assert_int_equal(json_object_size(d), 2);
			}
		}
	}
}

/*
 * Fail each allocation of a whole apply in turn: the result is a clean
 * failure (never a crash or a leak), no partial mutation is ever sent, and
 * a plan that reached `applying` ends applied or failed, never stuck.
 */
static void test_apply_run__failing_allocations(void **state)
{
	long n;
	int done = 0;

	(void)state;
	for (n = 1; !done; n++) {
		world(TWO_WAVES);
		defaults();
		hf_failalloc_nth(n);
		run();
		hf_failalloc_reset();
		done = !hf_failalloc_failed();
		if (done) {
			assert_int_equal(F.rc, 0);
			assert_stored(F.st, "applied");
		} else {
			assert_true(F.rc <= 0);
			assert_string_not_equal(hf_plan_meta(F.plan)->status,
			                        "applying");
		}
		assert_whole_mutations();
		if (sent("BranchMerge"))
			assert_int_equal(sent("TestDeviceUpsert") +
			                         sent("TestSiteUpsert"),
			                 2);
		teardown(NULL);
		setup(NULL);
		assert_true(n < 100000);
	}
}

/*
 * An object edited in Infrahub since the plan is never applied because
 * memory ran out while checking it: reading a no-op's fields from its
 * text can fail, and a fingerprint not computed is not "unchanged".
 */
static void test_apply_run__failing_allocations_never_hide_stale(void **state)
{
	long n;
	int done = 0;

	(void)state;
	for (n = 1; !done; n++) {
		adopt_text_world("edited");
		hf_failalloc_nth(n);
		run();
		hf_failalloc_reset();
		done = !hf_failalloc_failed();
		assert_int_not_equal(F.res.outcome, HF_APPLY_DONE);
		assert_int_not_equal(hf_plan_at(F.plan, 0)->status,
		                     HF_CH_APPLIED);
		if (done)
			assert_int_equal(F.res.outcome, HF_APPLY_STALE);
		teardown(NULL);
		setup(NULL);
		assert_true(n < 100000);
	}
}

/* The same with a prune: group edits, deletes and a cascade check. */
static void test_apply_run__failing_allocations_prune(void **state)
{
	long n;
	int done = 0;

	(void)state;
	for (n = 1; !done; n++) {
		group_is("g-fin");
		world(PRUNE);
		defaults();
		hf_failalloc_nth(n);
		run();
		hf_failalloc_reset();
		done = !hf_failalloc_failed();
		if (done) {
			assert_int_equal(F.rc, 0);
			assert_stored(F.st, "applied");
		} else {
			assert_true(F.rc <= 0);
			assert_string_not_equal(hf_plan_meta(F.plan)->status,
			                        "applying");
		}
		assert_whole_mutations();
		if (sent("BranchMerge")) {
			assert_int_equal(sent("Delete(data: $d"), 2);
			assert_int_equal(sent("RelationshipRemove"), 1);
		}
		teardown(NULL);
		setup(NULL);
		assert_true(n < 100000);
	}
}

/* The same for the waves alone, with a bigger batch of mixed changes. */
static void test_apply_run__failing_allocations_in_waves(void **state)
{
	struct hf_apply_opts o = HF_APPLY_OPTS_INIT;
	struct hf_apply_stats stats;
	hf_error err = HF_ERROR_INIT;
	long n;
	int rc, done = 0;

	(void)state;
	for (n = 1; !done; n++) {
		F.plan = make_plan(TWO_WAVES, "main", "z");
		defaults();
		o.branch = "hubform-x";
		hf_failalloc_nth(n);
		rc = hf_apply_waves(F.plan, F.schema, hf_fake_transport(F.fake),
		                    &o, &stats, &err);
		hf_failalloc_reset();
		done = !hf_failalloc_failed();
		if (done)
			assert_int_equal(rc, 0);
		else
			assert_true(rc < 0 || stats.failed == 0);
		assert_whole_mutations();
		teardown(NULL);
		setup(NULL);
		assert_true(n < 100000);
	}
}

/* ---- the error meanings the transaction decides on ---------------------- */

static void test_apply_run__error_codes(void **state)
{
	json_t *e;

	(void)state;
	e = json_pack("{s:s}", "message", "The branch x, already exist");
	assert_int_equal(hf_tx_error_code(e), HF_ECONFLICT);
	json_decref(e);
	e = json_pack("{s:s}", "message", "Branch: x not found.");
	assert_int_equal(hf_tx_error_code(e), HF_ENOTFOUND);
	json_decref(e);
	e = json_pack("{s:s, s:{s:s}}", "message", "whatever", "extensions",
	              "code", "NODE_NOT_FOUND");
	assert_int_equal(hf_tx_error_code(e), HF_ENOTFOUND);
	json_decref(e);
	e = json_pack("{s:s}", "message", "Unable to merge the branch 'x'");
	assert_int_equal(hf_tx_error_code(e), HF_ESERVER);
	json_decref(e);
	assert_int_equal(hf_tx_error_code(NULL), HF_ESERVER);
}

/*
 * Apply's re-read of the planned objects (hf_fetch_by_ids): 1000 ids a
 * request, every answer read from its text as it arrives (as the plan's
 * pages are), so that 100k objects are not held as JSON trees at once;
 * what is not found is absent, an object in two answers is one, one
 * without HFID is found by its id, and the fields read are what the
 * fingerprint hashes.
 */
static void test_apply_run__read_by_ids_from_text(void **state)
{
	hf_objset *set = NULL;
	json_t *fields =
	        json_pack("{s:s, s:s}", "name", "attr", "description", "attr");
	json_t *ids = json_array();
	const struct hf_object *o;
	hf_error err = HF_ERROR_INIT;
	char id[32], name[32];
	size_t i;
	long at;

	(void)state;
	for (i = 0; i < 2500; i++) {
		snprintf(id, sizeof(id), "n-%zu", i);
		snprintf(name, sizeof(name), "site-%zu", i);
		if (i != 7)
			live("TestSite", id, name, i % 2 ? "odd" : "even");
		json_array_append_new(ids, json_string(id));
	}
	/* asked twice: in the first request and the last */
	json_array_append_new(ids, json_string("n-3"));
	/* one whose kind has no HFID: found by its id all the same */
	json_object_set_new(
	        F.live, "n-nohfid",
	        json_pack("{s:s, s:{s:{s:s, s:n, s:s, s:{s:s}, s:{s:s}}}}",
	                  "kind", "TestSite", "edge", "node", "id", "n-nohfid",
	                  "hfid", "__typename", "TestSite", "name", "value",
	                  "x", "description", "value", "odd"));
	json_array_append_new(ids, json_string("n-nohfid"));
	assert_int_equal(hf_fake_handler(F.fake, "(ids:", 3, live_ids, &F), 0);
	assert_int_equal(hf_objset_new(&set), 0);
	assert_int_equal(hf_fetch_by_ids(set, F.schema, "TestSite", fields, ids,
	                                 hf_fake_transport(F.fake), &err),
	                 0);
	assert_int_equal(hf_fake_count(F.fake), 3);
	for (i = 0; i < 3; i++)
		assert_true(hf_fake_at(F.fake, i)->scanned);
	assert_int_equal(hf_objset_count(set), 2500);
	assert_true(hf_objset_find_id(set, "n-7") < 0);
	assert_true(hf_objset_find_id(set, "n-nohfid") >= 0);
	at = hf_objset_find_id(set, "n-2499");
	assert_true(at >= 0);
	o = hf_objset_at(set, (size_t)at);
	assert_string_equal(o->kind, "TestSite");
	assert_string_equal(json_string_value(json_array_get(o->hfid, 0)),
	                    "site-2499");
	assert_string_equal(
	        json_string_value(hf_object_field(o, "description")->value),
	        "odd");
	hf_objset_free(set);
	json_decref(fields);
	json_decref(ids);
}

/* The status enum and the text the stores keep, both ways. */
static void test_apply_run__status_names(void **state)
{
	static const char *const names[] = { "planned", "applying", "applied",
		                             "failed", "stale" };
	enum hf_plan_status s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(hf_plan_status_parse(names[i], &s), 0);
		assert_int_equal((size_t)s, i);
		assert_string_equal(hf_plan_status_str(s), names[i]);
	}
	assert_int_equal(hf_plan_status_parse("merged", &s), HF_EINVAL);
	assert_int_equal(hf_plan_status_parse(NULL, &s), HF_EINVAL);
	assert_string_equal(hf_plan_status_str((enum hf_plan_status)42),
	                    "unknown");
}

#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_apply_run__applies_in_a_branch),
		T(test_apply_run__read_by_ids_from_text),
		T(test_apply_run__existing_branch_is_reused),
		T(test_apply_run__create_fails),
		T(test_apply_run__merge_fails),
		T(test_apply_run__delete_fails),
		T(test_apply_run__delete_of_a_gone_branch_is_fine),
		T(test_apply_run__change_fails),
		T(test_apply_run__keep_going),
		T(test_apply_run__keep_branch),
		T(test_apply_run__direct),
		T(test_apply_run__branch_rules),
		T(test_apply_run__not_planned_or_cancelled),
		T(test_apply_run__stale_create),
		T(test_apply_run__creates_checked_by_paging),
		T(test_apply_run__malformed_create_checks),
		T(test_apply_run__malformed_mutation_answers),
		T(test_apply_run__malformed_group_answers),
		T(test_apply_run__malformed_cascade_answer),
		T(test_apply_run__stale_schema),
		T(test_apply_run__update_and_stale_update),
		T(test_apply_run__check_fails),
		T(test_apply_run__nothing),
		T(test_apply_run__busy),
		T(test_apply_run__start_is_all_or_nothing),
		T(test_apply_run__every_store_records),
		T(test_apply_run__unrecorded_status_is_an_error),
		T(test_apply_run__stop_between_waves),
		T(test_apply_run__stop_inside_a_wave),
		T(test_apply_run__deadline),
		T(test_apply_run__transport_run_fails),
		T(test_apply_run__recover_merged),
		T(test_apply_run__recover_open),
		T(test_apply_run__recover_from_the_target),
		T(test_apply_run__recover_unsettled),
		T(test_apply_run__recover_needs_applying),
		T(test_apply_run__creates_join_a_new_group),
		T(test_apply_run__creates_join_in_their_mutation),
		T(test_apply_run__creates_join_the_planned_group),
		T(test_apply_run__members_are_chunked),
		T(test_apply_run__updates_do_not_touch_the_group),
		T(test_apply_run__create_without_id_fails),
		T(test_apply_run__prune),
		T(test_apply_run__delete_refused_rolls_back),
		T(test_apply_run__delete_of_a_gone_object),
		T(test_apply_run__cascade_not_done),
		T(test_apply_run__stale_prune),
		T(test_apply_run__max_deletes),
		T(test_apply_run__group_edit_fails),
		T(test_apply_run__stop_before_deletes),
		T(test_apply_run__adopt_only),
		T(test_apply_run__noop_text_checked_as_text),
		T(test_apply_run__recover_landed_prune),
		T(test_apply_run__lock_held_for_the_apply),
		T(test_apply_run__lock_held_by_another),
		T(test_apply_run__lock_release_fails),
		T(test_apply_run__recover_breaks_its_lock),
		T(test_apply_run__failing_allocations),
		T(test_apply_run__failing_allocations_never_hide_stale),
		T(test_apply_run__failing_allocations_prune),
		T(test_apply_run__failing_allocations_in_waves),
		T(test_apply_run__error_codes),
		T(test_apply_run__status_names),
	};

	int rc;

	hf_alloc_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	remove_stores();
	return rc;
}
