/*
 * The client's life cycle, request construction and the simple calls.
 * libcurl lives in engine/client*.c and nowhere else; the multi loop is in
 * client_run.c, the reading of answers in client_answer.c.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "client_int.h"
#include "hf/alloc.h"
#include "hf/buf.h"
#include "hf/banned.h"

int hf_client_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_ALL) == CURLE_OK ? 0 : HF_ERR;
}

void hf_client_global_cleanup(void)
{
	curl_global_cleanup();
}

uint64_t client_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Whether `a` is an address we accept; the reason goes to `err`. */
static int check_address(const char *a, hf_error *err)
{
	const char *host, *end;
	size_t i;

	if (!a || !*a)
		return hf_error_set(err, HF_EINVAL,
		                    "no Infrahub address given");
	if (!strncasecmp(a, "http://", 7))
		host = a + 7;
	else if (!strncasecmp(a, "https://", 8))
		host = a + 8;
	else
		return hf_error_set(
		        err, HF_EINVAL,
		        "address must start with http:// or https://");
	for (i = 0; a[i]; i++) {
		if ((unsigned char)a[i] <= ' ' || a[i] == 0x7f)
			return hf_error_set(
			        err, HF_EINVAL,
			        "address must not contain spaces or control characters");
		if (a[i] == '?' || a[i] == '#')
			return hf_error_set(
			        err, HF_EINVAL,
			        "address must not have a query or fragment");
	}
	end = host + strcspn(host, "/");
	if (end == host)
		return hf_error_set(err, HF_EINVAL, "address has no host");
	if (memchr(host, '@', (size_t)(end - host)))
		return hf_error_set(
		        err, HF_EINVAL,
		        "address must not carry credentials; use the API token");
	return 0;
}

static int build_headers(hf_client *c)
{
	static const char *const fixed[] = {
		"Content-Type: application/json", "Accept: application/json",
		"Expect:", /* no 100-continue round trip for big bodies */
	};
	struct curl_slist *l;
	hf_buf h = HF_BUF_INIT;
	size_t i;
	int rc = 0;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		l = curl_slist_append(c->headers, fixed[i]);
		if (!l)
			return HF_ENOMEM;
		c->headers = l;
	}
	if (!c->token)
		return 0;
	if (hf_buf_addf(&h, "X-INFRAHUB-KEY: %s", c->token) < 0) {
		rc = HF_ENOMEM;
		goto out;
	}
	l = curl_slist_append(c->headers, h.ptr);
	if (!l)
		rc = HF_ENOMEM;
	else
		c->headers = l;
out:
	if (h.len)
		memset(h.ptr, 0, h.len); /* leave no copy of the token behind */
	hf_buf_release(&h);
	return rc;
}

static void copy_numbers(hf_client *c, const struct hf_client_options *o)
{
	c->connect_timeout_ms =
	        o->connect_timeout > 0 ? o->connect_timeout * 1000 : 10000;
	c->timeout_ms = o->timeout > 0 ? o->timeout * 1000 : 60000;
	c->retries = o->retries > 0 ? o->retries : 0;
	c->backoff_ms = o->backoff_ms > 0 ? o->backoff_ms : 0;
	c->backoff_max_ms = o->backoff_max_ms > 0 ? o->backoff_max_ms : 10000;
	c->parallelism = o->parallelism > 0 ? (size_t)o->parallelism : 1;
	c->max_response =
	        o->max_response ? o->max_response : (size_t)256 * 1024 * 1024;
	c->deadline_ms = o->deadline_ms > 0 ? o->deadline_ms : 0;
	c->insecure = o->insecure;
	c->log = o->log;
	c->log_payload = o->log_payload;
	c->https = !strncasecmp(o->address, "https://", 8);
	c->rng = client_now_ms() ^ (uint64_t)(uintptr_t)c ^ 0x9e3779b97f4a7c15u;
}

static int setup_multi(hf_client *c)
{
	long n = (long)c->parallelism;

	c->multi = curl_multi_init();
	if (!c->multi)
		return HF_ENOMEM;
	curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, n);
	curl_multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, n);
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, n);
	curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	return 0;
}

int hf_client_new(hf_client **out, const struct hf_client_options *o,
                  hf_error *err)
{
	hf_client *c = NULL;
	size_t n;
	int rc;

	assert(o);
	*out = NULL;
	rc = check_address(o->address, err);
	if (rc < 0)
		return rc;
	if (o->branch && !*o->branch)
		return hf_error_set(err, HF_EINVAL, "empty default branch");
	c = hf_calloc(1, sizeof(*c));
	if (!c)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	c->tr.ops = &client_tx_ops;
	c->queue_tail = &c->queue;
	copy_numbers(c, o);
	c->address = hf_strdup(o->address);
	c->branch = hf_strdup(o->branch ? o->branch : "main");
	c->token = o->token && *o->token ? hf_strdup(o->token) : NULL;
	c->ca_file = o->ca_file ? hf_strdup(o->ca_file) : NULL;
	c->pool = hf_calloc(c->parallelism, sizeof(*c->pool));
	rc = client_auth_init(c, o, err);
	if (rc < 0) {
		hf_client_free(c);
		return rc;
	}
	if (!c->address || !c->branch || (o->token && *o->token && !c->token) ||
	    (o->ca_file && !c->ca_file) || !c->pool || build_headers(c) < 0 ||
	    setup_multi(c) < 0) {
		hf_client_free(c);
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	n = strlen(c->address);
	while (n > 0 && c->address[n - 1] == '/')
		c->address[--n] = '\0';
	*out = c;
	return 0;
}

void creq_free(struct creq *r)
{
	if (!r)
		return;
	hf_free(r->url);
	hf_free(r->body);
	hf_free(r->branch);
	hf_buf_release(&r->resp);
	curl_slist_free_all(r->hdrs);
	json_decref(r->data);
	json_decref(r->errors);
	hf_free(r);
}

void hf_client_free(hf_client *c)
{
	size_t i;

	if (!c)
		return;
	assert(!c->running);
	client_drop_all(c);
	for (i = 0; i < c->npool; i++)
		curl_easy_cleanup(c->pool[i]);
	if (c->multi)
		curl_multi_cleanup(c->multi);
	curl_slist_free_all(c->headers);
	if (c->token) {
		memset(c->token, 0, strlen(c->token));
		hf_free(c->token);
	}
	client_auth_free(c);
	hf_free(c->pool);
	hf_free(c->address);
	hf_free(c->branch);
	hf_free(c->ca_file);
	hf_free(c);
}

const char *hf_client_address(const hf_client *c)
{
	return c->address;
}

int hf_client_set_branch(hf_client *c, const char *branch)
{
	char *b;

	if (!branch || !*branch)
		return HF_EINVAL;
	b = hf_strdup(branch);
	if (!b)
		return HF_ENOMEM;
	hf_free(c->branch);
	c->branch = b;
	return 0;
}

const char *hf_client_branch(const hf_client *c)
{
	return c->branch;
}

void hf_client_stats(const hf_client *c, struct hf_client_stats *out)
{
	*out = c->stats;
}

char *hf_client_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	hf_buf b = HF_BUF_INIT;
	unsigned char ch;

	for (; *s; s++) {
		ch = (unsigned char)*s;
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
		    ch == '_' || ch == '~') {
			hf_buf_addch(&b, (char)ch);
			continue;
		}
		hf_buf_addch(&b, '%');
		hf_buf_addch(&b, hex[ch >> 4]);
		hf_buf_addch(&b, hex[ch & 15]);
	}
	return hf_buf_detach(&b);
}

void client_event(hf_client *c, const struct creq *r,
                  enum hf_client_event_type type, long delay_ms)
{
	struct hf_client_event ev;

	if (!c->log)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.method = r->method;
	ev.url = r->url;
	ev.attempt = r->attempts;
	ev.status = r->status;
	ev.delay_ms = delay_ms;
	if (type != HF_CLIENT_EV_SEND && r->rc < 0)
		ev.msg = r->err.msg;
	if (type == HF_CLIENT_EV_DONE && r->started_ms)
		ev.seconds = (double)(client_now_ms() - r->started_ms) / 1000.0;
	c->log(c->log_payload, &ev);
}

void client_enqueue(hf_client *c, struct creq *r)
{
	r->next = NULL;
	*c->queue_tail = r;
	c->queue_tail = &r->next;
}

/*
 * Reads are safe to repeat. Anything else (a mutation, a subscription, a
 * document we cannot classify) is a write until the caller says otherwise.
 */
static int is_read(const char *q)
{
	for (;;) {
		q += strspn(q, " \t\r\n,\xef\xbb\xbf");
		if (*q != '#')
			break;
		q += strcspn(q, "\r\n");
	}
	if (*q == '{')
		return 1;
	return !strncmp(q, "query", 5) &&
	       !(q[5] == '_' || (q[5] >= '0' && q[5] <= '9') ||
	         (q[5] >= 'A' && q[5] <= 'Z') || (q[5] >= 'a' && q[5] <= 'z'));
}

/* The body {"query": ..., "variables": ...}, into r->body. */
static int gql_body(struct creq *r, const char *query, const json_t *vars)
{
	json_t *q = json_string(query);
	char *qs = NULL, *vs = NULL;
	hf_buf b = HF_BUF_INIT;
	int rc = HF_ENOMEM;

	if (!q)
		goto out;
	qs = json_dumps(q, JSON_COMPACT | JSON_ENCODE_ANY);
	vs = vars ? json_dumps(vars, JSON_COMPACT) : NULL;
	if (!qs || (vars && !vs))
		goto out;
	hf_buf_addf(&b, "{\"query\":%s", qs);
	if (vs)
		hf_buf_addf(&b, ",\"variables\":%s", vs);
	hf_buf_addch(&b, '}');
	r->body_len = b.len;
	r->body = hf_buf_detach(&b);
	if (r->body)
		rc = 0;
out:
	json_decref(q);
	hf_free(qs);
	hf_free(vs);
	hf_buf_release(&b);
	return rc;
}

static int gql_url(hf_client *c, struct creq *r, int server_default)
{
	char *seg = hf_client_escape(r->branch);
	hf_buf b = HF_BUF_INIT;

	if (!seg)
		return HF_ENOMEM;
	if (server_default)
		hf_buf_addf(&b, "%s/graphql", c->address);
	else
		hf_buf_addf(&b, "%s/graphql/%s", c->address, seg);
	hf_free(seg);
	r->url = hf_buf_detach(&b);
	return r->url ? 0 : HF_ENOMEM;
}

int client_gql_request(hf_client *c, struct creq **out,
                       const struct gql_args *q, hf_error *err)
{
	struct creq *r;

	*out = NULL;
	if (!q->query)
		return hf_error_set(err, HF_EINVAL, "no GraphQL query");
	if (q->variables && !json_is_object(q->variables))
		return hf_error_set(err, HF_EINVAL,
		                    "GraphQL variables must be an object");
	if (q->branch && !*q->branch)
		return hf_error_set(err, HF_EINVAL, "empty branch name");
	r = hf_calloc(1, sizeof(*r));
	if (!r)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	hf_buf_init(&r->resp, c->max_response);
	r->kind = CREQ_GRAPHQL;
	r->method = "POST";
	r->user = q->user;
	r->branch = hf_strdup(q->branch ? q->branch : c->branch);
	if (q->flags & HF_CLIENT_NO_RETRY)
		r->retry = 0;
	else if ((q->flags & HF_CLIENT_RETRY) || is_read(q->query))
		r->retry = 2;
	else
		r->retry = 1;
	r->timeout_ms = q->timeout > 0 ? q->timeout * 1000 : c->timeout_ms;
	if (!r->branch ||
	    gql_url(c, r, q->flags & HF_CLIENT_SERVER_DEFAULT) < 0 ||
	    gql_body(r, q->query, q->variables) < 0) {
		creq_free(r);
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	*out = r;
	return 0;
}

int hf_client_submit(hf_client *c, const struct hf_client_request *q,
                     hf_error *err)
{
	const struct gql_args a = { q->branch, q->query, q->variables,
		                    q->user,   q->flags, q->timeout };
	struct creq *r;
	int rc;

	rc = client_gql_request(c, &r, &a, err);
	if (rc < 0)
		return rc;
	client_enqueue(c, r);
	return 0;
}

void hf_client_stop(hf_client *c)
{
	c->stopped = 1;
}

int hf_client_stopped(const hf_client *c)
{
	return c->stopped;
}
