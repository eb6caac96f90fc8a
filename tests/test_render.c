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

	assert_int_equal(hf_plan_new(&p, "http://127.0.0.1:8000", "main", NULL),
	                 0);
	memset(&c, 0, sizeof(c));
	c.action = HF_ACT_UPDATE;
	c.kind = hf_strdup("NetDevice");
	c.hfid = json_pack("[s]", "core1");
	c.node_id = hf_strdup("0190f1e2-0000-7000-8000-000000000001");
	c.before =
	        json_pack("{s:s, s:{s:s, s:[s]}}", "description", "old | pipe",
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
		c.after = json_pack(
		        "{s:s, s:s}", "name", name, "description",
		        "caf\xc3\xa9 \xe2\x80\x94 a long description for padding");
		c.changed = json_pack("[s, s]", "name", "description");
		assert_int_equal(hf_plan_add(p, &c, NULL), 0);
	}
	memset(hf_plan_meta(p)->manifest_digest, 'b', 64);
	assert_int_equal(hf_plan_finish(p, NULL), 0);
	return p;
}

struct pieces {
	hf_buf all;
	size_t n, small; /* pieces, pieces under HF_RENDER_PIECE */
	int fail_at; /* return -1 on this piece (1-based), 0: never */
};

static int take_piece(void *payload, const char *text, size_t len)
{
	struct pieces *ps = payload;

	ps->n++;
	ps->small += len < HF_RENDER_PIECE;
	if (ps->fail_at && (int)ps->n == ps->fail_at)
		return -1;
	hf_buf_addn(&ps->all, text, len);
	return 0;
}

/* With a flush, the text goes out in pieces as it is made, whole. */
static void test_render__text_in_pieces(void **state)
{
	struct hf_render_opts o = HF_RENDER_OPTS_INIT;
	struct pieces ps = { HF_BUF_INIT, 0, 0, 0 };
	hf_plan *p = make_plan(3000);
	hf_buf whole = HF_BUF_INIT, b = HF_BUF_INIT;

	(void)state;
	assert_int_equal(hf_render_text(&whole, p, &o), 0);
	assert_true(whole.len > 3 * HF_RENDER_PIECE);
	o.flush = take_piece;
	o.flush_payload = &ps;
	assert_int_equal(hf_render_text(&b, p, &o), 0);
	assert_int_equal(b.len, 0);
	assert_true(ps.n > 3);
	assert_int_equal(ps.small, 1); /* only the last is short */
	assert_string_equal(ps.all.ptr, whole.ptr);
	/* a flush that fails stops the render */
	hf_buf_release(&ps.all);
	memset(&ps, 0, sizeof(ps));
	ps.all = (hf_buf)HF_BUF_INIT;
	ps.fail_at = 2;
	assert_int_equal(hf_render_text(&b, p, &o), HF_ERR);
	assert_int_equal(ps.n, 2);
	hf_buf_release(&ps.all);
	hf_buf_release(&whole);
	hf_buf_release(&b);
	hf_plan_free(p);
}

static void test_render__text(void **state)
{
	struct hf_render_opts o = HF_RENDER_OPTS_INIT;
	hf_plan *p = make_plan(1);
	hf_buf b = HF_BUF_INIT;

	(void)state;
	assert_int_equal(hf_render_text(&b, p, &o), 0);
	assert_non_null(strstr(b.ptr, "~ NetDevice core1\n"));
	assert_non_null(
	        strstr(b.ptr, "~ description: \"old | pipe\" -> \"new\"\n"));
	assert_non_null(
	        strstr(b.ptr, "~ site: NetSite[par1] -> NetSite[lyo1]\n"));
	assert_non_null(strstr(b.ptr, "+ NetSite site-0\n"));
	assert_non_null(strstr(b.ptr,
	                       "Plan: 1 to create, 1 to update, 0 to destroy, "
	                       "0 unchanged.\n"));
	/* forgets and adoptions are counted only when there are some */
	assert_null(strstr(b.ptr, "forget"));
	assert_null(strstr(b.ptr, "adopt"));
	assert_null(strstr(b.ptr, "No changes"));
	assert_null(strstr(b.ptr, "deletes, wave"));
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

	assert_int_equal(hf_plan_new(&p, "http://127.0.0.1:8000", "main", NULL),
	                 0);
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

/*
 * The JSON is written one change at a time into the place of an empty
 * "changes": the bytes are what jansson gives for the whole document
 * (read back and dumped again, identical), with and without a flush,
 * for no changes, one, and many with nested values, a no-op in text
 * form and a secret; a failing flush stops it.
 */
static void test_render__json_one_change_at_a_time(void **state)
{
	static const struct hf_render_opts none = HF_RENDER_OPTS_INIT;
	size_t sizes[] = { 0, 1, 3000 };
	struct hf_render_opts o = HF_RENDER_OPTS_INIT;
	struct pieces ps;
	struct hf_change c;
	hf_buf b = HF_BUF_INIT;
	json_t *j;
	hf_plan *p;
	char *again;
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(sizes) / sizeof(*sizes); k++) {
		p = sizes[k] ? make_plan(sizes[k] - 1) : NULL;
		if (!p) {
			assert_int_equal(
			        hf_plan_new(&p, "http://x", "main", NULL), 0);
			assert_int_equal(hf_plan_finish(p, NULL), 0);
		}
		if (sizes[k] > 1) {
			/* a no-op as the diff makes it, and a secret */
			memset(&c, 0, sizeof(c));
			c.action = HF_ACT_NOOP;
			c.kind = hf_strdup("NetSite");
			c.hfid = json_pack("[s]", "same");
			c.node_id = hf_strdup("n-same");
			c.text = hf_strdup("{\"name\":\"same\",\"tags\":"
			                   "[{\"hfid\":[\"a\"]}]}");
			c.changed = json_array();
			c.deps = json_array();
			memset(c.fingerprint, 'c', 64);
			assert_int_equal(hf_plan_add(p, &c, NULL), 0);
			assert_int_equal(hf_plan_finish(p, NULL), 0);
		}
		hf_buf_reset(&b);
		assert_int_equal(hf_render_json_ext(&b, p, &none), 0);
		j = json_loads(b.ptr, 0, NULL);
		assert_non_null(j);
		assert_int_equal(json_array_size(json_object_get(j, "changes")),
		                 hf_plan_count(p));
		again = json_dumps(j, JSON_INDENT(2));
		assert_non_null(again);
		assert_int_equal(strlen(again) + 1, b.len);
		assert_memory_equal(again, b.ptr, b.len - 1);
		assert_int_equal(b.ptr[b.len - 1], '\n');
		free(again);
		json_decref(j);
		memset(&ps, 0, sizeof(ps));
		o.flush = take_piece;
		o.flush_payload = &ps;
		hf_buf_reset(&b);
		b.len = 0;
		{
			hf_buf whole = HF_BUF_INIT;

			assert_int_equal(hf_render_json(&whole, p), 0);
			assert_int_equal(hf_render_json_ext(&b, p, &o), 0);
			assert_int_equal(b.len, 0);
			assert_int_equal(ps.all.len, whole.len);
			assert_memory_equal(ps.all.ptr, whole.ptr, whole.len);
			if (sizes[k] > 1000)
				assert_true(ps.n > 1);
			hf_buf_release(&whole);
		}
		hf_buf_release(&ps.all);
		if (sizes[k] > 1000) {
			memset(&ps, 0, sizeof(ps));
			ps.fail_at = 2;
			assert_int_equal(hf_render_json_ext(&b, p, &o), HF_ERR);
			assert_int_equal(ps.n, 2);
			hf_buf_release(&ps.all);
		}
		hf_plan_free(p);
	}
	hf_buf_release(&b);
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
	create = plan_of(
	        HF_ACT_CREATE, NULL,
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
	assert_non_null(strstr(
	        b.ptr, "\n````diff\n- description: \"see ```code``` here\"\n"));
	assert_non_null(strstr(b.ptr, "\n````\n\n</details>"));
	assert_null(strstr(b.ptr, "left out"));

	/* a change whose details alone pass the limit is left out whole */
	for (i = 0; i < 2000; i++)
		hf_buf_add(&big, "word ");
	huge = plan_of(HF_ACT_CREATE, NULL,
	               json_pack("{s:s}", "description", big.ptr),
	               json_pack("[s]", "description"));
	hf_buf_reset(&b);
	o.max_chars = 6000;
	assert_int_equal(hf_render_markdown(&b, huge, &o), 0);
	assert_true(b.len < 6000);
	assert_non_null(
	        strstr(b.ptr, "Details of 1 more changes were left out"));
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
	hf_plan *p = plan_of(
	        HF_ACT_UPDATE,
	        json_pack("{s:s, s:[i, i]}", "description", long_text, "list",
	                  1, 2),
	        json_pack("{s:s, s:[i]}", "description", "short", "list", 3),
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

	json_array_foreach(
	        json_object_get(sch, "required"), i,
	        e) if (!json_object_get(v, json_string_value(e))) return 0;
	json_object_foreach(v, key, e)
	{
		if (props && json_object_get(props, key)) {
			if (!valid(json_object_get(props, key), e))
				return 0;
		} else if (json_is_false(json_object_get(
		                   sch, "additionalProperties"))) {
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
		                             strrchr(ref, '/') + 1),
		             v);
	t = json_object_get(sch, "type");
	if (t && !type_ok(t, v))
		return 0;
	if ((t = json_object_get(sch, "enum"))) {
		ok = 0;
		json_array_foreach(t, i, e) ok |= json_equal(e, v);
		if (!ok)
			return 0;
	}
	if ((t = json_object_get(sch, "pattern")) && json_is_string(v)) {
		assert_int_equal(regcomp(&re, json_string_value(t),
		                         REG_EXTENDED | REG_NOSUB),
		                 0);
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
	if (json_is_array(v) && (t = json_object_get(sch, "minItems")) &&
	    (json_int_t)json_array_size(v) < json_integer_value(t))
		return 0;
	if (json_is_array(v) && (t = json_object_get(sch, "maxItems")) &&
	    (json_int_t)json_array_size(v) > json_integer_value(t))
		return 0;
	if (json_is_array(v) && (t = json_object_get(sch, "items")))
		json_array_foreach(v, i, e) if (!valid(t, e)) return 0;
	return 1;
}

static void load_schema(void)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/../../schemas/plan.schema.json",
	         hf_test_data());
	root = json_load_file(path, 0, NULL);
	assert_non_null(root);
}

static void test_render__json_matches_its_schema(void **state)
{
	hf_plan *p = make_plan(3);
	hf_buf b = HF_BUF_INIT;
	json_t *j, *c;

	(void)state;
	load_schema();
	assert_int_equal(hf_render_json(&b, p), 0);
	j = json_loads(b.ptr, 0, NULL);
	assert_non_null(j);
	assert_true(valid(root, j));
	/* and the validator can say no: a wrong enum, an extra key, a lost key
	 */
	c = json_array_get(json_object_get(j, "changes"), 0);
	json_object_set_new(c, "action", json_string("destroy"));
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
		len = s[i] < 0x80         ? 1
		      : (s[i] >> 5) == 6  ? 2
		      : (s[i] >> 4) == 14 ? 3
		      : (s[i] >> 3) == 30 ? 4
		                          : 0;
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
	assert_non_null(strstr(b.ptr,
	                       "**2 to create, 1 to update, 0 to destroy, "
	                       "0 unchanged**"));
	assert_null(strstr(b.ptr, "### Deletes"));
	/* no change records its declarations: no column for them */
	assert_non_null(
	        strstr(b.ptr, "| | object | fields |\n|---|---|---|\n"));
	assert_null(strstr(b.ptr, "declared at"));
	assert_non_null(strstr(b.ptr, "### NetDevice"));
	assert_non_null(strstr(b.ptr, "- description: \"old | pipe\""));
	assert_non_null(
	        strstr(b.ptr, "<details><summary>~ NetDevice core1</summary>"));
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
	a.kind = hf_name("CoreAccount");
	a.hfid = json_pack("[s]", "sofia");
	memset(&f, 0, sizeof(f));
	f.name = hf_name("password");
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
	after = json_object_get(
	        json_array_get(json_object_get(j, "changes"), 0), "after");
	assert_string_equal(
	        json_string_value(json_object_get(after, "password")),
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

/* ---- deletes, forgets, adoptions, sources, partial plans ------------ */

static json_t *src(const char *file, int line)
{
	return json_pack("{s:s, s:i}", "file", file, "line", line);
}

/* Adds a change; returns its id in `id` (17 bytes) when not NULL. */
static void add(hf_plan *p, struct hf_change *c, char *id)
{
	char want[17];

	hf_plan_change_id(want, c->action, c->kind, c->hfid);
	assert_int_equal(hf_plan_add(p, c, NULL), 0);
	if (id)
		memcpy(id, want, sizeof(want));
}

/*
 * A plan of stack "fin", partial: a create declared twice, an update
 * that adopts, an adopted no-op, a plain no-op, three deletes (a device,
 * the interface its cascade removes, and the site the device referred
 * to, which waits for it) and a forget.
 */
static hf_plan *prune_plan(void)
{
	struct hf_change c;
	char dev[17], site[17];
	hf_plan *p;

	assert_int_equal(hf_plan_new(&p, "http://127.0.0.1:8000", "main", NULL),
	                 0);
	assert_int_equal(
	        hf_plan_set_stack(p, "fin",
	                          "0190f1e2-0000-7000-8000-00000000aaaa", NULL),
	        0);
	hf_plan_meta(p)->partial = 1;

	memset(&c, 0, sizeof(c));
	c.action = HF_ACT_CREATE;
	c.kind = hf_strdup("NetSite");
	c.hfid = json_pack("[s]", "lyo1");
	c.after = json_pack("{s:s}", "name", "lyo1");
	c.changed = json_pack("[s]", "name");
	c.sources = json_pack("[o, o]", src("objects/sites.yml", 3),
	                      src("objects/more | sites.yml", 12));
	add(p, &c, NULL);

	memset(&c, 0, sizeof(c));
	c.action = HF_ACT_UPDATE;
	c.adopt = 1;
	c.kind = hf_strdup("NetDevice");
	c.hfid = json_pack("[s]", "core1");
	c.node_id = hf_strdup("0190f1e2-0000-7000-8000-000000000001");
	c.before = json_pack("{s:s}", "description", "old");
	c.after = json_pack("{s:s}", "description", "new");
	c.changed = json_pack("[s]", "description");
	c.sources = json_pack("[o]", src("objects/devices.yml", 7));
	memset(c.fingerprint, 'a', 64);
	add(p, &c, NULL);

	memset(&c, 0, sizeof(c));
	c.action = HF_ACT_NOOP;
	c.adopt = 1;
	c.kind = hf_strdup("BuiltinTag");
	c.hfid = json_pack("[s]", "red");
	c.node_id = hf_strdup("0190f1e2-0000-7000-8000-000000000003");
	c.before = json_pack("{s:s}", "name", "red");
	c.after = json_pack("{s:s}", "name", "red");
	c.changed = json_array();
	c.sources = json_pack("[o]", src("objects/tags.yml", 2));
	memset(c.fingerprint, 'a', 64);
	add(p, &c, NULL);

	memset(&c, 0, sizeof(c));
	c.action = HF_ACT_NOOP;
	c.kind = hf_strdup("BuiltinTag");
	c.hfid = json_pack("[s]", "blue");
	c.node_id = hf_strdup("0190f1e2-0000-7000-8000-000000000004");
	c.before = json_pack("{s:s}", "name", "blue");
	c.after = json_pack("{s:s}", "name", "blue");
	c.changed = json_array();
	c.sources = json_pack("[o]", src("objects/tags.yml", 5));
	memset(c.fingerprint, 'a', 64);
	add(p, &c, NULL);

	memset(&c, 0, sizeof(c));
	c.action = HF_ACT_DELETE;
	c.kind = hf_strdup("NetDevice");
	c.hfid = json_pack("[s]", "core9");
	c.node_id = hf_strdup("0190f1e2-0000-7000-8000-000000000009");
	c.before = json_pack("{s:s, s:{s:s, s:[s]}}", "name", "core9", "site",
	                     "kind", "NetSite", "hfid", "par9");
	c.changed = json_array();
	memset(c.fingerprint, 'a', 64);
	add(p, &c, dev);

	memset(&c, 0, sizeof(c));
	c.action = HF_ACT_DELETE;
	c.kind = hf_strdup("NetInterface");
	c.hfid = json_pack("[s, s]", "core9", "Ethernet1/1");
	c.node_id = hf_strdup("0190f1e2-0000-7000-8000-000000000010");
	c.before = json_pack("{s:s}", "name", "Ethernet1/1");
	c.changed = json_array();
	c.cascade_of = hf_strdup(dev);
	memset(c.fingerprint, 'a', 64);
	add(p, &c, NULL);

	memset(&c, 0, sizeof(c));
	c.action = HF_ACT_DELETE;
	c.kind = hf_strdup("NetSite");
	c.hfid = json_pack("[s]", "par9");
	c.node_id = hf_strdup("0190f1e2-0000-7000-8000-000000000011");
	c.before = json_pack("{s:s}", "name", "par9");
	c.changed = json_array();
	c.deps = json_pack("[s]", dev);
	memset(c.fingerprint, 'a', 64);
	add(p, &c, site);

	memset(&c, 0, sizeof(c));
	c.action = HF_ACT_FORGET;
	c.kind = hf_strdup("BuiltinTag");
	c.hfid = json_pack("[s]", "shared");
	c.node_id = hf_strdup("0190f1e2-0000-7000-8000-000000000012");
	c.changed = json_array();
	memset(c.fingerprint, 'a', 64);
	add(p, &c, NULL);

	memset(hf_plan_meta(p)->manifest_digest, 'b', 64);
	assert_int_equal(hf_plan_finish(p, NULL), 0);
	return p;
}

static void test_render__text_deletes(void **state)
{
	struct hf_render_opts o = HF_RENDER_OPTS_INIT;
	hf_plan *p = prune_plan();
	hf_buf b = HF_BUF_INIT;
	const char *creates, *dels, *dels2;

	(void)state;
	assert_int_equal(hf_render_text(&b, p, &o), 0);
	assert_non_null(strstr(b.ptr, "Stack fin (group hubform-fin)\n"));
	assert_non_null(strstr(b.ptr, "Partial plan: --target/--exclude"));
	creates = strstr(b.ptr, "\nwave 1:\n");
	dels = strstr(b.ptr, "\ndeletes, wave 1:\n");
	dels2 = strstr(b.ptr, "\ndeletes, wave 2:\n");
	assert_non_null(creates);
	assert_non_null(dels);
	assert_non_null(dels2);
	/* every create and update before the deletes, deletes by their waves */
	assert_true(creates < dels && dels < dels2);
	assert_true(strstr(b.ptr, "  + NetSite lyo1\n") < dels);
	assert_non_null(strstr(
	        b.ptr, "  + NetSite lyo1\n      # declared at "
	               "objects/sites.yml:3, objects/more | sites.yml:12\n"
	               "      + name = \"lyo1\"\n"));
	assert_non_null(strstr(b.ptr,
	                       "  ~ NetDevice core1 (adopt)\n"
	                       "      # declared at objects/devices.yml:7\n"));
	assert_non_null(strstr(
	        b.ptr, "  < BuiltinTag red (adopt: already in "
	               "Infrahub as declared; this stack takes ownership)\n"));
	/* a plain no-op stays hidden unless verbose */
	assert_null(strstr(b.ptr, "blue"));
	assert_true(strstr(b.ptr, "  - NetDevice core9\n"
	                          "      - name = \"core9\"\n"
	                          "      - site = NetSite[par9]\n") > dels);
	assert_true(strstr(b.ptr, "  - NetInterface core9 / Ethernet1/1 "
	                          "(cascade of NetDevice core9)\n"
	                          "      - name = \"Ethernet1/1\"\n") > dels);
	assert_true(strstr(b.ptr, "  - NetSite par9\n") > dels2);
	assert_true(strstr(b.ptr,
	                   "  . BuiltinTag shared (forget: another stack "
	                   "owns it too; it leaves this stack and stays in "
	                   "Infrahub)\n") > dels);
	assert_null(strstr(b.ptr, "No changes"));
	assert_non_null(
	        strstr(b.ptr, "\nPlan: 1 to create, 1 to update, 3 to destroy, "
	                      "1 to forget, 2 to adopt, 2 unchanged.\n"));
	assert_null(strchr(b.ptr, '\033'));

	/* verbose lists the plain no-op too */
	hf_buf_reset(&b);
	o.verbose = 1;
	assert_int_equal(hf_render_text(&b, p, &o), 0);
	assert_non_null(strstr(b.ptr,
	                       "  = BuiltinTag blue\n"
	                       "      # declared at objects/tags.yml:5\n"));

	/* on a terminal: deletes in red, forgets and adoptions in cyan */
	hf_buf_reset(&b);
	o.color = 1;
	assert_int_equal(hf_render_text(&b, p, &o), 0);
	assert_non_null(strstr(b.ptr, "  \033[31m- NetDevice core9\033[0m\n"));
	assert_non_null(
	        strstr(b.ptr, "      \033[31m-\033[0m name = \"core9\"\n"));
	assert_non_null(
	        strstr(b.ptr, "  \033[36m. BuiltinTag shared\033[0m (forget"));
	assert_non_null(
	        strstr(b.ptr, "  \033[36m< BuiltinTag red\033[0m (adopt"));
	assert_non_null(strstr(b.ptr, "  \033[32m+ NetSite lyo1\033[0m\n"));
	assert_non_null(strstr(b.ptr, "\033[33mPartial plan"));
	hf_buf_release(&b);
	hf_plan_free(p);
}

/* "No changes." only when applying would change nothing at all. */
static void test_render__no_changes_only_when_nothing(void **state)
{
	struct hf_render_opts o = HF_RENDER_OPTS_INIT;
	hf_plan *noop, *adopt, *forget;
	hf_buf b = HF_BUF_INIT;
	struct hf_change c;

	(void)state;
	noop = plan_of(HF_ACT_NOOP, json_pack("{s:s}", "name", "hq"),
	               json_pack("{s:s}", "name", "hq"), json_array());
	assert_int_equal(hf_render_text(&b, noop, &o), 0);
	assert_non_null(strstr(
	        b.ptr, "\nNo changes. Infrahub matches the object files.\n"
	               "\nPlan: 0 to create, 0 to update, 0 to destroy, "
	               "1 unchanged.\n"));
	hf_buf_reset(&b);
	assert_int_equal(hf_render_markdown(&b, noop, &o), 0);
	assert_non_null(strstr(b.ptr, "No changes."));

	/* an adoption changes ownership: not "No changes" */
	assert_int_equal(hf_plan_new(&adopt, "http://x", "main", NULL), 0);
	memset(&c, 0, sizeof(c));
	c.action = HF_ACT_NOOP;
	c.adopt = 1;
	c.kind = hf_strdup("NetSite");
	c.hfid = json_pack("[s]", "hq");
	c.node_id = hf_strdup("0190f1e2-0000-7000-8000-000000000002");
	c.before = json_pack("{s:s}", "name", "hq");
	c.after = json_pack("{s:s}", "name", "hq");
	c.changed = json_array();
	memset(c.fingerprint, 'a', 64);
	add(adopt, &c, NULL);
	assert_int_equal(hf_plan_finish(adopt, NULL), 0);
	hf_buf_reset(&b);
	assert_int_equal(hf_render_text(&b, adopt, &o), 0);
	assert_null(strstr(b.ptr, "No changes"));
	assert_non_null(strstr(b.ptr, "  < NetSite hq (adopt"));
	assert_non_null(strstr(b.ptr,
	                       "Plan: 0 to create, 0 to update, 0 to destroy, "
	                       "1 to adopt, 1 unchanged.\n"));

	/* so does a forget */
	forget = plan_of(HF_ACT_FORGET, NULL, NULL, json_array());
	hf_buf_reset(&b);
	assert_int_equal(hf_render_text(&b, forget, &o), 0);
	assert_null(strstr(b.ptr, "No changes"));
	assert_non_null(strstr(b.ptr,
	                       "Plan: 0 to create, 0 to update, 0 to destroy, "
	                       "1 to forget, 0 unchanged.\n"));
	hf_buf_reset(&b);
	assert_int_equal(hf_render_markdown(&b, forget, &o), 0);
	assert_null(strstr(b.ptr, "No changes"));
	assert_non_null(
	        strstr(b.ptr, "| forget | NetSite hq | stays in Infrahub"));
	hf_buf_release(&b);
	hf_plan_free(noop);
	hf_plan_free(adopt);
	hf_plan_free(forget);
}

static json_t *change_at(json_t *j, size_t i)
{
	return json_array_get(json_object_get(j, "changes"), i);
}

static const char *str_at(json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

/* Every change of `j` has exactly these keys, in this order. */
static void keys_in_order(json_t *j)
{
	static const char *const want[] = {
		"id",    "address",    "action",      "actions", "kind",
		"hfid",  "node_id",    "before",      "after",   "changed",
		"deps",  "wave",       "fingerprint", "status",  "error",
		"adopt", "cascade_of", "sources",
	};
	const char *key;
	json_t *c, *v;
	size_t i, k;

	json_array_foreach(json_object_get(j, "changes"), i, c)
	{
		k = 0;
		json_object_foreach(c, key, v)
		{
			assert_true(k < sizeof(want) / sizeof(*want));
			assert_string_equal(key, want[k]);
			k++;
		}
		assert_int_equal(k, sizeof(want) / sizeof(*want));
	}
}

static void test_render__json_deletes_and_versions(void **state)
{
	hf_plan *p = prune_plan();
	hf_buf b = HF_BUF_INIT;
	json_t *j, *c, *s;

	(void)state;
	load_schema();
	assert_int_equal(hf_render_json(&b, p), 0);
	/* the versions first, as Terraform puts format_version */
	assert_int_equal(
	        strncmp(b.ptr,
	                "{\n  \"format_version\": \"" HF_PLAN_FORMAT_VERSION
	                "\",\n  \"hubform_version\": \"" HF_VERSION "\",\n",
	                strlen("{\n  \"format_version\": \"" HF_PLAN_FORMAT_VERSION
	                       "\",\n  \"hubform_version\": \"" HF_VERSION
	                       "\",\n")),
	        0);
	j = json_loads(b.ptr, 0, NULL);
	assert_non_null(j);
	assert_true(valid(root, j));
	/* a stable key order, whichever ownership fields a change has */
	keys_in_order(j);
	assert_true(json_is_true(json_object_get(j, "applyable")));
	assert_true(json_is_false(json_object_get(j, "errored")));
	assert_true(json_is_true(json_object_get(j, "partial")));
	assert_string_equal(str_at(j, "stack"), "fin");
	assert_string_equal(str_at(j, "group_id"),
	                    "0190f1e2-0000-7000-8000-00000000aaaa");
	s = json_object_get(j, "counts");
	assert_int_equal(json_integer_value(json_object_get(s, "delete")), 3);
	assert_int_equal(json_integer_value(json_object_get(s, "forget")), 1);
	assert_int_equal(json_integer_value(json_object_get(s, "adopt")), 2);

	/* the create: address, actions, its declarations */
	c = change_at(j, 0);
	assert_string_equal(str_at(c, "address"), "NetSite[lyo1]");
	assert_string_equal(json_string_value(json_array_get(
	                            json_object_get(c, "actions"), 0)),
	                    "create");
	s = json_object_get(c, "sources");
	assert_int_equal(json_array_size(s), 2);
	assert_string_equal(str_at(json_array_get(s, 1), "file"),
	                    "objects/more | sites.yml");
	assert_int_equal(json_integer_value(
	                         json_object_get(json_array_get(s, 1), "line")),
	                 12);
	assert_true(json_is_true(json_object_get(change_at(j, 1), "adopt")));
	/* the cascade delete: the address --target takes, parts joined by "__"
	 */
	c = change_at(j, 5);
	assert_string_equal(str_at(c, "address"),
	                    "NetInterface[core9__Ethernet1/1]");
	assert_string_equal(str_at(c, "action"), "delete");
	assert_string_equal(json_string_value(json_array_get(
	                            json_object_get(c, "actions"), 0)),
	                    "delete");
	assert_string_equal(str_at(c, "cascade_of"), hf_plan_at(p, 4)->id);
	assert_true(json_is_null(json_object_get(c, "after")));
	assert_true(json_is_null(json_object_get(c, "sources")));
	assert_string_equal(str_at(change_at(j, 7), "action"), "forget");

	/* the validator says no to a wrong action, a lost key, a bad source */
	json_object_set_new(c, "actions", json_pack("[s]", "destroy"));
	assert_false(valid(root, j));
	json_object_set_new(c, "actions",
	                    json_pack("[s, s]", "delete", "create"));
	assert_false(valid(root, j));
	json_object_set_new(c, "actions", json_pack("[s]", "delete"));
	assert_true(valid(root, j));
	json_object_del(c, "cascade_of");
	assert_false(valid(root, j));
	json_object_set_new(c, "cascade_of", json_null());
	assert_true(valid(root, j));
	json_object_set_new(c, "sources",
	                    json_pack("[{s:s}]", "file", "a.yml"));
	assert_false(valid(root, j));
	json_object_del(j, "applyable");
	assert_false(valid(root, j));
	json_decref(j);

	/* applied: not applyable; a failed change: errored */
	snprintf(hf_plan_meta(p)->status, sizeof(hf_plan_meta(p)->status),
	         "failed");
	hf_plan_at(p, 0)->status = HF_CH_FAILED;
	hf_buf_reset(&b);
	assert_int_equal(hf_render_json(&b, p), 0);
	j = json_loads(b.ptr, 0, NULL);
	assert_true(valid(root, j));
	assert_true(json_is_false(json_object_get(j, "applyable")));
	assert_true(json_is_true(json_object_get(j, "errored")));
	json_decref(j);
	snprintf(hf_plan_meta(p)->status, sizeof(hf_plan_meta(p)->status),
	         "planned");
	hf_plan_at(p, 0)->status = HF_CH_PENDING;
	hf_buf_reset(&b);
	assert_int_equal(hf_render_json(&b, p), 0);
	j = json_loads(b.ptr, 0, NULL);
	assert_true(json_is_false(json_object_get(j, "errored")));
	json_decref(j);
	json_decref(root);
	hf_buf_release(&b);
	hf_plan_free(p);
}

/* Nothing to do: a planned plan, but not applyable. */
static void test_render__json_not_applyable_without_changes(void **state)
{
	hf_plan *p = plan_of(HF_ACT_NOOP, json_pack("{s:s}", "name", "hq"),
	                     json_pack("{s:s}", "name", "hq"), json_array());
	hf_buf b = HF_BUF_INIT;
	json_t *j;

	(void)state;
	load_schema();
	assert_int_equal(hf_render_json(&b, p), 0);
	j = json_loads(b.ptr, 0, NULL);
	assert_true(valid(root, j));
	assert_string_equal(str_at(j, "status"), "planned");
	assert_true(json_is_false(json_object_get(j, "applyable")));
	assert_string_equal(str_at(j, "stack"), "default");
	assert_true(json_is_null(json_object_get(j, "group_id")));
	assert_string_equal(str_at(change_at(j, 0), "address"), "NetSite[hq]");
	json_decref(j);
	json_decref(root);
	hf_buf_release(&b);
	hf_plan_free(p);
}

static void test_render__markdown_deletes_first(void **state)
{
	struct hf_render_opts o = HF_RENDER_OPTS_INIT;
	hf_plan *p = prune_plan();
	hf_buf b = HF_BUF_INIT;
	const char *dels, *tables;

	(void)state;
	assert_int_equal(hf_render_markdown(&b, p, &o), 0);
	assert_non_null(strstr(
	        b.ptr,
	        "**1 to create, 1 to update, 3 to destroy, 1 to "
	        "forget, 2 to adopt, 2 unchanged** on "
	        "`http://127.0.0.1:8000` (branch `main`, stack `fin`)\n"));
	assert_non_null(strstr(b.ptr, "\n> **Warning:** Partial plan: "));
	dels = strstr(b.ptr, "\n### Deletes\n");
	tables = strstr(b.ptr, "\n### NetDevice\n");
	assert_non_null(dels);
	assert_non_null(tables);
	assert_true(dels < tables);
	assert_true(strstr(b.ptr, "| delete | NetDevice core9 |  |\n") > dels);
	assert_non_null(strstr(b.ptr,
	                       "| delete | NetInterface core9 / Ethernet1/1 | "
	                       "cascade of NetDevice core9 |\n"));
	assert_non_null(strstr(b.ptr, "| delete | NetSite par9 |  |\n"));
	assert_non_null(strstr(
	        b.ptr, "| forget | BuiltinTag shared | stays in Infrahub "
	               "(another stack owns it too) |\n"));
	/* the other changes, with where the files declare them */
	assert_non_null(strstr(b.ptr,
	                       "| create | lyo1 | name | objects/sites.yml:3, "
	                       "objects/more \\| sites.yml:12 |\n"));
	assert_non_null(strstr(b.ptr, "| update, adopt | core1 | description | "
	                              "objects/devices.yml:7 |\n"));
	assert_non_null(
	        strstr(b.ptr, "| adopt | red |  | objects/tags.yml:2 |\n"));
	assert_null(strstr(b.ptr, "blue"));
	/* details: the deletes' first, with the fields they remove */
	assert_true(strstr(b.ptr, "<summary>- NetDevice core9</summary>") <
	            strstr(b.ptr, "<summary>+ NetSite lyo1</summary>"));
	assert_non_null(strstr(
	        b.ptr,
	        "```diff\n- name: \"core9\"\n- site: NetSite[par9]\n```"));
	assert_null(strstr(b.ptr, "left out"));
	hf_buf_release(&b);
	hf_plan_free(p);
}

/*
 * A plan of `n` creates (of `kinds` kinds) and `d` deletes of long-named
 * devices.
 */
static hf_plan *big_plan(size_t n, size_t kinds, size_t d)
{
	struct hf_change c;
	char name[64], kind[32];
	hf_plan *p;
	size_t i;

	assert_int_equal(hf_plan_new(&p, "http://x", "main", NULL), 0);
	for (i = 0; i < n; i++) {
		memset(&c, 0, sizeof(c));
		snprintf(name, sizeof(name), "site-%zu", i);
		snprintf(kind, sizeof(kind), "NetSite%zu", i % kinds);
		c.action = HF_ACT_CREATE;
		c.kind = hf_strdup(kind);
		c.hfid = json_pack("[s]", name);
		c.after = json_pack("{s:s}", "name", name);
		c.changed = json_pack("[s]", "name");
		add(p, &c, NULL);
	}
	for (i = 0; i < d; i++) {
		memset(&c, 0, sizeof(c));
		snprintf(name, sizeof(name), "old-device-with-a-long-name-%zu",
		         i);
		c.action = HF_ACT_DELETE;
		c.kind = hf_strdup("NetDevice");
		c.hfid = json_pack("[s]", name);
		c.node_id = hf_strdup("0190f1e2-0000-7000-8000-000000000009");
		c.before = json_pack("{s:s}", "name", name);
		c.changed = json_array();
		memset(c.fingerprint, 'a', 64);
		add(p, &c, NULL);
	}
	assert_int_equal(hf_plan_finish(p, NULL), 0);
	return p;
}

/* Other sections give way to the deletes, never the other way round. */
static void test_render__markdown_never_hides_deletes(void **state)
{
	struct hf_render_opts o = HF_RENDER_OPTS_INIT;
	hf_plan *p = big_plan(20000, 1, 300), *huge = big_plan(900, 300, 5000);
	hf_buf b = HF_BUF_INIT;
	char row[96];
	size_t i;

	(void)state;
	assert_int_equal(hf_render_markdown(&b, p, &o), 0);
	assert_true(b.len < 65000);
	assert_true(valid_utf8((const unsigned char *)b.ptr, b.len));
	for (i = 0; i < 300; i++) {
		snprintf(row, sizeof(row),
		         "| delete | NetDevice "
		         "old-device-with-a-long-name-%zu |  |\n",
		         i);
		assert_non_null(strstr(b.ptr, row));
	}
	/* the creates' rows and details were cut, and it says so */
	assert_non_null(strstr(b.ptr, "more rows were left out of the tables"));
	assert_non_null(strstr(b.ptr, "were left out to fit"));
	assert_null(strstr(b.ptr, "not listed here"));

	/* deletes that alone pass the limit: as many as fit, and a warning */
	hf_buf_reset(&b);
	assert_int_equal(hf_render_markdown(&b, huge, &o), 0);
	assert_true(b.len < 65000);
	assert_true(strstr(b.ptr,
	                   "> **Warning: this plan deletes 5000 objects and "
	                   "forgets 0; ") < strstr(b.ptr, "### Deletes"));
	assert_non_null(strstr(
	        b.ptr, "| delete | NetDevice old-device-with-a-long-name-0 |"));
	assert_null(strstr(
	        b.ptr,
	        "| delete | NetDevice old-device-with-a-long-name-4999 |"));
	hf_buf_release(&b);
	hf_plan_free(p);
	hf_plan_free(huge);
}

static void test_render__torture_deletes(void **state)
{
	hf_plan *p = prune_plan();

	(void)state;
	torture_render(render_text, p);
	torture_render(render_markdown, p);
	hf_plan_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render__text),
		cmocka_unit_test(test_render__text_in_pieces),
		cmocka_unit_test(test_render__text_shows_values_whole),
		cmocka_unit_test(test_render__markdown_shows_values_whole),
		cmocka_unit_test(test_render__torture),
		cmocka_unit_test(test_render__json_matches_its_schema),
		cmocka_unit_test(test_render__json_one_change_at_a_time),
		cmocka_unit_test(test_render__markdown_fits_a_comment),
		cmocka_unit_test(test_render__secrets_are_masked),
		cmocka_unit_test(test_render__text_deletes),
		cmocka_unit_test(test_render__no_changes_only_when_nothing),
		cmocka_unit_test(test_render__json_deletes_and_versions),
		cmocka_unit_test(
		        test_render__json_not_applyable_without_changes),
		cmocka_unit_test(test_render__markdown_deletes_first),
		cmocka_unit_test(test_render__markdown_never_hides_deletes),
		cmocka_unit_test(test_render__torture_deletes),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
