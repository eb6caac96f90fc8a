#ifndef HFS_SCHEMA_INT_H
#define HFS_SCHEMA_INT_H

/*
 * Private to server/schema*.c: the pieces the schema files share.
 *
 * The user material ("src") is JSON:
 *   {"generics": {Kind: def}, "nodes": {Kind: def},
 *    "extensions": {Kind: {"attributes": [...], "relationships": [...]}}}
 * where each def is the schema-file object as loaded, merged across loads.
 * Building runs the Infrahub processing over the core kinds plus src and
 * yields "built": {"nodes", "generics", "profiles", "templates"}, each an
 * object of Kind -> element in the GET /api/schema shape (without filters).
 */
#include "schema.h"

extern const char hfs_core_schema_json[];
extern const size_t hfs_core_schema_json_len;

void hfs_md5_hex(const void *data, size_t len, char out[33]);

/* Process core + src. *out is new (caller decrefs); src is borrowed. */
int hfs_schema_build(json_t **out, json_t *src, hf_error *err);

/*
 * Make a schema from src and built (both stolen, even on failure).
 */
int hfs_schema_wrap(hfs_schema **out, json_t *src, json_t *built,
                    hf_error *err);

/* Borrowed views of a schema's JSON. */
json_t *hfs_schema_src(const hfs_schema *s);
json_t *hfs_schema_built(const hfs_schema *s);
json_t *hfs_schema_elem(const hfs_schema *s, const struct hfs_kind *k);

/* Attribute kinds accepted at load, in Infrahub's order. */
extern const char *const hfs_attr_kinds[];
int hfs_attr_kind_valid(const char *kind);

/* Restricted namespaces (users may not define kinds in them). */
int hfs_namespace_restricted(const char *ns);

/* "some_name" -> "Some Name" (Infrahub's format_label). Caller frees. */
char *hfs_format_label(const char *name);

/* Small JSON helpers: NULL/0 when absent or of another type. */
const char *hfs_jstr(const json_t *o, const char *key);
int hfs_jtrue(const json_t *o, const char *key);
json_t *hfs_jarr(const json_t *o, const char *key);

/* Element types, as bits for hfs_build_each(). */
enum {
	HFS_T_NODE = 1,
	HFS_T_GENERIC = 2,
	HFS_T_PROFILE = 4,
	HFS_T_TEMPLATE = 8,
};

/* Working state of one build (schema_build.c, schema_valid.c). */
struct hfs_build {
	json_t *nodes; /* Kind -> element */
	json_t *generics;
	json_t *profiles;
	json_t *templates;
	hf_error *err;
};

typedef int (*hfs_step_fn)(struct hfs_build *b, json_t *el, int type);

/* Call fn on every element of the types in mask, sorted by kind. */
int hfs_build_each(struct hfs_build *b, int mask, hfs_step_fn fn);
/* Element of any type, or NULL; *type gets its HFS_T_* bit. */
json_t *hfs_build_get(struct hfs_build *b, const char *kind, int *type);
/* Array item whose "name" is `name`, or NULL. */
json_t *hfs_named(const json_t *arr, const char *name);

/* Element building blocks (schema_build.c). New references. */
json_t *hfs_norm_def(const json_t *def, const char *kind, int type);
json_t *hfs_norm_attr(const json_t *attr);
json_t *hfs_rel_new(const char *name, const char *peer, const char *kind,
                    const char *identifier, const char *cardinality);
int hfs_has_member(const json_t *el, const char *name);
int hfs_add_used_by(json_t *generic, const char *kind);

/* Profiles and object templates (schema_derive.c). */
int hfs_step_profile(struct hfs_build *b, json_t *el, int type);
int hfs_step_template(struct hfs_build *b, json_t *el, int type);

/* Validation and the steps that need schema paths (schema_valid.c). */
int hfs_build_validate(struct hfs_build *b);
int hfs_build_hfid(struct hfs_build *b);

/*
 * Merge schema-file definition `add` into `dst`: keys overwrite; the
 * attributes and relationships lists merge item by item on "name" (keys
 * overwrite, a missing "state" means present). `add` is borrowed.
 */
int hfs_def_merge(json_t *dst, json_t *add);

/*
 * Check `value` against the attribute element `attr` (JSON, as built);
 * used for default values. Same contract as hfs_attr_check().
 */
int hfs_attr_check_json(const json_t *attr, json_t *value, json_t **norm,
                        hf_error *err);

#endif
