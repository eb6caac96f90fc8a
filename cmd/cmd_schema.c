/*
 * hubform schema load FILE|DIR...: send Infrahub schema files to the
 * target in one request, as `infrahubctl schema load` does, and report
 * whether the schema changed. Infrahub's validation errors (422) are
 * printed as it gives them.
 */
#include <string.h>

#include "hf/alloc.h"
#include "hf/yjson.h"
#include "cmd.h"
#include "opt.h"
#include "output.h"
#include "pipeline.h"
#include "target.h"
#include "hf/banned.h"

static const char usage[] =
        "hubform schema load PATH... [--address URL] [--branch B]";

int cmd_schema(struct hf_ctx *ctx, int argc, char **argv)
{
	struct hf_pipeline_opts po = HF_PIPELINE_OPTS_INIT;
	struct hf_strlist args = { 0 };
	struct hf_pipeline *pl;
	json_t *schemas = NULL;
	const struct hf_opt opts[] = {
		HF_PIPELINE_OPTIONS(po),
		HF_OPT_END(),
	};
	int rc;

	if (cli_target_default_timeout(&po.timeout) < 0)
		return HF_EXIT_ERROR;
	rc = cli_cmd_parse(ctx, usage,
	                   "Load Infrahub schema files into the target.", opts,
	                   argc, argv, &args);
	if (rc >= 0)
		goto out;
	rc = HF_EXIT_USAGE;
	if (args.n < 2 || strcmp(args.items[0], "load")) {
		out_error("usage: %s", usage);
		goto out;
	}
	rc = HF_EXIT_ERROR;
	if (cli_pipeline_schema_files(&schemas, args.items + 1, args.n - 1) < 0)
		goto out;
	pl = cli_ctx_pipeline(ctx);
	if (cli_pipeline_connect(pl, &po) < 0 && !pl->client)
		goto out;
	rc = cli_pipeline_schema_load(pl, schemas, 0) < 0 ? HF_EXIT_ERROR
	                                                  : HF_EXIT_OK;
out:
	json_decref(schemas);
	cli_strlist_release(&args);
	return rc;
}
