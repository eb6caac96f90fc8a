/*
 * Branches: naming rules, the branch table, and the three-way comparison
 * behind validate, merge and rebase.
 *
 * For every node a branch wrote, three versions meet: main as of the
 * branch's base sequence (base), main now (cur) and the branch row (br,
 * or a tombstone). Fields are the top-level keys of the data object; a
 * field changed on both sides to different values is a conflict, as is a
 * node deleted on one side and changed on the other. Merge replays the
 * branch's changed fields over cur; rebase writes that same result back
 * into the branch row and moves the base.
 */
#include <string.h>

#include "db_int.h"
#include "hf/alloc.h"
#include "hf/buf.h"

#include "hf/banned.h"

#define NAME_MIN 3
#define NAME_MAX 250

static int oom(hf_error *err)
{
	return hf_error_set(err, HF_ENOMEM, "out of memory");
}

/* ---- names --------------------------------------------------------------- */

static int has_suffix(const char *s, size_t n, const char *suf)
{
	size_t k = strlen(suf);

	/* Python's `$` also matches before a final newline. */
	if (n > 0 && s[n - 1] == '\n' && n - 1 >= k &&
	    memcmp(s + n - 1 - k, suf, k) == 0)
		return 1;
	return n >= k && memcmp(s + n - k, suf, k) == 0;
}

static int bad_char(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 040 || c == 0177 || strchr(" ~^:?*[", c))
			return 1;
	}
	return 0;
}

/* Whether s is valid UTF-8 (no overlong forms, no surrogates). */
static int utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned c;
	size_t n, i;

	while (*p) {
		c = *p;
		n = c < 0x80                 ? 1
		    : c >= 0xc2 && c <= 0xdf ? 2
		    : c >= 0xe0 && c <= 0xef ? 3
		    : c >= 0xf0 && c <= 0xf4 ? 4
		                             : 0;
		if (!n)
			return 0;
		for (i = 1; i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				return 0;
		if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) ||
		    (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))
			return 0;
		p += n;
	}
	return 1;
}

/* Length in code points, as Python counts it. */
static size_t utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

int hfs_db_branch_check_name(const char *name, hf_error *err)
{
	hf_buf why = HF_BUF_INIT;
	size_t n;
	int rc = 0;

	if (!name)
		return hf_error_set(err, HF_EINVAL, "name is mandatory");
	n = strlen(name);
	if (!utf8_valid(name))
		return hf_error_set(err, HF_EINVAL,
		                    "Branch name is not valid UTF-8");
	/* The checks and their wording follow infrahub/core/branch.py. */
	if (strstr(name, "/."))
		hf_buf_add(&why, ", /.");
	if (strstr(name, ".."))
		hf_buf_add(&why, ", ..");
	if (name[0] == '/')
		hf_buf_add(&why, ", starts with /");
	if (strstr(name, "//"))
		hf_buf_add(&why, ", //");
	if (strstr(name, "@{"))
		hf_buf_add(&why, ", @{");
	if (strchr(name, '\\'))
		hf_buf_add(&why, ", backslash (\\)");
	if (bad_char(name))
		hf_buf_add(&why, ", disallowed ASCII characters/patterns");
	if (has_suffix(name, n, ".lock"))
		hf_buf_add(&why, ", ends with .lock");
	if (has_suffix(name, n, "/"))
		hf_buf_add(&why, ", ends with /");
	if (has_suffix(name, n, "."))
		hf_buf_add(&why, ", ends with .");
	if (hf_buf_failed(&why))
		rc = oom(err);
	else if (why.len)
		rc = hf_error_set(err, HF_EINVAL,
		                  "Branch name contains invalid patterns or "
		                  "characters: %s",
		                  why.ptr + 2);
	else if (utf8_len(name) < NAME_MIN)
		rc = hf_error_set(err, HF_EINVAL,
		                  "invalid field name: String "
		                  "should have at least %d characters",
		                  NAME_MIN);
	else if (utf8_len(name) > NAME_MAX)
		rc = hf_error_set(err, HF_EINVAL,
		                  "invalid field name: String "
		                  "should have at most %d characters",
		                  NAME_MAX);
	hf_buf_release(&why);
	return rc;
}

/* ---- the branch table ---------------------------------------------------- */

#define BR_COLS                                                            \
	"id, name, description, origin_branch, branched_from, created_at," \
	" sync_with_git, is_default, has_schema_changes, status"

static int adhoc(hfs_db *db, const char *sql, sqlite3_stmt **out, hf_error *err)
{
	int rc = sqlite3_prepare_v2(db->sql, sql, -1, out, NULL);

	return rc == SQLITE_OK ? 0 : db_sqlerr(db, rc, err);
}

static json_t *branch_row(sqlite3_stmt *st)
{
	const char *f[6];

	for (int i = 0; i < 6; i++) {
		f[i] = (const char *)sqlite3_column_text(st, i);
		if (!f[i])
			return NULL;
	}
	return json_pack(
	        "{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:b, "
	        "s:b, s:s}",
	        "id", f[0], "name", f[1], "description", f[2], "origin_branch",
	        f[3], "branched_from", f[4], "created_at", f[5],
	        "sync_with_git", sqlite3_column_int(st, 6), "is_default",
	        sqlite3_column_int(st, 7), "is_isolated", 1,
	        "has_schema_changes", sqlite3_column_int(st, 8), "status",
	        sqlite3_column_text(st, 9)
	                ? (const char *)sqlite3_column_text(st, 9)
	                : "OPEN");
}

/*
 * Run a branch SELECT with one text parameter; the rows go into an array
 * (`list`) or the single row into *out (HF_ENOTFOUND when none).
 */
static int branch_query(hfs_db *db, const char *sql, const char *arg, int list,
                        json_t **out, hf_error *err)
{
	sqlite3_stmt *st = NULL;
	json_t *arr = NULL, *o;
	int rc;

	*out = NULL;
	rc = adhoc(db, sql, &st, err);
	if (rc < 0)
		return rc;
	if (arg)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	arr = json_array();
	while (arr && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		o = branch_row(st);
		if (json_array_append_new(arr, o) < 0)
			break;
	}
	if (!arr || (rc != SQLITE_DONE && rc != SQLITE_ROW))
		rc = arr ? db_sqlerr(db, rc, err) : oom(err);
	else if (rc == SQLITE_ROW)
		rc = oom(err);
	else if (!list && json_array_size(arr) == 0)
		rc = hf_error_set(err, HF_ENOTFOUND, "Branch: %s not found.",
		                  arg ? arg : "");
	else
		rc = 0;
	if (rc == 0)
		*out = list ? json_incref(arr)
		            : json_incref(json_array_get(arr, 0));
	json_decref(arr);
	sqlite3_finalize(st);
	return rc;
}

int hfs_db_branch_get(hfs_db *db, const char *name, json_t **out, hf_error *err)
{
	return branch_query(db, "SELECT " BR_COLS " FROM branch WHERE name=?1",
	                    name, 0, out, err);
}

int hfs_db_branch_get_by_id(hfs_db *db, const char *id, json_t **out,
                            hf_error *err)
{
	return branch_query(db, "SELECT " BR_COLS " FROM branch WHERE id=?1",
	                    id, 0, out, err);
}

int hfs_db_branch_list(hfs_db *db, json_t **out, hf_error *err)
{
	return branch_query(db,
	                    "SELECT " BR_COLS " FROM branch ORDER BY"
	                    " is_default DESC, bid",
	                    NULL, 1, out, err);
}

/* Parameters ?1..?4 of a one-off statement; unused ones are skipped. */
struct bargs {
	const char *t1;
	const char *t2;
	long long i3;
	long long i4;
};

static int branch_exec(hfs_db *db, const char *sql, const struct bargs *a,
                       hf_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc, n;

	rc = adhoc(db, sql, &st, err);
	if (rc < 0)
		return rc;
	n = sqlite3_bind_parameter_count(st);
	if (n >= 1)
		sqlite3_bind_text(st, 1, a->t1, -1, SQLITE_STATIC);
	if (n >= 2)
		sqlite3_bind_text(st, 2, a->t2, -1, SQLITE_STATIC);
	if (n >= 3)
		sqlite3_bind_int64(st, 3, (sqlite3_int64)a->i3);
	if (n >= 4)
		sqlite3_bind_int64(st, 4, (sqlite3_int64)a->i4);
	rc = sqlite3_step(st);
	rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : db_sqlerr(db, rc, err);
	sqlite3_finalize(st);
	return rc;
}

int hfs_db_branch_update(hfs_db *db, const char *name, const char *description,
                         hf_error *err)
{
	struct bargs a = { name, description ? description : "", 0, 0 };
	struct db_br br;
	int rc = db_branch_resolve(db, name, &br, err);

	if (rc < 0)
		return rc;
	return branch_exec(db, "UPDATE branch SET description=?2 WHERE name=?1",
	                   &a, err);
}

int hfs_db_branch_set_schema_changed(hfs_db *db, const char *name, int changed,
                                     hf_error *err)
{
	struct bargs a = { name, NULL, changed ? 1 : 0, 0 };
	struct db_br br;
	int rc = db_branch_resolve(db, name, &br, err);

	if (rc < 0)
		return rc;
	return branch_exec(db,
	                   "UPDATE branch SET has_schema_changes=?3"
	                   " WHERE name=?1",
	                   &a, err);
}

/* Copy meta key "schema:<from>" to "schema:<to>" when it exists. */
static int copy_schema(hfs_db *db, const char *from, const char *to,
                       hf_error *err)
{
	hf_buf kf = HF_BUF_INIT, kt = HF_BUF_INIT;
	char *v = NULL;
	int rc;

	hf_buf_addf(&kf, "schema:%s", from);
	hf_buf_addf(&kt, "schema:%s", to);
	if (hf_buf_failed(&kf) || hf_buf_failed(&kt)) {
		rc = oom(err);
		goto out;
	}
	rc = hfs_db_meta_get(db, kf.ptr, &v, err);
	if (rc == HF_ENOTFOUND) {
		hf_error_clear(err);
		rc = 0;
	} else if (rc == 0) {
		rc = hfs_db_meta_set(db, kt.ptr, v, err);
	}
out:
	hf_free(v);
	hf_buf_release(&kf);
	hf_buf_release(&kt);
	return rc;
}

static int check_create(hfs_db *db, const struct hfs_branch_input *in,
                        hf_error *err)
{
	struct db_br br;
	json_t *o = NULL;
	int rc;

	rc = hfs_db_branch_check_name(in->name, err);
	if (rc < 0)
		return rc;
	if (db_branch_resolve(db, in->name, &br, NULL) == 0)
		return hf_error_set(err, HF_EINVAL,
		                    "The branch %s, already exist", in->name);
	if (in->origin_branch &&
	    strcmp(in->origin_branch, hfs_db_main(db)) != 0)
		return hf_error_set(err, HF_EINVAL,
		                    "origin_branch must be '%s'",
		                    hfs_db_main(db));
	if (!in->id)
		return 0;
	if (!hfs_db_is_uuid(in->id))
		return hf_error_set(err, HF_EINVAL, "%s is not a valid UUID",
		                    in->id);
	rc = hfs_db_branch_get_by_id(db, in->id, &o, NULL);
	json_decref(o);
	if (rc == 0)
		return hf_error_set(err, HF_EINVAL, "%s is already in use",
		                    in->id);
	return 0;
}

static int insert_branch(hfs_db *db, const struct hfs_branch_input *in,
                         const char *id, long long seq, hf_error *err)
{
	sqlite3_stmt *st = NULL;
	char now[40];
	int rc;

	db_now(now, sizeof(now));
	rc = adhoc(db,
	           "INSERT INTO branch(id, name, description,"
	           " origin_branch, branched_from, created_at, sync_with_git,"
	           " is_default, has_schema_changes, base_seq)"
	           " VALUES(?1, ?2, ?3, (SELECT name FROM branch WHERE"
	           " is_default = 1), ?4, ?4, ?5, 0, 0, ?6)",
	           &st, err);
	if (rc < 0)
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, in->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, in->description ? in->description : "", -1,
	                  SQLITE_STATIC);
	sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, in->sync_with_git == 0 ? 0 : 1);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)seq);
	rc = sqlite3_step(st);
	rc = rc == SQLITE_DONE ? 0 : db_sqlerr(db, rc, err);
	sqlite3_finalize(st);
	return rc;
}

int hfs_db_branch_create(hfs_db *db, const struct hfs_branch_input *in,
                         json_t **out, hf_error *err)
{
	char gen[HFS_UUID_LEN + 1];
	long long seq;
	int rc;

	if (out)
		*out = NULL;
	rc = check_create(db, in, err);
	if (rc < 0)
		return rc;
	if (!in->id)
		hfs_db_uuid(gen);
	rc = db_op_begin(db, err);
	if (rc < 0)
		return rc;
	rc = db_next_seq(db, &seq, err);
	if (rc == 0)
		rc = insert_branch(db, in, in->id ? in->id : gen, seq, err);
	if (rc == 0)
		rc = copy_schema(db, hfs_db_main(db), in->name, err);
	rc = db_op_end(db, rc);
	if (rc == 0 && out)
		rc = hfs_db_branch_get(db, in->name, out, err);
	return rc;
}

/* Drop a branch's private rows (and with `all`, the branch itself). */
static int clear_branch(hfs_db *db, const char *name, const struct db_br *br,
                        int all, hf_error *err)
{
	struct bargs a = { name, NULL, br->bid, 0 };
	int rc;

	rc = branch_exec(db, "DELETE FROM node_br WHERE bid=?3", &a, err);
	if (rc == 0)
		rc = branch_exec(db, "DELETE FROM edge_br WHERE bid=?3", &a,
		                 err);
	if (rc == 0 && all)
		rc = branch_exec(db, "DELETE FROM branch WHERE name=?1", &a,
		                 err);
	if (rc == 0 && all)
		rc = branch_exec(db, "DELETE FROM meta WHERE key='schema:'||?1",
		                 &a, err);
	return rc;
}

int hfs_db_branch_delete(hfs_db *db, const char *name, hf_error *err)
{
	struct db_br br;
	int rc;

	rc = db_branch_resolve(db, name, &br, err);
	if (rc < 0)
		return rc;
	if (br.is_main)
		return hf_error_set(err, HF_EINVAL,
		                    "Unable to delete %s it is the default "
		                    "branch.",
		                    name);
	rc = db_op_begin(db, err);
	if (rc < 0)
		return rc;
	rc = clear_branch(db, name, &br, 1, err);
	return db_op_end(db, rc);
}

/* ---- three-way comparison ------------------------------------------------ */

/* One node the branch wrote, and what merging it means. */
struct mnode {
	char *id;
	char *kind;
	char *bdata; /* the branch row; NULL for a tombstone */
	char *merged; /* cur with the branch's changes; NULL when n/a */
	int action;
};

enum { MA_SKIP, MA_PUT, MA_DEL };

/* One edge row the branch wrote. */
struct medge {
	char *identifier, *src, *src_rel, *dst, *props;
	long long created;
	int deleted;
};

struct mplan {
	const char *branch;
	struct db_br br;
	struct mnode *nodes;
	size_t nnodes;
	struct medge *edges;
	size_t nedges;
	json_t *conflicts; /* array of strings */
};

static void mplan_release(struct mplan *p)
{
	for (size_t i = 0; i < p->nnodes; i++) {
		hf_free(p->nodes[i].id);
		hf_free(p->nodes[i].kind);
		hf_free(p->nodes[i].bdata);
		hf_free(p->nodes[i].merged);
	}
	for (size_t i = 0; i < p->nedges; i++) {
		hf_free(p->edges[i].identifier);
		hf_free(p->edges[i].src);
		hf_free(p->edges[i].src_rel);
		hf_free(p->edges[i].dst);
		hf_free(p->edges[i].props);
	}
	hf_free(p->nodes);
	hf_free(p->edges);
	json_decref(p->conflicts);
	memset(p, 0, sizeof(*p));
}

static char *col_dup(sqlite3_stmt *st, int i, int *bad)
{
	const char *v = (const char *)sqlite3_column_text(st, i);
	char *c;

	if (!v)
		return NULL;
	c = hf_strdup(v);
	if (!c)
		*bad = 1;
	return c;
}

static int load_nodes(hfs_db *db, struct mplan *p, hf_error *err)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc, bad = 0;

	rc = adhoc(db,
	           "SELECT id, kind, data, deleted FROM node_br"
	           " WHERE bid=?1 ORDER BY id",
	           &st, err);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)p->br.bid);
	while (!bad && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct mnode *n;

		if (p->nnodes == cap) {
			cap = cap ? cap * 2 : 64;
			n = hf_reallocarray(p->nodes, cap, sizeof(*n));
			if (!n) {
				bad = 1;
				break;
			}
			p->nodes = n;
		}
		n = &p->nodes[p->nnodes++];
		memset(n, 0, sizeof(*n));
		n->id = col_dup(st, 0, &bad);
		n->kind = col_dup(st, 1, &bad);
		n->bdata =
		        sqlite3_column_int(st, 3) ? NULL : col_dup(st, 2, &bad);
	}
	sqlite3_finalize(st);
	if (bad)
		return oom(err);
	return rc == SQLITE_DONE ? 0 : db_sqlerr(db, rc, err);
}

static int load_edges(hfs_db *db, struct mplan *p, hf_error *err)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc, bad = 0;

	rc = adhoc(db,
	           "SELECT identifier, src, src_rel, dst, props, created,"
	           " deleted FROM edge_br WHERE bid=?1 ORDER BY created, src,"
	           " dst",
	           &st, err);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)p->br.bid);
	while (!bad && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct medge *e;

		if (p->nedges == cap) {
			cap = cap ? cap * 2 : 64;
			e = hf_reallocarray(p->edges, cap, sizeof(*e));
			if (!e) {
				bad = 1;
				break;
			}
			p->edges = e;
		}
		e = &p->edges[p->nedges++];
		memset(e, 0, sizeof(*e));
		e->identifier = col_dup(st, 0, &bad);
		e->src = col_dup(st, 1, &bad);
		e->src_rel = col_dup(st, 2, &bad);
		e->dst = col_dup(st, 3, &bad);
		e->props = col_dup(st, 4, &bad);
		e->created = (long long)sqlite3_column_int64(st, 5);
		e->deleted = sqlite3_column_int(st, 6);
	}
	sqlite3_finalize(st);
	if (bad)
		return oom(err);
	return rc == SQLITE_DONE ? 0 : db_sqlerr(db, rc, err);
}

static int conflict(struct mplan *p, const char *id, const char *field,
                    const char *kind, const char *why)
{
	hf_buf b = HF_BUF_INIT;
	json_t *s;

	hf_buf_addf(&b, "data/%s", id);
	if (field)
		hf_buf_addf(&b, "/%s", field);
	hf_buf_addf(&b, " (%s): %s", kind, why);
	if (hf_buf_failed(&b))
		return HF_ENOMEM;
	s = json_string(b.ptr);
	hf_buf_release(&b);
	if (!s)
		s = json_string("conflict (bad utf-8)");
	return json_array_append_new(p->conflicts, s) < 0 ? HF_ENOMEM : 0;
}

static int json_same(const json_t *a, const json_t *b)
{
	if (!a || !b)
		return a == b;
	return json_equal(a, b);
}

/* Apply the branch's changed fields of `br` (against `base`) to `cur`. */
static int merge_fields(struct mplan *p, struct mnode *n, json_t *base,
                        json_t *br, json_t *cur)
{
	json_t *keys = json_object();
	const char *k;
	json_t *v;
	int rc = 0;

	if (!keys)
		return HF_ENOMEM;
	json_object_foreach(base, k, v) json_object_set(keys, k, json_true());
	json_object_foreach(br, k, v) json_object_set(keys, k, json_true());
	json_object_foreach(keys, k, v)
	{
		json_t *b0 = json_object_get(base, k);
		json_t *b1 = json_object_get(br, k);
		json_t *c = json_object_get(cur, k);

		if (json_same(b0, b1))
			continue;
		if (!json_same(b0, c) && !json_same(b1, c)) {
			rc = conflict(p, n->id, k, n->kind,
			              "changed on both branches");
			if (rc < 0)
				break;
			continue;
		}
		if (b1)
			rc = json_object_set(cur, k, b1);
		else
			json_object_del(cur, k);
		if (rc < 0)
			break;
	}
	json_decref(keys);
	return rc < 0 ? HF_ENOMEM : 0;
}

static int plan_update(struct mplan *p, struct mnode *n, const char *base,
                       const char *cur, hf_error *err)
{
	json_t *jb = NULL, *jr = NULL, *jc = NULL;
	size_t before = json_array_size(p->conflicts);
	int rc;

	rc = db_json_parse(base, &jb, err);
	if (rc == 0)
		rc = db_json_parse(n->bdata, &jr, err);
	if (rc == 0)
		rc = db_json_parse(cur, &jc, err);
	if (rc == 0 && (rc = merge_fields(p, n, jb, jr, jc)) < 0)
		rc = oom(err);
	if (rc == 0 && json_array_size(p->conflicts) == before) {
		n->merged = db_json_text(jc);
		if (!n->merged)
			rc = oom(err);
		else
			n->action = strcmp(n->merged, cur) ? MA_PUT : MA_SKIP;
	}
	json_decref(jb);
	json_decref(jr);
	json_decref(jc);
	return rc;
}

static int main_version(hfs_db *db, const char *id, long long asof, char **data,
                        hf_error *err)
{
	int rc = db_main_node(db, id, asof, NULL, data, err);

	if (rc == HF_ENOTFOUND) {
		hf_error_clear(err);
		*data = NULL;
		return 0;
	}
	return rc;
}

static int plan_node(hfs_db *db, struct mplan *p, struct mnode *n,
                     hf_error *err)
{
	char *base = NULL, *cur = NULL;
	const char *why = NULL;
	int rc;

	rc = main_version(db, n->id, p->br.base, &base, err);
	if (rc == 0)
		rc = main_version(db, n->id, -1, &cur, err);
	if (rc < 0)
		goto out;
	if (!base && !cur && n->bdata) {
		n->action = MA_PUT;
		n->merged = hf_strdup(n->bdata);
		rc = n->merged ? 0 : oom(err);
	} else if (!base && cur && n->bdata) {
		why = "created on both branches";
	} else if (base && !cur && n->bdata && strcmp(base, n->bdata)) {
		why = "deleted on main, changed on the branch";
	} else if (base && cur && !n->bdata) {
		if (strcmp(base, cur))
			why = "changed on main, deleted on the branch";
		else
			n->action = MA_DEL;
	} else if (base && cur) {
		rc = plan_update(p, n, base, cur, err);
	}
	if (why && conflict(p, n->id, NULL, n->kind, why) < 0)
		rc = oom(err);
out:
	hf_free(base);
	hf_free(cur);
	return rc;
}

/* The node's kind on main as of the branch base, or NULL when absent. */
static char *deleted_on_main(hfs_db *db, const struct mplan *p, const char *id)
{
	char *kind = NULL;

	if (db_main_node(db, id, -1, NULL, NULL, NULL) == 0)
		return NULL;
	if (db_main_node(db, id, p->br.base, &kind, NULL, NULL) < 0)
		return NULL;
	return kind;
}

static int plan_edge(hfs_db *db, struct mplan *p, const struct medge *e)
{
	const char *ends[2] = { e->src, e->dst };
	hf_buf why = HF_BUF_INIT;
	int rc = 0;

	if (e->deleted)
		return 0;
	for (int i = 0; i < 2 && rc == 0; i++) {
		char *kind = deleted_on_main(db, p, ends[i]);

		if (!kind)
			continue;
		hf_buf_reset(&why);
		hf_buf_addf(&why,
		            "deleted on main, linked through %s on the "
		            "branch",
		            e->identifier);
		rc = hf_buf_failed(&why)
		             ? HF_ENOMEM
		             : conflict(p, ends[i], i ? NULL : e->src_rel, kind,
		                        why.ptr);
		hf_free(kind);
	}
	hf_buf_release(&why);
	return rc;
}

/* Load the branch's rows and fill p->conflicts and the node actions. */
static int plan(hfs_db *db, const char *name, struct mplan *p, hf_error *err)
{
	int rc;

	memset(p, 0, sizeof(*p));
	p->branch = name;
	rc = db_branch_resolve(db, name, &p->br, err);
	if (rc < 0)
		return rc;
	p->conflicts = json_array();
	if (!p->conflicts)
		return oom(err);
	rc = load_nodes(db, p, err);
	if (rc == 0)
		rc = load_edges(db, p, err);
	for (size_t i = 0; rc == 0 && i < p->nnodes; i++)
		rc = plan_node(db, p, &p->nodes[i], err);
	for (size_t i = 0; rc == 0 && i < p->nedges; i++)
		if (plan_edge(db, p, &p->edges[i]) < 0)
			rc = oom(err);
	return rc;
}

int hfs_db_branch_validate(hfs_db *db, const char *name, json_t **out,
                           hf_error *err)
{
	struct mplan p;
	int rc;

	*out = NULL;
	rc = plan(db, name, &p, err);
	if (rc == 0)
		*out = json_incref(p.conflicts);
	mplan_release(&p);
	return rc;
}

/* "<prefix>: c1, c2" into err, returning HF_ECONFLICT. */
static int conflict_error(const struct mplan *p, const char *verb,
                          hf_error *err)
{
	hf_buf b = HF_BUF_INIT;
	size_t i;
	json_t *c;

	json_array_foreach(p->conflicts, i, c)
	        hf_buf_addf(&b, "%s%s", i ? ", " : "", json_string_value(c));
	hf_error_set(err, HF_ECONFLICT,
	             "Unable to %s the branch '%s', validation failed: %s",
	             verb, p->branch,
	             hf_buf_failed(&b) ? "(out of memory)" : b.ptr);
	hf_buf_release(&b);
	return HF_ECONFLICT;
}

/* ---- merge --------------------------------------------------------------- */

static int apply_nodes(hfs_db *db, const struct mplan *p, long long seq,
                       hf_error *err)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < p->nnodes; i++) {
		const struct mnode *n = &p->nodes[i];

		if (n->action == MA_PUT)
			rc = db_main_node_put(db, n->id, n->kind, n->merged,
			                      seq, err);
		else if (n->action == MA_DEL)
			rc = db_main_node_del(db, n->id, seq, err);
	}
	return rc;
}

static int apply_edges(hfs_db *db, const struct mplan *p, long long seq,
                       hf_error *err)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < p->nedges; i++) {
		const struct medge *m = &p->edges[i];
		struct hfs_edge e = { m->identifier, m->src, m->src_rel,
			              m->dst,        NULL,   NULL };

		if (m->deleted)
			rc = db_main_edge_del(db, &e, seq, err);
		else
			rc = db_main_edge_put(db, &e, m->props, m->created, seq,
			                      err);
	}
	return rc;
}

/* Move the branch's base to `seq` and branched_from to now. */
static int move_base(hfs_db *db, const char *name, long long seq, hf_error *err)
{
	char now[40];
	struct bargs a = { name, now, seq, 0 };

	db_now(now, sizeof(now));
	return branch_exec(db,
	                   "UPDATE branch SET branched_from=?2,"
	                   " base_seq=?3 WHERE name=?1",
	                   &a, err);
}

static int merge_apply(hfs_db *db, const struct mplan *p, hf_error *err)
{
	struct bargs a = { p->branch, NULL, 0, 0 };
	long long seq;
	int rc;

	rc = db_next_seq(db, &seq, err);
	if (rc == 0)
		rc = apply_nodes(db, p, seq, err);
	if (rc == 0)
		rc = apply_edges(db, p, seq, err);
	if (rc == 0 && p->br.schema_changed)
		rc = copy_schema(db, p->branch, hfs_db_main(db), err);
	if (rc == 0)
		rc = clear_branch(db, p->branch, &p->br, 0, err);
	if (rc == 0)
		rc = move_base(db, p->branch, seq, err);
	if (rc == 0)
		rc = branch_exec(db,
		                 "UPDATE branch SET has_schema_changes=0"
		                 " WHERE name=?1",
		                 &a, err);
	return rc;
}

int hfs_db_branch_written(hfs_db *db, const char *name, json_t **ids,
                          hf_error *err)
{
	sqlite3_stmt *st = NULL;
	json_t *out = json_array();
	int rc;

	*ids = NULL;
	if (!out)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	rc = adhoc(db,
	           "SELECT n.id FROM node_br n JOIN branch b ON b.bid = n.bid"
	           " WHERE b.name = ?1 AND n.deleted = 0 ORDER BY n.id",
	           &st, err);
	if (rc < 0) {
		json_decref(out);
		return rc;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (json_array_append_new(
		            out, json_string((const char *)sqlite3_column_text(
		                         st, 0))) < 0)
			break;
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(out);
		return rc == SQLITE_ROW
		               ? hf_error_set(err, HF_ENOMEM, "out of memory")
		               : db_sqlerr(db, rc, err);
	}
	*ids = out;
	return 0;
}

static int set_status(hfs_db *db, const char *name, const char *status,
                      hf_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = adhoc(db, "UPDATE branch SET status = ?2 WHERE name = ?1", &st,
	               err);

	if (rc < 0)
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_sqlerr(db, rc, err);
}

int hfs_db_branch_merge(hfs_db *db, const char *name, hf_error *err)
{
	struct mplan p;
	int rc;

	rc = plan(db, name, &p, err);
	if (rc < 0)
		goto out;
	if (p.br.is_main) {
		rc = hf_error_set(err, HF_EINVAL,
		                  "Unable to merge the branch '%s' into itself",
		                  name);
		goto out;
	}
	if (json_array_size(p.conflicts) > 0) {
		rc = conflict_error(&p, "merge", err);
		goto out;
	}
	rc = db_op_begin(db, err);
	if (rc == 0)
		rc = db_op_end(db, merge_apply(db, &p, err));
	/* Infrahub 1.8: a merged branch is frozen
	 * (core/branch/merged_status.py) */
	if (rc == 0)
		rc = set_status(db, name, "MERGED", err);
out:
	mplan_release(&p);
	return rc;
}

/* ---- rebase -------------------------------------------------------------- */

static int rebase_apply(hfs_db *db, const struct mplan *p, hf_error *err)
{
	long long seq;
	int rc;

	rc = db_next_seq(db, &seq, err);
	for (size_t i = 0; rc == 0 && i < p->nnodes; i++) {
		const struct mnode *n = &p->nodes[i];

		if (!n->merged)
			continue;
		struct bargs a = { n->id, n->merged, seq, p->br.bid };

		rc = branch_exec(db,
		                 "UPDATE node_br SET data=?2, seq=?3"
		                 " WHERE id=?1 AND bid=?4",
		                 &a, err);
	}
	if (rc == 0 && !p->br.schema_changed)
		rc = copy_schema(db, hfs_db_main(db), p->branch, err);
	if (rc == 0)
		rc = move_base(db, p->branch, seq, err);
	return rc;
}

int hfs_db_branch_rebase(hfs_db *db, const char *name, hf_error *err)
{
	struct mplan p;
	int rc;

	rc = plan(db, name, &p, err);
	if (rc < 0)
		goto out;
	if (p.br.is_main) {
		rc = hf_error_set(err, HF_EINVAL,
		                  "Unable to rebase the branch '%s' onto "
		                  "itself",
		                  name);
		goto out;
	}
	if (json_array_size(p.conflicts) > 0) {
		rc = conflict_error(&p, "rebase", err);
		goto out;
	}
	rc = db_op_begin(db, err);
	if (rc == 0)
		rc = db_op_end(db, rebase_apply(db, &p, err));
out:
	mplan_release(&p);
	return rc;
}
