#ifndef HFS_EXEC_INT_H
#define HFS_EXEC_INT_H

/*
 * Private to server/exec*.c and app.c: the GraphQL executor's pieces.
 *
 * Data model: every branch that is read gets an in-memory mirror of its
 * nodes (parsed data), of the edges of the relationship identifiers used
 * so far, and of lookup indexes (unique values, uniqueness constraints,
 * HFIDs, default filters). SQLite stays the source of truth: every write
 * goes to the database first, then to the mirror ("write-through"). When
 * a mutation field fails and its savepoint is rolled back, the mirror of
 * that branch is dropped and rebuilt on next use, so the two never
 * disagree. Everything here runs under hfs_db_lock().
 */
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "db.h"
#include "exec.h"
#include "gql.h"
#include "hf/buf.h"
#include "hf/error.h"
#include "schema.h"

/* ---- hash map (exec_util.c) ---------------------------------------------- */

struct xmap_ent;

/* String keys (copied), void * values; a key may map to several values. */
struct xmap {
	struct xmap_ent **b;
	size_t nb;
	size_t n;
};

#define XMAP_INIT          \
	{                  \
		NULL, 0, 0 \
	}

struct xmap_it {
	const struct xmap_ent *e;
	const char *key;
	uint64_t h;
};

int xmap_put(struct xmap *m, const char *key, void *val);
/* First value of `key`, or NULL. */
void *xmap_get(const struct xmap *m, const char *key);
/* Every value of `key`: find gives the first, next the others. */
void *xmap_find(const struct xmap *m, const char *key, struct xmap_it *it);
void *xmap_next(struct xmap_it *it);
/* Remove one entry `key` -> `val` (val NULL: any); 1 if removed. */
int xmap_del(struct xmap *m, const char *key, const void *val);
typedef void (*xmap_fn)(const char *key, void *val, void *payload);
void xmap_each(const struct xmap *m, xmap_fn fn, void *payload);
void xmap_release(struct xmap *m);

/* ---- small helpers (exec_util.c) ----------------------------------------- */

#define XSEP "\x1f" /* separates the parts of index keys */

/* JSON text in Python's compact json.dumps style (ensure_ascii off). */
void xw_str(hf_buf *b, const char *s);
void xw_strn(hf_buf *b, const char *s, size_t n);
void xw_json(hf_buf *b, const json_t *v); /* NULL writes null */
/* Write ',' unless *first, then "key":. */
void xw_key(hf_buf *b, int *first, const char *key);

/*
 * Canonical text of a value for comparisons and index keys ("s" + text,
 * "n" + number, "b0"/"b1", "j" + JSON); empty for null. Appends to b.
 */
void xval_key(hf_buf *b, const json_t *v);
/* Plain text of a value (strings as is, numbers in decimal). */
void xval_text(hf_buf *b, const json_t *v);
/* Python's repr of a list of strings (['a', 'b']), for Infrahub's messages. */
void xpy_list(hf_buf *b, const json_t *arr);
/* Timestamp of now, "2023-02-17T09:30:17.811719Z". */
void xnow(char *out, size_t len);
/* A UUID-shaped id derived from two strings (attribute ids). */
void xderived_id(char out[HFS_UUID_LEN + 1], const char *a, const char *b);

/* "a__b__c" split into at most 3 parts (empty when absent). */
struct xsplit {
	char p[3][128];
	int n;
};
void xsplit_path(struct xsplit *out, const char *path);

/* IP attribute extras (IPHost/IPNetwork), written as the JSON value. */
int xip_field(hf_buf *b, const char *value, const char *field, int network);

/* ---- branch mirror (exec_cache.c) ---------------------------------------- */

struct xnode {
	char id[HFS_UUID_LEN + 1];
	char *kind;
	json_t *data;
	char **keys; /* index keys registered for this node */
	size_t nkeys;
	int dirty;
	struct xnode *dnext;
	size_t kind_slot; /* index in its kind's vector (struct xkind) */
};

struct xedge {
	char *ident;
	char *src;
	char *src_rel;
	char *dst;
	json_t *props; /* NULL when none */
	size_t slot[2]; /* index in the src's [0] and the dst's [1] xevec */
	struct xedge *prev; /* the identifier's list, which owns the edges */
	struct xedge *next;
};

/*
 * A node's edges of one identifier, in creation order. A removal leaves a
 * NULL in its slot (O(1), so that removing many members of a large group
 * is linear); xb_node_edges() compacts before anyone reads, so readers
 * never see a NULL.
 */
struct xevec {
	struct xedge **v;
	size_t n;
	size_t cap;
	size_t dead; /* NULL slots among the n */
};

struct xident {
	struct xmap by_node; /* node id -> struct xevec * */
	struct xedge *head;
};

/*
 * The nodes of one kind, in id order once xb_kind_nodes() has sorted and
 * compacted them. A removal leaves a NULL (O(1)); count = n - dead.
 */
struct xkind {
	char *kind;
	struct xnode **v; /* in id order */
	size_t n;
	size_t cap;
	size_t dead; /* NULL slots among the n */
	int unsorted;
};

struct xview {
	unsigned long gen;
	struct xnode **v;
	size_t n;
};

struct xbranch {
	char *name;
	hfs_db *db;
	const hfs_schema *schema;
	char schema_hash[40];
	/* set by xb_reindex: the node whose HFID the checked node took */
	char hfid_conflict[HFS_UUID_LEN + 1];
	struct xmap nodes; /* id -> xnode */
	struct xmap kinds; /* kind -> xkind */
	struct xmap idents; /* identifier -> xident */
	struct xmap idx; /* index key -> xnode (several) */
	struct xmap views; /* view key -> xview */
	struct xmap pviews; /* node|identifier|relationship -> xpview */
	struct xmap vattrs; /* attribute names with a value index */
	unsigned long gen;
	struct xnode *dirty;
	unsigned long long used;
};

struct xcache {
	struct xmap branches; /* name -> xbranch */
	unsigned long long tick;
	unsigned long long loads; /* mirrors loaded so far */
};

/*
 * The mirror of `branch` for schema `s`, loaded on first use (or again
 * when the schema changed). Borrowed until the next xc_drop*.
 */
int xc_branch(struct xcache *c, hfs_db *db, const char *branch,
              const hfs_schema *s, struct xbranch **out, hf_error *err);
void xc_drop(struct xcache *c, const char *branch);
void xc_drop_all(struct xcache *c);
void xc_release(struct xcache *c);

struct xnode *xb_node(const struct xbranch *b, const char *id);
struct xkind *xb_kind(const struct xbranch *b, const char *kind);
/* The node list of a kind, sorted by id; empty when none. */
void xb_kind_nodes(struct xbranch *b, const char *kind, struct xnode ***v,
                   size_t *n);
/* Edges of `ident` touching `node` (creation order); NULL when none. */
int xb_node_edges(struct xbranch *b, const char *ident, const char *node,
                  const struct xevec **out, hf_error *err);

/* Live peers of one relationship side, creation order. */
struct xpeers {
	struct xedge **e;
	struct xnode **n;
	size_t len;
	size_t cap;
};

/* A node's peers through one relationship, as of branch state `gen`. */
struct xpview {
	unsigned long gen;
	struct xpeers p;
};

int xb_peers(struct xbranch *b, const struct xnode *n, const struct hfs_rel *r,
             struct xpeers *out, hf_error *err);
void xpeers_release(struct xpeers *p);
/* Append one (edge, node) pair; HF_ENOMEM. */
int xpeers_push(struct xpeers *p, struct xedge *e, struct xnode *n);
/* The single peer of a cardinality-one relationship, or NULL. */
int xb_peer_one(struct xbranch *b, const struct xnode *n,
                const struct hfs_rel *r, struct xnode **out,
                struct xedge **edge, hf_error *err);

/* Writes (database first, then the mirror). */
int xb_create(struct xbranch *b, const char *kind, const char *id, json_t *data,
              struct xnode **out, hf_error *err);
int xb_update(struct xbranch *b, struct xnode *n, json_t *data, hf_error *err);
int xb_delete(struct xbranch *b, struct xnode *n, hf_error *err);
int xb_edge_add(struct xbranch *b, const char *ident, const char *src,
                const char *src_rel, const char *dst, json_t *props,
                hf_error *err);
int xb_edge_del(struct xbranch *b, struct xedge *e, hf_error *err);
void xb_touch(struct xbranch *b, struct xnode *n);

/*
 * Recompute the index keys of every node written since the last call.
 * A uniqueness violation of `checked` fails with Infrahub's message.
 */
int xb_reindex(struct xbranch *b, struct xnode *checked, hf_error *err);

/* Lookups; *out NULL when nothing matches. `k` may be a generic. */
int xb_find_hfid(struct xbranch *b, const struct hfs_kind *k,
                 const json_t *hfid, struct xnode **out, hf_error *err);
int xb_find_value(struct xbranch *b, const struct hfs_kind *k, const char *attr,
                  const json_t *value, struct xnode **out, hf_error *err);
/*
 * A value given as filter or reference, converted to the stored form of
 * attribute `a` ("5" for a Number is 5, IPs normalised). *out is a new
 * reference; 1 (and *out NULL) when it cannot be one; HF_ENOMEM.
 */
int xnorm_value(const struct hfs_attr *a, const json_t *v, json_t **out);
/*
 * Call fn for each node of concrete kind `ck` whose attribute `attr` has
 * canonical value key `vkey` (xval_key() of the value in its stored
 * form), through an index: the uniqueness keys of a unique attribute,
 * else a value index, built on first use for (kind, attribute) and kept
 * up to date by xb_reindex. Returns 0, 1 when no index serves (too few
 * distinct values to be worth one: the caller scans), or a negative
 * status (fn's, or HF_ENOMEM). fn returns 0 to go on, > 0 to stop.
 */
typedef int (*xnode_fn)(struct xnode *n, void *payload);
int xb_index_each(struct xbranch *b, const char *ck, const char *attr,
                  const char *vkey, xnode_fn fn, void *payload, hf_error *err);
/* Lookup by the HFID key of a node being written (rel parts = peer ids). */
struct xnode *xb_find_hkey(struct xbranch *b, const char *kind,
                           const char *key);

/* Value stored for attribute `a` of n (absent -> default), borrowed. */
json_t *xn_attr(const struct xnode *n, const char *attr);
json_t *xn_value(const struct xnode *n, const struct hfs_attr *a);

/* The HFID of a node as strings (NULL entries when missing). New ref. */
int xn_hfid(struct xbranch *b, const struct hfs_kind *k, const struct xnode *n,
            json_t **out, hf_error *err);
/* The display label into `buf`. */
int xn_label(struct xbranch *b, const struct hfs_kind *k, const struct xnode *n,
             hf_buf *buf, hf_error *err);
/* Value of a path ("name__value", "device__name__value"); new ref. */
int xn_path(struct xbranch *b, const struct hfs_kind *k, const struct xnode *n,
            const char *path, json_t **out, hf_error *err);

/* ---- requests (exec.c) --------------------------------------------------- */

struct hfs_exec {
	hfs_db *db;
	struct xcache cache;
	struct xmap schemas; /* branch -> hfs_schema * */
	hfs_schema **retired; /* replaced during a request, freed after it */
	size_t nretired;
	long fail_at; /* fail-mutation=N, 0: off */
	long nmutations;
	char deployment_id[HFS_UUID_LEN + 1];
	struct hf_server_faults faults; /* a copy; cost= is used here */
	struct hfs_exec_costs costs; /* under the lock (max_overlap unused) */
	atomic_long waiting; /* requests in their cost delay now */
	atomic_long max_waiting;
	/* filter lookups: nodes a filter examined (to see scans in tests) */
	unsigned long long examined;
};

struct xreq {
	struct hfs_exec *x;
	hfs_db *db;
	const hfs_schema *s;
	const char *branch;
	struct xbranch *b;
	const hfs_gql_doc *doc;
	json_t *vars;
	hf_buf out;
	json_t *errors;
	struct xmap memo; /* collected selections */
	int mutated;
	int internal; /* built-in objects: read-only fields may be set */
	int frozen_checked; /* branch status read: 1 open, -1 merged */
	long nops; /* top-level fields of the operation, for cost= */
	char now[40];
};

/*
 * The cost= delay of one request with `nops` operations (exec.c): counts
 * it, then sleeps with the database lock RELEASED (taken again before
 * returning). Call last, when nothing of the request is left to touch.
 * No-op when cost= is off.
 */
void xcost_wait(struct hfs_exec *x, long nops);

/* The branch mirror, (re)loaded as needed. */
int xr_branch(struct xreq *r, hf_error *err);
/* Record a GraphQL error at a field with path [key] (key may be NULL). */
void xr_error(struct xreq *r, const struct hfs_gql_selection *at,
              const char *key, const char *msg);
/* Collect the fields of `g` (or of selection list `sel`) for `type`. */
int xr_collect(struct xreq *r, const char *type,
               const struct hfs_gql_field_group *g,
               const struct hfs_gql_selection *sel,
               const struct hfs_gql_fields **out, hf_error *err);
/* Argument `name` of a group's field as JSON (new ref or NULL). */
json_t *xr_arg(struct xreq *r, const struct hfs_gql_field_group *g,
               const char *name);

/* ---- types and validation (exec_types.c) --------------------------------- */

enum xt {
	XT_NONE = 0,
	XT_QUERY,
	XT_MUTATION,
	XT_PAGINATED,
	XT_EDGED,
	XT_NODE,
	XT_NPAGINATED,
	XT_NEDGED,
	XT_RELPROP,
	XT_ATTR,
	XT_LINEAGE,
	XT_PERM_PAGE,
	XT_PERM_EDGE,
	XT_PERM_NODE,
	XT_ATTR_PERM,
	XT_MUT_OUT,
	XT_BRANCH,
	XT_BRANCH_OUT,
	XT_INFO,
	XT_TASK,
	XT_SCALAR,
	XT_NODE_META, /* node_metadata { created_at updated_at ... } */
	XT_REL_META, /* relationship_metadata { updated_at updated_by } */
	XT_POOL_OUT, /* Infrahub*PoolGetResource { ok node } */
	XT_POOL_NODE, /* PoolAllocatedNode */
	XT_NEXT_ADDR, /* IPAddressGetNextAvailable { address } */
	XT_NEXT_PREFIX, /* IPPrefixGetNextAvailable { prefix } */
};

struct xtype {
	enum xt t;
	const struct hfs_kind *k;
	const struct hfs_attr *a;
	const char *scalar; /* XT_SCALAR: "String", "Int", ... */
};

/* GraphQL type name of t into buf (borrowed buffer, NUL-terminated). */
const char *xt_name(const struct xtype *t, char *buf, size_t len);
/*
 * "BuiltinTagCreate" -> *k and the operation: 0 Create, 1 Update,
 * 2 Upsert, 3 Delete; -1 when `name` is not a data mutation.
 */
int xt_mutation_kind(const hfs_schema *s, const char *name,
                     const struct hfs_kind **k);
/* Attribute type name for an attribute kind ("TextAttribute"...). */
const char *xt_attr_type(const char *attr_kind);
/*
 * Validate the operation against the schema, as graphql-core does:
 * unknown fields and arguments, leaf/object selections. Errors go to
 * r->errors; returns the number of errors found.
 */
int xt_validate(struct xreq *r, const struct hfs_gql_operation *op);

/* ---- resolvers ----------------------------------------------------------- */

/* exec_query.c: one top-level query field (group) into r->out. */
int xq_field(struct xreq *r, const struct hfs_gql_field_group *g,
             hf_error *err);
/* Write node n as the object for group g (r->out). */
int xq_node(struct xreq *r, struct xnode *n,
            const struct hfs_gql_field_group *g, hf_error *err);

/* exec_mutation.c: one data mutation field; r->out gets its value. */
int xm_field(struct xreq *r, const struct hfs_gql_field_group *g,
             hf_error *err);
/*
 * Create a node of `k` from mutation-shaped `data` (borrowed), as
 * <Kind>Create does (object template instantiation, pool allocations and
 * profile values included); *out is borrowed from the mirror.
 */
int xm_create(struct xreq *r, const struct hfs_kind *k, json_t *data,
              struct xnode **out, hf_error *err);

/* exec_branch.c: Branch query and Branch* mutations. */
int xbr_query(struct xreq *r, const struct hfs_gql_field_group *g,
              hf_error *err);
int xbr_mutation(struct xreq *r, const struct hfs_gql_field_group *g,
                 hf_error *err);
int xbr_is_mutation(const char *name);
/* Write a branch JSON object for a selection. */
void xbr_write(struct xreq *r, const json_t *br,
               const struct hfs_gql_field_group *g);

/* Schema cache (exec.c) */
int xs_get(struct hfs_exec *x, const char *branch, const hfs_schema **out,
           hf_error *err);
void xs_set(struct hfs_exec *x, const char *branch, hfs_schema *s);
void xs_drop(struct hfs_exec *x, const char *branch);
/* Free the schemas replaced during the request that just ended. */
void xs_retired_free(struct hfs_exec *x);

#endif
