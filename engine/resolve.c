/*
 * Resolver: manifest objects + schema -> desired objects. Three passes
 * over the objects in declaration order (parents come before their
 * children): kinds and fields, then identities, then merging repeats.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "hf/resolve.h"
#include "hf/yjson.h"
#include "hf/banned.h"

struct rec {
	const hf_mobj *mo;
	const hf_kind *k;
	struct hf_object obj;
	long parent;       /* record index of the parent, or -1 */
	const struct hf_schema_rel *link; /* child's rel to its parent */
	const struct hf_schema_rel *up;   /* parent's rel holding it */
	int bad;           /* skipped: errors reported */
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
#define FAIL_AT(c, at, ...) \
	do { \
		char m_[512]; \
		snprintf(m_, sizeof(m_), __VA_ARGS__); \
		fail_at(c, at, m_); \
	} while (0)

static void fail_obj(struct rctx *c, const hf_mobj *mo, const char *msg)
{
	say(c, HF_MDIAG_ERROR, hf_mobj_file(mo), hf_mobj_line(mo),
	    hf_mobj_col(mo), msg);
}

/* ---- pass 1: kinds and fields ------------------------------------------ */

/* The kind of object i; fills in nested children written without kind:. */
static const hf_kind *object_kind(struct rctx *c, size_t i, struct rec *r)
{
	const hf_mobj *mo = r->mo, *pm = hf_mobj_parent(mo);
	const char *kind = hf_mobj_kind(mo), *sug;
	const hf_kind *k = NULL;

	if (pm && r->parent >= 0 && c->r[r->parent].k) {
		r->up = hf_schema_rel_find(c->r[r->parent].k,
					   hf_mfield_name(hf_mobj_parent_field(mo)));
		if (!kind && r->up) {
			k = hf_schema_kind(c->s, r->up->peer);
			if (k && hf_schema_kind_type(k) == HF_KIND_GENERIC)
				kind = hf_mdoc_kind(hf_mobj_doc(mo));
			else
				kind = r->up->peer;
		}
	}
	if (!kind)
		return NULL;
	k = hf_schema_kind(c->s, kind);
	if (!k) {
		sug = hf_schema_suggest_kind(c->s, kind);
		FAIL_AT(c, hf_mobj_kind_node(mo) ? hf_mobj_kind_node(mo) : hf_mobj_node(mo),
			"unknown kind '%s'%s%s%s", kind, sug ? "; did you mean '" : "",
			sug ? sug : "", sug ? "'?" : "");
		return NULL;
	}
	if (hf_schema_kind_type(k) == HF_KIND_GENERIC) {
		FAIL_AT(c, hf_mobj_kind_node(mo) ? hf_mobj_kind_node(mo) : hf_mobj_node(mo),
			"'%s' is a generic; name a node kind that implements it",
			kind);
		return NULL;
	}
	if (!hf_mobj_kind(mo) && hf_manifest_set_object_kind(c->m, i, kind) < 0)
		return NULL;
	return k;
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
	f.akind = a->kind;
	if (hf_value_check(&f.value, &a->spec, raw, &e) < 0) {
		json_decref(raw);
		fail_at(c, v, e.msg);
		return 0;
	}
	json_decref(raw);
	f.name = hf_strdup(a->name);
	f.file = hf_yval_file(v);
	f.line = hf_yval_line(v);
	f.col = hf_yval_col(v);
	return f.name ? hf_object_add_field(&r->obj, &f) : HF_ENOMEM;
}

/* Text of a scalar as the SDK would str() it into an HFID component. */
static char *scalar_text(const hf_yval *v)
{
	long long ll;
	int b;
	char buf[32];

	if (hf_yval_type(v) != HF_YVAL_SCALAR)
		return NULL;
	if (!hf_yval_is_string(v) && hf_yval_resolve(v) == HF_YRES_BOOL &&
	    hf_yval_as_bool(v, &b) == 0)
		return hf_strdup(b ? "True" : "False");
	if (!hf_yval_is_string(v) && hf_yval_resolve(v) == HF_YRES_INT &&
	    hf_yval_as_int(v, &ll) == 0) {
		snprintf(buf, sizeof(buf), "%lld", ll);
		return hf_strdup(buf);
	}
	return hf_strdup(hf_yval_text(v, NULL));
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

/* The default_filter attribute of a peer kind, or NULL. */
static const char *filter_attr(const struct rctx *c, const char *peer)
{
	const hf_kind *k = hf_schema_kind(c->s, peer);
	const char *df = k ? hf_schema_kind_default_filter(k) : NULL;
	const char *sep = df ? strstr(df, "__") : NULL;
	static char buf[128];

	if (!sep || (size_t)(sep - df) >= sizeof(buf))
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
	const char *fa;
	char *t;

	memset(ref, 0, sizeof(*ref));
	ref->kind = hf_strdup(rel->peer);
	ref->file = hf_yval_file(v);
	ref->line = hf_yval_line(v);
	ref->col = hf_yval_col(v);
	fa = many && hf_yval_type(v) == HF_YVAL_SCALAR &&
			     !filter_is_hfid(c, rel->peer) ?
		     filter_attr(c, rel->peer) :
		     NULL;
	if (fa) {
		t = scalar_text(v);
		ref->filter_attr = hf_strdup(fa);
		ref->filter_value = json_string(t ? t : "");
		hf_free(t);
		return ref->kind && ref->filter_attr ? 0 : HF_ENOMEM;
	}
	ref->hfid = hfid_of(v);
	if (!ref->hfid) {
		FAIL_AT(c, v, "relationship %s doesn't have the right format: "
			"a reference is a string or a list of strings", rel->name);
		return 1;
	}
	return ref->kind ? 0 : HF_ENOMEM;
}

static int rel_field(struct rctx *c, struct rec *r,
		     const struct hf_schema_rel *rel, const hf_mfield *mf)
{
	const hf_yval *v = hf_mfield_value(mf);
	int many = rel->cardinality == HF_CARDINALITY_MANY;
	struct hf_field f;
	size_t i, n;
	int rc = 0;

	if (hf_mfield_nest(mf) != HF_MNEST_NONE)
		return 0; /* children link themselves, or the parent does later */
	memset(&f, 0, sizeof(f));
	f.type = many ? HF_FIELD_MANY : HF_FIELD_ONE;
	f.file = hf_yval_file(v);
	f.line = hf_yval_line(v);
	f.col = hf_yval_col(v);
	if (hf_yval_type(v) == HF_YVAL_MAP ||
	    (many && hf_yval_type(v) != HF_YVAL_SEQ && hf_yval_type(v) != HF_YVAL_NULL)) {
		if (many)
			FAIL_AT(c, v, "invalid structure for a relationship of "
				"cardinality many (%s): provide a list of references "
				"or a dict with data", rel->name);
		else
			FAIL_AT(c, v, "relationship %s doesn't have the right format: "
				"a reference is a string or a list of strings",
				rel->name);
		return 0;
	}
	n = hf_yval_type(v) == HF_YVAL_NULL ? 0 : many ? hf_yval_count(v) : 1;
	f.refs = hf_calloc(n ? n : 1, sizeof(*f.refs));
	f.name = hf_strdup(rel->name);
	if (!f.refs || !f.name) {
		hf_field_release(&f);
		return HF_ENOMEM;
	}
	for (i = 0; i < n && rc == 0; i++) {
		rc = one_ref(c, &f.refs[i], rel, many ? hf_yval_item(v, i) : v, many);
		f.nrefs++;
	}
	if (rc != 0) {
		hf_field_release(&f);
		return rc < 0 ? rc : 0;
	}
	return hf_object_add_field(&r->obj, &f);
}

static int one_field(struct rctx *c, struct rec *r, const hf_mfield *mf)
{
	const char *name = hf_mfield_name(mf), *sug;
	const struct hf_schema_attr *a = hf_schema_attr_find(r->k, name);
	const struct hf_schema_rel *rel = a ? NULL : hf_schema_rel_find(r->k, name);

	if (!a && !rel) {
		sug = hf_schema_suggest(r->k, name);
		FAIL_AT(c, hf_mfield_key(mf),
			"'%s' is not a valid attribute or relationship for %s%s%s%s",
			name, hf_schema_kind_name(r->k), sug ? "; did you mean '" : "",
			sug ? sug : "", sug ? "'?" : "");
		return 0;
	}
	if ((a && (a->read_only || a->computed)) || (rel && rel->read_only)) {
		FAIL_AT(c, hf_mfield_key(mf), "'%s' of %s is read-only", name,
			hf_schema_kind_name(r->k));
		return 0;
	}
	return a ? attr_field(c, r, a, mf) : rel_field(c, r, rel, mf);
}

static void check_required(struct rctx *c, struct rec *r)
{
	const struct hf_schema_attr *a;
	const struct hf_schema_rel *rel;
	char msg[256];
	size_t i;

	for (i = 0; i < hf_schema_attr_count(r->k); i++) {
		a = hf_schema_attr_at(r->k, i);
		if (a->optional || a->default_value || a->read_only || a->computed ||
		    hf_mobj_field(r->mo, a->name))
			continue;
		snprintf(msg, sizeof(msg), "%s is mandatory for %s", a->name,
			 hf_schema_kind_name(r->k));
		fail_obj(c, r->mo, msg);
	}
	for (i = 0; i < hf_schema_rel_count(r->k); i++) {
		rel = hf_schema_rel_at(r->k, i);
		if (rel->optional || rel->read_only || hf_mobj_field(r->mo, rel->name) ||
		    (r->link && !strcmp(r->link->name, rel->name)))
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
	const struct hf_schema_rel *rel = hf_schema_rel_find(r->k, "ip_namespace");
	struct hf_field f;

	if (!rel || hf_object_field(&r->obj, "ip_namespace") ||
	    hf_mobj_field(r->mo, "ip_namespace") ||
	    (!hf_schema_is_a(c->s, r->k, "BuiltinIPAddress") &&
	     !hf_schema_is_a(c->s, r->k, "BuiltinIPPrefix")))
		return 0;
	memset(&f, 0, sizeof(f));
	f.name = hf_strdup("ip_namespace");
	f.type = HF_FIELD_ONE;
	f.refs = hf_calloc(1, sizeof(*f.refs));
	if (!f.name || !f.refs) {
		hf_field_release(&f);
		return HF_ENOMEM;
	}
	f.nrefs = 1;
	f.refs[0].kind = hf_strdup(rel->peer);
	f.refs[0].hfid = json_pack("[s]", "default");
	f.refs[0].file = hf_mobj_file(r->mo);
	f.refs[0].line = hf_mobj_line(r->mo);
	f.refs[0].col = hf_mobj_col(r->mo);
	f.file = f.refs[0].file;
	f.line = f.refs[0].line;
	f.col = f.refs[0].col;
	return hf_object_add_field(&r->obj, &f);
}

static int build(struct rctx *c, size_t i)
{
	struct rec *r = &c->r[i];
	int before = c->errors, rc = 0;
	size_t j;

	r->k = object_kind(c, i, r);
	if (!r->k) {
		r->bad = 1;
		return 0;
	}
	r->obj.kind = hf_strdup(hf_schema_kind_name(r->k));
	r->obj.file = hf_mobj_file(r->mo);
	r->obj.line = hf_mobj_line(r->mo);
	r->obj.col = hf_mobj_col(r->mo);
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
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
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

static long find_rec(struct rctx *c, json_t *index, const char *kind,
		     const json_t *hfid)
{
	hf_buf key = HF_BUF_INIT;
	json_t *at = NULL;

	if (hf_identity_key(&key, kind, hfid) == 0)
		at = json_object_get(index, key.ptr);
	hf_buf_release(&key);
	(void)c;
	return at ? (long)json_integer_value(at) : -1;
}

static char *attr_component(struct rctx *c, json_t *index, size_t ri,
			    const char *path);

/* "AS{{ asn__value }}" with its holes filled from the object's values. */
static char *render_template(struct rctx *c, json_t *index, size_t ri,
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
static char *own_value(struct rctx *c, json_t *index, size_t ri,
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

/* The peer's attribute through a cardinality-one reference. */
static char *peer_value(struct rctx *c, json_t *index, size_t ri,
			const struct hf_schema_path *p)
{
	const struct hf_field *f = hf_object_field(&c->r[ri].obj, p->rel->name);
	const struct hf_ref *ref = f && f->nrefs ? &f->refs[0] : NULL;
	struct hf_strv h;
	char want[160];
	long t;
	size_t i;

	if (!ref || !ref->hfid)
		return NULL;
	t = find_rec(c, index, ref->kind, ref->hfid);
	if (t >= 0 && hf_schema_kind(c->s, c->r[t].obj.kind))
		return own_value(c, index, (size_t)t,
				 hf_schema_attr_find(c->r[t].k, p->attr->name) ?
					 hf_schema_attr_find(c->r[t].k, p->attr->name) :
					 p->attr);
	h = hf_schema_kind_hfid(p->peer);
	snprintf(want, sizeof(want), "%s__value", p->attr->name);
	for (i = 0; i < h.n && i < json_array_size(ref->hfid); i++)
		if (!strcmp(h.v[i], want))
			return hf_strdup(json_string_value(json_array_get(ref->hfid, i)));
	return NULL;
}

static char *attr_component(struct rctx *c, json_t *index, size_t ri,
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

static int compute_hfid(struct rctx *c, json_t *index, size_t ri)
{
	struct rec *r = &c->r[ri];
	struct hf_strv h = hf_schema_kind_hfid(r->k);
	const struct hf_schema_attr *a;
	char path[160], msg[512], *v;
	size_t i;

	r->obj.hfid = json_array();
	if (!r->obj.hfid)
		return HF_ENOMEM;
	for (i = 0; !h.n && i < hf_schema_attr_count(r->k); i++) {
		a = hf_schema_attr_at(r->k, i);
		if (a->unique) {
			snprintf(path, sizeof(path), "%s__value", a->name);
			v = own_value(c, index, ri, a);
			json_array_append_new(r->obj.hfid, json_string(v ? v : ""));
			hf_free(v);
			return v ? 0 : 1;
		}
	}
	if (!h.n) {
		if (!c->o.allow_unkeyed) {
			snprintf(msg, sizeof(msg),
				 "%s has neither a human_friendly_id nor a unique "
				 "attribute: re-applying would duplicate it (use "
				 "--allow-unkeyed)", hf_schema_kind_name(r->k));
			fail_obj(c, r->mo, msg);
			return 1;
		}
		snprintf(msg, sizeof(msg), "@%s:%d", hf_mobj_file(r->mo), hf_mobj_line(r->mo));
		return json_array_append_new(r->obj.hfid, json_string(msg)) < 0 ? HF_ENOMEM : 0;
	}
	for (i = 0; i < h.n; i++) {
		v = attr_component(c, index, ri, h.v[i]);
		if (!v) {
			snprintf(msg, sizeof(msg),
				 "cannot compute the human-friendly id of %s: no "
				 "value for '%s'", hf_schema_kind_name(r->k), h.v[i]);
			fail_obj(c, r->mo, msg);
			return 1;
		}
		json_array_append_new(r->obj.hfid, json_string(v));
		hf_free(v);
	}
	return 0;
}

static int add_ref_field(struct hf_object *o, const struct hf_schema_rel *rel,
			 const struct hf_object *peer, const hf_mobj *at)
{
	struct hf_field *f = hf_object_field(o, rel->name), nf;
	struct hf_ref *refs;

	if (!f) {
		memset(&nf, 0, sizeof(nf));
		nf.name = hf_strdup(rel->name);
		nf.type = rel->cardinality == HF_CARDINALITY_MANY ? HF_FIELD_MANY :
								 HF_FIELD_ONE;
		nf.file = hf_mobj_file(at);
		nf.line = hf_mobj_line(at);
		nf.col = hf_mobj_col(at);
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
	refs[f->nrefs].kind = hf_strdup(peer->kind);
	refs[f->nrefs].hfid = json_incref(peer->hfid);
	refs[f->nrefs].file = hf_mobj_file(at);
	refs[f->nrefs].line = hf_mobj_line(at);
	refs[f->nrefs].col = hf_mobj_col(at);
	f->nrefs++;
	return refs[f->nrefs - 1].kind ? 0 : HF_ENOMEM;
}

static int identify(struct rctx *c, json_t *index, size_t ri)
{
	struct rec *r = &c->r[ri];
	struct rec *p = r->parent >= 0 ? &c->r[r->parent] : NULL;
	hf_buf key = HF_BUF_INIT;
	int rc;

	if (p && p->bad)
		r->bad = 1;
	if (r->bad)
		return 0;
	if (r->link && (rc = add_ref_field(&r->obj, r->link, &p->obj, r->mo)) < 0)
		return rc;
	rc = compute_hfid(c, index, ri);
	if (rc != 0) {
		r->bad = 1;
		return rc < 0 ? rc : 0;
	}
	if (p && r->up && !r->link &&
	    (rc = add_ref_field(&p->obj, r->up, &r->obj, r->mo)) < 0)
		return rc;
	if (hf_identity_key(&key, r->obj.kind, r->obj.hfid) == 0 &&
	    !json_object_get(index, key.ptr))
		json_object_set_new(index, key.ptr, json_integer((json_int_t)ri));
	hf_buf_release(&key);
	return 0;
}

/* ---- pass 3: repeats, uniqueness, the set ----------------------------- */

static char *show_field(const struct hf_field *f)
{
	json_t *j = NULL;
	char *t;

	if (f->type == HF_FIELD_ATTR)
		j = json_incref(f->value);
	else if (f->nrefs)
		j = json_incref(f->refs[0].hfid ? f->refs[0].hfid : f->refs[0].filter_value);
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
		x = json_dumps(a->refs[i].hfid ? a->refs[i].hfid : a->refs[i].filter_value,
			       JSON_COMPACT | JSON_ENCODE_ANY);
		y = json_dumps(b->refs[i].hfid ? b->refs[i].hfid : b->refs[i].filter_value,
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

	snprintf(msg, sizeof(msg),
		 "%s %s: field '%s' set to %s at %s:%d:%d and to %s here; the later wins",
		 o->kind, id ? id : "?", nw->name, a ? a : "?", old->file ? old->file : "?",
		 old->line, old->col, b ? b : "?");
	say(c, c->o.strict ? HF_MDIAG_ERROR : HF_MDIAG_WARNING, nw->file, nw->line,
	    nw->col, msg);
	hf_free(a);
	hf_free(b);
	hf_free(id);
}

static int merge_into(struct rctx *c, struct hf_object *dst, struct hf_object *src)
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

static void unique_clashes(struct rctx *c, hf_objset *set)
{
	json_t *seen = json_object();
	const struct hf_schema_attr *a;
	const struct hf_object *o, *first;
	const struct hf_field *f;
	hf_buf key = HF_BUF_INIT;
	char msg[1024], *v, *h1, *h2;
	size_t i, j;
	json_t *at;

	for (i = 0; seen && i < hf_objset_count(set); i++) {
		o = hf_objset_at(set, i);
		for (j = 0; j < o->nfields; j++) {
			f = &o->fields[j];
			a = f->type == HF_FIELD_ATTR ?
				    hf_schema_attr_find(hf_schema_kind(c->s, o->kind), f->name) :
				    NULL;
			if (!a || !a->unique || !f->value || json_is_null(f->value))
				continue;
			v = json_dumps(f->value, JSON_COMPACT | JSON_ENCODE_ANY);
			hf_buf_reset(&key);
			hf_buf_addf(&key, "%s\x1f%s\x1f%s", o->kind, f->name, v ? v : "");
			at = json_object_get(seen, key.ptr);
			if (!at) {
				json_object_set_new(seen, key.ptr, json_integer((json_int_t)i));
				hf_free(v);
				continue;
			}
			first = hf_objset_at(set, (size_t)json_integer_value(at));
			h1 = json_dumps(first->hfid, JSON_COMPACT);
			h2 = json_dumps(o->hfid, JSON_COMPACT);
			snprintf(msg, sizeof(msg), "%s %s and %s %s (%s:%d:%d) both have "
				 "unique %s = %s", o->kind, h2 ? h2 : "?", first->kind,
				 h1 ? h1 : "?", first->file, first->line, first->col,
				 f->name, v ? v : "?");
			say(c, HF_MDIAG_ERROR, f->file, f->line, f->col, msg);
			hf_free(h1);
			hf_free(h2);
			hf_free(v);
		}
	}
	hf_buf_release(&key);
	json_decref(seen);
}

static int collect(struct rctx *c, hf_objset *set, hf_error *err)
{
	struct rec *r;
	long at;
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < c->n; i++) {
		r = &c->r[i];
		if (r->bad)
			continue;
		at = hf_objset_find(set, r->obj.kind, r->obj.hfid);
		if (at >= 0)
			rc = merge_into(c, hf_objset_at(set, (size_t)at), &r->obj);
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
	json_t *index = json_object();
	hf_objset *set = NULL;
	const hf_mobj *pm;
	size_t i;
	int rc = 0;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	c.m = m;
	c.s = s;
	c.o = o ? *o : defaults;
	c.diag = diag;
	c.payload = payload;
	c.n = hf_manifest_object_count(m);
	c.r = hf_calloc(c.n ? c.n : 1, sizeof(*c.r));
	if (!c.r || !index || hf_objset_new(&set) < 0) {
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
	for (i = 0; rc == 0 && i < c.n; i++)
		rc = identify(&c, index, i);
	if (rc == 0)
		rc = collect(&c, set, err);
	if (rc == 0)
		unique_clashes(&c, set);
	if (rc < 0 && rc != HF_EINVAL)
		rc = hf_error_set(err, rc, "out of memory");
	else if (rc == 0 && c.errors)
		rc = hf_error_set(err, HF_EINVAL, "%d error%s in the object files",
				  c.errors, c.errors == 1 ? "" : "s");
out:
	for (i = 0; c.r && i < c.n; i++)
		hf_object_release(&c.r[i].obj);
	hf_free(c.r);
	json_decref(index);
	if (rc < 0 && rc != HF_EINVAL) {
		hf_objset_free(set);
		return rc;
	}
	*out = set;
	return rc;
}
