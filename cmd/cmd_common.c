/*
 * Shared by the commands: lookup in the table, top-level usage, the
 * option-parsing wrapper that turns parse results into exit codes, and
 * the set-up the table's `needs` ask for.
 */
#include <stdlib.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/client.h"
#include "cmd.h"
#include "opt.h"
#include "output.h"
#include "pipeline.h"
#include "state.h"
#include "hf/banned.h"

const struct hf_cmd *cli_cmd_lookup(const char *name)
{
	const struct hf_cmd *c;

	for (c = cli_commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

/* The closest command name to `name`, or NULL when none is close. */
static const char *suggest(const char *name)
{
	const struct hf_cmd *c, *best = NULL;
	size_t d, bestd = (size_t)-1, len = strlen(name);

	for (c = cli_commands; c->name; c++) {
		d = cli_opt_distance(name, len, c->name);
		if (d < bestd && cli_opt_near(name, len, c->name)) {
			best = c;
			bestd = d;
		}
	}
	return best ? best->name : NULL;
}

int cli_cmd_not_found(const char *name)
{
	const char *hint = suggest(name);

	if (hint)
		out_error("'%s' is not a hubform command; did you mean '%s'?",
		          name, hint);
	else
		out_error("'%s' is not a hubform command; see 'hubform --help'",
		          name);
	return HF_EXIT_USAGE;
}

void cli_main_usage(int to_stderr)
{
	const struct hf_cmd *c;

	if (to_stderr) {
		out_info(
		        "usage: hubform COMMAND [ARGS...]; see 'hubform --help'");
		return;
	}
	out_data("usage: hubform COMMAND [ARGS...]\n\n"
	         "A declarative plan/apply tool for Infrahub.\n\n"
	         "commands:\n");
	for (c = cli_commands; c->name; c++)
		out_data("  %-12s %s\n", c->name, c->summary);
	out_data("\nRun 'hubform help COMMAND' or 'hubform COMMAND --help' "
	         "for a command's options.\n"
	         "Exit codes: 0 success, 1 error, 2 changes "
	         "(--detailed-exitcode), 3 stale plan, 64 usage error.\n");
}

int cli_cmd_parse(struct hf_ctx *ctx, const char *usage, const char *summary,
                  const struct hf_opt *opts, int argc, char **argv,
                  struct hf_strlist *args)
{
	hf_error err = HF_ERROR_INIT;
	char *text;
	int rc;

	rc = cli_opt_parse(opts, argc, argv, args, &err);
	if (rc == HF_OPT_HELP && ctx->capture) {
		ctx->capture(ctx->capture_payload, usage, summary, opts);
		return HF_EXIT_OK;
	}
	if (rc == HF_OPT_HELP) {
		text = cli_opt_usage(usage, summary, opts);
		if (text)
			out_data("%s", text);
		hf_free(text);
		return HF_EXIT_OK;
	}
	if (rc < 0) {
		out_error("%s", err.msg);
		out_info("usage: %s", usage);
		return rc == HF_ENOMEM ? HF_EXIT_ERROR : HF_EXIT_USAGE;
	}
	return -1;
}

/* A command asked for what its table row does not declare: a bug. */
static void undeclared(const struct hf_ctx *ctx, const char *need)
{
	out_error("internal error: command '%s' uses %s without declaring it",
	          ctx->name, need);
	out_finish();
	abort();
}

int cli_ctx_setup(struct hf_ctx *ctx, const char *name, unsigned needs,
                  struct hf_pipeline *pl)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->name = name;
	ctx->needs = needs;
	if (!(needs & NEED_TARGET))
		return 0;
	/* process-wide, before any thread (the embedded endpoint's) starts */
	if (hf_client_global_init() < 0) {
		out_error("cannot initialise libcurl");
		return -1;
	}
	memset(pl, 0, sizeof(*pl));
	ctx->pl = pl;
	return 0;
}

void cli_ctx_teardown(struct hf_ctx *ctx)
{
	if (ctx->pl) {
		cli_pipeline_release(ctx->pl);
		hf_client_global_cleanup();
	}
	hf_store_close(ctx->store);
	memset(ctx, 0, sizeof(*ctx));
}

struct hf_pipeline *cli_ctx_pipeline(struct hf_ctx *ctx)
{
	if (!(ctx->needs & NEED_TARGET) || !ctx->pl)
		undeclared(ctx, "a target");
	return ctx->pl;
}

int cli_ctx_store(struct hf_ctx *ctx, const char *state_opt, int writable,
                  struct hf_store **out)
{
	const char *path = cli_cmd_store_path(state_opt);
	hf_error err = HF_ERROR_INIT;
	int rc;

	if (!(ctx->needs & NEED_STORE))
		undeclared(ctx, "the plan store");
	*out = NULL;
	if (ctx->store && (ctx->store_writable || !writable)) {
		*out = ctx->store;
		return 0;
	}
	hf_store_close(ctx->store);
	ctx->store = NULL;
	if (writable) {
		if (cli_cmd_open_store(&ctx->store, state_opt) < 0)
			return -1;
	} else {
		rc = hf_store_open_mode(&ctx->store, path, HF_STORE_READONLY,
		                        &err);
		if (rc == HF_ENOTFOUND)
			return HF_ENOTFOUND;
		if (rc < 0) {
			out_error("%s", err.msg);
			return -1;
		}
	}
	ctx->store_writable = writable;
	*out = ctx->store;
	return 0;
}
