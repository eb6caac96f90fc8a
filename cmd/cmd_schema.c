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
#include "hf/banned.h"

static const char usage[] =
	"hubform schema load PATH... [--address URL] [--branch B]";

/* Every schema document of the files, as JSON. */
static json_t *collect(struct hf_pipeline *pl)
{
	json_t *all = json_array(), *j;
	const hf_mdoc *d;
	hf_error err = HF_ERROR_INIT;
	size_t i;

	for (i = 0; all && i < hf_manifest_doc_count(pl->manifest); i++) {
		d = hf_manifest_doc_at(pl->manifest, i);
		if (hf_mdoc_type(d) != HF_MDOC_SCHEMA)
			continue;
		if (hf_yval_json(&j, hf_mdoc_root(d), &err) < 0) {
			out_info("%s:%d:%d: %s", err.where, err.line, err.col, err.msg);
			json_decref(all);
			return NULL;
		}
		json_array_append_new(all, j);
	}
	return all;
}

static void print_422(const json_t *res)
{
	json_t *e, *errs = json_object_get(res, "errors");
	size_t i;
	char *loc;

	json_array_foreach(json_object_get(res, "detail"), i, e)
	{
		loc = json_dumps(json_object_get(e, "loc"), JSON_COMPACT);
		out_error("%s at %s", json_string_value(json_object_get(e, "msg")),
			  loc ? loc : "?");
		hf_free(loc);
	}
	json_array_foreach(errs, i, e)
	{
		out_error("%s", json_string_value(json_object_get(e, "message")));
	}
}

static int load(struct hf_pipeline *pl, json_t *schemas)
{
	json_t *body = json_pack("{s:O}", "schemas", schemas), *res = NULL;
	hf_error err = HF_ERROR_INIT;
	char path[512];
	long status;
	int rc;

	snprintf(path, sizeof(path), "/api/schema/load?branch=%s", pl->target.branch);
	rc = hf_client_post_json(pl->client, path, body, &res, &status, &err);
	json_decref(body);
	if (rc < 0) {
		out_error("%s", err.msg);
		return -1;
	}
	if (status != 200) {
		out_error("Infrahub refused the schema (HTTP %ld)", status);
		print_422(res);
		json_decref(res);
		return -1;
	}
	out_info("schema %s: %zu document%s loaded into %s (branch %s), hash %s",
		 json_is_true(json_object_get(res, "schema_updated")) ? "updated" :
									 "unchanged",
		 json_array_size(schemas), json_array_size(schemas) == 1 ? "" : "s",
		 pl->target.address, pl->target.branch,
		 json_string_value(json_object_get(res, "hash")));
	json_decref(res);
	return 0;
}

int cmd_schema(struct hf_ctx *ctx, int argc, char **argv)
{
	struct hf_pipeline_opts po = HF_PIPELINE_OPTS_INIT;
	struct hf_strlist args = { 0 };
	struct hf_pipeline pl;
	json_t *schemas = NULL;
	const struct hf_opt opts[] = {
		HF_PIPELINE_OPTIONS(po),
		HF_OPT_END(),
	};
	int rc;

	memset(&pl, 0, sizeof(pl));
	rc = hf_cmd_parse(ctx->name, usage, "Load Infrahub schema files into the target.",
			  opts, argc, argv, &args);
	if (rc >= 0)
		goto out;
	rc = HF_EXIT_USAGE;
	if (args.n < 2 || strcmp(args.items[0], "load")) {
		out_error("usage: %s", usage);
		goto out;
	}
	rc = HF_EXIT_ERROR;
	if (hf_pipeline_load(&pl, args.items + 1, args.n - 1, 1) < 0)
		goto out;
	schemas = collect(&pl);
	if (!schemas)
		goto out;
	if (!json_array_size(schemas)) {
		out_error("no schema documents (version: with nodes/generics/extensions) found");
		goto out;
	}
	if (hf_pipeline_connect(&pl, &po) < 0 && !pl.client)
		goto out;
	rc = load(&pl, schemas) < 0 ? HF_EXIT_ERROR : HF_EXIT_OK;
out:
	json_decref(schemas);
	hf_pipeline_release(&pl);
	hf_strlist_release(&args);
	return rc;
}
