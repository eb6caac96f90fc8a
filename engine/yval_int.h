#ifndef HF_YVAL_INT_H
#define HF_YVAL_INT_H

/*
 * Private to engine/: the value tree's layout, the arena that owns it, and
 * a small string-keyed hash table (anchors, duplicate and merge keys).
 */
#include <stddef.h>

#include "hf/yval.h"

struct hf_yval {
	unsigned char type;  /* enum hf_yval_type */
	unsigned char style; /* enum hf_yval_style */
	int line, col;
	const char *file;
	const char *text; /* scalars: NUL-terminated, len bytes */
	size_t len;
	const char *tag;
	size_t n;               /* seq: items; map: pairs */
	struct hf_yval **items; /* seq: n; map: 2n (key, value, ...) */
};

/*
 * A bump allocator: nodes, strings and arrays live until the arena is
 * released, all at once. Shared (aliased) nodes need no reference counts.
 */
struct yarena_chunk;
struct yarena {
	struct yarena_chunk *head;
	size_t used, cap;
};

#define YARENA_INIT { NULL, 0, 0 }

/* NULL on OOM; the memory is zeroed. */
void *yarena_alloc(struct yarena *a, size_t n);
/* Copy n bytes and add a NUL; NULL on OOM. */
char *yarena_strndup(struct yarena *a, const char *s, size_t n);
void yarena_release(struct yarena *a);

/*
 * Open-addressing hash table from a (text, len) key to a pointer. Keys are
 * borrowed and must outlive the table. Linear in the number of entries.
 */
struct ystrtab {
	struct ystrtab_slot *slots;
	size_t n, cap;
};

#define YSTRTAB_INIT { NULL, 0, 0 }

/* The value for key, or NULL. */
void *ystrtab_get(const struct ystrtab *t, const char *k, size_t len);
/* Insert or replace; 0 or HF_ENOMEM. */
int ystrtab_put(struct ystrtab *t, const char *k, size_t len, void *v);
void ystrtab_reset(struct ystrtab *t); /* empty, keep memory */
void ystrtab_release(struct ystrtab *t);

#endif
