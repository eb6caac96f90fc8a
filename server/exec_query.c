/*
 * Read resolvers: the top-level <Kind> listing (filters, hfid, order,
 * offset/limit, count) and the node objects inside it: attribute blocks,
 * relationships of cardinality one and many, lineage. Everything reads
 * the branch mirror and is written straight into the response buffer.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exec_int.h"
#include "hf/alloc.h"
#include "hf/banned.h"

/* ---- filters ------------------------------------------------------------- */

enum flt_type {
	F_ATTR, /* <attr>__value(s) */
	F_ISNULL, /* <attr>__isnull */
	F_PROP, /* <attr>__is_visible / is_protected / source / owner */
	F_REL_IDS, /* <rel>__ids */
	F_REL_NULL, /* <rel>__isnull */
	F_REL_ATTR, /* <rel>__<attr>__value(s) */
	F_ANY, /* any__value(s) */
};

struct flt {
	enum flt_type t;
	const struct hfs_attr *a;
	const struct hfs_rel *r;
	const struct hfs_kind *pk; /* peer kind for F_REL_ATTR */
	char prop[128];
	int mode; /* M_KEY, M_TEXT or M_PART */
	char **keys; /* what values are compared with, per mode */
	size_t nkeys;
	json_t *v;
};

enum { M_KEY, M_TEXT, M_PART };

struct fset {
	struct flt *f;
	size_t n;
	json_t *ids;
	json_t *hfid;
	long offset;
	long limit; /* -1: none */
	int partial;
	int order_off;
};

static void fset_release(struct fset *fs)
{
	size_t i, j;

	for (i = 0; i < fs->n; i++) {
		for (j = 0; j < fs->f[i].nkeys; j++)
			hf_free(fs->f[i].keys[j]);
		hf_free(fs->f[i].keys);
		json_decref(fs->f[i].v);
	}
	hf_free(fs->f);
	json_decref(fs->ids);
	json_decref(fs->hfid);
	memset(fs, 0, sizeof(*fs));
}

static void lower(char *s)
{
	for (; *s; s++) {
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
	}
}

/* The key(s) a filter value is compared with, per the attribute's kind. */
static int flt_key(struct flt *f, const struct hfs_attr *a, const json_t *v)
{
	hf_buf b = HF_BUF_INIT;
	json_t *norm = NULL;
	char **nk;

	if (f->mode != M_KEY)
		xval_text(&b, v);
	else if (a && xnorm_value(a, v, &norm) == 0 && norm)
		xval_key(&b, norm);
	else
		xval_key(&b, v);
	json_decref(norm);
	nk = hf_reallocarray(f->keys, f->nkeys + 1, sizeof(*nk));
	if (!nk) {
		hf_buf_release(&b);
		return HF_ENOMEM;
	}
	f->keys = nk;
	f->keys[f->nkeys] = hf_buf_detach(&b);
	if (!f->keys[f->nkeys])
		return HF_ENOMEM;
	if (f->mode == M_PART)
		lower(f->keys[f->nkeys]);
	f->nkeys++;
	return 0;
}

static int flt_keys(struct flt *f, const struct hfs_attr *a, int many)
{
	json_t *item;
	size_t i;
	int rc = 0;

	if (!many)
		return flt_key(f, a, f->v);
	if (!json_is_array(f->v))
		return 1;
	json_array_foreach(f->v, i, item)
	{
		rc = flt_key(f, a, item);
		if (rc < 0)
			break;
	}
	return rc;
}

static int fset_push(struct fset *fs, struct flt **out)
{
	struct flt *nf = hf_reallocarray(fs->f, fs->n + 1, sizeof(*nf));

	if (!nf)
		return HF_ENOMEM;
	fs->f = nf;
	*out = &fs->f[fs->n++];
	memset(*out, 0, sizeof(**out));
	return 0;
}

static int is_many(const char *suffix)
{
	return !strcmp(suffix, "values");
}

static int parse_attr_filter(struct flt *f, const struct xsplit *sp)
{
	if (!strcmp(sp->p[1], "value") || is_many(sp->p[1])) {
		f->t = F_ATTR;
		return flt_keys(f, f->a, is_many(sp->p[1]));
	}
	if (!strcmp(sp->p[1], "isnull")) {
		f->t = F_ISNULL;
		return 0;
	}
	f->t = F_PROP;
	snprintf(f->prop, sizeof(f->prop), "%s", sp->p[1]);
	return 0;
}

static int parse_rel_filter(struct xreq *r, struct flt *f,
                            const struct xsplit *sp)
{
	struct xsplit sub;

	if (sp->n == 2 && !strcmp(sp->p[1], "ids")) {
		f->t = F_REL_IDS;
		return json_is_array(f->v) ? 0 : 1;
	}
	if (sp->n == 2) {
		f->t = F_REL_NULL;
		return 0;
	}
	f->pk = hfs_schema_kind(r->s, f->r->peer);
	f->a = f->pk ? hfs_kind_attr(f->pk, sp->p[1]) : NULL;
	xsplit_path(&sub, sp->p[2]);
	if (!f->a || (strcmp(sub.p[0], "value") && !is_many(sub.p[0])))
		return 1;
	f->t = F_REL_ATTR;
	return flt_keys(f, f->a, is_many(sub.p[0]));
}

static void flt_drop(struct fset *fs)
{
	struct flt *f = &fs->f[fs->n - 1];
	size_t j;

	for (j = 0; j < f->nkeys; j++)
		hf_free(f->keys[j]);
	hf_free(f->keys);
	json_decref(f->v);
	fs->n--;
}

/* One filter argument; an argument that is not a filter is ignored. */
static int parse_filter(struct xreq *r, const struct hfs_kind *k,
                        struct fset *fs, const char *name, json_t *v)
{
	struct xsplit sp;
	struct flt *f;
	int rc;

	xsplit_path(&sp, name);
	if (sp.n < 2)
		return 0;
	rc = fset_push(fs, &f);
	if (rc < 0)
		return rc;
	f->v = json_incref(v);
	f->mode = fs->partial ? M_PART : M_KEY;
	if (!strcmp(sp.p[0], "any")) {
		f->t = F_ANY;
		if (f->mode == M_KEY)
			f->mode = M_TEXT;
		rc = flt_keys(f, NULL, is_many(sp.p[1]));
	} else if ((f->a = hfs_kind_attr(k, sp.p[0]))) {
		rc = parse_attr_filter(f, &sp);
	} else if ((f->r = hfs_kind_rel(k, sp.p[0]))) {
		rc = parse_rel_filter(r, f, &sp);
	} else {
		rc = 1;
	}
	if (rc == 1)
		flt_drop(fs);
	return rc < 0 ? rc : 0;
}

static long arg_long(const json_t *v, long dflt)
{
	return json_is_integer(v) ? (long)json_integer_value(v) : dflt;
}

/* Read every argument of a listing field into fs. */
static int parse_args(struct xreq *r, const struct hfs_kind *k,
                      const struct hfs_gql_field_group *g, struct fset *fs)
{
	const struct hfs_gql_arg *a;
	json_t *v, *pm;
	int rc = 0;

	memset(fs, 0, sizeof(*fs));
	fs->limit = -1;
	pm = xr_arg(r, g, "partial_match");
	fs->partial = json_is_true(pm);
	json_decref(pm);
	for (a = g->fields[0]->args; rc >= 0 && a; a = a->next) {
		v = xr_arg(r, g, a->name);
		if (!v || json_is_null(v)) {
			json_decref(v);
			continue;
		}
		if (!strcmp(a->name, "offset"))
			fs->offset = arg_long(v, 0);
		else if (!strcmp(a->name, "limit"))
			fs->limit = arg_long(v, -1);
		else if (!strcmp(a->name, "ids"))
			fs->ids = json_is_array(v) ? json_incref(v) : NULL;
		else if (!strcmp(a->name, "hfid"))
			fs->hfid = json_incref(v);
		else if (!strcmp(a->name, "order"))
			fs->order_off =
			        json_is_true(json_object_get(v, "disable"));
		else if (strcmp(a->name, "partial_match") &&
		         strcmp(a->name, "include_descendants") &&
		         strcmp(a->name, "isnull"))
			rc = parse_filter(r, k, fs, a->name, v);
		json_decref(v);
	}
	if (fs->offset < 0)
		fs->offset = 0;
	return rc < 0 ? rc : 0;
}

/* ---- matching ------------------------------------------------------------ */

/* Whether lower-case `needle` occurs in `hay`, ignoring ASCII case. */
static int ci_contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle), i;

	for (; *hay; hay++) {
		for (i = 0; i < n; i++) {
			char c = hay[i];

			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			if (c != needle[i])
				break;
		}
		if (i == n)
			return 1;
	}
	return n == 0;
}

static int key_match(const struct flt *f, const json_t *v, hf_buf *tmp)
{
	size_t i;

	if (!v || json_is_null(v))
		return 0;
	hf_buf_reset(tmp);
	if (f->mode == M_KEY)
		xval_key(tmp, v);
	else
		xval_text(tmp, v);
	for (i = 0; i < f->nkeys; i++) {
		if (f->mode == M_PART ? ci_contains(tmp->ptr, f->keys[i])
		                      : !strcmp(tmp->ptr, f->keys[i]))
			return 1;
	}
	return 0;
}

static int prop_match(const struct flt *f, const struct xnode *n,
                      const struct hfs_attr *a)
{
	json_t *o = xn_attr(n, a->name), *p;

	if (!strcmp(f->prop, "source") || !strcmp(f->prop, "owner")) {
		p = o ? json_object_get(o, f->prop) : NULL;
		return json_is_string(p) && json_is_string(f->v) &&
		       !strcmp(json_string_value(p), json_string_value(f->v));
	}
	p = o ? json_object_get(o, f->prop) : NULL;
	if (!p)
		p = !strcmp(f->prop, "is_visible") ? json_true() : json_false();
	return json_is_boolean(f->v) && json_is_true(p) == json_is_true(f->v);
}

static int any_match(const struct flt *f, const struct xnode *n, hf_buf *tmp)
{
	const char *key;
	json_t *o;

	json_object_foreach(n->data, key, o)
	{
		if (json_is_object(o) &&
		    key_match(f, json_object_get(o, "value"), tmp))
			return 1;
	}
	return 0;
}

struct mctx {
	struct xreq *r;
	struct xpeers peers;
	hf_buf tmp;
	hf_error *err;
};

static int rel_match(struct mctx *m, const struct flt *f, const struct xnode *n,
                     int *ok)
{
	size_t i, j;
	int rc;

	*ok = 0;
	rc = xb_peers(m->r->b, n, f->r, &m->peers, m->err);
	if (rc < 0)
		return rc;
	if (f->t == F_REL_NULL) {
		*ok = (m->peers.len == 0) == json_is_true(f->v);
		return 0;
	}
	for (i = 0; !*ok && i < m->peers.len; i++) {
		const struct xnode *p = m->peers.n[i];

		if (f->t == F_REL_ATTR) {
			*ok = key_match(f, xn_value(p, f->a), &m->tmp);
			continue;
		}
		for (j = 0; !*ok && j < json_array_size(f->v); j++) {
			const char *id =
			        json_string_value(json_array_get(f->v, j));

			*ok = id && !strcmp(id, p->id);
		}
	}
	return 0;
}

static int ids_match(const json_t *ids, const struct xnode *n)
{
	size_t i;

	for (i = 0; i < json_array_size(ids); i++) {
		const char *id = json_string_value(json_array_get(ids, i));

		if (id && !strcmp(id, n->id))
			return 1;
	}
	return 0;
}

/* Whether n passes every filter. */
static int node_match(struct mctx *m, const struct fset *fs,
                      const struct xnode *n, int *ok)
{
	const struct hfs_kind *ck = hfs_schema_kind(m->r->s, n->kind);
	const struct hfs_attr *a;
	size_t i;
	int rc = 0;

	*ok = !fs->ids || ids_match(fs->ids, n);
	for (i = 0; *ok && rc == 0 && i < fs->n; i++) {
		const struct flt *f = &fs->f[i];
		json_t *v;

		a = f->a && f->t != F_REL_ATTR && ck
		            ? hfs_kind_attr(ck, f->a->name)
		            : f->a;
		switch (f->t) {
		case F_ATTR:
			*ok = a && key_match(f, xn_value(n, a), &m->tmp);
			break;
		case F_ISNULL:
			v = a ? xn_value(n, a) : NULL;
			*ok = (!v || json_is_null(v)) == json_is_true(f->v);
			break;
		case F_PROP:
			*ok = a && prop_match(f, n, a);
			break;
		case F_ANY:
			*ok = any_match(f, n, &m->tmp);
			break;
		default:
			rc = rel_match(m, f, n, ok);
			break;
		}
	}
	return rc;
}

/* ---- node lists ---------------------------------------------------------- */

struct nlist {
	struct xnode **v;
	size_t n;
	size_t cap;
};

static int nlist_push(struct nlist *l, struct xnode *n)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct xnode **v = hf_reallocarray(l->v, cap, sizeof(*v));

		if (!v)
			return HF_ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = n;
	return 0;
}

struct kinds_ctx {
	struct xreq *r;
	const char *generic;
	struct nlist out;
	int rc;
};

static void gather_kind(const char *key, void *val, void *payload)
{
	struct kinds_ctx *c = payload;
	struct xnode **v;
	size_t n, i;

	(void)val;
	if (c->rc < 0 || !hfs_schema_is_a(c->r->s, key, c->generic))
		return;
	xb_kind_nodes(c->r->b, key, &v, &n);
	for (i = 0; c->rc == 0 && i < n; i++)
		c->rc = nlist_push(&c->out, v[i]);
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp((*(struct xnode *const *)a)->id,
	              (*(struct xnode *const *)b)->id);
}

/* Order keys of one node, for a sort by the schema's order_by. */
struct okey {
	struct xnode *n;
	json_t *v[4];
};

static int cmp_json(const json_t *a, const json_t *b)
{
	int an = !a || json_is_null(a), bn = !b || json_is_null(b);
	double x, y;

	if (an || bn)
		return an - bn; /* nulls last */
	if (json_is_number(a) && json_is_number(b)) {
		x = json_number_value(a);
		y = json_number_value(b);
		return x < y ? -1 : x > y;
	}
	if (json_is_string(a) && json_is_string(b))
		return strcmp(json_string_value(a), json_string_value(b));
	return json_typeof(a) - json_typeof(b);
}

static int cmp_okey(const void *pa, const void *pb)
{
	const struct okey *a = pa, *b = pb;
	int i, c;

	for (i = 0; i < 4; i++) {
		c = cmp_json(a->v[i], b->v[i]);
		if (c)
			return c;
	}
	return strcmp(a->n->id, b->n->id);
}

static int sort_order_by(struct xreq *r, const struct hfs_kind *k,
                         struct nlist *l, hf_error *err)
{
	struct okey *ok = hf_calloc(l->n ? l->n : 1, sizeof(*ok));
	size_t i, j, np = k->order_by.n < 4 ? k->order_by.n : 4;
	int rc = 0;

	if (!ok)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	for (i = 0; rc == 0 && i < l->n; i++) {
		const struct hfs_kind *ck =
		        hfs_schema_kind(r->s, l->v[i]->kind);

		ok[i].n = l->v[i];
		for (j = 0; rc == 0 && j < np; j++)
			rc = xn_path(r->b, ck, l->v[i], k->order_by.v[j],
			             &ok[i].v[j], err);
	}
	if (rc == 0 && l->n > 1)
		qsort(ok, l->n, sizeof(*ok), cmp_okey);
	for (i = 0; i < l->n; i++) {
		l->v[i] = ok[i].n;
		for (j = 0; j < 4; j++)
			json_decref(ok[i].v[j]);
	}
	hf_free(ok);
	return rc;
}

/*
 * Every node of kind k (a generic: of the kinds inheriting it) in listing
 * order. Cached per branch state: paging through 10,000 nodes sorts once.
 */
static int base_list(struct xreq *r, const struct hfs_kind *k, int order,
                     struct xnode ***v, size_t *n, hf_error *err)
{
	struct kinds_ctx c = { r, k->kind, { NULL, 0, 0 }, 0 };
	struct xview *view;
	char key[300];
	int rc;

	order = order && k->order_by.n;
	if (!k->is_generic && !order) {
		xb_kind_nodes(r->b, k->kind, v, n);
		return 0;
	}
	snprintf(key, sizeof(key), "%s|%d", k->kind, order);
	view = xmap_get(&r->b->views, key);
	if (view && view->gen == r->b->gen) {
		*v = view->v;
		*n = view->n;
		return 0;
	}
	xmap_each(&r->b->kinds, gather_kind, &c);
	rc = c.rc < 0 ? hf_error_set(err, HF_ENOMEM, "out of memory") : 0;
	if (rc == 0 && k->is_generic && c.out.n > 1)
		qsort(c.out.v, c.out.n, sizeof(*c.out.v), cmp_id);
	if (rc == 0 && order)
		rc = sort_order_by(r, k, &c.out, err);
	if (rc == 0 && !view) {
		view = hf_calloc(1, sizeof(*view));
		if (!view || xmap_put(&r->b->views, key, view) < 0) {
			hf_free(view);
			view = NULL;
			rc = hf_error_set(err, HF_ENOMEM, "out of memory");
		}
	}
	if (rc < 0) {
		hf_free(c.out.v);
		return rc;
	}
	hf_free(view->v);
	view->v = c.out.v;
	view->n = c.out.n;
	view->gen = r->b->gen;
	*v = view->v;
	*n = view->n;
	return 0;
}

static int filter_list(struct xreq *r, const struct fset *fs, struct xnode **v,
                       size_t n, struct nlist *out, hf_error *err)
{
	struct mctx m = { r, { NULL, NULL, 0, 0 }, HF_BUF_INIT, err };
	size_t i;
	int rc = 0, ok;

	r->x->examined += n;
	for (i = 0; rc == 0 && i < n; i++) {
		rc = node_match(&m, fs, v[i], &ok);
		if (rc == 0 && ok && nlist_push(out, v[i]) < 0)
			rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	xpeers_release(&m.peers);
	hf_buf_release(&m.tmp);
	return rc;
}

/* ---- index lookups ------------------------------------------------------- */

/* The filter an index can serve: the first exact <attr>__value(s). */
static const struct flt *indexable(const struct fset *fs)
{
	size_t i;

	for (i = 0; i < fs->n; i++) {
		if (fs->f[i].t == F_ATTR && fs->f[i].mode == M_KEY)
			return &fs->f[i];
	}
	return NULL;
}

static int cand_push(struct xnode *n, void *payload)
{
	return nlist_push(payload, n);
}

struct cands_ctx {
	struct xreq *r;
	const struct hfs_kind *k;
	const struct flt *f;
	struct nlist *out;
	hf_error *err;
	int rc; /* 1: some kind has no index */
};

/* The nodes of concrete kind `ck` that the filter's values name. */
static int cands_kind(struct cands_ctx *c, const char *ck)
{
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < c->f->nkeys; i++)
		rc = xb_index_each(c->r->b, ck, c->f->a->name, c->f->keys[i],
		                   cand_push, c->out, c->err);
	return rc;
}

static void cands_cb(const char *key, void *val, void *payload)
{
	struct cands_ctx *c = payload;

	(void)val;
	if (c->rc == 0 && hfs_schema_is_a(c->r->s, key, c->k->kind))
		c->rc = cands_kind(c, key);
}

/* Sort into listing order (base_list's) and drop repeats. */
static int cands_order(struct xreq *r, const struct hfs_kind *k, int order,
                       struct nlist *l, hf_error *err)
{
	size_t i, j;
	int rc = 0;

	if (l->n < 2)
		return 0;
	if (order && k->order_by.n)
		rc = sort_order_by(r, k, l, err);
	else
		qsort(l->v, l->n, sizeof(*l->v), cmp_id);
	for (i = j = 0; rc == 0 && i < l->n; i++) {
		if (j == 0 || l->v[j - 1] != l->v[i])
			l->v[j++] = l->v[i];
	}
	if (rc == 0)
		l->n = j;
	return rc;
}

/* The nodes of kind k (or inheriting it) among `ids`: hash lookups. */
static int cands_ids(struct xreq *r, const struct hfs_kind *k,
                     const json_t *ids, struct nlist *out)
{
	struct xnode *n;
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < json_array_size(ids); i++) {
		const char *id = json_string_value(json_array_get(ids, i));

		n = id ? xb_node(r->b, id) : NULL;
		if (n && (!strcmp(n->kind, k->kind) ||
		          hfs_schema_is_a(r->s, n->kind, k->kind)))
			rc = nlist_push(out, n);
	}
	return rc;
}

/*
 * The nodes that can pass the filters, in listing order, from the ids
 * asked for or from an index on the first exact attribute filter (the
 * filters still have to run on them). 1 when neither serves: the caller
 * scans the kind.
 */
static int index_candidates(struct xreq *r, const struct hfs_kind *k,
                            const struct fset *fs, int order, struct nlist *out,
                            hf_error *err)
{
	struct cands_ctx c = { r, k, indexable(fs), out, err, 0 };

	if (fs->ids) {
		c.rc = cands_ids(r, k, fs->ids, out);
		if (c.rc < 0)
			hf_error_set(err, HF_ENOMEM, "out of memory");
	} else if (!c.f) {
		return 1;
	} else if (k->is_generic) {
		xmap_each(&r->b->kinds, cands_cb, &c);
	} else {
		c.rc = cands_kind(&c, k->kind);
	}
	if (c.rc == HF_ENOMEM && !err->msg[0])
		hf_error_set(err, HF_ENOMEM, "out of memory");
	if (c.rc == 0)
		c.rc = cands_order(r, k, order, out, err);
	if (c.rc != 0) {
		hf_free(out->v);
		memset(out, 0, sizeof(*out));
	}
	return c.rc;
}

static int hfid_lookup(struct xreq *r, const struct hfs_kind *k,
                       const json_t *hfid, struct nlist *out, hf_error *err)
{
	hf_buf msg = HF_BUF_INIT;
	struct xnode *n = NULL;
	int rc;

	if (!json_is_array(hfid) || json_array_size(hfid) != k->hfid.n) {
		xpy_list(&msg, hfid);
		rc = hf_error_set(err, HF_ENOTFOUND,
		                  "Unable to find the node %s / %s in the "
		                  "database.",
		                  msg.ptr, k->kind);
		hf_buf_release(&msg);
		return rc;
	}
	rc = xb_find_hfid(r->b, k, hfid, &n, err);
	if (rc == 0 && n && nlist_push(out, n) < 0)
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	return rc;
}

/* ---- writing ------------------------------------------------------------- */

static int write_paginated(struct xreq *r, const struct hfs_kind *k,
                           const struct hfs_gql_field_group *g,
                           struct xnode **v, size_t n, size_t count,
                           hf_error *err);

int xq_field(struct xreq *r, const struct hfs_gql_field_group *g, hf_error *err)
{
	const struct hfs_kind *k = hfs_schema_kind(r->s, g->fields[0]->name);
	struct nlist res = { NULL, 0, 0 }, cand = { NULL, 0, 0 };
	struct xnode **v = NULL;
	struct fset fs;
	size_t n = 0, count, off, len;
	int rc;

	if (!k)
		return hf_error_set(err, HF_EINVAL, "unknown kind '%s'",
		                    g->fields[0]->name);
	rc = xr_branch(r, err);
	if (rc == 0)
		rc = parse_args(r, k, g, &fs) < 0
		             ? hf_error_set(err, HF_ENOMEM, "out of memory")
		             : 0;
	if (rc < 0)
		return rc;
	if (fs.hfid) {
		rc = hfid_lookup(r, k, fs.hfid, &res, err);
		v = res.v;
		n = res.n;
	} else if ((rc = index_candidates(r, k, &fs, !fs.order_off, &cand,
	                                  err)) == 0) {
		/* the candidates are exactly the ids asked for, when given */
		struct fset rest = fs;

		rest.ids = NULL;
		rc = filter_list(r, &rest, cand.v, cand.n, &res, err);
		v = res.v;
		n = res.n;
	} else if (rc == 1) {
		rc = base_list(r, k, !fs.order_off, &v, &n, err);
		if (rc == 0 && (fs.n || fs.ids)) {
			rc = filter_list(r, &fs, v, n, &res, err);
			v = res.v;
			n = res.n;
		}
	}
	count = n;
	off = (size_t)fs.offset < n ? (size_t)fs.offset : n;
	len = n - off;
	if (fs.limit >= 0 && (size_t)fs.limit < len)
		len = (size_t)fs.limit;
	if (fs.hfid)
		count = len;
	if (rc == 0)
		rc = write_paginated(r, k, g, v ? v + off : NULL, len, count,
		                     err);
	hf_free(res.v);
	hf_free(cand.v);
	fset_release(&fs);
	return rc;
}

static void write_perm_node(struct xreq *r, const struct hfs_kind *k,
                            const struct hfs_gql_field_group *g)
{
	const struct hfs_gql_fields *f;
	size_t i;
	int first = 1;

	if (xr_collect(r, "ObjectPermission", g, NULL, &f, NULL) < 0) {
		hf_buf_add(&r->out, "null");
		return;
	}
	hf_buf_addch(&r->out, '{');
	for (i = 0; i < f->count; i++) {
		const char *name = f->groups[i].fields[0]->name;

		xw_key(&r->out, &first, f->groups[i].key);
		if (!strcmp(name, "kind"))
			xw_str(&r->out, k->kind);
		else if (!strcmp(name, "__typename"))
			xw_str(&r->out, "ObjectPermission");
		else
			xw_str(&r->out, "ALLOW");
	}
	hf_buf_addch(&r->out, '}');
}

/* permissions { count edges { node { kind view create update delete } } } */
static void write_perms(struct xreq *r, const struct hfs_kind *k,
                        const struct hfs_gql_field_group *g)
{
	const struct hfs_gql_fields *f, *ef;
	size_t i, j;
	int first = 1, efirst;

	if (xr_collect(r, "PaginatedObjectPermission", g, NULL, &f, NULL) < 0) {
		hf_buf_add(&r->out, "null");
		return;
	}
	hf_buf_addch(&r->out, '{');
	for (i = 0; i < f->count; i++) {
		const char *name = f->groups[i].fields[0]->name;

		xw_key(&r->out, &first, f->groups[i].key);
		if (!strcmp(name, "count")) {
			hf_buf_add(&r->out, "1");
			continue;
		}
		if (strcmp(name, "edges") ||
		    xr_collect(r, "ObjectPermissionNode", &f->groups[i], NULL,
		               &ef, NULL) < 0) {
			xw_str(&r->out, "PaginatedObjectPermission");
			continue;
		}
		hf_buf_add(&r->out, "[{");
		for (j = 0, efirst = 1; j < ef->count; j++) {
			xw_key(&r->out, &efirst, ef->groups[j].key);
			if (!strcmp(ef->groups[j].fields[0]->name, "node"))
				write_perm_node(r, k, &ef->groups[j]);
			else
				xw_str(&r->out, "ObjectPermissionNode");
		}
		hf_buf_add(&r->out, "}]");
	}
	hf_buf_addch(&r->out, '}');
}

static const char *created_at(const struct xnode *n);

/* The latest write to the node: its creation or an attribute's update. */
static const char *updated_at(const struct xnode *n)
{
	const char *best = created_at(n), *key, *ts;
	json_t *o;

	json_object_foreach(n->data, key, o)
	{
		ts = json_string_value(json_object_get(o, "updated_at"));
		if (ts && (!best || strcmp(ts, best) > 0))
			best = ts;
	}
	return best;
}

/*
 * node_metadata { created_at updated_at created_by updated_by } (Infrahub
 * 1.7+, replacing _updated_at). There are no accounts to name, so the
 * *_by fields are null.
 */
static void write_node_meta(struct xreq *r, const struct xnode *n,
                            const struct hfs_gql_field_group *g)
{
	const struct hfs_gql_fields *f;
	size_t i;
	int first = 1;

	if (!n || xr_collect(r, "NodeMetadata", g, NULL, &f, NULL) < 0) {
		hf_buf_add(&r->out, "null");
		return;
	}
	hf_buf_addch(&r->out, '{');
	for (i = 0; i < f->count; i++) {
		const char *name = f->groups[i].fields[0]->name;

		xw_key(&r->out, &first, f->groups[i].key);
		if (!strcmp(name, "created_at"))
			xw_str(&r->out, created_at(n));
		else if (!strcmp(name, "updated_at"))
			xw_str(&r->out, updated_at(n));
		else if (!strcmp(name, "__typename"))
			xw_str(&r->out, "NodeMetadata");
		else
			hf_buf_add(&r->out, "null");
	}
	hf_buf_addch(&r->out, '}');
}

/* relationship_metadata { updated_at updated_by } of one edge. */
static void write_rel_meta(struct xreq *r, const struct xedge *e,
                           const struct hfs_gql_field_group *g)
{
	const struct hfs_gql_fields *f;
	size_t i;
	int first = 1;

	if (xr_collect(r, "RelationshipMetadata", g, NULL, &f, NULL) < 0) {
		hf_buf_add(&r->out, "null");
		return;
	}
	hf_buf_addch(&r->out, '{');
	for (i = 0; i < f->count; i++) {
		const char *name = f->groups[i].fields[0]->name;

		xw_key(&r->out, &first, f->groups[i].key);
		if (!strcmp(name, "updated_at"))
			xw_json(&r->out, e && e->props
			                         ? json_object_get(e->props,
			                                           "updated_at")
			                         : NULL);
		else if (!strcmp(name, "__typename"))
			xw_str(&r->out, "RelationshipMetadata");
		else
			hf_buf_add(&r->out, "null");
	}
	hf_buf_addch(&r->out, '}');
}

static int write_edges(struct xreq *r, const struct hfs_kind *k,
                       const struct hfs_gql_field_group *g, struct xnode **v,
                       size_t n, hf_error *err)
{
	const struct hfs_gql_fields *f;
	char tn[300];
	size_t i, j;
	int rc, first;

	snprintf(tn, sizeof(tn), "Edged%s", k->kind);
	rc = xr_collect(r, tn, g, NULL, &f, err);
	if (rc < 0)
		return rc;
	hf_buf_addch(&r->out, '[');
	for (i = 0; rc == 0 && i < n; i++) {
		hf_buf_add(&r->out, i ? ",{" : "{");
		for (j = 0, first = 1; rc == 0 && j < f->count; j++) {
			xw_key(&r->out, &first, f->groups[j].key);
			if (!strcmp(f->groups[j].fields[0]->name, "node"))
				rc = xq_node(r, v[i], &f->groups[j], err);
			else if (!strcmp(f->groups[j].fields[0]->name,
			                 "node_metadata"))
				write_node_meta(r, v[i], &f->groups[j]);
			else
				xw_str(&r->out, tn);
		}
		hf_buf_addch(&r->out, '}');
	}
	hf_buf_addch(&r->out, ']');
	return rc;
}

static int write_paginated(struct xreq *r, const struct hfs_kind *k,
                           const struct hfs_gql_field_group *g,
                           struct xnode **v, size_t n, size_t count,
                           hf_error *err)
{
	const struct hfs_gql_fields *f;
	char tn[300];
	size_t i;
	int rc, first = 1;

	snprintf(tn, sizeof(tn), "Paginated%s", k->kind);
	rc = xr_collect(r, tn, g, NULL, &f, err);
	if (rc < 0)
		return rc;
	hf_buf_addch(&r->out, '{');
	for (i = 0; rc == 0 && i < f->count; i++) {
		const char *name = f->groups[i].fields[0]->name;

		xw_key(&r->out, &first, f->groups[i].key);
		if (!strcmp(name, "count"))
			hf_buf_addf(&r->out, "%zu", count);
		else if (!strcmp(name, "edges"))
			rc = write_edges(r, k, &f->groups[i], v, n, err);
		else if (!strcmp(name, "permissions"))
			write_perms(r, k, &f->groups[i]);
		else
			xw_str(&r->out, tn);
	}
	hf_buf_addch(&r->out, '}');
	return rc;
}

/* ---- node objects -------------------------------------------------------- */

static int write_lineage(struct xreq *r, const json_t *id,
                         const struct hfs_gql_field_group *g, hf_error *err)
{
	struct xnode *n = json_is_string(id)
	                          ? xb_node(r->b, json_string_value(id))
	                          : NULL;

	if (!n) {
		hf_buf_add(&r->out, "null");
		return 0;
	}
	return xq_node(r, n, g, err);
}

static void write_attr_perm(struct xreq *r, const struct hfs_gql_field_group *g)
{
	const struct hfs_gql_fields *f;
	size_t i;
	int first = 1;

	if (xr_collect(r, "AttributePermission", g, NULL, &f, NULL) < 0) {
		hf_buf_add(&r->out, "null");
		return;
	}
	hf_buf_addch(&r->out, '{');
	for (i = 0; i < f->count; i++) {
		xw_key(&r->out, &first, f->groups[i].key);
		xw_str(&r->out,
		       strcmp(f->groups[i].fields[0]->name, "__typename")
		               ? "ALLOW"
		               : "AttributePermission");
	}
	hf_buf_addch(&r->out, '}');
}

static const char *created_at(const struct xnode *n)
{
	return json_string_value(json_object_get(n->data, "_created_at"));
}

static void write_bool_prop(struct xreq *r, const json_t *o, const char *prop,
                            int dflt)
{
	json_t *v = o ? json_object_get(o, prop) : NULL;

	hf_buf_add(&r->out, (v ? json_is_true(v) : dflt) ? "true" : "false");
}

static void write_choice(struct xreq *r, const struct hfs_attr *a,
                         const json_t *v, const char *field)
{
	size_t i;

	for (i = 0; json_is_string(v) && i < a->nchoices; i++) {
		const struct hfs_choice *c = &a->choices[i];

		if (strcmp(c->name, json_string_value(v)))
			continue;
		if (!strcmp(field, "label"))
			xw_str(&r->out, c->label);
		else if (!strcmp(field, "color"))
			xw_str(&r->out, c->color);
		else
			xw_str(&r->out, c->description);
		return;
	}
	hf_buf_add(&r->out, "null");
}

static int attr_one(struct xreq *r, const struct xnode *n,
                    const struct hfs_attr *a,
                    const struct hfs_gql_field_group *fg, hf_error *err)
{
	const char *name = fg->fields[0]->name, *ts;
	json_t *o = xn_attr(n, a->name), *v = xn_value(n, a);
	char id[HFS_UUID_LEN + 1];

	if (!strcmp(name, "value")) {
		xw_json(&r->out, v);
	} else if (!strcmp(name, "id")) {
		xderived_id(id, n->id, a->name);
		xw_str(&r->out, id);
	} else if (!strcmp(name, "is_default")) {
		write_bool_prop(r, o, "is_default", o == NULL);
	} else if (!strcmp(name, "is_visible")) {
		write_bool_prop(r, o, "is_visible", 1);
	} else if (!strcmp(name, "is_protected")) {
		write_bool_prop(r, o, "is_protected", 0);
	} else if (!strcmp(name, "is_from_profile")) {
		write_bool_prop(r, o, "is_from_profile", 0);
	} else if (!strcmp(name, "is_inherited")) {
		hf_buf_add(&r->out, "false");
	} else if (!strcmp(name, "updated_at")) {
		ts = json_string_value(o ? json_object_get(o, "updated_at")
		                         : NULL);
		xw_str(&r->out, ts ? ts : created_at(n));
	} else if (!strcmp(name, "source") || !strcmp(name, "owner")) {
		return write_lineage(r, o ? json_object_get(o, name) : NULL, fg,
		                     err);
	} else if (!strcmp(name, "permissions")) {
		write_attr_perm(r, fg);
	} else if (!strcmp(name, "__typename")) {
		xw_str(&r->out, xt_attr_type(a->kind));
	} else if (a->nchoices) {
		write_choice(r, a, v, name);
	} else if (!strcmp(a->kind, "IPHost") ||
	           !strcmp(a->kind, "IPNetwork")) {
		xip_field(&r->out, json_string_value(v), name,
		          !strcmp(a->kind, "IPNetwork"));
	} else {
		hf_buf_add(&r->out, "null");
	}
	return 0;
}

static int write_attr(struct xreq *r, const struct xnode *n,
                      const struct hfs_attr *a,
                      const struct hfs_gql_field_group *g, hf_error *err)
{
	const struct hfs_gql_fields *f;
	size_t i;
	int first = 1, rc;

	rc = xr_collect(r, xt_attr_type(a->kind), g, NULL, &f, err);
	if (rc < 0)
		return rc;
	hf_buf_addch(&r->out, '{');
	for (i = 0; rc == 0 && i < f->count; i++) {
		xw_key(&r->out, &first, f->groups[i].key);
		rc = attr_one(r, n, a, &f->groups[i], err);
	}
	hf_buf_addch(&r->out, '}');
	return rc;
}

/* properties { is_visible is_protected updated_at source owner } */
static int write_props(struct xreq *r, const struct xedge *e, int present,
                       const struct hfs_gql_field_group *g, hf_error *err)
{
	const struct hfs_gql_fields *f;
	json_t *p = e ? e->props : NULL;
	size_t i;
	int first = 1, rc;

	rc = xr_collect(r, "RelationshipProperty", g, NULL, &f, err);
	if (rc < 0)
		return rc;
	hf_buf_addch(&r->out, '{');
	for (i = 0; rc == 0 && i < f->count; i++) {
		const char *name = f->groups[i].fields[0]->name;

		xw_key(&r->out, &first, f->groups[i].key);
		if (!strcmp(name, "__typename"))
			xw_str(&r->out, "RelationshipProperty");
		else if (!present)
			hf_buf_add(&r->out, "null");
		else if (!strcmp(name, "is_visible"))
			write_bool_prop(r, p, "is_visible", 1);
		else if (!strcmp(name, "is_protected"))
			write_bool_prop(r, p, "is_protected", 0);
		else if (!strcmp(name, "updated_at"))
			xw_json(&r->out,
			        p ? json_object_get(p, "updated_at") : NULL);
		else
			rc = write_lineage(r,
			                   p ? json_object_get(p, name) : NULL,
			                   &f->groups[i], err);
	}
	hf_buf_addch(&r->out, '}');
	return rc;
}

/* { node properties } of one peer (node may be NULL). */
static int write_nested_edge(struct xreq *r, const char *tn, struct xnode *peer,
                             const struct xedge *e,
                             const struct hfs_gql_fields *f, hf_error *err)
{
	size_t i;
	int first = 1, rc = 0;

	hf_buf_addch(&r->out, '{');
	for (i = 0; rc == 0 && i < f->count; i++) {
		const char *name = f->groups[i].fields[0]->name;

		xw_key(&r->out, &first, f->groups[i].key);
		if (!strcmp(name, "node") && peer)
			rc = xq_node(r, peer, &f->groups[i], err);
		else if (!strcmp(name, "properties"))
			rc = write_props(r, e, peer != NULL, &f->groups[i],
			                 err);
		else if (!strcmp(name, "node_metadata"))
			write_node_meta(r, peer, &f->groups[i]);
		else if (!strcmp(name, "relationship_metadata") && peer)
			write_rel_meta(r, e, &f->groups[i]);
		else if (!strcmp(name, "__typename"))
			xw_str(&r->out, tn);
		else
			hf_buf_add(&r->out, "null");
	}
	hf_buf_addch(&r->out, '}');
	return rc;
}

static int write_rel_one(struct xreq *r, const struct xnode *n,
                         const struct hfs_rel *rel,
                         const struct hfs_gql_field_group *g, hf_error *err)
{
	const struct hfs_gql_fields *f;
	struct xnode *peer;
	struct xedge *e;
	char tn[300];
	int rc;

	snprintf(tn, sizeof(tn), "NestedEdged%s", rel->peer);
	rc = xr_collect(r, tn, g, NULL, &f, err);
	if (rc == 0)
		rc = xb_peer_one(r->b, n, rel, &peer, &e, err);
	if (rc == 0)
		rc = write_nested_edge(r, tn, peer, e, f, err);
	return rc;
}

static int rel_many_edges(struct xreq *r, const char *peer,
                          const struct xpeers *p, size_t off, size_t len,
                          const struct hfs_gql_field_group *g, hf_error *err)
{
	const struct hfs_gql_fields *f;
	char tn[300];
	size_t i;
	int rc;

	snprintf(tn, sizeof(tn), "NestedEdged%s", peer);
	rc = xr_collect(r, tn, g, NULL, &f, err);
	hf_buf_addch(&r->out, '[');
	for (i = off; rc == 0 && i < off + len; i++) {
		if (i > off)
			hf_buf_addch(&r->out, ',');
		rc = write_nested_edge(r, tn, p->n[i], p->e[i], f, err);
	}
	hf_buf_addch(&r->out, ']');
	return rc;
}

/* Keep the peers that pass the relationship field's filters. */
static int filter_peers(struct xreq *r, const struct fset *fs, struct xpeers *p,
                        hf_error *err)
{
	struct mctx m = { r, { NULL, NULL, 0, 0 }, HF_BUF_INIT, err };
	size_t i, keep = 0;
	int rc = 0, ok;

	for (i = 0; rc == 0 && i < p->len; i++) {
		rc = node_match(&m, fs, p->n[i], &ok);
		if (rc == 0 && ok) {
			p->n[keep] = p->n[i];
			p->e[keep++] = p->e[i];
		}
	}
	p->len = keep;
	xpeers_release(&m.peers);
	hf_buf_release(&m.tmp);
	return rc;
}

/* {count edges permissions} over peers p, with fs's offset and limit. */
static int write_many(struct xreq *r, const char *peer, const struct xpeers *p,
                      const struct fset *fs,
                      const struct hfs_gql_field_group *g, hf_error *err)
{
	const struct hfs_kind *pk = hfs_schema_kind(r->s, peer);
	const struct hfs_gql_fields *f;
	char tn[300];
	size_t i, off, len;
	int rc, first = 1;

	snprintf(tn, sizeof(tn), "NestedPaginated%s", peer);
	rc = xr_collect(r, tn, g, NULL, &f, err);
	off = (size_t)fs->offset < p->len ? (size_t)fs->offset : p->len;
	len = p->len - off;
	if (fs->limit >= 0 && (size_t)fs->limit < len)
		len = (size_t)fs->limit;
	if (rc == 0)
		hf_buf_addch(&r->out, '{');
	for (i = 0; rc == 0 && i < f->count; i++) {
		const char *name = f->groups[i].fields[0]->name;

		xw_key(&r->out, &first, f->groups[i].key);
		if (!strcmp(name, "count"))
			hf_buf_addf(&r->out, "%zu", p->len);
		else if (!strcmp(name, "edges"))
			rc = rel_many_edges(r, peer, p, off, len, &f->groups[i],
			                    err);
		else if (!strcmp(name, "permissions") && pk)
			write_perms(r, pk, &f->groups[i]);
		else
			xw_str(&r->out, tn);
	}
	if (rc == 0)
		hf_buf_addch(&r->out, '}');
	return rc;
}

/* ---- hierarchies --------------------------------------------------------- */

static int peers_has(const struct xpeers *p, const struct xnode *n)
{
	size_t i;

	for (i = 0; i < p->len; i++) {
		if (p->n[i] == n)
			return 1;
	}
	return 0;
}

/* The hierarchy relationship `name` ("parent", "children") of n. */
static const struct hfs_rel *hier_rel(struct xreq *r, const struct xnode *n,
                                      const char *name)
{
	const struct hfs_kind *k = hfs_schema_kind(r->s, n->kind);
	const struct hfs_rel *rel = k ? hfs_kind_rel(k, name) : NULL;

	return rel && !strcmp(rel->kind, "Hierarchy") ? rel : NULL;
}

/* Every ancestor of n, nearest first (a cycle stops the walk). */
static int ancestors(struct xreq *r, struct xnode *n, struct xpeers *out,
                     hf_error *err)
{
	const struct hfs_rel *rel;
	struct xnode *cur = n;
	int rc = 0;

	while (rc == 0 && cur && (rel = hier_rel(r, cur, "parent"))) {
		rc = xb_peer_one(r->b, cur, rel, &cur, NULL, err);
		if (rc < 0 || !cur || cur == n || peers_has(out, cur))
			break;
		if (xpeers_push(out, NULL, cur) < 0)
			rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	return rc;
}

/* Every descendant of n, breadth first. */
static int descendants(struct xreq *r, struct xnode *n, struct xpeers *out,
                       hf_error *err)
{
	struct xpeers p = { NULL, NULL, 0, 0 };
	const struct hfs_rel *rel;
	struct xnode *cur = n;
	size_t at = 0, j;
	int rc = 0;

	while (rc == 0 && cur) {
		rel = hier_rel(r, cur, "children");
		rc = rel ? xb_peers(r->b, cur, rel, &p, err) : 0;
		for (j = 0; rc == 0 && rel && j < p.len; j++) {
			if (p.n[j] == n || peers_has(out, p.n[j]))
				continue;
			if (xpeers_push(out, NULL, p.n[j]) < 0)
				rc = hf_error_set(err, HF_ENOMEM,
				                  "out of memory");
		}
		cur = at < out->len ? out->n[at++] : NULL;
	}
	xpeers_release(&p);
	return rc;
}

static int cmp_node(const void *a, const void *b)
{
	return strcmp((*(struct xnode *const *)a)->id,
	              (*(struct xnode *const *)b)->id);
}

/*
 * ancestors / descendants of a hierarchy member, typed and ordered as the
 * hierarchy generic (its order_by, else creation order), with its
 * filters (graphql/manager.py, NodeGetHierarchyQuery).
 */
static int write_hier(struct xreq *r, struct xnode *n, const struct hfs_kind *k,
                      const struct hfs_gql_field_group *g, hf_error *err)
{
	const struct hfs_kind *hk =
	        hfs_schema_kind(r->s, k->hierarchy ? k->hierarchy : k->kind);
	struct xpeers p = { NULL, NULL, 0, 0 };
	struct nlist l;
	struct fset fs;
	int rc;

	if (!hk || parse_args(r, hk, g, &fs) < 0)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	rc = strcmp(g->fields[0]->name, "ancestors")
	             ? descendants(r, n, &p, err)
	             : ancestors(r, n, &p, err);
	if (rc == 0 && (fs.n || fs.ids))
		rc = filter_peers(r, &fs, &p, err);
	l.v = p.n;
	l.n = p.len;
	l.cap = p.cap;
	if (rc == 0 && hk->order_by.n && !fs.order_off)
		rc = sort_order_by(r, hk, &l, err);
	else if (rc == 0 && p.len)
		qsort(p.n, p.len, sizeof(*p.n), cmp_node);
	if (rc == 0)
		rc = write_many(r, hk->kind, &p, &fs, g, err);
	xpeers_release(&p);
	fset_release(&fs);
	return rc;
}

/*
 * include_descendants: true on a relationship of a hierarchy member adds
 * the peers every descendant has through the relationship of that name
 * (resolver.py many_relationship_resolver).
 */
static int add_descendant_peers(struct xreq *r, struct xnode *n,
                                const struct hfs_rel *rel, struct xpeers *p,
                                hf_error *err)
{
	struct xpeers d = { NULL, NULL, 0, 0 }, q = { NULL, NULL, 0, 0 };
	size_t i, j;
	int rc = descendants(r, n, &d, err);

	for (i = 0; rc == 0 && i < d.len; i++) {
		const struct hfs_kind *dk = hfs_schema_kind(r->s, d.n[i]->kind);
		const struct hfs_rel *r2 =
		        dk ? hfs_kind_rel(dk, rel->name) : NULL;

		if (!r2)
			continue;
		rc = xb_peers(r->b, d.n[i], r2, &q, err);
		for (j = 0; rc == 0 && j < q.len; j++) {
			if (!peers_has(p, q.n[j]) &&
			    xpeers_push(p, q.e[j], q.n[j]) < 0)
				rc = hf_error_set(err, HF_ENOMEM,
				                  "out of memory");
		}
	}
	xpeers_release(&d);
	xpeers_release(&q);
	return rc;
}

/* Relationships with fewer edges are looked up each time, not cached. */
#define PVIEW_MIN 256

/*
 * The peers of n's relationship rel, kept until the branch changes (its
 * gen): paging through the members of a group of 100,000 looked every
 * member up again for each page (3.5 s for 100 pages). Only for large
 * peer sets, so that listing many nodes does not keep a set per node.
 * NULL in *out: not cached, read them yourself.
 */
static int cached_peers(struct xreq *r, struct xnode *n,
                        const struct hfs_rel *rel, const struct xpeers **out,
                        hf_error *err)
{
	const struct xevec *v;
	struct xpview *pv;
	hf_buf key = HF_BUF_INIT;
	int rc;

	*out = NULL;
	rc = xb_node_edges(r->b, rel->identifier, n->id, &v, err);
	if (rc < 0 || !v || v->n < PVIEW_MIN)
		return rc;
	hf_buf_addf(&key, "%s|%s|%s", n->id, rel->identifier, rel->name);
	if (hf_buf_failed(&key))
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	pv = xmap_get(&r->b->pviews, key.ptr);
	if (!pv) {
		pv = hf_calloc(1, sizeof(*pv));
		if (!pv || xmap_put(&r->b->pviews, key.ptr, pv) < 0) {
			hf_free(pv);
			hf_buf_release(&key);
			return hf_error_set(err, HF_ENOMEM, "out of memory");
		}
		pv->gen = r->b->gen - 1;
	}
	hf_buf_release(&key);
	if (pv->gen != r->b->gen) {
		rc = xb_peers(r->b, n, rel, &pv->p, err);
		pv->gen = rc < 0 ? r->b->gen - 1 : r->b->gen;
		if (rc < 0)
			return rc;
	}
	*out = &pv->p;
	return 0;
}

static int write_rel_many(struct xreq *r, struct xnode *n,
                          const struct hfs_rel *rel,
                          const struct hfs_gql_field_group *g, hf_error *err)
{
	const struct hfs_kind *pk = hfs_schema_kind(r->s, rel->peer);
	struct xpeers p = { NULL, NULL, 0, 0 };
	const struct xpeers *cached = NULL;
	json_t *desc = xr_arg(r, g, "include_descendants");
	struct fset fs;
	int rc;

	if (parse_args(r, pk, g, &fs) < 0) {
		json_decref(desc);
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	/* no filter, no descendants: the peers as they are, maybe cached */
	rc = !json_is_true(desc) && !fs.n && !fs.ids
	             ? cached_peers(r, n, rel, &cached, err)
	             : 0;
	if (rc == 0 && !cached)
		rc = xb_peers(r->b, n, rel, &p, err);
	if (rc == 0 && !cached && json_is_true(desc))
		rc = add_descendant_peers(r, n, rel, &p, err);
	if (rc == 0 && (fs.n || fs.ids))
		rc = filter_peers(r, &fs, &p, err);
	if (rc == 0)
		rc = write_many(r, rel->peer, cached ? cached : &p, &fs, g,
		                err);
	json_decref(desc);
	xpeers_release(&p);
	fset_release(&fs);
	return rc;
}

static int node_one(struct xreq *r, struct xnode *n, const struct hfs_kind *k,
                    const struct hfs_gql_field_group *fg, hf_error *err)
{
	const char *name = fg->fields[0]->name;
	const struct hfs_attr *a;
	const struct hfs_rel *rel;
	hf_buf t = HF_BUF_INIT;
	json_t *h = NULL;
	int rc = 0;

	if (!strcmp(name, "id")) {
		xw_str(&r->out, n->id);
	} else if (!strcmp(name, "__typename")) {
		xw_str(&r->out, n->kind);
	} else if (!strcmp(name, "hfid")) {
		rc = xn_hfid(r->b, k, n, &h, err);
		xw_json(&r->out, h);
		json_decref(h);
	} else if (!strcmp(name, "display_label")) {
		rc = xn_label(r->b, k, n, &t, err);
		xw_strn(&r->out, t.ptr, t.len);
		hf_buf_release(&t);
	} else if (!strcmp(name, "_updated_at")) {
		xw_str(&r->out, updated_at(n));
	} else if (!strcmp(name, "node_metadata")) {
		write_node_meta(r, n, fg);
	} else if (k && (a = hfs_kind_attr(k, name))) {
		rc = write_attr(r, n, a, fg, err);
	} else if (k && (rel = hfs_kind_rel(k, name))) {
		rc = rel->many ? write_rel_many(r, n, rel, fg, err)
		               : write_rel_one(r, n, rel, fg, err);
	} else if (k && (!strcmp(name, "ancestors") ||
	                 !strcmp(name, "descendants"))) {
		rc = write_hier(r, n, k, fg, err);
	} else {
		hf_buf_add(&r->out, "null");
	}
	return rc;
}

int xq_node(struct xreq *r, struct xnode *n,
            const struct hfs_gql_field_group *g, hf_error *err)
{
	const struct hfs_kind *k = hfs_schema_kind(r->s, n->kind);
	const struct hfs_gql_fields *f;
	size_t i;
	int first = 1, rc;

	rc = xr_collect(r, n->kind, g, NULL, &f, err);
	if (rc < 0)
		return rc;
	hf_buf_addch(&r->out, '{');
	for (i = 0; rc == 0 && i < f->count; i++) {
		xw_key(&r->out, &first, f->groups[i].key);
		rc = node_one(r, n, k, &f->groups[i], err);
	}
	hf_buf_addch(&r->out, '}');
	return rc;
}
