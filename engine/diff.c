/*
 * Diff: desired vs live objects into plan changes. No I/O.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/array.h"
#include "hf/buf.h"
#include "hf/diff.h"
#include "hf/jsontext.h"
#include "hf/sha256.h"
#include "hf/banned.h"

static json_t *ref_json(const struct hf_ref *r)
{
	if (r->hfid)
		return json_pack("{s:s, s:O}", "kind", r->kind ? r->kind : "",
		                 "hfid", r->hfid);
	return json_pack("{s:s, s:s}", "kind", r->kind ? r->kind : "", "id",
	                 r->id ? r->id : "");
}

/* A reference's canonical text: sorted keys, as the fingerprint hashes it. */
static int ref_text(hf_buf *b, const struct hf_ref *r)
{
	const char *kind = r->kind ? r->kind : "";
	int rc;

	if (r->hfid) {
		hf_buf_add(b, "{\"hfid\":");
		rc = hf_json_write(b, r->hfid, HF_JSON_SORTED);
	} else {
		hf_buf_add(b, "{\"id\":");
		rc = hf_json_write_string(b, r->id ? r->id : "",
		                          strlen(r->id ? r->id : ""));
	}
	hf_buf_add(b, ",\"kind\":");
	if (rc == 0)
		rc = hf_json_write_string(b, kind, strlen(kind));
	hf_buf_addch(b, '}');
	return rc ? rc : hf_buf_failed(b) ? HF_ENOMEM : 0;
}

/* The reference as the sorted text reads back: hfid (or id), then kind. */
static json_t *ref_json_sorted(const struct hf_ref *r)
{
	if (r->hfid)
		return json_pack("{s:O, s:s}", "hfid", r->hfid, "kind",
		                 r->kind ? r->kind : "");
	return json_pack("{s:s, s:s}", "id", r->id ? r->id : "", "kind",
	                 r->kind ? r->kind : "");
}

struct sorted_ref {
	const char *text; /* in the shared buffer, NUL-terminated */
	size_t at; /* offset, while the buffer may still move */
	size_t i; /* index in the field's refs */
};

static int cmp_sorted_ref(const void *a, const void *b)
{
	return strcmp(((const struct sorted_ref *)a)->text,
	              ((const struct sorted_ref *)b)->text);
}

/*
 * The refs of a many-relationship in the order of their canonical texts
 * (relationships of cardinality many are sets): `order[k]` is the index
 * of the k-th. Caller frees *order.
 */
static int refs_order(const struct hf_field *f, size_t **order)
{
	struct sorted_ref *sr;
	hf_buf b = HF_BUF_INIT;
	size_t i;
	int rc;

	*order = hf_calloc(f->nrefs ? f->nrefs : 1, sizeof(**order));
	if (f->nrefs <= 1) /* one way to order them: no text to sort by */
		return *order ? 0 : HF_ENOMEM;
	sr = hf_calloc(f->nrefs, sizeof(*sr));
	rc = sr ? 0 : HF_ENOMEM;
	if (!*order)
		rc = HF_ENOMEM;
	for (i = 0; rc == 0 && i < f->nrefs; i++) {
		sr[i].at = b.len;
		sr[i].i = i;
		rc = ref_text(&b, &f->refs[i]);
		if (rc == 0 && hf_buf_addch(&b, '\0') < 0)
			rc = HF_ENOMEM;
	}
	for (i = 0; rc == 0 && i < f->nrefs; i++)
		sr[i].text = b.ptr + sr[i].at;
	if (rc == 0 && f->nrefs > 1)
		qsort(sr, f->nrefs, sizeof(*sr), cmp_sorted_ref);
	for (i = 0; rc == 0 && i < f->nrefs; i++)
		(*order)[i] = sr[i].i;
	if (rc < 0) {
		hf_free(*order);
		*order = NULL;
	}
	hf_free(sr);
	hf_buf_release(&b);
	return rc;
}

/* Many-relationships are sets: sort by canonical text for stable output. */
static json_t *refs_sorted(const struct hf_field *f)
{
	json_t *arr = json_array();
	size_t i, *order = NULL;

	if (!arr || refs_order(f, &order) < 0)
		goto fail;
	for (i = 0; i < f->nrefs; i++)
		if (json_array_append_new(
		            arr, ref_json_sorted(&f->refs[order[i]])) < 0)
			goto fail;
	hf_free(order);
	return arr;
fail:
	hf_free(order);
	json_decref(arr);
	return NULL;
}

json_t *hf_field_json(const struct hf_field *f)
{
	switch (f->type) {
	case HF_FIELD_ATTR:
		return f->value ? json_incref(f->value) : json_null();
	case HF_FIELD_ONE:
		return f->nrefs ? ref_json(&f->refs[0]) : json_null();
	default:
		return refs_sorted(f);
	}
}

static int kinds_match(const hf_schema *s, const char *a, const char *b)
{
	const hf_kind *ka, *kb;

	if (!a || !b || !strcmp(a, b))
		return 1;
	if (!s)
		return 0;
	ka = hf_schema_kind(s, a);
	kb = hf_schema_kind(s, b);
	return (ka && hf_schema_is_a(s, ka, b)) ||
	       (kb && hf_schema_is_a(s, kb, a));
}

static int ref_equal(const hf_schema *s, const struct hf_ref *a,
                     const struct hf_ref *b)
{
	if (a->id && b->id)
		return !strcmp(a->id, b->id);
	if (a->hfid && b->hfid)
		return json_equal(a->hfid, b->hfid) &&
		       kinds_match(s, a->kind, b->kind);
	return 0;
}

static int refs_equal(const hf_schema *s, const struct hf_field *w,
                      const struct hf_field *h)
{
	size_t i, j;

	if (w->nrefs != h->nrefs)
		return 0;
	for (i = 0; i < w->nrefs; i++) {
		for (j = 0; j < h->nrefs; j++)
			if (ref_equal(s, &w->refs[i], &h->refs[j]))
				break;
		if (j == h->nrefs)
			return 0;
	}
	return 1;
}

static int field_equal(const hf_schema *s, const struct hf_field *w,
                       const struct hf_field *h)
{
	if (!h)
		return 0;
	if (w->type == HF_FIELD_ATTR)
		return hf_value_equal(w->akind, w->value, h->value);
	return refs_equal(s, w, h);
}

/* A secret attribute: written on create, never compared or shown. */
static int is_secret(const struct hf_field *f)
{
	return f->type == HF_FIELD_ATTR && hf_attr_kind_is_secret(f->akind);
}

/* A field's canonical text, as hf_field_json() would print it sorted. */
static int field_text(hf_buf *b, const struct hf_field *f)
{
	size_t i, *order;
	int rc;

	switch (f->type) {
	case HF_FIELD_ATTR:
		if (f->value)
			return hf_json_write(b, f->value, HF_JSON_SORTED);
		break;
	case HF_FIELD_ONE:
		if (f->nrefs)
			return ref_text(b, &f->refs[0]);
		break;
	default:
		if (f->nrefs <= 1) {
			hf_buf_addch(b, '[');
			rc = f->nrefs ? ref_text(b, &f->refs[0]) : 0;
			hf_buf_addch(b, ']');
			return rc ? rc : hf_buf_failed(b) ? HF_ENOMEM : 0;
		}
		rc = refs_order(f, &order);
		hf_buf_addch(b, '[');
		for (i = 0; rc == 0 && i < f->nrefs; i++) {
			if (i)
				hf_buf_addch(b, ',');
			rc = ref_text(b, &f->refs[order[i]]);
		}
		hf_buf_addch(b, ']');
		hf_free(order);
		return rc ? rc : hf_buf_failed(b) ? HF_ENOMEM : 0;
	}
	hf_buf_add(b, "null");
	return hf_buf_failed(b) ? HF_ENOMEM : 0;
}

struct named_field {
	const struct hf_field *f;
	size_t i; /* the order it was named in: of two alike, the last wins */
};

static int cmp_named_field(const void *a, const void *b)
{
	const struct named_field *x = a, *y = b;
	int r = strcmp(x->f->name, y->f->name);

	if (r)
		return r;
	return x->i < y->i ? -1 : x->i > y->i;
}

/*
 * {NAME:VALUE...} of the live fields `want` manages (all of `live`'s when
 * want is NULL) in canonical text (sorted keys, compact), appended to `b`:
 * what hf_field_json() of each makes, as json_dumps() sorted prints it.
 */
static int fields_text(hf_buf *b, const struct hf_object *live,
                       const struct hf_object *want)
{
	size_t i, k = 0, n = want ? want->nfields : live->nfields;
	/* on the stack for the usual few fields: no allocation per object */
	struct named_field few[16],
	        *nf = n <= 16 ? few : hf_calloc(n, sizeof(*nf));
	const struct hf_field *f;
	int rc = nf ? 0 : HF_ENOMEM, first = 1;

	for (i = 0; rc == 0 && i < n; i++) {
		if (want && is_secret(&want->fields[i]))
			continue; /* not a managed field of a live object */
		f = want ? hf_object_field(live, want->fields[i].name)
		         : &live->fields[i];
		if (f)
			nf[k++] = (struct named_field){ f, i };
	}
	if (rc == 0 && k > 1)
		qsort(nf, k, sizeof(*nf), cmp_named_field);
	hf_buf_addch(b, '{');
	for (i = 0; rc == 0 && i < k; i++) {
		if (i + 1 < k && !strcmp(nf[i].f->name, nf[i + 1].f->name))
			continue; /* named again later: that one counts */
		if (!first)
			hf_buf_addch(b, ',');
		first = 0;
		rc = hf_json_write_string(b, nf[i].f->name,
		                          strlen(nf[i].f->name));
		hf_buf_addch(b, ':');
		if (rc == 0)
			rc = field_text(b, nf[i].f);
	}
	hf_buf_addch(b, '}');
	if (nf != few)
		hf_free(nf);
	return rc ? rc : hf_buf_failed(b) ? HF_ENOMEM : 0;
}

/*
 * The hash of {"fields":FIELDS,"id":ID}, FIELDS the text fields_text()
 * makes (n bytes), in canonical text: no JSON tree.
 */
static int fingerprint_in(hf_buf *b, struct hf_sha256 *sha, char out[65],
                          const char *fields, size_t n,
                          const struct hf_object *live)
{
	int rc;

	hf_buf_reset(b);
	hf_buf_add(b, "{\"fields\":");
	hf_buf_addn(b, fields, n);
	hf_buf_add(b, ",\"id\":");
	rc = hf_json_write_string(b, live->id ? live->id : "",
	                          strlen(live->id ? live->id : ""));
	hf_buf_addch(b, '}');
	if (rc == 0 && hf_buf_failed(b))
		rc = HF_ENOMEM;
	if (rc == 0)
		hf_sha256_hex_with(sha, b->ptr, b->len, out);
	return rc;
}

static int fingerprint_of(char out[65], const char *fields, size_t n,
                          const struct hf_object *live)
{
	hf_buf b = HF_BUF_INIT;
	struct hf_sha256 sha = { NULL, NULL };
	int rc = fingerprint_in(&b, &sha, out, fields, n, live);

	hf_sha256_release(&sha);
	hf_buf_release(&b);
	return rc;
}

int hf_diff_fingerprint(char out[65], const struct hf_object *live,
                        const struct hf_object *want)
{
	hf_buf b = HF_BUF_INIT;
	int rc = fields_text(&b, live, want);

	if (rc == 0)
		rc = fingerprint_of(out, b.ptr, b.len, live);
	hf_buf_release(&b);
	return rc;
}

int hf_diff_fingerprint_fields(char out[65], const struct hf_object *live,
                               const json_t *fields)
{
	struct hf_object names;
	struct hf_field f;
	const char *key;
	json_t *v;
	int rc = 0;

	memset(&names, 0, sizeof(names));
	/* iterating does not change the object, which is what const promises */
	json_object_foreach((json_t *)(uintptr_t)fields, key, v)
	{
		memset(&f, 0, sizeof(f));
		if (rc < 0)
			break;
		f.name = hf_name(key);
		/* hf_object_add_field() frees f when it fails */
		if (!f.name || hf_object_add_field(&names, &f) < 0)
			rc = HF_ENOMEM;
	}
	if (rc == 0)
		rc = hf_diff_fingerprint(out, live, &names);
	hf_object_release(&names);
	return rc;
}

struct ahead;

struct ctx {
	hf_plan *plan;
	const hf_objset *want;
	const hf_objset *have;
	const hf_schema *schema;
	char (*ids)[17]; /* change id per want object, once known */
	int consume; /* hf_diff_opts.consume */
	json_t *empty; /* the no-ops' "changed" and "deps", shared */
	hf_buf text, fp; /* scratch for a no-op's text and fingerprint */
	hf_buf *key; /* scratch for hf_objset_find_buf() */
	struct refs_room *refs; /* scratch for desired_field() */
	struct ahead *ahead; /* the thread reading ahead, or NULL */
	struct hf_sha256 sha; /* hf_sha256_hex_with()'s, for fingerprints */
};

struct refs_room {
	struct hf_ref *v;
	size_t cap;
};

/* The desired object a reference points at, when the files declare it. */
static long ref_target(const struct ctx *c, const struct hf_ref *r)
{
	const hf_kind *k, *const *impl;
	size_t i, n;
	long at;

	if (!r->hfid || !r->kind)
		return -1;
	at = hf_objset_find_buf(c->want, r->kind, r->hfid, c->key);
	if (at >= 0 || !c->schema)
		return at;
	k = hf_schema_kind(c->schema, r->kind);
	n = k ? hf_schema_implementations(c->schema, k, &impl) : 0;
	for (i = 0; i < n; i++) {
		at = hf_objset_find_buf(c->want, hf_schema_kind_name(impl[i]),
		                        r->hfid, c->key);
		if (at >= 0)
			return at;
	}
	return -1;
}

/*
 * The id of the create of want object t, made when first asked for: a
 * plan without creates (no changes, or updates only) makes none.
 */
static const char *create_id(struct ctx *c, size_t t)
{
	const struct hf_object *w = hf_objset_at(c->want, t);

	if (!c->ids[t][0] &&
	    hf_plan_change_id(c->ids[t], HF_ACT_CREATE, w->kind, w->hfid) < 0)
		return NULL;
	return c->ids[t];
}

static int add_deps(struct ctx *c, const struct hf_object *w, json_t *deps)
{
	const struct hf_field *f;
	const char *id;
	size_t i, j;
	long t;

	for (i = 0; i < w->nfields; i++) {
		f = &w->fields[i];
		for (j = 0; j < f->nrefs; j++) {
			t = ref_target(c, &f->refs[j]);
			if (t < 0 ||
			    hf_objset_find_buf(
			            c->have,
			            hf_objset_at(c->want, (size_t)t)->kind,
			            hf_objset_at(c->want, (size_t)t)->hfid,
			            c->key) >= 0)
				continue;
			/* a create of this plan; its id is fixed by kind+HFID
			 */
			id = create_id(c, (size_t)t);
			if (!id ||
			    json_array_append_new(deps, json_string(id)) < 0)
				return HF_ENOMEM;
		}
	}
	return 0;
}

/*
 * The kind to name a desired reference by: its concrete kind when it is
 * known, so that both sides of "before -> after" name a peer alike even
 * when the schema's peer is a generic. The desired object it points at
 * knows its kind; so does the live peer it matches (Infrahub's
 * __typename).
 */
static const char *concrete_kind(const struct ctx *c, const struct hf_ref *r,
                                 const struct hf_field *live)
{
	long t = ref_target(c, r);
	size_t j;

	if (t >= 0)
		return hf_objset_at(c->want, (size_t)t)->kind;
	for (j = 0; live && j < live->nrefs; j++)
		if (ref_equal(c->schema, r, &live->refs[j]))
			return live->refs[j].kind;
	return r->kind;
}

/*
 * A desired field as compared and shown: `w`, with each reference naming
 * its concrete kind. Its refs are shallow copies borrowing from `w`, the
 * desired objects and `live`, in the diff's room (c->refs), valid until
 * the next call: one desired field is made at a time.
 */
static int desired_field(struct hf_field *out, const struct ctx *c,
                         const struct hf_field *w, const struct hf_field *live)
{
	struct refs_room *room = c->refs;
	size_t i;

	*out = *w;
	if (w->type == HF_FIELD_ATTR || !w->nrefs)
		return 0;
	if (HF_ARRAY_GROW(room->v, room->cap, w->nrefs) < 0)
		return HF_ENOMEM;
	for (i = 0; i < w->nrefs; i++) {
		room->v[i] = w->refs[i];
		room->v[i].kind = concrete_kind(c, &w->refs[i], live);
	}
	out->refs = room->v;
	return 0;
}

/*
 * A secret of an object to create: the plan must carry the value to apply
 * it, wrapped so that no renderer ever shows it (hf/value.h).
 */
static int secret_field(struct hf_change *ch, const struct hf_field *w)
{
	json_t *v = w->value && !json_is_null(w->value)
	                    ? hf_value_sensitive(w->value)
	                    : json_null();

	if (!v || json_object_set_new(ch->after, w->name, v) < 0 ||
	    json_array_append_new(ch->changed, json_string(w->name)) < 0)
		return HF_ENOMEM;
	return 0;
}

/* One field of a change: after, before, and whether it changed. */
static int compare_field(struct hf_change *ch, const struct ctx *c,
                         const struct hf_field *w, const struct hf_object *h)
{
	const struct hf_field *hf = h ? hf_object_field(h, w->name) : NULL;
	struct hf_field wf;
	int rc;

	/*
	 * Infrahub keeps a hash of a secret, or will not give it back: the
	 * live value can never be compared. Write it once, on create.
	 */
	if (is_secret(w))
		return h ? 0 : secret_field(ch, w);
	rc = desired_field(&wf, c, w, hf);
	if (rc == 0 &&
	    json_object_set_new(ch->after, wf.name, hf_field_json(&wf)) < 0)
		rc = HF_ENOMEM;
	if (rc == 0 && h &&
	    json_object_set_new(ch->before, wf.name,
	                        hf ? hf_field_json(hf) : json_null()) < 0)
		rc = HF_ENOMEM;
	if (rc == 0 && (!h || !field_equal(c->schema, &wf, hf)) &&
	    json_array_append_new(ch->changed, json_string(wf.name)) < 0)
		rc = HF_ENOMEM;
	return rc;
}

/* Whether every managed field of `w` equals the live one in `h`. */
static int unchanged(const struct ctx *c, const struct hf_object *w,
                     const struct hf_object *h, int *same)
{
	const struct hf_field *hf;
	struct hf_field wf;
	size_t i;
	int rc = 0;

	*same = 1;
	for (i = 0; rc == 0 && *same && i < w->nfields; i++) {
		if (is_secret(&w->fields[i]))
			continue;
		hf = hf_object_field(h, w->fields[i].name);
		rc = desired_field(&wf, c, &w->fields[i], hf);
		if (rc == 0)
			*same = field_equal(c->schema, &wf, hf);
	}
	return rc;
}

/*
 * An unchanged object: its two sides are equal field for field, so the
 * change keeps one copy of the live fields (as read), as text: no trees
 * (hf_change.text). The fingerprint hashes the same text.
 */
static int compare_unchanged(struct hf_change *ch, struct ctx *c,
                             const struct hf_object *w,
                             const struct hf_object *h)
{
	hf_buf *b = &c->text;
	int rc;

	hf_buf_reset(b);
	rc = fields_text(b, h, w);
	if (rc == 0)
		rc = fingerprint_in(&c->fp, &c->sha, ch->fingerprint, b->ptr,
		                    b->len, h);
	if (rc == 0 && !(ch->text = hf_strndup(b->ptr, b->len)))
		rc = HF_ENOMEM;
	return rc;
}

/* A change of `w` that is not a no-op: trees of both sides. */
static int compare_changed(struct hf_change *ch, struct ctx *c,
                           const struct hf_object *w, const struct hf_object *h)
{
	size_t i;
	int rc;

	ch->changed = json_array();
	if (!ch->changed)
		return HF_ENOMEM;
	ch->before = json_object();
	ch->after = json_object();
	if (!ch->before || !ch->after)
		return HF_ENOMEM;
	for (i = 0; i < w->nfields; i++) {
		rc = compare_field(ch, c, &w->fields[i], h);
		if (rc < 0)
			return rc;
	}
	if (!h) {
		json_decref(ch->before);
		ch->before = NULL;
	}
	return 0;
}

/* An unchanged object's change has no "changed" array: one_change gives
   it the shared empty one. */
static int compare(struct hf_change *ch, struct ctx *c,
                   const struct hf_object *w, const struct hf_object *h)
{
	int rc, same = 0;

	if (h && (rc = unchanged(c, w, h, &same)) < 0)
		return rc;
	if (same)
		return compare_unchanged(ch, c, w, h);
	return compare_changed(ch, c, w, h);
}

/*
 * Reading ahead of the diff: a second thread finds each desired object's
 * live twin, whether the two are equal and, when they are, the text and
 * fingerprint of the no-op, up to AHEAD_WINDOW objects before the diff,
 * which takes what it made (the twin look-up, the comparison and the
 * text were 0.2 s of a 100k no-change plan's 0.27 s diff, the second
 * core idle). The thread only reads the sets and writes its own slots
 * and scratch; the objects whose fields the diff gives back (consume)
 * are behind it, and what it allocates it frees itself, so the two do
 * not fight over the heap as a diff split in halves did.
 */
#define AHEAD_WINDOW 1024
#define AHEAD_MIN    4096 /* objects: fewer are diffed before a thread starts */

struct slot {
	long at; /* the live twin's index, -1 for none */
	int done; /* 0: made nothing (out of memory): the diff does it */
	int same;
	hf_buf text; /* a no-op's text, when same */
	char fp[65]; /* and its fingerprint */
};

struct ahead {
	struct ctx c; /* the thread's: scratch of its own, no plan */
	hf_buf key;
	struct refs_room refs;
	struct slot slots[AHEAD_WINDOW];
	size_t n;
	atomic_size_t made; /* objects whose slot is ready */
	atomic_size_t taken; /* objects the diff is done with */
	atomic_int stop;
	pthread_t thread;
};

static void slot_make(struct ahead *a, size_t j)
{
	struct slot *s = &a->slots[j % AHEAD_WINDOW];
	const struct hf_object *w = hf_objset_at(a->c.want, j), *h;
	int rc = 0;

	s->same = 0;
	s->at = hf_objset_find_buf(a->c.have, w->kind, w->hfid, a->c.key);
	h = s->at >= 0 ? hf_objset_at(a->c.have, (size_t)s->at) : NULL;
	if (h)
		rc = unchanged(&a->c, w, h, &s->same);
	if (rc == 0 && s->same) {
		hf_buf_reset(&s->text);
		rc = fields_text(&s->text, h, w);
		if (rc == 0)
			rc = fingerprint_in(&a->c.fp, &a->c.sha, s->fp,
			                    s->text.ptr, s->text.len, h);
	}
	s->done = rc == 0;
}

static void *ahead_main(void *arg)
{
	struct ahead *a = arg;
	size_t j;

	for (j = 0; j < a->n; j++) {
		while (j - atomic_load_explicit(&a->taken,
		                                memory_order_acquire) >=
		       AHEAD_WINDOW) {
			if (atomic_load(&a->stop))
				return NULL;
			sched_yield();
		}
		if (atomic_load(&a->stop))
			return NULL;
		slot_make(a, j);
		atomic_store_explicit(&a->made, j + 1, memory_order_release);
	}
	return NULL;
}

/* The thread started for c's sets, or NULL (then the diff does it all). */
static struct ahead *ahead_start(const struct ctx *c)
{
	struct ahead *a = hf_calloc(1, sizeof(*a));
	size_t i;

	if (!a)
		return NULL;
	a->c = *c;
	a->c.plan = NULL;
	a->c.ids = NULL;
	a->c.ahead = NULL;
	memset(&a->c.sha, 0, sizeof(a->c.sha));
	hf_buf_init(&a->c.text, 0);
	hf_buf_init(&a->c.fp, 0);
	hf_buf_init(&a->key, 0);
	a->c.key = &a->key;
	a->c.refs = &a->refs;
	for (i = 0; i < AHEAD_WINDOW; i++)
		hf_buf_init(&a->slots[i].text, 0);
	a->n = hf_objset_count(c->want);
	atomic_init(&a->made, 0);
	atomic_init(&a->taken, 0);
	atomic_init(&a->stop, 0);
	if (pthread_create(&a->thread, NULL, ahead_main, a) != 0) {
		hf_free(a);
		return NULL;
	}
	return a;
}

/* Stopped, joined and freed. NULL-safe. */
static void ahead_end(struct ahead *a)
{
	size_t i;

	if (!a)
		return;
	atomic_store(&a->stop, 1);
	pthread_join(a->thread, NULL);
	for (i = 0; i < AHEAD_WINDOW; i++)
		hf_buf_release(&a->slots[i].text);
	hf_buf_release(&a->c.text);
	hf_buf_release(&a->c.fp);
	hf_buf_release(&a->key);
	hf_sha256_release(&a->c.sha);
	hf_free(a->refs.v);
	hf_free(a);
}

/* Object i's slot once it is made. */
static const struct slot *ahead_wait(struct ahead *a, size_t i)
{
	while (atomic_load_explicit(&a->made, memory_order_acquire) <= i)
		sched_yield();
	return &a->slots[i % AHEAD_WINDOW];
}

/* The diff is done with object i's slot: the thread may reuse it. */
static void ahead_done(struct ahead *a, size_t i)
{
	atomic_store_explicit(&a->taken, i + 1, memory_order_release);
}

/* The change from a slot the thread made. */
static int from_slot(struct hf_change *ch, struct ctx *c,
                     const struct hf_object *w, const struct hf_object *h,
                     const struct slot *s)
{
	if (!s->same)
		return compare_changed(ch, c, w, h);
	memcpy(ch->fingerprint, s->fp, sizeof(s->fp));
	ch->text = hf_strndup(s->text.ptr, s->text.len);
	return ch->text ? 0 : HF_ENOMEM;
}

static int one_change(struct ctx *c, size_t i, hf_error *err)
{
	const struct hf_object *w = hf_objset_at(c->want, i), *h;
	const struct slot *s = c->ahead ? ahead_wait(c->ahead, i) : NULL;
	struct hf_change ch;
	long at;
	int rc;

	memset(&ch, 0, sizeof(ch));
	if (s && !s->done)
		s = NULL; /* the thread made nothing: made here */
	at = s ? s->at : hf_objset_find_buf(c->have, w->kind, w->hfid, c->key);
	h = at >= 0 ? hf_objset_at(c->have, (size_t)at) : NULL;
	ch.kind = hf_strdup(w->kind);
	ch.hfid = json_incref(w->hfid);
	rc = !ch.kind ? HF_ENOMEM
	     : s      ? from_slot(&ch, c, w, h, s)
	              : compare(&ch, c, w, h);
	if (c->ahead)
		ahead_done(c->ahead, i);
	if (rc == 0 && h) {
		ch.node_id = hf_strdup(h->id ? h->id : "");
		/* a no-op's fingerprint came with its text */
		rc = !ch.node_id ? HF_ENOMEM
		     : ch.text   ? 0
		                 : hf_diff_fingerprint(ch.fingerprint, h, w);
	}
	ch.action = !h                            ? HF_ACT_CREATE
	            : json_array_size(ch.changed) ? HF_ACT_UPDATE
	                                          : HF_ACT_NOOP;
	if (rc == 0 && ch.action != HF_ACT_NOOP)
		rc = !(ch.deps = json_array()) ? HF_ENOMEM
		                               : add_deps(c, w, ch.deps);
	if (rc == 0 && ch.action == HF_ACT_NOOP) {
		/*
		 * Nothing changed and nothing to wait for: one empty array
		 * for all (nothing adds to a change's arrays once it is in
		 * the plan), not two of their own (256 bytes a no-op).
		 */
		json_decref(ch.changed);
		json_decref(ch.deps);
		ch.changed = json_incref(c->empty);
		ch.deps = json_incref(c->empty);
	}
	if (rc < 0) {
		hf_free(ch.kind);
		hf_free(ch.node_id);
		json_decref(ch.hfid);
		json_decref(ch.before);
		json_decref(ch.after);
		json_decref(ch.changed);
		json_decref(ch.deps);
		hf_free(ch.text);
		return hf_error_set(err, rc, "out of memory");
	}
	if (c->consume) {
		/* only identities are looked at again (refs, deps) */
		hf_object_drop_fields(hf_objset_at(c->want, i));
		if (h)
			hf_object_drop_fields(
			        hf_objset_at(c->have, (size_t)at));
	}
	return hf_plan_add(c->plan, &ch, err);
}

/* Room for the creates' ids (create_id()), made as needed. */
static int room_for_ids(struct ctx *c, hf_error *err)
{
	size_t n = hf_objset_count(c->want);

	c->ids = hf_calloc(n ? n : 1, sizeof(*c->ids));
	if (!c->ids)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	return 0;
}

/* How many objects between two progress reports. */
#define PROGRESS_EVERY 1024

int hf_diff_ext(hf_plan *plan, const hf_objset *want, const hf_objset *have,
                const struct hf_diff_opts *o, hf_error *err)
{
	static const struct hf_diff_opts defaults = HF_DIFF_OPTS_INIT;
	hf_buf key = HF_BUF_INIT;
	struct refs_room refs = { NULL, 0 };
	struct ctx c = { plan,  want, have,          NULL,        NULL,
		         0,     NULL, HF_BUF_INIT,   HF_BUF_INIT, &key,
		         &refs, NULL, { NULL, NULL } };
	size_t i, n = hf_objset_count(want);
	int rc;

	if (!o)
		o = &defaults;
	c.schema = o->schema;
	c.consume = o->consume;
	c.empty = json_array();
	if (!c.empty)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	rc = room_for_ids(&c, err);
	if (rc == 0 && o->ahead && n >= AHEAD_MIN)
		c.ahead = ahead_start(&c);
	for (i = 0; rc == 0 && i < n; i++) {
		rc = one_change(&c, i, err);
		if (rc == 0 && o->progress && (i + 1) % PROGRESS_EVERY == 0 &&
		    i + 1 < n)
			o->progress(o->payload, i + 1, n);
	}
	ahead_end(c.ahead);
	hf_sha256_release(&c.sha);
	if (rc == 0 && o->progress)
		o->progress(o->payload, n, n);
	hf_free(c.ids);
	json_decref(c.empty);
	hf_buf_release(&c.text);
	hf_buf_release(&c.fp);
	hf_buf_release(&key);
	hf_free(refs.v);
	return rc;
}

int hf_diff(hf_plan *plan, const hf_objset *want, const hf_objset *have,
            const hf_schema *schema, hf_error *err)
{
	struct hf_diff_opts o = HF_DIFF_OPTS_INIT;

	o.schema = schema;
	return hf_diff_ext(plan, want, have, &o, err);
}
