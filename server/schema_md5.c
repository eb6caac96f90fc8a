/*
 * MD5 (RFC 1321) through libcrypto, used only to fingerprint schema
 * elements the way Infrahub does (32 hex characters). Not for anything
 * security related.
 *
 * It cannot report failure: if libcrypto cannot allocate, or offers no MD5
 * (a FIPS-only configuration), the result is 32 '0' characters, still full
 * width for the callers that slice it into ids.
 */
#include <string.h>

#include <openssl/evp.h>

#include "schema_int.h"

#include "hf/banned.h"

void hfs_md5_hex(const void *data, size_t len, char out[33])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[16];
	unsigned int n = 0;
	size_t i;

	if (EVP_Digest(data, len, d, &n, EVP_md5(), NULL) != 1 || n != 16)
		memset(d, 0, sizeof(d));
	for (i = 0; i < 16; i++) {
		out[i * 2] = hex[d[i] >> 4];
		out[i * 2 + 1] = hex[d[i] & 15];
	}
	out[32] = '\0';
}
