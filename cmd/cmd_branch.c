/*
 * hubform branch list|create|delete: Infrahub's branches, as
 * `infrahubctl branch` manages them, against the configured target.
 * list prints name, origin, whether default, status (a table, or JSON
 * with --format json); create makes a branch from the default branch;
 * delete refuses the default branch.
 */
#include <string.h>

#include "cmd.h"
#include "hf/alloc.h"
#include "hf/branch.h"
#include "hf/client.h"
#include "opt.h"
#include "output.h"
#include "pipeline.h"
#include "target.h"
#include "hf/banned.h"

static const char usage[] =
        "hubform branch list [--format text|json] | create NAME "
        "[--description TEXT] [--sync-with-git] | delete NAME "
        "[--address URL]";

struct branch_opts {
	struct hf_target_cli target;
	const char *format;
	const char *description;
	int sync_with_git;
};

/* The failure of a request, with the hint that fits it. */
static void fail(const struct hf_target *t, const char *what, const hf_error *e)
{
	out_error("%s on %s: %s", what, t->ident, e->msg);
	if (e->code == HF_EAUTH && !cli_in_automation())
		out_info("hint: %s", cli_target_auth_hint(t));
}

static const char *yes(int b)
{
	return b ? "yes" : "no";
}

static int print_text(const struct hf_branch *b, size_t n)
{
	size_t i, wn = 4, wo = 6;

	for (i = 0; i < n; i++) {
		if (strlen(b[i].name) > wn)
			wn = strlen(b[i].name);
		if (strlen(b[i].origin) > wo)
			wo = strlen(b[i].origin);
	}
	out_data("%-*s  %-*s  %-7s  %-7s  %s\n", (int)wn, "NAME", (int)wo,
	         "ORIGIN", "DEFAULT", "STATUS", "BRANCHED FROM");
	for (i = 0; i < n; i++)
		out_data("%-*s  %-*s  %-7s  %-7s  %s\n", (int)wn, b[i].name,
		         (int)wo, b[i].origin[0] ? b[i].origin : "-",
		         yes(b[i].is_default),
		         b[i].status[0] ? b[i].status : "-",
		         b[i].branched_from[0] ? b[i].branched_from : "-");
	return 0;
}

static int print_json(const struct hf_branch *b, size_t n)
{
	json_t *list = json_array(), *o;
	char *text;
	size_t i;

	for (i = 0; list && i < n; i++) {
		o = json_pack(
		        "{s:s, s:s, s:s?, s:b, s:s?, s:s?, s:b, s:b}", "name",
		        b[i].name, "description", b[i].description,
		        "origin_branch", b[i].origin[0] ? b[i].origin : NULL,
		        "is_default", b[i].is_default, "status",
		        b[i].status[0] ? b[i].status : NULL, "branched_from",
		        b[i].branched_from[0] ? b[i].branched_from : NULL,
		        "sync_with_git", b[i].sync_with_git,
		        "has_schema_changes", b[i].has_schema_changes);
		if (!o || json_array_append_new(list, o) < 0) {
			json_decref(list);
			list = NULL;
		}
	}
	o = list ? json_pack("{s:o}", "branches", list) : NULL;
	text = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	if (!text) {
		out_error("out of memory");
		return -1;
	}
	out_data("%s\n", text);
	hf_free(text);
	return 0;
}

static int do_list(hf_client *c, const struct hf_target *t,
                   const struct branch_opts *bo)
{
	struct hf_branch *b = NULL;
	hf_error err = HF_ERROR_INIT;
	size_t n = 0;
	int rc;

	if (hf_branch_list(hf_client_transport(c), &b, &n, &err) < 0) {
		fail(t, "cannot list the branches", &err);
		return HF_EXIT_ERROR;
	}
	rc = !strcmp(bo->format, "json") ? print_json(b, n) : print_text(b, n);
	hf_branch_list_free(b, n);
	return rc < 0 ? HF_EXIT_ERROR : HF_EXIT_OK;
}

static int do_create(hf_client *c, const struct hf_target *t,
                     const struct branch_opts *bo, const char *name)
{
	hf_error err = HF_ERROR_INIT;

	if (hf_branch_create(hf_client_transport(c), name, bo->description,
	                     bo->sync_with_git, &err) < 0) {
		if (err.code == HF_ECONFLICT)
			out_error("branch '%s' already exists on %s", name,
			          t->ident);
		else
			fail(t, "cannot create the branch", &err);
		return HF_EXIT_ERROR;
	}
	out_info("created branch '%s' on %s", name, t->ident);
	return HF_EXIT_OK;
}

static int do_delete(hf_client *c, const struct hf_target *t, const char *name)
{
	struct hf_branch_info bi;
	hf_error err = HF_ERROR_INIT;

	if (hf_branch_info(hf_client_transport(c), name, &bi, &err) < 0) {
		fail(t, "cannot read the branches", &err);
		return HF_EXIT_ERROR;
	}
	if (!strcmp(name, bi.default_name)) {
		out_error("'%s' is the default branch of %s; it cannot be "
		          "deleted",
		          name, t->ident);
		return HF_EXIT_ERROR;
	}
	if (!bi.exists) {
		out_error("branch '%s' does not exist on %s", name, t->ident);
		return HF_EXIT_ERROR;
	}
	if (hf_branch_op(hf_client_transport(c), HF_BRANCH_DELETE, name, &err) <
	    0) {
		fail(t, "cannot delete the branch", &err);
		return HF_EXIT_ERROR;
	}
	out_info("deleted branch '%s' on %s", name, t->ident);
	return HF_EXIT_OK;
}

/* The words after `branch`: 0, or a usage error (printed). */
static int check_args(const struct hf_strlist *a, const struct branch_opts *bo)
{
	const char *verb = a->n ? a->items[0] : NULL;
	size_t want = verb && !strcmp(verb, "list") ? 1 : 2;

	if (!verb || (strcmp(verb, "list") && strcmp(verb, "create") &&
	              strcmp(verb, "delete"))) {
		out_error("usage: %s", usage);
		return -1;
	}
	if (a->n != want) {
		out_error("'branch %s' takes %s", verb,
		          want == 1 ? "no other argument" : "one branch name");
		return -1;
	}
	if (strcmp(bo->format, "text") && strcmp(bo->format, "json")) {
		out_error("--format must be text or json, not '%s'",
		          bo->format);
		return -1;
	}
	if (strcmp(verb, "create") && (bo->description || bo->sync_with_git)) {
		out_error("--description and --sync-with-git go with 'branch "
		          "create'");
		return -1;
	}
	if (strcmp(verb, "list") && strcmp(bo->format, "text")) {
		out_error("--format goes with 'branch list'");
		return -1;
	}
	return 0;
}

static int run(struct hf_pipeline *pl, const struct hf_strlist *a,
               const struct branch_opts *bo)
{
	struct hf_target *t = &pl->target;

	if (cli_target_cli_connect(t, &bo->target, &pl->client) < 0)
		return HF_EXIT_ERROR;
	if (!strcmp(a->items[0], "list"))
		return do_list(pl->client, t, bo);
	if (!strcmp(a->items[0], "create"))
		return do_create(pl->client, t, bo, a->items[1]);
	return do_delete(pl->client, t, a->items[1]);
}

int cmd_branch(struct hf_ctx *ctx, int argc, char **argv)
{
	struct branch_opts bo = { HF_TARGET_CLI_INIT, "text", NULL, 0 };
	struct hf_strlist args = { 0 };
	const struct hf_opt opts[] = {
		HF_OPT_STRING(0, "format", "FORMAT", &bo.format,
		              "list: text (a table) or json"),
		HF_OPT_STRING(0, "description", "TEXT", &bo.description,
		              "create: the branch's description"),
		HF_OPT_BOOL(0, "sync-with-git", &bo.sync_with_git,
		            "create: keep the branch in sync with the "
		            "repositories' git branches"),
		HF_TARGET_CLI_OPTIONS(bo.target),
		HF_OPT_END(),
	};
	int rc;

	if (cli_target_default_timeout(&bo.target.timeout) < 0)
		return HF_EXIT_ERROR;
	rc = cli_cmd_parse(ctx, usage,
	                   "List, create or delete Infrahub branches.", opts,
	                   argc, argv, &args);
	if (rc >= 0)
		goto out;
	rc = HF_EXIT_USAGE;
	if (check_args(&args, &bo) == 0)
		rc = run(cli_ctx_pipeline(ctx), &args, &bo);
out:
	cli_strlist_release(&args);
	return rc;
}
