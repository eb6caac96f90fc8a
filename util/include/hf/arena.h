#ifndef HF_ARENA_H
#define HF_ARENA_H

#include <stddef.h>

/*
 * A bump allocator: many small allocations from a few large blocks, all
 * freed at once by hf_arena_release(). Blocks start at 8 KiB and double up
 * to 1 MiB; a larger request gets a block of its own. Memory is zeroed and
 * aligned for any type (strings are packed byte-aligned).
 *
 * The struct is embedded by its owner; a structure may even live in its
 * own arena (copy the hf_arena out, then release the copy).
 */
struct hf_arena_block;

typedef struct hf_arena {
	struct hf_arena_block *head;
	size_t next; /* size of the next block */
} hf_arena;

#define HF_ARENA_INIT   \
	{               \
		NULL, 0 \
	}

/*
 * Start with blocks of about `first` bytes (kept within 8 KiB .. 1 MiB),
 * for an owner that knows its size up front. No allocation.
 */
void hf_arena_init(hf_arena *a, size_t first);

/* n zeroed bytes, valid until release; NULL on OOM. */
void *hf_arena_alloc(hf_arena *a, size_t n);
/* n zeroed elements of `size` bytes; NULL on OOM or overflow. */
void *hf_arena_calloc(hf_arena *a, size_t n, size_t size);
/* n bytes for text the caller fills: byte-aligned, not zeroed. */
char *hf_arena_bytes(hf_arena *a, size_t n);
/*
 * Zeroed memory aligned for pointers, sizes and ints only (not for any
 * type as hf_arena_alloc): packs small structs of those 8 bytes apart,
 * not 16, when there are millions of them.
 */
void *hf_arena_alloc_ptr(hf_arena *a, size_t n);
/* Copy n bytes of s and add a NUL; NULL on OOM. */
char *hf_arena_strndup(hf_arena *a, const char *s, size_t n);
char *hf_arena_strdup(hf_arena *a, const char *s);
/* Free every block; the arena is empty and reusable afterwards. */
void hf_arena_release(hf_arena *a);
/*
 * Move every block of `from` into `a` (what was allocated in either
 * stays valid, released with `a`); `from` is left empty. `a` goes on
 * allocating in its own current block.
 */
void hf_arena_adopt(hf_arena *a, hf_arena *from);

#endif
