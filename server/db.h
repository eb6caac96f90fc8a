#ifndef HFS_DB_H
#define HFS_DB_H

/*
 * The durable store of the local endpoint: SQLite in WAL mode holding
 * nodes, their attribute data, relationship edges, branches and metadata.
 *
 * Schema-agnostic: it stores what the executor gives it. A node is an id
 * (UUID), a kind and a JSON object `data`. The store never looks inside a
 * field's value; it only compares top-level fields when merging, so the
 * executor chooses the layout. The recommended one is one key per
 * attribute holding the value and its properties:
 *   {"name": {"value": "jfk1", "is_protected": false, "source": null}}
 * so that a conflict names the attribute.
 *
 * Branches are copy-on-write views of main. Main keeps every version of
 * every row (numbered with a persisted global change sequence); a branch
 * created at sequence S reads main "as of S" overlaid with its own rows
 * and tombstones ("isolated" mode). Writes on a branch never touch main.
 *
 * Threads: one SQLite connection behind a mutex. Every call below except
 * hfs_db_open/close, hfs_db_uuid, hfs_db_is_uuid and
 * hfs_db_branch_check_name must run between hfs_db_lock() and
 * hfs_db_unlock(); the executor takes the lock once per HTTP request and
 * does all of that request's work under it.
 *
 * Atomicity: each write call is atomic on its own (an internal savepoint).
 * For a group of writes use hfs_db_begin/commit/rollback, and savepoints
 * inside that to make one mutation field atomic.
 *
 * Branch arguments are names ("main", "feature/new-dc"). An unknown
 * branch fails with HF_ENOTFOUND and the message "Branch: <name> not
 * found.". Errors go to `err` (may be NULL); functions return 0 or a
 * negative hf_status.
 */
#include <stddef.h>

#include <jansson.h>

#include "hf/error.h"

typedef struct hfs_db hfs_db;

#define HFS_UUID_LEN 36 /* without the NUL */
/*
 * The default branch's name: "main" unless the database was created with
 * another (hfs_db_open_named). Stored in the database, read at open.
 */
#define HFS_MAIN_MAX 256
const char *hfs_db_main(const hfs_db *db);

/* ---- lifecycle ----------------------------------------------------------- */

/*
 * Open (creating if needed) the database at `path`; ":memory:" gives a
 * private in-memory database. Creates the tables and the `main` branch on
 * first use. On success *out is owned by the caller (hfs_db_close());
 * on failure *out is NULL.
 */
int hfs_db_open(hfs_db **out, const char *path, hf_error *err);
/* The same; a new database's default branch is `default_branch` (NULL: main).
 */
int hfs_db_open_named(hfs_db **out, const char *path,
                      const char *default_branch, hf_error *err);
/* Close and free. NULL-safe. Must not be called while locked. */
void hfs_db_close(hfs_db *db);

/* The per-handle mutex (not recursive). */
void hfs_db_lock(hfs_db *db);
void hfs_db_unlock(hfs_db *db);

/*
 * A new time-ordered UUID (version 7: 48-bit Unix ms timestamp, random
 * bits, version and variant set), lowercase 8-4-4-4-12. Strictly
 * increasing within the process, so sorting ids sorts by creation.
 * Thread-safe; needs no handle.
 */
void hfs_db_uuid(char out[HFS_UUID_LEN + 1]);
/* Whether `s` is a UUID string (8-4-4-4-12 hex, any case). */
int hfs_db_is_uuid(const char *s);

/* The current change sequence number (monotonic, persisted). */
long long hfs_db_seq(hfs_db *db);

/* ---- transactions -------------------------------------------------------- */

/*
 * An outer transaction. begin fails if one is open. rollback never fails
 * (it does nothing when none is open).
 */
int hfs_db_begin(hfs_db *db, hf_error *err);
int hfs_db_commit(hfs_db *db, hf_error *err);
void hfs_db_rollback(hfs_db *db);
/* Whether an outer transaction or savepoint is open. */
int hfs_db_in_transaction(hfs_db *db);

/*
 * Named savepoints, nestable, inside or outside a transaction. `name` is
 * [A-Za-z_][A-Za-z0-9_]* (HF_EINVAL otherwise). release keeps the changes;
 * rollback_to undoes everything since the savepoint AND removes it (so
 * every savepoint ends with exactly one release or rollback_to).
 */
int hfs_db_savepoint(hfs_db *db, const char *name, hf_error *err);
int hfs_db_release(hfs_db *db, const char *name, hf_error *err);
int hfs_db_rollback_to(hfs_db *db, const char *name, hf_error *err);

/* ---- metadata ------------------------------------------------------------ */

/*
 * Key/value text, e.g. "schema:<branch>" for a branch's schema. get sets
 * *out to a copy (caller frees with hf_free()) or returns HF_ENOTFOUND
 * with *out NULL. set with value NULL deletes the key.
 */
int hfs_db_meta_get(hfs_db *db, const char *key, char **out, hf_error *err);
int hfs_db_meta_set(hfs_db *db, const char *key, const char *value,
                    hf_error *err);

/* ---- nodes --------------------------------------------------------------- */

/* What a node callback sees; everything is borrowed for the call only. */
struct hfs_node {
	const char *id;
	const char *kind;
	json_t *data; /* an object; json_incref() to keep; NULL if skip_data */
};

/*
 * Return 0 to go on, a positive value to stop early (the listing then
 * returns 0), a negative hf_status to stop and make the listing return it
 * (the callback fills its own error record through `payload`).
 */
typedef int (*hfs_node_cb)(const struct hfs_node *node, void *payload);

/*
 * Create a node. `id` NULL generates one (hfs_db_uuid()); a given id must
 * be a UUID (HF_EINVAL "<id> is not a valid UUID") not used by any node
 * visible on the branch (HF_EINVAL "<id> is already in use"). `data`
 * must be an object (the store keeps a copy). The id is written to
 * `out_id` when it is not NULL.
 */
int hfs_db_node_create(hfs_db *db, const char *branch, const char *kind,
                       const char *id, const json_t *data,
                       char out_id[HFS_UUID_LEN + 1], hf_error *err);

/*
 * Look up a live node. `kind` and `data` may be NULL (then the JSON is not
 * parsed: cheapest existence test). On success the caller owns *kind
 * (hf_free()) and *data (json_decref()). HF_ENOTFOUND when absent.
 */
int hfs_db_node_get(hfs_db *db, const char *branch, const char *id, char **kind,
                    json_t **data, hf_error *err);

/*
 * Replace the stored data object of a live node (the executor merges the
 * fields). Writes nothing when equal to the stored value. HF_ENOTFOUND
 * when absent.
 */
int hfs_db_node_update(hfs_db *db, const char *branch, const char *id,
                       const json_t *data, hf_error *err);

/*
 * Delete a live node and every edge touching it on that branch (a
 * tombstone on a branch). HF_ENOTFOUND when absent.
 */
int hfs_db_node_delete(hfs_db *db, const char *branch, const char *id,
                       hf_error *err);

/*
 * Which nodes a listing returns. A NULL array means "no filter"; a
 * non-NULL array with n = 0 matches nothing. Results come in id order
 * (= creation order for generated ids).
 */
struct hfs_node_query {
	const char *const *kinds;
	size_t nkinds;
	const char *const *ids;
	size_t nids;
	int skip_data; /* node->data is NULL in the callback */
};

#define HFS_NODE_QUERY_INIT         \
	{                           \
		NULL, 0, NULL, 0, 0 \
	}

/* Call `cb` for every live node on `branch` matching `q` (NULL: all). */
int hfs_db_node_list(hfs_db *db, const char *branch,
                     const struct hfs_node_query *q, hfs_node_cb cb,
                     void *payload, hf_error *err);
/* How many nodes hfs_db_node_list() would return. */
int hfs_db_node_count(hfs_db *db, const char *branch,
                      const struct hfs_node_query *q, size_t *out,
                      hf_error *err);

/* ---- relationship edges -------------------------------------------------- */

/*
 * An edge: relationship `identifier` from `src` (whose relationship is
 * named `src_rel`) to `dst`, with optional properties (e.g. the
 * `_relation__is_protected` family) as a JSON object or NULL. An edge is
 * identified by (identifier, src, src_rel, dst).
 *
 * In callbacks everything is borrowed for the call; `peer` is the end
 * that is not the node asked about (hfs_db_peers) or `dst` otherwise.
 */
struct hfs_edge {
	const char *identifier;
	const char *src;
	const char *src_rel;
	const char *dst;
	json_t *props;
	const char *peer;
};

typedef int (*hfs_edge_cb)(const struct hfs_edge *edge, void *payload);

/*
 * Add an edge (peer unused). When the same edge is already live only its
 * properties are replaced (no-op when equal), keeping its position in the
 * creation order. The store does not check that the nodes exist.
 */
int hfs_db_edge_add(hfs_db *db, const char *branch, const struct hfs_edge *e,
                    hf_error *err);
/* Remove a live edge (props and peer unused). HF_ENOTFOUND when absent. */
int hfs_db_edge_remove(hfs_db *db, const char *branch, const struct hfs_edge *e,
                       hf_error *err);

/*
 * One side of a relationship: relationship `name` on node `node`, whose
 * schema identifier is `identifier`. Reading it returns the live edges
 * with that identifier where (src = node AND src_rel = name) OR
 * (dst = node AND src_rel <> name), which shows both ends of a
 * bidirectional relationship, hierarchies included (children/parent with
 * one identifier).
 */
struct hfs_db_side {
	const char *node;
	const char *name;
	const char *identifier;
};

/* Edges of one relationship side, in edge creation order. */
int hfs_db_peers(hfs_db *db, const char *branch, const struct hfs_db_side *rel,
                 hfs_edge_cb cb, void *payload, hf_error *err);
/* Remove every edge hfs_db_peers() would return (for "replace the set"). */
int hfs_db_peers_clear(hfs_db *db, const char *branch,
                       const struct hfs_db_side *rel, hf_error *err);

/*
 * Bulk read for listings: every live edge with `identifier` on the branch,
 * in creation order (peer = dst). Build a map src/dst -> edges from it
 * instead of one hfs_db_peers() call per node.
 */
int hfs_db_edges_by_identifier(hfs_db *db, const char *branch,
                               const char *identifier, hfs_edge_cb cb,
                               void *payload, hf_error *err);
/* Every live edge touching `node` (any identifier), creation order. */
int hfs_db_node_edges(hfs_db *db, const char *branch, const char *node,
                      hfs_edge_cb cb, void *payload, hf_error *err);

/* ---- branches ------------------------------------------------------------ */

/*
 * Check a name against Infrahub's rules (git-like bans, then length
 * 3-250 code points). Messages: "Branch name contains invalid patterns
 * or characters: <list>" (the list as Infrahub words it, e.g.
 * "disallowed ASCII characters/patterns, ends with ."), or
 * "invalid field name: String should have at least 3 characters" (at
 * most 250).
 */
int hfs_db_branch_check_name(const char *name, hf_error *err);

struct hfs_branch_input {
	const char *id; /* NULL: generated */
	const char *name; /* required */
	const char *description; /* NULL: "" */
	const char *origin_branch; /* NULL: "main"; only "main" is accepted */
	int sync_with_git; /* -1: default (true) */
};

#define HFS_BRANCH_INPUT_INIT              \
	{                                  \
		NULL, NULL, NULL, NULL, -1 \
	}

/*
 * Branch objects are JSON objects with the SRV-2024 fields: id name
 * description origin_branch branched_from created_at sync_with_git
 * is_default is_isolated has_schema_changes status ("OPEN"). Caller owns
 * *out (json_decref()).
 *
 * create: fails with HF_EINVAL "Branch name contains invalid patterns or
 * characters: <list>" or "The branch <name>, already exist". The new
 * branch reads main as of now and gets a copy of meta "schema:main" as
 * "schema:<name>" (when set). `out` may be NULL when the object is not
 * wanted.
 */
int hfs_db_branch_create(hfs_db *db, const struct hfs_branch_input *in,
                         json_t **out, hf_error *err);
int hfs_db_branch_get(hfs_db *db, const char *name, json_t **out,
                      hf_error *err);
int hfs_db_branch_get_by_id(hfs_db *db, const char *id, json_t **out,
                            hf_error *err);
/* All branches, main first then by creation; *out is an array. */
int hfs_db_branch_list(hfs_db *db, json_t **out, hf_error *err);
/* Update the description (NULL: ""). */
int hfs_db_branch_update(hfs_db *db, const char *name, const char *description,
                         hf_error *err);
/* Mark the branch's schema as changed (or not); merge copies it. */
int hfs_db_branch_set_schema_changed(hfs_db *db, const char *name, int changed,
                                     hf_error *err);

/*
 * Delete a branch with its private rows and its "schema:<name>" meta key.
 * Refuses the default branch (HF_EINVAL "Unable to delete main it is the
 * default branch.").
 */
int hfs_db_branch_delete(hfs_db *db, const char *name, hf_error *err);

/*
 * The conflicts a merge of `name` into main would hit, as a new array of
 * strings in *out (empty when none). Each names the node id, the field
 * (top-level data key, or the relationship) when there is one, and the
 * kind:
 *   "data/<id>/<field> (<kind>): changed on both branches"
 *   "data/<id> (<kind>): deleted on main, changed on the branch"
 *   "data/<id> (<kind>): changed on main, deleted on the branch"
 *   "data/<id> (<kind>): created on both branches"
 *   "data/<id>/<src_rel> (<kind>): deleted on main, linked through <I> on
 *    the branch" (a relationship added on the branch to a node main
 *    deleted)
 * Relationship edges are not compared for cardinality (the store does
 * not know it): both sides adding different peers merges as the union.
 */
int hfs_db_branch_validate(hfs_db *db, const char *name, json_t **out,
                           hf_error *err);

/*
 * Merge the branch into main in one transaction: its node creates,
 * updates (field by field over main's current data), deletes and its edge
 * adds and removes become new main versions; when has_schema_changes is
 * set, meta "schema:<name>" is copied to "schema:main". Conflicts fail
 * with HF_ECONFLICT "Unable to merge the branch '<b>', validation failed:
 * <c1>, <c2>" and change nothing. Merging main gives HF_EINVAL "Unable
 * to merge the branch 'main' into itself".
 *
 * The branch survives the merge and is rebased: branched_from becomes
 * now, its private rows are cleared (their effect is in main now) and
 * has_schema_changes is reset, so it then reads as the current main.
 */
int hfs_db_branch_merge(hfs_db *db, const char *name, hf_error *err);
/* Ids of the nodes branch `name` created or changed (not deleted ones). */
int hfs_db_branch_written(hfs_db *db, const char *name, json_t **ids,
                          hf_error *err);

/*
 * Rebase onto current main: the branch's changed fields are replayed on
 * main's current data, its edge adds/removes stay, and branched_from
 * becomes now. Without has_schema_changes, "schema:main" is copied to
 * "schema:<name>" again. Conflicts fail with HF_ECONFLICT ("Unable to
 * rebase the branch '<b>', validation failed: ...") and change nothing.
 * Refuses main (HF_EINVAL).
 */
int hfs_db_branch_rebase(hfs_db *db, const char *name, hf_error *err);

/* ---- tests --------------------------------------------------------------- */

/*
 * Everything live on the branch as a new object (caller owns):
 *   {"nodes": [{"id", "kind", "data"}...] (id order),
 *    "edges": [{"identifier", "src", "src_rel", "dst", "props"}...]
 *              (sorted by identifier, src, src_rel, dst)}
 * Dump with JSON_SORT_KEYS to compare states byte for byte.
 */
int hfs_db_dump(hfs_db *db, const char *branch, json_t **out, hf_error *err);

#endif
