#ifndef HF_YVAL_H
#define HF_YVAL_H

#include <stddef.h>

/*
 * A read-only YAML value tree that remembers where every node came from.
 * The manifest loader (hf/manifest.h) builds it from libyaml events; the
 * nodes are owned by the manifest and are valid until it is freed. Every
 * pointer returned here is borrowed.
 *
 * Scalars keep their text exactly as written (after YAML unescaping) and
 * their style, so `"100"` and `100` can be told apart. Plain scalars are
 * resolved on demand with the YAML 1.1 rules PyYAML's safe_load uses,
 * which is what the Infrahub SDK sees: hf_yval_resolve().
 *
 * Aliases (`*name`) share the anchored node, so an aliased node reports
 * the position of the anchor, not of the alias use (libyaml starts a node
 * that has an anchor at its `&name`). Merge keys (`<<`) are
 * applied while loading: a merged mapping lists the explicit pairs first,
 * then the merged ones that were not overridden, each with its original
 * position.
 */
typedef struct hf_yval hf_yval;

enum hf_yval_type {
	HF_YVAL_NULL = 0, /* a plain empty, ~, null, Null or NULL */
	HF_YVAL_SCALAR, /* any other scalar */
	HF_YVAL_SEQ,
	HF_YVAL_MAP,
};

enum hf_yval_style {
	HF_YSTYLE_PLAIN = 0,
	HF_YSTYLE_SINGLE, /* 'x' */
	HF_YSTYLE_DOUBLE, /* "x" */
	HF_YSTYLE_LITERAL, /* | */
	HF_YSTYLE_FOLDED, /* > */
	HF_YSTYLE_FLOW, /* a [..] or {..} collection */
	HF_YSTYLE_BLOCK, /* a block collection */
};

/* What a scalar means to PyYAML's safe_load (YAML 1.1 core resolvers). */
enum hf_yres {
	HF_YRES_NONE = 0, /* not a scalar */
	HF_YRES_NULL,
	HF_YRES_BOOL,
	HF_YRES_INT,
	HF_YRES_FLOAT,
	HF_YRES_TIMESTAMP,
	HF_YRES_STR,
};

enum hf_yval_type hf_yval_type(const hf_yval *v);
enum hf_yval_style hf_yval_style(const hf_yval *v);
/* "a mapping", "a list", "a string", "an integer", "null", ... */
const char *hf_yval_describe(const hf_yval *v);

/* Position: file name (borrowed) and 1-based line and column. */
const char *hf_yval_file(const hf_yval *v);
int hf_yval_line(const hf_yval *v);
int hf_yval_col(const hf_yval *v);

/*
 * Scalar (and null) text, NUL-terminated; NULL for collections. `len`
 * may be NULL; a scalar written with a "\0" escape is longer than its
 * strlen().
 */
const char *hf_yval_text(const hf_yval *v, size_t *len);
/* The explicit tag, e.g. "tag:yaml.org,2002:str", or NULL. */
const char *hf_yval_tag(const hf_yval *v);

/* Sequence items and mapping pairs; count is 0 for other types. */
size_t hf_yval_count(const hf_yval *v);
const hf_yval *hf_yval_item(const hf_yval *v, size_t i);
const hf_yval *hf_yval_key(const hf_yval *v, size_t i);
const hf_yval *hf_yval_value(const hf_yval *v, size_t i);
/* Value for the scalar key `key` in a mapping, or NULL. */
const hf_yval *hf_yval_get(const hf_yval *v, const char *key);

/* Scalar resolution. Explicit !!str, !!int... tags win over the text. */
enum hf_yres hf_yval_resolve(const hf_yval *v);
/* 1 when the scalar is a string to PyYAML (quoted, block, !!str, ...). */
int hf_yval_is_string(const hf_yval *v);
/*
 * Read a scalar that resolves to an int (0x, 0b, 0 octal, underscores,
 * base 60) or a bool (yes/no/true/false/on/off in the three spellings).
 * Return 0, or HF_EINVAL when it does not resolve so or does not fit.
 */
int hf_yval_as_int(const hf_yval *v, long long *out);
int hf_yval_as_bool(const hf_yval *v, int *out);

#endif
