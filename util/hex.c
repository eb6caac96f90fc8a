/*
 * Bytes as lowercase hex: digests (checksums, fingerprints, ids) and
 * random tokens (plan ids, salts).
 */
#include <sys/random.h>

#include "hf/hex.h"
#include "hf/banned.h"

void hf_hex(const unsigned char *d, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

int hf_random_hex(char *out, size_t n)
{
	unsigned char r[64];

	out[0] = '\0';
	if (n > sizeof(r) || getrandom(r, n, 0) != (ssize_t)n)
		return -1;
	hf_hex(r, n, out);
	return 0;
}
