#ifndef HF_FETCH_INT_H
#define HF_FETCH_INT_H

/*
 * What the fetch (fetch.c) and its prefetch (prefetch.c) share: the
 * queries they write, so that a page read ahead is the page the fetch
 * asks for, and the choice between pages and lookups.
 */
#include <jansson.h>

#include "hf/buf.h"
#include "hf/fetch.h"
#include "hf/schema.h"

/* Record field `name` of `type` in `fields` unless there. 0 or HF_ENOMEM. */
int hff_field_add(json_t *fields, const char *name, const char *type);

/*
 * `sel` set to the node selection *fields (name -> "attr" | "one" |
 * "many") make, write-only attributes left out; with `sort`, *fields is
 * replaced by the same in name order first. 0 or HF_ENOMEM (then *fields
 * is unchanged).
 */
int hff_selection(const hf_kind *k, json_t **fields, hf_buf *sel, int sort);

/* A page of `kind`: `$offset` a variable, the limit a literal. */
char *hff_page_query(const char *kind, const char *sel, long limit);

/* Whether reading every page costs less than the lookups (1 or 0). */
int hff_wants_pages(const struct hf_fetch_opts *o, long count, long nwant,
                    long nunique, int unkeyed);

/*
 * The page at `offset` of `kind` the prefetch holds, if it was asked
 * with `query` and the kind counted `count` objects: the caller owns
 * the text (*len bytes, NUL-terminated). NULL when there is none.
 */
char *hff_warm_take(hf_fetch_warm *w, const char *kind, const char *query,
                    long offset, long count, size_t *len);

/* A page hff_warm_take() gave was taken. */
void hff_warm_used(hf_fetch_warm *w);

/* The pages not taken, dropped: the fetch asked for its own. */
void hff_warm_drop(hf_fetch_warm *w);

/* Requests the prefetch sent. */
long hff_warm_requests(const hf_fetch_warm *w);

#endif
