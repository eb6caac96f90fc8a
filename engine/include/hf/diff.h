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
 * concrete kind. A reference is compared and shown under its concrete
 * kind when that is known (the desired object it points at, or the live
 * peer it matches), so that a generic peer kind on one side and the
 * concrete kind on the other is neither a change nor shown as one.
 *
 * Secrets (attributes of kind Password or HashedPassword, such as
 * CoreAccount.password) are write-only. A create carries the value in
 * `after`, wrapped with a random salt (hf_value_sensitive(); the one
 * thing here that is not the same from run to run); an
 * update or no-op leaves the field out altogether (not in before, after,
 * changed or the fingerprint), so a secret is never an update: Infrahub
 * stores a hash, which can never equal the file's text.
 *
 * Why the plan keeps the value rather than a marker that apply would
 * resolve by reading the object files again: a stored plan must apply on
 * its own (`apply PLAN` in a merge job that has the plan file and no
 * files, or files that moved on since), and it must apply exactly what
 * was reviewed; re-reading files at apply would break both. The value is
 * no more exposed in the plan store than in the object files it came
 * from, which hold it in clear text (as Terraform keeps sensitive values
 * in its plan files and state). What the wrapper guarantees is that it is
 * never shown: text, JSON and Markdown renderers print "(sensitive)",
 * resolver warnings and value errors never quote it, and apply keeps it
 * out of the errors it records. Treat plans.db and `plan --out` files as
 * secrets, as one treats the object files.
 *
 * Does not call hf_plan_finish().
 */
int hf_diff(hf_plan *plan, const hf_objset *want, const hf_objset *have,
            const hf_schema *schema, hf_error *err);

/*
 * Progress of hf_diff_ext(): `done` of `total` desired objects compared.
 * Called every 1024 objects and once at the end (done == total, also
 * when total is 0), never after a failure. Only reports numbers: the
 * caller decides what to print.
 */
typedef void (*hf_diff_progress_fn)(void *payload, size_t done, size_t total);

struct hf_diff_opts {
	const hf_schema *schema; /* as hf_diff()'s; may be NULL */
	hf_diff_progress_fn progress; /* may be NULL */
	void *payload; /* passed to progress */
	/*
	 * 1: the caller is done with both sets' fields once the plan is
	 * built: each desired object and its live counterpart give their
	 * fields back as soon as their change is made (identities, node ids
	 * and file positions stay), so the plan does not grow on top of
	 * both sets. 0: the sets are left as they were.
	 */
	int consume;
	/*
	 * 1: a second thread reads ahead of the diff when there are many
	 * objects (the twin look-ups, comparisons and no-ops' texts); the
	 * plan is the same.
	 */
	int ahead;
};

#define HF_DIFF_OPTS_INIT              \
	{                              \
		NULL, NULL, NULL, 0, 0 \
	}

/*
 * hf_diff() with options (`o` may be NULL: no schema, no progress).
 * Returns as hf_diff() does.
 */
int hf_diff_ext(hf_plan *plan, const hf_objset *want, const hf_objset *have,
                const struct hf_diff_opts *o, hf_error *err);

/*
 * Fingerprint of `live`'s fields named like those of `want` (all of
 * `live`'s fields when `want` is NULL): SHA-256 over its id and the
 * canonical JSON of those fields, as lowercase hex.
 */
int hf_diff_fingerprint(char out[65], const struct hf_object *live,
                        const struct hf_object *want);

/*
 * The same over the fields of `live` named by the keys of the JSON object
 * `fields` (a change's before: what apply and prune re-check). 0 or
 * HF_ENOMEM.
 */
int hf_diff_fingerprint_fields(char out[65], const struct hf_object *live,
                               const json_t *fields);

/* A field as plan JSON: attribute value, {kind, hfid} or a sorted list. */
json_t *hf_field_json(const struct hf_field *f);

#endif
