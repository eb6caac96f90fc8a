/*
 * SHA-256 as a thin layer over libcrypto's EVP interface. The EVP_MD_CTX
 * stays in this file; the header only carries it as a void pointer.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>

#include "hf/hex.h"
#include "hf/sha256.h"
#include "hf/banned.h"

/*
 * The algorithm, fetched from libcrypto's provider once. EVP_sha256()
 * makes OpenSSL 3 fetch it again, under a lock, on every digest: that
 * was half the cost of a change id or fingerprint (a million-object plan
 * makes two million of them). Kept for the process's life; NULL when
 * the fetch fails, and then EVP_sha256() as before.
 */
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static EVP_MD *md_fetched;

static void md_fetch(void)
{
	md_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *md(void)
{
	pthread_once(&md_once, md_fetch);
	return md_fetched ? md_fetched : EVP_sha256();
}

/* Finish a digest on ctx (which may be NULL); zeros when that fails. */
static void finish(EVP_MD_CTX *ctx, unsigned char out[32])
{
	unsigned int len = 0;

	if (!ctx || EVP_DigestFinal_ex(ctx, out, &len) != 1 || len != 32)
		memset(out, 0, 32);
}

/* A fresh context holding a copy of src's state, or NULL. */
static EVP_MD_CTX *dup_ctx(const EVP_MD_CTX *src)
{
	EVP_MD_CTX *ctx;

	if (!src)
		return NULL;
	ctx = EVP_MD_CTX_new();
	if (ctx && EVP_MD_CTX_copy_ex(ctx, src) != 1) {
		EVP_MD_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

void hf_sha256_init(struct hf_sha256 *c)
{
	c->self = c;
	c->evp = EVP_MD_CTX_new();
	if (c->evp && EVP_DigestInit_ex(c->evp, md(), NULL) != 1)
		hf_sha256_release(c);
}

void hf_sha256_update(struct hf_sha256 *c, const void *data, size_t n)
{
	if (c->evp && EVP_DigestUpdate(c->evp, data, n) != 1)
		hf_sha256_release(c);
}

void hf_sha256_final(struct hf_sha256 *c, unsigned char out[32])
{
	EVP_MD_CTX *view;

	if (c->self == c) {
		finish(c->evp, out);
		hf_sha256_release(c);
		return;
	}
	view = dup_ctx(c->evp);
	finish(view, out);
	EVP_MD_CTX_free(view);
	c->evp = NULL;
}

void hf_sha256_copy(struct hf_sha256 *dst, const struct hf_sha256 *src)
{
	dst->self = dst;
	dst->evp = dup_ctx(src->evp);
}

void hf_sha256_release(struct hf_sha256 *c)
{
	if (!c)
		return;
	if (c->self == c)
		EVP_MD_CTX_free(c->evp);
	c->evp = NULL;
}

void hf_sha256_hex_with(struct hf_sha256 *c, const void *data, size_t n,
                        char hex[65])
{
	unsigned char d[32];
	unsigned int len = 0;

	if (!c->evp) {
		c->self = c;
		c->evp = EVP_MD_CTX_new();
	}
	if (!c->evp || EVP_DigestInit_ex(c->evp, md(), NULL) != 1 ||
	    EVP_DigestUpdate(c->evp, data, n) != 1 ||
	    EVP_DigestFinal_ex(c->evp, d, &len) != 1 || len != 32)
		memset(d, 0, sizeof(d));
	hf_hex(d, sizeof(d), hex);
}

void hf_sha256_hex(const void *data, size_t n, char hex[65])
{
	struct hf_sha256 c = { NULL, NULL };

	hf_sha256_hex_with(&c, data, n, hex);
	hf_sha256_release(&c);
}
