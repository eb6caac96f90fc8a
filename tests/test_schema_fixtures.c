/*
 * hf_schema against the real and SDK-trimmed Infrahub payloads in
 * $HF_SHARED_DIR/fixtures/infrahub. Skipped (exit 77) when they are absent.
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
#include "hf/schema.h"
#include "testutil.h"

static json_t *fixture(const char *name)
{
	char path[1024];
	json_error_t jerr;
	json_t *j;

	snprintf(path, sizeof(path), "%s/fixtures/infrahub/%s",
	         hf_test_shared(), name);
	j = json_load_file(path, 0, &jerr);
	if (!j)
		fail_msg("%s: %s", path, jerr.text);
	return j;
}

static hf_schema *parse(json_t *answer)
{
	hf_error err = HF_ERROR_INIT;
	hf_schema *s = NULL;

	if (hf_schema_parse(&s, answer, &err) != 0)
		fail_msg("parse: %s", err.msg);
	json_decref(answer);
	return s;
}

/* One element of nodes[] or generics[] as a whole schema answer. */
static hf_schema *parse_single(const char *name, const char *section)
{
	return parse(json_pack("{s:s, s:[o]}", "main", "0123", section,
	                       fixture(name)));
}

static void test_schema_fixtures__sdk_schema_01(void **state)
{
	hf_schema *s = parse(fixture("sdk_schema_01.json"));
	const struct hf_schema_attr *a;
	const struct hf_schema_rel *r;
	const hf_kind *k;

	(void)state;
	assert_null(hf_schema_hash(s));
	assert_int_equal(hf_schema_count(s), 4);
	k = hf_schema_kind(s, "CoreRepository");
	assert_non_null(k);
	assert_int_equal(hf_schema_kind_inherit_from(k).n, 2);
	a = hf_schema_attr_find(k, "type");
	assert_int_equal(a->kind, HF_ATTR_TEXT); /* old "String" */
	assert_string_equal(json_string_value(a->default_value), "LOCAL");
	k = hf_schema_kind(s, "BuiltinTag");
	a = hf_schema_attr_find(k, "status");
	assert_int_equal(a->kind, HF_ATTR_DROPDOWN);
	assert_int_equal(a->choices.n, 1);
	assert_string_equal(a->choices.v[0], "active");
	a = hf_schema_attr_find(k, "mode");
	assert_int_equal(json_array_size(a->enum_values), 1);
	/* BuiltinLocation: no kind key, attributes without optional... */
	k = hf_schema_kind(s, "BuiltinLocation");
	assert_non_null(k);
	assert_false(hf_schema_attr_find(k, "type")->optional);
	assert_int_equal(hf_schema_kind_hfid(k).n, 0);
	/* ...and relationships without identifier or kind. */
	r = hf_schema_rel_find(k, "primary_tag");
	assert_int_equal(r->cardinality, HF_CARDINALITY_ONE);
	assert_int_equal(r->kind, HF_REL_GENERIC);
	assert_true(r->identifier_derived);
	assert_string_equal(r->identifier, "builtinlocation__builtintag");
	assert_string_equal(hf_schema_suggest(k, "primary_tags"),
	                    "primary_tag");
	hf_schema_free(s);
}

static void test_schema_fixtures__sdk_schema_02(void **state)
{
	hf_schema *s = parse(fixture("sdk_schema_02.json"));
	const hf_kind *const *impl;
	const hf_kind *g, *k;
	size_t n;

	(void)state;
	/* 6 nodes with CoreRepository twice, 2 generics. */
	assert_int_equal(hf_schema_count(s), 7);
	g = hf_schema_kind(s, "CoreNode");
	assert_int_equal(hf_schema_kind_type(g), HF_KIND_GENERIC);
	assert_int_equal(hf_schema_kind_used_by(g).n, 2);
	n = hf_schema_implementations(s, g, &impl);
	assert_int_equal(n, 2);
	assert_string_equal(hf_schema_kind_name(impl[0]), "BuiltinLocation");
	assert_string_equal(hf_schema_kind_name(impl[1]), "BuiltinTag");
	g = hf_schema_kind(s, "CoreGenericRepository");
	n = hf_schema_implementations(s, g, &impl);
	assert_int_equal(n, 2);
	assert_string_equal(hf_schema_kind_name(impl[0]),
	                    "CoreReadOnlyRepository");
	assert_string_equal(hf_schema_kind_name(impl[1]), "CoreRepository");
	/* The later CoreRepository (no "kind" key) replaced the first. */
	k = hf_schema_kind(s, "CoreRepository");
	assert_string_equal(hf_schema_kind_inherit_from(k).v[0], "DataOwner");
	assert_non_null(hf_schema_attr_find(k, "internal_status"));
	/* Still a CoreGenericRepository: the generic's used_by says so. */
	assert_true(hf_schema_is_a(s, k, "CoreGenericRepository"));
	assert_true(
	        hf_schema_is_a(s, hf_schema_kind(s, "BuiltinTag"), "CoreNode"));
	assert_string_equal(
	        hf_schema_attr_find(hf_schema_kind(s, "CoreReadOnlyRepository"),
	                            "password")
	                ->kind_name,
	        "Password");
	assert_int_equal(hf_schema_rel_find(g, "account")->kind,
	                 HF_REL_ATTRIBUTE);
	hf_schema_free(s);
}

static void test_schema_fixtures__ipam_ip_address(void **state)
{
	hf_schema *s = parse_single("rest_schema_kind_node_IpamIPAddress.json",
	                            "nodes");
	const hf_kind *k = hf_schema_kind(s, "IpamIPAddress");
	const struct hf_schema_attr *a;
	const struct hf_schema_rel *r;
	struct hf_schema_path p;
	hf_error err = HF_ERROR_INIT;

	(void)state;
	assert_non_null(k);
	assert_string_equal(hf_schema_kind_hash(k),
	                    "cbc89cba081b6fd444cdd959e2c2308c");
	assert_string_equal(hf_schema_kind_label(k), "IP Address");
	assert_string_equal(hf_schema_kind_branch(k), "aware");
	assert_string_equal(hf_schema_kind_default_filter(k), "address__value");
	assert_int_equal(hf_schema_kind_hfid(k).n, 0);
	assert_int_equal(hf_schema_kind_uniqueness_count(k), 0);
	assert_null(hf_schema_kind_hierarchy(k));
	assert_string_equal(hf_schema_kind_order_by(k).v[1],
	                    "address__binary_address");
	assert_string_equal(hf_schema_kind_inherit_from(k).v[0],
	                    "BuiltinIPAddress");
	assert_true(hf_schema_is_a(s, k, "BuiltinIPAddress"));
	a = hf_schema_attr_find(k, "address");
	assert_int_equal(a->kind, HF_ATTR_IPHOST);
	assert_true(a->inherited);
	assert_false(a->optional);
	assert_null(a->default_value);
	assert_int_equal(hf_schema_attr_count(k), 2);
	assert_int_equal(hf_schema_rel_count(k), 6);
	r = hf_schema_rel_find(k, "interface");
	assert_string_equal(r->identifier, "infrainterfacel3__ipamipaddress");
	assert_string_equal(r->on_delete, "no-action");
	assert_int_equal(r->max_count, 1);
	assert_true(hf_schema_rel_find(k, "ip_prefix")->read_only);
	assert_int_equal(hf_schema_rel_find(k, "profiles")->kind,
	                 HF_REL_PROFILE);
	assert_int_equal(hf_schema_rel_find(k, "member_of_groups")->kind,
	                 HF_REL_GROUP);
	/* The peer is not in this one-kind schema. */
	assert_null(hf_schema_rel_reverse(s, k, r));
	assert_int_equal(
	        hf_schema_path_parse(&p, k, "address__binary_address", 0, &err),
	        0);
	assert_int_equal(hf_schema_path_parse(&p, k,
	                                      hf_schema_kind_default_filter(k),
	                                      0, &err),
	                 0);
	hf_schema_free(s);
}

static void test_schema_fixtures__generic_account(void **state)
{
	hf_schema *s = parse_single(
	        "rest_schema_kind_generic_CoreGenericAccount.json", "generics");
	const hf_kind *g = hf_schema_kind(s, "CoreGenericAccount");
	const hf_kind *const *impl;
	const struct hf_schema_attr *a;
	hf_error err = HF_ERROR_INIT;
	json_t *v, *out = NULL;

	(void)state;
	assert_int_equal(hf_schema_kind_type(g), HF_KIND_GENERIC);
	assert_false(hf_schema_kind_hierarchical(g));
	assert_string_equal(hf_schema_kind_used_by(g).v[0], "CoreAccount");
	/* CoreAccount itself is not in this answer. */
	assert_int_equal(hf_schema_implementations(s, g, &impl), 0);
	assert_string_equal(hf_schema_kind_hfid(g).v[0], "name__value");
	assert_int_equal(hf_schema_attr_find(g, "password")->kind,
	                 HF_ATTR_HASHED_PASSWORD);
	a = hf_schema_attr_find(g, "role");
	assert_string_equal(json_string_value(a->default_value), "read-only");
	v = json_string("root");
	assert_int_equal(hf_value_check(&out, &a->spec, v, &err), HF_EINVAL);
	assert_string_equal(err.msg, "\"root\" is not an allowed value for "
	                             "Text attribute 'role'; allowed: admin, "
	                             "read-only, read-write");
	json_decref(v);
	hf_schema_free(s);
}

static void test_schema_fixtures__capture_schema(void **state)
{
	hf_schema *s = parse(fixture("queries/capture_schema.json"));
	const hf_kind *loc = hf_schema_kind(s, "BuiltinLocation");
	const struct hf_schema_rel *r;

	(void)state;
	assert_string_equal(hf_schema_hash(s),
	                    "c0272bc24cd943f21cf30affda06b12d");
	assert_int_equal(hf_schema_count(s), 2);
	r = hf_schema_rel_find(loc, "primary_tag");
	assert_string_equal(r->identifier, "builtinlocation__primary_tag");
	assert_false(r->identifier_derived);
	assert_int_equal(hf_schema_kind_hfid(loc).n, 1);
	/* The tag side has no relationship back. */
	assert_null(hf_schema_rel_reverse(s, loc, r));
	hf_schema_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schema_fixtures__sdk_schema_01),
		cmocka_unit_test(test_schema_fixtures__sdk_schema_02),
		cmocka_unit_test(test_schema_fixtures__ipam_ip_address),
		cmocka_unit_test(test_schema_fixtures__generic_account),
		cmocka_unit_test(test_schema_fixtures__capture_schema),
	};

	if (!hf_test_shared()) {
		fprintf(stderr, "skipped: $HF_SHARED_DIR (Infrahub fixtures) "
		                "not present\n");
		return 77;
	}
	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
