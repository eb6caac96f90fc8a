/*
 * SQLite plan store. The DDL lives in schemas/plan-store.sql (compiled in
 * as hf_plan_store_sql) so the documentation is the schema.
 */
#include <sqlite3.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hf/alloc.h"
#include "hf/jsontext.h"
#include "hf/model.h"
#include "hf/store.h"
#include "store_int.h"
#include "hf/banned.h"

extern const char hf_plan_store_sql[];

struct hf_store {
	sqlite3 *db;
	char *path;
	int readonly;
	int has_default_col; /* plans.branch_is_default (stores before v2 lack
	                        it) */
	int has_owner_cols; /* plans.stack..., changes.adopt... (v3) */
	int has_unchanged; /* the unchanged table (v4) */
	int saving_fk; /* hf_store_save_begin(): foreign_keys_off()'s answer */
};

static int db_error(hf_store *st, hf_error *err, const char *what)
{
	return hf_error_set(err, HF_ERR, "plan store '%s': %s: %s", st->path,
	                    what, sqlite3_errmsg(st->db));
}

/* Stores made before branch_is_default existed gain the column. */
static int has_column(hf_store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int ok = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) == SQLITE_OK;

	sqlite3_finalize(s);
	return ok;
}

/*
 * Stacks (v3): plans gain the stack, its group and the partial flag and
 * the delete/forget/adopt counts; changes gain adopt, cascade_of and
 * sources, and their action may be 'delete' or 'forget'. SQLite cannot
 * change a CHECK constraint in place, so a changes table whose CHECK
 * does not know 'forget' is rebuilt, rows kept.
 */
static const char plans_v3_sql[] =
        "ALTER TABLE plans ADD COLUMN stack TEXT NOT NULL DEFAULT 'default';"
        "ALTER TABLE plans ADD COLUMN group_id TEXT;"
        "ALTER TABLE plans ADD COLUMN partial INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE plans ADD COLUMN n_delete INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE plans ADD COLUMN n_forget INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE plans ADD COLUMN n_adopt INTEGER NOT NULL DEFAULT 0;";

static const char changes_v3_sql[] =
        "CREATE TABLE changes_v3 ("
        " plan_id TEXT NOT NULL REFERENCES plans(id) ON DELETE CASCADE,"
        " seq INTEGER NOT NULL, id TEXT NOT NULL,"
        " action TEXT NOT NULL CHECK (action IN"
        "  ('create', 'update', 'no-op', 'delete', 'forget')),"
        " kind TEXT NOT NULL, hfid TEXT NOT NULL, node_id TEXT, before TEXT,"
        " after TEXT, changed TEXT NOT NULL, deps TEXT NOT NULL,"
        " wave INTEGER NOT NULL, fingerprint TEXT NOT NULL,"
        " status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN"
        "  ('pending', 'applied', 'failed', 'skipped')),"
        " error TEXT, started_at REAL, finished_at REAL,"
        " adopt INTEGER NOT NULL DEFAULT 0, cascade_of TEXT, sources TEXT,"
        " PRIMARY KEY (plan_id, id));"
        "INSERT INTO changes_v3 (plan_id, seq, id, action, kind, hfid, node_id,"
        " before, after, changed, deps, wave, fingerprint, status, error,"
        " started_at, finished_at) SELECT plan_id, seq, id, action, kind, hfid,"
        " node_id, before, after, changed, deps, wave, fingerprint, status,"
        " error, started_at, finished_at FROM changes;"
        "DROP TABLE changes;"
        "ALTER TABLE changes_v3 RENAME TO changes;";

static const char changes_cols_v3_sql[] =
        "ALTER TABLE changes ADD COLUMN adopt INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE changes ADD COLUMN cascade_of TEXT;"
        "ALTER TABLE changes ADD COLUMN sources TEXT;";

/* Whether the changes table's CHECK already admits 'forget'. */
static int changes_know_forget(hf_store *st)
{
	sqlite3_stmt *s = NULL;
	const char *sql;
	int ok = 0;

	if (sqlite3_prepare_v2(
	            st->db,
	            "SELECT sql FROM sqlite_master WHERE type = 'table'"
	            " AND name = 'changes'",
	            -1, &s, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(s) == SQLITE_ROW) {
		sql = (const char *)sqlite3_column_text(s, 0);
		ok = sql && strstr(sql, "'forget'") != NULL;
	}
	sqlite3_finalize(s);
	return ok;
}

static int owner_cols_present(hf_store *st)
{
	return has_column(st, "SELECT stack, group_id, partial, n_delete,"
	                      " n_forget, n_adopt FROM plans") &&
	       has_column(st,
	                  "SELECT adopt, cascade_of, sources FROM changes") &&
	       changes_know_forget(st);
}

static int migrate_v3(hf_store *st, hf_error *err)
{
	int rc = 0;

	st->has_owner_cols = owner_cols_present(st);
	if (st->has_owner_cols || st->readonly)
		return 0;
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return db_error(st, err, "upgrade");
	if (!has_column(st, "SELECT stack FROM plans") &&
	    sqlite3_exec(st->db, plans_v3_sql, NULL, NULL, NULL) != SQLITE_OK)
		rc = db_error(st, err, "upgrade");
	if (rc == 0 && !changes_know_forget(st) &&
	    sqlite3_exec(st->db, changes_v3_sql, NULL, NULL, NULL) != SQLITE_OK)
		rc = db_error(st, err, "upgrade");
	if (rc == 0 && !has_column(st, "SELECT adopt FROM changes") &&
	    sqlite3_exec(st->db, changes_cols_v3_sql, NULL, NULL, NULL) !=
	            SQLITE_OK)
		rc = db_error(st, err, "upgrade");
	if (rc == 0 &&
	    sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = db_error(st, err, "upgrade");
	if (rc < 0) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	st->has_owner_cols = 1;
	return 0;
}

static int migrate(hf_store *st, hf_error *err)
{
	st->has_default_col =
	        has_column(st, "SELECT branch_is_default FROM plans");
	if (st->has_default_col || st->readonly)
		return migrate_v3(st, err);
	if (sqlite3_exec(
	            st->db,
	            "ALTER TABLE plans ADD COLUMN branch_is_default INTEGER"
	            " NOT NULL DEFAULT 0;"
	            "UPDATE plans SET branch_is_default = 1 WHERE branch = 'main';",
	            NULL, NULL, NULL) != SQLITE_OK)
		return db_error(st, err, "upgrade");
	st->has_default_col = 1;
	return migrate_v3(st, err);
}

/* A read-only open runs no DDL: the plans table must already be there. */
static int check_tables(hf_store *st, hf_error *err)
{
	if (!has_column(st, "SELECT id, status FROM plans") ||
	    !has_column(st, "SELECT plan_id FROM changes"))
		return hf_error_set(err, HF_EINVAL,
		                    "'%s' is not a hubform plan store",
		                    st->path);
	return 0;
}

/*
 * The store's format (PRAGMA user_version, which schemas/plan-store.sql
 * sets) is one this hubform reads: a store a newer one wrote may keep
 * plans where this one would not look (as this one keeps unchanged
 * objects where those before format 4 do not), and would be taken for
 * altered plans, or be written back in the older format.
 */
#define STORE_FORMAT 4

static int check_format(hf_store *st, hf_error *err)
{
	sqlite3_stmt *s = NULL;
	int v = 0;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) ==
	            SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (v <= STORE_FORMAT)
		return 0;
	return hf_error_set(err, HF_EINVAL,
	                    "plan store '%s' was written by a newer hubform "
	                    "(store format %d; this one reads up to %d): use "
	                    "that hubform, or another store (--state)",
	                    st->path, v, STORE_FORMAT);
}

/*
 * The tables of schemas/plan-store.sql, the older ones upgraded, then its
 * views, which name the upgraded tables' columns.
 */
static int make_tables(hf_store *st, hf_error *err)
{
	const char *views = strstr(hf_plan_store_sql, "\n-- Views:");
	char *tables = views ? hf_strndup(hf_plan_store_sql,
	                                  (size_t)(views - hf_plan_store_sql))
	                     : NULL;
	char *msg = NULL;
	int rc = 0;

	if (!tables)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	if (sqlite3_exec(st->db, "PRAGMA foreign_keys = ON;", NULL, NULL,
	                 NULL) != SQLITE_OK ||
	    sqlite3_exec(st->db, tables, NULL, NULL, &msg) != SQLITE_OK)
		rc = hf_error_set(err, HF_EINVAL,
		                  "'%s' is not a hubform plan store: %s",
		                  st->path, msg ? msg : sqlite3_errmsg(st->db));
	sqlite3_free(msg);
	hf_free(tables);
	if (rc == 0)
		rc = migrate(st, err);
	if (rc == 0 &&
	    sqlite3_exec(st->db, views, NULL, NULL, NULL) != SQLITE_OK)
		rc = db_error(st, err, "upgrade");
	return rc;
}

static int open_flags(enum hf_store_mode mode)
{
	switch (mode) {
	case HF_STORE_READONLY:
		return SQLITE_OPEN_READONLY;
	case HF_STORE_EXISTING:
		return SQLITE_OPEN_READWRITE;
	default:
		return SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	}
}

int hf_store_open_mode(hf_store **out, const char *path,
                       enum hf_store_mode mode, hf_error *err)
{
	hf_store *st;
	int rc;

	*out = NULL;
	st = hf_calloc(1, sizeof(*st));
	if (!st || !(st->path = hf_strdup(path))) {
		hf_free(st);
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	st->readonly = mode == HF_STORE_READONLY;
	if (mode != HF_STORE_CREATE && !hf_store_is_plan_file(path)) {
		rc = hf_error_set(
		        err, access(path, F_OK) ? HF_ENOTFOUND : HF_EINVAL,
		        access(path, F_OK) ? "no plan store '%s'"
		                           : "'%s' is not a hubform plan file",
		        path);
		goto fail;
	}
	/*
	 * Plans hold the values they will write, passwords included (as the
	 * object files do): a new store is readable by its owner only.
	 */
	if (mode == HF_STORE_CREATE) {
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		              0600);

		if (fd >= 0)
			close(fd);
	}
	/*
	 * One thread at a time uses a store: no lock around each of the
	 * million calls that save a large plan.
	 */
	if (sqlite3_open_v2(path, &st->db,
	                    open_flags(mode) | SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK) {
		rc = hf_error_set(
		        err, HF_EINVAL, "cannot open plan store '%s': %s", path,
		        st->db ? sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(st->db, 10000);
	/* read-only: the columns there are noted, nothing is written */
	rc = check_format(st, err);
	if (rc == 0)
		rc = st->readonly ? check_tables(st, err)
		                  : make_tables(st, err);
	if (rc == 0 && st->readonly)
		rc = migrate(st, err);
	if (rc < 0)
		goto fail;
	st->has_unchanged = has_column(st, "SELECT part FROM unchanged");
	*out = st;
	return 0;
fail:
	hf_store_close(st);
	return rc;
}

int hf_store_open(hf_store **out, const char *path, hf_error *err)
{
	return hf_store_open_mode(out, path, HF_STORE_CREATE, err);
}

/*
 * The one test of "is this a plan file?": SQLite's 16-byte header, then a
 * read-only look for the plans table. Names never count.
 */
int hf_store_is_plan_file(const char *path)
{
	static const char magic[16] = "SQLite format 3";
	char head[16];
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	struct stat sb;
	FILE *f;
	int ok;

	if (stat(path, &sb) < 0 || !S_ISREG(sb.st_mode) ||
	    !(f = fopen(path, "rb")))
		return 0;
	ok = fread(head, 1, sizeof(head), f) == sizeof(head) &&
	     !memcmp(head, magic, sizeof(magic));
	fclose(f);
	if (!ok)
		return 0;
	ok = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ==
	             SQLITE_OK &&
	     sqlite3_prepare_v2(
	             db, "SELECT id, checksum, status FROM plans LIMIT 1", -1,
	             &s, NULL) == SQLITE_OK;
	sqlite3_finalize(s);
	sqlite3_close(db);
	return ok;
}

void hf_store_close(hf_store *st)
{
	if (!st)
		return;
	sqlite3_close(st->db);
	hf_free(st->path);
	hf_free(st);
}

static int insert_plan(hf_store *st, const hf_plan *p, hf_error *err)
{
	const struct hf_plan_meta *m = hf_plan_meta_c(p);
	sqlite3_stmt *s = NULL;
	int rc;

	rc = sqlite3_prepare_v2(
	        st->db,
	        "INSERT INTO plans (id, created_at, address, branch, schema_hash,"
	        " manifest_digest, checksum, status, n_create, n_update, n_noop,"
	        " waves, branch_is_default, stack, group_id, partial, n_delete,"
	        " n_forget, n_adopt)"
	        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	        -1, &s, NULL);
	if (rc != SQLITE_OK)
		return db_error(st, err, "save");
	sqlite3_bind_text(s, 1, m->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, m->created_at, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, m->address, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, m->branch, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, m->schema_hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, m->manifest_digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, m->checksum, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, m->status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 9, (sqlite3_int64)m->n_create);
	sqlite3_bind_int64(s, 10, (sqlite3_int64)m->n_update);
	sqlite3_bind_int64(s, 11, (sqlite3_int64)m->n_noop);
	sqlite3_bind_int(s, 12, hf_plan_waves(p));
	sqlite3_bind_int(s, 13, m->branch_is_default ? 1 : 0);
	sqlite3_bind_text(s, 14, m->stack ? m->stack : "default", -1,
	                  SQLITE_STATIC);
	if (m->group_id)
		sqlite3_bind_text(s, 15, m->group_id, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 15);
	sqlite3_bind_int(s, 16, m->partial ? 1 : 0);
	sqlite3_bind_int64(s, 17, (sqlite3_int64)m->n_delete);
	sqlite3_bind_int64(s, 18, (sqlite3_int64)m->n_forget);
	sqlite3_bind_int64(s, 19, (sqlite3_int64)m->n_adopt);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc == SQLITE_CONSTRAINT)
		return hf_error_set(err, HF_EINVAL, "plan %s is already stored",
		                    m->id);
	return rc == SQLITE_DONE ? 0 : db_error(st, err, "save");
}

/*
 * A row's JSON texts, one buffer per column, kept across the rows of a
 * save: they are bound as they are (SQLITE_STATIC), so SQLite copies
 * nothing, and a row costs no allocation once the buffers have grown.
 */
struct row_text {
	hf_buf hfid, before, after, changed, deps, sources;
};

static void row_text_release(struct row_text *t)
{
	hf_buf_release(&t->hfid);
	hf_buf_release(&t->before);
	hf_buf_release(&t->after);
	hf_buf_release(&t->changed);
	hf_buf_release(&t->deps);
	hf_buf_release(&t->sources);
}

static int bind_buf(sqlite3_stmt *s, int i, const hf_buf *b)
{
	return sqlite3_bind_text64(s, i, b->ptr, b->len, SQLITE_STATIC,
	                           SQLITE_UTF8);
}

/* `j`'s text in `b`, bound at column i; NULL binds NULL. */
static int bind_json(sqlite3_stmt *s, int i, const json_t *j, hf_buf *b)
{
	int rc;

	if (!j)
		return sqlite3_bind_null(s, i);
	hf_buf_reset(b);
	rc = hf_json_write(b, j, 0);
	if (rc == HF_ENOMEM)
		return SQLITE_NOMEM;
	if (rc < 0)
		return SQLITE_MISUSE;
	return bind_buf(s, i, b);
}

static int bind_str(sqlite3_stmt *s, int i, const char *str)
{
	return str ? sqlite3_bind_text(s, i, str, -1, SQLITE_STATIC)
	           : sqlite3_bind_null(s, i);
}

/*
 * before and after: a no-op in text form is its text twice
 * (hf_change.text); an unchanged object's one tree is written once.
 */
static int bind_fields(sqlite3_stmt *s, const struct hf_change *c,
                       struct row_text *t)
{
	size_t n;
	int rc;

	if (hf_change_is_text(c)) {
		n = strlen(c->text);
		rc = sqlite3_bind_text64(s, 8, c->text, n, SQLITE_STATIC,
		                         SQLITE_UTF8);
		return rc == SQLITE_OK
		               ? sqlite3_bind_text64(s, 9, c->text, n,
		                                     SQLITE_STATIC, SQLITE_UTF8)
		               : rc;
	}
	rc = bind_json(s, 8, c->before, &t->before);
	if (rc != SQLITE_OK)
		return rc;
	if (c->after && c->after == c->before)
		return bind_buf(s, 9, &t->before);
	return bind_json(s, 9, c->after, &t->after);
}

/* The sources column, from either form (hf_change_sources_write). */
static int bind_sources(sqlite3_stmt *s, int i, const struct hf_change *c,
                        hf_buf *b)
{
	int rc;

	hf_buf_reset(b);
	rc = hf_change_sources_write(c, b, 0);
	if (rc < 0)
		return rc == HF_ENOMEM ? SQLITE_NOMEM : SQLITE_MISUSE;
	return rc ? bind_buf(s, i, b) : sqlite3_bind_null(s, i);
}

static int insert_change(sqlite3_stmt *s, const char *plan_id, int seq,
                         const struct hf_change *c, struct row_text *t)
{
	sqlite3_reset(s);
	sqlite3_bind_text(s, 1, plan_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, seq);
	sqlite3_bind_text(s, 3, c->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, hf_action_str(c->action), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, c->kind, -1, SQLITE_STATIC);
	/* a kind without an HFID: the JSON null, the column stays NOT NULL */
	if ((c->hfid ? bind_json(s, 6, c->hfid, &t->hfid)
	             : sqlite3_bind_text(s, 6, "null", 4, SQLITE_STATIC)) !=
	            SQLITE_OK ||
	    bind_sources(s, 17, c, &t->sources) != SQLITE_OK ||
	    bind_fields(s, c, t) != SQLITE_OK ||
	    bind_json(s, 10, c->changed, &t->changed) != SQLITE_OK ||
	    bind_json(s, 11, c->deps, &t->deps) != SQLITE_OK)
		return SQLITE_NOMEM;
	bind_str(s, 7, c->node_id);
	sqlite3_bind_int(s, 12, c->wave);
	sqlite3_bind_text(s, 13, c->fingerprint, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 14, hf_change_status_str(c->status), -1,
	                  SQLITE_STATIC);
	sqlite3_bind_int(s, 15, c->adopt ? 1 : 0);
	bind_str(s, 16, c->cascade_of);
	return sqlite3_step(s) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
}

/*
 * The changes in the order of the table's key (plan id, change id): each
 * row then lands at the right edge of the key's index, which stays in a
 * few cached pages; in plan order (random ids) a large plan rewrites its
 * index pages many times over (6 GB written for 1M changes). A finished
 * plan has that order already (hf_plan_by_id()); *mine is what to free.
 */
static const size_t *in_key_order(const hf_plan *p, size_t **mine)
{
	*mine = NULL;
	if (hf_plan_by_id(p))
		return hf_plan_by_id(p);
	*mine = hf_plan_sort_by_id(p);
	return *mine;
}

/*
 * The rows' action and status are what the table's CHECKs admit: the
 * statement that inserts them is then made without those checks. In
 * SQLite 3.40 a CHECK on IN ('a', 'b', ...) builds a temporary B-tree
 * for its list on every row, twice a row here: two pagers and their
 * caches allocated and freed per change, a fifth of a million-change
 * save (most of it in malloc, the heap being large and fragmented by
 * then). The pragma is read when a statement is prepared, and setting
 * it expires prepared statements (which are then prepared again at their
 * next step): it stays on until this statement is finalized
 * (finish_unchecked()). The same for the outcomes apply records
 * (hf_store_update_changes()), whose status has the same kind of CHECK.
 */
static int bad_status(const struct hf_change *c)
{
	return !strcmp(hf_change_status_str(c->status), "?");
}

static int valid_rows(const hf_plan *p, hf_error *err)
{
	const struct hf_change *c;
	size_t i;

	for (i = 0; i < hf_plan_count(p); i++) {
		c = hf_plan_at(p, i);
		if (!strcmp(hf_action_str(c->action), "?") || bad_status(c))
			return hf_error_set(err, HF_EINVAL,
			                    "change %s has no valid action or"
			                    " status",
			                    c->id);
	}
	return 0;
}

static int prepare_unchecked(hf_store *st, const char *sql, sqlite3_stmt **s)
{
	sqlite3_exec(st->db, "PRAGMA ignore_check_constraints = ON", NULL, NULL,
	             NULL);
	return sqlite3_prepare_v2(st->db, sql, -1, s, NULL);
}

static void finish_unchecked(hf_store *st, sqlite3_stmt *s)
{
	sqlite3_finalize(s);
	sqlite3_exec(st->db, "PRAGMA ignore_check_constraints = OFF", NULL,
	             NULL, NULL);
}

static const char insert_change_sql[] =
        "INSERT INTO changes (plan_id, seq, id, action, kind, hfid,"
        " node_id, before, after, changed, deps, wave, fingerprint,"
        " status, adopt, cascade_of, sources)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";

/*
 * The changes go in key order, which is no order in memory: every row
 * would wait for its change and the strings it points to to come from
 * memory (most of a large save was spent there). So the change a few
 * rows on is asked for early, and the strings of one nearer, which is
 * in the cache by then.
 */
#define AHEAD_CHANGE  16
#define AHEAD_STRINGS 8

static void prefetch_lines(const void *ptr, size_t n)
{
	const char *c = ptr;
	size_t i;

	for (i = 0; c && i < n; i += 64)
		__builtin_prefetch(c + i);
}

static void ahead(const hf_plan *p, const size_t *order, size_t n, size_t i)
{
	const struct hf_change *c;

	if (i + AHEAD_CHANGE < n)
		prefetch_lines(hf_plan_at(p, order[i + AHEAD_CHANGE]),
		               sizeof(*c));
	if (i + AHEAD_STRINGS >= n)
		return;
	c = hf_plan_at(p, order[i + AHEAD_STRINGS]);
	prefetch_lines(c->kind, 1);
	prefetch_lines(c->node_id, 1);
	prefetch_lines(c->hfid, 1);
	prefetch_lines(c->text, 256); /* a prefetch past the end is harmless */
}

static const char insert_part_sql[] =
        "INSERT INTO unchanged (plan_id, part, changes) VALUES (?, ?, ?)";

/* The part in `b` (if any) into the table; `b` emptied. */
static int put_part(hf_store *st, sqlite3_stmt *s, const char *plan_id,
                    int *part, hf_buf *b, hf_error *err)
{
	int rc;

	if (!b->len)
		return 0;
	if (hf_part_close(b) < 0)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	sqlite3_reset(s);
	sqlite3_bind_text(s, 1, plan_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, (*part)++);
	rc = bind_buf(s, 3, b) == SQLITE_OK && sqlite3_step(s) == SQLITE_DONE
	             ? 0
	             : db_error(st, err, "save unchanged objects");
	sqlite3_clear_bindings(s);
	hf_buf_reset(b);
	return rc;
}

/*
 * Foreign keys are off while a plan is saved: its changes refer to the
 * plan row the same transaction inserted first, and checking that for
 * every change was a sixth of a large save (a look-up in plans and the
 * statement's constraint count per row). The pragma does nothing inside
 * a transaction: it is turned off only outside one, and set back to what
 * it was once the save's transaction has ended. 1 when it was on.
 */
static int foreign_keys_off(hf_store *st)
{
	sqlite3_stmt *s = NULL;
	int on = 0;

	if (!sqlite3_get_autocommit(st->db))
		return -1; /* inside a transaction: left alone */
	if (sqlite3_prepare_v2(st->db, "PRAGMA foreign_keys", -1, &s, NULL) ==
	            SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		on = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (on)
		sqlite3_exec(st->db, "PRAGMA foreign_keys = OFF", NULL, NULL,
		             NULL);
	return on;
}

/*
 * Back on when they were. Not a failure of the save when it cannot be
 * (outside a transaction it always can): the plan is committed by then,
 * and the connection lasts one command.
 */
static void foreign_keys_back(hf_store *st, int was)
{
	if (was == 1)
		sqlite3_exec(st->db, "PRAGMA foreign_keys = ON", NULL, NULL,
		             NULL);
}

/*
 * The plan's unchanged objects into parts, in the plan's order (memory
 * order: the changes are read one after the other). What is not for a
 * part is listed in `rows` (plan indexes, in key order), for the table.
 */
static int save_parts(hf_store *st, const hf_plan *p, const size_t *order,
                      size_t *rows, size_t *nrows, hf_error *err)
{
	const char *id = hf_plan_meta_c(p)->id;
	size_t i, n = hf_plan_count(p), in_part = 0;
	unsigned char *is_row = hf_calloc(n ? n : 1, 1);
	sqlite3_stmt *ps = NULL;
	hf_buf part = HF_BUF_INIT;
	int rc = 0, nparts = 0;

	*nrows = 0;
	if (!is_row)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	if (sqlite3_prepare_v2(st->db, insert_part_sql, -1, &ps, NULL) !=
	    SQLITE_OK)
		rc = db_error(st, err, "save");
	for (i = 0; rc == 0 && i < n; i++) {
		const struct hf_change *c = hf_plan_at(p, i);

		if (!hf_part_takes(c)) {
			is_row[i] = 1;
			continue;
		}
		rc = hf_part_add(&part, i, c);
		if (rc < 0)
			rc = hf_error_set(err, rc,
			                  rc == HF_ENOMEM ? "out of memory"
			                                  : "change %s cannot "
			                                    "be written",
			                  c->id);
		else if (++in_part == HF_PART_CHANGES) {
			in_part = 0;
			rc = put_part(st, ps, id, &nparts, &part, err);
		}
	}
	if (rc == 0)
		rc = put_part(st, ps, id, &nparts, &part, err);
	for (i = 0; rc == 0 && i < n; i++)
		if (is_row[order[i]])
			rows[(*nrows)++] = order[i];
	sqlite3_finalize(ps);
	hf_buf_release(&part);
	hf_free(is_row);
	return rc;
}

/* The plan written in a transaction left open (rolled back on failure). */
static int save_plan(hf_store *st, const hf_plan *p, hf_error *err)
{
	const char *id = hf_plan_meta_c(p)->id;
	size_t *mine, *rows = NULL, nrows = 0, i;
	const size_t *order = in_key_order(p, &mine);
	struct row_text t = { HF_BUF_INIT, HF_BUF_INIT, HF_BUF_INIT,
		              HF_BUF_INIT, HF_BUF_INIT, HF_BUF_INIT };
	sqlite3_stmt *s = NULL;
	int rc;

	rows = order ? hf_calloc(hf_plan_count(p) ? hf_plan_count(p) : 1,
	                         sizeof(*rows))
	             : NULL;
	if (!rows) {
		hf_free(mine);
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	rc = valid_rows(p, err);
	if (rc == 0 && sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL,
	                            NULL) != SQLITE_OK)
		rc = db_error(st, err, "save");
	if (rc < 0) {
		hf_free(rows);
		hf_free(mine);
		return rc;
	}
	rc = insert_plan(st, p, err);
	if (rc == 0)
		rc = save_parts(st, p, order, rows, &nrows, err);
	if (rc == 0 &&
	    prepare_unchecked(st, insert_change_sql, &s) != SQLITE_OK)
		rc = db_error(st, err, "save");
	for (i = 0; rc == 0 && i < nrows; i++) {
		ahead(p, rows, nrows, i);
		if (insert_change(s, id, (int)rows[i], hf_plan_at(p, rows[i]),
		                  &t) != SQLITE_OK)
			rc = db_error(st, err, "save change");
	}
	finish_unchecked(st, s);
	row_text_release(&t);
	hf_free(rows);
	hf_free(mine);
	if (rc < 0)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

int hf_store_save_begin(hf_store *st, const hf_plan *p, hf_error *err)
{
	int rc;

	st->saving_fk = foreign_keys_off(st);
	rc = save_plan(st, p, err);
	if (rc < 0) {
		foreign_keys_back(st, st->saving_fk);
		st->saving_fk = 0;
	}
	return rc;
}

/* A plan is stored with its checksum only: HF_EINVAL when it has none. */
static int summed(const hf_plan *p, hf_error *err)
{
	const struct hf_plan_meta *m = hf_plan_meta_c(p);

	if (strlen(m->checksum) == 64)
		return 0;
	return hf_error_set(err, HF_EINVAL,
	                    "plan %s has no checksum: not saved", m->id);
}

int hf_store_save_commit(hf_store *st, const hf_plan *p, hf_error *err)
{
	const struct hf_plan_meta *m = hf_plan_meta_c(p);
	sqlite3_stmt *s = NULL;
	int rc = summed(p, err);

	if (rc == 0 &&
	    sqlite3_prepare_v2(st->db,
	                       "UPDATE plans SET checksum = ? WHERE id = ?", -1,
	                       &s, NULL) != SQLITE_OK)
		rc = db_error(st, err, "save");
	if (rc == 0) {
		sqlite3_bind_text(s, 1, m->checksum, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, m->id, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			rc = db_error(st, err, "save");
		else if (sqlite3_changes(st->db) != 1)
			rc = hf_error_set(err, HF_ERR,
			                  "plan store '%s': plan %s was not "
			                  "begun: nothing saved",
			                  st->path, m->id);
	}
	sqlite3_finalize(s);
	if (rc == 0 &&
	    sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = db_error(st, err, "save");
	if (rc < 0)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	foreign_keys_back(st, st->saving_fk);
	st->saving_fk = 0;
	return rc;
}

void hf_store_save_abort(hf_store *st)
{
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	foreign_keys_back(st, st->saving_fk);
	st->saving_fk = 0;
}

int hf_store_save(hf_store *st, const hf_plan *p, hf_error *err)
{
	int rc = summed(p, err);

	if (rc == 0)
		rc = hf_store_save_begin(st, p, err);
	return rc < 0 ? rc : hf_store_save_commit(st, p, err);
}

static const char *col(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* Resolve "latest", an id or a unique prefix to a full id. */
static int resolve_ref(hf_store *st, const char *ref,
                       char id[HF_PLAN_ID_LEN + 1], hf_error *err)
{
	sqlite3_stmt *s = NULL;
	int rc, n = 0;

	if (!strcmp(ref, "latest"))
		rc = sqlite3_prepare_v2(
		        st->db,
		        "SELECT id FROM plans ORDER BY created_at DESC, rowid DESC LIMIT 1",
		        -1, &s, NULL);
	else
		rc = sqlite3_prepare_v2(
		        st->db,
		        "SELECT id FROM plans WHERE substr(id, 1, length(?1)) = ?1 LIMIT 2",
		        -1, &s, NULL);
	if (rc != SQLITE_OK)
		return db_error(st, err, "load");
	if (strcmp(ref, "latest"))
		sqlite3_bind_text(s, 1, ref, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		snprintf(id, HF_PLAN_ID_LEN + 1, "%s", col(s, 0));
		n++;
	}
	sqlite3_finalize(s);
	if (n == 0)
		return hf_error_set(
		        err, HF_ENOTFOUND, "%s",
		        strcmp(ref, "latest")
		                ? "no plan with that id"
		                : "there is no plan yet; run 'hubform plan' first");
	if (n > 1 || (strcmp(ref, "latest") && strlen(ref) < 4))
		return hf_error_set(
		        err, HF_EINVAL,
		        "plan id '%s' is ambiguous; give more characters", ref);
	return 0;
}

static json_t *plan_row_json(sqlite3_stmt *s)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s,"
	                 " s:s?, s:b}",
	                 "id", col(s, 0), "created_at", col(s, 1), "address",
	                 col(s, 2), "branch", col(s, 3), "schema_hash",
	                 col(s, 4), "manifest_digest", col(s, 5), "checksum",
	                 col(s, 6), "status", col(s, 7), "branch_is_default",
	                 sqlite3_column_int(s, 8), "stack", col(s, 9),
	                 "group_id", col(s, 10), "partial",
	                 sqlite3_column_int(s, 11));
}

/* A JSON column as a tree: NULL for SQL NULL and JSON null. */
static int col_tree(sqlite3_stmt *s, int i, json_t **out)
{
	const char *t = col(s, i);
	json_error_t e;

	*out = NULL;
	if (!t)
		return 0;
	*out = json_loadb(t, (size_t)sqlite3_column_bytes(s, i),
	                  JSON_DECODE_ANY, &e);
	if (!*out)
		return json_error_code(&e) == json_error_out_of_memory
		               ? HF_ENOMEM
		               : HF_EINVAL;
	if (json_is_null(*out)) {
		json_decref(*out);
		*out = NULL;
	}
	return 0;
}

/* "changed" and "deps": the empty array all changes share, or a tree. */
static int col_list(sqlite3_stmt *s, int i, json_t *empty, json_t **out)
{
	const char *t = col(s, i);

	if (t && !strcmp(t, "[]")) {
		*out = json_incref(empty);
		return 0;
	}
	return col_tree(s, i, out);
}

/*
 * before and after: a no-op whose two are one text (as the store writes
 * them) is kept as that text (hf_change.text), as the diff makes it, not
 * as two trees; hf_plan_load_end() reads it as trees if its checksum
 * asks for them.
 */
static int col_fields(sqlite3_stmt *s, struct hf_change *c)
{
	const char *b = col(s, 5), *a = col(s, 6);
	int nb = sqlite3_column_bytes(s, 5), na = sqlite3_column_bytes(s, 6);
	int rc;

	/*
	 * The text is not made a tree here: the plan's checksum, made over
	 * the same text, vouches for its content (hf_plan_load_end()). It is
	 * checked to be JSON (no tree, no allocation): an edited plan file
	 * could hold anything its checksum was made over, and a text saved
	 * again goes where SQLite's JSON functions read it (all_changes).
	 * What is not JSON is read as trees, and fails.
	 */
	if (c->action == HF_ACT_NOOP && a && b && na == nb && b[0] == '{' &&
	    !memcmp(a, b, (size_t)nb) && hf_json_valid(b, (size_t)nb)) {
		c->text = hf_strndup(b, (size_t)nb);
		return c->text ? 0 : HF_ENOMEM;
	}
	rc = col_tree(s, 5, &c->before);
	return rc < 0 ? rc : col_tree(s, 6, &c->after);
}

/*
 * sources: one declaration as its file (hf_name()) and line, as the
 * planner records it, not a tree per change; anything else as the tree.
 */
static int col_sources(sqlite3_stmt *s, struct hf_change *c)
{
	json_t *t;
	int rc = col_tree(s, 15, &t);

	return rc < 0 ? rc : hf_part_sources(c, t);
}

static int col_copy(sqlite3_stmt *s, int i, char **out)
{
	const char *t = col(s, i);

	*out = t ? hf_strdup(t) : NULL;
	return t && !*out ? HF_ENOMEM : 0;
}

/*
 * One row of the changes table (the columns load_plan() selects) as a
 * change: HF_EINVAL when the row does not read as one, HF_ENOMEM. The
 * caller releases *c either way.
 */
static int row_change(sqlite3_stmt *s, json_t *empty, struct hf_change *c)
{
	const char *fp = col(s, 10), *status = col(s, 11);
	int rc;

	memset(c, 0, sizeof(*c));
	if (hf_action_parse(col(s, 1), &c->action) < 0 || !col(s, 2) || !fp ||
	    strlen(fp) >= sizeof(c->fingerprint) ||
	    (status && hf_change_status_parse(status, &c->status) < 0))
		return HF_EINVAL;
	memcpy(c->fingerprint, fp, strlen(fp) + 1);
	c->wave = sqlite3_column_int(s, 9);
	c->adopt = sqlite3_column_int(s, 13) != 0;
	if ((rc = col_copy(s, 2, &c->kind)) < 0 ||
	    (rc = col_copy(s, 4, &c->node_id)) < 0 ||
	    (rc = col_copy(s, 12, &c->error)) < 0 ||
	    (rc = col_copy(s, 14, &c->cascade_of)) < 0 ||
	    (rc = col_tree(s, 3, &c->hfid)) < 0 ||
	    (rc = col_fields(s, c)) < 0 ||
	    (rc = col_list(s, 7, empty, &c->changed)) < 0 ||
	    (rc = col_list(s, 8, empty, &c->deps)) < 0 ||
	    (rc = col_sources(s, c)) < 0)
		return rc;
	return 0;
}

/* A change read back, with its place in the plan and its stored id. */
struct row_at {
	sqlite3_int64 seq;
	char id[17];
	struct hf_change c;
};

/* By seq; rows a hand-edited store gives one seq go by id (stable). */
static int by_seq(const void *a, const void *b)
{
	const struct row_at *const *x = a, *const *y = b;

	if ((*x)->seq != (*y)->seq)
		return ((*x)->seq > (*y)->seq) - ((*x)->seq < (*y)->seq);
	return strcmp((*x)->id, (*y)->id);
}

struct rows {
	struct row_at *v;
	size_t n, cap;
};

static void rows_release(struct rows *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		hf_change_release(&r->v[i].c);
	hf_free(r->v);
	memset(r, 0, sizeof(*r));
}

/* Room for one more row: 0 or HF_ENOMEM. */
static int rows_room(struct rows *r)
{
	struct row_at *grown;
	size_t cap;

	if (r->n < r->cap)
		return 0;
	cap = r->cap ? r->cap * 2 : 256;
	grown = hf_reallocarray(r->v, cap, sizeof(*r->v));
	if (!grown)
		return HF_ENOMEM;
	r->v = grown;
	r->cap = cap;
	return 0;
}

/*
 * Every row of the plan, as changes. The table has no index by seq
 * (saving a plan would insert into it at random): rows come in the
 * key's order and are put in the plan's here.
 */
static int read_rows(hf_store *st, sqlite3_stmt *s, json_t *empty,
                     struct rows *r, hf_error *err)
{
	struct row_at *at;
	const char *id;
	int rc, step;

	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		if (rows_room(r) < 0)
			return hf_error_set(err, HF_ENOMEM, "out of memory");
		at = &r->v[r->n++];
		at->seq = sqlite3_column_int64(s, 16);
		id = col(s, 0);
		snprintf(at->id, sizeof(at->id), "%s", id ? id : "");
		if (id && strlen(id) >= sizeof(at->id))
			at->id[0] = '\0'; /* no change has that id */
		rc = row_change(s, empty, &at->c);
		if (rc == HF_ENOMEM)
			return hf_error_set(err, rc, "out of memory");
		if (rc < 0)
			return hf_error_set(err, HF_EINVAL,
			                    "plan store '%s': change %lld of "
			                    "the plan is malformed",
			                    st->path, (long long)at->seq);
	}
	if (step != SQLITE_DONE)
		return db_error(st, err, "load");
	return 0;
}

/*
 * The changes of one part, added to r. HF_EINVAL or HF_ENOMEM; what was
 * added is r's to release.
 */
static int read_part(const char *t, size_t n, json_t *empty, struct rows *r)
{
	struct hf_part_reader pr;
	struct row_at *at;
	int rc = hf_part_begin(&pr, t, n);

	while (rc >= 0) {
		if (rows_room(r) < 0)
			return HF_ENOMEM;
		at = &r->v[r->n++];
		rc = hf_part_next(&pr, empty, &at->seq, at->id, &at->c);
		if (rc == 0) {
			r->n--; /* the end: nothing there */
			return 0;
		}
	}
	return rc;
}

/* The plan's unchanged objects (v4 stores), added to r. */
static int read_parts(hf_store *st, const char *plan_id, json_t *empty,
                      struct rows *r, hf_error *err)
{
	sqlite3_stmt *s = NULL;
	int rc = 0, step;

	if (!st->has_unchanged)
		return 0;
	if (sqlite3_prepare_v2(st->db,
	                       "SELECT part, changes FROM unchanged"
	                       " WHERE plan_id = ? ORDER BY part",
	                       -1, &s, NULL) != SQLITE_OK)
		return db_error(st, err, "load");
	sqlite3_bind_text(s, 1, plan_id, -1, SQLITE_STATIC);
	while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW) {
		rc = read_part(col(s, 1), (size_t)sqlite3_column_bytes(s, 1),
		               empty, r);
		if (rc == HF_ENOMEM)
			rc = hf_error_set(err, rc, "out of memory");
		else if (rc < 0)
			rc = hf_error_set(
			        err, HF_EINVAL,
			        "plan store '%s': part %d of the "
			        "plan's unchanged objects is malformed",
			        st->path, sqlite3_column_int(s, 0));
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = db_error(st, err, "load");
	sqlite3_finalize(s);
	return rc;
}

/* The rows, in the plan's order, into the plan (which takes them). */
static int add_rows(hf_plan *p, struct rows *r, hf_error *err)
{
	struct row_at **order;
	size_t i;
	int rc = 0;

	order = hf_calloc(r->n ? r->n : 1, sizeof(*order));
	if (!order) {
		rows_release(r);
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	for (i = 0; i < r->n; i++)
		order[i] = &r->v[i];
	qsort(order, r->n, sizeof(*order), by_seq);
	for (i = 0; i < r->n; i++) {
		/* errors number changes by seq, as read_rows() does */
		if (rc == 0)
			rc = hf_plan_load_change(p, &order[i]->c, order[i]->id,
			                         (size_t)order[i]->seq, err);
		else
			hf_change_release(&order[i]->c);
	}
	hf_free(order);
	hf_free(r->v);
	memset(r, 0, sizeof(*r));
	return rc;
}

/* A plan's problem (not out of memory) names the store it is in. */
static int named(hf_store *st, int rc, hf_error *err)
{
	char msg[sizeof(err->msg)];
	const char *pre = "plan store '";

	if (rc == HF_ENOMEM || !err || !strncmp(err->msg, pre, strlen(pre)))
		return rc;
	snprintf(msg, sizeof(msg), "%s", err->msg);
	return hf_error_set(err, rc, "plan store '%s': %s", st->path, msg);
}

static int load_plan(hf_store *st, const char *id, hf_plan **out, hf_error *err)
{
	sqlite3_stmt *s = NULL;
	struct rows r = { NULL, 0, 0 };
	json_t *j = NULL, *empty;
	hf_plan *p = NULL;
	int rc;

	/* a read-only store from before v2/v3: the defaults those meant */
	if (sqlite3_prepare_v2(
	            st->db,
	            st->has_owner_cols
	                    ? "SELECT id, created_at, address, branch, schema_hash,"
	                      " manifest_digest, checksum, status, branch_is_default,"
	                      " stack, group_id, partial FROM plans WHERE id = ?"
	            : st->has_default_col
	                    ? "SELECT id, created_at, address, branch, schema_hash,"
	                      " manifest_digest, checksum, status, branch_is_default,"
	                      " 'default', NULL, 0 FROM plans WHERE id = ?"
	                    : "SELECT id, created_at, address, branch, schema_hash,"
	                      " manifest_digest, checksum, status, branch = 'main',"
	                      " 'default', NULL, 0 FROM plans WHERE id = ?",
	            -1, &s, NULL) != SQLITE_OK)
		return db_error(st, err, "load");
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		j = plan_row_json(s);
	sqlite3_finalize(s);
	if (!j)
		return hf_error_set(err, HF_ENOTFOUND, "no plan %s", id);
	rc = hf_plan_load_begin(&p, j, err);
	json_decref(j);
	if (rc < 0)
		return rc;
	rc = sqlite3_prepare_v2(
	        st->db,
	        st->has_owner_cols
	                ? "SELECT id, action, kind, hfid, node_id, before, after, changed,"
	                  " deps, wave, fingerprint, status, error, adopt, cascade_of,"
	                  " sources, seq FROM changes WHERE plan_id = ?"
	                : "SELECT id, action, kind, hfid, node_id, before, after, changed,"
	                  " deps, wave, fingerprint, status, error, 0, NULL, NULL,"
	                  " seq FROM changes WHERE plan_id = ?",
	        -1, &s, NULL);
	if (rc != SQLITE_OK) {
		hf_plan_free(p);
		return db_error(st, err, "load");
	}
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	empty = json_array();
	rc = empty ? read_rows(st, s, empty, &r, err)
	           : hf_error_set(err, HF_ENOMEM, "out of memory");
	sqlite3_finalize(s);
	if (rc == 0)
		rc = read_parts(st, id, empty, &r, err);
	json_decref(empty); /* the changes hold their references */
	if (rc < 0)
		rows_release(&r);
	else
		rc = add_rows(p, &r, err);
	if (rc == 0)
		rc = hf_plan_load_end(p, err);
	if (rc < 0) {
		hf_plan_free(p);
		return named(st, rc, err);
	}
	*out = p;
	return 0;
}

int hf_store_load(hf_store *st, const char *ref, hf_plan **out, hf_error *err)
{
	char id[HF_PLAN_ID_LEN + 1];
	int rc;

	*out = NULL;
	rc = resolve_ref(st, ref, id, err);
	if (rc == 0)
		rc = load_plan(st, id, out, err);
	if (rc == 0)
		hf_error_clear(err);
	return rc;
}

int hf_store_latest_for(hf_store *st, const char *address, const char *branch,
                        char id[HF_PLAN_ID_LEN + 1], hf_error *err)
{
	sqlite3_stmt *s = NULL;
	int found = 0;

	if (sqlite3_prepare_v2(
	            st->db,
	            branch ? "SELECT id FROM plans WHERE address = ?1 AND branch = ?2"
	                     " ORDER BY created_at DESC, rowid DESC LIMIT 1"
	            : st->has_default_col
	                    ? "SELECT id FROM plans WHERE address = ?1 AND branch_is_default = 1"
	                      " ORDER BY created_at DESC, rowid DESC LIMIT 1"
	                    : "SELECT id FROM plans WHERE address = ?1 AND branch = 'main'"
	                      " ORDER BY created_at DESC, rowid DESC LIMIT 1",
	            -1, &s, NULL) != SQLITE_OK)
		return db_error(st, err, "load");
	sqlite3_bind_text(s, 1, address, -1, SQLITE_STATIC);
	if (branch)
		sqlite3_bind_text(s, 2, branch, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		snprintf(id, HF_PLAN_ID_LEN + 1, "%s", col(s, 0));
		found = 1;
	}
	sqlite3_finalize(s);
	if (!found)
		return hf_error_set(err, HF_ENOTFOUND,
		                    "no plan for %s (branch %s)", address,
		                    branch ? branch : "default");
	return 0;
}

int hf_store_has(hf_store *st, const char *id)
{
	sqlite3_stmt *s = NULL;
	int found = 0;

	if (sqlite3_prepare_v2(st->db, "SELECT 1 FROM plans WHERE id = ?", -1,
	                       &s, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	found = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_finalize(s);
	return found;
}

const char *hf_store_path(const hf_store *st)
{
	return st->path;
}

int hf_store_list(hf_store *st, hf_store_list_cb cb, void *payload,
                  hf_error *err)
{
	struct hf_plan_row r;
	sqlite3_stmt *s = NULL;
	int rc = 0;

	if (sqlite3_prepare_v2(
	            st->db,
	            st->has_owner_cols
	                    ? "SELECT id, created_at, address, branch, status, n_create,"
	                      " n_update, n_noop, error, n_delete, n_forget, n_adopt, stack"
	                      " FROM plans ORDER BY created_at DESC, rowid DESC"
	                    : "SELECT id, created_at, address, branch, status, n_create,"
	                      " n_update, n_noop, error, 0, 0, 0, 'default' FROM plans"
	                      " ORDER BY created_at DESC, rowid DESC",
	            -1, &s, NULL) != SQLITE_OK)
		return db_error(st, err, "list");
	while (sqlite3_step(s) == SQLITE_ROW) {
		r.id = col(s, 0);
		r.created_at = col(s, 1);
		r.address = col(s, 2);
		r.branch = col(s, 3);
		r.status = col(s, 4);
		r.n_create = (long)sqlite3_column_int64(s, 5);
		r.n_update = (long)sqlite3_column_int64(s, 6);
		r.n_noop = (long)sqlite3_column_int64(s, 7);
		r.error = col(s, 8);
		r.n_delete = (long)sqlite3_column_int64(s, 9);
		r.n_forget = (long)sqlite3_column_int64(s, 10);
		r.n_adopt = (long)sqlite3_column_int64(s, 11);
		r.stack = col(s, 12);
		if (cb(&r, payload) != 0)
			break;
	}
	sqlite3_finalize(s);
	return rc;
}

static int plan_status(hf_store *st, const char *id, char *out, size_t n)
{
	sqlite3_stmt *s = NULL;
	int found = 0;

	if (sqlite3_prepare_v2(st->db, "SELECT status FROM plans WHERE id = ?",
	                       -1, &s, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		snprintf(out, n, "%s", col(s, 0));
		found = 1;
	}
	sqlite3_finalize(s);
	return found;
}

int hf_store_transition(hf_store *st, const char *id, const char *from,
                        const char *to, hf_error *err)
{
	sqlite3_stmt *s = NULL;
	char now[32];
	int rc;

	if (sqlite3_prepare_v2(
	            st->db,
	            "UPDATE plans SET status = ?3 WHERE id = ?1 AND status = ?2",
	            -1, &s, NULL) != SQLITE_OK)
		return db_error(st, err, "status");
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, to, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return db_error(st, err, "status");
	if (sqlite3_changes(st->db) == 1)
		return 0;
	if (!plan_status(st, id, now, sizeof(now)))
		return hf_error_set(err, HF_ENOTFOUND, "no plan %s", id);
	return hf_error_set(err, HF_ECONFLICT, "plan %s is %s, not %s", id, now,
	                    from);
}

static const char update_change_sql[] =
        "UPDATE changes SET status = ?, error = ?, started_at = ?,"
        " finished_at = ? WHERE plan_id = ? AND id = ?";

/* Bind one change's outcome to a prepared update_change_sql; run it. */
static int step_update(sqlite3_stmt *s, const char *plan_id,
                       const struct hf_change *c)
{
	sqlite3_reset(s);
	sqlite3_bind_text(s, 1, hf_change_status_str(c->status), -1,
	                  SQLITE_STATIC);
	if (c->error)
		sqlite3_bind_text(s, 2, c->error, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 2);
	if (c->started > 0)
		sqlite3_bind_double(s, 3, c->started);
	else
		sqlite3_bind_null(s, 3);
	if (c->finished > 0)
		sqlite3_bind_double(s, 4, c->finished);
	else
		sqlite3_bind_null(s, 4);
	sqlite3_bind_text(s, 5, plan_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, c->id, -1, SQLITE_STATIC);
	return sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
}

int hf_store_update_change(hf_store *st, const char *plan_id,
                           const struct hf_change *c, hf_error *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(st->db, update_change_sql, -1, &s, NULL) !=
	    SQLITE_OK)
		return db_error(st, err, "record change");
	rc = step_update(s, plan_id, c);
	sqlite3_finalize(s);
	return rc == 0 ? 0 : db_error(st, err, "record change");
}

int hf_store_set_apply(hf_store *st, const char *id, const char *branch,
                       const char *started_at, const char *finished_at,
                       long requests_sent, const char *error, hf_error *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(
	            st->db,
	            "UPDATE plans SET apply_branch = coalesce(?2, apply_branch),"
	            " apply_started_at = coalesce(?3, apply_started_at),"
	            " apply_finished_at = coalesce(?4, apply_finished_at),"
	            " requests_sent = coalesce(?5, requests_sent),"
	            " error = coalesce(?6, error) WHERE id = ?1",
	            -1, &s, NULL) != SQLITE_OK)
		return db_error(st, err, "record apply");
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, branch, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, started_at, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, finished_at, -1, SQLITE_STATIC);
	if (requests_sent >= 0)
		sqlite3_bind_int64(s, 5, requests_sent);
	else
		sqlite3_bind_null(s, 5);
	sqlite3_bind_text(s, 6, error, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : db_error(st, err, "record apply");
}

/* Whether apply has an outcome of this change to record. */
static int recorded(const struct hf_change *c)
{
	return c->action != HF_ACT_NOOP || c->adopt;
}

int hf_store_update_changes(hf_store *st, const hf_plan *p, hf_error *err)
{
	const char *id = hf_plan_meta_c(p)->id;
	const struct hf_change *c;
	sqlite3_stmt *s = NULL;
	size_t i;
	int rc = 0;

	/* one commit and one prepared statement, not one per change; the
	   statuses it writes checked first (prepare_unchecked()) */
	for (i = 0; i < hf_plan_count(p); i++) {
		c = hf_plan_at(p, i);
		if (recorded(c) && bad_status(c))
			return hf_error_set(err, HF_EINVAL,
			                    "change %s has no valid status",
			                    c->id);
	}
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return db_error(st, err, "record changes");
	if (prepare_unchecked(st, update_change_sql, &s) != SQLITE_OK)
		rc = db_error(st, err, "record changes");
	for (i = 0; rc == 0 && i < hf_plan_count(p); i++) {
		c = hf_plan_at(p, i);
		if (recorded(c) && step_update(s, id, c) < 0)
			rc = db_error(st, err, "record change");
	}
	finish_unchecked(st, s);
	if (rc == 0 &&
	    sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = db_error(st, err, "record changes");
	if (rc < 0)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

int hf_store_find_applying(hf_store *st, const char *address,
                           const char *branch, const char *except,
                           char id[HF_PLAN_ID_LEN + 1])
{
	sqlite3_stmt *s = NULL;
	int found = 0;

	if (sqlite3_prepare_v2(
	            st->db,
	            "SELECT id FROM plans WHERE status = 'applying' AND address = ?"
	            " AND branch = ? AND id <> ? LIMIT 1",
	            -1, &s, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(s, 1, address, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, branch, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, except, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		snprintf(id, HF_PLAN_ID_LEN + 1, "%s", col(s, 0));
		found = 1;
	}
	sqlite3_finalize(s);
	return found;
}

/* ---- plan statuses as an enum ------------------------------------------ */

static const char *const status_names[] = { "planned", "applying", "applied",
	                                    "failed", "stale" };

const char *hf_plan_status_str(enum hf_plan_status s)
{
	if ((size_t)s >= sizeof(status_names) / sizeof(status_names[0]))
		return "unknown";
	return status_names[s];
}

int hf_plan_status_parse(const char *s, enum hf_plan_status *out)
{
	size_t i;

	for (i = 0; s && i < sizeof(status_names) / sizeof(status_names[0]);
	     i++)
		if (!strcmp(s, status_names[i])) {
			*out = (enum hf_plan_status)i;
			return 0;
		}
	return HF_EINVAL;
}

int hf_store_move(hf_store *st, const char *id, enum hf_plan_status from,
                  enum hf_plan_status to, hf_error *err)
{
	return hf_store_transition(st, id, hf_plan_status_str(from),
	                           hf_plan_status_str(to), err);
}
