/*
 * HTTP front of the local endpoint, on libmicrohttpd with an internal
 * thread pool. This file owns everything MHD: binding, body collection with
 * a cap, credentials (the token, and the JWTs of /api/auth/login, whose
 * endpoints auth.c answers), fault injection and the request log. The
 * routing and the work happen in app.c.
 *
 * Resource limits: the credentials and the declared Content-Length are
 * checked on the first call of the access handler, from the headers
 * alone, so a request without valid credentials or oversized is answered
 * (401/413) before a byte of its body is read; idle connections close
 * after conn_timeout seconds; MHD caps connections overall and per client
 * address (half-open sockets from one address cannot starve the others).
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "hf/server.h"
#include "app.h"
#include "auth.h"
#include "hf/banned.h"

struct hf_server {
	struct MHD_Daemon *mhd;
	hfs_app *app;
	struct hf_server_options opts;
	char url[96];
	int port;
	pthread_mutex_t lock; /* guards inflight, counters, log */
	pthread_cond_t idle;
	int inflight;
	long nrequests;
	long nmutating;
	FILE *log;
	struct timespec t0; /* when it started: the log's "at" */
	hfs_auth *auth; /* users of /api/auth/login ($HUBFORM_SERVE_USERS) */
};

/* A request past its headers (token and declared size already checked). */
struct conn {
	hf_buf body; /* capped at max_body */
};

static const char err_auth_required[] =
        "{\"data\":null,\"errors\":[{\"message\":\"Authentication is required "
        "to perform this operation\",\"extensions\":{\"code\":401}}]}";
static const char err_bad_token[] =
        "{\"data\":null,\"errors\":[{\"message\":\"Invalid token\","
        "\"extensions\":{\"code\":401}}]}";
static const char err_too_big[] = "{\"errors\":[\"Request body too large\"]}";
static const char err_503[] =
        "{\"errors\":[{\"message\":\"Service Unavailable (injected fault)\","
        "\"extensions\":{\"code\":503}}]}";

static enum MHD_Result reply(struct MHD_Connection *c, int status,
                             const char *body, size_t len, const char *type,
                             const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body,
	                                    MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type",
	                        type ? type : "application/json");
	if (allow)
		MHD_add_response_header(r, "Allow", allow);
	ret = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_static(struct MHD_Connection *c, int status,
                                    const char *body)
{
	return reply(c, status, body, strlen(body), NULL, NULL);
}

struct ns_list {
	const char *items[32];
	size_t n;
};

static enum MHD_Result collect_ns(void *cls, enum MHD_ValueKind kind,
                                  const char *key, const char *value)
{
	struct ns_list *l = cls;

	(void)kind;
	if (!strcmp(key, "namespaces") && value && l->n < 32)
		l->items[l->n++] = value;
	return MHD_YES;
}

/* Sets *cls when a query argument's name or value holds a NUL byte. */
static enum MHD_Result find_nul(void *cls, enum MHD_ValueKind kind,
                                const char *key, size_t key_size,
                                const char *value, size_t value_size)
{
	int *bad = cls;

	(void)kind;
	if (strlen(key) != key_size || (value && memchr(value, 0, value_size)))
		*bad = 1;
	return MHD_YES;
}

static double ms_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 +
	       (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

/*
 * One JSON line per request: "at" is when it came, in milliseconds since
 * the endpoint started, "ms" how long it took to answer (cost included).
 */
static void log_request(hf_server *s, const char *method, const char *url,
                        const struct hfs_response *rs, const struct conn *cn,
                        const struct timespec *came)
{
	hf_buf line = HF_BUF_INIT;
	struct timespec now;
	size_t i;

	if (!s->log)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	hf_buf_addf(&line, "{\"method\":\"%s\",\"path\":\"", method);
	for (i = 0; url[i]; i++) {
		if (url[i] == '"' || url[i] == '\\')
			hf_buf_addch(&line, '\\');
		if ((unsigned char)url[i] >= 0x20)
			hf_buf_addch(&line, url[i]);
	}
	hf_buf_addf(&line,
	            "\",\"status\":%d,\"bytes\":%zu,\"mutation\":%s,"
	            "\"at\":%.1f,\"ms\":%.1f}\n",
	            rs->status, cn->body.len, rs->mutated ? "true" : "false",
	            ms_between(&s->t0, came), ms_between(came, &now));
	if (!hf_buf_failed(&line)) {
		fputs(line.ptr, s->log);
		fflush(s->log);
	}
	hf_buf_release(&line);
}

static void sleep_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0)
		;
}

/*
 * Whole-string comparison whose time does not depend on where the strings
 * differ nor on the secret's length: both sides are hashed, then the
 * digests compared with CRYPTO_memcmp.
 */
static int token_equal(const char *given, const char *want)
{
	unsigned char a[EVP_MAX_MD_SIZE], b[EVP_MAX_MD_SIZE];
	unsigned int na = 0, nb = 0;

	if (!EVP_Digest(given, strlen(given), a, &na, EVP_sha256(), NULL) ||
	    !EVP_Digest(want, strlen(want), b, &nb, EVP_sha256(), NULL) ||
	    na != nb)
		return 0;
	return CRYPTO_memcmp(a, b, na) == 0;
}

/* A 401 with Infrahub's body and `msg`. */
static enum MHD_Result reply_401(struct MHD_Connection *c, const char *msg)
{
	json_t *j = json_pack("{s:n, s:[{s:s, s:{s:i}}]}", "data", "errors",
	                      "message", msg, "extensions", "code", 401);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	enum MHD_Result ret;

	json_decref(j);
	if (!text)
		return MHD_NO;
	ret = reply(c, 401, text, strlen(text), NULL, NULL);
	hf_free(text);
	return ret;
}

/*
 * Called on the first call of the access handler, when the headers are
 * in and no byte of the body has been read: a request without valid
 * credentials is answered 401 at once and its body is never buffered.
 * Credentials are required when a token or users are configured; then
 * X-INFRAHUB-KEY wins over a JWT (as in Infrahub), and a JWT must be a
 * valid, unexpired access token ("Expired Signature" otherwise, which
 * tells clients to refresh). The /api/auth endpoints check their own.
 */
static int check_auth(hf_server *s, struct MHD_Connection *c, const char *url,
                      enum MHD_Result *ret)
{
	const char *key = NULL, *msg = NULL;
	size_t len = 0;
	int r;

	if (!s->opts.token && !hfs_auth_user_count(s->auth))
		return 0;
	if (hfs_auth_is_endpoint(url))
		return 0;
	if (MHD_lookup_connection_value_n(c, MHD_HEADER_KIND, "X-INFRAHUB-KEY",
	                                  14, &key, &len) != MHD_YES)
		key = NULL;
	if (key) {
		if (s->opts.token && strlen(key) == len &&
		    token_equal(key, s->opts.token))
			return 0;
		*ret = reply_static(c, 401, err_bad_token);
		return -1;
	}
	r = hfs_auth_check(s->auth,
	                   MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	                                               "Authorization"),
	                   (long)time(NULL), &msg);
	if (r == 0)
		return 0;
	*ret = r < 0 ? reply_401(c, msg)
	             : reply_static(c, 401, err_auth_required);
	return -1;
}

/* POST /api/auth/login, refresh and logout (auth.c). */
static void auth_endpoint(hf_server *s, struct MHD_Connection *c,
                          const char *url, const char *method,
                          const struct conn *cn, struct hfs_response *rs)
{
	json_t *out = NULL;
	int status = 500;

	if (hfs_auth_rest(s->auth, method, url,
	                  MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	                                              "Authorization"),
	                  cn->body.ptr, cn->body.len, (long)time(NULL), &status,
	                  &out) < 0)
		out = json_pack("{s:n, s:[{s:s}]}", "data", "errors", "message",
		                "out of memory");
	rs->status = status;
	rs->body = out ? json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	rs->allow = status == 405 ? "POST" : NULL;
	json_decref(out);
}

/* Count the request; returns 1 when this one must get an injected 503. */
static int count_request(hf_server *s)
{
	int fail;

	pthread_mutex_lock(&s->lock);
	s->nrequests++;
	fail = s->opts.faults.http_503 > 0 &&
	       s->nrequests == s->opts.faults.http_503;
	pthread_mutex_unlock(&s->lock);
	return fail;
}

/* Whether a committed mutating request must be dropped unanswered. */
static int count_mutation(hf_server *s)
{
	int drop;

	pthread_mutex_lock(&s->lock);
	s->nmutating++;
	drop = s->opts.faults.drop_after_commit > 0 &&
	       s->nmutating == s->opts.faults.drop_after_commit;
	pthread_mutex_unlock(&s->lock);
	return drop;
}

static enum MHD_Result serve(hf_server *s, struct MHD_Connection *c,
                             const char *url, const char *method,
                             struct conn *cn)
{
	struct hfs_request rq = { 0 };
	struct hfs_response rs = { 0 };
	struct ns_list ns = { { 0 }, 0 };
	struct timespec came;
	enum MHD_Result ret;

	clock_gettime(CLOCK_MONOTONIC, &came);
	if (s->opts.faults.latency_ms > 0)
		sleep_ms(s->opts.faults.latency_ms);
	if (count_request(s))
		return reply_static(c, 503, err_503);
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_ns, &ns);
	MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, find_nul,
	                            &rq.bad_url);
	rq.method = method;
	rq.path = url;
	rq.branch =
	        MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "branch");
	rq.namespaces = ns.items;
	rq.nnamespaces = ns.n;
	rq.token = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	                                       "X-INFRAHUB-KEY");
	rq.body = cn->body.ptr;
	rq.body_len = cn->body.len;
	if (hfs_auth_is_endpoint(url))
		auth_endpoint(s, c, url, method, cn, &rs);
	else
		hfs_app_handle(s->app, &rq, &rs);
	log_request(s, method, url, &rs, cn, &came);
	if (rs.mutated && count_mutation(s)) {
		hf_free(rs.body);
		return MHD_NO; /* committed, then the connection just closes */
	}
	ret = reply(c, rs.status ? rs.status : 500, rs.body ? rs.body : "",
	            rs.body ? strlen(rs.body) : 0, rs.content_type, rs.allow);
	hf_free(rs.body);
	return ret;
}

static int declared_too_big(hf_server *s, struct MHD_Connection *c)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	                                             "Content-Length");
	char *end;
	unsigned long long n;

	if (!cl)
		return 0;
	n = strtoull(cl, &end, 10);
	return end != cl && n > s->opts.max_body;
}

static void enter(hf_server *s)
{
	pthread_mutex_lock(&s->lock);
	s->inflight++;
	pthread_mutex_unlock(&s->lock);
}

static void leave(hf_server *s)
{
	pthread_mutex_lock(&s->lock);
	if (--s->inflight == 0)
		pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->lock);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
	hf_server *s = cls;
	struct conn *cn = *con_cls;
	enum MHD_Result ret;

	(void)version;
	if (!cn) {
		/* Headers only so far: refuse before reading any body. */
		if (check_auth(s, c, url, &ret) < 0)
			return ret;
		if (declared_too_big(s, c))
			return reply_static(c, 413, err_too_big);
		cn = hf_calloc(1, sizeof(*cn));
		if (!cn)
			return MHD_NO;
		hf_buf_init(&cn->body, s->opts.max_body);
		*con_cls = cn;
		enter(s);
		return MHD_YES;
	}
	if (*upload_size) {
		/* A chunked body past the cap: stop reading, close. */
		if (hf_buf_addn(&cn->body, upload, *upload_size) < 0)
			return MHD_NO;
		*upload_size = 0;
		return MHD_YES;
	}
	ret = serve(s, c, url, method, cn);
	return ret;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode code)
{
	hf_server *s = cls;
	struct conn *cn = *con_cls;

	(void)c;
	(void)code;
	if (!cn)
		return;
	hf_buf_release(&cn->body);
	hf_free(cn);
	*con_cls = NULL;
	leave(s);
}

/* "HOST:PORT" or "[V6]:PORT" into a socket address. */
static int parse_listen(const char *spec, struct sockaddr_storage *ss,
                        char *host, size_t hostlen, hf_error *err)
{
	const char *colon = strrchr(spec, ':');
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	char *end;
	long port;
	size_t n;

	if (!colon)
		return hf_error_set(err, HF_EINVAL,
		                    "listen address '%s' needs HOST:PORT",
		                    spec);
	port = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || *end || port < 0 || port > 65535)
		return hf_error_set(err, HF_EINVAL, "bad port in '%s'", spec);
	n = (size_t)(colon - spec);
	if (n >= 2 && spec[0] == '[' && spec[n - 1] == ']') {
		spec++;
		n -= 2;
	}
	if (n == 0 || n >= hostlen)
		return hf_error_set(err, HF_EINVAL, "bad host in '%s'", spec);
	memcpy(host, spec, n);
	host[n] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		return 0;
	}
	return hf_error_set(err, HF_EINVAL,
	                    "listen host '%s' is not an IP address", host);
}

static int start_daemon(hf_server *s, hf_error *err)
{
	struct sockaddr_storage ss;
	char host[64];
	const union MHD_DaemonInfo *info;
	/* poll, not epoll: quiescing an epoll thread pool aborts in MHD 0.9.75
	 */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
	                 MHD_USE_ITC | MHD_USE_ERROR_LOG;
	unsigned pool = s->opts.threads;
	struct MHD_OptionItem pool_opt[2] = { { MHD_OPTION_END, 0, NULL },
		                              { MHD_OPTION_END, 0, NULL } };
	int rc;

	rc = parse_listen(s->opts.listen, &ss, host, sizeof(host), err);
	if (rc < 0)
		return rc;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* cost=: a waiting request must not hold up the other connections of
	 * a pool thread (10 clients share a few), so each gets its own thread
	 */
	if (s->opts.faults.cost_request_ms > 0 ||
	    s->opts.faults.cost_op_ms > 0) {
		flags |= MHD_USE_THREAD_PER_CONNECTION;
		pool = 0;
	}
	if (pool) /* else no pool option: MHD warns about one */
		pool_opt[0] =
		        (struct MHD_OptionItem){ MHD_OPTION_THREAD_POOL_SIZE,
			                         (intptr_t)pool, NULL };
	s->mhd = MHD_start_daemon(
	        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
	        (struct sockaddr *)&ss, MHD_OPTION_ARRAY, pool_opt,
	        MHD_OPTION_NOTIFY_COMPLETED, on_done, s,
	        MHD_OPTION_CONNECTION_TIMEOUT, s->opts.conn_timeout,
	        MHD_OPTION_CONNECTION_LIMIT, s->opts.max_conns,
	        MHD_OPTION_PER_IP_CONNECTION_LIMIT, s->opts.max_conns_per_ip,
	        MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
	        MHD_OPTION_END);
	if (!s->mhd)
		return hf_error_set(err, HF_ENET, "cannot listen on '%s'",
		                    s->opts.listen);
	info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : 0;
	snprintf(s->url, sizeof(s->url),
	         ss.ss_family == AF_INET6 ? "http://[%s]:%d" : "http://%s:%d",
	         host, s->port);
	return 0;
}

static void defaults(struct hf_server_options *o)
{
	if (!o->conn_timeout)
		o->conn_timeout = HF_SERVER_CONN_TIMEOUT;
	if (!o->max_conns)
		o->max_conns = HF_SERVER_MAX_CONNS;
	if (!o->max_conns_per_ip)
		o->max_conns_per_ip = HF_SERVER_MAX_CONNS_PER_IP;
	if (o->max_conns_per_ip > o->max_conns)
		o->max_conns_per_ip = o->max_conns;
	if (!o->max_answer)
		o->max_answer = HF_SERVER_MAX_ANSWER;
	if (!o->max_cost)
		o->max_cost = HF_SERVER_MAX_COST;
}

/* A token is printable ASCII without spaces (what fits a header). */
static int check_token(const char *token, hf_error *err)
{
	const unsigned char *p;

	if (!token)
		return 0;
	if (!*token)
		return hf_error_set(err, HF_EINVAL, "the token is empty");
	for (p = (const unsigned char *)token; *p; p++)
		if (*p < 0x21 || *p >= 0x7f)
			return hf_error_set(err, HF_EINVAL,
			                    "the token must be printable ASCII "
			                    "without spaces or control "
			                    "characters");
	return 0;
}

/*
 * The users /api/auth/login accepts: $HUBFORM_SERVE_USERS, as
 * "NAME:PASSWORD[,NAME:PASSWORD...]" (auth.h). Never echoed.
 */
static int users_open(hf_server *s, hf_error *err)
{
	hf_error e = HF_ERROR_INIT;
	int rc = hfs_auth_new(&s->auth, getenv("HUBFORM_SERVE_USERS"), &e);

	if (rc < 0)
		return hf_error_set(err, rc, "HUBFORM_SERVE_USERS: %s", e.msg);
	return 0;
}

int hf_server_start(hf_server **out, const struct hf_server_options *opts,
                    hf_error *err)
{
	hf_server *s;
	int rc;

	*out = NULL;
	rc = check_token(opts->token, err);
	if (rc < 0)
		return rc;
	s = hf_calloc(1, sizeof(*s));
	if (!s)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	s->opts = *opts;
	if (!s->opts.threads)
		s->opts.threads = 4;
	if (!s->opts.max_body)
		s->opts.max_body = HF_SERVER_MAX_BODY;
	defaults(&s->opts);
	pthread_mutex_init(&s->lock, NULL);
	clock_gettime(CLOCK_MONOTONIC, &s->t0);
	pthread_cond_init(&s->idle, NULL);
	if (opts->log) {
		s->log = fopen(opts->log, "a");
		if (!s->log) {
			rc = hf_error_set(err, HF_EINVAL,
			                  "cannot open log '%s'", opts->log);
			goto fail;
		}
	}
	rc = users_open(s, err);
	if (rc < 0)
		goto fail;
	rc = hfs_app_open(&s->app, &s->opts, err);
	if (rc < 0)
		goto fail;
	rc = start_daemon(s, err);
	if (rc < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	hf_server_stop(s);
	return rc;
}

const char *hf_server_url(const hf_server *s)
{
	return s->url;
}

int hf_server_port(const hf_server *s)
{
	return s->port;
}

void hf_server_stop(hf_server *s)
{
	if (!s)
		return;
	if (s->mhd) {
		/* No new connections; let the requests in flight finish. */
		MHD_quiesce_daemon(s->mhd);
		pthread_mutex_lock(&s->lock);
		while (s->inflight > 0)
			pthread_cond_wait(&s->idle, &s->lock);
		pthread_mutex_unlock(&s->lock);
		MHD_stop_daemon(s->mhd);
	}
	hfs_app_close(s->app);
	hfs_auth_free(s->auth);
	if (s->log)
		fclose(s->log);
	pthread_cond_destroy(&s->idle);
	pthread_mutex_destroy(&s->lock);
	hf_free(s);
}

static int fault_value(const char *spec, const char *name, long *out,
                       hf_error *err)
{
	size_t n = strlen(name);
	char *end;
	long v;

	if (strncmp(spec, name, n) || spec[n] != '=')
		return 1;
	v = strtol(spec + n + 1, &end, 10);
	if (end == spec + n + 1 || *end || v < 1)
		return hf_error_set(err, HF_EINVAL,
		                    "fault '%s' needs a positive number", spec);
	*out = v;
	return 0;
}

/* "cost=REQUEST_MS,PER_OP_MS": 1 when spec is another fault. */
static int fault_cost(struct hf_server_faults *f, const char *spec,
                      hf_error *err)
{
	const char *p = spec + 5;
	char *end, *end2 = NULL;
	long req, op;

	if (strncmp(spec, "cost=", 5))
		return 1;
	req = strtol(p, &end, 10);
	op = end != p && *end == ',' ? strtol(end + 1, &end2, 10) : -1;
	if (end == p || *end != ',' || end2 == end + 1 || *end2 || req < 0 ||
	    op < 0 || req > 600000 || op > 600000)
		return hf_error_set(err, HF_EINVAL,
		                    "fault '%s' needs REQUEST_MS,PER_OP_MS "
		                    "(two numbers of milliseconds, e.g. "
		                    "cost=20,2)",
		                    spec);
	f->cost_request_ms = req;
	f->cost_op_ms = op;
	return 0;
}

int hf_server_fault_parse(struct hf_server_faults *f, const char *spec,
                          hf_error *err)
{
	struct {
		const char *name;
		long *slot;
	} knobs[] = {
		{ "latency", &f->latency_ms },
		{ "fail-mutation", &f->fail_mutation },
		{ "drop-after-commit", &f->drop_after_commit },
		{ "http-503", &f->http_503 },
	};
	size_t i;
	int rc;

	rc = fault_cost(f, spec, err);
	if (rc <= 0)
		return rc;
	if (!strncmp(spec, "refuse-query=", 13)) {
		if (!spec[13] || strlen(spec + 13) >= sizeof(f->refuse_query))
			return hf_error_set(err, HF_EINVAL,
			                    "fault '%s' needs a text of 1 to "
			                    "%zu bytes",
			                    spec, sizeof(f->refuse_query) - 1);
		memcpy(f->refuse_query, spec + 13, strlen(spec + 13) + 1);
		return 0;
	}
	for (i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		rc = fault_value(spec, knobs[i].name, knobs[i].slot, err);
		if (rc <= 0)
			return rc;
	}
	return hf_error_set(err, HF_EINVAL,
	                    "unknown fault '%s' (latency=MS, fail-mutation=N, "
	                    "drop-after-commit=N, http-503=N, "
	                    "cost=REQUEST_MS,PER_OP_MS, refuse-query=TEXT)",
	                    spec);
}
