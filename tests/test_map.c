/*
 * Tests for hf_map: put/get, byte-string keys, duplicates in order,
 * deletion (with shifted runs), copied keys, iteration, allocation
 * failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "failalloc.h"
#include "hf/alloc.h"
#include "hf/error.h"
#include "hf/map.h"

#define V(i) ((void *)(uintptr_t)(i))

static int put_s(hf_map *m, const char *k, uintptr_t v)
{
	return hf_map_put(m, k, strlen(k), V(v));
}

static uintptr_t get_s(const hf_map *m, const char *k)
{
	return (uintptr_t)hf_map_get(m, k, strlen(k));
}

/* Put "<prefix><i>" -> i + 1 for i < n; 0 or the first failure. */
static int fill(hf_map *m, const char *prefix, int n)
{
	char k[32];
	int i, rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		snprintf(k, sizeof(k), "%s%d", prefix, i);
		rc = put_s(m, k, (uintptr_t)i + 1);
	}
	return rc;
}

static void test_map__put_get_replace(void **state)
{
	hf_map m = HF_MAP_INIT;

	(void)state;
	assert_null(hf_map_get(&m, "a", 1));
	assert_null(hf_map_find(&m, "a", 1));
	assert_int_equal(put_s(&m, "a", 1), 0);
	assert_int_equal(put_s(&m, "b", 2), 0);
	assert_int_equal(put_s(&m, "a", 3), 0);
	assert_int_equal(hf_map_count(&m), 2);
	assert_int_equal(get_s(&m, "a"), 3);
	assert_int_equal(get_s(&m, "b"), 2);
	assert_int_equal(get_s(&m, "c"), 0);
	hf_map_release(&m);
	assert_int_equal(hf_map_count(&m), 0);
	assert_null(hf_map_get(&m, "a", 1));
}

static void test_map__keys_are_bytes(void **state)
{
	hf_map m = HF_MAP_INIT;
	const char k[] = "a\0b";

	(void)state;
	assert_int_equal(hf_map_put(&m, k, 3, V(1)), 0);
	assert_int_equal(hf_map_put(&m, k, 1, V(2)), 0);
	assert_int_equal(hf_map_put(&m, "", 0, V(3)), 0);
	assert_int_equal((uintptr_t)hf_map_get(&m, "a\0b", 3), 1);
	assert_int_equal((uintptr_t)hf_map_get(&m, "a", 1), 2);
	assert_int_equal((uintptr_t)hf_map_get(&m, "", 0), 3);
	assert_null(hf_map_get(&m, "a\0c", 3));
	hf_map_release(&m);
}

/*
 * Large sets hold a map entry per object and per id: an entry is three
 * words (the length and hash in 32 bits each), and a key too long for
 * that is refused, never truncated into another key's length.
 */
static void test_map__entries_are_small(void **state)
{
	hf_map m = HF_MAP_INIT;

	(void)state;
	assert_int_equal(sizeof(struct hf_map_entry), 3 * sizeof(void *));
	assert_int_equal(put_s(&m, "k", 1), 0);
	if (sizeof(size_t) > 4) {
		/* never read: the length is refused first */
		assert_int_equal(hf_map_put(&m, "k", (size_t)UINT32_MAX, V(2)),
		                 HF_EINVAL);
		assert_null(hf_map_get(&m, "k", (size_t)UINT32_MAX));
		assert_int_equal(hf_map_count(&m), 1);
	}
	hf_map_release(&m);
}

static void test_map__many_keys(void **state)
{
	hf_map m = HF_MAP_INIT_COPY;
	char k[32];
	int i;

	(void)state;
	assert_int_equal(fill(&m, "key", 5000), 0);
	assert_int_equal(hf_map_count(&m), 5000);
	assert_true(m.cap >= 10000);
	for (i = 0; i < 5000; i++) {
		snprintf(k, sizeof(k), "key%d", i);
		assert_int_equal(get_s(&m, k), (uintptr_t)i + 1);
	}
	hf_map_release(&m);
}

/* Duplicates come back in the order they were added, across growth. */
static void test_map__duplicates_in_order(void **state)
{
	hf_map m = HF_MAP_INIT;
	struct hf_map_entry *e;
	char keys[200][8];
	uintptr_t want = 1;
	int i;

	(void)state;
	for (i = 0; i < 200; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		assert_int_equal(put_s(&m, keys[i], 0), 0);
		assert_int_equal(hf_map_add(&m, "dup", 3, V(i + 1)), 0);
	}
	for (e = hf_map_find(&m, "dup", 3); e; e = hf_map_next(&m, e))
		assert_int_equal((uintptr_t)e->val, want++);
	assert_int_equal(want, 201);
	/* put replaces the first */
	assert_int_equal(hf_map_put(&m, "dup", 3, V(999)), 0);
	assert_int_equal((uintptr_t)hf_map_get(&m, "dup", 3), 999);
	hf_map_release(&m);
}

static void test_map__delete(void **state)
{
	hf_map m = HF_MAP_INIT_COPY;
	struct hf_map_entry *e;
	char k[32];
	int i;

	(void)state;
	assert_int_equal(fill(&m, "", 1000), 0);
	assert_int_equal(hf_map_add(&m, "7", 1, V(70)), 0);
	assert_int_equal(hf_map_del(&m, "7", 1, V(70)), 1);
	assert_int_equal(hf_map_del(&m, "7", 1, V(70)), 0);
	assert_int_equal(get_s(&m, "7"), 8);
	for (i = 0; i < 1000; i += 2) {
		snprintf(k, sizeof(k), "%d", i);
		assert_int_equal(hf_map_del(&m, k, strlen(k), NULL), 1);
	}
	assert_int_equal(hf_map_del(&m, "nope", 4, NULL), 0);
	assert_int_equal(hf_map_count(&m), 500);
	/* every survivor is still reachable after the shifts */
	for (i = 0; i < 1000; i++) {
		snprintf(k, sizeof(k), "%d", i);
		e = hf_map_find(&m, k, strlen(k));
		if (i % 2) {
			assert_non_null(e);
			assert_string_equal(e->key, k);
			assert_int_equal((uintptr_t)e->val, (uintptr_t)i + 1);
		} else {
			assert_null(e);
		}
	}
	hf_map_release(&m);
}

static void test_map__copies_keys(void **state)
{
	hf_map m = HF_MAP_INIT_COPY;
	char k[8] = "abc";
	struct hf_map_entry *e;

	(void)state;
	assert_int_equal(put_s(&m, k, 1), 0);
	k[0] = 'x';
	assert_int_equal(get_s(&m, "abc"), 1);
	e = hf_map_find(&m, "abc", 3);
	assert_non_null(e);
	assert_ptr_not_equal(e->key, k);
	assert_int_equal(e->key[3], '\0');
	hf_map_reset(&m);
	assert_int_equal(hf_map_count(&m), 0);
	assert_int_equal(get_s(&m, "abc"), 0);
	assert_int_equal(put_s(&m, "abc", 2), 0);
	assert_int_equal(get_s(&m, "abc"), 2);
	hf_map_release(&m);
}

static void test_map__each(void **state)
{
	hf_map m = HF_MAP_INIT;
	struct hf_map_entry *e;
	size_t i = 0;
	uintptr_t sum = 0;
	int n = 0;

	(void)state;
	assert_null(hf_map_each(&m, &i));
	put_s(&m, "a", 1);
	put_s(&m, "b", 2);
	hf_map_add(&m, "b", 1, V(4));
	i = 0;
	while ((e = hf_map_each(&m, &i))) {
		sum += (uintptr_t)e->val;
		n++;
	}
	assert_int_equal(n, 3);
	assert_int_equal(sum, 7);
	hf_map_release(&m);
}

/* Each allocation failing in turn: HF_ENOMEM, map unchanged, no leak. */
static void test_map__allocation_failures(void **state)
{
	char k[32];
	size_t ok;
	long n;
	int i, rc;

	(void)state;
	for (n = 1;; n++) {
		hf_map m = HF_MAP_INIT_COPY;

		hf_failalloc_nth(n);
		rc = fill(&m, "k", 40);
		hf_failalloc_reset();
		ok = hf_map_count(&m);
		if (!hf_failalloc_failed()) {
			assert_int_equal(rc, 0);
			assert_int_equal(hf_map_count(&m), 40);
			hf_map_release(&m);
			break;
		}
		assert_int_equal(rc, HF_ENOMEM);
		for (i = 0; i < (int)ok; i++) {
			snprintf(k, sizeof(k), "k%d", i);
			assert_int_equal(get_s(&m, k), (uintptr_t)i + 1);
		}
		snprintf(k, sizeof(k), "k%zu", ok);
		assert_int_equal(get_s(&m, k), 0);
		hf_map_release(&m);
	}
	/* 40 key copies and 4 slot arrays (16 to 128 slots): 44 in all */
	assert_int_equal(n, 45);
}

/*
 * Room made once: adding as many keys as reserved moves nothing, and what
 * was there before is found, its duplicates in order.
 */
static void test_map__reserve(void **state)
{
	static char keys[1000][8];
	hf_map m = HF_MAP_INIT;
	struct hf_map_entry *e;
	const struct hf_map_entry *slots;
	int i;

	(void)state;
	for (i = 0; i < 1000; i++)
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
	assert_int_equal(hf_map_add(&m, "k1", 2, (void *)1), 0);
	assert_int_equal(hf_map_add(&m, "k1", 2, (void *)2), 0);
	assert_int_equal(hf_map_reserve(&m, 1002), 0);
	slots = m.slots;
	assert_true(m.cap >= 2004);
	for (i = 0; i < 1000; i++)
		assert_int_equal(hf_map_add(&m, keys[i], strlen(keys[i]),
		                            (void *)(intptr_t)(i + 10)),
		                 0);
	assert_ptr_equal(m.slots, slots);
	e = hf_map_find(&m, "k1", 2);
	assert_non_null(e);
	assert_ptr_equal(e->val, (void *)1);
	e = hf_map_next(&m, e);
	assert_ptr_equal(e->val, (void *)2);
	e = hf_map_next(&m, e);
	assert_ptr_equal(e->val, (void *)11);
	for (i = 0; i < 1000; i++)
		assert_non_null(hf_map_get(&m, keys[i], strlen(keys[i])));
	/* smaller than there is room for: nothing changes */
	assert_int_equal(hf_map_reserve(&m, 10), 0);
	assert_ptr_equal(m.slots, slots);
	assert_int_equal(hf_map_reserve(&m, SIZE_MAX / 2), HF_ENOMEM);
	assert_ptr_equal(m.slots, slots);
	hf_map_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map__put_get_replace),
		cmocka_unit_test(test_map__keys_are_bytes),
		cmocka_unit_test(test_map__entries_are_small),
		cmocka_unit_test(test_map__many_keys),
		cmocka_unit_test(test_map__duplicates_in_order),
		cmocka_unit_test(test_map__delete),
		cmocka_unit_test(test_map__copies_keys),
		cmocka_unit_test(test_map__each),
		cmocka_unit_test(test_map__allocation_failures),
		cmocka_unit_test(test_map__reserve),
	};

	return cmocka_run_group_tests_name("map", tests, NULL, NULL);
}
