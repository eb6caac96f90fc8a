#ifndef HF_CMD_STATE_H
#define HF_CMD_STATE_H

#include "hf/store.h"
#include "target.h"

/*
 * The plan store path: --state FILE, else $HUBFORM_STATE, else
 * .hubform/plans.db. cli_cmd_open_store() creates it (and .hubform/) when
 * missing; only cli_ctx_store() (cmd_common.c) calls it. Prints errors;
 * 0 or -1.
 */
const char *cli_cmd_store_path(const char *state_opt);
/*
 * The plan store's directory (where the schema cache lives): that of
 * cli_cmd_store_path(state_opt), "." for a bare file name. Into out (n
 * bytes), which is returned.
 */
const char *cli_cmd_state_dir(const char *state_opt, char *out, size_t n);
int cli_cmd_open_store(hf_store **out, const char *state_opt);

/*
 * What a word on the command line names, decided here only: a plan file
 * is recognised by its content (hf_store_is_plan_file), never by name.
 */
enum cli_ref_kind {
	CLI_REF_LATEST, /* NULL or "latest" */
	CLI_REF_ID, /* a plan id or a unique prefix of one */
	CLI_REF_FILE, /* a plan file (written by `plan --out`) */
	CLI_REF_PATH, /* an existing file or folder that is no plan file */
	CLI_REF_MISSING, /* a path (it has a '/') to nothing */
};
enum cli_ref_kind cli_ref_kind(const char *ref);

/*
 * A plan named on the command line, and where it lives: `store` is the
 * plan store (borrowed from the command's context), `file` the plan file
 * when the reference was one.
 */
struct hf_plan_ref {
	hf_store *store; /* NULL for a read-only look with no store yet */
	hf_store *file; /* NULL unless the reference was a plan file */
	hf_plan *plan;
};

/*
 * Open a plan: `ref` is a plan id, a unique prefix, "latest" (NULL too:
 * the newest plan for `current`, the target options and environment
 * name now; never one for another target) or a plan file. Read-only
 * (show) creates nothing; writable (apply) opens the plan file
 * read-write and copies its plan into the plan store when it is not
 * there yet, so both record the outcome. The plan store is ctx's
 * (cli_ctx_store). Prints errors; 0 or -1.
 */
struct hf_ctx;
int cli_cmd_open_plan(struct hf_ctx *ctx, struct hf_plan_ref *r,
                      const char *state_opt, const char *ref,
                      const struct hf_target *current, int writable);
void cli_plan_ref_release(struct hf_plan_ref *r);

#endif
