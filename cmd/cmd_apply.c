/*
 * hubform apply PLAN | hubform apply PATH... --auto-approve: apply exactly
 * a reviewed plan inside a throw-away branch hubform-<plan id>, merged
 * when every change succeeded and deleted otherwise, so the target never
 * sees half an apply. A plan whose objects changed since it was made is
 * stale: exit 3, nothing written.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
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
	"hubform apply PLAN [--keep-branch] | hubform apply PATH... --auto-approve";

struct apply_opts {
	struct hf_pipeline_opts po;
	const char *state;
	long batch_size;
	int keep_branch;
	int auto_approve;
	int recover;
	int keep_going;
	int direct;
	time_t end; /* --deadline: when the whole apply must be done */
};

/* When the waves started, for the progress line's rate and ETA. */
static struct timespec started;

/* Set by SIGINT/SIGTERM: start nothing new, finish, roll back. */
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

/* One line per wave (or a rewritten line on a terminal). */
static int progress(void *payload, int wave, int waves, long done, long total)
{
	const struct apply_opts *ao = payload;
	struct timespec now;
	double el, rate;

	clock_gettime(CLOCK_MONOTONIC, &now);
	el = (double)(now.tv_sec - started.tv_sec) +
	     (double)(now.tv_nsec - started.tv_nsec) / 1e9;
	rate = el > 0 ? (double)done / el : 0;
	if (isatty(2))
		fprintf(stderr, "\rwave %d/%d: %ld/%ld changes, %.0f/s, %.1fs elapsed, "
			"ETA %.1fs%s", wave, waves, done, total, rate, el,
			rate > 0 ? (double)(total - done) / rate : 0.0,
			wave == waves ? "\n" : "");
	else
		out_info("wave %d/%d: %ld/%ld changes applied (%.0f/s, %.1fs)", wave,
			 waves, done, total, rate, el);
	if (ao->end && time(NULL) > ao->end) {
		out_error("--deadline exceeded");
		return 1;
	}
	return 0;
}

static void stale_diag(void *payload, const hf_error *e)
{
	(void)payload;
	out_info("stale: %s", e->msg);
}

struct op_result {
	json_t *data;
	json_t *errors;
	int rc;
	hf_error err;
};

static void op_done(hf_client *c, const struct hf_client_result *r, void *payload)
{
	struct op_result *o = payload;

	(void)c;
	o->rc = r->rc;
	if (r->err)
		o->err = *r->err;
	o->data = json_incref(r->data);
	o->errors = json_incref(r->errors);
}

/*
 * Branch management on the default branch's endpoint. Each operation is
 * safe to repeat (a create that finds its branch, a delete that finds
 * none, a second merge of a merged branch change nothing), so transient
 * failures are retried like reads.
 */
static int branch_op(struct hf_pipeline *pl, const char *op, const char *name,
		     hf_error *err)
{
	struct hf_client_request rq = HF_CLIENT_REQUEST_INIT;
	struct op_result res = { NULL, NULL, 0, HF_ERROR_INIT };
	json_t *vars = json_pack("{s:s}", "name", name);
	const char *msg;
	char q[256];
	int rc;

	if (!strcmp(op, "BranchCreate"))
		snprintf(q, sizeof(q), "mutation ($name: String!) { BranchCreate("
			 "background_execution: false, data: {name: $name, sync_with_git: "
			 "false, description: \"hubform apply\"}) { ok } }");
	else
		snprintf(q, sizeof(q), "mutation ($name: String!) { %s(data: {name: "
			 "$name}) { ok } }", op);
	rq.branch = "main";
	rq.query = q;
	rq.variables = vars;
	rq.flags = HF_CLIENT_RETRY;
	rc = hf_client_submit(pl->client, &rq, err);
	if (rc == 0)
		rc = hf_client_run(pl->client, op_done, &res, err);
	if (rc == 0 && res.rc < 0) {
		*err = res.err;
		rc = res.rc;
	}
	msg = json_string_value(json_object_get(json_array_get(res.errors, 0), "message"));
	if (rc == 0 && !json_is_true(json_object_get(json_object_get(res.data, op), "ok")) &&
	    !(msg && strstr(msg, "already exist") && !strcmp(op, "BranchCreate")) &&
	    !(msg && strstr(msg, "not found") && !strcmp(op, "BranchDelete")))
		rc = hf_error_set(err, HF_ESERVER, "%s %s: %s", op, name,
				  msg ? msg : "no answer");
	json_decref(vars);
	json_decref(res.data);
	json_decref(res.errors);
	return rc;
}

static int confirm(const hf_plan *p, int auto_approve)
{
	struct hf_render_opts ro = HF_RENDER_OPTS_INIT;
	hf_buf b = HF_BUF_INIT;
	char line[16];

	if (auto_approve)
		return 0;
	if (!isatty(0)) {
		out_error("not asking on a non-interactive input: review the plan "
			  "with 'hubform show' and pass --auto-approve");
		return -1;
	}
	ro.color = isatty(1) && !getenv("NO_COLOR");
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

static void record(hf_store *st, hf_plan *p)
{
	hf_error err = HF_ERROR_INIT;

	if (hf_store_update_changes(st, p, &err) < 0)
		out_warn("cannot record the changes' outcomes: %s", err.msg);
}

static void report_failures(const hf_plan *p)
{
	size_t i;
	char *h;

	for (i = 0; i < hf_plan_count(p); i++) {
		const struct hf_change *c = hf_plan_at(p, i);

		if (c->status != HF_CH_FAILED)
			continue;
		h = json_dumps(c->hfid, JSON_COMPACT);
		out_error("%s %s %s failed: %s", hf_action_str(c->action), c->kind,
			  h ? h : "?", c->error ? c->error : "?");
		hf_free(h);
	}
}

/* --direct failed: say exactly what is now in the target branch. */
static void report_applied(const hf_plan *p, const char *branch)
{
	size_t i, n = 0;
	char *h;

	for (i = 0; i < hf_plan_count(p); i++) {
		const struct hf_change *c = hf_plan_at(p, i);

		if (c->status != HF_CH_APPLIED)
			continue;
		h = json_dumps(c->hfid, JSON_COMPACT);
		out_info("applied to %s: %s %s %s", branch, hf_action_str(c->action),
			 c->kind, h ? h : "?");
		hf_free(h);
		n++;
	}
	out_error("apply --direct failed: %zu change%s stay applied in '%s'", n,
		  n == 1 ? "" : "s", branch);
}

static void iso_now(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	if (!strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		out[0] = '\0';
}

/* The branch transaction; returns an exit code. */
static int transaction(struct hf_pipeline *pl, hf_store *st, hf_plan *p,
		       const struct apply_opts *ao)
{
	struct hf_apply_opts o = HF_APPLY_OPTS_INIT;
	struct hf_apply_stats stats;
	const char *id = hf_plan_meta(p)->id;
	hf_error err = HF_ERROR_INIT, e2 = HF_ERROR_INIT;
	char branch[64], when[32];
	int rc;

	snprintf(branch, sizeof(branch), "hubform-%s", id);
	iso_now(when);
	hf_store_set_apply(st, id, ao->direct ? pl->target.branch : branch, when,
			   NULL, -1, NULL, NULL);
	clock_gettime(CLOCK_MONOTONIC, &started);
	if (!ao->direct && branch_op(pl, "BranchCreate", branch, &err) < 0) {
		out_error("cannot create branch '%s': %s", branch, err.msg);
		hf_store_transition(st, id, "applying", "failed", NULL);
		hf_store_set_apply(st, id, NULL, NULL, NULL, -1, err.msg, NULL);
		return HF_EXIT_ERROR;
	}
	o.branch = ao->direct ? pl->target.branch : branch;
	o.batch_size = ao->batch_size;
	o.progress = progress;
	o.payload = (void *)(uintptr_t)ao;
	o.stop = &stop_flag;
	o.keep_going = ao->keep_going;
	rc = hf_apply_waves(p, pl->schema, pl->client, &o, &stats, &err);
	if (rc == 0 && !ao->keep_branch && !ao->direct &&
	    branch_op(pl, "BranchMerge", branch, &err) < 0)
		rc = HF_ESERVER;
	record(st, p);
	iso_now(when);
	if (ao->direct) {
		/* no branch to merge or delete */
	} else if (rc == 0 && ao->keep_branch) {
		out_info("applied %ld changes to branch '%s', left unmerged for review",
			 stats.applied, branch);
	} else if (branch_op(pl, "BranchDelete", branch, &e2) < 0) {
		out_error("could not delete branch '%s': %s; delete it by hand", branch,
			  e2.msg);
	}
	hf_store_set_apply(st, id, NULL, NULL, when, stats.requests, rc ? err.msg : NULL, NULL);
	if (rc < 0 && ao->direct) {
		report_failures(p);
		report_applied(p, pl->target.branch);
		hf_store_transition(st, id, "applying", "failed", NULL);
		return HF_EXIT_ERROR;
	}
	if (rc < 0) {
		report_failures(p);
		out_error("apply failed: %s; branch '%s' was deleted, %s is unchanged",
			  err.msg, branch, pl->target.branch);
		hf_store_transition(st, id, "applying", "failed", NULL);
		return HF_EXIT_ERROR;
	}
	hf_store_transition(st, id, "applying", "applied", NULL);
	out_info("apply complete: %ld changes in %ld requests%s", stats.applied,
		 stats.requests, ao->keep_branch ? "" : ", merged");
	return HF_EXIT_OK;
}

static int apply_plan(struct hf_pipeline *pl, hf_store *st, hf_plan *p,
		      const struct apply_opts *ao)
{
	const struct hf_plan_meta *m = hf_plan_meta(p);
	char other[HF_PLAN_ID_LEN + 1];
	const char *live_hash;
	hf_error err = HF_ERROR_INIT;
	int rc;

	if (strcmp(m->status, "planned")) {
		out_error("plan %s is %s; only a planned plan can be applied", m->id, m->status);
		return HF_EXIT_ERROR;
	}
	if (strcmp(pl->target.branch, "main") && !ao->direct) {
		out_error("Infrahub branches start from the default branch only: to "
			  "apply to '%s', pass --direct (no rollback: on failure the "
			  "changes already applied stay)", pl->target.branch);
		return HF_EXIT_ERROR;
	}
	if (confirm(p, ao->auto_approve) < 0)
		return HF_EXIT_ERROR;
	live_hash = hf_schema_hash(pl->schema);
	if (m->schema_hash[0] && live_hash && strcmp(live_hash, m->schema_hash)) {
		out_info("stale: the schema of %s changed since the plan was made", pl->target.address);
		rc = HF_ECONFLICT;
	} else {
		rc = hf_apply_check_stale(p, pl->schema, pl->client, stale_diag, NULL, &err);
	}
	if (rc == HF_ECONFLICT) {
		hf_store_transition(st, m->id, "planned", "stale", NULL);
		hf_store_set_apply(st, m->id, NULL, NULL, NULL, -1, "stale", NULL);
		out_error("plan %s is stale; nothing was written; plan again", m->id);
		return HF_EXIT_STALE;
	}
	if (rc < 0) {
		out_error("%s", err.msg);
		return HF_EXIT_ERROR;
	}
	if (hf_store_find_applying(st, m->address, m->branch, m->id, other)) {
		out_error("plan %s is being applied to the same target; wait for it, "
			  "or 'hubform apply %s --recover' if its process died",
			  other, other);
		return HF_EXIT_ERROR;
	}
	if (hf_store_transition(st, m->id, "planned", "applying", &err) < 0) {
		out_error("cannot start the apply: %s", err.msg);
		return HF_EXIT_ERROR;
	}
	if (!m->n_create && !m->n_update) {
		hf_store_transition(st, m->id, "applying", "applied", NULL);
		out_info("nothing to apply: Infrahub already matches plan %s", m->id);
		return HF_EXIT_OK;
	}
	return transaction(pl, st, p, ao);
}

/* A plan left 'applying' by a killed process: clean up and mark failed. */
static int recover(struct hf_pipeline *pl, hf_store *st, hf_plan *p)
{
	const char *id = hf_plan_meta(p)->id;
	hf_error err = HF_ERROR_INIT;
	char branch[64];

	if (strcmp(hf_plan_meta(p)->status, "applying")) {
		out_error("plan %s is %s; --recover is for a plan left 'applying'", id,
			  hf_plan_meta(p)->status);
		return HF_EXIT_ERROR;
	}
	snprintf(branch, sizeof(branch), "hubform-%s", id);
	if (branch_op(pl, "BranchDelete", branch, &err) < 0)
		out_info("branch '%s' not deleted (%s); it may be gone already", branch, err.msg);
	else
		out_info("deleted branch '%s'", branch);
	hf_store_transition(st, id, "applying", "failed", NULL);
	hf_store_set_apply(st, id, NULL, NULL, NULL, -1, "recovered after an interrupted apply", NULL);
	out_info("plan %s marked failed; plan again to apply", id);
	return HF_EXIT_OK;
}

static int plan_paths(struct hf_pipeline *pl, hf_store *st, hf_plan **out,
		      const struct apply_opts *ao, const struct hf_strlist *args)
{
	hf_error err = HF_ERROR_INIT;

	if (hf_pipeline_plan(pl, &ao->po, args->items, args->n) < 0)
		return -1;
	if (hf_store_save(st, pl->plan, &err) < 0) {
		out_error("%s", err.msg);
		return -1;
	}
	out_info("plan %s saved", hf_plan_meta(pl->plan)->id);
	*out = pl->plan;
	return 0;
}

int cmd_apply(struct hf_ctx *ctx, int argc, char **argv)
{
	struct apply_opts ao;
	struct hf_strlist args = { 0 };
	struct hf_pipeline pl;
	hf_store *st = NULL;
	hf_plan *p = NULL, *loaded = NULL;
	const struct hf_opt opts[] = {
		HF_PIPELINE_OPTIONS(ao.po),
		HF_OPT_STRING(0, "state", "FILE", &ao.state,
			      "plan store (default $HUBFORM_STATE or .hubform/plans.db)"),
		HF_OPT_INT(0, "batch-size", "N", &ao.batch_size, 1, 1000,
			   "mutations per request (default 50)"),
		HF_OPT_BOOL(0, "keep-branch", &ao.keep_branch,
			    "leave the branch unmerged for a proposed change"),
		HF_OPT_BOOL(0, "auto-approve", &ao.auto_approve,
			    "do not ask; with paths, plan and apply in one step"),
		HF_OPT_INT(0, "deadline", "S", &ao.po.deadline, 1, 86400,
			   "seconds the whole apply may take; then roll back"),
		HF_OPT_BOOL(0, "keep-going", &ao.keep_going,
			    "after a failure, go on with every change whose "
			    "dependencies succeeded (then roll back), to see all failures"),
		HF_OPT_BOOL(0, "direct", &ao.direct,
			    "write straight to a target branch other than main "
			    "(no branch, no rollback)"),
		HF_OPT_BOOL(0, "recover", &ao.recover,
			    "a plan left 'applying' by a killed process: delete its "
			    "branch and mark it failed"),
		HF_OPT_END(),
	};
	int rc;

	memset(&pl, 0, sizeof(pl));
	memset(&ao, 0, sizeof(ao));
	{
		struct hf_pipeline_opts po = HF_PIPELINE_OPTS_INIT;

		ao.po = po;
		ao.batch_size = 50;
	}
	rc = hf_cmd_parse(ctx->name, usage, "Apply a stored plan inside a branch.",
			  opts, argc, argv, &args);
	if (rc >= 0)
		goto out;
	rc = HF_EXIT_USAGE;
	if (!args.n || (args.n > 1 && !ao.auto_approve)) {
		out_error("usage: %s", usage);
		goto out;
	}
	rc = HF_EXIT_ERROR;
	if (ao.auto_approve && access(args.items[0], F_OK) == 0 &&
	    !strstr(args.items[0], ".db")) {
		if (hf_cmd_open_store(&st, ao.state) < 0 ||
		    plan_paths(&pl, st, &p, &ao, &args) < 0)
			goto out;
	} else {
		if (hf_cmd_open_plan(&st, &loaded, ao.state, args.items[0]) < 0 ||
		    hf_pipeline_connect(&pl, &ao.po) < 0)
			goto out;
		p = loaded;
	}
	if (ao.po.deadline)
		ao.end = time(NULL) + ao.po.deadline;
	catch_signals();
	rc = ao.recover ? recover(&pl, st, p) : apply_plan(&pl, st, p, &ao);
out:
	hf_plan_free(loaded);
	hf_pipeline_release(&pl);
	hf_store_close(st);
	hf_strlist_release(&args);
	return rc;
}
