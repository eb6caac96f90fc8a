/*
 * Resolver: manifest objects + schema -> desired objects. Three passes
 * over the objects in declaration order (parents come before their
 * children): kinds and fields, then identities, then merging repeats.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/arena.h"
#include "hf/buf.h"
#include "hf/jsontext.h"
#include "hf/map.h"
#include "hf/resolve.h"
#include "hf/yjson.h"
#include "hf/banned.h"

struct rec {
	const hf_mobj *mo;
	const hf_kind *k;
	struct hf_object obj;
	long parent; /* record index of the parent, or -1 */
	const struct hf_schema_rel *link; /* child's rel to its parent */
	const struct hf_schema_rel *up; /* parent's rel holding it */
	size_t cap; /* room in obj.fields, made once by build() */
	int bad; /* skipped: errors reported */
};

struct rctx {
	hf_manifest *m;
	const hf_schema *s;
	struct hf_resolve_opts o;
	hf_resolve_diag_fn diag;
	void *payload;
	struct rec *r;
	size_t n;
	int errors;
	json_t *unkeyed; /* "@file:line:col" -> objects made there */
	hf_hfid_pool *hfids; /* the references' HFIDs, shared */
	hf_buf key; /* scratch for identity keys */
};

static void say(struct rctx *c, enum hf_mdiag_level lvl, const char *file,
                int line, int col, const char *msg)
{
	hf_error e = HF_ERROR_INIT;

	hf_error_at(&e, HF_EINVAL, file ? file : "", line, col, "%s", msg);
	if (lvl == HF_MDIAG_ERROR)
		c->errors++;
	if (c->diag)
		c->diag(c->payload, lvl, &e);
}

static void fail_at(struct rctx *c, const hf_yval *at, const char *msg)
{
	say(c, HF_MDIAG_ERROR, at ? hf_yval_file(at) : "",
	    at ? hf_yval_line(at) : 0, at ? hf_yval_col(at) : 0, msg);
}

/* Format into a local buffer, then report at `at`. */
#define FAIL_AT(c, at, ...)                            \
	do {                                           \
		char m_[512];                          \
		snprintf(m_, sizeof(m_), __VA_ARGS__); \
		fail_at(c, at, m_);                    \
	} while (0)

static void fail_obj(struct rctx *c, const hf_mobj *mo, const char *msg)
{
	say(c, HF_MDIAG_ERROR, hf_mobj_file(mo), hf_mobj_line(mo),
	    hf_mobj_col(mo), msg);
}

/* After pass 1, from the object's own copy of where it was declared. */
static void fail_rec(struct rctx *c, const struct rec *r, const char *msg)
{
	say(c, HF_MDIAG_ERROR, r->obj.file, r->obj.line, r->obj.col, msg);
}

/* ---- pass 1: kinds and fields ------------------------------------------ */

/*
 * Whether kind `k` fits where `peer` is expected: it is-a peer, or the
 * peer generic lists it in used_by (templates and profiles are listed
 * there even when they name no generic in inherit_from).
 */
static int fits(const hf_schema *s, const hf_kind *k, const char *peer)
{
	const hf_kind *pk = hf_schema_kind(s, peer);
	struct hf_strv u;
	size_t i;

	if (hf_schema_is_a(s, k, peer))
		return 1;
	u = pk ? hf_schema_kind_used_by(pk) : (struct hf_strv){ 0 };
	for (i = 0; i < u.n; i++)
		if (u.v[i] && !strcmp(u.v[i], hf_schema_kind_name(k)))
			return 1;
	return 0;
}

/* Whether the nested block's shape suits the relationship's cardinality. */
static int nest_fits(const struct hf_schema_rel *rel, enum hf_mnest nest)
{
	if (rel->cardinality == HF_CARDINALITY_MANY)
		return nest != HF_MNEST_ONE;
	return nest == HF_MNEST_ONE;
}

static const hf_yval *kind_at(const hf_mobj *mo)
{
	return hf_mobj_kind_node(mo) ? hf_mobj_kind_node(mo) : hf_mobj_node(mo);
}

/*
 * A nested child's kind: its block's kind:, else the relationship's peer,
 * else, for a generic peer, the file's kind (what the SDK falls back to).
 * NULL (and nothing said) when the parent's field is not a relationship or
 * has the wrong shape: the parent reports that.
 */
static const char *nested_kind(struct rctx *c, struct rec *r)
{
	const hf_mobj *mo = r->mo;
	const char *kind = hf_mobj_kind(mo);
	const hf_mfield *pf = hf_mobj_parent_field(mo);
	const hf_kind *pk;

	if (r->parent < 0 || !c->r[r->parent].k)
		return kind;
	r->up = hf_schema_rel_find(c->r[r->parent].k, hf_mfield_name(pf));
	if (!r->up || !nest_fits(r->up, hf_mfield_nest(pf)))
		return NULL;
	if (kind)
		return kind;
	pk = hf_schema_kind(c->s, r->up->peer);
	if (pk && hf_schema_kind_type(pk) == HF_KIND_GENERIC)
		return hf_mdoc_kind(hf_mobj_doc(mo));
	return r->up->peer;
}

/* A nested child must be of a kind the relationship can hold. */
static int child_fits(struct rctx *c, struct rec *r, const hf_kind *k)
{
	const char *peer = r->up ? r->up->peer : NULL;

	if (!peer || !hf_schema_kind(c->s, peer) || fits(c->s, k, peer))
		return 1;
	if (hf_mobj_kind(r->mo) && hf_mobj_kind_node(r->mo))
		FAIL_AT(c, hf_mobj_kind_node(r->mo),
		        "'%s' is not a %s: relationship %s of %s holds %s objects",
		        hf_schema_kind_name(k), peer, r->up->name,
		        hf_schema_kind_name(c->r[r->parent].k), peer);
	else
		FAIL_AT(c, hf_mobj_node(r->mo),
		        "the nested objects of relationship %s need a kind: "
		        "its peer %s is a generic and %s is not one of its kinds",
		        r->up->name, peer, hf_schema_kind_name(k));
	return 0;
}

/* The kind of object i; fills in nested children written without kind:. */
static const hf_kind *object_kind(struct rctx *c, size_t i, struct rec *r)
{
	const hf_mobj *mo = r->mo;
	const char *kind, *sug;
	const hf_kind *k;

	kind = hf_mobj_parent(mo) ? nested_kind(c, r) : hf_mobj_kind(mo);
	if (!kind)
		return NULL;
	k = hf_schema_kind(c->s, kind);
	if (!k) {
		sug = hf_schema_suggest_kind(c->s, kind);
		FAIL_AT(c, kind_at(mo), "unknown kind '%s'%s%s%s", kind,
		        sug ? "; did you mean '" : "", sug ? sug : "",
		        sug ? "'?" : "");
		return NULL;
	}
	if (hf_schema_kind_type(k) == HF_KIND_GENERIC) {
		FAIL_AT(c, kind_at(mo),
		        "'%s' is a generic; name a node kind that implements it",
		        kind);
		return NULL;
	}
	if (!child_fits(c, r, k))
		return NULL;
	if (!hf_mobj_kind(mo) && hf_manifest_set_object_kind(c->m, i, kind) < 0)
		return NULL;
	return k;
}

/*
 * Field f joins the object built: into the room build() made for as many
 * fields as the file gives, not an array grown one field at a time (each
 * step left the last one behind: a large repository's garbage).
 */
static int add_field(struct rec *r, struct hf_field *f)
{
	if (r->obj.nfields >= r->cap)
		return hf_object_add_field(&r->obj, f);
	r->obj.fields[r->obj.nfields++] = *f;
	memset(f, 0, sizeof(*f));
	return 0;
}

static int attr_field(struct rctx *c, struct rec *r,
                      const struct hf_schema_attr *a, const hf_mfield *mf)
{
	const hf_yval *v = hf_mfield_value(mf);
	struct hf_field f;
	hf_error e = HF_ERROR_INIT;
	json_t *raw = NULL;

	if (hf_yval_type(v) == HF_YVAL_MAP && hf_yval_get(v, "value"))
		v = hf_yval_get(v, "value");
	if (hf_yval_json(&raw, v, &e) < 0) {
		fail_at(c, v, e.msg);
		return 0;
	}
	memset(&f, 0, sizeof(f));
	f.type = HF_FIELD_ATTR;
	f.akind = (unsigned char)a->kind;
	if (hf_value_check(&f.value, &a->spec, raw, &e) < 0) {
		json_decref(raw);
		fail_at(c, v, e.msg);
		return 0;
	}
	json_decref(raw);
	f.name = hf_name(a->name);
	f.file = hf_yval_file(v);
	f.line = hf_yval_line(v);
	f.col = hf_yval_col(v);
	if (!f.name) {
		hf_field_release(&f);
		return HF_ENOMEM;
	}
	return add_field(r, &f);
}

/*
 * Text of a scalar as the SDK would str() it into an HFID component: in
 * the document, or written into buf. NULL for anything but a scalar.
 */
static const char *scalar_view(const hf_yval *v, char buf[32], size_t *len)
{
	const char *t;
	long long ll;
	int b;

	if (hf_yval_type(v) != HF_YVAL_SCALAR)
		return NULL;
	if (!hf_yval_is_string(v) && hf_yval_resolve(v) == HF_YRES_BOOL &&
	    hf_yval_as_bool(v, &b) == 0)
		t = b ? "True" : "False";
	else if (!hf_yval_is_string(v) && hf_yval_resolve(v) == HF_YRES_INT &&
	         hf_yval_as_int(v, &ll) == 0) {
		snprintf(buf, 32, "%lld", ll);
		t = buf;
	} else {
		t = hf_yval_text(v, NULL);
	}
	*len = strlen(t);
	return t;
}

/* scalar_view() as a string of its own (hf_free()), or NULL. */
static char *scalar_text(const hf_yval *v)
{
	char buf[32];
	size_t len;
	const char *t = scalar_view(v, buf, &len);

	return t ? hf_strndup(t, len) : NULL;
}

/*
 * The pool's HFID equal to the one a reference writes (a scalar or a
 * list of them), found by its key: a hundred thousand devices naming a
 * few thousand sites make no arrays only to find theirs pooled. NULL
 * when the pool has none (or the reference is of another shape).
 */
static json_t *pooled(struct rctx *c, const hf_yval *v)
{
	const hf_yval *item;
	const char *t;
	char buf[32];
	size_t i, n, len;

	hf_buf_reset(&c->key);
	hf_identity_key_kind(&c->key, "");
	n = hf_yval_type(v) == HF_YVAL_SCALAR ? 1
	    : hf_yval_type(v) == HF_YVAL_SEQ  ? hf_yval_count(v)
	                                      : 0;
	for (i = 0; i < n; i++) {
		item = hf_yval_type(v) == HF_YVAL_SCALAR ? v
		                                         : hf_yval_item(v, i);
		t = scalar_view(item, buf, &len);
		if (!t)
			return NULL;
		hf_identity_key_part(&c->key, t, len);
	}
	if (!n || hf_buf_failed(&c->key))
		return NULL;
	return hf_hfid_pool_find(c->hfids, c->key.ptr, c->key.len);
}

static json_t *hfid_of(const hf_yval *v)
{
	json_t *h = json_array();
	char *t;
	size_t i;

	if (hf_yval_type(v) == HF_YVAL_SCALAR) {
		t = scalar_text(v);
		json_array_append_new(h, json_string(t ? t : ""));
		hf_free(t);
		return h;
	}
	for (i = 0; i < hf_yval_count(v); i++) {
		t = scalar_text(hf_yval_item(v, i));
		if (!t) {
			json_decref(h);
			return NULL;
		}
		json_array_append_new(h, json_string(t));
		hf_free(t);
	}
	return h;
}

/* The default_filter attribute of a peer kind into buf, or NULL. */
static const char *filter_attr(const struct rctx *c, const char *peer,
                               char buf[128])
{
	const hf_kind *k = hf_schema_kind(c->s, peer);
	const char *df = k ? hf_schema_kind_default_filter(k) : NULL;
	const char *sep = df ? strstr(df, "__") : NULL;

	if (!sep || (size_t)(sep - df) >= 128)
		return NULL;
	memcpy(buf, df, (size_t)(sep - df));
	buf[sep - df] = '\0';
	return buf;
}

/* Whether the peer's HFID is exactly its default_filter attribute. */
static int filter_is_hfid(const struct rctx *c, const char *peer)
{
	const hf_kind *k = hf_schema_kind(c->s, peer);
	struct hf_strv h = k ? hf_schema_kind_hfid(k) : (struct hf_strv){ 0 };
	const char *df = k ? hf_schema_kind_default_filter(k) : NULL;

	return df && h.n == 1 && !strcmp(h.v[0], df);
}

static int one_ref(struct rctx *c, struct hf_ref *ref,
                   const struct hf_schema_rel *rel, const hf_yval *v, int many)
{
	char *t, fbuf[128];
	const char *fa;

	memset(ref, 0, sizeof(*ref));
	ref->kind = hf_name(rel->peer);
	ref->file = hf_yval_file(v);
	ref->line = hf_yval_line(v);
	ref->col = hf_yval_col(v);
	fa = many && hf_yval_type(v) == HF_YVAL_SCALAR &&
	                     !filter_is_hfid(c, rel->peer)
	             ? filter_attr(c, rel->peer, fbuf)
	             : NULL;
	if (fa) {
		t = scalar_text(v);
		ref->filter_attr = hf_strdup(fa);
		ref->filter_value = json_string(t ? t : "");
		hf_free(t);
		return ref->kind && ref->filter_attr ? 0 : HF_ENOMEM;
	}
	ref->hfid = pooled(c, v);
	if (!ref->hfid)
		ref->hfid = hf_hfid_pool_take(c->hfids, hfid_of(v));
	if (!ref->hfid) {
		FAIL_AT(c, v,
		        "relationship %s doesn't have the right format: "
		        "a reference is a string or a list of strings",
		        rel->name);
		return 1;
	}
	return ref->kind ? 0 : HF_ENOMEM;
}

/* ---- relationship shapes ------------------------------------------------ */

/*
 * The shapes the object-file loader accepts for a relationship (the SDK's
 * infrahub_sdk/spec/object.py), and what is said about any other:
 *   one:  "hfid" | [hfid, parts] | {kind?, parameters?, data: {...}}
 *   many: ["hfid" | [hfid, parts], ...]
 *         | {kind?, parameters?, data: [{...}, ...]}
 *         | [{kind?, parameters?, data: {...}}, ...]
 * null clears the relationship.
 */
static const char *const one_shapes =
        "a reference (a string, or a list of strings) or one object "
        "{kind?, data: {...}}";
static const char *const many_shapes =
        "a list of references (strings, or lists of strings), "
        "{kind?, data: [...]} or a list of {kind?, data: {...}}";

/* A reference: a string (or other scalar), or a list of those. */
static int is_ref(const hf_yval *v)
{
	size_t i;

	if (hf_yval_type(v) == HF_YVAL_SCALAR)
		return 1;
	if (hf_yval_type(v) != HF_YVAL_SEQ || !hf_yval_count(v))
		return 0;
	for (i = 0; i < hf_yval_count(v); i++)
		if (hf_yval_type(hf_yval_item(v, i)) != HF_YVAL_SCALAR)
			return 0;
	return 1;
}

/* A mapping that is not a nested block: say what is wrong with it. */
static void bad_block(struct rctx *c, const struct hf_schema_rel *rel,
                      const hf_yval *v, int many)
{
	const hf_yval *d = hf_yval_get(v, "data");

	if (!d)
		FAIL_AT(c, v,
		        "relationship %s must be %s; found a mapping "
		        "without 'data'",
		        rel->name, many ? many_shapes : one_shapes);
	else
		FAIL_AT(c, d, "'data' of relationship %s must be %s, found %s",
		        rel->name,
		        many ? "a list of objects (mappings)"
		             : "one object (a mapping)",
		        hf_yval_describe(d));
}

/* Each item of a many-relationship list: all references, or objects. */
static int check_many_items(struct rctx *c, const struct hf_schema_rel *rel,
                            const hf_yval *v)
{
	const hf_yval *it;
	size_t i;

	for (i = 0; i < hf_yval_count(v); i++) {
		it = hf_yval_item(v, i);
		if (is_ref(it))
			continue;
		if (hf_yval_type(it) == HF_YVAL_MAP && hf_yval_get(it, "data"))
			FAIL_AT(c, hf_yval_get(it, "data"),
			        "'data' of item %zu of relationship %s must be "
			        "one object (a mapping), found %s",
			        i + 1, rel->name,
			        hf_yval_describe(hf_yval_get(it, "data")));
		else if (hf_yval_type(it) == HF_YVAL_MAP)
			FAIL_AT(c, it,
			        "item %zu of relationship %s is a "
			        "mapping without 'data'; the list holds "
			        "references (strings, or lists of strings) or "
			        "objects {kind?, data: {...}}, not a mix",
			        i + 1, rel->name);
		else
			FAIL_AT(c, it,
			        "item %zu of relationship %s is %s; a "
			        "reference is a string or a list of strings",
			        i + 1, rel->name,
			        hf_yval_type(it) == HF_YVAL_SEQ
			                ? "a list holding more than strings"
			                : hf_yval_describe(it));
		return 0;
	}
	return 1;
}

/* Whether a value that is not a nested block is references; else says so. */
static int check_refs(struct rctx *c, const struct hf_schema_rel *rel,
                      const hf_yval *v)
{
	int many = rel->cardinality == HF_CARDINALITY_MANY;

	if (hf_yval_type(v) == HF_YVAL_NULL)
		return 1;
	if (hf_yval_type(v) == HF_YVAL_MAP) {
		bad_block(c, rel, v, many);
		return 0;
	}
	if (many && hf_yval_type(v) == HF_YVAL_SEQ)
		return check_many_items(c, rel, v);
	if (!many && is_ref(v))
		return 1;
	if (many)
		FAIL_AT(c, v,
		        "relationship %s has cardinality many: it takes "
		        "%s; found %s (write it as a list: [...])",
		        rel->name, many_shapes, hf_yval_describe(v));
	else
		FAIL_AT(c, v,
		        "too many objects for relationship %s of "
		        "cardinality one: it takes %s",
		        rel->name, one_shapes);
	return 0;
}

/* The keys of a nested block: kind, parameters and data, nothing else. */
static void check_block_keys(struct rctx *c, const struct hf_schema_rel *rel,
                             const hf_yval *block)
{
	const hf_yval *k;
	const char *t;
	size_t i;

	for (i = 0; i < hf_yval_count(block); i++) {
		k = hf_yval_key(block, i);
		t = hf_yval_text(k, NULL);
		if (t && (!strcmp(t, "kind") || !strcmp(t, "data") ||
		          !strcmp(t, "parameters")))
			continue;
		FAIL_AT(c, k,
		        "unknown key '%s' in the nested objects of "
		        "relationship %s; a block has kind, parameters and data",
		        t ? t : "?", rel->name);
	}
}

/* A nested block: its shape against the cardinality, and its keys. */
static void check_nested(struct rctx *c, const struct hf_schema_rel *rel,
                         const hf_mfield *mf)
{
	const hf_yval *v = hf_mfield_value(mf), *d = hf_yval_get(v, "data");
	enum hf_mnest nest = hf_mfield_nest(mf);
	size_t i;

	if (nest == HF_MNEST_ONE && rel->cardinality == HF_CARDINALITY_MANY)
		FAIL_AT(c, d,
		        "relationship %s has cardinality many: 'data' "
		        "must be a list of objects, found a mapping",
		        rel->name);
	else if (nest == HF_MNEST_MANY_DICT &&
	         rel->cardinality == HF_CARDINALITY_ONE)
		FAIL_AT(c, d,
		        "relationship %s has cardinality one: 'data' "
		        "must be one object (a mapping), found a list",
		        rel->name);
	else if (nest == HF_MNEST_MANY_LIST &&
	         rel->cardinality == HF_CARDINALITY_ONE)
		FAIL_AT(c, v,
		        "too many objects for relationship %s of "
		        "cardinality one: it takes %s",
		        rel->name, one_shapes);
	if (nest != HF_MNEST_MANY_LIST) {
		check_block_keys(c, rel, v);
		return;
	}
	for (i = 0; i < hf_yval_count(v); i++)
		check_block_keys(c, rel, hf_yval_item(v, i));
}

static int rel_field(struct rctx *c, struct rec *r,
                     const struct hf_schema_rel *rel, const hf_mfield *mf)
{
	const hf_yval *v = hf_mfield_value(mf);
	int many = rel->cardinality == HF_CARDINALITY_MANY;
	struct hf_field f;
	size_t i, n;
	int rc = 0;

	if (hf_mfield_nest(mf) != HF_MNEST_NONE) {
		/* children link themselves, or the parent does later */
		check_nested(c, rel, mf);
		return 0;
	}
	if (!check_refs(c, rel, v))
		return 0;
	memset(&f, 0, sizeof(f));
	f.type = many ? HF_FIELD_MANY : HF_FIELD_ONE;
	f.file = hf_yval_file(v);
	f.line = hf_yval_line(v);
	f.col = hf_yval_col(v);
	n = hf_yval_type(v) == HF_YVAL_NULL ? 0 : many ? hf_yval_count(v) : 1;
	f.refs = hf_calloc(n ? n : 1, sizeof(*f.refs));
	f.name = hf_name(rel->name);
	if (!f.refs || !f.name) {
		hf_field_release(&f);
		return HF_ENOMEM;
	}
	for (i = 0; i < n && rc == 0; i++) {
		rc = one_ref(c, &f.refs[i], rel, many ? hf_yval_item(v, i) : v,
		             many);
		f.nrefs++;
	}
	if (rc != 0) {
		hf_field_release(&f);
		return rc < 0 ? rc : 0;
	}
	return add_field(r, &f);
}

static int one_field(struct rctx *c, struct rec *r, const hf_mfield *mf)
{
	const char *name = hf_mfield_name(mf), *sug;
	const struct hf_schema_attr *a = hf_schema_attr_find(r->k, name);
	const struct hf_schema_rel *rel =
	        a ? NULL : hf_schema_rel_find(r->k, name);

	if (!a && !rel) {
		sug = hf_schema_suggest(r->k, name);
		FAIL_AT(c, hf_mfield_key(mf),
		        "'%s' is not a valid attribute or relationship for %s%s%s%s",
		        name, hf_schema_kind_name(r->k),
		        sug ? "; did you mean '" : "", sug ? sug : "",
		        sug ? "'?" : "");
		return 0;
	}
	if ((a && (a->read_only || a->computed)) || (rel && rel->read_only)) {
		FAIL_AT(c, hf_mfield_key(mf), "'%s' of %s is read-only", name,
		        hf_schema_kind_name(r->k));
		return 0;
	}
	return a ? attr_field(c, r, a, mf) : rel_field(c, r, rel, mf);
}

/*
 * The template an object is created from (it sets object_template): its
 * kind, the relationship's peer, or NULL when the object names none.
 * *any is set when the template's schema is unknown, so that it may
 * supply anything.
 */
static const hf_kind *template_kind(struct rctx *c, struct rec *r, int *any)
{
	const struct hf_schema_rel *rel;
	const hf_kind *tk;

	*any = 0;
	if (!hf_mobj_field(r->mo, "object_template"))
		return NULL;
	rel = hf_schema_rel_find(r->k, "object_template");
	tk = rel ? hf_schema_kind(c->s, rel->peer) : NULL;
	*any = !tk;
	return tk;
}

/* Whether the object's template may supply the field `name`. */
static int from_template(const hf_kind *tk, int any, const char *name)
{
	return any || (tk && (hf_schema_attr_find(tk, name) ||
	                      hf_schema_rel_find(tk, name)));
}

/*
 * Mandatory fields. An object created from a template gets what the
 * template holds when Infrahub instantiates it, so the file need not set
 * those (the server still refuses the create if neither does).
 */
static void check_required(struct rctx *c, struct rec *r)
{
	const struct hf_schema_attr *a;
	const struct hf_schema_rel *rel;
	const hf_kind *tk;
	char msg[256];
	size_t i;
	int any;

	tk = template_kind(c, r, &any);
	for (i = 0; i < hf_schema_attr_count(r->k); i++) {
		a = hf_schema_attr_at(r->k, i);
		if (a->optional || a->default_value || a->read_only ||
		    a->computed || hf_mobj_field(r->mo, a->name) ||
		    from_template(tk, any, a->name))
			continue;
		snprintf(msg, sizeof(msg), "%s is mandatory for %s", a->name,
		         hf_schema_kind_name(r->k));
		fail_obj(c, r->mo, msg);
	}
	for (i = 0; i < hf_schema_rel_count(r->k); i++) {
		rel = hf_schema_rel_at(r->k, i);
		if (rel->optional || rel->read_only ||
		    hf_mobj_field(r->mo, rel->name) ||
		    (r->link && !strcmp(r->link->name, rel->name)) ||
		    from_template(tk, any, rel->name))
			continue;
		snprintf(msg, sizeof(msg), "%s is mandatory for %s", rel->name,
		         hf_schema_kind_name(r->k));
		fail_obj(c, r->mo, msg);
	}
}

/*
 * Infrahub puts an IP prefix or address given without a namespace into
 * the built-in `default` namespace; say so, so the identity (which often
 * includes the namespace) and the diff match what the server stores.
 */
static int default_namespace(struct rctx *c, struct rec *r)
{
	const struct hf_schema_rel *rel =
	        hf_schema_rel_find(r->k, "ip_namespace");
	struct hf_field f;

	/* an object made from a template takes the template's namespace */
	if (!rel || hf_object_field(&r->obj, "ip_namespace") ||
	    hf_mobj_field(r->mo, "ip_namespace") ||
	    hf_mobj_field(r->mo, "object_template") ||
	    (!hf_schema_is_a(c->s, r->k, "BuiltinIPAddress") &&
	     !hf_schema_is_a(c->s, r->k, "BuiltinIPPrefix")))
		return 0;
	memset(&f, 0, sizeof(f));
	f.name = hf_name("ip_namespace");
	f.type = HF_FIELD_ONE;
	f.refs = hf_calloc(1, sizeof(*f.refs));
	if (!f.name || !f.refs) {
		hf_field_release(&f);
		return HF_ENOMEM;
	}
	f.nrefs = 1;
	f.refs[0].kind = hf_name(rel->peer);
	f.refs[0].hfid = json_pack("[s]", "default");
	f.refs[0].file = hf_mobj_file(r->mo);
	f.refs[0].line = hf_mobj_line(r->mo);
	f.refs[0].col = hf_mobj_col(r->mo);
	f.file = f.refs[0].file;
	f.line = f.refs[0].line;
	f.col = f.refs[0].col;
	return add_field(r, &f);
}

static int build(struct rctx *c, size_t i)
{
	struct rec *r = &c->r[i];
	int before = c->errors, rc = 0;
	size_t j;

	/* the later passes take positions from here, not the documents */
	r->obj.file = hf_mobj_file(r->mo);
	r->obj.line = hf_mobj_line(r->mo);
	r->obj.col = hf_mobj_col(r->mo);
	r->k = object_kind(c, i, r);
	if (!r->k) {
		r->bad = 1;
		return 0;
	}
	r->obj.kind = hf_name(hf_schema_kind_name(r->k));
	if (!r->obj.kind)
		return HF_ENOMEM;
	/*
	 * Link from the child's side only through a cardinality-one
	 * relationship (an address's interface, a site's parent): writing a
	 * child-side many-relationship would replace all of its peers.
	 */
	if (r->up)
		r->link = hf_schema_rel_reverse(c->s, c->r[r->parent].k, r->up);
	if (r->link && r->link->cardinality != HF_CARDINALITY_ONE)
		r->link = NULL;
	r->cap = hf_mobj_field_count(r->mo);
	if (r->cap && !(r->obj.fields = hf_reallocarray(
	                        NULL, r->cap, sizeof(*r->obj.fields))))
		return HF_ENOMEM;
	for (j = 0; rc == 0 && j < hf_mobj_field_count(r->mo); j++)
		rc = one_field(c, r, hf_mobj_field_at(r->mo, j));
	if (rc == 0)
		rc = default_namespace(c, r);
	check_required(c, r);
	r->bad = c->errors > before;
	return rc;
}

/* ---- pass 2: identities -------------------------------------------------- */

static char *json_text(const json_t *v)
{
	char buf[64];

	if (json_is_string(v))
		return hf_strdup(json_string_value(v));
	if (json_is_integer(v)) {
		snprintf(buf, sizeof(buf), "%lld",
		         (long long)json_integer_value(v));
		return hf_strdup(buf);
	}
	if (json_is_real(v)) {
		snprintf(buf, sizeof(buf), "%g", json_real_value(v));
		return hf_strdup(buf);
	}
	if (json_is_boolean(v))
		return hf_strdup(json_is_true(v) ? "True" : "False");
	return NULL;
}

/* Records by identity key (hf_identity_key()): index + 1 as the value. */
static long find_rec(struct rctx *c, hf_map *index, const char *kind,
                     const json_t *hfid)
{
	void *at = NULL;

	hf_buf_reset(&c->key);
	if (hf_identity_key(&c->key, kind, hfid) == 0)
		at = hf_map_get(index, c->key.ptr, c->key.len);
	return at ? (long)((uintptr_t)at - 1) : -1;
}

static char *attr_component(struct rctx *c, hf_map *index, size_t ri,
                            const char *path);

/* "AS{{ asn__value }}" with its holes filled from the object's values. */
static char *render_template(struct rctx *c, hf_map *index, size_t ri,
                             const char *tpl)
{
	hf_buf b = HF_BUF_INIT;
	const char *p = tpl, *open, *close;
	char path[128], *v;
	size_t n;

	while ((open = strstr(p, "{{"))) {
		hf_buf_addn(&b, p, (size_t)(open - p));
		close = strstr(open, "}}");
		if (!close)
			break;
		open += 2;
		while (*open == ' ')
			open++;
		for (n = (size_t)(close - open); n && open[n - 1] == ' '; n--)
			;
		snprintf(path, sizeof(path), "%.*s", (int)n, open);
		v = attr_component(c, index, ri, path);
		if (!v) {
			hf_buf_release(&b);
			return NULL;
		}
		hf_buf_add(&b, v);
		hf_free(v);
		p = close + 2;
	}
	hf_buf_add(&b, p);
	return hf_buf_detach(&b);
}

/* The value of attribute `name` on record ri (set, or its default). */
static char *own_value(struct rctx *c, hf_map *index, size_t ri,
                       const struct hf_schema_attr *a)
{
	const struct hf_field *f = hf_object_field(&c->r[ri].obj, a->name);

	if (f && f->value && !json_is_null(f->value))
		return json_text(f->value);
	if (a->computed_template)
		return render_template(c, index, ri, a->computed_template);
	if (a->default_value)
		return json_text(a->default_value);
	return NULL;
}

/*
 * The peer's attribute through a one-object block written under the
 * relationship (`device: {kind: X, data: {...}}`): the child is linked
 * from this side once it has an identity, which comes after this one's,
 * so read the value from the child itself. Children follow their parent
 * (hf/manifest.h), and the whole subtree of ri has parents at ri or after.
 */
static char *nested_value(struct rctx *c, hf_map *index, size_t ri,
                          const struct hf_schema_path *p)
{
	const struct hf_schema_attr *a;
	size_t j;

	for (j = ri + 1; j < c->n && c->r[j].parent >= (long)ri; j++) {
		if (c->r[j].parent != (long)ri || c->r[j].up != p->rel ||
		    !c->r[j].k)
			continue;
		a = hf_schema_attr_find(c->r[j].k, p->attr->name);
		return own_value(c, index, j, a ? a : p->attr);
	}
	return NULL;
}

/* The peer's attribute through a cardinality-one reference. */
static char *peer_value(struct rctx *c, hf_map *index, size_t ri,
                        const struct hf_schema_path *p)
{
	const struct hf_field *f = hf_object_field(&c->r[ri].obj, p->rel->name);
	const struct hf_ref *ref = f && f->nrefs ? &f->refs[0] : NULL;
	struct hf_strv h;
	char want[160];
	long t;
	size_t i;

	if (!ref)
		return nested_value(c, index, ri, p);
	if (!ref->hfid)
		return NULL;
	t = find_rec(c, index, ref->kind, ref->hfid);
	if (t >= 0 && hf_schema_kind(c->s, c->r[t].obj.kind))
		return own_value(
		        c, index, (size_t)t,
		        hf_schema_attr_find(c->r[t].k, p->attr->name)
		                ? hf_schema_attr_find(c->r[t].k, p->attr->name)
		                : p->attr);
	h = hf_schema_kind_hfid(p->peer);
	snprintf(want, sizeof(want), "%s__value", p->attr->name);
	for (i = 0; i < h.n && i < json_array_size(ref->hfid); i++)
		if (!strcmp(h.v[i], want))
			return hf_strdup(json_string_value(
			        json_array_get(ref->hfid, i)));
	return NULL;
}

static char *attr_component(struct rctx *c, hf_map *index, size_t ri,
                            const char *path)
{
	struct hf_schema_path p;
	hf_error e = HF_ERROR_INIT;

	if (hf_schema_path_parse(&p, c->r[ri].k, path, 0, &e) < 0 || !p.attr)
		return NULL;
	if (p.rel)
		return peer_value(c, index, ri, &p);
	return own_value(c, index, ri, p.attr);
}

/*
 * A kind with neither an HFID nor a unique attribute cannot be matched
 * to live objects, so each declaration is an object of its own (always a
 * create): "@FILE:LINE:COL", with "#2", "#3"... for further objects from
 * the same place (the items an expand_range list makes of one entry, the
 * children of an expanded parent). Merging them would keep only the last.
 */
static int unkeyed_identity(struct rctx *c, struct rec *r)
{
	char base[512], id[544];
	json_int_t n;
	json_t *seen;

	snprintf(base, sizeof(base), "@%s:%d:%d", r->obj.file, r->obj.line,
	         r->obj.col);
	seen = json_object_get(c->unkeyed, base);
	n = seen ? json_integer_value(seen) + 1 : 1;
	if (json_object_set_new(c->unkeyed, base, json_integer(n)) < 0)
		return HF_ENOMEM;
	if (n > 1)
		snprintf(id, sizeof(id), "%s#%" JSON_INTEGER_FORMAT, base, n);
	else
		snprintf(id, sizeof(id), "%s", base);
	return json_array_append_new(r->obj.hfid, json_string(id)) < 0
	               ? HF_ENOMEM
	               : 0;
}

bool hf_resolve_unkeyed(const hf_schema *s, const char *kind)
{
	const hf_kind *k = kind ? hf_schema_kind(s, kind) : NULL;
	size_t i;

	if (!k || hf_schema_kind_hfid(k).n)
		return false;
	for (i = 0; i < hf_schema_attr_count(k); i++)
		if (hf_schema_attr_at(k, i)->unique)
			return false;
	return true;
}

static int unkeyed(struct rctx *c, struct rec *r)
{
	char msg[512];

	if (c->o.allow_unkeyed)
		return unkeyed_identity(c, r);
	snprintf(msg, sizeof(msg),
	         "%s has neither a human_friendly_id nor a unique attribute: "
	         "re-applying would duplicate it (use --allow-unkeyed)",
	         hf_schema_kind_name(r->k));
	fail_rec(c, r, msg);
	return 1;
}

static int compute_hfid(struct rctx *c, hf_map *index, size_t ri)
{
	struct rec *r = &c->r[ri];
	struct hf_strv h = hf_schema_kind_hfid(r->k);
	const struct hf_schema_attr *a;
	char msg[512], *v;
	size_t i;
	int rc;

	r->obj.hfid = json_array();
	if (!r->obj.hfid)
		return HF_ENOMEM;
	if (hf_resolve_unkeyed(c->s, hf_schema_kind_name(r->k)))
		return unkeyed(c, r);
	for (i = 0; !h.n && i < hf_schema_attr_count(r->k); i++) {
		a = hf_schema_attr_at(r->k, i);
		if (!a->unique)
			continue;
		v = own_value(c, index, ri, a);
		if (!v) {
			snprintf(msg, sizeof(msg),
			         "cannot compute the identity of %s: no value "
			         "for its unique attribute '%s'",
			         hf_schema_kind_name(r->k), a->name);
			fail_rec(c, r, msg);
			return 1;
		}
		rc = json_array_append_new(r->obj.hfid, json_string(v));
		hf_free(v);
		return rc < 0 ? HF_ENOMEM : 0;
	}
	for (i = 0; i < h.n; i++) {
		v = attr_component(c, index, ri, h.v[i]);
		if (!v) {
			snprintf(
			        msg, sizeof(msg),
			        "cannot compute the human-friendly id of %s: no "
			        "value for '%s'",
			        hf_schema_kind_name(r->k), h.v[i]);
			fail_rec(c, r, msg);
			return 1;
		}
		json_array_append_new(r->obj.hfid, json_string(v));
		hf_free(v);
	}
	return 0;
}

/* `at`: the object whose declaration the reference points at. */
static int add_ref_field(struct hf_object *o, const struct hf_schema_rel *rel,
                         const struct hf_object *peer,
                         const struct hf_object *at)
{
	struct hf_field *f = hf_object_field(o, rel->name), nf;
	struct hf_ref *refs;

	if (!f) {
		memset(&nf, 0, sizeof(nf));
		nf.name = hf_name(rel->name);
		nf.type = rel->cardinality == HF_CARDINALITY_MANY
		                  ? HF_FIELD_MANY
		                  : HF_FIELD_ONE;
		nf.file = at->file;
		nf.line = at->line;
		nf.col = at->col;
		if (!nf.name || hf_object_add_field(o, &nf) < 0)
			return HF_ENOMEM;
		f = hf_object_field(o, rel->name);
	}
	if (f->type == HF_FIELD_ONE && f->nrefs)
		return 0;
	refs = hf_reallocarray(f->refs, f->nrefs + 1, sizeof(*refs));
	if (!refs)
		return HF_ENOMEM;
	f->refs = refs;
	memset(&refs[f->nrefs], 0, sizeof(*refs));
	refs[f->nrefs].kind = hf_name(peer->kind);
	refs[f->nrefs].hfid = json_incref(peer->hfid);
	refs[f->nrefs].file = at->file;
	refs[f->nrefs].line = at->line;
	refs[f->nrefs].col = at->col;
	f->nrefs++;
	return refs[f->nrefs - 1].kind ? 0 : HF_ENOMEM;
}

static int identify(struct rctx *c, hf_map *index, size_t ri)
{
	struct rec *r = &c->r[ri];
	struct rec *p = r->parent >= 0 ? &c->r[r->parent] : NULL;
	hf_buf *key = &c->key;
	int rc;

	if (p && p->bad)
		r->bad = 1;
	if (r->bad)
		return 0;
	if (r->link &&
	    (rc = add_ref_field(&r->obj, r->link, &p->obj, &r->obj)) < 0)
		return rc;
	rc = compute_hfid(c, index, ri);
	if (rc != 0) {
		r->bad = 1;
		return rc < 0 ? rc : 0;
	}
	if (p && r->up && !r->link &&
	    (rc = add_ref_field(&p->obj, r->up, &r->obj, &r->obj)) < 0)
		return rc;
	hf_buf_reset(key);
	if (hf_identity_key(key, r->obj.kind, r->obj.hfid) == 0 &&
	    !hf_map_get(index, key->ptr, key->len) &&
	    hf_map_put(index, key->ptr, key->len,
	               (void *)(uintptr_t)(ri + 1)) == HF_ENOMEM)
		return HF_ENOMEM;
	return 0;
}

/* ---- pass 3: repeats, uniqueness, the set ----------------------------- */

static char *show_field(const struct hf_field *f)
{
	json_t *j = NULL;
	char *t;

	if (f->type == HF_FIELD_ATTR && hf_attr_kind_is_secret(f->akind))
		return hf_strdup(HF_SENSITIVE_TEXT);
	if (f->type == HF_FIELD_ATTR)
		j = json_incref(f->value);
	else if (f->nrefs)
		j = json_incref(f->refs[0].hfid ? f->refs[0].hfid
		                                : f->refs[0].filter_value);
	t = json_dumps(j ? j : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(j);
	return t;
}

static int same_field(const struct hf_field *a, const struct hf_field *b)
{
	char *x, *y;
	int eq;
	size_t i;

	if (a->type != b->type)
		return 0;
	if (a->type == HF_FIELD_ATTR)
		return hf_value_equal(a->akind, a->value, b->value);
	if (a->nrefs != b->nrefs)
		return 0;
	for (i = 0; i < a->nrefs; i++) {
		x = json_dumps(a->refs[i].hfid ? a->refs[i].hfid
		                               : a->refs[i].filter_value,
		               JSON_COMPACT | JSON_ENCODE_ANY);
		y = json_dumps(b->refs[i].hfid ? b->refs[i].hfid
		                               : b->refs[i].filter_value,
		               JSON_COMPACT | JSON_ENCODE_ANY);
		eq = x && y && !strcmp(x, y);
		hf_free(x);
		hf_free(y);
		if (!eq)
			return 0;
	}
	return 1;
}

static void conflict(struct rctx *c, const struct hf_object *o,
                     const struct hf_field *old, const struct hf_field *nw)
{
	char msg[1024], *a = show_field(old), *b = show_field(nw);
	char *id = json_dumps(o->hfid, JSON_COMPACT);

	snprintf(
	        msg, sizeof(msg),
	        "%s %s: field '%s' set to %s at %s:%d:%d and to %s here; the later wins",
	        o->kind, id ? id : "?", nw->name, a ? a : "?",
	        old->file ? old->file : "?", old->line, old->col, b ? b : "?");
	say(c, c->o.strict ? HF_MDIAG_ERROR : HF_MDIAG_WARNING, nw->file,
	    nw->line, nw->col, msg);
	hf_free(a);
	hf_free(b);
	hf_free(id);
}

static int merge_into(struct rctx *c, struct hf_object *dst,
                      struct hf_object *src)
{
	struct hf_field *ef;
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < src->nfields; i++) {
		ef = hf_object_field(dst, src->fields[i].name);
		if (!ef) {
			rc = hf_object_add_field(dst, &src->fields[i]);
			continue;
		}
		if (same_field(ef, &src->fields[i]))
			continue;
		conflict(c, dst, ef, &src->fields[i]);
		hf_field_release(ef);
		*ef = src->fields[i];
		memset(&src->fields[i], 0, sizeof(src->fields[i]));
	}
	hf_object_release(src);
	return rc;
}

/*
 * "Kind\x1fattr\x1f" and the value's JSON text, in b: 0, HF_ENOMEM, or
 * HF_EINVAL for a value JSON cannot spell (not UTF-8, not finite), which
 * the caller leaves out.
 */
static int unique_key(hf_buf *b, const struct hf_object *o,
                      const struct hf_field *f)
{
	int rc;

	hf_buf_reset(b);
	hf_buf_add(b, o->kind);
	hf_buf_addch(b, '\x1f');
	hf_buf_add(b, f->name);
	hf_buf_addch(b, '\x1f');
	if ((rc = hf_json_write(b, f->value, 0)) < 0)
		return rc;
	return hf_buf_failed(b) ? HF_ENOMEM : 0;
}

static void unique_clash(struct rctx *c, const struct hf_object *first,
                         const struct hf_object *o, const struct hf_field *f,
                         const char *v)
{
	char msg[1024], *h1, *h2;

	h1 = json_dumps(first->hfid, JSON_COMPACT);
	h2 = json_dumps(o->hfid, JSON_COMPACT);
	snprintf(msg, sizeof(msg),
	         "%s %s and %s %s (%s:%d:%d) both have unique %s = %s", o->kind,
	         h2 ? h2 : "?", first->kind, h1 ? h1 : "?", first->file,
	         first->line, first->col, f->name, v);
	say(c, HF_MDIAG_ERROR, f->file, f->line, f->col, msg);
	hf_free(h1);
	hf_free(h2);
}

/*
 * Two declared objects of a kind with the same value of a unique
 * attribute. The values seen are keyed in a map over an arena: a JSON
 * object of them (a key copy, an entry and an integer each) was a tenth
 * of resolving 100k objects. 0 or HF_ENOMEM.
 */
static int unique_clashes(struct rctx *c, hf_objset *set)
{
	hf_map seen = HF_MAP_INIT;
	hf_arena keys;
	hf_buf key = HF_BUF_INIT;
	const struct hf_schema_attr *a;
	const struct hf_object *o;
	const struct hf_field *f;
	const char *k;
	size_t i, j, n;
	uintptr_t at;
	int rc = 0;

	hf_arena_init(&keys, 0);
	for (i = 0; rc == 0 && i < hf_objset_count(set); i++) {
		o = hf_objset_at(set, i);
		for (j = 0; rc == 0 && j < o->nfields; j++) {
			f = &o->fields[j];
			a = f->type == HF_FIELD_ATTR
			            ? hf_schema_attr_find(
			                      hf_schema_kind(c->s, o->kind),
			                      f->name)
			            : NULL;
			if (!a || !a->unique || !f->value ||
			    json_is_null(f->value))
				continue;
			if ((rc = unique_key(&key, o, f)) == HF_EINVAL) {
				rc = 0;
				continue;
			}
			if (rc < 0)
				break;
			at = (uintptr_t)hf_map_get(&seen, key.ptr, key.len);
			if (at) {
				/* the value: after the second separator */
				n = strlen(o->kind) + strlen(f->name) + 2;
				unique_clash(c, hf_objset_at(set, at - 1), o, f,
				             key.ptr + n);
				continue;
			}
			k = hf_arena_strndup(&keys, key.ptr, key.len);
			rc = !k ? HF_ENOMEM
			        : hf_map_put(&seen, k, key.len,
			                     (void *)(uintptr_t)(i + 1));
		}
	}
	hf_buf_release(&key);
	hf_map_release(&seen);
	hf_arena_release(&keys);
	return rc;
}

/* ---- pass 4: references to declared objects, by their own kind -------- */

/*
 * A reference names the relationship's peer kind, which may be a generic
 * (CoreObjectTemplate, CoreProfile, a generic of the user's schema). When
 * the files declare the object it points at, the reference takes that
 * object's own kind: Infrahub needs the concrete kind beside an HFID for
 * a generic peer, and the fetch and the diff then find the object by its
 * exact identity. A declared object of any kind that implements the peer
 * qualifies: nodes, but also templates and profiles, which generics list
 * in used_by. A string in a many-relationship that goes by the peer's
 * default_filter is matched on that attribute's value the same way.
 */
struct links {
	json_t *byhfid; /* "part\x1fpart" -> [set index, ...] */
	json_t *byattr; /* "attr\x1fvalue" -> [set index, ...] */
	json_t *attrs; /* filter attributes the references use */
	json_t *kinds; /* the kinds those references name */
	json_t *fit; /* an object's kind -> whether it fits one of them */
	hf_buf key;
};

static int index_add(json_t *ix, const char *key, size_t i)
{
	json_t *list = json_object_get(ix, key);

	if (!list) {
		list = json_array();
		if (!list || json_object_set_new(ix, key, list) < 0)
			return HF_ENOMEM;
	}
	return json_array_append_new(list, json_integer((json_int_t)i)) < 0
	               ? HF_ENOMEM
	               : 0;
}

static void hfid_key(hf_buf *b, const json_t *hfid)
{
	const json_t *part;
	size_t i;

	hf_buf_reset(b);
	json_array_foreach(hfid, i, part)
	{
		const char *t = json_string_value(part);

		hf_buf_addf(b, "%s%s", i ? "\x1f" : "", t ? t : "");
	}
}

static void attr_key(hf_buf *b, const char *attr, const json_t *v)
{
	char *t = json_text(v);

	hf_buf_reset(b);
	hf_buf_addf(b, "%s\x1f%s", attr, t ? t : "");
	hf_free(t);
}

/* Whether a reference may point at a declared object of another kind. */
static int needs_link(const hf_objset *set, const struct hf_ref *r)
{
	if (r->id)
		return 0;
	if (r->hfid)
		return hf_objset_find(set, r->kind, r->hfid) < 0;
	return r->filter_value && r->filter_attr;
}

/* Note the filter attributes o's references use; *any: one needs a link. */
static int object_wants(struct links *L, const hf_objset *set,
                        const struct hf_object *o, int *any)
{
	const struct hf_ref *r;
	size_t j, k;

	for (j = 0; j < o->nfields; j++) {
		for (k = 0; k < o->fields[j].nrefs; k++) {
			r = &o->fields[j].refs[k];
			if (!needs_link(set, r))
				continue;
			*any = 1;
			if (!r->hfid &&
			    json_object_set_new(L->attrs, r->filter_attr,
			                        json_true()) < 0)
				return HF_ENOMEM;
			if (json_object_set_new(L->kinds,
			                        r->kind ? r->kind : "",
			                        json_true()) < 0)
				return HF_ENOMEM;
		}
	}
	return 0;
}

/*
 * Whether a reference needing a link could be to `o`: link_target() only
 * takes an object whose kind fits the reference's, so one that fits none
 * of their kinds is not indexed (a thousand devices naming a tag that
 * lives only in Infrahub index nothing). Worked out once per kind.
 */
static int may_be_linked(struct rctx *c, struct links *L,
                         const struct hf_object *o, int *yes)
{
	const json_t *known = json_object_get(L->fit, o->kind);
	const hf_kind *k;
	const char *w;
	json_t *v;

	*yes = json_is_true(known);
	if (known)
		return 0;
	k = hf_schema_kind(c->s, o->kind);
	json_object_foreach(L->kinds, w, v)
	{
		if (k && (!*w || fits(c->s, k, w))) {
			*yes = 1;
			break;
		}
	}
	return json_object_set_new(L->fit, o->kind, json_boolean(*yes)) < 0
	               ? HF_ENOMEM
	               : 0;
}

static int index_object(struct rctx *c, struct links *L,
                        const struct hf_object *o, size_t i)
{
	const struct hf_field *f;
	size_t j;
	int rc, yes = 0;

	if ((rc = may_be_linked(c, L, o, &yes)) < 0 || !yes)
		return rc;
	hfid_key(&L->key, o->hfid);
	if (hf_buf_failed(&L->key))
		return HF_ENOMEM;
	rc = index_add(L->byhfid, L->key.ptr, i);
	for (j = 0; rc == 0 && j < o->nfields; j++) {
		f = &o->fields[j];
		if (f->type != HF_FIELD_ATTR || !f->value ||
		    json_is_null(f->value) ||
		    !json_object_get(L->attrs, f->name))
			continue;
		attr_key(&L->key, f->name, f->value);
		rc = hf_buf_failed(&L->key)
		             ? HF_ENOMEM
		             : index_add(L->byattr, L->key.ptr, i);
	}
	return rc;
}

/* The key a reference is looked up by, in L->key; its index. */
static json_t *ref_key(struct rctx *c, struct links *L, const struct hf_ref *r)
{
	const hf_kind *pk = hf_schema_kind(c->s, r->kind);
	const struct hf_schema_attr *a;
	json_t *v = NULL;

	if (r->hfid) {
		hfid_key(&L->key, r->hfid);
		return L->byhfid;
	}
	a = pk ? hf_schema_attr_find(pk, r->filter_attr) : NULL;
	if (hf_value_normalise(&v, a ? a->kind : HF_ATTR_TEXT,
	                       r->filter_value) < 0)
		return NULL;
	attr_key(&L->key, r->filter_attr, v);
	json_decref(v);
	return L->byattr;
}

static void ambiguous(struct rctx *c, const struct hf_ref *r,
                      const struct hf_object *a, const struct hf_object *b)
{
	char msg[1024], *ha = json_dumps(a->hfid, JSON_COMPACT);
	char *hb = json_dumps(b->hfid, JSON_COMPACT);

	snprintf(msg, sizeof(msg),
	         "reference to a %s matches several objects "
	         "in the files: %s %s (%s:%d:%d) and %s %s (%s:%d:%d)",
	         r->kind, a->kind, ha ? ha : "?", a->file ? a->file : "?",
	         a->line, a->col, b->kind, hb ? hb : "?",
	         b->file ? b->file : "?", b->line, b->col);
	say(c, HF_MDIAG_ERROR, r->file, r->line, r->col, msg);
	hf_free(ha);
	hf_free(hb);
}

/* The declared object of a kind fitting r->kind that r names, or -1. */
static long link_target(struct rctx *c, struct links *L, const hf_objset *set,
                        const struct hf_ref *r)
{
	json_t *ix = ref_key(c, L, r), *e;
	const struct hf_object *o;
	const hf_kind *k;
	long pick = -1;
	size_t i;

	json_array_foreach(ix ? json_object_get(ix, L->key.ptr) : NULL, i, e)
	{
		o = hf_objset_at(set, (size_t)json_integer_value(e));
		k = hf_schema_kind(c->s, o->kind);
		if (!k || !fits(c->s, k, r->kind))
			continue;
		if (pick >= 0) {
			ambiguous(c, r, hf_objset_at(set, (size_t)pick), o);
			return -1;
		}
		pick = (long)json_integer_value(e);
	}
	return pick;
}

static int link_ref(struct rctx *c, struct links *L, hf_objset *set,
                    struct hf_ref *r)
{
	const struct hf_object *o;
	const char *kind;
	long at;

	if (!needs_link(set, r))
		return 0;
	at = link_target(c, L, set, r);
	if (at < 0)
		return 0;
	o = hf_objset_at(set, (size_t)at);
	kind = hf_name(o->kind);
	if (!kind)
		return HF_ENOMEM;
	r->kind = kind;
	if (!r->hfid)
		r->hfid = json_incref(o->hfid);
	return 0;
}

static int link_refs(struct rctx *c, hf_objset *set)
{
	struct links L = { json_object(), json_object(), json_object(),
		           json_object(), json_object(), HF_BUF_INIT };
	struct hf_object *o;
	size_t i, j, k;
	int rc, any = 0;

	rc = !L.byhfid || !L.byattr || !L.attrs || !L.kinds || !L.fit
	             ? HF_ENOMEM
	             : 0;
	for (i = 0; rc == 0 && i < hf_objset_count(set); i++)
		rc = object_wants(&L, set, hf_objset_at(set, i), &any);
	for (i = 0; rc == 0 && any && i < hf_objset_count(set); i++)
		rc = index_object(c, &L, hf_objset_at(set, i), i);
	for (i = 0; rc == 0 && any && i < hf_objset_count(set); i++) {
		o = hf_objset_at(set, i);
		for (j = 0; rc == 0 && j < o->nfields; j++)
			for (k = 0; rc == 0 && k < o->fields[j].nrefs; k++)
				rc = link_ref(c, &L, set,
				              &o->fields[j].refs[k]);
	}
	json_decref(L.byhfid);
	json_decref(L.byattr);
	json_decref(L.attrs);
	json_decref(L.kinds);
	json_decref(L.fit);
	hf_buf_release(&L.key);
	return rc;
}

static int collect(struct rctx *c, hf_objset *set, hf_error *err)
{
	struct rec *r;
	long at;
	size_t i;
	int rc = 0;

	/* room for every record at once; repeats merge, so a few spare */
	(void)hf_objset_reserve(set, hf_objset_count(set) + c->n, 0);
	for (i = 0; rc == 0 && i < c->n; i++) {
		r = &c->r[i];
		if (r->bad)
			continue;
		at = hf_objset_find(set, r->obj.kind, r->obj.hfid);
		if (at >= 0)
			rc = merge_into(c, hf_objset_at(set, (size_t)at),
			                &r->obj);
		else
			rc = hf_objset_add(set, &r->obj, err);
	}
	return rc;
}

int hf_resolve(hf_objset **out, hf_manifest *m, const hf_schema *s,
               const struct hf_resolve_opts *o, hf_resolve_diag_fn diag,
               void *payload, hf_error *err)
{
	struct hf_resolve_opts defaults = HF_RESOLVE_OPTS_INIT;
	struct rctx c;
	hf_map index = HF_MAP_INIT_COPY;
	hf_objset *set = NULL;
	const hf_mobj *pm;
	size_t i;
	int rc = 0;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	hf_buf_init(&c.key, 0);
	c.m = m;
	c.s = s;
	c.o = o ? *o : defaults;
	c.diag = diag;
	c.payload = payload;
	c.n = hf_manifest_object_count(m);
	c.r = hf_calloc(c.n ? c.n : 1, sizeof(*c.r));
	c.unkeyed = json_object();
	c.hfids = hf_hfid_pool_new();
	if (!c.r || !c.unkeyed || !c.hfids || hf_objset_new(&set) < 0) {
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < c.n; i++) {
		c.r[i].mo = hf_manifest_object_at(m, i);
		pm = hf_mobj_parent(c.r[i].mo);
		c.r[i].parent = pm ? (long)hf_mobj_index(pm) : -1;
	}
	for (i = 0; rc == 0 && i < c.n; i++)
		rc = build(&c, i);
	if (c.o.consume && rc == 0 && !c.errors) {
		/* what the later passes need, the records hold (after errors
		   the documents stay, for the caller's hints) */
		hf_manifest_drop_documents(m);
		for (i = 0; i < c.n; i++)
			c.r[i].mo = NULL;
	}
	for (i = 0; rc == 0 && i < c.n; i++)
		rc = identify(&c, &index, i);
	if (rc == 0)
		rc = collect(&c, set, err);
	if (rc == 0)
		rc = link_refs(&c, set);
	if (rc == 0)
		rc = unique_clashes(&c, set);
	if (rc < 0 && rc != HF_EINVAL)
		rc = hf_error_set(err, rc, "out of memory");
	else if (rc == 0 && c.errors)
		rc = hf_error_set(err, HF_EINVAL,
		                  "%d error%s in the object files", c.errors,
		                  c.errors == 1 ? "" : "s");
out:
	for (i = 0; c.r && i < c.n; i++)
		hf_object_release(&c.r[i].obj);
	hf_free(c.r);
	hf_hfid_pool_free(c.hfids);
	json_decref(c.unkeyed);
	hf_map_release(&index);
	hf_buf_release(&c.key);
	if (rc < 0 && rc != HF_EINVAL) {
		hf_objset_free(set);
		return rc;
	}
	*out = set;
	return rc;
}
