#ifndef HF_CMD_STATE_H
#define HF_CMD_STATE_H

#include "hf/store.h"
#include "target.h"

/*
 * The plan store path: --state FILE, else $HUBFORM_STATE, else
 * .hubform/plans.db. hf_cmd_open_store() creates it (and .hubform/) when
 * missing, for commands that write plans. Prints errors; 0 or -1.
 */
const char *hf_cmd_store_path(const char *state_opt);
int hf_cmd_open_store(hf_store **out, const char *state_opt);

/*
 * A plan named on the command line, and where it lives: `store` is the
 * plan store, `file` the plan file when the reference was one (a file
 * written by `plan --out`, recognised by content, never by name).
 */
struct hf_plan_ref {
	hf_store *store; /* NULL for a read-only look with no store yet */
	hf_store *file;  /* NULL unless the reference was a plan file */
	hf_plan *plan;
};

/*
 * Open a plan: `ref` is a plan id, a unique prefix, "latest" (NULL too:
 * the newest plan for `current`, the target options and environment
 * name now; never one for another target) or a plan file. Read-only
 * (show) creates nothing; writable (apply) opens the plan file
 * read-write and copies its plan into the plan store when it is not
 * there yet, so both record the outcome. Prints errors; 0 or -1.
 */
int hf_cmd_open_plan(struct hf_plan_ref *r, const char *state_opt,
		     const char *ref, const struct hf_target *current,
		     int writable);
void hf_plan_ref_release(struct hf_plan_ref *r);

#endif
