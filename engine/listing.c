/*
 * Listing pages read from their text (see hf/listing.h): a small strict
 * reader for the one shape a page has. Every function returns 0, NO (the
 * page is declined) or HF_ENOMEM; the first NO unwinds to
 * hf_listing_read(), which drops what was read.
 */
#include <stdint.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/array.h"
#include "hf/buf.h"
#include "hf/listing.h"
#include "hf/model.h"
#include "hf/banned.h"

#define NO 1

/* jansson refuses a value nested deeper than this (JSON_PARSER_MAX_DEPTH) */
#define MAX_DEPTH 2048
/* the depth, as jansson counts it, of an attribute's value in a page:
   answer, data, listing, edges, edge, node, field, value */
#define VALUE_DEPTH 8

struct rd {
	const char *p, *end;
	hf_buf tmp; /* a string with escapes, decoded */
	struct hf_listing_page *pg;
	const struct hf_listing_field *f;
	size_t nf;
	size_t *flen; /* strlen of each field's name */
	unsigned char *seen; /* per field, in the node being read */
	const char *kind; /* the listing's member of data */
};

static void ws(struct rd *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' ||
	                         *r->p == '\r' || *r->p == '\t'))
		r->p++;
}

/* Whether the next character (after whitespace) is `c`; taken when it is. */
static int take(struct rd *r, char c)
{
	ws(r);
	if (r->p < r->end && *r->p == c) {
		r->p++;
		return 1;
	}
	return 0;
}

static int peek(struct rd *r)
{
	ws(r);
	return r->p < r->end ? (unsigned char)*r->p : -1;
}

/*
 * The length of the UTF-8 sequence at s (first byte >= 0x80), 0 when it
 * is not one RFC 3629 allows: no overlong forms, no surrogates, nothing
 * above U+10FFFF (what jansson refuses).
 */
static size_t utf8_len(const unsigned char *s, const unsigned char *end)
{
	unsigned cp;
	size_t n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1fu;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0fu;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07u;
	} else {
		return 0;
	}
	if ((size_t)(end - s) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Four hex digits at s (within end) as a number, or -1. */
static long hex4(const unsigned char *s, const unsigned char *end)
{
	long v = 0;
	int i;

	if (end - s < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		v <<= 4;
		if (s[i] >= '0' && s[i] <= '9')
			v |= s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			v |= s[i] - 'a' + 10;
		else if (s[i] >= 'A' && s[i] <= 'F')
			v |= s[i] - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static void put_utf8(hf_buf *b, unsigned long cp)
{
	char u[4];

	if (cp < 0x80) {
		u[0] = (char)cp;
		hf_buf_addn(b, u, 1);
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		hf_buf_addn(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		hf_buf_addn(b, u, 3);
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		hf_buf_addn(b, u, 4);
	}
}

/*
 * The escape after a backslash at *pp, decoded into r->tmp as jansson
 * decodes it; \u0000 (refused without JSON_ALLOW_NUL) and surrogates
 * that do not pair decline.
 */
static int unescape(struct rd *r, const unsigned char **pp,
                    const unsigned char *end)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const unsigned char *p = *pp;
	const char *at;
	long cp, lo;

	if (p == end)
		return NO;
	if (*p != 'u') {
		at = *p ? strchr(from, *p) : NULL;
		if (!at)
			return NO;
		hf_buf_addn(&r->tmp, &to[at - from], 1);
		*pp = p + 1;
		return 0;
	}
	cp = hex4(p + 1, end);
	if (cp <= 0 || (cp >= 0xdc00 && cp <= 0xdfff))
		return NO;
	p += 5;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (end - p < 2 || p[0] != '\\' || p[1] != 'u')
			return NO;
		lo = hex4(p + 2, end);
		if (lo < 0xdc00 || lo > 0xdfff)
			return NO;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		p += 6;
	}
	put_utf8(&r->tmp, (unsigned long)cp);
	*pp = p;
	return 0;
}

/*
 * A string: *s and *n are its bytes, in the text when it has no escapes,
 * else in r->tmp (good until the next string). Control characters and
 * bytes that are not UTF-8 decline, as jansson refuses them.
 */
static int str(struct rd *r, const char **s, size_t *n)
{
	const unsigned char *end = (const unsigned char *)r->end;
	const unsigned char *p, *start, *seg;
	size_t k;
	int esc = 0, rc;

	if (!take(r, '"'))
		return NO;
	p = start = seg = (const unsigned char *)r->p;
	while (p < end && *p != '"') {
		if (*p < 0x20)
			return NO;
		if (*p >= 0x80) {
			k = utf8_len(p, end);
			if (!k)
				return NO;
			p += k;
			continue;
		}
		if (*p != '\\') {
			p++;
			continue;
		}
		if (!esc)
			hf_buf_reset(&r->tmp);
		esc = 1;
		hf_buf_addn(&r->tmp, seg, (size_t)(p - seg));
		p++;
		rc = unescape(r, &p, end);
		if (rc)
			return rc;
		seg = p;
	}
	if (p == end)
		return NO;
	if (esc) {
		hf_buf_addn(&r->tmp, seg, (size_t)(p - seg));
		if (hf_buf_failed(&r->tmp))
			return HF_ENOMEM;
		*s = r->tmp.ptr;
		*n = r->tmp.len;
	} else {
		*s = (const char *)start;
		*n = (size_t)(p - start);
	}
	r->p = (const char *)p + 1;
	return 0;
}

/* A member's key and its colon. */
static int key(struct rd *r, const char **k, size_t *n)
{
	int rc = str(r, k, n);

	return rc ? rc : take(r, ':') ? 0 : NO;
}

/*
 * Members of an object: call with *first 1 after '{'. Returns 0 with
 * *more set: 1 when a member follows (its key is next), 0 when the
 * object ended ('}' taken).
 */
static int member(struct rd *r, int *first, int *more)
{
	if (take(r, '}')) {
		*more = 0;
		return 0;
	}
	if (!*first && !take(r, ','))
		return NO;
	*first = 0;
	*more = 1;
	return 0;
}

/* Each member of an object, its key taken: fn(r, key, length, arg). */
typedef int (*key_fn)(struct rd *r, const char *k, size_t n, void *arg);

static int object(struct rd *r, key_fn fn, void *arg)
{
	int first = 1, more, rc;
	const char *k;
	size_t n;

	if (!take(r, '{'))
		return NO;
	for (;;) {
		if ((rc = member(r, &first, &more)) || !more)
			return rc;
		if ((rc = key(r, &k, &n)) || (rc = fn(r, k, n, arg)))
			return rc;
	}
}

static int is(const char *k, size_t n, const char *name)
{
	return strlen(name) == n && !memcmp(k, name, n);
}

static int keyword(struct rd *r, const char *word)
{
	size_t n = strlen(word);

	ws(r);
	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n))
		return NO;
	r->p += n;
	return 0;
}

/*
 * A number's extent per RFC 8259 from r->p: *real tells a fraction or
 * exponent (jansson then reads a real). Not consumed.
 */
static int number_end(struct rd *r, const char **out, int *real)
{
	const char *p = r->p, *end = r->end;

	*real = 0;
	if (p < end && *p == '-')
		p++;
	if (p == end || *p < '0' || *p > '9')
		return NO;
	if (*p == '0')
		p++;
	else
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	if (p < end && *p == '.') {
		*real = 1;
		if (++p == end || *p < '0' || *p > '9')
			return NO;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		*real = 1;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p == end || *p < '0' || *p > '9')
			return NO;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	/* "1x": jansson reads one token and refuses it */
	if (p < end && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		return NO;
	*out = p;
	return 0;
}

/* An integer jansson reads as one (json_int_t, no overflow). */
static int integer(struct rd *r, json_int_t *v)
{
	const char *p, *end;
	unsigned long long u = 0, lim;
	int real, neg, rc;

	ws(r);
	rc = number_end(r, &end, &real);
	if (rc || real)
		return NO;
	p = r->p;
	neg = *p == '-';
	p += neg;
	lim = neg ? (unsigned long long)INT64_MAX + 1
	          : (unsigned long long)INT64_MAX;
	for (; p < end; p++) {
		if (u > (lim - (unsigned long long)(*p - '0')) / 10)
			return NO;
		u = u * 10 + (unsigned long long)(*p - '0');
	}
	*v = neg ? (json_int_t)(0 - u) : (json_int_t)u;
	r->p = end;
	return 0;
}

/*
 * Whether a value of `len` bytes at s nests deeper than jansson allows
 * at depth `base`: the number of open brackets, counted outside strings,
 * plus one for what they hold (one too many when the innermost is empty:
 * such a page is declined, never misread).
 */
static int too_deep(const char *s, size_t len, int base)
{
	int depth = 0, max = 0, in = 0;
	size_t i;

	if (len + (size_t)base < MAX_DEPTH)
		return 0;
	for (i = 0; i < len; i++) {
		if (in) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in = 0;
		} else if (s[i] == '"') {
			in = 1;
		} else if (s[i] == '[' || s[i] == '{') {
			if (++depth > max)
				max = depth;
		} else if (s[i] == ']' || s[i] == '}') {
			depth--;
		}
	}
	return base + max + 1 > MAX_DEPTH;
}

/* A value left to jansson (objects, arrays, reals), as it reads it. */
static int general(struct rd *r, json_t **out)
{
	json_error_t e;
	json_t *v = json_loadb(r->p, (size_t)(r->end - r->p),
	                       JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK |
	                               JSON_REJECT_DUPLICATES,
	                       &e);

	if (!v)
		return NO;
	if (e.position <= 0 ||
	    too_deep(r->p, (size_t)e.position, VALUE_DEPTH - 1)) {
		json_decref(v);
		return NO;
	}
	r->p += e.position;
	*out = v;
	return 0;
}

/*
 * A string just read (by str()) kept for the page: where it is in the
 * text, or a copy in the page's arena when escapes made it in r->tmp.
 */
static int kept(struct rd *r, const char *s, size_t n,
                struct hf_listing_str *out)
{
	if (s == r->tmp.ptr)
		s = hf_arena_strndup(&r->pg->strings, s, n);
	out->s = s;
	out->n = n;
	return s ? 0 : HF_ENOMEM;
}

/* An attribute's value: scalars read here, the rest by jansson. */
static int value(struct rd *r, struct hf_listing_value *v)
{
	const char *s, *end;
	size_t n;
	int c = peek(r), real, rc;

	if (c == '"') {
		v->kind = HF_LV_STRING;
		rc = str(r, &s, &n);
		return rc ? rc : kept(r, s, n, &v->str);
	}
	if (c == '-' || (c >= '0' && c <= '9')) {
		rc = number_end(r, &end, &real);
		if (rc)
			return rc;
		v->kind = real ? HF_LV_JSON : HF_LV_INT;
		return real ? general(r, &v->value) : integer(r, &v->i);
	}
	if (c == 't' || c == 'f' || c == 'n') {
		v->kind = c == 't'   ? HF_LV_TRUE
		          : c == 'f' ? HF_LV_FALSE
		                     : HF_LV_NULL;
		return keyword(r, c == 't'   ? "true"
		                  : c == 'f' ? "false"
		                             : "null");
	}
	if (c != '{' && c != '[')
		return NO;
	v->kind = HF_LV_JSON;
	return general(r, &v->value);
}

/* The one member `name` of an object, read by fn(r, arg). */
typedef int (*member_fn)(struct rd *r, void *arg);

/*
 * An object whose only member is `name` (read by `fn`), given once;
 * `optional`: the member may be missing, and the object be null.
 */
static int only(struct rd *r, const char *name, int optional, member_fn fn,
                void *arg)
{
	int first = 1, more, rc, had = 0;
	const char *k;
	size_t n;

	if (optional && peek(r) == 'n')
		return keyword(r, "null");
	if (!take(r, '{'))
		return NO;
	for (;;) {
		if ((rc = member(r, &first, &more)))
			return rc;
		if (!more)
			return had || optional ? 0 : NO;
		if ((rc = key(r, &k, &n)))
			return rc;
		if (!is(k, n, name) || had)
			return NO;
		had = 1;
		if ((rc = fn(r, arg)))
			return rc;
	}
}

static int attr_value(struct rd *r, void *arg)
{
	return value(r, arg);
}

/* `{"value": V}`, `{}` or null. */
static int attr(struct rd *r, struct hf_listing_value *v)
{
	return only(r, "value", 1, attr_value, v);
}

/* An HFID: a list of strings, or null. */
static int hfid(struct rd *r, struct hf_listing_hfid *h)
{
	struct hf_listing_page *pg = r->pg;
	const char *s;
	size_t n;
	int rc, first = 1;

	if (peek(r) == 'n')
		return keyword(r, "null");
	if (!take(r, '['))
		return NO;
	h->present = 1;
	h->at = pg->nparts;
	while (!take(r, ']')) {
		if (!first && !take(r, ','))
			return NO;
		first = 0;
		if ((rc = str(r, &s, &n)))
			return rc;
		if (HF_ARRAY_GROW(pg->parts, pg->pcap, pg->nparts + 1) < 0)
			return HF_ENOMEM;
		if ((rc = kept(r, s, n, &pg->parts[pg->nparts])))
			return rc;
		pg->nparts++;
		h->n++;
	}
	return 0;
}

/* A string member's value, copied into the page's arena. */
static int arena_str(struct rd *r, const char **out)
{
	const char *s;
	size_t n;
	int rc = str(r, &s, &n);

	if (rc)
		return rc;
	if (memchr(s, '\0', n))
		return NO;
	*out = hf_arena_strndup(&r->pg->strings, s, n);
	return *out ? 0 : HF_ENOMEM;
}

/*
 * The member keyed k when it is one of what names an object -- id,
 * __typename, hfid, each taken once -- read into *id, *type or *h: 1
 * with *rc its outcome; 0 when k is none of them (or one given again).
 */
static int identity(struct rd *r, const char *k, size_t n, const char **id,
                    const char **type, struct hf_listing_hfid *h, int *had_hfid,
                    int *rc)
{
	if (is(k, n, "id") && !*id)
		*rc = arena_str(r, id);
	else if (is(k, n, "__typename") && !*type)
		*rc = arena_str(r, type);
	else if (is(k, n, "hfid") && !*had_hfid)
		*rc = hfid(r, h);
	else
		return 0;
	*had_hfid |= is(k, n, "hfid");
	return 1;
}

struct ref_keys {
	struct hf_listing_ref *out;
	int had_hfid;
};

static int ref_key(struct rd *r, const char *k, size_t n, void *arg)
{
	struct ref_keys *x = arg;
	int rc = 0;

	if (!identity(r, k, n, &x->out->id, &x->out->type, &x->out->hfid,
	              &x->had_hfid, &rc))
		return NO;
	return rc;
}

/* A peer `{id, hfid, __typename}`: id and __typename strings, required. */
static int ref(struct rd *r, struct hf_listing_ref *out)
{
	struct ref_keys x = { out, 0 };
	int rc = object(r, ref_key, &x);

	return rc ? rc : out->id && out->type ? 0 : NO;
}

static int one_node(struct rd *r, void *arg)
{
	struct hf_listing_value *v = arg;

	if (peek(r) == 'n')
		return keyword(r, "null");
	v->refs = hf_arena_calloc(&r->pg->strings, 1, sizeof(*v->refs));
	if (!v->refs)
		return HF_ENOMEM;
	v->nrefs = 1;
	return ref(r, &v->refs[0]);
}

/* A cardinality-one relationship: `{"node": peer-or-null}` or null. */
static int one(struct rd *r, struct hf_listing_value *v)
{
	return only(r, "node", 1, one_node, v);
}

/* refs growing in a many relationship */
struct grow {
	struct hf_listing_value *v;
	size_t cap;
};

/*
 * The refs live in the page's arena, as its strings do: no allocation of
 * their own (a page is read on the prefetch's thread while the caller's
 * thread allocates: the two would take turns at the heap's lock). A full
 * list moves to one twice its size; what it leaves is at most as much
 * again, given back with the page.
 */
static int many_node(struct rd *r, void *arg)
{
	struct grow *g = arg;
	struct hf_listing_value *v = g->v;
	struct hf_listing_ref *refs;

	if (v->nrefs == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 4;
		if (g->cap > UINT32_MAX ||
		    !(refs = hf_arena_calloc(&r->pg->strings, g->cap,
		                             sizeof(*refs))))
			return HF_ENOMEM;
		if (v->nrefs)
			memcpy(refs, v->refs, v->nrefs * sizeof(*refs));
		v->refs = refs;
	}
	v->nrefs++;
	return ref(r, &v->refs[v->nrefs - 1]);
}

/* A list of `fn` items, each read by fn(r, arg). */
static int list(struct rd *r, member_fn fn, void *arg)
{
	int first, rc;

	if (!take(r, '['))
		return NO;
	for (first = 1; !take(r, ']'); first = 0) {
		if (!first && !take(r, ','))
			return NO;
		if ((rc = fn(r, arg)))
			return rc;
	}
	return 0;
}

/* `{"node": peer}` */
static int many_edge(struct rd *r, void *arg)
{
	return only(r, "node", 0, many_node, arg);
}

static int many_edges(struct rd *r, void *arg)
{
	return list(r, many_edge, arg);
}

/* A cardinality-many relationship: `{"edges": [edge, ...]}` or null. */
static int many(struct rd *r, struct hf_listing_value *v)
{
	struct grow g = { v, 0 };

	return only(r, "edges", 1, many_edges, &g);
}

/* The field a node's key names, or -1. */
static long field_of(const struct rd *r, const char *k, size_t n)
{
	size_t j;

	for (j = 0; j < r->nf; j++)
		if (r->flen[j] == n && !memcmp(r->f[j].name, k, n))
			return (long)j;
	return -1;
}

static int node_field(struct rd *r, struct hf_listing_value *v, size_t j)
{
	if (r->seen[j])
		return NO;
	r->seen[j] = 1;
	switch (r->f[j].type) {
	case HF_FIELD_ATTR:
		return attr(r, v);
	case HF_FIELD_ONE:
		return one(r, v);
	default:
		return many(r, v);
	}
}

static int node(struct rd *r)
{
	struct hf_listing_page *pg = r->pg;
	struct hf_listing_node *nd;
	int first = 1, more, rc, had_hfid = 0;
	const char *k;
	size_t n;
	long j;

	if (HF_ARRAY_GROW(pg->nodes, pg->cap, pg->n + 1) < 0 ||
	    HF_ARRAY_GROW(pg->vals, pg->vcap, pg->nvals + pg->nf) < 0)
		return HF_ENOMEM;
	nd = &pg->nodes[pg->n++];
	memset(nd, 0, sizeof(*nd));
	nd->values = pg->nvals;
	if (pg->nf)
		memset(&pg->vals[pg->nvals], 0, pg->nf * sizeof(pg->vals[0]));
	pg->nvals += pg->nf;
	memset(r->seen, 0, r->nf ? r->nf : 1);
	if (!take(r, '{'))
		return NO;
	for (;;) {
		if ((rc = member(r, &first, &more)) || !more)
			break;
		if ((rc = key(r, &k, &n)))
			break;
		if (!identity(r, k, n, &nd->id, &nd->type, &nd->hfid, &had_hfid,
		              &rc)) {
			j = field_of(r, k, n);
			rc = j < 0 ? NO
			           : node_field(
			                     r,
			                     &pg->vals[nd->values + (size_t)j],
			                     (size_t)j);
		}
		if (rc)
			return rc;
	}
	return rc ? rc : nd->id && *nd->id ? 0 : NO;
}

static int node_of(struct rd *r, void *arg)
{
	(void)arg;
	return node(r);
}

/* `{"node": {...}}` */
static int edge(struct rd *r, void *arg)
{
	return only(r, "node", 0, node_of, arg);
}

/*
 * {"count": n, "edges": [...]}, in either order, both once: the count
 * into *count, each edge read by each(r, arg).
 */
static int counted(struct rd *r, long *count, member_fn each, void *arg)
{
	int first = 1, more, rc, had_count = 0, had_edges = 0;
	const char *k;
	json_int_t c;
	size_t n;

	if (!take(r, '{'))
		return NO;
	for (;;) {
		if ((rc = member(r, &first, &more)))
			return rc;
		if (!more)
			return had_count && had_edges ? 0 : NO;
		if ((rc = key(r, &k, &n)))
			return rc;
		if (is(k, n, "count") && !had_count) {
			had_count = 1;
			if ((rc = integer(r, &c)))
				return rc;
			if (c < 0 || c > (json_int_t)1 << 53)
				return NO;
			*count = (long)c;
		} else if (is(k, n, "edges") && !had_edges) {
			had_edges = 1;
			if ((rc = list(r, each, arg)))
				return rc;
		} else {
			return NO;
		}
	}
}

static int listing(struct rd *r, void *arg)
{
	(void)arg;
	return counted(r, &r->pg->count, edge, NULL);
}

static int data(struct rd *r, void *arg)
{
	return only(r, r->kind, 0, listing, arg);
}

struct hf_listing_value *hf_listing_value(struct hf_listing_page *pg, size_t i,
                                          size_t j)
{
	return &pg->vals[pg->nodes[i].values + j];
}

int hf_listing_json(const struct hf_listing_value *v, json_t **out)
{
	switch (v->kind) {
	case HF_LV_ABSENT:
		*out = NULL;
		return 0;
	case HF_LV_STRING:
		*out = json_stringn_nocheck(v->str.s, v->str.n);
		break;
	case HF_LV_INT:
		*out = json_integer(v->i);
		break;
	case HF_LV_TRUE:
		*out = json_true();
		break;
	case HF_LV_FALSE:
		*out = json_false();
		break;
	case HF_LV_NULL:
		*out = json_null();
		break;
	default:
		*out = json_incref(v->value);
	}
	return *out ? 0 : HF_ENOMEM;
}

int hf_listing_hfid_json(const struct hf_listing_page *pg,
                         const struct hf_listing_hfid *h, json_t **out)
{
	const struct hf_listing_str *part;
	uint32_t i;

	*out = h->present ? json_array() : NULL;
	for (i = 0; *out && i < h->n; i++) {
		part = &pg->parts[h->at + i];
		if (json_array_append_new(
		            *out, json_stringn_nocheck(part->s, part->n)) < 0) {
			json_decref(*out);
			*out = NULL;
		}
	}
	return *out || !h->present ? 0 : HF_ENOMEM;
}

void hf_listing_release(struct hf_listing_page *pg)
{
	size_t i;

	for (i = 0; i < pg->nvals; i++)
		json_decref(pg->vals[i].value); /* refs: in the arena */
	hf_free(pg->nodes);
	hf_free(pg->vals);
	hf_free(pg->parts);
	hf_arena_release(&pg->strings);
	memset(pg, 0, sizeof(*pg));
}

int hf_listing_read(struct hf_listing_page *pg, const char *text, size_t len,
                    const char *kind, const struct hf_listing_field *fields,
                    size_t nf)
{
	struct rd r;
	size_t j;
	int rc;

	memset(pg, 0, sizeof(*pg));
	/*
	 * jansson's reader skips a NUL byte it reads past the end of a
	 * number or keyword, and then counts the value's length short
	 * (general() would resume inside it): a body with one is left to
	 * jansson whole, which refuses it anyway.
	 */
	if (memchr(text, '\0', len))
		return 0;
	pg->nf = nf;
	hf_arena_init(&pg->strings, len / 8);
	memset(&r, 0, sizeof(r));
	r.p = text;
	r.end = text + len;
	r.pg = pg;
	r.f = fields;
	r.nf = nf;
	hf_buf_init(&r.tmp, 0);
	r.flen = hf_calloc(nf ? nf : 1, sizeof(*r.flen));
	r.seen = hf_calloc(nf ? nf : 1, 1);
	rc = r.flen && r.seen ? 0 : HF_ENOMEM;
	for (j = 0; rc == 0 && j < nf; j++)
		r.flen[j] = strlen(fields[j].name);
	r.kind = kind;
	if (rc == 0)
		rc = only(&r, "data", 0, data, NULL);
	if (rc == 0) {
		ws(&r);
		rc = r.p == r.end ? 0 : NO;
	}
	hf_free(r.flen);
	hf_free(r.seen);
	hf_buf_release(&r.tmp);
	if (rc) {
		hf_listing_release(pg);
		return rc == NO ? 0 : rc;
	}
	return 1;
}

/* ---- a group's members -------------------------------------------------- */

struct mread {
	hf_listing_member_fn fn;
	void *payload;
	long count;
	int groups; /* group nodes read: one is expected */
};

/*
 * A string without escapes (ids and type names have none): its bytes in
 * the text. One with escapes declines, so that two of them never share
 * r->tmp; the general reading takes the page then.
 */
static int plain_str(struct rd *r, const char **s, size_t *n)
{
	int rc = str(r, s, n);

	if (rc == 0 && r->tmp.ptr && *s == r->tmp.ptr)
		return NO;
	return rc;
}

/* One member's id and type, as read. */
struct mnode {
	const char *id, *type;
	size_t idn, typen;
};

static int member_key(struct rd *r, const char *k, size_t n, void *arg)
{
	struct mnode *nd = arg;

	if (is(k, n, "id") && !nd->id)
		return plain_str(r, &nd->id, &nd->idn);
	if (is(k, n, "__typename") && !nd->type)
		return plain_str(r, &nd->type, &nd->typen);
	return NO;
}

/* A member `{"id": ID, "__typename": NAME}`, in either order. */
static int member_node(struct rd *r, void *arg)
{
	struct mread *m = arg;
	struct mnode nd = { NULL, NULL, 0, 0 };
	int rc = object(r, member_key, &nd);

	if (rc)
		return rc;
	if (!nd.idn || !nd.typen)
		return NO;
	rc = m->fn(m->payload, nd.id, nd.idn, nd.type, nd.typen);
	return rc > 0 ? NO : rc;
}

static int member_edge(struct rd *r, void *arg)
{
	return only(r, "node", 0, member_node, arg);
}

/* The group's keys: its id (not kept) and its members, once each. */
struct gnode {
	struct mread *m;
	int had_id, had_members;
};

static int group_key(struct rd *r, const char *k, size_t n, void *arg)
{
	struct gnode *g = arg;
	const char *id;
	size_t idn;

	if (is(k, n, "id") && !g->had_id) {
		g->had_id = 1;
		return plain_str(r, &id, &idn);
	}
	if (is(k, n, "members") && !g->had_members) {
		g->had_members = 1;
		return counted(r, &g->m->count, member_edge, g->m);
	}
	return NO;
}

/* The group `{"id": ID, "members": {...}}`, in either order. */
static int group_node(struct rd *r, void *arg)
{
	struct gnode g = { arg, 0, 0 };
	int rc;

	if (g.m->groups++)
		return NO;
	rc = object(r, group_key, &g);
	return rc ? rc : g.had_members ? 0 : NO;
}

static int group_edge(struct rd *r, void *arg)
{
	return only(r, "node", 0, group_node, arg);
}

static int group_edges(struct rd *r, void *arg)
{
	return list(r, group_edge, arg);
}

static int groups(struct rd *r, void *arg)
{
	return only(r, "edges", 0, group_edges, arg);
}

static int groups_data(struct rd *r, void *arg)
{
	return only(r, "CoreStandardGroup", 0, groups, arg);
}

int hf_listing_members(const char *text, size_t len, hf_listing_member_fn fn,
                       void *payload, long *count)
{
	struct mread m = { fn, payload, -1, 0 };
	struct rd r;
	int rc;

	*count = -1;
	if (memchr(text, '\0', len))
		return 0; /* as hf_listing_read() */
	memset(&r, 0, sizeof(r));
	r.p = text;
	r.end = text + len;
	hf_buf_init(&r.tmp, 0);
	rc = only(&r, "data", 0, groups_data, &m);
	if (rc == 0) {
		ws(&r);
		rc = r.p == r.end && m.groups == 1 ? 0 : NO;
	}
	hf_buf_release(&r.tmp);
	if (rc)
		return rc == NO ? 0 : rc;
	*count = m.count;
	return 1;
}
