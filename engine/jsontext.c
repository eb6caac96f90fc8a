/*
 * Compact JSON text, byte for byte what jansson's json_dumps() writes with
 * JSON_COMPACT | JSON_ENCODE_ANY (and JSON_SORT_KEYS on request), into a
 * reusable buffer. See hf/jsontext.h.
 */
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
