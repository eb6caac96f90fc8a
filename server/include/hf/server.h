#ifndef HF_SERVER_H
#define HF_SERVER_H

#include <stddef.h>

#include "hf/error.h"

/*
 * The local Infrahub-compatible endpoint: GraphQL on /graphql[/<branch>],
 * the schema REST API, branches, durable in SQLite. Used by `hubform serve`,
 * as the embedded default target, and by every end-to-end test.
 */

struct hf_server_faults {
	long latency_ms; /* delay every request */
	long fail_mutation; /* the Nth mutation field fails (1-based) */
	long drop_after_commit; /* the Nth request with a mutation commits,
	                           then the connection closes unanswered */
	long http_503; /* the Nth request gets 503 */
	/*
	 * cost=REQUEST_MS,PER_OP_MS: a model of a real Infrahub's time, for
	 * benchmarks. Each GraphQL/REST request waits REQUEST_MS plus
	 * PER_OP_MS per operation in it (a mutation field, or a top-level
	 * query field or alias: one lookup), after its work and without
	 * holding the database lock, so concurrent requests overlap.
	 */
	long cost_request_ms;
	long cost_op_ms;
	/* refuse-query=TEXT: a GraphQL query whose text holds TEXT gets a
	   GraphQL error and no data ("" for none) */
	char refuse_query[128];
};

struct hf_server_options {
	const char *listen; /* "HOST:PORT", "[v6]:PORT"; port 0 picks one */
	const char *data; /* SQLite file; ":memory:" for a throw-away one */
	const char *token; /* required X-INFRAHUB-KEY; NULL: open. Printable
	                      ASCII without spaces, else refused at start;
	                      compared in constant time */
	size_t max_body; /* request body cap in bytes */
	unsigned threads; /* HTTP worker threads */
	const char *log; /* append one JSON line per request; NULL: none */
	struct hf_server_faults faults;
	/*
	 * The default branch's name when the database is created (Infrahub's
	 * initial default-branch setting); NULL: "main". An existing database
	 * keeps its own.
	 */
	const char *default_branch;
	/*
	 * Resource limits; 0 picks the default below. A connection idle
	 * (nothing received or sent) for conn_timeout seconds is closed;
	 * at most max_conns connections at once, max_conns_per_ip from one
	 * client address (more are closed at accept). A GraphQL query whose
	 * estimated work (selected fields x the objects they can return)
	 * exceeds max_cost, or whose answer exceeds max_answer bytes, gets a
	 * GraphQL error instead of its data.
	 */
	unsigned conn_timeout;
	unsigned max_conns;
	unsigned max_conns_per_ip;
	size_t max_answer;
	unsigned long long max_cost;
};

#define HF_SERVER_CONN_TIMEOUT     15u
#define HF_SERVER_MAX_CONNS        1000u
#define HF_SERVER_MAX_CONNS_PER_IP 64u
#define HF_SERVER_MAX_ANSWER       (64u * 1024u * 1024u)
#define HF_SERVER_MAX_COST         5000000ull

#define HF_SERVER_MAX_BODY (64u * 1024u * 1024u)

#define HF_SERVER_OPTIONS_INIT                                                 \
	{                                                                      \
		"127.0.0.1:8000", ".hubform/local.db", NULL,                   \
		        HF_SERVER_MAX_BODY, 4, NULL, { 0, 0, 0, 0, 0, 0, "" }, \
		        NULL, 0, 0, 0, 0, 0                                    \
	}

typedef struct hf_server hf_server;

/*
 * Open the database and start listening. On success *out is running and
 * owned by the caller (stop it with hf_server_stop()). Returns 0, or a
 * negative status with `err` set (bad address, port in use, bad database).
 */
int hf_server_start(hf_server **out, const struct hf_server_options *opts,
                    hf_error *err);

/* "http://HOST:PORT" the server listens on; borrowed. */
const char *hf_server_url(const hf_server *s);
int hf_server_port(const hf_server *s);

/*
 * Stop accepting, let in-flight requests finish, close the database and
 * free everything. NULL-safe.
 */
void hf_server_stop(hf_server *s);

/*
 * Parse one --fault SPEC ("latency=MS", "fail-mutation=N",
 * "drop-after-commit=N", "http-503=N", "cost=REQUEST_MS,PER_OP_MS") into
 * `f`.
 */
int hf_server_fault_parse(struct hf_server_faults *f, const char *spec,
                          hf_error *err);

#endif
