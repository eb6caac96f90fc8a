/*
 * The processed schema as the rest of the server sees it: C views over
 * the built JSON (kinds sorted by name for bsearch, attributes and
 * relationships indexed by name), persistence, and the REST bodies.
 *
 * Every string in the views is borrowed from the built JSON, which the
 * schema keeps alive and never modifies after hfs_schema_wrap(); the view
 * structs live in one arena freed with the schema.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/arena.h"
#include "hf/buf.h"
#include "schema_int.h"

#include "hf/banned.h"

struct kind_priv {
	const struct hfs_attr **attrs; /* sorted by name */
	const struct hfs_rel **rels; /* sorted by name */
};

struct hfs_schema {
	json_t *src;
	json_t *built;
	struct hfs_kind **kinds; /* sorted by kind */
	size_t nkinds;
	hf_arena arena; /* the view structs */
	char hash[33];
};

/*
 * Attribute kinds in Infrahub's order (ATTRIBUTE_KIND_LABELS of 1.11:
 * NumberPool since 1.4, IPAddress since 1.11.0). NumberPool and IPAddress
 * values are checked by hfs_attr_check() like the other newer kinds.
 */
/* clang-format off */
const char *const hfs_attr_kinds[] = {
	"ID", "Dropdown", "Text", "TextArea", "DateTime", "Email", "Password",
	"HashedPassword", "URL", "File", "MacAddress", "Color", "Number",
	"NumberPool", "Bandwidth", "IPHost", "IPNetwork", "IPAddress",
	"Boolean", "Checkbox", "List", "JSON", "Any", NULL,
};

/* RESTRICTED_NAMESPACES of Infrahub 1.11 (Builtin added in 1.8.0). */
static const char *const restricted_ns[] = {
	"Account", "Branch", "Builtin", "Core", "Deprecated", "Diff",
	"Infrahub", "Internal", "Lineage", "Schema", "Profile", "Template",
	NULL,
};
/* clang-format on */

int hfs_attr_kind_valid(const char *kind)
{
	size_t i;

	for (i = 0; hfs_attr_kinds[i]; i++)
		if (strcmp(hfs_attr_kinds[i], kind) == 0)
			return 1;
	return 0;
}

/*
 * Infrahub 1.8.0 added Builtin to RESTRICTED_NAMESPACES, so a current
 * server refuses user kinds such as BuiltinLocation. The local endpoint
 * still accepts them: the SDK captures it replays (tests/
 * test_srv_fixtures.c, from the 1.0 era) define BuiltinLocation. The
 * processing rules treat Builtin kinds as user kinds either way.
 */
int hfs_namespace_restricted(const char *ns)
{
	size_t i;

	for (i = 0; restricted_ns[i]; i++) {
		if (strcmp(restricted_ns[i], "Builtin") == 0)
			continue;
		if (strcmp(restricted_ns[i], ns) == 0)
			return 1;
	}
	return 0;
}

const char *hfs_jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

int hfs_jtrue(const json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

json_t *hfs_jarr(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_array(v) ? v : NULL;
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* " ".join(w.title() for w in name.split("_")), as Infrahub does. */
char *hfs_format_label(const char *name)
{
	hf_buf b = HF_BUF_INIT;
	char prev = 0;

	for (; *name; name++) {
		char c = *name;

		if (c == '_')
			c = ' ';
		else if (is_alpha(c) && !is_alpha(prev))
			c = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
		else if (is_alpha(c))
			c = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
		hf_buf_addch(&b, c);
		prev = c;
	}
	return hf_buf_detach(&b);
}

static long jlong(const json_t *o, const char *key, long dflt)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (long)json_integer_value(v) : dflt;
}

static int view_strv(hfs_schema *s, struct hfs_strv *sv, const json_t *arr)
{
	const char **v;
	size_t i, n = json_array_size(arr);

	sv->v = NULL;
	sv->n = 0;
	if (n == 0)
		return 0;
	v = hf_arena_calloc(&s->arena, n, sizeof(*v));
	if (!v)
		return HF_ENOMEM;
	for (i = 0; i < n; i++) {
		v[i] = json_string_value(json_array_get(arr, i));
		if (!v[i])
			v[i] = "";
	}
	sv->v = v;
	sv->n = n;
	return 0;
}

static int view_choices(hfs_schema *s, struct hfs_attr *a, const json_t *el)
{
	json_t *arr = hfs_jarr(el, "choices");
	struct hfs_choice *c;
	size_t i, n = json_array_size(arr);

	if (n == 0)
		return 0;
	c = hf_arena_calloc(&s->arena, n, sizeof(*c));
	if (!c)
		return HF_ENOMEM;
	for (i = 0; i < n; i++) {
		json_t *ch = json_array_get(arr, i);

		c[i].name = hfs_jstr(ch, "name");
		c[i].label = hfs_jstr(ch, "label");
		c[i].description = hfs_jstr(ch, "description");
		c[i].color = hfs_jstr(ch, "color");
		if (!c[i].label)
			c[i].label = c[i].name;
	}
	a->choices = c;
	a->nchoices = n;
	return 0;
}

static int view_attr(hfs_schema *s, struct hfs_attr *a, const json_t *el)
{
	json_t *v;

	a->name = hfs_jstr(el, "name");
	a->kind = hfs_jstr(el, "kind");
	a->label = hfs_jstr(el, "label");
	a->description = hfs_jstr(el, "description");
	a->branch = hfs_jstr(el, "branch");
	a->optional = hfs_jtrue(el, "optional");
	a->unique = hfs_jtrue(el, "unique");
	a->read_only = hfs_jtrue(el, "read_only");
	a->inherited = hfs_jtrue(el, "inherited");
	v = json_object_get(el, "default_value");
	a->default_value = json_is_null(v) ? NULL : v;
	v = json_object_get(el, "enum");
	a->enum_values = json_is_array(v) ? v : NULL;
	a->regex = hfs_jstr(el, "regex");
	a->min_length = jlong(el, "min_length", -1);
	a->max_length = jlong(el, "max_length", -1);
	a->order_weight = jlong(el, "order_weight", 0);
	v = json_object_get(el, "computed_attribute");
	/* only a Jinja2 computed attribute is rendered here (TransformPython
	   runs a repository's transform, which this endpoint cannot) */
	a->computed_template =
	        hfs_jstr(v, "kind") && !strcmp(hfs_jstr(v, "kind"), "Jinja2")
	                ? hfs_jstr(v, "jinja2_template")
	                : NULL;
	return view_choices(s, a, el);
}

static void view_rel(struct hfs_rel *r, const json_t *el)
{
	r->name = hfs_jstr(el, "name");
	r->peer = hfs_jstr(el, "peer");
	r->kind = hfs_jstr(el, "kind");
	r->identifier = hfs_jstr(el, "identifier");
	r->direction = hfs_jstr(el, "direction");
	r->on_delete = hfs_jstr(el, "on_delete");
	r->label = hfs_jstr(el, "label");
	r->description = hfs_jstr(el, "description");
	r->branch = hfs_jstr(el, "branch");
	r->many = strcmp(hfs_jstr(el, "cardinality"), "many") == 0;
	r->optional = hfs_jtrue(el, "optional");
	r->read_only = hfs_jtrue(el, "read_only");
	r->inherited = hfs_jtrue(el, "inherited");
	r->min_count = jlong(el, "min_count", 0);
	r->max_count = jlong(el, "max_count", 0);
	r->order_weight = jlong(el, "order_weight", 0);
	r->hierarchical = hfs_jstr(el, "hierarchical");
}

static int cmp_attr(const void *a, const void *b)
{
	const struct hfs_attr *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

static int cmp_rel(const void *a, const void *b)
{
	const struct hfs_rel *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

static int view_members(hfs_schema *s, struct hfs_kind *k, const json_t *el)
{
	json_t *aa = hfs_jarr(el, "attributes"),
	       *ra = hfs_jarr(el, "relationships");
	struct kind_priv *p = hf_arena_alloc(&s->arena, sizeof(*p));
	struct hfs_attr *attrs;
	struct hfs_rel *rels;
	size_t i, na = json_array_size(aa), nr = json_array_size(ra);

	attrs = hf_arena_calloc(&s->arena, na + 1, sizeof(*attrs));
	rels = hf_arena_calloc(&s->arena, nr + 1, sizeof(*rels));
	if (!p || !attrs || !rels)
		return HF_ENOMEM;
	p->attrs = hf_arena_calloc(&s->arena, na + 1, sizeof(*p->attrs));
	p->rels = hf_arena_calloc(&s->arena, nr + 1, sizeof(*p->rels));
	if (!p->attrs || !p->rels)
		return HF_ENOMEM;
	for (i = 0; i < na; i++) {
		if (view_attr(s, &attrs[i], json_array_get(aa, i)) < 0)
			return HF_ENOMEM;
		p->attrs[i] = &attrs[i];
	}
	for (i = 0; i < nr; i++) {
		view_rel(&rels[i], json_array_get(ra, i));
		p->rels[i] = &rels[i];
	}
	qsort(p->attrs, na, sizeof(*p->attrs), cmp_attr);
	qsort(p->rels, nr, sizeof(*p->rels), cmp_rel);
	k->attrs = attrs;
	k->nattrs = na;
	k->rels = rels;
	k->nrels = nr;
	k->priv = p;
	return 0;
}

static int view_uniq(hfs_schema *s, struct hfs_kind *k, const json_t *el)
{
	json_t *arr = hfs_jarr(el, "uniqueness_constraints");
	struct hfs_strv *u;
	size_t i, n = json_array_size(arr);

	if (n == 0)
		return 0;
	u = hf_arena_calloc(&s->arena, n, sizeof(*u));
	if (!u)
		return HF_ENOMEM;
	for (i = 0; i < n; i++)
		if (view_strv(s, &u[i], json_array_get(arr, i)) < 0)
			return HF_ENOMEM;
	k->uniq = u;
	k->nuniq = n;
	return 0;
}

static const char *nonempty(const char *v)
{
	return v && *v ? v : NULL;
}

static int view_kind(hfs_schema *s, struct hfs_kind *k, const json_t *el,
                     enum hfs_kind_type type)
{
	int rc;

	k->kind = hfs_jstr(el, "kind");
	k->namespace = hfs_jstr(el, "namespace");
	k->name = hfs_jstr(el, "name");
	k->label = hfs_jstr(el, "label");
	k->description = hfs_jstr(el, "description");
	k->branch = hfs_jstr(el, "branch");
	k->type = type;
	k->is_generic = type == HFS_GENERIC;
	k->is_profile = type == HFS_PROFILE;
	k->is_template = type == HFS_TEMPLATE;
	k->hierarchical = hfs_jtrue(el, "hierarchical");
	k->default_filter = hfs_jstr(el, "default_filter");
	k->display_label = hfs_jstr(el, "display_label");
	k->hierarchy = hfs_jstr(el, "hierarchy");
	k->parent_kind = nonempty(hfs_jstr(el, "parent"));
	k->child_kind = nonempty(hfs_jstr(el, "children"));
	k->hash = hfs_jstr(el, "hash");
	rc = view_members(s, k, el);
	if (rc == 0)
		rc = view_uniq(s, k, el);
	if (rc == 0)
		rc = view_strv(s, &k->hfid, hfs_jarr(el, "human_friendly_id"));
	if (rc == 0)
		rc = view_strv(s, &k->inherit_from,
		               hfs_jarr(el, "inherit_from"));
	if (rc == 0)
		rc = view_strv(s, &k->used_by, hfs_jarr(el, "used_by"));
	if (rc == 0)
		rc = view_strv(s, &k->display_labels,
		               hfs_jarr(el, "display_labels"));
	if (rc == 0)
		rc = view_strv(s, &k->order_by, hfs_jarr(el, "order_by"));
	return rc;
}

static const char *const type_keys[] = { "nodes", "generics", "profiles",
	                                 "templates" };

static int cmp_kind(const void *a, const void *b)
{
	const struct hfs_kind *const *x = a, *const *y = b;

	return strcmp((*x)->kind, (*y)->kind);
}

/* Cross-kind links: profile and template kinds of each node. */
static void view_links(hfs_schema *s)
{
	size_t i;

	for (i = 0; i < s->nkinds; i++) {
		struct hfs_kind *k = s->kinds[i];
		const struct hfs_rel *r;

		if (k->type != HFS_NODE && k->type != HFS_GENERIC)
			continue;
		r = hfs_kind_rel(k, "profiles");
		if (r && strcmp(r->kind, "Profile") == 0 &&
		    hfs_schema_kind(s, r->peer)) {
			k->profile_kind = r->peer;
			k->generate_profile = 1;
		}
		r = hfs_kind_rel(k, "object_template");
		if (r && strcmp(r->kind, "Template") == 0 &&
		    hfs_schema_kind(s, r->peer)) {
			k->template_kind = r->peer;
			k->generate_template = 1;
		}
	}
}

static int build_views(hfs_schema *s)
{
	size_t t, n = 0;
	const char *key;
	json_t *el;

	for (t = 0; t < 4; t++)
		n += json_object_size(json_object_get(s->built, type_keys[t]));
	s->kinds = hf_calloc(n + 1, sizeof(*s->kinds));
	if (!s->kinds)
		return HF_ENOMEM;
	for (t = 0; t < 4; t++) {
		json_object_foreach(json_object_get(s->built, type_keys[t]),
		                    key, el)
		{
			struct hfs_kind *k =
			        hf_arena_alloc(&s->arena, sizeof(*k));

			if (!k ||
			    view_kind(s, k, el, (enum hfs_kind_type)t) < 0)
				return HF_ENOMEM;
			s->kinds[s->nkinds++] = k;
		}
	}
	qsort(s->kinds, s->nkinds, sizeof(*s->kinds), cmp_kind);
	view_links(s);
	return 0;
}

static int compute_main_hash(hfs_schema *s)
{
	hf_buf b = HF_BUF_INIT;
	size_t i;

	for (i = 0; i < s->nkinds; i++)
		hf_buf_addf(&b, "%s:%s\n", s->kinds[i]->kind,
		            s->kinds[i]->hash ? s->kinds[i]->hash : "");
	if (hf_buf_failed(&b)) {
		hf_buf_release(&b);
		return HF_ENOMEM;
	}
	hfs_md5_hex(b.ptr, b.len, s->hash);
	hf_buf_release(&b);
	return 0;
}

int hfs_schema_wrap(hfs_schema **out, json_t *src, json_t *built, hf_error *err)
{
	hfs_schema *s;

	*out = NULL;
	s = hf_calloc(1, sizeof(*s));
	if (!s) {
		json_decref(src);
		json_decref(built);
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	s->src = src;
	s->built = built;
	if (build_views(s) < 0 || compute_main_hash(s) < 0) {
		hfs_schema_free(s);
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	*out = s;
	return 0;
}

static json_t *empty_src(void)
{
	return json_pack("{s:{},s:{},s:{}}", "generics", "nodes", "extensions");
}

static int check_src(json_t *src, hf_error *err)
{
	static const char *const keys[] = { "generics", "nodes", "extensions" };
	size_t i;

	if (!json_is_object(src))
		return hf_error_set(err, HF_EINVAL,
		                    "persisted schema is not an object");
	for (i = 0; i < 3; i++) {
		json_t *v = json_object_get(src, keys[i]);

		if (!v) {
			if (json_object_set_new(src, keys[i], json_object()) <
			    0)
				return hf_error_set(err, HF_ENOMEM,
				                    "out of memory");
		} else if (!json_is_object(v)) {
			return hf_error_set(err, HF_EINVAL,
			                    "persisted schema: bad '%s'",
			                    keys[i]);
		}
	}
	return 0;
}

int hfs_schema_new(hfs_schema **out, const char *persisted, hf_error *err)
{
	json_t *src = NULL, *built = NULL;
	json_error_t jerr;
	int rc;

	*out = NULL;
	if (persisted) {
		src = json_loads(persisted, 0, &jerr);
		if (!src)
			return hf_error_set(err, HF_EINVAL,
			                    "persisted schema: %s", jerr.text);
	} else {
		src = empty_src();
		if (!src)
			return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	rc = check_src(src, err);
	if (rc == 0)
		rc = hfs_schema_build(&built, src, err);
	if (rc < 0) {
		json_decref(src);
		return rc;
	}
	return hfs_schema_wrap(out, src, built, err);
}

void hfs_schema_free(hfs_schema *s)
{
	if (!s)
		return;
	hf_arena_release(&s->arena);
	hf_free(s->kinds);
	json_decref(s->src);
	json_decref(s->built);
	hf_free(s);
}

json_t *hfs_schema_src(const hfs_schema *s)
{
	return s->src;
}

json_t *hfs_schema_built(const hfs_schema *s)
{
	return s->built;
}

char *hfs_schema_persist(const hfs_schema *s)
{
	return json_dumps(s->src, JSON_COMPACT | JSON_SORT_KEYS);
}

const char *hfs_schema_hash(const hfs_schema *s)
{
	return s->hash;
}

static int cmp_kind_key(const void *key, const void *elem)
{
	const struct hfs_kind *const *k = elem;

	return strcmp(key, (*k)->kind);
}

const struct hfs_kind *hfs_schema_kind(const hfs_schema *s, const char *kind)
{
	struct hfs_kind **k;

	if (!s || !kind)
		return NULL;
	k = bsearch(kind, s->kinds, s->nkinds, sizeof(*s->kinds), cmp_kind_key);
	return k ? *k : NULL;
}

size_t hfs_schema_count(const hfs_schema *s)
{
	return s->nkinds;
}

const struct hfs_kind *hfs_schema_at(const hfs_schema *s, size_t i)
{
	return i < s->nkinds ? s->kinds[i] : NULL;
}

static int strv_has(const struct hfs_strv *sv, const char *v)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], v) == 0)
			return 1;
	return 0;
}

int hfs_schema_is_a(const hfs_schema *s, const char *kind, const char *type)
{
	const struct hfs_kind *k = hfs_schema_kind(s, kind);

	if (!k || !type)
		return 0;
	if (strcmp(kind, type) == 0)
		return 1;
	if (k->type == HFS_GENERIC)
		return 0;
	if (strv_has(&k->inherit_from, type))
		return 1;
	if (strcmp(type, "CoreNode") == 0)
		return 1;
	if (k->type == HFS_PROFILE)
		return strcmp(type, "CoreProfile") == 0;
	if (k->type == HFS_TEMPLATE)
		return strcmp(type, "CoreObjectTemplate") == 0;
	return 0;
}

static int cmp_attr_key(const void *key, const void *elem)
{
	const struct hfs_attr *const *a = elem;

	return strcmp(key, (*a)->name);
}

static int cmp_rel_key(const void *key, const void *elem)
{
	const struct hfs_rel *const *r = elem;

	return strcmp(key, (*r)->name);
}

const struct hfs_attr *hfs_kind_attr(const struct hfs_kind *k, const char *name)
{
	const struct kind_priv *p;
	const struct hfs_attr **a;

	if (!k || !name || !k->priv)
		return NULL;
	p = k->priv;
	a = bsearch(name, p->attrs, k->nattrs, sizeof(*p->attrs), cmp_attr_key);
	return a ? *a : NULL;
}

const struct hfs_rel *hfs_kind_rel(const struct hfs_kind *k, const char *name)
{
	const struct kind_priv *p;
	const struct hfs_rel **r;

	if (!k || !name || !k->priv)
		return NULL;
	p = k->priv;
	r = bsearch(name, p->rels, k->nrels, sizeof(*p->rels), cmp_rel_key);
	return r ? *r : NULL;
}

json_t *hfs_schema_elem(const hfs_schema *s, const struct hfs_kind *k)
{
	return json_object_get(json_object_get(s->built, type_keys[k->type]),
	                       k->kind);
}

const struct hfs_rel *hfs_rel_reverse(const hfs_schema *s, const char *kind,
                                      const struct hfs_rel *r)
{
	const struct hfs_kind *peer = hfs_schema_kind(s, r->peer);
	const struct hfs_rel *best = NULL;
	size_t i;

	if (!peer || !r->identifier)
		return NULL;
	for (i = 0; i < peer->nrels; i++) {
		const struct hfs_rel *o = &peer->rels[i];

		if (!o->identifier || strcmp(o->identifier, r->identifier) != 0)
			continue;
		if (strcmp(peer->kind, kind) == 0 &&
		    strcmp(o->name, r->name) == 0)
			continue;
		if (strcmp(o->direction, r->direction) != 0 ||
		    strcmp(o->direction, "bidirectional") == 0)
			return o;
		best = best ? best : o;
	}
	return best;
}
