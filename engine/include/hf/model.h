#ifndef HF_MODEL_H
#define HF_MODEL_H

/*
 * The objects the pipeline passes along: the desired objects the resolver
 * makes from the files, and the live objects the fetcher reads from
 * Infrahub. Both are hf_objects in an hf_objset keyed by (kind, HFID).
 * Only managed fields appear: those the files set.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "hf/error.h"
#include "hf/value.h"

/*
 * A reference to another object, by identity: an HFID, a node id, or
 * (until resolved) the value of the peer kind's default_filter attribute,
 * as the SDK sends a string in a many-relationship list.
 */
struct hf_ref {
	const char *kind; /* hf_name(): concrete kind when known, else the
	                     peer kind */
	json_t *hfid; /* array of strings; NULL when not (yet) known */
	char *id; /* node id when known; NULL otherwise */
	char *filter_attr; /* default_filter attribute, e.g. "prefix" */
	json_t *filter_value; /* its value; NULL when not a filter ref */
	/* where the files wrote it (desired objects) */
	const char *file;
	int line;
	int col;
};

enum hf_field_type {
	HF_FIELD_ATTR = 0,
	HF_FIELD_ONE, /* cardinality-one relationship: 0 or 1 ref */
	HF_FIELD_MANY, /* cardinality-many: a set of refs */
};

/*
 * 48 bytes: a large plan holds millions (an object's fields, desired and
 * live). nrefs fits 32 bits: 2^32 refs would take 240 GB.
 */
struct hf_field {
	const char *name; /* hf_name(): shared, never freed */
	json_t *value; /* attributes: normalised; null clears */
	struct hf_ref *refs; /* relationships */
	/* Where the files set it (desired objects); borrowed file name. */
	const char *file;
	uint32_t nrefs;
	int line;
	int col;
	unsigned char type; /* enum hf_field_type */
	unsigned char akind; /* enum hf_attr_kind: how attributes compare */
};

_Static_assert(sizeof(void *) != 8 || sizeof(struct hf_field) == 48,
               "struct hf_field grew");

struct hf_object {
	const char *kind; /* hf_name() */
	json_t *hfid; /* identity: array of strings */
	char *id; /* live node id; NULL for desired objects */
	struct hf_field *fields;
	size_t nfields;
	const char *file; /* desired objects: where declared (borrowed) */
	int line;
	int col;
};

/*
 * The one copy of a name: field names and kind names come from the
 * schema, a few dozen per kind, while a large plan has millions of
 * fields and references, so they hold these shared copies, kept until
 * the process ends (thread-safe). NULL for NULL, or when out of memory.
 */
const char *hf_name(const char *name);

/* Free the contents of a ref, field or object (not the struct). */
void hf_ref_release(struct hf_ref *r);
void hf_field_release(struct hf_field *f);
void hf_object_release(struct hf_object *o);

/* Free the fields of `o`, keeping its kind, HFID, id and position. */
void hf_object_drop_fields(struct hf_object *o);

/* Append a field to `o` (taken, even on failure). */
int hf_object_add_field(struct hf_object *o, struct hf_field *f);
/* The field called `name`, or NULL. Borrowed. */
struct hf_field *hf_object_field(const struct hf_object *o, const char *name);

/*
 * The identity key "Kind\x1fcomp1\x1fcomp2" of (kind, hfid) into `b`.
 * The kind's and a component's own \x1f, \x1e and NUL bytes are written
 * \x1e\x1f, \x1e\x1e and \x1e0, so that no two identities share a key
 * (["a\x1fb", "c"] and ["a", "b\x1fc"] are two objects, and so are kind
 * "K\x1fa" without HFID parts and kind "K" with ["a"]) and the key is a C
 * string.
 * Returns 0 or HF_EINVAL when hfid is not an array of strings.
 */
struct hf_buf;
int hf_identity_key(struct hf_buf *b, const char *kind, const json_t *hfid);
/*
 * Append one HFID component of `len` bytes to an identity key: its
 * separator and its escaped bytes, as hf_identity_key() writes each (a
 * key is the kind, then its components this way).
 */
void hf_identity_key_part(struct hf_buf *b, const char *s, size_t len);
/* Append a kind, escaped, as the start of an identity key. */
void hf_identity_key_kind(struct hf_buf *b, const char *kind);

/*
 * A pool of HFIDs: equal HFIDs (arrays of strings) handed out as one
 * reference-counted array. HFIDs are never changed once made, and the
 * references of a large set repeat a few (thousands of devices naming
 * the same sites): pooled, each holds a reference, not a copy. The pool
 * holds one reference to each until freed; what it handed out lives on.
 */
typedef struct hf_hfid_pool hf_hfid_pool;

hf_hfid_pool *hf_hfid_pool_new(void); /* NULL: out of memory */
void hf_hfid_pool_free(hf_hfid_pool *p); /* NULL-safe */
/*
 * A new reference to the pooled HFID equal to `h`, which is taken (a
 * new HFID joins the pool). Anything but an array of strings, or a pool
 * out of memory or NULL, gives `h` back as it is. NULL only for NULL.
 */
json_t *hf_hfid_pool_take(hf_hfid_pool *p, json_t *h);
/* As _take for a borrowed `h`: pooled, or a copy. NULL: out of memory. */
json_t *hf_hfid_pool_copy(hf_hfid_pool *p, const json_t *h);
/*
 * The pooled HFID whose identity key with an empty kind (its components
 * by hf_identity_key_part()) is `key`: a new reference, or NULL when the
 * pool has none (or `p` is NULL).
 */
json_t *hf_hfid_pool_find(hf_hfid_pool *p, const char *key, size_t len);

/* A set of objects with O(1) lookup by identity. */
typedef struct hf_objset hf_objset;

int hf_objset_new(hf_objset **out);
void hf_objset_free(hf_objset *s); /* NULL-safe */

/*
 * Add an object (its contents are taken, even on failure; the struct is
 * zeroed). HF_EINVAL when the identity is already present (the resolver
 * merges repeats before adding).
 */
int hf_objset_add(hf_objset *s, struct hf_object *o, hf_error *err);
size_t hf_objset_count(const hf_objset *s);
/*
 * Room for n objects in all (and their node ids when ids), made at once
 * where the count is known: a set of a million objects otherwise grows
 * its array and indexes twenty times. 0 or HF_ENOMEM.
 */
int hf_objset_reserve(hf_objset *s, size_t n, int ids);
struct hf_object *hf_objset_at(const hf_objset *s, size_t i);
/* Index of the object with this identity, or -1. */
long hf_objset_find(const hf_objset *s, const char *kind, const json_t *hfid);
/*
 * hf_objset_find() with the key made in `scratch` (reset first, its
 * memory kept): a caller looking up keys by the hundred thousand makes
 * no allocation for each.
 */
long hf_objset_find_buf(const hf_objset *s, const char *kind,
                        const json_t *hfid, struct hf_buf *scratch);
/* Index of the object whose identity key (hf_identity_key()) is `key`
 * (len bytes). */
long hf_objset_find_key(const hf_objset *s, const char *key, size_t len);
/* Index of the object with this node id, or -1 (live sets). */
long hf_objset_find_id(const hf_objset *s, const char *id);

#endif
