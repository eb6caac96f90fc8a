#ifndef HF_APPLY_H
#define HF_APPLY_H

/*
 * Applying a stored plan: the staleness check (every object the plan
 * touches read again and compared with its fingerprint; every create
 * checked to be still absent) and the waves of batched mutations on a
 * work branch. Branch creation, merge and deletion are the caller's.
 */
#include "hf/client.h"
#include "hf/fetch.h"
#include "hf/plan.h"
#include "hf/schema.h"

/*
 * Check `p` against the live state. Each stale object is reported through
 * `report` (naming it and what changed). Returns 0 when nothing changed,
 * HF_ECONFLICT when something did, or a transport failure.
 */
int hf_apply_check_stale(hf_plan *p, const hf_schema *s, hf_client *c,
			 hf_fetch_diag_fn report, void *payload, hf_error *err);

/* Called after each wave; return nonzero to stop before the next one. */
typedef int (*hf_apply_progress_fn)(void *payload, int wave, int waves,
				    long done, long total);

struct hf_apply_opts {
	const char *branch; /* where the mutations go */
	long batch_size;    /* aliased mutations per request */
	hf_apply_progress_fn progress; /* may be NULL */
	void *payload;
	volatile int *stop; /* set (e.g. by a signal handler) to stop early */
	int keep_going;     /* after a failure, go on with every change whose
			       dependencies succeeded, to report all failures */
};

#define HF_APPLY_OPTS_INIT { NULL, 50, NULL, NULL, NULL, 0 }

struct hf_apply_stats {
	long requests;
	long applied;
	long failed;
	long skipped;
};

/*
 * Run the plan's creates and updates wave by wave: inside a wave, requests
 * of up to batch_size aliased mutations run concurrently on the client.
 * Creates are Upserts keyed by the object's HFID, so a retried request
 * cannot make a duplicate; updates send only the changed fields, by node
 * id. After the first failure no new request starts; the requests in
 * flight finish and every change not run is marked skipped. Each change's
 * status, error and timings are set in the plan. Returns 0 when every
 * change applied, HF_ESERVER when some failed, or the transport failure.
 */
int hf_apply_waves(hf_plan *p, const hf_schema *s, hf_client *c,
		   const struct hf_apply_opts *o, struct hf_apply_stats *stats,
		   hf_error *err);

#endif
