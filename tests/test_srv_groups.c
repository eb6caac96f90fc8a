/*
 * Groups on the local endpoint, driven in-process through
 * hfs_app_handle(): CoreStandardGroup with RelationshipAdd and
 * RelationshipRemove on `members` (and on `member_of_groups` from the
 * member's side), idempotent adds, Infrahub's error messages (a failing
 * call changes nothing), reading members and member_of_groups with and
 * without a name filter, a group with thousands of members, groups on
 * branches (merge, branch deleted), and membership after a delete.
 * Everything stock hubform needs for stack ownership (issue 11).
 * Uses its own small schema (below).
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

#include <jansson.h>

#include "../server/app.h"
#include "hf/alloc.h"
#include "hf/buf.h"
#include "hf/server.h"
#include "srvapp.h"

static const char schema[] =
        "{\"schemas\": [{\"version\": \"1.0\", \"nodes\": ["
        "{\"name\": \"Site\", \"namespace\": \"Test\","
        " \"human_friendly_id\": [\"name__value\"],"
        " \"display_labels\": [\"name__value\"],"
        " \"attributes\": [{\"name\": \"name\", \"kind\": \"Text\","
        "  \"unique\": true}],"
        " \"relationships\": [{\"name\": \"devices\", \"peer\":"
        "  \"TestDevice\", \"cardinality\": \"many\", \"optional\": true,"
        "  \"identifier\": \"site__device\"}]},"
        "{\"name\": \"Device\", \"namespace\": \"Test\","
        " \"human_friendly_id\": [\"name__value\"],"
        " \"display_labels\": [\"name__value\"],"
        " \"attributes\": [{\"name\": \"name\", \"kind\": \"Text\","
        "  \"unique\": true}],"
        " \"relationships\": ["
        "  {\"name\": \"site\", \"peer\": \"TestSite\", \"cardinality\":"
        "   \"one\", \"optional\": false, \"identifier\": \"site__device\"},"
        "  {\"name\": \"tags\", \"peer\": \"TestTag\", \"cardinality\":"
        "   \"many\", \"optional\": true}]},"
        "{\"name\": \"Tag\", \"namespace\": \"Test\","
        " \"human_friendly_id\": [\"name__value\"],"
        " \"display_labels\": [\"name__value\"],"
        " \"attributes\": [{\"name\": \"name\", \"kind\": \"Text\","
        "  \"unique\": true}]}"
        "]}]}";

struct fx {
	hfs_app *app; /* first: srv_fx_new(), srv_fx_teardown() */
};

/* ---- requests ------------------------------------------------------------ */

/*
 * The members of group `name` as "display_label,display_label,..." in
 * the order the server lists them, checked against `count` (hf_free).
 */
static char *members(struct fx *f, const char *branch, const char *name)
{
	hf_buf b = HF_BUF_INIT;
	char q[512];
	json_t *d, *edges, *e;
	size_t i;

	snprintf(q, sizeof(q),
	         "{ CoreStandardGroup(name__value: \"%s\") { count edges { "
	         "node { members { count edges { node { id __typename "
	         "display_label } } } } } } }",
	         name);
	d = srv_ok(f->app, branch, q);
	assert_int_equal(
	        json_integer_value(srv_at(d, "CoreStandardGroup.count")), 1);
	edges = srv_at(d, "CoreStandardGroup.edges.0.node.members.edges");
	assert_int_equal(json_integer_value(srv_at(
	                         d, "CoreStandardGroup.edges.0.node.members."
	                            "count")),
	                 json_array_size(edges));
	json_array_foreach(edges, i, e)
	{
		assert_true(strncmp(srv_str_at(e, "node.__typename"), "Test",
		                    4) == 0);
		hf_buf_addf(&b, "%s%s", i ? "," : "",
		            srv_str_at(e, "node.display_label"));
	}
	json_decref(d);
	if (!b.ptr)
		hf_buf_add(&b, "");
	return hf_buf_detach(&b);
}

static void assert_members(struct fx *f, const char *branch, const char *name,
                           const char *want)
{
	char *got = members(f, branch, name);

	if (strcmp(got, want))
		fprintf(stderr, "members of %s on %s: '%s', want '%s'\n", name,
		        branch ? branch : "main", got, want);
	assert_string_equal(got, want);
	hf_free(got);
}

/* The groups of device `name`, as "label,label" (static copy). */
static const char *groups_of(struct fx *f, const char *branch, const char *name)
{
	static char out[1024];
	char q[512];
	json_t *d, *edges, *e;
	size_t i, len = 0;

	snprintf(q, sizeof(q),
	         "{ TestDevice(name__value: \"%s\") { edges { node { "
	         "member_of_groups { count edges { node { display_label "
	         "__typename } } } } } } }",
	         name);
	d = srv_ok(f->app, branch, q);
	edges = srv_at(d, "TestDevice.edges.0.node.member_of_groups.edges");
	out[0] = '\0';
	json_array_foreach(edges, i, e)
	{
		assert_string_equal(srv_str_at(e, "node.__typename"),
		                    "CoreStandardGroup");
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s",
		                        i ? "," : "",
		                        srv_str_at(e, "node.display_label"));
	}
	json_decref(d);
	return out;
}

/* RelationshipAdd/Remove of the nodes `items` ("{id: ..}, {..}"). */
static void edit(struct fx *f, const char *branch, const char *op,
                 const char *id, const char *rel, const char *items)
{
	hf_buf q = HF_BUF_INIT;

	hf_buf_addf(&q,
	            "mutation { Relationship%s(data: {id: \"%s\", name: "
	            "\"%s\", nodes: [%s]}) { ok } }",
	            op, id, rel, items);
	srv_run(f->app, branch, q.ptr);
	hf_buf_release(&q);
}

static const char *edit_err(struct fx *f, const char *op, const char *id,
                            const char *rel, const char *items)
{
	hf_buf q = HF_BUF_INIT;
	const char *msg;

	hf_buf_addf(&q,
	            "mutation { Relationship%s(data: {id: \"%s\", name: "
	            "\"%s\", nodes: [%s]}) { ok } }",
	            op, id, rel, items);
	msg = srv_err_of(f->app, NULL, q.ptr);
	hf_buf_release(&q);
	return msg;
}

/* ---- fixture ------------------------------------------------------------- */

static int setup(void **state)
{
	struct fx *f = srv_fx_new(sizeof(*f), ":memory:");

	assert_non_null(f);
	srv_load_schema(f->app, schema);
	srv_run(f->app, NULL,
	        "mutation {"
	        " s1: TestSiteCreate(data: {name: {value: \"s1\"}}) { ok }"
	        " s2: TestSiteCreate(data: {name: {value: \"s2\"}}) { ok }"
	        " t1: TestTagCreate(data: {name: {value: \"t1\"}}) { ok }"
	        " d1: TestDeviceCreate(data: {name: {value: \"d1\"},"
	        "   site: {hfid: [\"s1\"]}}) { ok }"
	        " d2: TestDeviceCreate(data: {name: {value: \"d2\"},"
	        "   site: {hfid: [\"s1\"]}}) { ok }"
	        " d3: TestDeviceCreate(data: {name: {value: \"d3\"},"
	        "   site: {hfid: [\"s1\"]}}) { ok }"
	        " g1: CoreStandardGroupCreate(data: {name: {value:"
	        " \"hubform-fin\"}})"
	        "   { ok }"
	        " g2: CoreStandardGroupCreate(data: {name: {value:"
	        " \"hubform-ops\"}})"
	        "   { ok }"
	        "}");
	*state = f;
	return 0;
}

/* ---- tests --------------------------------------------------------------- */

static void test_srv_groups__add_and_remove_members(void **state)
{
	struct fx *f = *state;
	const char *g =
	        srv_id_of(f->app, NULL, "CoreStandardGroup", "hubform-fin");
	char items[512];

	assert_members(f, NULL, "hubform-fin", "");
	/* by id and by HFID (with the kind, the peer being CoreNode) */
	snprintf(items, sizeof(items),
	         "{id: \"%s\"}, {hfid: [\"d2\"], kind: \"TestDevice\"}, "
	         "{id: \"%s\"}",
	         srv_id_of(f->app, NULL, "TestDevice", "d1"),
	         srv_id_of(f->app, NULL, "TestTag", "t1"));
	edit(f, NULL, "Add", g, "members", items);
	assert_members(f, NULL, "hubform-fin", "d1,d2,t1");
	assert_string_equal(groups_of(f, NULL, "d1"), "hubform-fin");
	assert_string_equal(groups_of(f, NULL, "d3"), "");
	/* the other group is untouched */
	assert_members(f, NULL, "hubform-ops", "");
	/* remove one member and a node that is not one (ignored) */
	snprintf(items, sizeof(items), "{id: \"%s\"}, {id: \"%s\"}",
	         srv_id_of(f->app, NULL, "TestDevice", "d2"),
	         srv_id_of(f->app, NULL, "TestDevice", "d3"));
	edit(f, NULL, "Remove", g, "members", items);
	assert_members(f, NULL, "hubform-fin", "d1,t1");
	assert_string_equal(groups_of(f, NULL, "d2"), "");
	/* removing by HFID */
	edit(f, NULL, "Remove", g, "members",
	     "{hfid: [\"t1\"], kind: \"TestTag\"}");
	assert_members(f, NULL, "hubform-fin", "d1");
	/* the members are still there as nodes */
	assert_non_null(srv_id_of(f->app, NULL, "TestTag", "t1"));
}

static void test_srv_groups__add_is_idempotent(void **state)
{
	struct fx *f = *state;
	const char *g =
	        srv_id_of(f->app, NULL, "CoreStandardGroup", "hubform-fin");
	char d1[64], d2[64], items[512];

	snprintf(d1, sizeof(d1), "%s",
	         srv_id_of(f->app, NULL, "TestDevice", "d1"));
	snprintf(d2, sizeof(d2), "%s",
	         srv_id_of(f->app, NULL, "TestDevice", "d2"));
	snprintf(items, sizeof(items), "{id: \"%s\"}, {id: \"%s\"}", d1, d2);
	edit(f, NULL, "Add", g, "members", items);
	/* again, with d1 twice in one call and by HFID: nothing moves */
	snprintf(items, sizeof(items),
	         "{id: \"%s\"}, {id: \"%s\"}, {hfid: [\"d1\"], kind: "
	         "\"TestDevice\"}",
	         d2, d1);
	edit(f, NULL, "Add", g, "members", items);
	assert_members(f, NULL, "hubform-fin", "d1,d2");
	assert_string_equal(groups_of(f, NULL, "d1"), "hubform-fin");
	/* a new member goes last */
	edit(f, NULL, "Add", g, "members",
	     "{hfid: [\"d3\"], kind: \"TestDevice\"}");
	assert_members(f, NULL, "hubform-fin", "d1,d2,d3");
	/* removing twice is fine */
	snprintf(items, sizeof(items), "{id: \"%s\"}", d2);
	edit(f, NULL, "Remove", g, "members", items);
	edit(f, NULL, "Remove", g, "members", items);
	assert_members(f, NULL, "hubform-fin", "d1,d3");
	/* an empty list is a no-op */
	edit(f, NULL, "Add", g, "members", "");
	assert_members(f, NULL, "hubform-fin", "d1,d3");
}

static void test_srv_groups__member_side(void **state)
{
	struct fx *f = *state;
	char g1[64], g2[64], d3[64], items[256];

	snprintf(g1, sizeof(g1), "%s",
	         srv_id_of(f->app, NULL, "CoreStandardGroup", "hubform-fin"));
	snprintf(g2, sizeof(g2), "%s",
	         srv_id_of(f->app, NULL, "CoreStandardGroup", "hubform-ops"));
	snprintf(d3, sizeof(d3), "%s",
	         srv_id_of(f->app, NULL, "TestDevice", "d3"));
	snprintf(items, sizeof(items), "{id: \"%s\"}, {id: \"%s\"}", g1, g2);
	edit(f, NULL, "Add", d3, "member_of_groups", items);
	assert_string_equal(groups_of(f, NULL, "d3"),
	                    "hubform-fin,hubform-ops");
	assert_members(f, NULL, "hubform-fin", "d3");
	assert_members(f, NULL, "hubform-ops", "d3");
	/* the group side sees the link as already there */
	snprintf(items, sizeof(items), "{id: \"%s\"}", d3);
	edit(f, NULL, "Add", g1, "members", items);
	assert_members(f, NULL, "hubform-fin", "d3");
	/* and removes it */
	edit(f, NULL, "Remove", g1, "members", items);
	assert_string_equal(groups_of(f, NULL, "d3"), "hubform-ops");
	/* from the member side again */
	snprintf(items, sizeof(items), "{id: \"%s\"}", g2);
	edit(f, NULL, "Remove", d3, "member_of_groups", items);
	assert_string_equal(groups_of(f, NULL, "d3"), "");
	assert_members(f, NULL, "hubform-ops", "");
}

static void test_srv_groups__errors(void **state)
{
	struct fx *f = *state;
	const char *missing = "0190a1b2-0000-7000-8000-000000000001";
	char g[64], d1[64], s1[64], items[512], want[512];
	json_t *d;

	snprintf(g, sizeof(g), "%s",
	         srv_id_of(f->app, NULL, "CoreStandardGroup", "hubform-fin"));
	snprintf(d1, sizeof(d1), "%s",
	         srv_id_of(f->app, NULL, "TestDevice", "d1"));
	snprintf(s1, sizeof(s1), "%s",
	         srv_id_of(f->app, NULL, "TestSite", "s1"));
	snprintf(want, sizeof(want),
	         "Unable to find the node %s / node in the database.", missing);
	assert_string_equal(edit_err(f, "Add", missing, "members", ""), want);
	assert_string_equal(
	        edit_err(f, "Add", g, "bogus", ""),
	        "'bogus' is not a valid relationship for 'CoreStandardGroup' "
	        "at name");
	assert_string_equal(edit_err(f, "Remove", d1, "site", ""),
	                    "'site' must be a relationship of cardinality "
	                    "Many at name");
	/* an unknown peer fails the whole call: d1 is not added either */
	snprintf(items, sizeof(items), "{id: \"%s\"}, {id: \"%s\"}", d1,
	         missing);
	snprintf(want, sizeof(want),
	         "'%s': Unable to find the node in the database.", missing);
	assert_string_equal(edit_err(f, "Add", g, "members", items), want);
	assert_members(f, NULL, "hubform-fin", "");
	assert_string_equal(
	        edit_err(f, "Add", g, "members",
	                 "{hfid: [\"nope\"], kind: \"TestDevice\"}"),
	        "Unable to find the node ['nope'] / TestDevice in the "
	        "database.");
	/* a peer of the wrong kind */
	snprintf(items, sizeof(items), "{id: \"%s\"}", s1);
	snprintf(want, sizeof(want),
	         "'%s' 'TestSite' is not a valid peer for 'TestTag'", s1);
	assert_string_equal(edit_err(f, "Add", d1, "tags", items), want);
	/* a device already has a site */
	snprintf(items, sizeof(items), "{id: \"%s\"}", d1);
	snprintf(want, sizeof(want),
	         "'%s' 'TestDevice' is already related to another peer on "
	         "'site'",
	         d1);
	assert_string_equal(edit_err(f, "Add",
	                             srv_id_of(f->app, NULL, "TestSite", "s2"),
	                             "devices", items),
	                    want);
	/* the same site: already linked, a no-op */
	edit(f, NULL, "Add", s1, "devices", items);
	d = srv_ok(f->app, NULL,
	           "{ TestDevice(name__value: \"d1\") { edges { node { site { "
	           "node { display_label } } } } } }");
	assert_string_equal(srv_str_at(d, "TestDevice.edges.0.node.site.node."
	                                  "display_label"),
	                    "s1");
	json_decref(d);
}

static void test_srv_groups__filter_and_generic(void **state)
{
	struct fx *f = *state;
	char items[1024];
	json_t *d;

	snprintf(items, sizeof(items), "{id: \"%s\"}",
	         srv_id_of(f->app, NULL, "TestDevice", "d2"));
	edit(f, NULL, "Add",
	     srv_id_of(f->app, NULL, "CoreStandardGroup", "hubform-ops"),
	     "members", items);
	d = srv_ok(
	        f->app, NULL,
	        "{ a: CoreStandardGroup(name__value: \"hubform-ops\") { count "
	        "edges { node { name { value } members { count edges { node "
	        "{ id __typename } } } } } }"
	        "  b: CoreStandardGroup { count } }");
	assert_int_equal(json_integer_value(srv_at(d, "a.count")), 1);
	assert_string_equal(srv_str_at(d, "a.edges.0.node.name.value"),
	                    "hubform-ops");
	assert_int_equal(json_integer_value(srv_at(d, "a.edges.0.node.members."
	                                              "count")),
	                 1);
	assert_string_equal(srv_str_at(d, "a.edges.0.node.members.edges.0.node."
	                                  "__typename"),
	                    "TestDevice");
	assert_string_equal(srv_str_at(d, "a.edges.0.node.members.edges.0.node."
	                                  "id"),
	                    srv_id_of(f->app, NULL, "TestDevice", "d2"));
	assert_int_equal(json_integer_value(srv_at(d, "b.count")), 2);
	json_decref(d);
	/* the members of a kind, and members with fragments */
	snprintf(items, sizeof(items),
	         "{ TestDevice(member_of_groups__ids: [\"%s\"]) { count edges "
	         "{ node { name { value } } } } CoreStandardGroup(name__value: "
	         "\"hubform-ops\") { edges { node { members { edges { node { "
	         "...on TestDevice { name { value } } } } } } } } }",
	         srv_id_of(f->app, NULL, "CoreStandardGroup", "hubform-ops"));
	d = srv_ok(f->app, NULL, items);
	assert_int_equal(json_integer_value(srv_at(d, "TestDevice.count")), 1);
	assert_string_equal(srv_str_at(d, "TestDevice.edges.0.node.name.value"),
	                    "d2");
	assert_string_equal(srv_str_at(d,
	                               "CoreStandardGroup.edges.0.node.members."
	                               "edges.0.node.name.value"),
	                    "d2");
	json_decref(d);
	d = srv_ok(f->app, NULL,
	           "{ c: CoreGroup(name__value: \"hubform-ops\") { count "
	           "edges { node { __typename members { count } } } } }");
	assert_int_equal(json_integer_value(srv_at(d, "c.count")), 1);
	assert_string_equal(srv_str_at(d, "c.edges.0.node.__typename"),
	                    "CoreStandardGroup");
	assert_int_equal(json_integer_value(srv_at(d, "c.edges.0.node.members."
	                                              "count")),
	                 1);
	json_decref(d);
}

/* Thousands of members in one call, duplicates included, then half out. */
static void test_srv_groups__many_members(void **state)
{
	enum { N = 3000 };
	struct fx *f = *state;
	const char *g =
	        srv_id_of(f->app, NULL, "CoreStandardGroup", "hubform-fin");
	hf_buf q = HF_BUF_INIT, items = HF_BUF_INIT, half = HF_BUF_INIT;
	json_t *d, *edges, *e;
	size_t i;

	hf_buf_add(&q, "mutation {");
	for (i = 0; i < N; i++)
		hf_buf_addf(&q,
		            " m%zu: TestTagCreate(data: {name: {value: "
		            "\"m%05zu\"}}) { object { id } }",
		            i, i);
	hf_buf_add(&q, " }");
	d = srv_ok(f->app, NULL, q.ptr);
	for (i = 0; i < N; i++) {
		char key[32];
		const char *id;

		snprintf(key, sizeof(key), "m%zu.object.id", i);
		id = srv_str_at(d, key);
		hf_buf_addf(&items, "%s{id: \"%s\"}", i ? ", " : "", id);
		if (i % 2)
			hf_buf_addf(&half, "%s{id: \"%s\"}",
			            half.len ? ", " : "", id);
	}
	json_decref(d);
	/* everything, then everything again plus the odd ones once more */
	edit(f, NULL, "Add", g, "members", items.ptr);
	hf_buf_add(&items, ", ");
	hf_buf_add(&items, half.ptr);
	edit(f, NULL, "Add", g, "members", items.ptr);
	d = srv_ok(
	        f->app, NULL,
	        "{ CoreStandardGroup(name__value: \"hubform-fin\") { edges { "
	        "node { members { count edges { node { display_label } } } } "
	        "} } }");
	edges = srv_at(d, "CoreStandardGroup.edges.0.node.members.edges");
	assert_int_equal(
	        json_integer_value(srv_at(d, "CoreStandardGroup.edges.0."
	                                     "node.members.count")),
	        N);
	assert_int_equal(json_array_size(edges), N);
	json_array_foreach(edges, i, e)
	{
		char want[32];

		snprintf(want, sizeof(want), "m%05zu", i);
		assert_string_equal(srv_str_at(e, "node.display_label"), want);
	}
	json_decref(d);
	/* the odd ones out; the even ones stay in order */
	edit(f, NULL, "Remove", g, "members", half.ptr);
	d = srv_ok(
	        f->app, NULL,
	        "{ CoreStandardGroup(name__value: \"hubform-fin\") { edges { "
	        "node { members(limit: 3, offset: 1) { count edges { node { "
	        "display_label } } } } } } }");
	assert_int_equal(
	        json_integer_value(srv_at(d, "CoreStandardGroup.edges.0."
	                                     "node.members.count")),
	        N / 2);
	assert_string_equal(srv_str_at(d,
	                               "CoreStandardGroup.edges.0.node.members."
	                               "edges.2.node.display_label"),
	                    "m00006");
	json_decref(d);
	/*
	 * Pages of a large group come from its peers as the branch last
	 * changed: the same page twice is the same, and a member deleted
	 * since is gone from the next page and from the count.
	 */
	for (i = 0; i < 3; i++) {
		if (i == 2)
			srv_run(f->app, NULL,
			        "mutation { TestTagDelete(data: {hfid: "
			        "[\"m00000\"]}) { ok } }");
		d = srv_ok(f->app, NULL,
		           "{ CoreStandardGroup(name__value: \"hubform-fin\") "
		           "{ edges { node { members(limit: 2, offset: 0) { "
		           "count edges { node { display_label } } } } } } }");
		assert_int_equal(json_integer_value(
		                         srv_at(d, "CoreStandardGroup.edges.0."
		                                   "node.members.count")),
		                 i == 2 ? N / 2 - 1 : N / 2);
		assert_string_equal(
		        srv_str_at(d, "CoreStandardGroup.edges.0.node.members."
		                      "edges.0.node.display_label"),
		        i == 2 ? "m00002" : "m00000");
		json_decref(d);
	}
	hf_buf_release(&q);
	hf_buf_release(&items);
	hf_buf_release(&half);
}

static void test_srv_groups__on_a_branch(void **state)
{
	struct fx *f = *state;
	char g[64], d1[64], d2[64], d3[64], t1[64], items[512];

	snprintf(g, sizeof(g), "%s",
	         srv_id_of(f->app, NULL, "CoreStandardGroup", "hubform-fin"));
	snprintf(d1, sizeof(d1), "%s",
	         srv_id_of(f->app, NULL, "TestDevice", "d1"));
	snprintf(d2, sizeof(d2), "%s",
	         srv_id_of(f->app, NULL, "TestDevice", "d2"));
	snprintf(d3, sizeof(d3), "%s",
	         srv_id_of(f->app, NULL, "TestDevice", "d3"));
	snprintf(t1, sizeof(t1), "%s",
	         srv_id_of(f->app, NULL, "TestTag", "t1"));
	snprintf(items, sizeof(items), "{id: \"%s\"}", d1);
	edit(f, NULL, "Add", g, "members", items);
	srv_branch_op(f->app, "Create", "apply-1");
	/* on the branch: d2 and d3 in, d1 out; main does not see it */
	snprintf(items, sizeof(items), "{id: \"%s\"}, {id: \"%s\"}", d2, d3);
	edit(f, "apply-1", "Add", g, "members", items);
	snprintf(items, sizeof(items), "{id: \"%s\"}", d1);
	edit(f, "apply-1", "Remove", g, "members", items);
	assert_members(f, "apply-1", "hubform-fin", "d2,d3");
	assert_string_equal(groups_of(f, "apply-1", "d1"), "");
	assert_members(f, NULL, "hubform-fin", "d1");
	assert_string_equal(groups_of(f, NULL, "d2"), "");
	/*
	 * main adds t1 meanwhile: the merge keeps both sides' changes, in
	 * the order they were made
	 */
	snprintf(items, sizeof(items), "{id: \"%s\"}", t1);
	edit(f, NULL, "Add", g, "members", items);
	srv_branch_op(f->app, "Merge", "apply-1");
	assert_members(f, NULL, "hubform-fin", "d2,d3,t1");
	assert_string_equal(groups_of(f, NULL, "d1"), "");
	assert_string_equal(groups_of(f, NULL, "d3"), "hubform-fin");
	/* a branch that is deleted leaves main as it was */
	srv_branch_op(f->app, "Create", "scratch");
	snprintf(items, sizeof(items), "{id: \"%s\"}", d1);
	edit(f, "scratch", "Add", g, "members", items);
	snprintf(items, sizeof(items), "{id: \"%s\"}", t1);
	edit(f, "scratch", "Remove", g, "members", items);
	assert_members(f, "scratch", "hubform-fin", "d2,d3,d1");
	srv_branch_op(f->app, "Delete", "scratch");
	assert_members(f, NULL, "hubform-fin", "d2,d3,t1");
}

/* Deleting a member takes it out of its groups, on main and branches. */
static void test_srv_groups__delete_member(void **state)
{
	struct fx *f = *state;
	char g[64], items[512];

	snprintf(g, sizeof(g), "%s",
	         srv_id_of(f->app, NULL, "CoreStandardGroup", "hubform-fin"));
	snprintf(items, sizeof(items),
	         "{id: \"%s\"}, {id: \"%s\"}, {id: \"%s\"}",
	         srv_id_of(f->app, NULL, "TestDevice", "d1"),
	         srv_id_of(f->app, NULL, "TestDevice", "d2"),
	         srv_id_of(f->app, NULL, "TestTag", "t1"));
	edit(f, NULL, "Add", g, "members", items);
	edit(f, NULL, "Add",
	     srv_id_of(f->app, NULL, "CoreStandardGroup", "hubform-ops"),
	     "members", items);
	srv_run(f->app, NULL,
	        "mutation { TestDeviceDelete(data: {hfid: [\"d1\"]}) { ok } }");
	assert_members(f, NULL, "hubform-fin", "d2,t1");
	assert_members(f, NULL, "hubform-ops", "d2,t1");
	/* on a branch, then merged */
	srv_branch_op(f->app, "Create", "prune");
	srv_run(f->app, "prune",
	        "mutation { TestTagDelete(data: {hfid: [\"t1\"]}) { ok } }");
	assert_members(f, "prune", "hubform-fin", "d2");
	assert_members(f, NULL, "hubform-fin", "d2,t1");
	srv_branch_op(f->app, "Merge", "prune");
	assert_members(f, NULL, "hubform-fin", "d2");
	assert_members(f, NULL, "hubform-ops", "d2");
	/* deleting the group leaves its members alone */
	srv_run(f->app, NULL,
	        "mutation { CoreStandardGroupDelete(data: {hfid: "
	        "[\"hubform-ops\"]}) { ok } }");
	assert_string_equal(groups_of(f, NULL, "d2"), "hubform-fin");
	assert_non_null(srv_id_of(f->app, NULL, "TestDevice", "d2"));
}

/* A member the branch adds is deleted on main meanwhile: no dangling edge. */
static void test_srv_groups__member_deleted_on_main(void **state)
{
	struct fx *f = *state;
	char g[64], items[256];
	const char *msg;

	snprintf(g, sizeof(g), "%s",
	         srv_id_of(f->app, NULL, "CoreStandardGroup", "hubform-fin"));
	srv_branch_op(f->app, "Create", "apply-2");
	snprintf(items, sizeof(items), "{id: \"%s\"}",
	         srv_id_of(f->app, NULL, "TestTag", "t1"));
	edit(f, "apply-2", "Add", g, "members", items);
	srv_run(f->app, NULL,
	        "mutation { TestTagDelete(data: {hfid: [\"t1\"]}) { ok } }");
	msg = srv_err_of(
	        f->app, NULL,
	        "mutation { BranchMerge(data: {name: \"apply-2\"}) { ok } }");
	if (!strstr(msg, "Unable to merge the branch 'apply-2'"))
		fprintf(stderr, "merge: %s\n", msg);
	assert_non_null(strstr(msg, "Unable to merge the branch 'apply-2'"));
	assert_members(f, NULL, "hubform-fin", "");
	assert_members(f, "apply-2", "hubform-fin", "t1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		        test_srv_groups__add_and_remove_members, setup,
		        srv_fx_teardown),
		cmocka_unit_test_setup_teardown(
		        test_srv_groups__add_is_idempotent, setup,
		        srv_fx_teardown),
		cmocka_unit_test_setup_teardown(test_srv_groups__member_side,
		                                setup, srv_fx_teardown),
		cmocka_unit_test_setup_teardown(test_srv_groups__errors, setup,
		                                srv_fx_teardown),
		cmocka_unit_test_setup_teardown(
		        test_srv_groups__filter_and_generic, setup,
		        srv_fx_teardown),
		cmocka_unit_test_setup_teardown(test_srv_groups__many_members,
		                                setup, srv_fx_teardown),
		cmocka_unit_test_setup_teardown(test_srv_groups__on_a_branch,
		                                setup, srv_fx_teardown),
		cmocka_unit_test_setup_teardown(test_srv_groups__delete_member,
		                                setup, srv_fx_teardown),
		cmocka_unit_test_setup_teardown(
		        test_srv_groups__member_deleted_on_main, setup,
		        srv_fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
