/*
 * Tests of the HTTP client (engine/client*.c). The main vehicle is a
 * scripted peer: a thread that accepts on 127.0.0.1:0 and answers each
 * request with the next matching scripted step (status, headers, body,
 * delay, or a closed connection), recording what it received, how many
 * connections it saw at once and how many requests were in progress at
 * once. A few tests run against the real `hubform serve`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hf/alloc.h"
#include "hf/client.h"
#include "testutil.h"

/* ------------------------------------------------------------------ */
/* The scripted peer                                                   */

#define PEER_CONNS 32
#define PEER_SEEN  256
#define PEER_STEPS 32
#define PEER_INBUF 65536

struct step {
	const char *match; /* NULL: any request; else a substring of it */
	int status; /* 0: close the connection without answering */
	const char *headers; /* extra header lines, each ending in \r\n */
	const char *body;
	long delay_ms;
	size_t big; /* > 0: the body is a JSON string of this many bytes */
	int no_length; /* no Content-Length: the body ends at close */
	int used;
};

struct seen {
	char method[8];
	char path[256];
	char head[2048];
	char body[4096];
};

struct pconn {
	int fd;
	char in[PEER_INBUF];
	size_t len;
	int pending; /* a request waits for its answer */
	size_t reqlen;
	uint64_t due;
	struct step step;
};

struct peer {
	int lfd;
	int wake[2];
	pthread_t th;
	int port;
	char url[64];
	pthread_mutex_t lock;
	struct step steps[PEER_STEPS];
	size_t nsteps;
	struct step dflt;
	struct seen seen[PEER_SEEN];
	size_t nseen;
	int open, max_open, accepted;
	int busy, max_busy;
	struct pconn conns[PEER_CONNS];
};

static struct peer P;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void send_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void conn_close(struct pconn *c)
{
	if (c->fd < 0)
		return;
	close(c->fd);
	c->fd = -1;
	pthread_mutex_lock(&P.lock);
	P.open--;
	if (c->pending)
		P.busy--;
	pthread_mutex_unlock(&P.lock);
	c->pending = 0;
	c->len = 0;
}

static void answer(struct pconn *c)
{
	const struct step *s = &c->step;
	char head[1024];
	char *big = NULL;
	const char *body = s->body ? s->body : "";
	size_t blen = strlen(body);
	int n;

	if (s->big) {
		big = malloc(s->big);
		memset(big, 'x', s->big);
		big[0] = '"';
		big[s->big - 1] = '"';
		body = big;
		blen = s->big;
	}
	n = snprintf(
	        head, sizeof(head),
	        "HTTP/1.1 %d Scripted\r\nContent-Type: application/json\r\n",
	        s->status);
	if (s->no_length)
		n += snprintf(head + n, sizeof(head) - (size_t)n,
		              "Connection: close\r\n");
	else
		n += snprintf(head + n, sizeof(head) - (size_t)n,
		              "Content-Length: %zu\r\n", blen);
	snprintf(head + n, sizeof(head) - (size_t)n, "%s\r\n",
	         s->headers ? s->headers : "");
	send_all(c->fd, head, strlen(head));
	send_all(c->fd, body, blen);
	free(big);
}

static size_t content_length(const char *head)
{
	const char *p = head;

	while ((p = strchr(p, '\n'))) {
		p++;
		if (!strncasecmp(p, "Content-Length:", 15))
			return (size_t)strtoul(p + 15, NULL, 10);
	}
	return 0;
}

/* Choose the step for a request (under the lock). */
static struct step pick(const char *text)
{
	size_t i;

	for (i = 0; i < P.nsteps; i++) {
		if (P.steps[i].used)
			continue;
		if (P.steps[i].match && !strstr(text, P.steps[i].match))
			continue;
		P.steps[i].used = 1;
		return P.steps[i];
	}
	return P.dflt;
}

static void record(struct pconn *c, size_t hlen, size_t total)
{
	struct seen *s;
	char text[PEER_INBUF + 1];

	memcpy(text, c->in, total);
	text[total] = '\0';
	pthread_mutex_lock(&P.lock);
	if (P.nseen < PEER_SEEN) {
		s = &P.seen[P.nseen++];
		sscanf(text, "%7s %255s", s->method, s->path);
		snprintf(s->head, sizeof(s->head), "%.*s", (int)hlen, text);
		snprintf(s->body, sizeof(s->body), "%s", text + hlen);
	}
	c->step = pick(text);
	P.busy++;
	if (P.busy > P.max_busy)
		P.max_busy = P.busy;
	pthread_mutex_unlock(&P.lock);
	c->pending = 1;
	c->reqlen = total;
	c->due = now_ms() + (uint64_t)c->step.delay_ms;
}

static void on_readable(struct pconn *c)
{
	static const char tls_reply[] =
	        "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n"
	        "Content-Length: 0\r\n\r\n";
	ssize_t r = recv(c->fd, c->in + c->len, sizeof(c->in) - c->len - 1, 0);
	char *end;
	size_t hlen;

	if (r <= 0) {
		conn_close(c);
		return;
	}
	c->len += (size_t)r;
	if ((unsigned char)c->in[0] == 0x16) { /* a TLS ClientHello */
		send_all(c->fd, tls_reply, sizeof(tls_reply) - 1);
		conn_close(c);
		return;
	}
	c->in[c->len] = '\0';
	end = strstr(c->in, "\r\n\r\n");
	if (c->pending || !end)
		return;
	hlen = (size_t)(end + 4 - c->in);
	if (c->len >= hlen + content_length(c->in))
		record(c, hlen, hlen + content_length(c->in));
}

static void on_due(struct pconn *c)
{
	int close_it = c->step.status == 0 || c->step.no_length;

	if (c->step.status)
		answer(c);
	pthread_mutex_lock(&P.lock);
	P.busy--;
	pthread_mutex_unlock(&P.lock);
	c->pending = 0;
	memmove(c->in, c->in + c->reqlen, c->len - c->reqlen);
	c->len -= c->reqlen;
	if (close_it)
		conn_close(c);
}

static void on_accept(void)
{
	int fd = accept(P.lfd, NULL, NULL), i;

	if (fd < 0)
		return;
	for (i = 0; i < PEER_CONNS && P.conns[i].fd >= 0; i++)
		;
	if (i == PEER_CONNS) {
		close(fd);
		return;
	}
	P.conns[i].fd = fd;
	P.conns[i].len = 0;
	P.conns[i].pending = 0;
	pthread_mutex_lock(&P.lock);
	P.accepted++;
	P.open++;
	if (P.open > P.max_open)
		P.max_open = P.open;
	pthread_mutex_unlock(&P.lock);
}

static int poll_timeout(void)
{
	uint64_t now = now_ms();
	long t = -1, d;
	int i;

	for (i = 0; i < PEER_CONNS; i++) {
		if (P.conns[i].fd < 0 || !P.conns[i].pending)
			continue;
		d = P.conns[i].due <= now ? 0 : (long)(P.conns[i].due - now);
		if (t < 0 || d < t)
			t = d;
	}
	return (int)t;
}

static void *peer_main(void *arg)
{
	struct pollfd pf[PEER_CONNS + 2];
	int i;

	(void)arg;
	for (;;) {
		pf[0].fd = P.wake[0];
		pf[1].fd = P.lfd;
		for (i = 0; i < PEER_CONNS; i++)
			pf[i + 2].fd = P.conns[i].fd;
		for (i = 0; i < PEER_CONNS + 2; i++)
			pf[i].events = POLLIN;
		if (poll(pf, PEER_CONNS + 2, poll_timeout()) < 0 &&
		    errno != EINTR)
			break;
		if (pf[0].revents)
			break;
		/* closes before accepts, so a replaced connection is gone */
		for (i = 0; i < PEER_CONNS; i++) {
			if (P.conns[i].fd >= 0 && pf[i + 2].fd >= 0 &&
			    (pf[i + 2].revents & (POLLIN | POLLHUP | POLLERR)))
				on_readable(&P.conns[i]);
			if (P.conns[i].fd >= 0 && P.conns[i].pending &&
			    P.conns[i].due <= now_ms())
				on_due(&P.conns[i]);
		}
		if (pf[1].revents & POLLIN)
			on_accept();
	}
	return NULL;
}

static int listen_any(int *port)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static int peer_setup(void **state)
{
	int i;

	(void)state;
	memset(&P, 0, sizeof(P));
	pthread_mutex_init(&P.lock, NULL);
	for (i = 0; i < PEER_CONNS; i++)
		P.conns[i].fd = -1;
	P.dflt.status = 200;
	P.dflt.body = "{\"data\":{\"ok\":true}}";
	P.lfd = listen_any(&P.port);
	if (P.lfd < 0 || pipe(P.wake) < 0)
		return -1;
	snprintf(P.url, sizeof(P.url), "http://127.0.0.1:%d", P.port);
	return pthread_create(&P.th, NULL, peer_main, NULL) ? -1 : 0;
}

static int peer_teardown(void **state)
{
	int i;

	(void)state;
	if (write(P.wake[1], "x", 1) != 1)
		return -1;
	pthread_join(P.th, NULL);
	for (i = 0; i < PEER_CONNS; i++)
		conn_close(&P.conns[i]);
	close(P.lfd);
	close(P.wake[0]);
	close(P.wake[1]);
	pthread_mutex_destroy(&P.lock);
	return 0;
}

static void script(struct step s)
{
	pthread_mutex_lock(&P.lock);
	assert_true(P.nsteps < PEER_STEPS);
	P.steps[P.nsteps++] = s;
	pthread_mutex_unlock(&P.lock);
}

static size_t seen_count(void)
{
	size_t n;

	pthread_mutex_lock(&P.lock);
	n = P.nseen;
	pthread_mutex_unlock(&P.lock);
	return n;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

#define TOKEN "sekrit-token-42"

static struct hf_client_options opts(void)
{
	struct hf_client_options o = HF_CLIENT_OPTIONS_INIT;

	o.address = P.url;
	o.token = TOKEN;
	o.backoff_ms = 1;
	o.backoff_max_ms = 5;
	o.timeout = 10;
	return o;
}

static hf_client *client_with(const struct hf_client_options *o)
{
	hf_client *c = NULL;
	hf_error err = HF_ERROR_INIT;

	assert_int_equal(hf_client_new(&c, o, &err), 0);
	assert_non_null(c);
	return c;
}

static hf_client *client(void)
{
	struct hf_client_options o = opts();

	return client_with(&o);
}

static int gql(hf_client *c, const char *branch, const char *q, json_t **data,
               json_t **errors, hf_error *err)
{
	return hf_client_graphql(c, branch, q, NULL, data, errors, err);
}

static void assert_no_token(const char *s)
{
	assert_null(strstr(s, TOKEN));
}

/* Outcomes collected by a batch callback. */
struct outcome {
	int tag;
	int rc;
	int attempts;
	long status;
	char msg[1024];
	uint64_t at;
};

struct collect {
	struct outcome o[64];
	size_t n;
	int stop_after; /* > 0: stop after this many completions */
	int follow_ups; /* submit this many more after the first */
	int tags[64];
};

static void on_done(hf_client *c, const struct hf_client_result *r,
                    void *payload)
{
	struct collect *col = payload;
	struct outcome *o = &col->o[col->n++];
	struct hf_client_request q = HF_CLIENT_REQUEST_INIT;
	int i;

	o->tag = *(int *)r->user;
	o->rc = r->rc;
	o->attempts = r->attempts;
	o->status = r->status;
	o->at = now_ms();
	snprintf(o->msg, sizeof(o->msg), "%s", r->err->msg);
	assert_true(r->rc < 0 || json_is_object(r->data));
	if (col->stop_after && (int)col->n == col->stop_after)
		hf_client_stop(c);
	for (i = 0; i < col->follow_ups; i++) {
		col->tags[10 + i] = 10 + i;
		q.query = "query Page { page }";
		q.user = &col->tags[10 + i];
		assert_int_equal(hf_client_submit(c, &q, NULL), 0);
	}
	col->follow_ups = 0;
}

static void submit_n(hf_client *c, struct collect *col, int n,
                     const char *query)
{
	struct hf_client_request q = HF_CLIENT_REQUEST_INIT;
	int i;

	for (i = 0; i < n; i++) {
		col->tags[i] = i;
		q.query = query;
		q.user = &col->tags[i];
		assert_int_equal(hf_client_submit(c, &q, NULL), 0);
	}
}

/* ------------------------------------------------------------------ */
/* Options                                                             */

static void test_client__address_validation(void **state)
{
	struct hf_client_options o = HF_CLIENT_OPTIONS_INIT;
	hf_error err = HF_ERROR_INIT;
	hf_client *c = (hf_client *)1;

	(void)state;
	o.address = "ftp://example.com";
	assert_int_equal(hf_client_new(&c, &o, &err), HF_EINVAL);
	assert_null(c);
	assert_non_null(strstr(err.msg, "http:// or https://"));
	o.address = "localhost:8000";
	assert_int_equal(hf_client_new(&c, &o, &err), HF_EINVAL);
	o.address = "http://";
	assert_int_equal(hf_client_new(&c, &o, &err), HF_EINVAL);
	o.address = "http://user:" TOKEN "@host";
	assert_int_equal(hf_client_new(&c, &o, &err), HF_EINVAL);
	assert_no_token(err.msg);
	o.address = "http://host/x?y=1";
	assert_int_equal(hf_client_new(&c, &o, &err), HF_EINVAL);
	o.address = "https://infrahub.example.com:8443///";
	assert_int_equal(hf_client_new(&c, &o, &err), 0);
	assert_string_equal(hf_client_address(c),
	                    "https://infrahub.example.com:8443");
	assert_string_equal(hf_client_branch(c), "main");
	hf_client_free(c);
	hf_client_free(NULL);
}

static void test_client__escape(void **state)
{
	char *e = hf_client_escape("feature/x y~_.-%");

	(void)state;
	assert_string_equal(e, "feature%2Fx%20y~_.-%25");
	hf_free(e);
}

/* ------------------------------------------------------------------ */
/* What goes on the wire                                               */

static void test_client__graphql_request_shape(void **state)
{
	hf_client *c = client();
	json_t *vars = json_pack("{s:s}", "name", "a\"b } mutation {");
	json_t *data = NULL, *errors = NULL, *body;
	hf_error err = HF_ERROR_INIT;

	(void)state;
	assert_int_equal(hf_client_graphql(c, NULL,
	                                   "query Q($name: String!) { x }",
	                                   vars, &data, &errors, &err),
	                 0);
	assert_true(json_is_true(json_object_get(data, "ok")));
	assert_null(errors);
	assert_int_equal((int)seen_count(), 1);
	assert_string_equal(P.seen[0].method, "POST");
	assert_string_equal(P.seen[0].path, "/graphql/main");
	assert_non_null(strstr(P.seen[0].head, "X-INFRAHUB-KEY: " TOKEN));
	assert_non_null(strstr(P.seen[0].head, "User-Agent: hubform/"));
	assert_non_null(
	        strstr(P.seen[0].head, "Content-Type: application/json"));
	body = json_loads(P.seen[0].body, 0, NULL);
	assert_non_null(body);
	/* values travel as variables, the query text is untouched */
	assert_string_equal(json_string_value(json_object_get(body, "query")),
	                    "query Q($name: String!) { x }");
	assert_true(json_equal(json_object_get(body, "variables"), vars));
	json_decref(body);
	json_decref(data);
	json_decref(vars);
	hf_client_free(c);
}

static void test_client__branch_is_percent_encoded(void **state)
{
	hf_client *c = client();
	json_t *data = NULL;
	hf_error err = HF_ERROR_INIT;

	(void)state;
	assert_int_equal(gql(c, "feature/x y", "{ x }", &data, NULL, &err), 0);
	assert_string_equal(P.seen[0].path, "/graphql/feature%2Fx%20y");
	json_decref(data);
	hf_client_free(c);
}

static void test_client__default_branch_option(void **state)
{
	struct hf_client_options o = opts();
	hf_client *c;
	json_t *data = NULL;

	(void)state;
	o.branch = "dev/1";
	c = client_with(&o);
	assert_int_equal(gql(c, NULL, "{ x }", &data, NULL, NULL), 0);
	assert_string_equal(P.seen[0].path, "/graphql/dev%2F1");
	json_decref(data);
	hf_client_free(c);
}

static void test_client__rest_get_and_post(void **state)
{
	hf_client *c = client();
	json_t *out = NULL, *body = json_pack("{s:[]}", "schemas");
	hf_error err = HF_ERROR_INIT;
	long status = 0;

	(void)state;
	script((struct step){ .status = 200, .body = "{\"nodes\":[1,2]}" });
	assert_int_equal(hf_client_get(c, "/api/schema?branch=main", &out,
	                               &status, &err),
	                 0);
	assert_int_equal(status, 200);
	assert_int_equal((int)json_array_size(json_object_get(out, "nodes")),
	                 2);
	json_decref(out);
	assert_string_equal(P.seen[0].method, "GET");
	assert_string_equal(P.seen[0].path, "/api/schema?branch=main");
	assert_int_equal(hf_client_post_json(c, "/api/schema/load?branch=main",
	                                     body, &out, &status, &err),
	                 0);
	assert_string_equal(P.seen[1].method, "POST");
	assert_string_equal(P.seen[1].body, "{\"schemas\":[]}");
	json_decref(out);
	json_decref(body);
	hf_client_free(c);
}

/* ------------------------------------------------------------------ */
/* Answers                                                             */

static void test_client__partial_data_and_errors(void **state)
{
	hf_client *c = client();
	json_t *data = NULL, *errors = NULL;
	hf_error err = HF_ERROR_INIT;

	(void)state;
	script((struct step){
	        .status = 200,
	        .body = "{\"data\":{\"a\":null,\"b\":{\"ok\":true}},"
	                "\"errors\":[{\"message\":\"An object already exist\","
	                "\"path\":[\"a\"]}]}" });
	assert_int_equal(
	        gql(c, NULL, "mutation { a: X b: X }", &data, &errors, &err),
	        0);
	assert_non_null(json_object_get(data, "b"));
	assert_int_equal((int)json_array_size(errors), 1);
	json_decref(data);
	json_decref(errors);
	hf_client_free(c);
}

static void test_client__errors_without_data(void **state)
{
	hf_client *c = client();
	json_t *data = NULL, *errors = NULL;
	hf_error err = HF_ERROR_INIT;

	(void)state;
	script((struct step){ .status = 200,
	                      .body = "{\"data\":null,\"errors\":[{\"message\":"
	                              "\"boom\"},{\"message\":\"bang\"}]}" });
	assert_int_equal(gql(c, NULL, "{ x }", &data, &errors, &err),
	                 HF_ESERVER);
	assert_null(data);
	assert_int_equal((int)json_array_size(errors), 2);
	assert_string_equal(err.msg, "boom | bang");
	json_decref(errors);
	hf_client_free(c);
}

static void test_client__invalid_json(void **state)
{
	hf_client *c = client();
	json_t *data = NULL, *errors = NULL;
	hf_error err = HF_ERROR_INIT;
	char want[128];

	(void)state;
	script((struct step){ .status = 200, .body = "<html>oops" });
	script((struct step){ .status = 200, .body = "[1,2]" });
	script((struct step){ .status = 200, .body = "{\"data\":[]}" });
	script((struct step){ .status = 200, .body = "{}" });
	snprintf(want, sizeof(want), "invalid JSON answer from %s: ", P.url);
	assert_int_equal(gql(c, NULL, "{ x }", &data, &errors, &err),
	                 HF_ESERVER);
	assert_memory_equal(err.msg, want, strlen(want));
	assert_int_equal(gql(c, NULL, "{ x }", &data, &errors, &err),
	                 HF_ESERVER);
	assert_memory_equal(err.msg, want, strlen(want));
	assert_int_equal(gql(c, NULL, "{ x }", &data, &errors, &err),
	                 HF_ESERVER);
	assert_int_equal(gql(c, NULL, "{ x }", &data, &errors, &err),
	                 HF_ESERVER);
	assert_non_null(strstr(err.msg, "no data and no errors"));
	assert_null(data);
	assert_null(errors);
	hf_client_free(c);
}

static void test_client__auth_failure(void **state)
{
	hf_client *c = client();
	json_t *data = NULL, *out = NULL;
	hf_error err = HF_ERROR_INIT;
	long status;

	(void)state;
	script((struct step){
	        .status = 401,
	        .body = "{\"data\":null,\"errors\":[{\"message\":\"Authentication "
	                "is required to perform this operation\",\"extensions\":"
	                "{\"code\":401}}]}" });
	script((struct step){
	        .status = 403,
	        .body = "{\"errors\":[{\"message\":\"no\"},{\"message\":\"never\"}]}" });
	assert_int_equal(gql(c, NULL, "{ x }", &data, NULL, &err), HF_EAUTH);
	assert_non_null(strstr(err.msg, "Authentication is required to "
	                                "perform this operation"));
	assert_int_equal(hf_client_get(c, "/api/schema", &out, &status, &err),
	                 HF_EAUTH);
	assert_int_equal(status, 403);
	assert_null(out);
	assert_non_null(strstr(err.msg, "no | never"));
	assert_int_equal((int)seen_count(), 2); /* never retried */
	hf_client_free(c);
}

static void test_client__token_never_in_messages(void **state)
{
	hf_client *c = client();
	json_t *data = NULL;
	hf_error err = HF_ERROR_INIT;

	(void)state;
	script((struct step){
	        .status = 401,
	        .body = "{\"errors\":[{\"message\":\"Invalid token " TOKEN
	                " for " TOKEN "\"}]}" });
	assert_int_equal(gql(c, NULL, "{ x }", &data, NULL, &err), HF_EAUTH);
	assert_no_token(err.msg);
	assert_non_null(
	        strstr(err.msg, "Invalid token <redacted> for <redacted>"));
	assert_non_null(
	        strstr(P.seen[0].head, "X-INFRAHUB-KEY: " TOKEN "\r\n"));
	hf_client_free(c);
}

static void test_client__unknown_branch(void **state)
{
	hf_client *c = client();
	json_t *data = NULL, *errors = NULL;
	hf_error err = HF_ERROR_INIT;

	(void)state;
	script((struct step){
	        .status = 404,
	        .body = "{\"errors\": [\"Branch: feature/x not found.\"]}" });
	script((struct step){ .status = 404, .body = "<html>nope</html>" });
	assert_int_equal(gql(c, "feature/x", "{ x }", &data, &errors, &err),
	                 HF_ENOTFOUND);
	assert_string_equal(err.msg, "branch 'feature/x' not found");
	assert_int_equal((int)json_array_size(errors), 1);
	json_decref(errors);
	assert_int_equal(gql(c, "main", "{ x }", &data, &errors, &err),
	                 HF_ENOTFOUND);
	assert_non_null(strstr(err.msg, "no GraphQL endpoint"));
	json_decref(errors);
	hf_client_free(c);
}

static void test_client__other_4xx(void **state)
{
	hf_client *c = client();
	json_t *data = NULL, *errors = NULL, *out = NULL, *body;
	hf_error err = HF_ERROR_INIT;
	long status;

	(void)state;
	script((struct step){
	        .status = 400,
	        .body = "{\"errors\": [\"This server does not support batching\"]}" });
	script((struct step){
	        .status = 422,
	        .body = "{\"detail\":[{\"type\":\"missing\",\"loc\":[\"body\","
	                "\"schemas\",0],\"msg\":\"Field required\"}]}" });
	assert_int_equal(gql(c, NULL, "{ x }", &data, &errors, &err),
	                 HF_ESERVER);
	assert_non_null(strstr(err.msg, "HTTP 400"));
	assert_non_null(
	        strstr(err.msg, "This server does not support batching"));
	json_decref(errors);
	body = json_pack("{}");
	assert_int_equal(hf_client_post_json(c, "/api/schema/load", body, &out,
	                                     &status, &err),
	                 HF_ESERVER);
	assert_int_equal(status, 422);
	assert_non_null(strstr(err.msg, "Field required at body.schemas.0"));
	json_decref(body);
	assert_int_equal((int)seen_count(), 2);
	hf_client_free(c);
}

static void test_client__oversize_answer(void **state)
{
	struct hf_client_options o = opts();
	hf_client *c;
	json_t *out = NULL;
	hf_error err = HF_ERROR_INIT;
	long status;

	(void)state;
	o.max_response = 1024;
	c = client_with(&o);
	script((struct step){ .status = 200, .big = 1024 });
	script((struct step){ .status = 200, .big = 1025 });
	script((struct step){ .status = 200, .big = 100000, .no_length = 1 });
	assert_int_equal(hf_client_get(c, "/a", &out, &status, &err), 0);
	assert_int_equal((int)json_string_length(out), 1022);
	json_decref(out);
	assert_int_equal(hf_client_get(c, "/b", &out, &status, &err),
	                 HF_ESERVER);
	assert_non_null(strstr(err.msg, "bigger than 1024 bytes"));
	assert_int_equal(hf_client_get(c, "/c", &out, &status, &err),
	                 HF_ESERVER);
	assert_non_null(strstr(err.msg, "bigger than 1024 bytes"));
	assert_null(out);
	assert_int_equal((int)seen_count(), 3); /* not retried */
	hf_client_free(c);
}

/* ------------------------------------------------------------------ */
/* Retries                                                             */

struct events {
	int send, retry, done;
	int token_seen;
};

static void on_event(void *payload, const struct hf_client_event *ev)
{
	struct events *e = payload;

	if (ev->type == HF_CLIENT_EV_SEND)
		e->send++;
	else if (ev->type == HF_CLIENT_EV_RETRY)
		e->retry++;
	else
		e->done++;
	if (strstr(ev->url, TOKEN) || (ev->msg && strstr(ev->msg, TOKEN)))
		e->token_seen = 1;
}

static void test_client__read_retried_on_503_then_ok(void **state)
{
	struct hf_client_options o = opts();
	struct hf_client_stats st;
	struct events ev = { 0, 0, 0, 0 };
	hf_client *c;
	json_t *data = NULL;
	hf_error err = HF_ERROR_INIT;

	(void)state;
	o.log = on_event;
	o.log_payload = &ev;
	c = client_with(&o);
	/*
	 * Connection: close, so that the next attempt is on a new connection
	 * (libcurl itself re-sends on a reused one that dies unanswered).
	 */
	script((struct step){ .status = 503,
	                      .body = "{\"errors\":[]}",
	                      .headers = "Connection: close\r\n" });
	script((struct step){ .status = 0 }); /* closed without an answer */
	script((struct step){ .status = 502, .body = "bad gateway" });
	assert_int_equal(gql(c, NULL, "query { x }", &data, NULL, &err), 0);
	assert_non_null(data);
	json_decref(data);
	hf_client_stats(c, &st);
	assert_int_equal(st.requests, 4);
	assert_int_equal(st.retries, 3);
	assert_true(st.bytes > 0);
	assert_int_equal(ev.send, 4);
	assert_int_equal(ev.retry, 3);
	assert_int_equal(ev.done, 1);
	assert_int_equal(ev.token_seen, 0);
	hf_client_free(c);
}

static void test_client__retries_exhausted(void **state)
{
	hf_client *c = client();
	json_t *data = NULL;
	hf_error err = HF_ERROR_INIT;
	int i;

	(void)state;
	for (i = 0; i < 5; i++)
		script((struct step){
		        .status = 503,
		        .body = "{\"errors\":[{\"message\":\"down\"}]}" });
	assert_int_equal(gql(c, NULL, "{ x }", &data, NULL, &err), HF_ENET);
	assert_non_null(strstr(err.msg, "HTTP 503"));
	assert_non_null(strstr(err.msg, "down"));
	assert_int_equal((int)seen_count(), 4); /* 1 + retries (3) */
	hf_client_free(c);
}

static void test_client__mutation_not_retried_by_default(void **state)
{
	struct hf_client_request q = HF_CLIENT_REQUEST_INIT;
	struct collect col;
	hf_client *c = client();
	json_t *data = NULL;
	int tag = 0, tag2 = 1, tag3 = 2;

	(void)state;
	memset(&col, 0, sizeof(col));
	script((struct step){
	        .match = "first {", .status = 503, .body = "{}" });
	script((struct step){ .match = "second {", .status = 0 });
	script((struct step){ .match = "third {", .status = 503 });
	script((struct step){ .match = "third {", .status = 503 });
	/* a read first, so that a kept-alive connection is there to reuse */
	assert_int_equal(gql(c, NULL, "{ warm }", &data, NULL, NULL), 0);
	json_decref(data);
	q.query = "mutation first { X }";
	q.user = &tag;
	assert_int_equal(hf_client_submit(c, &q, NULL), 0);
	q.query = "mutation second { X }";
	q.user = &tag2;
	assert_int_equal(hf_client_submit(c, &q, NULL), 0);
	assert_int_equal(hf_client_run(c, on_done, &col, NULL), 0);
	assert_int_equal(col.n, 2);
	assert_int_equal(col.o[0].rc, HF_ENET);
	assert_int_equal(col.o[0].attempts, 1);
	assert_int_equal(col.o[1].rc, HF_ENET);
	assert_int_equal(col.o[1].attempts, 1);
	/* the write whose connection died unanswered was sent exactly once */
	assert_int_equal((int)seen_count(), 3);
	/* the caller may declare a write safe to repeat */
	q.query = "mutation third { X }";
	q.flags = HF_CLIENT_RETRY;
	q.user = &tag3;
	assert_int_equal(hf_client_submit(c, &q, NULL), 0);
	assert_int_equal(hf_client_run(c, on_done, &col, NULL), 0);
	assert_int_equal(col.o[2].rc, 0);
	assert_int_equal(col.o[2].attempts, 3);
	assert_int_equal((int)seen_count(), 6);
	hf_client_free(c);
}

static void test_client__no_retry_flag(void **state)
{
	struct hf_client_request q = HF_CLIENT_REQUEST_INIT;
	struct collect col;
	hf_client *c = client();
	int tag = 0;

	(void)state;
	memset(&col, 0, sizeof(col));
	script((struct step){ .status = 429 });
	q.query = "{ x }";
	q.user = &tag;
	q.flags = HF_CLIENT_NO_RETRY | HF_CLIENT_RETRY;
	assert_int_equal(hf_client_submit(c, &q, NULL), 0);
	assert_int_equal(hf_client_run(c, on_done, &col, NULL), 0);
	assert_int_equal(col.o[0].rc, HF_ENET);
	assert_int_equal(col.o[0].attempts, 1);
	hf_client_free(c);
}

static void test_client__429_retried_even_for_mutation(void **state)
{
	hf_client *c = client();
	json_t *data = NULL;
	hf_error err = HF_ERROR_INIT;

	(void)state;
	script((struct step){ .status = 429, .body = "{}" });
	assert_int_equal(gql(c, NULL, "mutation { X }", &data, NULL, &err), 0);
	assert_int_equal((int)seen_count(), 2);
	json_decref(data);
	hf_client_free(c);
}

static void test_client__4xx_never_retried(void **state)
{
	hf_client *c = client();
	json_t *data = NULL;
	hf_error err = HF_ERROR_INIT;

	(void)state;
	script((struct step){ .status = 409, .body = "{\"errors\":[]}" });
	assert_int_equal(gql(c, NULL, "{ x }", &data, NULL, &err), HF_ESERVER);
	assert_int_equal((int)seen_count(), 1);
	hf_client_free(c);
}

static void test_client__retry_after_honoured(void **state)
{
	hf_client *c = client();
	json_t *data = NULL;
	hf_error err = HF_ERROR_INIT;
	uint64_t t0 = now_ms();

	(void)state;
	script((struct step){ .status = 429, .headers = "Retry-After: 1\r\n" });
	assert_int_equal(gql(c, NULL, "{ x }", &data, NULL, &err), 0);
	/* the backoff alone would be at most 5 ms */
	assert_true(now_ms() - t0 >= 950);
	json_decref(data);
	hf_client_free(c);
}

/* A Retry-After beyond the request timeout is not waited for. */
static void test_client__retry_after_capped_by_timeout(void **state)
{
	struct hf_client_options o = opts();
	hf_client *c;
	json_t *data = NULL;
	hf_error err = HF_ERROR_INIT;
	uint64_t t0 = now_ms();

	(void)state;
	o.timeout = 5;
	c = client_with(&o);
	script((struct step){ .status = 429,
	                      .headers = "Retry-After: 100000\r\n" });
	assert_int_not_equal(gql(c, NULL, "{ x }", &data, NULL, &err), 0);
	assert_true(now_ms() - t0 < 4000);
	assert_non_null(strstr(
	        err.msg, "retry after 100000s, longer than the 5s timeout"));
	hf_client_free(c);
}

static void test_client__retry_wait_does_not_block_others(void **state)
{
	struct collect col;
	hf_client *c = client();
	struct hf_client_request q = HF_CLIENT_REQUEST_INIT;
	json_t *va = json_pack("{s:s}", "t", "slow"),
	       *vb = json_pack("{s:s}", "t", "fast");
	uint64_t t0 = now_ms();

	(void)state;
	memset(&col, 0, sizeof(col));
	script((struct step){ .match = "slow",
	                      .status = 503,
	                      .headers = "Retry-After: 1\r\n" });
	col.tags[0] = 0;
	col.tags[1] = 1;
	q.query = "query($t: String) { x }";
	q.variables = va;
	q.user = &col.tags[0];
	assert_int_equal(hf_client_submit(c, &q, NULL), 0);
	q.variables = vb;
	q.user = &col.tags[1];
	assert_int_equal(hf_client_submit(c, &q, NULL), 0);
	assert_int_equal(hf_client_run(c, on_done, &col, NULL), 0);
	assert_int_equal((int)col.n, 2);
	/* completion order: the fast one did not wait for the retry */
	assert_int_equal(col.o[0].tag, 1);
	assert_true(col.o[0].at - t0 < 500);
	assert_int_equal(col.o[1].tag, 0);
	assert_int_equal(col.o[1].rc, 0);
	assert_int_equal(col.o[1].attempts, 2);
	json_decref(va);
	json_decref(vb);
	hf_client_free(c);
}

static void test_client__connection_refused(void **state)
{
	struct hf_client_options o = opts();
	struct hf_client_stats st;
	struct events ev = { 0, 0, 0, 0 };
	char url[64];
	hf_client *c;
	json_t *data = NULL;
	hf_error err = HF_ERROR_INIT;
	int port, fd;

	(void)state;
	fd = listen_any(&port);
	close(fd); /* nothing listens there now */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	o.address = url;
	o.retries = 2;
	o.log = on_event;
	o.log_payload = &ev;
	c = client_with(&o);
	/* refused: never processed, so even a write is retried */
	assert_int_equal(gql(c, NULL, "mutation { X }", &data, NULL, &err),
	                 HF_ENET);
	assert_non_null(strstr(err.msg, url));
	assert_no_token(err.msg);
	hf_client_stats(c, &st);
	assert_int_equal(st.requests, 3);
	assert_int_equal(ev.token_seen, 0);
	hf_client_free(c);
}

static void test_client__timeout(void **state)
{
	struct hf_client_options o = opts();
	hf_client *c;
	json_t *data = NULL;
	hf_error err = HF_ERROR_INIT;

	(void)state;
	o.timeout = 1;
	o.retries = 0;
	c = client_with(&o);
	script((struct step){
	        .status = 200, .body = "{\"data\":{}}", .delay_ms = 3000 });
	assert_int_equal(gql(c, NULL, "{ x }", &data, NULL, &err), HF_ENET);
	assert_non_null(strstr(err.msg, "timed out"));
	assert_non_null(strstr(err.msg, P.url));
	hf_client_free(c);
}

static void test_client__tls_verification_default(void **state)
{
	struct hf_client_options o = opts();
	struct hf_client_stats st;
	char url[64];
	hf_client *c;
	json_t *data = NULL;
	hf_error err = HF_ERROR_INIT;

	(void)state;
	snprintf(url, sizeof(url), "https://127.0.0.1:%d", P.port);
	o.address = url;
	c = client_with(&o);
	assert_int_equal(gql(c, NULL, "{ x }", &data, NULL, &err), HF_ENET);
	assert_non_null(strstr(err.msg, url));
	hf_client_stats(c, &st);
	assert_int_equal(st.requests, 1); /* a TLS failure is not retried */
	hf_client_free(c);
}

/* ------------------------------------------------------------------ */
/* Batches                                                             */

static void test_client__parallelism_bound_and_keepalive(void **state)
{
	struct hf_client_options o = opts();
	struct hf_client_stats st;
	struct collect col;
	hf_client *c;
	size_t i;

	(void)state;
	memset(&col, 0, sizeof(col));
	o.parallelism = 3;
	c = client_with(&o);
	P.dflt.delay_ms = 30;
	submit_n(c, &col, 12, "{ x }");
	assert_int_equal(hf_client_run(c, on_done, &col, NULL), 0);
	assert_int_equal((int)col.n, 12);
	for (i = 0; i < col.n; i++)
		assert_int_equal(col.o[i].rc, 0);
	assert_int_equal((int)seen_count(), 12);
	assert_true(P.max_open <= 3);
	assert_true(P.max_busy <= 3);
	assert_true(P.max_busy >= 2); /* and it did run in parallel */
	assert_true(P.accepted <= 3); /* connections were kept alive */
	hf_client_stats(c, &st);
	assert_int_equal(st.requests, 12);
	assert_true(st.connections <= 3);
	/* writes on fresh connections stay within the bound too */
	memset(&col, 0, sizeof(col));
	submit_n(c, &col, 9, "mutation { X }");
	assert_int_equal(hf_client_run(c, on_done, &col, NULL), 0);
	assert_int_equal((int)col.n, 9);
	assert_true(P.max_open <= 3);
	assert_true(P.max_busy <= 3);
	assert_int_equal((int)seen_count(), 21);
	hf_client_free(c);
}

static void test_client__callback_submits_follow_ups(void **state)
{
	struct hf_client_options o = opts();
	struct collect col;
	hf_client *c;
	size_t i;

	(void)state;
	memset(&col, 0, sizeof(col));
	o.parallelism = 2;
	c = client_with(&o);
	col.follow_ups = 4;
	submit_n(c, &col, 1, "query Count { count }");
	assert_int_equal(hf_client_run(c, on_done, &col, NULL), 0);
	assert_int_equal((int)col.n, 5);
	assert_int_equal(col.o[0].tag, 0);
	for (i = 1; i < 5; i++) {
		assert_true(col.o[i].tag >= 10 && col.o[i].tag < 14);
		assert_int_equal(col.o[i].rc, 0);
	}
	assert_int_equal((int)seen_count(), 5);
	assert_non_null(strstr(P.seen[4].body, "query Page"));
	hf_client_free(c);
}

static void test_client__stop_lets_in_flight_finish(void **state)
{
	struct hf_client_options o = opts();
	struct collect col;
	hf_client *c;
	size_t i;
	int ok = 0, unsent = 0;

	(void)state;
	memset(&col, 0, sizeof(col));
	o.parallelism = 2;
	c = client_with(&o);
	P.dflt.delay_ms = 100;
	submit_n(c, &col, 6, "mutation { X }");
	col.stop_after = 1;
	assert_int_equal(hf_client_run(c, on_done, &col, NULL), 0);
	assert_int_equal((int)col.n, 6); /* one outcome per request */
	for (i = 0; i < col.n; i++) {
		if (col.o[i].rc == 0)
			ok++;
		if (col.o[i].rc == HF_ERR && col.o[i].attempts == 0 &&
		    strstr(col.o[i].msg, "not sent"))
			unsent++;
	}
	assert_int_equal(ok, 2); /* the two in flight completed */
	assert_int_equal(unsent, 4); /* nothing new started */
	assert_int_equal((int)seen_count(), 2);
	assert_int_equal(hf_client_stopped(c), 0); /* cleared for next run */
	hf_client_free(c);
}

static void test_client__deadline(void **state)
{
	struct hf_client_options o = opts();
	struct collect col;
	hf_client *c;
	hf_error err = HF_ERROR_INIT;
	uint64_t t0 = now_ms();
	size_t i;

	(void)state;
	memset(&col, 0, sizeof(col));
	o.parallelism = 2;
	o.deadline_ms = 300;
	c = client_with(&o);
	P.dflt.delay_ms = 5000;
	submit_n(c, &col, 3, "{ x }");
	assert_int_equal(hf_client_run(c, on_done, &col, &err), HF_ENET);
	assert_non_null(strstr(err.msg, "deadline exceeded"));
	assert_true(now_ms() - t0 < 3000);
	assert_int_equal((int)col.n, 3);
	for (i = 0; i < col.n; i++) {
		assert_int_equal(col.o[i].rc, HF_ENET);
		assert_non_null(strstr(col.o[i].msg, "deadline exceeded"));
	}
	hf_client_free(c);
}

static void test_client__fetch_adapter(void **state)
{
	struct hf_gql_call calls[3];
	hf_client *c = client();
	hf_error err = HF_ERROR_INIT;
	size_t i;

	(void)state;
	memset(calls, 0, sizeof(calls));
	script((struct step){ .match = "two",
	                      .status = 200,
	                      .body = "{\"data\":null,\"errors\":[{\"message\":"
	                              "\"bad\"}]}" });
	calls[0].query = "query one { x }";
	calls[1].query = "query two { x }";
	calls[2].query = "query three { x }";
	assert_int_equal(
	        hf_transport_batch(hf_client_transport(c), calls, 3, &err), 0);
	assert_int_equal(calls[0].rc, 0);
	assert_non_null(calls[0].data);
	assert_int_equal(calls[1].rc, HF_ESERVER);
	assert_string_equal(calls[1].err.msg, "bad");
	assert_int_equal((int)json_array_size(calls[1].errors), 1);
	assert_int_equal(calls[2].rc, 0);
	for (i = 0; i < 3; i++) {
		json_decref(calls[i].data);
		json_decref(calls[i].errors);
	}
	hf_client_free(c);
}

/*
 * REST through the transport seam: a fixed path, the branch as a value the
 * client percent-encodes into ?branch=; a POST body serialised; GETs and
 * GraphQL mixed in one run.
 */
struct tx_log {
	int n;
	int rc[3];
	json_t *data[3];
};

static void on_tx(hf_transport *t, const struct hf_tx_result *r, void *payload)
{
	struct tx_log *log = payload;
	int i = (int)(size_t)r->user;

	(void)t;
	log->rc[i] = r->rc;
	log->data[i] = json_incref(r->data);
	log->n++;
}

static void test_client__transport_rest_and_graphql(void **state)
{
	hf_client *c = client();
	hf_transport *t = hf_client_transport(c);
	struct hf_tx_request q = HF_TX_REQUEST_INIT;
	struct tx_log log;
	json_t *body = json_pack("{s:i}", "a", 1);
	hf_error err = HF_ERROR_INIT;
	size_t i;
	int seen_get = 0, seen_post = 0, seen_gql = 0;

	(void)state;
	memset(&log, 0, sizeof(log));
	script((struct step){
	        .match = "GET", .status = 200, .body = "{\"g\":1}" });
	script((struct step){
	        .match = "load", .status = 200, .body = "{\"p\":2}" });
	q.kind = HF_TX_GET;
	q.path = "/api/schema";
	q.branch = "feature/x y";
	q.user = (void *)(size_t)0;
	assert_int_equal(hf_transport_submit(t, &q, &err), 0);
	q.kind = HF_TX_POST;
	q.path = "/api/schema/load";
	q.branch = NULL;
	q.body = body;
	q.user = (void *)(size_t)1;
	assert_int_equal(hf_transport_submit(t, &q, &err), 0);
	q.kind = HF_TX_GRAPHQL;
	q.path = NULL;
	q.body = NULL;
	q.query = "query { x }";
	q.user = (void *)(size_t)2;
	assert_int_equal(hf_transport_submit(t, &q, &err), 0);
	q.kind = HF_TX_POST; /* a POST without a body is refused at once */
	q.path = "/api/x";
	assert_int_equal(hf_transport_submit(t, &q, &err), HF_EINVAL);
	assert_int_equal(hf_transport_run(t, on_tx, &log, &err), 0);
	assert_int_equal(log.n, 3);
	assert_int_equal(log.rc[0], 0);
	assert_int_equal(json_integer_value(json_object_get(log.data[0], "g")),
	                 1);
	assert_int_equal(log.rc[1], 0);
	assert_int_equal(json_integer_value(json_object_get(log.data[1], "p")),
	                 2);
	assert_int_equal(log.rc[2], 0);
	for (i = 0; i < P.nseen; i++) {
		if (!strcmp(P.seen[i].method, "GET")) {
			assert_string_equal(
			        P.seen[i].path,
			        "/api/schema?branch=feature%2Fx%20y");
			seen_get++;
		} else if (!strcmp(P.seen[i].path, "/api/schema/load")) {
			assert_string_equal(P.seen[i].body, "{\"a\":1}");
			seen_post++;
		} else {
			assert_string_equal(P.seen[i].path, "/graphql/main");
			seen_gql++;
		}
	}
	assert_int_equal(seen_get + seen_post + seen_gql, 3);
	assert_int_equal(seen_get, 1);
	for (i = 0; i < 3; i++)
		json_decref(log.data[i]);
	json_decref(body);
	hf_client_free(c);
}

/*
 * hf_transport_run_idle(): the caller's work runs while the requests are
 * on their way (the peer holds its answers 200 ms; idle sees the peer
 * has both requests before any answer came), it may submit a request of
 * its own, and the run does not end before idle says it is done.
 */
struct idle_log {
	hf_transport *t;
	struct tx_log tx;
	int calls;
	int both_seen_before_answers;
	int submitted;
};

static void on_idle_tx(hf_transport *t, const struct hf_tx_result *r,
                       void *payload)
{
	on_tx(t, r, &((struct idle_log *)payload)->tx);
}

static int idle_work(void *payload)
{
	struct idle_log *l = payload;
	struct hf_tx_request q = HF_TX_REQUEST_INIT;
	struct timespec ms = { 0, 1000000 };

	l->calls++;
	if (!l->both_seen_before_answers) {
		if (seen_count() == 2 && l->tx.n == 0)
			l->both_seen_before_answers = 1;
		else if (l->calls < 3000) {
			nanosleep(&ms, NULL);
			return 1;
		}
	}
	if (!l->submitted) {
		q.query = "query { late }";
		q.user = (void *)(size_t)2;
		l->submitted = hf_transport_submit(l->t, &q, NULL) == 0;
		return 1;
	}
	return 0;
}

static void test_client__idle_work_while_waiting(void **state)
{
	hf_client *c = client();
	struct hf_tx_request q = HF_TX_REQUEST_INIT;
	struct idle_log l;
	hf_error err = HF_ERROR_INIT;
	int i;

	(void)state;
	memset(&l, 0, sizeof(l));
	l.t = hf_client_transport(c);
	P.dflt.delay_ms = 200;
	for (i = 0; i < 2; i++) {
		q.query = "query { x }";
		q.user = (void *)(size_t)i;
		assert_int_equal(hf_transport_submit(l.t, &q, &err), 0);
	}
	assert_int_equal(
	        hf_transport_run_idle(l.t, on_idle_tx, &l, idle_work, &err), 0);
	assert_true(l.both_seen_before_answers);
	assert_true(l.submitted);
	assert_int_equal(l.tx.n, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(l.tx.rc[i], 0);
		json_decref(l.tx.data[i]);
	}
	assert_int_equal((int)seen_count(), 3);
	hf_client_free(c);
}

static void test_client__empty_rest_body_is_null(void **state)
{
	hf_client *c = client();
	json_t *out = NULL;
	long status = 0;

	(void)state;
	script((struct step){ .status = 204 });
	assert_int_equal(hf_client_get(c, "/x", &out, &status, NULL), 0);
	assert_int_equal(status, 204);
	assert_true(json_is_null(out));
	json_decref(out);
	hf_client_free(c);
}

static int reentry_rc;

static void on_reenter(hf_client *c, const struct hf_client_result *r,
                       void *payload)
{
	(void)r;
	reentry_rc = hf_client_run(c, on_reenter, payload, NULL);
}

static void test_client__run_is_not_reentrant(void **state)
{
	hf_client *c = client();

	(void)state;
	submit_n(c, &(struct collect){ .n = 0 }, 1, "{ x }");
	assert_int_equal(hf_client_run(c, on_reenter, NULL, NULL), 0);
	assert_int_equal(reentry_rc, HF_EINVAL);
	hf_client_free(c);
}

/* Allocation failure N, for N = 1.. (the peer thread never allocates) */
static long torture_count, torture_fail;

static void *t_malloc(size_t n)
{
	return ++torture_count == torture_fail ? NULL : malloc(n);
}

static void *t_realloc(void *p, size_t n)
{
	return ++torture_count == torture_fail ? NULL : realloc(p, n);
}

static const struct hf_allocator torture = { t_malloc, t_realloc, free };

static int torture_once(json_t *vars)
{
	struct hf_client_options o = opts();
	struct hf_client_request q = HF_CLIENT_REQUEST_INIT;
	struct collect col;
	hf_client *c = NULL;
	json_t *data = NULL, *errors = NULL;
	int rc, tag = 0;

	memset(&col, 0, sizeof(col));
	rc = hf_client_new(&c, &o, NULL);
	if (rc == 0)
		rc = hf_client_graphql(c, "a/b", "query($v: String) { x }",
		                       vars, &data, &errors, NULL);
	q.query = "{ y }";
	q.variables = vars;
	q.user = &tag;
	if (rc == 0)
		rc = hf_client_submit(c, &q, NULL);
	if (rc == 0)
		rc = hf_client_run(c, on_done, &col, NULL);
	if (rc == 0)
		rc = col.o[0].rc;
	json_decref(data);
	json_decref(errors);
	hf_client_free(c);
	return rc;
}

static void test_client__allocation_failures(void **state)
{
	json_t *vars = json_pack("{s:s}", "v", "value");
	long total, n;
	int rc;

	(void)state;
	torture_count = 0;
	torture_fail = 0;
	hf_alloc_set(&torture);
	rc = torture_once(vars);
	hf_alloc_set(NULL);
	assert_int_equal(rc, 0);
	total = torture_count;
	assert_true(total > 10);
	for (n = 1; n <= total; n++) {
		torture_count = 0;
		torture_fail = n;
		hf_alloc_set(&torture);
		rc = torture_once(vars);
		hf_alloc_set(NULL);
		/* jansson reports its OOM as a parse failure */
		assert_true(rc == 0 || rc == HF_ENOMEM || rc == HF_ESERVER);
	}
	json_decref(vars);
}

/* ------------------------------------------------------------------ */
/* Against `hubform serve`                                             */

static struct hf_served srv;

static int serve_with(const char *const *extra)
{
	const char *dir = hf_test_tmpdir("client");
	char db[512];

	if (!dir)
		return -1;
	snprintf(db, sizeof(db), "%s/data.db", dir);
	return hf_serve_start(&srv, db, extra);
}

static int serve_setup(void **state)
{
	(void)state;
	return serve_with(NULL);
}

static int serve_teardown(void **state)
{
	(void)state;
	return hf_serve_stop(&srv) == 0 ? 0 : -1;
}

static hf_client *serve_client(const char *token, long parallelism)
{
	struct hf_client_options o = HF_CLIENT_OPTIONS_INIT;

	o.address = srv.url;
	o.token = token;
	o.parallelism = parallelism;
	o.backoff_ms = 1;
	return client_with(&o);
}

static long tag_count(hf_client *c)
{
	json_t *data = NULL;
	hf_error err = HF_ERROR_INIT;
	long n;

	assert_int_equal(
	        gql(c, NULL, "{ BuiltinTag { count } }", &data, NULL, &err), 0);
	n = (long)json_integer_value(
	        json_object_get(json_object_get(data, "BuiltinTag"), "count"));
	json_decref(data);
	return n;
}

static void test_client__serve_schema_and_count(void **state)
{
	hf_client *c = serve_client(NULL, 4);
	json_t *out = NULL;
	hf_error err = HF_ERROR_INIT;
	long status = 0;

	(void)state;
	assert_int_equal(hf_client_get(c, "/api/schema?branch=main", &out,
	                               &status, &err),
	                 0);
	assert_int_equal(status, 200);
	assert_true(json_array_size(json_object_get(out, "nodes")) > 0);
	json_decref(out);
	assert_int_equal(tag_count(c), 0);
	hf_client_free(c);
}

static void test_client__serve_unknown_branch(void **state)
{
	hf_client *c = serve_client(NULL, 4);
	json_t *data = NULL;
	hf_error err = HF_ERROR_INIT;

	(void)state;
	assert_int_equal(gql(c, "no/such", "{ BuiltinTag { count } }", &data,
	                     NULL, &err),
	                 HF_ENOTFOUND);
	assert_string_equal(err.msg, "branch 'no/such' not found");
	hf_client_free(c);
}

static void test_client__serve_parallel_creates(void **state)
{
	struct hf_client_request q = HF_CLIENT_REQUEST_INIT;
	struct hf_client_stats st;
	struct collect col;
	hf_client *c = serve_client(NULL, 4);
	char name[32];
	json_t *v;
	size_t i;

	(void)state;
	memset(&col, 0, sizeof(col));
	q.query = "mutation($n: String!) { BuiltinTagCreate(data: "
	          "{name: {value: $n}}) { ok } }";
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "tag \"%zu\" }", i);
		v = json_pack("{s:s}", "n", name);
		col.tags[i] = (int)i;
		q.variables = v;
		q.user = &col.tags[i];
		assert_int_equal(hf_client_submit(c, &q, NULL), 0);
		json_decref(v);
	}
	assert_int_equal(hf_client_run(c, on_done, &col, NULL), 0);
	assert_int_equal((int)col.n, 20);
	for (i = 0; i < col.n; i++)
		assert_int_equal(col.o[i].rc, 0);
	assert_int_equal(tag_count(c), 20);
	hf_client_stats(c, &st);
	assert_int_equal(st.requests, 21);
	/* writes not declared repeatable each get a connection of their own */
	assert_true(st.connections >= 20);
	hf_client_free(c);
}

static void test_client__serve_token(void **state)
{
	const char *extra[] = { "--token", TOKEN, NULL };
	hf_client *c;
	json_t *data = NULL;
	hf_error err = HF_ERROR_INIT;

	(void)state;
	assert_int_equal(hf_serve_stop(&srv), 0);
	assert_int_equal(serve_with(extra), 0);
	c = serve_client(NULL, 2);
	assert_int_equal(
	        gql(c, NULL, "{ BuiltinTag { count } }", &data, NULL, &err),
	        HF_EAUTH);
	assert_non_null(strstr(err.msg, "Authentication is required"));
	hf_client_free(c);
	c = serve_client("wrong", 2);
	assert_int_equal(
	        gql(c, NULL, "{ BuiltinTag { count } }", &data, NULL, &err),
	        HF_EAUTH);
	assert_non_null(strstr(err.msg, "Invalid token"));
	hf_client_free(c);
	c = serve_client(TOKEN, 2);
	assert_int_equal(tag_count(c), 0);
	hf_client_free(c);
}

static void test_client__serve_dropped_write_not_repeated(void **state)
{
	const char *extra[] = { "--fault", "drop-after-commit=1", NULL };
	hf_client *c;
	json_t *data = NULL;
	hf_error err = HF_ERROR_INIT;

	(void)state;
	assert_int_equal(hf_serve_stop(&srv), 0);
	assert_int_equal(serve_with(extra), 0);
	c = serve_client(NULL, 2);
	/* a kept-alive connection that libcurl would re-send the write on */
	assert_int_equal(tag_count(c), 0);
	/* the write commits, the answer is lost: retrying would duplicate */
	assert_int_equal(gql(c, NULL,
	                     "mutation { BuiltinTagCreate(data: {name: "
	                     "{value: \"once\"}}) { ok } }",
	                     &data, NULL, &err),
	                 HF_ENET);
	assert_int_equal(tag_count(c), 1);
	hf_client_free(c);
}

static void test_client__serve_503_retried(void **state)
{
	const char *extra[] = { "--fault", "http-503=1", NULL };
	struct hf_client_stats st;
	hf_client *c;

	(void)state;
	assert_int_equal(hf_serve_stop(&srv), 0);
	assert_int_equal(serve_with(extra), 0);
	c = serve_client(NULL, 2);
	assert_int_equal(tag_count(c), 0);
	hf_client_stats(c, &st);
	assert_int_equal(st.retries, 1);
	hf_client_free(c);
}

/* ------------------------------------------------------------------ */
/* Username/password login (JWT)                                       */

#define PASSWORD "pw-secret-77"
#define EXPIRED_BODY                                                      \
	"{\"errors\":[{\"message\":\"Expired Signature\",\"extensions\":" \
	"{\"code\":\"TOKEN_EXPIRED\",\"http_status\":401,\"data\":{}}}]}"
#define EXPIRED_OLD_BODY                                                 \
	"{\"data\":null,\"errors\":[{\"message\":\"Expired Signature\"," \
	"\"extensions\":{\"code\":401}}]}"

static hf_client *login_client(void)
{
	struct hf_client_options o = opts();

	o.token = NULL;
	o.username = "alice";
	o.password = PASSWORD;
	return client_with(&o);
}

/* The peer answers the next login with these tokens. */
static void script_login(const char *acc, const char *ref)
{
	static char bodies[4][200];
	static int next;
	char *b = bodies[next++ % 4];

	snprintf(b, 200, "{\"access_token\":\"%s\",\"refresh_token\":\"%s\"}",
	         acc, ref);
	script((struct step){
	        .match = "/api/auth/login", .status = 200, .body = b });
}

/* The peer answers the next request carrying `bearer` "Expired Signature". */
static void script_expired(const char *bearer, const char *body)
{
	script((struct step){ .match = bearer, .status = 401, .body = body });
}

static void assert_no_secret(const char *s)
{
	assert_null(strstr(s, PASSWORD));
	assert_null(strstr(s, "acc-1"));
	assert_null(strstr(s, "ref-1"));
}

static void test_client__login_options(void **state)
{
	struct hf_client_options o = opts();
	hf_client *c = NULL;
	hf_error err = HF_ERROR_INIT;

	(void)state;
	o.username = "alice";
	o.password = PASSWORD;
	assert_int_equal(hf_client_new(&c, &o, &err), HF_EINVAL);
	assert_null(c);
	assert_non_null(strstr(err.msg, "both an API token and a username"));
	o.token = NULL;
	o.password = NULL;
	assert_int_equal(hf_client_new(&c, &o, &err), HF_EINVAL);
	assert_non_null(strstr(err.msg, "a username without a password"));
	o.username = NULL;
	o.password = PASSWORD;
	assert_int_equal(hf_client_new(&c, &o, &err), HF_EINVAL);
	assert_no_secret(err.msg);
	/* creating the client sends nothing: the login waits for a request */
	o.username = "alice";
	assert_int_equal(hf_client_new(&c, &o, &err), 0);
	assert_int_equal((int)seen_count(), 0);
	hf_client_free(c);
}

static void test_client__login_refresh_retry(void **state)
{
	hf_client *c = login_client();
	json_t *data = NULL;
	hf_error err = HF_ERROR_INIT;

	(void)state;
	script_login("acc-1", "ref-1");
	script_expired("Bearer acc-1", EXPIRED_BODY);
	script((struct step){ .match = "/api/auth/refresh",
	                      .status = 200,
	                      .body = "{\"access_token\":\"acc-2\"}" });
	assert_int_equal(gql(c, NULL, "{ x }", &data, NULL, &err), 0);
	json_decref(data);
	assert_int_equal((int)seen_count(), 4);
	assert_string_equal(P.seen[0].path, "/api/auth/login");
	assert_string_equal(P.seen[0].method, "POST");
	assert_string_equal(P.seen[0].body,
	                    "{\"username\":\"alice\",\"password\":\"" PASSWORD
	                    "\"}");
	assert_null(strstr(P.seen[0].head, "Authorization"));
	assert_non_null(
	        strstr(P.seen[1].head, "Authorization: Bearer acc-1\r\n"));
	assert_string_equal(P.seen[2].path, "/api/auth/refresh");
	assert_non_null(
	        strstr(P.seen[2].head, "Authorization: Bearer ref-1\r\n"));
	assert_non_null(
	        strstr(P.seen[3].head, "Authorization: Bearer acc-2\r\n"));
	assert_null(strstr(P.seen[3].head, "X-INFRAHUB-KEY"));
	/* the new access token stays: no second login */
	assert_int_equal(gql(c, NULL, "{ y }", &data, NULL, &err), 0);
	json_decref(data);
	assert_int_equal((int)seen_count(), 5);
	assert_non_null(
	        strstr(P.seen[4].head, "Authorization: Bearer acc-2\r\n"));
	hf_client_free(c);
}

/* A refresh token refused too: log in again, then send once more. */
static void test_client__refresh_refused_logs_in_again(void **state)
{
	hf_client *c = login_client();
	json_t *out = NULL;
	hf_error err = HF_ERROR_INIT;
	long status = 0;

	(void)state;
	script_login("acc-1", "ref-1");
	script_expired("Bearer acc-1", EXPIRED_OLD_BODY);
	script((struct step){ .match = "/api/auth/refresh",
	                      .status = 401,
	                      .body = "{\"data\":null,\"errors\":[{\"message\":"
	                              "\"The provided refresh token has been "
	                              "invalidated in the database\"}]}" });
	script_login("acc-3", "ref-3");
	assert_int_equal(hf_client_get(c, "/api/schema", &out, &status, &err),
	                 0);
	json_decref(out);
	assert_int_equal(status, 200);
	assert_int_equal((int)seen_count(), 5);
	assert_string_equal(P.seen[3].path, "/api/auth/login");
	assert_non_null(
	        strstr(P.seen[4].head, "Authorization: Bearer acc-3\r\n"));
	hf_client_free(c);
}

/* Expired again after the renewal: fail, once, never a loop. */
static void test_client__expired_twice_fails(void **state)
{
	hf_client *c = login_client();
	json_t *data = NULL;
	hf_error err = HF_ERROR_INIT;

	(void)state;
	script_login("acc-1", "ref-1");
	script_expired("Bearer acc-1", EXPIRED_BODY);
	script((struct step){ .match = "/api/auth/refresh",
	                      .status = 200,
	                      .body = "{\"access_token\":\"acc-1\"}" });
	script_expired("Bearer acc-1", EXPIRED_BODY);
	assert_int_equal(gql(c, NULL, "{ x }", &data, NULL, &err), HF_EAUTH);
	assert_non_null(strstr(err.msg, "Expired Signature"));
	assert_int_equal((int)seen_count(), 4);
	/* another 401 (not expired) is never a reason to refresh */
	script((struct step){ .status = 401,
	                      .body = "{\"errors\":[{\"message\":\"Invalid "
	                              "token\"}]}" });
	assert_int_equal(gql(c, NULL, "{ x }", &data, NULL, &err), HF_EAUTH);
	assert_int_equal((int)seen_count(), 5);
	hf_client_free(c);
}

/*
 * Parallel requests that all meet the expiry share one refresh; a
 * failed login fails every request with its reason, and no secret shows.
 */
static void test_client__one_refresh_for_many(void **state)
{
	struct collect col;
	hf_client *c;
	struct hf_client_options o = opts();
	size_t i, refreshes = 0;

	(void)state;
	o.token = NULL;
	o.username = "alice";
	o.password = PASSWORD;
	o.parallelism = 4;
	c = client_with(&o);
	memset(&col, 0, sizeof(col));
	script_login("acc-1", "ref-1");
	for (i = 0; i < 4; i++)
		script((struct step){ .match = "Bearer acc-1",
		                      .status = 401,
		                      .body = EXPIRED_BODY,
		                      .delay_ms = 30 });
	script((struct step){ .match = "/api/auth/refresh",
	                      .status = 200,
	                      .body = "{\"access_token\":\"acc-2\"}" });
	submit_n(c, &col, 4, "query Q { q }");
	assert_int_equal(hf_client_run(c, on_done, &col, NULL), 0);
	assert_int_equal((int)col.n, 4);
	for (i = 0; i < col.n; i++)
		assert_int_equal(col.o[i].rc, 0);
	for (i = 0; i < seen_count(); i++)
		refreshes += !strcmp(P.seen[i].path, "/api/auth/refresh");
	assert_int_equal((int)refreshes, 1);
	hf_client_free(c);
}

static void test_client__login_failure(void **state)
{
	hf_client *c = login_client();
	struct collect col;

	(void)state;
	memset(&col, 0, sizeof(col));
	script((struct step){ .match = "/api/auth/login",
	                      .status = 401,
	                      .body = "{\"data\":null,\"errors\":[{\"message\":"
	                              "\"Incorrect password " PASSWORD "\","
	                              "\"extensions\":{\"code\":401}}]}" });
	submit_n(c, &col, 3, "query Q { q }");
	assert_int_equal(hf_client_run(c, on_done, &col, NULL), 0);
	assert_int_equal((int)col.n, 3);
	for (size_t i = 0; i < col.n; i++) {
		assert_int_equal(col.o[i].rc, HF_EAUTH);
		assert_non_null(strstr(col.o[i].msg,
		                       "login as 'alice' failed: "
		                       "Incorrect password <redacted>"));
		assert_no_secret(col.o[i].msg);
	}
	assert_int_equal((int)seen_count(), 1); /* the login only */
	hf_client_free(c);
}

/*
 * A login answer that is not {"access_token": str, "refresh_token": str}
 * (tokens we can put in a header) fails the request naming the login,
 * never sends "Bearer (null)"; a key given twice is no answer either.
 */
static void test_client__login_answer_checked(void **state)
{
	static const char *const bad[] = {
		"[]",
		"{}",
		"null",
		"{\"access_token\":5,\"refresh_token\":\"r\"}",
		"{\"access_token\":null,\"refresh_token\":\"r\"}",
		"{\"access_token\":\"a\"}",
		"{\"access_token\":\"a\",\"refresh_token\":[\"r\"]}",
		"{\"access_token\":\"a b\",\"refresh_token\":\"r\"}",
		"{\"access_token\":\"a\",\"refresh_token\":\"r\","
		"\"access_token\":\"b\"}",
	};
	hf_client *c = login_client();
	struct collect col;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		memset(&col, 0, sizeof(col));
		script((struct step){ .match = "/api/auth/login",
		                      .status = 200,
		                      .body = bad[i] });
		submit_n(c, &col, 1, "query Q { q }");
		assert_int_equal(hf_client_run(c, on_done, &col, NULL), 0);
		assert_int_equal((int)col.n, 1);
		if (col.o[0].rc != HF_ESERVER || !strstr(col.o[0].msg, "login"))
			fail_msg("login answer %s: rc %d, '%s'", bad[i],
			         col.o[0].rc, col.o[0].msg);
		assert_no_secret(col.o[0].msg);
	}
	assert_int_equal((int)seen_count(), (int)(sizeof(bad) / sizeof(*bad)));
	hf_client_free(c);
}

/* An answer with a key given twice is invalid JSON, not "the last one". */
static void test_client__duplicate_keys_refused(void **state)
{
	hf_client *c = client();
	json_t *data = NULL, *errors = NULL;
	hf_error err = HF_ERROR_INIT;
	char want[128];

	(void)state;
	script((struct step){ .status = 200,
	                      .body = "{\"data\":{\"T\":{\"count\":0,\"count\":"
	                              "5}}}" });
	script((struct step){
	        .status = 200,
	        .body = "{\"data\":{\"T\":1},\"data\":{\"T\":2}}" });
	snprintf(want, sizeof(want), "invalid JSON answer from %s: ", P.url);
	assert_int_equal(gql(c, NULL, "{ T { count } }", &data, &errors, &err),
	                 HF_ESERVER);
	assert_memory_equal(err.msg, want, strlen(want));
	assert_non_null(strstr(err.msg, "duplicate"));
	assert_null(data);
	assert_int_equal(gql(c, NULL, "{ T { count } }", &data, &errors, &err),
	                 HF_ESERVER);
	assert_non_null(strstr(err.msg, "duplicate"));
	assert_null(data);
	hf_client_free(c);
}

/* Against `hubform serve` with users: log in, read, write, be refused. */
static void test_client__serve_login(void **state)
{
	struct hf_client_options o = HF_CLIENT_OPTIONS_INIT;
	hf_client *c;
	json_t *data = NULL;
	hf_error err = HF_ERROR_INIT;

	(void)state;
	assert_int_equal(hf_serve_stop(&srv), 0);
	setenv("HUBFORM_SERVE_USERS", "alice:" PASSWORD ",bob:other", 1);
	assert_int_equal(serve_with(NULL), 0);
	unsetenv("HUBFORM_SERVE_USERS");
	o.address = srv.url;
	o.username = "alice";
	o.password = PASSWORD;
	c = client_with(&o);
	assert_int_equal(tag_count(c), 0);
	assert_int_equal(gql(c, NULL,
	                     "mutation { BuiltinTagCreate(data: {name: "
	                     "{value: \"jwt\"}}) { ok } }",
	                     &data, NULL, &err),
	                 0);
	json_decref(data);
	assert_int_equal(tag_count(c), 1);
	hf_client_free(c);
	o.password = "wrong";
	c = client_with(&o);
	assert_int_equal(
	        gql(c, NULL, "{ BuiltinTag { count } }", &data, NULL, &err),
	        HF_EAUTH);
	assert_non_null(strstr(err.msg, "login as 'alice' failed: Incorrect "
	                                "password"));
	hf_client_free(c);
	/* no credentials: refused, as with a token */
	c = serve_client(NULL, 2);
	assert_int_equal(
	        gql(c, NULL, "{ BuiltinTag { count } }", &data, NULL, &err),
	        HF_EAUTH);
	assert_non_null(strstr(err.msg, "Authentication is required"));
	hf_client_free(c);
}

/* ------------------------------------------------------------------ */

#define PEER_TEST(t) \
	cmocka_unit_test_setup_teardown(t, peer_setup, peer_teardown)
#define SERVE_TEST(t) \
	cmocka_unit_test_setup_teardown(t, serve_setup, serve_teardown)

int main(void)
{
	const struct CMUnitTest unit[] = {
		cmocka_unit_test(test_client__address_validation),
		cmocka_unit_test(test_client__escape),
		PEER_TEST(test_client__graphql_request_shape),
		PEER_TEST(test_client__branch_is_percent_encoded),
		PEER_TEST(test_client__default_branch_option),
		PEER_TEST(test_client__rest_get_and_post),
		PEER_TEST(test_client__partial_data_and_errors),
		PEER_TEST(test_client__errors_without_data),
		PEER_TEST(test_client__invalid_json),
		PEER_TEST(test_client__auth_failure),
		PEER_TEST(test_client__token_never_in_messages),
		PEER_TEST(test_client__unknown_branch),
		PEER_TEST(test_client__other_4xx),
		PEER_TEST(test_client__oversize_answer),
		PEER_TEST(test_client__read_retried_on_503_then_ok),
		PEER_TEST(test_client__retries_exhausted),
		PEER_TEST(test_client__mutation_not_retried_by_default),
		PEER_TEST(test_client__no_retry_flag),
		PEER_TEST(test_client__429_retried_even_for_mutation),
		PEER_TEST(test_client__retry_after_capped_by_timeout),
		PEER_TEST(test_client__4xx_never_retried),
		PEER_TEST(test_client__retry_after_honoured),
		PEER_TEST(test_client__retry_wait_does_not_block_others),
		PEER_TEST(test_client__connection_refused),
		PEER_TEST(test_client__timeout),
		PEER_TEST(test_client__tls_verification_default),
		PEER_TEST(test_client__parallelism_bound_and_keepalive),
		PEER_TEST(test_client__callback_submits_follow_ups),
		PEER_TEST(test_client__stop_lets_in_flight_finish),
		PEER_TEST(test_client__deadline),
		PEER_TEST(test_client__fetch_adapter),
		PEER_TEST(test_client__idle_work_while_waiting),
		PEER_TEST(test_client__empty_rest_body_is_null),
		PEER_TEST(test_client__transport_rest_and_graphql),
		PEER_TEST(test_client__run_is_not_reentrant),
		PEER_TEST(test_client__allocation_failures),
		PEER_TEST(test_client__login_options),
		PEER_TEST(test_client__login_refresh_retry),
		PEER_TEST(test_client__refresh_refused_logs_in_again),
		PEER_TEST(test_client__expired_twice_fails),
		PEER_TEST(test_client__one_refresh_for_many),
		PEER_TEST(test_client__login_failure),
		PEER_TEST(test_client__login_answer_checked),
		PEER_TEST(test_client__duplicate_keys_refused),
	};
	const struct CMUnitTest serve[] = {
		SERVE_TEST(test_client__serve_schema_and_count),
		SERVE_TEST(test_client__serve_unknown_branch),
		SERVE_TEST(test_client__serve_parallel_creates),
		SERVE_TEST(test_client__serve_token),
		SERVE_TEST(test_client__serve_dropped_write_not_repeated),
		SERVE_TEST(test_client__serve_503_retried),
		SERVE_TEST(test_client__serve_login),
	};
	int fails;

	hf_alloc_init();
	if (hf_client_global_init() < 0)
		return 1;
	fails = cmocka_run_group_tests_name("client", unit, NULL, NULL);
	fails += cmocka_run_group_tests_name("client_serve", serve, NULL, NULL);
	hf_client_global_cleanup();
	return fails ? 1 : 0;
}
