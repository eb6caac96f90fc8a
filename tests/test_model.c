/*
 * Objects and sets (hf/model.h): the HFID pool.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hf/alloc.h"
#include "hf/model.h"
#include "testutil.h"

static void test_model__pool_shares_equal_hfids(void **state)
{
	hf_hfid_pool *p = hf_hfid_pool_new();
	json_t *a, *b, *c, *src;

	(void)state;
	assert_non_null(p);
	a = hf_hfid_pool_take(p, json_pack("[ss]", "lyon", "r1"));
	b = hf_hfid_pool_take(p, json_pack("[ss]", "lyon", "r1"));
	src = json_pack("[ss]", "lyon", "r1");
	c = hf_hfid_pool_copy(p, src);
	assert_ptr_equal(a, b);
	assert_ptr_equal(a, c);
	assert_ptr_not_equal(c, src);
	/* the pool's reference and three handed out */
	assert_int_equal(a->refcount, 4);
	/* not equal: not shared, even when the text runs together */
	b = hf_hfid_pool_take(p, json_pack("[s]", "lyon\x1fr1"));
	c = hf_hfid_pool_take(p, json_pack("[s]", "lyon"));
	assert_ptr_not_equal(a, c);
	assert_string_equal(json_string_value(json_array_get(c, 0)), "lyon");
	hf_hfid_pool_free(p);
	/* what was handed out outlives the pool */
	assert_int_equal(a->refcount, 3);
	assert_string_equal(json_string_value(json_array_get(a, 1)), "r1");
	json_decref(a);
	json_decref(a);
	json_decref(a);
	json_decref(b);
	json_decref(c);
	json_decref(src);
}

static void test_model__pool_passes_other_values(void **state)
{
	hf_hfid_pool *p = hf_hfid_pool_new();
	json_t *odd = json_pack("[i]", 7), *empty = json_array(), *r;

	(void)state;
	/* not an array of strings, or empty: given back as it is */
	assert_ptr_equal(hf_hfid_pool_take(p, odd), odd);
	assert_ptr_equal(hf_hfid_pool_take(p, empty), empty);
	assert_null(hf_hfid_pool_take(p, NULL));
	assert_null(hf_hfid_pool_copy(p, NULL));
	/* no pool: a copy */
	r = hf_hfid_pool_copy(NULL, odd);
	assert_ptr_not_equal(r, odd);
	assert_true(json_equal(r, odd));
	json_decref(r);
	json_decref(odd);
	json_decref(empty);
	hf_hfid_pool_free(p);
	hf_hfid_pool_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model__pool_shares_equal_hfids),
		cmocka_unit_test(test_model__pool_passes_other_values),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
