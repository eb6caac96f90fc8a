#ifndef HF_YVAL_INT_H
#define HF_YVAL_INT_H

/*
 * Private to engine/: the value tree's layout. The loader (manifest.c)
 * builds it in an hf_arena, which owns every node, string and array:
 * shared (aliased) nodes need no reference counts.
 */
#include <stddef.h>

#include "hf/yval.h"

/*
 * A scalar's text and a collection's items share their slots (40 bytes
 * a node, not 56: a large repository has millions): read text and len
 * only of scalars and nulls, items and n only of sequences and maps.
 */
struct hf_yval {
	const char *file;
	union {
		const char *text; /* scalars: NUL-terminated, len bytes */
		struct hf_yval **items; /* seq: n; map: 2n (key, value, ...) */
	};
	union {
		size_t len;
		size_t n; /* seq: items; map: pairs */
	};
	int line, col;
	unsigned char type; /* enum hf_yval_type */
	unsigned char style; /* enum hf_yval_style */
	unsigned char tagged; /* a struct hf_yval_tagged */
};

/* millions of nodes: keep it at five words on 64-bit machines */
_Static_assert(sizeof(void *) != 8 || sizeof(struct hf_yval) == 40,
               "struct hf_yval grew");

/*
 * A node with a tag, which few have: the tag follows the node, so that
 * the millions of nodes of a large repository do not each carry a
 * pointer for it. Nodes are packed 8 bytes apart (hf_arena_alloc_ptr).
 */
struct hf_yval_tagged {
	struct hf_yval v;
	const char *tag;
};

static inline const char *yval_tag(const struct hf_yval *v)
{
	return v->tagged ? ((const struct hf_yval_tagged *)(const void *)v)->tag
	                 : NULL;
}

#endif
