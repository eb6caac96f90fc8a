/*
 * The transport seam: dispatch to the implementation, and the helpers
 * every caller shares (one call run alone, a batch of GraphQL calls, what
 * a GraphQL error means).
 */
#include <string.h>

#include "hf/transport.h"
#include "hf/banned.h"

int hf_transport_submit(hf_transport *t, const struct hf_tx_request *r,
                        hf_error *err)
{
	return t->ops->submit(t, r, err);
}

int hf_transport_run(hf_transport *t, hf_tx_done_fn done, void *payload,
                     hf_error *err)
{
	return t->ops->run(t, done, payload, err);
}

int hf_transport_run_idle(hf_transport *t, hf_tx_done_fn done, void *payload,
                          int (*idle)(void *payload), hf_error *err)
{
	if (t->ops->run_idle)
		return t->ops->run_idle(t, done, payload, idle, err);
	while (idle && idle(payload))
		;
	return t->ops->run(t, done, payload, err);
}

void hf_transport_stop(hf_transport *t)
{
	t->ops->stop(t);
}

void hf_transport_drop(hf_transport *t)
{
	t->ops->drop(t);
}

/* What one call captures from its completion. */
struct capture {
	json_t *data;
	json_t *errors;
	long status;
	int rc;
	hf_error err;
};

static void on_capture(hf_transport *t, const struct hf_tx_result *r,
                       void *payload)
{
	struct capture *cap = payload;

	(void)t;
	cap->data = json_incref(r->data);
	cap->errors = json_incref(r->errors);
	cap->status = r->status;
	cap->rc = r->rc;
	cap->err = *r->err;
}

int hf_transport_call(hf_transport *t, const struct hf_tx_request *r,
                      json_t **data, json_t **errors, long *status,
                      hf_error *err)
{
	struct capture cap;
	int rc;

	memset(&cap, 0, sizeof(cap));
	*data = NULL;
	if (errors)
		*errors = NULL;
	if (status)
		*status = 0;
	rc = hf_transport_submit(t, r, err);
	if (rc == 0)
		rc = hf_transport_run(t, on_capture, &cap, err);
	if (rc == 0 && cap.rc < 0) {
		if (err)
			*err = cap.err;
		rc = cap.rc;
	}
	if (status)
		*status = cap.status;
	if (rc == 0)
		*data = json_incref(cap.data);
	if (errors)
		*errors = json_incref(cap.errors);
	json_decref(cap.data);
	json_decref(cap.errors);
	return rc;
}

static void on_call(hf_transport *t, const struct hf_tx_result *r,
                    void *payload)
{
	struct hf_gql_call *call = r->user;

	(void)t;
	(void)payload;
	call->data = json_incref(r->data);
	call->errors = json_incref(r->errors);
	call->rc = r->rc;
	call->err = *r->err;
}

int hf_transport_batch(hf_transport *t, struct hf_gql_call *calls, size_t n,
                       hf_error *err)
{
	struct hf_tx_request q = HF_TX_REQUEST_INIT;
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
		rc = hf_transport_submit(t, &q, err);
	}
	if (rc < 0) {
		hf_transport_drop(t);
		return rc;
	}
	return hf_transport_run(t, on_call, NULL, err);
}

const char *hf_tx_error_message(const json_t *error)
{
	return json_string_value(json_object_get(error, "message"));
}

/* extensions.code of newer servers (Infrahub's exception names). */
static int coded(const char *code)
{
	if (!strcmp(code, "BRANCH_NOT_FOUND") ||
	    !strcmp(code, "NODE_NOT_FOUND") || !strcmp(code, "NOT_FOUND"))
		return HF_ENOTFOUND;
	if (!strcmp(code, "UNIQUENESS_VIOLATION") ||
	    !strcmp(code, "BRANCH_EXISTS") || !strcmp(code, "ALREADY_EXISTS"))
		return HF_ECONFLICT;
	return 0;
}

/*
 * Older servers set no code: "The branch x, already exist", "An object
 * already exist with this value", "Branch: x not found.", "Unable to find
 * the node ...".
 */
int hf_tx_error_code(const json_t *error)
{
	const char *code = json_string_value(
	        json_object_get(json_object_get(error, "extensions"), "code"));
	const char *msg = hf_tx_error_message(error);
	int rc = code ? coded(code) : 0;

	if (rc)
		return rc;
	if (!msg)
		return HF_ESERVER;
	if (strstr(msg, "already exist"))
		return HF_ECONFLICT;
	if (strstr(msg, "not found") || strstr(msg, "Unable to find"))
		return HF_ENOTFOUND;
	return HF_ESERVER;
}
