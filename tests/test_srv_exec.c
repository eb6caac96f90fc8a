/*
 * The GraphQL executor and the application glue, driven in-process
 * through hfs_app_open(":memory:") + hfs_app_handle() (no HTTP): every
 * query and filter feature, the SDK-shaped documents, mutations and their
 * error messages, uniqueness, relationships, hierarchy, branches, the
 * fail-mutation fault, REST schema endpoints and error bodies. Uses its
 * own schema (tests/data/exec/schema.json).
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
#include <time.h>

#include <jansson.h>

#include "../server/app.h"
#include "../server/db.h"
#include "../server/exec.h"
#include "hf/alloc.h"
#include "hf/buf.h"
#include "hf/server.h"
#include "srvapp.h"
#include "testutil.h"

struct fx {
	hfs_app *app; /* first: srv_fx_new(), srv_fx_teardown() */
	const char *label; /* where the data lives, for the timings */
};

static char *slurp_schema(void)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/exec/schema.json", hf_test_data());
	return hf_read_file(path, NULL);
}

static int setup_at(void **state, const char *data)
{
	struct fx *f = srv_fx_new(sizeof(*f), data);

	assert_non_null(f);
	f->label = strcmp(data, ":memory:") ? "file db" : ":memory:";
	srv_load_schema_file(f->app, "exec/schema.json");
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_at(state, ":memory:");
}

/* A database file, as `hubform serve` uses (WAL, fsync on commit). */
static int setup_file(void **state)
{
	static char path[600];
	const char *dir = hf_test_tmpdir("exec-timings");

	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/local.db", dir);
	return setup_at(state, path);
}

static const char seed[] =
        "mutation {"
        " s1: LabSiteCreate(data: {name: {value: \"paris\"}, prefix: {value: \"10.1.0.0/16\"}}) { ok object { id } }"
        " s2: LabSiteCreate(data: {name: {value: \"lyon\"}, description: {value: \"lab\"}}) { ok }"
        " t1: BuiltinTagCreate(data: {name: {value: \"red\"}}) { ok }"
        " t2: BuiltinTagCreate(data: {name: {value: \"blue\"}}) { ok }"
        " d1: LabDeviceCreate(data: {name: {value: \"core1\"}, role: {value: \"core\"},"
        "   asn: {value: 65001}, site: {hfid: [\"paris\"]}, tags: [{id: \"red\"}, {id: \"blue\"}],"
        "   primary_tag: {id: \"red\"}}) { ok object { id } }"
        " d2: LabDeviceCreate(data: {name: {value: \"edge1\"}, role: {value: \"edge\"},"
        "   site: {hfid: [\"lyon\"]}}) { ok }"
        " i1: LabInterfaceCreate(data: {name: {value: \"eth0\"}, device: {hfid: [\"core1\"]}}) { ok }"
        " i2: LabInterfaceCreate(data: {name: {value: \"eth1\"}, mtu: {value: 9000},"
        "   device: {hfid: [\"core1\"]}}) { ok }"
        "}";

static void seed_data(struct fx *f)
{
	json_decref(srv_ok(f->app, NULL, seed));
}

/* ---- queries ------------------------------------------------------------- */

static void test_srv_exec__list_and_fields(void **state)
{
	struct fx *f = *state;
	json_t *d;

	seed_data(f);
	d = srv_ok(
	        f->app, NULL,
	        "{ LabDevice(name__value: \"core1\") { count edges { node {"
	        " id hfid display_label __typename _updated_at"
	        " name { value id is_default is_from_profile is_inherited is_visible is_protected updated_at"
	        "   source { id } owner { id display_label __typename } __typename }"
	        " role { value label color description }"
	        " asn { value } enabled { value is_default }"
	        " site { node { id hfid display_label __typename } properties { is_visible is_protected source { id } owner { id } } }"
	        " primary_tag { node { display_label } }"
	        " tags { count edges { node { display_label } properties { is_protected } } }"
	        " interfaces(limit: 1) { count edges { node { name { value } mtu { value is_default } label { value } } } }"
	        "} } } }");
	assert_int_equal(srv_int_at(d, "LabDevice.count"), 1);
	assert_string_equal(srv_str_at(d, "LabDevice.edges.0.node.__typename"),
	                    "LabDevice");
	assert_string_equal(srv_str_at(d, "LabDevice.edges.0.node.hfid.0"),
	                    "core1");
	assert_string_equal(
	        srv_str_at(d, "LabDevice.edges.0.node.display_label"), "core1");
	assert_string_equal(
	        srv_str_at(d, "LabDevice.edges.0.node.name.__typename"),
	        "TextAttribute");
	assert_true(json_is_false(
	        srv_at(d, "LabDevice.edges.0.node.name.is_default")));
	assert_true(json_is_true(
	        srv_at(d, "LabDevice.edges.0.node.name.is_visible")));
	assert_true(
	        json_is_null(srv_at(d, "LabDevice.edges.0.node.name.source")));
	assert_string_equal(srv_str_at(d, "LabDevice.edges.0.node.role.label"),
	                    "Core");
	assert_string_equal(srv_str_at(d, "LabDevice.edges.0.node.role.color"),
	                    "#7f4fd8");
	assert_string_equal(
	        srv_str_at(d, "LabDevice.edges.0.node.role.description"),
	        "Core router");
	assert_int_equal(srv_int_at(d, "LabDevice.edges.0.node.asn.value"),
	                 65001);
	assert_true(json_is_true(
	        srv_at(d, "LabDevice.edges.0.node.enabled.value")));
	assert_true(json_is_true(
	        srv_at(d, "LabDevice.edges.0.node.enabled.is_default")));
	assert_string_equal(
	        srv_str_at(d, "LabDevice.edges.0.node.site.node.hfid.0"),
	        "paris");
	assert_true(json_is_true(srv_at(
	        d, "LabDevice.edges.0.node.site.properties.is_visible")));
	assert_string_equal(
	        srv_str_at(
	                d,
	                "LabDevice.edges.0.node.primary_tag.node.display_label"),
	        "red");
	assert_int_equal(srv_int_at(d, "LabDevice.edges.0.node.tags.count"), 2);
	assert_string_equal(
	        srv_str_at(
	                d,
	                "LabDevice.edges.0.node.tags.edges.0.node.display_label"),
	        "red");
	assert_int_equal(
	        srv_int_at(d, "LabDevice.edges.0.node.interfaces.count"), 2);
	assert_int_equal(json_array_size(srv_at(
	                         d, "LabDevice.edges.0.node.interfaces.edges")),
	                 1);
	assert_string_equal(
	        srv_str_at(
	                d,
	                "LabDevice.edges.0.node.interfaces.edges.0.node.label.value"),
	        "core1:eth0");
	assert_int_equal(
	        srv_int_at(
	                d,
	                "LabDevice.edges.0.node.interfaces.edges.0.node.mtu.value"),
	        1500);
	json_decref(d);
}

static void test_srv_exec__filters(void **state)
{
	struct fx *f = *state;
	json_t *d;

	seed_data(f);
	d = srv_ok(
	        f->app, NULL,
	        "{ a: LabDevice(asn__value: \"65001\") { count }"
	        "  b: LabDevice(asn__isnull: true) { count edges { node { name { value } } } }"
	        "  c: LabDevice(name__values: [\"edge1\", \"nope\"]) { count }"
	        "  d: LabDevice(name__value: \"COR\", partial_match: true) { count }"
	        "  e: LabDevice(site__name__value: \"lyon\") { count edges { node { name { value } } } }"
	        "  f: LabDevice(tags__isnull: true) { count }"
	        "  g: LabDevice(any__value: \"edge1\") { count }"
	        "  h: LabInterface(mtu__value: 9000) { count edges { node { hfid } } }"
	        "  i: LabDevice(role__value: \"core\", enabled__value: true) { count }"
	        "  j: LabDevice(name__is_protected: false) { count }"
	        "  k: LabSite(devices__name__values: [\"core1\"]) { count }"
	        "}");
	assert_int_equal(srv_int_at(d, "a.count"), 1);
	assert_int_equal(srv_int_at(d, "b.count"), 1);
	assert_string_equal(srv_str_at(d, "b.edges.0.node.name.value"),
	                    "edge1");
	assert_int_equal(srv_int_at(d, "c.count"), 1);
	assert_int_equal(srv_int_at(d, "d.count"), 1);
	assert_int_equal(srv_int_at(d, "e.count"), 1);
	assert_string_equal(srv_str_at(d, "e.edges.0.node.name.value"),
	                    "edge1");
	assert_int_equal(srv_int_at(d, "f.count"), 1);
	assert_int_equal(srv_int_at(d, "g.count"), 1);
	assert_int_equal(srv_int_at(d, "h.count"), 1);
	assert_string_equal(srv_str_at(d, "h.edges.0.node.hfid.1"), "eth1");
	assert_int_equal(srv_int_at(d, "i.count"), 1);
	assert_int_equal(srv_int_at(d, "j.count"), 2);
	assert_int_equal(srv_int_at(d, "k.count"), 1);
	json_decref(d);
}

static void test_srv_exec__ids_hfid_paging_order(void **state)
{
	struct fx *f = *state;
	char q[512];
	json_t *d;
	const char *id;

	seed_data(f);
	d = srv_ok(
	        f->app, NULL,
	        "{ LabSite { count edges { node { id name { value } } } } }");
	/* order_by name__value: lyon before paris */
	assert_string_equal(srv_str_at(d, "LabSite.edges.0.node.name.value"),
	                    "lyon");
	id = srv_str_at(d, "LabSite.edges.1.node.id");
	snprintf(
	        q, sizeof(q),
	        "{ a: LabSite(ids: [\"%s\"]) { count edges { node { name { value } } } }"
	        "  b: LabSite(hfid: [\"lyon\"]) { count edges { node { id } } }"
	        "  c: LabSite(hfid: [\"mars\"]) { count }"
	        "  d: LabSite(offset: 1, limit: 5) { count edges { node { name { value } } } }"
	        "  e: LabSite(order: {disable: true}) { edges { node { name { value } } } }"
	        "  f: LabSite(limit: 0) { count edges { node { id } } }"
	        "  g: LabInterface(hfid: [\"core1\", \"eth1\"]) { count edges { node { mtu { value } } } } }",
	        id);
	json_decref(d);
	d = srv_ok(f->app, NULL, q);
	assert_int_equal(srv_int_at(d, "a.count"), 1);
	assert_string_equal(srv_str_at(d, "a.edges.0.node.name.value"),
	                    "paris");
	assert_int_equal(srv_int_at(d, "b.count"), 1);
	assert_int_equal(srv_int_at(d, "c.count"), 0);
	assert_int_equal(srv_int_at(d, "d.count"), 2);
	assert_int_equal(json_array_size(srv_at(d, "d.edges")), 1);
	assert_string_equal(srv_str_at(d, "d.edges.0.node.name.value"),
	                    "paris");
	assert_string_equal(srv_str_at(d, "e.edges.0.node.name.value"),
	                    "paris");
	assert_int_equal(srv_int_at(d, "f.count"), 2);
	assert_int_equal(json_array_size(srv_at(d, "f.edges")), 0);
	assert_int_equal(srv_int_at(d, "g.edges.0.node.mtu.value"), 9000);
	json_decref(d);
	/* wrong number of hfid components: NodeNotFound, null field */
	srv_contains(
	        srv_err_of(f->app, NULL,
	                   "{ LabInterface(hfid: [\"eth0\"]) { count } }"),
	        "Unable to find the node ['eth0'] / LabInterface in the database.");
}

static void test_srv_exec__generic_fragments_variables(void **state)
{
	struct fx *f = *state;
	json_t *res, *d;

	seed_data(f);
	json_decref(srv_ok(
	        f->app, NULL,
	        "mutation { r: LabRegionCreate(data: {name: {value: \"Europe\"}, shortname: {value: \"eu\"}}) { ok }"
	        " c: LabCityCreate(data: {name: {value: \"Paris\"}, shortname: {value: \"par\"}, parent: {hfid: [\"eu\"]}}) { ok } }"));
	d = srv_ok(
	        f->app, NULL,
	        "query Places { __typename LabPlace { count edges { node { __typename id display_label"
	        " ...on LabCity { parent { node { hfid display_label } } }"
	        " ...RegionBits } } } }"
	        " fragment RegionBits on LabRegion { children { count edges { node { shortname { value } } } } }");
	assert_string_equal(srv_str_at(d, "__typename"), "Query");
	assert_int_equal(srv_int_at(d, "LabPlace.count"), 2);
	assert_string_equal(srv_str_at(d, "LabPlace.edges.0.node.__typename"),
	                    "LabRegion");
	assert_int_equal(srv_int_at(d, "LabPlace.edges.0.node.children.count"),
	                 1);
	assert_string_equal(
	        srv_str_at(
	                d,
	                "LabPlace.edges.0.node.children.edges.0.node.shortname.value"),
	        "par");
	assert_null(srv_at(d, "LabPlace.edges.0.node.parent"));
	assert_string_equal(srv_str_at(d, "LabPlace.edges.1.node.__typename"),
	                    "LabCity");
	assert_string_equal(
	        srv_str_at(d, "LabPlace.edges.1.node.parent.node.hfid.0"),
	        "eu");
	assert_string_equal(
	        srv_str_at(d,
	                   "LabPlace.edges.1.node.parent.node.display_label"),
	        "Europe");
	assert_null(srv_at(d, "LabPlace.edges.1.node.children"));
	json_decref(d);
	/* CoreNode lists every node kind with its concrete __typename */
	d = srv_ok(
	        f->app, NULL,
	        "{ CoreNode(limit: 100) { count edges { node { __typename } } } }");
	assert_true(srv_int_at(d, "CoreNode.count") >= 10);
	json_decref(d);
	/* variables, aliases and operationName */
	res = srv_gql(
	        f->app, NULL,
	        "query A($n: String!) { x: LabDevice(name__value: $n) { count } }"
	        " query B { y: LabSite { count } }",
	        json_pack("{ss}", "n", "core1"));
	srv_contains(srv_str_at(res, "errors.0.message"),
	             "Must provide operation name");
	json_decref(res);
	{
		struct srv_call c = { 0 };
		const char *body =
		        "{\"query\": \"query A($n: String!) { x: LabDevice(name__value: $n) { count } }"
		        " query B { y: LabSite { count } }\", \"operationName\": \"A\","
		        " \"variables\": {\"n\": \"core1\"}}";

		c.method = "POST";
		c.path = "/graphql";
		c.body = body;
		srv_send(f->app, &c);
		assert_int_equal(c.status, 200);
		assert_string_equal(c.reply,
		                    "{\"data\":{\"x\":{\"count\":1}}}");
		hf_free(c.reply);
	}
	res = srv_gql(
	        f->app, NULL,
	        "query ($n: String!) { LabDevice(name__value: $n) { count } }",
	        NULL);
	srv_contains(
	        srv_str_at(res, "errors.0.message"),
	        "Variable '$n' of required type 'String!' was not provided.");
	assert_true(json_is_null(json_object_get(res, "data")));
	json_decref(res);
}

static void test_srv_exec__validation_errors(void **state)
{
	struct fx *f = *state;
	json_t *res;

	res = srv_gql(f->app, NULL, "{ BuiltinTag { edges { node { foo } } } }",
	              NULL);
	assert_string_equal(srv_str_at(res, "errors.0.message"),
	                    "Cannot query field 'foo' on type 'BuiltinTag'.");
	assert_int_equal(srv_int_at(res, "errors.0.locations.0.line"), 1);
	assert_int_equal(srv_int_at(res, "errors.0.locations.0.column"), 31);
	assert_true(json_is_null(json_object_get(res, "data")));
	json_decref(res);
	assert_string_equal(
	        srv_err_of(f->app, NULL, "{ BuiltinTag(x: 1) { count } }"),
	        "Unknown argument 'x' on field 'Query.BuiltinTag'.");
	assert_string_equal(
	        srv_err_of(f->app, NULL,
	                   "{ LabCircuit(hfid: [\"x\"]) { count } }"),
	        "Unknown argument 'hfid' on field 'Query.LabCircuit'.");
	assert_string_equal(
	        srv_err_of(f->app, NULL, "{ NoSuchKind { count } }"),
	        "Cannot query field 'NoSuchKind' on type 'Query'.");
	srv_contains(srv_err_of(f->app, NULL, "{ BuiltinTag { count { x } } }"),
	             "Field 'count' must not have a selection");
	srv_contains(srv_err_of(f->app, NULL, "{ BuiltinTag }"),
	             "must have a selection of subfields");
	srv_contains(
	        srv_err_of(f->app, NULL,
	                   "{ BuiltinTag { edges { node { name { value } } }"),
	        "Syntax Error");
	assert_string_equal(
	        srv_err_of(f->app, NULL,
	                   "mutation { LabPlaceCreate(data: {}) { ok } }"),
	        "Cannot query field 'LabPlaceCreate' on type 'Mutation'.");
	/* nothing ran: the valid field in a failing document is not executed */
	res = srv_gql(
	        f->app, NULL,
	        "mutation { a: BuiltinTagCreate(data: {name: {value: \"v\"}}) { ok } b: Nope { ok } }",
	        NULL);
	assert_true(json_is_null(json_object_get(res, "data")));
	json_decref(res);
	res = srv_ok(f->app, NULL,
	             "{ BuiltinTag(name__value: \"v\") { count } }");
	assert_int_equal(srv_int_at(res, "BuiltinTag.count"), 0);
	json_decref(res);
}

static void test_srv_exec__sdk_documents(void **state)
{
	struct fx *f = *state;
	json_t *res, *d;
	char q[2048];
	char id[64];

	/* the SDK's create: description travels as a String! variable */
	json_decref(srv_ok(
	        f->app, NULL,
	        "mutation { BuiltinTagCreate(data: {name: {value: \"red\"}}) { ok object { id } } }"));
	res = srv_gql(
	        f->app, NULL,
	        "\nmutation ($value_0a1b: String!) {\n    LabSiteCreate(\n        data: {\n"
	        "            name: {\n                value: \"JFK1\"\n            }\n"
	        "            description: {\n                value: $value_0a1b\n            }\n"
	        "        }\n    ){\n        ok\n        object {\n            id\n        }\n    }\n}\n",
	        json_pack("{ss}", "value_0a1b", "New York \"JFK\" airport"));
	assert_true(json_is_true(srv_at(res, "data.LabSiteCreate.ok")));
	snprintf(id, sizeof(id), "%s",
	         srv_str_at(res, "data.LabSiteCreate.object.id"));
	assert_int_equal(strlen(id), 36);
	json_decref(res);
	/* page 1 of client.all(): properties, source/owner, rel-one with hfid
	 */
	d = srv_ok(
	        f->app, NULL,
	        "\nquery {\n    LabSite(limit: 50) {\n        count\n        edges {\n            node {\n"
	        "                id\n                hfid\n                display_label\n                __typename\n"
	        "                description {\n                    value\n                    is_default\n"
	        "                    is_from_profile\n                    is_visible\n                    is_protected\n"
	        "                    source {\n                        id\n                        display_label\n"
	        "                        __typename\n                    }\n                    owner {\n"
	        "                        id\n                        display_label\n                        __typename\n"
	        "                    }\n                }\n                devices {\n                    count\n"
	        "                    edges {\n                        node {\n                            id\n"
	        "                            display_label\n                            __typename\n                        }\n"
	        "                        properties {\n                            is_visible\n                            is_protected\n"
	        "                            source { id display_label __typename }\n                            owner { id }\n"
	        "                        }\n                    }\n                }\n            }\n        }\n    }\n}\n");
	assert_int_equal(srv_int_at(d, "LabSite.count"), 1);
	assert_string_equal(
	        srv_str_at(d, "LabSite.edges.0.node.description.value"),
	        "New York \"JFK\" airport");
	assert_int_equal(srv_int_at(d, "LabSite.edges.0.node.devices.count"),
	                 0);
	json_decref(d);
	/* upsert with hfid (trailing commas), then update with id last */
	json_decref(srv_ok(
	        f->app, NULL,
	        "mutation {\n    LabSiteUpsert(\n        data: {\n            name: {\n                value: \"JFK1\"\n            }\n"
	        "            hfid: [\n                \"JFK1\",\n            ]\n        }\n    ){\n        ok\n        object {\n            id\n        }\n    }\n}\n"));
	snprintf(
	        q, sizeof(q),
	        "mutation { LabSiteUpdate(data: { description: { value: \"updated\" } id: \"%s\" }){ ok object { id } } }",
	        id);
	d = srv_ok(f->app, NULL, q);
	assert_string_equal(srv_str_at(d, "LabSiteUpdate.object.id"), id);
	json_decref(d);
	d = srv_ok(
	        f->app, NULL,
	        "{ LabSite { count edges { node { description { value } } } } }");
	assert_int_equal(srv_int_at(d, "LabSite.count"), 1);
	assert_string_equal(
	        srv_str_at(d, "LabSite.edges.0.node.description.value"),
	        "updated");
	json_decref(d);
	snprintf(
	        q, sizeof(q),
	        "mutation {\n    LabSiteDelete(\n        data: {\n            id: \"%s\"\n        }\n    ){\n        ok\n    }\n}\n",
	        id);
	d = srv_ok(f->app, NULL, q);
	assert_true(json_is_true(srv_at(d, "LabSiteDelete.ok")));
	json_decref(d);
	srv_contains(srv_err_of(f->app, NULL, q), "Unable to find the node");
}

static void test_srv_exec__create_errors(void **state)
{
	struct fx *f = *state;
	json_t *d;

	seed_data(f);
	assert_string_equal(
	        srv_err_of(
	                f->app, NULL,
	                "mutation { LabSiteCreate(data: {id: \"nope\", name: {value: \"x\"}}) { ok } }"),
	        "nope is not a valid UUID");
	d = srv_ok(
	        f->app, NULL,
	        "{ LabSite(name__value: \"paris\") { edges { node { id } } } }");
	{
		char q[512], want[128];

		snprintf(
		        q, sizeof(q),
		        "mutation { LabSiteCreate(data: {id: \"%s\", name: {value: \"x\"}}) { ok } }",
		        srv_str_at(d, "LabSite.edges.0.node.id"));
		snprintf(want, sizeof(want), "%s is already in use",
		         srv_str_at(d, "LabSite.edges.0.node.id"));
		assert_string_equal(srv_err_of(f->app, NULL, q), want);
	}
	json_decref(d);
	assert_string_equal(
	        srv_err_of(
	                f->app, NULL,
	                "mutation { LabDeviceCreate(data: {name: {value: \"d9\"}, site: {hfid: [\"paris\"]}}) { ok } }"),
	        "role is mandatory for LabDevice at role");
	assert_string_equal(
	        srv_err_of(
	                f->app, NULL,
	                "mutation { LabDeviceCreate(data: {name: {value: \"d9\"}, role: {value: \"core\"}}) { ok } }"),
	        "site is mandatory for LabDevice at site");
	assert_string_equal(
	        srv_err_of(
	                f->app, NULL,
	                "mutation { LabSiteCreate(data: {name: {value: \"x\"}, color: {value: \"red\"}}) { ok } }"),
	        "color is not a valid input for LabSite at color");
	assert_string_equal(
	        srv_err_of(
	                f->app, NULL,
	                "mutation { LabInterfaceCreate(data: {name: {value: \"x\"}, label: {value: \"y\"}, device: {hfid: [\"core1\"]}}) { ok } }"),
	        "label is not a valid input for LabInterface at label");
	srv_contains(
	        srv_err_of(
	                f->app, NULL,
	                "mutation { LabDeviceCreate(data: {name: {value: \"d9\"}, role: {value: \"spine\"}, site: {hfid: [\"paris\"]}}) { ok } }"),
	        "spine");
	srv_contains(
	        srv_err_of(
	                f->app, NULL,
	                "mutation { LabDeviceCreate(data: {name: {value: \"d9\"}, role: {value: \"core\"}, asn: {value: \"many\"}, site: {hfid: [\"paris\"]}}) { ok } }"),
	        "asn");
	assert_string_equal(
	        srv_err_of(
	                f->app, NULL,
	                "mutation { LabDeviceCreate(data: {name: {value: \"d9\"}, role: {value: \"core\"}, site: {hfid: [\"mars\"]}}) { ok } }"),
	        "Unable to find the node ['mars'] / LabSite in the database.");
	assert_string_equal(
	        srv_err_of(
	                f->app, NULL,
	                "mutation { LabDeviceCreate(data: {name: {value: \"d9\"}, role: {value: \"core\"}, site: {id: \"mars\"}}) { ok } }"),
	        "Unable to find the node mars / LabSite in the database.");
	assert_string_equal(
	        srv_err_of(
	                f->app, NULL,
	                "mutation { LabDeviceCreate(data: {name: {value: \"d9\"}, role: {value: \"core\"}, site: {id: \"0190a1b2-0000-7000-8000-000000000000\"}}) { ok } }"),
	        "Unable to find the node 0190a1b2-0000-7000-8000-000000000000 / LabSite in the database.");
	d = srv_ok(
	        f->app, NULL,
	        "{ BuiltinTag(name__value: \"red\") { edges { node { id } } } }");
	{
		char q[512];

		snprintf(
		        q, sizeof(q),
		        "mutation { LabDeviceCreate(data: {name: {value: \"d9\"}, role: {value: \"core\"}, site: {id: \"%s\"}}) { ok } }",
		        srv_str_at(d, "BuiltinTag.edges.0.node.id"));
		srv_contains(srv_err_of(f->app, NULL, q), "BuiltinTag - ");
		srv_contains(
		        srv_err_of(f->app, NULL, q),
		        "cannot be added to relationship, must be of type: ['LabSite'] at site");
	}
	json_decref(d);
	/* several problems at once are joined */
	assert_string_equal(
	        srv_err_of(
	                f->app, NULL,
	                "mutation { LabDeviceCreate(data: {name: {value: \"d9\"}}) { ok } }"),
	        "role is mandatory for LabDevice at role, site is mandatory for LabDevice at site");
	/* nothing was created by any of the above */
	d = srv_ok(f->app, NULL, "{ LabDevice { count } LabSite { count } }");
	assert_int_equal(srv_int_at(d, "LabDevice.count"), 2);
	assert_int_equal(srv_int_at(d, "LabSite.count"), 2);
	json_decref(d);
}

static void test_srv_exec__uniqueness(void **state)
{
	struct fx *f = *state;
	json_t *res;

	seed_data(f);
	res = srv_gql(
	        f->app, NULL,
	        "mutation { LabSiteCreate(data: {name: {value: \"paris\"}}) { ok } }",
	        NULL);
	assert_true(json_is_null(srv_at(res, "data.LabSiteCreate")));
	assert_string_equal(
	        srv_str_at(res, "errors.0.message"),
	        "An object already exist with this value: name: paris at name");
	assert_string_equal(srv_str_at(res, "errors.0.path.0"),
	                    "LabSiteCreate");
	assert_int_equal(srv_int_at(res, "errors.0.locations.0.line"), 1);
	assert_int_equal(srv_int_at(res, "errors.0.locations.0.column"), 12);
	json_decref(res);
	/* multi-field uniqueness constraint */
	json_decref(srv_ok(
	        f->app, NULL,
	        "mutation { LabCircuitCreate(data: {cid: {value: \"c1\"}, provider: {value: \"acme\"}}) { ok } }"));
	json_decref(srv_ok(
	        f->app, NULL,
	        "mutation { LabCircuitCreate(data: {cid: {value: \"c1\"}, provider: {value: \"other\"}}) { ok } }"));
	assert_string_equal(
	        srv_err_of(
	                f->app, NULL,
	                "mutation { LabCircuitCreate(data: {cid: {value: \"c1\"}, provider: {value: \"acme\"}}) { ok } }"),
	        "Violates uniqueness constraint 'cid-provider' at cid, Violates uniqueness constraint 'cid-provider' at provider");
	/* HFID through a relationship: same name on another device is fine */
	json_decref(srv_ok(
	        f->app, NULL,
	        "mutation { LabInterfaceCreate(data: {name: {value: \"eth0\"}, device: {hfid: [\"edge1\"]}}) { ok } }"));
	srv_contains(
	        srv_err_of(
	                f->app, NULL,
	                "mutation { LabInterfaceCreate(data: {name: {value: \"eth0\"}, device: {hfid: [\"core1\"]}}) { ok } }"),
	        "Violates uniqueness constraint 'device-name'");
	/* an update into a taken value fails too */
	assert_string_equal(
	        srv_err_of(
	                f->app, NULL,
	                "mutation { LabSiteUpdate(data: {hfid: [\"lyon\"], name: {value: \"paris\"}}) { ok } }"),
	        "An object already exist with this value: name: paris at name");
}

static void test_srv_exec__update_semantics(void **state)
{
	struct fx *f = *state;
	json_t *a, *b;
	int mutated;
	char *t;

	seed_data(f);
	a = srv_ok(
	        f->app, NULL,
	        "{ LabDevice(name__value: \"core1\") { edges { node { id _updated_at asn { value updated_at } serial { value } } } } }");
	/* writing the same values again changes nothing */
	json_decref(srv_ok(
	        f->app, NULL,
	        "mutation { LabDeviceUpdate(data: {hfid: [\"core1\"], asn: {value: 65001}, role: {value: \"core\"}, tags: [{id: \"red\"}, {id: \"blue\"}]}) { ok object { id } } }"));
	b = srv_ok(
	        f->app, NULL,
	        "{ LabDevice(name__value: \"core1\") { edges { node { id _updated_at asn { value updated_at } serial { value } } } } }");
	assert_true(json_equal(a, b));
	json_decref(b);
	/* null clears an optional value; is_default resets to the default */
	json_decref(srv_ok(
	        f->app, NULL,
	        "mutation { LabDeviceUpdate(data: {hfid: [\"core1\"], asn: {value: null}, enabled: {value: false}}) { ok } }"));
	b = srv_ok(
	        f->app, NULL,
	        "{ LabDevice(name__value: \"core1\") { edges { node { asn { value } enabled { value is_default } } } } }");
	assert_true(
	        json_is_null(srv_at(b, "LabDevice.edges.0.node.asn.value")));
	assert_true(json_is_false(
	        srv_at(b, "LabDevice.edges.0.node.enabled.value")));
	assert_true(json_is_false(
	        srv_at(b, "LabDevice.edges.0.node.enabled.is_default")));
	json_decref(b);
	json_decref(srv_ok(
	        f->app, NULL,
	        "mutation { LabDeviceUpdate(data: {hfid: [\"core1\"], enabled: {is_default: true}}) { ok } }"));
	b = srv_ok(
	        f->app, NULL,
	        "{ LabDevice(name__value: \"core1\") { edges { node { enabled { value is_default } } } } }");
	assert_true(json_is_true(
	        srv_at(b, "LabDevice.edges.0.node.enabled.value")));
	assert_true(json_is_true(
	        srv_at(b, "LabDevice.edges.0.node.enabled.is_default")));
	json_decref(b);
	assert_string_equal(
	        srv_err_of(
	                f->app, NULL,
	                "mutation { LabDeviceUpdate(data: {hfid: [\"core1\"], role: {value: null}}) { ok } }"),
	        "role is mandatory for LabDevice at role");
	/* properties: is_protected and source */
	t = srv_gql_text(
	        f->app, NULL,
	        "mutation { LabDeviceUpdate(data: {hfid: [\"core1\"], serial: {value: \"S1\", is_protected: true}}) { ok } }",
	        NULL, &mutated);
	assert_true(mutated);
	hf_free(t);
	b = srv_ok(
	        f->app, NULL,
	        "{ LabDevice(name__value: \"core1\") { edges { node { serial { value is_protected updated_at } } } } }");
	assert_true(json_is_true(
	        srv_at(b, "LabDevice.edges.0.node.serial.is_protected")));
	assert_non_null(
	        srv_str_at(b, "LabDevice.edges.0.node.serial.updated_at"));
	json_decref(b);
	/* cardinality one set to null clears it */
	json_decref(srv_ok(
	        f->app, NULL,
	        "mutation { LabDeviceUpdate(data: {hfid: [\"core1\"], primary_tag: null}) { ok } }"));
	b = srv_ok(
	        f->app, NULL,
	        "{ LabDevice(name__value: \"core1\") { edges { node { primary_tag { node { id } properties { is_visible } } } } } }");
	assert_true(json_is_null(
	        srv_at(b, "LabDevice.edges.0.node.primary_tag.node")));
	assert_true(json_is_null(srv_at(
	        b,
	        "LabDevice.edges.0.node.primary_tag.properties.is_visible")));
	json_decref(b);
	json_decref(a);
	assert_string_equal(
	        srv_err_of(
	                f->app, NULL,
	                "mutation { LabDeviceUpdate(data: {id: \"0190a1b2-0000-7000-8000-000000000000\", serial: {value: \"x\"}}) { ok } }"),
	        "Unable to find the node 0190a1b2-0000-7000-8000-000000000000 / LabDevice in the database.");
}

static void test_srv_exec__many_replace_and_peer_side(void **state)
{
	struct fx *f = *state;
	json_t *d;

	seed_data(f);
	/* a many list replaces the whole set, and its order is the new one */
	json_decref(srv_ok(
	        f->app, NULL,
	        "mutation { LabDeviceUpdate(data: {hfid: [\"core1\"], tags: [{id: \"blue\"}]}) { ok } }"));
	d = srv_ok(
	        f->app, NULL,
	        "{ LabDevice(name__value: \"core1\") { edges { node { tags { count edges { node { display_label } } } } } } }");
	assert_int_equal(srv_int_at(d, "LabDevice.edges.0.node.tags.count"), 1);
	assert_string_equal(
	        srv_str_at(
	                d,
	                "LabDevice.edges.0.node.tags.edges.0.node.display_label"),
	        "blue");
	json_decref(d);
	/* the reverse side shows up on the peer */
	d = srv_ok(
	        f->app, NULL,
	        "{ LabSite(name__value: \"paris\") { edges { node { devices { count edges { node { hfid } } } } } } }");
	assert_int_equal(srv_int_at(d, "LabSite.edges.0.node.devices.count"),
	                 1);
	json_decref(d);
	/* moving a device from the site's side: its site is cardinality one */
	srv_contains(
	        srv_err_of(
	                f->app, NULL,
	                "mutation { LabSiteUpdate(data: {hfid: [\"lyon\"], devices: [{hfid: [\"edge1\"]}, {hfid: [\"core1\"]}]}) { ok } }"),
	        "peers for labdevice__labsite, maximum of 1 allowed");
	/* from the device's side it is a plain replace */
	json_decref(srv_ok(
	        f->app, NULL,
	        "mutation { LabDeviceUpdate(data: {hfid: [\"core1\"], site: {hfid: [\"lyon\"]}}) { ok } }"));
	d = srv_ok(
	        f->app, NULL,
	        "{ a: LabSite(name__value: \"lyon\") { edges { node { devices { count } } } }"
	        "  b: LabSite(name__value: \"paris\") { edges { node { devices { count } } } } }");
	assert_int_equal(srv_int_at(d, "a.edges.0.node.devices.count"), 2);
	assert_int_equal(srv_int_at(d, "b.edges.0.node.devices.count"), 0);
	json_decref(d);
	/* RelationshipAdd / RelationshipRemove */
	d = srv_ok(
	        f->app, NULL,
	        "{ LabDevice(name__value: \"core1\") { edges { node { id } } } }");
	{
		char q[512];

		snprintf(
		        q, sizeof(q),
		        "mutation { RelationshipAdd(data: {id: \"%s\", name: \"tags\", nodes: [{id: \"red\"}]}) { ok } }",
		        srv_str_at(d, "LabDevice.edges.0.node.id"));
		json_decref(srv_ok(f->app, NULL, q));
		json_decref(srv_ok(f->app, NULL, "{ LabDevice { count } }"));
		snprintf(
		        q, sizeof(q),
		        "mutation { RelationshipRemove(data: {id: \"%s\", name: \"tags\", nodes: [{id: \"blue\"}]}) { ok } }",
		        srv_str_at(d, "LabDevice.edges.0.node.id"));
		json_decref(srv_ok(f->app, NULL, q));
	}
	json_decref(d);
	d = srv_ok(
	        f->app, NULL,
	        "{ LabDevice(name__value: \"core1\") { edges { node { tags { edges { node { display_label } } } } } } }");
	assert_int_equal(
	        json_array_size(srv_at(d, "LabDevice.edges.0.node.tags.edges")),
	        1);
	assert_string_equal(
	        srv_str_at(
	                d,
	                "LabDevice.edges.0.node.tags.edges.0.node.display_label"),
	        "red");
	json_decref(d);
}

static void test_srv_exec__upsert_and_delete(void **state)
{
	struct fx *f = *state;
	json_t *d;
	char id[64];

	seed_data(f);
	/* hfid computed from the data, through a relationship */
	d = srv_ok(
	        f->app, NULL,
	        "mutation { LabInterfaceUpsert(data: {name: {value: \"eth1\"}, device: {hfid: [\"core1\"]}, description: {value: \"uplink\"}}) { ok object { id description { value } } } }");
	snprintf(id, sizeof(id), "%s",
	         srv_str_at(d, "LabInterfaceUpsert.object.id"));
	assert_string_equal(
	        srv_str_at(d, "LabInterfaceUpsert.object.description.value"),
	        "uplink");
	json_decref(d);
	d = srv_ok(
	        f->app, NULL,
	        "{ LabInterface { count } x: LabInterface(hfid: [\"core1\", \"eth1\"]) { edges { node { id mtu { value } } } } }");
	assert_int_equal(srv_int_at(d, "LabInterface.count"), 2);
	assert_string_equal(srv_str_at(d, "x.edges.0.node.id"), id);
	assert_int_equal(srv_int_at(d, "x.edges.0.node.mtu.value"), 9000);
	json_decref(d);
	/* not found: created, with required-ness as in Create */
	json_decref(srv_ok(
	        f->app, NULL,
	        "mutation { LabInterfaceUpsert(data: {name: {value: \"eth2\"}, device: {hfid: [\"core1\"]}}) { ok } }"));
	srv_contains(
	        srv_err_of(
	                f->app, NULL,
	                "mutation { LabInterfaceUpsert(data: {name: {value: \"eth3\"}}) { ok } }"),
	        "device is mandatory for LabInterface at device");
	/* default_filter for a kind without an HFID */
	json_decref(srv_ok(
	        f->app, NULL,
	        "mutation { LabAddressUpsert(data: {host: {value: \"10.0.0.1\"}}) { ok } }"));
	json_decref(srv_ok(
	        f->app, NULL,
	        "mutation { LabAddressUpsert(data: {host: {value: \"10.0.0.1\"}, interface: {hfid: [\"core1\", \"eth0\"]}}) { ok } }"));
	d = srv_ok(
	        f->app, NULL,
	        "{ LabAddress { count edges { node { interface { node { hfid } } } } } }");
	assert_int_equal(srv_int_at(d, "LabAddress.count"), 1);
	assert_string_equal(
	        srv_str_at(d, "LabAddress.edges.0.node.interface.node.hfid.1"),
	        "eth0");
	json_decref(d);
	/* upsert by id */
	{
		char q[512];

		snprintf(
		        q, sizeof(q),
		        "mutation { LabInterfaceUpsert(data: {id: \"%s\", name: {value: \"eth1\"}, device: {hfid: [\"core1\"]}, mtu: {value: 1400}}) { ok object { id } } }",
		        id);
		d = srv_ok(f->app, NULL, q);
		assert_string_equal(
		        srv_str_at(d, "LabInterfaceUpsert.object.id"), id);
		json_decref(d);
	}
	/* delete cascades through Component relationships (on_delete) */
	json_decref(srv_ok(
	        f->app, NULL,
	        "mutation { LabDeviceDelete(data: {hfid: [\"core1\"]}) { ok } }"));
	d = srv_ok(
	        f->app, NULL,
	        "{ LabInterface { count } LabDevice { count } LabAddress { count edges { node { interface { node { id } } } } } }");
	assert_int_equal(srv_int_at(d, "LabInterface.count"), 0);
	assert_int_equal(srv_int_at(d, "LabDevice.count"), 1);
	/* two levels: device -> interfaces -> address (Component: cascade) */
	assert_int_equal(srv_int_at(d, "LabAddress.count"), 0);
	json_decref(d);
	assert_string_equal(
	        srv_err_of(
	                f->app, NULL,
	                "mutation { LabDeviceDelete(data: {hfid: [\"core1\"]}) { ok } }"),
	        "Unable to find the node ['core1'] / LabDevice in the database.");
}

static void test_srv_exec__ip_attributes(void **state)
{
	struct fx *f = *state;
	json_t *d;

	json_decref(srv_ok(
	        f->app, NULL,
	        "mutation { LabSiteCreate(data: {name: {value: \"x\"}, prefix: {value: \"10.1.0.0/16\"}, loopback: {value: \"10.0.0.1/24\"}}) { ok } }"));
	d = srv_ok(
	        f->app, NULL,
	        "{ LabSite { edges { node {"
	        " prefix { value prefixlen netmask hostmask broadcast_address num_addresses version with_netmask }"
	        " loopback { value ip prefixlen netmask with_hostmask version } } } } }");
	assert_string_equal(
	        srv_str_at(d, "LabSite.edges.0.node.prefix.netmask"),
	        "255.255.0.0");
	assert_string_equal(
	        srv_str_at(d, "LabSite.edges.0.node.prefix.hostmask"),
	        "0.0.255.255");
	assert_string_equal(
	        srv_str_at(d, "LabSite.edges.0.node.prefix.broadcast_address"),
	        "10.1.255.255");
	assert_int_equal(
	        srv_int_at(d, "LabSite.edges.0.node.prefix.num_addresses"),
	        65536);
	assert_int_equal(srv_int_at(d, "LabSite.edges.0.node.prefix.prefixlen"),
	                 16);
	assert_string_equal(
	        srv_str_at(d, "LabSite.edges.0.node.prefix.with_netmask"),
	        "10.1.0.0/255.255.0.0");
	assert_string_equal(srv_str_at(d, "LabSite.edges.0.node.loopback.ip"),
	                    "10.0.0.1");
	assert_string_equal(
	        srv_str_at(d, "LabSite.edges.0.node.loopback.with_hostmask"),
	        "10.0.0.1/0.0.0.255");
	assert_int_equal(srv_int_at(d, "LabSite.edges.0.node.loopback.version"),
	                 4);
	json_decref(d);
	/* IP kinds land in the built-in `default` namespace */
	json_decref(srv_ok(
	        f->app, NULL,
	        "mutation { LabPrefixCreate(data: {prefix: {value: \"192.168.0.0/24\"}}) { ok } }"));
	d = srv_ok(
	        f->app, NULL,
	        "{ LabPrefix { edges { node { ip_namespace { node { display_label __typename } } } } }"
	        "  IpamNamespace { count edges { node { name { value } default { value } } } } }");
	assert_string_equal(
	        srv_str_at(
	                d,
	                "LabPrefix.edges.0.node.ip_namespace.node.display_label"),
	        "default");
	assert_int_equal(srv_int_at(d, "IpamNamespace.count"), 1);
	assert_true(json_is_true(
	        srv_at(d, "IpamNamespace.edges.0.node.default.value")));
	json_decref(d);
	/* a non-UUID id on a generic peer goes through its default_filter */
	json_decref(srv_ok(
	        f->app, NULL,
	        "mutation { LabPrefixUpsert(data: {prefix: {value: \"192.168.0.0/24\"}, ip_namespace: {id: \"default\"}, description: {value: \"lan\"}}) { ok } }"));
	/* an HFID completed by the default namespace: upsert updates */
	json_decref(srv_ok(
	        f->app, NULL,
	        "mutation { LabNetworkUpsert(data: {prefix: {value: \"10.9.0.0/16\"}}) { ok } }"));
	d = srv_ok(
	        f->app, NULL,
	        "mutation { LabNetworkUpsert(data: {prefix: {value: \"10.9.0.0/16\"}, description: {value: \"again\"}}) { ok object { hfid } } }");
	assert_string_equal(srv_str_at(d, "LabNetworkUpsert.object.hfid.1"),
	                    "default");
	json_decref(d);
	d = srv_ok(
	        f->app, NULL,
	        "{ LabNetwork { count edges { node { description { value } } } } }");
	assert_int_equal(srv_int_at(d, "LabNetwork.count"), 1);
	assert_string_equal(
	        srv_str_at(d, "LabNetwork.edges.0.node.description.value"),
	        "again");
	json_decref(d);
	srv_contains(
	        srv_err_of(
	                f->app, NULL,
	                "mutation { LabNetworkCreate(data: {prefix: {value: \"10.9.0.0/16\"}}) { ok } }"),
	        "Violates uniqueness constraint");
	d = srv_ok(
	        f->app, NULL,
	        "{ LabPrefix { count edges { node { description { value } } } } }");
	assert_int_equal(srv_int_at(d, "LabPrefix.count"), 1);
	assert_string_equal(
	        srv_str_at(d, "LabPrefix.edges.0.node.description.value"),
	        "lan");
	json_decref(d);
}

static const char *desc_on(struct fx *f, const char *branch, const char *site)
{
	static char buf[128];
	char q[256];
	json_t *d;
	json_t *edges;

	snprintf(
	        q, sizeof(q),
	        "{ LabSite(name__value: \"%s\") { edges { node { description { value } } } } }",
	        site);
	d = srv_ok(f->app, branch, q);
	edges = srv_at(d, "LabSite.edges");
	snprintf(buf, sizeof(buf), "%s",
	         !json_array_size(edges) ? "(absent)"
	         : srv_str_at(edges, "0.node.description.value")
	                 ? srv_str_at(edges, "0.node.description.value")
	                 : "(null)");
	json_decref(d);
	return buf;
}

static void test_srv_exec__branches(void **state)
{
	struct fx *f = *state;
	json_t *d, *res;
	int status;

	seed_data(f);
	d = srv_ok(
	        f->app, NULL,
	        "mutation { BranchCreate(background_execution: false, data: {name: \"feature/x\","
	        " description: \"test\", sync_with_git: false}) { ok object { id name description"
	        " origin_branch branched_from is_default sync_with_git has_schema_changes } task { id } } }");
	assert_true(json_is_true(srv_at(d, "BranchCreate.ok")));
	assert_string_equal(srv_str_at(d, "BranchCreate.object.name"),
	                    "feature/x");
	assert_string_equal(srv_str_at(d, "BranchCreate.object.origin_branch"),
	                    "main");
	assert_true(
	        json_is_false(srv_at(d, "BranchCreate.object.sync_with_git")));
	assert_true(json_is_false(srv_at(d, "BranchCreate.object.is_default")));
	assert_true(json_is_null(srv_at(d, "BranchCreate.task")));
	json_decref(d);
	srv_contains(
	        srv_err_of(
	                f->app, NULL,
	                "mutation { BranchCreate(data: {name: \"feature/x\"}) { ok } }"),
	        "The branch feature/x, already exist");
	srv_contains(
	        srv_err_of(
	                f->app, NULL,
	                "mutation { BranchCreate(data: {name: \"bad name\"}) { ok } }"),
	        "invalid field name");
	res = srv_gql(
	        f->app, NULL,
	        "query GetBranch ($n: String!) { Branch(name: $n) { name is_default has_schema_changes } }",
	        json_pack("{ss}", "n", "feature/x"));
	assert_int_equal(json_array_size(srv_at(res, "data.Branch")), 1);
	assert_true(
	        json_is_false(srv_at(res, "data.Branch.0.has_schema_changes")));
	json_decref(res);
	d = srv_ok(
	        f->app, NULL,
	        "{ Branch { name is_default } InfrahubInfo { version deployment_id } }");
	assert_int_equal(json_array_size(srv_at(d, "Branch")), 2);
	assert_string_equal(srv_str_at(d, "Branch.0.name"), "main");
	assert_true(json_is_true(srv_at(d, "Branch.0.is_default")));
	assert_int_equal(strlen(srv_str_at(d, "InfrahubInfo.deployment_id")),
	                 36);
	json_decref(d);
	/* the branch has main's schema and data, and its writes stay there */
	json_decref(srv_ok(
	        f->app, "feature/x",
	        "mutation { LabSiteUpdate(data: {hfid: [\"paris\"], description: {value: \"from branch\"}}) { ok } }"));
	json_decref(srv_ok(
	        f->app, "feature/x",
	        "mutation { LabSiteCreate(data: {name: {value: \"nice\"}}) { ok } }"));
	assert_string_equal(desc_on(f, "feature/x", "paris"), "from branch");
	assert_string_equal(desc_on(f, NULL, "paris"), "(null)");
	assert_string_equal(desc_on(f, NULL, "nice"), "(absent)");
	/* validate, then merge into main; the branch survives */
	d = srv_ok(
	        f->app, NULL,
	        "mutation { BranchValidate(data: {name: \"feature/x\"}) { ok messages object { name } } }");
	assert_true(json_is_true(srv_at(d, "BranchValidate.ok")));
	assert_int_equal(json_array_size(srv_at(d, "BranchValidate.messages")),
	                 0);
	json_decref(d);
	d = srv_ok(
	        f->app, "feature/x",
	        "mutation { BranchMerge(data: {name: \"feature/x\"}) { ok object { name } } }");
	assert_string_equal(srv_str_at(d, "BranchMerge.object.name"),
	                    "feature/x");
	json_decref(d);
	assert_string_equal(desc_on(f, NULL, "paris"), "from branch");
	assert_string_equal(desc_on(f, NULL, "nice"), "(null)");
	/* conflicting merge fails and changes nothing */
	json_decref(srv_ok(
	        f->app, NULL,
	        "mutation { BranchCreate(data: {name: \"conflict\"}) { ok } }"));
	json_decref(srv_ok(
	        f->app, "conflict",
	        "mutation { LabSiteUpdate(data: {hfid: [\"lyon\"], description: {value: \"branch side\"}}) { ok } }"));
	json_decref(srv_ok(
	        f->app, NULL,
	        "mutation { LabSiteUpdate(data: {hfid: [\"lyon\"], description: {value: \"main side\"}}) { ok } }"));
	d = srv_ok(
	        f->app, NULL,
	        "mutation { BranchValidate(data: {name: \"conflict\"}) { ok messages } }");
	assert_true(json_is_false(srv_at(d, "BranchValidate.ok")));
	assert_int_equal(json_array_size(srv_at(d, "BranchValidate.messages")),
	                 1);
	json_decref(d);
	srv_contains(
	        srv_err_of(
	                f->app, NULL,
	                "mutation { BranchMerge(data: {name: \"conflict\"}) { ok } }"),
	        "Unable to merge the branch 'conflict', validation failed");
	assert_string_equal(desc_on(f, NULL, "lyon"), "main side");
	assert_string_equal(desc_on(f, "conflict", "lyon"), "branch side");
	/* delete discards the branch; its URL is then a 404 */
	json_decref(srv_ok(
	        f->app, NULL,
	        "mutation { BranchDelete(data: {name: \"conflict\"}) { ok } }"));
	res = srv_rest(f->app, "POST", "/graphql/conflict", NULL,
	               "{\"query\": \"{ LabSite { count } }\"}", &status);
	assert_int_equal(status, 404);
	assert_string_equal(srv_str_at(res, "errors.0"),
	                    "Branch: conflict not found.");
	json_decref(res);
	assert_string_equal(desc_on(f, NULL, "lyon"), "main side");
}

static void test_srv_exec__branch_schema(void **state)
{
	struct fx *f = *state;
	const char *ext =
	        "{\"schemas\": [{\"version\": \"1.0\", \"nodes\": [{\"name\": \"Rack\", \"namespace\": \"Lab\","
	        " \"attributes\": [{\"name\": \"name\", \"kind\": \"Text\", \"unique\": true}]}]}]}";
	json_t *res, *d;
	int status;

	json_decref(srv_ok(
	        f->app, NULL,
	        "mutation { BranchCreate(data: {name: \"schema-change\"}) { ok } }"));
	res = srv_rest(f->app, "POST", "/api/schema/load", "schema-change", ext,
	               &status);
	assert_int_equal(status, 200);
	assert_true(json_is_true(json_object_get(res, "schema_updated")));
	json_decref(res);
	json_decref(srv_ok(
	        f->app, "schema-change",
	        "mutation { LabRackCreate(data: {name: {value: \"r1\"}}) { ok } }"));
	srv_contains(srv_err_of(f->app, NULL, "{ LabRack { count } }"),
	             "Cannot query field 'LabRack' on type 'Query'.");
	d = srv_ok(
	        f->app, NULL,
	        "{ Branch(name: \"schema-change\") { has_schema_changes } }");
	assert_true(json_is_true(srv_at(d, "Branch.0.has_schema_changes")));
	json_decref(d);
	json_decref(srv_ok(
	        f->app, NULL,
	        "mutation { BranchMerge(data: {name: \"schema-change\"}) { ok } }"));
	d = srv_ok(f->app, NULL,
	           "{ LabRack { count edges { node { name { value } } } } }");
	assert_int_equal(srv_int_at(d, "LabRack.count"), 1);
	json_decref(d);
	res = srv_rest(f->app, "GET", "/api/schema/LabRack", NULL, NULL,
	               &status);
	assert_int_equal(status, 200);
	json_decref(res);
}

/* A fixture whose `n`th mutation field (counted over requests) fails. */
static int setup_fault_at(void **state, long n)
{
	struct hf_server_options o = HF_SERVER_OPTIONS_INIT;
	struct fx *f;

	o.data = ":memory:";
	o.faults.fail_mutation = n;
	f = srv_fx_new_with(sizeof(*f), &o);
	assert_non_null(f);
	*state = f;
	return 0;
}

static int setup_fault(void **state)
{
	return setup_fault_at(state, 3);
}

static void test_srv_exec__fail_mutation_fault(void **state)
{
	struct fx *f = *state;
	json_t *res, *d;
	int mutated;
	char *t;

	/* fields 1 and 2 pass, the 3rd field overall fails (the first of this
	 * request) */
	json_decref(srv_ok(
	        f->app, NULL,
	        "mutation { a: BuiltinTagCreate(data: {name: {value: \"a\"}}) { ok } b: BuiltinTagCreate(data: {name: {value: \"b\"}}) { ok } }"));
	res = srv_gql(
	        f->app, NULL,
	        "mutation { c: BuiltinTagCreate(data: {name: {value: \"c\"}}) { ok } d: BuiltinTagCreate(data: {name: {value: \"d\"}}) { ok } }",
	        NULL);
	assert_true(json_is_null(srv_at(res, "data.c")));
	assert_true(json_is_true(srv_at(res, "data.d.ok")));
	assert_string_equal(srv_str_at(res, "errors.0.message"),
	                    "injected fault: fail-mutation=3");
	assert_string_equal(srv_str_at(res, "errors.0.path.0"), "c");
	assert_int_equal(json_array_size(json_object_get(res, "errors")), 1);
	json_decref(res);
	/* only once: later fields run normally */
	t = srv_gql_text(
	        f->app, NULL,
	        "mutation { e: BuiltinTagCreate(data: {name: {value: \"e\"}}) { ok } }",
	        NULL, &mutated);
	assert_null(strstr(t, "errors"));
	assert_true(mutated);
	hf_free(t);
	d = srv_ok(f->app, NULL, "{ BuiltinTag { count } }");
	assert_int_equal(srv_int_at(d, "BuiltinTag.count"), 4);
	json_decref(d);
}

static int setup_fault_last(void **state)
{
	return setup_fault_at(state, 2);
}

static void test_srv_exec__fail_mutation_middle_last(void **state)
{
	struct fx *f = *state;
	json_t *res;
	int mutated;
	char *t;

	res = srv_gql(
	        f->app, NULL,
	        "mutation { a: BuiltinTagCreate(data: {name: {value: \"a\"}}) { ok }"
	        " b: BuiltinTagCreate(data: {name: {value: \"b\"}}) { ok }"
	        " c: BuiltinTagCreate(data: {name: {value: \"c\"}}) { ok } }",
	        NULL);
	assert_true(json_is_true(srv_at(res, "data.a.ok")));
	assert_true(json_is_null(srv_at(res, "data.b")));
	assert_true(json_is_true(srv_at(res, "data.c.ok")));
	json_decref(res);
	/* a request whose only mutation failed committed nothing */
	json_decref(srv_ok(f->app, NULL, "{ BuiltinTag { count } }"));
	t = srv_gql_text(
	        f->app, NULL,
	        "mutation { x: BuiltinTagCreate(data: {name: {value: \"a\"}}) { ok } }",
	        NULL, &mutated);
	assert_non_null(strstr(t, "already exist"));
	assert_false(mutated);
	hf_free(t);
}

static void test_srv_exec__partial_failure_atomic(void **state)
{
	struct fx *f = *state;
	json_t *res, *d;
	int mutated;
	char *t;

	seed_data(f);
	/*
	 * The middle field writes the device and its tag edges, then fails
	 * on uniqueness: none of its writes may survive, the others must.
	 */
	res = srv_gql(
	        f->app, NULL,
	        "mutation { a: BuiltinTagCreate(data: {name: {value: \"green\"}}) { ok }"
	        " b: LabDeviceCreate(data: {name: {value: \"core1\"}, role: {value: \"core\"},"
	        "    site: {hfid: [\"paris\"]}, tags: [{id: \"green\"}]}) { ok }"
	        " c: LabSiteCreate(data: {name: {value: \"nice\"}}) { ok object { name { value } } } }",
	        NULL);
	assert_true(json_is_true(srv_at(res, "data.a.ok")));
	assert_true(json_is_null(srv_at(res, "data.b")));
	assert_string_equal(srv_str_at(res, "data.c.object.name.value"),
	                    "nice");
	assert_string_equal(srv_str_at(res, "errors.0.path.0"), "b");
	json_decref(res);
	d = srv_ok(
	        f->app, NULL,
	        "{ LabDevice { count } BuiltinTag(name__value: \"green\") { count } LabSite { count }"
	        " x: LabDevice(tags__name__value: \"green\") { count } }");
	assert_int_equal(srv_int_at(d, "LabDevice.count"), 2);
	assert_int_equal(srv_int_at(d, "BuiltinTag.count"), 1);
	assert_int_equal(srv_int_at(d, "LabSite.count"), 3);
	assert_int_equal(srv_int_at(d, "x.count"), 0);
	json_decref(d);
	/* a read is not a mutation; a document of failures commits nothing */
	t = srv_gql_text(f->app, NULL, "{ LabSite { count } }", NULL, &mutated);
	assert_false(mutated);
	hf_free(t);
	t = srv_gql_text(
	        f->app, NULL,
	        "mutation { LabSiteCreate(data: {name: {value: \"nice\"}}) { ok } }",
	        NULL, &mutated);
	assert_false(mutated);
	hf_free(t);
}

static void test_srv_exec__http_bodies(void **state)
{
	struct fx *f = *state;
	struct srv_call c = { 0 };
	json_t *res;
	int status;

	res = srv_rest(f->app, "POST", "/graphql", NULL, "{not json", &status);
	assert_int_equal(status, 400);
	assert_true(json_is_string(srv_at(res, "errors.0")));
	json_decref(res);
	res = srv_rest(f->app, "POST", "/graphql", NULL,
	               "[{\"query\": \"{ x }\"}]", &status);
	assert_int_equal(status, 400);
	assert_string_equal(srv_str_at(res, "errors.0"),
	                    "This server does not support batching");
	json_decref(res);
	res = srv_rest(f->app, "POST", "/graphql/nope", NULL,
	               "{\"query\": \"{ x }\"}", &status);
	assert_int_equal(status, 404);
	assert_string_equal(srv_str_at(res, "errors.0"),
	                    "Branch: nope not found.");
	json_decref(res);
	res = srv_rest(f->app, "GET", "/graphql", NULL, NULL, &status);
	assert_int_equal(status, 405);
	json_decref(res);
	c.method = "OPTIONS";
	c.path = "/graphql/main";
	srv_send(f->app, &c);
	assert_int_equal(c.status, 200);
	assert_string_equal(c.allow, "GET, POST, OPTIONS");
	hf_free(c.reply);
	res = srv_rest(f->app, "GET", "/api/nope", NULL, NULL, &status);
	assert_int_equal(status, 404);
	assert_string_equal(srv_str_at(res, "errors.0.message"),
	                    "The requested endpoint /api/nope does not exist");
	assert_int_equal(srv_int_at(res, "errors.0.extensions.code"), 404);
	assert_true(json_is_null(json_object_get(res, "data")));
	json_decref(res);
	res = srv_rest(f->app, "GET", "/api/schema/NoSuchKind", NULL, NULL,
	               &status);
	assert_int_equal(status, 422);
	assert_string_equal(
	        srv_str_at(res, "errors.0.message"),
	        "Unable to find the schema NoSuchKind in the database.");
	json_decref(res);
	res = srv_rest(f->app, "GET", "/api/schema", "nope", NULL, &status);
	assert_int_equal(status, 400);
	assert_string_equal(srv_str_at(res, "errors.0.message"),
	                    "Branch: nope not found.");
	json_decref(res);
	res = srv_rest(f->app, "GET", "/api/schema", NULL, NULL, &status);
	assert_int_equal(status, 200);
	assert_int_equal(
	        strlen(json_string_value(json_object_get(res, "main"))), 32);
	assert_true(json_array_size(json_object_get(res, "nodes")) > 5);
	json_decref(res);
	res = srv_rest(f->app, "GET", "/api/schema/summary", NULL, NULL,
	               &status);
	assert_int_equal(status, 200);
	assert_non_null(srv_at(res, "nodes.LabDevice"));
	json_decref(res);
	res = srv_rest(f->app, "GET", "/api/schema/LabDevice", NULL, NULL,
	               &status);
	assert_int_equal(status, 200);
	assert_string_equal(srv_str_at(res, "kind"), "LabDevice");
	json_decref(res);
	res = srv_rest(f->app, "GET", "/api/info", NULL, NULL, &status);
	assert_int_equal(status, 200);
	assert_non_null(srv_str_at(res, "version"));
	json_decref(res);
	res = srv_rest(f->app, "GET", "/api/config", NULL, NULL, &status);
	assert_int_equal(status, 200);
	assert_non_null(srv_at(res, "main"));
	json_decref(res);
	res = srv_rest(
	        f->app, "POST", "/api/schema/check", NULL,
	        "{\"schemas\": [{\"version\": \"1.0\", \"nodes\": [{\"name\": \"Shelf\", \"namespace\": \"Lab\"}]}]}",
	        &status);
	assert_int_equal(status, 202);
	json_decref(res);
	assert_string_equal(srv_err_of(f->app, NULL, "{ LabShelf { count } }"),
	                    "Cannot query field 'LabShelf' on type 'Query'.");
	res = srv_rest(f->app, "POST", "/api/schema/load", NULL, "{oops",
	               &status);
	assert_int_equal(status, 422);
	json_decref(res);
	res = srv_rest(f->app, "POST", "/graphql", NULL,
	               "{\"query\": \"query {\\n  LabSite(\"}", &status);
	assert_int_equal(status, 200);
	srv_contains(srv_str_at(res, "errors.0.message"), "Syntax Error");
	assert_int_equal(srv_int_at(res, "errors.0.locations.0.line"), 2);
	assert_true(json_is_null(json_object_get(res, "data")));
	json_decref(res);
}

static void test_srv_exec__properties_lineage(void **state)
{
	struct fx *f = *state;
	char q[1024], tag[64];
	json_t *d;

	seed_data(f);
	d = srv_ok(
	        f->app, NULL,
	        "{ BuiltinTag(name__value: \"blue\") { edges { node { id } } } }");
	snprintf(tag, sizeof(tag), "%s",
	         srv_str_at(d, "BuiltinTag.edges.0.node.id"));
	json_decref(d);
	snprintf(
	        q, sizeof(q),
	        "mutation { LabDeviceUpdate(data: {hfid: [\"edge1\"], serial: {value: \"S9\", source: \"%s\", owner: \"%s\"},"
	        " primary_tag: {id: \"blue\", _relation__is_protected: true, _relation__source: \"%s\"}}) { ok } }",
	        tag, tag, tag);
	json_decref(srv_ok(f->app, NULL, q));
	d = srv_ok(
	        f->app, NULL,
	        "{ LabDevice(name__value: \"edge1\") { permissions { count edges { node { kind view create update delete } } }"
	        " edges { node { serial { value source { id display_label __typename } owner { display_label }"
	        "   permissions { update_value } }"
	        " primary_tag { node { display_label } properties { is_protected is_visible updated_at"
	        "   source { display_label ...on BuiltinTag { description { value } } } owner { id } } } } } } }");
	assert_int_equal(srv_int_at(d, "LabDevice.permissions.count"), 1);
	assert_string_equal(
	        srv_str_at(d, "LabDevice.permissions.edges.0.node.kind"),
	        "LabDevice");
	assert_string_equal(
	        srv_str_at(d, "LabDevice.permissions.edges.0.node.update"),
	        "ALLOW");
	assert_string_equal(
	        srv_str_at(d, "LabDevice.edges.0.node.serial.source.id"), tag);
	assert_string_equal(
	        srv_str_at(
	                d,
	                "LabDevice.edges.0.node.serial.source.display_label"),
	        "blue");
	assert_string_equal(
	        srv_str_at(d,
	                   "LabDevice.edges.0.node.serial.source.__typename"),
	        "BuiltinTag");
	assert_string_equal(
	        srv_str_at(d,
	                   "LabDevice.edges.0.node.serial.owner.display_label"),
	        "blue");
	assert_string_equal(
	        srv_str_at(
	                d,
	                "LabDevice.edges.0.node.serial.permissions.update_value"),
	        "ALLOW");
	assert_true(json_is_true(srv_at(
	        d,
	        "LabDevice.edges.0.node.primary_tag.properties.is_protected")));
	assert_true(json_is_true(srv_at(
	        d,
	        "LabDevice.edges.0.node.primary_tag.properties.is_visible")));
	assert_non_null(srv_str_at(
	        d, "LabDevice.edges.0.node.primary_tag.properties.updated_at"));
	assert_string_equal(
	        srv_str_at(
	                d,
	                "LabDevice.edges.0.node.primary_tag.properties.source.display_label"),
	        "blue");
	assert_true(json_is_null(srv_at(
	        d,
	        "LabDevice.edges.0.node.primary_tag.properties.source.description.value")));
	assert_true(json_is_null(srv_at(
	        d, "LabDevice.edges.0.node.primary_tag.properties.owner")));
	json_decref(d);
	/* profiles are kinds like any other */
	json_decref(srv_ok(
	        f->app, NULL,
	        "mutation { ProfileLabDeviceCreate(data: {profile_name: {value: \"profile1\"}, serial: {value: \"X\"}}) { ok } }"));
	d = srv_ok(
	        f->app, NULL,
	        "{ ProfileLabDevice { count edges { node { __typename profile_name { value } } } } CoreProfile { count } }");
	assert_int_equal(srv_int_at(d, "ProfileLabDevice.count"), 1);
	assert_int_equal(srv_int_at(d, "CoreProfile.count"), 1);
	json_decref(d);
}

static void test_srv_exec__branch_rebase_update(void **state)
{
	struct fx *f = *state;
	json_t *d;

	seed_data(f);
	json_decref(srv_ok(
	        f->app, NULL,
	        "mutation { BranchCreate(data: {name: \"rebased\", description: \"one\"}) { ok } }"));
	json_decref(srv_ok(
	        f->app, NULL,
	        "mutation { LabSiteCreate(data: {name: {value: \"later\"}}) { ok } }"));
	assert_string_equal(desc_on(f, "rebased", "later"), "(absent)");
	d = srv_ok(
	        f->app, NULL,
	        "mutation { BranchRebase(data: {name: \"rebased\"}) { ok object { name branched_from } } }");
	assert_true(json_is_true(srv_at(d, "BranchRebase.ok")));
	json_decref(d);
	assert_string_equal(desc_on(f, "rebased", "later"), "(null)");
	json_decref(srv_ok(
	        f->app, NULL,
	        "mutation { BranchUpdate(data: {name: \"rebased\", description: \"two\"}) { ok } }"));
	d = srv_ok(f->app, NULL,
	           "{ Branch(name: \"rebased\") { description } }");
	assert_string_equal(srv_str_at(d, "Branch.0.description"), "two");
	json_decref(d);
	srv_contains(
	        srv_err_of(
	                f->app, NULL,
	                "mutation { BranchMerge(data: {name: \"main\"}) { ok } }"),
	        "main");
	srv_contains(
	        srv_err_of(
	                f->app, NULL,
	                "mutation { BranchDelete(data: {name: \"nope\"}) { ok } }"),
	        "Branch: nope not found.");
}

/*
 * A request that lists no kind does not load a branch's mirror to cost
 * itself: after a merge dropped main's, the Branch query that followed
 * loaded it again (140 ms for 10k nodes, on the apply's path); the next
 * listing does.
 */
static void test_srv_exec__branch_query_loads_no_mirror(void **state)
{
	struct fx *f = *state;
	unsigned long long before;

	srv_run(f->app, NULL, seed);
	srv_branch_op(f->app, "Create", "work");
	srv_run(f->app, "work",
	        "mutation { LabSiteCreate(data: {name: {value: \"nice\"}}) "
	        "{ ok } }");
	srv_branch_op(f->app, "Merge", "work");
	before = hfs_app_mirror_loads(f->app);
	srv_run(f->app, NULL, "query { Branch { name } }");
	srv_run(f->app, NULL,
	        "query ($n: String) { Branch(name: $n) { name description } }");
	srv_run(f->app, NULL, "query { InfrahubInfo { version } }");
	assert_int_equal(hfs_app_mirror_loads(f->app), before);
	assert_int_equal(srv_count_of(f->app, NULL, "LabSite"), 3);
	assert_int_equal(hfs_app_mirror_loads(f->app), before + 1);
}

/* ---- filter indexes ------------------------------------------------------ */

/*
 * Exact attribute filters are answered from an index: the executor's
 * count of nodes examined by filters shows whether the kind was scanned.
 * Uses the executor directly (hfs_exec_examined needs the handle).
 */
struct ifx {
	hfs_db *db;
	hfs_exec *x;
};

static json_t *ifx_gql(struct ifx *f, const char *q)
{
	json_t *body = json_pack("{ss}", "query", q), *res;
	hf_error err = HF_ERROR_INIT;
	char *out = NULL;
	int mutated;

	hfs_db_lock(f->db);
	assert_int_equal(
	        hfs_exec_graphql(f->x, "main", body, &out, &mutated, &err), 0);
	hfs_db_unlock(f->db);
	json_decref(body);
	res = json_loads(out, 0, NULL);
	if (!res || json_object_get(res, "errors"))
		fprintf(stderr, "%.300s\n-> %.600s\n", q, out);
	hf_free(out);
	assert_non_null(res);
	assert_null(json_object_get(res, "errors"));
	return res;
}

static unsigned long long ifx_examined(struct ifx *f)
{
	unsigned long long n;

	hfs_db_lock(f->db);
	n = hfs_exec_examined(f->x);
	hfs_db_unlock(f->db);
	return n;
}

/* Run a listing; checks its count and how many nodes it examined. */
static json_t *ifx_list(struct ifx *f, const char *q, long long count,
                        unsigned long long examined)
{
	unsigned long long before = ifx_examined(f);
	json_t *res = ifx_gql(f, q);
	const char *key = json_object_iter_key(
	        json_object_iter(json_object_get(res, "data")));
	char path[128];

	snprintf(path, sizeof(path), "data.%s.count", key);
	if (srv_int_at(res, path) != count ||
	    ifx_examined(f) - before != examined)
		fprintf(stderr, "%s: count %lld examined %llu\n", q,
		        srv_int_at(res, path), ifx_examined(f) - before);
	assert_int_equal(srv_int_at(res, path), count);
	assert_int_equal(ifx_examined(f) - before, examined);
	return res;
}

static size_t ifx_count(struct ifx *f, const char *kind)
{
	hf_error err = HF_ERROR_INIT;
	size_t n = 99999;

	hfs_db_lock(f->db);
	assert_int_equal(hfs_exec_kind_count(f->x, "main", kind, &n, &err), 0);
	hfs_db_unlock(f->db);
	return n;
}

static void test_srv_exec__filter_index(void **state)
{
	struct ifx f;
	struct hfs_rest rest;
	hf_error err = HF_ERROR_INIT;
	char *schema = slurp_schema(), q[512], q2[512], ids[64], site[64];
	hf_buf m = HF_BUF_INIT;
	json_t *res;
	int i;

	(void)state;
	assert_int_equal(hfs_db_open(&f.db, ":memory:", &err), 0);
	assert_int_equal(hfs_exec_new(&f.x, f.db, NULL, &err), 0);
	hfs_db_lock(f.db);
	assert_int_equal(hfs_exec_rest(f.x, "POST", "/api/schema/load", NULL,
	                               NULL, schema, strlen(schema), &rest,
	                               &err),
	                 0);
	hfs_db_unlock(f.db);
	assert_int_equal(rest.status, 200);
	json_decref(rest.body);
	hf_free(schema);
	json_decref(ifx_gql(
	        &f,
	        "mutation { LabSiteCreate(data: {name: {value: \"s1\"}}) { ok } }"));
	/* 300 devices: unique names, distinct serials, two ASNs */
	for (i = 0; i < 300; i++) {
		if (i % 100 == 0)
			hf_buf_add(&m, "mutation {");
		hf_buf_addf(
		        &m,
		        " d%d: LabDeviceCreate(data: {name: {value: \"dev-%03d\"},"
		        " role: {value: \"core\"}, asn: {value: %d},"
		        " serial: {value: \"sn-%03d\"}, site: {hfid: [\"s1\"]}}) { ok }",
		        i, i, 65000 + i % 2, i);
		if (i % 100 == 99) {
			hf_buf_add(&m, " }");
			json_decref(ifx_gql(&f, m.ptr));
			hf_buf_reset(&m);
		}
	}
	assert_int_equal(ifx_count(&f, "LabDevice"), 300);
	assert_int_equal(ifx_count(&f, "LabSite"), 1);
	assert_int_equal(ifx_count(&f, "LabNope"), 0);
	json_decref(ifx_gql(
	        &f,
	        "mutation { LabRegionCreate(data: {name: {value: \"r\"}, shortname: {value: \"r\"}}) { ok }"
	        " LabCityCreate(data: {name: {value: \"c\"}, shortname: {value: \"c\"}, parent: {hfid: [\"r\"]}}) { ok } }"));
	assert_int_equal(ifx_count(&f, "LabPlace"), 2); /* a generic */
	/* a unique attribute: its uniqueness keys */
	res = ifx_list(&f,
	               "{ LabDevice(name__value: \"dev-150\") { count"
	               " edges { node { serial { value } } } } }",
	               1, 1);
	assert_string_equal(
	        srv_str_at(res, "data.LabDevice.edges.0.node.serial.value"),
	        "sn-150");
	json_decref(res);
	/* another attribute: a value index built on first use */
	json_decref(ifx_list(
	        &f, "{ LabDevice(serial__value: \"sn-042\") { count } }", 1,
	        1));
	/* several values, repeated, in listing (id) order */
	res = ifx_list(
	        &f,
	        "{ LabDevice(serial__values: [\"sn-010\", \"sn-005\","
	        " \"sn-010\", \"nope\"]) { count edges { node { name { value } } } } }",
	        2, 2);
	assert_string_equal(
	        srv_str_at(res, "data.LabDevice.edges.0.node.name.value"),
	        "dev-005");
	assert_string_equal(
	        srv_str_at(res, "data.LabDevice.edges.1.node.name.value"),
	        "dev-010");
	json_decref(res);
	/* the other filters run on the candidates */
	json_decref(ifx_list(
	        &f,
	        "{ LabDevice(name__value: \"dev-150\", asn__value: 65001) { count } }",
	        0, 1));
	json_decref(ifx_list(
	        &f,
	        "{ LabDevice(name__value: \"dev-151\", asn__value: 65001) { count } }",
	        1, 1));
	/* too few distinct values for an index, and partial matches: scans */
	json_decref(ifx_list(&f, "{ LabDevice(asn__value: 65001) { count } }",
	                     150, 300));
	json_decref(ifx_list(&f, "{ LabDevice(asn__value: 65001) { count } }",
	                     150, 300));
	json_decref(ifx_list(
	        &f,
	        "{ LabDevice(name__value: \"dev-15\", partial_match: true) { count } }",
	        10, 300));
	/* writes keep the index up to date */
	res = ifx_list(
	        &f,
	        "{ LabDevice(name__value: \"dev-042\") { count edges { node { id } } } }",
	        1, 1);
	snprintf(
	        q, sizeof(q),
	        "mutation { LabDeviceUpdate(data: {id: \"%s\", serial: {value: \"renamed\"}}) { ok } }",
	        srv_str_at(res, "data.LabDevice.edges.0.node.id"));
	/* ids: hash lookups, repeats and other kinds' ids dropped */
	snprintf(ids, sizeof(ids), "%s",
	         srv_str_at(res, "data.LabDevice.edges.0.node.id"));
	json_decref(res);
	res = ifx_list(&f, "{ LabSite { count edges { node { id } } } }", 1, 0);
	snprintf(site, sizeof(site), "%s",
	         srv_str_at(res, "data.LabSite.edges.0.node.id"));
	json_decref(res);
	res = ifx_list(
	        &f,
	        "{ LabDevice(name__value: \"dev-007\") { count edges { node { id } } } }",
	        1, 1);
	snprintf(
	        q2, sizeof(q2),
	        "{ LabDevice(ids: [\"%s\", \"%s\", \"%s\", \"%s\", \"nope\"]) { count edges { node { name { value } } } } }",
	        ids, srv_str_at(res, "data.LabDevice.edges.0.node.id"), ids,
	        site);
	json_decref(res);
	res = ifx_list(&f, q2, 2, 2);
	assert_string_equal(
	        srv_str_at(res, "data.LabDevice.edges.0.node.name.value"),
	        "dev-007");
	assert_string_equal(
	        srv_str_at(res, "data.LabDevice.edges.1.node.name.value"),
	        "dev-042");
	json_decref(res);
	snprintf(q2, sizeof(q2),
	         "{ LabDevice(ids: [\"%s\"], asn__value: 65001) { count } }",
	         ids);
	json_decref(ifx_list(&f, q2, 0, 1));
	json_decref(ifx_gql(&f, q));
	json_decref(ifx_list(
	        &f, "{ LabDevice(serial__value: \"sn-042\") { count } }", 0,
	        0));
	json_decref(ifx_list(
	        &f, "{ LabDevice(serial__value: \"renamed\") { count } }", 1,
	        1));
	json_decref(ifx_gql(
	        &f,
	        "mutation { LabDeviceCreate(data: {name: {value: \"fresh\"},"
	        " role: {value: \"edge\"}, serial: {value: \"sn-fresh\"},"
	        " site: {hfid: [\"s1\"]}}) { ok } }"));
	res = ifx_list(
	        &f,
	        "{ LabDevice(serial__value: \"sn-fresh\") { count edges { node { name { value } } } } }",
	        1, 1);
	assert_string_equal(
	        srv_str_at(res, "data.LabDevice.edges.0.node.name.value"),
	        "fresh");
	json_decref(res);
	json_decref(ifx_gql(
	        &f,
	        "mutation { LabDeviceDelete(data: {hfid: [\"fresh\"]}) { ok } }"));
	json_decref(ifx_list(
	        &f, "{ LabDevice(serial__value: \"sn-fresh\") { count } }", 0,
	        0));
	assert_int_equal(ifx_count(&f, "LabDevice"), 300);
	/* a generic: the index of each kind inheriting it */
	res = ifx_list(
	        &f,
	        "{ LabPlace(shortname__values: [\"c\", \"r\"]) { count edges { node { __typename } } } }",
	        2, 2);
	assert_string_equal(
	        srv_str_at(res, "data.LabPlace.edges.0.node.__typename"),
	        "LabRegion");
	json_decref(res);
	hf_buf_release(&m);
	hfs_exec_free(f.x);
	hfs_db_close(f.db);
}

/* ---- timings (printed, not asserted) ------------------------------------- */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static const char page_query[] =
        "query { LabSite(offset: %d, limit: %d) { count edges { node {"
        " id hfid display_label __typename"
        " name { value is_default is_from_profile is_visible is_protected"
        "   source { id display_label __typename } owner { id display_label __typename } }"
        " description { value is_default is_from_profile is_visible is_protected"
        "   source { id display_label __typename } owner { id display_label __typename } }"
        " } } } }";

static void test_srv_exec__timings(void **state)
{
	struct fx *f = *state;
	hf_buf q = HF_BUF_INIT;
	double t0, t1;
	int i, j, n = 0;
	char *text;

	t0 = now_ms();
	for (i = 0; i < 100; i++) {
		hf_buf_reset(&q);
		hf_buf_add(&q, "mutation {");
		for (j = 0; j < 100; j++)
			hf_buf_addf(
			        &q,
			        " m%d: LabSiteCreate(data: {name: {value: \"site-%05d\"},"
			        " description: {value: \"bench\"}}) { ok object { id } }",
			        j, i * 100 + j);
		hf_buf_add(&q, " }");
		text = srv_gql_text(f->app, NULL, q.ptr, NULL, NULL);
		assert_null(strstr(text, "\"errors\""));
		hf_free(text);
	}
	t1 = now_ms();
	printf("timing (%s): 10000 creates in 100 requests: %.0f ms "
	       "(%.0f/s)\n",
	       f->label, t1 - t0, 10000.0 / ((t1 - t0) / 1e3));
	t0 = now_ms();
	for (i = 0; i < 10000; i += 50) {
		char qq[2048];

		snprintf(qq, sizeof(qq), page_query, i, 50);
		text = srv_gql_text(f->app, NULL, qq, NULL, NULL);
		n += 50;
		hf_free(text);
	}
	t1 = now_ms();
	printf("timing (%s): listed %d nodes in pages of 50: %.0f ms "
	       "(%.0f nodes/s)\n",
	       f->label, n, t1 - t0, n / ((t1 - t0) / 1e3));
	t0 = now_ms();
	for (i = 0, n = 0; i < 10000; i += 1000) {
		char qq[2048];

		snprintf(qq, sizeof(qq), page_query, i, 1000);
		text = srv_gql_text(f->app, NULL, qq, NULL, NULL);
		n += 1000;
		hf_free(text);
	}
	t1 = now_ms();
	printf("timing (%s): listed %d nodes in pages of 1000: %.0f ms "
	       "(%.0f nodes/s)\n",
	       f->label, n, t1 - t0, n / ((t1 - t0) / 1e3));
	hf_buf_release(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_srv_exec__list_and_fields,
		                                setup, srv_fx_teardown),
		cmocka_unit_test_setup_teardown(
		        test_srv_exec__branch_query_loads_no_mirror, setup,
		        srv_fx_teardown),
		cmocka_unit_test_setup_teardown(test_srv_exec__filters, setup,
		                                srv_fx_teardown),
		cmocka_unit_test_setup_teardown(
		        test_srv_exec__ids_hfid_paging_order, setup,
		        srv_fx_teardown),
		cmocka_unit_test_setup_teardown(
		        test_srv_exec__generic_fragments_variables, setup,
		        srv_fx_teardown),
		cmocka_unit_test_setup_teardown(
		        test_srv_exec__validation_errors, setup,
		        srv_fx_teardown),
		cmocka_unit_test_setup_teardown(test_srv_exec__sdk_documents,
		                                setup, srv_fx_teardown),
		cmocka_unit_test_setup_teardown(test_srv_exec__create_errors,
		                                setup, srv_fx_teardown),
		cmocka_unit_test_setup_teardown(test_srv_exec__uniqueness,
		                                setup, srv_fx_teardown),
		cmocka_unit_test_setup_teardown(test_srv_exec__update_semantics,
		                                setup, srv_fx_teardown),
		cmocka_unit_test_setup_teardown(
		        test_srv_exec__many_replace_and_peer_side, setup,
		        srv_fx_teardown),
		cmocka_unit_test_setup_teardown(
		        test_srv_exec__upsert_and_delete, setup,
		        srv_fx_teardown),
		cmocka_unit_test_setup_teardown(test_srv_exec__ip_attributes,
		                                setup, srv_fx_teardown),
		cmocka_unit_test_setup_teardown(test_srv_exec__branches, setup,
		                                srv_fx_teardown),
		cmocka_unit_test_setup_teardown(test_srv_exec__branch_schema,
		                                setup, srv_fx_teardown),
		cmocka_unit_test_setup_teardown(
		        test_srv_exec__fail_mutation_fault, setup_fault,
		        srv_fx_teardown),
		cmocka_unit_test_setup_teardown(
		        test_srv_exec__fail_mutation_middle_last,
		        setup_fault_last, srv_fx_teardown),
		cmocka_unit_test_setup_teardown(
		        test_srv_exec__partial_failure_atomic, setup,
		        srv_fx_teardown),
		cmocka_unit_test_setup_teardown(test_srv_exec__http_bodies,
		                                setup, srv_fx_teardown),
		cmocka_unit_test_setup_teardown(
		        test_srv_exec__properties_lineage, setup,
		        srv_fx_teardown),
		cmocka_unit_test_setup_teardown(
		        test_srv_exec__branch_rebase_update, setup,
		        srv_fx_teardown),
		cmocka_unit_test(test_srv_exec__filter_index),
		cmocka_unit_test_setup_teardown(test_srv_exec__timings, setup,
		                                srv_fx_teardown),
		cmocka_unit_test_setup_teardown(test_srv_exec__timings,
		                                setup_file, srv_fx_teardown),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
