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
 * a warning naming both places, an error with `strict`. Declarations of
 * an unkeyed kind never merge (hf_resolve_unkeyed()).
 *
 * Relationships take the shapes of the object-file spec (the SDK's
 * infrahub_sdk/spec/object.py): one: "hfid", [hfid, parts] or
 * {kind?, parameters?, data: {...}}; many: a list of those references,
 * {kind?, parameters?, data: [...]} or [{kind?, data: {...}}, ...]; null
 * clears. Any other shape, a nested block's unknown key or a nested kind
 * the relationship cannot hold is an error at its FILE:LINE:COL.
 *
 * A reference whose target the files declare names that object's own
 * kind, also when the relationship's peer is a generic its kind
 * implements (inherit_from or used_by: templates of CoreObjectTemplate,
 * profiles of CoreProfile); two such targets are an error. An object
 * created from a template (it sets object_template) needs none of the
 * fields the template's kind can hold, and gets only the fields the file
 * sets. Secret values (hf_attr_kind_is_secret()) never appear in a
 * message.
 */
#include <stdbool.h>

#include "hf/error.h"
#include "hf/manifest.h"
#include "hf/model.h"
#include "hf/schema.h"

struct hf_resolve_opts {
	int strict; /* conflicting repeats are errors */
	int allow_unkeyed; /* accept kinds without HFID or unique attribute */
	/*
	 * Drop the manifest's documents (hf_manifest_drop_documents()) as
	 * soon as every object is built from them, before the passes that
	 * name, merge and link the objects: the parsed files and the
	 * objects need not all be held at once. The caller then has the
	 * manifest's file names and digest only. Not when building found
	 * errors: the documents stay for the caller's hints.
	 */
	int consume;
};

#define HF_RESOLVE_OPTS_INIT \
	{                    \
		0, 0, 0      \
	}

typedef void (*hf_resolve_diag_fn)(void *payload, enum hf_mdiag_level level,
                                   const hf_error *diag);

/*
 * Whether objects of `kind` are unkeyed: the kind has neither a
 * human_friendly_id nor a unique attribute, so no live object can be
 * matched to a declaration. With allow_unkeyed, the resolver gives each
 * declaration of such a kind an identity of its own, "@FILE:LINE:COL"
 * (then "#2", "#3"... for further objects made from the same place, such
 * as the items of an expand_range list), which names a place in the files,
 * not an HFID: it must never be sent to Infrahub as one (an `hfid:`
 * filter on such a kind is refused). NULL or unknown kinds: false.
 */
bool hf_resolve_unkeyed(const hf_schema *s, const char *kind);

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
