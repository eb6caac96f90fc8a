/*
 * Target resolution, target identity and the embedded default endpoint.
 * The engine only ever sees an address: whether it is a real Infrahub or
 * our own in-process endpoint makes no difference past this file.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output.h"
#include "target.h"
#include "hf/banned.h"

#define LOCAL_PREFIX "local:"
#define DEFAULT_DATA ".hubform/local.db"

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static int port_ok(const char *p, const char *end)
{
	for (; p < end; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

static int same(const char *p, const char *end, const char *s)
{
	return (size_t)(end - p) == strlen(s) && !strncmp(p, s, strlen(s));
}

int hf_target_normalize(const char *in, char *out, size_t n, hf_error *err)
{
	const char *p, *host, *end, *port = NULL;
	size_t slen, len;
	int https;

	https = !strncmp(in, "https://", 8) || !strncmp(in, "HTTPS://", 8);
	if (!https && strncmp(in, "http://", 7) && strncmp(in, "HTTP://", 7))
		return hf_error_set(err, HF_EINVAL,
				    "address '%s' must start with http:// or https://", in);
	slen = https ? 8 : 7;
	host = in + slen;
	end = host + strcspn(host, "/?#");
	if (memchr(host, '@', (size_t)(end - host)))
		return hf_error_set(err, HF_EINVAL,
				    "the address must not carry a user or password; "
				    "put the API token in INFRAHUB_API_TOKEN");
	if (strpbrk(in, "?#"))
		return hf_error_set(err, HF_EINVAL,
				    "address '%s' must not have a query or fragment", in);
	if (end == host)
		return hf_error_set(err, HF_EINVAL, "address '%s' has no host", in);
	/* the port: after the last ':' outside an IPv6 literal's brackets */
	p = memchr(host, ']', (size_t)(end - host));
	p = p ? p : host;
	for (; p < end; p++)
		if (*p == ':')
			port = p;
	len = (size_t)snprintf(out, n, "%s", https ? "https://" : "http://");
	for (p = host; p < (port ? port : end) && len + 1 < n; p++)
		out[len++] = (char)tolower((unsigned char)*p);
	out[len < n ? len : n - 1] = '\0';
	if (port && !port_ok(port + 1, end))
		return hf_error_set(err, HF_EINVAL, "address '%s' has a bad port", in);
	/* an explicit default port names the same server: drop it */
	if (port && port + 1 < end && !same(port, end, https ? ":443" : ":80"))
		len += (size_t)snprintf(out + len, len < n ? n - len : 0, "%.*s",
					(int)(end - port), port);
	len += (size_t)snprintf(out + len, len < n ? n - len : 0, "%s", end);
	if (len >= n)
		return hf_error_set(err, HF_EINVAL, "address '%.64s...' is too long", in);
	while (len > slen && out[len - 1] == '/')
		out[--len] = '\0';
	return 0;
}

/* An absolute form of `path`, whether or not it exists yet. */
static int absolute(const char *path, char *out, size_t n)
{
	char cwd[PATH_MAX], real[PATH_MAX];

	char dir[PATH_MAX], *slash;

	if (realpath(path, real))
		return snprintf(out, n, "%s", real) < (int)n ? 0 : -1;
	/* not there yet: its directory may be, so resolve that part */
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (realpath(dir, real))
			return snprintf(out, n, "%s/%s", real, slash + 1) < (int)n ? 0 : -1;
	}
	if (path[0] == '/')
		return snprintf(out, n, "%s", path) < (int)n ? 0 : -1;
	if (!getcwd(cwd, sizeof(cwd)))
		return -1;
	while (!strncmp(path, "./", 2))
		path += 2;
	return snprintf(out, n, "%s/%s", cwd, path) < (int)n ? 0 : -1;
}

int hf_target_resolve(struct hf_target *t, const struct hf_target_opts *o)
{
	const char *addr = o->address ? o->address : env("INFRAHUB_ADDRESS");
	const char *branch = o->branch ? o->branch : env("INFRAHUB_DEFAULT_BRANCH");
	hf_error err = HF_ERROR_INIT;
	const char *data = o->data ? o->data : DEFAULT_DATA;

	memset(t, 0, sizeof(*t));
	t->token = env("INFRAHUB_API_TOKEN");
	t->branch_from = o->branch ? "--branch" :
			 branch    ? "INFRAHUB_DEFAULT_BRANCH" :
				     NULL;
	snprintf(t->branch, sizeof(t->branch), "%s", branch ? branch : "");
	if (!addr || o->embedded) {
		t->announce = !o->data;
		if (!strcmp(data, ":memory:"))
			snprintf(t->data, sizeof(t->data), "%s", data);
		else if (absolute(data, t->data, sizeof(t->data)) < 0) {
			out_error("cannot tell the absolute path of '%s'", data);
			return -1;
		}
		snprintf(t->ident, sizeof(t->ident), LOCAL_PREFIX "%s", t->data);
		return 0;
	}
	t->address_from = o->address ? "--address" : "INFRAHUB_ADDRESS";
	if (hf_target_normalize(addr, t->address, sizeof(t->address), &err) < 0) {
		out_error("%s: %s", t->address_from, err.msg);
		return -1;
	}
	snprintf(t->ident, sizeof(t->ident), "%s", t->address);
	return 0;
}

int hf_target_from_ident(struct hf_target *t, const char *ident,
			 const char *branch)
{
	hf_error err = HF_ERROR_INIT;

	memset(t, 0, sizeof(*t));
	t->token = env("INFRAHUB_API_TOKEN");
	snprintf(t->branch, sizeof(t->branch), "%s", branch);
	snprintf(t->ident, sizeof(t->ident), "%s", ident);
	if (!strncmp(ident, LOCAL_PREFIX, strlen(LOCAL_PREFIX))) {
		t->announce = 1;
		snprintf(t->data, sizeof(t->data), "%s", ident + strlen(LOCAL_PREFIX));
		return 0;
	}
	if (hf_target_normalize(ident, t->address, sizeof(t->address), &err) < 0) {
		out_error("the plan's target '%s' is not usable: %s", ident, err.msg);
		return -1;
	}
	return 0;
}

int hf_target_start(struct hf_target *t, int create)
{
	struct hf_server_options so = HF_SERVER_OPTIONS_INIT;
	hf_error err = HF_ERROR_INIT;
	char dir[sizeof(t->data)], *slash;

	if (!t->data[0])
		return 0;
	if (!create && strcmp(t->data, ":memory:") && access(t->data, F_OK) < 0) {
		out_error("the embedded endpoint's database '%s' does not exist "
			  "(moved or deleted since the plan was made)", t->data);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", t->data);
	slash = strrchr(dir, '/');
	if (create && slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
			out_error("cannot create '%s': %s", dir, strerror(errno));
			return -1;
		}
	}
	so.listen = "127.0.0.1:0";
	so.data = t->data;
	so.threads = 2;
	if (hf_server_start(&t->embedded, &so, &err) < 0) {
		out_error("cannot start the embedded endpoint over '%s': %s",
			  t->data, err.msg);
		return -1;
	}
	snprintf(t->address, sizeof(t->address), "%s", hf_server_url(t->embedded));
	if (t->announce)
		out_info("hubform: no INFRAHUB_ADDRESS set; using the embedded "
			 "local endpoint over %s", t->data);
	return 0;
}

int hf_target_open(struct hf_target *t, const struct hf_target_opts *o)
{
	if (hf_target_resolve(t, o) < 0)
		return -1;
	return hf_target_start(t, 1);
}

void hf_target_close(struct hf_target *t)
{
	hf_server_stop(t->embedded);
	t->embedded = NULL;
}

const char *hf_target_describe(const char *ident, const char *branch,
			       char *buf, size_t n)
{
	if (branch && *branch)
		snprintf(buf, n, "%s (branch %s)", ident, branch);
	else
		snprintf(buf, n, "%s (its default branch)", ident);
	return buf;
}
