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
	return hf_opt_parse(opts, argc, u.m, &v->args, err);
}

static void release(struct vals *v)
{
	hf_strlist_release(&v->list);
	hf_strlist_release(&v->args);
}

static void test_opt__mixed_options_and_args(void **state)
{
	const char *argv[] = { "a.yml", "-v", "--out=x", "--parallelism",
			       "7", "b", "--fault", "f1", "--fault=f2",
			       "--", "--not-an-option" };
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
	expect_error(2, a3, "option '--parallelism' expects a number, not 'ten'");
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
	u = hf_opt_usage("hubform x [-v]", "Do x.", opts);
	assert_non_null(u);
	assert_non_null(strstr(u, "usage: hubform x [-v]\n"));
	assert_non_null(strstr(u, "-v, --verbose"));
	assert_non_null(strstr(u, "-o, --out FILE"));
	assert_non_null(strstr(u, "output file"));
	assert_non_null(strstr(u, "--help"));
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
