/*
 * SHA-256 against the FIPS 180-4 / NIST test vectors, the context
 * lifecycle over libcrypto, and the server's MD5 (RFC 1321 vectors).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include <string.h>

#include <openssl/crypto.h>

#include "../server/schema_int.h"
#include "hf/sha256.h"

#define SHA_ABC \
	"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA_ZERO \
	"0000000000000000000000000000000000000000000000000000000000000000"

static void check(const char *in, const char *want)
{
	char hex[65];

	hf_sha256_hex(in, strlen(in), hex);
	assert_string_equal(hex, want);
}

static void test_sha256__vectors(void **state)
{
	(void)state;
	check("",
	      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check("abc", SHA_ABC);
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

static void final_hex(struct hf_sha256 *c, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char d[32];
	int i;

	hf_sha256_final(c, d);
	for (i = 0; i < 32; i++) {
		hex[2 * i] = digits[d[i] >> 4];
		hex[2 * i + 1] = digits[d[i] & 15];
	}
	hex[64] = '\0';
}

static void test_sha256__copy_is_independent(void **state)
{
	struct hf_sha256 a, b;
	char ha[65], hb[65];

	(void)state;
	hf_sha256_init(&a);
	hf_sha256_update(&a, "ab", 2);
	hf_sha256_copy(&b, &a);
	hf_sha256_update(&a, "c", 1);
	hf_sha256_update(&b, "x", 1);
	final_hex(&a, ha);
	final_hex(&b, hb);
	assert_string_equal(ha, SHA_ABC);
	check("abx", hb);
}

/* The manifest's pattern: finalise a by-value copy, keep the original. */
static void test_sha256__assigned_copy_is_a_view(void **state)
{
	struct hf_sha256 c, v;
	char h[65];
	int i;

	(void)state;
	hf_sha256_init(&c);
	hf_sha256_update(&c, "ab", 2);
	for (i = 0; i < 2; i++) {
		v = c;
		final_hex(&v, h);
		check("ab", h);
	}
	hf_sha256_update(&c, "c", 1);
	v = c;
	hf_sha256_release(&v);
	final_hex(&c, h);
	assert_string_equal(h, SHA_ABC);
}

static void test_sha256__release(void **state)
{
	struct hf_sha256 c;
	char h[65];

	(void)state;
	hf_sha256_release(NULL);
	hf_sha256_init(&c);
	hf_sha256_update(&c, "abc", 3);
	hf_sha256_release(&c);
	hf_sha256_release(&c);
	hf_sha256_update(&c, "abc", 3);
	final_hex(&c, h);
	assert_string_equal(h, SHA_ZERO);
}

static void test_sha256__md5_vectors(void **state)
{
	char h[33];

	(void)state;
	hfs_md5_hex("", 0, h);
	assert_string_equal(h, "d41d8cd98f00b204e9800998ecf8427e");
	hfs_md5_hex("message digest", 14, h);
	assert_string_equal(h, "f96b697d7cb7938d525a2f31aaf161d0");
}

/* libcrypto's allocator, made to fail on demand. */
static int fail_alloc;

static void *t_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return fail_alloc ? NULL : malloc(n);
}

static void *t_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return fail_alloc ? NULL : realloc(p, n);
}

static void t_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

static int hooked;

/* Without memory the digests come out all zeros, and nothing crashes. */
static void test_sha256__no_memory(void **state)
{
	struct hf_sha256 c;
	char h[65], m[33];

	(void)state;
	if (!hooked)
		skip();
	check("abc", SHA_ABC);
	fail_alloc = 1;
	hf_sha256_hex("abc", 3, h);
	hfs_md5_hex("abc", 3, m);
	hf_sha256_init(&c);
	hf_sha256_update(&c, "abc", 3);
	fail_alloc = 0;
	assert_string_equal(h, SHA_ZERO);
	assert_string_equal(m, "00000000000000000000000000000000");
	final_hex(&c, h);
	assert_string_equal(h, SHA_ZERO);
	check("abc", SHA_ABC);
}

/* The state kept between digests: each is the digest of its own text. */
static void test_sha256__hex_with_one_state(void **state)
{
	static const char *const in[] = { "abc", "", "abc", "a longer text" };
	struct hf_sha256 c;
	char hex[65], want[65];
	size_t i;

	(void)state;
	memset(&c, 0, sizeof(c));
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		hf_sha256_hex_with(&c, in[i], strlen(in[i]), hex);
		hf_sha256_hex(in[i], strlen(in[i]), want);
		assert_string_equal(hex, want);
	}
	hf_sha256_hex_with(&c, "abc", 3, hex);
	assert_string_equal(hex, SHA_ABC);
	hf_sha256_release(&c);
	hf_sha256_release(&c); /* idempotent */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256__vectors),
		cmocka_unit_test(test_sha256__million_a_in_pieces),
		cmocka_unit_test(test_sha256__copy_is_independent),
		cmocka_unit_test(test_sha256__assigned_copy_is_a_view),
		cmocka_unit_test(test_sha256__release),
		cmocka_unit_test(test_sha256__md5_vectors),
		cmocka_unit_test(test_sha256__no_memory),
		cmocka_unit_test(test_sha256__hex_with_one_state),
	};

	/* Only possible before libcrypto's first allocation. */
	hooked = CRYPTO_set_mem_functions(t_malloc, t_realloc, t_free);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
