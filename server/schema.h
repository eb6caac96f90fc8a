#ifndef HFS_SCHEMA_H
#define HFS_SCHEMA_H

/*
 * Schema processing for the local endpoint: the built-in core kinds plus
 * what users load through POST /api/schema/load, turned into the processed
 * schema Infrahub serves (inheritance, extensions, hierarchy, groups,
 * profiles, templates, HFID derivation), with the REST bodies of
 * GET /api/schema and the attribute value checks mutations need.
 *
 * An hfs_schema is immutable once built and may be shared read-only by any
 * number of threads (never modify the borrowed json_t values either). Loading
 * returns a new schema (copy on write), so readers holding the old one are
 * never disturbed. Every pointer in the structs below is borrowed from the
 * schema and valid until it is freed.
 */
#include <stddef.h>

#include <jansson.h>

#include "hf/error.h"

typedef struct hfs_schema hfs_schema; /* opaque */

enum hfs_kind_type {
	HFS_NODE = 0,
	HFS_GENERIC,
	HFS_PROFILE,
	HFS_TEMPLATE,
};

/* A list of strings (kinds or paths such as "device__name__value"). */
struct hfs_strv {
	const char *const *v;
	size_t n;
};

struct hfs_choice {
	const char *name;
	const char *label; /* never NULL (defaults to the title-cased name) */
	const char *description; /* NULL if none */
	const char *color; /* NULL if none */
};

struct hfs_attr {
	const char *name;
	const char *kind; /* "Text", "Number", ... (see hfs_attr_check) */
	const char *label;
	const char *description; /* NULL if none */
	const char *branch; /* "aware" | "agnostic" | "local" */
	int optional;
	int unique;
	int read_only;
	int inherited;
	json_t *default_value; /* borrowed, NULL if none */
	const struct hfs_choice *choices; /* Dropdown; NULL otherwise */
	size_t nchoices;
	json_t *enum_values; /* borrowed JSON array, or NULL */
	const char *regex; /* NULL if none */
	long min_length; /* -1 when unset */
	long max_length; /* -1 when unset */
	long order_weight;
	/*
	 * Computed attribute (kind Jinja2) made only of plain "{{ path }}"
	 * holes, e.g. "{{ name__value }}-{{ device__name__value }}"; NULL
	 * for ordinary attributes. Computed attributes are read_only.
	 */
	const char *computed_template;
};

struct hfs_rel {
	const char *name;
	const char *peer; /* a kind of the same schema */
	const char *kind; /* Generic|Attribute|Component|Parent|Group|
	                     Hierarchy|Profile|Template */
	const char *identifier; /* never NULL after processing */
	const char *direction; /* bidirectional|outbound|inbound */
	const char *on_delete; /* "no-action" | "cascade" | NULL */
	const char *label;
	const char *description; /* NULL if none */
	const char *branch; /* NULL: follows the node */
	int many; /* cardinality many */
	int optional;
	int read_only;
	int inherited;
	long min_count;
	long max_count; /* 0: unbounded */
	long order_weight;
	const char *hierarchical; /* hierarchy generic for parent/children */
};

struct hfs_kind {
	const char *kind; /* namespace + name */
	const char *namespace;
	const char *name;
	const char *label;
	const char *description; /* NULL if none */
	const char *branch; /* "aware" | "agnostic" | "local" */
	enum hfs_kind_type type;
	int is_generic; /* type == HFS_GENERIC */
	int is_profile; /* type == HFS_PROFILE */
	int is_template; /* type == HFS_TEMPLATE */
	int hierarchical; /* generic declared hierarchical: true */
	int generate_profile; /* Profile<Kind> exists */
	int generate_template; /* Template<Kind> exists */

	/* In declaration order (inherited ones after the node's own). */
	const struct hfs_attr *attrs;
	size_t nattrs;
	const struct hfs_rel *rels;
	size_t nrels;

	struct hfs_strv hfid; /* n == 0: the kind has no HFID */
	const char *default_filter; /* e.g. "name__value", or NULL */
	const struct hfs_strv *uniq; /* uniqueness constraints */
	size_t nuniq;
	struct hfs_strv inherit_from; /* nodes: the generics, in order */
	struct hfs_strv used_by; /* generics: inheriting node kinds */
	struct hfs_strv display_labels;
	/* "name__value" or a "{{ a__value }} ..." template, or NULL */
	const char *display_label;
	struct hfs_strv order_by;
	const char *hierarchy; /* node: its hierarchical generic, or NULL */
	const char *parent_kind; /* allowed parent kind, or NULL */
	const char *child_kind; /* allowed children kind, or NULL */
	const char *profile_kind; /* "Profile<Kind>" or NULL */
	const char *template_kind; /* "Template<Kind>" or NULL */
	const char *hash; /* 32 hex characters */

	const void *priv; /* internal lookup tables; do not touch */
};

/*
 * Build a schema: the built-in core kinds plus the user material saved by
 * hfs_schema_persist() (NULL for core only). On success *out is owned by
 * the caller (free with hfs_schema_free()); on failure *out is NULL.
 * Returns 0, HF_ENOMEM, or HF_EINVAL when `persisted` is not valid.
 */
int hfs_schema_new(hfs_schema **out, const char *persisted, hf_error *err);

void hfs_schema_free(hfs_schema *s); /* NULL-safe */

/*
 * Load schema files on top of `base`, as POST /api/schema/load does.
 * `request` is the decoded body {"schemas": [...]} (borrowed). Always
 * sets *http_status and *response (a new reference the caller decrefs):
 * 200 with {hash, previous_hash, diff, schema_updated}, or 422 with a
 * FastAPI {"detail": [...]} body (shape problems) or
 * {"data": null, "errors": [{message, extensions: {code: 422}}]}
 * (semantic problems). On 200, *out is a new schema owned by the caller
 * (even when nothing changed); otherwise *out is NULL. `base` is not
 * modified. When `dry_run` is set (POST /api/schema/check), *out stays
 * NULL and the 200 becomes 202 with {"diff": ...}.
 * Returns 0 when a response was produced (whatever its status), or
 * HF_ENOMEM (then *response is NULL and *http_status 500).
 */
int hfs_schema_load(hfs_schema **out, const hfs_schema *base, json_t *request,
                    int dry_run, json_t **response, int *http_status,
                    hf_error *err);

/*
 * The user material as compact JSON text, to store in SQLite; caller
 * frees with hf_free(). hfs_schema_new() on it rebuilds the same schema
 * with the same hash. NULL on OOM.
 */
char *hfs_schema_persist(const hfs_schema *s);

/* "main" hash over every kind: 32 hex characters. Borrowed. */
const char *hfs_schema_hash(const hfs_schema *s);

/*
 * Lookup of a node, generic, profile or template kind; O(log n). NULL
 * when unknown. Borrowed.
 */
const struct hfs_kind *hfs_schema_kind(const hfs_schema *s, const char *kind);

/* Iterate every kind, sorted by kind name. */
size_t hfs_schema_count(const hfs_schema *s);
const struct hfs_kind *hfs_schema_at(const hfs_schema *s, size_t i);

/*
 * Whether an object of `kind` answers to `type`: the same kind, a generic
 * it inherits from, or CoreProfile for a profile kind, CoreObjectTemplate
 * (and CoreNode) for templates. Used for fragments and generic queries.
 */
int hfs_schema_is_a(const hfs_schema *s, const char *kind, const char *type);

/* Attribute and relationship lookup by name; O(log n). NULL if none. */
const struct hfs_attr *hfs_kind_attr(const struct hfs_kind *k,
                                     const char *name);
const struct hfs_rel *hfs_kind_rel(const struct hfs_kind *k, const char *name);

/*
 * The relationship on the other side of `r` (declared on kind `kind`):
 * the one on r->peer with the same identifier (for parent/children, the
 * opposite direction). NULL when the peer does not declare one (the
 * relationship is one-sided, or declared only on the peer's concrete
 * nodes). Borrowed.
 */
const struct hfs_rel *hfs_rel_reverse(const hfs_schema *s, const char *kind,
                                      const struct hfs_rel *r);

/*
 * REST bodies (new references, caller decrefs; NULL on OOM or, for
 * hfs_schema_api_kind, unknown kind):
 *  - GET /api/schema: {main, nodes, generics, profiles, templates,
 *    namespaces}; the `n` names in `namespaces` (n == 0: all) restrict
 *    the kinds listed (?namespaces=). Kinds are sorted by kind name.
 *  - GET /api/schema/{kind}: one element of nodes/generics/profiles.
 *  - GET /api/schema/summary: {main, nodes:{kind:hash}, generics:{...}}.
 */
json_t *hfs_schema_api(const hfs_schema *s, const char *const *namespaces,
                       size_t n);
json_t *hfs_schema_api_kind(const hfs_schema *s, const char *kind);
json_t *hfs_schema_summary(const hfs_schema *s);

/*
 * Check a mutation value for attribute `a` (JSON null is accepted for
 * optional attributes and left to the caller otherwise). On success
 * *normalised is a new reference to the value to store (e.g. "10.0.0.1"
 * -> "10.0.0.1/32" for IPHost, compressed IPv6); on failure it is NULL,
 * `err` holds Infrahub's message ("<value> is not a valid <Kind> at
 * <attr>", ...) and HF_EINVAL is returned. HF_ENOMEM on OOM.
 * Per kind: Text/TextArea strings with regex (Python syntax; patterns
 * POSIX cannot run, e.g. look-arounds, are not enforced), min/max_length
 * and enum; Number/Bandwidth integers (an integral JSON real becomes an
 * integer, strings are refused); Boolean/Checkbox booleans; Dropdown a
 * choice name; IPHost/IPNetwork (v4/v6, networks without host bits);
 * List arrays; JSON/Any anything; DateTime ISO 8601; Email, URL,
 * MacAddress, Color basic syntax; ID, File, Password, HashedPassword any
 * string. Unknown kinds (newer servers') accept anything.
 */
int hfs_attr_check(const struct hfs_attr *a, json_t *value, json_t **normalised,
                   hf_error *err);

#endif
