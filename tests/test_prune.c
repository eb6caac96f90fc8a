/*
 * Delete planning against `hubform serve` (through the fake transport,
 * which forwards every request to it): on_delete cascades as deletes of
 * their own, referrers first, a dangling mandatory relationship of a
 * surviving object refused by name unless the plan re-points it, a
 * cascade into a declared object refused, a delete of an object the files
 * still refer to refused, objects another stack owns
 * only forgotten, members a target leaves alone, transport failures.
 *
 * Data: sites paris and lyon; devices d1 (paris; interfaces e0, e1:
 * components, so on_delete cascade) and d2 (lyon); tags red and blue.
 * Site nice with device d3 and its interface e3, which stack "ops" owns
 * too. Stack "fin" owns all of them; stack "ops" owns red too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "hf/prune.h"
#include "fake_transport.h"
#include "sdkload.h"
#include "schemahelp.h"
#include "testutil.h"

static struct hf_served srv;
static hf_schema *schema;
static hf_fake *fake;
static hf_owner *owner;
static json_t *ids; /* name -> node id */

static int served(void *payload, const struct hf_fake_req *r, json_t **answer,
                  hf_error *err)
{
	(void)payload;
	*answer = hf_gql(srv.url, NULL, NULL, r->query, r->variables);
	return *answer ? 0 : hf_error_set(err, HF_ENET, "no answer");
}

static hf_transport *via_server(void)
{
	hf_fake_free(fake);
	fake = hf_fake_new();
	assert_non_null(fake);
	assert_int_equal(hf_fake_handler(fake, NULL, -1, served, NULL), 0);
	return hf_fake_transport(fake);
}

static json_t *gql(const char *q)
{
	json_t *res = hf_gql(srv.url, NULL, NULL, q, NULL);

	assert_non_null(res);
	if (json_object_get(res, "errors")) {
		char *t = json_dumps(res, 0);

		fprintf(stderr, "%s\n", t);
		free(t);
	}
	assert_null(json_object_get(res, "errors"));
	return res;
}

static const char *id_of(const char *name)
{
	return json_string_value(json_object_get(ids, name));
}

/* Every node of `kind`, name -> id into `ids`. */
static void read_ids(const char *kind, const char *name_path)
{
	char q[300];
	json_t *res, *e;
	size_t i;

	snprintf(q, sizeof(q), "{ %s { edges { node { id hfid } } } }", kind);
	res = gql(q);
	json_array_foreach(
	        json_object_get(
	                json_object_get(json_object_get(res, "data"), kind),
	                "edges"),
	        i, e)
	{
		json_t *h = json_object_get(json_object_get(e, "node"), "hfid");
		const char *name = json_string_value(
		        json_array_get(h, json_array_size(h) - 1));

		(void)name_path;
		json_object_set(
		        ids, name,
		        json_object_get(json_object_get(e, "node"), "id"));
	}
	json_decref(res);
}

static void add_members(const char *group, const char *const *names)
{
	hf_buf q = HF_BUF_INIT;

	hf_buf_addf(&q,
	            "mutation { RelationshipAdd(data: {id: \"%s\", name: "
	            "\"members\", nodes: [",
	            id_of(group));
	for (; *names; names++)
		hf_buf_addf(&q, "{id: \"%s\"} ", id_of(*names));
	hf_buf_add(&q, "]}) { ok } }");
	json_decref(gql(q.ptr));
	hf_buf_release(&q);
}

static void seed(void)
{
	static const char *const fin[] = { "paris", "lyon", "d1",  "d2",
		                           "e0",    "e1",   "red", "blue",
		                           "nice",  "d3",   "e3",  NULL };
	static const char *const ops[] = { "red", "e3", NULL };

	assert_int_equal(hf_test_load_schema(srv.url), 0);
	json_decref(gql(
	        "mutation {"
	        " a: TestSiteCreate(data: {name: {value: \"paris\"}}) { ok }"
	        " b: TestSiteCreate(data: {name: {value: \"lyon\"}}) { ok }"
	        " r: BuiltinTagCreate(data: {name: {value: \"red\"}}) { ok }"
	        " u: BuiltinTagCreate(data: {name: {value: \"blue\"}}) { ok }"
	        " d: TestDeviceCreate(data: {name: {value: \"d1\"}, role: {value: \"edge\"},"
	        "  site: {hfid: [\"paris\"]}}) { ok }"
	        " f: TestDeviceCreate(data: {name: {value: \"d2\"}, role: {value: \"edge\"},"
	        "  site: {hfid: [\"lyon\"]}}) { ok }"
	        " e: TestInterfaceCreate(data: {name: {value: \"e0\"}, device: {hfid: [\"d1\"]}}) { ok }"
	        " g: TestInterfaceCreate(data: {name: {value: \"e1\"}, device: {hfid: [\"d1\"]}}) { ok }"
	        " n: TestSiteCreate(data: {name: {value: \"nice\"}}) { ok }"
	        " o: TestDeviceCreate(data: {name: {value: \"d3\"}, role: {value: \"edge\"},"
	        "  site: {hfid: [\"nice\"]}}) { ok }"
	        " q: TestInterfaceCreate(data: {name: {value: \"e3\"}, device: {hfid: [\"d3\"]}}) { ok }"
	        " h: CoreStandardGroupCreate(data: {name: {value: \"hubform-fin\"}}) { ok }"
	        " i: CoreStandardGroupCreate(data: {name: {value: \"hubform-ops\"}}) { ok }"
	        " }"));
	read_ids("TestSite", NULL);
	read_ids("TestDevice", NULL);
	read_ids("TestInterface", NULL);
	read_ids("BuiltinTag", NULL);
	read_ids("CoreStandardGroup", NULL);
	add_members("hubform-fin", fin);
	add_members("hubform-ops", ops);
	schema = hf_test_served_schema(srv.url);
}

static int setup(void **state)
{
	char db[512];

	(void)state;
	snprintf(db, sizeof(db), "%s/data.db", hf_test_tmpdir("prune"));
	if (hf_serve_start(&srv, db, NULL) < 0)
		return -1;
	ids = json_object();
	seed();
	return hf_owner_read(&owner, via_server(), "fin", 0, NULL);
}

static int teardown(void **state)
{
	(void)state;
	hf_owner_free(owner);
	hf_schema_free(schema);
	hf_fake_free(fake);
	json_decref(ids);
	return hf_serve_stop(&srv) == 0 ? 0 : -1;
}

/* {"id", "kind"} entries for these names */
static json_t *doomed(const char *kind1, const char *n1, const char *kind2,
                      const char *n2)
{
	json_t *d = json_array();

	json_array_append_new(
	        d, json_pack("{s:s, s:s}", "id", id_of(n1), "kind", kind1));
	if (n2)
		json_array_append_new(d, json_pack("{s:s, s:s}", "id",
		                                   id_of(n2), "kind", kind2));
	return d;
}

/* A declared object: an update (changing `field`) or a no-op. */
static void declared(hf_plan *p, enum hf_action a, const char *kind,
                     const char *name, const char *field)
{
	struct hf_change c;

	memset(&c, 0, sizeof(c));
	c.action = a;
	c.kind = hf_strdup(kind);
	c.hfid = json_pack("[s]", name);
	c.node_id = hf_strdup(id_of(name));
	c.before = json_object();
	c.after = json_object();
	c.changed = field ? json_pack("[s]", field) : json_array();
	assert_int_equal(hf_plan_add(p, &c, NULL), 0);
}

static hf_plan *new_plan(void)
{
	hf_plan *p;

	assert_int_equal(hf_plan_new(&p, srv.url, "main", NULL), 0);
	return p;
}

static struct hf_change *change_for(hf_plan *p, const char *name)
{
	size_t i;

	for (i = 0; i < hf_plan_count(p); i++)
		if (!strcmp(hf_plan_at(p, i)->node_id, id_of(name)))
			return hf_plan_at(p, i);
	fail_msg("no change for %s", name);
	return NULL;
}

static int has_dep(const struct hf_change *c, const char *id)
{
	json_t *d;
	size_t i;

	json_array_foreach(c->deps, i, d)
	{
		if (!strcmp(json_string_value(d), id))
			return 1;
	}
	return 0;
}

static void test_prune__orphans_are_members_not_declared(void **state)
{
	hf_plan *p = new_plan();
	json_t *o;
	size_t i;

	(void)state;
	assert_string_equal(hf_owner_group_id(owner), id_of("hubform-fin"));
	declared(p, HF_ACT_NOOP, "TestSite", "paris", NULL);
	declared(p, HF_ACT_UPDATE, "TestDevice", "d2", "role");
	o = hf_prune_orphans(p, owner);
	assert_int_equal(json_array_size(o), 9);
	for (i = 0; i < json_array_size(o); i++) {
		const char *id = json_string_value(
		        json_object_get(json_array_get(o, i), "id"));

		assert_string_not_equal(id, id_of("paris"));
		assert_string_not_equal(id, id_of("d2"));
	}
	json_decref(o);
	hf_plan_free(p);
}

static void test_prune__cascade_is_a_delete_of_its_own(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hf_plan *p = new_plan();
	json_t *d = doomed("TestDevice", "d1", NULL, NULL);
	struct hf_change *dev, *e0, *e1;

	(void)state;
	assert_int_equal(hf_prune_plan(p, d, owner, schema, via_server(), NULL,
	                               NULL, &err),
	                 0);
	assert_int_equal(hf_plan_count(p), 3);
	dev = change_for(p, "d1");
	e0 = change_for(p, "e0");
	e1 = change_for(p, "e1");
	assert_int_equal(dev->action, HF_ACT_DELETE);
	assert_int_equal(e0->action, HF_ACT_DELETE);
	assert_null(dev->cascade_of);
	assert_string_equal(e0->cascade_of, dev->id);
	assert_string_equal(e1->cascade_of, dev->id);
	assert_true(has_dep(e0, dev->id));
	assert_string_equal(json_string_value(json_array_get(dev->hfid, 0)),
	                    "d1");
	assert_string_equal(json_string_value(json_array_get(e0->hfid, 1)),
	                    "e0");
	assert_null(dev->after);
	assert_string_equal(
	        json_string_value(json_object_get(dev->before, "name")), "d1");
	assert_non_null(json_object_get(dev->before, "site"));
	assert_null(json_object_get(dev->before, "member_of_groups"));
	assert_int_equal(strlen(dev->fingerprint), 64);
	assert_int_equal(hf_plan_finish(p, &err), 0);
	assert_int_equal(dev->wave, 0);
	assert_int_equal(e0->wave, 1);
	assert_int_equal(hf_plan_meta(p)->n_delete, 3);
	json_decref(d);
	hf_plan_free(p);
}

static void test_prune__dangling_mandatory_relationship_is_named(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hf_plan *p = new_plan();
	json_t *d = doomed("TestSite", "paris", NULL, NULL);

	(void)state;
	assert_int_equal(hf_prune_plan(p, d, owner, schema, via_server(), NULL,
	                               NULL, &err),
	                 HF_EINVAL);
	assert_non_null(strstr(err.msg, "cannot delete TestSite 'paris'"));
	assert_non_null(strstr(err.msg, "TestDevice 'd1'"));
	assert_non_null(strstr(err.msg, "mandatory relationship 'site'"));
	json_decref(d);
	hf_plan_free(p);
}

static void test_prune__referrers_first(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hf_plan *p = new_plan();
	json_t *d = doomed("TestSite", "paris", "TestDevice", "d1");
	struct hf_change *site, *dev;

	(void)state;
	assert_int_equal(hf_prune_plan(p, d, owner, schema, via_server(), NULL,
	                               NULL, &err),
	                 0);
	site = change_for(p, "paris");
	dev = change_for(p, "d1");
	assert_true(has_dep(site, dev->id));
	assert_false(has_dep(dev, site->id));
	assert_int_equal(hf_plan_finish(p, &err), 0);
	assert_true(site->wave > dev->wave);
	json_decref(d);
	hf_plan_free(p);
}

static void test_prune__survivor_repointed_by_the_plan(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hf_plan *p = new_plan();
	json_t *d = doomed("TestSite", "lyon", NULL, NULL);

	(void)state;
	/* d2 keeps lyon: refused */
	declared(p, HF_ACT_UPDATE, "TestDevice", "d2", "role");
	assert_int_equal(hf_prune_plan(p, d, owner, schema, via_server(), NULL,
	                               NULL, &err),
	                 HF_EINVAL);
	assert_non_null(strstr(err.msg, "TestDevice 'd2'"));
	hf_plan_free(p);
	/* the plan moves d2 to another site first: fine */
	p = new_plan();
	declared(p, HF_ACT_UPDATE, "TestDevice", "d2", "site");
	assert_int_equal(hf_prune_plan(p, d, owner, schema, via_server(), NULL,
	                               NULL, &err),
	                 0);
	assert_int_equal(change_for(p, "lyon")->action, HF_ACT_DELETE);
	json_decref(d);
	hf_plan_free(p);
}

static void test_prune__cascade_into_declared_object_is_refused(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hf_plan *p = new_plan();
	json_t *d = doomed("TestDevice", "d1", NULL, NULL);
	struct hf_change c;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.action = HF_ACT_NOOP;
	c.kind = hf_strdup("TestInterface");
	c.hfid = json_pack("[s,s]", "d1", "e0");
	c.node_id = hf_strdup(id_of("e0"));
	assert_int_equal(hf_plan_add(p, &c, NULL), 0);
	assert_int_equal(hf_prune_plan(p, d, owner, schema, via_server(), NULL,
	                               NULL, &err),
	                 HF_EINVAL);
	assert_non_null(strstr(err.msg, "deleting TestDevice 'd1' would also "
	                                "delete TestInterface 'd1__e0'"));
	assert_non_null(strstr(err.msg, "which the files declare"));
	json_decref(d);
	hf_plan_free(p);
}

static void test_prune__object_the_files_refer_to_is_kept(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hf_plan *p = new_plan();
	json_t *d = doomed("BuiltinTag", "blue", NULL, NULL);
	struct hf_change c;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.action = HF_ACT_NOOP;
	c.kind = hf_strdup("TestDevice");
	c.hfid = json_pack("[s]", "d2");
	c.node_id = hf_strdup(id_of("d2"));
	c.after = json_pack("{s:[{s:s, s:[s]}]}", "tags", "kind", "BuiltinTag",
	                    "hfid", "blue");
	c.sources = json_pack("[{s:s, s:i}]", "file", "devices.yml", "line", 7);
	assert_int_equal(hf_plan_add(p, &c, NULL), 0);
	assert_int_equal(hf_prune_plan(p, d, owner, schema, via_server(), NULL,
	                               NULL, &err),
	                 HF_EINVAL);
	assert_non_null(strstr(err.msg,
	                       "cannot delete BuiltinTag 'blue': the "
	                       "files still refer to it (tags of "
	                       "TestDevice 'd2', declared at devices.yml:7)"));
	json_decref(d);
	hf_plan_free(p);
}

static void test_prune__cascade_into_shared_object_is_refused(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hf_plan *p = new_plan();
	json_t *d = doomed("TestDevice", "d3", NULL, NULL);

	(void)state;
	assert_int_equal(hf_prune_plan(p, d, owner, schema, via_server(), NULL,
	                               NULL, &err),
	                 HF_EINVAL);
	assert_non_null(strstr(err.msg, "deleting TestDevice 'd3' would also "
	                                "delete TestInterface 'd3__e3'"));
	assert_non_null(strstr(err.msg, "which stack 'ops' owns too"));
	json_decref(d);
	hf_plan_free(p);
	/* also when the shared object left the files too */
	p = new_plan();
	d = doomed("TestDevice", "d3", "TestInterface", "e3");
	assert_int_equal(hf_prune_plan(p, d, owner, schema, via_server(), NULL,
	                               NULL, &err),
	                 HF_EINVAL);
	assert_non_null(strstr(err.msg, "which stack 'ops' owns too"));
	json_decref(d);
	hf_plan_free(p);
}

static void test_prune__shared_objects_are_forgotten(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hf_plan *p = new_plan();
	json_t *d = doomed("BuiltinTag", "red", "BuiltinTag", "blue");

	(void)state;
	assert_int_equal(hf_prune_plan(p, d, owner, schema, via_server(), NULL,
	                               NULL, &err),
	                 0);
	assert_int_equal(change_for(p, "red")->action, HF_ACT_FORGET);
	assert_int_equal(change_for(p, "blue")->action, HF_ACT_DELETE);
	assert_int_equal(hf_plan_finish(p, &err), 0);
	assert_int_equal(hf_plan_meta(p)->n_forget, 1);
	assert_int_equal(hf_plan_meta(p)->n_delete, 1);
	json_decref(d);
	hf_plan_free(p);
}

static int keep_red_only(void *payload, const char *kind, const json_t *hfid)
{
	(void)payload;
	return !strcmp(kind, "BuiltinTag") &&
	       !strcmp(json_string_value(json_array_get(hfid, 0)), "red");
}

static void test_prune__members_left_alone(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hf_plan *p = new_plan();
	json_t *d = doomed("BuiltinTag", "red", "BuiltinTag", "blue");

	(void)state;
	assert_int_equal(hf_prune_plan(p, d, owner, schema, via_server(),
	                               keep_red_only, NULL, &err),
	                 0);
	assert_int_equal(hf_plan_count(p), 1);
	assert_int_equal(change_for(p, "red")->action, HF_ACT_FORGET);
	json_decref(d);
	hf_plan_free(p);
}

static void test_prune__transport_failure(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hf_plan *p = new_plan();
	json_t *d = doomed("TestDevice", "d1", NULL, NULL);

	(void)state;
	hf_fake_free(fake);
	fake = hf_fake_new();
	assert_int_equal(
	        hf_fake_fail(fake, NULL, -1, HF_ENET, "connection reset"), 0);
	assert_int_equal(hf_prune_plan(p, d, owner, schema,
	                               hf_fake_transport(fake), NULL, NULL,
	                               &err),
	                 HF_ENET);
	json_decref(d);
	hf_plan_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prune__orphans_are_members_not_declared),
		cmocka_unit_test(test_prune__cascade_is_a_delete_of_its_own),
		cmocka_unit_test(
		        test_prune__dangling_mandatory_relationship_is_named),
		cmocka_unit_test(test_prune__referrers_first),
		cmocka_unit_test(test_prune__survivor_repointed_by_the_plan),
		cmocka_unit_test(
		        test_prune__cascade_into_declared_object_is_refused),
		cmocka_unit_test(test_prune__object_the_files_refer_to_is_kept),
		cmocka_unit_test(
		        test_prune__cascade_into_shared_object_is_refused),
		cmocka_unit_test(test_prune__shared_objects_are_forgotten),
		cmocka_unit_test(test_prune__members_left_alone),
		cmocka_unit_test(test_prune__transport_failure),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
