/*
 * Reading ahead (hf/fetch.h): the pages of the kinds the files name,
 * read while the files are resolved, for hf_fetch() to take.
 *
 * hf_fetch_warm_new() runs on the caller's thread and copies what it
 * needs; hf_fetch_warm_run() then touches only the prefetch and the
 * transport, so that it can run on a thread of its own. The only state
 * both threads see is the cancel flag, an atomic.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/array.h"
#include "hf/buf.h"
#include "hf/fetch.h"
#include "hf/map.h"
#include "hf/resolve.h"
#include "hf/yval.h"
#include "fetch_int.h"
#include "hf/banned.h"

/* Requests of pages in flight at once; the transport bounds them too. */
#define WINDOW 16

struct page {
	char *body; /* the answer's text, NULL when not (or no longer) held */
	size_t len;
};

struct wkind {
	char *kind;
	json_t *fields; /* name -> type, as the fetch's kind plan has them */
	hf_buf sel;
	char *query; /* the page query, as the fetch writes it */
	long nwant, nunique;
	int unkeyed;
	int skip; /* the resolved objects may differ: not paged */
	long count; /* from the count round, -1 before */
	size_t npages, next; /* pages to read, the next to ask for */
	struct page *pages;
};

struct hf_fetch_warm {
	struct hf_fetch_opts o;
	struct wkind *k;
	size_t nk, cap;
	hf_map index; /* kind -> 1 + index in k */
	size_t budget, held; /* bytes of answers held */
	size_t kq; /* the kind whose pages are being asked for */
	long requests, pages, used, kinds;
	atomic_int cancel;
	int failed; /* a page failed: ask for no more */
};

/* ---- the sketch, on the caller's thread --------------------------------- */

static struct wkind *kind_of(hf_fetch_warm *w, const char *kind)
{
	void *at = hf_map_get(&w->index, kind, strlen(kind));
	struct wkind *k;

	if (at)
		return &w->k[(uintptr_t)at - 1];
	if (HF_ARRAY_GROW(w->k, w->cap, w->nk + 1) < 0)
		return NULL;
	k = &w->k[w->nk];
	memset(k, 0, sizeof(*k));
	k->kind = hf_strdup(kind);
	k->fields = json_object();
	k->count = -1;
	hf_buf_init(&k->sel, 0);
	if (!k->kind || !k->fields ||
	    hf_map_put(&w->index, k->kind, strlen(k->kind),
	               (void *)(uintptr_t)(w->nk + 1)) < 0) {
		hf_free(k->kind);
		json_decref(k->fields);
		return NULL;
	}
	w->nk++;
	return k;
}

/*
 * Kinds whose resolved objects may hold fields their keys do not spell:
 * IP addresses and prefixes take a default namespace.
 */
static int adds_fields(const hf_schema *s, const hf_kind *k)
{
	return hf_schema_is_a(s, k, "BuiltinIPAddress") ||
	       hf_schema_is_a(s, k, "BuiltinIPPrefix");
}

/*
 * The field of key `f` as the resolver makes it: 0; 1, a key the schema
 * does not know; 2, nested children (which link back to the object);
 * HF_ENOMEM.
 */
static int sketch_field(struct wkind *wk, const hf_kind *k, const hf_mfield *f)
{
	const char *name = hf_mfield_name(f);
	const struct hf_schema_attr *a = hf_schema_attr_find(k, name);
	const struct hf_schema_rel *r = a ? NULL : hf_schema_rel_find(k, name);
	const char *type;

	if (!a && !r)
		return 1;
	if (hf_mfield_nest(f) != HF_MNEST_NONE)
		return 2; /* nested children link back to their parent */
	type = a                                       ? "attr"
	       : r->cardinality == HF_CARDINALITY_MANY ? "many"
	                                               : "one";
	if (a && a->unique && hf_yval_type(hf_mfield_value(f)) != HF_YVAL_NULL)
		wk->nunique++;
	return hff_field_add(wk->fields, name, type);
}

static int sketch_object(hf_fetch_warm *w, const hf_schema *s, const hf_mobj *o)
{
	const char *kind = hf_mobj_kind(o);
	const hf_kind *k = kind ? hf_schema_kind(s, kind) : NULL, *sk;
	const struct hf_schema_rel *rel;
	const hf_mfield *f;
	struct wkind *wk;
	size_t i;
	int rc;

	if (!k || hf_schema_kind_type(k) != HF_KIND_NODE)
		return 0; /* the resolver reports it, or it is not paged */
	if (!(wk = kind_of(w, kind)))
		return HF_ENOMEM;
	wk->nwant++;
	if (hf_mobj_parent(o) || hf_mobj_field(o, "object_template") ||
	    adds_fields(s, k))
		wk->skip = 1;
	for (i = 0; i < hf_mobj_field_count(o); i++) {
		f = hf_mobj_field_at(o, i);
		rc = wk->skip ? 2 : sketch_field(wk, k, f);
		if (rc < 0)
			return rc;
		if (rc > 0)
			wk->skip = 1;
		/*
		 * Nested children take the relationship's peer kind when
		 * they name none (the resolver sets it): that kind's objects
		 * are not known here, it is not read ahead either.
		 */
		if (rc == 2 && hf_mfield_nest(f) != HF_MNEST_NONE &&
		    (rel = hf_schema_rel_find(k, hf_mfield_name(f))) &&
		    (sk = hf_schema_kind(s, rel->peer)) &&
		    hf_schema_kind_type(sk) == HF_KIND_NODE) {
			if (!(wk = kind_of(w, rel->peer)))
				return HF_ENOMEM;
			wk->skip = 1;
			wk = kind_of(w, kind); /* kind_of may move them */
			if (!wk)
				return HF_ENOMEM;
		}
	}
	return 0;
}

static int cmp_kind(const void *a, const void *b)
{
	return strcmp(((const struct wkind *)a)->kind,
	              ((const struct wkind *)b)->kind);
}

int hf_fetch_warm_new(hf_fetch_warm **out, const hf_manifest *m,
                      const hf_schema *s, const struct hf_fetch_opts *o,
                      size_t budget, hf_error *err)
{
	hf_fetch_warm *w = hf_calloc(1, sizeof(*w));
	struct wkind *wk;
	size_t i;
	int rc = 0;

	*out = NULL;
	if (!w)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	w->o = *o;
	w->o.warm = NULL;
	w->o.progress = NULL;
	if (w->o.page_size < 1)
		w->o.page_size = 1000;
	w->budget = budget ? budget : HF_FETCH_WARM_BUDGET;
	atomic_init(&w->cancel, 0);
	for (i = 0; rc == 0 && i < hf_manifest_object_count(m); i++)
		rc = sketch_object(w, s, hf_manifest_object_at(m, i));
	/* the index is of no use once the sketch is made: it would be wrong
	   after the sort */
	hf_map_release(&w->index);
	if (rc == 0 && w->nk > 1)
		qsort(w->k, w->nk, sizeof(*w->k), cmp_kind);
	for (i = 0; rc == 0 && i < w->nk; i++) {
		wk = &w->k[i];
		wk->unkeyed = hf_resolve_unkeyed(s, wk->kind);
		if (wk->skip)
			continue;
		rc = hff_selection(hf_schema_kind(s, wk->kind), &wk->fields,
		                   &wk->sel, 1);
		if (rc == 0 &&
		    !(wk->query = hff_page_query(wk->kind, wk->sel.ptr,
		                                 w->o.page_size)))
			rc = HF_ENOMEM;
	}
	if (rc < 0) {
		hf_fetch_warm_free(w);
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	*out = w;
	return 0;
}

/* ---- the run, on any thread -----------------------------------------------
 */

static int stopping(hf_fetch_warm *w)
{
	return atomic_load(&w->cancel) || w->failed;
}

/* The kinds to page: counts first, up to batch_aliases kinds a request. */
static int count_kinds(hf_fetch_warm *w, hf_transport *tr, hf_error *err)
{
	size_t per = w->o.batch_aliases > 0 ? (size_t)w->o.batch_aliases : 1;
	size_t i, j, n = 0, start;
	struct hf_gql_call call;
	hf_buf q = HF_BUF_INIT;
	json_t *res;
	int rc = 0;

	for (start = 0; rc == 0 && start < w->nk && !stopping(w);
	     start += per) {
		hf_buf_reset(&q);
		hf_buf_add(&q, "query {");
		for (i = start, n = 0; i < w->nk && i < start + per; i++)
			if (!w->k[i].skip) {
				hf_buf_addf(&q, " %s { count }", w->k[i].kind);
				n++;
			}
		hf_buf_add(&q, " }");
		if (!n)
			continue;
		if (hf_buf_failed(&q)) {
			rc = hf_error_set(err, HF_ENOMEM, "out of memory");
			break;
		}
		memset(&call, 0, sizeof(call));
		call.query = q.ptr;
		w->requests++;
		rc = hf_transport_batch(tr, &call, 1, err);
		if (rc == 0 && call.rc < 0) {
			if (err)
				*err = call.err;
			rc = call.rc;
		}
		for (j = start; rc == 0 && j < i; j++) {
			res = json_object_get(
			        json_object_get(call.data, w->k[j].kind),
			        "count");
			if (json_is_integer(res) &&
			    json_integer_value(res) >= 0)
				w->k[j].count = (long)json_integer_value(res);
		}
		json_decref(call.data);
		json_decref(call.errors);
	}
	hf_buf_release(&q);
	return rc;
}

/* Which kinds are paged, and their pages. */
static int plan_pages(hf_fetch_warm *w)
{
	struct wkind *k;
	size_t i;

	for (i = 0; i < w->nk; i++) {
		k = &w->k[i];
		/*
		 * The resolver merges repeated declarations: the fetch may
		 * want fewer objects than declared, and then look them up.
		 * Paged here only when the fetch would page with half as
		 * many.
		 */
		if (k->skip || k->count <= 0 ||
		    !hff_wants_pages(&w->o, k->count, k->nwant / 2,
		                     k->nunique / 2, k->unkeyed))
			continue;
		k->npages = (size_t)((k->count + w->o.page_size - 1) /
		                     w->o.page_size);
		k->pages = hf_calloc(k->npages, sizeof(*k->pages));
		if (!k->pages)
			return HF_ENOMEM;
		w->kinds++;
	}
	return 0;
}

/* An answer that came is kept, cancelled or not: it was paid for. */
static int keep(void *user, const char *body, size_t len, void *payload)
{
	hf_fetch_warm *w = payload;
	struct page *pg = user;

	if (!(pg->body = hf_alloc(len + 1)))
		return 1; /* taken, and dropped: the fetch asks again */
	memcpy(pg->body, body, len);
	pg->body[len] = '\0';
	pg->len = len;
	w->held += len;
	w->pages++;
	return 1;
}

/* Ask for the next page, if any and the budget allows: 1 when asked. */
static int ask_next(hf_fetch_warm *w, hf_transport *tr, hf_error *err)
{
	struct hf_tx_request rq = HF_TX_REQUEST_INIT;
	struct wkind *k;
	json_t *vars;
	int rc;

	while (w->kq < w->nk && w->k[w->kq].next >= w->k[w->kq].npages)
		w->kq++;
	if (w->kq >= w->nk || stopping(w) || w->held >= w->budget)
		return 0;
	k = &w->k[w->kq];
	vars = json_pack("{s:I}", "offset",
	                 (json_int_t)k->next * w->o.page_size);
	if (!vars)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	rq.query = k->query;
	rq.variables = vars;
	rq.user = &k->pages[k->next];
	rq.scan = keep;
	rc = hf_transport_submit(tr, &rq, err);
	json_decref(vars);
	if (rc < 0)
		return rc;
	k->next++;
	w->requests++;
	return 1;
}

static void on_page(hf_transport *t, const struct hf_tx_result *r,
                    void *payload)
{
	hf_fetch_warm *w = payload;
	hf_error e = HF_ERROR_INIT;

	/* an answer not kept (an error, a failure): the fetch will see it */
	if (r->rc < 0 || !r->scanned)
		w->failed = 1;
	if (stopping(w)) {
		hf_transport_stop(t);
		return;
	}
	if (ask_next(w, t, &e) < 0)
		w->failed = 1;
}

int hf_fetch_warm_run(hf_fetch_warm *w, hf_transport *tr, hf_error *err)
{
	int i, rc;

	rc = count_kinds(w, tr, err);
	if (rc == 0)
		rc = plan_pages(w) < 0
		             ? hf_error_set(err, HF_ENOMEM, "out of memory")
		             : 0;
	for (i = 0; rc == 0 && i < WINDOW; i++) {
		rc = ask_next(w, tr, err);
		if (rc <= 0)
			break;
		rc = 0;
	}
	if (rc < 0) {
		hf_transport_drop(tr);
		return rc;
	}
	if (i == 0)
		return 0;
	return hf_transport_run(tr, on_page, w, err);
}

void hf_fetch_warm_cancel(hf_fetch_warm *w)
{
	if (w)
		atomic_store(&w->cancel, 1);
}

/* ---- the fetch's side -------------------------------------------------------
 */

/* The kind's entry (the kinds are sorted by name), or NULL. */
static struct wkind *find_kind(hf_fetch_warm *w, const char *kind)
{
	struct wkind key;

	key.kind = (char *)(uintptr_t)kind;
	return w->nk ? bsearch(&key, w->k, w->nk, sizeof(key), cmp_kind) : NULL;
}

char *hff_warm_take(hf_fetch_warm *w, const char *kind, const char *query,
                    long offset, long count, size_t *len)
{
	struct wkind *k = find_kind(w, kind);
	struct page *pg;
	char *body;
	size_t at;

	if (!k || !k->pages || k->count != count || !query ||
	    strcmp(query, k->query) || offset < 0 || offset % w->o.page_size)
		return NULL;
	at = (size_t)(offset / w->o.page_size);
	if (at >= k->npages || !k->pages[at].body)
		return NULL;
	pg = &k->pages[at];
	body = pg->body;
	*len = pg->len;
	pg->body = NULL;
	w->held -= pg->len;
	return body;
}

void hff_warm_used(hf_fetch_warm *w)
{
	w->used++;
}

void hff_warm_drop(hf_fetch_warm *w)
{
	size_t i, j;

	for (i = 0; i < w->nk; i++)
		for (j = 0; w->k[i].pages && j < w->k[i].npages; j++) {
			hf_free(w->k[i].pages[j].body);
			w->k[i].pages[j].body = NULL;
		}
	w->held = 0;
}

long hff_warm_requests(const hf_fetch_warm *w)
{
	return w->requests;
}

void hf_fetch_warm_stats(const hf_fetch_warm *w, struct hf_fetch_warm_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!w)
		return;
	st->requests = w->requests;
	st->pages = w->pages;
	st->used = w->used;
	st->kinds = w->kinds;
}

void hf_fetch_warm_free(hf_fetch_warm *w)
{
	size_t i;

	if (!w)
		return;
	hff_warm_drop(w);
	for (i = 0; i < w->nk; i++) {
		hf_free(w->k[i].pages);
		hf_free(w->k[i].kind);
		hf_free(w->k[i].query);
		json_decref(w->k[i].fields);
		hf_buf_release(&w->k[i].sel);
	}
	hf_free(w->k);
	hf_map_release(&w->index);
	hf_free(w);
}
