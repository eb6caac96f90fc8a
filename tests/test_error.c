/* Tests for hf_error: set returns the code, truncation, positions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "hf/error.h"

static void test_error__set_returns_code(void **state)
{
	hf_error err = HF_ERROR_INIT;

	(void)state;
	assert_int_equal(
	        hf_error_set(&err, HF_EINVAL, "unknown kind '%s'", "Foo"),
	        HF_EINVAL);
	assert_int_equal(err.code, HF_EINVAL);
	assert_string_equal(err.msg, "unknown kind 'Foo'");
	assert_string_equal(err.where, "");
	assert_int_equal(hf_error_set(NULL, HF_ENOMEM, "x"), HF_ENOMEM);
}

static void test_error__at_records_position(void **state)
{
	hf_error err = HF_ERROR_INIT;

	(void)state;
	hf_error_at(&err, HF_EINVAL, "a.yml", 3, 7, "bad %s", "thing");
	assert_string_equal(err.where, "a.yml");
	assert_int_equal(err.line, 3);
	assert_int_equal(err.col, 7);
	assert_string_equal(err.msg, "bad thing");
	hf_error_clear(&err);
	assert_int_equal(err.code, 0);
	assert_string_equal(err.msg, "");
}

static void test_error__long_message_truncates(void **state)
{
	hf_error err = HF_ERROR_INIT;
	char big[2000];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	hf_error_set(&err, HF_ERR, "%s", big);
	assert_int_equal(strlen(err.msg), sizeof(err.msg) - 1);
}

static void test_error__status_names(void **state)
{
	(void)state;
	assert_string_equal(hf_status_str(HF_EINVAL), "invalid input");
	assert_string_equal(hf_status_str(HF_ENOTFOUND), "not found");
	assert_string_equal(hf_status_str(12345), "error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error__set_returns_code),
		cmocka_unit_test(test_error__at_records_position),
		cmocka_unit_test(test_error__long_message_truncates),
		cmocka_unit_test(test_error__status_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
