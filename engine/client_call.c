/*
 * The simple calls (one REST or GraphQL request, run to completion) and
 * the client's side of the transport seam (hf/transport.h), all on top of the batch machinery so
 * that retries, limits and messages are the same everywhere.
 */
#include <assert.h>
#include <string.h>

#include "client_int.h"
#include "hf/alloc.h"
#include "hf/banned.h"

/* What one simple call captures from its completion. */
struct capture {
	json_t *data;
	json_t *errors;
	long status;
	int rc;
	hf_error err;
};

static void on_capture(hf_client *c, const struct hf_client_result *r,
		       void *payload)
{
	struct capture *cap = payload;

	(void)c;
	cap->data = json_incref(r->data);
	cap->errors = json_incref(r->errors);
	cap->status = r->status;
	cap->rc = r->rc;
	cap->err = *r->err;
}

/* Run `r` alone; the client must be idle. */
static int run_one(hf_client *c, struct creq *r, struct capture *cap,
		   hf_error *err)
{
	int rc;

	assert(!c->running && !c->queue && !c->waiting);
	memset(cap, 0, sizeof(*cap));
	client_enqueue(c, r);
	rc = hf_client_run(c, on_capture, cap, err);
	if (rc < 0)
		return rc;
	if (cap->rc < 0 && err)
		*err = cap->err;
	return cap->rc;
}

/*
 * A REST request: {address}{path}, with ?branch={escaped} when `branch`;
 * a POST carries `body` serialised. Into *out, not queued.
 */
static int rest_request(hf_client *c, struct creq **out, const char *path,
			const char *branch, const json_t *body, hf_error *err)
{
	struct creq *r = hf_calloc(1, sizeof(*r));
	char *seg = branch ? hf_client_escape(branch) : NULL;
	char *text = body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	hf_buf url = HF_BUF_INIT;

	*out = NULL;
	hf_buf_addf(&url, "%s%s%s", c->address, *path == '/' ? "" : "/", path);
	if (branch)
		hf_buf_addf(&url, "?branch=%s", seg ? seg : "");
	if (!r || (body && !text) || (branch && !seg) || hf_buf_failed(&url)) {
		hf_free(r);
		hf_free(seg);
		hf_free(text);
		hf_buf_release(&url);
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	hf_free(seg);
	hf_buf_init(&r->resp, c->max_response);
	r->kind = CREQ_REST;
	r->method = body ? "POST" : "GET";
	r->url = hf_buf_detach(&url);
	r->body = text;
	r->body_len = text ? strlen(text) : 0;
	r->retry = body ? 1 : 2;
	r->timeout_ms = c->timeout_ms;
	*out = r;
	return 0;
}

static int rest(hf_client *c, const char *path, const json_t *body,
		json_t **out, long *status, hf_error *err)
{
	struct capture cap;
	struct creq *r;
	int rc;

	assert(path);
	*out = NULL;
	*status = 0;
	memset(&cap, 0, sizeof(cap));
	rc = rest_request(c, &r, path, NULL, body, err);
	if (rc < 0)
		return rc;
	rc = run_one(c, r, &cap, err);
	*status = cap.status;
	if (rc == 0)
		*out = json_incref(cap.data);
	json_decref(cap.data);
	json_decref(cap.errors);
	return rc;
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
	struct hf_client_request q = HF_CLIENT_REQUEST_INIT;
	struct capture cap;
	struct creq *r;
	int rc;

	*data_out = NULL;
	if (errors_out)
		*errors_out = NULL;
	q.branch = branch;
	q.query = query;
	q.variables = variables;
	rc = client_gql_request(c, &r, &q, err);
	if (rc < 0)
		return rc;
	rc = run_one(c, r, &cap, err);
	if (rc == 0)
		*data_out = json_incref(cap.data);
	if (errors_out)
		*errors_out = json_incref(cap.errors);
	json_decref(cap.data);
	json_decref(cap.errors);
	return rc;
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
	struct hf_client_request g = HF_CLIENT_REQUEST_INIT;
	hf_client *c = of(t);
	struct creq *r;
	int rc;

	if (q->kind == HF_TX_GRAPHQL) {
		g.branch = q->branch;
		g.query = q->query;
		g.variables = q->variables;
		g.user = q->user;
		g.flags = q->flags;
		g.timeout = q->timeout;
		return hf_client_submit(c, &g, err);
	}
	if (!q->path || (q->kind == HF_TX_POST && !q->body))
		return hf_error_set(err, HF_EINVAL, "a REST request needs a path%s",
				    q->kind == HF_TX_POST ? " and a body" : "");
	rc = rest_request(c, &r, q->path, q->branch,
			  q->kind == HF_TX_POST ? q->body : NULL, err);
	if (rc < 0)
		return rc;
	r->user = q->user;
	if (q->flags & HF_TX_NO_RETRY)
		r->retry = 0;
	else if (q->flags & HF_TX_RETRY)
		r->retry = 2;
	if (q->timeout > 0)
		r->timeout_ms = q->timeout * 1000;
	client_enqueue(c, r);
	return 0;
}

static void tx_done(hf_client *c, const struct hf_client_result *r,
		    void *payload)
{
	struct hf_tx_result x;

	(void)payload;
	x.user = r->user;
	x.data = r->data;
	x.errors = r->errors;
	x.status = r->status;
	x.attempts = r->attempts;
	x.rc = r->rc;
	x.err = r->err;
	c->tx_done(&c->tr, &x, c->tx_payload);
}

static int tx_run(hf_transport *t, hf_tx_done_fn done, void *payload,
		  hf_error *err)
{
	hf_client *c = of(t);
	int rc;

	if (c->running)
		return hf_error_set(err, HF_EINVAL,
				    "hf_transport_run() called from its callback");
	c->tx_done = done;
	c->tx_payload = payload;
	rc = hf_client_run(c, tx_done, NULL, err);
	c->tx_done = NULL;
	c->tx_payload = NULL;
	return rc;
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
						 tx_drop };
