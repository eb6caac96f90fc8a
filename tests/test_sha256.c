/* SHA-256 against the FIPS 180-4 / NIST test vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "hf/sha256.h"

static void check(const char *in, const char *want)
{
	char hex[65];

	hf_sha256_hex(in, strlen(in), hex);
	assert_string_equal(hex, want);
}

static void test_sha256__vectors(void **state)
{
	(void)state;
	check("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	check("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_sha256__million_a_in_pieces(void **state)
{
	struct hf_sha256 c;
	unsigned char d[32];
	char chunk[1000];
	int i;
	static const unsigned char want[4] = { 0xcd, 0xc7, 0x6e, 0x5c };

	(void)state;
	memset(chunk, 'a', sizeof(chunk));
	hf_sha256_init(&c);
	for (i = 0; i < 1000; i++)
		hf_sha256_update(&c, chunk, sizeof(chunk));
	hf_sha256_final(&c, d);
	assert_memory_equal(d, want, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256__vectors),
		cmocka_unit_test(test_sha256__million_a_in_pieces),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
