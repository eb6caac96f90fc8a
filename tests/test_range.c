/* Range expansion: every form the SDK expands, its escapes, and errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "hf/range.h"

/* Expand `s` and join the values with '|'; asserts success. */
static char *expand(const char *s)
{
	hf_error err = HF_ERROR_INIT;
	hf_buf b = HF_BUF_INIT;
	char **v = NULL;
	size_t n = 0, i;
	int rc;

	rc = hf_range_expand(&v, &n, s, strlen(s), 0, &err);
	if (rc)
		fail_msg("expanding '%s': %s", s, err.msg);
	for (i = 0; i < n; i++)
		hf_buf_addf(&b, "%s%s", i ? "|" : "", v[i]);
	hf_range_free(v, n);
	assert_false(hf_buf_failed(&b));
	return hf_buf_detach(&b);
}

static void check(const char *in, const char *want)
{
	char *got = expand(in);

	if (strcmp(got, want))
		fail_msg("'%s' expanded to '%s', want '%s'", in, got, want);
	hf_free(got);
}

/* Expansion fails with HF_EINVAL and this message. */
static void check_error(const char *in, size_t max, const char *msg)
{
	hf_error err = HF_ERROR_INIT;
	char *dummy = NULL, **v = &dummy;
	size_t n = 99;

	assert_int_equal(hf_range_expand(&v, &n, in, strlen(in), max, &err),
	                 HF_EINVAL);
	assert_null(v);
	assert_int_equal(n, 0);
	if (strcmp(err.msg, msg))
		fail_msg("'%s': got error '%s', want '%s'", in, err.msg, msg);
}

static void test_range__numeric(void **state)
{
	(void)state;
	check("Ethernet[1-4]", "Ethernet1|Ethernet2|Ethernet3|Ethernet4");
	check("[8-10]", "8|9|10");
	check("x[7-7]", "x7");
}

static void test_range__zero_padding_is_lost(void **state)
{
	(void)state;
	check("leaf[01-03]", "leaf1|leaf2|leaf3");
	check("leaf[09-11]", "leaf9|leaf10|leaf11");
}

static void test_range__descending(void **state)
{
	(void)state;
	check("p[3-1]", "p3|p2|p1");
	check("[c-a]", "c|b|a");
}

static void test_range__letters(void **state)
{
	(void)state;
	check("Device [a-c]", "Device a|Device b|Device c");
	check("Device [A-C]", "Device A|Device B|Device C");
}

static void test_range__comma_lists(void **state)
{
	(void)state;
	check("Eth[a,c,e]/0/1", "Etha/0/1|Ethc/0/1|Ethe/0/1");
	/* parts of a list are expanded in turn; plain parts stay as written */
	check("[1-3,7]", "1|2|3|7");
	check("[1,02,a-b]", "1|02|a|b");
	check("[core,edge]-sw", "core-sw|edge-sw");
}

static void test_range__cartesian_first_slowest(void **state)
{
	(void)state;
	check("FastEthernet[1-2]/0/[10-12]",
	      "FastEthernet1/0/10|FastEthernet1/0/11|FastEthernet1/0/12|"
	      "FastEthernet2/0/10|FastEthernet2/0/11|FastEthernet2/0/12");
	check("[a-b][1-2][x,y]", "a1x|a1y|a2x|a2y|b1x|b1y|b2x|b2y");
}

static void test_range__no_group_is_unchanged(void **state)
{
	(void)state;
	check("plain", "plain");
	check("", "");
	check("[1]", "[1]"); /* no '-' or ',' */
	check("[a b-c]", "[a b-c]"); /* a space is not in the class */
	check("a[1-2", "a[1-2");
	/* no group in the raw text: even the backslashes stay */
	check("x\\[1-2\\]", "x\\[1-2\\]");
}

static void test_range__escaped_brackets(void **state)
{
	(void)state;
	check("x\\[y\\][1-2]", "x[y]1|x[y]2");
	/* an escaped bracket before a real group only loses its backslash */
	check("\\[1-2]", "[1-2]");
	check("r[1-2]\\[\\]", "r1[]|r2[]");
}

static void test_range__underscore_utf8_are_word_chars(void **state)
{
	(void)state;
	/* `\w` covers '_' and non-ASCII letters, but a part must be alnum */
	check("caf\xc3\xa9[1-2]", "caf\xc3\xa9"
	                          "1|caf\xc3\xa9"
	                          "2");
	check("[\xc3\xa9,b]", "\xc3\xa9|b");
	check_error("x[a_b,c]", 0, "invalid range '[a_b,c]'");
}

static void test_range__invalid_groups(void **state)
{
	(void)state;
	check_error("x[1-]", 0, "invalid range '[1-]'");
	check_error("x[-1]", 0, "invalid range '[-1]'");
	check_error("x[-]", 0, "invalid range '[-]'");
	check_error("x[a,,b]", 0, "invalid range '[a,,b]'");
	check_error("x[a,]", 0, "invalid range '[a,]'");
	check_error("x[,]", 0, "invalid range '[,]'");
	check_error("x[a-5]", 0, "invalid range '[a-5]'");
	check_error("x[ab-c]", 0, "invalid range '[ab-c]'");
	check_error("x[a-Z]", 0, "invalid range '[a-Z]'");
	check_error("x[1-2-3]", 0, "invalid range '[1-2-3]'");
	/* the first bad group is reported, after good ones */
	check_error("[1-2]/[3-]", 0, "invalid range '[3-]'");
}

static void test_range__too_many_values(void **state)
{
	(void)state;
	check_error("[1-4]", 3, "range '[1-4]' expands to more than 3 values");
	check_error("[1-999999999999999999999]", 0,
	            "range '[1-999999999999999999999]' expands to more than "
	            "100000 values");
	check_error("[1-1000]/[1-1000]", 0,
	            "range '[1-1000]/[1-1000]' expands to more than 100000 "
	            "values");
	check("[1-3]", "1|2|3");
}

static void test_range__has_group(void **state)
{
	(void)state;
	assert_true(hf_range_has_group("a[1-2]", 6));
	assert_true(hf_range_has_group("[a,b]", 5));
	assert_true(hf_range_has_group("[1-]", 4)); /* the regex matches */
	assert_false(hf_range_has_group("[12]", 4));
	assert_false(hf_range_has_group("x\\[1-2\\]", 8));
	assert_false(hf_range_has_group("10.0.0.0/24", 11));
	/* only the first len bytes count */
	assert_false(hf_range_has_group("a[1-2]", 5));
}

static long alloc_n, fail_n;

static void *t_malloc(size_t n)
{
	return ++alloc_n == fail_n ? NULL : malloc(n);
}

static void *t_realloc(void *p, size_t n)
{
	return ++alloc_n == fail_n ? NULL : realloc(p, n);
}

static void test_range__allocation_failures(void **state)
{
	static const struct hf_allocator tort = { t_malloc, t_realloc, free };
	const char *in = "x\\[y\\][a-c]/[1,3-4]";
	hf_error err = HF_ERROR_INIT;
	char **v;
	size_t n;
	int rc;

	(void)state;
	for (fail_n = 1;; fail_n++) {
		alloc_n = 0;
		hf_alloc_set(&tort);
		rc = hf_range_expand(&v, &n, in, strlen(in), 0, &err);
		hf_alloc_set(NULL);
		if (rc == 0) {
			assert_int_equal(n, 9);
			assert_string_equal(v[8], "x[y]c/4");
			hf_range_free(v, n);
			break;
		}
		assert_int_equal(rc, HF_ENOMEM);
		assert_null(v);
	}
	assert_true(fail_n > 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range__numeric),
		cmocka_unit_test(test_range__zero_padding_is_lost),
		cmocka_unit_test(test_range__descending),
		cmocka_unit_test(test_range__letters),
		cmocka_unit_test(test_range__comma_lists),
		cmocka_unit_test(test_range__cartesian_first_slowest),
		cmocka_unit_test(test_range__no_group_is_unchanged),
		cmocka_unit_test(test_range__escaped_brackets),
		cmocka_unit_test(test_range__underscore_utf8_are_word_chars),
		cmocka_unit_test(test_range__invalid_groups),
		cmocka_unit_test(test_range__too_many_values),
		cmocka_unit_test(test_range__has_group),
		cmocka_unit_test(test_range__allocation_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
