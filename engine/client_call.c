/*
 * The simple calls (one REST or GraphQL request, run to completion) and
 * the client's side of the transport seam (hf/transport.h), all on top of the
 * batch machinery so that retries, limits and messages are the same everywhere.
 */
#include <assert.h>
#include <string.h>

#include "client_int.h"
#include "hf/alloc.h"
#include "hf/banned.h"

/*
 * A REST request: {address}{path}, with ?branch={escaped} when the
 * request names a branch; a POST carries its body serialised. GETs are
 * retried, POSTs only when surely not processed, unless the flags say
 * otherwise. Into *out, not queued.
 */
static int rest_request(hf_client *c, struct creq **out,
                        const struct hf_tx_request *q, hf_error *err)
{
	const json_t *body = q->kind == HF_TX_POST ? q->body : NULL;
	struct creq *r = hf_calloc(1, sizeof(*r));
	char *seg = q->branch ? hf_client_escape(q->branch) : NULL;
	char *text =
	        body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	hf_buf url = HF_BUF_INIT;
	int oom = !r || (body && !text) || (q->branch && !seg);

	*out = NULL;
	hf_buf_addf(&url, "%s%s%s", c->address, *q->path == '/' ? "" : "/",
	            q->path);
	if (q->branch)
		hf_buf_addf(&url, "?branch=%s", seg ? seg : "");
	hf_free(seg);
	if (oom || hf_buf_failed(&url)) {
		hf_free(r);
		hf_free(text);
		hf_buf_release(&url);
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	hf_buf_init(&r->resp, c->max_response);
	r->kind = CREQ_REST;
	r->method = body ? "POST" : "GET";
	r->url = hf_buf_detach(&url);
	r->body = text;
	r->body_len = text ? strlen(text) : 0;
	r->retry = (q->flags & HF_TX_NO_RETRY)         ? 0
	           : (q->flags & HF_TX_RETRY) || !body ? 2
	                                               : 1;
	r->timeout_ms = q->timeout > 0 ? q->timeout * 1000 : c->timeout_ms;
	r->user = q->user;
	*out = r;
	return 0;
}

static int rest(hf_client *c, const char *path, const json_t *body,
                json_t **out, long *status, hf_error *err)
{
	struct hf_tx_request q = HF_TX_REQUEST_INIT;

	assert(path);
	assert(!c->running && !c->queue && !c->waiting);
	q.kind = body ? HF_TX_POST : HF_TX_GET;
	q.path = path;
	q.body = body;
	return hf_transport_call(&c->tr, &q, out, NULL, status, err);
}

int hf_client_get(hf_client *c, const char *path_and_query, json_t **out,
                  long *status, hf_error *err)
{
	return rest(c, path_and_query, NULL, out, status, err);
}

int hf_client_post_json(hf_client *c, const char *path, const json_t *body,
                        json_t **out, long *status, hf_error *err)
{
	assert(body);
	return rest(c, path, body, out, status, err);
}

int hf_client_graphql(hf_client *c, const char *branch, const char *query,
                      const json_t *variables, json_t **data_out,
                      json_t **errors_out, hf_error *err)
{
	struct hf_tx_request q = HF_TX_REQUEST_INIT;

	assert(!c->running && !c->queue && !c->waiting);
	q.branch = branch;
	q.query = query;
	q.variables = variables;
	return hf_transport_call(&c->tr, &q, data_out, errors_out, NULL, err);
}

/* ---- the transport seam (hf/transport.h) ---------------------------- */

static hf_client *of(hf_transport *t)
{
	return (hf_client *)(void *)t; /* tr is the first member */
}

hf_transport *hf_client_transport(hf_client *c)
{
	return &c->tr;
}

static int tx_submit(hf_transport *t, const struct hf_tx_request *q,
                     hf_error *err)
{
	const struct gql_args a = { q->branch, q->query, q->variables,
		                    q->user,   q->flags, q->timeout };
	hf_client *c = of(t);
	struct creq *r;
	int rc;

	if (q->kind == HF_TX_GRAPHQL)
		rc = client_gql_request(c, &r, &a, err);
	else if (!q->path || (q->kind == HF_TX_POST && !q->body))
		return hf_error_set(err, HF_EINVAL,
		                    "a REST request needs a path%s",
		                    q->kind == HF_TX_POST ? " and a body" : "");
	else
		rc = rest_request(c, &r, q, err);
	if (rc < 0)
		return rc;
	if (q->kind == HF_TX_GRAPHQL)
		r->scan = q->scan;
	client_enqueue(c, r);
	return 0;
}

/* A run through the transport, with the caller's idle work or none. */
static int run_with(hf_transport *t, hf_tx_done_fn done, void *payload,
                    int (*idle)(void *payload), hf_error *err)
{
	hf_client *c = of(t);
	int rc;

	if (c->running)
		return hf_error_set(
		        err, HF_EINVAL,
		        "hf_transport_run() called from its callback");
	c->tx_done = done;
	c->tx_payload = payload;
	c->idle = idle;
	c->idle_more = idle != NULL;
	rc = client_run(c, err);
	c->tx_done = NULL;
	c->tx_payload = NULL;
	c->idle = NULL;
	c->idle_more = 0;
	return rc;
}

static int tx_run(hf_transport *t, hf_tx_done_fn done, void *payload,
                  hf_error *err)
{
	return run_with(t, done, payload, NULL, err);
}

static int tx_run_idle(hf_transport *t, hf_tx_done_fn done, void *payload,
                       int (*idle)(void *payload), hf_error *err)
{
	return run_with(t, done, payload, idle, err);
}

static void tx_stop(hf_transport *t)
{
	hf_client_stop(of(t));
}

static void tx_drop(hf_transport *t)
{
	client_drop_all(of(t));
}

const struct hf_transport_ops client_tx_ops = { tx_submit, tx_run, tx_stop,
	                                        tx_drop, tx_run_idle };
