/*
 * Compact JSON text, byte for byte what jansson's json_dumps() writes with
 * JSON_COMPACT | JSON_ENCODE_ANY (and JSON_SORT_KEYS on request), into a
 * reusable buffer. See hf/jsontext.h.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/error.h"
#include "hf/jsontext.h"
#include "hf/banned.h"

/* Length of the UTF-8 sequence starting at s (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned int cp;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

static const char *short_escape(unsigned char c)
{
	switch (c) {
	case '\\':
		return "\\\\";
	case '"':
		return "\\\"";
	case '\b':
		return "\\b";
	case '\f':
		return "\\f";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	default:
		return NULL;
	}
}

int hf_json_write_string(hf_buf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0, len;
	const char *esc;
	char seq[8];

	hf_buf_addch(b, '"');
	while (i < n) {
		if (s[i] >= 0x20 && s[i] != '"' && s[i] != '\\') {
			len = s[i] < 0x80 ? 1 : utf8_len(s + i, n - i);
			if (!len)
				return HF_EINVAL;
			i += len;
			continue;
		}
		hf_buf_addn(b, s + run, i - run);
		esc = short_escape(s[i]);
		if (!esc) {
			snprintf(seq, sizeof(seq), "\\u%04X",
			         (unsigned int)s[i]);
			esc = seq;
		}
		hf_buf_add(b, esc);
		run = ++i;
	}
	hf_buf_addn(b, s + run, n - run);
	hf_buf_addch(b, '"');
	return hf_buf_failed(b) ? HF_ENOMEM : 0;
}

/* Reals as jansson prints them: "%.17g", a ".0" when it reads as an integer. */
static int write_real(hf_buf *b, double v)
{
	json_t *r = json_real(v);
	char *t = r ? json_dumps(r, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

	json_decref(r);
	if (!t)
		return r ? HF_EINVAL : HF_ENOMEM;
	hf_buf_add(b, t);
	hf_free(t);
	return hf_buf_failed(b) ? HF_ENOMEM : 0;
}

struct key {
	const char *k;
	size_t n;
	json_t *v;
};

/* jansson's order: bytes, then the shorter key first */
static int cmp_key(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	int r = memcmp(x->k, y->k, x->n < y->n ? x->n : y->n);

	if (r)
		return r;
	return x->n < y->n ? -1 : x->n > y->n;
}

static int write_object(hf_buf *b, const json_t *j, int flags);

static int write_array(hf_buf *b, const json_t *j, int flags)
{
	size_t i, n = json_array_size(j);
	int rc = 0;

	hf_buf_addch(b, '[');
	for (i = 0; rc == 0 && i < n; i++) {
		if (i)
			hf_buf_addch(b, ',');
		rc = hf_json_write(b, json_array_get(j, i), flags);
	}
	hf_buf_addch(b, ']');
	return rc ? rc : hf_buf_failed(b) ? HF_ENOMEM : 0;
}

static int write_member(hf_buf *b, const struct key *k, int first, int flags)
{
	int rc;

	if (!first)
		hf_buf_addch(b, ',');
	rc = hf_json_write_string(b, k->k, k->n);
	hf_buf_addch(b, ':');
	return rc ? rc : hf_json_write(b, k->v, flags);
}

/* Up to this many keys are sorted on the stack. */
#define STACK_KEYS 16

static int write_object(hf_buf *b, const json_t *j, int flags)
{
	struct key stack[STACK_KEYS], *keys = stack;
	size_t i = 0, n = json_object_size(j);
	const char *k;
	size_t kn;
	json_t *v;
	int rc = 0;

	if (n > STACK_KEYS && !(keys = hf_calloc(n, sizeof(*keys))))
		return HF_ENOMEM;
	/* iterating does not change the object, which is what const promises */
	json_object_keylen_foreach((json_t *)(uintptr_t)j, k, kn, v)
	{
		if (i < n)
			keys[i++] = (struct key){ k, kn, v };
	}
	if ((flags & HF_JSON_SORTED) && i > 1)
		qsort(keys, i, sizeof(*keys), cmp_key);
	hf_buf_addch(b, '{');
	for (n = 0; rc == 0 && n < i; n++)
		rc = write_member(b, &keys[n], n == 0, flags);
	hf_buf_addch(b, '}');
	if (keys != stack)
		hf_free(keys);
	return rc ? rc : hf_buf_failed(b) ? HF_ENOMEM : 0;
}

int hf_json_write(hf_buf *b, const json_t *j, int flags)
{
	char num[32];

	if (!j)
		return HF_EINVAL;
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return write_object(b, j, flags);
	case JSON_ARRAY:
		return write_array(b, j, flags);
	case JSON_STRING:
		return hf_json_write_string(b, json_string_value(j),
		                            json_string_length(j));
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		         json_integer_value(j));
		hf_buf_add(b, num);
		break;
	case JSON_REAL:
		return write_real(b, json_real_value(j));
	case JSON_TRUE:
		hf_buf_add(b, "true");
		break;
	case JSON_FALSE:
		hf_buf_add(b, "false");
		break;
	default:
		hf_buf_add(b, "null");
		break;
	}
	return hf_buf_failed(b) ? HF_ENOMEM : 0;
}

/* Past the string literal at s[i] (its opening quote), or 0 if unclosed. */
static size_t string_end(const char *s, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
		else if ((unsigned char)s[i] < 0x20)
			return 0;
	}
	return 0;
}

size_t hf_json_value_len(const char *s, size_t n)
{
	size_t i = 0, depth = 0;

	if (!n)
		return 0;
	if (s[0] == '"')
		return string_end(s, n, 0);
	if (s[0] != '[' && s[0] != '{') {
		while (i < n && !strchr(",]}: \t\r\n\"[{", s[i]))
			i++;
		return i;
	}
	while (i < n) {
		switch (s[i]) {
		case '"':
			i = string_end(s, n, i);
			if (!i)
				return 0;
			continue;
		case '[':
		case '{':
			depth++;
			break;
		case ']':
		case '}':
			if (--depth == 0)
				return i + 1;
			break;
		case '\n':
		case '\r':
			return 0; /* compact text is one line */
		default:
			break;
		}
		i++;
	}
	return 0;
}

/* ---- validation: RFC 8259 as jansson decodes it, no tree -------------- */

#define VALID_DEPTH 2048 /* jansson's JSON_PARSER_MAX_DEPTH */

struct vstate {
	const unsigned char *s;
	size_t n, i;
};

static void vspace(struct vstate *v)
{
	while (v->i < v->n && (v->s[v->i] == ' ' || v->s[v->i] == '\t' ||
	                       v->s[v->i] == '\n' || v->s[v->i] == '\r'))
		v->i++;
}

static int vhex4(struct vstate *v, unsigned *out)
{
	unsigned c, k;

	*out = 0;
	if (v->n - v->i < 4)
		return 0;
	for (k = 0; k < 4; k++) {
		c = v->s[v->i++];
		*out <<= 4;
		if (c >= '0' && c <= '9')
			*out |= c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			*out |= (c | 0x20) - 'a' + 10;
		else
			return 0;
	}
	return 1;
}

/* After a backslash: an escape jansson takes (no \u0000, pairs whole). */
static int vescape(struct vstate *v)
{
	unsigned u, lo;

	if (v->i >= v->n)
		return 0;
	switch (v->s[v->i++]) {
	case '"':
	case '\\':
	case '/':
	case 'b':
	case 'f':
	case 'n':
	case 'r':
	case 't':
		return 1;
	case 'u':
		if (!vhex4(v, &u) || u == 0 || (u >= 0xdc00 && u <= 0xdfff))
			return 0;
		if (u < 0xd800 || u > 0xdbff)
			return 1;
		if (v->n - v->i < 2 || v->s[v->i] != '\\' ||
		    v->s[v->i + 1] != 'u')
			return 0;
		v->i += 2;
		return vhex4(v, &lo) && lo >= 0xdc00 && lo <= 0xdfff;
	default:
		return 0;
	}
}

static int vstring(struct vstate *v)
{
	size_t len;

	v->i++; /* the opening quote */
	while (v->i < v->n) {
		if (v->s[v->i] == '"') {
			v->i++;
			return 1;
		}
		if (v->s[v->i] == '\\') {
			v->i++;
			if (!vescape(v))
				return 0;
			continue;
		}
		if (v->s[v->i] < 0x20)
			return 0;
		len = utf8_len(v->s + v->i, v->n - v->i);
		if (!len)
			return 0;
		v->i += len;
	}
	return 0;
}

static int vdigits(struct vstate *v)
{
	size_t from = v->i;

	while (v->i < v->n && v->s[v->i] >= '0' && v->s[v->i] <= '9')
		v->i++;
	return v->i > from;
}

/*
 * What jansson refuses of a number well formed: an integer beyond
 * json_int_t (it does not turn it into a real), a real beyond double.
 */
static int vnumber_fits(const unsigned char *t, size_t len, int real)
{
	static const char max[] = "9223372036854775807";
	char buf[512];
	size_t d = len - (t[0] == '-');
	double x;

	if (!real) {
		if (d != sizeof(max) - 1)
			return d < sizeof(max) - 1;
		/* the negative side holds one more */
		return memcmp(t + len - d, max, d) <= 0 ||
		       (t[0] == '-' &&
		        !memcmp(t + 1, "9223372036854775808", d));
	}
	if (len >= sizeof(buf))
		return 1; /* a long real: its digits are not read here */
	memcpy(buf, t, len);
	buf[len] = '\0';
	x = strtod(buf, NULL);
	return isfinite(x);
}

static int vnumber(struct vstate *v)
{
	size_t from = v->i;
	int real = 0;

	if (v->s[v->i] == '-')
		v->i++;
	if (v->i < v->n && v->s[v->i] == '0')
		v->i++;
	else if (!vdigits(v))
		return 0;
	if (v->i < v->n && v->s[v->i] == '.') {
		v->i++;
		real = 1;
		if (!vdigits(v))
			return 0;
	}
	if (v->i < v->n && (v->s[v->i] | 0x20) == 'e') {
		v->i++;
		real = 1;
		if (v->i < v->n && (v->s[v->i] == '+' || v->s[v->i] == '-'))
			v->i++;
		if (!vdigits(v))
			return 0;
	}
	return vnumber_fits(v->s + from, v->i - from, real);
}

static int vword(struct vstate *v, const char *w)
{
	size_t n = strlen(w);

	if (v->n - v->i < n || memcmp(v->s + v->i, w, n))
		return 0;
	v->i += n;
	return 1;
}

static int vvalue(struct vstate *v, int depth);

/* The members of an object or items of an array, after its bracket. */
static int vcontainer(struct vstate *v, int depth, int object)
{
	unsigned char close = object ? '}' : ']';

	if (depth >= VALID_DEPTH)
		return 0;
	v->i++;
	vspace(v);
	if (v->i < v->n && v->s[v->i] == close) {
		v->i++;
		return 1;
	}
	for (;;) {
		if (object) {
			if (v->i >= v->n || v->s[v->i] != '"' || !vstring(v))
				return 0;
			vspace(v);
			if (v->i >= v->n || v->s[v->i++] != ':')
				return 0;
		}
		if (!vvalue(v, depth + 1))
			return 0;
		vspace(v);
		if (v->i >= v->n)
			return 0;
		if (v->s[v->i] == close) {
			v->i++;
			return 1;
		}
		if (v->s[v->i++] != ',')
			return 0;
		vspace(v);
	}
}

static int vvalue(struct vstate *v, int depth)
{
	vspace(v);
	if (v->i >= v->n)
		return 0;
	switch (v->s[v->i]) {
	case '{':
		return vcontainer(v, depth, 1);
	case '[':
		return vcontainer(v, depth, 0);
	case '"':
		return vstring(v);
	case 't':
		return vword(v, "true");
	case 'f':
		return vword(v, "false");
	case 'n':
		return vword(v, "null");
	default:
		return v->s[v->i] == '-' ||
		                       (v->s[v->i] >= '0' && v->s[v->i] <= '9')
		               ? vnumber(v)
		               : 0;
	}
}

int hf_json_valid(const char *s, size_t n)
{
	struct vstate v = { (const unsigned char *)s, n, 0 };

	if (!vvalue(&v, 0))
		return 0;
	vspace(&v);
	return v.i == n;
}
