/* Tests for hf_buf: growth, cap, sticky failure, detach. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "failalloc.h"
#include "hf/alloc.h"
#include "hf/buf.h"
#include "hf/error.h"

static void test_buf__init_is_empty_string(void **state)
{
	hf_buf b = HF_BUF_INIT;

	(void)state;
	assert_non_null(b.ptr);
	assert_string_equal(b.ptr, "");
	assert_int_equal(b.len, 0);
	hf_buf_release(&b);
}

static void test_buf__append_and_format(void **state)
{
	hf_buf b = HF_BUF_INIT;
	int i;

	(void)state;
	hf_buf_add(&b, "abc");
	hf_buf_addch(&b, '-');
	hf_buf_addf(&b, "%d/%s", 42, "x");
	assert_false(hf_buf_failed(&b));
	assert_string_equal(b.ptr, "abc-42/x");
	for (i = 0; i < 1000; i++)
		hf_buf_add(&b, "0123456789");
	assert_int_equal(b.len, 8 + 10000);
	hf_buf_setlen(&b, 3);
	assert_string_equal(b.ptr, "abc");
	hf_buf_reset(&b);
	assert_string_equal(b.ptr, "");
	hf_buf_release(&b);
}

static void test_buf__cap_is_sticky(void **state)
{
	hf_buf b;

	(void)state;
	hf_buf_init(&b, 8);
	assert_int_equal(hf_buf_add(&b, "12345678"), 0);
	assert_int_equal(hf_buf_add(&b, "9"), HF_ENOMEM);
	assert_true(hf_buf_failed(&b));
	/* later appends are no-ops, even small ones */
	assert_int_equal(hf_buf_add(&b, ""), HF_ENOMEM);
	assert_null(hf_buf_detach(&b));
	assert_string_equal(b.ptr, "");
	hf_buf_release(&b);
}

/*
 * A formatted append goes in the room the buffer has when it fits, grows
 * the buffer when it does not, and past the cap fails without leaving
 * what it tried to write.
 */
static void test_buf__format_in_room_grows_and_caps(void **state)
{
	hf_buf b;
	int i;

	(void)state;
	hf_buf_init(&b, 0);
	hf_buf_add(&b, "x"); /* 64 bytes of room */
	assert_int_equal(hf_buf_addf(&b, "%d", 12345), 0);
	assert_string_equal(b.ptr, "x12345");
	for (i = 0; i < 20; i++)
		assert_int_equal(hf_buf_addf(&b, "%s-%d;", "abcdef", i), 0);
	assert_int_equal(b.len, strlen(b.ptr));
	assert_memory_equal(b.ptr + b.len - 10, "abcdef-19;", 10);
	hf_buf_release(&b);

	hf_buf_init(&b, 10);
	hf_buf_add(&b, "123"); /* room for 64, a cap of 10 */
	assert_int_equal(hf_buf_addf(&b, "%s", "4567890"), 0);
	assert_int_equal(hf_buf_addf(&b, "%s", "x"), HF_ENOMEM);
	assert_true(hf_buf_failed(&b));
	assert_int_equal(b.len, 10);
	assert_string_equal(b.ptr, "1234567890");
	hf_buf_release(&b);
}

static void test_buf__detach_hands_out_memory(void **state)
{
	hf_buf b = HF_BUF_INIT;
	char *s;

	(void)state;
	s = hf_buf_detach(&b);
	assert_non_null(s);
	assert_string_equal(s, "");
	hf_free(s);
	hf_buf_addf(&b, "%s", "hello");
	s = hf_buf_detach(&b);
	assert_string_equal(s, "hello");
	assert_string_equal(b.ptr, "");
	hf_free(s);
}

static void test_buf__allocation_failure_is_sticky(void **state)
{
	hf_buf b = HF_BUF_INIT;

	(void)state;
	hf_failalloc_after(0);
	hf_buf_add(&b, "x");
	hf_failalloc_reset();
	hf_buf_add(&b, "y");
	assert_true(hf_buf_failed(&b));
	assert_null(hf_buf_detach(&b));
	hf_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf__init_is_empty_string),
		cmocka_unit_test(test_buf__append_and_format),
		cmocka_unit_test(test_buf__cap_is_sticky),
		cmocka_unit_test(test_buf__format_in_room_grows_and_caps),
		cmocka_unit_test(test_buf__detach_hands_out_memory),
		cmocka_unit_test(test_buf__allocation_failure_is_sticky),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
