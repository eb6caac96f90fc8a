/*
 * Resource limits of the endpoint, run in-process (hf_server_start) on an
 * ephemeral loopback port: idle sockets do not stall other clients, the
 * token is checked before a body is read, oversized bodies are refused
 * from Content-Length, query work and answer size are capped, tokens are
 * whole-string compared and validated, and invalid UTF-8 in a URL gets a
 * clean 400. Raw sockets where libcurl would be too polite.
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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "hf/server.h"
#include "../server/db.h"
#include "sdkload.h"
#include "testutil.h"

#define WAIT_MS 10000 /* a bound for a hang, not a speed assertion */

static hf_server *start(struct hf_server_options *o)
{
	hf_server *s = NULL;
	hf_error err = HF_ERROR_INIT;

	o->listen = "127.0.0.1:0";
	o->data = ":memory:";
	if (hf_server_start(&s, o, &err) < 0)
		fprintf(stderr, "start: %s\n", err.msg);
	assert_non_null(s);
	return s;
}

/* A TCP connection to the server, from source address `from` or any. */
static int dial(const hf_server *s, const char *from)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	if (from) {
		assert_int_equal(inet_pton(AF_INET, from, &sa.sin_addr), 1);
		assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)),
		                 0);
	}
	sa.sin_port = htons((uint16_t)hf_server_port(s));
	assert_int_equal(inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr), 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void send_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return; /* the server closed: fine for these tests */
		p += w;
		n -= (size_t)w;
	}
}

/* Read until close (or WAIT_MS of silence); the HTTP status, or -1. */
static int read_status(int fd, hf_buf *resp)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char chunk[4096];
	ssize_t r;
	int status = -1;

	for (;;) {
		if (poll(&p, 1, WAIT_MS) <= 0)
			break;
		r = recv(fd, chunk, sizeof(chunk), 0);
		if (r <= 0)
			break;
		hf_buf_addn(resp, chunk, (size_t)r);
	}
	if (sscanf(resp->ptr, "HTTP/1.%*d %d", &status) != 1)
		status = -1;
	return status;
}

/* One raw request text; returns the status, the response in *resp. */
static int raw(const hf_server *s, const char *req, hf_buf *resp)
{
	int fd = dial(s, NULL), st;

	send_all(fd, req, strlen(req));
	st = read_status(fd, resp);
	close(fd);
	return st;
}

static int simple_get(const hf_server *s)
{
	hf_buf resp = HF_BUF_INIT;
	int st = raw(s,
	             "GET /api/schema/summary HTTP/1.1\r\nHost: x\r\n"
	             "Connection: close\r\n\r\n",
	             &resp);

	hf_buf_release(&resp);
	return st;
}

/* ---- connections --------------------------------------------------------- */

static void raise_nofile(rlim_t want)
{
	struct rlimit rl;

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < want) {
		fprintf(stderr, "skipped: needs %lu open files\n",
		        (unsigned long)want);
		skip();
	}
}

/*
 * 1,100 half-open sockets from one address (127.0.0.2, never sending a
 * byte) must not keep a client at 127.0.0.1 from being answered: the
 * per-address limit closes the excess at accept.
 */
static void test_srv_limits__idle_sockets_do_not_stall(void **state)
{
	struct hf_server_options o = HF_SERVER_OPTIONS_INIT;
	enum { N = 1100 };
	static int fds[N];
	hf_server *s;
	size_t i;

	(void)state;
	raise_nofile(2 * N + 200);
	s = start(&o);
	for (i = 0; i < N; i++)
		fds[i] = dial(s, "127.0.0.2");
	assert_int_equal(simple_get(s), 200);
	assert_int_equal(simple_get(s), 200);
	for (i = 0; i < N; i++)
		close(fds[i]);
	hf_server_stop(s);
}

/* A connection that sends nothing is closed after conn_timeout. */
static void test_srv_limits__idle_connection_times_out(void **state)
{
	struct hf_server_options o = HF_SERVER_OPTIONS_INIT;
	struct pollfd p;
	hf_server *s;
	char c;
	int fd;

	(void)state;
	o.conn_timeout = 1;
	s = start(&o);
	fd = dial(s, NULL);
	p.fd = fd;
	p.events = POLLIN;
	p.revents = 0;
	/* Without the timeout the server would hold it for minutes. */
	assert_int_equal(poll(&p, 1, WAIT_MS), 1);
	assert_true(recv(fd, &c, 1, 0) <= 0);
	close(fd);
	hf_server_stop(s);
}

/* ---- bodies -------------------------------------------------------------- */

static long status_kb(const char *field)
{
	char line[256];
	long kb = -1;
	size_t n = strlen(field);
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':')
			kb = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return kb;
}

/* Headers of a POST announcing `len` bytes; then up to `send_len` sent. */
static int big_post(const hf_server *s, const char *extra_header, size_t len,
                    size_t send_len, hf_buf *resp)
{
	static char chunk[65536];
	char head[512];
	size_t sent = 0, n;
	int fd = dial(s, NULL), st;

	memset(chunk, '{', sizeof(chunk));
	snprintf(head, sizeof(head),
	         "POST /graphql HTTP/1.1\r\nHost: x\r\n%s"
	         "Content-Type: application/json\r\n"
	         "Content-Length: %zu\r\n\r\n",
	         extra_header, len);
	send_all(fd, head, strlen(head));
	while (sent < send_len) {
		n = send_len - sent < sizeof(chunk) ? send_len - sent
		                                    : sizeof(chunk);
		if (send(fd, chunk, n, MSG_NOSIGNAL) <= 0)
			break;
		sent += n;
	}
	st = read_status(fd, resp);
	close(fd);
	return st;
}

/*
 * Ten tokenless 62 MB POSTs: each is answered 401 from its headers, and
 * the process's peak memory does not grow by their size.
 */
static void test_srv_limits__token_checked_before_the_body(void **state)
{
	struct hf_server_options o = HF_SERVER_OPTIONS_INIT;
	const size_t big = 62u * 1024u * 1024u;
	hf_buf resp = HF_BUF_INIT;
	hf_server *s;
	long before, after;
	int i;

	(void)state;
	o.token = "s3cret";
	s = start(&o);
	/* Answered before a byte of the body is sent. */
	assert_int_equal(big_post(s, "", big, 0, &resp), 401);
	assert_non_null(strstr(resp.ptr, "Authentication is required"));
	hf_buf_reset(&resp);
	before = status_kb("VmHWM");
	assert_true(before > 0);
	for (i = 0; i < 10; i++) {
		assert_int_equal(big_post(s, "X-INFRAHUB-KEY: wrong\r\n", big,
		                          big, &resp),
		                 401);
		hf_buf_reset(&resp);
	}
	after = status_kb("VmHWM");
	fprintf(stderr, "peak RSS %ld kB -> %ld kB\n", before, after);
	assert_true(after - before < 16 * 1024);
	hf_buf_release(&resp);
	hf_server_stop(s);
}

/* Over the cap by Content-Length: 413 without reading the body. */
static void test_srv_limits__body_over_the_cap_refused_early(void **state)
{
	struct hf_server_options o = HF_SERVER_OPTIONS_INIT;
	hf_buf resp = HF_BUF_INIT;
	hf_server *s;

	(void)state;
	o.max_body = 1024 * 1024;
	s = start(&o);
	assert_int_equal(big_post(s, "", 100u * 1024u * 1024u, 0, &resp), 413);
	assert_non_null(strstr(resp.ptr, "Request body too large"));
	hf_buf_reset(&resp);
	/* A chunked body past the cap: the connection is closed. */
	assert_true(raw(s,
	                "POST /graphql HTTP/1.1\r\nHost: x\r\n"
	                "Transfer-Encoding: chunked\r\n\r\n"
	                "100000\r\n",
	                &resp) != 200);
	hf_buf_release(&resp);
	assert_int_equal(simple_get(s), 200);
	hf_server_stop(s);
}

/* ---- tokens -------------------------------------------------------------- */

static void test_srv_limits__token_whole_string(void **state)
{
	struct hf_server_options o = HF_SERVER_OPTIONS_INIT;
	const char *const prefix[] = { "X-INFRAHUB-KEY: s3cre", NULL };
	const char *const longer[] = { "X-INFRAHUB-KEY: s3cretX", NULL };
	const char *const good[] = { "X-INFRAHUB-KEY: s3cret", NULL };
	const char q[] = "{\"query\":\"{ BuiltinTag { count } }\"}";
	char url[128], *resp = NULL;
	hf_server *s;
	long st;

	(void)state;
	o.token = "s3cret";
	s = start(&o);
	snprintf(url, sizeof(url), "%s/graphql", hf_server_url(s));
	assert_int_equal(hf_http("POST", url, q, prefix, &st, &resp), 0);
	assert_int_equal(st, 401);
	hf_free(resp);
	assert_int_equal(hf_http("POST", url, q, longer, &st, &resp), 0);
	assert_int_equal(st, 401);
	hf_free(resp);
	assert_int_equal(hf_http("POST", url, q, good, &st, &resp), 0);
	assert_int_equal(st, 200);
	hf_free(resp);
	hf_server_stop(s);
}

static void test_srv_limits__bad_tokens_refused_at_start(void **state)
{
	const char *const bad[] = { "",         "sec\x01ret",  "sec ret",
		                    "sec\tret", "caf\xc3\xa9", "sec\x7fret" };
	struct hf_server_options o = HF_SERVER_OPTIONS_INIT;
	hf_error err = HF_ERROR_INIT;
	hf_server *s = NULL;
	size_t i;

	(void)state;
	o.listen = "127.0.0.1:0";
	o.data = ":memory:";
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.token = bad[i];
		assert_int_equal(hf_server_start(&s, &o, &err), HF_EINVAL);
		assert_null(s);
		assert_non_null(strstr(err.msg, "token"));
	}
}

/*
 * Run `hubform serve` on db (with --token-file token_file when not NULL),
 * which must refuse to start; its stderr (hf_free).
 */
static char *serve_refusal(const char *db, const char *token_file)
{
	const char *const args[] = {
		"serve",    "--listen", "127.0.0.1:0",
		"--data",   db,         token_file ? "--token-file" : NULL,
		token_file, NULL
	};
	struct hf_run r;
	char *err;

	assert_int_equal(hf_run(&r, NULL, NULL, args), 0);
	assert_int_not_equal(r.status, 0);
	err = r.err;
	r.err = NULL;
	hf_run_release(&r);
	return err;
}

/* `hubform serve` refuses a token file with a NUL or a control byte,
 * and a control character in $HUBFORM_SERVE_TOKEN. */
static void test_srv_limits__serve_refuses_bad_token_sources(void **state)
{
	const char *dir = hf_test_tmpdir("limits-token");
	char path[512], db[512], *err;
	FILE *f;

	(void)state;
	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/token", dir);
	snprintf(db, sizeof(db), "%s/data.db", dir);
	f = fopen(path, "wb");
	assert_non_null(f);
	fwrite("secret\0x\n", 1, 9, f);
	fclose(f);
	err = serve_refusal(db, path);
	assert_non_null(strstr(err, "NUL"));
	assert_null(strstr(err, "listening on"));
	hf_free(err);
	assert_int_equal(hf_write_file(path, "sec\x1b[2Jret\n"), 0);
	err = serve_refusal(db, path);
	assert_non_null(strstr(err, "control characters"));
	hf_free(err);
	setenv("HUBFORM_SERVE_TOKEN", "sec\x01ret", 1);
	err = serve_refusal(db, NULL);
	assert_non_null(strstr(err, "control characters"));
	hf_free(err);
	unsetenv("HUBFORM_SERVE_TOKEN");
}

/* ---- URLs ---------------------------------------------------------------- */

static void test_srv_limits__invalid_utf8_url(void **state)
{
	static const char *const reqs[] = {
		"POST /graphql/%FF%FE HTTP/1.1\r\nHost: x\r\n"
		"Connection: close\r\nContent-Length: 2\r\n\r\n{}",
		"GET /api/schema?branch=%C3%28 HTTP/1.1\r\nHost: x\r\n"
		"Connection: close\r\n\r\n",
		"GET /api/schema/summary?branch=ma%00in HTTP/1.1\r\nHost: x\r\n"
		"Connection: close\r\n\r\n",
		"GET /api/schema?branch=main&namespaces=%ED%A0%80 HTTP/1.1\r\n"
		"Host: x\r\nConnection: close\r\n\r\n",
		"GET /graphql/%C0%AF HTTP/1.1\r\nHost: x\r\n"
		"Connection: close\r\n\r\n",
	};
	struct hf_server_options o = HF_SERVER_OPTIONS_INIT;
	hf_buf resp = HF_BUF_INIT;
	hf_server *s;
	json_t *d;
	size_t i;

	(void)state;
	s = start(&o);
	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		assert_int_equal(raw(s, reqs[i], &resp), 400);
		assert_non_null(strstr(resp.ptr, "not valid UTF-8"));
		hf_buf_reset(&resp);
	}
	hf_buf_release(&resp);
	/* A lone surrogate escape in GraphQL text is no branch name either. */
	d = hf_gql(hf_server_url(s), NULL, NULL,
	           "mutation { BranchCreate(data: {name: \"ab\\uD800cd\"}) "
	           "{ ok } }",
	           NULL);
	assert_non_null(d);
	assert_non_null(json_object_get(d, "errors"));
	json_decref(d);
	/* Nothing was created: only the default branch exists. */
	d = hf_gql(hf_server_url(s), NULL, NULL, "{ Branch { name } }", NULL);
	assert_non_null(d);
	assert_int_equal(json_array_size(json_object_get(
	                         json_object_get(d, "data"), "Branch")),
	                 1);
	json_decref(d);
	hf_server_stop(s);
}

/* Branch names are checked for UTF-8 where they are made, too. */
static void test_srv_limits__branch_name_utf8(void **state)
{
	static const char *const bad[] = { "ab\xed\xa0\x80"
		                           "cd",
		                           "ab\xff"
		                           "cd",
		                           "ab\xc0\xaf"
		                           "cd",
		                           "abc\xe2\x82" };
	hf_error err = HF_ERROR_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(hfs_db_branch_check_name(bad[i], &err),
		                 HF_EINVAL);
		assert_non_null(strstr(err.msg, "not valid UTF-8"));
	}
	assert_int_equal(
	        hfs_db_branch_check_name("caf\xc3\xa9-\xf0\x9f\x9a\x80", &err),
	        0);
}

/* ---- query work ---------------------------------------------------------- */

static void make_tags(const hf_server *s, int n)
{
	hf_buf q = HF_BUF_INIT;
	json_t *res;
	int i;

	hf_buf_add(&q, "mutation {");
	for (i = 0; i < n; i++)
		hf_buf_addf(&q,
		            " t%d: BuiltinTagCreate(data: {name: {value: "
		            "\"tag-%d\"}}) { ok }",
		            i, i);
	hf_buf_add(&q, " }");
	assert_false(hf_buf_failed(&q));
	res = hf_gql(hf_server_url(s), NULL, NULL, q.ptr, NULL);
	assert_non_null(res);
	assert_null(json_object_get(res, "errors"));
	json_decref(res);
	hf_buf_release(&q);
}

static const char *first_error(json_t *res)
{
	return json_string_value(json_object_get(
	        json_array_get(json_object_get(res, "errors"), 0), "message"));
}

/* Many aliases of an unfiltered listing: refused before it runs. */
static void test_srv_limits__query_cost_capped(void **state)
{
	struct hf_server_options o = HF_SERVER_OPTIONS_INIT;
	hf_buf q = HF_BUF_INIT;
	hf_server *s;
	json_t *res;
	int i;

	(void)state;
	o.max_cost = 200000;
	s = start(&o);
	make_tags(s, 400);
	hf_buf_add(&q, "query {");
	for (i = 0; i < 3000; i++)
		hf_buf_addf(&q,
		            " a%d: BuiltinTag { edges { node { name { "
		            "value } } } }",
		            i);
	hf_buf_add(&q, " }");
	res = hf_gql(hf_server_url(s), NULL, NULL, q.ptr, NULL);
	assert_non_null(res);
	assert_non_null(first_error(res));
	assert_non_null(
	        strstr(first_error(res), "exceeds the limit of 200000"));
	assert_true(json_is_null(json_object_get(res, "data")));
	json_decref(res);
	/* The same through a fragment, and a paged one is fine. */
	hf_buf_reset(&q);
	hf_buf_add(&q, "query {");
	for (i = 0; i < 3000; i++)
		hf_buf_addf(&q, " a%d: BuiltinTag { ...F }", i);
	hf_buf_add(&q, " } fragment F on PaginatedBuiltinTag { edges { node "
	               "{ name { value } } } }");
	res = hf_gql(hf_server_url(s), NULL, NULL, q.ptr, NULL);
	assert_non_null(strstr(first_error(res), "exceeds the limit"));
	json_decref(res);
	hf_buf_reset(&q);
	hf_buf_add(&q, "query {");
	for (i = 0; i < 3000; i++)
		hf_buf_addf(&q,
		            " a%d: BuiltinTag(limit: 2) { edges { node { "
		            "name { value } } } }",
		            i);
	hf_buf_add(&q, " }");
	res = hf_gql(hf_server_url(s), NULL, NULL, q.ptr, NULL);
	assert_null(first_error(res));
	json_decref(res);
	/* Lookups narrowed by a filter, as the engine batches them. */
	hf_buf_reset(&q);
	hf_buf_add(&q, "query {");
	for (i = 0; i < 400; i++)
		hf_buf_addf(&q,
		            " a%d: BuiltinTag(name__value: \"tag-%d\") { "
		            "edges { node { id name { value } } } }",
		            i, i);
	hf_buf_add(&q, " }");
	res = hf_gql(hf_server_url(s), NULL, NULL, q.ptr, NULL);
	assert_null(first_error(res));
	json_decref(res);
	hf_buf_release(&q);
	hf_server_stop(s);
}

/* The error message of a query with variables `vars` (JSON text). */
static char *cost_error(const hf_server *s, const char *q, const char *vars)
{
	json_t *v = vars ? json_loads(vars, 0, NULL) : NULL;
	json_t *res = hf_gql(hf_server_url(s), NULL, NULL, q, v);
	const char *m;
	char *out;

	assert_non_null(res);
	m = first_error(res);
	out = m ? hf_strdup(m) : NULL;
	json_decref(res);
	json_decref(v);
	return out;
}

static void assert_cost_refused(const hf_server *s, const char *q,
                                const char *vars, const char *cost)
{
	char *m = cost_error(s, q, vars);

	if (!m || !strstr(m, cost) || !strstr(m, "exceeds the limit of 1000"))
		fail_msg("%s with %s: expected a cost of %s refused, got %s", q,
		         vars ? vars : "no variables", cost,
		         m ? m : "an answer");
	hf_free(m);
}

static void assert_cost_accepted(const hf_server *s, const char *q,
                                 const char *vars)
{
	char *m = cost_error(s, q, vars);

	if (m)
		fail_msg("%s with %s: refused: %s", q,
		         vars ? vars : "no variables", m);
}

/*
 * limit and offset given as variables are costed as their values (a
 * paged query through $limit passes, $limit = 1000000 is the whole kind);
 * a filter that is null, or a variable not given, narrows nothing.
 * 400 tags, 5 fields a tag: 2000 for the whole kind.
 */
static void test_srv_limits__query_cost_reads_variables(void **state)
{
	static const char page[] =
	        "query ($l: Int, $o: Int) { BuiltinTag(limit: $l, offset: $o) "
	        "{ edges { node { name { value } } } } }";
	static const char dflt[] =
	        "query ($l: Int = 100) { BuiltinTag(limit: $l) "
	        "{ edges { node { name { value } } } } }";
	static const char filt[] =
	        "query ($n: String) { BuiltinTag(name__value: $n) "
	        "{ edges { node { name { value } } } } }";
	struct hf_server_options o = HF_SERVER_OPTIONS_INIT;
	hf_server *s;

	(void)state;
	o.max_cost = 1000;
	s = start(&o);
	make_tags(s, 400);
	assert_cost_refused(s, page, "{\"l\": 1000000}", "at least 2000 ");
	assert_cost_refused(s, page, NULL, "at least 2000 ");
	assert_cost_refused(s, page, "{\"l\": null, \"o\": 100}",
	                    "at least 1500 ");
	assert_cost_accepted(s, page, "{\"l\": 100}");
	assert_cost_accepted(s, page, "{\"l\": 100, \"o\": 0}");
	assert_cost_accepted(s, page, "{\"o\": 300}");
	assert_cost_accepted(s, page, "{\"l\": 1000000, \"o\": 390}");
	assert_cost_accepted(s, dflt, NULL);
	assert_cost_refused(s, dflt, "{\"l\": 1000000}", "at least 2000 ");
	/* literals keep their meaning, offset included */
	assert_cost_accepted(s,
	                     "{ BuiltinTag(offset: 350) { edges { node { name "
	                     "{ value } } } } }",
	                     NULL);
	/* a null filter is no filter: the whole kind */
	assert_cost_accepted(s, filt, "{\"n\": \"tag-1\"}");
	assert_cost_refused(s, filt, NULL, "at least 2000 ");
	assert_cost_refused(s, filt, "{\"n\": null}", "at least 2000 ");
	assert_cost_refused(s,
	                    "{ BuiltinTag(name__value: null) { edges { node "
	                    "{ name { value } } } } }",
	                    NULL, "at least 2000 ");
	hf_server_stop(s);
}

/* What the estimate misses, the answer-size cap refuses. */
static void test_srv_limits__answer_size_capped(void **state)
{
	struct hf_server_options o = HF_SERVER_OPTIONS_INIT;
	hf_server *s;
	json_t *res;

	(void)state;
	o.max_answer = 4096;
	s = start(&o);
	make_tags(s, 200);
	res = hf_gql(hf_server_url(s), NULL, NULL,
	             "{ BuiltinTag { edges { node { name { value } } } } }",
	             NULL);
	assert_non_null(res);
	assert_non_null(strstr(first_error(res), "exceeds the limit of 4096 "
	                                         "bytes"));
	json_decref(res);
	res = hf_gql(hf_server_url(s), NULL, NULL,
	             "{ BuiltinTag(limit: 5) { edges { node { name { value } "
	             "} } } }",
	             NULL);
	assert_null(first_error(res));
	json_decref(res);
	hf_server_stop(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_srv_limits__idle_sockets_do_not_stall),
		cmocka_unit_test(test_srv_limits__idle_connection_times_out),
		cmocka_unit_test(
		        test_srv_limits__token_checked_before_the_body),
		cmocka_unit_test(
		        test_srv_limits__body_over_the_cap_refused_early),
		cmocka_unit_test(test_srv_limits__token_whole_string),
		cmocka_unit_test(test_srv_limits__bad_tokens_refused_at_start),
		cmocka_unit_test(
		        test_srv_limits__serve_refuses_bad_token_sources),
		cmocka_unit_test(test_srv_limits__invalid_utf8_url),
		cmocka_unit_test(test_srv_limits__branch_name_utf8),
		cmocka_unit_test(test_srv_limits__query_cost_capped),
		cmocka_unit_test(test_srv_limits__query_cost_reads_variables),
		cmocka_unit_test(test_srv_limits__answer_size_capped),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
