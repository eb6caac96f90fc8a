/*
 * GraphQL executable documents: lexer, recursive-descent parser and the
 * document-level helpers the executor needs.
 *
 * The lexer and parser follow graphql-core 3.2 (what Infrahub runs), token
 * for token, so that syntax errors read the same. Recursion is bounded by
 * a nesting counter (HFS_GQL_MAX_DEPTH) and the AST size by a node
 * counter; everything else that walks a document whose shape is not
 * bounded by the parser (fragment graphs, field collection) is iterative.
 *
 * The AST is allocated from an arena of a few large blocks, so parsing a
 * document costs a handful of hf_alloc calls and freeing it one walk over
 * the block list.
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
#include "hf/buf.h"
#include "gql.h"
#include "hf/banned.h"

/* ---------------------------------------------------------------- arena */

struct arena_block {
	struct arena_block *next;
	size_t size;
	size_t used;
	max_align_t data[];
};

struct arena {
	struct arena_block *head;
	size_t next_size;
};

#define ARENA_MIN_BLOCK ((size_t)8192)
#define ARENA_MAX_BLOCK ((size_t)1 << 20)

static void *arena_alloc(struct arena *a, size_t n, size_t align)
{
	struct arena_block *b = a->head;
	size_t off = 0;
	size_t size;

	if (b)
		off = (b->used + align - 1) & ~(align - 1);
	if (!b || off > b->size || b->size - off < n) {
		size = a->next_size < n ? n : a->next_size;
		if (size > SIZE_MAX - sizeof(*b))
			return NULL;
		b = hf_alloc(sizeof(*b) + size);
		if (!b)
			return NULL;
		b->next = a->head;
		b->size = size;
		b->used = 0;
		a->head = b;
		if (a->next_size < ARENA_MAX_BLOCK)
			a->next_size *= 2;
		off = 0;
	}
	b->used = off + n;
	return (char *)b->data + off;
}

static void arena_release(struct arena *a)
{
	struct arena_block *b = a->head;
	struct arena_block *next;

	while (b) {
		next = b->next;
		hf_free(b);
		b = next;
	}
	a->head = NULL;
}

/* ------------------------------------------------------------- document */

struct hfs_gql_doc {
	struct arena arena;
	struct hfs_gql_operation *ops;
	struct hfs_gql_fragment *frags;
	size_t nops;
	size_t nfrags;
	size_t nodes;
	/* Open-addressed table of fragments by name (first definition). */
	const struct hfs_gql_fragment **frag_tab;
	size_t frag_tab_size;
	/* A second definition of a fragment name, for hfs_gql_validate. */
	const struct hfs_gql_fragment *dup_frag;
};

static size_t hash_str(const char *s)
{
	size_t h = (size_t)2166136261u;

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= (size_t)16777619u;
	}
	return h;
}

/* Slot of fragment `name` in the table, or -1. */
static long frag_slot(const hfs_gql_doc *doc, const char *name)
{
	size_t mask = doc->frag_tab_size - 1;
	size_t i;

	if (!doc->frag_tab_size)
		return -1;
	i = hash_str(name) & mask;
	while (doc->frag_tab[i]) {
		if (!strcmp(doc->frag_tab[i]->name, name))
			return (long)i;
		i = (i + 1) & mask;
	}
	return -1;
}

static int frag_table_build(hfs_gql_doc *doc)
{
	const struct hfs_gql_fragment *f;
	size_t size = 1;
	size_t i;

	if (!doc->nfrags)
		return 0;
	while (size < doc->nfrags * 2)
		size <<= 1;
	doc->frag_tab = arena_alloc(&doc->arena, size * sizeof(*doc->frag_tab),
				    _Alignof(max_align_t));
	if (!doc->frag_tab)
		return HF_ENOMEM;
	memset(doc->frag_tab, 0, size * sizeof(*doc->frag_tab));
	doc->frag_tab_size = size;
	for (f = doc->frags; f; f = f->next) {
		i = hash_str(f->name) & (size - 1);
		while (doc->frag_tab[i] && strcmp(doc->frag_tab[i]->name, f->name))
			i = (i + 1) & (size - 1);
		if (!doc->frag_tab[i])
			doc->frag_tab[i] = f;
		else if (!doc->dup_frag)
			doc->dup_frag = f;
	}
	return 0;
}

void hfs_gql_doc_free(hfs_gql_doc *doc)
{
	struct arena a;

	if (!doc)
		return;
	/* The document lives in its own arena: copy the handle out first. */
	a = doc->arena;
	arena_release(&a);
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
	long slot = frag_slot(doc, name);

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

/* ---------------------------------------------------------------- lexer */

enum tok {
	T_EOF,
	T_BANG,
	T_DOLLAR,
	T_AMP,
	T_LPAREN,
	T_RPAREN,
	T_SPREAD,
	T_COLON,
	T_EQUALS,
	T_AT,
	T_LBRACKET,
	T_RBRACKET,
	T_LBRACE,
	T_PIPE,
	T_RBRACE,
	T_NAME,
	T_INT,
	T_FLOAT,
	T_STRING,
	T_BLOCK_STRING,
};

/* How graphql-core names each token kind in "Expected X, found Y." */
static const char *const tok_desc[] = {
	[T_EOF] = "<EOF>",      [T_BANG] = "'!'",     [T_DOLLAR] = "'$'",
	[T_AMP] = "'&'",        [T_LPAREN] = "'('",   [T_RPAREN] = "')'",
	[T_SPREAD] = "'...'",   [T_COLON] = "':'",    [T_EQUALS] = "'='",
	[T_AT] = "'@'",         [T_LBRACKET] = "'['", [T_RBRACKET] = "']'",
	[T_LBRACE] = "'{'",     [T_PIPE] = "'|'",     [T_RBRACE] = "'}'",
	[T_NAME] = "Name",      [T_INT] = "Int",      [T_FLOAT] = "Float",
	[T_STRING] = "String",  [T_BLOCK_STRING] = "BlockString",
};

struct token {
	enum tok kind;
	size_t start;
	size_t end;
	int line;
	int col;
	char *str;  /* decoded T_STRING / T_BLOCK_STRING, in the arena */
	size_t len;
};

struct parser {
	const char *src;
	size_t len;
	size_t pos;        /* lexer position */
	int line;          /* line of pos, 1-based */
	size_t line_start; /* offset where that line starts */
	size_t cpos;       /* column cache: offset ... */
	int ccol;          /* ... and its column */
	struct token tok;  /* the current token (one-token lookahead) */
	hfs_gql_doc *doc;
	hf_error *err;
	int depth;
	int rc;
};

static int at(const struct parser *p, size_t i)
{
	return i < p->len ? (unsigned char)p->src[i] : -1;
}

static int is_name_start(int c)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int is_name_char(int c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/*
 * Length of the valid UTF-8 sequence at s[0..n), 0 if invalid (overlong,
 * surrogate, past U+10FFFF or truncated). *cp gets the code point.
 */
static size_t utf8_seq(const unsigned char *s, size_t n, unsigned long *cp)
{
	size_t len;
	size_t i;
	unsigned long c = s[0];

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	c &= (0x7fUL >> len);
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

static size_t utf8_put(char *out, unsigned long cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Line and column (in characters) of byte offset `pos`; for errors only. */
static void loc_of(const struct parser *p, size_t pos, int *line, int *col)
{
	size_t i;
	int l = 1;
	int c = 1;

	if (pos > p->len)
		pos = p->len;
	for (i = 0; i < pos; i++) {
		unsigned char ch = (unsigned char)p->src[i];

		if (ch == '\n' || (ch == '\r' && at(p, i + 1) != '\n')) {
			l++;
			c = 1;
		} else if ((ch & 0xc0) != 0x80 && ch != '\r') {
			c++;
		}
	}
	*line = l;
	*col = c;
}

/*
 * Copy at most `max` bytes of s[0..n) into out, cut at a character
 * boundary and at any NUL so that messages stay valid UTF-8 strings.
 */
static void clip(char *out, size_t size, const char *s, size_t n, size_t max)
{
	size_t i = 0;
	unsigned long cp;
	size_t k;

	if (n > max)
		n = max;
	if (n > size - 1)
		n = size - 1;
	while (i < n && s[i]) {
		k = utf8_seq((const unsigned char *)s + i, n - i, &cp);
		if (!k)
			break;
		i += k;
	}
	memcpy(out, s, i);
	out[i] = '\0';
}

static int syntax_error(struct parser *p, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int syntax_error(struct parser *p, size_t pos, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	int line;
	int col;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	loc_of(p, pos, &line, &col);
	p->rc = HF_EINVAL;
	return hf_error_at(p->err, HF_EINVAL, NULL, line, col,
			   "Syntax Error: %s", msg);
}

static int oom(struct parser *p)
{
	p->rc = HF_ENOMEM;
	return hf_error_set(p->err, HF_ENOMEM, "out of memory");
}

/* graphql-core's printCodePointAt: 'c', U+XXXX or <EOF>. */
static void code_point_desc(const struct parser *p, size_t pos, char *out,
			    size_t size)
{
	unsigned long cp;
	int c = at(p, pos);

	if (c < 0)
		snprintf(out, size, "<EOF>");
	else if (c >= 0x20 && c <= 0x7e)
		snprintf(out, size, "'%c'", c);
	else if (utf8_seq((const unsigned char *)p->src + pos, p->len - pos,
			  &cp))
		snprintf(out, size, "U+%04lX", cp);
	else
		snprintf(out, size, "U+%04X", (unsigned)c);
}

static void newline(struct parser *p, size_t next)
{
	p->line++;
	p->line_start = next;
	p->cpos = next;
	p->ccol = 1;
}

/* Column of offset `pos` on the current line, amortised linear. */
static int column(struct parser *p, size_t pos)
{
	if (p->cpos < p->line_start || p->cpos > pos) {
		p->cpos = p->line_start;
		p->ccol = 1;
	}
	while (p->cpos < pos) {
		if (((unsigned char)p->src[p->cpos] & 0xc0) != 0x80)
			p->ccol++;
		p->cpos++;
	}
	return p->ccol;
}

static void skip_comment(struct parser *p)
{
	const char *s = p->src;

	while (p->pos < p->len && s[p->pos] != '\n' && s[p->pos] != '\r')
		p->pos++;
}

/* Whitespace, line terminators, commas, comments and byte order marks. */
static void skip_ignored(struct parser *p)
{
	int c;

	for (;;) {
		c = at(p, p->pos);
		if (c == ' ' || c == '\t' || c == ',') {
			/* Keep the column cache up, saving column() a pass. */
			if (p->cpos == p->pos) {
				p->cpos++;
				p->ccol++;
			}
			p->pos++;
		} else if (c == '\n') {
			newline(p, ++p->pos);
		} else if (c == '\r') {
			p->pos += at(p, p->pos + 1) == '\n' ? 2 : 1;
			newline(p, p->pos);
		} else if (c == 0xef && at(p, p->pos + 1) == 0xbb &&
			   at(p, p->pos + 2) == 0xbf) {
			p->pos += 3;
		} else if (c == '#') {
			skip_comment(p);
		} else {
			return;
		}
	}
}

static int read_digits(struct parser *p, size_t *i)
{
	char desc[32];

	if (!is_digit(at(p, *i))) {
		code_point_desc(p, *i, desc, sizeof(desc));
		return syntax_error(p, *i,
				    "Invalid number, expected digit but got: %s.",
				    desc);
	}
	while (is_digit(at(p, *i)))
		(*i)++;
	return 0;
}

static int lex_number(struct parser *p)
{
	size_t i = p->pos;
	int is_float = 0;
	char desc[32];

	if (at(p, i) == '-')
		i++;
	if (at(p, i) == '0') {
		i++;
		if (is_digit(at(p, i))) {
			code_point_desc(p, i, desc, sizeof(desc));
			return syntax_error(p, i,
				"Invalid number, unexpected digit after 0: %s.",
				desc);
		}
	} else if (read_digits(p, &i) < 0) {
		return p->rc;
	}
	if (at(p, i) == '.') {
		is_float = 1;
		i++;
		if (read_digits(p, &i) < 0)
			return p->rc;
	}
	if (at(p, i) == 'e' || at(p, i) == 'E') {
		is_float = 1;
		i++;
		if (at(p, i) == '+' || at(p, i) == '-')
			i++;
		if (read_digits(p, &i) < 0)
			return p->rc;
	}
	if (at(p, i) == '.' || is_name_start(at(p, i))) {
		code_point_desc(p, i, desc, sizeof(desc));
		return syntax_error(p, i,
				    "Invalid number, expected digit but got: %s.",
				    desc);
	}
	p->tok.kind = is_float ? T_FLOAT : T_INT;
	p->pos = i;
	return 0;
}

static int hex_val(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static long hex4(const struct parser *p, size_t i)
{
	long v = 0;
	int d;
	size_t k;

	for (k = 0; k < 4; k++) {
		d = hex_val(at(p, i + k));
		if (d < 0)
			return -1;
		v = (v << 4) | d;
	}
	return v;
}

static int is_scalar(long cp)
{
	return (cp >= 0 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0x10ffff);
}

static int bad_unicode_escape(struct parser *p, size_t i, size_t n)
{
	char shown[32];

	if (i + n > p->len)
		n = p->len - i;
	clip(shown, sizeof(shown), p->src + i, n, n);
	return syntax_error(p, i, "Invalid Unicode escape sequence: '%s'.",
			    shown);
}

/* \u{X...}: at most 12 characters, \u{0} at least. */
static int escape_unicode_var(struct parser *p, size_t i, unsigned long *cp,
			      size_t *size)
{
	long point = 0;
	size_t n = 3;
	int c;
	int d;

	while (n < 12) {
		c = at(p, i + n);
		n++;
		if (c == '}') {
			if (n < 5 || !is_scalar(point))
				break;
			*cp = (unsigned long)point;
			*size = n;
			return 0;
		}
		d = hex_val(c);
		if (d < 0)
			break;
		point = (point << 4) | d;
	}
	return bad_unicode_escape(p, i, n);
}

/* \uXXXX, or a JSON-style surrogate pair \uD83D\uDE00. */
static int escape_unicode(struct parser *p, size_t i, unsigned long *cp,
			  size_t *size)
{
	long code;
	long trail;

	if (at(p, i + 2) == '{')
		return escape_unicode_var(p, i, cp, size);
	code = hex4(p, i + 2);
	if (is_scalar(code)) {
		*cp = (unsigned long)code;
		*size = 6;
		return 0;
	}
	if (code >= 0xd800 && code <= 0xdbff && at(p, i + 6) == '\\' &&
	    at(p, i + 7) == 'u') {
		trail = hex4(p, i + 8);
		if (trail >= 0xdc00 && trail <= 0xdfff) {
			*cp = 0x10000 + ((unsigned long)(code - 0xd800) << 10) +
			      (unsigned long)(trail - 0xdc00);
			*size = 12;
			return 0;
		}
	}
	return bad_unicode_escape(p, i, 6);
}

static int escape_simple(struct parser *p, size_t i, char *out)
{
	static const char from[] = "\"\\/bfnrt";
	static const char to[] = "\"\\/\b\f\n\r\t";
	const char *hit;
	char shown[16];
	unsigned long cp;
	size_t n = 1;
	int c = at(p, i + 1);

	hit = c > 0 ? strchr(from, c) : NULL;
	if (hit) {
		*out = to[hit - from];
		return 0;
	}
	if (c >= 0x80)
		n = utf8_seq((const unsigned char *)p->src + i + 1,
			     p->len - i - 1, &cp);
	clip(shown, sizeof(shown), p->src + i, n + 1, sizeof(shown) - 1);
	return syntax_error(p, i, "Invalid character escape sequence: '%s'.",
			    shown);
}

/* Where the string starting at p->pos probably ends, to size the buffer. */
static size_t string_span(const struct parser *p)
{
	size_t i = p->pos + 1;
	const char *s = p->src;

	while (i < p->len && s[i] != '"' && s[i] != '\n' && s[i] != '\r')
		i += s[i] == '\\' ? 2 : 1;
	return (i < p->len ? i : p->len) - p->pos;
}

static int bad_string_char(struct parser *p, size_t i)
{
	char desc[32];

	code_point_desc(p, i, desc, sizeof(desc));
	return syntax_error(p, i, "Invalid character within String: %s.",
			    desc);
}

/* One escape sequence at i into out; advances i and o. */
static int string_escape(struct parser *p, size_t *i, char *out, size_t *o)
{
	unsigned long cp = 0;
	size_t size = 0;

	if (at(p, *i + 1) < 0)
		return syntax_error(p, *i + 1, "Unterminated string.");
	if (at(p, *i + 1) == 'u') {
		if (escape_unicode(p, *i, &cp, &size) < 0)
			return p->rc;
		*o += utf8_put(out + *o, cp);
		*i += size;
		return 0;
	}
	if (escape_simple(p, *i, out + *o) < 0)
		return p->rc;
	(*o)++;
	*i += 2;
	return 0;
}

static int lex_string(struct parser *p)
{
	size_t i = p->pos + 1;
	size_t o = 0;
	size_t n;
	unsigned long cp;
	char *out;
	int c;

	out = arena_alloc(&p->doc->arena, string_span(p) + 1, 1);
	if (!out)
		return oom(p);
	while ((c = at(p, i)) >= 0 && c != '\n' && c != '\r') {
		if (c == '"') {
			out[o] = '\0';
			p->tok.kind = T_STRING;
			p->tok.str = out;
			p->tok.len = o;
			p->pos = i + 1;
			return 0;
		}
		if (c == '\\') {
			if (string_escape(p, &i, out, &o) < 0)
				return p->rc;
			continue;
		}
		if (c < 0x80) {
			out[o++] = (char)c;
			i++;
			continue;
		}
		n = utf8_seq((const unsigned char *)p->src + i, p->len - i,
			     &cp);
		if (!n)
			return bad_string_char(p, i);
		memcpy(out + o, p->src + i, n);
		o += n;
		i += n;
	}
	return syntax_error(p, i, "Unterminated string.");
}

static int is_triple_quote(const struct parser *p, size_t i)
{
	return at(p, i) == '"' && at(p, i + 1) == '"' && at(p, i + 2) == '"';
}

static size_t leading_ws(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/*
 * The spec's BlockStringValue(): drop the common indentation of all lines
 * but the first, then leading and trailing blank lines. Works in place on
 * lines joined by '\n' and returns the new length.
 */
static size_t dedent(char *s, size_t n)
{
	size_t common = SIZE_MAX, first = SIZE_MAX, last = 0;
	size_t a, b, k, line, w = 0, ind;

	for (a = 0, line = 0; a <= n; a = b + 1, line++) {
		b = a;
		while (b < n && s[b] != '\n')
			b++;
		ind = leading_ws(s + a, b - a);
		if (ind == b - a)
			continue;
		if (first == SIZE_MAX)
			first = line;
		last = line;
		if (line && ind < common)
			common = ind;
	}
	if (first == SIZE_MAX)
		return 0;
	for (a = 0, line = 0; line <= last; a = b + 1, line++) {
		b = a;
		while (b < n && s[b] != '\n')
			b++;
		if (line < first)
			continue;
		k = line ? (common < b - a ? common : b - a) : 0;
		if (line > first)
			s[w++] = '\n';
		memmove(s + w, s + a + k, b - a - k);
		w += b - a - k;
	}
	return w;
}

/* Offset of the closing """ of the block string at p->pos, or len. */
static size_t block_end(const struct parser *p)
{
	size_t i = p->pos + 3;

	while (i < p->len && !is_triple_quote(p, i)) {
		if (p->src[i] == '\\' && is_triple_quote(p, i + 1))
			i += 4;
		else
			i++;
	}
	return i < p->len ? i : p->len;
}

static int lex_block_string(struct parser *p)
{
	size_t end = block_end(p);
	size_t i = p->pos + 3;
	size_t o = 0;
	size_t n;
	unsigned long cp;
	char *out;

	if (end >= p->len)
		return syntax_error(p, p->len, "Unterminated string.");
	out = arena_alloc(&p->doc->arena, end - i + 1, 1);
	if (!out)
		return oom(p);
	while (i < end) {
		if (p->src[i] == '\\' && is_triple_quote(p, i + 1)) {
			memcpy(out + o, "\"\"\"", 3);
			o += 3;
			i += 4;
		} else if (p->src[i] == '\n' || p->src[i] == '\r') {
			i += p->src[i] == '\r' && at(p, i + 1) == '\n' ? 2 : 1;
			out[o++] = '\n';
			newline(p, i);
		} else {
			n = utf8_seq((const unsigned char *)p->src + i,
				     p->len - i, &cp);
			if (!n)
				return bad_string_char(p, i);
			memcpy(out + o, p->src + i, n);
			o += n;
			i += n;
		}
	}
	o = dedent(out, o);
	out[o] = '\0';
	p->tok.kind = T_BLOCK_STRING;
	p->tok.str = out;
	p->tok.len = o;
	p->pos = end + 3;
	return 0;
}

static enum tok punct(int c)
{
	switch (c) {
	case '!':
		return T_BANG;
	case '$':
		return T_DOLLAR;
	case '&':
		return T_AMP;
	case '(':
		return T_LPAREN;
	case ')':
		return T_RPAREN;
	case ':':
		return T_COLON;
	case '=':
		return T_EQUALS;
	case '@':
		return T_AT;
	case '[':
		return T_LBRACKET;
	case ']':
		return T_RBRACKET;
	case '{':
		return T_LBRACE;
	case '|':
		return T_PIPE;
	case '}':
		return T_RBRACE;
	default:
		return T_EOF;
	}
}

static int bad_char(struct parser *p)
{
	unsigned long cp;
	char desc[32];
	int c = at(p, p->pos);

	if (c == '\'')
		return syntax_error(p, p->pos,
				    "Unexpected single quote character ('), "
				    "did you mean to use a double quote (\")?");
	code_point_desc(p, p->pos, desc, sizeof(desc));
	if (c >= 0x80 && !utf8_seq((const unsigned char *)p->src + p->pos,
				   p->len - p->pos, &cp))
		return syntax_error(p, p->pos, "Invalid character: %s.", desc);
	return syntax_error(p, p->pos, "Unexpected character: %s.", desc);
}

/* Read the next token into p->tok. */
static int lex(struct parser *p)
{
	struct token *t = &p->tok;
	int c;
	int rc = 0;

	skip_ignored(p);
	t->start = p->pos;
	t->line = p->line;
	t->col = column(p, p->pos);
	t->str = NULL;
	t->len = 0;
	c = at(p, p->pos);
	t->kind = punct(c);
	if (c < 0 || t->kind != T_EOF) {
		p->pos += c < 0 ? 0 : 1;
	} else if (c == '.' && at(p, p->pos + 1) == '.' &&
		   at(p, p->pos + 2) == '.') {
		t->kind = T_SPREAD;
		p->pos += 3;
	} else if (is_name_start(c)) {
		t->kind = T_NAME;
		while (is_name_char(at(p, p->pos)))
			p->pos++;
	} else if (c == '-' || is_digit(c)) {
		rc = lex_number(p);
	} else if (is_triple_quote(p, p->pos)) {
		rc = lex_block_string(p);
	} else if (c == '"') {
		rc = lex_string(p);
	} else {
		rc = bad_char(p);
	}
	t->end = p->pos;
	return rc;
}

/* --------------------------------------------------------------- parser */

static void *node_new(struct parser *p, size_t size)
{
	void *n;

	if (p->doc->nodes >= HFS_GQL_MAX_NODES) {
		syntax_error(p, p->tok.start,
			     "Document contains more than %d nodes. "
			     "Parsing aborted.",
			     HFS_GQL_MAX_NODES);
		return NULL;
	}
	n = arena_alloc(&p->doc->arena, size, _Alignof(max_align_t));
	if (!n) {
		oom(p);
		return NULL;
	}
	memset(n, 0, size);
	p->doc->nodes++;
	return n;
}

static char *arena_strndup(struct parser *p, const char *s, size_t n)
{
	char *d = arena_alloc(&p->doc->arena, n + 1, 1);

	if (!d) {
		oom(p);
		return NULL;
	}
	memcpy(d, s, n);
	d[n] = '\0';
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
		clip(val, sizeof(val), t->str, t->len, 100);
	else
		clip(val, sizeof(val), p->src + t->start, t->end - t->start,
		     100);
	snprintf(out, size, "%s '%s'", tok_desc[t->kind], val);
}

static int unexpected(struct parser *p)
{
	char desc[160];

	token_desc(p, desc, sizeof(desc));
	return syntax_error(p, p->tok.start, "Unexpected %s.", desc);
}

static int expect(struct parser *p, enum tok kind)
{
	char desc[160];

	if (p->tok.kind == kind)
		return lex(p);
	token_desc(p, desc, sizeof(desc));
	return syntax_error(p, p->tok.start, "Expected %s, found %s.",
			    tok_desc[kind], desc);
}

/* Consume `kind` if it is next: 1 if it was, 0 if not, <0 on error. */
static int optional(struct parser *p, enum tok kind)
{
	if (p->tok.kind != kind)
		return 0;
	return lex(p) < 0 ? p->rc : 1;
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
		return lex(p);
	token_desc(p, desc, sizeof(desc));
	return syntax_error(p, p->tok.start, "Expected '%s', found %s.", kw,
			    desc);
}

static int enter(struct parser *p)
{
	if (++p->depth > HFS_GQL_MAX_DEPTH)
		return syntax_error(p, p->tok.start,
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
	if (!name || lex(p) < 0)
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

	if (!v || enter(p) < 0 || lex(p) < 0)
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
	return lex(p) < 0 ? NULL : v;
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

	if (!v || enter(p) < 0 || lex(p) < 0)
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
	return lex(p) < 0 ? NULL : v;
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
	return lex(p) < 0 ? NULL : v;
}

static struct hfs_gql_value *parse_string(struct parser *p)
{
	struct hfs_gql_value *v = value_new(p, HFS_GQL_STRING);

	if (!v)
		return NULL;
	v->str = p->tok.str;
	v->len = p->tok.len;
	v->block = p->tok.kind == T_BLOCK_STRING;
	return lex(p) < 0 ? NULL : v;
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
		clip(name, sizeof(name), p->src + p->tok.start,
		     p->tok.end - p->tok.start, 100);
		syntax_error(p, start,
			     "Unexpected variable '$%s' in constant value.",
			     name);
		return NULL;
	}
	if (is_const) {
		syntax_error(p, start, "Unexpected '$'.");
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
		if (lex(p) < 0)
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
	if (!nn || lex(p) < 0)
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
	char *s = arena_alloc(&p->doc->arena, n + 1, 1);

	if (!s) {
		oom(p);
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
	if (has_cond && lex(p) < 0)
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

static int parse_selection_set(struct parser *p,
			       struct hfs_gql_selection **out)
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
	if (lex(p) < 0)
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

	if (lex(p) < 0)
		return p->rc;
	if (p->tok.kind != T_NAME)
		return unexpected(p);
	return syntax_error(p, start,
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
	if (lex(p) < 0)
		return p->rc;
	do {
		if (parse_definition(p, &tails) < 0)
			return p->rc;
	} while (p->tok.kind != T_EOF);
	return frag_table_build(p->doc) < 0 ? oom(p) : 0;
}

int hfs_gql_parse(hfs_gql_doc **out, const char *src, size_t len,
		  hf_error *err)
{
	struct arena a = { NULL, 0 };
	struct parser p;
	hfs_gql_doc *doc;

	*out = NULL;
	/* The AST is a few times the size of the text: size blocks to it. */
	a.next_size = len < ARENA_MIN_BLOCK ? ARENA_MIN_BLOCK : len;
	if (a.next_size > ARENA_MAX_BLOCK)
		a.next_size = ARENA_MAX_BLOCK;
	doc = arena_alloc(&a, sizeof(*doc), _Alignof(max_align_t));
	if (!doc)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	memset(doc, 0, sizeof(*doc));
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

/* ------------------------------------------------------------- name set */

/* A temporary open-addressed map from names to small integers. */
struct strmap {
	const char **keys;
	size_t *vals;
	size_t size;
};

static int strmap_init(struct strmap *m, size_t n)
{
	m->size = 8;
	while (m->size < n * 2)
		m->size <<= 1;
	m->keys = hf_calloc(m->size, sizeof(*m->keys));
	m->vals = hf_calloc(m->size, sizeof(*m->vals));
	return m->keys && m->vals ? 0 : HF_ENOMEM;
}

static void strmap_release(struct strmap *m)
{
	hf_free(m->keys);
	hf_free(m->vals);
	m->keys = NULL;
	m->vals = NULL;
}

/* Find `key`, or insert it with `val`: returns the stored slot. */
static size_t strmap_put(struct strmap *m, const char *key, size_t val,
			 int *found)
{
	size_t i = hash_str(key) & (m->size - 1);

	while (m->keys[i] && strcmp(m->keys[i], key))
		i = (i + 1) & (m->size - 1);
	*found = m->keys[i] != NULL;
	if (!*found) {
		m->keys[i] = key;
		m->vals[i] = val;
	}
	return i;
}

/* ----------------------------------------------------------- validation */

#define VALIDATE_MAX_WORK ((size_t)HFS_GQL_MAX_NODES * 8)

struct vfrag {
	unsigned char state; /* 0 new, 1 on the DFS stack, 2 measured */
	unsigned char used;
	int depth;
	size_t fields;
	size_t off; /* its spreads: v->spreads[off .. off + n) */
	size_t n;
	size_t cursor;
	size_t epoch;
};

struct vctx {
	const hfs_gql_doc *doc;
	hf_error *err;
	struct vfrag *frags; /* indexed by fragment table slot */
	const struct hfs_gql_selection **spreads;
	size_t nspreads;
	size_t cap;
	size_t *stack;
	size_t sp;
	size_t work;
	/* per operation, while checking its variables */
	const struct hfs_gql_operation *op;
	struct strmap vars;
	unsigned char *var_used;
};

static int verr(struct vctx *v, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int verr(struct vctx *v, int line, int col, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return hf_error_at(v->err, HF_EINVAL, NULL, line, col, "%s", msg);
}

static int check_operations(struct vctx *v)
{
	const struct hfs_gql_operation *op;
	const struct hfs_gql_operation *first;
	struct strmap names = { NULL, NULL, 0 };
	int found;
	int rc;

	rc = strmap_init(&names, v->doc->nops);
	if (rc < 0)
		goto out;
	for (op = v->doc->ops; op; op = op->next) {
		if (!op->name) {
			if (v->doc->nops > 1) {
				rc = verr(v, op->line, op->col,
					  "This anonymous operation must be "
					  "the only defined operation.");
				goto out;
			}
			continue;
		}
		strmap_put(&names, op->name, 0, &found);
		if (found) {
			/* graphql-core lists the first one first. */
			first = v->doc->ops;
			while (!first->name || strcmp(first->name, op->name))
				first = first->next;
			rc = verr(v, first->name_line, first->name_col,
				  "There can be only one operation named '%s'.",
				  op->name);
			goto out;
		}
	}
out:
	strmap_release(&names);
	return rc < 0 ? rc : 0;
}

static int unknown_fragment(struct vctx *v, const struct hfs_gql_selection *s)
{
	return verr(v, s->name_line, s->name_col, "Unknown fragment '%s'.",
		    s->name);
}

/* Append the fragment spreads of a selection tree to v->spreads. */
static int gather_spreads(struct vctx *v, const struct hfs_gql_selection *s)
{
	const struct hfs_gql_selection **grown;

	for (; s; s = s->next) {
		if (s->kind != HFS_GQL_FRAGMENT_SPREAD) {
			if (gather_spreads(v, s->selections) < 0)
				return HF_ENOMEM;
			continue;
		}
		if (v->nspreads == v->cap) {
			v->cap = v->cap ? v->cap * 2 : 64;
			grown = hf_reallocarray(v->spreads, v->cap,
						sizeof(*grown));
			if (!grown)
				return hf_error_set(v->err, HF_ENOMEM,
						    "out of memory");
			v->spreads = grown;
		}
		v->spreads[v->nspreads++] = s;
	}
	return 0;
}

static int gather_all_spreads(struct vctx *v)
{
	const hfs_gql_doc *doc = v->doc;
	struct vfrag *vf;
	size_t i;
	size_t k;

	for (i = 0; i < doc->frag_tab_size; i++) {
		if (!doc->frag_tab[i])
			continue;
		vf = &v->frags[i];
		vf->off = v->nspreads;
		if (gather_spreads(v, doc->frag_tab[i]->selections) < 0)
			return HF_ENOMEM;
		vf->n = v->nspreads - vf->off;
		for (k = vf->off; k < v->nspreads; k++)
			if (frag_slot(doc, v->spreads[k]->name) < 0)
				return unknown_fragment(v, v->spreads[k]);
	}
	return 0;
}

static size_t sat_add(size_t a, size_t b)
{
	size_t lim = (size_t)HFS_GQL_MAX_EXPANDED + 1;

	return a + b > lim ? lim : a + b;
}

/*
 * Fields and field depth of a selection tree with fragments expanded, from
 * the measures of the fragments it spreads (already known).
 */
static int measure(struct vctx *v, const struct hfs_gql_selection *s,
		   size_t *fields, int *depth)
{
	size_t f;
	int d;
	long slot;

	*fields = 0;
	*depth = 0;
	for (; s; s = s->next) {
		f = 0;
		d = 0;
		if (s->kind == HFS_GQL_FRAGMENT_SPREAD) {
			slot = frag_slot(v->doc, s->name);
			if (slot < 0)
				return unknown_fragment(v, s);
			f = v->frags[slot].fields;
			d = v->frags[slot].depth;
		} else if (measure(v, s->selections, &f, &d) < 0) {
			return HF_EINVAL;
		}
		if (s->kind == HFS_GQL_FIELD) {
			f = sat_add(f, 1);
			d = d < HFS_GQL_MAX_DEPTH * 2 ? d + 1 : d;
		}
		*fields = sat_add(*fields, f);
		*depth = d > *depth ? d : *depth;
	}
	return 0;
}

static int cycle_error(struct vctx *v, const struct hfs_gql_selection *s,
		       size_t target)
{
	char via[300] = "";
	size_t used = 0;
	size_t k = v->sp;
	int n;

	while (k > 0 && v->stack[k - 1] != target)
		k--;
	/* The path starts at the spread `target` is expanding now. */
	if (k > 0)
		s = v->spreads[v->frags[target].off + v->frags[target].cursor -
			       1];
	for (; k < v->sp && used < sizeof(via); k++) {
		n = snprintf(via + used, sizeof(via) - used, "%s'%s'",
			     used ? ", " : " via ",
			     v->doc->frag_tab[v->stack[k]]->name);
		used += n > 0 ? (size_t)n : 0;
	}
	return verr(v, s->line, s->col,
		    "Cannot spread fragment '%s' within itself%s.",
		    v->doc->frag_tab[target]->name, via);
}

/* Depth-first over the fragment graph, without recursion. */
static int walk_fragments_from(struct vctx *v, size_t root)
{
	const struct hfs_gql_selection *s;
	struct vfrag *top;
	size_t j;

	v->sp = 0;
	v->stack[v->sp++] = root;
	v->frags[root].state = 1;
	while (v->sp) {
		top = &v->frags[v->stack[v->sp - 1]];
		if (top->cursor == top->n) {
			if (measure(v, v->doc->frag_tab[v->stack[v->sp - 1]]
					       ->selections,
				    &top->fields, &top->depth) < 0)
				return HF_EINVAL;
			top->state = 2;
			v->sp--;
			continue;
		}
		s = v->spreads[top->off + top->cursor++];
		j = (size_t)frag_slot(v->doc, s->name);
		if (v->frags[j].state == 1)
			return cycle_error(v, s, j);
		if (v->frags[j].state == 0) {
			v->frags[j].state = 1;
			v->stack[v->sp++] = j;
		}
	}
	return 0;
}

static int check_fragments(struct vctx *v)
{
	const hfs_gql_doc *doc = v->doc;
	const struct hfs_gql_fragment *first;
	const struct hfs_gql_fragment *f;
	size_t slot;
	int rc;


	if (doc->dup_frag) {
		first = hfs_gql_doc_fragment(doc, doc->dup_frag->name);
		return verr(v, first->name_line, first->name_col,
			    "There can be only one fragment named '%s'.",
			    first->name);
	}
	rc = gather_all_spreads(v);

	if (rc < 0)
		return rc;
	/* In document order, so a cycle is reported as graphql-core does. */
	for (f = doc->frags; f; f = f->next) {
		slot = (size_t)frag_slot(doc, f->name);
		if (v->frags[slot].state == 0 &&
		    walk_fragments_from(v, slot) < 0)
			return HF_EINVAL;
	}
	return 0;
}

/* Mark a fragment used, and queue it to mark what it spreads. */
static void mark_frag(struct vctx *v, const char *name)
{
	long slot = frag_slot(v->doc, name);

	if (slot >= 0 && !v->frags[slot].used) {
		v->frags[slot].used = 1;
		v->stack[v->sp++] = (size_t)slot;
	}
}

/* Mark fragments spread (directly) in a selection tree as used. */
static void mark_used(struct vctx *v, const struct hfs_gql_selection *s)
{
	for (; s; s = s->next) {
		if (s->kind == HFS_GQL_FRAGMENT_SPREAD)
			mark_frag(v, s->name);
		else
			mark_used(v, s->selections);
	}
}

static int check_usage_and_size(struct vctx *v)
{
	const struct hfs_gql_operation *op;
	const struct hfs_gql_fragment *f;
	struct vfrag *vf;
	size_t fields;
	size_t k;
	int depth;

	v->sp = 0;
	for (op = v->doc->ops; op; op = op->next) {
		if (measure(v, op->selections, &fields, &depth) < 0)
			return HF_EINVAL;
		if (depth > HFS_GQL_MAX_DEPTH)
			return verr(v, op->line, op->col,
				    "Query depth exceeds the limit of %d.",
				    HFS_GQL_MAX_DEPTH);
		if (fields > HFS_GQL_MAX_EXPANDED)
			return verr(v, op->line, op->col,
				    "Query size exceeds the limit of %d "
				    "fields.",
				    HFS_GQL_MAX_EXPANDED);
		mark_used(v, op->selections);
	}
	while (v->sp) {
		vf = &v->frags[v->stack[--v->sp]];
		for (k = vf->off; k < vf->off + vf->n; k++)
			mark_frag(v, v->spreads[k]->name);
	}
	for (f = v->doc->frags; f; f = f->next)
		if (!v->frags[frag_slot(v->doc, f->name)].used)
			return verr(v, f->line, f->col,
				    "Fragment '%s' is never used.", f->name);
	return 0;
}

static long strmap_get(const struct strmap *m, const char *key)
{
	size_t i = hash_str(key) & (m->size - 1);

	while (m->keys[i]) {
		if (!strcmp(m->keys[i], key))
			return (long)i;
		i = (i + 1) & (m->size - 1);
	}
	return -1;
}

static int too_complex(struct vctx *v)
{
	return hf_error_set(v->err, HF_EINVAL, "Query is too complex.");
}

static int use_value(struct vctx *v, const struct hfs_gql_value *val)
{
	const struct hfs_gql_value *item;
	const struct hfs_gql_arg *f;
	long slot;

	if (++v->work > VALIDATE_MAX_WORK)
		return too_complex(v);
	if (val->kind == HFS_GQL_LIST) {
		for (item = val->items; item; item = item->next)
			if (use_value(v, item) < 0)
				return HF_EINVAL;
	} else if (val->kind == HFS_GQL_OBJECT) {
		for (f = val->fields; f; f = f->next)
			if (use_value(v, f->value) < 0)
				return HF_EINVAL;
	} else if (val->kind == HFS_GQL_VARIABLE) {
		slot = strmap_get(&v->vars, val->str);
		if (slot < 0 && v->op->name)
			return verr(v, val->line, val->col,
				    "Variable '$%s' is not defined by "
				    "operation '%s'.",
				    val->str, v->op->name);
		if (slot < 0)
			return verr(v, val->line, val->col,
				    "Variable '$%s' is not defined.",
				    val->str);
		v->var_used[v->vars.vals[slot]] = 1;
	}
	return 0;
}

static int use_args(struct vctx *v, const struct hfs_gql_arg *a)
{
	for (; a; a = a->next)
		if (use_value(v, a->value) < 0)
			return HF_EINVAL;
	return 0;
}

static int use_directives(struct vctx *v, const struct hfs_gql_directive *d)
{
	for (; d; d = d->next)
		if (use_args(v, d->args) < 0)
			return HF_EINVAL;
	return 0;
}

/* Variables used in a tree; spread fragments are queued (once per op). */
static int use_tree(struct vctx *v, const struct hfs_gql_selection *s,
		    size_t epoch)
{
	long slot;

	for (; s; s = s->next) {
		if (++v->work > VALIDATE_MAX_WORK)
			return too_complex(v);
		if (use_args(v, s->args) < 0 ||
		    use_directives(v, s->directives) < 0)
			return HF_EINVAL;
		if (s->kind != HFS_GQL_FRAGMENT_SPREAD) {
			if (use_tree(v, s->selections, epoch) < 0)
				return HF_EINVAL;
			continue;
		}
		slot = frag_slot(v->doc, s->name);
		if (slot >= 0 && v->frags[slot].epoch != epoch) {
			v->frags[slot].epoch = epoch;
			v->stack[v->sp++] = (size_t)slot;
		}
	}
	return 0;
}

static int op_vars_used(struct vctx *v, size_t epoch)
{
	const struct hfs_gql_fragment *f;

	v->sp = 0;
	if (use_directives(v, v->op->directives) < 0 ||
	    use_tree(v, v->op->selections, epoch) < 0)
		return HF_EINVAL;
	while (v->sp) {
		f = v->doc->frag_tab[v->stack[--v->sp]];
		if (use_directives(v, f->directives) < 0 ||
		    use_tree(v, f->selections, epoch) < 0)
			return HF_EINVAL;
	}
	return 0;
}

static int unused_var(struct vctx *v, const struct hfs_gql_vardef *d)
{
	if (v->op->name)
		return verr(v, d->line, d->col,
			    "Variable '$%s' is never used in operation '%s'.",
			    d->name, v->op->name);
	return verr(v, d->line, d->col, "Variable '$%s' is never used.",
		    d->name);
}

static int check_op_vars(struct vctx *v, const struct hfs_gql_operation *op,
			 size_t epoch)
{
	const struct hfs_gql_vardef *d;
	const struct hfs_gql_vardef *first;
	size_t n = 0;
	int found;
	int rc;

	v->op = op;
	for (d = op->vars; d; d = d->next)
		n++;
	rc = strmap_init(&v->vars, n);
	v->var_used = hf_calloc(n + 1, 1);
	if (rc < 0 || !v->var_used) {
		rc = hf_error_set(v->err, HF_ENOMEM, "out of memory");
		goto out;
	}
	for (n = 0, d = op->vars; d; d = d->next, n++) {
		strmap_put(&v->vars, d->name, n, &found);
		if (found) {
			first = op->vars;
			while (strcmp(first->name, d->name))
				first = first->next;
			rc = verr(v, first->name_line, first->name_col,
				  "There can be only one variable named '$%s'.",
				  d->name);
			goto out;
		}
	}
	rc = op_vars_used(v, epoch);
	for (n = 0, d = op->vars; rc == 0 && d; d = d->next, n++)
		if (!v->var_used[n])
			rc = unused_var(v, d);
out:
	strmap_release(&v->vars);
	hf_free(v->var_used);
	v->var_used = NULL;
	return rc;
}

int hfs_gql_validate(const hfs_gql_doc *doc, hf_error *err)
{
	const struct hfs_gql_operation *op;
	struct vctx v;
	size_t epoch = 0;
	int rc;

	memset(&v, 0, sizeof(v));
	v.doc = doc;
	v.err = err;
	v.frags = hf_calloc(doc->frag_tab_size + 1, sizeof(*v.frags));
	v.stack = hf_calloc(doc->frag_tab_size + 1, sizeof(*v.stack));
	if (!v.frags || !v.stack) {
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
		goto out;
	}
	rc = check_operations(&v);
	if (rc == 0)
		rc = check_fragments(&v);
	if (rc == 0)
		rc = check_usage_and_size(&v);
	for (op = doc->ops; rc == 0 && op; op = op->next)
		rc = check_op_vars(&v, op, ++epoch);
out:
	hf_free(v.frags);
	hf_free(v.stack);
	hf_free(v.spreads);
	return rc;
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
		clip(shown, sizeof(shown), name, strlen(name), 200);
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
	json_object_foreach((json_t *)(uintptr_t)v, key, item) {
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
static int coerce_invalid(struct coerce *c, const json_t *val,
			  const char *why, int append)
{
	hf_buf shown = HF_BUF_INIT;
	char val_s[256];
	int rc;

	inspect(&shown, val, 0);
	if (hf_buf_failed(&shown)) {
		rc = hf_error_set(c->err, HF_ENOMEM, "out of memory");
		goto out;
	}
	clip(val_s, sizeof(val_s), shown.ptr, shown.len, 200);
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
				      "value: ", 1);
	if (d < -2147483648.0 || d > 2147483647.0)
		return coerce_invalid(c, val,
				      "Int cannot represent non 32-bit signed "
				      "integer value: ", 1);
	*out = json_integer((json_int_t)d);
	return 0;
}

static int coerce_scalar(json_t **out, const json_t *val, const char *type,
			 struct coerce *c)
{
	if (!strcmp(type, "String") && !json_is_string(val))
		return coerce_invalid(c, val,
				      "String cannot represent a non string "
				      "value: ", 1);
	if (!strcmp(type, "Boolean") && !json_is_boolean(val))
		return coerce_invalid(c, val,
				      "Boolean cannot represent a non boolean "
				      "value: ", 1);
	if (!strcmp(type, "Int"))
		return coerce_int(out, val, c);
	if (!strcmp(type, "Float")) {
		if (!json_is_number(val))
			return coerce_invalid(c, val,
					      "Float cannot represent non "
					      "numeric value: ", 1);
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
		clip(shown, sizeof(shown), tt.ptr, tt.len, 200);
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

static int grow(const struct hfs_gql_selection ***v, size_t *cap, size_t n,
		hf_error *err)
{
	const struct hfs_gql_selection **p;
	size_t want;

	if (n < *cap)
		return 0;
	want = *cap ? *cap * 2 : 32;
	p = hf_reallocarray(*v, want, sizeof(*p));
	if (!p)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	*v = p;
	*cap = want;
	return 0;
}

static int push(struct collector *c, const struct hfs_gql_selection *s)
{
	if (grow(&c->stack, &c->stack_cap, c->sp, c->err) < 0)
		return HF_ENOMEM;
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

static int type_applies(const struct hfs_gql_collect_opts *o,
			const char *cond)
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
	long slot = doc ? frag_slot(doc, s->name) : -1;

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
			rc = grow(&c->fields, &c->fields_cap, c->n, c->err);
			if (rc == 0)
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
	struct strmap m = { NULL, NULL, 0 };
	size_t i;
	size_t slot;
	int found;

	*ngroups = 0;
	if (strmap_init(&m, c->n) < 0) {
		strmap_release(&m);
		return hf_error_set(c->err, HF_ENOMEM, "out of memory");
	}
	for (i = 0; i < c->n; i++) {
		slot = strmap_put(&m, c->fields[i]->key, *ngroups, &found);
		gi[i] = m.vals[slot];
		if (!found)
			(*ngroups)++;
	}
	strmap_release(&m);
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
			 const struct hfs_gql_selection *const *lists,
			 size_t n, hf_error *err)
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
