/*
 * Plan renderers. Text groups changes by wave, since that is the order
 * apply writes them in; Markdown groups them by kind for review.
 */
#include <stdio.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/render.h"
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

/* A value compactly: refs as Kind[hfid], strings quoted, null as (null). */
static void value_text(hf_buf *b, const json_t *v, size_t width)
{
	size_t start = b->len, i;
	json_t *e;
	char *t;

	if (!v || json_is_null(v)) {
		hf_buf_add(b, "(null)");
	} else if (json_is_object(v) && json_object_get(v, "kind")) {
		hf_buf_addf(b, "%s[", json_string_value(json_object_get(v, "kind")));
		if (json_object_get(v, "hfid"))
			hfid_text(b, json_object_get(v, "hfid"));
		else
			hf_buf_add(b, json_string_value(json_object_get(v, "id")));
		hf_buf_add(b, "]");
	} else if (json_is_array(v) && json_array_size(v) &&
		   json_is_object(json_array_get(v, 0))) {
		hf_buf_add(b, "[");
		json_array_foreach(v, i, e)
		{
			if (i)
				hf_buf_add(b, ", ");
			value_text(b, e, 0);
		}
		hf_buf_add(b, "]");
	} else {
		t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		hf_buf_add(b, t ? t : "?");
		hf_free(t);
	}
	if (width && b->len - start > width) {
		/* never cut inside a UTF-8 sequence */
		size_t cut = start + width;

		while (cut > start && ((unsigned char)b->ptr[cut] & 0xC0) == 0x80)
			cut--;
		hf_buf_setlen(b, cut);
		hf_buf_add(b, "...");
	}
}

static const char *sym(enum hf_action a)
{
	return a == HF_ACT_CREATE ? "+" : a == HF_ACT_UPDATE ? "~" : "=";
}

static void text_change(hf_buf *b, const struct hf_change *c,
			const struct hf_render_opts *o)
{
	const char *col = !o->color ? "" :
			  c->action == HF_ACT_CREATE ? GREEN : YELLOW;
	const char *key;
	json_t *v;
	size_t i;

	hf_buf_addf(b, "  %s%s %s ", col, sym(c->action), c->kind);
	hfid_text(b, c->hfid);
	hf_buf_addf(b, "%s\n", o->color ? RESET : "");
	if (c->action == HF_ACT_CREATE) {
		json_object_foreach(c->after, key, v)
		{
			hf_buf_addf(b, "      %s+%s %s = ", col, o->color ? RESET : "", key);
			value_text(b, v, o->width);
			hf_buf_add(b, "\n");
		}
		return;
	}
	for (i = 0; i < json_array_size(c->changed); i++) {
		key = json_string_value(json_array_get(c->changed, i));
		hf_buf_addf(b, "      %s~%s %s: ", col, o->color ? RESET : "", key);
		value_text(b, json_object_get(c->before, key), o->width);
		hf_buf_add(b, " -> ");
		value_text(b, json_object_get(c->after, key), o->width);
		hf_buf_add(b, "\n");
	}
}

int hf_render_text(hf_buf *b, const hf_plan *p, const struct hf_render_opts *o)
{
	const struct hf_plan_meta *m = hf_plan_meta_c(p);
	const struct hf_change *c;
	int w, waves = hf_plan_waves(p);
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
			text_change(b, c, o);
		}
	}
	if (!m->n_create && !m->n_update)
		hf_buf_add(b, "\nNo changes. Infrahub matches the object files.\n");
	hf_buf_addf(b, "\nPlan: %zu to create, %zu to update, %zu unchanged.\n",
		    m->n_create, m->n_update, m->n_noop);
	return hf_buf_failed(b) ? HF_ENOMEM : 0;
}

int hf_render_json(hf_buf *b, const hf_plan *p)
{
	json_t *j = hf_plan_to_json(p);
	char *t = j ? json_dumps(j, JSON_INDENT(2)) : NULL;

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
static void md_table(hf_buf *b, const hf_plan *p, const char *kind,
		     size_t limit, size_t *left)
{
	const struct hf_change *c;
	hf_buf cell = HF_BUF_INIT;
	size_t i, j;

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
}

static void md_details(hf_buf *d, const struct hf_change *c)
{
	const char *key;
	size_t j;

	hf_buf_addf(d, "<details><summary>%s %s ", sym(c->action), c->kind);
	hfid_text(d, c->hfid);
	hf_buf_add(d, "</summary>\n\n```diff\n");
	for (j = 0; j < json_array_size(c->changed); j++) {
		key = json_string_value(json_array_get(c->changed, j));
		if (c->before) {
			hf_buf_addf(d, "- %s: ", key);
			value_text(d, json_object_get(c->before, key), 200);
			hf_buf_add(d, "\n");
		}
		hf_buf_addf(d, "+ %s: ", key);
		value_text(d, json_object_get(c->after, key), 200);
		hf_buf_add(d, "\n");
	}
	hf_buf_add(d, "```\n\n</details>\n");
}

int hf_render_markdown(hf_buf *b, const hf_plan *p,
		       const struct hf_render_opts *o)
{
	const struct hf_plan_meta *m = hf_plan_meta_c(p);
	hf_buf d = HF_BUF_INIT;
	const char **kinds = NULL;
	size_t n, i, left = 0, rows = 0, start;
	size_t limit = o->max_chars > 4000 ? o->max_chars - 4000 : 0;

	hf_buf_addf(b, "## hubform plan `%s`\n\n**%zu to create, %zu to update, "
		    "%zu unchanged** on `%s` (branch `%s`)\n",
		    m->id, m->n_create, m->n_update, m->n_noop, m->address, m->branch);
	n = kinds_of(p, &kinds);
	for (i = 0; i < n; i++)
		if (!i || strcmp(kinds[i], kinds[i - 1]))
			md_table(b, p, kinds[i], limit, &rows);
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
		md_details(&d, hf_plan_at(p, i));
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
	hf_buf_release(&d);
	return hf_buf_failed(b) ? HF_ENOMEM : 0;
}
