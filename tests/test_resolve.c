/*
 * Resolver on the project's own schema answer (tests/data/resolve):
 * identities, nested links from the child's side, references by HFID or
 * default_filter, computed HFIDs, repeats, and the errors with positions.
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
#include "hf/buf.h"
#include "hf/resolve.h"
#include "testutil.h"

static hf_schema *schema;

struct diags {
	int errors, warnings;
	char text[8192];
};

static void on_diag(void *payload, enum hf_mdiag_level lvl, const hf_error *e)
{
	struct diags *d = payload;
	size_t n = strlen(d->text);

	if (lvl == HF_MDIAG_ERROR)
		d->errors++;
	else
		d->warnings++;
	snprintf(d->text + n, sizeof(d->text) - n, "%s:%d:%d: %s\n", e->where,
	         e->line, e->col, e->msg);
}

static int setup(void **state)
{
	char path[600];
	json_t *j;

	(void)state;
	snprintf(path, sizeof(path), "%s/resolve/schema.json", hf_test_data());
	j = json_load_file(path, 0, NULL);
	if (!j || hf_schema_parse(&schema, j, NULL) < 0)
		return -1;
	json_decref(j);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hf_schema_free(schema);
	return 0;
}

static hf_objset *resolve_opts(const char *yaml,
                               const struct hf_resolve_opts *o, struct diags *d)
{
	hf_manifest *m;
	hf_objset *set = NULL;

	memset(d, 0, sizeof(*d));
	assert_int_equal(hf_manifest_new(&m), 0);
	hf_manifest_add_buffer(m, "t.yml", yaml, strlen(yaml), NULL);
	assert_int_equal(hf_manifest_error_count(m), 0);
	hf_resolve(&set, m, schema, o, on_diag, d, NULL);
	hf_manifest_free(m);
	return set;
}

static hf_objset *resolve(const char *yaml, int strict, struct diags *d)
{
	struct hf_resolve_opts o = HF_RESOLVE_OPTS_INIT;

	o.strict = strict;
	return resolve_opts(yaml, &o, d);
}

static const struct hf_object *find(hf_objset *s, const char *kind,
                                    const char *a, const char *b)
{
	json_t *h = b ? json_pack("[s,s]", a, b) : json_pack("[s]", a);
	long at = hf_objset_find(s, kind, h);

	json_decref(h);
	return at >= 0 ? hf_objset_at(s, (size_t)at) : NULL;
}

static const char devices[] =
        "apiVersion: infrahub.app/v1\nkind: Object\nspec:\n  kind: TestDevice\n  data:\n"
        "    - name: core1\n"
        "      role: core\n"
        "      asn: 65001\n"
        "      site: paris\n"
        "      tags: [red, blue]\n"
        "      prefixes: [10.0.0.0/24]\n"
        "      interfaces:\n"
        "        kind: TestInterface\n"
        "        data:\n"
        "          - name: eth0\n"
        "          - {name: eth1, mtu: 9000}\n";

static void test_resolve__identities_and_links(void **state)
{
	struct diags d;
	hf_objset *s = resolve(devices, 0, &d);
	const struct hf_object *dev, *eth;
	const struct hf_field *f;

	(void)state;
	assert_int_equal(d.errors, 0);
	assert_int_equal(hf_objset_count(s), 3);
	dev = find(s, "TestDevice", "core1", NULL);
	eth = find(s, "TestInterface", "core1", "eth1");
	assert_non_null(dev);
	assert_non_null(eth);
	/* the child carries the link; the parent manages no interfaces field */
	f = hf_object_field(eth, "device");
	assert_int_equal(f->type, HF_FIELD_ONE);
	assert_string_equal(
	        json_string_value(json_array_get(f->refs[0].hfid, 0)), "core1");
	assert_null(hf_object_field(dev, "interfaces"));
	/* a one-ref string is a one-element HFID */
	f = hf_object_field(dev, "site");
	assert_string_equal(
	        json_string_value(json_array_get(f->refs[0].hfid, 0)), "paris");
	/* many strings: the HFID when default_filter is the HFID ... */
	f = hf_object_field(dev, "tags");
	assert_int_equal(f->nrefs, 2);
	assert_non_null(f->refs[1].hfid);
	/* ... else a default_filter reference */
	f = hf_object_field(dev, "prefixes");
	assert_null(f->refs[0].hfid);
	assert_string_equal(f->refs[0].filter_attr, "prefix");
	assert_int_equal(json_integer_value(hf_object_field(dev, "asn")->value),
	                 65001);
	assert_int_equal(hf_object_field(eth, "mtu")->line, 16);
	hf_objset_free(s);
}

/* References naming one object share one HFID (hf_hfid_pool). */
static void test_resolve__references_share_hfids(void **state)
{
	struct diags d;
	hf_objset *s =
	        resolve("apiVersion: infrahub.app/v1\nkind: Object\nspec:\n"
	                "  kind: TestDevice\n  data:\n"
	                "    - {name: a, role: core, site: paris}\n"
	                "    - {name: b, role: core, site: [paris]}\n"
	                "    - {name: c, role: core, site: lyon}\n"
	                "    - {name: d, role: core, site: 42}\n"
	                "    - {name: e, role: core, site: ['42']}\n"
	                "    - {name: f, role: core, site: true}\n"
	                "    - {name: g, role: core, site: [True]}\n"
	                "    - {name: h, role: core, site: [paris, x]}\n",
	                0, &d);
	const json_t *a, *b, *c;
	const char *const same[][2] = { { "d", "e" }, { "f", "g" } };
	size_t i;

	(void)state;
	assert_int_equal(d.errors, 0);
	/* an int or a bool names its peer as the SDK's str() writes it */
	for (i = 0; i < 2; i++) {
		a = hf_object_field(find(s, "TestDevice", same[i][0], NULL),
		                    "site")
		            ->refs[0]
		            .hfid;
		b = hf_object_field(find(s, "TestDevice", same[i][1], NULL),
		                    "site")
		            ->refs[0]
		            .hfid;
		assert_ptr_equal(a, b);
		assert_string_equal(json_string_value(json_array_get(a, 0)),
		                    i ? "True" : "42");
	}
	a = hf_object_field(find(s, "TestDevice", "h", NULL), "site")
	            ->refs[0]
	            .hfid;
	assert_int_equal(json_array_size(a), 2);
	a = hf_object_field(find(s, "TestDevice", "a", NULL), "site")
	            ->refs[0]
	            .hfid;
	b = hf_object_field(find(s, "TestDevice", "b", NULL), "site")
	            ->refs[0]
	            .hfid;
	c = hf_object_field(find(s, "TestDevice", "c", NULL), "site")
	            ->refs[0]
	            .hfid;
	assert_ptr_equal(a, b);
	assert_ptr_not_equal(a, c);
	assert_string_equal(json_string_value(json_array_get(c, 0)), "lyon");
	hf_objset_free(s);
}

static void test_resolve__computed_hfid(void **state)
{
	struct diags d;
	hf_objset *s = resolve(
	        "apiVersion: infrahub.app/v1\nkind: Object\nspec:\n"
	        "  kind: TestAutonomousSystem\n  data:\n    - asn: 65000\n",
	        0, &d);

	(void)state;
	assert_int_equal(d.errors, 0);
	assert_non_null(find(s, "TestAutonomousSystem", "AS65000", NULL));
	hf_objset_free(s);
}

static const char repeat[] =
        "apiVersion: infrahub.app/v1\nkind: Object\nspec:\n  kind: TestSite\n  data:\n"
        "    - {name: paris, description: hq}\n"
        "    - {name: paris, description: hq}\n"
        "    - {name: paris, description: headquarters}\n";

static void test_resolve__repeats_merge_later_wins(void **state)
{
	struct diags d;
	hf_objset *s = resolve(repeat, 0, &d);

	(void)state;
	assert_int_equal(d.errors, 0);
	assert_int_equal(d.warnings, 1);
	assert_non_null(strstr(
	        d.text,
	        "t.yml:8:34: TestSite [\"paris\"]: field 'description' set to \"hq\" at t.yml:6:34"));
	assert_int_equal(hf_objset_count(s), 1);
	assert_string_equal(
	        json_string_value(
	                hf_object_field(hf_objset_at(s, 0), "description")
	                        ->value),
	        "headquarters");
	hf_objset_free(s);
	s = resolve(repeat, 1, &d);
	assert_int_equal(d.errors, 1);
	hf_objset_free(s);
}

static void test_resolve__errors_with_positions(void **state)
{
	struct diags d;
	hf_objset *s = resolve(
	        "apiVersion: infrahub.app/v1\nkind: Object\nspec:\n  kind: TestDevice\n  data:\n"
	        "    - name: a\n      role: spine\n      site: x\n      colour: red\n"
	        "    - name: b\n      role: core\n"
	        "    - name: c\n      role: core\n      site: x\n      serial: S1\n"
	        "    - name: d\n      role: core\n      site: x\n      serial: S1\n"
	        "    - name: e\n      role: core\n      site: x\n      asn: \"12\"\n",
	        0, &d);

	(void)state;
	assert_non_null(
	        strstr(d.text, "t.yml:7:13: \"spine\" is not a valid choice"));
	assert_non_null(strstr(
	        d.text,
	        "t.yml:9:7: 'colour' is not a valid attribute or relationship for TestDevice"));
	assert_non_null(
	        strstr(d.text, "t.yml:10:7: site is mandatory for TestDevice"));
	assert_non_null(strstr(d.text, "both have unique serial = \"S1\""));
	assert_non_null(strstr(d.text, "t.yml:23:12:"));
	assert_int_equal(d.errors, 5);
	hf_objset_free(s);
}

#define HEAD(kind)                                                        \
	"apiVersion: infrahub.app/v1\nkind: Object\nspec:\n  kind: " kind \
	"\n  data:\n"

/* a ref of field `name`: its kind and HFID as "Kind[a/b]" */
static void assert_ref(const struct hf_object *o, const char *name, size_t i,
                       const char *want)
{
	const struct hf_field *f = hf_object_field(o, name);
	char got[256];
	size_t n, k;

	assert_non_null(f);
	assert_true(i < f->nrefs);
	assert_non_null(f->refs[i].hfid);
	n = (size_t)snprintf(got, sizeof(got), "%s[", f->refs[i].kind);
	for (k = 0; k < json_array_size(f->refs[i].hfid); k++)
		n += (size_t)snprintf(
		        got + n, sizeof(got) - n, "%s%s", k ? "/" : "",
		        json_string_value(json_array_get(f->refs[i].hfid, k)));
	snprintf(got + n, sizeof(got) - n, "]");
	assert_string_equal(got, want);
}

/* Every form of the object-file spec resolves (infrahub_sdk/spec/object.py). */
static const char forms[] = HEAD(
        "TestDevice") "    - name: d1\n"
                      "      role: core\n"
                      "      site: paris\n" /* one-ref, string */
                      "      tags: [red, [blue]]\n" /* many-refs, string and
                                                       list */
                      "      prefixes:\n" /* many-ref list, HFID parts */
                      "        - [10.0.0.0/24, red]\n"
                      "      interfaces:\n" /* many objects, dict form */
                      "        kind: TestInterface\n"
                      "        parameters: {expand_range: true}\n"
                      "        data:\n"
                      "          - name: eth[0-1]\n"
                      "    - name: d2\n"
                      "      role: edge\n"
                      "      site: [paris]\n" /* one-ref, list */
                      "      tags: ~\n" /* null clears */
                      "      interfaces:\n" /* many objects, list form */
                      "        - kind: TestInterface\n"
                      "          data: {name: eth9}\n"
                      "        - data: {name: eth8}\n"
                      "  # and one object of a one-relationship\n"
                      "---\n" HEAD(
                              "TestInterface") "    - name: eth5\n"
                                               "      device:\n"
                                               "        kind: TestDevice\n"
                                               "        data: {name: d3, role: core, site: paris}\n";

static void test_resolve__relationship_forms(void **state)
{
	struct diags d;
	hf_objset *s = resolve(forms, 0, &d);
	const struct hf_object *d1, *d2, *e5;

	(void)state;
	if (d.errors)
		fail_msg("%s", d.text);
	d1 = find(s, "TestDevice", "d1", NULL);
	d2 = find(s, "TestDevice", "d2", NULL);
	assert_non_null(d1);
	assert_non_null(d2);
	assert_ref(d1, "site", 0, "TestSite[paris]");
	assert_ref(d2, "site", 0, "TestSite[paris]");
	assert_ref(d1, "tags", 0, "BuiltinTag[red]");
	assert_ref(d1, "tags", 1, "BuiltinTag[blue]");
	assert_ref(d1, "prefixes", 0, "TestPrefix[10.0.0.0/24/red]");
	assert_int_equal(hf_object_field(d2, "tags")->nrefs, 0);
	assert_non_null(find(s, "TestInterface", "d1", "eth0"));
	assert_non_null(find(s, "TestInterface", "d1", "eth1"));
	assert_non_null(find(s, "TestInterface", "d2", "eth9"));
	assert_non_null(find(s, "TestInterface", "d2", "eth8"));
	e5 = find(s, "TestInterface", "d3", "eth5");
	assert_non_null(e5);
	assert_ref(e5, "device", 0, "TestDevice[d3]");
	assert_non_null(find(s, "TestDevice", "d3", NULL));
	hf_objset_free(s);
}

/* Every other shape is an error at its own FILE:LINE:COL. */
static const char malformed[] = HEAD(
        "TestDevice") "    - name: a\n" /* 6 */
                      "      role: core\n"
                      "      site: [{kind: TestSite, data: {name: x}}]\n" /* 8:
                                                                             list
                                                                             for
                                                                             a
                                                                             one
                                                                           */
                      "    - name: b\n"
                      "      role: core\n"
                      "      site: {data: [{name: x}]}\n" /* 11: many data, one
                                                           */
                      "      tags: {data: {name: x}}\n" /* 12: one data, many */
                      "    - name: c\n"
                      "      role: core\n"
                      "      site: {name: paris}\n" /* 15: no data */
                      "      tags: {kind: BuiltinTag, data: red}\n" /* 16: data
                                                                       a string
                                                                     */
                      "    - name: e\n"
                      "      role: core\n"
                      "      site: paris\n"
                      "      tags: red\n" /* 20: string, many */
                      "      prefixes: [x, {name: y}]\n" /* 21: a mix */
                      "    - name: f\n"
                      "      role: core\n"
                      "      site: paris\n"
                      "      interfaces: [{kind: TestInterface, data: [{name: x}]}]\n" /* 25 */
                      "      tags: [red, ~]\n" /* 26: null item */
                      "    - name: g\n"
                      "      role: core\n"
                      "      site: paris\n"
                      "      interfaces:\n"
                      "        kind: TestInterface\n"
                      "        paramters: {expand_range: true}\n" /* 32: typo */
                      "        data: [{name: x}]\n"
                      "    - name: h\n"
                      "      role: core\n"
                      "      site: paris\n"
                      "      interfaces: {kind: BuiltinTag, data: [{name: x}]}\n"; /* 37 */

static void test_resolve__malformed_relationships(void **state)
{
	static const char *const want[] = {
		"t.yml:8:13: too many objects for relationship site of "
		"cardinality one: it takes a reference (a string, or a list of "
		"strings) or one object {kind?, data: {...}}\n",
		"t.yml:11:20: relationship site has cardinality one: 'data' must "
		"be one object (a mapping), found a list\n",
		"t.yml:12:20: relationship tags has cardinality many: 'data' must "
		"be a list of objects, found a mapping\n",
		"t.yml:15:13: relationship site must be a reference (a string, or "
		"a list of strings) or one object {kind?, data: {...}}; found a "
		"mapping without 'data'\n",
		"t.yml:16:38: 'data' of relationship tags must be a list of "
		"objects (mappings), found a string\n",
		"t.yml:20:13: relationship tags has cardinality many: it takes a "
		"list of references (strings, or lists of strings), {kind?, "
		"data: [...]} or a list of {kind?, data: {...}}; found a string "
		"(write it as a list: [...])\n",
		"t.yml:21:21: item 2 of relationship prefixes is a mapping "
		"without 'data'; the list holds references (strings, or lists of "
		"strings) or objects {kind?, data: {...}}, not a mix\n",
		"t.yml:25:48: 'data' of item 1 of relationship interfaces must be "
		"one object (a mapping), found a list\n",
		"t.yml:26:19: item 2 of relationship tags is null; a reference is "
		"a string or a list of strings\n",
		"t.yml:32:9: unknown key 'paramters' in the nested objects of "
		"relationship interfaces; a block has kind, parameters and data\n",
		"t.yml:37:26: 'BuiltinTag' is not a TestInterface: relationship "
		"interfaces of TestDevice holds TestInterface objects\n",
	};
	struct diags d;
	hf_objset *s = resolve(malformed, 0, &d);
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(d.text, want[i]))
			fail_msg("missing '%s' in:\n%s", want[i], d.text);
	assert_int_equal(d.errors, 11);
	/* nothing of a malformed block became an object */
	assert_null(find(s, "TestSite", "x", NULL));
	assert_null(find(s, "BuiltinTag", "x", NULL));
	hf_objset_free(s);
}

/*
 * A template and a profile declared in the same run resolve like any
 * other object: a reference to a generic peer (CoreObjectTemplate, which
 * knows its templates only through used_by; CoreProfile, matched on its
 * default_filter) takes the declared object's own kind, and an object
 * made from a template needs none of the fields the template may supply.
 */
static const char templated[] = HEAD(
        "TemplateTestDevice") "    - template_name: leaf\n"
                              "      role: edge\n"
                              "---\n" HEAD(
                                      "ProfileTestInterface") "    - profile_name: jumbo\n"
                                                              "      mtu: 9000\n"
                                                              "---\n" HEAD(
                                                                      "TestSite") "    - name: paris\n"
                                                                                  "      template: leaf\n"
                                                                                  "---\n" HEAD(
                                                                                          "TestDevice") "    - name: d1\n"
                                                                                                        "      object_template: leaf\n"
                                                                                                        "      interfaces:\n"
                                                                                                        "        kind: TestInterface\n"
                                                                                                        "        data:\n"
                                                                                                        "          - name: eth0\n"
                                                                                                        "            profiles: [jumbo]\n";

static void test_resolve__template_and_profile_same_run(void **state)
{
	struct diags d;
	hf_objset *s = resolve(templated, 0, &d);
	const struct hf_object *dev, *site, *eth;

	(void)state;
	if (d.errors || d.warnings)
		fail_msg("%s", d.text);
	assert_non_null(find(s, "TemplateTestDevice", "leaf", NULL));
	assert_non_null(find(s, "ProfileTestInterface", "jumbo", NULL));
	site = find(s, "TestSite", "paris", NULL);
	dev = find(s, "TestDevice", "d1", NULL);
	eth = find(s, "TestInterface", "d1", "eth0");
	assert_non_null(site);
	assert_non_null(dev);
	assert_non_null(eth);
	assert_ref(site, "template", 0, "TemplateTestDevice[leaf]");
	assert_ref(dev, "object_template", 0, "TemplateTestDevice[leaf]");
	assert_ref(eth, "profiles", 0, "ProfileTestInterface[jumbo]");
	/* only what the file sets: no role, no site from the template */
	assert_int_equal(dev->nfields, 2);
	assert_null(hf_object_field(dev, "role"));
	hf_objset_free(s);
}

/* Without a template, the same object misses its mandatory fields. */
static void test_resolve__mandatory_without_template(void **state)
{
	struct diags d;
	hf_objset *s = resolve(HEAD("TestDevice") "    - name: d1\n", 0, &d);

	(void)state;
	assert_non_null(
	        strstr(d.text, "t.yml:6:7: role is mandatory for TestDevice"));
	assert_non_null(
	        strstr(d.text, "t.yml:6:7: site is mandatory for TestDevice"));
	hf_objset_free(s);
}

/* Two declared objects of a generic's kinds with one HFID: ambiguous. */
static void test_resolve__ambiguous_generic_reference(void **state)
{
	struct diags d;
	hf_objset *s = resolve(
	        HEAD("TestGadget") "    - name: g1\n"
	                           "---\n" HEAD(
	                                   "TestWidget") "    - name: g1\n"
	                                                 "---\n" HEAD(
	                                                         "TestSite") "    - {name: lyon, gear: g1}\n",
	        0, &d);

	(void)state;
	assert_int_equal(d.errors, 1);
	assert_non_null(strstr(
	        d.text, "t.yml:20:26: reference to a TestGear matches "
	                "several objects in the files: TestGadget [\"g1\"] "
	                "(t.yml:6:7) and TestWidget [\"g1\"] (t.yml:13:7)"));
	hf_objset_free(s);
	s = resolve(
	        HEAD("TestWidget") "    - name: g1\n"
	                           "---\n" HEAD(
	                                   "TestSite") "    - {name: lyon, gear: g1}\n",
	        0, &d);
	assert_int_equal(d.errors, 0);
	assert_ref(find(s, "TestSite", "lyon", NULL), "gear", 0,
	           "TestWidget[g1]");
	hf_objset_free(s);
}

/*
 * Unkeyed kinds (no HFID, no unique attribute) with --allow-unkeyed: each
 * declaration is its own object; the items of an expand_range list are
 * never merged into one ("the later wins" would lose data silently).
 */
static void test_resolve__unkeyed_items_stay_separate(void **state)
{
	struct hf_resolve_opts o = HF_RESOLVE_OPTS_INIT;
	struct diags d;
	hf_objset *s;

	(void)state;
	assert_true(hf_resolve_unkeyed(schema, "TestNote"));
	assert_false(hf_resolve_unkeyed(schema, "TestAccount")); /* unique */
	assert_false(hf_resolve_unkeyed(schema, "TestInterface")); /* HFID */
	assert_false(hf_resolve_unkeyed(schema, "NoSuchKind"));
	o.allow_unkeyed = 1;
	s = resolve_opts(
	        "apiVersion: infrahub.app/v1\nkind: Object\nspec:\n"
	        "  kind: TestNote\n  parameters: {expand_range: true}\n"
	        "  data:\n    - text: note[1-3]\n    - text: same\n"
	        "    - text: same\n",
	        &o, &d);
	if (d.errors || d.warnings)
		fail_msg("%s", d.text);
	assert_int_equal(hf_objset_count(s), 5);
	assert_non_null(find(s, "TestNote", "@t.yml:7:7", NULL));
	assert_non_null(find(s, "TestNote", "@t.yml:7:7#2", NULL));
	assert_string_equal(
	        json_string_value(hf_object_field(find(s, "TestNote",
	                                               "@t.yml:7:7#3", NULL),
	                                          "text")
	                                  ->value),
	        "note3");
	assert_non_null(find(s, "TestNote", "@t.yml:9:7", NULL));
	hf_objset_free(s);
	/* without the option, each is refused */
	s = resolve_opts("apiVersion: infrahub.app/v1\nkind: Object\nspec:\n"
	                 "  kind: TestNote\n  data:\n    - text: a\n",
	                 NULL, &d);
	assert_int_equal(d.errors, 1);
	assert_non_null(strstr(d.text, "(use --allow-unkeyed)"));
	hf_objset_free(s);
}

/* Every object, field and reference, with positions, as text. */
static void dump_set(hf_buf *b, const hf_objset *s)
{
	const struct hf_object *o;
	const struct hf_field *f;
	char *t;
	size_t i, j, k;

	for (i = 0; s && i < hf_objset_count(s); i++) {
		o = hf_objset_at(s, i);
		t = json_dumps(o->hfid, JSON_COMPACT);
		hf_buf_addf(b, "%s %s %s:%d:%d\n", o->kind, t, o->file, o->line,
		            o->col);
		hf_free(t);
		for (j = 0; j < o->nfields; j++) {
			f = &o->fields[j];
			t = f->value
			            ? json_dumps(f->value,
			                         JSON_COMPACT | JSON_ENCODE_ANY)
			            : NULL;
			hf_buf_addf(b, "  %s %d %s %s:%d:%d\n", f->name,
			            f->type, t ? t : "-", f->file, f->line,
			            f->col);
			hf_free(t);
			for (k = 0; k < f->nrefs; k++) {
				t = f->refs[k].hfid
				            ? json_dumps(f->refs[k].hfid,
				                         JSON_COMPACT)
				            : NULL;
				hf_buf_addf(b, "    %s %s %s %s:%d:%d\n",
				            f->refs[k].kind, t ? t : "-",
				            f->refs[k].filter_attr
				                    ? f->refs[k].filter_attr
				                    : "-",
				            f->refs[k].file, f->refs[k].line,
				            f->refs[k].col);
				hf_free(t);
			}
		}
	}
}

/* Resolve `yaml` with o->consume = consume into *text; the objects left. */
static size_t resolve_dump(const char *yaml, struct hf_resolve_opts *o,
                           int consume, hf_buf *text)
{
	hf_manifest *m;
	hf_objset *set = NULL;
	struct diags d;
	size_t left;

	memset(&d, 0, sizeof(d));
	o->consume = consume;
	assert_int_equal(hf_manifest_new(&m), 0);
	hf_manifest_add_buffer(m, "t.yml", yaml, strlen(yaml), NULL);
	assert_int_equal(hf_manifest_error_count(m), 0);
	hf_resolve(&set, m, schema, o, on_diag, &d, NULL);
	left = hf_manifest_object_count(m);
	hf_buf_addf(text, "%d errors, %d warnings\n%s", d.errors, d.warnings,
	            d.text);
	dump_set(text, set);
	assert_false(hf_buf_failed(text));
	hf_objset_free(set);
	hf_manifest_free(m);
	return left;
}

/*
 * consume drops the documents once the objects are built, before the
 * passes that name, merge and link them: the objects and every message,
 * with its position, are those of a resolve that keeps them; after
 * errors in building, the documents stay (the caller's hints read them).
 */
static void test_resolve__consume_drops_documents(void **state)
{
	static const struct {
		const char *yaml;
		int unkeyed;
		int kept; /* errors while building: documents stay */
	} cases[] = {
		{ devices, 0, 0 },
		{ HEAD("TestNote") "  parameters: {expand_range: true}\n"
		                   "  data:\n    - text: note[1-3]\n",
		  1, 0 },
		/* the identity pass fails: its message has the position */
		{ HEAD("TestNote") "    - text: a\n", 0, 0 },
		/* the uniqueness pass */
		{ HEAD("TestDevice") "    - {name: c, role: core, site: x, "
		                     "serial: S1}\n"
		                     "    - {name: d, role: core, site: x, "
		                     "serial: S1}\n",
		  0, 0 },
		{ HEAD("TestDevice") "    - name: a\n      role: spine\n", 0,
		  1 },
	};
	size_t i, kept;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hf_resolve_opts o = HF_RESOLVE_OPTS_INIT;
		hf_buf a = HF_BUF_INIT, b = HF_BUF_INIT;

		o.allow_unkeyed = cases[i].unkeyed;
		kept = resolve_dump(cases[i].yaml, &o, 0, &a);
		assert_true(kept > 0);
		kept = resolve_dump(cases[i].yaml, &o, 1, &b);
		assert_int_equal(kept > 0, cases[i].kept);
		assert_string_equal(a.ptr, b.ptr);
		if (i == 2)
			assert_non_null(strstr(a.ptr, "t.yml:6:7: TestNote has "
			                              "neither"));
		if (i == 3)
			assert_non_null(
			        strstr(a.ptr, "both have unique serial"));
		hf_buf_release(&a);
		hf_buf_release(&b);
	}
}

/* Secrets never appear in a message: repeats, bad values. */
static void test_resolve__secrets_never_quoted(void **state)
{
	struct diags d;
	hf_objset *s = resolve(
	        HEAD("TestAccount") "    - {name: ann, password: hunter2}\n"
	                            "    - {name: ann, password: swordfish}\n"
	                            "    - {name: bob, password: 12345678}\n",
	        0, &d);

	(void)state;
	assert_int_equal(d.warnings, 1);
	assert_int_equal(d.errors, 1);
	assert_non_null(strstr(
	        d.text, "t.yml:7:29: TestAccount [\"ann\"]: field "
	                "'password' set to (sensitive) at t.yml:6:29 and to "
	                "(sensitive) here"));
	assert_non_null(strstr(
	        d.text, "t.yml:8:29: expected a string for HashedPassword "
	                "attribute 'password', found a number (the value is "
	                "not shown)"));
	assert_null(strstr(d.text, "hunter2"));
	assert_null(strstr(d.text, "swordfish"));
	assert_null(strstr(d.text, "12345678"));
	hf_objset_free(s);
}

/* Reallocations of a block that was there: growth one step at a time. */
static long regrown;

static void *count_realloc(void *p, size_t n)
{
	if (p)
		regrown++;
	return realloc(p, n);
}

/*
 * An object's fields are one allocation made for as many as its file
 * gives, not an array grown one field at a time: 200 devices of five
 * fields each grew their arrays 800 times that way (and left the old
 * steps behind as garbage).
 */
static void test_resolve__fields_not_grown_one_by_one(void **state)
{
	static const struct hf_allocator counting = { malloc, count_realloc,
		                                      free };
	hf_buf y = HF_BUF_INIT;
	struct diags d;
	hf_objset *s;
	size_t i;

	(void)state;
	hf_buf_add(&y, "apiVersion: infrahub.app/v1\nkind: Object\nspec:\n"
	               "  kind: TestDevice\n  data:\n");
	for (i = 0; i < 200; i++)
		hf_buf_addf(&y,
		            "    - {name: d%zu, role: edge, asn: %zu, "
		            "site: paris, tags: [red]}\n",
		            i, 65000 + i);
	assert_false(hf_buf_failed(&y));
	regrown = 0;
	hf_alloc_set(&counting);
	s = resolve(y.ptr, 0, &d);
	hf_alloc_set(NULL);
	assert_int_equal(d.errors, 0);
	assert_non_null(s);
	assert_int_equal(hf_objset_count(s), 200);
	for (i = 0; i < 200; i++)
		assert_int_equal(hf_objset_at(s, i)->nfields, 5);
	/* the buffers and tables of the run grow a few dozen times */
	assert_true(regrown < 200);
	hf_objset_free(s);
	hf_buf_release(&y);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve__identities_and_links),
		cmocka_unit_test(test_resolve__references_share_hfids),
		cmocka_unit_test(test_resolve__computed_hfid),
		cmocka_unit_test(test_resolve__repeats_merge_later_wins),
		cmocka_unit_test(test_resolve__errors_with_positions),
		cmocka_unit_test(test_resolve__relationship_forms),
		cmocka_unit_test(test_resolve__malformed_relationships),
		cmocka_unit_test(test_resolve__template_and_profile_same_run),
		cmocka_unit_test(test_resolve__mandatory_without_template),
		cmocka_unit_test(test_resolve__ambiguous_generic_reference),
		cmocka_unit_test(test_resolve__unkeyed_items_stay_separate),
		cmocka_unit_test(test_resolve__consume_drops_documents),
		cmocka_unit_test(test_resolve__secrets_never_quoted),
		cmocka_unit_test(test_resolve__fields_not_grown_one_by_one),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
