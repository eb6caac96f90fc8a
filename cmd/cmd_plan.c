/*
 * hubform plan PATH...: read the object files, fetch the matching live
 * objects from Infrahub, diff, store the plan, print it and its id.
 * Nothing is written to Infrahub. Exit 0 (no changes, or changes without
 * --detailed-exitcode), 2 (changes, with --detailed-exitcode), 1 (error).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hf/alloc.h"
#include "hf/client.h"
#include "hf/diff.h"
#include "hf/fetch.h"
#include "hf/render.h"
#include "hf/resolve.h"
#include "hf/sha256.h"
#include "cmd.h"
#include "opt.h"
#include "output.h"
#include "pipeline.h"
#include "state.h"
#include "target.h"
#include "hf/banned.h"

static const char usage[] =
        "hubform plan PATH... [--address URL] [--branch B] [--state FILE] "
        "[--out FILE] [--detailed-exitcode] [--stack NAME] [--prune] "
        "[--destroy] [--max-deletes N] [--target ADDR]... [--exclude ADDR]... "
        "[--no-adopt]";

/*
 * The plan alone in its own file. An existing file is replaced only when
 * it is a plan file itself: a typo must not overwrite an object file.
 */
static int save_out(const hf_plan *p, const char *path)
{
	hf_error err = HF_ERROR_INIT;
	hf_store *st = NULL;
	int rc;

	if (cli_ref_kind(path) == CLI_REF_PATH) {
		out_error(
		        "'%s' exists and is not a plan file; not overwriting it",
		        path);
		return -1;
	}
	unlink(path);
	rc = hf_store_open(&st, path, &err);
	if (rc == 0)
		rc = hf_store_save(st, p, &err);
	hf_store_close(st);
	if (rc < 0)
		out_error("cannot write plan file '%s': %s", path, err.msg);
	return rc;
}

static int print_plan(const hf_plan *p, int no_color)
{
	struct hf_render_opts ro = HF_RENDER_OPTS_INIT;
	hf_buf b = HF_BUF_INIT;
	int rc;

	ro.color = !no_color && isatty(1) && !getenv("NO_COLOR");
	ro.flush = out_piece; /* out as it is made, never held whole */
	rc = hf_render_text(&b, p, &ro);
	hf_buf_release(&b);
	return rc;
}

/* --max-deletes: the plan is refused, not saved, when it deletes more. */
static int too_many_deletes(const hf_plan *p, long max)
{
	const struct hf_plan_meta *m = hf_plan_meta_c(p);

	if (max < 0 || m->n_delete <= (size_t)max)
		return 0;
	out_error("the plan deletes %zu object%s, more than --max-deletes %ld; "
	          "nothing saved",
	          m->n_delete, m->n_delete == 1 ? "" : "s", max);
	return 1;
}

/* Owned objects the files dropped, when this plan does not delete them. */
static void hint_orphans(const struct hf_pipeline *pl,
                         const struct hf_pipeline_opts *po)
{
	if (po->prune || po->destroy || !pl->orphans)
		return;
	if (pl->orphans == 1)
		out_info("1 owned object is no longer in the files; plan with "
		         "--prune to delete it");
	else
		out_info("%zu owned objects are no longer in the files; plan "
		         "with --prune to delete them",
		         pl->orphans);
}

int cmd_plan(struct hf_ctx *ctx, int argc, char **argv)
{
	struct hf_pipeline_opts po = HF_PIPELINE_OPTS_INIT;
	struct hf_strlist args = { 0 };
	const char *out = NULL;
	int detailed = 0, no_color = 0, changes;
	long max_deletes = -1;
	const struct hf_plan_meta *m;
	struct hf_pipeline *pl;
	hf_store *st = NULL;
	const struct hf_opt opts[] = {
		HF_PIPELINE_OPTIONS(po),
		HF_PIPELINE_OWNER_OPTIONS(po),
		HF_OPT_INT(0, "max-deletes", "N", &max_deletes, 0, 1000000000L,
		           "refuse a plan that deletes more than N objects"),
		HF_OPT_STRING(
		        0, "state", "FILE", &po.state,
		        "plan store (default $HUBFORM_STATE or .hubform/plans.db)"),
		HF_OPT_STRING('o', "out", "FILE", &out,
		              "also write this plan to its own SQLite file"),
		HF_OPT_BOOL(0, "detailed-exitcode", &detailed,
		            "exit 2 when the plan has changes, 0 when none"),
		HF_OPT_BOOL(0, "no-color", &no_color,
		            "never colour the output"),
		HF_OPT_END(),
	};
	int rc;

	if (cli_target_default_timeout(&po.timeout) < 0)
		return HF_EXIT_ERROR;
	rc = cli_cmd_parse(
	        ctx, usage,
	        "Compute what would change in Infrahub and store the plan.",
	        opts, argc, argv, &args);
	if (rc >= 0)
		goto out;
	pl = cli_ctx_pipeline(ctx);
	rc = HF_EXIT_USAGE;
	if (po.prune && po.destroy) {
		out_error("--prune and --destroy do not go together: --destroy "
		          "deletes everything the stack owns");
		goto out;
	}
	if (!args.n && !po.destroy) {
		out_error("'plan' needs at least one file or directory");
		out_info("usage: %s", usage);
		goto out;
	}
	rc = HF_EXIT_ERROR;
	if (out && cli_ref_kind(out) == CLI_REF_PATH) {
		out_error("--out '%s' exists and is not a plan file; not "
		          "overwriting it",
		          out);
		goto out;
	}
	po.unsummed = 1; /* summed beside the save (cli_pipeline_save) */
	if (cli_pipeline_plan(pl, &po, args.items, args.n) < 0)
		goto out;
	if (too_many_deletes(pl->plan, max_deletes))
		goto out;
	if (cli_ctx_store(ctx, po.state, 1, &st) < 0)
		goto out;
	if (cli_pipeline_save(pl, st) < 0)
		goto out;
	cli_pipeline_stage(pl, "save");
	if (out && save_out(pl->plan, out) < 0)
		goto out;
	if (print_plan(pl->plan, no_color) < 0)
		goto out;
	cli_pipeline_stage(pl, "render");
	hint_orphans(pl, &po);
	m = hf_plan_meta(pl->plan);
	changes = hf_plan_has_changes(pl->plan);
	if (changes && cli_in_automation())
		out_info("plan %s saved%s%s%s", m->id, out ? " to '" : "",
		         out ? out : "", out ? "'" : "");
	else if (changes && out)
		out_info(
		        "plan %s saved to '%s'; apply it with 'hubform apply %s'",
		        m->id, out, out);
	else if (changes)
		out_info("plan %s saved; apply it with 'hubform apply %s'",
		         m->id, m->id);
	else
		out_info("plan %s saved%s%s%s", m->id, out ? " to '" : "",
		         out ? out : "", out ? "'" : "");
	rc = detailed && changes ? HF_EXIT_CHANGES : HF_EXIT_OK;
out:
	cli_pipeline_opts_release(&po);
	cli_strlist_release(&args);
	return rc;
}
