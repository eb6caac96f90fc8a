/*
 * Schema processing of the local endpoint: the core kinds, loading (200
 * and both 422 shapes), the processing rules, persistence, the REST
 * bodies and the attribute value checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../server/schema.h"
#include "../server/schema_int.h"
#include "failalloc.h"
#include "hf/alloc.h"
#include "testutil.h"

/* ---- helpers ---- */

static hfs_schema *core(void)
{
	hfs_schema *s = NULL;
	hf_error err = HF_ERROR_INIT;

	if (hfs_schema_new(&s, NULL, &err) < 0)
		fail_msg("core: %s", err.msg);
	return s;
}

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, 0, &jerr);

	if (!v)
		fail_msg("bad test json: %s", jerr.text);
	return v;
}

/* Load `files` (a JSON array text of schema files) on top of `base`. */
static int load(hfs_schema **out, const hfs_schema *base, const char *files,
                json_t **resp)
{
	json_t *req = json_pack("{s:o}", "schemas", parse(files));
	hf_error err = HF_ERROR_INIT;
	int status = 0;

	assert_int_equal(
	        hfs_schema_load(out, base, req, 0, resp, &status, &err), 0);
	json_decref(req);
	return status;
}

static json_t *widgets_doc(void)
{
	char path[1024], *text;
	json_t *doc;

	snprintf(path, sizeof(path), "%s/schema/widgets.json", hf_test_data());
	text = hf_read_file(path, NULL);
	assert_non_null(text);
	doc = parse(text);
	hf_free(text);
	return doc;
}

static hfs_schema *widgets(const hfs_schema *base)
{
	json_t *req = json_pack("{s:[o]}", "schemas", widgets_doc()), *resp;
	hfs_schema *s = NULL;
	hf_error err = HF_ERROR_INIT;
	int status;

	assert_int_equal(
	        hfs_schema_load(&s, base, req, 0, &resp, &status, &err), 0);
	if (status != 200) {
		char *t = json_dumps(resp, 0);

		fail_msg("status %d: %s", status, t);
	}
	json_decref(req);
	json_decref(resp);
	return s;
}

static const char *first_error(json_t *resp)
{
	return json_string_value(json_object_get(
	        json_array_get(json_object_get(resp, "errors"), 0), "message"));
}

static const struct hfs_kind *kind(const hfs_schema *s, const char *k)
{
	const struct hfs_kind *sk = hfs_schema_kind(s, k);

	if (!sk)
		fail_msg("kind %s missing", k);
	return sk;
}

/* ---- core ---- */

static void test_srv_schema__core_builds(void **state)
{
	hfs_schema *a = core(), *b = core();
	const struct hfs_kind *pfx = kind(a, "BuiltinIPPrefix");
	const struct hfs_kind *pool = kind(a, "CoreNumberPool");
	const struct hfs_attr *mt = hfs_kind_attr(pfx, "member_type");
	const char *const attrs[] = { "name",        "description",
		                      "node",        "node_attribute",
		                      "start_range", "end_range",
		                      NULL };
	size_t i;

	(void)state;
	assert_int_equal(strlen(hfs_schema_hash(a)), 32);
	assert_string_equal(hfs_schema_hash(a), hfs_schema_hash(b));
	assert_true(pfx->is_generic);
	assert_true(pfx->hierarchical);
	assert_string_equal(pfx->default_filter, "prefix__value");
	assert_string_equal(json_string_value(mt->default_value), "address");
	assert_true(
	        json_is_false(hfs_kind_attr(pfx, "is_pool")->default_value));
	for (i = 0; attrs[i]; i++)
		assert_non_null(hfs_kind_attr(pool, attrs[i]));
	assert_string_equal(hfs_kind_attr(pool, "start_range")->kind, "Number");
	assert_string_equal(
	        hfs_kind_rel(kind(a, "CoreIPPrefixPool"), "resources")->peer,
	        "BuiltinIPPrefix");
	assert_string_equal(kind(a, "IpamNamespace")->default_filter,
	                    "name__value");
	assert_true(hfs_schema_is_a(a, "IpamNamespace", "BuiltinIPNamespace"));
	assert_true(hfs_schema_is_a(a, "CoreStandardGroup", "CoreGroup"));
	assert_non_null(kind(a, "ProfileBuiltinTag"));
	assert_true(hfs_schema_is_a(a, "ProfileBuiltinTag", "CoreProfile"));
	hfs_schema_free(a);
	hfs_schema_free(b);
}

/* ---- loading ---- */

static void test_srv_schema__load_processes(void **state)
{
	hfs_schema *base = core(), *s = widgets(base);
	const struct hfs_kind *w = kind(s, "TestingWidget");
	const struct hfs_attr *size = hfs_kind_attr(w, "size");
	const struct hfs_attr *colour = hfs_kind_attr(w, "colour");
	const struct hfs_rel *place = hfs_kind_rel(w, "place");

	(void)state;
	/* Labels, default values, generated identifiers, inheritance. */
	assert_string_equal(w->label, "Widget");
	assert_string_equal(hfs_kind_attr(w, "label_text")->label,
	                    "Label Text");
	assert_true(size->optional);
	assert_int_equal(json_integer_value(size->default_value), 3);
	assert_int_equal(colour->nchoices, 2);
	assert_string_equal(colour->choices[1].label, "Dark Blue");
	assert_string_equal(colour->choices[1].color, "#000080");
	assert_non_null(colour->choices[0].color);
	assert_true(place->inherited);
	assert_string_equal(place->identifier, "testingplace__testingthing");
	assert_string_equal(hfs_kind_rel(w, "tags")->identifier,
	                    "builtintag__testingwidget");
	/* HFID from the first unique attribute. */
	assert_int_equal(w->hfid.n, 1);
	assert_string_equal(w->hfid.v[0], "name__value");
	/* HFID given without constraints becomes the constraint. */
	assert_int_equal(kind(s, "TestingPart")->nuniq, 1);
	assert_int_equal(kind(s, "TestingPart")->uniq[0].n, 2);
	assert_string_equal(kind(s, "TestingPart")->uniq[0].v[0], "widget");
	/* Computed attributes keep their template and are read-only. */
	assert_string_equal(hfs_kind_attr(w, "label_text")->computed_template,
	                    "{{ name__value }}-{{ place__code__value }}");
	assert_true(hfs_kind_attr(w, "label_text")->read_only);
	/* Every node gets the group relationships. */
	assert_string_equal(hfs_kind_rel(w, "member_of_groups")->identifier,
	                    "group_member");
	assert_string_equal(hfs_kind_rel(w, "subscriber_of_groups")->peer,
	                    "CoreGroup");
	assert_true(hfs_schema_is_a(s, "TestingWidget", "TestingThing"));
	hfs_schema_free(s);
	hfs_schema_free(base);
}

static void test_srv_schema__hierarchy(void **state)
{
	hfs_schema *base = core(), *s = widgets(base);
	const struct hfs_kind *country = kind(s, "TestingCountry");
	const struct hfs_kind *city = kind(s, "TestingCity");
	const struct hfs_kind *place = kind(s, "TestingPlace");

	(void)state;
	assert_string_equal(country->hierarchy, "TestingPlace");
	assert_null(hfs_kind_rel(country, "parent"));
	assert_string_equal(hfs_kind_rel(country, "children")->peer,
	                    "TestingCity");
	assert_string_equal(hfs_kind_rel(city, "parent")->peer,
	                    "TestingCountry");
	assert_string_equal(hfs_kind_rel(city, "parent")->kind, "Hierarchy");
	assert_null(hfs_kind_rel(city, "children"));
	assert_string_equal(hfs_kind_rel(place, "children")->peer,
	                    "TestingPlace");
	assert_int_equal(place->used_by.n, 2);
	assert_string_equal(place->used_by.v[0], "TestingCity");
	assert_string_equal(city->hfid.v[0], "code__value");
	hfs_schema_free(s);
	hfs_schema_free(base);
}

static void test_srv_schema__profiles_and_templates(void **state)
{
	hfs_schema *base = core(), *s = widgets(base);
	const struct hfs_kind *p = kind(s, "ProfileTestingWidget");
	const struct hfs_kind *t = kind(s, "TemplateTestingWidget");
	const struct hfs_kind *w = kind(s, "TestingWidget");

	(void)state;
	assert_true(p->is_profile);
	assert_string_equal(p->attrs[0].name, "profile_name");
	assert_string_equal(p->attrs[1].name, "profile_priority");
	assert_true(hfs_kind_attr(p, "profile_name")->unique);
	assert_non_null(hfs_kind_attr(p, "size"));
	assert_true(hfs_kind_attr(p, "size")->optional);
	assert_null(hfs_kind_attr(p, "name")); /* mandatory + unique */
	assert_null(hfs_kind_attr(p, "label_text")); /* read-only */
	assert_string_equal(w->profile_kind, "ProfileTestingWidget");
	assert_string_equal(hfs_kind_rel(w, "profiles")->kind, "Profile");
	assert_string_equal(hfs_kind_rel(p, "related_nodes")->peer,
	                    "TestingWidget");
	assert_true(t->is_template);
	assert_true(hfs_kind_attr(t, "template_name")->unique);
	/* unique attributes stay off templates (Infrahub 1.9.5 notes) */
	assert_null(hfs_kind_attr(t, "name"));
	assert_true(hfs_kind_attr(t, "size")->optional);
	assert_string_equal(hfs_kind_rel(t, "parts")->peer,
	                    "TemplateTestingPart");
	assert_true(kind(s, "TemplateTestingPart")->is_template);
	assert_string_equal(w->template_kind, "TemplateTestingWidget");
	assert_true(hfs_schema_is_a(s, "TemplateTestingWidget",
	                            "CoreObjectTemplate"));
	hfs_schema_free(s);
	hfs_schema_free(base);
}

static void test_srv_schema__reload_is_idempotent(void **state)
{
	hfs_schema *base = core(), *s = widgets(base), *again = NULL;
	json_t *req = json_pack("{s:[o]}", "schemas", widgets_doc()), *resp;
	hf_error err = HF_ERROR_INIT;
	int status;

	(void)state;
	assert_int_equal(
	        hfs_schema_load(&again, s, req, 0, &resp, &status, &err), 0);
	assert_int_equal(status, 200);
	assert_string_equal(hfs_schema_hash(again), hfs_schema_hash(s));
	assert_string_equal(
	        json_string_value(json_object_get(resp, "hash")),
	        json_string_value(json_object_get(resp, "previous_hash")));
	assert_true(json_is_false(json_object_get(resp, "schema_updated")));
	assert_int_equal(json_object_size(json_object_get(
	                         json_object_get(resp, "diff"), "added")),
	                 0);
	json_decref(req);
	json_decref(resp);
	hfs_schema_free(again);
	hfs_schema_free(s);
	hfs_schema_free(base);
}

static void test_srv_schema__persist_round_trip(void **state)
{
	hfs_schema *base = core(), *s = widgets(base), *back = NULL,
	           *bad = NULL;
	hf_error err = HF_ERROR_INIT;
	char *text = hfs_schema_persist(s);

	(void)state;
	assert_non_null(text);
	assert_int_equal(hfs_schema_new(&back, text, &err), 0);
	assert_string_equal(hfs_schema_hash(back), hfs_schema_hash(s));
	assert_int_equal(hfs_schema_count(back), hfs_schema_count(s));
	assert_int_equal(hfs_schema_new(&bad, "[1]", &err), HF_EINVAL);
	assert_null(bad);
	assert_int_equal(hfs_schema_new(&bad, "{", &err), HF_EINVAL);
	hf_free(text);
	hfs_schema_free(back);
	hfs_schema_free(s);
	hfs_schema_free(base);
}

static void test_srv_schema__state_absent_removes(void **state)
{
	hfs_schema *base = core(), *s = widgets(base), *s2 = NULL, *s3 = NULL;
	json_t *resp = NULL, *diff;
	int status;

	(void)state;
	status = load(&s2, s,
	              "[{\"version\":\"1.0\",\"nodes\":[{\"name\":\"Widget\","
	              "\"namespace\":\"Testing\",\"attributes\":[{\"name\":"
	              "\"address\",\"state\":\"absent\"}]}]}]",
	              &resp);
	assert_int_equal(status, 200);
	assert_null(hfs_kind_attr(kind(s2, "TestingWidget"), "address"));
	assert_non_null(hfs_kind_attr(kind(s2, "TestingWidget"), "size"));
	diff = json_object_get(json_object_get(resp, "diff"), "changed");
	assert_non_null(json_object_get(
	        json_object_get(
	                json_object_get(
	                        json_object_get(
	                                json_object_get(diff, "TestingWidget"),
	                                "changed"),
	                        "attributes"),
	                "removed"),
	        "address"));
	json_decref(resp);
	/* Remove the part kind: the widget still points at it, so 422. */
	status = load(&s3, s2,
	              "[{\"version\":\"1.0\",\"nodes\":[{\"name\":\"Part\","
	              "\"namespace\":\"Testing\",\"state\":\"absent\"}]}]",
	              &resp);
	assert_int_equal(status, 422);
	assert_non_null(
	        strstr(first_error(resp), "invalid peer 'TestingPart'"));
	json_decref(resp);
	hfs_schema_free(s2);
	hfs_schema_free(s);
	hfs_schema_free(base);
}

static void test_srv_schema__extension_reaches_nodes(void **state)
{
	hfs_schema *base = core(), *s = widgets(base), *s2 = NULL;
	json_t *resp = NULL;
	int status;

	(void)state;
	status = load(&s2, s,
	              "[{\"version\":\"1.0\",\"extensions\":{\"nodes\":[{"
	              "\"kind\":\"TestingThing\",\"attributes\":[{\"name\":"
	              "\"weight\",\"kind\":\"Number\",\"optional\":true}]},"
	              "{\"kind\":\"CoreStandardGroup\",\"attributes\":[{"
	              "\"name\":\"colour\",\"kind\":\"Text\",\"optional\":"
	              "true}]}]}}]",
	              &resp);
	assert_int_equal(status, 200);
	assert_true(
	        hfs_kind_attr(kind(s2, "TestingWidget"), "weight")->inherited);
	assert_non_null(hfs_kind_attr(kind(s2, "CoreStandardGroup"), "colour"));
	json_decref(resp);
	hfs_schema_free(s2);
	s2 = NULL;
	status = load(&s2, s,
	              "[{\"version\":\"1.0\",\"extensions\":{\"nodes\":[{"
	              "\"kind\":\"TestingNope\",\"attributes\":[]}]}}]",
	              &resp);
	assert_int_equal(status, 422);
	assert_string_equal(first_error(resp), "Unable to find the schema "
	                                       "'TestingNope' in the registry");
	json_decref(resp);
	hfs_schema_free(s);
	hfs_schema_free(base);
}

/* ---- 422s ---- */

static void test_srv_schema__bad_namespace_fastapi_shape(void **state)
{
	hfs_schema *base = core(), *s = NULL;
	json_t *resp = NULL, *e, *loc;
	int status;

	(void)state;
	status = load(&s, base,
	              "[{\"version\":\"1.0\",\"nodes\":[{\"name\":\"Device\","
	              "\"namespace\":\"OuT\",\"attributes\":[{\"name\":"
	              "\"name\",\"kind\":\"NotValid\"}]}]}]",
	              &resp);
	assert_int_equal(status, 422);
	assert_null(s);
	assert_int_equal(json_array_size(json_object_get(resp, "detail")), 2);
	e = json_array_get(json_object_get(resp, "detail"), 0);
	assert_string_equal(json_string_value(json_object_get(e, "type")),
	                    "string_pattern_mismatch");
	assert_string_equal(json_string_value(json_object_get(e, "msg")),
	                    "String should match pattern '^[A-Z][a-z0-9]+$'");
	assert_string_equal(json_string_value(json_object_get(e, "input")),
	                    "OuT");
	loc = parse("[\"body\",\"schemas\",0,\"nodes\",0,\"namespace\"]");
	assert_true(json_equal(json_object_get(e, "loc"), loc));
	json_decref(loc);
	assert_string_equal(json_string_value(json_object_get(
	                            json_object_get(e, "ctx"), "pattern")),
	                    "^[A-Z][a-z0-9]+$");
	e = json_array_get(json_object_get(resp, "detail"), 1);
	assert_string_equal(json_string_value(json_object_get(e, "type")),
	                    "value_error");
	assert_non_null(strstr(json_string_value(json_object_get(e, "msg")),
	                       "Value error, Only valid Attribute Kind are : "
	                       "['ID', 'Dropdown', 'Text'"));
	json_decref(resp);
	hfs_schema_free(base);
}

static void test_srv_schema__shape_errors(void **state)
{
	hfs_schema *base = core(), *s = NULL;
	json_t *resp = NULL, *d;
	int status;

	(void)state;
	status = load(&s, base, "[{\"version\":1,\"other\":true}]", &resp);
	assert_int_equal(status, 422);
	d = json_object_get(resp, "detail");
	assert_string_equal(json_string_value(json_object_get(
	                            json_array_get(d, 0), "type")),
	                    "extra_forbidden");
	assert_string_equal(json_string_value(json_object_get(
	                            json_array_get(d, 1), "type")),
	                    "string_type");
	json_decref(resp);
	status = load(&s, base,
	              "[{\"version\":\"1.0\",\"nodes\":[{\"name\":\"Thing\","
	              "\"namespace\":\"Testing\",\"relationships\":[{\"name\":"
	              "\"x\",\"peer\":\"TestingThing\",\"cardinality\":"
	              "\"some\"}]}]}]",
	              &resp);
	assert_int_equal(status, 422);
	d = json_object_get(resp, "detail");
	assert_string_equal(json_string_value(json_object_get(
	                            json_array_get(d, 0), "type")),
	                    "string_too_short");
	assert_string_equal(
	        json_string_value(json_object_get(json_array_get(d, 1), "msg")),
	        "Input should be 'one' or 'many'");
	json_decref(resp);
	hfs_schema_free(base);
}

static void test_srv_schema__semantic_errors(void **state)
{
	static const struct {
		const char *files;
		const char *message;
	} cases[] = {
		{ "[{\"version\":\"1.0\",\"nodes\":[{\"name\":\"Thing\","
		  "\"namespace\":\"Core\"}]}]",
		  "Restricted namespace 'Core' used on 'Thing'" },
		{ "[{\"version\":\"1.0\",\"nodes\":[{\"name\":\"Thing\","
		  "\"namespace\":\"Testing\",\"relationships\":[{\"name\":"
		  "\"owner\",\"peer\":\"TestingNope\"}]}]}]",
		  "TestingThing: Relationship 'owner' is referencing an "
		  "invalid peer 'TestingNope'" },
		{ "[{\"version\":\"1.0\",\"nodes\":[{\"name\":\"Thing\","
		  "\"namespace\":\"Testing\",\"inherit_from\":[\"TestingNope\"]}]}]",
		  "TestingThing Unable to find the generic TestingNope" },
		{ "[{\"version\":\"1.0\",\"nodes\":[{\"name\":\"Thing\","
		  "\"namespace\":\"Testing\",\"human_friendly_id\":"
		  "[\"nope__value\"],\"attributes\":[{\"name\":\"name\","
		  "\"kind\":\"Text\"}]}]}]",
		  "TestingThing.human_friendly_id: 'nope__value' is not a "
		  "valid schema path" },
		{ "[{\"version\":\"1.0\",\"nodes\":[{\"name\":\"Thing\","
		  "\"namespace\":\"Testing\",\"attributes\":[{\"name\":"
		  "\"level\",\"kind\":\"Dropdown\",\"default_value\":\"x\","
		  "\"choices\":[{\"name\":\"a\"},{\"name\":\"b\"}]}]}]}]",
		  "TestingThing: default value x must be one of 'a, b' at "
		  "level" },
		{ "[{\"version\":\"1.0\",\"nodes\":[{\"name\":\"Thing\","
		  "\"namespace\":\"Testing\",\"attributes\":[{\"name\":"
		  "\"name\",\"kind\":\"Text\"},{\"name\":\"full\",\"kind\":"
		  "\"Text\",\"computed_attribute\":{\"kind\":\"Jinja2\","
		  "\"jinja2_template\":\"{{ name__value | tojson }}\"}}]}]}]",
		  "TestingThing: Attribute 'full' is assigned by a jinja2 "
		  "template, but has an invalid template: The 'tojson' filter "
		  "isn't allowed to be used" },
		{ "[{\"version\":\"1.0\",\"nodes\":[{\"name\":\"Thing\","
		  "\"namespace\":\"Testing\",\"relationships\":[{\"name\":"
		  "\"holder\",\"peer\":\"TestingThing\",\"kind\":\"Parent\","
		  "\"cardinality\":\"one\"}]}]}]",
		  "TestingThing.holder: Relationship of type parent must not be "
		  "optional" },
		{ "[{\"version\":\"1.0\",\"nodes\":[{\"name\":\"Thing\","
		  "\"namespace\":\"Testing\",\"attributes\":[{\"name\":"
		  "\"hfid\",\"kind\":\"Text\"}]}]}]",
		  "TestingThing: hfid isn't allowed as an attribute name." },
		{ "[{\"version\":\"1.0\",\"nodes\":[{\"name\":\"Thing\","
		  "\"namespace\":\"Testing\",\"attributes\":[{\"name\":"
		  "\"name\",\"kind\":\"Text\"}],\"relationships\":[{"
		  "\"name\":\"name\",\"peer\":\"BuiltinTag\"}]}]}]",
		  "TestingThing: Names of attributes and relationships must be "
		  "unique : ['name']" },
	};
	hfs_schema *base = core();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		hfs_schema *s = NULL;
		json_t *resp = NULL;
		int status = load(&s, base, cases[i].files, &resp);

		assert_int_equal(status, 422);
		assert_null(s);
		assert_string_equal(first_error(resp), cases[i].message);
		assert_int_equal(
		        json_integer_value(json_object_get(
		                json_object_get(
		                        json_array_get(
		                                json_object_get(resp, "errors"),
		                                0),
		                        "extensions"),
		                "code")),
		        422);
		assert_true(json_is_null(json_object_get(resp, "data")));
		json_decref(resp);
	}
	hfs_schema_free(base);
}

static void test_srv_schema__unknown_keys_ignored(void **state)
{
	hfs_schema *base = core(), *s = NULL;
	json_t *resp = NULL;
	int status;

	(void)state;
	status = load(&s, base,
	              "[{\"version\":\"1.0\",\"nodes\":[{\"name\":\"Thing\","
	              "\"namespace\":\"Testing\",\"future_option\":{\"x\":1},"
	              "\"attributes\":[{\"name\":\"name\",\"kind\":\"Text\","
	              "\"deprecation\":\"soon\",\"parameters\":{\"max_length\":"
	              "5}}]}]}]",
	              &resp);
	assert_int_equal(status, 200);
	assert_int_equal(
	        hfs_kind_attr(kind(s, "TestingThing"), "name")->max_length, 5);
	json_decref(resp);
	hfs_schema_free(s);
	hfs_schema_free(base);
}

static void test_srv_schema__dry_run(void **state)
{
	hfs_schema *base = core(), *s = NULL;
	json_t *req = json_pack("{s:[o]}", "schemas", widgets_doc()), *resp;
	hf_error err = HF_ERROR_INIT;
	int status;

	(void)state;
	assert_int_equal(
	        hfs_schema_load(&s, base, req, 1, &resp, &status, &err), 0);
	assert_int_equal(status, 202);
	assert_null(s);
	assert_non_null(json_object_get(
	        json_object_get(json_object_get(resp, "diff"), "added"),
	        "TestingWidget"));
	json_decref(req);
	json_decref(resp);
	hfs_schema_free(base);
}

/* ---- REST bodies ---- */

static void test_srv_schema__api_bodies(void **state)
{
	hfs_schema *base = core(), *s = widgets(base);
	const char *const only[] = { "Testing" };
	json_t *api = hfs_schema_api(s, only, 1), *el, *sum;
	size_t i;

	(void)state;
	assert_non_null(api);
	json_array_foreach(json_object_get(api, "nodes"), i, el)
	        assert_string_equal(
	                json_string_value(json_object_get(el, "namespace")),
	                "Testing");
	assert_int_equal(json_array_size(json_object_get(api, "nodes")), 4);
	assert_string_equal(
	        json_string_value(json_object_get(
	                json_array_get(json_object_get(api, "nodes"), 0),
	                "kind")),
	        "TestingCity");
	json_decref(api);
	el = hfs_schema_api_kind(s, "TestingWidget");
	assert_non_null(el);
	assert_string_equal(json_string_value(json_object_get(el, "hash")),
	                    kind(s, "TestingWidget")->hash);
	assert_string_equal(
	        json_string_value(json_object_get(
	                json_array_get(json_object_get(el, "filters"), 0),
	                "name")),
	        "ids");
	json_decref(el);
	assert_null(hfs_schema_api_kind(s, "TestingNope"));
	sum = hfs_schema_summary(s);
	assert_string_equal(json_string_value(json_object_get(sum, "main")),
	                    hfs_schema_hash(s));
	assert_string_equal(
	        json_string_value(json_object_get(
	                json_object_get(sum, "generics"), "TestingPlace")),
	        kind(s, "TestingPlace")->hash);
	json_decref(sum);
	hfs_schema_free(s);
	hfs_schema_free(base);
}

/* ---- attribute values ---- */

static int check(const char *k, const char *value_json, const char **out,
                 hf_error *err)
{
	static char buf[256];
	struct hfs_choice ch[2] = { { "red", "Red", NULL, NULL },
		                    { "blue", "Blue", NULL, NULL } };
	struct hfs_attr a;
	json_t *v = json_loads(value_json, JSON_DECODE_ANY, NULL), *norm = NULL;
	char *t;
	int rc;

	memset(&a, 0, sizeof(a));
	a.name = "field";
	a.kind = k;
	a.min_length = -1;
	a.max_length = -1;
	a.choices = ch;
	a.nchoices = 2;
	rc = hfs_attr_check(&a, v, &norm, err);
	t = norm ? json_dumps(norm, JSON_ENCODE_ANY) : NULL;
	snprintf(buf, sizeof(buf), "%s", t ? t : "");
	*out = buf;
	free(t);
	json_decref(norm);
	json_decref(v);
	return rc;
}

static void ok(const char *k, const char *in, const char *want)
{
	hf_error err = HF_ERROR_INIT;
	const char *got;

	if (check(k, in, &got, &err) < 0)
		fail_msg("%s %s: %s", k, in, err.msg);
	assert_string_equal(got, want);
}

static void bad(const char *k, const char *in, const char *msg)
{
	hf_error err = HF_ERROR_INIT;
	const char *got;

	assert_int_equal(check(k, in, &got, &err), HF_EINVAL);
	assert_string_equal(err.msg, msg);
}

static void test_srv_schema__attr_values(void **state)
{
	(void)state;
	ok("Text", "\"abc\"", "\"abc\"");
	bad("Text", "12", "12 is not a valid Text at field");
	ok("Number", "12", "12");
	ok("Number", "12.0", "12");
	bad("Number", "\"100\"", "100 is not a valid Number at field");
	bad("Number", "1.5", "1.5 is not a valid Number at field");
	bad("Number", "true", "True is not a valid Number at field");
	ok("Boolean", "false", "false");
	bad("Checkbox", "\"yes\"", "yes is not a valid Checkbox at field");
	ok("Dropdown", "\"blue\"", "\"blue\"");
	bad("Dropdown", "\"green\"",
	    "green must be one of 'blue, red' at field");
	ok("IPHost", "\"10.0.0.1\"", "\"10.0.0.1/32\"");
	ok("IPHost", "\"10.0.0.1/24\"", "\"10.0.0.1/24\"");
	ok("IPHost", "\"2001:DB8:0:0::1/64\"", "\"2001:db8::1/64\"");
	bad("IPHost", "\"10.0.0.256\"",
	    "10.0.0.256 is not a valid IPHost at field");
	ok("IPNetwork", "\"10.0.0.0/24\"", "\"10.0.0.0/24\"");
	ok("IPNetwork", "\"2001:db8:0::/48\"", "\"2001:db8::/48\"");
	bad("IPNetwork", "\"10.0.0.1/24\"",
	    "10.0.0.1/24 is not a valid IPNetwork at field");
	bad("IPNetwork", "\"10.0.0.0/33\"",
	    "10.0.0.0/33 is not a valid IPNetwork at field");
	ok("List", "[1,\"a\"]", "[1, \"a\"]");
	bad("List", "{}", "{} is not a valid List at field");
	ok("JSON", "{\"a\":1}", "{\"a\": 1}");
	ok("Any", "3", "3");
	ok("DateTime", "\"2024-10-22T10:00:00Z\"", "\"2024-10-22T10:00:00Z\"");
	ok("DateTime", "\"2024-10-22T10:00:00.123+02:00\"",
	   "\"2024-10-22T10:00:00.123+02:00\"");
	bad("DateTime", "\"yesterday\"",
	    "yesterday is not a valid DateTime at field");
	ok("Email", "\"a@example.com\"", "\"a@example.com\"");
	bad("Email", "\"nobody\"", "nobody is not a valid Email at field");
	ok("URL", "\"https://example.com/x\"", "\"https://example.com/x\"");
	bad("URL", "\"example\"", "example is not a valid URL at field");
	ok("MacAddress", "\"00:1a:2B:3c:4d:5e\"", "\"00:1a:2B:3c:4d:5e\"");
	bad("MacAddress", "\"00:1a\"",
	    "00:1a is not a valid MacAddress at field");
	ok("Color", "\"#a0b1c2\"", "\"#a0b1c2\"");
	bad("Color", "\"red\"", "red is not a valid Color at field");
	ok("Text", "null", "null");
}

static void test_srv_schema__text_constraints(void **state)
{
	hfs_schema *base = core(), *s = NULL;
	json_t *resp = NULL, *v, *norm = NULL;
	hf_error err = HF_ERROR_INIT;
	const struct hfs_kind *k;
	int status;

	(void)state;
	status = load(&s, base,
	              "[{\"version\":\"1.0\",\"nodes\":[{\"name\":\"Thing\","
	              "\"namespace\":\"Testing\",\"attributes\":["
	              "{\"name\":\"code\",\"kind\":\"Text\",\"regex\":"
	              "\"\\\\d{3}-[a-z]+$\",\"min_length\":5,\"max_length\":8},"
	              "{\"name\":\"mode\",\"kind\":\"Text\",\"enum\":[\"a\","
	              "\"b\"]}]}]}]",
	              &resp);
	assert_int_equal(status, 200);
	json_decref(resp);
	k = kind(s, "TestingThing");
	v = json_string("123-ab");
	assert_int_equal(
	        hfs_attr_check(hfs_kind_attr(k, "code"), v, &norm, &err), 0);
	json_decref(norm);
	json_decref(v);
	v = json_string("x123-ab");
	assert_int_equal(
	        hfs_attr_check(hfs_kind_attr(k, "code"), v, &norm, &err),
	        HF_EINVAL);
	assert_string_equal(err.msg, "x123-ab must be conform with the regex: "
	                             "'\\d{3}-[a-z]+$' at code");
	json_decref(v);
	v = json_string("123-abcdef");
	assert_int_equal(
	        hfs_attr_check(hfs_kind_attr(k, "code"), v, &norm, &err),
	        HF_EINVAL);
	assert_string_equal(
	        err.msg, "123-abcdef must have a maximum length of 8 at code");
	json_decref(v);
	v = json_string("c");
	assert_int_equal(
	        hfs_attr_check(hfs_kind_attr(k, "mode"), v, &norm, &err),
	        HF_EINVAL);
	assert_string_equal(err.msg, "c must be one of ['a', 'b'] at mode");
	json_decref(v);
	hfs_schema_free(s);
	hfs_schema_free(base);
}

static void test_srv_schema__md5(void **state)
{
	char h[33], big[1000];

	(void)state;
	hfs_md5_hex("", 0, h);
	assert_string_equal(h, "d41d8cd98f00b204e9800998ecf8427e");
	hfs_md5_hex("abc", 3, h);
	assert_string_equal(h, "900150983cd24fb0d6963f7d28e17f72");
	memset(big, 'a', sizeof(big));
	hfs_md5_hex(big, 56, h);
	assert_string_equal(h, "3b0c8ac703f828b04c6c197006d17218");
	hfs_md5_hex(big, sizeof(big), h);
	assert_string_equal(h, "cabe45dcc9ae5b66ba86600cca6b8ba8");
}

/* ---- allocation failures ---- */

static void torture_load(const hfs_schema *base, json_t *req)
{
	hf_error err = HF_ERROR_INIT;
	hfs_schema *s = NULL;
	json_t *resp = NULL;
	long total, n;
	int status;

	hf_failalloc_nth(0);
	assert_int_equal(
	        hfs_schema_load(&s, base, req, 0, &resp, &status, &err), 0);
	hfs_schema_free(s);
	json_decref(resp);
	total = hf_failalloc_count();
	for (n = 1; n <= total; n += 1 + total / 200) {
		hf_failalloc_nth(n);
		s = NULL;
		resp = NULL;
		if (hfs_schema_load(&s, base, req, 0, &resp, &status, &err) <
		    0) {
			assert_null(s);
			assert_null(resp);
		}
		hfs_schema_free(s);
		json_decref(resp);
	}
}

static void test_srv_schema__torture(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hfs_schema *s = NULL, *base = core();
	json_t *req = json_pack("{s:[o]}", "schemas", widgets_doc());
	json_t *bad = parse("{\"schemas\":[{\"version\":1,\"nodes\":[{"
	                    "\"name\":\"x\",\"namespace\":\"OuT\"}]}]}");
	long total, n;

	(void)state;
	hf_failalloc_nth(0);
	assert_int_equal(hfs_schema_new(&s, NULL, &err), 0);
	hfs_schema_free(s);
	total = hf_failalloc_count();
	/* Sampled: every allocation would take minutes under ASan. */
	for (n = 1; n <= total; n += 1 + total / 200) {
		hf_failalloc_nth(n);
		s = NULL;
		if (hfs_schema_new(&s, NULL, &err) == 0)
			hfs_schema_free(s);
		else
			assert_null(s);
	}
	torture_load(base, req);
	torture_load(base, bad);
	hf_failalloc_reset();
	json_decref(req);
	json_decref(bad);
	hfs_schema_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_srv_schema__core_builds),
		cmocka_unit_test(test_srv_schema__load_processes),
		cmocka_unit_test(test_srv_schema__hierarchy),
		cmocka_unit_test(test_srv_schema__profiles_and_templates),
		cmocka_unit_test(test_srv_schema__reload_is_idempotent),
		cmocka_unit_test(test_srv_schema__persist_round_trip),
		cmocka_unit_test(test_srv_schema__state_absent_removes),
		cmocka_unit_test(test_srv_schema__extension_reaches_nodes),
		cmocka_unit_test(test_srv_schema__bad_namespace_fastapi_shape),
		cmocka_unit_test(test_srv_schema__shape_errors),
		cmocka_unit_test(test_srv_schema__semantic_errors),
		cmocka_unit_test(test_srv_schema__unknown_keys_ignored),
		cmocka_unit_test(test_srv_schema__dry_run),
		cmocka_unit_test(test_srv_schema__api_bodies),
		cmocka_unit_test(test_srv_schema__attr_values),
		cmocka_unit_test(test_srv_schema__text_constraints),
		cmocka_unit_test(test_srv_schema__md5),
		cmocka_unit_test(test_srv_schema__torture),
	};

	if (!hf_test_data()) {
		printf("skipped: $HF_TEST_DATA not present\n");
		return 77;
	}
	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
