/*
 * Renderers: text like Terraform's, JSON checked against
 * schemas/plan.schema.json (with a small validator for the keywords that
 * schema uses), Markdown under the comment size limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "failalloc.h"
#include "hf/alloc.h"
#include "hf/diff.h"
#include "hf/render.h"
#include "testutil.h"

static hf_plan *make_plan(size_t n_creates)
{
	struct hf_change c;
	hf_plan *p;
	char name[32];
	size_t i;

	assert_int_equal(hf_plan_new(&p, "http://127.0.0.1:8000", "main", NULL), 0);
	memset(&c, 0, sizeof(c));
	c.action = HF_ACT_UPDATE;
	c.kind = hf_strdup("NetDevice");
	c.hfid = json_pack("[s]", "core1");
	c.node_id = hf_strdup("0190f1e2-0000-7000-8000-000000000001");
	c.before = json_pack("{s:s, s:{s:s, s:[s]}}", "description", "old | pipe",
			     "site", "kind", "NetSite", "hfid", "par1");
	c.after = json_pack("{s:s, s:{s:s, s:[s]}}", "description", "new",
			    "site", "kind", "NetSite", "hfid", "lyo1");
	c.changed = json_pack("[s, s]", "description", "site");
	memset(c.fingerprint, 'a', 64);
	assert_int_equal(hf_plan_add(p, &c, NULL), 0);
	for (i = 0; i < n_creates; i++) {
		memset(&c, 0, sizeof(c));
		snprintf(name, sizeof(name), "site-%zu", i);
		c.action = HF_ACT_CREATE;
		c.kind = hf_strdup("NetSite");
		c.hfid = json_pack("[s]", name);
		c.after = json_pack("{s:s, s:s}", "name", name, "description",
				    "caf\xc3\xa9 \xe2\x80\x94 a long description for padding");
		c.changed = json_pack("[s, s]", "name", "description");
		assert_int_equal(hf_plan_add(p, &c, NULL), 0);
	}
	memset(hf_plan_meta(p)->manifest_digest, 'b', 64);
	assert_int_equal(hf_plan_finish(p, NULL), 0);
	return p;
}

static void test_render__text(void **state)
{
	struct hf_render_opts o = HF_RENDER_OPTS_INIT;
	hf_plan *p = make_plan(1);
	hf_buf b = HF_BUF_INIT;

	(void)state;
	assert_int_equal(hf_render_text(&b, p, &o), 0);
	assert_non_null(strstr(b.ptr, "~ NetDevice core1\n"));
	assert_non_null(strstr(b.ptr, "~ description: \"old | pipe\" -> \"new\"\n"));
	assert_non_null(strstr(b.ptr, "~ site: NetSite[par1] -> NetSite[lyo1]\n"));
	assert_non_null(strstr(b.ptr, "+ NetSite site-0\n"));
	assert_non_null(strstr(b.ptr, "Plan: 1 to create, 1 to update, 0 unchanged.\n"));
	assert_null(strchr(b.ptr, '\033'));
	hf_buf_reset(&b);
	o.color = 1;
	assert_int_equal(hf_render_text(&b, p, &o), 0);
	assert_non_null(strchr(b.ptr, '\033'));
	hf_buf_release(&b);
	hf_plan_free(p);
}

/* A plan of one change of NetSite "hq"; takes before, after and changed. */
static hf_plan *plan_of(enum hf_action a, json_t *before, json_t *after,
			json_t *changed)
{
	struct hf_change c;
	hf_plan *p;

	assert_int_equal(hf_plan_new(&p, "http://127.0.0.1:8000", "main", NULL), 0);
	memset(&c, 0, sizeof(c));
	c.action = a;
	c.kind = hf_strdup("NetSite");
	c.hfid = json_pack("[s]", "hq");
	if (a != HF_ACT_CREATE)
		c.node_id = hf_strdup("0190f1e2-0000-7000-8000-000000000002");
	c.before = before;
	c.after = after;
	c.changed = changed;
	memset(c.fingerprint, 'a', a == HF_ACT_CREATE ? 0 : 64);
	assert_int_equal(hf_plan_add(p, &c, NULL), 0);
	memset(hf_plan_meta(p)->manifest_digest, 'b', 64);
	assert_int_equal(hf_plan_finish(p, NULL), 0);
	return p;
}

/* Columns of a line: one per UTF-8 character. */
static size_t line_columns(const char *s, size_t n)
{
	size_t i, cols = 0;

	for (i = 0; i < n; i++)
		cols += ((unsigned char)s[i] & 0xC0) != 0x80;
	return cols;
}

static int valid_utf8(const unsigned char *s, size_t n);

/* Every line of `text` within `width` columns and valid UTF-8 on its own. */
static void lines_fit(const char *text, size_t width)
{
	const char *nl;

	for (; *text; text = nl + 1) {
		nl = strchr(text, '\n');
		assert_non_null(nl);
		assert_true(valid_utf8((const unsigned char *)text,
				       (size_t)(nl - text)));
		if (line_columns(text, (size_t)(nl - text)) > width)
			fail_msg("line longer than %zu columns: %.*s", width,
				 (int)(nl - text), text);
	}
}

/*
 * The value that starts after `head` in `text`, its continuation lines
 * (indented to column `col`) joined: the lines carry the value's text
 * unchanged, so joining them gives it back. Caller frees.
 */
static char *joined(const char *text, const char *head, size_t col)
{
	const char *at = strstr(text, head), *nl;
	hf_buf b = HF_BUF_INIT;

	assert_non_null(at);
	at += strlen(head);
	for (;;) {
		nl = strchr(at, '\n');
		assert_non_null(nl);
		hf_buf_addn(&b, at, (size_t)(nl - at));
		at = nl + 1;
		if (strspn(at, " ") < col)
			break;
		at += col;
	}
	return hf_buf_detach(&b);
}

static const char long_text[] =
	"Headquarters, Paris: the building at 12 rue de la Paix, caf\xc3\xa9 "
	"\xe2\x80\x94 first floor, with the main data room\nand a \"quoted\" "
	"second line; then a very long token "
	"https://example.com/a/really/long/path/that/does/not/have/any/spaces/"
	"in/it/at/all/so/it/must/be/split/somewhere/in/the/middle/of/the/word "
	"and a few words after it to finish the description off.";

static void test_render__text_shows_values_whole(void **state)
{
	struct hf_render_opts o = HF_RENDER_OPTS_INIT;
	hf_plan *create, *update;
	hf_buf b = HF_BUF_INIT;
	json_t *v = json_string(long_text);
	char *want, *got;

	(void)state;
	create = plan_of(HF_ACT_CREATE, NULL,
			 json_pack("{s:s, s:s}", "description", long_text, "name", "hq"),
			 json_pack("[s, s]", "description", "name"));
	update = plan_of(HF_ACT_UPDATE,
			 json_pack("{s:s}", "description", long_text),
			 json_pack("{s:s}", "description", "short"),
			 json_pack("[s]", "description"));
	want = json_dumps(v, JSON_ENCODE_ANY);
	json_decref(v);
	assert_int_equal(hf_render_text(&b, create, &o), 0);
	lines_fit(b.ptr, 100);
	assert_null(strstr(b.ptr, "..."));
	/* "      + description = " is 22 columns */
	got = joined(b.ptr, "      + description = ", 22);
	assert_string_equal(got, want);
	hf_free(got);
	/* a newline in the value is shown escaped */
	assert_non_null(strstr(b.ptr, "data room\\nand"));
	assert_non_null(strstr(b.ptr, "      + name = \"hq\"\n"));

	/* an update that does not fit: "-> after" under the before value */
	hf_buf_reset(&b);
	assert_int_equal(hf_render_text(&b, update, &o), 0);
	lines_fit(b.ptr, 100);
	got = joined(b.ptr, "      ~ description: ", 21);
	assert_string_equal(got, want);
	hf_free(got);
	assert_non_null(strstr(b.ptr, "\n                  -> \"short\"\n"));

	/* width 0: every value on one line */
	hf_buf_reset(&b);
	o.width = 0;
	assert_int_equal(hf_render_text(&b, create, &o), 0);
	got = joined(b.ptr, "      + description = ", 1000);
	assert_string_equal(got, want);
	hf_free(got);

	hf_free(want);
	hf_buf_release(&b);
	hf_plan_free(create);
	hf_plan_free(update);
}

static void test_render__markdown_shows_values_whole(void **state)
{
	struct hf_render_opts o = HF_RENDER_OPTS_INIT;
	hf_plan *p, *huge;
	hf_buf b = HF_BUF_INIT, big = HF_BUF_INIT;
	json_t *v = json_string(long_text);
	char *want = json_dumps(v, JSON_ENCODE_ANY);
	size_t i;

	(void)state;
	json_decref(v);
	p = plan_of(HF_ACT_UPDATE,
		    json_pack("{s:s}", "description", "see ```code``` here"),
		    json_pack("{s:s}", "description", long_text),
		    json_pack("[s]", "description"));
	assert_int_equal(hf_render_markdown(&b, p, &o), 0);
	assert_non_null(strstr(b.ptr, want));
	/* a fence longer than the values' backtick runs */
	assert_non_null(strstr(b.ptr, "\n````diff\n- description: \"see ```code``` here\"\n"));
	assert_non_null(strstr(b.ptr, "\n````\n\n</details>"));
	assert_null(strstr(b.ptr, "left out"));

	/* a change whose details alone pass the limit is left out whole */
	for (i = 0; i < 2000; i++)
		hf_buf_add(&big, "word ");
	huge = plan_of(HF_ACT_CREATE, NULL, json_pack("{s:s}", "description", big.ptr),
		       json_pack("[s]", "description"));
	hf_buf_reset(&b);
	o.max_chars = 6000;
	assert_int_equal(hf_render_markdown(&b, huge, &o), 0);
	assert_true(b.len < 6000);
	assert_non_null(strstr(b.ptr, "Details of 1 more changes were left out"));
	assert_null(strstr(b.ptr, "<details>"));
	hf_free(want);
	hf_buf_release(&big);
	hf_buf_release(&b);
	hf_plan_free(p);
	hf_plan_free(huge);
}

/* ---- allocation failures: an error, never a plan that says less ----- */

typedef int (*render_fn)(hf_buf *b, const hf_plan *p,
			 const struct hf_render_opts *o);

/* Fail allocation n, for each n: each run is whole or HF_ENOMEM. */
static void torture_render(render_fn fn, const hf_plan *p)
{
	struct hf_render_opts o = HF_RENDER_OPTS_INIT;
	hf_buf want = HF_BUF_INIT, got = HF_BUF_INIT;
	long n;
	int rc;

	assert_int_equal(fn(&want, p, &o), 0);
	for (n = 1;; n++) {
		hf_buf_reset(&got);
		hf_failalloc_nth(n);
		rc = fn(&got, p, &o);
		hf_failalloc_reset();
		if (!hf_failalloc_failed())
			break;
		if (rc == 0)
			assert_string_equal(got.ptr, want.ptr);
		else
			assert_int_equal(rc, HF_ENOMEM);
	}
	assert_int_equal(rc, 0);
	assert_string_equal(got.ptr, want.ptr);
	assert_true(n > 5);
	hf_buf_release(&want);
	hf_buf_release(&got);
}

static int render_text(hf_buf *b, const hf_plan *p,
		       const struct hf_render_opts *o)
{
	return hf_render_text(b, p, o);
}

static int render_markdown(hf_buf *b, const hf_plan *p,
			   const struct hf_render_opts *o)
{
	return hf_render_markdown(b, p, o);
}

static void test_render__torture(void **state)
{
	hf_plan *p = plan_of(HF_ACT_UPDATE,
			     json_pack("{s:s, s:[i, i]}", "description", long_text,
				       "list", 1, 2),
			     json_pack("{s:s, s:[i]}", "description", "short",
				       "list", 3),
			     json_pack("[s, s]", "description", "list"));
	hf_plan *small = make_plan(2);

	(void)state;
	torture_render(render_text, p);
	torture_render(render_markdown, p);
	torture_render(render_text, small);
	torture_render(render_markdown, small);
	hf_plan_free(p);
	hf_plan_free(small);
}

/* ---- a JSON Schema subset: what schemas/plan.schema.json uses ------- */

static json_t *root;

static int type_ok(json_t *t, json_t *v)
{
	const char *s;
	size_t i;

	if (json_is_array(t)) {
		for (i = 0; i < json_array_size(t); i++)
			if (type_ok(json_array_get(t, i), v))
				return 1;
		return 0;
	}
	s = json_string_value(t);
	return (!strcmp(s, "object") && json_is_object(v)) ||
	       (!strcmp(s, "array") && json_is_array(v)) ||
	       (!strcmp(s, "string") && json_is_string(v)) ||
	       (!strcmp(s, "integer") && json_is_integer(v)) ||
	       (!strcmp(s, "null") && json_is_null(v)) ||
	       (!strcmp(s, "boolean") && json_is_boolean(v));
}

static int valid(json_t *sch, json_t *v);

static int object_ok(json_t *sch, json_t *v)
{
	json_t *props = json_object_get(sch, "properties"), *e;
	const char *key;
	size_t i;

	json_array_foreach(json_object_get(sch, "required"), i, e)
		if (!json_object_get(v, json_string_value(e)))
			return 0;
	json_object_foreach(v, key, e) {
		if (props && json_object_get(props, key)) {
			if (!valid(json_object_get(props, key), e))
				return 0;
		} else if (json_is_false(json_object_get(sch, "additionalProperties"))) {
			return 0;
		}
	}
	return 1;
}

static int valid(json_t *sch, json_t *v)
{
	const char *ref = json_string_value(json_object_get(sch, "$ref"));
	json_t *t, *e;
	regex_t re;
	size_t i;
	int ok;

	if (ref)
		return valid(json_object_get(json_object_get(root, "$defs"),
					     strrchr(ref, '/') + 1), v);
	t = json_object_get(sch, "type");
	if (t && !type_ok(t, v))
		return 0;
	if ((t = json_object_get(sch, "enum"))) {
		ok = 0;
		json_array_foreach(t, i, e)
			ok |= json_equal(e, v);
		if (!ok)
			return 0;
	}
	if ((t = json_object_get(sch, "pattern")) && json_is_string(v)) {
		assert_int_equal(regcomp(&re, json_string_value(t), REG_EXTENDED | REG_NOSUB), 0);
		ok = regexec(&re, json_string_value(v), 0, NULL, 0) == 0;
		regfree(&re);
		if (!ok)
			return 0;
	}
	if ((t = json_object_get(sch, "minimum")) && json_is_integer(v) &&
	    json_integer_value(v) < json_integer_value(t))
		return 0;
	if (json_is_object(v) && !object_ok(sch, v))
		return 0;
	if (json_is_array(v) && (t = json_object_get(sch, "items")))
		json_array_foreach(v, i, e)
			if (!valid(t, e))
				return 0;
	return 1;
}

static void test_render__json_matches_its_schema(void **state)
{
	char path[600];
	hf_plan *p = make_plan(3);
	hf_buf b = HF_BUF_INIT;
	json_t *j, *c;

	(void)state;
	snprintf(path, sizeof(path), "%s/../../schemas/plan.schema.json", hf_test_data());
	root = json_load_file(path, 0, NULL);
	assert_non_null(root);
	assert_int_equal(hf_render_json(&b, p), 0);
	j = json_loads(b.ptr, 0, NULL);
	assert_non_null(j);
	assert_true(valid(root, j));
	/* and the validator can say no: a wrong enum, an extra key, a lost key */
	c = json_array_get(json_object_get(j, "changes"), 0);
	json_object_set_new(c, "action", json_string("delete"));
	assert_false(valid(root, j));
	json_object_set_new(c, "action", json_string("update"));
	assert_true(valid(root, j));
	json_object_set_new(j, "surprise", json_true());
	assert_false(valid(root, j));
	json_object_del(j, "surprise");
	json_object_del(c, "fingerprint");
	assert_false(valid(root, j));
	json_decref(j);
	json_decref(root);
	hf_buf_release(&b);
	hf_plan_free(p);
}

static int valid_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0, k, len;

	while (i < n) {
		len = s[i] < 0x80 ? 1 : (s[i] >> 5) == 6 ? 2 : (s[i] >> 4) == 14 ? 3 :
		      (s[i] >> 3) == 30 ? 4 : 0;
		if (!len || i + len > n)
			return 0;
		for (k = 1; k < len; k++)
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
		i += len;
	}
	return 1;
}

static void test_render__markdown_fits_a_comment(void **state)
{
	struct hf_render_opts o = HF_RENDER_OPTS_INIT;
	hf_plan *small = make_plan(2), *big = make_plan(20000);
	hf_buf b = HF_BUF_INIT;

	(void)state;
	assert_int_equal(hf_render_markdown(&b, small, &o), 0);
	assert_non_null(strstr(b.ptr, "**2 to create, 1 to update, 0 unchanged**"));
	assert_non_null(strstr(b.ptr, "### NetDevice"));
	assert_non_null(strstr(b.ptr, "- description: \"old | pipe\""));
	assert_non_null(strstr(b.ptr, "<details><summary>~ NetDevice core1</summary>"));
	assert_null(strstr(b.ptr, "left out"));
	hf_buf_reset(&b);
	assert_int_equal(hf_render_markdown(&b, big, &o), 0);
	assert_true(b.len < 65000);
	assert_true(valid_utf8((const unsigned char *)b.ptr, b.len));
	assert_non_null(strstr(b.ptr, "**20000 to create, 1 to update"));
	assert_non_null(strstr(b.ptr, "were left out"));
	hf_buf_release(&b);
	hf_plan_free(small);
	hf_plan_free(big);
}

/*
 * A secret a create writes (hf_diff() wraps it) shows as "(sensitive)" in
 * every renderer, and rendering leaves the plan able to apply it.
 */
static void test_render__secrets_are_masked(void **state)
{
	struct hf_render_opts o = HF_RENDER_OPTS_INIT;
	hf_objset *want, *have;
	struct hf_object a;
	struct hf_field f;
	hf_buf b = HF_BUF_INIT;
	hf_plan *p;
	json_t *j, *after;

	(void)state;
	assert_int_equal(hf_objset_new(&want), 0);
	assert_int_equal(hf_objset_new(&have), 0);
	memset(&a, 0, sizeof(a));
	a.kind = hf_strdup("CoreAccount");
	a.hfid = json_pack("[s]", "sofia");
	memset(&f, 0, sizeof(f));
	f.name = hf_strdup("password");
	f.type = HF_FIELD_ATTR;
	f.akind = HF_ATTR_HASHED_PASSWORD;
	f.value = json_string("infrahub-s3cret");
	assert_int_equal(hf_object_add_field(&a, &f), 0);
	assert_int_equal(hf_objset_add(want, &a, NULL), 0);
	assert_int_equal(hf_plan_new(&p, "http://x", "main", NULL), 0);
	assert_int_equal(hf_diff(p, want, have, NULL, NULL), 0);
	assert_int_equal(hf_plan_finish(p, NULL), 0);

	assert_int_equal(hf_render_text(&b, p, &o), 0);
	assert_non_null(strstr(b.ptr, "+ password = (sensitive)\n"));
	assert_null(strstr(b.ptr, "s3cret"));
	hf_buf_reset(&b);
	assert_int_equal(hf_render_markdown(&b, p, &o), 0);
	assert_non_null(strstr(b.ptr, "+ password: (sensitive)\n"));
	assert_null(strstr(b.ptr, "s3cret"));
	hf_buf_reset(&b);
	assert_int_equal(hf_render_json(&b, p), 0);
	assert_null(strstr(b.ptr, "s3cret"));
	assert_null(strstr(b.ptr, "$salt"));
	j = json_loads(b.ptr, 0, NULL);
	after = json_object_get(json_array_get(json_object_get(j, "changes"), 0),
				"after");
	assert_string_equal(json_string_value(json_object_get(after, "password")),
			    "(sensitive)");
	json_decref(j);
	/* the plan itself still holds what apply writes */
	after = hf_plan_at(p, 0)->after;
	assert_string_equal(json_string_value(hf_value_sensitive_get(
				    json_object_get(after, "password"))),
			    "infrahub-s3cret");
	hf_buf_release(&b);
	hf_plan_free(p);
	hf_objset_free(want);
	hf_objset_free(have);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render__text),
		cmocka_unit_test(test_render__text_shows_values_whole),
		cmocka_unit_test(test_render__markdown_shows_values_whole),
		cmocka_unit_test(test_render__torture),
		cmocka_unit_test(test_render__json_matches_its_schema),
		cmocka_unit_test(test_render__markdown_fits_a_comment),
		cmocka_unit_test(test_render__secrets_are_masked),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
