/*
 * Schemas for tests, parsed by the engine (schemahelp.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "schemahelp.h"
#include "testutil.h"
#include "hf/banned.h"

hf_schema *hf_test_served_schema(const char *url)
{
	char path[512];
	char *resp = NULL;
	hf_schema *s;
	long status = 0;

	snprintf(path, sizeof(path), "%s/api/schema", url);
	assert_int_equal(hf_http("GET", path, NULL, NULL, &status, &resp), 0);
	assert_int_equal(status, 200);
	s = hf_test_schema_text(resp);
	hf_free(resp);
	return s;
}

hf_schema *hf_test_schema_text(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);
	hf_schema *s = NULL;

	assert_non_null(j);
	assert_int_equal(hf_schema_parse(&s, j, NULL), 0);
	json_decref(j);
	return s;
}

static void add_str(hf_buf *b, const char *name, const char *v)
{
	hf_buf_addf(b, " %s=%s", name, v ? v : "(null)");
}

static void add_strv(hf_buf *b, const char *name, struct hf_strv v)
{
	size_t i;

	hf_buf_addf(b, " %s=[", name);
	for (i = 0; i < v.n; i++)
		hf_buf_addf(b, "%s%s", i ? "," : "", v.v[i]);
	hf_buf_add(b, "]");
}

static void add_json(hf_buf *b, const char *name, const json_t *v)
{
	char *t = v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS |
	                                    JSON_ENCODE_ANY)
	            : NULL;

	add_str(b, name, t);
	hf_free(t);
}

static void dump_attr(hf_buf *b, const struct hf_schema_attr *a)
{
	hf_buf_add(b, "  attr");
	add_str(b, "name", a->name);
	add_str(b, "label", a->label);
	add_str(b, "kind", a->kind_name);
	hf_buf_addf(b, " k=%d opt=%d uniq=%d ro=%d inh=%d", (int)a->kind,
	            a->optional, a->unique, a->read_only, a->inherited);
	add_json(b, "default", a->default_value);
	add_strv(b, "choices", a->choices);
	add_json(b, "enum", a->enum_values);
	add_str(b, "regex", a->regex);
	hf_buf_addf(b, " len=%zu..%zu", a->min_length, a->max_length);
	add_str(b, "branch", a->branch);
	hf_buf_addf(b, " computed=%d", a->computed);
	add_str(b, "ckind", a->computed_kind);
	add_str(b, "ctemplate", a->computed_template);
	hf_buf_add(b, "\n");
}

static void dump_rel(hf_buf *b, const struct hf_schema_rel *r)
{
	hf_buf_add(b, "  rel");
	add_str(b, "name", r->name);
	add_str(b, "label", r->label);
	add_str(b, "peer", r->peer);
	add_str(b, "identifier", r->identifier);
	add_str(b, "kind", r->kind_name);
	hf_buf_addf(b, " k=%d card=%d dir=%d opt=%d ro=%d inh=%d derived=%d",
	            (int)r->kind, (int)r->cardinality, (int)r->direction,
	            r->optional, r->read_only, r->inherited,
	            r->identifier_derived);
	hf_buf_addf(b, " count=%lld..%lld", r->min_count, r->max_count);
	add_str(b, "on_delete", r->on_delete);
	add_str(b, "hierarchical", r->hierarchical);
	add_str(b, "branch", r->branch);
	hf_buf_add(b, "\n");
}

static void dump_kind(hf_buf *b, const hf_kind *k)
{
	size_t i;

	add_str(b, "kind", hf_schema_kind_name(k));
	add_str(b, "ns", hf_schema_kind_namespace(k));
	add_str(b, "short", hf_schema_kind_short_name(k));
	add_str(b, "label", hf_schema_kind_label(k));
	hf_buf_addf(b, " type=%d", (int)hf_schema_kind_type(k));
	add_str(b, "hash", hf_schema_kind_hash(k));
	add_str(b, "branch", hf_schema_kind_branch(k));
	add_str(b, "default_filter", hf_schema_kind_default_filter(k));
	add_strv(b, "hfid", hf_schema_kind_hfid(k));
	add_strv(b, "display_labels", hf_schema_kind_display_labels(k));
	add_str(b, "display_label", hf_schema_kind_display_label(k));
	add_strv(b, "order_by", hf_schema_kind_order_by(k));
	add_strv(b, "inherit_from", hf_schema_kind_inherit_from(k));
	add_strv(b, "used_by", hf_schema_kind_used_by(k));
	for (i = 0; i < hf_schema_kind_uniqueness_count(k); i++)
		add_strv(b, "uniqueness", hf_schema_kind_uniqueness_at(k, i));
	add_str(b, "hierarchy", hf_schema_kind_hierarchy(k));
	add_str(b, "parent", hf_schema_kind_parent(k));
	add_str(b, "children", hf_schema_kind_children(k));
	hf_buf_addf(b, " hierarchical=%d\n", hf_schema_kind_hierarchical(k));
	for (i = 0; i < hf_schema_attr_count(k); i++)
		dump_attr(b, hf_schema_attr_at(k, i));
	for (i = 0; i < hf_schema_rel_count(k); i++)
		dump_rel(b, hf_schema_rel_at(k, i));
}

char *hf_test_schema_dump(const hf_schema *s)
{
	hf_buf b = HF_BUF_INIT;
	size_t i;

	add_str(&b, "hash", hf_schema_hash(s));
	hf_buf_add(&b, "\n");
	for (i = 0; i < hf_schema_count(s); i++)
		dump_kind(&b, hf_schema_at(s, i));
	assert_false(hf_buf_failed(&b));
	return hf_buf_detach(&b);
}
