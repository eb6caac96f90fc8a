#ifndef HFS_DB_INT_H
#define HFS_DB_INT_H

/*
 * Internals shared by db.c (handle, statements, transactions, metadata),
 * db_node.c (nodes and edges) and db_branch.c (branches, merge, rebase).
 *
 * Tables:
 *   counter(id=1, seq)               the global change sequence
 *   meta(key, value)
 *   branch(bid, id, name, ..., base_seq)   base_seq: main "as of" point
 *   node(id, kind, data, seq)        main, current versions
 *   node_hist(id, kind, data, seq_from, seq_to)  main, closed versions
 *   node_br(bid, id, kind, data, deleted, seq)   branch rows, tombstones
 *   edge / edge_hist / edge_br       the same three for edges, keyed by
 *                                    (identifier, src, src_rel, dst) and
 *                                    carrying `created` (the sequence of
 *                                    the add, kept across versions)
 * A version of main is visible "as of S" when seq_from <= S < seq_to.
 * Node data is stored as compact JSON with sorted keys, so equal objects
 * have equal text.
 */
#include <pthread.h>
#include <sqlite3.h>

#include "db.h"

enum db_stmt_id {
	ST_SP_BEGIN,
	ST_SP_RELEASE,
	ST_SP_ROLLBACK,
	ST_SEQ_SET,
	ST_META_GET,
	ST_META_SET,
	ST_META_DEL,
	ST_BR_RESOLVE,
	ST_NM_GET,
	ST_NM_INSERT,
	ST_NM_CLOSE,
	ST_NM_UPDATE,
	ST_NM_DELETE,
	ST_NM_ASOF,
	ST_NB_GET,
	ST_NB_PUT,
	ST_EM_GET,
	ST_EM_INSERT,
	ST_EM_CLOSE,
	ST_EM_UPDATE,
	ST_EM_DELETE,
	ST_EM_ASOF,
	ST_EB_GET,
	ST_EB_PUT,
	ST_NSTATIC,
	/* generated: node list/count variants, edge read variants */
	ST_NLIST = ST_NSTATIC, /* + 8 * is_branch + 4 * count + filters */
	ST_EREAD = ST_NLIST + 16, /* + 4 * is_branch + enum db_eread */
	ST_COUNT = ST_EREAD + 8,
};

enum db_eread { ER_PEERS, ER_IDENT, ER_NODE, ER_ALL };

struct hfs_db {
	sqlite3 *sql;
	pthread_mutex_t mu;
	long long seq;
	sqlite3_stmt *st[ST_COUNT];
	int busy[ST_COUNT]; /* a cached statement is mid-iteration */
	char main[HFS_MAIN_MAX]; /* the default branch's name */
};

/* A resolved branch. */
struct db_br {
	long long bid;
	long long base; /* main as of this sequence (branches only) */
	int is_main;
	int schema_changed;
};

/* A borrowed-or-temporary prepared statement. */
struct db_st {
	sqlite3_stmt *st;
	int idx;
	int temp;
};

int db_sqlerr(hfs_db *db, int rc, hf_error *err);
/* Get statement `idx` (prepared once; a temporary copy when busy). */
int db_stmt(hfs_db *db, int idx, struct db_st *out, hf_error *err);
/* Reset and hand back (or finalize a temporary). NULL-safe st. */
void db_stmt_done(hfs_db *db, struct db_st *s);
/* Step a statement that returns no rows (or ignores them). */
int db_step_done(hfs_db *db, struct db_st *s, hf_error *err);

/* Binding helpers: by index; text NULL binds SQL NULL. */
int db_bind_text(struct db_st *s, int i, const char *v);
int db_bind_int(struct db_st *s, int i, long long v);
/* By name (":x"); skipped when the statement has no such parameter. */
int db_bind_ntext(struct db_st *s, const char *name, const char *v);
int db_bind_nint(struct db_st *s, const char *name, long long v);
const char *db_col_text(struct db_st *s, int i);

/* Take the next sequence number and persist it. */
int db_next_seq(hfs_db *db, long long *out, hf_error *err);

/* The internal savepoint wrapping one API write. */
int db_op_begin(hfs_db *db, hf_error *err);
int db_op_end(hfs_db *db, int rc);

/* "2023-02-17T09:30:17.811719Z" for now; out has >= 32 bytes. */
void db_now(char *out, size_t len);

int db_branch_resolve(hfs_db *db, const char *name, struct db_br *out,
                      hf_error *err);

/* JSON helpers: canonical text (hf_free) and parse (json_decref). */
char *db_json_text(const json_t *v);
int db_json_parse(const char *text, json_t **out, hf_error *err);

/* Main rows: current (`asof` < 0) or as of a sequence. */
int db_main_node(hfs_db *db, const char *id, long long asof, char **kind,
                 char **data, hf_error *err);
/* Write helpers on main used by the merge (new versions at `seq`). */
int db_main_node_put(hfs_db *db, const char *id, const char *kind,
                     const char *data, long long seq, hf_error *err);
int db_main_node_del(hfs_db *db, const char *id, long long seq, hf_error *err);
int db_main_edge_put(hfs_db *db, const struct hfs_edge *e, const char *props,
                     long long created, long long seq, hf_error *err);
int db_main_edge_del(hfs_db *db, const struct hfs_edge *e, long long seq,
                     hf_error *err);

#endif
