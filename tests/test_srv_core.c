/*
 * The built-in core schema of the local endpoint against current Infrahub
 * (1.11): every core kind exists with the shape repositories rely on,
 * user schemas that extend and reference core kinds load, the schema
 * model limits are Infrahub's (attribute and relationship names up to 64
 * characters since 1.8), generics restrict the namespaces inheriting from
 * them, and Internal kinds stay out of the REST bodies.
 *
 * The corpus group loads real repositories from $HF_SHARED_DIR
 * (infrahub-demo-service-catalog in one request, in process and through
 * `hubform schema load`; infrahub-demo-reachability-check in two
 * requests). Without the shared corpus that group is skipped and the
 * program exits 77 once the core group has passed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../server/schema.h"
#include "hf/alloc.h"
#include "testutil.h"
#include "yaml2json.h"

/* ---- helpers ---- */

static hfs_schema *core(void)
{
	hfs_schema *s = NULL;
	hf_error err = HF_ERROR_INIT;

	if (hfs_schema_new(&s, NULL, &err) < 0)
		fail_msg("core: %s", err.msg);
	return s;
}

static const struct hfs_kind *kind(const hfs_schema *s, const char *k)
{
	const struct hfs_kind *sk = hfs_schema_kind(s, k);

	if (!sk)
		fail_msg("kind %s missing", k);
	return sk;
}

static const struct hfs_rel *rel(const hfs_schema *s, const char *k,
                                 const char *name)
{
	const struct hfs_rel *r = hfs_kind_rel(kind(s, k), name);

	if (!r)
		fail_msg("%s has no relationship %s", k, name);
	return r;
}

static const struct hfs_attr *attr(const hfs_schema *s, const char *k,
                                   const char *name)
{
	const struct hfs_attr *a = hfs_kind_attr(kind(s, k), name);

	if (!a)
		fail_msg("%s has no attribute %s", k, name);
	return a;
}

/* All YAML documents of `path` appended to the request's schemas. */
static void add_yaml(json_t *req, const char *path)
{
	char err[256];
	json_t *docs = hf_yaml2json_file(path, err, sizeof(err));

	if (!docs)
		fail_msg("%s: %s", path, err);
	json_array_extend(json_object_get(req, "schemas"), docs);
	json_decref(docs);
}

/*
 * Load `req` on top of `base`: the HTTP status, *out the new schema on
 * 200 (NULL otherwise), *resp the body (caller decrefs).
 */
static int load(hfs_schema **out, const hfs_schema *base, json_t *req,
                json_t **resp)
{
	hf_error err = HF_ERROR_INIT;
	int status = 0;

	assert_int_equal(
	        hfs_schema_load(out, base, req, 0, resp, &status, &err), 0);
	return status;
}

static void expect_200(int status, json_t *resp)
{
	char *t;

	if (status == 200)
		return;
	t = json_dumps(resp, 0);
	fail_msg("status %d: %s", status, t ? t : "?");
}

/* The message of a 422 {"data": null, "errors": [...]} body. */
static const char *semantic_msg(json_t *resp)
{
	json_t *e = json_array_get(json_object_get(resp, "errors"), 0);

	return json_string_value(json_object_get(e, "message"));
}

/* ---- the core kinds ---- */

struct want {
	const char *kind;
	enum hfs_kind_type type;
};

/* clang-format off */
static const struct want core_kinds[] = {
	{ "BuiltinIPAddress", HFS_GENERIC },
	{ "BuiltinIPNamespace", HFS_GENERIC },
	{ "BuiltinIPPrefix", HFS_GENERIC },
	{ "BuiltinTag", HFS_NODE },
	{ "CoreAccount", HFS_NODE },
	{ "CoreAccountGroup", HFS_NODE },
	{ "CoreAccountRole", HFS_NODE },
	{ "CoreAction", HFS_GENERIC },
	{ "CoreArtifact", HFS_NODE },
	{ "CoreArtifactCheck", HFS_NODE },
	{ "CoreArtifactDefinition", HFS_NODE },
	{ "CoreArtifactTarget", HFS_GENERIC },
	{ "CoreArtifactThread", HFS_NODE },
	{ "CoreArtifactValidator", HFS_NODE },
	{ "CoreBasePermission", HFS_GENERIC },
	{ "CoreChangeComment", HFS_NODE },
	{ "CoreChangeThread", HFS_NODE },
	{ "CoreCheck", HFS_GENERIC },
	{ "CoreCheckDefinition", HFS_NODE },
	{ "CoreComment", HFS_GENERIC },
	{ "CoreCredential", HFS_GENERIC },
	{ "CoreCustomWebhook", HFS_NODE },
	{ "CoreDataCheck", HFS_NODE },
	{ "CoreDataValidator", HFS_NODE },
	{ "CoreEnvKeyValue", HFS_NODE },
	{ "CoreFileCheck", HFS_NODE },
	{ "CoreFileObject", HFS_GENERIC },
	{ "CoreFileThread", HFS_NODE },
	{ "CoreGeneratorAction", HFS_NODE },
	{ "CoreGeneratorCheck", HFS_NODE },
	{ "CoreGeneratorDefinition", HFS_NODE },
	{ "CoreGeneratorGroup", HFS_NODE },
	{ "CoreGeneratorInstance", HFS_NODE },
	{ "CoreGeneratorValidator", HFS_NODE },
	{ "CoreGenericAccount", HFS_GENERIC },
	{ "CoreGenericRepository", HFS_GENERIC },
	{ "CoreGlobalPermission", HFS_NODE },
	{ "CoreGlobalPreference", HFS_NODE },
	{ "CoreGraphQLQuery", HFS_NODE },
	{ "CoreGraphQLQueryGroup", HFS_NODE },
	{ "CoreGroup", HFS_GENERIC },
	{ "CoreGroupAction", HFS_NODE },
	{ "CoreGroupTriggerRule", HFS_NODE },
	{ "CoreIPAddressPool", HFS_NODE },
	{ "CoreIPPool", HFS_GENERIC },
	{ "CoreIPPrefixPool", HFS_NODE },
	{ "CoreKeyValue", HFS_GENERIC },
	{ "CoreMenu", HFS_GENERIC },
	{ "CoreMenuItem", HFS_NODE },
	{ "CoreNode", HFS_GENERIC },
	{ "CoreNodeTriggerAttributeMatch", HFS_NODE },
	{ "CoreNodeTriggerMatch", HFS_GENERIC },
	{ "CoreNodeTriggerRelationshipMatch", HFS_NODE },
	{ "CoreNodeTriggerRule", HFS_NODE },
	{ "CoreNumberPool", HFS_NODE },
	{ "CoreObjectComponentTemplate", HFS_GENERIC },
	{ "CoreObjectPermission", HFS_NODE },
	{ "CoreObjectTemplate", HFS_GENERIC },
	{ "CoreObjectThread", HFS_NODE },
	{ "CorePasswordCredential", HFS_NODE },
	{ "CoreProfile", HFS_GENERIC },
	{ "CoreProposedChange", HFS_NODE },
	{ "CoreReadOnlyRepository", HFS_NODE },
	{ "CoreRepository", HFS_NODE },
	{ "CoreRepositoryGroup", HFS_NODE },
	{ "CoreRepositoryValidator", HFS_NODE },
	{ "CoreResourcePool", HFS_GENERIC },
	{ "CoreSchemaCheck", HFS_NODE },
	{ "CoreSchemaValidator", HFS_NODE },
	{ "CoreStandardCheck", HFS_NODE },
	{ "CoreStandardGroup", HFS_NODE },
	{ "CoreStandardWebhook", HFS_NODE },
	{ "CoreStaticKeyValue", HFS_NODE },
	{ "CoreTaskTarget", HFS_GENERIC },
	{ "CoreThread", HFS_GENERIC },
	{ "CoreThreadComment", HFS_NODE },
	{ "CoreTransformJinja2", HFS_NODE },
	{ "CoreTransformPython", HFS_NODE },
	{ "CoreTransformation", HFS_GENERIC },
	{ "CoreTriggerRule", HFS_GENERIC },
	{ "CoreUserPreference", HFS_NODE },
	{ "CoreUserValidator", HFS_NODE },
	{ "CoreValidator", HFS_GENERIC },
	{ "CoreWebhook", HFS_GENERIC },
	{ "CoreWeightedPoolResource", HFS_GENERIC },
	{ "InternalAccountToken", HFS_NODE },
	{ "InternalExternalIdentity", HFS_NODE },
	{ "InternalIPPrefixAvailable", HFS_NODE },
	{ "InternalIPRangeAvailable", HFS_NODE },
	{ "InternalRefreshToken", HFS_NODE },
	{ "IpamNamespace", HFS_NODE },
	{ "LineageOwner", HFS_GENERIC },
	{ "LineageSource", HFS_GENERIC },
};
/* clang-format on */

#define NWANT (sizeof(core_kinds) / sizeof(core_kinds[0]))

static void test_srv_core__kinds(void **state)
{
	hfs_schema *s = core();
	size_t i, generics = 0, nodes = 0;

	(void)state;
	for (i = 0; i < NWANT; i++) {
		const struct hfs_kind *k = kind(s, core_kinds[i].kind);

		if (k->type != core_kinds[i].type)
			fail_msg("%s: type %d, want %d", k->kind, k->type,
			         core_kinds[i].type);
	}
	for (i = 0; i < hfs_schema_count(s); i++) {
		enum hfs_kind_type t = hfs_schema_at(s, i)->type;

		generics += t == HFS_GENERIC;
		nodes += t == HFS_NODE;
	}
	/* Nothing more than Infrahub 1.11 has, nothing less. */
	assert_int_equal(generics + nodes, NWANT);
	assert_null(hfs_schema_kind(s, "CoreLineageOwner"));
	assert_string_equal(kind(s, "LineageSource")->namespace, "Lineage");
	hfs_schema_free(s);
}

static void test_srv_core__accounts(void **state)
{
	hfs_schema *s = core();
	const struct hfs_attr *a;
	const struct hfs_kind *k;

	(void)state;
	assert_true(hfs_schema_is_a(s, "CoreAccount", "CoreGenericAccount"));
	assert_true(hfs_schema_is_a(s, "CoreAccount", "LineageOwner"));
	assert_true(hfs_schema_is_a(s, "CoreAccountGroup", "CoreGroup"));
	a = attr(s, "CoreAccount", "status");
	assert_string_equal(a->kind, "Dropdown");
	assert_int_equal(a->nchoices, 2);
	assert_string_equal(a->choices[0].name, "active");
	assert_string_equal(attr(s, "CoreAccount", "password")->kind,
	                    "HashedPassword");
	assert_string_equal(attr(s, "CoreAccount", "account_type")->kind,
	                    "Text");
	assert_string_equal(rel(s, "CoreAccountGroup", "roles")->peer,
	                    "CoreAccountRole");
	assert_non_null(hfs_rel_reverse(s, "CoreAccountGroup",
	                                rel(s, "CoreAccountGroup", "roles")));
	assert_string_equal(rel(s, "CoreAccountRole", "permissions")->peer,
	                    "CoreBasePermission");
	assert_string_equal(rel(s, "CoreObjectPermission", "roles")->peer,
	                    "CoreAccountRole");
	k = kind(s, "CoreObjectPermission");
	assert_int_equal(k->hfid.n, 4);
	assert_string_equal(attr(s, "CoreObjectPermission", "decision")->kind,
	                    "Number");
	assert_string_equal(attr(s, "CoreGlobalPermission", "action")->kind,
	                    "Dropdown");
	assert_string_equal(kind(s, "CoreAccountRole")->hfid.v[0],
	                    "name__value");
	assert_non_null(rel(s, "CoreAccount", "member_of_groups"));
	hfs_schema_free(s);
}

static void test_srv_core__repositories_and_pools(void **state)
{
	hfs_schema *s = core();

	(void)state;
	assert_true(
	        hfs_schema_is_a(s, "CoreRepository", "CoreGenericRepository"));
	assert_true(
	        hfs_schema_is_a(s, "CoreReadOnlyRepository", "CoreTaskTarget"));
	assert_string_equal(rel(s, "CoreRepository", "credential")->peer,
	                    "CoreCredential");
	assert_non_null(attr(s, "CoreReadOnlyRepository", "ref"));
	assert_true(hfs_schema_is_a(s, "CoreTransformPython",
	                            "CoreTransformation"));
	assert_string_equal(rel(s, "CoreGeneratorInstance", "object")->peer,
	                    "CoreNode");
	assert_true(hfs_schema_is_a(s, "CoreGeneratorGroup", "CoreGroup"));
	assert_true(hfs_schema_is_a(s, "CoreIPPrefixPool", "CoreIPPool"));
	assert_true(hfs_schema_is_a(s, "CoreIPAddressPool", "LineageSource"));
	assert_string_equal(rel(s, "IpamNamespace", "ip_prefixes")->peer,
	                    "BuiltinIPPrefix");
	assert_string_equal(
	        hfs_kind_rel(kind(s, "BuiltinIPPrefix"), "resource_pool")->peer,
	        "CoreIPPool");
	assert_string_equal(attr(s, "CoreNumberPool", "pool_type")->kind,
	                    "Text");
	assert_string_equal(rel(s, "CoreWebhook", "headers")->peer,
	                    "CoreKeyValue");
	assert_true(hfs_schema_is_a(s, "CoreMenuItem", "CoreMenu"));
	assert_non_null(rel(s, "CoreMenuItem", "parent"));
	hfs_schema_free(s);
}

/* A schema extending CoreProposedChange and pointing at core kinds. */
static void test_srv_core__references(void **state)
{
	hfs_schema *base = core(), *s = NULL;
	json_t *req = json_pack("{s:[]}", "schemas"), *resp = NULL;
	const struct hfs_rel *r;
	char path[1024];
	int status;

	(void)state;
	snprintf(path, sizeof(path), "%s/core/core_refs.yml", hf_test_data());
	add_yaml(req, path);
	status = load(&s, base, req, &resp);
	expect_200(status, resp);
	assert_string_equal(rel(s, "CoreProposedChange", "tags")->peer,
	                    "BuiltinTag");
	assert_non_null(attr(s, "CoreProposedChange", "ticket_id"));
	r = rel(s, "TestingChangeWindow", "approver_group");
	assert_string_equal(r->peer, "CoreAccountGroup");
	assert_string_equal(rel(s, "TestingChangeWindow", "vlan_pool")->peer,
	                    "CoreNumberPool");
	assert_true(hfs_schema_is_a(s, "TestingChangeWindow",
	                            "CoreArtifactTarget"));
	assert_non_null(rel(s, "TestingChangeWindow", "artifacts"));
	json_decref(resp);
	json_decref(req);
	hfs_schema_free(s);
	hfs_schema_free(base);
}

/* An extension of a kind that no file of the request defines. */
static void test_srv_core__unknown_extension(void **state)
{
	hfs_schema *base = core(), *s = NULL;
	json_t *req, *resp = NULL;

	(void)state;
	req = json_pack("{s:[{s:s,s:{s:[{s:s,s:[{s:s,s:s}]}]}}]}", "schemas",
	                "version", "1.0", "extensions", "nodes", "kind",
	                "TestingNope", "attributes", "name", "extra", "kind",
	                "Text");
	assert_int_equal(load(&s, base, req, &resp), 422);
	assert_null(s);
	assert_string_equal(semantic_msg(resp),
	                    "Unable to find the schema "
	                    "'TestingNope' in the registry");
	json_decref(resp);
	json_decref(req);
	hfs_schema_free(base);
}

/* ---- limits ---- */

static char *repeat(char c, size_t n)
{
	char *s = hf_alloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/*
 * One node TestingThing: namespace `ns`, an attribute `aname` with label
 * `alabel` (may be NULL), a relationship `rname`.
 */
static json_t *thing(const char *ns, const char *aname, const char *alabel,
                     const char *rname)
{
	json_t *a = json_pack("{s:s,s:s,s:b}", "name", aname, "kind", "Text",
	                      "optional", 1);

	if (alabel)
		json_object_set_new(a, "label", json_string(alabel));
	return json_pack("{s:[{s:s,s:[{s:s,s:s,s:[o],s:[{s:s,s:s}]}]}]}",
	                 "schemas", "version", "1.0", "nodes", "name", "Thing",
	                 "namespace", ns, "attributes", a, "relationships",
	                 "name", rname, "peer", "BuiltinTag");
}

/* The first FastAPI detail entry of a 422: type, msg and loc tail. */
static void expect_detail(json_t *resp, const char *type, const char *msg,
                          const char *field)
{
	json_t *e = json_array_get(json_object_get(resp, "detail"), 0);
	json_t *loc = json_object_get(e, "loc");

	assert_non_null(e);
	assert_string_equal(json_string_value(json_object_get(e, "type")),
	                    type);
	assert_string_equal(json_string_value(json_object_get(e, "msg")), msg);
	assert_string_equal(json_string_value(json_array_get(
	                            loc, json_array_size(loc) - 1)),
	                    field);
}

static int try_thing(const char *ns, const char *aname, const char *alabel,
                     const char *rname, json_t **resp)
{
	hfs_schema *base = core(), *s = NULL;
	json_t *req = thing(ns, aname, alabel, rname);
	int status = load(&s, base, req, resp);

	json_decref(req);
	hfs_schema_free(s);
	hfs_schema_free(base);
	return status;
}

static void test_srv_core__name_limits(void **state)
{
	char *n64 = repeat('a', 64), *n65 = repeat('a', 65);
	char *r64 = repeat('r', 64);
	json_t *resp = NULL;
	int status;

	(void)state;
	status = try_thing("Testing", n64, NULL, r64, &resp);
	expect_200(status, resp);
	json_decref(resp);
	assert_int_equal(try_thing("Testing", n65, NULL, "tags", &resp), 422);
	expect_detail(resp, "string_too_long",
	              "String should have at most 64 characters", "name");
	json_decref(resp);
	assert_int_equal(try_thing("Testing", "ok_name", NULL, n65, &resp),
	                 422);
	expect_detail(resp, "string_too_long",
	              "String should have at most 64 characters", "name");
	json_decref(resp);
	assert_int_equal(try_thing("Testing", "ab", NULL, "tags", &resp), 422);
	expect_detail(resp, "string_too_short",
	              "String should have at least 3 characters", "name");
	json_decref(resp);
	hf_free(n64);
	hf_free(n65);
	hf_free(r64);
}

static void test_srv_core__label_and_namespace_limits(void **state)
{
	char *l64 = repeat('L', 64), *l65 = repeat('L', 65);
	char *ns64 = repeat('a', 64), *ns65 = repeat('a', 65);
	json_t *resp = NULL;
	int status;

	(void)state;
	ns64[0] = ns65[0] = 'T';
	status = try_thing(ns64, "name", l64, "tags", &resp);
	expect_200(status, resp);
	json_decref(resp);
	assert_int_equal(try_thing("Testing", "name", l65, "tags", &resp), 422);
	expect_detail(resp, "string_too_long",
	              "String should have at most 64 characters", "label");
	json_decref(resp);
	assert_int_equal(try_thing(ns65, "name", NULL, "tags", &resp), 422);
	expect_detail(resp, "string_too_long",
	              "String should have at most 64 characters", "namespace");
	json_decref(resp);
	hf_free(l64);
	hf_free(l65);
	hf_free(ns64);
	hf_free(ns65);
}

/* Node names stay at 32 characters, descriptions at 128. */
static void test_srv_core__node_limits(void **state)
{
	hfs_schema *base = core(), *s = NULL;
	char *name = repeat('x', 33), *desc = repeat('d', 129);
	json_t *req, *resp = NULL;

	(void)state;
	name[0] = 'X';
	req = json_pack("{s:[{s:s,s:[{s:s,s:s}]}]}", "schemas", "version",
	                "1.0", "nodes", "name", name, "namespace", "Testing");
	assert_int_equal(load(&s, base, req, &resp), 422);
	expect_detail(resp, "string_too_long",
	              "String should have at most 32 characters", "name");
	json_decref(resp);
	json_decref(req);
	req = json_pack("{s:[{s:s,s:[{s:s,s:s,s:s}]}]}", "schemas", "version",
	                "1.0", "nodes", "name", "Thing", "namespace", "Testing",
	                "description", desc);
	assert_int_equal(load(&s, base, req, &resp), 422);
	expect_detail(resp, "string_too_long",
	              "String should have at most 128 characters",
	              "description");
	json_decref(resp);
	json_decref(req);
	hf_free(name);
	hf_free(desc);
	hfs_schema_free(base);
}

/* ---- restricted generics, REST bodies ---- */

static void test_srv_core__restricted_generics(void **state)
{
	hfs_schema *base = core(), *s = NULL;
	json_t *req, *resp = NULL;

	(void)state;
	req = json_pack("{s:[{s:s,s:[{s:s,s:s,s:[s]}]}]}", "schemas", "version",
	                "1.0", "nodes", "name", "Hook", "namespace", "Testing",
	                "inherit_from", "CoreWebhook");
	assert_int_equal(load(&s, base, req, &resp), 422);
	assert_string_equal(semantic_msg(resp),
	                    "Generic node 'CoreWebhook' has restricted "
	                    "namespaces: ['Core']. The node 'TestingHook' does "
	                    "not comply with this restriction as its namespace "
	                    "is 'Testing'.");
	json_decref(resp);
	json_decref(req);
	/* A user generic may restrict its own heirs. */
	req = json_pack("{s:[{s:s,s:[{s:s,s:s,s:[s]}],s:[{s:s,s:s,s:[s]},"
	                "{s:s,s:s,s:[s]}]}]}",
	                "schemas", "version", "1.0", "generics", "name", "Base",
	                "namespace", "Testing", "restricted_namespaces",
	                "Testing", "nodes", "name", "Good", "namespace",
	                "Testing", "inherit_from", "TestingBase", "name", "Bad",
	                "namespace", "Other", "inherit_from", "TestingBase");
	assert_int_equal(load(&s, base, req, &resp), 422);
	assert_non_null(strstr(semantic_msg(resp), "The node 'OtherBad'"));
	json_decref(resp);
	json_decref(req);
	hfs_schema_free(base);
}

static int has_rel(json_t *el, const char *name)
{
	json_t *r;
	size_t i;

	json_array_foreach(json_object_get(el, "relationships"), i, r)
	{
		if (strcmp(json_string_value(json_object_get(r, "name")),
		           name) == 0)
			return 1;
	}
	return 0;
}

static void no_internal(json_t *list)
{
	json_t *el;
	size_t i;

	json_array_foreach(list, i, el)
	{
		const char *ns =
		        json_string_value(json_object_get(el, "namespace"));

		if (strcmp(ns, "Internal") == 0)
			fail_msg("Internal kind listed");
	}
}

static void test_srv_core__rest_bodies(void **state)
{
	hfs_schema *s = core();
	json_t *api = hfs_schema_api(s, NULL, 0), *el, *ns;

	(void)state;
	assert_non_null(api);
	no_internal(json_object_get(api, "nodes"));
	no_internal(json_object_get(api, "generics"));
	ns = json_object_get(api, "namespaces");
	assert_true(json_array_size(ns) > 3);
	json_decref(api);
	el = hfs_schema_api_kind(s, "CoreGenericAccount");
	assert_non_null(el);
	assert_false(has_rel(el, "tokens"));
	assert_false(has_rel(el, "external_identities"));
	assert_string_equal(
	        json_string_value(json_array_get(
	                json_object_get(el, "restricted_namespaces"), 0)),
	        "Core");
	json_decref(el);
	el = hfs_schema_api_kind(s, "CoreAccountGroup");
	assert_true(has_rel(el, "roles"));
	json_decref(el);
	assert_non_null(hfs_schema_kind(s, "InternalAccountToken"));
	hfs_schema_free(s);
}

/* ---- the shared corpus ---- */

static char corpus[1024];

static void corpus_path(char *out, size_t len, const char *repo,
                        const char *rel_path)
{
	snprintf(out, len, "%s/corpus/%s/%s", hf_test_shared(), repo, rel_path);
}

/* The files `hubform schema load` sends, in its (sorted) order. */
static const char *const catalog_files[] = {
	"schemas/base/dcim.yml",
	"schemas/base/ipam.yml",
	"schemas/base/location.yml",
	"schemas/base/organization.yml",
	"schemas/location_minimal/location_minimal.yml",
	"schemas/vlan/vlan.yml",
	"schemas/service/service.yml",
	NULL,
};

static json_t *catalog_request(void)
{
	json_t *req = json_pack("{s:[]}", "schemas");
	char path[2048];
	size_t i;

	for (i = 0; catalog_files[i]; i++) {
		corpus_path(path, sizeof(path), "infrahub-demo-service-catalog",
		            catalog_files[i]);
		add_yaml(req, path);
	}
	return req;
}

static void test_srv_core__service_catalog(void **state)
{
	hfs_schema *base = core(), *s = NULL;
	json_t *req = catalog_request(), *resp = NULL;
	int status;

	(void)state;
	status = load(&s, base, req, &resp);
	expect_200(status, resp);
	assert_string_equal(rel(s, "CoreProposedChange", "tags")->peer,
	                    "BuiltinTag");
	assert_string_equal(rel(s, "IpamVLAN", "service")->peer,
	                    "ServiceGeneric");
	assert_true(json_is_true(json_object_get(resp, "schema_updated")));
	json_decref(resp);
	json_decref(req);
	hfs_schema_free(s);
	hfs_schema_free(base);
}

/* The failure the issue reported, end to end: `hubform schema load`. */
static void test_srv_core__service_catalog_cli(void **state)
{
	struct hf_served srv;
	struct hf_run r;
	char db[1024], dirs[4][1100];
	const char *a[] = { "schema", "load",  dirs[0], dirs[1],
		            dirs[2],  dirs[3], NULL };
	static const char *const sub[] = { "base", "location_minimal", "vlan",
		                           "service" };
	const char *tmp = hf_test_tmpdir("srv_core_catalog");
	size_t i;

	(void)state;
	assert_non_null(tmp);
	snprintf(db, sizeof(db), "%s/data.db", tmp);
	for (i = 0; i < 4; i++)
		snprintf(dirs[i], sizeof(dirs[i]), "%s/schemas/%s", corpus,
		         sub[i]);
	assert_int_equal(hf_serve_start(&srv, db, NULL), 0);
	setenv("INFRAHUB_ADDRESS", srv.url, 1);
	assert_int_equal(hf_run(&r, tmp, NULL, a), 0);
	if (r.status != 0)
		fprintf(stderr, "%s", r.err);
	assert_int_equal(r.status, 0);
	assert_true(strstr(r.out, "7 documents loaded") ||
	            strstr(r.err, "7 documents loaded"));
	hf_run_release(&r);
	assert_int_equal(hf_serve_stop(&srv), 0);
}

static const struct hfs_kind *item_kind(const hfs_schema *s, json_t *doc)
{
	json_t *spec = json_object_get(doc, "spec");

	return kind(s, json_string_value(json_object_get(spec, "kind")));
}

/* A field of an object file: a relationship, or a valid attribute value. */
static void check_field(const struct hfs_kind *k, const char *key, json_t *v)
{
	const struct hfs_attr *a = hfs_kind_attr(k, key);
	hf_error err = HF_ERROR_INIT;
	json_t *norm = NULL;

	if (!a) {
		if (!hfs_kind_rel(k, key))
			fail_msg("%s has no field %s", k->kind, key);
		return;
	}
	if (hfs_attr_check(a, v, &norm, &err) < 0)
		fail_msg("%s.%s: %s", k->kind, key, err.msg);
	json_decref(norm);
}

/* Every field 04-users.yml sets exists on its core kind. */
static void users_fields_exist(const hfs_schema *s)
{
	char path[2048], err[256];
	json_t *docs, *doc, *item, *v;
	const char *key;
	size_t d, i;

	corpus_path(path, sizeof(path), "infrahub-demo-reachability-check",
	            "demo-seed/data/04-users.yml");
	docs = hf_yaml2json_file(path, err, sizeof(err));
	if (!docs)
		fail_msg("%s: %s", path, err);
	json_array_foreach(docs, d, doc)
	{
		const struct hfs_kind *k = item_kind(s, doc);

		json_array_foreach(
		        json_object_get(json_object_get(doc, "spec"), "data"),
		        i, item)
		{
			json_object_foreach(item, key, v)
			        check_field(k, key, v);
		}
	}
	json_decref(docs);
}

static hfs_schema *load_one(const hfs_schema *base, const char *rel_path)
{
	json_t *req = json_pack("{s:[]}", "schemas"), *resp = NULL;
	hfs_schema *s = NULL;
	char path[2048];
	int status;

	corpus_path(path, sizeof(path), "infrahub-demo-reachability-check",
	            rel_path);
	add_yaml(req, path);
	status = load(&s, base, req, &resp);
	expect_200(status, resp);
	json_decref(resp);
	json_decref(req);
	return s;
}

static void test_srv_core__reachability(void **state)
{
	hfs_schema *base = core(), *one, *two;

	(void)state;
	one = load_one(base, "demo-seed/schemas/network.yml");
	users_fields_exist(one);
	two = load_one(one, "schemas/reachability.yml");
	assert_string_equal(
	        rel(two, "TopologyReachabilityRule", "source")->peer,
	        "CoreNode");
	hfs_schema_free(two);
	hfs_schema_free(one);
	hfs_schema_free(base);
}

/* Load a request given as JSON text; the status, the body in *resp. */
static int load_text(const hfs_schema *base, const char *text, json_t **resp,
                     hfs_schema **out)
{
	json_error_t je;
	json_t *req = json_loads(text, 0, &je);
	int status;

	if (!req)
		fail_msg("bad test JSON: %s", je.text);
	status = load(out, base, req, resp);
	json_decref(req);
	return status;
}

/* Load a request given as JSON text, which must be accepted: the schema. */
static hfs_schema *load_ok(const hfs_schema *base, const char *text)
{
	hfs_schema *out = NULL;
	json_t *resp = NULL;

	assert_int_equal(load_text(base, text, &resp, &out), 200);
	json_decref(resp);
	return out;
}

static void expect_refused(const hfs_schema *base, const char *text,
                           const char *msg)
{
	hfs_schema *out = NULL;
	json_t *resp = NULL;
	const char *m;

	assert_int_equal(load_text(base, text, &resp, &out), 422);
	assert_null(out);
	m = semantic_msg(resp);
	if (!m || !strstr(m, msg)) {
		char *t = json_dumps(resp, 0);

		fail_msg("expected '%s' in %s", msg, t ? t : "?");
	}
	assert_int_equal(
	        json_integer_value(json_object_get(
	                json_object_get(
	                        json_array_get(json_object_get(resp, "errors"),
	                                       0),
	                        "extensions"),
	                "code")),
	        422);
	json_decref(resp);
}

#define ATTR(n) "{\"name\":\"" n "\",\"kind\":\"Text\"}"

/* One kind twice in one load: in one file, in two, as node and generic. */
static void test_srv_core__duplicate_kinds(void **state)
{
	hfs_schema *base = core(), *out = NULL;

	(void)state;
	expect_refused(
	        base,
	        "{\"schemas\":[{\"version\":\"1.0\",\"nodes\":["
	        "{\"namespace\":\"Test\",\"name\":\"Dup\","
	        "\"attributes\":[" ATTR(
	                "aaa") "]},"
	                       "{\"namespace\":\"Test\",\"name\":\"Dup\","
	                       "\"attributes\":[" ATTR("bbb") "]}]}]}",
	        "TestDup is defined more than once in this load "
	        "(schemas[0].nodes[0] and schemas[0].nodes[1])");
	expect_refused(
	        base,
	        "{\"schemas\":[{\"version\":\"1.0\",\"nodes\":["
	        "{\"namespace\":\"Test\",\"name\":\"Dup\","
	        "\"attributes\":[" ATTR(
	                "aaa") "]}]},"
	                       "{\"version\":\"1.0\",\"nodes\":["
	                       "{\"namespace\":\"Test\",\"name\":\"Dup\","
	                       "\"attributes\":[" ATTR("bbb") "]}]}]}",
	        "(schemas[0].nodes[0] and schemas[1].nodes[0])");
	expect_refused(
	        base,
	        "{\"schemas\":[{\"version\":\"1.0\",\"generics\":["
	        "{\"namespace\":\"Test\",\"name\":\"Dup\","
	        "\"attributes\":[" ATTR(
	                "aaa") "]}],\"nodes\":["
	                       "{\"namespace\":\"Test\",\"name\":\"Dup\","
	                       "\"attributes\":[" ATTR("bbb") "]}]}]}",
	        "(schemas[0].generics[0] and schemas[0].nodes[0])");
	/* Loading a kind again in a later load still updates it. */
	out = load_ok(base, "{\"schemas\":[{\"version\":\"1.0\",\"nodes\":["
	                    "{\"namespace\":\"Test\",\"name\":\"Dup\","
	                    "\"attributes\":[" ATTR("aaa") "]}]}]}");
	hfs_schema_free(base);
	base = out;
	out = load_ok(base, "{\"schemas\":[{\"version\":\"1.0\",\"nodes\":["
	                    "{\"namespace\":\"Test\",\"name\":\"Dup\","
	                    "\"attributes\":[" ATTR("bbb") "]}]}]}");
	assert_non_null(hfs_kind_attr(kind(out, "TestDup"), "bbb"));
	hfs_schema_free(out);
	hfs_schema_free(base);
}

/* Generics naming each other in inherit_from: refused, cycle named. */
static void test_srv_core__cyclic_inheritance(void **state)
{
	hfs_schema *base = core(), *out = NULL;

	(void)state;
	expect_refused(
	        base,
	        "{\"schemas\":[{\"version\":\"1.0\",\"generics\":["
	        "{\"namespace\":\"Test\",\"name\":\"GenA\","
	        "\"inherit_from\":[\"TestGenB\"],"
	        "\"attributes\":[" ATTR(
	                "aaa") "]},"
	                       "{\"namespace\":\"Test\",\"name\":\"GenB\","
	                       "\"inherit_from\":[\"TestGenA\"],"
	                       "\"attributes\":[" ATTR("bbb") "]}]}]}",
	        "Cyclic inheritance between generics: TestGenA -> "
	        "TestGenB -> TestGenA");
	expect_refused(base,
	               "{\"schemas\":[{\"version\":\"1.0\",\"generics\":["
	               "{\"namespace\":\"Test\",\"name\":\"Self\","
	               "\"inherit_from\":[\"TestSelf\"],"
	               "\"attributes\":[" ATTR("aaa") "]}]}]}",
	               "TestSelf -> TestSelf");
	/* A cycle closed by a later load, through a stored generic. */
	out = load_ok(
	        base,
	        "{\"schemas\":[{\"version\":\"1.0\",\"generics\":["
	        "{\"namespace\":\"Test\",\"name\":\"GenA\","
	        "\"inherit_from\":[\"TestGenB\"],"
	        "\"attributes\":[" ATTR(
	                "aaa") "]},"
	                       "{\"namespace\":\"Test\",\"name\":\"GenB\","
	                       "\"attributes\":[" ATTR("bbb") "]}]}]}");
	expect_refused(out,
	               "{\"schemas\":[{\"version\":\"1.0\",\"generics\":["
	               "{\"namespace\":\"Test\",\"name\":\"GenB\","
	               "\"inherit_from\":[\"TestGenA\"],"
	               "\"attributes\":[" ATTR("bbb") "]}]}]}",
	               "Cyclic inheritance between generics");
	hfs_schema_free(out);
	hfs_schema_free(base);
}

int main(void)
{
	const struct CMUnitTest core_tests[] = {
		cmocka_unit_test(test_srv_core__duplicate_kinds),
		cmocka_unit_test(test_srv_core__cyclic_inheritance),
		cmocka_unit_test(test_srv_core__kinds),
		cmocka_unit_test(test_srv_core__accounts),
		cmocka_unit_test(test_srv_core__repositories_and_pools),
		cmocka_unit_test(test_srv_core__references),
		cmocka_unit_test(test_srv_core__unknown_extension),
		cmocka_unit_test(test_srv_core__name_limits),
		cmocka_unit_test(test_srv_core__label_and_namespace_limits),
		cmocka_unit_test(test_srv_core__node_limits),
		cmocka_unit_test(test_srv_core__restricted_generics),
		cmocka_unit_test(test_srv_core__rest_bodies),
	};
	const struct CMUnitTest corpus_tests[] = {
		cmocka_unit_test(test_srv_core__service_catalog),
		cmocka_unit_test(test_srv_core__service_catalog_cli),
		cmocka_unit_test(test_srv_core__reachability),
	};
	int rc = cmocka_run_group_tests_name("core", core_tests, NULL, NULL);

	if (rc != 0)
		return rc;
	if (!hf_test_shared()) {
		printf("skipped: the corpus tests need $HF_SHARED_DIR (the "
		       "shared Infrahub corpus), not present\n");
		return 77;
	}
	snprintf(corpus, sizeof(corpus),
	         "%s/corpus/infrahub-demo-service-catalog", hf_test_shared());
	return cmocka_run_group_tests_name("corpus", corpus_tests, NULL, NULL);
}
