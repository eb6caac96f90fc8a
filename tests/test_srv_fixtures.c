/*
 * Replays every request the official Infrahub Python SDK sent in the
 * captured fixtures (../shared/fixtures/infrahub/queries/requests.json)
 * against `hubform serve`, and checks the answers have the shape the
 * fixture responses show, with no errors. Skips when ../shared is absent.
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
#include "sdkload.h"
#include "testutil.h"

#define DEMO_TOKEN  "06438eb2-8019-4776-878c-0941b1f1d1ec"
#define LOCATION_ID "18187157-032c-2b7b-35b6-c5132b0ec757"
#define TAG_ID      "17aec828-9814-ce00-3f20-1a053670f1c8"

static struct hf_served srv;
static char fixtures[512];

static json_t *fixture(const char *name)
{
	char path[1024];
	json_t *j;

	snprintf(path, sizeof(path), "%s/%s", fixtures, name);
	j = json_load_file(path, 0, NULL);
	assert_non_null(j);
	return j;
}

static json_t *gql(const char *q)
{
	json_t *r = hf_gql(srv.url, NULL, DEMO_TOKEN, q, NULL);

	assert_non_null(r);
	assert_null(json_object_get(r, "errors"));
	return r;
}

/* The capture schema is a GET /api/schema answer: load its user kinds. */
static void load_capture_schema(void)
{
	json_t *cap = fixture("queries/capture_schema.json"), *nodes, *n;
	json_t *req, *res;
	const char *hdr[] = { "X-INFRAHUB-KEY: " DEMO_TOKEN, NULL };
	char url[512], *text, *resp = NULL;
	long status;
	size_t i;

	nodes = json_array();
	json_array_foreach(json_object_get(cap, "nodes"), i, n)
	{
		if (!strcmp(json_string_value(json_object_get(n, "name")),
		            "Location"))
			json_array_append(nodes, n);
	}
	req = json_pack("{s[{sssO}]}", "schemas", "version", "1.0", "nodes",
	                nodes);
	text = json_dumps(req, JSON_COMPACT);
	snprintf(url, sizeof(url), "%s/api/schema/load?branch=main", srv.url);
	assert_int_equal(hf_http("POST", url, text, hdr, &status, &resp), 0);
	if (status != 200)
		fprintf(stderr, "schema load: %ld %s\n", status, resp);
	assert_int_equal(status, 200);
	res = json_loads(resp, 0, NULL);
	assert_true(json_is_true(json_object_get(res, "schema_updated")));
	json_decref(res);
	free(text);
	hf_free(resp);
	json_decref(req);
	json_decref(nodes);
	json_decref(cap);
}

/* 52 locations so the SDK's two pages are both non-empty. */
static void seed(void)
{
	char q[512];
	int i;

	json_decref(gql("mutation { BuiltinTagCreate(data: {id: \"" TAG_ID "\","
	                " name: {value: \"red\"}}) { ok } }"));
	json_decref(gql(
	        "mutation { BuiltinLocationCreate(data: {id: \"" LOCATION_ID
	        "\","
	        " name: {value: \"LAX1\"}, type: {value: \"SITE\"}}) { ok } }"));
	for (i = 0; i < 51; i++) {
		snprintf(
		        q, sizeof(q),
		        "mutation { BuiltinLocationCreate(data: {name: {value: \"loc%02d\"},"
		        " type: {value: \"SITE\"}}) { ok } }",
		        i);
		json_decref(gql(q));
	}
}

static int setup(void **state)
{
	const char *extra[] = { "--token", DEMO_TOKEN, NULL };
	const char *dir = hf_test_tmpdir("fixtures");
	char db[512];

	(void)state;
	snprintf(db, sizeof(db), "%s/data.db", dir);
	if (hf_serve_start(&srv, db, extra) < 0)
		return -1;
	load_capture_schema();
	seed();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return hf_serve_stop(&srv) == 0 ? 0 : -1;
}

static void check_attr(json_t *a)
{
	static const char *const keys[] = {
		"value",      "is_default",   "is_from_profile",
		"is_visible", "is_protected", "source",
		"owner"
	};
	size_t i;

	assert_true(json_is_object(a));
	for (i = 0; i < 7; i++)
		assert_non_null(json_object_get(a, keys[i]));
}

/* The shape of fixture graphql_node_list_page1_of_2.json, per node. */
static void check_location(json_t *node)
{
	json_t *tag = json_object_get(node, "primary_tag");

	assert_true(json_is_string(json_object_get(node, "id")));
	assert_true(json_is_array(json_object_get(node, "hfid")));
	assert_true(json_is_string(json_object_get(node, "display_label")));
	assert_string_equal(
	        json_string_value(json_object_get(node, "__typename")),
	        "BuiltinLocation");
	check_attr(json_object_get(node, "name"));
	check_attr(json_object_get(node, "description"));
	check_attr(json_object_get(node, "type"));
	assert_true(json_is_object(tag));
	assert_non_null(json_object_get(tag, "node"));
	assert_true(json_is_object(json_object_get(tag, "properties")));
}

static void check_query(const char *name, json_t *data)
{
	json_t *kind = json_object_get(data, "BuiltinLocation"), *e;
	json_t *page = fixture("graphql_node_list_page1_of_2.json");
	size_t i;

	assert_non_null(kind);
	assert_true(json_is_integer(json_object_get(kind, "count")));
	json_array_foreach(json_object_get(kind, "edges"), i, e)
	{
		check_location(json_object_get(e, "node"));
	}
	if (!strcmp(name, "query_all_page1")) {
		assert_int_equal(
		        json_integer_value(json_object_get(kind, "count")), 52);
		assert_int_equal(
		        json_array_size(json_object_get(kind, "edges")), 50);
	} else if (!strcmp(name, "query_all_page2")) {
		assert_int_equal(
		        json_array_size(json_object_get(kind, "edges")), 2);
	} else if (!strcmp(name, "query_get_by_id") ||
	           !strcmp(name, "query_get_include_many_relationship")) {
		assert_int_equal(
		        json_integer_value(json_object_get(kind, "count")), 1);
	}
	if (strstr(name, "include_many")) {
		e = json_object_get(
		        json_object_get(
		                json_array_get(json_object_get(kind, "edges"),
		                               0),
		                "node"),
		        "tags");
		assert_true(json_is_integer(json_object_get(e, "count")));
		assert_true(json_is_array(json_object_get(e, "edges")));
	}
	/* same top-level keys as the real response */
	assert_non_null(
	        json_object_get(json_object_get(json_object_get(page, "data"),
	                                        "CoreRepository"),
	                        "count"));
	json_decref(page);
}

static void check_answer(const char *name, json_t *data)
{
	const char *key;
	json_t *v;

	if (!strncmp(name, "query_", 6)) {
		check_query(name, data);
		return;
	}
	if (!strcmp(name, "branch_list") || !strcmp(name, "branch_get")) {
		v = json_object_get(data, "Branch");
		assert_true(json_is_array(v));
		assert_true(json_array_size(v) >= 1);
		assert_true(json_is_boolean(
		        json_object_get(json_array_get(v, 0), "is_default")));
		assert_true(json_is_string(json_object_get(json_array_get(v, 0),
		                                           "branched_from")));
		return;
	}
	json_object_foreach(data, key, v)
	{
		assert_true(json_is_true(json_object_get(v, "ok")));
	}
}

static void replay(const json_t *r)
{
	const char *name = json_string_value(json_object_get(r, "name"));
	const char *url = json_string_value(json_object_get(r, "url"));
	const char *method = json_string_value(json_object_get(r, "method"));
	const char *hdr[] = { "X-INFRAHUB-KEY: " DEMO_TOKEN, NULL };
	json_t *body = json_object_get(r, "json_body"), *res;
	char full[1024], *text = NULL, *resp = NULL;
	long status;

	snprintf(full, sizeof(full), "%s%s", srv.url, strstr(url + 7, "/"));
	if (json_is_object(body))
		text = json_dumps(body, JSON_COMPACT);
	assert_int_equal(hf_http(method, full, text, hdr, &status, &resp), 0);
	res = json_loads(resp, 0, NULL);
	if (status != 200 || !res || json_object_get(res, "errors"))
		fprintf(stderr, "%s: %ld %s\n", name, status, resp);
	assert_int_equal(status, 200);
	assert_non_null(res);
	assert_null(json_object_get(res, "errors"));
	if (text)
		check_answer(name, json_object_get(res, "data"));
	else
		assert_non_null(json_object_get(res, "nodes"));
	json_decref(res);
	free(text);
	hf_free(resp);
}

static void test_srv_fixtures__sdk_requests_replay(void **state)
{
	json_t *reqs = fixture("queries/requests.json"), *r;
	size_t i;

	(void)state;
	assert_int_equal(json_array_size(reqs), 19);
	json_array_foreach(reqs, i, r)
	{
		replay(r);
	}
	json_decref(reqs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_srv_fixtures__sdk_requests_replay),
	};
	const char *shared = hf_test_shared();

	if (!shared) {
		printf("skipped: ../shared/fixtures/infrahub is not present\n");
		return 77;
	}
	snprintf(fixtures, sizeof(fixtures), "%s/fixtures/infrahub", shared);
	hf_alloc_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
