#ifndef HF_DIFF_H
#define HF_DIFF_H

/*
 * The diff: desired objects against live ones, into plan changes. Pure:
 * values in, values out, no I/O.
 */
#include "hf/error.h"
#include "hf/model.h"
#include "hf/plan.h"
#include "hf/schema.h"

/*
 * For every desired object in `want` (in order), add one change to `plan`:
 * create when `have` holds no object with its identity, otherwise update
 * (some managed field differs) or no-op. Only the fields the desired
 * object sets are compared: attributes through hf_value_equal(), so that
 * what Infrahub echoes back in its own spelling is not a change;
 * relationships by peer identity (HFID, or node id), many-relationships
 * as sets. A change that refers to an object the same plan creates
 * depends on that create. Each update and no-op records the fingerprint
 * of the live object's managed fields (hf_diff_fingerprint()).
 * `schema` (may be NULL) lets a reference to a generic peer match its
 * concrete kind. Does not call hf_plan_finish().
 */
int hf_diff(hf_plan *plan, const hf_objset *want, const hf_objset *have,
	    const hf_schema *schema, hf_error *err);

/*
 * Fingerprint of `live`'s fields named like those of `want` (all of
 * `live`'s fields when `want` is NULL): SHA-256 over its id and the
 * canonical JSON of those fields, as lowercase hex.
 */
int hf_diff_fingerprint(char out[65], const struct hf_object *live,
			const struct hf_object *want);

/* A field as plan JSON: attribute value, {kind, hfid} or a sorted list. */
json_t *hf_field_json(const struct hf_field *f);

#endif
