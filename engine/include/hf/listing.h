#ifndef HF_LISTING_H
#define HF_LISTING_H

/*
 * A page of a kind's listing read straight from the answer's text: the
 * GraphQL answer {"data": {Kind: {"count": n, "edges": [{"node": {...}}]}}}
 * that fetch asks for, decoded without a JSON tree for the page. A page
 * of a thousand objects is some twenty thousand JSON values; read here,
 * it costs the values a live object keeps.
 *
 * Only what a listing page holds is understood. At the first thing this
 * reader is not sure the general decoder (jansson, strict: duplicate keys
 * refused) reads the same way -- an "errors" member, a key given twice, a
 * member it did not ask for, a shape other than the selection's, \u0000,
 * a malformed byte or number, nesting beyond jansson's limit -- it
 * declines the whole page and keeps nothing: the caller then decodes the
 * text the general way, which reads it or reports what is wrong with it.
 * What it accepts, the general decoder reads alike (tests/fuzz holds
 * both readings to that).
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "hf/arena.h"

/* A field the listing selects: an attribute `{ value }` or a relationship. */
struct hf_listing_field {
	const char *name;
	unsigned char type; /* enum hf_field_type */
};

/*
 * A string as the page wrote it, escapes decoded: its bytes in the text
 * (which must outlive the page) or in the page's arena; never NUL.
 */
struct hf_listing_str {
	const char *s;
	size_t n;
};

/* An HFID: parts[at .. at + n) of the page, when present. */
struct hf_listing_hfid {
	size_t at;
	uint32_t n;
	unsigned char present; /* 0: null or absent */
};

/* A peer: id and __typename (in the page's arena, never NULL), HFID. */
struct hf_listing_ref {
	const char *id;
	const char *type;
	struct hf_listing_hfid hfid;
};

/* What an attribute's value is. */
enum hf_listing_kind {
	HF_LV_ABSENT = 0, /* the field, or its "value", absent; or the
	                     field null */
	HF_LV_STRING,
	HF_LV_INT,
	HF_LV_TRUE,
	HF_LV_FALSE,
	HF_LV_NULL,
	HF_LV_JSON, /* anything else, read by jansson: `value` */
};

/* What a node says of one field. */
struct hf_listing_value {
	unsigned char kind; /* attribute: enum hf_listing_kind */
	struct hf_listing_str str; /* HF_LV_STRING */
	json_int_t i; /* HF_LV_INT */
	json_t *value; /* HF_LV_JSON (owned) */
	/* relationship: its peers; one: at most one */
	struct hf_listing_ref *refs;
	uint32_t nrefs;
};

struct hf_listing_node {
	const char *id; /* a non-empty string (in the page's arena) */
	const char *type; /* __typename, NULL when absent (arena) */
	struct hf_listing_hfid hfid;
	size_t values; /* index of its first value in the page's `vals` */
};

struct hf_listing_page {
	long count; /* the listing's count: 0 .. 2^53 */
	struct hf_listing_node *nodes;
	size_t n, cap;
	struct hf_listing_value *vals; /* nf per node */
	size_t nvals, vcap;
	size_t nf;
	struct hf_listing_str *parts; /* the HFIDs' components */
	size_t nparts, pcap;
	hf_arena strings;
};

/*
 * Read `text` as the page of `kind`'s listing selecting `fields` (`nf` of
 * them; each node may also hold id, hfid and __typename). Returns 1 with
 * *pg filled (release it), 0 when declined (*pg empty), HF_ENOMEM.
 */
int hf_listing_read(struct hf_listing_page *pg, const char *text, size_t len,
                    const char *kind, const struct hf_listing_field *fields,
                    size_t nf);

/* Node i's value of field j. */
struct hf_listing_value *hf_listing_value(struct hf_listing_page *pg, size_t i,
                                          size_t j);

/*
 * An attribute's value as a JSON value (a new reference; NULL when
 * absent), or an HFID as an array of strings (NULL when not present).
 * 0 or HF_ENOMEM.
 */
int hf_listing_json(const struct hf_listing_value *v, json_t **out);
int hf_listing_hfid_json(const struct hf_listing_page *pg,
                         const struct hf_listing_hfid *h, json_t **out);

/* Free what the page owns. */
void hf_listing_release(struct hf_listing_page *pg);

/*
 * A group's members, as read: a member's id and type name, their bytes
 * (not NUL-terminated, never empty). 0 to go on, < 0 to stop with that
 * error; > 0 declines the page.
 */
typedef int (*hf_listing_member_fn)(void *payload, const char *id, size_t idn,
                                    const char *type, size_t typen);

/*
 * Read `text` as a page of one group's members, the answer to
 *   CoreStandardGroup(ids: ...) { edges { node { id members(offset, limit)
 *   { count edges { node { id __typename } } } } } }
 * (an object's members in any order): fn for each member in order, and
 * *count the members' count. Returns 1 when read; 0 when declined
 * (errors, another shape, not one group, a string with escapes or bytes
 * jansson refuses: the caller decodes the text as usual, knowing fn may
 * have seen some members); HF_ENOMEM or fn's error.
 */
int hf_listing_members(const char *text, size_t len, hf_listing_member_fn fn,
                       void *payload, long *count);

#endif
