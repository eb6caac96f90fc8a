/*
 * Range expansion with the SDK's semantics (see hf/range.h). The SDK works
 * on an escaped copy of the string, replacing `\[` and `\]` with
 * placeholder words and swapping them back at the end; doing the same
 * keeps its odd corners (a placeholder word is itself \w text) identical.
 */
#include <stdint.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/array.h"
#include "hf/buf.h"
#include "hf/range.h"
#include "hf/banned.h"

#define LBRACK "__LBRACK__"
#define RBRACK "__RBRACK__"

struct slist {
	char **v;
	size_t n, cap;
};

struct group {
	size_t start, end; /* [start, end) in the escaped string */
	struct slist vals;
};

static void slist_release(struct slist *l)
{
	hf_range_free(l->v, l->n);
	l->v = NULL;
	l->n = 0;
	l->cap = 0;
}

/* Takes ownership of s, even on failure. */
static int slist_push(struct slist *l, char *s)
{
	if (!s)
		return HF_ENOMEM;
	if (HF_ARRAY_GROW(l->v, l->cap, l->n + 1) < 0) {
		hf_free(s);
		return HF_ENOMEM;
	}
	l->v[l->n++] = s;
	return 0;
}

void hf_range_free(char **list, size_t n)
{
	size_t i;

	if (!list)
		return;
	for (i = 0; i < n; i++)
		hf_free(list[i]);
	hf_free(list);
}

static int is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || c >= 0x80;
}

/* [\w,-] */
static int in_class(unsigned char c)
{
	return is_alnum(c) || c == '_' || c == ',' || c == '-';
}

/*
 * The group starting at s[i] == '[', as the regex finds it: class chars up
 * to the first ']', with at least one '-' or ','. Returns its end or 0.
 */
static size_t group_at(const char *s, size_t len, size_t i)
{
	size_t j = i + 1;
	int sep = 0;

	while (j < len && in_class((unsigned char)s[j])) {
		sep |= s[j] == '-' || s[j] == ',';
		j++;
	}
	return j < len && s[j] == ']' && sep ? j + 1 : 0;
}

int hf_range_has_group(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] == '[' && group_at(s, len, i))
			return 1;
	return 0;
}

/* Python's str.replace(from, to) */
static void replace(hf_buf *out, const char *s, size_t len, const char *from,
                    const char *to)
{
	size_t fl = strlen(from), i = 0;

	while (i < len) {
		if (len - i >= fl && !memcmp(s + i, from, fl)) {
			hf_buf_add(out, to);
			i += fl;
		} else {
			hf_buf_addch(out, s[i++]);
		}
	}
}

/* Two passes, like the SDK: `[` placeholders first, then `]`. */
static char *unescape(const char *s, size_t len)
{
	hf_buf a = HF_BUF_INIT, b = HF_BUF_INIT;
	char *r = NULL;

	replace(&a, s, len, LBRACK, "[");
	replace(&b, a.ptr, a.len, RBRACK, "]");
	if (!hf_buf_failed(&a))
		r = hf_buf_detach(&b);
	hf_buf_release(&a);
	hf_buf_release(&b);
	return r;
}

static int invalid(const char *group, size_t len, hf_error *err)
{
	char *text = unescape(group, len);
	int rc;

	if (!text)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	rc = hf_error_set(err, HF_EINVAL, "invalid range '%s'", text);
	hf_free(text);
	return rc;
}

static int all_digits(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return len > 0;
}

static int is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Decimal value, capped: anything above 10^18 saturates (too many anyway). */
static uint64_t number(const char *s, size_t len)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (v > 100000000000000000ULL)
			return UINT64_MAX;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	return v;
}

static int push_number(struct slist *l, uint64_t v)
{
	hf_buf b = HF_BUF_INIT;

	hf_buf_addf(&b, "%llu", (unsigned long long)v);
	return slist_push(l, hf_buf_detach(&b));
}

static int expand_numbers(struct slist *l, uint64_t a, uint64_t b, size_t max)
{
	uint64_t span = a <= b ? b - a : a - b, i;
	int rc;

	if (span >= max || l->n + span >= max)
		return 1;
	for (i = 0; i <= span; i++) {
		rc = push_number(l, a <= b ? a + i : a - i);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int expand_letters(struct slist *l, char a, char b)
{
	int step = a <= b ? 1 : -1, rc;
	char c[1];

	for (c[0] = a;; c[0] = (char)(c[0] + step)) {
		rc = slist_push(l, hf_strndup(c, 1));
		if (rc < 0 || c[0] == b)
			return rc;
	}
}

/*
 * One comma part with a '-'. Returns 0, 1 when it is invalid, 2 when it
 * expands to more than max, or HF_ENOMEM.
 */
static int expand_dash(struct slist *l, const char *p, size_t len, size_t max)
{
	const char *dash = memchr(p, '-', len);
	size_t sl = (size_t)(dash - p), el = len - sl - 1;
	const char *e = dash + 1;
	int rc;

	if (!sl || !el)
		return 1;
	if (all_digits(p, sl) && all_digits(e, el)) {
		rc = expand_numbers(l, number(p, sl), number(e, el), max);
		return rc == 1 ? 2 : rc;
	}
	if (sl == 1 && el == 1 && is_letter(p[0]) && is_letter(e[0]) &&
	    ((p[0] >= 'a') == (e[0] >= 'a')))
		return expand_letters(l, p[0], e[0]);
	return 1;
}

static int expand_part(struct slist *l, const char *p, size_t len, size_t max)
{
	size_t i;

	if (!len)
		return 1;
	if (memchr(p, '-', len))
		return expand_dash(l, p, len, max);
	for (i = 0; i < len; i++)
		if (!is_alnum((unsigned char)p[i]))
			return 1;
	if (l->n >= max)
		return 2;
	return slist_push(l, hf_strndup(p, len));
}

static int too_many(const char *group, size_t len, size_t max, hf_error *err)
{
	char *text = unescape(group, len);
	int rc;

	if (!text)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	rc = hf_error_set(err, HF_EINVAL,
	                  "range '%s' expands to more than %zu values", text,
	                  max);
	hf_free(text);
	return rc;
}

/* The values of the group s[start, end) (brackets included). */
static int expand_group(struct group *g, const char *s, size_t max,
                        hf_error *err)
{
	const char *p = s + g->start + 1, *end = s + g->end - 1, *comma;
	int rc;

	for (;;) {
		comma = memchr(p, ',', (size_t)(end - p));
		if (!comma)
			comma = end;
		rc = expand_part(&g->vals, p, (size_t)(comma - p), max);
		if (rc == 1)
			return invalid(s + g->start, g->end - g->start, err);
		if (rc == 2)
			return too_many(s + g->start, g->end - g->start, max,
			                err);
		if (rc < 0)
			return hf_error_set(err, rc, "out of memory");
		if (comma == end)
			return 0;
		p = comma + 1;
	}
}

/* The groups of the escaped string, in order; *out NULL when none. */
static int find_groups(struct group **out, size_t *ng, const char *s,
                       size_t len)
{
	size_t i, end, n = 0;
	struct group *g;

	*out = NULL;
	*ng = 0;
	for (i = 0; i < len; i++) {
		end = s[i] == '[' ? group_at(s, len, i) : 0;
		if (end) {
			n++;
			i = end - 1;
		}
	}
	if (!n)
		return 0;
	g = hf_calloc(n, sizeof(*g));
	if (!g)
		return HF_ENOMEM;
	for (i = 0; i < len && *ng < n; i++) {
		end = s[i] == '[' ? group_at(s, len, i) : 0;
		if (!end)
			continue;
		g[*ng].start = i;
		g[*ng].end = end;
		(*ng)++;
		i = end - 1;
	}
	*out = g;
	return 0;
}

/* One result: the text between groups with choice k of each group. */
static char *compose(const char *s, size_t len, const struct group *g,
                     size_t ng, size_t idx, const size_t *stride)
{
	hf_buf b = HF_BUF_INIT;
	size_t k, pos = 0, choice;
	char *r = NULL;

	for (k = 0; k < ng; k++) {
		choice = (idx / stride[k]) % g[k].vals.n;
		hf_buf_addn(&b, s + pos, g[k].start - pos);
		hf_buf_add(&b, g[k].vals.v[choice]);
		pos = g[k].end;
	}
	hf_buf_addn(&b, s + pos, len - pos);
	if (!hf_buf_failed(&b))
		r = unescape(b.ptr, b.len);
	hf_buf_release(&b);
	return r;
}

/* The cartesian product, first group slowest. */
static int product(struct slist *out, const char *s, size_t len,
                   const struct group *g, size_t ng, size_t max, hf_error *err)
{
	size_t *stride, total = 1, k, idx;
	int rc = 0;

	for (k = ng; k-- > 0;) {
		if (g[k].vals.n > max / total)
			return too_many(s + g[0].start,
			                g[ng - 1].end - g[0].start, max, err);
		total *= g[k].vals.n;
	}
	stride = hf_calloc(ng, sizeof(*stride));
	if (!stride)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	for (k = ng, idx = 1; k-- > 0;) {
		stride[k] = idx;
		idx *= g[k].vals.n;
	}
	for (idx = 0; idx < total && !rc; idx++)
		rc = slist_push(out, compose(s, len, g, ng, idx, stride));
	hf_free(stride);
	if (rc < 0)
		return hf_error_set(err, rc, "out of memory");
	return 0;
}

static char *escape(const char *s, size_t len)
{
	hf_buf a = HF_BUF_INIT, b = HF_BUF_INIT;
	char *r = NULL;

	replace(&a, s, len, "\\[", LBRACK);
	replace(&b, a.ptr, a.len, "\\]", RBRACK);
	if (!hf_buf_failed(&a))
		r = hf_buf_detach(&b);
	hf_buf_release(&a);
	hf_buf_release(&b);
	return r;
}

static int expand_escaped(struct slist *res, const char *esc, size_t max,
                          hf_error *err)
{
	struct group *g = NULL;
	size_t ng = 0, k, len = strlen(esc);
	int rc;

	rc = find_groups(&g, &ng, esc, len);
	if (rc < 0) {
		rc = hf_error_set(err, rc, "out of memory");
		goto out;
	}
	if (!ng) {
		rc = slist_push(res, unescape(esc, len));
		if (rc < 0)
			rc = hf_error_set(err, rc, "out of memory");
		goto out;
	}
	for (k = 0; k < ng && !rc; k++)
		rc = expand_group(&g[k], esc, max, err);
	if (!rc)
		rc = product(res, esc, len, g, ng, max, err);
out:
	for (k = 0; k < ng; k++)
		slist_release(&g[k].vals);
	hf_free(g);
	return rc;
}

int hf_range_expand(char ***out, size_t *n, const char *s, size_t len,
                    size_t max, hf_error *err)
{
	struct slist res = { NULL, 0, 0 };
	char *esc = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	if (!max)
		max = HF_RANGE_MAX;
	if (!hf_range_has_group(s, len)) {
		rc = slist_push(&res, hf_strndup(s, len));
		if (rc < 0)
			rc = hf_error_set(err, rc, "out of memory");
		goto out;
	}
	esc = escape(s, len);
	if (!esc) {
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
		goto out;
	}
	rc = expand_escaped(&res, esc, max, err);
out:
	hf_free(esc);
	if (rc < 0) {
		slist_release(&res);
		return rc;
	}
	*out = res.v;
	*n = res.n;
	return 0;
}
