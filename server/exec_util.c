/*
 * Small pieces the executor shares: a string hash map, a JSON writer in
 * the byte format Python's json.dumps gives (what Infrahub answers with),
 * canonical value keys for comparisons, timestamps and IP extras.
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exec_int.h"
#include "hf/alloc.h"
#include "hf/banned.h"

/* ---- hash map ------------------------------------------------------------ */

struct xmap_ent {
	uint64_t h;
	void *val;
	struct xmap_ent *next;
	char key[];
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return h ^ (h >> 29);
}

static int grow(struct xmap *m)
{
	size_t nb = m->nb ? m->nb * 2 : 16, i;
	struct xmap_ent **b = hf_calloc(nb, sizeof(*b));

	if (!b)
		return HF_ENOMEM;
	for (i = 0; i < m->nb; i++) {
		struct xmap_ent *e = m->b[i], *next;

		for (; e; e = next) {
			size_t j = (size_t)(e->h & (nb - 1));

			next = e->next;
			e->next = b[j];
			b[j] = e;
		}
	}
	hf_free(m->b);
	m->b = b;
	m->nb = nb;
	return 0;
}

int xmap_put(struct xmap *m, const char *key, void *val)
{
	size_t len = strlen(key), j;
	struct xmap_ent *e;

	if (m->n >= m->nb && grow(m) < 0)
		return HF_ENOMEM;
	e = hf_alloc(sizeof(*e) + len + 1);
	if (!e)
		return HF_ENOMEM;
	e->h = hash_str(key);
	e->val = val;
	memcpy(e->key, key, len + 1);
	j = (size_t)(e->h & (m->nb - 1));
	e->next = m->b[j];
	m->b[j] = e;
	m->n++;
	return 0;
}

void *xmap_find(const struct xmap *m, const char *key, struct xmap_it *it)
{
	it->key = key;
	it->h = hash_str(key);
	it->e = m->nb ? m->b[it->h & (m->nb - 1)] : NULL;
	for (; it->e; it->e = it->e->next) {
		if (it->e->h == it->h && !strcmp(it->e->key, key))
			return it->e->val;
	}
	return NULL;
}

void *xmap_next(struct xmap_it *it)
{
	if (!it->e)
		return NULL;
	for (it->e = it->e->next; it->e; it->e = it->e->next) {
		if (it->e->h == it->h && !strcmp(it->e->key, it->key))
			return it->e->val;
	}
	return NULL;
}

void *xmap_get(const struct xmap *m, const char *key)
{
	struct xmap_it it;

	return xmap_find(m, key, &it);
}

int xmap_del(struct xmap *m, const char *key, const void *val)
{
	uint64_t h = hash_str(key);
	struct xmap_ent **pp;

	if (!m->nb)
		return 0;
	for (pp = &m->b[h & (m->nb - 1)]; *pp; pp = &(*pp)->next) {
		struct xmap_ent *e = *pp;

		if (e->h != h || strcmp(e->key, key) || (val && e->val != val))
			continue;
		*pp = e->next;
		hf_free(e);
		m->n--;
		return 1;
	}
	return 0;
}

void xmap_each(const struct xmap *m, xmap_fn fn, void *payload)
{
	size_t i;

	for (i = 0; i < m->nb; i++) {
		const struct xmap_ent *e = m->b[i], *next;

		for (; e; e = next) {
			next = e->next;
			fn(e->key, e->val, payload);
		}
	}
}

void xmap_release(struct xmap *m)
{
	size_t i;

	for (i = 0; i < m->nb; i++) {
		struct xmap_ent *e = m->b[i], *next;

		for (; e; e = next) {
			next = e->next;
			hf_free(e);
		}
	}
	hf_free(m->b);
	m->b = NULL;
	m->nb = 0;
	m->n = 0;
}

/* ---- JSON writer --------------------------------------------------------- */

void xw_strn(hf_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	hf_buf_addch(b, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		hf_buf_addn(b, s + run, i - run);
		run = i + 1;
		esc[0] = '\\';
		esc[2] = '\0';
		switch (c) {
		case '"':
			esc[1] = '"';
			break;
		case '\\':
			esc[1] = '\\';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			esc[6] = '\0';
			break;
		}
		hf_buf_add(b, esc);
	}
	hf_buf_addn(b, s + run, n - run);
	hf_buf_addch(b, '"');
}

void xw_str(hf_buf *b, const char *s)
{
	if (!s)
		hf_buf_add(b, "null");
	else
		xw_strn(b, s, strlen(s));
}

/* Shortest text that reads back as the same double (Python's repr). */
static void add_real(hf_buf *b, double d)
{
	char tmp[40];
	int prec;

	if (!isfinite(d)) {
		hf_buf_add(b, "null");
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	hf_buf_add(b, tmp);
	if (!strpbrk(tmp, ".eEn"))
		hf_buf_add(b, ".0");
}

void xw_json(hf_buf *b, const json_t *v)
{
	const char *key;
	json_t *item;
	size_t i;
	int first = 1;

	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_STRING:
		xw_strn(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		hf_buf_addf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		add_real(b, json_real_value(v));
		break;
	case JSON_TRUE:
		hf_buf_add(b, "true");
		break;
	case JSON_FALSE:
		hf_buf_add(b, "false");
		break;
	case JSON_ARRAY:
		hf_buf_addch(b, '[');
		json_array_foreach(v, i, item)
		{
			if (i)
				hf_buf_addch(b, ',');
			xw_json(b, item);
		}
		hf_buf_addch(b, ']');
		break;
	case JSON_OBJECT:
		hf_buf_addch(b, '{');
		json_object_foreach((json_t *)(uintptr_t)v, key, item)
		{
			xw_key(b, &first, key);
			xw_json(b, item);
		}
		hf_buf_addch(b, '}');
		break;
	default:
		hf_buf_add(b, "null");
		break;
	}
}

void xw_key(hf_buf *b, int *first, const char *key)
{
	if (!*first)
		hf_buf_addch(b, ',');
	*first = 0;
	xw_str(b, key);
	hf_buf_addch(b, ':');
}

/* ---- value keys ---------------------------------------------------------- */

void xval_key(hf_buf *b, const json_t *v)
{
	char *text;

	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_STRING:
		hf_buf_addch(b, 's');
		hf_buf_addn(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		hf_buf_addf(b, "n%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		hf_buf_addch(b, 'n');
		add_real(b, json_real_value(v));
		break;
	case JSON_TRUE:
		hf_buf_add(b, "b1");
		break;
	case JSON_FALSE:
		hf_buf_add(b, "b0");
		break;
	case JSON_ARRAY:
	case JSON_OBJECT:
		text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
		hf_buf_addch(b, 'j');
		if (text)
			hf_buf_add(b, text);
		hf_free(text);
		break;
	default:
		break;
	}
}

void xpy_list(hf_buf *b, const json_t *arr)
{
	size_t i;

	hf_buf_addch(b, '[');
	for (i = 0; i < json_array_size(arr); i++) {
		hf_buf_add(b, i ? ", '" : "'");
		xval_text(b, json_array_get(arr, i));
		hf_buf_addch(b, '\'');
	}
	hf_buf_addch(b, ']');
}

void xval_text(hf_buf *b, const json_t *v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_STRING:
		hf_buf_addn(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		hf_buf_addf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		add_real(b, json_real_value(v));
		break;
	case JSON_TRUE:
		hf_buf_add(b, "True");
		break;
	case JSON_FALSE:
		hf_buf_add(b, "False");
		break;
	case JSON_ARRAY:
	case JSON_OBJECT:
		xw_json(b, v);
		break;
	default:
		hf_buf_add(b, "None");
		break;
	}
}

void xnow(char *out, size_t len)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
	         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	         tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
}

static uint64_t fnv64(const char *s, uint64_t h)
{
	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return h;
}

void xderived_id(char out[HFS_UUID_LEN + 1], const char *a, const char *b)
{
	uint64_t h1 = fnv64(b, fnv64("|", fnv64(a, 1469598103934665603ULL)));
	uint64_t h2 = fnv64(a, fnv64("#", fnv64(b, 0x84222325cbf29ce4ULL)));

	snprintf(out, HFS_UUID_LEN + 1, "%08x-%04x-4%03x-%04x-%012llx",
	         (unsigned)(h1 >> 32), (unsigned)((h1 >> 16) & 0xffff),
	         (unsigned)(h1 & 0xfff),
	         (unsigned)(0x8000 | ((h2 >> 48) & 0x3fff)),
	         (unsigned long long)(h2 & 0xffffffffffffULL));
}

void xsplit_path(struct xsplit *out, const char *path)
{
	const char *p = path;
	int i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < 3 && *p; i++) {
		const char *sep = strstr(p, "__");
		size_t n = sep ? (size_t)(sep - p) : strlen(p);

		if (i == 2 && sep)
			n = strlen(p); /* the rest, whatever it holds */
		if (n >= sizeof(out->p[i]))
			n = sizeof(out->p[i]) - 1;
		memcpy(out->p[i], p, n);
		out->n = i + 1;
		if (!sep || i == 2)
			break;
		p = sep + 2;
	}
}

/* ---- IP extras ----------------------------------------------------------- */

struct ipv {
	int v6;
	unsigned char a[16];
	int plen;
	int has_plen;
};

static int ip_parse(struct ipv *ip, const char *value)
{
	char addr[64];
	const char *slash = strchr(value, '/');
	size_t n = slash ? (size_t)(slash - value) : strlen(value);
	char *end;
	long p;

	if (n >= sizeof(addr))
		return -1;
	memcpy(addr, value, n);
	addr[n] = '\0';
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, addr, ip->a) == 1)
		ip->v6 = 0;
	else if (inet_pton(AF_INET6, addr, ip->a) == 1)
		ip->v6 = 1;
	else
		return -1;
	ip->plen = ip->v6 ? 128 : 32;
	if (slash) {
		p = strtol(slash + 1, &end, 10);
		if (*end || p < 0 || p > ip->plen)
			return -1;
		ip->plen = (int)p;
		ip->has_plen = 1;
	}
	return 0;
}

static void ip_mask(unsigned char *m, int bytes, int plen, int host)
{
	int i;

	for (i = 0; i < bytes; i++) {
		int bits = plen - i * 8;
		unsigned v;

		v = bits >= 8 ? 0xffu : bits <= 0 ? 0u : (0xffu << (8 - bits));
		v &= 0xffu;
		m[i] = (unsigned char)(host ? ~v & 0xffu : v);
	}
}

static void ip_text(hf_buf *b, const struct ipv *ip, const unsigned char *a)
{
	char t[64];

	if (inet_ntop(ip->v6 ? AF_INET6 : AF_INET, a, t, sizeof(t)))
		hf_buf_add(b, t);
}

/* 2^e in decimal (e up to 128). */
static void add_pow2(hf_buf *b, int e)
{
	unsigned char d[64];
	int n = 1, i, j, carry;

	d[0] = 1;
	for (i = 0; i < e; i++) {
		for (j = 0, carry = 0; j < n; j++) {
			int v = d[j] * 2 + carry;

			d[j] = (unsigned char)(v % 10);
			carry = v / 10;
		}
		if (carry)
			d[n++] = (unsigned char)carry;
	}
	for (j = n - 1; j >= 0; j--)
		hf_buf_addch(b, (char)('0' + d[j]));
}

static void ip_masked(hf_buf *b, const struct ipv *ip, int which)
{
	unsigned char m[16], x[16];
	int bytes = ip->v6 ? 16 : 4, i;

	ip_mask(m, bytes, ip->plen, which != 0);
	for (i = 0; i < bytes; i++)
		x[i] = which == 2 ? (unsigned char)(ip->a[i] | m[i]) : m[i];
	ip_text(b, ip, x);
}

/* Write the JSON value of an extra field; 1 when `field` is not one. */
int xip_field(hf_buf *b, const char *value, const char *field, int network)
{
	struct ipv ip;
	hf_buf t = HF_BUF_INIT;
	int known = 1;

	if (!value || ip_parse(&ip, value) < 0) {
		hf_buf_add(b, "null");
		return 0;
	}
	if (!strcmp(field, "prefixlen"))
		hf_buf_addf(b, "%d", ip.plen);
	else if (!strcmp(field, "version"))
		hf_buf_addf(b, "%d", ip.v6 ? 6 : 4);
	else if (!strcmp(field, "num_addresses") && network)
		add_pow2(b, (ip.v6 ? 128 : 32) - ip.plen);
	else {
		if (!strcmp(field, "ip"))
			ip_text(&t, &ip, ip.a);
		else if (!strcmp(field, "netmask"))
			ip_masked(&t, &ip, 0);
		else if (!strcmp(field, "hostmask"))
			ip_masked(&t, &ip, 1);
		else if (!strcmp(field, "broadcast_address") && network)
			ip_masked(&t, &ip, 2);
		else if (!strcmp(field, "with_hostmask") ||
		         !strcmp(field, "with_netmask")) {
			ip_text(&t, &ip, ip.a);
			hf_buf_addch(&t, '/');
			ip_masked(&t, &ip, field[5] == 'h');
		} else
			known = 0;
		if (known)
			xw_strn(b, t.ptr, t.len);
	}
	hf_buf_release(&t);
	if (!known)
		hf_buf_add(b, "null");
	return known ? 0 : 1;
}
