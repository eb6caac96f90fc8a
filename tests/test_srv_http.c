/*
 * End-to-end tests of `hubform serve` over HTTP on an ephemeral loopback
 * port: schema REST API, GraphQL reads and writes, bad input, auth,
 * branches, restart persistence, concurrent clients and the fault knobs.
 * Uses only the project's own schema (tests/data/server/schema.json).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "sdkload.h"
#include "testutil.h"

struct env {
	struct hf_served srv;
	char db[512];
};

static char *schema_body(void)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/server/schema.json", hf_test_data());
	return hf_read_file(path, NULL);
}

static long post(const struct hf_served *s, const char *path, const char *body,
                 const char *const *headers, json_t **out)
{
	char url[512], *resp = NULL;
	long status = 0;

	snprintf(url, sizeof(url), "%s%s", s->url, path);
	assert_int_equal(hf_http(body ? "POST" : "GET", url, body, headers,
	                         &status, &resp),
	                 0);
	*out = json_loads(resp, JSON_DECODE_ANY, NULL);
	hf_free(resp);
	return status;
}

static void load_schema(const struct hf_served *s)
{
	char *body = schema_body();
	json_t *res;

	assert_non_null(body);
	assert_int_equal(
	        post(s, "/api/schema/load?branch=main", body, NULL, &res), 200);
	json_decref(res);
	hf_free(body);
}

static int start(struct env *e, const char *name, const char *const *extra)
{
	const char *dir = hf_test_tmpdir(name);

	assert_non_null(dir);
	snprintf(e->db, sizeof(e->db), "%s/data.db", dir);
	return hf_serve_start(&e->srv, e->db, extra);
}

/* Run a GraphQL document on `branch`; assert no errors; return data. */
static json_t *gql_ok(const struct hf_served *s, const char *branch,
                      const char *q, json_t *vars)
{
	json_t *res = hf_gql(s->url, branch, NULL, q, vars), *data;

	assert_non_null(res);
	if (json_object_get(res, "errors")) {
		char *t = json_dumps(res, 0);

		fprintf(stderr, "unexpected errors: %s\n", t);
		free(t);
		fail();
	}
	data = json_incref(json_object_get(res, "data"));
	json_decref(res);
	json_decref(vars);
	return data;
}

/* Run a document expected to fail; returns the first error message. */
static char *gql_err(const struct hf_served *s, const char *q)
{
	json_t *res = hf_gql(s->url, NULL, NULL, q, NULL), *e;
	char *msg;

	assert_non_null(res);
	e = json_array_get(json_object_get(res, "errors"), 0);
	assert_non_null(e);
	msg = hf_strdup(json_string_value(json_object_get(e, "message")));
	json_decref(res);
	return msg;
}

static long count_of(const struct hf_served *s, const char *branch,
                     const char *kind)
{
	char q[256];
	json_t *d;
	long n;

	snprintf(q, sizeof(q), "query { %s { count } }", kind);
	d = gql_ok(s, branch, q, NULL);
	n = (long)json_integer_value(
	        json_object_get(json_object_get(d, kind), "count"));
	json_decref(d);
	return n;
}

static const char seed[] =
        "mutation {"
        " s1: TestSiteCreate(data: {name: {value: \"paris\"}}) { ok object { id } }"
        " s2: TestSiteCreate(data: {name: {value: \"lyon\"}, description: {value: \"lab\"}}) { ok }"
        " d1: TestDeviceCreate(data: {name: {value: \"core1\"}, role: {value: \"core\"},"
        "   asn: {value: 65001}, site: {hfid: [\"paris\"]}}) { ok object { id } }"
        " i1: TestInterfaceCreate(data: {name: {value: \"eth0\"}, device: {hfid: [\"core1\"]}}) { ok }"
        " i2: TestInterfaceCreate(data: {name: {value: \"eth1\"}, mtu: {value: 9000},"
        "   device: {hfid: [\"core1\"]}}) { ok }"
        "}";

static void test_srv_http__schema_api(void **state)
{
	struct env e;
	char *body = schema_body();
	json_t *res;
	const char *hash;

	(void)state;
	assert_int_equal(start(&e, "schema", NULL), 0);
	assert_int_equal(
	        post(&e.srv, "/api/schema/load?branch=main", body, NULL, &res),
	        200);
	assert_true(json_is_true(json_object_get(res, "schema_updated")));
	hash = json_string_value(json_object_get(res, "hash"));
	assert_non_null(hash);
	assert_int_equal(strlen(hash), 32);
	assert_string_not_equal(
	        hash, json_string_value(json_object_get(res, "previous_hash")));
	json_decref(res);
	/* loading the same schema again changes nothing */
	assert_int_equal(post(&e.srv, "/api/schema/load", body, NULL, &res),
	                 200);
	assert_false(json_is_true(json_object_get(res, "schema_updated")));
	assert_string_equal(
	        json_string_value(json_object_get(res, "hash")),
	        json_string_value(json_object_get(res, "previous_hash")));
	json_decref(res);
	assert_int_equal(
	        post(&e.srv, "/api/schema?branch=main", NULL, NULL, &res), 200);
	assert_true(json_is_array(json_object_get(res, "nodes")));
	assert_true(json_is_array(json_object_get(res, "generics")));
	assert_int_equal(
	        strlen(json_string_value(json_object_get(res, "main"))), 32);
	json_decref(res);
	assert_int_equal(
	        post(&e.srv, "/api/schema/TestInterface", NULL, NULL, &res),
	        200);
	assert_string_equal(json_string_value(json_object_get(res, "kind")),
	                    "TestInterface");
	json_decref(res);
	assert_int_equal(post(&e.srv, "/api/nope", NULL, NULL, &res), 404);
	json_decref(res);
	hf_free(body);
	assert_int_equal(hf_serve_stop(&e.srv), 0);
}

static void test_srv_http__read_write(void **state)
{
	struct env e;
	json_t *d, *edges, *node;

	(void)state;
	assert_int_equal(start(&e, "rw", NULL), 0);
	load_schema(&e.srv);
	json_decref(gql_ok(&e.srv, NULL, seed, NULL));
	d = gql_ok(
	        &e.srv, NULL,
	        "query ($n: String!) { TestDevice(name__value: $n) { count"
	        " edges { node { id hfid display_label __typename"
	        " name { value } role { value label color } asn { value }"
	        " enabled { value is_default }"
	        " site { node { hfid } }"
	        " interfaces { count edges { node { name { value } mtu { value } } } }"
	        " } } } }",
	        json_pack("{ss}", "n", "core1"));
	assert_int_equal(json_integer_value(json_object_get(
	                         json_object_get(d, "TestDevice"), "count")),
	                 1);
	edges = json_object_get(json_object_get(d, "TestDevice"), "edges");
	node = json_object_get(json_array_get(edges, 0), "node");
	assert_string_equal(
	        json_string_value(json_object_get(node, "__typename")),
	        "TestDevice");
	assert_string_equal(json_string_value(json_array_get(
	                            json_object_get(node, "hfid"), 0)),
	                    "core1");
	assert_string_equal(json_string_value(json_object_get(
	                            json_object_get(node, "role"), "label")),
	                    "Core");
	assert_int_equal(json_integer_value(json_object_get(
	                         json_object_get(node, "asn"), "value")),
	                 65001);
	assert_true(json_is_true(json_object_get(
	        json_object_get(node, "enabled"), "is_default")));
	assert_int_equal(json_integer_value(json_object_get(
	                         json_object_get(node, "interfaces"), "count")),
	                 2);
	json_decref(d);
	/* offset/limit paging keeps count as the total */
	d = gql_ok(
	        &e.srv, NULL,
	        "{ TestInterface(offset: 1, limit: 1) { count edges { node { hfid } } } }",
	        NULL);
	assert_int_equal(json_integer_value(json_object_get(
	                         json_object_get(d, "TestInterface"), "count")),
	                 2);
	assert_int_equal(json_array_size(json_object_get(
	                         json_object_get(d, "TestInterface"), "edges")),
	                 1);
	json_decref(d);
	/* upsert by hfid updates in place: same count, new value */
	json_decref(gql_ok(
	        &e.srv, NULL,
	        "mutation { TestSiteUpsert(data: {name: {value: \"lyon\"},"
	        " description: {value: \"lab 2\"}}) { ok } }",
	        NULL));
	assert_int_equal(count_of(&e.srv, NULL, "TestSite"), 2);
	d = gql_ok(
	        &e.srv, NULL,
	        "{ TestSite(hfid: [\"lyon\"]) { edges { node { description { value } } } } }",
	        NULL);
	assert_string_equal(
	        json_string_value(json_object_get(
	                json_object_get(
	                        json_object_get(
	                                json_array_get(
	                                        json_object_get(
	                                                json_object_get(
	                                                        d, "TestSite"),
	                                                "edges"),
	                                        0),
	                                "node"),
	                        "description"),
	                "value")),
	        "lab 2");
	json_decref(d);
	assert_int_equal(hf_serve_stop(&e.srv), 0);
}

static void expect_contains(char *msg, const char *needle)
{
	if (!strstr(msg, needle))
		fprintf(stderr, "message '%s' lacks '%s'\n", msg, needle);
	assert_non_null(strstr(msg, needle));
	hf_free(msg);
}

static void test_srv_http__bad_input(void **state)
{
	const char *const extra[] = { "--max-body", "4096", NULL };
	char big[8192];
	struct env e;
	json_t *res;

	(void)state;
	assert_int_equal(start(&e, "bad", extra), 0);
	load_schema(&e.srv);
	json_decref(gql_ok(&e.srv, NULL, seed, NULL));
	assert_int_equal(post(&e.srv, "/graphql", "{not json", NULL, &res),
	                 400);
	assert_true(json_is_string(
	        json_array_get(json_object_get(res, "errors"), 0)));
	json_decref(res);
	assert_int_equal(
	        post(&e.srv, "/graphql", "[{\"query\":\"{x}\"}]", NULL, &res),
	        400);
	assert_string_equal(json_string_value(json_array_get(
	                            json_object_get(res, "errors"), 0)),
	                    "This server does not support batching");
	json_decref(res);
	/* malformed GraphQL: 200, errors with line and column */
	assert_int_equal(post(&e.srv, "/graphql",
	                      "{\"query\":\"query {\\n  TestSite(\"}", NULL,
	                      &res),
	                 200);
	assert_non_null(strstr(
	        json_string_value(json_object_get(
	                json_array_get(json_object_get(res, "errors"), 0),
	                "message")),
	        "Syntax Error"));
	assert_int_equal(
	        json_integer_value(json_object_get(
	                json_array_get(
	                        json_object_get(
	                                json_array_get(
	                                        json_object_get(res, "errors"),
	                                        0),
	                                "locations"),
	                        0),
	                "line")),
	        2);
	json_decref(res);
	assert_int_equal(post(&e.srv, "/graphql/no-such-branch",
	                      "{\"query\":\"{ TestSite { count } }\"}", NULL,
	                      &res),
	                 404);
	assert_string_equal(json_string_value(json_array_get(
	                            json_object_get(res, "errors"), 0)),
	                    "Branch: no-such-branch not found.");
	json_decref(res);
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "{\"query\":\"", 10);
	assert_int_equal(post(&e.srv, "/graphql", big, NULL, &res), 413);
	json_decref(res);
	expect_contains(gql_err(&e.srv, "{ NoSuchKind { count } }"),
	                "NoSuchKind");
	expect_contains(
	        gql_err(&e.srv,
	                "{ TestSite { edges { node { nope { value } } } } }"),
	        "nope");
	expect_contains(
	        gql_err(&e.srv,
	                "mutation { TestSiteCreate(data: {name: {value: \"x\"},"
	                " color: {value: \"red\"}}) { ok } }"),
	        "color is not a valid input for TestSite");
	expect_contains(
	        gql_err(&e.srv,
	                "mutation { TestDeviceCreate(data: {name: {value: \"d9\"},"
	                " role: {value: \"core\"}, asn: {value: \"many\"},"
	                " site: {hfid: [\"paris\"]}}) { ok } }"),
	        "asn");
	expect_contains(
	        gql_err(&e.srv,
	                "mutation { TestDeviceCreate(data: {name: {value: \"d9\"},"
	                " role: {value: \"spine\"}, site: {hfid: [\"paris\"]}}) { ok } }"),
	        "spine");
	expect_contains(
	        gql_err(&e.srv,
	                "mutation { TestDeviceCreate(data: {name: {value: \"d9\"},"
	                " site: {hfid: [\"paris\"]}}) { ok } }"),
	        "role is mandatory for TestDevice");
	expect_contains(
	        gql_err(&e.srv,
	                "mutation { TestSiteCreate(data: {name: {value: \"paris\"}}) { ok } }"),
	        "An object already exist with this value: name: paris at name");
	expect_contains(
	        gql_err(&e.srv,
	                "mutation { TestDeviceCreate(data: {name: {value: \"d9\"},"
	                " role: {value: \"core\"}, site: {hfid: [\"mars\"]}}) { ok } }"),
	        "Unable to find the node");
	assert_int_equal(count_of(&e.srv, NULL, "TestDevice"), 1);
	assert_int_equal(hf_serve_stop(&e.srv), 0);
}

/*
 * One unauthenticated request used to overflow the stack: a chain of
 * 20,000 fragment spreads, each fragment spreading the next, never
 * reached the depth limit (spreads did not count as nesting).
 */
static void test_srv_http__fragment_chain_hits_the_depth_limit(void **state)
{
	hf_buf q = HF_BUF_INIT;
	json_t *res, *body;
	char *text;
	struct env e;
	int i;

	(void)state;
	assert_int_equal(start(&e, "chain", NULL), 0);
	hf_buf_add(&q, "{ Branch { ...F0 } }");
	for (i = 0; i < 20000; i++)
		hf_buf_addf(&q, " fragment F%d on Branch { ...F%d }", i, i + 1);
	hf_buf_addf(&q, " fragment F%d on Branch { name }", i);
	body = json_pack("{s:s}", "query", q.ptr);
	text = json_dumps(body, JSON_COMPACT);
	assert_int_equal(post(&e.srv, "/graphql", text, NULL, &res), 200);
	assert_string_equal(
	        json_string_value(json_object_get(
	                json_array_get(json_object_get(res, "errors"), 0),
	                "message")),
	        "Query depth exceeds the limit of 64.");
	json_decref(res);
	/* and the endpoint is still there */
	assert_int_equal(post(&e.srv, "/graphql",
	                      "{\"query\": \"{ Branch { name } }\"}", NULL,
	                      &res),
	                 200);
	json_decref(res);
	hf_free(text);
	json_decref(body);
	hf_buf_release(&q);
	assert_int_equal(hf_serve_stop(&e.srv), 0);
}

static void test_srv_http__auth(void **state)
{
	const char *const extra[] = { "--token", "s3cret", NULL };
	const char *const good[] = { "X-INFRAHUB-KEY: s3cret", NULL };
	const char *const bad[] = { "X-INFRAHUB-KEY: wrong", NULL };
	const char q[] = "{\"query\":\"{ BuiltinTag { count } }\"}";
	struct env e;
	json_t *res;

	(void)state;
	assert_int_equal(start(&e, "auth", extra), 0);
	assert_int_equal(post(&e.srv, "/graphql", q, NULL, &res), 401);
	assert_string_equal(
	        json_string_value(json_object_get(
	                json_array_get(json_object_get(res, "errors"), 0),
	                "message")),
	        "Authentication is required to perform this operation");
	assert_true(json_is_null(json_object_get(res, "data")));
	json_decref(res);
	assert_int_equal(post(&e.srv, "/graphql", q, bad, &res), 401);
	json_decref(res);
	assert_int_equal(post(&e.srv, "/api/schema", NULL, bad, &res), 401);
	json_decref(res);
	assert_int_equal(post(&e.srv, "/graphql", q, good, &res), 200);
	assert_null(json_object_get(res, "errors"));
	json_decref(res);
	assert_int_equal(hf_serve_stop(&e.srv), 0);
}

static const char *desc_of(const struct hf_served *s, const char *branch,
                           const char *site, char *buf, size_t n)
{
	char q[256];
	json_t *d, *edges;
	const char *v;

	snprintf(
	        q, sizeof(q),
	        "{ TestSite(name__value: \"%s\") { edges { node { description { value } } } } }",
	        site);
	d = gql_ok(s, branch, q, NULL);
	edges = json_object_get(json_object_get(d, "TestSite"), "edges");
	v = json_string_value(json_object_get(
	        json_object_get(
	                json_object_get(json_array_get(edges, 0), "node"),
	                "description"),
	        "value"));
	snprintf(buf, n, "%s",
	         json_array_size(edges) ? (v ? v : "(null)") : "(absent)");
	json_decref(d);
	return buf;
}

static void branch_op(const struct hf_served *s, const char *op,
                      const char *name)
{
	char q[256];

	snprintf(q, sizeof(q), "mutation { %s(data: {name: \"%s\"}) { ok } }",
	         op, name);
	json_decref(gql_ok(s, NULL, q, NULL));
}

static void test_srv_http__branches(void **state)
{
	struct env e;
	char b1[64];
	json_t *d;
	char *msg;

	(void)state;
	assert_int_equal(start(&e, "branches", NULL), 0);
	load_schema(&e.srv);
	json_decref(gql_ok(&e.srv, NULL, seed, NULL));
	d = gql_ok(
	        &e.srv, NULL,
	        "mutation { BranchCreate(background_execution: false, data: {name: \"feature/x\","
	        " description: \"test\", sync_with_git: false}) { ok object { id name"
	        " origin_branch branched_from is_default sync_with_git has_schema_changes } } }",
	        NULL);
	assert_true(json_is_true(
	        json_object_get(json_object_get(d, "BranchCreate"), "ok")));
	json_decref(d);
	/* a write on the branch is invisible on main until merge */
	json_decref(gql_ok(&e.srv, "feature/x",
	                   "mutation { TestSiteUpdate(data: {hfid: [\"paris\"],"
	                   " description: {value: \"from branch\"}}) { ok } }",
	                   NULL));
	json_decref(gql_ok(
	        &e.srv, "feature/x",
	        "mutation { TestSiteCreate(data: {name: {value: \"nice\"}}) { ok } }",
	        NULL));
	assert_string_equal(
	        desc_of(&e.srv, "feature/x", "paris", b1, sizeof(b1)),
	        "from branch");
	assert_string_equal(desc_of(&e.srv, NULL, "paris", b1, sizeof(b1)),
	                    "(null)");
	assert_string_equal(desc_of(&e.srv, NULL, "nice", b1, sizeof(b1)),
	                    "(absent)");
	branch_op(&e.srv, "BranchMerge", "feature/x");
	assert_string_equal(desc_of(&e.srv, NULL, "paris", b1, sizeof(b1)),
	                    "from branch");
	assert_string_equal(desc_of(&e.srv, NULL, "nice", b1, sizeof(b1)),
	                    "(null)");
	/* delete discards the branch's writes */
	branch_op(&e.srv, "BranchCreate", "scratch");
	json_decref(gql_ok(
	        &e.srv, "scratch",
	        "mutation { TestSiteCreate(data: {name: {value: \"gone\"}}) { ok } }",
	        NULL));
	branch_op(&e.srv, "BranchDelete", "scratch");
	assert_string_equal(desc_of(&e.srv, NULL, "gone", b1, sizeof(b1)),
	                    "(absent)");
	/* conflicting merge fails and leaves main unchanged */
	branch_op(&e.srv, "BranchCreate", "conflict");
	json_decref(gql_ok(&e.srv, "conflict",
	                   "mutation { TestSiteUpdate(data: {hfid: [\"lyon\"],"
	                   " description: {value: \"branch side\"}}) { ok } }",
	                   NULL));
	json_decref(gql_ok(&e.srv, NULL,
	                   "mutation { TestSiteUpdate(data: {hfid: [\"lyon\"],"
	                   " description: {value: \"main side\"}}) { ok } }",
	                   NULL));
	msg = gql_err(
	        &e.srv,
	        "mutation { BranchMerge(data: {name: \"conflict\"}) { ok } }");
	expect_contains(msg, "Unable to merge the branch 'conflict'");
	assert_string_equal(desc_of(&e.srv, NULL, "lyon", b1, sizeof(b1)),
	                    "main side");
	assert_int_equal(hf_serve_stop(&e.srv), 0);
}

static const char pair_schema[] =
        "{\"schemas\":[{\"version\":\"1.0\",\"nodes\":[{\"namespace\":"
        "\"Test\",\"name\":\"Pair\",\"uniqueness_constraints\":"
        "[[\"left__value\",\"right__value\"]],\"attributes\":["
        "{\"name\":\"left\",\"kind\":\"Text\"},"
        "{\"name\":\"right\",\"kind\":\"Text\"}]}]}]}";

static char *pair_id(const struct hf_served *s, const char *l, const char *r)
{
	char q[256];
	json_t *d;
	char *id;

	snprintf(q, sizeof(q),
	         "{ TestPair(left__value: \"%s\", right__value: \"%s\") "
	         "{ edges { node { id } } } }",
	         l, r);
	d = gql_ok(s, NULL, q, NULL);
	id = hf_strdup(json_string_value(json_object_get(
	        json_object_get(
	                json_array_get(
	                        json_object_get(json_object_get(d, "TestPair"),
	                                        "edges"),
	                        0),
	                "node"),
	        "id")));
	json_decref(d);
	return id;
}

/*
 * Two branches that each create the same HFID, or the same values of a
 * multi-field uniqueness constraint, as main gained meanwhile: the merge
 * is refused and main keeps one object (Infrahub validates constraints at
 * merge). A branch that moves main's object away first merges fine.
 */
static void test_srv_http__merge_rechecks_constraints(void **state)
{
	const char merge_b1[] =
	        "mutation { BranchMerge(data: {name: \"br1\"}) { ok } }";
	const char merge_b2[] =
	        "mutation { BranchMerge(data: {name: \"br2\"}) { ok } }";
	const char eth7[] =
	        "mutation { TestInterfaceCreate(data: {name: {value: \"eth7\"},"
	        " device: {hfid: [\"core1\"]}}) { ok } }";
	const char pair_ab[] =
	        "mutation { TestPairCreate(data: {left: {value: \"a\"},"
	        " right: {value: \"b\"}}) { ok } }";
	struct env e;
	json_t *res;
	char q[512], *id;

	(void)state;
	assert_int_equal(start(&e, "merge-constraints", NULL), 0);
	load_schema(&e.srv);
	assert_int_equal(post(&e.srv, "/api/schema/load?branch=main",
	                      pair_schema, NULL, &res),
	                 200);
	json_decref(res);
	json_decref(gql_ok(&e.srv, NULL, seed, NULL));
	/* HFID (device, name) */
	branch_op(&e.srv, "BranchCreate", "br1");
	json_decref(gql_ok(&e.srv, "br1", eth7, NULL));
	json_decref(gql_ok(&e.srv, NULL, eth7, NULL));
	expect_contains(gql_err(&e.srv, merge_b1),
	                "validation failed: TestInterface ");
	assert_int_equal(count_of(&e.srv, NULL, "TestInterface"), 3);
	/* uniqueness_constraints [left, right] */
	branch_op(&e.srv, "BranchCreate", "br2");
	json_decref(gql_ok(&e.srv, "br2", pair_ab, NULL));
	json_decref(gql_ok(&e.srv, NULL, pair_ab, NULL));
	expect_contains(gql_err(&e.srv, merge_b2),
	                "violates uniqueness constraint [left__value, "
	                "right__value]");
	assert_int_equal(count_of(&e.srv, NULL, "TestPair"), 1);
	/* the branch renames main's pair, then takes its values: fine */
	id = pair_id(&e.srv, "a", "b");
	assert_non_null(id);
	branch_op(&e.srv, "BranchCreate", "br3");
	snprintf(q, sizeof(q),
	         "mutation { TestPairUpdate(data: {id: \"%s\", right: "
	         "{value: \"z\"}}) { ok } }",
	         id);
	json_decref(gql_ok(&e.srv, "br3", q, NULL));
	json_decref(gql_ok(&e.srv, "br3", pair_ab, NULL));
	branch_op(&e.srv, "BranchMerge", "br3");
	assert_int_equal(count_of(&e.srv, NULL, "TestPair"), 2);
	hf_free(id);
	assert_int_equal(hf_serve_stop(&e.srv), 0);
}

static void test_srv_http__restart_keeps_data(void **state)
{
	struct env e;
	char b1[64];

	(void)state;
	assert_int_equal(start(&e, "restart", NULL), 0);
	load_schema(&e.srv);
	json_decref(gql_ok(&e.srv, NULL, seed, NULL));
	assert_int_equal(hf_serve_stop(&e.srv), 0);
	assert_int_equal(hf_serve_start(&e.srv, e.db, NULL), 0);
	assert_int_equal(count_of(&e.srv, NULL, "TestInterface"), 2);
	assert_string_equal(desc_of(&e.srv, NULL, "lyon", b1, sizeof(b1)),
	                    "lab");
	assert_int_equal(hf_serve_stop(&e.srv), 0);
}

struct worker {
	const struct hf_served *srv;
	int n;
	int ok;
};

static void *client(void *arg)
{
	struct worker *w = arg;
	char q[256];
	json_t *res;
	int i;

	for (i = 0; i < 25; i++) {
		snprintf(
		        q, sizeof(q),
		        "mutation { BuiltinTagCreate(data: {name: {value: \"t%d-%d\"}}) { ok } }",
		        w->n, i);
		res = hf_gql(w->srv->url, NULL, NULL, q, NULL);
		if (res && !json_object_get(res, "errors"))
			w->ok++;
		json_decref(res);
		res = hf_gql(w->srv->url, NULL, NULL,
		             "{ BuiltinTag { count } }", NULL);
		if (!res || json_object_get(res, "errors"))
			w->ok = -1000;
		json_decref(res);
	}
	return NULL;
}

static void test_srv_http__concurrent_clients(void **state)
{
	struct worker w[8];
	pthread_t t[8];
	struct env e;
	long before;
	int i;

	(void)state;
	assert_int_equal(start(&e, "concurrent", NULL), 0);
	before = count_of(&e.srv, NULL, "BuiltinTag");
	for (i = 0; i < 8; i++) {
		w[i].srv = &e.srv;
		w[i].n = i;
		w[i].ok = 0;
		pthread_create(&t[i], NULL, client, &w[i]);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].ok, 25);
	}
	assert_int_equal(count_of(&e.srv, NULL, "BuiltinTag"), before + 200);
	assert_int_equal(hf_serve_stop(&e.srv), 0);
}

static void test_srv_http__fault_http_503(void **state)
{
	const char *const extra[] = { "--fault", "http-503=2", NULL };
	const char q[] = "{\"query\":\"{ BuiltinTag { count } }\"}";
	struct env e;
	json_t *res;

	(void)state;
	assert_int_equal(start(&e, "f503", extra), 0);
	assert_int_equal(post(&e.srv, "/graphql", q, NULL, &res), 200);
	json_decref(res);
	assert_int_equal(post(&e.srv, "/graphql", q, NULL, &res), 503);
	json_decref(res);
	assert_int_equal(post(&e.srv, "/graphql", q, NULL, &res), 200);
	json_decref(res);
	assert_int_equal(hf_serve_stop(&e.srv), 0);
}

static void test_srv_http__fault_fail_mutation(void **state)
{
	const char *const extra[] = { "--fault", "fail-mutation=2", NULL };
	struct env e;
	json_t *res, *data;

	(void)state;
	assert_int_equal(start(&e, "ffail", extra), 0);
	res = hf_gql(
	        e.srv.url, NULL, NULL,
	        "mutation { a: BuiltinTagCreate(data: {name: {value: \"a\"}}) { ok }"
	        " b: BuiltinTagCreate(data: {name: {value: \"b\"}}) { ok }"
	        " c: BuiltinTagCreate(data: {name: {value: \"c\"}}) { ok } }",
	        NULL);
	assert_non_null(res);
	data = json_object_get(res, "data");
	assert_true(json_is_true(
	        json_object_get(json_object_get(data, "a"), "ok")));
	assert_true(json_is_null(json_object_get(data, "b")));
	assert_true(json_is_true(
	        json_object_get(json_object_get(data, "c"), "ok")));
	assert_int_equal(json_array_size(json_object_get(res, "errors")), 1);
	assert_string_equal(
	        json_string_value(json_array_get(
	                json_object_get(
	                        json_array_get(json_object_get(res, "errors"),
	                                       0),
	                        "path"),
	                0)),
	        "b");
	json_decref(res);
	assert_int_equal(count_of(&e.srv, NULL, "BuiltinTag"), 2);
	assert_int_equal(hf_serve_stop(&e.srv), 0);
}

static void test_srv_http__fault_drop_after_commit(void **state)
{
	const char *const extra[] = { "--fault", "drop-after-commit=1", NULL };
	char url[256], *resp = NULL;
	struct env e;
	long status;

	(void)state;
	assert_int_equal(start(&e, "fdrop", extra), 0);
	/* a read does not count; the first mutating request is dropped */
	assert_int_equal(count_of(&e.srv, NULL, "BuiltinTag"), 0);
	snprintf(url, sizeof(url), "%s/graphql", e.srv.url);
	assert_int_not_equal(
	        hf_http("POST", url,
	                "{\"query\":\"mutation { BuiltinTagCreate(data: {name: {value: \\\"x\\\"}}) { ok } }\"}",
	                NULL, &status, &resp),
	        0);
	hf_free(resp);
	/* ... yet it committed */
	assert_int_equal(count_of(&e.srv, NULL, "BuiltinTag"), 1);
	assert_int_equal(hf_serve_stop(&e.srv), 0);
}

static void test_srv_http__fault_latency(void **state)
{
	const char *const extra[] = { "--fault", "latency=150", NULL };
	struct timespec t0, t1;
	struct env e;
	double ms;

	(void)state;
	assert_int_equal(start(&e, "flat", extra), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	count_of(&e.srv, NULL, "BuiltinTag");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	     (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	/* a lower bound only: the knob must delay, however busy the host */
	assert_true(ms >= 150.0);
	assert_int_equal(hf_serve_stop(&e.srv), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_srv_http__schema_api),
		cmocka_unit_test(test_srv_http__read_write),
		cmocka_unit_test(test_srv_http__bad_input),
		cmocka_unit_test(test_srv_http__auth),
		cmocka_unit_test(
		        test_srv_http__fragment_chain_hits_the_depth_limit),
		cmocka_unit_test(test_srv_http__branches),
		cmocka_unit_test(test_srv_http__merge_rechecks_constraints),
		cmocka_unit_test(test_srv_http__restart_keeps_data),
		cmocka_unit_test(test_srv_http__concurrent_clients),
		cmocka_unit_test(test_srv_http__fault_http_503),
		cmocka_unit_test(test_srv_http__fault_fail_mutation),
		cmocka_unit_test(test_srv_http__fault_drop_after_commit),
		cmocka_unit_test(test_srv_http__fault_latency),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
