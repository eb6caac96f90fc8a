#ifndef HF_LOCK_H
#define HF_LOCK_H

/*
 * The apply lock of a target, kept in Infrahub itself so that every
 * runner (every plan store, every CI machine) sees it: a branch named
 * hubform-lock-<target branch> whose description records the holder as
 * JSON ({"hubform_lock":1, "holder", "user", "host", "pid", "plan",
 * "since"}). Creating a branch whose name exists fails on Infrahub, so
 * taking the lock is one atomic BranchCreate; releasing it is a
 * BranchDelete. Nothing here prints or exits.
 *
 * The holder id, "user@host:pid.nonce" (nonce: 8 random hex digits, new
 * for every acquisition), names one acquisition: an answer lost after
 * the create committed is recognised on the retry ("already exists", and
 * the description carries our id), and a lock can be broken only by an
 * operator who names that id (hubform lock --break ID).
 *
 * A lock left by a killed process stays until broken: hf_lock_read()
 * tells who holds it and for which plan; `apply --recover` of that plan
 * may break it with hf_lock_break(), naming the id it read.
 */
#include <stddef.h>
#include <time.h>

#include "hf/error.h"
#include "hf/transport.h"

#define HF_LOCK_PREFIX     "hubform-lock-"
#define HF_LOCK_NAME_MAX   256 /* lock branch name, NUL included */
#define HF_LOCK_HOLDER_MAX 400 /* holder id, NUL included */
#define HF_LOCK_USER_MAX   64
#define HF_LOCK_HOST_MAX   256
#define HF_LOCK_PLAN_MAX   64

/* Who takes the lock. Strings are borrowed for the call. */
struct hf_lock_owner {
	const char *user; /* NULL or "": $USER, else the uid's name */
	const char *host; /* NULL or "": gethostname() */
	long pid; /* 0: getpid() */
	const char *plan_id; /* the plan being applied; may be NULL */
	/*
	 * Not part of the identity: while acquire waits, a nonzero *stop
	 * (e.g. set by a SIGINT handler) ends the wait. May be NULL.
	 */
	const volatile int *stop;
};

/* clang-format off */
#define HF_LOCK_OWNER_INIT { NULL, NULL, 0, NULL, NULL }
/* clang-format on */

/* The lock as read from Infrahub. */
struct hf_lock_info {
	int held; /* 0: nobody holds it (rest empty) */
	/* 1: the lock branch exists but its description is not hubform's
	   (holder_id is then "unknown") */
	int foreign;
	char name[HF_LOCK_NAME_MAX]; /* the lock branch */
	char holder_id[HF_LOCK_HOLDER_MAX]; /* "user@host:pid.nonce" */
	char user[HF_LOCK_USER_MAX];
	char host[HF_LOCK_HOST_MAX];
	long pid;
	char plan_id[HF_LOCK_PLAN_MAX]; /* "" when none was given */
	char since[40]; /* "2026-12-03T01:30:00Z" (UTC) */
};

/* A held lock (opaque). Owned by the caller until hf_lock_release(). */
struct hf_lock;

/*
 * The name of the lock branch for target branch `branch`:
 * "hubform-lock-<branch>", or "hubform-lock-h-<32 hex of SHA-256>" when
 * that would be too long or not a valid branch name (a name ending in
 * ".lock"). 0, or HF_EINVAL (empty branch).
 */
int hf_lock_name(const char *branch, char *out, size_t n, hf_error *err);

/*
 * Take the lock of target branch `branch` for `who`. When another holds
 * it, poll (0.25 s doubling to 5 s) until it is free or `wait_s` seconds
 * passed (0: do not wait) or *who->stop is set. On success *out is the
 * held lock (release it on every path). Returns 0; HF_ECONFLICT when
 * someone else still holds it, `err` naming the holder, plan and time
 * ("the apply lock of branch 'main' is held by alice@ci:42.0a1b2c3d
 * (plan 3f2e..., since 2026-...)"), or HF_ERR "interrupted" (stop); the
 * transport's failure (HF_ENET, HF_EAUTH...), or HF_ESERVER when the
 * server refused the create for another reason. On failure *out is NULL
 * and nothing is held.
 */
int hf_lock_acquire(hf_transport *tx, const char *branch,
                    const struct hf_lock_owner *who, long wait_s,
                    struct hf_lock **out, hf_error *err);

/* The held lock's holder id and lock branch name (borrowed from `l`). */
const char *hf_lock_holder(const struct hf_lock *l);
const char *hf_lock_branch(const struct hf_lock *l);

/*
 * Release and free `l` (NULL: no-op, 0). Deletes the lock branch when it
 * still names this holder. Returns 0; HF_ENOTFOUND when the lock was
 * already gone (broken meanwhile), HF_ECONFLICT when another holder has
 * it now (it was broken and taken: left alone), or the transport's
 * failure (the lock then stays: `err` says so). `l` is freed in every
 * case. Uses the transport `l` was acquired with.
 */
int hf_lock_release(struct hf_lock *l, hf_error *err);

/*
 * Read the lock of target branch `branch` into *out (out->held 0 when
 * free). Returns 0 or the transport's failure.
 */
int hf_lock_read(hf_transport *tx, const char *branch, struct hf_lock_info *out,
                 hf_error *err);

/*
 * Break the lock of `branch`, only if `holder_id` is exactly the current
 * holder's id ("unknown" for a foreign lock branch). Returns 0 (deleted);
 * HF_ENOTFOUND when nobody holds it; HF_ECONFLICT when the holder is
 * someone else (`err` names the actual holder); or the transport's
 * failure.
 */
int hf_lock_break(hf_transport *tx, const char *branch, const char *holder_id,
                  hf_error *err);

#endif
