/*
 * Schema processing: the built-in core kinds plus the user material go
 * through the steps Infrahub's SchemaBranch.process() runs, in its order:
 * identifiers, default values, cardinality counts, inheritance,
 * hierarchy, branch support, profiles (and object templates), then
 * validation, then groups, hierarchy relationships, weights, labels,
 * dropdowns, on_delete and HFID derivation. Each step works on JSON
 * elements already in the GET /api/schema shape.
 *
 * Deliberate differences from Infrahub, for a deterministic local server:
 * kinds are processed sorted by kind (Infrahub keeps load order), element
 * ids are derived from the kind name (md5), dropdown choices keep their
 * declared order.
 *
 * The built-in kinds (schemas/infrahub-core.json, compiled in) are those
 * of Infrahub 1.11: 31 generics and 62 nodes, each with a "_source" key
 * naming the definition file and the release that shaped it (LineageOwner
 * and LineageSource in the Lineage namespace, CoreIPPool 1.11, key values
 * and webhook headers 1.9, file objects 1.8, preferences 1.11, external
 * identities 1.10). Generics carry restricted_namespaces as 1.9/1.10 set
 * them, enforced in inherit_one(). The element shape has the 1.9-1.11
 * fields: attribute/relationship display and deprecation, attribute
 * ordered, relationship common_parent/common_relatives, generic
 * restricted_namespaces. Extensions apply after every file of a request
 * is collected, so a file may extend a kind a later file defines.
 */
#include <stdlib.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "schema_int.h"

#include "hf/banned.h"

#define OOM(b) hf_error_set((b)->err, HF_ENOMEM, "out of memory")

/* ---- small JSON helpers ---- */

json_t *hfs_named(const json_t *arr, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
	{
		const char *n = hfs_jstr(v, "name");

		if (n && strcmp(n, name) == 0)
			return v;
	}
	return NULL;
}

static int set(json_t *o, const char *key, json_t *v)
{
	return json_object_set_new(o, key, v) == 0 ? 0 : HF_ENOMEM;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static int cmp_str(const void *a, const void *b)
{
	const char *const *x = a, *const *y = b;

	return strcmp(*x, *y);
}

/* Sorted keys of `obj`; caller frees the array (not the strings). */
static const char **sorted_keys(json_t *obj, size_t *n)
{
	const char **keys;
	const char *key;
	json_t *v;
	size_t i = 0;

	keys = hf_calloc(json_object_size(obj) + 1, sizeof(*keys));
	if (!keys)
		return NULL;
	json_object_foreach(obj, key, v) keys[i++] = key;
	qsort(keys, i, sizeof(*keys), cmp_str);
	*n = i;
	return keys;
}

static json_t *type_obj(struct hfs_build *b, int type)
{
	switch (type) {
	case HFS_T_NODE:
		return b->nodes;
	case HFS_T_GENERIC:
		return b->generics;
	case HFS_T_PROFILE:
		return b->profiles;
	default:
		return b->templates;
	}
}

int hfs_build_each(struct hfs_build *b, int mask, hfs_step_fn fn)
{
	static const int order[] = { HFS_T_GENERIC, HFS_T_NODE, HFS_T_PROFILE,
		                     HFS_T_TEMPLATE };
	size_t t, i, n;
	int rc = 0;

	for (t = 0; t < 4 && rc == 0; t++) {
		json_t *obj = type_obj(b, order[t]);
		const char **keys;

		if (!(mask & order[t]))
			continue;
		keys = sorted_keys(obj, &n);
		if (!keys)
			return OOM(b);
		for (i = 0; i < n && rc == 0; i++)
			rc = fn(b, json_object_get(obj, keys[i]), order[t]);
		hf_free(keys);
	}
	return rc;
}

json_t *hfs_build_get(struct hfs_build *b, const char *kind, int *type)
{
	int t;

	if (!kind)
		return NULL;
	for (t = HFS_T_NODE; t <= HFS_T_TEMPLATE; t <<= 1) {
		json_t *el = json_object_get(type_obj(b, t), kind);

		if (el) {
			if (type)
				*type = t;
			return el;
		}
	}
	return NULL;
}

/* ---- merging definitions ---- */

static int merge_item(json_t *dst, json_t *add)
{
	const char *key;
	json_t *v;

	json_object_foreach(add, key, v)
	{
		if (json_object_set_new(dst, key, json_deep_copy(v)) < 0)
			return HF_ENOMEM;
	}
	if (!json_object_get(add, "state"))
		return set(dst, "state", json_string("present"));
	return 0;
}

static int merge_list(json_t *dst, const char *key, json_t *add)
{
	json_t *list = json_object_get(dst, key), *item, *have;
	size_t i;

	if (!json_is_array(list)) {
		list = json_array();
		if (set(dst, key, list) < 0)
			return HF_ENOMEM;
	}
	json_array_foreach(add, i, item)
	{
		const char *name = hfs_jstr(item, "name");

		if (!json_is_object(item))
			continue;
		have = name ? hfs_named(list, name) : NULL;
		if (have) {
			if (merge_item(have, item) < 0)
				return HF_ENOMEM;
		} else if (json_array_append_new(list, json_deep_copy(item)) <
		           0) {
			return HF_ENOMEM;
		}
	}
	return 0;
}

int hfs_def_merge(json_t *dst, json_t *add)
{
	const char *key;
	json_t *v;

	json_object_foreach(add, key, v)
	{
		int rc;
		int members = strcmp(key, "attributes") == 0 ||
		              strcmp(key, "relationships") == 0;

		if (members && json_is_null(v))
			continue;
		if (members && json_is_array(v))
			rc = merge_list(dst, key, v);
		else
			rc = set(dst, key, json_deep_copy(v));
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- normalisation into the API element shape ---- */

static json_t *n_str(const json_t *d, const char *key)
{
	json_t *v = json_object_get(d, key);

	return json_is_string(v) ? json_copy(v) : json_null();
}

static json_t *n_str_d(const json_t *d, const char *key, const char *dflt)
{
	json_t *v = json_object_get(d, key);

	return json_string(json_is_string(v) ? json_string_value(v) : dflt);
}

static json_t *n_bool(const json_t *d, const char *key, int dflt)
{
	json_t *v = json_object_get(d, key);

	return json_boolean(json_is_boolean(v) ? json_is_true(v) : dflt);
}

static json_t *n_int(const json_t *d, const char *key)
{
	json_t *v = json_object_get(d, key);

	return json_is_integer(v) ? json_copy(v) : json_null();
}

static json_t *n_list(const json_t *d, const char *key)
{
	json_t *v = json_object_get(d, key);

	return json_is_array(v) && json_array_size(v) ? json_deep_copy(v)
	                                              : json_null();
}

static json_t *n_any(const json_t *d, const char *key)
{
	json_t *v = json_object_get(d, key);

	return v ? json_deep_copy(v) : json_null();
}

/* `parameters: {regex, min_length, max_length}` of newer files. */
static json_t *n_param(const json_t *d, const char *key, int is_int)
{
	json_t *p = json_object_get(d, "parameters");

	if (json_object_get(d, key) && !json_is_null(json_object_get(d, key)))
		return is_int ? n_int(d, key) : n_str(d, key);
	return is_int ? n_int(p, key) : n_str(p, key);
}

static json_t *n_choices(const json_t *a)
{
	json_t *arr = hfs_jarr(a, "choices"), *out, *c;
	size_t i;
	int bad = 0;

	if (!arr)
		return json_null();
	out = json_array();
	json_array_foreach(arr, i, c)
	{
		json_t *o;

		if (!hfs_jstr(c, "name"))
			continue;
		o = json_pack("{s:n,s:s,s:o,s:o,s:o,s:o}", "id", "state",
		              "present", "name", n_str(c, "name"), "label",
		              n_str(c, "label"), "description",
		              n_str(c, "description"), "color",
		              n_str(c, "color"));
		bad |= json_array_append_new(out, o);
	}
	if (bad) {
		json_decref(out);
		return NULL;
	}
	return out;
}

static json_t *n_computed(const json_t *a)
{
	json_t *c = json_object_get(a, "computed_attribute");
	const char *kind = hfs_jstr(c, "kind");

	if (!json_is_object(c) || (kind && strcmp(kind, "User") == 0))
		return json_null();
	return json_deep_copy(c);
}

json_t *hfs_norm_attr(const json_t *a)
{
	json_t *o = json_object();
	int bad = 0;

	bad |= set(o, "id", json_null());
	bad |= set(o, "state", json_string("present"));
	bad |= set(o, "name", n_str(a, "name"));
	bad |= set(o, "kind", n_str_d(a, "kind", "Text"));
	bad |= set(o, "enum", n_list(a, "enum"));
	bad |= set(o, "choices", n_choices(a));
	bad |= set(o, "regex", n_param(a, "regex", 0));
	bad |= set(o, "max_length", n_param(a, "max_length", 1));
	bad |= set(o, "min_length", n_param(a, "min_length", 1));
	bad |= set(o, "label", n_str(a, "label"));
	bad |= set(o, "description", n_str(a, "description"));
	bad |= set(o, "read_only", n_bool(a, "read_only", 0));
	bad |= set(o, "unique", n_bool(a, "unique", 0));
	bad |= set(o, "optional", n_bool(a, "optional", 0));
	bad |= set(o, "branch", n_str(a, "branch"));
	bad |= set(o, "order_weight", n_int(a, "order_weight"));
	bad |= set(o, "default_value", n_any(a, "default_value"));
	bad |= set(o, "inherited", json_false());
	bad |= set(o, "allow_override", n_str_d(a, "allow_override", "any"));
	bad |= set(o, "computed_attribute", n_computed(a));
	bad |= set(o, "deprecation", n_str(a, "deprecation"));
	bad |= set(o, "display", n_str_d(a, "display", "default"));
	bad |= set(o, "ordered", n_bool(a, "ordered", 1));
	if (bad || !o) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *norm_rel(const json_t *r)
{
	json_t *o = json_object();
	int bad = 0;

	bad |= set(o, "id", json_null());
	bad |= set(o, "state", json_string("present"));
	bad |= set(o, "name", n_str(r, "name"));
	bad |= set(o, "peer", n_str(r, "peer"));
	bad |= set(o, "kind", n_str_d(r, "kind", "Generic"));
	bad |= set(o, "label", n_str(r, "label"));
	bad |= set(o, "description", n_str(r, "description"));
	bad |= set(o, "identifier", n_str(r, "identifier"));
	bad |= set(o, "cardinality", n_str_d(r, "cardinality", "many"));
	bad |= set(o, "min_count",
	           json_integer(json_integer_value(
	                   json_object_get(r, "min_count"))));
	bad |= set(o, "max_count",
	           json_integer(json_integer_value(
	                   json_object_get(r, "max_count"))));
	bad |= set(o, "order_weight", n_int(r, "order_weight"));
	bad |= set(o, "optional", n_bool(r, "optional", 1));
	bad |= set(o, "branch", n_str(r, "branch"));
	bad |= set(o, "inherited", json_false());
	bad |= set(o, "direction", n_str_d(r, "direction", "bidirectional"));
	bad |= set(o, "hierarchical", n_str(r, "hierarchical"));
	bad |= set(o, "on_delete", n_str(r, "on_delete"));
	bad |= set(o, "allow_override", n_str_d(r, "allow_override", "any"));
	bad |= set(o, "read_only", n_bool(r, "read_only", 0));
	bad |= set(o, "deprecation", n_str(r, "deprecation"));
	bad |= set(o, "display", n_str_d(r, "display", "default"));
	bad |= set(o, "common_parent", n_str(r, "common_parent"));
	bad |= set(o, "common_relatives", n_list(r, "common_relatives"));
	if (bad || !o) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int is_absent(const json_t *item)
{
	const char *st = hfs_jstr(item, "state");

	return st && strcmp(st, "absent") == 0;
}

static json_t *norm_members(const json_t *d, const char *key,
                            json_t *(*norm)(const json_t *))
{
	json_t *out = json_array(), *item;
	size_t i;

	if (!out)
		return NULL;
	json_array_foreach(hfs_jarr(d, key), i, item)
	{
		json_t *o;

		if (!json_is_object(item) || is_absent(item) ||
		    !hfs_jstr(item, "name"))
			continue;
		o = norm(item);
		if (!o || json_array_append_new(out, o) < 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

/*
 * `display_label` (newer singular form) and `display_labels` both end up
 * in the element; a plain path fills the other one.
 */
static int norm_display(json_t *o, const json_t *d)
{
	const char *dl = hfs_jstr(d, "display_label");
	json_t *dls = n_list(d, "display_labels");
	int bad = 0;

	if (json_is_null(dls) && dl && !strstr(dl, "{{")) {
		json_decref(dls);
		dls = json_pack("[s]", dl);
	}
	if (!dl && json_array_size(dls) == 1)
		dl = json_string_value(json_array_get(dls, 0));
	bad |= set(o, "display_label", str_or_null(dl));
	bad |= set(o, "display_labels", dls);
	return bad ? HF_ENOMEM : 0;
}

static int norm_head(json_t *o, const json_t *d, const char *kind)
{
	int bad = 0;

	bad |= set(o, "id", json_null());
	bad |= set(o, "state", json_string("present"));
	bad |= set(o, "name", n_str(d, "name"));
	bad |= set(o, "namespace", n_str(d, "namespace"));
	bad |= set(o, "description", n_str(d, "description"));
	bad |= set(o, "label", n_str(d, "label"));
	bad |= set(o, "branch", n_str_d(d, "branch", "aware"));
	bad |= set(o, "default_filter", n_str(d, "default_filter"));
	bad |= set(o, "human_friendly_id", n_list(d, "human_friendly_id"));
	bad |= norm_display(o, d);
	bad |= set(o, "include_in_menu", n_bool(d, "include_in_menu", 1));
	bad |= set(o, "menu_placement", n_str(d, "menu_placement"));
	bad |= set(o, "icon", n_str(d, "icon"));
	bad |= set(o, "order_by", n_list(d, "order_by"));
	bad |= set(o, "uniqueness_constraints",
	           n_list(d, "uniqueness_constraints"));
	bad |= set(o, "documentation", n_str(d, "documentation"));
	bad |= set(o, "kind", json_string(kind));
	return bad ? HF_ENOMEM : 0;
}

json_t *hfs_norm_def(const json_t *d, const char *kind, int type)
{
	json_t *o = json_object();
	int bad = 0;

	if (!o || norm_head(o, d, kind) < 0)
		goto fail;
	if (type == HFS_T_GENERIC) {
		bad |= set(o, "hierarchical", n_bool(d, "hierarchical", 0));
		bad |= set(o, "used_by", json_array());
		bad |= set(o, "restricted_namespaces",
		           n_list(d, "restricted_namespaces"));
	} else {
		json_t *inh = json_object_get(d, "inherit_from");

		bad |= set(o, "inherit_from",
		           json_is_array(inh) ? json_deep_copy(inh)
		                              : json_array());
		bad |= set(o, "hierarchy", n_str(d, "hierarchy"));
		bad |= set(o, "parent", n_str(d, "parent"));
		bad |= set(o, "children", n_str(d, "children"));
	}
	bad |= set(o, "generate_profile", n_bool(d, "generate_profile", 1));
	bad |= set(o, "generate_template", n_bool(d, "generate_template", 0));
	bad |= set(o, "attributes",
	           norm_members(d, "attributes", hfs_norm_attr));
	bad |= set(o, "relationships",
	           norm_members(d, "relationships", norm_rel));
	if (bad)
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

/* ---- collecting core + user definitions ---- */

static int collect_list(struct hfs_build *b, json_t *defs, json_t *list,
                        int type)
{
	json_t *d, *have;
	size_t i;
	hf_buf kind = HF_BUF_INIT;
	int rc = 0;

	json_array_foreach(list, i, d)
	{
		hf_buf_reset(&kind);
		hf_buf_addf(&kind, "%s%s", hfs_jstr(d, "namespace"),
		            hfs_jstr(d, "name"));
		if (hf_buf_failed(&kind)) {
			rc = OOM(b);
			break;
		}
		have = json_object_get(defs, kind.ptr);
		if (have)
			rc = hfs_def_merge(have, d);
		else
			rc = set(defs, kind.ptr, json_deep_copy(d));
		if (rc < 0) {
			rc = OOM(b);
			break;
		}
		(void)type;
	}
	hf_buf_release(&kind);
	return rc;
}

static int collect_user(struct hfs_build *b, json_t *defs, json_t *other,
                        json_t *user, const char *what)
{
	const char *key;
	json_t *d, *have;

	json_object_foreach(user, key, d)
	{
		if (!json_is_object(d) || is_absent(d))
			continue;
		if (json_object_get(other, key))
			return hf_error_set(b->err, HF_EINVAL,
			                    "%s is already defined as a %s",
			                    key, what);
		have = json_object_get(defs, key);
		if (have ? hfs_def_merge(have, d) < 0
		         : set(defs, key, json_deep_copy(d)) < 0)
			return OOM(b);
	}
	return 0;
}

static int collect_ext(struct hfs_build *b, json_t *gdefs, json_t *ndefs,
                       json_t *ext)
{
	const char *key;
	json_t *e, *have;

	json_object_foreach(ext, key, e)
	{
		json_t *add;
		int rc;

		have = json_object_get(ndefs, key);
		if (!have)
			have = json_object_get(gdefs, key);
		if (!have)
			return hf_error_set(
			        b->err, HF_EINVAL,
			        "Unable to find the schema '%s' in the registry",
			        key);
		add = json_pack("{s:O*,s:O*}", "attributes",
		                hfs_jarr(e, "attributes"), "relationships",
		                hfs_jarr(e, "relationships"));
		rc = add ? hfs_def_merge(have, add) : HF_ENOMEM;
		json_decref(add);
		if (rc < 0)
			return OOM(b);
	}
	return 0;
}

static int normalise_all(struct hfs_build *b, json_t *defs, int type)
{
	const char *key;
	json_t *d;

	json_object_foreach(defs, key, d)
	{
		json_t *el = hfs_norm_def(d, key, type);

		if (!el || set(type_obj(b, type), key, el) < 0)
			return OOM(b);
	}
	return 0;
}

static int collect(struct hfs_build *b, json_t *src)
{
	json_t *core, *gdefs = json_object(), *ndefs = json_object();
	json_error_t jerr;
	int rc = HF_ENOMEM;

	core = json_loadb(hfs_core_schema_json, hfs_core_schema_json_len, 0,
	                  &jerr);
	if (!core) {
		rc = hf_error_set(b->err, HF_ERR, "core schema: %s", jerr.text);
		goto out;
	}
	if (!gdefs || !ndefs)
		goto out;
	rc = collect_list(b, gdefs, hfs_jarr(core, "generics"), HFS_T_GENERIC);
	if (rc == 0)
		rc = collect_list(b, ndefs, hfs_jarr(core, "nodes"),
		                  HFS_T_NODE);
	if (rc == 0)
		rc = collect_user(b, gdefs, ndefs,
		                  json_object_get(src, "generics"), "node");
	if (rc == 0)
		rc = collect_user(b, ndefs, gdefs,
		                  json_object_get(src, "nodes"), "generic");
	if (rc == 0)
		rc = collect_ext(b, gdefs, ndefs,
		                 json_object_get(src, "extensions"));
	if (rc == 0)
		rc = normalise_all(b, gdefs, HFS_T_GENERIC);
	if (rc == 0)
		rc = normalise_all(b, ndefs, HFS_T_NODE);
out:
	if (rc == HF_ENOMEM)
		OOM(b);
	json_decref(core);
	json_decref(gdefs);
	json_decref(ndefs);
	return rc;
}

/* ---- pre-validation steps ---- */

static char *lower_join(const char *a, const char *b)
{
	hf_buf buf = HF_BUF_INIT;
	char *p;

	if (strcmp(a, b) > 0) {
		const char *t = a;

		a = b;
		b = t;
	}
	hf_buf_addf(&buf, "%s__%s", a, b);
	p = hf_buf_detach(&buf);
	for (char *q = p; q && *q; q++)
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q - 'A' + 'a');
	return p;
}

static int step_identifiers(struct hfs_build *b, json_t *el, int type)
{
	const char *kind = hfs_jstr(el, "kind");
	json_t *r;
	size_t i;

	(void)type;
	json_array_foreach(hfs_jarr(el, "relationships"), i, r)
	{
		char *id;
		int rc;

		if (hfs_jstr(r, "identifier") || !hfs_jstr(r, "peer"))
			continue;
		id = lower_join(kind, hfs_jstr(r, "peer"));
		rc = id ? set(r, "identifier", json_string(id)) : HF_ENOMEM;
		hf_free(id);
		if (rc < 0)
			return OOM(b);
	}
	return 0;
}

/* Default values make attributes optional; computed ones are read-only. */
static int step_defaults(struct hfs_build *b, json_t *el, int type)
{
	json_t *a;
	size_t i;
	int bad = 0;

	(void)type;
	json_array_foreach(hfs_jarr(el, "attributes"), i, a)
	{
		if (!json_is_null(json_object_get(a, "default_value")))
			bad |= set(a, "optional", json_true());
		if (!json_is_null(json_object_get(a, "computed_attribute")))
			bad |= set(a, "read_only", json_true());
	}
	return bad ? OOM(b) : 0;
}

static int step_counts(struct hfs_build *b, json_t *el, int type)
{
	json_t *r;
	size_t i;
	int bad = 0;

	(void)type;
	json_array_foreach(hfs_jarr(el, "relationships"), i, r)
	{
		json_int_t min, max;

		if (strcmp(hfs_jstr(r, "cardinality"), "one") != 0)
			continue;
		min = json_integer_value(json_object_get(r, "min_count"));
		max = json_integer_value(json_object_get(r, "max_count"));
		if (hfs_jtrue(r, "optional")) {
			min = 0;
			max = 1;
		} else {
			min = min == 0 ? 1 : min;
			max = max == 0 ? 1 : max;
		}
		bad |= set(r, "min_count", json_integer(min));
		bad |= set(r, "max_count", json_integer(max));
	}
	return bad ? OOM(b) : 0;
}

static int truthy(const json_t *v)
{
	if (!v || json_is_null(v) || json_is_false(v))
		return 0;
	if (json_is_string(v))
		return json_string_length(v) > 0;
	if (json_is_array(v))
		return json_array_size(v) > 0;
	return 1;
}

static int inherit_props(json_t *node, const json_t *g)
{
	static const char *const props[] = {
		"human_friendly_id", "display_label",          "display_labels",
		"default_filter",    "menu_placement",         "icon",
		"order_by",          "uniqueness_constraints", NULL,
	};
	size_t i;

	for (i = 0; props[i]; i++) {
		json_t *gv = json_object_get(g, props[i]);

		if (truthy(gv) && !truthy(json_object_get(node, props[i])))
			if (set(node, props[i], json_deep_copy(gv)) < 0)
				return HF_ENOMEM;
	}
	return 0;
}

static int override_check(struct hfs_build *b, json_t *node, const json_t *g)
{
	const char *kind = hfs_jstr(node, "kind"), *gk = hfs_jstr(g, "kind");
	json_t *a, *ga;
	size_t i;

	json_array_foreach(hfs_jarr(node, "attributes"), i, a)
	{
		const char *name = hfs_jstr(a, "name");

		ga = hfs_named(hfs_jarr(g, "attributes"), name);
		if (!ga || hfs_jtrue(a, "inherited"))
			continue;
		if (strcmp(hfs_jstr(ga, "allow_override"), "none") == 0)
			return hf_error_set(b->err, HF_EINVAL,
			                    "%s's attribute %s inherited from "
			                    "%s cannot be overriden",
			                    kind, name, gk);
		if (strcmp(hfs_jstr(ga, "kind"), hfs_jstr(a, "kind")) != 0)
			return hf_error_set(
			        b->err, HF_EINVAL,
			        "%s.%s inherited from %s must be the same "
			        "kind [\"%s\", \"%s\"]",
			        kind, name, gk, hfs_jstr(ga, "kind"),
			        hfs_jstr(a, "kind"));
	}
	json_array_foreach(hfs_jarr(node, "relationships"), i, a)
	{
		const char *name = hfs_jstr(a, "name");

		ga = hfs_named(hfs_jarr(g, "relationships"), name);
		if (!ga || hfs_jtrue(a, "inherited"))
			continue;
		if (strcmp(hfs_jstr(ga, "allow_override"), "none") == 0)
			return hf_error_set(b->err, HF_EINVAL,
			                    "%s's relationship %s inherited "
			                    "from %s cannot be overriden",
			                    kind, name, gk);
	}
	return 0;
}

int hfs_has_member(const json_t *el, const char *name)
{
	return hfs_named(hfs_jarr(el, "attributes"), name) ||
	       hfs_named(hfs_jarr(el, "relationships"), name);
}

static int copy_members(json_t *node, const json_t *g, const char *key)
{
	json_t *item;
	size_t i;

	json_array_foreach(hfs_jarr(g, key), i, item)
	{
		json_t *c;

		if (hfs_has_member(node, hfs_jstr(item, "name")))
			continue;
		c = json_deep_copy(item);
		if (!c || set(c, "inherited", json_true()) < 0 ||
		    json_array_append_new(hfs_jarr(node, key), c) < 0)
			return HF_ENOMEM;
	}
	return 0;
}

int hfs_add_used_by(json_t *g, const char *kind)
{
	json_t *ub = hfs_jarr(g, "used_by");

	if (!ub)
		return 0;
	return json_array_append_new(ub, json_string(kind)) < 0 ? HF_ENOMEM : 0;
}

/*
 * Generics may restrict the namespaces of the nodes inheriting from them
 * (Infrahub 1.9.0; the Core generics of 1.9 and 1.10 do). Like Infrahub,
 * only the generics a node names in inherit_from are checked.
 */
static int restricted_check(struct hfs_build *b, const json_t *node,
                            const json_t *g)
{
	json_t *allowed = hfs_jarr(g, "restricted_namespaces"), *v;
	const char *ns = hfs_jstr(node, "namespace");
	hf_buf list = HF_BUF_INIT;
	size_t i;
	int rc;

	if (!json_array_size(allowed))
		return 0;
	json_array_foreach(allowed, i, v)
	{
		if (ns && json_is_string(v) &&
		    strcmp(json_string_value(v), ns) == 0)
			return 0;
	}
	hf_buf_add(&list, "[");
	json_array_foreach(allowed, i, v)
	        hf_buf_addf(&list, "%s'%s'", i ? ", " : "",
	                    json_is_string(v) ? json_string_value(v) : "");
	hf_buf_add(&list, "]");
	if (hf_buf_failed(&list))
		return OOM(b);
	rc = hf_error_set(b->err, HF_EINVAL,
	                  "Generic node '%s' has restricted namespaces: %s. "
	                  "The node '%s' does not comply with this "
	                  "restriction as its namespace is '%s'.",
	                  hfs_jstr(g, "kind"), list.ptr, hfs_jstr(node, "kind"),
	                  ns ? ns : "");
	hf_buf_release(&list);
	return rc;
}

static int inherit_one(struct hfs_build *b, json_t *el, const char *gk,
                       const char **hier)
{
	const char *kind = hfs_jstr(el, "kind");
	json_t *g = json_object_get(b->generics, gk);
	int rc;

	if (!g && json_object_get(b->nodes, gk))
		return hf_error_set(b->err, HF_EINVAL,
		                    "%s: Only generic model can be used as "
		                    "part of inherit_from, '%s' is not a "
		                    "valid entry.",
		                    kind, gk);
	if (!g)
		return hf_error_set(b->err, HF_EINVAL,
		                    "%s Unable to find the generic %s", kind,
		                    gk);
	rc = restricted_check(b, el, g);
	if (rc < 0)
		return rc;
	if (hfs_jtrue(g, "hierarchical")) {
		if (*hier)
			return hf_error_set(
			        b->err, HF_EINVAL,
			        "%s Only one generic with hierarchical "
			        "support is allowed per node ['%s', '%s']",
			        kind, *hier, gk);
		*hier = gk;
	}
	if (override_check(b, el, g) < 0)
		return HF_EINVAL;
	if (inherit_props(el, g) < 0 || hfs_add_used_by(g, kind) < 0 ||
	    copy_members(el, g, "attributes") < 0 ||
	    copy_members(el, g, "relationships") < 0)
		return OOM(b);
	return 0;
}

static int step_inherit(struct hfs_build *b, json_t *el, int type)
{
	json_t *inh = hfs_jarr(el, "inherit_from"), *g;
	const char *hier = NULL;
	int has_pfx = 0, has_addr = 0;
	size_t i;

	(void)type;
	json_array_foreach(inh, i, g)
	{
		const char *gk = json_string_value(g);
		int rc;

		if (!gk)
			continue;
		has_pfx |= strcmp(gk, "BuiltinIPPrefix") == 0;
		has_addr |= strcmp(gk, "BuiltinIPAddress") == 0;
		rc = inherit_one(b, el, gk, &hier);
		if (rc < 0)
			return rc;
	}
	if (has_pfx && has_addr)
		return hf_error_set(b->err, HF_EINVAL,
		                    "%s cannot inherit from both "
		                    "BuiltinIPPrefix and BuiltinIPAddress",
		                    hfs_jstr(el, "kind"));
	if (hier && json_is_null(json_object_get(el, "hierarchy")))
		if (set(el, "hierarchy", json_string(hier)) < 0)
			return OOM(b);
	return 0;
}

/* CoreNode is used by every node outside the restricted namespaces. */
static int step_core_node(struct hfs_build *b, json_t *el, int type)
{
	json_t *cn = json_object_get(b->generics, "CoreNode");

	if (type != HFS_T_PROFILE && type != HFS_T_TEMPLATE &&
	    !json_array_size(hfs_jarr(el, "inherit_from")) &&
	    hfs_namespace_restricted(hfs_jstr(el, "namespace")))
		return 0;
	return cn && hfs_add_used_by(cn, hfs_jstr(el, "kind")) < 0 ? OOM(b) : 0;
}

static int known_kind(struct hfs_build *b, const char *kind)
{
	return json_object_get(b->nodes, kind) ||
	       json_object_get(b->generics, kind);
}

static int step_hierarchy(struct hfs_build *b, json_t *el, int type)
{
	const char *kind = hfs_jstr(el, "kind"), *h = hfs_jstr(el, "hierarchy");
	json_t *parent = json_object_get(el, "parent");
	json_t *children = json_object_get(el, "children");
	const char *p = json_string_value(parent);
	const char *c = json_string_value(children);

	(void)type;
	if (!h && !p && !c)
		return 0;
	if (!h)
		return hf_error_set(b->err, HF_EINVAL,
		                    "%s Hierarchy must be provided if either "
		                    "parent or children is defined.",
		                    kind);
	if (!json_object_get(b->generics, h))
		return hf_error_set(b->err, HF_EINVAL,
		                    "%s Unable to find the generic '%s' "
		                    "provided in 'hierarchy'.",
		                    kind, h);
	if (!p && set(el, "parent", json_string(h)) < 0)
		return OOM(b);
	if (p && *p && !known_kind(b, p))
		return hf_error_set(b->err, HF_EINVAL,
		                    "%s Unable to find the node '%s' provided "
		                    "in 'parent'.",
		                    kind, p);
	if (!c && set(el, "children", json_string(h)) < 0)
		return OOM(b);
	if (c && *c && !known_kind(b, c))
		return hf_error_set(b->err, HF_EINVAL,
		                    "%s Unable to find the node '%s' provided "
		                    "in 'children'.",
		                    kind, c);
	return 0;
}

static int step_branch(struct hfs_build *b, json_t *el, int type)
{
	const char *br = hfs_jstr(el, "branch");
	json_t *a;
	size_t i;

	(void)type;
	json_array_foreach(hfs_jarr(el, "attributes"), i, a)
	{
		if (!hfs_jstr(a, "branch") &&
		    set(a, "branch", json_string(br)) < 0)
			return OOM(b);
	}
	json_array_foreach(hfs_jarr(el, "relationships"), i, a)
	{
		json_t *peer = hfs_build_get(b, hfs_jstr(a, "peer"), NULL);
		const char *pb = peer ? hfs_jstr(peer, "branch") : br;
		const char *v = "aware";

		if (hfs_jstr(a, "branch"))
			continue;
		if (strcmp(br, pb) == 0)
			v = br;
		else if (strcmp(br, "local") == 0 || strcmp(pb, "local") == 0)
			v = "local";
		if (set(a, "branch", json_string(v)) < 0)
			return OOM(b);
	}
	return 0;
}

/* ---- shared with schema_derive.c ---- */

json_t *hfs_rel_new(const char *name, const char *peer, const char *kind,
                    const char *identifier, const char *card)
{
	json_t *src = json_pack("{s:s,s:s,s:s,s:s,s:s}", "name", name, "peer",
	                        peer, "kind", kind, "identifier", identifier,
	                        "cardinality", card);
	json_t *r = src ? norm_rel(src) : NULL;

	json_decref(src);
	if (r && strcmp(card, "one") == 0 &&
	    (set(r, "max_count", json_integer(1)) < 0)) {
		json_decref(r);
		return NULL;
	}
	return r;
}

static int step_sort_used_by(struct hfs_build *b, json_t *el, int type)
{
	json_t *ub = hfs_jarr(el, "used_by"), *sorted;
	const char **v;
	size_t i, n = json_array_size(ub);

	(void)type;
	v = hf_calloc(n + 1, sizeof(*v));
	sorted = json_array();
	if (!v || !sorted)
		goto fail;
	for (i = 0; i < n; i++)
		v[i] = json_string_value(json_array_get(ub, i));
	qsort(v, n, sizeof(*v), cmp_str);
	for (i = 0; i < n; i++)
		if (i == 0 || strcmp(v[i], v[i - 1]) != 0)
			if (json_array_append_new(sorted, json_string(v[i])) <
			    0)
				goto fail;
	hf_free(v);
	return set(el, "used_by", sorted) < 0 ? OOM(b) : 0;
fail:
	hf_free(v);
	json_decref(sorted);
	return OOM(b);
}

/* ---- post-validation steps ---- */

static int group_exempt(struct hfs_build *b, json_t *el, int type)
{
	const char *kind = hfs_jstr(el, "kind");
	json_t *g;
	size_t i;

	if (!json_object_get(b->generics, "CoreGroup"))
		return 1;
	/*
	 * As SchemaBranch.add_groups(): only the group generic and the
	 * lineage generics are left out; Internal nodes get the relationships
	 * too (GET /api/schema leaves them out anyway).
	 */
	if (strcmp(kind, "CoreGroup") == 0 ||
	    strcmp(kind, "LineageOwner") == 0 ||
	    strcmp(kind, "LineageSource") == 0)
		return 1;
	if (type != HFS_T_NODE)
		return 0;
	json_array_foreach(hfs_jarr(el, "inherit_from"), i,
	                   g) if (strcmp(json_string_value(g), "CoreGroup") ==
	                          0) return 1;
	return 0;
}

static int step_groups(struct hfs_build *b, json_t *el, int type)
{
	json_t *rels = hfs_jarr(el, "relationships");
	int bad = 0;

	if (group_exempt(b, el, type))
		return 0;
	if (!hfs_has_member(el, "member_of_groups"))
		bad |= json_array_append_new(
		        rels, hfs_rel_new("member_of_groups", "CoreGroup",
		                          "Group", "group_member", "many"));
	if (!hfs_has_member(el, "subscriber_of_groups"))
		bad |= json_array_append_new(
		        rels, hfs_rel_new("subscriber_of_groups", "CoreGroup",
		                          "Group", "group_subscriber", "many"));
	return bad ? OOM(b) : 0;
}

static int add_hier_rel(json_t *el, const char *name, const char *peer,
                        const char *hier, int ro)
{
	int one = strcmp(name, "parent") == 0;
	json_t *r;
	int bad = 0;

	if (hfs_has_member(el, name))
		return 0;
	r = hfs_rel_new(name, peer, "Hierarchy", "parent__child",
	                one ? "one" : "many");
	bad |= r ? set(r, "branch", json_string("aware")) : HF_ENOMEM;
	bad |= set(r, "direction", json_string(one ? "outbound" : "inbound"));
	bad |= set(r, "hierarchical", json_string(hier));
	bad |= set(r, "read_only", json_boolean(ro));
	bad |= json_array_append_new(hfs_jarr(el, "relationships"), r);
	return bad ? HF_ENOMEM : 0;
}

static int inherits(const json_t *el, const char *g)
{
	json_t *v;
	size_t i;

	json_array_foreach(hfs_jarr(el, "inherit_from"), i,
	                   v) if (strcmp(json_string_value(v), g) ==
	                          0) return 1;
	return 0;
}

static int step_hier_rels(struct hfs_build *b, json_t *el, int type)
{
	const char *kind = hfs_jstr(el, "kind");
	const char *p = hfs_jstr(el, "parent"), *c = hfs_jstr(el, "children");
	int ro, rc = 0;

	if (type == HFS_T_GENERIC) {
		if (!hfs_jtrue(el, "hierarchical"))
			return 0;
		ro = strcmp(kind, "BuiltinIPPrefix") == 0;
		rc = add_hier_rel(el, "parent", kind, kind, ro);
		if (rc == 0)
			rc = add_hier_rel(el, "children", kind, kind, ro);
		return rc < 0 ? OOM(b) : 0;
	}
	ro = inherits(el, "BuiltinIPPrefix");
	if (p && *p)
		rc = add_hier_rel(el, "parent", p, hfs_jstr(el, "hierarchy"),
		                  ro);
	if (rc == 0 && c && *c)
		rc = add_hier_rel(el, "children", c, hfs_jstr(el, "hierarchy"),
		                  ro);
	return rc < 0 ? OOM(b) : 0;
}

static int weigh(json_t *arr, long *w)
{
	json_t *v;
	size_t i;

	json_array_foreach(arr, i, v)
	{
		*w += 1000;
		if (!json_is_integer(json_object_get(v, "order_weight")) ||
		    json_integer_value(json_object_get(v, "order_weight")) == 0)
			if (set(v, "order_weight", json_integer(*w)) < 0)
				return HF_ENOMEM;
	}
	return 0;
}

static int step_weights(struct hfs_build *b, json_t *el, int type)
{
	long w = 0;

	(void)type;
	if (weigh(hfs_jarr(el, "attributes"), &w) < 0 ||
	    weigh(hfs_jarr(el, "relationships"), &w) < 0)
		return OOM(b);
	return 0;
}

static int label_default(json_t *o, const char *name_key)
{
	char *l;
	int rc;

	if (hfs_jstr(o, "label"))
		return 0;
	l = hfs_format_label(hfs_jstr(o, name_key));
	rc = l ? set(o, "label", json_string(l)) : HF_ENOMEM;
	hf_free(l);
	return rc;
}

/* clang-format off */
static const char *const palette[] = {
	"#ed6a5a", "#f4f1bb", "#9bc1bc", "#5ca4a9", "#e6ebe0", "#c5d86d",
	"#f7b267", "#79addc", "#ffc09f", "#adf7b6", "#a0ced9", "#ffee93",
};
/* clang-format on */

static const char *pick_color(const json_t *choices)
{
	size_t p, i;
	json_t *c;

	for (p = 0; p < sizeof(palette) / sizeof(palette[0]); p++) {
		int used = 0;

		json_array_foreach(choices, i, c)
		{
			const char *col = hfs_jstr(c, "color");

			used |= col && strcmp(col, palette[p]) == 0;
		}
		if (!used)
			return palette[p];
	}
	return palette[0];
}

static int dropdown_defaults(json_t *a)
{
	json_t *choices = hfs_jarr(a, "choices"), *c;
	size_t i;
	int bad = 0;

	json_array_foreach(choices, i, c)
	{
		if (!hfs_jstr(c, "color"))
			bad |= set(c, "color",
			           json_string(pick_color(choices)));
		bad |= label_default(c, "name");
		if (!hfs_jstr(c, "description"))
			bad |= set(c, "description", json_string(""));
	}
	return bad ? HF_ENOMEM : 0;
}

static int step_labels(struct hfs_build *b, json_t *el, int type)
{
	json_t *v;
	size_t i;
	int bad = 0;

	(void)type;
	bad |= label_default(el, "name");
	json_array_foreach(hfs_jarr(el, "attributes"), i, v)
	{
		bad |= label_default(v, "name");
		bad |= dropdown_defaults(v);
	}
	json_array_foreach(hfs_jarr(el, "relationships"), i, v)
	{
		bad |= label_default(v, "name");
		if (json_is_null(json_object_get(v, "on_delete")))
			bad |= set(v, "on_delete",
			           json_string(strcmp(hfs_jstr(v, "kind"),
			                              "Component") == 0
			                               ? "cascade"
			                               : "no-action"));
	}
	return bad ? OOM(b) : 0;
}

/* ---- ids and hashes ---- */

static int make_id(json_t *o, const char *seed)
{
	char h[33], id[37];

	hfs_md5_hex(seed, strlen(seed), h);
	snprintf(id, sizeof(id), "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12,
	         h + 16, h + 20);
	return set(o, "id", json_string(id));
}

static int ids_of(json_t *arr, const char *kind)
{
	hf_buf seed = HF_BUF_INIT;
	json_t *v;
	size_t i;
	int bad = 0;

	json_array_foreach(arr, i, v)
	{
		hf_buf_reset(&seed);
		hf_buf_addf(&seed, "%s.%s", kind, hfs_jstr(v, "name"));
		bad |= hf_buf_failed(&seed) ? HF_ENOMEM : make_id(v, seed.ptr);
	}
	hf_buf_release(&seed);
	return bad;
}

static int step_hash(struct hfs_build *b, json_t *el, int type)
{
	const char *kind = hfs_jstr(el, "kind");
	char h[33], *text;
	int bad = 0;

	(void)type;
	bad |= make_id(el, kind);
	bad |= ids_of(hfs_jarr(el, "attributes"), kind);
	bad |= ids_of(hfs_jarr(el, "relationships"), kind);
	json_object_del(el, "hash");
	text = bad ? NULL : json_dumps(el, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		return OOM(b);
	hfs_md5_hex(text, strlen(text), h);
	hf_free(text);
	return set(el, "hash", json_string(h)) < 0 ? OOM(b) : 0;
}

/* ---- driver ---- */

#define ALL (HFS_T_NODE | HFS_T_GENERIC | HFS_T_PROFILE | HFS_T_TEMPLATE)
#define NG  (HFS_T_NODE | HFS_T_GENERIC)

static int pre_validation(struct hfs_build *b)
{
	int rc = hfs_build_each(b, NG, step_identifiers);

	if (rc == 0)
		rc = hfs_build_each(b, NG, step_defaults);
	if (rc == 0)
		rc = hfs_build_each(b, NG, step_counts);
	if (rc == 0)
		rc = hfs_build_each(b, HFS_T_NODE, step_inherit);
	if (rc == 0)
		rc = hfs_build_each(b, HFS_T_NODE, step_hierarchy);
	if (rc == 0)
		rc = hfs_build_each(b, NG, step_branch);
	if (rc == 0)
		rc = hfs_build_each(b, NG, hfs_step_profile);
	if (rc == 0)
		rc = hfs_build_each(b, HFS_T_NODE, hfs_step_template);
	if (rc == 0)
		rc = hfs_build_each(b,
		                    HFS_T_NODE | HFS_T_PROFILE | HFS_T_TEMPLATE,
		                    step_core_node);
	if (rc == 0)
		rc = hfs_build_each(b, HFS_T_PROFILE | HFS_T_TEMPLATE,
		                    step_identifiers);
	if (rc == 0)
		rc = hfs_build_each(b, HFS_T_PROFILE | HFS_T_TEMPLATE,
		                    step_counts);
	if (rc == 0)
		rc = hfs_build_each(b, HFS_T_GENERIC, step_sort_used_by);
	return rc;
}

static int post_validation(struct hfs_build *b)
{
	int rc = hfs_build_each(b, ALL, step_groups);

	if (rc == 0)
		rc = hfs_build_each(b, NG, step_hier_rels);
	if (rc == 0)
		rc = hfs_build_each(b, ALL, step_branch);
	if (rc == 0)
		rc = hfs_build_each(b, ALL, step_weights);
	if (rc == 0)
		rc = hfs_build_each(b, ALL, step_labels);
	if (rc == 0)
		rc = hfs_build_hfid(b);
	if (rc == 0)
		rc = hfs_build_each(b, ALL, step_hash);
	return rc;
}

int hfs_schema_build(json_t **out, json_t *src, hf_error *err)
{
	struct hfs_build b = { NULL, NULL, NULL, NULL, err };
	json_t *built;
	int rc;

	*out = NULL;
	built = json_pack("{s:{},s:{},s:{},s:{}}", "nodes", "generics",
	                  "profiles", "templates");
	if (!built)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	b.nodes = json_object_get(built, "nodes");
	b.generics = json_object_get(built, "generics");
	b.profiles = json_object_get(built, "profiles");
	b.templates = json_object_get(built, "templates");
	rc = collect(&b, src);
	if (rc == 0)
		rc = pre_validation(&b);
	if (rc == 0)
		rc = hfs_build_validate(&b);
	if (rc == 0)
		rc = post_validation(&b);
	if (rc < 0) {
		json_decref(built);
		return rc;
	}
	*out = built;
	return 0;
}
