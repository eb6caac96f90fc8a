/*
 * Kinds derived from others: profiles (Profile<Kind>, for nodes and
 * generics with generate_profile outside the restricted namespaces) and
 * object templates (Template<Kind>, for nodes with generate_template,
 * plus component templates for the peers of their Component and Parent
 * relationships).
 */
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

static char *label_of(const json_t *el)
{
	const char *l = hfs_jstr(el, "label");

	return l ? hf_strdup(l) : hfs_format_label(hfs_jstr(el, "name"));
}

static json_t *derived_new(const json_t *el, const char *ns, const char *prefix,
                           const char *what)
{
	const char *kind = hfs_jstr(el, "kind");
	hf_buf k = HF_BUF_INIT, lbl = HF_BUF_INIT, desc = HF_BUF_INIT;
	char *label = label_of(el);
	json_t *d, *o = NULL;

	hf_buf_addf(&k, "%s%s", prefix, kind);
	hf_buf_addf(&lbl, "%s %s", what, label ? label : "");
	hf_buf_addf(&desc, "%s for %s", what, kind);
	d = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b,s:b}", "name", kind,
	              "namespace", ns, "label", lbl.ptr, "description",
	              desc.ptr, "branch", hfs_jstr(el, "branch"),
	              "include_in_menu", 0, "generate_profile", 0);
	if (d && !hf_buf_failed(&k) && !hf_buf_failed(&lbl) &&
	    !hf_buf_failed(&desc))
		o = hfs_norm_def(d, k.ptr, HFS_T_NODE);
	json_decref(d);
	hf_free(label);
	hf_buf_release(&k);
	hf_buf_release(&lbl);
	hf_buf_release(&desc);
	return o;
}

static int set_strs(json_t *o, const char *key, const char *a, const char *b,
                    const char *c)
{
	json_t *arr = json_pack("[s,s?,s?]", a, b, c);

	return arr ? set(o, key, arr) : HF_ENOMEM;
}

static int profile_attrs(json_t *p, const json_t *el, const json_t *cp)
{
	json_t *attrs = hfs_jarr(p, "attributes"), *a;
	size_t i;
	int bad = 0;

	json_array_foreach(hfs_jarr(cp, "attributes"), i, a)
	{
		json_t *c = json_deep_copy(a);

		bad |= c ? set(c, "branch", json_string(hfs_jstr(el, "branch")))
		         : HF_ENOMEM;
		bad |= set(c, "inherited", json_false());
		bad |= json_array_append_new(attrs, c);
	}
	json_array_foreach(hfs_jarr(el, "attributes"), i, a)
	{
		json_t *c;

		if (hfs_jtrue(a, "read_only") || !hfs_jtrue(a, "optional") ||
		    hfs_jtrue(a, "unique"))
			continue;
		c = json_deep_copy(a);
		bad |= c ? set(c, "default_value", json_null()) : HF_ENOMEM;
		bad |= set(c, "inherited", json_false());
		bad |= set(c, "optional", json_true());
		bad |= json_array_append_new(attrs, c);
	}
	return bad ? HF_ENOMEM : 0;
}

int hfs_step_profile(struct hfs_build *b, json_t *el, int type)
{
	json_t *cp = json_object_get(b->generics, "CoreProfile"), *p, *r;
	const char *kind = hfs_jstr(el, "kind");
	int bad = 0;

	(void)type;
	if (!cp || !hfs_jtrue(el, "generate_profile") ||
	    hfs_namespace_restricted(hfs_jstr(el, "namespace")))
		return 0;
	p = derived_new(el, "Profile", "Profile", "Profile");
	if (!p || set(b->profiles, hfs_jstr(p, "kind"), p) < 0)
		return OOM(b);
	bad |= set_strs(p, "inherit_from", "CoreLineageSource", "CoreProfile",
	                "CoreNode");
	bad |= set(p, "default_filter", json_string("profile_name__value"));
	bad |= set(p, "display_label", json_string("profile_name__value"));
	bad |= set_strs(p, "display_labels", "profile_name__value", NULL, NULL);
	bad |= profile_attrs(p, el, cp);
	r = hfs_rel_new("related_nodes", kind, "Profile", "node__profile",
	                "many");
	bad |= json_array_append_new(hfs_jarr(p, "relationships"), r);
	bad |= hfs_add_used_by(cp, hfs_jstr(p, "kind"));
	if (!hfs_has_member(el, "profiles")) {
		r = hfs_rel_new("profiles", hfs_jstr(p, "kind"), "Profile",
		                "node__profile", "many");
		bad |= json_array_append_new(hfs_jarr(el, "relationships"), r);
	}
	return bad ? OOM(b) : 0;
}

static int template_rels(struct hfs_build *b, json_t *t, const json_t *el);

static json_t *template_for(struct hfs_build *b, const json_t *el,
                            int component)
{
	json_t *t, *a, *attrs, *ta;
	size_t i;
	int bad = 0;
	hf_buf tk = HF_BUF_INIT;

	hf_buf_addf(&tk, "Template%s", hfs_jstr(el, "kind"));
	t = hf_buf_failed(&tk) ? NULL : json_object_get(b->templates, tk.ptr);
	hf_buf_release(&tk);
	if (t)
		return t;
	t = derived_new(el, "Template", "Template", "Object template");
	if (!t || set(b->templates, hfs_jstr(t, "kind"), t) < 0)
		return NULL;
	attrs = hfs_jarr(t, "attributes");
	ta = json_pack("{s:s,s:s,s:b,s:b,s:i}", "name", "template_name", "kind",
	               "Text", "optional", 0, "unique", !component,
	               "order_weight", 1000);
	bad |= json_array_append_new(attrs, ta ? hfs_norm_attr(ta) : NULL);
	json_decref(ta);
	json_array_foreach(hfs_jarr(el, "attributes"), i, a)
	{
		json_t *c;

		if (hfs_jtrue(a, "read_only"))
			continue;
		c = json_deep_copy(a);
		bad |= c ? set(c, "optional", json_true()) : HF_ENOMEM;
		bad |= set(c, "unique", json_false());
		bad |= set(c, "inherited", json_false());
		bad |= json_array_append_new(attrs, c);
	}
	bad |= set_strs(t, "inherit_from",
	                component ? "CoreObjectComponentTemplate"
	                          : "CoreObjectTemplate",
	                "CoreNode", NULL);
	bad |= set(t, "default_filter", json_string("template_name__value"));
	bad |= set(t, "display_label", json_string("template_name__value"));
	bad |= set_strs(t, "display_labels", "template_name__value", NULL,
	                NULL);
	if (bad || template_rels(b, t, el) < 0)
		return NULL;
	return t;
}

/*
 * A template carries the node's attributes (all optional) and its plain
 * relationships; Component and Parent relationships point at the peers'
 * templates, generated as component templates.
 */
static int template_rels(struct hfs_build *b, json_t *t, const json_t *el)
{
	json_t *r, *rels = hfs_jarr(t, "relationships");
	size_t i;

	json_array_foreach(hfs_jarr(el, "relationships"), i, r)
	{
		const char *rk = hfs_jstr(r, "kind"),
		           *peer = hfs_jstr(r, "peer");
		json_t *c, *pt;
		int sub = strcmp(rk, "Component") == 0 ||
		          strcmp(rk, "Parent") == 0;

		if (!sub && strcmp(rk, "Generic") != 0 &&
		    strcmp(rk, "Attribute") != 0)
			continue;
		c = json_deep_copy(r);
		if (!c || json_array_append_new(rels, c) < 0 ||
		    set(c, "optional", json_true()) < 0 ||
		    set(c, "inherited", json_false()) < 0)
			return HF_ENOMEM;
		if (!sub)
			continue;
		pt = json_object_get(b->nodes, peer);
		if (!pt)
			continue;
		pt = template_for(b, pt, 1);
		if (!pt ||
		    set(c, "peer", json_copy(json_object_get(pt, "kind"))) < 0)
			return HF_ENOMEM;
	}
	return 0;
}

int hfs_step_template(struct hfs_build *b, json_t *el, int type)
{
	json_t *t, *r, *ct;

	(void)type;
	if (!hfs_jtrue(el, "generate_template") ||
	    !json_object_get(b->generics, "CoreObjectTemplate"))
		return 0;
	t = template_for(b, el, 0);
	if (!t)
		return OOM(b);
	if (hfs_has_member(el, "object_template"))
		return 0;
	r = hfs_rel_new("object_template", hfs_jstr(t, "kind"), "Template",
	                "node__objecttemplate", "one");
	if (json_array_append_new(hfs_jarr(el, "relationships"), r) < 0)
		return OOM(b);
	ct = json_object_get(b->generics, "CoreObjectTemplate");
	return hfs_add_used_by(ct, hfs_jstr(t, "kind")) < 0 ? OOM(b) : 0;
}
