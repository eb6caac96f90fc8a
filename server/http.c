/*
 * HTTP front of the local endpoint, on libmicrohttpd with an internal
 * thread pool. This file owns everything MHD: binding, body collection with
 * a cap, token auth, fault injection and the request log. The routing and
 * the work happen in app.c.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
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
};

struct conn {
	hf_buf body;
	int too_big;
};

static const char err_auth_required[] =
	"{\"data\":null,\"errors\":[{\"message\":\"Authentication is required "
	"to perform this operation\",\"extensions\":{\"code\":401}}]}";
static const char err_bad_token[] =
	"{\"data\":null,\"errors\":[{\"message\":\"Invalid token\","
	"\"extensions\":{\"code\":401}}]}";
static const char err_too_big[] =
	"{\"errors\":[\"Request body too large\"]}";
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

static void log_request(hf_server *s, const char *method, const char *url,
			const struct hfs_response *rs, const struct conn *cn)
{
	hf_buf line = HF_BUF_INIT;
	size_t i;

	if (!s->log)
		return;
	hf_buf_addf(&line, "{\"method\":\"%s\",\"path\":\"", method);
	for (i = 0; url[i]; i++) {
		if (url[i] == '"' || url[i] == '\\')
			hf_buf_addch(&line, '\\');
		if ((unsigned char)url[i] >= 0x20)
			hf_buf_addch(&line, url[i]);
	}
	hf_buf_addf(&line, "\",\"status\":%d,\"bytes\":%zu,\"mutation\":%s}\n",
		    rs->status, cn->body.len, rs->mutated ? "true" : "false");
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

static int check_auth(hf_server *s, struct MHD_Connection *c,
		      enum MHD_Result *ret)
{
	const char *key;

	if (!s->opts.token)
		return 0;
	key = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					  "X-INFRAHUB-KEY");
	if (key && !strcmp(key, s->opts.token))
		return 0;
	*ret = reply_static(c, 401, key ? err_bad_token : err_auth_required);
	return -1;
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
	enum MHD_Result ret;

	if (cn->too_big)
		return reply_static(c, 413, err_too_big);
	if (check_auth(s, c, &ret) < 0)
		return ret;
	if (s->opts.faults.latency_ms > 0)
		sleep_ms(s->opts.faults.latency_ms);
	if (count_request(s))
		return reply_static(c, 503, err_503);
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_ns, &ns);
	rq.method = method;
	rq.path = url;
	rq.branch = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
						"branch");
	rq.namespaces = ns.items;
	rq.nnamespaces = ns.n;
	rq.token = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					       "X-INFRAHUB-KEY");
	rq.body = cn->body.ptr;
	rq.body_len = cn->body.len;
	hfs_app_handle(s->app, &rq, &rs);
	log_request(s, method, url, &rs, cn);
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
		cn = hf_calloc(1, sizeof(*cn));
		if (!cn)
			return MHD_NO;
		hf_buf_init(&cn->body, s->opts.max_body);
		cn->too_big = declared_too_big(s, c);
		*con_cls = cn;
		enter(s);
		return MHD_YES;
	}
	if (*upload_size) {
		if (!cn->too_big &&
		    hf_buf_addn(&cn->body, upload, *upload_size) < 0)
			cn->too_big = 1;
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
				    "listen address '%s' needs HOST:PORT", spec);
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
	/* poll, not epoll: quiescing an epoll thread pool aborts in MHD 0.9.75 */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC |
			 MHD_USE_ERROR_LOG;
	int rc;

	rc = parse_listen(s->opts.listen, &ss, host, sizeof(host), err);
	if (rc < 0)
		return rc;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	s->mhd = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, s,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)s->opts.threads,
		MHD_OPTION_NOTIFY_COMPLETED, on_done, s,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)300,
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

int hf_server_start(hf_server **out, const struct hf_server_options *opts,
		    hf_error *err)
{
	hf_server *s;
	int rc;

	*out = NULL;
	s = hf_calloc(1, sizeof(*s));
	if (!s)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	s->opts = *opts;
	if (!s->opts.threads)
		s->opts.threads = 4;
	if (!s->opts.max_body)
		s->opts.max_body = HF_SERVER_MAX_BODY;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->idle, NULL);
	if (opts->log) {
		s->log = fopen(opts->log, "a");
		if (!s->log) {
			rc = hf_error_set(err, HF_EINVAL,
					  "cannot open log '%s'", opts->log);
			goto fail;
		}
	}
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

	for (i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		rc = fault_value(spec, knobs[i].name, knobs[i].slot, err);
		if (rc <= 0)
			return rc;
	}
	return hf_error_set(err, HF_EINVAL,
			    "unknown fault '%s' (latency=MS, fail-mutation=N, "
			    "drop-after-commit=N, http-503=N)",
			    spec);
}
