#ifndef HF_FAILALLOC_H
#define HF_FAILALLOC_H

/*
 * Test helper: a counting allocator installed through hf_alloc_set() that
 * fails on demand, for allocation-failure ("torture") tests. One process-
 * wide state, like hf_alloc_set() itself: not thread-safe, so install it
 * only while no other thread allocates.
 *
 * The usual loop fails every allocation in turn until the code under test
 * runs to the end without reaching the failing one:
 *
 *	for (n = 1;; n++) {
 *		hf_failalloc_nth(n);
 *		rc = code_under_test();
 *		hf_failalloc_reset();
 *		if (!hf_failalloc_failed())
 *			break;          (rc is the full result)
 *		assert_int_equal(rc, HF_ENOMEM);
 *	}
 */

/*
 * Install the allocator, zero the count, and fail allocation n (1-based,
 * counted from this call) and no other. n <= 0 fails nothing: it only
 * counts.
 */
void hf_failalloc_nth(long n);

/*
 * Install the allocator, zero the count, let the first n allocations
 * succeed and fail every later one (n = 0: fail them all).
 */
void hf_failalloc_after(long n);

/*
 * Restore the C library's allocator. The count and the failed flag keep
 * their values until the next hf_failalloc_nth() / _after().
 */
void hf_failalloc_reset(void);

/* Allocation calls (malloc and realloc, failed ones too) since install. */
long hf_failalloc_count(void);

/* Whether an allocation has been failed since install. */
int hf_failalloc_failed(void);

#endif
