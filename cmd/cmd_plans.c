/*
 * hubform plans: list the stored plans, newest first, one per line:
 * id, created time, status, counts, target branch and address. The table
 * goes to stdout (it is the data); --json prints a JSON array instead.
 */
#include <jansson.h>

#include "cmd.h"
#include "opt.h"
#include "output.h"
#include "state.h"
#include "target.h"
#include "hf/alloc.h"
#include "hf/banned.h"

struct listing {
	int json;
	int quiet;
	json_t *arr;
	int n;
};

static int print_row(const struct hf_plan_row *r, void *payload)
{
	struct listing *l = payload;

	l->n++;
	if (l->quiet) {
		out_data("%s\n", r->id);
		return 0;
	}
	if (l->json) {
		json_array_append_new(
		        l->arr,
		        json_pack(
		                "{s:s, s:s, s:s, s:s, s:s, s:{s:I, s:I, s:I}, s:s?}",
		                "id", r->id, "created_at", r->created_at,
		                "status", r->status, "branch", r->branch,
		                "address", r->address, "counts", "create",
		                (json_int_t)r->n_create, "update",
		                (json_int_t)r->n_update, "no-op",
		                (json_int_t)r->n_noop, "error", r->error));
		return 0;
	}
	if (l->n == 1)
		out_data("%-12s  %-20s  %-8s  %6s %6s %6s  %s\n", "PLAN",
		         "CREATED", "STATUS", "CREATE", "UPDATE", "NO-OP",
		         "TARGET");
	out_data("%-12s  %.19s  %-8s  %6ld %6ld %6ld  %s@%s\n", r->id,
	         r->created_at, r->status, r->n_create, r->n_update, r->n_noop,
	         r->branch, r->address);
	return 0;
}

int cmd_plans(struct hf_ctx *ctx, int argc, char **argv)
{
	struct hf_strlist args = { 0 };
	struct listing l = { 0, 0, NULL, 0 };
	const char *state = NULL;
	hf_error err = HF_ERROR_INIT;
	hf_store *st = NULL;
	char *text;
	const struct hf_opt opts[] = {
		HF_OPT_STRING(0, "state", "FILE", &state,
		              "plan store (default $HUBFORM_STATE or "
		              ".hubform/plans.db)"),
		HF_OPT_BOOL(0, "json", &l.json, "print a JSON array"),
		HF_OPT_BOOL('q', "quiet", &l.quiet,
		            "print only the plan ids, one per line"),
		HF_OPT_END(),
	};
	int rc;

	rc = cli_cmd_parse(ctx, "hubform plans [--state FILE] [--json|--quiet]",
	                   "List stored plans, newest first.", opts, argc, argv,
	                   &args);
	if (rc >= 0)
		goto out;
	rc = HF_EXIT_USAGE;
	if (args.n) {
		out_error("'plans' takes no arguments");
		goto out;
	}
	rc = HF_EXIT_ERROR;
	l.arr = json_array();
	/* read-only: no store yet means no plans, and nothing is created */
	if (cli_ctx_store(ctx, state, 0, &st) == -1)
		goto out;
	if (st && hf_store_list(st, print_row, &l, &err) < 0) {
		out_error("%s", err.msg);
		goto out;
	}
	if (l.json) {
		text = json_dumps(l.arr, JSON_INDENT(2));
		if (text)
			out_data("%s\n", text);
		hf_free(text);
	} else if (!l.n && !l.quiet && !cli_in_automation()) {
		out_info("no plans yet; run 'hubform plan PATH...'");
	}
	rc = HF_EXIT_OK;
out:
	json_decref(l.arr);
	cli_strlist_release(&args);
	return rc;
}
