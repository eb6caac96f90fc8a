#ifndef HF_SHA256_H
#define HF_SHA256_H

#include <stddef.h>
#include <stdint.h>

/*
 * SHA-256 (FIPS 180-4), for plan checksums, change ids, fingerprints and
 * the manifest digest. Not for secrets: nothing here is secret.
 */
struct hf_sha256 {
	uint32_t h[8];
	uint64_t len;
	unsigned char buf[64];
	size_t used;
};

void hf_sha256_init(struct hf_sha256 *c);
void hf_sha256_update(struct hf_sha256 *c, const void *data, size_t n);
void hf_sha256_final(struct hf_sha256 *c, unsigned char out[32]);
/* Lowercase hex of the digest of `data`; `hex` holds 65 bytes. */
void hf_sha256_hex(const void *data, size_t n, char hex[65]);

#endif
