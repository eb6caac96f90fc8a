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
#include "hf/branch.h"
#include "hf/render.h"
#include "cmd.h"
#include "opt.h"
#include "output.h"
#include "pipeline.h"
#include "state.h"
#include "hf/banned.h"

static const char usage[] =
	"hubform apply [PLAN|FILE] [--auto-approve] [--keep-branch] | "
	"hubform apply PATH... --auto-approve";

struct apply_opts {
	struct hf_pipeline_opts po;
	const char *state;
	long batch_size;
	int keep_branch;
	int auto_approve;
	int recover;
	int keep_going;
	int direct;
	int no_color;
	long lock_timeout; /* seconds to wait for another apply of the target */
	time_t end; /* --deadline: when the whole apply must be done */
};

/*
 * Where the plan's outcome is recorded: the plan store, and the plan file
 * too when the plan came from one. Every status change goes to both.
 */
struct records {
	hf_store *st[2];
	int n;
};

static const char *plural(long n)
{
	return n == 1 ? "" : "s";
}

static int rec_transition(struct records *r, const char *id, const char *from,
			  const char *to, hf_error *err)
{
	int i, j;

	for (i = 0; i < r->n; i++) {
		if (hf_store_transition(r->st[i], id, from, to, err) == 0)
			continue;
		for (j = 0; j < i; j++) /* put the others back */
			hf_store_transition(r->st[j], id, to, from, NULL);
		return -1;
	}
	return 0;
}

static void rec_set_apply(struct records *r, const char *id, const char *branch,
			  const char *started, const char *finished, long requests,
			  const char *error)
{
	hf_error err = HF_ERROR_INIT;
	int i;

	for (i = 0; i < r->n; i++)
		if (hf_store_set_apply(r->st[i], id, branch, started, finished,
				       requests, error, &err) < 0)
			out_warn("cannot record the apply in '%s': %s",
				 hf_store_path(r->st[i]), err.msg);
}

/* Status changes after the writes: a failure to record is said, loudly. */
static void rec_finish(struct records *r, const char *id, const char *to)
{
	hf_error err = HF_ERROR_INIT;
	int i;

	for (i = 0; i < r->n; i++)
		if (hf_store_transition(r->st[i], id, "applying", to, &err) < 0)
			out_error("cannot mark plan %s %s in '%s': %s", id, to,
				  hf_store_path(r->st[i]), err.msg);
}

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
	if (isatty(2)) {
		char line[200];

		snprintf(line, sizeof(line), "wave %d/%d: %ld/%ld change%s, %.0f/s, "
			 "%.1fs elapsed, ETA %.1fs", wave, waves, done, total,
			 plural(total), rate, el,
			 rate > 0 ? (double)(total - done) / rate : 0.0);
		out_progress(line);
		if (wave == waves)
			out_progress_end();
	} else {
		out_info("wave %d/%d: %ld/%ld change%s applied (%.0f/s, %.1fs)", wave,
			 waves, done, total, plural(total), rate, el);
	}
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

static int confirm(const hf_plan *p, int auto_approve, int no_color)
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
	ro.color = !no_color && isatty(1) && !getenv("NO_COLOR");
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

static void record(struct records *r, hf_plan *p)
{
	hf_error err = HF_ERROR_INIT;
	int i;

	for (i = 0; i < r->n; i++)
		if (hf_store_update_changes(r->st[i], p, &err) < 0)
			out_error("cannot record the changes' outcomes in '%s': %s",
				  hf_store_path(r->st[i]), err.msg);
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
			if (d->status == HF_CH_FAILED && d->error && !strcmp(d->error, msg))
				n++;
		}
		if (n)
			out_error("%s (and %zu more change%s) failed: %s", b.ptr, n,
				  n == 1 ? "" : "s", msg);
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
	out_error("apply --direct failed: %zu change%s stay applied directly to "
		  "'%s'", n, n == 1 ? "" : "s", branch);
}

static void iso_now(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	if (!strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		out[0] = '\0';
}

/* Delete the work branch; say so only when it is really gone. */
static int drop_branch(struct hf_pipeline *pl, const char *branch)
{
	hf_error err = HF_ERROR_INIT;

	if (hf_branch_op(pl->client, HF_BRANCH_DELETE, branch, &err) == 0)
		return 0;
	out_error("could not delete branch '%s': %s", branch, err.msg);
	return -1;
}

/* The branch transaction; returns an exit code. */
static int transaction(struct hf_pipeline *pl, struct records *r, hf_plan *p,
		       const struct apply_opts *ao)
{
	struct hf_apply_opts o = HF_APPLY_OPTS_INIT;
	struct hf_apply_stats stats;
	const char *id = hf_plan_meta(p)->id, *target = pl->target.branch;
	hf_error err = HF_ERROR_INIT;
	char branch[64], when[32];
	int rc, dropped = 0;

	snprintf(branch, sizeof(branch), "hubform-%s", id);
	iso_now(when);
	rec_set_apply(r, id, ao->direct ? target : branch, when, NULL, -1, NULL);
	clock_gettime(CLOCK_MONOTONIC, &started);
	if (!ao->direct && hf_branch_op(pl->client, HF_BRANCH_CREATE, branch, &err) < 0) {
		out_error("cannot create branch '%s': %s", branch, err.msg);
		rec_set_apply(r, id, NULL, NULL, NULL, -1, err.msg);
		rec_finish(r, id, "failed");
		return HF_EXIT_ERROR;
	}
	o.branch = ao->direct ? target : branch;
	o.batch_size = ao->batch_size;
	o.progress = progress;
	o.payload = (void *)(uintptr_t)ao;
	o.stop = &stop_flag;
	o.keep_going = ao->keep_going;
	rc = hf_apply_waves(p, pl->schema, pl->client, &o, &stats, &err);
	if (rc == 0 && !ao->keep_branch && !ao->direct &&
	    hf_branch_op(pl->client, HF_BRANCH_MERGE, branch, &err) < 0)
		rc = HF_ESERVER;
	record(r, p);
	if (!ao->direct && !(rc == 0 && ao->keep_branch))
		dropped = drop_branch(pl, branch) == 0;
	iso_now(when);
	rec_set_apply(r, id, NULL, NULL, when, stats.requests, rc ? err.msg : NULL);
	if (rc < 0) {
		report_failures(p);
		rec_finish(r, id, "failed");
		if (ao->direct)
			report_applied(p, target);
		else if (dropped)
			out_error("apply failed: %s; branch '%s' was deleted, '%s' is "
				  "unchanged", err.msg, branch, target);
		else
			out_error("apply failed: %s; nothing was merged into '%s', but "
				  "branch '%s' is still there: delete it in Infrahub",
				  err.msg, target, branch);
		return HF_EXIT_ERROR;
	}
	rec_finish(r, id, "applied");
	if (ao->direct)
		out_info("apply complete: %ld change%s applied directly to '%s' in "
			 "%ld request%s", stats.applied, plural(stats.applied), target,
			 stats.requests, plural(stats.requests));
	else if (ao->keep_branch)
		out_info("apply complete: %ld change%s in %ld request%s on branch "
			 "'%s', left unmerged for review", stats.applied,
			 plural(stats.applied), stats.requests,
			 plural(stats.requests), branch);
	else
		out_info("apply complete: %ld change%s in %ld request%s, merged "
			 "into '%s'", stats.applied, plural(stats.applied),
			 stats.requests, plural(stats.requests), target);
	return HF_EXIT_OK;
}

/* The default branch goes through a throw-away branch; others need --direct. */
static int check_branch(const struct hf_pipeline *pl, const struct apply_opts *ao)
{
	const char *b = pl->target.branch, *def = pl->target.default_branch;

	if (strcmp(b, def) && !ao->direct) {
		out_error("Infrahub branches start from the default branch ('%s') "
			  "only: to apply to '%s', pass --direct (no rollback: on "
			  "failure the changes already applied stay)", def, b);
		return -1;
	}
	if (!strcmp(b, def) && ao->direct) {
		out_error("--direct is for branches other than the default branch "
			  "'%s'; an apply to '%s' always runs in a throw-away branch",
			  def, b);
		return -1;
	}
	return 0;
}

/*
 * Another plan of this store being applied to the same target: wait up to
 * `seconds` for it to end (Terraform's -lock-timeout). 1 when it still
 * runs, with its id in `other`.
 */
static int wait_for_target(hf_store *st, const struct hf_plan_meta *m,
			   long seconds, char other[HF_PLAN_ID_LEN + 1])
{
	struct timespec pause = { 0, 250 * 1000 * 1000 };
	time_t until = time(NULL) + seconds;
	int said = 0;

	while (hf_store_find_applying(st, m->address, m->branch, m->id, other)) {
		if (time(NULL) >= until || stop_flag)
			return 1;
		if (!said++)
			out_info("waiting for plan %s, being applied to the same "
				 "target (up to %lds)", other, seconds);
		nanosleep(&pause, NULL);
	}
	return 0;
}

static int apply_plan(struct hf_pipeline *pl, struct records *r, hf_plan *p,
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
	if (check_branch(pl, ao) < 0)
		return HF_EXIT_ERROR;
	if (confirm(p, ao->auto_approve, ao->no_color) < 0)
		return HF_EXIT_ERROR;
	live_hash = hf_schema_hash(pl->schema);
	if (m->schema_hash[0] && live_hash && strcmp(live_hash, m->schema_hash)) {
		out_info("stale: the schema of %s changed since the plan was made",
			 pl->target.ident);
		rc = HF_ECONFLICT;
	} else {
		rc = hf_apply_check_stale(p, pl->schema, pl->client, stale_diag, NULL, &err);
	}
	if (rc == HF_ECONFLICT) {
		if (rec_transition(r, m->id, "planned", "stale", &err) == 0)
			rec_set_apply(r, m->id, NULL, NULL, NULL, -1, "stale");
		out_error("plan %s is stale; nothing was written; plan again", m->id);
		return HF_EXIT_STALE;
	}
	if (rc < 0) {
		hf_pipeline_fail(pl, "cannot check the plan against", &err);
		return HF_EXIT_ERROR;
	}
	if (wait_for_target(r->st[0], m, ao->lock_timeout, other)) {
		out_error("plan %s is being applied to the same target; wait for it "
			  "(--lock-timeout S), or 'hubform apply %s --recover' if its "
			  "process died", other, other);
		return HF_EXIT_ERROR;
	}
	if (rec_transition(r, m->id, "planned", "applying", &err) < 0) {
		out_error("cannot start the apply: %s", err.msg);
		return HF_EXIT_ERROR;
	}
	if (!m->n_create && !m->n_update) {
		rec_finish(r, m->id, "applied");
		out_info("nothing to apply: Infrahub already matches plan %s", m->id);
		return HF_EXIT_OK;
	}
	return transaction(pl, r, p, ao);
}

static void count_stale(void *payload, const hf_error *e)
{
	(void)e;
	(*(long *)payload)++;
}

/*
 * Did the killed apply's merge land? The branch says so when it is still
 * there (status MERGED); when it is gone, the target itself does: every
 * change of the plan present (each object "changed since the plan") means
 * it landed, none means it did not.
 */
static int landed(struct hf_pipeline *pl, hf_plan *p, const char *branch,
		  int *exists)
{
	const struct hf_plan_meta *m = hf_plan_meta(p);
	struct hf_branch_info bi;
	hf_error err = HF_ERROR_INIT;
	char status[32];
	long stale = 0, total = (long)(m->n_create + m->n_update);

	if (hf_branch_status(pl->client, branch, status, sizeof(status), exists,
			     &err) == 0) {
		if (*exists && status[0])
			return !strcmp(status, "MERGED");
	} else if (hf_branch_info(pl->client, branch, &bi, &err) == 0) {
		*exists = bi.exists; /* a server without Branch.status */
	} else {
		return -1;
	}
	if (hf_apply_check_stale(p, pl->schema, pl->client, count_stale, &stale,
				 &err) < 0 && err.code != HF_ECONFLICT)
		return -1;
	if (total && stale == total)
		return 1;
	if (stale)
		out_warn("%ld of the plan's %ld changes are present on '%s': the "
			 "target changed since; plan again", stale, total,
			 pl->target.branch);
	return 0;
}

/* A plan left 'applying' by a killed process: find out, record the truth. */
static int recover(struct hf_pipeline *pl, struct records *r, hf_plan *p)
{
	const char *id = hf_plan_meta(p)->id;
	hf_error err = HF_ERROR_INIT;
	char branch[64];
	int merged, exists = 0;

	if (strcmp(hf_plan_meta(p)->status, "applying")) {
		out_error("plan %s is %s; --recover is for a plan left 'applying'", id,
			  hf_plan_meta(p)->status);
		return HF_EXIT_ERROR;
	}
	snprintf(branch, sizeof(branch), "hubform-%s", id);
	merged = landed(pl, p, branch, &exists);
	if (merged < 0) {
		out_error("cannot tell whether plan %s landed; it stays 'applying'", id);
		return HF_EXIT_ERROR;
	}
	if (exists && hf_branch_op(pl->client, HF_BRANCH_DELETE, branch, &err) < 0) {
		out_error("could not delete branch '%s': %s; the plan stays "
			  "'applying'", branch, err.msg);
		return HF_EXIT_ERROR;
	}
	if (exists)
		out_info("deleted branch '%s'", branch);
	else
		out_info("branch '%s' was gone already", branch);
	if (merged) {
		rec_finish(r, id, "applied");
		rec_set_apply(r, id, NULL, NULL, NULL, -1,
			      "recovered: the merge had landed before the process died");
		out_info("plan %s had been merged into '%s' before the apply was "
			 "interrupted: marked applied", id, pl->target.branch);
		return HF_EXIT_OK;
	}
	rec_finish(r, id, "failed");
	rec_set_apply(r, id, NULL, NULL, NULL, -1, "recovered after an interrupted apply");
	out_info("plan %s did not land on '%s': marked failed; plan again to apply",
		 id, pl->target.branch);
	return HF_EXIT_OK;
}

/*
 * A plan is applied to the target it was made for, nowhere else: an
 * address or branch named now that differs refuses, before any request.
 */
static int check_target(const struct hf_target *now, const struct hf_plan_meta *m,
			const char *ref)
{
	int addr = now->address_from && strcmp(now->ident, m->address);
	int br = now->branch_from && strcmp(now->branch, m->branch);
	char a[HF_TARGET_IDENT_MAX + 300], b[HF_TARGET_IDENT_MAX + 300];

	if (!addr && !br)
		return 0;
	out_error("plan %s was made for %s, but %s%s%s names %s: refusing to apply "
		  "it anywhere else; nothing was written",
		  m->id, hf_target_describe(m->address, m->branch, a, sizeof(a)),
		  addr ? now->address_from : "", addr && br ? " and " : "",
		  br ? now->branch_from : "",
		  hf_target_describe(addr ? now->ident : m->address,
				     br ? now->branch : m->branch, b, sizeof(b)));
	out_info("hint: without %s%s%s, 'hubform apply %s' goes to the plan's own "
		 "target; for the other one, plan again there",
		 addr ? now->address_from : "", addr && br ? " and " : "",
		 br ? now->branch_from : "", ref ? ref : m->id);
	return -1;
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

/* Object files or folders (not a plan file, not a plan id). */
static int are_paths(const struct hf_strlist *args)
{
	return access(args->items[0], F_OK) == 0 &&
	       !hf_store_is_plan_file(args->items[0]);
}

int cmd_apply(struct hf_ctx *ctx, int argc, char **argv)
{
	struct apply_opts ao;
	struct hf_strlist args = { 0 };
	struct hf_pipeline pl;
	struct hf_plan_ref ref;
	struct hf_target now;
	struct records rec;
	hf_store *st = NULL;
	hf_plan *p = NULL;
	int paths;
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
			    "write straight to a target branch other than the "
			    "default one (no branch, no rollback)"),
		HF_OPT_BOOL(0, "recover", &ao.recover,
			    "a plan left 'applying' by a killed process: delete its "
			    "branch and mark it failed"),
		HF_OPT_INT(0, "lock-timeout", "S", &ao.lock_timeout, 0, 86400,
			   "wait up to S seconds for another apply to the same "
			   "target to end (default 0: refuse at once)"),
		HF_OPT_BOOL(0, "no-color", &ao.no_color, "never colour the output"),
		HF_OPT_END(),
	};
	int rc;

	memset(&pl, 0, sizeof(pl));
	memset(&ao, 0, sizeof(ao));
	memset(&ref, 0, sizeof(ref));
	memset(&rec, 0, sizeof(rec));
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
	paths = args.n && are_paths(&args);
	if (args.n > 1 && !paths) {
		out_error("'apply' takes one plan (an id, 'latest' or a plan file), "
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
		if (hf_cmd_open_store(&st, ao.state) < 0 ||
		    plan_paths(&pl, st, &p, &ao, &args) < 0)
			goto out;
		rec.st[rec.n++] = st;
	} else {
		struct hf_target_opts to = { ao.po.address, ao.po.branch, NULL, 0 };

		if (hf_target_resolve(&now, &to) < 0 ||
		    hf_cmd_open_plan(&ref, ao.state, args.n ? args.items[0] : NULL,
				     &now, 1) < 0)
			goto out;
		p = ref.plan;
		if (check_target(&now, hf_plan_meta(p), args.n ? args.items[0] : NULL) < 0)
			goto out;
		rec.st[rec.n++] = ref.store;
		if (ref.file)
			rec.st[rec.n++] = ref.file;
		if (hf_target_from_ident(&pl.target, hf_plan_meta(p)->address,
					 hf_plan_meta(p)->branch) < 0 ||
		    hf_pipeline_attach(&pl, &ao.po, 0) < 0)
			goto out;
	}
	if (ao.po.deadline)
		ao.end = time(NULL) + ao.po.deadline;
	catch_signals();
	rc = ao.recover ? recover(&pl, &rec, p) : apply_plan(&pl, &rec, p, &ao);
out:
	hf_plan_ref_release(&ref);
	hf_pipeline_release(&pl);
	hf_store_close(st);
	hf_strlist_release(&args);
	return rc;
}
