/*
 * hubform show [PLAN] [--format text|json|markdown]: print a stored plan
 * (the latest when PLAN is omitted; PLAN is an id, a unique prefix,
 * "latest", or a file written by `plan --out`). Markdown is meant for a
 * pull-request comment and stays under GitHub's size limit; JSON is for
 * tools (format_version, applyable, errored, Terraform-like addresses and
 * actions: docs/json-format.md).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hf/render.h"
#include "cmd.h"
#include "opt.h"
#include "output.h"
#include "state.h"
#include "hf/banned.h"

static const char usage[] =
        "hubform show [PLAN|FILE] [--format text|json|markdown] [--state FILE]";

int cmd_show(struct hf_ctx *ctx, int argc, char **argv)
{
	struct hf_render_opts ro = HF_RENDER_OPTS_INIT;
	struct hf_strlist args = { 0 };
	const char *state = NULL, *format = "text";
	struct hf_target_opts to = { NULL, NULL, NULL, 0 };
	struct hf_target now;
	struct hf_plan_ref ref;
	int verbose = 0, no_color = 0;
	hf_buf b = HF_BUF_INIT;
	hf_plan *p = NULL;
	const struct hf_opt opts[] = {
		HF_OPT_STRING(
		        0, "address", "URL", &to.address,
		        "for 'latest': the target's address (default "
		        "$INFRAHUB_ADDRESS; none: the embedded endpoint)"),
		HF_OPT_STRING(
		        'b', "branch", "BRANCH", &to.branch,
		        "for 'latest': the target branch (default "
		        "$INFRAHUB_DEFAULT_BRANCH or the server's default)"),
		HF_OPT_STRING('f', "format", "FORMAT", &format,
		              "text (default), json (schemas/plan.schema.json, "
		              "docs/json-format.md) or markdown"),
		HF_OPT_STRING(
		        0, "state", "FILE", &state,
		        "plan store (default $HUBFORM_STATE or .hubform/plans.db)"),
		HF_OPT_BOOL('v', "verbose", &verbose,
		            "also list unchanged objects"),
		HF_OPT_BOOL(0, "no-color", &no_color,
		            "never colour the output"),
		HF_OPT_END(),
	};
	int rc;

	memset(&ref, 0, sizeof(ref));
	rc = cli_cmd_parse(
	        ctx, usage,
	        "Print a stored plan: PLAN is an id, a "
	        "unique prefix, 'latest' (the default: the newest plan for "
	        "the current target) or a plan file.",
	        opts, argc, argv, &args);
	if (rc >= 0)
		goto out;
	rc = HF_EXIT_USAGE;
	if (args.n > 1) {
		out_error("'show' takes at most one plan");
		goto out;
	}
	if (strcmp(format, "text") && strcmp(format, "json") &&
	    strcmp(format, "markdown")) {
		out_error("unknown format '%s' (text, json or markdown)",
		          format);
		goto out;
	}
	rc = HF_EXIT_ERROR;
	memset(&ref, 0, sizeof(ref));
	if (cli_target_resolve(&now, &to) < 0 ||
	    cli_cmd_open_plan(ctx, &ref, state, args.n ? args.items[0] : NULL,
	                      &now, 0) < 0)
		goto out;
	p = ref.plan;
	ro.verbose = verbose;
	ro.color = !no_color && isatty(1) && !getenv("NO_COLOR");
	ro.flush = out_piece; /* out as it is made, never held whole */
	if (!strcmp(format, "json"))
		rc = hf_render_json_ext(&b, p, &ro);
	else if (!strcmp(format, "markdown")) {
		ro.flush = NULL; /* cut to fit a comment: made whole */
		rc = hf_render_markdown(&b, p, &ro);
	} else {
		rc = hf_render_text(&b, p, &ro);
	}
	if (rc < 0) {
		/* HF_ERR: stdout failed, which out_finish() reports */
		if (rc == HF_ENOMEM)
			out_error("out of memory");
		else if (rc != HF_ERR)
			out_error("cannot print the plan as %s", format);
		rc = HF_EXIT_ERROR;
		goto out;
	}
	out_datan(b.ptr, b.len);
	rc = HF_EXIT_OK;
out:
	hf_buf_release(&b);
	cli_plan_ref_release(&ref);
	cli_strlist_release(&args);
	return rc;
}
