#ifndef HF_CMD_STATE_H
#define HF_CMD_STATE_H

#include "hf/store.h"

/*
 * The plan store path: --state FILE, else $HUBFORM_STATE, else
 * .hubform/plans.db (the .hubform directory is created when missing).
 * Opens it, printing an error on failure. Returns 0 or -1.
 */
int hf_cmd_open_store(hf_store **out, const char *state_opt);

/*
 * Open a plan reference for show/apply: a plan id, a prefix, "latest", or
 * a path to a plan file written by `plan --out`. On success *st and *plan
 * are the caller's. Prints errors; returns 0 or -1 (not found / invalid).
 */
int hf_cmd_open_plan(hf_store **st, hf_plan **plan, const char *state_opt,
		     const char *ref);

#endif
