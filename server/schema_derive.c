/*
 * Kinds derived from others, as Infrahub's SchemaBranch builds them
 * (schema_branch.py: manage_profile_schemas, manage_profile_relationships,
 * manage_object_template_schemas, add_relationships_to_template,
 * manage_object_template_relationships), at the 1.11 level:
 *
 *  - Profile<Kind> for nodes and generics with generate_profile outside
 *    the restricted namespaces: profile_name and profile_priority, the
 *    node's attributes and (1.7) Generic/Attribute relationships, except
 *    read-only ones and those in a uniqueness constraint or the HFID
 *    (1.9); HFID profile_name (1.0.4). The profiled kind gets `profiles`.
 *  - Template<Kind> for nodes with generate_template (1.2; generics lost
 *    the flag in 1.8), plus templates for every kind such a template
 *    needs: the generics it inherits from and, recursively, the peers of
 *    its Component relationships and of the components' Parent ones,
 *    a generic peer standing for every node implementing it
 *    (identify_required_object_templates). Generics give generic
 *    templates; component templates inherit CoreObjectComponentTemplate
 *    and put their parent's template name first in their HFID.
 *  - On templates: `<rel>_from_resource_pool` beside relationships to IP
 *    addresses and prefixes and `<attr>_from_resource_pool` beside Number
 *    attributes (1.8), `profiles` when the kind has profiles (1.6),
 *    member_of_groups_for_instances / subscriber_of_groups_for_instances
 *    (1.10); `object_template` on the templated nodes.
 */
#include <ctype.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "schema_int.h"

#include "hf/banned.h"

#define OOM(b) hf_error_set((b)->err, HF_ENOMEM, "out of memory")

static int set(json_t *o, const char *key, json_t *v)
{
	return json_object_set_new(o, key, v) == 0 ? 0 : HF_ENOMEM;
}

static int is_kind(const json_t *r, const char *kind)
{
	const char *k = hfs_jstr(r, "kind");

	return k && strcmp(k, kind) == 0;
}

static char *label_of(const json_t *el)
{
	const char *l = hfs_jstr(el, "label");

	return l ? hf_strdup(l) : hfs_format_label(hfs_jstr(el, "name"));
}

/* LineageSource (1.11 namespace Lineage), CoreLineageSource before. */
static const char *lineage_source(struct hfs_build *b)
{
	return json_object_get(b->generics, "LineageSource")
	               ? "LineageSource"
	               : "CoreLineageSource";
}

/* Whether `el` is `g` or inherits from it. */
static int inherits(const json_t *el, const char *g)
{
	json_t *v;
	size_t i;

	if (strcmp(hfs_jstr(el, "kind"), g) == 0)
		return 1;
	json_array_foreach(hfs_jarr(el, "inherit_from"), i, v)
	{
		if (json_is_string(v) && strcmp(json_string_value(v), g) == 0)
			return 1;
	}
	return 0;
}

/* Python's str.title(): upper after a non-letter, lower elsewhere. */
static char *py_title(const char *s)
{
	char *t = hf_strdup(s);
	int prev = 0;
	size_t i;

	for (i = 0; t && t[i]; i++) {
		unsigned char c = (unsigned char)t[i];

		t[i] = (char)(prev ? tolower(c) : toupper(c));
		prev = isalpha(c);
	}
	return t;
}

static int set_title(json_t *o, const char *key, const char *s)
{
	char *t = py_title(s);
	int rc = t ? set(o, key, json_string(t)) : HF_ENOMEM;

	hf_free(t);
	return rc;
}

/*
 * A new derived element: name = the source kind, in namespace `ns`, with
 * label "<what> <label>" and description "<desc> <kind>".
 */
static json_t *derived_new(const json_t *el, const char *ns, const char *what,
                           const char *desc, int type)
{
	const char *kind = hfs_jstr(el, "kind");
	hf_buf k = HF_BUF_INIT, lbl = HF_BUF_INIT, d = HF_BUF_INIT;
	char *label = label_of(el);
	json_t *def, *o = NULL;

	hf_buf_addf(&k, "%s%s", ns, kind);
	hf_buf_addf(&lbl, "%s %s", what, label ? label : "");
	hf_buf_addf(&d, "%s %s", desc, kind);
	def = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b,s:b,s:b}", "name", kind,
	                "namespace", ns, "label", lbl.ptr, "description", d.ptr,
	                "branch", hfs_jstr(el, "branch"), "include_in_menu", 0,
	                "generate_profile", 0, "generate_template", 0);
	if (def && label && !hf_buf_failed(&k) && !hf_buf_failed(&lbl) &&
	    !hf_buf_failed(&d))
		o = hfs_norm_def(def, k.ptr, type);
	json_decref(def);
	hf_free(label);
	hf_buf_release(&k);
	hf_buf_release(&lbl);
	hf_buf_release(&d);
	return o;
}

static int set_strs(json_t *o, const char *key, const char *a, const char *b,
                    const char *c)
{
	json_t *arr = json_pack("[s,s*,s*]", a, b, c);

	return arr ? set(o, key, arr) : HF_ENOMEM;
}

/* A copy of core generic `g`'s attribute `name` for a derived kind. */
static json_t *core_attr(struct hfs_build *b, const char *g, const char *name,
                         const json_t *el)
{
	json_t *a = hfs_named(
	        hfs_jarr(json_object_get(b->generics, g), "attributes"), name);
	json_t *c = a ? json_deep_copy(a) : NULL;

	if (c && (set(c, "branch", json_string(hfs_jstr(el, "branch"))) < 0 ||
	          set(c, "inherited", json_false()) < 0)) {
		json_decref(c);
		return NULL;
	}
	return c;
}

/* ---- profiles ------------------------------------------------------------ */

/* Whether path `p` ("name__value", "rel", "rel__x__value") names `name`. */
static int path_names(const char *p, const char *name)
{
	size_t n = strlen(name);

	return p && strncmp(p, name, n) == 0 &&
	       (p[n] == '\0' || strncmp(p + n, "__", 2) == 0);
}

/* In a uniqueness constraint or the HFID (profiles leave those out). */
static int constrained(const json_t *el, const char *name)
{
	json_t *c, *v;
	size_t i, j;

	json_array_foreach(hfs_jarr(el, "human_friendly_id"), i, v)
	{
		if (path_names(json_string_value(v), name))
			return 1;
	}
	json_array_foreach(hfs_jarr(el, "uniqueness_constraints"), i, c)
	{
		json_array_foreach(c, j, v)
		{
			if (path_names(json_string_value(v), name))
				return 1;
		}
	}
	return 0;
}

static int profile_attrs(struct hfs_build *b, json_t *p, const json_t *el)
{
	json_t *attrs = hfs_jarr(p, "attributes"), *a, *c;
	size_t i;
	int bad = 0;

	c = core_attr(b, "CoreProfile", "profile_name", el);
	bad |= json_array_append_new(attrs, c);
	c = core_attr(b, "CoreProfile", "profile_priority", el);
	bad |= json_array_append_new(attrs, c);
	json_array_foreach(hfs_jarr(el, "attributes"), i, a)
	{
		if (hfs_jtrue(a, "read_only") || hfs_jtrue(a, "unique") ||
		    constrained(el, hfs_jstr(a, "name")))
			continue;
		c = json_deep_copy(a);
		bad |= c ? set(c, "default_value", json_null()) : HF_ENOMEM;
		bad |= set(c, "inherited", json_false());
		bad |= set(c, "optional", json_true());
		bad |= json_array_append_new(attrs, c);
	}
	return bad ? HF_ENOMEM : 0;
}

/*
 * Relationships a profile may set (1.7): Generic and Attribute ones, not
 * read-only, not constrained; the identifier gets a "profile_" prefix,
 * as the profile applier looks them up.
 */
static int profile_rels(json_t *p, const json_t *el)
{
	json_t *r, *c;
	hf_buf id = HF_BUF_INIT;
	size_t i;
	int bad = 0;

	json_array_foreach(hfs_jarr(el, "relationships"), i, r)
	{
		if ((!is_kind(r, "Generic") && !is_kind(r, "Attribute")) ||
		    hfs_jtrue(r, "read_only") ||
		    constrained(el, hfs_jstr(r, "name")))
			continue;
		hf_buf_reset(&id);
		hf_buf_addf(&id, "profile_%s", hfs_jstr(r, "identifier"));
		c = json_deep_copy(r);
		bad |= c ? set(c, "identifier", json_string(id.ptr))
		         : HF_ENOMEM;
		bad |= set(c, "optional", json_true());
		bad |= set(c, "min_count", json_integer(0));
		bad |= set(c, "inherited", json_false());
		bad |= set(c, "on_delete", json_null());
		bad |= json_array_append_new(hfs_jarr(p, "relationships"), c);
	}
	bad |= hf_buf_failed(&id);
	hf_buf_release(&id);
	return bad ? HF_ENOMEM : 0;
}

/*
 * `profiles` (kind Profile, identifier node__profile, many, branch
 * aware). Infrahub points it at CoreProfile on every node and generic
 * outside the restricted namespaces; here it points at the kind's own
 * Profile<Kind> and exists only where that kind exists, because
 * schema.c derives hfs_kind.profile_kind from this peer (see the report:
 * CoreProfile once schema.c derives it from the name).
 */
static json_t *profiles_rel(const char *profile_kind)
{
	json_t *r = hfs_rel_new("profiles", profile_kind, "Profile",
	                        "node__profile", "many");

	if (r && set(r, "branch", json_string("aware")) < 0) {
		json_decref(r);
		return NULL;
	}
	return r;
}

static int add_profiles_rel(json_t *el, const char *source_kind)
{
	hf_buf pk = HF_BUF_INIT;
	int rc = HF_ENOMEM;

	if (hfs_has_member(el, "profiles"))
		return 0;
	hf_buf_addf(&pk, "Profile%s", source_kind);
	if (!hf_buf_failed(&pk))
		rc = json_array_append_new(hfs_jarr(el, "relationships"),
		                           profiles_rel(pk.ptr));
	hf_buf_release(&pk);
	return rc < 0 ? HF_ENOMEM : 0;
}

static json_t *profile_new(struct hfs_build *b, const json_t *el)
{
	json_t *p = derived_new(el, "Profile", "Profile", "Profile for",
	                        HFS_T_NODE),
	       *r;
	int bad = 0;

	if (!p)
		return NULL;
	bad |= set_strs(p, "inherit_from", lineage_source(b), "CoreProfile",
	                "CoreNode");
	bad |= set(p, "default_filter", json_string("profile_name__value"));
	bad |= set(p, "display_label", json_string("profile_name__value"));
	bad |= set_strs(p, "display_labels", "profile_name__value", NULL, NULL);
	bad |= set_strs(p, "human_friendly_id", "profile_name__value", NULL,
	                NULL);
	bad |= profile_attrs(b, p, el);
	r = hfs_rel_new("related_nodes", hfs_jstr(el, "kind"), "Profile",
	                "node__profile", "many");
	bad |= r ? set(r, "branch", json_string("aware")) : HF_ENOMEM;
	bad |= json_array_append_new(hfs_jarr(p, "relationships"), r);
	bad |= profile_rels(p, el);
	if (bad) {
		json_decref(p);
		return NULL;
	}
	return p;
}

int hfs_step_profile(struct hfs_build *b, json_t *el, int type)
{
	json_t *cp = json_object_get(b->generics, "CoreProfile"), *p;
	int bad = 0;

	(void)type;
	if (!cp || hfs_namespace_restricted(hfs_jstr(el, "namespace")) ||
	    !hfs_jtrue(el, "generate_profile"))
		return 0;
	p = profile_new(b, el);
	if (!p || set(b->profiles, hfs_jstr(p, "kind"), p) < 0)
		return OOM(b);
	bad |= hfs_add_used_by(cp, hfs_jstr(p, "kind"));
	bad |= add_profiles_rel(el, hfs_jstr(el, "kind"));
	return bad ? OOM(b) : 0;
}

/* ---- object templates: which kinds need one ------------------------------ */

/*
 * Resource pools stay real peers (SUBTEMPLATE_EXCLUDED_KINDS, 1.8.0
 * #7903), and groups and profiles are never followed.
 */
static int excluded_peer(struct hfs_build *b, const char *peer)
{
	json_t *el = hfs_build_get(b, peer, NULL);

	if (!peer || strcmp(peer, "CoreGroup") == 0 ||
	    strcmp(peer, "CoreProfile") == 0)
		return 1;
	return el && inherits(el, "CoreResourcePool");
}

/* need: Kind -> true, the kinds that get a template. */
static int identify(struct hfs_build *b, json_t *need, const json_t *el);

/* Whether one of generic g's implementations is in `need` already. */
static int any_needed(const json_t *g, const json_t *need)
{
	json_t *v;
	size_t i;

	json_array_foreach(hfs_jarr(g, "used_by"), i, v)
	{
		if (json_object_get(need, json_string_value(v)))
			return 1;
	}
	return 0;
}

static int identify_peer(struct hfs_build *b, json_t *need, const json_t *r)
{
	const char *peer = hfs_jstr(r, "peer");
	json_t *pel = json_object_get(b->nodes, peer), *v, *impl;
	size_t i;
	int rc = 0;

	if (!pel)
		pel = json_object_get(b->generics, peer);
	if (!pel || json_object_get(need, peer))
		return 0;
	/*
	 * A generic peer: the objects are of its implementations, so each
	 * gets a template (for a Parent, unless one of them has one).
	 */
	if (json_object_get(pel, "used_by") &&
	    (!is_kind(r, "Parent") || !any_needed(pel, need))) {
		json_array_foreach(hfs_jarr(pel, "used_by"), i, v)
		{
			impl = json_object_get(b->nodes, json_string_value(v));
			if (impl && rc == 0)
				rc = identify(b, need, impl);
		}
	}
	return rc < 0 ? rc : identify(b, need, pel);
}

static int identify(struct hfs_build *b, json_t *need, const json_t *el)
{
	const char *kind = hfs_jstr(el, "kind");
	json_t *r, *v;
	size_t i;
	int rc = 0;

	if (json_object_get(need, kind))
		return 0;
	if (set(need, kind, json_true()) < 0)
		return HF_ENOMEM;
	json_array_foreach(hfs_jarr(el, "inherit_from"), i, v)
	{
		const char *g = json_string_value(v);

		if (g && json_object_get(b->generics, g) &&
		    set(need, g, json_true()) < 0)
			return HF_ENOMEM;
	}
	json_array_foreach(hfs_jarr(el, "relationships"), i, r)
	{
		if (rc < 0)
			break;
		if (excluded_peer(b, hfs_jstr(r, "peer")) ||
		    (is_kind(r, "Parent") &&
		     hfs_jtrue(el, "generate_template")) ||
		    (!is_kind(r, "Parent") && !is_kind(r, "Component")))
			continue;
		rc = identify_peer(b, need, r);
	}
	return rc;
}

/* ---- object templates: the elements -------------------------------------- */

static int is_generic(struct hfs_build *b, const char *kind)
{
	return json_object_get(b->generics, kind) != NULL;
}

static json_t *template_get(struct hfs_build *b, const char *kind)
{
	hf_buf tk = HF_BUF_INIT;
	json_t *t = NULL;

	hf_buf_addf(&tk, "Template%s", kind);
	if (!hf_buf_failed(&tk)) {
		t = json_object_get(b->templates, tk.ptr);
		if (!t)
			t = json_object_get(b->generics, tk.ptr);
	}
	hf_buf_release(&tk);
	return t;
}

/* Attributes: template_name, then the node's (not unique, not read-only). */
static int template_attrs(struct hfs_build *b, json_t *t, const json_t *el,
                          int component)
{
	json_t *attrs = hfs_jarr(t, "attributes"), *a, *c;
	size_t i;
	int bad = 0;

	c = core_attr(b,
	              component ? "CoreObjectComponentTemplate"
	                        : "CoreObjectTemplate",
	              "template_name", el);
	bad |= json_array_append_new(attrs, c);
	json_array_foreach(hfs_jarr(el, "attributes"), i, a)
	{
		if (hfs_jtrue(a, "unique") || hfs_jtrue(a, "read_only"))
			continue;
		c = json_deep_copy(a);
		bad |= c ? set(c, "unique", json_false()) : HF_ENOMEM;
		if (!component)
			bad |= set(c, "optional", json_true());
		bad |= json_array_append_new(attrs, c);
	}
	return bad ? HF_ENOMEM : 0;
}

static int template_node_head(struct hfs_build *b, json_t *t, const json_t *el,
                              const json_t *need, int component)
{
	json_t *inh, *v, *r;
	size_t i;
	int bad = 0;

	bad |= set_strs(t, "inherit_from", lineage_source(b), "CoreNode",
	                component ? "CoreObjectComponentTemplate"
	                          : "CoreObjectTemplate");
	inh = hfs_jarr(t, "inherit_from");
	json_array_foreach(hfs_jarr(el, "inherit_from"), i, v)
	{
		hf_buf g = HF_BUF_INIT;

		if (!json_object_get(need, json_string_value(v)))
			continue;
		hf_buf_addf(&g, "Template%s", json_string_value(v));
		bad |= hf_buf_failed(&g)
		               ? HF_ENOMEM
		               : json_array_append_new(inh, json_string(g.ptr));
		hf_buf_release(&g);
	}
	bad |= set_strs(t, "human_friendly_id", "template_name__value", NULL,
	                NULL);
	bad |= set(t, "uniqueness_constraints",
	           json_pack("[[s]]", "template_name__value"));
	r = hfs_rel_new("related_nodes", hfs_jstr(el, "kind"), "Template",
	                "node__objecttemplate", "many");
	bad |= r ? set(r, "branch", json_string("aware")) : HF_ENOMEM;
	bad |= json_array_append_new(hfs_jarr(t, "relationships"), r);
	return bad ? HF_ENOMEM : 0;
}

/* generate_object_template_from_node: the element with its attributes. */
static json_t *template_new(struct hfs_build *b, const json_t *el,
                            const json_t *need)
{
	int generic = json_object_get(el, "used_by") != NULL;
	int component = !hfs_jtrue(el, "generate_template");
	json_t *t, *v;
	size_t i;
	int bad = 0;

	t = generic ? derived_new(el, "Template", "Generic object template",
	                          "Generic object template for generic",
	                          HFS_T_GENERIC)
	            : derived_new(el, "Template", "Object template",
	                          "Object template for", HFS_T_NODE);
	if (!t)
		return NULL;
	bad |= set_strs(t, "display_labels", "template_name__value", NULL,
	                NULL);
	bad |= set(t, "display_label", json_string("template_name__value"));
	bad |= set(t, "default_filter", json_null());
	if (generic) {
		bad |= set_strs(t, "human_friendly_id", "template_name__value",
		                NULL, NULL);
		json_array_foreach(hfs_jarr(el, "used_by"), i, v)
		{
			hf_buf k = HF_BUF_INIT;

			if (!json_object_get(need, json_string_value(v)))
				continue;
			hf_buf_addf(&k, "Template%s", json_string_value(v));
			bad |= hf_buf_failed(&k) ? HF_ENOMEM
			                         : hfs_add_used_by(t, k.ptr);
			hf_buf_release(&k);
		}
	} else {
		bad |= template_node_head(b, t, el, need, component);
	}
	bad |= template_attrs(b, t, el, component);
	if (bad) {
		json_decref(t);
		return NULL;
	}
	return t;
}

/* ---- object templates: relationships ------------------------------------- */

static const char *pool_for(struct hfs_build *b, const char *peer)
{
	json_t *el = hfs_build_get(b, peer, NULL);

	if (!el)
		return NULL;
	if (inherits(el, "BuiltinIPAddress"))
		return "CoreIPAddressPool";
	if (inherits(el, "BuiltinIPPrefix"))
		return "CoreIPPrefixPool";
	return NULL;
}

/*
 * <name>_from_resource_pool (1.8): a pool the instances allocate from,
 * kind Generic, cardinality one, optional. The identifier is made from
 * the template kind and the field name (two Number attributes point at
 * the same pool kind, so the peer pair alone would clash).
 */
static int add_pool_rel(json_t *t, const char *name, const char *pool)
{
	hf_buf n = HF_BUF_INIT, id = HF_BUF_INIT;
	json_t *r = NULL;
	size_t i;
	int rc = HF_ENOMEM;

	hf_buf_addf(&n, "%s_from_resource_pool", name);
	hf_buf_addf(&id, "%s__%s", hfs_jstr(t, "kind"), n.ptr);
	for (i = 0; i < id.len; i++)
		id.ptr[i] = (char)tolower((unsigned char)id.ptr[i]);
	if (!hf_buf_failed(&n) && !hf_buf_failed(&id) &&
	    !hfs_has_member(t, n.ptr))
		r = hfs_rel_new(n.ptr, pool, "Generic", id.ptr, "one");
	if (r && set(r, "branch", json_string(hfs_jstr(t, "branch"))) == 0 &&
	    set_title(r, "label", n.ptr) == 0)
		rc = json_array_append_new(hfs_jarr(t, "relationships"), r);
	else if (!r && !hf_buf_failed(&n) && !hf_buf_failed(&id))
		rc = hfs_has_member(t, n.ptr) ? 0 : HF_ENOMEM;
	else
		json_decref(r);
	hf_buf_release(&n);
	hf_buf_release(&id);
	return rc < 0 ? HF_ENOMEM : 0;
}

static int number_pools(struct hfs_build *b, json_t *t)
{
	json_t *a;
	size_t i;
	int rc = 0;

	if (!json_object_get(b->nodes, "CoreNumberPool"))
		return 0;
	json_array_foreach(hfs_jarr(t, "attributes"), i, a)
	{
		const char *k = hfs_jstr(a, "kind");

		if (rc == 0 && k && strcmp(k, "Number") == 0)
			rc = add_pool_rel(t, hfs_jstr(a, "name"),
			                  "CoreNumberPool");
	}
	return rc;
}

/*
 * A template's relationship for node relationship r, built as
 * add_relationships_to_template does: a new relationship with the name,
 * kind, cardinality, counts, direction, branch and inherited flag of r,
 * identifier "template_<identifier>", title-cased label; mandatory only
 * when r is (component templates) or when it is the Parent (others).
 */
static json_t *template_rel(const json_t *r, const char *peer, int component)
{
	const char *name = hfs_jstr(r, "name");
	int sub = is_kind(r, "Component") || is_kind(r, "Parent");
	hf_buf id = HF_BUF_INIT, lbl = HF_BUF_INIT;
	json_t *c = NULL;
	int bad = 0;

	hf_buf_addf(&id, "template_%s", hfs_jstr(r, "identifier"));
	hf_buf_addf(&lbl, sub ? "%s template" : "%s", name);
	if (!hf_buf_failed(&id) && !hf_buf_failed(&lbl))
		c = hfs_rel_new(name, peer, hfs_jstr(r, "kind"), id.ptr,
		                hfs_jstr(r, "cardinality"));
	bad |= c ? set_title(c, "label", lbl.ptr) : HF_ENOMEM;
	bad |= set(c, "optional",
	           json_boolean(component ? hfs_jtrue(r, "optional")
	                                  : !is_kind(r, "Parent")));
	bad |= set(c, "direction", json_copy(json_object_get(r, "direction")));
	bad |= set(c, "branch", json_copy(json_object_get(r, "branch")));
	bad |= set(c, "min_count", json_copy(json_object_get(r, "min_count")));
	bad |= set(c, "max_count", json_copy(json_object_get(r, "max_count")));
	bad |= set(c, "inherited", json_boolean(hfs_jtrue(r, "inherited")));
	hf_buf_release(&id);
	hf_buf_release(&lbl);
	if (bad) {
		json_decref(c);
		return NULL;
	}
	return c;
}

/* A Parent relationship puts the parent template's name first (HFID). */
static int parent_hfid(json_t *t, const char *rel)
{
	json_t *hfid = hfs_jarr(t, "human_friendly_id");
	json_t *uc = json_array_get(hfs_jarr(t, "uniqueness_constraints"), 0);
	hf_buf p = HF_BUF_INIT;
	json_t *v;
	size_t i;
	int rc = 0, have = 0;

	hf_buf_addf(&p, "%s__template_name__value", rel);
	if (hf_buf_failed(&p))
		return HF_ENOMEM;
	json_array_foreach(hfid, i, v) have |=
	        strcmp(json_string_value(v), p.ptr) == 0;
	if (!have && hfid)
		rc = json_array_insert_new(hfid, 0, json_string(p.ptr));
	if (!have && rc == 0 && uc)
		rc = json_array_append_new(uc, json_string(rel));
	hf_buf_release(&p);
	return rc ? HF_ENOMEM : 0;
}

/*
 * The relationships a template copies (Component, Parent, Attribute,
 * Generic; Component and Parent peers become the peers' templates,
 * except resource pools), with the pool companions of 1.8.
 */
static int template_rels(struct hfs_build *b, json_t *t, const json_t *el)
{
	int component = !hfs_jtrue(el, "generate_template");
	int generic = json_object_get(el, "used_by") != NULL;
	json_t *r, *c, *pt;
	size_t i;
	int rc = 0;

	json_array_foreach(hfs_jarr(el, "relationships"), i, r)
	{
		const char *peer = hfs_jstr(r, "peer"), *pool;
		int sub = is_kind(r, "Component") || is_kind(r, "Parent");

		if (rc < 0)
			break;
		if (!peer || strcmp(peer, "CoreGroup") == 0 ||
		    strcmp(peer, "CoreProfile") == 0 ||
		    (!sub && !is_kind(r, "Attribute") &&
		     !is_kind(r, "Generic")))
			continue;
		pt = sub && !excluded_peer(b, peer) ? template_get(b, peer)
		                                    : NULL;
		if (sub && !excluded_peer(b, peer) && !pt)
			continue; /* no template for that peer: left out */
		c = template_rel(r, pt ? hfs_jstr(pt, "kind") : peer,
		                 component);
		if (!c ||
		    json_array_append_new(hfs_jarr(t, "relationships"), c) < 0)
			return HF_ENOMEM;
		if (!generic && is_kind(r, "Parent"))
			rc = parent_hfid(t, hfs_jstr(r, "name"));
		pool = strcmp(hfs_jstr(r, "cardinality"), "one") == 0
		               ? pool_for(b, peer)
		               : NULL;
		if (rc == 0 && pool && hfs_build_get(b, pool, NULL))
			rc = add_pool_rel(t, hfs_jstr(r, "name"), pool);
	}
	return rc < 0 ? rc : number_pools(b, t);
}

/* Template-only relationships: profiles (1.6), *_for_instances (1.10). */
static int template_extras(struct hfs_build *b, json_t *t, const json_t *el)
{
	static const char *const grp[][2] = {
		{ "member_of_groups_for_instances",
		  "template_group_member_for_instances" },
		{ "subscriber_of_groups_for_instances",
		  "template_group_subscriber_for_instances" },
	};
	json_t *rels = hfs_jarr(t, "relationships"), *r;
	size_t i;
	int bad = 0;

	if (json_object_get(t, "used_by"))
		return 0; /* generic templates */
	if (hfs_jtrue(el, "generate_profile") &&
	    json_object_get(b->generics, "CoreProfile") &&
	    !hfs_namespace_restricted(hfs_jstr(el, "namespace")))
		bad |= add_profiles_rel(t, hfs_jstr(el, "kind"));
	for (i = 0; i < 2 && json_object_get(b->generics, "CoreGroup"); i++) {
		if (hfs_has_member(t, grp[i][0]))
			continue;
		r = hfs_rel_new(grp[i][0], "CoreGroup", "Generic", grp[i][1],
		                "many");
		bad |= r ? set(r, "branch", json_string("aware")) : HF_ENOMEM;
		bad |= json_array_append_new(rels, r);
	}
	return bad ? HF_ENOMEM : 0;
}

/* ---- object templates: the step ------------------------------------------ */

static int template_kinds(struct hfs_build *b, json_t *need, json_t *created)
{
	const char *kind;
	json_t *v, *el, *t;

	json_object_foreach(need, kind, v)
	{
		el = hfs_build_get(b, kind, NULL);
		t = el ? template_new(b, el, need) : NULL;
		if (!t)
			return HF_ENOMEM;
		if (set(is_generic(b, kind) ? b->generics : b->templates,
		        hfs_jstr(t, "kind"), t) < 0 ||
		    json_array_append_new(created, json_string(kind)) < 0)
			return HF_ENOMEM;
	}
	return 0;
}

/* used_by of the two core template generics, as each template inherits. */
static int core_used_by(struct hfs_build *b, const json_t *t)
{
	json_t *v;
	size_t i;
	int rc = 0;

	json_array_foreach(hfs_jarr(t, "inherit_from"), i, v)
	{
		const char *g = json_string_value(v);

		if (rc == 0 && (strcmp(g, "CoreObjectTemplate") == 0 ||
		                strcmp(g, "CoreObjectComponentTemplate") == 0))
			rc = hfs_add_used_by(json_object_get(b->generics, g),
			                     hfs_jstr(t, "kind"));
	}
	return rc;
}

static int template_links(struct hfs_build *b, const json_t *created)
{
	json_t *v, *el, *t;
	size_t i;
	int rc = 0;

	json_array_foreach(created, i, v)
	{
		el = hfs_build_get(b, json_string_value(v), NULL);
		t = template_get(b, json_string_value(v));
		if (rc == 0)
			rc = template_rels(b, t, el);
		if (rc == 0)
			rc = template_extras(b, t, el);
		if (rc == 0 && !json_object_get(t, "used_by"))
			rc = core_used_by(b, t);
	}
	return rc;
}

/* object_template on the nodes that asked for a template. */
static int object_template_rel(struct hfs_build *b, json_t *el)
{
	json_t *t = template_get(b, hfs_jstr(el, "kind")), *r;
	int bad = 0;

	if (!t || hfs_has_member(el, "object_template"))
		return 0;
	r = hfs_rel_new("object_template", hfs_jstr(t, "kind"), "Template",
	                "node__objecttemplate", "one");
	bad |= r ? set(r, "branch", json_string("aware")) : HF_ENOMEM;
	bad |= set(r, "order_weight", json_integer(1));
	bad |= json_array_append_new(hfs_jarr(el, "relationships"), r);
	(void)b;
	return bad ? HF_ENOMEM : 0;
}

/* The node kind that sorts first: the step runs once, from there. */
static int first_node(struct hfs_build *b, const json_t *el)
{
	const char *kind = hfs_jstr(el, "kind"), *k;
	json_t *v;

	json_object_foreach(b->nodes, k, v)
	{
		if (strcmp(k, kind) < 0)
			return 0;
	}
	return 1;
}

static int wanted(const json_t *el)
{
	return hfs_jtrue(el, "generate_template") &&
	       !hfs_namespace_restricted(hfs_jstr(el, "namespace"));
}

/*
 * manage_object_template_schemas + manage_object_template_relationships,
 * all at once: the kinds templates need are known before any template is
 * made (generic templates list the implementations that have one).
 */
int hfs_step_template(struct hfs_build *b, json_t *el, int type)
{
	json_t *need, *created, *v;
	const char *k;
	int rc = 0;

	(void)type;
	if (!first_node(b, el) ||
	    !json_object_get(b->generics, "CoreObjectTemplate") ||
	    !json_object_get(b->generics, "CoreObjectComponentTemplate"))
		return 0;
	need = json_object();
	created = json_array();
	if (!need || !created)
		rc = HF_ENOMEM;
	json_object_foreach(b->nodes, k, v)
	{
		if (rc == 0 && wanted(v))
			rc = identify(b, need, v);
	}
	if (rc == 0)
		rc = template_kinds(b, need, created);
	if (rc == 0)
		rc = template_links(b, created);
	json_object_foreach(b->nodes, k, v)
	{
		if (rc == 0 && wanted(v))
			rc = object_template_rel(b, v);
	}
	json_decref(need);
	json_decref(created);
	return rc < 0 ? OOM(b) : 0;
}
