/*
 * Tests for hf_schema on our own schema answers (tests/data/schema/):
 * parsing, lookups, inheritance, reverse relationships, paths, "did you
 * mean", tolerance of trimmed answers, errors and allocation failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "failalloc.h"
#include "hf/alloc.h"
#include "hf/schema.h"
#include "testutil.h"

static json_t *load_data(const char *name)
{
	char path[1024];
	json_error_t jerr;
	const char *dir = hf_test_data();
	json_t *j;

	if (!dir)
		fail_msg("HF_TEST_DATA is not set");
	snprintf(path, sizeof(path), "%s/schema/%s", dir, name);
	j = json_load_file(path, 0, &jerr);
	if (!j)
		fail_msg("%s: %s", path, jerr.text);
	return j;
}

static json_t *load_text(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);

	if (!j)
		fail_msg("bad test JSON: %s", jerr.text);
	return j;
}

static int setup(void **state)
{
	json_t *answer = load_data("client_dcim.json");
	hf_error err = HF_ERROR_INIT;
	hf_schema *s = NULL;

	if (hf_schema_parse(&s, answer, &err) != 0)
		fail_msg("parse: %s", err.msg);
	json_decref(answer);
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	hf_schema_free(*state);
	return 0;
}

static const hf_kind *kind(void **state, const char *name)
{
	const hf_kind *k = hf_schema_kind(*state, name);

	if (!k)
		fail_msg("kind %s missing", name);
	return k;
}

static const struct hf_schema_rel *rel(void **state, const char *k,
                                       const char *name)
{
	const struct hf_schema_rel *r =
	        hf_schema_rel_find(kind(state, k), name);

	if (!r)
		fail_msg("relationship %s.%s missing", k, name);
	return r;
}

/* ------------------------------------------------------------- parsing */

static void test_schema__kinds_sorted_and_deduplicated(void **state)
{
	const hf_schema *s = *state;
	size_t i;

	assert_string_equal(hf_schema_hash(s),
	                    "a3c5f0e1d2b4968778695a4b3c2d1e0f");
	/* 4 generics, 10 nodes (one absent, one given twice), 1+1. */
	assert_int_equal(hf_schema_count(s), 16);
	for (i = 1; i < hf_schema_count(s); i++)
		assert_true(strcmp(hf_schema_kind_name(hf_schema_at(s, i - 1)),
		                   hf_schema_kind_name(hf_schema_at(s, i))) <
		            0);
	assert_null(hf_schema_at(s, 16));
	assert_null(hf_schema_kind(s, "TestRemoved"));
	assert_null(hf_schema_kind(s, "DcimDevic"));
	assert_null(hf_schema_kind(s, NULL));
	/* The later of two OrganizationTenant definitions wins. */
	assert_non_null(
	        hf_schema_attr_find(kind(state, "OrganizationTenant"), "code"));
	/* An attribute with state absent is left out. */
	assert_null(
	        hf_schema_attr_find(kind(state, "OrganizationTenant"), "gone"));
	assert_int_equal(
	        hf_schema_attr_count(kind(state, "OrganizationTenant")), 2);
}

static void test_schema__kind_properties(void **state)
{
	const hf_kind *dev = kind(state, "DcimDevice");
	const hf_kind *ifc = kind(state, "DcimInterface");
	const hf_kind *site = kind(state, "LocationSite");
	struct hf_strv sv;

	assert_int_equal(hf_schema_kind_type(dev), HF_KIND_NODE);
	assert_int_equal(hf_schema_kind_type(ifc), HF_KIND_GENERIC);
	assert_int_equal(hf_schema_kind_type(kind(state, "ProfileDcimDevice")),
	                 HF_KIND_PROFILE);
	assert_int_equal(hf_schema_kind_type(kind(state, "TemplateDcimDevice")),
	                 HF_KIND_TEMPLATE);
	assert_string_equal(hf_schema_kind_namespace(dev), "Dcim");
	assert_string_equal(hf_schema_kind_short_name(dev), "Device");
	assert_null(hf_schema_kind_label(dev));
	assert_string_equal(hf_schema_kind_hash(dev),
	                    "5d41402abc4b2a76b9719d911017c592");
	assert_null(hf_schema_kind_hash(ifc));
	sv = hf_schema_kind_hfid(ifc);
	assert_int_equal(sv.n, 2);
	assert_string_equal(sv.v[0], "device__name__value");
	assert_string_equal(sv.v[1], "name__value");
	assert_int_equal(hf_schema_kind_order_by(ifc).n, 2);
	assert_int_equal(hf_schema_kind_uniqueness_count(ifc), 1);
	sv = hf_schema_kind_uniqueness_at(ifc, 0);
	assert_int_equal(sv.n, 2);
	assert_string_equal(sv.v[0], "device");
	assert_int_equal(hf_schema_kind_uniqueness_at(ifc, 1).n, 0);
	assert_int_equal(hf_schema_kind_display_labels(dev).n, 1);
	assert_string_equal(hf_schema_kind_display_label(
	                            kind(state, "RoutingAutonomousSystem")),
	                    "AS {{ asn__value }}");
	assert_null(hf_schema_kind_default_filter(dev));
	assert_string_equal(
	        hf_schema_kind_default_filter(kind(state, "BuiltinTag")),
	        "name__value");
	assert_int_equal(hf_schema_kind_hfid(kind(state, "IpamIPAddress")).n,
	                 0);
	assert_string_equal(hf_schema_kind_hierarchy(site), "LocationGeneric");
	assert_string_equal(hf_schema_kind_parent(site), "LocationRegion");
	assert_null(hf_schema_kind_children(site));
	assert_true(
	        hf_schema_kind_hierarchical(kind(state, "LocationGeneric")));
	assert_false(hf_schema_kind_hierarchical(site));
	assert_int_equal(hf_schema_kind_used_by(ifc).n, 1);
	assert_null(hf_schema_kind_branch(dev));
}

static void test_schema__attributes(void **state)
{
	const hf_kind *dev = kind(state, "DcimDevice");
	const struct hf_schema_attr *a;
	size_t i;

	assert_int_equal(hf_schema_attr_count(dev), 5);
	/* Schema order for iteration, names for lookup. */
	assert_string_equal(hf_schema_attr_at(dev, 0)->name, "name");
	assert_string_equal(hf_schema_attr_at(dev, 4)->name, "lifecycle");
	assert_null(hf_schema_attr_at(dev, 5));
	for (i = 0; i < hf_schema_attr_count(dev); i++)
		assert_ptr_equal(hf_schema_attr_find(
		                         dev, hf_schema_attr_at(dev, i)->name),
		                 hf_schema_attr_at(dev, i));
	a = hf_schema_attr_find(dev, "name");
	assert_true(a->unique);
	assert_false(a->optional);
	assert_true(a->inherited);
	assert_int_equal(a->kind, HF_ATTR_TEXT);
	a = hf_schema_attr_find(dev, "role");
	assert_int_equal(a->kind, HF_ATTR_DROPDOWN);
	assert_string_equal(a->kind_name, "Dropdown");
	assert_int_equal(a->choices.n, 3);
	assert_string_equal(a->choices.v[2], "p");
	assert_int_equal(a->spec.nchoices, 3);
	assert_string_equal(a->spec.name, "role");
	a = hf_schema_attr_find(dev, "serial");
	assert_int_equal(a->min_length, 3);
	assert_int_equal(a->max_length, 16);
	a = hf_schema_attr_find(dev, "lifecycle");
	assert_int_equal(json_array_size(a->enum_values), 3);
	assert_null(hf_schema_attr_find(dev, "interfaces"));
	assert_null(hf_schema_attr_find(dev, "nam"));
	a = hf_schema_attr_find(kind(state, "DcimInterface"), "mtu");
	assert_int_equal(a->kind, HF_ATTR_NUMBER);
	assert_int_equal(json_integer_value(a->default_value), 1514);
	assert_null(hf_schema_attr_find(kind(state, "DcimInterface"), "name")
	                    ->default_value);
}

static void test_schema__computed_attribute(void **state)
{
	const hf_kind *as = kind(state, "RoutingAutonomousSystem");
	const struct hf_schema_attr *a = hf_schema_attr_find(as, "name");

	assert_true(a->computed);
	assert_true(a->read_only);
	assert_string_equal(a->computed_kind, "Jinja2");
	assert_string_equal(a->computed_template, "AS{{ asn__value }}");
	a = hf_schema_attr_find(as, "asn");
	assert_false(a->computed);
	assert_null(a->computed_template);
}

static void test_schema__attribute_spec_checks_values(void **state)
{
	const struct hf_schema_attr *a =
	        hf_schema_attr_find(kind(state, "DcimDevice"), "role");
	hf_error err = HF_ERROR_INIT;
	json_t *in = json_string("core"), *out = NULL;

	assert_int_equal(hf_value_check(&out, &a->spec, in, &err), HF_EINVAL);
	assert_string_equal(err.msg, "\"core\" is not a valid choice for "
	                             "Dropdown attribute 'role'; valid "
	                             "choices: pe, ce, p");
	json_decref(in);
}

static void test_schema__relationships(void **state)
{
	const struct hf_schema_rel *r;

	r = rel(state, "InterfacePhysical", "device");
	assert_int_equal(r->kind, HF_REL_PARENT);
	assert_int_equal(r->cardinality, HF_CARDINALITY_ONE);
	assert_false(r->optional);
	assert_true(r->inherited);
	assert_string_equal(r->peer, "DcimGenericDevice");
	assert_string_equal(r->identifier, "device__interface");
	assert_false(r->identifier_derived);
	r = rel(state, "DcimDevice", "interfaces");
	assert_int_equal(r->kind, HF_REL_COMPONENT);
	assert_int_equal(r->cardinality, HF_CARDINALITY_MANY);
	assert_true(r->optional);
	assert_int_equal(rel(state, "DcimDevice", "member_of_groups")->kind,
	                 HF_REL_GROUP);
	assert_int_equal(rel(state, "DcimDevice", "profiles")->kind,
	                 HF_REL_PROFILE);
	r = rel(state, "LocationSite", "parent");
	assert_int_equal(r->kind, HF_REL_HIERARCHY);
	assert_int_equal(r->direction, HF_DIRECTION_OUTBOUND);
	assert_string_equal(r->hierarchical, "LocationGeneric");
	assert_int_equal(rel(state, "LocationSite", "children")->direction,
	                 HF_DIRECTION_INBOUND);
	assert_true(rel(state, "IpamIPAddress", "ip_prefix")->read_only);
	assert_int_equal(hf_schema_rel_count(kind(state, "DcimDevice")), 5);
	assert_string_equal(
	        hf_schema_rel_at(kind(state, "DcimDevice"), 0)->name,
	        "location");
	assert_null(hf_schema_rel_at(kind(state, "DcimDevice"), 5));
	assert_null(hf_schema_rel_find(kind(state, "DcimDevice"), "name"));
}

/* ---------------------------------------------------------- inheritance */

static void test_schema__is_a(void **state)
{
	const hf_schema *s = *state;

	assert_true(hf_schema_is_a(s, kind(state, "InterfacePhysical"),
	                           "DcimInterface"));
	assert_true(hf_schema_is_a(s, kind(state, "InterfacePhysical"),
	                           "InterfaceLayer3"));
	/* Only inherit_from says so; the generic's used_by leaves it out. */
	assert_true(hf_schema_is_a(s, kind(state, "InterfaceVirtual"),
	                           "DcimInterface"));
	assert_true(hf_schema_is_a(s, kind(state, "DcimDevice"), "DcimDevice"));
	assert_true(hf_schema_is_a(s, kind(state, "DcimDevice"), "CoreNode"));
	assert_true(hf_schema_is_a(s, kind(state, "IpamIPAddress"),
	                           "BuiltinIPAddress"));
	assert_false(hf_schema_is_a(s, kind(state, "ProfileDcimDevice"),
	                            "CoreNode"));
	assert_false(
	        hf_schema_is_a(s, kind(state, "IpamPrefix"), "DcimInterface"));
	assert_false(hf_schema_is_a(s, kind(state, "DcimInterface"),
	                            "InterfacePhysical"));
	assert_false(hf_schema_is_a(s, kind(state, "DcimDevice"), NULL));
}

static void test_schema__implementations(void **state)
{
	const hf_schema *s = *state;
	const hf_kind *const *impl;
	size_t n;

	n = hf_schema_implementations(s, kind(state, "DcimInterface"), &impl);
	assert_int_equal(n, 2);
	assert_string_equal(hf_schema_kind_name(impl[0]), "InterfacePhysical");
	assert_string_equal(hf_schema_kind_name(impl[1]), "InterfaceVirtual");
	n = hf_schema_implementations(s, kind(state, "LocationGeneric"), &impl);
	assert_int_equal(n, 2);
	assert_string_equal(hf_schema_kind_name(impl[0]), "LocationRegion");
	n = hf_schema_implementations(s, kind(state, "DcimGenericDevice"),
	                              &impl);
	assert_int_equal(n, 1);
	assert_ptr_equal(impl[0], kind(state, "DcimDevice"));
	assert_int_equal(
	        hf_schema_implementations(s, kind(state, "DcimDevice"), &impl),
	        0);
}

/* -------------------------------------------------------------- reverse */

static void expect_reverse(void **state, const char *k, const char *r,
                           const char *want_kind, const char *want_rel)
{
	const struct hf_schema_rel *got =
	        hf_schema_rel_reverse(*state, kind(state, k), rel(state, k, r));

	if (!want_rel) {
		if (got)
			fail_msg("%s.%s: reverse is %s, want none", k, r,
			         got->name);
		return;
	}
	if (got != rel(state, want_kind, want_rel))
		fail_msg("%s.%s: reverse is %s, want %s.%s", k, r,
		         got ? got->name : "(none)", want_kind, want_rel);
}

static void test_schema__reverse_relationships(void **state)
{
	expect_reverse(state, "IpamIPAddress", "interface", "InterfaceLayer3",
	               "ip_addresses");
	expect_reverse(state, "InterfaceLayer3", "ip_addresses",
	               "IpamIPAddress", "interface");
	expect_reverse(state, "InterfacePhysical", "ip_addresses",
	               "IpamIPAddress", "interface");
	expect_reverse(state, "DcimDevice", "interfaces", "DcimInterface",
	               "device");
	expect_reverse(state, "InterfacePhysical", "device",
	               "DcimGenericDevice", "interfaces");
	expect_reverse(state, "IpamIPAddress", "ip_prefix", "IpamPrefix",
	               "ip_addresses");
	expect_reverse(state, "DcimDevice", "location", "LocationSite",
	               "devices");
	/* No CoreGroup in this schema. */
	expect_reverse(state, "DcimDevice", "member_of_groups", NULL, NULL);
}

static void test_schema__reverse_hierarchy(void **state)
{
	/* One identifier, parent__child, on both ends: pick the opposite. */
	expect_reverse(state, "LocationSite", "parent", "LocationRegion",
	               "children");
	expect_reverse(state, "LocationRegion", "children", "LocationSite",
	               "parent");
	expect_reverse(state, "LocationGeneric", "parent", "LocationGeneric",
	               "children");
	expect_reverse(state, "LocationGeneric", "children", "LocationGeneric",
	               "parent");
	expect_reverse(state, "LocationRegion", "parent", "LocationGeneric",
	               "children");
}

/* Several peer relationships share the identifier: the compatible wins. */
static void test_schema__reverse_prefers_compatible_peer(void **state)
{
	json_t *j = load_text(
	        "{\"nodes\": ["
	        " {\"namespace\": \"Test\", \"name\": \"A\", \"relationships\":"
	        "  [{\"name\": \"to_b\", \"peer\": \"TestB\","
	        "    \"identifier\": \"shared\", \"cardinality\": \"one\"}]},"
	        " {\"namespace\": \"Test\", \"name\": \"B\", \"relationships\":"
	        "  [{\"name\": \"to_c\", \"peer\": \"TestC\","
	        "    \"identifier\": \"shared\"},"
	        "   {\"name\": \"to_a\", \"peer\": \"TestA\","
	        "    \"identifier\": \"shared\"}]},"
	        " {\"namespace\": \"Test\", \"name\": \"C\", \"relationships\":"
	        "  [{\"name\": \"to_b\", \"peer\": \"TestB\","
	        "    \"identifier\": \"shared\"}]}]}");
	hf_schema *s = NULL;
	const hf_kind *a, *c;

	(void)state;
	assert_int_equal(hf_schema_parse(&s, j, NULL), 0);
	a = hf_schema_kind(s, "TestA");
	c = hf_schema_kind(s, "TestC");
	assert_string_equal(
	        hf_schema_rel_reverse(s, a, hf_schema_rel_find(a, "to_b"))
	                ->name,
	        "to_a");
	assert_string_equal(
	        hf_schema_rel_reverse(s, c, hf_schema_rel_find(c, "to_b"))
	                ->name,
	        "to_c");
	hf_schema_free(s);
	json_decref(j);
}

/* ---------------------------------------------------------------- paths */

static void test_schema__path_parse(void **state)
{
	const hf_schema *s = *state;
	struct hf_schema_path p;
	hf_error err = HF_ERROR_INIT;
	const hf_kind *ifc = kind(state, "InterfacePhysical");

	assert_int_equal(
	        hf_schema_path_parse(&p, ifc, "device__name__value", 0, &err),
	        0);
	assert_ptr_equal(p.rel, rel(state, "InterfacePhysical", "device"));
	assert_ptr_equal(p.peer, kind(state, "DcimGenericDevice"));
	assert_ptr_equal(p.attr, hf_schema_attr_find(p.peer, "name"));
	assert_string_equal(p.property, "value");
	assert_int_equal(hf_schema_path_parse(&p, ifc, "name__value", 0, &err),
	                 0);
	assert_null(p.rel);
	assert_null(p.peer);
	assert_ptr_equal(p.attr, hf_schema_attr_find(ifc, "name"));
	assert_string_equal(p.property, "value");
	assert_int_equal(hf_schema_path_parse(&p, kind(state, "IpamIPAddress"),
	                                      "address__binary_address", 0,
	                                      &err),
	                 0);
	assert_string_equal(p.property, "binary_address");
	/* Every HFID path of every kind in the file parses. */
	for (size_t i = 0; i < hf_schema_count(s); i++) {
		const hf_kind *k = hf_schema_at(s, i);
		struct hf_strv h = hf_schema_kind_hfid(k);

		for (size_t j = 0; j < h.n; j++)
			assert_int_equal(
			        hf_schema_path_parse(&p, k, h.v[j], 0, &err),
			        0);
	}
}

static void test_schema__path_bare_relationship(void **state)
{
	const hf_kind *ifc = kind(state, "DcimInterface");
	struct hf_schema_path p;
	hf_error err = HF_ERROR_INIT;

	assert_int_equal(hf_schema_path_parse(&p, ifc, "device", 0, &err),
	                 HF_EINVAL);
	assert_string_equal(err.msg, "path 'device': relationship 'device' "
	                             "needs a peer attribute (write "
	                             "'device__name__value')");
	assert_int_equal(
	        hf_schema_path_parse(&p, ifc, "device", HF_PATH_BARE_REL, &err),
	        0);
	assert_ptr_equal(p.rel, hf_schema_rel_find(ifc, "device"));
	assert_null(p.attr);
	assert_string_equal(p.property, "");
}

struct perr {
	const char *kind;
	const char *path;
	const char *msg;
};

/* clang-format off */
static const struct perr path_errors[] = {
	{ "DcimDevice", "interfaces__name__value",
	  "path 'interfaces__name__value': relationship 'interfaces' of kind 'DcimDevice' has cardinality many; a path can only go through a cardinality-one relationship" },
	{ "DcimDevice", "nmae__value",
	  "path 'nmae__value': kind 'DcimDevice' has no attribute or relationship 'nmae' (did you mean 'name'?)" },
	{ "DcimDevice", "zzzzzz__value",
	  "path 'zzzzzz__value': kind 'DcimDevice' has no attribute or relationship 'zzzzzz'" },
	{ "DcimDevice", "name",
	  "path 'name': no property after attribute 'name' (write 'name__value')" },
	{ "DcimDevice", "name__value__x",
	  "path 'name__value__x': 'name' of kind 'DcimDevice' is an attribute, not a relationship" },
	{ "DcimDevice", "name__Value",
	  "path 'name__Value': 'Value' is not a property of attribute 'name'" },
	{ "DcimDevice", "name__",
	  "path 'name__': '' is not a property of attribute 'name'" },
	{ "DcimDevice", "__value",
	  "path '__value' of kind 'DcimDevice' is not a schema path" },
	{ "DcimDevice", "",
	  "path '' of kind 'DcimDevice' is not a schema path" },
	{ "DcimDevice", "location__nmae__value",
	  "path 'location__nmae__value': kind 'LocationSite' has no attribute or relationship 'nmae' (did you mean 'name'?)" },
	{ "DcimDevice", "location__name",
	  "path 'location__name': no property after attribute 'name' (write 'name__value')" },
	{ "DcimDevice", "location__parent__name__value",
	  "path 'location__parent__name__value': 'parent' of kind 'LocationSite' is a relationship; a path can go through one relationship only" },
	{ "IpamIPAddress", "interface__name__value",
	  "path 'interface__name__value': kind 'InterfaceLayer3' has no attribute or relationship 'name'" },
};
/* clang-format on */

static void test_schema__path_errors(void **state)
{
	struct hf_schema_path p;
	hf_error err;
	size_t i;

	for (i = 0; i < sizeof(path_errors) / sizeof(*path_errors); i++) {
		hf_error_clear(&err);
		assert_int_equal(hf_schema_path_parse(
		                         &p, kind(state, path_errors[i].kind),
		                         path_errors[i].path, 0, &err),
		                 HF_EINVAL);
		if (strcmp(err.msg, path_errors[i].msg) != 0)
			fail_msg("%s: got '%s'", path_errors[i].path, err.msg);
	}
}

static void test_schema__path_peer_not_in_schema(void **state)
{
	json_t *j = load_text(
	        "{\"nodes\": [{\"namespace\": \"Test\", \"name\": \"A\","
	        " \"relationships\": [{\"name\": \"owner\", \"peer\": "
	        "\"CoreAccount\", \"cardinality\": \"one\"}]}]}");
	hf_schema *s = NULL;
	struct hf_schema_path p;
	hf_error err = HF_ERROR_INIT;

	(void)state;
	assert_int_equal(hf_schema_parse(&s, j, NULL), 0);
	assert_int_equal(hf_schema_path_parse(&p, hf_schema_kind(s, "TestA"),
	                                      "owner__name__value", 0, &err),
	                 HF_EINVAL);
	assert_string_equal(err.msg, "path 'owner__name__value': peer kind "
	                             "'CoreAccount' of relationship 'owner' is "
	                             "not in the schema");
	hf_schema_free(s);
	json_decref(j);
}

/* ---------------------------------------------------------- suggestions */

static void test_schema__suggest_field(void **state)
{
	const hf_kind *dev = kind(state, "DcimDevice");

	assert_string_equal(hf_schema_suggest(dev, "locaton"), "location");
	assert_string_equal(hf_schema_suggest(dev, "Name"), "name");
	assert_string_equal(hf_schema_suggest(dev, "nmae"), "name");
	assert_string_equal(hf_schema_suggest(dev, "intefaces"), "interfaces");
	assert_string_equal(hf_schema_suggest(dev, "interface"), "interfaces");
	assert_string_equal(hf_schema_suggest(dev, "tag"), "tags");
	assert_string_equal(hf_schema_suggest(dev, "tgas"), "tags");
	assert_string_equal(hf_schema_suggest(dev, "serail"), "serial");
	assert_null(hf_schema_suggest(dev, "serial_number"));
	assert_string_equal(hf_schema_suggest(dev, "member_of_group"),
	                    "member_of_groups");
	assert_null(hf_schema_suggest(dev, "xyz"));
	assert_null(hf_schema_suggest(dev, "platform"));
	assert_null(hf_schema_suggest(dev, NULL));
}

static void test_schema__suggest_kind(void **state)
{
	const hf_schema *s = *state;

	assert_string_equal(hf_schema_suggest_kind(s, "DcimDevise"),
	                    "DcimDevice");
	assert_string_equal(hf_schema_suggest_kind(s, "dcimdevice"),
	                    "DcimDevice");
	assert_string_equal(hf_schema_suggest_kind(s, "InterfacePhysicl"),
	                    "InterfacePhysical");
	assert_string_equal(hf_schema_suggest_kind(s, "IpamIPAdress"),
	                    "IpamIPAddress");
	assert_null(hf_schema_suggest_kind(s, "Foo"));
	assert_null(hf_schema_suggest_kind(s, "CoreStandardGroup"));
}

/* ------------------------------------------------------------ tolerance */

static void test_schema__tolerates_trimmed_answer(void **state)
{
	json_t *j = load_text(
	        "{\"nodes\": [{\"namespace\": \"Builtin\", \"name\": \"Loc\","
	        "  \"future\": {\"x\": [1]}, \"label\": null,"
	        "  \"human_friendly_id\": null, \"inherit_from\": null,"
	        "  \"order_by\": \"name__value\","
	        "  \"attributes\": [{\"name\": \"name\", \"kind\": \"String\","
	        "    \"choices\": null, \"enum\": [], \"default_value\": null,"
	        "    \"optional\": null, \"min_length\": null},"
	        "   {\"name\": \"weird\"}],"
	        "  \"relationships\": [{\"name\": \"tags\","
	        "    \"peer\": \"BuiltinTag\", \"kind\": null,"
	        "    \"cardinality\": null, \"direction\": \"sideways\"},"
	        "   {\"name\": \"x\", \"peer\": \"BuiltinLoc\", \"kind\": \"Magic\"}]}],"
	        " \"generics\": null, \"profiles\": [], \"namespaces\": 7}");
	const struct hf_schema_attr *a;
	const struct hf_schema_rel *r;
	const hf_kind *k;
	hf_schema *s = NULL;

	(void)state;
	assert_int_equal(hf_schema_parse(&s, j, NULL), 0);
	assert_null(hf_schema_hash(s));
	k = hf_schema_kind(s, "BuiltinLoc");
	assert_non_null(k);
	assert_int_equal(hf_schema_kind_hfid(k).n, 0);
	assert_int_equal(hf_schema_kind_inherit_from(k).n, 0);
	assert_int_equal(hf_schema_kind_order_by(k).n, 1);
	a = hf_schema_attr_find(k, "name");
	assert_int_equal(a->kind, HF_ATTR_TEXT);
	assert_string_equal(a->kind_name, "String");
	assert_false(a->optional);
	assert_null(a->enum_values);
	assert_int_equal(a->choices.n, 0);
	assert_int_equal(a->min_length, 0);
	a = hf_schema_attr_find(k, "weird");
	assert_int_equal(a->kind, HF_ATTR_OTHER);
	assert_string_equal(a->kind_name, "");
	r = hf_schema_rel_find(k, "tags");
	assert_int_equal(r->kind, HF_REL_GENERIC);
	assert_string_equal(r->kind_name, "Generic");
	assert_int_equal(r->cardinality, HF_CARDINALITY_MANY);
	assert_int_equal(r->direction, HF_DIRECTION_BIDIRECTIONAL);
	assert_true(r->optional);
	assert_true(r->identifier_derived);
	assert_string_equal(r->identifier, "builtinloc__builtintag");
	r = hf_schema_rel_find(k, "x");
	assert_int_equal(r->kind, HF_REL_OTHER);
	assert_string_equal(r->identifier, "builtinloc__builtinloc");
	hf_schema_free(s);
	json_decref(j);
}

static void test_schema__empty_answer(void **state)
{
	json_t *j = load_text("{}");
	hf_schema *s = NULL;

	(void)state;
	assert_int_equal(hf_schema_parse(&s, j, NULL), 0);
	assert_int_equal(hf_schema_count(s), 0);
	assert_null(hf_schema_kind(s, "X"));
	assert_null(hf_schema_suggest_kind(s, "X"));
	hf_schema_free(s);
	hf_schema_free(NULL);
	json_decref(j);
}

struct bad {
	const char *json;
	const char *msg;
};

/* clang-format off */
static const struct bad bad_answers[] = {
	{ "[]", "schema answer is not a JSON object" },
	{ "{\"nodes\": {}}", "schema answer: 'nodes' is not a list" },
	{ "{\"templates\": 3}", "schema answer: 'templates' is not a list" },
	{ "{\"generics\": [1]}", "schema generics[0] is not an object" },
	{ "{\"nodes\": [{\"name\": \"X\"}]}", "schema nodes[0] has no kind" },
	{ "{\"nodes\": [{\"kind\": \"TestX\", \"attributes\": {}}]}",
	  "kind 'TestX': attributes is not a list" },
	{ "{\"nodes\": [{\"kind\": \"TestX\", \"relationships\": 1}]}",
	  "kind 'TestX': relationships is not a list" },
	{ "{\"nodes\": [{\"kind\": \"TestX\", \"attributes\": [{\"kind\": \"Text\"}]}]}",
	  "kind 'TestX': attribute 0 has no name" },
	{ "{\"nodes\": [{\"kind\": \"TestX\", \"attributes\": [\"name\"]}]}",
	  "kind 'TestX': attribute 0 is not an object" },
	{ "{\"nodes\": [{\"kind\": \"TestX\", \"relationships\": [{\"name\": \"r\"}]}]}",
	  "kind 'TestX': relationship 'r' has no peer" },
	{ "{\"nodes\": [{\"kind\": \"TestX\", \"relationships\": [{\"peer\": \"TestX\"}]}]}",
	  "kind 'TestX': relationship 0 has no name" },
	{ "{\"nodes\": [{\"kind\": \"TestX\", \"relationships\": [null]}]}",
	  "kind 'TestX': relationship 0 is not an object" },
	/* a member of the wrong type is an error, never a default */
	{ "{\"nodes\": [{\"kind\": \"TestX\", \"attributes\": [{\"name\": \"a\", \"min_length\": -3}]}]}",
	  "kind 'TestX': attribute 'a': min_length is not a non-negative integer" },
	{ "{\"nodes\": [{\"kind\": \"TestX\", \"attributes\": [{\"name\": \"a\", \"optional\": \"false\"}]}]}",
	  "kind 'TestX': attribute 'a': optional is not a boolean" },
	{ "{\"nodes\": [{\"kind\": \"TestX\", \"relationships\": [{\"name\": \"r\", \"peer\": \"TestX\", \"max_count\": \"1\"}]}]}",
	  "kind 'TestX': relationship 'r': max_count is not a non-negative integer" },
	{ "{\"nodes\": [{\"kind\": \"TestX\", \"human_friendly_id\": [1]}]}",
	  "kind 'TestX': human_friendly_id is not a list of strings" },
};
/* clang-format on */

static void test_schema__rejects_bad_answers(void **state)
{
	hf_error err;
	hf_schema *s;
	json_t *j;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_answers) / sizeof(*bad_answers); i++) {
		j = json_loads(bad_answers[i].json, JSON_DECODE_ANY, NULL);
		assert_non_null(j);
		hf_error_clear(&err);
		s = (hf_schema *)1;
		assert_int_equal(hf_schema_parse(&s, j, &err), HF_EINVAL);
		assert_null(s);
		if (strcmp(err.msg, bad_answers[i].msg) != 0)
			fail_msg("%s: got '%s'", bad_answers[i].json, err.msg);
		json_decref(j);
	}
}

/* A schema with many kinds: every lookup finds its own kind and fields. */
static void test_schema__many_kinds(void **state)
{
	json_t *nodes = json_array(), *answer;
	hf_schema *s = NULL;
	char name[64];
	size_t i;

	(void)state;
	for (i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "K%03zu", (i * 7919) % 500);
		json_array_append_new(
		        nodes,
		        json_pack("{s:s, s:s, s:[{s:s, s:s}, {s:s, s:s}]}",
		                  "namespace", "Test", "name", name,
		                  "attributes", "name", "zeta", "kind", "Text",
		                  "name", "alpha", "kind", "Number"));
	}
	answer = json_pack("{s:o}", "nodes", nodes);
	assert_int_equal(hf_schema_parse(&s, answer, NULL), 0);
	assert_int_equal(hf_schema_count(s), 500);
	for (i = 0; i < 500; i++) {
		const hf_kind *k;

		snprintf(name, sizeof(name), "TestK%03zu", i);
		k = hf_schema_kind(s, name);
		assert_non_null(k);
		assert_string_equal(hf_schema_kind_name(k), name);
		assert_int_equal(hf_schema_attr_find(k, "alpha")->kind,
		                 HF_ATTR_NUMBER);
		assert_int_equal(hf_schema_attr_find(k, "zeta")->kind,
		                 HF_ATTR_TEXT);
	}
	hf_schema_free(s);
	json_decref(answer);
}

/* ------------------------------------------------------------- torture */

static void test_schema__torture(void **state)
{
	json_t *answer = load_data("client_dcim.json");
	hf_error err = HF_ERROR_INIT;
	hf_schema *s = NULL;
	long n;
	int rc;

	(void)state;
	for (n = 1;; n++) {
		hf_failalloc_nth(n);
		rc = hf_schema_parse(&s, answer, &err);
		hf_failalloc_reset();
		if (rc == 0)
			break;
		assert_int_equal(rc, HF_ENOMEM);
		assert_null(s);
		assert_string_equal(err.msg, "out of memory");
	}
	assert_true(n > 5);
	assert_int_equal(hf_schema_count(s), 16);
	hf_schema_free(s);
	json_decref(answer);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schema__kinds_sorted_and_deduplicated),
		cmocka_unit_test(test_schema__kind_properties),
		cmocka_unit_test(test_schema__attributes),
		cmocka_unit_test(test_schema__computed_attribute),
		cmocka_unit_test(test_schema__attribute_spec_checks_values),
		cmocka_unit_test(test_schema__relationships),
		cmocka_unit_test(test_schema__is_a),
		cmocka_unit_test(test_schema__implementations),
		cmocka_unit_test(test_schema__reverse_relationships),
		cmocka_unit_test(test_schema__reverse_hierarchy),
		cmocka_unit_test(test_schema__reverse_prefers_compatible_peer),
		cmocka_unit_test(test_schema__path_parse),
		cmocka_unit_test(test_schema__path_bare_relationship),
		cmocka_unit_test(test_schema__path_errors),
		cmocka_unit_test(test_schema__path_peer_not_in_schema),
		cmocka_unit_test(test_schema__suggest_field),
		cmocka_unit_test(test_schema__suggest_kind),
		cmocka_unit_test(test_schema__tolerates_trimmed_answer),
		cmocka_unit_test(test_schema__empty_answer),
		cmocka_unit_test(test_schema__rejects_bad_answers),
		cmocka_unit_test(test_schema__many_kinds),
		cmocka_unit_test(test_schema__torture),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
