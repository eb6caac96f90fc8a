/*
 * Plan renderers. Text groups changes by wave, since that is the order
 * apply writes them in; Markdown groups them by kind for review.
 *
 * Values are shown whole, with one exception: a secret (a create's
 * Password or HashedPassword value, which the plan carries wrapped as
 * {"$sensitive": value, "$salt": ...}, hf/value.h and hf/diff.h) is shown
 * as "(sensitive)" in text, Markdown and JSON alike; the JSON gets the
 * same string in place of the wrapper, so neither the value nor its salt
 * leaves the plan.
 */
#include <stdio.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/render.h"
#include "hf/value.h"
#include "hf/banned.h"

#define GREEN "\033[32m"
#define YELLOW "\033[33m"
#define BOLD "\033[1m"
#define RESET "\033[0m"

static void hfid_text(hf_buf *b, const json_t *hfid)
{
	size_t i;
	json_t *c;

	json_array_foreach(hfid, i, c)
	{
		hf_buf_addf(b, "%s%s", i ? " / " : "", json_string_value(c));
	}
}

/* A reference as Kind[hfid], or Kind[node id] when it has no HFID. */
static void ref_text(hf_buf *b, const json_t *v)
{
	const char *kind = json_string_value(json_object_get(v, "kind"));
	const char *id = json_string_value(json_object_get(v, "id"));

	hf_buf_addf(b, "%s[", kind ? kind : "");
	if (json_object_get(v, "hfid"))
		hfid_text(b, json_object_get(v, "hfid"));
	else
		hf_buf_add(b, id ? id : "");
	hf_buf_add(b, "]");
}

/*
 * A value whole and on one line: refs as Kind[hfid], strings as JSON
 * strings (quoted, newlines and control characters escaped, so a value
 * reads back exactly), null as (null). Returns 0 or HF_ENOMEM; `b` may
 * also have failed (sticky).
 */
static int value_text(hf_buf *b, const json_t *v)
{
	size_t i;
	json_t *e;
	char *t;

	if (!v || json_is_null(v)) {
		hf_buf_add(b, "(null)");
	} else if (hf_value_sensitive_get(v)) {
		hf_buf_add(b, HF_SENSITIVE_TEXT);
	} else if (json_is_object(v) && json_object_get(v, "kind")) {
		ref_text(b, v);
	} else if (json_is_array(v) && json_array_size(v) &&
		   json_is_object(json_array_get(v, 0))) {
		hf_buf_add(b, "[");
		json_array_foreach(v, i, e)
		{
			if (i)
				hf_buf_add(b, ", ");
			if (value_text(b, e) < 0)
				return HF_ENOMEM;
		}
		hf_buf_add(b, "]");
	} else {
		t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		if (!t)
			return HF_ENOMEM;
		hf_buf_add(b, t);
		hf_free(t);
	}
	return 0;
}

/* A line of a wrapped value never gets narrower than this. */
#define MIN_WRAP 30

static int utf8_cont(char ch)
{
	return ((unsigned char)ch & 0xC0) == 0x80;
}

/* Columns taken by the first n bytes of s: one per character. */
static size_t columns(const char *s, size_t n)
{
	size_t i, cols = 0;

	for (i = 0; i < n; i++)
		cols += !utf8_cont(s[i]);
	return cols;
}

/*
 * Bytes of s that go on a line of `avail` columns: up to the last space
 * that fits (the space begins the next line), else as many whole
 * characters as fit (a word longer than the line is split), at least one.
 */
static size_t line_end(const char *s, size_t n, size_t avail)
{
	size_t i, cols = 0, space = 0;

	for (i = 0; i < n; i++) {
		if (!utf8_cont(s[i])) {
			if (cols == avail)
				break;
			cols++;
			if (s[i] == ' ' && i > 0)
				space = i;
		}
	}
	if (i == n)
		return n;
	if (space)
		return space;
	return i ? i : 1;
}

static size_t wrap_room(size_t width, size_t col)
{
	return width > col + MIN_WRAP ? width - col : MIN_WRAP;
}

/*
 * Append s, which starts at column `col`, keeping lines within `width`
 * columns (0: one line). Continuation lines are indented to `col`, under
 * the value's first character, and carry the next bytes of s unchanged:
 * a break falls before a space, which stays at the start of the next
 * line (so prose lines up inside the quotes), and the lines joined give
 * s exactly. Breaks fall between UTF-8 sequences, never inside one.
 */
static void wrap(hf_buf *b, const char *s, size_t col, size_t width)
{
	size_t n = strlen(s), left = columns(s, n), room, cut;

	room = wrap_room(width, col);
	while (width && left > room) {
		cut = line_end(s, n, room);
		hf_buf_addn(b, s, cut);
		hf_buf_addf(b, "\n%*s", (int)col, "");
		left -= columns(s, cut);
		s += cut;
		n -= cut;
	}
	hf_buf_addn(b, s, n);
}

/* The value wrapped, starting at column `col`. */
static int value_wrapped(hf_buf *b, const json_t *v, size_t col, size_t width)
{
	hf_buf t = HF_BUF_INIT;
	int rc = 0;

	if (value_text(&t, v) < 0 || hf_buf_failed(&t))
		rc = HF_ENOMEM;
	else
		wrap(b, t.ptr, col, width);
	hf_buf_release(&t);
	return rc;
}

static const char *sym(enum hf_action a)
{
	return a == HF_ACT_CREATE ? "+" : a == HF_ACT_UPDATE ? "~" : "=";
}

/* Columns before a field's name: "      + ". */
#define FIELD_COL 8

/* "key = value" of a create. */
static int text_set(hf_buf *b, const char *key, const json_t *v, size_t width)
{
	int rc;

	hf_buf_addf(b, "%s = ", key);
	rc = value_wrapped(b, v, FIELD_COL + strlen(key) + 3, width);
	hf_buf_add(b, "\n");
	return rc;
}

/*
 * "key: before -> after" of an update, on one line when it fits; else
 * the after value goes on its own line, under the before value:
 *
 *       ~ description: "the old text, wrapped at spaces when it is
 *                      longer than the line"
 *                   -> "the new text"
 */
static int text_update(hf_buf *b, const char *key, const json_t *before,
		       const json_t *after, size_t width)
{
	hf_buf one = HF_BUF_INIT;
	size_t col = FIELD_COL + strlen(key) + 2;
	int rc;

	hf_buf_addf(b, "%s: ", key);
	rc = value_text(&one, before);
	hf_buf_add(&one, " -> ");
	if (rc == 0)
		rc = value_text(&one, after);
	if (rc < 0 || hf_buf_failed(&one)) {
		rc = HF_ENOMEM;
	} else if (!width || col + columns(one.ptr, one.len) <= width) {
		hf_buf_addf(b, "%s\n", one.ptr);
	} else {
		rc = value_wrapped(b, before, col, width);
		hf_buf_addf(b, "\n%*s-> ", (int)(col - 3), "");
		if (rc == 0)
			rc = value_wrapped(b, after, col, width);
		hf_buf_add(b, "\n");
	}
	hf_buf_release(&one);
	return rc;
}

static int text_change(hf_buf *b, const struct hf_change *c,
		       const struct hf_render_opts *o)
{
	const char *col = !o->color ? "" :
			  c->action == HF_ACT_CREATE ? GREEN : YELLOW;
	const char *key;
	json_t *v;
	size_t i;
	int rc = 0;

	hf_buf_addf(b, "  %s%s %s ", col, sym(c->action), c->kind);
	hfid_text(b, c->hfid);
	hf_buf_addf(b, "%s\n", o->color ? RESET : "");
	if (c->action == HF_ACT_CREATE) {
		json_object_foreach(c->after, key, v)
		{
			hf_buf_addf(b, "      %s+%s ", col, o->color ? RESET : "");
			if (rc == 0)
				rc = text_set(b, key, v, o->width);
		}
		return rc;
	}
	for (i = 0; i < json_array_size(c->changed); i++) {
		key = json_string_value(json_array_get(c->changed, i));
		hf_buf_addf(b, "      %s~%s ", col, o->color ? RESET : "");
		if (rc == 0)
			rc = text_update(b, key, json_object_get(c->before, key),
					 json_object_get(c->after, key), o->width);
	}
	return rc;
}

int hf_render_text(hf_buf *b, const hf_plan *p, const struct hf_render_opts *o)
{
	const struct hf_plan_meta *m = hf_plan_meta_c(p);
	const struct hf_change *c;
	int w, waves = hf_plan_waves(p), rc = 0;
	size_t i;

	hf_buf_addf(b, "%sPlan %s%s for %s (branch %s), status %s\n",
		    o->color ? BOLD : "", m->id, o->color ? RESET : "", m->address,
		    m->branch, m->status);
	for (w = 0; w < waves; w++) {
		int shown = 0;

		for (i = 0; i < hf_plan_count(p); i++) {
			c = hf_plan_at(p, i);
			if (c->wave != w || (c->action == HF_ACT_NOOP && !o->verbose))
				continue;
			if (!shown++)
				hf_buf_addf(b, "\nwave %d:\n", w + 1);
			if (text_change(b, c, o) < 0)
				rc = HF_ENOMEM;
		}
	}
	if (!m->n_create && !m->n_update)
		hf_buf_add(b, "\nNo changes. Infrahub matches the object files.\n");
	hf_buf_addf(b, "\nPlan: %zu to create, %zu to update, %zu unchanged.\n",
		    m->n_create, m->n_update, m->n_noop);
	return rc < 0 || hf_buf_failed(b) ? HF_ENOMEM : 0;
}

/*
 * `fields` (before or after of a change) with every secret replaced by
 * "(sensitive)": a new object when there was one to hide, else a new
 * reference to `fields` itself. The plan's own objects are shared with
 * the JSON document, so they are never modified. NULL on OOM.
 */
static json_t *masked(json_t *fields)
{
	json_t *copy = NULL, *v;
	const char *key;

	json_object_foreach(fields, key, v)
	{
		if (!hf_value_sensitive_get(v))
			continue;
		if (!copy)
			copy = json_copy(fields);
		if (!copy || json_object_set_new(copy, key, json_string(
						HF_SENSITIVE_TEXT)) < 0) {
			json_decref(copy);
			return NULL;
		}
	}
	return copy ? copy : json_incref(fields);
}

static int mask_secrets(json_t *j)
{
	static const char *const sides[] = { "before", "after" };
	json_t *ch, *m;
	size_t i, k;

	json_array_foreach(json_object_get(j, "changes"), i, ch)
	{
		for (k = 0; k < 2; k++) {
			if (!json_is_object(json_object_get(ch, sides[k])))
				continue;
			m = masked(json_object_get(ch, sides[k]));
			if (!m || json_object_set_new(ch, sides[k], m) < 0)
				return HF_ENOMEM;
		}
	}
	return 0;
}

int hf_render_json(hf_buf *b, const hf_plan *p)
{
	json_t *j = hf_plan_to_json(p);
	char *t = j && mask_secrets(j) == 0 ? json_dumps(j, JSON_INDENT(2)) :
					      NULL;

	json_decref(j);
	if (!t)
		return HF_ENOMEM;
	hf_buf_add(b, t);
	hf_buf_add(b, "\n");
	hf_free(t);
	return hf_buf_failed(b) ? HF_ENOMEM : 0;
}

/* Markdown table cells: no pipes or newlines. */
static void md_cell(hf_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			hf_buf_add(b, "\\|");
		else if (*s == '\n' || *s == '\r')
			hf_buf_add(b, " ");
		else
			hf_buf_addch(b, *s);
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static size_t kinds_of(const hf_plan *p, const char ***out)
{
	const char **k = hf_calloc(hf_plan_count(p) + 1, sizeof(*k));
	size_t i, n = 0;

	for (i = 0; k && i < hf_plan_count(p); i++)
		if (hf_plan_at(p, i)->action != HF_ACT_NOOP)
			k[n++] = hf_plan_at(p, i)->kind;
	if (k)
		qsort(k, n, sizeof(*k), cmp_str);
	*out = k;
	return n;
}

/*
 * One table per kind. Rows stop when the comment would not leave room
 * for the rest; the rows left out are counted in *left.
 */
static int md_table(hf_buf *b, const hf_plan *p, const char *kind,
		     size_t limit, size_t *left)
{
	const struct hf_change *c;
	hf_buf cell = HF_BUF_INIT;
	size_t i, j;
	int rc = 0;

	hf_buf_addf(b, "\n### %s\n\n| | object | fields |\n|---|---|---|\n", kind);
	for (i = 0; i < hf_plan_count(p); i++) {
		c = hf_plan_at(p, i);
		if (c->action == HF_ACT_NOOP || strcmp(c->kind, kind))
			continue;
		if (b->len > limit) {
			(*left)++;
			continue;
		}
		hf_buf_reset(&cell);
		hfid_text(&cell, c->hfid);
		if (hf_buf_failed(&cell))
			rc = HF_ENOMEM;
		hf_buf_addf(b, "| %s | ", c->action == HF_ACT_CREATE ? "create" : "update");
		md_cell(b, cell.ptr);
		hf_buf_add(b, " | ");
		for (j = 0; j < json_array_size(c->changed); j++) {
			hf_buf_add(b, j ? ", " : "");
			md_cell(b, json_string_value(json_array_get(c->changed, j)));
		}
		hf_buf_add(b, " |\n");
	}
	hf_buf_release(&cell);
	return rc;
}

/* The longest run of backticks in s. */
static size_t backtick_run(const char *s)
{
	size_t run = 0, best = 0;

	for (; *s; s++) {
		run = *s == '`' ? run + 1 : 0;
		if (run > best)
			best = run;
	}
	return best;
}

static void add_fence(hf_buf *b, size_t n)
{
	while (n--)
		hf_buf_addch(b, '`');
}

/*
 * A change's fields as a diff block, values whole (a diff block keeps
 * long lines). The fence is longer than any run of backticks in the
 * values, so that none ends the block early.
 */
static int md_details(hf_buf *d, const struct hf_change *c)
{
	hf_buf body = HF_BUF_INIT;
	const char *key;
	size_t j, fence;
	int rc = 0;

	for (j = 0; rc == 0 && j < json_array_size(c->changed); j++) {
		key = json_string_value(json_array_get(c->changed, j));
		if (c->before) {
			hf_buf_addf(&body, "- %s: ", key);
			rc = value_text(&body, json_object_get(c->before, key));
			hf_buf_add(&body, "\n");
		}
		hf_buf_addf(&body, "+ %s: ", key);
		if (rc == 0)
			rc = value_text(&body, json_object_get(c->after, key));
		hf_buf_add(&body, "\n");
	}
	fence = backtick_run(body.ptr) + 1;
	fence = fence < 3 ? 3 : fence;
	hf_buf_addf(d, "<details><summary>%s %s ", sym(c->action), c->kind);
	hfid_text(d, c->hfid);
	hf_buf_add(d, "</summary>\n\n");
	add_fence(d, fence);
	hf_buf_addf(d, "diff\n%s", body.ptr);
	add_fence(d, fence);
	hf_buf_add(d, "\n\n</details>\n");
	if (hf_buf_failed(&body))
		rc = HF_ENOMEM;
	hf_buf_release(&body);
	return rc;
}

int hf_render_markdown(hf_buf *b, const hf_plan *p,
		       const struct hf_render_opts *o)
{
	const struct hf_plan_meta *m = hf_plan_meta_c(p);
	hf_buf d = HF_BUF_INIT;
	const char **kinds = NULL;
	size_t n, i, left = 0, rows = 0, start;
	size_t limit = o->max_chars > 4000 ? o->max_chars - 4000 : 0;
	int rc = 0;

	hf_buf_addf(b, "## hubform plan `%s`\n\n**%zu to create, %zu to update, "
		    "%zu unchanged** on `%s` (branch `%s`)\n",
		    m->id, m->n_create, m->n_update, m->n_noop, m->address, m->branch);
	n = kinds_of(p, &kinds);
	if (!kinds)
		rc = HF_ENOMEM;
	for (i = 0; i < n; i++)
		if (!i || strcmp(kinds[i], kinds[i - 1]))
			if (md_table(b, p, kinds[i], limit, &rows) < 0)
				rc = HF_ENOMEM;
	hf_free(kinds);
	if (rows)
		hf_buf_addf(b, "\n_%zu more rows were left out of the tables to fit "
			    "the comment size limit._\n", rows);
	if (n)
		hf_buf_add(b, "\n#### Details\n\n");
	for (i = 0; i < hf_plan_count(p); i++) {
		if (hf_plan_at(p, i)->action == HF_ACT_NOOP)
			continue;
		start = d.len;
		if (md_details(&d, hf_plan_at(p, i)) < 0)
			rc = HF_ENOMEM;
		if (b->len + d.len + 400 > o->max_chars) {
			hf_buf_setlen(&d, start);
			left++;
		}
	}
	hf_buf_add(b, d.ptr);
	if (left)
		hf_buf_addf(b, "\n_Details of %zu more changes were left out to fit "
			    "the comment size limit; run `hubform show %s` for all._\n",
			    left, m->id);
	if (hf_buf_failed(&d))
		rc = HF_ENOMEM;
	hf_buf_release(&d);
	return rc < 0 || hf_buf_failed(b) ? HF_ENOMEM : 0;
}
