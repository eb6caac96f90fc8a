#ifndef HF_APPLY_H
#define HF_APPLY_H

/*
 * Applying a stored plan: the whole transaction (hf_apply_run), and its
 * parts (the staleness check, the waves of batched mutations).
 *
 * hf_apply_run() owns what makes an apply safe: the plan must be
 * `planned` (and within max_deletes); the target's apply lock in
 * Infrahub (hf/lock.h) is taken before anything is read and released on
 * every path; the schema, every object the plan touches and the stack's
 * ownership group are checked against the live state (stale: nothing
 * written); another apply to the same target is waited for or refused
 * (the lock, and the plan store's own record); the plan moves planned ->
 * applying -> applied | failed in every store that records it (each
 * write checked); the changes run on a throw-away branch hubform-<plan
 * id>, merged when every change succeeded and deleted otherwise (or
 * straight on a non-default branch with `direct`); a stop flag and a
 * deadline end it early (rolled back). `recover` settles a plan a killed
 * process left `applying`. It talks only through an hf_transport and never
 * prints: events go to callbacks, and the outcome to hf_apply_result, for
 * the caller to put in words.
 */
#include <time.h>

#include "hf/fetch.h"
#include "hf/plan.h"
#include "hf/schema.h"
#include "hf/store.h"
#include "hf/transport.h"

/*
 * Check `p` against the live state. Each stale object is reported through
 * `report` (naming it and what changed). Returns 0 when nothing changed,
 * HF_ECONFLICT when something did, or a transport failure.
 *
 * Stale: an update, no-op or delete whose object is gone or whose managed
 * fields (a delete's: the ones in `before`) no longer give the change's
 * fingerprint; a forget whose object is gone; a create whose object
 * exists; and, when the plan touches ownership (creates, adoptions,
 * deletes, forgets), a stack group hubform-<stack> that is not as planned
 * (created since, when the plan's group_id is NULL; gone or another id
 * when it is set).
 *
 * Creates are checked kind by kind: one request counts every kind with
 * creates; an empty kind needs nothing more, any other is paged whole or
 * its creates looked up by HFID, whichever the cost model of hf/fetch.h
 * says is cheaper. An answer not of the shape asked for (a count that is
 * not a non-negative integer, edges that are not a list, a node without
 * a list of strings as hfid) is HF_ESERVER naming the kind or the object,
 * never "absent".
 */
int hf_apply_check_stale(hf_plan *p, const hf_schema *s, hf_transport *t,
                         hf_fetch_diag_fn report, void *payload, hf_error *err);

/* The same without the group check: the objects only (recovery counts them). */
int hf_apply_check_objects(hf_plan *p, const hf_schema *s, hf_transport *t,
                           hf_fetch_diag_fn report, void *payload,
                           hf_error *err);

/* The name of the stack's ownership group: "hubform-<stack>". */
#define HF_STACK_GROUP_PREFIX "hubform-"
#define HF_STACK_GROUP_KIND   "CoreStandardGroup"

/*
 * Whether the plan writes ownership: a create, an adoption, a delete or a
 * forget. 1 or 0.
 */
int hf_apply_touches_group(const hf_plan *p);

/* Changes apply would do something for (not no-ops, unless adopted). */
size_t hf_apply_work(const hf_plan *p);

/* Delete changes of the plan, cascades included (--max-deletes). */
size_t hf_apply_deletes(const hf_plan *p);

/* Called after each wave; return nonzero to stop before the next one. */
typedef int (*hf_apply_progress_fn)(void *payload, int wave, int waves,
                                    long done, long total);

struct hf_apply_opts {
	const char *branch; /* where the mutations go */
	long batch_size; /* aliased mutations per request */
	hf_apply_progress_fn progress; /* may be NULL */
	void *payload;
	volatile int *stop; /* set (e.g. by a signal handler) to stop early */
	int keep_going; /* after a failure, go on with every change whose
	                   dependencies succeeded, to report all failures */
	long group_chunk; /* nodes per group membership edit; 0:
	                     HF_APPLY_GROUP_CHUNK */
};

/*
 * Members one RelationshipAdd / RelationshipRemove edits: such an edit is
 * one operation for the server however many nodes it names, so it is not
 * bound to batch_size.
 */
#define HF_APPLY_GROUP_CHUNK 1000

#define HF_APPLY_OPTS_INIT                       \
	{                                        \
		NULL, 50, NULL, NULL, NULL, 0, 0 \
	}

struct hf_apply_stats {
	long requests;
	long applied;
	long failed;
	long skipped;
	long gone; /* deletes whose object was already gone (a retry, a
	              concurrent delete, an unplanned cascade): counted
	              in `applied`, since the object is absent as planned */
	long cascaded; /* cascade deletes checked gone after their parent's */
};

/*
 * Run the plan's changes phase by phase, all on o->branch:
 *
 * 1. creates and updates, in waves 0..n-1: inside a wave, requests of up
 *    to batch_size aliased mutations run concurrently. Creates are Upserts
 *    keyed by the object's HFID, so a retried request cannot make a
 *    duplicate; updates send only the changed fields, by node id. A
 *    create whose kind has member_of_groups (every node that is not a
 *    group) joins the stack's group in its own mutation: the group's id
 *    is added after the groups its file gives it. The group
 *    hubform-<stack> is then made first (CoreStandardGroupUpsert, matched
 *    by name) when the plan's group_id is NULL.
 * 2. ownership (when the plan touches it): the group is made as above if
 *    it is not yet; RelationshipAdd on its `members` adds every object a
 *    create made (the id its answer gave) that did not join in its own
 *    mutation (group kinds), and every adopted object;
 *    RelationshipRemove takes out the forgets (a deleted node's
 *    membership goes with its relationships when it is deleted, in 3, as
 *    its cascades' do). Up to group_chunk nodes a request
 *    (HF_APPLY_GROUP_CHUNK by default, whatever batch_size: an edit is one
 *    operation however many nodes it names), one request at a time (they
 *    all write the group node). An edit's answer must be {"ok": true}:
 *    anything else fails it. A forget's status is its remove's; an
 *    adopted no-op's its add's.
 * 3. deletes, `<Kind>Delete(data: {id})` aliased as in 1, by waves in
 *    order: a delete's dependencies are the deletes of the objects that
 *    refer to it, so referrers go first. A delete the server answers
 *    "Unable to find the node" for is applied (stats->gone): absence is
 *    what was planned, and a retried delete must not fail. Changes with
 *    cascade_of are not sent: once their parent is deleted they are looked
 *    up on the branch, and one still there fails ("not cascaded").
 *
 * A request whose mutation could not be built whole (out of memory) is
 * never sent. After the first failure no new request starts; the requests
 * in flight finish and every change not run is marked skipped (and the
 * later phases do not run). Each change's status, error and timings are
 * set in the plan. Returns 0 when every change applied, HF_ESERVER when
 * some failed or the group could not be written, HF_ERR "interrupted"
 * (stop flag) or "stopped" (progress said so), or the transport's
 * failure.
 */
int hf_apply_waves(hf_plan *p, const hf_schema *s, hf_transport *t,
                   const struct hf_apply_opts *o, struct hf_apply_stats *stats,
                   hf_error *err);

/* ---- the transaction ---------------------------------------------------- */

/* What hf_apply_run() tells the caller while it runs. */
enum hf_apply_msg_code {
	HF_AMSG_STALE_SCHEMA, /* info: the schema changed since the plan */
	HF_AMSG_STALE, /* info: `text` names a stale object and why */
	HF_AMSG_WAITING, /* info: plan `name` applies to the same
	                    target; waiting up to `n` seconds */
	HF_AMSG_DEADLINE, /* error: the deadline passed; rolling back */
	HF_AMSG_RECORD_APPLY, /* warn: apply facts not recorded in `path`
	                         (`text` says why) */
	HF_AMSG_RECORD_CHANGES, /* error: change outcomes not recorded in
	                           `path` */
	HF_AMSG_RECORD_STATUS, /* error: the plan could not be marked
	                          `status` in `path` */
	HF_AMSG_DELETE_FAILED, /* error: branch `name` not deleted (`text`) */
	HF_AMSG_BRANCH_DELETED, /* info (recover): branch `name` deleted */
	HF_AMSG_BRANCH_GONE, /* info (recover): branch `name` was gone */
	HF_AMSG_PARTLY_PRESENT, /* warn (recover): `n` of the `total` changes
	                           are present on target branch `name` */
	HF_AMSG_LOCK_RELEASE, /* warn: the apply lock of target branch
	                         `name` was not released cleanly (`text`) */
	HF_AMSG_LOCK_BROKEN, /* info (recover): the lock `text` the killed
	                        apply held on branch `name` was broken */
	HF_AMSG_WRITING, /* info: the checks passed; the changes are
	                    about to be written to branch `name` */
};

enum hf_apply_severity {
	HF_APPLY_INFO,
	HF_APPLY_WARN,
	HF_APPLY_ERROR,
};

/* One event. Strings are borrowed for the call; unused ones are NULL. */
struct hf_apply_msg {
	enum hf_apply_msg_code code;
	enum hf_apply_severity severity;
	const char *text; /* a message (the server's, the store's, an object) */
	const char *name; /* a branch or a plan id */
	const char *path; /* a store's path */
	enum hf_plan_status status; /* RECORD_STATUS: the status not recorded */
	long n, total;
};

typedef void (*hf_apply_msg_fn)(void *payload, const struct hf_apply_msg *m);

/*
 * Asked once the plan is known to be applicable (status, branch), before
 * anything is read or written: nonzero cancels (HF_APPLY_CANCELLED).
 */
typedef int (*hf_apply_confirm_fn)(void *payload, const hf_plan *p);

#define HF_APPLY_MAX_STORES 4

struct hf_apply_run_opts {
	hf_transport *transport;
	const hf_schema *schema; /* the target branch's live schema */
	const char *branch; /* the plan's target branch */
	const char *default_branch; /* the server's default branch */
	/*
	 * Where the plan's status and outcomes are recorded: the plan store
	 * first (another apply to the target is looked for there), then e.g.
	 * the plan file it came from. Every status change goes to all.
	 */
	hf_store *stores[HF_APPLY_MAX_STORES];
	size_t n_stores;
	long batch_size;
	int keep_branch; /* leave the branch unmerged (for review) */
	int keep_going; /* see hf_apply_opts */
	int direct; /* write to `branch` itself: no branch, no rollback */
	int recover; /* settle a plan left `applying` by a killed apply */
	long lock_timeout; /* seconds to wait for another apply of the target */
	int limit_deletes; /* refuse a plan with more than max_deletes deletes
	                    */
	long max_deletes;
	/*
	 * The apply lock in Infrahub (hf/lock.h): taken for the target branch
	 * before the staleness check (so a second runner's check sees what
	 * the first wrote), waited for up to lock_timeout seconds, released
	 * on every path. no_lock: do without (tests of the rest; the local
	 * same-target guard of the plan store still applies).
	 */
	int no_lock;
	const char *lock_user; /* the holder's user and host; NULL: from */
	const char *lock_host; /* the environment (hf_lock_owner) */
	time_t deadline; /* the whole apply must end by then; 0: none */
	long group_chunk; /* see hf_apply_opts; 0: HF_APPLY_GROUP_CHUNK */
	volatile int *stop; /* set (e.g. by a signal handler) to stop */
	hf_apply_confirm_fn confirm; /* may be NULL: no question */
	hf_apply_progress_fn progress; /* may be NULL */
	hf_apply_msg_fn msg; /* may be NULL */
	void *payload; /* for the three callbacks */
};

/* What the run came to; hf_apply_result.outcome. */
enum hf_apply_outcome {
	HF_APPLY_DONE, /* every change applied (merged, kept on the
	                  branch, or direct) and the plan applied */
	HF_APPLY_NOTHING, /* no change to make; marked applied */
	HF_APPLY_NOT_PLANNED, /* the plan is `status`, not planned */
	HF_APPLY_NEEDS_DIRECT, /* a non-default branch without `direct` */
	HF_APPLY_DIRECT_DEFAULT, /* `direct` to the default branch */
	HF_APPLY_CANCELLED, /* confirm said no */
	HF_APPLY_STALE, /* changed since the plan; marked stale */
	HF_APPLY_CHECK_FAILED, /* the staleness check could not run */
	HF_APPLY_BUSY, /* plan `other` applies to the same target */
	HF_APPLY_TOO_MANY_DELETES, /* more deletes than max_deletes; the plan
	                              stays planned, nothing read or written */
	HF_APPLY_LOCKED, /* another runner holds the apply lock of the
	                    target (`err` names it); nothing written,
	                    the plan stays planned */
	HF_APPLY_NOT_STARTED, /* planned -> applying could not be recorded */
	HF_APPLY_CREATE_FAILED, /* the work branch was not created; failed */
	HF_APPLY_FAILED, /* changes failed, merge failed or stopped:
	                    nothing merged (but see `direct`); failed,
	                    or still `applying` when the work branch
	                    could not be deleted (!branch_deleted):
	                    `recover` removes it and settles the plan */
	HF_APPLY_NOT_APPLYING, /* recover: the plan is `status` */
	HF_APPLY_RECOVER_UNKNOWN, /* recover: cannot tell whether it landed */
	HF_APPLY_RECOVER_KEPT, /* recover: the branch could not be deleted */
	HF_APPLY_RECOVERED_APPLIED, /* recover: it had landed; applied */
	HF_APPLY_RECOVERED_FAILED, /* recover: it had not; failed */
};

struct hf_apply_result {
	enum hf_apply_outcome outcome;
	enum hf_plan_status status; /* NOT_PLANNED, NOT_APPLYING: the plan's */
	char branch[HF_PLAN_ID_LEN + 16]; /* the work branch, hubform-<id> */
	char other[HF_PLAN_ID_LEN + 1]; /* BUSY: the other plan */
	int branch_deleted; /* FAILED: the work branch is gone */
	int recorded; /* the final status is recorded in every store */
	struct hf_apply_stats stats;
};

/*
 * Run the apply transaction for `p` (loaded from opts->stores[0], status
 * mirrored into hf_plan_meta(p)->status). *res says what happened; `err`
 * why, for every outcome but DONE, NOTHING and RECOVERED_*.
 *
 * Returns 0 for DONE, NOTHING, RECOVERED_APPLIED and RECOVERED_FAILED
 * when their final status was recorded everywhere (res->recorded);
 * HF_ECONFLICT for STALE and BUSY; HF_ENOMEM; otherwise another negative
 * status (the transport's, the store's, or HF_ESERVER/HF_ERR for failed
 * changes / an interrupted run).
 */
int hf_apply_run(hf_plan *p, const struct hf_apply_run_opts *o,
                 struct hf_apply_result *res, hf_error *err);

#endif
