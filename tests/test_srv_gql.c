/*
 * The server's GraphQL document parser (server/gql.c): every construct of
 * the executable grammar, graphql-core's error texts and locations, the
 * shapes the Infrahub SDK sends (our own copies in tests/data/gql/valid,
 * plus the captured ones in ../shared when present), variables, field
 * collection, limits, garbage input and allocation failures.
 *
 * The expected messages and locations were checked against graphql-core
 * 3.2 (the parser Infrahub runs). One deliberate difference: graphql-core
 * reports a position at the start of a line as the end of the previous
 * line (it uses str.splitlines()); we report line N, column 1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "failalloc.h"
#include "hf/alloc.h"
#include "hf/buf.h"
#include "../server/gql.h"
#include "testutil.h"

/* ------------------------------------------------------------- helpers */

static hfs_gql_doc *parse_ok(const char *src)
{
	hf_error err = HF_ERROR_INIT;
	hfs_gql_doc *doc = NULL;
	int rc;

	rc = hfs_gql_parse(&doc, src, strlen(src), &err);
	if (rc)
		print_error("parse failed: %d:%d %s\n--\n%s\n", err.line,
		            err.col, err.msg, src);
	assert_int_equal(rc, 0);
	assert_non_null(doc);
	return doc;
}

static hfs_gql_doc *parse_valid(const char *src)
{
	hf_error err = HF_ERROR_INIT;
	hfs_gql_doc *doc = parse_ok(src);
	int rc;

	rc = hfs_gql_validate(doc, &err);
	if (rc)
		print_error("validate failed: %d:%d %s\n--\n%s\n", err.line,
		            err.col, err.msg, src);
	assert_int_equal(rc, 0);
	return doc;
}

struct err_case {
	const char *src;
	const char *msg;
	int line;
	int col;
};

static void check_err(const struct err_case *c, int rc, const hf_error *err)
{
	if (rc != HF_EINVAL || strcmp(err->msg, c->msg) ||
	    err->line != c->line || err->col != c->col)
		print_error("case: %s\n want %d:%d %s\n got  %d %d:%d %s\n",
		            c->src, c->line, c->col, c->msg, rc, err->line,
		            err->col, err->msg);
	assert_int_equal(rc, HF_EINVAL);
	assert_string_equal(err->msg, c->msg);
	assert_int_equal(err->line, c->line);
	assert_int_equal(err->col, c->col);
}

static const struct hfs_gql_operation *first_op(const hfs_gql_doc *doc)
{
	const struct hfs_gql_operation *op = hfs_gql_doc_operations(doc);

	assert_non_null(op);
	return op;
}

/* JSON of a value, compact and with sorted keys; caller hf_free()s. */
static char *value_text(const struct hfs_gql_value *v, const json_t *vars)
{
	hf_error err = HF_ERROR_INIT;
	json_t *j = NULL;
	char *s;

	assert_int_equal(hfs_gql_value_json(&j, v, vars, &err), 0);
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	json_decref(j);
	assert_non_null(s);
	return s;
}

static void assert_value(const struct hfs_gql_value *v, const json_t *vars,
                         const char *want)
{
	char *got = value_text(v, vars);

	if (strcmp(got, want))
		print_error("want %s\n got %s\n", want, got);
	assert_string_equal(got, want);
	hf_free(got);
}

static const struct hfs_gql_value *arg_value(const struct hfs_gql_selection *s,
                                             const char *name)
{
	const struct hfs_gql_arg *a = hfs_gql_arg_find(s->args, name);

	assert_non_null(a);
	return a->value;
}

/* Response keys of a collection, space separated, into a static buffer. */
static const char *keys_of(const struct hfs_gql_fields *f)
{
	static char buf[1024];
	size_t used = 0;
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < f->count && used < sizeof(buf); i++)
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%s",
		                         i ? " " : "", f->groups[i].key);
	return buf;
}

/* ------------------------------------------------------------ grammar */

static void test_srv_gql__shorthand_and_named_operations(void **state)
{
	hfs_gql_doc *doc;
	const struct hfs_gql_operation *op;

	(void)state;
	doc = parse_valid("{ a b }");
	op = first_op(doc);
	assert_int_equal(op->kind, HFS_GQL_QUERY);
	assert_null(op->name);
	assert_null(op->vars);
	assert_string_equal(op->selections->name, "a");
	assert_string_equal(op->selections->next->name, "b");
	assert_null(op->selections->next->next);
	assert_null(op->next);
	assert_int_equal(hfs_gql_doc_nodes(doc), 3);
	hfs_gql_doc_free(doc);

	doc = parse_ok("query Q { a } mutation M { b } subscription S { c }"
	               " query { d }");
	op = first_op(doc);
	assert_int_equal(op->kind, HFS_GQL_QUERY);
	assert_string_equal(op->name, "Q");
	assert_int_equal(op->next->kind, HFS_GQL_MUTATION);
	assert_string_equal(op->next->name, "M");
	assert_int_equal(op->next->next->kind, HFS_GQL_SUBSCRIPTION);
	assert_null(op->next->next->next->name);
	assert_string_equal(hfs_gql_op_kind_str(op->next->kind), "mutation");
	hfs_gql_doc_free(doc);

	/* The SDK's anonymous mutation with variables and `){`. */
	doc = parse_valid("mutation ($v: String!) {\n  X(data: {a: $v}){\n"
	                  "    ok\n  }\n}");
	op = first_op(doc);
	assert_int_equal(op->kind, HFS_GQL_MUTATION);
	assert_null(op->name);
	assert_string_equal(op->vars->name, "v");
	hfs_gql_doc_free(doc);
	doc = parse_valid("mutation($v:String!){X(data:{a:$v}){ok}}");
	hfs_gql_doc_free(doc);
}

static void test_srv_gql__variable_definitions(void **state)
{
	hfs_gql_doc *doc;
	const struct hfs_gql_vardef *d;

	(void)state;
	doc = parse_ok("query Q($a: String!, $b: [ID] = [\"x\",], "
	               "$c: [[Int!]]!, $d: Boolean = true @dir(x: 1)) "
	               "{ f(a: $a, b: $b, c: $c, d: $d) }");
	d = first_op(doc)->vars;
	assert_string_equal(d->name, "a");
	assert_string_equal(d->type_text, "String!");
	assert_int_equal(d->type->kind, HFS_GQL_TYPE_NON_NULL);
	assert_int_equal(d->type->of->kind, HFS_GQL_TYPE_NAMED);
	assert_string_equal(d->type->of->name, "String");
	assert_null(d->default_value);
	assert_int_equal(d->line, 1);
	assert_int_equal(d->col, 9);
	assert_int_equal(d->name_col, 10);

	d = d->next;
	assert_string_equal(d->type_text, "[ID]");
	assert_int_equal(d->type->kind, HFS_GQL_TYPE_LIST);
	assert_string_equal(d->type->of->name, "ID");
	assert_value(d->default_value, NULL, "[\"x\"]");

	d = d->next;
	assert_string_equal(d->type_text, "[[Int!]]!");
	assert_int_equal(d->type->of->kind, HFS_GQL_TYPE_LIST);
	assert_int_equal(d->type->of->of->of->kind, HFS_GQL_TYPE_NON_NULL);

	d = d->next;
	assert_string_equal(d->type_text, "Boolean");
	assert_value(d->default_value, NULL, "true");
	assert_string_equal(d->directives->name, "dir");
	assert_null(d->next);
	hfs_gql_doc_free(doc);
}

static void test_srv_gql__fields_aliases_arguments_directives(void **state)
{
	hfs_gql_doc *doc;
	const struct hfs_gql_selection *s;

	(void)state;
	doc = parse_ok("{\n  __alias__TestingSwitch__ports: ports(limit: 5, "
	               "offset: 0) @include(if: true) @skip(if: false) "
	               "{ count }\n  plain\n}");
	s = first_op(doc)->selections;
	assert_int_equal(s->kind, HFS_GQL_FIELD);
	assert_string_equal(s->alias, "__alias__TestingSwitch__ports");
	assert_string_equal(s->name, "ports");
	assert_string_equal(s->key, "__alias__TestingSwitch__ports");
	assert_int_equal(s->line, 2);
	assert_int_equal(s->col, 3);
	assert_int_equal(s->name_col, 34);
	assert_string_equal(s->args->name, "limit");
	assert_value(arg_value(s, "offset"), NULL, "0");
	assert_null(hfs_gql_arg_find(s->args, "nope"));
	assert_string_equal(s->directives->name, "include");
	assert_string_equal(s->directives->next->name, "skip");
	assert_string_equal(s->selections->name, "count");
	assert_null(s->selections->selections);
	s = s->next;
	assert_null(s->alias);
	assert_string_equal(s->key, "plain");
	assert_null(s->args);
	assert_null(s->selections);
	hfs_gql_doc_free(doc);
}

static void test_srv_gql__fragments(void **state)
{
	hfs_gql_doc *doc;
	const struct hfs_gql_selection *s;
	const struct hfs_gql_fragment *f;

	(void)state;
	doc = parse_valid("{ n { ...F @skip(if: false) ... on T { a } "
	                  "... @include(if: true) { b } ... { c } } }\n"
	                  "fragment F on Generic @x { d }");
	s = first_op(doc)->selections->selections;
	assert_int_equal(s->kind, HFS_GQL_FRAGMENT_SPREAD);
	assert_string_equal(s->name, "F");
	assert_string_equal(s->directives->name, "skip");
	s = s->next;
	assert_int_equal(s->kind, HFS_GQL_INLINE_FRAGMENT);
	assert_string_equal(s->type_cond, "T");
	assert_string_equal(s->selections->name, "a");
	s = s->next;
	assert_int_equal(s->kind, HFS_GQL_INLINE_FRAGMENT);
	assert_null(s->type_cond);
	assert_string_equal(s->directives->name, "include");
	s = s->next;
	assert_null(s->type_cond);
	assert_string_equal(s->selections->name, "c");
	f = hfs_gql_doc_fragments(doc);
	assert_string_equal(f->name, "F");
	assert_string_equal(f->type_cond, "Generic");
	assert_string_equal(f->directives->name, "x");
	assert_ptr_equal(hfs_gql_doc_fragment(doc, "F"), f);
	assert_null(hfs_gql_doc_fragment(doc, "G"));
	hfs_gql_doc_free(doc);
}

static void test_srv_gql__values(void **state)
{
	hfs_gql_doc *doc;
	const struct hfs_gql_selection *s;
	const struct hfs_gql_value *v;

	(void)state;
	doc = parse_ok("{ f(i: -12, big: 123456789012345678901, z: 0, "
	               "fl: 1.5e3, fn: -0.25, t: true, fa: false, n: null, "
	               "e: ENUM_V, on: on, v: $x, l: [1, [2, [3]],], "
	               "o: {a: {b: [{c: null},],}, d: \"s\"}, el: [], "
	               "eo: {}) }");
	s = first_op(doc)->selections;
	v = arg_value(s, "i");
	assert_int_equal(v->kind, HFS_GQL_INT);
	assert_true(v->int_fits);
	assert_int_equal(v->ival, -12);
	assert_string_equal(v->str, "-12");
	v = arg_value(s, "big");
	assert_false(v->int_fits);
	assert_value(v, NULL, "1.2345678901234568e20");
	assert_value(arg_value(s, "z"), NULL, "0");
	v = arg_value(s, "fl");
	assert_int_equal(v->kind, HFS_GQL_FLOAT);
	assert_string_equal(v->str, "1.5e3");
	assert_value(v, NULL, "1500.0");
	assert_value(arg_value(s, "fn"), NULL, "-0.25");
	assert_int_equal(arg_value(s, "t")->kind, HFS_GQL_BOOLEAN);
	assert_value(arg_value(s, "t"), NULL, "true");
	assert_value(arg_value(s, "fa"), NULL, "false");
	assert_int_equal(arg_value(s, "n")->kind, HFS_GQL_NULL);
	v = arg_value(s, "e");
	assert_int_equal(v->kind, HFS_GQL_ENUM);
	assert_value(v, NULL, "\"ENUM_V\"");
	assert_int_equal(arg_value(s, "on")->kind, HFS_GQL_ENUM);
	v = arg_value(s, "v");
	assert_int_equal(v->kind, HFS_GQL_VARIABLE);
	assert_string_equal(v->str, "x");
	v = arg_value(s, "l");
	assert_int_equal(v->kind, HFS_GQL_LIST);
	assert_int_equal(v->count, 2);
	assert_value(v, NULL, "[1,[2,[3]]]");
	v = arg_value(s, "o");
	assert_int_equal(v->kind, HFS_GQL_OBJECT);
	assert_int_equal(v->count, 2);
	assert_string_equal(v->fields->name, "a");
	assert_value(v, NULL, "{\"a\":{\"b\":[{\"c\":null}]},\"d\":\"s\"}");
	assert_value(arg_value(s, "el"), NULL, "[]");
	assert_value(arg_value(s, "eo"), NULL, "{}");
	hfs_gql_doc_free(doc);
}

static void test_srv_gql__string_escapes(void **state)
{
	hfs_gql_doc *doc;
	const struct hfs_gql_value *v;

	(void)state;
	doc = parse_ok(
	        "{ f(a: \"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t\", "
	        "u: \"\\u00e9\\u4E2D\", p: \"\\uD83D\\uDE00\", "
	        "w: \"\\u{1F600}\\u{41}\", raw: \"\xc3\xa9\xf0\x9f\x98\x80\", "
	        "nul: \"a\\u0000b\", e: \"\") }");
	v = arg_value(first_op(doc)->selections, "a");
	assert_int_equal(v->kind, HFS_GQL_STRING);
	assert_false(v->block);
	assert_string_equal(v->str, "q\" b\\ s/ \b\f\n\r\t");
	v = arg_value(first_op(doc)->selections, "u");
	assert_string_equal(v->str, "\xc3\xa9\xe4\xb8\xad");
	v = arg_value(first_op(doc)->selections, "p");
	assert_string_equal(v->str, "\xf0\x9f\x98\x80");
	v = arg_value(first_op(doc)->selections, "w");
	assert_string_equal(v->str, "\xf0\x9f\x98\x80"
	                            "A");
	v = arg_value(first_op(doc)->selections, "raw");
	assert_string_equal(v->str, "\xc3\xa9\xf0\x9f\x98\x80");
	v = arg_value(first_op(doc)->selections, "nul");
	assert_int_equal(v->len, 3);
	assert_memory_equal(v->str, "a\0b", 3);
	assert_value(v, NULL, "\"a\\u0000b\"");
	v = arg_value(first_op(doc)->selections, "e");
	assert_int_equal(v->len, 0);
	assert_string_equal(v->str, "");
	hfs_gql_doc_free(doc);
}

static void block_case(const char *src, const char *want)
{
	hfs_gql_doc *doc = parse_ok(src);
	const struct hfs_gql_value *v =
	        arg_value(first_op(doc)->selections, "x");

	assert_int_equal(v->kind, HFS_GQL_STRING);
	assert_true(v->block);
	if (strcmp(v->str, want))
		print_error("block %s\n want [%s]\n got [%s]\n", src, want,
		            v->str);
	assert_string_equal(v->str, want);
	assert_int_equal(v->len, strlen(want));
	hfs_gql_doc_free(doc);
}

static void test_srv_gql__block_strings(void **state)
{
	(void)state;
	block_case("{ a(x: \"\"\"block\"\"\") }", "block");
	block_case(
	        "{ a(x: \"\"\"\n    indented\n      more\n    back\n\"\"\") }",
	        "indented\n  more\nback");
	block_case("{ a(x: \"\"\"  first line\n    second\n  third\"\"\") }",
	           "  first line\n  second\nthird");
	block_case("{ a(x: \"\"\"\n\n  leading\n\n  trailing\n\n\"\"\") }",
	           "leading\n\ntrailing");
	block_case("{ a(x: \"\"\"escaped \\\"\"\" quote\"\"\") }",
	           "escaped \"\"\" quote");
	block_case("{ a(x: \"\"\"\\n is raw\"\"\") }", "\\n is raw");
	block_case("{ a(x: \"\"\"\ttab\n\tindented\"\"\") }",
	           "\ttab\nindented");
	block_case("{ a(x: \"\"\"a\r\n  b\r  c\"\"\") }", "a\nb\nc");
	block_case("{ a(x: \"\"\"   \"\"\") }", "");
	block_case("{ a(x: \"\"\"\"\"\") }", "");
	block_case("{ a(x: \"\"\"a\"b\"\"c\"\"\") }", "a\"b\"\"c");
}

static void test_srv_gql__ignored_tokens(void **state)
{
	hfs_gql_doc *doc;
	const struct hfs_gql_selection *s;

	(void)state;
	/* BOM, commas everywhere, comments, CRLF and CR line ends. */
	doc = parse_ok("\xef\xbb\xbf# leading comment\r\n{ a,, , b # c\r"
	               "  c(x: 1,,, y: [1,,2,],) \xef\xbb\xbf d }# end");
	s = first_op(doc)->selections;
	assert_string_equal(s->name, "a");
	assert_string_equal(s->next->name, "b");
	s = s->next->next;
	assert_string_equal(s->name, "c");
	assert_int_equal(s->line, 3);
	assert_int_equal(s->col, 3);
	assert_value(arg_value(s, "y"), NULL, "[1,2]");
	assert_string_equal(s->next->name, "d");
	hfs_gql_doc_free(doc);
}

static void test_srv_gql__locations(void **state)
{
	hfs_gql_doc *doc;
	const struct hfs_gql_operation *op;
	const struct hfs_gql_selection *s;

	(void)state;
	doc = parse_ok("\n\n  query Q {\n\ta(x: \"\xc3\xa9\xe4\xb8\xad\", y: 1)"
	               " {\n  b\n  }\n  c: d\n}");
	op = first_op(doc);
	assert_int_equal(op->line, 3);
	assert_int_equal(op->col, 3);
	assert_int_equal(op->name_line, 3);
	assert_int_equal(op->name_col, 9);
	s = op->selections;
	assert_int_equal(s->line, 4);
	assert_int_equal(s->col, 2);
	assert_int_equal(s->args->col, 4);
	assert_int_equal(s->args->value->col, 7);
	/* Columns count characters: "é中" is two, not five bytes. */
	assert_int_equal(s->args->next->col, 13);
	assert_int_equal(s->args->next->value->col, 16);
	assert_int_equal(s->selections->line, 5);
	assert_int_equal(s->selections->col, 3);
	assert_int_equal(s->next->line, 7);
	assert_int_equal(s->next->name_col, 6);
	hfs_gql_doc_free(doc);

	/* A block string moves the line count on. */
	doc = parse_ok("{ a(x: \"\"\"\n1\n2\n\"\"\") b }");
	s = first_op(doc)->selections->next;
	assert_int_equal(s->line, 4);
	assert_int_equal(s->col, 6);
	hfs_gql_doc_free(doc);
}

/* ------------------------------------------------------------- errors */

/* clang-format off */
static const struct err_case syntax_cases[] = {
	{ "", "Syntax Error: Unexpected <EOF>.", 1, 1 },
	{ "  # only a comment\n", "Syntax Error: Unexpected <EOF>.", 2, 1 },
	{ "{}", "Syntax Error: Expected Name, found '}'.", 1, 2 },
	{ "{ a", "Syntax Error: Expected Name, found <EOF>.", 1, 4 },
	{ "query", "Syntax Error: Expected '{', found <EOF>.", 1, 6 },
	{ "query Q($) { a }", "Syntax Error: Expected Name, found ')'.", 1, 10 },
	{ "query Q() { a }", "Syntax Error: Expected '$', found ')'.", 1, 9 },
	{ "query Q($a) { a }", "Syntax Error: Expected ':', found ')'.", 1, 11 },
	{ "query Q($a: ) { a }", "Syntax Error: Expected Name, found ')'.", 1, 13 },
	{ "query Q($a: [String) { a }", "Syntax Error: Expected ']', found ')'.", 1, 20 },
	{ "query Q($a: String = $b) { a }", "Syntax Error: Unexpected variable '$b' in constant value.", 1, 22 },
	{ "query Q($a: String = [1, $b]) { a }", "Syntax Error: Unexpected variable '$b' in constant value.", 1, 26 },
	{ "query Q($a: String = $) { a }", "Syntax Error: Unexpected '$'.", 1, 22 },
	{ "fragment on on T { a }", "Syntax Error: Unexpected Name 'on'.", 1, 10 },
	{ "fragment F T { a }", "Syntax Error: Expected 'on', found Name 'T'.", 1, 12 },
	{ "fragment F on { a }", "Syntax Error: Expected Name, found '{'.", 1, 15 },
	{ "{ ...on }", "Syntax Error: Expected Name, found '}'.", 1, 9 },
	{ "{ ...on T }", "Syntax Error: Expected '{', found '}'.", 1, 11 },
	{ "{ a(x: 01) }", "Syntax Error: Invalid number, unexpected digit after 0: '1'.", 1, 9 },
	{ "{ a(x: 1.) }", "Syntax Error: Invalid number, expected digit but got: ')'.", 1, 10 },
	{ "{ a(x: 1.a) }", "Syntax Error: Invalid number, expected digit but got: 'a'.", 1, 10 },
	{ "{ a(x: 1e+) }", "Syntax Error: Invalid number, expected digit but got: ')'.", 1, 11 },
	{ "{ a(x: -) }", "Syntax Error: Invalid number, expected digit but got: ')'.", 1, 9 },
	{ "{ a(x: 12abc) }", "Syntax Error: Invalid number, expected digit but got: 'a'.", 1, 10 },
	{ "{ a(x: 1.2.3) }", "Syntax Error: Invalid number, expected digit but got: '.'.", 1, 11 },
	{ "{ a(x: 1", "Syntax Error: Expected Name, found <EOF>.", 1, 9 },
	{ "{ a(x: \"abc) }", "Syntax Error: Unterminated string.", 1, 15 },
	{ "{ a(x: \"abc\n\") }", "Syntax Error: Unterminated string.", 1, 12 },
	{ "{ a(x: \"\\x\") }", "Syntax Error: Invalid character escape sequence: '\\x'.", 1, 9 },
	{ "{ a(x: \"\\u12\") }", "Syntax Error: Invalid Unicode escape sequence: '\\u12\")'.", 1, 9 },
	{ "{ a(x: \"\\u12G4\") }", "Syntax Error: Invalid Unicode escape sequence: '\\u12G4'.", 1, 9 },
	{ "{ a(x: \"\\uD800\") }", "Syntax Error: Invalid Unicode escape sequence: '\\uD800'.", 1, 9 },
	{ "{ a(x: \"\\uD800\\u0041\") }", "Syntax Error: Invalid Unicode escape sequence: '\\uD800'.", 1, 9 },
	{ "{ a(x: \"\\uDC00\") }", "Syntax Error: Invalid Unicode escape sequence: '\\uDC00'.", 1, 9 },
	{ "{ a(x: \"\\u{}\") }", "Syntax Error: Invalid Unicode escape sequence: '\\u{}'.", 1, 9 },
	{ "{ a(x: \"\\u{110000}\") }", "Syntax Error: Invalid Unicode escape sequence: '\\u{110000}'.", 1, 9 },
	{ "{ a(x: \"\\u{0000000041}\") }", "Syntax Error: Invalid Unicode escape sequence: '\\u{000000004'.", 1, 9 },
	{ "{ a(x: \"\"\"open) }", "Syntax Error: Unterminated string.", 1, 18 },
	{ "{ a(x: 'abc') }", "Syntax Error: Unexpected single quote character ('), did you mean to use a double quote (\")?", 1, 8 },
	{ "{ a % }", "Syntax Error: Unexpected character: '%'.", 1, 5 },
	{ "{ a . }", "Syntax Error: Unexpected character: '.'.", 1, 5 },
	{ "{ a .. }", "Syntax Error: Unexpected character: '.'.", 1, 5 },
	{ "{ a \x07 }", "Syntax Error: Unexpected character: U+0007.", 1, 5 },
	{ "{ \xc3\xa9 }", "Syntax Error: Unexpected character: U+00E9.", 1, 3 },
	{ "{ a(x: \"\xc3\xa9\xe4\xb8\xad\" y: %) }", "Syntax Error: Unexpected character: '%'.", 1, 16 },
	{ "{\r\n a\r\n b(x: %) }", "Syntax Error: Unexpected character: '%'.", 3, 7 },
	{ "{\r a\r b(x: %) }", "Syntax Error: Unexpected character: '%'.", 3, 7 },
	{ "{ a(x: {a}) }", "Syntax Error: Expected ':', found '}'.", 1, 10 },
	{ "{ a(x: {1: 2}) }", "Syntax Error: Expected Name, found Int '1'.", 1, 9 },
	{ "{ a(x: [1 2 3) }", "Syntax Error: Unexpected ')'.", 1, 14 },
	{ "{ a(x: ) }", "Syntax Error: Unexpected ')'.", 1, 8 },
	{ "{ a() }", "Syntax Error: Expected Name, found ')'.", 1, 5 },
	{ "{ a @ }", "Syntax Error: Expected Name, found '}'.", 1, 7 },
	{ "{ a: }", "Syntax Error: Expected Name, found '}'.", 1, 6 },
	{ "{ a { } }", "Syntax Error: Expected Name, found '}'.", 1, 7 },
	{ "{ a } x", "Syntax Error: Unexpected Name 'x'.", 1, 7 },
	{ "{ a } query", "Syntax Error: Expected '{', found <EOF>.", 1, 12 },
	{ "{ a } &", "Syntax Error: Unexpected '&'.", 1, 7 },
	{ "{ a(x: \"long string value\") } \"s\"", "Syntax Error: Unexpected <EOF>.", 1, 34 },
	{ "\"desc\" query { a }", "Syntax Error: Unexpected description, descriptions are supported only on type definitions.", 1, 1 },
	{ "type Query { a: Int }", "Syntax Error: Unexpected Name 'type'.", 1, 1 },
	{ "{ a(x: \"s\") b(x: \"\"\"t\"\"\" c: } }", "Syntax Error: Unexpected '}'.", 1, 29 },
	{ "{ a(x: \"str\" \"s2\") }", "Syntax Error: Expected Name, found String 's2'.", 1, 14 },
	{ "query Q { a(x: 1.5) } 2", "Syntax Error: Unexpected Int '2'.", 1, 23 },
	{ "query Q { a(x: 1.5) } 2.5", "Syntax Error: Unexpected Float '2.5'.", 1, 23 },
};
/* clang-format on */

static void test_srv_gql__syntax_errors(void **state)
{
	hf_error err;
	hfs_gql_doc *doc;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(syntax_cases) / sizeof(syntax_cases[0]); i++) {
		hf_error_clear(&err);
		doc = (hfs_gql_doc *)1;
		rc = hfs_gql_parse(&doc, syntax_cases[i].src,
		                   strlen(syntax_cases[i].src), &err);
		assert_null(doc);
		check_err(&syntax_cases[i], rc, &err);
	}
	/* NULL err is allowed. */
	assert_int_equal(hfs_gql_parse(&doc, "{", 1, NULL), HF_EINVAL);
	/* A NUL byte is a character like any other, not the end. */
	hf_error_clear(&err);
	assert_int_equal(hfs_gql_parse(&doc, "{ a\0 }", 6, &err), HF_EINVAL);
	assert_string_equal(err.msg,
	                    "Syntax Error: Unexpected character: U+0000.");
}

/* clang-format off */
static const struct err_case validation_cases[] = {
	{ "query Q { a } query Q { b }", "There can be only one operation named 'Q'.", 1, 7 },
	{ "query Q { a } { b }", "This anonymous operation must be the only defined operation.", 1, 15 },
	{ "fragment F on T { a } fragment F on T { b } { ...F }", "There can be only one fragment named 'F'.", 1, 10 },
	{ "{ ...F }", "Unknown fragment 'F'.", 1, 6 },
	{ "{ a } fragment G on T { ... on T { ...H } }", "Unknown fragment 'H'.", 1, 39 },
	{ "fragment F on T { a } { b }", "Fragment 'F' is never used.", 1, 1 },
	{ "fragment F on T { ...F } { ...F }", "Cannot spread fragment 'F' within itself.", 1, 19 },
	{ "fragment A on T { ...B } fragment B on T { ...C } fragment C on T { ...A } { ...A }",
	  "Cannot spread fragment 'A' within itself via 'B', 'C'.", 1, 19 },
	{ "query Q($a: Int, $a: Int) { f(x: $a) }", "There can be only one variable named '$a'.", 1, 10 },
	{ "query Q { f(x: $a) }", "Variable '$a' is not defined by operation 'Q'.", 1, 16 },
	{ "{ f(x: [{y: $a}]) }", "Variable '$a' is not defined.", 1, 13 },
	{ "query Q { ...F } fragment F on T { f @include(if: $a) }", "Variable '$a' is not defined by operation 'Q'.", 1, 51 },
	{ "query Q($a: Int) { f }", "Variable '$a' is never used in operation 'Q'.", 1, 9 },
	{ "query ($a: Int) { f }", "Variable '$a' is never used.", 1, 8 },
};
/* clang-format on */

static void test_srv_gql__validation_errors(void **state)
{
	hf_error err;
	hfs_gql_doc *doc;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(validation_cases) / sizeof(validation_cases[0]);
	     i++) {
		hf_error_clear(&err);
		doc = parse_ok(validation_cases[i].src);
		rc = hfs_gql_validate(doc, &err);
		check_err(&validation_cases[i], rc, &err);
		hfs_gql_doc_free(doc);
	}
	/* Variables used through fragments count as used. */
	doc = parse_valid(
	        "query Q($a: Int, $b: Boolean!) { ...F @skip(if: $b) }"
	        " fragment F on T { ...G } fragment G on T "
	        "{ f(x: [$a]) }");
	hfs_gql_doc_free(doc);
}

/* ------------------------------------------------------ SDK documents */

/* Parse, validate and pick the operation of one document. */
static void sdk_doc(const char *name, const char *text, const json_t *vars)
{
	const struct hfs_gql_operation *op = NULL;
	hf_error err = HF_ERROR_INIT;
	hfs_gql_doc *doc = NULL;
	json_t *coerced = NULL;
	int rc;

	rc = hfs_gql_parse(&doc, text, strlen(text), &err);
	if (rc == 0)
		rc = hfs_gql_validate(doc, &err);
	if (rc == 0)
		op = hfs_gql_doc_operations(doc);
	for (; rc == 0 && op; op = op->next) {
		rc = hfs_gql_vars_coerce(&coerced, op, vars, &err);
		json_decref(coerced);
		assert_non_null(op->selections);
	}
	if (rc)
		print_error("%s: %d:%d %s\n", name, err.line, err.col, err.msg);
	assert_int_equal(rc, 0);
	hfs_gql_doc_free(doc);
}

static size_t sdk_dir(const char *dir, const char *suffix, const json_t *vars)
{
	char path[1024];
	struct dirent *e;
	size_t n = 0;
	size_t len;
	char *text;
	DIR *d;

	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		len = strlen(e->d_name);
		if (len < strlen(suffix) ||
		    strcmp(e->d_name + len - strlen(suffix), suffix))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		text = hf_read_file(path, NULL);
		assert_non_null(text);
		sdk_doc(e->d_name, text, vars);
		hf_free(text);
		n++;
	}
	closedir(d);
	return n;
}

static void test_srv_gql__sdk_shapes(void **state)
{
	char dir[1024];
	json_t *vars;
	const char *data = hf_test_data();

	(void)state;
	assert_non_null(data);
	snprintf(dir, sizeof(dir), "%s/gql/valid", data);
	vars = json_pack("{s:s, s:s, s:s, s:s}", "branch_name", "main",
	                 "value_0f1e2d3c4b5a69788796a5b4c3d2e1f0",
	                 "New \"quoted\" value", "id", "x", "name", "n");
	assert_true(sdk_dir(dir, ".graphql", vars) >= 15);
	json_decref(vars);
}

/* The documents the real SDK sent (../shared), when present. */
static void test_srv_gql__sdk_fixtures(void **state)
{
	const char *shared = hf_test_shared();
	json_error_t jerr;
	char dir[1024];
	char path[1200];
	json_t *reqs;
	json_t *vars;
	json_t *r;
	json_t *body;
	size_t i;
	size_t n = 0;

	(void)state;
	if (!shared) {
		print_message("skipped: $HF_SHARED_DIR (../shared) not "
		              "present\n");
		skip();
	}
	snprintf(dir, sizeof(dir), "%s/fixtures/infrahub/queries", shared);
	vars = json_pack("{s:s, s:s}", "branch_name", "main",
	                 "value_18eac79b6f949f8be373965a890a6010",
	                 "New York \"JFK\" airport");
	assert_true(sdk_dir(dir, ".graphql", vars) >= 10);
	json_decref(vars);
	snprintf(path, sizeof(path), "%s/requests.json", dir);
	reqs = json_load_file(path, 0, &jerr);
	assert_non_null(reqs);
	json_array_foreach(reqs, i, r)
	{
		body = json_object_get(r, "json_body");
		if (!json_is_object(body))
			continue;
		sdk_doc(json_string_value(json_object_get(r, "name")),
		        json_string_value(json_object_get(body, "query")),
		        json_object_get(body, "variables"));
		n++;
	}
	assert_true(n >= 10);
	json_decref(reqs);
}

/* ------------------------------------------------- operation, variables */

static void test_srv_gql__operation_find(void **state)
{
	const struct hfs_gql_operation *op = NULL;
	hf_error err = HF_ERROR_INIT;
	hfs_gql_doc *doc;

	(void)state;
	doc = parse_ok("{ a }");
	assert_int_equal(hfs_gql_operation_find(&op, doc, NULL, &err), 0);
	assert_ptr_equal(op, first_op(doc));
	assert_int_equal(hfs_gql_operation_find(&op, doc, "", &err), 0);
	assert_int_equal(hfs_gql_operation_find(&op, doc, "X", &err),
	                 HF_EINVAL);
	assert_null(op);
	assert_string_equal(err.msg, "Unknown operation named 'X'.");
	hfs_gql_doc_free(doc);

	doc = parse_ok("query A { a } mutation B { b }");
	assert_int_equal(hfs_gql_operation_find(&op, doc, NULL, &err),
	                 HF_EINVAL);
	assert_null(op);
	assert_string_equal(err.msg, "Must provide operation name if query "
	                             "contains multiple operations.");
	assert_int_equal(hfs_gql_operation_find(&op, doc, "B", &err), 0);
	assert_string_equal(op->name, "B");
	assert_int_equal(op->kind, HFS_GQL_MUTATION);
	hfs_gql_doc_free(doc);

	doc = parse_ok("fragment F on T { a }");
	assert_int_equal(hfs_gql_operation_find(&op, doc, NULL, &err),
	                 HF_EINVAL);
	assert_string_equal(err.msg, "Must provide an operation.");
	hfs_gql_doc_free(doc);
}

static char *coerce_text(const char *src, const char *vars_json)
{
	hf_error err = HF_ERROR_INIT;
	hfs_gql_doc *doc = parse_ok(src);
	json_t *given = vars_json ? json_loads(vars_json, 0, NULL) : NULL;
	json_t *out = NULL;
	char *s;

	if (hfs_gql_vars_coerce(&out, first_op(doc), given, &err))
		print_error("coerce: %s\n", err.msg);
	assert_non_null(out);
	s = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(out);
	json_decref(given);
	hfs_gql_doc_free(doc);
	return s;
}

static void coerce_case(const char *src, const char *vars, const char *want)
{
	char *got = coerce_text(src, vars);

	if (strcmp(got, want))
		print_error("coerce %s %s\n want %s\n got  %s\n", src,
		            vars ? vars : "(none)", want, got);
	assert_string_equal(got, want);
	hf_free(got);
}

static void test_srv_gql__vars_coerce(void **state)
{
	(void)state;
	/* Provided, defaulted, absent (left out), undeclared (dropped). */
	coerce_case("query($a: String!, $b: [ID] = [\"x\"], $c: Int, "
	            "$d: Float = 2) { f(a: $a, b: $b, c: $c, d: $d) }",
	            "{\"a\": \"s\", \"zz\": 1}",
	            "{\"a\":\"s\",\"b\":[\"x\"],\"d\":2}");
	/* NULL or JSON null variables are "none". */
	coerce_case("query($c: Int) { f(c: $c) }", NULL, "{}");
	coerce_case("query($c: Int) { f(c: $c) }", "null", "{}");
	/* Explicit null for a nullable variable is kept. */
	coerce_case("query($c: Int) { f(c: $c) }", "{\"c\": null}",
	            "{\"c\":null}");
	/* Scalars: ID from an int, Float from an int, Int from 3.0. */
	coerce_case("query($i: ID, $f: Float, $n: Int, $b: Boolean) "
	            "{ f(i: $i, f: $f, n: $n, b: $b) }",
	            "{\"i\": 42, \"f\": 3, \"n\": 3.0, \"b\": false}",
	            "{\"b\":false,\"f\":3.0,\"i\":\"42\",\"n\":3}");
	/* A single value for a list type becomes a list of one. */
	coerce_case("query($l: [String], $m: [[Int]]) { f(l: $l, m: $m) }",
	            "{\"l\": \"one\", \"m\": [1, [2]]}",
	            "{\"l\":[\"one\"],\"m\":[[1],[2]]}");
	coerce_case("query($l: [String] = \"d\") { f(l: $l) }", NULL,
	            "{\"l\":[\"d\"]}");
	/* Input objects and custom scalars pass through untouched. */
	coerce_case("query($o: TestingInput!, $j: GenericScalar) "
	            "{ f(o: $o, j: $j) }",
	            "{\"o\": {\"a\": [1, \"x\"]}, \"j\": {\"k\": true}}",
	            "{\"j\":{\"k\":true},\"o\":{\"a\":[1,\"x\"]}}");
}

/* clang-format off */
static const struct {
	const char *src;
	const char *vars;
	const char *msg;
} coerce_errors[] = {
	{ "query($a: String!) { f(a: $a) }", "{}",
	  "Variable '$a' of required type 'String!' was not provided." },
	{ "query($a: [ID!]!) { f(a: $a) }", NULL,
	  "Variable '$a' of required type '[ID!]!' was not provided." },
	{ "query($a: String!) { f(a: $a) }", "{\"a\": null}",
	  "Variable '$a' of non-null type 'String!' must not be null." },
	{ "query($a: String) { f(a: $a) }", "{\"a\": 5}",
	  "Variable '$a' got invalid value 5; String cannot represent a non string value: 5" },
	{ "query($a: Int) { f(a: $a) }", "{\"a\": \"x\"}",
	  "Variable '$a' got invalid value 'x'; Int cannot represent non-integer value: 'x'" },
	{ "query($a: Int) { f(a: $a) }", "{\"a\": 3000000000}",
	  "Variable '$a' got invalid value 3000000000; Int cannot represent non 32-bit signed integer value: 3000000000" },
	{ "query($a: Float) { f(a: $a) }", "{\"a\": true}",
	  "Variable '$a' got invalid value True; Float cannot represent non numeric value: True" },
	{ "query($a: Boolean) { f(a: $a) }", "{\"a\": \"it's\"}",
	  "Variable '$a' got invalid value \"it's\"; Boolean cannot represent a non boolean value: \"it's\"" },
	{ "query($a: ID) { f(a: $a) }", "{\"a\": [1.5]}",
	  "Variable '$a' got invalid value [1.5]; ID cannot represent value: [1.5]" },
	{ "query($a: [String!]) { f(a: $a) }", "{\"a\": [\"x\", null]}",
	  "Variable '$a' got invalid value None at 'a[1]'; Expected non-nullable type 'String!' not to be null." },
	{ "query($a: [[Int]]) { f(a: $a) }", "{\"a\": [[1], [2, {\"k\": \"v\"}]]}",
	  "Variable '$a' got invalid value {'k': 'v'} at 'a[1][1]'; Int cannot represent non-integer value: {'k': 'v'}" },
};
/* clang-format on */

static void test_srv_gql__vars_coerce_errors(void **state)
{
	hf_error err;
	hfs_gql_doc *doc;
	json_t *given;
	json_t *out;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(coerce_errors) / sizeof(coerce_errors[0]); i++) {
		hf_error_clear(&err);
		doc = parse_ok(coerce_errors[i].src);
		given = coerce_errors[i].vars
		                ? json_loads(coerce_errors[i].vars, 0, NULL)
		                : NULL;
		out = (json_t *)1;
		rc = hfs_gql_vars_coerce(&out, first_op(doc), given, &err);
		if (rc != HF_EINVAL || strcmp(err.msg, coerce_errors[i].msg))
			print_error("want %s\n got %s\n", coerce_errors[i].msg,
			            err.msg);
		assert_int_equal(rc, HF_EINVAL);
		assert_null(out);
		assert_string_equal(err.msg, coerce_errors[i].msg);
		/* Located at the variable definition. */
		assert_int_equal(err.line, 1);
		assert_int_equal(err.col, 7);
		json_decref(given);
		hfs_gql_doc_free(doc);
	}
}

static void test_srv_gql__value_json_with_variables(void **state)
{
	hf_error err = HF_ERROR_INIT;
	const struct hfs_gql_selection *s;
	hfs_gql_doc *doc;
	json_t *vars;
	json_t *j;

	(void)state;
	doc = parse_ok("query($v: String, $w: Int, $o: In) { f(data: {a: $v, "
	               "b: $w, c: [$v, $w], d: {e: $w}}, x: $w, o: $o) }");
	s = first_op(doc)->selections;
	vars = json_pack("{s:s, s:{s:i}}", "v", "s", "o", "k", 1);
	/* Unprovided $w: absent in objects, null in lists, null alone. */
	assert_value(arg_value(s, "data"), vars,
	             "{\"a\":\"s\",\"c\":[\"s\",null],\"d\":{}}");
	assert_value(arg_value(s, "x"), vars, "null");
	assert_value(arg_value(s, "x"), NULL, "null");
	assert_value(arg_value(s, "o"), vars, "{\"k\":1}");
	/* The argument helper says "absent" for an unprovided variable. */
	j = (json_t *)1;
	assert_int_equal(hfs_gql_arg_json(&j, s, "x", vars, &err), 0);
	assert_null(j);
	assert_int_equal(hfs_gql_arg_json(&j, s, "missing", vars, &err), 0);
	assert_null(j);
	assert_int_equal(hfs_gql_arg_json(&j, s, "o", vars, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(j, "k")), 1);
	json_decref(j);
	json_decref(vars);
	hfs_gql_doc_free(doc);

	/* A float literal out of range is an error, not a crash. */
	doc = parse_ok("{ f(x: 1e999) }");
	assert_int_equal(hfs_gql_value_json(
	                         &j, arg_value(first_op(doc)->selections, "x"),
	                         NULL, &err),
	                 HF_EINVAL);
	assert_null(j);
	hfs_gql_doc_free(doc);
}

/* ---------------------------------------------------------- collection */

/* "Generic" is implemented by A and B; everything matches itself. */
static int match_generic(const char *cond, const char *concrete, void *payload)
{
	int *calls = payload;

	(*calls)++;
	if (!strcmp(cond, concrete))
		return 1;
	return !strcmp(cond, "Generic") &&
	       (!strcmp(concrete, "A") || !strcmp(concrete, "B"));
}

static const char *collect_keys(const hfs_gql_doc *doc, const char *type,
                                const json_t *vars, int *calls)
{
	struct hfs_gql_fields f = HFS_GQL_FIELDS_INIT;
	struct hfs_gql_collect_opts o = { doc, type, match_generic, calls,
		                          vars };
	hf_error err = HF_ERROR_INIT;
	const char *keys;

	assert_int_equal(
	        hfs_gql_collect(&f, &o, first_op(doc)->selections, &err), 0);
	keys = keys_of(&f);
	hfs_gql_fields_release(&f);
	return keys;
}

static void test_srv_gql__collect_fragments_by_type(void **state)
{
	hfs_gql_doc *doc;
	int calls = 0;

	(void)state;
	doc = parse_valid("{ id ...G ... on A { a } ... on B { b } "
	                  "... { plain } ...G } "
	                  "fragment G on Generic { g ... on A { ga } }");
	assert_string_equal(collect_keys(doc, "A", NULL, &calls),
	                    "id g ga a plain");
	assert_string_equal(collect_keys(doc, "B", NULL, &calls),
	                    "id g b plain");
	assert_string_equal(collect_keys(doc, "C", NULL, &calls), "id plain");
	assert_true(calls > 0);
	/* No concrete type: every condition applies. */
	assert_string_equal(collect_keys(doc, NULL, NULL, &calls),
	                    "id g ga a b plain");
	hfs_gql_doc_free(doc);
}

static void test_srv_gql__collect_skip_include(void **state)
{
	hfs_gql_doc *doc;
	json_t *vars;
	int calls = 0;

	(void)state;
	doc = parse_valid("query($yes: Boolean!, $no: Boolean!) { "
	                  "a @skip(if: true) b @skip(if: false) "
	                  "c @include(if: false) d @include(if: true) "
	                  "e @skip(if: $no) f @skip(if: $yes) "
	                  "g @include(if: $yes) @skip(if: $yes) "
	                  "... @include(if: $no) { h } ...F @skip(if: $no) } "
	                  "fragment F on T { i }");
	vars = json_pack("{s:b, s:b}", "yes", 1, "no", 0);
	assert_string_equal(collect_keys(doc, "T", vars, &calls), "b d e i");
	json_decref(vars);
	hfs_gql_doc_free(doc);
}

static void test_srv_gql__collect_merges_keys(void **state)
{
	struct hfs_gql_fields f = HFS_GQL_FIELDS_INIT;
	struct hfs_gql_fields sub = HFS_GQL_FIELDS_INIT;
	struct hfs_gql_collect_opts o = { NULL, "T", NULL, NULL, NULL };
	hf_error err = HF_ERROR_INIT;
	hfs_gql_doc *doc;

	(void)state;
	doc = parse_valid("{ n { a b } x: m ...F n { c a } x: m y: m } "
	                  "fragment F on T { n { d } }");
	o.doc = doc;
	assert_int_equal(
	        hfs_gql_collect(&f, &o, first_op(doc)->selections, &err), 0);
	assert_string_equal(keys_of(&f), "n x y");
	assert_int_equal(f.groups[0].nfields, 3);
	assert_int_equal(f.groups[1].nfields, 2);
	assert_string_equal(f.groups[1].fields[0]->name, "m");
	assert_int_equal(f.groups[2].nfields, 1);
	/* One merged sub-object for the three `n`, first appearance order. */
	assert_int_equal(hfs_gql_collect_group(&sub, &o, &f.groups[0], &err),
	                 0);
	assert_string_equal(keys_of(&sub), "a b d c");
	assert_int_equal(sub.groups[0].nfields, 2);
	/* Collecting again into a used result releases it first. */
	assert_int_equal(hfs_gql_collect_group(&sub, &o, &f.groups[1], &err),
	                 0);
	assert_int_equal(sub.count, 0);
	hfs_gql_fields_release(&sub);
	hfs_gql_fields_release(&f);
	hfs_gql_fields_release(NULL);
	hfs_gql_doc_free(doc);
}

static void test_srv_gql__collect_unknown_fragment(void **state)
{
	struct hfs_gql_fields f = HFS_GQL_FIELDS_INIT;
	struct hfs_gql_collect_opts o = { NULL, "T", NULL, NULL, NULL };
	hf_error err = HF_ERROR_INIT;
	hfs_gql_doc *doc;

	(void)state;
	/* Not validated first: the collector still refuses. */
	doc = parse_ok("{ a\n  ...Nope }");
	o.doc = doc;
	assert_int_equal(
	        hfs_gql_collect(&f, &o, first_op(doc)->selections, &err),
	        HF_EINVAL);
	assert_string_equal(err.msg, "Unknown fragment 'Nope'.");
	assert_int_equal(err.line, 2);
	assert_int_equal(err.col, 6);
	assert_null(f.groups);
	hfs_gql_doc_free(doc);
}

/* -------------------------------------------------------------- limits */

static void expect_parse_error(const char *src, size_t len, const char *msg)
{
	hf_error err = HF_ERROR_INIT;
	hfs_gql_doc *doc = NULL;

	assert_int_equal(hfs_gql_parse(&doc, src, len, &err), HF_EINVAL);
	assert_null(doc);
	if (strcmp(err.msg, msg))
		print_error("want %s\n got %s\n", msg, err.msg);
	assert_string_equal(err.msg, msg);
}

/* `open` n times, then `mid`, then `close` n times. */
static char *nested(const char *open, const char *mid, const char *close, int n)
{
	hf_buf b = HF_BUF_INIT;
	char *s;
	int i;

	for (i = 0; i < n; i++)
		hf_buf_add(&b, open);
	hf_buf_add(&b, mid);
	for (i = 0; i < n; i++)
		hf_buf_add(&b, close);
	s = hf_buf_detach(&b);
	assert_non_null(s);
	return s;
}

static void test_srv_gql__nesting_limit(void **state)
{
	const char *too_deep = "Syntax Error: Document nesting too deep.";
	hf_buf b = HF_BUF_INIT;
	hfs_gql_doc *doc;
	char *s;

	(void)state;
	/* 64 selection sets are fine, 65 are not. */
	s = nested("{ a ", "b", " }", HFS_GQL_MAX_DEPTH);
	doc = parse_valid(s);
	hfs_gql_doc_free(doc);
	hf_free(s);
	s = nested("{ a ", "b", " }", HFS_GQL_MAX_DEPTH + 1);
	expect_parse_error(s, strlen(s), too_deep);
	hf_free(s);
	/* Lists, objects and list types count too (and deep input never
	 * reaches the stack: 100000 levels fail at the limit). */
	s = nested("[", "1", "]", 100000);
	hf_buf_addf(&b, "{ f(x: %s) }", s);
	hf_free(s);
	assert_false(hf_buf_failed(&b));
	expect_parse_error(b.ptr, b.len, too_deep);
	hf_buf_release(&b);
	s = nested("{a: [", "1", "]}", HFS_GQL_MAX_DEPTH / 2);
	hf_buf_addf(&b, "{ f(x: %s) }", s);
	hf_free(s);
	expect_parse_error(b.ptr, b.len, too_deep);
	hf_buf_release(&b);
	/* One level less fits: 63 values inside one selection set. */
	s = nested("{a: [", "1", "]}", HFS_GQL_MAX_DEPTH / 2 - 1);
	hf_buf_addf(&b, "{ f(x: [%s]) }", s);
	hf_free(s);
	doc = parse_ok(b.ptr);
	hfs_gql_doc_free(doc);
	hf_buf_release(&b);
	s = nested("[", "Int", "]", HFS_GQL_MAX_DEPTH + 1);
	hf_buf_addf(&b, "query($a: %s) { f(a: $a) }", s);
	hf_free(s);
	expect_parse_error(b.ptr, b.len, too_deep);
	hf_buf_release(&b);
	s = nested("{ ... on T ", "{ a }", " }", 100000);
	expect_parse_error(s, strlen(s), too_deep);
	hf_free(s);
}

static void test_srv_gql__node_limit(void **state)
{
	hf_buf b = HF_BUF_INIT;
	hf_error err = HF_ERROR_INIT;
	hfs_gql_doc *doc = NULL;
	int i;

	(void)state;
	hf_buf_add(&b, "{");
	for (i = 0; i < HFS_GQL_MAX_NODES; i++)
		hf_buf_add(&b, " a");
	hf_buf_add(&b, " }");
	assert_false(hf_buf_failed(&b));
	assert_int_equal(hfs_gql_parse(&doc, b.ptr, b.len, &err), HF_EINVAL);
	assert_string_equal(err.msg, "Syntax Error: Document contains more "
	                             "than 200000 nodes. Parsing aborted.");
	hf_buf_release(&b);
}

static void test_srv_gql__expansion_limits(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hf_buf b = HF_BUF_INIT;
	hfs_gql_doc *doc;
	int i;

	(void)state;
	/* A "billion laughs": 40 fragments, each spreading the next twice. */
	hf_buf_add(&b, "{ ...F0 }");
	for (i = 0; i < 40; i++)
		hf_buf_addf(&b,
		            " fragment F%d on T { a%d: x { ...F%d } "
		            "b%d: y { ...F%d } }",
		            i, i, i + 1, i, i + 1);
	hf_buf_add(&b, " fragment F40 on T { z }");
	doc = parse_ok(b.ptr);
	assert_int_equal(hfs_gql_validate(doc, &err), HF_EINVAL);
	assert_string_equal(err.msg, "Query size exceeds the limit of "
	                             "200000 fields.");
	hfs_gql_doc_free(doc);

	/* Depth through fragments: each adds a field level. */
	hf_buf_reset(&b);
	hf_buf_add(&b, "{ ...F0 }");
	for (i = 0; i < 70; i++)
		hf_buf_addf(&b, " fragment F%d on T { x { ...F%d } }", i,
		            i + 1);
	hf_buf_add(&b, " fragment F70 on T { z }");
	doc = parse_ok(b.ptr);
	assert_int_equal(hfs_gql_validate(doc, &err), HF_EINVAL);
	assert_string_equal(err.msg, "Query depth exceeds the limit of 64.");
	hfs_gql_doc_free(doc);
	hf_buf_release(&b);
}

/* A long chain of spreads must not recurse, in validate or collect. */
static void test_srv_gql__long_fragment_chain(void **state)
{
	struct hfs_gql_fields f = HFS_GQL_FIELDS_INIT;
	struct hfs_gql_collect_opts o = { NULL, "T", NULL, NULL, NULL };
	hf_error err = HF_ERROR_INIT;
	hf_buf b = HF_BUF_INIT;
	hfs_gql_doc *doc;
	int i;
	const int n = 30000;

	(void)state;
	hf_buf_add(&b, "{ ...F0 }");
	for (i = 0; i < n; i++)
		hf_buf_addf(&b, " fragment F%d on T { ...F%d }", i, i + 1);
	hf_buf_addf(&b, " fragment F%d on T { leaf }", n);
	doc = parse_valid(b.ptr);
	o.doc = doc;
	assert_int_equal(
	        hfs_gql_collect(&f, &o, first_op(doc)->selections, &err), 0);
	assert_string_equal(keys_of(&f), "leaf");
	hfs_gql_fields_release(&f);
	hfs_gql_doc_free(doc);

	/* The same chain closed into a cycle. */
	hf_buf_reset(&b);
	hf_buf_add(&b, "{ ...F0 }");
	for (i = 0; i < n; i++)
		hf_buf_addf(&b, " fragment F%d on T { ...F%d }", i,
		            (i + 1) % n);
	doc = parse_ok(b.ptr);
	assert_int_equal(hfs_gql_validate(doc, &err), HF_EINVAL);
	assert_non_null(strstr(err.msg, "Cannot spread fragment 'F0' within "
	                                "itself via 'F1', 'F2'"));
	hfs_gql_doc_free(doc);
	hf_buf_release(&b);
}

/* ------------------------------------------------------------- garbage */

/* Everything a document can be put through; must never crash. */
static void churn(const char *src, size_t len)
{
	struct hfs_gql_fields f = HFS_GQL_FIELDS_INIT;
	struct hfs_gql_collect_opts o = { NULL, "T", NULL, NULL, NULL };
	const struct hfs_gql_operation *op;
	hf_error err = HF_ERROR_INIT;
	hfs_gql_doc *doc = NULL;
	json_t *vars = NULL;
	int rc;

	rc = hfs_gql_parse(&doc, src, len, &err);
	if (rc) {
		assert_int_equal(rc, HF_EINVAL);
		assert_null(doc);
		assert_true(err.line >= 1 && err.col >= 1);
		assert_true(strncmp(err.msg, "Syntax Error: ", 14) == 0);
		return;
	}
	o.doc = doc;
	(void)hfs_gql_validate(doc, &err);
	for (op = hfs_gql_doc_operations(doc); op; op = op->next) {
		if (hfs_gql_vars_coerce(&vars, op, NULL, &err) == 0)
			(void)hfs_gql_collect(&f, &o, op->selections, &err);
		hfs_gql_fields_release(&f);
		json_decref(vars);
		vars = NULL;
	}
	hfs_gql_doc_free(doc);
}

static const char *const garbage_seeds[] = {
	"query Q($a: Int = 1, $b: [String!] = [\"x\",]) { a(x: $a, y: [1, "
	"{z: $b}]) @skip(if: false) { ...F ... on T { b } } } "
	"fragment F on T { c(s: \"\\u00e9\\uD83D\\uDE00\", t: \"\"\"\n  x\n"
	"  \"\"\") }",
	"mutation ($v: String!) {\n  X(data: {a: {value: $v}, l: [{id: "
	"\"1\"},],}){\n    ok\n  }\n}",
	"\xef\xbb\xbf# c\r\n{ __alias__K__f: f(a: 1.5e3, b: -0, c: ENUM) "
	"{ ... { d } } }",
};

static void test_srv_gql__garbage(void **state)
{
	char buf[512];
	unsigned int seed = 12345;
	size_t i;
	size_t k;
	size_t n;
	size_t len;

	(void)state;
	/* Every prefix of every seed. */
	for (i = 0; i < sizeof(garbage_seeds) / sizeof(garbage_seeds[0]); i++)
		for (n = 0; n <= strlen(garbage_seeds[i]); n++)
			churn(garbage_seeds[i], n);
	/* Random bytes, and seeds with random bytes overwritten. */
	for (k = 0; k < 20000; k++) {
		seed = seed * 1103515245u + 12345u;
		len = (seed >> 8) % sizeof(buf);
		i = k % (sizeof(garbage_seeds) / sizeof(garbage_seeds[0]));
		if (k % 2) {
			len = strlen(garbage_seeds[i]);
			memcpy(buf, garbage_seeds[i], len);
		}
		for (n = 0; n < (k % 2 ? 3 : len); n++) {
			seed = seed * 1103515245u + 12345u;
			buf[k % 2 ? (seed >> 4) % len : n] = (char)(seed >> 16);
		}
		churn(buf, len);
	}
}

/* --------------------------------------------------------------- speed */

/* 50 aliased upserts, about 100 KB, like a batched SDK apply. */
static char *big_mutation(size_t *len)
{
	hf_buf b = HF_BUF_INIT;
	char *s;
	int i;
	int k;

	hf_buf_add(&b, "mutation ($value_0: String!) {\n");
	for (i = 0; i < 50; i++) {
		hf_buf_addf(&b,
		            "    m%d: TestingDeviceUpsert(\n"
		            "        data: {\n"
		            "            name: {\n"
		            "                value: \"device-%04d\"\n"
		            "            }\n"
		            "            description: {\n"
		            "                value: $value_0\n"
		            "            }\n",
		            i, i);
		for (k = 0; k < 12; k++)
			hf_buf_addf(
			        &b,
			        "            attr%02d: {\n"
			        "                value: %d\n"
			        "                is_protected: true\n"
			        "                source: \"3f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\"\n"
			        "            }\n",
			        k, k * 1000 + i);
		hf_buf_add(&b, "            tags: [\n");
		for (k = 0; k < 8; k++)
			hf_buf_addf(
			        &b,
			        "                {\n"
			        "                    id: \"1790a1b3-5f2e-4c1d-9c55-%012d\"\n"
			        "                },\n",
			        k);
		hf_buf_add(&b, "            ]\n"
		               "            hfid: [\"a\", \"b\",]\n"
		               "        }\n"
		               "    ){\n"
		               "        ok\n"
		               "        object {\n"
		               "            id\n"
		               "        }\n"
		               "    }\n");
	}
	hf_buf_add(&b, "}\n");
	*len = b.len;
	s = hf_buf_detach(&b);
	assert_non_null(s);
	return s;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void test_srv_gql__big_mutation_speed(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hfs_gql_doc *doc = NULL;
	size_t len;
	char *src = big_mutation(&len);
	double t0;
	double best = 1e12;
	int i;

	(void)state;
	assert_true(len > 100000);
	for (i = 0; i < 20; i++) {
		t0 = now_us();
		assert_int_equal(hfs_gql_parse(&doc, src, len, &err), 0);
		if (now_us() - t0 < best)
			best = now_us() - t0;
		if (i == 0)
			assert_int_equal(hfs_gql_validate(doc, &err), 0);
		hfs_gql_doc_free(doc);
	}
	print_message("parsed %zu bytes (50 aliased mutations) in %.0f us\n",
	              len, best);
	hf_free(src);
}

/* --------------------------------------------------- allocation torture */

/* Parse, validate, coerce, convert, collect; 0 or the first error. */
static int torture_run(const char *src)
{
	struct hfs_gql_fields f = HFS_GQL_FIELDS_INIT;
	struct hfs_gql_fields sub = HFS_GQL_FIELDS_INIT;
	struct hfs_gql_collect_opts o = { NULL, "T", NULL, NULL, NULL };
	const struct hfs_gql_operation *op = NULL;
	hf_error err = HF_ERROR_INIT;
	hfs_gql_doc *doc = NULL;
	json_t *given = NULL;
	json_t *vars = NULL;
	json_t *j = NULL;
	int rc;

	given = json_pack("{s:[s,s], s:i}", "l", "a", "b", "i", 7);
	if (!given)
		return HF_ENOMEM;
	rc = hfs_gql_parse(&doc, src, strlen(src), &err);
	if (rc == 0)
		rc = hfs_gql_validate(doc, &err);
	if (rc == 0)
		rc = hfs_gql_operation_find(&op, doc, NULL, &err);
	if (rc == 0)
		rc = hfs_gql_vars_coerce(&vars, op, given, &err);
	o.doc = doc;
	if (rc == 0)
		rc = hfs_gql_collect(&f, &o, op->selections, &err);
	if (rc == 0)
		rc = hfs_gql_collect_group(&sub, &o, &f.groups[0], &err);
	if (rc == 0)
		rc = hfs_gql_arg_json(&j, f.groups[0].fields[0], "data", vars,
		                      &err);
	json_decref(j);
	hfs_gql_fields_release(&sub);
	hfs_gql_fields_release(&f);
	json_decref(vars);
	json_decref(given);
	hfs_gql_doc_free(doc);
	return rc;
}

static void test_srv_gql__alloc_failures(void **state)
{
	const char *src =
	        "query Q($l: [String!], $i: ID, $d: [Int] = 3) { x: f(data: "
	        "{a: $l, b: [$i, {c: \"\\u00e9\"}], d: $d, e: 1.5}) "
	        "{ ...F ... on T { b } } x: f { c } } "
	        "fragment F on T { a @skip(if: false) }";
	long n;
	int rc;

	(void)state;
	for (n = 1;; n++) {
		hf_failalloc_nth(n);
		rc = torture_run(src);
		hf_failalloc_reset();
		if (!hf_failalloc_failed()) {
			assert_int_equal(rc, 0);
			break;
		}
		if (rc != HF_ENOMEM)
			print_error("allocation %ld failed: rc %d\n", n, rc);
		assert_int_equal(rc, HF_ENOMEM);
	}
	print_message("%ld allocations, each failed once\n", n - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_srv_gql__shorthand_and_named_operations),
		cmocka_unit_test(test_srv_gql__variable_definitions),
		cmocka_unit_test(
		        test_srv_gql__fields_aliases_arguments_directives),
		cmocka_unit_test(test_srv_gql__fragments),
		cmocka_unit_test(test_srv_gql__values),
		cmocka_unit_test(test_srv_gql__string_escapes),
		cmocka_unit_test(test_srv_gql__block_strings),
		cmocka_unit_test(test_srv_gql__ignored_tokens),
		cmocka_unit_test(test_srv_gql__locations),
		cmocka_unit_test(test_srv_gql__syntax_errors),
		cmocka_unit_test(test_srv_gql__validation_errors),
		cmocka_unit_test(test_srv_gql__sdk_shapes),
		cmocka_unit_test(test_srv_gql__sdk_fixtures),
		cmocka_unit_test(test_srv_gql__operation_find),
		cmocka_unit_test(test_srv_gql__vars_coerce),
		cmocka_unit_test(test_srv_gql__vars_coerce_errors),
		cmocka_unit_test(test_srv_gql__value_json_with_variables),
		cmocka_unit_test(test_srv_gql__collect_fragments_by_type),
		cmocka_unit_test(test_srv_gql__collect_skip_include),
		cmocka_unit_test(test_srv_gql__collect_merges_keys),
		cmocka_unit_test(test_srv_gql__collect_unknown_fragment),
		cmocka_unit_test(test_srv_gql__nesting_limit),
		cmocka_unit_test(test_srv_gql__node_limit),
		cmocka_unit_test(test_srv_gql__expansion_limits),
		cmocka_unit_test(test_srv_gql__long_fragment_chain),
		cmocka_unit_test(test_srv_gql__garbage),
		cmocka_unit_test(test_srv_gql__big_mutation_speed),
		cmocka_unit_test(test_srv_gql__alloc_failures),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
