#ifndef HF_SRVAPP_H
#define HF_SRVAPP_H

/*
 * Test helpers for the server tests (tests/test_srv_*) that drive the
 * local endpoint in-process through hfs_app_handle(), without HTTP:
 * GraphQL requests and their data or first error, REST requests, schema
 * loads, and walking the JSON answers. Every helper that checks
 * something fails the running cmocka test (with what it got on stderr).
 *
 * srvapp.c is its own library, hf_srvhelp, linked only into the server
 * tests with the server itself (tests/CMakeLists.txt); it calls
 * hfs_app_handle() directly.
 *
 * Strings returned "(static)" live in the helper's own buffers, valid
 * until the next call of that helper (srv_id_of keeps the last 8).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

struct hfs_app;

/* One request and its answer. */
struct srv_call {
	const char *method;
	const char *path; /* without the query string */
	const char *branch; /* ?branch= or NULL */
	const char *body; /* NULL: none */
	int status; /* out: HTTP status */
	int mutated; /* out: a mutation committed */
	const char *allow; /* out: Allow header (static) or NULL */
	char *reply; /* out: the body, hf_alloc'ed (caller frees), or NULL */
};

/* Send one request to the app; fills c's out fields. */
void srv_send(struct hfs_app *app, struct srv_call *c);

/*
 * A REST (or any) request: the decoded body (JSON_DECODE_ANY; NULL when
 * empty or not JSON; caller decrefs), the status into *status.
 */
json_t *srv_rest(struct hfs_app *app, const char *method, const char *path,
                 const char *branch, const char *body, int *status);
/* POST /api/schema/load of `text`, which must answer 200. */
void srv_load_schema(struct hfs_app *app, const char *text);
/* srv_load_schema() of $HF_TEST_DATA/<rel_path>. */
void srv_load_schema_file(struct hfs_app *app, const char *rel_path);

/*
 * POST {"query": q, "variables": vars} to /graphql[/branch] (branch NULL:
 * the default); the answer must be HTTP 200. vars may be NULL and is
 * stolen. *mutated (may be NULL) tells whether a mutation committed.
 * Returns the raw body (hf_free).
 */
char *srv_gql_text(struct hfs_app *app, const char *branch, const char *q,
                   json_t *vars, int *mutated);
/* The same, decoded: the whole answer, which must be JSON (decref). */
json_t *srv_gql(struct hfs_app *app, const char *branch, const char *q,
                json_t *vars);
/* "data" of a request that must have no errors (decref). */
json_t *srv_ok(struct hfs_app *app, const char *branch, const char *q);
/* srv_ok() with the data thrown away. */
void srv_run(struct hfs_app *app, const char *branch, const char *q);
/* The first error message of a request that must fail (static). */
const char *srv_err_of(struct hfs_app *app, const char *branch, const char *q);
/* One query; the string at `path` of its data, copied into out. */
void srv_q_str(struct hfs_app *app, const char *branch, const char *q,
               const char *path, char *out, size_t len);
/* The id of the one node of `kind` whose name is `name` (static). */
const char *srv_id_of(struct hfs_app *app, const char *branch, const char *kind,
                      const char *name);
/* How many nodes of `kind` the branch has. */
long long srv_count_of(struct hfs_app *app, const char *branch,
                       const char *kind);
/* Branch<op> (Create, Merge, Delete, ...) of branch `name`, on main. */
void srv_branch_op(struct hfs_app *app, const char *op, const char *name);

/*
 * Walk a dotted path like "LabSite.edges.0.node.name.value" (numbers
 * index arrays); NULL when a step is missing. Borrowed from v.
 */
json_t *srv_at(json_t *v, const char *path);
const char *srv_str_at(json_t *v, const char *path);
long long srv_int_at(json_t *v, const char *path);
/* Absent or JSON null. */
int srv_null_at(json_t *v, const char *path);
/* hay contains needle (both printed when not). */
void srv_contains(const char *hay, const char *needle);

struct hf_server_options;

/* A new app with options `o`, its failure printed. NULL on failure;
 * hfs_app_close() it. */
struct hfs_app *srv_app_open(const struct hf_server_options *o);

/*
 * A test fixture: `size` zeroed bytes (calloc) whose first member is a
 * struct hfs_app *, set to srv_app_open(o). NULL on failure. For
 * srv_fx_teardown().
 */
void *srv_fx_new_with(size_t size, const struct hf_server_options *o);
/* The same with the default options on `data`. */
void *srv_fx_new(size_t size, const char *data);
/* cmocka teardown of a srv_fx_new() fixture: closes the app, frees it. */
int srv_fx_teardown(void **state);

#endif
