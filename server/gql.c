/*
 * GraphQL executable documents: the document and its arena, and the
 * helpers the executor needs (pick the operation, coerce variables, values
 * to JSON, CollectFields). The lexer, parser and validation are in
 * gql_lex.c, gql_parse.c and gql_valid.c; what they share is gql_int.h.
 *
 * The AST is allocated from an arena of a few large blocks, so parsing a
 * document costs a handful of hf_alloc calls and freeing it one walk over
 * the block list. Everything that walks a document whose shape is not
 * bounded by the parser (fragment graphs, field collection) is iterative.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/arena.h"
#include "hf/array.h"
#include "hf/buf.h"
#include "hf/map.h"
#include "gql_int.h"
#include "hf/banned.h"

/* ------------------------------------------------------------- document */

/* Index of fragment `name` in doc->frag_tab, or -1. */
long hfs_gql_frag_slot(const hfs_gql_doc *doc, const char *name)
{
	uintptr_t i = (uintptr_t)hf_map_get(&doc->frag_map, name, strlen(name));

	return i ? (long)i - 1 : -1;
}

int hfs_gql_frag_table_build(hfs_gql_doc *doc)
{
	const struct hfs_gql_fragment *f;
	size_t n = 0;

	if (!doc->nfrags)
		return 0;
	doc->frag_tab = hf_arena_calloc(&doc->arena, doc->nfrags,
	                                sizeof(*doc->frag_tab));
	if (!doc->frag_tab)
		return HF_ENOMEM;
	for (f = doc->frags; f; f = f->next) {
		if (hfs_gql_frag_slot(doc, f->name) >= 0) {
			if (!doc->dup_frag)
				doc->dup_frag = f;
			continue;
		}
		if (hf_map_add(&doc->frag_map, f->name, strlen(f->name),
		               (void *)(uintptr_t)(n + 1)) < 0)
			return HF_ENOMEM;
		doc->frag_tab[n++] = f;
	}
	doc->frag_tab_size = n;
	return 0;
}

void hfs_gql_doc_free(hfs_gql_doc *doc)
{
	hf_arena a;

	if (!doc)
		return;
	hf_map_release(&doc->frag_map);
	/* The document lives in its own arena: copy the handle out first. */
	a = doc->arena;
	hf_arena_release(&a);
}

const struct hfs_gql_operation *hfs_gql_doc_operations(const hfs_gql_doc *doc)
{
	return doc->ops;
}

const struct hfs_gql_fragment *hfs_gql_doc_fragments(const hfs_gql_doc *doc)
{
	return doc->frags;
}

const struct hfs_gql_fragment *hfs_gql_doc_fragment(const hfs_gql_doc *doc,
                                                    const char *name)
{
	long slot = hfs_gql_frag_slot(doc, name);

	return slot < 0 ? NULL : doc->frag_tab[slot];
}

size_t hfs_gql_doc_nodes(const hfs_gql_doc *doc)
{
	return doc->nodes;
}

const char *hfs_gql_op_kind_str(enum hfs_gql_op_kind kind)
{
	switch (kind) {
	case HFS_GQL_MUTATION:
		return "mutation";
	case HFS_GQL_SUBSCRIPTION:
		return "subscription";
	case HFS_GQL_QUERY:
		break;
	}
	return "query";
}

/* ------------------------------------------------------------ operation */

int hfs_gql_operation_find(const struct hfs_gql_operation **out,
                           const hfs_gql_doc *doc, const char *name,
                           hf_error *err)
{
	const struct hfs_gql_operation *op;
	char shown[256];

	*out = NULL;
	if (name && !*name)
		name = NULL;
	for (op = doc->ops; op; op = op->next) {
		if (!name && *out) {
			*out = NULL;
			return hf_error_set(err, HF_EINVAL,
			                    "Must provide operation name if "
			                    "query contains multiple "
			                    "operations.");
		}
		if (!name || (op->name && !strcmp(op->name, name)))
			*out = op;
	}
	if (*out)
		return 0;
	if (name) {
		hfs_gql_clip(shown, sizeof(shown), name, strlen(name), 200);
		return hf_error_set(err, HF_EINVAL,
		                    "Unknown operation named '%s'.", shown);
	}
	return hf_error_set(err, HF_EINVAL, "Must provide an operation.");
}

/* ---------------------------------------------------------------- values */

static int value_oom(hf_error *err)
{
	return hf_error_set(err, HF_ENOMEM, "out of memory");
}

static int is_missing_var(const struct hfs_gql_value *v, const json_t *vars)
{
	return v->kind == HFS_GQL_VARIABLE &&
	       (!vars || !json_object_get(vars, v->str));
}

static int number_json(json_t **out, const struct hfs_gql_value *v,
                       hf_error *err)
{
	double d;

	if (v->kind == HFS_GQL_INT && v->int_fits) {
		*out = json_integer((json_int_t)v->ival);
		return *out ? 0 : value_oom(err);
	}
	d = strtod(v->str, NULL);
	if (!isfinite(d))
		return hf_error_at(err, HF_EINVAL, NULL, v->line, v->col,
		                   "Float cannot represent non numeric "
		                   "value: %s",
		                   v->str);
	*out = json_real(d);
	return *out ? 0 : value_oom(err);
}

static int list_json(json_t **out, const struct hfs_gql_value *v,
                     const json_t *vars, hf_error *err)
{
	const struct hfs_gql_value *item;
	json_t *j = NULL;
	int rc;

	*out = json_array();
	if (!*out)
		return value_oom(err);
	for (item = v->items; item; item = item->next) {
		rc = hfs_gql_value_json(&j, item, vars, err);
		if (rc < 0)
			goto fail;
		if (json_array_append_new(*out, j) < 0) {
			rc = value_oom(err);
			goto fail;
		}
	}
	return 0;
fail:
	json_decref(*out);
	*out = NULL;
	return rc;
}

static int object_json(json_t **out, const struct hfs_gql_value *v,
                       const json_t *vars, hf_error *err)
{
	const struct hfs_gql_arg *f;
	json_t *j = NULL;
	int rc;

	*out = json_object();
	if (!*out)
		return value_oom(err);
	for (f = v->fields; f; f = f->next) {
		if (is_missing_var(f->value, vars))
			continue;
		rc = hfs_gql_value_json(&j, f->value, vars, err);
		if (rc < 0)
			goto fail;
		if (json_object_set_new(*out, f->name, j) < 0) {
			rc = value_oom(err);
			goto fail;
		}
	}
	return 0;
fail:
	json_decref(*out);
	*out = NULL;
	return rc;
}

int hfs_gql_value_json(json_t **out, const struct hfs_gql_value *v,
                       const json_t *vars, hf_error *err)
{
	const json_t *got;

	*out = NULL;
	switch (v->kind) {
	case HFS_GQL_VARIABLE:
		got = vars ? json_object_get(vars, v->str) : NULL;
		*out = got ? json_deep_copy(got) : json_null();
		break;
	case HFS_GQL_INT:
	case HFS_GQL_FLOAT:
		return number_json(out, v, err);
	case HFS_GQL_STRING:
		*out = json_stringn(v->str, v->len);
		break;
	case HFS_GQL_BOOLEAN:
		*out = json_boolean(v->boolean);
		break;
	case HFS_GQL_NULL:
		*out = json_null();
		break;
	case HFS_GQL_ENUM:
		*out = json_string(v->str);
		break;
	case HFS_GQL_LIST:
		return list_json(out, v, vars, err);
	case HFS_GQL_OBJECT:
		return object_json(out, v, vars, err);
	}
	return *out ? 0 : value_oom(err);
}

const struct hfs_gql_arg *hfs_gql_arg_find(const struct hfs_gql_arg *args,
                                           const char *name)
{
	for (; args; args = args->next)
		if (!strcmp(args->name, name))
			return args;
	return NULL;
}

int hfs_gql_arg_json(json_t **out, const struct hfs_gql_selection *field,
                     const char *name, const json_t *vars, hf_error *err)
{
	const struct hfs_gql_arg *a = hfs_gql_arg_find(field->args, name);

	*out = NULL;
	if (!a || is_missing_var(a->value, vars))
		return 0;
	return hfs_gql_value_json(out, a->value, vars, err);
}

/* ------------------------------------------------------------- variables */

static void inspect(hf_buf *b, const json_t *v, int depth);

/* Python's repr() of a str, which graphql-core's inspect() uses. */
static void inspect_string(hf_buf *b, const char *s, size_t n)
{
	char q = memchr(s, '\'', n) && !memchr(s, '"', n) ? '"' : '\'';
	size_t i;
	unsigned char c;

	if (n > 240)
		n = 240;
	hf_buf_addch(b, q);
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '\\' || c == (unsigned char)q)
			hf_buf_addf(b, "\\%c", c);
		else if (c == '\n')
			hf_buf_add(b, "\\n");
		else if (c == '\t')
			hf_buf_add(b, "\\t");
		else if (c == '\r')
			hf_buf_add(b, "\\r");
		else if (c < 0x20 || c == 0x7f)
			hf_buf_addf(b, "\\x%02x", c);
		else
			hf_buf_addch(b, (char)c);
	}
	hf_buf_addch(b, q);
}

/* The shortest %g that reads back the same, then Python's ".0". */
static void inspect_real(hf_buf *b, double d)
{
	char tmp[40];
	int prec;

	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	hf_buf_add(b, tmp);
	if (!strpbrk(tmp, ".en"))
		hf_buf_add(b, ".0");
}

static void inspect_container(hf_buf *b, const json_t *v, int depth)
{
	const char *key;
	const json_t *item;
	size_t i;

	if (depth >= 2) {
		hf_buf_add(b, json_is_array(v) ? "[...]" : "{...}");
		return;
	}
	if (json_is_array(v)) {
		hf_buf_addch(b, '[');
		for (i = 0; i < json_array_size(v); i++) {
			hf_buf_add(b, i ? ", " : "");
			inspect(b, json_array_get(v, i), depth + 1);
		}
		hf_buf_addch(b, ']');
		return;
	}
	hf_buf_addch(b, '{');
	i = 0;
	/* jansson's iterator takes a non-const object; nothing is changed. */
	json_object_foreach((json_t *)(uintptr_t)v, key, item)
	{
		hf_buf_add(b, i++ ? ", " : "");
		inspect_string(b, key, strlen(key));
		hf_buf_add(b, ": ");
		inspect(b, item, depth + 1);
	}
	hf_buf_addch(b, '}');
}

static void inspect(hf_buf *b, const json_t *v, int depth)
{
	switch (json_typeof(v)) {
	case JSON_NULL:
		hf_buf_add(b, "None");
		break;
	case JSON_TRUE:
		hf_buf_add(b, "True");
		break;
	case JSON_FALSE:
		hf_buf_add(b, "False");
		break;
	case JSON_INTEGER:
		hf_buf_addf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		inspect_real(b, json_real_value(v));
		break;
	case JSON_STRING:
		inspect_string(b, json_string_value(v), json_string_length(v));
		break;
	default:
		inspect_container(b, v, depth);
		break;
	}
}

struct coerce {
	const struct hfs_gql_vardef *def;
	hf_error *err;
	hf_buf path; /* "[0][2]" inside lists */
};

/*
 * "Variable '$x' got invalid value 5 at 'x[0]'; <why>", where `why` is
 * followed by the value again when `append` is set, as graphql-core's
 * scalar messages are.
 */
static int coerce_invalid(struct coerce *c, const json_t *val, const char *why,
                          int append)
{
	hf_buf shown = HF_BUF_INIT;
	char val_s[256];
	int rc;

	inspect(&shown, val, 0);
	if (hf_buf_failed(&shown)) {
		rc = hf_error_set(c->err, HF_ENOMEM, "out of memory");
		goto out;
	}
	hfs_gql_clip(val_s, sizeof(val_s), shown.ptr, shown.len, 200);
	rc = hf_error_at(c->err, HF_EINVAL, NULL, c->def->line, c->def->col,
	                 "Variable '$%s' got invalid value %s%s%s%s%s; %s%s",
	                 c->def->name, val_s, c->path.len ? " at '" : "",
	                 c->path.len ? c->def->name : "", c->path.ptr,
	                 c->path.len ? "'" : "", why, append ? val_s : "");
out:
	hf_buf_release(&shown);
	return rc;
}

static void type_print(hf_buf *b, const struct hfs_gql_type *t)
{
	if (t->kind == HFS_GQL_TYPE_NAMED) {
		hf_buf_add(b, t->name);
	} else if (t->kind == HFS_GQL_TYPE_LIST) {
		hf_buf_addch(b, '[');
		type_print(b, t->of);
		hf_buf_addch(b, ']');
	} else {
		type_print(b, t->of);
		hf_buf_addch(b, '!');
	}
}

static int is_integral(const json_t *v, double *d)
{
	if (json_is_integer(v)) {
		*d = (double)json_integer_value(v);
		return 1;
	}
	if (!json_is_real(v))
		return 0;
	*d = json_real_value(v);
	/* Whole and in range; without floor(), so no libm. */
	return *d > -9.2e18 && *d < 9.2e18 && (double)(long long)*d == *d;
}

static int coerce_int(json_t **out, const json_t *val, struct coerce *c)
{
	double d;

	if (!is_integral(val, &d))
		return coerce_invalid(c, val,
		                      "Int cannot represent non-integer "
		                      "value: ",
		                      1);
	if (d < -2147483648.0 || d > 2147483647.0)
		return coerce_invalid(c, val,
		                      "Int cannot represent non 32-bit signed "
		                      "integer value: ",
		                      1);
	*out = json_integer((json_int_t)d);
	return 0;
}

static int coerce_scalar(json_t **out, const json_t *val, const char *type,
                         struct coerce *c)
{
	if (!strcmp(type, "String") && !json_is_string(val))
		return coerce_invalid(c, val,
		                      "String cannot represent a non string "
		                      "value: ",
		                      1);
	if (!strcmp(type, "Boolean") && !json_is_boolean(val))
		return coerce_invalid(c, val,
		                      "Boolean cannot represent a non boolean "
		                      "value: ",
		                      1);
	if (!strcmp(type, "Int"))
		return coerce_int(out, val, c);
	if (!strcmp(type, "Float")) {
		if (!json_is_number(val))
			return coerce_invalid(c, val,
			                      "Float cannot represent non "
			                      "numeric value: ",
			                      1);
		*out = json_real(json_number_value(val));
		return 0;
	}
	if (!strcmp(type, "ID") && json_is_integer(val)) {
		*out = json_sprintf("%" JSON_INTEGER_FORMAT,
		                    json_integer_value(val));
		return 0;
	}
	if (!strcmp(type, "ID") && !json_is_string(val))
		return coerce_invalid(c, val, "ID cannot represent value: ", 1);
	*out = json_deep_copy(val);
	return 0;
}

static int coerce_input(json_t **out, const json_t *val,
                        const struct hfs_gql_type *t, struct coerce *c);

static int coerce_list(json_t **out, const json_t *val,
                       const struct hfs_gql_type *t, struct coerce *c)
{
	json_t *item = NULL;
	size_t plen = c->path.len;
	size_t i;
	int rc = 0;

	*out = json_array();
	if (!*out)
		return value_oom(c->err);
	if (!json_is_array(val)) {
		/* A single value where a list is expected: a list of one. */
		rc = coerce_input(&item, val, t->of, c);
		if (rc == 0 && json_array_append_new(*out, item) < 0)
			rc = value_oom(c->err);
		goto out;
	}
	for (i = 0; rc == 0 && i < json_array_size(val); i++) {
		hf_buf_addf(&c->path, "[%zu]", i);
		rc = coerce_input(&item, json_array_get(val, i), t->of, c);
		hf_buf_setlen(&c->path, plen);
		if (rc == 0 && json_array_append_new(*out, item) < 0)
			rc = value_oom(c->err);
	}
out:
	if (rc < 0) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

static int coerce_input(json_t **out, const json_t *val,
                        const struct hfs_gql_type *t, struct coerce *c)
{
	hf_buf tt = HF_BUF_INIT;
	char shown[256];
	char why[320];
	int rc;

	*out = NULL;
	if (t->kind == HFS_GQL_TYPE_NON_NULL && json_is_null(val)) {
		type_print(&tt, t);
		hfs_gql_clip(shown, sizeof(shown), tt.ptr, tt.len, 200);
		hf_buf_release(&tt);
		snprintf(why, sizeof(why),
		         "Expected non-nullable type '%s' not to be null.",
		         shown);
		return coerce_invalid(c, val, why, 0);
	}
	if (t->kind == HFS_GQL_TYPE_NON_NULL)
		t = t->of;
	if (json_is_null(val))
		rc = (*out = json_null()) ? 0 : value_oom(c->err);
	else if (t->kind == HFS_GQL_TYPE_LIST)
		rc = coerce_list(out, val, t, c);
	else
		rc = coerce_scalar(out, val, t->name, c);
	if (rc == 0 && !*out)
		rc = value_oom(c->err);
	return rc;
}

/* A default value: literal to JSON, a single value wrapped for a list. */
static int coerce_default(json_t **out, const struct hfs_gql_vardef *d,
                          hf_error *err)
{
	const struct hfs_gql_type *t = d->type;
	json_t *wrap;
	int rc;

	rc = hfs_gql_value_json(out, d->default_value, NULL, err);
	if (rc < 0)
		return rc;
	if (t->kind == HFS_GQL_TYPE_NON_NULL)
		t = t->of;
	if (t->kind != HFS_GQL_TYPE_LIST || json_is_array(*out) ||
	    json_is_null(*out))
		return 0;
	wrap = json_array();
	if (!wrap)
		json_decref(*out);
	/* json_array_append_new() takes *out even when it fails. */
	if (!wrap || json_array_append_new(wrap, *out) < 0) {
		json_decref(wrap);
		*out = NULL;
		return value_oom(err);
	}
	*out = wrap;
	return 0;
}

static int coerce_var(json_t *vars, const struct hfs_gql_vardef *d,
                      const json_t *given, hf_error *err)
{
	struct coerce c;
	json_t *val = NULL;
	int non_null = d->type->kind == HFS_GQL_TYPE_NON_NULL;
	int rc;

	c.def = d;
	c.err = err;
	hf_buf_init(&c.path, 0);
	if (!given && d->default_value)
		rc = coerce_default(&val, d, err);
	else if (!given && non_null)
		rc = hf_error_at(err, HF_EINVAL, NULL, d->line, d->col,
		                 "Variable '$%s' of required type '%s' was not "
		                 "provided.",
		                 d->name, d->type_text);
	else if (!given)
		rc = 0;
	else if (json_is_null(given) && non_null)
		rc = hf_error_at(err, HF_EINVAL, NULL, d->line, d->col,
		                 "Variable '$%s' of non-null type '%s' must "
		                 "not be null.",
		                 d->name, d->type_text);
	else
		rc = coerce_input(&val, given, d->type, &c);
	if (rc == 0 && hf_buf_failed(&c.path))
		rc = value_oom(err);
	if (rc == 0 && val && json_object_set_new(vars, d->name, val) < 0)
		rc = value_oom(err);
	else if (rc < 0)
		json_decref(val);
	hf_buf_release(&c.path);
	return rc;
}

int hfs_gql_vars_coerce(json_t **out, const struct hfs_gql_operation *op,
                        const json_t *variables, hf_error *err)
{
	const struct hfs_gql_vardef *d;
	const json_t *given;
	json_t *vars;
	int rc = 0;

	*out = NULL;
	vars = json_object();
	if (!vars)
		return value_oom(err);
	if (!json_is_object(variables))
		variables = NULL;
	for (d = op->vars; rc == 0 && d; d = d->next) {
		given = variables ? json_object_get(variables, d->name) : NULL;
		rc = coerce_var(vars, d, given, err);
	}
	if (rc < 0) {
		json_decref(vars);
		return rc;
	}
	*out = vars;
	return 0;
}

/* ------------------------------------------------------------ collection */

struct collector {
	const struct hfs_gql_collect_opts *o;
	hf_error *err;
	const struct hfs_gql_selection **stack; /* cursors into lists */
	size_t sp;
	size_t stack_cap;
	const struct hfs_gql_selection **fields;
	size_t n;
	size_t fields_cap;
	unsigned char *visited; /* by fragment table slot */
};

static int push(struct collector *c, const struct hfs_gql_selection *s)
{
	if (HF_ARRAY_GROW(c->stack, c->stack_cap, c->sp + 1) < 0)
		return hf_error_set(c->err, HF_ENOMEM, "out of memory");
	c->stack[c->sp++] = s;
	return 0;
}

/* The value of `if:` on directive `name`: 1, 0, or -1 when absent. */
static int directive_if(const struct hfs_gql_directive *d, const char *name,
                        const json_t *vars)
{
	const struct hfs_gql_arg *a;
	const json_t *j;

	for (; d; d = d->next) {
		if (strcmp(d->name, name))
			continue;
		a = hfs_gql_arg_find(d->args, "if");
		if (!a)
			return -1;
		if (a->value->kind == HFS_GQL_BOOLEAN)
			return a->value->boolean;
		if (a->value->kind != HFS_GQL_VARIABLE || !vars)
			return -1;
		j = json_object_get(vars, a->value->str);
		return json_is_boolean(j) ? json_is_true(j) : -1;
	}
	return -1;
}

static int included(const struct hfs_gql_selection *s, const json_t *vars)
{
	if (!s->directives)
		return 1;
	if (directive_if(s->directives, "skip", vars) == 1)
		return 0;
	return directive_if(s->directives, "include", vars) != 0;
}

static int type_applies(const struct hfs_gql_collect_opts *o, const char *cond)
{
	if (!cond || !o->type_name)
		return 1;
	if (o->match)
		return o->match(cond, o->type_name, o->payload) != 0;
	return !strcmp(cond, o->type_name);
}

static int collect_spread(struct collector *c,
                          const struct hfs_gql_selection *s)
{
	const hfs_gql_doc *doc = c->o->doc;
	const struct hfs_gql_fragment *f;
	long slot = doc ? hfs_gql_frag_slot(doc, s->name) : -1;

	if (slot < 0)
		return hf_error_at(c->err, HF_EINVAL, NULL, s->name_line,
		                   s->name_col, "Unknown fragment '%s'.",
		                   s->name);
	if (c->visited[slot])
		return 0;
	c->visited[slot] = 1;
	f = doc->frag_tab[slot];
	if (!type_applies(c->o, f->type_cond))
		return 0;
	return push(c, f->selections);
}

/* CollectFields without recursion: a stack of list cursors. */
static int collect_run(struct collector *c)
{
	const struct hfs_gql_selection *s;
	int rc = 0;

	while (rc == 0 && c->sp) {
		s = c->stack[c->sp - 1];
		if (!s) {
			c->sp--;
			continue;
		}
		c->stack[c->sp - 1] = s->next;
		if (!included(s, c->o->vars))
			continue;
		if (s->kind == HFS_GQL_FIELD) {
			rc = HF_ARRAY_GROW(c->fields, c->fields_cap, c->n + 1);
			if (rc < 0)
				rc = hf_error_set(c->err, rc, "out of memory");
			else
				c->fields[c->n++] = s;
		} else if (s->kind == HFS_GQL_INLINE_FRAGMENT) {
			if (type_applies(c->o, s->type_cond))
				rc = push(c, s->selections);
		} else {
			rc = collect_spread(c, s);
		}
	}
	return rc;
}

/* Group index of each collected field: equal keys share a group. */
static int group_keys(const struct collector *c, size_t *gi, size_t *ngroups)
{
	hf_map m = HF_MAP_INIT; /* key -> 1 + group */
	const char *key;
	uintptr_t g;
	size_t i;
	int rc = 0;

	*ngroups = 0;
	for (i = 0; i < c->n && rc == 0; i++) {
		key = c->fields[i]->key;
		g = (uintptr_t)hf_map_get(&m, key, strlen(key));
		if (!g) {
			g = ++*ngroups;
			rc = hf_map_add(&m, key, strlen(key), (void *)g);
		}
		gi[i] = g - 1;
	}
	hf_map_release(&m);
	if (rc < 0)
		return hf_error_set(c->err, HF_ENOMEM, "out of memory");
	return 0;
}

static int build_groups(struct hfs_gql_fields *out, struct collector *c)
{
	struct hfs_gql_field_group *g;
	size_t *gi = NULL;
	size_t ng = 0;
	size_t off = 0;
	size_t i;
	int rc = HF_ENOMEM;

	gi = hf_calloc(c->n + 1, sizeof(*gi));
	out->slots = hf_calloc(c->n + 1, sizeof(*out->slots));
	if (!gi || !out->slots)
		goto out;
	rc = group_keys(c, gi, &ng);
	if (rc < 0)
		goto out;
	rc = HF_ENOMEM;
	out->groups = hf_calloc(ng + 1, sizeof(*out->groups));
	if (!out->groups)
		goto out;
	for (i = 0; i < c->n; i++)
		out->groups[gi[i]].nfields++;
	for (i = 0; i < ng; i++) {
		g = &out->groups[i];
		g->fields = out->slots + off;
		off += g->nfields;
		g->nfields = 0;
	}
	for (i = 0; i < c->n; i++) {
		g = &out->groups[gi[i]];
		g->key = c->fields[i]->key;
		g->fields[g->nfields++] = c->fields[i];
	}
	out->count = ng;
	out->nslots = c->n;
	rc = 0;
out:
	hf_free(gi);
	if (rc == HF_ENOMEM)
		hf_error_set(c->err, HF_ENOMEM, "out of memory");
	return rc;
}

void hfs_gql_fields_release(struct hfs_gql_fields *f)
{
	if (!f)
		return;
	hf_free(f->groups);
	hf_free(f->slots);
	f->groups = NULL;
	f->slots = NULL;
	f->count = 0;
	f->nslots = 0;
}

/* Collect over `n` selection lists, in order. */
static int collect_lists(struct hfs_gql_fields *out,
                         const struct hfs_gql_collect_opts *o,
                         const struct hfs_gql_selection *const *lists, size_t n,
                         hf_error *err)
{
	struct collector c;
	size_t nslots = o->doc ? o->doc->frag_tab_size : 0;
	int rc = 0;

	hfs_gql_fields_release(out);
	memset(&c, 0, sizeof(c));
	c.o = o;
	c.err = err;
	c.visited = hf_calloc(nslots + 1, 1);
	if (!c.visited)
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	/* Pushed last-first so that the first list is walked first. */
	while (rc == 0 && n > 0)
		rc = push(&c, lists[--n]);
	if (rc == 0)
		rc = collect_run(&c);
	if (rc == 0)
		rc = build_groups(out, &c);
	if (rc < 0)
		hfs_gql_fields_release(out);
	hf_free(c.visited);
	hf_free(c.stack);
	hf_free(c.fields);
	return rc;
}

int hfs_gql_collect(struct hfs_gql_fields *out,
                    const struct hfs_gql_collect_opts *o,
                    const struct hfs_gql_selection *sel, hf_error *err)
{
	return collect_lists(out, o, &sel, 1, err);
}

int hfs_gql_collect_group(struct hfs_gql_fields *out,
                          const struct hfs_gql_collect_opts *o,
                          const struct hfs_gql_field_group *group,
                          hf_error *err)
{
	const struct hfs_gql_selection **lists;
	size_t i;
	int rc;

	lists = hf_calloc(group->nfields + 1, sizeof(*lists));
	if (!lists) {
		hfs_gql_fields_release(out);
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	for (i = 0; i < group->nfields; i++)
		lists[i] = group->fields[i]->selections;
	rc = collect_lists(out, o, lists, group->nfields, err);
	hf_free(lists);
	return rc;
}
