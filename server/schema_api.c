/*
 * REST bodies of the schema API: GET /api/schema, /api/schema/{kind} and
 * /api/schema/summary. Elements come out in the shape of a live server,
 * every key present, with the filters[] lists computed here (they are
 * derived data, so they stay out of the stored elements and the hashes).
 * Kinds are listed sorted by kind name for stable output. As in
 * Infrahub, Internal kinds and the relationships pointing at them (e.g.
 * CoreGenericAccount.tokens) are left out of these bodies.
 */
#include <string.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "schema_int.h"

#include "hf/banned.h"

static const char *const type_keys[] = { "nodes", "generics", "profiles",
	                                 "templates" };

static json_t *filter_new(const char *name, const char *kind, json_t *en,
                          const char *object_kind)
{
	/* A copy: the schema's values are shared between threads. */
	return json_pack("{s:n,s:s,s:s,s:s,s:o?,s:s?,s:n}", "id", "state",
	                 "present", "name", name, "kind", kind, "enum",
	                 en ? json_deep_copy(en) : NULL, "object_kind",
	                 object_kind, "description");
}

static int add_filter(json_t *arr, const char *prefix, const char *suffix,
                      const char *kind, json_t *en, const char *object_kind)
{
	hf_buf b = HF_BUF_INIT;
	json_t *f;
	int rc;

	hf_buf_addf(&b, "%s%s", prefix, suffix);
	if (hf_buf_failed(&b)) {
		hf_buf_release(&b);
		return HF_ENOMEM;
	}
	f = filter_new(b.ptr, kind, en, object_kind);
	hf_buf_release(&b);
	rc = json_array_append_new(arr, f);
	return rc < 0 || !f ? HF_ENOMEM : 0;
}

static const char *value_filter_kind(const char *kind)
{
	if (strcmp(kind, "Number") == 0 || strcmp(kind, "Bandwidth") == 0)
		return "Number";
	if (strcmp(kind, "Boolean") == 0 || strcmp(kind, "Checkbox") == 0)
		return "Boolean";
	return "Text";
}

/* The six filters of one attribute name (or "any"). */
static int attr_filters(json_t *arr, const char *name, const char *kind,
                        json_t *en, int with_values)
{
	hf_buf p = HF_BUF_INIT;
	int rc = 0;

	hf_buf_addf(&p, "%s__", name);
	if (hf_buf_failed(&p))
		return HF_ENOMEM;
	rc |= add_filter(arr, p.ptr, "value", value_filter_kind(kind), en,
	                 NULL);
	if (with_values)
		rc |= add_filter(arr, p.ptr, "values", "Text", NULL, NULL);
	rc |= add_filter(arr, p.ptr, "is_visible", "Boolean", NULL, NULL);
	rc |= add_filter(arr, p.ptr, "is_protected", "Boolean", NULL, NULL);
	rc |= add_filter(arr, p.ptr, "source__id", "Text", NULL, NULL);
	rc |= add_filter(arr, p.ptr, "owner__id", "Text", NULL, NULL);
	hf_buf_release(&p);
	return rc ? HF_ENOMEM : 0;
}

static int kind_attr_filters(json_t *arr, const struct hfs_kind *k)
{
	size_t i;

	if (add_filter(arr, "ids", "", "Text", NULL, NULL) < 0)
		return HF_ENOMEM;
	for (i = 0; i < k->nattrs; i++) {
		const struct hfs_attr *a = &k->attrs[i];

		if (attr_filters(arr, a->name, a->kind, a->enum_values, 1) < 0)
			return HF_ENOMEM;
	}
	return 0;
}

static int internal_peer(const hfs_schema *s, const char *peer)
{
	const struct hfs_kind *k = peer ? hfs_schema_kind(s, peer) : NULL;

	return k && strcmp(k->namespace, "Internal") == 0;
}

static json_t *node_filters(const hfs_schema *s, const struct hfs_kind *k)
{
	json_t *arr = json_array();
	size_t i;

	if (!arr || kind_attr_filters(arr, k) < 0)
		goto fail;
	if (attr_filters(arr, "any", "Text", NULL, 0) < 0)
		goto fail;
	for (i = 0; i < k->nrels; i++) {
		hf_buf b = HF_BUF_INIT;
		int rc;

		if (internal_peer(s, k->rels[i].peer))
			continue;
		hf_buf_addf(&b, "%s__", k->rels[i].name);
		rc = hf_buf_failed(&b) ? HF_ENOMEM
		                       : add_filter(arr, b.ptr, "ids", "Text",
		                                    NULL, k->rels[i].peer);
		hf_buf_release(&b);
		if (rc < 0)
			goto fail;
	}
	return arr;
fail:
	json_decref(arr);
	return NULL;
}

static void drop_internal_rels(const hfs_schema *s, json_t *rels)
{
	size_t i = json_array_size(rels);

	while (i-- > 0)
		if (internal_peer(s, hfs_jstr(json_array_get(rels, i), "peer")))
			json_array_remove(rels, i);
}

static int rel_filters(const hfs_schema *s, json_t *rels)
{
	size_t i;
	json_t *r;

	json_array_foreach(rels, i, r)
	{
		const struct hfs_kind *peer =
		        hfs_schema_kind(s, hfs_jstr(r, "peer"));
		json_t *arr = json_array();

		if (!arr || json_object_set_new(r, "filters", arr) < 0)
			return HF_ENOMEM;
		if (peer && kind_attr_filters(arr, peer) < 0)
			return HF_ENOMEM;
	}
	return 0;
}

static json_t *render(const hfs_schema *s, const struct hfs_kind *k)
{
	json_t *el = json_deep_copy(hfs_schema_elem(s, k));
	json_t *f;

	if (!el)
		return NULL;
	drop_internal_rels(s, hfs_jarr(el, "relationships"));
	if (rel_filters(s, hfs_jarr(el, "relationships")) < 0)
		goto fail;
	f = node_filters(s, k);
	if (!f || json_object_set_new(el, "filters", f) < 0)
		goto fail;
	return el;
fail:
	json_decref(el);
	return NULL;
}

static int ns_wanted(const char *ns, const char *const *namespaces, size_t n)
{
	size_t i;

	if (strcmp(ns, "Internal") == 0)
		return 0;
	if (!namespaces || n == 0)
		return 1;
	for (i = 0; i < n; i++)
		if (namespaces[i] && strcmp(namespaces[i], ns) == 0)
			return 1;
	return 0;
}

static int add_namespace(json_t *list, json_t *seen, const char *ns)
{
	json_t *o;

	if (json_object_get(seen, ns))
		return 0;
	if (json_object_set_new(seen, ns, json_true()) < 0)
		return HF_ENOMEM;
	o = json_pack("{s:s,s:b}", "name", ns, "user_editable",
	              !hfs_namespace_restricted(ns));
	return json_array_append_new(list, o) < 0 || !o ? HF_ENOMEM : 0;
}

json_t *hfs_schema_api(const hfs_schema *s, const char *const *namespaces,
                       size_t n)
{
	json_t *out, *seen = json_object(), *nss = json_array();
	size_t i, t;

	out = json_pack("{s:s,s:[],s:[],s:[],s:[]}", "main", hfs_schema_hash(s),
	                "nodes", "generics", "profiles", "templates");
	if (!out || !seen || !nss)
		goto fail;
	for (i = 0; i < hfs_schema_count(s); i++) {
		const struct hfs_kind *k = hfs_schema_at(s, i);
		json_t *el;

		if (!ns_wanted(k->namespace, namespaces, n))
			continue;
		t = (size_t)k->type;
		el = render(s, k);
		if (!el || json_array_append_new(
		                   json_object_get(out, type_keys[t]), el) < 0)
			goto fail;
		if (add_namespace(nss, seen, k->namespace) < 0)
			goto fail;
	}
	if (json_object_set_new(out, "namespaces", nss) < 0) {
		nss = NULL;
		goto fail;
	}
	json_decref(seen);
	return out;
fail:
	json_decref(nss);
	json_decref(seen);
	json_decref(out);
	return NULL;
}

json_t *hfs_schema_api_kind(const hfs_schema *s, const char *kind)
{
	const struct hfs_kind *k = hfs_schema_kind(s, kind);

	return k ? render(s, k) : NULL;
}

json_t *hfs_schema_summary(const hfs_schema *s)
{
	json_t *out;
	size_t i;

	out = json_pack("{s:s,s:{},s:{},s:{},s:{}}", "main", hfs_schema_hash(s),
	                "nodes", "generics", "profiles", "templates");
	if (!out)
		return NULL;
	for (i = 0; i < hfs_schema_count(s); i++) {
		const struct hfs_kind *k = hfs_schema_at(s, i);
		json_t *dst = json_object_get(out, type_keys[k->type]);

		if (strcmp(k->namespace, "Internal") == 0)
			continue;
		if (json_object_set_new(dst, k->kind, json_string(k->hash)) <
		    0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}
