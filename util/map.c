/*
 * The string map: FNV-1a hashes, linear probing, deletion by shifting the
 * following entries back (no tombstones), so lookups stay short and the
 * entries of one key keep the order they were added in.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/error.h"
#include "hf/map.h"
#include "hf/banned.h"

#define MAP_MIN 16

/* Keys are shorter than this: an entry keeps its length in 32 bits. */
#define KEY_MAX UINT32_MAX

uint32_t hf_map_hash(const char *k, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)k[i];
		h *= 1099511628211ULL;
	}
	return (uint32_t)(h ^ (h >> 32));
}

static int same(const struct hf_map_entry *e, const char *key, size_t len,
                uint32_t h)
{
	return e->hash == h && e->len == len && !memcmp(e->key, key, len);
}

static size_t slot_of(const hf_map *m, const struct hf_map_entry *e)
{
	return (size_t)(e - m->slots);
}

/* The first entry of the key at or after slot i, or NULL. */
static struct hf_map_entry *scan(const hf_map *m, size_t i, const char *key,
                                 size_t len, uint32_t h)
{
	struct hf_map_entry *e;

	for (;; i = (i + 1) & (m->cap - 1)) {
		e = &m->slots[i];
		if (!e->key)
			return NULL;
		if (same(e, key, len, h))
			return e;
	}
}

struct hf_map_entry *hf_map_find(const hf_map *m, const char *key, size_t len)
{
	uint32_t h;

	if (!m->n || len >= KEY_MAX)
		return NULL;
	h = hf_map_hash(key, len);
	return scan(m, h & (m->cap - 1), key, len, h);
}

struct hf_map_entry *hf_map_next(const hf_map *m, const struct hf_map_entry *e)
{
	size_t i = (slot_of(m, e) + 1) & (m->cap - 1);

	return scan(m, i, e->key, e->len, e->hash);
}

void *hf_map_get(const hf_map *m, const char *key, size_t len)
{
	struct hf_map_entry *e = hf_map_find(m, key, len);

	return e ? e->val : NULL;
}

/* Place e in the first free slot of its probe sequence. */
static void place(hf_map *m, const struct hf_map_entry *e)
{
	size_t i = e->hash & (m->cap - 1);

	while (m->slots[i].key)
		i = (i + 1) & (m->cap - 1);
	m->slots[i] = *e;
}

/* Rehash into ncap slots, a power of two above the capacity. */
static int grow_to(hf_map *m, size_t ncap)
{
	struct hf_map_entry *old = m->slots;
	size_t ocap = m->cap, i, start = 0;

	m->slots = hf_calloc(ncap, sizeof(*old));
	if (!m->slots) {
		m->slots = old;
		return HF_ENOMEM;
	}
	m->cap = ncap;
	/* From an empty slot on, so that no run wraps: keeps the order */
	while (start < ocap && old[start].key)
		start++;
	for (i = 0; i < ocap; i++) {
		const struct hf_map_entry *e = &old[(start + i) & (ocap - 1)];

		if (e->key)
			place(m, e);
	}
	hf_free(old);
	return 0;
}

static int grow(hf_map *m)
{
	if (m->cap > SIZE_MAX / sizeof(*m->slots) / 2)
		return HF_ENOMEM;
	return grow_to(m, m->cap ? m->cap * 2 : MAP_MIN);
}

int hf_map_reserve(hf_map *m, size_t n)
{
	size_t cap = m->cap ? m->cap : MAP_MIN;

	if (n > SIZE_MAX / sizeof(*m->slots) / 4)
		return HF_ENOMEM;
	while (cap < 2 * n)
		cap *= 2;
	return cap > m->cap ? grow_to(m, cap) : 0;
}

int hf_map_add(hf_map *m, const char *key, size_t len, void *val)
{
	struct hf_map_entry e;

	assert(key);
	if (len >= KEY_MAX)
		return HF_EINVAL;
	if ((m->n + 1) * 2 > m->cap && grow(m) < 0)
		return HF_ENOMEM;
	e.key = m->copy ? hf_strndup(key, len) : key;
	if (!e.key)
		return HF_ENOMEM;
	e.len = (uint32_t)len;
	e.val = val;
	e.hash = hf_map_hash(key, len);
	place(m, &e);
	m->n++;
	return 0;
}

int hf_map_put(hf_map *m, const char *key, size_t len, void *val)
{
	struct hf_map_entry *e = hf_map_find(m, key, len);

	if (!e)
		return hf_map_add(m, key, len, val);
	e->val = val;
	return 0;
}

/* Empty slot i and shift back the entries its removal cuts off. */
static void remove_at(hf_map *m, size_t i)
{
	size_t mask = m->cap - 1, j = i, home;

	if (m->copy)
		hf_free((void *)(uintptr_t)m->slots[i].key);
	for (;;) {
		m->slots[i].key = NULL;
		do {
			j = (j + 1) & mask;
			if (!m->slots[j].key)
				return;
			home = m->slots[j].hash & mask;
		} while (i <= j ? (i < home && home <= j)
		                : (i < home || home <= j));
		m->slots[i] = m->slots[j];
		i = j;
	}
}

int hf_map_del(hf_map *m, const char *key, size_t len, const void *val)
{
	struct hf_map_entry *e;

	for (e = hf_map_find(m, key, len); e; e = hf_map_next(m, e)) {
		if (val && e->val != val)
			continue;
		remove_at(m, slot_of(m, e));
		m->n--;
		return 1;
	}
	return 0;
}

struct hf_map_entry *hf_map_each(const hf_map *m, size_t *i)
{
	while (*i < m->cap) {
		struct hf_map_entry *e = &m->slots[(*i)++];

		if (e->key)
			return e;
	}
	return NULL;
}

size_t hf_map_count(const hf_map *m)
{
	return m->n;
}

static void free_keys(hf_map *m)
{
	size_t i;

	if (!m->copy)
		return;
	for (i = 0; i < m->cap; i++)
		hf_free((void *)(uintptr_t)m->slots[i].key);
}

void hf_map_reset(hf_map *m)
{
	free_keys(m);
	if (m->cap)
		memset(m->slots, 0, m->cap * sizeof(*m->slots));
	m->n = 0;
}

void hf_map_release(hf_map *m)
{
	free_keys(m);
	hf_free(m->slots);
	m->slots = NULL;
	m->n = 0;
	m->cap = 0;
}
