#ifndef HF_PLANNER_H
#define HF_PLANNER_H

/*
 * From the files' objects and their live counterparts to a finished plan,
 * with the stack's ownership: declared objects that exist but the stack
 * does not own are adopted (or, with no_adopt, refused), the owned
 * objects that left the files are counted (and deleted with prune; every
 * owned object with destroy), --target / --exclude limit the plan, each
 * change records where the files declare it, and the plan's meta gets the
 * schema hash, the manifest digest (of the bytes the loader parsed) and
 * whether the branch is the server's default. Never prints: the caller
 * words what the planner reports.
 *
 * The order of calls, around resolve and fetch:
 *
 *   hf_planner_new()                 options, before anything is read
 *   hf_planner_read(schema, tr)      addresses checked, ownership read
 *   hf_planner_filter(&want)         after resolve, before fetch
 *   hf_planner_build(in, &plan)      after fetch
 *   hf_planner_free()
 */
#include <stddef.h>

#include "hf/diff.h"
#include "hf/error.h"
#include "hf/manifest.h"
#include "hf/model.h"
#include "hf/owner.h"
#include "hf/plan.h"
#include "hf/schema.h"
#include "hf/transport.h"

typedef struct hf_planner hf_planner;

struct hf_planner_opts {
	const char *stack; /* checked (hf_owner_stack_check); copied */
	int prune; /* delete owned objects the files left */
	int destroy; /* delete everything the stack owns */
	int no_adopt; /* refuse declared objects the stack does not own */
	const char *const *targets; /* Kind, Kind[hfid] or a file; copied */
	size_t n_targets;
	const char *const *excludes;
	size_t n_excludes;
};

/*
 * 0, HF_ENOMEM, or HF_EINVAL naming the bad stack name or address (prune
 * with destroy is the caller's to refuse: it words its options). *out is
 * the caller's (hf_planner_free), also on failure.
 */
int hf_planner_new(hf_planner **out, const struct hf_planner_opts *o,
                   hf_error *err);
void hf_planner_free(hf_planner *p); /* NULL-safe */

/* Where hf_planner_read() or hf_planner_build() failed. */
enum hf_planner_step {
	HF_PLANNER_OK = 0,
	HF_PLANNER_SELECT, /* an address names no kind of the schema */
	HF_PLANNER_OWNER, /* the stack's group could not be read */
	HF_PLANNER_PLAN, /* diff, meta or finish: err says it */
	HF_PLANNER_ADOPT, /* no_adopt: hf_planner_unowned() names them */
	HF_PLANNER_PRUNE, /* the deletes: HF_EINVAL what is wrong, else the
	                     transport's failure reading them */
};

/*
 * Check the addresses against `schema` and read the stack's ownership
 * record through `tr` (both borrowed until hf_planner_free). 0, or the
 * failure with *step HF_PLANNER_SELECT (HF_EINVAL) or HF_PLANNER_OWNER
 * (hf_owner_read's failure).
 */
int hf_planner_read(hf_planner *p, const hf_schema *schema, hf_transport *tr,
                    enum hf_planner_step *step, hf_error *err);

/*
 * hf_planner_read() in two parts, for a caller that reads the ownership
 * record elsewhere (on a thread of its own, beside other work): check
 * the addresses against `schema` (HF_EINVAL), then hand over the record
 * hf_owner_read() made of hf_planner_stack() (taken). hf_planner_build()
 * needs the record.
 */
int hf_planner_check(hf_planner *p, const hf_schema *schema, hf_transport *tr,
                     hf_error *err);
const char *hf_planner_stack(const hf_planner *p);
void hf_planner_own(hf_planner *p, hf_owner *o);

/*
 * Limit *want (resolved objects) to the selection and what it depends on;
 * nothing happens without --target/--exclude. 0 or HF_ENOMEM.
 */
int hf_planner_filter(const hf_planner *p, hf_objset **want, hf_error *err);

struct hf_planner_input {
	const hf_manifest *manifest; /* the files: the plan's digest */
	hf_objset *want; /* desired (group memberships completed) */
	const hf_objset *have; /* live counterparts (hf_fetch) */
	const char *address; /* the target's identity */
	const char *branch;
	const char *default_branch; /* the server's default branch */
	hf_diff_progress_fn progress; /* may be NULL */
	void *payload;
	int consume; /* 1: the sets' fields may go as the plan is built
	                (hf_diff_opts.consume); free the sets after */
	int unsummed; /* 1: hf_plan_finish_unsummed(): the caller computes
	                 the checksum */
	int ahead; /* 1: the diff reads ahead on a second thread
	              (hf_diff_opts.ahead) */
};

/*
 * The finished plan in *out (the caller's, hf_plan_free; NULL on failure).
 * 0, or the failure with *step saying where: HF_PLANNER_ADOPT
 * (HF_ECONFLICT), HF_PLANNER_PRUNE, or HF_PLANNER_PLAN (HF_ENOMEM,
 * HF_EINVAL...). Call after hf_planner_read().
 */
int hf_planner_build(hf_planner *p, const struct hf_planner_input *in,
                     hf_plan **out, enum hf_planner_step *step, hf_error *err);

/*
 * After hf_planner_build(): how many owned objects left the files
 * (within the selection), whether or not the plan deletes them.
 */
size_t hf_planner_orphans(const hf_planner *p);

/*
 * After a refusal (HF_PLANNER_ADOPT): how many declared objects the stack
 * does not own, and the first HF_PLANNER_NAMES_MAX of them as
 * "Kind 'hfid'" joined by ", " in *names (borrowed; "" when none).
 */
#define HF_PLANNER_NAMES_MAX 20
size_t hf_planner_unowned(const hf_planner *p, const char **names);

#endif
