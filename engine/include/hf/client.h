#ifndef HF_CLIENT_H
#define HF_CLIENT_H

/*
 * The engine's HTTP client for Infrahub, on one libcurl multi handle
 * driven by the calling thread: REST calls, and batches of GraphQL
 * requests run with at most `parallelism` in flight over kept-alive
 * connections. Reads are retried on connection errors, 5xx and 429 with
 * exponential backoff and jitter. The token is sent as X-INFRAHUB-KEY and
 * never appears in any message. User values travel only as variables:
 * the client never builds query text.
 */
#include <jansson.h>

#include "hf/error.h"
#include "hf/fetch.h"

struct hf_client_options {
	const char *address; /* http(s)://host[:port], no trailing '/' */
	const char *token;   /* NULL: none */
	const char *branch;  /* default "main" */
	int insecure;        /* turn TLS verification off */
	long timeout;        /* seconds per request */
	long connect_timeout;
	long retries;        /* retries of retryable failures */
	long backoff_ms;     /* first backoff; doubles, with jitter */
	long parallelism;    /* requests in flight */
	size_t max_response; /* bytes; a bigger answer is an error */
};

#define HF_CLIENT_OPTIONS_INIT \
	{ NULL, NULL, "main", 0, 60, 10, 3, 200, 10, 256u * 1024u * 1024u }

struct hf_client_stats {
	long requests; /* sent, retries included */
	long retries;
	long bytes;
};

typedef struct hf_client hf_client;

void hf_client_global_init(void);
void hf_client_global_cleanup(void);

int hf_client_new(hf_client **out, const struct hf_client_options *o,
		  hf_error *err);
void hf_client_free(hf_client *c); /* NULL-safe */

/*
 * GET `path` ("/api/schema?branch=main") or POST `body` to it; *out is
 * the decoded JSON answer (caller decrefs) and *status the HTTP status.
 * Transport failures: HF_ENET; 401/403: HF_EAUTH; a non-JSON answer:
 * HF_ESERVER. Other statuses are returned to the caller with the body.
 */
int hf_client_get(hf_client *c, const char *path, json_t **out,
		  long *status, hf_error *err);
int hf_client_post(hf_client *c, const char *path, const json_t *body,
		   json_t **out, long *status, hf_error *err);

/*
 * Run GraphQL calls on the client's branch: the hf_gql_batch_fn of
 * fetch.h, with `transport` an hf_client. Each call gets its data and
 * errors; an unknown branch is HF_ENOTFOUND, 401/403 HF_EAUTH.
 */
int hf_client_batch(void *client, struct hf_gql_call *calls, size_t n,
		    hf_error *err);

void hf_client_stats(const hf_client *c, struct hf_client_stats *out);

#endif
