/*
 * In-memory mirror of a branch: nodes with parsed data, edges grouped by
 * relationship identifier (loaded lazily, one query per identifier), and
 * lookup indexes. Listing 10,000 nodes or checking uniqueness for a batch
 * of creates then costs hash lookups instead of SQL round trips.
 *
 * Writes go to SQLite first and are then applied here, so the mirror is
 * exactly what the database holds. Whenever that could stop being true (a
 * savepoint rolled back, a merge, a schema change) the caller drops the
 * mirror and it is rebuilt from the database on next use.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exec_int.h"
#include "hf/alloc.h"
#include "hf/banned.h"

#define MAX_MIRRORS 6
#define SEP         XSEP

/* ---- node and edge memory ------------------------------------------------ */

static void node_keys_free(struct xnode *n)
{
	size_t i;

	for (i = 0; i < n->nkeys; i++)
		hf_free(n->keys[i]);
	hf_free(n->keys);
	n->keys = NULL;
	n->nkeys = 0;
}

static void node_free(struct xnode *n)
{
	if (!n)
		return;
	node_keys_free(n);
	json_decref(n->data);
	hf_free(n->kind);
	hf_free(n);
}

static struct xedge *edge_new(const char *ident, const char *src,
                              const char *src_rel, const char *dst,
                              json_t *props)
{
	size_t a = strlen(ident) + 1, b = strlen(src) + 1;
	size_t c = strlen(src_rel) + 1, d = strlen(dst) + 1;
	struct xedge *e = hf_alloc(sizeof(*e) + a + b + c + d);
	char *p;

	if (!e) {
		json_decref(props);
		return NULL;
	}
	p = (char *)(e + 1);
	e->ident = memcpy(p, ident, a);
	e->src = memcpy(p + a, src, b);
	e->src_rel = memcpy(p + a + b, src_rel, c);
	e->dst = memcpy(p + a + b + c, dst, d);
	e->props = props;
	return e;
}

static void edge_free(struct xedge *e)
{
	if (!e)
		return;
	json_decref(e->props);
	hf_free(e);
}

/* Which of an edge's two slots belongs to `node`'s vector. */
static int edge_side(const struct xedge *e, const char *node)
{
	return strcmp(e->src, node) ? 1 : 0;
}

static int evec_push(struct xevec *v, struct xedge *e, int side)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 4;
		struct xedge **nv = hf_reallocarray(v->v, cap, sizeof(*nv));

		if (!nv)
			return HF_ENOMEM;
		v->v = nv;
		v->cap = cap;
	}
	e->slot[side] = v->n;
	v->v[v->n++] = e;
	return 0;
}

/* Remove e from `node`'s vector v: O(1), leaving a NULL behind. */
static void evec_remove(struct xevec *v, const struct xedge *e,
                        const char *node)
{
	size_t i = e->slot[edge_side(e, node)];

	if (i >= v->n || v->v[i] != e) {
		for (i = 0; i < v->n && v->v[i] != e; i++)
			;
		if (i == v->n)
			return;
	}
	v->v[i] = NULL;
	v->dead++;
	while (v->n && !v->v[v->n - 1]) {
		v->n--;
		v->dead--;
	}
}

/* Close the gaps of `node`'s vector, keeping the creation order. */
static void evec_compact(struct xevec *v, const char *node)
{
	size_t i, j;

	if (!v->dead)
		return;
	for (i = j = 0; i < v->n; i++) {
		struct xedge *e = v->v[i];

		if (!e)
			continue;
		e->slot[edge_side(e, node)] = j;
		v->v[j++] = e;
	}
	v->n = j;
	v->dead = 0;
}

static void vec_free(const char *key, void *val, void *payload)
{
	struct xevec *v = val;

	(void)key;
	(void)payload;
	hf_free(v->v);
	hf_free(v);
}

static void ident_free(const char *key, void *val, void *payload)
{
	struct xident *id = val;
	struct xedge *e, *next;

	(void)key;
	(void)payload;
	for (e = id->head; e; e = next) {
		next = e->next;
		edge_free(e);
	}
	xmap_each(&id->by_node, vec_free, NULL);
	xmap_release(&id->by_node);
	hf_free(id);
}

static void ident_own(struct xident *id, struct xedge *e)
{
	e->prev = NULL;
	e->next = id->head;
	if (id->head)
		id->head->prev = e;
	id->head = e;
}

static void ident_disown(struct xident *id, struct xedge *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		id->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	e->prev = e->next = NULL;
}

static void kind_free(const char *key, void *val, void *payload)
{
	struct xkind *k = val;

	(void)key;
	(void)payload;
	hf_free(k->v);
	hf_free(k->kind);
	hf_free(k);
}

static void nodes_free(const char *key, void *val, void *payload)
{
	(void)key;
	(void)payload;
	node_free(val);
}

static void view_free(const char *key, void *val, void *payload)
{
	struct xview *v = val;

	(void)key;
	(void)payload;
	hf_free(v->v);
	hf_free(v);
}

static void pview_free(const char *key, void *val, void *payload)
{
	struct xpview *v = val;

	(void)key;
	(void)payload;
	xpeers_release(&v->p);
	hf_free(v);
}

static void branch_free(struct xbranch *b)
{
	if (!b)
		return;
	xmap_each(&b->idents, ident_free, NULL);
	xmap_release(&b->idents);
	xmap_each(&b->kinds, kind_free, NULL);
	xmap_release(&b->kinds);
	xmap_each(&b->nodes, nodes_free, NULL);
	xmap_release(&b->nodes);
	xmap_each(&b->views, view_free, NULL);
	xmap_release(&b->views);
	xmap_each(&b->pviews, pview_free, NULL);
	xmap_release(&b->pviews);
	xmap_release(&b->idx);
	xmap_release(&b->vattrs);
	hf_free(b->name);
	hf_free(b);
}

/* ---- lookups ------------------------------------------------------------- */

struct xnode *xb_node(const struct xbranch *b, const char *id)
{
	return xmap_get(&b->nodes, id);
}

struct xkind *xb_kind(const struct xbranch *b, const char *kind)
{
	return xmap_get(&b->kinds, kind);
}

static int cmp_node_id(const void *a, const void *b)
{
	const struct xnode *x = *(struct xnode *const *)a;
	const struct xnode *y = *(struct xnode *const *)b;

	return strcmp(x->id, y->id);
}

void xb_kind_nodes(struct xbranch *b, const char *kind, struct xnode ***v,
                   size_t *n)
{
	struct xkind *k = xb_kind(b, kind);
	size_t i, j;
	int resync = 0;

	*v = NULL;
	*n = 0;
	if (!k)
		return;
	if (k->dead) {
		for (i = j = 0; i < k->n; i++)
			if (k->v[i])
				k->v[j++] = k->v[i];
		k->n = j;
		k->dead = 0;
		resync = 1;
	}
	if (k->unsorted) {
		qsort(k->v, k->n, sizeof(*k->v), cmp_node_id);
		k->unsorted = 0;
		resync = 1;
	}
	for (i = 0; resync && i < k->n; i++)
		k->v[i]->kind_slot = i;
	*v = k->v;
	*n = k->n;
}

static int kind_add(struct xbranch *b, struct xnode *n)
{
	struct xkind *k = xb_kind(b, n->kind);

	if (!k) {
		k = hf_calloc(1, sizeof(*k));
		if (!k)
			return HF_ENOMEM;
		k->kind = hf_strdup(n->kind);
		if (!k->kind || xmap_put(&b->kinds, n->kind, k) < 0) {
			hf_free(k->kind);
			hf_free(k);
			return HF_ENOMEM;
		}
	}
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 16;
		struct xnode **nv = hf_reallocarray(k->v, cap, sizeof(*nv));

		if (!nv)
			return HF_ENOMEM;
		k->v = nv;
		k->cap = cap;
	}
	if (k->n && (!k->v[k->n - 1] || strcmp(k->v[k->n - 1]->id, n->id) > 0))
		k->unsorted = 1;
	n->kind_slot = k->n;
	k->v[k->n++] = n;
	return 0;
}

/* O(1): a NULL in the node's slot, closed by xb_kind_nodes(). */
static void kind_remove(struct xbranch *b, const struct xnode *n)
{
	struct xkind *k = xb_kind(b, n->kind);
	size_t i = n->kind_slot;

	if (!k)
		return;
	if (i >= k->n || k->v[i] != n) {
		for (i = 0; i < k->n && k->v[i] != n; i++)
			;
		if (i == k->n)
			return;
	}
	k->v[i] = NULL;
	k->dead++;
	while (k->n && !k->v[k->n - 1]) {
		k->n--;
		k->dead--;
	}
}

/* ---- edges --------------------------------------------------------------- */

static int ident_link(struct xident *id, const char *node, struct xedge *e)
{
	struct xevec *v = xmap_get(&id->by_node, node);

	if (!v) {
		v = hf_calloc(1, sizeof(*v));
		if (!v || xmap_put(&id->by_node, node, v) < 0) {
			hf_free(v);
			return HF_ENOMEM;
		}
	}
	return evec_push(v, e, edge_side(e, node));
}

static int ident_insert(struct xident *id, struct xedge *e)
{
	int rc;

	ident_own(id, e);
	rc = ident_link(id, e->src, e);

	if (rc == 0 && strcmp(e->src, e->dst))
		rc = ident_link(id, e->dst, e);
	return rc;
}

static int load_edge_cb(const struct hfs_edge *edge, void *payload)
{
	struct xident *id = payload;
	struct xedge *e;

	e = edge_new(edge->identifier, edge->src, edge->src_rel, edge->dst,
	             edge->props ? json_incref(edge->props) : NULL);
	if (!e)
		return HF_ENOMEM;
	/* once inserted the identifier owns it, even when linking fails */
	return ident_insert(id, e) < 0 ? HF_ENOMEM : 0;
}

static int ident_get(struct xbranch *b, const char *ident, struct xident **out,
                     hf_error *err)
{
	struct xident *id = xmap_get(&b->idents, ident);
	int rc;

	*out = id;
	if (id)
		return 0;
	id = hf_calloc(1, sizeof(*id));
	if (!id)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	rc = hfs_db_edges_by_identifier(b->db, b->name, ident, load_edge_cb, id,
	                                err);
	if (rc == 0 && xmap_put(&b->idents, ident, id) < 0)
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	if (rc < 0) {
		ident_free(ident, id, NULL);
		return rc;
	}
	*out = id;
	return 0;
}

int xb_node_edges(struct xbranch *b, const char *ident, const char *node,
                  const struct xevec **out, hf_error *err)
{
	struct xident *id;
	struct xevec *v;
	int rc = ident_get(b, ident, &id, err);

	v = rc < 0 ? NULL : xmap_get(&id->by_node, node);
	if (v)
		evec_compact(v, node);
	*out = v;
	return rc;
}

void xpeers_release(struct xpeers *p)
{
	hf_free(p->e);
	hf_free(p->n);
	memset(p, 0, sizeof(*p));
}

int xpeers_push(struct xpeers *p, struct xedge *e, struct xnode *n)
{
	if (p->len == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		struct xedge **ne = hf_reallocarray(p->e, cap, sizeof(*ne));
		struct xnode **nn;

		if (!ne)
			return HF_ENOMEM;
		p->e = ne;
		nn = hf_reallocarray(p->n, cap, sizeof(*nn));
		if (!nn)
			return HF_ENOMEM;
		p->n = nn;
		p->cap = cap;
	}
	p->e[p->len] = e;
	p->n[p->len++] = n;
	return 0;
}

/* The database's reading rule for one side of a relationship. */
static const char *edge_peer(const struct xedge *e, const char *node,
                             const char *rel)
{
	if (!strcmp(e->src, node) && !strcmp(e->src_rel, rel))
		return e->dst;
	if (!strcmp(e->dst, node) && strcmp(e->src_rel, rel))
		return e->src;
	return NULL;
}

int xb_peers(struct xbranch *b, const struct xnode *n, const struct hfs_rel *r,
             struct xpeers *out, hf_error *err)
{
	const struct xevec *v;
	size_t i;
	int rc;

	out->len = 0;
	rc = xb_node_edges(b, r->identifier, n->id, &v, err);
	for (i = 0; rc == 0 && v && i < v->n; i++) {
		const char *pid = edge_peer(v->v[i], n->id, r->name);
		struct xnode *peer = pid ? xb_node(b, pid) : NULL;

		if (peer && xpeers_push(out, v->v[i], peer) < 0)
			rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	return rc;
}

int xb_peer_one(struct xbranch *b, const struct xnode *n,
                const struct hfs_rel *r, struct xnode **out,
                struct xedge **edge, hf_error *err)
{
	const struct xevec *v;
	size_t i;
	int rc;

	*out = NULL;
	if (edge)
		*edge = NULL;
	rc = xb_node_edges(b, r->identifier, n->id, &v, err);
	for (i = 0; rc == 0 && v && i < v->n; i++) {
		const char *pid = edge_peer(v->v[i], n->id, r->name);
		struct xnode *peer = pid ? xb_node(b, pid) : NULL;

		if (!peer)
			continue;
		*out = peer;
		if (edge)
			*edge = v->v[i];
		break;
	}
	return rc;
}

/* ---- node values --------------------------------------------------------- */

json_t *xn_attr(const struct xnode *n, const char *attr)
{
	json_t *a = json_object_get(n->data, attr);

	return json_is_object(a) ? a : NULL;
}

json_t *xn_value(const struct xnode *n, const struct hfs_attr *a)
{
	json_t *o = xn_attr(n, a->name);

	if (!o)
		return a->default_value;
	return json_object_get(o, "value");
}

static json_t *choice_field(const struct hfs_attr *a, const json_t *v,
                            const char *field)
{
	size_t i;

	for (i = 0; json_is_string(v) && i < a->nchoices; i++) {
		const struct hfs_choice *c = &a->choices[i];
		const char *s = NULL;

		if (strcmp(c->name, json_string_value(v)))
			continue;
		if (!strcmp(field, "label"))
			s = c->label;
		else if (!strcmp(field, "color"))
			s = c->color;
		else if (!strcmp(field, "description"))
			s = c->description;
		return s ? json_string(s) : json_null();
	}
	return json_null();
}

static json_t *attr_prop(const struct xnode *n, const struct hfs_attr *a,
                         const char *prop)
{
	json_t *o = xn_attr(n, a->name), *v;

	if (!*prop || !strcmp(prop, "value")) {
		v = xn_value(n, a);
		return v ? json_incref(v) : json_null();
	}
	if (a->nchoices && (!strcmp(prop, "label") || !strcmp(prop, "color") ||
	                    !strcmp(prop, "description")))
		return choice_field(a, xn_value(n, a), prop);
	v = o ? json_object_get(o, prop) : NULL;
	if (v)
		return json_incref(v);
	if (!strcmp(prop, "is_visible"))
		return json_true();
	if (!strcmp(prop, "is_protected") || !strcmp(prop, "is_default"))
		return json_false();
	return json_null();
}

int xn_path(struct xbranch *b, const struct hfs_kind *k, const struct xnode *n,
            const char *path, json_t **out, hf_error *err)
{
	const struct hfs_attr *a;
	const struct hfs_rel *r;
	const struct hfs_kind *pk;
	struct xsplit sp;
	struct xnode *peer;
	char rest[300];
	int rc;

	*out = NULL;
	xsplit_path(&sp, path);
	a = k ? hfs_kind_attr(k, sp.p[0]) : NULL;
	if (a) {
		*out = attr_prop(n, a, sp.p[1]);
		return *out ? 0 : hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	r = k ? hfs_kind_rel(k, sp.p[0]) : NULL;
	if (!r || r->many || sp.n < 2)
		return 0;
	rc = xb_peer_one(b, n, r, &peer, NULL, err);
	if (rc < 0 || !peer)
		return rc;
	pk = hfs_schema_kind(b->schema, peer->kind);
	snprintf(rest, sizeof(rest), "%s%s%s", sp.p[1], sp.n > 2 ? "__" : "",
	         sp.n > 2 ? sp.p[2] : "");
	return xn_path(b, pk, peer, rest, out, err);
}

int xn_hfid(struct xbranch *b, const struct hfs_kind *k, const struct xnode *n,
            json_t **out, hf_error *err)
{
	hf_buf t = HF_BUF_INIT;
	json_t *arr, *v = NULL;
	size_t i;
	int rc = 0;

	*out = NULL;
	if (!k || !k->hfid.n)
		return 0;
	arr = json_array();
	for (i = 0; arr && rc == 0 && i < k->hfid.n; i++) {
		rc = xn_path(b, k, n, k->hfid.v[i], &v, err);
		if (rc < 0)
			break;
		hf_buf_reset(&t);
		if (v && !json_is_null(v))
			xval_text(&t, v);
		json_array_append_new(arr, v && !json_is_null(v)
		                                   ? json_stringn(t.ptr, t.len)
		                                   : json_null());
		json_decref(v);
		v = NULL;
	}
	if (!arr || hf_buf_failed(&t))
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	hf_buf_release(&t);
	if (rc < 0)
		json_decref(arr);
	else
		*out = arr;
	return rc;
}

/* Append the text of one path's value (nothing when missing). */
static int label_path(struct xbranch *b, const struct hfs_kind *k,
                      const struct xnode *n, const char *path, hf_buf *buf,
                      hf_error *err)
{
	json_t *v = NULL;
	int rc = xn_path(b, k, n, path, &v, err);

	if (rc == 0 && v && !json_is_null(v))
		xval_text(buf, v);
	json_decref(v);
	return rc;
}

/* display_label: "name__value" or "{{ a__value }} text {{ b__value }}". */
static int label_template(struct xbranch *b, const struct hfs_kind *k,
                          const struct xnode *n, const char *tpl, hf_buf *buf,
                          hf_error *err)
{
	const char *p = tpl, *open, *close;
	char path[256];
	size_t len;
	int rc = 0;

	if (!strstr(tpl, "{{"))
		return label_path(b, k, n, tpl, buf, err);
	while (rc == 0 && (open = strstr(p, "{{")) &&
	       (close = strstr(open, "}}"))) {
		hf_buf_addn(buf, p, (size_t)(open - p));
		for (open += 2; *open == ' '; open++)
			;
		len = (size_t)(close - open);
		while (len && open[len - 1] == ' ')
			len--;
		if (len >= sizeof(path))
			len = sizeof(path) - 1;
		memcpy(path, open, len);
		path[len] = '\0';
		rc = label_path(b, k, n, path, buf, err);
		p = close + 2;
	}
	hf_buf_add(buf, p);
	return rc;
}

int xn_label(struct xbranch *b, const struct hfs_kind *k, const struct xnode *n,
             hf_buf *buf, hf_error *err)
{
	size_t i, start = buf->len, mark;
	int rc = 0;

	if (k && k->display_label)
		return label_template(b, k, n, k->display_label, buf, err);
	if (!k || !k->display_labels.n) {
		hf_buf_addf(buf, "%s(ID: %s)", n->kind, n->id);
		return 0;
	}
	for (i = 0; rc == 0 && i < k->display_labels.n; i++) {
		mark = buf->len;
		if (buf->len > start)
			hf_buf_addch(buf, ' ');
		rc = label_path(b, k, n, k->display_labels.v[i], buf, err);
		if (buf->len == mark + (mark > start))
			hf_buf_setlen(buf, mark); /* nothing: no separator */
	}
	return rc;
}

/* ---- index keys ---------------------------------------------------------- */

enum { KEY_U = 'U', KEY_C = 'C', KEY_H = 'H', KEY_V = 'V' };

struct keyset {
	char **v;
	size_t n;
	size_t cap;
};

static void keyset_release(struct keyset *ks)
{
	size_t i;

	for (i = 0; i < ks->n; i++)
		hf_free(ks->v[i]);
	hf_free(ks->v);
	memset(ks, 0, sizeof(*ks));
}

static int keyset_add(struct keyset *ks, hf_buf *key)
{
	char *s;

	if (ks->n == ks->cap) {
		size_t cap = ks->cap ? ks->cap * 2 : 8;
		char **nv = hf_reallocarray(ks->v, cap, sizeof(*nv));

		if (!nv)
			return HF_ENOMEM;
		ks->v = nv;
		ks->cap = cap;
	}
	s = hf_buf_detach(key);
	if (!s)
		return HF_ENOMEM;
	ks->v[ks->n++] = s;
	return 0;
}

/*
 * One part of a constraint or HFID key: the canonical value of an
 * attribute path, or "p<peer id>" for a relationship. 0 when present,
 * 1 when the value is missing (no key then).
 */
static int key_part(struct xbranch *b, const struct hfs_kind *k,
                    const struct xnode *n, const char *path, hf_buf *key,
                    hf_error *err)
{
	const struct hfs_attr *a;
	const struct hfs_rel *r;
	struct xsplit sp;
	struct xnode *peer;
	json_t *v;
	int rc;

	xsplit_path(&sp, path);
	a = hfs_kind_attr(k, sp.p[0]);
	if (a) {
		v = xn_value(n, a);
		if (!v || json_is_null(v))
			return 1;
		hf_buf_add(key, SEP);
		xval_key(key, v);
		return 0;
	}
	r = hfs_kind_rel(k, sp.p[0]);
	if (!r || r->many)
		return 1;
	rc = xb_peer_one(b, n, r, &peer, NULL, err);
	if (rc < 0)
		return rc;
	if (!peer)
		return 1;
	hf_buf_addf(key, SEP "p%s", peer->id);
	return 0;
}

static int key_paths(struct xbranch *b, const struct hfs_kind *k,
                     const struct xnode *n, const struct hfs_strv *paths,
                     hf_buf *key, hf_error *err)
{
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < paths->n; i++)
		rc = key_part(b, k, n, paths->v[i], key, err);
	return rc;
}

static int keys_unique(const struct hfs_kind *k, const struct xnode *n,
                       struct keyset *ks)
{
	hf_buf key = HF_BUF_INIT;
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < k->nattrs; i++) {
		const struct hfs_attr *a = &k->attrs[i];
		json_t *v = a->unique ? xn_value(n, a) : NULL;

		if (!v || json_is_null(v))
			continue;
		hf_buf_addf(&key, "U" SEP "%s" SEP "%s" SEP, k->kind, a->name);
		xval_key(&key, v);
		rc = keyset_add(ks, &key);
	}
	hf_buf_release(&key);
	return rc;
}

static int keys_grouped(struct xbranch *b, const struct hfs_kind *k,
                        const struct xnode *n, struct keyset *ks, hf_error *err)
{
	hf_buf key = HF_BUF_INIT;
	size_t i;
	int rc = 0;

	for (i = 0; rc >= 0 && i < k->nuniq; i++) {
		hf_buf_reset(&key);
		hf_buf_addf(&key, "C" SEP "%s" SEP "%zu", k->kind, i);
		rc = key_paths(b, k, n, &k->uniq[i], &key, err);
		if (rc == 0 && keyset_add(ks, &key) < 0)
			rc = HF_ENOMEM;
	}
	if (rc >= 0 && k->hfid.n) {
		hf_buf_reset(&key);
		hf_buf_addf(&key, "H" SEP "%s", k->kind);
		rc = key_paths(b, k, n, &k->hfid, &key, err);
		if (rc == 0 && keyset_add(ks, &key) < 0)
			rc = HF_ENOMEM;
	}
	hf_buf_release(&key);
	if (rc == HF_ENOMEM)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	return rc < 0 ? rc : 0;
}

/* b->vattrs values: the attribute has a value index, or scanning is better. */
#define VA_INDEXED ((void *)1)
#define VA_SCAN    ((void *)2)

static void *vattr_state(const struct xbranch *b, const char *kind,
                         const char *attr)
{
	char key[300];

	snprintf(key, sizeof(key), "%s" SEP "%s", kind, attr);
	return xmap_get(&b->vattrs, key);
}

static int vattr_indexed(const struct xbranch *b, const char *kind,
                         const char *attr)
{
	return vattr_state(b, kind, attr) == VA_INDEXED;
}

static int keys_values(const struct xbranch *b, const struct hfs_kind *k,
                       const struct xnode *n, struct keyset *ks)
{
	hf_buf key = HF_BUF_INIT;
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < k->nattrs; i++) {
		const struct hfs_attr *a = &k->attrs[i];
		json_t *v;

		if (!vattr_indexed(b, k->kind, a->name))
			continue;
		v = xn_value(n, a);
		if (!v || json_is_null(v))
			continue;
		hf_buf_addf(&key, "V" SEP "%s" SEP "%s" SEP, k->kind, a->name);
		xval_key(&key, v);
		rc = keyset_add(ks, &key);
	}
	hf_buf_release(&key);
	return rc;
}

static int node_keys(struct xbranch *b, const struct xnode *n,
                     struct keyset *ks, hf_error *err)
{
	const struct hfs_kind *k = hfs_schema_kind(b->schema, n->kind);
	int rc;

	if (!k)
		return 0;
	rc = keys_unique(k, n, ks);
	if (rc == 0)
		rc = keys_grouped(b, k, n, ks, err);
	if (rc == 0)
		rc = keys_values(b, k, n, ks);
	if (rc == HF_ENOMEM)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	return rc;
}

/* Another node registered under `key`, or NULL. */
static struct xnode *key_other(const struct xbranch *b, const char *key,
                               const struct xnode *self)
{
	struct xmap_it it;
	struct xnode *o;

	for (o = xmap_find(&b->idx, key, &it); o; o = xmap_next(&it)) {
		if (o != self)
			return o;
	}
	return NULL;
}

static int unique_error(const struct hfs_kind *k, const char *key,
                        hf_error *err)
{
	const char *attr = key + strlen("U" SEP) + strlen(k->kind) + 1;
	const char *val = strchr(attr, SEP[0]);
	int alen = val ? (int)(val - attr) : (int)strlen(attr);
	const char *text = val ? val + 2 : "";

	return hf_error_set(err, HF_EINVAL,
	                    "An object already exist with this value: %.*s: "
	                    "%s at %.*s",
	                    alen, attr, text, alen, attr);
}

/* "Violates uniqueness constraint 'a-b' at a, ... at b" */
static int grouped_error(const struct hfs_kind *k, const struct hfs_strv *p,
                         hf_error *err)
{
	hf_buf names = HF_BUF_INIT, msg = HF_BUF_INIT;
	struct xsplit sp;
	size_t i;
	int rc;

	for (i = 0; i < p->n; i++) {
		xsplit_path(&sp, p->v[i]);
		hf_buf_addf(&names, "%s%s", i ? "-" : "", sp.p[0]);
	}
	for (i = 0; i < p->n; i++) {
		xsplit_path(&sp, p->v[i]);
		hf_buf_addf(&msg, "%sViolates uniqueness constraint '%s' at %s",
		            i ? ", " : "", names.ptr, sp.p[0]);
	}
	(void)k;
	rc = hf_error_set(err, HF_EINVAL, "%s", msg.ptr);
	hf_buf_release(&names);
	hf_buf_release(&msg);
	return rc;
}

static int check_conflicts(struct xbranch *b, const struct xnode *n,
                           const struct keyset *ks, hf_error *err)
{
	const struct hfs_kind *k = hfs_schema_kind(b->schema, n->kind);
	size_t i;
	char *end;
	unsigned long idx;

	b->hfid_conflict[0] = '\0';
	for (i = 0; k && i < ks->n; i++) {
		const struct xnode *o =
		        ks->v[i][0] == KEY_H ? key_other(b, ks->v[i], n) : NULL;

		if (o)
			memcpy(b->hfid_conflict, o->id, sizeof(o->id));
	}
	for (i = 0; k && i < ks->n; i++) {
		const char *key = ks->v[i];

		if (key[0] == KEY_V || !key_other(b, key, n))
			continue;
		if (key[0] == KEY_U)
			return unique_error(k, key, err);
		if (key[0] == KEY_H)
			return grouped_error(k, &k->hfid, err);
		idx = strtoul(key + 2 + strlen(k->kind) + 1, &end, 10);
		if (idx < k->nuniq)
			return grouped_error(k, &k->uniq[idx], err);
	}
	return 0;
}

static void keys_unregister(struct xbranch *b, struct xnode *n)
{
	size_t i;

	for (i = 0; i < n->nkeys; i++)
		xmap_del(&b->idx, n->keys[i], n);
	node_keys_free(n);
}

static int keys_register(struct xbranch *b, struct xnode *n, struct keyset *ks)
{
	size_t i;

	for (i = 0; i < ks->n; i++) {
		if (xmap_put(&b->idx, ks->v[i], n) < 0) {
			n->keys = ks->v;
			n->nkeys = i;
			for (; i < ks->n; i++)
				hf_free(ks->v[i]);
			memset(ks, 0, sizeof(*ks));
			return HF_ENOMEM;
		}
	}
	n->keys = ks->v;
	n->nkeys = ks->n;
	memset(ks, 0, sizeof(*ks));
	return 0;
}

static int reindex_one(struct xbranch *b, struct xnode *n, int check,
                       hf_error *err)
{
	struct keyset ks = { NULL, 0, 0 };
	int rc = node_keys(b, n, &ks, err);

	if (rc == 0 && check)
		rc = check_conflicts(b, n, &ks, err);
	if (rc == 0) {
		keys_unregister(b, n);
		if (keys_register(b, n, &ks) < 0)
			rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	keyset_release(&ks);
	return rc;
}

void xb_touch(struct xbranch *b, struct xnode *n)
{
	b->gen++;
	if (!n || n->dirty)
		return;
	n->dirty = 1;
	n->dnext = b->dirty;
	b->dirty = n;
}

static void dirty_unlink(struct xbranch *b, struct xnode *n)
{
	struct xnode **pp;

	for (pp = &b->dirty; *pp; pp = &(*pp)->dnext) {
		if (*pp == n) {
			*pp = n->dnext;
			break;
		}
	}
	n->dirty = 0;
	n->dnext = NULL;
}

int xb_reindex(struct xbranch *b, struct xnode *checked, hf_error *err)
{
	int rc = 0;

	/* The checked node first, so its conflicts are what is reported. */
	if (checked && checked->dirty) {
		dirty_unlink(b, checked);
		rc = reindex_one(b, checked, 1, err);
	} else if (checked) {
		rc = reindex_one(b, checked, 1, err);
	}
	while (rc == 0 && b->dirty) {
		struct xnode *n = b->dirty;

		dirty_unlink(b, n);
		rc = reindex_one(b, n, 0, err);
	}
	return rc;
}

/* ---- loading ------------------------------------------------------------- */

static int load_node_cb(const struct hfs_node *hn, void *payload)
{
	struct xbranch *b = payload;
	struct xnode *n = hf_calloc(1, sizeof(*n));

	if (!n)
		return HF_ENOMEM;
	snprintf(n->id, sizeof(n->id), "%s", hn->id);
	n->kind = hf_strdup(hn->kind);
	n->data = json_incref(hn->data);
	if (!n->kind || !n->data || xmap_put(&b->nodes, n->id, n) < 0) {
		node_free(n);
		return HF_ENOMEM;
	}
	return kind_add(b, n);
}

static int vattr_set(struct xbranch *b, const char *kind, const char *attr,
                     void *state)
{
	char key[300];

	snprintf(key, sizeof(key), "%s" SEP "%s", kind, attr);
	if (xmap_get(&b->vattrs, key))
		return 0;
	return xmap_put(&b->vattrs, key, state);
}

static int vattr_add(struct xbranch *b, const char *kind, const char *attr)
{
	return vattr_set(b, kind, attr, VA_INDEXED);
}

/* Attributes of `kind` (and the nodes inheriting it) to index by value. */
static int vattr_add_all(struct xbranch *b, const struct hfs_kind *k,
                         const char *attr)
{
	size_t i;
	int rc = 0;

	if (!k)
		return 0;
	if (!k->is_generic)
		return vattr_add(b, k->kind, attr);
	for (i = 0; rc == 0 && i < k->used_by.n; i++)
		rc = vattr_add(b, k->used_by.v[i], attr);
	return rc;
}

static int plan_kind(struct xbranch *b, const struct hfs_kind *k)
{
	struct xsplit sp;
	size_t i;
	int rc = 0;

	if (k->default_filter) {
		xsplit_path(&sp, k->default_filter);
		rc = vattr_add_all(b, k, sp.p[0]);
	}
	for (i = 0; rc == 0 && i < k->hfid.n; i++) {
		const struct hfs_rel *r;

		xsplit_path(&sp, k->hfid.v[i]);
		if (hfs_kind_attr(k, sp.p[0])) {
			rc = vattr_add_all(b, k, sp.p[0]);
			continue;
		}
		r = hfs_kind_rel(k, sp.p[0]);
		if (r && sp.n >= 2)
			rc = vattr_add_all(b,
			                   hfs_schema_kind(b->schema, r->peer),
			                   sp.p[1]);
	}
	return rc;
}

static int index_all(const char *key, void *val, struct xbranch *b,
                     hf_error *err)
{
	(void)key;
	return reindex_one(b, val, 0, err);
}

struct index_ctx {
	struct xbranch *b;
	hf_error *err;
	int rc;
};

static void index_cb(const char *key, void *val, void *payload)
{
	struct index_ctx *c = payload;

	if (c->rc == 0)
		c->rc = index_all(key, val, c->b, c->err);
}

static int branch_load(struct xbranch *b, hf_error *err)
{
	struct index_ctx ic = { b, err, 0 };
	size_t i;
	int rc;

	rc = hfs_db_node_list(b->db, b->name, NULL, load_node_cb, b, err);
	if (rc == HF_ENOMEM)
		hf_error_set(err, HF_ENOMEM, "out of memory");
	for (i = 0; rc == 0 && i < hfs_schema_count(b->schema); i++)
		rc = plan_kind(b, hfs_schema_at(b->schema, i));
	if (rc < 0)
		return rc;
	xmap_each(&b->nodes, index_cb, &ic);
	return ic.rc;
}

/* ---- the set of mirrors -------------------------------------------------- */

struct lru {
	struct xbranch *oldest;
};

static void lru_cb(const char *key, void *val, void *payload)
{
	struct lru *l = payload;
	struct xbranch *b = val;

	(void)key;
	if (!l->oldest || b->used < l->oldest->used)
		l->oldest = b;
}

static void evict(struct xcache *c)
{
	struct lru l = { NULL };

	if (c->branches.n < MAX_MIRRORS)
		return;
	xmap_each(&c->branches, lru_cb, &l);
	if (l.oldest)
		xc_drop(c, l.oldest->name);
}

int xc_branch(struct xcache *c, hfs_db *db, const char *branch,
              const hfs_schema *s, struct xbranch **out, hf_error *err)
{
	struct xbranch *b = xmap_get(&c->branches, branch);
	int rc;

	*out = NULL;
	if (b && strcmp(b->schema_hash, hfs_schema_hash(s))) {
		xc_drop(c, branch);
		b = NULL;
	}
	if (b) {
		b->schema = s;
		b->used = ++c->tick;
		*out = b;
		return 0;
	}
	evict(c);
	b = hf_calloc(1, sizeof(*b));
	if (!b)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	b->name = hf_strdup(branch);
	b->db = db;
	b->schema = s;
	snprintf(b->schema_hash, sizeof(b->schema_hash), "%s",
	         hfs_schema_hash(s));
	b->used = ++c->tick;
	c->loads++;
	rc = b->name ? branch_load(b, err)
	             : hf_error_set(err, HF_ENOMEM, "out of memory");
	if (rc == 0 && xmap_put(&c->branches, branch, b) < 0)
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	if (rc < 0) {
		branch_free(b);
		return rc;
	}
	*out = b;
	return 0;
}

void xc_drop(struct xcache *c, const char *branch)
{
	struct xbranch *b = xmap_get(&c->branches, branch);

	if (!b)
		return;
	xmap_del(&c->branches, branch, b);
	branch_free(b);
}

static void drop_cb(const char *key, void *val, void *payload)
{
	(void)key;
	(void)payload;
	branch_free(val);
}

void xc_drop_all(struct xcache *c)
{
	xmap_each(&c->branches, drop_cb, NULL);
	xmap_release(&c->branches);
}

void xc_release(struct xcache *c)
{
	xc_drop_all(c);
}

/* ---- writes -------------------------------------------------------------- */

int xb_create(struct xbranch *b, const char *kind, const char *id, json_t *data,
              struct xnode **out, hf_error *err)
{
	char nid[HFS_UUID_LEN + 1];
	struct xnode *n;
	int rc;

	*out = NULL;
	rc = hfs_db_node_create(b->db, b->name, kind, id, data, nid, err);
	if (rc < 0) {
		json_decref(data);
		return rc;
	}
	n = hf_calloc(1, sizeof(*n));
	if (!n) {
		json_decref(data);
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	memcpy(n->id, nid, sizeof(nid));
	n->data = data;
	n->kind = hf_strdup(kind);
	if (!n->kind || xmap_put(&b->nodes, n->id, n) < 0) {
		node_free(n);
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	if (kind_add(b, n) < 0)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	xb_touch(b, n);
	*out = n;
	return 0;
}

int xb_update(struct xbranch *b, struct xnode *n, json_t *data, hf_error *err)
{
	int rc;

	if (json_equal(n->data, data)) {
		json_decref(data);
		return 0;
	}
	rc = hfs_db_node_update(b->db, b->name, n->id, data, err);
	if (rc < 0) {
		json_decref(data);
		return rc;
	}
	json_decref(n->data);
	n->data = data;
	xb_touch(b, n);
	return 0;
}

struct unlink_ctx {
	struct xbranch *b;
	struct xnode *n;
};

static void unlink_ident(const char *key, void *val, void *payload)
{
	struct unlink_ctx *u = payload;
	struct xident *id = val;
	struct xevec *v = xmap_get(&id->by_node, u->n->id);
	size_t i;

	(void)key;
	if (!v)
		return;
	for (i = 0; i < v->n; i++) {
		struct xedge *e = v->v[i];
		const char *other;
		struct xevec *ov;

		if (!e)
			continue;
		other = strcmp(e->src, u->n->id) ? e->src : e->dst;
		if (strcmp(other, u->n->id)) {
			ov = xmap_get(&id->by_node, other);
			if (ov)
				evec_remove(ov, e, other);
			if (xb_node(u->b, other))
				xb_touch(u->b, xb_node(u->b, other));
		}
		ident_disown(id, e);
		edge_free(e);
	}
	xmap_del(&id->by_node, u->n->id, v);
	hf_free(v->v);
	hf_free(v);
}

int xb_delete(struct xbranch *b, struct xnode *n, hf_error *err)
{
	struct unlink_ctx u = { b, n };
	int rc;

	rc = hfs_db_node_delete(b->db, b->name, n->id, err);
	if (rc < 0)
		return rc;
	xmap_each(&b->idents, unlink_ident, &u);
	keys_unregister(b, n);
	kind_remove(b, n);
	dirty_unlink(b, n);
	xmap_del(&b->nodes, n->id, n);
	b->gen++;
	node_free(n);
	return 0;
}

static struct xedge *edge_find(struct xident *id, const char *src,
                               const char *src_rel, const char *dst)
{
	struct xevec *v = xmap_get(&id->by_node, src);
	size_t i;

	for (i = 0; v && i < v->n; i++) {
		struct xedge *e = v->v[i];

		if (e && !strcmp(e->src, src) && !strcmp(e->src_rel, src_rel) &&
		    !strcmp(e->dst, dst))
			return e;
	}
	return NULL;
}

int xb_edge_add(struct xbranch *b, const char *ident, const char *src,
                const char *src_rel, const char *dst, json_t *props,
                hf_error *err)
{
	struct hfs_edge he = { ident, src, src_rel, dst, props, NULL };
	struct xident *id;
	struct xedge *e;
	int rc;

	rc = hfs_db_edge_add(b->db, b->name, &he, err);
	id = rc < 0 ? NULL : xmap_get(&b->idents, ident);
	e = id ? edge_find(id, src, src_rel, dst) : NULL;
	if (!id || rc < 0) {
		json_decref(props);
	} else if (e) {
		json_decref(e->props);
		e->props = props;
	} else {
		e = edge_new(ident, src, src_rel, dst, props);
		if (!e || ident_insert(id, e) < 0)
			rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	if (rc < 0)
		return rc;
	xb_touch(b, xb_node(b, src));
	xb_touch(b, xb_node(b, dst));
	return 0;
}

int xb_edge_del(struct xbranch *b, struct xedge *e, hf_error *err)
{
	struct hfs_edge he = {
		e->ident, e->src, e->src_rel, e->dst, NULL, NULL
	};
	struct xident *id = xmap_get(&b->idents, e->ident);
	struct xevec *v;
	int rc;

	rc = hfs_db_edge_remove(b->db, b->name, &he, err);
	if (rc < 0)
		return rc;
	xb_touch(b, xb_node(b, e->src));
	xb_touch(b, xb_node(b, e->dst));
	if (!id)
		return 0;
	v = xmap_get(&id->by_node, e->src);
	if (v)
		evec_remove(v, e, e->src);
	v = xmap_get(&id->by_node, e->dst);
	if (v && strcmp(e->src, e->dst))
		evec_remove(v, e, e->dst);
	ident_disown(id, e);
	edge_free(e);
	return 0;
}

/* ---- value lookups ------------------------------------------------------- */

static int is_num_kind(const char *k)
{
	return !strcmp(k, "Number") || !strcmp(k, "Bandwidth");
}

static int is_bool_kind(const char *k)
{
	return !strcmp(k, "Boolean") || !strcmp(k, "Checkbox");
}

int xnorm_value(const struct hfs_attr *a, const json_t *v, json_t **out)
{
	json_t *conv = NULL;
	const char *s = json_string_value(v);
	char *end;
	long long n;

	*out = NULL;
	if (s && is_num_kind(a->kind)) {
		n = strtoll(s, &end, 10);
		if (end == s || *end)
			return 1;
		conv = json_integer(n);
	} else if (s && is_bool_kind(a->kind)) {
		if (!strcasecmp(s, "true"))
			conv = json_true();
		else if (!strcasecmp(s, "false"))
			conv = json_false();
		else
			return 1;
	} else {
		conv = json_deep_copy(v);
	}
	if (!conv)
		return HF_ENOMEM;
	if (hfs_attr_check(a, conv, out, NULL) < 0) {
		/* keep the raw value: it simply will not match */
		*out = conv;
		return 0;
	}
	json_decref(conv);
	return 0;
}

struct nodevec {
	struct xnode **v;
	size_t n;
	size_t cap;
};

static int nodevec_push(struct nodevec *nv, struct xnode *n)
{
	if (nv->n == nv->cap) {
		size_t cap = nv->cap ? nv->cap * 2 : 4;
		struct xnode **v = hf_reallocarray(nv->v, cap, sizeof(*v));

		if (!v)
			return HF_ENOMEM;
		nv->v = v;
		nv->cap = cap;
	}
	nv->v[nv->n++] = n;
	return 0;
}

/* ---- value indexes built on first use ------------------------------------ */

/*
 * A value index is only worth keeping when values are selective: every
 * node sharing a value sits in one hash chain, which a write of one of
 * them walks. Below this many nodes per value on average it is kept.
 */
#define VINDEX_MAX_SHARE 16
#define VINDEX_SMALL     64

/* Room for one more key in each node that gets one (nothing else changes). */
static int keys_reserve(struct xnode **v, char *const *keys, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char **nk;

		if (!keys[i])
			continue;
		nk = hf_reallocarray(v[i]->keys, v[i]->nkeys + 1, sizeof(*nk));
		if (!nk)
			return HF_ENOMEM;
		v[i]->keys = nk;
	}
	return 0;
}

/* Register keys[i] for v[i]; all or nothing. Takes the keys it registers. */
static int keys_register_all(struct xbranch *b, struct xnode **v, char **keys,
                             size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (keys[i] && xmap_put(&b->idx, keys[i], v[i]) < 0)
			break;
	}
	if (i < n) {
		while (i-- > 0) {
			if (keys[i])
				xmap_del(&b->idx, keys[i], v[i]);
		}
		return HF_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		if (keys[i]) {
			v[i]->keys[v[i]->nkeys++] = keys[i];
			keys[i] = NULL;
		}
	}
	return 0;
}

/* The V keys of kind `k`'s nodes for `a` (NULL for no value); distinct. */
static int vindex_keys(const struct hfs_kind *k, const struct hfs_attr *a,
                       struct xnode **v, size_t n, char **keys, size_t *nvalues,
                       size_t *distinct)
{
	struct xmap seen = XMAP_INIT;
	hf_buf key = HF_BUF_INIT;
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < n; i++) {
		json_t *val = xn_value(v[i], a);

		if (!val || json_is_null(val))
			continue;
		hf_buf_reset(&key);
		hf_buf_addf(&key, "V" SEP "%s" SEP "%s" SEP, k->kind, a->name);
		xval_key(&key, val);
		keys[i] = hf_buf_detach(&key);
		if (!keys[i]) {
			rc = HF_ENOMEM;
			break;
		}
		(*nvalues)++;
		if (!xmap_get(&seen, keys[i])) {
			(*distinct)++;
			rc = xmap_put(&seen, keys[i], keys[i]);
		}
	}
	xmap_release(&seen);
	hf_buf_release(&key);
	return rc;
}

/*
 * Index attribute `a` of concrete kind `k` by value now (its nodes from
 * then on are indexed by xb_reindex). 1 when scanning is better (marked,
 * so it is not tried again for this mirror). All or nothing.
 */
static int vindex_build(struct xbranch *b, const struct hfs_kind *k,
                        const struct hfs_attr *a, hf_error *err)
{
	struct xnode **v;
	size_t n, i, nvalues = 0, distinct = 0;
	char **keys, vkey[300];
	int rc, keep;

	xb_kind_nodes(b, k->kind, &v, &n);
	keys = hf_calloc(n ? n : 1, sizeof(*keys));
	if (!keys)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	rc = vindex_keys(k, a, v, n, keys, &nvalues, &distinct);
	keep = nvalues < VINDEX_SMALL || distinct * VINDEX_MAX_SHARE >= nvalues;
	if (rc == 0 && keep)
		rc = keys_reserve(v, keys, n);
	if (rc == 0)
		rc = vattr_set(b, k->kind, a->name,
		               keep ? VA_INDEXED : VA_SCAN);
	if (rc == 0 && keep) {
		rc = keys_register_all(b, v, keys, n);
		if (rc < 0) {
			snprintf(vkey, sizeof(vkey), "%s" SEP "%s", k->kind,
			         a->name);
			xmap_del(&b->vattrs, vkey, NULL);
		}
	}
	for (i = 0; i < n; i++)
		hf_free(keys[i]);
	hf_free(keys);
	if (rc < 0)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	return keep ? 0 : 1;
}

int xb_index_each(struct xbranch *b, const char *ck, const char *attr,
                  const char *vkey, xnode_fn fn, void *payload, hf_error *err)
{
	const struct hfs_kind *k = hfs_schema_kind(b->schema, ck);
	const struct hfs_attr *a = k ? hfs_kind_attr(k, attr) : NULL;
	hf_buf key = HF_BUF_INIT;
	struct xmap_it it;
	struct xnode *n;
	void *state;
	int rc = 0;

	if (!a)
		return 0;
	if (!a->unique) {
		state = vattr_state(b, ck, attr);
		if (!state)
			rc = vindex_build(b, k, a, err);
		else if (state == VA_SCAN)
			rc = 1;
		if (rc != 0)
			return rc;
	}
	hf_buf_addf(&key, "%c" SEP "%s" SEP "%s" SEP "%s",
	            a->unique ? 'U' : 'V', ck, attr, vkey);
	if (hf_buf_failed(&key))
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	for (n = rc == 0 ? xmap_find(&b->idx, key.ptr, &it) : NULL;
	     n && rc == 0; n = xmap_next(&it))
		rc = fn(n, payload);
	hf_buf_release(&key);
	if (rc > 0)
		rc = 0;
	return rc == HF_ENOMEM ? hf_error_set(err, rc, "out of memory") : rc;
}

static int nodevec_cb(struct xnode *n, void *payload)
{
	return nodevec_push(payload, n);
}

/* Nodes of concrete kind `ck` whose `attr` equals `value`. */
static int find_in_kind(struct xbranch *b, const char *ck, const char *attr,
                        const json_t *value, struct nodevec *nv)
{
	const struct hfs_kind *k = hfs_schema_kind(b->schema, ck);
	const struct hfs_attr *a = k ? hfs_kind_attr(k, attr) : NULL;
	hf_buf key = HF_BUF_INIT, cur = HF_BUF_INIT;
	struct xnode **v;
	json_t *norm = NULL;
	size_t i, n_nodes;
	int rc = 0;

	if (!a)
		return 0;
	rc = xnorm_value(a, value, &norm);
	if (rc != 0 || !norm)
		return rc < 0 ? rc : 0;
	xval_key(&key, norm);
	rc = hf_buf_failed(&key) ? HF_ENOMEM
	                         : xb_index_each(b, ck, attr, key.ptr,
	                                         nodevec_cb, nv, NULL);
	if (rc <= 0)
		goto out;
	rc = 0;
	xb_kind_nodes(b, ck, &v, &n_nodes);
	for (i = 0; rc == 0 && i < n_nodes; i++) {
		hf_buf_reset(&cur);
		xval_key(&cur, xn_value(v[i], a));
		if (cur.len == key.len && !memcmp(cur.ptr, key.ptr, key.len))
			rc = nodevec_push(nv, v[i]);
	}
out:
	json_decref(norm);
	hf_buf_release(&key);
	hf_buf_release(&cur);
	return rc;
}

static int find_values(struct xbranch *b, const struct hfs_kind *k,
                       const char *attr, const json_t *value,
                       struct nodevec *nv)
{
	size_t i;
	int rc = 0;

	if (!k)
		return 0;
	if (!k->is_generic)
		return find_in_kind(b, k->kind, attr, value, nv);
	for (i = 0; rc == 0 && i < k->used_by.n; i++)
		rc = find_in_kind(b, k->used_by.v[i], attr, value, nv);
	return rc;
}

int xb_find_value(struct xbranch *b, const struct hfs_kind *k, const char *attr,
                  const json_t *value, struct xnode **out, hf_error *err)
{
	struct nodevec nv = { NULL, 0, 0 };
	int rc = find_values(b, k, attr, value, &nv);

	*out = nv.n ? nv.v[0] : NULL;
	hf_free(nv.v);
	return rc < 0 ? hf_error_set(err, HF_ENOMEM, "out of memory") : 0;
}

struct xnode *xb_find_hkey(struct xbranch *b, const char *kind,
                           const char *parts)
{
	hf_buf key = HF_BUF_INIT;
	struct xnode *n;

	hf_buf_addf(&key, "H" SEP "%s%s", kind, parts);
	n = hf_buf_failed(&key) ? NULL : xmap_get(&b->idx, key.ptr);
	hf_buf_release(&key);
	return n;
}

struct hfid_walk {
	struct xbranch *b;
	const struct hfs_kind *k;
	const json_t *hfid;
	struct xnode *found;
};

/* Try every way to fill HFID components i.. into `key`. */
static int hfid_try(struct hfid_walk *w, size_t i, hf_buf *key)
{
	const char *comp = json_string_value(json_array_get(w->hfid, i));
	struct nodevec nv = { NULL, 0, 0 };
	const struct hfs_attr *a;
	const struct hfs_rel *r;
	struct xsplit sp;
	json_t *cv, *norm = NULL;
	size_t len = key->len, j;
	int rc = 0;

	if (i == w->k->hfid.n) {
		w->found = xb_find_hkey(w->b, w->k->kind, key->ptr);
		return 0;
	}
	if (!comp)
		return 0;
	xsplit_path(&sp, w->k->hfid.v[i]);
	cv = json_string(comp);
	a = hfs_kind_attr(w->k, sp.p[0]);
	r = a ? NULL : hfs_kind_rel(w->k, sp.p[0]);
	if (a) {
		rc = xnorm_value(a, cv, &norm);
		if (rc == 0 && norm) {
			hf_buf_add(key, SEP);
			xval_key(key, norm);
			rc = hfid_try(w, i + 1, key);
		}
	} else if (r && sp.n >= 2) {
		rc = find_values(w->b, hfs_schema_kind(w->b->schema, r->peer),
		                 sp.p[1], cv, &nv);
		for (j = 0; rc == 0 && !w->found && j < nv.n; j++) {
			hf_buf_setlen(key, len);
			hf_buf_addf(key, SEP "p%s", nv.v[j]->id);
			rc = hfid_try(w, i + 1, key);
		}
	}
	hf_buf_setlen(key, len);
	json_decref(norm);
	json_decref(cv);
	hf_free(nv.v);
	return rc;
}

int xb_find_hfid(struct xbranch *b, const struct hfs_kind *k,
                 const json_t *hfid, struct xnode **out, hf_error *err)
{
	struct hfid_walk w = { b, NULL, hfid, NULL };
	hf_buf key = HF_BUF_INIT;
	size_t i, nk = k->is_generic ? k->used_by.n : 1;
	int rc = 0;

	*out = NULL;
	for (i = 0; rc == 0 && !w.found && i < nk; i++) {
		w.k = k->is_generic
		              ? hfs_schema_kind(b->schema, k->used_by.v[i])
		              : k;
		if (!w.k || w.k->hfid.n != json_array_size(hfid))
			continue;
		hf_buf_reset(&key);
		rc = hfid_try(&w, 0, &key);
	}
	hf_buf_release(&key);
	*out = w.found;
	return rc < 0 ? hf_error_set(err, HF_ENOMEM, "out of memory") : 0;
}
