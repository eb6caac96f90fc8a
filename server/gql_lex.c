/*
 * GraphQL lexer: the tokens of an executable document, one at a time, as
 * graphql-core 3.2 reads them (what Infrahub runs), so that syntax errors
 * read the same. Strings and block strings are decoded into the document's
 * arena. Also the error helpers the parser shares: located syntax errors,
 * out of memory and clipping of quoted text.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gql_int.h"
#include "hf/banned.h"

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

void hfs_gql_clip(char *out, size_t size, const char *s, size_t n, size_t max)
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

int hfs_gql_syntax_error(struct parser *p, size_t pos, const char *fmt, ...)
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

int hfs_gql_oom(struct parser *p)
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
		return hfs_gql_syntax_error(
		        p, *i, "Invalid number, expected digit but got: %s.",
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
			return hfs_gql_syntax_error(
			        p, i,
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
		return hfs_gql_syntax_error(
		        p, i, "Invalid number, expected digit but got: %s.",
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
	hfs_gql_clip(shown, sizeof(shown), p->src + i, n, n);
	return hfs_gql_syntax_error(
	        p, i, "Invalid Unicode escape sequence: '%s'.", shown);
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
	hfs_gql_clip(shown, sizeof(shown), p->src + i, n + 1,
	             sizeof(shown) - 1);
	return hfs_gql_syntax_error(
	        p, i, "Invalid character escape sequence: '%s'.", shown);
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
	return hfs_gql_syntax_error(
	        p, i, "Invalid character within String: %s.", desc);
}

/* One escape sequence at i into out; advances i and o. */
static int string_escape(struct parser *p, size_t *i, char *out, size_t *o)
{
	unsigned long cp = 0;
	size_t size = 0;

	if (at(p, *i + 1) < 0)
		return hfs_gql_syntax_error(p, *i + 1, "Unterminated string.");
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

	out = hf_arena_bytes(&p->doc->arena, string_span(p) + 1);
	if (!out)
		return hfs_gql_oom(p);
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
	return hfs_gql_syntax_error(p, i, "Unterminated string.");
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
		return hfs_gql_syntax_error(p, p->len, "Unterminated string.");
	out = hf_arena_bytes(&p->doc->arena, end - i + 1);
	if (!out)
		return hfs_gql_oom(p);
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
		return hfs_gql_syntax_error(
		        p, p->pos,
		        "Unexpected single quote character ('), "
		        "did you mean to use a double quote (\")?");
	code_point_desc(p, p->pos, desc, sizeof(desc));
	if (c >= 0x80 && !utf8_seq((const unsigned char *)p->src + p->pos,
	                           p->len - p->pos, &cp))
		return hfs_gql_syntax_error(p, p->pos, "Invalid character: %s.",
		                            desc);
	return hfs_gql_syntax_error(p, p->pos, "Unexpected character: %s.",
	                            desc);
}

/* Read the next token into p->tok. */
int hfs_gql_lex(struct parser *p)
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
