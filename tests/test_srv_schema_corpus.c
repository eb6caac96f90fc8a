/*
 * Schema processing against the real corpus (opsmill/infrahub-demo-sp):
 * the 14 schema files load in one request on top of the core kinds, the
 * processed result has what the object files rely on, and every field the
 * object files set exists on its kind with a value the kind accepts.
 * Skipped (77) when $HF_SHARED_DIR is absent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "../server/schema.h"
#include "hf/alloc.h"
#include "testutil.h"
#include "yaml2json.h"

static const char *const schema_files[] = {
	"base/dcim.yml",
	"base/ipam.yml",
	"base/location.yml",
	"base/organization.yml",
	"extensions/routing/routing.yml",
	"extensions/routing_bgp/bgp.yml",
	"extensions/topology/topology.yml",
	"extensions/vrf/vrf.yml",
	"sp/dcim_role_pe.yml",
	"sp/location_concrete.yml",
	"sp/mpls.yml",
	"sp/service_l3vpn.yml",
	"sp/service_sdwan.yml",
	"sp/topology_mpls.yml",
	NULL,
};

static const char *const object_files[] = {
	"00_manufacturers.yml",
	"10_locations.yml",
	"30_platforms.yml",
	"40_device_types.yml",
	"50_pools.yml",
	"55_groups.yml",
	"datasets/financial/02_organizations.yml",
	"datasets/financial/12_locations.yml",
	"datasets/financial/20_asns.yml",
	"datasets/financial/52_vlan_pools.yml",
	"datasets/financial/60_backbone.yml",
	"datasets/financial/65_ce.yml",
	"datasets/financial/70_topology.yml",
	"datasets/financial/80_l3vpn.yml",
	"datasets/financial/90_sdwan.yml",
	"datasets/isp/02_organizations.yml",
	"datasets/isp/20_asns.yml",
	"datasets/isp/60_backbone.yml",
	"datasets/isp/70_topology.yml",
	"datasets/isp/80_l3vpn.yml",
	"datasets/isp/90_sdwan.yml",
	"git-repo/github.yml",
	"git-repo/local-dev.yml",
	"events/00_triggers.yml",
	NULL,
};

struct fx {
	json_t *request;
	hfs_schema *core;
	hfs_schema *s;
	json_t *response;
	int status;
};

static char corpus[1024];

static json_t *load_yaml(const char *dir, const char *rel)
{
	char path[2048], err[256];
	json_t *docs;

	snprintf(path, sizeof(path), "%s/%s/%s", corpus, dir, rel);
	docs = hf_yaml2json_file(path, err, sizeof(err));
	if (!docs)
		fail_msg("%s: %s", path, err);
	return docs;
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	hf_error err = HF_ERROR_INIT;
	size_t i;

	fx->request = json_pack("{s:[]}", "schemas");
	for (i = 0; schema_files[i]; i++) {
		json_t *docs = load_yaml("schemas", schema_files[i]);

		json_array_extend(json_object_get(fx->request, "schemas"),
		                  docs);
		json_decref(docs);
	}
	assert_int_equal(hfs_schema_new(&fx->core, NULL, &err), 0);
	assert_int_equal(hfs_schema_load(&fx->s, fx->core, fx->request, 0,
	                                 &fx->response, &fx->status, &err),
	                 0);
	if (fx->status != 200) {
		char *t = json_dumps(fx->response, 0);

		fail_msg("status %d: %s", fx->status, t);
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	json_decref(fx->request);
	json_decref(fx->response);
	hfs_schema_free(fx->s);
	hfs_schema_free(fx->core);
	free(fx);
	return 0;
}

static const struct hfs_kind *kind(struct fx *fx, const char *k)
{
	const struct hfs_kind *sk = hfs_schema_kind(fx->s, k);

	if (!sk)
		fail_msg("kind %s missing", k);
	return sk;
}

static void test_srv_schema_corpus__user_kinds(void **state)
{
	struct fx *fx = *state;
	json_t *doc, *n;
	size_t i, j, generics = 0, nodes = 0;

	json_array_foreach(json_object_get(fx->request, "schemas"), i, doc)
	{
		json_array_foreach(json_object_get(doc, "generics"), j, n)
		{
			char k[128];

			snprintf(k, sizeof(k), "%s%s",
			         json_string_value(
			                 json_object_get(n, "namespace")),
			         json_string_value(json_object_get(n, "name")));
			assert_int_equal(kind(fx, k)->type, HFS_GENERIC);
			generics++;
		}
		json_array_foreach(json_object_get(doc, "nodes"), j, n)
		{
			char k[128];

			snprintf(k, sizeof(k), "%s%s",
			         json_string_value(
			                 json_object_get(n, "namespace")),
			         json_string_value(json_object_get(n, "name")));
			assert_int_equal(kind(fx, k)->type, HFS_NODE);
			nodes++;
		}
	}
	assert_int_equal(generics, 13);
	assert_int_equal(nodes, 25);
	assert_true(
	        json_is_true(json_object_get(fx->response, "schema_updated")));
	assert_int_equal(
	        json_object_size(json_object_get(
	                json_object_get(fx->response, "diff"), "added")),
	        38);
}

static void test_srv_schema_corpus__extensions(void **state)
{
	struct fx *fx = *state;
	const struct hfs_kind *dev = kind(fx, "DcimDevice");
	const struct hfs_attr *role = hfs_kind_attr(dev, "role");
	const struct hfs_rel *asn = hfs_kind_rel(dev, "asn");
	size_t i;
	int pe = 0;

	assert_non_null(asn);
	assert_string_equal(asn->peer, "RoutingAutonomousSystem");
	assert_false(asn->many);
	assert_true(asn->inherited);
	assert_non_null(role);
	for (i = 0; i < role->nchoices; i++)
		pe |= strcmp(role->choices[i].name, "pe") == 0;
	assert_true(pe);
	asn = hfs_kind_rel(kind(fx, "OrganizationTenant"), "asn");
	assert_non_null(asn);
	assert_true(asn->many);
	assert_non_null(hfs_kind_rel(kind(fx, "IpamPrefix"), "vrf"));
	assert_non_null(hfs_kind_rel(kind(fx, "IpamIPAddress"), "vrf"));
}

static void test_srv_schema_corpus__hierarchy(void **state)
{
	struct fx *fx = *state;
	const struct hfs_kind *site = kind(fx, "LocationSite");
	const struct hfs_rel *p = hfs_kind_rel(site, "parent");
	const struct hfs_rel *c = hfs_kind_rel(site, "children");

	assert_string_equal(site->hierarchy, "LocationGeneric");
	assert_non_null(p);
	assert_non_null(c);
	assert_string_equal(p->kind, "Hierarchy");
	assert_string_equal(p->peer, "LocationGeneric");
	assert_string_equal(p->identifier, "parent__child");
	assert_false(p->many);
	assert_true(c->many);
	assert_string_equal(c->direction, "inbound");
	assert_string_equal(site->hfid.v[0], "shortname__value");
	/* IpamPrefix is hierarchical through BuiltinIPPrefix, read-only. */
	p = hfs_kind_rel(kind(fx, "IpamPrefix"), "parent");
	assert_non_null(p);
	assert_true(p->read_only);
	assert_string_equal(kind(fx, "IpamPrefix")->default_filter,
	                    "prefix__value");
}

static void test_srv_schema_corpus__inheritance(void **state)
{
	struct fx *fx = *state;
	const struct hfs_kind *ip = kind(fx, "IpamIPAddress");
	const struct hfs_kind *phys = kind(fx, "InterfacePhysical");
	const struct hfs_attr *a = hfs_kind_attr(ip, "address");
	const struct hfs_rel *r;

	assert_non_null(a);
	assert_string_equal(a->kind, "IPHost");
	assert_true(a->inherited);
	assert_non_null(hfs_kind_attr(ip, "description"));
	assert_non_null(hfs_kind_rel(ip, "ip_namespace"));
	r = hfs_kind_rel(ip, "interface");
	assert_string_equal(r->identifier, "interfacelayer3__ipamipaddress");
	r = hfs_kind_rel(phys, "ip_addresses");
	assert_string_equal(r->identifier, "interfacelayer3__ipamipaddress");
	assert_true(
	        hfs_schema_is_a(fx->s, "InterfacePhysical", "DcimInterface"));
	assert_true(hfs_schema_is_a(fx->s, "InterfacePhysical", "CoreNode"));
	assert_false(hfs_schema_is_a(fx->s, "InterfacePhysical",
	                             "DcimGenericDevice"));
	assert_int_equal(phys->hfid.n, 2);
	assert_string_equal(phys->hfid.v[0], "device__name__value");
	assert_string_equal(phys->hfid.v[1], "name__value");
	assert_int_equal(ip->hfid.n, 2);
	assert_string_equal(ip->hfid.v[1], "ip_namespace__name__value");
	/* Attributes with a default value are optional. */
	assert_true(hfs_kind_attr(phys, "mtu")->optional);
	assert_string_equal(
	        hfs_kind_rel(kind(fx, "ServiceL3Vpn"), "sites")->on_delete,
	        "cascade");
}

static void test_srv_schema_corpus__reverse(void **state)
{
	struct fx *fx = *state;
	const struct hfs_rel *r;

	r = hfs_kind_rel(kind(fx, "IpamIPAddress"), "interface");
	r = hfs_rel_reverse(fx->s, "IpamIPAddress", r);
	assert_non_null(r);
	assert_string_equal(r->name, "ip_addresses");
	r = hfs_kind_rel(kind(fx, "ServiceL3VpnSite"), "l3vpn");
	r = hfs_rel_reverse(fx->s, "ServiceL3VpnSite", r);
	assert_non_null(r);
	assert_string_equal(r->name, "sites");
	r = hfs_kind_rel(kind(fx, "LocationSite"), "parent");
	r = hfs_rel_reverse(fx->s, "LocationSite", r);
	assert_non_null(r);
	assert_string_equal(r->name, "children");
	r = hfs_kind_rel(kind(fx, "DcimDevice"), "member_of_groups");
	r = hfs_rel_reverse(fx->s, "DcimDevice", r);
	assert_non_null(r);
	assert_string_equal(r->name, "members");
	/* One-sided: no relationship back from RoutingAutonomousSystem. */
	r = hfs_kind_rel(kind(fx, "TopologyMplsBackbone"), "asn");
	assert_null(hfs_rel_reverse(fx->s, "TopologyMplsBackbone", r));
}

static void test_srv_schema_corpus__groups(void **state)
{
	struct fx *fx = *state;
	const struct hfs_kind *g = kind(fx, "CoreStandardGroup");
	size_t i;

	for (i = 0; i < hfs_schema_count(fx->s); i++) {
		const struct hfs_kind *k = hfs_schema_at(fx->s, i);
		const struct hfs_rel *r;

		if (k->type != HFS_NODE ||
		    hfs_schema_is_a(fx->s, k->kind, "CoreGroup"))
			continue;
		r = hfs_kind_rel(k, "member_of_groups");
		if (!r)
			fail_msg("%s has no member_of_groups", k->kind);
		assert_string_equal(r->kind, "Group");
		assert_string_equal(r->peer, "CoreGroup");
		assert_true(r->many);
	}
	assert_null(hfs_kind_rel(g, "member_of_groups"));
	assert_int_equal(g->hfid.n, 1);
	assert_string_equal(g->hfid.v[0], "name__value");
	assert_string_equal(g->default_filter, "name__value");
	assert_string_equal(kind(fx, "CoreNumberPool")->hfid.v[0],
	                    "name__value");
	assert_string_equal(kind(fx, "IpamNamespace")->hfid.v[0],
	                    "name__value");
}

static void test_srv_schema_corpus__reload_same_hash(void **state)
{
	struct fx *fx = *state;
	hfs_schema *again = NULL, *back = NULL;
	json_t *resp = NULL, *diff;
	hf_error err = HF_ERROR_INIT;
	char *text;
	int status;

	assert_int_equal(hfs_schema_load(&again, fx->s, fx->request, 0, &resp,
	                                 &status, &err),
	                 0);
	assert_int_equal(status, 200);
	assert_string_equal(hfs_schema_hash(again), hfs_schema_hash(fx->s));
	assert_true(json_is_false(json_object_get(resp, "schema_updated")));
	diff = json_object_get(resp, "diff");
	assert_int_equal(json_object_size(json_object_get(diff, "added")), 0);
	assert_int_equal(json_object_size(json_object_get(diff, "changed")), 0);
	assert_int_equal(json_object_size(json_object_get(diff, "removed")), 0);
	text = hfs_schema_persist(again);
	assert_non_null(text);
	assert_int_equal(hfs_schema_new(&back, text, &err), 0);
	assert_string_equal(hfs_schema_hash(back), hfs_schema_hash(fx->s));
	hf_free(text);
	json_decref(resp);
	hfs_schema_free(again);
	hfs_schema_free(back);
}

static void check_item(struct fx *fx, const char *k, json_t *item,
                       const char *where);

static void check_value(struct fx *fx, const struct hfs_kind *sk,
                        const char *key, json_t *v, const char *where)
{
	const struct hfs_attr *a = hfs_kind_attr(sk, key);
	hf_error err = HF_ERROR_INIT;
	json_t *norm = NULL, *sub;
	const char *outer;
	size_t i;

	if (a) {
		if (hfs_attr_check(a, v, &norm, &err) < 0)
			fail_msg("%s: %s.%s: %s", where, sk->kind, key,
			         err.msg);
		json_decref(norm);
		return;
	}
	if (!hfs_kind_rel(sk, key))
		fail_msg("%s: %s has no field '%s'", where, sk->kind, key);
	if (!json_is_object(v) || !json_object_get(v, "kind"))
		return;
	outer = json_string_value(json_object_get(v, "kind"));
	sub = json_object_get(v, "data");
	if (json_is_object(sub))
		check_item(fx, outer, sub, where);
	json_array_foreach(sub, i, v)
	{
		const char *own = json_string_value(json_object_get(v, "kind"));

		check_item(fx, own ? own : outer, v, where);
	}
}

static void check_item(struct fx *fx, const char *k, json_t *item,
                       const char *where)
{
	const struct hfs_kind *sk = kind(fx, k);
	const char *key;
	json_t *v;

	json_object_foreach(item, key, v)
	{
		if (strcmp(key, "kind") == 0)
			continue;
		check_value(fx, sk, key, v, where);
	}
}

static void test_srv_schema_corpus__object_fields_exist(void **state)
{
	struct fx *fx = *state;
	size_t f, d, i;
	json_t *doc, *item;

	for (f = 0; object_files[f]; f++) {
		json_t *docs = load_yaml("objects", object_files[f]);

		json_array_foreach(docs, d, doc)
		{
			json_t *spec = json_object_get(doc, "spec");
			const char *k = json_string_value(
			        json_object_get(spec, "kind"));

			json_array_foreach(json_object_get(spec, "data"), i,
			                   item)
			        check_item(fx, k, item, object_files[f]);
		}
		json_decref(docs);
	}
}

static void test_srv_schema_corpus__api_shape(void **state)
{
	struct fx *fx = *state;
	json_t *api = hfs_schema_api(fx->s, NULL, 0), *el, *a;
	const char *keys[] = { "id",
		               "state",
		               "name",
		               "namespace",
		               "kind",
		               "label",
		               "branch",
		               "default_filter",
		               "human_friendly_id",
		               "display_labels",
		               "include_in_menu",
		               "menu_placement",
		               "icon",
		               "order_by",
		               "uniqueness_constraints",
		               "documentation",
		               "inherit_from",
		               "generate_profile",
		               "hierarchy",
		               "parent",
		               "children",
		               "attributes",
		               "relationships",
		               "filters",
		               "hash",
		               "description",
		               NULL };
	size_t i, k;

	assert_non_null(api);
	assert_string_equal(json_string_value(json_object_get(api, "main")),
	                    hfs_schema_hash(fx->s));
	json_array_foreach(json_object_get(api, "nodes"), i, el)
	{
		for (k = 0; keys[k]; k++)
			if (!json_object_get(el, keys[k]))
				fail_msg("%s lacks %s",
				         json_string_value(
				                 json_object_get(el, "kind")),
				         keys[k]);
	}
	assert_true(json_array_size(json_object_get(api, "generics")) > 13);
	assert_true(json_array_size(json_object_get(api, "profiles")) > 0);
	json_decref(api);
	el = hfs_schema_api_kind(fx->s, "IpamIPAddress");
	assert_non_null(el);
	a = json_array_get(json_object_get(el, "attributes"), 0);
	assert_non_null(json_object_get(a, "allow_override"));
	assert_non_null(json_object_get(a, "choices"));
	json_decref(el);
}

static void test_srv_schema_corpus__fast(void **state)
{
	struct fx *fx = *state;
	struct timespec t0, t1;
	hfs_schema *s = NULL;
	json_t *resp = NULL;
	hf_error err = HF_ERROR_INIT;
	double ms;
	int status;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(hfs_schema_load(&s, fx->core, fx->request, 0, &resp,
	                                 &status, &err),
	                 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	     (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	print_message("corpus load: %.1f ms\n", ms);
	/* Generous bound: sanitizer builds are several times slower. */
	assert_true(ms < 2000);
	json_decref(resp);
	hfs_schema_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_srv_schema_corpus__user_kinds),
		cmocka_unit_test(test_srv_schema_corpus__extensions),
		cmocka_unit_test(test_srv_schema_corpus__hierarchy),
		cmocka_unit_test(test_srv_schema_corpus__inheritance),
		cmocka_unit_test(test_srv_schema_corpus__reverse),
		cmocka_unit_test(test_srv_schema_corpus__groups),
		cmocka_unit_test(test_srv_schema_corpus__reload_same_hash),
		cmocka_unit_test(test_srv_schema_corpus__object_fields_exist),
		cmocka_unit_test(test_srv_schema_corpus__api_shape),
		cmocka_unit_test(test_srv_schema_corpus__fast),
	};
	const char *shared = hf_test_shared();

	if (!shared) {
		printf("skipped: $HF_SHARED_DIR (shared corpus) not present\n");
		return 77;
	}
	snprintf(corpus, sizeof(corpus), "%s/corpus/infrahub-demo-sp", shared);
	hf_alloc_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
