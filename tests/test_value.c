/* Tests for hf_value: checking, normalisation and equality per kind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "failalloc.h"
#include "hf/alloc.h"
#include "hf/value.h"

/*
 * One case: `in` (JSON text) checked as `kind`; `want` is the normalised
 * value as JSON text, or NULL when the check must fail with a message
 * containing `msg`.
 */
struct vcase {
	enum hf_attr_kind kind;
	const char *in;
	const char *want;
	const char *msg;
};

static json_t *load(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);

	if (!v)
		fail_msg("bad test JSON %s: %s", text, jerr.text);
	return v;
}

static void run_case(const struct vcase *c, const struct hf_value_spec *base)
{
	struct hf_value_spec spec = *base;
	hf_error err = HF_ERROR_INIT;
	json_t *in = load(c->in), *out = NULL, *want;
	int rc;

	spec.kind = c->kind;
	rc = hf_value_check(&out, &spec, in, &err);
	if (c->want) {
		if (rc != 0)
			fail_msg("%s %s: unexpected error: %s",
			         hf_attr_kind_name(c->kind), c->in, err.msg);
		want = load(c->want);
		if (!json_equal(out, want)) {
			char *got = json_dumps(out, JSON_ENCODE_ANY);

			fail_msg("%s %s: got %s, want %s",
			         hf_attr_kind_name(c->kind), c->in, got,
			         c->want);
		}
		json_decref(want);
	} else {
		if (rc != HF_EINVAL)
			fail_msg("%s %s: accepted, want an error",
			         hf_attr_kind_name(c->kind), c->in);
		assert_null(out);
		assert_int_equal(err.code, HF_EINVAL);
		if (c->msg && !strstr(err.msg, c->msg))
			fail_msg("%s %s: message '%s' lacks '%s'",
			         hf_attr_kind_name(c->kind), c->in, err.msg,
			         c->msg);
	}
	json_decref(out);
	json_decref(in);
}

static void run_table(const struct vcase *cases, size_t n,
                      const struct hf_value_spec *base)
{
	size_t i;

	for (i = 0; i < n; i++)
		run_case(&cases[i], base);
}

#define RUN(cases, spec) run_table(cases, sizeof(cases) / sizeof(*cases), spec)

static const struct hf_value_spec named = { HF_ATTR_TEXT, "x", NULL, NULL, 0,
	                                    NULL,         0,   0 };

/* clang-format off */
static const struct vcase text_cases[] = {
	{ HF_ATTR_TEXT, "\"abc\"", "\"abc\"", NULL },
	{ HF_ATTR_TEXT, "\"\"", "\"\"", NULL },
	{ HF_ATTR_TEXT, "\"  keep spaces \"", "\"  keep spaces \"", NULL },
	{ HF_ATTR_TEXT, "null", "null", NULL },
	{ HF_ATTR_TEXT, "42", NULL, "expected a string for Text attribute 'x', found the number 42 (quote it: \"42\")" },
	{ HF_ATTR_TEXT, "1.5", NULL, "(quote it: \"1.5\")" },
	{ HF_ATTR_TEXT, "true", NULL, "found the boolean true (quote it: \"true\")" },
	{ HF_ATTR_TEXT, "[1]", NULL, "found a list" },
	{ HF_ATTR_TEXT, "{\"a\":1}", NULL, "found a mapping" },
	{ HF_ATTR_TEXTAREA, "\"line1\\nline2\"", "\"line1\\nline2\"", NULL },
	{ HF_ATTR_EMAIL, "\"a@b.c\"", "\"a@b.c\"", NULL },
	{ HF_ATTR_URL, "\"https://x\"", "\"https://x\"", NULL },
	{ HF_ATTR_COLOR, "\"#ffffff\"", "\"#ffffff\"", NULL },
	{ HF_ATTR_PASSWORD, "\"s3cret\"", "\"s3cret\"", NULL },
	{ HF_ATTR_HASHED_PASSWORD, "12", NULL, "expected a string for HashedPassword attribute 'x'" },
	{ HF_ATTR_ID, "\"abc\"", "\"abc\"", NULL },
	{ HF_ATTR_FILE, "false", NULL, "expected a string" },
};

static const struct vcase number_cases[] = {
	{ HF_ATTR_NUMBER, "100", "100", NULL },
	{ HF_ATTR_NUMBER, "-5", "-5", NULL },
	{ HF_ATTR_NUMBER, "0", "0", NULL },
	{ HF_ATTR_NUMBER, "100.0", "100", NULL },
	{ HF_ATTR_NUMBER, "9007199254740993", "9007199254740993", NULL },
	{ HF_ATTR_NUMBER, "1.5", NULL, "expected an integer for Number attribute 'x', found the number 1.5" },
	{ HF_ATTR_NUMBER, "1e30", NULL, "expected an integer" },
	{ HF_ATTR_NUMBER, "\"100\"", NULL, "found the string \"100\" (write it without quotes)" },
	{ HF_ATTR_NUMBER, "\"-7\"", NULL, "(write it without quotes)" },
	{ HF_ATTR_NUMBER, "\"abc\"", NULL, "found the string \"abc\"" },
	{ HF_ATTR_NUMBER, "true", NULL, "found the boolean true" },
	{ HF_ATTR_NUMBER, "[]", NULL, "found a list" },
	{ HF_ATTR_BANDWIDTH, "10000", "10000", NULL },
	{ HF_ATTR_BANDWIDTH, "\"10G\"", NULL, "expected an integer for Bandwidth attribute 'x'" },
};

static const struct vcase bool_cases[] = {
	{ HF_ATTR_BOOLEAN, "true", "true", NULL },
	{ HF_ATTR_BOOLEAN, "false", "false", NULL },
	{ HF_ATTR_CHECKBOX, "true", "true", NULL },
	{ HF_ATTR_BOOLEAN, "\"yes\"", NULL, "expected true or false for Boolean attribute 'x', found the string \"yes\" (write true or false without quotes)" },
	{ HF_ATTR_BOOLEAN, "\"True\"", NULL, "(write true or false without quotes)" },
	{ HF_ATTR_BOOLEAN, "1", NULL, "found the number 1" },
	{ HF_ATTR_CHECKBOX, "\"maybe\"", NULL, "found the string \"maybe\"" },
};

static const struct vcase iphost_cases[] = {
	{ HF_ATTR_IPHOST, "\"10.0.0.1\"", "\"10.0.0.1/32\"", NULL },
	{ HF_ATTR_IPHOST, "\"10.0.0.1/24\"", "\"10.0.0.1/24\"", NULL },
	{ HF_ATTR_IPHOST, "\"10.0.0.1/024\"", "\"10.0.0.1/24\"", NULL },
	{ HF_ATTR_IPHOST, "\"10.0.0.1/0\"", "\"10.0.0.1/0\"", NULL },
	{ HF_ATTR_IPHOST, "\"10.0.0.1/255.255.255.0\"", "\"10.0.0.1/24\"", NULL },
	{ HF_ATTR_IPHOST, "\"10.0.0.1/0.0.0.255\"", "\"10.0.0.1/24\"", NULL },
	{ HF_ATTR_IPHOST, "\"10.0.0.1/0.0.0.0\"", "\"10.0.0.1/0\"", NULL },
	{ HF_ATTR_IPHOST, "\"10.0.0.1/255.255.255.255\"", "\"10.0.0.1/32\"", NULL },
	{ HF_ATTR_IPHOST, "\"2001:DB8:0:0:0:0:0:1\"", "\"2001:db8::1/128\"", NULL },
	{ HF_ATTR_IPHOST, "\"2001:0db8::0001/64\"", "\"2001:db8::1/64\"", NULL },
	{ HF_ATTR_IPHOST, "\"2001:db8:0:0:1:0:0:1\"", "\"2001:db8::1:0:0:1/128\"", NULL },
	{ HF_ATTR_IPHOST, "\"2001:db8:0:1:1:1:1:1\"", "\"2001:db8:0:1:1:1:1:1/128\"", NULL },
	{ HF_ATTR_IPHOST, "\"1:0:1:0:1:0:1:0\"", "\"1:0:1:0:1:0:1:0/128\"", NULL },
	{ HF_ATTR_IPHOST, "\"0:0:1:0:0:0:0:0\"", "\"0:0:1::/128\"", NULL },
	{ HF_ATTR_IPHOST, "\"1:0:0:2:0:0:0:3\"", "\"1:0:0:2::3/128\"", NULL },
	{ HF_ATTR_IPHOST, "\"1:0:0:2:3:0:0:4\"", "\"1::2:3:0:0:4/128\"", NULL },
	{ HF_ATTR_IPHOST, "\"::\"", "\"::/128\"", NULL },
	{ HF_ATTR_IPHOST, "\"::1\"", "\"::1/128\"", NULL },
	{ HF_ATTR_IPHOST, "\"1::\"", "\"1::/128\"", NULL },
	{ HF_ATTR_IPHOST, "\"FE80::A:B/10\"", "\"fe80::a:b/10\"", NULL },
	{ HF_ATTR_IPHOST, "\"::ffff:10.0.0.1\"", "\"::ffff:a00:1/128\"", NULL },
	{ HF_ATTR_IPHOST, "\"10.0.0.256\"", NULL, "\"10.0.0.256\" is not a valid IP address for IPHost attribute 'x'" },
	{ HF_ATTR_IPHOST, "\"010.0.0.1\"", NULL, "is not a valid IP address" },
	{ HF_ATTR_IPHOST, "\"10.0.0\"", NULL, "is not a valid IP address" },
	{ HF_ATTR_IPHOST, "\"10.0.0.1/33\"", NULL, "is not a valid IP address" },
	{ HF_ATTR_IPHOST, "\"10.0.0.1/\"", NULL, "is not a valid IP address" },
	{ HF_ATTR_IPHOST, "\"10.0.0.1/-1\"", NULL, "is not a valid IP address" },
	{ HF_ATTR_IPHOST, "\"10.0.0.1/24 \"", NULL, "is not a valid IP address" },
	{ HF_ATTR_IPHOST, "\" 10.0.0.1\"", NULL, "is not a valid IP address" },
	{ HF_ATTR_IPHOST, "\"10.0.0.1/255.0.255.0\"", NULL, "is not a valid IP address" },
	{ HF_ATTR_IPHOST, "\"2001:db8::1/129\"", NULL, "is not a valid IP address" },
	{ HF_ATTR_IPHOST, "\"2001:db8::1/ffff::\"", NULL, "is not a valid IP address" },
	{ HF_ATTR_IPHOST, "\"fe80::1%eth0\"", NULL, "is not a valid IP address" },
	{ HF_ATTR_IPHOST, "\"1::2::3\"", NULL, "is not a valid IP address" },
	{ HF_ATTR_IPHOST, "\"\"", NULL, "is not a valid IP address" },
	{ HF_ATTR_IPHOST, "42", NULL, "expected an IP address for IPHost attribute 'x', found the number 42" },
};

static const struct vcase ipnet_cases[] = {
	{ HF_ATTR_IPNETWORK, "\"10.0.0.0/24\"", "\"10.0.0.0/24\"", NULL },
	{ HF_ATTR_IPNETWORK, "\"10.0.0.0/255.255.0.0\"", "\"10.0.0.0/16\"", NULL },
	{ HF_ATTR_IPNETWORK, "\"0.0.0.0/0\"", "\"0.0.0.0/0\"", NULL },
	{ HF_ATTR_IPNETWORK, "\"10.0.0.7\"", "\"10.0.0.7/32\"", NULL },
	{ HF_ATTR_IPNETWORK, "\"2001:DB8::/32\"", "\"2001:db8::/32\"", NULL },
	{ HF_ATTR_IPNETWORK, "\"2001:db8:0:0:0:0:0:0/48\"", "\"2001:db8::/48\"", NULL },
	{ HF_ATTR_IPNETWORK, "\"10.0.0.1/24\"", NULL, "\"10.0.0.1/24\" has host bits set for IPNetwork attribute 'x' (the network is 10.0.0.0/24)" },
	{ HF_ATTR_IPNETWORK, "\"10.1.2.3/255.255.0.0\"", NULL, "(the network is 10.1.0.0/16)" },
	{ HF_ATTR_IPNETWORK, "\"10.0.0.128/25\"", "\"10.0.0.128/25\"", NULL },
	{ HF_ATTR_IPNETWORK, "\"10.0.0.129/25\"", NULL, "(the network is 10.0.0.128/25)" },
	{ HF_ATTR_IPNETWORK, "\"2001:db8::1/32\"", NULL, "(the network is 2001:db8::/32)" },
	{ HF_ATTR_IPNETWORK, "\"2001:db8:8000::/33\"", "\"2001:db8:8000::/33\"", NULL },
	{ HF_ATTR_IPNETWORK, "\"10.0.0.0/40\"", NULL, "is not a valid IP network" },
	{ HF_ATTR_IPNETWORK, "[\"10.0.0.0/8\"]", NULL, "expected an IP network" },
};

static const struct vcase dt_cases[] = {
	{ HF_ATTR_DATETIME, "\"2024-05-01T12:00:00Z\"", "\"2024-05-01T12:00:00Z\"", NULL },
	{ HF_ATTR_DATETIME, "\"2024-05-01T14:00:00+02:00\"", "\"2024-05-01T12:00:00Z\"", NULL },
	{ HF_ATTR_DATETIME, "\"2024-05-01T14:00:00+0200\"", "\"2024-05-01T12:00:00Z\"", NULL },
	{ HF_ATTR_DATETIME, "\"2024-05-01T14:00:00+02\"", "\"2024-05-01T12:00:00Z\"", NULL },
	{ HF_ATTR_DATETIME, "\"2024-05-01T00:30:00+01:00\"", "\"2024-04-30T23:30:00Z\"", NULL },
	{ HF_ATTR_DATETIME, "\"2024-02-29T23:00:00-01:00\"", "\"2024-03-01T00:00:00Z\"", NULL },
	{ HF_ATTR_DATETIME, "\"2024-05-01\"", "\"2024-05-01T00:00:00Z\"", NULL },
	{ HF_ATTR_DATETIME, "\"2024-05-01T12:00\"", "\"2024-05-01T12:00:00Z\"", NULL },
	{ HF_ATTR_DATETIME, "\"2024-05-01 12:00:00.500000+00:00\"", "\"2024-05-01T12:00:00.5Z\"", NULL },
	{ HF_ATTR_DATETIME, "\"2024-12-31T23:59:59.1234567-00:30\"", "\"2025-01-01T00:29:59.123456Z\"", NULL },
	{ HF_ATTR_DATETIME, "\"1969-12-31T23:59:59z\"", "\"1969-12-31T23:59:59Z\"", NULL },
	{ HF_ATTR_DATETIME, "\"2000-02-29\"", "\"2000-02-29T00:00:00Z\"", NULL },
	{ HF_ATTR_DATETIME, "\"1900-02-29\"", NULL, "is not an ISO-8601 date and time" },
	{ HF_ATTR_DATETIME, "\"2023-02-29\"", NULL, "\"2023-02-29\" is not an ISO-8601 date and time for DateTime attribute 'x'" },
	{ HF_ATTR_DATETIME, "\"2024-13-01\"", NULL, "is not an ISO-8601" },
	{ HF_ATTR_DATETIME, "\"2024-05-01T25:00:00Z\"", NULL, "is not an ISO-8601" },
	{ HF_ATTR_DATETIME, "\"2024-05-01T12:00:00.Z\"", NULL, "is not an ISO-8601" },
	{ HF_ATTR_DATETIME, "\"2024-05-01T12:00:00+25:00\"", NULL, "is not an ISO-8601" },
	{ HF_ATTR_DATETIME, "\"2024-05-01T12:00:00Zjunk\"", NULL, "is not an ISO-8601" },
	{ HF_ATTR_DATETIME, "\"2024-05-01T12:00:00+02:\"", NULL, "is not an ISO-8601" },
	{ HF_ATTR_DATETIME, "\"2024-05-01T12:00:00+02:3\"", NULL, "is not an ISO-8601" },
	{ HF_ATTR_DATETIME, "\"2024-05-01T12:00:00+0260\"", NULL, "is not an ISO-8601" },
	{ HF_ATTR_DATETIME, "\"0001-01-01T00:00:00+01:00\"", NULL, "is not an ISO-8601" },
	{ HF_ATTR_DATETIME, "\"yesterday\"", NULL, "is not an ISO-8601" },
	{ HF_ATTR_DATETIME, "1714564800", NULL, "expected an ISO-8601 date and time (a string)" },
};

static const struct vcase mac_cases[] = {
	{ HF_ATTR_MAC_ADDRESS, "\"00:1B:77:49:54:FD\"", "\"00:1B:77:49:54:FD\"", NULL },
	{ HF_ATTR_MAC_ADDRESS, "\"00-1b-77-49-54-fd\"", "\"00-1b-77-49-54-fd\"", NULL },
	{ HF_ATTR_MAC_ADDRESS, "\"001b.7749.54fd\"", "\"001b.7749.54fd\"", NULL },
	{ HF_ATTR_MAC_ADDRESS, "\"001b774954fd\"", "\"001b774954fd\"", NULL },
	{ HF_ATTR_MAC_ADDRESS, "\"0:1b:77:49:54:fd\"", "\"0:1b:77:49:54:fd\"", NULL },
	{ HF_ATTR_MAC_ADDRESS, "\"00:1b:77:ff:fe:49:54:fd\"", "\"00:1b:77:ff:fe:49:54:fd\"", NULL },
	{ HF_ATTR_MAC_ADDRESS, "\"00:1b:77:49:54\"", NULL, "\"00:1b:77:49:54\" is not a MAC address for MacAddress attribute 'x'" },
	{ HF_ATTR_MAC_ADDRESS, "\"zz:zz:zz:zz:zz:zz\"", NULL, "is not a MAC address" },
	{ HF_ATTR_MAC_ADDRESS, "\"00:1b-77:49:54:fd\"", NULL, "is not a MAC address" },
	{ HF_ATTR_MAC_ADDRESS, "\"00:1b:77:49:54:fd:\"", NULL, "is not a MAC address" },
	{ HF_ATTR_MAC_ADDRESS, "\"001b77:4954fd\"", NULL, "is not a MAC address" },
	{ HF_ATTR_MAC_ADDRESS, "\"001b.7749.54f\"", NULL, "is not a MAC address" },
	{ HF_ATTR_MAC_ADDRESS, "\"001b774954f\"", NULL, "is not a MAC address" },
	{ HF_ATTR_MAC_ADDRESS, "\"001:b77:49:54:fd\"", NULL, "is not a MAC address" },
	{ HF_ATTR_MAC_ADDRESS, "\"00.1b.77.49.54.fd\"", NULL, "is not a MAC address" },
	{ HF_ATTR_MAC_ADDRESS, "12", NULL, "expected a MAC address (a string)" },
};

static const struct vcase json_cases[] = {
	{ HF_ATTR_LIST, "[1,\"a\"]", "[1,\"a\"]", NULL },
	{ HF_ATTR_LIST, "[]", "[]", NULL },
	{ HF_ATTR_LIST, "\"a\"", NULL, "expected a list for List attribute 'x', found the string \"a\"" },
	{ HF_ATTR_LIST, "{}", NULL, "found a mapping" },
	{ HF_ATTR_JSON, "{\"a\":[1,{\"b\":null}]}", "{\"a\":[1,{\"b\":null}]}", NULL },
	{ HF_ATTR_JSON, "5", "5", NULL },
	{ HF_ATTR_ANY, "\"x\"", "\"x\"", NULL },
	{ HF_ATTR_ANY, "1.25", "1.25", NULL },
	{ HF_ATTR_OTHER, "{\"pool\":1}", "{\"pool\":1}", NULL },
};
/* clang-format on */

static void test_value__text(void **state)
{
	(void)state;
	RUN(text_cases, &named);
}

static void test_value__number(void **state)
{
	(void)state;
	RUN(number_cases, &named);
}

static void test_value__boolean(void **state)
{
	(void)state;
	RUN(bool_cases, &named);
}

static void test_value__iphost(void **state)
{
	(void)state;
	RUN(iphost_cases, &named);
}

static void test_value__ipnetwork(void **state)
{
	(void)state;
	RUN(ipnet_cases, &named);
}

static void test_value__datetime(void **state)
{
	(void)state;
	RUN(dt_cases, &named);
}

static void test_value__mac_address(void **state)
{
	(void)state;
	RUN(mac_cases, &named);
}

static void test_value__list_and_json(void **state)
{
	(void)state;
	RUN(json_cases, &named);
}

static void test_value__null_is_accepted_by_every_kind(void **state)
{
	struct hf_value_spec spec = named;
	json_t *out = NULL;
	int k;

	(void)state;
	for (k = HF_ATTR_OTHER; k <= HF_ATTR_ANY; k++) {
		spec.kind = (enum hf_attr_kind)k;
		assert_int_equal(hf_value_check(&out, &spec, NULL, NULL), 0);
		assert_true(json_is_null(out));
		json_decref(out);
		assert_int_equal(hf_value_check(&out, &spec, json_null(), NULL),
		                 0);
		assert_true(json_is_null(out));
		json_decref(out);
	}
}

static void test_value__dropdown(void **state)
{
	static const char *const choices[] = { "active", "planned" };
	struct hf_value_spec spec = HF_VALUE_SPEC_INIT;
	/* clang-format off */
	static const struct vcase cases[] = {
		{ HF_ATTR_DROPDOWN, "\"active\"", "\"active\"", NULL },
		{ HF_ATTR_DROPDOWN, "\"planned\"", "\"planned\"", NULL },
		{ HF_ATTR_DROPDOWN, "\"Active\"", NULL, "is not a valid choice" },
		{ HF_ATTR_DROPDOWN, "\"bogus\"", NULL, "\"bogus\" is not a valid choice for Dropdown attribute 'status'; valid choices: active, planned" },
		{ HF_ATTR_DROPDOWN, "1", NULL, "expected a choice name (a string) for Dropdown attribute 'status', found the number 1" },
	};
	static const struct vcase open_cases[] = {
		{ HF_ATTR_DROPDOWN, "\"anything\"", "\"anything\"", NULL },
		{ HF_ATTR_DROPDOWN, "true", NULL, "expected a choice name" },
	};
	/* clang-format on */

	(void)state;
	spec.name = "status";
	spec.choices = choices;
	spec.nchoices = 2;
	RUN(cases, &spec);
	/* A trimmed schema without choices accepts any name. */
	spec.choices = NULL;
	spec.nchoices = 0;
	RUN(open_cases, &spec);
}

static void test_value__enum_and_lengths(void **state)
{
	struct hf_value_spec spec = HF_VALUE_SPEC_INIT;
	json_t *values = load("[\"admin\", \"read-only\", \"read-write\"]");
	json_t *nums = load("[1, 2]");
	/* clang-format off */
	static const struct vcase enum_cases[] = {
		{ HF_ATTR_TEXT, "\"admin\"", "\"admin\"", NULL },
		{ HF_ATTR_TEXT, "\"root\"", NULL, "\"root\" is not an allowed value for Text attribute 'role'; allowed: admin, read-only, read-write" },
	};
	static const struct vcase num_cases[] = {
		{ HF_ATTR_NUMBER, "2", "2", NULL },
		{ HF_ATTR_NUMBER, "3", NULL, "allowed: 1, 2" },
	};
	static const struct vcase len_cases[] = {
		{ HF_ATTR_TEXT, "\"abc\"", "\"abc\"", NULL },
		{ HF_ATTR_TEXT, "\"h\\u00e9llo\"", "\"h\\u00e9llo\"", NULL },
		{ HF_ATTR_TEXT, "\"ab\"", NULL, "\"ab\" is too short for Text attribute 'role' (2 characters, at least 3)" },
		{ HF_ATTR_TEXT, "\"abcdef\"", NULL, "\"abcdef\" is too long for Text attribute 'role' (6 characters, at most 5)" },
	};
	/* clang-format on */

	(void)state;
	spec.name = "role";
	spec.enum_values = values;
	RUN(enum_cases, &spec);
	spec.enum_values = nums;
	RUN(num_cases, &spec);
	spec.enum_values = NULL;
	spec.min_length = 3;
	spec.max_length = 5;
	RUN(len_cases, &spec);
	json_decref(values);
	json_decref(nums);
}

static void test_value__message_without_name(void **state)
{
	struct hf_value_spec spec = HF_VALUE_SPEC_INIT;
	hf_error err = HF_ERROR_INIT;
	json_t *in = json_integer(3), *out = NULL;

	(void)state;
	spec.kind_name = "String";
	assert_int_equal(hf_value_check(&out, &spec, in, &err), HF_EINVAL);
	assert_string_equal(err.msg, "expected a string for a String "
	                             "attribute, found the number 3 (quote "
	                             "it: \"3\")");
	json_decref(in);
}

static void test_value__long_values_are_cut_in_messages(void **state)
{
	struct hf_value_spec spec = named;
	hf_error err = HF_ERROR_INIT;
	json_t *in = json_string("this-is-a-very-long-interface-name-that-"
	                         "goes-on-and-on"),
	       *out = NULL;

	(void)state;
	spec.kind = HF_ATTR_IPHOST;
	assert_int_equal(hf_value_check(&out, &spec, in, &err), HF_EINVAL);
	assert_non_null(strstr(err.msg,
	                       "\"this-is-a-very-long-interface-name-th...\""));
	json_decref(in);
}

static void test_value__kind_names(void **state)
{
	int k;

	(void)state;
	assert_int_equal(hf_attr_kind_from_name("String"), HF_ATTR_TEXT);
	assert_int_equal(hf_attr_kind_from_name("Text"), HF_ATTR_TEXT);
	assert_int_equal(hf_attr_kind_from_name("IPHost"), HF_ATTR_IPHOST);
	assert_int_equal(hf_attr_kind_from_name("NumberPool"), HF_ATTR_OTHER);
	assert_int_equal(hf_attr_kind_from_name(NULL), HF_ATTR_OTHER);
	assert_int_equal(hf_attr_kind_from_name("text"), HF_ATTR_OTHER);
	assert_string_equal(hf_attr_kind_name(HF_ATTR_TEXT), "Text");
	assert_string_equal(hf_attr_kind_name(HF_ATTR_MAC_ADDRESS),
	                    "MacAddress");
	assert_string_equal(hf_attr_kind_name(HF_ATTR_OTHER), "Other");
	for (k = HF_ATTR_TEXT; k <= HF_ATTR_ANY; k++)
		assert_int_equal(hf_attr_kind_from_name(hf_attr_kind_name(
		                         (enum hf_attr_kind)k)),
		                 k);
	assert_true(hf_attr_kind_is_string(HF_ATTR_DROPDOWN));
	assert_true(hf_attr_kind_is_string(HF_ATTR_IPHOST));
	assert_false(hf_attr_kind_is_string(HF_ATTR_NUMBER));
	assert_false(hf_attr_kind_is_string(HF_ATTR_JSON));
}

static void test_value__normalise_is_lenient(void **state)
{
	json_t *in = json_string("10.0.0.1"), *bad = json_string("bogus");
	json_t *out = NULL;

	(void)state;
	assert_int_equal(hf_value_normalise(&out, HF_ATTR_IPHOST, in), 0);
	assert_string_equal(json_string_value(out), "10.0.0.1/32");
	json_decref(out);
	assert_int_equal(hf_value_normalise(&out, HF_ATTR_IPHOST, bad), 0);
	assert_ptr_equal(out, bad);
	json_decref(out);
	assert_int_equal(hf_value_normalise(&out, HF_ATTR_TEXT, NULL), 0);
	assert_true(json_is_null(out));
	json_decref(out);
	json_decref(in);
	json_decref(bad);
}

struct eqcase {
	enum hf_attr_kind kind;
	const char *a;
	const char *b;
	bool equal;
};

/* clang-format off */
static const struct eqcase eq_cases[] = {
	{ HF_ATTR_NUMBER, "100", "100.0", true },
	{ HF_ATTR_NUMBER, "100", "100", true },
	{ HF_ATTR_NUMBER, "100", "101", false },
	{ HF_ATTR_NUMBER, "100", "\"100\"", false },
	{ HF_ATTR_BANDWIDTH, "1.5", "1.5", true },
	{ HF_ATTR_IPHOST, "\"10.0.0.1\"", "\"10.0.0.1/32\"", true },
	{ HF_ATTR_IPHOST, "\"10.0.0.1/24\"", "\"10.0.0.1/32\"", false },
	{ HF_ATTR_IPHOST, "\"10.0.0.1/24\"", "\"10.0.0.1/255.255.255.0\"", true },
	{ HF_ATTR_IPHOST, "\"2001:DB8::1\"", "\"2001:db8:0:0:0:0:0:1/128\"", true },
	{ HF_ATTR_IPHOST, "\"::ffff:10.0.0.1\"", "\"::ffff:a00:1/128\"", true },
	{ HF_ATTR_IPHOST, "\"::ffff:10.0.0.1\"", "\"10.0.0.1\"", false },
	{ HF_ATTR_IPHOST, "\"bogus\"", "\"bogus\"", true },
	{ HF_ATTR_IPHOST, "\"bogus\"", "\"10.0.0.1\"", false },
	{ HF_ATTR_IPNETWORK, "\"2001:db8::/32\"", "\"2001:0DB8:0::/32\"", true },
	{ HF_ATTR_IPNETWORK, "\"10.0.0.0/8\"", "\"10.0.0.0/16\"", false },
	{ HF_ATTR_DATETIME, "\"2024-05-01T14:00:00+02:00\"", "\"2024-05-01T12:00:00Z\"", true },
	{ HF_ATTR_DATETIME, "\"2024-05-01T12:00:00.000Z\"", "\"2024-05-01T12:00:00Z\"", true },
	{ HF_ATTR_DATETIME, "\"2024-05-01T12:00:01Z\"", "\"2024-05-01T12:00:00Z\"", false },
	{ HF_ATTR_DATETIME, "\"2024-05-01T12:00:00.1Z\"", "\"2024-05-01T12:00:00Z\"", false },
	{ HF_ATTR_MAC_ADDRESS, "\"00:1B:77:49:54:FD\"", "\"00:1b:77:49:54:fd\"", true },
	{ HF_ATTR_MAC_ADDRESS, "\"00:1b:77:49:54:fd\"", "\"00-1b-77-49-54-fd\"", false },
	{ HF_ATTR_TEXT, "\"a\"", "\"A\"", false },
	{ HF_ATTR_TEXT, "\"a\"", "\"a\"", true },
	{ HF_ATTR_TEXT, "null", "\"\"", false },
	{ HF_ATTR_TEXT, "null", "null", true },
	{ HF_ATTR_DROPDOWN, "\"active\"", "\"active\"", true },
	{ HF_ATTR_BOOLEAN, "true", "false", false },
	{ HF_ATTR_LIST, "[1,2]", "[1,2]", true },
	{ HF_ATTR_LIST, "[1,2]", "[2,1]", false },
	{ HF_ATTR_JSON, "{\"a\":1,\"b\":[true]}", "{\"b\":[true],\"a\":1}", true },
	{ HF_ATTR_JSON, "{\"a\":1}", "{\"a\":2}", false },
};
/* clang-format on */

static void test_value__equal(void **state)
{
	json_t *a, *b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(eq_cases) / sizeof(*eq_cases); i++) {
		a = load(eq_cases[i].a);
		b = load(eq_cases[i].b);
		if (hf_value_equal(eq_cases[i].kind, a, b) != eq_cases[i].equal)
			fail_msg("%s: %s vs %s should be %s",
			         hf_attr_kind_name(eq_cases[i].kind),
			         eq_cases[i].a, eq_cases[i].b,
			         eq_cases[i].equal ? "equal" : "different");
		/* Symmetric. */
		assert_true(hf_value_equal(eq_cases[i].kind, b, a) ==
		            eq_cases[i].equal);
		json_decref(a);
		json_decref(b);
	}
	assert_true(hf_value_equal(HF_ATTR_TEXT, NULL, json_null()));
	assert_true(hf_value_equal(HF_ATTR_TEXT, NULL, NULL));
}

/* A value and its normal form are equal, for every accepted case. */
static void test_value__normal_form_is_equal(void **state)
{
	static const struct {
		const struct vcase *v;
		size_t n;
	} tables[] = {
		{ iphost_cases, sizeof(iphost_cases) / sizeof(*iphost_cases) },
		{ ipnet_cases, sizeof(ipnet_cases) / sizeof(*ipnet_cases) },
		{ dt_cases, sizeof(dt_cases) / sizeof(*dt_cases) },
		{ number_cases, sizeof(number_cases) / sizeof(*number_cases) },
	};
	size_t t, i;
	json_t *in, *out;

	(void)state;
	for (t = 0; t < sizeof(tables) / sizeof(*tables); t++) {
		for (i = 0; i < tables[t].n; i++) {
			if (!tables[t].v[i].want)
				continue;
			in = load(tables[t].v[i].in);
			out = load(tables[t].v[i].want);
			assert_true(
			        hf_value_equal(tables[t].v[i].kind, in, out));
			json_decref(in);
			json_decref(out);
		}
	}
}

static void test_value__out_of_memory(void **state)
{
	struct hf_value_spec spec = named;
	hf_error err = HF_ERROR_INIT;
	json_t *ip = json_string("10.0.0.1"), *dt = json_string("2024-05-01");
	json_t *num = json_real(3.0), *out = NULL;
	int rc1, rc2, rc3;

	(void)state;
	hf_failalloc_after(0);
	spec.kind = HF_ATTR_IPHOST;
	rc1 = hf_value_check(&out, &spec, ip, &err);
	spec.kind = HF_ATTR_DATETIME;
	rc2 = hf_value_check(&out, &spec, dt, &err);
	spec.kind = HF_ATTR_NUMBER;
	rc3 = hf_value_check(&out, &spec, num, &err);
	hf_failalloc_reset();
	assert_int_equal(rc1, HF_ENOMEM);
	assert_int_equal(rc2, HF_ENOMEM);
	assert_int_equal(rc3, HF_ENOMEM);
	assert_null(out);
	json_decref(ip);
	json_decref(dt);
	json_decref(num);
}

/* Secrets: checked like text, never quoted in a message; the wrapper. */
static void test_value__secrets(void **state)
{
	static const char *const bad[][2] = {
		{ "1234567", "found a number (the value is not shown)" },
		{ "true", "found a boolean (the value is not shown)" },
		{ "\"ab\"", "is too short (2 characters, at least 3)" },
		{ "\"abcdefghijk\"",
		  "is too long (11 characters, at most 10)" },
	};
	struct hf_value_spec spec = HF_VALUE_SPEC_INIT;
	hf_error err = HF_ERROR_INIT;
	json_t *in, *out, *w1, *w2;
	size_t i;

	(void)state;
	assert_true(hf_attr_kind_is_secret(HF_ATTR_PASSWORD));
	assert_true(hf_attr_kind_is_secret(HF_ATTR_HASHED_PASSWORD));
	assert_false(hf_attr_kind_is_secret(HF_ATTR_TEXT));
	spec.kind = HF_ATTR_HASHED_PASSWORD;
	spec.name = "password";
	spec.min_length = 3;
	spec.max_length = 10;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		in = load(bad[i][0]);
		assert_int_equal(hf_value_check(&out, &spec, in, &err),
		                 HF_EINVAL);
		if (!strstr(err.msg, bad[i][1]) || strstr(err.msg, "1234567") ||
		    strstr(err.msg, "abcdefghijk") || strstr(err.msg, "\"ab\""))
			fail_msg("%s: %s", bad[i][0], err.msg);
		json_decref(in);
	}
	in = json_string("s3cret");
	assert_int_equal(hf_value_check(&out, &spec, in, &err), 0);
	assert_true(json_equal(out, in));
	json_decref(out);
	/* the plan's wrapper: value inside, a fresh salt each time */
	w1 = hf_value_sensitive(in);
	w2 = hf_value_sensitive(in);
	assert_ptr_equal(hf_value_sensitive_get(w1), in);
	assert_string_equal(json_string_value(hf_value_sensitive_get(w2)),
	                    "s3cret");
	assert_int_equal(strlen(json_string_value(
	                         json_object_get(w1, HF_SENSITIVE_SALT))),
	                 32);
	assert_false(json_equal(w1, w2));
	assert_null(hf_value_sensitive_get(in));
	json_object_set_new(w2, "other", json_true());
	assert_null(hf_value_sensitive_get(w2));
	json_decref(w1);
	json_decref(w2);
	json_decref(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_value__text),
		cmocka_unit_test(test_value__number),
		cmocka_unit_test(test_value__boolean),
		cmocka_unit_test(test_value__dropdown),
		cmocka_unit_test(test_value__iphost),
		cmocka_unit_test(test_value__ipnetwork),
		cmocka_unit_test(test_value__datetime),
		cmocka_unit_test(test_value__mac_address),
		cmocka_unit_test(test_value__list_and_json),
		cmocka_unit_test(test_value__null_is_accepted_by_every_kind),
		cmocka_unit_test(test_value__enum_and_lengths),
		cmocka_unit_test(test_value__message_without_name),
		cmocka_unit_test(test_value__long_values_are_cut_in_messages),
		cmocka_unit_test(test_value__kind_names),
		cmocka_unit_test(test_value__normalise_is_lenient),
		cmocka_unit_test(test_value__equal),
		cmocka_unit_test(test_value__normal_form_is_equal),
		cmocka_unit_test(test_value__out_of_memory),
		cmocka_unit_test(test_value__secrets),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
