#ifndef HFS_GQL_H
#define HFS_GQL_H

/*
 * GraphQL executable documents (June 2018 spec): parse a request's query
 * text into a read-only AST, then the helpers the executor needs: pick the
 * operation, coerce variables, turn argument values into JSON and collect
 * the fields of a selection set for a concrete type (fragments expanded,
 * @skip/@include applied, equal response keys merged).
 *
 * Internal to the server library. The whole AST lives in one arena owned
 * by the hfs_gql_doc: every pointer reached from a document is borrowed
 * and valid until hfs_gql_doc_free(). Lists are singly linked through
 * `next`, in source order. Every node has a 1-based line and col (col
 * counts characters, not bytes) for `locations` in error responses.
 *
 * Error texts follow graphql-core, e.g. "Syntax Error: Expected Name,
 * found <EOF>." with err->line/err->col set (they are 0 when an error has
 * no location).
 */

#include <stddef.h>

#include <jansson.h>

#include "hf/error.h"

/* Selection sets, lists, objects and list types nested deeper fail. */
#define HFS_GQL_MAX_DEPTH 64
/* More AST nodes than this in one document fail. */
#define HFS_GQL_MAX_NODES 200000
/* Fields after fragment expansion (see hfs_gql_validate). */
#define HFS_GQL_MAX_EXPANDED 200000

typedef struct hfs_gql_doc hfs_gql_doc; /* opaque */

enum hfs_gql_op_kind {
	HFS_GQL_QUERY,
	HFS_GQL_MUTATION,
	HFS_GQL_SUBSCRIPTION,
};

enum hfs_gql_value_kind {
	HFS_GQL_VARIABLE, /* str: name without '$' */
	HFS_GQL_INT, /* str: source text; ival when int_fits */
	HFS_GQL_FLOAT, /* str: source text */
	HFS_GQL_STRING, /* str/len: decoded UTF-8 (also block strings) */
	HFS_GQL_BOOLEAN, /* boolean */
	HFS_GQL_NULL,
	HFS_GQL_ENUM, /* str: the name */
	HFS_GQL_LIST, /* items */
	HFS_GQL_OBJECT, /* fields */
};

struct hfs_gql_arg;

struct hfs_gql_value {
	enum hfs_gql_value_kind kind;
	int line;
	int col;
	const char *str; /* NUL-terminated; see the kinds above */
	size_t len; /* byte length of str (a string may hold NULs) */
	long long ival; /* HFS_GQL_INT when int_fits */
	int int_fits; /* HFS_GQL_INT fits a long long */
	int boolean; /* HFS_GQL_BOOLEAN */
	int block; /* HFS_GQL_STRING came from a """block string""" */
	size_t count; /* number of items or fields */
	struct hfs_gql_value *items; /* HFS_GQL_LIST: first item */
	struct hfs_gql_arg *fields; /* HFS_GQL_OBJECT: first field */
	struct hfs_gql_value *next; /* next list item */
};

/* An argument `name: value`, or an object field of an object value. */
struct hfs_gql_arg {
	const char *name;
	int line;
	int col;
	struct hfs_gql_value *value;
	struct hfs_gql_arg *next;
};

struct hfs_gql_directive {
	const char *name; /* without '@' */
	int line;
	int col;
	struct hfs_gql_arg *args;
	struct hfs_gql_directive *next;
};

enum hfs_gql_type_kind {
	HFS_GQL_TYPE_NAMED, /* name */
	HFS_GQL_TYPE_LIST, /* [of] */
	HFS_GQL_TYPE_NON_NULL, /* of! (of is NAMED or LIST) */
};

struct hfs_gql_type {
	enum hfs_gql_type_kind kind;
	int line;
	int col;
	const char *name; /* HFS_GQL_TYPE_NAMED */
	struct hfs_gql_type *of;
};

/* `$name: Type = default @directives` */
struct hfs_gql_vardef {
	const char *name; /* without '$' */
	int line;
	int col;
	int name_line; /* where the name (after '$') starts */
	int name_col;
	struct hfs_gql_type *type;
	const char *type_text; /* e.g. "[ID!]!", normalised */
	struct hfs_gql_value *default_value; /* NULL when none */
	struct hfs_gql_directive *directives;
	struct hfs_gql_vardef *next;
};

/*
 * A field, `...Name` spread or `... on T { }` inline fragment. line/col
 * is where the selection starts (the alias, or the `...`).
 */
enum hfs_gql_selection_kind {
	HFS_GQL_FIELD,
	HFS_GQL_FRAGMENT_SPREAD,
	HFS_GQL_INLINE_FRAGMENT,
};

struct hfs_gql_selection {
	enum hfs_gql_selection_kind kind;
	int line;
	int col;
	/* HFS_GQL_FIELD */
	const char *alias; /* NULL when none */
	const char *name; /* field name, or the spread fragment's name */
	const char *key; /* response key: alias, else name */
	int name_line; /* where `name` starts (after any alias or ...) */
	int name_col;
	struct hfs_gql_arg *args;
	/* HFS_GQL_INLINE_FRAGMENT: `on Type`, NULL for `... { }` */
	const char *type_cond;
	struct hfs_gql_directive *directives;
	/* Sub-selection (fields, inline fragments); NULL for a leaf field. */
	struct hfs_gql_selection *selections;
	struct hfs_gql_selection *next;
};

struct hfs_gql_operation {
	enum hfs_gql_op_kind kind;
	const char *name; /* NULL when anonymous */
	int line;
	int col;
	int name_line; /* where the name starts (0 when anonymous) */
	int name_col;
	struct hfs_gql_vardef *vars;
	struct hfs_gql_directive *directives;
	struct hfs_gql_selection *selections;
	struct hfs_gql_operation *next;
};

struct hfs_gql_fragment {
	const char *name;
	const char *type_cond;
	int line;
	int col;
	int name_line; /* where the name starts */
	int name_col;
	struct hfs_gql_directive *directives;
	struct hfs_gql_selection *selections;
	struct hfs_gql_fragment *next;
};

/*
 * Parse `len` bytes of `src` (UTF-8, need not be NUL-terminated). On
 * success *out is a new document owned by the caller (hfs_gql_doc_free()).
 * On failure *out is NULL and `err` holds "Syntax Error: ..." with line and
 * col. Only syntax is checked here; call hfs_gql_validate() next.
 * Returns 0, HF_EINVAL (syntax, depth or size limit) or HF_ENOMEM.
 */
int hfs_gql_parse(hfs_gql_doc **out, const char *src, size_t len,
                  hf_error *err);
void hfs_gql_doc_free(hfs_gql_doc *doc); /* accepts NULL */

/* Borrowed: first operation / fragment in source order, NULL when none. */
const struct hfs_gql_operation *hfs_gql_doc_operations(const hfs_gql_doc *doc);
const struct hfs_gql_fragment *hfs_gql_doc_fragments(const hfs_gql_doc *doc);
/* Borrowed: the fragment definition called `name`, or NULL. */
const struct hfs_gql_fragment *hfs_gql_doc_fragment(const hfs_gql_doc *doc,
                                                    const char *name);
/* Number of AST nodes (for tests and limits). */
size_t hfs_gql_doc_nodes(const hfs_gql_doc *doc);

/*
 * Document checks that need no schema, with graphql-core's messages:
 * unique operation, fragment and variable names, a lone anonymous
 * operation, known fragments ("Unknown fragment 'X'."), no unused
 * fragments, no fragment cycles ("Cannot spread fragment 'A' within
 * itself via 'B'."), no undefined or unused variables. Then limits of
 * ours, so that the executor's recursion and work stay bounded: at most
 * HFS_GQL_MAX_DEPTH levels of fields ("Query depth exceeds the limit of
 * 64.") and HFS_GQL_MAX_EXPANDED fields ("Query size exceeds the limit of
 * 200000 fields.") per operation once fragments are expanded. Checks no
 * types, arguments or directives (the executor knows the schema). Returns
 * 0 or HF_EINVAL with the first problem, located, in `err` (HF_ENOMEM).
 */
int hfs_gql_validate(const hfs_gql_doc *doc, hf_error *err);

/*
 * Pick the operation to run: the one named `name`, or with `name` NULL or
 * "" the only one. Errors (HF_EINVAL): "Must provide operation name if
 * query contains multiple operations.", "Unknown operation named 'X'.",
 * "Must provide an operation." *out is borrowed from `doc`.
 */
int hfs_gql_operation_find(const struct hfs_gql_operation **out,
                           const hfs_gql_doc *doc, const char *name,
                           hf_error *err);

/*
 * Coerce the request's `variables` (a JSON object, JSON null or NULL)
 * against the operation's variable definitions. *out is a new object
 * (caller json_decref()s) holding every variable that was provided, or
 * that has a default value; a variable with neither is absent from it.
 * Names not declared by the operation are dropped. A nullable list type
 * given a single value gets it wrapped in a list, as the spec says.
 * Built-in scalars (String, ID, Int, Float, Boolean) are type-checked;
 * other types are passed through for the executor to judge. Errors
 * (HF_EINVAL, at the variable definition):
 * "Variable '$x' of required type 'String!' was not provided.",
 * "Variable '$x' of non-null type 'String!' must not be null.",
 * "Variable '$x' got invalid value 5; String cannot represent a non string
 * value: 5". HF_ENOMEM.
 */
int hfs_gql_vars_coerce(json_t **out, const struct hfs_gql_operation *op,
                        const json_t *variables, hf_error *err);

/*
 * Turn a value into JSON, looking variables up in `vars` (the object from
 * hfs_gql_vars_coerce(), or NULL for none). A variable missing from `vars`
 * is JSON null, except as an object field, which is then left out (the
 * spec's "absent"). Int is a JSON integer when it fits a json_int_t, else
 * a real; Float a real; enum values are strings. *out is a new reference
 * owned by the caller. Returns 0 or HF_ENOMEM.
 */
int hfs_gql_value_json(json_t **out, const struct hfs_gql_value *v,
                       const json_t *vars, hf_error *err);

/* Borrowed: argument `name` of a field or directive list, or NULL. */
const struct hfs_gql_arg *hfs_gql_arg_find(const struct hfs_gql_arg *args,
                                           const char *name);
/*
 * The JSON value of argument `name` of `field`, or *out NULL when the
 * argument is absent or is a variable missing from `vars` (absent per the
 * spec). Caller owns *out. Returns 0 or HF_ENOMEM.
 */
int hfs_gql_arg_json(json_t **out, const struct hfs_gql_selection *field,
                     const char *name, const json_t *vars, hf_error *err);

/*
 * Whether the object type `concrete` satisfies the type condition `cond`
 * (equal names, or `cond` is an interface/union `concrete` belongs to).
 * Supplied by the caller, who knows the schema's generics. Returns 1 or 0.
 */
typedef int (*hfs_gql_type_match_fn)(const char *cond, const char *concrete,
                                     void *payload);

struct hfs_gql_collect_opts {
	const hfs_gql_doc *doc; /* for fragment spreads */
	/* The concrete object type; NULL makes every type condition apply. */
	const char *type_name;
	hfs_gql_type_match_fn match; /* NULL: exact name match only */
	void *payload; /* passed to match */
	const json_t *vars; /* coerced, for @skip/@include; or NULL */
};

/* Fields sharing one response key, in order of first appearance. */
struct hfs_gql_field_group {
	const char *key;
	/* Borrowed from the document; fields[0] gives name and arguments. */
	const struct hfs_gql_selection **fields;
	size_t nfields;
};

/* Result of a collection: owned by the caller, hfs_gql_fields_release(). */
struct hfs_gql_fields {
	struct hfs_gql_field_group *groups;
	size_t count;
	/* private */
	const struct hfs_gql_selection **slots;
	size_t nslots;
};

#define HFS_GQL_FIELDS_INIT      \
	{                        \
		NULL, 0, NULL, 0 \
	}

/*
 * CollectFields (spec 6.3.2) over the selection list `sel` for the type
 * o->type_name: fragment spreads and inline fragments whose type condition
 * matches are expanded (each fragment once per collection), @skip(if:) and
 * @include(if:) are honoured, fields with the same response key are
 * grouped. `out` must be initialised (HFS_GQL_FIELDS_INIT) or released;
 * its previous contents are released first. Returns 0, HF_EINVAL
 * ("Unknown fragment 'X'.") or HF_ENOMEM.
 */
int hfs_gql_collect(struct hfs_gql_fields *out,
                    const struct hfs_gql_collect_opts *o,
                    const struct hfs_gql_selection *sel, hf_error *err);
/*
 * The same over the merged sub-selections of every field in `group` (how
 * a response key that appears twice gets one merged sub-object).
 */
int hfs_gql_collect_group(struct hfs_gql_fields *out,
                          const struct hfs_gql_collect_opts *o,
                          const struct hfs_gql_field_group *group,
                          hf_error *err);
void hfs_gql_fields_release(struct hfs_gql_fields *f); /* NULL-safe */

/* "query", "mutation" or "subscription". */
const char *hfs_gql_op_kind_str(enum hfs_gql_op_kind kind);

#endif
