/*
 * The multi loop: one CURLM driven by the calling thread. Requests move
 * from the queue to flight, and from flight either to completion (the
 * callback) or to the waiting list, where a retry sits until its backoff
 * timer is due. Waiting is a poll timeout, never a sleep, so other
 * transfers keep moving while a retry waits.
 *
 * Every submitted request completes exactly once through the callback,
 * whatever happens to the run (stop, deadline, libcurl failure): callers
 * can count on one outcome per request.
 */
#include <assert.h>
#include <string.h>

#include "client_int.h"
#include "hf/alloc.h"
#include "hf/banned.h"

/* Retry-After beyond this is not waited for (the deadline still applies). */
#define RETRY_AFTER_MAX_MS 300000L

static uint64_t rng_next(hf_client *c)
{
	/* xorshift64*: jitter needs spread, not secrecy */
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return c->rng * 2685821657736338717u;
}

/* Full jitter: uniform in [0, min(cap, base * 2^(attempts - 1))]. */
static long backoff_delay(hf_client *c, const struct creq *r)
{
	long d = c->backoff_ms, cap = c->backoff_max_ms;
	int i;

	if ((r->status == 429 || r->status == 503) && r->retry_after > 0)
		return r->retry_after > RETRY_AFTER_MAX_MS / 1000
		               ? RETRY_AFTER_MAX_MS
		               : r->retry_after * 1000;
	for (i = 1; i < r->attempts && d < cap; i++)
		d = d > cap / 2 ? cap : d * 2;
	if (d > cap)
		d = cap;
	return (long)(rng_next(c) % (uint64_t)(d + 1));
}

/* A failure that proves the server never processed the request. */
static int unprocessed(const struct creq *r, CURLcode cc)
{
	return cc == CURLE_COULDNT_CONNECT ||
	       cc == CURLE_COULDNT_RESOLVE_HOST ||
	       (cc == CURLE_OK && r->status == 429);
}

/* A failure that may go away, but the request may have run. */
static int transient(const struct creq *r, CURLcode cc)
{
	switch (cc) {
	case CURLE_OK:
		return r->status >= 500 && r->status <= 599;
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

static int should_retry(const hf_client *c, const struct creq *r, CURLcode cc)
{
	if (c->stopped || r->retry == 0 || r->attempts > c->retries)
		return 0;
	if (unprocessed(r, cc))
		return 1;
	return r->retry == 2 && transient(r, cc);
}

/*
 * The one place a request's outcome is handed out: to the transport's
 * callback when the run came through the seam, else to hf_client_run()'s.
 */
static void complete(hf_client *c, struct creq *r)
{
	client_event(c, r, HF_CLIENT_EV_DONE, 0);
	if (c->tx_done) {
		const struct hf_tx_result x = { r->user,     r->data,
			                        r->errors,   r->status,
			                        r->attempts, r->rc,
			                        &r->err,     r->scanned };

		c->tx_done(&c->tr, &x, c->tx_payload);
	} else {
		const struct hf_client_result res = { r->user,   r->branch,
			                              r->data,   r->errors,
			                              r->status, r->attempts,
			                              r->rc,     &r->err };

		c->done(c, &res, c->done_payload);
	}
	creq_free(r);
}

static CURL *easy_get(hf_client *c)
{
	CURL *e;

	if (!c->npool)
		return curl_easy_init();
	e = c->pool[--c->npool];
	curl_easy_reset(e);
	return e;
}

static void easy_put(hf_client *c, CURL *e)
{
	if (c->npool < c->parallelism)
		c->pool[c->npool++] = e;
	else
		curl_easy_cleanup(e);
}

static size_t on_data(char *p, size_t size, size_t n, void *payload)
{
	struct creq *r = payload;
	size_t len = size * n;

	if (r->resp.max && len > r->resp.max - r->resp.len) {
		r->too_big = 1;
		return 0; /* curl fails the transfer: never an unbounded read */
	}
	if (hf_buf_addn(&r->resp, p, len) < 0)
		return 0;
	return len;
}

void client_easy_setup(hf_client *c, struct creq *r, CURL *e)
{
	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)r);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs ? r->hdrs : c->headers);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "hubform/" HF_VERSION);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)r);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, r->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
	                 (curl_off_t)c->max_response);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->insecure ? 0L : 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->insecure ? 0L : 2L);
	if (c->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
	if (c->https) {
		/* HTTP/2 over TLS: many streams on one connection */
		curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
		                 (long)CURL_HTTP_VERSION_2TLS);
		curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	}
	if (r->retry < 2) {
		/*
		 * libcurl silently re-sends a request whose reused connection
		 * died before any answer byte. For a write the server may
		 * have committed before the connection died, so it goes on a
		 * connection of its own, which libcurl never re-sends on.
		 */
		curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	}
	if (r->body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
		                 (curl_off_t)r->body_len);
	} else {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	}
}

static void fail_now(hf_client *c, struct creq *r)
{
	r->rc = client_error(c, &r->err, HF_ENOMEM, "out of memory");
	complete(c, r);
}

static void attempt_start(hf_client *c, struct creq *r)
{
	CURL *e = easy_get(c);

	if (!e || client_auth_headers(c, r) < 0) {
		if (e)
			easy_put(c, e);
		fail_now(c, r);
		return;
	}
	client_easy_setup(c, r, e);
	hf_buf_reset(&r->resp);
	r->too_big = 0;
	r->errbuf[0] = '\0';
	if (curl_multi_add_handle(c->multi, e) != CURLM_OK) {
		easy_put(c, e);
		fail_now(c, r);
		return;
	}
	r->easy = e;
	r->next = c->active;
	c->active = r;
	c->nactive++;
	r->attempts++;
	r->started_ms = client_now_ms();
	c->stats.requests++;
	if (r->attempts > 1)
		c->stats.retries++;
	client_event(c, r, HF_CLIENT_EV_SEND, 0);
}

/* Take r out of flight and give its easy handle back to the pool. */
static void unlink_active(hf_client *c, struct creq *r)
{
	struct creq **pp = &c->active;

	while (*pp && *pp != r)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = r->next;
		c->nactive--;
	}
	r->next = NULL;
	curl_multi_remove_handle(c->multi, r->easy);
	easy_put(c, r->easy);
	r->easy = NULL;
}

/*
 * A Retry-After longer than the request's own timeout is not waited for:
 * the user said how long a request may take. Fails now, saying why.
 */
static int retry_after_too_long(struct creq *r)
{
	char msg[sizeof(r->err.msg)];

	if ((r->status != 429 && r->status != 503) || r->retry_after <= 0 ||
	    r->retry_after * 1000 <= r->timeout_ms)
		return 0;
	snprintf(msg, sizeof(msg), "%s", r->err.msg);
	hf_error_set(&r->err, r->rc,
	             "%s (the server asks to retry after %lds, "
	             "longer than the %lds timeout)",
	             msg, r->retry_after, r->timeout_ms / 1000);
	return 1;
}

static void read_info(hf_client *c, struct creq *r)
{
	curl_off_t after = 0;
	long status = 0, conns = 0;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(r->easy, CURLINFO_NUM_CONNECTS, &conns);
	if (curl_easy_getinfo(r->easy, CURLINFO_RETRY_AFTER, &after) !=
	    CURLE_OK)
		after = 0;
	r->status = status;
	r->retry_after = after > 0 ? (long)after : 0;
	c->stats.connections += conns;
	c->stats.bytes += (long long)r->resp.len;
}

/* An expired login renewed: r goes next, before anything queued. */
static void queue_push_front(hf_client *c, struct creq *r)
{
	r->next = c->queue;
	c->queue = r;
	if (!r->next)
		c->queue_tail = &r->next;
}

static void attempt_end(hf_client *c, struct creq *r, CURLcode cc)
{
	long delay;

	read_info(c, r);
	unlink_active(c, r);
	answer_settle(c, r, cc);
	if (r->rc < 0 && r->expired && !c->stopped && client_auth_renew(c, r)) {
		queue_push_front(c, r);
		return;
	}
	if (r->rc == 0 || !should_retry(c, r, cc)) {
		complete(c, r);
		return;
	}
	if (retry_after_too_long(r)) {
		complete(c, r);
		return;
	}
	delay = backoff_delay(c, r);
	r->due_ms = client_now_ms() + (uint64_t)delay;
	r->next = c->waiting;
	c->waiting = r;
	client_event(c, r, HF_CLIENT_EV_RETRY, delay);
}

static void reap(hf_client *c)
{
	struct creq *r;
	CURLMsg *m;
	char *p;
	int left;

	while ((m = curl_multi_info_read(c->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		p = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &p);
		r = (struct creq *)(void *)p;
		attempt_end(c, r, m->data.result);
	}
}

static struct creq *queue_pop(hf_client *c)
{
	struct creq *r = c->queue;

	c->queue = r->next;
	if (!c->queue)
		c->queue_tail = &c->queue;
	r->next = NULL;
	return r;
}

/* Due retries first (they are older than anything queued), then news. */
static void start_ready(hf_client *c)
{
	uint64_t now = client_now_ms();
	struct creq **pp = &c->waiting, *r;

	while (*pp && c->nactive < c->parallelism) {
		r = *pp;
		if (r->due_ms > now) {
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		attempt_start(c, r);
	}
	while (c->queue && c->nactive < c->parallelism)
		attempt_start(c, queue_pop(c));
}

/* Stopped: waiting retries end with their last failure, news unsent. */
static void flush_stopped(hf_client *c)
{
	struct creq *r;

	while (c->waiting || c->queue) {
		if (c->waiting) {
			r = c->waiting;
			c->waiting = r->next;
			complete(c, r);
			continue;
		}
		r = queue_pop(c);
		r->rc = client_error(c, &r->err, HF_ERR,
		                     "not sent: the run was stopped");
		complete(c, r);
	}
}

/* End every unfinished request with `why` (the callback may add more). */
static void abort_all(hf_client *c, const hf_error *why)
{
	struct creq *r;

	while (c->active || c->waiting || c->queue) {
		if (c->active) {
			r = c->active;
			unlink_active(c, r);
		} else if (c->waiting) {
			r = c->waiting;
			c->waiting = r->next;
		} else {
			r = queue_pop(c);
		}
		json_decref(r->data);
		json_decref(r->errors);
		r->data = NULL;
		r->errors = NULL;
		r->rc = why->code;
		r->err = *why;
		complete(c, r);
	}
}

static int next_wait(const hf_client *c, uint64_t deadline)
{
	uint64_t now = client_now_ms(), w = 1000;
	const struct creq *r;

	for (r = c->waiting; r && c->nactive < c->parallelism; r = r->next)
		if (r->due_ms <= now)
			w = 0;
		else if (r->due_ms - now < w)
			w = r->due_ms - now;
	if (deadline)
		w = deadline <= now ? 0
		                    : (deadline - now < w ? deadline - now : w);
	return (int)w;
}

static int run_step(hf_client *c, uint64_t deadline, hf_error *err)
{
	int running;

	if (deadline && client_now_ms() >= deadline)
		return client_error(c, err, HF_ENET,
		                    "deadline exceeded (%ld ms) talking to %s",
		                    c->deadline_ms, c->address);
	if (curl_multi_poll(c->multi, NULL, 0,
	                    c->idle_more ? 0 : next_wait(c, deadline),
	                    NULL) != CURLM_OK ||
	    curl_multi_perform(c->multi, &running) != CURLM_OK)
		return client_error(c, err, HF_ERR,
		                    "libcurl's multi interface failed");
	reap(c);
	return 0;
}

int client_run(hf_client *c, hf_error *err)
{
	uint64_t deadline = 0;
	hf_error why = HF_ERROR_INIT;
	int rc = 0;

	if (c->deadline_ms)
		deadline = client_now_ms() + (uint64_t)c->deadline_ms;
	c->running = 1;
	/* idle work may submit requests: they need the login too */
	if (c->username && !c->access &&
	    (c->queue || c->waiting || c->idle_more) &&
	    client_auth_login(c, &why) < 0) {
		/* every request fails with the login's reason */
		abort_all(c, &why);
		c->running = 0;
		c->stopped = 0;
		return 0;
	}
	for (;;) {
		if (c->stopped)
			flush_stopped(c);
		start_ready(c);
		if (!c->active && !c->queue && !c->waiting) {
			if (!c->idle_more)
				break;
			/* nothing on the wire: the caller's work, now */
			c->idle_more = c->idle(c->tx_payload);
			continue;
		}
		rc = run_step(c, deadline, &why);
		if (rc < 0) {
			abort_all(c, &why);
			if (err)
				*err = why;
			break;
		}
		/* a step taken: some of the caller's work while it waits */
		if (c->idle_more)
			c->idle_more = c->idle(c->tx_payload);
	}
	c->running = 0;
	c->stopped = 0;
	return rc;
}

int hf_client_run(hf_client *c, hf_client_done_fn done, void *payload,
                  hf_error *err)
{
	int rc;

	assert(done);
	if (c->running)
		return hf_error_set(err, HF_EINVAL,
		                    "hf_client_run() called from its callback");
	c->done = done;
	c->done_payload = payload;
	rc = client_run(c, err);
	c->done = NULL;
	c->done_payload = NULL;
	return rc;
}

/* For hf_client_free(): requests that never ran go without a callback. */
void client_drop_all(hf_client *c)
{
	struct creq *r;

	while (c->queue)
		creq_free(queue_pop(c));
	while (c->waiting) {
		r = c->waiting;
		c->waiting = r->next;
		creq_free(r);
	}
}
