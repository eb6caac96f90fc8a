#ifndef HF_VALUE_H
#define HF_VALUE_H

/*
 * Attribute values: checking and normalisation per Infrahub attribute kind.
 *
 * Pure functions, no I/O. Validation uses hf_value_check() to report a bad
 * value with a readable message; the diff uses hf_value_equal() so that a
 * value Infrahub echoes back in its own spelling ("10.0.0.1/32" for
 * "10.0.0.1", "2001:db8::1/128" for "2001:DB8:0:0::1") never shows as a
 * change.
 *
 * Normal forms (what hf_value_check() returns in *out):
 *   Text-like kinds    the string, unchanged (no trimming, no case folding)
 *   Number, Bandwidth  an integer; an integral real (100.0) becomes 100
 *   Boolean, Checkbox  true or false
 *   Dropdown           the choice name, unchanged
 *   IPHost             "address/prefixlen", prefix added when missing
 *                      (/32, /128), a dotted IPv4 netmask or hostmask turned
 *                      into a length, IPv6 in RFC 5952 form (lower case,
 *                      longest run of two or more zero groups as "::", the
 *                      first on a tie). IPv4-mapped IPv6 addresses are
 *                      written in hex ("::ffff:a00:1"), as Python's
 *                      ipaddress module (and hence Infrahub) writes them.
 *   IPNetwork          "network/prefixlen"; host bits set is an error
 *   DateTime           UTC, "YYYY-MM-DDTHH:MM:SSZ", with ".ffffff" (trailing
 *                      zeros trimmed) when there are fractional seconds; a
 *                      date alone means midnight UTC, a time without an
 *                      offset is taken as UTC
 *   MacAddress         the string as given (Infrahub stores it as given);
 *                      its syntax is checked (12 or 16 hex digits with ':',
 *                      '-' or '.' separators) and hf_value_equal() compares
 *                      it case-insensitively
 *   List               an array, unchanged
 *   JSON, Any, other   any JSON value, unchanged
 *
 * JSON null (or a NULL pointer) is accepted by every kind and stays null:
 * whether an attribute may be empty is the schema's business (`optional`),
 * not the value's.
 */

#include <jansson.h>
#include <stdbool.h>

#include "hf/error.h"

enum hf_attr_kind {
	HF_ATTR_OTHER = 0, /* unknown to this version: any JSON, opaque */
	HF_ATTR_TEXT, /* also the SDK fixtures' old "String" */
	HF_ATTR_TEXTAREA,
	HF_ATTR_EMAIL,
	HF_ATTR_URL,
	HF_ATTR_FILE,
	HF_ATTR_COLOR,
	HF_ATTR_PASSWORD,
	HF_ATTR_HASHED_PASSWORD,
	HF_ATTR_ID,
	HF_ATTR_DATETIME,
	HF_ATTR_MAC_ADDRESS,
	HF_ATTR_DROPDOWN,
	HF_ATTR_NUMBER,
	HF_ATTR_BANDWIDTH,
	HF_ATTR_BOOLEAN,
	HF_ATTR_CHECKBOX,
	HF_ATTR_IPHOST,
	HF_ATTR_IPNETWORK,
	HF_ATTR_LIST,
	HF_ATTR_JSON,
	HF_ATTR_ANY,
};

/*
 * The kind for a schema kind name ("Text", "IPHost", ...; "String" is
 * Text). Unknown names, and NULL, give HF_ATTR_OTHER.
 */
enum hf_attr_kind hf_attr_kind_from_name(const char *name);
/* The canonical name, e.g. "MacAddress"; "Other" for HF_ATTR_OTHER. */
const char *hf_attr_kind_name(enum hf_attr_kind kind);
/* Whether the GraphQL value type of the kind is String. */
bool hf_attr_kind_is_string(enum hf_attr_kind kind);

/*
 * Whether values of `kind` are secrets (Password, HashedPassword). They
 * are write-only: set when an object is created, never compared with what
 * Infrahub stores (a hash, for HashedPassword), never shown.
 */
bool hf_attr_kind_is_secret(enum hf_attr_kind kind);

/*
 * A secret travels through the plan wrapped as
 *   {"$sensitive": value, "$salt": "<32 random hex digits>"}
 * so that every consumer of a plan can tell it from an ordinary value: the
 * renderers show HF_SENSITIVE_TEXT instead, apply unwraps it into the
 * mutation. The salt is there because the plan's checksum and id are
 * hashes over its content, secrets included, and both are shown: without
 * it, a shown plan id would let anyone test guesses of a weak password
 * offline. (Why the plan keeps the value at all: hf/diff.h.)
 */
#define HF_SENSITIVE_KEY  "$sensitive"
#define HF_SENSITIVE_SALT "$salt"
#define HF_SENSITIVE_TEXT "(sensitive)"

/*
 * A new wrapper holding (a new reference to) `v` and a fresh salt from
 * the kernel's random source; NULL on OOM or when no randomness can be
 * had.
 */
json_t *hf_value_sensitive(json_t *v);
/*
 * The secret inside a wrapper (borrowed), or NULL when `v` is not one: an
 * object with the key "$sensitive" and no other key but "$salt".
 */
json_t *hf_value_sensitive_get(const json_t *v);

/*
 * What a value is checked against. Every pointer is borrowed for the
 * duration of the call. `name` (the attribute name) and `kind_name` (the
 * schema's spelling of the kind) are only used in messages and may be
 * NULL. A Dropdown with no choices accepts any string (a hand-trimmed
 * schema may leave them out). `enum_values`, when a non-empty array,
 * restricts the value to its members. `min_length`/`max_length` (0: no
 * limit) count Unicode code points of string values, as Infrahub does.
 */
struct hf_value_spec {
	enum hf_attr_kind kind;
	const char *name;
	const char *kind_name;
	const char *const *choices;
	size_t nchoices;
	const json_t *enum_values;
	size_t min_length;
	size_t max_length;
};

#define HF_VALUE_SPEC_INIT                                    \
	{                                                     \
		HF_ATTR_TEXT, NULL, NULL, NULL, 0, NULL, 0, 0 \
	}

/*
 * Check `in` (NULL means JSON null) against `spec`. On success *out is a
 * new reference to the normalised value (it may be `in` itself, with its
 * reference count raised); the caller owns it (json_decref). On failure
 * *out is NULL and `err` holds a message naming the attribute, what was
 * expected and what was found, e.g.
 *   expected an integer for Number attribute 'mtu', found the string
 *   "1500" (write it without quotes)
 * A secret (hf_attr_kind_is_secret()) is checked like text, but the
 * message never quotes it: "expected a string for HashedPassword
 * attribute 'password', found a number (the value is not shown)".
 * Returns 0, HF_EINVAL (bad value) or HF_ENOMEM.
 */
int hf_value_check(json_t **out, const struct hf_value_spec *spec,
                   const json_t *in, hf_error *err);

/*
 * Lenient normalisation for display and comparison: the normal form when
 * `in` is a valid value of `kind`, otherwise a new reference to `in`
 * itself. *out is a new reference (NULL only on HF_ENOMEM). Returns 0 or
 * HF_ENOMEM.
 */
int hf_value_normalise(json_t **out, enum hf_attr_kind kind, const json_t *in);

/*
 * Whether `a` and `b` are the same value of `kind` once both are in normal
 * form: numbers by numeric value (100 == 100.0), IP addresses and networks
 * by family, address and prefix length, DateTime by instant, MacAddress
 * case-insensitively, lists and JSON structurally (json_equal). A value
 * that is not valid for the kind is compared structurally. NULL and JSON
 * null are equal. Allocates nothing; cannot fail.
 */
bool hf_value_equal(enum hf_attr_kind kind, const json_t *a, const json_t *b);

#endif
