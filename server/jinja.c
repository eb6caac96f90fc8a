/*
 * A Jinja2 subset for computed attributes (see jinja.h for what it
 * covers). The rules follow jinja2 3.1 (lexer, parser precedence,
 * StrictUndefined, sandboxed attribute access) and Python 3 value
 * semantics (str(), repr(), truthiness, comparisons), because Infrahub
 * renders computed attributes with infrahub-sdk's Jinja2Template, a
 * SandboxedEnvironment with StrictUndefined (Infrahub 1.1 to 1.11).
 *
 * Pipeline: source -> tokens (lexer) -> tree (recursive descent, depth
 * bounded) -> output (tree walk, steps and sizes bounded). Values are
 * jansson values (new references); NULL stands for Undefined, and the
 * reason it is undefined is kept in the state for the error message.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h> /* isnan, isinf, isfinite: macros */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "jinja.h"

#include "hf/banned.h"

/* ---- tokens ---------------------------------------------------------------
 */

enum tk {
	T_EOF,
	T_TEXT,
	T_VAR_BEGIN,
	T_VAR_END,
	T_BLOCK_BEGIN,
	T_BLOCK_END,
	T_NAME,
	T_STRING,
	T_INT,
	T_FLOAT,
	T_OP,
};

struct tok {
	enum tk t;
	int line;
	char *s; /* text, name or unescaped string (owned) */
	size_t n;
	json_int_t i;
	double d;
	char op[3];
};

/* ---- tree -----------------------------------------------------------------
 */

enum nk {
	N_BODY,
	N_TEXT,
	N_OUTPUT,
	N_IF,
	N_FOR,
	N_SET,
	N_SETBLOCK,
	N_WITH,
	N_FILTERBLOCK,
	E_CONST,
	E_NAME,
	E_ATTR,
	E_ITEM,
	E_SLICE,
	E_FILTER,
	E_TEST,
	E_CALL,
	E_LIST,
	E_TUPLE,
	E_DICT,
	E_NOT,
	E_NEG,
	E_POS,
	E_BIN,
	E_AND,
	E_OR,
	E_CMP,
	E_COND,
};

/*
 * One node. Statement lists and argument lists are arrays of children
 * (`kids`); a, b, c are the fixed operands. Keyword arguments are the
 * last `nkw` kids, named by `kw`.
 */
struct jn {
	enum nk k;
	int line;
	int neg; /* E_TEST: "is not" */
	char op[3]; /* E_BIN / E_CMP operators */
	char *name; /* name, attribute, filter, test, method */
	json_t *cval; /* E_CONST */
	struct jn *a, *b, *c, *d;
	struct jn **kids;
	size_t nkids;
	char **kw; /* names of the last nkw kids */
	size_t nkw;
	char (*ops)[3]; /* E_CMP: one operator per kid ("in", "ni") */
	char **targets; /* N_FOR / N_SET / N_WITH names */
	size_t ntargets;
};

struct hfs_jinja {
	struct jn **all; /* every node, for freeing */
	size_t nall, capall;
	struct jn *body; /* N_BODY: kids are the statements */
	char **vars;
	size_t nvars;
	const char *forbidden; /* first include/import/from seen */
};

/* ---- small helpers --------------------------------------------------------
 */

/* jansson takes non-const values even to read them. */
static json_t *mut(const json_t *v)
{
	return (json_t *)(uintptr_t)v;
}

static int oom(hf_error *err)
{
	return hf_error_set(err, HF_ENOMEM, "out of memory");
}

static int is_ident_start(int c)
{
	return isalpha(c) || c == '_';
}

static int is_ident(int c)
{
	return isalnum(c) || c == '_';
}

/* Number of code points of a UTF-8 string. */
static size_t u8_len(const char *s, size_t n)
{
	size_t i, len = 0;

	for (i = 0; i < n; i++)
		len += ((unsigned char)s[i] & 0xc0) != 0x80;
	return len;
}

/* Byte offset of code point `cp` (clamped to n). */
static size_t u8_off(const char *s, size_t n, size_t cp)
{
	size_t i = 0;

	while (i < n && cp > 0) {
		i++;
		while (i < n && ((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
		cp--;
	}
	return i;
}

/* Length in bytes of the code point starting at s[i]. */
static size_t u8_char(const char *s, size_t n, size_t i)
{
	size_t j = i + 1;

	while (j < n && ((unsigned char)s[j] & 0xc0) == 0x80)
		j++;
	return j - i;
}

static void u8_put(hf_buf *b, unsigned long cp)
{
	if (cp < 0x80) {
		hf_buf_addch(b, (char)cp);
	} else if (cp < 0x800) {
		hf_buf_addch(b, (char)(0xc0 | (cp >> 6)));
		hf_buf_addch(b, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		hf_buf_addch(b, (char)(0xe0 | (cp >> 12)));
		hf_buf_addch(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
		hf_buf_addch(b, (char)(0x80 | (cp & 0x3f)));
	} else {
		hf_buf_addch(b, (char)(0xf0 | (cp >> 18)));
		hf_buf_addch(b, (char)(0x80 | ((cp >> 12) & 0x3f)));
		hf_buf_addch(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
		hf_buf_addch(b, (char)(0x80 | (cp & 0x3f)));
	}
}

static int py_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

/*
 * Float helpers without libm (the server target links no libm): exact
 * for the magnitudes where doubles have a fraction, identity beyond.
 */
static double j_fabs(double d)
{
	return d < 0 ? -d : d;
}

static double j_floor(double d)
{
	double t;

	if (!(j_fabs(d) < 4503599627370496.0)) /* 2^52, NaN, inf */
		return d;
	t = (double)(long long)d;
	return t > d ? t - 1.0 : t;
}

static double j_ceil(double d)
{
	return -j_floor(-d);
}

/* Round half to even, as Python's round(). */
static double j_rint(double d)
{
	double f = j_floor(d), diff = d - f;

	if (diff > 0.5 ||
	    (diff == 0.5 && j_fabs(j_floor(f / 2.0) * 2.0 - f) > 0))
		return f + 1.0;
	return f;
}

/* base ** e for an integral exponent (squaring). */
static double j_ipow(double base, long long e)
{
	double r = 1.0;
	unsigned long long n =
	        e < 0 ? 0ULL - (unsigned long long)e : (unsigned long long)e;

	while (n) {
		if (n & 1)
			r *= base;
		base *= base;
		n >>= 1;
	}
	return e < 0 ? 1.0 / r : r;
}

/* ---- Python's str() and repr() --------------------------------------------
 */

/* repr(float): the shortest text that reads back, in Python's layout. */
static void py_float(hf_buf *b, double d)
{
	char t[40], digits[40];
	int p, exp, nd = 0;
	const char *m;

	if (isnan(d)) {
		hf_buf_add(b, "nan");
		return;
	}
	if (isinf(d)) {
		hf_buf_add(b, d < 0 ? "-inf" : "inf");
		return;
	}
	for (p = 1; p <= 17; p++) {
		snprintf(t, sizeof(t), "%.*e", p - 1, d);
		if (strtod(t, NULL) == d)
			break;
	}
	m = t;
	if (*m == '-') {
		hf_buf_addch(b, '-');
		m++;
	}
	for (; *m && *m != 'e'; m++)
		if (isdigit((unsigned char)*m))
			digits[nd++] = *m;
	digits[nd] = '\0';
	exp = (int)strtol(m + 1, NULL, 10);
	while (nd > 1 && digits[nd - 1] == '0')
		digits[--nd] = '\0';
	if (exp < -4 || exp >= 16) {
		hf_buf_addch(b, digits[0]);
		if (nd > 1)
			hf_buf_addf(b, ".%s", digits + 1);
		hf_buf_addf(b, "e%c%02d", exp < 0 ? '-' : '+', abs(exp));
	} else if (exp < 0) {
		hf_buf_add(b, "0.");
		for (p = -1; p > exp; p--)
			hf_buf_addch(b, '0');
		hf_buf_add(b, digits);
	} else {
		for (p = 0; p <= exp; p++)
			hf_buf_addch(b, p < nd ? digits[p] : '0');
		hf_buf_addch(b, '.');
		hf_buf_add(b, nd > exp + 1 ? digits + exp + 1 : "0");
	}
}

static void py_repr_str(hf_buf *b, const char *s, size_t n)
{
	char q = memchr(s, '\'', n) && !memchr(s, '"', n) ? '"' : '\'';
	size_t i;

	hf_buf_addch(b, q);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == (unsigned char)q || c == '\\')
			hf_buf_addf(b, "\\%c", c);
		else if (c == '\n')
			hf_buf_add(b, "\\n");
		else if (c == '\r')
			hf_buf_add(b, "\\r");
		else if (c == '\t')
			hf_buf_add(b, "\\t");
		else if (c < 0x20 || c == 0x7f)
			hf_buf_addf(b, "\\x%02x", c);
		else
			hf_buf_addch(b, (char)c);
	}
	hf_buf_addch(b, q);
}

struct jst;
static int is_tuple(const struct jst *s, const json_t *v);

static void py_repr(const struct jst *s, hf_buf *b, const json_t *v);

static void py_repr_seq(const struct jst *s, hf_buf *b, const json_t *v)
{
	int tuple = is_tuple(s, v);
	size_t i;

	hf_buf_addch(b, tuple ? '(' : '[');
	for (i = 0; i < json_array_size(v); i++) {
		if (i)
			hf_buf_add(b, ", ");
		py_repr(s, b, json_array_get(v, i));
	}
	if (tuple && json_array_size(v) == 1)
		hf_buf_addch(b, ',');
	hf_buf_addch(b, tuple ? ')' : ']');
}

static void py_repr(const struct jst *s, hf_buf *b, const json_t *v)
{
	const char *key;
	json_t *item;
	int first = 1;

	switch (json_typeof(v)) {
	case JSON_STRING:
		py_repr_str(b, json_string_value(v), json_string_length(v));
		return;
	case JSON_ARRAY:
		py_repr_seq(s, b, v);
		return;
	case JSON_OBJECT:
		hf_buf_addch(b, '{');
		json_object_foreach(mut(v), key, item)
		{
			if (!first)
				hf_buf_add(b, ", ");
			first = 0;
			py_repr_str(b, key, strlen(key));
			hf_buf_add(b, ": ");
			py_repr(s, b, item);
		}
		hf_buf_addch(b, '}');
		return;
	case JSON_INTEGER:
		hf_buf_addf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return;
	case JSON_REAL:
		py_float(b, json_real_value(v));
		return;
	case JSON_TRUE:
		hf_buf_add(b, "True");
		return;
	case JSON_FALSE:
		hf_buf_add(b, "False");
		return;
	default:
		hf_buf_add(b, "None");
	}
}

/* str(v): strings as they are, everything else as repr. */
static void py_str(const struct jst *s, hf_buf *b, const json_t *v)
{
	if (json_is_string(v))
		hf_buf_addn(b, json_string_value(v), json_string_length(v));
	else
		py_repr(s, b, v);
}

static const char *py_type(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return "str";
	case JSON_ARRAY:
		return "list";
	case JSON_OBJECT:
		return "dict";
	case JSON_INTEGER:
		return "int";
	case JSON_REAL:
		return "float";
	case JSON_TRUE:
	case JSON_FALSE:
		return "bool";
	default:
		return "NoneType";
	}
}

static int py_true(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return json_string_length(v) > 0;
	case JSON_ARRAY:
		return json_array_size(v) > 0;
	case JSON_OBJECT:
		return json_object_size(v) > 0;
	case JSON_INTEGER:
		return json_integer_value(v) != 0;
	case JSON_REAL:
		return json_real_value(v) != 0.0;
	case JSON_TRUE:
		return 1;
	default:
		return 0;
	}
}

/* Numbers (bool counts as int, as in Python). 0 when v is one. */
static int num_of(const json_t *v, int *is_int, json_int_t *i, double *d)
{
	if (json_is_integer(v) || json_is_boolean(v)) {
		*i = json_is_integer(v) ? json_integer_value(v)
		                        : (json_int_t)json_is_true(v);
		*d = (double)*i;
		*is_int = 1;
		return 0;
	}
	if (json_is_real(v)) {
		*d = json_real_value(v);
		*is_int = 0;
		return 0;
	}
	return -1;
}

static json_t *jstr(const char *s, size_t n)
{
	return json_stringn_nocheck(s, n);
}

/* ---- lexer ----------------------------------------------------------------
 */

struct lexer {
	const char *src;
	size_t len;
	size_t pos;
	int line;
	int lstrip; /* the last tag ended with '-' */
	struct tok *v;
	size_t n, cap;
	hf_error *err;
};

static int lex_err(struct lexer *lx, const char *msg)
{
	return hf_error_set(lx->err, HF_EINVAL, "%s", msg);
}

static struct tok *lex_push(struct lexer *lx, enum tk t)
{
	struct tok *nv;

	if (lx->n == lx->cap) {
		size_t cap = lx->cap ? lx->cap * 2 : 32;

		nv = hf_reallocarray(lx->v, cap, sizeof(*nv));
		if (!nv)
			return NULL;
		lx->v = nv;
		lx->cap = cap;
	}
	memset(&lx->v[lx->n], 0, sizeof(lx->v[0]));
	lx->v[lx->n].t = t;
	lx->v[lx->n].line = lx->line;
	return &lx->v[lx->n++];
}

static int count_lines(const char *s, size_t n)
{
	int c = 0;
	size_t i;

	for (i = 0; i < n; i++)
		c += s[i] == '\n';
	return c;
}

/* Text up to `end`, with the whitespace control of both sides. */
static int lex_text(struct lexer *lx, size_t end, int rstrip)
{
	size_t a = lx->pos, b = end;
	struct tok *t;

	if (lx->lstrip)
		while (a < b && py_space((unsigned char)lx->src[a]))
			a++;
	if (rstrip)
		while (b > a && py_space((unsigned char)lx->src[b - 1]))
			b--;
	lx->lstrip = 0;
	if (b > a) {
		t = lex_push(lx, T_TEXT);
		if (!t)
			return oom(lx->err);
		t->s = hf_strndup(lx->src + a, b - a);
		t->n = b - a;
		if (!t->s)
			return oom(lx->err);
	}
	lx->line += count_lines(lx->src + lx->pos, end - lx->pos);
	lx->pos = end;
	return 0;
}

/* The next tag start at or after pos: its offset, or len when none. */
static size_t next_tag(const struct lexer *lx, char *kind)
{
	size_t i;

	for (i = lx->pos; i + 1 < lx->len; i++) {
		if (lx->src[i] != '{')
			continue;
		if (lx->src[i + 1] == '{' || lx->src[i + 1] == '%' ||
		    lx->src[i + 1] == '#') {
			*kind = lx->src[i + 1];
			return i;
		}
	}
	*kind = 0;
	return lx->len;
}

static int lex_comment(struct lexer *lx)
{
	const char *end = strstr(lx->src + lx->pos + 2, "#}");

	if (!end)
		return lex_err(lx, "Missing end of comment tag");
	lx->lstrip = end[-1] == '-' && end - 1 > lx->src + lx->pos + 2;
	lx->line += count_lines(lx->src + lx->pos,
	                        (size_t)(end - lx->src) - lx->pos);
	lx->pos = (size_t)(end - lx->src) + 2;
	return 0;
}

static void skip_ws(struct lexer *lx)
{
	while (lx->pos < lx->len && py_space((unsigned char)lx->src[lx->pos])) {
		if (lx->src[lx->pos] == '\n')
			lx->line++;
		lx->pos++;
	}
}

static int hexval(int c)
{
	return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

/* Up to `w` hex digits after \x or \u. */
static unsigned long lex_hex(struct lexer *lx, size_t w)
{
	unsigned long cp = 0;
	size_t k;

	for (k = 0; k < w && lx->pos < lx->len &&
	            isxdigit((unsigned char)lx->src[lx->pos]);
	     k++)
		cp = cp * 16 +
		     (unsigned long)hexval((unsigned char)lx->src[lx->pos++]);
	return cp;
}

static int lex_string(struct lexer *lx)
{
	char q = lx->src[lx->pos++];
	hf_buf b = HF_BUF_INIT;
	struct tok *t;

	while (lx->pos < lx->len && lx->src[lx->pos] != q) {
		char c = lx->src[lx->pos++];

		if (c == '\n')
			lx->line++;
		if (c != '\\' || lx->pos >= lx->len) {
			hf_buf_addch(&b, c);
			continue;
		}
		c = lx->src[lx->pos++];
		switch (c) {
		case 'n':
			hf_buf_addch(&b, '\n');
			break;
		case 't':
			hf_buf_addch(&b, '\t');
			break;
		case 'r':
			hf_buf_addch(&b, '\r');
			break;
		case '0':
			hf_buf_addch(&b, '\0');
			break;
		case 'x':
		case 'u':
			u8_put(&b, lex_hex(lx, c == 'x' ? 2 : 4));
			break;
		case '\\':
		case '\'':
		case '"':
			hf_buf_addch(&b, c);
			break;
		default:
			hf_buf_addch(&b, '\\');
			hf_buf_addch(&b, c);
		}
	}
	if (lx->pos >= lx->len) {
		hf_buf_release(&b);
		return lex_err(lx, "unexpected end of string");
	}
	lx->pos++;
	t = lex_push(lx, T_STRING);
	if (!t) {
		hf_buf_release(&b);
		return oom(lx->err);
	}
	t->n = b.len;
	t->s = hf_buf_detach(&b);
	return t->s ? 0 : oom(lx->err);
}

static int lex_number(struct lexer *lx)
{
	char num[64];
	size_t n = 0;
	int is_float = 0;
	struct tok *t;

	while (lx->pos < lx->len && n + 1 < sizeof(num)) {
		char c = lx->src[lx->pos];

		if (c == '_') {
			lx->pos++;
			continue;
		}
		if (c == '.' && !is_float && lx->pos + 1 < lx->len &&
		    isdigit((unsigned char)lx->src[lx->pos + 1]))
			is_float = 1;
		else if ((c == 'e' || c == 'E') && n > 0)
			is_float = 1;
		else if ((c == '+' || c == '-') && n > 0 &&
		         (num[n - 1] == 'e' || num[n - 1] == 'E'))
			;
		else if (!isdigit((unsigned char)c))
			break;
		num[n++] = c;
		lx->pos++;
	}
	num[n] = '\0';
	t = lex_push(lx, is_float ? T_FLOAT : T_INT);
	if (!t)
		return oom(lx->err);
	errno = 0;
	if (is_float)
		t->d = strtod(num, NULL);
	else
		t->i = (json_int_t)strtoll(num, NULL, 10);
	if (errno)
		return lex_err(lx, "number out of range");
	return 0;
}

static const char *const ops2[] = { "//", "**", "==", "!=", "<=", ">=", NULL };

static int lex_op(struct lexer *lx)
{
	static const char ops1[] = "+-*/%~()[]{},.:|=<>;";
	struct tok *t;
	size_t k;

	for (k = 0; ops2[k]; k++) {
		if (lx->pos + 1 < lx->len &&
		    !strncmp(lx->src + lx->pos, ops2[k], 2)) {
			t = lex_push(lx, T_OP);
			if (!t)
				return oom(lx->err);
			memcpy(t->op, ops2[k], 2);
			lx->pos += 2;
			return 0;
		}
	}
	if (!strchr(ops1, lx->src[lx->pos]) || !lx->src[lx->pos]) {
		char msg[64];

		snprintf(msg, sizeof(msg), "unexpected char '%c'",
		         lx->src[lx->pos]);
		return lex_err(lx, msg);
	}
	t = lex_push(lx, T_OP);
	if (!t)
		return oom(lx->err);
	t->op[0] = lx->src[lx->pos++];
	return 0;
}

static int lex_name(struct lexer *lx)
{
	size_t a = lx->pos;
	struct tok *t;

	while (lx->pos < lx->len && is_ident((unsigned char)lx->src[lx->pos]))
		lx->pos++;
	t = lex_push(lx, T_NAME);
	if (!t)
		return oom(lx->err);
	t->n = lx->pos - a;
	t->s = hf_strndup(lx->src + a, t->n);
	return t->s ? 0 : oom(lx->err);
}

/* Whether the tag closes here ("}}" or "%}", optionally "-" first). */
static int tag_end(const struct lexer *lx, char close, int depth, int *strip)
{
	const char *p = lx->src + lx->pos;

	*strip = 0;
	if (depth > 0)
		return 0;
	if (p[0] == '-' && p[1] == close && p[2] == '}') {
		*strip = 1;
		return 3;
	}
	if (p[0] == close && p[1] == '}')
		return 2;
	return 0;
}

/* Tokens of one {{ ... }} or {% ... %} tag, the opening already read. */
static int lex_tag(struct lexer *lx, char kind)
{
	char close = kind == '{' ? '}' : '%';
	int depth = 0, strip, w, rc = 0;
	struct tok *t;

	t = lex_push(lx, kind == '{' ? T_VAR_BEGIN : T_BLOCK_BEGIN);
	if (!t)
		return oom(lx->err);
	while (rc == 0) {
		skip_ws(lx);
		if (lx->pos >= lx->len)
			return lex_err(
			        lx, kind == '{' ? "unexpected end of template, "
			                          "expected 'end of print "
			                          "statement'."
			                        : "unexpected end of template, "
			                          "expected 'end of statement "
			                          "block'.");
		w = tag_end(lx, close, depth, &strip);
		if (w) {
			lx->pos += (size_t)w;
			lx->lstrip = strip;
			t = lex_push(lx, kind == '{' ? T_VAR_END : T_BLOCK_END);
			return t ? 0 : oom(lx->err);
		}
		if (lx->src[lx->pos] == '\'' || lx->src[lx->pos] == '"')
			rc = lex_string(lx);
		else if (isdigit((unsigned char)lx->src[lx->pos]))
			rc = lex_number(lx);
		else if (is_ident_start((unsigned char)lx->src[lx->pos]))
			rc = lex_name(lx);
		else {
			char c = lx->src[lx->pos];

			depth += c == '{' || c == '[' || c == '(';
			depth -=
			        (c == '}' || c == ']' || c == ')') && depth > 0;
			rc = lex_op(lx);
		}
	}
	return rc;
}

/* "{% raw %}" (with optional '-'): 1 and its end when it is one. */
static int raw_open(const struct lexer *lx, size_t at, size_t *after)
{
	const char *p = lx->src + at + 2;

	if (*p == '-' || *p == '+')
		p++;
	while (py_space((unsigned char)*p))
		p++;
	if (strncmp(p, "raw", 3) || is_ident((unsigned char)p[3]))
		return 0;
	p += 3;
	while (py_space((unsigned char)*p))
		p++;
	if (*p == '-')
		p++;
	if (p[0] != '%' || p[1] != '}')
		return 0;
	*after = (size_t)(p + 2 - lx->src);
	return 1;
}

static int lex_raw(struct lexer *lx, size_t body)
{
	const char *p = lx->src + body, *q;
	struct tok *t;

	for (q = strstr(p, "{%"); q; q = strstr(q + 2, "{%")) {
		const char *r = q + 2;

		if (*r == '-')
			r++;
		while (py_space((unsigned char)*r))
			r++;
		if (!strncmp(r, "endraw", 6))
			break;
	}
	if (!q)
		return lex_err(lx, "Missing end of raw directive");
	if (q > p) {
		t = lex_push(lx, T_TEXT);
		if (!t)
			return oom(lx->err);
		t->n = (size_t)(q - p);
		t->s = hf_strndup(p, t->n);
		if (!t->s)
			return oom(lx->err);
	}
	lx->line +=
	        count_lines(lx->src + lx->pos, (size_t)(q - lx->src) - lx->pos);
	q = strstr(q, "%}");
	if (!q)
		return lex_err(lx, "Missing end of raw directive");
	lx->lstrip = q[-1] == '-';
	lx->pos = (size_t)(q - lx->src) + 2;
	return 0;
}

static int lex_step(struct lexer *lx)
{
	char kind;
	size_t at = next_tag(lx, &kind), after;
	int strip = at + 2 < lx->len && lx->src[at + 2] == '-';
	int rc = lex_text(lx, at, strip);

	if (rc < 0 || !kind)
		return rc;
	if (kind == '#')
		return lex_comment(lx);
	if (kind == '%' && raw_open(lx, at, &after))
		return lex_raw(lx, after);
	lx->pos = at + 2 + (size_t)(strip || lx->src[at + 2] == '+');
	return lex_tag(lx, kind);
}

/* Jinja's newline handling: \r\n and \r become \n, one final \n goes. */
static char *normalise(const char *src, size_t *len)
{
	size_t n = strlen(src), i, o = 0;
	char *s = hf_alloc(n + 1);

	if (!s)
		return NULL;
	for (i = 0; i < n; i++) {
		if (src[i] == '\r') {
			s[o++] = '\n';
			i += src[i + 1] == '\n';
		} else {
			s[o++] = src[i];
		}
	}
	if (o && s[o - 1] == '\n')
		o--;
	s[o] = '\0';
	*len = o;
	return s;
}

static void toks_free(struct tok *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		hf_free(v[i].s);
	hf_free(v);
}

static int lex(const char *src, struct tok **out, size_t *nout, hf_error *err)
{
	struct lexer lx;
	char *text;
	int rc = 0;

	memset(&lx, 0, sizeof(lx));
	lx.line = 1;
	lx.err = err;
	*out = NULL;
	*nout = 0;
	if (strlen(src) > HFS_JINJA_MAX_SOURCE)
		return hf_error_set(err, HF_EINVAL,
		                    "template too long (more than %d bytes)",
		                    HFS_JINJA_MAX_SOURCE);
	text = normalise(src, &lx.len);
	if (!text)
		return oom(err);
	lx.src = text;
	while (rc == 0 && lx.pos < lx.len)
		rc = lex_step(&lx);
	if (rc == 0 && !lex_push(&lx, T_EOF))
		rc = oom(err);
	hf_free(text);
	if (rc < 0) {
		toks_free(lx.v, lx.n);
		return rc;
	}
	*out = lx.v;
	*nout = lx.n;
	return 0;
}

/* ---- parser ---------------------------------------------------------------
 */

struct parser {
	struct tok *v;
	size_t n, pos;
	hfs_jinja *t;
	int depth;
	hf_error *err;
};

static struct tok *cur(struct parser *p)
{
	return &p->v[p->pos];
}

static struct tok *ahead(struct parser *p, size_t k)
{
	return p->pos + k < p->n ? &p->v[p->pos + k] : &p->v[p->n - 1];
}

static void advance(struct parser *p)
{
	if (p->v[p->pos].t != T_EOF)
		p->pos++;
}

static int is_op(const struct tok *t, const char *op)
{
	return t->t == T_OP && !strcmp(t->op, op);
}

static int is_name(const struct tok *t, const char *name)
{
	return t->t == T_NAME && !strcmp(t->s, name);
}

static void describe(const struct tok *t, char *buf, size_t len)
{
	switch (t->t) {
	case T_VAR_END:
		snprintf(buf, len, "end of print statement");
		break;
	case T_BLOCK_END:
		snprintf(buf, len, "end of statement block");
		break;
	case T_EOF:
		snprintf(buf, len, "end of template");
		break;
	case T_NAME:
		snprintf(buf, len, "%s", t->s);
		break;
	case T_OP:
		snprintf(buf, len, "%s", t->op);
		break;
	case T_STRING:
		snprintf(buf, len, "string");
		break;
	case T_INT:
		snprintf(buf, len, "integer");
		break;
	case T_FLOAT:
		snprintf(buf, len, "float");
		break;
	default:
		snprintf(buf, len, "template data");
	}
}

static int perr(struct parser *p, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static int perr(struct parser *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return hf_error_set(p->err, HF_EINVAL, "%s", msg);
}

static int unexpected(struct parser *p)
{
	char d[128];

	describe(cur(p), d, sizeof(d));
	if (cur(p)->t == T_EOF)
		return perr(p, "unexpected end of template");
	return perr(p, "unexpected '%s'", d);
}

static int expect_op(struct parser *p, const char *op)
{
	char d[128];

	if (is_op(cur(p), op)) {
		advance(p);
		return 0;
	}
	describe(cur(p), d, sizeof(d));
	return perr(p, "expected token '%s', got '%s'", op, d);
}

static int expect_end(struct parser *p, enum tk t)
{
	char d[128];

	if (cur(p)->t == t) {
		advance(p);
		return 0;
	}
	describe(cur(p), d, sizeof(d));
	return perr(p, "expected token '%s', got '%s'",
	            t == T_VAR_END ? "end of print statement"
	                           : "end of statement block",
	            d);
}

static struct jn *node(struct parser *p, enum nk k)
{
	hfs_jinja *t = p->t;
	struct jn *n;

	if (t->nall == t->capall) {
		size_t cap = t->capall ? t->capall * 2 : 64;
		struct jn **nv = hf_reallocarray(t->all, cap, sizeof(*nv));

		if (!nv)
			return NULL;
		t->all = nv;
		t->capall = cap;
	}
	n = hf_calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->k = k;
	n->line = cur(p)->line;
	t->all[t->nall++] = n;
	return n;
}

static int add_kid(struct jn *n, struct jn *kid)
{
	struct jn **nv = hf_reallocarray(n->kids, n->nkids + 1, sizeof(*nv));

	if (!nv)
		return HF_ENOMEM;
	n->kids = nv;
	n->kids[n->nkids++] = kid;
	return 0;
}

static int add_str(char ***v, size_t *n, const char *s)
{
	char **nv = hf_reallocarray(*v, *n + 1, sizeof(**v));

	if (!nv)
		return HF_ENOMEM;
	*v = nv;
	nv[*n] = hf_strdup(s);
	if (!nv[*n])
		return HF_ENOMEM;
	(*n)++;
	return 0;
}

static int add_cmp(struct jn *n, const char *op, struct jn *rhs)
{
	char(*nv)[3] = hf_reallocarray(n->ops, n->nkids + 1, sizeof(*nv));

	if (!nv)
		return HF_ENOMEM;
	n->ops = nv;
	snprintf(nv[n->nkids], 3, "%s", op);
	return add_kid(n, rhs);
}

static int parse_tuple(struct parser *p, int condexpr, struct jn **out);
static int parse_expr(struct parser *p, int condexpr, struct jn **out);
static int parse_unary(struct parser *p, int with_filter, struct jn **out);
static int parse_body(struct parser *p, const char *const *ends,
                      struct jn *into);

#define NEW(p, var, kind)                     \
	do {                                  \
		(var) = node((p), (kind));    \
		if (!(var))                   \
			return oom((p)->err); \
	} while (0)

static int enter(struct parser *p)
{
	if (++p->depth > HFS_JINJA_MAX_DEPTH)
		return perr(p,
		            "template nesting too deep (more than %d "
		            "levels)",
		            HFS_JINJA_MAX_DEPTH);
	return 0;
}

/* Call arguments after '(': positional, then name=value. */
static int parse_args(struct parser *p, struct jn *n)
{
	struct jn *arg;
	int rc;

	while (!is_op(cur(p), ")")) {
		if (n->nkids && (rc = expect_op(p, ",")) < 0)
			return rc;
		if (is_op(cur(p), ")"))
			break;
		if (cur(p)->t == T_NAME && is_op(ahead(p, 1), "=")) {
			rc = add_str(&n->kw, &n->nkw, cur(p)->s);
			if (rc < 0)
				return oom(p->err);
			p->pos += 2;
		} else if (n->nkw) {
			return perr(p, "positional argument follows keyword "
			               "argument");
		}
		rc = parse_expr(p, 1, &arg);
		if (rc < 0)
			return rc;
		if (add_kid(n, arg) < 0)
			return oom(p->err);
	}
	advance(p);
	return 0;
}

static int parse_const(struct parser *p, json_t *v, struct jn **out)
{
	struct jn *n;

	if (!v)
		return oom(p->err);
	n = node(p, E_CONST);
	if (!n) {
		json_decref(v);
		return oom(p->err);
	}
	n->cval = v;
	*out = n;
	return 0;
}

static int parse_strings(struct parser *p, struct jn **out)
{
	hf_buf b = HF_BUF_INIT;
	int rc;

	while (cur(p)->t == T_STRING) {
		hf_buf_addn(&b, cur(p)->s, cur(p)->n);
		advance(p);
	}
	if (hf_buf_failed(&b)) {
		hf_buf_release(&b);
		return oom(p->err);
	}
	rc = parse_const(p, jstr(b.ptr, b.len), out);
	hf_buf_release(&b);
	return rc;
}

static int parse_name(struct parser *p, struct jn **out)
{
	static const char *const consts[] = { "true",  "false", "none", "True",
		                              "False", "None",  NULL };
	const char *s = cur(p)->s;
	struct jn *n;
	size_t i;

	for (i = 0; consts[i]; i++) {
		if (strcmp(s, consts[i]))
			continue;
		advance(p);
		return parse_const(
		        p, i % 3 == 2 ? json_null() : json_boolean(i % 3 == 0),
		        out);
	}
	NEW(p, n, E_NAME);
	n->name = hf_strdup(s);
	if (!n->name)
		return oom(p->err);
	advance(p);
	*out = n;
	return 0;
}

/* [a, b], (a, b) or {k: v}; the opening bracket is current. */
static int parse_seq(struct parser *p, enum nk k, const char *close,
                     struct jn **out)
{
	struct jn *n, *item;
	int rc, comma = 0;

	NEW(p, n, k);
	advance(p);
	while (!is_op(cur(p), close)) {
		if (n->nkids && (rc = expect_op(p, ",")) < 0)
			return rc;
		if (is_op(cur(p), close)) {
			comma = 1;
			break;
		}
		rc = parse_expr(p, 1, &item);
		if (rc == 0 && add_kid(n, item) < 0)
			rc = oom(p->err);
		if (rc == 0 && k == E_DICT) {
			rc = expect_op(p, ":");
			if (rc == 0)
				rc = parse_expr(p, 1, &item);
			if (rc == 0 && add_kid(n, item) < 0)
				rc = oom(p->err);
		}
		if (rc < 0)
			return rc;
	}
	advance(p);
	/* "(x)" is x itself; "(x,)" and "()" are tuples */
	if (k == E_TUPLE && n->nkids == 1 && !comma)
		n = n->kids[0];
	*out = n;
	return 0;
}

static int parse_primary(struct parser *p, struct jn **out)
{
	struct tok *t = cur(p);

	switch (t->t) {
	case T_NAME:
		return parse_name(p, out);
	case T_STRING:
		return parse_strings(p, out);
	case T_INT:
		advance(p);
		return parse_const(p, json_integer(t->i), out);
	case T_FLOAT:
		advance(p);
		return parse_const(p, json_real(t->d), out);
	default:
		break;
	}
	if (is_op(t, "("))
		return parse_seq(p, E_TUPLE, ")", out);
	if (is_op(t, "["))
		return parse_seq(p, E_LIST, "]", out);
	if (is_op(t, "{"))
		return parse_seq(p, E_DICT, "}", out);
	return unexpected(p);
}

/* x[a], x[a:b:c] */
static int parse_subscript(struct parser *p, struct jn *obj, struct jn **out)
{
	struct jn *n, *parts[3] = { NULL, NULL, NULL };
	int i = 0, slice = 0, rc;

	advance(p);
	for (;;) {
		if (!is_op(cur(p), ":") && !is_op(cur(p), "]")) {
			rc = parse_expr(p, 1, &parts[i]);
			if (rc < 0)
				return rc;
		}
		if (!is_op(cur(p), ":") || i == 2)
			break;
		slice = 1;
		i++;
		advance(p);
	}
	rc = expect_op(p, "]");
	if (rc < 0)
		return rc;
	NEW(p, n, slice ? E_SLICE : E_ITEM);
	n->a = obj;
	n->b = parts[0];
	n->c = parts[1];
	n->d = parts[2];
	if (!slice && !parts[0])
		return perr(p, "expected an expression");
	*out = n;
	return 0;
}

static int parse_postfix(struct parser *p, struct jn **io)
{
	struct jn *n = NULL;
	int rc;

	for (;;) {
		if (is_op(cur(p), ".")) {
			advance(p);
			if (cur(p)->t != T_NAME && cur(p)->t != T_INT)
				return perr(p, "expected name or number");
			NEW(p, n, cur(p)->t == T_NAME ? E_ATTR : E_ITEM);
			n->a = *io;
			if (n->k == E_ATTR) {
				n->name = hf_strdup(cur(p)->s);
				if (!n->name)
					return oom(p->err);
			} else {
				rc = parse_const(p, json_integer(cur(p)->i),
				                 &n->b);
				if (rc < 0)
					return rc;
			}
			advance(p);
		} else if (is_op(cur(p), "[")) {
			rc = parse_subscript(p, *io, &n);
			if (rc < 0)
				return rc;
		} else if (is_op(cur(p), "(")) {
			NEW(p, n, E_CALL);
			n->a = *io;
			advance(p);
			rc = parse_args(p, n);
			if (rc < 0)
				return rc;
		} else {
			return 0;
		}
		*io = n;
	}
}

static int dotted_name(struct parser *p, char **out)
{
	hf_buf b = HF_BUF_INIT;

	if (cur(p)->t != T_NAME)
		return perr(p, "expected a name");
	hf_buf_add(&b, cur(p)->s);
	advance(p);
	while (is_op(cur(p), ".") && ahead(p, 1)->t == T_NAME) {
		hf_buf_addch(&b, '.');
		hf_buf_add(&b, ahead(p, 1)->s);
		p->pos += 2;
	}
	*out = hf_buf_detach(&b);
	return *out ? 0 : oom(p->err);
}

static int parse_filter(struct parser *p, struct jn *value, struct jn **out)
{
	struct jn *n;
	int rc;

	NEW(p, n, E_FILTER);
	n->a = value;
	rc = dotted_name(p, &n->name);
	if (rc == 0 && is_op(cur(p), "(")) {
		advance(p);
		rc = parse_args(p, n);
	}
	*out = n;
	return rc;
}

static int test_arg_start(const struct tok *t)
{
	if (is_name(t, "else") || is_name(t, "or") || is_name(t, "and"))
		return 0;
	return t->t == T_NAME || t->t == T_STRING || t->t == T_INT ||
	       t->t == T_FLOAT || is_op(t, "(") || is_op(t, "[") ||
	       is_op(t, "{");
}

static int parse_test(struct parser *p, struct jn *value, struct jn **out)
{
	struct jn *n, *arg;
	int rc;

	NEW(p, n, E_TEST);
	n->a = value;
	advance(p); /* is */
	if (is_name(cur(p), "not")) {
		n->neg = 1;
		advance(p);
	}
	rc = dotted_name(p, &n->name);
	if (rc == 0 && is_op(cur(p), "(")) {
		advance(p);
		rc = parse_args(p, n);
	} else if (rc == 0 && test_arg_start(cur(p))) {
		if (is_name(cur(p), "is"))
			return perr(p, "You cannot chain multiple tests with "
			               "is");
		rc = parse_primary(p, &arg);
		if (rc == 0)
			rc = parse_postfix(p, &arg);
		if (rc == 0 && add_kid(n, arg) < 0)
			rc = oom(p->err);
	}
	*out = n;
	return rc;
}

static int parse_filter_expr(struct parser *p, struct jn **io)
{
	int rc = 0;

	while (rc == 0) {
		if (is_op(cur(p), "|")) {
			advance(p);
			rc = parse_filter(p, *io, io);
		} else if (is_name(cur(p), "is")) {
			rc = parse_test(p, *io, io);
		} else if (is_op(cur(p), "(")) {
			rc = parse_postfix(p, io);
		} else {
			break;
		}
	}
	return rc;
}

static int parse_unary(struct parser *p, int with_filter, struct jn **out)
{
	struct jn *n = NULL;
	int rc = enter(p);

	if (rc < 0)
		return rc;
	if (is_op(cur(p), "-") || is_op(cur(p), "+")) {
		enum nk k = is_op(cur(p), "-") ? E_NEG : E_POS;

		advance(p);
		NEW(p, n, k);
		rc = parse_unary(p, 0, &n->a);
	} else {
		rc = parse_primary(p, &n);
	}
	if (rc == 0)
		rc = parse_postfix(p, &n);
	if (rc == 0 && with_filter)
		rc = parse_filter_expr(p, &n);
	p->depth--;
	*out = n;
	return rc;
}

typedef int (*level_fn)(struct parser *p, struct jn **out);

/* left (op right)* for binary operator levels. */
static int parse_bin(struct parser *p, level_fn next, const char *const *ops,
                     struct jn **out)
{
	struct jn *n;
	size_t i;
	int rc = next(p, out);

	while (rc == 0) {
		for (i = 0; ops[i] && !is_op(cur(p), ops[i]); i++)
			;
		if (!ops[i])
			break;
		NEW(p, n, E_BIN);
		snprintf(n->op, sizeof(n->op), "%s", ops[i]);
		n->a = *out;
		advance(p);
		rc = next(p, &n->b);
		*out = n;
	}
	return rc;
}

static int parse_unary_f(struct parser *p, struct jn **out)
{
	return parse_unary(p, 1, out);
}

static int parse_pow(struct parser *p, struct jn **out)
{
	static const char *const ops[] = { "**", NULL };

	return parse_bin(p, parse_unary_f, ops, out);
}

static int parse_math2(struct parser *p, struct jn **out)
{
	static const char *const ops[] = { "*", "/", "//", "%", NULL };

	return parse_bin(p, parse_pow, ops, out);
}

static int parse_concat(struct parser *p, struct jn **out)
{
	static const char *const ops[] = { "~", NULL };

	return parse_bin(p, parse_math2, ops, out);
}

static int parse_math1(struct parser *p, struct jn **out)
{
	static const char *const ops[] = { "+", "-", NULL };

	return parse_bin(p, parse_concat, ops, out);
}

static const char *cmp_op(struct parser *p)
{
	static const char *const ops[] = { "==", "!=", "<", "<=",
		                           ">",  ">=", NULL };
	size_t i;

	for (i = 0; ops[i]; i++)
		if (is_op(cur(p), ops[i]))
			return ops[i];
	if (is_name(cur(p), "in"))
		return "in";
	if (is_name(cur(p), "not") && is_name(ahead(p, 1), "in"))
		return "ni";
	return NULL;
}

static int parse_compare(struct parser *p, struct jn **out)
{
	struct jn *n = NULL, *rhs;
	const char *op;
	int rc = parse_math1(p, out);

	while (rc == 0 && (op = cmp_op(p))) {
		p->pos += op[0] == 'n' ? 2 : 1;
		if (!n) {
			NEW(p, n, E_CMP);
			n->a = *out;
		}
		rc = parse_math1(p, &rhs);
		if (rc == 0 && add_cmp(n, op, rhs) < 0)
			rc = oom(p->err);
	}
	if (n)
		*out = n;
	return rc;
}

static int parse_not(struct parser *p, struct jn **out)
{
	struct jn *n;
	int rc;

	if (!is_name(cur(p), "not"))
		return parse_compare(p, out);
	rc = enter(p);
	if (rc < 0)
		return rc;
	advance(p);
	NEW(p, n, E_NOT);
	rc = parse_not(p, &n->a);
	p->depth--;
	*out = n;
	return rc;
}

static int parse_logic(struct parser *p, level_fn next, const char *word,
                       enum nk k, struct jn **out)
{
	struct jn *n;
	int rc = next(p, out);

	while (rc == 0 && is_name(cur(p), word)) {
		advance(p);
		NEW(p, n, k);
		n->a = *out;
		rc = next(p, &n->b);
		*out = n;
	}
	return rc;
}

static int parse_and(struct parser *p, struct jn **out)
{
	return parse_logic(p, parse_not, "and", E_AND, out);
}

static int parse_or(struct parser *p, struct jn **out)
{
	return parse_logic(p, parse_and, "or", E_OR, out);
}

static int parse_expr(struct parser *p, int condexpr, struct jn **out)
{
	struct jn *n;
	int rc = parse_or(p, out);

	while (rc == 0 && condexpr && is_name(cur(p), "if")) {
		advance(p);
		NEW(p, n, E_COND);
		n->a = *out;
		rc = parse_or(p, &n->b);
		if (rc == 0 && is_name(cur(p), "else")) {
			advance(p);
			rc = parse_expr(p, 1, &n->c);
		}
		*out = n;
	}
	return rc;
}

static int tuple_end(const struct tok *t)
{
	return t->t == T_VAR_END || t->t == T_BLOCK_END || t->t == T_EOF ||
	       is_op(t, ")") || is_name(t, "if") || is_name(t, "recursive");
}

/* a or a, b, ... (a tuple without parentheses). */
static int parse_tuple(struct parser *p, int condexpr, struct jn **out)
{
	struct jn *n = NULL, *item;
	char d[128];
	int rc;

	if (tuple_end(cur(p)) && !is_op(cur(p), ")")) {
		describe(cur(p), d, sizeof(d));
		return perr(p, "Expected an expression, got '%s'", d);
	}
	rc = parse_expr(p, condexpr, &item);

	while (rc == 0 && is_op(cur(p), ",")) {
		advance(p);
		if (!n) {
			NEW(p, n, E_TUPLE);
			if (add_kid(n, item) < 0)
				return oom(p->err);
		}
		if (tuple_end(cur(p)))
			break;
		rc = parse_expr(p, condexpr, &item);
		if (rc == 0 && add_kid(n, item) < 0)
			rc = oom(p->err);
	}
	*out = n ? n : item;
	return rc;
}

/* ---- statements -----------------------------------------------------------
 */

/* Names of an assignment target: a, or a, b, or (a, b). */
static int parse_targets(struct parser *p, struct jn *n)
{
	int paren = is_op(cur(p), "(");

	if (paren)
		advance(p);
	for (;;) {
		if (cur(p)->t != T_NAME || is_name(cur(p), "in"))
			return perr(p, "expected a name to assign to");
		if (add_str(&n->targets, &n->ntargets, cur(p)->s) < 0)
			return oom(p->err);
		advance(p);
		if (!is_op(cur(p), ","))
			break;
		advance(p);
	}
	return paren ? expect_op(p, ")") : 0;
}

static int parse_block_body(struct parser *p, const char *const *ends,
                            struct jn **out)
{
	struct jn *body;

	NEW(p, body, N_BODY);
	*out = body;
	return parse_body(p, ends, body);
}

/* At "{%" before one of the end tags: its name. */
static const char *end_name(struct parser *p)
{
	return ahead(p, 1)->s;
}

static int skip_end_tag(struct parser *p)
{
	p->pos += 2;
	return expect_end(p, T_BLOCK_END);
}

static int parse_if(struct parser *p, struct jn **out)
{
	static const char *const ends[] = { "elif", "else", "endif", NULL };
	static const char *const endif[] = { "endif", NULL };
	struct jn *n;
	const char *e;
	int rc;

	NEW(p, n, N_IF);
	*out = n;
	rc = parse_tuple(p, 0, &n->a);
	if (rc == 0)
		rc = expect_end(p, T_BLOCK_END);
	if (rc == 0)
		rc = parse_block_body(p, ends, &n->b);
	if (rc < 0)
		return rc;
	e = end_name(p);
	if (!strcmp(e, "elif")) {
		p->pos += 2;
		return parse_if(p, &n->c);
	}
	if (!strcmp(e, "else")) {
		rc = skip_end_tag(p);
		if (rc == 0)
			rc = parse_block_body(p, endif, &n->c);
		if (rc < 0)
			return rc;
	}
	return skip_end_tag(p);
}

static int parse_for(struct parser *p, struct jn **out)
{
	static const char *const ends[] = { "else", "endfor", NULL };
	static const char *const endfor[] = { "endfor", NULL };
	struct jn *n;
	int rc;

	NEW(p, n, N_FOR);
	*out = n;
	rc = parse_targets(p, n);
	if (rc == 0 && !is_name(cur(p), "in"))
		return perr(p, "expected token 'in', got '%s'",
		            cur(p)->t == T_NAME ? cur(p)->s : "?");
	advance(p);
	if (rc == 0)
		rc = parse_tuple(p, 0, &n->a);
	if (rc == 0 && is_name(cur(p), "if")) {
		advance(p);
		rc = parse_expr(p, 1, &n->d);
	}
	if (rc == 0 && is_name(cur(p), "recursive"))
		return perr(p, "recursive loops are not supported by the "
		               "local server");
	if (rc == 0)
		rc = expect_end(p, T_BLOCK_END);
	if (rc == 0)
		rc = parse_block_body(p, ends, &n->b);
	if (rc == 0 && !strcmp(end_name(p), "else")) {
		rc = skip_end_tag(p);
		if (rc == 0)
			rc = parse_block_body(p, endfor, &n->c);
	}
	return rc < 0 ? rc : skip_end_tag(p);
}

static int parse_set(struct parser *p, struct jn **out)
{
	static const char *const ends[] = { "endset", NULL };
	struct jn *n;
	int rc;

	NEW(p, n, N_SET);
	*out = n;
	rc = parse_targets(p, n);
	if (rc == 0 && is_op(cur(p), "=")) {
		advance(p);
		rc = parse_tuple(p, 1, &n->a);
		return rc < 0 ? rc : expect_end(p, T_BLOCK_END);
	}
	if (rc == 0 && n->ntargets != 1)
		return perr(p, "expected token '=', got '%s'",
		            cur(p)->t == T_NAME ? cur(p)->s : "?");
	n->k = N_SETBLOCK;
	if (rc == 0)
		rc = expect_end(p, T_BLOCK_END);
	if (rc == 0)
		rc = parse_block_body(p, ends, &n->b);
	return rc < 0 ? rc : skip_end_tag(p);
}

static int parse_with(struct parser *p, struct jn **out)
{
	static const char *const ends[] = { "endwith", NULL };
	struct jn *n, *v;
	int rc = 0;

	NEW(p, n, N_WITH);
	*out = n;
	while (rc == 0 && cur(p)->t != T_BLOCK_END) {
		if (n->ntargets && (rc = expect_op(p, ",")) < 0)
			return rc;
		if (cur(p)->t != T_NAME)
			return perr(p, "expected a name to assign to");
		if (add_str(&n->targets, &n->ntargets, cur(p)->s) < 0)
			return oom(p->err);
		advance(p);
		rc = expect_op(p, "=");
		if (rc == 0)
			rc = parse_expr(p, 1, &v);
		if (rc == 0 && add_kid(n, v) < 0)
			rc = oom(p->err);
	}
	if (rc == 0)
		rc = expect_end(p, T_BLOCK_END);
	if (rc == 0)
		rc = parse_block_body(p, ends, &n->b);
	return rc < 0 ? rc : skip_end_tag(p);
}

/* {% filter f | g(x) %}: a filter chain over a NULL value (the body). */
static int parse_filter_block(struct parser *p, struct jn **out)
{
	static const char *const ends[] = { "endfilter", NULL };
	struct jn *n, *chain = NULL;
	int rc;

	NEW(p, n, N_FILTERBLOCK);
	*out = n;
	rc = parse_filter(p, NULL, &chain);
	while (rc == 0 && is_op(cur(p), "|")) {
		advance(p);
		rc = parse_filter(p, chain, &chain);
	}
	n->a = chain;
	if (rc == 0)
		rc = expect_end(p, T_BLOCK_END);
	if (rc == 0)
		rc = parse_block_body(p, ends, &n->b);
	return rc < 0 ? rc : skip_end_tag(p);
}

/*
 * include/import/from: Infrahub refuses them in string templates
 * (validate(): "These operations are forbidden ..."); remember the first
 * and skip the tag so the refusal comes from hfs_jinja_validate().
 */
static int parse_forbidden(struct parser *p, const char *tag)
{
	if (!p->t->forbidden)
		p->t->forbidden =
		        !strcmp(tag, "include") ? "Include" : "Import";
	while (cur(p)->t != T_BLOCK_END && cur(p)->t != T_EOF)
		advance(p);
	return expect_end(p, T_BLOCK_END);
}

static int parse_statement(struct parser *p, struct jn **out)
{
	const char *tag;
	int rc;

	*out = NULL;
	advance(p); /* {% */
	if (cur(p)->t != T_NAME)
		return perr(p, "tag name expected");
	tag = cur(p)->s;
	advance(p);
	rc = enter(p);
	if (rc < 0)
		return rc;
	if (!strcmp(tag, "if"))
		rc = parse_if(p, out);
	else if (!strcmp(tag, "for"))
		rc = parse_for(p, out);
	else if (!strcmp(tag, "set"))
		rc = parse_set(p, out);
	else if (!strcmp(tag, "with"))
		rc = parse_with(p, out);
	else if (!strcmp(tag, "filter"))
		rc = parse_filter_block(p, out);
	else if (!strcmp(tag, "include") || !strcmp(tag, "import") ||
	         !strcmp(tag, "from"))
		rc = parse_forbidden(p, tag);
	else if (!strcmp(tag, "macro") || !strcmp(tag, "call") ||
	         !strcmp(tag, "extends") || !strcmp(tag, "block"))
		rc = perr(p,
		          "the '%s' tag is not supported by the local "
		          "server",
		          tag);
	else
		rc = perr(p, "Encountered unknown tag '%s'.", tag);
	p->depth--;
	return rc;
}

static int in_list(const char *s, const char *const *list)
{
	size_t i;

	for (i = 0; list && list[i]; i++)
		if (!strcmp(s, list[i]))
			return 1;
	return 0;
}

static int end_of_template(struct parser *p, const char *const *ends)
{
	hf_buf b = HF_BUF_INIT;
	size_t i;
	int rc;

	if (!ends)
		return 0;
	for (i = 0; ends[i]; i++)
		hf_buf_addf(&b, "%s'%s'", i ? " or " : "", ends[i]);
	rc = perr(p,
	          "Unexpected end of template. Jinja was looking for the "
	          "following tags: %s. The innermost block that needs to "
	          "be closed is '%s'.",
	          b.ptr, ends[i - 1] + 3);
	hf_buf_release(&b);
	return rc;
}

static int parse_body(struct parser *p, const char *const *ends,
                      struct jn *into)
{
	struct jn *n;
	int rc = 0;

	while (rc == 0) {
		struct tok *t = cur(p);

		n = NULL;
		if (t->t == T_EOF)
			return end_of_template(p, ends);
		if (t->t == T_BLOCK_BEGIN && ahead(p, 1)->t == T_NAME &&
		    in_list(ahead(p, 1)->s, ends))
			return 0;
		if (t->t == T_TEXT) {
			NEW(p, n, N_TEXT);
			n->name = t->s;
			n->cval = json_integer((json_int_t)t->n);
			t->s = NULL;
			advance(p);
		} else if (t->t == T_VAR_BEGIN) {
			advance(p);
			NEW(p, n, N_OUTPUT);
			rc = parse_tuple(p, 1, &n->a);
			if (rc == 0)
				rc = expect_end(p, T_VAR_END);
		} else if (t->t == T_BLOCK_BEGIN) {
			rc = parse_statement(p, &n);
		} else {
			rc = unexpected(p);
		}
		if (rc == 0 && n && add_kid(into, n) < 0)
			rc = oom(p->err);
	}
	return rc;
}

/* ---- undeclared variables -------------------------------------------------
 */

/*
 * jinja2.meta.find_undeclared_variables, for this subset: names read
 * before any assignment in scope; for-loop targets and "loop" are
 * declared in the loop body, set/with targets from there on.
 */
struct names {
	char **v;
	size_t n;
};

struct walk {
	struct names declared; /* a stack: scopes truncate it */
	struct names found;
	int oom;
};

static int names_has(const struct names *ns, const char *s)
{
	size_t i;

	for (i = 0; i < ns->n; i++)
		if (!strcmp(ns->v[i], s))
			return 1;
	return 0;
}

static void names_push(struct walk *w, struct names *ns, const char *s)
{
	char **nv;

	if (w->oom)
		return;
	nv = hf_reallocarray(ns->v, ns->n + 1, sizeof(*nv));
	if (!nv) {
		w->oom = 1;
		return;
	}
	ns->v = nv;
	ns->v[ns->n] = hf_strdup(s);
	if (!ns->v[ns->n]) {
		w->oom = 1;
		return;
	}
	ns->n++;
}

static void names_truncate(struct names *ns, size_t n)
{
	while (ns->n > n)
		hf_free(ns->v[--ns->n]);
}

static void walk_node(struct walk *w, const struct jn *n);

static void walk_kids(struct walk *w, const struct jn *n)
{
	size_t i;

	for (i = 0; i < n->nkids; i++)
		walk_node(w, n->kids[i]);
}

static void walk_targets(struct walk *w, const struct jn *n)
{
	size_t i;

	for (i = 0; i < n->ntargets; i++)
		names_push(w, &w->declared, n->targets[i]);
}

static void walk_for(struct walk *w, const struct jn *n)
{
	size_t mark = w->declared.n;

	walk_node(w, n->a);
	walk_targets(w, n);
	names_push(w, &w->declared, "loop");
	walk_node(w, n->d);
	walk_node(w, n->b);
	names_truncate(&w->declared, mark);
	walk_node(w, n->c);
}

static void walk_node(struct walk *w, const struct jn *n)
{
	size_t mark;

	if (!n)
		return;
	switch (n->k) {
	case E_NAME:
		if (!names_has(&w->declared, n->name) &&
		    !names_has(&w->found, n->name))
			names_push(w, &w->found, n->name);
		return;
	case N_FOR:
		walk_for(w, n);
		return;
	case N_SET:
		walk_node(w, n->a);
		walk_targets(w, n);
		return;
	case N_SETBLOCK:
		walk_node(w, n->b);
		walk_targets(w, n);
		return;
	case N_WITH:
		mark = w->declared.n;
		walk_kids(w, n);
		walk_targets(w, n);
		walk_node(w, n->b);
		names_truncate(&w->declared, mark);
		return;
	default:
		break;
	}
	walk_node(w, n->a);
	walk_node(w, n->b);
	walk_node(w, n->c);
	walk_node(w, n->d);
	walk_kids(w, n);
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int find_vars(hfs_jinja *t, hf_error *err)
{
	struct walk w;

	memset(&w, 0, sizeof(w));
	walk_node(&w, t->body);
	names_truncate(&w.declared, 0);
	hf_free(w.declared.v);
	if (w.oom) {
		names_truncate(&w.found, 0);
		hf_free(w.found.v);
		return oom(err);
	}
	if (w.found.n)
		qsort(w.found.v, w.found.n, sizeof(*w.found.v), cmp_strp);
	t->vars = w.found.v;
	t->nvars = w.found.n;
	return 0;
}

/* ---- the parse API --------------------------------------------------------
 */

static void node_free(struct jn *n)
{
	size_t i;

	hf_free(n->name);
	json_decref(n->cval);
	hf_free(n->kids);
	for (i = 0; i < n->nkw; i++)
		hf_free(n->kw[i]);
	hf_free(n->kw);
	hf_free(n->ops);
	for (i = 0; i < n->ntargets; i++)
		hf_free(n->targets[i]);
	hf_free(n->targets);
	hf_free(n);
}

void hfs_jinja_free(hfs_jinja *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->nall; i++)
		node_free(t->all[i]);
	hf_free(t->all);
	for (i = 0; i < t->nvars; i++)
		hf_free(t->vars[i]);
	hf_free(t->vars);
	hf_free(t);
}

int hfs_jinja_parse(hfs_jinja **out, const char *src, hf_error *err)
{
	struct parser p;
	hfs_jinja *t;
	int rc;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	t = hf_calloc(1, sizeof(*t));
	if (!t)
		return oom(err);
	p.t = t;
	p.err = err;
	rc = lex(src, &p.v, &p.n, err);
	if (rc == 0) {
		t->body = node(&p, N_BODY);
		rc = t->body ? parse_body(&p, NULL, t->body) : oom(err);
	}
	if (rc == 0)
		rc = find_vars(t, err);
	toks_free(p.v, p.n);
	if (rc < 0) {
		hfs_jinja_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

size_t hfs_jinja_nvars(const hfs_jinja *t)
{
	return t->nvars;
}

const char *hfs_jinja_var(const hfs_jinja *t, size_t i)
{
	return i < t->nvars ? t->vars[i] : NULL;
}

/* ---- evaluation state -----------------------------------------------------
 */

#define MAX_SCOPES (HFS_JINJA_MAX_DEPTH + 4)

struct jst {
	hf_error *err;
	const json_t *vars;
	json_t *scopes[MAX_SCOPES];
	size_t nscopes;
	json_t *tuples; /* arrays created as tuples (identity) */
	json_t *soft; /* jinja2.Undefined of "a if b" (prints "") */
	unsigned long steps;
	int depth;
	char undef[300]; /* why the last Undefined is undefined */
};

static int jerr(struct jst *s, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static int jerr(struct jst *s, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = hf_error_setv(s->err, HF_EINVAL, fmt, ap);
	va_end(ap);
	return rc;
}

static void set_undef(struct jst *s, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void set_undef(struct jst *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->undef, sizeof(s->undef), fmt, ap);
	va_end(ap);
}

/* Using an Undefined: StrictUndefined raises. */
static int undef_err(struct jst *s)
{
	return jerr(s, "%s", s->undef[0] ? s->undef : "undefined value");
}

static int is_tuple(const struct jst *s, const json_t *v)
{
	size_t i;

	for (i = 0; s && i < json_array_size(s->tuples); i++)
		if (json_array_get(s->tuples, i) == v)
			return 1;
	return 0;
}

static int mark_tuple(struct jst *s, json_t *v)
{
	if (!s->tuples)
		s->tuples = json_array();
	if (!s->tuples || json_array_append(s->tuples, v) < 0)
		return oom(s->err);
	return 0;
}

/* The Python name of v's type, "tuple" included. */
static const char *ptype(const struct jst *s, const json_t *v)
{
	return is_tuple(s, v) ? "tuple" : py_type(v);
}

static int too_large(struct jst *s, size_t n)
{
	if (n <= HFS_JINJA_MAX_OUTPUT)
		return 0;
	return jerr(s, "result too large (more than %d bytes)",
	            HFS_JINJA_MAX_OUTPUT);
}

/* Hand a buffer out as a JSON string (checks failure and size). */
static int buf_val(struct jst *s, hf_buf *b, json_t **out)
{
	int rc = 0;

	*out = NULL;
	if (hf_buf_failed(b))
		rc = too_large(s, b->len + HFS_JINJA_MAX_OUTPUT + 1);
	if (rc == 0)
		rc = too_large(s, b->len);
	if (rc == 0) {
		*out = jstr(b->ptr, b->len);
		if (!*out)
			rc = oom(s->err);
	}
	hf_buf_release(b);
	return rc;
}

static void sbuf(hf_buf *b)
{
	hf_buf_init(b, HFS_JINJA_MAX_OUTPUT + 1);
}

/* str(v) as a new JSON string. */
static int to_str(struct jst *s, const json_t *v, json_t **out)
{
	hf_buf b;

	if (json_is_string(v)) {
		*out = json_incref(mut(v));
		return 0;
	}
	sbuf(&b);
	py_str(s, &b, v);
	return buf_val(s, &b, out);
}

/* ---- comparisons ----------------------------------------------------------
 */

static int py_eq(const json_t *a, const json_t *b)
{
	int ia, ib;
	json_int_t xa, xb;
	double da, db;
	size_t i;

	if (num_of(a, &ia, &xa, &da) == 0 && num_of(b, &ib, &xb, &db) == 0)
		return ia && ib ? xa == xb : da == db;
	if (json_typeof(a) != json_typeof(b))
		return 0;
	if (json_is_array(a)) {
		if (json_array_size(a) != json_array_size(b))
			return 0;
		for (i = 0; i < json_array_size(a); i++)
			if (!py_eq(json_array_get(a, i), json_array_get(b, i)))
				return 0;
		return 1;
	}
	if (json_is_object(a)) {
		const char *k;
		json_t *v;

		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach(
		        mut(a), k,
		        v) if (!json_object_get(b, k) ||
		               !py_eq(v, json_object_get(b, k))) return 0;
		return 1;
	}
	return json_equal(mut(a), mut(b));
}

/* Ordering: <0, 0, >0 in *res; an error for unorderable types. */
static int py_order(struct jst *s, const char *op, const json_t *a,
                    const json_t *b, int *res)
{
	int ia, ib;
	json_int_t xa, xb;
	double da, db;
	size_t i;

	if (num_of(a, &ia, &xa, &da) == 0 && num_of(b, &ib, &xb, &db) == 0) {
		if (ia && ib)
			*res = (xa > xb) - (xa < xb);
		else
			*res = (da > db) - (da < db);
		return 0;
	}
	if (json_is_string(a) && json_is_string(b)) {
		size_t la = json_string_length(a), lb = json_string_length(b);
		int c = memcmp(json_string_value(a), json_string_value(b),
		               la < lb ? la : lb);

		*res = c ? c : (la > lb) - (la < lb);
		return 0;
	}
	if (json_is_array(a) && json_is_array(b)) {
		for (i = 0; i < json_array_size(a) && i < json_array_size(b);
		     i++) {
			if (py_eq(json_array_get(a, i), json_array_get(b, i)))
				continue;
			return py_order(s, op, json_array_get(a, i),
			                json_array_get(b, i), res);
		}
		*res = (json_array_size(a) > json_array_size(b)) -
		       (json_array_size(a) < json_array_size(b));
		return 0;
	}
	return jerr(s,
	            "'%s' not supported between instances of '%s' and "
	            "'%s'",
	            op, ptype(s, a), ptype(s, b));
}

static int py_in(struct jst *s, const json_t *a, const json_t *b, int *res)
{
	size_t i;

	*res = 0;
	if (json_is_string(b)) {
		if (!json_is_string(a))
			return jerr(s,
			            "'in <string>' requires string as left "
			            "operand, not %s",
			            ptype(s, a));
		*res = json_string_length(a) == 0 ||
		       strstr(json_string_value(b), json_string_value(a));
		return 0;
	}
	if (json_is_array(b)) {
		for (i = 0; i < json_array_size(b) && !*res; i++)
			*res = py_eq(a, json_array_get(b, i));
		return 0;
	}
	if (json_is_object(b)) {
		*res = json_is_string(a) &&
		       json_object_get(b, json_string_value(a)) != NULL;
		return 0;
	}
	return jerr(s, "argument of type '%s' is not iterable", ptype(s, b));
}

static int compare(struct jst *s, const char *op, const json_t *a,
                   const json_t *b, int *res)
{
	int c, rc;

	if (!strcmp(op, "=="))
		*res = py_eq(a, b);
	else if (!strcmp(op, "!="))
		*res = !py_eq(a, b);
	else if (!strcmp(op, "in") || !strcmp(op, "ni")) {
		rc = py_in(s, a, b, res);
		if (rc < 0)
			return rc;
		*res ^= op[0] == 'n';
	} else {
		rc = py_order(s, op, a, b, &c);
		if (rc < 0)
			return rc;
		if (!strcmp(op, "<"))
			*res = c < 0;
		else if (!strcmp(op, "<="))
			*res = c <= 0;
		else if (!strcmp(op, ">"))
			*res = c > 0;
		else
			*res = c >= 0;
	}
	return 0;
}

/* ---- printf-style formatting (str % args, the format filter) --------------
 */

struct pspec {
	char flags[8];
	int width; /* -1: none */
	int prec; /* -1: none */
	char type;
};

static const char *parse_pspec(const char *p, struct pspec *sp)
{
	size_t nf = 0;
	char *end;

	memset(sp, 0, sizeof(*sp));
	sp->width = sp->prec = -1;
	while (*p && strchr("-+ #0", *p) && nf + 1 < sizeof(sp->flags))
		sp->flags[nf++] = *p++;
	if (isdigit((unsigned char)*p)) {
		sp->width = (int)strtol(p, &end, 10);
		p = end;
	}
	if (*p == '.') {
		sp->prec = (int)strtol(p + 1, &end, 10);
		p = end;
	}
	while (*p == 'l' || *p == 'h' || *p == 'L')
		p++;
	sp->type = *p;
	return *p ? p + 1 : p;
}

static void pad(hf_buf *b, const struct pspec *sp, const char *body, size_t n)
{
	size_t len = u8_len(body, n), i;
	int left = strchr(sp->flags, '-') != NULL;
	int zero = strchr(sp->flags, '0') && !left &&
	           strchr("dioxXeEfFgG", sp->type);
	size_t w = sp->width > 0 ? (size_t)sp->width : 0;
	size_t sign = n && (body[0] == '-' || body[0] == '+' || body[0] == ' ');

	if (zero && len < w) {
		hf_buf_addn(b, body, sign);
		for (i = len; i < w; i++)
			hf_buf_addch(b, '0');
		hf_buf_addn(b, body + sign, n - sign);
		return;
	}
	if (!left)
		for (i = len; i < w; i++)
			hf_buf_addch(b, ' ');
	hf_buf_addn(b, body, n);
	if (left)
		for (i = len; i < w; i++)
			hf_buf_addch(b, ' ');
}

/* A number for %d/%f...: ints and floats; strings are refused. */
static int fmt_num(struct jst *s, const json_t *v, char type, int *is_int,
                   json_int_t *i, double *d)
{
	if (num_of(v, is_int, i, d) == 0)
		return 0;
	return jerr(s, "%%%c format: a real number is required, not %s", type,
	            ptype(s, v));
}

static void fmt_radix(char *t, size_t len, const struct pspec *sp, json_int_t i)
{
	unsigned long long u =
	        i < 0 ? 0ULL - (unsigned long long)i : (unsigned long long)i;
	const char *pre = "";

	if (strchr(sp->flags, '#'))
		pre = sp->type == 'o' ? "0o" : sp->type == 'x' ? "0x" : "0X";
	if (sp->type == 'o')
		snprintf(t, len, "%s%s%llo", i < 0 ? "-" : "", pre, u);
	else if (sp->type == 'x')
		snprintf(t, len, "%s%s%llx", i < 0 ? "-" : "", pre, u);
	else
		snprintf(t, len, "%s%s%llX", i < 0 ? "-" : "", pre, u);
}

static void fmt_real(char *t, size_t len, const struct pspec *sp, double d)
{
	int prec = sp->prec < 0 ? 6 : sp->prec;
	const char *sign = d >= 0 && strchr(sp->flags, '+') ? "+" : "";

	switch (sp->type) {
	case 'e':
		snprintf(t, len, "%s%.*e", sign, prec, d);
		break;
	case 'E':
		snprintf(t, len, "%s%.*E", sign, prec, d);
		break;
	case 'g':
		snprintf(t, len, "%s%.*g", sign, prec, d);
		break;
	case 'G':
		snprintf(t, len, "%s%.*G", sign, prec, d);
		break;
	case 'F':
		snprintf(t, len, "%s%.*F", sign, prec, d);
		break;
	default:
		snprintf(t, len, "%s%.*f", sign, prec, d);
	}
}

static int fmt_one(struct jst *s, hf_buf *b, const struct pspec *sp,
                   const json_t *v)
{
	char t[400];
	hf_buf body;
	int is_int = 0, rc;
	json_int_t i = 0;
	double d = 0;

	if (sp->type == 's' || sp->type == 'r' || sp->type == 'a') {
		sbuf(&body);
		if (sp->type == 's')
			py_str(s, &body, v);
		else
			py_repr(s, &body, v);
		if (sp->prec >= 0)
			hf_buf_setlen(&body, u8_off(body.ptr, body.len,
			                            (size_t)sp->prec));
		pad(b, sp, body.ptr, body.len);
		hf_buf_release(&body);
		return 0;
	}
	rc = fmt_num(s, v, sp->type, &is_int, &i, &d);
	if (rc < 0)
		return rc;
	if (strchr("diu", sp->type)) {
		i = is_int ? i : (json_int_t)d;
		snprintf(t, sizeof(t), "%s%lld",
		         i >= 0 && strchr(sp->flags, '+')   ? "+"
		         : i >= 0 && strchr(sp->flags, ' ') ? " "
		                                            : "",
		         (long long)i);
	} else if (strchr("xXo", sp->type)) {
		if (!is_int)
			return jerr(s,
			            "%%%c format: an integer is required, "
			            "not float",
			            sp->type);
		fmt_radix(t, sizeof(t), sp, i);
	} else if (strchr("eEfFgG", sp->type)) {
		fmt_real(t, sizeof(t), sp, d);
	} else if (sp->type == 'c') {
		hf_buf cb = HF_BUF_INIT;

		u8_put(&cb, (unsigned long)i);
		pad(b, sp, cb.ptr, cb.len);
		hf_buf_release(&cb);
		return 0;
	} else {
		return jerr(s, "unsupported format character '%c'",
		            sp->type ? sp->type : '?');
	}
	pad(b, sp, t, strlen(t));
	return 0;
}

/*
 * fmt % args, Python's rules: `args` the positional values (a tuple, or
 * the one value), `map` the right operand when it is a mapping or list
 * (then %(key)s reads it and unused values are no error), else NULL.
 */
static int py_percent(struct jst *s, const char *fmt, const json_t *args,
                      const json_t *map, json_t **out)
{
	hf_buf b;
	struct pspec sp;
	const char *p = fmt;
	size_t next = 0;
	int rc = 0;

	sbuf(&b);
	while (rc == 0 && *p) {
		const json_t *v;
		char key[128];

		if (*p != '%') {
			hf_buf_addch(&b, *p++);
			continue;
		}
		p++;
		key[0] = '\0';
		if (*p == '(') {
			const char *e = strchr(p, ')');
			size_t n = e ? (size_t)(e - p - 1) : 0;

			if (!e || n >= sizeof(key)) {
				rc = jerr(s, "incomplete format key");
				break;
			}
			memcpy(key, p + 1, n);
			key[n] = '\0';
			p = e + 1;
		}
		p = parse_pspec(p, &sp);
		if (!sp.type) {
			rc = jerr(s, "incomplete format");
			break;
		}
		if (sp.type == '%') {
			hf_buf_addch(&b, '%');
			continue;
		}
		if (key[0] && !json_is_object(map)) {
			rc = jerr(s,
			          map ? "%s indices must be integers or "
			                "slices, not str"
			              : "format requires a mapping",
			          map ? ptype(s, map) : "");
			break;
		}
		if (key[0])
			v = json_object_get(map, key);
		else
			v = json_array_get(args, next++);
		if (!v) {
			rc = key[0] ? jerr(s, "'%s'", key)
			            : jerr(s, "not enough arguments for format "
			                      "string");
			break;
		}
		rc = fmt_one(s, &b, &sp, v);
	}
	if (rc == 0 && !map && next < json_array_size(args))
		rc = jerr(s, "not all arguments converted during string "
		             "formatting");
	if (rc < 0) {
		hf_buf_release(&b);
		return rc;
	}
	return buf_val(s, &b, out);
}

/* ---- arithmetic -----------------------------------------------------------
 */

static int binop_type_err(struct jst *s, const char *op, const json_t *a,
                          const json_t *b)
{
	if (!strcmp(op, "+") && json_is_string(a))
		return jerr(s, "can only concatenate str (not \"%s\") to str",
		            ptype(s, b));
	return jerr(s, "unsupported operand type(s) for %s: '%s' and '%s'", op,
	            ptype(s, a), ptype(s, b));
}

static int int_result(struct jst *s, int overflow, json_int_t v, json_t **out)
{
	if (overflow)
		return jerr(s, "integer overflow (the local server keeps "
		               "integers to 64 bits)");
	*out = json_integer(v);
	return *out ? 0 : oom(s->err);
}

static int real_result(struct jst *s, double v, json_t **out)
{
	*out = json_real(v);
	return *out ? 0 : oom(s->err);
}

static int int_pow(struct jst *s, json_int_t a, json_int_t e, json_t **out)
{
	json_int_t r = 1;
	int ov = 0;

	if (e < 0)
		return real_result(s, j_ipow((double)a, e), out);
	while (e-- > 0 && !ov)
		ov = __builtin_mul_overflow(r, a, &r);
	return int_result(s, ov, r, out);
}

static int int_floordiv(struct jst *s, const char *op, json_int_t a,
                        json_int_t b, json_t **out)
{
	json_int_t q, m;

	if (b == 0)
		return jerr(s, op[0] == '%' ? "integer modulo by zero"
		                            : "integer division or modulo by "
		                              "zero");
	if (a == LLONG_MIN && b == -1)
		return int_result(s, 1, 0, out);
	q = a / b;
	m = a % b;
	if (m != 0 && ((m < 0) != (b < 0))) {
		q--;
		m += b;
	}
	return int_result(s, 0, op[0] == '%' ? m : q, out);
}

static int num_binop(struct jst *s, const char *op, int ints, json_int_t xa,
                     json_int_t xb, double da, double db, json_t **out)
{
	json_int_t r = 0;

	if (ints &&
	    (!strcmp(op, "+") || !strcmp(op, "-") || !strcmp(op, "*"))) {
		int ov = op[0] == '+'   ? __builtin_add_overflow(xa, xb, &r)
		         : op[0] == '-' ? __builtin_sub_overflow(xa, xb, &r)
		                        : __builtin_mul_overflow(xa, xb, &r);

		return int_result(s, ov, r, out);
	}
	if (ints && (!strcmp(op, "//") || !strcmp(op, "%")))
		return int_floordiv(s, op, xa, xb, out);
	if (ints && !strcmp(op, "**"))
		return int_pow(s, xa, xb, out);
	if (!strcmp(op, "+"))
		return real_result(s, da + db, out);
	if (!strcmp(op, "-"))
		return real_result(s, da - db, out);
	if (!strcmp(op, "*"))
		return real_result(s, da * db, out);
	if (!strcmp(op, "**")) {
		if (j_floor(db) != db || j_fabs(db) > 1e9)
			return jerr(s, "fractional exponents are not supported "
			               "by the local server");
		return real_result(s, j_ipow(da, (long long)db), out);
	}
	if (db == 0.0)
		return jerr(s, !strcmp(op, "/")    ? "division by zero"
		               : !strcmp(op, "//") ? "float floor division by "
		                                     "zero"
		                                   : "float modulo");
	if (!strcmp(op, "/"))
		return real_result(s, da / db, out);
	if (!strcmp(op, "//"))
		return real_result(s, j_floor(da / db), out);
	return real_result(s, da - db * j_floor(da / db), out);
}

static int repeat(struct jst *s, const json_t *seq, json_int_t n, json_t **out)
{
	size_t unit = json_is_string(seq) ? json_string_length(seq)
	                                  : json_array_size(seq) * 8;
	json_int_t k;
	hf_buf b;
	int rc;

	if (n > 0 && unit && (size_t)n > HFS_JINJA_MAX_OUTPUT / unit)
		return too_large(s, HFS_JINJA_MAX_OUTPUT + 1);
	if (json_is_array(seq)) {
		*out = json_array();
		for (k = 0; *out && k < n; k++)
			if (json_array_extend(*out, mut(seq)) < 0)
				return oom(s->err);
		return *out ? 0 : oom(s->err);
	}
	sbuf(&b);
	for (k = 0; k < n; k++)
		hf_buf_addn(&b, json_string_value(seq), unit);
	rc = buf_val(s, &b, out);
	return rc;
}

static int seq_binop(struct jst *s, const char *op, const json_t *a,
                     const json_t *b, json_t **out)
{
	hf_buf t;
	int ia;
	json_int_t x;
	double d;

	if (!strcmp(op, "+") && json_is_string(a) && json_is_string(b)) {
		sbuf(&t);
		hf_buf_addn(&t, json_string_value(a), json_string_length(a));
		hf_buf_addn(&t, json_string_value(b), json_string_length(b));
		return buf_val(s, &t, out);
	}
	if (!strcmp(op, "+") && json_is_array(a) && json_is_array(b)) {
		*out = json_copy(mut(a));
		if (!*out || json_array_extend(*out, mut(b)) < 0)
			return oom(s->err);
		return 0;
	}
	if (!strcmp(op, "*") && (json_is_string(a) || json_is_array(a)) &&
	    num_of(b, &ia, &x, &d) == 0 && ia)
		return repeat(s, a, x, out);
	if (!strcmp(op, "*") && (json_is_string(b) || json_is_array(b)) &&
	    num_of(a, &ia, &x, &d) == 0 && ia)
		return repeat(s, b, x, out);
	if (!strcmp(op, "%") && json_is_string(a)) {
		int tuple = is_tuple(s, b);
		json_t *args =
		        tuple ? json_incref(mut(b)) : json_pack("[O]", b);
		const json_t *map =
		        !tuple && (json_is_array(b) || json_is_object(b))
		                ? b
		                : NULL;
		int rc = args ? py_percent(s, json_string_value(a), args, map,
		                           out)
		              : oom(s->err);

		json_decref(args);
		return rc;
	}
	return binop_type_err(s, op, a, b);
}

static int binop(struct jst *s, const char *op, const json_t *a,
                 const json_t *b, json_t **out)
{
	int ia, ib;
	json_int_t xa = 0, xb = 0;
	double da = 0, db = 0;
	hf_buf t;

	*out = NULL;
	if (!strcmp(op, "~")) {
		sbuf(&t);
		py_str(s, &t, a);
		py_str(s, &t, b);
		return buf_val(s, &t, out);
	}
	if (num_of(a, &ia, &xa, &da) == 0 && num_of(b, &ib, &xb, &db) == 0)
		return num_binop(s, op, ia && ib && strcmp(op, "/"), xa, xb, da,
		                 db, out);
	return seq_binop(s, op, a, b, out);
}

/* ---- attribute and item access (sandboxed) --------------------------------
 */

/* The list of a value, for loops and filters: str -> chars, dict -> keys. */
static int iter_list(struct jst *s, const json_t *v, json_t **out)
{
	const char *str, *k;
	json_t *item;
	size_t i, n, w;

	*out = NULL;
	if (json_is_array(v)) {
		*out = json_incref(mut(v));
		return 0;
	}
	*out = json_array();
	if (!*out)
		return oom(s->err);
	if (json_is_string(v)) {
		str = json_string_value(v);
		n = json_string_length(v);
		for (i = 0; i < n; i += w) {
			w = u8_char(str, n, i);
			if (json_array_append_new(*out, jstr(str + i, w)) < 0)
				return oom(s->err);
		}
		return 0;
	}
	if (json_is_object(v)) {
		json_object_foreach(
		        mut(v), k,
		        item) if (json_array_append_new(*out, json_string(k)) <
		                  0) return oom(s->err);
		return 0;
	}
	json_decref(*out);
	*out = NULL;
	return jerr(s, "'%s' object is not iterable", ptype(s, v));
}

static int int_index(const json_t *v, json_int_t *i)
{
	int is_int;
	double d;

	return num_of(v, &is_int, i, &d) == 0 && is_int ? 0 : -1;
}

static int get_item(struct jst *s, const json_t *obj, const json_t *key,
                    json_t **out)
{
	json_int_t i;
	hf_buf kb;

	*out = NULL;
	if (json_is_object(obj) && json_is_string(key)) {
		*out = json_object_get(obj, json_string_value(key));
		if (*out) {
			json_incref(*out);
			return 0;
		}
	} else if ((json_is_array(obj) || json_is_string(obj)) &&
	           int_index(key, &i) == 0) {
		size_t n = json_is_array(obj) ? json_array_size(obj)
		                              : u8_len(json_string_value(obj),
		                                       json_string_length(obj));

		if (i < 0)
			i += (json_int_t)n;
		if (i >= 0 && (size_t)i < n) {
			const char *str = json_string_value(obj);
			size_t a, w;

			if (json_is_array(obj)) {
				*out = json_incref(
				        json_array_get(obj, (size_t)i));
				return 0;
			}
			a = u8_off(str, json_string_length(obj), (size_t)i);
			w = u8_char(str, json_string_length(obj), a);
			*out = jstr(str + a, w);
			return *out ? 0 : oom(s->err);
		}
	}
	sbuf(&kb);
	py_repr(s, &kb, key);
	if (json_is_string(key))
		set_undef(s, "'%s object' has no attribute %s", ptype(s, obj),
		          kb.ptr);
	else
		set_undef(s, "%s object has no element %s", ptype(s, obj),
		          kb.ptr);
	hf_buf_release(&kb);
	return 0;
}

static int get_attr(struct jst *s, const json_t *obj, const char *name,
                    json_t **out)
{
	*out = NULL;
	if (name[0] == '_')
		return jerr(s,
		            "access to attribute '%s' of '%s' object is "
		            "unsafe.",
		            name, ptype(s, obj));
	if (json_is_object(obj)) {
		*out = json_object_get(obj, name);
		if (*out) {
			json_incref(*out);
			return 0;
		}
	}
	set_undef(s, "'%s object' has no attribute '%s'", ptype(s, obj), name);
	return 0;
}

/* Python slice indices for a sequence of length n. */
static void slice_bounds(json_int_t n, const json_t *a, const json_t *b,
                         json_int_t step, json_int_t *start, json_int_t *stop)
{
	json_int_t lo = step < 0 ? -1 : 0, hi = step < 0 ? n - 1 : n;

	if (a && !json_is_null(a)) {
		*start = 0;
		int_index(a, start);
		if (*start < 0)
			*start += n;
		*start = *start < lo ? lo : *start > hi ? hi : *start;
	} else {
		*start = step < 0 ? hi : lo;
	}
	if (b && !json_is_null(b)) {
		*stop = 0;
		int_index(b, stop);
		if (*stop < 0)
			*stop += n;
		*stop = *stop < lo ? lo : *stop > hi ? hi : *stop;
	} else {
		*stop = step < 0 ? lo : hi;
	}
}

static int do_slice(struct jst *s, const json_t *obj, const json_t *a,
                    const json_t *b, const json_t *c, json_t **out)
{
	json_int_t step = 1, start, stop, i, n;
	json_t *items = NULL, *res;
	int rc;

	if ((a && !json_is_null(a) && int_index(a, &i) < 0) ||
	    (b && !json_is_null(b) && int_index(b, &i) < 0) ||
	    (c && !json_is_null(c) && int_index(c, &step) < 0))
		return jerr(s, "slice indices must be integers or None");
	if (step == 0)
		return jerr(s, "slice step cannot be zero");
	rc = iter_list(s, obj, &items);
	if (rc < 0)
		return rc;
	n = (json_int_t)json_array_size(items);
	slice_bounds(n, a, b, step, &start, &stop);
	res = json_array();
	for (i = start; res && (step > 0 ? i < stop : i > stop); i += step)
		if (json_array_append(res, json_array_get(items, (size_t)i)) <
		    0)
			break;
	json_decref(items);
	if (!res)
		return oom(s->err);
	if (json_is_string(obj)) {
		hf_buf t;
		size_t k;

		sbuf(&t);
		for (k = 0; k < json_array_size(res); k++)
			py_str(s, &t, json_array_get(res, k));
		json_decref(res);
		return buf_val(s, &t, out);
	}
	*out = res;
	return 0;
}

/* ---- Python string operations ---------------------------------------------
 */

static const char *sv(const json_t *v)
{
	return json_string_value(v);
}

static size_t sl(const json_t *v)
{
	return json_string_length(v);
}

static int in_chars(const char *chars, size_t nc, const char *p, size_t w)
{
	size_t i;

	if (!chars)
		return w == 1 && py_space((unsigned char)*p);
	for (i = 0; i + w <= nc; i += u8_char(chars, nc, i))
		if (!memcmp(chars + i, p, w))
			return 1;
	return 0;
}

static int py_strip(struct jst *s, const json_t *v, const json_t *chars,
                    int left, int right, json_t **out)
{
	const char *p = sv(v),
	           *c = chars && !json_is_null(chars) ? sv(chars) : NULL;
	size_t n = sl(v), nc = c ? sl(chars) : 0, a = 0, b = n, w;

	while (left && a < b && in_chars(c, nc, p + a, u8_char(p, n, a)))
		a += u8_char(p, n, a);
	while (right && b > a) {
		w = 1;
		while (w < b - a && ((unsigned char)p[b - w] & 0xc0) == 0x80)
			w++;
		if (!in_chars(c, nc, p + b - w, w))
			break;
		b -= w;
	}
	*out = jstr(p + a, b - a);
	return *out ? 0 : oom(s->err);
}

static int push_str(struct jst *s, json_t *list, const char *p, size_t n)
{
	if (json_array_append_new(list, jstr(p, n)) < 0)
		return oom(s->err);
	return 0;
}

/* str.split() without a separator: runs of whitespace. */
static int split_ws(struct jst *s, const char *p, size_t n, json_int_t max,
                    json_t *list)
{
	size_t i = 0, a;
	int rc = 0;

	while (rc == 0) {
		while (i < n && py_space((unsigned char)p[i]))
			i++;
		if (i >= n)
			break;
		if (max >= 0 && (json_int_t)json_array_size(list) >= max)
			return push_str(s, list, p + i, n - i);
		a = i;
		while (i < n && !py_space((unsigned char)p[i]))
			i++;
		rc = push_str(s, list, p + a, i - a);
	}
	return rc;
}

static const char *memfind(const char *h, size_t hn, const char *nd, size_t nn)
{
	size_t i;

	if (nn == 0)
		return h;
	for (i = 0; i + nn <= hn; i++)
		if (!memcmp(h + i, nd, nn))
			return h + i;
	return NULL;
}

static int split_sep(struct jst *s, const char *p, size_t n, const char *sep,
                     size_t ns, json_int_t max, json_t *list)
{
	const char *at;
	size_t i = 0;
	int rc = 0;

	while (rc == 0) {
		at = max >= 0 && (json_int_t)json_array_size(list) >= max
		             ? NULL
		             : memfind(p + i, n - i, sep, ns);
		if (!at)
			return push_str(s, list, p + i, n - i);
		rc = push_str(s, list, p + i, (size_t)(at - p) - i);
		i = (size_t)(at - p) + ns;
	}
	return rc;
}

static int py_split(struct jst *s, const json_t *v, const json_t *sep,
                    const json_t *max, json_t **out)
{
	json_int_t m = -1;
	int rc;

	if (max && !json_is_null(max) && int_index(max, &m) < 0)
		return jerr(s,
		            "'%s' object cannot be interpreted as an "
		            "integer",
		            ptype(s, max));
	if (sep && !json_is_null(sep) && !json_is_string(sep))
		return jerr(s, "must be str or None, not %s", ptype(s, sep));
	if (sep && json_is_string(sep) && sl(sep) == 0)
		return jerr(s, "empty separator");
	*out = json_array();
	if (!*out)
		return oom(s->err);
	if (!sep || json_is_null(sep))
		rc = split_ws(s, sv(v), sl(v), m, *out);
	else
		rc = split_sep(s, sv(v), sl(v), sv(sep), sl(sep), m, *out);
	return rc;
}

static int py_replace(struct jst *s, const char *p, size_t n, const json_t *o,
                      const json_t *w, json_int_t count, json_t **out)
{
	const char *at;
	size_t i = 0, no = sl(o);
	json_int_t done = 0;
	hf_buf b;

	sbuf(&b);
	while ((count < 0 || done < count) && i <= n) {
		at = memfind(p + i, n - i, sv(o), no);
		if (!at)
			break;
		hf_buf_addn(&b, p + i, (size_t)(at - p) - i);
		hf_buf_addn(&b, sv(w), sl(w));
		done++;
		if (no == 0) {
			size_t c = i < n ? u8_char(p, n, i) : 1;

			if (i < n)
				hf_buf_addn(&b, p + i, c);
			i += c;
		} else {
			i = (size_t)(at - p) + no;
		}
	}
	if (i < n)
		hf_buf_addn(&b, p + i, n - i);
	return buf_val(s, &b, out);
}

/*
 * Simple case mappings of the common alphabets: ASCII, Latin-1,
 * Latin Extended-A, Greek and Cyrillic (Python maps all of Unicode; the
 * rest is kept as is).
 */
static unsigned long cp_lower(unsigned long c)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 0xc0 && c <= 0xde && c != 0xd7) ||
	    (c >= 0x391 && c <= 0x3ab && c != 0x3a2) ||
	    (c >= 0x410 && c <= 0x42f))
		return c + 32;
	if (c >= 0x400 && c <= 0x40f)
		return c + 80;
	if (c >= 0x100 && c <= 0x17f && c != 0x130 && c != 0x131 &&
	    !(c >= 0x138 && c <= 0x148) && c != 0x17f && !(c & 1))
		return c + 1;
	if (c >= 0x139 && c <= 0x148 && (c & 1))
		return c + 1;
	return c;
}

static unsigned long cp_upper(unsigned long c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 0xe0 && c <= 0xfe && c != 0xf7) ||
	    (c >= 0x3b1 && c <= 0x3cb && c != 0x3c2) ||
	    (c >= 0x430 && c <= 0x44f))
		return c - 32;
	if (c == 0x3c2)
		return 0x3a3;
	if (c >= 0x450 && c <= 0x45f)
		return c - 80;
	if (c >= 0x101 && c <= 0x17e && c != 0x131 &&
	    !(c >= 0x138 && c <= 0x148) && (c & 1))
		return c - 1;
	if (c >= 0x13a && c <= 0x148 && !(c & 1))
		return c - 1;
	return c;
}

static int cp_cased(unsigned long c)
{
	return cp_lower(c) != c || cp_upper(c) != c;
}

/* Decode the code point at p[*i] (advancing *i); bytes pass as is. */
static unsigned long u8_get(const char *p, size_t n, size_t *i)
{
	unsigned char c = (unsigned char)p[*i];
	size_t w = u8_char(p, n, *i), k;
	unsigned long cp;

	if (w == 1 || c < 0xc0) {
		(*i)++;
		return c;
	}
	cp = c & (w == 2 ? 0x1f : w == 3 ? 0x0f : 0x07);
	for (k = 1; k < w; k++)
		cp = (cp << 6) | ((unsigned char)p[*i + k] & 0x3f);
	*i += w;
	return cp;
}

enum { C_UPPER, C_LOWER, C_CAPITALIZE, C_PYTITLE, C_JTITLE, C_SWAP };

static int title_sep(unsigned long c)
{
	return c == '-' || (c < 0x80 && py_space((int)c)) || c == '(' ||
	       c == '{' || c == '[' || c == '<';
}

static int want_upper(int mode, size_t i, unsigned long c, int prev_cased,
                      int start)
{
	switch (mode) {
	case C_UPPER:
		return 1;
	case C_LOWER:
		return 0;
	case C_CAPITALIZE:
		return i == 0;
	case C_PYTITLE:
		return !prev_cased;
	case C_JTITLE:
		return start;
	default:
		return cp_lower(c) != c ? 0 : 1;
	}
}

static int py_case(struct jst *s, const json_t *v, int mode, json_t **out)
{
	const char *p = sv(v);
	size_t n = sl(v), i = 0, k = 0;
	int prev_cased = 0, start = 1;
	hf_buf b;

	sbuf(&b);
	while (i < n) {
		size_t at = i;
		unsigned long c = u8_get(p, n, &i), m;

		m = want_upper(mode, k++, c, prev_cased, start) ? cp_upper(c)
		                                                : cp_lower(c);
		if (m == c)
			hf_buf_addn(&b, p + at, i - at);
		else
			u8_put(&b, m);
		prev_cased = cp_cased(c);
		start = title_sep(c);
	}
	return buf_val(s, &b, out);
}

/* str.center / ljust / rjust. */
static int py_justify(struct jst *s, const json_t *v, json_int_t width,
                      const char *fill, char how, json_t **out)
{
	size_t len = u8_len(sv(v), sl(v)), padn, left, i;
	hf_buf b;

	if (width <= (json_int_t)len)
		return to_str(s, v, out);
	if (too_large(s, (size_t)width) < 0)
		return HF_EINVAL;
	padn = (size_t)width - len;
	left = how == 'c'   ? padn / 2 + (padn & (size_t)width & 1)
	       : how == 'r' ? padn
	                    : 0;
	sbuf(&b);
	for (i = 0; i < left; i++)
		hf_buf_add(&b, fill);
	hf_buf_addn(&b, sv(v), sl(v));
	for (i = left; i < padn; i++)
		hf_buf_add(&b, fill);
	return buf_val(s, &b, out);
}

/* ---- call arguments -------------------------------------------------------
 */

#define MAX_PARAMS 6

struct fargs {
	json_t **pos;
	size_t npos;
	char *const *kwn;
	json_t **kwv;
	size_t nkw;
};

/* Bind positional and keyword arguments to the slots of `params`. */
static int bind_args(struct jst *s, const char *fname,
                     const char *const *params, const struct fargs *fa,
                     json_t **slots)
{
	size_t np = 0, i, j;

	while (params[np])
		np++;
	for (i = 0; i < MAX_PARAMS; i++)
		slots[i] = NULL;
	if (fa->npos > np)
		return jerr(s, "%s() takes at most %zu arguments (%zu given)",
		            fname, np, fa->npos);
	for (i = 0; i < fa->npos; i++)
		slots[i] = fa->pos[i];
	for (i = 0; i < fa->nkw; i++) {
		for (j = 0; j < np && strcmp(params[j], fa->kwn[i]); j++)
			;
		if (j == np)
			return jerr(s,
			            "%s() got an unexpected keyword "
			            "argument '%s'",
			            fname, fa->kwn[i]);
		if (slots[j])
			return jerr(s,
			            "%s() got multiple values for argument "
			            "'%s'",
			            fname, fa->kwn[i]);
		slots[j] = fa->kwv[i];
	}
	return 0;
}

static int given(const json_t *v)
{
	return v && !json_is_null(v);
}

static int arg_int(struct jst *s, const json_t *v, json_int_t dflt,
                   json_int_t *out)
{
	*out = dflt;
	if (!given(v))
		return 0;
	if (int_index(v, out) < 0)
		return jerr(s,
		            "'%s' object cannot be interpreted as an "
		            "integer",
		            ptype(s, v));
	return 0;
}

static int arg_str(struct jst *s, const json_t *v, const char *what)
{
	if (json_is_string(v))
		return 0;
	return jerr(s, "%s must be str, not %s", what, ptype(s, v));
}

/* ---- filters: Jinja's builtins --------------------------------------------
 */

typedef int (*filter_fn)(struct jst *s, const json_t *v, json_t **a,
                         json_t **out);

static int with_str(struct jst *s, const json_t *v, json_t **str)
{
	return to_str(s, v, str);
}

static int f_case(struct jst *s, const json_t *v, int mode, json_t **out)
{
	json_t *str = NULL;
	int rc = with_str(s, v, &str);

	if (rc == 0)
		rc = py_case(s, str, mode, out);
	json_decref(str);
	return rc;
}

static int f_upper(struct jst *s, const json_t *v, json_t **a, json_t **out)
{
	(void)a;
	return f_case(s, v, C_UPPER, out);
}

static int f_lower(struct jst *s, const json_t *v, json_t **a, json_t **out)
{
	(void)a;
	return f_case(s, v, C_LOWER, out);
}

static int f_capitalize(struct jst *s, const json_t *v, json_t **a,
                        json_t **out)
{
	(void)a;
	return f_case(s, v, C_CAPITALIZE, out);
}

static int f_title(struct jst *s, const json_t *v, json_t **a, json_t **out)
{
	(void)a;
	return f_case(s, v, C_JTITLE, out);
}

static int f_string(struct jst *s, const json_t *v, json_t **a, json_t **out)
{
	(void)a;
	return to_str(s, v, out);
}

static int f_trim(struct jst *s, const json_t *v, json_t **a, json_t **out)
{
	json_t *str = NULL;
	int rc = with_str(s, v, &str);

	if (rc == 0 && given(a[0]))
		rc = arg_str(s, a[0], "strip arg");
	if (rc == 0)
		rc = py_strip(s, str, a[0], 1, 1, out);
	json_decref(str);
	return rc;
}

static int f_replace(struct jst *s, const json_t *v, json_t **a, json_t **out)
{
	json_t *str = NULL, *o = NULL, *w = NULL;
	json_int_t count = -1;
	int rc;

	if (!a[0] || !a[1])
		return jerr(s, "do_replace() missing required positional "
		               "arguments");
	rc = with_str(s, v, &str);
	if (rc == 0)
		rc = to_str(s, a[0], &o);
	if (rc == 0)
		rc = to_str(s, a[1], &w);
	if (rc == 0)
		rc = arg_int(s, a[2], -1, &count);
	if (rc == 0)
		rc = py_replace(s, sv(str), sl(str), o, w, count, out);
	json_decref(str);
	json_decref(o);
	json_decref(w);
	return rc;
}

static int f_default(struct jst *s, const json_t *v, json_t **a, json_t **out)
{
	int use = !v || v == s->soft ||
	          (given(a[1]) && py_true(a[1]) && !py_true(v));

	if (use)
		*out = a[0] ? json_incref(a[0]) : json_string("");
	else
		*out = json_incref(mut(v));
	return *out ? 0 : oom(s->err);
}

static int f_length(struct jst *s, const json_t *v, json_t **a, json_t **out)
{
	size_t n;

	(void)a;
	if (json_is_string(v))
		n = u8_len(sv(v), sl(v));
	else if (json_is_array(v))
		n = json_array_size(v);
	else if (json_is_object(v))
		n = json_object_size(v);
	else
		return jerr(s, "object of type '%s' has no len()", ptype(s, v));
	*out = json_integer((json_int_t)n);
	return *out ? 0 : oom(s->err);
}

static int f_abs(struct jst *s, const json_t *v, json_t **a, json_t **out)
{
	int is_int;
	json_int_t i;
	double d;

	(void)a;
	if (num_of(v, &is_int, &i, &d) < 0)
		return jerr(s, "bad operand type for abs(): '%s'", ptype(s, v));
	if (is_int)
		return int_result(s, i == LLONG_MIN, i < 0 ? -i : i, out);
	return real_result(s, j_fabs(d), out);
}

/* int(str, base) as Python reads it: spaces and '_' allowed. */
static int parse_int(const char *p, json_int_t base, json_int_t *out)
{
	char buf[80], *end;
	size_t n = 0;

	while (py_space((unsigned char)*p))
		p++;
	for (; *p && n + 1 < sizeof(buf); p++) {
		if (*p == '_' && n && isalnum((unsigned char)p[1]))
			continue;
		buf[n++] = *p;
	}
	while (n && py_space((unsigned char)buf[n - 1]))
		n--;
	buf[n] = '\0';
	if (!n || *p)
		return -1;
	errno = 0;
	*out = (json_int_t)strtoll(buf, &end, (int)base);
	if (errno || *end || (base != 16 && strchr(buf, 'x')))
		return -1;
	return 0;
}

static int parse_float(const char *p, double *out)
{
	char *end;

	while (py_space((unsigned char)*p))
		p++;
	if (!*p ||
	    (!isdigit((unsigned char)*p) && *p != '.' && *p != '-' &&
	     *p != '+' && *p != 'i' && *p != 'n' && *p != 'I' && *p != 'N'))
		return -1;
	if (strchr(p, 'x') || strchr(p, 'X'))
		return -1;
	*out = strtod(p, &end);
	while (py_space((unsigned char)*end))
		end++;
	return *end ? -1 : 0;
}

static int f_int(struct jst *s, const json_t *v, json_t **a, json_t **out)
{
	json_int_t base = 10, i, dflt = 0;
	int is_int, rc;
	double d;

	rc = arg_int(s, a[0], 0, &dflt);
	if (rc == 0)
		rc = arg_int(s, a[1], 10, &base);
	if (rc < 0)
		return rc;
	if (json_is_string(v) && parse_int(sv(v), base, &i) == 0)
		return int_result(s, 0, i, out);
	if (json_is_string(v) && parse_float(sv(v), &d) == 0 && isfinite(d))
		return int_result(s, j_fabs(d) >= 9.2e18, (json_int_t)d, out);
	if (num_of(v, &is_int, &i, &d) == 0) {
		if (!is_int && !isfinite(d))
			return jerr(s, "cannot convert float %s to integer",
			            isnan(d) ? "NaN" : "infinity");
		return int_result(s, !is_int && j_fabs(d) >= 9.2e18,
		                  is_int ? i : (json_int_t)d, out);
	}
	if (a[0])
		*out = json_incref(a[0]);
	else
		*out = json_integer(dflt);
	return *out ? 0 : oom(s->err);
}

static int f_float(struct jst *s, const json_t *v, json_t **a, json_t **out)
{
	int is_int;
	json_int_t i;
	double d;

	if (json_is_string(v) && parse_float(sv(v), &d) == 0)
		return real_result(s, d, out);
	if (num_of(v, &is_int, &i, &d) == 0)
		return real_result(s, d, out);
	*out = a[0] ? json_incref(a[0]) : json_real(0.0);
	return *out ? 0 : oom(s->err);
}

static int f_join(struct jst *s, const json_t *v, json_t **a, json_t **out)
{
	json_t *items = NULL, *item;
	hf_buf b;
	size_t i;
	int rc = iter_list(s, v, &items);

	if (rc < 0)
		return rc;
	sbuf(&b);
	for (i = 0; rc == 0 && i < json_array_size(items); i++) {
		item = json_array_get(items, i);
		if (given(a[1]))
			rc = get_attr(s, item,
			              json_is_string(a[1]) ? sv(a[1]) : "",
			              &item);
		else
			json_incref(item);
		if (rc == 0 && !item)
			rc = undef_err(s);
		if (rc == 0 && i && given(a[0]))
			py_str(s, &b, a[0]);
		if (rc == 0)
			py_str(s, &b, item);
		json_decref(item);
	}
	json_decref(items);
	if (rc < 0) {
		hf_buf_release(&b);
		return rc;
	}
	return buf_val(s, &b, out);
}

static int f_list(struct jst *s, const json_t *v, json_t **a, json_t **out)
{
	json_t *items = NULL;
	int rc = iter_list(s, v, &items);

	(void)a;
	if (rc < 0)
		return rc;
	*out = json_copy(items);
	json_decref(items);
	return *out ? 0 : oom(s->err);
}

static int f_first_last(struct jst *s, const json_t *v, int last, json_t **out)
{
	json_t *items = NULL;
	size_t n;
	int rc = iter_list(s, v, &items);

	if (rc < 0)
		return rc;
	n = json_array_size(items);
	*out = n ? json_incref(json_array_get(items, last ? n - 1 : 0)) : NULL;
	if (!n)
		set_undef(s, "No %s item, sequence was empty.",
		          last ? "last" : "first");
	json_decref(items);
	return 0;
}

static int f_first(struct jst *s, const json_t *v, json_t **a, json_t **out)
{
	(void)a;
	return f_first_last(s, v, 0, out);
}

static int f_last(struct jst *s, const json_t *v, json_t **a, json_t **out)
{
	(void)a;
	return f_first_last(s, v, 1, out);
}

static int f_reverse(struct jst *s, const json_t *v, json_t **a, json_t **out)
{
	json_t *items = NULL, *res;
	size_t n, i;
	hf_buf b;
	int rc = iter_list(s, v, &items);

	(void)a;
	if (rc < 0)
		return rc;
	n = json_array_size(items);
	if (json_is_string(v)) {
		sbuf(&b);
		for (i = n; i > 0; i--)
			py_str(s, &b, json_array_get(items, i - 1));
		json_decref(items);
		return buf_val(s, &b, out);
	}
	res = json_array();
	for (i = n; res && i > 0; i--)
		if (json_array_append(res, json_array_get(items, i - 1)) < 0)
			break;
	json_decref(items);
	*out = res;
	return res ? 0 : oom(s->err);
}

/* min/max: strings compare case-insensitively unless case_sensitive. */
static int f_minmax(struct jst *s, const json_t *v, json_t **a, int want,
                    json_t **out)
{
	json_t *items = NULL, *best = NULL, *kb = NULL, *k = NULL;
	int rc = iter_list(s, v, &items), c;
	size_t i;

	for (i = 0; rc == 0 && i < json_array_size(items); i++) {
		json_t *item = json_array_get(items, i);

		k = json_is_string(item) && !(a[0] && py_true(a[0]))
		            ? NULL
		            : json_incref(item);
		if (!k)
			rc = py_case(s, item, C_LOWER, &k);
		if (rc == 0 && best)
			rc = py_order(s, want > 0 ? ">" : "<", k, kb, &c);
		if (rc == 0 && (!best || c * want > 0)) {
			best = item;
			json_decref(kb);
			kb = k;
			k = NULL;
		}
		json_decref(k);
		k = NULL;
	}
	if (rc == 0 && !best)
		set_undef(s, "No aggregated item, sequence was empty.");
	*out = rc == 0 && best ? json_incref(best) : NULL;
	json_decref(kb);
	json_decref(items);
	return rc;
}

static int f_max(struct jst *s, const json_t *v, json_t **a, json_t **out)
{
	return f_minmax(s, v, a, 1, out);
}

static int f_min(struct jst *s, const json_t *v, json_t **a, json_t **out)
{
	return f_minmax(s, v, a, -1, out);
}

static int f_sum(struct jst *s, const json_t *v, json_t **a, json_t **out)
{
	json_t *items = NULL, *acc, *next = NULL;
	size_t i;
	int rc = iter_list(s, v, &items);

	if (rc < 0)
		return rc;
	acc = a[1] ? json_incref(a[1]) : json_integer(0);
	for (i = 0; rc == 0 && i < json_array_size(items); i++) {
		json_t *item = json_array_get(items, i);

		if (given(a[0])) {
			rc = get_attr(s, item,
			              json_is_string(a[0]) ? sv(a[0]) : "",
			              &item);
			if (rc == 0 && !item)
				rc = undef_err(s);
		} else {
			json_incref(item);
		}
		if (rc == 0)
			rc = binop(s, "+", acc, item, &next);
		json_decref(item);
		if (rc == 0) {
			json_decref(acc);
			acc = next;
		}
	}
	json_decref(items);
	if (rc < 0) {
		json_decref(acc);
		return rc;
	}
	*out = acc;
	return acc ? 0 : oom(s->err);
}

static int f_round(struct jst *s, const json_t *v, json_t **a, json_t **out)
{
	const char *method = json_is_string(a[1]) ? sv(a[1]) : "common";
	json_int_t prec = 0, ii;
	int is_int, rc = arg_int(s, a[0], 0, &prec);
	double d, m;

	if (rc < 0)
		return rc;
	if (strcmp(method, "common") && strcmp(method, "ceil") &&
	    strcmp(method, "floor"))
		return jerr(s, "method must be common, ceil or floor");
	if (num_of(v, &is_int, &ii, &d) < 0)
		return jerr(s, "type %s doesn't define __round__ method",
		            ptype(s, v));
	if (is_int && !strcmp(method, "common") && prec >= 0)
		return int_result(s, 0, ii, out); /* round(int) is the int */
	m = j_ipow(10.0, prec);
	if (!strcmp(method, "ceil"))
		return real_result(s, j_ceil(d * m) / m, out);
	if (!strcmp(method, "floor"))
		return real_result(s, j_floor(d * m) / m, out);
	/* round(): half to even, on the decimal value */
	return real_result(s, j_rint(d * m) / m, out);
}

static int f_center(struct jst *s, const json_t *v, json_t **a, json_t **out)
{
	json_t *str = NULL;
	json_int_t w;
	int rc = arg_int(s, a[0], 80, &w);

	if (rc == 0)
		rc = with_str(s, v, &str);
	if (rc == 0)
		rc = py_justify(s, str, w, " ", 'c', out);
	json_decref(str);
	return rc;
}

static void html_escape(hf_buf *b, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		switch (p[i]) {
		case '&':
			hf_buf_add(b, "&amp;");
			break;
		case '<':
			hf_buf_add(b, "&lt;");
			break;
		case '>':
			hf_buf_add(b, "&gt;");
			break;
		case '"':
			hf_buf_add(b, "&#34;");
			break;
		case '\'':
			hf_buf_add(b, "&#39;");
			break;
		default:
			hf_buf_addch(b, p[i]);
		}
	}
}

static int f_escape(struct jst *s, const json_t *v, json_t **a, json_t **out)
{
	json_t *str = NULL;
	hf_buf b;
	int rc = with_str(s, v, &str);

	(void)a;
	if (rc < 0)
		return rc;
	sbuf(&b);
	html_escape(&b, sv(str), sl(str));
	json_decref(str);
	return buf_val(s, &b, out);
}

static int f_filesizeformat(struct jst *s, const json_t *v, json_t **a,
                            json_t **out)
{
	static const char *const dec[] = { "kB", "MB", "GB", "TB",
		                           "PB", "EB", "ZB", "YB" };
	static const char *const bin[] = { "KiB", "MiB", "GiB", "TiB",
		                           "PiB", "EiB", "ZiB", "YiB" };
	int binary = a[0] && py_true(a[0]), is_int, i;
	double bytes, base = binary ? 1024.0 : 1000.0, unit = base;
	json_int_t ii;
	hf_buf b;

	if (num_of(v, &is_int, &ii, &bytes) < 0 &&
	    (!json_is_string(v) || parse_float(sv(v), &bytes) < 0))
		return jerr(s, "could not convert %s to float", ptype(s, v));
	sbuf(&b);
	if (bytes == 1.0)
		hf_buf_add(&b, "1 Byte");
	else if (bytes < base)
		hf_buf_addf(&b, "%lld Bytes", (long long)bytes);
	else {
		for (i = 0; i < 8; i++) {
			unit = j_ipow(base, i + 2);
			if (bytes < unit || i == 7)
				break;
		}
		hf_buf_addf(&b, "%.1f %s", base * bytes / unit,
		            binary ? bin[i] : dec[i]);
	}
	return buf_val(s, &b, out);
}

static int f_indent(struct jst *s, const json_t *v, json_t **a, json_t **out)
{
	json_t *str = NULL, *lines = NULL;
	hf_buf ind, b;
	json_int_t w = 4;
	size_t i;
	int rc;

	/* jinja2 appends "\n" to the value: only strings get through */
	if (!json_is_string(v))
		return json_is_array(v)
		               ? jerr(s,
		                      "'%s' object has no attribute "
		                      "'splitlines'",
		                      ptype(s, v))
		               : jerr(s,
		                      "unsupported operand type(s) for +=: "
		                      "'%s' and 'str'",
		                      ptype(s, v));
	rc = with_str(s, v, &str);

	sbuf(&ind);
	if (rc == 0 && json_is_string(a[0]))
		hf_buf_add(&ind, sv(a[0]));
	else if (rc == 0)
		rc = arg_int(s, a[0], 4, &w);
	for (i = 0; rc == 0 && !json_is_string(a[0]) && (json_int_t)i < w; i++)
		hf_buf_addch(&ind, ' ');
	if (rc == 0) {
		lines = json_array();
		rc = split_sep(s, sv(str), sl(str), "\n", 1, -1, lines);
	}
	sbuf(&b);
	for (i = 0; rc == 0 && i < json_array_size(lines); i++) {
		const json_t *line = json_array_get(lines, i);
		int blank = a[2] && py_true(a[2]);

		if (i)
			hf_buf_addch(&b, '\n');
		if ((i || (a[1] && py_true(a[1]))) && (sl(line) || blank))
			hf_buf_addn(&b, ind.ptr, ind.len);
		hf_buf_addn(&b, sv(line), sl(line));
	}
	hf_buf_release(&ind);
	json_decref(lines);
	json_decref(str);
	if (rc < 0) {
		hf_buf_release(&b);
		return rc;
	}
	return buf_val(s, &b, out);
}

static int f_truncate(struct jst *s, const json_t *v, json_t **a, json_t **out)
{
	json_t *str = NULL, *end;
	json_int_t len = 255, leeway = 5, cut;
	size_t n, off, sp;
	hf_buf b;
	int rc;

	if (!json_is_string(v)) {
		/* jinja2 checks len(s) first: short sequences come back */
		json_int_t max = 255, lw = 5;

		if (!json_is_array(v) && !json_is_object(v))
			return jerr(s, "object of type '%s' has no len()",
			            ptype(s, v));
		rc = arg_int(s, a[0], 255, &max);
		if (rc == 0)
			rc = arg_int(s, a[3], 5, &lw);
		if (rc == 0 &&
		    (json_int_t)(json_is_array(v)
		                         ? json_array_size(v)
		                         : json_object_size(v)) > max + lw)
			rc = jerr(s, "truncate of a long %s is not supported",
			          ptype(s, v));
		*out = rc == 0 ? json_incref(mut(v)) : NULL;
		return rc;
	}
	rc = with_str(s, v, &str);

	if (rc == 0)
		rc = arg_int(s, a[0], 255, &len);
	if (rc == 0)
		rc = arg_int(s, a[3], 5, &leeway);
	end = a[2] && json_is_string(a[2]) ? a[2] : NULL;
	if (rc < 0) {
		json_decref(str);
		return rc;
	}
	n = u8_len(sv(str), sl(str));
	cut = len - (json_int_t)(end ? u8_len(sv(end), sl(end)) : 3);
	if (cut < 0 || leeway < 0) {
		json_decref(str);
		return cut < 0 ? jerr(s, "expected length >= %lld, got %lld",
		                      (long long)(len - cut), (long long)len)
		               : jerr(s, "expected leeway >= 0, got %lld",
		                      (long long)leeway);
	}
	if ((json_int_t)n <= len + leeway) {
		*out = str;
		return 0;
	}
	off = u8_off(sv(str), sl(str), (size_t)cut);
	sp = off;
	if (!(a[1] && py_true(a[1]))) {
		while (sp > 0 && sv(str)[sp - 1] != ' ')
			sp--;
		sp = sp ? sp - 1 : off;
	}
	sbuf(&b);
	hf_buf_addn(&b, sv(str), sp);
	hf_buf_add(&b, end ? sv(end) : "...");
	json_decref(str);
	return buf_val(s, &b, out);
}

static int f_wordcount(struct jst *s, const json_t *v, json_t **a, json_t **out)
{
	json_t *str = NULL;
	size_t i, n = 0;
	int in = 0, rc = with_str(s, v, &str);

	(void)a;
	if (rc < 0)
		return rc;
	for (i = 0; i < sl(str); i++) {
		unsigned char c = (unsigned char)sv(str)[i];
		int w = isalnum(c) || c == '_' || c >= 0x80;

		n += w && !in;
		in = w;
	}
	json_decref(str);
	*out = json_integer((json_int_t)n);
	return *out ? 0 : oom(s->err);
}

static void unescape_entities(hf_buf *b, const char *p, size_t n)
{
	static const char *const ents[][2] = {
		{ "&amp;", "&" },   { "&lt;", "<" },  { "&gt;", ">" },
		{ "&quot;", "\"" }, { "&#39;", "'" }, { "&#34;", "\"" },
	};
	size_t i, k;

	for (i = 0; i < n; i++) {
		for (k = 0; k < 6; k++) {
			size_t el = strlen(ents[k][0]);

			if (i + el <= n && !memcmp(p + i, ents[k][0], el))
				break;
		}
		if (k < 6) {
			hf_buf_add(b, ents[k][1]);
			i += strlen(ents[k][0]) - 1;
		} else {
			hf_buf_addch(b, p[i]);
		}
	}
}

static int f_striptags(struct jst *s, const json_t *v, json_t **a, json_t **out)
{
	json_t *str = NULL;
	hf_buf t, b;
	size_t i;
	int rc = with_str(s, v, &str), space = 0;

	(void)a;
	if (rc < 0)
		return rc;
	sbuf(&t);
	for (i = 0; i < sl(str); i++) {
		const char *p = sv(str) + i, *e;

		if (!strncmp(p, "<!--", 4) && (e = strstr(p, "-->"))) {
			i += (size_t)(e - p) + 2;
			continue;
		}
		if (*p == '<' && (e = strchr(p, '>'))) {
			i += (size_t)(e - p);
			continue;
		}
		if (py_space((unsigned char)*p)) {
			space = t.len > 0;
			continue;
		}
		if (space)
			hf_buf_addch(&t, ' ');
		space = 0;
		hf_buf_addch(&t, *p);
	}
	json_decref(str);
	sbuf(&b);
	unescape_entities(&b, t.ptr, t.len);
	hf_buf_release(&t);
	return buf_val(s, &b, out);
}

static void url_quote(hf_buf *b, const char *p, size_t n, int for_qs)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (isalnum(c) || strchr("_.-~", c) || (!for_qs && c == '/'))
			hf_buf_addch(b, (char)c);
		else if (for_qs && c == ' ')
			hf_buf_addch(b, '+');
		else
			hf_buf_addf(b, "%%%02X", c);
	}
}

static int url_pair(struct jst *s, hf_buf *b, const json_t *k, const json_t *v,
                    int first)
{
	json_t *ks = NULL, *vs = NULL;
	int rc = to_str(s, k, &ks);

	if (rc == 0)
		rc = to_str(s, v, &vs);
	if (rc == 0) {
		hf_buf_add(b, first ? "" : "&");
		url_quote(b, sv(ks), sl(ks), 1);
		hf_buf_addch(b, '=');
		url_quote(b, sv(vs), sl(vs), 1);
	}
	json_decref(ks);
	json_decref(vs);
	return rc;
}

/* A pair out of a list item, as Python unpacks "for k, v in items". */
static int url_item(struct jst *s, hf_buf *b, const json_t *item, int first)
{
	json_t *items = NULL;
	int rc;

	if (!json_is_string(item) && !json_is_array(item) &&
	    !json_is_object(item))
		return jerr(s, "cannot unpack non-iterable %s object",
		            ptype(s, item));
	rc = iter_list(s, item, &items);
	if (rc == 0 && json_array_size(items) != 2)
		rc = json_array_size(items) > 2
		             ? jerr(s, "too many values to unpack (expected 2)")
		             : jerr(s,
		                    "not enough values to unpack (expected "
		                    "2, got %zu)",
		                    json_array_size(items));
	if (rc == 0)
		rc = url_pair(s, b, json_array_get(items, 0),
		              json_array_get(items, 1), first);
	json_decref(items);
	return rc;
}

/* jinja2 do_urlencode: a string (or scalar), or key=value pairs. */
static int f_urlencode(struct jst *s, const json_t *v, json_t **a, json_t **out)
{
	json_t *str = NULL, *item;
	const char *k;
	hf_buf b;
	size_t i;
	int first = 1, rc = 0;

	(void)a;
	sbuf(&b);
	if (json_is_object(v)) {
		json_object_foreach(mut(v), k, item)
		{
			json_t *key = json_string(k);

			rc = key ? url_pair(s, &b, key, item, first)
			         : oom(s->err);
			json_decref(key);
			first = 0;
			if (rc < 0)
				break;
		}
	} else if (json_is_array(v)) {
		for (i = 0; rc == 0 && i < json_array_size(v); i++)
			rc = url_item(s, &b, json_array_get(v, i), i == 0);
	} else {
		rc = to_str(s, v, &str);
		if (rc == 0)
			url_quote(&b, sv(str), sl(str), 0);
		json_decref(str);
	}
	if (rc < 0) {
		hf_buf_release(&b);
		return rc;
	}
	return buf_val(s, &b, out);
}

static int f_slice(struct jst *s, const json_t *v, json_t **a, json_t **out)
{
	json_t *items = NULL, *res = NULL, *col;
	json_int_t nsl, len, per, extra, i, k, start, end;
	int rc = arg_int(s, a[0], 1, &nsl);

	if (rc == 0 && (nsl <= 0 || nsl > 10000))
		rc = jerr(s, "slices must be between 1 and 10000");
	if (rc == 0)
		rc = iter_list(s, v, &items);
	if (rc < 0)
		return rc;
	len = (json_int_t)json_array_size(items);
	per = len / nsl;
	extra = len % nsl;
	res = json_array();
	for (i = 0, start = 0; res && i < nsl; i++) {
		end = start + per + (i < extra);
		col = json_array();
		for (k = start; col && k < end; k++)
			json_array_append(col,
			                  json_array_get(items, (size_t)k));
		if (col && given(a[1]) && i >= extra)
			json_array_append(col, a[1]);
		if (!col || json_array_append_new(res, col) < 0)
			break;
		start = end;
	}
	json_decref(items);
	*out = res;
	return res ? 0 : oom(s->err);
}

/* format(value, *args, **kwargs): value % (kwargs or args). */
static int f_format_raw(struct jst *s, const json_t *v, const struct fargs *fa,
                        json_t **out)
{
	json_t *args, *map, *str = NULL;
	size_t i;
	int rc;

	if (fa->npos && fa->nkw)
		return jerr(s, "can't handle positional and keyword arguments "
		               "at the same time");
	args = json_array();
	map = fa->nkw ? json_object() : NULL;
	for (i = 0; args && i < fa->npos; i++)
		if (json_array_append(args, fa->pos[i]) < 0)
			break;
	for (i = 0; map && i < fa->nkw; i++)
		if (json_object_set(map, fa->kwn[i], fa->kwv[i]) < 0)
			break;
	if (map && args)
		json_array_append(args, map); /* value % kwargs */
	if (!args || (fa->nkw && !map)) {
		json_decref(args);
		json_decref(map);
		return oom(s->err);
	}
	rc = with_str(s, v, &str);
	if (rc == 0)
		rc = py_percent(s, sv(str), args, map, out);
	json_decref(str);
	json_decref(args);
	json_decref(map);
	return rc;
}

/* ---- filters: netutils (the ones Infrahub lists as trusted) ---------------
 */

/* netutils.constants (interface name maps), 1.x. */
/* clang-format off */
static const char *const base_interfaces[][2] = {
	{ "ATM", "ATM" }, { "AT", "ATM" }, { "B", "Bdi" }, { "Bd", "Bdi" },
	{ "Bdi", "Bdi" }, { "Bridge-Aggregation", "Port-channel" },
	{ "EOBC", "EOBC" }, { "EO", "EOBC" }, { "Ethernet", "Ethernet" },
	{ "Eth", "Ethernet" }, { "eth", "Ethernet" }, { "Et", "Ethernet" },
	{ "et", "Ethernet" }, { "FastEthernet", "FastEthernet" },
	{ "FastEth", "FastEthernet" }, { "FastE", "FastEthernet" },
	{ "Fast", "FastEthernet" }, { "Fas", "FastEthernet" },
	{ "FE", "FastEthernet" }, { "Fa", "FastEthernet" },
	{ "fa", "FastEthernet" }, { "Fddi", "Fddi" }, { "FD", "Fddi" },
	{ "FortyGigabitEthernet", "FortyGigabitEthernet" },
	{ "FortyGigEthernet", "FortyGigabitEthernet" },
	{ "FortyGigEth", "FortyGigabitEthernet" },
	{ "FortyGigE", "FortyGigabitEthernet" },
	{ "FortyGig", "FortyGigabitEthernet" },
	{ "FGE", "FortyGigabitEthernet" }, { "FO", "FortyGigabitEthernet" },
	{ "Fo", "FortyGigabitEthernet" },
	{ "FiftyGigabitEthernet", "FiftyGigabitEthernet" },
	{ "FiftyGigEthernet", "FiftyGigabitEthernet" },
	{ "FiftyGigEth", "FiftyGigabitEthernet" },
	{ "FiftyGigE", "FiftyGigabitEthernet" },
	{ "FI", "FiftyGigabitEthernet" }, { "Fi", "FiftyGigabitEthernet" },
	{ "fi", "FiftyGigabitEthernet" },
	{ "GigabitEthernet", "GigabitEthernet" },
	{ "GigEthernet", "GigabitEthernet" }, { "GigEth", "GigabitEthernet" },
	{ "GigE", "GigabitEthernet" }, { "Gig", "GigabitEthernet" },
	{ "GE", "GigabitEthernet" }, { "Ge", "GigabitEthernet" },
	{ "ge", "GigabitEthernet" }, { "Gi", "GigabitEthernet" },
	{ "gi", "GigabitEthernet" },
	{ "HundredGigabitEthernet", "HundredGigabitEthernet" },
	{ "HundredGigEthernet", "HundredGigabitEthernet" },
	{ "HundredGigEth", "HundredGigabitEthernet" },
	{ "HundredGigE", "HundredGigabitEthernet" },
	{ "HundredGig", "HundredGigabitEthernet" },
	{ "Hu", "HundredGigabitEthernet" },
	{ "TwentyFiveGigabitEthernet", "TwentyFiveGigE" },
	{ "TwentyFiveGigEthernet", "TwentyFiveGigE" },
	{ "TwentyFiveGigEth", "TwentyFiveGigE" },
	{ "TwentyFiveGigE", "TwentyFiveGigE" },
	{ "TwentyFiveGig", "TwentyFiveGigE" }, { "TF", "TwentyFiveGigE" },
	{ "Tf", "TwentyFiveGigE" }, { "tf", "TwentyFiveGigE" },
	{ "TwoHundredGigabitEthernet", "TwoHundredGigabitEthernet" },
	{ "TwoHundredGigEthernet", "TwoHundredGigabitEthernet" },
	{ "TwoHundredGigEth", "TwoHundredGigabitEthernet" },
	{ "TwoHundredGigE", "TwoHundredGigabitEthernet" },
	{ "TwoHundredGig", "TwoHundredGigabitEthernet" },
	{ "TH", "TwoHundredGigabitEthernet" },
	{ "Th", "TwoHundredGigabitEthernet" },
	{ "th", "TwoHundredGigabitEthernet" },
	{ "FourHundredGigabitEthernet", "FourHundredGigabitEthernet" },
	{ "FourHundredGigEthernet", "FourHundredGigabitEthernet" },
	{ "FourHundredGigEth", "FourHundredGigabitEthernet" },
	{ "FourHundredGigE", "FourHundredGigabitEthernet" },
	{ "FourHundredGig", "FourHundredGigabitEthernet" },
	{ "F", "FourHundredGigabitEthernet" },
	{ "f", "FourHundredGigabitEthernet" },
	{ "Loopback", "Loopback" }, { "loopback", "Loopback" },
	{ "Lo", "Loopback" }, { "lo", "Loopback" },
	{ "Management", "Management" }, { "Mgmt", "Management" },
	{ "mgmt", "Management" }, { "Ma", "Management" },
	{ "Management_short", "Ma" }, { "MFR", "MFR" },
	{ "Multilink", "Multilink" }, { "Mu", "Multilink" },
	{ "n", "nve" }, { "nv", "nve" }, { "nve", "nve" },
	{ "PortChannel", "Port-channel" }, { "Port-channel", "Port-channel" },
	{ "Port-Channel", "Port-channel" }, { "port-channel", "Port-channel" },
	{ "po", "Port-channel" }, { "Po", "Port-channel" },
	{ "POS", "POS" }, { "PO", "POS" }, { "Serial", "Serial" },
	{ "Se", "Serial" }, { "S", "Serial" }, { "Sync", "Sync" },
	{ "Sy", "Sync" }, { "Ten-GigabitEthernet", "TenGigabitEthernet" },
	{ "TenGigabitEthernet", "TenGigabitEthernet" },
	{ "TenGigEthernet", "TenGigabitEthernet" },
	{ "TenGigEth", "TenGigabitEthernet" },
	{ "TenGig", "TenGigabitEthernet" }, { "TeGig", "TenGigabitEthernet" },
	{ "Ten", "TenGigabitEthernet" }, { "T", "TenGigabitEthernet" },
	{ "Te", "TenGigabitEthernet" }, { "te", "TenGigabitEthernet" },
	{ "Tunnel", "Tunnel" }, { "Tun", "Tunnel" }, { "Tu", "Tunnel" },
	{ "Twe", "TwentyFiveGigE" }, { "Tw", "TwoGigabitEthernet" },
	{ "Two", "TwoGigabitEthernet" },
	{ "Virtual-Access", "Virtual-Access" }, { "Vi", "Virtual-Access" },
	{ "Virtual-Template", "Virtual-Template" },
	{ "Vt", "Virtual-Template" }, { "VLAN", "VLAN" }, { "V", "VLAN" },
	{ "Vl", "VLAN" }, { "Vlan-interface", "VLAN" }, { "vlan", "VLAN" },
	{ "Wlan-GigabitEthernet", "Wlan-GigabitEthernet" },
	{ "XGE", "TenGigabitEthernet" }, { NULL, NULL },
};

static const char *const reverse_mapping[][2] = {
	{ "ATM", "At" }, { "EOBC", "EO" }, { "Ethernet", "Et" },
	{ "FastEthernet", "Fa" }, { "Fddi", "FD" },
	{ "FortyGigabitEthernet", "Fo" }, { "GigabitEthernet", "Gi" },
	{ "HundredGigabitEthernet", "Hu" }, { "Loopback", "Lo" },
	{ "Management", "Ma" }, { "MFR", "MFR" }, { "Multilink", "Mu" },
	{ "Port-channel", "Po" }, { "POS", "PO" }, { "Serial", "Se" },
	{ "Sync", "Sy" }, { "TenGigabitEthernet", "Te" }, { "Tunnel", "Tu" },
	{ "TwoGigabitEthernet", "Two" }, { "TwentyFiveGigE", "Twe" },
	{ "Virtual-Access", "Vi" }, { "Virtual-Template", "Vt" },
	{ "VLAN", "Vl" }, { "Wlan-GigabitEthernet", "Wl-Gi" }, { NULL, NULL },
};
/* clang-format on */

static const char *map_get(const char *const (*m)[2], const json_t *extra,
                           const char *key, size_t n)
{
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach(mut(extra), k,
	                    v) if (strlen(k) == n && !memcmp(k, key, n) &&
	                           json_is_string(v)) return sv(v);
	for (i = 0; m[i][0]; i++)
		if (strlen(m[i][0]) == n && !memcmp(m[i][0], key, n))
			return m[i][1];
	return NULL;
}

/* netutils split_interface: head = rstrip("/\\0123456789.: ") */
static size_t iface_head(const char *p, size_t n)
{
	while (n > 0 && strchr("/\\0123456789.: ", p[n - 1]))
		n--;
	return n;
}

static int need_str(struct jst *s, const json_t *v, const char *fname)
{
	if (json_is_string(v))
		return 0;
	return jerr(s, "%s() expects a string, not %s", fname, ptype(s, v));
}

static int f_split_interface(struct jst *s, const json_t *v, json_t **a,
                             json_t **out)
{
	size_t h, t;
	int rc = need_str(s, v, "split_interface");

	(void)a;
	if (rc < 0)
		return rc;
	h = iface_head(sv(v), sl(v));
	for (t = h; t < sl(v) && py_space((unsigned char)sv(v)[t]); t++)
		;
	*out = json_array();
	if (!*out || push_str(s, *out, sv(v), h) < 0 ||
	    push_str(s, *out, sv(v) + t, sl(v) - t) < 0)
		return oom(s->err);
	return mark_tuple(s, *out);
}

static int iface_join(struct jst *s, const char *type, const json_t *v,
                      size_t h, json_t **out)
{
	size_t t = h;
	hf_buf b;

	while (t < sl(v) && py_space((unsigned char)sv(v)[t]))
		t++;
	sbuf(&b);
	hf_buf_add(&b, type);
	hf_buf_addn(&b, sv(v) + t, sl(v) - t);
	return buf_val(s, &b, out);
}

static int f_canonical_interface_name(struct jst *s, const json_t *v,
                                      json_t **a, json_t **out)
{
	const char *full;
	size_t h;
	int rc = need_str(s, v, "canonical_interface_name");

	if (rc < 0)
		return rc;
	h = iface_head(sv(v), sl(v));
	full = map_get(base_interfaces, a[0], sv(v), h);
	if (full)
		return iface_join(s, full, v, h, out);
	if (a[1] && py_true(a[1]))
		return jerr(s, "Verify interface on and no match found for %s",
		            sv(v));
	*out = json_incref(mut(v));
	return 0;
}

static int f_abbreviated_interface_name(struct jst *s, const json_t *v,
                                        json_t **a, json_t **out)
{
	const char *full, *abbr;
	size_t h;
	int rc = need_str(s, v, "abbreviated_interface_name");

	if (rc < 0)
		return rc;
	h = iface_head(sv(v), sl(v));
	full = map_get(base_interfaces, a[0], sv(v), h);
	abbr = full ? map_get(reverse_mapping, a[1], full, strlen(full)) : NULL;
	if (!full) {
		char head[256];

		snprintf(head, sizeof(head), "%.*s", (int)h, sv(v));
		abbr = map_get(reverse_mapping, a[1], head, h);
	}
	if (abbr)
		return iface_join(s, abbr, v, h, out);
	if (a[2] && py_true(a[2]))
		return jerr(s, "Verify interface on and no match found for %s",
		            sv(v));
	*out = json_incref(mut(v));
	return 0;
}

static int f_asn_to_int(struct jst *s, const json_t *v, json_t **a,
                        json_t **out)
{
	json_int_t hi, lo;
	const char *dot;
	char head[64];
	int rc = need_str(s, v, "asn_to_int"), bits = 16;

	(void)a;
	if (rc < 0)
		return rc;
	dot = strchr(sv(v), '.');
	if (!dot) {
		if (parse_int(sv(v), 10, &hi) < 0)
			return jerr(s,
			            "invalid literal for int() with base "
			            "10: '%s'",
			            sv(v));
		return int_result(s, 0, hi, out);
	}
	snprintf(head, sizeof(head), "%.*s", (int)(dot - sv(v)), sv(v));
	if (parse_int(head, 10, &hi) < 0 || parse_int(dot + 1, 10, &lo) < 0 ||
	    hi < 0 || lo < 0)
		return jerr(s, "invalid literal for int() with base 10: '%s'",
		            sv(v));
	while (bits < 62 && (lo >> bits))
		bits++;
	return int_result(s, hi >= (1LL << (62 - bits)), (hi << bits) | lo,
	                  out);
}

static int f_int_to_asdot(struct jst *s, const json_t *v, json_t **a,
                          json_t **out)
{
	json_int_t n;
	hf_buf b;

	(void)a;
	if (json_is_string(v) ? parse_int(sv(v), 10, &n) < 0
	                      : int_index(v, &n) < 0)
		return jerr(s, "int_to_asdot() expects an integer");
	if (n > 4294967295LL || n < 1)
		return jerr(s, "`%lld` is not within range of 1 - 2^32-1",
		            (long long)n);
	sbuf(&b);
	if (n >= 65536)
		hf_buf_addf(&b, "%lld.%lld", (long long)(n >> 16),
		            (long long)(n & 0xffff));
	else
		hf_buf_addf(&b, "%lld", (long long)n);
	return buf_val(s, &b, out);
}

/* ---- IP helpers for the netutils filters (Python's ipaddress rules) -------
 */

struct ipa {
	unsigned char a[16];
	int v6;
	int plen; /* -1: no prefix given */
};

static int ip_parse_addr(const char *p, size_t n, struct ipa *ip)
{
	char t[64];

	if (n == 0 || n >= sizeof(t))
		return -1;
	memcpy(t, p, n);
	t[n] = '\0';
	memset(ip->a, 0, sizeof(ip->a));
	ip->v6 = strchr(t, ':') != NULL;
	return inet_pton(ip->v6 ? AF_INET6 : AF_INET, t, ip->a) == 1 ? 0 : -1;
}

/* "addr" or "addr/len"; ints are addresses too (ipaddress.ip_address). */
static int ip_parse(const json_t *v, struct ipa *ip)
{
	const char *p, *slash;
	json_int_t i;
	char *end;
	int k;

	ip->plen = -1;
	if (int_index(v, &i) == 0 && !json_is_boolean(v)) {
		if (i < 0 || i > 4294967295LL)
			return -1;
		memset(ip->a, 0, sizeof(ip->a));
		ip->v6 = 0;
		for (k = 0; k < 4; k++)
			ip->a[k] = (unsigned char)(i >> (24 - 8 * k));
		return 0;
	}
	if (!json_is_string(v))
		return -1;
	p = sv(v);
	slash = strchr(p, '/');
	if (ip_parse_addr(p, slash ? (size_t)(slash - p) : sl(v), ip) < 0)
		return -1;
	if (!slash)
		return 0;
	errno = 0;
	ip->plen = (int)strtol(slash + 1, &end, 10);
	if (errno || *end || end == slash + 1 || ip->plen < 0 ||
	    ip->plen > (ip->v6 ? 128 : 32))
		return -1;
	return 0;
}

static int ip_bytes(const struct ipa *ip)
{
	return ip->v6 ? 16 : 4;
}

static void ip_text(hf_buf *b, const struct ipa *ip)
{
	char t[64];

	inet_ntop(ip->v6 ? AF_INET6 : AF_INET, ip->a, t, sizeof(t));
	hf_buf_add(b, t);
}

static int ip_val(struct jst *s, const struct ipa *ip, json_t **out)
{
	hf_buf b;

	sbuf(&b);
	ip_text(&b, ip);
	return buf_val(s, &b, out);
}

/* Add a signed 64-bit delta; -1 on leaving the address space. */
static int ip_add(struct ipa *ip, json_int_t delta)
{
	int n = ip_bytes(ip), k, carry = 0;
	unsigned long long mag = delta < 0 ? 0ULL - (unsigned long long)delta
	                                   : (unsigned long long)delta;

	for (k = n - 1; k >= 0; k--) {
		int d = (int)(mag & 0xff), x;

		mag >>= 8;
		x = delta < 0 ? ip->a[k] - d - carry : ip->a[k] + d + carry;
		carry = x < 0 || x > 255;
		ip->a[k] = (unsigned char)(x & 0xff);
	}
	return carry || mag ? -1 : 0;
}

static void ip_mask(const struct ipa *ip, int plen, unsigned char *m)
{
	int k;

	for (k = 0; k < ip_bytes(ip); k++) {
		int bits = plen - 8 * k;

		m[k] = (unsigned char)(bits >= 8 ? 0xff
		                       : bits <= 0
		                               ? 0
		                               : (0xff << (8 - bits)) & 0xff);
	}
}

/* ipaddress.ip_address (net 0) or ip_network (net 1) of v. */
static int ip_need(struct jst *s, const json_t *v, struct ipa *ip, int net)
{
	hf_buf b;

	if (ip_parse(v, ip) == 0 && (net || ip->plen < 0))
		return 0;
	sbuf(&b);
	py_repr(s, &b, v);
	jerr(s, "%s does not appear to be an IPv4 or IPv6 %s", b.ptr,
	     net ? "network" : "address");
	hf_buf_release(&b);
	return HF_EINVAL;
}

/* ipaddress.ip_network(strict=True). */
static int net_need(struct jst *s, const json_t *v, struct ipa *ip)
{
	unsigned char m[16];
	int k, rc = ip_need(s, v, ip, 1);

	if (rc < 0)
		return rc;
	if (ip->plen < 0)
		ip->plen = ip->v6 ? 128 : 32;
	ip_mask(ip, ip->plen, m);
	for (k = 0; k < ip_bytes(ip); k++)
		if (ip->a[k] & ~m[k])
			return jerr(s, "%s has host bits set", sv(v));
	return 0;
}

static int f_is_ip(struct jst *s, const json_t *v, json_t **a, json_t **out)
{
	struct ipa ip;

	(void)a;
	*out = json_boolean(ip_parse(v, &ip) == 0 && ip.plen < 0);
	return *out ? 0 : oom(s->err);
}

static int mask_len(const struct ipa *ip)
{
	int k, n = 0, seen_zero = 0;

	for (k = 0; k < ip_bytes(ip) * 8; k++) {
		int bit = (ip->a[k / 8] >> (7 - k % 8)) & 1;

		if (bit && seen_zero)
			return -1;
		seen_zero |= !bit;
		n += bit;
	}
	return n;
}

static int f_is_netmask(struct jst *s, const json_t *v, json_t **a,
                        json_t **out)
{
	struct ipa ip;

	(void)a;
	*out = json_boolean(ip_parse(v, &ip) == 0 && ip.plen < 0 &&
	                    mask_len(&ip) >= 0);
	return *out ? 0 : oom(s->err);
}

static int f_netmask_to_cidr(struct jst *s, const json_t *v, json_t **a,
                             json_t **out)
{
	struct ipa ip;
	int n = ip_parse(v, &ip) == 0 && ip.plen < 0 ? mask_len(&ip) : -1;

	(void)a;
	if (n < 0)
		return jerr(s, "Subnet mask is not valid.");
	return int_result(s, 0, n, out);
}

static int cidr_mask(struct jst *s, const json_t *v, int v6, json_t **out)
{
	struct ipa ip;
	json_int_t c;

	if (!json_is_integer(v) || int_index(v, &c) < 0 || c < 0 ||
	    c > (v6 ? 128 : 32))
		return jerr(s, "Parameter must be an integer between 0 and %d.",
		            v6 ? 128 : 32);
	memset(&ip, 0, sizeof(ip));
	ip.v6 = v6;
	ip_mask(&ip, (int)c, ip.a);
	return ip_val(s, &ip, out);
}

static int f_cidr_to_netmask(struct jst *s, const json_t *v, json_t **a,
                             json_t **out)
{
	(void)a;
	return cidr_mask(s, v, 0, out);
}

static int f_cidr_to_netmaskv6(struct jst *s, const json_t *v, json_t **a,
                               json_t **out)
{
	(void)a;
	return cidr_mask(s, v, 1, out);
}

static int ip_shift(struct jst *s, const json_t *v, const json_t *by, int sign,
                    json_t **out)
{
	struct ipa ip;
	json_int_t d;
	int rc = ip_need(s, v, &ip, 0);

	if (rc == 0 && (!by || int_index(by, &d) < 0))
		return jerr(s, "the value to add must be an integer");
	if (rc < 0)
		return rc;
	if (ip_add(&ip, sign * d) < 0)
		return jerr(s, "the result is not a valid IPv%d address",
		            ip.v6 ? 6 : 4);
	return ip_val(s, &ip, out);
}

static int f_ip_addition(struct jst *s, const json_t *v, json_t **a,
                         json_t **out)
{
	return ip_shift(s, v, a[0], 1, out);
}

static int f_ip_subtract(struct jst *s, const json_t *v, json_t **a,
                         json_t **out)
{
	return ip_shift(s, v, a[0], -1, out);
}

static int ip_digits(struct jst *s, const json_t *v, int hex, json_t **out)
{
	struct ipa ip;
	hf_buf b;
	int k, started = 0, rc = ip_need(s, v, &ip, 0);

	if (rc < 0)
		return rc;
	sbuf(&b);
	for (k = 0; k < ip_bytes(&ip) * (hex ? 2 : 8); k++) {
		int d = hex ? (ip.a[k / 2] >> (k % 2 ? 0 : 4)) & 0xf
		            : (ip.a[k / 8] >> (7 - k % 8)) & 1;

		started |= d != 0;
		if (started)
			hf_buf_addch(&b, "0123456789abcdef"[d]);
	}
	if (!started)
		hf_buf_addch(&b, '0');
	return buf_val(s, &b, out);
}

static int f_ip_to_hex(struct jst *s, const json_t *v, json_t **a, json_t **out)
{
	(void)a;
	return ip_digits(s, v, 1, out);
}

static int f_ip_to_bin(struct jst *s, const json_t *v, json_t **a, json_t **out)
{
	(void)a;
	return ip_digits(s, v, 0, out);
}

/* The first (which 0), last (1) or usable-first (2) address. */
static int net_addr(struct jst *s, const json_t *v, int which, struct ipa *ip)
{
	unsigned char m[16];
	int k, rc = net_need(s, v, ip), max = ip->v6 ? 128 : 32;

	if (rc < 0)
		return rc;
	ip_mask(ip, ip->plen, m);
	if (which == 1)
		for (k = 0; k < ip_bytes(ip); k++)
			ip->a[k] |= (unsigned char)~m[k];
	if (which == 2 && ip->plen < max - 1)
		ip_add(ip, 1);
	return 0;
}

static int f_get_broadcast_address(struct jst *s, const json_t *v, json_t **a,
                                   json_t **out)
{
	struct ipa ip;
	int rc = net_addr(s, v, 1, &ip);

	(void)a;
	return rc < 0 ? rc : ip_val(s, &ip, out);
}

static int f_get_first_usable(struct jst *s, const json_t *v, json_t **a,
                              json_t **out)
{
	struct ipa ip;
	int rc = net_addr(s, v, 2, &ip);

	(void)a;
	return rc < 0 ? rc : ip_val(s, &ip, out);
}

static int f_get_usable_range(struct jst *s, const json_t *v, json_t **a,
                              json_t **out)
{
	struct ipa lo, hi;
	hf_buf b;
	int rc = net_addr(s, v, 2, &lo);

	(void)a;
	if (rc == 0)
		rc = net_addr(s, v, 1, &hi);
	if (rc < 0)
		return rc;
	if (hi.plen < (hi.v6 ? 127 : 31))
		ip_add(&hi, -1);
	sbuf(&b);
	ip_text(&b, &lo);
	hf_buf_add(&b, " - ");
	ip_text(&b, &hi);
	return buf_val(s, &b, out);
}

/* infrahub-sdk value_to_enum_name: without an enum path, str(value). */
static int f_value_to_enum_name(struct jst *s, const json_t *v, json_t **a,
                                json_t **out)
{
	if (given(a[0]))
		return jerr(s, "value_to_enum_name with an enum path is not "
		               "supported by the local server");
	return to_str(s, v, out);
}

/* ---- the filter table -----------------------------------------------------
 */

typedef int (*filter_raw_fn)(struct jst *s, const json_t *v,
                             const struct fargs *fa, json_t **out);

struct jfilter {
	const char *name;
	filter_fn fn;
	filter_raw_fn raw; /* variadic filters */
	const char *params[MAX_PARAMS + 1];
};

/* clang-format off */
static const struct jfilter filters[] = {
	{ "abs", f_abs, NULL, { NULL } },
	{ "capitalize", f_capitalize, NULL, { NULL } },
	{ "center", f_center, NULL, { "width", NULL } },
	{ "count", f_length, NULL, { NULL } },
	{ "d", f_default, NULL, { "default_value", "boolean", NULL } },
	{ "default", f_default, NULL, { "default_value", "boolean", NULL } },
	{ "e", f_escape, NULL, { NULL } },
	{ "escape", f_escape, NULL, { NULL } },
	{ "filesizeformat", f_filesizeformat, NULL, { "binary", NULL } },
	{ "first", f_first, NULL, { NULL } },
	{ "float", f_float, NULL, { "default", NULL } },
	{ "forceescape", f_escape, NULL, { NULL } },
	{ "format", NULL, f_format_raw, { NULL } },
	{ "indent", f_indent, NULL, { "width", "first", "blank", NULL } },
	{ "int", f_int, NULL, { "default", "base", NULL } },
	{ "join", f_join, NULL, { "d", "attribute", NULL } },
	{ "last", f_last, NULL, { NULL } },
	{ "length", f_length, NULL, { NULL } },
	{ "list", f_list, NULL, { NULL } },
	{ "lower", f_lower, NULL, { NULL } },
	{ "max", f_max, NULL, { "case_sensitive", "attribute", NULL } },
	{ "min", f_min, NULL, { "case_sensitive", "attribute", NULL } },
	{ "replace", f_replace, NULL, { "old", "new", "count", NULL } },
	{ "reverse", f_reverse, NULL, { NULL } },
	{ "round", f_round, NULL, { "precision", "method", NULL } },
	{ "slice", f_slice, NULL, { "slices", "fill_with", NULL } },
	{ "string", f_string, NULL, { NULL } },
	{ "striptags", f_striptags, NULL, { NULL } },
	{ "sum", f_sum, NULL, { "attribute", "start", NULL } },
	{ "title", f_title, NULL, { NULL } },
	{ "trim", f_trim, NULL, { "chars", NULL } },
	{ "truncate", f_truncate, NULL,
	  { "length", "killwords", "end", "leeway", NULL } },
	{ "upper", f_upper, NULL, { NULL } },
	{ "urlencode", f_urlencode, NULL, { NULL } },
	{ "wordcount", f_wordcount, NULL, { NULL } },
	/* netutils */
	{ "abbreviated_interface_name", f_abbreviated_interface_name, NULL,
	  { "addl_name_map", "addl_reverse_map", "verify", NULL } },
	{ "asn_to_int", f_asn_to_int, NULL, { NULL } },
	{ "canonical_interface_name", f_canonical_interface_name, NULL,
	  { "addl_name_map", "verify", NULL } },
	{ "cidr_to_netmask", f_cidr_to_netmask, NULL, { NULL } },
	{ "cidr_to_netmaskv6", f_cidr_to_netmaskv6, NULL, { NULL } },
	{ "get_broadcast_address", f_get_broadcast_address, NULL, { NULL } },
	{ "get_first_usable", f_get_first_usable, NULL, { NULL } },
	{ "get_usable_range", f_get_usable_range, NULL, { NULL } },
	{ "int_to_asdot", f_int_to_asdot, NULL, { NULL } },
	{ "ip_addition", f_ip_addition, NULL, { "val", NULL } },
	{ "ip_subtract", f_ip_subtract, NULL, { "val", NULL } },
	{ "ip_to_bin", f_ip_to_bin, NULL, { NULL } },
	{ "ip_to_hex", f_ip_to_hex, NULL, { NULL } },
	{ "is_ip", f_is_ip, NULL, { NULL } },
	{ "is_netmask", f_is_netmask, NULL, { NULL } },
	{ "netmask_to_cidr", f_netmask_to_cidr, NULL, { NULL } },
	{ "split_interface", f_split_interface, NULL, { NULL } },
	/* infrahub-sdk */
	{ "value_to_enum_name", f_value_to_enum_name, NULL,
	  { "enum_path", NULL } },
};

/*
 * The filters infrahub-sdk marks trusted (template/filters.py,
 * FilterDefinition(trusted=True)): the only ones Infrahub lets computed
 * attributes use while restrict_untrusted_jinja2_filters is on (the
 * default).
 */
static const char *const trusted[] = {
	"abs", "capitalize", "center", "count", "d", "default", "e",
	"escape", "filesizeformat", "first", "float", "forceescape",
	"format", "indent", "int", "join", "last", "length", "list",
	"lower", "max", "min", "replace", "reverse", "round", "slice",
	"string", "striptags", "sum", "title", "trim", "truncate", "upper",
	"urlencode", "wordcount", "wordwrap",
	"abbreviated_interface_name", "abbreviated_interface_name_list",
	"asn_to_int", "bits_to_name", "bytes_to_name",
	"canonical_interface_name", "canonical_interface_name_list",
	"cidr_to_netmask", "cidr_to_netmaskv6", "clean_config",
	"compare_version_loose", "compare_version_strict",
	"config_compliance", "config_section_not_parsed", "delimiter_change",
	"diff_network_config", "feature_compliance",
	"find_unordered_cfg_lines", "get_broadcast_address",
	"get_first_usable", "get_ips_sorted", "get_nist_urls",
	"get_nist_vendor_platform_urls", "get_oui", "get_peer_ip",
	"get_range_ips", "get_upgrade_path", "get_usable_range", "hash_data",
	"int_to_asdot", "interface_range_compress",
	"interface_range_expansion", "ip_addition", "ip_subtract",
	"ip_to_bin", "ip_to_hex", "ipaddress_address", "ipaddress_interface",
	"ipaddress_network", "is_classful", "is_ip", "is_ip_range",
	"is_ip_within", "is_netmask", "is_network",
	"is_reversible_wildcardmask", "is_valid_mac", "longest_prefix_match",
	"mac_normalize", "mac_to_format", "mac_to_int", "mac_type",
	"name_to_bits", "name_to_bytes", "name_to_name", "netmask_to_cidr",
	"netmask_to_wildcardmask", "normalise_delimiter_caret_c",
	"paloalto_panos_brace_to_set", "paloalto_panos_clean_newlines",
	"sanitize_config", "section_config", "sort_interface_list",
	"split_interface", "uptime_seconds_to_string",
	"uptime_string_to_seconds", "version_metadata", "vlanconfig_to_list",
	"vlanlist_to_config", "wildcardmask_to_netmask",
	"value_to_enum_name", NULL,
};
/* clang-format on */

static const struct jfilter *find_filter(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(filters) / sizeof(filters[0]); i++)
		if (!strcmp(filters[i].name, name))
			return &filters[i];
	return NULL;
}

static int call_filter(struct jst *s, const char *name, const json_t *v,
                       const struct fargs *fa, json_t **out)
{
	const struct jfilter *f = find_filter(name);
	json_t *slots[MAX_PARAMS];
	char fname[80];
	int rc;

	*out = NULL;
	if (!f)
		return jerr(s, "No filter named '%s'.", name);
	if (!v && f->fn != f_default)
		return undef_err(s);
	if (f->raw)
		return f->raw(s, v, fa, out);
	snprintf(fname, sizeof(fname), "do_%s", name);
	rc = bind_args(s, fname, f->params, fa, slots);
	return rc < 0 ? rc : f->fn(s, v, slots, out);
}

/* ---- tests ----------------------------------------------------------------
 */

static int t_cased(const json_t *v, int upper)
{
	const char *p = sv(v);
	size_t i;
	int cased = 0;

	for (i = 0; i < sl(v); i++) {
		if (!isalpha((unsigned char)p[i]))
			continue;
		cased = 1;
		if (upper ? islower((unsigned char)p[i])
		          : isupper((unsigned char)p[i]))
			return 0;
	}
	return cased;
}

static int t_mod(struct jst *s, const json_t *v, const json_t *by, int want,
                 int *res)
{
	json_t *m = NULL, *two = json_integer(2);
	int rc = two ? binop(s, "%", v, by ? by : two, &m) : oom(s->err);

	if (rc == 0)
		*res = json_is_integer(m) ? json_integer_value(m) == want
		                          : json_real_value(m) == want;
	json_decref(m);
	json_decref(two);
	return rc;
}

static const char *const cmp_tests[][2] = {
	{ "eq", "==" },         { "==", "==" },      { "equalto", "==" },
	{ "ne", "!=" },         { "!=", "!=" },      { "lt", "<" },
	{ "<", "<" },           { "lessthan", "<" }, { "le", "<=" },
	{ "<=", "<=" },         { "gt", ">" },       { ">", ">" },
	{ "greaterthan", ">" }, { "ge", ">=" },      { ">=", ">=" },
	{ "in", "in" },         { NULL, NULL },
};

static const char *cmp_test(const char *name)
{
	size_t i;

	for (i = 0; cmp_tests[i][0]; i++)
		if (!strcmp(cmp_tests[i][0], name))
			return cmp_tests[i][1];
	return NULL;
}

/* Tests that never touch the value (Undefined is fine). */
static int type_test(const char *name, const json_t *v, int *res)
{
	if (!strcmp(name, "defined"))
		*res = v != NULL;
	else if (!strcmp(name, "undefined"))
		*res = v == NULL;
	else if (!strcmp(name, "none"))
		*res = v && json_is_null(v);
	else if (!strcmp(name, "boolean"))
		*res = v && json_is_boolean(v);
	else if (!strcmp(name, "false"))
		*res = v && json_is_false(v);
	else if (!strcmp(name, "true"))
		*res = v && json_is_true(v);
	else if (!strcmp(name, "integer"))
		*res = v && json_is_integer(v);
	else if (!strcmp(name, "float"))
		*res = v && json_is_real(v);
	else if (!strcmp(name, "number"))
		*res = v && (json_is_number(v) || json_is_boolean(v));
	else if (!strcmp(name, "string"))
		*res = v && json_is_string(v);
	else if (!strcmp(name, "mapping"))
		*res = v && json_is_object(v);
	else if (!strcmp(name, "sequence"))
		*res = v && (json_is_string(v) || json_is_array(v) ||
		             json_is_object(v));
	else if (!strcmp(name, "callable") || !strcmp(name, "escaped"))
		*res = 0;
	else
		return -1;
	return 0;
}

static int known_test(const char *name)
{
	static const char *const others[] = { "odd",    "even",  "divisibleby",
		                              "lower",  "upper", "iterable",
		                              "sameas", NULL };
	int res;

	return type_test(name, NULL, &res) == 0 || cmp_test(name) ||
	       in_list(name, others);
}

static int run_test(struct jst *s, const char *name, const json_t *v,
                    json_t **args, size_t nargs, int *res)
{
	const char *op = cmp_test(name);

	if (v && v == s->soft &&
	    (!strcmp(name, "defined") || !strcmp(name, "undefined"))) {
		*res = name[0] == 'u';
		return 0;
	}
	if (type_test(name, v, res) == 0)
		return 0;
	if (!v)
		return undef_err(s);
	if (op || !strcmp(name, "sameas")) {
		if (nargs < 1)
			return jerr(s, "test '%s' needs an argument", name);
		return compare(s, op ? op : "==", v, args[0], res);
	}
	if (!strcmp(name, "odd") || !strcmp(name, "even"))
		return t_mod(s, v, NULL, name[0] == 'o', res);
	if (!strcmp(name, "divisibleby")) {
		if (nargs < 1)
			return jerr(s, "test 'divisibleby' needs an argument");
		return t_mod(s, v, args[0], 0, res);
	}
	if (!strcmp(name, "lower") || !strcmp(name, "upper")) {
		json_t *str = NULL;
		int rc = to_str(s, v, &str);

		if (rc == 0)
			*res = t_cased(str, name[0] == 'u');
		json_decref(str);
		return rc;
	}
	if (!strcmp(name, "iterable")) {
		*res = json_is_string(v) || json_is_array(v) ||
		       json_is_object(v);
		return 0;
	}
	return jerr(s, "No test named '%s'.", name);
}

/* ---- methods (str, dict, list) --------------------------------------------
 */

static int m_str_format(struct jst *s, const json_t *v, const struct fargs *fa,
                        json_t **out);

static int m_str_simple(struct jst *s, const char *m, const json_t *v,
                        json_t **a, size_t n, json_t **out)
{
	static const char *const modes[] = { "upper", "lower", "capitalize",
		                             "title", NULL,    "swapcase" };
	size_t i;

	for (i = 0; i < 6; i++)
		if (modes[i] && !strcmp(m, modes[i]))
			return n ? jerr(s, "%s() takes no arguments", m)
			         : py_case(s, v,
			                   (int)i == 3 ? C_PYTITLE : (int)i,
			                   out);
	if (!strcmp(m, "strip") || !strcmp(m, "lstrip") ||
	    !strcmp(m, "rstrip")) {
		if (n && given(a[0]) && arg_str(s, a[0], "strip arg") < 0)
			return HF_EINVAL;
		return py_strip(s, v, n ? a[0] : NULL, m[0] != 'r', m[0] != 'l',
		                out);
	}
	return 1;
}

static int m_str_bool(struct jst *s, const char *m, const json_t *v, json_t **a,
                      size_t n, json_t **out)
{
	size_t la, lv = sl(v);
	int res;

	if (strcmp(m, "startswith") && strcmp(m, "endswith"))
		return 1;
	if (n < 1 || !json_is_string(a[0]))
		return jerr(s, "%s first arg must be str", m);
	la = sl(a[0]);
	if (m[0] == 's')
		res = la <= lv && !memcmp(sv(v), sv(a[0]), la);
	else
		res = la <= lv && !memcmp(sv(v) + lv - la, sv(a[0]), la);
	*out = json_boolean(res);
	return 0;
}

static int m_str_other(struct jst *s, const char *m, const json_t *v,
                       json_t **a, size_t n, json_t **out)
{
	json_int_t k = -1;

	if (!strcmp(m, "split") || !strcmp(m, "rsplit"))
		return py_split(s, v, n > 0 ? a[0] : NULL, n > 1 ? a[1] : NULL,
		                out);
	if (!strcmp(m, "replace")) {
		if (n < 2 || !json_is_string(a[0]) || !json_is_string(a[1]))
			return jerr(s, "replace() expects two strings");
		if (n > 2 && arg_int(s, a[2], -1, &k) < 0)
			return HF_EINVAL;
		return py_replace(s, sv(v), sl(v), a[0], a[1], k, out);
	}
	if (!strcmp(m, "zfill") || !strcmp(m, "center") ||
	    !strcmp(m, "ljust") || !strcmp(m, "rjust")) {
		const char *fill = m[0] == 'z'                     ? "0"
		                   : n > 1 && json_is_string(a[1]) ? sv(a[1])
		                                                   : " ";

		if (n < 1 || arg_int(s, a[0], 0, &k) < 0)
			return jerr(s, "%s() expects an integer width", m);
		return py_justify(s, v, k, fill,
		                  m[0] == 'c'   ? 'c'
		                  : m[0] == 'l' ? 'l'
		                                : 'r',
		                  out);
	}
	if (!strcmp(m, "count") || !strcmp(m, "find")) {
		const char *at, *p = sv(v);
		json_int_t cnt = 0;

		if (n < 1 || !json_is_string(a[0]))
			return jerr(s, "%s() expects a string", m);
		at = memfind(p, sl(v), sv(a[0]), sl(a[0]));
		if (m[0] == 'f')
			return int_result(
			        s, 0,
			        at ? (json_int_t)u8_len(p, (size_t)(at - p))
			           : -1,
			        out);
		while (at && sl(a[0])) {
			cnt++;
			at = memfind(at + sl(a[0]),
			             sl(v) - (size_t)(at - p) - sl(a[0]),
			             sv(a[0]), sl(a[0]));
		}
		return int_result(
		        s, 0, sl(a[0]) ? cnt : (json_int_t)u8_len(p, sl(v)) + 1,
		        out);
	}
	if (!strcmp(m, "join")) {
		json_t *sep = json_incref(mut(v));
		json_t *args[2] = { sep, NULL };
		int rc;

		if (n < 1)
			return jerr(s, "join() takes exactly one argument");
		rc = f_join(s, a[0], args, out);
		json_decref(sep);
		return rc;
	}
	return 1;
}

static int m_dict(struct jst *s, const char *m, const json_t *v, json_t **a,
                  size_t n, json_t **out)
{
	const char *k;
	json_t *item, *pair;

	if (!strcmp(m, "get")) {
		if (n < 1)
			return jerr(s,
			            "get expected at least 1 argument, got 0");
		item = json_is_string(a[0]) ? json_object_get(v, sv(a[0]))
		                            : NULL;
		*out = item    ? json_incref(item)
		       : n > 1 ? json_incref(a[1])
		               : json_null();
		return 0;
	}
	if (strcmp(m, "items") && strcmp(m, "keys") && strcmp(m, "values"))
		return 1;
	*out = json_array();
	json_object_foreach(mut(v), k, item)
	{
		if (!*out)
			break;
		if (m[0] == 'k')
			pair = json_string(k);
		else if (m[0] == 'v')
			pair = json_incref(item);
		else
			pair = json_pack("[sO]", k, item);
		if (!pair || json_array_append_new(*out, pair) < 0)
			return oom(s->err);
		if (m[0] == 'i' && mark_tuple(s, pair) < 0)
			return HF_ENOMEM;
	}
	return *out ? 0 : oom(s->err);
}

static int m_list(struct jst *s, const char *m, const json_t *v, json_t **a,
                  size_t n, json_t **out)
{
	size_t i;
	json_int_t cnt = 0;

	if (strcmp(m, "index") && strcmp(m, "count"))
		return 1;
	if (n < 1)
		return jerr(s, "%s() takes exactly one argument", m);
	for (i = 0; i < json_array_size(v); i++) {
		if (!py_eq(json_array_get(v, i), a[0]))
			continue;
		if (m[0] == 'i')
			return int_result(s, 0, (json_int_t)i, out);
		cnt++;
	}
	if (m[0] == 'i')
		return jerr(s, "value is not in list");
	return int_result(s, 0, cnt, out);
}

static int call_method(struct jst *s, const json_t *obj, const char *m,
                       const struct fargs *fa, json_t **out)
{
	int rc = 1;

	*out = NULL;
	if (m[0] == '_')
		return jerr(s,
		            "access to attribute '%s' of '%s' object is "
		            "unsafe.",
		            m, ptype(s, obj));
	if (fa->nkw && !(json_is_string(obj) && !strcmp(m, "format")))
		return jerr(s, "%s() takes no keyword arguments", m);
	if (json_is_string(obj) && !strcmp(m, "format"))
		return m_str_format(s, obj, fa, out);
	if (json_is_string(obj)) {
		rc = m_str_simple(s, m, obj, fa->pos, fa->npos, out);
		if (rc == 1)
			rc = m_str_bool(s, m, obj, fa->pos, fa->npos, out);
		if (rc == 1)
			rc = m_str_other(s, m, obj, fa->pos, fa->npos, out);
	} else if (json_is_object(obj)) {
		rc = m_dict(s, m, obj, fa->pos, fa->npos, out);
	} else if (json_is_array(obj)) {
		rc = m_list(s, m, obj, fa->pos, fa->npos, out);
	}
	if (rc == 1)
		return jerr(s,
		            "'%s' object has no method '%s' (or the local "
		            "server does not support it)",
		            ptype(s, obj), m);
	return rc;
}

/* str.format: {} {0} {name} with [fill][align][0][width][.prec][type]. */
static int fmt_body(struct jst *s, hf_buf *b, struct pspec *sp, const json_t *v)
{
	hf_buf t;
	json_t *str;
	int rc;

	if (sp->type || (sp->prec >= 0 && json_is_number(v))) {
		if (!sp->type)
			sp->type = json_is_real(v) ? 'g' : 'd';
		return fmt_one(s, b, sp, v);
	}
	sbuf(&t);
	py_str(s, &t, v);
	str = jstr(t.ptr, t.len);
	hf_buf_release(&t);
	if (!str)
		return oom(s->err);
	sp->type = 's';
	rc = fmt_one(s, b, sp, str);
	json_decref(str);
	return rc;
}

static int fmt_field(struct jst *s, hf_buf *b, const json_t *v,
                     const char *spec)
{
	struct pspec sp;
	char fill = ' ', align = 0;
	const char *p = spec;
	size_t len, w, i, left;
	hf_buf body;
	int rc;

	if (p[0] && p[1] && strchr("<>^", p[1])) {
		fill = p[0];
		align = p[1];
		p += 2;
	} else if (p[0] && strchr("<>^", p[0])) {
		align = p[0];
		p++;
	}
	parse_pspec(p, &sp);
	if (strchr(sp.flags, '0') && !align)
		return fmt_body(s, b, &sp, v);
	w = sp.width > 0 ? (size_t)sp.width : 0;
	sp.width = -1;
	sbuf(&body);
	rc = fmt_body(s, &body, &sp, v);
	if (!align)
		align = json_is_number(v) ? '>' : '<';
	len = u8_len(body.ptr, body.len);
	left = len >= w       ? 0
	       : align == '>' ? w - len
	       : align == '^' ? (w - len) / 2
	                      : 0;
	for (i = 0; i < left; i++)
		hf_buf_addch(b, fill);
	hf_buf_addn(b, body.ptr, body.len);
	for (i = left + len; i < w; i++)
		hf_buf_addch(b, fill);
	hf_buf_release(&body);
	return rc;
}

static const json_t *fmt_arg(struct jst *s, const struct fargs *fa,
                             const char *name, size_t *next)
{
	size_t i;
	char *end;
	long idx;

	if (!*name) {
		if (*next < fa->npos)
			return fa->pos[(*next)++];
		jerr(s,
		     "Replacement index %zu out of range for positional "
		     "args tuple",
		     *next);
		return NULL;
	}
	if (isdigit((unsigned char)*name)) {
		idx = strtol(name, &end, 10);
		if (!*end && idx >= 0 && (size_t)idx < fa->npos)
			return fa->pos[idx];
		jerr(s,
		     "Replacement index %s out of range for positional "
		     "args tuple",
		     name);
		return NULL;
	}
	for (i = 0; i < fa->nkw; i++)
		if (!strcmp(fa->kwn[i], name))
			return fa->kwv[i];
	jerr(s, "'%s'", name);
	return NULL;
}

static int m_str_format(struct jst *s, const json_t *v, const struct fargs *fa,
                        json_t **out)
{
	const char *p = sv(v), *close, *colon;
	char name[128], spec[64];
	const json_t *arg;
	size_t next = 0, n;
	hf_buf b;
	int rc = 0;

	sbuf(&b);
	while (rc == 0 && *p) {
		if ((p[0] == '{' && p[1] == '{') ||
		    (p[0] == '}' && p[1] == '}')) {
			hf_buf_addch(&b, *p);
			p += 2;
			continue;
		}
		if (*p != '{') {
			hf_buf_addch(&b, *p++);
			continue;
		}
		close = strchr(p, '}');
		if (!close) {
			rc = jerr(s, "expected '}' before end of string");
			break;
		}
		colon = memchr(p, ':', (size_t)(close - p));
		n = (size_t)((colon ? colon : close) - p - 1);
		snprintf(name, sizeof(name), "%.*s", (int)n, p + 1);
		snprintf(spec, sizeof(spec), "%.*s",
		         colon ? (int)(close - colon - 1) : 0,
		         colon ? colon + 1 : "");
		if (strchr(name, '!') || strchr(name, '.') ||
		    strchr(name, '[')) {
			rc = jerr(s,
			          "format field '%s' is not supported by the "
			          "local server",
			          name);
			break;
		}
		arg = fmt_arg(s, fa, name, &next);
		rc = arg ? fmt_field(s, &b, arg, spec) : HF_EINVAL;
		p = close + 1;
	}
	if (rc < 0) {
		hf_buf_release(&b);
		return rc;
	}
	return buf_val(s, &b, out);
}

/* ---- expressions ----------------------------------------------------------
 */

static int eval(struct jst *s, const struct jn *n, json_t **out);

static int step(struct jst *s)
{
	if (++s->steps > HFS_JINJA_MAX_STEPS)
		return jerr(s,
		            "template evaluation limit exceeded (more than "
		            "%d steps)",
		            HFS_JINJA_MAX_STEPS);
	return 0;
}

/* Evaluate and require a defined value. */
static int eval_def(struct jst *s, const struct jn *n, json_t **out)
{
	int rc = eval(s, n, out);

	if (rc == 0 && !*out)
		return undef_err(s);
	return rc;
}

static int lookup(struct jst *s, const char *name, json_t **out)
{
	json_t *v;
	size_t i;

	for (i = s->nscopes; i > 0; i--) {
		v = json_object_get(s->scopes[i - 1], name);
		if (v) {
			*out = json_incref(v);
			return 0;
		}
	}
	v = json_object_get(s->vars, name);
	if (v) {
		*out = json_incref(v);
		return 0;
	}
	*out = NULL;
	set_undef(s, "'%s' is undefined", name);
	return 0;
}

static void fargs_release(struct fargs *fa)
{
	size_t i;

	for (i = 0; i < fa->npos; i++)
		json_decref(fa->pos[i]);
	for (i = 0; i < fa->nkw; i++)
		json_decref(fa->kwv[i]);
	hf_free(fa->pos);
	hf_free(fa->kwv);
	memset(fa, 0, sizeof(*fa));
}

/* Evaluate a node's kids as call arguments (the last nkw are keywords). */
static int eval_args(struct jst *s, const struct jn *n, struct fargs *fa)
{
	size_t i, npos = n->nkids - n->nkw;
	json_t *v;
	int rc = 0;

	memset(fa, 0, sizeof(*fa));
	fa->pos = hf_calloc(npos + 1, sizeof(*fa->pos));
	fa->kwv = hf_calloc(n->nkw + 1, sizeof(*fa->kwv));
	if (!fa->pos || !fa->kwv) {
		fargs_release(fa);
		return oom(s->err);
	}
	fa->kwn = n->kw;
	for (i = 0; rc == 0 && i < n->nkids; i++) {
		rc = eval_def(s, n->kids[i], &v);
		if (rc < 0)
			break;
		if (i < npos)
			fa->pos[fa->npos++] = v;
		else
			fa->kwv[fa->nkw++] = v;
	}
	if (rc < 0)
		fargs_release(fa);
	return rc;
}

static int eval_filter_on(struct jst *s, const struct jn *n, json_t *v,
                          json_t **out)
{
	struct fargs fa;
	int rc = eval_args(s, n, &fa);

	if (rc == 0)
		rc = call_filter(s, n->name, v, &fa, out);
	fargs_release(&fa);
	return rc;
}

static int eval_filter(struct jst *s, const struct jn *n, json_t **out)
{
	json_t *v = NULL;
	int rc = eval(s, n->a, &v);

	if (rc == 0)
		rc = eval_filter_on(s, n, v, out);
	json_decref(v);
	return rc;
}

static int eval_test(struct jst *s, const struct jn *n, json_t **out)
{
	json_t *v = NULL;
	struct fargs fa;
	int rc = eval(s, n->a, &v), res = 0;

	if (rc == 0)
		rc = eval_args(s, n, &fa);
	if (rc == 0) {
		rc = run_test(s, n->name, v, fa.pos, fa.npos, &res);
		fargs_release(&fa);
	}
	json_decref(v);
	if (rc == 0)
		*out = json_boolean(res ^ n->neg);
	return rc;
}

static int eval_call(struct jst *s, const struct jn *n, json_t **out)
{
	json_t *obj = NULL;
	struct fargs fa;
	int rc;

	if (n->a->k != E_ATTR) {
		rc = eval_def(s, n->a, &obj);
		if (rc == 0)
			rc = jerr(s, "'%s' object is not callable",
			          ptype(s, obj));
		json_decref(obj);
		return rc;
	}
	rc = eval_def(s, n->a->a, &obj);
	if (rc == 0)
		rc = eval_args(s, n, &fa);
	if (rc == 0) {
		rc = call_method(s, obj, n->a->name, &fa, out);
		fargs_release(&fa);
	}
	json_decref(obj);
	return rc;
}

static int eval_seq(struct jst *s, const struct jn *n, json_t **out)
{
	json_t *v, *k;
	size_t i;
	int rc = 0;

	*out = n->k == E_DICT ? json_object() : json_array();
	if (!*out)
		return oom(s->err);
	for (i = 0; rc == 0 && i < n->nkids; i++) {
		rc = eval_def(s, n->kids[i], &v);
		if (rc < 0)
			break;
		if (n->k != E_DICT) {
			if (json_array_append_new(*out, v) < 0)
				rc = oom(s->err);
			continue;
		}
		k = v;
		rc = eval_def(s, n->kids[++i], &v);
		if (rc == 0 && !json_is_string(k))
			rc = jerr(s, "dict keys must be strings (the local "
			             "server keeps JSON objects)");
		if (rc == 0 && json_object_set_new(*out, sv(k), v) < 0)
			rc = oom(s->err);
		else if (rc < 0)
			json_decref(v);
		json_decref(k);
	}
	if (rc == 0 && n->k == E_TUPLE)
		rc = mark_tuple(s, *out);
	return rc;
}

static int eval_cmp(struct jst *s, const struct jn *n, json_t **out)
{
	json_t *left = NULL, *right = NULL;
	size_t i;
	int rc = eval_def(s, n->a, &left), res = 1;

	for (i = 0; rc == 0 && res && i < n->nkids; i++) {
		rc = eval_def(s, n->kids[i], &right);
		if (rc == 0)
			rc = compare(s, n->ops[i], left, right, &res);
		json_decref(left);
		left = right;
		right = NULL;
	}
	json_decref(left);
	if (rc == 0)
		*out = json_boolean(res);
	return rc;
}

static int eval_logic(struct jst *s, const struct jn *n, json_t **out)
{
	json_t *a = NULL;
	int rc = eval_def(s, n->a, &a);

	if (rc < 0)
		return rc;
	if ((n->k == E_AND) != py_true(a)) {
		*out = a; /* a or b -> a when a is true; a and b -> a when not
		           */
		return 0;
	}
	json_decref(a);
	return eval(s, n->b, out);
}

static int eval_unary(struct jst *s, const struct jn *n, json_t **out)
{
	json_t *a = NULL;
	int rc = eval_def(s, n->a, &a), is_int;
	json_int_t i;
	double d;

	if (rc < 0)
		return rc;
	if (n->k == E_NOT)
		*out = json_boolean(!py_true(a));
	else if (num_of(a, &is_int, &i, &d) < 0)
		rc = jerr(s, "bad operand type for unary %c: '%s'",
		          n->k == E_NEG ? '-' : '+', ptype(s, a));
	else if (is_int)
		rc = int_result(s, n->k == E_NEG && i == LLONG_MIN,
		                n->k == E_NEG ? -i : i, out);
	else
		rc = real_result(s, n->k == E_NEG ? -d : d, out);
	json_decref(a);
	return rc;
}

static int eval_bin(struct jst *s, const struct jn *n, json_t **out)
{
	json_t *a = NULL, *b = NULL;
	int rc = eval_def(s, n->a, &a);

	if (rc == 0)
		rc = eval_def(s, n->b, &b);
	if (rc == 0)
		rc = binop(s, n->op, a, b, out);
	json_decref(a);
	json_decref(b);
	return rc;
}

static int eval_cond(struct jst *s, const struct jn *n, json_t **out)
{
	json_t *t = NULL;
	int rc = eval_def(s, n->b, &t), yes;

	if (rc < 0)
		return rc;
	yes = py_true(t);
	json_decref(t);
	if (yes)
		return eval(s, n->a, out);
	if (n->c)
		return eval(s, n->c, out);
	/*
	 * jinja2 compiles a missing else to the plain Undefined class, not
	 * the environment's StrictUndefined: it renders as "".
	 */
	*out = json_incref(s->soft);
	return 0;
}

static int eval_access(struct jst *s, const struct jn *n, json_t **out)
{
	json_t *obj = NULL, *k = NULL, *b = NULL, *c = NULL, *d = NULL;
	int rc = eval_def(s, n->a, &obj);

	if (rc == 0 && n->k == E_ATTR)
		rc = get_attr(s, obj, n->name, out);
	else if (rc == 0 && n->k == E_ITEM) {
		rc = eval_def(s, n->b, &k);
		if (rc == 0)
			rc = get_item(s, obj, k, out);
	} else if (rc == 0) {
		rc = n->b ? eval_def(s, n->b, &b) : 0;
		if (rc == 0 && n->c)
			rc = eval_def(s, n->c, &c);
		if (rc == 0 && n->d)
			rc = eval_def(s, n->d, &d);
		if (rc == 0)
			rc = do_slice(s, obj, b, c, d, out);
	}
	json_decref(obj);
	json_decref(k);
	json_decref(b);
	json_decref(c);
	json_decref(d);
	return rc;
}

static int eval_expr(struct jst *s, const struct jn *n, json_t **out)
{
	switch (n->k) {
	case E_CONST:
		*out = json_incref(n->cval);
		return 0;
	case E_NAME:
		return lookup(s, n->name, out);
	case E_ATTR:
	case E_ITEM:
	case E_SLICE:
		return eval_access(s, n, out);
	case E_FILTER:
		return eval_filter(s, n, out);
	case E_TEST:
		return eval_test(s, n, out);
	case E_CALL:
		return eval_call(s, n, out);
	case E_LIST:
	case E_TUPLE:
	case E_DICT:
		return eval_seq(s, n, out);
	case E_NOT:
	case E_NEG:
	case E_POS:
		return eval_unary(s, n, out);
	case E_BIN:
		return eval_bin(s, n, out);
	case E_AND:
	case E_OR:
		return eval_logic(s, n, out);
	case E_CMP:
		return eval_cmp(s, n, out);
	case E_COND:
		return eval_cond(s, n, out);
	default:
		return jerr(s, "not an expression");
	}
}

static int eval(struct jst *s, const struct jn *n, json_t **out)
{
	int rc = step(s);

	*out = NULL;
	if (rc < 0)
		return rc;
	if (++s->depth > 4 * HFS_JINJA_MAX_DEPTH) {
		s->depth--;
		return jerr(s, "template nesting too deep");
	}
	rc = eval_expr(s, n, out);
	s->depth--;
	if (rc < 0) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

/* ---- statements -----------------------------------------------------------
 */

static int render_body(struct jst *s, const struct jn *body, hf_buf *out);

static int push_scope(struct jst *s)
{
	if (s->nscopes >= MAX_SCOPES)
		return jerr(s, "template nesting too deep");
	s->scopes[s->nscopes] = json_object();
	if (!s->scopes[s->nscopes])
		return oom(s->err);
	s->nscopes++;
	return 0;
}

static void pop_scope(struct jst *s)
{
	json_decref(s->scopes[--s->nscopes]);
}

static json_t *top_scope(struct jst *s)
{
	return s->scopes[s->nscopes - 1];
}

/* Assign v to one name, or unpack it over several. */
static int assign(struct jst *s, char *const *names, size_t n, json_t *v)
{
	json_t *items = NULL;
	size_t i;
	int rc;

	if (n == 1)
		return json_object_set(top_scope(s), names[0], v) < 0
		               ? oom(s->err)
		               : 0;
	rc = iter_list(s, v, &items);
	if (rc == 0 && json_array_size(items) < n)
		rc = jerr(s,
		          "not enough values to unpack (expected %zu, got "
		          "%zu)",
		          n, json_array_size(items));
	else if (rc == 0 && json_array_size(items) > n)
		rc = jerr(s, "too many values to unpack (expected %zu)", n);
	for (i = 0; rc == 0 && i < n; i++)
		if (json_object_set(top_scope(s), names[i],
		                    json_array_get(items, i)) < 0)
			rc = oom(s->err);
	json_decref(items);
	return rc;
}

static int r_output(struct jst *s, const struct jn *n, hf_buf *out)
{
	json_t *v = NULL;
	int rc = eval_def(s, n->a, &v);

	if (rc == 0)
		py_str(s, out, v);
	json_decref(v);
	if (rc == 0 && hf_buf_failed(out))
		rc = too_large(s, HFS_JINJA_MAX_OUTPUT + 1);
	return rc;
}

static int r_if(struct jst *s, const struct jn *n, hf_buf *out)
{
	json_t *t = NULL;
	int rc = eval_def(s, n->a, &t), yes;

	if (rc < 0)
		return rc;
	yes = py_true(t);
	json_decref(t);
	if (yes)
		return render_body(s, n->b, out);
	if (!n->c)
		return 0;
	return n->c->k == N_IF ? r_if(s, n->c, out) : render_body(s, n->c, out);
}

static json_t *loop_info(size_t i, size_t len, const json_t *items)
{
	json_t *o = json_pack("{sIsIsIsIsbsbsIsIsI}", "index",
	                      (json_int_t)i + 1, "index0", (json_int_t)i,
	                      "revindex", (json_int_t)(len - i), "revindex0",
	                      (json_int_t)(len - i - 1), "first", i == 0,
	                      "last", i + 1 == len, "length", (json_int_t)len,
	                      "depth", (json_int_t)1, "depth0", (json_int_t)0);

	if (o && i > 0)
		json_object_set(o, "previtem", json_array_get(items, i - 1));
	if (o && i + 1 < len)
		json_object_set(o, "nextitem", json_array_get(items, i + 1));
	return o;
}

/* The items a loop runs over, after its inline "if" filter. */
static int loop_items(struct jst *s, const struct jn *n, json_t **out)
{
	json_t *v = NULL, *items = NULL, *keep = NULL, *t;
	size_t i;
	int rc = eval_def(s, n->a, &v);

	if (rc == 0)
		rc = iter_list(s, v, &items);
	json_decref(v);
	if (rc < 0 || !n->d) {
		*out = items;
		return rc;
	}
	keep = json_array();
	for (i = 0; rc == 0 && keep && i < json_array_size(items); i++) {
		rc = push_scope(s);
		if (rc < 0)
			break;
		rc = assign(s, n->targets, n->ntargets,
		            json_array_get(items, i));
		if (rc == 0)
			rc = eval_def(s, n->d, &t);
		pop_scope(s);
		if (rc == 0 && py_true(t))
			json_array_append(keep, json_array_get(items, i));
		if (rc == 0)
			json_decref(t);
	}
	json_decref(items);
	if (rc < 0 || !keep) {
		json_decref(keep);
		return rc < 0 ? rc : oom(s->err);
	}
	*out = keep;
	return 0;
}

static int r_for(struct jst *s, const struct jn *n, hf_buf *out)
{
	json_t *items = NULL, *info;
	size_t i, len;
	int rc = loop_items(s, n, &items);

	len = json_array_size(items);
	for (i = 0; rc == 0 && i < len; i++) {
		rc = step(s);
		if (rc == 0)
			rc = push_scope(s);
		if (rc < 0)
			break;
		info = loop_info(i, len, items);
		rc = info ? assign(s, n->targets, n->ntargets,
		                   json_array_get(items, i))
		          : oom(s->err);
		if (rc == 0 &&
		    json_object_set_new(top_scope(s), "loop", info) < 0)
			rc = oom(s->err);
		else if (rc < 0)
			json_decref(info);
		if (rc == 0)
			rc = render_body(s, n->b, out);
		pop_scope(s);
	}
	json_decref(items);
	if (rc == 0 && len == 0 && n->c)
		rc = render_body(s, n->c, out);
	return rc;
}

static int r_set(struct jst *s, const struct jn *n, hf_buf *out)
{
	json_t *v = NULL;
	hf_buf t;
	int rc;

	(void)out;
	if (n->k == N_SET) {
		rc = eval_def(s, n->a, &v);
	} else {
		sbuf(&t);
		rc = render_body(s, n->b, &t);
		if (rc == 0)
			rc = buf_val(s, &t, &v);
		else
			hf_buf_release(&t);
	}
	if (rc == 0)
		rc = assign(s, n->targets, n->ntargets, v);
	json_decref(v);
	return rc;
}

static int r_with(struct jst *s, const struct jn *n, hf_buf *out)
{
	json_t *v = NULL;
	size_t i;
	int rc = 0;

	/* values are computed in the outer scope, then bound */
	json_t *vals = json_array();

	for (i = 0; vals && rc == 0 && i < n->nkids; i++) {
		rc = eval_def(s, n->kids[i], &v);
		if (rc == 0 && json_array_append_new(vals, v) < 0)
			rc = oom(s->err);
	}
	if (!vals)
		return oom(s->err);
	if (rc == 0)
		rc = push_scope(s);
	if (rc < 0) {
		json_decref(vals);
		return rc;
	}
	for (i = 0; rc == 0 && i < n->ntargets; i++)
		rc = assign(s, &n->targets[i], 1, json_array_get(vals, i));
	if (rc == 0)
		rc = render_body(s, n->b, out);
	pop_scope(s);
	json_decref(vals);
	return rc;
}

/* Apply a {% filter %} chain (innermost value: NULL) to `v`. */
static int apply_chain(struct jst *s, const struct jn *f, json_t *v,
                       json_t **out)
{
	json_t *inner = NULL;
	int rc;

	if (!f) {
		*out = json_incref(v);
		return 0;
	}
	rc = apply_chain(s, f->a, v, &inner);
	if (rc == 0)
		rc = eval_filter_on(s, f, inner, out);
	json_decref(inner);
	return rc;
}

static int r_filter(struct jst *s, const struct jn *n, hf_buf *out)
{
	json_t *body = NULL, *res = NULL;
	hf_buf t;
	int rc;

	sbuf(&t);
	rc = render_body(s, n->b, &t);
	if (rc == 0)
		rc = buf_val(s, &t, &body);
	else
		hf_buf_release(&t);
	if (rc == 0)
		rc = apply_chain(s, n->a, body, &res);
	if (rc == 0 && !res)
		rc = undef_err(s);
	if (rc == 0)
		py_str(s, out, res);
	json_decref(body);
	json_decref(res);
	return rc;
}

static int r_node(struct jst *s, const struct jn *n, hf_buf *out)
{
	int rc = step(s);

	if (rc < 0)
		return rc;
	switch (n->k) {
	case N_TEXT:
		hf_buf_add(out, n->name);
		return hf_buf_failed(out)
		               ? too_large(s, HFS_JINJA_MAX_OUTPUT + 1)
		               : 0;
	case N_OUTPUT:
		return r_output(s, n, out);
	case N_IF:
		return r_if(s, n, out);
	case N_FOR:
		return r_for(s, n, out);
	case N_SET:
	case N_SETBLOCK:
		return r_set(s, n, out);
	case N_WITH:
		return r_with(s, n, out);
	case N_FILTERBLOCK:
		return r_filter(s, n, out);
	case N_BODY:
		return render_body(s, n, out);
	default:
		return jerr(s, "not a statement");
	}
}

static int render_body(struct jst *s, const struct jn *body, hf_buf *out)
{
	size_t i;
	int rc = 0;

	if (++s->depth > 4 * HFS_JINJA_MAX_DEPTH) {
		s->depth--;
		return jerr(s, "template nesting too deep");
	}
	for (i = 0; rc == 0 && body && i < body->nkids; i++)
		rc = r_node(s, body->kids[i], out);
	s->depth--;
	return rc;
}

/* ---- the render and validate API ------------------------------------------
 */

int hfs_jinja_render(char **out, const hfs_jinja *t, const json_t *vars,
                     hf_error *err)
{
	struct jst s;
	hf_buf b;
	int rc;

	*out = NULL;
	memset(&s, 0, sizeof(s));
	s.err = err;
	s.vars = vars;
	s.soft = json_stringn("", 0);
	hf_buf_init(&b, HFS_JINJA_MAX_OUTPUT);
	rc = s.soft ? push_scope(&s) : oom(err);
	if (rc == 0)
		rc = render_body(&s, t->body, &b);
	while (s.nscopes)
		pop_scope(&s);
	json_decref(s.tuples);
	json_decref(s.soft);
	if (rc == 0 && hf_buf_failed(&b))
		rc = too_large(&s, HFS_JINJA_MAX_OUTPUT + 1);
	if (rc == 0) {
		*out = hf_buf_detach(&b);
		if (!*out)
			rc = oom(err);
	}
	hf_buf_release(&b);
	return rc;
}

static int check_node(const struct jn *n, hf_error *err)
{
	size_t i;
	int rc = 0;

	if (!n)
		return 0;
	if (n->k == E_FILTER) {
		if (!in_list(n->name, trusted))
			return hf_error_set(err, HF_EINVAL,
			                    "The '%s' filter isn't allowed to "
			                    "be used",
			                    n->name);
		if (!find_filter(n->name))
			return hf_error_set(
			        err, HF_EINVAL,
			        "The '%s' filter is not supported by "
			        "the local server",
			        n->name);
	}
	if (n->k == E_TEST && !known_test(n->name))
		return hf_error_set(err, HF_EINVAL, "No test named '%s'.",
		                    n->name);
	if (rc == 0)
		rc = check_node(n->a, err);
	if (rc == 0)
		rc = check_node(n->b, err);
	if (rc == 0)
		rc = check_node(n->c, err);
	if (rc == 0)
		rc = check_node(n->d, err);
	for (i = 0; rc == 0 && i < n->nkids; i++)
		rc = check_node(n->kids[i], err);
	return rc;
}

int hfs_jinja_validate(const hfs_jinja *t, hf_error *err)
{
	if (t->forbidden)
		return hf_error_set(err, HF_EINVAL,
		                    "These operations are forbidden for string "
		                    "based templates: ['Call', 'Import', "
		                    "'Include']");
	return check_node(t->body, err);
}
