#ifndef HF_SCHEMA_CACHE_H
#define HF_SCHEMA_CACHE_H

/*
 * The schema of a branch through a cache of schema answers keyed by the
 * schema hash, kept in a directory (`.hubform/` beside the plan store).
 * Reading a large schema means the server building a multi-megabyte
 * answer, sending it and hubform decoding it; the schema hash comes
 * first and cheaply from GET /api/schema/summary, so an unchanged schema
 * is read from `DIR/schema-<hash>.json` (the answer as the server gave
 * it, compact, less the keys the parser never reads:
 * hf_schema_unread_keys) instead of being asked for again.
 *
 * A cached file is used only when its own "main" hash is the hash the
 * server reports now; anything unreadable or different is fetched
 * again and rewritten (atomically: a temporary file, then rename). A
 * server without the summary endpoint, or a cache directory that cannot
 * be written, only costs the cache: the schema is fetched as
 * hf_schema_fetch() does. At most HF_SCHEMA_CACHE_KEEP answers are kept;
 * older ones are removed when a new one is written.
 */
#include "hf/error.h"
#include "hf/schema.h"
#include "hf/transport.h"

#define HF_SCHEMA_CACHE_KEEP 4

struct hf_schema_cache_info {
	int hit; /* 1: read from the cache, 0: fetched */
	int stored; /* 1: a fetched answer was written to the cache */
	char hash[65]; /* the schema hash, "" when the server gave none */
};

/*
 * Read `branch`'s schema into *out (caller frees), through the cache in
 * `dir` (created, mode 0700, when absent; NULL: no cache). `info` may be
 * NULL. Errors are those of hf_schema_fetch().
 */
int hf_schema_cache_fetch(hf_schema **out, hf_transport *t, const char *branch,
                          const char *dir, struct hf_schema_cache_info *info,
                          hf_error *err);

#endif
