#ifndef HFS_EXEC_H
#define HFS_EXEC_H

/*
 * The GraphQL executor and the REST handlers of the local endpoint, as
 * app.c uses them. An hfs_exec owns the per-branch schema cache and the
 * in-memory mirrors of the branches; it borrows the database handle.
 *
 * Every call below except hfs_exec_new/free must run with the database
 * lock held (hfs_db_lock()): that is what makes the caches safe for
 * concurrent requests.
 */
#include <stddef.h>

#include <jansson.h>

#include "hf/error.h"
#include "hf/server.h"

typedef struct hfs_exec hfs_exec;
struct hfs_db;

/*
 * A new executor over `db` (borrowed, must outlive it). Reads or creates
 * the deployment id. `faults` may be NULL. Caller frees with
 * hfs_exec_free(). Returns 0 or a negative hf_status.
 */
int hfs_exec_new(hfs_exec **out, struct hfs_db *db,
                 const struct hf_server_faults *faults, hf_error *err);
void hfs_exec_free(hfs_exec *x); /* NULL-safe */

/* Create the built-in objects Infrahub has at start (the `default` IP
 * namespace on main) when they are missing. */
int hfs_exec_bootstrap(hfs_exec *x, hf_error *err);

/*
 * Run one GraphQL request body {query, variables?, operationName?} (a
 * JSON object, borrowed) on `branch`, which must exist. *out is the
 * response body (caller frees with hf_free()); the HTTP status is 200
 * whenever GraphQL ran. *mutated is set when a mutation committed.
 * Returns 0, or HF_ENOMEM (nothing in *out).
 */
int hfs_exec_graphql(hfs_exec *x, const char *branch, json_t *body, char **out,
                     int *mutated, hf_error *err);

/*
 * A REST answer: status and a new JSON body (caller decrefs). A schema
 * load is not a "mutation" for the drop-after-commit fault: only GraphQL
 * mutations are.
 */
struct hfs_rest {
	int status;
	json_t *body;
};

/*
 * The /api/... endpoints: `path` starts with "/api/", `branch` is the
 * ?branch= value or NULL, `namespaces` NULL-terminated or NULL. Always
 * fills `res` (404 for unknown endpoints) unless it returns HF_ENOMEM.
 */
int hfs_exec_rest(hfs_exec *x, const char *method, const char *path,
                  const char *branch, const char *const *namespaces,
                  const char *body, size_t body_len, struct hfs_rest *res,
                  hf_error *err);

/*
 * The cost= fault (struct hf_server_faults): hfs_exec_graphql and
 * hfs_exec_rest end with a delay of REQUEST_MS + PER_OP_MS * operations,
 * where the operations of a GraphQL request are the top-level fields of
 * its operation (mutation fields, or lookups: each query field or alias;
 * __typename not counted) and a REST request has none. During that delay
 * they RELEASE the database lock the caller holds (and take it again
 * before returning), so concurrent requests overlap as on a real
 * Infrahub, whose time is mostly not spent in a shared lock.
 */
struct hfs_exec_costs {
	long requests; /* requests delayed */
	long ops; /* operations counted in them */
	long last_ms; /* the delay asked for the last one */
	long total_ms; /* sum of the delays asked */
	long max_overlap; /* most requests in their delay at once */
};

/* The delay for one request with `nops` operations (0 when cost= is off). */
long hfs_exec_cost_ms(const struct hf_server_faults *f, long nops);
/* The counters so far (under the lock). */
void hfs_exec_costs_get(hfs_exec *x, struct hfs_exec_costs *out);
/* Nodes the filters of listings examined so far (under the lock). */
unsigned long long hfs_exec_examined(hfs_exec *x);
/* Branch mirrors loaded from the database so far (under the lock). */
unsigned long long hfs_exec_mirror_loads(hfs_exec *x);

/*
 * How many objects of `kind` (a generic: of the kinds inheriting it) the
 * existing `branch` holds, from the branch's in-memory mirror (loaded if
 * needed): O(1) per concrete kind, where a count in SQLite reads the
 * kind's index. 0 for an unknown kind. Under the lock.
 */
int hfs_exec_kind_count(hfs_exec *x, const char *branch, const char *kind,
                        size_t *out, hf_error *err);

/* Whether `branch` exists (0/1), or a negative status. */
int hfs_exec_branch_exists(hfs_exec *x, const char *branch, hf_error *err);

#endif
