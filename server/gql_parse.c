/*
 * GraphQL parser: recursive descent over the lexer's tokens into the AST
 * of gql.h, following graphql-core 3.2 token for token so that syntax
 * errors read the same. Recursion is bounded by a nesting counter
 * (HFS_GQL_MAX_DEPTH) and the AST size by a node counter
 * (HFS_GQL_MAX_NODES). hfs_gql_parse() is here.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gql_int.h"
#include "hf/banned.h"

/* How graphql-core names each token kind in "Expected X, found Y." */
static const char *const tok_desc[] = {
	[T_EOF] = "<EOF>",     [T_BANG] = "'!'",
	[T_DOLLAR] = "'$'",    [T_AMP] = "'&'",
	[T_LPAREN] = "'('",    [T_RPAREN] = "')'",
	[T_SPREAD] = "'...'",  [T_COLON] = "':'",
	[T_EQUALS] = "'='",    [T_AT] = "'@'",
	[T_LBRACKET] = "'['",  [T_RBRACKET] = "']'",
	[T_LBRACE] = "'{'",    [T_PIPE] = "'|'",
	[T_RBRACE] = "'}'",    [T_NAME] = "Name",
	[T_INT] = "Int",       [T_FLOAT] = "Float",
	[T_STRING] = "String", [T_BLOCK_STRING] = "BlockString",
};

static void *node_new(struct parser *p, size_t size)
{
	void *n;

	if (p->doc->nodes >= HFS_GQL_MAX_NODES) {
		hfs_gql_syntax_error(p, p->tok.start,
		                     "Document contains more than %d nodes. "
		                     "Parsing aborted.",
		                     HFS_GQL_MAX_NODES);
		return NULL;
	}
	n = hf_arena_alloc(&p->doc->arena, size);
	if (!n) {
		hfs_gql_oom(p);
		return NULL;
	}
	p->doc->nodes++;
	return n;
}

static char *arena_strndup(struct parser *p, const char *s, size_t n)
{
	char *d = hf_arena_strndup(&p->doc->arena, s, n);

	if (!d)
		hfs_gql_oom(p);
	return d;
}

/* graphql-core's getTokenDesc: <EOF>, '{', Name 'foo', String 'x'... */
static void token_desc(const struct parser *p, char *out, size_t size)
{
	const struct token *t = &p->tok;
	char val[128];

	if (t->kind < T_NAME) {
		snprintf(out, size, "%s", tok_desc[t->kind]);
		return;
	}
	if (t->str)
		hfs_gql_clip(val, sizeof(val), t->str, t->len, 100);
	else
		hfs_gql_clip(val, sizeof(val), p->src + t->start,
		             t->end - t->start, 100);
	snprintf(out, size, "%s '%s'", tok_desc[t->kind], val);
}

static int unexpected(struct parser *p)
{
	char desc[160];

	token_desc(p, desc, sizeof(desc));
	return hfs_gql_syntax_error(p, p->tok.start, "Unexpected %s.", desc);
}

static int expect(struct parser *p, enum tok kind)
{
	char desc[160];

	if (p->tok.kind == kind)
		return hfs_gql_lex(p);
	token_desc(p, desc, sizeof(desc));
	return hfs_gql_syntax_error(p, p->tok.start, "Expected %s, found %s.",
	                            tok_desc[kind], desc);
}

/* Consume `kind` if it is next: 1 if it was, 0 if not, <0 on error. */
static int optional(struct parser *p, enum tok kind)
{
	if (p->tok.kind != kind)
		return 0;
	return hfs_gql_lex(p) < 0 ? p->rc : 1;
}

static int is_keyword(const struct parser *p, const char *kw)
{
	size_t n = strlen(kw);

	return p->tok.kind == T_NAME && p->tok.end - p->tok.start == n &&
	       !memcmp(p->src + p->tok.start, kw, n);
}

static int expect_keyword(struct parser *p, const char *kw)
{
	char desc[160];

	if (is_keyword(p, kw))
		return hfs_gql_lex(p);
	token_desc(p, desc, sizeof(desc));
	return hfs_gql_syntax_error(p, p->tok.start, "Expected '%s', found %s.",
	                            kw, desc);
}

static int enter(struct parser *p)
{
	if (++p->depth > HFS_GQL_MAX_DEPTH)
		return hfs_gql_syntax_error(p, p->tok.start,
		                            "Document nesting too deep.");
	return 0;
}

static const char *parse_name(struct parser *p)
{
	const char *name;

	if (p->tok.kind != T_NAME) {
		expect(p, T_NAME);
		return NULL;
	}
	name = arena_strndup(p, p->src + p->tok.start,
	                     p->tok.end - p->tok.start);
	if (!name || hfs_gql_lex(p) < 0)
		return NULL;
	return name;
}

static struct hfs_gql_value *parse_value(struct parser *p, int is_const);

static struct hfs_gql_value *value_new(struct parser *p,
                                       enum hfs_gql_value_kind kind)
{
	struct hfs_gql_value *v = node_new(p, sizeof(*v));

	if (v) {
		v->kind = kind;
		v->line = p->tok.line;
		v->col = p->tok.col;
	}
	return v;
}

static struct hfs_gql_value *parse_list(struct parser *p, int is_const)
{
	struct hfs_gql_value *v = value_new(p, HFS_GQL_LIST);
	struct hfs_gql_value **tail;
	struct hfs_gql_value *item;

	if (!v || enter(p) < 0 || hfs_gql_lex(p) < 0)
		return NULL;
	tail = &v->items;
	while (p->tok.kind != T_RBRACKET) {
		item = parse_value(p, is_const);
		if (!item)
			return NULL;
		*tail = item;
		tail = &item->next;
		v->count++;
	}
	p->depth--;
	return hfs_gql_lex(p) < 0 ? NULL : v;
}

/* `name: value`, for arguments and object fields. */
static struct hfs_gql_arg *parse_arg(struct parser *p, int is_const)
{
	struct hfs_gql_arg *a = node_new(p, sizeof(*a));

	if (!a)
		return NULL;
	a->line = p->tok.line;
	a->col = p->tok.col;
	a->name = parse_name(p);
	if (!a->name || expect(p, T_COLON) < 0)
		return NULL;
	a->value = parse_value(p, is_const);
	return a->value ? a : NULL;
}

static struct hfs_gql_value *parse_object(struct parser *p, int is_const)
{
	struct hfs_gql_value *v = value_new(p, HFS_GQL_OBJECT);
	struct hfs_gql_arg **tail;
	struct hfs_gql_arg *f;

	if (!v || enter(p) < 0 || hfs_gql_lex(p) < 0)
		return NULL;
	tail = &v->fields;
	while (p->tok.kind != T_RBRACE) {
		f = parse_arg(p, is_const);
		if (!f)
			return NULL;
		*tail = f;
		tail = &f->next;
		v->count++;
	}
	p->depth--;
	return hfs_gql_lex(p) < 0 ? NULL : v;
}

static struct hfs_gql_value *parse_number(struct parser *p)
{
	struct hfs_gql_value *v;
	long long ival;
	char *endp;

	v = value_new(p, p->tok.kind == T_INT ? HFS_GQL_INT : HFS_GQL_FLOAT);
	if (!v)
		return NULL;
	v->len = p->tok.end - p->tok.start;
	v->str = arena_strndup(p, p->src + p->tok.start, v->len);
	if (!v->str)
		return NULL;
	if (v->kind == HFS_GQL_INT) {
		errno = 0;
		ival = strtoll(v->str, &endp, 10);
		v->int_fits = errno == 0 && *endp == '\0';
		v->ival = v->int_fits ? ival : 0;
	}
	return hfs_gql_lex(p) < 0 ? NULL : v;
}

static struct hfs_gql_value *parse_string(struct parser *p)
{
	struct hfs_gql_value *v = value_new(p, HFS_GQL_STRING);

	if (!v)
		return NULL;
	v->str = p->tok.str;
	v->len = p->tok.len;
	v->block = p->tok.kind == T_BLOCK_STRING;
	return hfs_gql_lex(p) < 0 ? NULL : v;
}

static struct hfs_gql_value *parse_name_value(struct parser *p)
{
	struct hfs_gql_value *v = value_new(p, HFS_GQL_ENUM);

	if (!v)
		return NULL;
	if (is_keyword(p, "true") || is_keyword(p, "false")) {
		v->kind = HFS_GQL_BOOLEAN;
		v->boolean = is_keyword(p, "true");
	} else if (is_keyword(p, "null")) {
		v->kind = HFS_GQL_NULL;
	}
	v->len = p->tok.end - p->tok.start;
	v->str = parse_name(p);
	return v->str ? v : NULL;
}

static struct hfs_gql_value *parse_variable(struct parser *p, int is_const)
{
	struct hfs_gql_value *v = value_new(p, HFS_GQL_VARIABLE);
	size_t start = p->tok.start;
	char name[128];

	if (!v || expect(p, T_DOLLAR) < 0)
		return NULL;
	if (is_const && p->tok.kind == T_NAME) {
		hfs_gql_clip(name, sizeof(name), p->src + p->tok.start,
		             p->tok.end - p->tok.start, 100);
		hfs_gql_syntax_error(
		        p, start,
		        "Unexpected variable '$%s' in constant value.", name);
		return NULL;
	}
	if (is_const) {
		hfs_gql_syntax_error(p, start, "Unexpected '$'.");
		return NULL;
	}
	v->str = parse_name(p);
	if (!v->str)
		return NULL;
	v->len = strlen(v->str);
	return v;
}

static struct hfs_gql_value *parse_value(struct parser *p, int is_const)
{
	switch (p->tok.kind) {
	case T_LBRACKET:
		return parse_list(p, is_const);
	case T_LBRACE:
		return parse_object(p, is_const);
	case T_INT:
	case T_FLOAT:
		return parse_number(p);
	case T_STRING:
	case T_BLOCK_STRING:
		return parse_string(p);
	case T_NAME:
		return parse_name_value(p);
	case T_DOLLAR:
		return parse_variable(p, is_const);
	default:
		unexpected(p);
		return NULL;
	}
}

/* `(a: 1, b: 2)`, or nothing. Returns 0 or <0; *out NULL when absent. */
static int parse_args(struct parser *p, int is_const, struct hfs_gql_arg **out)
{
	struct hfs_gql_arg **tail = out;
	struct hfs_gql_arg *a;
	int rc;

	*out = NULL;
	rc = optional(p, T_LPAREN);
	if (rc <= 0)
		return rc;
	do {
		a = parse_arg(p, is_const);
		if (!a)
			return p->rc;
		*tail = a;
		tail = &a->next;
		rc = optional(p, T_RPAREN);
	} while (rc == 0);
	return rc < 0 ? rc : 0;
}

static int parse_directives(struct parser *p, int is_const,
                            struct hfs_gql_directive **out)
{
	struct hfs_gql_directive **tail = out;
	struct hfs_gql_directive *d;

	*out = NULL;
	while (p->tok.kind == T_AT) {
		d = node_new(p, sizeof(*d));
		if (!d)
			return p->rc;
		d->line = p->tok.line;
		d->col = p->tok.col;
		if (hfs_gql_lex(p) < 0)
			return p->rc;
		d->name = parse_name(p);
		if (!d->name || parse_args(p, is_const, &d->args) < 0)
			return p->rc;
		*tail = d;
		tail = &d->next;
	}
	return 0;
}

static struct hfs_gql_type *parse_type(struct parser *p)
{
	struct hfs_gql_type *t = node_new(p, sizeof(*t));
	struct hfs_gql_type *nn;
	int rc;

	if (!t)
		return NULL;
	t->line = p->tok.line;
	t->col = p->tok.col;
	rc = optional(p, T_LBRACKET);
	if (rc < 0)
		return NULL;
	if (rc) {
		t->kind = HFS_GQL_TYPE_LIST;
		if (enter(p) < 0)
			return NULL;
		t->of = parse_type(p);
		if (!t->of || expect(p, T_RBRACKET) < 0)
			return NULL;
		p->depth--;
	} else {
		t->kind = HFS_GQL_TYPE_NAMED;
		t->name = parse_name(p);
		if (!t->name)
			return NULL;
	}
	if (p->tok.kind != T_BANG)
		return t;
	nn = node_new(p, sizeof(*nn));
	if (!nn || hfs_gql_lex(p) < 0)
		return NULL;
	nn->kind = HFS_GQL_TYPE_NON_NULL;
	nn->line = t->line;
	nn->col = t->col;
	nn->of = t;
	return nn;
}

/* Length of the printed type; depth is bounded by the parser. */
static size_t type_text_len(const struct hfs_gql_type *t)
{
	switch (t->kind) {
	case HFS_GQL_TYPE_NAMED:
		return strlen(t->name);
	case HFS_GQL_TYPE_LIST:
		return 2 + type_text_len(t->of);
	case HFS_GQL_TYPE_NON_NULL:
		break;
	}
	return 1 + type_text_len(t->of);
}

static char *type_text_put(char *o, const struct hfs_gql_type *t)
{
	size_t n;

	switch (t->kind) {
	case HFS_GQL_TYPE_NAMED:
		n = strlen(t->name);
		memcpy(o, t->name, n);
		return o + n;
	case HFS_GQL_TYPE_LIST:
		*o++ = '[';
		o = type_text_put(o, t->of);
		*o++ = ']';
		return o;
	case HFS_GQL_TYPE_NON_NULL:
		break;
	}
	o = type_text_put(o, t->of);
	*o++ = '!';
	return o;
}

static const char *type_text(struct parser *p, const struct hfs_gql_type *t)
{
	size_t n = type_text_len(t);
	char *s = hf_arena_bytes(&p->doc->arena, n + 1);

	if (!s) {
		hfs_gql_oom(p);
		return NULL;
	}
	*type_text_put(s, t) = '\0';
	return s;
}

static struct hfs_gql_vardef *parse_vardef(struct parser *p)
{
	struct hfs_gql_vardef *d = node_new(p, sizeof(*d));
	int rc;

	if (!d)
		return NULL;
	d->line = p->tok.line;
	d->col = p->tok.col;
	if (expect(p, T_DOLLAR) < 0)
		return NULL;
	d->name_line = p->tok.line;
	d->name_col = p->tok.col;
	d->name = parse_name(p);
	if (!d->name || expect(p, T_COLON) < 0)
		return NULL;
	d->type = parse_type(p);
	if (!d->type)
		return NULL;
	d->type_text = type_text(p, d->type);
	if (!d->type_text)
		return NULL;
	rc = optional(p, T_EQUALS);
	if (rc < 0)
		return NULL;
	if (rc) {
		d->default_value = parse_value(p, 1);
		if (!d->default_value)
			return NULL;
	}
	if (parse_directives(p, 1, &d->directives) < 0)
		return NULL;
	return d;
}

static int parse_vardefs(struct parser *p, struct hfs_gql_vardef **out)
{
	struct hfs_gql_vardef **tail = out;
	struct hfs_gql_vardef *d;
	int rc;

	*out = NULL;
	rc = optional(p, T_LPAREN);
	if (rc <= 0)
		return rc;
	do {
		d = parse_vardef(p);
		if (!d)
			return p->rc;
		*tail = d;
		tail = &d->next;
		rc = optional(p, T_RPAREN);
	} while (rc == 0);
	return rc < 0 ? rc : 0;
}

static int parse_selection_set(struct parser *p,
                               struct hfs_gql_selection **out);

static struct hfs_gql_selection *parse_field(struct parser *p)
{
	struct hfs_gql_selection *s = node_new(p, sizeof(*s));
	int rc;

	if (!s)
		return NULL;
	s->kind = HFS_GQL_FIELD;
	s->line = p->tok.line;
	s->col = p->tok.col;
	s->name_line = s->line;
	s->name_col = s->col;
	s->name = parse_name(p);
	if (!s->name)
		return NULL;
	rc = optional(p, T_COLON);
	if (rc < 0)
		return NULL;
	if (rc) {
		s->alias = s->name;
		s->name_line = p->tok.line;
		s->name_col = p->tok.col;
		s->name = parse_name(p);
		if (!s->name)
			return NULL;
	}
	s->key = s->alias ? s->alias : s->name;
	if (parse_args(p, 0, &s->args) < 0 ||
	    parse_directives(p, 0, &s->directives) < 0)
		return NULL;
	if (p->tok.kind == T_LBRACE &&
	    parse_selection_set(p, &s->selections) < 0)
		return NULL;
	return s;
}

/* `...Name @d`, `... on Type @d { }` or `... @d { }`. */
static struct hfs_gql_selection *parse_fragment(struct parser *p)
{
	struct hfs_gql_selection *s = node_new(p, sizeof(*s));
	int has_cond;

	if (!s)
		return NULL;
	s->line = p->tok.line;
	s->col = p->tok.col;
	if (expect(p, T_SPREAD) < 0)
		return NULL;
	has_cond = is_keyword(p, "on");
	if (has_cond && hfs_gql_lex(p) < 0)
		return NULL;
	if (!has_cond && p->tok.kind == T_NAME) {
		s->kind = HFS_GQL_FRAGMENT_SPREAD;
		s->name_line = p->tok.line;
		s->name_col = p->tok.col;
		s->name = parse_name(p);
		if (!s->name || parse_directives(p, 0, &s->directives) < 0)
			return NULL;
		return s;
	}
	s->kind = HFS_GQL_INLINE_FRAGMENT;
	if (has_cond) {
		s->type_cond = parse_name(p);
		if (!s->type_cond)
			return NULL;
	}
	if (parse_directives(p, 0, &s->directives) < 0 ||
	    parse_selection_set(p, &s->selections) < 0)
		return NULL;
	return s;
}

static int parse_selection_set(struct parser *p, struct hfs_gql_selection **out)
{
	struct hfs_gql_selection **tail = out;
	struct hfs_gql_selection *s;
	int rc;

	*out = NULL;
	if (enter(p) < 0 || expect(p, T_LBRACE) < 0)
		return p->rc;
	do {
		if (p->tok.kind == T_SPREAD)
			s = parse_fragment(p);
		else
			s = parse_field(p);
		if (!s)
			return p->rc;
		*tail = s;
		tail = &s->next;
		rc = optional(p, T_RBRACE);
	} while (rc == 0);
	p->depth--;
	return rc < 0 ? rc : 0;
}

static struct hfs_gql_operation *parse_operation(struct parser *p)
{
	struct hfs_gql_operation *op = node_new(p, sizeof(*op));

	if (!op)
		return NULL;
	op->line = p->tok.line;
	op->col = p->tok.col;
	if (p->tok.kind == T_LBRACE) {
		op->kind = HFS_GQL_QUERY;
		return parse_selection_set(p, &op->selections) < 0 ? NULL : op;
	}
	if (is_keyword(p, "mutation"))
		op->kind = HFS_GQL_MUTATION;
	else if (is_keyword(p, "subscription"))
		op->kind = HFS_GQL_SUBSCRIPTION;
	if (hfs_gql_lex(p) < 0)
		return NULL;
	if (p->tok.kind == T_NAME) {
		op->name_line = p->tok.line;
		op->name_col = p->tok.col;
		op->name = parse_name(p);
		if (!op->name)
			return NULL;
	}
	if (parse_vardefs(p, &op->vars) < 0 ||
	    parse_directives(p, 0, &op->directives) < 0 ||
	    parse_selection_set(p, &op->selections) < 0)
		return NULL;
	return op;
}

static struct hfs_gql_fragment *parse_fragment_def(struct parser *p)
{
	struct hfs_gql_fragment *f = node_new(p, sizeof(*f));

	if (!f)
		return NULL;
	f->line = p->tok.line;
	f->col = p->tok.col;
	if (expect_keyword(p, "fragment") < 0)
		return NULL;
	if (is_keyword(p, "on")) {
		unexpected(p);
		return NULL;
	}
	f->name_line = p->tok.line;
	f->name_col = p->tok.col;
	f->name = parse_name(p);
	if (!f->name || expect_keyword(p, "on") < 0)
		return NULL;
	f->type_cond = parse_name(p);
	if (!f->type_cond || parse_directives(p, 0, &f->directives) < 0 ||
	    parse_selection_set(p, &f->selections) < 0)
		return NULL;
	return f;
}

struct doc_tails {
	struct hfs_gql_operation **op;
	struct hfs_gql_fragment **frag;
};

/*
 * A string before a definition: graphql-core looks at the next token and
 * objects to the description when a Name follows, else to that token.
 */
static int description(struct parser *p)
{
	size_t start = p->tok.start;

	if (hfs_gql_lex(p) < 0)
		return p->rc;
	if (p->tok.kind != T_NAME)
		return unexpected(p);
	return hfs_gql_syntax_error(p, start,
	                            "Unexpected description, descriptions are "
	                            "supported only on type definitions.");
}

static int parse_definition(struct parser *p, struct doc_tails *tails)
{
	struct hfs_gql_operation *op;
	struct hfs_gql_fragment *f;

	if (p->tok.kind == T_LBRACE || is_keyword(p, "query") ||
	    is_keyword(p, "mutation") || is_keyword(p, "subscription")) {
		op = parse_operation(p);
		if (!op)
			return p->rc;
		*tails->op = op;
		tails->op = &op->next;
		p->doc->nops++;
		return 0;
	}
	if (p->tok.kind == T_STRING || p->tok.kind == T_BLOCK_STRING)
		return description(p);
	if (!is_keyword(p, "fragment"))
		return unexpected(p);
	f = parse_fragment_def(p);
	if (!f)
		return p->rc;
	*tails->frag = f;
	tails->frag = &f->next;
	p->doc->nfrags++;
	return 0;
}

static int parse_document(struct parser *p)
{
	struct doc_tails tails;

	tails.op = &p->doc->ops;
	tails.frag = &p->doc->frags;
	if (hfs_gql_lex(p) < 0)
		return p->rc;
	do {
		if (parse_definition(p, &tails) < 0)
			return p->rc;
	} while (p->tok.kind != T_EOF);
	return hfs_gql_frag_table_build(p->doc) < 0 ? hfs_gql_oom(p) : 0;
}

int hfs_gql_parse(hfs_gql_doc **out, const char *src, size_t len, hf_error *err)
{
	hf_arena a;
	struct parser p;
	hfs_gql_doc *doc;

	*out = NULL;
	/* The AST is a few times the size of the text: size blocks to it. */
	hf_arena_init(&a, len);
	doc = hf_arena_alloc(&a, sizeof(*doc));
	if (!doc)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	doc->arena = a;
	memset(&p, 0, sizeof(p));
	p.src = src ? src : "";
	p.len = src ? len : 0;
	p.line = 1;
	p.ccol = 1;
	p.doc = doc;
	p.err = err;
	if (parse_document(&p) < 0) {
		hfs_gql_doc_free(doc);
		return p.rc;
	}
	*out = doc;
	return 0;
}
