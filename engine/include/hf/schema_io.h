#ifndef HF_SCHEMA_IO_H
#define HF_SCHEMA_IO_H

/*
 * The schema REST calls: read a branch's schema (GET /api/schema) into
 * the engine's model, and send schema files (POST /api/schema/load), as
 * `infrahubctl schema load` does: every document in one request.
 */
#include <jansson.h>

#include "hf/error.h"
#include "hf/schema.h"
#include "hf/transport.h"

/* Read and parse `branch`'s schema into *out (caller frees). */
int hf_schema_fetch(hf_schema **out, hf_transport *t, const char *branch,
                    hf_error *err);

struct hf_schema_load_result {
	int updated; /* the schema changed */
	char hash[65]; /* the schema hash after the load */
};

/*
 * Send `docs` (a JSON array of schema documents) to `branch` in one
 * request. A refused schema is HF_ESERVER with Infrahub's messages.
 */
int hf_schema_send(hf_transport *t, const char *branch, json_t *docs,
                   struct hf_schema_load_result *res, hf_error *err);

#endif
