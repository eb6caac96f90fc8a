/*
 * <Kind>Create / Update / Upsert / Delete, RelationshipAdd / Remove.
 *
 * A node's data holds only what was written: one object per attribute
 * that was given a value ({"value", "is_protected"?, "source"?, ...,
 * "updated_at"?}) plus "_created_at". An absent attribute reads as its
 * schema default with is_default true, which keeps the rows small and
 * makes writing the same values again a no-op.
 *
 * Relationships are edges between the node written and each peer, stored
 * from whichever end the schema marks as the small one (link_peer: the
 * cardinality-one side, a member rather than its group). A many-list
 * replaces the peer set; an edge that is already there is kept, so
 * nothing moves when nothing changed. RelationshipAdd / Remove edit a
 * many relationship peer by peer; finding and adding a peer costs the
 * same whatever the number of peers already there (a group of 100k
 * members); removing one still pays the mirror's list removal
 * (exec_cache.c), linear in that number.
 *
 * A delete takes along what on_delete: cascade reaches, and is refused
 * as a whole (Infrahub's NodeDeleteValidator message) when a node that
 * stays would lose the peer of a mandatory relationship.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec_int.h"
#include "hf/alloc.h"
#include "jinja.h"
#include "pool.h"

#include "hf/banned.h"

enum { OP_CREATE, OP_UPDATE, OP_UPSERT, OP_DELETE };

/*
 * Open-addressing map from a node of the mirror to an index (its place
 * in a list), so that large peer lists (a group's 100k members) are
 * checked in constant time per peer. Keys are compared by address.
 */
struct pmap {
	const struct xnode **k; /* NULL: empty slot */
	size_t *v;
	size_t cap; /* a power of two, or 0 */
	size_t n;
};

#define PMAP_INIT                \
	{                        \
		NULL, NULL, 0, 0 \
	}

/* A relationship input, resolved. */
struct mrel {
	const struct hfs_rel *r;
	struct xnode **peers;
	json_t **props; /* edge properties per peer (or NULL) */
	size_t n;
	size_t cap;
	struct pmap at; /* peer -> its index in peers */
};

struct minput {
	const struct hfs_kind *k;
	json_t *data; /* borrowed */
	struct mrel *rels;
	size_t nrels;
	hf_buf errs; /* validation messages joined by ", " */
	const char *id; /* the node's id (chosen before a create) */
	struct xnode *node; /* the node updated, NULL when creating */
};

/* Node ids, e.g. the nodes a delete takes along. */
struct idlist {
	char (*v)[HFS_UUID_LEN + 1];
	size_t n;
};

static int idlist_has(const struct idlist *l, const char *id)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (!strcmp(l->v[i], id))
			return 1;
	}
	return 0;
}

/* Add id unless present; HF_ENOMEM. */
static int idlist_add(struct idlist *l, const char *id)
{
	char(*nv)[HFS_UUID_LEN + 1];

	if (idlist_has(l, id))
		return 0;
	nv = hf_reallocarray(l->v, l->n + 1, sizeof(*nv));
	if (!nv)
		return HF_ENOMEM;
	l->v = nv;
	snprintf(l->v[l->n++], HFS_UUID_LEN + 1, "%s", id);
	return 0;
}

/* ---- node maps ----------------------------------------------------------- */

static size_t pmap_slot(const struct pmap *m, const struct xnode *n)
{
	uint64_t x = (uint64_t)(uintptr_t)n;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x & (m->cap - 1);
}

/* Whether n is in the map; its index goes to *at (may be NULL). */
static int pmap_get(const struct pmap *m, const struct xnode *n, size_t *at)
{
	size_t i;

	if (!m->cap)
		return 0;
	for (i = pmap_slot(m, n); m->k[i]; i = (i + 1) & (m->cap - 1)) {
		if (m->k[i] != n)
			continue;
		if (at)
			*at = m->v[i];
		return 1;
	}
	return 0;
}

static void pmap_insert(struct pmap *m, const struct xnode *n, size_t v)
{
	size_t i = pmap_slot(m, n);

	while (m->k[i])
		i = (i + 1) & (m->cap - 1);
	m->k[i] = n;
	m->v[i] = v;
	m->n++;
}

static int pmap_grow(struct pmap *m)
{
	struct pmap g = { NULL, NULL, m->cap ? m->cap * 2 : 16, 0 };
	size_t i;

	g.k = hf_calloc(g.cap, sizeof(*g.k));
	g.v = g.k ? hf_calloc(g.cap, sizeof(*g.v)) : NULL;
	if (!g.v) {
		hf_free(g.k);
		return HF_ENOMEM;
	}
	for (i = 0; i < m->cap; i++) {
		if (m->k[i])
			pmap_insert(&g, m->k[i], m->v[i]);
	}
	hf_free(m->k);
	hf_free(m->v);
	*m = g;
	return 0;
}

/* Add n -> v unless n is there: 0 added, 1 present, HF_ENOMEM. */
static int pmap_put(struct pmap *m, const struct xnode *n, size_t v)
{
	if (pmap_get(m, n, NULL))
		return 1;
	if ((m->n + 1) * 2 > m->cap && pmap_grow(m) < 0)
		return HF_ENOMEM;
	pmap_insert(m, n, v);
	return 0;
}

static void pmap_release(struct pmap *m)
{
	hf_free(m->k);
	hf_free(m->v);
	memset(m, 0, sizeof(*m));
}

static void mrel_release(struct mrel *mr)
{
	size_t i;

	for (i = 0; i < mr->n; i++)
		json_decref(mr->props[i]);
	hf_free(mr->peers);
	hf_free(mr->props);
	pmap_release(&mr->at);
	mr->peers = NULL;
	mr->props = NULL;
	mr->n = mr->cap = 0;
}

static void minput_release(struct minput *m)
{
	size_t i;

	for (i = 0; i < m->nrels; i++)
		mrel_release(&m->rels[i]);
	hf_free(m->rels);
	hf_buf_release(&m->errs);
	memset(m, 0, sizeof(*m));
}

static void add_err(hf_buf *b, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void add_err(hf_buf *b, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (b->len)
		hf_buf_add(b, ", ");
	hf_buf_add(b, msg);
}

static int not_found(hf_error *err, const char *what, const char *kind)
{
	return hf_error_set(err, HF_ENOTFOUND,
	                    "Unable to find the node %s / %s in the database.",
	                    what, kind);
}

static int hfid_not_found(hf_error *err, const json_t *hfid, const char *kind)
{
	hf_buf t = HF_BUF_INIT;
	int rc;

	xpy_list(&t, hfid);
	rc = not_found(err, t.ptr, kind);
	hf_buf_release(&t);
	return rc;
}

/* ---- input checks -------------------------------------------------------- */

static void check_inputs(struct minput *m, int op, int internal)
{
	const char *key;
	json_t *v;

	json_object_foreach(m->data, key, v)
	{
		const struct hfs_attr *a = hfs_kind_attr(m->k, key);
		const struct hfs_rel *r = hfs_kind_rel(m->k, key);

		if (!strcmp(key, "id") ||
		    (!strcmp(key, "hfid") && op != OP_DELETE))
			continue;
		if ((a && (!a->read_only || internal)) ||
		    (r && (!r->read_only || internal)))
			continue;
		add_err(&m->errs, "%s is not a valid input for %s at %s", key,
		        m->k->kind, key);
	}
}

/*
 * Edge properties from the _relation__* fields of a RelatedNodeInput;
 * `src` (may be empty) is the pool a peer was allocated from, which
 * Infrahub records as the relationship's source.
 */
static json_t *edge_props(const json_t *in, const char *now, const char *src)
{
	static const char *const keys[][2] = {
		{ "_relation__is_protected", "is_protected" },
		{ "_relation__is_visible", "is_visible" },
		{ "_relation__owner", "owner" },
		{ "_relation__source", "source" },
	};
	json_t *p = NULL, *v;
	size_t i;

	for (i = 0; i < 4; i++) {
		v = json_object_get(in, keys[i][0]);
		if (!v || json_is_null(v))
			continue;
		if (i == 0 && json_is_false(v))
			continue;
		if (i == 1 && json_is_true(v))
			continue;
		if (!p)
			p = json_object();
		if (p)
			json_object_set(p, keys[i][1], v);
	}
	if (src && *src && !p)
		p = json_object();
	if (p && src && *src && !json_object_get(p, "source"))
		json_object_set_new(p, "source", json_string(src));
	if (p)
		json_object_set_new(p, "updated_at", json_string(now));
	return p;
}

/* ---- peer resolution ----------------------------------------------------- */

static void py_kinds(hf_buf *b, const struct hfs_kind *pk)
{
	size_t i;

	hf_buf_addch(b, '[');
	if (!pk->is_generic)
		hf_buf_addf(b, "'%s'", pk->kind);
	for (i = 0; pk->is_generic && i < pk->used_by.n; i++)
		hf_buf_addf(b, "%s'%s'", i ? ", " : "", pk->used_by.v[i]);
	hf_buf_addch(b, ']');
}

static int peer_kind_error(const struct hfs_rel *r, const struct hfs_kind *pk,
                           const struct xnode *n, hf_error *err)
{
	hf_buf t = HF_BUF_INIT;
	int rc;

	py_kinds(&t, pk);
	rc = hf_error_set(err, HF_EINVAL,
	                  "%s - %s cannot be added to relationship, must be "
	                  "of type: %s at %s",
	                  n->kind, n->id, t.ptr, r->name);
	hf_buf_release(&t);
	return rc;
}

/* A non-UUID id: the peer kind's default_filter (each kind for a generic). */
static int by_default_filter(struct xreq *r, const struct hfs_kind *pk,
                             const json_t *id, struct xnode **out,
                             hf_error *err)
{
	struct xsplit sp;
	size_t i;
	int rc = 0;

	*out = NULL;
	if (pk->default_filter) {
		xsplit_path(&sp, pk->default_filter);
		return xb_find_value(r->b, pk, sp.p[0], id, out, err);
	}
	for (i = 0; pk->is_generic && !*out && rc == 0 && i < pk->used_by.n;
	     i++) {
		const struct hfs_kind *ck =
		        hfs_schema_kind(r->s, pk->used_by.v[i]);

		if (!ck || !ck->default_filter)
			continue;
		xsplit_path(&sp, ck->default_filter);
		rc = xb_find_value(r->b, ck, sp.p[0], id, out, err);
	}
	return rc;
}

static int resolve_by_id(struct xreq *r, const struct hfs_rel *rel,
                         const struct hfs_kind *pk, const json_t *id,
                         struct xnode **out, hf_error *err)
{
	const char *s = json_string_value(id);
	int rc = 0;

	if (hfs_db_is_uuid(s))
		*out = xb_node(r->b, s);
	else
		rc = by_default_filter(r, pk, id, out, err);
	if (rc < 0)
		return rc;
	if (!*out)
		return not_found(err, s, pk->kind);
	if (!hfs_schema_is_a(r->s, (*out)->kind, pk->kind))
		return peer_kind_error(rel, pk, *out, err);
	return 0;
}

static int resolve_by_hfid(struct xreq *r, const struct hfs_rel *rel,
                           const struct hfs_kind *pk, const json_t *in,
                           struct xnode **out, hf_error *err)
{
	const json_t *hfid = json_object_get(in, "hfid");
	const char *kind = json_string_value(json_object_get(in, "kind"));
	const struct hfs_kind *k = pk;
	int rc;

	if (kind) {
		k = hfs_schema_kind(r->s, kind);
		if (!k || !hfs_schema_is_a(r->s, kind, pk->kind))
			return hf_error_set(
			        err, HF_EINVAL,
			        "%s is not a valid kind for %s at %s", kind,
			        pk->kind, rel->name);
	}
	rc = xb_find_hfid(r->b, k, hfid, out, err);
	if (rc == 0 && !*out)
		rc = hfid_not_found(err, hfid, k->kind);
	if (rc == 0 && !hfs_schema_is_a(r->s, (*out)->kind, pk->kind))
		rc = peer_kind_error(rel, pk, *out, err);
	return rc;
}

static int resolve_peer(struct xreq *r, const struct minput *m,
                        const struct hfs_rel *rel, const json_t *in,
                        struct xnode **out, char *src, hf_error *err);

/* One HFID component of the node being written, as text ("" if none). */
static int hfid_text(struct xreq *r, const struct minput *m, const char *path,
                     hf_buf *b, hf_error *err)
{
	const struct hfs_attr *a;
	const struct hfs_rel *rel;
	const struct hfs_kind *pk;
	struct xnode *peer = NULL;
	struct xsplit sp;
	const json_t *v, *in;
	int rc = 0;

	xsplit_path(&sp, path);
	a = hfs_kind_attr(m->k, sp.p[0]);
	rel = a ? NULL : hfs_kind_rel(m->k, sp.p[0]);
	if (a) {
		v = json_object_get(json_object_get(m->data, a->name), "value");
		if (!v && m->node)
			v = xn_value(m->node, a);
	} else if (rel && !rel->many) {
		in = json_object_get(m->data, rel->name);
		if ((json_is_object(in) && !json_object_get(in, "from_pool")) ||
		    json_is_string(in))
			rc = resolve_peer(r, NULL, rel, in, &peer, NULL, err);
		else if (!in && m->node)
			rc = xb_peer_one(r->b, m->node, rel, &peer, NULL, err);
		pk = peer ? hfs_schema_kind(r->s, peer->kind) : NULL;
		a = pk ? hfs_kind_attr(pk, sp.p[1]) : NULL;
		v = a ? xn_value(peer, a) : NULL;
	} else {
		v = NULL;
	}
	if (rc == 0 && v && !json_is_null(v)) {
		hf_buf_add(b, "__");
		xval_text(b, v);
	}
	return rc;
}

/*
 * The identifier of a relationship's from_pool without one:
 * "hfid=<Kind>__<hfid...> rel=<name>" when the node has an HFID
 * (core/relationship/model.py, Relationship.resolve), else none.
 */
static int pool_identifier(struct xreq *r, const struct minput *m,
                           const struct hfs_rel *rel, hf_buf *b, hf_error *err)
{
	size_t i, mark;
	int rc = 0;

	hf_buf_addf(b, "hfid=%s", m->k->kind);
	mark = b->len;
	for (i = 0; rc == 0 && i < m->k->hfid.n; i++)
		rc = hfid_text(r, m, m->k->hfid.v[i], b, err);
	if (rc == 0 && b->len == mark)
		hf_buf_reset(b); /* no HFID: no identifier */
	else if (rc == 0)
		hf_buf_addf(b, " rel=%s", rel->name);
	return rc;
}

/*
 * {from_pool: {id, identifier?, data?, ...}}: the peer is allocated from
 * the pool (Infrahub 1.x resource manager), and the pool is the source.
 */
static int peer_from_pool(struct xreq *r, const struct minput *m,
                          const struct hfs_rel *rel, const struct hfs_kind *pk,
                          const json_t *fp, struct xnode **out, char *src,
                          hf_error *err)
{
	hf_buf ident = HF_BUF_INIT;
	struct xnode *pool = NULL;
	struct xp_req q;
	int rc;

	if (!m || !src)
		return hf_error_set(err, HF_EINVAL,
		                    "from_pool is not supported here at %s",
		                    rel->name);
	rc = xp_find(r, "CoreResourcePool", json_object_get(fp, "id"), NULL,
	             &pool, err);
	if (rc == HF_ENOTFOUND)
		rc = hf_error_set(err, HF_ENOTFOUND,
		                  "Unable to find the pool to generate a node "
		                  "for the relationship '%s' on '%s'",
		                  rel->name, m->id ? m->id : "None");
	xp_req_from_input(&q, fp);
	if (rc == 0 && !q.identifier)
		rc = pool_identifier(r, m, rel, &ident, err);
	if (rc == 0 && !q.identifier && ident.len)
		q.identifier = ident.ptr;
	if (rc == 0)
		rc = xp_allocate(r, pool, &q, out, err);
	if (rc == 0)
		snprintf(src, HFS_UUID_LEN + 1, "%s", pool->id);
	if (rc == 0 && !hfs_schema_is_a(r->s, (*out)->kind, pk->kind))
		rc = peer_kind_error(rel, pk, *out, err);
	hf_buf_release(&ident);
	return rc;
}

/* One RelatedNodeInput -> peer node; src gets a from_pool's pool id. */
static int resolve_peer(struct xreq *r, const struct minput *m,
                        const struct hfs_rel *rel, const json_t *in,
                        struct xnode **out, char *src, hf_error *err)
{
	const struct hfs_kind *pk = hfs_schema_kind(r->s, rel->peer);
	const json_t *id = json_is_string(in) ? in : json_object_get(in, "id");
	const json_t *fp = json_object_get(in, "from_pool");

	*out = NULL;
	if (!pk)
		return hf_error_set(err, HF_EINVAL, "unknown peer kind %s",
		                    rel->peer);
	if (json_is_string(id))
		return resolve_by_id(r, rel, pk, id, out, err);
	if (json_is_array(json_object_get(in, "hfid")))
		return resolve_by_hfid(r, rel, pk, in, out, err);
	if (json_is_object(fp))
		return peer_from_pool(r, m, rel, pk, fp, out, src, err);
	return hf_error_set(err, HF_EINVAL,
	                    "id or hfid is required for %s at %s", rel->name,
	                    rel->name);
}

static int mrel_grow(struct mrel *mr)
{
	size_t cap = mr->cap ? mr->cap * 2 : 4;
	struct xnode **np;
	json_t **pp;

	np = hf_reallocarray(mr->peers, cap, sizeof(*np));
	if (np)
		mr->peers = np;
	pp = np ? hf_reallocarray(mr->props, cap, sizeof(*pp)) : NULL;
	if (!pp)
		return HF_ENOMEM;
	mr->props = pp;
	mr->cap = cap;
	return 0;
}

/* Append a peer (takes props); the same peer twice keeps the first. */
static int mrel_push(struct mrel *mr, struct xnode *n, json_t *props)
{
	int rc = mr->n == mr->cap ? mrel_grow(mr) : 0;

	if (rc == 0)
		rc = pmap_put(&mr->at, n, mr->n);
	if (rc != 0) { /* present (1) or out of memory */
		json_decref(props);
		return rc < 0 ? rc : 0;
	}
	mr->peers[mr->n] = n;
	mr->props[mr->n++] = props;
	return 0;
}

static int push_peer(struct xreq *r, const struct minput *m,
                     const struct hfs_rel *rel, const json_t *in,
                     struct mrel *mr, hf_error *err)
{
	char src[HFS_UUID_LEN + 1] = "";
	struct xnode *n;
	int rc = resolve_peer(r, m, rel, in, &n, src, err);

	if (rc == 0 && mrel_push(mr, n, edge_props(in, r->now, src)) < 0)
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	return rc;
}

/* m: the node being written (NULL: from_pool is refused). */
static int resolve_rel(struct xreq *r, const struct minput *m,
                       const struct hfs_rel *rel, const json_t *in,
                       struct mrel *mr, hf_error *err)
{
	json_t *item;
	size_t i;
	int rc = 0;

	mr->r = rel;
	if (!in || json_is_null(in))
		return 0;
	if (!json_is_array(in))
		return push_peer(r, m, rel, in, mr, err);
	if (!rel->many && json_array_size(in) > 1)
		return hf_error_set(err, HF_EINVAL,
		                    "Too many objects provided for a "
		                    "relationship of cardinality one at %s",
		                    rel->name);
	json_array_foreach(in, i, item)
	{
		rc = push_peer(r, m, rel, item, mr, err);
		if (rc < 0)
			break;
	}
	return rc;
}

/* The `default` IP namespace for IP prefixes and addresses. */
static int default_namespace(struct xreq *r, struct xnode **out, hf_error *err)
{
	const struct hfs_kind *k = hfs_schema_kind(r->s, "BuiltinIPNamespace");
	json_t *name;
	int rc;

	*out = NULL;
	if (!k)
		k = hfs_schema_kind(r->s, "IpamNamespace");
	if (!k)
		return 0;
	name = json_string("default");
	rc = xb_find_value(r->b, k, "name", name, out, err);
	json_decref(name);
	return rc;
}

static int is_ip_kind(struct xreq *r, const struct hfs_kind *k)
{
	return hfs_schema_is_a(r->s, k->kind, "BuiltinIPPrefix") ||
	       hfs_schema_is_a(r->s, k->kind, "BuiltinIPAddress");
}

/*
 * Resolve every relationship present in the input (all of them are
 * checked for presence when `creating`).
 */
static int resolve_rels(struct xreq *r, struct minput *m, int creating,
                        hf_error *err)
{
	const struct hfs_kind *k = m->k;
	struct xnode *ns;
	size_t i;
	int rc = 0;

	m->rels = hf_calloc(k->nrels ? k->nrels : 1, sizeof(*m->rels));
	if (!m->rels)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	for (i = 0; rc == 0 && i < k->nrels; i++) {
		const struct hfs_rel *rel = &k->rels[i];
		json_t *in = json_object_get(m->data, rel->name);
		struct mrel *mr = &m->rels[m->nrels];

		if (!in && !creating)
			continue;
		m->nrels++;
		mr->r = rel;
		if (in)
			rc = resolve_rel(r, m, rel, in, mr, err);
		if (rc < 0 || !creating || mr->n)
			continue;
		if (!strcmp(rel->name, "ip_namespace") && is_ip_kind(r, k)) {
			rc = default_namespace(r, &ns, err);
			if (rc == 0 && ns && mrel_push(mr, ns, NULL) < 0)
				rc = hf_error_set(err, HF_ENOMEM,
				                  "out of memory");
			if (mr->n)
				continue;
		}
		if (!rel->optional)
			add_err(&m->errs, "%s is mandatory for %s at %s",
			        rel->name, k->kind, rel->name);
	}
	return rc;
}

/* ---- attributes ---------------------------------------------------------- */

static void set_prop(json_t *o, const json_t *in, const char *prop,
                     int drop_when_false, int drop_when_true)
{
	json_t *v = json_object_get(in, prop);

	if (!v)
		return;
	if (json_is_null(v) || (drop_when_false && json_is_false(v)) ||
	    (drop_when_true && json_is_true(v)))
		json_object_del(o, prop);
	else
		json_object_set(o, prop, v);
}

/*
 * Apply one attribute input to the stored object `cur` (NULL when
 * absent); *out gets the new object, or NULL for "back to the default".
 */
static int apply_attr(struct minput *m, const struct hfs_attr *a,
                      const json_t *in, const json_t *cur, json_t **out)
{
	json_t *o = cur ? json_deep_copy(cur) : json_object();
	json_t *v = json_object_get(in, "value"), *norm = NULL;
	hf_error e = HF_ERROR_INIT;

	*out = NULL;
	if (!o)
		return HF_ENOMEM;
	if (!v && json_is_true(json_object_get(in, "is_default"))) {
		json_decref(o);
		return 0; /* reset */
	}
	if (v && json_is_null(v) && !a->optional) {
		add_err(&m->errs, "%s is mandatory for %s at %s", a->name,
		        m->k->kind, a->name);
	} else if (v && !json_is_null(v)) {
		if (hfs_attr_check(a, v, &norm, &e) < 0)
			add_err(&m->errs, "%s", e.msg);
		else
			json_object_set_new(o, "value", norm);
	} else if (v) {
		json_object_set_new(o, "value", json_null());
	}
	if (v)
		json_object_del(o, "is_default");
	set_prop(o, in, "is_protected", 1, 0);
	set_prop(o, in, "is_visible", 0, 1);
	set_prop(o, in, "source", 0, 0);
	set_prop(o, in, "owner", 0, 0);
	/* a template's value that a profile gave it keeps saying so */
	set_prop(o, in, "is_from_profile", 1, 0);
	if (!json_object_get(o, "value") && json_object_size(o) == 0) {
		json_decref(o);
		return 0;
	}
	if (!json_object_get(o, "value"))
		json_object_set(o, "value",
		                a->default_value ? a->default_value
		                                 : json_null());
	*out = o;
	return 0;
}

/* Python's repr of a from_pool input, for "The pool requested ..." */
static void py_dict(hf_buf *b, const json_t *o)
{
	const char *key;
	json_t *v;
	int first = 1;

	hf_buf_addch(b, '{');
	json_object_foreach((json_t *)(uintptr_t)o, key, v)
	{
		hf_buf_addf(b, "%s'%s': '", first ? "" : ", ", key);
		xval_text(b, v);
		hf_buf_addch(b, '\'');
		first = 0;
	}
	hf_buf_addch(b, '}');
}

/*
 * A Number attribute given {from_pool: {id, identifier?}}: the value
 * comes from the CoreNumberPool, reserved for the identifier (else the
 * node's id), and the pool is the attribute's source (Infrahub 1.x
 * Node.process_pool / DefaultPoolAllocator). *out: the input with the
 * value in; errors go to m->errs.
 */
static int attr_from_pool(struct xreq *r, struct minput *m,
                          const struct hfs_attr *a, const json_t *in,
                          json_t **out)
{
	const json_t *fp = json_object_get(in, "from_pool");
	const char *ident =
	        json_string_value(json_object_get(fp, "identifier"));
	hf_error e = HF_ERROR_INIT;
	struct xnode *pool = NULL;
	hf_buf t = HF_BUF_INIT;
	json_int_t num = 0;
	int rc;

	*out = NULL;
	rc = xp_find(r, "CoreNumberPool", json_object_get(fp, "id"), NULL,
	             &pool, &e);
	if (rc == HF_ENOTFOUND) {
		py_dict(&t, fp);
		add_err(&m->errs,
		        "The pool requested %s was not found. at %s.from_pool",
		        t.ptr, a->name);
		hf_buf_release(&t);
		return 0;
	}
	if (rc == 0)
		rc = xp_number(r, pool, m->k->kind, a->name,
		               ident ? ident : m->id, &num, &e);
	if (rc == HF_ENOMEM)
		return rc;
	if (rc < 0) {
		add_err(&m->errs, "%s", e.msg);
		return 0;
	}
	*out = json_deep_copy(in);
	if (!*out)
		return HF_ENOMEM;
	json_object_del(*out, "from_pool");
	json_object_set_new(*out, "value", json_integer(num));
	if (!json_object_get(*out, "source"))
		json_object_set_new(*out, "source", json_string(pool->id));
	return 0;
}

/* One attribute's input `in` (NULL: absent) applied to `data`. */
static int build_attr(struct xreq *r, struct minput *m,
                      const struct hfs_attr *a, json_t *in, const json_t *old,
                      json_t *data)
{
	json_t *cur = json_object_get(data, a->name), *base, *o;
	int rc;

	if (!in) {
		if (!old && !a->optional && !a->default_value)
			add_err(&m->errs, "%s is mandatory for %s at %s",
			        a->name, m->k->kind, a->name);
		return 0;
	}
	if (!json_is_object(in)) {
		add_err(&m->errs, "%s must be an object with a value at %s",
		        a->name, a->name);
		return 0;
	}
	/* a value set now replaces what a profile gave */
	base = cur && json_is_true(json_object_get(cur, "is_from_profile")) &&
	                       json_object_get(in, "value")
	               ? NULL
	               : cur;
	rc = apply_attr(m, a, in, base, &o);
	if (rc < 0)
		return rc;
	if (!old && o && json_is_null(json_object_get(o, "value")) &&
	    !a->optional && !a->default_value)
		add_err(&m->errs, "%s is mandatory for %s at %s", a->name,
		        m->k->kind, a->name);
	if (old && !json_equal(o, cur) && o)
		json_object_set_new(o, "updated_at", json_string(r->now));
	if (o)
		json_object_set_new(data, a->name, o);
	else
		json_object_del(data, a->name);
	return 0;
}

/*
 * Build the new data object from the attribute inputs over `old` (NULL
 * when creating). Errors go to m->errs.
 */
static int build_attrs(struct xreq *r, struct minput *m, const json_t *old,
                       json_t **out)
{
	json_t *data =
	        old ? json_copy((json_t *)(uintptr_t)old) : json_object();
	size_t i;
	int rc = 0;

	*out = NULL;
	if (!data)
		return HF_ENOMEM;
	if (!old)
		json_object_set_new(data, "_created_at", json_string(r->now));
	for (i = 0; rc == 0 && i < m->k->nattrs; i++) {
		const struct hfs_attr *a = &m->k->attrs[i];
		json_t *in = json_object_get(m->data, a->name), *pooled = NULL;

		if (a->computed_template)
			continue;
		if (json_is_object(json_object_get(in, "from_pool")) &&
		    !json_object_get(in, "value")) {
			rc = attr_from_pool(r, m, a, in, &pooled);
			if (rc < 0 || !pooled)
				continue;
			in = pooled;
		}
		rc = build_attr(r, m, a, in, old, data);
		json_decref(pooled);
	}
	if (rc < 0) {
		json_decref(data);
		return rc;
	}
	*out = data;
	return 0;
}

/* ---- computed attributes ------------------------------------------------- */

/* The peer of a cardinality-one relationship: the input's, else stored. */
static int peer_of(struct xreq *r, const struct minput *m,
                   const struct xnode *n, const struct hfs_rel *rel,
                   struct xnode **out, hf_error *err)
{
	size_t i;

	*out = NULL;
	for (i = 0; i < m->nrels; i++) {
		if (m->rels[i].r == rel) {
			*out = m->rels[i].n ? m->rels[i].peers[0] : NULL;
			return 0;
		}
	}
	return n ? xb_peer_one(r->b, n, rel, out, NULL, err) : 0;
}

/*
 * A property of an attribute object `o` (NULL: the attribute is absent,
 * so its default) as GraphQL returns it: value, the Dropdown choice's
 * label/color/description, the IPHost/IPNetwork fields. New reference
 * (JSON null when there is none); NULL on OOM.
 */
static json_t *attr_prop(const struct hfs_attr *a, const json_t *o,
                         const char *prop)
{
	const json_t *v = o ? json_object_get(o, "value") : a->default_value;
	hf_buf t = HF_BUF_INIT;
	json_t *out = NULL;
	size_t i;

	if (!strcmp(prop, "value"))
		return v ? json_incref((json_t *)(uintptr_t)v) : json_null();
	for (i = 0; json_is_string(v) && i < a->nchoices; i++) {
		const struct hfs_choice *c = &a->choices[i];
		const char *f = !strcmp(prop, "label")         ? c->label
		                : !strcmp(prop, "color")       ? c->color
		                : !strcmp(prop, "description") ? c->description
		                                               : NULL;

		if (!strcmp(c->name, json_string_value(v)))
			return f ? json_string(f) : json_null();
	}
	if (strcmp(a->kind, "IPHost") && strcmp(a->kind, "IPNetwork"))
		return json_null();
	xip_field(&t, json_string_value(v), prop,
	          !strcmp(a->kind, "IPNetwork"));
	if (!hf_buf_failed(&t))
		out = json_loads(t.ptr, JSON_DECODE_ANY, NULL);
	hf_buf_release(&t);
	return out;
}

/*
 * The value of one template variable for the node being written:
 * "attr__prop" from `data`, "rel__attr__prop" from the peer (the input's
 * or the stored one). A missing peer gives None, as in Infrahub 1.3+.
 */
static int var_value(struct xreq *r, const struct minput *m,
                     const struct xnode *n, const json_t *data,
                     const char *path, json_t **out, hf_error *err)
{
	const struct hfs_attr *a;
	const struct hfs_rel *rel;
	const struct hfs_kind *pk;
	struct xnode *peer = NULL;
	struct xsplit sp;
	int rc = 0;

	*out = NULL;
	xsplit_path(&sp, path);
	a = hfs_kind_attr(m->k, sp.p[0]);
	if (a) {
		*out = attr_prop(a, json_object_get(data, a->name), sp.p[1]);
	} else {
		rel = hfs_kind_rel(m->k, sp.p[0]);
		if (rel && !rel->many)
			rc = peer_of(r, m, n, rel, &peer, err);
		pk = peer ? hfs_schema_kind(r->s, peer->kind) : NULL;
		a = pk ? hfs_kind_attr(pk, sp.p[1]) : NULL;
		if (rc == 0)
			*out = a ? attr_prop(a, xn_attr(peer, a->name), sp.p[2])
			         : json_null();
	}
	if (rc == 0 && !*out)
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	return rc;
}

/* Render one computed attribute (Infrahub: Jinja2 in a sandbox). */
static int render(struct xreq *r, const struct minput *m, const struct xnode *n,
                  const json_t *data, const struct hfs_attr *a, char **out,
                  hf_error *err)
{
	hfs_jinja *t = NULL;
	json_t *vars = json_object(), *v;
	hf_error e = HF_ERROR_INIT;
	size_t i;
	int rc = vars ? hfs_jinja_parse(&t, a->computed_template, &e)
	              : HF_ENOMEM;

	*out = NULL;
	for (i = 0; rc == 0 && i < hfs_jinja_nvars(t); i++) {
		rc = var_value(r, m, n, data, hfs_jinja_var(t, i), &v, &e);
		if (rc == 0 &&
		    json_object_set_new(vars, hfs_jinja_var(t, i), v) < 0)
			rc = HF_ENOMEM;
	}
	if (rc == 0)
		rc = hfs_jinja_render(out, t, vars, &e);
	if (rc == HF_ENOMEM)
		rc = hf_error_set(err, rc, "out of memory");
	else if (rc < 0)
		rc = hf_error_set(err, rc, "%s.%s: %s", m->k->kind, a->name,
		                  e.msg);
	hfs_jinja_free(t);
	json_decref(vars);
	return rc;
}

/* One pass over the computed attributes; *changed when one moved. */
static int compute_pass(struct xreq *r, const struct minput *m,
                        const struct xnode *n, json_t *data, int *changed,
                        hf_error *err)
{
	const json_t *cur;
	char *text = NULL;
	json_t *o;
	size_t i;
	int rc = 0;

	*changed = 0;
	for (i = 0; rc == 0 && i < m->k->nattrs; i++) {
		const struct hfs_attr *a = &m->k->attrs[i];

		if (!a->computed_template)
			continue;
		rc = render(r, m, n, data, a, &text, err);
		if (rc < 0)
			break;
		cur = json_object_get(data, a->name);
		if (!cur || !json_is_string(json_object_get(cur, "value")) ||
		    strcmp(json_string_value(json_object_get(cur, "value")),
		           text)) {
			o = json_pack("{ss}", "value", text);
			if (o && n)
				json_object_set_new(o, "updated_at",
				                    json_string(r->now));
			if (!o || json_object_set_new(data, a->name, o) < 0)
				rc = hf_error_set(err, HF_ENOMEM,
				                  "out of memory");
			*changed = 1;
		}
		hf_free(text);
		text = NULL;
	}
	return rc;
}

/*
 * Render the computed attributes into `data`. A computed attribute may
 * read another one of the same node (Infrahub orders them by
 * dependency): passes repeat until nothing moves.
 */
static int compute_attrs(struct xreq *r, const struct minput *m,
                         const struct xnode *n, json_t *data, hf_error *err)
{
	size_t pass;
	int changed = 1, rc = 0;

	for (pass = 0; rc == 0 && changed && pass <= m->k->nattrs; pass++)
		rc = compute_pass(r, m, n, data, &changed, err);
	return rc;
}

/*
 * Sources changed elsewhere: Infrahub recomputes a Jinja2 computed
 * attribute when an attribute it reads changes, on the node itself or on
 * the peer it reads through a relationship (inline since 1.9, in the
 * background before). Here, after a node is written, its own computed
 * attributes are rendered again from what is stored (profile values
 * included), then those of the nodes that read it, transitively
 * (bounded).
 */
#define RECOMPUTE_DEPTH 8

static int recompute(struct xreq *r, struct xnode *n, int depth,
                     struct idlist *seen, hf_error *err);

/* Whether template `tpl` reads relationship `rel` ("rel__..." paths). */
static int reads_rel(const char *tpl, const char *rel, int *uses)
{
	hfs_jinja *t = NULL;
	hf_error e = HF_ERROR_INIT;
	size_t i, n = strlen(rel);
	int rc = hfs_jinja_parse(&t, tpl, &e);

	*uses = 0;
	for (i = 0; rc == 0 && i < hfs_jinja_nvars(t) && !*uses; i++)
		*uses = !strncmp(hfs_jinja_var(t, i), rel, n) &&
		        !strncmp(hfs_jinja_var(t, i) + n, "__", 2);
	hfs_jinja_free(t);
	return rc == HF_ENOMEM ? rc : 0;
}

static int kind_reads_rel(const struct hfs_kind *k, const struct hfs_rel *rel,
                          int *uses)
{
	size_t i;
	int rc = 0;

	*uses = 0;
	for (i = 0; rc == 0 && !*uses && i < k->nattrs; i++)
		if (k->attrs[i].computed_template)
			rc = reads_rel(k->attrs[i].computed_template, rel->name,
			               uses);
	return rc;
}

/* Recompute the nodes of kind k that read n through relationship rel. */
static int readers_by_rel(struct xreq *r, struct xnode *n,
                          const struct hfs_kind *k, const struct hfs_rel *rel,
                          int depth, struct idlist *seen, hf_error *err)
{
	const struct xevec *v = NULL;
	struct xnode *m, *peer;
	size_t i;
	int rc = xb_node_edges(r->b, rel->identifier, n->id, &v, err);

	for (i = 0; rc == 0 && v && i < v->n; i++) {
		const struct xedge *e = v->v[i];

		m = xb_node(r->b, strcmp(e->src, n->id) ? e->src : e->dst);
		if (!m || strcmp(m->kind, k->kind) || idlist_has(seen, m->id))
			continue;
		rc = xb_peer_one(r->b, m, rel, &peer, NULL, err);
		if (rc == 0 && peer == n)
			rc = recompute(r, m, depth + 1, seen, err);
	}
	return rc;
}

static int readers(struct xreq *r, struct xnode *n, int depth,
                   struct idlist *seen, hf_error *err)
{
	size_t i, j;
	int uses, rc = 0;

	for (i = 0; rc == 0 && i < hfs_schema_count(r->s); i++) {
		const struct hfs_kind *k = hfs_schema_at(r->s, i);

		for (j = 0; rc == 0 && !k->is_generic && j < k->nrels; j++) {
			const struct hfs_rel *rel = &k->rels[j];

			if (rel->many ||
			    !hfs_schema_is_a(r->s, n->kind, rel->peer))
				continue;
			rc = kind_reads_rel(k, rel, &uses);
			if (rc == 0 && uses)
				rc = readers_by_rel(r, n, k, rel, depth, seen,
				                    err);
		}
	}
	return rc == HF_ENOMEM ? hf_error_set(err, rc, "out of memory") : rc;
}

static int recompute(struct xreq *r, struct xnode *n, int depth,
                     struct idlist *seen, hf_error *err)
{
	struct minput m = { hfs_schema_kind(r->s, n->kind),
		            NULL,
		            NULL,
		            0,
		            HF_BUF_INIT,
		            n->id,
		            n };
	json_t *data;
	int rc;

	if (!m.k || idlist_has(seen, n->id) || depth > RECOMPUTE_DEPTH)
		return 0;
	if (idlist_add(seen, n->id) < 0)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	data = json_copy(n->data);
	rc = data ? compute_attrs(r, &m, n, data, err)
	          : hf_error_set(err, HF_ENOMEM, "out of memory");
	if (rc == 0 && json_equal(data, n->data) && depth > 0) {
		json_decref(data);
		return 0; /* unchanged: its readers are up to date */
	}
	if (rc == 0 && !json_equal(data, n->data)) {
		rc = xb_update(r->b, n, data, err);
		data = NULL;
		if (rc == 0)
			rc = xb_reindex(r->b, n, err);
	}
	json_decref(data);
	return rc < 0 ? rc : readers(r, n, depth, seen, err);
}

/* After n (and the nodes in `also`) were written. */
static int recompute_after(struct xreq *r, struct xnode *n,
                           const struct idlist *also, hf_error *err)
{
	struct idlist seen = { NULL, 0 };
	size_t i;
	int rc = recompute(r, n, 0, &seen, err);

	for (i = 0; rc == 0 && also && i < also->n; i++) {
		struct xnode *x = xb_node(r->b, also->v[i]);

		if (x && !idlist_has(&seen, x->id))
			rc = recompute(r, x, 0, &seen, err);
	}
	hf_free(seen.v);
	return rc;
}

/* ---- links between two nodes --------------------------------------------- */

/*
 * The other end of edge e seen from relationship `name` of node `id`
 * (the database's reading rule, hfs_db_peers()), or NULL when e is not
 * on that side.
 */
static const char *edge_other(const struct xedge *e, const char *id,
                              const char *name)
{
	if (!strcmp(e->src, id) && !strcmp(e->src_rel, name))
		return e->dst;
	if (!strcmp(e->dst, id) && strcmp(e->src_rel, name))
		return e->src;
	return NULL;
}

/*
 * The edge of `rel` linking n to peer, or NULL. Scans the shorter of
 * the two nodes' edge lists: a member's few groups rather than a group's
 * many members.
 */
static int find_link(struct xreq *r, const struct xnode *n,
                     const struct hfs_rel *rel, const struct xnode *peer,
                     struct xedge **out, hf_error *err)
{
	const struct xevec *a = NULL, *b = NULL, *v;
	size_t i;
	int rc;

	*out = NULL;
	rc = xb_node_edges(r->b, rel->identifier, n->id, &a, err);
	if (rc == 0)
		rc = xb_node_edges(r->b, rel->identifier, peer->id, &b, err);
	if (rc < 0 || !a || !b)
		return rc;
	v = a->n <= b->n ? a : b;
	for (i = 0; i < v->n; i++) {
		const char *o = edge_other(v->v[i], n->id, rel->name);

		if (o && !strcmp(o, peer->id)) {
			*out = v->v[i];
			break;
		}
	}
	return 0;
}

/*
 * The relationship of peer's kind on the other side of `rel` when there
 * is exactly one and it has another name (so an edge written from the
 * peer reads the same from both ends), else NULL.
 */
static const struct hfs_rel *
other_side(struct xreq *r, const struct xnode *peer, const struct hfs_rel *rel)
{
	const struct hfs_kind *pk = hfs_schema_kind(r->s, peer->kind);
	const struct hfs_rel *found = NULL;
	size_t i;

	for (i = 0; pk && i < pk->nrels; i++) {
		const struct hfs_rel *r2 = &pk->rels[i];

		if (strcmp(r2->identifier, rel->identifier))
			continue;
		if (!strcmp(r2->name, rel->name) || found)
			return NULL;
		found = r2;
	}
	return found;
}

/*
 * Add the edge n --rel--> peer (takes props). It is written from the end
 * that has few edges of the identifier when the schema says which: the
 * cardinality-one side, or a member's member_of_groups (kind Group)
 * rather than a group's members. The mirror looks an edge up in its
 * source's list, so adding the 100,001st member of a group stays as
 * cheap as adding the first, and the choice depends on the schema only,
 * so a branch and main write the same edge the same way.
 */
static int link_peer(struct xreq *r, struct xnode *n, const struct hfs_rel *rel,
                     struct xnode *peer, json_t *props, hf_error *err)
{
	const struct hfs_rel *back =
	        rel->many ? other_side(r, peer, rel) : NULL;

	if (back && (!back->many || !strcmp(back->kind, "Group")))
		return xb_edge_add(r->b, rel->identifier, peer->id, back->name,
		                   n->id, props, err);
	return xb_edge_add(r->b, rel->identifier, n->id, rel->name, peer->id,
	                   props, err);
}

/* ---- relationship writes ------------------------------------------------- */

/* Infrahub's count constraint, seen from the peer's side. */
static int check_peer_side(struct xreq *r, const struct xnode *n,
                           const struct hfs_rel *rel, struct xnode *peer,
                           hf_error *err)
{
	const struct hfs_kind *pk = hfs_schema_kind(r->s, peer->kind);
	struct xpeers pp = { NULL, NULL, 0, 0 };
	size_t i;
	long max;
	int rc = 0;

	for (i = 0; pk && rc == 0 && i < pk->nrels; i++) {
		const struct hfs_rel *r2 = &pk->rels[i];

		if (strcmp(r2->identifier, rel->identifier))
			continue;
		if (!strcmp(peer->kind, n->kind) &&
		    !strcmp(r2->name, rel->name))
			continue;
		if (!strcmp(rel->direction, r2->direction) &&
		    strcmp(r2->direction, "bidirectional"))
			continue;
		max = r2->many ? r2->max_count : 1;
		if (max <= 0)
			continue;
		rc = xb_peers(r->b, peer, r2, &pp, err);
		if (rc == 0 && (long)pp.len + 1 > max)
			rc = hf_error_set(err, HF_EINVAL,
			                  "Node %s has %ld peers for %s, "
			                  "maximum of %ld allowed",
			                  peer->id, (long)pp.len + 1,
			                  rel->identifier, max);
	}
	xpeers_release(&pp);
	return rc;
}

static int props_equal(const json_t *a, const json_t *b)
{
	json_t *x, *y;
	int eq;

	if (!a || !b)
		return !a && !b;
	x = json_copy((json_t *)(uintptr_t)a);
	y = json_copy((json_t *)(uintptr_t)b);
	if (x)
		json_object_del(x, "updated_at");
	if (y)
		json_object_del(y, "updated_at");
	eq = x && y && json_equal(x, y);
	json_decref(x);
	json_decref(y);
	return eq;
}

static int in_set(const struct mrel *mr, const struct xnode *n, size_t *at)
{
	return pmap_get(&mr->at, n, at);
}

static int keep_edge(struct xreq *r, struct xedge *e, json_t *props,
                     hf_error *err)
{
	if (props_equal(e->props, props))
		return 0;
	return xb_edge_add(r->b, e->ident, e->src, e->src_rel, e->dst,
	                   props ? json_incref(props) : NULL, err);
}

/* Make the peers of `rel` on n exactly mr's (a replace). */
static int write_rel(struct xreq *r, struct xnode *n, const struct mrel *mr,
                     hf_error *err)
{
	struct xpeers cur = { NULL, NULL, 0, 0 };
	size_t i, at;
	char **keep = NULL;
	int rc;

	rc = xb_peers(r->b, n, mr->r, &cur, err);
	keep = rc == 0 ? hf_calloc(mr->n + 1, sizeof(*keep)) : NULL;
	if (rc == 0 && !keep)
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	for (i = 0; rc == 0 && i < cur.len; i++) {
		if (in_set(mr, cur.n[i], &at)) {
			keep[at] = (char *)cur.n[i]->id;
			rc = keep_edge(r, cur.e[i], mr->props[at], err);
		} else {
			rc = xb_edge_del(r->b, cur.e[i], err);
		}
	}
	for (i = 0; rc == 0 && i < mr->n; i++) {
		if (keep[i])
			continue;
		rc = check_peer_side(r, n, mr->r, mr->peers[i], err);
		if (rc == 0)
			rc = link_peer(r, n, mr->r, mr->peers[i],
			               mr->props[i] ? json_incref(mr->props[i])
			                            : NULL,
			               err);
	}
	hf_free(keep);
	xpeers_release(&cur);
	return rc;
}

static int write_rels(struct xreq *r, struct xnode *n, struct minput *m,
                      hf_error *err)
{
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < m->nrels; i++)
		rc = write_rel(r, n, &m->rels[i], err);
	return rc;
}

/* ---- create / update ----------------------------------------------------- */

static int validated(struct minput *m, hf_error *err)
{
	if (!m->errs.len)
		return 0;
	return hf_error_set(err, HF_EINVAL, "%s", m->errs.ptr);
}

/* Profiles and object templates (further down). */
static int prepare_create(struct xreq *r, const struct hfs_kind *k, json_t *in,
                          json_t **full, struct xnode **tmpl, hf_error *err);
static int after_create(struct xreq *r, struct xnode *n, struct xnode *tmpl,
                        const json_t *user, hf_error *err);
static int route_pools(struct xreq *r, const struct hfs_kind *k, json_t *in,
                       hf_error *err);
static int related_ids(struct xreq *r, const struct xnode *n, struct idlist *l,
                       hf_error *err);
static int after_update(struct xreq *r, struct xnode *n, struct idlist *before,
                        hf_error *err);
static int refresh_ids(struct xreq *r, const struct idlist *l, hf_error *err);

/* Write one node from create-shaped input (template values already in). */
static int create_plain(struct xreq *r, const struct hfs_kind *k, json_t *in,
                        struct xnode **out, hf_error *err)
{
	struct minput m = { k, in, NULL, 0, HF_BUF_INIT, NULL, NULL };
	const char *id = json_string_value(json_object_get(in, "id"));
	json_t *data = NULL;
	int rc;

	*out = NULL;
	if (id && !hfs_db_is_uuid(id))
		return hf_error_set(err, HF_EINVAL, "%s is not a valid UUID",
		                    id);
	m.id = id;
	check_inputs(&m, OP_CREATE, r->internal);
	rc = build_attrs(r, &m, NULL, &data);
	if (rc == 0)
		rc = resolve_rels(r, &m, 1, err);
	if (rc == HF_ENOMEM)
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	if (rc == 0)
		rc = validated(&m, err);
	if (rc == 0)
		rc = compute_attrs(r, &m, NULL, data, err);
	if (rc == 0) {
		rc = xb_create(r->b, k->kind, id, data, out, err);
		data = NULL;
	}
	if (rc == 0)
		rc = write_rels(r, *out, &m, err);
	if (rc == 0)
		rc = xb_reindex(r->b, *out, err);
	json_decref(data);
	minput_release(&m);
	return rc;
}

/*
 * <Kind>Create: the node, with what its object template gives it (values,
 * pool allocations, then its components), then its profiles' values.
 */
static int create_node(struct xreq *r, const struct hfs_kind *k, json_t *in,
                       struct xnode **out, hf_error *err)
{
	struct xnode *tmpl = NULL;
	json_t *full = NULL;
	int rc;

	*out = NULL;
	rc = prepare_create(r, k, in, &full, &tmpl, err);
	if (rc == 0)
		rc = create_plain(r, k, full, out, err);
	if (rc == 0)
		rc = after_create(r, *out, tmpl, in, err);
	if (rc == 0)
		rc = recompute_after(r, *out, NULL, err);
	json_decref(full);
	return rc;
}

static int update_node(struct xreq *r, struct xnode *n, json_t *in,
                       hf_error *err)
{
	struct minput m = { NULL, in, NULL, 0, HF_BUF_INIT, NULL, NULL };
	struct idlist before = { NULL, 0 };
	json_t *data = NULL, *routed = NULL;
	int rc = 0;

	m.k = hfs_schema_kind(r->s, n->kind);
	if (!m.k)
		return hf_error_set(err, HF_EINVAL, "unknown kind %s", n->kind);
	m.id = n->id;
	m.node = n;
	if (m.k->is_template) {
		routed = json_copy(in);
		rc = routed ? route_pools(r, m.k, routed, err)
		            : hf_error_set(err, HF_ENOMEM, "out of memory");
		m.data = routed;
	}
	if (rc == 0)
		rc = related_ids(r, n, &before, err);
	if (rc < 0) {
		json_decref(routed);
		hf_free(before.v);
		return rc;
	}
	check_inputs(&m, OP_UPDATE, r->internal);
	rc = build_attrs(r, &m, n->data, &data);
	if (rc == 0)
		rc = resolve_rels(r, &m, 0, err);
	if (rc == HF_ENOMEM)
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	if (rc == 0)
		rc = validated(&m, err);
	if (rc == 0)
		rc = write_rels(r, n, &m, err);
	if (rc == 0)
		rc = compute_attrs(r, &m, n, data, err);
	if (rc == 0) {
		rc = xb_update(r->b, n, data, err);
		data = NULL;
	}
	if (rc == 0)
		rc = xb_reindex(r->b, n, err);
	if (rc == 0)
		rc = after_update(r, n, &before, err);
	if (rc == 0)
		rc = recompute_after(r, n, &before, err);
	json_decref(data);
	json_decref(routed);
	hf_free(before.v);
	minput_release(&m);
	return rc;
}

int xm_create(struct xreq *r, const struct hfs_kind *k, json_t *data,
              struct xnode **out, hf_error *err)
{
	int rc = xr_branch(r, err);

	*out = NULL;
	return rc < 0 ? rc : create_node(r, k, data, out, err);
}

/* The node an Update or Delete targets: id, else hfid. */
static int find_target(struct xreq *r, const struct hfs_kind *k,
                       const json_t *in, struct xnode **out, hf_error *err)
{
	const char *id = json_string_value(json_object_get(in, "id"));
	const json_t *hfid = json_object_get(in, "hfid");
	int rc;

	*out = NULL;
	if (id) {
		*out = xb_node(r->b, id);
		if (!*out || !hfs_schema_is_a(r->s, (*out)->kind, k->kind))
			return not_found(err, id, k->kind);
		return 0;
	}
	if (!json_is_array(hfid))
		return hf_error_set(err, HF_EINVAL,
		                    "either id or hfid must be provided");
	rc = json_array_size(hfid) == k->hfid.n || k->is_generic
	             ? xb_find_hfid(r->b, k, hfid, out, err)
	             : 0;
	if (rc == 0 && !*out)
		rc = hfid_not_found(err, hfid, k->kind);
	return rc;
}

/* ---- upsert -------------------------------------------------------------- */

/* The HFID key parts computed from the input, or 1 when incomplete. */
static int hfid_from_data(struct xreq *r, const struct hfs_kind *k,
                          const json_t *in, hf_buf *parts, hf_error *err)
{
	struct xsplit sp;
	struct mrel mr;
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < k->hfid.n; i++) {
		const struct hfs_attr *a;
		const struct hfs_rel *rel;
		json_t *v, *norm = NULL;

		xsplit_path(&sp, k->hfid.v[i]);
		a = hfs_kind_attr(k, sp.p[0]);
		rel = a ? NULL : hfs_kind_rel(k, sp.p[0]);
		if (a) {
			v = json_object_get(json_object_get(in, a->name),
			                    "value");
			if (!v || json_is_null(v) ||
			    xnorm_value(a, v, &norm) != 0 || !norm)
				return 1;
			hf_buf_add(parts, XSEP);
			xval_key(parts, norm);
			json_decref(norm);
			continue;
		}
		if (!rel || rel->many)
			return 1;
		v = json_object_get(in, rel->name);
		if (!v || json_is_null(v) || json_object_get(v, "from_pool"))
			return 1;
		memset(&mr, 0, sizeof(mr));
		rc = resolve_rel(r, NULL, rel, v, &mr, err);
		if (rc == 0 && mr.n)
			hf_buf_addf(parts, XSEP "p%s", mr.peers[0]->id);
		else if (rc == 0)
			rc = 1;
		mrel_release(&mr);
	}
	return rc;
}

static int upsert_lookup(struct xreq *r, const struct hfs_kind *k,
                         const json_t *in, struct xnode **out, hf_error *err)
{
	const char *id = json_string_value(json_object_get(in, "id"));
	const json_t *hfid = json_object_get(in, "hfid");
	hf_buf parts = HF_BUF_INIT;
	struct xsplit sp;
	json_t *v;
	int rc = 0;

	*out = NULL;
	if (id) {
		*out = xb_node(r->b, id);
		if (*out && !hfs_schema_is_a(r->s, (*out)->kind, k->kind))
			*out = NULL;
		return 0;
	}
	if (k->hfid.n && json_is_array(hfid) &&
	    json_array_size(hfid) == k->hfid.n)
		return xb_find_hfid(r->b, k, hfid, out, err);
	if (k->hfid.n) {
		rc = hfid_from_data(r, k, in, &parts, err);
		if (rc == 0)
			*out = xb_find_hkey(r->b, k->kind, parts.ptr);
		hf_buf_release(&parts);
		return rc < 0 ? rc : 0;
	}
	if (!k->default_filter)
		return 0;
	xsplit_path(&sp, k->default_filter);
	v = json_object_get(json_object_get(in, sp.p[0]), "value");
	if (!v || json_is_null(v))
		return 0;
	return xb_find_value(r->b, k, sp.p[0], v, out, err);
}

/* ---- delete -------------------------------------------------------------- */

/* The nodes one delete removes, in the order they were reached. */
struct dset {
	struct xnode **v;
	size_t n;
	size_t cap;
	struct pmap in;
};

static void dset_release(struct dset *d)
{
	hf_free(d->v);
	pmap_release(&d->in);
	memset(d, 0, sizeof(*d));
}

/* Add n unless present; HF_ENOMEM. */
static int dset_add(struct dset *d, struct xnode *n)
{
	struct xnode **nv;
	int rc;

	if (pmap_get(&d->in, n, NULL))
		return 0;
	if (d->n == d->cap) {
		nv = hf_reallocarray(d->v, d->cap ? d->cap * 2 : 8,
		                     sizeof(*nv));
		if (!nv)
			return HF_ENOMEM;
		d->v = nv;
		d->cap = d->cap ? d->cap * 2 : 8;
	}
	rc = pmap_put(&d->in, n, d->n);
	if (rc < 0)
		return rc;
	d->v[d->n++] = n;
	return 0;
}

/*
 * n and, through on_delete: cascade, whatever goes with it, breadth
 * first (a long chain must not exhaust the stack; a cycle stops).
 */
static int cascade(struct xreq *r, struct xnode *n, struct dset *d,
                   hf_error *err)
{
	struct xpeers p = { NULL, NULL, 0, 0 };
	size_t at, i, j;
	int rc = dset_add(d, n);

	for (at = 0; rc == 0 && at < d->n; at++) {
		const struct hfs_kind *k =
		        hfs_schema_kind(r->s, d->v[at]->kind);

		for (i = 0; k && rc == 0 && i < k->nrels; i++) {
			const struct hfs_rel *rel = &k->rels[i];

			if (!rel->on_delete ||
			    strcmp(rel->on_delete, "cascade"))
				continue;
			rc = xb_peers(r->b, d->v[at], rel, &p, err);
			for (j = 0; rc == 0 && j < p.len; j++)
				rc = dset_add(d, p.n[j]);
		}
	}
	xpeers_release(&p);
	if (rc == HF_ENOMEM)
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	return rc;
}

/*
 * The mandatory relationships (optional: false) of every concrete kind:
 * the ones a delete must not leave without their peer. Built once per
 * delete; a generic's relationships are seen through its nodes.
 */
struct mandatory {
	const struct hfs_kind **k;
	const struct hfs_rel **rel;
	size_t n;
};

static void mandatory_release(struct mandatory *m)
{
	hf_free(m->k);
	hf_free(m->rel);
	memset(m, 0, sizeof(*m));
}

/* Count (m->k NULL) or record (m->k allocated) the mandatory ones. */
static size_t mandatory_scan(const hfs_schema *s, struct mandatory *m)
{
	size_t i, j, n = 0, count = hfs_schema_count(s);

	for (i = 0; i < count; i++) {
		const struct hfs_kind *k = hfs_schema_at(s, i);

		for (j = 0; !k->is_generic && j < k->nrels; j++) {
			if (k->rels[j].optional)
				continue;
			if (m->k) {
				m->k[n] = k;
				m->rel[n] = &k->rels[j];
			}
			n++;
		}
	}
	return n;
}

static int mandatory_build(struct xreq *r, struct mandatory *m, hf_error *err)
{
	size_t total = mandatory_scan(r->s, m);

	if (!total)
		return 0;
	m->k = hf_calloc(total, sizeof(*m->k));
	m->rel = m->k ? hf_calloc(total, sizeof(*m->rel)) : NULL;
	if (!m->rel)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	m->n = mandatory_scan(r->s, m);
	return 0;
}

/* Infrahub's refusal, one clause per surviving node (delete_validator.py). */
static void dependent_error(hf_buf *msg, const struct xnode *gone,
                            const struct hfs_kind *k, const struct hfs_rel *rel,
                            const char *stays)
{
	if (msg->len)
		hf_buf_add(msg, ", ");
	hf_buf_addf(msg,
	            "Cannot delete %s '%s'. It is linked to mandatory "
	            "relationship %s on node %s '%s' at %s.%s",
	            gone->kind, gone->id, rel->name, k->kind, stays, k->kind,
	            rel->name);
}

/* The nodes of kind k that keep `gone` as peer of their mandatory rel. */
static int dependents_of(struct xreq *r, const struct dset *d,
                         const struct xnode *gone, const struct hfs_kind *k,
                         const struct hfs_rel *rel, hf_buf *msg, hf_error *err)
{
	const struct xevec *v;
	size_t i;
	int rc = xb_node_edges(r->b, rel->identifier, gone->id, &v, err);

	for (i = 0; rc == 0 && v && i < v->n; i++) {
		const struct xedge *e = v->v[i];
		const char *o = strcmp(e->src, gone->id) ? e->src : e->dst;
		const struct xnode *on = xb_node(r->b, o);
		const char *back;

		if (!on || strcmp(on->kind, k->kind) ||
		    pmap_get(&d->in, on, NULL))
			continue;
		back = edge_other(e, on->id, rel->name);
		if (back && !strcmp(back, gone->id))
			dependent_error(msg, gone, k, rel, on->id);
	}
	return rc;
}

/*
 * Whether relationships to `peer` point at nodes of kind k: its own kind
 * or a generic it inherits (as Infrahub indexes dependents; the implicit
 * CoreNode is not one).
 */
static int peer_kind_of(const struct hfs_kind *k, const char *peer)
{
	size_t i;

	if (!strcmp(k->kind, peer))
		return 1;
	for (i = 0; i < k->inherit_from.n; i++) {
		if (!strcmp(k->inherit_from.v[i], peer))
			return 1;
	}
	return 0;
}

/*
 * Refuse a delete that would leave a node outside the delete set
 * without the peer of one of its mandatory relationships, naming every
 * such node; nothing has been written when this fails. Unlike Infrahub
 * (which checks the nodes asked for only), the nodes a cascade takes
 * along are checked too, so a cascade never leaves a dangling link.
 */
static int check_dependents(struct xreq *r, const struct dset *d, hf_error *err)
{
	struct mandatory m = { NULL, NULL, 0 };
	hf_buf msg = HF_BUF_INIT;
	size_t i, j;
	int rc = mandatory_build(r, &m, err);

	for (i = 0; rc == 0 && m.n && i < d->n; i++) {
		const struct hfs_kind *dk =
		        hfs_schema_kind(r->s, d->v[i]->kind);

		for (j = 0; dk && rc == 0 && j < m.n; j++) {
			if (!peer_kind_of(dk, m.rel[j]->peer))
				continue;
			rc = dependents_of(r, d, d->v[i], m.k[j], m.rel[j],
			                   &msg, err);
		}
	}
	if (rc == 0 && msg.len)
		rc = hf_error_set(err, HF_EINVAL, "%s", msg.ptr);
	hf_buf_release(&msg);
	mandatory_release(&m);
	return rc;
}

/*
 * <Kind>Delete: n, what cascades with it, and their edges (group
 * memberships included) in the field's savepoint; refused as a whole when
 * a surviving node needs one of them.
 */
static int delete_node(struct xreq *r, struct xnode *n, hf_error *err)
{
	struct dset d = { NULL, 0, 0, PMAP_INIT };
	struct idlist rel = { NULL, 0 };
	size_t i;
	int rc = cascade(r, n, &d, err);

	if (rc == 0)
		rc = check_dependents(r, &d, err);
	/* the nodes of a deleted profile lose its values */
	for (i = 0; rc == 0 && i < d.n; i++)
		rc = related_ids(r, d.v[i], &rel, err);
	for (i = 0; rc == 0 && i < d.n; i++)
		rc = xb_delete(r->b, d.v[i], err);
	if (rc == 0)
		rc = xb_reindex(r->b, NULL, err);
	if (rc == 0)
		rc = refresh_ids(r, &rel, err);
	dset_release(&d);
	hf_free(rel.v);
	return rc;
}

/* ---- profiles ------------------------------------------------------------ */

/*
 * Profile values, as Infrahub's NodeProfilesApplier (profiles/
 * node_applier.py, 1.x): an attribute the node does not set itself
 * (absent, or set by a profile before) takes the value of the first of
 * its profiles that sets one, the profiles sorted by profile_priority,
 * then id (the lower first). It reads back with is_from_profile true and
 * the profile as source. When no profile sets it any more, it is back to
 * the schema default. Infrahub refreshes the nodes of a changed profile
 * in the background (1.11); here it happens within the mutation.
 */
struct prof {
	struct xnode *n;
	json_int_t prio;
};

static int cmp_prof(const void *a, const void *b)
{
	const struct prof *x = a, *y = b;

	if (x->prio != y->prio)
		return x->prio < y->prio ? -1 : 1;
	return strcmp(x->n->id, y->n->id);
}

static json_int_t profile_priority(struct xreq *r, const struct xnode *p)
{
	const struct hfs_kind *pk = hfs_schema_kind(r->s, p->kind);
	const struct hfs_attr *a =
	        pk ? hfs_kind_attr(pk, "profile_priority") : NULL;
	const json_t *v = a ? xn_value(p, a) : NULL;

	return json_is_integer(v) ? json_integer_value(v) : 1000;
}

/* The node's profiles in the order they apply (*out: hf_free). */
static int node_profiles(struct xreq *r, const struct hfs_rel *rel,
                         const struct xnode *n, struct prof **out, size_t *nout,
                         hf_error *err)
{
	struct xpeers p = { NULL, NULL, 0, 0 };
	size_t i;
	int rc = xb_peers(r->b, n, rel, &p, err);

	*out = NULL;
	*nout = 0;
	if (rc == 0 && p.len) {
		*out = hf_calloc(p.len, sizeof(**out));
		if (!*out)
			rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	for (i = 0; rc == 0 && i < p.len; i++) {
		(*out)[i].n = p.n[i];
		(*out)[i].prio = profile_priority(r, p.n[i]);
	}
	if (rc == 0 && p.len) {
		*nout = p.len;
		qsort(*out, *nout, sizeof(**out), cmp_prof);
	}
	xpeers_release(&p);
	return rc;
}

/* The value the first profile gives attribute `name` (NULL: none). */
static const json_t *profile_value(struct xreq *r, const struct prof *pv,
                                   size_t np, const char *name,
                                   const struct xnode **from)
{
	size_t i;

	for (i = 0; i < np; i++) {
		const struct hfs_kind *pk =
		        hfs_schema_kind(r->s, pv[i].n->kind);
		const struct hfs_attr *a = pk ? hfs_kind_attr(pk, name) : NULL;
		const json_t *v = a ? xn_value(pv[i].n, a) : NULL;

		if (v && !json_is_null(v)) {
			*from = pv[i].n;
			return v;
		}
	}
	return NULL;
}

static int by_profile(const json_t *o)
{
	return json_is_true(json_object_get(o, "is_from_profile"));
}

static int any_by_profile(const json_t *data)
{
	const char *key;
	json_t *o;

	json_object_foreach((json_t *)(uintptr_t)data, key, o)
	{
		if (by_profile(o))
			return 1;
	}
	return 0;
}

/* The attribute object a profile gives (cur itself when unchanged). */
static json_t *profile_attr(struct xreq *r, json_t *cur, const json_t *v,
                            const struct xnode *from)
{
	json_t *o = json_pack("{sOsbss}", "value", v, "is_from_profile", 1,
	                      "source", from->id);

	if (o && cur && props_equal(o, cur)) {
		json_decref(o);
		return json_incref(cur);
	}
	if (o && cur)
		json_object_set_new(o, "updated_at", json_string(r->now));
	return o;
}

/* Give n's attributes their profiles' values (write when they change). */
static int apply_profiles(struct xreq *r, struct xnode *n, hf_error *err)
{
	const struct hfs_kind *k = hfs_schema_kind(r->s, n->kind);
	const struct hfs_rel *rel = k ? hfs_kind_rel(k, "profiles") : NULL;
	const struct xnode *from;
	struct prof *pv = NULL;
	const json_t *v;
	json_t *data = NULL, *cur, *o;
	size_t np = 0, i;
	int rc;

	if (!rel || strcmp(rel->kind, "Profile") || k->is_profile)
		return 0;
	rc = node_profiles(r, rel, n, &pv, &np, err);
	if (rc == 0 && !np && !any_by_profile(n->data))
		return 0; /* the common case: nothing to do */
	data = rc == 0 ? json_copy(n->data) : NULL;
	if (rc == 0 && !data)
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	for (i = 0; rc == 0 && i < k->nattrs; i++) {
		cur = json_object_get(data, k->attrs[i].name);
		if (cur && !by_profile(cur))
			continue; /* set on the node itself */
		v = profile_value(r, pv, np, k->attrs[i].name, &from);
		o = v ? profile_attr(r, cur, v, from) : NULL;
		if (v &&
		    (!o || json_object_set_new(data, k->attrs[i].name, o) < 0))
			rc = hf_error_set(err, HF_ENOMEM, "out of memory");
		else if (!v && cur)
			json_object_del(data, k->attrs[i].name);
	}
	if (rc == 0 && !json_equal(data, n->data)) {
		rc = xb_update(r->b, n, data, err);
		data = NULL;
		if (rc == 0)
			rc = xb_reindex(r->b, n, err);
	}
	json_decref(data);
	hf_free(pv);
	return rc;
}

/* When n is a profile: the ids of the nodes it applies to, into l. */
static int related_ids(struct xreq *r, const struct xnode *n, struct idlist *l,
                       hf_error *err)
{
	const struct hfs_kind *k = hfs_schema_kind(r->s, n->kind);
	struct xpeers p = { NULL, NULL, 0, 0 };
	size_t i, j;
	int rc = 0;

	for (i = 0; k && k->is_profile && rc == 0 && i < k->nrels; i++) {
		if (strcmp(k->rels[i].kind, "Profile"))
			continue;
		rc = xb_peers(r->b, n, &k->rels[i], &p, err);
		for (j = 0; rc == 0 && j < p.len; j++) {
			if (idlist_add(l, p.n[j]->id) < 0)
				rc = hf_error_set(err, HF_ENOMEM,
				                  "out of memory");
		}
	}
	xpeers_release(&p);
	return rc;
}

static int refresh_ids(struct xreq *r, const struct idlist *l, hf_error *err)
{
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < l->n; i++) {
		struct xnode *n = xb_node(r->b, l->v[i]);

		if (n)
			rc = apply_profiles(r, n, err);
	}
	return rc;
}

/* After an update: n's profile values; a profile's nodes, old and new. */
static int after_update(struct xreq *r, struct xnode *n, struct idlist *before,
                        hf_error *err)
{
	int rc = apply_profiles(r, n, err);

	if (rc == 0)
		rc = related_ids(r, n, before, err);
	if (rc == 0)
		rc = refresh_ids(r, before, err);
	return rc;
}

/* ---- object templates ---------------------------------------------------- */

/*
 * Creating a node with `object_template` (Infrahub 1.1+, templates/
 * node_applier.py and core/node/create.py, 1.8 for resource pools):
 *  - the template's attribute values the input does not set are copied,
 *    with the template (or the profile that gave the template the value)
 *    as source;
 *  - its Attribute, Generic and Profile relationships the input does not
 *    set are copied;
 *  - each <rel>_from_resource_pool names a pool that allocates the new
 *    node's <rel> (identifier: the new node's id), or, for a Number
 *    attribute <rel>, its value;
 *  - after the node is saved, every component template its Component
 *    relationships reach becomes a real node of the template's kind
 *    without the "Template" prefix, with the component template's
 *    values, profiles and pool allocations, attached to the new node,
 *    and so on down.
 * Only a create does this: an Upsert that finds the node updates it.
 */
#define POOL_SUFFIX     "_from_resource_pool"
#define TEMPLATE_PREFIX "Template"

/* The name a <name>_from_resource_pool relationship allocates for. */
static int pool_base(const char *name, char *base, size_t len)
{
	size_t n = strlen(name), s = strlen(POOL_SUFFIX);

	if (n <= s || strcmp(name + n - s, POOL_SUFFIX) || n - s >= len)
		return 0;
	memcpy(base, name, n - s);
	base[n - s] = '\0';
	return 1;
}

/* A template's attribute as instance input, or NULL (no value). */
static json_t *template_attr(const struct xnode *t, const json_t *o)
{
	const json_t *v = json_object_get(o, "value");
	const char *src = json_string_value(json_object_get(o, "source"));
	int fromp = by_profile(o);
	json_t *x;

	if (!v || json_is_null(v))
		return NULL;
	x = json_pack("{sOss}", "value", v, "source",
	              fromp && src ? src : t->id);
	if (x && fromp)
		json_object_set_new(x, "is_from_profile", json_true());
	return x;
}

/* The template's attribute values that `in` does not set. */
static int template_attrs(const struct hfs_kind *k, const struct xnode *t,
                          json_t *in, hf_error *err)
{
	const char *key;
	json_t *o, *x;

	json_object_foreach(t->data, key, o)
	{
		if (!json_is_object(o) || !strcmp(key, "template_name") ||
		    json_object_get(in, key) || !hfs_kind_attr(k, key))
			continue;
		x = template_attr(t, o);
		if (x && json_object_set_new(in, key, x) < 0)
			return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	return 0;
}

/* The <rel>_from_resource_pool allocations of template t for node `id`. */
static int template_pools(struct xreq *r, const struct hfs_kind *k,
                          struct xnode *t, const char *id, json_t *in,
                          hf_error *err)
{
	const struct hfs_kind *tk = hfs_schema_kind(r->s, t->kind);
	struct xnode *pool, *got;
	struct xp_req q;
	char base[256];
	json_t *x;
	size_t i;
	int rc = 0;

	for (i = 0; tk && rc == 0 && i < tk->nrels; i++) {
		if (!pool_base(tk->rels[i].name, base, sizeof(base)) ||
		    json_object_get(in, base))
			continue;
		rc = xb_peer_one(r->b, t, &tk->rels[i], &pool, NULL, err);
		if (rc < 0 || !pool)
			continue;
		memset(&q, 0, sizeof(q));
		q.identifier = id;
		x = NULL;
		if (hfs_kind_attr(k, base))
			x = json_pack("{s{ss}}", "from_pool", "id", pool->id);
		else if (hfs_kind_rel(k, base))
			rc = xp_allocate(r, pool, &q, &got, err);
		else
			continue;
		if (rc == 0 && !x)
			x = json_pack("{ssss}", "id", got->id,
			              "_relation__source", pool->id);
		if (rc == 0 && (!x || json_object_set_new(in, base, x) < 0))
			rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	return rc;
}

/* [{id}...] (or {id} for cardinality one) of the non-template peers. */
static json_t *peer_refs(struct xreq *r, const struct xpeers *p, int many)
{
	json_t *arr = json_array(), *one = NULL;
	size_t i;

	for (i = 0; arr && i < p->len; i++) {
		const struct hfs_kind *pk =
		        hfs_schema_kind(r->s, p->n[i]->kind);

		if (pk && pk->is_template)
			continue; /* deeper templates: their own level */
		if (!one)
			one = json_pack("{ss}", "id", p->n[i]->id);
		json_array_append_new(arr,
		                      json_pack("{ss}", "id", p->n[i]->id));
	}
	if (!json_array_size(arr) || !many) {
		json_decref(arr);
		return one;
	}
	json_decref(one);
	return arr;
}

static int is_one_of(const char *s, const char *a, const char *b, const char *c,
                     const char *d)
{
	return !strcmp(s, a) || !strcmp(s, b) || !strcmp(s, c) ||
	       (d && !strcmp(s, d));
}

/*
 * The name a template relationship fills on an instance: its own, or for
 * <group rel>_for_instances the group membership (Infrahub 1.x,
 * TEMPLATE_GROUP_FOR_INSTANCES_REL_MAP).
 */
static const char *instance_rel(const char *name, char *buf, size_t len)
{
	static const char suffix[] = "_for_instances";
	size_t n = strlen(name), s = sizeof(suffix) - 1;

	if (n <= s || strcmp(name + n - s, suffix) || n - s >= len)
		return name;
	memcpy(buf, name, n - s);
	buf[n - s] = '\0';
	return buf;
}

/* The template's Attribute/Generic/Profile peers `in` does not set. */
static int template_rels(struct xreq *r, const struct hfs_kind *k,
                         struct xnode *t, json_t *in, hf_error *err)
{
	const struct hfs_kind *tk = hfs_schema_kind(r->s, t->kind);
	struct xpeers p = { NULL, NULL, 0, 0 };
	char base[256];
	const char *name;
	json_t *x;
	size_t i;
	int rc = 0;

	for (i = 0; tk && rc == 0 && i < tk->nrels; i++) {
		const struct hfs_rel *tr = &tk->rels[i], *rel;

		name = instance_rel(tr->name, base, sizeof(base));
		if (name == tr->name && pool_base(tr->name, base, sizeof(base)))
			continue;
		if (json_object_get(in, name) ||
		    !strcmp(tr->name, "object_template") ||
		    !is_one_of(tr->kind, "Attribute", "Generic", "Profile",
		               NULL))
			continue;
		rel = hfs_kind_rel(k, name);
		rc = rel ? xb_peers(r->b, t, tr, &p, err) : 0;
		x = rel && rc == 0 && p.len ? peer_refs(r, &p, rel->many)
		                            : NULL;
		if (x && json_object_set_new(in, name, x) < 0)
			rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	xpeers_release(&p);
	return rc;
}

/* The template `object_template` names, or NULL. */
static int find_template(struct xreq *r, const struct hfs_kind *k,
                         const json_t *in, struct xnode **out, hf_error *err)
{
	const struct hfs_rel *rel = hfs_kind_rel(k, "object_template");
	const json_t *v = rel ? json_object_get(in, rel->name) : NULL;
	const json_t *ref;
	hf_buf t = HF_BUF_INIT;
	int rc;

	*out = NULL;
	if (json_is_array(v))
		v = json_array_get(v, 0);
	if (!v || json_is_null(v))
		return 0;
	rc = resolve_peer(r, NULL, rel, v, out, NULL, err);
	if (rc != HF_ENOTFOUND)
		return rc;
	ref = json_is_string(v) ? v : json_object_get(v, "id");
	if (ref)
		xval_text(&t, ref);
	else
		xpy_list(&t, json_object_get(v, "hfid"));
	rc = hf_error_set(err, HF_ENOTFOUND,
	                  "Unable to find the object template in the "
	                  "database '%s' at object_template",
	                  t.ptr);
	hf_buf_release(&t);
	return rc;
}

/*
 * On a template, a pool given as {from_pool: {id}} for <name> is stored
 * as <name>_from_resource_pool, for the nodes created from it to
 * allocate (Infrahub 1.8, graphql/mutations/template_pool_router.py).
 */
static int route_pools(struct xreq *r, const struct hfs_kind *k, json_t *in,
                       hf_error *err)
{
	char base[256];
	const json_t *v, *fp;
	json_t *x;
	size_t i;
	int rc = 0;

	(void)r;
	for (i = 0; k->is_template && rc == 0 && i < k->nrels; i++) {
		if (!pool_base(k->rels[i].name, base, sizeof(base)))
			continue;
		v = json_object_get(in, base);
		fp = json_object_get(v, "from_pool");
		if (!json_is_object(fp))
			continue;
		if (json_object_get(v, "id") || json_object_get(v, "hfid"))
			return hf_error_set(
			        err, HF_EINVAL,
			        "Cannot specify both a direct "
			        "reference and from_pool on '%s' at "
			        "<Undefined>",
			        base);
		x = json_pack("{sO}", "id", json_object_get(fp, "id"));
		if (!x || json_object_set_new(in, k->rels[i].name, x) < 0 ||
		    (hfs_kind_rel(k, base) &&
		     json_object_set_new(in, base, json_null()) < 0))
			rc = hf_error_set(err, HF_ENOMEM, "out of memory");
		else if (!hfs_kind_rel(k, base))
			json_object_del(in, base);
	}
	return rc;
}

/*
 * The input of a create: a copy of `in` with the node's id chosen now
 * (a pool allocation for it needs one), pool references of a template
 * routed, and what the object template gives.
 */
static int prepare_create(struct xreq *r, const struct hfs_kind *k, json_t *in,
                          json_t **full, struct xnode **tmpl, hf_error *err)
{
	char id[HFS_UUID_LEN + 1];
	json_t *c = json_copy(in);
	int rc = c ? 0 : hf_error_set(err, HF_ENOMEM, "out of memory");

	*full = c;
	*tmpl = NULL;
	if (rc == 0 && !json_is_string(json_object_get(c, "id"))) {
		hfs_db_uuid(id);
		if (json_object_set_new(c, "id", json_string(id)) < 0)
			rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	if (rc == 0)
		rc = route_pools(r, k, c, err);
	if (rc == 0)
		rc = find_template(r, k, c, tmpl, err);
	if (rc == 0 && *tmpl)
		rc = template_attrs(k, *tmpl, c, err);
	if (rc == 0 && *tmpl)
		rc = template_pools(r, k, *tmpl,
		                    json_string_value(json_object_get(c, "id")),
		                    c, err);
	if (rc == 0 && *tmpl)
		rc = template_rels(r, k, *tmpl, c, err);
	return rc;
}

/* A component template's relationships for its instance. */
static int component_rels(struct xreq *r, const struct hfs_kind *ck,
                          struct xnode *ct, const struct xnode *tmpl,
                          const struct xnode *parent, json_t *in, hf_error *err)
{
	const struct hfs_kind *tk = hfs_schema_kind(r->s, ct->kind);
	struct xpeers p = { NULL, NULL, 0, 0 };
	json_t *x;
	size_t i;
	int rc = 0;

	for (i = 0; tk && rc == 0 && i < tk->nrels; i++) {
		const struct hfs_rel *cr = &tk->rels[i];
		const struct hfs_rel *rel = hfs_kind_rel(ck, cr->name);

		if (!rel || !is_one_of(cr->kind, "Component", "Parent",
		                       "Profile", "Attribute"))
			continue;
		rc = xb_peers(r->b, ct, cr, &p, err);
		if (rc < 0 || !p.len)
			continue;
		if (strcmp(cr->kind, "Attribute") && p.len == 1 &&
		    p.n[0] == tmpl) /* the template above: the new parent */
			x = rel->many ? json_pack("[{ss}]", "id", parent->id)
			              : json_pack("{ss}", "id", parent->id);
		else
			x = peer_refs(r, &p, rel->many);
		if (x && json_object_set_new(in, cr->name, x) < 0)
			rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	xpeers_release(&p);
	return rc;
}

/* The edge parent -(rel)- obj, unless the component's side made it. */
static int link_parent(struct xreq *r, struct xnode *parent,
                       const struct hfs_rel *rel, struct xnode *obj,
                       hf_error *err)
{
	struct xpeers p = { NULL, NULL, 0, 0 };
	size_t i;
	int rc = xb_peers(r->b, parent, rel, &p, err), found = 0;

	for (i = 0; rc == 0 && i < p.len; i++)
		found |= p.n[i] == obj;
	xpeers_release(&p);
	if (rc < 0 || found)
		return rc;
	return xb_edge_add(r->b, rel->identifier, parent->id, rel->name,
	                   obj->id, NULL, err);
}

/* One component template ct (of tmpl, through rel) made real under n. */
static int create_component(struct xreq *r, struct xnode *n,
                            const struct hfs_rel *rel, struct xnode *tmpl,
                            struct xnode *ct, hf_error *err)
{
	size_t plen = strlen(TEMPLATE_PREFIX);
	const struct hfs_kind *ck =
	        strncmp(ct->kind, TEMPLATE_PREFIX, plen)
	                ? NULL
	                : hfs_schema_kind(r->s, ct->kind + plen);
	char id[HFS_UUID_LEN + 1];
	struct xnode *obj = NULL;
	json_t *in;
	int rc;

	if (!ck || ck->is_generic)
		return 0;
	hfs_db_uuid(id);
	in = json_pack("{ss}", "id", id);
	rc = in ? template_attrs(ck, ct, in, err)
	        : hf_error_set(err, HF_ENOMEM, "out of memory");
	if (rc == 0)
		rc = component_rels(r, ck, ct, tmpl, n, in, err);
	if (rc == 0)
		rc = template_pools(r, ck, ct, id, in, err);
	if (rc == 0)
		rc = create_plain(r, ck, in, &obj, err);
	if (rc == 0)
		rc = link_parent(r, n, rel, obj, err);
	if (rc == 0)
		rc = after_create(r, obj, ct, NULL, err);
	json_decref(in);
	return rc;
}

/* The component templates of tmpl made real under n, level by level. */
static int instantiate(struct xreq *r, struct xnode *n, struct xnode *tmpl,
                       const json_t *user, hf_error *err)
{
	const struct hfs_kind *k = hfs_schema_kind(r->s, n->kind);
	const struct hfs_kind *tk = hfs_schema_kind(r->s, tmpl->kind);
	struct xpeers p = { NULL, NULL, 0, 0 };
	size_t i, j;
	int rc = 0;

	for (i = 0; k && tk && rc == 0 && i < k->nrels; i++) {
		const struct hfs_rel *rel = &k->rels[i];
		const struct hfs_rel *tr = hfs_kind_rel(tk, rel->name);

		if (strcmp(rel->kind, "Component") || !tr ||
		    (user && json_object_get(user, rel->name)))
			continue;
		rc = xb_peers(r->b, tmpl, tr, &p, err);
		for (j = 0; rc == 0 && j < p.len; j++) {
			const struct hfs_kind *ck =
			        hfs_schema_kind(r->s, p.n[j]->kind);

			if (ck && ck->is_template)
				rc = create_component(r, n, rel, tmpl, p.n[j],
				                      err);
		}
	}
	xpeers_release(&p);
	return rc;
}

/* After a create: the template's components, then profile values. */
static int after_create(struct xreq *r, struct xnode *n, struct xnode *tmpl,
                        const json_t *user, hf_error *err)
{
	struct idlist l = { NULL, 0 };
	int rc = tmpl ? instantiate(r, n, tmpl, user, err) : 0;

	if (rc == 0)
		rc = apply_profiles(r, n, err);
	if (rc == 0)
		rc = related_ids(r, n, &l, err);
	if (rc == 0)
		rc = refresh_ids(r, &l, err);
	hf_free(l.v);
	return rc;
}

/* ---- RelationshipAdd / RelationshipRemove -------------------------------- */

/* After a profile relationship changed: the nodes on both ends. */
static int refresh_edit(struct xreq *r, struct xnode *n, const struct mrel *mr,
                        hf_error *err)
{
	size_t i;
	int rc = apply_profiles(r, n, err);

	for (i = 0; rc == 0 && i < mr->n; i++) {
		if (mr->peers[i])
			rc = apply_profiles(r, mr->peers[i], err);
	}
	return rc;
}

/*
 * The node and relationship a RelationshipAdd / RelationshipRemove names,
 * with Infrahub's messages (graphql/mutations/relationship.py,
 * _validate_node).
 */
static int edit_target(struct xreq *r, const json_t *in, struct xnode **n,
                       const struct hfs_rel **rel, hf_error *err)
{
	const char *id = json_string_value(json_object_get(in, "id"));
	const char *name = json_string_value(json_object_get(in, "name"));
	const struct hfs_kind *k;

	*rel = NULL;
	*n = id ? xb_node(r->b, id) : NULL;
	if (!*n)
		return not_found(err, id ? id : "None", "node");
	k = hfs_schema_kind(r->s, (*n)->kind);
	*rel = k && name ? hfs_kind_rel(k, name) : NULL;
	if (!*rel)
		return hf_error_set(err, HF_EINVAL,
		                    "'%s' is not a valid relationship for '%s' "
		                    "at name",
		                    name ? name : "None", (*n)->kind);
	if (!(*rel)->many)
		return hf_error_set(
		        err, HF_EINVAL,
		        "'%s' must be a relationship of cardinality "
		        "Many at name",
		        name);
	return 0;
}

/* One item of `nodes`: by id (a UUID, else the default_filter) or hfid. */
static int edit_peer(struct xreq *r, const struct hfs_rel *rel,
                     const json_t *item, struct xnode **out, hf_error *err)
{
	const struct hfs_kind *pk = hfs_schema_kind(r->s, rel->peer);
	const json_t *id = json_object_get(item, "id");
	const char *s = json_string_value(id);
	int rc = 0;

	*out = NULL;
	if (!pk)
		return hf_error_set(err, HF_EINVAL, "unknown peer kind %s",
		                    rel->peer);
	if (s && hfs_db_is_uuid(s))
		*out = xb_node(r->b, s);
	else if (s)
		rc = by_default_filter(r, pk, id, out, err);
	else if (json_is_array(json_object_get(item, "hfid")))
		return resolve_by_hfid(r, rel, pk, item, out, err);
	else
		return hf_error_set(err, HF_EINVAL,
		                    "id or hfid is required for %s at nodes",
		                    rel->name);
	if (rc == 0 && !*out)
		rc = hf_error_set(err, HF_ENOTFOUND,
		                  "'%s': Unable to find the node in the "
		                  "database.",
		                  s);
	if (rc == 0 && strcmp(rel->peer, "CoreNode") &&
	    !hfs_schema_is_a(r->s, (*out)->kind, rel->peer))
		rc = hf_error_set(err, HF_EINVAL,
		                  "'%s' '%s' is not a valid peer for '%s'",
		                  (*out)->id, (*out)->kind, rel->peer);
	return rc;
}

/*
 * A peer whose only side of the relationship is cardinality one must not
 * be linked to another node already (_validate_peer_types).
 */
static int edit_peer_free(struct xreq *r, const struct xnode *n,
                          const struct hfs_rel *rel, const struct xnode *peer,
                          hf_error *err)
{
	const struct hfs_kind *pk = hfs_schema_kind(r->s, peer->kind);
	const struct hfs_rel *only = NULL;
	struct xnode *cur = NULL;
	size_t i, count = 0;
	int rc;

	for (i = 0; pk && i < pk->nrels; i++) {
		if (!strcmp(pk->rels[i].identifier, rel->identifier)) {
			only = &pk->rels[i];
			count++;
		}
	}
	if (count != 1 || only->many)
		return 0;
	rc = xb_peer_one(r->b, peer, only, &cur, NULL, err);
	if (rc == 0 && cur && cur != n)
		rc = hf_error_set(err, HF_EINVAL,
		                  "'%s' '%s' is already related to another "
		                  "peer on '%s'",
		                  peer->id, peer->kind, only->name);
	return rc;
}

/* Every item of `nodes`, checked, into mr (duplicates once). */
static int edit_peers(struct xreq *r, const struct xnode *n,
                      const struct hfs_rel *rel, const json_t *nodes,
                      struct mrel *mr, hf_error *err)
{
	struct xnode *peer;
	const json_t *item;
	size_t i, count;
	int rc = 0;

	mr->r = rel;
	count = json_is_array(nodes) ? json_array_size(nodes)
	                             : (json_is_object(nodes) ? 1 : 0);
	for (i = 0; rc == 0 && i < count; i++) {
		item = json_is_array(nodes) ? json_array_get(nodes, i) : nodes;
		rc = edit_peer(r, rel, item, &peer, err);
		if (rc == 0)
			rc = edit_peer_free(r, n, rel, peer, err);
		if (rc == 0 &&
		    mrel_push(mr, peer, edge_props(item, r->now, NULL)) < 0)
			rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	return rc;
}

/*
 * Add the peers not linked yet (a peer already there keeps its edge and
 * its properties, as Infrahub does), or remove the linked ones (others
 * are ignored). Each peer costs a look at the shorter edge list, never a
 * walk over the whole peer set.
 */
static int edit_links(struct xreq *r, struct xnode *n, const struct mrel *mr,
                      int add, hf_error *err)
{
	struct xedge *e;
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < mr->n; i++) {
		rc = find_link(r, n, mr->r, mr->peers[i], &e, err);
		if (rc < 0 || (add && e) || (!add && !e))
			continue;
		if (!add) {
			rc = xb_edge_del(r->b, e, err);
			continue;
		}
		rc = check_peer_side(r, n, mr->r, mr->peers[i], err);
		if (rc == 0)
			rc = link_peer(r, n, mr->r, mr->peers[i],
			               mr->props[i] ? json_incref(mr->props[i])
			                            : NULL,
			               err);
	}
	return rc;
}

/* RelationshipAdd (add) / RelationshipRemove on any many relationship. */
static int rel_edit(struct xreq *r, const json_t *in, int add, hf_error *err)
{
	struct mrel mr;
	const struct hfs_rel *rel;
	struct xnode *n;
	int rc;

	memset(&mr, 0, sizeof(mr));
	rc = edit_target(r, in, &n, &rel, err);
	if (rc == 0)
		rc = edit_peers(r, n, rel, json_object_get(in, "nodes"), &mr,
		                err);
	if (rc == 0)
		rc = edit_links(r, n, &mr, add, err);
	if (rc == 0)
		rc = xb_reindex(r->b, NULL, err);
	if (rc == 0 && !strcmp(rel->kind, "Profile"))
		rc = refresh_edit(r, n, &mr, err);
	mrel_release(&mr);
	return rc;
}

/* ---- the field ----------------------------------------------------------- */

/*
 * Upsert found nothing: create. When the new node turns out to have the
 * HFID of an existing one (a component the input left out was filled in
 * by a default, like the `default` IP namespace), update that node
 * instead, as newer Infrahub servers do.
 */
static int upsert_create(struct xreq *r, const struct hfs_kind *k, json_t *in,
                         struct xnode **n, hf_error *err)
{
	char other[HFS_UUID_LEN + 1];
	int rc;

	rc = hfs_db_savepoint(r->db, "hfs_upsert", err);
	if (rc < 0)
		return rc;
	if (r->b)
		r->b->hfid_conflict[0] = '\0';
	rc = create_node(r, k, in, n, err);
	if (rc == 0)
		return hfs_db_release(r->db, "hfs_upsert", err);
	other[0] = '\0';
	if (r->b)
		memcpy(other, r->b->hfid_conflict, sizeof(other));
	(void)hfs_db_rollback_to(r->db, "hfs_upsert", NULL);
	xc_drop_all(&r->x->cache);
	r->b = NULL;
	if (!other[0] || xr_branch(r, NULL) < 0)
		return rc;
	*n = xb_node(r->b, other);
	if (!*n)
		return rc;
	hf_error_clear(err);
	return update_node(r, *n, in, err);
}

static int run_op(struct xreq *r, const struct hfs_kind *k, int op, json_t *in,
                  struct xnode **n, hf_error *err)
{
	int rc;

	switch (op) {
	case OP_CREATE:
		return create_node(r, k, in, n, err);
	case OP_UPDATE:
		rc = find_target(r, k, in, n, err);
		return rc < 0 ? rc : update_node(r, *n, in, err);
	case OP_UPSERT:
		rc = upsert_lookup(r, k, in, n, err);
		if (rc < 0)
			return rc;
		return *n ? update_node(r, *n, in, err)
		          : upsert_create(r, k, in, n, err);
	default:
		rc = find_target(r, k, in, n, err);
		if (rc == 0)
			rc = delete_node(r, *n, err);
		*n = NULL;
		return rc;
	}
}

static int write_output(struct xreq *r, const struct hfs_gql_field_group *g,
                        struct xnode *n, hf_error *err)
{
	const struct hfs_gql_fields *f;
	size_t i;
	int first = 1, rc;

	rc = xr_collect(r, g->fields[0]->name, g, NULL, &f, err);
	if (rc < 0)
		return rc;
	hf_buf_addch(&r->out, '{');
	for (i = 0; rc == 0 && i < f->count; i++) {
		const char *name = f->groups[i].fields[0]->name;

		xw_key(&r->out, &first, f->groups[i].key);
		if (!strcmp(name, "ok"))
			hf_buf_add(&r->out, "true");
		else if (!strcmp(name, "object") && n)
			rc = xq_node(r, n, &f->groups[i], err);
		else if (!strcmp(name, "__typename"))
			xw_str(&r->out, g->fields[0]->name);
		else
			hf_buf_add(&r->out, "null");
	}
	hf_buf_addch(&r->out, '}');
	return rc;
}

int xm_field(struct xreq *r, const struct hfs_gql_field_group *g, hf_error *err)
{
	const char *name = g->fields[0]->name;
	const struct hfs_kind *k = NULL;
	struct xnode *n = NULL;
	json_t *in = xr_arg(r, g, "data");
	int op = xt_mutation_kind(r->s, name, &k), rc;

	rc = xr_branch(r, err);
	if (rc == 0 && !json_is_object(in))
		rc = hf_error_set(err, HF_EINVAL,
		                  "Field '%s' argument 'data' is required",
		                  name);
	if (rc == 0 && !strncmp(name, "Relationship", 12))
		rc = rel_edit(r, in, !strcmp(name, "RelationshipAdd"), err);
	else if (rc == 0 && op < 0)
		rc = hf_error_set(err, HF_EINVAL, "unknown mutation %s", name);
	else if (rc == 0)
		rc = run_op(r, k, op, in, &n, err);
	if (rc == 0)
		rc = write_output(r, g, n, err);
	json_decref(in);
	return rc;
}
