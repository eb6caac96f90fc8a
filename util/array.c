/*
 * Array growth: one overflow-checked doubling for every growable array.
 */
#include <stdint.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/array.h"
#include "hf/error.h"
#include "hf/banned.h"

#define HF_ARRAY_MIN 8

int hf_array_grow(void *pp, size_t *cap, size_t need, size_t size)
{
	size_t ncap;
	void *p;

	if (need <= *cap)
		return 0;
	ncap = *cap > SIZE_MAX / 2 ? need : *cap * 2;
	if (ncap < HF_ARRAY_MIN)
		ncap = HF_ARRAY_MIN;
	if (ncap < need)
		ncap = need;
	if (size && ncap > SIZE_MAX / size) {
		ncap = need;
		if (need > SIZE_MAX / size)
			return HF_ENOMEM;
	}
	/* pp is a T **: read and write it as bytes (no aliasing as void *) */
	memcpy(&p, pp, sizeof(p));
	p = hf_reallocarray(p, ncap, size);
	if (!p)
		return HF_ENOMEM;
	memcpy(pp, &p, sizeof(p));
	*cap = ncap;
	return 0;
}
