/*
 * Schema validation (Infrahub's process_validate, in its order) and the
 * HFID derivation, which share the schema path parser: "attr__value",
 * "rel" or "rel__peer_attr__value". Errors use Infrahub's wording where
 * it is known, so users see the messages they would see upstream.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "jinja.h"
#include "schema_int.h"

#include "hf/banned.h"

#define NG (HFS_T_NODE | HFS_T_GENERIC)

enum {
	P_ATTR_VALUE = 1, /* attr__value */
	P_ATTR_PROP = 2, /* attr__<property> */
	P_ATTR_BARE = 4, /* attr */
	P_REL_ONE_MAND = 8, /* rel (cardinality one, mandatory) */
	P_REL_ATTR = 16, /* rel__attr__prop (cardinality one) */
	P_REL_MAND = 32, /* with P_REL_ATTR: the rel must be mandatory */
};

struct spath {
	json_t *attr;
	json_t *rel;
	json_t *peer_attr;
	const char *prop; /* after the attribute; "" when none */
};

static int split(const char *path, char *head, size_t n, const char **rest)
{
	const char *sep = strstr(path, "__");
	size_t len = sep ? (size_t)(sep - path) : strlen(path);

	if (len == 0 || len >= n)
		return -1;
	memcpy(head, path, len);
	head[len] = '\0';
	*rest = sep ? sep + 2 : "";
	return 0;
}

static int parse_path(struct hfs_build *b, const json_t *el, const char *path,
                      struct spath *p)
{
	char name[128], pname[128];
	const char *rest, *prop;
	json_t *peer;

	memset(p, 0, sizeof(*p));
	if (split(path, name, sizeof(name), &rest) < 0)
		return -1;
	p->attr = hfs_named(hfs_jarr(el, "attributes"), name);
	if (p->attr) {
		p->prop = rest;
		return 0;
	}
	p->rel = hfs_named(hfs_jarr(el, "relationships"), name);
	if (!p->rel)
		return -1;
	p->prop = "";
	if (!*rest)
		return 0;
	peer = hfs_build_get(b, hfs_jstr(p->rel, "peer"), NULL);
	if (!peer || split(rest, pname, sizeof(pname), &prop) < 0)
		return -1;
	p->peer_attr = hfs_named(hfs_jarr(peer, "attributes"), pname);
	p->prop = prop;
	return p->peer_attr && *prop ? 0 : -1;
}

static int is_ip_ns(const json_t *el, const json_t *rel)
{
	json_t *v;
	size_t i;

	if (strcmp(hfs_jstr(rel, "name"), "ip_namespace") != 0)
		return 0;
	json_array_foreach(hfs_jarr(el, "inherit_from"), i, v)
	{
		const char *g = json_string_value(v);

		if (strcmp(g, "BuiltinIPAddress") == 0 ||
		    strcmp(g, "BuiltinIPPrefix") == 0)
			return 1;
	}
	return 0;
}

/*
 * The properties a path may end with, per attribute kind: Infrahub's
 * get_allowed_property_in_path(), i.e. the fields of the attribute's
 * GraphQL type less the metadata ones (plus binary_address for IP kinds),
 * sorted; Infrahub 1.2.10 opened them to computed attributes.
 */
/* clang-format off */
static const char *const props_value[] = { "value", NULL };
static const char *const props_dropdown[] = {
	"color", "description", "label", "value", NULL,
};
static const char *const props_iphost[] = {
	"binary_address", "hostmask", "ip", "netmask", "prefixlen", "value",
	"version", "with_hostmask", "with_netmask", NULL,
};
static const char *const props_ipnetwork[] = {
	"binary_address", "broadcast_address", "hostmask", "netmask",
	"num_addresses", "prefixlen", "value", "version", "with_hostmask",
	"with_netmask", NULL,
};
static const char *const props_mac[] = {
	"bare", "binary", "dot_notation", "ei", "eui48", "eui64", "oui",
	"semicolon_notation", "split_notation", "value", "version", NULL,
};
/* clang-format on */

static const char *const *attr_props(const json_t *attr)
{
	const char *kind = hfs_jstr(attr, "kind");

	if (!kind)
		return props_value;
	if (strcmp(kind, "Dropdown") == 0)
		return props_dropdown;
	if (strcmp(kind, "IPHost") == 0)
		return props_iphost;
	if (strcmp(kind, "IPNetwork") == 0)
		return props_ipnetwork;
	if (strcmp(kind, "MacAddress") == 0)
		return props_mac;
	return props_value;
}

static int prop_allowed(const json_t *attr, const char *prop)
{
	const char *const *v = attr_props(attr);
	size_t i;

	for (i = 0; v[i]; i++)
		if (strcmp(v[i], prop) == 0)
			return 1;
	return 0;
}

static void props_text(const json_t *attr, char *buf, size_t len)
{
	const char *const *v = attr_props(attr);
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; v[i] && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "",
		                      v[i]);
}

static int path_attr_ok(const struct spath *p, int allowed)
{
	if (!*p->prop)
		return allowed & P_ATTR_BARE;
	if (prop_allowed(p->attr, p->prop))
		return allowed & (P_ATTR_VALUE | P_ATTR_PROP);
	return allowed & P_ATTR_PROP;
}

static const char *path_rel_problem(const json_t *el, const struct spath *p,
                                    int allowed)
{
	int one = strcmp(hfs_jstr(p->rel, "cardinality"), "one") == 0;
	int mand = !hfs_jtrue(p->rel, "optional") || is_ip_ns(el, p->rel);

	if (!one)
		return "relationship must be of cardinality one";
	if (p->peer_attr) {
		if (!(allowed & P_REL_ATTR))
			return "cannot use attributes of related node, only "
			       "the relationship";
		if ((allowed & P_REL_MAND) && !mand)
			return "relationship must be mandatory";
		return NULL;
	}
	if (!(allowed & P_REL_ONE_MAND))
		return "Must use attributes of related node";
	return mand ? NULL : "relationship must be mandatory";
}

static int check_path(struct hfs_build *b, const json_t *el, const char *path,
                      int allowed, const char *what)
{
	const char *kind = hfs_jstr(el, "kind"), *problem = NULL;
	struct spath p;

	if (!path || parse_path(b, el, path, &p) < 0)
		return hf_error_set(b->err, HF_EINVAL,
		                    "%s.%s: '%s' is not a valid schema path",
		                    kind, what, path ? path : "");
	if (p.attr && !path_attr_ok(&p, allowed) && *p.prop) {
		char props[256];

		props_text(p.attr, props, sizeof(props));
		return hf_error_set(
		        b->err, HF_EINVAL,
		        "%s.%s: invalid attribute, it must end with "
		        "one of the following properties: %s. (`%s`)",
		        kind, what, props, path);
	}
	if (p.attr && !path_attr_ok(&p, allowed))
		problem = "this property only supports relationships not "
		          "attributes";
	else if (p.rel)
		problem = path_rel_problem(el, &p, allowed);
	if (problem)
		return hf_error_set(b->err, HF_EINVAL, "%s.%s: %s. (`%s`)",
		                    kind, what, problem, path);
	return 0;
}

/* ---- the validation steps ---- */

/*
 * Generic templates (TemplateDcimInterface) sit among the generics, but
 * Infrahub leaves them out of several checks and of the HFID derivation
 * (generic_names_without_templates: kinds starting with "Template").
 */
static int generic_template(const json_t *el, int type)
{
	const char *kind = hfs_jstr(el, "kind");

	return type == HFS_T_GENERIC && kind &&
	       strncmp(kind, "Template", 8) == 0;
}

static const char *const reserved[] = {
	"any",          "attribute",     "attributes",    "attr", "attrs",
	"relationship", "relationships", "rel",           "rels", "save",
	"hfid",         "process_pools", "display_label", NULL,
};

static int is_reserved(const char *name, int generic)
{
	size_t k;

	for (k = 0; reserved[k]; k++)
		if (strcmp(reserved[k], name) == 0)
			return 1;
	return generic && strcmp(name, "type") == 0;
}

static int dup_name(const json_t *el, const char *name, size_t skip_a,
                    size_t skip_r)
{
	json_t *v;
	size_t i;
	int n = 0;

	json_array_foreach(hfs_jarr(el, "attributes"), i, v) n +=
	        i != skip_a && strcmp(hfs_jstr(v, "name"), name) == 0;
	json_array_foreach(hfs_jarr(el, "relationships"), i, v) n +=
	        i != skip_r && strcmp(hfs_jstr(v, "name"), name) == 0;
	return n > 0;
}

static int check_member_names(struct hfs_build *b, const json_t *el,
                              const char *key, int is_attr)
{
	const char *kind = hfs_jstr(el, "kind");
	int user = !hfs_namespace_restricted(hfs_jstr(el, "namespace"));
	int generic = json_object_get(el, "used_by") != NULL;
	json_t *v;
	size_t i;

	json_array_foreach(hfs_jarr(el, key), i, v)
	{
		const char *name = hfs_jstr(v, "name");

		if (dup_name(el, name, is_attr ? i : (size_t)-1,
		             is_attr ? (size_t)-1 : i))
			return hf_error_set(b->err, HF_EINVAL,
			                    "%s: Names of attributes and "
			                    "relationships must be unique : "
			                    "['%s']",
			                    kind, name);
		if (user && is_reserved(name, generic))
			return hf_error_set(
			        b->err, HF_EINVAL,
			        "%s: %s isn't allowed as %s name.", kind, name,
			        is_attr ? "an attribute" : "a relationship");
	}
	return 0;
}

static int v_names(struct hfs_build *b, json_t *el, int type)
{
	(void)type;
	if (check_member_names(b, el, "attributes", 1) < 0)
		return HF_EINVAL;
	return check_member_names(b, el, "relationships", 0);
}

static int v_peers(struct hfs_build *b, json_t *el, int type)
{
	json_t *r;
	size_t i;

	(void)type;
	json_array_foreach(hfs_jarr(el, "relationships"), i, r)
	{
		const char *peer = hfs_jstr(r, "peer");

		if (peer && hfs_build_get(b, peer, NULL))
			continue;
		return hf_error_set(b->err, HF_EINVAL,
		                    "%s: Relationship '%s' is referencing an "
		                    "invalid peer '%s'",
		                    hfs_jstr(el, "kind"), hfs_jstr(r, "name"),
		                    peer ? peer : "");
	}
	return 0;
}

/* ---- computed attributes ---- */

/*
 * A variable of a Jinja2 computed attribute, as Infrahub 1.11 checks it
 * (ATTR_WITH_PROP | REL_ONE_MANDATORY_ATTR_WITH_PROP |
 * REL_ONE_ATTR_WITH_PROP): "attr__prop" or "rel__peer_attr__prop" over a
 * cardinality-one relationship, optional or not, the property one the
 * attribute's GraphQL type has. 1 when valid, 0 when not.
 */
static int computed_var_ok(struct hfs_build *b, const json_t *el,
                           const char *var, struct spath *p)
{
	if (parse_path(b, el, var, p) < 0)
		return 0;
	if (p->attr)
		return *p->prop && prop_allowed(p->attr, p->prop);
	if (!p->peer_attr ||
	    strcmp(hfs_jstr(p->rel, "cardinality"), "one") != 0)
		return 0;
	return prop_allowed(p->peer_attr, p->prop);
}

static int computed_err(struct hfs_build *b, const json_t *el, const json_t *a,
                        const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static int computed_err(struct hfs_build *b, const json_t *el, const json_t *a,
                        const char *fmt, ...)
{
	char msg[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return hf_error_set(b->err, HF_EINVAL, "%s: Attribute '%s' %s",
	                    hfs_jstr(el, "kind"), hfs_jstr(a, "name"), msg);
}

static int check_jinja_vars(struct hfs_build *b, const json_t *el,
                            const json_t *a, const hfs_jinja *t)
{
	struct spath p;
	size_t i;

	for (i = 0; i < hfs_jinja_nvars(t); i++) {
		const char *var = hfs_jinja_var(t, i);

		if (!computed_var_ok(b, el, var, &p))
			return computed_err(b, el, a,
			                    "the '%s' variable is not found "
			                    "within the schema path",
			                    var);
		if (p.attr &&
		    strcmp(hfs_jstr(p.attr, "name"), hfs_jstr(a, "name")) == 0)
			return computed_err(
			        b, el, a,
			        "the '%s' variable is a reference to "
			        "itself",
			        var);
	}
	return 0;
}

/*
 * A Jinja2 template must parse and pass Infrahub's restricted filter
 * check (the SDK's Jinja2Template.validate); syntax errors read
 * "...template: : <message>", refusals "...template: <message>", as
 * Infrahub words them.
 */
static int check_jinja(struct hfs_build *b, const json_t *el, const json_t *a,
                       const char *tpl)
{
	hfs_jinja *t = NULL;
	hf_error e = HF_ERROR_INIT;
	char msg[1100];
	int rc = hfs_jinja_parse(&t, tpl, &e);

	if (rc == HF_ENOMEM)
		return hf_error_set(b->err, rc, "out of memory");
	if (rc < 0) {
		snprintf(msg, sizeof(msg), ": %s", e.msg);
		return computed_err(b, el, a,
		                    "is assigned by a jinja2 template, but has "
		                    "an invalid template: %s",
		                    msg);
	}
	rc = hfs_jinja_validate(t, &e);
	if (rc < 0)
		rc = computed_err(
		        b, el, a,
		        "is assigned by a jinja2 template, but has an "
		        "invalid template: %s",
		        e.msg);
	else
		rc = check_jinja_vars(b, el, a, t);
	hfs_jinja_free(t);
	return rc;
}

/*
 * Infrahub's _validate_computed_attribute (1.11): Text or URL only; a
 * Jinja2 one needs a template whose variables are schema paths; a
 * TransformPython one must be optional (the local endpoint cannot run a
 * repository's transform: it keeps the attribute read-only and empty).
 * Infrahub refuses one that is not read-only; schema_build.c's
 * step_defaults sets read_only first today, so that rule only bites once
 * it stops doing so.
 */
static int check_computed(struct hfs_build *b, const json_t *el,
                          const json_t *a)
{
	json_t *c = json_object_get(a, "computed_attribute");
	const char *ck = hfs_jstr(c, "kind"), *kind = hfs_jstr(a, "kind");
	const char *tpl = hfs_jstr(c, "jinja2_template");

	if (!json_is_object(c) || !ck || strcmp(ck, "User") == 0)
		return 0;
	if (!hfs_jtrue(a, "read_only"))
		return computed_err(b, el, a,
		                    "is a computed attribute but not marked as "
		                    "read_only");
	if (strcmp(ck, "Jinja2") != 0 && strcmp(ck, "TransformPython") != 0)
		return computed_err(b, el, a,
		                    "has an unknown computed attribute kind "
		                    "'%s' (expected 'User', 'Jinja2' or "
		                    "'TransformPython')",
		                    ck);
	if (!kind || (strcmp(kind, "Text") != 0 && strcmp(kind, "URL") != 0))
		return computed_err(b, el, a,
		                    "is a computed attribute only %s kinds are "
		                    "supported.",
		                    "['Text', 'URL']");
	if (strcmp(ck, "TransformPython") == 0)
		return hfs_jtrue(a, "optional")
		               ? 0
		               : computed_err(
		                         b, el, a,
		                         "is a computed transform, it can't "
		                         "be mandatory");
	if (!tpl || !*tpl)
		return computed_err(
		        b, el, a,
		        "is a computed jinja2 attribute but no logic "
		        "is defined");
	return check_jinja(b, el, a, tpl);
}

/* Every attribute of every node, inherited ones included, as Infrahub. */
static int v_computed(struct hfs_build *b, json_t *el, int type)
{
	json_t *a;
	size_t i;

	if (type != HFS_T_NODE)
		return 0;
	json_array_foreach(hfs_jarr(el, "attributes"), i, a)
	{
		if (check_computed(b, el, a) < 0)
			return HF_EINVAL;
	}
	return 0;
}

static int v_defaults(struct hfs_build *b, json_t *el, int type)
{
	json_t *a, *norm = NULL;
	size_t i;
	hf_error e = HF_ERROR_INIT;

	if (generic_template(el, type))
		return 0;
	json_array_foreach(hfs_jarr(el, "attributes"), i, a)
	{
		json_t *dv = json_object_get(a, "default_value");
		int rc;

		if (hfs_jtrue(a, "inherited"))
			continue;
		if (json_is_null(dv))
			continue;
		rc = hfs_attr_check_json(a, dv, &norm, &e);
		json_decref(norm);
		if (rc == HF_ENOMEM)
			return hf_error_set(b->err, rc, "out of memory");
		if (rc < 0)
			return hf_error_set(b->err, HF_EINVAL,
			                    "%s: default value %s",
			                    hfs_jstr(el, "kind"), e.msg);
	}
	return 0;
}

static int v_counts(struct hfs_build *b, json_t *el, int type)
{
	const char *kind = hfs_jstr(el, "kind");
	json_t *r;
	size_t i;

	(void)type;
	json_array_foreach(hfs_jarr(el, "relationships"), i, r)
	{
		json_int_t min =
		        json_integer_value(json_object_get(r, "min_count"));
		json_int_t max =
		        json_integer_value(json_object_get(r, "max_count"));
		const char *name = hfs_jstr(r, "name");

		if (strcmp(hfs_jstr(r, "cardinality"), "one") == 0) {
			if (!hfs_jtrue(r, "optional") && (min != 1 || max != 1))
				return hf_error_set(
				        b->err, HF_EINVAL,
				        "%s: Relationship '%s' is defined as "
				        "cardinality.ONE but min_count or "
				        "max_count are not 1",
				        kind, name);
			continue;
		}
		if (max && min > max)
			return hf_error_set(b->err, HF_EINVAL,
			                    "%s: Relationship '%s' min_count "
			                    "must be lower than max_count",
			                    kind, name);
		if (max == 1)
			return hf_error_set(b->err, HF_EINVAL,
			                    "%s: Relationship '%s' max_count "
			                    "must be 0 or greater than 1 when "
			                    "cardinality is MANY",
			                    kind, name);
	}
	return 0;
}

static int v_identifiers(struct hfs_build *b, json_t *el, int type)
{
	json_t *rels = hfs_jarr(el, "relationships"), *r, *o;
	size_t i, j;

	(void)type;
	json_array_foreach(rels, i, r)
	{
		const char *id = hfs_jstr(r, "identifier");
		int n = 1, in = 0, out = 0;

		json_array_foreach(rels, j, o)
		{
			const char *d = hfs_jstr(o, "direction");

			if (strcmp(hfs_jstr(o, "identifier"), id) != 0)
				continue;
			n += j != i;
			in += strcmp(d, "inbound") == 0;
			out += strcmp(d, "outbound") == 0;
		}
		if (n == 1 || (n == 2 && in == 1 && out == 1))
			continue;
		return hf_error_set(b->err, HF_EINVAL,
		                    "%s: Identifier of relationships must be "
		                    "unique for a given direction > '%s'",
		                    hfs_jstr(el, "kind"), id);
	}
	return 0;
}

static int uniq_has_single(const json_t *uc, const char *path)
{
	json_t *c;
	size_t i;

	json_array_foreach(
	        uc, i, c) if (json_array_size(c) == 1 &&
	                      strcmp(json_string_value(json_array_get(c, 0)),
	                             path) == 0) return 1;
	return 0;
}

/*
 * Unique attributes and single-attribute uniqueness constraints describe
 * the same thing: make each side complete.
 */
static int v_sync_unique(struct hfs_build *b, json_t *el, int type)
{
	json_t *uc = json_object_get(el, "uniqueness_constraints"), *c, *a;
	hf_buf p = HF_BUF_INIT;
	size_t i;
	int bad = 0;

	if (generic_template(el, type))
		return 0;
	json_array_foreach(uc, i, c)
	{
		const char *path = json_string_value(json_array_get(c, 0));
		struct spath sp;

		if (json_array_size(c) != 1 || !path ||
		    parse_path(b, el, path, &sp) < 0)
			continue;
		if (sp.attr && strcmp(sp.prop, "value") == 0)
			bad |= json_object_set_new(sp.attr, "unique",
			                           json_true());
	}
	json_array_foreach(hfs_jarr(el, "attributes"), i, a)
	{
		if (!hfs_jtrue(a, "unique"))
			continue;
		hf_buf_reset(&p);
		hf_buf_addf(&p, "%s__value", hfs_jstr(a, "name"));
		if (hf_buf_failed(&p) || uniq_has_single(uc, p.ptr))
			continue;
		if (!json_is_array(uc)) {
			uc = json_array();
			bad |= json_object_set_new(el, "uniqueness_constraints",
			                           uc);
		}
		bad |= json_array_append_new(uc, json_pack("[s]", p.ptr));
	}
	bad |= hf_buf_failed(&p);
	hf_buf_release(&p);
	return bad ? hf_error_set(b->err, HF_ENOMEM, "out of memory") : 0;
}

static int v_uniq_paths(struct hfs_build *b, json_t *el, int type)
{
	json_t *c, *v;
	size_t i, j;

	(void)type;
	json_array_foreach(hfs_jarr(el, "uniqueness_constraints"), i, c)
	        json_array_foreach(
	                c, j, v) if (check_path(b, el, json_string_value(v),
	                                        P_ATTR_VALUE | P_REL_ONE_MAND,
	                                        "uniqueness_constraints") <
	                             0) return HF_EINVAL;
	return 0;
}

static int v_paths(struct hfs_build *b, json_t *el, int type)
{
	const char *df = hfs_jstr(el, "default_filter");
	json_t *v;
	size_t i;

	(void)type;
	json_array_foreach(
	        hfs_jarr(el, "display_labels"), i,
	        v) if (check_path(b, el, json_string_value(v),
	                          P_ATTR_VALUE | P_ATTR_PROP | P_ATTR_BARE,
	                          "display_labels") < 0) return HF_EINVAL;
	json_array_foreach(hfs_jarr(el, "order_by"), i,
	                   v) if (check_path(b, el, json_string_value(v),
	                                     P_ATTR_PROP | P_REL_ATTR,
	                                     "order_by") < 0) return HF_EINVAL;
	if (df && check_path(b, el, df, P_ATTR_VALUE, "default_filter") < 0)
		return HF_EINVAL;
	return 0;
}

static int parent_rels(struct hfs_build *b, const json_t *el, hf_buf *names,
                       const json_t **last)
{
	json_t *r, *g;
	size_t i, j;
	int n = 0;

	json_array_foreach(hfs_jarr(el, "relationships"), i, r)
	{
		if (strcmp(hfs_jstr(r, "kind"), "Parent") != 0 ||
		    hfs_jtrue(r, "inherited"))
			continue;
		hf_buf_addf(names, "%s'%s'", n++ ? ", " : "",
		            hfs_jstr(r, "name"));
		*last = r;
	}
	json_array_foreach(hfs_jarr(el, "inherit_from"), i, g)
	{
		json_t *gen =
		        json_object_get(b->generics, json_string_value(g));

		json_array_foreach(hfs_jarr(gen, "relationships"), j, r)
		{
			if (strcmp(hfs_jstr(r, "kind"), "Parent") != 0)
				continue;
			hf_buf_addf(names, "%s'%s'", n++ ? ", " : "",
			            hfs_jstr(r, "name"));
			*last = r;
		}
	}
	return n;
}

static int v_parent(struct hfs_build *b, json_t *el, int type)
{
	const char *kind = hfs_jstr(el, "kind");
	hf_buf names = HF_BUF_INIT;
	const json_t *r = NULL;
	int n, rc = 0;

	if (generic_template(el, type))
		return 0;
	n = parent_rels(b, el, &names, &r);
	if (n > 1)
		rc = hf_error_set(b->err, HF_EINVAL,
		                  "%s: Only one relationship of type parent is "
		                  "allowed, but all the following are of type "
		                  "parent: [%s]",
		                  kind, names.ptr);
	else if (n == 1 && strcmp(hfs_jstr(r, "cardinality"), "one") != 0)
		rc = hf_error_set(b->err, HF_EINVAL,
		                  "%s.%s: Relationship of type parent must be "
		                  "cardinality=one",
		                  kind, hfs_jstr(r, "name"));
	else if (n == 1 && hfs_jtrue(r, "optional"))
		rc = hf_error_set(b->err, HF_EINVAL,
		                  "%s.%s: Relationship of type parent must not "
		                  "be optional",
		                  kind, hfs_jstr(r, "name"));
	hf_buf_release(&names);
	return rc;
}

static int v_hfid(struct hfs_build *b, json_t *el, int type)
{
	json_t *v;
	size_t i;

	if (generic_template(el, type))
		return 0;
	json_array_foreach(
	        hfs_jarr(el, "human_friendly_id"), i,
	        v) if (check_path(b, el, json_string_value(v),
	                          P_ATTR_VALUE | P_REL_ATTR | P_REL_MAND,
	                          "human_friendly_id") < 0) return HF_EINVAL;
	return 0;
}

static int v_required(struct hfs_build *b, json_t *el, int type)
{
	const char *kind = hfs_jstr(el, "kind");
	json_t *r, *peer, *pr;
	size_t i, j;

	if (generic_template(el, type))
		return 0;
	json_array_foreach(hfs_jarr(el, "relationships"), i, r)
	{
		if (hfs_jtrue(r, "optional"))
			continue;
		peer = hfs_build_get(b, hfs_jstr(r, "peer"), NULL);
		json_array_foreach(hfs_jarr(peer, "relationships"), j, pr)
		{
			if (hfs_jtrue(pr, "optional") ||
			    strcmp(hfs_jstr(pr, "peer"), kind) != 0 ||
			    strcmp(hfs_jstr(el, "kind"),
			           hfs_jstr(peer, "kind")) == 0)
				continue;
			return hf_error_set(b->err, HF_EINVAL,
			                    "'%s' and '%s' cannot both have "
			                    "required relationships to one "
			                    "another.",
			                    hfs_jstr(peer, "kind"), kind);
		}
	}
	return 0;
}

int hfs_build_validate(struct hfs_build *b)
{
	static const hfs_step_fn steps[] = {
		v_names,  v_peers,       v_computed,    v_defaults,
		v_counts, v_identifiers, v_sync_unique, v_uniq_paths,
		v_paths,  v_parent,      v_hfid,        v_required,
		NULL,
	};
	size_t i;
	int rc = 0;

	for (i = 0; steps[i] && rc == 0; i++)
		rc = hfs_build_each(b, NG, steps[i]);
	return rc;
}

/* ---- HFID derivation ---- */

static int hfid_from_unique(json_t *el)
{
	json_t *a;
	size_t i;

	json_array_foreach(hfs_jarr(el, "attributes"), i, a)
	{
		hf_buf p = HF_BUF_INIT;
		int rc;

		if (!hfs_jtrue(a, "unique"))
			continue;
		hf_buf_addf(&p, "%s__value", hfs_jstr(a, "name"));
		rc = hf_buf_failed(&p)
		             ? HF_ENOMEM
		             : json_object_set_new(el, "human_friendly_id",
		                                   json_pack("[s]", p.ptr));
		hf_buf_release(&p);
		return rc ? HF_ENOMEM : 1;
	}
	return 0;
}

static int hfid_from_uniq(struct hfs_build *b, json_t *el)
{
	json_t *c;
	size_t i;

	json_array_foreach(hfs_jarr(el, "uniqueness_constraints"), i, c)
	{
		const char *path = json_string_value(json_array_get(c, 0));
		struct spath sp;

		if (json_array_size(c) != 1 || !path ||
		    parse_path(b, el, path, &sp) < 0 || !sp.attr ||
		    strcmp(sp.prop, "value") != 0)
			continue;
		return json_object_set_new(el, "human_friendly_id",
		                           json_pack("[s]", path))
		               ? HF_ENOMEM
		               : 1;
	}
	return 0;
}

static int uniq_from_hfid(struct hfs_build *b, json_t *el)
{
	json_t *uc = json_array(), *v;
	size_t i;
	int bad = !uc;

	json_array_foreach(hfs_jarr(el, "human_friendly_id"), i, v)
	{
		const char *path = json_string_value(v);
		struct spath sp;

		if (parse_path(b, el, path, &sp) < 0)
			continue;
		bad |= json_array_append_new(
		        uc,
		        json_string(sp.rel ? hfs_jstr(sp.rel, "name") : path));
	}
	bad |= json_object_set_new(el, "uniqueness_constraints",
	                           json_pack("[o]", uc));
	return bad ? HF_ENOMEM : 0;
}

static int step_hfid(struct hfs_build *b, json_t *el, int type)
{
	int rc = 0;

	if (generic_template(el, type))
		return 0;
	if (!json_array_size(hfs_jarr(el, "human_friendly_id"))) {
		rc = hfid_from_unique(el);
		if (rc == 0)
			rc = hfid_from_uniq(b, el);
	}
	if (rc >= 0 && json_array_size(hfs_jarr(el, "human_friendly_id")) &&
	    !json_array_size(hfs_jarr(el, "uniqueness_constraints")))
		rc = uniq_from_hfid(b, el);
	return rc < 0 ? hf_error_set(b->err, HF_ENOMEM, "out of memory") : 0;
}

int hfs_build_hfid(struct hfs_build *b)
{
	return hfs_build_each(b, NG, step_hfid);
}
