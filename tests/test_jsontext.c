/*
 * hf_json_write must write exactly what jansson's json_dumps writes
 * (compact, any value, sorted keys or not): plan checksums and change
 * fingerprints stored by earlier versions are verified against it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/error.h"
#include "hf/jsontext.h"

static void same_as_jansson(const json_t *j)
{
	hf_buf b = HF_BUF_INIT;
	char *want;

	want = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	assert_non_null(want);
	assert_int_equal(hf_json_write(&b, j, 0), 0);
	assert_string_equal(b.ptr, want);
	hf_free(want);
	hf_buf_reset(&b);
	want = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
	assert_int_equal(hf_json_write(&b, j, HF_JSON_SORTED), 0);
	assert_string_equal(b.ptr, want);
	hf_free(want);
	hf_buf_release(&b);
}

static void test_jsontext__scalars(void **state)
{
	static const double reals[] = { 0.0,
		                        -0.0,
		                        1.0,
		                        0.1,
		                        1e300,
		                        -2.5e-300,
		                        123456789012345678.0,
		                        3.14159265358979 };
	json_t *j;
	size_t i;

	(void)state;
	same_as_jansson(json_null());
	same_as_jansson(json_true());
	same_as_jansson(json_false());
	for (i = 0; i < sizeof(reals) / sizeof(reals[0]); i++) {
		j = json_real(reals[i]);
		same_as_jansson(j);
		json_decref(j);
	}
	j = json_integer(-9223372036854775807LL - 1);
	same_as_jansson(j);
	json_decref(j);
	j = json_integer(0);
	same_as_jansson(j);
	json_decref(j);
}

static void test_jsontext__every_control_character_and_unicode(void **state)
{
	char s[64];
	json_t *j;
	int c;

	(void)state;
	for (c = 0; c < 0x80; c++) {
		s[0] = 'a';
		s[1] = (char)c;
		s[2] = 'z';
		j = json_stringn(s, 3);
		same_as_jansson(j);
		json_decref(j);
	}
	j = json_string("é 中文 😀 \xe2\x80\xae rtl / slash \x7f del \"q\" \\b");
	assert_non_null(j);
	same_as_jansson(j);
	json_decref(j);
	j = json_string("");
	same_as_jansson(j);
	json_decref(j);
}

static void test_jsontext__keys_in_insertion_or_sorted_order(void **state)
{
	json_t *j;

	(void)state;
	j = json_loads("{\"b\":1,\"a\":[1,\"x\",{\"z\":null,\"y\":true}],"
	               "\"ab\":{},\"\":[],\"\\u00e9\":3,"
	               "\"A\":{\"k\":\"v\"}}",
	               0, NULL);
	assert_non_null(j);
	assert_int_equal(json_object_setn_new(j, "a\0b", 3, json_integer(2)),
	                 0);
	assert_int_equal(json_object_setn_new(j, "a", 1, json_string("v")), 0);
	same_as_jansson(j);
	json_decref(j);
}

static void test_jsontext__many_keys_leave_the_stack(void **state)
{
	json_t *j = json_object();
	char k[16];
	int i;

	(void)state;
	for (i = 40; i > 0; i--) {
		snprintf(k, sizeof(k), "k%d", i * 7919 % 97);
		json_object_set_new(j, k, json_integer(i));
	}
	same_as_jansson(j);
	json_decref(j);
}

/* Random trees of every type, compared with json_dumps. */
static json_t *random_value(unsigned *seed, int depth)
{
	static const char alphabet[] = "ab\"\\\n\t\x01/ ";
	char s[12], k[4];
	json_t *j;
	int i, n;

	switch (depth > 3 ? rand_r(seed) % 5 : rand_r(seed) % 7) {
	case 0:
		return json_integer(rand_r(seed) - RAND_MAX / 2);
	case 1:
		return json_real((double)rand_r(seed) / 7.0);
	case 2:
		n = rand_r(seed) % 5;
		for (i = 0; i < n; i++)
			s[i] = alphabet[rand_r(seed) % (sizeof(alphabet) - 1)];
		s[n] = '\0';
		if (rand_r(seed) % 4 == 0)
			strcat(s, "\xc3\xa9"); /* é */
		return json_string(s);
	case 3:
		return rand_r(seed) % 2 ? json_true() : json_null();
	case 4:
		return json_false();
	case 5:
		j = json_array();
		n = rand_r(seed) % 4;
		for (i = 0; i < n; i++)
			json_array_append_new(j, random_value(seed, depth + 1));
		return j;
	default:
		j = json_object();
		n = rand_r(seed) % 5;
		for (i = 0; i < n; i++) {
			k[0] = (char)('a' + rand_r(seed) % 3);
			k[1] = (char)('a' + rand_r(seed) % 3);
			k[2] = '\0';
			json_object_set_new(j, k + rand_r(seed) % 2,
			                    random_value(seed, depth + 1));
		}
		return j;
	}
}

static void test_jsontext__random_trees(void **state)
{
	unsigned seed = 20261203;
	json_t *j;
	int i;

	(void)state;
	for (i = 0; i < 3000; i++) {
		j = random_value(&seed, 0);
		assert_non_null(j);
		same_as_jansson(j);
		json_decref(j);
	}
}

static void test_jsontext__what_jansson_refuses(void **state)
{
	hf_buf b = HF_BUF_INIT;
	json_t *bad = json_string_nocheck("\xff\xfe");

	(void)state;
	assert_int_equal(hf_json_write(&b, NULL, 0), HF_EINVAL);
	assert_int_equal(hf_json_write(&b, bad, 0), HF_EINVAL);
	assert_null(json_dumps(bad, JSON_ENCODE_ANY));
	json_decref(bad);
	hf_buf_release(&b);
}

/* hf_json_value_len(): where the value at the start of a text ends. */
static void test_jsontext__value_len(void **state)
{
	static const struct {
		const char *text;
		size_t len;
	} cases[] = {
		{ "12,3", 2 },
		{ "null]", 4 },
		{ "\"a,b\",1", 5 },
		{ "\"a\\\"]\",1", 6 }, /* "a\"]" */
		{ "[1,[2,\"]\"],{\"k\":\"}\"}],9", 21 },
		{ "{\"a\":{\"b\":[]}}x", 14 },
		{ "\"open", 0 },
		{ "[1,2", 0 },
		{ "\"a\\", 0 }, /* an escape at the very end */
		{ "[\"x\n\"]", 0 }, /* a raw newline in a string */
		{ "[1,\n2]", 0 }, /* over a line */
		{ "", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(
		        hf_json_value_len(cases[i].text, strlen(cases[i].text)),
		        cases[i].len);
	/* the length given bounds it, not the terminating NUL */
	assert_int_equal(hf_json_value_len("[1]", 2), 0);
	assert_int_equal(hf_json_value_len("123", 2), 2);
}

static int jansson_takes(const char *s, size_t n)
{
	json_t *j = json_loadb(s, n, JSON_DECODE_ANY, NULL);

	json_decref(j);
	return j != NULL;
}

/*
 * hf_json_valid() says what jansson's decoder says: for hand-picked
 * texts, and for every cut and every byte replaced in them (the bytes
 * that mean something to JSON, and some that break UTF-8).
 */
static void test_jsontext__valid_as_jansson_decodes(void **state)
{
	static const char *const texts[] = {
		"{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\\n\"}}",
		"[-0,0.5,1e10,-2.5E-3,\"\\u00e9\\ud83d\\ude00\",\"\xc3\xa9\"]",
		" {\"x\" : [ 1 , 2 ] } ",
		"\"\\u0000\"",
		"\"\\ud800\"",
		"\"\\udc00\\ud800\"",
		"9223372036854775807",
		"9223372036854775808",
		"-9223372036854775808",
		"-9223372036854775809",
		"1e999",
		"-1e308",
		"0123",
		"1.",
		".5",
		"{\"a\" 1}",
		"{\"a\":1,}",
		"[1,]",
		"\"\xff\"",
		"\"\xed\xa0\x80\"",
		"\"tab\there\"",
		"tru",
		"nulll",
		"{}",
		"[]",
		"",
	};
	static const char marks[] = "\"\\[]{},:0e.-\x80\xc3 ";
	char buf[256];
	size_t i, k, at, n;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		n = strlen(texts[i]);
		if (hf_json_valid(texts[i], n) != jansson_takes(texts[i], n))
			fail_msg("text %zu: %s", i, texts[i]);
		for (at = 0; at <= n; at++) {
			if (hf_json_valid(texts[i], at) !=
			    jansson_takes(texts[i], at))
				fail_msg("text %zu cut at %zu", i, at);
			for (k = 0; at < n && k < sizeof(marks) - 1; k++) {
				memcpy(buf, texts[i], n);
				buf[at] = marks[k];
				if (hf_json_valid(buf, n) !=
				    jansson_takes(buf, n))
					fail_msg("text %zu, byte %zu as 0x%02x",
					         i, at,
					         (unsigned char)marks[k]);
			}
		}
	}
	/* nesting: as deep as jansson goes, and one more */
	for (k = 2048; k <= 2049; k++) {
		char *deep = hf_calloc(1, 2 * k + 1);

		memset(deep, '[', k);
		memset(deep + k, ']', k);
		assert_int_equal(hf_json_valid(deep, 2 * k),
		                 jansson_takes(deep, 2 * k));
		hf_free(deep);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jsontext__scalars),
		cmocka_unit_test(test_jsontext__value_len),
		cmocka_unit_test(test_jsontext__valid_as_jansson_decodes),
		cmocka_unit_test(
		        test_jsontext__every_control_character_and_unicode),
		cmocka_unit_test(
		        test_jsontext__keys_in_insertion_or_sorted_order),
		cmocka_unit_test(test_jsontext__many_keys_leave_the_stack),
		cmocka_unit_test(test_jsontext__random_trees),
		cmocka_unit_test(test_jsontext__what_jansson_refuses),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
