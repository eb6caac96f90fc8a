/*
 * Derived kinds and computed attributes of the local endpoint, on a small
 * schema (tests/data/templates/schema.json): object templates for a
 * generic component peer (one component template per implementation,
 * with the parent-first HFID), the template relationships (profiles,
 * *_from_resource_pool, *_for_instances, object_template), profiles,
 * hfid arguments on generated kinds, Jinja2 computed attributes with
 * filters and "or", recomputed when their sources change, and
 * TransformPython attributes left read-only and empty.
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
#include "../server/schema.h"
#include "hf/alloc.h"
#include "hf/server.h"
#include "srvapp.h"
#include "testutil.h"
#include "yaml2json.h"

/* ---- helpers ------------------------------------------------------------- */

static char *schema_text(void)
{
	char path[512];
	char *text;

	snprintf(path, sizeof(path), "%s/templates/schema.json",
	         hf_test_data());
	text = hf_read_file(path, NULL);
	assert_non_null(text);
	return text;
}

/* Core + the test schema, built as POST /api/schema/load does. */
static hfs_schema *load_schema(const char *text, json_t **resp, int *status)
{
	hfs_schema *core = NULL, *s = NULL;
	hf_error err = HF_ERROR_INIT;
	json_t *doc = json_loads(text, 0, NULL);
	json_t *req;

	assert_non_null(doc);
	req = json_pack("{s:[o]}", "schemas", doc);
	assert_int_equal(hfs_schema_new(&core, NULL, &err), 0);
	assert_int_equal(hfs_schema_load(&s, core, req, 0, resp, status, &err),
	                 0);
	json_decref(req);
	hfs_schema_free(core);
	return s;
}

/* Loading `doc` (case i) must be refused (422), the answer naming want. */
static void load_refused(const char *doc, const char *want, size_t i)
{
	json_t *resp = NULL;
	int status = 0;
	hfs_schema *s = load_schema(doc, &resp, &status);
	char *t = json_dumps(resp, 0);

	if (status != 422 || !strstr(t, want))
		fprintf(stderr, "case %zu: %d %s\n", i, status, t);
	assert_int_equal(status, 422);
	assert_non_null(strstr(t, want));
	assert_null(s);
	free(t);
	json_decref(resp);
}

static hfs_schema *schema(void)
{
	char *text = schema_text();
	json_t *resp = NULL;
	int status = 0;
	hfs_schema *s = load_schema(text, &resp, &status);

	if (status != 200) {
		char *t = json_dumps(resp, 0);

		fprintf(stderr, "schema load: %d %s\n", status, t);
		free(t);
	}
	assert_int_equal(status, 200);
	json_decref(resp);
	hf_free(text);
	return s;
}

static const struct hfs_kind *kind(const hfs_schema *s, const char *k)
{
	const struct hfs_kind *r = hfs_schema_kind(s, k);

	if (!r)
		fprintf(stderr, "no kind %s\n", k);
	assert_non_null(r);
	return r;
}

static const struct hfs_rel *rel(const struct hfs_kind *k, const char *name)
{
	const struct hfs_rel *r = hfs_kind_rel(k, name);

	if (!r)
		fprintf(stderr, "no relationship %s on %s\n", name, k->kind);
	assert_non_null(r);
	return r;
}

static void hfid_is(const struct hfs_kind *k, const char *a, const char *b)
{
	assert_int_equal(k->hfid.n, b ? 2 : 1);
	assert_string_equal(k->hfid.v[0], a);
	if (b)
		assert_string_equal(k->hfid.v[1], b);
}

struct fx {
	hfs_app *app; /* first: srv_fx_new(), srv_fx_teardown() */
};

static int setup(void **state)
{
	struct fx *f = srv_fx_new(sizeof(*f), ":memory:");
	char *doc = schema_text(), *text;
	size_t n = strlen(doc) + 32;

	assert_non_null(f);
	text = hf_alloc(n);
	assert_non_null(text);
	snprintf(text, n, "{\"schemas\": [%s]}", doc);
	hf_free(doc);
	srv_load_schema(f->app, text);
	hf_free(text);
	*state = f;
	return 0;
}

/* A request that must fail, its first error message holding `needle`. */
static void fails_with(struct fx *f, const char *q, const char *needle)
{
	srv_contains(srv_err_of(f->app, NULL, q), needle);
}

static void str_at(json_t *v, const char *path, const char *want)
{
	const char *got = json_string_value(srv_at(v, path));

	if (!got || strcmp(got, want))
		fprintf(stderr, "%s: '%s', want '%s'\n", path,
		        got ? got : "(null)", want);
	assert_non_null(got);
	assert_string_equal(got, want);
}

/* ---- the schema ---------------------------------------------------------- */

/*
 * A Component relationship to a generic: the generic gets a generic
 * template and each implementation a component template whose HFID puts
 * the parent template's name first (Infrahub's add_relationships_to_
 * template: "<parent>__template_name__value").
 */
static void test_templates__generic_component_peer(void **state)
{
	hfs_schema *s = schema();
	const struct hfs_kind *dev = kind(s, "TemplateNetDevice");
	const struct hfs_kind *gen = kind(s, "TemplateNetInterface");
	const char *impl[] = { "TemplateNetPhysical", "TemplateNetLogical" };
	size_t i;

	(void)state;
	assert_true(dev->is_template);
	hfid_is(dev, "template_name__value", NULL);
	assert_true(
	        hfs_schema_is_a(s, "TemplateNetDevice", "CoreObjectTemplate"));
	assert_true(hfs_kind_attr(dev, "template_name")->unique);
	assert_null(hfs_kind_attr(dev, "name")); /* unique: left out */
	assert_null(hfs_kind_attr(dev, "fqdn")); /* read-only: left out */
	assert_true(hfs_kind_attr(dev, "role")->optional);
	assert_string_equal(rel(dev, "interfaces")->peer,
	                    "TemplateNetInterface");
	assert_string_equal(rel(dev, "interfaces")->kind, "Component");
	assert_string_equal(rel(dev, "related_nodes")->peer, "NetDevice");

	assert_true(gen->is_generic);
	hfid_is(gen, "template_name__value", NULL);
	assert_int_equal(gen->used_by.n, 2);
	assert_string_equal(gen->used_by.v[0], "TemplateNetLogical");
	assert_string_equal(gen->used_by.v[1], "TemplateNetPhysical");

	for (i = 0; i < 2; i++) {
		const struct hfs_kind *t = kind(s, impl[i]);

		assert_true(t->is_template);
		hfid_is(t, "device__template_name__value",
		        "template_name__value");
		assert_true(hfs_schema_is_a(s, impl[i],
		                            "CoreObjectComponentTemplate"));
		assert_true(
		        hfs_schema_is_a(s, impl[i], "TemplateNetInterface"));
		assert_false(hfs_kind_attr(t, "template_name")->unique);
		/* component templates keep the attribute's optionality */
		assert_false(hfs_kind_attr(t, "name")->optional);
		assert_string_equal(rel(t, "device")->peer,
		                    "TemplateNetDevice");
		assert_false(rel(t, "device")->optional);
		assert_string_equal(rel(t, "device")->identifier,
		                    rel(dev, "interfaces")->identifier);
		assert_int_equal(t->nuniq, 1);
		assert_int_equal(t->uniq[0].n, 2);
		assert_string_equal(t->uniq[0].v[0], "template_name__value");
		assert_string_equal(t->uniq[0].v[1], "device");
	}
	assert_string_equal(rel(kind(s, "NetDevice"), "object_template")->peer,
	                    "TemplateNetDevice");
	assert_null(hfs_kind_rel(kind(s, "NetPhysical"), "object_template"));
	hfs_schema_free(s);
}

static void test_templates__template_relationships(void **state)
{
	hfs_schema *s = schema();
	const struct hfs_kind *dev = kind(s, "TemplateNetDevice");
	const struct hfs_kind *phy = kind(s, "TemplateNetPhysical");
	const struct hfs_rel *r;

	(void)state;
	/* 1.8: a pool beside IP relationships and Number attributes */
	r = rel(dev, "primary_address_from_resource_pool");
	assert_string_equal(r->peer, "CoreIPAddressPool");
	assert_string_equal(r->kind, "Generic");
	assert_false(r->many);
	assert_true(r->optional);
	assert_string_equal(rel(dev, "primary_address")->peer, "NetAddress");
	assert_string_equal(rel(dev, "asn_from_resource_pool")->peer,
	                    "CoreNumberPool");
	assert_string_equal(rel(phy, "speed_from_resource_pool")->peer,
	                    "CoreNumberPool");
	assert_null(hfs_kind_rel(dev, "site_from_resource_pool"));
	assert_null(hfs_kind_rel(dev, "role_from_resource_pool"));
	/* 1.6: profiles on templates of profiled kinds */
	assert_string_equal(rel(dev, "profiles")->kind, "Profile");
	assert_string_equal(rel(dev, "profiles")->peer, "ProfileNetDevice");
	assert_string_equal(rel(phy, "profiles")->peer, "ProfileNetPhysical");
	/* 1.10: groups for the instances */
	r = rel(dev, "member_of_groups_for_instances");
	assert_string_equal(r->peer, "CoreGroup");
	assert_true(r->many);
	assert_string_equal(r->identifier,
	                    "template_group_member_for_instances");
	assert_non_null(rel(dev, "subscriber_of_groups_for_instances"));
	assert_non_null(rel(dev, "member_of_groups"));
	/* plain relationships keep their peer */
	assert_string_equal(rel(dev, "site")->peer, "NetSite");
	assert_true(rel(dev, "site")->optional);
	hfs_schema_free(s);
}

static void test_templates__profiles(void **state)
{
	hfs_schema *s = schema();
	const struct hfs_kind *p = kind(s, "ProfileNetDevice");
	const struct hfs_rel *r;

	(void)state;
	assert_true(p->is_profile);
	hfid_is(p, "profile_name__value", NULL);
	assert_string_equal(p->attrs[0].name, "profile_name");
	assert_string_equal(p->attrs[1].name, "profile_priority");
	assert_true(hfs_kind_attr(p, "role")->optional);
	assert_null(hfs_kind_attr(p, "name")); /* unique / in the HFID */
	assert_null(hfs_kind_attr(p, "fqdn")); /* read-only */
	r = rel(p, "site"); /* 1.7: relationships in profiles */
	assert_string_equal(r->peer, "NetSite");
	assert_string_equal(r->identifier, "profile_netdevice__netsite");
	assert_null(hfs_kind_rel(p, "interfaces")); /* Component */
	assert_string_equal(rel(kind(s, "NetDevice"), "profiles")->peer,
	                    "ProfileNetDevice");
	assert_null(hfs_kind_attr(kind(s, "ProfileNetPhysical"), "name"));
	hfs_schema_free(s);
}

/* Infrahub's computed attribute checks, with its messages. */
static void test_templates__computed_schema_errors(void **state)
{
	static const char *const cases[][2] = {
		{ "{{ nope__value }}",
		  "NetThing: Attribute 'full' the 'nope__value' variable is "
		  "not found within the schema path" },
		{ "{{ name }}", "the 'name' variable is not found" },
		{ "{{ name__value | tojson }}",
		  "NetThing: Attribute 'full' is assigned by a jinja2 "
		  "template, but has an invalid template: The 'tojson' filter "
		  "isn't allowed to be used" },
		{ "{{ name__value | wordwrap }}",
		  "The 'wordwrap' filter is not supported by the local "
		  "server" },
		{ "{{ name__value ",
		  "is assigned by a jinja2 template, but has an invalid "
		  "template: : unexpected end of template" },
		{ "{{ full__value }}",
		  "the 'full__value' variable is a reference to itself" },
		{ "{% include 'x' %}",
		  "These operations are forbidden for string based templates" },
	};
	char doc[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *tpl = json_string(cases[i][0]);
		char *t = json_dumps(tpl, JSON_ENCODE_ANY);

		snprintf(doc, sizeof(doc),
		         "{\"version\":\"1.0\",\"nodes\":[{\"name\":\"Thing\","
		         "\"namespace\":\"Net\",\"attributes\":[{\"name\":"
		         "\"name\",\"kind\":\"Text\"},{\"name\":\"full\","
		         "\"kind\":\"Text\",\"read_only\":true,\"optional\":"
		         "true,\"computed_attribute\":{\"kind\":\"Jinja2\","
		         "\"jinja2_template\":%s}}]}]}",
		         t);
		free(t);
		json_decref(tpl);
		load_refused(doc, cases[i][1], i);
	}
}

static void test_templates__computed_kind_rules(void **state)
{
	static const char *const cases[][2] = {
		{ "{\"name\":\"num\",\"kind\":\"Number\",\"read_only\":true,"
		  "\"optional\":true,\"computed_attribute\":{\"kind\":"
		  "\"Jinja2\",\"jinja2_template\":\"1\"}}",
		  "NetThing: Attribute 'num' is a computed attribute only "
		  "['Text', 'URL'] kinds are supported." },
		{ "{\"name\":\"num\",\"kind\":\"URL\",\"read_only\":true,"
		  "\"computed_attribute\":{\"kind\":\"TransformPython\","
		  "\"transform\":\"t\"}}",
		  "NetThing: Attribute 'num' is a computed transform, it can't "
		  "be mandatory" },
		{ "{\"name\":\"num\",\"kind\":\"Text\",\"read_only\":true,"
		  "\"optional\":true,\"computed_attribute\":{\"kind\":"
		  "\"Jinja2\"}}",
		  "NetThing: Attribute 'num' is a computed jinja2 attribute but "
		  "no logic is defined" },
	};
	char doc[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(doc, sizeof(doc),
		         "{\"version\":\"1.0\",\"nodes\":[{\"name\":\"Thing\","
		         "\"namespace\":\"Net\",\"attributes\":[%s]}]}",
		         cases[i][0]);
		load_refused(doc, cases[i][1], i);
	}
}

/* The real repository's expression template and TransformPython load. */
static void test_templates__reachability_schema(void **state)
{
	char path[1024];
	json_t *doc, *req, *resp = NULL;
	hfs_schema *core = NULL, *net = NULL, *s = NULL;
	hf_error err = HF_ERROR_INIT;
	const char *files[] = { "demo-seed/schemas/network.yml",
		                "schemas/reachability.yml" };
	int status = 0;
	size_t i;

	(void)state;
	if (!hf_test_shared()) {
		fprintf(stderr, "skipped: no shared corpus\n");
		skip();
	}
	assert_int_equal(hfs_schema_new(&core, NULL, &err), 0);
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path),
		         "%s/corpus/infrahub-demo-reachability-check/%s",
		         hf_test_shared(), files[i]);
		doc = hf_yaml2json_file(path, NULL, 0);
		if (json_is_array(doc)) { /* one YAML document per file */
			json_t *first = json_incref(json_array_get(doc, 0));

			json_decref(doc);
			doc = first;
		}
		if (!doc) {
			fprintf(stderr, "skipped: %s unreadable\n", path);
			hfs_schema_free(core);
			hfs_schema_free(net);
			skip();
		}
		req = json_pack("{s:[o]}", "schemas", doc);
		assert_int_equal(hfs_schema_load(&s, i ? net : core, req, 0,
		                                 &resp, &status, &err),
		                 0);
		if (status != 200) {
			char *t = json_dumps(resp, 0);

			fprintf(stderr, "%s: %d %s\n", files[i], status, t);
			free(t);
		}
		assert_int_equal(status, 200);
		json_decref(req);
		json_decref(resp);
		hfs_schema_free(net);
		net = s;
	}
	assert_non_null(
	        hfs_kind_attr(kind(net, "TopologyReachabilityConstraint"),
	                      "label")
	                ->computed_template);
	assert_true(hfs_kind_attr(kind(net, "TopologyReachabilityRule"),
	                          "path_traversal_url")
	                    ->read_only);
	assert_null(hfs_kind_attr(kind(net, "TopologyReachabilityRule"),
	                          "path_traversal_url")
	                    ->computed_template);
	hfs_schema_free(net);
	hfs_schema_free(core);
}

/* ---- the endpoint -------------------------------------------------------- */

static const char tree[] =
        "mutation {"
        " d: TemplateNetDeviceCreate(data: {template_name: {value: \"sw\"},"
        "   role: {value: \"leaf\"}}) { ok }"
        " p: TemplateNetPhysicalCreate(data: {template_name: {value: \"e1\"},"
        "   name: {value: \"eth1\"}, device: {hfid: [\"sw\"]}}) { ok }"
        " l: TemplateNetLogicalCreate(data: {template_name: {value: \"lo\"},"
        "   name: {value: \"lo0\"}, device: {hfid: [\"sw\"]}}) { ok }"
        " f: ProfileNetDeviceCreate(data: {profile_name: {value: \"edge\"},"
        "   role: {value: \"edge\"}}) { ok }"
        "}";

/* `hfid` on generated kinds, and kind + hfid references to them. */
static void test_templates__hfid_on_generated_kinds(void **state)
{
	struct fx *f = *state;
	json_t *d;

	json_decref(srv_ok(f->app, NULL, tree));
	d = srv_ok(f->app, NULL,
	           "{ TemplateNetPhysical(hfid: [\"sw\", \"e1\"]) { count"
	           "   edges { node { hfid template_name { value } } } }"
	           " TemplateNetDevice(hfid: [\"sw\"]) { count }"
	           " ProfileNetDevice(hfid: [\"edge\"]) { count } }");
	assert_int_equal(
	        json_integer_value(srv_at(d, "TemplateNetPhysical.count")), 1);
	str_at(d, "TemplateNetPhysical.edges.0.node.hfid.0", "sw");
	str_at(d, "TemplateNetPhysical.edges.0.node.hfid.1", "e1");
	assert_int_equal(
	        json_integer_value(srv_at(d, "TemplateNetDevice.count")), 1);
	assert_int_equal(
	        json_integer_value(srv_at(d, "ProfileNetDevice.count")), 1);
	json_decref(d);
	/* references by kind + hfid, and an update by hfid */
	d = srv_ok(
	        f->app, NULL,
	        "mutation { TemplateNetDeviceUpdate(data: {hfid: [\"sw\"],"
	        " interfaces: [{kind: \"TemplateNetPhysical\", hfid: [\"sw\","
	        " \"e1\"]}], profiles: [{hfid: [\"edge\"]}]}) { ok object {"
	        " interfaces { count } profiles { count } } } }");
	assert_int_equal(
	        json_integer_value(srv_at(
	                d, "TemplateNetDeviceUpdate.object.interfaces.count")),
	        1);
	assert_int_equal(
	        json_integer_value(srv_at(
	                d, "TemplateNetDeviceUpdate.object.profiles.count")),
	        1);
	json_decref(d);
	fails_with(f, "{ TemplateNetPhysical(hfid: [\"e1\"]) { count } }",
	           "Unable to find the node");
}

static json_t *device(struct fx *f, const char *name)
{
	char q[256];

	snprintf(q, sizeof(q),
	         "{ NetDevice(name__value: \"%s\") { edges { node {"
	         " fqdn { value } url { value } } } } }",
	         name);
	return srv_ok(f->app, NULL, q);
}

/* A filter and "or", rendered on create and again when a source moves. */
static void test_templates__computed_attributes(void **state)
{
	struct fx *f = *state;
	json_t *d;

	json_decref(
	        srv_ok(f->app, NULL,
	               "mutation {"
	               " s: NetSiteCreate(data: {name: {value: \"Paris\"}})"
	               " { ok }"
	               " a: NetDeviceCreate(data: {name: {value: \"CORE1\"},"
	               "   site: {hfid: [\"Paris\"]}}) { ok object { fqdn {"
	               "   value } } }"
	               " b: NetDeviceCreate(data: {name: {value: \"Edge2\"}})"
	               " { ok }"
	               " i: NetPhysicalCreate(data: {name: {value: \"eth0\"},"
	               "   device: {hfid: [\"CORE1\"]}}) { ok object {"
	               "   label { value } } }"
	               "}"));
	d = device(f, "CORE1");
	str_at(d, "NetDevice.edges.0.node.fqdn.value", "core1.Paris");
	assert_true(
	        json_is_null(srv_at(d, "NetDevice.edges.0.node.url.value")));
	json_decref(d);
	d = device(f, "Edge2");
	str_at(d, "NetDevice.edges.0.node.fqdn.value", "edge2.nowhere");
	json_decref(d);

	/* the peer's attribute changes: the reader is recomputed */
	json_decref(srv_ok(f->app, NULL,
	                   "mutation { NetSiteUpdate(data: {hfid: [\"Paris\"],"
	                   " name: {value: \"Lyon\"}}) { ok } }"));
	d = device(f, "CORE1");
	str_at(d, "NetDevice.edges.0.node.fqdn.value", "core1.Lyon");
	json_decref(d);

	/* the relationship moves */
	json_decref(
	        srv_ok(f->app, NULL,
	               "mutation { NetDeviceUpdate(data: {hfid: [\"Edge2\"],"
	               " site: {hfid: [\"Lyon\"]}}) { ok } }"));
	d = device(f, "Edge2");
	str_at(d, "NetDevice.edges.0.node.fqdn.value", "edge2.Lyon");
	json_decref(d);

	/* through a generic's computed attribute, and a rename */
	d = srv_ok(f->app, NULL,
	           "{ NetPhysical { edges { node { label { value } } } } }");
	str_at(d, "NetPhysical.edges.0.node.label.value", "CORE1-eth0");
	json_decref(d);
	json_decref(
	        srv_ok(f->app, NULL,
	               "mutation { NetDeviceUpdate(data: {hfid: [\"CORE1\"],"
	               " name: {value: \"core9\"}}) { ok } }"));
	d = srv_ok(f->app, NULL,
	           "{ NetPhysical { edges { node { label { value } } } }"
	           " NetDevice(name__value: \"core9\") { edges { node {"
	           " fqdn { value } } } } }");
	str_at(d, "NetPhysical.edges.0.node.label.value", "CORE9-eth0");
	str_at(d, "NetDevice.edges.0.node.fqdn.value", "core9.Lyon");
	json_decref(d);
}

/* Computed attributes are read-only; TransformPython stays empty. */
static void test_templates__computed_read_only(void **state)
{
	struct fx *f = *state;

	fails_with(f,
	           "mutation { NetDeviceCreate(data: {name: {value: \"x\"},"
	           " fqdn: {value: \"y\"}}) { ok } }",
	           "fqdn is not a valid input for NetDevice");
	fails_with(f,
	           "mutation { NetDeviceCreate(data: {name: {value: \"x\"},"
	           " url: {value: \"http://x\"}}) { ok } }",
	           "url is not a valid input for NetDevice");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_templates__generic_component_peer),
		cmocka_unit_test(test_templates__template_relationships),
		cmocka_unit_test(test_templates__profiles),
		cmocka_unit_test(test_templates__computed_schema_errors),
		cmocka_unit_test(test_templates__computed_kind_rules),
		cmocka_unit_test(test_templates__reachability_schema),
		cmocka_unit_test_setup_teardown(
		        test_templates__hfid_on_generated_kinds, setup,
		        srv_fx_teardown),
		cmocka_unit_test_setup_teardown(
		        test_templates__computed_attributes, setup,
		        srv_fx_teardown),
		cmocka_unit_test_setup_teardown(
		        test_templates__computed_read_only, setup,
		        srv_fx_teardown),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
