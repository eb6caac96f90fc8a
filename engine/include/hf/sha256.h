#ifndef HF_SHA256_H
#define HF_SHA256_H

#include <stddef.h>
#include <stdint.h>

/*
 * SHA-256 (FIPS 180-4) through libcrypto, for plan checksums, change ids,
 * fingerprints and the manifest digest. Not for secrets: nothing here is
 * secret.
 *
 * A context owns libcrypto state on the heap. hf_sha256_final() frees it;
 * a context abandoned before final needs hf_sha256_release();
 * hf_sha256_copy() makes an independent copy (release or finalise both).
 *
 * A copy made by plain assignment (`struct hf_sha256 c = other;`) is a view
 * of the original's state: finalising or releasing it leaves the original
 * untouched, which gives the running digest so far, but updating it updates
 * the original. Prefer hf_sha256_copy().
 *
 * None of this fails loudly, as the signatures cannot report it: if
 * libcrypto cannot allocate, the digest is 32 zero bytes (hex all '0'),
 * which no real input produces in practice.
 */
struct hf_sha256 {
	void *evp; /* EVP_MD_CTX *; NULL once done or failed */
	const struct hf_sha256 *self; /* the owner; != this in a view */
};

void hf_sha256_init(struct hf_sha256 *c);
void hf_sha256_update(struct hf_sha256 *c, const void *data, size_t n);
void hf_sha256_final(struct hf_sha256 *c, unsigned char out[32]);
/* Make dst (uninitialised) an independent copy of src's running state. */
void hf_sha256_copy(struct hf_sha256 *dst, const struct hf_sha256 *src);
/* Free the state without a digest; NULL-safe and idempotent. */
void hf_sha256_release(struct hf_sha256 *c);
/* Lowercase hex of the digest of `data`; `hex` holds 65 bytes. */
void hf_sha256_hex(const void *data, size_t n, char hex[65]);
/*
 * hf_sha256_hex() with its state kept in `c` (zeroed before the first
 * call) and used again by the next: no allocation after the first, for a
 * thread hashing many small texts. hf_sha256_release(c) frees it.
 */
void hf_sha256_hex_with(struct hf_sha256 *c, const void *data, size_t n,
                        char hex[65]);

#endif
