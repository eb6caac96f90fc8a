/*
 * The dispatcher: help, version, exit codes end to end; the set-up the
 * command table's needs ask for (cli_ctx_*), and the one plan-file test
 * (cli_ref_kind), in process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hf/alloc.h"
#include "cmd.h"
#include "hugepages.h"
#include "pipeline.h"
#include "state.h"
#include "testutil.h"

/* main.c's table is not in the library: an empty one for cmd_common.c. */
const struct hf_cmd cli_commands[] = { { NULL, NULL, 0, NULL } };

static void run(struct hf_run *r, const char *const *args)
{
	assert_int_equal(hf_run(r, NULL, NULL, args), 0);
}

static void test_cli__help_lists_commands(void **state)
{
	const char *a[] = { "--help", NULL };
	struct hf_run r;

	(void)state;
	run(&r, a);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "usage: hubform COMMAND"));
	assert_non_null(strstr(r.out, "validate"));
	assert_non_null(strstr(r.out, "serve"));
	assert_string_equal(r.err, "");
	hf_run_release(&r);
}

static void test_cli__no_args_is_usage_error(void **state)
{
	const char *a[] = { NULL };
	struct hf_run r;

	(void)state;
	run(&r, a);
	assert_int_equal(r.status, 64);
	assert_string_equal(r.out, "");
	assert_non_null(strstr(r.err, "usage:"));
	hf_run_release(&r);
}

static void test_cli__unknown_and_prefix_commands(void **state)
{
	const char *a[] = { "vers", NULL };
	struct hf_run r;

	(void)state;
	run(&r, a);
	assert_int_equal(r.status, 64);
	assert_non_null(strstr(r.err, "'vers' is not a hubform command"));
	hf_run_release(&r);
}

static void test_cli__version(void **state)
{
	const char *a[] = { "version", NULL };
	const char *b[] = { "--version", NULL };
	struct hf_run r;

	(void)state;
	run(&r, a);
	assert_int_equal(r.status, 0);
	assert_memory_equal(r.out, "hubform ", 8);
	assert_non_null(strstr(r.out, "libyaml"));
	hf_run_release(&r);
	run(&r, b);
	assert_int_equal(r.status, 0);
	assert_memory_equal(r.out, "hubform ", 8);
	hf_run_release(&r);
}

/* hubform ARGS with stdout on /dev/full: its exit status, stderr in `err`. */
static int run_to_full(const char *const *args, char *err, size_t len)
{
	const char *argv[8] = { "hubform" };
	union {
		const char **c;
		char *const *m;
	} u = { argv };
	size_t i, n = 0;
	ssize_t got;
	int ep[2], st = 0, fd;
	pid_t pid;

	for (i = 0; args[i] && i + 2 < 8; i++)
		argv[i + 1] = args[i];
	assert_int_equal(pipe(ep), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		fd = open("/dev/full", O_WRONLY);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(ep[1], 2) < 0)
			_exit(126);
		close(ep[0]);
		execv(hf_test_bin(), u.m);
		_exit(127);
	}
	close(ep[1]);
	while (n + 1 < len && (got = read(ep[0], err + n, len - 1 - n)) > 0)
		n += (size_t)got;
	err[n] = '\0';
	close(ep[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/*
 * Standard output that cannot be written (a full disk): exit 1, and
 * stderr says so and why, once; a renderer stops at the first piece
 * that cannot be written.
 */
static void test_cli__stdout_full(void **state)
{
	const char *a[] = { "version", NULL };
	const char *b[] = { "completion", "bash", NULL };
	char err[4096];
	const char *at;

	(void)state;
	if (access("/dev/full", W_OK) != 0) {
		print_message("skipped: no /dev/full on this system\n");
		skip();
	}
	assert_int_equal(run_to_full(a, err, sizeof(err)), 1);
	at = strstr(err, "hubform: error: cannot write to standard output: ");
	assert_non_null(at);
	assert_non_null(strstr(at, "No space left on device"));
	assert_null(strstr(at + 20, "cannot write to standard output"));
	assert_int_equal(run_to_full(b, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "cannot write to standard output"));
}

static void test_cli__help_command_matches_dash_help(void **state)
{
	const char *a[] = { "help", "serve", NULL };
	const char *b[] = { "serve", "--help", NULL };
	struct hf_run r1, r2;

	(void)state;
	run(&r1, a);
	run(&r2, b);
	assert_int_equal(r1.status, 0);
	assert_int_equal(r2.status, 0);
	assert_string_equal(r1.out, r2.out);
	assert_non_null(strstr(r1.out, "--listen ADDR:PORT"));
	hf_run_release(&r1);
	hf_run_release(&r2);
}

static void test_cli__bad_option_is_usage_error(void **state)
{
	const char *a[] = { "version", "--frobnicate", NULL };
	struct hf_run r;

	(void)state;
	run(&r, a);
	assert_int_equal(r.status, 64);
	assert_non_null(
	        strstr(r.err, "hubform: error: unknown option '--frobnicate'"));
	hf_run_release(&r);
}

static void test_cli__unknown_command_suggests(void **state)
{
	const char *a[] = { "aply", NULL };
	const char *b[] = { "frobnicate", NULL };
	struct hf_run r;

	(void)state;
	run(&r, a);
	assert_int_equal(r.status, 64);
	assert_string_equal(r.out, "");
	assert_non_null(strstr(r.err, "'aply' is not a hubform command; "
	                              "did you mean 'apply'?"));
	hf_run_release(&r);
	run(&r, b);
	assert_int_equal(r.status, 64);
	assert_non_null(strstr(r.err, "'frobnicate' is not a hubform command; "
	                              "see 'hubform --help'"));
	hf_run_release(&r);
}

/* A misspelt Terraform-style option is a usage error, never a value. */
static void test_cli__single_dash_typo_is_usage_error(void **state)
{
	const char *a[] = { "plan", "-outt=x", "objects", NULL };
	const char *b[] = { "apply", "latest", "-auto-aprove", NULL };
	struct hf_run r;

	(void)state;
	run(&r, a);
	assert_int_equal(r.status, 64);
	assert_string_equal(r.out, "");
	assert_non_null(strstr(r.err, "hubform: error: unknown option "
	                              "'-outt=x'; did you mean '-out'?"));
	hf_run_release(&r);
	run(&r, b);
	assert_int_equal(r.status, 64);
	assert_non_null(strstr(r.err, "unknown option '-auto-aprove'; "
	                              "did you mean '-auto-approve'?"));
	hf_run_release(&r);
}

static void test_cli__single_dash_help_and_version(void **state)
{
	const char *a[] = { "-help", NULL };
	const char *b[] = { "-version", NULL };
	const char *c[] = { "plan", "-help", NULL };
	struct hf_run r;

	(void)state;
	run(&r, a);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "usage: hubform COMMAND"));
	hf_run_release(&r);
	run(&r, b);
	assert_int_equal(r.status, 0);
	assert_memory_equal(r.out, "hubform ", 8);
	hf_run_release(&r);
	run(&r, c);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "Long options also work with one dash"));
	hf_run_release(&r);
}

/* help's own options: --man needs no server; bad combinations are 64. */
static void test_cli__help_options(void **state)
{
	const char *a[] = { "help", "--help", NULL };
	const char *b[] = { "help", "plan", "--man-dir", "/tmp", NULL };
	const char *c[] = { "help", "plan", "show", NULL };
	const char *d[] = { "--help", NULL };
	struct hf_run r;

	(void)state;
	run(&r, a);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "--man-dir DIR"));
	hf_run_release(&r);
	run(&r, b);
	assert_int_equal(r.status, 64);
	assert_non_null(strstr(r.err, "--man-dir writes every page"));
	hf_run_release(&r);
	run(&r, c);
	assert_int_equal(r.status, 64);
	hf_run_release(&r);
	run(&r, d);
	assert_non_null(strstr(r.out, "completion"));
	hf_run_release(&r);
}

/* plans --quiet: ids only, and nothing at all for an empty store. */
static void test_cli__plans_quiet_on_empty_store(void **state)
{
	const char *a[] = { "plans", "--quiet", NULL };
	struct hf_run r;

	(void)state;
	assert_int_equal(hf_run(&r, hf_test_tmpdir("cli_quiet"), NULL, a), 0);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "");
	hf_run_release(&r);
}

/* What HUBFORM_TIMING should say of huge pages on this machine and build. */
static const char *huge_pages_expected(void)
{
	char mode[32];

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	return "huge pages off (a sanitizer owns malloc)";
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
	return "huge pages off (a sanitizer owns malloc)";
#endif
#endif
#if !defined(__GLIBC__) || __GLIBC__ < 2 || \
        (__GLIBC__ == 2 && __GLIBC_MINOR__ < 35)
	return "huge pages off (needs glibc 2.35 or later)";
#endif
	cli_hugepages_thp_mode(mode, sizeof(mode));
	if (!strcmp(mode, "madvise"))
		return "huge pages on (glibc.malloc.hugetlb=1)";
	if (!strcmp(mode, "always"))
		return "huge pages on (the kernel's THP mode is always)";
	return "huge pages off (the kernel's THP mode is not madvise)";
}

/* A file of `size` bytes that takes no room on the disk. */
static void sparse_file(const char *path, long size)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(ftruncate(fileno(f), size), 0);
	fclose(f);
}

/*
 * The heap's huge pages: where the machine allows and the command's data
 * is large (or HUBFORM_HUGEPAGES=1), hubform starts again with
 * glibc.malloc.hugetlb=1 added to the user's GLIBC_TUNABLES and runs the
 * command as asked (the same output); small data does not pay for a
 * second start; HUBFORM_HUGEPAGES=0 keeps them off; a tunable the user
 * set is left alone; a second start that lost the tunable (glibc's
 * secure mode strips it) never starts a third. HUBFORM_TIMING says which.
 */
static void test_cli__heap_huge_pages(void **state)
{
	const char *a[] = { "plans", NULL };
	const char *st[] = { "plans", "--state", "store.db", NULL };
	const char *st_eq[] = { "plans", "--state=store.db", NULL };
	const char *expect = huge_pages_expected();
	int allowed = strstr(expect, "(glibc.malloc.hugetlb=1)") != NULL;
	char dir[600], big[700];
	struct hf_run on, small, store, store_eq, large, off, mine, lost;

	(void)state;
	if (getenv("LD_PRELOAD") && strstr(getenv("LD_PRELOAD"), "vgpreload"))
		skip(); /* valgrind: the child runs without it either way */
	snprintf(dir, sizeof(dir), "%s", hf_test_tmpdir("cli_huge"));
	setenv("HUBFORM_TIMING", "1", 1);
	setenv("GLIBC_TUNABLES", "glibc.malloc.tcache_count=7", 1);
	setenv("HUBFORM_HUGEPAGES", "1", 1);
	assert_int_equal(hf_run(&on, dir, NULL, a), 0);
	unsetenv("HUBFORM_HUGEPAGES");
	assert_int_equal(hf_run(&small, dir, NULL, a), 0);
	/* a 65 MiB plan store (sparse): a store's size does not count */
	snprintf(big, sizeof(big), "%s/store.db", dir);
	sparse_file(big, 65L << 20);
	assert_int_equal(hf_run(&store, dir, NULL, st), 0);
	assert_int_equal(hf_run(&store_eq, dir, NULL, st_eq), 0);
	/* a 65 MiB local database (sparse): data enough to start again */
	snprintf(big, sizeof(big), "%s/.hubform", dir);
	assert_int_equal(mkdir(big, 0777), 0);
	snprintf(big, sizeof(big), "%s/.hubform/local.db", dir);
	sparse_file(big, 65L << 20);
	assert_int_equal(hf_run(&large, dir, NULL, a), 0);
	setenv("HUBFORM_HUGEPAGES", "0", 1);
	assert_int_equal(hf_run(&off, dir, NULL, a), 0);
	unsetenv("HUBFORM_HUGEPAGES");
	setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=0", 1);
	assert_int_equal(hf_run(&mine, dir, NULL, a), 0);
	unsetenv("GLIBC_TUNABLES");
	/* a restart that lost the tunable (secure mode) does not restart */
	setenv("HUBFORM_HUGEPAGES_RESTARTED", "1", 1);
	assert_int_equal(hf_run(&lost, dir, NULL, a), 0);
	unsetenv("HUBFORM_HUGEPAGES_RESTARTED");
	unsetenv("HUBFORM_TIMING");
	assert_int_equal(on.status, 0);
	assert_int_equal(small.status, 0);
	assert_int_equal(large.status, 0);
	assert_int_equal(off.status, 0);
	assert_string_equal(on.out, off.out);
	assert_string_equal(small.out, off.out);
	assert_string_equal(large.out, off.out);
	assert_non_null(strstr(on.err, expect));
	assert_non_null(strstr(large.err, expect));
	assert_non_null(strstr(
	        small.err, allowed ? "huge pages off (under 64 MiB" : expect));
	assert_non_null(strstr(
	        store.err, allowed ? "huge pages off (under 64 MiB" : expect));
	assert_non_null(
	        strstr(store_eq.err,
	               allowed ? "huge pages off (under 64 MiB" : expect));
	assert_non_null(
	        strstr(off.err, "huge pages off (HUBFORM_HUGEPAGES=0)"));
	assert_non_null(strstr(mine.err, "huge pages as GLIBC_TUNABLES sets"));
	assert_int_equal(lost.status, 0);
	assert_string_equal(lost.out, off.out);
	assert_non_null(strstr(lost.err, "huge pages off (the restart lost"));
	hf_run_release(&on);
	hf_run_release(&small);
	hf_run_release(&store);
	hf_run_release(&store_eq);
	hf_run_release(&large);
	hf_run_release(&off);
	hf_run_release(&mine);
	hf_run_release(&lost);
}

/* The one test of what a command-line word names. */
static void test_cli__one_plan_file_test(void **state)
{
	char d[600], plan[700], yml[700], missing[700];
	hf_store *st = NULL;

	(void)state;
	snprintf(d, sizeof(d), "%s", hf_test_tmpdir("cli_ref"));
	snprintf(plan, sizeof(plan), "%s/reviewed", d);
	snprintf(yml, sizeof(yml), "%s/objects.yml", d);
	snprintf(missing, sizeof(missing), "%s/none.yml", d);
	assert_int_equal(hf_store_open(&st, plan, NULL), 0);
	hf_store_close(st);
	assert_int_equal(hf_write_file(yml, "---\n"), 0);
	assert_int_equal(cli_ref_kind(NULL), CLI_REF_LATEST);
	assert_int_equal(cli_ref_kind("latest"), CLI_REF_LATEST);
	assert_int_equal(cli_ref_kind("0123abcd"), CLI_REF_ID);
	assert_int_equal(cli_ref_kind(plan), CLI_REF_FILE); /* by content */
	assert_int_equal(cli_ref_kind(yml), CLI_REF_PATH);
	assert_int_equal(cli_ref_kind(d), CLI_REF_PATH);
	assert_int_equal(cli_ref_kind(missing), CLI_REF_MISSING);
}

/* Asking for what the table row does not declare is a bug: abort. */
static void undeclared_child(int store)
{
	struct hf_pipeline pl;
	struct hf_ctx ctx;
	hf_store *st;
	pid_t pid = fork();
	int ws;

	assert_true(pid >= 0);
	if (pid == 0) {
		freopen("/dev/null", "w", stderr);
		cli_ctx_setup(&ctx, "x", NEED_NONE, &pl);
		if (store)
			cli_ctx_store(&ctx, NULL, 0, &st);
		else
			cli_ctx_pipeline(&ctx);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFSIGNALED(ws));
	assert_int_equal(WTERMSIG(ws), SIGABRT);
}

static void test_cli__needs_are_declared(void **state)
{
	(void)state;
	undeclared_child(0);
	undeclared_child(1);
}

/* NEED_STORE: opened once, read-only creates nothing, main closes it. */
static void test_cli__store_is_set_up_once(void **state)
{
	char path[700];
	struct hf_pipeline pl;
	struct hf_ctx ctx;
	hf_store *a = NULL, *b = NULL;
	struct stat sb;

	(void)state;
	snprintf(path, sizeof(path), "%s/plans.db",
	         hf_test_tmpdir("cli_store"));
	hf_alloc_init();
	assert_int_equal(cli_ctx_setup(&ctx, "x", NEED_STORE, &pl), 0);
	assert_null(ctx.pl); /* no target: no pipeline, no libcurl */
	assert_int_equal(cli_ctx_store(&ctx, path, 0, &a), HF_ENOTFOUND);
	assert_null(a);
	assert_int_not_equal(stat(path, &sb), 0);
	assert_int_equal(cli_ctx_store(&ctx, path, 1, &a), 0);
	assert_non_null(a);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(cli_ctx_store(&ctx, path, 0, &b), 0);
	assert_ptr_equal(a, b);
	assert_int_equal(cli_ctx_store(&ctx, path, 1, &b), 0);
	assert_ptr_equal(a, b);
	cli_ctx_teardown(&ctx);
	assert_null(ctx.store);
	assert_int_equal(cli_ctx_setup(&ctx, "x", NEED_TARGET, &pl), 0);
	assert_ptr_equal(cli_ctx_pipeline(&ctx), &pl);
	cli_ctx_teardown(&ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli__help_lists_commands),
		cmocka_unit_test(test_cli__no_args_is_usage_error),
		cmocka_unit_test(test_cli__unknown_and_prefix_commands),
		cmocka_unit_test(test_cli__version),
		cmocka_unit_test(test_cli__stdout_full),
		cmocka_unit_test(test_cli__help_command_matches_dash_help),
		cmocka_unit_test(test_cli__bad_option_is_usage_error),
		cmocka_unit_test(test_cli__unknown_command_suggests),
		cmocka_unit_test(test_cli__single_dash_typo_is_usage_error),
		cmocka_unit_test(test_cli__single_dash_help_and_version),
		cmocka_unit_test(test_cli__help_options),
		cmocka_unit_test(test_cli__plans_quiet_on_empty_store),
		cmocka_unit_test(test_cli__heap_huge_pages),
		cmocka_unit_test(test_cli__one_plan_file_test),
		cmocka_unit_test(test_cli__needs_are_declared),
		cmocka_unit_test(test_cli__store_is_set_up_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
