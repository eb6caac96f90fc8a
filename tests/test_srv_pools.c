/*
 * Resource pools of the local endpoint, driven in-process through
 * hfs_app_handle(): CoreIPAddressPool, CoreIPPrefixPool and
 * CoreNumberPool allocation through the Infrahub*PoolGetResource
 * mutations and from_pool inputs, idempotency by identifier (also across
 * branches and Upserts), exhaustion, rollback of a failed mutation, and
 * the GetNextAvailable queries. Schema: tests/data/pools/schema.json.
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
	char pool_addr[64];
	char pool_pfx[64];
	char pool_num[64];
	char prefix[64];
};

static int setup(void **state)
{
	struct fx *f = srv_fx_new(sizeof(*f), ":memory:");

	assert_non_null(f);
	srv_load_schema_file(f->app, "pools/schema.json");
	*state = f;
	return 0;
}

/* An address pool over 10.0.0.0/29 (six hosts). */
static void address_pool(struct fx *f)
{
	char q[1024];

	srv_q_str(f->app, NULL,
	          "mutation { IpamPrefixCreate(data: {prefix: {value: "
	          "\"10.0.0.0/29\"}, member_type: {value: \"address\"}}) "
	          "{ ok object { id } } }",
	          "IpamPrefixCreate.object.id", f->prefix, sizeof(f->prefix));
	snprintf(q, sizeof(q),
	         "mutation { CoreIPAddressPoolCreate(data: {name: {value: "
	         "\"mgmt\"}, default_address_type: {value: \"IpamIPAddress\"},"
	         " resources: [{id: \"%s\"}], ip_namespace: {id: "
	         "\"default\"}}) { ok object { id } } }",
	         f->prefix);
	srv_q_str(f->app, NULL, q, "CoreIPAddressPoolCreate.object.id",
	          f->pool_addr, sizeof(f->pool_addr));
}

/* InfrahubIPAddressPoolGetResource with an optional identifier. */
static void get_address(struct fx *f, const char *branch, const char *ident,
                        char *id, char *label)
{
	char q[1024], tmp[64];
	json_t *d;

	snprintf(q, sizeof(q),
	         "mutation { InfrahubIPAddressPoolGetResource(data: {id: "
	         "\"%s\"%s%s%s}) { ok node { id kind display_label branch "
	         "identifier __typename } __typename } }",
	         f->pool_addr, ident ? ", identifier: \"" : "",
	         ident ? ident : "", ident ? "\"" : "");
	d = srv_ok(f->app, branch, q);
	assert_true(
	        json_is_true(srv_at(d, "InfrahubIPAddressPoolGetResource.ok")));
	assert_string_equal(
	        srv_str_at(d, "InfrahubIPAddressPoolGetResource.node.kind"),
	        "IpamIPAddress");
	assert_string_equal(
	        srv_str_at(d, "InfrahubIPAddressPoolGetResource.__typename"),
	        "IPAddressPoolGetResource");
	assert_string_equal(
	        srv_str_at(d, "InfrahubIPAddressPoolGetResource.node.branch"),
	        branch ? branch : "main");
	if (ident)
		assert_string_equal(
		        srv_str_at(d, "InfrahubIPAddressPoolGetResource.node."
		                      "identifier"),
		        ident);
	snprintf(tmp, sizeof(tmp), "%s",
	         srv_str_at(d, "InfrahubIPAddressPoolGetResource.node.id"));
	if (id)
		snprintf(id, 64, "%s", tmp);
	if (label)
		snprintf(label, 64, "%s",
		         srv_str_at(d, "InfrahubIPAddressPoolGetResource.node."
		                       "display_label"));
	json_decref(d);
}

static void test_srv_pools__address_pool(void **state)
{
	struct fx *f = *state;
	char id1[64], id2[64], lbl[64], q[512];
	json_t *d;

	address_pool(f);
	/* the network address is not a host of a prefix that is no pool */
	get_address(f, NULL, "web1", id1, lbl);
	assert_string_equal(lbl, "10.0.0.1/29");
	get_address(f, NULL, "web1", id2, lbl);
	assert_string_equal(id1, id2);
	assert_string_equal(lbl, "10.0.0.1/29");
	get_address(f, NULL, "web2", id2, lbl);
	assert_string_equal(lbl, "10.0.0.2/29");
	get_address(f, NULL, NULL, NULL, lbl);
	assert_string_equal(lbl, "10.0.0.3/29");
	get_address(f, NULL, NULL, NULL, lbl);
	assert_string_equal(lbl, "10.0.0.4/29");

	/* a host taken by hand is skipped; prefix_length sets the mask */
	d = srv_ok(f->app, NULL,
	           "mutation { IpamIPAddressCreate(data: {address: {value: "
	           "\"10.0.0.5/29\"}}) { ok } }");
	json_decref(d);
	snprintf(q, sizeof(q),
	         "mutation { InfrahubIPAddressPoolGetResource(data: {hfid: "
	         "[\"mgmt\"], prefix_length: 32, data: {description: "
	         "\"vip\"}}) { node { display_label } } }");
	d = srv_ok(f->app, NULL, q);
	assert_string_equal(srv_str_at(d,
	                               "InfrahubIPAddressPoolGetResource.node."
	                               "display_label"),
	                    "10.0.0.6/32");
	json_decref(d);
	d = srv_ok(f->app, NULL,
	           "query { IpamIPAddress(address__value: \"10.0.0.6/32\") "
	           "{ count edges { node { description { value } ip_namespace "
	           "{ node { display_label } } } } } }");
	assert_string_equal(
	        srv_str_at(d, "IpamIPAddress.edges.0.node.description.value"),
	        "vip");
	assert_string_equal(
	        srv_str_at(d, "IpamIPAddress.edges.0.node.ip_namespace.node."
	                      "display_label"),
	        "default");
	json_decref(d);

	/* .7 is the broadcast address: the pool is exhausted */
	snprintf(q, sizeof(q),
	         "mutation { InfrahubIPAddressPoolGetResource(data: {id: "
	         "\"%s\", identifier: \"web9\"}) { ok } }",
	         f->pool_addr);
	assert_string_equal(srv_err_of(f->app, NULL, q),
	                    "There are no more addresses available in this "
	                    "pool.");
	/* an identifier that has its address still gets it */
	get_address(f, NULL, "web1", id2, lbl);
	assert_string_equal(id1, id2);
	assert_string_equal(
	        srv_err_of(f->app, NULL,
	                   "mutation { InfrahubIPAddressPoolGetResource(data: "
	                   "{id: \"nope\"}) { ok } }"),
	        "Unable to find the node nope / CoreIPAddressPool in the "
	        "database.");
}

static void test_srv_pools__address_pool_is_pool(void **state)
{
	struct fx *f = *state;
	char lbl[64], q[512];
	json_t *d;

	address_pool(f);
	snprintf(q, sizeof(q),
	         "mutation { IpamPrefixUpdate(data: {id: \"%s\", is_pool: "
	         "{value: true}}) { ok } }",
	         f->prefix);
	json_decref(srv_ok(f->app, NULL, q));
	/* a pool prefix hands out its network address too */
	get_address(f, NULL, NULL, NULL, lbl);
	assert_string_equal(lbl, "10.0.0.0/29");

	/* the read-only query agrees and reserves nothing */
	snprintf(q, sizeof(q),
	         "query { InfrahubIPAddressGetNextAvailable(prefix_id: \"%s\","
	         " prefix_length: 32) { address __typename } }",
	         f->prefix);
	d = srv_ok(f->app, NULL, q);
	assert_string_equal(
	        srv_str_at(d, "InfrahubIPAddressGetNextAvailable.address"),
	        "10.0.0.1/32");
	assert_string_equal(
	        srv_str_at(d, "InfrahubIPAddressGetNextAvailable.__typename"),
	        "IPAddressGetNextAvailable");
	json_decref(d);
	get_address(f, NULL, NULL, NULL, lbl);
	assert_string_equal(lbl, "10.0.0.1/29");
}

static void prefix_pool(struct fx *f)
{
	char q[1024], res[64];

	srv_q_str(f->app, NULL,
	          "mutation { IpamPrefixCreate(data: {prefix: {value: "
	          "\"10.1.0.0/24\"}, member_type: {value: \"prefix\"}}) "
	          "{ ok object { id } } }",
	          "IpamPrefixCreate.object.id", res, sizeof(res));
	snprintf(f->prefix, sizeof(f->prefix), "%s", res);
	json_decref(srv_ok(f->app, NULL,
	                   "mutation { IpamPrefixCreate(data: {prefix: {value: "
	                   "\"10.1.0.0/26\"}}) { ok } }"));
	snprintf(q, sizeof(q),
	         "mutation { CoreIPPrefixPoolCreate(data: {name: {value: "
	         "\"customers\"}, default_prefix_type: {value: "
	         "\"IpamPrefix\"}, default_prefix_length: {value: 26}, "
	         "default_member_type: {value: \"address\"}, resources: "
	         "[{id: \"%s\"}], ip_namespace: {id: \"default\"}}) "
	         "{ ok object { id } } }",
	         res);
	srv_q_str(f->app, NULL, q, "CoreIPPrefixPoolCreate.object.id",
	          f->pool_pfx, sizeof(f->pool_pfx));
}

static void get_prefix(struct fx *f, const char *args, char *id, char *label)
{
	char q[1024];
	json_t *d;

	snprintf(q, sizeof(q),
	         "mutation { InfrahubIPPrefixPoolGetResource(data: {id: "
	         "\"%s\"%s}) { ok node { id kind display_label } } }",
	         f->pool_pfx, args);
	d = srv_ok(f->app, NULL, q);
	assert_string_equal(
	        srv_str_at(d, "InfrahubIPPrefixPoolGetResource.node.kind"),
	        "IpamPrefix");
	if (id)
		snprintf(id, 64, "%s",
		         srv_str_at(d,
		                    "InfrahubIPPrefixPoolGetResource.node.id"));
	snprintf(label, 64, "%s",
	         srv_str_at(d, "InfrahubIPPrefixPoolGetResource.node."
	                       "display_label"));
	json_decref(d);
}

static void test_srv_pools__prefix_pool(void **state)
{
	struct fx *f = *state;
	char id1[64], id2[64], lbl[64], q[512];
	json_t *d;

	prefix_pool(f);
	/* 10.1.0.0/26 is taken: the next /26 */
	get_prefix(f, ", identifier: \"cust-a\"", id1, lbl);
	assert_string_equal(lbl, "10.1.0.64/26");
	get_prefix(f, ", identifier: \"cust-a\"", id2, lbl);
	assert_string_equal(id1, id2);
	get_prefix(f, ", prefix_length: 25, member_type: \"prefix\"", NULL,
	           lbl);
	assert_string_equal(lbl, "10.1.0.128/25");
	d = srv_ok(
	        f->app, NULL,
	        "query { IpamPrefix(prefix__value: \"10.1.0.64/26\") { edges "
	        "{ node { member_type { value } ip_namespace { node { "
	        "display_label } } } } } }");
	assert_string_equal(
	        srv_str_at(d, "IpamPrefix.edges.0.node.member_type.value"),
	        "address");
	json_decref(d);
	d = srv_ok(
	        f->app, NULL,
	        "query { IpamPrefix(prefix__value: \"10.1.0.128/25\") { edges "
	        "{ node { member_type { value } } } } }");
	assert_string_equal(
	        srv_str_at(d, "IpamPrefix.edges.0.node.member_type.value"),
	        "prefix");
	json_decref(d);

	snprintf(q, sizeof(q),
	         "mutation { InfrahubIPPrefixPoolGetResource(data: {id: "
	         "\"%s\"}) { ok } }",
	         f->pool_pfx);
	assert_string_equal(srv_err_of(f->app, NULL, q),
	                    "No more resources available");
	snprintf(q, sizeof(q),
	         "mutation { InfrahubIPPrefixPoolGetResource(data: {id: "
	         "\"%s\", member_type: \"bogus\"}) { ok } }",
	         f->pool_pfx);
	assert_string_equal(srv_err_of(f->app, NULL, q),
	                    "Invalid member_type value, allowed values are "
	                    "['prefix', 'address']");

	/* GetNextAvailable on the resource: nothing left at /26 either */
	snprintf(q, sizeof(q),
	         "query { InfrahubIPPrefixGetNextAvailable(prefix_id: \"%s\", "
	         "prefix_length: 27) { prefix } }",
	         f->prefix);
	assert_string_equal(srv_err_of(f->app, NULL, q),
	                    "No More subnet available");
}

static void test_srv_pools__prefix_next_available(void **state)
{
	struct fx *f = *state;
	char q[512];
	json_t *d;

	prefix_pool(f);
	snprintf(q, sizeof(q),
	         "query { InfrahubIPPrefixGetNextAvailable(prefix_id: \"%s\", "
	         "prefix_length: 28) { prefix } a: "
	         "InfrahubIPPrefixGetNextAvailable(prefix_id: \"%s\") "
	         "{ prefix } }",
	         f->prefix, f->prefix);
	d = srv_ok(f->app, NULL, q);
	assert_string_equal(
	        srv_str_at(d, "InfrahubIPPrefixGetNextAvailable.prefix"),
	        "10.1.0.64/28");
	/* without a length: the largest free block */
	assert_string_equal(srv_str_at(d, "a.prefix"), "10.1.0.128/25");
	json_decref(d);
}

static void number_pool(struct fx *f, long lo, long hi)
{
	char q[512];

	snprintf(q, sizeof(q),
	         "mutation { CoreNumberPoolCreate(data: {name: {value: "
	         "\"vlans\"}, node: {value: \"IpamVLAN\"}, node_attribute: "
	         "{value: \"vlan_id\"}, start_range: {value: %ld}, end_range: "
	         "{value: %ld}}) { ok object { id } } }",
	         lo, hi);
	srv_q_str(f->app, NULL, q, "CoreNumberPoolCreate.object.id",
	          f->pool_num, sizeof(f->pool_num));
}

static long long vlan(struct fx *f, const char *op, const char *name,
                      const char *extra)
{
	char q[1024], key[64];
	json_t *d;
	long long v;

	snprintf(key, sizeof(key), "IpamVLAN%s", op);
	snprintf(q, sizeof(q),
	         "mutation { %s(data: {name: {value: \"%s\"}, vlan_id: "
	         "{from_pool: {id: \"%s\"%s}}}) { ok object { vlan_id { value "
	         "source { id } } } } }",
	         key, name, f->pool_num, extra);
	d = srv_ok(f->app, NULL, q);
	snprintf(q, sizeof(q), "%s.object.vlan_id.source.id", key);
	assert_string_equal(srv_str_at(d, q), f->pool_num);
	snprintf(q, sizeof(q), "%s.object.vlan_id.value", key);
	v = json_integer_value(srv_at(d, q));
	json_decref(d);
	return v;
}

static void test_srv_pools__number_pool(void **state)
{
	struct fx *f = *state;
	char q[1024];

	number_pool(f, 100, 103);
	assert_int_equal(vlan(f, "Create", "v1", ""), 100);
	assert_int_equal(vlan(f, "Create", "v2", ""), 101);
	/* the same node asks again: its reservation (identifier: its id) */
	assert_int_equal(vlan(f, "Upsert", "v1", ""), 100);
	assert_int_equal(vlan(f, "Create", "v3", ", identifier: \"x\""), 102);
	assert_int_equal(vlan(f, "Upsert", "v4", ", identifier: \"x\""), 102);
	assert_int_equal(vlan(f, "Create", "v5", ""), 103);
	snprintf(q, sizeof(q),
	         "mutation { IpamVLANCreate(data: {name: {value: \"v6\"}, "
	         "vlan_id: {from_pool: {id: \"%s\"}}}) { ok } }",
	         f->pool_num);
	assert_string_equal(srv_err_of(f->app, NULL, q),
	                    "The pool vlans is exhausted. at "
	                    "vlan_id.from_pool");
	/* by name, and a pool for another attribute */
	snprintf(q, sizeof(q),
	         "mutation { TestDeviceCreate(data: {name: {value: \"d1\"}, "
	         "asn: {from_pool: {id: \"vlans\"}}}) { ok } }");
	assert_string_equal(srv_err_of(f->app, NULL, q),
	                    "The vlans pool can't be used for 'asn'. at "
	                    "asn.from_pool");
	assert_string_equal(
	        srv_err_of(f->app, NULL,
	                   "mutation { IpamVLANCreate(data: {name: {value: "
	                   "\"v7\"}, vlan_id: {from_pool: {id: \"nope\"}}}) "
	                   "{ ok } }"),
	        "The pool requested {'id': 'nope'} was not found. at "
	        "vlan_id.from_pool");
}

static void test_srv_pools__relationship_from_pool(void **state)
{
	struct fx *f = *state;
	char q[1024], addr1[64];
	json_t *d;

	address_pool(f);
	snprintf(q, sizeof(q),
	         "mutation { TestServiceUpsert(data: {name: {value: \"svc1\"}, "
	         "address: {from_pool: {id: \"%s\"}}}) { ok object { address "
	         "{ node { id display_label } properties { source { id } } } "
	         "} } }",
	         f->pool_addr);
	d = srv_ok(f->app, NULL, q);
	assert_string_equal(srv_str_at(d,
	                               "TestServiceUpsert.object.address.node."
	                               "display_label"),
	                    "10.0.0.1/29");
	assert_string_equal(
	        srv_str_at(d,
	                   "TestServiceUpsert.object.address.properties.source."
	                   "id"),
	        f->pool_addr);
	snprintf(addr1, sizeof(addr1), "%s",
	         srv_str_at(d, "TestServiceUpsert.object.address.node.id"));
	json_decref(d);

	/* the identifier is "hfid=TestService__svc1 rel=address": again */
	d = srv_ok(f->app, NULL, q);
	assert_string_equal(
	        srv_str_at(d, "TestServiceUpsert.object.address.node.id"),
	        addr1);
	json_decref(d);
	d = srv_ok(f->app, NULL, "query { IpamIPAddress { count } }");
	assert_int_equal(json_integer_value(srv_at(d, "IpamIPAddress.count")),
	                 1);
	json_decref(d);

	/* a pool of the wrong kind for the peer */
	prefix_pool(f);
	snprintf(q, sizeof(q),
	         "mutation { TestServiceCreate(data: {name: {value: \"svc2\"}, "
	         "address: {from_pool: {id: \"%s\"}}}) { ok } }",
	         f->pool_pfx);
	assert_non_null(strstr(srv_err_of(f->app, NULL, q),
	                       "cannot be added to relationship, must be of "
	                       "type: ['IpamIPAddress'] at address"));
	snprintf(q, sizeof(q),
	         "mutation { TestServiceCreate(data: {name: {value: \"svc3\"}, "
	         "prefix: {from_pool: {id: \"%s\", identifier: \"s3\", "
	         "prefix_length: 28}}}) { ok object { prefix { node { "
	         "display_label } } } } }",
	         f->pool_pfx);
	d = srv_ok(f->app, NULL, q);
	assert_string_equal(
	        srv_str_at(
	                d,
	                "TestServiceCreate.object.prefix.node.display_label"),
	        "10.1.0.64/28");
	json_decref(d);
	/* the node's id is chosen before its relationships resolve */
	assert_non_null(strstr(
	        srv_err_of(f->app, NULL,
	                   "mutation { TestServiceCreate(data: {name: {value: "
	                   "\"svc4\"}, prefix: {from_pool: {id: \"nope\"}}}) "
	                   "{ ok } }"),
	        "Unable to find the pool to generate a node for the "
	        "relationship 'prefix' on '"));
}

/* A failed mutation leaves no allocation, no reservation behind. */
static void test_srv_pools__rollback(void **state)
{
	struct fx *f = *state;
	char q[1024], lbl[64];

	address_pool(f);
	snprintf(q, sizeof(q),
	         "mutation { TestServiceCreate(data: {name: {value: \"svc1\"}, "
	         "address: {from_pool: {id: \"%s\", identifier: \"k\"}}, "
	         "bogus: {value: 1}}) { ok } }",
	         f->pool_addr);
	assert_string_equal(srv_err_of(f->app, NULL, q),
	                    "bogus is not a valid input for TestService at "
	                    "bogus");
	get_address(f, NULL, NULL, NULL, lbl);
	assert_string_equal(lbl, "10.0.0.1/29");
	get_address(f, NULL, "k", NULL, lbl);
	assert_string_equal(lbl, "10.0.0.2/29");
}

/*
 * Reservations are global: an identifier used on a branch gets its
 * resource there; another branch does not get the same address again.
 */
static void test_srv_pools__branches(void **state)
{
	struct fx *f = *state;
	char id1[64], id2[64], lbl[64];

	address_pool(f);
	json_decref(srv_ok(f->app, NULL,
	                   "mutation { BranchCreate(data: {name: \"br1\", "
	                   "sync_with_git: false}) { ok } }"));
	get_address(f, "br1", "web1", id1, lbl);
	assert_string_equal(lbl, "10.0.0.1/29");
	get_address(f, "br1", "web1", id2, lbl);
	assert_string_equal(id1, id2);
	/* main has no such node: a new address, not br1's */
	get_address(f, NULL, "web1", id2, lbl);
	assert_string_equal(lbl, "10.0.0.2/29");
	assert_string_not_equal(id1, id2);
	get_address(f, NULL, "web1", id1, lbl);
	assert_string_equal(id1, id2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_srv_pools__address_pool,
		                                setup, srv_fx_teardown),
		cmocka_unit_test_setup_teardown(
		        test_srv_pools__address_pool_is_pool, setup,
		        srv_fx_teardown),
		cmocka_unit_test_setup_teardown(test_srv_pools__prefix_pool,
		                                setup, srv_fx_teardown),
		cmocka_unit_test_setup_teardown(
		        test_srv_pools__prefix_next_available, setup,
		        srv_fx_teardown),
		cmocka_unit_test_setup_teardown(test_srv_pools__number_pool,
		                                setup, srv_fx_teardown),
		cmocka_unit_test_setup_teardown(
		        test_srv_pools__relationship_from_pool, setup,
		        srv_fx_teardown),
		cmocka_unit_test_setup_teardown(test_srv_pools__rollback, setup,
		                                srv_fx_teardown),
		cmocka_unit_test_setup_teardown(test_srv_pools__branches, setup,
		                                srv_fx_teardown),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
