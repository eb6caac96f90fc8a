/*
 * hubform lock [--break HOLDER]: show who holds the apply lock of the
 * target (a branch hubform-lock-<branch> in Infrahub, engine/lock.c), or
 * break it, only when HOLDER names the current holder exactly.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "hf/lock.h"
#include "opt.h"
#include "output.h"
#include "pipeline.h"
#include "target.h"

#include "hf/banned.h"

static const char usage[] =
        "hubform lock [--address URL] [--branch B] [--break HOLDER]";

/*
 * `s` with every control character escaped, for stdout (stderr messages
 * are escaped by output.c): the holder's fields come from the server.
 */
static const char *safe(const char *s, char *buf, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;
	int w;

	for (; *p && o + 7 < n; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			w = snprintf(buf + o, n - o, "\\x%02x", *p);
			o += w > 0 ? (size_t)w : 0;
		} else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			w = snprintf(buf + o, n - o, "\\u%04x", *++p);
			o += w > 0 ? (size_t)w : 0;
		} else {
			buf[o++] = (char)*p;
		}
	}
	buf[o] = '\0';
	return buf;
}

/* A holder on this very host whose process is gone: say so. */
static void hint_dead(const struct hf_lock_info *in, const char *holder)
{
	char host[HF_LOCK_HOST_MAX] = "";

	if (in->pid <= 0 || gethostname(host, sizeof(host) - 1) != 0 ||
	    strcmp(host, in->host) != 0)
		return;
	if (kill((pid_t)in->pid, 0) == 0 || errno != ESRCH)
		return;
	out_info("hint: process %ld is not running on this host; if no apply "
	         "of plan %s is in progress, break the lock with 'hubform lock "
	         "--break %s', then 'hubform apply %s --recover'",
	         in->pid, in->plan_id[0] ? in->plan_id : "(none)", holder,
	         in->plan_id[0] ? in->plan_id : "PLAN");
}

static int show(const struct hf_pipeline *pl, const struct hf_lock_info *in)
{
	char t[HF_TARGET_IDENT_MAX + 300], b[4][HF_LOCK_HOLDER_MAX * 4 + 8];

	cli_target_describe(pl->target.ident, pl->target.branch, t, sizeof(t));
	if (!in->held) {
		out_data("no apply holds the lock of %s\n", t);
		return HF_EXIT_OK;
	}
	out_data("the apply lock of %s is held\n", t);
	out_data("lock branch: %s\n", safe(in->name, b[0], sizeof(b[0])));
	if (in->foreign) {
		out_data("holder:      unknown (the branch was not made by "
		         "hubform)\n");
		return HF_EXIT_OK;
	}
	safe(in->holder_id, b[0], sizeof(b[0]));
	out_data("holder:      %s\n", b[0]);
	out_data("user:        %s\nhost:        %s\npid:         %ld\n",
	         safe(in->user, b[1], sizeof(b[1])),
	         safe(in->host, b[2], sizeof(b[2])), in->pid);
	out_data("plan:        %s\n",
	         in->plan_id[0] ? safe(in->plan_id, b[3], sizeof(b[3]))
	                        : "(none)");
	out_data("since:       %s\n",
	         in->since[0] ? safe(in->since, b[3], sizeof(b[3]))
	                      : "unknown");
	hint_dead(in, b[0]);
	return HF_EXIT_OK;
}

static int do_break(const struct hf_pipeline *pl, const char *holder)
{
	char t[HF_TARGET_IDENT_MAX + 300];
	hf_error err = HF_ERROR_INIT;
	int rc;

	cli_target_describe(pl->target.ident, pl->target.branch, t, sizeof(t));
	rc = hf_lock_break(hf_client_transport(pl->client), pl->target.branch,
	                   holder, &err);
	if (rc == 0) {
		out_info("broke the apply lock of %s held by %s", t, holder);
		return HF_EXIT_OK;
	}
	if (rc == HF_ECONFLICT || rc == HF_ENOTFOUND) {
		out_error("%s; nothing broken", err.msg);
		return HF_EXIT_ERROR;
	}
	cli_pipeline_fail(pl, "cannot break the apply lock of", &err);
	return HF_EXIT_ERROR;
}

/* The embedded default without a database yet: nothing can hold a lock. */
static int no_local_db(const struct hf_target *t)
{
	struct stat st;

	return t->data[0] && stat(t->data, &st) != 0;
}

static int run(struct hf_pipeline *pl, const struct hf_pipeline_opts *po,
               const char *brk)
{
	struct hf_target_opts to = { po->address, po->branch, po->data,
		                     po->embedded };
	struct hf_lock_info in;
	hf_error err = HF_ERROR_INIT;

	if (cli_target_resolve(&pl->target, &to) < 0)
		return HF_EXIT_ERROR;
	if (no_local_db(&pl->target)) {
		if (brk) {
			out_error(
			        "no apply holds the lock of %s; nothing broken",
			        pl->target.ident);
			return HF_EXIT_ERROR;
		}
		out_data("no apply holds the lock of %s\n", pl->target.ident);
		return HF_EXIT_OK;
	}
	if (cli_pipeline_attach(pl, po, 0) < 0)
		return HF_EXIT_ERROR;
	if (brk)
		return do_break(pl, brk);
	if (hf_lock_read(hf_client_transport(pl->client), pl->target.branch,
	                 &in, &err) < 0) {
		cli_pipeline_fail(pl, "cannot read the apply lock of", &err);
		return HF_EXIT_ERROR;
	}
	return show(pl, &in);
}

int cmd_lock(struct hf_ctx *ctx, int argc, char **argv)
{
	struct hf_pipeline_opts po = HF_PIPELINE_OPTS_INIT;
	struct hf_strlist args = { 0 };
	const char *brk = NULL;
	const struct hf_opt opts[] = {
		HF_OPT_STRING(
		        0, "address", "URL", &po.address,
		        "Infrahub address (default $INFRAHUB_ADDRESS; none: "
		        "the embedded local endpoint)"),
		HF_OPT_STRING('b', "branch", "BRANCH", &po.branch,
		              "target branch (default $INFRAHUB_DEFAULT_BRANCH "
		              "or the server's default)"),
		HF_OPT_BOOL(0, "insecure", &po.insecure,
		            "do not verify the server's TLS certificate"),
		HF_OPT_INT(0, "timeout", "S", &po.timeout, 1, 3600,
		           "seconds per request (default 60)"),
		HF_OPT_INT(
		        0, "retries", "N", &po.retries, 0, 20,
		        "retries of connection errors, 5xx and 429 (default 3)"),
		HF_OPT_STRING(0, "break", "HOLDER", &brk,
		              "delete the lock, only if HOLDER is its current "
		              "holder (as shown by hubform lock)"),
		HF_OPT_END(),
	};
	int rc;

	if (cli_target_default_timeout(&po.timeout) < 0)
		return HF_EXIT_ERROR;
	rc = cli_cmd_parse(
	        ctx, usage,
	        "Show who holds the apply lock of the target, or break "
	        "it naming its holder.",
	        opts, argc, argv, &args);
	if (rc >= 0)
		goto out;
	rc = HF_EXIT_USAGE;
	if (args.n) {
		out_error("unexpected argument '%s'; usage: %s", args.items[0],
		          usage);
		goto out;
	}
	if (brk && !brk[0]) {
		out_error("--break needs the holder's id (see hubform lock)");
		goto out;
	}
	rc = run(cli_ctx_pipeline(ctx), &po, brk);
out:
	cli_strlist_release(&args);
	return rc;
}
