/*
 * hubform menu load PATH...: load Infrahub menu files (kind: Menu) into
 * the target, as `infrahubctl menu load` does: every file is read and
 * every item checked against the target's CoreMenuItem schema before
 * anything is written; then the items are upserted in order. Problems
 * are printed FILE:LINE:COL: message.
 */
#include <string.h>

#include "cmd.h"
#include "hf/client.h"
#include "hf/manifest.h"
#include "hf/menu.h"
#include "opt.h"
#include "output.h"
#include "pipeline.h"
#include "target.h"
#include "hf/banned.h"

static const char usage[] =
        "hubform menu load PATH... [--address URL] [--branch B]";

static void fail(const struct hf_target *t, const char *what, const hf_error *e)
{
	if (e->where[0] && e->line > 0)
		out_info("%s:%d:%d: %s", e->where, e->line, e->col, e->msg);
	else
		out_error("%s on %s: %s", what, t->ident, e->msg);
	if (e->code == HF_EAUTH && !cli_in_automation())
		out_info("hint: %s", cli_target_auth_hint(t));
}

static void on_diag(void *payload, const hf_error *e)
{
	int *n = payload;

	++*n;
	out_error_rec(e);
}

/* The files, read; every error printed. 0 or -1. */
static int read_files(hf_manifest **m, const struct hf_strlist *a)
{
	enum hf_mdiag_level lvl;
	size_t i;

	if (hf_manifest_new(m) < 0) {
		out_error("out of memory");
		return -1;
	}
	for (i = 1; i < a->n; i++)
		hf_manifest_add_path(*m, a->items[i], NULL);
	for (i = 0; i < hf_manifest_diag_count(*m); i++) {
		const hf_error *e = hf_manifest_diag_at(*m, i, &lvl);

		if (lvl == HF_MDIAG_ERROR)
			out_error_rec(e);
	}
	return cli_manifest_usable(*m);
}

static int load(hf_client *c, const struct hf_target *t, hf_manifest *m)
{
	const char *branch = t->branch[0] ? t->branch : NULL;
	hf_error err = HF_ERROR_INIT;
	json_t *schema = NULL;
	hf_menu *mn = NULL;
	size_t loaded = 0;
	int n = 0, rc;

	if (hf_menu_schema(hf_client_transport(c), branch, &schema, &err) < 0) {
		fail(t, "cannot read the CoreMenuItem schema of", &err);
		return HF_EXIT_ERROR;
	}
	rc = hf_menu_build(&mn, m, schema, on_diag, &n);
	if (rc < 0)
		out_error("out of memory");
	else if (rc > 0)
		out_error("%d problem%s in the menu files; nothing was loaded",
		          rc, rc == 1 ? "" : "s");
	else if (hf_menu_load(mn, hf_client_transport(c), branch, &loaded,
	                      &err) < 0)
		fail(t, "cannot load the menu into", &err);
	if (rc == 0)
		out_info("loaded %zu of %zu menu item%s from %zu menu "
		         "document%s into %s",
		         loaded, hf_menu_count(mn),
		         hf_menu_count(mn) == 1 ? "" : "s",
		         hf_menu_doc_count(mn),
		         hf_menu_doc_count(mn) == 1 ? "" : "s", t->ident);
	rc = rc == 0 && loaded == hf_menu_count(mn) ? HF_EXIT_OK
	                                            : HF_EXIT_ERROR;
	hf_menu_free(mn);
	json_decref(schema);
	return rc;
}

static int run(struct hf_pipeline *pl, const struct hf_strlist *a,
               const struct hf_target_cli *o)
{
	hf_manifest *m = NULL;
	int rc = HF_EXIT_ERROR;

	if (read_files(&m, a) == 0 &&
	    cli_target_cli_connect(&pl->target, o, &pl->client) == 0)
		rc = load(pl->client, &pl->target, m);
	hf_manifest_free(m);
	return rc;
}

int cmd_menu(struct hf_ctx *ctx, int argc, char **argv)
{
	struct hf_target_cli mo = HF_TARGET_CLI_INIT;
	struct hf_strlist args = { 0 };
	const struct hf_opt opts[] = {
		HF_TARGET_CLI_OPTIONS(mo),
		HF_OPT_STRING(
		        'b', "branch", "BRANCH", &mo.branch,
		        "branch to load the menu on (default "
		        "$INFRAHUB_DEFAULT_BRANCH or the server's default)"),
		HF_OPT_END(),
	};
	int rc;

	if (cli_target_default_timeout(&mo.timeout) < 0)
		return HF_EXIT_ERROR;
	rc = cli_cmd_parse(ctx, usage,
	                   "Load Infrahub menu files into the target.", opts,
	                   argc, argv, &args);
	if (rc >= 0)
		goto out;
	rc = HF_EXIT_USAGE;
	if (args.n < 2 || strcmp(args.items[0], "load"))
		out_error("usage: %s", usage);
	else
		rc = run(cli_ctx_pipeline(ctx), &args, &mo);
out:
	cli_strlist_release(&args);
	return rc;
}
