#ifndef HF_ALLOC_H
#define HF_ALLOC_H

#include <stddef.h>

/*
 * The one allocation choke point. Every allocation in engine/ and server/
 * goes through these, and jansson is wired to the same hooks by
 * hf_alloc_init(), so tests can swap the table to fail allocation N.
 */
struct hf_allocator {
	void *(*malloc)(size_t n);
	void *(*realloc)(void *p, size_t n);
	void (*free)(void *p);
};

/* Route jansson through the hooks. Call once, before any thread starts. */
void hf_alloc_init(void);

/*
 * Replace the allocator (NULL restores the C library's). Not thread-safe:
 * for tests, before threads start.
 */
void hf_alloc_set(const struct hf_allocator *a);

void *hf_alloc(size_t n);
/* Zeroed; returns NULL on overflow of n * size. */
void *hf_calloc(size_t n, size_t size);
void *hf_realloc(void *p, size_t n);
/* Grow-or-fail: NULL on overflow of n * size. */
void *hf_reallocarray(void *p, size_t n, size_t size);
void hf_free(void *p);
/* Caller owns the copy; NULL on OOM or when s is NULL. */
char *hf_strdup(const char *s);
char *hf_strndup(const char *s, size_t n);

#endif
