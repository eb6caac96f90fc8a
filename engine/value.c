/*
 * Attribute value checking and normalisation. The normal forms follow what
 * Infrahub (Python's ipaddress module underneath) echoes back, so that the
 * diff compares like with like. IP and date parsing are our own; only
 * inet_pton() is borrowed from libc, for the address syntax.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "hf/hex.h"
#include "hf/value.h"
#include "hf/banned.h"

/* clang-format off */
static const struct {
	const char *name;
	enum hf_attr_kind kind;
} kind_names[] = {
	{ "Any",            HF_ATTR_ANY },
	{ "Bandwidth",      HF_ATTR_BANDWIDTH },
	{ "Boolean",        HF_ATTR_BOOLEAN },
	{ "Checkbox",       HF_ATTR_CHECKBOX },
	{ "Color",          HF_ATTR_COLOR },
	{ "DateTime",       HF_ATTR_DATETIME },
	{ "Dropdown",       HF_ATTR_DROPDOWN },
	{ "Email",          HF_ATTR_EMAIL },
	{ "File",           HF_ATTR_FILE },
	{ "HashedPassword", HF_ATTR_HASHED_PASSWORD },
	{ "ID",             HF_ATTR_ID },
	{ "IPHost",         HF_ATTR_IPHOST },
	{ "IPNetwork",      HF_ATTR_IPNETWORK },
	{ "JSON",           HF_ATTR_JSON },
	{ "List",           HF_ATTR_LIST },
	{ "MacAddress",     HF_ATTR_MAC_ADDRESS },
	{ "Number",         HF_ATTR_NUMBER },
	{ "Password",       HF_ATTR_PASSWORD },
	{ "String",         HF_ATTR_TEXT },
	{ "Text",           HF_ATTR_TEXT },
	{ "TextArea",       HF_ATTR_TEXTAREA },
	{ "URL",            HF_ATTR_URL },
};
/* clang-format on */

#define NKINDS (sizeof(kind_names) / sizeof(kind_names[0]))

enum hf_attr_kind hf_attr_kind_from_name(const char *name)
{
	size_t i;

	if (!name)
		return HF_ATTR_OTHER;
	for (i = 0; i < NKINDS; i++) {
		if (strcmp(kind_names[i].name, name) == 0)
			return kind_names[i].kind;
	}
	return HF_ATTR_OTHER;
}

const char *hf_attr_kind_name(enum hf_attr_kind kind)
{
	size_t i;

	if (kind == HF_ATTR_TEXT)
		return "Text";
	for (i = 0; i < NKINDS; i++) {
		if (kind_names[i].kind == kind)
			return kind_names[i].name;
	}
	return "Other";
}

bool hf_attr_kind_is_string(enum hf_attr_kind kind)
{
	switch (kind) {
	case HF_ATTR_OTHER:
	case HF_ATTR_NUMBER:
	case HF_ATTR_BANDWIDTH:
	case HF_ATTR_BOOLEAN:
	case HF_ATTR_CHECKBOX:
	case HF_ATTR_LIST:
	case HF_ATTR_JSON:
	case HF_ATTR_ANY:
		return false;
	default:
		return true;
	}
}

bool hf_attr_kind_is_secret(enum hf_attr_kind kind)
{
	return kind == HF_ATTR_PASSWORD || kind == HF_ATTR_HASHED_PASSWORD;
}

json_t *hf_value_sensitive(json_t *v)
{
	char salt[33];

	if (hf_random_hex(salt, 16) < 0)
		return NULL;
	return json_pack("{s:O, s:s}", HF_SENSITIVE_KEY, v ? v : json_null(),
	                 HF_SENSITIVE_SALT, salt);
}

json_t *hf_value_sensitive_get(const json_t *v)
{
	size_t n = json_object_size(v);

	if (!json_is_object(v) || n < 1 || n > 2 ||
	    (n == 2 && !json_object_get(v, HF_SENSITIVE_SALT)))
		return NULL;
	return json_object_get(v, HF_SENSITIVE_KEY);
}

/*
 * A new reference to a value we were handed as const. Raising a reference
 * count does not change the value, which is what the const promises.
 */
static json_t *ref(const json_t *v)
{
	return json_incref((json_t *)(uintptr_t)v);
}

/* ------------------------------------------------------------ messages */

/* "Number attribute 'mtu'" or "a Number attribute". */
static void subject(char *buf, size_t n, const struct hf_value_spec *spec)
{
	const char *kn = spec->kind_name;

	if (!kn || !*kn)
		kn = hf_attr_kind_name(spec->kind);
	if (spec->name)
		snprintf(buf, n, "%s attribute '%s'", kn, spec->name);
	else
		snprintf(buf, n, "a %s attribute", kn);
}

/* A string for a message: quoted, cut short when long. */
static void quote(char *buf, size_t n, const char *s)
{
	if (strlen(s) > 40)
		snprintf(buf, n, "\"%.37s...\"", s);
	else
		snprintf(buf, n, "\"%s\"", s);
}

/* "the string \"x\"", "the number 42", "a list"... */
static void describe(char *buf, size_t n, const json_t *v)
{
	char q[64];

	switch (json_typeof(v)) {
	case JSON_STRING:
		quote(q, sizeof(q), json_string_value(v));
		snprintf(buf, n, "the string %s", q);
		break;
	case JSON_INTEGER:
		snprintf(buf, n, "the number %" JSON_INTEGER_FORMAT,
		         json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(buf, n, "the number %.15g", json_real_value(v));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		snprintf(buf, n, "the boolean %s",
		         json_is_true(v) ? "true" : "false");
		break;
	case JSON_ARRAY:
		snprintf(buf, n, "a list");
		break;
	case JSON_OBJECT:
		snprintf(buf, n, "a mapping");
		break;
	default:
		snprintf(buf, n, "null");
		break;
	}
}

/* "expected <what> for <subject>, found <value><hint>". */
static int type_error(const struct hf_value_spec *spec, const char *what,
                      const json_t *in, const char *hint, hf_error *err)
{
	char subj[160], found[96];

	subject(subj, sizeof(subj), spec);
	describe(found, sizeof(found), in);
	return hf_error_set(err, HF_EINVAL, "expected %s for %s, found %s%s",
	                    what, subj, found, hint);
}

/* "<quoted value> <problem> for <subject><detail>". */
static int value_error(const struct hf_value_spec *spec, const char *value,
                       const char *problem, const char *detail, hf_error *err)
{
	char subj[160], q[64];

	subject(subj, sizeof(subj), spec);
	quote(q, sizeof(q), value);
	return hf_error_set(err, HF_EINVAL, "%s %s for %s%s", q, problem, subj,
	                    detail);
}

/* Append "a, b, c" to buf, truncating quietly. */
static void join_names(char *buf, size_t n, const char *const *v, size_t nv)
{
	size_t i, len = strlen(buf);

	for (i = 0; i < nv && len + 1 < n; i++) {
		snprintf(buf + len, n - len, "%s%s", i ? ", " : "", v[i]);
		len += strlen(buf + len);
	}
}

/* ------------------------------------------------------------- scalars */

/* Whether s is an optionally signed run of decimal digits. */
static bool looks_integer(const char *s)
{
	if (*s == '-' || *s == '+')
		s++;
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
	}
	return true;
}

static size_t utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++) {
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	}
	return n;
}

static int check_enum(const struct hf_value_spec *spec, const json_t *in,
                      hf_error *err)
{
	char detail[320] = "; allowed: ";
	const json_t *e;
	size_t i, len;

	if (!json_is_array(spec->enum_values) ||
	    json_array_size(spec->enum_values) == 0)
		return 0;
	json_array_foreach(spec->enum_values, i, e)
	{
		if (json_equal(e, in))
			return 0;
	}
	json_array_foreach(spec->enum_values, i, e)
	{
		len = strlen(detail);
		if (len + 1 >= sizeof(detail))
			break;
		if (json_is_string(e))
			snprintf(detail + len, sizeof(detail) - len, "%s%s",
			         i ? ", " : "", json_string_value(e));
		else if (json_is_integer(e))
			snprintf(detail + len, sizeof(detail) - len,
			         "%s%" JSON_INTEGER_FORMAT, i ? ", " : "",
			         json_integer_value(e));
	}
	return value_error(spec,
	                   json_is_string(in) ? json_string_value(in) : "value",
	                   "is not an allowed value", detail, err);
}

static int check_length(const struct hf_value_spec *spec, const char *s,
                        hf_error *err)
{
	char detail[96];
	size_t n;

	if (!spec->min_length && !spec->max_length)
		return 0;
	n = utf8_len(s);
	if (spec->min_length && n < spec->min_length) {
		snprintf(detail, sizeof(detail),
		         " (%zu characters, at least %zu)", n,
		         spec->min_length);
		return value_error(spec, s, "is too short", detail, err);
	}
	if (spec->max_length && n > spec->max_length) {
		snprintf(detail, sizeof(detail),
		         " (%zu characters, at most %zu)", n, spec->max_length);
		return value_error(spec, s, "is too long", detail, err);
	}
	return 0;
}

/* The YAML spelling of a number or boolean, for a "quote it" hint. */
static void scalar_text(char *buf, size_t n, const json_t *v)
{
	if (json_is_integer(v))
		snprintf(buf, n, "%" JSON_INTEGER_FORMAT,
		         json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, n, "%.15g", json_real_value(v));
	else
		snprintf(buf, n, "%s", json_is_true(v) ? "true" : "false");
}

static int check_string(json_t **out, const struct hf_value_spec *spec,
                        const json_t *in, hf_error *err)
{
	char text[48], hint[96] = "";
	int rc;

	if (!json_is_string(in)) {
		if (json_is_number(in) || json_is_boolean(in)) {
			scalar_text(text, sizeof(text), in);
			snprintf(hint, sizeof(hint), " (quote it: \"%s\")",
			         text);
		}
		return type_error(spec, "a string", in, hint, err);
	}
	rc = check_enum(spec, in, err);
	if (rc == 0)
		rc = check_length(spec, json_string_value(in), err);
	if (rc == 0)
		*out = ref(in);
	return rc;
}

/* An integral real as an integer; -1 when it is not integral or too big. */
static int real_to_int(double d, json_int_t *out)
{
	if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
		return -1;
	if ((double)(json_int_t)d != d)
		return -1;
	*out = (json_int_t)d;
	return 0;
}

static int check_integer(json_t **out, const struct hf_value_spec *spec,
                         const json_t *in, hf_error *err)
{
	const char *hint = "";
	json_int_t i;
	int rc;

	if (json_is_integer(in)) {
		rc = check_enum(spec, in, err);
		if (rc == 0)
			*out = ref(in);
		return rc;
	}
	if (json_is_real(in) && real_to_int(json_real_value(in), &i) == 0) {
		*out = json_integer(i);
		return *out ? 0 : hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	if (json_is_string(in) && looks_integer(json_string_value(in)))
		hint = " (write it without quotes)";
	return type_error(spec, "an integer", in, hint, err);
}

static int check_boolean(json_t **out, const struct hf_value_spec *spec,
                         const json_t *in, hf_error *err)
{
	static const char *const words[] = { "true", "false", "yes", "no",
		                             "on",   "off",   NULL };
	const char *hint = "";
	size_t i;

	if (json_is_boolean(in)) {
		*out = ref(in);
		return 0;
	}
	for (i = 0; json_is_string(in) && words[i]; i++) {
		if (strcasecmp(json_string_value(in), words[i]) == 0)
			hint = " (write true or false without quotes)";
	}
	return type_error(spec, "true or false", in, hint, err);
}

static int check_dropdown(json_t **out, const struct hf_value_spec *spec,
                          const json_t *in, hf_error *err)
{
	char detail[320] = "; valid choices: ";
	const char *s;
	size_t i;

	if (!json_is_string(in))
		return type_error(spec, "a choice name (a string)", in, "",
		                  err);
	s = json_string_value(in);
	for (i = 0; i < spec->nchoices; i++) {
		if (strcmp(spec->choices[i], s) == 0)
			break;
	}
	if (spec->nchoices && i == spec->nchoices) {
		join_names(detail, sizeof(detail), spec->choices,
		           spec->nchoices);
		return value_error(spec, s, "is not a valid choice", detail,
		                   err);
	}
	*out = ref(in);
	return 0;
}

/* ------------------------------------------------------------ IP values */

struct ip {
	int v6;
	unsigned prefix;
	unsigned char a[16];
};

#define IP_ALEN(ip) ((ip)->v6 ? 16u : 4u)
#define IP_BITS(ip) ((ip)->v6 ? 128u : 32u)

/*
 * A dotted IPv4 mask as a prefix length: a netmask (ones then zeros) or,
 * failing that, a hostmask (zeros then ones), the order Python tries them.
 */
static int mask_prefix(const char *s, unsigned *out)
{
	unsigned char b[4];
	uint32_t m;
	unsigned n;

	if (inet_pton(AF_INET, s, b) != 1)
		return -1;
	m = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 |
	    b[3];
	if ((~m & (~m + 1)) != 0)
		m = ~m;
	if ((~m & (~m + 1)) != 0)
		return -1;
	for (n = 0; n < 32 && (m & (UINT32_C(1) << (31 - n))); n++)
		;
	*out = n;
	return 0;
}

static int parse_prefix(struct ip *ip, const char *s)
{
	unsigned n = 0;
	const char *p;

	if (!*s)
		return -1;
	if (strchr(s, '.'))
		return ip->v6 ? -1 : mask_prefix(s, &ip->prefix);
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		n = n * 10 + (unsigned)(*p - '0');
		if (n > 128)
			return -1;
	}
	if (n > IP_BITS(ip))
		return -1;
	ip->prefix = n;
	return 0;
}

/* "addr[/len]" or, for IPv4, "addr/netmask". 0 or -1. */
static int ip_parse(struct ip *ip, const char *s)
{
	char addr[64];
	const char *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : strlen(s);

	memset(ip, 0, sizeof(*ip));
	if (len == 0 || len >= sizeof(addr))
		return -1;
	memcpy(addr, s, len);
	addr[len] = '\0';
	if (inet_pton(AF_INET, addr, ip->a) != 1) {
		if (inet_pton(AF_INET6, addr, ip->a) != 1)
			return -1;
		ip->v6 = 1;
	}
	ip->prefix = IP_BITS(ip);
	return slash ? parse_prefix(ip, slash + 1) : 0;
}

static bool ip_host_bits(const struct ip *ip)
{
	unsigned i, bit;

	for (i = ip->prefix; i < IP_BITS(ip); i++) {
		bit = 0x80u >> (i % 8);
		if (ip->a[i / 8] & bit)
			return true;
	}
	return false;
}

static void ip_clear_host_bits(struct ip *ip)
{
	unsigned i;

	for (i = ip->prefix; i < IP_BITS(ip); i++)
		ip->a[i / 8] &= (unsigned char)~(0x80u >> (i % 8));
}

/* The longest run of two or more zero groups, first on a tie (RFC 5952). */
static void ip6_zero_run(const unsigned *g, int *start, int *len)
{
	int i, cur = 0;

	*start = -1;
	*len = 0;
	for (i = 0; i < 8; i++) {
		cur = g[i] == 0 ? cur + 1 : 0;
		if (cur > *len) {
			*len = cur;
			*start = i - cur + 1;
		}
	}
	if (*len < 2)
		*start = -1;
}

static void ip6_format(char *buf, size_t n, const unsigned char *a)
{
	unsigned g[8];
	size_t pos = 0;
	int i, start, len;

	for (i = 0; i < 8; i++)
		g[i] = (unsigned)a[2 * (size_t)i] << 8 | a[2 * (size_t)i + 1];
	ip6_zero_run(g, &start, &len);
	buf[0] = '\0';
	for (i = 0; i < 8 && pos < n; i++) {
		if (i == start) {
			snprintf(buf + pos, n - pos, "::");
			i += len - 1;
		} else {
			snprintf(buf + pos, n - pos, "%s%x",
			         pos && buf[pos - 1] != ':' ? ":" : "", g[i]);
		}
		pos += strlen(buf + pos);
	}
}

/* "address/prefixlen" in Infrahub's spelling. */
static void ip_format(char *buf, size_t n, const struct ip *ip)
{
	size_t len;

	if (ip->v6)
		ip6_format(buf, n, ip->a);
	else
		snprintf(buf, n, "%u.%u.%u.%u", ip->a[0], ip->a[1], ip->a[2],
		         ip->a[3]);
	len = strlen(buf);
	snprintf(buf + len, n - len, "/%u", ip->prefix);
}

static int check_ip(json_t **out, const struct hf_value_spec *spec,
                    const json_t *in, hf_error *err)
{
	const char *what = spec->kind == HF_ATTR_IPNETWORK ? "an IP network"
	                                                   : "an IP address";
	char text[64], detail[96];
	struct ip ip;

	if (!json_is_string(in))
		return type_error(spec, what, in, "", err);
	if (ip_parse(&ip, json_string_value(in)) < 0)
		return value_error(spec, json_string_value(in),
		                   spec->kind == HF_ATTR_IPNETWORK
		                           ? "is not a valid IP network"
		                           : "is not a valid IP address",
		                   "", err);
	if (spec->kind == HF_ATTR_IPNETWORK && ip_host_bits(&ip)) {
		ip_clear_host_bits(&ip);
		ip_format(text, sizeof(text), &ip);
		snprintf(detail, sizeof(detail), " (the network is %s)", text);
		return value_error(spec, json_string_value(in),
		                   "has host bits set", detail, err);
	}
	ip_format(text, sizeof(text), &ip);
	*out = json_string(text);
	return *out ? 0 : hf_error_set(err, HF_ENOMEM, "out of memory");
}

/* ------------------------------------------------------------ DateTime */

struct instant {
	long long secs; /* since 1970-01-01T00:00:00Z */
	long usec;
};

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(long long z, long long *y, unsigned *m, unsigned *d)
{
	long long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static unsigned days_in_month(long long y, unsigned m)
{
	static const unsigned char dim[] = { 31, 28, 31, 30, 31, 30,
		                             31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dim[m - 1];
}

/* Exactly n digits at *p; advances. */
static int digits(const char **p, int n, unsigned *out)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		v = v * 10 + (unsigned)((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

/* [.,]fraction: microseconds, extra digits truncated. */
static int dt_fraction(const char **p, long *usec)
{
	long scale = 100000;
	int n = 0;

	*usec = 0;
	if (**p != '.' && **p != ',')
		return 0;
	for ((*p)++; **p >= '0' && **p <= '9'; (*p)++, n++) {
		*usec += (**p - '0') * scale;
		scale /= 10;
	}
	return n ? 0 : -1;
}

/* Z, +HH, +HHMM, +HH:MM (or -) at *p, as seconds east of UTC. */
static int dt_offset(const char **p, long *off)
{
	unsigned h, m = 0;
	int sign;

	*off = 0;
	if (**p == 'Z' || **p == 'z') {
		(*p)++;
		return 0;
	}
	if (**p != '+' && **p != '-')
		return 0;
	sign = **p == '-' ? -1 : 1;
	(*p)++;
	if (digits(p, 2, &h) < 0 || h > 23)
		return -1;
	if (**p == ':' || (**p >= '0' && **p <= '9')) {
		if (**p == ':')
			(*p)++;
		if (digits(p, 2, &m) < 0 || m > 59)
			return -1;
	}
	*off = sign * ((long)h * 3600 + (long)m * 60);
	return 0;
}

/* HH:MM[:SS[.frac]] at *p, as seconds into the day. */
static int dt_time(const char **p, long *secs, long *usec)
{
	unsigned h, m, s = 0;

	if (digits(p, 2, &h) < 0 || h > 23 || *(*p)++ != ':' ||
	    digits(p, 2, &m) < 0 || m > 59)
		return -1;
	*usec = 0;
	if (**p == ':') {
		(*p)++;
		if (digits(p, 2, &s) < 0 || s > 59 || dt_fraction(p, usec) < 0)
			return -1;
	}
	*secs = (long)h * 3600 + (long)m * 60 + (long)s;
	return 0;
}

static int dt_parse(struct instant *t, const char *s)
{
	unsigned y, mo, d;
	long secs = 0, off = 0;
	const char *p = s;

	t->usec = 0;
	if (digits(&p, 4, &y) < 0 || y == 0 || *p++ != '-' ||
	    digits(&p, 2, &mo) < 0 || mo < 1 || mo > 12 || *p++ != '-' ||
	    digits(&p, 2, &d) < 0 || d < 1 || d > days_in_month(y, mo))
		return -1;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (dt_time(&p, &secs, &t->usec) < 0 || dt_offset(&p, &off) < 0)
			return -1;
	}
	if (*p)
		return -1;
	t->secs = days_from_civil(y, mo, d) * 86400 + secs - off;
	return 0;
}

/* The canonical UTC spelling; -1 when the year leaves 1..9999. */
static int dt_format(char *buf, size_t n, const struct instant *t)
{
	long long days = t->secs / 86400, rem = t->secs % 86400, y;
	unsigned mo, d;
	char frac[16] = "";
	size_t len;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &mo, &d);
	if (y < 1 || y > 9999)
		return -1;
	if (t->usec) {
		snprintf(frac, sizeof(frac), ".%06ld", t->usec);
		for (len = strlen(frac); len > 1 && frac[len - 1] == '0'; len--)
			frac[len - 1] = '\0';
	}
	snprintf(buf, n, "%04lld-%02u-%02uT%02lld:%02lld:%02lld%sZ", y, mo, d,
	         rem / 3600, rem % 3600 / 60, rem % 60, frac);
	return 0;
}

static int check_datetime(json_t **out, const struct hf_value_spec *spec,
                          const json_t *in, hf_error *err)
{
	struct instant t;
	char text[64];

	if (!json_is_string(in))
		return type_error(spec, "an ISO-8601 date and time (a string)",
		                  in, "", err);
	if (dt_parse(&t, json_string_value(in)) < 0 ||
	    dt_format(text, sizeof(text), &t) < 0)
		return value_error(spec, json_string_value(in),
		                   "is not an ISO-8601 date and time",
		                   " (e.g. 2024-05-01T12:00:00Z)", err);
	*out = json_string(text);
	return *out ? 0 : hf_error_set(err, HF_ENOMEM, "out of memory");
}

/* ---------------------------------------------------------- MacAddress */

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/*
 * EUI-48 or EUI-64: bare hex (12 or 16 digits), groups of one or two
 * digits separated by ':' or '-' (6 or 8 groups), or groups of four
 * separated by '.' (3 or 4 groups).
 */
static bool mac_valid(const char *s)
{
	size_t groups = 0, glen = 0, gmin = SIZE_MAX, gmax = 0;
	char sep = 0;

	for (;; s++) {
		if (is_hex(*s)) {
			glen++;
			continue;
		}
		if (glen == 0 || (*s && *s != ':' && *s != '-' && *s != '.') ||
		    (*s && sep && *s != sep))
			return false;
		groups++;
		gmin = glen < gmin ? glen : gmin;
		gmax = glen > gmax ? glen : gmax;
		glen = 0;
		if (!*s)
			break;
		sep = *s;
	}
	if (!sep)
		return gmax == 12 || gmax == 16;
	if (sep == '.')
		return gmin == 4 && gmax == 4 && (groups == 3 || groups == 4);
	return gmax <= 2 && (groups == 6 || groups == 8);
}

static int check_mac(json_t **out, const struct hf_value_spec *spec,
                     const json_t *in, hf_error *err)
{
	if (!json_is_string(in))
		return type_error(spec, "a MAC address (a string)", in, "",
		                  err);
	if (!mac_valid(json_string_value(in)))
		return value_error(spec, json_string_value(in),
		                   "is not a MAC address", "", err);
	*out = ref(in);
	return 0;
}

/* --------------------------------------------------------------- secrets */

/* What a value is, never what it holds: messages about secrets. */
static const char *shape(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_ARRAY:
		return "a list";
	case JSON_OBJECT:
		return "a mapping";
	default:
		return "null";
	}
}

static bool in_enum(const struct hf_value_spec *spec, const json_t *in)
{
	const json_t *e;
	size_t i;

	if (!json_is_array(spec->enum_values) ||
	    json_array_size(spec->enum_values) == 0)
		return true;
	json_array_foreach(spec->enum_values, i, e)
	{
		if (json_equal(e, in))
			return true;
	}
	return false;
}

/*
 * A secret is checked like text, but no message may quote it: an error
 * line ends up in terminals, CI logs and pull-request comments.
 */
static int check_secret(json_t **out, const struct hf_value_spec *spec,
                        const json_t *in, hf_error *err)
{
	char subj[160];
	size_t n;

	subject(subj, sizeof(subj), spec);
	if (!json_is_string(in))
		return hf_error_set(err, HF_EINVAL,
		                    "expected a string for %s, found %s (the "
		                    "value is not shown)",
		                    subj, shape(in));
	n = utf8_len(json_string_value(in));
	if (spec->min_length && n < spec->min_length)
		return hf_error_set(err, HF_EINVAL,
		                    "the value of %s is too short (%zu "
		                    "characters, at least %zu)",
		                    subj, n, spec->min_length);
	if (spec->max_length && n > spec->max_length)
		return hf_error_set(err, HF_EINVAL,
		                    "the value of %s is too long (%zu "
		                    "characters, at most %zu)",
		                    subj, n, spec->max_length);
	if (!in_enum(spec, in))
		return hf_error_set(err, HF_EINVAL,
		                    "the value of %s is not an allowed value "
		                    "(the value is not shown)",
		                    subj);
	*out = ref(in);
	return 0;
}

/* ---------------------------------------------------------------- entry */

int hf_value_check(json_t **out, const struct hf_value_spec *spec,
                   const json_t *in, hf_error *err)
{
	*out = NULL;
	if (!in || json_is_null(in)) {
		*out = json_null();
		return 0;
	}
	switch (spec->kind) {
	case HF_ATTR_NUMBER:
	case HF_ATTR_BANDWIDTH:
		return check_integer(out, spec, in, err);
	case HF_ATTR_BOOLEAN:
	case HF_ATTR_CHECKBOX:
		return check_boolean(out, spec, in, err);
	case HF_ATTR_DROPDOWN:
		return check_dropdown(out, spec, in, err);
	case HF_ATTR_IPHOST:
	case HF_ATTR_IPNETWORK:
		return check_ip(out, spec, in, err);
	case HF_ATTR_DATETIME:
		return check_datetime(out, spec, in, err);
	case HF_ATTR_MAC_ADDRESS:
		return check_mac(out, spec, in, err);
	case HF_ATTR_LIST:
		if (!json_is_array(in))
			return type_error(spec, "a list", in, "", err);
		*out = ref(in);
		return 0;
	case HF_ATTR_JSON:
	case HF_ATTR_ANY:
	case HF_ATTR_OTHER:
		*out = ref(in);
		return 0;
	case HF_ATTR_PASSWORD:
	case HF_ATTR_HASHED_PASSWORD:
		return check_secret(out, spec, in, err);
	default:
		return check_string(out, spec, in, err);
	}
}

int hf_value_normalise(json_t **out, enum hf_attr_kind kind, const json_t *in)
{
	struct hf_value_spec spec = HF_VALUE_SPEC_INIT;
	hf_error err = HF_ERROR_INIT;
	int rc;

	spec.kind = kind;
	rc = hf_value_check(out, &spec, in, &err);
	if (rc == HF_EINVAL) {
		*out = in ? ref(in) : json_null();
		rc = 0;
	}
	return rc;
}

/* ------------------------------------------------------------ equality */

static bool num_equal(const json_t *a, const json_t *b)
{
	if (json_is_integer(a) && json_is_integer(b))
		return json_integer_value(a) == json_integer_value(b);
	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	return json_equal(a, b);
}

static bool ip_equal(const json_t *a, const json_t *b)
{
	struct ip x, y;

	if (!json_is_string(a) || !json_is_string(b) ||
	    ip_parse(&x, json_string_value(a)) < 0 ||
	    ip_parse(&y, json_string_value(b)) < 0)
		return json_equal(a, b);
	return x.v6 == y.v6 && x.prefix == y.prefix &&
	       memcmp(x.a, y.a, IP_ALEN(&x)) == 0;
}

static bool dt_equal(const json_t *a, const json_t *b)
{
	struct instant x, y;

	if (!json_is_string(a) || !json_is_string(b) ||
	    dt_parse(&x, json_string_value(a)) < 0 ||
	    dt_parse(&y, json_string_value(b)) < 0)
		return json_equal(a, b);
	return x.secs == y.secs && x.usec == y.usec;
}

bool hf_value_equal(enum hf_attr_kind kind, const json_t *a, const json_t *b)
{
	if (!a)
		a = json_null();
	if (!b)
		b = json_null();
	if (json_is_null(a) || json_is_null(b))
		return json_is_null(a) && json_is_null(b);
	switch (kind) {
	case HF_ATTR_NUMBER:
	case HF_ATTR_BANDWIDTH:
		return num_equal(a, b);
	case HF_ATTR_IPHOST:
	case HF_ATTR_IPNETWORK:
		return ip_equal(a, b);
	case HF_ATTR_DATETIME:
		return dt_equal(a, b);
	case HF_ATTR_MAC_ADDRESS:
		if (json_is_string(a) && json_is_string(b))
			return strcasecmp(json_string_value(a),
			                  json_string_value(b)) == 0;
		return json_equal(a, b);
	default:
		return json_equal(a, b);
	}
}
