/* Tests for hf_arena: alignment, zeroing, large blocks, strings, OOM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "failalloc.h"
#include "hf/alloc.h"
#include "hf/arena.h"
#include "hf/error.h"

static void test_arena__aligned_and_zeroed(void **state)
{
	hf_arena a = HF_ARENA_INIT;
	unsigned char *p;
	size_t i, j;

	(void)state;
	for (i = 0; i < 2000; i++) {
		p = hf_arena_alloc(&a, i % 37);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % alignof(max_align_t), 0);
		for (j = 0; j < i % 37; j++)
			assert_int_equal(p[j], 0);
		memset(p, 0xff, i % 37);
	}
	hf_arena_release(&a);
}

static void test_arena__strings(void **state)
{
	hf_arena a = HF_ARENA_INIT;
	char *s, *t, *u;

	(void)state;
	s = hf_arena_strndup(&a, "hello world", 5);
	t = hf_arena_strdup(&a, "x");
	u = hf_arena_strndup(&a, NULL, 0);
	assert_string_equal(s, "hello");
	assert_string_equal(t, "x");
	assert_string_equal(u, "");
	/* strings are packed, not padded to max_align_t */
	assert_ptr_equal(t, s + 6);
	assert_null(hf_arena_strndup(&a, "x", SIZE_MAX));
	hf_arena_release(&a);
}

/* Allocations never overlap, across blocks and large requests. */
static void test_arena__no_overlap(void **state)
{
	hf_arena a = HF_ARENA_INIT;
	unsigned char *p[300];
	size_t sz[300], i, j;

	(void)state;
	for (i = 0; i < 300; i++) {
		sz[i] = (i * 7919) % (i % 50 == 0 ? 300000 : 500) + 1;
		p[i] = hf_arena_alloc(&a, sz[i]);
		assert_non_null(p[i]);
		memset(p[i], (int)(i & 0xff), sz[i]);
	}
	for (i = 0; i < 300; i++)
		for (j = 0; j < sz[i]; j++)
			assert_int_equal(p[i][j], i & 0xff);
	hf_arena_release(&a);
}

/* A large request does not throw away the rest of the current block. */
static void test_arena__large_keeps_head(void **state)
{
	hf_arena a = HF_ARENA_INIT;
	char *x, *big, *y;
	long before;

	(void)state;
	x = hf_arena_alloc(&a, 16);
	hf_failalloc_nth(0);
	big = hf_arena_alloc(&a, 1 << 20);
	y = hf_arena_alloc(&a, 16);
	hf_failalloc_reset();
	before = hf_failalloc_count();
	assert_non_null(big);
	assert_int_equal(before, 1);
	assert_true(y > x && y - x < 4096);
	hf_arena_release(&a);
}

/*
 * hf_arena_adopt moves every block: what either arena gave stays valid
 * and is freed with the adopter (ASan and valgrind see a leak or a use
 * after free otherwise); the adopter goes on filling its own block; an
 * empty side changes nothing.
 */
static void test_arena__adopt(void **state)
{
	hf_arena a = HF_ARENA_INIT, b = HF_ARENA_INIT, c = HF_ARENA_INIT;
	char *sa[40], *sb[40], *x, *y, *big;
	int i;

	(void)state;
	hf_arena_adopt(&a, &b); /* both empty */
	assert_null(a.head);
	for (i = 0; i < 40; i++) {
		sa[i] = hf_arena_strdup(&a, "first arena string, long enough");
		sb[i] = hf_arena_strdup(&b, "second arena string, long enough");
		assert_non_null(sa[i]);
		assert_non_null(sb[i]);
	}
	big = hf_arena_alloc(&b, 1 << 20); /* a large block of its own */
	assert_non_null(big);
	memset(big, 7, 1 << 20);
	x = hf_arena_alloc(&a, 16);
	hf_arena_adopt(&a, &b);
	assert_null(b.head);
	y = hf_arena_alloc(&a, 16);
	assert_true(y > x && y - x < 4096); /* still a's own block */
	for (i = 0; i < 40; i++) {
		assert_string_equal(sa[i], "first arena string, long enough");
		assert_string_equal(sb[i], "second arena string, long enough");
	}
	assert_int_equal(big[(1 << 20) - 1], 7);
	hf_arena_adopt(&c, &a); /* into an empty one: it takes them all */
	assert_null(a.head);
	assert_string_equal(sb[39], "second arena string, long enough");
	assert_non_null(hf_arena_alloc(&c, 16));
	hf_arena_adopt(&c, &b); /* an empty one: nothing */
	hf_arena_release(&c);
	hf_arena_release(&a);
	hf_arena_release(&b);
}

/* hf_arena_init sizes the first block, within bounds; bytes are packed. */
static void test_arena__init_and_bytes(void **state)
{
	hf_arena a;
	char *p, *q;
	size_t i;

	(void)state;
	hf_arena_init(&a, 3u << 20);
	hf_failalloc_nth(0);
	for (i = 0; i < 1000; i++) /* 1000 KiB: one block of 1 MiB */
		assert_non_null(hf_arena_alloc(&a, 1024));
	hf_failalloc_reset();
	assert_int_equal(hf_failalloc_count(), 1);
	hf_arena_release(&a);

	hf_arena_init(&a, 10);
	hf_failalloc_nth(0);
	p = hf_arena_bytes(&a, 3);
	q = hf_arena_bytes(&a, 5);
	for (i = 0; i < 8; i++) /* 8 bytes + 8 KiB: past the first block */
		assert_non_null(hf_arena_alloc(&a, 1024));
	hf_failalloc_reset();
	assert_int_equal(hf_failalloc_count(), 2);
	assert_ptr_equal(q, p + 3);
	hf_arena_release(&a);
}

static void test_arena__calloc_overflow(void **state)
{
	hf_arena a = HF_ARENA_INIT;
	int *v;

	(void)state;
	assert_null(hf_arena_calloc(&a, SIZE_MAX / 2, 4));
	assert_null(hf_arena_alloc(&a, SIZE_MAX - 8));
	v = hf_arena_calloc(&a, 10, sizeof(*v));
	assert_non_null(v);
	assert_int_equal(v[9], 0);
	hf_arena_release(&a);
	/* reusable after release */
	assert_non_null(hf_arena_alloc(&a, 1));
	hf_arena_release(&a);
}

/* Each allocation failing in turn: NULL, earlier memory intact, no leak. */
static void test_arena__allocation_failures(void **state)
{
	long n;
	int i, got;

	(void)state;
	for (n = 1;; n++) {
		hf_arena a = HF_ARENA_INIT;
		char *s[100];

		hf_failalloc_nth(n);
		for (i = 0, got = 0; i < 100; i++) {
			s[i] = hf_arena_strndup(&a, "0123456789", 10);
			if (!s[i])
				break;
			got++;
			if (i % 10 == 0 && !hf_arena_alloc(&a, 100000))
				break;
		}
		hf_failalloc_reset();
		for (i = 0; i < got; i++)
			assert_string_equal(s[i], "0123456789");
		hf_arena_release(&a);
		if (!hf_failalloc_failed()) {
			assert_int_equal(got, 100);
			break;
		}
		assert_true(got < 100);
	}
	assert_true(n > 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arena__aligned_and_zeroed),
		cmocka_unit_test(test_arena__strings),
		cmocka_unit_test(test_arena__no_overlap),
		cmocka_unit_test(test_arena__large_keeps_head),
		cmocka_unit_test(test_arena__adopt),
		cmocka_unit_test(test_arena__init_and_bytes),
		cmocka_unit_test(test_arena__calloc_overflow),
		cmocka_unit_test(test_arena__allocation_failures),
	};

	return cmocka_run_group_tests_name("arena", tests, NULL, NULL);
}
