#ifndef HF_PRUNE_H
#define HF_PRUNE_H

/*
 * Delete planning: owned objects that leave the files (--prune) or all
 * the stack owns (--destroy) become DELETE changes, and those another
 * stack owns too FORGET changes (they only leave this stack's group).
 *
 * - Cascades: a relationship with on_delete "cascade" of a deleted
 *   object takes its peers along on the server; each appears as a
 *   delete of its own, cascade_of = the delete that takes it, depending
 *   on it. A cascade that would reach an object the files declare, or
 *   that another stack owns, is an error naming both.
 * - Order: referrers first. A delete's deps are the deletes of the
 *   objects that refer to it (the holder of a cardinality-one
 *   relationship refers to its peer; of two cardinality-one ends, the
 *   mandatory one); hf_plan_finish() turns that into waves.
 * - Safety: a delete that would leave an object that is not deleted
 *   without the peer of a mandatory relationship (optional: false) is
 *   an error naming that object, unless the plan updates exactly that
 *   relationship of it (apply runs updates before deletes). So is a
 *   delete of an object the files still refer to (a reference in the
 *   `after` of a create, update or no-op), naming the referrer and
 *   where it is declared.
 * - A change's `before` holds the live attributes and cardinality-one
 *   relationships; its fingerprint is hf_diff_fingerprint() over the
 *   fields named in `before`, as apply re-reads them.
 *
 * Live objects are read with hf_fetch_by_ids() through the transport;
 * nothing is written.
 */
#include <jansson.h>

#include "hf/error.h"
#include "hf/owner.h"
#include "hf/plan.h"
#include "hf/schema.h"
#include "hf/transport.h"

/*
 * The stack's members no change of `plan` declares (no update or no-op
 * with that node id): a new JSON array of {"id": ..., "kind": ...} in
 * the group's order, or NULL on OOM.
 */
json_t *hf_prune_orphans(const hf_plan *plan, const hf_owner *owner);

/*
 * Add DELETE and FORGET changes to `plan` for the members in `doomed`
 * (an array as hf_prune_orphans() returns; for --destroy every member).
 * `keep` (may be NULL) sees each member's kind and live HFID once read:
 * 0 leaves it alone (a --target that does not name it); it then counts
 * as an object that stays, unless a cascade takes it.
 * Changes already in `plan` (creates, updates, no-ops) are what the
 * files declare. Returns 0, HF_EINVAL with every problem named in
 * `err` (a dangling mandatory relationship, a cascade into a declared or
 * shared object, a member whose kind the schema lacks or that has no
 * HFID), or the transport's failure. On failure `plan` may hold some of
 * the new changes; the caller discards it. Does not call
 * hf_plan_finish().
 */
typedef int (*hf_prune_keep_fn)(void *payload, const char *kind,
                                const json_t *hfid);

int hf_prune_plan(hf_plan *plan, const json_t *doomed, const hf_owner *owner,
                  const hf_schema *schema, hf_transport *tr,
                  hf_prune_keep_fn keep, void *payload, hf_error *err);

#endif
