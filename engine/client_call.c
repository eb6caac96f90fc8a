/*
 * The simple calls (one REST or GraphQL request, run to completion) and
 * the fetch.h transport adapter, all on top of the batch machinery so
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

static int rest(hf_client *c, const char *path, const json_t *body,
		json_t **out, long *status, hf_error *err)
{
	struct capture cap;
	struct creq *r;
	hf_buf url = HF_BUF_INIT;
	char *text = NULL;
	int rc = HF_ENOMEM;

	assert(path);
	*out = NULL;
	*status = 0;
	memset(&cap, 0, sizeof(cap));
	r = hf_calloc(1, sizeof(*r));
	if (body)
		text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
	hf_buf_addf(&url, "%s%s%s", c->address, *path == '/' ? "" : "/",
		    path);
	if (!r || (body && !text) || hf_buf_failed(&url)) {
		creq_free(r);
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
		goto out;
	}
	hf_buf_init(&r->resp, c->max_response);
	r->kind = CREQ_REST;
	r->method = body ? "POST" : "GET";
	r->url = hf_buf_detach(&url);
	r->body = text;
	r->body_len = text ? strlen(text) : 0;
	text = NULL;
	r->retry = body ? 1 : 2;
	r->timeout_ms = c->timeout_ms;
	rc = run_one(c, r, &cap, err);
	*status = cap.status;
	if (rc == 0)
		*out = json_incref(cap.data);
out:
	json_decref(cap.data);
	json_decref(cap.errors);
	hf_buf_release(&url);
	hf_free(text);
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

static void on_call(hf_client *c, const struct hf_client_result *r,
		    void *payload)
{
	struct hf_gql_call *call = r->user;

	(void)c;
	(void)payload;
	call->data = json_incref(r->data);
	call->errors = json_incref(r->errors);
	call->rc = r->rc;
	call->err = *r->err;
}

int hf_client_batch(void *client, struct hf_gql_call *calls, size_t n,
		    hf_error *err)
{
	struct hf_client_request q = HF_CLIENT_REQUEST_INIT;
	hf_client *c = client;
	size_t i;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		calls[i].data = NULL;
		calls[i].errors = NULL;
		calls[i].rc = 0;
		hf_error_clear(&calls[i].err);
		q.query = calls[i].query;
		q.variables = calls[i].vars;
		q.user = &calls[i];
		rc = hf_client_submit(c, &q, err);
	}
	if (rc < 0) {
		client_drop_all(c);
		return rc;
	}
	return hf_client_run(c, on_call, NULL, err);
}
