/*
 * hubform apply PLAN | hubform apply PATH... --auto-approve: apply exactly
 * a reviewed plan inside a throw-away branch hubform-<plan id>, merged
 * when every change succeeded and deleted otherwise, so the target never
 * sees half an apply. A plan whose objects changed since it was made is
 * stale: exit 3, nothing written.
 *
 * The transaction is the engine's (hf_apply_run, hf/apply.h); this file
 * finds the plan and the target, asks for confirmation, turns signals
 * into the stop flag, and puts the engine's events and outcome in words
 * and exit codes.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hf/alloc.h"
#include "hf/apply.h"
#include "hf/render.h"
#include "cmd.h"
#include "opt.h"
#include "output.h"
#include "pipeline.h"
#include "state.h"
#include "hf/banned.h"

static const char usage[] =
        "hubform apply [PLAN|FILE] [--auto-approve] [--keep-branch] | "
        "hubform apply PATH... --auto-approve [--stack NAME] [--prune] "
        "[--destroy] [--target ADDR]... [--exclude ADDR]... [--no-adopt] | "
        "hubform apply --destroy --stack NAME --auto-approve";

struct apply_opts {
	struct hf_pipeline_opts po; /* po.state: --state */
	long batch_size;
	int keep_branch;
	int auto_approve;
	int recover;
	int keep_going;
	int direct;
	int no_color;
	long lock_timeout; /* seconds to wait for another apply of the target */
	long max_deletes; /* -1: no limit */
};

static const char *plural(long n)
{
	return n == 1 ? "" : "s";
}

/* Set by SIGINT/SIGTERM: the engine starts nothing new, finishes, rolls back.
 */
static volatile int stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* What the printing callbacks need. */
struct ui {
	const struct apply_opts *ao;
	const struct hf_pipeline *pl;
	struct timespec started; /* when the writes started: rate and ETA */
};

/* One line per wave (or a rewritten line on a terminal). */
static int progress(void *payload, int wave, int waves, long done, long total)
{
	const struct ui *ui = payload;
	struct timespec now;
	double el, rate;

	clock_gettime(CLOCK_MONOTONIC, &now);
	el = (double)(now.tv_sec - ui->started.tv_sec) +
	     (double)(now.tv_nsec - ui->started.tv_nsec) / 1e9;
	rate = el > 0 ? (double)done / el : 0;
	if (isatty(2)) {
		char line[200];

		snprintf(line, sizeof(line),
		         "wave %d/%d: %ld/%ld change%s, %.0f/s, "
		         "%.1fs elapsed, ETA %.1fs",
		         wave, waves, done, total, plural(total), rate, el,
		         rate > 0 ? (double)(total - done) / rate : 0.0);
		out_progress(line);
		if (wave == waves)
			out_progress_end();
	} else {
		out_info("wave %d/%d: %ld/%ld change%s applied (%.0f/s, %.1fs)",
		         wave, waves, done, total, plural(total), rate, el);
	}
	return 0;
}

/* The engine's events, in words. */
static void on_msg(void *payload, const struct hf_apply_msg *m)
{
	struct ui *ui = payload;

	switch (m->code) {
	case HF_AMSG_STALE_SCHEMA:
		out_info(
		        "stale: the schema of %s changed since the plan was made",
		        ui->pl->target.ident);
		break;
	case HF_AMSG_STALE:
		out_info("stale: %s", m->text);
		break;
	case HF_AMSG_WAITING:
		out_info(
		        "waiting for plan %s, being applied to the same target "
		        "(up to %lds)",
		        m->name, m->n);
		break;
	case HF_AMSG_DEADLINE:
		out_error("--deadline exceeded");
		break;
	case HF_AMSG_RECORD_APPLY:
		out_warn("cannot record the apply in '%s': %s", m->path,
		         m->text);
		break;
	case HF_AMSG_RECORD_CHANGES:
		out_error("cannot record the changes' outcomes in '%s': %s",
		          m->path, m->text);
		break;
	case HF_AMSG_RECORD_STATUS:
		out_error("cannot mark plan %s %s in '%s': %s", m->name,
		          hf_plan_status_str(m->status), m->path, m->text);
		break;
	case HF_AMSG_DELETE_FAILED:
		out_error("could not delete branch '%s': %s", m->name, m->text);
		break;
	case HF_AMSG_BRANCH_DELETED:
		out_info("deleted branch '%s'", m->name);
		break;
	case HF_AMSG_BRANCH_GONE:
		out_info("branch '%s' was gone already", m->name);
		break;
	case HF_AMSG_PARTLY_PRESENT:
		out_warn(
		        "%ld of the plan's %ld changes are present on '%s': the "
		        "target changed since; plan again",
		        m->n, m->total, m->name);
		break;
	case HF_AMSG_LOCK_RELEASE:
		out_warn("%s", m->text);
		break;
	case HF_AMSG_LOCK_BROKEN:
		out_info(
		        "broke the apply lock of '%s' the interrupted apply held "
		        "(%s)",
		        m->name, m->text);
		break;
	case HF_AMSG_WRITING:
		clock_gettime(CLOCK_MONOTONIC, &ui->started);
		break;
	}
}

static int confirm(void *payload, const hf_plan *p)
{
	const struct ui *ui = payload;
	struct hf_render_opts ro = HF_RENDER_OPTS_INIT;
	hf_buf b = HF_BUF_INIT;
	char line[16];

	if (ui->ao->auto_approve)
		return 0;
	if (!isatty(0)) {
		out_error(
		        "not asking on a non-interactive input: review the plan "
		        "with 'hubform show' and pass --auto-approve");
		return -1;
	}
	ro.color = !ui->ao->no_color && isatty(1) && !getenv("NO_COLOR");
	if (hf_render_text(&b, p, &ro) == 0)
		out_datan(b.ptr, b.len);
	hf_buf_release(&b);
	out_data("\nApply this plan? Only 'yes' will be accepted: ");
	out_finish();
	if (!fgets(line, sizeof(line), stdin) || strcmp(line, "yes\n")) {
		out_error("apply cancelled");
		return -1;
	}
	return 0;
}

static void change_name(hf_buf *b, const struct hf_change *c)
{
	size_t i;

	hf_buf_addf(b, "%s %s ", hf_action_str(c->action), c->kind);
	for (i = 0; i < json_array_size(c->hfid); i++)
		hf_buf_addf(b, "%s%s", i ? " / " : "",
		            json_string_value(json_array_get(c->hfid, i)));
}

/*
 * Each failure's message once, whole, with the changes it hit: a request
 * that failed as a whole gives every change in it the same message.
 */
static void report_failures(const hf_plan *p)
{
	hf_buf b = HF_BUF_INIT;
	size_t i, j, n;

	for (i = 0; i < hf_plan_count(p); i++) {
		const struct hf_change *c = hf_plan_at(p, i), *d;
		const char *msg = c->error ? c->error : "no reason given";
		int first = 1;

		if (c->status != HF_CH_FAILED)
			continue;
		for (j = 0; j < i && first; j++) {
			d = hf_plan_at(p, j);
			first = !(d->status == HF_CH_FAILED && d->error &&
			          !strcmp(d->error, msg));
		}
		if (!first)
			continue;
		hf_buf_reset(&b);
		change_name(&b, c);
		for (j = i + 1, n = 0; j < hf_plan_count(p); j++) {
			d = hf_plan_at(p, j);
			if (d->status == HF_CH_FAILED && d->error &&
			    !strcmp(d->error, msg))
				n++;
		}
		if (n)
			out_error("%s (and %zu more change%s) failed: %s",
			          b.ptr, n, n == 1 ? "" : "s", msg);
		else
			out_error("%s failed: %s", b.ptr ? b.ptr : "?", msg);
	}
	hf_buf_release(&b);
}

/* --direct failed: say exactly what is now in the target branch. */
static void report_applied(const hf_plan *p, const char *branch)
{
	hf_buf b = HF_BUF_INIT;
	size_t i, n = 0;

	for (i = 0; i < hf_plan_count(p); i++) {
		const struct hf_change *c = hf_plan_at(p, i);

		if (c->status != HF_CH_APPLIED)
			continue;
		hf_buf_reset(&b);
		change_name(&b, c);
		out_info("applied to %s: %s", branch, b.ptr ? b.ptr : "?");
		n++;
	}
	hf_buf_release(&b);
	out_error(
	        "apply --direct failed: %zu change%s stay applied directly to "
	        "'%s'",
	        n, n == 1 ? "" : "s", branch);
}

/* What the run came to, in words; returns the exit code. */
static int report(const struct ui *ui, const hf_plan *p,
                  const struct hf_apply_result *res, const hf_error *err)
{
	const struct hf_plan_meta *m = hf_plan_meta_c(p);
	const char *target = ui->pl->target.branch;
	const char *def = ui->pl->target.default_branch;
	const struct hf_apply_stats *st = &res->stats;

	switch (res->outcome) {
	case HF_APPLY_DONE:
		if (!res->recorded)
			break;
		if (st->gone)
			out_info("%ld object%s to delete %s already gone",
			         st->gone, plural(st->gone),
			         st->gone == 1 ? "was" : "were");
		if (ui->ao->direct)
			out_info(
			        "apply complete: %ld change%s applied directly to '%s' "
			        "in %ld request%s",
			        st->applied, plural(st->applied), target,
			        st->requests, plural(st->requests));
		else if (ui->ao->keep_branch)
			out_info(
			        "apply complete: %ld change%s in %ld request%s on "
			        "branch '%s', left unmerged for review",
			        st->applied, plural(st->applied), st->requests,
			        plural(st->requests), res->branch);
		else
			out_info(
			        "apply complete: %ld change%s in %ld request%s, merged "
			        "into '%s'",
			        st->applied, plural(st->applied), st->requests,
			        plural(st->requests), target);
		return HF_EXIT_OK;
	case HF_APPLY_NOTHING:
		if (!res->recorded)
			break;
		out_info("nothing to apply: Infrahub already matches plan %s",
		         m->id);
		return HF_EXIT_OK;
	case HF_APPLY_NOT_PLANNED:
		out_error("plan %s is %s; only a planned plan can be applied",
		          m->id, m->status);
		return HF_EXIT_ERROR;
	case HF_APPLY_NEEDS_DIRECT:
		out_error(
		        "Infrahub branches start from the default branch ('%s') "
		        "only: to apply to '%s', pass --direct (no rollback: on "
		        "failure the changes already applied stay)",
		        def, target);
		return HF_EXIT_ERROR;
	case HF_APPLY_DIRECT_DEFAULT:
		out_error(
		        "--direct is for branches other than the default branch "
		        "'%s'; an apply to '%s' always runs in a throw-away branch",
		        def, target);
		return HF_EXIT_ERROR;
	case HF_APPLY_CANCELLED: /* confirm() said why */
		return HF_EXIT_ERROR;
	case HF_APPLY_STALE:
		out_error("plan %s is stale; nothing was written; plan again",
		          m->id);
		return HF_EXIT_STALE;
	case HF_APPLY_CHECK_FAILED:
		cli_pipeline_fail(ui->pl, "cannot check the plan against", err);
		return HF_EXIT_ERROR;
	case HF_APPLY_TOO_MANY_DELETES:
		out_error("%s (--max-deletes %ld)", err->msg,
		          ui->ao->max_deletes);
		return HF_EXIT_ERROR;
	case HF_APPLY_LOCKED:
		out_error("%s; nothing was written", err->msg);
		if (!cli_in_automation())
			out_info(
			        "hint: wait with --lock-timeout S; if that apply's "
			        "process died, 'hubform apply PLAN --recover' of its "
			        "plan, or 'hubform lock --break ID', frees it");
		return HF_EXIT_ERROR;
	case HF_APPLY_BUSY:
		out_error(
		        "plan %s is being applied to the same target; wait for it "
		        "(--lock-timeout S), or 'hubform apply %s --recover' if its "
		        "process died",
		        res->other, res->other);
		return HF_EXIT_ERROR;
	case HF_APPLY_NOT_STARTED:
		out_error("cannot start the apply: %s", err->msg);
		return HF_EXIT_ERROR;
	case HF_APPLY_CREATE_FAILED:
		out_error("cannot create branch '%s': %s", res->branch,
		          err->msg);
		return HF_EXIT_ERROR;
	case HF_APPLY_FAILED:
		report_failures(p);
		if (ui->ao->direct)
			report_applied(p, target);
		else if (res->branch_deleted)
			out_error(
			        "apply failed: %s; branch '%s' was deleted, '%s' is "
			        "unchanged",
			        err->msg, res->branch, target);
		else
			out_error(
			        "apply failed: %s; nothing was merged into '%s', but "
			        "branch '%s' is still there: run 'hubform apply %s "
			        "--recover' to delete it and settle the plan",
			        err->msg, target, res->branch, m->id);
		return HF_EXIT_ERROR;
	case HF_APPLY_NOT_APPLYING:
		out_error(
		        "plan %s is %s; --recover is for a plan left 'applying'",
		        m->id, m->status);
		return HF_EXIT_ERROR;
	case HF_APPLY_RECOVER_UNKNOWN:
		out_error(
		        "cannot tell whether plan %s landed; it stays 'applying'",
		        m->id);
		return HF_EXIT_ERROR;
	case HF_APPLY_RECOVER_KEPT:
		out_error("could not delete branch '%s': %s; the plan stays "
		          "'applying'",
		          res->branch, err->msg);
		return HF_EXIT_ERROR;
	case HF_APPLY_RECOVERED_APPLIED:
		if (!res->recorded)
			break;
		out_info(
		        "plan %s had been merged into '%s' before the apply was "
		        "interrupted: marked applied",
		        m->id, target);
		return HF_EXIT_OK;
	case HF_APPLY_RECOVERED_FAILED:
		if (!res->recorded)
			break;
		out_info(
		        "plan %s did not land on '%s': marked failed; plan again to "
		        "apply",
		        m->id, target);
		return HF_EXIT_OK;
	}
	/* the outcome is real, but the plan's status could not be recorded */
	out_error("%s; run 'hubform apply %s --recover' to record the outcome",
	          err->msg, m->id);
	return HF_EXIT_ERROR;
}

/* Run the transaction in the engine and say what came of it. */
static int run(struct hf_pipeline *pl, hf_store *const *st, size_t n,
               hf_plan *p, const struct apply_opts *ao)
{
	struct hf_apply_run_opts o;
	struct hf_apply_result res;
	hf_error err = HF_ERROR_INIT;
	struct ui ui;
	size_t i;

	memset(&o, 0, sizeof(o));
	memset(&ui, 0, sizeof(ui));
	ui.ao = ao;
	ui.pl = pl;
	clock_gettime(CLOCK_MONOTONIC, &ui.started);
	o.transport = hf_client_transport(pl->client);
	o.schema = pl->schema;
	o.branch = pl->target.branch;
	o.default_branch = pl->target.default_branch;
	for (i = 0; i < n && i < HF_APPLY_MAX_STORES; i++)
		o.stores[o.n_stores++] = st[i];
	o.batch_size = ao->batch_size;
	o.keep_branch = ao->keep_branch;
	o.keep_going = ao->keep_going;
	o.direct = ao->direct;
	o.recover = ao->recover;
	o.lock_timeout = ao->lock_timeout;
	o.limit_deletes = ao->max_deletes >= 0;
	o.max_deletes = ao->max_deletes;
	o.deadline = ao->po.deadline ? time(NULL) + ao->po.deadline : 0;
	o.stop = &stop_flag;
	o.confirm = confirm;
	o.progress = progress;
	o.msg = on_msg;
	o.payload = &ui;
	hf_apply_run(p, &o, &res, &err);
	return report(&ui, p, &res, &err);
}

/*
 * A plan is applied to the target it was made for, nowhere else: an
 * address or branch named now that differs refuses, before any request.
 */
static int check_target(const struct hf_target *now,
                        const struct hf_plan_meta *m, const char *ref)
{
	int addr = now->address_from && strcmp(now->ident, m->address);
	int br = now->branch_from && strcmp(now->branch, m->branch);
	char a[HF_TARGET_IDENT_MAX + 300], b[HF_TARGET_IDENT_MAX + 300];

	if (!addr && !br)
		return 0;
	out_error(
	        "plan %s was made for %s, but %s%s%s names %s: refusing to apply "
	        "it anywhere else; nothing was written",
	        m->id, cli_target_describe(m->address, m->branch, a, sizeof(a)),
	        addr ? now->address_from : "", addr && br ? " and " : "",
	        br ? now->branch_from : "",
	        cli_target_describe(addr ? now->ident : m->address,
	                            br ? now->branch : m->branch, b,
	                            sizeof(b)));
	if (!cli_in_automation())
		out_info(
		        "hint: without %s%s%s, 'hubform apply %s' goes to the "
		        "plan's own target; for the other one, plan again there",
		        addr ? now->address_from : "",
		        addr && br ? " and " : "", br ? now->branch_from : "",
		        ref ? ref : m->id);
	return -1;
}

static int plan_paths(struct hf_pipeline *pl, hf_store *st, hf_plan **out,
                      const struct apply_opts *ao,
                      const struct hf_strlist *args)
{
	hf_error err = HF_ERROR_INIT;

	if (cli_pipeline_plan(pl, &ao->po, args->items, args->n) < 0)
		return -1;
	if (hf_store_save(st, pl->plan, &err) < 0) {
		out_error("%s", err.msg);
		return -1;
	}
	out_info("plan %s saved", hf_plan_meta(pl->plan)->id);
	*out = pl->plan;
	return 0;
}

/* Whether an option that only planning reads was given. */
static int plans_options(const struct hf_pipeline_opts *po)
{
	return po->stack || po->prune || po->destroy || po->no_adopt ||
	       po->targets.n || po->excludes.n;
}

/* Object files or folders (not a plan file, not a plan id). */
static int are_paths(const struct hf_strlist *args)
{
	return cli_ref_kind(args->items[0]) == CLI_REF_PATH;
}

int cmd_apply(struct hf_ctx *ctx, int argc, char **argv)
{
	struct apply_opts ao;
	struct hf_strlist args = { 0 };
	struct hf_pipeline *pl;
	struct hf_plan_ref ref;
	struct hf_target now;
	hf_store *rec[2];
	size_t nrec = 0;
	hf_store *st = NULL;
	hf_plan *p = NULL;
	int paths;
	const struct hf_opt opts[] = {
		HF_PIPELINE_OPTIONS(ao.po),
		HF_PIPELINE_OWNER_OPTIONS(ao.po),
		HF_OPT_STRING(
		        0, "state", "FILE", &ao.po.state,
		        "plan store (default $HUBFORM_STATE or .hubform/plans.db)"),
		HF_OPT_INT(0, "batch-size", "N", &ao.batch_size, 1, 1000,
		           "mutations per request (default 50)"),
		HF_OPT_BOOL(0, "keep-branch", &ao.keep_branch,
		            "leave the branch unmerged for a proposed change"),
		HF_OPT_BOOL(
		        0, "auto-approve", &ao.auto_approve,
		        "do not ask; with paths, plan and apply in one step"),
		HF_OPT_INT(0, "deadline", "S", &ao.po.deadline, 1, 86400,
		           "seconds the whole apply may take; then roll back"),
		HF_OPT_BOOL(
		        0, "keep-going", &ao.keep_going,
		        "after a failure, go on with every change whose "
		        "dependencies succeeded (then roll back), to see all failures"),
		HF_OPT_BOOL(0, "direct", &ao.direct,
		            "write straight to a target branch other than the "
		            "default one (no branch, no rollback)"),
		HF_OPT_BOOL(
		        0, "recover", &ao.recover,
		        "a plan left 'applying' by a killed process: delete its "
		        "branch and mark it failed"),
		HF_OPT_INT(0, "lock-timeout", "S", &ao.lock_timeout, 0, 86400,
		           "wait up to S seconds for another apply to the same "
		           "target (its lock in Infrahub) to end (default 0: "
		           "refuse at once)"),
		HF_OPT_INT(0, "max-deletes", "N", &ao.max_deletes, 0,
		           1000000000,
		           "refuse a plan that deletes more than N objects, "
		           "before writing anything"),
		HF_OPT_BOOL(0, "no-color", &ao.no_color,
		            "never colour the output"),
		HF_OPT_END(),
	};
	int rc;

	memset(&ao, 0, sizeof(ao));
	memset(&ref, 0, sizeof(ref));
	{
		struct hf_pipeline_opts po = HF_PIPELINE_OPTS_INIT;

		ao.po = po;
		ao.batch_size = 50;
		ao.max_deletes = -1;
	}
	if (cli_target_default_timeout(&ao.po.timeout) < 0)
		return HF_EXIT_ERROR;
	rc = cli_cmd_parse(ctx, usage, "Apply a stored plan inside a branch.",
	                   opts, argc, argv, &args);
	if (rc >= 0)
		goto out;
	pl = cli_ctx_pipeline(ctx);
	rc = HF_EXIT_USAGE;
	/* --destroy plans from the stack alone, files or none */
	paths = args.n ? are_paths(&args) : ao.po.destroy;
	if (!paths && plans_options(&ao.po)) {
		out_error(
		        "--stack, --prune, --destroy, --no-adopt, --target and "
		        "--exclude shape a plan: give them with object files "
		        "and folders (a stored plan keeps what it was made "
		        "with)");
		out_info("usage: %s", usage);
		goto out;
	}
	if (ao.po.prune && ao.po.destroy) {
		out_error("--prune and --destroy do not go together: --destroy "
		          "deletes everything the stack owns");
		goto out;
	}
	if (args.n > 1 && !paths) {
		out_error(
		        "'apply' takes one plan (an id, 'latest' or a plan file), "
		        "or object files and folders");
		out_info("usage: %s", usage);
		goto out;
	}
	rc = HF_EXIT_ERROR;
	if (paths) {
		if (ao.recover) {
			out_error("--recover takes a plan, not object files");
			rc = HF_EXIT_USAGE;
			goto out;
		}
		if (cli_ctx_store(ctx, ao.po.state, 1, &st) < 0 ||
		    plan_paths(pl, st, &p, &ao, &args) < 0)
			goto out;
		rec[nrec++] = st;
	} else {
		struct hf_target_opts to = { ao.po.address, ao.po.branch, NULL,
			                     0 };

		if (cli_target_resolve(&now, &to) < 0 ||
		    cli_cmd_open_plan(ctx, &ref, ao.po.state,
		                      args.n ? args.items[0] : NULL, &now,
		                      1) < 0)
			goto out;
		p = ref.plan;
		if (check_target(&now, hf_plan_meta(p),
		                 args.n ? args.items[0] : NULL) < 0)
			goto out;
		rec[nrec++] = ref.store;
		if (ref.file)
			rec[nrec++] = ref.file;
		if (cli_target_from_ident(&pl->target, hf_plan_meta(p)->address,
		                          hf_plan_meta(p)->branch) < 0 ||
		    cli_pipeline_attach(pl, &ao.po, 0) < 0)
			goto out;
	}
	catch_signals();
	rc = run(pl, rec, nrec, p, &ao);
out:
	cli_plan_ref_release(&ref);
	cli_pipeline_opts_release(&ao.po);
	cli_strlist_release(&args);
	return rc;
}
