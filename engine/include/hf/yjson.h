#ifndef HF_YJSON_H
#define HF_YJSON_H

/*
 * A YAML value tree as JSON, typed the way PyYAML's safe_load types it
 * (what the Infrahub SDK sends): plain 100 is an integer, "100" a string,
 * yes/true a boolean, ~ null. Used for schema files (sent to
 * /api/schema/load as JSON) and List/JSON attribute values.
 */
#include <jansson.h>

#include "hf/error.h"
#include "hf/yval.h"

/* Most values one conversion may produce (aliases are copied out). */
#define HF_YJSON_MAX_NODES 1000000u

/*
 * Convert `v` into a new JSON value (*out, caller decrefs). Mapping keys
 * must be scalars. Floats that JSON cannot hold (.inf, .nan) and
 * timestamps become strings. A value that would expand to more than
 * HF_YJSON_MAX_NODES values is HF_EINVAL at `v`'s position. Returns 0,
 * HF_EINVAL (with a position in `err`) or HF_ENOMEM.
 */
int hf_yval_json(json_t **out, const hf_yval *v, hf_error *err);

#endif
