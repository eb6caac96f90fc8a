#ifndef HF_MAP_H
#define HF_MAP_H

#include <stddef.h>
#include <stdint.h>

/*
 * A hash map from byte-string keys (pointer and length, so keys need not
 * be NUL-terminated) to pointers: open addressing, linear probing, grown
 * at half load. A key may be added several times (hf_map_add); lookups
 * find the entries of a key in the order they were added.
 *
 * Keys are borrowed (HF_MAP_INIT: they must outlive their entries) or
 * copied and owned by the map (HF_MAP_INIT_COPY: then NUL-terminated).
 * Values are the caller's; the map never frees them. Entry pointers are
 * valid until the next add, put, del, reset or release.
 */
struct hf_map_entry {
	const char *key;
	void *val;
	uint32_t len; /* keys are shorter than 4 GiB: longer ones are refused */
	uint32_t hash;
};

typedef struct hf_map {
	struct hf_map_entry *slots;
	size_t n; /* entries */
	size_t cap; /* slots: 0 or a power of two */
	int copy; /* keys are copied */
} hf_map;

#define HF_MAP_INIT           \
	{                     \
		NULL, 0, 0, 0 \
	}
#define HF_MAP_INIT_COPY      \
	{                     \
		NULL, 0, 0, 1 \
	}

/*
 * Insert, or replace the value of the key's first entry. 0, HF_ENOMEM, or
 * HF_EINVAL for a key of 4 GiB or more.
 */
int hf_map_put(hf_map *m, const char *key, size_t len, void *val);
/* Insert a further entry, even when the key is present: as hf_map_put. */
int hf_map_add(hf_map *m, const char *key, size_t len, void *val);
/*
 * Room for n entries in all, made at once: adding up to n grows nothing.
 * 0 or HF_ENOMEM (the map unchanged).
 */
int hf_map_reserve(hf_map *m, size_t n);
/* The map's hash of a key (FNV-1a), for indexes of their own. */
uint32_t hf_map_hash(const char *key, size_t len);
/* The value of the key's first entry, or NULL. */
void *hf_map_get(const hf_map *m, const char *key, size_t len);
/* The key's first entry, or NULL; hf_map_next gives its later ones. */
struct hf_map_entry *hf_map_find(const hf_map *m, const char *key, size_t len);
struct hf_map_entry *hf_map_next(const hf_map *m, const struct hf_map_entry *e);
/*
 * Remove the key's first entry whose value is `val` (any value when val
 * is NULL). Returns 1 when one was removed, else 0.
 */
int hf_map_del(hf_map *m, const char *key, size_t len, const void *val);
/*
 * Iterate: *i starts at 0; returns each entry once, then NULL. No add,
 * put or del while iterating.
 */
struct hf_map_entry *hf_map_each(const hf_map *m, size_t *i);
/* Number of entries. */
size_t hf_map_count(const hf_map *m);
/* Remove every entry, keep the memory. */
void hf_map_reset(hf_map *m);
/* Free the slots (and copied keys); the map is empty and reusable. */
void hf_map_release(hf_map *m);

#endif
