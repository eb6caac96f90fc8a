/*
 * Schema REST calls over the transport: fixed paths, the branch passed as
 * a value the transport percent-encodes, never in cmd/.
 */
#include <stdio.h>
#include <string.h>

#include "hf/schema_io.h"
#include "hf/banned.h"

int hf_schema_fetch(hf_schema **out, hf_transport *t, const char *branch,
                    hf_error *err)
{
	struct hf_tx_request rq = HF_TX_REQUEST_INIT;
	json_t *answer = NULL;
	hf_error perr = HF_ERROR_INIT;
	int rc;

	*out = NULL;
	rq.kind = HF_TX_GET;
	rq.path = "/api/schema";
	rq.branch = branch;
	rc = hf_transport_call(t, &rq, &answer, NULL, NULL, err);
	if (rc == 0 && hf_schema_parse(out, answer, &perr) < 0)
		rc = hf_error_set(
		        err, HF_ESERVER,
		        "the schema answer of branch '%s' is not usable: %s",
		        branch, perr.msg);
	json_decref(answer);
	return rc;
}

static int bad_load(const char *branch, const char *what, hf_error *err)
{
	return hf_error_set(err, HF_ESERVER,
	                    "malformed answer to POST /api/schema/load "
	                    "(branch '%s'): %s",
	                    branch ? branch : "", what);
}

/*
 * {"hash": str, "previous_hash": str, "schema_updated": bool, "diff": {}}:
 * the hash is a short non-empty string; whether the schema changed is
 * schema_updated, or (older servers) hash != previous_hash.
 */
static int take_load_answer(const json_t *a, const char *branch,
                            struct hf_schema_load_result *res, hf_error *err)
{
	const json_t *h = json_object_get(a, "hash");
	const json_t *ph = json_object_get(a, "previous_hash");
	const json_t *up = json_object_get(a, "schema_updated");

	if (!json_is_object(a))
		return bad_load(branch, "not a JSON object", err);
	if (!json_is_string(h) || !json_string_length(h) ||
	    json_string_length(h) >= sizeof(res->hash))
		return bad_load(branch, "hash is not a hash string", err);
	if (up && !json_is_boolean(up))
		return bad_load(branch, "schema_updated is not a boolean", err);
	if (!up && !json_is_string(ph))
		return bad_load(branch,
		                "neither schema_updated nor previous_hash",
		                err);
	snprintf(res->hash, sizeof(res->hash), "%s", json_string_value(h));
	res->updated =
	        up ? json_is_true(up)
	           : strcmp(json_string_value(h), json_string_value(ph)) != 0;
	return 0;
}

int hf_schema_send(hf_transport *t, const char *branch, json_t *docs,
                   struct hf_schema_load_result *res, hf_error *err)
{
	struct hf_tx_request rq = HF_TX_REQUEST_INIT;
	json_t *body = json_pack("{s:O}", "schemas", docs), *answer = NULL;
	int rc;

	memset(res, 0, sizeof(*res));
	if (!body)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	rq.kind = HF_TX_POST;
	rq.path = "/api/schema/load";
	rq.branch = branch;
	rq.body = body;
	rc = hf_transport_call(t, &rq, &answer, NULL, NULL, err);
	json_decref(body);
	if (rc == 0)
		rc = take_load_answer(answer, branch, res, err);
	json_decref(answer);
	return rc;
}
