/*
 * Allocation wrappers. A function table rather than direct libc calls, so
 * allocation-failure ("torture") tests can fail the Nth allocation.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/banned.h"

static const struct hf_allocator libc_allocator = { malloc, realloc, free };
static const struct hf_allocator *allocator = &libc_allocator;

static void *json_malloc(size_t n)
{
	return hf_alloc(n);
}

static void json_free(void *p)
{
	hf_free(p);
}

void hf_alloc_init(void)
{
	json_set_alloc_funcs(json_malloc, json_free);
}

void hf_alloc_set(const struct hf_allocator *a)
{
	allocator = a ? a : &libc_allocator;
}

void *hf_alloc(size_t n)
{
	return allocator->malloc(n ? n : 1);
}

void *hf_calloc(size_t n, size_t size)
{
	void *p;

	if (size && n > SIZE_MAX / size)
		return NULL;
	p = hf_alloc(n * size);
	if (p && n && size)
		memset(p, 0, n * size);
	return p;
}

void *hf_realloc(void *p, size_t n)
{
	return allocator->realloc(p, n ? n : 1);
}

void *hf_reallocarray(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	return hf_realloc(p, n * size);
}

void hf_free(void *p)
{
	if (p)
		allocator->free(p);
}

char *hf_strndup(const char *s, size_t n)
{
	char *p;

	if (!s)
		return NULL;
	p = hf_alloc(n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *hf_strdup(const char *s)
{
	return s ? hf_strndup(s, strlen(s)) : NULL;
}
