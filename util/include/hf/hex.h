#ifndef HF_HEX_H
#define HF_HEX_H

#include <stddef.h>

/* The n bytes of d as 2n lowercase hex digits and a NUL, into out. */
void hf_hex(const unsigned char *d, size_t n, char *out);

/*
 * n random bytes from the system (getrandom) as 2n hex digits and a NUL:
 * 0, or -1 when it gives none (out is then "").
 */
int hf_random_hex(char *out, size_t n);

#endif
