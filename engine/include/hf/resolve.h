#ifndef HF_RESOLVE_H
#define HF_RESOLVE_H

/*
 * Schema-aware resolution: the loaded object files and the target's
 * schema into the desired objects, each with its identity (kind, HFID),
 * its managed fields (normalised attribute values and relationship
 * references) and the place it was written.
 *
 * Nested children are linked from the child's side: a child gets a
 * reference to its parent through the relationship that mirrors the
 * parent's (same identifier), and the parent manages no field for that
 * block, because Infrahub refuses a peer that already belongs to another
 * node when the link is written from the parent's side.
 *
 * Repeated declarations merge field by field in load order, later wins
 * (what sequential upserts give); a field given two different values is
 * a warning naming both places, an error with `strict`.
 */
#include "hf/error.h"
#include "hf/manifest.h"
#include "hf/model.h"
#include "hf/schema.h"

struct hf_resolve_opts {
	int strict;        /* conflicting repeats are errors */
	int allow_unkeyed; /* accept kinds without HFID or unique attribute */
};

#define HF_RESOLVE_OPTS_INIT { 0, 0 }

typedef void (*hf_resolve_diag_fn)(void *payload, enum hf_mdiag_level level,
				   const hf_error *diag);

/*
 * Resolve `m` against `s`. Every problem goes to `diag` with its
 * FILE:LINE:COL; resolution goes on after errors so one run reports them
 * all. On return *out holds the desired objects (in order of first
 * declaration; caller frees). Returns 0 when no error was reported,
 * HF_EINVAL when some were, HF_ENOMEM.
 */
int hf_resolve(hf_objset **out, hf_manifest *m, const hf_schema *s,
	       const struct hf_resolve_opts *o, hf_resolve_diag_fn diag,
	       void *payload, hf_error *err);

#endif
