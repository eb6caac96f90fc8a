/*
 * The arena: a list of blocks, the newest first; allocations bump an
 * offset in the head block.
 */
#include <stdalign.h>
#include <stdint.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/arena.h"
#include "hf/banned.h"

struct hf_arena_block {
	struct hf_arena_block *next;
	size_t size;
	size_t used;
	max_align_t data[];
};

#define ARENA_FIRST ((size_t)8 << 10)
#define ARENA_MAX   ((size_t)1 << 20)
#define ARENA_ALIGN alignof(max_align_t)

static struct hf_arena_block *block_new(size_t size)
{
	struct hf_arena_block *b;

	if (size > SIZE_MAX - sizeof(*b))
		return NULL;
	b = hf_alloc(sizeof(*b) + size);
	if (!b)
		return NULL;
	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

/* A request larger than a block: its own block, behind the head. */
static void *alloc_large(hf_arena *a, size_t n)
{
	struct hf_arena_block *b = block_new(n);

	if (!b)
		return NULL;
	b->used = n;
	if (a->head) {
		b->next = a->head->next;
		a->head->next = b;
	} else {
		a->head = b;
	}
	return b->data;
}

/* n bytes aligned to `align` (a power of two), not zeroed. */
static void *alloc_aligned(hf_arena *a, size_t n, size_t align)
{
	struct hf_arena_block *b = a->head;
	size_t off = 0;

	if (!a->next)
		a->next = ARENA_FIRST;
	if (b)
		off = (b->used + align - 1) & ~(align - 1);
	if (b && off <= b->size && b->size - off >= n) {
		b->used = off + n;
		return (char *)b->data + off;
	}
	if (n > a->next / 2)
		return alloc_large(a, n);
	b = block_new(a->next);
	if (!b)
		return NULL;
	b->next = a->head;
	a->head = b;
	a->next = a->next < ARENA_MAX / 2 ? a->next * 2 : ARENA_MAX;
	b->used = n;
	return b->data;
}

void hf_arena_init(hf_arena *a, size_t first)
{
	a->head = NULL;
	a->next = first < ARENA_FIRST ? ARENA_FIRST
	          : first > ARENA_MAX ? ARENA_MAX
	                              : first;
}

void *hf_arena_alloc(hf_arena *a, size_t n)
{
	void *p = alloc_aligned(a, n ? n : 1, ARENA_ALIGN);

	if (p)
		memset(p, 0, n);
	return p;
}

void *hf_arena_calloc(hf_arena *a, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	return hf_arena_alloc(a, n * size);
}

void *hf_arena_alloc_ptr(hf_arena *a, size_t n)
{
	void *p = alloc_aligned(a, n ? n : 1, alignof(void *));

	if (p)
		memset(p, 0, n);
	return p;
}

char *hf_arena_bytes(hf_arena *a, size_t n)
{
	return alloc_aligned(a, n ? n : 1, 1);
}

char *hf_arena_strndup(hf_arena *a, const char *s, size_t n)
{
	char *p;

	if (n == SIZE_MAX)
		return NULL;
	p = hf_arena_bytes(a, n + 1);
	if (!p)
		return NULL;
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *hf_arena_strdup(hf_arena *a, const char *s)
{
	return hf_arena_strndup(a, s, strlen(s));
}

void hf_arena_release(hf_arena *a)
{
	struct hf_arena_block *b, *next;

	for (b = a->head; b; b = next) {
		next = b->next;
		hf_free(b);
	}
	a->head = NULL;
	a->next = 0;
}

void hf_arena_adopt(hf_arena *a, hf_arena *from)
{
	struct hf_arena_block *tail = from->head;

	if (!tail)
		return;
	if (!a->head) {
		*a = *from;
		from->head = NULL;
		return;
	}
	while (tail->next)
		tail = tail->next;
	tail->next = a->head->next;
	a->head->next = from->head;
	from->head = NULL;
}
