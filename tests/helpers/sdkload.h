#ifndef HF_SDKLOAD_H
#define HF_SDKLOAD_H

/*
 * A test helper that writes Infrahub object files into a server the way
 * the official Python SDK's `infrahubctl object load` does: one Upsert
 * per object, sequentially, nested children ordered by the schema, string
 * values sent as GraphQL variables. It is independent of engine/ on
 * purpose: it checks the local endpoint against the SDK's behaviour, not
 * against hubform's own planner.
 */
#include <jansson.h>
#include <stddef.h>

/* YAML file -> JSON array of its documents (PyYAML-like scalar typing). */
json_t *hf_yaml_file_json(const char *path);

struct hf_sdkload {
	const char *url; /* server base URL */
	const char *branch; /* NULL: main */
	const char *token; /* X-INFRAHUB-KEY or NULL */
	json_t *schema; /* GET /api/schema body, fetched on first use */
	long requests; /* mutations sent */
	long failures; /* objects the server refused */
	json_t *errors; /* array of error messages, in order */
};

/* Load every object of `files` in order; 0, or -1 on a transport error. */
int hf_sdkload_files(struct hf_sdkload *l, const char *const *files, size_t n);
void hf_sdkload_release(struct hf_sdkload *l);

/*
 * POST a GraphQL document with variables (may be NULL) to the server;
 * returns the decoded body (caller decrefs) or NULL on transport error.
 */
json_t *hf_gql(const char *url, const char *branch, const char *token,
               const char *query, json_t *variables);

/* POST {"schemas":[docs of each YAML file]} to /api/schema/load. */
json_t *hf_schema_load_files(const char *url, const char *token,
                             const char *const *files, size_t n, long *status);

#endif
