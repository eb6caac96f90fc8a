/*
 * hubform validate PATH...: load object files (files or directories) and
 * report every structural problem, without a schema and without a server.
 * Each problem is one line on stderr, "FILE:LINE:COL: message" or
 * "FILE:LINE:COL: warning: message" (problems without a file, such as a
 * path that does not exist, use the "hubform: error:" form), followed by a
 * summary line: "N files, M documents, K objects[, E errors][, W
 * warnings]". Exit 0 when there is no error (warnings are fine), 1 when
 * there is one, 64 on a usage error. All paths are read even after an
 * error, so one run shows everything.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf/manifest.h"
#include "cmd.h"
#include "opt.h"
#include "output.h"
#include "pipeline.h"
#include "target.h"
#include "hf/banned.h"

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static void print_diag(const hf_error *e, enum hf_mdiag_level level)
{
	if (level == HF_MDIAG_ERROR) {
		out_error_rec(e);
		return;
	}
	if (e->where[0] && e->line > 0)
		out_info("%s:%d:%d: warning: %s", e->where, e->line, e->col,
		         e->msg);
	else if (e->where[0])
		out_info("%s: warning: %s", e->where, e->msg);
	else
		out_warn("%s", e->msg);
}

static void summary(const hf_manifest *m)
{
	size_t f = hf_manifest_file_count(m), d = hf_manifest_doc_count(m);
	size_t o = hf_manifest_object_count(m);
	size_t e = hf_manifest_error_count(m), w = hf_manifest_warning_count(m);
	char tail[96] = "";
	size_t n = 0;

	if (e)
		n += (size_t)snprintf(tail, sizeof(tail), ", %zu %s", e,
		                      plural(e, "error", "errors"));
	if (w && n < sizeof(tail))
		snprintf(tail + n, sizeof(tail) - n, ", %zu %s", w,
		         plural(w, "warning", "warnings"));
	out_info("%zu %s, %zu %s, %zu %s%s", f, plural(f, "file", "files"), d,
	         plural(d, "document", "documents"), o,
	         plural(o, "object", "objects"), tail);
}

static int validate(const struct hf_strlist *paths)
{
	enum hf_mdiag_level level;
	hf_manifest *m = NULL;
	const hf_error *e;
	int rc, oom = 0;
	size_t i;

	if (hf_manifest_new(&m) < 0) {
		out_error("out of memory");
		return HF_EXIT_ERROR;
	}
	for (i = 0; i < paths->n && !oom; i++)
		oom = hf_manifest_add_path(m, paths->items[i], NULL) ==
		      HF_ENOMEM;
	for (i = 0; i < hf_manifest_diag_count(m); i++) {
		e = hf_manifest_diag_at(m, i, &level);
		print_diag(e, level);
	}
	if (oom)
		out_error("out of memory");
	summary(m);
	rc = oom || hf_manifest_error_count(m) ? HF_EXIT_ERROR : HF_EXIT_OK;
	hf_manifest_free(m);
	return rc;
}

/*
 * Schema-aware checks: against the target's schema when an address is
 * configured, or against --schema files loaded into a throw-away
 * in-memory endpoint. Resolution problems print as FILE:LINE:COL lines.
 */
static int validate_schema(struct hf_pipeline *pl,
                           const struct hf_strlist *paths,
                           const struct hf_strlist *schema,
                           struct hf_pipeline_opts *po)
{
	json_t *docs = NULL;
	int rc = HF_EXIT_ERROR;

	po->no_cache = 1; /* validate writes nothing */
	if (schema->n) {
		po->embedded = 1;
		po->data = ":memory:";
		if (cli_pipeline_schema_files(&docs, schema->items, schema->n) <
		    0)
			goto out;
	}
	if (cli_pipeline_load(pl, paths->items, paths->n, 0) < 0)
		goto out;
	if (cli_pipeline_connect(pl, po) < 0 && !pl->client)
		goto out;
	if (docs && (cli_pipeline_schema_load(pl, docs, 1) < 0 ||
	             cli_pipeline_connect_schema(pl) < 0))
		goto out;
	if (!pl->schema)
		goto out;
	if (cli_pipeline_resolve(pl, po, 0) < 0)
		goto out;
	out_info("%zu %s resolved against the schema of %s",
	         hf_objset_count(pl->want),
	         plural(hf_objset_count(pl->want), "object", "objects"),
	         schema->n ? "the --schema files" : pl->target.ident);
	rc = HF_EXIT_OK;
out:
	json_decref(docs);
	return rc;
}

/*
 * Whether a target is configured (--address, $INFRAHUB_ADDRESS or
 * infrahubctl.toml): 1 or 0, or -1 after printing an error.
 */
static int address_configured(const struct hf_pipeline_opts *po)
{
	const struct hf_infrahubctl *ctl;

	if (po->address || getenv("INFRAHUB_ADDRESS"))
		return 1;
	if (cli_target_infrahubctl(&ctl) < 0)
		return -1;
	return ctl->server_address && *ctl->server_address;
}

int cmd_validate(struct hf_ctx *ctx, int argc, char **argv)
{
	struct hf_pipeline_opts po = HF_PIPELINE_OPTS_INIT;
	struct hf_strlist args = { 0 }, schema = { 0 };
	const struct hf_opt opts[] = {
		HF_OPT_LIST(
		        's', "schema", "FILE", &schema,
		        "check against these schema files too (repeatable)"),
		HF_PIPELINE_OPTIONS(po),
		HF_OPT_END(),
	};
	int rc, remote;

	if (cli_target_default_timeout(&po.timeout) < 0)
		return HF_EXIT_ERROR;
	rc = cli_cmd_parse(
	        ctx, "hubform validate PATH... [--schema FILE]...",
	        "Check object files (files or directories, read "
	        "recursively): structure always; against a schema "
	        "with --schema, or with --address / $INFRAHUB_ADDRESS. "
	        "Writes nothing.",
	        opts, argc, argv, &args);
	if (rc >= 0)
		goto out;
	if (!args.n) {
		out_error("'validate' needs at least one file or directory");
		out_info("usage: hubform validate PATH...");
		rc = HF_EXIT_USAGE;
		goto out;
	}
	rc = validate(&args);
	remote = rc == HF_EXIT_OK && !schema.n ? address_configured(&po) : 0;
	if (remote < 0)
		rc = HF_EXIT_ERROR;
	else if (rc == HF_EXIT_OK && (schema.n || remote))
		rc = validate_schema(cli_ctx_pipeline(ctx), &args, &schema,
		                     &po);
out:
	cli_strlist_release(&args);
	cli_strlist_release(&schema);
	return rc;
}
