/*
 * What an answer means: an attempt's transport result, HTTP status and
 * body, turned into a status, a message and the decoded data. Every
 * message goes through client_error(), which removes the token should a
 * server echo it back.
 */
#include <stdio.h>
#include <string.h>

#include "client_int.h"
#include "hf/alloc.h"
#include "hf/banned.h"

#define REDACTED "<redacted>"

/* Replace every copy of the token in `msg` (in place, truncating). */
static void redact(char *msg, size_t size, const char *token)
{
	char tmp[sizeof(((hf_error *)0)->msg)];
	size_t tlen = strlen(token), o = 0;
	const char *p = msg, *hit;
	int n;

	while ((hit = strstr(p, token))) {
		n = snprintf(tmp + o, sizeof(tmp) - o, "%.*s%s", (int)(hit - p),
		             p, REDACTED);
		if (n < 0 || (size_t)n >= sizeof(tmp) - o) {
			o = sizeof(tmp) - 1;
			break;
		}
		o += (size_t)n;
		p = hit + tlen;
	}
	if (o < sizeof(tmp) - 1)
		snprintf(tmp + o, sizeof(tmp) - o, "%s", p);
	snprintf(msg, size, "%s", tmp);
}

/*
 * A message cut short may end in the first characters of the token: drop
 * any tail that is a prefix of it.
 */
static void cut_token_prefix(char *msg, const char *token)
{
	size_t len = strlen(msg), tlen = strlen(token), k;

	for (k = tlen - 1 < len ? tlen - 1 : len; k > 0; k--) {
		if (!strncmp(msg + len - k, token, k)) {
			msg[len - k] = '\0';
			return;
		}
	}
}

int client_error(hf_client *c, hf_error *err, int code, const char *fmt, ...)
{
	const char *secrets[5];
	va_list ap;
	size_t i;
	int n;

	if (!err)
		return code;
	hf_error_clear(err);
	err->code = code;
	va_start(ap, fmt);
	n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	client_secrets(c, secrets);
	for (i = 0; secrets[i]; i++) {
		redact(err->msg, sizeof(err->msg), secrets[i]);
		if (n < 0 || (size_t)n >= sizeof(err->msg))
			cut_token_prefix(err->msg, secrets[i]);
	}
	return code;
}

static void add_detail(hf_buf *b, const json_t *d)
{
	const char *m = json_string_value(json_object_get(d, "msg"));
	const json_t *loc = json_object_get(d, "loc"), *v;
	size_t i;

	if (json_is_string(d))
		m = json_string_value(d);
	hf_buf_add(b, m ? m : "invalid request");
	if (!json_array_size(loc))
		return;
	hf_buf_add(b, " at ");
	json_array_foreach(loc, i, v)
	{
		if (i)
			hf_buf_addch(b, '.');
		if (json_is_integer(v))
			hf_buf_addf(b, "%lld",
			            (long long)json_integer_value(v));
		else
			hf_buf_add(b, json_string_value(v)
			                      ? json_string_value(v)
			                      : "?");
	}
}

/*
 * The server's message, whatever the shape: errors[] of objects with
 * "message" or of plain strings (joined with " | ", as the SDK does),
 * FastAPI's "detail", or a bare "message". Empty when there is none.
 */
static void server_message(const json_t *j, hf_buf *b)
{
	const json_t *errs = json_object_get(j, "errors"), *e;
	const json_t *detail = json_object_get(j, "detail");
	const char *m;
	size_t i;

	json_array_foreach(errs, i, e)
	{
		m = json_is_string(e)
		            ? json_string_value(e)
		            : json_string_value(json_object_get(e, "message"));
		hf_buf_addf(b, "%s%s", i ? " | " : "", m ? m : "unknown error");
	}
	if (b->len)
		return;
	if (json_is_array(detail)) {
		json_array_foreach(detail, i, e)
		{
			if (i)
				hf_buf_add(b, " | ");
			add_detail(b, e);
		}
	} else if (detail) {
		add_detail(b, detail);
	} else if (json_is_string(json_object_get(j, "message"))) {
		hf_buf_add(b, json_string_value(json_object_get(j, "message")));
	}
}

static int transport_error(hf_client *c, struct creq *r, CURLcode cc)
{
	if (!r->too_big && hf_buf_failed(&r->resp))
		return client_error(c, &r->err, HF_ENOMEM, "out of memory");
	if (r->too_big || cc == CURLE_FILESIZE_EXCEEDED)
		return client_error(c, &r->err, HF_ESERVER,
		                    "answer from %s is bigger than %zu bytes",
		                    c->address, c->max_response);
	return client_error(c, &r->err, HF_ENET, "request to %s failed: %s",
	                    c->address,
	                    r->errbuf[0] ? r->errbuf : curl_easy_strerror(cc));
}

/* A non-2xx status into a status code and message; msg may be "". */
static int http_error(hf_client *c, struct creq *r, const char *msg)
{
	const char *sep = *msg ? ": " : "";
	long st = r->status;

	if (st == 401 || st == 403)
		return client_error(
		        c, &r->err, HF_EAUTH, "%s (HTTP %ld from %s)",
		        *msg ? msg : "authentication failed", st, c->address);
	if (st == 429 || st >= 500)
		return client_error(c, &r->err, HF_ENET, "HTTP %ld from %s%s%s",
		                    st, c->address, sep, msg);
	if (st == 404 && r->kind == CREQ_GRAPHQL)
		return client_error(c, &r->err, HF_ENOTFOUND,
		                    "branch '%s' not found", r->branch);
	if (st == 404)
		return client_error(c, &r->err, HF_ENOTFOUND,
		                    "%s not found%s%s", r->url, sep, msg);
	return client_error(c, &r->err, HF_ESERVER, "HTTP %ld from %s%s%s", st,
	                    c->address, sep, msg);
}

/*
 * A 404 from /graphql/<branch> is Infrahub's unknown branch only when the
 * body has its shape ({"errors": ["Branch: x not found."]}); anything else
 * means the address does not lead to Infrahub's GraphQL endpoint.
 */
static int is_branch_404(const json_t *j)
{
	return json_is_string(json_array_get(json_object_get(j, "errors"), 0));
}

static void graphql_ok(hf_client *c, struct creq *r, json_t *j)
{
	json_t *data = json_object_get(j, "data");
	json_t *errors = json_object_get(j, "errors");
	hf_buf m = HF_BUF_INIT;

	if ((data && !json_is_object(data) && !json_is_null(data)) ||
	    (errors && !json_is_array(errors))) {
		r->rc = client_error(
		        c, &r->err, HF_ESERVER,
		        "invalid JSON answer from %s: not a GraphQL response",
		        c->address);
		return;
	}
	r->errors = json_incref(errors);
	if (json_is_object(data)) {
		r->data = json_incref(data);
		return;
	}
	if (!json_array_size(errors)) {
		r->rc = client_error(
		        c, &r->err, HF_ESERVER,
		        "invalid JSON answer from %s: no data and no errors",
		        c->address);
		return;
	}
	server_message(j, &m);
	r->rc = client_error(c, &r->err, HF_ESERVER, "%s",
	                     hf_buf_failed(&m) ? "out of memory" : m.ptr);
	hf_buf_release(&m);
}

/*
 * Infrahub's answer to an expired JWT: 401 with the message "Expired
 * Signature" (newer servers add extensions.code TOKEN_EXPIRED).
 */
static int is_expired(const json_t *j)
{
	const json_t *e;
	const char *m, *code;
	size_t i;

	json_array_foreach(json_object_get(j, "errors"), i, e)
	{
		m = json_string_value(json_object_get(e, "message"));
		code = json_string_value(json_object_get(
		        json_object_get(e, "extensions"), "code"));
		if ((m && !strcmp(m, "Expired Signature")) ||
		    (code && !strcmp(code, "TOKEN_EXPIRED")))
			return 1;
	}
	return 0;
}

static void settle_status(hf_client *c, struct creq *r, json_t *j)
{
	hf_buf m = HF_BUF_INIT;

	r->expired = r->status == 401 && is_expired(j);
	if (j)
		server_message(j, &m);
	if (r->kind == CREQ_GRAPHQL && r->status == 404 && !is_branch_404(j))
		r->rc = client_error(c, &r->err, HF_ENOTFOUND,
		                     "no GraphQL endpoint at %s (HTTP 404)",
		                     r->url);
	else
		r->rc = http_error(c, r, hf_buf_failed(&m) ? "" : m.ptr);
	if (r->kind == CREQ_GRAPHQL &&
	    json_is_array(json_object_get(j, "errors")))
		r->errors = json_incref(json_object_get(j, "errors"));
	hf_buf_release(&m);
}

void answer_settle(hf_client *c, struct creq *r, CURLcode cc)
{
	json_error_t jerr;
	json_t *j = NULL;

	json_decref(r->data);
	json_decref(r->errors);
	r->data = NULL;
	r->errors = NULL;
	r->rc = 0;
	r->expired = 0;
	r->scanned = 0;
	hf_error_clear(&r->err);
	if (cc != CURLE_OK) {
		r->rc = transport_error(c, r, cc);
		return;
	}
	if (r->scan && c->tx_done && r->status >= 200 && r->status <= 299 &&
	    r->scan(r->user, r->resp.ptr ? r->resp.ptr : "", r->resp.len,
	            c->tx_payload)) {
		r->scanned = 1;
		return;
	}
	if (r->kind == CREQ_REST && r->resp.len == 0)
		j = json_null(); /* 204, or a 2xx with an empty body */
	else
		/* a key given twice is no answer: which one is meant? */
		j = json_loadb(r->resp.ptr, r->resp.len,
		               JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (r->status < 200 || r->status > 299)
		settle_status(c, r, j);
	else if (!j)
		r->rc = client_error(c, &r->err, HF_ESERVER,
		                     "invalid JSON answer from %s: %s",
		                     c->address, jerr.text);
	else if (r->kind == CREQ_REST)
		r->data = json_incref(j);
	else if (!json_is_object(j))
		r->rc = client_error(
		        c, &r->err, HF_ESERVER,
		        "invalid JSON answer from %s: not a GraphQL response",
		        c->address);
	else
		graphql_ok(c, r, j);
	json_decref(j);
}
