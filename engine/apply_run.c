/*
 * The apply transaction (hf/apply.h): the checks, the plan's status state
 * machine in every store that records it, the work branch, the outcome,
 * and the recovery of an apply a killed process left behind. Nothing is
 * printed: events go to the caller's callbacks.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hf/apply.h"
#include "hf/branch.h"
#include "hf/lock.h"
#include "hf/banned.h"

struct run {
	hf_plan *p;
	const struct hf_apply_run_opts *o;
	struct hf_apply_result *res;
	const char *id;
	struct hf_lock *lock; /* held from before the checks to the end */
};

static void tell(struct run *r, const struct hf_apply_msg *m)
{
	if (r->o->msg)
		r->o->msg(r->o->payload, m);
}

static void tell_text(struct run *r, enum hf_apply_msg_code code,
                      enum hf_apply_severity sev, const char *text,
                      const char *name)
{
	struct hf_apply_msg m;

	memset(&m, 0, sizeof(m));
	m.code = code;
	m.severity = sev;
	m.text = text;
	m.name = name;
	tell(r, &m);
}

static void tell_store(struct run *r, enum hf_apply_msg_code code,
                       enum hf_apply_severity sev, const hf_store *st,
                       enum hf_plan_status status, const hf_error *e)
{
	struct hf_apply_msg m;

	memset(&m, 0, sizeof(m));
	m.code = code;
	m.severity = sev;
	m.text = e->msg;
	m.name = r->id;
	m.path = hf_store_path(st);
	m.status = status;
	tell(r, &m);
}

/* ---- the record: every store, every write checked ---------------------- */

static void mirror(struct run *r, enum hf_plan_status s)
{
	struct hf_plan_meta *m = hf_plan_meta(r->p);

	snprintf(m->status, sizeof(m->status), "%s", hf_plan_status_str(s));
}

/*
 * Move the plan from `from` to `to` in every store, or in none: a store
 * that refuses (another process won the race) undoes the others.
 */
static int move_all(struct run *r, enum hf_plan_status from,
                    enum hf_plan_status to, hf_error *err)
{
	hf_error undo = HF_ERROR_INIT;
	size_t i, j;
	int rc;

	for (i = 0; i < r->o->n_stores; i++) {
		rc = hf_store_move(r->o->stores[i], r->id, from, to, err);
		if (rc == 0)
			continue;
		for (j = 0; j < i; j++)
			if (hf_store_move(r->o->stores[j], r->id, to, from,
			                  &undo) < 0)
				tell_store(r, HF_AMSG_RECORD_STATUS,
				           HF_APPLY_ERROR, r->o->stores[j],
				           from, &undo);
		return rc;
	}
	mirror(r, to);
	return 0;
}

/* applying -> `to` everywhere; each failure said. 1 when all recorded. */
static int finish(struct run *r, enum hf_plan_status to)
{
	hf_error e = HF_ERROR_INIT;
	size_t i;
	int ok = 1;

	for (i = 0; i < r->o->n_stores; i++)
		if (hf_store_move(r->o->stores[i], r->id, HF_PLAN_APPLYING, to,
		                  &e) < 0) {
			tell_store(r, HF_AMSG_RECORD_STATUS, HF_APPLY_ERROR,
			           r->o->stores[i], to, &e);
			ok = 0;
		}
	mirror(r, to);
	r->res->recorded = ok;
	return ok;
}

/* Apply facts on the plan row (NULL / -1 leave a column); failures said. */
static void set_apply(struct run *r, const char *branch, const char *started,
                      const char *finished, long requests, const char *error)
{
	hf_error e = HF_ERROR_INIT;
	size_t i;

	for (i = 0; i < r->o->n_stores; i++)
		if (hf_store_set_apply(r->o->stores[i], r->id, branch, started,
		                       finished, requests, error, &e) < 0)
			tell_store(r, HF_AMSG_RECORD_APPLY, HF_APPLY_WARN,
			           r->o->stores[i], HF_PLAN_APPLYING, &e);
}

static void record_changes(struct run *r)
{
	hf_error e = HF_ERROR_INIT;
	size_t i;

	for (i = 0; i < r->o->n_stores; i++)
		if (hf_store_update_changes(r->o->stores[i], r->p, &e) < 0)
			tell_store(r, HF_AMSG_RECORD_CHANGES, HF_APPLY_ERROR,
			           r->o->stores[i], HF_PLAN_APPLYING, &e);
}

static void iso_now(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		out[0] = '\0';
}

/* ---- branches ---------------------------------------------------------- */

/* Delete the work branch; 0 when it is gone (also if it already was). */
static int drop_branch(struct run *r)
{
	hf_error e = HF_ERROR_INIT;
	int rc = hf_branch_op(r->o->transport, HF_BRANCH_DELETE, r->res->branch,
	                      &e);

	if (rc == 0 || rc == HF_ENOTFOUND)
		return 0;
	tell_text(r, HF_AMSG_DELETE_FAILED, HF_APPLY_ERROR, e.msg,
	          r->res->branch);
	return rc;
}

/* Create the work branch; one already there is our own earlier create. */
static int make_branch(struct run *r, hf_error *err)
{
	int rc = hf_branch_op(r->o->transport, HF_BRANCH_CREATE, r->res->branch,
	                      err);

	if (rc == HF_ECONFLICT) {
		hf_error_clear(err);
		rc = 0;
	}
	return rc;
}

/* ---- checks ------------------------------------------------------------ */

static void stale_diag(void *payload, const hf_error *e)
{
	tell_text(payload, HF_AMSG_STALE, HF_APPLY_INFO, e->msg, NULL);
}

static int check_stale(struct run *r, hf_error *err)
{
	const struct hf_plan_meta *m = hf_plan_meta_c(r->p);
	const char *live = hf_schema_hash(r->o->schema);

	if (m->schema_hash[0] && live && strcmp(live, m->schema_hash)) {
		tell_text(r, HF_AMSG_STALE_SCHEMA, HF_APPLY_INFO, NULL, NULL);
		return hf_error_set(err, HF_ECONFLICT,
		                    "the schema changed since "
		                    "the plan was made");
	}
	return hf_apply_check_stale(r->p, r->o->schema, r->o->transport,
	                            stale_diag, r, err);
}

/* Stale: say so in the stores (planned -> stale); nothing was written. */
static int mark_stale(struct run *r, hf_error *err)
{
	hf_error e = HF_ERROR_INIT;

	r->res->outcome = HF_APPLY_STALE;
	if (move_all(r, HF_PLAN_PLANNED, HF_PLAN_STALE, &e) == 0) {
		r->res->recorded = 1;
		set_apply(r, NULL, NULL, NULL, -1, "stale");
	} else {
		tell_store(r, HF_AMSG_RECORD_STATUS, HF_APPLY_ERROR,
		           r->o->stores[0], HF_PLAN_STALE, &e);
	}
	return hf_error_set(err, HF_ECONFLICT, "plan %s is stale", r->id);
}

/*
 * Another plan of the store being applied to the same target: wait up to
 * lock_timeout seconds for it to end (Terraform's -lock-timeout). 1 when
 * it still runs, its id in res->other.
 */
static int busy(struct run *r)
{
	const struct hf_plan_meta *m = hf_plan_meta_c(r->p);
	struct timespec pause = { 0, 250 * 1000 * 1000 };
	time_t until = time(NULL) + r->o->lock_timeout;
	struct hf_apply_msg msg;
	int said = 0;

	while (hf_store_find_applying(r->o->stores[0], m->address, m->branch,
	                              m->id, r->res->other)) {
		if (time(NULL) >= until || (r->o->stop && *r->o->stop))
			return 1;
		if (!said++) {
			memset(&msg, 0, sizeof(msg));
			msg.code = HF_AMSG_WAITING;
			msg.severity = HF_APPLY_INFO;
			msg.name = r->res->other;
			msg.n = r->o->lock_timeout;
			tell(r, &msg);
		}
		nanosleep(&pause, NULL);
	}
	return 0;
}

/* The default branch goes through a throw-away branch; others need direct. */
static int check_branch(struct run *r, hf_error *err)
{
	int is_default = !strcmp(r->o->branch, r->o->default_branch);

	if (!is_default && !r->o->direct) {
		r->res->outcome = HF_APPLY_NEEDS_DIRECT;
		return hf_error_set(err, HF_EINVAL,
		                    "branch '%s' is not the default "
		                    "branch: an apply there needs direct",
		                    r->o->branch);
	}
	if (is_default && r->o->direct) {
		r->res->outcome = HF_APPLY_DIRECT_DEFAULT;
		return hf_error_set(err, HF_EINVAL,
		                    "direct is for branches other "
		                    "than the default branch '%s'",
		                    r->o->branch);
	}
	return 0;
}

/* --max-deletes: a plan with more deletes is refused before anything. */
static int check_deletes(struct run *r, hf_error *err)
{
	size_t n = hf_apply_deletes(r->p);

	if (!r->o->limit_deletes || (long)n <= r->o->max_deletes)
		return 0;
	r->res->outcome = HF_APPLY_TOO_MANY_DELETES;
	r->res->stats.failed = 0;
	return hf_error_set(err, HF_EINVAL,
	                    "plan %s deletes %zu object%s, more "
	                    "than the %ld allowed; nothing was written",
	                    r->id, n, n == 1 ? "" : "s", r->o->max_deletes);
}

/* ---- the transaction --------------------------------------------------- */

static int on_wave(void *payload, int wave, int waves, long done, long total)
{
	struct run *r = payload;
	int stop = r->o->progress ? r->o->progress(r->o->payload, wave, waves,
	                                           done, total)
	                          : 0;

	if (r->o->deadline && time(NULL) > r->o->deadline) {
		tell_text(r, HF_AMSG_DEADLINE, HF_APPLY_ERROR, NULL, NULL);
		return 1;
	}
	return stop;
}

/* Not recorded as applied: the caller must not claim it was. */
static int unrecorded(struct run *r, enum hf_plan_status to, hf_error *err)
{
	if (r->res->recorded)
		return 0;
	return hf_error_set(err, HF_ERR, "plan %s could not be marked %s",
	                    r->id, hf_plan_status_str(to));
}

static int transaction(struct run *r, hf_error *err)
{
	const struct hf_apply_run_opts *o = r->o;
	struct hf_apply_result *res = r->res;
	struct hf_apply_opts ao = HF_APPLY_OPTS_INIT;
	char when[32];
	int rc;

	tell_text(r, HF_AMSG_WRITING, HF_APPLY_INFO, NULL,
	          o->direct ? o->branch : res->branch);
	iso_now(when);
	set_apply(r, o->direct ? o->branch : res->branch, when, NULL, -1, NULL);
	if (!o->direct && (rc = make_branch(r, err)) < 0) {
		res->outcome = HF_APPLY_CREATE_FAILED;
		set_apply(r, NULL, NULL, NULL, -1, err->msg);
		finish(r, HF_PLAN_FAILED);
		return rc;
	}
	ao.branch = o->direct ? o->branch : res->branch;
	ao.batch_size = o->batch_size > 0 ? o->batch_size : 50;
	ao.progress = on_wave;
	ao.payload = r;
	ao.stop = o->stop;
	ao.keep_going = o->keep_going;
	ao.group_chunk = o->group_chunk;
	rc = hf_apply_waves(r->p, o->schema, o->transport, &ao, &res->stats,
	                    err);
	/* a stop that came during the last step still prevents the merge */
	if (rc == 0 && o->stop && *o->stop)
		rc = hf_error_set(err, HF_ERR, "interrupted");
	if (rc == 0 && !o->keep_branch && !o->direct)
		rc = hf_branch_op(o->transport, HF_BRANCH_MERGE, res->branch,
		                  err);
	record_changes(r);
	if (!o->direct && !(rc == 0 && o->keep_branch))
		res->branch_deleted = drop_branch(r) == 0;
	iso_now(when);
	set_apply(r, NULL, NULL, when, res->stats.requests,
	          rc ? err->msg : NULL);
	if (rc < 0) {
		res->outcome = HF_APPLY_FAILED;
		/*
		 * The work branch could not be deleted: the plan stays
		 * `applying`, so that --recover (which removes the branch and
		 * settles the plan) takes it; `failed` would be refused.
		 */
		if (o->direct || res->branch_deleted)
			finish(r, HF_PLAN_FAILED);
		return rc;
	}
	res->outcome = HF_APPLY_DONE;
	finish(r, HF_PLAN_APPLIED);
	return unrecorded(r, HF_PLAN_APPLIED, err);
}

/* ---- the apply lock in Infrahub (hf/lock.h) ------------------------------ */

static void lock_owner(const struct run *r, struct hf_lock_owner *who)
{
	struct hf_lock_owner init = HF_LOCK_OWNER_INIT;

	*who = init;
	who->user = r->o->lock_user;
	who->host = r->o->lock_host;
	who->plan_id = r->id;
	who->stop = r->o->stop;
}

/*
 * Take the target's lock, waiting up to lock_timeout seconds: held by
 * another runner (or the wait interrupted) is LOCKED, a failure to ask
 * CHECK_FAILED. Nothing is written either way.
 */
static int take_lock(struct run *r, hf_error *err)
{
	struct hf_lock_owner who;
	int rc;

	if (r->o->no_lock)
		return 0;
	lock_owner(r, &who);
	rc = hf_lock_acquire(r->o->transport, r->o->branch, &who,
	                     r->o->lock_timeout, &r->lock, err);
	if (rc == HF_ECONFLICT || rc == HF_ERR)
		r->res->outcome = HF_APPLY_LOCKED;
	else if (rc < 0)
		r->res->outcome = HF_APPLY_CHECK_FAILED;
	return rc;
}

/* Give the lock back; a failure is said, never changes the outcome. */
static void release_lock(struct run *r)
{
	hf_error e = HF_ERROR_INIT;

	if (r->lock && hf_lock_release(r->lock, &e) < 0)
		tell_text(r, HF_AMSG_LOCK_RELEASE, HF_APPLY_WARN, e.msg,
		          r->o->branch);
	r->lock = NULL;
}

/*
 * Recovery: the killed apply's lock, if it still names this plan, is
 * broken (by the holder id read, so another runner's lock is never
 * touched).
 */
static void break_own_lock(struct run *r)
{
	struct hf_lock_info in;
	hf_error e = HF_ERROR_INIT;

	if (r->o->no_lock)
		return;
	if (hf_lock_read(r->o->transport, r->o->branch, &in, &e) < 0) {
		tell_text(r, HF_AMSG_LOCK_RELEASE, HF_APPLY_WARN, e.msg,
		          r->o->branch);
		return;
	}
	if (!in.held || in.foreign || strcmp(in.plan_id, r->id))
		return;
	if (hf_lock_break(r->o->transport, r->o->branch, in.holder_id, &e) < 0)
		tell_text(r, HF_AMSG_LOCK_RELEASE, HF_APPLY_WARN, e.msg,
		          r->o->branch);
	else
		tell_text(r, HF_AMSG_LOCK_BROKEN, HF_APPLY_INFO, in.holder_id,
		          r->o->branch);
}

/* Under the lock: the checks, the start, the transaction. */
static int locked_apply(struct run *r, hf_error *err);

static int apply(struct run *r, hf_error *err)
{
	const struct hf_plan_meta *m = hf_plan_meta_c(r->p);
	struct hf_apply_result *res = r->res;
	int rc;

	if (res->status != HF_PLAN_PLANNED) {
		res->outcome = HF_APPLY_NOT_PLANNED;
		return hf_error_set(err, HF_EINVAL,
		                    "plan %s is %s; only a planned "
		                    "plan can be applied",
		                    r->id, m->status);
	}
	if ((rc = check_branch(r, err)) < 0)
		return rc;
	if ((rc = check_deletes(r, err)) < 0)
		return rc;
	if (r->o->confirm && r->o->confirm(r->o->payload, r->p)) {
		res->outcome = HF_APPLY_CANCELLED;
		return hf_error_set(err, HF_ERR, "apply cancelled");
	}
	if ((rc = take_lock(r, err)) < 0)
		return rc;
	rc = locked_apply(r, err);
	release_lock(r);
	return rc;
}

static int locked_apply(struct run *r, hf_error *err)
{
	struct hf_apply_result *res = r->res;
	int rc;

	rc = check_stale(r, err);
	if (rc == HF_ECONFLICT)
		return mark_stale(r, err);
	if (rc < 0) {
		res->outcome = HF_APPLY_CHECK_FAILED;
		return rc;
	}
	if (busy(r)) {
		res->outcome = HF_APPLY_BUSY;
		return hf_error_set(err, HF_ECONFLICT,
		                    "plan %s is being applied to "
		                    "the same target",
		                    res->other);
	}
	if ((rc = move_all(r, HF_PLAN_PLANNED, HF_PLAN_APPLYING, err)) < 0) {
		res->outcome = HF_APPLY_NOT_STARTED;
		return rc;
	}
	if (!hf_apply_work(r->p)) {
		res->outcome = HF_APPLY_NOTHING;
		finish(r, HF_PLAN_APPLIED);
		return unrecorded(r, HF_PLAN_APPLIED, err);
	}
	return transaction(r, err);
}

/* ---- recovery ---------------------------------------------------------- */

static void count_stale(void *payload, const hf_error *e)
{
	(void)e;
	(*(long *)payload)++;
}

/*
 * Did the killed apply's merge land? The branch says so when it is still
 * there (status MERGED); when it is gone, the target itself does: every
 * change of the plan present (each object "changed since the plan") means
 * it landed, none means it did not. 1, 0, or a negative status.
 */
static int landed(struct run *r, int *exists, hf_error *err)
{
	hf_transport *t = r->o->transport;
	struct hf_branch_info bi;
	struct hf_apply_msg msg;
	char status[32];
	long stale = 0, total;
	size_t i;
	int rc;

	/* the changes a check of the objects can see landed (not forgets) */
	for (i = 0, total = 0; i < hf_plan_count(r->p); i++) {
		enum hf_action a = hf_plan_at(r->p, i)->action;

		total += a == HF_ACT_CREATE || a == HF_ACT_UPDATE ||
		         a == HF_ACT_DELETE;
	}
	if (hf_branch_status(t, r->res->branch, status, sizeof(status), exists,
	                     err) == 0) {
		if (*exists && status[0])
			return !strcmp(status, "MERGED");
	} else if ((rc = hf_branch_info(t, r->res->branch, &bi, err)) == 0) {
		*exists = bi.exists; /* a server without Branch.status */
	} else {
		return rc;
	}
	hf_error_clear(err);
	rc = hf_apply_check_objects(r->p, r->o->schema, t, count_stale, &stale,
	                            err);
	if (rc < 0 && rc != HF_ECONFLICT)
		return rc;
	hf_error_clear(err);
	if (total && stale == total)
		return 1;
	if (stale) {
		memset(&msg, 0, sizeof(msg));
		msg.code = HF_AMSG_PARTLY_PRESENT;
		msg.severity = HF_APPLY_WARN;
		msg.name = r->o->branch;
		msg.n = stale;
		msg.total = total;
		tell(r, &msg);
	}
	return 0;
}

static int recover(struct run *r, hf_error *err)
{
	struct hf_apply_result *res = r->res;
	int merged, exists = 0, rc;

	if (res->status != HF_PLAN_APPLYING) {
		/* killed between taking the lock and 'applying', or between
		 * 'applied' and the release: only the lock naming this plan
		 * goes */
		break_own_lock(r);
		res->outcome = HF_APPLY_NOT_APPLYING;
		return hf_error_set(err, HF_EINVAL,
		                    "plan %s is %s; recovery is for "
		                    "a plan left 'applying'",
		                    r->id, hf_plan_meta_c(r->p)->status);
	}
	merged = landed(r, &exists, err);
	if (merged < 0) {
		res->outcome = HF_APPLY_RECOVER_UNKNOWN;
		return merged;
	}
	if (exists) {
		rc = hf_branch_op(r->o->transport, HF_BRANCH_DELETE,
		                  res->branch, err);
		if (rc < 0 && rc != HF_ENOTFOUND) {
			res->outcome = HF_APPLY_RECOVER_KEPT;
			return rc;
		}
		hf_error_clear(err);
	}
	tell_text(r, exists ? HF_AMSG_BRANCH_DELETED : HF_AMSG_BRANCH_GONE,
	          HF_APPLY_INFO, NULL, res->branch);
	break_own_lock(r);
	res->outcome =
	        merged ? HF_APPLY_RECOVERED_APPLIED : HF_APPLY_RECOVERED_FAILED;
	finish(r, merged ? HF_PLAN_APPLIED : HF_PLAN_FAILED);
	set_apply(
	        r, NULL, NULL, NULL, -1,
	        merged ? "recovered: the merge had landed before the process died"
	               : "recovered after an interrupted apply");
	return unrecorded(r, merged ? HF_PLAN_APPLIED : HF_PLAN_FAILED, err);
}

int hf_apply_run(hf_plan *p, const struct hf_apply_run_opts *o,
                 struct hf_apply_result *res, hf_error *err)
{
	const struct hf_plan_meta *m = hf_plan_meta_c(p);
	hf_error local = HF_ERROR_INIT;
	struct run r;

	if (!err)
		err = &local;
	memset(res, 0, sizeof(*res));
	r.p = p;
	r.o = o;
	r.res = res;
	r.id = m->id;
	r.lock = NULL;
	snprintf(res->branch, sizeof(res->branch), "hubform-%s", m->id);
	if (!o->n_stores || o->n_stores > HF_APPLY_MAX_STORES ||
	    !o->transport || !o->schema || !o->branch || !o->default_branch)
		return hf_error_set(err, HF_EINVAL,
		                    "hf_apply_run: missing options");
	if (hf_plan_status_parse(m->status, &res->status) < 0) {
		res->outcome = o->recover ? HF_APPLY_NOT_APPLYING
		                          : HF_APPLY_NOT_PLANNED;
		return hf_error_set(err, HF_EINVAL,
		                    "plan %s has an unknown status "
		                    "'%s'",
		                    m->id, m->status);
	}
	return o->recover ? recover(&r, err) : apply(&r, err);
}
