/*
 * <Kind>Delete on the local endpoint, driven in-process through
 * hfs_app_handle(): by id and by HFID with Infrahub's not-found
 * messages, the refusal of a delete that would leave a mandatory
 * relationship of a surviving node without its peer (Infrahub's message,
 * every such node named, nothing deleted), on_delete: cascade chains
 * (and cycles) in one step, the nodes a cascade takes along checked as
 * well, deletes on a branch (merged: gone on main; branch deleted: main
 * untouched) and group membership after a delete; the refusal on the
 * wire of `hubform serve` (HTTP 200, the field null, the message in
 * errors). Uses its own schema (below).
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
#include "testutil.h"

/*
 * site <- device (site mandatory) -> interfaces (cascade) -> addresses
 * (cascade) <- circuit (endpoint mandatory); contract -> party (a
 * generic, mandatory); rack -> owners (many, mandatory); twin -> twin
 * (cascade both ways: a cycle).
 */
static const char schema[] =
        "{\"schemas\": [{\"version\": \"1.0\","
        "\"generics\": ["
        "{\"name\": \"Party\", \"namespace\": \"Test\","
        " \"attributes\": [{\"name\": \"name\", \"kind\": \"Text\"}]}],"
        "\"nodes\": ["
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
        "  {\"name\": \"interfaces\", \"peer\": \"TestInterface\","
        "   \"cardinality\": \"many\", \"optional\": true, \"kind\":"
        "   \"Component\", \"on_delete\": \"cascade\","
        "   \"identifier\": \"device__interface\"},"
        "  {\"name\": \"tags\", \"peer\": \"TestTag\", \"cardinality\":"
        "   \"many\", \"optional\": true}]},"
        "{\"name\": \"Interface\", \"namespace\": \"Test\","
        " \"human_friendly_id\": [\"device__name__value\", \"name__value\"],"
        " \"display_labels\": [\"name__value\"],"
        " \"attributes\": [{\"name\": \"name\", \"kind\": \"Text\"}],"
        " \"relationships\": ["
        "  {\"name\": \"device\", \"peer\": \"TestDevice\", \"cardinality\":"
        "   \"one\", \"optional\": false, \"kind\": \"Parent\","
        "   \"identifier\": \"device__interface\"},"
        "  {\"name\": \"addresses\", \"peer\": \"TestAddress\","
        "   \"cardinality\": \"many\", \"optional\": true, \"kind\":"
        "   \"Component\", \"on_delete\": \"cascade\","
        "   \"identifier\": \"interface__address\"}]},"
        "{\"name\": \"Address\", \"namespace\": \"Test\","
        " \"human_friendly_id\": [\"address__value\"],"
        " \"display_labels\": [\"address__value\"],"
        " \"attributes\": [{\"name\": \"address\", \"kind\": \"Text\","
        "  \"unique\": true}],"
        " \"relationships\": ["
        "  {\"name\": \"interface\", \"peer\": \"TestInterface\","
        "   \"cardinality\": \"one\", \"optional\": false, \"kind\":"
        "   \"Parent\", \"identifier\": \"interface__address\"}]},"
        "{\"name\": \"Circuit\", \"namespace\": \"Test\","
        " \"human_friendly_id\": [\"name__value\"],"
        " \"attributes\": [{\"name\": \"name\", \"kind\": \"Text\","
        "  \"unique\": true}],"
        " \"relationships\": ["
        "  {\"name\": \"endpoint\", \"peer\": \"TestAddress\","
        "   \"cardinality\": \"one\", \"optional\": false}]},"
        "{\"name\": \"Tag\", \"namespace\": \"Test\","
        " \"human_friendly_id\": [\"name__value\"],"
        " \"display_labels\": [\"name__value\"],"
        " \"attributes\": [{\"name\": \"name\", \"kind\": \"Text\","
        "  \"unique\": true}]},"
        "{\"name\": \"Rack\", \"namespace\": \"Test\","
        " \"human_friendly_id\": [\"name__value\"],"
        " \"attributes\": [{\"name\": \"name\", \"kind\": \"Text\","
        "  \"unique\": true}],"
        " \"relationships\": ["
        "  {\"name\": \"owners\", \"peer\": \"TestTag\", \"cardinality\":"
        "   \"many\", \"optional\": false, \"identifier\": \"rack__owner\"}]},"
        "{\"name\": \"Person\", \"namespace\": \"Test\","
        " \"inherit_from\": [\"TestParty\"],"
        " \"human_friendly_id\": [\"name__value\"]},"
        "{\"name\": \"Contract\", \"namespace\": \"Test\","
        " \"human_friendly_id\": [\"name__value\"],"
        " \"attributes\": [{\"name\": \"name\", \"kind\": \"Text\","
        "  \"unique\": true}],"
        " \"relationships\": ["
        "  {\"name\": \"party\", \"peer\": \"TestParty\", \"cardinality\":"
        "   \"one\", \"optional\": false}]},"
        "{\"name\": \"Twin\", \"namespace\": \"Test\","
        " \"human_friendly_id\": [\"name__value\"],"
        " \"attributes\": [{\"name\": \"name\", \"kind\": \"Text\","
        "  \"unique\": true}],"
        " \"relationships\": ["
        "  {\"name\": \"twin\", \"peer\": \"TestTwin\", \"cardinality\":"
        "   \"one\", \"optional\": true, \"on_delete\": \"cascade\"}]}"
        "]}]}";

struct fx {
	hfs_app *app; /* first: srv_fx_new(), srv_fx_teardown() */
};

/* ---- requests ------------------------------------------------------------ */

/* The display labels of `edges` ("a,b,c") into out. */
static void join_labels(json_t *edges, char *out, size_t size)
{
	json_t *e;
	size_t i, len = 0;

	out[0] = '\0';
	json_array_foreach(edges, i, e)
	{
		len += (size_t)snprintf(out + len, size - len, "%s%s",
		                        i ? "," : "",
		                        srv_str_at(e, "node.display_label"));
	}
}

/* The display labels of kind's nodes, "a,b,c" in id order (static). */
static const char *labels(struct fx *f, const char *branch, const char *kind)
{
	static char out[1024];
	char q[256];
	json_t *d, *edges;

	snprintf(q, sizeof(q), "{ %s { edges { node { display_label } } } }",
	         kind);
	d = srv_ok(f->app, branch, q);
	edges = srv_at(json_object_get(d, kind), "edges");
	join_labels(edges, out, sizeof(out));
	json_decref(d);
	return out;
}

static void delete_ok(struct fx *f, const char *branch, const char *kind,
                      const char *how)
{
	char q[512];
	json_t *d;
	char key[128];

	snprintf(q, sizeof(q), "mutation { %sDelete(data: {%s}) { ok } }", kind,
	         how);
	d = srv_ok(f->app, branch, q);
	snprintf(key, sizeof(key), "%sDelete", kind);
	assert_true(json_is_true(srv_at(json_object_get(d, key), "ok")));
	json_decref(d);
}

static const char *delete_err(struct fx *f, const char *branch,
                              const char *kind, const char *how)
{
	char q[512];

	snprintf(q, sizeof(q), "mutation { %sDelete(data: {%s}) { ok } }", kind,
	         how);
	return srv_err_of(f->app, branch, q);
}

/* ---- fixture ------------------------------------------------------------- */

/*
 * s1: d1 (eth0: 10.0.0.1, 10.0.0.2; eth1: 10.0.1.1), d2 (eth0: 10.0.2.1);
 * s2: d3 (no interfaces); tags t1 t2; group hubform-fin = {d1, eth0 of d1,
 * 10.0.0.1, t1}.
 */
static const char seed[] =
        "mutation {"
        " s1: TestSiteCreate(data: {name: {value: \"s1\"}}) { ok }"
        " s2: TestSiteCreate(data: {name: {value: \"s2\"}}) { ok }"
        " t1: TestTagCreate(data: {name: {value: \"t1\"}}) { ok }"
        " t2: TestTagCreate(data: {name: {value: \"t2\"}}) { ok }"
        " d1: TestDeviceCreate(data: {name: {value: \"d1\"},"
        "   site: {hfid: [\"s1\"]}, tags: [{hfid: [\"t1\"]}]}) { ok }"
        " d2: TestDeviceCreate(data: {name: {value: \"d2\"},"
        "   site: {hfid: [\"s1\"]}}) { ok }"
        " d3: TestDeviceCreate(data: {name: {value: \"d3\"},"
        "   site: {hfid: [\"s2\"]}}) { ok }"
        " i1: TestInterfaceCreate(data: {name: {value: \"d1-eth0\"},"
        "   device: {hfid: [\"d1\"]}}) { ok }"
        " i2: TestInterfaceCreate(data: {name: {value: \"d1-eth1\"},"
        "   device: {hfid: [\"d1\"]}}) { ok }"
        " i3: TestInterfaceCreate(data: {name: {value: \"d2-eth0\"},"
        "   device: {hfid: [\"d2\"]}}) { ok }"
        " a1: TestAddressCreate(data: {address: {value: \"10.0.0.1\"},"
        "   interface: {hfid: [\"d1\", \"d1-eth0\"]}}) { ok }"
        " a2: TestAddressCreate(data: {address: {value: \"10.0.0.2\"},"
        "   interface: {hfid: [\"d1\", \"d1-eth0\"]}}) { ok }"
        " a3: TestAddressCreate(data: {address: {value: \"10.0.1.1\"},"
        "   interface: {hfid: [\"d1\", \"d1-eth1\"]}}) { ok }"
        " a4: TestAddressCreate(data: {address: {value: \"10.0.2.1\"},"
        "   interface: {hfid: [\"d2\", \"d2-eth0\"]}}) { ok }"
        " g: CoreStandardGroupCreate(data: {name: {value: \"hubform-fin\"},"
        "   members: [{hfid: [\"d1\"], kind: \"TestDevice\"},"
        "   {hfid: [\"d1\", \"d1-eth0\"], kind: \"TestInterface\"},"
        "   {hfid: [\"10.0.0.1\"], kind: \"TestAddress\"},"
        "   {hfid: [\"t1\"], kind: \"TestTag\"}]}) { ok }"
        "}";

static int setup(void **state)
{
	struct fx *f = srv_fx_new(sizeof(*f), ":memory:");

	assert_non_null(f);
	srv_load_schema(f->app, schema);
	srv_run(f->app, NULL, seed);
	*state = f;
	return 0;
}

/* The group's members, "label,label" in the server's order (static). */
static const char *members(struct fx *f, const char *branch)
{
	static char out[1024];
	json_t *d, *edges;

	d = srv_ok(
	        f->app, branch,
	        "{ CoreStandardGroup(name__value: \"hubform-fin\") { edges { "
	        "node { members { count edges { node { display_label } } } } "
	        "} } }");
	edges = srv_at(d, "CoreStandardGroup.edges.0.node.members.edges");
	assert_int_equal(
	        json_integer_value(srv_at(d, "CoreStandardGroup.edges.0."
	                                     "node.members.count")),
	        json_array_size(edges));
	join_labels(edges, out, sizeof(out));
	json_decref(d);
	return out;
}

/* Everything the seed made, untouched (on `branch`). */
static void assert_seed(struct fx *f, const char *branch)
{
	assert_string_equal(labels(f, branch, "TestDevice"), "d1,d2,d3");
	assert_string_equal(labels(f, branch, "TestInterface"),
	                    "d1-eth0,d1-eth1,d2-eth0");
	assert_string_equal(labels(f, branch, "TestAddress"),
	                    "10.0.0.1,10.0.0.2,10.0.1.1,10.0.2.1");
	assert_string_equal(labels(f, branch, "TestSite"), "s1,s2");
	assert_string_equal(members(f, branch), "d1,d1-eth0,10.0.0.1,t1");
}

/* What deleting d1 leaves. */
static void assert_d1_gone(struct fx *f, const char *branch)
{
	json_t *d;

	assert_string_equal(labels(f, branch, "TestDevice"), "d2,d3");
	assert_string_equal(labels(f, branch, "TestInterface"), "d2-eth0");
	assert_string_equal(labels(f, branch, "TestAddress"), "10.0.2.1");
	/* what d1 pointed to without cascade stays */
	assert_string_equal(labels(f, branch, "TestSite"), "s1,s2");
	assert_string_equal(labels(f, branch, "TestTag"), "t1,t2");
	assert_string_equal(members(f, branch), "t1");
	d = srv_ok(f->app, branch,
	           "{ TestSite(name__value: \"s1\") { edges { node { devices { "
	           "count edges { node { display_label } } } } } } }");
	assert_int_equal(json_integer_value(srv_at(d, "TestSite.edges.0.node."
	                                              "devices.count")),
	                 1);
	assert_string_equal(srv_str_at(d,
	                               "TestSite.edges.0.node.devices.edges.0."
	                               "node.display_label"),
	                    "d2");
	json_decref(d);
}

/* ---- tests --------------------------------------------------------------- */

static void test_srv_delete__by_id_and_hfid(void **state)
{
	struct fx *f = *state;
	char how[128], want[256], t2[64];

	snprintf(t2, sizeof(t2), "%s",
	         srv_id_of(f->app, NULL, "TestTag", "t2"));
	/* the id of another kind is not found for this one */
	snprintf(how, sizeof(how), "id: \"%s\"", t2);
	snprintf(want, sizeof(want),
	         "Unable to find the node %s / TestSite in the database.", t2);
	assert_string_equal(delete_err(f, NULL, "TestSite", how), want);
	delete_ok(f, NULL, "TestTag", how);
	assert_string_equal(labels(f, NULL, "TestTag"), "t1");
	snprintf(want, sizeof(want),
	         "Unable to find the node %s / TestTag in the database.", t2);
	assert_string_equal(delete_err(f, NULL, "TestTag", how), want);
	/* by HFID: a tag that is a member of the group and tags d1 */
	delete_ok(f, NULL, "TestTag", "hfid: [\"t1\"]");
	assert_int_equal(srv_count_of(f->app, NULL, "TestTag"), 0);
	assert_string_equal(members(f, NULL), "d1,d1-eth0,10.0.0.1");
	assert_string_equal(
	        delete_err(f, NULL, "TestTag", "hfid: [\"t1\"]"),
	        "Unable to find the node ['t1'] / TestTag in the database.");
	/* a two-part HFID */
	delete_ok(f, NULL, "TestAddress", "hfid: [\"10.0.0.2\"]");
	delete_ok(f, NULL, "TestInterface", "hfid: [\"d1\", \"d1-eth1\"]");
	assert_string_equal(labels(f, NULL, "TestInterface"),
	                    "d1-eth0,d2-eth0");
	/* cascaded from the interface */
	assert_string_equal(labels(f, NULL, "TestAddress"),
	                    "10.0.0.1,10.0.2.1");
	assert_string_equal(delete_err(f, NULL, "TestTag", "name: \"x\""),
	                    "either id or hfid must be provided");
}

static void test_srv_delete__mandatory_refused(void **state)
{
	struct fx *f = *state;
	char s1[64], d1[64], d2[64], want[1024];

	snprintf(s1, sizeof(s1), "%s",
	         srv_id_of(f->app, NULL, "TestSite", "s1"));
	snprintf(d1, sizeof(d1), "%s",
	         srv_id_of(f->app, NULL, "TestDevice", "d1"));
	snprintf(d2, sizeof(d2), "%s",
	         srv_id_of(f->app, NULL, "TestDevice", "d2"));
	snprintf(want, sizeof(want),
	         "Cannot delete TestSite '%s'. It is linked to mandatory "
	         "relationship site on node TestDevice '%s' at "
	         "TestDevice.site, Cannot delete TestSite '%s'. It is linked "
	         "to mandatory relationship site on node TestDevice '%s' at "
	         "TestDevice.site",
	         s1, d1, s1, d2);
	assert_string_equal(delete_err(f, NULL, "TestSite", "hfid: [\"s1\"]"),
	                    want);
	/* nothing deleted, nothing unlinked */
	assert_seed(f, NULL);
	{
		json_t *d =
		        srv_ok(f->app, NULL,
		               "{ TestDevice(name__value: \"d1\") { edges { "
		               "node { site { node { id } } } } } }");

		assert_string_equal(srv_str_at(d,
		                               "TestDevice.edges.0.node.site."
		                               "node.id"),
		                    s1);
		json_decref(d);
	}
	/*
	 * d2-eth0 needs d2 (its mandatory parent), but deleting d2 takes it
	 * along, so that is fine
	 */
	delete_ok(f, NULL, "TestDevice", "hfid: [\"d2\"]");
	delete_ok(f, NULL, "TestDevice", "hfid: [\"d1\"]");
	/* s1 has no device left */
	delete_ok(f, NULL, "TestSite", "hfid: [\"s1\"]");
	assert_string_equal(labels(f, NULL, "TestSite"), "s2");
	/* a device's own mandatory relationship does not hold it back */
	delete_ok(f, NULL, "TestDevice", "hfid: [\"d3\"]");
}

/* A mandatory many relationship, and a generic peer. */
static void test_srv_delete__mandatory_many_and_generic(void **state)
{
	struct fx *f = *state;
	char want[1024];

	srv_run(f->app, NULL,
	        "mutation {"
	        " r: TestRackCreate(data: {name: {value: \"r1\"}, owners: "
	        "   [{hfid: [\"t1\"]}, {hfid: [\"t2\"]}]}) { ok }"
	        " p: TestPersonCreate(data: {name: {value: \"ann\"}}) { ok }"
	        " c: TestContractCreate(data: {name: {value: \"k1\"}, party: "
	        "   {hfid: [\"ann\"], kind: \"TestPerson\"}}) { ok }"
	        "}");
	/* Infrahub refuses even when the rack keeps another owner */
	snprintf(want, sizeof(want),
	         "Cannot delete TestTag '%s'. It is linked to mandatory "
	         "relationship owners on node TestRack '%s' at TestRack.owners",
	         srv_id_of(f->app, NULL, "TestTag", "t2"),
	         srv_id_of(f->app, NULL, "TestRack", "r1"));
	assert_string_equal(delete_err(f, NULL, "TestTag", "hfid: [\"t2\"]"),
	                    want);
	/* the peer is a generic the person inherits */
	snprintf(want, sizeof(want),
	         "Cannot delete TestPerson '%s'. It is linked to mandatory "
	         "relationship party on node TestContract '%s' at "
	         "TestContract.party",
	         srv_id_of(f->app, NULL, "TestPerson", "ann"),
	         srv_id_of(f->app, NULL, "TestContract", "k1"));
	assert_string_equal(
	        delete_err(f, NULL, "TestPerson", "hfid: [\"ann\"]"), want);
	assert_int_equal(srv_count_of(f->app, NULL, "TestPerson"), 1);
	assert_int_equal(srv_count_of(f->app, NULL, "TestTag"), 2);
	/* the referrer first, then the peer */
	delete_ok(f, NULL, "TestContract", "hfid: [\"k1\"]");
	delete_ok(f, NULL, "TestPerson", "hfid: [\"ann\"]");
	delete_ok(f, NULL, "TestRack", "hfid: [\"r1\"]");
	delete_ok(f, NULL, "TestTag", "hfid: [\"t2\"]");
	assert_int_equal(srv_count_of(f->app, NULL, "TestPerson"), 0);
}

static void test_srv_delete__cascade_chain(void **state)
{
	struct fx *f = *state;

	delete_ok(f, NULL, "TestDevice", "hfid: [\"d1\"]");
	assert_d1_gone(f, NULL);
	/* d1's tag is not deleted and no longer tags anything */
	assert_int_equal(srv_count_of(f->app, NULL, "TestTag"), 2);
}

/* A node the cascade takes along is needed by a survivor: refused. */
static void test_srv_delete__cascade_checked(void **state)
{
	struct fx *f = *state;
	char want[1024];
	json_t *d;

	srv_run(f->app, NULL,
	        "mutation { TestCircuitCreate(data: {name: {value: \"c1\"}, "
	        "endpoint: {hfid: [\"10.0.1.1\"]}}) { ok } }");
	d = srv_ok(
	        f->app, NULL,
	        "{ TestAddress(address__value: \"10.0.1.1\") { edges { node { "
	        "id } } } }");
	snprintf(want, sizeof(want),
	         "Cannot delete TestAddress '%s'. It is linked to mandatory "
	         "relationship endpoint on node TestCircuit '%s' at "
	         "TestCircuit.endpoint",
	         srv_str_at(d, "TestAddress.edges.0.node.id"),
	         srv_id_of(f->app, NULL, "TestCircuit", "c1"));
	json_decref(d);
	assert_string_equal(delete_err(f, NULL, "TestDevice", "hfid: [\"d1\"]"),
	                    want);
	assert_seed(f, NULL);
	/* without the circuit it goes through */
	delete_ok(f, NULL, "TestCircuit", "hfid: [\"c1\"]");
	delete_ok(f, NULL, "TestDevice", "hfid: [\"d1\"]");
	assert_d1_gone(f, NULL);
}

static void test_srv_delete__cascade_cycle(void **state)
{
	struct fx *f = *state;

	srv_run(f->app, NULL,
	        "mutation {"
	        " a: TestTwinCreate(data: {name: {value: \"a\"}}) { ok }"
	        " b: TestTwinCreate(data: {name: {value: \"b\"}, twin: {hfid: "
	        "   [\"a\"]}}) { ok }"
	        " c: TestTwinCreate(data: {name: {value: \"c\"}}) { ok }"
	        " u: TestTwinUpdate(data: {hfid: [\"a\"],"
	        " twin: {hfid: [\"b\"]}}) "
	        "   { ok }"
	        "}");
	delete_ok(f, NULL, "TestTwin", "hfid: [\"a\"]");
	assert_int_equal(srv_count_of(f->app, NULL, "TestTwin"), 1);
	assert_non_null(srv_id_of(f->app, NULL, "TestTwin", "c"));
}

static void test_srv_delete__on_a_branch_then_merge(void **state)
{
	struct fx *f = *state;

	srv_branch_op(f->app, "Create", "prune");
	delete_ok(f, "prune", "TestDevice", "hfid: [\"d1\"]");
	assert_d1_gone(f, "prune");
	/* main untouched until the merge */
	assert_seed(f, NULL);
	/* the refusal holds on the branch too */
	assert_non_null(
	        strstr(delete_err(f, "prune", "TestSite", "hfid: [\"s1\"]"),
	               "It is linked to mandatory relationship site "
	               "on node TestDevice"));
	srv_branch_op(f->app, "Merge", "prune");
	assert_d1_gone(f, NULL);
	assert_d1_gone(f, "prune");
}

static void test_srv_delete__branch_deleted(void **state)
{
	struct fx *f = *state;

	srv_branch_op(f->app, "Create", "scratch");
	delete_ok(f, "scratch", "TestDevice", "hfid: [\"d1\"]");
	delete_ok(f, "scratch", "TestTag", "hfid: [\"t1\"]");
	assert_string_equal(members(f, "scratch"), "");
	srv_branch_op(f->app, "Delete", "scratch");
	assert_seed(f, NULL);
	assert_string_equal(labels(f, NULL, "TestTag"), "t1,t2");
}

/* main links the device to more after branching; the branch deletes it. */
static void test_srv_delete__main_changed_meanwhile(void **state)
{
	struct fx *f = *state;
	char q[512];

	srv_branch_op(f->app, "Create", "prune");
	snprintf(q, sizeof(q),
	         "mutation { RelationshipAdd(data: {id: \"%s\", name: "
	         "\"tags\", nodes: [{hfid: [\"t2\"]}]}) { ok } }",
	         srv_id_of(f->app, NULL, "TestDevice", "d1"));
	srv_run(f->app, NULL, q);
	delete_ok(f, "prune", "TestDevice", "hfid: [\"d1\"]");
	srv_branch_op(f->app, "Merge", "prune");
	assert_d1_gone(f, NULL);
	assert_string_equal(labels(f, NULL, "TestTag"), "t1,t2");
}

/* ---- over HTTP ----------------------------------------------------------- */

static json_t *http_gql(const struct hf_served *srv, const char *q)
{
	json_t *body = json_pack("{ss}", "query", q), *res;
	char url[256], *text = json_dumps(body, 0), *resp = NULL;
	long status = 0;

	snprintf(url, sizeof(url), "%s/graphql", srv->url);
	assert_int_equal(hf_http("POST", url, text, NULL, &status, &resp), 0);
	assert_int_equal(status, 200);
	res = json_loads(resp, 0, NULL);
	assert_non_null(res);
	free(text);
	hf_free(resp);
	json_decref(body);
	return res;
}

static void test_srv_delete__over_http(void **state)
{
	const char *dir = hf_test_tmpdir("srv-delete-http");
	struct hf_served srv;
	char db[512], url[512], *resp = NULL;
	long status = 0;
	json_t *res;
	const char *msg;

	(void)state;
	assert_non_null(dir);
	snprintf(db, sizeof(db), "%s/data.db", dir);
	assert_int_equal(hf_serve_start(&srv, db, NULL), 0);
	snprintf(url, sizeof(url), "%s/api/schema/load", srv.url);
	assert_int_equal(hf_http("POST", url, schema, NULL, &status, &resp), 0);
	assert_int_equal(status, 200);
	hf_free(resp);
	json_decref(http_gql(&srv, seed));
	res = http_gql(&srv, "mutation { TestSiteDelete(data: {hfid: "
	                     "[\"s1\"]}) { ok } }");
	assert_true(json_is_null(srv_at(res, "data.TestSiteDelete")));
	msg = srv_str_at(res, "errors.0.message");
	assert_non_null(msg);
	assert_non_null(strstr(msg, "It is linked to mandatory relationship "
	                            "site on node TestDevice '"));
	assert_string_equal(srv_str_at(res, "errors.0.path.0"),
	                    "TestSiteDelete");
	json_decref(res);
	res = http_gql(&srv, "mutation { TestDeviceDelete(data: {hfid: "
	                     "[\"d1\"]}) { ok } }");
	assert_true(json_is_true(srv_at(res, "data.TestDeviceDelete.ok")));
	json_decref(res);
	res = http_gql(&srv, "{ TestInterface { count } CoreStandardGroup { "
	                     "edges { node { members { count } } } } }");
	assert_int_equal(json_integer_value(srv_at(res, "data.TestInterface."
	                                                "count")),
	                 1);
	assert_int_equal(
	        json_integer_value(srv_at(res, "data.CoreStandardGroup."
	                                       "edges.0.node.members."
	                                       "count")),
	        1);
	json_decref(res);
	assert_int_equal(hf_serve_stop(&srv), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_srv_delete__by_id_and_hfid,
		                                setup, srv_fx_teardown),
		cmocka_unit_test_setup_teardown(
		        test_srv_delete__mandatory_refused, setup,
		        srv_fx_teardown),
		cmocka_unit_test_setup_teardown(
		        test_srv_delete__mandatory_many_and_generic, setup,
		        srv_fx_teardown),
		cmocka_unit_test_setup_teardown(test_srv_delete__cascade_chain,
		                                setup, srv_fx_teardown),
		cmocka_unit_test_setup_teardown(
		        test_srv_delete__cascade_checked, setup,
		        srv_fx_teardown),
		cmocka_unit_test_setup_teardown(test_srv_delete__cascade_cycle,
		                                setup, srv_fx_teardown),
		cmocka_unit_test_setup_teardown(
		        test_srv_delete__on_a_branch_then_merge, setup,
		        srv_fx_teardown),
		cmocka_unit_test_setup_teardown(test_srv_delete__branch_deleted,
		                                setup, srv_fx_teardown),
		cmocka_unit_test_setup_teardown(
		        test_srv_delete__main_changed_meanwhile, setup,
		        srv_fx_teardown),
		cmocka_unit_test(test_srv_delete__over_http),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
