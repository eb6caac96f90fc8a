/* Tests for hf_array_grow: doubling, overflow, failure, and failalloc. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "failalloc.h"
#include "hf/alloc.h"
#include "hf/array.h"
#include "hf/error.h"

static void test_array__grows_by_doubling(void **state)
{
	int *v = NULL;
	size_t n, cap = 0, grown = 0, last = 0;

	(void)state;
	for (n = 0; n < 1000; n++) {
		assert_int_equal(HF_ARRAY_GROW(v, cap, n + 1), 0);
		assert_true(cap >= n + 1);
		if (cap != last) {
			grown++;
			assert_true(last == 0 || cap == last * 2);
			last = cap;
		}
		v[n] = (int)n;
	}
	assert_int_equal(cap, 1024);
	assert_int_equal(grown, 8); /* 8, 16, ..., 1024 */
	for (n = 0; n < 1000; n++)
		assert_int_equal(v[n], (int)n);
	hf_free(v);
}

static void test_array__no_op_when_it_fits(void **state)
{
	char *v = NULL;
	char *before;
	size_t cap = 0;

	(void)state;
	assert_int_equal(HF_ARRAY_GROW(v, cap, 3), 0);
	assert_int_equal(cap, 8);
	before = v;
	hf_failalloc_after(0);
	assert_int_equal(HF_ARRAY_GROW(v, cap, 8), 0);
	assert_int_equal(HF_ARRAY_GROW(v, cap, 0), 0);
	hf_failalloc_reset();
	assert_int_equal(hf_failalloc_count(), 0);
	assert_ptr_equal(v, before);
	hf_free(v);
}

/* A need beyond double is met exactly; one that overflows is HF_ENOMEM. */
static void test_array__large_needs(void **state)
{
	uint64_t *v = NULL;
	size_t cap = 0;

	(void)state;
	assert_int_equal(HF_ARRAY_GROW(v, cap, 100), 0);
	assert_int_equal(cap, 100);
	assert_int_equal(HF_ARRAY_GROW(v, cap, 101), 0);
	assert_int_equal(cap, 200);
	assert_int_equal(HF_ARRAY_GROW(v, cap, SIZE_MAX / 4), HF_ENOMEM);
	assert_int_equal(HF_ARRAY_GROW(v, cap, SIZE_MAX), HF_ENOMEM);
	assert_non_null(v);
	assert_int_equal(cap, 200);
	hf_free(v);
}

/* Doubling past SIZE_MAX / size falls back to exactly what is needed. */
static void test_array__doubling_capped_by_size(void **state)
{
	char *v = NULL;
	size_t cap = SIZE_MAX / 2 + 1;

	(void)state;
	/* need > cap but need * 1 fits: asks for `need` bytes, which fails */
	hf_failalloc_after(0);
	assert_int_equal(HF_ARRAY_GROW(v, cap, SIZE_MAX / 2 + 2), HF_ENOMEM);
	hf_failalloc_reset();
	assert_int_equal(hf_failalloc_count(), 1);
	assert_null(v);
	assert_int_equal(cap, SIZE_MAX / 2 + 1);
}

static void test_array__failure_keeps_the_array(void **state)
{
	int *v = NULL;
	size_t cap = 0, n;

	(void)state;
	assert_int_equal(HF_ARRAY_GROW(v, cap, 8), 0);
	for (n = 0; n < 8; n++)
		v[n] = (int)n * 3;
	hf_failalloc_nth(1);
	assert_int_equal(HF_ARRAY_GROW(v, cap, 9), HF_ENOMEM);
	hf_failalloc_reset();
	assert_true(hf_failalloc_failed());
	assert_int_equal(cap, 8);
	for (n = 0; n < 8; n++)
		assert_int_equal(v[n], (int)n * 3);
	hf_free(v);
}

/* The helper itself: nth fails one call, after fails the rest. */
static void test_array__failalloc_counts_and_fails(void **state)
{
	void *a, *b, *c;

	(void)state;
	hf_failalloc_nth(2);
	a = hf_alloc(1);
	b = hf_alloc(1);
	c = hf_realloc(NULL, 1);
	hf_failalloc_reset();
	assert_non_null(a);
	assert_null(b);
	assert_non_null(c);
	assert_int_equal(hf_failalloc_count(), 3);
	assert_true(hf_failalloc_failed());
	hf_free(a);
	hf_free(c);

	hf_failalloc_after(1);
	a = hf_alloc(1);
	b = hf_alloc(1);
	c = hf_alloc(1);
	hf_failalloc_reset();
	assert_non_null(a);
	assert_null(b);
	assert_null(c);
	assert_int_equal(hf_failalloc_count(), 3);
	hf_free(a);

	hf_failalloc_nth(0);
	a = hf_alloc(1);
	hf_failalloc_reset();
	assert_non_null(a);
	assert_false(hf_failalloc_failed());
	assert_int_equal(hf_failalloc_count(), 1);
	hf_free(a);
	/* after reset, the C library's allocator: no counting */
	a = hf_alloc(1);
	assert_int_equal(hf_failalloc_count(), 1);
	hf_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_array__grows_by_doubling),
		cmocka_unit_test(test_array__no_op_when_it_fits),
		cmocka_unit_test(test_array__large_needs),
		cmocka_unit_test(test_array__doubling_capped_by_size),
		cmocka_unit_test(test_array__failure_keeps_the_array),
		cmocka_unit_test(test_array__failalloc_counts_and_fails),
	};

	return cmocka_run_group_tests_name("array", tests, NULL, NULL);
}
