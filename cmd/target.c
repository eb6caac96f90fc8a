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

#include "hf/alloc.h"
#include "hf/buf.h"
#include "hf/client.h"
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

int cli_target_normalize(const char *in, char *out, size_t n, hf_error *err)
{
	const char *p, *host, *end, *port = NULL;
	size_t slen, len;
	int https;

	https = !strncmp(in, "https://", 8) || !strncmp(in, "HTTPS://", 8);
	if (!https && strncmp(in, "http://", 7) && strncmp(in, "HTTP://", 7))
		return hf_error_set(
		        err, HF_EINVAL,
		        "address '%s' must start with http:// or https://", in);
	slen = https ? 8 : 7;
	host = in + slen;
	end = host + strcspn(host, "/?#");
	if (memchr(host, '@', (size_t)(end - host)))
		return hf_error_set(
		        err, HF_EINVAL,
		        "the address must not carry a user or password; "
		        "put the API token in INFRAHUB_API_TOKEN");
	if (strpbrk(in, "?#"))
		return hf_error_set(
		        err, HF_EINVAL,
		        "address '%s' must not have a query or fragment", in);
	if (end == host)
		return hf_error_set(err, HF_EINVAL, "address '%s' has no host",
		                    in);
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
		return hf_error_set(err, HF_EINVAL,
		                    "address '%s' has a bad port", in);
	/* an explicit default port names the same server: drop it */
	if (port && port + 1 < end && !same(port, end, https ? ":443" : ":80"))
		len += (size_t)snprintf(out + len, len < n ? n - len : 0,
		                        "%.*s", (int)(end - port), port);
	len += (size_t)snprintf(out + len, len < n ? n - len : 0, "%s", end);
	if (len >= n)
		return hf_error_set(err, HF_EINVAL,
		                    "address '%.64s...' is too long", in);
	while (len > slen && out[len - 1] == '/')
		out[--len] = '\0';
	return 0;
}

/* ---- infrahubctl.toml ---- */

#define CTL_FILE     "infrahubctl.toml"
#define CTL_LINE_MAX 8192

struct toml_in {
	const char *path;
	FILE *f;
	char line[CTL_LINE_MAX];
	int lineno;
	char *p; /* the read position in `line` */
};

static void skip_ws(struct toml_in *in)
{
	while (*in->p == ' ' || *in->p == '\t')
		in->p++;
}

static int col(const struct toml_in *in)
{
	return (int)(in->p - in->line) + 1;
}

static int toml_fail(const struct toml_in *in, const char *msg)
{
	out_error("%s:%d:%d: %s", in->path, in->lineno, col(in), msg);
	return -1;
}

/* 1 with the next line in `line`, 0 at the end, -1 after an error. */
static int next_line(struct toml_in *in)
{
	size_t len;

	if (!fgets(in->line, sizeof(in->line), in->f))
		return 0;
	in->lineno++;
	in->p = in->line;
	len = strlen(in->line);
	if (len == sizeof(in->line) - 1 && in->line[len - 1] != '\n')
		return toml_fail(in, "line too long");
	while (len && (in->line[len - 1] == '\n' || in->line[len - 1] == '\r'))
		in->line[--len] = '\0';
	return 1;
}

static void utf8(hf_buf *b, unsigned long cp)
{
	if (cp < 0x80) {
		hf_buf_addch(b, (char)cp);
	} else if (cp < 0x800) {
		hf_buf_addch(b, (char)(0xc0 | (cp >> 6)));
		hf_buf_addch(b, (char)(0x80 | (cp & 0x3f)));
	} else {
		hf_buf_addch(b, (char)(0xe0 | (cp >> 12)));
		hf_buf_addch(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
		hf_buf_addch(b, (char)(0x80 | (cp & 0x3f)));
	}
}

static unsigned long hexval(char c)
{
	return isdigit((unsigned char)c)
	               ? (unsigned long)(c - '0')
	               : (unsigned long)(tolower((unsigned char)c) - 'a' + 10);
}

/* One escape, `p` just after the backslash of a basic string. */
static int escape(struct toml_in *in, hf_buf *b)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e = *in->p ? strchr(from, *in->p) : NULL;
	unsigned long cp = 0;
	int i;

	if (e) {
		hf_buf_addch(b, to[e - from]);
		in->p++;
		return 0;
	}
	if (*in->p != 'u')
		return toml_fail(in, "unknown escape in a string");
	for (i = 1; i <= 4; i++) {
		if (!isxdigit((unsigned char)in->p[i]))
			return toml_fail(in,
			                 "\\u needs four hexadecimal digits");
		cp = cp * 16 + hexval(in->p[i]);
	}
	if (!cp || (cp >= 0xd800 && cp <= 0xdfff))
		return toml_fail(in, "\\u names no character hubform accepts");
	utf8(b, cp);
	in->p += 5;
	return 0;
}

/* A one-line string, "basic" or 'literal', into *out (hf_free). */
static int toml_string(struct toml_in *in, char **out)
{
	hf_buf b = HF_BUF_INIT;
	char q = *in->p++;
	int rc = 0;

	while (rc == 0 && *in->p != q) {
		if (!*in->p)
			rc = toml_fail(in, "unterminated string");
		else if ((unsigned char)*in->p < 0x20 && *in->p != '\t')
			rc = toml_fail(in, "control character in a string");
		else if (q == '"' && *in->p == '\\' && ++in->p)
			rc = escape(in, &b);
		else
			hf_buf_addch(&b, *in->p++);
	}
	if (rc == 0 && b.failed)
		rc = toml_fail(in, "out of memory");
	if (rc < 0) {
		hf_buf_release(&b);
		return -1;
	}
	in->p++;
	*out = hf_strndup(b.ptr, b.len);
	hf_buf_release(&b);
	return *out ? 0 : toml_fail(in, "out of memory");
}

/*
 * The value of a key hubform does not use: skipped, arrays, inline tables
 * and multi-line strings included, over as many lines as they take.
 */
static int toml_skip(struct toml_in *in)
{
	const char *triple = !strncmp(in->p, "\"\"\"", 3) ? "\"\"\""
	                     : !strncmp(in->p, "'''", 3)  ? "'''"
	                                                  : NULL;
	int depth = 0, r;
	char q = 0;

	if (triple) {
		in->p += 3;
		while (!strstr(in->p, triple))
			if ((r = next_line(in)) <= 0)
				return r < 0 ? -1
				             : toml_fail(in,
				                         "unterminated string");
		return 0;
	}
	for (;;) {
		for (; *in->p; in->p++) {
			if (q && *in->p == '\\' && q == '"' && in->p[1])
				in->p++;
			else if (q && *in->p == q)
				q = 0;
			else if (!q && (*in->p == '"' || *in->p == '\''))
				q = *in->p;
			else if (!q && *in->p == '#')
				break;
			else if (!q && (*in->p == '[' || *in->p == '{'))
				depth++;
			else if (!q && (*in->p == ']' || *in->p == '}'))
				depth--;
		}
		if (depth <= 0)
			return 0;
		q = 0;
		if ((r = next_line(in)) <= 0)
			return r < 0 ? -1
			             : toml_fail(in,
			                         "unterminated array or table");
	}
}

/* infrahubctl's configuration: read once per process. */
static struct hf_infrahubctl ctl_cfg;
static char *ctl_values[5];
static int ctl_loaded; /* 0: not yet; 1: loaded; -1: failed */

static char **ctl_field(const char *key, size_t len)
{
	static const char *const names[] = { "server_address", "api_token",
		                             "default_branch", "username",
		                             "password" };
	size_t i;

	for (i = 0; i < 5; i++)
		if (strlen(names[i]) == len && !strncmp(key, names[i], len))
			return &ctl_values[i];
	return NULL;
}

/* One "key = value" line at the top level. */
static int toml_keyval(struct toml_in *in)
{
	const char *key = in->p;
	char **field;
	size_t len;

	while (isalnum((unsigned char)*in->p) || *in->p == '_' || *in->p == '-')
		in->p++;
	len = (size_t)(in->p - key);
	if (!len)
		return toml_fail(in, "expected a key");
	skip_ws(in);
	if (*in->p == '.')
		return toml_skip(in); /* a dotted key: a table, not ours */
	if (*in->p != '=')
		return toml_fail(in, "expected '=' after the key");
	in->p++;
	skip_ws(in);
	field = ctl_field(key, len);
	if (!field)
		return toml_skip(in);
	if (*field)
		return toml_fail(in, "this key is set twice");
	if ((*in->p != '"' && *in->p != '\'') || !strncmp(in->p, "\"\"\"", 3) ||
	    !strncmp(in->p, "'''", 3))
		return toml_fail(in, "expected a one-line string");
	if (toml_string(in, field) < 0)
		return -1;
	skip_ws(in);
	if (*in->p && *in->p != '#')
		return toml_fail(in, "unexpected text after the value");
	return 0;
}

static int toml_parse(struct toml_in *in)
{
	int in_table = 0, r;

	while ((r = next_line(in)) > 0) {
		skip_ws(in);
		if (!*in->p || *in->p == '#')
			continue;
		if (*in->p == '[') {
			in_table = 1; /* every key from here on is in a table */
			continue;
		}
		if (!in_table && toml_keyval(in) < 0)
			return -1;
	}
	return r;
}

static int ctl_load(void)
{
	const char *named = env("INFRAHUBCTL_CONFIG");
	static char path[4096];
	struct toml_in in;
	int rc;

	memset(&in, 0, sizeof(in));
	snprintf(path, sizeof(path), "%s", named ? named : CTL_FILE);
	in.path = path;
	in.f = fopen(path, "r");
	if (!in.f) {
		if (!named && errno == ENOENT)
			return 0;
		out_error("cannot read %s'%s': %s",
		          named ? "INFRAHUBCTL_CONFIG " : "", path,
		          strerror(errno));
		return -1;
	}
	ctl_cfg.path = path;
	rc = toml_parse(&in);
	fclose(in.f);
	ctl_cfg.server_address = ctl_values[0];
	ctl_cfg.api_token = ctl_values[1];
	ctl_cfg.default_branch = ctl_values[2];
	ctl_cfg.username = ctl_values[3];
	ctl_cfg.password = ctl_values[4];
	return rc;
}

int cli_target_infrahubctl(const struct hf_infrahubctl **cfg)
{
	if (!ctl_loaded)
		ctl_loaded = ctl_load() < 0 ? -1 : 1;
	*cfg = &ctl_cfg;
	return ctl_loaded < 0 ? -1 : 0;
}

int cli_target_default_timeout(long *timeout)
{
	const char *v = env("INFRAHUB_TIMEOUT");
	char *end;
	long n;

	if (!v)
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < 1 || n > 3600) {
		out_error("INFRAHUB_TIMEOUT '%s' is not a number of seconds "
		          "from 1 to 3600",
		          v);
		return -1;
	}
	*timeout = n;
	return 0;
}

int cli_in_automation(void)
{
	const char *v = env("HUBFORM_IN_AUTOMATION");

	return v && strcmp(v, "0") && strcmp(v, "false");
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
			return snprintf(out, n, "%s/%s", real, slash + 1) <
			                       (int)n
			               ? 0
			               : -1;
	}
	if (path[0] == '/')
		return snprintf(out, n, "%s", path) < (int)n ? 0 : -1;
	if (!getcwd(cwd, sizeof(cwd)))
		return -1;
	while (!strncmp(path, "./", 2))
		path += 2;
	return snprintf(out, n, "%s/%s", cwd, path) < (int)n ? 0 : -1;
}

/* A non-empty string or NULL. */
static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

/*
 * The credentials: $INFRAHUB_API_TOKEN, else infrahubctl.toml's
 * api_token; with neither, $INFRAHUB_USERNAME and $INFRAHUB_PASSWORD,
 * else the file's username and password. A username without a password
 * (or the reverse) is an error naming where each came from.
 */
static int credentials(struct hf_target *t, const struct hf_infrahubctl *ctl)
{
	const char *u = env("INFRAHUB_USERNAME"), *p = env("INFRAHUB_PASSWORD");

	t->token = env("INFRAHUB_API_TOKEN");
	if (!t->token)
		t->token = nonempty(ctl->api_token);
	if (t->token)
		return 0;
	t->login_from = "INFRAHUB_USERNAME/INFRAHUB_PASSWORD";
	if (!u && !p) {
		u = nonempty(ctl->username);
		p = nonempty(ctl->password);
		t->login_from = ctl->path;
	}
	if (!u && !p) {
		t->login_from = NULL;
		return 0;
	}
	if (!u || !p) {
		out_error("%s: a %s without a %s; set both, or an API token",
		          t->login_from, u ? "username" : "password",
		          u ? "password" : "username");
		return -1;
	}
	t->username = u;
	t->password = p;
	return 0;
}

int cli_target_resolve(struct hf_target *t, const struct hf_target_opts *o)
{
	const char *addr = o->address ? o->address : env("INFRAHUB_ADDRESS");
	const char *branch =
	        o->branch ? o->branch : env("INFRAHUB_DEFAULT_BRANCH");
	const struct hf_infrahubctl *ctl;
	hf_error err = HF_ERROR_INIT;
	const char *data = o->data ? o->data : DEFAULT_DATA;

	memset(t, 0, sizeof(*t));
	if (cli_target_infrahubctl(&ctl) < 0 || credentials(t, ctl) < 0)
		return -1;
	t->branch_from = o->branch ? "--branch"
	                 : branch  ? "INFRAHUB_DEFAULT_BRANCH"
	                           : NULL;
	if (!branch && nonempty(ctl->default_branch)) {
		branch = ctl->default_branch;
		t->branch_from = ctl->path;
	}
	snprintf(t->branch, sizeof(t->branch), "%s", branch ? branch : "");
	if (!addr && !o->embedded && nonempty(ctl->server_address)) {
		addr = ctl->server_address;
		t->address_from = ctl->path;
	}
	if (!addr || o->embedded) {
		t->announce = !o->data;
		if (!strcmp(data, ":memory:"))
			snprintf(t->data, sizeof(t->data), "%s", data);
		else if (absolute(data, t->data, sizeof(t->data)) < 0) {
			out_error("cannot tell the absolute path of '%s'",
			          data);
			return -1;
		}
		snprintf(t->ident, sizeof(t->ident), LOCAL_PREFIX "%s",
		         t->data);
		return 0;
	}
	if (!t->address_from)
		t->address_from = o->address ? "--address" : "INFRAHUB_ADDRESS";
	if (cli_target_normalize(addr, t->address, sizeof(t->address), &err) <
	    0) {
		out_error("%s: %s", t->address_from, err.msg);
		return -1;
	}
	snprintf(t->ident, sizeof(t->ident), "%s", t->address);
	return 0;
}

int cli_target_from_ident(struct hf_target *t, const char *ident,
                          const char *branch)
{
	const struct hf_infrahubctl *ctl;
	hf_error err = HF_ERROR_INIT;

	memset(t, 0, sizeof(*t));
	if (cli_target_infrahubctl(&ctl) < 0 || credentials(t, ctl) < 0)
		return -1;
	snprintf(t->branch, sizeof(t->branch), "%s", branch);
	snprintf(t->ident, sizeof(t->ident), "%s", ident);
	if (!strncmp(ident, LOCAL_PREFIX, strlen(LOCAL_PREFIX))) {
		t->announce = 1;
		snprintf(t->data, sizeof(t->data), "%s",
		         ident + strlen(LOCAL_PREFIX));
		return 0;
	}
	if (cli_target_normalize(ident, t->address, sizeof(t->address), &err) <
	    0) {
		out_error("the plan's target '%s' is not usable: %s", ident,
		          err.msg);
		return -1;
	}
	return 0;
}

int cli_target_start(struct hf_target *t, int create)
{
	struct hf_server_options so = HF_SERVER_OPTIONS_INIT;
	hf_error err = HF_ERROR_INIT;
	char dir[sizeof(t->data)], *slash;

	if (!t->data[0])
		return 0;
	if (!create && strcmp(t->data, ":memory:") &&
	    access(t->data, F_OK) < 0) {
		out_error(
		        "the embedded endpoint's database '%s' does not exist "
		        "(moved or deleted since the plan was made)",
		        t->data);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", t->data);
	slash = strrchr(dir, '/');
	if (create && slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
			out_error("cannot create '%s': %s", dir,
			          strerror(errno));
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
	snprintf(t->address, sizeof(t->address), "%s",
	         hf_server_url(t->embedded));
	if (t->announce)
		out_info("hubform: no INFRAHUB_ADDRESS set; using the embedded "
		         "local endpoint over %s",
		         t->data);
	return 0;
}

int cli_target_open(struct hf_target *t, const struct hf_target_opts *o)
{
	if (cli_target_resolve(t, o) < 0)
		return -1;
	return cli_target_start(t, 1);
}

void cli_target_client_options(const struct hf_target *t,
                               struct hf_client_options *co)
{
	co->address = t->address;
	co->token = t->token;
	co->username = t->token ? NULL : t->username;
	co->password = t->token ? NULL : t->password;
	co->branch = t->branch[0] ? t->branch : NULL;
}

int cli_target_cli_connect(struct hf_target *t, const struct hf_target_cli *o,
                           struct hf_client **out)
{
	struct hf_client_options co = HF_CLIENT_OPTIONS_INIT;
	struct hf_target_opts to = { o->address, o->branch, NULL, 0 };
	hf_error err = HF_ERROR_INIT;

	*out = NULL;
	if (cli_target_resolve(t, &to) < 0 || cli_target_start(t, 1) < 0)
		return -1;
	co.insecure = o->insecure;
	co.timeout = o->timeout;
	co.retries = o->retries;
	co.parallelism = 1;
	cli_target_client_options(t, &co);
	if (hf_client_new(out, &co, &err) < 0) {
		out_error("%s", err.msg);
		return -1;
	}
	return 0;
}

const char *cli_target_auth_hint(const struct hf_target *t)
{
	static char hint[512];

	if (t->token)
		snprintf(hint, sizeof(hint),
		         "the server refused the API token (INFRAHUB_API_TOKEN "
		         "or infrahubctl.toml's api_token)");
	else if (t->username)
		snprintf(hint, sizeof(hint),
		         "the login as '%s' (from %s) was refused or may not "
		         "do this",
		         t->username, t->login_from);
	else
		snprintf(hint, sizeof(hint),
		         "no credentials are set: set INFRAHUB_API_TOKEN, or "
		         "INFRAHUB_USERNAME and INFRAHUB_PASSWORD");
	return hint;
}

void cli_target_close(struct hf_target *t)
{
	hf_server_stop(t->embedded);
	t->embedded = NULL;
}

const char *cli_target_describe(const char *ident, const char *branch,
                                char *buf, size_t n)
{
	if (branch && *branch)
		snprintf(buf, n, "%s (branch %s)", ident, branch);
	else
		snprintf(buf, n, "%s (its default branch)", ident);
	return buf;
}
