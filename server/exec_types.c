/*
 * The GraphQL type system Infrahub generates from a schema, described by
 * rules rather than materialised: a type is (what, kind, attribute), and
 * field_of() says which fields it has. Validation walks the operation
 * with it before anything runs, as graphql-core does, so an unknown field
 * or argument fails the whole request with data null.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "exec_int.h"
#include "hf/alloc.h"
#include "pool.h"

#include "hf/banned.h"

enum { XW_LIST = 1, XW_NONNULL = 2 };

static const char *const op_suffix[] = { "Create", "Update", "Upsert",
	                                 "Delete" };

const char *xt_attr_type(const char *k)
{
	static const struct {
		const char *kind;
		const char *type;
	} map[] = {
		{ "Number", "NumberAttribute" },
		{ "Bandwidth", "NumberAttribute" },
		{ "Boolean", "CheckboxAttribute" },
		{ "Checkbox", "CheckboxAttribute" },
		{ "Dropdown", "Dropdown" },
		{ "IPHost", "IPHost" },
		{ "IPNetwork", "IPNetwork" },
		{ "List", "ListAttribute" },
		{ "JSON", "JSONAttribute" },
		{ "Any", "AnyAttribute" },
		{ "MacAddress", "MacAddress" },
	};
	size_t i;

	for (i = 0; k && i < sizeof(map) / sizeof(map[0]); i++) {
		if (!strcmp(map[i].kind, k))
			return map[i].type;
	}
	return "TextAttribute";
}

const char *xt_name(const struct xtype *t, char *buf, size_t len)
{
	const char *k = t->k ? t->k->kind : "";

	switch (t->t) {
	case XT_QUERY:
		return "Query";
	case XT_MUTATION:
		return "Mutation";
	case XT_PAGINATED:
		snprintf(buf, len, "Paginated%s", k);
		break;
	case XT_EDGED:
		snprintf(buf, len, "Edged%s", k);
		break;
	case XT_NODE:
		snprintf(buf, len, "%s", k);
		break;
	case XT_NPAGINATED:
		snprintf(buf, len, "NestedPaginated%s", k);
		break;
	case XT_NEDGED:
		snprintf(buf, len, "NestedEdged%s", k);
		break;
	case XT_RELPROP:
		return "RelationshipProperty";
	case XT_ATTR:
		return xt_attr_type(t->a ? t->a->kind : NULL);
	case XT_LINEAGE:
		return "LineageSource";
	case XT_PERM_PAGE:
		return "PaginatedObjectPermission";
	case XT_PERM_EDGE:
		return "ObjectPermissionNode";
	case XT_PERM_NODE:
		return "ObjectPermission";
	case XT_ATTR_PERM:
		return "AttributePermission";
	case XT_MUT_OUT:
	case XT_BRANCH_OUT:
		snprintf(buf, len, "%s", t->scalar);
		break;
	case XT_BRANCH:
		return "Branch";
	case XT_INFO:
		return "Info";
	case XT_TASK:
		return "TaskInfo";
	case XT_SCALAR:
		return t->scalar;
	case XT_NODE_META:
		return "NodeMetadata";
	case XT_REL_META:
		return "RelationshipMetadata";
	case XT_POOL_OUT: /* InfrahubIPAddressPoolGetResource: the class */
		snprintf(buf, len, "%s", t->scalar + strlen("Infrahub"));
		break;
	case XT_POOL_NODE:
		return "PoolAllocatedNode";
	case XT_NEXT_ADDR:
		return "IPAddressGetNextAvailable";
	case XT_NEXT_PREFIX:
		return "IPPrefixGetNextAvailable";
	default:
		return "Unknown";
	}
	return buf;
}

static int set(struct xtype *out, enum xt t, const struct hfs_kind *k,
               const struct hfs_attr *a, const char *scalar)
{
	out->t = t;
	out->k = k;
	out->a = a;
	out->scalar = scalar;
	return 1;
}

static int scalar(struct xtype *out, const char *type)
{
	return set(out, XT_SCALAR, NULL, NULL, type);
}

static int name_in(const char *name, const char *const *list)
{
	for (; *list; list++) {
		if (!strcmp(name, *list))
			return 1;
	}
	return 0;
}

/* "BuiltinTagCreate" -> kind and operation index; -1 when not one. */
int xt_mutation_kind(const hfs_schema *s, const char *name,
                     const struct hfs_kind **k)
{
	size_t n = strlen(name), i, sl;
	char kind[256];

	for (i = 0; i < 4; i++) {
		sl = strlen(op_suffix[i]);
		if (n <= sl || n - sl >= sizeof(kind) ||
		    strcmp(name + n - sl, op_suffix[i]))
			continue;
		memcpy(kind, name, n - sl);
		kind[n - sl] = '\0';
		*k = hfs_schema_kind(s, kind);
		if (!*k)
			return -1;
		if ((*k)->is_generic && i != 1)
			return -1;
		return (int)i;
	}
	return -1;
}

static int query_field(const struct xreq *r, const char *name,
                       struct xtype *out)
{
	const struct hfs_kind *k;

	if (!strcmp(name, "Branch"))
		return set(out, XT_BRANCH, NULL, NULL, NULL);
	if (!strcmp(name, "InfrahubInfo"))
		return set(out, XT_INFO, NULL, NULL, NULL);
	if (xp_field_of(NULL, name, 0, out))
		return 1;
	k = hfs_schema_kind(r->s, name);
	if (k && strcmp(k->namespace, "Internal"))
		return set(out, XT_PAGINATED, k, NULL, NULL);
	return 0;
}

static int mutation_field(const struct xreq *r, const char *name,
                          struct xtype *out)
{
	const struct hfs_kind *k = NULL;

	if (xbr_is_mutation(name))
		return set(out, XT_BRANCH_OUT, NULL, NULL, name);
	if (xp_field_of(NULL, name, 1, out))
		return 1;
	if (!strcmp(name, "RelationshipAdd") ||
	    !strcmp(name, "RelationshipRemove"))
		return set(out, XT_MUT_OUT, NULL, NULL, name);
	if (xt_mutation_kind(r->s, name, &k) >= 0)
		return set(out, XT_MUT_OUT, k, NULL, name);
	return 0;
}

/* ancestors, descendants: NestedPaginated<the hierarchy generic>. */
static int hier_field(const struct xreq *r, const struct hfs_kind *k,
                      struct xtype *out)
{
	const struct hfs_kind *h = NULL;

	if (k->hierarchy)
		h = hfs_schema_kind(r->s, k->hierarchy);
	else if (k->hierarchical)
		h = k;
	return h ? set(out, XT_NPAGINATED, h, NULL, NULL) : 0;
}

static int node_field(const struct xreq *r, const struct hfs_kind *k,
                      const char *name, struct xtype *out)
{
	const struct hfs_attr *a;
	const struct hfs_rel *rel;
	const struct hfs_kind *peer;

	if (!strcmp(name, "id"))
		return scalar(out, "String!");
	if (!strcmp(name, "hfid"))
		return scalar(out, "[String]");
	if (!strcmp(name, "display_label"))
		return scalar(out, "String");
	if (!strcmp(name, "_updated_at"))
		return scalar(out, "DateTime");
	/* Infrahub 1.7+: node_metadata { created_at updated_at ... } */
	if (!strcmp(name, "node_metadata"))
		return set(out, XT_NODE_META, NULL, NULL, NULL);
	if (!k)
		return 0;
	a = hfs_kind_attr(k, name);
	if (a)
		return set(out, XT_ATTR, k, a, NULL);
	rel = hfs_kind_rel(k, name);
	if (!rel &&
	    (!strcmp(name, "ancestors") || !strcmp(name, "descendants")))
		return hier_field(r, k, out);
	if (!rel)
		return 0;
	peer = hfs_schema_kind(r->s, rel->peer);
	return set(out, rel->many ? XT_NPAGINATED : XT_NEDGED, peer, NULL,
	           NULL);
}

static int attr_field(const struct hfs_attr *a, const char *name,
                      struct xtype *out)
{
	static const char *const bools[] = { "is_default",   "is_from_profile",
		                             "is_inherited", "is_visible",
		                             "is_protected", NULL };
	static const char *const drop[] = { "label", "color", "description",
		                            NULL };
	static const char *const host[] = { "ip",           "hostmask",
		                            "netmask",      "with_hostmask",
		                            "with_netmask", NULL };
	const char *k = a ? a->kind : "";
	int ip = !strcmp(k, "IPHost") || !strcmp(k, "IPNetwork");

	if (!strcmp(name, "value"))
		return scalar(out, "GenericScalar");
	if (!strcmp(name, "id"))
		return scalar(out, "String");
	if (!strcmp(name, "updated_at"))
		return scalar(out, "DateTime");
	if (name_in(name, bools))
		return scalar(out, "Boolean");
	if (!strcmp(name, "source") || !strcmp(name, "owner"))
		return set(out, XT_LINEAGE, NULL, NULL, NULL);
	if (!strcmp(name, "permissions"))
		return set(out, XT_ATTR_PERM, NULL, NULL, NULL);
	if (!strcmp(k, "Dropdown") && name_in(name, drop))
		return scalar(out, "String");
	if (ip && name_in(name, host))
		return scalar(out, "String");
	if (ip && (!strcmp(name, "prefixlen") || !strcmp(name, "version")))
		return scalar(out, "Int");
	if (!strcmp(k, "IPNetwork") && !strcmp(name, "broadcast_address"))
		return scalar(out, "String");
	if (!strcmp(k, "IPNetwork") && !strcmp(name, "num_addresses"))
		return scalar(out, "BigInt");
	return 0;
}

static int misc_field(const struct xtype *t, const char *name,
                      struct xtype *out)
{
	static const char *const branch[] = { "id",
		                              "name",
		                              "description",
		                              "origin_branch",
		                              "branched_from",
		                              "created_at",
		                              "status",
		                              NULL };
	static const char *const bbools[] = { "sync_with_git", "is_default",
		                              "is_isolated",
		                              "has_schema_changes", NULL };
	static const char *const perm[] = { "kind",   "view",   "create",
		                            "update", "delete", NULL };

	switch (t->t) {
	case XT_RELPROP:
		if (!strcmp(name, "source") || !strcmp(name, "owner"))
			return set(out, XT_LINEAGE, NULL, NULL, NULL);
		if (!strcmp(name, "updated_at"))
			return scalar(out, "DateTime");
		if (!strcmp(name, "is_visible") ||
		    !strcmp(name, "is_protected"))
			return scalar(out, "Boolean");
		return 0;
	case XT_LINEAGE:
		if (!strcmp(name, "id"))
			return scalar(out, "String!");
		return !strcmp(name, "display_label") ? scalar(out, "String")
		                                      : 0;
	case XT_BRANCH:
		if (name_in(name, branch))
			return scalar(out, "String");
		return name_in(name, bbools) ? scalar(out, "Boolean") : 0;
	case XT_INFO:
		if (!strcmp(name, "version") || !strcmp(name, "deployment_id"))
			return scalar(out, "String!");
		return 0;
	case XT_TASK:
		return !strcmp(name, "id") ? scalar(out, "String") : 0;
	case XT_PERM_PAGE:
		if (!strcmp(name, "count"))
			return scalar(out, "Int!");
		return !strcmp(name, "edges")
		               ? set(out, XT_PERM_EDGE, NULL, NULL, NULL)
		               : 0;
	case XT_PERM_EDGE:
		return !strcmp(name, "node")
		               ? set(out, XT_PERM_NODE, NULL, NULL, NULL)
		               : 0;
	case XT_PERM_NODE:
		return name_in(name, perm) ? scalar(out, "String") : 0;
	case XT_ATTR_PERM:
		return !strcmp(name, "update_value") ? scalar(out, "String")
		                                     : 0;
	case XT_NODE_META:
	case XT_REL_META:
		if (!strcmp(name, "updated_at") ||
		    (t->t == XT_NODE_META && !strcmp(name, "created_at")))
			return scalar(out, "DateTime");
		if (!strcmp(name, "updated_by") ||
		    (t->t == XT_NODE_META && !strcmp(name, "created_by")))
			return set(out, XT_LINEAGE, NULL, NULL, NULL);
		return 0;
	case XT_POOL_OUT:
	case XT_POOL_NODE:
	case XT_NEXT_ADDR:
	case XT_NEXT_PREFIX:
		return xp_field_of(t, name, 0, out);
	default:
		return 0;
	}
}

static int out_field(const struct xtype *t, const char *name, struct xtype *out)
{
	if (!strcmp(name, "ok"))
		return scalar(out, "Boolean");
	if (t->t == XT_MUT_OUT) {
		if (strcmp(name, "object") || !t->k)
			return 0;
		return set(out, XT_NODE, t->k, NULL, NULL);
	}
	if (!strcmp(name, "object"))
		return set(out, XT_BRANCH, NULL, NULL, NULL);
	if (!strcmp(name, "task"))
		return set(out, XT_TASK, NULL, NULL, NULL);
	if (!strcmp(name, "messages"))
		return scalar(out, "[String]");
	return 0;
}

/* The type of field `name` of `t`; 0 when `t` has no such field. */
static int field_of(const struct xreq *r, const struct xtype *t,
                    const char *name, struct xtype *out)
{
	memset(out, 0, sizeof(*out));
	if (!strcmp(name, "__typename"))
		return scalar(out, "String!");
	switch (t->t) {
	case XT_QUERY:
		return query_field(r, name, out);
	case XT_MUTATION:
		return mutation_field(r, name, out);
	case XT_PAGINATED:
	case XT_NPAGINATED:
		if (!strcmp(name, "count"))
			return scalar(out, "Int");
		if (!strcmp(name, "permissions"))
			return set(out, XT_PERM_PAGE, NULL, NULL, NULL);
		return !strcmp(name, "edges")
		               ? set(out,
		                     t->t == XT_PAGINATED ? XT_EDGED
		                                          : XT_NEDGED,
		                     t->k, NULL, NULL)
		               : 0;
	case XT_EDGED:
		if (!strcmp(name, "node_metadata"))
			return set(out, XT_NODE_META, NULL, NULL, NULL);
		return !strcmp(name, "node")
		               ? set(out, XT_NODE, t->k, NULL, NULL)
		               : 0;
	case XT_NEDGED:
		if (!strcmp(name, "properties"))
			return set(out, XT_RELPROP, NULL, NULL, NULL);
		/* SDK 1.x include_metadata selects these beside node */
		if (!strcmp(name, "node_metadata"))
			return set(out, XT_NODE_META, NULL, NULL, NULL);
		if (!strcmp(name, "relationship_metadata"))
			return set(out, XT_REL_META, NULL, NULL, NULL);
		return !strcmp(name, "node")
		               ? set(out, XT_NODE, t->k, NULL, NULL)
		               : 0;
	case XT_NODE:
		return node_field(r, t->k, name, out);
	case XT_ATTR:
		return attr_field(t->a, name, out);
	case XT_MUT_OUT:
	case XT_BRANCH_OUT:
		return out_field(t, name, out);
	default:
		return misc_field(t, name, out);
	}
}

/* ---- arguments ----------------------------------------------------------- */

static int attr_filter_ok(const struct xsplit *sp)
{
	static const char *const props[] = { "value",           "values",
		                             "isnull",          "is_visible",
		                             "is_protected",    "is_default",
		                             "is_from_profile", "source",
		                             "owner",           NULL };

	if (sp->n == 2)
		return name_in(sp->p[1], props);
	/* <attr>__source__id, <attr>__owner__id */
	return sp->n == 3 && !strcmp(sp->p[2], "id") &&
	       (!strcmp(sp->p[1], "source") || !strcmp(sp->p[1], "owner"));
}

static int filter_ok(const struct xreq *r, const struct hfs_kind *k,
                     const char *arg)
{
	const struct hfs_rel *rel;
	const struct hfs_kind *peer;
	struct xsplit sp, rest;

	if (!k)
		return 0;
	xsplit_path(&sp, arg);
	if (sp.n < 2)
		return 0;
	if (!strcmp(sp.p[0], "any"))
		return sp.n == 2 && (!strcmp(sp.p[1], "value") ||
		                     !strcmp(sp.p[1], "values"));
	if (hfs_kind_attr(k, sp.p[0]))
		return attr_filter_ok(&sp);
	rel = hfs_kind_rel(k, sp.p[0]);
	if (!rel)
		return 0;
	if (sp.n == 2)
		return !strcmp(sp.p[1], "ids") || !strcmp(sp.p[1], "isnull");
	peer = hfs_schema_kind(r->s, rel->peer);
	if (!peer || !hfs_kind_attr(peer, sp.p[1]))
		return 0;
	xsplit_path(&rest, sp.p[2]);
	snprintf(rest.p[1], sizeof(rest.p[1]), "%s", sp.p[2]);
	rest.n = 2;
	return attr_filter_ok(&rest);
}

static int arg_ok(const struct xreq *r, const struct xtype *parent,
                  const struct xtype *ft, const char *field, const char *arg)
{
	static const char *const top[] = { "offset",        "limit", "ids",
		                           "partial_match", "order", NULL };
	static const char *const nested[] = {
		"offset",        "limit",
		"ids",           "isnull",
		"partial_match", "include_descendants",
		"order",         NULL
	};
	static const char *const bops[] = { "data", "background_execution",
		                            "wait_until_completion", "context",
		                            NULL };

	switch (parent->t) {
	case XT_QUERY:
		if (ft->t == XT_BRANCH)
			return !strcmp(arg, "ids") || !strcmp(arg, "name");
		if (ft->t == XT_NEXT_ADDR || ft->t == XT_NEXT_PREFIX)
			return xp_arg_ok(field, arg);
		if (ft->t != XT_PAGINATED)
			return 0;
		/* hfid is a filter only for kinds that define one */
		if (!strcmp(arg, "hfid"))
			return ft->k && ft->k->hfid.n > 0;
		return name_in(arg, top) || filter_ok(r, ft->k, arg);
	case XT_MUTATION:
		if (ft->t == XT_BRANCH_OUT)
			return name_in(arg, bops);
		return !strcmp(arg, "data") || !strcmp(arg, "context");
	case XT_NODE:
		if (ft->t != XT_NPAGINATED)
			return 0;
		(void)field;
		return name_in(arg, nested) || filter_ok(r, ft->k, arg);
	default:
		return 0;
	}
}

/* ---- validation walk ----------------------------------------------------- */

struct vctx {
	struct xreq *r;
	struct xmap frags; /* fragment names already checked */
	int nerr;
	int too_deep; /* the depth error was reported */
};

static void verror(struct vctx *c, int line, int col, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static void verror(struct vctx *c, int line, int col, const char *fmt, ...)
{
	json_t *e, *loc;
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->nerr++;
	e = json_pack("{ss}", "message", msg);
	loc = json_pack("[{sisi}]", "line", line, "column", col);
	if (e && loc)
		json_object_set(e, "locations", loc);
	json_decref(loc);
	if (e)
		json_array_append_new(c->r->errors, e);
}

static int type_by_name(const struct xreq *r, const char *name,
                        struct xtype *out)
{
	static const struct {
		const char *prefix;
		enum xt t;
	} pre[] = {
		{ "NestedPaginated", XT_NPAGINATED },
		{ "NestedEdged", XT_NEDGED },
		{ "Paginated", XT_PAGINATED },
		{ "Edged", XT_EDGED },
	};
	const struct hfs_kind *k = hfs_schema_kind(r->s, name);
	size_t i, n;

	memset(out, 0, sizeof(*out));
	if (k)
		return set(out, XT_NODE, k, NULL, NULL);
	if (!strcmp(name, "Query"))
		return set(out, XT_QUERY, NULL, NULL, NULL);
	if (!strcmp(name, "Mutation"))
		return set(out, XT_MUTATION, NULL, NULL, NULL);
	if (!strcmp(name, "RelationshipProperty"))
		return set(out, XT_RELPROP, NULL, NULL, NULL);
	if (!strcmp(name, "Branch"))
		return set(out, XT_BRANCH, NULL, NULL, NULL);
	for (i = 0; i < sizeof(pre) / sizeof(pre[0]); i++) {
		n = strlen(pre[i].prefix);
		if (strncmp(name, pre[i].prefix, n))
			continue;
		k = hfs_schema_kind(r->s, name + n);
		return k ? set(out, pre[i].t, k, NULL, NULL) : 0;
	}
	if (strstr(name, "Attribute") || !strcmp(name, "Dropdown") ||
	    !strcmp(name, "IPHost") || !strcmp(name, "IPNetwork"))
		return set(out, XT_ATTR, NULL, NULL, NULL);
	return 0;
}

/* Whether objects of `parent` can ever be of type `cond`. */
static int can_overlap(const struct xreq *r, const struct xtype *parent,
                       const struct xtype *cond)
{
	size_t i;

	if (parent->t == XT_LINEAGE && cond->t == XT_NODE)
		return 1;
	if (parent->t != XT_NODE || cond->t != XT_NODE)
		return parent->t == cond->t && parent->k == cond->k;
	if (!parent->k || !cond->k || parent->k == cond->k)
		return 1;
	if (hfs_schema_is_a(r->s, cond->k->kind, parent->k->kind) ||
	    hfs_schema_is_a(r->s, parent->k->kind, cond->k->kind))
		return 1;
	for (i = 0; cond->k->is_generic && i < cond->k->used_by.n; i++) {
		if (hfs_schema_is_a(r->s, cond->k->used_by.v[i],
		                    parent->k->kind))
			return 1;
	}
	return 0;
}

static void v_sels(struct vctx *c, const struct xtype *t,
                   const struct hfs_gql_selection *sel, int depth);

static void v_leaf(struct vctx *c, const struct hfs_gql_selection *f,
                   const struct xtype *ft)
{
	char tn[300];

	if (ft->t == XT_SCALAR && f->selections)
		verror(c, f->line, f->col,
		       "Field '%s' must not have a selection since type '%s' "
		       "has no subfields.",
		       f->name, ft->scalar);
	else if (ft->t != XT_SCALAR && !f->selections)
		verror(c, f->line, f->col,
		       "Field '%s' of type '%s' must have a selection of "
		       "subfields. Did you mean '%s { ... }'?",
		       f->name, xt_name(ft, tn, sizeof(tn)), f->name);
}

static void v_field(struct vctx *c, const struct xtype *t,
                    const struct hfs_gql_selection *f, int depth)
{
	const struct hfs_gql_arg *a;
	struct xtype ft;
	char tn[300];

	if (!field_of(c->r, t, f->name, &ft)) {
		verror(c, f->line, f->col,
		       "Cannot query field '%s' on type '%s'.", f->name,
		       xt_name(t, tn, sizeof(tn)));
		return;
	}
	for (a = f->args; a; a = a->next) {
		if (arg_ok(c->r, t, &ft, f->name, a->name))
			continue;
		verror(c, a->line, a->col,
		       "Unknown argument '%s' on field '%s.%s'.", a->name,
		       xt_name(t, tn, sizeof(tn)), f->name);
	}
	v_leaf(c, f, &ft);
	if (ft.t != XT_SCALAR && f->selections)
		v_sels(c, &ft, f->selections, depth + 1);
}

static void v_cond(struct vctx *c, const struct xtype *t, const char *cond,
                   int line, int col, const char *frag,
                   const struct hfs_gql_selection *sels, int depth)
{
	struct xtype ct;
	char a[300], b[300];

	/*
	 * A fragment nests like a field does: a chain of spreads (F0 spreads
	 * F1, which spreads F2, ...) must reach the depth limit, not the end
	 * of the stack.
	 */
	if (!cond) {
		v_sels(c, t, sels, depth + 1);
		return;
	}
	if (!type_by_name(c->r, cond, &ct)) {
		verror(c, line, col, "Unknown type '%s'.", cond);
		return;
	}
	if (!can_overlap(c->r, t, &ct)) {
		if (frag)
			verror(c, line, col,
			       "Fragment '%s' cannot be spread here as objects "
			       "of type '%s' can never be of type '%s'.",
			       frag, xt_name(t, a, sizeof(a)),
			       xt_name(&ct, b, sizeof(b)));
		else
			verror(c, line, col,
			       "Fragment cannot be spread here as objects of "
			       "type '%s' can never be of type '%s'.",
			       xt_name(t, a, sizeof(a)),
			       xt_name(&ct, b, sizeof(b)));
		return;
	}
	if (frag && xmap_get(&c->frags, frag))
		return;
	if (frag)
		xmap_put(&c->frags, frag, (void *)1);
	v_sels(c, &ct, sels, depth + 1);
}

static void v_sels(struct vctx *c, const struct xtype *t,
                   const struct hfs_gql_selection *sel, int depth)
{
	const struct hfs_gql_fragment *fr;

	if (depth > HFS_GQL_MAX_DEPTH) {
		if (!c->too_deep++ && sel)
			verror(c, sel->line, sel->col,
			       "Query depth exceeds the limit of %d.",
			       HFS_GQL_MAX_DEPTH);
		return;
	}
	for (; sel; sel = sel->next) {
		switch (sel->kind) {
		case HFS_GQL_FIELD:
			v_field(c, t, sel, depth);
			break;
		case HFS_GQL_INLINE_FRAGMENT:
			v_cond(c, t, sel->type_cond, sel->line, sel->col, NULL,
			       sel->selections, depth);
			break;
		case HFS_GQL_FRAGMENT_SPREAD:
			fr = hfs_gql_doc_fragment(c->r->doc, sel->name);
			if (fr)
				v_cond(c, t, fr->type_cond, sel->line, sel->col,
				       fr->name, fr->selections, depth);
			break;
		}
	}
}

int xt_validate(struct xreq *r, const struct hfs_gql_operation *op)
{
	struct vctx c = { r, XMAP_INIT, 0, 0 };
	struct xtype root;

	memset(&root, 0, sizeof(root));
	root.t = op->kind == HFS_GQL_MUTATION ? XT_MUTATION : XT_QUERY;
	v_sels(&c, &root, op->selections, 0);
	xmap_release(&c.frags);
	return c.nerr;
}
