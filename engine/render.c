/*
 * Plan renderers. Text groups changes by wave, since that is the order
 * apply writes them in: every create and update first, then the deletes
 * (and forgets) by their own waves. Markdown lists every delete first,
 * then groups the other changes by kind for review.
 *
 * Markers, the same in text and Markdown: "+" create, "~" update, "-"
 * delete (a cascade says whose), "." forget (only leaves this stack's
 * group: another stack owns the object too, so it stays in Infrahub),
 * "<" adopt (an object already in Infrahub as declared, which this stack
 * takes ownership of), "=" unchanged. An update that also adopts keeps
 * "~" and says "(adopt)".
 *
 * Values are shown whole, with one exception: a secret (a create's
 * Password or HashedPassword value, which the plan carries wrapped as
 * {"$sensitive": value, "$salt": ...}, hf/value.h and hf/diff.h) is shown
 * as "(sensitive)" in text, Markdown and JSON alike; the JSON gets the
 * same string in place of the wrapper, so neither the value nor its salt
 * leaves the plan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/render.h"
#include "hf/value.h"
#include "hf/banned.h"

#define GREEN  "\033[32m"
#define YELLOW "\033[33m"
#define RED    "\033[31m"
#define CYAN   "\033[36m"
#define BOLD   "\033[1m"
#define RESET  "\033[0m"

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

/* Deletes and forgets run after every create and update. */
static int is_removal(const struct hf_change *c)
{
	return c->action == HF_ACT_DELETE || c->action == HF_ACT_FORGET;
}

/* Whether apply does anything for it: an adopted no-op joins the group. */
static int does_something(const struct hf_change *c)
{
	return c->action != HF_ACT_NOOP || c->adopt;
}

/*
 * A plan as the renderers walk it: the changes in the order apply runs
 * them (creates and updates by wave, then deletes and forgets by wave,
 * plan order within a wave), and by id, to name a cascade's origin.
 */
struct view {
	const hf_plan *p;
	const struct hf_change **order;
	struct byid *byid;
	size_t n;
};

/*
 * The changes sorted by id, made on the first look-up: only a cascade's
 * note looks one up, and sorting a plan of 100k unchanged objects by id
 * took a tenth of a second of every `plan`'s render.
 */
struct byid {
	const struct hf_change **v; /* NULL until the first look-up */
	int failed; /* out of memory: look-ups scan the plan */
};

struct slot {
	int removal, wave;
	size_t at;
};

static int slot_cmp(const void *a, const void *b)
{
	const struct slot *x = a, *y = b;

	if (x->removal != y->removal)
		return x->removal - y->removal;
	if (x->wave != y->wave)
		return x->wave < y->wave ? -1 : 1;
	return x->at < y->at ? -1 : x->at > y->at;
}

static int id_cmp(const void *a, const void *b)
{
	const struct hf_change *const *x = a, *const *y = b;

	return strcmp((*x)->id, (*y)->id);
}

static void view_release(struct view *v)
{
	hf_free(v->order);
	if (v->byid)
		hf_free(v->byid->v);
	hf_free(v->byid);
}

/* Build the view of `p`: 0 or HF_ENOMEM. */
static int view_init(struct view *v, const hf_plan *p)
{
	size_t i, n = hf_plan_count(p);
	struct slot *s = hf_calloc(n ? n : 1, sizeof(*s));

	v->p = p;
	v->n = n;
	v->order = hf_calloc(n ? n : 1, sizeof(*v->order));
	v->byid = hf_calloc(1, sizeof(*v->byid));
	if (!s || !v->order || !v->byid) {
		hf_free(s);
		view_release(v);
		return HF_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		s[i].removal = is_removal(hf_plan_at(p, i));
		s[i].wave = hf_plan_at(p, i)->wave;
		s[i].at = i;
	}
	qsort(s, n, sizeof(*s), slot_cmp);
	for (i = 0; i < n; i++)
		v->order[i] = hf_plan_at(p, s[i].at);
	hf_free(s);
	return 0;
}

/* The change with this id, or NULL. */
static const struct hf_change *view_find(const struct view *v, const char *id)
{
	struct byid *ix = v->byid;
	struct hf_change key;
	const struct hf_change *k = &key, *const * at;
	size_t i;

	if (!ix->v && !ix->failed) {
		ix->v = hf_calloc(v->n ? v->n : 1, sizeof(*ix->v));
		ix->failed = !ix->v;
		for (i = 0; ix->v && i < v->n; i++)
			ix->v[i] = hf_plan_at(v->p, i);
		if (ix->v)
			qsort(ix->v, v->n, sizeof(*ix->v), id_cmp);
	}
	if (!ix->v) {
		for (i = 0; i < v->n; i++)
			if (!strcmp(hf_plan_at(v->p, i)->id, id))
				return hf_plan_at(v->p, i);
		return NULL;
	}
	memset(&key, 0, sizeof(key));
	snprintf(key.id, sizeof(key.id), "%s", id);
	at = bsearch(&k, ix->v, v->n, sizeof(*ix->v), id_cmp);
	return at ? *at : NULL;
}

static const char *sym(const struct hf_change *c)
{
	switch (c->action) {
	case HF_ACT_CREATE:
		return "+";
	case HF_ACT_UPDATE:
		return "~";
	case HF_ACT_DELETE:
		return "-";
	case HF_ACT_FORGET:
		return ".";
	case HF_ACT_NOOP:
	default:
		return c->adopt ? "<" : "=";
	}
}

/* The word a table row says. */
static const char *verb(const struct hf_change *c)
{
	switch (c->action) {
	case HF_ACT_CREATE:
		return "create";
	case HF_ACT_UPDATE:
		return c->adopt ? "update, adopt" : "update";
	case HF_ACT_DELETE:
		return "delete";
	case HF_ACT_FORGET:
		return "forget";
	case HF_ACT_NOOP:
	default:
		return c->adopt ? "adopt" : "no-op";
	}
}

static const char *colour(const struct hf_change *c)
{
	switch (c->action) {
	case HF_ACT_CREATE:
		return GREEN;
	case HF_ACT_UPDATE:
		return YELLOW;
	case HF_ACT_DELETE:
		return RED;
	case HF_ACT_FORGET:
		return CYAN;
	case HF_ACT_NOOP:
	default:
		return c->adopt ? CYAN : "";
	}
}

/* "Kind hfid", or "Kind (id NODE)" for an object whose kind has no HFID. */
static void object_text(hf_buf *b, const struct hf_change *c)
{
	hf_buf_addf(b, "%s ", c->kind);
	if (json_array_size(c->hfid))
		hfid_text(b, c->hfid);
	else
		hf_buf_addf(b, "(id %s)", c->node_id ? c->node_id : "unknown");
}

/* "cascade of Kind hfid": the delete whose cascade removes this one. */
static void cascade_text(hf_buf *b, const struct view *v,
                         const struct hf_change *c)
{
	const struct hf_change *of = view_find(v, c->cascade_of);

	hf_buf_add(b, "cascade of ");
	if (of)
		object_text(b, of);
	else
		hf_buf_add(b, c->cascade_of);
}

/*
 * What the marker alone does not say, in parentheses after the object
 * (or nothing): whose cascade deletes it, that a forget keeps the object,
 * that an adoption takes ownership.
 */
static void note_text(hf_buf *b, const struct view *v,
                      const struct hf_change *c)
{
	if (c->action == HF_ACT_DELETE && c->cascade_of) {
		hf_buf_add(b, " (");
		cascade_text(b, v, c);
		hf_buf_add(b, ")");
	} else if (c->action == HF_ACT_FORGET) {
		hf_buf_add(b, " (forget: another stack owns it too; it leaves "
		              "this stack and stays in Infrahub)");
	} else if (c->adopt) {
		hf_buf_add(
		        b,
		        c->action == HF_ACT_NOOP
		                ? " (adopt: already in Infrahub as declared; this "
		                  "stack takes ownership)"
		                : " (adopt)");
	}
}

/* "file:line, file:line" of the declarations; nothing when none. */
static void sources_text(hf_buf *b, const json_t *sources)
{
	const char *file;
	json_t *s;
	size_t i;

	json_array_foreach(sources, i, s)
	{
		file = json_string_value(json_object_get(s, "file"));
		hf_buf_addf(b, "%s%s", i ? ", " : "", file ? file : "?");
		if (json_is_integer(json_object_get(s, "line")))
			hf_buf_addf(
			        b, ":%" JSON_INTEGER_FORMAT,
			        json_integer_value(json_object_get(s, "line")));
	}
}

/* Whether the change says where the files declare it, either form. */
static int has_sources(const struct hf_change *c)
{
	return c->src_file || json_array_size(c->sources);
}

/* The change's declarations as sources_text() says them, either form. */
static void change_sources_text(hf_buf *b, const struct hf_change *c)
{
	if (c->src_file)
		hf_buf_addf(b, "%s:%d", c->src_file, c->src_line);
	else
		sources_text(b, c->sources);
}

/* Columns before a field's name: "      + ". */
#define FIELD_COL 8

/* "key = value": a field a create sets or a delete removes. */
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

/* "      + key = value" for each field: a create's after, a delete's before. */
static int text_fields(hf_buf *b, json_t *fields, const char *mark,
                       const char *col, const struct hf_render_opts *o)
{
	const char *key;
	json_t *v;
	int rc = 0;

	json_object_foreach(fields, key, v)
	{
		hf_buf_addf(b, "      %s%s%s ", col, mark, *col ? RESET : "");
		if (rc == 0)
			rc = text_set(b, key, v, o->width);
	}
	return rc;
}

static int text_change(hf_buf *b, const struct view *v,
                       const struct hf_change *c,
                       const struct hf_render_opts *o)
{
	const char *col = o->color ? colour(c) : "";
	const char *key;
	size_t i;
	int rc = 0;

	hf_buf_addf(b, "  %s%s ", col, sym(c));
	object_text(b, c);
	hf_buf_addf(b, "%s", *col ? RESET : "");
	note_text(b, v, c);
	hf_buf_add(b, "\n");
	if (has_sources(c)) {
		hf_buf_add(b, "      # declared at ");
		change_sources_text(b, c);
		hf_buf_add(b, "\n");
	}
	if (c->action == HF_ACT_CREATE)
		return text_fields(b, c->after, "+", col, o);
	if (c->action == HF_ACT_DELETE)
		return text_fields(b, c->before, "-", col, o);
	for (i = 0; i < json_array_size(c->changed); i++) {
		key = json_string_value(json_array_get(c->changed, i));
		hf_buf_addf(b, "      %s~%s ", col, *col ? RESET : "");
		if (rc == 0)
			rc = text_update(
			        b, key, json_object_get(c->before, key),
			        json_object_get(c->after, key), o->width);
	}
	return rc;
}

/*
 * The counts, as Terraform words them: "N to create, M to update, D to
 * destroy[, F to forget][, A to adopt], K unchanged". Forgets and
 * adoptions only when there are some.
 */
static void counts_text(hf_buf *b, const struct hf_plan_meta *m)
{
	hf_buf_addf(b, "%zu to create, %zu to update, %zu to destroy",
	            m->n_create, m->n_update, m->n_delete);
	if (m->n_forget)
		hf_buf_addf(b, ", %zu to forget", m->n_forget);
	if (m->n_adopt)
		hf_buf_addf(b, ", %zu to adopt", m->n_adopt);
	hf_buf_addf(b, ", %zu unchanged", m->n_noop);
}

#define PARTIAL_TEXT                                                       \
	"Partial plan: --target/--exclude limited it to some objects and " \
	"what they depend on; nothing outside them was compared or is "    \
	"deleted."

/* Hand what `b` holds to o->flush once it is a piece (`all`: any). */
static int hand_over(hf_buf *b, const struct hf_render_opts *o, int all)
{
	int rc;

	if (!o->flush || (!all && b->len < HF_RENDER_PIECE) || !b->len)
		return 0;
	if (hf_buf_failed(b))
		return HF_ENOMEM;
	rc = o->flush(o->flush_payload, b->ptr, b->len);
	hf_buf_reset(b);
	return rc < 0 ? HF_ERR : 0;
}

/*
 * The changes in the order apply runs them, under "wave N:" headings:
 * the creates and updates, then the deletes and forgets ("deletes, wave
 * N:"). Unchanged objects only when verbose.
 */
static int text_changes(hf_buf *b, const struct view *v,
                        const struct hf_render_opts *o)
{
	const struct hf_change *c, *prev = NULL;
	size_t i;
	int rc = 0;

	for (i = 0; i < v->n; i++) {
		c = v->order[i];
		if (!does_something(c) && !o->verbose)
			continue;
		if (!prev || prev->wave != c->wave ||
		    is_removal(prev) != is_removal(c))
			hf_buf_addf(b,
			            is_removal(c) ? "\ndeletes, wave %d:\n"
			                          : "\nwave %d:\n",
			            c->wave + 1);
		prev = c;
		if (text_change(b, v, c, o) < 0)
			rc = HF_ENOMEM;
		if (rc == 0)
			rc = hand_over(b, o, 0);
		if (rc == HF_ERR)
			return rc;
	}
	return rc;
}

int hf_render_text(hf_buf *b, const hf_plan *p, const struct hf_render_opts *o)
{
	const struct hf_plan_meta *m = hf_plan_meta_c(p);
	struct view v;
	int rc = view_init(&v, p);

	if (rc < 0)
		return rc;
	hf_buf_addf(b, "%sPlan %s%s for %s (branch %s), status %s\n",
	            o->color ? BOLD : "", m->id, o->color ? RESET : "",
	            m->address, m->branch, m->status);
	if (m->stack && strcmp(m->stack, "default"))
		hf_buf_addf(b, "Stack %s (group hubform-%s)\n", m->stack,
		            m->stack);
	if (m->partial)
		hf_buf_addf(b, "%s%s%s\n", o->color ? YELLOW : "", PARTIAL_TEXT,
		            o->color ? RESET : "");
	rc = text_changes(b, &v, o);
	view_release(&v);
	if (!hf_plan_has_changes(p))
		hf_buf_add(
		        b,
		        "\nNo changes. Infrahub matches the object files.\n");
	hf_buf_add(b, "\nPlan: ");
	counts_text(b, m);
	hf_buf_add(b, ".\n");
	if (rc == HF_ERR)
		return rc;
	if (rc < 0 || hf_buf_failed(b))
		return HF_ENOMEM;
	return hand_over(b, o, 1);
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
		if (!copy ||
		    json_object_set_new(copy, key,
		                        json_string(HF_SENSITIVE_TEXT)) < 0) {
			json_decref(copy);
			return NULL;
		}
	}
	return copy ? copy : json_incref(fields);
}

/*
 * The change's address, a Terraform-like string a tool can key on, in
 * the form --target and --exclude accept (hf/select.h): Kind[hfid] with
 * the HFID's parts joined by "__" as Infrahub prints them
 * (InfraInterface[atl1-edge1__Ethernet1/1]), or Kind(node id) when the
 * kind has no HFID. NULL on OOM.
 */
static json_t *address_json(const struct hf_change *c)
{
	hf_buf b = HF_BUF_INIT;
	json_t *j = NULL;
	size_t i;

	hf_buf_addf(&b, "%s%s", c->kind, json_array_size(c->hfid) ? "[" : "(");
	for (i = 0; i < json_array_size(c->hfid); i++)
		hf_buf_addf(&b, "%s%s", i ? "__" : "",
		            json_string_value(json_array_get(c->hfid, i)));
	if (!json_array_size(c->hfid))
		hf_buf_addf(&b, "%s)", c->node_id ? c->node_id : "");
	else
		hf_buf_add(&b, "]");
	if (!hf_buf_failed(&b))
		j = json_string(b.ptr);
	hf_buf_release(&b);
	return j;
}

/* A change's keys, in the order show prints them (schemas/plan.schema.json). */
static const char *const change_keys[] = {
	"id",          "address", "action", "actions", "kind",       "hfid",
	"node_id",     "before",  "after",  "changed", "deps",       "wave",
	"fingerprint", "status",  "error",  "adopt",   "cascade_of", "sources",
};

/* The value show prints for a change's `key`: a new reference or NULL. */
static json_t *change_value(const struct hf_change *c, json_t *in,
                            const char *key)
{
	json_t *v;

	if (!strcmp(key, "address"))
		return address_json(c);
	if (!strcmp(key, "actions"))
		return json_pack("[s]", hf_action_str(c->action));
	v = json_object_get(in, key);
	if (!v)
		return NULL;
	if ((!strcmp(key, "before") || !strcmp(key, "after")) &&
	    json_is_object(v))
		return masked(v);
	return json_incref(v);
}

/*
 * A change as `show --format json` prints it: the plan's JSON for it in
 * a fixed key order, with "address" and "actions" (Terraform's
 * change.actions) added and secrets masked. A new object; NULL on OOM.
 */
static json_t *change_out(const struct hf_change *c, json_t *in)
{
	json_t *out = json_object(), *v;
	const char *key;
	size_t i;
	int bad = !out;

	for (i = 0; !bad && i < sizeof(change_keys) / sizeof(*change_keys);
	     i++) {
		key = change_keys[i];
		if (strcmp(key, "address") && strcmp(key, "actions") &&
		    !json_object_get(in, key))
			continue;
		bad = json_object_set_new(out, key, change_value(c, in, key)) <
		      0;
	}
	/* anything the plan gained that this list does not know yet */
	json_object_foreach(in, key, v)
	{
		if (!bad && !json_object_get(out, key))
			bad = json_object_set(out, key, v) < 0;
	}
	if (bad) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* Whether the plan records a failure: its apply failed, or a change did. */
static int errored(const hf_plan *p)
{
	size_t i;

	if (!strcmp(hf_plan_meta_c(p)->status, "failed"))
		return 1;
	for (i = 0; i < hf_plan_count(p); i++)
		if (hf_plan_at(p, i)->status == HF_CH_FAILED)
			return 1;
	return 0;
}

/* The plan's top-level keys, in the order show prints them. */
static const char *const top_keys[] = {
	"id",       "created_at", "address",     "branch",          "stack",
	"group_id", "partial",    "schema_hash", "manifest_digest", "checksum",
	"status",   "counts",     "waves",       "changes",
};

/* Copy one top-level key; the changes each through change_out(). */
static int set_top(json_t *out, const hf_plan *p, const char *key, json_t *v)
{
	json_t *arr, *c;
	size_t i;

	if (strcmp(key, "changes"))
		return json_object_set(out, key, v);
	arr = json_array();
	if (!arr || json_object_set_new(out, key, arr) < 0)
		return -1;
	for (i = 0; i < json_array_size(v); i++) {
		c = i < hf_plan_count(p)
		            ? change_out(hf_plan_at(p, i), json_array_get(v, i))
		            : NULL;
		if (json_array_append_new(arr, c) < 0)
			return -1;
	}
	return 0;
}

/*
 * What show prints: format_version and hubform_version first (as
 * Terraform's format_version and terraform_version), the plan's keys in
 * a stable order with applyable and errored after status, and each
 * change with its address and actions. NULL on OOM.
 */
static json_t *show_json(const hf_plan *p)
{
	const struct hf_plan_meta *m = hf_plan_meta_c(p);
	json_t *j = hf_plan_meta_to_json(p), *out = json_object(), *v;
	const char *key;
	size_t i;
	int bad = !j || !out;

	bad = bad ||
	      json_object_set_new(out, "format_version",
	                          json_string(HF_PLAN_FORMAT_VERSION)) < 0 ||
	      json_object_set_new(out, "hubform_version",
	                          json_string(HF_VERSION)) < 0;
	for (i = 0; !bad && i < sizeof(top_keys) / sizeof(*top_keys); i++) {
		v = json_object_get(j, top_keys[i]);
		if (v)
			bad = set_top(out, p, top_keys[i], v) < 0;
		if (!bad && !strcmp(top_keys[i], "status"))
			bad = json_object_set_new(
			              out, "applyable",
			              json_boolean(
			                      !strcmp(m->status, "planned") &&
			                      hf_plan_has_changes(p))) < 0 ||
			      json_object_set_new(out, "errored",
			                          json_boolean(errored(p))) < 0;
	}
	/* anything the plan gained that this list does not know yet */
	json_object_foreach(j, key, v)
	{
		if (!bad && !json_object_get(out, key))
			bad = json_object_set(out, key, v) < 0;
	}
	json_decref(j);
	if (bad) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* json_dump_callback's writer: straight into the caller's buffer. */
static int dump_to_buf(const char *s, size_t n, void *payload)
{
	return hf_buf_addn(payload, s, n) < 0 ? -1 : 0;
}

/*
 * One change as it stands in the "changes" array of the whole document
 * dumped with JSON_INDENT(2): "\n    " and its own dump, every line of
 * it indented four more columns (a raw newline is never inside a JSON
 * string, which escapes it).
 */
static int change_piece(hf_buf *b, hf_buf *tmp, const struct hf_change *c)
{
	json_t *in = hf_change_to_json(c), *out = in ? change_out(c, in) : NULL;
	const char *s, *nl;
	int rc;

	json_decref(in);
	hf_buf_reset(tmp);
	rc = out ? json_dump_callback(out, dump_to_buf, tmp, JSON_INDENT(2))
	         : -1;
	json_decref(out);
	if (rc < 0 || hf_buf_failed(tmp))
		return HF_ENOMEM;
	hf_buf_add(b, "\n    ");
	for (s = tmp->ptr;
	     (nl = memchr(s, '\n', tmp->len - (size_t)(s - tmp->ptr)));
	     s = nl + 1) {
		hf_buf_addn(b, s, (size_t)(nl - s));
		hf_buf_add(b, "\n    ");
	}
	hf_buf_addn(b, s, tmp->len - (size_t)(s - tmp->ptr));
	return hf_buf_failed(b) ? HF_ENOMEM : 0;
}

/*
 * The document without its changes is dumped first, its "changes"
 * empty; the changes go where that "[]" stands, one at a time, each
 * built, written and dropped (and handed to o->flush as the text
 * grows): the bytes json_dump_callback() gives for the whole document,
 * without the whole document's tree (a gigabyte for 100k changes).
 */
int hf_render_json_ext(hf_buf *b, const hf_plan *p,
                       const struct hf_render_opts *o)
{
	static const char empty[] = "\n  \"changes\": []";
	static const struct hf_render_opts none = HF_RENDER_OPTS_INIT;
	hf_buf head = HF_BUF_INIT, tmp = HF_BUF_INIT;
	json_t *j = show_json(p);
	size_t start = b->len, i, n = hf_plan_count(p);
	const char *at = NULL;
	int rc = j ? json_dump_callback(j, dump_to_buf, &head, JSON_INDENT(2))
	           : -1;

	if (!o)
		o = &none;
	json_decref(j);
	rc = rc < 0 || hf_buf_failed(&head) ? HF_ENOMEM : 0;
	/* jansson's layout changed: an error, never a plan cut short */
	if (rc == 0 && n && !(at = strstr(head.ptr, empty)))
		rc = HF_EINVAL;
	if (rc == 0 && !at) {
		hf_buf_addn(b, head.ptr, head.len);
	} else if (rc == 0) {
		/* up to the '[' */
		hf_buf_addn(b, head.ptr,
		            (size_t)(at - head.ptr) + strlen(empty) - 1);
		for (i = 0; rc == 0 && i < n; i++) {
			rc = change_piece(b, &tmp, hf_plan_at(p, i));
			if (rc == 0 && i + 1 < n)
				hf_buf_add(b, ",");
			if (rc == 0)
				rc = hand_over(b, o, 0);
		}
		hf_buf_add(b, "\n  ]");
		hf_buf_add(b, at + strlen(empty));
	}
	if (rc == 0)
		hf_buf_add(b, "\n");
	if (rc == 0 && hf_buf_failed(b))
		rc = HF_ENOMEM;
	if (rc == 0)
		rc = hand_over(b, o, 1);
	hf_buf_release(&head);
	hf_buf_release(&tmp);
	if (rc < 0 && !o->flush)
		hf_buf_setlen(b, start);
	return rc;
}

int hf_render_json(hf_buf *b, const hf_plan *p)
{
	return hf_render_json_ext(b, p, NULL);
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

/* What `tmp` holds as a table cell; HF_ENOMEM when building it failed. */
static int md_cell_of(hf_buf *b, hf_buf *tmp)
{
	if (hf_buf_failed(tmp))
		return HF_ENOMEM;
	md_cell(b, tmp->ptr ? tmp->ptr : "");
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The kinds of the changes the tables show (sorted, with repeats). */
static size_t kinds_of(const hf_plan *p, const char ***out)
{
	const char **k = hf_calloc(hf_plan_count(p) + 1, sizeof(*k));
	const struct hf_change *c;
	size_t i, n = 0;

	for (i = 0; k && i < hf_plan_count(p); i++) {
		c = hf_plan_at(p, i);
		if (does_something(c) && !is_removal(c))
			k[n++] = c->kind;
	}
	if (k)
		qsort(k, n, sizeof(*k), cmp_str);
	*out = k;
	return n;
}

/* Whether any change records where the files declare it. */
static int any_sources(const hf_plan *p)
{
	size_t i;

	for (i = 0; i < hf_plan_count(p); i++)
		if (has_sources(hf_plan_at(p, i)))
			return 1;
	return 0;
}

/*
 * One table per kind, with a "declared at" column when `src` (a plan
 * made before plans recorded declarations has none). Rows stop, and
 * whole tables are left out, when the comment would not leave room for
 * the rest; the rows left out are counted in *left.
 */
static int md_table(hf_buf *b, const hf_plan *p, const char *kind, int src,
                    size_t limit, size_t *left)
{
	const struct hf_change *c;
	hf_buf cell = HF_BUF_INIT;
	size_t i, j;
	int rc = 0;

	if (b->len <= limit)
		hf_buf_addf(
		        b,
		        "\n### %s\n\n| | object | fields |%s\n|---|---|---|%s\n",
		        kind, src ? " declared at |" : "", src ? "---|" : "");
	for (i = 0; i < hf_plan_count(p); i++) {
		c = hf_plan_at(p, i);
		if (!does_something(c) || is_removal(c) ||
		    strcmp(c->kind, kind))
			continue;
		if (b->len > limit) {
			(*left)++;
			continue;
		}
		hf_buf_addf(b, "| %s | ", verb(c));
		hf_buf_reset(&cell);
		hfid_text(&cell, c->hfid);
		if (md_cell_of(b, &cell) < 0)
			rc = HF_ENOMEM;
		hf_buf_add(b, " | ");
		for (j = 0; j < json_array_size(c->changed); j++) {
			hf_buf_add(b, j ? ", " : "");
			md_cell(b, json_string_value(
			                   json_array_get(c->changed, j)));
		}
		if (src) {
			hf_buf_add(b, " | ");
			hf_buf_reset(&cell);
			change_sources_text(&cell, c);
			if (md_cell_of(b, &cell) < 0)
				rc = HF_ENOMEM;
		}
		hf_buf_add(b, " |\n");
	}
	hf_buf_release(&cell);
	return rc;
}

/* A row of the deletes table: "| delete | Kind hfid | note |". */
static int md_removal_row(hf_buf *b, const struct view *v,
                          const struct hf_change *c)
{
	hf_buf cell = HF_BUF_INIT;
	int rc;

	hf_buf_addf(b, "| %s | ", verb(c));
	object_text(&cell, c);
	rc = md_cell_of(b, &cell);
	hf_buf_add(b, " | ");
	hf_buf_reset(&cell);
	if (c->action == HF_ACT_FORGET)
		hf_buf_add(&cell,
		           "stays in Infrahub (another stack owns it too)");
	else if (c->cascade_of)
		cascade_text(&cell, v, c);
	if (md_cell_of(b, &cell) < 0)
		rc = HF_ENOMEM;
	hf_buf_add(b, " |\n");
	hf_buf_release(&cell);
	return rc;
}

/* Room kept for the rest of a comment when the deletes take the most. */
#define MD_RESERVE 1000

/*
 * Every delete and forget, first and whole, so that no other section's
 * size can push one out of the review. Only a list of deletes that alone
 * would pass the size limit is cut, and then a warning before it gives
 * the total and says where to see the rest.
 */
static int md_removals(hf_buf *b, const struct view *v, size_t max_chars)
{
	const struct hf_plan_meta *m = hf_plan_meta_c(v->p);
	hf_buf rows = HF_BUF_INIT;
	size_t i, start, cut = 0, room;
	int rc = 0;

	room = max_chars > b->len + MD_RESERVE ? max_chars - b->len - MD_RESERVE
	                                       : 0;
	for (i = 0; i < v->n; i++) {
		if (!is_removal(v->order[i]))
			continue;
		start = rows.len;
		if (md_removal_row(&rows, v, v->order[i]) < 0)
			rc = HF_ENOMEM;
		if (cut || rows.len > room) {
			hf_buf_setlen(&rows, start);
			cut++;
		}
	}
	if (!m->n_delete && !m->n_forget)
		goto out;
	if (cut)
		hf_buf_addf(
		        b,
		        "\n> **Warning: this plan deletes %zu objects and "
		        "forgets %zu; %zu of them are not listed here, to fit "
		        "the comment size limit.** Run `hubform show %s` to "
		        "see every one before approving.\n",
		        m->n_delete, m->n_forget, cut, m->id);
	hf_buf_addf(
	        b,
	        "\n### Deletes\n\nApplied after every create and update."
	        "%s\n\n| | object | note |\n|---|---|---|\n%s",
	        m->n_forget
	                ? " A forget only removes the object from this "
	                  "stack: another stack owns it too, so it stays in Infrahub."
	                : "",
	        rows.ptr ? rows.ptr : "");
out:
	if (hf_buf_failed(&rows))
		rc = HF_ENOMEM;
	hf_buf_release(&rows);
	return rc;
}

/* The longest run of backticks in s. */
static size_t backtick_run(const char *s)
{
	size_t run = 0, best = 0;

	for (; s && *s; s++) {
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

/* The diff lines of a change: "- key: before" and "+ key: after". */
static int md_body(hf_buf *body, const struct hf_change *c)
{
	const char *key;
	json_t *v;
	size_t j;
	int rc = 0;

	if (c->action == HF_ACT_DELETE) {
		json_object_foreach(c->before, key, v)
		{
			hf_buf_addf(body, "- %s: ", key);
			if (rc == 0)
				rc = value_text(body, v);
			hf_buf_add(body, "\n");
		}
		return rc;
	}
	for (j = 0; rc == 0 && j < json_array_size(c->changed); j++) {
		key = json_string_value(json_array_get(c->changed, j));
		if (c->before) {
			hf_buf_addf(body, "- %s: ", key);
			rc = value_text(body, json_object_get(c->before, key));
			hf_buf_add(body, "\n");
		}
		hf_buf_addf(body, "+ %s: ", key);
		if (rc == 0)
			rc = value_text(body, json_object_get(c->after, key));
		hf_buf_add(body, "\n");
	}
	return rc;
}

/*
 * A change's fields as a diff block, values whole (a diff block keeps
 * long lines). The fence is longer than any run of backticks in the
 * values, so that none ends the block early.
 */
static int md_details(hf_buf *d, const struct view *v,
                      const struct hf_change *c)
{
	hf_buf body = HF_BUF_INIT, head = HF_BUF_INIT;
	size_t fence;
	int rc = md_body(&body, c);

	fence = backtick_run(body.ptr) + 1;
	fence = fence < 3 ? 3 : fence;
	hf_buf_addf(&head, "%s ", sym(c));
	object_text(&head, c);
	note_text(&head, v, c);
	hf_buf_addf(d, "<details><summary>%s</summary>\n\n",
	            head.ptr ? head.ptr : "");
	add_fence(d, fence);
	hf_buf_addf(d, "diff\n%s", body.ptr ? body.ptr : "");
	add_fence(d, fence);
	hf_buf_add(d, "\n\n</details>\n");
	if (hf_buf_failed(&body) || hf_buf_failed(&head))
		rc = HF_ENOMEM;
	hf_buf_release(&body);
	hf_buf_release(&head);
	return rc;
}

/* A change with field details to show: not a forget, not a bare adopt. */
static int has_details(const struct hf_change *c)
{
	return c->action == HF_ACT_CREATE || c->action == HF_ACT_UPDATE ||
	       c->action == HF_ACT_DELETE;
}

/*
 * The details of each change, the deletes first, each left out whole
 * when the comment would pass max_chars; *left counts those.
 */
static int md_all_details(hf_buf *b, const struct view *v, size_t max_chars,
                          size_t *left)
{
	hf_buf d = HF_BUF_INIT;
	const struct hf_change *c;
	size_t i, start;
	int pass, rc = 0;

	for (pass = 1; pass >= 0; pass--) {
		for (i = 0; i < v->n; i++) {
			c = v->order[i];
			if (!has_details(c) || is_removal(c) != pass)
				continue;
			start = d.len;
			if (md_details(&d, v, c) < 0)
				rc = HF_ENOMEM;
			if (b->len + d.len + 400 > max_chars) {
				hf_buf_setlen(&d, start);
				(*left)++;
			}
		}
	}
	hf_buf_add(b, d.ptr ? d.ptr : "");
	if (hf_buf_failed(&d))
		rc = HF_ENOMEM;
	hf_buf_release(&d);
	return rc;
}

int hf_render_markdown(hf_buf *b, const hf_plan *p,
                       const struct hf_render_opts *o)
{
	const struct hf_plan_meta *m = hf_plan_meta_c(p);
	const char **kinds = NULL;
	size_t n, i, left = 0, rows = 0;
	size_t limit = o->max_chars > 4000 ? o->max_chars - 4000 : 0;
	int rc, src = any_sources(p);
	struct view v;

	rc = view_init(&v, p);
	if (rc < 0)
		return rc;
	hf_buf_addf(b, "## hubform plan `%s`\n\n**", m->id);
	counts_text(b, m);
	hf_buf_addf(b, "** on `%s` (branch `%s`", m->address, m->branch);
	if (m->stack && strcmp(m->stack, "default"))
		hf_buf_addf(b, ", stack `%s`", m->stack);
	hf_buf_add(b, ")\n");
	if (m->partial)
		hf_buf_add(b, "\n> **Warning:** " PARTIAL_TEXT "\n");
	if (!hf_plan_has_changes(p))
		hf_buf_add(
		        b,
		        "\nNo changes. Infrahub matches the object files.\n");
	if (md_removals(b, &v, o->max_chars) < 0)
		rc = HF_ENOMEM;
	n = kinds_of(p, &kinds);
	if (!kinds)
		rc = HF_ENOMEM;
	for (i = 0; i < n; i++)
		if (!i || strcmp(kinds[i], kinds[i - 1]))
			if (md_table(b, p, kinds[i], src, limit, &rows) < 0)
				rc = HF_ENOMEM;
	hf_free(kinds);
	if (rows)
		hf_buf_addf(
		        b,
		        "\n_%zu more rows were left out of the tables to fit "
		        "the comment size limit._\n",
		        rows);
	for (i = 0; i < hf_plan_count(p); i++)
		if (has_details(hf_plan_at(p, i)))
			break;
	if (i < hf_plan_count(p))
		hf_buf_add(b, "\n#### Details\n\n");
	if (md_all_details(b, &v, o->max_chars, &left) < 0)
		rc = HF_ENOMEM;
	view_release(&v);
	if (left)
		hf_buf_addf(
		        b,
		        "\n_Details of %zu more changes were left out to fit "
		        "the comment size limit; run `hubform show %s` for all._\n",
		        left, m->id);
	return rc < 0 || hf_buf_failed(b) ? HF_ENOMEM : 0;
}
