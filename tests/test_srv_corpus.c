/*
 * The open corpus (../shared/corpus/infrahub-demo-sp) against `hubform
 * serve`: its 14 schema files load in one request, then the `financial`
 * and `isp` datasets are written the way the Infrahub SDK writes them
 * (tests/helpers/sdkload.c), and the distinct objects per kind match the
 * corpus README. Writing `isp` over `financial` must hit Infrahub's
 * constraints as the real server does. Skips when ../shared is absent.
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
#include "corpus_sp.h"
#include "testutil.h"

static char corpus[400];

static const char *const schema_files[] = {
	"schemas/base/dcim.yml",
	"schemas/base/ipam.yml",
	"schemas/base/location.yml",
	"schemas/base/organization.yml",
	"schemas/extensions/routing/routing.yml",
	"schemas/extensions/routing_bgp/bgp.yml",
	"schemas/extensions/topology/topology.yml",
	"schemas/extensions/vrf/vrf.yml",
	"schemas/sp/dcim_role_pe.yml",
	"schemas/sp/location_concrete.yml",
	"schemas/sp/mpls.yml",
	"schemas/sp/service_l3vpn.yml",
	"schemas/sp/service_sdwan.yml",
	"schemas/sp/topology_mpls.yml",
};

struct kind_count {
	const char *kind;
	long financial;
	long isp;
};

/* Distinct objects per kind, summed from the corpus README's table. */
static const struct kind_count expected[] = {
	{ "OrganizationManufacturer", 5, 5 },
	{ "OrganizationProvider", 1, 1 },
	{ "OrganizationTenant", 8, 8 },
	{ "LocationRegion", 1, 1 },
	{ "LocationSite", 8, 4 },
	{ "RoutingAutonomousSystem", 1, 1 },
	{ "DcimPlatform", 6, 6 },
	{ "DcimDeviceType", 6, 6 },
	{ "IpamPrefix", 26, 16 },
	{ "CoreNumberPool", 5, 3 },
	{ "CoreIPAddressPool", 1, 1 },
	{ "CoreIPPrefixPool", 2, 2 },
	{ "CoreStandardGroup", 12, 12 },
	{ "DcimDevice", 12, 4 },
	{ "InterfaceVirtual", 12, 4 },
	{ "InterfacePhysical", 58, 28 },
	{ "IpamIPAddress", 42, 16 },
	{ "MplsIsisProcess", 8, 4 },
	{ "MplsLdpProcess", 8, 4 },
	{ "MplsBgpProcess", 8, 4 },
	{ "RoutingBGPSession", 56, 12 },
	{ "TopologyMplsBackbone", 1, 1 },
	{ "IpamNamespace", 2, 1 },
	{ "ServiceL3Vpn", 2, 1 },
	{ "ServiceL3VpnSite", 4, 4 },
	{ "ServiceSdwan", 1, 1 },
	{ "ServiceSdwanSite", 3, 3 },
};

#define NKINDS (sizeof(expected) / sizeof(expected[0]))

static void paths(const char **out, const char *const *rel, size_t n,
                  char (*buf)[512])
{
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(buf[i], 512, "%s/%s", corpus, rel[i]);
		out[i] = buf[i];
	}
}

static void start(struct hf_served *s, const char *name)
{
	const char *dir = hf_test_tmpdir(name);
	char db[512], buf[14][512];
	const char *files[14];
	json_t *res;
	long status = 0;

	snprintf(db, sizeof(db), "%s/data.db", dir);
	assert_int_equal(hf_serve_start(s, db, NULL), 0);
	paths(files, schema_files, 14, buf);
	res = hf_schema_load_files(s->url, NULL, files, 14, &status);
	if (status != 200) {
		char *t = json_dumps(res, 0);

		fprintf(stderr, "schema load: %ld %s\n", status, t);
		free(t);
	}
	assert_int_equal(status, 200);
	assert_true(json_is_true(json_object_get(res, "schema_updated")));
	json_decref(res);
}

static long count(const struct hf_served *s, const char *kind)
{
	char q[256];
	json_t *res;
	long n;

	snprintf(q, sizeof(q), "{ %s { count } }", kind);
	res = hf_gql(s->url, NULL, NULL, q, NULL);
	assert_non_null(res);
	assert_null(json_object_get(res, "errors"));
	n = (long)json_integer_value(json_object_get(
	        json_object_get(json_object_get(res, "data"), kind), "count"));
	json_decref(res);
	return n;
}

static void baseline(const struct hf_served *s, long *base)
{
	size_t i;

	for (i = 0; i < NKINDS; i++)
		base[i] = count(s, expected[i].kind);
}

static void print_errors(const struct hf_sdkload *l)
{
	json_t *e;
	size_t i;

	json_array_foreach(l->errors, i, e)
	{
		fprintf(stderr, "  %s\n", json_string_value(e));
	}
}

static void load(const struct hf_served *s, const char *const *rel, size_t n,
                 struct hf_sdkload *l)
{
	char buf[16][512];
	const char *files[16];

	memset(l, 0, sizeof(*l));
	l->url = s->url;
	paths(files, rel, n, buf);
	assert_int_equal(hf_sdkload_files(l, files, n), 0);
}

static void check_counts(const struct hf_served *s, const long *base,
                         int use_isp, long total)
{
	long sum = 0, got, want;
	size_t i;
	int bad = 0;

	for (i = 0; i < NKINDS; i++) {
		got = count(s, expected[i].kind) - base[i];
		want = use_isp ? expected[i].isp : expected[i].financial;
		if (got != want) {
			fprintf(stderr, "%s: %ld objects, want %ld\n",
			        expected[i].kind, got, want);
			bad = 1;
		}
		sum += got;
	}
	assert_false(bad);
	assert_int_equal(sum, total);
}

/* The selection of every attribute value and cardinality-one peer. */
static void kind_selection(char *q, size_t n, json_t *schema, const char *kind)
{
	json_t *k = NULL, *e, *nodes = json_object_get(schema, "nodes");
	size_t i, len;

	json_array_foreach(nodes, i, e)
	{
		if (!strcmp(json_string_value(json_object_get(e, "kind")),
		            kind))
			k = e;
	}
	assert_non_null(k);
	len = (size_t)snprintf(
	        q, n, "{ %s { count edges { node { id hfid display_label",
	        kind);
	json_array_foreach(json_object_get(k, "attributes"), i, e)
	{
		len += (size_t)snprintf(
		        q + len, n - len, " %s { value }",
		        json_string_value(json_object_get(e, "name")));
	}
	json_array_foreach(json_object_get(k, "relationships"), i, e)
	{
		if (strcmp(json_string_value(json_object_get(e, "cardinality")),
		           "one"))
			continue;
		len += (size_t)snprintf(
		        q + len, n - len, " %s { node { id } }",
		        json_string_value(json_object_get(e, "name")));
	}
	snprintf(q + len, n - len, " } } } }");
	assert_true(len < n - 16);
}

/* Every kind's ids, HFIDs, attribute values and cardinality-one peers:
 * what a re-load must not change. */
static json_t *snapshot(const struct hf_served *s, json_t *schema)
{
	json_t *all = json_object(), *res;
	static char q[16384];
	size_t i;

	for (i = 0; i < NKINDS; i++) {
		kind_selection(q, sizeof(q), schema, expected[i].kind);
		res = hf_gql(s->url, NULL, NULL, q, NULL);
		assert_non_null(res);
		assert_null(json_object_get(res, "errors"));
		json_object_set(all, expected[i].kind,
		                json_object_get(res, "data"));
		json_decref(res);
	}
	return all;
}

static void test_srv_corpus__financial_loads_and_reloads(void **state)
{
	struct hf_served s;
	struct hf_sdkload l;
	long base[NKINDS];
	json_t *before, *after;

	(void)state;
	start(&s, "financial");
	baseline(&s, base);
	load(&s, hf_sp_financial, HF_SP_FINANCIAL_N, &l);
	print_errors(&l);
	assert_int_equal(l.failures, 0);
	assert_int_equal(l.requests, 302);
	check_counts(&s, base, 0, 299);
	before = snapshot(&s, l.schema);
	hf_sdkload_release(&l);
	load(&s, hf_sp_financial, HF_SP_FINANCIAL_N, &l);
	print_errors(&l);
	assert_int_equal(l.failures, 0);
	after = snapshot(&s, l.schema);
	hf_sdkload_release(&l);
	assert_true(json_equal(before, after));
	json_decref(before);
	json_decref(after);
	assert_int_equal(hf_serve_stop(&s), 0);
}

static void test_srv_corpus__isp_loads(void **state)
{
	struct hf_served s;
	struct hf_sdkload l;
	long base[NKINDS];

	(void)state;
	start(&s, "isp");
	baseline(&s, base);
	load(&s, hf_sp_isp, HF_SP_ISP_N, &l);
	print_errors(&l);
	assert_int_equal(l.failures, 0);
	hf_sdkload_release(&l);
	check_counts(&s, base, 1, 153);
	assert_int_equal(hf_serve_stop(&s), 0);
}

static int has_error(const struct hf_sdkload *l, const char *a, const char *b)
{
	json_t *e;
	size_t i;

	json_array_foreach(l->errors, i, e)
	{
		if (strstr(json_string_value(e), a) &&
		    (!b || strstr(json_string_value(e), b)))
			return 1;
	}
	return 0;
}

static void test_srv_corpus__isp_over_financial_hits_constraints(void **state)
{
	struct hf_served s;
	struct hf_sdkload l;

	(void)state;
	start(&s, "ispoverfin");
	load(&s, hf_sp_financial, HF_SP_FINANCIAL_N, &l);
	assert_int_equal(l.failures, 0);
	hf_sdkload_release(&l);
	load(&s, hf_sp_isp, HF_SP_ISP_N, &l);
	print_errors(&l);
	assert_true(has_error(&l,
	                      "An object already exist with this value: "
	                      "vpn_id: 100 at vpn_id",
	                      NULL));
	assert_true(has_error(&l,
	                      "An object already exist with this value: "
	                      "service_id: 100 at service_id",
	                      NULL));
	/* an address still held by its financial interface: Infrahub's
	 * count validator names the relationship identifier */
	assert_true(has_error(&l, "interfacelayer3__ipamipaddress",
	                      "maximum of 1 allowed"));
	hf_sdkload_release(&l);
	assert_int_equal(hf_serve_stop(&s), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_srv_corpus__financial_loads_and_reloads),
		cmocka_unit_test(test_srv_corpus__isp_loads),
		cmocka_unit_test(
		        test_srv_corpus__isp_over_financial_hits_constraints),
	};
	const char *shared = hf_test_shared();

	if (!shared) {
		printf("skipped: ../shared/corpus/infrahub-demo-sp is not present\n");
		return 77;
	}
	snprintf(corpus, sizeof(corpus), "%s/corpus/infrahub-demo-sp", shared);
	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
