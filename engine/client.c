/*
 * libcurl lives here and nowhere else. One multi handle, driven by the
 * calling thread; its connection cache gives keep-alive across requests.
 */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "hf/client.h"
#include "hf/banned.h"

struct hf_client {
	struct hf_client_options o;
	char *address;
	char *branch;
	char *token_header;
	CURLM *multi;
	struct hf_client_stats stats;
	unsigned seed;
};

struct xfer {
	CURL *easy;
	struct curl_slist *hdrs;
	char *body;
	hf_buf resp;
	size_t call;
	int attempt;
	int active;
	char errbuf[CURL_ERROR_SIZE];
};

int hf_client_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : HF_ERR;
}

void hf_client_global_cleanup(void)
{
	curl_global_cleanup();
}

int hf_client_new(hf_client **out, const struct hf_client_options *o,
		  hf_error *err)
{
	hf_client *c;
	hf_buf h = HF_BUF_INIT;

	*out = NULL;
	if (!o->address || (strncmp(o->address, "http://", 7) &&
			    strncmp(o->address, "https://", 8)))
		return hf_error_set(err, HF_EINVAL,
				    "address '%s' must start with http:// or https://",
				    o->address ? o->address : "");
	c = hf_calloc(1, sizeof(*c));
	if (!c)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	c->o = *o;
	c->address = hf_strdup(o->address);
	c->branch = hf_strdup(o->branch ? o->branch : "main");
	if (o->token) {
		hf_buf_addf(&h, "X-INFRAHUB-KEY: %s", o->token);
		c->token_header = hf_buf_detach(&h);
	}
	c->multi = curl_multi_init();
	c->seed = (unsigned)time(NULL);
	if (!c->address || !c->branch || !c->multi ||
	    (o->token && !c->token_header)) {
		hf_client_free(c);
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	if (c->o.parallelism < 1)
		c->o.parallelism = 1;
	curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
			  (long)c->o.parallelism);
	curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	*out = c;
	return 0;
}

void hf_client_free(hf_client *c)
{
	if (!c)
		return;
	if (c->multi)
		curl_multi_cleanup(c->multi);
	hf_free(c->address);
	hf_free(c->branch);
	if (c->token_header) {
		/* the token leaves no copy behind in freed memory */
		memset(c->token_header, 0, strlen(c->token_header));
		hf_free(c->token_header);
	}
	hf_free(c);
}

void hf_client_stats(const hf_client *c, struct hf_client_stats *out)
{
	*out = c->stats;
}

static size_t on_data(char *p, size_t size, size_t n, void *payload)
{
	hf_buf *b = payload;

	if (hf_buf_addn(b, p, size * n) < 0)
		return 0; /* over the cap: curl fails the transfer */
	return size * n;
}

static int xfer_setup(hf_client *c, struct xfer *x, const char *url,
		      const char *body)
{
	x->easy = curl_easy_init();
	if (!x->easy)
		return HF_ENOMEM;
	x->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	x->hdrs = curl_slist_append(x->hdrs, "Accept: application/json");
	if (c->token_header)
		x->hdrs = curl_slist_append(x->hdrs, c->token_header);
	hf_buf_release(&x->resp);
	hf_buf_init(&x->resp, c->o.max_response);
	x->errbuf[0] = '\0';
	curl_easy_setopt(x->easy, CURLOPT_URL, url);
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, &x->resp);
	curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(x->easy, CURLOPT_TIMEOUT, c->o.timeout);
	curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT, c->o.connect_timeout);
	curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->easy, CURLOPT_USERAGENT, "hubform/" HF_VERSION);
	curl_easy_setopt(x->easy, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(x->easy, CURLOPT_SSL_VERIFYPEER, c->o.insecure ? 0L : 1L);
	curl_easy_setopt(x->easy, CURLOPT_SSL_VERIFYHOST, c->o.insecure ? 0L : 2L);
	if (body) {
		curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	return 0;
}

static void xfer_end(hf_client *c, struct xfer *x)
{
	if (x->easy) {
		curl_multi_remove_handle(c->multi, x->easy);
		curl_easy_cleanup(x->easy);
	}
	curl_slist_free_all(x->hdrs);
	x->easy = NULL;
	x->hdrs = NULL;
	x->active = 0;
}

/* A message out of an Infrahub error body, whatever its shape. */
static void error_message(const json_t *j, char *out, size_t n)
{
	json_t *errs = json_object_get(j, "errors"), *e;
	hf_buf b = HF_BUF_INIT;
	size_t i;

	json_array_foreach(errs, i, e)
	{
		const char *m = json_is_string(e) ?
					json_string_value(e) :
					json_string_value(json_object_get(e, "message"));

		hf_buf_addf(&b, "%s%s", i ? " | " : "", m ? m : "?");
	}
	if (!b.len && json_object_get(j, "detail"))
		hf_buf_add(&b, "schema validation failed (422)");
	snprintf(out, n, "%s", b.len && !hf_buf_failed(&b) ? b.ptr : "no message");
	hf_buf_release(&b);
}

static int retryable(CURLcode cc, long status)
{
	return cc != CURLE_OK ? cc != CURLE_WRITE_ERROR :
				status >= 500 || status == 429;
}

static void backoff(hf_client *c, int attempt)
{
	long ms = c->o.backoff_ms << (attempt < 10 ? attempt : 10);
	struct timespec ts;

	ms = ms > 10000 ? 10000 : ms;
	ms = ms / 2 + (long)(rand_r(&c->seed) % (unsigned)(ms / 2 + 1));
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

/* Fill a call's result from a finished transfer. */
static void finish_call(hf_client *c, struct hf_gql_call *call,
			struct xfer *x, CURLcode cc, long status)
{
	char msg[400];
	json_t *j;

	if (cc != CURLE_OK) {
		call->rc = hf_error_set(&call->err, HF_ENET, "%s: %s", c->address,
					x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc));
		return;
	}
	j = json_loads(x->resp.ptr, JSON_DECODE_ANY, NULL);
	if (!json_is_object(j)) {
		call->rc = hf_error_set(&call->err, HF_ESERVER,
					"invalid JSON answer from %s (HTTP %ld)",
					c->address, status);
		json_decref(j);
		return;
	}
	error_message(j, msg, sizeof(msg));
	if (status == 401 || status == 403)
		call->rc = hf_error_set(&call->err, HF_EAUTH, "%s: %s",
					c->address, msg);
	else if (status == 404)
		call->rc = hf_error_set(&call->err, HF_ENOTFOUND, "%s",
					strstr(msg, "Branch") ? msg : "not found");
	else if (status != 200)
		call->rc = hf_error_set(&call->err, HF_ESERVER, "HTTP %ld from %s: %s",
					status, c->address, msg);
	else if (!json_is_object(json_object_get(j, "data")) &&
		 !json_object_get(j, "errors"))
		call->rc = hf_error_set(&call->err, HF_ESERVER,
					"invalid GraphQL answer from %s", c->address);
	if (call->rc == 0) {
		call->data = json_incref(json_object_get(j, "data"));
		if (json_is_null(call->data)) {
			json_decref(call->data);
			call->data = NULL;
		}
		call->errors = json_incref(json_object_get(j, "errors"));
	}
	json_decref(j);
}

static int start(hf_client *c, struct xfer *x, struct hf_gql_call *call,
		 const char *url)
{
	json_t *body = json_pack("{s:s}", "query", call->query);
	int rc;

	if (!body)
		return HF_ENOMEM;
	if (call->vars)
		json_object_set(body, "variables", call->vars);
	hf_free(x->body);
	x->body = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (!x->body)
		return HF_ENOMEM;
	rc = xfer_setup(c, x, url, x->body);
	if (rc < 0)
		return rc;
	c->stats.requests++;
	x->active = 1;
	return curl_multi_add_handle(c->multi, x->easy) == CURLM_OK ? 0 : HF_ENOMEM;
}

static int graphql_url(hf_client *c, hf_buf *url)
{
	char *b = curl_easy_escape(NULL, c->branch, 0);

	if (!b)
		return HF_ENOMEM;
	hf_buf_addf(url, "%s/graphql/%s", c->address, b);
	curl_free(b);
	return hf_buf_failed(url) ? HF_ENOMEM : 0;
}

/* Take finished transfers; restart retryable ones. */
static int reap(hf_client *c, struct xfer *xs, struct hf_gql_call *calls,
		const char *url, size_t *done)
{
	CURLMsg *m;
	int left, rc = 0;
	long status;
	size_t i;

	while ((m = curl_multi_info_read(c->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		for (i = 0; xs[i].easy != m->easy_handle; i++)
			;
		status = 0;
		curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
		CURLcode cc = m->data.result;

		c->stats.bytes += (long long)xs[i].resp.len;
		if (retryable(cc, status) && xs[i].attempt < c->o.retries) {
			xs[i].attempt++;
			c->stats.retries++;
			xfer_end(c, &xs[i]);
			backoff(c, xs[i].attempt);
			rc = start(c, &xs[i], &calls[xs[i].call], url);
			if (rc < 0)
				return rc;
			continue;
		}
		finish_call(c, &calls[xs[i].call], &xs[i], cc, status);
		xfer_end(c, &xs[i]);
		(*done)++;
	}
	return 0;
}

int hf_client_batch(void *client, struct hf_gql_call *calls, size_t n,
		    hf_error *err)
{
	hf_client *c = client;
	size_t slots = (size_t)c->o.parallelism, next = 0, done = 0, i;
	struct xfer *xs = hf_calloc(slots, sizeof(*xs));
	hf_buf url = HF_BUF_INIT;
	int rc = 0, running;

	if (!xs || graphql_url(c, &url) < 0) {
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
		goto out;
	}
	while (rc == 0 && done < n) {
		for (i = 0; i < slots && next < n && rc == 0; i++) {
			if (xs[i].active)
				continue;
			memset(&calls[next].err, 0, sizeof(calls[next].err));
			xs[i].call = next++;
			xs[i].attempt = 0;
			rc = start(c, &xs[i], &calls[xs[i].call], url.ptr);
		}
		if (rc == 0 && curl_multi_perform(c->multi, &running) != CURLM_OK)
			rc = HF_ENET;
		if (rc == 0)
			rc = reap(c, xs, calls, url.ptr, &done);
		if (rc == 0 && done < n)
			curl_multi_poll(c->multi, NULL, 0, 100, NULL);
	}
	if (rc < 0)
		rc = hf_error_set(err, rc, "%s", rc == HF_ENOMEM ? "out of memory" :
				  "network failure talking to Infrahub");
out:
	for (i = 0; xs && i < slots; i++) {
		xfer_end(c, &xs[i]);
		hf_buf_release(&xs[i].resp);
		hf_free(xs[i].body);
	}
	hf_free(xs);
	hf_buf_release(&url);
	return rc;
}

/* One REST request, run to completion (with retries). */
static int rest(hf_client *c, const char *path, const json_t *body,
		json_t **out, long *status, hf_error *err)
{
	struct hf_gql_call call;
	struct xfer x;
	hf_buf url = HF_BUF_INIT;
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	CURLcode cc = CURLE_OK;
	char msg[400];
	int rc = 0, attempt;

	memset(&x, 0, sizeof(x));
	memset(&call, 0, sizeof(call));
	*out = NULL;
	*status = 0;
	hf_buf_addf(&url, "%s%s", c->address, path);
	for (attempt = 0; rc == 0; attempt++) {
		rc = xfer_setup(c, &x, url.ptr, text);
		if (rc < 0)
			break;
		c->stats.requests++;
		cc = curl_easy_perform(x.easy);
		*status = 0;
		curl_easy_getinfo(x.easy, CURLINFO_RESPONSE_CODE, status);
		if (!retryable(cc, *status) || attempt >= c->o.retries)
			break;
		c->stats.retries++;
		curl_slist_free_all(x.hdrs);
		curl_easy_cleanup(x.easy);
		x.easy = NULL;
		x.hdrs = NULL;
		backoff(c, attempt + 1);
	}
	if (rc < 0)
		rc = hf_error_set(err, rc, "out of memory");
	else if (cc != CURLE_OK)
		rc = hf_error_set(err, HF_ENET, "%s: %s", c->address,
				  x.errbuf[0] ? x.errbuf : curl_easy_strerror(cc));
	else if (!(*out = json_loads(x.resp.ptr, JSON_DECODE_ANY, NULL)))
		rc = hf_error_set(err, HF_ESERVER, "invalid JSON answer from %s%s (HTTP %ld)",
				  c->address, path, *status);
	else if (*status == 401 || *status == 403) {
		error_message(*out, msg, sizeof(msg));
		rc = hf_error_set(err, HF_EAUTH, "%s: %s", c->address, msg);
	}
	if (x.easy)
		curl_easy_cleanup(x.easy);
	curl_slist_free_all(x.hdrs);
	hf_buf_release(&x.resp);
	hf_buf_release(&url);
	hf_free(text);
	if (rc < 0) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

int hf_client_get(hf_client *c, const char *path, json_t **out, long *status,
		  hf_error *err)
{
	return rest(c, path, NULL, out, status, err);
}

int hf_client_post_json(hf_client *c, const char *path, const json_t *body,
			json_t **out, long *status, hf_error *err)
{
	return rest(c, path, body, out, status, err);
}
