/*
 * Menu files (hf/menu.h): build CoreMenuItem upserts from `kind: Menu`
 * documents, then send them in order, parents first. Query text is fixed;
 * every value travels in the $data variable.
 */
#include <stdio.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "hf/menu.h"
#include "hf/yjson.h"
#include "hf/yval.h"
#include "hf/banned.h"

#define MENU_KIND    "CoreMenuItem"
#define MENU_GENERIC "CoreMenu"
#define CHILDREN     "children"

struct item {
	json_t *data; /* the UpsertInput, without parent */
	long parent; /* index of the parent item, -1 at the top */
	const hf_yval *node; /* the item's mapping, for positions */
	char pos[128]; /* "1.children.2", as the SDK numbers items */
};

struct hf_menu {
	struct item *items;
	size_t n, cap;
	size_t docs;
	int problems;
	const json_t *schema;
	hf_menu_diag_fn diag;
	void *payload;
};

static const char q_upsert[] =
        "mutation ($data: " MENU_KIND "UpsertInput!) { " MENU_KIND "Upsert("
        "data: $data) { ok object { id } } }";

#define SCHEMA_REQUEST "GET /api/schema/" MENU_KIND

static int bad_schema(hf_error *err, const char *list, size_t i,
                      const char *what)
{
	if (!list)
		return hf_error_set(
		        err, HF_ESERVER,
		        "malformed answer to " SCHEMA_REQUEST ": %s", what);
	return hf_error_set(err, HF_ESERVER,
	                    "malformed answer to " SCHEMA_REQUEST
	                    ": %s[%zu] %s",
	                    list, i, what);
}

/* A boolean member, when present and not null. */
static int bool_or_absent(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return !v || json_is_null(v) || json_is_boolean(v);
}

/* The `key` list of the menu item schema: objects with unique names. */
static int check_schema_list(const json_t *schema, const char *key,
                             hf_error *err)
{
	const json_t *list = json_object_get(schema, key), *e, *other;
	const char *name;
	size_t i, j;

	if (!json_is_array(list))
		return bad_schema(err, NULL, 0,
		                  !strcmp(key, "attributes")
		                          ? "attributes is not a list"
		                          : "relationships is not a list");
	json_array_foreach(list, i, e)
	{
		name = json_string_value(json_object_get(e, "name"));
		if (!json_is_object(e))
			return bad_schema(err, key, i, "is not an object");
		if (!name || !*name)
			return bad_schema(err, key, i, "has no string name");
		if (!bool_or_absent(e, "optional") ||
		    !bool_or_absent(e, "read_only"))
			return bad_schema(
			        err, key, i,
			        "has an optional or read_only that is "
			        "not a boolean");
		for (j = 0; j < i; j++) {
			other = json_array_get(list, j);
			if (!strcmp(name, json_string_value(json_object_get(
			                          other, "name"))))
				return bad_schema(
				        err, key, i,
				        "repeats a name given before");
		}
	}
	return 0;
}

int hf_menu_schema(hf_transport *t, const char *branch, json_t **out,
                   hf_error *err)
{
	struct hf_tx_request rq = HF_TX_REQUEST_INIT;
	int rc;

	*out = NULL;
	rq.kind = HF_TX_GET;
	rq.path = "/api/schema/" MENU_KIND;
	rq.branch = branch;
	rc = hf_transport_call(t, &rq, out, NULL, NULL, err);
	if (rc == 0 && !json_is_object(*out))
		rc = bad_schema(err, NULL, 0, "not a JSON object");
	if (rc == 0)
		rc = check_schema_list(*out, "attributes", err);
	if (rc == 0 && json_object_get(*out, "relationships") &&
	    !json_is_null(json_object_get(*out, "relationships")))
		rc = check_schema_list(*out, "relationships", err);
	if (rc < 0) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

/* ---- problems ---- */

static void problem(hf_menu *mn, const hf_yval *at, const char *pos,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void problem(hf_menu *mn, const hf_yval *at, const char *pos,
                    const char *fmt, ...)
{
	char msg[900];
	hf_error e = HF_ERROR_INIT;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	hf_error_at(&e, HF_EINVAL, at ? hf_yval_file(at) : "",
	            at ? hf_yval_line(at) : 0, at ? hf_yval_col(at) : 0,
	            "%s%s%s", pos && *pos ? pos : "", pos && *pos ? ": " : "",
	            msg);
	mn->problems++;
	if (mn->diag)
		mn->diag(mn->payload, &e);
}

/* ---- the schema ---- */

static const json_t *schema_attr(const json_t *schema, const char *name)
{
	const json_t *a;
	size_t i;

	json_array_foreach(json_object_get(schema, "attributes"), i, a)
	{
		const char *n = json_string_value(json_object_get(a, "name"));

		if (n && !strcmp(n, name))
			return a;
	}
	return NULL;
}

static int schema_rel(const json_t *schema, const char *name)
{
	const json_t *r;
	size_t i;

	json_array_foreach(json_object_get(schema, "relationships"), i, r)
	{
		const char *n = json_string_value(json_object_get(r, "name"));

		if (n && !strcmp(n, name))
			return 1;
	}
	return 0;
}

/* The schema's mandatory attributes the item lacks, each a problem. */
static void check_mandatory(hf_menu *mn, const hf_yval *item, const char *pos)
{
	const json_t *a;
	const char *name;
	size_t i;

	json_array_foreach(json_object_get(mn->schema, "attributes"), i, a)
	{
		name = json_string_value(json_object_get(a, "name"));
		if (!name || json_is_true(json_object_get(a, "optional")) ||
		    json_is_true(json_object_get(a, "read_only")) ||
		    !json_is_null(json_object_get(a, "default_value")) ||
		    hf_yval_get(item, name))
			continue;
		problem(mn, item, pos, "%s is mandatory", name);
	}
}

/* ---- building ---- */

static long add_item(hf_menu *mn, const hf_yval *node, long parent,
                     const char *pos)
{
	struct item *it;
	size_t cap;

	if (mn->n == mn->cap) {
		cap = mn->cap ? mn->cap * 2 : 16;
		it = hf_realloc(mn->items, cap * sizeof(*it));
		if (!it)
			return HF_ENOMEM;
		mn->items = it;
		mn->cap = cap;
	}
	it = &mn->items[mn->n];
	memset(it, 0, sizeof(*it));
	it->data = json_object();
	if (!it->data)
		return HF_ENOMEM;
	it->parent = parent;
	it->node = node;
	snprintf(it->pos, sizeof(it->pos), "%s", pos);
	return (long)mn->n++;
}

static int set_value(json_t *data, const char *name, json_t *v)
{
	json_t *wrap = v ? json_pack("{s:o}", "value", v) : NULL;

	return wrap && json_object_set_new(data, name, wrap) == 0 ? 0
	                                                          : HF_ENOMEM;
}

/* One attribute of an item into its data. */
static int add_attr(hf_menu *mn, struct item *it, const hf_yval *key,
                    const hf_yval *val, const char *pos)
{
	const char *name = hf_yval_text(key, NULL);
	hf_error e = HF_ERROR_INIT;
	json_t *v = NULL;
	int rc;

	if (hf_yval_type(val) == HF_YVAL_NULL) {
		problem(mn, val, pos,
		        "%s must be a string, int, float, bool, list, or dict",
		        name);
		return 0;
	}
	rc = hf_yval_json(&v, val, &e);
	if (rc == HF_ENOMEM)
		return rc;
	if (rc < 0) {
		problem(mn, val, pos, "%s", e.msg);
		return 0;
	}
	return set_value(it->data, name, v);
}

static int build_list(hf_menu *mn, const hf_yval *list, long parent,
                      const char *pos, int nested);
static int build_list_item(hf_menu *mn, const hf_yval *node, long parent,
                           const char *prefix, size_t idx, int nested);

/* `children`: {kind?, data: [...]} or [{kind?, data: {...}}, ...]. */
static int add_children(hf_menu *mn, long self, const hf_yval *val,
                        const char *pos)
{
	const hf_yval *kind = hf_yval_get(val, "kind");
	const char *k = kind ? hf_yval_text(kind, NULL) : NULL;
	char sub[160];
	size_t i;
	int rc;

	snprintf(sub, sizeof(sub), "%s.%s", pos, CHILDREN);
	if (k && strcmp(k, MENU_KIND) && strcmp(k, MENU_GENERIC)) {
		problem(mn, kind, sub,
		        "the children of a menu item are %s, "
		        "not '%s'",
		        MENU_KIND, k);
		return 0;
	}
	if (hf_yval_type(val) == HF_YVAL_MAP &&
	    hf_yval_type(hf_yval_get(val, "data")) == HF_YVAL_SEQ)
		return build_list(mn, hf_yval_get(val, "data"), self, sub, 1);
	if (hf_yval_type(val) != HF_YVAL_SEQ) {
		problem(mn, val, sub,
		        "Relationship %s must be a dict with 'data'", CHILDREN);
		return 0;
	}
	for (i = 0; i < hf_yval_count(val); i++) { /* the list form */
		const hf_yval *e = hf_yval_item(val, i);
		const hf_yval *d = hf_yval_get(e, "data");
		const hf_yval *ek = hf_yval_get(e, "kind");

		k = ek ? hf_yval_text(ek, NULL) : NULL;
		if (k && strcmp(k, MENU_KIND) && strcmp(k, MENU_GENERIC)) {
			problem(mn, ek, sub,
			        "the children of a menu item are "
			        "%s, not '%s'",
			        MENU_KIND, k);
			continue;
		}
		if (hf_yval_type(d) != HF_YVAL_MAP) {
			problem(mn, e, sub,
			        "Invalid structure for a relationship of "
			        "cardinality many, either provide a list of "
			        "dict with data or a list of hfids");
			continue;
		}
		rc = build_list_item(mn, d, self, sub, i, 1);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * The SDK's enrichment (spec/menu.py): a path from the kind, and for a
 * nested item an order by its place in the list.
 */
static int enrich(struct item *it, size_t idx, int nested)
{
	const char *kind = json_string_value(
	        json_object_get(json_object_get(it->data, "kind"), "value"));
	hf_buf path = HF_BUF_INIT;
	int rc = 0;

	if (kind && !json_object_get(it->data, "path")) {
		hf_buf_addf(&path, "/objects/%s", kind);
		rc = hf_buf_failed(&path) ? HF_ENOMEM
		                          : set_value(it->data, "path",
		                                      json_string(path.ptr));
		hf_buf_release(&path);
	}
	if (rc == 0 && nested && !json_object_get(it->data, "order_weight"))
		rc = set_value(it->data, "order_weight",
		               json_integer((json_int_t)(idx + 1) * 1000));
	return rc;
}

/* The HFID [namespace, name], when both are strings. */
static int set_hfid(struct item *it)
{
	const char *ns = json_string_value(json_object_get(
	        json_object_get(it->data, "namespace"), "value"));
	const char *name = json_string_value(
	        json_object_get(json_object_get(it->data, "name"), "value"));
	json_t *h;

	if (!ns || !name)
		return 0;
	h = json_pack("[s,s]", ns, name);
	return h && json_object_set_new(it->data, "hfid", h) == 0 ? 0
	                                                          : HF_ENOMEM;
}

/* One key of an item: an attribute, `children`, or a problem. */
static int item_field(hf_menu *mn, long self, const hf_yval *key,
                      const hf_yval *val, const char *pos)
{
	const char *name = hf_yval_text(key, NULL);

	if (!name || hf_yval_type(key) != HF_YVAL_SCALAR) {
		problem(mn, key, pos, "a key must be a name");
		return 0;
	}
	if (schema_attr(mn->schema, name))
		return add_attr(mn, &mn->items[self], key, val, pos);
	if (!strcmp(name, CHILDREN))
		return add_children(mn, self, val, pos);
	if (schema_rel(mn->schema, name)) {
		problem(mn, key, pos,
		        "%s: only %s (nested items) is supported "
		        "among the relationships of a menu item",
		        name, CHILDREN);
		return 0;
	}
	problem(mn, key, pos,
	        "%s is not a valid attribute or relationship for %s", name,
	        MENU_KIND);
	return 0;
}

static int build_list_item(hf_menu *mn, const hf_yval *node, long parent,
                           const char *prefix, size_t idx, int nested)
{
	char pos[128];
	long self;
	size_t i;
	int rc = 0;

	snprintf(pos, sizeof(pos), "%s%s%zu", prefix, *prefix ? "." : "",
	         idx + 1);
	if (hf_yval_type(node) != HF_YVAL_MAP) {
		problem(mn, node, pos,
		        "a menu item must be a mapping, found %s",
		        hf_yval_describe(node));
		return 0;
	}
	self = add_item(mn, node, parent, pos);
	if (self < 0)
		return (int)self;
	check_mandatory(mn, node, pos);
	for (i = 0; rc == 0 && i < hf_yval_count(node); i++)
		rc = item_field(mn, self, hf_yval_key(node, i),
		                hf_yval_value(node, i), pos);
	if (rc == 0)
		rc = enrich(&mn->items[self], idx, nested);
	if (rc == 0)
		rc = set_hfid(&mn->items[self]);
	return rc;
}

static int build_list(hf_menu *mn, const hf_yval *list, long parent,
                      const char *pos, int nested)
{
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < hf_yval_count(list); i++)
		rc = build_list_item(mn, hf_yval_item(list, i), parent, pos, i,
		                     nested);
	return rc;
}

/* One document: a menu, whose spec.data is a list of items. */
static int build_doc(hf_menu *mn, const hf_mdoc *d)
{
	const hf_yval *root = hf_mdoc_root(d), *spec, *kind, *data;
	const char *k;

	if (hf_mdoc_type(d) == HF_MDOC_INVALID)
		return 0; /* the manifest already said why */
	if (hf_mdoc_type(d) != HF_MDOC_MENU) {
		kind = hf_yval_get(root, "kind");
		problem(mn, kind ? kind : root, NULL,
		        "not a menu file: %s, expected 'kind: Menu'",
		        hf_mdoc_type(d) == HF_MDOC_SCHEMA ? "a schema file"
		                                          : "an object file");
		return 0;
	}
	mn->docs++;
	spec = hf_yval_get(root, "spec");
	if (hf_yval_type(spec) != HF_YVAL_MAP) {
		problem(mn, spec ? spec : root, NULL, "%s",
		        spec ? "spec must be a mapping" : "missing 'spec'");
		return 0;
	}
	kind = hf_yval_get(spec, "kind");
	k = kind ? hf_yval_text(kind, NULL) : NULL;
	if (kind && (!k || strcmp(k, MENU_KIND))) {
		problem(mn, kind, NULL, "spec.kind of a menu must be %s",
		        MENU_KIND);
		return 0;
	}
	data = hf_yval_get(spec, "data");
	if (hf_yval_type(data) != HF_YVAL_SEQ) {
		problem(mn, data ? data : spec, NULL,
		        "spec.data must be a list of menu items%s",
		        data ? "" : " (missing)");
		return 0;
	}
	return build_list(mn, data, -1, "", 0);
}

int hf_menu_build(hf_menu **out, const hf_manifest *m, const json_t *schema,
                  hf_menu_diag_fn diag, void *payload)
{
	hf_menu *mn = hf_calloc(1, sizeof(*mn));
	size_t i;
	int rc = 0;

	*out = mn;
	if (!mn)
		return HF_ENOMEM;
	mn->schema = schema;
	mn->diag = diag;
	mn->payload = payload;
	for (i = 0; rc == 0 && i < hf_manifest_doc_count(m); i++)
		rc = build_doc(mn, hf_manifest_doc_at(m, i));
	return rc < 0 ? rc : mn->problems;
}

void hf_menu_free(hf_menu *mn)
{
	size_t i;

	if (!mn)
		return;
	for (i = 0; i < mn->n; i++)
		json_decref(mn->items[i].data);
	hf_free(mn->items);
	hf_free(mn);
}

size_t hf_menu_count(const hf_menu *mn)
{
	return mn->n;
}

size_t hf_menu_doc_count(const hf_menu *mn)
{
	return mn->docs;
}

/* ---- loading ---- */

/* The failure of item `it`, at its position, with the server's words. */
static int item_failed(const struct item *it, int rc, const json_t *errors,
                       const hf_error *why, hf_error *err)
{
	const char *m = hf_tx_error_message(json_array_get(errors, 0));

	return hf_error_at(err, rc < 0 ? rc : HF_ESERVER,
	                   hf_yval_file(it->node), hf_yval_line(it->node),
	                   hf_yval_col(it->node), "%s: %s", it->pos,
	                   m             ? m
	                   : why->msg[0] ? why->msg
	                                 : "the server did not say ok");
}

/* An upsert's answer says ok and gives the item's id. */
static int upsert_ok(const json_t *data, const json_t *id)
{
	return json_is_true(json_object_get(
	               json_object_get(data, MENU_KIND "Upsert"), "ok")) &&
	       json_is_string(id) && json_string_length(id) > 0;
}

static int load_one(hf_menu *mn, struct item *it, hf_transport *t,
                    const char *branch, json_t **ids, hf_error *err)
{
	struct hf_tx_request rq = HF_TX_REQUEST_INIT;
	json_t *vars, *data = NULL, *errors = NULL, *id;
	hf_error why = HF_ERROR_INIT;
	int rc;

	if (it->parent >= 0 &&
	    json_object_set_new(it->data, "parent",
	                        json_pack("{s:O}", "id", ids[it->parent])) < 0)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	vars = json_pack("{s:O}", "data", it->data);
	if (!vars)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	rq.query = q_upsert;
	rq.variables = vars;
	rq.branch = branch;
	/* an upsert by [namespace, name] repeats safely; no branch named:
	   the server's own default branch, whatever its name */
	rq.flags = HF_TX_RETRY | (branch ? 0 : HF_TX_SERVER_DEFAULT);
	rc = hf_transport_call(t, &rq, &data, &errors, NULL, &why);
	json_decref(vars);
	id = json_object_get(
	        json_object_get(json_object_get(data, MENU_KIND "Upsert"),
	                        "object"),
	        "id");
	if (rc < 0 || json_array_size(errors))
		rc = item_failed(it, rc, errors, &why, err);
	else if (!upsert_ok(data, id))
		rc = hf_error_at(
		        err, HF_ESERVER, hf_yval_file(it->node),
		        hf_yval_line(it->node), hf_yval_col(it->node),
		        "%s: malformed answer to " MENU_KIND "Upsert: "
		        "%s",
		        it->pos,
		        json_is_true(json_object_get(
		                json_object_get(data, MENU_KIND "Upsert"),
		                "ok"))
		                ? "object.id is not a non-empty string"
		                : "ok is not true");
	else
		ids[it - mn->items] = json_incref(id);
	json_decref(data);
	json_decref(errors);
	return rc;
}

int hf_menu_load(hf_menu *mn, hf_transport *t, const char *branch,
                 size_t *loaded, hf_error *err)
{
	json_t **ids = hf_calloc(mn->n + 1, sizeof(*ids));
	size_t i;
	int rc = 0;

	*loaded = 0;
	if (!ids)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	for (i = 0; rc == 0 && i < mn->n; i++) {
		rc = load_one(mn, &mn->items[i], t, branch, ids, err);
		if (rc == 0)
			++*loaded;
	}
	for (i = 0; i < mn->n; i++)
		json_decref(ids[i]);
	hf_free(ids);
	return rc;
}
