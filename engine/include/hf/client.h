#ifndef HF_CLIENT_H
#define HF_CLIENT_H

/*
 * The engine's HTTP client for Infrahub (libcurl lives behind it and
 * nowhere else). One libcurl multi handle, driven by the calling thread:
 * no threads. It offers simple calls (REST GET/POST, one GraphQL request)
 * and a batch API: submit GraphQL requests, run them with at most
 * `parallelism` in flight over kept-alive connections (HTTP/2 streams on
 * https when the server offers them), and get each result through a
 * completion callback in completion order.
 *
 * Security: the token is sent as X-INFRAHUB-KEY and never appears in any
 * error message, log event or returned string (server answers that echo it
 * are redacted).
 *
 * Username and password instead of a token (infrahub-api.md 1.2): the
 * client logs in with POST /api/auth/login before its first request and
 * sends the access token as "Authorization: Bearer". A request answered
 * 401 "Expired Signature" makes the client get a new access token (POST
 * /api/auth/refresh with the refresh token as Bearer; a new login when
 * the refresh token is refused too) and send the request once more, as
 * the SDK does. The password and both tokens are redacted from messages
 * like the API token, and wiped from memory when the client is freed. TLS peer
 * and host verification are on unless `insecure`. User values travel only as
 * GraphQL variables: the client never splices anything into query text; callers
 * pass fixed documents built from schema names and put every value in
 * `variables`.
 *
 * Retries: connection failures, timeouts, HTTP 5xx and 429 are retried up
 * to `retries` times with exponential backoff and full jitter (a random
 * wait in [0, min(cap, base * 2^attempt)]), or after Retry-After seconds on
 * 429/503 when the server sends it. Waits are timers inside the multi loop,
 * so they never block other requests. A retried write could be applied
 * twice, so only reads are retried by default (a document whose first
 * token is `query` or `{`); a mutation is retried only when the request
 * says HF_CLIENT_RETRY. Failures that prove the request was never
 * processed (connection refused, 429) are retried for every request.
 * Other 4xx answers are never retried. libcurl itself silently re-sends a
 * request whose kept-alive connection died before any answer byte; a
 * write the server may have committed must not be re-sent, so a request
 * not marked repeatable goes on a fresh connection (which libcurl never
 * re-sends on). Reads and HF_CLIENT_RETRY writes share kept-alive
 * connections.
 *
 * Redirects are not followed (a 3xx is an error). libcurl's usual proxy
 * environment variables apply.
 *
 * The client implements the engine's transport seam (hf/transport.h):
 * hf_client_transport() is the handle fetch, apply, branch and schema
 * calls are given; the client itself knows nothing of the domain.
 *
 * A client is used by one thread at a time.
 */
#include <jansson.h>
#include <stddef.h>

#include "hf/error.h"
#include "hf/transport.h"

typedef struct hf_client hf_client;

enum hf_client_event_type {
	HF_CLIENT_EV_SEND, /* an attempt starts */
	HF_CLIENT_EV_RETRY, /* an attempt failed; another is scheduled */
	HF_CLIENT_EV_DONE, /* a request completed (success or not) */
};

/* What the log callback is told. Every string is borrowed for the call. */
struct hf_client_event {
	enum hf_client_event_type type;
	const char *method; /* "GET" or "POST" */
	const char *url; /* address + path; never carries the token */
	int attempt; /* 1-based */
	long status; /* HTTP status; 0 when there was no answer */
	long delay_ms; /* RETRY: wait before the next attempt */
	const char *msg; /* RETRY, failed DONE: why; NULL otherwise */
	double seconds; /* DONE: duration of the last attempt */
};

typedef void (*hf_client_log_fn)(void *payload,
                                 const struct hf_client_event *ev);

struct hf_client_options {
	const char *address; /* http(s)://host[:port][/prefix]; copied */
	const char *token; /* NULL or "": none; copied */
	const char *branch; /* default branch; NULL means "main" */
	int insecure; /* 1: no TLS peer/host verification */
	const char *ca_file; /* NULL: the system's CA bundle */
	long connect_timeout; /* seconds */
	long timeout; /* seconds per request (each attempt) */
	long retries; /* extra attempts after a transient failure */
	long backoff_ms; /* backoff base */
	long backoff_max_ms; /* backoff cap (Retry-After may exceed it) */
	long parallelism; /* requests in flight, >= 1 */
	size_t max_response; /* bytes; a bigger answer is an error */
	long deadline_ms; /* per hf_client_run or simple call; 0: none */
	hf_client_log_fn log; /* NULL: no events */
	void *log_payload;
	const char *username; /* JWT login instead of a token; copied */
	const char *password; /* with username; copied, never shown */
};

/* clang-format off */
#define HF_CLIENT_OPTIONS_INIT { NULL, NULL, NULL, 0, NULL, 10, 60, 3, 200, \
	10000, 10, (size_t)256 * 1024 * 1024, 0, NULL, NULL, NULL, NULL }
/* clang-format on */

struct hf_client_stats {
	long requests; /* attempts sent, retries included */
	long retries; /* attempts that were retries */
	long connections; /* new connections opened */
	long long bytes; /* response body bytes received */
};

/*
 * Call once per process before any client exists (and before threads
 * start), and hf_client_global_cleanup() once at exit. Returns 0 or HF_ERR.
 */
int hf_client_global_init(void);
void hf_client_global_cleanup(void);

/*
 * Create a client. The address must start with http:// or https://, carry
 * no user:password@, query or fragment; trailing '/' are stripped. On
 * success *out is owned by the caller (hf_client_free); on failure *out is
 * NULL. A token together with a username, or a username without a
 * password (or the reverse), is HF_EINVAL, as the SDK refuses it. Returns
 * 0, HF_EINVAL (bad options) or HF_ENOMEM. No request is sent here: the
 * login happens before the first request.
 */
int hf_client_new(hf_client **out, const struct hf_client_options *o,
                  hf_error *err);
/* NULL-safe. Must not be called from a completion callback. */
void hf_client_free(hf_client *c);

/* Borrowed: the address (no trailing '/') and the default branch. */
const char *hf_client_address(const hf_client *c);
const char *hf_client_branch(const hf_client *c);

/* Change the default branch (e.g. once the server said which it is). */
int hf_client_set_branch(hf_client *c, const char *branch);

/* Counters since hf_client_new(). */
void hf_client_stats(const hf_client *c, struct hf_client_stats *out);

/*
 * Percent-encode `s` for a URL path segment or query value (everything but
 * ALPHA DIGIT - . _ ~). Caller frees with hf_free(); NULL on OOM.
 */
char *hf_client_escape(const char *s);

/*
 * REST. GET {address}{path_and_query}, or POST `body` (serialised as JSON)
 * to it; the caller percent-encodes query values (hf_client_escape()).
 * On success (2xx with a JSON answer) *out is the decoded answer, a new
 * reference the caller decrefs (JSON null for an empty body). *status is the
 * HTTP status of the last attempt (0 when there was none), also on failure.
 * Returns 0, HF_ENET (no answer, timeout, 5xx/429 after retries, deadline),
 * HF_EAUTH (401/403, with the server's message), HF_ENOTFOUND (404), HF_ESERVER
 * (other 4xx with the server's message; an answer that is not JSON or too
 * big), HF_ENOMEM. On failure *out is NULL. GETs are retried; POSTs only
 * when they were certainly not processed. Not from a callback, and not
 * while submitted requests wait for hf_client_run().
 */
int hf_client_get(hf_client *c, const char *path_and_query, json_t **out,
                  long *status, hf_error *err);
int hf_client_post_json(hf_client *c, const char *path, const json_t *body,
                        json_t **out, long *status, hf_error *err);

/*
 * One GraphQL request: POST {address}/graphql/{branch} with body
 * {"query": query, "variables": variables}; `branch` NULL means the
 * client's default, and is percent-encoded as one path segment
 * (feature/x -> feature%2Fx). `variables` is borrowed (may be NULL).
 *
 * Returns 0 when the answer has data: *data_out is `data` (new
 * reference), and *errors_out the answer's errors[] when it had any (new
 * reference, else NULL): partial results are normal for documents with
 * several aliased mutations, so callers match errors[].path to aliases.
 * On failure *data_out is NULL and *errors_out still holds errors[] when
 * the answer had them. Failures: HF_ESERVER (errors and no data; other
 * 4xx; an answer that is not a GraphQL JSON object), HF_EAUTH (401/403,
 * errors[].message joined with " | "), HF_ENOTFOUND (404: "branch 'x' not
 * found"), HF_ENET, HF_ENOMEM. errors_out may be NULL. Same restrictions
 * as hf_client_get().
 */
int hf_client_graphql(hf_client *c, const char *branch, const char *query,
                      const json_t *variables, json_t **data_out,
                      json_t **errors_out, hf_error *err);

/* Request flags. */
enum hf_client_request_flags {
	HF_CLIENT_RETRY = HF_TX_RETRY, /* retry even if it is a mutation */
	HF_CLIENT_NO_RETRY = HF_TX_NO_RETRY, /* never retry (wins over RETRY) */
	HF_CLIENT_SERVER_DEFAULT = HF_TX_SERVER_DEFAULT, /* POST /graphql: the
	                server's own default branch, whatever its name */
};

/* A GraphQL request for the batch API. */
struct hf_client_request {
	const char *branch; /* NULL: the client's default */
	const char *query; /* GraphQL document, fixed text */
	const json_t *variables; /* may be NULL */
	void *user; /* handed back in the result */
	unsigned flags; /* enum hf_client_request_flags */
	long timeout; /* seconds per attempt; 0: the client's */
};

#define HF_CLIENT_REQUEST_INIT               \
	{                                    \
		NULL, NULL, NULL, NULL, 0, 0 \
	}

/*
 * The outcome of one submitted request. Everything is borrowed for the
 * duration of the callback: json_incref() `data`/`errors` to keep them.
 * `rc` and `err` follow hf_client_graphql(). A request that was never sent
 * because the run was stopped has attempts == 0 and rc HF_ERR ("not
 * sent"); one cut off by the deadline has rc HF_ENET ("deadline
 * exceeded").
 */
struct hf_client_result {
	void *user;
	const char *branch;
	json_t *data; /* NULL when the answer had none */
	json_t *errors; /* errors[] of the answer, or NULL */
	long status; /* HTTP status of the last attempt, 0 when none */
	int attempts; /* requests sent for it */
	int rc;
	const hf_error *err; /* never NULL; code 0 on success */
};

typedef void (*hf_client_done_fn)(hf_client *c,
                                  const struct hf_client_result *r,
                                  void *payload);

/*
 * Queue a GraphQL request. The query, branch and variables are copied
 * (serialised) now, so the caller may free them on return. May be called
 * before hf_client_run() or from its callback (the fetcher queues pages
 * 2..N once page 1 told it the count). Returns 0, HF_EINVAL (no query) or
 * HF_ENOMEM.
 */
int hf_client_submit(hf_client *c, const struct hf_client_request *r,
                     hf_error *err);

/*
 * Run every queued request, and those the callback submits, with at most
 * `parallelism` in flight, calling `done` once per request in completion
 * order. Returns when every request has completed. Returns 0 (each
 * request's own outcome went to `done`), HF_ENET "deadline exceeded" when
 * the deadline cut the run short (the unfinished requests complete with
 * that error first), HF_ENOMEM or HF_ERR (libcurl failed). `done` must not
 * call hf_client_run(), the simple calls or hf_client_free().
 */
int hf_client_run(hf_client *c, hf_client_done_fn done, void *payload,
                  hf_error *err);

/*
 * From a callback (or before a run): start no new requests and no new
 * retries; in-flight requests finish normally, queued ones complete as
 * "not sent". The flag clears when hf_client_run() returns.
 */
void hf_client_stop(hf_client *c);
int hf_client_stopped(const hf_client *c);

/*
 * The client as the engine's transport (hf/transport.h): GraphQL requests
 * as hf_client_submit() takes them, REST requests as the simple calls
 * send them (GETs retried, POSTs only when surely not processed), all run
 * by the same multi loop. Borrowed: valid until hf_client_free().
 */
hf_transport *hf_client_transport(hf_client *c);

#endif
