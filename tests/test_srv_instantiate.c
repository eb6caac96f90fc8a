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
#include "testutil.h"

struct fx {
	hfs_app *app;
};

static json_t *rest(hfs_app *app, const char *method, const char *path,
                    const char *body, int *status)
{
	struct hfs_request rq;
	struct hfs_response rs;
	json_t *res = NULL;

	memset(&rq, 0, sizeof(rq));
	memset(&rs, 0, sizeof(rs));
	rq.method = method;
	rq.path = path;
	rq.body = body;
	rq.body_len = body ? strlen(body) : 0;
	hfs_app_handle(app, &rq, &rs);
	*status = rs.status;
	if (rs.body && *rs.body)
		res = json_loads(rs.body, JSON_DECODE_ANY, NULL);
	hf_free(rs.body);
	return res;
}

static json_t *gql(struct fx *f, const char *q)
{
	struct hfs_request rq;
	struct hfs_response rs;
	json_t *body = json_pack("{ss}", "query", q), *res;
	char *text = json_dumps(body, 0);

	json_decref(body);
	memset(&rq, 0, sizeof(rq));
	memset(&rs, 0, sizeof(rs));
	rq.method = "POST";
	rq.path = "/graphql";
	rq.body = text;
	rq.body_len = strlen(text);
	hfs_app_handle(f->app, &rq, &rs);
	free(text);
	assert_int_equal(rs.status, 200);
	res = json_loads(rs.body, 0, NULL);
	if (!res)
		fprintf(stderr, "bad JSON: %s\n", rs.body);
	hf_free(rs.body);
	assert_non_null(res);
	return res;
}

static json_t *ok(struct fx *f, const char *q)
{
	json_t *res = gql(f, q), *data;

	if (json_object_get(res, "errors")) {
		char *t = json_dumps(res, 0);

		fprintf(stderr, "unexpected errors for %s\n%s\n", q, t);
		free(t);
		fail();
	}
	data = json_incref(json_object_get(res, "data"));
	json_decref(res);
	return data;
}

static void run(struct fx *f, const char *q)
{
	json_decref(ok(f, q));
}

static json_t *at(json_t *v, const char *path)
{
	char buf[512], *p, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = strtok_r(buf, ".", &save); p && v;
	     p = strtok_r(NULL, ".", &save)) {
		if (json_is_array(v))
			v = json_array_get(v, (size_t)strtoul(p, NULL, 10));
		else
			v = json_object_get(v, p);
	}
	return v;
}

static const char *str_at(json_t *v, const char *path)
{
	return json_string_value(at(v, path));
}

/* Absent or JSON null. */
static int null_at(json_t *v, const char *path)
{
	json_t *x = at(v, path);

	return !x || json_is_null(x);
}

static long long int_at(json_t *v, const char *path)
{
	return json_integer_value(at(v, path));
}

static void q_str(struct fx *f, const char *q, const char *path, char *out,
                  size_t len)
{
	json_t *d = ok(f, q);
	const char *s = str_at(d, path);

	assert_non_null(s);
	snprintf(out, len, "%s", s);
	json_decref(d);
}

static void load_schema(struct fx *f, const char *file)
{
	char path[512], *text;
	json_t *res;
	int status;

	snprintf(path, sizeof(path), "%s/pools/%s", hf_test_data(), file);
	text = hf_read_file(path, NULL);
	assert_non_null(text);
	res = rest(f->app, "POST", "/api/schema/load", text, &status);
	if (status != 200) {
		char *t = json_dumps(res, 0);

		fprintf(stderr, "schema load: %d %s\n", status, t);
		free(t);
	}
	assert_int_equal(status, 200);
	json_decref(res);
	hf_free(text);
}

/* Whether the processed schema gives `kind` a relationship `rel`. */
static int has_rel(struct fx *f, const char *kind, const char *rel)
{
	char path[256];
	json_t *res, *r;
	size_t i;
	int status, found = 0;

	snprintf(path, sizeof(path), "/api/schema/%s", kind);
	res = rest(f->app, "GET", path, NULL, &status);
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
	struct hf_server_options o = HF_SERVER_OPTIONS_INIT;
	struct fx *f = calloc(1, sizeof(*f));
	hf_error err = HF_ERROR_INIT;

	o.data = ":memory:";
	if (hfs_app_open(&f->app, &o, &err) < 0)
		fprintf(stderr, "open: %s\n", err.msg);
	assert_non_null(f->app);
	load_schema(f, "schema.json");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	hfs_app_close(f->app);
	free(f);
	return 0;
}

/* A device template "edge" with two interface component templates. */
static void edge_template(struct fx *f, char *tmpl)
{
	char q[1024];

	run(f, "mutation { BuiltinTagCreate(data: {name: {value: \"blue\"}}) "
	       "{ ok } g: CoreStandardGroupCreate(data: {name: {value: "
	       "\"edges\"}}) { ok } }");
	q_str(f,
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
	run(f, q);
}

static long long count_of(struct fx *f, const char *kind)
{
	char q[256];
	json_t *d;
	long long n;

	snprintf(q, sizeof(q), "query { %s { count } }", kind);
	d = ok(f, q);
	snprintf(q, sizeof(q), "%s.count", kind);
	n = int_at(d, q);
	json_decref(d);
	return n;
}

static void test_srv_instantiate__components(void **state)
{
	struct fx *f = *state;
	char tmpl[64], dev[64];
	json_t *d;

	edge_template(f, tmpl);
	q_str(f,
	      "mutation { TestDeviceCreate(data: {name: {value: \"dev1\"}, "
	      "object_template: {hfid: [\"edge\"]}}) { ok object { id } } }",
	      "TestDeviceCreate.object.id", dev, sizeof(dev));
	d = ok(f, "query { TestDevice { edges { node { id name { value } "
	          "role { value is_default source { id } } status { value } "
	          "tags { count edges { node { display_label } } } "
	          "member_of_groups { count } "
	          "object_template { node { id } } interfaces { count edges "
	          "{ node { name { value } speed { value source { id } } "
	          "description { value } enabled { value is_default } "
	          "mtu { value is_default } device { node { id } } } } } } } "
	          "} }");
	assert_string_equal(str_at(d, "TestDevice.edges.0.node.role.value"),
	                    "edge");
	assert_false(
	        json_is_true(at(d, "TestDevice.edges.0.node.role.is_default")));
	assert_string_equal(str_at(d, "TestDevice.edges.0.node.role.source.id"),
	                    tmpl);
	assert_string_equal(str_at(d, "TestDevice.edges.0.node.status.value"),
	                    "active");
	assert_int_equal(int_at(d, "TestDevice.edges.0.node.tags.count"), 1);
	/* the template's groups for instances: the instance's groups */
	assert_int_equal(
	        int_at(d, "TestDevice.edges.0.node.member_of_groups.count"), 1);
	assert_string_equal(
	        str_at(d, "TestDevice.edges.0.node.object_template.node.id"),
	        tmpl);
	assert_int_equal(int_at(d, "TestDevice.edges.0.node.interfaces.count"),
	                 2);
	assert_string_equal(
	        str_at(d, "TestDevice.edges.0.node.interfaces.edges.0.node."
	                  "name.value"),
	        "eth1");
	assert_int_equal(int_at(d, "TestDevice.edges.0.node.interfaces.edges.0."
	                           "node.speed.value"),
	                 1000);
	assert_string_equal(
	        str_at(d, "TestDevice.edges.0.node.interfaces.edges.0.node."
	                  "description.value"),
	        "uplink");
	assert_string_equal(
	        str_at(d, "TestDevice.edges.0.node.interfaces.edges.0.node."
	                  "device.node.id"),
	        dev);
	/* what the component template did not set stays the default */
	assert_true(json_is_true(at(d, "TestDevice.edges.0.node.interfaces."
	                               "edges.0.node.mtu.is_default")));
	assert_true(json_is_true(at(d, "TestDevice.edges.0.node.interfaces."
	                               "edges.1.node.enabled.value")));
	assert_string_equal(
	        str_at(d, "TestDevice.edges.0.node.interfaces.edges.1.node."
	                  "name.value"),
	        "eth2");
	json_decref(d);
	assert_int_equal(count_of(f, "TestInterface"), 2);
	/* the HFID of a component names its new parent */
	d = ok(f, "query { TestInterface(hfid: [\"dev1\", \"eth2\"]) { count "
	          "edges { node { hfid } } } }");
	assert_int_equal(int_at(d, "TestInterface.count"), 1);
	json_decref(d);
}

static void test_srv_instantiate__upsert_once(void **state)
{
	struct fx *f = *state;
	char tmpl[64];
	json_t *d;
	const char *up = "mutation { TestDeviceUpsert(data: {name: {value: "
	                 "\"dev1\"}, object_template: {hfid: [\"edge\"]}}) { ok "
	                 "object { id } } }";

	edge_template(f, tmpl);
	run(f, up);
	run(f, up);
	run(f, up);
	assert_int_equal(count_of(f, "TestDevice"), 1);
	assert_int_equal(count_of(f, "TestInterface"), 2);
	run(f, "mutation { TestDeviceUpsert(data: {name: {value: \"dev2\"}, "
	       "role: {value: \"core\"}, object_template: {hfid: [\"edge\"]}}) "
	       "{ ok } }");
	assert_int_equal(count_of(f, "TestInterface"), 4);
	/* what the input sets wins over the template */
	d = ok(f, "query { TestDevice(name__value: \"dev2\") { edges { node { "
	          "role { value source { id } } } } } }");
	assert_string_equal(str_at(d, "TestDevice.edges.0.node.role.value"),
	                    "core");
	assert_true(null_at(d, "TestDevice.edges.0.node.role.source"));
	json_decref(d);
	/* interfaces given by the input: no component is instantiated */
	run(f, "mutation { TestDeviceCreate(data: {name: {value: \"dev3\"}, "
	       "object_template: {hfid: [\"edge\"]}, interfaces: []}) { ok } }");
	assert_int_equal(count_of(f, "TestInterface"), 4);
	d = gql(f, "mutation { TestDeviceCreate(data: {name: {value: "
	           "\"dev4\"}, object_template: {hfid: [\"nope\"]}}) { ok } }");
	assert_string_equal(str_at(d, "errors.0.message"),
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
	load_schema(f, "template_pool_rels.json");
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

	q_str(f,
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
	q_str(f, q, "CoreIPAddressPoolCreate.object.id", pool, sizeof(pool));
	q_str(f,
	      "mutation { CoreNumberPoolCreate(data: {name: {value: \"asns\"}, "
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
	d = ok(f, q);
	snprintf(p, sizeof(p), "TemplateTestDeviceCreate.object.%s.node", rel);
	assert_true(null_at(d, p));
	snprintf(
	        p, sizeof(p),
	        "TemplateTestDeviceCreate.object.%s_from_resource_pool.node.id",
	        rel);
	assert_string_equal(str_at(d, p), pool);
	snprintf(tmpl, sizeof(tmpl), "%s",
	         str_at(d, "TemplateTestDeviceCreate.object.id"));
	json_decref(d);
	assert_int_equal(count_of(f, "IpamIPAddress"), 0);

	snprintf(q, sizeof(q),
	         "mutation { r1: TestDeviceUpsert(data: {name: {value: "
	         "\"r1\"}, object_template: {id: \"%s\"}}) { ok object { asn "
	         "{ value source { id } } a: %s { node { id display_label } "
	         "properties { source { id } } } } } }",
	         tmpl, rel);
	d = ok(f, q);
	assert_string_equal(str_at(d, "r1.object.a.node.display_label"),
	                    "172.16.1.1/24");
	assert_string_equal(str_at(d, "r1.object.a.properties.source.id"),
	                    pool);
	assert_int_equal(int_at(d, "r1.object.asn.value"), 65000);
	assert_string_equal(str_at(d, "r1.object.asn.source.id"), npool);
	snprintf(addr, sizeof(addr), "%s", str_at(d, "r1.object.a.node.id"));
	json_decref(d);
	/* the same node again: no new allocation */
	d = ok(f, q);
	assert_string_equal(str_at(d, "r1.object.a.node.id"), addr);
	json_decref(d);
	snprintf(q, sizeof(q),
	         "mutation { TestDeviceCreate(data: {name: {value: \"r2\"}, "
	         "object_template: {id: \"%s\"}}) { ok object { asn { value } "
	         "a: %s { node { display_label } } } } }",
	         tmpl, rel);
	d = ok(f, q);
	assert_string_equal(
	        str_at(d, "TestDeviceCreate.object.a.node.display_label"),
	        "172.16.1.2/24");
	assert_int_equal(int_at(d, "TestDeviceCreate.object.asn.value"), 65001);
	json_decref(d);
	assert_int_equal(count_of(f, "IpamIPAddress"), 2);
}

static void profiles(struct fx *f, char *p1, char *p2)
{
	q_str(f,
	      "mutation { ProfileTestInterfaceCreate(data: {profile_name: "
	      "{value: \"jumbo\"}, mtu: {value: 9000}, speed: {value: "
	      "10000}}) { ok object { id } } }",
	      "ProfileTestInterfaceCreate.object.id", p1, 64);
	q_str(f,
	      "mutation { ProfileTestInterfaceCreate(data: {profile_name: "
	      "{value: \"transit\"}, profile_priority: {value: 500}, mtu: "
	      "{value: 1400}, description: {value: \"to transit\"}}) { ok "
	      "object { id } } }",
	      "ProfileTestInterfaceCreate.object.id", p2, 64);
	run(f, "mutation { TestDeviceCreate(data: {name: {value: \"dev1\"}}) "
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
	return ok(f, q);
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
	run(f, "mutation { TestInterfaceCreate(data: {name: {value: \"e1\"}, "
	       "device: {hfid: [\"dev1\"]}, profiles: [{id: \"jumbo\"}, "
	       "{id: \"transit\"}]}) { ok } }");
	d = iface(f, "e1");
	assert_int_equal(int_at(d, MTU "value"), 1400);
	assert_true(json_is_true(at(d, MTU "is_from_profile")));
	assert_false(json_is_true(at(d, MTU "is_default")));
	assert_string_equal(str_at(d, MTU "source.id"), p2);
	assert_string_equal(str_at(d, DESC "value"), "to transit");
	/* only jumbo sets speed */
	assert_int_equal(int_at(d, "TestInterface.edges.0.node.speed.value"),
	                 10000);
	json_decref(d);
	/* a value of its own wins */
	run(f, "mutation { TestInterfaceCreate(data: {name: {value: \"e2\"}, "
	       "mtu: {value: 1500}, device: {hfid: [\"dev1\"]}, profiles: "
	       "[{id: \"transit\"}]}) { ok } }");
	d = iface(f, "e2");
	assert_int_equal(int_at(d, MTU "value"), 1500);
	assert_false(json_is_true(at(d, MTU "is_from_profile")));
	json_decref(d);
	/* filters see profile values */
	d = ok(f, "query { TestInterface(mtu__value: 1400) { count } }");
	assert_int_equal(int_at(d, "TestInterface.count"), 1);
	json_decref(d);

	/* changing the profile changes its nodes */
	snprintf(
	        q, sizeof(q),
	        "mutation { ProfileTestInterfaceUpdate(data: {id: \"%s\", mtu: "
	        "{value: 1300}}) { ok } }",
	        p2);
	run(f, q);
	d = iface(f, "e1");
	assert_int_equal(int_at(d, MTU "value"), 1300);
	json_decref(d);
	/* priority: jumbo first now */
	snprintf(q, sizeof(q),
	         "mutation { ProfileTestInterfaceUpdate(data: {id: \"%s\", "
	         "profile_priority: {value: 100}}) { ok } }",
	         p1);
	run(f, q);
	d = iface(f, "e1");
	assert_int_equal(int_at(d, MTU "value"), 9000);
	assert_string_equal(str_at(d, MTU "source.id"), p1);
	assert_string_equal(str_at(d, DESC "value"), "to transit");
	json_decref(d);

	/* the node's own value replaces the profile's, and back */
	run(f, "mutation { TestInterfaceUpdate(data: {hfid: [\"dev1\", "
	       "\"e1\"], mtu: {value: 2000}}) { ok } }");
	d = iface(f, "e1");
	assert_int_equal(int_at(d, MTU "value"), 2000);
	assert_false(json_is_true(at(d, MTU "is_from_profile")));
	assert_true(null_at(d, MTU "source"));
	json_decref(d);
	run(f, "mutation { TestInterfaceUpdate(data: {hfid: [\"dev1\", "
	       "\"e1\"], mtu: {is_default: true}}) { ok } }");
	d = iface(f, "e1");
	assert_int_equal(int_at(d, MTU "value"), 9000);
	assert_true(json_is_true(at(d, MTU "is_from_profile")));
	json_decref(d);

	/* unlinking transit: its description goes, back to the default */
	run(f, "mutation { TestInterfaceUpdate(data: {hfid: [\"dev1\", "
	       "\"e1\"], profiles: [{id: \"jumbo\"}]}) { ok } }");
	d = iface(f, "e1");
	assert_true(null_at(d, DESC "value"));
	assert_false(json_is_true(at(d, DESC "is_from_profile")));
	json_decref(d);
	/* deleting jumbo: the default mtu again */
	snprintf(q, sizeof(q),
	         "mutation { ProfileTestInterfaceDelete(data: {id: \"%s\"}) "
	         "{ ok } }",
	         p1);
	run(f, q);
	d = iface(f, "e1");
	assert_int_equal(int_at(d, MTU "value"), 1500);
	assert_true(json_is_true(at(d, MTU "is_default")));
	assert_false(json_is_true(at(d, MTU "is_from_profile")));
	json_decref(d);
	/* RelationshipAdd on the profile side applies too */
	snprintf(q, sizeof(q),
	         "mutation { RelationshipAdd(data: {id: \"%s\", name: "
	         "\"related_nodes\", nodes: [{hfid: [\"dev1\", \"e1\"]}]}) "
	         "{ ok } }",
	         p2);
	run(f, q);
	d = iface(f, "e1");
	assert_int_equal(int_at(d, MTU "value"), 1300);
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
	q_str(f,
	      "mutation { TemplateTestDeviceCreate(data: {template_name: "
	      "{value: \"router\"}}) { ok object { id } } }",
	      "TemplateTestDeviceCreate.object.id", tmpl, sizeof(tmpl));
	snprintf(q, sizeof(q),
	         "mutation { TemplateTestInterfaceCreate(data: {template_name: "
	         "{value: \"r-eth1\"}, name: {value: \"eth1\"}, speed: {value: "
	         "1000}, profiles: [{id: \"transit\"}], device: {id: \"%s\"}}) "
	         "{ ok } }",
	         tmpl);
	run(f, q);
	run(f, "mutation { TestDeviceCreate(data: {name: {value: \"r1\"}, "
	       "object_template: {hfid: [\"router\"]}}) { ok } }");
	d = iface(f, "eth1");
	assert_int_equal(int_at(d, MTU "value"), 1400);
	assert_true(json_is_true(at(d, MTU "is_from_profile")));
	assert_int_equal(int_at(d, "TestInterface.edges.0.node.speed.value"),
	                 1000);
	json_decref(d);
}

static void locations(struct fx *f)
{
	run(f,
	    "mutation {"
	    " c: TestCountryCreate(data: {name: {value: \"France\"}, "
	    "shortname: {value: \"fr\"}}) { ok }"
	    " m: TestMetroCreate(data: {name: {value: \"Paris\"}, shortname: "
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
	d = ok(f, "query { TestSite(shortname__value: \"par01\") { edges { "
	          "node { ancestors { count edges { node { __typename "
	          "shortname { value } } } } descendants { count } parent { "
	          "node { display_label } } } } } }");
	assert_int_equal(int_at(d, "TestSite.edges.0.node.ancestors.count"), 2);
	assert_string_equal(str_at(d, "TestSite.edges.0.node.ancestors.edges.0."
	                              "node.shortname.value"),
	                    "fr");
	assert_string_equal(str_at(d, "TestSite.edges.0.node.ancestors.edges.1."
	                              "node.__typename"),
	                    "TestMetro");
	assert_int_equal(int_at(d, "TestSite.edges.0.node.descendants.count"),
	                 0);
	json_decref(d);
	d = ok(f, "query { TestCountry { edges { node { descendants { count } "
	          "sites: descendants(shortname__values: [\"par01\", "
	          "\"par02\"]) { count edges { node { display_label } } } "
	          "devices { count } all: devices(include_descendants: true) "
	          "{ count edges { node { name { value } } } } } } } }");
	assert_int_equal(
	        int_at(d, "TestCountry.edges.0.node.descendants.count"), 3);
	assert_int_equal(int_at(d, "TestCountry.edges.0.node.sites.count"), 2);
	assert_string_equal(str_at(d, "TestCountry.edges.0.node.sites.edges.1."
	                              "node.display_label"),
	                    "Paris 2");
	assert_int_equal(int_at(d, "TestCountry.edges.0.node.devices.count"),
	                 1);
	assert_int_equal(int_at(d, "TestCountry.edges.0.node.all.count"), 3);
	json_decref(d);
	/* the generic answers the same */
	d = ok(f, "query { TestLocation(shortname__value: \"par\") { edges { "
	          "node { ancestors { count } descendants { count } "
	          "devices(include_descendants: true) { count } } } } }");
	assert_int_equal(int_at(d, "TestLocation.edges.0.node.ancestors.count"),
	                 1);
	assert_int_equal(
	        int_at(d, "TestLocation.edges.0.node.descendants.count"), 2);
	assert_int_equal(int_at(d, "TestLocation.edges.0.node.devices.count"),
	                 2);
	json_decref(d);
	/* not a hierarchy: no such field */
	d = gql(f, "query { TestDevice { edges { node { ancestors { count } } "
	           "} } }");
	assert_string_equal(str_at(d, "errors.0.message"),
	                    "Cannot query field 'ancestors' on type "
	                    "'TestDevice'.");
	json_decref(d);
}

static void test_srv_instantiate__metadata_and_delete(void **state)
{
	struct fx *f = *state;
	json_t *d;

	locations(f);
	d = ok(f, "query { TestDevice(name__value: \"d1\") { edges { "
	          "node_metadata { created_at updated_at created_by { id } } "
	          "node { node_metadata { created_at updated_at __typename } "
	          "location { node { id } node_metadata { created_at } "
	          "relationship_metadata { updated_at updated_by { id } } } } "
	          "} } }");
	assert_non_null(str_at(d, "TestDevice.edges.0.node_metadata."
	                          "created_at"));
	assert_true(null_at(d, "TestDevice.edges.0.node_metadata.created_by"));
	assert_string_equal(str_at(d, "TestDevice.edges.0.node.node_metadata."
	                              "created_at"),
	                    str_at(d, "TestDevice.edges.0.node.node_metadata."
	                              "updated_at"));
	assert_string_equal(str_at(d, "TestDevice.edges.0.node.node_metadata."
	                              "__typename"),
	                    "NodeMetadata");
	assert_non_null(str_at(d, "TestDevice.edges.0.node.location."
	                          "node_metadata.created_at"));
	json_decref(d);
	/* Delete by HFID */
	run(f, "mutation { TestDeviceDelete(data: {hfid: [\"d1\"]}) { ok } }");
	assert_int_equal(count_of(f, "TestDevice"), 2);
	d = gql(f, "mutation { TestDeviceDelete(data: {hfid: [\"d1\"]}) "
	           "{ ok } }");
	assert_string_equal(str_at(d, "errors.0.message"),
	                    "Unable to find the node ['d1'] / TestDevice in "
	                    "the database.");
	json_decref(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		        test_srv_instantiate__components, setup, teardown),
		cmocka_unit_test_setup_teardown(
		        test_srv_instantiate__upsert_once, setup, teardown),
		cmocka_unit_test_setup_teardown(
		        test_srv_instantiate__template_pools, setup, teardown),
		cmocka_unit_test_setup_teardown(test_srv_instantiate__profiles,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(
		        test_srv_instantiate__template_profiles, setup,
		        teardown),
		cmocka_unit_test_setup_teardown(test_srv_instantiate__hierarchy,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(
		        test_srv_instantiate__metadata_and_delete, setup,
		        teardown),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
