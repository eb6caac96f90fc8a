/*
 * Where plans live, for every command that reads or writes them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output.h"
#include "state.h"
#include "hf/banned.h"

static const char *store_path(const char *state_opt)
{
	const char *env = getenv("HUBFORM_STATE");

	if (state_opt && *state_opt)
		return state_opt;
	if (env && *env)
		return env;
	if (mkdir(".hubform", 0777) < 0 && errno != EEXIST)
		out_warn("cannot create '.hubform': %s", strerror(errno));
	return ".hubform/plans.db";
}

int hf_cmd_open_store(hf_store **out, const char *state_opt)
{
	hf_error err = HF_ERROR_INIT;

	if (hf_store_open(out, store_path(state_opt), &err) < 0) {
		out_error("%s", err.msg);
		return -1;
	}
	return 0;
}

static int is_file(const char *ref)
{
	struct stat st;

	return strchr(ref, '/') || (stat(ref, &st) == 0 && S_ISREG(st.st_mode));
}

int hf_cmd_open_plan(hf_store **st, hf_plan **plan, const char *state_opt,
		     const char *ref)
{
	hf_error err = HF_ERROR_INIT;
	int rc;

	*st = NULL;
	*plan = NULL;
	if (!ref)
		ref = "latest";
	if (is_file(ref) && access(ref, R_OK) == 0) {
		rc = hf_store_open(st, ref, &err);
		if (rc == 0)
			rc = hf_store_load(*st, "latest", plan, &err);
	} else {
		if (hf_cmd_open_store(st, state_opt) < 0)
			return -1;
		rc = hf_store_load(*st, ref, plan, &err);
	}
	if (rc < 0) {
		if (rc == HF_ENOTFOUND && strcmp(ref, "latest"))
			out_error("no plan '%s' in the plan store", ref);
		else
			out_error("%s", err.msg);
		hf_store_close(*st);
		*st = NULL;
		return -1;
	}
	return 0;
}
