/* Tests for the declarative option parser and its generated usage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "hf/alloc.h"
#include "opt.h"

struct vals {
	int verbose;
	const char *out;
	long n;
	struct hf_strlist list;
	struct hf_strlist args;
};

static int parse(struct vals *v, int argc, const char **argv, hf_error *err)
{
	const struct hf_opt opts[] = {
		HF_OPT_BOOL('v', "verbose", &v->verbose, "be chatty"),
		HF_OPT_STRING('o', "out", "FILE", &v->out, "output file"),
		HF_OPT_INT(0, "parallelism", "N", &v->n, 1, 100, "requests"),
		HF_OPT_LIST(0, "fault", "SPEC", &v->list, "faults"),
		HF_OPT_END(),
	};
	union {
		const char **c;
		char **m;
	} u;

	u.c = argv;
	memset(v, 0, sizeof(*v));
	return cli_opt_parse(opts, argc, u.m, &v->args, err);
}

static void release(struct vals *v)
{
	cli_strlist_release(&v->list);
	cli_strlist_release(&v->args);
}

static void test_opt__mixed_options_and_args(void **state)
{
	const char *argv[] = {
		"a.yml",      "-v", "--out=x",        "--parallelism",
		"7",          "b",  "--fault",        "f1",
		"--fault=f2", "--", "--not-an-option"
	};
	hf_error err = HF_ERROR_INIT;
	struct vals v;

	(void)state;
	assert_int_equal(parse(&v, 11, argv, &err), 0);
	assert_true(v.verbose);
	assert_string_equal(v.out, "x");
	assert_int_equal(v.n, 7);
	assert_int_equal(v.list.n, 2);
	assert_string_equal(v.list.items[1], "f2");
	assert_int_equal(v.args.n, 3);
	assert_string_equal(v.args.items[0], "a.yml");
	assert_string_equal(v.args.items[2], "--not-an-option");
	release(&v);
}

static void test_opt__short_value_glued(void **state)
{
	const char *argv[] = { "-ofile", "-v" };
	hf_error err = HF_ERROR_INIT;
	struct vals v;

	(void)state;
	assert_int_equal(parse(&v, 2, argv, &err), 0);
	assert_string_equal(v.out, "file");
	assert_true(v.verbose);
	release(&v);
}

static void expect_error(int argc, const char **argv, const char *msg)
{
	hf_error err = HF_ERROR_INIT;
	struct vals v;

	assert_int_equal(parse(&v, argc, argv, &err), HF_EINVAL);
	assert_string_equal(err.msg, msg);
	release(&v);
}

static void test_opt__errors(void **state)
{
	const char *a1[] = { "--nope" };
	const char *a2[] = { "--out" };
	const char *a3[] = { "--parallelism", "ten" };
	const char *a4[] = { "--parallelism", "0" };
	const char *a5[] = { "--verbose=1" };
	const char *a6[] = { "-x" };
	const char *a7[] = { "--verb" };

	(void)state;
	expect_error(1, a1, "unknown option '--nope'");
	expect_error(1, a2, "option '--out' requires a value");
	expect_error(2, a3,
	             "option '--parallelism' expects a number, not 'ten'");
	expect_error(2, a4, "option '--parallelism' must be between 1 and 100");
	expect_error(1, a5, "option '--verbose=1' takes no value");
	expect_error(1, a6, "unknown option '-x'");
	/* exact names only: no prefix matching */
	expect_error(1, a7, "unknown option '--verb'");
}

static void test_opt__help(void **state)
{
	const char *a1[] = { "x", "--help" };
	const char *a2[] = { "-h" };
	hf_error err = HF_ERROR_INIT;
	struct vals v;

	(void)state;
	assert_int_equal(parse(&v, 2, a1, &err), HF_OPT_HELP);
	release(&v);
	assert_int_equal(parse(&v, 1, a2, &err), HF_OPT_HELP);
	release(&v);
}

static void test_opt__usage_lists_every_option(void **state)
{
	int verbose;
	const char *out;
	const struct hf_opt opts[] = {
		HF_OPT_BOOL('v', "verbose", &verbose, "be chatty"),
		HF_OPT_STRING('o', "out", "FILE", &out, "output file"),
		HF_OPT_END(),
	};
	char *u;

	(void)state;
	u = cli_opt_usage("hubform x [-v]", "Do x.", opts);
	assert_non_null(u);
	assert_non_null(strstr(u, "usage: hubform x [-v]\n"));
	assert_non_null(strstr(u, "-v, --verbose"));
	assert_non_null(strstr(u, "-o, --out FILE"));
	assert_non_null(strstr(u, "output file"));
	assert_non_null(strstr(u, "--help"));
	hf_free(u);
}

/* A table shaped like plan's and apply's, with short options to cluster. */
struct tf {
	int auto_approve, detailed, no_color, verbose, xtrace;
	const char *out, *branch;
	long par;
	struct hf_strlist args;
};

static int tf_parse(struct tf *v, int argc, const char **argv, hf_error *err)
{
	const struct hf_opt opts[] = {
		HF_OPT_BOOL(0, "auto-approve", &v->auto_approve, "no prompt"),
		HF_OPT_BOOL(0, "detailed-exitcode", &v->detailed, "exit 2"),
		HF_OPT_BOOL(0, "no-color", &v->no_color, "plain"),
		HF_OPT_BOOL('v', "verbose", &v->verbose, "be chatty"),
		HF_OPT_BOOL('x', "xtrace", &v->xtrace, "trace"),
		HF_OPT_STRING('o', "out", "FILE", &v->out, "output file"),
		HF_OPT_STRING('b', "branch", "NAME", &v->branch, "branch"),
		HF_OPT_INT(0, "parallelism", "N", &v->par, 1, 100, "requests"),
		HF_OPT_END(),
	};
	union {
		const char **c;
		char **m;
	} u;

	u.c = argv;
	memset(v, 0, sizeof(*v));
	return cli_opt_parse(opts, argc, u.m, &v->args, err);
}

/* Parse argv (NULL-terminated) into *v, expecting success. */
static void tf_ok(struct tf *v, const char **argv)
{
	hf_error err = HF_ERROR_INIT;
	int argc = 0;

	while (argv[argc])
		argc++;
	assert_int_equal(tf_parse(v, argc, argv, &err), 0);
	cli_strlist_release(&v->args);
}

static void tf_error(const char **argv, const char *msg)
{
	hf_error err = HF_ERROR_INIT;
	struct tf v;
	int argc = 0;

	while (argv[argc])
		argc++;
	assert_int_equal(tf_parse(&v, argc, argv, &err), HF_EINVAL);
	assert_string_equal(err.msg, msg);
	cli_strlist_release(&v.args);
}

static void test_opt__single_dash_long_value_after_equals(void **state)
{
	const char *a[] = { "-out=plan.bin", "dir", NULL };
	struct tf v;

	(void)state;
	tf_ok(&v, a);
	assert_string_equal(v.out, "plan.bin");
}

static void test_opt__single_dash_long_value_in_next_word(void **state)
{
	const char *a[] = { "dir", "-out", "plan.bin", NULL };
	struct tf v;

	(void)state;
	tf_ok(&v, a);
	assert_string_equal(v.out, "plan.bin");
}

static void test_opt__single_dash_long_booleans(void **state)
{
	const char *a[] = { "-auto-approve", "-detailed-exitcode", "-no-color",
		            NULL };
	struct tf v;

	(void)state;
	tf_ok(&v, a);
	assert_true(v.auto_approve);
	assert_true(v.detailed);
	assert_true(v.no_color);
	assert_false(v.verbose);
}

static void test_opt__single_dash_long_int(void **state)
{
	const char *a[] = { "-parallelism=4", NULL };
	const char *b[] = { "-parallelism", "0", NULL };

	struct tf v;

	(void)state;
	tf_ok(&v, a);
	assert_int_equal(v.par, 4);
	tf_error(b, "option '--parallelism' must be between 1 and 100");
}

static void test_opt__single_dash_long_value_errors(void **state)
{
	const char *a[] = { "-out", NULL };
	const char *b[] = { "-auto-approve=1", NULL };

	(void)state;
	tf_error(a, "option '-out' requires a value");
	tf_error(b, "option '-auto-approve=1' takes no value");
}

/* POSIX short forms keep working; "-b=main" drops the '='. */
static void test_opt__short_forms(void **state)
{
	const char *a[] = { "-b=main", NULL };
	const char *b[] = { "-bmain", "-ofile", NULL };
	const char *c[] = { "-o", "file", "-b", "main", NULL };
	const char *d[] = { "-vx", "-vxb=dev", "-vo", "f", NULL };
	struct tf v;

	(void)state;
	tf_ok(&v, a);
	assert_string_equal(v.branch, "main");
	tf_ok(&v, b);
	assert_string_equal(v.branch, "main");
	assert_string_equal(v.out, "file");
	tf_ok(&v, c);
	assert_string_equal(v.out, "file");
	assert_string_equal(v.branch, "main");
	tf_ok(&v, d);
	assert_true(v.verbose);
	assert_true(v.xtrace);
	assert_string_equal(v.branch, "dev");
	assert_string_equal(v.out, "f");
}

static void test_opt__single_dash_typo_suggests(void **state)
{
	const char *a[] = { "-auto-aprove", NULL };
	const char *b[] = { "-no-colour", NULL };
	const char *c[] = { "-detailed-exitcdoe", NULL };

	(void)state;
	tf_error(a, "unknown option '-auto-aprove'; "
	            "did you mean '-auto-approve'?");
	tf_error(b, "unknown option '-no-colour'; did you mean '-no-color'?");
	tf_error(c, "unknown option '-detailed-exitcdoe'; "
	            "did you mean '-detailed-exitcode'?");
}

/* A single-dash word with '=' that is no long option is always an error. */
static void test_opt__single_dash_equals_is_error(void **state)
{
	const char *a[] = { "-outt=x", NULL };
	const char *b[] = { "-ofoo=bar", NULL };
	const char *c[] = { "-b=a=b", NULL };
	const char *d[] = { "-vq=1", NULL };

	(void)state;
	tf_error(a, "unknown option '-outt=x'; did you mean '-out'?");
	tf_error(b, "unknown option '-ofoo=bar'; a value containing '=' "
	            "goes in the next word: '-o foo=bar'");
	tf_error(c, "unknown option '-b=a=b'; a value containing '=' "
	            "goes in the next word: '-b a=b'");
	tf_error(d, "unknown option '-vq=1'");
}

/* "-outt" could be -o "utt", but it is a typo of "-out". */
static void test_opt__glued_value_near_long_name_is_error(void **state)
{
	const char *a[] = { "-outt", "plan.bin", NULL };
	const char *b[] = { "-branh", "main", NULL };

	(void)state;
	tf_error(a, "unknown option '-outt'; did you mean '-out'?");
	tf_error(b, "unknown option '-branh'; did you mean '-branch'?");
}

static void test_opt__cluster_error_names_whole_word(void **state)
{
	const char *a[] = { "-vq", NULL };
	const char *b[] = { "-qv", NULL };

	(void)state;
	tf_error(a, "unknown option '-vq'");
	tf_error(b, "unknown option '-qv'");
}

static void test_opt__double_dash_typo_suggests(void **state)
{
	const char *a[] = { "--auto-aprove", NULL };
	const char *b[] = { "--ou", NULL };
	const char *c[] = { "--parallelsim=3", NULL };

	(void)state;
	tf_error(a, "unknown option '--auto-aprove'; "
	            "did you mean '--auto-approve'?");
	tf_error(b, "unknown option '--ou'; did you mean '--out'?");
	tf_error(c, "unknown option '--parallelsim'; "
	            "did you mean '--parallelism'?");
}

static void test_opt__unrelated_word_gets_no_suggestion(void **state)
{
	const char *a[] = { "--frobnicate", NULL };
	const char *b[] = { "-frobnicate", NULL };
	const char *c[] = { "--oxy", NULL };

	(void)state;
	tf_error(a, "unknown option '--frobnicate'");
	tf_error(b, "unknown option '-frobnicate'");
	/* two edits from "out": too far for a three-letter name */
	tf_error(c, "unknown option '--oxy'");
}

static void test_opt__help_spellings(void **state)
{
	const char *a[] = { "x", "-help", NULL };
	const char *b[] = { "-vh", NULL };
	const char *c[] = { "--hepl", NULL };
	hf_error err = HF_ERROR_INIT;
	struct tf v;

	(void)state;
	assert_int_equal(tf_parse(&v, 2, a, &err), HF_OPT_HELP);
	cli_strlist_release(&v.args);
	assert_int_equal(tf_parse(&v, 1, b, &err), HF_OPT_HELP);
	cli_strlist_release(&v.args);
	tf_error(c, "unknown option '--hepl'; did you mean '--help'?");
}

static void test_opt__distance(void **state)
{
	(void)state;
	assert_int_equal(cli_opt_distance("apply", 5, "apply"), 0);
	assert_int_equal(cli_opt_distance("aply", 4, "apply"), 1);
	assert_int_equal(cli_opt_distance("palns", 5, "plans"), 1);
	assert_int_equal(cli_opt_distance("", 0, "out"), 3);
	assert_int_equal(cli_opt_distance("kitten", 6, "sitting"), 3);
	assert_true(cli_opt_near("aply", 4, "apply"));
	assert_false(cli_opt_near("vers", 4, "version"));
	assert_false(cli_opt_near("ox", 2, "out"));
}

static void test_opt__usage_mentions_single_dash(void **state)
{
	int flag;
	const char *out;
	const struct hf_opt opts[] = {
		HF_OPT_BOOL(0, "no-color", &flag, "plain"),
		HF_OPT_STRING('o', "out", "FILE", &out, "output file"),
		HF_OPT_END(),
	};
	const struct hf_opt none[] = { HF_OPT_END() };
	char *u;

	(void)state;
	u = cli_opt_usage("hubform x", NULL, opts);
	assert_non_null(u);
	assert_non_null(strstr(u, "show this help\nLong options also work "
	                          "with one dash, as in -out=FILE or "
	                          "-no-color.\n"));
	hf_free(u);
	u = cli_opt_usage("hubform y", NULL, none);
	assert_non_null(u);
	assert_null(strstr(u, "one dash"));
	hf_free(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opt__mixed_options_and_args),
		cmocka_unit_test(test_opt__short_value_glued),
		cmocka_unit_test(test_opt__errors),
		cmocka_unit_test(test_opt__help),
		cmocka_unit_test(test_opt__usage_lists_every_option),
		cmocka_unit_test(test_opt__single_dash_long_value_after_equals),
		cmocka_unit_test(test_opt__single_dash_long_value_in_next_word),
		cmocka_unit_test(test_opt__single_dash_long_booleans),
		cmocka_unit_test(test_opt__single_dash_long_int),
		cmocka_unit_test(test_opt__single_dash_long_value_errors),
		cmocka_unit_test(test_opt__short_forms),
		cmocka_unit_test(test_opt__single_dash_typo_suggests),
		cmocka_unit_test(test_opt__single_dash_equals_is_error),
		cmocka_unit_test(test_opt__glued_value_near_long_name_is_error),
		cmocka_unit_test(test_opt__cluster_error_names_whole_word),
		cmocka_unit_test(test_opt__double_dash_typo_suggests),
		cmocka_unit_test(test_opt__unrelated_word_gets_no_suggestion),
		cmocka_unit_test(test_opt__help_spellings),
		cmocka_unit_test(test_opt__distance),
		cmocka_unit_test(test_opt__usage_mentions_single_dash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
