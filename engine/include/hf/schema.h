#ifndef HF_SCHEMA_H
#define HF_SCHEMA_H

/*
 * The Infrahub schema as the client sees it: an immutable model of a
 * `GET /api/schema?branch=` answer ({main, nodes[], generics[], profiles[],
 * templates[], namespaces}), with the lookups validation, the resolver and
 * the diff need. Nothing here does I/O; the caller fetches the answer.
 *
 * The parser is tolerant: keys may be missing (the SDK's test schemas are
 * hand-trimmed), null or unknown. Missing keys take the schema-file
 * defaults: attribute optional/unique/read_only false; relationship
 * cardinality "many", optional true, kind "Generic", direction
 * "bidirectional", and when the identifier is missing, the one Infrahub
 * would derive, lower("__".join(sorted([kind, peer]))). A kind without
 * "kind" is namespace + name. Elements with "state": "absent" are left out.
 * When two elements name the same kind, the later one wins (the SDK keeps
 * a dict keyed by kind).
 *
 * Lifetime: every pointer returned by this module (kinds, attributes,
 * relationships, strings, JSON values) is borrowed from the hf_schema and
 * valid until hf_schema_free(). The model never changes after parsing, so
 * any number of threads may read it at once.
 *
 * Cost: kind lookup is a binary search over the kinds, attribute and
 * relationship lookup a binary search over the kind's fields.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "hf/error.h"
#include "hf/value.h"

typedef struct hf_schema hf_schema; /* opaque */
typedef struct hf_kind hf_kind; /* opaque: one node, generic... */

enum hf_kind_type {
	HF_KIND_NODE,
	HF_KIND_GENERIC,
	HF_KIND_PROFILE,
	HF_KIND_TEMPLATE,
};

enum hf_rel_kind {
	HF_REL_GENERIC,
	HF_REL_ATTRIBUTE,
	HF_REL_COMPONENT,
	HF_REL_PARENT,
	HF_REL_GROUP,
	HF_REL_HIERARCHY,
	HF_REL_PROFILE,
	HF_REL_TEMPLATE,
	HF_REL_OTHER, /* a kind this version does not know */
};

enum hf_rel_cardinality {
	HF_CARDINALITY_MANY,
	HF_CARDINALITY_ONE,
};

enum hf_rel_direction {
	HF_DIRECTION_BIDIRECTIONAL,
	HF_DIRECTION_OUTBOUND,
	HF_DIRECTION_INBOUND,
};

/* A borrowed list of strings; n is 0 (and v may be NULL) when absent. */
struct hf_strv {
	const char *const *v;
	size_t n;
};

/*
 * One attribute. Read-only; borrowed from the schema. Strings the answer
 * leaves out or sets to null are NULL (kind_name is "" then).
 */
struct hf_schema_attr {
	const char *name;
	const char *label;
	const char *kind_name; /* as the answer spells it: "String", ... */
	enum hf_attr_kind kind;
	bool optional;
	bool unique;
	bool read_only;
	bool inherited;
	const json_t *default_value; /* NULL when none (or null) */
	struct hf_strv choices; /* Dropdown choice names */
	const json_t *enum_values; /* non-empty array, or NULL */
	const char *regex;
	size_t min_length; /* 0: none */
	size_t max_length; /* 0: none */
	const char *branch;
	/*
	 * A computed attribute (newer servers: "computed_attribute"): its
	 * kind ("Jinja2", "TransformPython") and, for Jinja2, the template
	 * text, e.g. "AS{{ asn__value }}". NULL when absent.
	 */
	bool computed;
	const char *computed_kind;
	const char *computed_template;
	/* Ready for hf_value_check(): kind, name, choices, enum, lengths. */
	struct hf_value_spec spec;
};

/* One relationship. Read-only; borrowed from the schema. */
struct hf_schema_rel {
	const char *name;
	const char *label;
	const char *peer; /* a kind name; may be absent from the schema */
	const char *identifier;
	const char *kind_name;
	enum hf_rel_kind kind;
	enum hf_rel_cardinality cardinality;
	enum hf_rel_direction direction;
	bool optional;
	bool read_only;
	bool inherited;
	bool identifier_derived; /* the answer had none; we derived it */
	long long min_count;
	long long max_count;
	const char *on_delete; /* "cascade", "no-action" or NULL */
	const char *hierarchical; /* the hierarchy generic, or NULL */
	const char *branch;
};

/*
 * Build the model from a schema answer (borrowed; not kept: values the
 * model needs are copied). On success *out is owned by the caller; free
 * it with hf_schema_free(). On failure *out is NULL and `err` says why.
 * Returns 0, HF_EINVAL (the answer is not a schema: not an object, a
 * section that is not a list, an element with no kind, an attribute or
 * relationship with no name, a relationship with no peer) or HF_ENOMEM.
 */
int hf_schema_parse(hf_schema **out, const json_t *answer, hf_error *err);

/*
 * Keys of a schema answer the parser never reads, at any depth (NULL
 * ends the list): descriptions, each relationship's filter list, menu
 * and display hints. Most of a large answer's bytes are these; an
 * answer without them parses to the same model, so a cache may drop
 * them. A key the parser starts reading must leave this list.
 */
extern const char *const hf_schema_unread_keys[];

/* Drop those keys from `answer` and everything in it, in place. */
void hf_schema_answer_trim(json_t *answer);

void hf_schema_free(hf_schema *s); /* accepts NULL */

/* The schema hash (the answer's "main"), or NULL when absent. */
const char *hf_schema_hash(const hf_schema *s);

/* The kinds, sorted by kind name; i < hf_schema_count(). */
size_t hf_schema_count(const hf_schema *s);
const hf_kind *hf_schema_at(const hf_schema *s, size_t i);

/* The kind named `kind` ("DcimDevice"), or NULL. */
const hf_kind *hf_schema_kind(const hf_schema *s, const char *kind);

/* ----------------------------------------------------- kind properties */

const char *hf_schema_kind_name(const hf_kind *k); /* "DcimDevice" */
const char *hf_schema_kind_namespace(const hf_kind *k); /* or NULL */
const char *hf_schema_kind_short_name(const hf_kind *k); /* or NULL */
const char *hf_schema_kind_label(const hf_kind *k); /* or NULL */
enum hf_kind_type hf_schema_kind_type(const hf_kind *k);
/* The per-kind "hash", or NULL. */
const char *hf_schema_kind_hash(const hf_kind *k);
/* "aware", "agnostic", "local", or NULL. */
const char *hf_schema_kind_branch(const hf_kind *k);
/* "name__value", or NULL. */
const char *hf_schema_kind_default_filter(const hf_kind *k);
/* human_friendly_id paths, e.g. ["device__name__value", "name__value"]. */
struct hf_strv hf_schema_kind_hfid(const hf_kind *k);
struct hf_strv hf_schema_kind_display_labels(const hf_kind *k);
/* The newer singular display_label (a path or a Jinja template), or NULL. */
const char *hf_schema_kind_display_label(const hf_kind *k);
struct hf_strv hf_schema_kind_order_by(const hf_kind *k);
struct hf_strv hf_schema_kind_inherit_from(const hf_kind *k);
/* A generic's used_by exactly as the answer lists it. */
struct hf_strv hf_schema_kind_used_by(const hf_kind *k);
/* uniqueness_constraints: constraint i < count is a list of paths. */
size_t hf_schema_kind_uniqueness_count(const hf_kind *k);
struct hf_strv hf_schema_kind_uniqueness_at(const hf_kind *k, size_t i);
/* Hierarchy: the hierarchy generic, parent and children kinds, or NULL. */
const char *hf_schema_kind_hierarchy(const hf_kind *k);
const char *hf_schema_kind_parent(const hf_kind *k);
const char *hf_schema_kind_children(const hf_kind *k);
/* A generic's "hierarchical" flag. */
bool hf_schema_kind_hierarchical(const hf_kind *k);

/* ----------------------------------------- attributes and relationships */

/* In the answer's order. */
size_t hf_schema_attr_count(const hf_kind *k);
const struct hf_schema_attr *hf_schema_attr_at(const hf_kind *k, size_t i);
size_t hf_schema_rel_count(const hf_kind *k);
const struct hf_schema_rel *hf_schema_rel_at(const hf_kind *k, size_t i);

/* By name, or NULL. */
const struct hf_schema_attr *hf_schema_attr_find(const hf_kind *k,
                                                 const char *name);
const struct hf_schema_rel *hf_schema_rel_find(const hf_kind *k,
                                               const char *name);

/* ---------------------------------------------------------- inheritance */

/*
 * Whether `k` is the kind named `kind` or inherits it: listed in k's
 * inherit_from, or k listed in the generic's used_by. Every node kind is a
 * "CoreNode", Infrahub's root generic, even when the answer leaves that out.
 */
bool hf_schema_is_a(const hf_schema *s, const hf_kind *k, const char *kind);

/*
 * The node kinds that implement the generic `g` (its used_by, together
 * with the nodes whose inherit_from names it), sorted by kind name; only
 * kinds present in the schema. *out is borrowed. Returns the count (0 for
 * a kind that is not a generic).
 */
size_t hf_schema_implementations(const hf_schema *s, const hf_kind *g,
                                 const hf_kind *const **out);

/*
 * The relationship on the other end of `rel` (a relationship of `k`): the
 * peer kind's relationship with the same identifier. When several match,
 * the one whose peer `k` is compatible with (k is-a that peer, or that
 * peer is-a k) wins; then the one with the opposite direction (outbound
 * against inbound, as a hierarchy's parent and children are); then, for a
 * Hierarchy relationship, the one of the other cardinality; then the first
 * in schema order. `rel` itself never matches. NULL when the peer kind is
 * not in the schema or has no such relationship.
 */
const struct hf_schema_rel *
hf_schema_rel_reverse(const hf_schema *s, const hf_kind *k,
                      const struct hf_schema_rel *rel);

/* --------------------------------------------------------------- paths */

/*
 * A schema path, as human_friendly_id, display_labels, order_by,
 * default_filter and uniqueness_constraints write them:
 *   "name__value"          attribute `name`, property `value`
 *   "device__name__value"  relationship `device` (cardinality one), then
 *                          the peer's attribute `name`, property `value`
 *   "device"               a bare relationship (uniqueness constraints
 *                          only; needs HF_PATH_BARE_REL)
 */
struct hf_schema_path {
	const struct hf_schema_rel *rel; /* NULL: the kind's own attribute */
	const hf_kind *peer; /* rel's peer kind, or NULL */
	const struct hf_schema_attr *attr; /* NULL only for a bare rel */
	char property[32]; /* "value", "" for a bare rel */
};

enum hf_schema_path_flags {
	HF_PATH_BARE_REL = 1 << 0, /* accept "rel" alone */
};

/*
 * Parse `path` against kind `k` (peers are looked up in the schema `k`
 * belongs to). The relationship of a three-part path must have cardinality
 * one and a peer kind present in the schema. Returns 0 or
 * HF_EINVAL with a message naming the kind and the path (and a "did you
 * mean" suggestion for an unknown name).
 */
int hf_schema_path_parse(struct hf_schema_path *out, const hf_kind *k,
                         const char *path, unsigned flags, hf_error *err);

/* ---------------------------------------------------------- suggestions */

/*
 * "Did you mean": the attribute or relationship name of `k` closest to
 * `unknown` (case-insensitive Damerau-Levenshtein distance at most
 * max(2, strlen(unknown) / 3)), or NULL. Ties go to the first in sorted
 * order. Borrowed.
 */
const char *hf_schema_suggest(const hf_kind *k, const char *unknown);
/* The same over kind names. */
const char *hf_schema_suggest_kind(const hf_schema *s, const char *unknown);

#endif
