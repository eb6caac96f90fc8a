/*
 * Process and HTTP helpers for the end-to-end tests. The server readiness
 * handshake reads the child's stderr until the "listening on" line.
 */
/* wait4() for the child's own peak RSS */
#define _DEFAULT_SOURCE 1
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "testutil.h"

const char *hf_test_bin(void)
{
	const char *b = getenv("HUBFORM_BIN");

	return b && *b ? b : "../build/hubform";
}

static const char *dir_env(const char *name)
{
	const char *d = getenv(name);
	struct stat st;

	if (!d || !*d || stat(d, &st) < 0 || !S_ISDIR(st.st_mode))
		return NULL;
	return d;
}

const char *hf_test_data(void)
{
	const char *d = dir_env("HF_TEST_DATA");

	return d ? d : "data";
}

const char *hf_test_shared(void)
{
	return dir_env("HF_SHARED_DIR");
}

static int rm_rf(const char *path)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		execlp("rm", "rm", "-rf", path, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return 0;
}

const char *hf_test_tmpdir(const char *name)
{
	static char path[1024];
	const char *base = getenv("HF_TEST_TMP");

	if (!base || !*base)
		base = "/tmp/hubform-tests";
	mkdir(base, 0777);
	snprintf(path, sizeof(path), "%s/%s.%ld", base, name, (long)getpid());
	rm_rf(path);
	if (mkdir(path, 0777) < 0)
		return NULL;
	return path;
}

static void drain(int fd, hf_buf *b)
{
	char tmp[8192];
	ssize_t n;

	for (;;) {
		n = read(fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		hf_buf_addn(b, tmp, (size_t)n);
	}
}

/* Read both pipes to EOF without deadlocking on a full pipe. */
static void collect(int ofd, int efd, hf_buf *out, hf_buf *err)
{
	struct pollfd p[2] = { { ofd, POLLIN, 0 }, { efd, POLLIN, 0 } };
	char tmp[8192];
	int open_fds = 2, i;
	ssize_t n;

	while (open_fds > 0) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		for (i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			n = read(p[i].fd, tmp, sizeof(tmp));
			if (n > 0) {
				hf_buf_addn(i ? err : out, tmp, (size_t)n);
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			p[i].fd = -1;
			open_fds--;
		}
	}
}

static void child(const char *cwd, int in, int out, int err,
                  const char *const *args)
{
	const char *argv[64];
	union {
		const char **c;
		char *const *m;
	} u;
	size_t i;

	dup2(in, 0);
	dup2(out, 1);
	dup2(err, 2);
	if (cwd && chdir(cwd) < 0)
		_exit(126);
	argv[0] = hf_test_bin();
	for (i = 0; args[i] && i < 62; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	u.c = argv;
	execv(argv[0], u.m);
	_exit(127);
}

int hf_run(struct hf_run *r, const char *cwd, const char *input,
           const char *const *args)
{
	int pin[2], pout[2], perr[2], st;
	hf_buf out = HF_BUF_INIT, err = HF_BUF_INIT;
	struct timeval t0, t1;
	struct rusage ru;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (pipe(pin) < 0 || pipe(pout) < 0 || pipe(perr) < 0)
		return -1;
	gettimeofday(&t0, NULL);
	pid = fork();
	if (pid == 0) {
		close(pin[1]);
		close(pout[0]);
		close(perr[0]);
		child(cwd, pin[0], pout[1], perr[1], args);
	}
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	if (input) {
		signal(SIGPIPE, SIG_IGN);
		if (write(pin[1], input, strlen(input)) < 0)
			(void)0;
	}
	close(pin[1]);
	collect(pout[0], perr[0], &out, &err);
	close(pout[0]);
	close(perr[0]);
	if (pid < 0 || wait4(pid, &st, 0, &ru) < 0)
		return -1;
	gettimeofday(&t1, NULL);
	r->seconds = (double)(t1.tv_sec - t0.tv_sec) +
	             (double)(t1.tv_usec - t0.tv_usec) / 1e6;
	r->maxrss_kb = ru.ru_maxrss;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r->out = hf_buf_detach(&out);
	r->err = hf_buf_detach(&err);
	return r->out && r->err ? 0 : -1;
}

void hf_run_release(struct hf_run *r)
{
	hf_free(r->out);
	hf_free(r->err);
	r->out = NULL;
	r->err = NULL;
}

/* Read lines from fd until one says "listening on http://..." */
static int wait_ready(struct hf_served *s)
{
	hf_buf line = HF_BUF_INIT;
	char c;
	const char *p;
	int rc = -1;

	for (;;) {
		ssize_t n = read(s->errfd, &c, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (c != '\n') {
			hf_buf_addch(&line, c);
			continue;
		}
		p = strstr(line.ptr, "listening on http://");
		if (p) {
			snprintf(s->url, sizeof(s->url), "%s", p + 13);
			p = strrchr(s->url, ':');
			s->port = p ? (int)strtol(p + 1, NULL, 10) : 0;
			rc = s->port > 0 ? 0 : -1;
			break;
		}
		fprintf(stderr, "[serve] %s\n", line.ptr);
		hf_buf_reset(&line);
	}
	hf_buf_release(&line);
	return rc;
}

int hf_free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

int hf_serve_start_at(struct hf_served *s, int port, const char *db,
                      const char *const *extra)
{
	const char *args[48] = { "serve", "--listen", NULL, "--data", db };
	char listen[64];
	int perr[2], devnull;
	size_t i, n = 5;

	memset(s, 0, sizeof(*s));
	s->errfd = -1;
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	args[2] = listen;
	for (i = 0; extra && extra[i] && n < 46; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	if (pipe(perr) < 0)
		return -1;
	devnull = open("/dev/null", O_RDWR);
	s->pid = fork();
	if (s->pid == 0) {
		close(perr[0]);
		child(NULL, devnull, devnull, perr[1], args);
	}
	close(perr[1]);
	close(devnull);
	s->errfd = perr[0];
	if (s->pid < 0 || wait_ready(s) < 0) {
		hf_serve_stop(s);
		return -1;
	}
	return 0;
}

int hf_serve_start(struct hf_served *s, const char *db,
                   const char *const *extra)
{
	return hf_serve_start_at(s, 0, db, extra);
}

int hf_serve_kill(struct hf_served *s, int sig)
{
	hf_buf rest = HF_BUF_INIT;
	int st;

	if (s->pid <= 0)
		return -1;
	kill(s->pid, sig);
	if (s->errfd >= 0) {
		drain(s->errfd, &rest);
		if (rest.len)
			fprintf(stderr, "[serve] %s", rest.ptr);
		close(s->errfd);
		s->errfd = -1;
	}
	hf_buf_release(&rest);
	if (waitpid(s->pid, &st, 0) < 0)
		return -1;
	s->pid = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int hf_serve_stop(struct hf_served *s)
{
	return hf_serve_kill(s, SIGTERM);
}

static size_t on_data(char *p, size_t size, size_t n, void *payload)
{
	hf_buf_addn(payload, p, size * n);
	return size * n;
}

int hf_http(const char *method, const char *url, const char *body,
            const char *const *headers, long *status, char **resp)
{
	struct curl_slist *h = NULL;
	hf_buf b = HF_BUF_INIT;
	CURL *c = curl_easy_init();
	CURLcode cc;
	size_t i;

	*resp = NULL;
	*status = 0;
	if (!c)
		return -1;
	h = curl_slist_append(h, "Content-Type: application/json");
	for (i = 0; headers && headers[i]; i++)
		h = curl_slist_append(h, headers[i]);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	*resp = hf_buf_detach(&b);
	return cc == CURLE_OK && *resp ? 0 : -1;
}

int hf_test_load_schema(const char *url)
{
	char path[1024], u[1024], *body, *resp = NULL;
	long status = 0;
	int rc;

	snprintf(path, sizeof(path), "%s/server/schema.json", hf_test_data());
	body = hf_read_file(path, NULL);
	snprintf(u, sizeof(u), "%s/api/schema/load", url);
	rc = body && hf_http("POST", u, body, NULL, &status, &resp) == 0 &&
	                     status == 200
	             ? 0
	             : -1;
	hf_free(resp);
	hf_free(body);
	return rc;
}

char *hf_read_file(const char *path, size_t *len)
{
	hf_buf b = HF_BUF_INIT;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return NULL;
	drain(fd, &b);
	close(fd);
	if (len)
		*len = b.len;
	return hf_buf_detach(&b);
}

int hf_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int rc = 0;

	if (!f)
		return -1;
	if (fputs(text, f) < 0)
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

int hf_sh(const char *cwd, const char *script, char **out)
{
	hf_buf b = HF_BUF_INIT;
	char chunk[4096];
	int fds[2], st;
	ssize_t n;
	pid_t pid;

	*out = NULL;
	if (pipe(fds) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		if (cwd && chdir(cwd) < 0)
			_exit(126);
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while ((n = read(fds[0], chunk, sizeof(chunk))) > 0 ||
	       (n < 0 && errno == EINTR))
		if (n > 0)
			hf_buf_addn(&b, chunk, (size_t)n);
	close(fds[0]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			hf_buf_release(&b);
			return -1;
		}
	*out = hf_strndup(b.ptr ? b.ptr : "", b.len);
	hf_buf_release(&b);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int hf_have(const char *tool)
{
	char script[300], *out = NULL;
	int rc;

	snprintf(script, sizeof(script), "command -v '%s' >/dev/null", tool);
	rc = hf_sh(NULL, script, &out);
	hf_free(out);
	return rc == 0;
}
