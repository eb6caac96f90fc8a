/*
 * POST /api/schema/load: request validation (FastAPI/pydantic-shaped 422
 * for shape problems, Infrahub's {"data":null,"errors":[...]} 422 for
 * semantic ones), merging the files into the user material, rebuilding,
 * and the diff against the previous schema.
 *
 * Loading is additive, as in Infrahub's SchemaBranch.load_schema(): kinds
 * not in the request are kept; a kind sent again is merged into its
 * previous definition (keys given replace, attributes and relationships
 * merge by name), so an attribute disappears only with `state: absent`;
 * a whole kind goes away with `state: absent` on the node or generic.
 * Unknown optional keys are ignored, except at the top level of a file,
 * which accepts only version, generics, nodes and extensions.
 */
#include <string.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "schema_int.h"

#include "hf/banned.h"

/* ---- pydantic-style errors ---- */

struct shape {
	json_t *detail;
	json_t *loc;
	int oom;
};

static void push(struct shape *sh, json_t *key)
{
	if (json_array_append_new(sh->loc, key) < 0)
		sh->oom = 1;
}

static void pop(struct shape *sh)
{
	json_array_remove(sh->loc, json_array_size(sh->loc) - 1);
}

static void fail(struct shape *sh, const char *type, const char *msg,
                 json_t *input, json_t *ctx)
{
	hf_buf url = HF_BUF_INIT;
	json_t *e;

	hf_buf_addf(&url, "https://errors.pydantic.dev/2.7/v/%s", type);
	e = json_pack("{s:s,s:o,s:s,s:O?,s:o*,s:s}", "type", type, "loc",
	              json_deep_copy(sh->loc), "msg", msg, "input", input,
	              "ctx", ctx, "url", url.ptr);
	if (e && hf_buf_failed(&url)) {
		json_decref(e);
		e = NULL;
	}
	if (!e || json_array_append_new(sh->detail, e) < 0)
		sh->oom = 1;
	hf_buf_release(&url);
}

static void fail_key(struct shape *sh, const char *key, const char *type,
                     const char *msg, json_t *input, json_t *ctx)
{
	push(sh, json_string(key));
	fail(sh, type, msg, input, ctx);
	pop(sh);
}

/* ---- scalar checks ---- */

static int pat_ns(const char *s)
{
	if (!(*s >= 'A' && *s <= 'Z') || !s[1])
		return 0;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

static int pat_name(const char *s)
{
	if (!(*s >= 'A' && *s <= 'Z') || !s[1])
		return 0;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

/* ^[a-z0-9\_]*$ (Infrahub's NAME_REGEX_OR_EMPTY) */
static int pat_lower0(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '_'))
			return 0;
	return 1;
}

static int pat_lower(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '_'))
			return 0;
	return 1;
}

struct strrule {
	const char *key;
	int required;
	size_t min, max; /* max 0: none */
	int (*pat)(const char *);
	const char *pattern;
};

static size_t ulen(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static void check_str(struct shape *sh, json_t *o, const struct strrule *r)
{
	json_t *v = json_object_get(o, r->key);
	const char *s = json_string_value(v);
	char msg[128];

	if (!v || json_is_null(v)) {
		if (r->required)
			fail_key(sh, r->key, "missing", "Field required", o,
			         NULL);
		return;
	}
	if (!s) {
		fail_key(sh, r->key, "string_type",
		         "Input should be a valid string", v, NULL);
	} else if (r->min && ulen(s) < r->min) {
		snprintf(msg, sizeof(msg),
		         "String should have at least %zu character%s", r->min,
		         r->min == 1 ? "" : "s");
		fail_key(sh, r->key, "string_too_short", msg, v,
		         json_pack("{s:I}", "min_length", (json_int_t)r->min));
	} else if (r->max && ulen(s) > r->max) {
		snprintf(msg, sizeof(msg),
		         "String should have at most %zu characters", r->max);
		fail_key(sh, r->key, "string_too_long", msg, v,
		         json_pack("{s:I}", "max_length", (json_int_t)r->max));
	} else if (r->pat && !r->pat(s)) {
		snprintf(msg, sizeof(msg), "String should match pattern '%s'",
		         r->pattern);
		fail_key(sh, r->key, "string_pattern_mismatch", msg, v,
		         json_pack("{s:s}", "pattern", r->pattern));
	}
}

static void check_strs(struct shape *sh, json_t *o, const struct strrule *rules)
{
	for (; rules->key; rules++)
		check_str(sh, o, rules);
}

static void check_enum(struct shape *sh, json_t *o, const char *key,
                       const char *const *allowed)
{
	json_t *v = json_object_get(o, key);
	const char *s = json_string_value(v);
	hf_buf exp = HF_BUF_INIT, msg = HF_BUF_INIT;
	size_t i, n;

	if (!v || json_is_null(v))
		return;
	for (i = 0; s && allowed[i]; i++)
		if (strcmp(allowed[i], s) == 0)
			return;
	for (n = 0; allowed[n]; n++)
		;
	for (i = 0; i < n; i++)
		hf_buf_addf(&exp, "%s'%s'",
		            i == 0 ? "" : (i + 1 == n ? " or " : ", "),
		            allowed[i]);
	hf_buf_addf(&msg, "Input should be %s", exp.ptr);
	fail_key(sh, key, "enum", msg.ptr, v,
	         json_pack("{s:s}", "expected", exp.ptr));
	hf_buf_release(&exp);
	hf_buf_release(&msg);
}

static void check_bools(struct shape *sh, json_t *o, const char *const *keys)
{
	for (; *keys; keys++) {
		json_t *v = json_object_get(o, *keys);

		if (v && !json_is_null(v) && !json_is_boolean(v))
			fail_key(sh, *keys, "bool_type",
			         "Input should be a valid boolean", v, NULL);
	}
}

static void check_ints(struct shape *sh, json_t *o, const char *const *keys)
{
	for (; *keys; keys++) {
		json_t *v = json_object_get(o, *keys);

		if (v && !json_is_null(v) && !json_is_integer(v))
			fail_key(sh, *keys, "int_type",
			         "Input should be a valid integer", v, NULL);
	}
}

/* A list (or absent/null); 1 when there is a list to look into. */
static int check_list(struct shape *sh, json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return 0;
	if (json_is_array(v))
		return 1;
	fail_key(sh, key, "list_type", "Input should be a valid list", v, NULL);
	return 0;
}

static int check_model(struct shape *sh, json_t *v)
{
	if (json_is_object(v))
		return 1;
	fail(sh, "model_attributes_type",
	     "Input should be a valid dictionary or object to extract fields "
	     "from",
	     v, NULL);
	return 0;
}

static void check_str_lists(struct shape *sh, json_t *o,
                            const char *const *keys)
{
	json_t *v;
	size_t i;

	for (; *keys; keys++) {
		if (!check_list(sh, o, *keys))
			continue;
		push(sh, json_string(*keys));
		json_array_foreach(json_object_get(o, *keys), i, v)
		{
			if (json_is_string(v))
				continue;
			push(sh, json_integer((json_int_t)i));
			fail(sh, "string_type",
			     "Input should be a valid string", v, NULL);
			pop(sh);
		}
		pop(sh);
	}
}

/* ---- attributes, relationships, nodes ---- */

static const char *const states[] = { "present", "absent", NULL };
static const char *const branches[] = { "aware", "agnostic", "local", NULL };

static char *kinds_msg(void)
{
	hf_buf b = HF_BUF_INIT;
	size_t i;

	hf_buf_add(&b, "Value error, Only valid Attribute Kind are : [");
	for (i = 0; hfs_attr_kinds[i]; i++)
		hf_buf_addf(&b, "%s'%s'", i ? ", " : "", hfs_attr_kinds[i]);
	hf_buf_add(&b, "] ");
	return hf_buf_detach(&b);
}

/*
 * Lengths and patterns of Infrahub 1.11's schema models (the generated
 * pydantic models; docs reference/schema of 2026-08). Since 1.8 (the docs
 * of 2026-03, checked on 1.9.4 in opsmill/infrahub-skills#48) attribute
 * and relationship names take 3-64 characters, labels 64 and namespaces
 * 3-64; node names stay 2-32, descriptions and deprecation messages 128,
 * relationship identifiers 128. Earlier 1.x releases allowed 32 for
 * names, namespaces and attribute or relationship labels.
 */
#define NAME_MAX_LEN      64
#define LABEL_MAX_LEN     64
#define DESC_MAX_LEN      128
#define IDENT_MAX_LEN     128
#define NODE_NAME_MAX_LEN 32
#define NAMESPACE_MAX_LEN 64

static const char *const displays[] = { "default", "extra", NULL };

static void check_attr(struct shape *sh, json_t *a)
{
	static const struct strrule rules[] = {
		{ "name", 1, 3, NAME_MAX_LEN, pat_lower, "^[a-z0-9\\_]+$" },
		{ "label", 0, 0, LABEL_MAX_LEN, NULL, NULL },
		{ "description", 0, 0, DESC_MAX_LEN, NULL, NULL },
		{ "deprecation", 0, 0, DESC_MAX_LEN, NULL, NULL },
		{ "regex", 0, 0, 0, NULL, NULL },
		{ NULL, 0, 0, 0, NULL, NULL },
	};
	static const char *const bools[] = { "optional", "unique", "read_only",
		                             "ordered", NULL };
	static const char *const ints[] = { "min_length", "max_length",
		                            "order_weight", NULL };
	json_t *kind = json_object_get(a, "kind");

	if (!check_model(sh, a))
		return;
	check_strs(sh, a, rules);
	if (!kind && !json_object_get(a, "state")) {
		fail_key(sh, "kind", "missing", "Field required", a, NULL);
	} else if (kind && (!json_is_string(kind) ||
	                    !hfs_attr_kind_valid(json_string_value(kind)))) {
		char *msg = kinds_msg();

		fail_key(sh, "kind", "value_error", msg ? msg : "", kind,
		         json_pack("{s:{}}", "error"));
		hf_free(msg);
	}
	check_bools(sh, a, bools);
	check_ints(sh, a, ints);
	check_enum(sh, a, "state", states);
	check_enum(sh, a, "branch", branches);
	check_enum(sh, a, "display", displays);
	check_list(sh, a, "choices");
	check_list(sh, a, "enum");
}

static void check_rel(struct shape *sh, json_t *r)
{
	static const struct strrule rules[] = {
		{ "name", 1, 3, NAME_MAX_LEN, pat_lower, "^[a-z0-9\\_]+$" },
		{ "peer", 1, 0, 0, pat_name, "^[A-Z][a-zA-Z0-9]+$" },
		{ "identifier", 0, 0, IDENT_MAX_LEN, pat_lower,
		  "^[a-z0-9\\_]+$" },
		{ "label", 0, 0, LABEL_MAX_LEN, NULL, NULL },
		{ "description", 0, 0, DESC_MAX_LEN, NULL, NULL },
		{ "deprecation", 0, 0, DESC_MAX_LEN, NULL, NULL },
		{ "common_parent", 0, 0, 0, NULL, NULL },
		{ NULL, 0, 0, 0, NULL, NULL },
	};
	static const char *const lists[] = { "common_relatives", NULL };
	static const char *const kinds[] = {
		"Generic",   "Attribute", "Component", "Parent", "Group",
		"Hierarchy", "Profile",   "Template",  NULL
	};
	static const char *const cards[] = { "one", "many", NULL };
	static const char *const dirs[] = { "bidirectional", "outbound",
		                            "inbound", NULL };
	static const char *const deletes[] = { "no-action", "cascade", NULL };
	static const char *const bools[] = { "optional", "read_only", NULL };
	static const char *const ints[] = { "min_count", "max_count",
		                            "order_weight", NULL };
	struct strrule peer_optional[2] = { rules[1],
		                            { NULL, 0, 0, 0, NULL, NULL } };

	if (!check_model(sh, r))
		return;
	check_str(sh, r, &rules[0]);
	peer_optional[0].required = !json_object_get(r, "state");
	check_strs(sh, r, peer_optional);
	check_strs(sh, r, &rules[2]);
	check_enum(sh, r, "kind", kinds);
	check_enum(sh, r, "cardinality", cards);
	check_enum(sh, r, "direction", dirs);
	check_enum(sh, r, "on_delete", deletes);
	check_enum(sh, r, "state", states);
	check_enum(sh, r, "branch", branches);
	check_enum(sh, r, "display", displays);
	check_bools(sh, r, bools);
	check_ints(sh, r, ints);
	check_str_lists(sh, r, lists);
}

static void check_members(struct shape *sh, json_t *o)
{
	json_t *v;
	size_t i;

	if (check_list(sh, o, "attributes")) {
		push(sh, json_string("attributes"));
		json_array_foreach(json_object_get(o, "attributes"), i, v)
		{
			push(sh, json_integer((json_int_t)i));
			check_attr(sh, v);
			pop(sh);
		}
		pop(sh);
	}
	if (check_list(sh, o, "relationships")) {
		push(sh, json_string("relationships"));
		json_array_foreach(json_object_get(o, "relationships"), i, v)
		{
			push(sh, json_integer((json_int_t)i));
			check_rel(sh, v);
			pop(sh);
		}
		pop(sh);
	}
}

static void check_node(struct shape *sh, json_t *n)
{
	static const struct strrule rules[] = {
		{ "name", 1, 2, NODE_NAME_MAX_LEN, pat_name,
		  "^[A-Z][a-zA-Z0-9]+$" },
		{ "namespace", 1, 3, NAMESPACE_MAX_LEN, pat_ns,
		  "^[A-Z][a-z0-9]+$" },
		{ "label", 0, 0, LABEL_MAX_LEN, NULL, NULL },
		{ "description", 0, 0, DESC_MAX_LEN, NULL, NULL },
		{ "default_filter", 0, 0, 0, pat_lower0, "^[a-z0-9\\_]*$" },
		{ "icon", 0, 0, 0, NULL, NULL },
		{ "menu_placement", 0, 0, 0, NULL, NULL },
		{ "parent", 0, 0, 0, NULL, NULL },
		{ "children", 0, 0, 0, NULL, NULL },
		{ "hierarchy", 0, 0, 0, NULL, NULL },
		{ NULL, 0, 0, 0, NULL, NULL },
	};
	static const char *const bools[] = { "include_in_menu",
		                             "generate_profile",
		                             "generate_template",
		                             "hierarchical", NULL };
	static const char *const lists[] = {
		"inherit_from",   "human_friendly_id",     "order_by",
		"display_labels", "restricted_namespaces", NULL
	};

	if (!check_model(sh, n))
		return;
	check_strs(sh, n, rules);
	check_bools(sh, n, bools);
	check_enum(sh, n, "state", states);
	check_enum(sh, n, "branch", branches);
	check_str_lists(sh, n, lists);
	check_list(sh, n, "uniqueness_constraints");
	check_members(sh, n);
}

static void check_items(struct shape *sh, json_t *root, const char *key,
                        void (*fn)(struct shape *, json_t *))
{
	json_t *v;
	size_t i;

	if (!check_list(sh, root, key))
		return;
	push(sh, json_string(key));
	json_array_foreach(json_object_get(root, key), i, v)
	{
		push(sh, json_integer((json_int_t)i));
		fn(sh, v);
		pop(sh);
	}
	pop(sh);
}

static void check_ext_node(struct shape *sh, json_t *e)
{
	static const struct strrule rules[] = {
		{ "kind", 1, 2, NODE_NAME_MAX_LEN, pat_name,
		  "^[A-Z][a-zA-Z0-9]+$" },
		{ NULL, 0, 0, 0, NULL, NULL },
	};

	if (!check_model(sh, e))
		return;
	check_strs(sh, e, rules);
	check_members(sh, e);
}

static void check_root(struct shape *sh, json_t *root)
{
	static const char *const allowed[] = { "version", "generics", "nodes",
		                               "extensions", NULL };
	json_t *v, *ext;
	const char *key;
	size_t i;

	if (!check_model(sh, root))
		return;
	json_object_foreach(root, key, v)
	{
		for (i = 0; allowed[i] && strcmp(allowed[i], key) != 0; i++)
			;
		if (!allowed[i])
			fail_key(sh, key, "extra_forbidden",
			         "Extra inputs are not permitted", v, NULL);
	}
	v = json_object_get(root, "version");
	if (!v)
		fail_key(sh, "version", "missing", "Field required", root,
		         NULL);
	else if (!json_is_string(v))
		fail_key(sh, "version", "string_type",
		         "Input should be a valid string", v, NULL);
	check_items(sh, root, "generics", check_node);
	check_items(sh, root, "nodes", check_node);
	ext = json_object_get(root, "extensions");
	if (ext && !json_is_null(ext)) {
		push(sh, json_string("extensions"));
		if (check_model(sh, ext))
			check_items(sh, ext, "nodes", check_ext_node);
		pop(sh);
	}
}

static json_t *check_request(json_t *req, int *oom)
{
	struct shape sh = { json_array(), json_pack("[s]", "body"), 0 };
	json_t *schemas = json_object_get(req, "schemas"), *v;
	size_t i;

	if (!sh.detail || !sh.loc)
		sh.oom = 1;
	else if (!json_is_object(req))
		fail(&sh, "model_attributes_type",
		     "Input should be a valid dictionary or object to extract "
		     "fields from",
		     req, NULL);
	else if (!schemas)
		fail_key(&sh, "schemas", "missing", "Field required", req,
		         NULL);
	else if (check_list(&sh, req, "schemas")) {
		push(&sh, json_string("schemas"));
		json_array_foreach(schemas, i, v)
		{
			push(&sh, json_integer((json_int_t)i));
			check_root(&sh, v);
			pop(&sh);
		}
	}
	json_decref(sh.loc);
	*oom = sh.oom;
	return sh.detail;
}

/* ---- semantic errors and merging ---- */

static json_t *semantic(const char *msg)
{
	return json_pack("{s:n,s:[{s:s,s:{s:i}}]}", "data", "errors", "message",
	                 msg, "extensions", "code", 422);
}

static int check_restricted(json_t *req, hf_error *err)
{
	static const char *const keys[] = { "nodes", "generics" };
	json_t *root, *n;
	size_t i, j, k;

	json_array_foreach(json_object_get(req, "schemas"), i, root)
	{
		for (k = 0; k < 2; k++) {
			json_array_foreach(hfs_jarr(root, keys[k]), j, n)
			{
				const char *ns = hfs_jstr(n, "namespace");

				if (ns && hfs_namespace_restricted(ns))
					return hf_error_set(
					        err, HF_EINVAL,
					        "Restricted namespace '%s' "
					        "used on '%s'",
					        ns, hfs_jstr(n, "name"));
			}
		}
	}
	return 0;
}

/*
 * A kind defined twice in one load (twice as a node, as a node and a
 * generic, in one file or two) is refused instead of silently merged:
 * which definition wins would depend on the order of the files.
 */
static int check_duplicates(json_t *req, hf_error *err)
{
	static const char *const keys[] = { "generics", "nodes" };
	json_t *seen = json_object(), *root, *n;
	hf_buf kind = HF_BUF_INIT, where = HF_BUF_INIT;
	size_t i, j, k;
	int rc = seen ? 0 : HF_ENOMEM;

	json_array_foreach(json_object_get(req, "schemas"), i, root)
	{
		for (k = 0; rc == 0 && k < 2; k++) {
			json_array_foreach(hfs_jarr(root, keys[k]), j, n)
			{
				json_t *prev;

				hf_buf_reset(&kind);
				hf_buf_reset(&where);
				hf_buf_addf(&kind, "%s%s",
				            hfs_jstr(n, "namespace"),
				            hfs_jstr(n, "name"));
				hf_buf_addf(&where, "schemas[%zu].%s[%zu]", i,
				            keys[k], j);
				if (hf_buf_failed(&kind) ||
				    hf_buf_failed(&where)) {
					rc = HF_ENOMEM;
					break;
				}
				prev = json_object_get(seen, kind.ptr);
				if (prev) {
					rc = hf_error_set(
					        err, HF_EINVAL,
					        "%s is defined more than once in "
					        "this load (%s and %s)",
					        kind.ptr,
					        json_string_value(prev),
					        where.ptr);
					break;
				}
				if (json_object_set_new(
				            seen, kind.ptr,
				            json_string(where.ptr)) < 0) {
					rc = HF_ENOMEM;
					break;
				}
			}
		}
		if (rc < 0)
			break;
	}
	hf_buf_release(&kind);
	hf_buf_release(&where);
	json_decref(seen);
	return rc == HF_ENOMEM ? hf_error_set(err, rc, "out of memory") : rc;
}

/*
 * Generics naming each other in inherit_from, directly or through a
 * chain, would make inheritance endless: refused, naming the cycle.
 * Colours in `state`: absent = unvisited, 1 = on the path, 2 = done.
 */
static int cycle_visit(json_t *generics, json_t *state, const char *kind,
                       hf_buf *path, size_t depth, hf_error *err)
{
	json_t *mark = json_object_get(state, kind), *g, *parent;
	size_t i, mark_len = path->len;
	int rc = 0;

	if (mark && json_integer_value(mark) == 2)
		return 0;
	hf_buf_addf(path, "%s%s", depth ? " -> " : "", kind);
	if (mark)
		return hf_error_set(err, HF_EINVAL,
		                    "Cyclic inheritance between generics: %s",
		                    path->ptr);
	if (depth > 1000)
		return hf_error_set(
		        err, HF_EINVAL,
		        "Inheritance of %s is more than 1000 generics "
		        "deep",
		        kind);
	if (hf_buf_failed(path) ||
	    json_object_set_new(state, kind, json_integer(1)) < 0)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	g = json_object_get(generics, kind);
	json_array_foreach(hfs_jarr(g, "inherit_from"), i, parent)
	{
		const char *pk = json_string_value(parent);

		if (rc == 0 && pk && json_object_get(generics, pk))
			rc = cycle_visit(generics, state, pk, path, depth + 1,
			                 err);
	}
	hf_buf_setlen(path, mark_len);
	if (rc == 0 && json_object_set_new(state, kind, json_integer(2)) < 0)
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	return rc;
}

static int check_cycles(json_t *src, hf_error *err)
{
	json_t *generics = json_object_get(src, "generics"), *state, *g;
	hf_buf path = HF_BUF_INIT;
	const char *kind;
	int rc = 0;

	state = json_object();
	if (!state)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	json_object_foreach(generics, kind, g)
	{
		if (rc == 0 && json_is_object(g))
			rc = cycle_visit(generics, state, kind, &path, 0, err);
	}
	hf_buf_release(&path);
	json_decref(state);
	return rc;
}

static int is_absent(json_t *o)
{
	const char *st = hfs_jstr(o, "state");

	return st && strcmp(st, "absent") == 0;
}

static int merge_kind(json_t *src, json_t *def, const char *key, hf_error *err)
{
	json_t *defs = json_object_get(src, key), *have;
	hf_buf kind = HF_BUF_INIT;
	int rc = 0;

	hf_buf_addf(&kind, "%s%s", hfs_jstr(def, "namespace"),
	            hfs_jstr(def, "name"));
	if (hf_buf_failed(&kind))
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	have = json_object_get(defs, kind.ptr);
	if (is_absent(def)) {
		if (!have)
			rc = hf_error_set(err, HF_EINVAL,
			                  "Unable to find the schema '%s' in "
			                  "the registry",
			                  kind.ptr);
		json_object_del(defs, kind.ptr);
		json_object_del(json_object_get(src, "extensions"), kind.ptr);
	} else if (have) {
		rc = hfs_def_merge(have, def);
	} else {
		rc = json_object_set_new(defs, kind.ptr, json_deep_copy(def))
		             ? HF_ENOMEM
		             : 0;
	}
	hf_buf_release(&kind);
	if (rc == HF_ENOMEM)
		hf_error_set(err, rc, "out of memory");
	return rc;
}

static int merge_ext(json_t *src, json_t *e, hf_error *err)
{
	json_t *exts = json_object_get(src, "extensions"), *have, *add;
	const char *kind = hfs_jstr(e, "kind");
	int rc;

	have = json_object_get(exts, kind);
	if (!have) {
		have = json_object();
		if (json_object_set_new(exts, kind, have) < 0)
			return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	add = json_pack("{s:O*,s:O*}", "attributes", hfs_jarr(e, "attributes"),
	                "relationships", hfs_jarr(e, "relationships"));
	rc = add ? hfs_def_merge(have, add) : HF_ENOMEM;
	json_decref(add);
	return rc < 0 ? hf_error_set(err, HF_ENOMEM, "out of memory") : 0;
}

static int merge_request(json_t *src, json_t *req, hf_error *err)
{
	json_t *root, *n;
	size_t i, j;
	int rc = 0;

	json_array_foreach(json_object_get(req, "schemas"), i, root)
	{
		json_array_foreach(hfs_jarr(root, "generics"), j,
		                   n) if (rc == 0) rc =
		        merge_kind(src, n, "generics", err);
		json_array_foreach(hfs_jarr(root, "nodes"), j, n) if (rc == 0)
		        rc = merge_kind(src, n, "nodes", err);
		json_array_foreach(
		        hfs_jarr(json_object_get(root, "extensions"), "nodes"),
		        j, n) if (rc == 0) rc = merge_ext(src, n, err);
	}
	return rc;
}

/* ---- diff ---- */

static json_t *empty_diff(void)
{
	return json_pack("{s:{},s:{},s:{}}", "added", "changed", "removed");
}

static int item_diff(json_t *changed, json_t *a, json_t *b)
{
	json_t *d = empty_diff(), *v;
	const char *key;

	if (!d)
		return HF_ENOMEM;
	json_object_foreach(b, key, v)
	{
		if (strcmp(key, "id") == 0 || strcmp(key, "filters") == 0)
			continue;
		if (!json_equal(v, json_object_get(a, key)))
			json_object_set_new(json_object_get(d, "changed"), key,
			                    json_null());
	}
	return json_object_set_new(changed, hfs_jstr(b, "name"), d) ? HF_ENOMEM
	                                                            : 0;
}

static json_t *list_diff(json_t *old, json_t *new)
{
	json_t *d = empty_diff(), *v, *o;
	size_t i;
	int bad = !d;

	json_array_foreach(new, i, v)
	{
		o = hfs_named(old, hfs_jstr(v, "name"));
		if (!o)
			bad |= json_object_set_new(json_object_get(d, "added"),
			                           hfs_jstr(v, "name"),
			                           json_null());
		else if (!json_equal(o, v))
			bad |= item_diff(json_object_get(d, "changed"), o, v);
	}
	json_array_foreach(old, i, o) if (!hfs_named(new, hfs_jstr(o, "name")))
	        bad |= json_object_set_new(json_object_get(d, "removed"),
	                                   hfs_jstr(o, "name"), json_null());
	if (bad) {
		json_decref(d);
		return NULL;
	}
	return d;
}

static json_t *elem_diff(json_t *old, json_t *new)
{
	json_t *d = empty_diff(), *v, *ch;
	const char *key;
	int bad = !d;

	json_object_foreach(new, key, v)
	{
		json_t *ov = json_object_get(old, key);

		/* used_by follows other kinds' changes; Infrahub leaves it out.
		 */
		if (strcmp(key, "hash") == 0 || strcmp(key, "id") == 0 ||
		    strcmp(key, "used_by") == 0 || json_equal(v, ov))
			continue;
		ch = strcmp(key, "attributes") == 0 ||
		                     strcmp(key, "relationships") == 0
		             ? list_diff(ov, v)
		             : json_null();
		bad |= json_object_set_new(json_object_get(d, "changed"), key,
		                           ch);
	}
	if (bad) {
		json_decref(d);
		return NULL;
	}
	return d;
}

static int add_changed(json_t *diff, const char *key, json_t *d)
{
	if (!d)
		return HF_ENOMEM;
	if (!json_object_size(json_object_get(d, "changed"))) {
		json_decref(d);
		return 0;
	}
	return json_object_set_new(json_object_get(diff, "changed"), key, d)
	               ? HF_ENOMEM
	               : 0;
}

static int diff_type(json_t *diff, json_t *old, json_t *new)
{
	json_t *v, *o;
	const char *key;
	int bad = 0;

	json_object_foreach(new, key, v)
	{
		o = json_object_get(old, key);
		if (!o)
			bad |= json_object_set_new(
			        json_object_get(diff, "added"), key,
			        empty_diff());
		else if (!json_equal(json_object_get(o, "hash"),
		                     json_object_get(v, "hash")))
			bad |= add_changed(diff, key, elem_diff(o, v));
	}
	json_object_foreach(old, key, o) if (!json_object_get(new, key)) bad |=
	        json_object_set_new(json_object_get(diff, "removed"), key,
	                            empty_diff());
	return bad ? HF_ENOMEM : 0;
}

static json_t *schema_diff(const hfs_schema *old, const hfs_schema *new)
{
	static const char *const types[] = { "nodes", "generics" };
	json_t *d = empty_diff();
	size_t t;

	for (t = 0; d && t < 2; t++) {
		if (diff_type(d,
		              json_object_get(hfs_schema_built(old), types[t]),
		              json_object_get(hfs_schema_built(new),
		                              types[t])) < 0) {
			json_decref(d);
			return NULL;
		}
	}
	return d;
}

/* ---- the endpoint ---- */

static int respond(json_t **response, int *status, json_t *body, int code,
                   hf_error *err)
{
	*response = body;
	*status = body ? code : 500;
	return body ? 0 : hf_error_set(err, HF_ENOMEM, "out of memory");
}

static int loaded(hfs_schema **out, const hfs_schema *base, hfs_schema *s,
                  int dry_run, json_t **response, int *status, hf_error *err)
{
	json_t *diff = schema_diff(base, s), *body;
	const char *h = hfs_schema_hash(s), *ph = hfs_schema_hash(base);

	if (dry_run) {
		hfs_schema_free(s);
		body = diff ? json_pack("{s:o}", "diff", diff) : NULL;
		return respond(response, status, body, 202, err);
	}
	body = diff ? json_pack("{s:s,s:s,s:o,s:b}", "hash", h, "previous_hash",
	                        ph, "diff", diff, "schema_updated",
	                        strcmp(h, ph) != 0)
	            : NULL;
	if (!body) {
		hfs_schema_free(s);
		return respond(response, status, NULL, 0, err);
	}
	*out = s;
	return respond(response, status, body, 200, err);
}

int hfs_schema_load(hfs_schema **out, const hfs_schema *base, json_t *request,
                    int dry_run, json_t **response, int *http_status,
                    hf_error *err)
{
	json_t *detail, *src = NULL, *built = NULL;
	hfs_schema *s = NULL;
	hf_error e = HF_ERROR_INIT;
	int oom = 0, rc;

	*out = NULL;
	*response = NULL;
	*http_status = 500;
	detail = check_request(request, &oom);
	if (oom || !detail) {
		json_decref(detail);
		return respond(response, http_status, NULL, 0, err);
	}
	if (json_array_size(detail))
		return respond(response, http_status,
		               json_pack("{s:o}", "detail", detail), 422, err);
	json_decref(detail);
	rc = check_restricted(request, &e);
	if (rc == 0)
		rc = check_duplicates(request, &e);
	src = rc == 0 ? json_deep_copy(hfs_schema_src(base)) : NULL;
	if (rc == 0 && !src)
		rc = hf_error_set(&e, HF_ENOMEM, "out of memory");
	if (rc == 0)
		rc = merge_request(src, request, &e);
	if (rc == 0)
		rc = check_cycles(src, &e);
	if (rc == 0)
		rc = hfs_schema_build(&built, src, &e);
	if (rc == HF_ENOMEM) {
		json_decref(src);
		return respond(response, http_status, NULL, 0, err);
	}
	if (rc < 0) {
		json_decref(src);
		hf_error_set(err, rc, "%s", e.msg);
		return respond(response, http_status, semantic(e.msg), 422,
		               err);
	}
	rc = hfs_schema_wrap(&s, src, built, err);
	if (rc < 0)
		return respond(response, http_status, NULL, 0, err);
	return loaded(out, base, s, dry_run, response, http_status, err);
}
