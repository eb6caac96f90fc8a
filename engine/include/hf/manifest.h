#ifndef HF_MANIFEST_H
#define HF_MANIFEST_H

#include <stddef.h>

#include "hf/error.h"
#include "hf/yval.h"

/*
 * Infrahub object files (`infrahubctl object load` input) loaded into one
 * manifest: files -> documents -> objects, every node with its position.
 * This is the first stage of the pipeline and needs no schema; it checks
 * structure only and collects every problem it finds (it never stops at
 * the first one) as diagnostics the caller prints.
 *
 * Loading rules (the SDK's, unless said otherwise):
 *  - A file holds one or more YAML documents (a real multi-document parse,
 *    not a search for `---`). Documents holding nothing (only comments)
 *    are skipped; a file without any document is an error "empty file".
 *  - A document is an object document when it has `kind: Object`; an
 *    `apiVersion`, when present, must be `infrahub.app/v1`. `kind: Menu`
 *    (a menu file) and schema files (`version` with `nodes`, `generics` or
 *    `extensions`) are recognised and skipped with a warning; any other
 *    kind is an error. `spec` needs `kind` (a string) and `data` (a list
 *    of mappings); `spec.parameters.expand_range` is a boolean.
 *  - A directory is walked recursively; each level is sorted by entry name
 *    (strcmp), directories and files interleaved, as the SDK does. Only
 *    `.yml`, `.yaml` and `.json` files are read, and entries whose name
 *    starts with '.' are skipped (Python's glob does). A file named
 *    explicitly is read whatever its extension.
 *  - Objects: each item of `spec.data` is an object of `spec.kind`. A
 *    field whose value has the shape of nested objects is recognised and
 *    its children become objects too (the schema stage decides later
 *    whether the field really is a relationship; the raw value is kept):
 *      field: {kind?: K, parameters?: {...}, data: [{...}, ...]}  (many)
 *      field: {kind?: K, data: {...}}                            (one)
 *      field: [{kind?: K, data: {...}}, ...]                     (list form;
 *             every item a mapping with a mapping `data`)
 *    A child has the block's `kind`, or NULL when there is none (the
 *    schema stage fills it in from the relationship's peer).
 *  - Range expansion (hf/range.h) applies to `spec.data` when the
 *    document's `spec.parameters.expand_range` is true, and to the `data`
 *    list of a dict-form nested block with the parameters of that block,
 *    or else the ones it inherits from its parent. It does not apply to
 *    the one-object and list forms (each holds exactly one object); their
 *    own `parameters`, when given, are what the lists nested in that
 *    object inherit (nested parameters per relationship). Every
 *    scalar value of an item (not of its nested values) that contains a
 *    range group expands; all such fields of one item must expand to the
 *    same length N and the item becomes N objects, zipped field by field.
 *    Expanded objects and their fields keep the original positions. A
 *    group the SDK could not expand is an error here (see hf/range.h).
 *    The object counts are counts after expansion.
 *  - Mapping keys must be scalars; a repeated key keeps the last value in
 *    the place of the first key (PyYAML's dict) and gives a warning.
 *  - Anchors and aliases are resolved by sharing the node: an aliased value
 *    reports the anchor's position. An alias must refer to a node that is
 *    complete (no recursive structures). `<<` merge keys are supported.
 *    Tags PyYAML's safe_load has no constructor for (`!include`,
 *    `!!python/...`) are errors, since the SDK cannot read such a file.
 *  - Limits, against hostile input: nesting deeper than 256 levels, files
 *    over 256 MiB, more than 4,000,000 objects or 32,000,000 fields in one
 *    manifest are errors; at most 1000 diagnostics are stored (all are
 *    counted), and one problem reported twice at the same place (a node
 *    reached through several aliases or range-expanded copies) counts once.
 *
 * Diagnostics are hf_error records (`where` is the file, line and col are
 * 1-based; where is "" for problems that have no file, such as a path that
 * does not exist), each an error or a warning. Messages are lower case
 * without a full stop, e.g. "unknown document kind 'Objects', expected
 * 'Object'" or "spec.data must be a list of objects, found a mapping".
 */
typedef struct hf_manifest hf_manifest;
typedef struct hf_mfile hf_mfile;
typedef struct hf_mdoc hf_mdoc;
typedef struct hf_mobj hf_mobj;
typedef struct hf_mfield hf_mfield;

enum hf_mdiag_level {
	HF_MDIAG_ERROR = 0,
	HF_MDIAG_WARNING,
};

/* What a document is. Only HF_MDOC_OBJECT documents hold objects. */
enum hf_mdoc_type {
	HF_MDOC_INVALID = 0, /* failed a structural check */
	HF_MDOC_OBJECT,
	HF_MDOC_MENU,
	HF_MDOC_SCHEMA,
};

/* The shape of nested objects recognised in a field's value. */
enum hf_mnest {
	HF_MNEST_NONE = 0,
	HF_MNEST_ONE, /* {kind?, data: {...}} */
	HF_MNEST_MANY_DICT, /* {kind?, parameters?, data: [...]} */
	HF_MNEST_MANY_LIST, /* [{kind?, data: {...}}, ...] */
};

/* Caller owns *out (free with hf_manifest_free); HF_ENOMEM or 0. */
int hf_manifest_new(hf_manifest **out);
void hf_manifest_free(hf_manifest *m); /* accepts NULL */

/*
 * Give back the documents, objects and YAML values once they are no
 * longer needed (the resolver's objects hold copies): what stays is the
 * files and their names (which objects and diagnostics borrow), the
 * diagnostics and the digest. Document and object counts become 0.
 */
void hf_manifest_drop_documents(hf_manifest *m);

/*
 * Load a file or a directory (recursively) into the manifest. Problems are
 * recorded as diagnostics; loading goes on after them. Returns 0 when this
 * call added no error (warnings are fine), HF_ENOTFOUND when the path
 * cannot be opened, HF_EINVAL when it added errors, HF_ENOMEM (after which
 * the manifest may be incomplete but is still safe to query and free).
 * `err`, when given, receives the first error this call added.
 */
int hf_manifest_add_path(hf_manifest *m, const char *path, hf_error *err);

/*
 * Load `len` bytes of YAML text as if read from the file `name` (which is
 * only used in positions). Same results as hf_manifest_add_path.
 */
int hf_manifest_add_buffer(hf_manifest *m, const char *name, const char *text,
                           size_t len, hf_error *err);

/*
 * Loading on several threads. hf_manifest_load_new() lists the files
 * `paths` name, in the order hf_manifest_add_path() would load them, and
 * deals them into at most `nparts` runs of files of about equal size;
 * each hf_manifest_load_part(job, k), k < hf_manifest_load_parts(job),
 * loads run k into a manifest of its own, on any thread, all at once;
 * hf_manifest_load_end() then gives `m` what loading the paths one after
 * the other gives (the same files, documents, objects and diagnostics,
 * in the same order, and the same digest) and frees the job. Where the
 * runs cannot tell what one thread would say (a run out of memory or
 * past the limits, a file or path named twice, more than 1000
 * diagnostics, an `m` that already said something), it loads the paths
 * again on the calling thread. Returns 0, or HF_ENOMEM with no job (then
 * load the paths as usual).
 */
typedef struct hf_manifest_load hf_manifest_load;

int hf_manifest_load_new(hf_manifest_load **out, hf_manifest *m,
                         const char *const *paths, size_t n, size_t nparts);
size_t hf_manifest_load_parts(const hf_manifest_load *job);
void hf_manifest_load_part(hf_manifest_load *job, size_t k);
void hf_manifest_load_end(hf_manifest_load *job);

/* Diagnostics, in the order found. Borrowed. */
size_t hf_manifest_diag_count(const hf_manifest *m);
const hf_error *hf_manifest_diag_at(const hf_manifest *m, size_t i,
                                    enum hf_mdiag_level *level);
size_t hf_manifest_error_count(const hf_manifest *m);
size_t hf_manifest_warning_count(const hf_manifest *m);

/*
 * Whether loading ran out of memory: the manifest is then incomplete
 * (files or objects are missing without a diagnostic saying so) and must
 * not be planned from, whatever the error count says.
 */
int hf_manifest_failed(const hf_manifest *m);

/*
 * SHA-256 (hex) over every file read, in order: its name, a NUL, and the
 * exact bytes that were parsed. Two runs over the same files agree.
 */
void hf_manifest_digest(const hf_manifest *m, char hex[65]);

/* Files read, documents (non-empty, of any type), objects declared. */
size_t hf_manifest_file_count(const hf_manifest *m);
size_t hf_manifest_doc_count(const hf_manifest *m);
size_t hf_manifest_object_count(const hf_manifest *m);

/* Everything below is borrowed and valid until the manifest is freed. */
const hf_mfile *hf_manifest_file_at(const hf_manifest *m, size_t i);
const hf_mdoc *hf_manifest_doc_at(const hf_manifest *m, size_t i);
/*
 * Objects in declaration order: each object comes before its nested
 * children, which come in field order, depth first.
 */
const hf_mobj *hf_manifest_object_at(const hf_manifest *m, size_t i);

/*
 * Set the kind of object i (the schema stage fills in nested children
 * without `kind:`). The text is copied. 0 or HF_ENOMEM.
 */
int hf_manifest_set_object_kind(hf_manifest *m, size_t i, const char *kind);

/* Files */
const char *hf_mfile_path(const hf_mfile *f);
size_t hf_mfile_doc_count(const hf_mfile *f); /* non-empty documents */
size_t hf_mfile_object_count(const hf_mfile *f); /* declared, expanded */
const hf_mdoc *hf_mfile_doc_at(const hf_mfile *f, size_t i);

/* Documents */
enum hf_mdoc_type hf_mdoc_type(const hf_mdoc *d);
const hf_mfile *hf_mdoc_file(const hf_mdoc *d);
size_t hf_mdoc_index(const hf_mdoc *d); /* 0-based within its file */
const hf_yval *hf_mdoc_root(const hf_mdoc *d);
/* spec.kind text, or NULL for a document that is not an object document */
const char *hf_mdoc_kind(const hf_mdoc *d);
const hf_yval *hf_mdoc_kind_node(const hf_mdoc *d);
const hf_yval *hf_mdoc_parameters(const hf_mdoc *d); /* NULL when absent */
const hf_yval *hf_mdoc_metadata(const hf_mdoc *d); /* NULL when absent */
int hf_mdoc_expand_range(const hf_mdoc *d);
/* Objects of this document: the range [first, first + count). */
size_t hf_mdoc_object_first(const hf_mdoc *d);
size_t hf_mdoc_object_count(const hf_mdoc *d);

/* Objects */
size_t hf_mobj_index(const hf_mobj *o); /* in hf_manifest_object_at */
/* The object's kind: spec.kind, the block's kind:, or NULL (not known). */
const char *hf_mobj_kind(const hf_mobj *o);
/* Where the kind was written (the block's or spec's), or NULL. */
const hf_yval *hf_mobj_kind_node(const hf_mobj *o);
const hf_mdoc *hf_mobj_doc(const hf_mobj *o);
const char *hf_mobj_file(const hf_mobj *o);
int hf_mobj_line(const hf_mobj *o); /* position of the item's mapping */
int hf_mobj_col(const hf_mobj *o);
/* The item's mapping as written (before range expansion). */
const hf_yval *hf_mobj_node(const hf_mobj *o);
/* NULL for a top-level object. */
const hf_mobj *hf_mobj_parent(const hf_mobj *o);
/* The parent's field this object is nested under, or NULL. */
const hf_mfield *hf_mobj_parent_field(const hf_mobj *o);
/*
 * 1-based position in its list after expansion, as the SDK numbers items
 * in messages ("1.interfaces.2.name"); 1 for a one-object block.
 */
size_t hf_mobj_item_index(const hf_mobj *o);
/* Whether range expansion was on for the list this object came from. */
int hf_mobj_expand_range(const hf_mobj *o);

/* Fields in file order (merge keys applied, duplicates collapsed). */
size_t hf_mobj_field_count(const hf_mobj *o);
const hf_mfield *hf_mobj_field_at(const hf_mobj *o, size_t i);
const hf_mfield *hf_mobj_field(const hf_mobj *o, const char *name);

const char *hf_mfield_name(const hf_mfield *f);
const hf_yval *hf_mfield_key(const hf_mfield *f); /* position of the key */
/*
 * The value: the raw node as written, except that a range-expanded field
 * holds its expanded scalar (positioned like the original).
 */
const hf_yval *hf_mfield_value(const hf_mfield *f);
enum hf_mnest hf_mfield_nest(const hf_mfield *f);
/* For nested fields: the block's kind: node (or NULL), and the children. */
const hf_yval *hf_mfield_nest_kind(const hf_mfield *f);
size_t hf_mfield_child_count(const hf_mfield *f);
const hf_mobj *hf_mfield_child_at(const hf_mfield *f, size_t i);

#endif
