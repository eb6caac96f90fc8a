#ifndef HF_FAKE_TRANSPORT_H
#define HF_FAKE_TRANSPORT_H

/*
 * Test helper: an hf_transport (hf/transport.h) that sends nothing. Tests
 * script what each request gets (an answer, a failure, or a handler's
 * reply), and read back every request in the order it was submitted.
 *
 * Rules are tried in the order they were added; the first whose `match`
 * occurs in the request (the GraphQL document, or the REST path; NULL
 * matches everything) and has uses left answers it. A request no rule
 * answers fails with HF_ESERVER "fake transport: nothing scripted for
 * ...", so a test never passes by accident.
 *
 * A run answers queued requests one at a time, first in first out;
 * requests the callback submits join the queue. After hf_transport_stop()
 * the rest complete as "not sent" (attempts 0, HF_ERR), as with the HTTP
 * client. Allocations go through hf_alloc(): under a failing allocator a
 * submit fails with HF_ENOMEM and nothing is recorded, like the client.
 */
/* The engine's header, by path: the helper library sees util/ only. */
#include "../../engine/include/hf/transport.h"

typedef struct hf_fake hf_fake;

/* A request as the fake received it. Owned by the fake. */
struct hf_fake_req {
	enum hf_tx_kind kind;
	char *branch; /* NULL when none */
	char *query; /* GraphQL document, or NULL */
	json_t *variables; /* a deep copy, or NULL */
	char *path; /* REST path, or NULL */
	json_t *body; /* a deep copy, or NULL */
	unsigned flags;
	int sent; /* 1 once answered; 0 when stopped or dropped before */
	int scanned; /* 1: the request's scan took the answer (read from its
	                text, hf/transport.h), not decoded */
};

/*
 * A handler builds the answer itself: *answer is a new reference (a
 * GraphQL answer {"data": ..., "errors": ...}, or the REST answer);
 * returns 0, or a failure status with `err` set (then *answer is unused).
 */
typedef int (*hf_fake_handler_fn)(void *payload, const struct hf_fake_req *r,
                                  json_t **answer, hf_error *err);

/* A new fake (NULL on OOM); hf_fake_free() it. */
hf_fake *hf_fake_new(void);
void hf_fake_free(hf_fake *f);
hf_transport *hf_fake_transport(hf_fake *f);

/*
 * Scripts; `times` is how many requests the rule answers (-1: any
 * number). 0, or HF_ENOMEM / HF_EINVAL (bad JSON).
 *
 * hf_fake_answer: `json` is the whole answer. For GraphQL the request's
 * rc is 0 when "data" is an object, else HF_ESERVER with errors[0]'s
 * message (the client's rule).
 * hf_fake_fail: the request fails with `rc` and `msg` (after one attempt,
 * e.g. HF_ENET "connection refused").
 */
int hf_fake_answer(hf_fake *f, const char *match, int times, const char *json);
int hf_fake_fail(hf_fake *f, const char *match, int times, int rc,
                 const char *msg);
/*
 * The answer's very bytes (`len` of them, any content): offered as they
 * are to a request's scan (transport.h), else decoded as the client
 * decodes them (strict JSON; invalid text is HF_ESERVER "invalid JSON
 * answer"). Answers of the other rules are offered written out.
 */
int hf_fake_answer_text(hf_fake *f, const char *match, int times,
                        const char *text, size_t len);
int hf_fake_handler(hf_fake *f, const char *match, int times,
                    hf_fake_handler_fn fn, void *payload);

/* Make hf_transport_run() itself fail with `rc` (once), sending nothing. */
void hf_fake_fail_run(hf_fake *f, int rc);

/* The requests received so far, in submission order. */
size_t hf_fake_count(const hf_fake *f);
const struct hf_fake_req *hf_fake_at(const hf_fake *f, size_t i);
/* How many received requests contain `match` (as rules match), and were sent.
 */
size_t hf_fake_sent(const hf_fake *f, const char *match);
/* Forget the received requests (the rules stay). */
void hf_fake_clear_log(hf_fake *f);

#endif
