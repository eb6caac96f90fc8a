#ifndef HFS_JINJA_H
#define HFS_JINJA_H

/*
 * A small, safe Jinja2 subset for computed attributes and display labels,
 * written to behave as Infrahub's renderer does: the infrahub-sdk
 * Jinja2Template over jinja2's SandboxedEnvironment with StrictUndefined,
 * default delimiters and whitespace rules (no trim_blocks, no
 * lstrip_blocks, one trailing newline dropped), the filters the SDK lists
 * as trusted (restrict_untrusted_jinja2_filters, on by default) and the
 * netutils filters it registers.
 *
 * Supported: text, {{ expr }}, {# comments #}, whitespace control
 * ({{- -}}, {%- -%}), {% raw %}, {% if/elif/else %}, {% for %} (tuple
 * targets, else, the inline "if" filter, the loop variable),
 * {% set %} (also the block form), {% with %}, {% filter %}.
 * Expressions: literals (strings, numbers, true/false/none, lists,
 * tuples, dicts with string keys), names, .attr and [item] access,
 * slices, filters with arguments, "is" tests, not/and/or, comparisons
 * (chained, in, not in), + - * / // % ** ~, conditional expressions,
 * and a few str/dict methods (upper, lower, strip, split, replace,
 * startswith, endswith, format, items, keys, values, get, ...).
 *
 * Values are JSON values as GraphQL returns them (null renders "None", as
 * in Python). Evaluation is bounded: nesting depth, loop iterations,
 * output and intermediate string sizes; every failure is an error with a
 * message, never a crash or an unbounded output.
 */
#include <stddef.h>

#include <jansson.h>

#include "hf/error.h"

typedef struct hfs_jinja hfs_jinja; /* opaque, immutable once parsed */

/* Limits (bytes / counts). */
#define HFS_JINJA_MAX_SOURCE (64 * 1024)
#define HFS_JINJA_MAX_OUTPUT (256 * 1024)
#define HFS_JINJA_MAX_DEPTH  64
#define HFS_JINJA_MAX_STEPS  200000

/*
 * Parse `src`. On success *out is owned by the caller (free with
 * hfs_jinja_free()); on failure *out is NULL and HF_EINVAL (syntax error,
 * message in Jinja's words with the line) or HF_ENOMEM is returned.
 */
int hfs_jinja_parse(hfs_jinja **out, const char *src, hf_error *err);

void hfs_jinja_free(hfs_jinja *t); /* NULL-safe */

/*
 * The variables the template reads without defining them, sorted and
 * unique (jinja2.meta.find_undeclared_variables). Borrowed.
 */
size_t hfs_jinja_nvars(const hfs_jinja *t);
const char *hfs_jinja_var(const hfs_jinja *t, size_t i);

/*
 * Infrahub's check (Jinja2Template.validate(restricted=True)): every
 * filter must be a trusted one ("The 'x' filter isn't allowed to be
 * used"), include/import are refused; plus what this renderer lacks:
 * trusted filters it does not implement and unknown tests. 0 or
 * HF_EINVAL.
 */
int hfs_jinja_validate(const hfs_jinja *t, hf_error *err);

/*
 * Render with `vars` (a JSON object name -> value, borrowed; missing
 * names are undefined and fail as StrictUndefined does). On success *out
 * is a new string the caller frees with hf_free(). HF_EINVAL with the
 * error (e.g. "'x' is undefined", "division by zero") or HF_ENOMEM.
 */
int hfs_jinja_render(char **out, const hfs_jinja *t, const json_t *vars,
                     hf_error *err);

#endif
