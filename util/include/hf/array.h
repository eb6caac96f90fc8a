#ifndef HF_ARRAY_H
#define HF_ARRAY_H

#include <stddef.h>

/*
 * Growth for plain C arrays: a pointer and a capacity the caller keeps,
 * next to its own count. The array belongs to the caller (hf_free()).
 *
 *	if (HF_ARRAY_GROW(v->items, v->cap, v->n + 1) < 0)
 *		return HF_ENOMEM;
 *	v->items[v->n++] = item;
 */

/*
 * Make room for at least `need` elements of `size` bytes in the array
 * *pp (a pointer to the caller's pointer) of capacity *cap: a no-op when
 * need <= *cap, else the capacity at least doubles (8 at first). Returns 0,
 * or HF_ENOMEM (also when need * size overflows) with *pp and *cap
 * unchanged.
 */
int hf_array_grow(void *pp, size_t *cap, size_t need, size_t size);

/* The same for an array pointer `p` and its capacity `cap` (lvalues). */
#define HF_ARRAY_GROW(p, cap, need) \
	hf_array_grow(&(p), &(cap), (need), sizeof(*(p)))

#endif
