/*
 * SDK-style object loader for tests (see sdkload.h). Follows
 * infrahub_sdk/spec/object.py as described in infrahub-api.md 6.2.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "sdkload.h"
#include "testutil.h"

/* ---- YAML to JSON ----------------------------------------------------- */

struct ystate {
	yaml_parser_t p;
	json_t *anchors; /* name -> value */
};

static json_t *yscalar(const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	char *end;
	long long ll;
	double d;

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return json_stringn(s, n);
	if (!n || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null"))
		return json_null();
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "yes"))
		return json_true();
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "no"))
		return json_false();
	errno = 0;
	ll = strtoll(s, &end, 10);
	if (!*end && !errno && (isdigit((unsigned char)s[0]) || s[0] == '-'))
		return json_integer(ll);
	d = strtod(s, &end);
	if (!*end && strchr(s, '.') && isdigit((unsigned char)s[n - 1]))
		return json_real(d);
	return json_stringn(s, n);
}

static json_t *ynode(struct ystate *y, yaml_event_t *ev);

static void yanchor(struct ystate *y, const unsigned char *a, json_t *v)
{
	if (a && v)
		json_object_set(y->anchors, (const char *)a, v);
}

static json_t *ycollection(struct ystate *y, int is_map)
{
	json_t *c = is_map ? json_object() : json_array();
	yaml_event_t ev;
	json_t *k, *v;

	for (;;) {
		if (!yaml_parser_parse(&y->p, &ev))
			goto fail;
		if (ev.type == YAML_SEQUENCE_END_EVENT ||
		    ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return c;
		}
		k = ynode(y, &ev);
		if (!k)
			goto fail;
		if (!is_map) {
			json_array_append_new(c, k);
			continue;
		}
		if (!yaml_parser_parse(&y->p, &ev)) {
			json_decref(k);
			goto fail;
		}
		v = ynode(y, &ev);
		if (!v || !json_is_string(k)) {
			json_decref(k);
			json_decref(v);
			goto fail;
		}
		json_object_set_new(c, json_string_value(k), v);
		json_decref(k);
	}
fail:
	json_decref(c);
	return NULL;
}

/* Consumes `ev`. */
static json_t *ynode(struct ystate *y, yaml_event_t *ev)
{
	json_t *v = NULL;
	unsigned char *anchor = NULL;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		v = yscalar(ev);
		anchor = ev->data.scalar.anchor;
		break;
	case YAML_ALIAS_EVENT:
		v = json_deep_copy(json_object_get(
		        y->anchors, (const char *)ev->data.alias.anchor));
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		anchor = ev->type == YAML_SEQUENCE_START_EVENT
		                 ? ev->data.sequence_start.anchor
		                 : ev->data.mapping_start.anchor;
		anchor = anchor ? (unsigned char *)hf_strdup((char *)anchor)
		                : NULL;
		v = ycollection(y, ev->type == YAML_MAPPING_START_EVENT);
		yanchor(y, anchor, v);
		hf_free(anchor);
		yaml_event_delete(ev);
		return v;
	default:
		break;
	}
	yanchor(y, anchor, v);
	yaml_event_delete(ev);
	return v;
}

json_t *hf_yaml_file_json(const char *path)
{
	struct ystate y;
	yaml_event_t ev;
	json_t *docs = json_array(), *d;
	FILE *f = fopen(path, "rb");
	int done = 0;

	if (!f)
		return NULL;
	yaml_parser_initialize(&y.p);
	yaml_parser_set_input_file(&y.p, f);
	y.anchors = json_object();
	while (!done) {
		if (!yaml_parser_parse(&y.p, &ev))
			goto fail;
		if (ev.type == YAML_STREAM_END_EVENT)
			done = 1;
		if (ev.type != YAML_DOCUMENT_START_EVENT) {
			yaml_event_delete(&ev);
			continue;
		}
		yaml_event_delete(&ev);
		if (!yaml_parser_parse(&y.p, &ev))
			goto fail;
		if (ev.type == YAML_DOCUMENT_END_EVENT) {
			yaml_event_delete(&ev);
			continue;
		}
		d = ynode(&y, &ev);
		if (!d)
			goto fail;
		json_array_append_new(docs, d);
	}
	goto out;
fail:
	json_decref(docs);
	docs = NULL;
out:
	json_decref(y.anchors);
	yaml_parser_delete(&y.p);
	fclose(f);
	return docs;
}

/* ---- HTTP ---------------------------------------------------------------- */

json_t *hf_gql(const char *url, const char *branch, const char *token,
               const char *query, json_t *variables)
{
	char full[512], hdr[256];
	const char *headers[2] = { NULL, NULL };
	json_t *body = json_object(), *res = NULL;
	char *text, *resp = NULL;
	long status;

	snprintf(full, sizeof(full), "%s/graphql/%s", url,
	         branch ? branch : "main");
	if (token) {
		snprintf(hdr, sizeof(hdr), "X-INFRAHUB-KEY: %s", token);
		headers[0] = hdr;
	}
	/* never a request short of its variables (under a failing allocator
	   that would ask for another page than the one meant) */
	if (!body || json_object_set_new(body, "query", json_string(query)) ||
	    (variables && json_object_set(body, "variables", variables))) {
		json_decref(body);
		return NULL;
	}
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (text && hf_http("POST", full, text, headers, &status, &resp) == 0)
		res = json_loads(resp, 0, NULL);
	free(text);
	hf_free(resp);
	return res;
}

json_t *hf_schema_load_files(const char *url, const char *token,
                             const char *const *files, size_t n, long *status)
{
	json_t *req = json_object(), *schemas = json_array(), *docs, *res;
	char full[512], hdr[256], *text, *resp = NULL;
	const char *headers[2] = { NULL, NULL };
	size_t i, j;

	for (i = 0; i < n; i++) {
		docs = hf_yaml_file_json(files[i]);
		for (j = 0; docs && j < json_array_size(docs); j++)
			json_array_append(schemas, json_array_get(docs, j));
		json_decref(docs);
	}
	json_object_set_new(req, "schemas", schemas);
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	snprintf(full, sizeof(full), "%s/api/schema/load?branch=main", url);
	if (token) {
		snprintf(hdr, sizeof(hdr), "X-INFRAHUB-KEY: %s", token);
		headers[0] = hdr;
	}
	res = NULL;
	if (text && hf_http("POST", full, text, headers, status, &resp) == 0)
		res = json_loads(resp, 0, NULL);
	free(text);
	hf_free(resp);
	return res;
}

/* ---- schema lookups ----------------------------------------------------- */

static json_t *find_kind(struct hf_sdkload *l, const char *kind)
{
	static const char *const sections[] = { "nodes", "generics", "profiles",
		                                "templates" };
	json_t *arr, *k;
	size_t i, s;

	for (s = 0; s < 4; s++) {
		arr = json_object_get(l->schema, sections[s]);
		json_array_foreach(arr, i, k)
		{
			if (!strcmp(json_string_value(
			                    json_object_get(k, "kind")),
			            kind))
				return k;
		}
	}
	return NULL;
}

static json_t *find_named(json_t *kind, const char *list, const char *name)
{
	json_t *arr = json_object_get(kind, list), *e;
	size_t i;

	json_array_foreach(arr, i, e)
	{
		if (!strcmp(json_string_value(json_object_get(e, "name")),
		            name))
			return e;
	}
	return NULL;
}

static json_t *find_by_identifier(json_t *kind, const char *ident,
                                  const char *not_name)
{
	json_t *arr = json_object_get(kind, "relationships"), *e;
	const char *id;
	size_t i;

	json_array_foreach(arr, i, e)
	{
		id = json_string_value(json_object_get(e, "identifier"));
		if (id && !strcmp(id, ident) &&
		    (!not_name ||
		     strcmp(json_string_value(json_object_get(e, "name")),
		            not_name)))
			return e;
	}
	return NULL;
}

static int is_many(json_t *rel)
{
	return !strcmp(json_string_value(json_object_get(rel, "cardinality")),
	               "many");
}

/* ---- GraphQL rendering with variables ------------------------------------ */

struct render {
	hf_buf q;
	json_t *vars;
	int nvar;
};

static void render_value(struct render *r, json_t *v)
{
	const char *key;
	json_t *e;
	size_t i;
	char name[32];

	switch (json_typeof(v)) {
	case JSON_STRING:
		snprintf(name, sizeof(name), "v%d", r->nvar++);
		json_object_set(r->vars, name, v);
		hf_buf_addf(&r->q, "$%s", name);
		break;
	case JSON_OBJECT:
		hf_buf_add(&r->q, "{ ");
		json_object_foreach(v, key, e)
		{
			hf_buf_addf(&r->q, "%s: ", key);
			render_value(r, e);
			hf_buf_add(&r->q, " ");
		}
		hf_buf_add(&r->q, "}");
		break;
	case JSON_ARRAY:
		hf_buf_add(&r->q, "[");
		json_array_foreach(v, i, e)
		{
			render_value(r, e);
			hf_buf_add(&r->q, ", ");
		}
		hf_buf_add(&r->q, "]");
		break;
	default: {
		char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

		hf_buf_add(&r->q, t ? t : "null");
		free(t);
	}
	}
}

/* Attribute values of kind List/JSON travel as GraphQL literals too. */
static json_t *upsert(struct hf_sdkload *l, const char *kind, json_t *data,
                      const char *where)
{
	struct render r = { HF_BUF_INIT, json_object(), 0 };
	json_t *res, *obj, *errs;
	hf_buf text = HF_BUF_INIT;
	const char *k;
	int i;

	render_value(&r, data);
	hf_buf_add(&text, "mutation ");
	if (r.nvar) {
		hf_buf_add(&text, "(");
		for (i = 0; i < r.nvar; i++)
			hf_buf_addf(&text, "$v%d: String!, ", i);
		hf_buf_add(&text, ") ");
	}
	hf_buf_addf(&text, "{\n    %sUpsert(data: %s){ ok object { id } }\n}\n",
	            kind, r.q.ptr);
	k = text.ptr;
	l->requests++;
	res = hf_gql(l->url, l->branch, l->token, k, r.vars);
	hf_buf_release(&r.q);
	hf_buf_release(&text);
	json_decref(r.vars);
	if (!res)
		return NULL;
	errs = json_object_get(res, "errors");
	if (errs) {
		json_t *e;
		size_t n;
		char msg[1024];

		json_array_foreach(errs, n, e)
		{
			snprintf(msg, sizeof(msg), "%s %s: %s", kind, where,
			         json_string_value(
			                 json_object_get(e, "message")));
			json_array_append_new(l->errors, json_string(msg));
		}
		l->failures++;
		json_decref(res);
		return json_null();
	}
	obj = NULL;
	json_object_foreach(json_object_get(res, "data"), k, obj)
	{
		break;
	}
	obj = json_incref(
	        json_object_get(json_object_get(obj, "object"), "id"));
	json_decref(res);
	return obj;
}

/* ---- the SDK algorithm ----------------------------------------------------
 */

static json_t *load_item(struct hf_sdkload *l, const char *kind,
                         const char *spec_kind, json_t *item, json_t *inject,
                         const char *where);

static json_t *ref_one(json_t *v)
{
	json_t *r = json_object();

	if (json_is_string(v))
		json_object_set_new(r, "hfid", json_pack("[O]", v));
	else
		json_object_set(r, "hfid", v);
	return r;
}

/*
 * Many-references: a string is sent as {id: s}, which the server resolves
 * through the peer's default_filter; newer SDKs send {hfid: [s]} when the
 * peer kind has no default_filter (TopologyMplsBackbone.pes -> DcimDevice).
 */
static json_t *ref_many(struct hf_sdkload *l, json_t *rel, json_t *v)
{
	json_t *out = json_array(), *e, *peer;
	int by_id;
	size_t i;

	peer = find_kind(l, json_string_value(json_object_get(rel, "peer")));
	by_id = peer && json_is_string(json_object_get(peer, "default_filter"));
	json_array_foreach(v, i, e)
	{
		if (json_is_string(e) && by_id)
			json_array_append_new(out, json_pack("{sO}", "id", e));
		else if (json_is_string(e))
			json_array_append_new(out,
			                      json_pack("{s[O]}", "hfid", e));
		else
			json_array_append_new(out,
			                      json_pack("{sO}", "hfid", e));
	}
	return out;
}

static int is_nested(json_t *v)
{
	json_t *first;

	if (json_is_object(v))
		return json_object_get(v, "data") != NULL;
	if (!json_is_array(v) || !json_array_size(v))
		return 0;
	first = json_array_get(v, 0);
	return json_is_object(first) && json_object_get(first, "data");
}

/* The children of a nested block as (kind, item) pairs. */
static json_t *nested_items(json_t *v, const char *peer)
{
	json_t *out = json_array(), *e, *d;
	const char *k;
	size_t i, j;

	if (json_is_object(v)) {
		k = json_string_value(json_object_get(v, "kind"));
		d = json_object_get(v, "data");
		if (json_is_object(d))
			json_array_append_new(
			        out, json_pack("[sO]", k ? k : peer, d));
		json_array_foreach(d, j, e)
		{
			json_array_append_new(
			        out, json_pack("[sO]", k ? k : peer, e));
		}
		return out;
	}
	json_array_foreach(v, i, e)
	{
		k = json_string_value(json_object_get(e, "kind"));
		json_array_append_new(out,
		                      json_pack("[sO]", k ? k : peer,
		                                json_object_get(e, "data")));
	}
	return out;
}

static const char *peer_kind(struct hf_sdkload *l, json_t *rel,
                             const char *spec_kind)
{
	const char *peer = json_string_value(json_object_get(rel, "peer"));
	json_t *pk = find_kind(l, peer);

	if (pk && json_object_get(pk, "used_by"))
		return spec_kind;
	return peer;
}

/* Whether the children must be created after this object. */
static json_t *children_after(struct hf_sdkload *l, json_t *rel,
                              const char *child_kind, const char *self_name)
{
	json_t *pk = find_kind(l, child_kind), *back;
	const char *rk;

	if (!pk)
		return NULL;
	back = find_by_identifier(
	        pk, json_string_value(json_object_get(rel, "identifier")),
	        NULL);
	if (!back)
		return NULL;
	(void)self_name;
	rk = json_string_value(json_object_get(back, "kind"));
	if (!json_is_true(json_object_get(back, "optional")) ||
	    (rk && !strcmp(rk, "Parent")) || (rk && !strcmp(rk, "Hierarchy")))
		return back;
	return NULL;
}

static void attr_value(json_t *data, const char *key, json_t *v)
{
	if (json_is_object(v) && json_object_get(v, "value"))
		json_object_set(data, key, v);
	else
		json_object_set_new(data, key, json_pack("{sO}", "value", v));
}

static int nested_first(struct hf_sdkload *l, json_t *data, json_t *rel,
                        const char *key, json_t *items, const char *spec_kind,
                        const char *where)
{
	json_t *ids = json_array(), *pair, *id;
	size_t i;

	json_array_foreach(items, i, pair)
	{
		id = load_item(l, json_string_value(json_array_get(pair, 0)),
		               spec_kind, json_array_get(pair, 1), NULL, where);
		if (!id)
			goto fail;
		if (json_is_string(id))
			json_array_append_new(ids, json_pack("{sO}", "id", id));
		json_decref(id);
	}
	if (is_many(rel))
		json_object_set(data, key, ids);
	else if (json_array_size(ids))
		json_object_set(data, key, json_array_get(ids, 0));
	json_decref(ids);
	return 0;
fail:
	json_decref(ids);
	return -1;
}

static json_t *load_item(struct hf_sdkload *l, const char *kind,
                         const char *spec_kind, json_t *item, json_t *inject,
                         const char *where)
{
	json_t *sk = find_kind(l, kind), *data = json_object(), *later;
	json_t *v, *rel, *id = NULL, *back, *items, *pair, *inj, *cid;
	const char *key, *ck;
	size_t i;

	later = json_array();
	if (!sk) {
		char msg[256];

		snprintf(msg, sizeof(msg), "%s: unknown kind %s", where, kind);
		json_array_append_new(l->errors, json_string(msg));
		l->failures++;
		id = json_null();
		goto out;
	}
	json_object_foreach(item, key, v)
	{
		if (find_named(sk, "attributes", key)) {
			attr_value(data, key, v);
			continue;
		}
		rel = find_named(sk, "relationships", key);
		if (!rel) {
			char msg[256];

			snprintf(msg, sizeof(msg),
			         "%s: %s is not a valid "
			         "attribute or relationship for %s",
			         where, key, kind);
			json_array_append_new(l->errors, json_string(msg));
			continue;
		}
		if (!is_nested(v)) {
			json_object_set_new(data, key,
			                    is_many(rel) ? ref_many(l, rel, v)
			                                 : ref_one(v));
			continue;
		}
		items = nested_items(v, peer_kind(l, rel, spec_kind));
		ck = json_string_value(
		        json_array_get(json_array_get(items, 0), 0));
		back = ck ? children_after(l, rel, ck, key) : NULL;
		if (back) {
			json_array_append_new(later,
			                      json_pack("[OO]", back, items));
		} else if (nested_first(l, data, rel, key, items, spec_kind,
		                        where) < 0) {
			json_decref(items);
			goto out;
		}
		json_decref(items);
	}
	if (inject)
		json_object_update(data, inject);
	id = upsert(l, kind, data, where);
	if (!id || !json_is_string(id))
		goto out;
	json_array_foreach(later, i, pair)
	{
		size_t j;

		back = json_array_get(pair, 0);
		items = json_array_get(pair, 1);
		inj = json_object();
		json_object_set_new(
		        inj, json_string_value(json_object_get(back, "name")),
		        is_many(back) ? json_pack("[{sO}]", "id", id)
		                      : json_pack("{sO}", "id", id));
		json_array_foreach(items, j, v)
		{
			cid = load_item(
			        l, json_string_value(json_array_get(v, 0)),
			        spec_kind, json_array_get(v, 1), inj, where);
			json_decref(cid);
		}
		json_decref(inj);
	}
out:
	json_decref(data);
	json_decref(later);
	return id;
}

static int fetch_schema(struct hf_sdkload *l)
{
	char full[512], hdr[256], *resp = NULL;
	const char *headers[2] = { NULL, NULL };
	long status;

	if (l->schema)
		return 0;
	snprintf(full, sizeof(full), "%s/api/schema?branch=%s", l->url,
	         l->branch ? l->branch : "main");
	if (l->token) {
		snprintf(hdr, sizeof(hdr), "X-INFRAHUB-KEY: %s", l->token);
		headers[0] = hdr;
	}
	if (hf_http("GET", full, NULL, headers, &status, &resp) < 0 ||
	    status != 200) {
		hf_free(resp);
		return -1;
	}
	l->schema = json_loads(resp, 0, NULL);
	hf_free(resp);
	return l->schema ? 0 : -1;
}

int hf_sdkload_files(struct hf_sdkload *l, const char *const *files, size_t n)
{
	json_t *docs, *doc, *spec, *data, *item, *id;
	const char *kind;
	char where[512];
	size_t f, d, i;

	if (!l->errors)
		l->errors = json_array();
	if (fetch_schema(l) < 0)
		return -1;
	for (f = 0; f < n; f++) {
		docs = hf_yaml_file_json(files[f]);
		if (!docs)
			return -1;
		json_array_foreach(docs, d, doc)
		{
			spec = json_object_get(doc, "spec");
			kind = json_string_value(json_object_get(spec, "kind"));
			data = json_object_get(spec, "data");
			json_array_foreach(data, i, item)
			{
				snprintf(where, sizeof(where), "%s[%zu].%zu",
				         strrchr(files[f], '/') + 1, d, i + 1);
				id = load_item(l, kind, kind, item, NULL,
				               where);
				if (!id) {
					json_decref(docs);
					return -1;
				}
				json_decref(id);
			}
		}
		json_decref(docs);
	}
	return 0;
}

void hf_sdkload_release(struct hf_sdkload *l)
{
	json_decref(l->schema);
	json_decref(l->errors);
	l->schema = NULL;
	l->errors = NULL;
}
