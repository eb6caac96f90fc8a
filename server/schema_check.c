/*
 * Attribute value checks for mutations (and schema default values), per
 * attribute kind, with Infrahub's messages: "<value> is not a valid
 * <Kind> at <attr>", "<value> must be conform with the regex: '<re>' at
 * <attr>", ... IP values are normalised the way Python's ipaddress module
 * prints them (interface notation with a prefix length, compressed IPv6).
 *
 * Regexes are Python's; they are run with POSIX extended regexes after
 * translating the common escapes (\d \w \s). A pattern POSIX cannot
 * compile (look-arounds, ...) is not enforced rather than rejecting
 * every value.
 */
#include <arpa/inet.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "schema_int.h"

#include "hf/banned.h"

/* Python's str() of a JSON value, for messages. */
static char *show(json_t *v)
{
	hf_buf b = HF_BUF_INIT;
	char *t;

	if (json_is_string(v))
		return hf_strdup(json_string_value(v));
	if (json_is_true(v))
		return hf_strdup("True");
	if (json_is_false(v))
		return hf_strdup("False");
	if (json_is_null(v))
		return hf_strdup("None");
	if (json_is_integer(v)) {
		hf_buf_addf(&b, "%lld", (long long)json_integer_value(v));
		return hf_buf_detach(&b);
	}
	t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	return t;
}

static int bad_value(const struct hfs_attr *a, json_t *v, hf_error *err)
{
	char *s = show(v);
	int rc = hf_error_set(err, HF_EINVAL, "%s is not a valid %s at %s",
	                      s ? s : "?", a->kind, a->name);

	hf_free(s);
	return rc;
}

/* ---- regex ---- */

/*
 * \d \w \s and their negations. Returns -1 for a negated class inside
 * brackets, which POSIX cannot express.
 */
static int add_class(hf_buf *b, char c, int in_bracket)
{
	char lc = (char)(c | 0x20);
	const char *body = lc == 'd'   ? "0-9"
	                   : lc == 'w' ? "A-Za-z0-9_"
	                               : "[:space:]";
	int neg = c != lc;

	if (in_bracket && neg)
		return -1;
	if (in_bracket)
		hf_buf_add(b, body);
	else
		hf_buf_addf(b, "[%s%s]", neg ? "^" : "", body);
	return 0;
}

/*
 * Python regex -> POSIX ERE, anchored at the start like re.match(). NULL
 * with *bad set when the pattern cannot be translated.
 */
static char *translate_regex(const char *re, int *bad)
{
	hf_buf b = HF_BUF_INIT;
	int br = 0;

	*bad = 0;
	hf_buf_add(&b, "^(");
	for (; *re; re++) {
		if (*re == '\\' && re[1]) {
			char c = *++re;

			if (strchr("dwsDWS", c))
				*bad |= add_class(&b, c, br) < 0;
			else if (br)
				hf_buf_addch(&b, c);
			else
				hf_buf_addf(&b, "\\%c", c);
			continue;
		}
		if (*re == '[' && !br)
			br = 1;
		else if (*re == ']' && br)
			br = 0;
		hf_buf_addch(&b, *re);
	}
	hf_buf_add(&b, ")");
	if (*bad) {
		hf_buf_release(&b);
		return NULL;
	}
	return hf_buf_detach(&b);
}

/* 1: matches or not enforceable, 0: no match, <0: OOM. */
static int regex_ok(const char *re, const char *s)
{
	int bad;
	char *ere = translate_regex(re, &bad);
	regex_t rx;
	int rc;

	if (!ere)
		return bad ? 1 : HF_ENOMEM;
	if (regcomp(&rx, ere, REG_EXTENDED | REG_NOSUB) != 0) {
		hf_free(ere);
		return 1;
	}
	rc = regexec(&rx, s, 0, NULL, 0) == 0;
	regfree(&rx);
	hf_free(ere);
	return rc;
}

static char *py_list(json_t *arr)
{
	hf_buf b = HF_BUF_INIT;
	json_t *v;
	size_t i;

	hf_buf_addch(&b, '[');
	json_array_foreach(arr, i, v)
	{
		char *s = show(v);

		hf_buf_addf(&b, json_is_string(v) ? "%s'%s'" : "%s%s",
		            i ? ", " : "", s ? s : "");
		hf_free(s);
	}
	hf_buf_addch(&b, ']');
	return hf_buf_detach(&b);
}

static int in_enum(json_t *en, json_t *v)
{
	json_t *e;
	size_t i;

	json_array_foreach(en, i, e) if (json_equal(e, v)) return 1;
	return 0;
}

static int check_enum(const struct hfs_attr *a, json_t *v, hf_error *err)
{
	char *s, *list;
	int rc;

	if (!a->enum_values || in_enum(a->enum_values, v))
		return 0;
	s = show(v);
	list = py_list(a->enum_values);
	rc = hf_error_set(err, HF_EINVAL, "%s must be one of %s at %s",
	                  s ? s : "", list ? list : "[]", a->name);
	hf_free(s);
	hf_free(list);
	return rc;
}

static size_t utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static int check_text(const struct hfs_attr *a, json_t *v, hf_error *err)
{
	const char *s = json_string_value(v);
	int rc;

	if (!s)
		return bad_value(a, v, err);
	if (a->regex) {
		rc = regex_ok(a->regex, s);
		if (rc < 0)
			return hf_error_set(err, rc, "out of memory");
		if (rc == 0)
			return hf_error_set(err, HF_EINVAL,
			                    "%s must be conform with the "
			                    "regex: '%s' at %s",
			                    s, a->regex, a->name);
	}
	if (a->min_length > 0 && utf8_len(s) < (size_t)a->min_length)
		return hf_error_set(
		        err, HF_EINVAL,
		        "%s must have a minimum length of %ld at %s", s,
		        a->min_length, a->name);
	if (a->max_length > 0 && utf8_len(s) > (size_t)a->max_length)
		return hf_error_set(
		        err, HF_EINVAL,
		        "%s must have a maximum length of %ld at %s", s,
		        a->max_length, a->name);
	return check_enum(a, v, err);
}

/* ---- IP addresses ---- */

struct ip {
	int v6;
	unsigned char b[16];
	long plen; /* -1 when absent */
};

static int parse_ip(const char *s, struct ip *ip)
{
	char addr[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	char *end;

	if (n == 0 || n >= sizeof(addr))
		return -1;
	memcpy(addr, s, n);
	addr[n] = '\0';
	memset(ip, 0, sizeof(*ip));
	ip->plen = -1;
	if (inet_pton(AF_INET, addr, ip->b) == 1)
		ip->v6 = 0;
	else if (inet_pton(AF_INET6, addr, ip->b) == 1)
		ip->v6 = 1;
	else
		return -1;
	if (!slash)
		return 0;
	if (slash[1] < '0' || slash[1] > '9')
		return -1;
	ip->plen = strtol(slash + 1, &end, 10);
	if (*end || ip->plen > (ip->v6 ? 128 : 32))
		return -1;
	return 0;
}

static int host_bits_set(const struct ip *ip)
{
	long bits = ip->v6 ? 128 : 32, i;

	for (i = ip->plen; i < bits; i++)
		if (ip->b[i / 8] & (0x80 >> (i % 8)))
			return 1;
	return 0;
}

static json_t *ip_string(const struct ip *ip)
{
	char addr[INET6_ADDRSTRLEN], out[INET6_ADDRSTRLEN + 24];
	int plen = (int)(ip->plen < 0 ? (ip->v6 ? 128 : 32) : ip->plen);

	if (!inet_ntop(ip->v6 ? AF_INET6 : AF_INET, ip->b, addr, sizeof(addr)))
		return NULL;
	snprintf(out, sizeof(out), "%s/%d", addr, plen);
	return json_string(out);
}

static int check_ip(const struct hfs_attr *a, json_t *v, json_t **norm,
                    int network, hf_error *err)
{
	const char *s = json_string_value(v);
	struct ip ip;

	if (!s || parse_ip(s, &ip) < 0)
		return bad_value(a, v, err);
	if (network && ip.plen >= 0 && host_bits_set(&ip))
		return bad_value(a, v, err);
	*norm = ip_string(&ip);
	return *norm ? 0 : hf_error_set(err, HF_ENOMEM, "out of memory");
}

/* ---- other kinds ---- */

static int digits(const char *s, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* ISO 8601: date, optionally time, fraction and zone. */
static int iso8601(const char *s)
{
	size_t n = strlen(s);

	if (n < 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) ||
	    s[7] != '-' || !digits(s + 8, 2))
		return 0;
	s += 10;
	if (!*s)
		return 1;
	if ((*s != 'T' && *s != ' ') || !digits(s + 1, 2) || s[3] != ':' ||
	    !digits(s + 4, 2))
		return 0;
	s += 6;
	if (*s == ':') {
		if (!digits(s + 1, 2))
			return 0;
		s += 3;
		if (*s == '.' || *s == ',')
			for (s++; *s >= '0' && *s <= '9'; s++)
				;
	}
	if (*s == 'Z' || *s == 'z')
		return s[1] == '\0';
	if (*s == '+' || *s == '-')
		return digits(s + 1, 2) &&
		       (s[3] == '\0' ||
		        (s[3] == ':' && digits(s + 4, 2) && s[6] == '\0') ||
		        (digits(s + 3, 2) && s[5] == '\0'));
	return *s == '\0';
}

static int hexs(const char *s, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		      (c >= 'A' && c <= 'F')))
			return 0;
	}
	return 1;
}

static int mac(const char *s)
{
	size_t n = strlen(s);
	int i;

	if (n == 17) {
		for (i = 0; i < 6; i++)
			if (!hexs(s + i * 3, 2) ||
			    (i < 5 && s[i * 3 + 2] != ':' &&
			     s[i * 3 + 2] != '-'))
				return 0;
		return 1;
	}
	if (n == 14)
		return hexs(s, 4) && s[4] == '.' && hexs(s + 5, 4) &&
		       s[9] == '.' && hexs(s + 10, 4);
	return n == 12 && hexs(s, 12);
}

static int email(const char *s)
{
	const char *at = strchr(s, '@');

	return at && at != s && !strchr(at + 1, '@') && strchr(at + 1, '.') &&
	       at[1] != '.' && s[strlen(s) - 1] != '.' && !strchr(s, ' ');
}

static int url(const char *s)
{
	const char *p = s;

	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	       (*p >= '0' && *p <= '9') || *p == '+' || *p == '-' || *p == '.')
		p++;
	return p != s && strncmp(p, "://", 3) == 0 && p[3] && !strchr(s, ' ');
}

static int color(const char *s)
{
	return s[0] == '#' && strlen(s) == 7 && hexs(s + 1, 6);
}

static int check_string_like(const struct hfs_attr *a, json_t *v, hf_error *err)
{
	const char *s = json_string_value(v), *k = a->kind;
	int ok = 1;

	if (!s)
		return bad_value(a, v, err);
	if (strcmp(k, "DateTime") == 0)
		ok = iso8601(s);
	else if (strcmp(k, "MacAddress") == 0)
		ok = mac(s);
	else if (strcmp(k, "Email") == 0)
		ok = email(s);
	else if (strcmp(k, "URL") == 0)
		ok = url(s);
	else if (strcmp(k, "Color") == 0)
		ok = color(s);
	return ok ? 0 : bad_value(a, v, err);
}

static int cmp_cstr(const void *x, const void *y)
{
	const char *const *a = x, *const *b = y;

	return strcmp(*a, *b);
}

static int check_dropdown(const struct hfs_attr *a, json_t *v, hf_error *err)
{
	const char *s = json_string_value(v);
	const char **names;
	hf_buf b = HF_BUF_INIT;
	size_t i;
	int rc;

	if (!s)
		return bad_value(a, v, err);
	for (i = 0; i < a->nchoices; i++)
		if (strcmp(a->choices[i].name, s) == 0)
			return 0;
	/* Sorted and comma-joined, as Infrahub prints them. */
	names = hf_calloc(a->nchoices + 1, sizeof(*names));
	if (!names)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	for (i = 0; i < a->nchoices; i++)
		names[i] = a->choices[i].name;
	qsort(names, a->nchoices, sizeof(*names), cmp_cstr);
	for (i = 0; i < a->nchoices; i++)
		hf_buf_addf(&b, "%s%s", i ? ", " : "", names[i]);
	rc = hf_error_set(err, HF_EINVAL, "%s must be one of '%s' at %s", s,
	                  hf_buf_failed(&b) ? "" : b.ptr, a->name);
	hf_buf_release(&b);
	hf_free(names);
	return rc;
}

static int check_number(const struct hfs_attr *a, json_t *v, json_t **norm,
                        hf_error *err)
{
	double d;

	if (json_is_integer(v))
		return check_enum(a, v, err);
	if (!json_is_real(v))
		return bad_value(a, v, err);
	d = json_real_value(v);
	if (d != (double)(json_int_t)d)
		return bad_value(a, v, err);
	*norm = json_integer((json_int_t)d);
	return *norm ? 0 : hf_error_set(err, HF_ENOMEM, "out of memory");
}

static int is(const char *kind, const char *a, const char *b)
{
	return strcmp(kind, a) == 0 || (b && strcmp(kind, b) == 0);
}

static int check_kind(const struct hfs_attr *a, json_t *v, json_t **norm,
                      hf_error *err)
{
	const char *k = a->kind;

	if (is(k, "Text", "TextArea"))
		return check_text(a, v, err);
	if (is(k, "Number", "Bandwidth") || is(k, "NumberPool", NULL))
		return check_number(a, v, norm, err);
	if (is(k, "Boolean", "Checkbox"))
		return json_is_boolean(v) ? 0 : bad_value(a, v, err);
	if (is(k, "Dropdown", NULL))
		return check_dropdown(a, v, err);
	if (is(k, "IPHost", NULL))
		return check_ip(a, v, norm, 0, err);
	if (is(k, "IPNetwork", NULL))
		return check_ip(a, v, norm, 1, err);
	if (is(k, "List", NULL))
		return json_is_array(v) ? 0 : bad_value(a, v, err);
	if (is(k, "JSON", "Any"))
		return 0;
	if (is(k, "DateTime", "MacAddress") || is(k, "Email", "URL") ||
	    is(k, "Color", "ID") || is(k, "File", "Password") ||
	    is(k, "HashedPassword", NULL))
		return check_string_like(a, v, err);
	return 0;
}

int hfs_attr_check(const struct hfs_attr *a, json_t *value, json_t **normalised,
                   hf_error *err)
{
	json_t *norm = NULL;
	int rc;

	*normalised = NULL;
	if (!value || json_is_null(value)) {
		*normalised = json_null();
		return 0;
	}
	rc = check_kind(a, value, &norm, err);
	if (rc < 0) {
		json_decref(norm);
		return rc;
	}
	*normalised = norm ? norm : json_incref(value);
	return 0;
}

int hfs_attr_check_json(const json_t *attr, json_t *value, json_t **norm,
                        hf_error *err)
{
	struct hfs_attr a;
	struct hfs_choice *ch = NULL;
	json_t *choices = hfs_jarr(attr, "choices"), *c, *en;
	size_t i;
	int rc;

	memset(&a, 0, sizeof(a));
	a.name = hfs_jstr(attr, "name");
	a.kind = hfs_jstr(attr, "kind");
	a.regex = hfs_jstr(attr, "regex");
	en = json_object_get(attr, "enum");
	a.enum_values = json_is_array(en) ? en : NULL;
	a.min_length = json_is_integer(json_object_get(attr, "min_length"))
	                       ? (long)json_integer_value(
	                                 json_object_get(attr, "min_length"))
	                       : -1;
	a.max_length = json_is_integer(json_object_get(attr, "max_length"))
	                       ? (long)json_integer_value(
	                                 json_object_get(attr, "max_length"))
	                       : -1;
	if (json_array_size(choices)) {
		ch = hf_calloc(json_array_size(choices), sizeof(*ch));
		if (!ch)
			return hf_error_set(err, HF_ENOMEM, "out of memory");
		json_array_foreach(choices, i, c) ch[i].name =
		        hfs_jstr(c, "name");
		a.choices = ch;
		a.nchoices = json_array_size(choices);
	}
	rc = hfs_attr_check(&a, value, norm, err);
	hf_free(ch);
	return rc;
}
