#ifndef HF_CLIENT_INT_H
#define HF_CLIENT_INT_H

/*
 * Internals of the client module, shared by engine/client*.c only. This is
 * the one place where libcurl's types appear.
 */
#include <curl/curl.h>
#include <stdint.h>

#include "hf/buf.h"
#include "hf/client.h"

enum creq_kind {
	CREQ_GRAPHQL,
	CREQ_REST,
};

/* One request, from submission to completion. */
struct creq {
	struct creq *next;
	enum creq_kind kind;
	const char *method; /* static "GET" or "POST" */
	char *url;
	char *body; /* NULL for GET */
	size_t body_len;
	char *branch; /* GraphQL: the branch, for messages */
	void *user;
	int retry; /* 0: never; 1: only when surely unprocessed; 2: transient */
	long timeout_ms; /* per attempt */
	int attempts;
	uint64_t due_ms; /* waiting: when the next attempt may start */
	uint64_t started_ms; /* when the current attempt started */
	CURL *easy; /* while in flight */
	hf_buf resp;
	int too_big;
	char errbuf[CURL_ERROR_SIZE];
	/* the outcome of the last attempt */
	long status;
	long retry_after; /* seconds, 0 when absent */
	json_t *data; /* GraphQL data, or the REST answer */
	json_t *errors; /* errors[] of the answer */
	int rc;
	hf_error err;
	/* JWT login (client_auth.c) */
	struct curl_slist *hdrs; /* this attempt's headers, with the Bearer */
	unsigned auth_gen; /* the access token it was sent with */
	int auth_retried; /* sent again once after a renewal */
	int expired; /* answered 401 "Expired Signature" */
	hf_tx_scan_fn scan; /* offered a 2xx GraphQL answer (transport.h) */
	int scanned; /* and took it */
};

/* A GraphQL request's fields, from either public request type. */
struct gql_args {
	const char *branch;
	const char *query;
	const json_t *variables;
	void *user;
	unsigned flags;
	long timeout;
};

struct hf_client {
	struct hf_transport
	        tr; /* first: the transport handle (client_call.c) */
	char *address; /* no trailing '/' */
	char *branch;
	char *token;
	struct curl_slist *headers;
	CURLM *multi;
	CURL **pool; /* idle easy handles, reused */
	size_t npool;
	int https;
	long connect_timeout_ms;
	long timeout_ms;
	long retries;
	long backoff_ms;
	long backoff_max_ms;
	size_t parallelism;
	size_t max_response;
	long deadline_ms;
	char *ca_file;
	int insecure;
	hf_client_log_fn log;
	void *log_payload;
	struct hf_client_stats stats;
	uint64_t rng;
	/* the run */
	struct creq *queue; /* not started yet, FIFO */
	struct creq **queue_tail;
	struct creq *waiting; /* failed, waiting to be retried */
	struct creq *active; /* in flight */
	size_t nactive;
	int running;
	int stopped;
	hf_client_done_fn done;
	void *done_payload;
	hf_tx_done_fn tx_done; /* a run started through the transport */
	void *tx_payload;
	int (*idle)(void *payload); /* hf_transport_run_idle(): the caller's */
	int idle_more; /* work between steps, until idle says none is left */
	/* JWT login (client_auth.c); every secret is wiped when freed */
	char *username;
	char *password;
	char *access; /* access token; NULL until logged in */
	char *refresh; /* refresh token */
	unsigned auth_gen; /* bumped at every login or refresh */
};

/* client.c */
void creq_free(struct creq *r);
void client_enqueue(hf_client *c, struct creq *r);
int client_gql_request(hf_client *c, struct creq **out,
                       const struct gql_args *q, hf_error *err);
uint64_t client_now_ms(void);
void client_event(hf_client *c, const struct creq *r,
                  enum hf_client_event_type type, long delay_ms);

/* client_call.c: the transport operations */
extern const struct hf_transport_ops client_tx_ops;

/* client_answer.c: what an attempt's answer means, into r->rc and r->err */
void answer_settle(hf_client *c, struct creq *r, CURLcode cc);
int client_error(hf_client *c, hf_error *err, int code, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* client_run.c */
int client_run(hf_client *c, hf_error *err);
void client_drop_all(hf_client *c);
void client_easy_setup(hf_client *c, struct creq *r, CURL *e);

/*
 * client_auth.c: username/password login. client_auth_init copies the
 * credentials (HF_EINVAL for a bad combination); login and renew send
 * their request at once, blocking, outside the multi loop.
 */
int client_auth_init(hf_client *c, const struct hf_client_options *o,
                     hf_error *err);
void client_auth_free(hf_client *c);
int client_auth_login(hf_client *c, hf_error *err);
/* This attempt's headers: the client's plus the Bearer, into r->hdrs. */
int client_auth_headers(hf_client *c, struct creq *r);
/*
 * r was answered 401 "Expired Signature": get a new access token unless
 * another request already did, and say whether to send r again (1) or
 * let it fail (0, with the reason added to r->err).
 */
int client_auth_renew(hf_client *c, struct creq *r);
/* Every secret the client holds, for redaction; NULL-terminated. */
void client_secrets(const hf_client *c, const char *out[5]);

#endif
