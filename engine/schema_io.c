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
		rc = hf_error_set(err, HF_ESERVER,
				  "the schema answer of branch '%s' is not usable: %s",
				  branch, perr.msg);
	json_decref(answer);
	return rc;
}

int hf_schema_send(hf_transport *t, const char *branch, json_t *docs,
		   struct hf_schema_load_result *res, hf_error *err)
{
	struct hf_tx_request rq = HF_TX_REQUEST_INIT;
	json_t *body = json_pack("{s:O}", "schemas", docs), *answer = NULL;
	const char *hash;
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
	if (rc == 0) {
		res->updated = json_is_true(json_object_get(answer, "schema_updated"));
		hash = json_string_value(json_object_get(answer, "hash"));
		snprintf(res->hash, sizeof(res->hash), "%s", hash ? hash : "");
	}
	json_decref(answer);
	return rc;
}
