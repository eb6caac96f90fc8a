#ifndef HF_FETCH_H
#define HF_FETCH_H

/*
 * Reading live state: for every kind the files name, the live objects
 * with only the fields the files manage (plus id and HFID), fetched in
 * rounds of GraphQL requests that a transport runs concurrently. User
 * values travel only as GraphQL variables; query text is built from
 * schema names alone.
 *
 * The transport (hf/transport.h) is given, so that this module does no
 * I/O of its own: cmd/ plugs in the libcurl client, tests a fake.
 */
#include <jansson.h>

#include "hf/error.h"
#include "hf/manifest.h"
#include "hf/model.h"
#include "hf/schema.h"
#include "hf/transport.h"

/*
 * How far hf_fetch() got. No count ever goes down from one call to the
 * next, and the last call's counts are the final hf_fetch_stats
 * (kinds_total is stats.kinds, which kinds_done then reaches).
 */
struct hf_fetch_progress {
	/*
	 * The round whose batch just completed: "counts" (how many live
	 * objects every kind has), "objects" (a slice of the pages and HFID
	 * lookups), "references" (lookups of referenced objects and unique
	 * values), or "done" (the last call, once the fetch ran to its end).
	 */
	const char *stage;
	long kinds_done; /* kinds whose wanted live objects are all read */
	long kinds_total;
	long live_objects; /* live objects read so far */
	long requests; /* requests sent so far */
	long rounds; /* batches run so far */
};

/*
 * Called after each batch of requests completes, and once more ("done")
 * when every round ran: the fetch then returns 0, or HF_EINVAL for the
 * problems it reported. Not called after a failure that stops the fetch.
 * Borrowed: `p` is valid for the call only. Only reports numbers: the
 * caller decides what to print.
 */
typedef void (*hf_fetch_progress_fn)(void *payload,
                                     const struct hf_fetch_progress *p);

/*
 * After the count round, each kind is read either whole (every page,
 * concurrently) or by aliased lookups of the wanted objects (each with
 * probes of its unique values), whichever costs less. Costs are counted
 * in objects read in a page: a page of P objects costs request_cost + P,
 * a request of L lookups request_cost + L * lookup_cost. The defaults
 * model a real Infrahub (tens of milliseconds a request, a few a
 * lookup, a fraction of one per object listed).
 */
/* A prefetch of pages (hf_fetch_warm_new()), that hf_fetch() then uses. */
typedef struct hf_fetch_warm hf_fetch_warm;

struct hf_fetch_opts {
	long page_size; /* objects per page (default 1000) */
	long batch_aliases; /* objects looked up per request (default 50) */
	double request_cost; /* cost of a request (default 100) */
	double lookup_cost; /* cost of one aliased lookup (default 10) */
	hf_fetch_progress_fn progress; /* may be NULL */
	void *progress_payload; /* passed to progress */
	int general; /* read every page as a JSON tree, not from its text
	                (hf/listing.h): tests compare the two readings */
	hf_fetch_warm *warm; /* pages read ahead, or NULL: those that are
	                        what the fetch asks for are taken instead */
};

#define HF_FETCH_OPTS_INIT                                 \
	{                                                  \
		1000, 50, 100.0, 10.0, NULL, NULL, 0, NULL \
	}

struct hf_fetch_stats {
	long requests;
	long rounds;
	long kinds;
	long live_objects;
};

/* Problems found while fetching (unresolvable references, clashes). */
typedef void (*hf_fetch_diag_fn)(void *payload, const hf_error *diag);

/*
 * Fetch the live counterparts of `want` into a new set *have (caller
 * frees): one request counts every kind, then each kind is paged whole
 * or looked up (see hf_fetch_opts), so that N creates into a kind of M
 * objects cost at most ceil(kinds / batch) + ceil(M / page) +
 * ceil(N / batch) requests, plus the lookups of external references. References
 * in `want` whose target is not among the desired objects are looked up in
 * Infrahub (by HFID or default_filter value) and completed with the live peer's
 * kind, HFID and id; one that does not exist is reported through `diag`. A
 * desired object that Infrahub lacks (a create) whose unique attribute value is
 * held by another live object is reported too, naming both. A reference to a
 * desired object takes that object's (concrete) kind, so that references name
 * peers by their concrete kinds on both sides of the diff even when the
 * schema's peer kind is a generic. Returns 0, HF_EINVAL when something was
 * reported
 * (`err` then counts what, e.g. "2 references in the object files name
 * objects that are neither in the files nor in Infrahub; 1 unique value
 * is already held by another object in Infrahub"), or the transport's
 * failure (HF_ENET, HF_EAUTH, HF_ESERVER...).
 */
int hf_fetch(hf_objset **have, hf_objset *want, const hf_schema *s,
             const struct hf_fetch_opts *o, hf_transport *tr,
             hf_fetch_diag_fn diag, void *payload, struct hf_fetch_stats *stats,
             hf_error *err);

/*
 * Reading ahead: the count and pages hf_fetch() will ask for, sent while
 * the caller resolves the files, so that the server's work overlaps
 * hubform's. hf_fetch_warm_new() sketches, from the files as loaded
 * (before hf_resolve(), which may drop them), the kinds they name and
 * the fields they set, and writes the queries hf_fetch() writes for
 * them; kinds whose resolved objects may carry fields the files do not
 * spell (nested children and their parents, hierarchies, templates, IP
 * kinds that take a default namespace) are left out, as are keys the
 * schema does not know. It touches neither the manifest nor the schema
 * afterwards: hf_fetch_warm_run() may run on another thread, with the
 * transport to itself, while the caller resolves; then hf_fetch() with
 * opts.warm takes each page it would ask for that the prefetch holds
 * with the same query, offset and count of the kind, and asks for the
 * rest. Pages nobody takes were read for nothing: the sketch matches
 * the resolved objects in the common case, and a kind is paged only
 * when the fetch would page it too (the same costs, with half the
 * declared objects counted, as the resolver merges repeats). A page is
 * taken only if it counted what the fetch's own count round did (else
 * it is asked for again): the kind's count is seen at the prefetch, in
 * each page and at the fetch, and a change of it in between costs a
 * page read twice. A change that keeps the count (a delete and a create)
 * goes unseen, as it does between the pages of any offset listing; the
 * apply's re-read of what the plan touches finds it (a create whose
 * object exists, an update of one gone: the plan is stale).
 * At most `budget` bytes of answers are held (0: HF_FETCH_WARM_BUDGET);
 * further pages are left to the fetch, as are those not taken, which
 * hf_fetch() drops after its pages.
 */
#define HF_FETCH_WARM_BUDGET (160u << 20)

struct hf_fetch_warm_stats {
	long requests; /* sent by the prefetch */
	long pages; /* pages it holds or held */
	long used; /* pages hf_fetch() took */
	long kinds; /* kinds it paged */
};

int hf_fetch_warm_new(hf_fetch_warm **out, const hf_manifest *m,
                      const hf_schema *s, const struct hf_fetch_opts *o,
                      size_t budget, hf_error *err);
/*
 * Count and page, through `tr`: 0, or the transport's failure (nothing
 * else is wrong: what the prefetch could not read the fetch asks for).
 */
int hf_fetch_warm_run(hf_fetch_warm *w, hf_transport *tr, hf_error *err);
/*
 * From any thread: the run sends nothing more and ends once the answers
 * in flight came (those are kept); what it did not read, the fetch asks
 * for. The caller cancels before it joins: the fetch then never waits
 * for pages it could ask for as well.
 */
void hf_fetch_warm_cancel(hf_fetch_warm *w);
void hf_fetch_warm_stats(const hf_fetch_warm *w,
                         struct hf_fetch_warm_stats *st);
void hf_fetch_warm_free(hf_fetch_warm *w);

/*
 * Read the live objects of `kind` with the node ids in `ids` (a JSON array
 * of strings; 1000 ids a request, the requests run concurrently), selecting
 * `fields` (an object: name -> "attr" | "one" | "many"), into `set`, normalised
 * exactly as hf_fetch() does so that fingerprints compare. Objects that no
 * longer exist are simply absent.
 */
int hf_fetch_by_ids(hf_objset *set, const hf_schema *s, const char *kind,
                    json_t *fields, json_t *ids, hf_transport *tr,
                    hf_error *err);

#endif
