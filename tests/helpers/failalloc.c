/*
 * The failing allocator for tests: counts malloc/realloc calls made
 * through hf_alloc() and friends (jansson too, after hf_alloc_init())
 * and answers NULL when told to.
 */
#include <stdlib.h>

#include "failalloc.h"
#include "hf/alloc.h"
#include "hf/banned.h"

static long calls; /* allocation calls since install */
static long fail_from; /* first call to fail, 0 = none */
static long fail_to; /* last call to fail, 0 = every one from fail_from */
static int failed; /* a call has been failed */

static int should_fail(void)
{
	calls++;
	if (!fail_from || calls < fail_from || (fail_to && calls > fail_to))
		return 0;
	failed = 1;
	return 1;
}

static void *fa_malloc(size_t n)
{
	return should_fail() ? NULL : malloc(n);
}

static void *fa_realloc(void *p, size_t n)
{
	return should_fail() ? NULL : realloc(p, n);
}

static const struct hf_allocator failing = { fa_malloc, fa_realloc, free };

static void install(long from, long to)
{
	calls = 0;
	failed = 0;
	fail_from = from;
	fail_to = to;
	hf_alloc_set(&failing);
}

void hf_failalloc_nth(long n)
{
	if (n <= 0)
		install(0, 0);
	else
		install(n, n);
}

void hf_failalloc_after(long n)
{
	install(n < 0 ? 1 : n + 1, 0);
}

void hf_failalloc_reset(void)
{
	hf_alloc_set(NULL);
}

long hf_failalloc_count(void)
{
	return calls;
}

int hf_failalloc_failed(void)
{
	return failed;
}
