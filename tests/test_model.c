/*
 * Objects and sets (hf/model.h): identity keys, sets, the HFID pool.
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
#include "hf/buf.h"
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

static char *key_of(const char *kind, json_t *hfid)
{
	hf_buf b = HF_BUF_INIT;

	assert_int_equal(hf_identity_key(&b, kind, hfid), 0);
	json_decref(hfid);
	return hf_buf_detach(&b);
}

/* No two HFIDs share an identity key, whatever bytes they hold. */
static void test_model__identity_keys_are_unambiguous(void **state)
{
	char *a = key_of("K", json_pack("[ss]",
	                                "a\x1f"
	                                "b",
	                                "c"));
	char *b = key_of("K", json_pack("[ss]", "a",
	                                "b\x1f"
	                                "c"));
	char *c = key_of("K", json_pack("[s]", "a\x1e"
	                                       "0"));
	char *d = key_of("K", json_pack("[s#]", "a\0", (size_t)2));
	char *e = key_of("K", json_pack("[ss]", "plain", "x"));
	/* a kind with the separator in it: not another kind's object */
	char *f = key_of("K\x1f"
	                 "a",
	                 json_array());
	char *g = key_of("K", json_pack("[s]", "a"));

	(void)state;
	assert_string_not_equal(f, g);
	hf_free(f);
	hf_free(g);
	assert_string_not_equal(a, b);
	assert_string_not_equal(c, d);
	assert_int_equal(strlen(d), 5); /* "K" US "a" ESC "0": no NUL */
	/* ordinary HFIDs keep the key they always had */
	assert_string_equal(e, "K\x1fplain\x1fx");
	hf_free(a);
	hf_free(b);
	hf_free(c);
	hf_free(d);
	hf_free(e);
}

/* A set holds both, and finds each. */
static void test_model__objset_tells_them_apart(void **state)
{
	hf_objset *s;
	struct hf_object o;
	json_t *h1 = json_pack("[ss]",
	                       "a\x1f"
	                       "b",
	                       "c");
	json_t *h2 = json_pack("[ss]", "a",
	                       "b\x1f"
	                       "c");

	(void)state;
	assert_int_equal(hf_objset_new(&s), 0);
	memset(&o, 0, sizeof(o));
	o.kind = hf_name("K");
	o.hfid = json_incref(h1);
	assert_int_equal(hf_objset_add(s, &o, NULL), 0);
	memset(&o, 0, sizeof(o));
	o.kind = hf_name("K");
	o.hfid = json_incref(h2);
	assert_int_equal(hf_objset_add(s, &o, NULL), 0);
	assert_int_equal(hf_objset_find(s, "K", h1), 0);
	assert_int_equal(hf_objset_find(s, "K", h2), 1);
	json_decref(h1);
	json_decref(h2);
	hf_objset_free(s);
}

/*
 * A large set does not allocate per object: identity keys go to the
 * set's arena, the id index borrows the object's id, and only growth
 * allocates (a few dozen times for a thousand objects, where a copy of
 * each key and id took three or more each). Every object is found by
 * identity and by id after the set grew.
 */
static void test_model__objset_allocates_little(void **state)
{
	enum { N = 1000 };
	struct hf_object *v = calloc(N, sizeof(*v));
	hf_buf key = HF_BUF_INIT;
	char name[32], id[32];
	hf_objset *s;
	json_t *h;
	long allocs;
	int i;

	(void)state;
	assert_non_null(v);
	assert_int_equal(hf_objset_new(&s), 0);
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "dev%04d", i);
		snprintf(id, sizeof(id), "id-%04d", i);
		v[i].kind = hf_name("BenchDevice");
		v[i].hfid = json_pack("[s]", name);
		v[i].id = hf_strdup(id);
		assert_non_null(v[i].hfid);
		assert_non_null(v[i].id);
	}
	hf_failalloc_nth(0);
	for (i = 0; i < N; i++)
		if (hf_objset_add(s, &v[i], NULL) < 0)
			break;
	allocs = hf_failalloc_count();
	hf_failalloc_reset();
	assert_int_equal(i, N);
	assert_true(allocs < 100);
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "dev%04d", i);
		snprintf(id, sizeof(id), "id-%04d", i);
		h = json_pack("[s]", name);
		assert_int_equal(hf_objset_find(s, "BenchDevice", h), i);
		/* the same through one scratch key, whatever it held */
		assert_int_equal(hf_objset_find_buf(s, "BenchDevice", h, &key),
		                 i);
		assert_int_equal(hf_objset_find_buf(s, "BenchSite", h, &key),
		                 -1);
		assert_int_equal(hf_objset_find_id(s, id), i);
		assert_string_equal(hf_objset_at(s, (size_t)i)->id, id);
		json_decref(h);
	}
	assert_int_equal(hf_objset_find_id(s, "id-x"), -1);
	hf_buf_release(&key);
	hf_objset_free(s);
	free(v);
}

/* One copy of each field name, however many fields carry it. */
static void test_model__field_names_are_shared(void **state)
{
	char buf[16];
	const char *a, *b;

	(void)state;
	snprintf(buf, sizeof(buf), "%s", "serial");
	a = hf_name("serial");
	b = hf_name(buf);
	assert_non_null(a);
	assert_ptr_equal(a, b);
	assert_ptr_not_equal(a, buf);
	assert_string_equal(a, "serial");
	assert_ptr_not_equal(hf_name("asn"), a);
	assert_null(hf_name(NULL));
}

/*
 * A name asked for from the same place again is remembered; the place
 * holding another name later (a schema freed, its memory reused) gives
 * that name, not the one remembered.
 */
static void test_model__names_from_a_reused_place(void **state)
{
	char buf[32];
	const char *a, *b, *c;
	int i;

	(void)state;
	snprintf(buf, sizeof(buf), "%s", "role");
	a = hf_name(buf);
	assert_ptr_equal(hf_name(buf), a);
	snprintf(buf, sizeof(buf), "%s", "location");
	b = hf_name(buf);
	assert_string_equal(b, "location");
	assert_ptr_equal(b, hf_name("location"));
	assert_ptr_not_equal(a, b);
	/* a prefix of what was there, and a longer name over a short one */
	buf[3] = '\0';
	assert_string_equal(hf_name(buf), "loc");
	snprintf(buf, sizeof(buf), "%s", "locations_and_more");
	assert_string_equal(hf_name(buf), "locations_and_more");
	for (i = 0; i < 1000; i++) {
		snprintf(buf, sizeof(buf), "n%d", i % 7);
		c = hf_name(buf);
		assert_string_equal(c, buf);
		assert_ptr_equal(c, hf_name(buf));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model__pool_shares_equal_hfids),
		cmocka_unit_test(test_model__pool_passes_other_values),
		cmocka_unit_test(test_model__identity_keys_are_unambiguous),
		cmocka_unit_test(test_model__objset_tells_them_apart),
		cmocka_unit_test(test_model__objset_allocates_little),
		cmocka_unit_test(test_model__field_names_are_shared),
		cmocka_unit_test(test_model__names_from_a_reused_place),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
