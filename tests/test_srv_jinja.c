/*
 * The Jinja2 subset of the local endpoint (server/jinja.c). The expected
 * outputs were taken from jinja2 3.1's SandboxedEnvironment with
 * StrictUndefined, which is what Infrahub renders computed attributes
 * with, and from netutils' documented examples for its filters.
 */
/* clang-format off: cmocka needs these first, in this order */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../server/jinja.h"
#include "hf/alloc.h"

struct rcase {
	const char *tpl;
	const char *vars; /* JSON object text, NULL for {} */
	const char *want; /* output, or NULL when an error is expected */
	const char *err; /* substring of the error */
};

static void run_case(const struct rcase *c)
{
	hfs_jinja *t = NULL;
	hf_error err = HF_ERROR_INIT;
	json_t *vars = json_loads(c->vars ? c->vars : "{}", 0, NULL);
	char *out = NULL;
	int rc;

	assert_non_null(vars);
	rc = hfs_jinja_parse(&t, c->tpl, &err);
	if (rc == 0)
		rc = hfs_jinja_render(&out, t, vars, &err);
	if (c->want && (rc < 0 || strcmp(out, c->want))) {
		fprintf(stderr, "%s\n  got:  %s\n  want: %s\n", c->tpl,
		        rc < 0 ? err.msg : out, c->want);
		fail();
	}
	if (!c->want && (rc == 0 || !strstr(err.msg, c->err))) {
		fprintf(stderr, "%s\n  got:  %s\n  want error: %s\n", c->tpl,
		        rc < 0 ? err.msg : out, c->err);
		fail();
	}
	hf_free(out);
	hfs_jinja_free(t);
	json_decref(vars);
}

static void run_cases(const struct rcase *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		run_case(&v[i]);
}

#define RUN(cases) run_cases(cases, sizeof(cases) / sizeof(cases[0]))

/* ---- values and expressions ---------------------------------------------- */

static void test_jinja__values(void **state)
{
	static const struct rcase cases[] = {
		{ "{{ a__value }}", "{\"a__value\": \"x\"}", "x", NULL },
		/* Python's str(None): hence "or" in Infrahub's templates */
		{ "{{ a__value }}", "{\"a__value\": null}", "None", NULL },
		{ "{{ 1.5 }} {{ 2.0 }} {{ 1e20 }} {{ 0.0001 }} {{ 1/3 }} "
		  "{{ 1e-5 }} {{ -0.0 }}",
		  NULL, "1.5 2.0 1e+20 0.0001 0.3333333333333333 1e-05 -0.0",
		  NULL },
		{ "{{ [1, 'a', none, true, 1.5] }} {{ {'a': 1} }} {{ (1,) }} "
		  "{{ (1, 'b') }}",
		  NULL, "[1, 'a', None, True, 1.5] {'a': 1} (1,) (1, 'b')",
		  NULL },
		{ "{{ x }}", "{\"x\": [1, \"a'b\", \"a\\\"b\"]}",
		  "[1, \"a'b\", 'a\"b']", NULL },
		{ "{{ none }}{{ None }}{{ True }}{{ false }}", NULL,
		  "NoneNoneTrueFalse", NULL },
		{ "{{ \"it's\" }} {{ 'a\\'b' }} {{ 'x\\ny' }}", NULL,
		  "it's a'b x\ny", NULL },
		{ "{{ 'a' 'b' }}", NULL, "ab", NULL },
	};

	(void)state;
	RUN(cases);
}

static void test_jinja__expressions(void **state)
{
	static const struct rcase cases[] = {
		{ "{{ a__value or '*' }}", "{\"a__value\": null}", "*", NULL },
		{ "{{ a__value or '*' }}", "{\"a__value\": \"\"}", "*", NULL },
		{ "{{ a__value or '*' }}", "{\"a__value\": \"v\"}", "v", NULL },
		{ "{{ polarity__value }}:{{ hop_kind__value }}:"
		  "{{ attribute_name__value or '*' }}="
		  "{{ attribute_value__value or '*' }}",
		  "{\"polarity__value\": \"allow\", \"hop_kind__value\": "
		  "\"InfraDevice\", \"attribute_name__value\": null, "
		  "\"attribute_value__value\": \"x\"}",
		  "allow:InfraDevice:*=x", NULL },
		{ "{{ (a or b) and c }}|{{ '' or none }}|{{ 0 and 1 }}|"
		  "{{ 1 and 'x' }}|{{ not x }}{{ not not x }}",
		  "{\"a\": 0, \"b\": \"\", \"c\": 1, \"x\": []}",
		  "|None|0|x|TrueFalse", NULL },
		{ "{{ a if c else b }}|{{ a if not c else b }}|{{ 3 if c }}|",
		  "{\"a\": 1, \"b\": 2, \"c\": false}", "2|1||", NULL },
		{ "{{ 1 + 2 * 3 - 4 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} "
		  "{{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} "
		  "{{ 2 ** 3 ** 2 }} {{ -2 ** 2 }}",
		  NULL, "5.0 3 -4 1 2 1024 0.5 64 4", NULL },
		{ "{{ 'a' ~ 1 ~ none ~ true }} {{ 'ab' * 3 }} {{ [1] * 2 }} "
		  "{{ [1] + [2] }} {{ 'x' * 0 }}|",
		  NULL, "a1NoneTrue ababab [1, 1] [1, 2] |", NULL },
		{ "{{ x == 1 }} {{ x != 1 }} {{ 1 < x < 3 }} {{ 'a' in 'cat' }}"
		  " {{ 2 not in [1] }} {{ 1 == 1.0 }} {{ true == 1 }} "
		  "{{ [1, 2] < [1, 3] }} {{ 'k' in {'k': 1} }}",
		  "{\"x\": 2}", "False True True True True True True True True",
		  NULL },
		{ "{{ x.y }} {{ x['y'] }} {{ l.0 }} {{ l[-1] }} {{ s[1:3] }} "
		  "{{ s[::-1] }} {{ l[1:] }}",
		  "{\"x\": {\"y\": 1}, \"l\": [5, 6], \"s\": \"h\\u00e9llo\"}",
		  "1 1 5 6 \xc3\xa9l oll\xc3\xa9h [6]", NULL },
		{ "{{ s.upper() }} {{ s.split('-')[0] }} {{ s.split('-')|last }}"
		  " {{ s.replace('-', '_') }} {{ s.startswith('a') }} "
		  "{{ ' a  b '.split() }} {{ 'a b c'.split(None, 1) }}",
		  "{\"s\": \"ab-cd-ef\"}",
		  "AB-CD-EF ab ef ab_cd_ef True ['a', 'b'] ['a', 'b c']",
		  NULL },
		{ "{{ '{} and {}'.format(a, b) }} {{ '{0:>5}|{1:<3}|{n}'"
		  ".format(1, 'x', n='n') }} {{ '{:05d}'.format(42) }}",
		  "{\"a\": 1, \"b\": \"two\"}", "1 and two     1|x  |n 00042",
		  NULL },
		{ "{{ d.get('a') }} {{ d.get('z', 0) }} {{ d.keys()|list }}",
		  "{\"d\": {\"a\": 1}}", "1 0 ['a']", NULL },
	};

	(void)state;
	RUN(cases);
}

static void test_jinja__statements(void **state)
{
	static const struct rcase cases[] = {
		{ "{% if x > 3 %}big{% elif x > 1 %}mid{% else %}small"
		  "{% endif %}",
		  "{\"x\": 2}", "mid", NULL },
		{ "{% for i in l %}{{ loop.index }}:{{ i }}{% if not loop.last"
		  " %},{% endif %}{% endfor %}",
		  "{\"l\": [\"a\", \"b\", \"c\"]}", "1:a,2:b,3:c", NULL },
		{ "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}",
		  "{\"d\": {\"a\": 1, \"b\": 2}}", "a=1;b=2;", NULL },
		{ "{% for i in l if i > 1 %}{{ i }}{% else %}none{% endfor %}",
		  "{\"l\": [1, 2, 3]}", "23", NULL },
		{ "{% for i in l %}{{ i }}{% else %}none{% endfor %}",
		  "{\"l\": []}", "none", NULL },
		{ "{% for a in l %}{% for b in m %}{{ loop.index }}{{ a }}{{ b }}"
		  " {% endfor %}{{ loop.index }};{% endfor %}",
		  "{\"l\": [1, 2], \"m\": [\"x\", \"y\"]}",
		  "11x 21y 1;12x 22y 2;", NULL },
		{ "{% set y = x ~ '!' %}{{ y }}{% set a, b = 1, 2 %}{{ a }}{{ b }}",
		  "{\"x\": \"hi\"}", "hi!12", NULL },
		{ "{% set y %}in {{ x }}{% endset %}[{{ y }}]",
		  "{\"x\": \"b\"}", "[in b]", NULL },
		{ "{% with a = 1 %}{{ a + 1 }}{% endwith %}", NULL, "2", NULL },
		{ "{% filter upper %}abc{{ x }}{% endfilter %}",
		  "{\"x\": \"d\"}", "ABCD", NULL },
		{ "{% raw %}{{ x }}{% endraw %}", NULL, "{{ x }}", NULL },
		{ "a  {{- 'b' -}}  c {# comment #} d {#- c -#} e", NULL,
		  "abc  de", NULL },
		{ "  {% if true %}\n  x\n  {% endif %}\n", NULL, "  \n  x\n  ",
		  NULL },
		{ "{%- if true -%}\n  x\n  {%- endif -%}\n", NULL, "x", NULL },
		{ "line\n", NULL, "line", NULL },
	};

	(void)state;
	RUN(cases);
}

/* ---- filters and tests --------------------------------------------------- */

static void test_jinja__filters(void **state)
{
	static const struct rcase cases[] = {
		{ "{{ n | upper }} {{ n|lower }} {{ n | title }} {{ n|capitalize }}",
		  "{\"n\": \"hello wORLD-foo bar(baz\"}",
		  "HELLO WORLD-FOO BAR(BAZ hello world-foo bar(baz "
		  "Hello World-Foo Bar(Baz Hello world-foo bar(baz",
		  NULL },
		{ "{{ n | replace('a', 'b') }}|{{ n|replace('a','b',1) }}|"
		  "{{ n|replace('','-') }}",
		  "{\"n\": \"banana\"}", "bbnbnb|bbnana|-b-a-n-a-n-a-", NULL },
		{ "{{ x | default('d') }}|{{ y | default('d') }}|"
		  "{{ z | default('d', true) }}|{{ z|d('e') }}",
		  "{\"x\": \"v\", \"z\": \"\"}", "v|d|d|", NULL },
		{ "{{ l | join(',') }}|{{ l|join }}|{{ s|join('-') }}",
		  "{\"l\": [1, \"a\", null, 2.5], \"s\": \"abc\"}",
		  "1,a,None,2.5|1aNone2.5|a-b-c", NULL },
		{ "{{ v | int }} {{ f|int }} {{ s|int }} {{ bad|int }} "
		  "{{ bad|int(7) }} {{ sf|int }} {{ h|int }}",
		  "{\"v\": 3, \"f\": 3.9, \"s\": \" 42 \", \"bad\": \"x\", "
		  "\"sf\": \"42.23\", \"h\": \"0x1f\"}",
		  "3 3 42 0 7 42 0", NULL },
		{ "{{ v | string }}{{ f|string }}{{ n|string }}{{ b|string }}",
		  "{\"v\": 3, \"f\": 1.0, \"n\": null, \"b\": true}",
		  "31.0NoneTrue", NULL },
		{ "[{{ s | trim }}]{{ s|trim('x ') }}", "{\"s\": \"  xhix  \"}",
		  "[xhix]hi", NULL },
		{ "{{ s|length }} {{ l|length }} {{ d|length }} {{ s|count }}",
		  "{\"s\": \"h\\u00e9llo\", \"l\": [1, 2], \"d\": {\"a\": 1}}",
		  "5 2 1 5", NULL },
		{ "{{ '%s-%03d' | format(a, b) }}|{{ '%(x)s!' | format(x=1) }}|"
		  "{{ '%.2f'|format(f) }}|{{ '%5s|%-5s|'|format('a','b') }}",
		  "{\"a\": \"x\", \"b\": 7, \"f\": 3.14159}",
		  "x-007|1!|3.14|    a|b    |", NULL },
		{ "{{ '%x %o %X %e %g %i'|format(255, 8, 255, 12345.678, "
		  "0.00001234, 3.9) }} {{ '%+d % d %05d %-4d|'|format(5, 5, "
		  "-42, 7) }}",
		  NULL, "ff 10 FF 1.234568e+04 1.234e-05 3 +5  5 -0042 7   |",
		  NULL },
		{ "{{ x | first }} {{ x|last }} {{ x|reverse|list }} "
		  "{{ 'abc'|reverse }} {{ x|max }} {{ x|min }} {{ x|sum }} "
		  "{{ ['b','A','c']|max }} {{ x|sum(start=10) }}",
		  "{\"x\": [3, 1, 2]}", "3 2 [2, 1, 3] cba 3 1 6 c 16", NULL },
		{ "{{ 2.5|round }} {{ 3.5|round }} {{ 2.567|round(2) }} "
		  "{{ 2.1|round(0,'ceil') }} {{ 2.9|round(method='floor') }} "
		  "{{ -3|abs }} {{ -2.5|abs }}",
		  NULL, "2.0 4.0 2.57 3.0 2.0 3 2.5", NULL },
		{ "{{ 'a b'|urlencode }} {{ 'a/b?c=d'|urlencode }} "
		  "{{ {'k': 'a b'}|urlencode }} {{ '<b>x</b>  y'|striptags }} "
		  "{{ '<a&b>'|e }}",
		  NULL, "a%20b a/b%3Fc%3Dd k=a+b x y &lt;a&amp;b&gt;", NULL },
		{ "{{ 'hello world foo'|truncate(9) }}|{{ 'hello world foo bar "
		  "baz qux'|truncate(9, true) }}|{{ 'foo bar'|truncate(5, "
		  "leeway=0) }}",
		  NULL, "hello...|hello ...|fo...", NULL },
		{ "{{ 'one two'|wordcount }} {{ 'ab'|center(6) }}|"
		  "{{ 'ab'|center(7) }}|",
		  NULL, "2   ab  |   ab  |", NULL },
		{ "{{ 1000|filesizeformat }} {{ 1|filesizeformat }} "
		  "{{ 1500000|filesizeformat }} {{ 2048|filesizeformat(true) }}",
		  NULL, "1.0 kB 1 Byte 1.5 MB 2.0 KiB", NULL },
		{ "{{ 'a\\nb\\n\\nc'|indent }}|{{ 'a\\nb'|indent(2, true) }}|"
		  "{{ 'a\\n\\nb'|indent(1, blank=true) }}",
		  NULL, "a\n    b\n\n    c|  a\n  b|a\n \n b", NULL },
		{ "{{ '3.5'|float }} {{ 'x'|float }} {{ 2|float }} "
		  "{{ [1,2,3,4,5]|slice(2)|list }}",
		  NULL, "3.5 0.0 2.0 [[1, 2, 3], [4, 5]]", NULL },
		{ "{{ x | title }}", "{\"x\": \"ge-0/0/1 (uplink) [x]\"}",
		  "Ge-0/0/1 (Uplink) [X]", NULL },
		{ "{{ '\\u00e9'|upper }} {{ '\\u00c9'|lower }}", NULL,
		  "\xc3\x89 \xc3\xa9", NULL },
	};

	(void)state;
	RUN(cases);
}

/* netutils' examples (netutils/interface.py, ip.py, asn.py docstrings). */
static void test_jinja__netutils(void **state)
{
	static const struct rcase cases[] = {
		{ "{{ 'GigabitEthernet1/0/1'|split_interface }} "
		  "{{ ('Eth1'|split_interface)[1] }} "
		  "{{ x | split_interface | first }}",
		  "{\"x\": \"ge-0/0/1\"}", "('GigabitEthernet', '1/0/1') 1 ge-",
		  NULL },
		{ "{{ 'Gi1/0/1'|canonical_interface_name }} "
		  "{{ 'Eth1'|canonical_interface_name }} "
		  "{{ 'Po40'|canonical_interface_name }} "
		  "{{ 'Foo1'|canonical_interface_name }}",
		  NULL, "GigabitEthernet1/0/1 Ethernet1 Port-channel40 Foo1",
		  NULL },
		{ "{{ 'GigabitEthernet1/0/1'|abbreviated_interface_name }} "
		  "{{ 'Eth1'|abbreviated_interface_name }}",
		  NULL, "Gi1/0/1 Et1", NULL },
		{ "{{ '65000'|asn_to_int }} {{ '65000.111'|asn_to_int }} "
		  "{{ 4259840111|int_to_asdot }} {{ 65000|int_to_asdot }}",
		  NULL, "65000 4259840111 65000.111 65000", NULL },
		{ "{{ '10.100.100.255'|is_ip }} {{ '10.100.100.256'|is_ip }} "
		  "{{ '255.255.255.0'|is_netmask }} {{ '24'|is_netmask }} "
		  "{{ '255.255.254.0'|netmask_to_cidr }} {{ 17|cidr_to_netmask }}"
		  " {{ 24|cidr_to_netmaskv6 }}",
		  NULL,
		  "True False True False 23 255.255.128.0 ffff:ff00::", NULL },
		{ "{{ '10.100.100.100'|ip_addition(200) }} "
		  "{{ '10.100.100.100'|ip_subtract(200) }} "
		  "{{ '10.100.100.100'|ip_to_hex }} "
		  "{{ '10.100.100.100'|ip_to_bin }}",
		  NULL,
		  "10.100.101.44 10.100.99.156 a646464 "
		  "1010011001000110010001100100",
		  NULL },
		{ "{{ '10.100.0.0/16'|get_broadcast_address }} "
		  "{{ '10.100.0.0/16'|get_first_usable }} "
		  "{{ '10.100.100.0/29'|get_usable_range }}",
		  NULL, "10.100.255.255 10.100.0.1 10.100.100.1 - 10.100.100.6",
		  NULL },
		{ "{{ '10.0.0.1/24'|get_broadcast_address }}", NULL, NULL,
		  "10.0.0.1/24 has host bits set" },
	};

	(void)state;
	RUN(cases);
}

static void test_jinja__tests(void **state)
{
	static const struct rcase cases[] = {
		{ "{{ x is defined }} {{ y is defined }} {{ y is undefined }} "
		  "{{ x is none }} {{ x is string }} {{ x is number }}",
		  "{\"x\": 1}", "True False True False False True", NULL },
		{ "{{ 4 is even }} {{ 4 is odd }} {{ 9 is divisibleby 3 }} "
		  "{{ 9 is divisibleby(2) }} {{ 'abc' is lower }} "
		  "{{ x is not none }} {{ 2 is in [1, 2] }} {{ 3 is gt 2 }}",
		  "{\"x\": null}", "True False True False True False True True",
		  NULL },
	};

	(void)state;
	RUN(cases);
}

/* ---- errors and limits --------------------------------------------------- */

static void test_jinja__errors(void **state)
{
	static const struct rcase cases[] = {
		{ "{{ missing }}", NULL, NULL, "'missing' is undefined" },
		{ "{{ x.z }}", "{\"x\": {\"y\": 1}}", NULL,
		  "'dict object' has no attribute 'z'" },
		{ "{{ 'abc'[5] }}", NULL, NULL, "str object has no element 5" },
		{ "{{ 1/0 }}", NULL, NULL, "division by zero" },
		{ "{{ 5 % 0 }}", NULL, NULL, "integer modulo by zero" },
		{ "{{ 'a' + 1 }}", NULL, NULL,
		  "can only concatenate str (not \"int\") to str" },
		{ "{{ 'a' < 1 }}", NULL, NULL,
		  "'<' not supported between instances of 'str' and 'int'" },
		{ "{{ x.__class__ }}", "{\"x\": \"s\"}", NULL,
		  "access to attribute '__class__' of 'str' object is unsafe." },
		{ "{{ [] | first }}", NULL, NULL,
		  "No first item, sequence was empty." },
		{ "{{ '%d'|format('1') }}", NULL, NULL,
		  "%d format: a real number is required, not str" },
		{ "{% set a, b = [1] %}", NULL, NULL,
		  "not enough values to unpack (expected 2, got 1)" },
		{ "{% for x in 5 %}{% endfor %}", NULL, NULL,
		  "'int' object is not iterable" },
		{ "{{ 'abc'|truncate(2) }}", NULL, NULL,
		  "expected length >= 3, got 2" },
		{ "{{ range(3) }}", NULL, NULL, "'range' is undefined" },
		/* syntax */
		{ "{% if x %}", "{\"x\": 1}", NULL,
		  "Unexpected end of template. Jinja was looking for the "
		  "following tags: 'elif' or 'else' or 'endif'. The innermost "
		  "block that needs to be closed is 'if'." },
		{ "{% foo %}", NULL, NULL, "Encountered unknown tag 'foo'." },
		{ "{% for x in %}{% endfor %}", NULL, NULL,
		  "Expected an expression, got 'end of statement block'" },
		{ "{{ x ", NULL, NULL, "unexpected end of template" },
		{ "{# open", NULL, NULL, "Missing end of comment tag" },
	};

	(void)state;
	RUN(cases);
}

static void test_jinja__limits(void **state)
{
	char nest[1000];
	size_t i, n = 0;
	static const struct rcase cases[] = {
		{ "{{ 'x' * 1000000 }}", NULL, NULL, "result too large" },
		{ "{% for a in l %}{% for b in l %}{% for c in l %}{{ a }}"
		  "{% endfor %}{% endfor %}{% endfor %}",
		  "{\"l\": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, "
		  "16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, "
		  "31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, "
		  "46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, "
		  "61, 62, 63, 64, 65, 66, 67, 68, 69]}",
		  NULL, "template evaluation limit exceeded" },
		{ "{{ 9223372036854775807 + 1 }}", NULL, NULL,
		  "integer overflow" },
		{ "{{ 'ab'|center(100000000) }}", NULL, NULL,
		  "result too large" },
	};
	struct rcase deep = { nest, NULL, NULL, "template nesting too deep" };

	(void)state;
	RUN(cases);
	n += (size_t)snprintf(nest + n, sizeof(nest) - n, "{{ ");
	for (i = 0; i < 200; i++)
		nest[n++] = '(';
	nest[n++] = '1';
	for (i = 0; i < 200; i++)
		nest[n++] = ')';
	snprintf(nest + n, sizeof(nest) - n, " }}");
	run_case(&deep);
}

/* ---- variables and validation -------------------------------------------- */

static void test_jinja__variables(void **state)
{
	hfs_jinja *t = NULL;
	hf_error err = HF_ERROR_INIT;

	(void)state;
	assert_int_equal(
	        hfs_jinja_parse(&t,
	                        "{{ b__value | default(a__value) }}"
	                        "{% set x = c__value %}{{ x }}"
	                        "{% for i in l__value %}{{ i ~ loop.index }}"
	                        "{% endfor %}{{ i }}",
	                        &err),
	        0);
	assert_int_equal(hfs_jinja_nvars(t), 5);
	assert_string_equal(hfs_jinja_var(t, 0), "a__value");
	assert_string_equal(hfs_jinja_var(t, 1), "b__value");
	assert_string_equal(hfs_jinja_var(t, 2), "c__value");
	assert_string_equal(hfs_jinja_var(t, 3), "i"); /* after the loop */
	assert_string_equal(hfs_jinja_var(t, 4), "l__value");
	assert_null(hfs_jinja_var(t, 5));
	hfs_jinja_free(t);
}

static void validate_fails(const char *tpl, const char *msg)
{
	hfs_jinja *t = NULL;
	hf_error err = HF_ERROR_INIT;

	assert_int_equal(hfs_jinja_parse(&t, tpl, &err), 0);
	assert_int_equal(hfs_jinja_validate(t, &err), HF_EINVAL);
	if (strcmp(err.msg, msg))
		fprintf(stderr, "%s: %s\n", tpl, err.msg);
	assert_string_equal(err.msg, msg);
	hfs_jinja_free(t);
}

static void test_jinja__validate(void **state)
{
	hfs_jinja *t = NULL;
	hf_error err = HF_ERROR_INIT;

	(void)state;
	assert_int_equal(hfs_jinja_parse(&t,
	                                 "{{ a | upper | replace('a', 'b') |"
	                                 " split_interface | first }}"
	                                 "{{ b is defined }}",
	                                 &err),
	                 0);
	assert_int_equal(hfs_jinja_validate(t, &err), 0);
	hfs_jinja_free(t);
	/* untrusted in Infrahub (restrict_untrusted_jinja2_filters) */
	validate_fails("{{ a | tojson }}",
	               "The 'tojson' filter isn't allowed to be used");
	validate_fails("{{ a | regex_sub('x', 'y') }}",
	               "The 'regex_sub' filter isn't allowed to be used");
	validate_fails("{{ a | no_such_filter }}",
	               "The 'no_such_filter' filter isn't allowed to be used");
	/* trusted, but not here */
	validate_fails("{{ a | wordwrap }}",
	               "The 'wordwrap' filter is not supported by the local "
	               "server");
	validate_fails("{{ a is bogus }}", "No test named 'bogus'.");
	validate_fails("{% include 'x.j2' %}",
	               "These operations are forbidden for string based "
	               "templates: ['Call', 'Import', 'Include']");
}

/* Every allocation failing in turn: errors, never crashes or leaks. */
static int fail_at;
static int calls;

static void *fail_malloc(size_t n)
{
	return ++calls == fail_at ? NULL : malloc(n);
}

static void *fail_realloc(void *p, size_t n)
{
	return ++calls == fail_at ? NULL : realloc(p, n);
}

static void test_jinja__oom(void **state)
{
	static const struct hf_allocator a = { fail_malloc, fail_realloc,
		                               free };
	const char *tpl = "{% for k, v in d.items() %}{{ k | upper }}="
	                  "{{ v or '*' }}{% if not loop.last %},{% endif %}"
	                  "{% endfor %}{{ '%s' | format(s) }}";
	json_t *vars;
	int rc, ok = 0;

	(void)state;
	for (fail_at = 1; fail_at < 400 && !ok; fail_at++) {
		hfs_jinja *t = NULL;
		hf_error err = HF_ERROR_INIT;
		char *out = NULL;

		vars = json_pack("{s{sisn}ss}", "d", "a", 1, "b", "s", "x");
		calls = 0;
		hf_alloc_set(&a);
		rc = hfs_jinja_parse(&t, tpl, &err);
		if (rc == 0)
			rc = hfs_jinja_render(&out, t, vars, &err);
		hfs_jinja_free(t);
		hf_free(out);
		hf_alloc_set(NULL);
		json_decref(vars);
		assert_true(rc == 0 || rc == HF_ENOMEM || rc == HF_EINVAL);
		ok = rc == 0;
	}
	assert_true(ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jinja__values),
		cmocka_unit_test(test_jinja__expressions),
		cmocka_unit_test(test_jinja__statements),
		cmocka_unit_test(test_jinja__filters),
		cmocka_unit_test(test_jinja__netutils),
		cmocka_unit_test(test_jinja__tests),
		cmocka_unit_test(test_jinja__errors),
		cmocka_unit_test(test_jinja__limits),
		cmocka_unit_test(test_jinja__variables),
		cmocka_unit_test(test_jinja__validate),
		cmocka_unit_test(test_jinja__oom),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
