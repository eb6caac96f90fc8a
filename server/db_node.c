/*
 * Nodes and relationship edges on a branch. Main is written as versions
 * (the current row moves to the history table, stamped with the sequence
 * that closed it); a branch writes its own rows and tombstones and reads
 * main as of its base sequence underneath them.
 */
#include <string.h>

#include "db_int.h"
#include "hf/alloc.h"

#include "hf/banned.h"

static int oom(hf_error *err)
{
	return hf_error_set(err, HF_ENOMEM, "out of memory");
}

static int eq_text(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Copy column i (NULL stays NULL) into *out when out is not NULL. */
static int take_col(struct db_st *s, int i, char **out)
{
	const char *v;

	if (!out)
		return 0;
	v = db_col_text(s, i);
	*out = NULL;
	if (!v)
		return 0;
	*out = hf_strdup(v);
	return *out ? 0 : HF_ENOMEM;
}

/* ---- node rows ----------------------------------------------------------- */

int db_main_node(hfs_db *db, const char *id, long long asof, char **kind,
                 char **data, hf_error *err)
{
	struct db_st s;
	int rc;

	rc = db_stmt(db, asof < 0 ? ST_NM_GET : ST_NM_ASOF, &s, err);
	if (rc < 0)
		return rc;
	db_bind_text(&s, 1, id);
	if (asof >= 0)
		db_bind_int(&s, 2, asof);
	rc = sqlite3_step(s.st);
	if (rc == SQLITE_ROW) {
		rc = take_col(&s, 0, kind);
		if (rc == 0)
			rc = take_col(&s, 1, data);
		if (rc < 0)
			rc = oom(err);
	} else if (rc == SQLITE_DONE) {
		rc = hf_error_set(err, HF_ENOTFOUND, "node '%s' not found", id);
	} else {
		rc = db_sqlerr(db, rc, err);
	}
	db_stmt_done(db, &s);
	return rc;
}

/*
 * A node as the branch sees it. *kind and *data (either may be NULL) are
 * copies the caller frees. HF_ENOTFOUND when absent or deleted.
 */
static int view_node(hfs_db *db, const struct db_br *br, const char *id,
                     char **kind, char **data, hf_error *err)
{
	struct db_st s;
	int rc;

	if (br->is_main)
		return db_main_node(db, id, -1, kind, data, err);
	rc = db_stmt(db, ST_NB_GET, &s, err);
	if (rc < 0)
		return rc;
	db_bind_int(&s, 1, br->bid);
	db_bind_text(&s, 2, id);
	rc = sqlite3_step(s.st);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_int(s.st, 2)) {
			rc = hf_error_set(err, HF_ENOTFOUND,
			                  "node '%s' not found", id);
		} else {
			rc = take_col(&s, 0, kind);
			if (rc == 0)
				rc = take_col(&s, 1, data);
			if (rc < 0)
				rc = oom(err);
		}
		db_stmt_done(db, &s);
		return rc;
	}
	db_stmt_done(db, &s);
	if (rc != SQLITE_DONE)
		return db_sqlerr(db, rc, err);
	return db_main_node(db, id, br->base, kind, data, err);
}

/* Close main's current version of `id` at `seq` (no-op when absent). */
static int main_node_close(hfs_db *db, const char *id, long long seq, int drop,
                           hf_error *err)
{
	struct db_st s;
	int rc;

	rc = db_stmt(db, ST_NM_CLOSE, &s, err);
	if (rc < 0)
		return rc;
	db_bind_text(&s, 1, id);
	db_bind_int(&s, 2, seq);
	rc = db_step_done(db, &s, err);
	db_stmt_done(db, &s);
	if (rc < 0 || !drop)
		return rc;
	rc = db_stmt(db, ST_NM_DELETE, &s, err);
	if (rc < 0)
		return rc;
	db_bind_text(&s, 1, id);
	rc = db_step_done(db, &s, err);
	db_stmt_done(db, &s);
	return rc;
}

static int main_node_insert(hfs_db *db, const char *id, const char *kind,
                            const char *data, long long seq, hf_error *err)
{
	struct db_st s;
	int rc;

	rc = db_stmt(db, ST_NM_INSERT, &s, err);
	if (rc < 0)
		return rc;
	db_bind_text(&s, 1, id);
	db_bind_text(&s, 2, kind);
	db_bind_text(&s, 3, data);
	db_bind_int(&s, 4, seq);
	rc = db_step_done(db, &s, err);
	db_stmt_done(db, &s);
	return rc;
}

static int main_node_update(hfs_db *db, const char *id, const char *data,
                            long long seq, hf_error *err)
{
	struct db_st s;
	int rc;

	rc = main_node_close(db, id, seq, 0, err);
	if (rc < 0)
		return rc;
	rc = db_stmt(db, ST_NM_UPDATE, &s, err);
	if (rc < 0)
		return rc;
	db_bind_text(&s, 1, id);
	db_bind_text(&s, 2, data);
	db_bind_int(&s, 3, seq);
	rc = db_step_done(db, &s, err);
	db_stmt_done(db, &s);
	return rc;
}

int db_main_node_put(hfs_db *db, const char *id, const char *kind,
                     const char *data, long long seq, hf_error *err)
{
	int rc = db_main_node(db, id, -1, NULL, NULL, err);

	if (rc == HF_ENOTFOUND) {
		hf_error_clear(err);
		return main_node_insert(db, id, kind, data, seq, err);
	}
	if (rc < 0)
		return rc;
	return main_node_update(db, id, data, seq, err);
}

static int branch_node_put(hfs_db *db, const struct db_br *br, const char *id,
                           const char *kind, const char *data, long long seq,
                           hf_error *err)
{
	struct db_st s;
	int rc;

	rc = db_stmt(db, ST_NB_PUT, &s, err);
	if (rc < 0)
		return rc;
	db_bind_int(&s, 1, br->bid);
	db_bind_text(&s, 2, id);
	db_bind_text(&s, 3, kind);
	db_bind_text(&s, 4, data);
	db_bind_int(&s, 5, data ? 0 : 1);
	db_bind_int(&s, 6, seq);
	rc = db_step_done(db, &s, err);
	db_stmt_done(db, &s);
	return rc;
}

/* ---- node API ------------------------------------------------------------ */

static int check_create(hfs_db *db, const struct db_br *br, const char *id,
                        hf_error *err)
{
	int rc;

	if (!hfs_db_is_uuid(id))
		return hf_error_set(err, HF_EINVAL, "%s is not a valid UUID",
		                    id);
	rc = view_node(db, br, id, NULL, NULL, err);
	if (rc == 0)
		return hf_error_set(err, HF_EINVAL, "%s is already in use", id);
	if (rc != HF_ENOTFOUND)
		return rc;
	hf_error_clear(err);
	return 0;
}

int hfs_db_node_create(hfs_db *db, const char *branch, const char *kind,
                       const char *id, const json_t *data,
                       char out_id[HFS_UUID_LEN + 1], hf_error *err)
{
	char gen[HFS_UUID_LEN + 1];
	struct db_br br;
	char *text = NULL;
	long long seq;
	int rc;

	if (!kind || !json_is_object(data))
		return hf_error_set(err, HF_EINVAL,
		                    "node needs a kind and an object");
	rc = db_branch_resolve(db, branch, &br, err);
	if (rc == 0 && id)
		rc = check_create(db, &br, id, err);
	if (rc < 0)
		return rc;
	if (!id) {
		hfs_db_uuid(gen);
		id = gen;
	}
	text = db_json_text(data);
	if (!text)
		return oom(err);
	rc = db_op_begin(db, err);
	if (rc < 0)
		goto out;
	rc = db_next_seq(db, &seq, err);
	if (rc == 0 && br.is_main)
		rc = main_node_insert(db, id, kind, text, seq, err);
	else if (rc == 0)
		rc = branch_node_put(db, &br, id, kind, text, seq, err);
	rc = db_op_end(db, rc);
	if (rc == 0 && out_id)
		memcpy(out_id, id, HFS_UUID_LEN + 1);
out:
	hf_free(text);
	return rc;
}

int hfs_db_node_get(hfs_db *db, const char *branch, const char *id, char **kind,
                    json_t **data, hf_error *err)
{
	struct db_br br;
	char *text = NULL;
	int rc;

	if (kind)
		*kind = NULL;
	if (data)
		*data = NULL;
	rc = db_branch_resolve(db, branch, &br, err);
	if (rc == 0)
		rc = view_node(db, &br, id, kind, data ? &text : NULL, err);
	if (rc == 0 && data)
		rc = db_json_parse(text, data, err);
	if (rc < 0 && kind) {
		hf_free(*kind);
		*kind = NULL;
	}
	hf_free(text);
	return rc;
}

int hfs_db_node_update(hfs_db *db, const char *branch, const char *id,
                       const json_t *data, hf_error *err)
{
	char *kind = NULL, *old = NULL, *text = NULL;
	struct db_br br;
	long long seq;
	int rc;

	if (!json_is_object(data))
		return hf_error_set(err, HF_EINVAL, "node data is no object");
	rc = db_branch_resolve(db, branch, &br, err);
	if (rc == 0)
		rc = view_node(db, &br, id, &kind, &old, err);
	if (rc < 0)
		goto out;
	text = db_json_text(data);
	if (!text) {
		rc = oom(err);
		goto out;
	}
	if (eq_text(text, old))
		goto out;
	rc = db_op_begin(db, err);
	if (rc < 0)
		goto out;
	rc = db_next_seq(db, &seq, err);
	if (rc == 0 && br.is_main)
		rc = main_node_update(db, id, text, seq, err);
	else if (rc == 0)
		rc = branch_node_put(db, &br, id, kind, text, seq, err);
	rc = db_op_end(db, rc);
out:
	hf_free(kind);
	hf_free(old);
	hf_free(text);
	return rc;
}

/* ---- edge reads ---------------------------------------------------------- */

struct eq {
	int what; /* enum db_eread */
	const char *i;
	const char *x;
	const char *n;
};

static const char *edge_peer(const struct eq *q, const struct hfs_edge *e)
{
	if (q->what == ER_PEERS)
		return strcmp(e->src, q->x) == 0 &&
		                       strcmp(e->src_rel, q->n) == 0
		               ? e->dst
		               : e->src;
	if (q->what == ER_NODE)
		return strcmp(e->src, q->x) == 0 ? e->dst : e->src;
	return e->dst;
}

static int edge_row(hfs_db *db, struct db_st *s, const struct eq *q,
                    hfs_edge_cb cb, void *payload, hf_error *err)
{
	struct hfs_edge e;
	const char *props;
	int rc;

	e.identifier = db_col_text(s, 0);
	e.src = db_col_text(s, 1);
	e.src_rel = db_col_text(s, 2);
	e.dst = db_col_text(s, 3);
	e.props = NULL;
	props = db_col_text(s, 4);
	if (!e.identifier || !e.src || !e.src_rel || !e.dst)
		return db_sqlerr(db, SQLITE_NOMEM, err);
	if (props) {
		rc = db_json_parse(props, &e.props, err);
		if (rc < 0)
			return rc;
	}
	e.peer = edge_peer(q, &e);
	rc = cb(&e, payload);
	json_decref(e.props);
	return rc;
}

static int edge_read(hfs_db *db, const struct db_br *br, const struct eq *q,
                     hfs_edge_cb cb, void *payload, hf_error *err)
{
	struct db_st s;
	int rc;

	rc = db_stmt(db, ST_EREAD + (br->is_main ? 0 : 4) + q->what, &s, err);
	if (rc < 0)
		return rc;
	db_bind_nint(&s, ":s", br->base);
	db_bind_nint(&s, ":b", br->bid);
	db_bind_ntext(&s, ":i", q->i);
	db_bind_ntext(&s, ":x", q->x);
	db_bind_ntext(&s, ":n", q->n);
	for (;;) {
		rc = sqlite3_step(s.st);
		if (rc == SQLITE_DONE) {
			rc = 0;
			break;
		}
		if (rc != SQLITE_ROW) {
			rc = db_sqlerr(db, rc, err);
			break;
		}
		rc = edge_row(db, &s, q, cb, payload, err);
		if (rc != 0)
			break;
	}
	db_stmt_done(db, &s);
	return rc > 0 ? 0 : rc;
}

/* Collected copies of edges, for reads followed by writes. */
struct ecopy {
	char *identifier, *src, *src_rel, *dst;
};

struct evec {
	struct ecopy *v;
	size_t n, cap;
};

static void evec_release(struct evec *ev)
{
	for (size_t i = 0; i < ev->n; i++) {
		hf_free(ev->v[i].identifier);
		hf_free(ev->v[i].src);
		hf_free(ev->v[i].src_rel);
		hf_free(ev->v[i].dst);
	}
	hf_free(ev->v);
	ev->v = NULL;
	ev->n = ev->cap = 0;
}

static int evec_add(const struct hfs_edge *e, void *payload)
{
	struct evec *ev = payload;
	struct ecopy *c;

	if (ev->n == ev->cap) {
		size_t cap = ev->cap ? ev->cap * 2 : 16;
		void *p = hf_reallocarray(ev->v, cap, sizeof(*ev->v));

		if (!p)
			return HF_ENOMEM;
		ev->v = p;
		ev->cap = cap;
	}
	c = &ev->v[ev->n++];
	c->identifier = hf_strdup(e->identifier);
	c->src = hf_strdup(e->src);
	c->src_rel = hf_strdup(e->src_rel);
	c->dst = hf_strdup(e->dst);
	if (!c->identifier || !c->src || !c->src_rel || !c->dst)
		return HF_ENOMEM;
	return 0;
}

static int edge_collect(hfs_db *db, const struct db_br *br, const struct eq *q,
                        struct evec *ev, hf_error *err)
{
	int rc = edge_read(db, br, q, evec_add, ev, err);

	if (rc == HF_ENOMEM)
		return oom(err);
	return rc;
}

/* ---- edge rows ----------------------------------------------------------- */

static void bind_ekey(struct db_st *s, const struct hfs_edge *e)
{
	db_bind_text(s, 1, e->identifier);
	db_bind_text(s, 2, e->src);
	db_bind_text(s, 3, e->src_rel);
	db_bind_text(s, 4, e->dst);
}

/* A visible edge's props (copy, may be NULL) and created sequence. */
struct evis {
	int live;
	char *props;
	long long created;
};

static int edge_lookup(hfs_db *db, int idx, const struct hfs_edge *e,
                       long long arg, struct evis *out, hf_error *err)
{
	struct db_st s;
	int rc;

	rc = db_stmt(db, idx, &s, err);
	if (rc < 0)
		return rc;
	bind_ekey(&s, e);
	if (idx != ST_EM_GET)
		db_bind_int(&s, 5, arg);
	rc = sqlite3_step(s.st);
	if (rc == SQLITE_ROW) {
		out->live = idx == ST_EB_GET ? !sqlite3_column_int(s.st, 2) : 1;
		out->created = (long long)sqlite3_column_int64(s.st, 1);
		rc = take_col(&s, 0, &out->props) < 0 ? oom(err) : 1;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = db_sqlerr(db, rc, err);
	}
	db_stmt_done(db, &s);
	return rc;
}

/* Whether the edge is live on the branch; fills *out (props to free). */
static int view_edge(hfs_db *db, const struct db_br *br,
                     const struct hfs_edge *e, struct evis *out, hf_error *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (br->is_main) {
		rc = edge_lookup(db, ST_EM_GET, e, 0, out, err);
		return rc < 0 ? rc : 0;
	}
	rc = edge_lookup(db, ST_EB_GET, e, br->bid, out, err);
	if (rc < 0)
		return rc;
	if (rc > 0)
		return 0;
	rc = edge_lookup(db, ST_EM_ASOF, e, br->base, out, err);
	return rc < 0 ? rc : 0;
}

static int run_ekey(hfs_db *db, int idx, const struct hfs_edge *e,
                    const char *props, long long a, long long b, hf_error *err)
{
	struct db_st s;
	int rc;

	rc = db_stmt(db, idx, &s, err);
	if (rc < 0)
		return rc;
	bind_ekey(&s, e);
	if (idx == ST_EM_CLOSE) {
		db_bind_int(&s, 5, a);
	} else if (idx == ST_EM_UPDATE) {
		db_bind_text(&s, 5, props);
		db_bind_int(&s, 6, a);
	} else if (idx == ST_EM_INSERT) {
		db_bind_text(&s, 5, props);
		db_bind_int(&s, 6, a);
		db_bind_int(&s, 7, b);
	}
	rc = db_step_done(db, &s, err);
	db_stmt_done(db, &s);
	return rc;
}

int db_main_edge_put(hfs_db *db, const struct hfs_edge *e, const char *props,
                     long long created, long long seq, hf_error *err)
{
	struct evis v = { 0, NULL, 0 };
	int rc;

	rc = edge_lookup(db, ST_EM_GET, e, 0, &v, err);
	if (rc == 0)
		rc = run_ekey(db, ST_EM_INSERT, e, props, created, seq, err);
	else if (rc > 0 && eq_text(v.props, props))
		rc = 0;
	else if (rc > 0 &&
	         (rc = run_ekey(db, ST_EM_CLOSE, e, NULL, seq, 0, err)) == 0)
		rc = run_ekey(db, ST_EM_UPDATE, e, props, seq, 0, err);
	hf_free(v.props);
	return rc;
}

int db_main_edge_del(hfs_db *db, const struct hfs_edge *e, long long seq,
                     hf_error *err)
{
	int rc = run_ekey(db, ST_EM_CLOSE, e, NULL, seq, 0, err);

	if (rc == 0)
		rc = run_ekey(db, ST_EM_DELETE, e, NULL, 0, 0, err);
	return rc;
}

static int branch_edge_put(hfs_db *db, const struct db_br *br,
                           const struct hfs_edge *e, const char *props,
                           long long created, long long seq, int deleted,
                           hf_error *err)
{
	struct db_st s;
	int rc;

	rc = db_stmt(db, ST_EB_PUT, &s, err);
	if (rc < 0)
		return rc;
	bind_ekey(&s, e);
	db_bind_int(&s, 5, br->bid);
	db_bind_text(&s, 6, props);
	db_bind_int(&s, 7, deleted);
	db_bind_int(&s, 8, created);
	db_bind_int(&s, 9, seq);
	rc = db_step_done(db, &s, err);
	db_stmt_done(db, &s);
	return rc;
}

/* Remove a live edge at `seq` (inside an op). */
static int edge_del(hfs_db *db, const struct db_br *br,
                    const struct hfs_edge *e, long long created, long long seq,
                    hf_error *err)
{
	if (br->is_main)
		return db_main_edge_del(db, e, seq, err);
	return branch_edge_put(db, br, e, NULL, created, seq, 1, err);
}

static int evec_delete(hfs_db *db, const struct db_br *br,
                       const struct evec *ev, long long seq, hf_error *err)
{
	int rc = 0;

	for (size_t i = 0; i < ev->n && rc == 0; i++) {
		struct hfs_edge e = {
			ev->v[i].identifier, ev->v[i].src, ev->v[i].src_rel,
			ev->v[i].dst,        NULL,         NULL
		};

		rc = edge_del(db, br, &e, 0, seq, err);
	}
	return rc;
}

/* ---- node delete (needs the edge helpers) -------------------------------- */

int db_main_node_del(hfs_db *db, const char *id, long long seq, hf_error *err)
{
	struct db_br main = { 1, 0, 1, 0 };
	struct eq q = { ER_NODE, NULL, id, NULL };
	struct evec ev = { NULL, 0, 0 };
	int rc;

	rc = edge_collect(db, &main, &q, &ev, err);
	if (rc == 0)
		rc = evec_delete(db, &main, &ev, seq, err);
	if (rc == 0)
		rc = main_node_close(db, id, seq, 1, err);
	evec_release(&ev);
	return rc;
}

int hfs_db_node_delete(hfs_db *db, const char *branch, const char *id,
                       hf_error *err)
{
	struct eq q = { ER_NODE, NULL, id, NULL };
	struct evec ev = { NULL, 0, 0 };
	char *kind = NULL;
	struct db_br br;
	long long seq;
	int rc;

	rc = db_branch_resolve(db, branch, &br, err);
	if (rc == 0)
		rc = view_node(db, &br, id, &kind, NULL, err);
	if (rc < 0)
		goto out;
	rc = db_op_begin(db, err);
	if (rc < 0)
		goto out;
	rc = db_next_seq(db, &seq, err);
	if (rc == 0 && br.is_main) {
		rc = db_main_node_del(db, id, seq, err);
	} else if (rc == 0) {
		rc = edge_collect(db, &br, &q, &ev, err);
		if (rc == 0)
			rc = evec_delete(db, &br, &ev, seq, err);
		if (rc == 0)
			rc = branch_node_put(db, &br, id, kind, NULL, seq, err);
	}
	rc = db_op_end(db, rc);
out:
	evec_release(&ev);
	hf_free(kind);
	return rc;
}

/* ---- edge API ------------------------------------------------------------ */

static int check_edge(const struct hfs_edge *e, hf_error *err)
{
	if (!e->identifier || !e->src || !e->src_rel || !e->dst)
		return hf_error_set(err, HF_EINVAL, "incomplete edge");
	return 0;
}

static int edge_put(hfs_db *db, const struct db_br *br,
                    const struct hfs_edge *e, const char *props,
                    const struct evis *v, hf_error *err)
{
	long long seq;
	int rc;

	rc = db_op_begin(db, err);
	if (rc < 0)
		return rc;
	rc = db_next_seq(db, &seq, err);
	if (rc == 0 && br->is_main)
		rc = db_main_edge_put(db, e, props, seq, seq, err);
	else if (rc == 0)
		rc = branch_edge_put(db, br, e, props,
		                     v->live ? v->created : seq, seq, 0, err);
	return db_op_end(db, rc);
}

int hfs_db_edge_add(hfs_db *db, const char *branch, const struct hfs_edge *e,
                    hf_error *err)
{
	struct evis v = { 0, NULL, 0 };
	char *props = NULL;
	struct db_br br;
	int rc;

	rc = check_edge(e, err);
	if (rc == 0)
		rc = db_branch_resolve(db, branch, &br, err);
	if (rc < 0)
		return rc;
	if (e->props && !json_is_null(e->props)) {
		props = db_json_text(e->props);
		if (!props)
			return oom(err);
	}
	rc = view_edge(db, &br, e, &v, err);
	if (rc == 0 && !(v.live && eq_text(v.props, props)))
		rc = edge_put(db, &br, e, props, &v, err);
	hf_free(v.props);
	hf_free(props);
	return rc;
}

int hfs_db_edge_remove(hfs_db *db, const char *branch, const struct hfs_edge *e,
                       hf_error *err)
{
	struct evis v = { 0, NULL, 0 };
	struct db_br br;
	long long seq;
	int rc;

	rc = check_edge(e, err);
	if (rc == 0)
		rc = db_branch_resolve(db, branch, &br, err);
	if (rc == 0)
		rc = view_edge(db, &br, e, &v, err);
	hf_free(v.props);
	if (rc < 0)
		return rc;
	if (!v.live)
		return hf_error_set(err, HF_ENOTFOUND,
		                    "no relationship %s from %s to %s",
		                    e->identifier, e->src, e->dst);
	rc = db_op_begin(db, err);
	if (rc < 0)
		return rc;
	rc = db_next_seq(db, &seq, err);
	if (rc == 0)
		rc = edge_del(db, &br, e, v.created, seq, err);
	return db_op_end(db, rc);
}

static int check_rel(const struct hfs_db_side *rel, hf_error *err)
{
	if (!rel->node || !rel->name || !rel->identifier)
		return hf_error_set(err, HF_EINVAL, "incomplete relationship");
	return 0;
}

int hfs_db_peers(hfs_db *db, const char *branch, const struct hfs_db_side *rel,
                 hfs_edge_cb cb, void *payload, hf_error *err)
{
	struct eq q = { ER_PEERS, rel->identifier, rel->node, rel->name };
	struct db_br br;
	int rc;

	rc = check_rel(rel, err);
	if (rc == 0)
		rc = db_branch_resolve(db, branch, &br, err);
	if (rc == 0)
		rc = edge_read(db, &br, &q, cb, payload, err);
	return rc;
}

int hfs_db_peers_clear(hfs_db *db, const char *branch,
                       const struct hfs_db_side *rel, hf_error *err)
{
	struct eq q = { ER_PEERS, rel->identifier, rel->node, rel->name };
	struct evec ev = { NULL, 0, 0 };
	struct db_br br;
	long long seq;
	int rc;

	rc = check_rel(rel, err);
	if (rc == 0)
		rc = db_branch_resolve(db, branch, &br, err);
	if (rc == 0)
		rc = edge_collect(db, &br, &q, &ev, err);
	if (rc < 0 || ev.n == 0)
		goto out;
	rc = db_op_begin(db, err);
	if (rc < 0)
		goto out;
	rc = db_next_seq(db, &seq, err);
	if (rc == 0)
		rc = evec_delete(db, &br, &ev, seq, err);
	rc = db_op_end(db, rc);
out:
	evec_release(&ev);
	return rc;
}

int hfs_db_edges_by_identifier(hfs_db *db, const char *branch,
                               const char *identifier, hfs_edge_cb cb,
                               void *payload, hf_error *err)
{
	struct eq q = { ER_IDENT, identifier, NULL, NULL };
	struct db_br br;
	int rc;

	if (!identifier)
		return hf_error_set(err, HF_EINVAL, "no identifier");
	rc = db_branch_resolve(db, branch, &br, err);
	if (rc == 0)
		rc = edge_read(db, &br, &q, cb, payload, err);
	return rc;
}

int hfs_db_node_edges(hfs_db *db, const char *branch, const char *node,
                      hfs_edge_cb cb, void *payload, hf_error *err)
{
	struct eq q = { ER_NODE, NULL, node, NULL };
	struct db_br br;
	int rc;

	if (!node)
		return hf_error_set(err, HF_EINVAL, "no node");
	rc = db_branch_resolve(db, branch, &br, err);
	if (rc == 0)
		rc = edge_read(db, &br, &q, cb, payload, err);
	return rc;
}

/* ---- node listings ------------------------------------------------------- */

/* A JSON array text of strings (hf_free), or NULL with *rc set. */
static char *string_array(const char *const *v, size_t n, hf_error *err,
                          int *rc)
{
	json_t *a = json_array();
	char *text = NULL;

	for (size_t i = 0; a && i < n; i++) {
		if (json_array_append_new(a, json_string(v[i])) < 0) {
			*rc = hf_error_set(err, HF_EINVAL,
			                   "bad string in a node query");
			goto out;
		}
	}
	text = a ? db_json_text(a) : NULL;
	if (!text)
		*rc = oom(err);
out:
	json_decref(a);
	return text;
}

struct nlist {
	struct db_br br;
	struct db_st s;
	char *kinds;
	char *ids;
};

static int nlist_open(hfs_db *db, const char *branch,
                      const struct hfs_node_query *q, int count,
                      struct nlist *nl, hf_error *err)
{
	int rc = 0, v;

	memset(nl, 0, sizeof(*nl));
	rc = db_branch_resolve(db, branch, &nl->br, err);
	if (rc < 0)
		return rc;
	if (q && q->kinds)
		nl->kinds = string_array(q->kinds, q->nkinds, err, &rc);
	if (rc == 0 && q && q->ids)
		nl->ids = string_array(q->ids, q->nids, err, &rc);
	if (rc < 0)
		return rc;
	v = (nl->kinds ? 1 : 0) | (nl->ids ? 2 : 0) | (count ? 4 : 0) |
	    (nl->br.is_main ? 0 : 8);
	rc = db_stmt(db, ST_NLIST + v, &nl->s, err);
	if (rc < 0)
		return rc;
	db_bind_nint(&nl->s, ":s", nl->br.base);
	db_bind_nint(&nl->s, ":b", nl->br.bid);
	db_bind_ntext(&nl->s, ":k", nl->kinds);
	db_bind_ntext(&nl->s, ":i", nl->ids);
	return 0;
}

static void nlist_close(hfs_db *db, struct nlist *nl)
{
	db_stmt_done(db, &nl->s);
	hf_free(nl->kinds);
	hf_free(nl->ids);
}

static int node_row(struct db_st *s, int skip, hfs_node_cb cb, void *payload,
                    hf_error *err)
{
	struct hfs_node n;
	int rc;

	n.id = db_col_text(s, 0);
	n.kind = db_col_text(s, 1);
	n.data = NULL;
	if (!n.id || !n.kind)
		return oom(err);
	if (!skip) {
		rc = db_json_parse(db_col_text(s, 2), &n.data, err);
		if (rc < 0)
			return rc;
	}
	rc = cb(&n, payload);
	json_decref(n.data);
	return rc;
}

int hfs_db_node_list(hfs_db *db, const char *branch,
                     const struct hfs_node_query *q, hfs_node_cb cb,
                     void *payload, hf_error *err)
{
	int skip = q ? q->skip_data : 0;
	struct nlist nl;
	int rc;

	rc = nlist_open(db, branch, q, 0, &nl, err);
	while (rc == 0) {
		rc = sqlite3_step(nl.s.st);
		if (rc == SQLITE_DONE) {
			rc = 0;
			break;
		}
		if (rc != SQLITE_ROW) {
			rc = db_sqlerr(db, rc, err);
			break;
		}
		rc = node_row(&nl.s, skip, cb, payload, err);
	}
	nlist_close(db, &nl);
	return rc > 0 ? 0 : rc;
}

int hfs_db_node_count(hfs_db *db, const char *branch,
                      const struct hfs_node_query *q, size_t *out,
                      hf_error *err)
{
	struct nlist nl;
	int rc;

	*out = 0;
	rc = nlist_open(db, branch, q, 1, &nl, err);
	if (rc == 0) {
		rc = sqlite3_step(nl.s.st);
		if (rc == SQLITE_ROW) {
			*out = (size_t)sqlite3_column_int64(nl.s.st, 0);
			rc = 0;
		} else {
			rc = db_sqlerr(db, rc, err);
		}
	}
	nlist_close(db, &nl);
	return rc;
}

/* ---- dump ---------------------------------------------------------------- */

static int dump_node(const struct hfs_node *n, void *payload)
{
	json_t *o = json_pack("{s:s, s:s, s:O}", "id", n->id, "kind", n->kind,
	                      "data", n->data);

	return json_array_append_new(payload, o) < 0 ? HF_ENOMEM : 0;
}

static int dump_edge(const struct hfs_edge *e, void *payload)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:O?}", "identifier",
	                      e->identifier, "src", e->src, "src_rel",
	                      e->src_rel, "dst", e->dst, "props", e->props);

	return json_array_append_new(payload, o) < 0 ? HF_ENOMEM : 0;
}

int hfs_db_dump(hfs_db *db, const char *branch, json_t **out, hf_error *err)
{
	struct eq q = { ER_ALL, NULL, NULL, NULL };
	json_t *nodes = json_array(), *edges = json_array();
	struct db_br br;
	int rc;

	*out = NULL;
	if (!nodes || !edges) {
		rc = oom(err);
		goto out;
	}
	rc = hfs_db_node_list(db, branch, NULL, dump_node, nodes, err);
	if (rc == 0)
		rc = db_branch_resolve(db, branch, &br, err);
	if (rc == 0)
		rc = edge_read(db, &br, &q, dump_edge, edges, err);
	if (rc == HF_ENOMEM)
		rc = oom(err);
	if (rc == 0) {
		*out = json_pack("{s:O, s:O}", "nodes", nodes, "edges", edges);
		if (!*out)
			rc = oom(err);
	}
out:
	json_decref(nodes);
	json_decref(edges);
	return rc;
}
