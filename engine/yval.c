/*
 * The position-carrying YAML value tree: accessors and PyYAML-compatible
 * scalar resolution. The resolvers follow PyYAML's Resolver regexes (YAML
 * 1.1), since that is what the Infrahub SDK reads object files with: `1e5`
 * is a string there (a float needs a dot), `0777` is octal and `yes` a
 * bool.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/error.h"
#include "yval_int.h"
#include "hf/banned.h"

/* ---- accessors ---- */

enum hf_yval_type hf_yval_type(const hf_yval *v)
{
	return v ? (enum hf_yval_type)v->type : HF_YVAL_NULL;
}

enum hf_yval_style hf_yval_style(const hf_yval *v)
{
	return v ? (enum hf_yval_style)v->style : HF_YSTYLE_PLAIN;
}

const char *hf_yval_file(const hf_yval *v)
{
	return v ? v->file : NULL;
}

int hf_yval_line(const hf_yval *v)
{
	return v ? v->line : 0;
}

int hf_yval_col(const hf_yval *v)
{
	return v ? v->col : 0;
}

const char *hf_yval_text(const hf_yval *v, size_t *len)
{
	const char *t = NULL;

	if (v && (v->type == HF_YVAL_SCALAR || v->type == HF_YVAL_NULL))
		t = v->text;
	if (len)
		*len = t ? v->len : 0;
	return t;
}

const char *hf_yval_tag(const hf_yval *v)
{
	return v ? yval_tag(v) : NULL;
}

size_t hf_yval_count(const hf_yval *v)
{
	if (!v || (v->type != HF_YVAL_SEQ && v->type != HF_YVAL_MAP))
		return 0;
	return v->n;
}

const hf_yval *hf_yval_item(const hf_yval *v, size_t i)
{
	if (!v || v->type != HF_YVAL_SEQ || i >= v->n)
		return NULL;
	return v->items[i];
}

const hf_yval *hf_yval_key(const hf_yval *v, size_t i)
{
	if (!v || v->type != HF_YVAL_MAP || i >= v->n)
		return NULL;
	return v->items[2 * i];
}

const hf_yval *hf_yval_value(const hf_yval *v, size_t i)
{
	if (!v || v->type != HF_YVAL_MAP || i >= v->n)
		return NULL;
	return v->items[2 * i + 1];
}

const hf_yval *hf_yval_get(const hf_yval *v, const char *key)
{
	size_t i, len = strlen(key);
	const hf_yval *k;

	if (!v || v->type != HF_YVAL_MAP)
		return NULL;
	for (i = 0; i < v->n; i++) {
		k = v->items[2 * i];
		if (k->type != HF_YVAL_SCALAR && k->type != HF_YVAL_NULL)
			continue; /* never: keys are scalars */
		if (k->text && k->len == len && !memcmp(k->text, key, len))
			return v->items[2 * i + 1];
	}
	return NULL;
}

/* ---- YAML 1.1 scalar resolution (PyYAML's implicit resolvers) ---- */

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Every plain scalar is asked: the first byte rules most words out. */
static int one_of(const char *s, size_t len, const char *const *words)
{
	for (; len && *words; words++)
		if ((*words)[0] == s[0] && strlen(*words) == len &&
		    !memcmp(*words, s, len))
			return 1;
	return 0;
}

static int match_null(const char *s, size_t len)
{
	static const char *const w[] = { "~", "null", "Null", "NULL", NULL };

	return len == 0 || (len <= 4 && one_of(s, len, w));
}

static const char *const true_words[] = { "yes",  "Yes", "YES", "true", "True",
	                                  "TRUE", "on",  "On",  "ON",   NULL };
static const char *const false_words[] = { "no",    "No",    "NO",  "false",
	                                   "False", "FALSE", "off", "Off",
	                                   "OFF",   NULL };

/* Every scalar is asked: most are longer than any of the words. */
static int match_bool(const char *s, size_t len)
{
	return len >= 2 && len <= 5 &&
	       (one_of(s, len, true_words) || one_of(s, len, false_words));
}

/* Advance over chars satisfying `ok` and '_'; returns how many. */
static size_t span(const char *s, size_t len, size_t i, int (*ok)(char))
{
	size_t j = i;

	while (j < len && (ok(s[j]) || s[j] == '_'))
		j++;
	return j - i;
}

static int is_bin(char c)
{
	return c == '0' || c == '1';
}

static int is_oct(char c)
{
	return c >= '0' && c <= '7';
}

/* (:[0-5]?[0-9])+ from i; returns the end or 0 when absent. */
static size_t base60_tail(const char *s, size_t len, size_t i)
{
	size_t end = 0;

	while (i < len && s[i] == ':') {
		i++;
		if (i + 1 < len && s[i] >= '0' && s[i] <= '5' &&
		    is_digit(s[i + 1]))
			i += 2;
		else if (i < len && is_digit(s[i]))
			i++;
		else
			return 0;
		end = i;
	}
	return end;
}

static int match_int(const char *s, size_t len)
{
	size_t i = 0, n;

	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	if (i >= len || !is_digit(s[i]))
		return 0;
	if (s[i] == '0' && i + 1 == len)
		return 1;
	if (s[i] == '0' && i + 1 < len) {
		if (s[i + 1] == 'b')
			return (n = span(s, len, i + 2, is_bin)) > 0 &&
			       i + 2 + n == len;
		if (s[i + 1] == 'x')
			return (n = span(s, len, i + 2, is_hex)) > 0 &&
			       i + 2 + n == len;
		return span(s, len, i + 1, is_oct) == len - i - 1;
	}
	n = span(s, len, i + 1, is_digit);
	if (i + 1 + n == len)
		return 1;
	return base60_tail(s, len, i + 1 + n) == len;
}

/* [eE][-+][0-9]+ from i to the end */
static int exp_tail(const char *s, size_t len, size_t i)
{
	if (i == len)
		return 1;
	if (s[i] != 'e' && s[i] != 'E')
		return 0;
	i++;
	if (i >= len || (s[i] != '-' && s[i] != '+'))
		return 0;
	i++;
	if (i >= len)
		return 0;
	while (i < len && is_digit(s[i]))
		i++;
	return i == len;
}

static int match_float_special(const char *s, size_t len, size_t i)
{
	static const char *const inf[] = { "inf", "Inf", "INF", NULL };
	static const char *const nan[] = { "nan", "NaN", "NAN", NULL };

	if (i >= len || s[i] != '.')
		return 0;
	if (one_of(s + i + 1, len - i - 1, inf))
		return 1;
	return i == 0 && one_of(s + 1, len - 1, nan);
}

static int match_float(const char *s, size_t len)
{
	size_t i = 0, n, end;

	if (match_float_special(s, len, 0))
		return 1;
	if (len && s[0] == '.')
		return len > 1 && is_digit(s[1]) &&
		       exp_tail(s, len, 2 + span(s, len, 2, is_digit));
	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	if (match_float_special(s, len, i))
		return 1;
	if (i >= len || !is_digit(s[i]))
		return 0;
	n = span(s, len, i + 1, is_digit);
	i += 1 + n;
	end = base60_tail(s, len, i);
	if (end)
		return end < len && s[end] == '.' &&
		       span(s, len, end + 1, is_digit) == len - end - 1;
	if (i >= len || s[i] != '.')
		return 0;
	i++;
	i += span(s, len, i, is_digit);
	return exp_tail(s, len, i);
}

/* [0-9]{d1}[0-9]{0,extra} from *i */
static int digits(const char *s, size_t len, size_t *i, size_t min, size_t max)
{
	size_t n = 0;

	while (*i < len && n < max && is_digit(s[*i])) {
		(*i)++;
		n++;
	}
	return n >= min;
}

static int lit(const char *s, size_t len, size_t *i, char c)
{
	if (*i < len && s[*i] == c) {
		(*i)++;
		return 1;
	}
	return 0;
}

static void skip_blanks(const char *s, size_t len, size_t *i)
{
	while (*i < len && (s[*i] == ' ' || s[*i] == '\t'))
		(*i)++;
}

static int ts_zone(const char *s, size_t len, size_t i)
{
	skip_blanks(s, len, &i);
	if (i == len)
		return 1;
	if (lit(s, len, &i, 'Z'))
		return i == len;
	if (!lit(s, len, &i, '-') && !lit(s, len, &i, '+'))
		return 0;
	if (!digits(s, len, &i, 1, 2))
		return 0;
	if (lit(s, len, &i, ':') && !digits(s, len, &i, 2, 2))
		return 0;
	return i == len;
}

static int match_timestamp(const char *s, size_t len)
{
	size_t i = 0, t;

	if (!digits(s, len, &i, 4, 4) || !lit(s, len, &i, '-'))
		return 0;
	t = i;
	if (digits(s, len, &t, 2, 2) && lit(s, len, &t, '-') &&
	    digits(s, len, &t, 2, 2) && t == len)
		return 1;
	if (!digits(s, len, &i, 1, 2) || !lit(s, len, &i, '-') ||
	    !digits(s, len, &i, 1, 2))
		return 0;
	t = i;
	skip_blanks(s, len, &i);
	if (i == t && !lit(s, len, &i, 'T') && !lit(s, len, &i, 't'))
		return 0;
	if (!digits(s, len, &i, 1, 2) || !lit(s, len, &i, ':') ||
	    !digits(s, len, &i, 2, 2) || !lit(s, len, &i, ':') ||
	    !digits(s, len, &i, 2, 2))
		return 0;
	if (lit(s, len, &i, '.'))
		digits(s, len, &i, 0, SIZE_MAX);
	return ts_zone(s, len, i);
}

static enum hf_yres resolve_tag(const char *tag)
{
	static const struct {
		const char *suffix;
		enum hf_yres res;
	} tags[] = {
		{ "str", HF_YRES_STR },   { "int", HF_YRES_INT },
		{ "bool", HF_YRES_BOOL }, { "float", HF_YRES_FLOAT },
		{ "null", HF_YRES_NULL }, { "timestamp", HF_YRES_TIMESTAMP },
	};
	static const char prefix[] = "tag:yaml.org,2002:";
	size_t i;

	if (!strcmp(tag, "!"))
		return HF_YRES_STR;
	if (strncmp(tag, prefix, sizeof(prefix) - 1))
		return HF_YRES_NONE;
	for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if (!strcmp(tag + sizeof(prefix) - 1, tags[i].suffix))
			return tags[i].res;
	return HF_YRES_NONE;
}

enum hf_yres hf_yval_resolve(const hf_yval *v)
{
	enum hf_yres r;

	if (!v || (v->type != HF_YVAL_SCALAR && v->type != HF_YVAL_NULL))
		return HF_YRES_NONE;
	if (yval_tag(v)) {
		r = resolve_tag(yval_tag(v));
		if (r != HF_YRES_NONE)
			return r;
	}
	if (v->style != HF_YSTYLE_PLAIN)
		return HF_YRES_STR;
	if (match_null(v->text, v->len))
		return HF_YRES_NULL;
	if (match_bool(v->text, v->len))
		return HF_YRES_BOOL;
	if (match_int(v->text, v->len))
		return HF_YRES_INT;
	if (match_float(v->text, v->len))
		return HF_YRES_FLOAT;
	if (match_timestamp(v->text, v->len))
		return HF_YRES_TIMESTAMP;
	return HF_YRES_STR;
}

int hf_yval_is_string(const hf_yval *v)
{
	return hf_yval_resolve(v) == HF_YRES_STR;
}

const char *hf_yval_describe(const hf_yval *v)
{
	switch (hf_yval_type(v)) {
	case HF_YVAL_SEQ:
		return "a list";
	case HF_YVAL_MAP:
		return "a mapping";
	default:
		break;
	}
	switch (hf_yval_resolve(v)) {
	case HF_YRES_BOOL:
		return "a boolean";
	case HF_YRES_INT:
		return "an integer";
	case HF_YRES_FLOAT:
		return "a number";
	case HF_YRES_TIMESTAMP:
		return "a timestamp";
	case HF_YRES_STR:
		return "a string";
	default:
		return "null";
	}
}

/* Accumulate digits of `base`, skipping '_'; HF_EINVAL on overflow. */
static int accumulate(const char *s, size_t len, unsigned base,
                      unsigned long long *out)
{
	unsigned long long acc = 0;
	unsigned d;
	size_t i, nd = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '_')
			continue;
		if (is_digit(s[i]))
			d = (unsigned)(s[i] - '0');
		else
			d = (unsigned)((s[i] | 0x20) - 'a' + 10);
		if (acc > (ULLONG_MAX - d) / base)
			return HF_EINVAL;
		acc = acc * base + d;
		nd++;
	}
	*out = acc;
	return nd ? 0 : HF_EINVAL;
}

static int base60(const char *s, size_t len, unsigned long long *out)
{
	unsigned long long acc = 0, part;
	size_t i = 0, j;

	while (i <= len) {
		j = i;
		while (j < len && s[j] != ':')
			j++;
		if (accumulate(s + i, j - i, 10, &part) < 0 ||
		    acc > (ULLONG_MAX - part) / 60)
			return HF_EINVAL;
		acc = acc * 60 + part;
		i = j + 1;
	}
	*out = acc;
	return 0;
}

static int parse_magnitude(const char *s, size_t len, unsigned long long *out)
{
	if (len >= 2 && s[0] == '0' && s[1] == 'b')
		return accumulate(s + 2, len - 2, 2, out);
	if (len >= 2 && s[0] == '0' && s[1] == 'x')
		return accumulate(s + 2, len - 2, 16, out);
	if (memchr(s, ':', len))
		return base60(s, len, out);
	if (len >= 2 && s[0] == '0')
		return accumulate(s + 1, len - 1, 8, out);
	return accumulate(s, len, 10, out);
}

int hf_yval_as_int(const hf_yval *v, long long *out)
{
	unsigned long long mag;
	const char *s;
	size_t len;
	int neg = 0;

	if (hf_yval_resolve(v) != HF_YRES_INT || !match_int(v->text, v->len))
		return HF_EINVAL;
	s = v->text;
	len = v->len;
	if (*s == '-' || *s == '+') {
		neg = *s == '-';
		s++;
		len--;
	}
	if (parse_magnitude(s, len, &mag) < 0)
		return HF_EINVAL;
	if (neg && mag > (unsigned long long)LLONG_MAX + 1)
		return HF_EINVAL;
	if (!neg && mag > (unsigned long long)LLONG_MAX)
		return HF_EINVAL;
	if (!neg)
		*out = (long long)mag;
	else if (mag == (unsigned long long)LLONG_MAX + 1)
		*out = LLONG_MIN;
	else
		*out = -(long long)mag;
	return 0;
}

int hf_yval_as_bool(const hf_yval *v, int *out)
{
	if (hf_yval_resolve(v) != HF_YRES_BOOL)
		return HF_EINVAL;
	if (one_of(v->text, v->len, true_words))
		*out = 1;
	else if (one_of(v->text, v->len, false_words))
		*out = 0;
	else
		return HF_EINVAL;
	return 0;
}
