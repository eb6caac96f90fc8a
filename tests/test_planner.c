/*
 * The planner (hf/planner.h) and the branch choice (hf_branch_choose)
 * against `hubform serve`, through the fake transport that forwards every
 * request to it: adoption and its refusal, what left the files, prune,
 * --target limits, the sources and meta of the plan (the manifest digest
 * over the very bytes parsed), and the failures of each step by code.
 *
 * Data: sites paris (stack "fin" owns it), lyon (owned, not declared:
 * an orphan) and nice (exists, not owned: adopted); the files also
 * declare rome (a create).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_transport.h"
#include "hf/alloc.h"
#include "hf/branch.h"
#include "hf/fetch.h"
#include "hf/planner.h"
#include "hf/resolve.h"
#include "hf/sha256.h"
#include "sdkload.h"
#include "schemahelp.h"
#include "testutil.h"

static const char files[] = "---\n"
                            "apiVersion: infrahub.app/v1\n"
                            "kind: Object\n"
                            "spec:\n"
                            "  kind: TestSite\n"
                            "  data:\n"
                            "    - name: paris\n"
                            "      description: hq\n"
                            "    - name: nice\n"
                            "    - name: rome\n";

static struct hf_served srv;
static hf_schema *schema;
static hf_fake *fake;
static int broken; /* served() fails every request while set */
static int served(void *payload, const struct hf_fake_req *r, json_t **answer,
                  hf_error *err)
{
	(void)payload;
	if (broken)
		return hf_error_set(err, HF_ENET, "connection reset");
	*answer = hf_gql(srv.url, NULL, NULL, r->query, r->variables);
	if (!*answer)
		return hf_error_set(err, HF_ENET, "no answer");
	return 0;
}

static hf_transport *via_server(void)
{
	hf_fake_free(fake);
	fake = hf_fake_new();
	assert_non_null(fake);
	assert_int_equal(hf_fake_handler(fake, NULL, -1, served, NULL), 0);
	return hf_fake_transport(fake);
}

static hf_transport *failing(int rc, const char *msg)
{
	hf_fake_free(fake);
	fake = hf_fake_new();
	assert_non_null(fake);
	assert_int_equal(hf_fake_fail(fake, NULL, -1, rc, msg), 0);
	return hf_fake_transport(fake);
}

static void gql(const char *q)
{
	json_t *res = hf_gql(srv.url, NULL, NULL, q, NULL);

	assert_non_null(res);
	assert_null(json_object_get(res, "errors"));
	json_decref(res);
}

static const char *site_id(json_t *res, const char *name)
{
	json_t *e;
	size_t i;

	json_array_foreach(
	        json_object_get(json_object_get(json_object_get(res, "data"),
	                                        "TestSite"),
	                        "edges"),
	        i, e)
	{
		json_t *n = json_object_get(e, "node");

		if (!strcmp(json_string_value(json_array_get(
		                    json_object_get(n, "hfid"), 0)),
		            name))
			return json_string_value(json_object_get(n, "id"));
	}
	return NULL;
}

static void seed(void)
{
	char q[600];
	json_t *sites, *grp;

	assert_int_equal(hf_test_load_schema(srv.url), 0);
	gql("mutation {"
	    " a: TestSiteCreate(data: {name: {value: \"paris\"},"
	    "  description: {value: \"hq\"}}) { ok }"
	    " b: TestSiteCreate(data: {name: {value: \"lyon\"}}) { ok }"
	    " c: TestSiteCreate(data: {name: {value: \"nice\"}}) { ok }"
	    " g: CoreStandardGroupCreate(data: {name: {value: \"hubform-fin\"}}) { ok }"
	    " }");
	sites = hf_gql(srv.url, NULL, NULL,
	               "{ TestSite { edges { node { id hfid } } } }", NULL);
	grp = hf_gql(srv.url, NULL, NULL,
	             "{ CoreStandardGroup { edges { node { id } } } }", NULL);
	assert_non_null(sites);
	assert_non_null(grp);
	snprintf(
	        q, sizeof(q),
	        "mutation { RelationshipAdd(data: {id: \"%s\", "
	        "name: \"members\", nodes: [{id: \"%s\"} {id: \"%s\"}]}) { ok } }",
	        json_string_value(json_object_get(
	                json_object_get(
	                        json_array_get(
	                                json_object_get(
	                                        json_object_get(
	                                                json_object_get(grp,
	                                                                "data"),
	                                                "CoreStandardGroup"),
	                                        "edges"),
	                                0),
	                        "node"),
	                "id")),
	        site_id(sites, "paris"), site_id(sites, "lyon"));
	gql(q);
	json_decref(sites);
	json_decref(grp);
	schema = hf_test_served_schema(srv.url);
}

static int setup(void **state)
{
	char db[512];

	(void)state;
	snprintf(db, sizeof(db), "%s/data.db", hf_test_tmpdir("planner"));
	if (hf_serve_start(&srv, db, NULL) < 0)
		return -1;
	seed();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hf_schema_free(schema);
	hf_fake_free(fake);
	return hf_serve_stop(&srv) == 0 ? 0 : -1;
}

/* The files, resolved, and their live counterparts: what the CLI hands over. */
struct world {
	hf_manifest *m;
	hf_objset *want;
	hf_objset *have;
	hf_planner *p;
	hf_plan *plan; /* planned() */
};

static void world_release(struct world *w)
{
	hf_objset_free(w->want);
	hf_objset_free(w->have);
	hf_manifest_free(w->m);
	hf_planner_free(w->p);
	hf_plan_free(w->plan);
	memset(w, 0, sizeof(*w));
}

/* Planner of stack "fin" with `o`'s flags; read, filtered and fetched. */
static void prepare(struct world *w, struct hf_planner_opts *o)
{
	struct hf_resolve_opts ro = HF_RESOLVE_OPTS_INIT;
	struct hf_fetch_opts fo = HF_FETCH_OPTS_INIT;
	enum hf_planner_step step;
	hf_error err = HF_ERROR_INIT;
	hf_transport *tr = via_server(); /* the planner keeps it */

	memset(w, 0, sizeof(*w));
	o->stack = "fin";
	assert_int_equal(hf_planner_new(&w->p, o, &err), 0);
	assert_int_equal(hf_planner_read(w->p, schema, tr, &step, &err), 0);
	assert_int_equal(step, HF_PLANNER_OK);
	assert_int_equal(hf_manifest_new(&w->m), 0);
	assert_int_equal(hf_manifest_add_buffer(w->m, "objects.yml", files,
	                                        strlen(files), &err),
	                 0);
	assert_int_equal(
	        hf_resolve(&w->want, w->m, schema, &ro, NULL, NULL, &err), 0);
	assert_int_equal(hf_planner_filter(w->p, &w->want, &err), 0);
	assert_int_equal(hf_fetch(&w->have, w->want, schema, &fo, tr, NULL,
	                          NULL, NULL, &err),
	                 0);
}

static int build(struct world *w, hf_plan **out, enum hf_planner_step *step,
                 hf_error *err)
{
	struct hf_planner_input in;

	memset(&in, 0, sizeof(in));
	in.manifest = w->m;
	in.want = w->want;
	in.have = w->have;
	in.address = "http://infrahub.test";
	in.branch = "main";
	in.default_branch = "main";
	return hf_planner_build(w->p, &in, out, step, err);
}

/* prepare() and a successful build: the plan, w's. */
static hf_plan *planned(struct world *w, struct hf_planner_opts *o)
{
	enum hf_planner_step step;
	hf_error err = HF_ERROR_INIT;

	prepare(w, o);
	assert_int_equal(build(w, &w->plan, &step, &err), 0);
	assert_int_equal(step, HF_PLANNER_OK);
	return w->plan;
}

static const struct hf_change *change_of(const hf_plan *p, const char *name)
{
	size_t i;

	for (i = 0; i < hf_plan_count(p); i++) {
		const struct hf_change *c = hf_plan_at(p, i);

		if (!strcmp(json_string_value(json_array_get(c->hfid, 0)),
		            name))
			return c;
	}
	return NULL;
}

static void test_planner__adoption_orphans_sources_and_meta(void **state)
{
	struct hf_planner_opts o = { 0 };
	const struct hf_change *c;
	struct hf_plan_meta *m;
	json_t *src;
	struct hf_sha256 h;
	unsigned char d[32];
	char digest[65];
	struct world w;
	hf_plan *p = planned(&w, &o);
	size_t i;

	(void)state;
	assert_int_equal(hf_plan_count(p), 3); /* no delete without prune */
	assert_int_equal(change_of(p, "rome")->action, HF_ACT_CREATE);
	assert_int_equal(change_of(p, "paris")->adopt, 0);
	assert_int_equal(change_of(p, "nice")->adopt, 1);
	assert_int_equal(hf_planner_orphans(w.p), 1); /* lyon */
	c = change_of(p, "rome");
	/* one declaration: the compact form, the array on demand */
	assert_null(c->sources);
	assert_string_equal(c->src_file, "objects.yml");
	assert_int_equal(c->src_line, 10);
	assert_int_equal(hf_change_sources(c, &src), 0);
	assert_string_equal(json_string_value(json_object_get(
	                            json_array_get(src, 0), "file")),
	                    "objects.yml");
	assert_int_equal(json_integer_value(json_object_get(
	                         json_array_get(src, 0), "line")),
	                 10);
	assert_int_equal(json_array_size(src), 1);
	json_decref(src);
	m = hf_plan_meta(p);
	assert_string_equal(m->stack, "fin");
	assert_int_equal(m->partial, 0);
	assert_int_equal(m->branch_is_default, 1);
	assert_string_equal(m->schema_hash, hf_schema_hash(schema));
	/* the digest is over each file's name, a NUL and the hash of the
	   bytes parsed */
	hf_sha256_init(&h);
	hf_sha256_update(&h, files, strlen(files));
	hf_sha256_final(&h, d);
	hf_sha256_init(&h);
	hf_sha256_update(&h, "objects.yml", sizeof("objects.yml"));
	hf_sha256_update(&h, d, sizeof(d));
	hf_sha256_final(&h, d);
	for (i = 0; i < 32; i++)
		snprintf(digest + 2 * i, 3, "%02x", d[i]);
	assert_string_equal(m->manifest_digest, digest);
	assert_int_equal(m->id[0] != '\0', 1); /* finished */
	world_release(&w);
}

static void test_planner__no_adopt_names_the_objects(void **state)
{
	struct hf_planner_opts o = { 0 };
	enum hf_planner_step step;
	hf_error err = HF_ERROR_INIT;
	const char *names;
	struct world w;
	hf_plan *p = (hf_plan *)&w;

	(void)state;
	o.no_adopt = 1;
	prepare(&w, &o);
	assert_int_equal(build(&w, &p, &step, &err), HF_ECONFLICT);
	assert_int_equal(step, HF_PLANNER_ADOPT);
	assert_null(p);
	assert_int_equal(hf_planner_unowned(w.p, &names), 1);
	assert_string_equal(names, "TestSite 'nice'");
	world_release(&w);
}

static void test_planner__prune_deletes_what_left_the_files(void **state)
{
	struct hf_planner_opts o = { .prune = 1 };
	struct world w;
	hf_plan *p = planned(&w, &o);

	(void)state;
	assert_int_equal(hf_plan_count(p), 4);
	assert_int_equal(change_of(p, "lyon")->action, HF_ACT_DELETE);
	assert_int_equal(hf_planner_orphans(w.p), 1);
	world_release(&w);
}

static void test_planner__destroy_deletes_everything_owned(void **state)
{
	struct hf_planner_opts o = { .destroy = 1 };
	struct world w;
	hf_plan *p = planned(&w, &o);

	(void)state;
	assert_int_equal(hf_plan_count(p), 2);
	assert_int_equal(change_of(p, "paris")->action, HF_ACT_DELETE);
	assert_int_equal(change_of(p, "lyon")->action, HF_ACT_DELETE);
	world_release(&w);
}

static void test_planner__target_limits_the_plan(void **state)
{
	static const char *const targets[] = { "TestSite[rome]" };
	struct hf_planner_opts o = { .targets = targets,
		                     .n_targets = 1,
		                     .prune = 1 };
	struct world w;
	hf_plan *p = planned(&w, &o);

	(void)state;
	assert_int_equal(hf_objset_count(w.want), 1); /* filtered */
	assert_int_equal(hf_plan_count(p), 1);
	assert_int_equal(change_of(p, "rome")->action, HF_ACT_CREATE);
	assert_null(change_of(p, "lyon")); /* owned, but not targeted */
	assert_int_equal(hf_plan_meta(p)->partial, 1);
	world_release(&w);
}

static void test_planner__failures_say_their_step(void **state)
{
	static const char *const typo[] = { "TestSit" };
	struct hf_planner_opts o = { 0 };
	enum hf_planner_step step;
	hf_error err = HF_ERROR_INIT;
	hf_planner *p;

	(void)state;
	o.stack = "no good";
	assert_int_equal(hf_planner_new(&p, &o, &err), HF_EINVAL);
	hf_planner_free(p);
	o.stack = "fin";
	o.targets = typo;
	o.n_targets = 1;
	assert_int_equal(hf_planner_new(&p, &o, &err), 0);
	assert_int_equal(hf_planner_read(p, schema, via_server(), &step, &err),
	                 HF_EINVAL);
	assert_int_equal(step, HF_PLANNER_SELECT);
	assert_non_null(strstr(err.msg, "TestSit"));
	hf_planner_free(p);
	o.n_targets = 0;
	assert_int_equal(hf_planner_new(&p, &o, &err), 0);
	assert_int_equal(hf_planner_read(p, schema, failing(HF_ENET, "refused"),
	                                 &step, &err),
	                 HF_ENET);
	assert_int_equal(step, HF_PLANNER_OWNER);
	hf_planner_free(p);
}

static void test_planner__prune_read_failure(void **state)
{
	struct hf_planner_opts o = { 0 };
	enum hf_planner_step step;
	hf_error err = HF_ERROR_INIT;
	struct world w;
	hf_plan *p;
	int rc;

	(void)state;
	o.prune = 1;
	prepare(&w, &o);
	broken = 1; /* the deletes are read through the planner's transport */
	rc = build(&w, &p, &step, &err);
	broken = 0;
	assert_int_equal(rc, HF_ENET);
	assert_int_equal(step, HF_PLANNER_PRUNE);
	assert_null(p);
	world_release(&w);
}

static void test_planner__branch_choice(void **state)
{
	struct hf_branch_info bi;
	hf_error err = HF_ERROR_INIT;
	char chosen[64];

	(void)state;
	assert_int_equal(hf_branch_choose(via_server(), NULL, &bi, chosen,
	                                  sizeof(chosen), &err),
	                 0);
	assert_string_equal(chosen, "main");
	assert_string_equal(bi.default_name, "main");
	assert_int_equal(hf_branch_choose(via_server(), "", &bi, chosen,
	                                  sizeof(chosen), &err),
	                 0);
	assert_string_equal(chosen, "main");
	snprintf(chosen, sizeof(chosen), "main");
	assert_int_equal(hf_branch_choose(via_server(), chosen, &bi, chosen,
	                                  sizeof(chosen), &err),
	                 0);
	assert_string_equal(chosen, "main");
	snprintf(chosen, sizeof(chosen), "untouched");
	assert_int_equal(hf_branch_choose(via_server(), "nope", &bi, chosen,
	                                  sizeof(chosen), &err),
	                 HF_ENOTFOUND);
	assert_string_equal(bi.default_name, "main");
	assert_string_equal(chosen, "untouched");
	assert_non_null(strstr(err.msg, "nope"));
	assert_int_equal(hf_branch_choose(failing(HF_ENOTFOUND, "404"), "x",
	                                  &bi, chosen, sizeof(chosen), &err),
	                 HF_ENOTFOUND);
	assert_string_equal(bi.default_name, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		        test_planner__adoption_orphans_sources_and_meta),
		cmocka_unit_test(test_planner__no_adopt_names_the_objects),
		cmocka_unit_test(
		        test_planner__prune_deletes_what_left_the_files),
		cmocka_unit_test(
		        test_planner__destroy_deletes_everything_owned),
		cmocka_unit_test(test_planner__target_limits_the_plan),
		cmocka_unit_test(test_planner__failures_say_their_step),
		cmocka_unit_test(test_planner__prune_read_failure),
		cmocka_unit_test(test_planner__branch_choice),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
