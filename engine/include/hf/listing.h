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
#include "hf/model.h"

/* A field the listing selects: an attribute `{ value }` or a relationship. */
struct hf_listing_field {
	const char *name;
	unsigned char type; /* enum hf_field_type */
};

/* What a node says of one field. */
struct hf_listing_value {
	json_t *value; /* attribute: the value (owned); NULL when the field,
	                  or its "value", is absent or the field is null */
	struct hf_ref *refs; /* relationship (owned): NULL when the field is
	                        absent or null (one: no node) */
	uint32_t nrefs;
};

struct hf_listing_node {
	const char *id; /* a non-empty string (in the page's arena) */
	const char *type; /* __typename, NULL when absent (arena) */
	json_t *hfid; /* array of strings (owned); NULL: null or absent */
	size_t values; /* index of its first value in the page's `vals` */
};

struct hf_listing_page {
	long count; /* the listing's count: 0 .. 2^53 */
	struct hf_listing_node *nodes;
	size_t n, cap;
	struct hf_listing_value *vals; /* nf per node */
	size_t nvals, vcap;
	size_t nf;
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

/* Free what the page still owns (what a caller took it set to NULL). */
void hf_listing_release(struct hf_listing_page *pg);

#endif
