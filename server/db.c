/*
 * The store's handle: opening SQLite, the table layout, the statement
 * cache, transactions, the change sequence, metadata, UUIDs and times.
 * Nodes and edges live in db_node.c, branches and merging in db_branch.c.
 *
 * Statements are prepared once and cached in the handle. Listings call
 * back into the executor, which may start another listing on the same
 * statement; a cached statement that is mid-iteration is therefore
 * marked busy and a second user gets a temporary copy.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "db_int.h"
#include "hf/alloc.h"
#include "hf/buf.h"

#include "hf/banned.h"

static const char schema_sql[] =
        "CREATE TABLE IF NOT EXISTS counter("
        " id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL);"
        "INSERT OR IGNORE INTO counter(id, seq) VALUES(1, 0);"
        "CREATE TABLE IF NOT EXISTS meta("
        " key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE IF NOT EXISTS branch("
        " bid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
        " name TEXT NOT NULL UNIQUE, description TEXT NOT NULL,"
        " origin_branch TEXT NOT NULL, branched_from TEXT NOT NULL,"
        " created_at TEXT NOT NULL, sync_with_git INTEGER NOT NULL,"
        " is_default INTEGER NOT NULL, has_schema_changes INTEGER NOT NULL,"
        " base_seq INTEGER NOT NULL, status TEXT NOT NULL DEFAULT 'OPEN');"
        "CREATE TABLE IF NOT EXISTS node("
        " id TEXT PRIMARY KEY, kind TEXT NOT NULL, data TEXT NOT NULL,"
        " seq INTEGER NOT NULL);"
        "CREATE INDEX IF NOT EXISTS node_kind ON node(kind, id);"
        "CREATE TABLE IF NOT EXISTS node_hist("
        " id TEXT NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL,"
        " seq_from INTEGER NOT NULL, seq_to INTEGER NOT NULL);"
        "CREATE INDEX IF NOT EXISTS node_hist_id ON node_hist(id, seq_from);"
        "CREATE INDEX IF NOT EXISTS node_hist_to ON node_hist(seq_to);"
        "CREATE TABLE IF NOT EXISTS node_br("
        " bid INTEGER NOT NULL, id TEXT NOT NULL, kind TEXT NOT NULL,"
        " data TEXT, deleted INTEGER NOT NULL, seq INTEGER NOT NULL,"
        " PRIMARY KEY (bid, id));"
        "CREATE TABLE IF NOT EXISTS edge("
        " identifier TEXT NOT NULL, src TEXT NOT NULL, src_rel TEXT NOT NULL,"
        " dst TEXT NOT NULL, props TEXT, created INTEGER NOT NULL,"
        " seq INTEGER NOT NULL);"
        "CREATE UNIQUE INDEX IF NOT EXISTS edge_key"
        " ON edge(identifier, src, src_rel, dst);"
        "CREATE INDEX IF NOT EXISTS edge_src ON edge(src);"
        "CREATE INDEX IF NOT EXISTS edge_dst ON edge(dst, identifier);"
        "CREATE TABLE IF NOT EXISTS edge_hist("
        " identifier TEXT NOT NULL, src TEXT NOT NULL, src_rel TEXT NOT NULL,"
        " dst TEXT NOT NULL, props TEXT, created INTEGER NOT NULL,"
        " seq_from INTEGER NOT NULL, seq_to INTEGER NOT NULL);"
        "CREATE INDEX IF NOT EXISTS edge_hist_key"
        " ON edge_hist(identifier, src, src_rel, dst, seq_from);"
        "CREATE INDEX IF NOT EXISTS edge_hist_to ON edge_hist(seq_to);"
        "CREATE INDEX IF NOT EXISTS edge_hist_src ON edge_hist(src);"
        "CREATE INDEX IF NOT EXISTS edge_hist_dst ON edge_hist(dst);"
        "CREATE TABLE IF NOT EXISTS edge_br("
        " bid INTEGER NOT NULL, identifier TEXT NOT NULL, src TEXT NOT NULL,"
        " src_rel TEXT NOT NULL, dst TEXT NOT NULL, props TEXT,"
        " deleted INTEGER NOT NULL, created INTEGER NOT NULL,"
        " seq INTEGER NOT NULL,"
        " PRIMARY KEY (bid, identifier, src, src_rel, dst));"
        "CREATE INDEX IF NOT EXISTS edge_br_src ON edge_br(bid, src);"
        "CREATE INDEX IF NOT EXISTS edge_br_dst ON edge_br(bid, dst);";

#define EKEY  "identifier=?1 AND src=?2 AND src_rel=?3 AND dst=?4"
#define ECOLS "identifier, src, src_rel, dst"

/* clang-format off */
static const char *const static_sql[ST_NSTATIC] = {
	[ST_SP_BEGIN] = "SAVEPOINT hfs_op",
	[ST_SP_RELEASE] = "RELEASE hfs_op",
	[ST_SP_ROLLBACK] = "ROLLBACK TO hfs_op",
	[ST_SEQ_SET] = "UPDATE counter SET seq=?1 WHERE id=1",
	[ST_META_GET] = "SELECT value FROM meta WHERE key=?1",
	[ST_META_SET] = "INSERT OR REPLACE INTO meta(key, value) VALUES(?1,?2)",
	[ST_META_DEL] = "DELETE FROM meta WHERE key=?1",
	[ST_BR_RESOLVE] = "SELECT bid, base_seq, is_default, has_schema_changes"
		" FROM branch WHERE name=?1",
	[ST_NM_GET] = "SELECT kind, data FROM node WHERE id=?1",
	[ST_NM_INSERT] = "INSERT INTO node(id, kind, data, seq)"
		" VALUES(?1,?2,?3,?4)",
	[ST_NM_CLOSE] = "INSERT INTO node_hist(id, kind, data, seq_from, seq_to)"
		" SELECT id, kind, data, seq, ?2 FROM node WHERE id=?1",
	[ST_NM_UPDATE] = "UPDATE node SET data=?2, seq=?3 WHERE id=?1",
	[ST_NM_DELETE] = "DELETE FROM node WHERE id=?1",
	[ST_NM_ASOF] = "SELECT kind, data FROM node WHERE id=?1 AND seq<=?2"
		" UNION ALL SELECT kind, data FROM node_hist WHERE id=?1"
		" AND seq_from<=?2 AND seq_to>?2",
	[ST_NB_GET] = "SELECT kind, data, deleted FROM node_br"
		" WHERE bid=?1 AND id=?2",
	[ST_NB_PUT] = "INSERT OR REPLACE INTO node_br(bid, id, kind, data,"
		" deleted, seq) VALUES(?1,?2,?3,?4,?5,?6)",
	[ST_EM_GET] = "SELECT props, created FROM edge WHERE " EKEY,
	[ST_EM_INSERT] = "INSERT INTO edge(" ECOLS ", props, created, seq)"
		" VALUES(?1,?2,?3,?4,?5,?6,?7)",
	[ST_EM_CLOSE] = "INSERT INTO edge_hist(" ECOLS ", props, created,"
		" seq_from, seq_to) SELECT " ECOLS ", props, created, seq, ?5"
		" FROM edge WHERE " EKEY,
	[ST_EM_UPDATE] = "UPDATE edge SET props=?5, seq=?6 WHERE " EKEY,
	[ST_EM_DELETE] = "DELETE FROM edge WHERE " EKEY,
	[ST_EM_ASOF] = "SELECT props, created FROM edge WHERE " EKEY
		" AND seq<=?5 UNION ALL SELECT props, created FROM edge_hist"
		" WHERE " EKEY " AND seq_from<=?5 AND seq_to>?5",
	[ST_EB_GET] = "SELECT props, created, deleted FROM edge_br"
		" WHERE bid=?5 AND " EKEY,
	[ST_EB_PUT] = "INSERT OR REPLACE INTO edge_br(bid, " ECOLS ", props,"
		" deleted, created, seq) VALUES(?5,?1,?2,?3,?4,?6,?7,?8,?9)",
};
/* clang-format on */

static const char node_branch_view[] =
        "WITH v(id, kind, data) AS ("
        "SELECT id, kind, data FROM node WHERE seq<=:s AND NOT EXISTS"
        " (SELECT 1 FROM node_br b WHERE b.bid=:b AND b.id=node.id)"
        " UNION ALL SELECT id, kind, data FROM node_hist h"
        " WHERE h.seq_from<=:s AND h.seq_to>:s AND NOT EXISTS"
        " (SELECT 1 FROM node_br b WHERE b.bid=:b AND b.id=h.id)"
        " UNION ALL SELECT id, kind, data FROM node_br"
        " WHERE bid=:b AND deleted=0) ";

static const char edge_branch_view[] =
        "WITH v(" ECOLS ", props, created) AS NOT MATERIALIZED ("
        "SELECT " ECOLS ", props, created FROM edge e WHERE seq<=:s"
        " AND NOT EXISTS (SELECT 1 FROM edge_br b WHERE b.bid=:b"
        " AND b.identifier=e.identifier AND b.src=e.src"
        " AND b.src_rel=e.src_rel AND b.dst=e.dst)"
        " UNION ALL SELECT " ECOLS ", props, created FROM edge_hist h"
        " WHERE h.seq_from<=:s AND h.seq_to>:s"
        " AND NOT EXISTS (SELECT 1 FROM edge_br b WHERE b.bid=:b"
        " AND b.identifier=h.identifier AND b.src=h.src"
        " AND b.src_rel=h.src_rel AND b.dst=h.dst)"
        " UNION ALL SELECT " ECOLS ", props, created FROM edge_br"
        " WHERE bid=:b AND deleted=0) ";

#define ESEL "SELECT " ECOLS ", props, created FROM v "

/* The read after the view; peers and node edges are two index lookups. */
static const char *const eread_sql[] = {
	[ER_PEERS] = ESEL "WHERE identifier=:i AND src=:x AND src_rel=:n"
	                  " UNION ALL " ESEL "WHERE identifier=:i AND dst=:x"
	                  " AND src_rel<>:n ORDER BY created, src, dst",
	[ER_IDENT] = ESEL "WHERE identifier=:i ORDER BY created, src, dst",
	[ER_NODE] = ESEL "WHERE src=:x UNION ALL " ESEL
	                 "WHERE dst=:x AND src<>:x ORDER BY created, src, dst",
	[ER_ALL] = ESEL "ORDER BY " ECOLS,
};

/* Build the text of a generated statement into `b`. */
static void gen_sql(hf_buf *b, int idx)
{
	if (idx < ST_EREAD) {
		int v = idx - ST_NLIST;
		int branch = v & 8, count = v & 4;

		if (branch)
			hf_buf_add(b, node_branch_view);
		else
			hf_buf_add(b, "WITH v AS (SELECT id, kind, data FROM "
			              "node) ");
		hf_buf_add(b, count ? "SELECT count(*) FROM v WHERE 1"
		                    : "SELECT id, kind, data FROM v WHERE 1");
		if (v & 1)
			hf_buf_add(b, " AND kind IN (SELECT value FROM "
			              "json_each(:k))");
		if (v & 2)
			hf_buf_add(b, " AND id IN (SELECT value FROM "
			              "json_each(:i))");
		if (!count)
			hf_buf_add(b, " ORDER BY id");
		return;
	}
	if ((idx - ST_EREAD) & 4)
		hf_buf_add(b, edge_branch_view);
	else
		hf_buf_add(b, "WITH v AS NOT MATERIALIZED (SELECT " ECOLS
		              ", props, created FROM edge) ");
	hf_buf_add(b, eread_sql[(idx - ST_EREAD) & 3]);
}

int db_sqlerr(hfs_db *db, int rc, hf_error *err)
{
	int code = (rc & 0xff) == SQLITE_NOMEM ? HF_ENOMEM : HF_ERR;

	return hf_error_set(err, code, "database: %s",
	                    db->sql ? sqlite3_errmsg(db->sql)
	                            : sqlite3_errstr(rc));
}

static int prepare(hfs_db *db, int idx, sqlite3_stmt **out, hf_error *err)
{
	hf_buf b = HF_BUF_INIT;
	const char *text;
	int rc;

	if (idx < ST_NSTATIC) {
		text = static_sql[idx];
	} else {
		gen_sql(&b, idx);
		if (hf_buf_failed(&b)) {
			hf_buf_release(&b);
			return hf_error_set(err, HF_ENOMEM, "out of memory");
		}
		text = b.ptr;
	}
	rc = sqlite3_prepare_v3(db->sql, text, -1, SQLITE_PREPARE_PERSISTENT,
	                        out, NULL);
	hf_buf_release(&b);
	if (rc != SQLITE_OK)
		return db_sqlerr(db, rc, err);
	return 0;
}

int db_stmt(hfs_db *db, int idx, struct db_st *out, hf_error *err)
{
	int rc;

	assert(idx >= 0 && idx < ST_COUNT);
	out->st = NULL;
	out->idx = idx;
	out->temp = 0;
	if (db->busy[idx]) {
		out->temp = 1;
		return prepare(db, idx, &out->st, err);
	}
	if (!db->st[idx]) {
		rc = prepare(db, idx, &db->st[idx], err);
		if (rc < 0)
			return rc;
	}
	out->st = db->st[idx];
	db->busy[idx] = 1;
	return 0;
}

void db_stmt_done(hfs_db *db, struct db_st *s)
{
	if (!s->st)
		return;
	if (s->temp) {
		sqlite3_finalize(s->st);
	} else {
		sqlite3_reset(s->st);
		sqlite3_clear_bindings(s->st);
		db->busy[s->idx] = 0;
	}
	s->st = NULL;
}

int db_step_done(hfs_db *db, struct db_st *s, hf_error *err)
{
	int rc = sqlite3_step(s->st);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_sqlerr(db, rc, err);
	return 0;
}

int db_bind_text(struct db_st *s, int i, const char *v)
{
	if (!v)
		return sqlite3_bind_null(s->st, i);
	return sqlite3_bind_text(s->st, i, v, -1, SQLITE_STATIC);
}

int db_bind_int(struct db_st *s, int i, long long v)
{
	return sqlite3_bind_int64(s->st, i, (sqlite3_int64)v);
}

int db_bind_ntext(struct db_st *s, const char *name, const char *v)
{
	int i = sqlite3_bind_parameter_index(s->st, name);

	return i ? db_bind_text(s, i, v) : SQLITE_OK;
}

int db_bind_nint(struct db_st *s, const char *name, long long v)
{
	int i = sqlite3_bind_parameter_index(s->st, name);

	return i ? db_bind_int(s, i, v) : SQLITE_OK;
}

const char *db_col_text(struct db_st *s, int i)
{
	return (const char *)sqlite3_column_text(s->st, i);
}

/* Run one cached no-result statement with no parameters. */
static int run_simple(hfs_db *db, int idx, hf_error *err)
{
	struct db_st s;
	int rc;

	rc = db_stmt(db, idx, &s, err);
	if (rc < 0)
		return rc;
	rc = db_step_done(db, &s, err);
	db_stmt_done(db, &s);
	return rc;
}

int db_op_begin(hfs_db *db, hf_error *err)
{
	return run_simple(db, ST_SP_BEGIN, err);
}

int db_op_end(hfs_db *db, int rc)
{
	if (rc < 0)
		(void)run_simple(db, ST_SP_ROLLBACK, NULL);
	(void)run_simple(db, ST_SP_RELEASE, NULL);
	return rc;
}

int db_next_seq(hfs_db *db, long long *out, hf_error *err)
{
	struct db_st s;
	int rc;

	rc = db_stmt(db, ST_SEQ_SET, &s, err);
	if (rc < 0)
		return rc;
	db_bind_int(&s, 1, db->seq + 1);
	rc = db_step_done(db, &s, err);
	db_stmt_done(db, &s);
	if (rc < 0)
		return rc;
	/*
	 * The in-memory counter never goes back, even when a rollback undoes
	 * the persisted one: gaps are harmless, reuse would not be.
	 */
	db->seq++;
	*out = db->seq;
	return 0;
}

long long hfs_db_seq(hfs_db *db)
{
	return db->seq;
}

/* ---- time and ids -------------------------------------------------------- */

void db_now(char *out, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char day[24];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, len, "%.19s.%06uZ", day,
	         (unsigned)(ts.tv_nsec / 1000) % 1000000u);
}

static void random_bytes(unsigned char *p, size_t n)
{
	ssize_t got;
	FILE *f;

	got = getrandom(p, n, 0);
	if (got == (ssize_t)n)
		return;
	f = fopen("/dev/urandom", "rb");
	if (f) {
		got = (ssize_t)fread(p, 1, n, f);
		fclose(f);
		if (got == (ssize_t)n)
			return;
	}
	/* No entropy source at all: ids stay unique through the counter. */
	memset(p, 0, n);
}

static pthread_mutex_t uuid_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t uuid_ms, uuid_hi, uuid_lo; /* last: ms, 12 bits, 62 bits */

void hfs_db_uuid(char out[HFS_UUID_LEN + 1])
{
	unsigned char r[10];
	struct timespec ts;
	uint64_t ms, hi, lo;

	random_bytes(r, sizeof(r));
	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
	ms &= 0xffffffffffffu;
	hi = ((uint64_t)r[0] << 8 | r[1]) & 0xfffu;
	lo = 0;
	for (int i = 2; i < 10; i++)
		lo = lo << 8 | r[i];
	lo &= 0x3fffffffffffffffu;

	pthread_mutex_lock(&uuid_mu);
	if (ms < uuid_ms ||
	    (ms == uuid_ms &&
	     (hi < uuid_hi || (hi == uuid_hi && lo <= uuid_lo)))) {
		/* Same millisecond (or clock went back): last + 1. */
		ms = uuid_ms;
		hi = uuid_hi;
		lo = (uuid_lo + 1) & 0x3fffffffffffffffu;
		if (lo == 0 && ++hi > 0xfffu) {
			hi = 0;
			ms++;
		}
	}
	uuid_ms = ms;
	uuid_hi = hi;
	uuid_lo = lo;
	pthread_mutex_unlock(&uuid_mu);

	snprintf(out, HFS_UUID_LEN + 1, "%08x-%04x-%04x-%04x-%012llx",
	         (unsigned)((ms >> 16) & 0xffffffffu), (unsigned)(ms & 0xffffu),
	         (unsigned)((0x7000u | hi) & 0xffffu),
	         (unsigned)((0x8000u | (lo >> 48)) & 0xffffu),
	         (unsigned long long)(lo & 0xffffffffffffu));
}

int hfs_db_is_uuid(const char *s)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	size_t i;

	if (!s)
		return 0;
	for (i = 0; shape[i]; i++) {
		char c = s[i];

		if (shape[i] == '-') {
			if (c != '-')
				return 0;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		             (c >= 'A' && c <= 'F'))) {
			return 0;
		}
	}
	return s[i] == '\0';
}

/* ---- JSON ---------------------------------------------------------------- */

char *db_json_text(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

int db_json_parse(const char *text, json_t **out, hf_error *err)
{
	json_error_t je;

	*out = json_loads(text ? text : "null", JSON_DECODE_ANY, &je);
	if (!*out)
		return hf_error_set(err, HF_ERR,
		                    "database: bad stored json: %s", je.text);
	return 0;
}

/* ---- lifecycle ----------------------------------------------------------- */

static int exec(hfs_db *db, const char *sql, hf_error *err)
{
	int rc = sqlite3_exec(db->sql, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : db_sqlerr(db, rc, err);
}

static int load_seq(hfs_db *db, hf_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db->sql, "SELECT seq FROM counter WHERE id=1",
	                        -1, &st, NULL);
	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		db->seq = (long long)sqlite3_column_int64(st, 0);
	else
		rc = db_sqlerr(db, rc == SQLITE_OK ? SQLITE_ERROR : rc, err);
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? 0 : rc;
}

/* Create the default branch (`main` unless told otherwise) on first use. */
static int ensure_main(hfs_db *db, const char *name, hf_error *err)
{
	char id[HFS_UUID_LEN + 1], now[40];
	sqlite3_stmt *st = NULL;
	int rc;

	hfs_db_uuid(id);
	db_now(now, sizeof(now));
	rc = sqlite3_prepare_v2(
	        db->sql,
	        "INSERT OR IGNORE INTO branch(bid, id, name, description,"
	        " origin_branch, branched_from, created_at, sync_with_git,"
	        " is_default, has_schema_changes, base_seq)"
	        " VALUES(1, ?1, ?3, 'Default Branch', ?3, ?2, ?2,"
	        " 1, 1, 0, 0)",
	        -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_sqlerr(db, rc, err);
	return 0;
}

/* Databases made before branches had a status (OPEN, MERGED) gain it. */
static int add_status(hfs_db *db, hf_error *err)
{
	sqlite3_stmt *st = NULL;
	int have = sqlite3_prepare_v2(db->sql, "SELECT status FROM branch", -1,
	                              &st, NULL) == SQLITE_OK;

	sqlite3_finalize(st);
	if (have)
		return 0;
	return exec(db,
	            "ALTER TABLE branch ADD COLUMN status TEXT NOT NULL"
	            " DEFAULT 'OPEN'",
	            err);
}

/* The default branch's name, as the database holds it. */
static int read_main(hfs_db *db, hf_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db->sql,
	                        "SELECT name FROM branch WHERE bid = 1", -1,
	                        &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(db->main, sizeof(db->main), "%s",
		         (const char *)sqlite3_column_text(st, 0));
		rc = SQLITE_DONE;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_sqlerr(db, rc, err);
}

const char *hfs_db_main(const hfs_db *db)
{
	return db->main;
}

static int setup(hfs_db *db, const char *path, const char *default_branch,
                 hf_error *err)
{
	int rc;

	rc = sqlite3_open_v2(path, &db->sql,
	                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK)
		return hf_error_set(err, HF_ERR, "cannot open '%s': %s", path,
		                    db->sql ? sqlite3_errmsg(db->sql)
		                            : sqlite3_errstr(rc));
	sqlite3_busy_timeout(db->sql, 5000);
	rc = exec(db,
	          "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	          " PRAGMA foreign_keys=OFF;",
	          err);
	if (rc == 0)
		rc = exec(db, "BEGIN IMMEDIATE", err);
	if (rc < 0)
		return rc;
	rc = exec(db, schema_sql, err);
	if (rc == 0)
		rc = add_status(db, err);
	if (rc == 0)
		rc = ensure_main(db, default_branch, err);
	if (rc == 0)
		rc = read_main(db, err);
	if (rc == 0)
		rc = exec(db, "COMMIT", err);
	if (rc < 0) {
		(void)exec(db, "ROLLBACK", NULL);
		return rc;
	}
	return load_seq(db, err);
}

int hfs_db_open(hfs_db **out, const char *path, hf_error *err)
{
	return hfs_db_open_named(out, path, NULL, err);
}

int hfs_db_open_named(hfs_db **out, const char *path,
                      const char *default_branch, hf_error *err)
{
	hfs_db *db;
	int rc;

	*out = NULL;
	db = hf_calloc(1, sizeof(*db));
	if (!db)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	pthread_mutex_init(&db->mu, NULL);
	rc = setup(db, path, default_branch ? default_branch : "main", err);
	if (rc < 0) {
		hfs_db_close(db);
		return rc;
	}
	*out = db;
	return 0;
}

void hfs_db_close(hfs_db *db)
{
	if (!db)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(db->st[i]);
	if (db->sql && !sqlite3_get_autocommit(db->sql))
		(void)sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db->sql);
	pthread_mutex_destroy(&db->mu);
	hf_free(db);
}

void hfs_db_lock(hfs_db *db)
{
	pthread_mutex_lock(&db->mu);
}

void hfs_db_unlock(hfs_db *db)
{
	pthread_mutex_unlock(&db->mu);
}

/* ---- transactions -------------------------------------------------------- */

int hfs_db_begin(hfs_db *db, hf_error *err)
{
	if (!sqlite3_get_autocommit(db->sql))
		return hf_error_set(err, HF_EINVAL,
		                    "a transaction is already open");
	return exec(db, "BEGIN IMMEDIATE", err);
}

int hfs_db_commit(hfs_db *db, hf_error *err)
{
	if (sqlite3_get_autocommit(db->sql))
		return hf_error_set(err, HF_EINVAL, "no open transaction");
	return exec(db, "COMMIT", err);
}

void hfs_db_rollback(hfs_db *db)
{
	if (!sqlite3_get_autocommit(db->sql))
		(void)exec(db, "ROLLBACK", NULL);
}

int hfs_db_in_transaction(hfs_db *db)
{
	return !sqlite3_get_autocommit(db->sql);
}

static int check_sp_name(const char *name, hf_error *err)
{
	size_t i;

	for (i = 0; name && name[i]; i++) {
		char c = name[i];

		if (c == '_' || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9'))
			continue;
		break;
	}
	if (!name || i == 0 || name[i] || i > 64)
		return hf_error_set(err, HF_EINVAL, "bad savepoint name '%s'",
		                    name ? name : "(null)");
	return 0;
}

static int sp_exec(hfs_db *db, const char *verb, const char *name,
                   hf_error *err)
{
	char sql[128];
	int rc;

	rc = check_sp_name(name, err);
	if (rc < 0)
		return rc;
	snprintf(sql, sizeof(sql), "%s %s", verb, name);
	return exec(db, sql, err);
}

int hfs_db_savepoint(hfs_db *db, const char *name, hf_error *err)
{
	return sp_exec(db, "SAVEPOINT", name, err);
}

int hfs_db_release(hfs_db *db, const char *name, hf_error *err)
{
	return sp_exec(db, "RELEASE", name, err);
}

int hfs_db_rollback_to(hfs_db *db, const char *name, hf_error *err)
{
	int rc = sp_exec(db, "ROLLBACK TO", name, err);

	if (rc == 0)
		rc = sp_exec(db, "RELEASE", name, err);
	return rc;
}

/* ---- metadata ------------------------------------------------------------ */

int hfs_db_meta_get(hfs_db *db, const char *key, char **out, hf_error *err)
{
	struct db_st s;
	int rc;

	*out = NULL;
	rc = db_stmt(db, ST_META_GET, &s, err);
	if (rc < 0)
		return rc;
	db_bind_text(&s, 1, key);
	rc = sqlite3_step(s.st);
	if (rc == SQLITE_ROW) {
		*out = hf_strdup(db_col_text(&s, 0));
		rc = *out ? 0 : hf_error_set(err, HF_ENOMEM, "out of memory");
	} else if (rc == SQLITE_DONE) {
		rc = hf_error_set(err, HF_ENOTFOUND, "no meta key '%s'", key);
	} else {
		rc = db_sqlerr(db, rc, err);
	}
	db_stmt_done(db, &s);
	return rc;
}

int hfs_db_meta_set(hfs_db *db, const char *key, const char *value,
                    hf_error *err)
{
	struct db_st s;
	int rc;

	rc = db_stmt(db, value ? ST_META_SET : ST_META_DEL, &s, err);
	if (rc < 0)
		return rc;
	db_bind_text(&s, 1, key);
	if (value)
		db_bind_text(&s, 2, value);
	rc = db_step_done(db, &s, err);
	db_stmt_done(db, &s);
	return rc;
}

/* ---- branches (resolution) ----------------------------------------------- */

int db_branch_resolve(hfs_db *db, const char *name, struct db_br *out,
                      hf_error *err)
{
	struct db_st s;
	int rc;

	rc = db_stmt(db, ST_BR_RESOLVE, &s, err);
	if (rc < 0)
		return rc;
	db_bind_text(&s, 1, name);
	rc = sqlite3_step(s.st);
	if (rc == SQLITE_ROW) {
		out->bid = (long long)sqlite3_column_int64(s.st, 0);
		out->base = (long long)sqlite3_column_int64(s.st, 1);
		out->is_main = sqlite3_column_int(s.st, 2);
		out->schema_changed = sqlite3_column_int(s.st, 3);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = hf_error_set(err, HF_ENOTFOUND, "Branch: %s not found.",
		                  name ? name : "(null)");
	} else {
		rc = db_sqlerr(db, rc, err);
	}
	db_stmt_done(db, &s);
	return rc;
}
