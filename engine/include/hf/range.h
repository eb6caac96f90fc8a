#ifndef HF_RANGE_H
#define HF_RANGE_H

#include <stddef.h>

#include "hf/error.h"

/*
 * Range expansion of object-file strings, as the Infrahub SDK does it with
 * `spec.parameters.expand_range: true` (infrahub_sdk/spec/range_expansion.py).
 *
 * A group is `[...]` matching `\[[\w,-]*[-,][\w,-]*\]`. Inside a group,
 * comma-separated parts are expanded one after the other, and each part is
 *   - a numeric range `1-4` or `01-20` (numbers go through int, so the
 *     padding is lost: 1..20), descending too: `5-1` is 5,4,3,2,1;
 *   - a letter range `a-c` or `C-A` (one letter each side, same case);
 *   - a plain alphanumeric value, kept as written (`02` stays `02`).
 * So `[1-3,7,a-b]` is 1,2,3,7,a,b. Several groups in one string expand to
 * their cartesian product, the first group varying slowest.
 * `\[` and `\]` are literal brackets (the SDK swaps them for the
 * placeholders `__LBRACK__` / `__RBRACK__` while it expands, and swaps the
 * placeholders back, so a literal `__LBRACK__` in the text becomes `[`).
 * A string with no group is not expanded at all (its backslashes stay).
 *
 * Where the SDK would silently leave a group unchanged, keep it as text
 * without its brackets, or give up on the whole string (an empty part as
 * in `[a,,b]`, a missing bound as in `[1-]`, mixed bounds as in `[a-5]` or
 * `[ab-c]`, mixed case as in `[a-Z]`, a non-alphanumeric part as in
 * `[a_b,c]`), hubform reports "invalid range '[...]'" instead: such a group
 * is almost certainly a typo in a file that asked for expansion.
 * `\w` is approximated as ASCII letters, digits, `_` and any non-ASCII byte.
 */

/* Default cap on the values one string may expand to. */
#define HF_RANGE_MAX 100000

/*
 * Whether `s` contains a group, checked on the raw text as the SDK does to
 * decide that a field expands at all (an escaped `\[1-2\]` does not).
 */
int hf_range_has_group(const char *s, size_t len);

/*
 * Expand `s` (len bytes). On success *out is a new array of *n strings,
 * each NUL-terminated; the caller frees it with hf_range_free(*out, *n).
 * A string without groups expands to itself (one value, unchanged).
 * `max` caps the number of values (0: HF_RANGE_MAX). Returns 0, HF_EINVAL
 * ("invalid range '[5-]'", "range '[1-999999]' expands to more than N
 * values") or HF_ENOMEM, with *out NULL and *n 0 on failure.
 */
int hf_range_expand(char ***out, size_t *n, const char *s, size_t len,
                    size_t max, hf_error *err);

void hf_range_free(char **list, size_t n);

#endif
