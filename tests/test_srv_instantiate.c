/*
 * What the local endpoint adds on its own when a real repository loads,
 * driven in-process through hfs_app_handle(): object template
 * instantiation (template values, relationships, component templates,
 * pool allocations named by the template; an Upsert of an existing node
 * does not instantiate again), profile values in priority order with
 * is_from_profile and their refresh, hierarchies (ancestors,
 * descendants, include_descendants), node_metadata and Delete by HFID.
 * Schema: tests/data/pools/schema.json.
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
#include "hf/server.h"
#include "srvapp.h"
#include "testutil.h"

struct fx {
	hfs_app *app; /* first: srv_fx_new(), srv_fx_teardown() */
};

/* Whether the processed schema gives `kind` a relationship `rel`. */
static int has_rel(struct fx *f, const char *kind, const char *rel)
{
	char path[256];
	json_t *res, *r;
	size_t i;
	int status, found = 0;

	snprintf(path, sizeof(path), "/api/schema/%s", kind);
	res = srv_rest(f->app, "GET", path, NULL, NULL, &status);
	assert_int_equal(status, 200);
	json_array_foreach(json_object_get(res, "relationships"), i, r)
	{
		found |= !strcmp(json_string_value(json_object_get(r, "name")),
		                 rel);
	}
	json_decref(res);
	return found;
}

static int setup(void **state)
{
	struct fx *f = srv_fx_new(sizeof(*f), ":memory:");

	assert_non_null(f);
	srv_load_schema_file(f->app, "pools/schema.json");
	*state = f;
	return 0;
}

/* A device template "edge" with two interface component templates. */
static void edge_template(struct fx *f, char *tmpl)
{
	char q[1024];

	srv_run(f->app, NULL,
	        "mutation { BuiltinTagCreate(data: {name: {value: \"blue\"}}) "
	        "{ ok } g: CoreStandardGroupCreate(data: {name: {value: "
	        "\"edges\"}}) { ok } }");
	srv_q_str(
	        f->app, NULL,
	        "mutation { TemplateTestDeviceCreate(data: {template_name: "
	        "{value: \"edge\"}, role: {value: \"edge\"}, status: {value: "
	        "\"active\"}, tags: [{id: \"blue\"}], "
	        "member_of_groups_for_instances: [{hfid: [\"edges\"]}]}) { ok "
	        "object { id } } }",
	        "TemplateTestDeviceCreate.object.id", tmpl, 64);
	snprintf(q, sizeof(q),
	         "mutation {"
	         " a: TemplateTestInterfaceCreate(data: {template_name: "
	         "{value: \"edge-eth1\"}, name: {value: \"eth1\"}, speed: "
	         "{value: 1000}, description: {value: \"uplink\"}, device: "
	         "{id: \"%s\"}}) { ok }"
	         " b: TemplateTestInterfaceCreate(data: {template_name: "
	         "{value: \"edge-eth2\"}, name: {value: \"eth2\"}, enabled: "
	         "{value: true}, device: {id: \"%s\"}}) { ok } }",
	         tmpl, tmpl);
	srv_run(f->app, NULL, q);
}

static void test_srv_instantiate__components(void **state)
{
	struct fx *f = *state;
	char tmpl[64], dev[64];
	json_t *d;

	edge_template(f, tmpl);
	srv_q_str(
	        f->app, NULL,
	        "mutation { TestDeviceCreate(data: {name: {value: \"dev1\"}, "
	        "object_template: {hfid: [\"edge\"]}}) { ok object { id } } }",
	        "TestDeviceCreate.object.id", dev, sizeof(dev));
	d = srv_ok(f->app, NULL,
	           "query { TestDevice { edges { node { id name { value } "
	           "role { value is_default source { id } } status { value } "
	           "tags { count edges { node { display_label } } } "
	           "member_of_groups { count } "
	           "object_template { node { id } } interfaces { count edges "
	           "{ node { name { value } speed { value source { id } } "
	           "description { value } enabled { value is_default } "
	           "mtu { value is_default } device { node { id } } } } } } } "
	           "} }");
	assert_string_equal(srv_str_at(d, "TestDevice.edges.0.node.role.value"),
	                    "edge");
	assert_false(json_is_true(
	        srv_at(d, "TestDevice.edges.0.node.role.is_default")));
	assert_string_equal(
	        srv_str_at(d, "TestDevice.edges.0.node.role.source.id"), tmpl);
	assert_string_equal(
	        srv_str_at(d, "TestDevice.edges.0.node.status.value"),
	        "active");
	assert_int_equal(srv_int_at(d, "TestDevice.edges.0.node.tags.count"),
	                 1);
	/* the template's groups for instances: the instance's groups */
	assert_int_equal(
	        srv_int_at(d, "TestDevice.edges.0.node.member_of_groups.count"),
	        1);
	assert_string_equal(
	        srv_str_at(d,
	                   "TestDevice.edges.0.node.object_template.node.id"),
	        tmpl);
	assert_int_equal(
	        srv_int_at(d, "TestDevice.edges.0.node.interfaces.count"), 2);
	assert_string_equal(
	        srv_str_at(d, "TestDevice.edges.0.node.interfaces.edges.0.node."
	                      "name.value"),
	        "eth1");
	assert_int_equal(
	        srv_int_at(d, "TestDevice.edges.0.node.interfaces.edges.0."
	                      "node.speed.value"),
	        1000);
	assert_string_equal(
	        srv_str_at(d, "TestDevice.edges.0.node.interfaces.edges.0.node."
	                      "description.value"),
	        "uplink");
	assert_string_equal(
	        srv_str_at(d, "TestDevice.edges.0.node.interfaces.edges.0.node."
	                      "device.node.id"),
	        dev);
	/* what the component template did not set stays the default */
	assert_true(json_is_true(srv_at(d, "TestDevice.edges.0.node.interfaces."
	                                   "edges.0.node.mtu.is_default")));
	assert_true(json_is_true(srv_at(d, "TestDevice.edges.0.node.interfaces."
	                                   "edges.1.node.enabled.value")));
	assert_string_equal(
	        srv_str_at(d, "TestDevice.edges.0.node.interfaces.edges.1.node."
	                      "name.value"),
	        "eth2");
	json_decref(d);
	assert_int_equal(srv_count_of(f->app, NULL, "TestInterface"), 2);
	/* the HFID of a component names its new parent */
	d = srv_ok(f->app, NULL,
	           "query { TestInterface(hfid: [\"dev1\", \"eth2\"]) { count "
	           "edges { node { hfid } } } }");
	assert_int_equal(srv_int_at(d, "TestInterface.count"), 1);
	json_decref(d);
}

static void test_srv_instantiate__upsert_once(void **state)
{
	struct fx *f = *state;
	char tmpl[64];
	json_t *d;
	const char *up =
	        "mutation { TestDeviceUpsert(data: {name: {value: "
	        "\"dev1\"}, object_template: {hfid: [\"edge\"]}}) { ok "
	        "object { id } } }";

	edge_template(f, tmpl);
	srv_run(f->app, NULL, up);
	srv_run(f->app, NULL, up);
	srv_run(f->app, NULL, up);
	assert_int_equal(srv_count_of(f->app, NULL, "TestDevice"), 1);
	assert_int_equal(srv_count_of(f->app, NULL, "TestInterface"), 2);
	srv_run(f->app, NULL,
	        "mutation { TestDeviceUpsert(data: {name: {value: \"dev2\"}, "
	        "role: {value: \"core\"}, "
	        "object_template: {hfid: [\"edge\"]}}) "
	        "{ ok } }");
	assert_int_equal(srv_count_of(f->app, NULL, "TestInterface"), 4);
	/* what the input sets wins over the template */
	d = srv_ok(f->app, NULL,
	           "query { TestDevice(name__value: \"dev2\") { edges { node { "
	           "role { value source { id } } } } } }");
	assert_string_equal(srv_str_at(d, "TestDevice.edges.0.node.role.value"),
	                    "core");
	assert_true(srv_null_at(d, "TestDevice.edges.0.node.role.source"));
	json_decref(d);
	/* interfaces given by the input: no component is instantiated */
	srv_run(f->app, NULL,
	        "mutation { TestDeviceCreate(data: {name: {value: \"dev3\"}, "
	        "object_template: {hfid: [\"edge\"]}, interfaces: []}) "
	        "{ ok } }");
	assert_int_equal(srv_count_of(f->app, NULL, "TestInterface"), 4);
	d = srv_gql(f->app, NULL,
	            "mutation { TestDeviceCreate(data: {name: {value: "
	            "\"dev4\"}, object_template: {hfid: [\"nope\"]}}) { ok } }",
	            NULL);
	assert_string_equal(srv_str_at(d, "errors.0.message"),
	                    "Unable to find the object template in the "
	                    "database '['nope']' at object_template");
	json_decref(d);
}

/*
 * The relationship whose pool the template names: Infrahub 1.8 generates
 * <rel>_from_resource_pool on templates for relationships to IP kinds and
 * Number attributes. Where this schema processing does not yet, an
 * extension declares such a pair (names of at most 32 characters).
 */
static const char *pool_rels(struct fx *f)
{
	if (has_rel(f, "TemplateTestDevice",
	            "primary_address_from_resource_pool") &&
	    has_rel(f, "TemplateTestDevice", "asn_from_resource_pool"))
		return "primary_address";
	srv_load_schema_file(f->app, "pools/template_pool_rels.json");
	assert_true(
	        has_rel(f, "TemplateTestDevice", "mgmt_from_resource_pool"));
	return "mgmt";
}

static void test_srv_instantiate__template_pools(void **state)
{
	struct fx *f = *state;
	char q[2048], pfx[64], pool[64], npool[64], tmpl[64], addr[64], p[256];
	const char *rel = pool_rels(f);
	json_t *d;

	srv_q_str(f->app, NULL,
	          "mutation { IpamPrefixCreate(data: {prefix: {value: "
	          "\"172.16.1.0/24\"}, member_type: {value: \"prefix\"}}) { ok "
	          "object { id } } }",
	          "IpamPrefixCreate.object.id", pfx, sizeof(pfx));
	snprintf(q, sizeof(q),
	         "mutation { CoreIPAddressPoolCreate(data: {name: {value: "
	         "\"Management IP pool\"}, default_address_type: {value: "
	         "\"IpamIPAddress\"}, resources: [{id: \"%s\"}], ip_namespace: "
	         "{id: \"default\"}}) { ok object { id } } }",
	         pfx);
	srv_q_str(f->app, NULL, q, "CoreIPAddressPoolCreate.object.id", pool,
	          sizeof(pool));
	srv_q_str(f->app, NULL,
	          "mutation { CoreNumberPoolCreate(data: {name: {value: "
	          "\"asns\"}, "
	          "node: {value: \"TestDevice\"}, node_attribute: {value: "
	          "\"asn\"}, start_range: {value: 65000}, end_range: {value: "
	          "65100}}) { ok object { id } } }",
	          "CoreNumberPoolCreate.object.id", npool, sizeof(npool));
	/* on a template, from_pool names the pool for the instances */
	snprintf(q, sizeof(q),
	         "mutation { TemplateTestDeviceCreate(data: {template_name: "
	         "{value: \"router\"}, %s: {from_pool: {id: \"%s\"}}, "
	         "asn_from_resource_pool: {id: \"%s\"}}) { ok object "
	         "{ id %s { node { id } } %s_from_resource_pool { node { id } "
	         "} } } }",
	         rel, pool, npool, rel, rel);
	d = srv_ok(f->app, NULL, q);
	snprintf(p, sizeof(p), "TemplateTestDeviceCreate.object.%s.node", rel);
	assert_true(srv_null_at(d, p));
	snprintf(
	        p, sizeof(p),
	        "TemplateTestDeviceCreate.object.%s_from_resource_pool.node.id",
	        rel);
	assert_string_equal(srv_str_at(d, p), pool);
	snprintf(tmpl, sizeof(tmpl), "%s",
	         srv_str_at(d, "TemplateTestDeviceCreate.object.id"));
	json_decref(d);
	assert_int_equal(srv_count_of(f->app, NULL, "IpamIPAddress"), 0);

	snprintf(q, sizeof(q),
	         "mutation { r1: TestDeviceUpsert(data: {name: {value: "
	         "\"r1\"}, object_template: {id: \"%s\"}}) { ok object { asn "
	         "{ value source { id } } a: %s { node { id display_label } "
	         "properties { source { id } } } } } }",
	         tmpl, rel);
	d = srv_ok(f->app, NULL, q);
	assert_string_equal(srv_str_at(d, "r1.object.a.node.display_label"),
	                    "172.16.1.1/24");
	assert_string_equal(srv_str_at(d, "r1.object.a.properties.source.id"),
	                    pool);
	assert_int_equal(srv_int_at(d, "r1.object.asn.value"), 65000);
	assert_string_equal(srv_str_at(d, "r1.object.asn.source.id"), npool);
	snprintf(addr, sizeof(addr), "%s",
	         srv_str_at(d, "r1.object.a.node.id"));
	json_decref(d);
	/* the same node again: no new allocation */
	d = srv_ok(f->app, NULL, q);
	assert_string_equal(srv_str_at(d, "r1.object.a.node.id"), addr);
	json_decref(d);
	snprintf(q, sizeof(q),
	         "mutation { TestDeviceCreate(data: {name: {value: \"r2\"}, "
	         "object_template: {id: \"%s\"}}) { ok object { asn { value } "
	         "a: %s { node { display_label } } } } }",
	         tmpl, rel);
	d = srv_ok(f->app, NULL, q);
	assert_string_equal(
	        srv_str_at(d, "TestDeviceCreate.object.a.node.display_label"),
	        "172.16.1.2/24");
	assert_int_equal(srv_int_at(d, "TestDeviceCreate.object.asn.value"),
	                 65001);
	json_decref(d);
	assert_int_equal(srv_count_of(f->app, NULL, "IpamIPAddress"), 2);
}

static void profiles(struct fx *f, char *p1, char *p2)
{
	srv_q_str(f->app, NULL,
	          "mutation { ProfileTestInterfaceCreate(data: {profile_name: "
	          "{value: \"jumbo\"}, mtu: {value: 9000}, speed: {value: "
	          "10000}}) { ok object { id } } }",
	          "ProfileTestInterfaceCreate.object.id", p1, 64);
	srv_q_str(f->app, NULL,
	          "mutation { ProfileTestInterfaceCreate(data: {profile_name: "
	          "{value: \"transit\"}, profile_priority: {value: 500}, mtu: "
	          "{value: 1400}, description: {value: \"to transit\"}}) { ok "
	          "object { id } } }",
	          "ProfileTestInterfaceCreate.object.id", p2, 64);
	srv_run(f->app, NULL,
	        "mutation { TestDeviceCreate(data: {name: {value: \"dev1\"}}) "
	        "{ ok } }");
}

static const char ifq[] =
        "query { TestInterface(name__value: \"%s\") { edges { node { "
        "mtu { value is_from_profile is_default source { id } } "
        "speed { value is_from_profile } "
        "description { value is_from_profile } } } } }";

static json_t *iface(struct fx *f, const char *name)
{
	char q[512];

	snprintf(q, sizeof(q), ifq, name);
	return srv_ok(f->app, NULL, q);
}

#define MTU  "TestInterface.edges.0.node.mtu."
#define DESC "TestInterface.edges.0.node.description."

static void test_srv_instantiate__profiles(void **state)
{
	struct fx *f = *state;
	char p1[64], p2[64], q[1024];
	json_t *d;

	profiles(f, p1, p2);
	/* transit (priority 500) wins over jumbo (1000) */
	srv_run(f->app, NULL,
	        "mutation { TestInterfaceCreate(data: {name: {value: \"e1\"}, "
	        "device: {hfid: [\"dev1\"]}, profiles: [{id: \"jumbo\"}, "
	        "{id: \"transit\"}]}) { ok } }");
	d = iface(f, "e1");
	assert_int_equal(srv_int_at(d, MTU "value"), 1400);
	assert_true(json_is_true(srv_at(d, MTU "is_from_profile")));
	assert_false(json_is_true(srv_at(d, MTU "is_default")));
	assert_string_equal(srv_str_at(d, MTU "source.id"), p2);
	assert_string_equal(srv_str_at(d, DESC "value"), "to transit");
	/* only jumbo sets speed */
	assert_int_equal(
	        srv_int_at(d, "TestInterface.edges.0.node.speed.value"), 10000);
	json_decref(d);
	/* a value of its own wins */
	srv_run(f->app, NULL,
	        "mutation { TestInterfaceCreate(data: {name: {value: \"e2\"}, "
	        "mtu: {value: 1500}, device: {hfid: [\"dev1\"]}, profiles: "
	        "[{id: \"transit\"}]}) { ok } }");
	d = iface(f, "e2");
	assert_int_equal(srv_int_at(d, MTU "value"), 1500);
	assert_false(json_is_true(srv_at(d, MTU "is_from_profile")));
	json_decref(d);
	/* filters see profile values */
	d = srv_ok(f->app, NULL,
	           "query { TestInterface(mtu__value: 1400) { count } }");
	assert_int_equal(srv_int_at(d, "TestInterface.count"), 1);
	json_decref(d);

	/* changing the profile changes its nodes */
	snprintf(
	        q, sizeof(q),
	        "mutation { ProfileTestInterfaceUpdate(data: {id: \"%s\", mtu: "
	        "{value: 1300}}) { ok } }",
	        p2);
	srv_run(f->app, NULL, q);
	d = iface(f, "e1");
	assert_int_equal(srv_int_at(d, MTU "value"), 1300);
	json_decref(d);
	/* priority: jumbo first now */
	snprintf(q, sizeof(q),
	         "mutation { ProfileTestInterfaceUpdate(data: {id: \"%s\", "
	         "profile_priority: {value: 100}}) { ok } }",
	         p1);
	srv_run(f->app, NULL, q);
	d = iface(f, "e1");
	assert_int_equal(srv_int_at(d, MTU "value"), 9000);
	assert_string_equal(srv_str_at(d, MTU "source.id"), p1);
	assert_string_equal(srv_str_at(d, DESC "value"), "to transit");
	json_decref(d);

	/* the node's own value replaces the profile's, and back */
	srv_run(f->app, NULL,
	        "mutation { TestInterfaceUpdate(data: {hfid: [\"dev1\", "
	        "\"e1\"], mtu: {value: 2000}}) { ok } }");
	d = iface(f, "e1");
	assert_int_equal(srv_int_at(d, MTU "value"), 2000);
	assert_false(json_is_true(srv_at(d, MTU "is_from_profile")));
	assert_true(srv_null_at(d, MTU "source"));
	json_decref(d);
	srv_run(f->app, NULL,
	        "mutation { TestInterfaceUpdate(data: {hfid: [\"dev1\", "
	        "\"e1\"], mtu: {is_default: true}}) { ok } }");
	d = iface(f, "e1");
	assert_int_equal(srv_int_at(d, MTU "value"), 9000);
	assert_true(json_is_true(srv_at(d, MTU "is_from_profile")));
	json_decref(d);

	/* unlinking transit: its description goes, back to the default */
	srv_run(f->app, NULL,
	        "mutation { TestInterfaceUpdate(data: {hfid: [\"dev1\", "
	        "\"e1\"], profiles: [{id: \"jumbo\"}]}) { ok } }");
	d = iface(f, "e1");
	assert_true(srv_null_at(d, DESC "value"));
	assert_false(json_is_true(srv_at(d, DESC "is_from_profile")));
	json_decref(d);
	/* deleting jumbo: the default mtu again */
	snprintf(q, sizeof(q),
	         "mutation { ProfileTestInterfaceDelete(data: {id: \"%s\"}) "
	         "{ ok } }",
	         p1);
	srv_run(f->app, NULL, q);
	d = iface(f, "e1");
	assert_int_equal(srv_int_at(d, MTU "value"), 1500);
	assert_true(json_is_true(srv_at(d, MTU "is_default")));
	assert_false(json_is_true(srv_at(d, MTU "is_from_profile")));
	json_decref(d);
	/* RelationshipAdd on the profile side applies too */
	snprintf(q, sizeof(q),
	         "mutation { RelationshipAdd(data: {id: \"%s\", name: "
	         "\"related_nodes\", nodes: [{hfid: [\"dev1\", \"e1\"]}]}) "
	         "{ ok } }",
	         p2);
	srv_run(f->app, NULL, q);
	d = iface(f, "e1");
	assert_int_equal(srv_int_at(d, MTU "value"), 1300);
	json_decref(d);
}

/* Profiles carried over from a component template (the demo's case). */
static void test_srv_instantiate__template_profiles(void **state)
{
	struct fx *f = *state;
	char p1[64], p2[64], tmpl[64], q[1024];
	json_t *d;

	if (!has_rel(f, "TemplateTestInterface", "profiles")) {
		fprintf(stderr, "skipped: TemplateTestInterface has no "
		                "profiles relationship in this schema\n");
		skip();
	}
	profiles(f, p1, p2);
	srv_q_str(f->app, NULL,
	          "mutation { TemplateTestDeviceCreate(data: {template_name: "
	          "{value: \"router\"}}) { ok object { id } } }",
	          "TemplateTestDeviceCreate.object.id", tmpl, sizeof(tmpl));
	snprintf(q, sizeof(q),
	         "mutation { TemplateTestInterfaceCreate(data: {template_name: "
	         "{value: \"r-eth1\"}, name: {value: \"eth1\"}, speed: {value: "
	         "1000}, profiles: [{id: \"transit\"}], device: {id: \"%s\"}}) "
	         "{ ok } }",
	         tmpl);
	srv_run(f->app, NULL, q);
	srv_run(f->app, NULL,
	        "mutation { TestDeviceCreate(data: {name: {value: \"r1\"}, "
	        "object_template: {hfid: [\"router\"]}}) { ok } }");
	d = iface(f, "eth1");
	assert_int_equal(srv_int_at(d, MTU "value"), 1400);
	assert_true(json_is_true(srv_at(d, MTU "is_from_profile")));
	assert_int_equal(
	        srv_int_at(d, "TestInterface.edges.0.node.speed.value"), 1000);
	json_decref(d);
}

static void locations(struct fx *f)
{
	srv_run(f->app, NULL,
	        "mutation {"
	        " c: TestCountryCreate(data: {name: {value: \"France\"}, "
	        "shortname: {value: \"fr\"}}) { ok }"
	        " m: TestMetroCreate(data: {name: {value: \"Paris\"}, "
	        "shortname: "
	        "{value: \"par\"}, parent: {hfid: [\"fr\"]}}) { ok }"
	        " s1: TestSiteCreate(data: {name: {value: \"Paris 1\"}, "
	        "shortname: {value: \"par01\"}, parent: {hfid: [\"par\"]}}) "
	        "{ ok }"
	        " s2: TestSiteCreate(data: {name: {value: \"Paris 2\"}, "
	        "shortname: {value: \"par02\"}, parent: {hfid: [\"par\"]}}) "
	        "{ ok }"
	        " d1: TestDeviceCreate(data: {name: {value: \"d1\"}, location: "
	        "{hfid: [\"par01\"]}}) { ok }"
	        " d2: TestDeviceCreate(data: {name: {value: \"d2\"}, location: "
	        "{hfid: [\"par02\"]}}) { ok }"
	        " d3: TestDeviceCreate(data: {name: {value: \"d3\"}, location: "
	        "{hfid: [\"fr\"]}}) { ok } }");
}

static void test_srv_instantiate__hierarchy(void **state)
{
	struct fx *f = *state;
	json_t *d;

	locations(f);
	d = srv_ok(f->app, NULL,
	           "query { TestSite(shortname__value: \"par01\") { edges { "
	           "node { ancestors { count edges { node { __typename "
	           "shortname { value } } } } descendants { count } parent { "
	           "node { display_label } } } } } }");
	assert_int_equal(srv_int_at(d, "TestSite.edges.0.node.ancestors.count"),
	                 2);
	assert_string_equal(
	        srv_str_at(d, "TestSite.edges.0.node.ancestors.edges.0."
	                      "node.shortname.value"),
	        "fr");
	assert_string_equal(
	        srv_str_at(d, "TestSite.edges.0.node.ancestors.edges.1."
	                      "node.__typename"),
	        "TestMetro");
	assert_int_equal(
	        srv_int_at(d, "TestSite.edges.0.node.descendants.count"), 0);
	json_decref(d);
	d = srv_ok(f->app, NULL,
	           "query { TestCountry { edges { node { descendants { count } "
	           "sites: descendants(shortname__values: [\"par01\", "
	           "\"par02\"]) { count edges { node { display_label } } } "
	           "devices { count } all: devices(include_descendants: true) "
	           "{ count edges { node { name { value } } } } } } } }");
	assert_int_equal(
	        srv_int_at(d, "TestCountry.edges.0.node.descendants.count"), 3);
	assert_int_equal(srv_int_at(d, "TestCountry.edges.0.node.sites.count"),
	                 2);
	assert_string_equal(srv_str_at(d,
	                               "TestCountry.edges.0.node.sites.edges.1."
	                               "node.display_label"),
	                    "Paris 2");
	assert_int_equal(
	        srv_int_at(d, "TestCountry.edges.0.node.devices.count"), 1);
	assert_int_equal(srv_int_at(d, "TestCountry.edges.0.node.all.count"),
	                 3);
	json_decref(d);
	/* the generic answers the same */
	d = srv_ok(f->app, NULL,
	           "query { TestLocation(shortname__value: \"par\") { edges { "
	           "node { ancestors { count } descendants { count } "
	           "devices(include_descendants: true) { count } } } } }");
	assert_int_equal(
	        srv_int_at(d, "TestLocation.edges.0.node.ancestors.count"), 1);
	assert_int_equal(
	        srv_int_at(d, "TestLocation.edges.0.node.descendants.count"),
	        2);
	assert_int_equal(
	        srv_int_at(d, "TestLocation.edges.0.node.devices.count"), 2);
	json_decref(d);
	/* not a hierarchy: no such field */
	d = srv_gql(f->app, NULL,
	            "query { TestDevice { edges { node { ancestors { count } } "
	            "} } }",
	            NULL);
	assert_string_equal(srv_str_at(d, "errors.0.message"),
	                    "Cannot query field 'ancestors' on type "
	                    "'TestDevice'.");
	json_decref(d);
}

static void test_srv_instantiate__metadata_and_delete(void **state)
{
	struct fx *f = *state;
	json_t *d;

	locations(f);
	d = srv_ok(f->app, NULL,
	           "query { TestDevice(name__value: \"d1\") { edges { "
	           "node_metadata { created_at updated_at created_by { id } } "
	           "node { node_metadata { created_at updated_at __typename } "
	           "location { node { id } node_metadata { created_at } "
	           "relationship_metadata { updated_at updated_by { id } } } } "
	           "} } }");
	assert_non_null(srv_str_at(d, "TestDevice.edges.0.node_metadata."
	                              "created_at"));
	assert_true(
	        srv_null_at(d, "TestDevice.edges.0.node_metadata.created_by"));
	assert_string_equal(
	        srv_str_at(d, "TestDevice.edges.0.node.node_metadata."
	                      "created_at"),
	        srv_str_at(d, "TestDevice.edges.0.node.node_metadata."
	                      "updated_at"));
	assert_string_equal(srv_str_at(d,
	                               "TestDevice.edges.0.node.node_metadata."
	                               "__typename"),
	                    "NodeMetadata");
	assert_non_null(srv_str_at(d, "TestDevice.edges.0.node.location."
	                              "node_metadata.created_at"));
	json_decref(d);
	/* Delete by HFID */
	srv_run(f->app, NULL,
	        "mutation { TestDeviceDelete(data: {hfid: [\"d1\"]}) { ok } }");
	assert_int_equal(srv_count_of(f->app, NULL, "TestDevice"), 2);
	d = srv_gql(f->app, NULL,
	            "mutation { TestDeviceDelete(data: {hfid: [\"d1\"]}) "
	            "{ ok } }",
	            NULL);
	assert_string_equal(srv_str_at(d, "errors.0.message"),
	                    "Unable to find the node ['d1'] / TestDevice in "
	                    "the database.");
	json_decref(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		        test_srv_instantiate__components, setup,
		        srv_fx_teardown),
		cmocka_unit_test_setup_teardown(
		        test_srv_instantiate__upsert_once, setup,
		        srv_fx_teardown),
		cmocka_unit_test_setup_teardown(
		        test_srv_instantiate__template_pools, setup,
		        srv_fx_teardown),
		cmocka_unit_test_setup_teardown(test_srv_instantiate__profiles,
		                                setup, srv_fx_teardown),
		cmocka_unit_test_setup_teardown(
		        test_srv_instantiate__template_profiles, setup,
		        srv_fx_teardown),
		cmocka_unit_test_setup_teardown(test_srv_instantiate__hierarchy,
		                                setup, srv_fx_teardown),
		cmocka_unit_test_setup_teardown(
		        test_srv_instantiate__metadata_and_delete, setup,
		        srv_fx_teardown),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
