/*
 * The client's schema model. One arena holds every kind, field and string,
 * so parsing is a handful of large allocations and freeing is a walk over
 * its blocks; JSON values the model keeps (defaults, enums) are deep copies
 * held by one array. Lookups are binary searches over name-sorted indexes
 * built once at parse time.
 *
 * This is the engine's own reading of the schema; the local server has a
 * separate implementation on purpose, so that tests can catch a bug in
 * either.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/arena.h"
#include "hf/schema.h"
#include "hf/banned.h"

struct hf_kind {
	const hf_schema *schema; /* the owner, for peer lookups */
	const char *kind;
	const char *namespace_;
	const char *name;
	const char *label;
	const char *hash;
	const char *branch;
	const char *default_filter;
	const char *display_label;
	const char *hierarchy;
	const char *parent;
	const char *children;
	enum hf_kind_type type;
	bool hierarchical;
	size_t order; /* position in the answer: later wins */
	struct hf_strv hfid;
	struct hf_strv display_labels;
	struct hf_strv order_by;
	struct hf_strv inherit_from;
	struct hf_strv used_by;
	struct hf_strv *uniq;
	size_t nuniq;
	struct hf_schema_attr *attrs;
	size_t nattrs;
	struct hf_schema_rel *rels;
	size_t nrels;
	const struct hf_schema_attr **attr_idx; /* sorted by name */
	const struct hf_schema_rel **rel_idx;
	const hf_kind **impl; /* generics: implementing nodes, sorted */
	size_t nimpl;
};

struct hf_schema {
	hf_arena arena; /* every kind, field and string */
	json_t *keep; /* owns the JSON values the model points at */
	const char *hash;
	hf_kind **kinds; /* sorted by kind name */
	size_t nkinds;
};

/* Parse state: allocation failure is sticky, checked once per element. */
struct pctx {
	hf_schema *s;
	int oom;
	hf_error *err;
};

/* ---------------------------------------------------------------- arena */

/* The arena's allocations, with the parse's sticky out-of-memory flag. */
static void *arena_calloc(struct pctx *c, size_t n, size_t size)
{
	void *p = c->oom ? NULL : hf_arena_calloc(&c->s->arena, n, size);

	if (!p)
		c->oom = 1;
	return p;
}

static void *arena_alloc(struct pctx *c, size_t n)
{
	return arena_calloc(c, 1, n);
}

static const char *arena_strdup(struct pctx *c, const char *s)
{
	char *p = c->oom ? NULL : hf_arena_strdup(&c->s->arena, s);

	if (!p)
		c->oom = 1;
	return p;
}

/* ------------------------------------------------------ JSON accessors */

/* A string member copied into the arena; NULL when absent or not one. */
static const char *get_str(struct pctx *c, const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? arena_strdup(c, json_string_value(v)) : NULL;
}

static bool get_bool(const json_t *o, const char *key, bool dflt)
{
	const json_t *v = json_object_get(o, key);

	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

static long long get_int(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

/* A deep copy owned by the schema; NULL when absent or null. */
static const json_t *get_json(struct pctx *c, const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	json_t *copy;

	if (!v || json_is_null(v) || c->oom)
		return NULL;
	copy = json_deep_copy(v);
	if (!copy || json_array_append_new(c->s->keep, copy) < 0) {
		c->oom = 1;
		return NULL;
	}
	return copy;
}

/*
 * A list of strings: an array (non-strings skipped) or a lone string. For
 * choices, array elements may be objects with a "name".
 */
static struct hf_strv strv_from(struct pctx *c, const json_t *v)
{
	struct hf_strv sv = { NULL, 0 };
	const char **out;
	const json_t *e, *name;
	size_t i, n = 0;

	if (json_is_string(v)) {
		out = arena_calloc(c, 1, sizeof(*out));
		if (!out)
			return sv;
		out[0] = arena_strdup(c, json_string_value(v));
		sv.v = out;
		sv.n = 1;
		return sv;
	}
	if (!json_is_array(v) || json_array_size(v) == 0)
		return sv;
	out = arena_calloc(c, json_array_size(v), sizeof(*out));
	if (!out)
		return sv;
	json_array_foreach(v, i, e)
	{
		name = json_is_object(e) ? json_object_get(e, "name") : e;
		if (json_is_string(name))
			out[n++] = arena_strdup(c, json_string_value(name));
	}
	sv.v = out;
	sv.n = n;
	return sv;
}

static struct hf_strv get_strv(struct pctx *c, const json_t *o, const char *key)
{
	return strv_from(c, json_object_get(o, key));
}

/* ---------------------------------------------------------- type checks */

/*
 * The JSON type each member the model reads must have; null is always
 * allowed (Infrahub sends null for unset). A member of another type is an
 * error naming it, never a silent default: a plan built on `optional:
 * "false"` read as optional would be wrong without a word.
 */
enum jtype { J_STR, J_BOOL, J_UINT, J_STRV, J_ENUM, J_CHOICES, J_UNIQ, J_OBJ };

struct jfield {
	const char *key;
	enum jtype type;
};

static const struct jfield attr_fields[] = {
	{ "kind", J_STR },        { "label", J_STR },
	{ "optional", J_BOOL },   { "unique", J_BOOL },
	{ "read_only", J_BOOL },  { "inherited", J_BOOL },
	{ "choices", J_CHOICES }, { "enum", J_ENUM },
	{ "regex", J_STR },       { "min_length", J_UINT },
	{ "max_length", J_UINT }, { "branch", J_STR },
	{ "state", J_STR },       { "computed_attribute", J_OBJ },
	{ NULL, J_STR },
};

static const struct jfield computed_fields[] = {
	{ "kind", J_STR },
	{ "jinja2_template", J_STR },
	{ NULL, J_STR },
};

static const struct jfield rel_fields[] = {
	{ "label", J_STR },      { "kind", J_STR },
	{ "identifier", J_STR }, { "cardinality", J_STR },
	{ "direction", J_STR },  { "optional", J_BOOL },
	{ "read_only", J_BOOL }, { "inherited", J_BOOL },
	{ "min_count", J_UINT }, { "max_count", J_UINT },
	{ "on_delete", J_STR },  { "hierarchical", J_STR },
	{ "branch", J_STR },     { "state", J_STR },
	{ NULL, J_STR },
};

static const struct jfield kind_fields[] = {
	{ "kind", J_STR },
	{ "namespace", J_STR },
	{ "name", J_STR },
	{ "label", J_STR },
	{ "hash", J_STR },
	{ "branch", J_STR },
	{ "default_filter", J_STR },
	{ "display_label", J_STR },
	{ "hierarchy", J_STR },
	{ "parent", J_STR },
	{ "children", J_STR },
	{ "state", J_STR },
	{ "hierarchical", J_BOOL },
	{ "human_friendly_id", J_STRV },
	{ "display_labels", J_STRV },
	{ "order_by", J_STRV },
	{ "inherit_from", J_STRV },
	{ "used_by", J_STRV },
	{ "uniqueness_constraints", J_UNIQ },
	{ NULL, J_STR },
};

static const char *const jtype_names[] = {
	[J_STR] = "a string",
	[J_BOOL] = "a boolean",
	[J_UINT] = "a non-negative integer",
	[J_STRV] = "a list of strings",
	[J_ENUM] = "a list of strings and numbers",
	[J_CHOICES] = "a list of choices with names",
	[J_UNIQ] = "a list of lists of strings",
	[J_OBJ] = "an object",
};

/* A list of strings (a lone string too, as trimmed answers give). */
static bool is_strv(const json_t *v)
{
	const json_t *e;
	size_t i;

	if (json_is_string(v))
		return true;
	if (!json_is_array(v))
		return false;
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e))
			return false;
	}
	return true;
}

static bool is_enum(const json_t *v)
{
	const json_t *e;
	size_t i;

	if (!json_is_array(v))
		return false;
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e) && !json_is_number(e))
			return false;
	}
	return true;
}

static bool is_choices(const json_t *v)
{
	const json_t *e;
	size_t i;

	if (!json_is_array(v))
		return false;
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e) &&
		    !json_is_string(json_object_get(e, "name")))
			return false;
	}
	return true;
}

static bool is_uniq(const json_t *v)
{
	const json_t *e;
	size_t i;

	if (!json_is_array(v))
		return false;
	json_array_foreach(v, i, e)
	{
		if (!json_is_array(e) || !is_strv(e))
			return false;
	}
	return true;
}

static bool has_type(const json_t *v, enum jtype t)
{
	switch (t) {
	case J_STR:
		return json_is_string(v);
	case J_BOOL:
		return json_is_boolean(v);
	case J_UINT:
		return json_is_integer(v) && json_integer_value(v) >= 0;
	case J_STRV:
		return is_strv(v);
	case J_ENUM:
		return is_enum(v);
	case J_CHOICES:
		return is_choices(v);
	case J_UNIQ:
		return is_uniq(v);
	case J_OBJ:
		return json_is_object(v);
	}
	return false;
}

/* The first member of `o` listed in `f` with the wrong type, or NULL. */
static const struct jfield *ill_typed(const json_t *o, const struct jfield *f)
{
	const json_t *v;

	for (; f->key; f++) {
		v = json_object_get(o, f->key);
		if (v && !json_is_null(v) && !has_type(v, f->type))
			return f;
	}
	return NULL;
}

/* HF_EINVAL "<where>: <key> is not <type>" for an ill-typed member. */
static int check_types(struct pctx *c, const json_t *o, const struct jfield *f,
                       const char *where)
{
	const struct jfield *bad = ill_typed(o, f);

	if (!bad)
		return 0;
	return hf_error_set(c->err, HF_EINVAL, "%s: %s is not %s", where,
	                    bad->key, jtype_names[bad->type]);
}

/* Where a member of kind k's `what` i (named when it has a name) is. */
static void member_where(char *out, size_t n, const hf_kind *k,
                         const char *what, const char *name, size_t i)
{
	if (name)
		snprintf(out, n, "kind '%s': %s '%s'", k->kind, what, name);
	else
		snprintf(out, n, "kind '%s': %s %zu", k->kind, what, i);
}

/* ----------------------------------------------------------- attributes */

static bool is_absent(const json_t *o)
{
	const json_t *st = json_object_get(o, "state");

	return json_is_string(st) &&
	       strcmp(json_string_value(st), "absent") == 0;
}

static size_t get_len(const json_t *o, const char *key)
{
	long long v = get_int(o, key);

	return v > 0 ? (size_t)v : 0;
}

static void parse_computed(struct pctx *c, struct hf_schema_attr *a,
                           const json_t *o)
{
	const json_t *ca = json_object_get(o, "computed_attribute");

	if (!json_is_object(ca))
		return;
	a->computed = true;
	a->computed_kind = get_str(c, ca, "kind");
	a->computed_template = get_str(c, ca, "jinja2_template");
}

static void attr_spec(struct hf_schema_attr *a)
{
	a->spec.kind = a->kind;
	a->spec.name = a->name;
	a->spec.kind_name = a->kind_name;
	a->spec.choices = a->choices.v;
	a->spec.nchoices = a->choices.n;
	a->spec.enum_values = a->enum_values;
	a->spec.min_length = a->min_length;
	a->spec.max_length = a->max_length;
}

static int parse_attr(struct pctx *c, const hf_kind *k,
                      struct hf_schema_attr *a, const json_t *o, size_t i)
{
	char where[600];
	const char *kn;

	if (!json_is_object(o))
		return hf_error_set(c->err, HF_EINVAL,
		                    "kind '%s': attribute %zu is not an object",
		                    k->kind, i);
	a->name = get_str(c, o, "name");
	if (!a->name && !c->oom)
		return hf_error_set(c->err, HF_EINVAL,
		                    "kind '%s': attribute %zu has no name",
		                    k->kind, i);
	if (c->oom)
		return HF_ENOMEM;
	member_where(where, sizeof(where), k, "attribute", a->name, i);
	if (check_types(c, o, attr_fields, where) < 0 ||
	    check_types(c, json_object_get(o, "computed_attribute"),
	                computed_fields, where) < 0)
		return HF_EINVAL;
	kn = get_str(c, o, "kind");
	a->kind_name = kn ? kn : "";
	a->kind = hf_attr_kind_from_name(kn);
	a->label = get_str(c, o, "label");
	a->optional = get_bool(o, "optional", false);
	a->unique = get_bool(o, "unique", false);
	a->read_only = get_bool(o, "read_only", false);
	a->inherited = get_bool(o, "inherited", false);
	a->default_value = get_json(c, o, "default_value");
	a->choices = get_strv(c, o, "choices");
	if (json_array_size(json_object_get(o, "enum")) > 0)
		a->enum_values = get_json(c, o, "enum");
	a->regex = get_str(c, o, "regex");
	a->min_length = get_len(o, "min_length");
	a->max_length = get_len(o, "max_length");
	a->branch = get_str(c, o, "branch");
	parse_computed(c, a, o);
	attr_spec(a);
	return 0;
}

/* -------------------------------------------------------- relationships */

/* clang-format off */
static const char *const rel_kind_names[] = {
	[HF_REL_GENERIC] = "Generic",     [HF_REL_ATTRIBUTE] = "Attribute",
	[HF_REL_COMPONENT] = "Component", [HF_REL_PARENT] = "Parent",
	[HF_REL_GROUP] = "Group",         [HF_REL_HIERARCHY] = "Hierarchy",
	[HF_REL_PROFILE] = "Profile",     [HF_REL_TEMPLATE] = "Template",
};
/* clang-format on */

static enum hf_rel_kind rel_kind_from(const char *name)
{
	size_t i;

	if (!name)
		return HF_REL_GENERIC;
	for (i = 0; i < sizeof(rel_kind_names) / sizeof(*rel_kind_names); i++) {
		if (strcmp(rel_kind_names[i], name) == 0)
			return (enum hf_rel_kind)i;
	}
	return HF_REL_OTHER;
}

static enum hf_rel_direction direction_from(const char *name)
{
	if (name && strcmp(name, "outbound") == 0)
		return HF_DIRECTION_OUTBOUND;
	if (name && strcmp(name, "inbound") == 0)
		return HF_DIRECTION_INBOUND;
	return HF_DIRECTION_BIDIRECTIONAL;
}

/* Infrahub's default: lower("__".join(sorted([kind, peer]))). */
static const char *derive_identifier(struct pctx *c, const char *kind,
                                     const char *peer)
{
	const char *a = strcmp(kind, peer) <= 0 ? kind : peer;
	const char *b = a == kind ? peer : kind;
	size_t la = strlen(a), lb = strlen(b), i;
	char *id = arena_alloc(c, la + lb + 3);

	if (!id)
		return NULL;
	snprintf(id, la + lb + 3, "%s__%s", a, b);
	for (i = 0; id[i]; i++) {
		if (id[i] >= 'A' && id[i] <= 'Z')
			id[i] = (char)(id[i] - 'A' + 'a');
	}
	return id;
}

static void parse_rel_flags(struct pctx *c, struct hf_schema_rel *r,
                            const json_t *o)
{
	const json_t *card = json_object_get(o, "cardinality");
	const json_t *dir = json_object_get(o, "direction");

	r->cardinality = json_is_string(card) && strcmp(json_string_value(card),
	                                                "one") == 0
	                         ? HF_CARDINALITY_ONE
	                         : HF_CARDINALITY_MANY;
	r->direction = direction_from(json_string_value(dir));
	r->optional = get_bool(o, "optional", true);
	r->read_only = get_bool(o, "read_only", false);
	r->inherited = get_bool(o, "inherited", false);
	r->min_count = get_int(o, "min_count");
	r->max_count = get_int(o, "max_count");
	r->on_delete = get_str(c, o, "on_delete");
	r->hierarchical = get_str(c, o, "hierarchical");
	r->branch = get_str(c, o, "branch");
}

static int parse_rel(struct pctx *c, const hf_kind *k, struct hf_schema_rel *r,
                     const json_t *o, size_t i)
{
	char where[600];

	if (!json_is_object(o))
		return hf_error_set(c->err, HF_EINVAL,
		                    "kind '%s': relationship %zu is not an "
		                    "object",
		                    k->kind, i);
	r->name = get_str(c, o, "name");
	r->peer = get_str(c, o, "peer");
	if (c->oom)
		return HF_ENOMEM;
	if (!r->name)
		return hf_error_set(c->err, HF_EINVAL,
		                    "kind '%s': relationship %zu has no name",
		                    k->kind, i);
	if (!r->peer)
		return hf_error_set(c->err, HF_EINVAL,
		                    "kind '%s': relationship '%s' has no peer",
		                    k->kind, r->name);
	member_where(where, sizeof(where), k, "relationship", r->name, i);
	if (check_types(c, o, rel_fields, where) < 0)
		return HF_EINVAL;
	r->label = get_str(c, o, "label");
	r->kind_name = get_str(c, o, "kind");
	r->kind = rel_kind_from(r->kind_name);
	if (!r->kind_name)
		r->kind_name = "Generic";
	r->identifier = get_str(c, o, "identifier");
	if (!r->identifier) {
		r->identifier = derive_identifier(c, k->kind, r->peer);
		r->identifier_derived = true;
	}
	parse_rel_flags(c, r, o);
	return 0;
}

/* ---------------------------------------------------------------- kinds */

static int cmp_attr(const void *a, const void *b)
{
	const struct hf_schema_attr *x =
	        *(const struct hf_schema_attr *const *)a;
	const struct hf_schema_attr *y =
	        *(const struct hf_schema_attr *const *)b;
	int d = strcmp(x->name, y->name);

	/* Same name: schema order, so that a lookup can prefer the later. */
	return d ? d : (x < y ? -1 : x > y);
}

static int cmp_rel(const void *a, const void *b)
{
	const struct hf_schema_rel *x = *(const struct hf_schema_rel *const *)a;
	const struct hf_schema_rel *y = *(const struct hf_schema_rel *const *)b;
	int d = strcmp(x->name, y->name);

	return d ? d : (x < y ? -1 : x > y);
}

/* Element count of an optional list member; -1 when it is not a list. */
static long list_size(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return 0;
	return json_is_array(v) ? (long)json_array_size(v) : -1;
}

static int parse_attrs(struct pctx *c, hf_kind *k, const json_t *o)
{
	const json_t *list = json_object_get(o, "attributes"), *e;
	long n = list_size(o, "attributes");
	size_t i;
	int rc;

	if (n < 0)
		return hf_error_set(c->err, HF_EINVAL,
		                    "kind '%s': attributes is not a list",
		                    k->kind);
	k->attrs = arena_calloc(c, (size_t)n, sizeof(*k->attrs));
	k->attr_idx = arena_calloc(c, (size_t)n, sizeof(*k->attr_idx));
	if (c->oom)
		return HF_ENOMEM;
	json_array_foreach(list, i, e)
	{
		if (json_is_object(e) && is_absent(e))
			continue;
		rc = parse_attr(c, k, &k->attrs[k->nattrs], e, i);
		if (rc < 0)
			return rc;
		k->attr_idx[k->nattrs] = &k->attrs[k->nattrs];
		k->nattrs++;
	}
	if (c->oom)
		return HF_ENOMEM;
	qsort(k->attr_idx, k->nattrs, sizeof(*k->attr_idx), cmp_attr);
	return 0;
}

static int parse_rels(struct pctx *c, hf_kind *k, const json_t *o)
{
	const json_t *list = json_object_get(o, "relationships"), *e;
	long n = list_size(o, "relationships");
	size_t i;
	int rc;

	if (n < 0)
		return hf_error_set(c->err, HF_EINVAL,
		                    "kind '%s': relationships is not a list",
		                    k->kind);
	k->rels = arena_calloc(c, (size_t)n, sizeof(*k->rels));
	k->rel_idx = arena_calloc(c, (size_t)n, sizeof(*k->rel_idx));
	if (c->oom)
		return HF_ENOMEM;
	json_array_foreach(list, i, e)
	{
		if (json_is_object(e) && is_absent(e))
			continue;
		rc = parse_rel(c, k, &k->rels[k->nrels], e, i);
		if (rc < 0)
			return rc;
		k->rel_idx[k->nrels] = &k->rels[k->nrels];
		k->nrels++;
	}
	if (c->oom)
		return HF_ENOMEM;
	qsort(k->rel_idx, k->nrels, sizeof(*k->rel_idx), cmp_rel);
	return 0;
}

static void parse_uniqueness(struct pctx *c, hf_kind *k, const json_t *o)
{
	const json_t *list = json_object_get(o, "uniqueness_constraints"), *e;
	size_t i;

	if (!json_is_array(list) || json_array_size(list) == 0)
		return;
	k->uniq = arena_calloc(c, json_array_size(list), sizeof(*k->uniq));
	if (!k->uniq)
		return;
	json_array_foreach(list, i, e)
	{
		if (json_is_array(e))
			k->uniq[k->nuniq++] = strv_from(c, e);
	}
}

/* kind, or namespace + name. */
static const char *kind_name_of(struct pctx *c, const json_t *o)
{
	const char *ns, *name;
	size_t lns, lname;
	char *kind;

	if (json_is_string(json_object_get(o, "kind")))
		return get_str(c, o, "kind");
	ns = json_string_value(json_object_get(o, "namespace"));
	name = json_string_value(json_object_get(o, "name"));
	if (!ns || !name)
		return NULL;
	lns = strlen(ns);
	lname = strlen(name);
	kind = arena_alloc(c, lns + lname + 1);
	if (kind) {
		memcpy(kind, ns, lns);
		memcpy(kind + lns, name, lname + 1);
	}
	return kind;
}

static void parse_kind_props(struct pctx *c, hf_kind *k, const json_t *o)
{
	k->namespace_ = get_str(c, o, "namespace");
	k->name = get_str(c, o, "name");
	k->label = get_str(c, o, "label");
	k->hash = get_str(c, o, "hash");
	k->branch = get_str(c, o, "branch");
	k->default_filter = get_str(c, o, "default_filter");
	k->display_label = get_str(c, o, "display_label");
	k->hierarchy = get_str(c, o, "hierarchy");
	k->parent = get_str(c, o, "parent");
	k->children = get_str(c, o, "children");
	k->hierarchical = get_bool(o, "hierarchical", false);
	k->hfid = get_strv(c, o, "human_friendly_id");
	k->display_labels = get_strv(c, o, "display_labels");
	k->order_by = get_strv(c, o, "order_by");
	k->inherit_from = get_strv(c, o, "inherit_from");
	k->used_by = get_strv(c, o, "used_by");
	parse_uniqueness(c, k, o);
}

static const struct {
	const char *key;
	enum hf_kind_type type;
} sections[] = {
	{ "nodes", HF_KIND_NODE },
	{ "generics", HF_KIND_GENERIC },
	{ "profiles", HF_KIND_PROFILE },
	{ "templates", HF_KIND_TEMPLATE },
};

#define NSECTIONS (sizeof(sections) / sizeof(sections[0]))

/* One element of a section. *out stays NULL for an absent element. */
static int parse_kind(struct pctx *c, hf_kind **out, const json_t *o,
                      size_t sec, size_t i)
{
	const char *section = sections[sec].key;
	char where[600];
	hf_kind *k;
	int rc;

	*out = NULL;
	if (!json_is_object(o))
		return hf_error_set(c->err, HF_EINVAL,
		                    "schema %s[%zu] is not an object", section,
		                    i);
	if (is_absent(o))
		return 0;
	k = arena_calloc(c, 1, sizeof(*k));
	if (!k)
		return HF_ENOMEM;
	k->schema = c->s;
	k->type = sections[sec].type;
	k->kind = kind_name_of(c, o);
	if (!k->kind)
		return c->oom ? HF_ENOMEM
		              : hf_error_set(c->err, HF_EINVAL,
		                             "schema %s[%zu] has no kind",
		                             section, i);
	snprintf(where, sizeof(where), "kind '%s'", k->kind);
	if (check_types(c, o, kind_fields, where) < 0)
		return HF_EINVAL;
	parse_kind_props(c, k, o);
	rc = parse_attrs(c, k, o);
	if (rc == 0)
		rc = parse_rels(c, k, o);
	if (rc == 0 && c->oom)
		rc = HF_ENOMEM;
	*out = rc == 0 ? k : NULL;
	return rc;
}

/* ------------------------------------------------------------- sections */

static int count_kinds(const json_t *answer, size_t *total, hf_error *err)
{
	size_t i;
	long n;

	*total = 0;
	for (i = 0; i < NSECTIONS; i++) {
		n = list_size(answer, sections[i].key);
		if (n < 0)
			return hf_error_set(err, HF_EINVAL,
			                    "schema answer: '%s' is not a list",
			                    sections[i].key);
		*total += (size_t)n;
	}
	return 0;
}

static int parse_sections(struct pctx *c, const json_t *answer)
{
	const json_t *list, *e;
	size_t i, j;
	hf_kind *k;
	int rc;

	for (i = 0; i < NSECTIONS; i++) {
		list = json_object_get(answer, sections[i].key);
		json_array_foreach(list, j, e)
		{
			rc = parse_kind(c, &k, e, i, j);
			if (rc < 0)
				return rc;
			if (!k)
				continue;
			k->order = c->s->nkinds;
			c->s->kinds[c->s->nkinds++] = k;
		}
	}
	return 0;
}

static int cmp_kind(const void *a, const void *b)
{
	const hf_kind *x = *(const hf_kind *const *)a;
	const hf_kind *y = *(const hf_kind *const *)b;
	int d = strcmp(x->kind, y->kind);

	return d ? d : (x->order < y->order ? -1 : x->order > y->order);
}

/* Sort by name; of several kinds with one name keep the last given. */
static void sort_kinds(hf_schema *s)
{
	size_t i, n = 0;

	qsort(s->kinds, s->nkinds, sizeof(*s->kinds), cmp_kind);
	for (i = 0; i < s->nkinds; i++) {
		if (n && strcmp(s->kinds[n - 1]->kind, s->kinds[i]->kind) == 0)
			n--;
		s->kinds[n++] = s->kinds[i];
	}
	s->nkinds = n;
}

static bool strv_has(struct hf_strv sv, const char *s)
{
	size_t i;

	for (i = 0; i < sv.n; i++) {
		if (sv.v[i] && strcmp(sv.v[i], s) == 0)
			return true;
	}
	return false;
}

/*
 * The nodes implementing generic g: its used_by, plus the nodes that name
 * it in inherit_from (trimmed answers often carry only one side).
 */
static void link_generic(struct pctx *c, hf_kind *g)
{
	hf_schema *s = c->s;
	const hf_kind *n;
	size_t i;

	g->impl = arena_calloc(c, s->nkinds, sizeof(*g->impl));
	if (!g->impl)
		return;
	for (i = 0; i < s->nkinds; i++) {
		n = s->kinds[i];
		if (n->type != HF_KIND_NODE)
			continue;
		if (strv_has(n->inherit_from, g->kind) ||
		    strv_has(g->used_by, n->kind))
			g->impl[g->nimpl++] = n;
	}
}

static int link_kinds(struct pctx *c)
{
	size_t i;

	for (i = 0; i < c->s->nkinds; i++) {
		if (c->s->kinds[i]->type == HF_KIND_GENERIC)
			link_generic(c, c->s->kinds[i]);
	}
	return c->oom ? HF_ENOMEM : 0;
}

static int parse_all(struct pctx *c, const json_t *answer)
{
	size_t total;
	int rc;

	rc = count_kinds(answer, &total, c->err);
	if (rc == 0 && json_object_get(answer, "main") &&
	    !json_is_null(json_object_get(answer, "main")) &&
	    !json_is_string(json_object_get(answer, "main")))
		rc = hf_error_set(c->err, HF_EINVAL,
		                  "schema answer: 'main' is not a string");
	if (rc < 0)
		return rc;
	c->s->keep = json_array();
	c->s->kinds = arena_calloc(c, total, sizeof(*c->s->kinds));
	c->s->hash = get_str(c, answer, "main");
	if (!c->s->keep || c->oom)
		return HF_ENOMEM;
	rc = parse_sections(c, answer);
	if (rc < 0)
		return rc;
	sort_kinds(c->s);
	return link_kinds(c);
}

const char *const hf_schema_unread_keys[] = {
	"filters",      "description",    "documentation",
	"icon",         "menu_placement", "include_in_menu",
	"order_weight", "deprecation",    "allow_override",
	NULL,
};

void hf_schema_answer_trim(json_t *j)
{
	const char *const *k;
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_array(j)) {
		json_array_foreach(j, i, v) hf_schema_answer_trim(v);
		return;
	}
	if (!json_is_object(j))
		return;
	for (k = hf_schema_unread_keys; *k; k++)
		json_object_del(j, *k);
	json_object_foreach(j, key, v) hf_schema_answer_trim(v);
}

int hf_schema_parse(hf_schema **out, const json_t *answer, hf_error *err)
{
	struct pctx c = { NULL, 0, err };
	int rc;

	*out = NULL;
	if (!json_is_object(answer))
		return hf_error_set(err, HF_EINVAL,
		                    "schema answer is not a JSON object");
	c.s = hf_calloc(1, sizeof(*c.s));
	if (!c.s)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	rc = parse_all(&c, answer);
	if (rc == HF_ENOMEM)
		hf_error_set(err, HF_ENOMEM, "out of memory");
	if (rc < 0)
		goto out;
	*out = c.s;
	c.s = NULL;
out:
	hf_schema_free(c.s);
	return rc;
}

void hf_schema_free(hf_schema *s)
{
	if (!s)
		return;
	hf_arena_release(&s->arena);
	json_decref(s->keep);
	hf_free(s);
}

/* ------------------------------------------------------------- lookups */

const char *hf_schema_hash(const hf_schema *s)
{
	return s->hash;
}

size_t hf_schema_count(const hf_schema *s)
{
	return s->nkinds;
}

const hf_kind *hf_schema_at(const hf_schema *s, size_t i)
{
	return i < s->nkinds ? s->kinds[i] : NULL;
}

const hf_kind *hf_schema_kind(const hf_schema *s, const char *kind)
{
	size_t lo = 0, hi = s->nkinds, mid;
	int d;

	if (!kind)
		return NULL;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		d = strcmp(kind, s->kinds[mid]->kind);
		if (d == 0)
			return s->kinds[mid];
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/*
 * Binary search over a name-sorted index of pointers to structs whose
 * first member is the name; the last of equal names wins.
 */
_Static_assert(offsetof(struct hf_schema_attr, name) == 0,
               "find_named() needs the name first");
_Static_assert(offsetof(struct hf_schema_rel, name) == 0,
               "find_named() needs the name first");

static const void *find_named(const void *const *idx, size_t n,
                              const char *name)
{
	size_t lo = 0, hi = n, mid;

	if (!name)
		return NULL;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(name, *(const char *const *)idx[mid]) < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (lo == 0 || strcmp(name, *(const char *const *)idx[lo - 1]) != 0)
		return NULL;
	return idx[lo - 1];
}

const struct hf_schema_attr *hf_schema_attr_find(const hf_kind *k,
                                                 const char *name)
{
	return find_named((const void *const *)k->attr_idx, k->nattrs, name);
}

const struct hf_schema_rel *hf_schema_rel_find(const hf_kind *k,
                                               const char *name)
{
	return find_named((const void *const *)k->rel_idx, k->nrels, name);
}

size_t hf_schema_attr_count(const hf_kind *k)
{
	return k->nattrs;
}

const struct hf_schema_attr *hf_schema_attr_at(const hf_kind *k, size_t i)
{
	return i < k->nattrs ? &k->attrs[i] : NULL;
}

size_t hf_schema_rel_count(const hf_kind *k)
{
	return k->nrels;
}

const struct hf_schema_rel *hf_schema_rel_at(const hf_kind *k, size_t i)
{
	return i < k->nrels ? &k->rels[i] : NULL;
}

/* ------------------------------------------------------ kind properties */

const char *hf_schema_kind_name(const hf_kind *k)
{
	return k->kind;
}

const char *hf_schema_kind_namespace(const hf_kind *k)
{
	return k->namespace_;
}

const char *hf_schema_kind_short_name(const hf_kind *k)
{
	return k->name;
}

const char *hf_schema_kind_label(const hf_kind *k)
{
	return k->label;
}

enum hf_kind_type hf_schema_kind_type(const hf_kind *k)
{
	return k->type;
}

const char *hf_schema_kind_hash(const hf_kind *k)
{
	return k->hash;
}

const char *hf_schema_kind_branch(const hf_kind *k)
{
	return k->branch;
}

const char *hf_schema_kind_default_filter(const hf_kind *k)
{
	return k->default_filter;
}

struct hf_strv hf_schema_kind_hfid(const hf_kind *k)
{
	return k->hfid;
}

struct hf_strv hf_schema_kind_display_labels(const hf_kind *k)
{
	return k->display_labels;
}

const char *hf_schema_kind_display_label(const hf_kind *k)
{
	return k->display_label;
}

struct hf_strv hf_schema_kind_order_by(const hf_kind *k)
{
	return k->order_by;
}

struct hf_strv hf_schema_kind_inherit_from(const hf_kind *k)
{
	return k->inherit_from;
}

struct hf_strv hf_schema_kind_used_by(const hf_kind *k)
{
	return k->used_by;
}

size_t hf_schema_kind_uniqueness_count(const hf_kind *k)
{
	return k->nuniq;
}

struct hf_strv hf_schema_kind_uniqueness_at(const hf_kind *k, size_t i)
{
	struct hf_strv none = { NULL, 0 };

	return i < k->nuniq ? k->uniq[i] : none;
}

const char *hf_schema_kind_hierarchy(const hf_kind *k)
{
	return k->hierarchy;
}

const char *hf_schema_kind_parent(const hf_kind *k)
{
	return k->parent;
}

const char *hf_schema_kind_children(const hf_kind *k)
{
	return k->children;
}

bool hf_schema_kind_hierarchical(const hf_kind *k)
{
	return k->hierarchical;
}

/* ---------------------------------------------------------- inheritance */

bool hf_schema_is_a(const hf_schema *s, const hf_kind *k, const char *kind)
{
	const hf_kind *g;
	size_t i;

	if (!kind)
		return false;
	if (strcmp(k->kind, kind) == 0 || strv_has(k->inherit_from, kind))
		return true;
	if (k->type == HF_KIND_NODE && strcmp(kind, "CoreNode") == 0)
		return true;
	g = hf_schema_kind(s, kind);
	if (!g)
		return false;
	for (i = 0; i < g->nimpl; i++) {
		if (g->impl[i] == k)
			return true;
	}
	return false;
}

size_t hf_schema_implementations(const hf_schema *s, const hf_kind *g,
                                 const hf_kind *const **out)
{
	(void)s;
	*out = g->impl;
	return g->nimpl;
}

/* Whether k fits where `peer` is expected, or the other way round. */
static bool compatible(const hf_schema *s, const hf_kind *k, const char *peer)
{
	const hf_kind *p;

	if (hf_schema_is_a(s, k, peer))
		return true;
	p = hf_schema_kind(s, peer);
	return p && hf_schema_is_a(s, p, k->kind);
}

static bool opposite_direction(enum hf_rel_direction a, enum hf_rel_direction b)
{
	return (a == HF_DIRECTION_OUTBOUND && b == HF_DIRECTION_INBOUND) ||
	       (a == HF_DIRECTION_INBOUND && b == HF_DIRECTION_OUTBOUND);
}

/* How well candidate `c` mirrors `rel` of kind k; higher is better. */
static int reverse_score(const hf_schema *s, const hf_kind *k,
                         const struct hf_schema_rel *rel,
                         const struct hf_schema_rel *c)
{
	int score = 0;

	if (compatible(s, k, c->peer))
		score += 8;
	if (opposite_direction(rel->direction, c->direction))
		score += 4;
	if (rel->kind == HF_REL_HIERARCHY && c->cardinality != rel->cardinality)
		score += 2;
	return score;
}

const struct hf_schema_rel *
hf_schema_rel_reverse(const hf_schema *s, const hf_kind *k,
                      const struct hf_schema_rel *rel)
{
	const struct hf_schema_rel *best = NULL, *c;
	const hf_kind *peer = hf_schema_kind(s, rel->peer);
	int score, best_score = -1;
	size_t i;

	if (!peer || !rel->identifier)
		return NULL;
	for (i = 0; i < peer->nrels; i++) {
		c = &peer->rels[i];
		if (c == rel || !c->identifier ||
		    strcmp(c->identifier, rel->identifier) != 0)
			continue;
		score = reverse_score(s, k, rel, c);
		if (score > best_score) {
			best = c;
			best_score = score;
		}
	}
	return best;
}

/* --------------------------------------------------------------- paths */

static bool valid_property(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n >= sizeof(((struct hf_schema_path *)NULL)->property))
		return false;
	for (i = 0; i < n; i++) {
		if (!((p[i] >= 'a' && p[i] <= 'z') ||
		      (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
			return false;
	}
	return true;
}

static int path_unknown(const hf_kind *k, const char *name, const char *path,
                        hf_error *err)
{
	const char *hint = hf_schema_suggest(k, name);

	if (hint)
		return hf_error_set(err, HF_EINVAL,
		                    "path '%s': kind '%s' has no attribute or "
		                    "relationship '%s' (did you mean '%s'?)",
		                    path, k->kind, name, hint);
	return hf_error_set(err, HF_EINVAL,
	                    "path '%s': kind '%s' has no attribute or "
	                    "relationship '%s'",
	                    path, k->kind, name);
}

/* "attr__property" on kind k, for a path (the whole one, for messages). */
static int path_attr(struct hf_schema_path *out, const hf_kind *k,
                     const char *part, const char *path, hf_error *err)
{
	const char *sep = strstr(part, "__");
	char name[128];
	size_t n;

	n = sep ? (size_t)(sep - part) : strlen(part);
	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, part, n);
	name[n] = '\0';
	out->attr = hf_schema_attr_find(k, name);
	if (!out->attr && hf_schema_rel_find(k, name))
		return hf_error_set(err, HF_EINVAL,
		                    "path '%s': '%s' of kind '%s' is a "
		                    "relationship; a path can go through one "
		                    "relationship only",
		                    path, name, k->kind);
	if (!out->attr)
		return path_unknown(k, name, path, err);
	if (!sep)
		return hf_error_set(err, HF_EINVAL,
		                    "path '%s': no property after attribute "
		                    "'%s' (write '%s__value')",
		                    path, name, name);
	if (!valid_property(sep + 2, strlen(sep + 2)))
		return hf_error_set(err, HF_EINVAL,
		                    "path '%s': '%s' is not a property of "
		                    "attribute '%s'",
		                    path, sep + 2, name);
	memcpy(out->property, sep + 2, strlen(sep + 2) + 1);
	return 0;
}

/* "rel__attr__property" (or "rel" alone) on kind k. */
static int path_rel(struct hf_schema_path *out, const hf_kind *k,
                    const char *rest, const char *path, hf_error *err)
{
	const struct hf_schema_rel *r = out->rel;

	if (r->cardinality != HF_CARDINALITY_ONE)
		return hf_error_set(err, HF_EINVAL,
		                    "path '%s': relationship '%s' of kind '%s' "
		                    "has cardinality many; a path can only go "
		                    "through a cardinality-one relationship",
		                    path, r->name, k->kind);
	out->peer = hf_schema_kind(k->schema, r->peer);
	if (!out->peer)
		return hf_error_set(err, HF_EINVAL,
		                    "path '%s': peer kind '%s' of relationship "
		                    "'%s' is not in the schema",
		                    path, r->peer, r->name);
	if (!rest)
		return 0;
	return path_attr(out, out->peer, rest, path, err);
}

int hf_schema_path_parse(struct hf_schema_path *out, const hf_kind *k,
                         const char *path, unsigned flags, hf_error *err)
{
	const char *sep = strstr(path, "__");
	size_t n = sep ? (size_t)(sep - path) : strlen(path);
	char head[128];

	memset(out, 0, sizeof(*out));
	if (n == 0 || n >= sizeof(head))
		return hf_error_set(err, HF_EINVAL,
		                    "path '%s' of kind '%s' "
		                    "is not a schema path",
		                    path, k->kind);
	memcpy(head, path, n);
	head[n] = '\0';
	if (hf_schema_attr_find(k, head)) {
		if (sep && strstr(sep + 2, "__"))
			return hf_error_set(
			        err, HF_EINVAL,
			        "path '%s': '%s' of kind '%s' is an "
			        "attribute, not a relationship",
			        path, head, k->kind);
		return path_attr(out, k, path, path, err);
	}
	out->rel = hf_schema_rel_find(k, head);
	if (!out->rel)
		return path_unknown(k, head, path, err);
	if (!sep && !(flags & HF_PATH_BARE_REL))
		return hf_error_set(err, HF_EINVAL,
		                    "path '%s': relationship '%s' needs a peer "
		                    "attribute (write '%s__name__value')",
		                    path, head, head);
	return path_rel(out, k, sep ? sep + 2 : NULL, path, err);
}

/* ---------------------------------------------------------- suggestions */

#define DIST_MAX 64

/* ASCII only: kind and field names are ASCII. */
static int lower(char c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;

	return m < c ? m : c;
}

/*
 * Case-insensitive optimal string alignment distance (Levenshtein plus
 * adjacent transpositions). Strings longer than DIST_MAX count as far.
 */
static size_t distance(const char *a, const char *b)
{
	size_t row[3][DIST_MAX + 1];
	size_t la = strlen(a), lb = strlen(b), i, j, cost, d;
	size_t *prev2, *prev, *cur;

	if (la > DIST_MAX || lb > DIST_MAX)
		return SIZE_MAX;
	/* Row i lives in row[i % 3]. */
	for (j = 0; j <= lb; j++)
		row[0][j] = j;
	for (i = 1; i <= la; i++) {
		prev2 = row[(i + 1) % 3];
		prev = row[(i + 2) % 3];
		cur = row[i % 3];
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			cost = lower(a[i - 1]) != lower(b[j - 1]);
			d = min3(prev[j] + 1, cur[j - 1] + 1,
			         prev[j - 1] + cost);
			if (i > 1 && j > 1 &&
			    lower(a[i - 1]) == lower(b[j - 2]) &&
			    lower(a[i - 2]) == lower(b[j - 1]) &&
			    prev2[j - 2] + 1 < d)
				d = prev2[j - 2] + 1;
			cur[j] = d;
		}
	}
	return row[la % 3][lb];
}

struct best {
	const char *name;
	size_t dist;
	size_t limit;
};

static void consider(struct best *b, const char *unknown, const char *name)
{
	size_t d = distance(unknown, name);

	if (d <= b->limit && (d < b->dist || (d == b->dist && b->name &&
	                                      strcmp(name, b->name) < 0))) {
		b->name = name;
		b->dist = d;
	}
}

static void best_init(struct best *b, const char *unknown)
{
	size_t third = strlen(unknown) / 3;

	b->name = NULL;
	b->dist = SIZE_MAX;
	b->limit = third > 2 ? third : 2;
}

const char *hf_schema_suggest(const hf_kind *k, const char *unknown)
{
	struct best b;
	size_t i;

	if (!unknown)
		return NULL;
	best_init(&b, unknown);
	for (i = 0; i < k->nattrs; i++)
		consider(&b, unknown, k->attr_idx[i]->name);
	for (i = 0; i < k->nrels; i++)
		consider(&b, unknown, k->rel_idx[i]->name);
	return b.name;
}

const char *hf_schema_suggest_kind(const hf_schema *s, const char *unknown)
{
	struct best b;
	size_t i;

	if (!unknown)
		return NULL;
	best_init(&b, unknown);
	for (i = 0; i < s->nkinds; i++)
		consider(&b, unknown, s->kinds[i]->kind);
	return b.name;
}
