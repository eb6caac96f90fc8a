/*
 * <Kind>Create / Update / Upsert / Delete, RelationshipAdd / Remove.
 *
 * A node's data holds only what was written: one object per attribute
 * that was given a value ({"value", "is_protected"?, "source"?, ...,
 * "updated_at"?}) plus "_created_at". An absent attribute reads as its
 * schema default with is_default true, which keeps the rows small and
 * makes writing the same values again a no-op.
 *
 * Relationships are edges from the node written (src, src_rel = the
 * relationship name) to each peer. A many-list replaces the peer set; an
 * edge that is already there is kept, so nothing moves when nothing
 * changed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec_int.h"
#include "hf/alloc.h"
#include "hf/banned.h"

enum { OP_CREATE, OP_UPDATE, OP_UPSERT, OP_DELETE };

/* A relationship input, resolved. */
struct mrel {
	const struct hfs_rel *r;
	struct xnode **peers;
	json_t **props; /* edge properties per peer (or NULL) */
	size_t n;
};

struct minput {
	const struct hfs_kind *k;
	json_t *data; /* borrowed */
	struct mrel *rels;
	size_t nrels;
	hf_buf errs; /* validation messages joined by ", " */
};

static void minput_release(struct minput *m)
{
	size_t i, j;

	for (i = 0; i < m->nrels; i++) {
		for (j = 0; j < m->rels[i].n; j++)
			json_decref(m->rels[i].props[j]);
		hf_free(m->rels[i].peers);
		hf_free(m->rels[i].props);
	}
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

/* Python's repr of a list of strings. */
static void py_list(hf_buf *b, const json_t *arr)
{
	size_t i;

	hf_buf_addch(b, '[');
	for (i = 0; i < json_array_size(arr); i++) {
		hf_buf_add(b, i ? ", '" : "'");
		xval_text(b, json_array_get(arr, i));
		hf_buf_addch(b, '\'');
	}
	hf_buf_addch(b, ']');
}

static int hfid_not_found(hf_error *err, const json_t *hfid, const char *kind)
{
	hf_buf t = HF_BUF_INIT;
	int rc;

	py_list(&t, hfid);
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

/* Edge properties from the _relation__* fields of a RelatedNodeInput. */
static json_t *edge_props(const json_t *in, const char *now)
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

/* One RelatedNodeInput -> peer node. */
static int resolve_peer(struct xreq *r, const struct hfs_rel *rel,
                        const json_t *in, struct xnode **out, hf_error *err)
{
	const struct hfs_kind *pk = hfs_schema_kind(r->s, rel->peer);
	const json_t *id = json_is_string(in) ? in : json_object_get(in, "id");

	*out = NULL;
	if (!pk)
		return hf_error_set(err, HF_EINVAL, "unknown peer kind %s",
		                    rel->peer);
	if (json_is_string(id))
		return resolve_by_id(r, rel, pk, id, out, err);
	if (json_is_array(json_object_get(in, "hfid")))
		return resolve_by_hfid(r, rel, pk, in, out, err);
	if (json_object_get(in, "from_pool"))
		return hf_error_set(err, HF_EINVAL,
		                    "from_pool is not supported by this "
		                    "server at %s",
		                    rel->name);
	return hf_error_set(err, HF_EINVAL,
	                    "id or hfid is required for %s at %s", rel->name,
	                    rel->name);
}

static int mrel_push(struct mrel *mr, struct xnode *n, json_t *props)
{
	struct xnode **np;
	json_t **pp;
	size_t i;

	for (i = 0; i < mr->n; i++) {
		if (mr->peers[i] == n) { /* the same peer twice: keep one */
			json_decref(props);
			return 0;
		}
	}
	np = hf_reallocarray(mr->peers, mr->n + 1, sizeof(*np));
	if (np)
		mr->peers = np;
	pp = np ? hf_reallocarray(mr->props, mr->n + 1, sizeof(*pp)) : NULL;
	if (!pp) {
		json_decref(props);
		return HF_ENOMEM;
	}
	mr->props = pp;
	mr->peers[mr->n] = n;
	mr->props[mr->n++] = props;
	return 0;
}

static int resolve_rel(struct xreq *r, const struct hfs_rel *rel,
                       const json_t *in, struct mrel *mr, hf_error *err)
{
	json_t *item;
	struct xnode *n;
	size_t i;
	int rc = 0;

	mr->r = rel;
	if (!in || json_is_null(in))
		return 0;
	if (!json_is_array(in)) {
		rc = resolve_peer(r, rel, in, &n, err);
		if (rc == 0 && mrel_push(mr, n, edge_props(in, r->now)) < 0)
			rc = hf_error_set(err, HF_ENOMEM, "out of memory");
		return rc;
	}
	if (!rel->many && json_array_size(in) > 1)
		return hf_error_set(err, HF_EINVAL,
		                    "Too many objects provided for a "
		                    "relationship of cardinality one at %s",
		                    rel->name);
	json_array_foreach(in, i, item)
	{
		rc = resolve_peer(r, rel, item, &n, err);
		if (rc == 0 && mrel_push(mr, n, edge_props(item, r->now)) < 0)
			rc = hf_error_set(err, HF_ENOMEM, "out of memory");
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
			rc = resolve_rel(r, rel, in, mr, err);
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
		json_t *in = json_object_get(m->data, a->name), *cur, *o;

		if (a->computed_template)
			continue;
		if (!in) {
			if (!old && !a->optional && !a->default_value)
				add_err(&m->errs,
				        "%s is mandatory for %s at %s", a->name,
				        m->k->kind, a->name);
			continue;
		}
		if (!json_is_object(in)) {
			add_err(&m->errs,
			        "%s must be an object with a value "
			        "at %s",
			        a->name, a->name);
			continue;
		}
		cur = json_object_get(data, a->name);
		rc = apply_attr(m, a, in, cur, &o);
		if (rc < 0)
			break;
		if (!old && o && json_is_null(json_object_get(o, "value")) &&
		    !a->optional && !a->default_value)
			add_err(&m->errs, "%s is mandatory for %s at %s",
			        a->name, m->k->kind, a->name);
		if (old && !json_equal(o, cur) && o)
			json_object_set_new(o, "updated_at",
			                    json_string(r->now));
		if (o)
			json_object_set_new(data, a->name, o);
		else
			json_object_del(data, a->name);
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

static int hole_value(struct xreq *r, const struct minput *m,
                      const struct xnode *n, const json_t *data,
                      const char *path, hf_buf *out, hf_error *err)
{
	const struct hfs_attr *a;
	const struct hfs_rel *rel;
	const struct hfs_kind *pk;
	struct xnode *peer;
	struct xsplit sp;
	json_t *o, *v;
	int rc;

	xsplit_path(&sp, path);
	a = hfs_kind_attr(m->k, sp.p[0]);
	if (a) {
		o = json_object_get(data, a->name);
		v = o ? json_object_get(o, "value") : a->default_value;
		if (v && !json_is_null(v))
			xval_text(out, v);
		return 0;
	}
	rel = hfs_kind_rel(m->k, sp.p[0]);
	if (!rel || rel->many)
		return 0;
	rc = peer_of(r, m, n, rel, &peer, err);
	if (rc < 0 || !peer)
		return rc;
	pk = hfs_schema_kind(r->s, peer->kind);
	a = pk ? hfs_kind_attr(pk, sp.p[1]) : NULL;
	v = a ? xn_value(peer, a) : NULL;
	if (v && !json_is_null(v))
		xval_text(out, v);
	return 0;
}

/* Render "{{ path }}" holes; everything else is copied. */
static int render(struct xreq *r, const struct minput *m, const struct xnode *n,
                  const json_t *data, const char *tpl, hf_buf *out,
                  hf_error *err)
{
	const char *p = tpl, *open, *close;
	char path[256];
	size_t len;
	int rc = 0;

	while (rc == 0 && (open = strstr(p, "{{"))) {
		close = strstr(open, "}}");
		if (!close)
			break;
		hf_buf_addn(out, p, (size_t)(open - p));
		open += 2;
		while (*open == ' ')
			open++;
		len = (size_t)(close - open);
		while (len && open[len - 1] == ' ')
			len--;
		if (len >= sizeof(path))
			len = sizeof(path) - 1;
		memcpy(path, open, len);
		path[len] = '\0';
		rc = hole_value(r, m, n, data, path, out, err);
		p = close + 2;
	}
	hf_buf_add(out, p);
	return rc;
}

static int compute_attrs(struct xreq *r, const struct minput *m,
                         const struct xnode *n, json_t *data, hf_error *err)
{
	hf_buf t = HF_BUF_INIT;
	json_t *cur, *o;
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < m->k->nattrs; i++) {
		const struct hfs_attr *a = &m->k->attrs[i];

		if (!a->computed_template)
			continue;
		hf_buf_reset(&t);
		rc = render(r, m, n, data, a->computed_template, &t, err);
		if (rc < 0)
			break;
		cur = json_object_get(data, a->name);
		if (cur && json_is_string(json_object_get(cur, "value")) &&
		    !strcmp(json_string_value(json_object_get(cur, "value")),
		            t.ptr))
			continue;
		o = json_pack("{ss%}", "value", t.ptr, t.len);
		if (o && n)
			json_object_set_new(o, "updated_at",
			                    json_string(r->now));
		if (!o || json_object_set_new(data, a->name, o) < 0)
			rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	hf_buf_release(&t);
	return rc;
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
	size_t i;

	for (i = 0; i < mr->n; i++) {
		if (mr->peers[i] == n) {
			*at = i;
			return 1;
		}
	}
	return 0;
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
			rc = xb_edge_add(
			        r->b, mr->r->identifier, n->id, mr->r->name,
			        mr->peers[i]->id,
			        mr->props[i] ? json_incref(mr->props[i]) : NULL,
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

static int create_node(struct xreq *r, const struct hfs_kind *k, json_t *in,
                       struct xnode **out, hf_error *err)
{
	struct minput m = { k, in, NULL, 0, HF_BUF_INIT };
	const char *id = json_string_value(json_object_get(in, "id"));
	json_t *data = NULL;
	int rc;

	*out = NULL;
	if (id && !hfs_db_is_uuid(id))
		return hf_error_set(err, HF_EINVAL, "%s is not a valid UUID",
		                    id);
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

static int update_node(struct xreq *r, struct xnode *n, json_t *in,
                       hf_error *err)
{
	struct minput m = { hfs_schema_kind(r->s, n->kind), in, NULL, 0,
		            HF_BUF_INIT };
	json_t *data = NULL;
	int rc;

	if (!m.k)
		return hf_error_set(err, HF_EINVAL, "unknown kind %s", n->kind);
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
	json_decref(data);
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
		if (!v || json_is_null(v))
			return 1;
		memset(&mr, 0, sizeof(mr));
		rc = resolve_rel(r, rel, v, &mr, err);
		if (rc == 0 && mr.n)
			hf_buf_addf(parts, XSEP "p%s", mr.peers[0]->id);
		else if (rc == 0)
			rc = 1;
		if (mr.n)
			json_decref(mr.props[0]);
		hf_free(mr.peers);
		hf_free(mr.props);
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

/* n and, through on_delete: cascade, whatever goes with it. */
static int cascade(struct xreq *r, const struct xnode *n, struct idlist *l,
                   hf_error *err)
{
	const struct hfs_kind *k = hfs_schema_kind(r->s, n->kind);
	struct xpeers p = { NULL, NULL, 0, 0 };
	char(*nv)[HFS_UUID_LEN + 1];
	size_t i, j;
	int rc = 0;

	if (idlist_has(l, n->id))
		return 0;
	nv = hf_reallocarray(l->v, l->n + 1, sizeof(*nv));
	if (!nv)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	l->v = nv;
	memcpy(l->v[l->n++], n->id, HFS_UUID_LEN + 1);
	for (i = 0; k && rc == 0 && i < k->nrels; i++) {
		const struct hfs_rel *rel = &k->rels[i];

		if (!rel->on_delete || strcmp(rel->on_delete, "cascade"))
			continue;
		rc = xb_peers(r->b, n, rel, &p, err);
		for (j = 0; rc == 0 && j < p.len; j++)
			rc = cascade(r, p.n[j], l, err);
	}
	xpeers_release(&p);
	return rc;
}

static int delete_node(struct xreq *r, struct xnode *n, hf_error *err)
{
	struct idlist l = { NULL, 0 };
	size_t i;
	int rc = cascade(r, n, &l, err);

	for (i = 0; rc == 0 && i < l.n; i++) {
		struct xnode *d = xb_node(r->b, l.v[i]);

		if (d)
			rc = xb_delete(r->b, d, err);
	}
	if (rc == 0)
		rc = xb_reindex(r->b, NULL, err);
	hf_free(l.v);
	return rc;
}

/* ---- RelationshipAdd / RelationshipRemove -------------------------------- */

static int rel_edit(struct xreq *r, const json_t *in, int add, hf_error *err)
{
	const char *id = json_string_value(json_object_get(in, "id"));
	const char *name = json_string_value(json_object_get(in, "name"));
	json_t *nodes = json_object_get(in, "nodes");
	struct xpeers cur = { NULL, NULL, 0, 0 };
	struct mrel mr;
	const struct hfs_kind *k;
	const struct hfs_rel *rel;
	struct xnode *n = id ? xb_node(r->b, id) : NULL;
	size_t i;
	int rc;

	if (!n)
		return not_found(err, id ? id : "(none)", "CoreNode");
	k = hfs_schema_kind(r->s, n->kind);
	rel = k && name ? hfs_kind_rel(k, name) : NULL;
	if (!rel || !rel->many)
		return hf_error_set(err, HF_EINVAL,
		                    "'%s' is not a valid relationship for '%s'",
		                    name ? name : "", n->kind);
	memset(&mr, 0, sizeof(mr));
	rc = resolve_rel(r, rel, nodes, &mr, err);
	if (rc == 0)
		rc = xb_peers(r->b, n, rel, &cur, err);
	for (i = 0; rc == 0 && i < cur.len; i++) {
		size_t at;

		if (!in_set(&mr, cur.n[i], &at))
			continue;
		if (add)
			mr.peers[at] = NULL; /* already there */
		else
			rc = xb_edge_del(r->b, cur.e[i], err);
	}
	for (i = 0; add && rc == 0 && i < mr.n; i++) {
		if (!mr.peers[i])
			continue;
		rc = check_peer_side(r, n, rel, mr.peers[i], err);
		if (rc == 0)
			rc = xb_edge_add(r->b, rel->identifier, n->id,
			                 rel->name, mr.peers[i]->id,
			                 mr.props[i] ? json_incref(mr.props[i])
			                             : NULL,
			                 err);
	}
	if (rc == 0)
		rc = xb_reindex(r->b, NULL, err);
	for (i = 0; i < mr.n; i++)
		json_decref(mr.props[i]);
	hf_free(mr.peers);
	hf_free(mr.props);
	xpeers_release(&cur);
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
