#ifndef HF_TRANSPORT_H
#define HF_TRANSPORT_H

/*
 * The one seam between the engine and the network. Fetch, apply, branch
 * and schema calls talk to Infrahub only through an hf_transport: submit
 * GraphQL or REST requests, run them until every one completed (results
 * arrive through a callback, in completion order), stop early. The HTTP
 * client (hf/client.h, libcurl) is one implementation; tests plug in a
 * fake (tests/helpers/fake_transport.h) that scripts answers and failures.
 *
 * Requests carry fixed text only: a GraphQL document built from schema
 * names, or a REST path such as "/api/schema". Every user value travels
 * as a GraphQL variable, a JSON body, or the `branch` field, which the
 * implementation percent-encodes itself: callers never build URLs.
 *
 * This header knows nothing of the domain (plans, schemas, objects).
 */
#include <jansson.h>
#include <stddef.h>

#include "hf/error.h"

typedef struct hf_transport hf_transport;

enum hf_tx_kind {
	HF_TX_GRAPHQL = 0, /* POST /graphql/{branch} {"query", "variables"} */
	HF_TX_GET, /* GET {path}[?branch={branch}] */
	HF_TX_POST, /* POST {path}[?branch={branch}] with a JSON body */
};

enum hf_tx_flags {
	HF_TX_RETRY = 1 << 0, /* a write that repeats safely: retry it */
	HF_TX_NO_RETRY = 1 << 1, /* never retry (wins over RETRY) */
	HF_TX_SERVER_DEFAULT = 1 << 2, /* GraphQL: the server's own default
	                                  branch endpoint (POST /graphql) */
};

/*
 * GraphQL: offered the body of a 2xx answer before it is decoded, with
 * the request's `user` and the run's payload. Returns 1 when it took the
 * answer itself (the result then has rc 0, data and errors NULL and
 * `scanned` set), 0 to leave it to the usual decoding, having kept
 * nothing of it.
 */
typedef int (*hf_tx_scan_fn)(void *user, const char *body, size_t len,
                             void *payload);

/* One request. Everything is borrowed: submit copies what it keeps. */
struct hf_tx_request {
	enum hf_tx_kind kind;
	const char *branch; /* GraphQL: NULL = the transport's default;
	                       REST: the ?branch= value, NULL for none */
	const char *query; /* GraphQL document (fixed text) */
	const json_t *variables; /* GraphQL variables, may be NULL */
	const char *path; /* REST: fixed path, no query string */
	const json_t *body; /* POST: the JSON body */
	void *user; /* handed back in the result */
	unsigned flags; /* enum hf_tx_flags */
	long timeout; /* seconds per attempt; 0: the transport's */
	hf_tx_scan_fn scan; /* GraphQL, may be NULL */
};

/* clang-format off */
#define HF_TX_REQUEST_INIT { HF_TX_GRAPHQL, NULL, NULL, NULL, NULL, NULL, \
	NULL, 0, 0, NULL }
/* clang-format on */

/*
 * The outcome of one request, borrowed for the callback (json_incref to
 * keep). GraphQL: rc 0 when the answer had data (partial results carry
 * errors[] too), HF_ESERVER for errors without data. REST: data is the
 * decoded answer. A request never sent because the run was stopped has
 * attempts 0 and rc HF_ERR; one cut off by a deadline rc HF_ENET.
 */
struct hf_tx_result {
	void *user;
	json_t *data; /* GraphQL data, or the REST answer; may be NULL */
	json_t *errors; /* GraphQL errors[], or NULL */
	long status; /* HTTP status of the last attempt, 0 when none */
	int attempts; /* times it was sent */
	int rc;
	const hf_error *err; /* never NULL; code 0 on success */
	int scanned; /* the request's scan took the answer */
};

typedef void (*hf_tx_done_fn)(hf_transport *t, const struct hf_tx_result *r,
                              void *payload);

/* What an implementation provides (see the functions below). */
struct hf_transport_ops {
	int (*submit)(hf_transport *t, const struct hf_tx_request *r,
	              hf_error *err);
	int (*run)(hf_transport *t, hf_tx_done_fn done, void *payload,
	           hf_error *err);
	void (*stop)(hf_transport *t);
	void (*drop)(hf_transport *t);
	/* hf_transport_run_idle(); NULL: idle work first, then run */
	int (*run_idle)(hf_transport *t, hf_tx_done_fn done, void *payload,
	                int (*idle)(void *payload), hf_error *err);
};

/*
 * The handle: implementations embed it as their first member and set
 * `ops`. A transport is used by one thread at a time.
 */
struct hf_transport {
	const struct hf_transport_ops *ops;
};

/*
 * Queue a request (copied now). May be called before a run or from its
 * callback. 0, HF_EINVAL (no query/path, variables not an object) or
 * HF_ENOMEM; on failure nothing was queued.
 */
int hf_transport_submit(hf_transport *t, const struct hf_tx_request *r,
                        hf_error *err);

/*
 * Run every queued request, and those `done` submits, calling `done` once
 * per request. Returns 0 (each outcome went to `done`), HF_ENET when a
 * deadline cut the run short, HF_ENOMEM or HF_ERR. `done` must not call
 * run.
 */
int hf_transport_run(hf_transport *t, hf_tx_done_fn done, void *payload,
                     hf_error *err);

/*
 * hf_transport_run() with the caller's own work done while the run waits
 * on the network: idle(payload) is called between the run's steps, and
 * whenever nothing is in flight, until it returns 0 (more work: 1); it
 * may submit requests, as `done` may. A run that succeeds does not end
 * before idle returned 0; one that fails (a failed login, a deadline)
 * may. A transport that never waits calls idle until it returns 0 and
 * then runs. `idle` may be NULL: hf_transport_run().
 */
int hf_transport_run_idle(hf_transport *t, hf_tx_done_fn done, void *payload,
                          int (*idle)(void *payload), hf_error *err);

/*
 * Start nothing new: in-flight requests finish, queued ones complete as
 * "not sent". Cleared when the run returns. From a callback or before.
 */
void hf_transport_stop(hf_transport *t);

/* Forget every queued request without running it (after a failed submit). */
void hf_transport_drop(hf_transport *t);

/*
 * One request, run alone on an idle transport. On success *data is the
 * answer's data (new reference; JSON null for an empty REST body) and
 * *errors the GraphQL errors[] when there were any (new reference, else
 * NULL; `errors` may be NULL). Returns the request's rc (its err in
 * `err`) or the run's failure; on failure *data is NULL, *errors may
 * still hold errors[]. `status` may be NULL.
 */
int hf_transport_call(hf_transport *t, const struct hf_tx_request *r,
                      json_t **data, json_t **errors, long *status,
                      hf_error *err);

/* One GraphQL request of a batch (fetch rounds, staleness probes). */
struct hf_gql_call {
	const char *query; /* borrowed */
	json_t *vars; /* borrowed; may be NULL */
	/* filled by hf_transport_batch(): */
	json_t *data; /* new reference, or NULL */
	json_t *errors; /* new reference when the answer had errors */
	int rc; /* 0, or a negative status with `err` */
	hf_error err;
};

/*
 * Run `n` GraphQL calls on the default branch concurrently and fill in
 * their results. Returns 0 when every call completed (each with its own
 * rc), or the run's failure (nothing is left queued).
 */
int hf_transport_batch(hf_transport *t, struct hf_gql_call *calls, size_t n,
                       hf_error *err);

/*
 * What a GraphQL error item (an element of errors[]) means, as a status:
 * HF_ECONFLICT for "already exists" (a branch or a unique value),
 * HF_ENOTFOUND for "not found" (node, branch), HF_ESERVER otherwise.
 * Newer servers say so in extensions.code; older ones only in the
 * message, whose wording (docs: infrahub-api.md section 1.3, 4.3) is
 * known here and nowhere else.
 */
int hf_tx_error_code(const json_t *error);

/* The message of a GraphQL error item, or NULL. Borrowed. */
const char *hf_tx_error_message(const json_t *error);

#endif
