/*
 * Live state in rounds: first the count of every kind (one request),
 * then, per kind, whichever is cheaper: every page of the kind (offsets
 * known from the count, all pages concurrently) or aliased HFID lookups
 * of the wanted objects together with the uniqueness probes of those that
 * may be creates; last, lookups of external references and the probes
 * that could not be answered from the pages. Each round is one batch the
 * transport runs concurrently. Query text holds schema names only; values
 * are variables. Pages are read from their text as they arrive
 * (hf/listing.h); one the reader declines is decoded as a JSON tree and
 * read the same way.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/array.h"
#include "hf/buf.h"
#include "hf/fetch.h"
#include "hf/listing.h"
#include "fetch_int.h"
#include "hf/map.h"
#include "hf/resolve.h"
#include "hf/value.h"
#include "hf/banned.h"

struct kplan {
	const hf_kind *k;
	const char *kind;
	json_t *fields; /* name -> "attr" | "one" | "many" */
	hf_buf sel; /* node selection */
	long count; /* live total from the count round, -1 before */
	long nwant;
	long nunique; /* unique attribute values of the wanted objects */
	int paged; /* every live object of the kind is read by pages */
	int by_ids; /* read by node ids (hf_fetch_by_ids()): pages of the
	               objects asked for, not of the whole kind */
	int skipped; /* a live object without HFID was left out */
	int local; /* uniqueness answered from the pages */
	long pending; /* requests of the kind not answered yet */
	int done; /* every object wanted of the kind was read */
	json_t *listed; /* ids of objects without HFID its pages gave (id ->
	                   true), NULL before; the others: fctx.page_of */
	/* the fields, in the order of `fields`, for pages read from text */
	struct hf_listing_field *lf;
	unsigned char *akind; /* per field: enum hf_attr_kind */
	size_t nlf;
};

/* One thing to look up: a reference target or a unique value. */
struct probe {
	const char *kind; /* kind to query */
	const char *attr; /* filter attribute, or NULL for an HFID lookup */
	json_t *value; /* HFID array or attribute value (borrowed) */
	enum hf_attr_kind akind;
	struct hf_ref *ref; /* reference to complete, or NULL */
	long same; /* index of an earlier equal probe, or -1 */
	const struct hf_object *owner; /* uniqueness: the object created */
	const struct hf_field *field; /* where it was written */
	int sent; /* asked already (with the HFID lookups) */
	int answered; /* hits and found hold the answer */
	int hits;
	json_t *found; /* the first node found (owned unless same >= 0) */
};

struct probes {
	struct probe *v;
	size_t n, cap;
	json_t *seen; /* probe key -> index of the first such probe */
	hf_map by_ptr; /* (kind, attr, value) pointers -> 1 + that index */
};

/* What the fetch reported, by kind of problem. */
enum problem {
	PROBLEM_MISSING, /* a reference to nothing */
	PROBLEM_AMBIGUOUS, /* a reference to several objects */
	PROBLEM_TAKEN, /* a unique value held by another object */
	PROBLEM_COUNT
};

struct fctx {
	hf_objset *want;
	hf_objset *have;
	const hf_schema *s;
	struct hf_fetch_opts o;
	hf_transport *tr;
	hf_fetch_diag_fn diag;
	void *payload;
	struct hf_fetch_stats *stats;
	struct kplan *kp;
	size_t nkp;
	struct probes ps;
	long problems[PROBLEM_COUNT];
	/* per live object (index in have): the kind whose pages listed it,
	   NULL when only lookups gave it */
	const struct kplan **page_of;
	size_t page_cap;
	hf_hfid_pool *hfids; /* the references' HFIDs, shared */
	hf_buf key; /* an identity key being looked up */
};

/* A round of calls with the query texts and variables they own. */
struct round {
	struct hf_gql_call *calls;
	char **texts;
	void **tags; /* per call: what it was for */
	size_t n, cap;
};

static void round_release(struct round *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		hf_free(r->texts[i]);
		json_decref(r->calls[i].vars);
		json_decref(r->calls[i].data);
		json_decref(r->calls[i].errors);
	}
	hf_free(r->calls);
	hf_free(r->texts);
	hf_free(r->tags);
	memset(r, 0, sizeof(*r));
}

/* Takes `text` and `vars`. */
static int round_add(struct round *r, char *text, json_t *vars, void *tag)
{
	size_t ncap;
	void *p;

	if (!text)
		goto oom;
	if (r->n == r->cap) {
		ncap = r->cap ? r->cap * 2 : 16;
		p = hf_reallocarray(r->calls, ncap, sizeof(*r->calls));
		if (!p)
			goto oom;
		r->calls = p;
		p = hf_reallocarray(r->texts, ncap, sizeof(*r->texts));
		if (!p)
			goto oom;
		r->texts = p;
		p = hf_reallocarray(r->tags, ncap, sizeof(*r->tags));
		if (!p)
			goto oom;
		r->tags = p;
		r->cap = ncap;
	}
	memset(&r->calls[r->n], 0, sizeof(r->calls[r->n]));
	r->calls[r->n].query = text;
	r->calls[r->n].vars = vars;
	r->texts[r->n] = text;
	r->tags[r->n] = tag;
	r->n++;
	return 0;
oom:
	hf_free(text);
	json_decref(vars);
	return HF_ENOMEM;
}

static int run_round(struct fctx *c, struct round *r, hf_error *err)
{
	size_t i;
	int rc;

	if (!r->n)
		return 0;
	c->stats->requests += (long)r->n;
	c->stats->rounds++;
	rc = hf_transport_batch(c->tr, r->calls, r->n, err);
	if (rc < 0)
		return rc;
	for (i = 0; i < r->n; i++) {
		if (r->calls[i].rc < 0) {
			if (err)
				*err = r->calls[i].err;
			return r->calls[i].rc;
		}
		if (r->calls[i].errors && !r->calls[i].data)
			return hf_error_set(
			        err, HF_ESERVER, "Infrahub refused a query: %s",
			        json_string_value(json_object_get(
			                json_array_get(r->calls[i].errors, 0),
			                "message")));
	}
	return 0;
}

static void report(struct fctx *c, enum problem what, const char *file,
                   int line, int col, const char *msg)
{
	hf_error e = HF_ERROR_INIT;

	hf_error_at(&e, HF_EINVAL, file ? file : "", line, col, "%s", msg);
	c->problems[what]++;
	if (c->diag)
		c->diag(c->payload, &e);
}

/* Tell the caller how far the fetch got, after a batch of `stage`. */
static void progress(struct fctx *c, const char *stage)
{
	struct hf_fetch_progress pr;
	size_t i;

	if (!c->o.progress)
		return;
	memset(&pr, 0, sizeof(pr));
	pr.stage = stage;
	for (i = 0; i < c->nkp; i++)
		pr.kinds_done += c->kp[i].done ? 1 : 0;
	pr.kinds_total = c->stats->kinds;
	pr.live_objects = c->stats->live_objects;
	pr.requests = c->stats->requests;
	pr.rounds = c->stats->rounds;
	c->o.progress(c->o.progress_payload, &pr);
}

/* ---- what to read ----------------------------------------------------- */

static struct kplan *kplan_get(struct fctx *c, const char *kind)
{
	size_t i;
	struct kplan *p;

	for (i = 0; i < c->nkp; i++)
		if (!strcmp(c->kp[i].kind, kind))
			return &c->kp[i];
	p = hf_reallocarray(c->kp, c->nkp + 1, sizeof(*p));
	if (!p)
		return NULL;
	c->kp = p;
	p = &c->kp[c->nkp++];
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->k = hf_schema_kind(c->s, kind);
	p->fields = json_object();
	p->count = -1;
	hf_buf_init(&p->sel, 0);
	return p->fields ? p : NULL;
}

static const char *const peer_sel = "{ id hfid __typename }";

int hff_field_add(json_t *fields, const char *name, const char *type)
{
	if (json_object_get(fields, name))
		return 0;
	return json_object_set_new(fields, name, json_string(type)) < 0
	               ? HF_ENOMEM
	               : 0;
}

/* Record field `name` of `type` (select_fields() selects it). */
static int add_selection(struct kplan *p, const char *name, const char *type)
{
	return hff_field_add(p->fields, name, type);
}

/*
 * p's selection (hff_selection()): the fields in name order, as a
 * prefetch writes them (`sort`), or in the order given.
 */
static int select_fields(struct kplan *p, int sort)
{
	return hff_selection(p->k, &p->fields, &p->sel, sort);
}

/* Whether `f` sets a unique attribute of p's kind to a value (1 or 0). */
static int unique_value(const struct kplan *p, const struct hf_field *f)
{
	const struct hf_schema_attr *a;

	if (f->type != HF_FIELD_ATTR || !f->value || json_is_null(f->value))
		return 0;
	a = p->k ? hf_schema_attr_find(p->k, f->name) : NULL;
	return a && a->unique ? 1 : 0;
}

static struct kplan *kplan_find(const struct fctx *c, const char *kind)
{
	size_t i;

	for (i = 0; i < c->nkp; i++)
		if (!strcmp(c->kp[i].kind, kind))
			return &c->kp[i];
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int hff_selection(const hf_kind *k, json_t **fields, hf_buf *sel, int sort)
{
	size_t n = json_object_size(*fields), i = 0;
	const char **names = hf_calloc(n ? n : 1, sizeof(*names));
	const struct hf_schema_attr *a;
	json_t *sorted = sort ? json_object() : NULL, *type;
	const char *name, *ty;
	int rc = 0;

	if (!names || (sort && !sorted)) {
		hf_free(names);
		json_decref(sorted);
		return HF_ENOMEM;
	}
	json_object_foreach(*fields, name, type)
	{
		names[i++] = name;
	}
	if (sort)
		qsort(names, n, sizeof(*names), cmp_str);
	hf_buf_reset(sel);
	for (i = 0; rc == 0 && i < n; i++) {
		type = json_object_get(*fields, names[i]);
		ty = json_string_value(type);
		if (sorted && json_object_set(sorted, names[i], type) < 0) {
			rc = HF_ENOMEM;
			break;
		}
		a = k && !strcmp(ty, "attr") ? hf_schema_attr_find(k, names[i])
		                             : NULL;
		/* write-only: the server keeps a hash, never worth reading */
		if (a && hf_attr_kind_is_secret(a->kind))
			continue;
		if (!strcmp(ty, "attr"))
			hf_buf_addf(sel, " %s { value }", names[i]);
		else if (!strcmp(ty, "one"))
			hf_buf_addf(sel, " %s { node %s }", names[i], peer_sel);
		else
			hf_buf_addf(sel, " %s { edges { node %s } }", names[i],
			            peer_sel);
	}
	hf_free(names);
	if (rc == 0 && hf_buf_failed(sel))
		rc = HF_ENOMEM;
	if (rc < 0 || !sorted) {
		json_decref(sorted);
		return rc;
	}
	json_decref(*fields);
	*fields = sorted;
	return 0;
}

char *hff_page_query(const char *kind, const char *sel, long limit)
{
	hf_buf b = HF_BUF_INIT;

	hf_buf_addf(&b,
	            "query ($offset: Int) { %s(offset: $offset, limit: %ld) "
	            "{ count edges { node { id hfid __typename%s } } } }",
	            kind, limit, sel ? sel : "");
	return hf_buf_detach(&b);
}

int hff_wants_pages(const struct hf_fetch_opts *o, long count, long nwant,
                    long nunique, int unkeyed)
{
	long ps = o->page_size > 0 ? o->page_size : 1000;
	long b = o->batch_aliases > 0 ? o->batch_aliases : 1;
	double pages, lookups;

	if (count == 0 || unkeyed)
		return 1; /* nothing to read, or no hfid argument to look up by
		           */
	pages = (double)((count + ps - 1) / ps) * o->request_cost +
	        (double)count;
	lookups = (double)((nwant + b - 1) / b) * o->request_cost +
	          (double)(nwant + nunique) * o->lookup_cost;
	return pages <= lookups;
}

static int cmp_kplan(const void *a, const void *b)
{
	return strcmp(((const struct kplan *)a)->kind,
	              ((const struct kplan *)b)->kind);
}

static int plan_kinds(struct fctx *c, hf_error *err)
{
	static const char *const types[] = { "attr", "one", "many" };
	const struct hf_object *w;
	struct kplan *p;
	size_t i, j;

	for (i = 0; i < hf_objset_count(c->want); i++) {
		w = hf_objset_at(c->want, i);
		p = kplan_get(c, w->kind);
		if (!p)
			return hf_error_set(err, HF_ENOMEM, "out of memory");
		if (!p->k)
			return hf_error_set(
			        err, HF_EINVAL,
			        "kind '%s' is not in the target's schema",
			        w->kind);
		p->nwant++;
		for (j = 0; j < w->nfields; j++) {
			if (add_selection(p, w->fields[j].name,
			                  types[w->fields[j].type]) < 0)
				return hf_error_set(err, HF_ENOMEM,
				                    "out of memory");
			p->nunique += unique_value(p, &w->fields[j]);
		}
	}
	/* in name order, as a prefetch asks for them (hf_fetch_warm_new()) */
	if (c->nkp > 1)
		qsort(c->kp, c->nkp, sizeof(*c->kp), cmp_kplan);
	for (i = 0; i < c->nkp; i++)
		if (select_fields(&c->kp[i], 1) < 0)
			return hf_error_set(err, HF_ENOMEM, "out of memory");
	return 0;
}

/* ---- reading answers --------------------------------------------------- */

/*
 * A copy of what a live object keeps of an answer: a kept piece of the
 * answer's tree would pin it into the heap among the next answers' trees,
 * which then no longer reuse its memory (decoding pages ran 1.5x slower).
 */
static json_t *own(json_t *v)
{
	return v ? json_deep_copy(v) : NULL;
}

static int ref_from(hf_hfid_pool *pool, struct hf_ref *r, const json_t *node)
{
	const char *id = json_string_value(json_object_get(node, "id"));
	const char *t = json_string_value(json_object_get(node, "__typename"));
	json_t *h = json_object_get(node, "hfid");

	memset(r, 0, sizeof(*r));
	r->id = hf_strdup(id ? id : "");
	r->kind = hf_name(t ? t : "");
	r->hfid = json_is_array(h) ? hf_hfid_pool_copy(pool, h) : NULL;
	return r->id && r->kind && (r->hfid || !json_is_array(h)) ? 0
	                                                          : HF_ENOMEM;
}

static int rel_field(hf_hfid_pool *pool, struct hf_field *f, const json_t *v,
                     int many)
{
	json_t *edges, *e, *node;
	size_t i, n;

	if (!many) {
		node = json_object_get(v, "node");
		if (!json_is_object(node))
			return 0;
		f->refs = hf_calloc(1, sizeof(*f->refs));
		if (!f->refs)
			return HF_ENOMEM;
		f->nrefs = 1;
		return ref_from(pool, &f->refs[0], node);
	}
	edges = json_object_get(v, "edges");
	n = json_array_size(edges);
	f->refs = hf_calloc(n ? n : 1, sizeof(*f->refs));
	if (!f->refs)
		return HF_ENOMEM;
	json_array_foreach(edges, i, e)
	{
		if (ref_from(pool, &f->refs[f->nrefs++],
		             json_object_get(e, "node")) < 0)
			return HF_ENOMEM;
	}
	return 0;
}

/*
 * The desired object a live one answers to, or NULL. What the two hold
 * alike, the live one holds by reference (JSON values never change once
 * made): a plan with little to change keeps one copy of each HFID and
 * value, not two.
 */
static const struct hf_object *twin_of(const struct fctx *c, const char *kind,
                                       const json_t *hfid)
{
	long at = c->want ? hf_objset_find(c->want, kind, hfid) : -1;

	return at >= 0 ? hf_objset_at(c->want, (size_t)at) : NULL;
}

/* `v` (taken), or the twin's equal value of `name`. */
static json_t *shared_value(const struct hf_object *twin, const char *name,
                            json_t *v)
{
	const struct hf_field *tf = twin ? hf_object_field(twin, name) : NULL;

	if (!v || !tf || tf->type != HF_FIELD_ATTR || !tf->value ||
	    !json_equal(tf->value, v))
		return v;
	json_decref(v);
	return json_incref(tf->value);
}

static int live_field(struct fctx *c, struct hf_object *o,
                      const struct kplan *p, const struct hf_object *twin,
                      const char *name, const char *type, const json_t *node)
{
	const struct hf_schema_attr *a;
	struct hf_field f;
	json_t *v = json_object_get(node, name);
	int rc;

	memset(&f, 0, sizeof(f));
	f.name = hf_name(name);
	if (!f.name)
		return HF_ENOMEM;
	if (!strcmp(type, "attr")) {
		a = hf_schema_attr_find(p->k, name);
		f.type = HF_FIELD_ATTR;
		f.akind = (unsigned char)(a ? a->kind : HF_ATTR_OTHER);
		rc = hf_value_normalise(&f.value, f.akind,
		                        json_object_get(v, "value"));
		if (rc == 0)
			f.value = shared_value(twin, name, f.value);
		if (rc == 0 && f.value == json_object_get(v, "value")) {
			json_decref(f.value); /* the answer's own: copy it */
			f.value = own(json_object_get(v, "value"));
			rc = f.value ? 0 : HF_ENOMEM;
		}
	} else {
		f.type = strcmp(type, "one") ? HF_FIELD_MANY : HF_FIELD_ONE;
		rc = rel_field(c->hfids, &f, v, f.type == HF_FIELD_MANY);
	}
	if (rc < 0) {
		hf_field_release(&f);
		return rc;
	}
	o->fields[o->nfields++] = f; /* room made by add_live */
	return 0;
}

static int bad_answer(const struct kplan *p, const char *what, hf_error *err);

/*
 * An id in two pages of one kind is a listing that moved while it was
 * read (an object can then be missed as well) or a server that repeats
 * objects; either way what the kind holds is not known, and a plan built
 * on it could create what exists.
 */
static int listed_twice(const struct kplan *p, const char *id, hf_error *err)
{
	return hf_error_set(err, HF_ESERVER,
	                    "malformed answer to the %s listing: node id '%s' "
	                    "listed twice (the objects moved while they were "
	                    "read, or the server repeats them): plan again",
	                    p->kind, id);
}

/* An object without HFID a page of `p` lists: only checked for repeats. */
static int listed_without_hfid(struct kplan *p, const char *id, hf_error *err)
{
	if (!p->listed && !(p->listed = json_object()))
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	if (json_object_get(p->listed, id))
		return listed_twice(p, id, err);
	if (json_object_set_new(p->listed, id, json_true()) < 0)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	return 0;
}

/* Room in page_of for the object about to be added at index `at`. */
static int page_room(struct fctx *c, size_t at)
{
	if (HF_ARRAY_GROW(c->page_of, c->page_cap, at + 1) < 0)
		return HF_ENOMEM;
	return 0;
}

/*
 * The start of one live object of a listing. `first` is where this
 * answer's objects start in the set: an id read in an earlier answer is
 * the same object again (a lookup, or a page of another kind), one read
 * twice in this answer, or in two pages of the kind (`paged`), is a
 * malformed answer. Returns 1 with *o begun (kind, id, HFID -- taken
 * when `h_ours` --, room for the fields) and *twin (found, or as given
 * when `twin_known`), 0 when the node adds nothing, or an error.
 */
static int live_begin_at(struct fctx *c, struct kplan *p, const char *id,
                         const char *t, json_t *h, int h_ours, size_t first,
                         int paged, struct hf_object *o,
                         const struct hf_object **twin, int twin_known,
                         hf_error *err)
{
	long seen;
	size_t nf;

	if (!id || !json_is_array(h)) {
		/* an object without HFID cannot match a desired one */
		p->skipped = 1;
		return id && paged ? listed_without_hfid(p, id, err) : 0;
	}
	seen = hf_objset_find_id(c->have, id);
	if (seen >= 0 && (size_t)seen >= first)
		return bad_answer(p, "a node id listed twice", err);
	if (seen >= 0 && paged && c->page_of[seen] == p)
		return listed_twice(p, id, err);
	if (seen >= 0) {
		if (paged)
			c->page_of[seen] = p;
		return 0;
	}
	if (page_room(c, hf_objset_count(c->have)) < 0)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	c->page_of[hf_objset_count(c->have)] = paged ? p : NULL;
	memset(o, 0, sizeof(*o));
	if (!twin_known)
		*twin = twin_of(c, t ? t : p->kind, h);
	o->kind = hf_name(t ? t : p->kind);
	o->id = hf_strdup(id);
	o->hfid = *twin    ? json_incref((*twin)->hfid)
	          : h_ours ? json_incref(h)
	                   : own(h);
	nf = json_object_size(p->fields);
	o->fields = hf_calloc(nf ? nf : 1, sizeof(*o->fields));
	if (!o->kind || !o->id || !o->hfid || !o->fields) {
		hf_object_release(o);
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	return 1;
}

/*
 * live_begin_at(), but for objects read by node id (hf_fetch_by_ids()):
 * one whose kind has no HFID is kept, its id standing in for the HFID,
 * since the caller finds it by id (a delete or forget of such an object
 * would otherwise always read as "deleted since the plan was made").
 */
static int live_begin(struct fctx *c, struct kplan *p, const char *id,
                      const char *t, json_t *h, int h_ours, size_t first,
                      int paged, struct hf_object *o,
                      const struct hf_object **twin, int twin_known,
                      hf_error *err)
{
	json_t *stand_in = NULL;
	int rc;

	if (p->by_ids && id && !json_is_array(h)) {
		stand_in = json_pack("[s]", id);
		if (!stand_in)
			return hf_error_set(err, HF_ENOMEM, "out of memory");
		h = stand_in;
		h_ours = 1;
	}
	rc = live_begin_at(c, p, id, t, h, h_ours, first, paged, o, twin,
	                   twin_known, err);
	json_decref(stand_in);
	return rc;
}

/* The end of a live object: its fields built (rc 0), it joins the set. */
static int live_end(struct fctx *c, struct hf_object *o, int rc, hf_error *err)
{
	if (rc < 0) {
		hf_object_release(o);
		return hf_error_set(err, rc, "out of memory");
	}
	c->stats->live_objects++;
	return hf_objset_add(c->have, o, err);
}

/* One live object of a listing read as a JSON tree (live_begin()). */
static int add_live(struct fctx *c, struct kplan *p, const json_t *node,
                    size_t first, int paged, hf_error *err)
{
	const char *id = json_string_value(json_object_get(node, "id"));
	const char *t = json_string_value(json_object_get(node, "__typename"));
	json_t *h = json_object_get(node, "hfid");
	const struct hf_object *twin = NULL;
	struct hf_object o;
	const char *name;
	json_t *type;
	int rc;

	rc = live_begin(c, p, id, t, h, 0, first, paged, &o, &twin, 0, err);
	if (rc <= 0)
		return rc;
	rc = 0;
	json_object_foreach(p->fields, name, type)
	{
		if (rc == 0)
			rc = live_field(c, &o, p, twin, name,
			                json_string_value(type), node);
	}
	return live_end(c, &o, rc, err);
}

/*
 * A listing must look like one: an object with edges[] of {node: {id,
 * hfid, __typename}}. Anything else is a malformed answer, never "no
 * objects": a plan built on it would create what already exists.
 */
static int bad_answer(const struct kplan *p, const char *what, hf_error *err)
{
	return hf_error_set(err, HF_ESERVER,
	                    "malformed answer to the %s listing: %s", p->kind,
	                    what);
}

static int check_node(const struct kplan *p, const json_t *node, hf_error *err)
{
	const json_t *h = json_object_get(node, "hfid"), *part;
	size_t i;

	if (!json_is_object(node))
		return bad_answer(p, "an edge without a node object", err);
	if (!json_is_string(json_object_get(node, "id")) ||
	    !json_string_length(json_object_get(node, "id")))
		return bad_answer(p, "a node without a string id", err);
	if (json_object_get(node, "__typename") &&
	    !json_is_string(json_object_get(node, "__typename")))
		return bad_answer(p, "a node whose __typename is not a string",
		                  err);
	if (h && !json_is_null(h) && !json_is_array(h))
		return bad_answer(p, "a node whose hfid is not a list", err);
	json_array_foreach(h, i, part)
	{
		if (!json_is_string(part))
			return bad_answer(
			        p, "a node whose hfid holds a non-string", err);
	}
	return 0;
}

static int take_edges(struct fctx *c, struct kplan *p, const json_t *res,
                      int paged, hf_error *err)
{
	const json_t *edges = json_object_get(res, "edges");
	size_t i, first = hf_objset_count(c->have);
	json_t *e;
	int rc;

	if (!json_is_object(res))
		return bad_answer(p, "no listing object for the kind", err);
	if (!json_is_array(edges))
		return bad_answer(p, "edges is not a list", err);
	json_array_foreach(edges, i, e)
	{
		rc = check_node(p, json_object_get(e, "node"), err);
		if (rc == 0)
			rc = add_live(c, p, json_object_get(e, "node"), first,
			              paged, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* count: a non-negative integer no larger than what JSON carries exactly */
static int take_count(const struct kplan *p, const json_t *res, long *out,
                      hf_error *err)
{
	const json_t *n = json_object_get(res, "count");

	if (!json_is_integer(n) || json_integer_value(n) < 0 ||
	    json_integer_value(n) > (json_int_t)1 << 53)
		return bad_answer(p, "count is not a non-negative integer",
		                  err);
	*out = (long)json_integer_value(n);
	return 0;
}

/* ---- round 1: how many live objects each kind has ----------------------- */

static size_t batch_size(const struct fctx *c)
{
	return c->o.batch_aliases > 0 ? (size_t)c->o.batch_aliases : 1;
}

/* Counts of up to batch_aliases kinds a request: `{ KindA { count } ... }`. */
static int count_kinds(struct fctx *c, hf_error *err)
{
	struct round r = { 0 };
	hf_buf q = HF_BUF_INIT;
	size_t i, start, per = batch_size(c);
	struct kplan *p;
	json_t *res;
	int rc = 0;

	for (start = 0; rc == 0 && start < c->nkp; start += per) {
		hf_buf_reset(&q);
		hf_buf_add(&q, "query {");
		for (i = start; i < c->nkp && i < start + per; i++)
			hf_buf_addf(&q, " %s { count }", c->kp[i].kind);
		hf_buf_add(&q, " }");
		rc = round_add(&r, hf_buf_failed(&q) ? NULL : hf_strdup(q.ptr),
		               NULL, NULL);
	}
	hf_buf_release(&q);
	if (rc == 0)
		rc = run_round(c, &r, err);
	for (i = 0; rc == 0 && i < c->nkp; i++) {
		p = &c->kp[i];
		res = json_object_get(r.calls[i / per].data, p->kind);
		rc = json_is_object(res)
		             ? take_count(p, res, &p->count, err)
		             : bad_answer(p, "no listing object for the kind",
		                          err);
	}
	if (rc == 0 && r.n)
		progress(c, "counts");
	round_release(&r);
	return rc == HF_ENOMEM ? hf_error_set(err, rc, "out of memory") : rc;
}

/*
 * Pages or lookups, by their estimated cost in "objects read in a page":
 * a request costs request_cost, an aliased lookup lookup_cost. Lookups
 * are the HFID lookups of the wanted objects plus a probe per unique
 * value (a create's values must be free); pages answer both.
 */
static int wants_pages(const struct fctx *c, const struct kplan *p)
{
	return hff_wants_pages(&c->o, p->count, p->nwant, p->nunique,
	                       hf_resolve_unkeyed(c->s, p->kind));
}

/* ---- round 2: every page of some kinds, aliased lookups in others ------- */

/*
 * The page size is a literal (hubform's own number, never a user value):
 * a server that bounds a query's cost before running it (fields times
 * the objects it can return) sees the limit only when it is one; with
 * `limit: $limit` every page of a kind of a million objects is refused.
 */
static char *page_query(const struct kplan *p, long limit)
{
	return hff_page_query(p->kind, p->sel.ptr, limit);
}

static int add_page(struct round *r, struct kplan *p, long offset, long limit)
{
	return round_add(r, page_query(p, limit),
	                 json_pack("{s:I}", "offset", (json_int_t)offset), p);
}

static int set_var(json_t *vars, const char *prefix, long n, json_t *v)
{
	char name[32];

	snprintf(name, sizeof(name), "%s%ld", prefix, n);
	return json_object_set(vars, name, v) < 0 ? HF_ENOMEM : 0;
}

static long probe_first(struct probes *ps, const struct probe *p, size_t at);

static int probe_add(struct probes *ps, const struct probe *p)
{
	struct probe *nv;

	if (ps->n == ps->cap) {
		ps->cap = ps->cap ? ps->cap * 2 : 32;
		nv = hf_reallocarray(ps->v, ps->cap, sizeof(*nv));
		if (!nv)
			return HF_ENOMEM;
		ps->v = nv;
	}
	ps->v[ps->n] = *p;
	ps->v[ps->n].same = p->owner ? -1 : probe_first(ps, p, ps->n);
	ps->n++;
	return 0;
}

static const char *gql_type(const struct probe *p)
{
	if (!p->attr)
		return "[String]";
	switch (p->akind) {
	case HF_ATTR_NUMBER:
	case HF_ATTR_BANDWIDTH:
		return "BigInt";
	case HF_ATTR_BOOLEAN:
	case HF_ATTR_CHECKBOX:
		return "Boolean";
	case HF_ATTR_LIST:
	case HF_ATTR_JSON:
	case HF_ATTR_ANY:
	case HF_ATTR_OTHER:
		return "GenericScalar";
	default:
		return "String";
	}
}

/* Alias p<i> of probe i, with variable $v<i>, into a request being built. */
static int probe_alias(struct fctx *c, hf_buf *head, hf_buf *body, json_t *vars,
                       size_t i)
{
	const struct probe *p = &c->ps.v[i];

	hf_buf_addf(head, "%s$v%zu: %s", head->len ? ", " : "", i, gql_type(p));
	if (p->attr)
		hf_buf_addf(body,
		            " p%zu: %s(%s__value: $v%zu) { edges { node %s } }",
		            i, p->kind, p->attr, i, peer_sel);
	else
		hf_buf_addf(body,
		            " p%zu: %s(hfid: $v%zu) { edges { node %s } }", i,
		            p->kind, i, peer_sel);
	return set_var(vars, "v", (long)i, p->value);
}

/* Probes of w's unique values, asked with w's HFID lookup. */
static int unique_aliases(struct fctx *c, struct kplan *p,
                          const struct hf_object *w, hf_buf *head, hf_buf *body,
                          json_t *vars)
{
	const struct hf_schema_attr *a;
	struct probe pr;
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < w->nfields; i++) {
		if (!unique_value(p, &w->fields[i]))
			continue;
		a = hf_schema_attr_find(p->k, w->fields[i].name);
		memset(&pr, 0, sizeof(pr));
		pr.kind = w->kind;
		pr.attr = w->fields[i].name;
		pr.value = w->fields[i].value;
		pr.akind = a->kind;
		pr.owner = w;
		pr.field = &w->fields[i];
		pr.sent = 1;
		rc = probe_add(&c->ps, &pr);
		if (rc == 0)
			rc = probe_alias(c, head, body, vars, c->ps.n - 1);
	}
	return rc;
}

/* Query text "query (HEAD) { BODY }" into the round; takes `vars`. */
static int flush_request(struct round *r, hf_buf *head, hf_buf *body,
                         json_t *vars, void *tag)
{
	hf_buf text = HF_BUF_INIT;
	int rc;

	hf_buf_addf(&text, "query (%s) {%s }", head->ptr ? head->ptr : "",
	            body->ptr ? body->ptr : "");
	rc = round_add(r,
	               hf_buf_failed(head) || hf_buf_failed(body)
	                       ? NULL
	                       : hf_buf_detach(&text),
	               vars, tag);
	hf_buf_release(&text);
	hf_buf_reset(head);
	hf_buf_reset(body);
	return rc;
}

/*
 * Aliased HFID lookups of kind p's wanted objects, batch_aliases objects
 * a request, each with the probes of its unique values: should the
 * object turn out to be a create, its values are known free or taken
 * without another round.
 */
static int add_lookups(struct fctx *c, struct round *r, struct kplan *p)
{
	hf_buf head = HF_BUF_INIT, body = HF_BUF_INIT;
	json_t *vars = NULL;
	const struct hf_object *w;
	size_t i, per = batch_size(c);
	long n = 0;
	int rc = 0;

	for (i = 0; rc == 0 && i < hf_objset_count(c->want); i++) {
		w = hf_objset_at(c->want, i);
		if (strcmp(w->kind, p->kind))
			continue;
		if (!vars && !(vars = json_object()))
			rc = HF_ENOMEM;
		hf_buf_addf(&head, "%s$h%ld: [String]", head.len ? ", " : "",
		            n);
		hf_buf_addf(&body,
		            " a%ld: %s(hfid: $h%ld) { edges { node { id hfid "
		            "__typename%s } } }",
		            n, p->kind, n, p->sel.ptr);
		if (rc == 0)
			rc = set_var(vars, "h", n, w->hfid);
		if (rc == 0)
			rc = unique_aliases(c, p, w, &head, &body, vars);
		if (rc == 0 && (size_t)++n == per) {
			rc = flush_request(r, &head, &body, vars, p);
			vars = NULL;
			n = 0;
		}
	}
	if (rc == 0 && n) {
		rc = flush_request(r, &head, &body, vars, p);
		vars = NULL;
	}
	json_decref(vars);
	hf_buf_release(&head);
	hf_buf_release(&body);
	return rc;
}

#define SLICE 20

/* Which kinds still wait for requests of round r, and how many. */
static void count_pending(struct fctx *c, const struct round *r)
{
	struct kplan *p;
	size_t i;

	for (i = 0; i < r->n; i++) {
		p = r->tags[i];
		p->pending++;
	}
	for (i = 0; i < c->nkp; i++)
		c->kp[i].done = c->kp[i].pending == 0;
}

/*
 * A page counts what the kind counted when its pages were planned: a
 * kind that gained or lost objects meanwhile has them moved across the
 * pages' offsets, and one read then may be missed (the plan would create
 * what exists) or read twice.
 */
static int same_count(const struct kplan *p, long count, hf_error *err)
{
	if (count == p->count)
		return 0;
	return hf_error_set(err, HF_ECONFLICT,
	                    "%s changed while it was read (%ld objects "
	                    "counted, a page counts %ld): plan again",
	                    p->kind, p->count, count);
}

/*
 * A page must hold what its own count says it holds from its offset:
 * anything else is a malformed answer (a plan built on it would create
 * what already exists).
 */
static int take_page(struct fctx *c, struct kplan *p, const json_t *data,
                     const json_t *vars, hf_error *err)
{
	const json_t *res = json_object_get(data, p->kind);
	long count = 0, offset, limit, expect;
	int rc;

	if (!json_is_object(res))
		return bad_answer(p, "no listing object for the kind", err);
	rc = take_count(p, res, &count, err);
	if (rc == 0)
		rc = same_count(p, count, err);
	if (rc == 0)
		rc = take_edges(c, p, res, 1, err);
	if (rc < 0)
		return rc;
	offset = (long)json_integer_value(json_object_get(vars, "offset"));
	limit = c->o.page_size;
	expect = count > offset ? count - offset : 0;
	expect = expect < limit ? expect : limit;
	if (json_array_size(json_object_get(res, "edges")) != (size_t)expect)
		return bad_answer(
		        p, "count does not match the edges of the page", err);
	return 0;
}

/* Answer to a probe alias "p<i>": its hits and first node. */
static void take_probe(struct probes *ps, const char *key, const json_t *res)
{
	json_t *edges;
	unsigned long at;
	char *end;

	at = strtoul(key + 1, &end, 10);
	if (key[0] != 'p' || end == key + 1 || *end || at >= ps->n ||
	    ps->v[at].answered)
		return;
	edges = json_object_get(res, "edges");
	ps->v[at].answered = 1;
	ps->v[at].hits = (int)json_array_size(edges);
	ps->v[at].found =
	        json_incref(json_object_get(json_array_get(edges, 0), "node"));
}

/* An answer to aliased lookups: objects (a<n>) and probes (p<n>). */
static int take_lookups(struct fctx *c, struct kplan *p, json_t *data,
                        hf_error *err)
{
	const char *key;
	json_t *res;
	int rc = 0;

	json_object_foreach(data, key, res)
	{
		if (rc == 0 && key[0] == 'a')
			rc = take_edges(c, p, res, 0, err);
		else if (key[0] == 'p')
			take_probe(&c->ps, key, res);
	}
	return rc;
}

/* A page the read-ahead read, taken out of it to be read here. */
struct held_page {
	char *body;
	size_t len;
};

/* A round whose answers are taken as they arrive. */
struct stream {
	struct fctx *c;
	struct round *r;
	size_t taken;
	int rc;
	hf_error *err;
	size_t scan_at; /* the request whose page scan_page() took */
	int scan_rc; /* and how that went */
	int replaying; /* scan_page() reads a page read ahead */
	struct held_page *held; /* per request: its page as read ahead */
	size_t next_held; /* where replay_next() looks next */
	size_t asked; /* held pages declined and asked for */
	int in_run; /* replay_next() is the transport's idle work */
};

/* ---- pages read from their text (hf/listing.h) ---------------------- */

/* p's fields in the order of p->fields, as hf_listing_read() wants them. */
static int list_fields(struct kplan *p)
{
	const struct hf_schema_attr *a;
	size_t n = json_object_size(p->fields);
	const char *name, *ty;
	json_t *type;

	p->lf = hf_calloc(n ? n : 1, sizeof(*p->lf));
	p->akind = hf_calloc(n ? n : 1, 1);
	if (!p->lf || !p->akind)
		return HF_ENOMEM;
	json_object_foreach(p->fields, name, type)
	{
		ty = json_string_value(type);
		p->lf[p->nlf].name = hf_name(name);
		if (!p->lf[p->nlf].name)
			return HF_ENOMEM;
		p->lf[p->nlf].type =
		        (unsigned char)(!strcmp(ty, "attr")  ? HF_FIELD_ATTR
		                        : !strcmp(ty, "one") ? HF_FIELD_ONE
		                                             : HF_FIELD_MANY);
		a = p->lf[p->nlf].type == HF_FIELD_ATTR
		            ? hf_schema_attr_find(p->k, name)
		            : NULL;
		p->akind[p->nlf++] =
		        (unsigned char)(a ? a->kind : HF_ATTR_OTHER);
	}
	return 0;
}

/*
 * Whether `v`, read from text, is `have` exactly, and the same once
 * normalised for `akind`: every kind keeps a value as it is, but for the
 * strings IP addresses, networks and instants, which it may rewrite.
 */
static int same_value(const struct hf_listing_value *v, const json_t *have,
                      enum hf_attr_kind akind)
{
	switch (v->kind) {
	case HF_LV_STRING:
		return json_is_string(have) && akind != HF_ATTR_IPHOST &&
		       akind != HF_ATTR_IPNETWORK &&
		       akind != HF_ATTR_DATETIME &&
		       json_string_length(have) == v->str.n &&
		       !memcmp(json_string_value(have), v->str.s, v->str.n);
	case HF_LV_INT:
		return json_is_integer(have) &&
		       json_integer_value(have) == v->i;
	case HF_LV_TRUE:
		return json_is_true(have);
	case HF_LV_FALSE:
		return json_is_false(have);
	case HF_LV_NULL:
		return json_is_null(have);
	default:
		return 0;
	}
}

/*
 * An attribute read from text, as live_field() makes it: normalised and
 * shared with the twin's equal value; a value the twin holds as it is
 * costs no allocation.
 */
static int listed_attr(struct hf_field *f, const struct hf_object *twin,
                       const struct hf_listing_value *v)
{
	const struct hf_field *tf =
	        twin ? hf_object_field(twin, f->name) : NULL;
	json_t *raw;
	int rc;

	if (tf && tf->type == HF_FIELD_ATTR && tf->value &&
	    same_value(v, tf->value, (enum hf_attr_kind)f->akind)) {
		f->value = json_incref(tf->value);
		return 0;
	}
	rc = hf_listing_json(v, &raw);
	if (rc == 0)
		rc = hf_value_normalise(&f->value, f->akind, raw);
	json_decref(raw);
	if (rc == 0)
		f->value = shared_value(twin, f->name, f->value);
	return rc;
}

/* The identity key of (kind, an HFID read from text) into c->key. */
static int key_of(struct fctx *c, const char *kind,
                  const struct hf_listing_page *pg,
                  const struct hf_listing_hfid *h)
{
	uint32_t i;

	hf_buf_reset(&c->key);
	hf_identity_key_kind(&c->key, kind);
	for (i = 0; i < h->n; i++)
		hf_identity_key_part(&c->key, pg->parts[h->at + i].s,
		                     pg->parts[h->at + i].n);
	return hf_buf_failed(&c->key) ? HF_ENOMEM : 0;
}

/* An HFID read from text: the pool's, or a new array joining it. */
static int listed_hfid(struct fctx *c, const struct hf_listing_page *pg,
                       const struct hf_listing_hfid *h, json_t **out)
{
	int rc;

	*out = NULL;
	if (!h->present)
		return 0;
	if (key_of(c, "", pg, h) < 0)
		return HF_ENOMEM;
	*out = hf_hfid_pool_find(c->hfids, c->key.ptr, c->key.len);
	if (*out)
		return 0;
	rc = hf_listing_hfid_json(pg, h, out);
	if (rc == 0)
		*out = hf_hfid_pool_take(c->hfids, *out);
	return rc;
}

/* Field j of a node read from text: as live_field() makes it. */
static int listed_field(struct fctx *c, struct hf_object *o,
                        const struct kplan *p, const struct hf_object *twin,
                        const struct hf_listing_page *pg, size_t j,
                        const struct hf_listing_value *v)
{
	struct hf_field f;
	uint32_t k, n = v->nrefs;
	int rc = 0;

	memset(&f, 0, sizeof(f));
	f.name = p->lf[j].name;
	f.type = p->lf[j].type;
	if (f.type == HF_FIELD_ATTR) {
		f.akind = p->akind[j];
		rc = listed_attr(&f, twin, v);
	} else if (n || f.type == HF_FIELD_MANY) {
		/* many: an array even when empty, as the tree reading */
		f.refs = hf_calloc(n ? n : 1, sizeof(*f.refs));
		rc = f.refs ? 0 : HF_ENOMEM;
		for (k = 0; rc == 0 && k < n; k++) {
			f.nrefs++;
			f.refs[k].id = hf_strdup(v->refs[k].id);
			f.refs[k].kind = hf_name(v->refs[k].type);
			rc = f.refs[k].id && f.refs[k].kind ? 0 : HF_ENOMEM;
			if (rc == 0)
				rc = listed_hfid(c, pg, &v->refs[k].hfid,
				                 &f.refs[k].hfid);
		}
	}
	if (rc < 0) {
		hf_field_release(&f);
		return rc;
	}
	o->fields[o->nfields++] = f; /* room made by live_begin */
	return 0;
}

/* The desired object a node read from text answers to, or NULL. */
static const struct hf_object *listed_twin(struct fctx *c, const char *kind,
                                           const struct hf_listing_page *pg,
                                           const struct hf_listing_hfid *h)
{
	long at;

	if (!c->want || !h->present)
		return NULL;
	if (key_of(c, kind, pg, h) < 0)
		return NULL; /* out of memory: no twin, a copy */
	at = hf_objset_find_key(c->want, c->key.ptr, c->key.len);
	return at >= 0 ? hf_objset_at(c->want, (size_t)at) : NULL;
}

/* A page read from text: the objects and checks of take_page(). */
static int take_listed(struct fctx *c, struct kplan *p,
                       struct hf_listing_page *pg, const json_t *vars,
                       hf_error *err)
{
	size_t i, j, first = hf_objset_count(c->have);
	const struct hf_object *twin;
	const struct hf_listing_node *nd;
	long offset, expect;
	struct hf_object o;
	json_t *h;
	int rc;

	if (!p->by_ids && (rc = same_count(p, pg->count, err)) < 0)
		return rc;
	for (i = 0; i < pg->n; i++) {
		nd = &pg->nodes[i];
		twin = listed_twin(c, nd->type ? nd->type : p->kind, pg,
		                   &nd->hfid);
		/* the twin's HFID is this one: no array of its own */
		h = twin ? json_incref(twin->hfid) : NULL;
		rc = twin ? 0 : hf_listing_hfid_json(pg, &nd->hfid, &h);
		if (rc == 0)
			rc = live_begin(c, p, nd->id, nd->type, h, 1, first,
			                p->paged, &o, &twin, 1, err);
		else
			rc = hf_error_set(err, rc, "out of memory");
		json_decref(h);
		if (rc < 0)
			return rc;
		if (rc == 0)
			continue;
		rc = 0;
		for (j = 0; rc == 0 && j < p->nlf; j++)
			rc = listed_field(c, &o, p, twin, pg, j,
			                  hf_listing_value(pg, i, j));
		rc = live_end(c, &o, rc, err);
		if (rc < 0)
			return rc;
	}
	if (p->by_ids)
		return 0; /* as many as were found: no count to hold to */
	offset = (long)json_integer_value(json_object_get(vars, "offset"));
	expect = pg->count > offset ? pg->count - offset : 0;
	expect = expect < c->o.page_size ? expect : c->o.page_size;
	if (pg->n != (size_t)expect)
		return bad_answer(
		        p, "count does not match the edges of the page", err);
	return 0;
}

/*
 * The transport's scan (hf/transport.h) of a page: read from its text
 * when hf_listing_read() can; what it declines is decoded as usual and
 * read by take_page().
 */
static int scan_page(void *user, const char *body, size_t len, void *payload)
{
	struct stream *st = payload;
	size_t i = (size_t)(uintptr_t)user;
	struct kplan *p = st->r->tags[i];
	struct hf_listing_page pg;
	int rc;

	if (st->rc < 0)
		return 0; /* stopped: not taken either way */
	rc = hf_listing_read(&pg, body, len, p->kind, p->lf, p->nlf);
	if (rc == 0)
		return 0;
	/*
	 * A page read ahead, before the kind was counted: taken only when
	 * it counted what the count round did (else it is asked again).
	 */
	if (rc > 0 && st->replaying && pg.count != p->count) {
		hf_listing_release(&pg);
		return 0;
	}
	if (rc > 0)
		rc = take_listed(st->c, p, &pg, st->r->calls[i].vars, st->err);
	hf_listing_release(&pg);
	st->scan_at = i;
	st->scan_rc = rc;
	return 1;
}

static int take_answer(struct stream *st, const struct hf_tx_result *res)
{
	size_t i = (size_t)(uintptr_t)res->user;
	struct kplan *p = st->r->tags[i];
	int rc;

	if (res->scanned) {
		rc = st->scan_at == i ? st->scan_rc
		                      : hf_error_set(st->err, HF_ERR,
		                                     "an answer taken unread");
	} else if (res->rc < 0) {
		if (st->err)
			*st->err = *res->err;
		rc = res->rc;
	} else if (res->errors && !res->data) {
		rc = hf_error_set(
		        st->err, HF_ESERVER, "Infrahub refused a query: %s",
		        json_string_value(json_object_get(
		                json_array_get(res->errors, 0), "message")));
	} else if (p->by_ids) {
		rc = take_edges(st->c, p, json_object_get(res->data, p->kind),
		                0, st->err);
	} else {
		rc = p->paged ? take_page(st->c, p, res->data,
		                          st->r->calls[i].vars, st->err)
		              : take_lookups(st->c, p, res->data, st->err);
	}
	p->done = --p->pending == 0;
	return rc;
}

static void on_answer(hf_transport *t, const struct hf_tx_result *res,
                      void *payload)
{
	struct stream *st = payload;
	int rc;

	if (res->attempts > 0)
		st->c->stats->requests++;
	if (st->rc < 0)
		return; /* stopped: what still completes is not taken */
	rc = take_answer(st, res);
	if (rc < 0) {
		st->rc = rc == HF_ENOMEM
		                 ? hf_error_set(st->err, rc, "out of memory")
		                 : rc;
		hf_transport_stop(t);
		return;
	}
	if (++st->taken % SLICE == 0 || st->taken == st->r->n)
		progress(st->c, "objects");
}

/* Request i of round r to the transport. */
static int submit(struct stream *st, size_t i)
{
	struct hf_tx_request q = HF_TX_REQUEST_INIT;
	struct fctx *c = st->c;
	struct kplan *p = st->r->tags[i];

	q.query = st->r->calls[i].query;
	q.variables = st->r->calls[i].vars;
	q.user = (void *)(uintptr_t)i;
	q.scan = (p->paged || p->by_ids) && p->lf && !c->o.general ? scan_page
	                                                           : NULL;
	return hf_transport_submit(c->tr, &q, st->err);
}

/*
 * Page i of round r as a prefetch read it (hf_fetch_warm_run()) while
 * the files were resolved, taken out of the prefetch into st->held[i]:
 * 1, or 0 when there is none (the page is then asked for).
 */
static int hold(struct stream *st, size_t i)
{
	struct fctx *c = st->c;
	struct round *r = st->r;
	struct kplan *p = r->tags[i];
	long off;

	if (!c->o.warm || !p->paged || !p->lf || c->o.general)
		return 0;
	off = (long)json_integer_value(
	        json_object_get(r->calls[i].vars, "offset"));
	st->held[i].body = hff_warm_take(c->o.warm, p->kind, r->calls[i].query,
	                                 off, p->count, &st->held[i].len);
	return st->held[i].body != NULL;
}

/*
 * A held page taken like an answer: 1, or 0 when the text reader
 * declines it (the page is then asked for).
 */
static int replayed(struct stream *st, size_t i, const char *body, size_t len)
{
	struct fctx *c = st->c;
	hf_error ok = HF_ERROR_INIT;
	struct hf_tx_result res;
	int rc;

	st->replaying = 1;
	rc = scan_page((void *)(uintptr_t)i, body, len, st);
	st->replaying = 0;
	if (!rc)
		return 0;
	hff_warm_used(c->o.warm);
	memset(&res, 0, sizeof(res));
	res.user = (void *)(uintptr_t)i;
	res.status = 200;
	res.err = &ok;
	res.scanned = 1;
	rc = take_answer(st, &res);
	if (rc < 0)
		st->rc = rc == HF_ENOMEM
		                 ? hf_error_set(st->err, rc, "out of memory")
		                 : rc;
	else if (++st->taken % SLICE == 0 || st->taken == st->r->n)
		progress(c, "objects");
	return 1;
}

/*
 * The transport's idle work (hf_transport_run_idle()): the next held
 * page read while the pages asked for are on their way. 1 while more
 * may be left.
 */
static int replay_next(void *payload)
{
	struct stream *st = payload;
	size_t i;
	char *body;
	int rc;

	while (st->next_held < st->r->n && !st->held[st->next_held].body)
		st->next_held++;
	if (st->rc < 0 || st->next_held >= st->r->n)
		return 0;
	i = st->next_held++;
	body = st->held[i].body;
	st->held[i].body = NULL;
	if (!replayed(st, i, body, st->held[i].len) && st->rc == 0) {
		rc = submit(st, i);
		if (rc < 0)
			st->rc = rc;
		else
			st->asked++;
	}
	hf_free(body);
	/* failed: what is queued is not sent, as an answer's failure stops */
	if (st->rc < 0 && st->in_run)
		hf_transport_stop(st->c->tr);
	return st->rc == 0;
}

/*
 * Every request of round r submitted at once; the transport keeps its
 * parallelism in flight while each answer becomes objects the moment it
 * arrives and is dropped: peak memory holds the answers in flight, and
 * reading objects overlaps the server's work on the next pages. The
 * pages read ahead are asked for not at all, and read while the others
 * are on their way (at 100k, 58 held pages took 0.1 s before the first
 * of the 44 others was asked for).
 */
static int run_streamed(struct fctx *c, struct round *r, hf_error *err)
{
	struct stream st;
	size_t i, asked;
	int rc = 0;

	if (!r->n)
		return 0;
	memset(&st, 0, sizeof(st));
	st.c = c;
	st.r = r;
	st.err = err;
	st.scan_at = SIZE_MAX;
	st.held = hf_calloc(r->n, sizeof(*st.held));
	if (!st.held)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	c->stats->rounds++;
	for (i = 0; rc == 0 && i < r->n; i++)
		if (!hold(&st, i))
			rc = submit(&st, i);
	if (rc < 0) {
		hf_transport_drop(c->tr);
	} else {
		st.in_run = 1;
		rc = hf_transport_run_idle(c->tr, on_answer, &st, replay_next,
		                           err);
		st.in_run = 0;
	}
	/*
	 * A run that ended before its idle work (a login that failed with
	 * nothing else queued) leaves pages held: read here, and what the
	 * reader declines asked for in a run of its own.
	 */
	asked = st.asked;
	while (rc == 0 && st.rc == 0 && replay_next(&st))
		;
	/* nothing queued outlives the round */
	if (st.asked > asked && rc == 0 && st.rc == 0)
		rc = hf_transport_run(c->tr, on_answer, &st, err);
	else if (st.asked > asked)
		hf_transport_drop(c->tr);
	for (i = 0; i < r->n; i++)
		hf_free(st.held[i].body);
	hf_free(st.held);
	return rc < 0 ? rc : st.rc;
}

static int read_kinds(struct fctx *c, hf_error *err)
{
	struct round r = { 0 };
	struct kplan *p;
	size_t i, listed = 0, cap;
	long off;
	int rc = 0;

	for (i = 0; rc == 0 && i < c->nkp; i++) {
		p = &c->kp[i];
		p->paged = wants_pages(c, p);
		if (!p->paged) {
			rc = add_lookups(c, &r, p);
			continue;
		}
		rc = list_fields(p);
		for (off = 0; rc == 0 && off < p->count; off += c->o.page_size)
			rc = add_page(&r, p, off, c->o.page_size);
		listed += p->count > 0 ? (size_t)p->count : 0;
	}
	/*
	 * The pages' objects, counted: room for them at once, up to twice
	 * the objects the files want (a kind far larger than the files, or
	 * a count no page bears out, grows the set as it comes). Only a
	 * hint: a failure here is no failure.
	 */
	if (rc == 0 && listed) {
		cap = 2 * (c->want ? hf_objset_count(c->want) : 0) + 1024;
		(void)hf_objset_reserve(c->have,
		                        hf_objset_count(c->have) +
		                                (listed < cap ? listed : cap),
		                        1);
	}
	count_pending(c, &r);
	if (rc == 0)
		rc = run_streamed(c, &r, err);
	for (i = 0; i < c->nkp; i++)
		c->kp[i].local = c->kp[i].paged && !c->kp[i].skipped;
	round_release(&r);
	return rc == HF_ENOMEM ? hf_error_set(err, rc, "out of memory") : rc;
}

/* ---- round 3: external references and uniqueness probes ----------------- */

/*
 * Many references name the same peer: ask Infrahub once. The references
 * of a large repository share their HFIDs (hf_hfid_pool): one value seen
 * again at the same address is the same probe, known without writing it
 * out as text (100k tags of one name took 0.05 s that way).
 */
static long probe_first(struct probes *ps, const struct probe *p, size_t at)
{
	const void *ptrs[3] = { p->kind, p->attr, p->value };
	void *known = hf_map_get(&ps->by_ptr, (const char *)ptrs, sizeof(ptrs));
	char *v;
	hf_buf key = HF_BUF_INIT;
	json_t *hit;
	long first = -1;

	if (known)
		return (long)((uintptr_t)known - 1);
	v = json_dumps(p->value, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!v && p->value) /* no key: ask again rather than mix probes up */
		return -1;
	hf_buf_addf(&key, "%s\x1f%s\x1f%s\x1f%d", p->kind,
	            p->attr ? p->attr : "", v ? v : "", p->owner ? 1 : 0);
	hf_free(v);
	if (hf_buf_failed(&key)) {
		hf_buf_release(&key);
		return -1;
	}
	if (!ps->seen)
		ps->seen = json_object();
	hit = json_object_get(ps->seen, key.ptr);
	if (hit)
		first = (long)json_integer_value(hit);
	else if (ps->seen)
		json_object_set_new(ps->seen, key.ptr,
		                    json_integer((json_int_t)at));
	hf_buf_release(&key);
	/* out of memory here: the text's key answers next time */
	hf_map_put(&ps->by_ptr, (const char *)ptrs, sizeof(ptrs),
	           (void *)(uintptr_t)(1 + (first >= 0 ? (size_t)first : at)));
	return first;
}

/* The desired (or live) object a reference points at, or -1. */
static long find_in(struct fctx *c, const hf_objset *set,
                    const struct hf_ref *r)
{
	const hf_kind *k, *const *impl;
	size_t i, n;
	long at = hf_objset_find_buf(set, r->kind, r->hfid, &c->key);

	if (at >= 0)
		return at;
	k = hf_schema_kind(c->s, r->kind);
	n = k ? hf_schema_implementations(c->s, k, &impl) : 0;
	for (i = 0; i < n && at < 0; i++)
		at = hf_objset_find_buf(set, hf_schema_kind_name(impl[i]),
		                        r->hfid, &c->key);
	return at;
}

/* A filter reference that names a desired object: turn it into its HFID. */
static int match_filter_in_want(struct fctx *c, struct hf_ref *r)
{
	const struct hf_object *w;
	const struct hf_field *f;
	const hf_kind *wk;
	size_t i;

	for (i = 0; i < hf_objset_count(c->want); i++) {
		w = hf_objset_at(c->want, i);
		wk = hf_schema_kind(c->s, w->kind);
		f = hf_object_field(w, r->filter_attr);
		if (!wk || !f || f->type != HF_FIELD_ATTR ||
		    !hf_schema_is_a(c->s, wk, r->kind) ||
		    !hf_value_equal(f->akind, f->value, r->filter_value))
			continue;
		r->kind = hf_name(w->kind);
		r->hfid = json_incref(w->hfid);
		return r->kind ? 1 : HF_ENOMEM;
	}
	return 0;
}

/*
 * A reference to a desired object names it by the object's own (concrete)
 * kind, as a reference completed from Infrahub does and as the live
 * objects' references do: the schema's peer kind may be a generic.
 */
static int take_kind(struct hf_ref *r, const struct hf_object *w)
{
	if (!strcmp(r->kind, w->kind))
		return 0;
	r->kind = hf_name(w->kind);
	return r->kind ? 0 : HF_ENOMEM;
}

static int complete_from_live(struct hf_ref *r, const struct hf_object *h)
{
	hf_free(r->id);
	r->id = hf_strdup(h->id);
	r->kind = hf_name(h->kind);
	if (!r->hfid)
		r->hfid = json_incref(h->hfid);
	return r->id && r->kind ? 0 : HF_ENOMEM;
}

static enum hf_attr_kind filter_kind(const struct fctx *c, const char *kind,
                                     const char *attr)
{
	const hf_kind *k = hf_schema_kind(c->s, kind);
	const struct hf_schema_attr *a =
	        k ? hf_schema_attr_find(k, attr) : NULL;

	return a ? a->kind : HF_ATTR_TEXT;
}

static int pending_ref(struct fctx *c, struct probes *ps, struct hf_ref *r,
                       const struct hf_field *f)
{
	const struct kplan *kp;
	struct probe p;
	long at;
	int rc;

	if (r->id)
		return 0;
	if (r->filter_value && !r->hfid) {
		rc = match_filter_in_want(c, r);
		if (rc != 0)
			return rc < 0 ? rc : 0;
	}
	if (r->hfid) {
		at = find_in(c, c->want, r);
		if (at >= 0)
			return take_kind(r, hf_objset_at(c->want, (size_t)at));
		at = find_in(c, c->have, r);
		if (at >= 0)
			return complete_from_live(
			        r, hf_objset_at(c->have, (size_t)at));
	}
	memset(&p, 0, sizeof(p));
	p.kind = r->kind;
	p.attr = r->hfid ? NULL : r->filter_attr;
	p.value = r->hfid ? r->hfid : r->filter_value;
	p.akind = p.attr ? filter_kind(c, r->kind, p.attr) : HF_ATTR_TEXT;
	p.ref = r;
	p.field = f;
	/* every live object of the kind was read: nothing to ask */
	kp = r->hfid ? kplan_find(c, r->kind) : NULL;
	p.answered = kp && kp->local;
	return probe_add(ps, &p);
}

static int unique_probes(struct fctx *c, struct probes *ps,
                         const struct hf_object *w)
{
	const hf_kind *k = hf_schema_kind(c->s, w->kind);
	const struct hf_schema_attr *a;
	const struct hf_field *f;
	struct probe p;
	size_t i;
	int rc;

	for (i = 0; k && i < w->nfields; i++) {
		f = &w->fields[i];
		a = f->type == HF_FIELD_ATTR ? hf_schema_attr_find(k, f->name)
		                             : NULL;
		if (!a || !a->unique || !f->value || json_is_null(f->value))
			continue;
		memset(&p, 0, sizeof(p));
		p.kind = w->kind;
		p.attr = f->name;
		p.value = f->value;
		p.akind = a->kind;
		p.owner = w;
		p.field = f;
		rc = probe_add(ps, &p);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * References still to complete, and the unique values of creates in
 * kinds neither looked up (probed already) nor read whole (checked
 * against the pages).
 */
static int collect_probes(struct fctx *c)
{
	struct probes *ps = &c->ps;
	const struct kplan *p;
	struct hf_object *w;
	struct hf_field *f;
	size_t i, j, k;
	int rc = 0;

	for (i = 0; rc == 0 && i < hf_objset_count(c->want); i++) {
		w = hf_objset_at(c->want, i);
		for (j = 0; rc == 0 && j < w->nfields; j++) {
			f = &w->fields[j];
			for (k = 0; rc == 0 && k < f->nrefs; k++)
				rc = pending_ref(c, ps, &f->refs[k], f);
		}
		p = kplan_find(c, w->kind);
		if (rc == 0 && p && p->paged && !p->local &&
		    hf_objset_find(c->have, w->kind, w->hfid) < 0)
			rc = unique_probes(c, ps, w);
	}
	return rc;
}

/* Probes still to ask, batch_aliases a request. */
static int probe_requests(struct fctx *c, struct round *r)
{
	hf_buf head = HF_BUF_INIT, body = HF_BUF_INIT;
	json_t *vars = NULL;
	size_t i, n = 0, per = batch_size(c);
	int rc = 0;

	for (i = 0; rc == 0 && i < c->ps.n; i++) {
		struct probe *p = &c->ps.v[i];

		if (p->same >= 0 || p->sent || p->answered)
			continue;
		p->sent = 1;
		if (!vars && !(vars = json_object()))
			rc = HF_ENOMEM;
		if (rc == 0)
			rc = probe_alias(c, &head, &body, vars, i);
		if (rc == 0 && ++n == per) {
			rc = flush_request(r, &head, &body, vars, NULL);
			vars = NULL;
			n = 0;
		}
	}
	if (rc == 0 && n) {
		rc = flush_request(r, &head, &body, vars, NULL);
		vars = NULL;
	}
	json_decref(vars);
	hf_buf_release(&head);
	hf_buf_release(&body);
	return rc;
}

static void take_probe_answers(struct fctx *c, struct round *r)
{
	struct probes *ps = &c->ps;
	const char *key;
	json_t *res;
	size_t i;

	for (i = 0; i < r->n; i++) {
		json_object_foreach(r->calls[i].data, key, res)
		{
			take_probe(ps, key, res);
		}
	}
	for (i = 0; i < ps->n; i++) {
		if (ps->v[i].same >= 0) {
			ps->v[i].answered = 1;
			ps->v[i].hits = ps->v[ps->v[i].same].hits;
			ps->v[i].found = ps->v[ps->v[i].same].found;
		}
	}
}

static char *show(const char *kind, const json_t *hfid)
{
	hf_buf b = HF_BUF_INIT;
	char *t = json_dumps(hfid, JSON_COMPACT | JSON_ENCODE_ANY);

	hf_buf_addf(&b, "%s %s", kind, t ? t : "?");
	hf_free(t);
	return hf_buf_detach(&b);
}

static int judge_ref(struct fctx *c, struct probe *p)
{
	char *what;
	int rc = 0;

	if (p->hits == 1) {
		struct hf_ref tmp;

		if (ref_from(c->hfids, &tmp, p->found) < 0) {
			hf_ref_release(&tmp);
			return HF_ENOMEM;
		}
		hf_free(p->ref->id);
		p->ref->id = tmp.id;
		p->ref->kind = tmp.kind;
		if (!p->ref->hfid)
			p->ref->hfid = tmp.hfid;
		else
			json_decref(tmp.hfid);
		return 0;
	}
	what = p->attr ? NULL : show(p->kind, p->value);
	if (p->attr) {
		char *v = json_dumps(p->value, JSON_COMPACT | JSON_ENCODE_ANY);
		hf_buf b = HF_BUF_INIT;

		hf_buf_addf(&b, "%s with %s %s", p->kind, p->attr, v ? v : "?");
		hf_free(v);
		what = hf_buf_detach(&b);
	}
	{
		hf_buf m = HF_BUF_INIT;

		if (p->hits)
			hf_buf_addf(
			        &m,
			        "reference to %s is ambiguous: %d objects match",
			        what ? what : "?", p->hits);
		else
			hf_buf_addf(
			        &m,
			        "unresolvable reference: no %s in the files "
			        "or in Infrahub",
			        what ? what : "?");
		report(c, p->hits ? PROBLEM_AMBIGUOUS : PROBLEM_MISSING,
		       p->ref->file, p->ref->line, p->ref->col,
		       hf_buf_failed(&m) ? "unresolvable reference" : m.ptr);
		hf_buf_release(&m);
	}
	hf_free(what);
	return rc;
}

/* Created object `w`'s unique `f` is held by live (kind, hfid). */
static void report_taken(struct fctx *c, const struct hf_object *w,
                         const struct hf_field *f, const char *kind,
                         const json_t *hfid)
{
	char *mine, *theirs, *v;
	hf_buf b = HF_BUF_INIT;

	mine = show(w->kind, w->hfid);
	theirs = show(kind, hfid);
	v = json_dumps(f->value, JSON_COMPACT | JSON_ENCODE_ANY);
	hf_buf_addf(&b,
	            "cannot create %s: unique %s = %s already belongs to "
	            "%s in Infrahub",
	            mine ? mine : "?", f->name, v ? v : "?",
	            theirs ? theirs : "?");
	report(c, PROBLEM_TAKEN, f->file, f->line, f->col,
	       hf_buf_failed(&b) ? "unique value taken" : b.ptr);
	hf_free(mine);
	hf_free(theirs);
	hf_free(v);
	hf_buf_release(&b);
}

static void judge_unique(struct fctx *c, struct probe *p)
{
	json_t *fh = json_object_get(p->found, "hfid");
	const char *fk =
	        json_string_value(json_object_get(p->found, "__typename"));

	/* the object exists: an update, not a create */
	if (hf_objset_find(c->have, p->owner->kind, p->owner->hfid) >= 0)
		return;
	if (!p->hits || (json_is_array(fh) && json_equal(fh, p->owner->hfid)))
		return;
	report_taken(c, p->owner, p->field, fk ? fk : p->kind, fh);
}

/* ---- uniqueness of creates in kinds read whole -------------------------- */

/* Key "kind\x1fattr\x1fvalue" under which equal values meet. */
static int unique_key(hf_buf *b, const char *kind, const char *attr,
                      enum hf_attr_kind akind, const json_t *v)
{
	const char *s;
	char *t;
	size_t i;

	hf_buf_reset(b);
	hf_buf_addf(b, "%s\x1f%s\x1f", kind, attr);
	if (json_is_string(v) && akind == HF_ATTR_MAC_ADDRESS) {
		for (s = json_string_value(v), i = 0; s[i]; i++)
			hf_buf_addch(b, (char)(s[i] >= 'A' && s[i] <= 'Z'
			                               ? s[i] - 'A' + 'a'
			                               : s[i]));
	} else if (json_is_string(v)) {
		hf_buf_add(b, json_string_value(v));
	} else {
		t = json_dumps(v,
		               JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
		if (!t)
			return HF_ENOMEM;
		hf_buf_add(b, t);
		hf_free(t);
	}
	return hf_buf_failed(b) ? HF_ENOMEM : 0;
}

/* Whether a create in a kind read whole needs its values checked. */
static int needs_local(const struct fctx *c, const struct hf_object *w,
                       const struct kplan *p)
{
	size_t i;

	if (!p || !p->local || !p->nunique)
		return 0;
	if (hf_objset_find(c->have, w->kind, w->hfid) >= 0)
		return 0;
	for (i = 0; i < w->nfields; i++)
		if (unique_value(p, &w->fields[i]))
			return 1;
	return 0;
}

/* Index the unique values of the live objects of kinds marked `local`. */
static int index_live(struct fctx *c, hf_map *idx, const int *want_kind)
{
	const struct hf_object *h;
	struct kplan *p;
	hf_buf key = HF_BUF_INIT;
	size_t i, j;
	int rc = 0;

	for (i = 0; rc == 0 && i < hf_objset_count(c->have); i++) {
		h = hf_objset_at(c->have, i);
		p = kplan_find(c, h->kind);
		if (!p || !want_kind[p - c->kp])
			continue;
		for (j = 0; rc == 0 && j < h->nfields; j++) {
			if (!unique_value(p, &h->fields[j]))
				continue;
			rc = unique_key(&key, h->kind, h->fields[j].name,
			                h->fields[j].akind, h->fields[j].value);
			if (rc == 0)
				rc = hf_map_add(idx, key.ptr, key.len,
				                (void *)(uintptr_t)(i + 1));
		}
	}
	hf_buf_release(&key);
	return rc;
}

/*
 * Creates in kinds whose every live object was read: their unique values
 * are checked against those objects here, with no request.
 */
static int check_local_unique(struct fctx *c)
{
	hf_map idx = HF_MAP_INIT_COPY;
	hf_buf key = HF_BUF_INIT;
	const struct hf_object *w, *h;
	const struct hf_field *f;
	struct kplan *p;
	int *mark = hf_calloc(c->nkp ? c->nkp : 1, sizeof(*mark));
	size_t i, j, any = 0;
	uintptr_t at;
	int rc = mark ? 0 : HF_ENOMEM;

	for (i = 0; rc == 0 && i < hf_objset_count(c->want); i++) {
		w = hf_objset_at(c->want, i);
		p = kplan_find(c, w->kind);
		if (needs_local(c, w, p)) {
			mark[p - c->kp] = 1;
			any++;
		}
	}
	if (rc == 0 && any)
		rc = index_live(c, &idx, mark);
	for (i = 0; rc == 0 && any && i < hf_objset_count(c->want); i++) {
		w = hf_objset_at(c->want, i);
		p = kplan_find(c, w->kind);
		if (!needs_local(c, w, p))
			continue;
		for (j = 0; rc == 0 && j < w->nfields; j++) {
			f = &w->fields[j];
			if (!unique_value(p, f))
				continue;
			rc = unique_key(&key, w->kind, f->name, f->akind,
			                f->value);
			at = rc ? 0
			        : (uintptr_t)hf_map_get(&idx, key.ptr, key.len);
			if (!at)
				continue;
			h = hf_objset_at(c->have, at - 1);
			if (!json_equal(h->hfid, w->hfid))
				report_taken(c, w, f, h->kind, h->hfid);
		}
	}
	hf_map_release(&idx);
	hf_buf_release(&key);
	hf_free(mark);
	return rc;
}

static int third_round(struct fctx *c, hf_error *err)
{
	struct round r = { 0 };
	size_t i;
	int rc;

	rc = collect_probes(c);
	if (rc == 0)
		rc = check_local_unique(c);
	if (rc == 0)
		rc = probe_requests(c, &r);
	if (rc == HF_ENOMEM)
		rc = hf_error_set(err, rc, "out of memory");
	for (i = 0; rc == 0 && i < r.n; i += SLICE) {
		struct round part = r;

		part.calls = r.calls + i;
		part.tags = r.tags + i;
		part.n = r.n - i < SLICE ? r.n - i : SLICE;
		rc = run_round(c, &part, err);
	}
	if (rc == 0 && r.n)
		progress(c, "references");
	if (rc == 0)
		take_probe_answers(c, &r);
	for (i = 0; rc == 0 && i < c->ps.n; i++) {
		if (c->ps.v[i].ref)
			rc = judge_ref(c, &c->ps.v[i]);
		else
			judge_unique(c, &c->ps.v[i]);
	}
	round_release(&r);
	return rc == HF_ENOMEM ? hf_error_set(err, rc, "out of memory") : rc;
}

static void probes_release(struct probes *ps)
{
	size_t i;

	for (i = 0; i < ps->n; i++)
		if (ps->v[i].same < 0)
			json_decref(ps->v[i].found);
	hf_free(ps->v);
	json_decref(ps->seen);
	hf_map_release(&ps->by_ptr);
	memset(ps, 0, sizeof(*ps));
}

/* Number and noun, "1 reference" or "2 references". */
static void counted(hf_buf *b, long n, const char *one, const char *many)
{
	hf_buf_addf(b, "%s%ld %s", b->len ? "; " : "", n, n == 1 ? one : many);
}

/* What was reported, counted, as one error; 0 when nothing was. */
static int problems_error(const struct fctx *c, hf_error *err)
{
	const long *n = c->problems;
	hf_buf b = HF_BUF_INIT;
	int rc = 0;

	if (n[PROBLEM_MISSING])
		counted(&b, n[PROBLEM_MISSING],
		        "reference in the object files names an object that is "
		        "neither in the files nor in Infrahub",
		        "references in the object files name objects that are "
		        "neither in the files nor in Infrahub");
	if (n[PROBLEM_AMBIGUOUS])
		counted(&b, n[PROBLEM_AMBIGUOUS],
		        "reference in the object files matches several objects "
		        "in Infrahub",
		        "references in the object files match several objects "
		        "in Infrahub");
	if (n[PROBLEM_TAKEN])
		counted(&b, n[PROBLEM_TAKEN],
		        "unique value is already held by another object in "
		        "Infrahub",
		        "unique values are already held by other objects in "
		        "Infrahub");
	if (b.len)
		rc = hf_error_set(err, HF_EINVAL, "%s",
		                  hf_buf_failed(&b) ? "the object files have "
		                                      "problems"
		                                    : b.ptr);
	hf_buf_release(&b);
	return rc;
}

int hf_fetch(hf_objset **have, hf_objset *want, const hf_schema *s,
             const struct hf_fetch_opts *o, hf_transport *tr,
             hf_fetch_diag_fn diag, void *payload, struct hf_fetch_stats *stats,
             hf_error *err)
{
	struct hf_fetch_stats dummy;
	struct fctx c;
	size_t i;
	int rc;

	memset(&c, 0, sizeof(c));
	memset(stats ? stats : &dummy, 0, sizeof(dummy));
	c.want = want;
	c.s = s;
	c.o = *o;
	if (c.o.page_size < 1)
		c.o.page_size = 1000;
	c.tr = tr;
	c.diag = diag;
	c.payload = payload;
	c.stats = stats ? stats : &dummy;
	/* a prefetch's requests are this fetch's, used or not */
	if (o->warm)
		c.stats->requests += hff_warm_requests(o->warm);
	*have = NULL;
	c.hfids = hf_hfid_pool_new();
	hf_buf_init(&c.key, 0);
	c.ps.by_ptr = (hf_map)HF_MAP_INIT_COPY;
	rc = hf_objset_new(&c.have) < 0 || !c.hfids
	             ? hf_error_set(err, HF_ENOMEM, "out of memory")
	             : 0;
	if (rc == 0)
		rc = plan_kinds(&c, err);
	c.stats->kinds = (long)c.nkp;
	if (rc == 0)
		rc = count_kinds(&c, err);
	if (rc == 0)
		rc = read_kinds(&c, err);
	if (o->warm)
		hff_warm_drop(o->warm);
	if (rc == 0)
		rc = third_round(&c, err);
	for (i = 0; i < c.nkp; i++) {
		c.kp[i].done = 1;
		json_decref(c.kp[i].fields);
		json_decref(c.kp[i].listed);
		hf_free(c.kp[i].lf);
		hf_free(c.kp[i].akind);
		hf_buf_release(&c.kp[i].sel);
	}
	if (rc == 0)
		progress(&c, "done");
	hf_free(c.kp);
	hf_free(c.page_of);
	hf_hfid_pool_free(c.hfids);
	hf_buf_release(&c.key);
	probes_release(&c.ps);
	if (rc == 0)
		rc = problems_error(&c, err);
	if (rc < 0 && rc != HF_EINVAL) {
		hf_objset_free(c.have);
		return rc;
	}
	*have = c.have;
	return rc;
}

/* ---- reading objects by node id (staleness checks at apply) ------------ */

#define BY_IDS 1000

int hf_fetch_by_ids(hf_objset *set, const hf_schema *s, const char *kind,
                    json_t *fields, json_t *ids, hf_transport *tr,
                    hf_error *err)
{
	struct hf_fetch_stats stats;
	struct fctx c;
	struct kplan *p;
	struct round r = { 0 };
	const char *name;
	json_t *type;
	hf_buf q = HF_BUF_INIT;
	size_t i;
	int rc = 0;

	memset(&c, 0, sizeof(c));
	hf_buf_init(&c.key, 0);
	memset(&stats, 0, sizeof(stats));
	c.s = s;
	c.have = set;
	c.tr = tr;
	c.stats = &stats;
	p = kplan_get(&c, kind);
	if (!p || !p->k) {
		rc = hf_error_set(err, p ? HF_EINVAL : HF_ENOMEM,
		                  "kind '%s' is not in the target's schema",
		                  kind);
		goto out;
	}
	json_object_foreach(fields, name, type)
	{
		if (rc == 0 &&
		    add_selection(p, name, json_string_value(type)) < 0)
			rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	p->by_ids = 1;
	if (rc == 0 && (select_fields(p, 0) < 0 || list_fields(p) < 0))
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	if (rc < 0)
		goto out;
	hf_buf_addf(&q,
	            "query ($ids: [ID]) { %s(ids: $ids) { count edges { node "
	            "{ id hfid __typename%s } } } }",
	            kind, p->sel.ptr);
	/* a page of ids a request, all concurrently: no answer of every object
	 */
	if (hf_buf_failed(&q))
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	for (i = 0; rc == 0 && i < json_array_size(ids); i += BY_IDS) {
		json_t *part = json_array(), *vars;
		size_t j;

		for (j = i; part && j < json_array_size(ids) && j < i + BY_IDS;
		     j++)
			if (json_array_append(part, json_array_get(ids, j)) <
			    0) {
				json_decref(part); /* never a short page */
				part = NULL;
			}
		vars = part ? json_object() : NULL;
		if (!vars || json_object_set_new(vars, "ids", part) < 0 ||
		    round_add(&r, hf_strdup(q.ptr), json_incref(vars), p) < 0)
			rc = hf_error_set(err, HF_ENOMEM, "out of memory");
		if (!vars)
			json_decref(part);
		json_decref(vars);
	}
	if (rc < 0)
		goto out;
	/* each answer read as it arrives (from its text) and dropped; the
	   peers' HFIDs shared, as the plan's fetch shares them */
	p->pending = (long)r.n;
	c.hfids = hf_hfid_pool_new();
	rc = c.hfids ? run_streamed(&c, &r, err)
	             : hf_error_set(err, HF_ENOMEM, "out of memory");
out:
	round_release(&r);
	hf_buf_release(&q);
	hf_buf_release(&c.key);
	hf_hfid_pool_free(c.hfids);
	for (i = 0; i < c.nkp; i++) {
		json_decref(c.kp[i].fields);
		json_decref(c.kp[i].listed);
		hf_free(c.kp[i].lf);
		hf_free(c.kp[i].akind);
		hf_buf_release(&c.kp[i].sel);
	}
	hf_free(c.kp);
	hf_free(c.page_of);
	return rc;
}
