#ifndef HF_YVAL_INT_H
#define HF_YVAL_INT_H

/*
 * Private to engine/: the value tree's layout. The loader (manifest.c)
 * builds it in an hf_arena, which owns every node, string and array:
 * shared (aliased) nodes need no reference counts.
 */
#include <stddef.h>

#include "hf/yval.h"

struct hf_yval {
	unsigned char type; /* enum hf_yval_type */
	unsigned char style; /* enum hf_yval_style */
	int line, col;
	const char *file;
	const char *text; /* scalars: NUL-terminated, len bytes */
	size_t len;
	const char *tag;
	size_t n; /* seq: items; map: pairs */
	struct hf_yval **items; /* seq: n; map: 2n (key, value, ...) */
};

#endif
