/*
 * Schema REST calls over the client: paths and query strings are built
 * here, never in cmd/; branch names are percent-encoded.
 */
#include <stdio.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "hf/schema_io.h"
#include "hf/banned.h"

/* "{prefix}?branch={escaped branch}" into a new string (hf_free). */
static char *with_branch(const char *prefix, const char *branch)
{
	char *b = hf_client_escape(branch);
	hf_buf path = HF_BUF_INIT;

	if (b)
		hf_buf_addf(&path, "%s?branch=%s", prefix, b);
	hf_free(b);
	if (!b || hf_buf_failed(&path)) {
		hf_buf_release(&path);
		return NULL;
	}
	return hf_buf_detach(&path);
}

int hf_schema_fetch(hf_schema **out, hf_client *c, const char *branch,
		    hf_error *err)
{
	char *path = with_branch("/api/schema", branch);
	json_t *answer = NULL;
	long status;
	int rc;

	*out = NULL;
	if (!path)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	rc = hf_client_get(c, path, &answer, &status, err);
	hf_free(path);
	if (rc == 0 && hf_schema_parse(out, answer, err) < 0)
		rc = hf_error_set(err, HF_ESERVER,
				  "the schema answer of %s is not usable: %s",
				  hf_client_address(c), err->msg);
	json_decref(answer);
	return rc;
}

int hf_schema_send(hf_client *c, const char *branch, json_t *docs,
		   struct hf_schema_load_result *res, hf_error *err)
{
	char *path = with_branch("/api/schema/load", branch);
	json_t *body = json_pack("{s:O}", "schemas", docs), *answer = NULL;
	const char *hash;
	long status;
	int rc;

	memset(res, 0, sizeof(*res));
	if (!path || !body) {
		hf_free(path);
		json_decref(body);
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	rc = hf_client_post_json(c, path, body, &answer, &status, err);
	hf_free(path);
	json_decref(body);
	if (rc == 0) {
		res->updated = json_is_true(json_object_get(answer, "schema_updated"));
		hash = json_string_value(json_object_get(answer, "hash"));
		snprintf(res->hash, sizeof(res->hash), "%s", hash ? hash : "");
	}
	json_decref(answer);
	return rc;
}
