/*
 * Where plans live, for every command that reads or writes them. Reading
 * commands never create anything: no .hubform/, no store file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "output.h"
#include "state.h"
#include "hf/banned.h"

#define DEFAULT_STORE ".hubform/plans.db"

const char *cli_cmd_store_path(const char *state_opt)
{
	const char *env = getenv("HUBFORM_STATE");

	if (state_opt && *state_opt)
		return state_opt;
	if (env && *env)
		return env;
	return DEFAULT_STORE;
}

const char *cli_cmd_state_dir(const char *state_opt, char *out, size_t n)
{
	const char *path = cli_cmd_store_path(state_opt);
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(out, n, ".");
	else if (slash == path)
		snprintf(out, n, "/");
	else
		snprintf(out, n, "%.*s", (int)(slash - path), path);
	return out;
}

int cli_cmd_open_store(hf_store **out, const char *state_opt)
{
	const char *path = cli_cmd_store_path(state_opt);
	hf_error err = HF_ERROR_INIT;

	if (!strcmp(path, DEFAULT_STORE) && mkdir(".hubform", 0777) < 0 &&
	    errno != EEXIST) {
		out_error("cannot create '.hubform': %s", strerror(errno));
		return -1;
	}
	if (hf_store_open(out, path, &err) < 0) {
		out_error("%s", err.msg);
		return -1;
	}
	return 0;
}

void cli_plan_ref_release(struct hf_plan_ref *r)
{
	hf_plan_free(r->plan);
	hf_store_close(r->file);
	memset(r, 0, sizeof(*r)); /* the store is the context's */
}

/* The newest plan of any target, to say where the plans are. */
static void other_targets(hf_store *st)
{
	hf_plan *p = NULL;
	char t[HF_TARGET_IDENT_MAX + 300];

	if (cli_in_automation() || hf_store_load(st, "latest", &p, NULL) < 0)
		return;
	out_info("hint: the newest plan, %s, is for %s: 'hubform show %s', or "
	         "name that target with --address/--branch",
	         hf_plan_meta(p)->id,
	         cli_target_describe(hf_plan_meta(p)->address,
	                             hf_plan_meta(p)->branch, t, sizeof(t)),
	         hf_plan_meta(p)->id);
	hf_plan_free(p);
}

static int load_latest(struct hf_plan_ref *r, const struct hf_target *cur)
{
	char id[HF_PLAN_ID_LEN + 1], t[HF_TARGET_IDENT_MAX + 300];
	hf_error err = HF_ERROR_INIT;
	const char *branch = cur->branch_from ? cur->branch : NULL;
	int rc;

	rc = hf_store_latest_for(r->store, cur->ident, branch, id, &err);
	if (rc == HF_ENOTFOUND) {
		out_error(
		        "no plan for %s yet; run 'hubform plan PATH...'",
		        cli_target_describe(cur->ident, branch, t, sizeof(t)));
		other_targets(r->store);
		return -1;
	}
	if (rc == 0)
		rc = hf_store_load(r->store, id, &r->plan, &err);
	if (rc < 0) {
		out_error("%s", err.msg);
		return -1;
	}
	return 0;
}

static int open_main(struct hf_ctx *ctx, struct hf_plan_ref *r,
                     const char *state_opt, int writable)
{
	int rc = cli_ctx_store(ctx, state_opt, writable, &r->store);

	if (rc == HF_ENOTFOUND)
		out_error("there are no plans yet (no plan store at '%s'); run "
		          "'hubform plan PATH...'",
		          cli_cmd_store_path(state_opt));
	return rc < 0 ? -1 : 0;
}

/* A plan file: its one plan; for apply, also a copy in the plan store. */
static int open_file(struct hf_ctx *ctx, struct hf_plan_ref *r,
                     const char *state_opt, const char *path, int writable)
{
	hf_error err = HF_ERROR_INIT;
	int rc;

	rc = hf_store_open_mode(
	        &r->file, path,
	        writable ? HF_STORE_EXISTING : HF_STORE_READONLY, &err);
	if (rc == 0)
		rc = hf_store_load(r->file, "latest", &r->plan, &err);
	if (rc < 0) {
		out_error("plan file '%s': %s", path, err.msg);
		return -1;
	}
	if (!writable)
		return 0;
	if (cli_ctx_store(ctx, state_opt, 1, &r->store) < 0)
		return -1;
	/* the same file as the plan store: one record is enough */
	if (!strcmp(cli_cmd_store_path(state_opt), path)) {
		hf_store_close(r->file);
		r->file = NULL;
		return 0;
	}
	if (!hf_store_has(r->store, hf_plan_meta(r->plan)->id) &&
	    hf_store_save(r->store, r->plan, &err) < 0) {
		out_error("%s", err.msg);
		return -1;
	}
	return 0;
}

enum cli_ref_kind cli_ref_kind(const char *ref)
{
	struct stat sb;

	if (!ref)
		return CLI_REF_LATEST;
	if (hf_store_is_plan_file(ref))
		return CLI_REF_FILE;
	if (stat(ref, &sb) == 0)
		return CLI_REF_PATH;
	if (strchr(ref, '/'))
		return CLI_REF_MISSING;
	return strcmp(ref, "latest") ? CLI_REF_ID : CLI_REF_LATEST;
}

int cli_cmd_open_plan(struct hf_ctx *ctx, struct hf_plan_ref *r,
                      const char *state_opt, const char *ref,
                      const struct hf_target *current, int writable)
{
	hf_error err = HF_ERROR_INIT;
	int rc;

	memset(r, 0, sizeof(*r));
	switch (cli_ref_kind(ref)) {
	case CLI_REF_FILE:
		rc = open_file(ctx, r, state_opt, ref, writable);
		break;
	case CLI_REF_PATH:
	case CLI_REF_MISSING:
		out_error(
		        "'%s' is not a plan file (a plan is named by its id, "
		        "'latest', or a file written by 'hubform plan --out')",
		        ref);
		rc = -1;
		break;
	case CLI_REF_LATEST:
		rc = open_main(ctx, r, state_opt, writable);
		if (rc == 0)
			rc = load_latest(r, current);
		break;
	default:
		rc = open_main(ctx, r, state_opt, writable);
		if (rc < 0)
			break;
		rc = hf_store_load(r->store, ref, &r->plan, &err);
		if (rc == HF_ENOTFOUND)
			out_error("no plan '%s' in the plan store '%s'", ref,
			          hf_store_path(r->store));
		else if (rc < 0)
			out_error("%s", err.msg);
		break;
	}
	if (rc < 0)
		cli_plan_ref_release(r);
	return rc < 0 ? -1 : 0;
}
