#ifndef HF_JSONTEXT_H
#define HF_JSONTEXT_H

/*
 * JSON text without a tree walk through jansson's dumper: appends to a
 * caller's buffer exactly the bytes json_dumps(j, JSON_COMPACT |
 * JSON_ENCODE_ANY [| JSON_SORT_KEYS]) returns, so that hashes and stored
 * texts made either way are equal (tests/test_jsontext.c compares the
 * two). Hot paths (diff fingerprints, the plan checksum, the plan store)
 * reuse one buffer instead of allocating a string per value.
 */
#include <jansson.h>

#include "hf/buf.h"

#define HF_JSON_SORTED 1 /* keys in strcmp order (JSON_SORT_KEYS) */

/*
 * Append the compact text of `j` to `b`. Returns 0, or HF_ENOMEM when the
 * buffer could not grow, or HF_EINVAL for what json_dumps refuses (NULL,
 * a string that is not UTF-8, a non-finite real).
 */
int hf_json_write(hf_buf *b, const json_t *j, int flags);

/* Append `s` (n bytes, UTF-8) as a JSON string literal, quotes included. */
int hf_json_write_string(hf_buf *b, const char *s, size_t n);

/*
 * The length of the one JSON value at the start of s (n bytes), from its
 * first byte: a string literal to its closing quote, an array or object to
 * the bracket that closes it, anything else to the next delimiter. 0 when
 * it does not end within n bytes or spans a line (compact text is one
 * line). It delimits, it does not validate: brackets are counted, not
 * matched, and what is inside is not checked.
 */
size_t hf_json_value_len(const char *s, size_t n);

/*
 * Whether s (n bytes) is one JSON value, as jansson decodes it (RFC 8259,
 * UTF-8, escapes whole, no \u0000, nesting up to 2048), and nothing
 * else but white space: 1 or 0. No tree, no allocation. A NUL byte
 * outside a string is refused (jansson stops reading there).
 */
int hf_json_valid(const char *s, size_t n);

#endif
