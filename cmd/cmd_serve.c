/*
 * hubform serve: run the local Infrahub-compatible endpoint in the
 * foreground until SIGINT or SIGTERM. When ready it prints exactly one line,
 * "listening on http://HOST:PORT", on stderr: scripts and tests wait for
 * that line instead of sleeping. Binds loopback unless told otherwise.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hf/server.h"
#include "cmd.h"
#include "opt.h"
#include "output.h"
#include "hf/banned.h"

static const char usage[] =
        "hubform serve [--listen ADDR:PORT] [--data FILE] [--token-file FILE] "
        "[--default-branch NAME] [--fault SPEC]...";

/*
 * The token to require: --token (visible to every local user in
 * /proc/PID/cmdline, so for tests), --token-file FILE (first line), or
 * $HUBFORM_SERVE_TOKEN. Empty or control characters: refused.
 */
/*
 * The first line of `file` into out[n]; a NUL byte in it, or a line that
 * does not fit, is refused (fgets would silently cut the token there).
 */
static int read_token_file(char *out, size_t n, const char *file)
{
	FILE *f = fopen(file, "rb");
	size_t len = 0;
	int c;

	if (!f) {
		out_error("cannot read --token-file '%s': %s", file,
		          strerror(errno));
		return -1;
	}
	while ((c = getc(f)) != EOF && c != '\n') {
		if (c == '\0' || len + 1 >= n) {
			fclose(f);
			out_error("--token-file '%s': %s", file,
			          c ? "the token is too long"
			            : "the token contains a NUL byte");
			return -1;
		}
		out[len++] = (char)c;
	}
	fclose(f);
	if (len && out[len - 1] == '\r')
		len--;
	out[len] = '\0';
	return 0;
}

static int read_token(char *out, size_t n, const char *opt, const char *file)
{
	const char *env = getenv("HUBFORM_SERVE_TOKEN");
	const unsigned char *p;

	out[0] = '\0';
	if (file) {
		if (read_token_file(out, n, file) < 0)
			return -1;
	} else if (opt || (env && *env)) {
		if (strlen(opt ? opt : env) >= n) {
			out_error("the token is too long");
			return -1;
		}
		snprintf(out, n, "%s", opt ? opt : env);
	} else {
		return 0;
	}
	if (!out[0]) {
		out_error("the token is empty");
		return -1;
	}
	for (p = (const unsigned char *)out; *p; p++)
		if (*p < 0x21 || *p >= 0x7f) {
			out_error(
			        "the token must not contain spaces or control "
			        "characters");
			return -1;
		}
	return 1;
}

static int parse_faults(struct hf_server_faults *f,
                        const struct hf_strlist *specs)
{
	hf_error err = HF_ERROR_INIT;
	size_t i;

	for (i = 0; i < specs->n; i++) {
		if (hf_server_fault_parse(f, specs->items[i], &err) < 0) {
			out_error("%s", err.msg);
			return -1;
		}
	}
	return 0;
}

static int wait_for_signal(void)
{
	sigset_t set;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigwait(&set, &sig) != 0)
		return -1;
	return sig;
}

static void block_signals(void)
{
	sigset_t set;

	/* Blocked before the worker threads start, so they inherit it. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void ensure_parent_dir(const char *path)
{
	/* The default database lives in .hubform/; create it when needed. */
	if (path && !strncmp(path, ".hubform/", 9))
		mkdir(".hubform", 0777);
}

int cmd_serve(struct hf_ctx *ctx, int argc, char **argv)
{
	struct hf_server_options so = HF_SERVER_OPTIONS_INIT;
	struct hf_strlist args = { 0 }, faults = { 0 };
	const char *listen = NULL, *data = NULL, *token = NULL, *log = NULL;
	const char *default_branch = NULL, *token_file = NULL;
	char tok[4096];
	long threads = 4, max_body = (long)HF_SERVER_MAX_BODY;
	long conn_timeout = HF_SERVER_CONN_TIMEOUT;
	long max_conns = HF_SERVER_MAX_CONNS;
	long max_conns_ip = HF_SERVER_MAX_CONNS_PER_IP;
	long max_answer = (long)HF_SERVER_MAX_ANSWER;
	long max_cost = (long)HF_SERVER_MAX_COST;
	hf_error err = HF_ERROR_INIT;
	hf_server *srv = NULL;
	const struct hf_opt opts[] = {
		HF_OPT_STRING('l', "listen", "ADDR:PORT", &listen,
		              "address to listen on (default 127.0.0.1:8000; "
		              "port 0 picks a free one)"),
		HF_OPT_STRING('d', "data", "FILE", &data,
		              "SQLite database (default .hubform/local.db)"),
		HF_OPT_STRING(0, "token", "TOKEN", &token,
		              "require this X-INFRAHUB-KEY on every request "
		              "(visible to local users: prefer --token-file or "
		              "$HUBFORM_SERVE_TOKEN)"),
		HF_OPT_STRING(0, "token-file", "FILE", &token_file,
		              "read the required token from FILE's first line"),
		HF_OPT_INT(0, "threads", "N", &threads, 1, 64,
		           "HTTP worker threads (default 4)"),
		HF_OPT_INT(0, "max-body", "BYTES", &max_body, 1024, 1L << 32,
		           "request body cap (default 64 MiB)"),
		HF_OPT_INT(0, "conn-timeout", "SECONDS", &conn_timeout, 1, 3600,
		           "close a connection idle this long "
		           "(default 15)"),
		HF_OPT_INT(0, "max-connections", "N", &max_conns, 1, 100000,
		           "connections at once (default 1000)"),
		HF_OPT_INT(0, "max-connections-per-ip", "N", &max_conns_ip, 1,
		           100000,
		           "connections at once from one address "
		           "(default 64)"),
		HF_OPT_INT(0, "max-answer", "BYTES", &max_answer, 1024,
		           1L << 40, "largest GraphQL answer (default 64 MiB)"),
		HF_OPT_INT(0, "max-query-cost", "N", &max_cost, 1, 1L << 50,
		           "largest estimated query work, fields x "
		           "objects (default 5000000)"),
		HF_OPT_STRING(0, "default-branch", "NAME", &default_branch,
		              "name of the default branch of a new database "
		              "(default main)"),
		HF_OPT_STRING(0, "log", "FILE", &log,
		              "append one JSON line per request to FILE"),
		HF_OPT_LIST(0, "fault", "SPEC", &faults,
		            "inject a fault, for tests: latency=MS, "
		            "fail-mutation=N, drop-after-commit=N, http-503=N, "
		            "refuse-query=TEXT; "
		            "or model a real Infrahub's cost, for benchmarks: "
		            "cost=REQUEST_MS,PER_OP_MS"),
		HF_OPT_END(),
	};
	int rc;

	rc = cli_cmd_parse(ctx, usage,
	                   "Run the local Infrahub-compatible endpoint.", opts,
	                   argc, argv, &args);
	if (rc >= 0)
		goto out;
	rc = HF_EXIT_USAGE;
	if (args.n) {
		out_error("unexpected argument '%s'", args.items[0]);
		goto out;
	}
	if (parse_faults(&so.faults, &faults) < 0)
		goto out;
	so.listen = listen ? listen : so.listen;
	so.data = data ? data : so.data;
	switch (read_token(tok, sizeof(tok), token, token_file)) {
	case -1:
		rc = HF_EXIT_ERROR;
		goto out;
	case 1:
		so.token = tok;
		break;
	default:
		so.token = NULL;
	}
	so.log = log;
	so.default_branch = default_branch;
	so.threads = (unsigned)threads;
	so.max_body = (size_t)max_body;
	so.conn_timeout = (unsigned)conn_timeout;
	so.max_conns = (unsigned)max_conns;
	so.max_conns_per_ip = (unsigned)max_conns_ip;
	so.max_answer = (size_t)max_answer;
	so.max_cost = (unsigned long long)max_cost;
	ensure_parent_dir(so.data);
	block_signals();
	rc = HF_EXIT_ERROR;
	if (hf_server_start(&srv, &so, &err) < 0) {
		out_error_rec(&err);
		goto out;
	}
	out_info("listening on %s", hf_server_url(srv));
	wait_for_signal();
	hf_server_stop(srv);
	rc = HF_EXIT_OK;
out:
	cli_strlist_release(&args);
	cli_strlist_release(&faults);
	return rc;
}
