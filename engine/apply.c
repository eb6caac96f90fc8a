/*
 * Apply: staleness checks and waves of batched mutations. Values travel
 * as variables typed with the kind's input type; query text holds schema
 * names and aliases only.
 */
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "hf/alloc.h"
#include "hf/apply.h"
#include "hf/buf.h"
#include "hf/transport.h"
#include "hf/value.h"
#include "hf/diff.h"
#include "hf/fetch.h"
#include "hf/map.h"
#include "hf/resolve.h"
#include "hf/banned.h"

static double now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/*
 * The managed fields of a change: what the files state, or for a delete
 * (after NULL) what was read when planning. NULL for a forget.
 */
static json_t *managed(const struct hf_change *c)
{
	return c->after ? c->after : c->before;
}

/*
 * One side of a change as a tree (`side`: its before, after or managed
 * fields), a no-op in text form (hf_change.text) included: its fields,
 * which are both sides, read from the text into a tree the caller drops
 * (*own set), so that a large plan's no-ops are never all trees at once
 * (two hundred megabytes for 100k). NULL when the text cannot be read
 * (out of memory).
 */
static json_t *fields_tree(const struct hf_change *c, json_t *side, int *own)
{
	*own = hf_change_is_text(c);
	return *own ? hf_change_after_json(c) : side;
}

static void fields_done(json_t *t, int own)
{
	if (own)
		json_decref(t);
}

/*
 * name -> "attr" | "one" | "many" for the managed fields of a change, added
 * to `types`. 0 or HF_ENOMEM.
 */
static int add_field_types(json_t *types, const hf_schema *s,
                           const struct hf_change *c)
{
	const hf_kind *k = hf_schema_kind(s, c->kind);
	const struct hf_schema_rel *rel;
	const char *name;
	int own, rc = 0;
	json_t *v, *fields = fields_tree(c, managed(c), &own);

	if (own && !fields)
		return HF_ENOMEM;
	json_object_foreach(fields, name, v)
	{
		rel = k ? hf_schema_rel_find(k, name) : NULL;
		if (rc == 0 &&
		    json_object_set_new(
		            types, name,
		            json_string(!rel ? "attr"
		                        : rel->cardinality == HF_CARDINALITY_ONE
		                                ? "one"
		                                : "many")) < 0)
			rc = HF_ENOMEM;
	}
	fields_done(fields, own);
	if (rc < 0)
		return rc;
	return 0;
}

static void say(hf_fetch_diag_fn report, void *payload, const char *msg)
{
	hf_error e = HF_ERROR_INIT;

	hf_error_set(&e, HF_ECONFLICT, "%s", msg);
	if (report)
		report(payload, &e);
}

/* "Kind [hfid]", or "Kind id" for an unkeyed kind's delete or forget. */
static char *ident(const struct hf_change *c)
{
	hf_buf b = HF_BUF_INIT;
	char *h = c->hfid ? json_dumps(c->hfid, JSON_COMPACT) : NULL;

	hf_buf_addf(&b, "%s %s", c->kind,
	            h            ? h
	            : c->node_id ? c->node_id
	                         : "?");
	hf_free(h);
	if (hf_buf_failed(&b)) {
		hf_buf_release(&b);
		return NULL;
	}
	return hf_buf_detach(&b);
}

/* What differs between the plan's "before" and the live object now. */
static void describe_change(hf_buf *b, const struct hf_change *c,
                            const struct hf_object *live)
{
	const char *name;
	int n = 0, own;
	json_t *was, *is, *before = fields_tree(c, c->before, &own);

	json_object_foreach(before, name, was)
	{
		const struct hf_field *f = hf_object_field(live, name);

		is = f ? hf_field_json(f) : json_null();
		if (!json_equal(was, is))
			hf_buf_addf(b, "%s%s",
			            n++ ? ", " : " (changed: ", name);
		json_decref(is);
	}
	if (n)
		hf_buf_add(b, ")");
	fields_done(before, own);
}

static int check_kind(hf_plan *p, const hf_schema *s, hf_transport *t,
                      const char *kind, hf_objset *live, hf_error *err)
{
	json_t *ids = json_array(), *types = json_object();
	struct hf_change *ch;
	size_t i;
	int rc = ids && types ? 0 : HF_ENOMEM;

	for (i = 0; rc == 0 && i < hf_plan_count(p); i++) {
		ch = hf_plan_at(p, i);
		if (strcmp(ch->kind, kind) || ch->action == HF_ACT_CREATE)
			continue;
		if (json_array_append_new(ids, json_string(ch->node_id)) < 0 ||
		    add_field_types(types, s, ch) < 0)
			rc = HF_ENOMEM;
	}
	if (rc < 0)
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	else if (json_array_size(ids))
		rc = hf_fetch_by_ids(live, s, kind, types, ids, t, err);
	json_decref(ids);
	json_decref(types);
	return rc;
}

/*
 * Every planned create must still be absent. The kinds with creates are
 * counted first (one aliased request): a kind that holds nothing needs no
 * more. Otherwise the kind is either paged whole (its nodes' HFIDs) or its
 * creates are looked up by HFID (aliased), whichever costs less by the
 * fetch's cost model (hf/fetch.h: a page of P objects costs request_cost +
 * P, a request of L lookups request_cost + L * lookup_cost). All those
 * requests run concurrently. Every answer is type-checked: a count that is
 * not a non-negative integer, edges that are not a list, a node without a
 * list of strings as hfid, is an error naming the kind, never "absent".
 */
#define COUNT_ALIASES 50

struct probe_kind {
	const char *kind; /* borrowed from the plan */
	json_t *want; /* compact HFID -> plan index */
	long count; /* its live objects */
	int page; /* paged (1) or looked up (0) */
	size_t first, n; /* its calls: calls[first..first+n) */
};

struct probes {
	hf_plan *p;
	const hf_schema *s;
	struct probe_kind *k;
	size_t nk;
	struct hf_gql_call *calls;
	char **texts; /* the calls' queries, owned */
	size_t ncalls, cap;
	char *found; /* by plan index: the create exists */
};

static int oom(hf_error *err)
{
	return hf_error_set(err, HF_ENOMEM, "out of memory");
}

/* The kinds with creates to check and their HFIDs; 0 or HF_ENOMEM. */
static int probe_kinds(struct probes *pr, hf_error *err)
{
	size_t n = hf_plan_count(pr->p), i, j;
	struct hf_change *ch;
	char *key;
	int rc;

	pr->k = hf_calloc(n + 1, sizeof(*pr->k));
	if (!pr->k)
		return oom(err);
	for (i = 0; i < n; i++) {
		ch = hf_plan_at(pr->p, i);
		/* an unkeyed kind cannot be looked up by HFID: nothing to probe
		 */
		if (ch->action != HF_ACT_CREATE || !ch->hfid ||
		    hf_resolve_unkeyed(pr->s, ch->kind))
			continue;
		for (j = 0; j < pr->nk && strcmp(pr->k[j].kind, ch->kind); j++)
			;
		if (j == pr->nk) {
			pr->k[j].kind = ch->kind;
			if (!(pr->k[j].want = json_object()))
				return oom(err);
			pr->nk++;
		}
		key = json_dumps(ch->hfid, JSON_COMPACT);
		rc = key ? json_object_set_new(pr->k[j].want, key,
		                               json_integer((json_int_t)i))
		         : -1;
		hf_free(key);
		if (rc < 0)
			return oom(err);
	}
	return 0;
}

/* A new call slot with `query` (taken) and `vars` (taken); NULL: OOM. */
static struct hf_gql_call *add_call(struct probes *pr, char *query,
                                    json_t *vars)
{
	struct hf_gql_call *c;

	if (pr->ncalls == pr->cap) {
		size_t cap = pr->cap ? pr->cap * 2 : 8;
		struct hf_gql_call *m =
		        hf_reallocarray(pr->calls, cap, sizeof(*m));
		char **tx;

		if (!m)
			goto fail;
		pr->calls = m;
		if (!(tx = hf_reallocarray(pr->texts, cap, sizeof(*tx))))
			goto fail;
		pr->texts = tx;
		pr->cap = cap;
	}
	if (!query)
		goto fail;
	pr->texts[pr->ncalls] = query;
	c = &pr->calls[pr->ncalls++];
	memset(c, 0, sizeof(*c));
	c->query = query;
	c->vars = vars;
	return c;
fail:
	hf_free(query);
	json_decref(vars);
	return NULL;
}

static void free_calls(struct probes *pr)
{
	size_t i;

	for (i = 0; i < pr->ncalls; i++) {
		hf_free(pr->texts[i]);
		json_decref(pr->calls[i].vars);
		json_decref(pr->calls[i].data);
		json_decref(pr->calls[i].errors);
	}
	hf_free(pr->calls);
	hf_free(pr->texts);
	pr->calls = NULL;
	pr->texts = NULL;
	pr->ncalls = pr->cap = 0;
}

/* Run the calls queued; the first failed call's error. */
static int run_calls(struct probes *pr, hf_transport *t, hf_error *err)
{
	size_t i;
	int rc = pr->ncalls ? hf_transport_batch(t, pr->calls, pr->ncalls, err)
	                    : 0;

	for (i = 0; rc == 0 && i < pr->ncalls; i++)
		if (pr->calls[i].rc < 0) {
			*err = pr->calls[i].err;
			rc = pr->calls[i].rc;
		}
	return rc;
}

/* Round 1: `kN: Kind { count }`, COUNT_ALIASES kinds a request. */
static int count_kinds(struct probes *pr, hf_transport *t, hf_error *err)
{
	hf_buf q = HF_BUF_INIT;
	const json_t *v, *c;
	size_t i;
	int rc;

	for (i = 0; i < pr->nk; i++) {
		if (i % COUNT_ALIASES == 0)
			hf_buf_add(&q, "query {");
		hf_buf_addf(&q, " k%zu: %s { count }", i, pr->k[i].kind);
		if (i % COUNT_ALIASES == COUNT_ALIASES - 1 || i + 1 == pr->nk) {
			hf_buf_add(&q, " }");
			if (hf_buf_failed(&q) ||
			    !add_call(pr, hf_buf_detach(&q), NULL)) {
				hf_buf_release(&q);
				return oom(err);
			}
		}
	}
	if ((rc = run_calls(pr, t, err)) < 0)
		return rc;
	for (i = 0; i < pr->nk; i++) {
		char alias[32];

		snprintf(alias, sizeof(alias), "k%zu", i);
		v = json_object_get(pr->calls[i / COUNT_ALIASES].data, alias);
		c = json_object_get(v, "count");
		if (!json_is_integer(c) || json_integer_value(c) < 0)
			return hf_error_set(
			        err, HF_ESERVER,
			        "malformed answer to the "
			        "count of %s: %s",
			        pr->k[i].kind,
			        !json_is_object(v)
			                ? "no result object"
			                : "count is not a non-negative integer");
		pr->k[i].count = (long)json_integer_value(c);
	}
	free_calls(pr);
	return 0;
}

/* Kind `k`'s pages: `Kind(offset, limit) { edges { node { hfid } } }`. */
static int queue_pages(struct probes *pr, struct probe_kind *k, long page,
                       hf_error *err)
{
	hf_buf q = HF_BUF_INIT;
	json_t *vars;
	long off;
	int rc = 0;

	for (off = 0; rc == 0 && off < k->count; off += page) {
		hf_buf_reset(&q);
		hf_buf_addf(
		        &q,
		        "query ($offset: Int, $limit: Int) { %s(offset: "
		        "$offset, limit: $limit) { edges { node { hfid } } } }",
		        k->kind);
		vars = json_pack("{s:I, s:I}", "offset", (json_int_t)off,
		                 "limit", (json_int_t)page);
		if (!vars || hf_buf_failed(&q) ||
		    !add_call(pr, hf_buf_detach(&q), vars))
			rc = oom(err);
	}
	hf_buf_release(&q);
	return rc;
}

/* Kind `k`'s creates: `aI: Kind(hfid: $hI) { count }`, `batch` a request. */
static int queue_lookups(struct probes *pr, struct probe_kind *k, long batch,
                         hf_error *err)
{
	hf_buf q = HF_BUF_INIT, head = HF_BUF_INIT, b = HF_BUF_INIT;
	json_t *vars = NULL, *full, *at;
	const char *key;
	char name[32];
	size_t n = 0, total = json_object_size(k->want), i;
	int rc = 0;

	json_object_foreach(k->want, key, at)
	{
		i = (size_t)json_integer_value(at);
		if ((!vars && !(vars = json_object())) ||
		    (snprintf(name, sizeof(name), "h%zu", i),
		     json_object_set(vars, name, hf_plan_at(pr->p, i)->hfid) <
		             0)) {
			rc = oom(err);
			break;
		}
		hf_buf_addf(&head, "%s$h%zu: [String]", head.len ? ", " : "",
		            i);
		hf_buf_addf(&q, " a%zu: %s(hfid: $h%zu) { count }", i, k->kind,
		            i);
		if (++n % (size_t)batch && n < total)
			continue;
		hf_buf_reset(&b);
		hf_buf_addf(&b, "query (%s) {%s }", head.ptr, q.ptr);
		if (hf_buf_failed(&q) || hf_buf_failed(&head) ||
		    hf_buf_failed(&b)) {
			rc = oom(err);
			break;
		}
		full = vars;
		vars = NULL;
		if (!add_call(pr, hf_buf_detach(&b), full)) {
			rc = oom(err);
			break;
		}
		hf_buf_reset(&q);
		hf_buf_reset(&head);
	}
	json_decref(vars);
	hf_buf_release(&q);
	hf_buf_release(&head);
	hf_buf_release(&b);
	return rc;
}

/* Round 2: each counted kind paged or looked up, by cost. */
static int queue_round2(struct probes *pr, hf_error *err)
{
	struct hf_fetch_opts fo = HF_FETCH_OPTS_INIT;
	struct probe_kind *k;
	double pages, lookups;
	long n;
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < pr->nk; i++) {
		k = &pr->k[i];
		if (!k->count)
			continue; /* the kind is empty: no create exists */
		n = (long)json_object_size(k->want);
		pages = (double)((k->count + fo.page_size - 1) / fo.page_size) *
		                fo.request_cost +
		        (double)k->count;
		lookups = (double)((n + fo.batch_aliases - 1) /
		                   fo.batch_aliases) *
		                  fo.request_cost +
		          (double)n * fo.lookup_cost;
		k->page = pages <= lookups;
		k->first = pr->ncalls;
		rc = k->page ? queue_pages(pr, k, fo.page_size, err)
		             : queue_lookups(pr, k, fo.batch_aliases, err);
		k->n = pr->ncalls - k->first;
	}
	return rc;
}

/* A page's nodes against the kind's creates: found[] set for each. */
static int read_page(struct probes *pr, const struct probe_kind *k,
                     const json_t *data, hf_error *err)
{
	const json_t *edges =
	        json_object_get(json_object_get(data, k->kind), "edges");
	const json_t *e, *h, *part, *at;
	size_t i, j;
	char *key;

	if (!json_is_array(edges))
		return hf_error_set(err, HF_ESERVER,
		                    "malformed answer to the check "
		                    "of the %s creates: no %s.edges list",
		                    k->kind, k->kind);
	json_array_foreach(edges, i, e)
	{
		h = json_object_get(json_object_get(e, "node"), "hfid");
		json_array_foreach(h, j, part)
		{
			if (!json_is_string(part))
				break;
		}
		if (!json_is_array(h) || !json_array_size(h) ||
		    j < json_array_size(h))
			return hf_error_set(
			        err, HF_ESERVER,
			        "malformed answer to the "
			        "check of the %s creates: a node "
			        "whose hfid is not a list of strings",
			        k->kind);
		if (!(key = json_dumps(h, JSON_COMPACT)))
			return oom(err);
		at = json_object_get(k->want, key);
		hf_free(key);
		if (at)
			pr->found[json_integer_value(at)] = 1;
	}
	return 0;
}

/*
 * The kind's lookups: the m-th create (in the order queue_lookups took
 * them) was asked as aI in request first + m / batch; each answer must be
 * there, with a count that is an integer >= 0.
 */
static int read_lookups(struct probes *pr, const struct probe_kind *k,
                        long batch, hf_error *err)
{
	const json_t *v, *c, *data;
	const char *key;
	char alias[32];
	size_t i, m = 0;

	json_object_foreach(k->want, key, v)
	{
		i = (size_t)json_integer_value(v);
		data = pr->calls[k->first + m++ / (size_t)batch].data;
		snprintf(alias, sizeof(alias), "a%zu", i);
		c = json_object_get(json_object_get(data, alias), "count");
		if (!json_is_integer(c) || json_integer_value(c) < 0)
			return hf_error_set(
			        err, HF_ESERVER,
			        "malformed answer to the "
			        "lookup of %s %s: %s",
			        k->kind, key,
			        !json_is_object(json_object_get(data, alias))
			                ? "no result object"
			                : "count is not a "
			                  "non-negative integer");
		if (json_integer_value(c) > 0)
			pr->found[i] = 1;
	}
	return 0;
}

/* Round 2's answers, kind by kind. */
static int read_round2(struct probes *pr, hf_error *err)
{
	struct hf_fetch_opts fo = HF_FETCH_OPTS_INIT;
	const struct probe_kind *k;
	size_t i, j;
	int rc = 0;

	for (i = 0; rc == 0 && i < pr->nk; i++) {
		k = &pr->k[i];
		if (!k->count)
			continue;
		if (!k->page) {
			rc = read_lookups(pr, k, fo.batch_aliases, err);
			continue;
		}
		for (j = 0; rc == 0 && j < k->n; j++)
			rc = read_page(pr, k, pr->calls[k->first + j].data,
			               err);
	}
	return rc;
}

/* Each create found: "Kind [hfid]: planned as a create, but it exists now". */
static int report_found(struct probes *pr, hf_fetch_diag_fn report,
                        void *payload, int *stale)
{
	struct hf_change *ch;
	char *who, msg[700];
	size_t i;

	for (i = 0; i < hf_plan_count(pr->p); i++) {
		if (!pr->found[i])
			continue;
		ch = hf_plan_at(pr->p, i);
		who = ident(ch);
		snprintf(msg, sizeof(msg),
		         "%s: planned as a create, but it exists now",
		         who ? who : ch->kind);
		hf_free(who);
		say(report, payload, msg);
		*stale = 1;
	}
	return 0;
}

static int check_creates(hf_plan *p, const hf_schema *s, hf_transport *t,
                         hf_fetch_diag_fn report, void *payload, int *stale,
                         hf_error *err)
{
	struct probes pr;
	size_t i;
	int rc;

	memset(&pr, 0, sizeof(pr));
	pr.p = p;
	pr.s = s;
	pr.found = hf_calloc(hf_plan_count(p) + 1, 1);
	rc = pr.found ? probe_kinds(&pr, err) : oom(err);
	if (rc == 0 && pr.nk)
		rc = count_kinds(&pr, t, err);
	if (rc == 0 && pr.nk)
		rc = queue_round2(&pr, err);
	if (rc == 0 && pr.ncalls)
		rc = run_calls(&pr, t, err);
	if (rc == 0 && pr.ncalls)
		rc = read_round2(&pr, err);
	if (rc == 0)
		rc = report_found(&pr, report, payload, stale);
	free_calls(&pr);
	for (i = 0; pr.k && i < pr.nk; i++)
		json_decref(pr.k[i].want);
	hf_free(pr.k);
	hf_free(pr.found);
	return rc;
}

/*
 * The fingerprint over exactly the change's managed fields, as the diff
 * computed it: the live object may carry more fields (another object of
 * the kind manages them).
 */
static int fingerprint_of(char out[65], const struct hf_object *live,
                          const struct hf_change *c)
{
	int own, rc;
	json_t *fields = fields_tree(c, managed(c), &own);

	if (own && !fields)
		return HF_ENOMEM;
	rc = hf_diff_fingerprint_fields(out, live, fields);
	fields_done(fields, own);
	return rc;
}

/*
 * The stack group as the target has it now, against the plan's group_id.
 * 1 when it differs (said through `report`), 0, or a failure.
 */
static int group_changed(hf_plan *p, hf_transport *t, hf_fetch_diag_fn report,
                         void *payload, hf_error *err);

static int check_objects(hf_plan *p, const hf_schema *s, hf_transport *t,
                         hf_fetch_diag_fn report, void *payload, int group,
                         hf_error *err)
{
	hf_objset *live = NULL;
	struct hf_change *ch;
	char fp[65], *who;
	hf_buf msg = HF_BUF_INIT;
	hf_map kinds = HF_MAP_INIT;
	long at;
	size_t i;
	int rc, stale = 0;

	if (hf_objset_new(&live) < 0)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	/* each kind once, in the order the plan first names it */
	for (i = 0, rc = 0; rc == 0 && i < hf_plan_count(p); i++) {
		ch = hf_plan_at(p, i);
		if (hf_map_get(&kinds, ch->kind, strlen(ch->kind)))
			continue;
		rc = hf_map_add(&kinds, ch->kind, strlen(ch->kind), ch) < 0
		             ? hf_error_set(err, HF_ENOMEM, "out of memory")
		             : check_kind(p, s, t, ch->kind, live, err);
	}
	hf_map_release(&kinds);
	for (i = 0; rc == 0 && i < hf_plan_count(p); i++) {
		ch = hf_plan_at(p, i);
		if (ch->action == HF_ACT_CREATE)
			continue;
		at = hf_objset_find_id(live, ch->node_id);
		hf_buf_reset(&msg);
		who = ident(ch);
		if (!who) {
			rc = hf_error_set(err, HF_ENOMEM, "out of memory");
			break;
		}
		if (at < 0) {
			hf_buf_addf(&msg, "%s: deleted since the plan was made",
			            who);
		} else if (ch->action == HF_ACT_FORGET) {
			/* only its membership changes: its fields do not matter
			 */
		} else if (fingerprint_of(fp, hf_objset_at(live, (size_t)at),
		                          ch) < 0) {
			/* never "unchanged" for want of memory */
			hf_free(who);
			rc = hf_error_set(err, HF_ENOMEM, "out of memory");
			break;
		} else if (strcmp(fp, ch->fingerprint)) {
			hf_buf_addf(
			        &msg,
			        "%s: changed in Infrahub since the plan was made",
			        who);
			describe_change(&msg, ch,
			                hf_objset_at(live, (size_t)at));
		}
		hf_free(who);
		if (hf_buf_failed(&msg)) {
			rc = hf_error_set(err, HF_ENOMEM, "out of memory");
			break;
		}
		if (msg.len) {
			say(report, payload, msg.ptr);
			stale = 1;
		}
	}
	if (rc == 0)
		rc = check_creates(p, s, t, report, payload, &stale, err);
	if (rc == 0 && group && hf_apply_touches_group(p)) {
		rc = group_changed(p, t, report, payload, err);
		if (rc > 0) {
			stale = 1;
			rc = 0;
		}
	}
	hf_buf_release(&msg);
	hf_objset_free(live);
	if (rc == 0 && stale)
		rc = hf_error_set(err, HF_ECONFLICT, "the plan is stale");
	return rc;
}

int hf_apply_check_stale(hf_plan *p, const hf_schema *s, hf_transport *t,
                         hf_fetch_diag_fn report, void *payload, hf_error *err)
{
	return check_objects(p, s, t, report, payload, 1, err);
}

int hf_apply_check_objects(hf_plan *p, const hf_schema *s, hf_transport *t,
                           hf_fetch_diag_fn report, void *payload,
                           hf_error *err)
{
	return check_objects(p, s, t, report, payload, 0, err);
}

/* ---- ownership: the stack's group -------------------------------------- */

int hf_apply_touches_group(const hf_plan *p)
{
	const struct hf_change *c;
	size_t i;

	for (i = 0; i < hf_plan_count(p); i++) {
		c = hf_plan_at(p, i);
		if (c->action == HF_ACT_CREATE || c->action == HF_ACT_DELETE ||
		    c->action == HF_ACT_FORGET || c->adopt)
			return 1;
	}
	return 0;
}

size_t hf_apply_work(const hf_plan *p)
{
	size_t i, n = 0;

	for (i = 0; i < hf_plan_count(p); i++)
		n += hf_plan_at(p, i)->action != HF_ACT_NOOP ||
		     hf_plan_at(p, i)->adopt;
	return n;
}

size_t hf_apply_deletes(const hf_plan *p)
{
	size_t i, n = 0;

	for (i = 0; i < hf_plan_count(p); i++)
		n += hf_plan_at(p, i)->action == HF_ACT_DELETE;
	return n;
}

/* "hubform-<stack>" (stack "default" when the plan names none); NULL: OOM. */
static char *group_name(const hf_plan *p)
{
	const char *stack = hf_plan_meta_c(p)->stack;
	hf_buf b = HF_BUF_INIT;

	hf_buf_addf(&b, "%s%s", HF_STACK_GROUP_PREFIX,
	            stack && *stack ? stack : "default");
	return hf_buf_detach(&b);
}

/* The id of the group named `name` on `branch` (NULL: the target), or NULL. */
static int find_group(hf_transport *t, const char *branch, const char *name,
                      char **id, hf_error *err)
{
	struct hf_tx_request rq = HF_TX_REQUEST_INIT;
	json_t *vars = json_pack("{s:s}", "name", name), *data = NULL, *edges;
	const char *s;
	int rc;

	*id = NULL;
	if (!vars)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	rq.branch = branch;
	rq.query = "query ($name: String) { " HF_STACK_GROUP_KIND
	           "(name__value: $name) { edges { node { id } } } }";
	rq.variables = vars;
	rc = hf_transport_call(t, &rq, &data, NULL, NULL, err);
	json_decref(vars);
	if (rc < 0)
		return rc;
	edges = json_object_get(json_object_get(data, HF_STACK_GROUP_KIND),
	                        "edges");
	if (!json_is_array(edges)) {
		json_decref(data);
		return hf_error_set(err, HF_ESERVER,
		                    "malformed answer to the lookup "
		                    "of group '%s': no %s.edges",
		                    name, HF_STACK_GROUP_KIND);
	}
	s = json_string_value(json_object_get(
	        json_object_get(json_array_get(edges, 0), "node"), "id"));
	if (json_array_size(edges) && (!s || !*s))
		rc = hf_error_set(err, HF_ESERVER,
		                  "malformed answer to the lookup "
		                  "of group '%s': a node without id",
		                  name);
	else if (s && !(*id = hf_strdup(s)))
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	json_decref(data);
	return rc;
}

static int group_changed(hf_plan *p, hf_transport *t, hf_fetch_diag_fn report,
                         void *payload, hf_error *err)
{
	const char *planned = hf_plan_meta_c(p)->group_id;
	char *name = group_name(p), *now = NULL, msg[600];
	int rc;

	if (!name)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	rc = find_group(t, NULL, name, &now, err);
	msg[0] = '\0';
	if (rc == 0 && !planned && now)
		snprintf(msg, sizeof(msg),
		         "group %s: created since the plan was "
		         "made (the stack's ownership changed)",
		         name);
	else if (rc == 0 && planned && !now)
		snprintf(msg, sizeof(msg),
		         "group %s: deleted since the plan was "
		         "made (the stack's ownership changed)",
		         name);
	else if (rc == 0 && planned && strcmp(planned, now))
		snprintf(msg, sizeof(msg),
		         "group %s: replaced since the plan was "
		         "made (the stack's ownership changed)",
		         name);
	if (msg[0]) {
		say(report, payload, msg);
		rc = 1;
	}
	hf_free(name);
	hf_free(now);
	return rc;
}

/* Everything hf_apply_waves() carries from phase to phase. */
struct run_ctx {
	hf_plan *p;
	const hf_schema *s;
	hf_transport *t;
	const struct hf_apply_opts *o;
	struct hf_apply_stats *stats;
	char **created; /* by plan index */
	int done, waves; /* progress */
	long total;
	json_t *index; /* change id -> plan index (index_changes()) */
	char *gid; /* the stack group's id, when creates join it in their
	              own mutations (group_first()) */
	char *gname; /* and its name */
};

/*
 * One request's worth of changes: plan indexes of the aliases c0, c1...
 * `sent` says the request was submitted (its outcome then comes from the
 * transport; one never submitted is settled by the wave itself).
 */
struct batch {
	size_t *idx;
	size_t n;
	int sent;
};

struct wave_ctx {
	hf_plan *p;
	struct hf_apply_stats *stats;
	int failed;
	volatile int *stop;
	int keep_going;
	char **created; /* by plan index: the id a create's answer gave */
};

static const char *alias_error(const json_t *errors, const char *alias)
{
	const json_t *e;
	size_t i;

	json_array_foreach(errors, i, e)
	{
		const char *p0 = json_string_value(
		        json_array_get(json_object_get(e, "path"), 0));

		if (p0 && !strcmp(p0, alias))
			return hf_tx_error_message(e);
	}
	return NULL;
}

/* `b` with every occurrence of `needle` replaced by "(sensitive)". */
static void hide(hf_buf *b, const char *needle)
{
	hf_buf out = HF_BUF_INIT;
	const char *p, *hit;

	for (p = b->ptr; (hit = strstr(p, needle)) != NULL;
	     p = hit + strlen(needle)) {
		hf_buf_addn(&out, p, (size_t)(hit - p));
		hf_buf_add(&out, HF_SENSITIVE_TEXT);
	}
	hf_buf_add(&out, p);
	hf_buf_release(b);
	*b = out;
}

/*
 * The error to record for a change: the server's message, with any secret
 * of the change (a create's wrapped value, hf/value.h) replaced by
 * "(sensitive)", since a server may quote the value it refused and the
 * error is stored and printed. NULL on OOM.
 */
static char *scrubbed(const struct hf_change *ch, const char *why)
{
	hf_buf b = HF_BUF_INIT;
	const char *key, *sv;
	int own;
	json_t *v, *after = fields_tree(ch, ch->after, &own);

	if (own && !after)
		return NULL; /* no message rather than one not scrubbed */
	hf_buf_add(&b, why);
	json_object_foreach(after, key, v)
	{
		sv = json_string_value(hf_value_sensitive_get(v));
		if (sv && *sv && !hf_buf_failed(&b))
			hide(&b, sv);
	}
	fields_done(after, own);
	return hf_buf_detach(&b);
}

/* A change's outcome: applied, or failed / skipped (never sent) and why. */
static void settle(struct wave_ctx *w, struct hf_change *ch, int applied,
                   int sent, const char *why)
{
	ch->finished = now();
	if (applied) {
		ch->status = HF_CH_APPLIED;
		w->stats->applied++;
		return;
	}
	ch->status = sent ? HF_CH_FAILED : HF_CH_SKIPPED;
	hf_free(ch->error);
	ch->error = scrubbed(ch, why ? why : "the server gave no result");
	if (sent) {
		w->stats->failed++;
		w->failed = 1;
	} else {
		w->stats->skipped++;
	}
}

/*
 * A delete refused because the object is not there: "Unable to find the
 * node <id> / <Kind> in the database." naming the change's id. Absence is
 * what the delete wants, so it counts as applied: a retry after a lost
 * answer, a concurrent delete or a cascade the plan did not foresee.
 */
static int gone(const struct hf_change *ch, const struct hf_tx_result *r,
                const char *alias)
{
	const char *why = alias_error(r->errors, alias);

	if (!why && r->rc && r->attempts > 0 && json_array_size(r->errors) == 1)
		why = r->err->msg;
	return ch->action == HF_ACT_DELETE && ch->node_id && why &&
	       strstr(why, "Unable to find the node") &&
	       strstr(why, ch->node_id);
}

/*
 * A create's new id, kept for the group. NULL when fine, else why the
 * change cannot count as applied (it could not be owned).
 */
static const char *keep_id(struct wave_ctx *w, size_t at, const json_t *res)
{
	const json_t *obj = json_object_get(res, "object");
	const char *id = json_string_value(json_object_get(obj, "id"));

	if (!json_is_object(obj))
		return "the server's answer gave no id for the new object";
	if (!id || !*id)
		return json_object_get(obj, "id") &&
		                       !json_is_null(json_object_get(obj, "id"))
		               ? "the server's answer gave an id for the new object "
		                 "that is not a string (or is empty)"
		               : "the server's answer gave no id for the new object";
	hf_free(w->created[at]);
	w->created[at] = hf_strdup(id);
	return w->created[at] ? NULL : "out of memory";
}

/*
 * Whether alias result `res` says the mutation was done: an object whose
 * `ok` is JSON true. Anything else (ok false, null, missing, a string "true",
 * a result that is not an object) is not; *why then says what, unless the
 * server's own error for the alias already does.
 */
static int answered_ok(const json_t *res, const char **why)
{
	const json_t *ok = json_object_get(res, "ok");

	if (json_is_true(ok))
		return 1;
	if (*why)
		return 0;
	if (!res || json_is_null(res))
		*why = "the server gave no result";
	else if (!json_is_object(res))
		*why = "malformed answer: the result is not an object";
	else if (!ok || json_is_null(ok))
		*why = "malformed answer: the result has no ok";
	else if (!json_is_boolean(ok))
		*why = "malformed answer: ok is not a boolean";
	else
		*why = "the server did not answer ok";
	return 0;
}

static void on_done(hf_transport *t, const struct hf_tx_result *r,
                    void *payload)
{
	struct wave_ctx *w = payload;
	struct batch *b = r->user;
	struct hf_change *ch;
	const char *why;
	char alias[32];
	json_t *res;
	size_t i;
	int ok;

	for (i = 0; i < b->n; i++) {
		ch = hf_plan_at(w->p, b->idx[i]);
		snprintf(alias, sizeof(alias), "c%zu", i);
		res = r->rc == 0 ? json_object_get(r->data, alias) : NULL;
		why = r->rc ? r->err->msg : alias_error(r->errors, alias);
		ok = r->rc == 0 && answered_ok(res, &why);
		if (!ok && gone(ch, r, alias)) {
			ok = 1;
			w->stats->gone++;
		}
		if (ok && ch->action == HF_ACT_CREATE &&
		    (why = keep_id(w, b->idx[i], res)) != NULL)
			ok = 0;
		settle(w, ch, ok, r->attempts > 0, why);
	}
	if ((w->failed && !w->keep_going) || (w->stop && *w->stop))
		hf_transport_stop(t);
}

/* ---- building mutations ------------------------------------------------ */

/*
 * Every builder returns a new reference, or NULL when any part of it could
 * not be allocated: a mutation is sent whole or not at all.
 */
static json_t *ref_input(const hf_schema *s, const json_t *ref,
                         const char *peer)
{
	const hf_kind *pk = hf_schema_kind(s, peer);
	json_t *in;

	if (json_is_null(ref))
		return json_null();
	if (json_object_get(ref, "id"))
		return json_pack("{s:O}", "id", json_object_get(ref, "id"));
	in = json_pack("{s:O}", "hfid", json_object_get(ref, "hfid"));
	/* a generic peer needs the concrete kind to read the HFID */
	if (in && pk && hf_schema_kind_type(pk) == HF_KIND_GENERIC &&
	    json_object_set(in, "kind", json_object_get(ref, "kind")) < 0) {
		json_decref(in);
		return NULL;
	}
	return in;
}

/*
 * An attribute's input. A secret is the one place where the value inside
 * the plan's wrapper (hf/value.h) is let out: into the mutation's
 * variables, which are never shown.
 */
static json_t *attr_input(const hf_kind *k, const char *name, const json_t *v)
{
	const struct hf_schema_attr *a = hf_schema_attr_find(k, name);
	const json_t *secret = hf_value_sensitive_get(v);

	if (secret && a && hf_attr_kind_is_secret(a->kind))
		v = secret;
	return json_pack("{s:O}", "value", v);
}

static json_t *field_input(const hf_schema *s, const hf_kind *k,
                           const char *name, const json_t *v)
{
	const struct hf_schema_rel *rel = hf_schema_rel_find(k, name);
	json_t *list, *e;
	size_t i;

	if (!rel)
		return attr_input(k, name, v);
	if (rel->cardinality == HF_CARDINALITY_ONE)
		return ref_input(s, v, rel->peer);
	list = json_array();
	json_array_foreach(v, i, e)
	{
		if (!list)
			break;
		if (json_array_append_new(list, ref_input(s, e, rel->peer)) <
		    0) {
			json_decref(list);
			list = NULL;
		}
	}
	return list;
}

/* data[name] = the input for field `name`; 0 or HF_ENOMEM. */
static int set_field(json_t *data, const hf_schema *s, const hf_kind *k,
                     const char *name, const json_t *v)
{
	return json_object_set_new(data, name, field_input(s, k, name, v)) < 0
	               ? HF_ENOMEM
	               : 0;
}

/*
 * Whether create `ch` joins the stack group in its own mutation: its kind
 * has the writable many-relationship member_of_groups (every node that is
 * not itself a group has it, the server adds it). The object is then owned
 * from the moment it exists, and needs no membership edit afterwards.
 */
static int joins_on_create(const hf_schema *s, const struct hf_change *ch)
{
	const hf_kind *k;
	const struct hf_schema_rel *r;

	if (ch->action != HF_ACT_CREATE)
		return 0;
	k = hf_schema_kind(s, ch->kind);
	r = k ? hf_schema_rel_find(k, "member_of_groups") : NULL;
	return r && r->kind == HF_REL_GROUP &&
	       r->cardinality == HF_CARDINALITY_MANY && !r->read_only;
}

/* Whether input reference `e` names group `name` by HFID. */
static int names_group(const json_t *e, const char *name)
{
	const json_t *h = json_object_get(e, "hfid");
	const char *kind = json_string_value(json_object_get(e, "kind"));

	return json_array_size(h) == 1 &&
	       json_is_string(json_array_get(h, 0)) &&
	       !strcmp(json_string_value(json_array_get(h, 0)), name) &&
	       (!kind || !strcmp(kind, HF_STACK_GROUP_KIND) ||
	        !strcmp(kind, "CoreGroup"));
}

/*
 * The stack group added to a create's member_of_groups: after the groups
 * the files give it (the plan's fields, unchanged), unless one of them is
 * the stack group already, by id or by HFID. 0 or HF_ENOMEM.
 */
static int join_group(json_t *data, const char *gid, const char *name)
{
	json_t *list = json_object_get(data, "member_of_groups"), *e;
	size_t i;

	if (!json_is_array(list)) {
		list = json_array();
		if (!list ||
		    json_object_set_new(data, "member_of_groups", list) < 0)
			return HF_ENOMEM;
	}
	json_array_foreach(list, i, e)
	{
		if (json_is_string(json_object_get(e, "id")) &&
		    !strcmp(json_string_value(json_object_get(e, "id")), gid))
			return 0;
		if (names_group(e, name))
			return 0;
	}
	return json_array_append_new(list, json_pack("{s:s}", "id", gid)) < 0
	               ? HF_ENOMEM
	               : 0;
}

static json_t *mutation_input(const struct run_ctx *x,
                              const struct hf_change *c)
{
	const hf_schema *s = x->s;
	const hf_kind *k = hf_schema_kind(s, c->kind);
	json_t *data = json_object(), *v;
	const char *name;
	size_t i;
	int rc = data ? 0 : HF_ENOMEM;

	if (!k || rc < 0)
		return data;
	if (c->action == HF_ACT_DELETE) {
		if (json_object_set_new(data, "id", json_string(c->node_id)) <
		    0)
			rc = HF_ENOMEM;
	} else if (c->action == HF_ACT_UPDATE) {
		if (json_object_set_new(data, "id", json_string(c->node_id)) <
		    0)
			rc = HF_ENOMEM;
		for (i = 0; rc == 0 && i < json_array_size(c->changed); i++) {
			name = json_string_value(json_array_get(c->changed, i));
			rc = set_field(data, s, k, name,
			               json_object_get(c->after, name));
		}
	} else {
		json_object_foreach(c->after, name, v)
		{
			if (rc == 0)
				rc = set_field(data, s, k, name, v);
		}
		if (rc == 0 && x->gid && joins_on_create(s, c))
			rc = join_group(data, x->gid, x->gname);
	}
	if (rc < 0) {
		json_decref(data);
		return NULL;
	}
	return data;
}

/*
 * The mutation of each action: creates are Upserts keyed by HFID, updates
 * and deletes go by id.
 */
static const char *verb(enum hf_action a)
{
	return a == HF_ACT_CREATE   ? "Upsert"
	       : a == HF_ACT_DELETE ? "Delete"
	                            : "Update";
}

/* One aliased mutation and its variable's declaration. */
static void add_mutation(hf_buf *head, hf_buf *q, size_t i,
                         const struct hf_change *ch)
{
	if (ch->action == HF_ACT_DELETE) {
		/* <Kind>Delete(data: DeleteInput!) { ok } */
		hf_buf_addf(head, "%s$d%zu: DeleteInput!", i ? ", " : "", i);
		hf_buf_addf(q, " c%zu: %sDelete(data: $d%zu) { ok }", i,
		            ch->kind, i);
		return;
	}
	hf_buf_addf(head, "%s$d%zu: %s%sInput!", i ? ", " : "", i, ch->kind,
	            verb(ch->action));
	hf_buf_addf(q, " c%zu: %s%s(data: $d%zu) { ok object { id } }", i,
	            ch->kind, verb(ch->action), i);
}

/*
 * Build the whole request for batch `b`, then submit it: on any failure
 * nothing is submitted.
 */
static int submit_batch(struct run_ctx *c, struct batch *b, hf_error *err)
{
	hf_plan *p = c->p;
	struct hf_tx_request rq = HF_TX_REQUEST_INIT;
	hf_buf q = HF_BUF_INIT, head = HF_BUF_INIT;
	json_t *vars = json_object();
	struct hf_change *ch;
	char name[32];
	size_t i;
	int rc = vars ? 0 : HF_ENOMEM;

	for (i = 0; rc == 0 && i < b->n; i++) {
		ch = hf_plan_at(p, b->idx[i]);
		add_mutation(&head, &q, i, ch);
		snprintf(name, sizeof(name), "d%zu", i);
		if (json_object_set_new(vars, name, mutation_input(c, ch)) < 0)
			rc = HF_ENOMEM;
	}
	if (hf_buf_failed(&q)) /* checked before the reset clears it */
		rc = HF_ENOMEM;
	hf_buf_addf(&head, ") {%s }", q.ptr);
	hf_buf_reset(&q);
	hf_buf_addf(&q, "mutation (%s", head.ptr);
	if (rc < 0 || hf_buf_failed(&head) || hf_buf_failed(&q)) {
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	} else {
		rq.branch = c->o->branch;
		rq.query = q.ptr;
		rq.variables = vars;
		rq.user = b;
		/*
		 * Upserts keyed by HFID and updates by id repeat safely;
		 * so do deletes, a repeat finding the object gone (gone()).
		 */
		rq.flags = HF_TX_RETRY;
		rc = hf_transport_submit(c->t, &rq, err);
	}
	for (i = 0; rc == 0 && i < b->n; i++)
		hf_plan_at(p, b->idx[i])->started = now();
	b->sent = rc == 0;
	hf_buf_release(&q);
	hf_buf_release(&head);
	json_decref(vars);
	return rc;
}

/*
 * Change id -> plan index, built once per run (hf_plan_find() scans the
 * plan: a lookup per dependency would make a run quadratic in the plan's
 * size). NULL on OOM.
 */
static json_t *index_changes(const hf_plan *p)
{
	json_t *ix = json_object();
	size_t i;

	for (i = 0; ix && i < hf_plan_count(p); i++)
		if (json_object_set_new(ix, hf_plan_at(p, i)->id,
		                        json_integer((json_int_t)i)) < 0) {
			json_decref(ix);
			ix = NULL;
		}
	return ix;
}

/* The change with this id, through the index; NULL when none. */
static const struct hf_change *change_by_id(const hf_plan *p, const json_t *ix,
                                            const char *id)
{
	const json_t *at = id ? json_object_get(ix, id) : NULL;

	return at ? hf_plan_at(p, (size_t)json_integer_value(at)) : NULL;
}

/* Whether a change this one depends on failed or was skipped. */
static int deps_failed(const hf_plan *p, const json_t *ix,
                       const struct hf_change *ch)
{
	const struct hf_change *d;
	size_t i;

	for (i = 0; i < json_array_size(ch->deps); i++) {
		d = change_by_id(
		        p, ix, json_string_value(json_array_get(ch->deps, i)));
		if (d &&
		    (d->status == HF_CH_FAILED || d->status == HF_CH_SKIPPED))
			return 1;
	}
	return 0;
}

/* ---- phases and waves -------------------------------------------------- */

/*
 * The changes run in phases, each over the plan's waves in order: creates
 * and updates first (dependencies first), then, after the group is
 * written, the deletes (a delete depends on the deletes of its referrers,
 * so referrers go first). Cascade deletes are not sent.
 */
struct phase {
	int (*wants)(const struct hf_change *c);
};

static int is_upsert(const struct hf_change *c)
{
	return c->action == HF_ACT_CREATE || c->action == HF_ACT_UPDATE;
}

static int is_sent_delete(const struct hf_change *c)
{
	return c->action == HF_ACT_DELETE && !c->cascade_of;
}

static const struct phase upserts = { is_upsert };
static const struct phase deletes = { is_sent_delete };

/* The changes of wave `wave` that `ph` runs, into idx; skips marked. */
static size_t wave_changes(hf_plan *p, const json_t *ix, const struct phase *ph,
                           int wave, size_t *idx, struct hf_apply_stats *stats)
{
	size_t i, n = 0;

	for (i = 0; i < hf_plan_count(p); i++) {
		struct hf_change *ch = hf_plan_at(p, i);

		if (ch->wave != wave || !ph->wants(ch) ||
		    ch->status != HF_CH_PENDING)
			continue;
		if (deps_failed(p, ix, ch)) {
			ch->status = HF_CH_SKIPPED;
			hf_free(ch->error);
			ch->error = hf_strdup(
			        "skipped: a change it depends on did not apply");
			stats->skipped++;
			continue;
		}
		idx[n++] = i;
	}
	return n;
}

static int run_wave(struct run_ctx *c, const struct phase *ph, int wave,
                    hf_error *err)
{
	hf_plan *p = c->p;
	const struct hf_apply_opts *o = c->o;
	struct hf_apply_stats *stats = c->stats;
	struct wave_ctx w = { p, stats, 0, o->stop, o->keep_going, c->created };
	struct batch *bs = hf_calloc(hf_plan_count(p) + 1, sizeof(*bs));
	size_t *idx = hf_calloc(hf_plan_count(p) + 1, sizeof(*idx));
	size_t n, nb = 0, start;
	int rc = 0;

	if (!bs || !idx) {
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
		goto out;
	}
	n = wave_changes(p, c->index, ph, wave, idx, stats);
	for (start = 0; rc == 0 && start < n; start += (size_t)o->batch_size) {
		bs[nb].idx = idx + start;
		bs[nb].n = n - start < (size_t)o->batch_size
		                   ? n - start
		                   : (size_t)o->batch_size;
		rc = submit_batch(c, &bs[nb++], err);
	}
	if (rc < 0) {
		/* a wave is sent whole or not at all */
		hf_transport_drop(c->t);
		goto out;
	}
	stats->requests += (long)nb;
	if (nb)
		rc = hf_transport_run(c->t, on_done, &w, err);
	if (rc == 0 && w.failed && !o->keep_going)
		rc = hf_error_set(err, HF_ESERVER, "%ld change%s failed",
		                  stats->failed, stats->failed == 1 ? "" : "s");
out:
	hf_free(bs);
	hf_free(idx);
	return rc;
}

/* Waves the phase has something in: its last wave + 1. */
static int phase_waves(const hf_plan *p, const struct phase *ph)
{
	size_t i;
	int n = 0;

	for (i = 0; i < hf_plan_count(p); i++)
		if (ph->wants(hf_plan_at(p, i)) && hf_plan_at(p, i)->wave >= n)
			n = hf_plan_at(p, i)->wave + 1;
	return n;
}

static int stopped(const struct run_ctx *c, hf_error *err)
{
	if (c->o->stop && *c->o->stop)
		return hf_error_set(err, HF_ERR, "interrupted");
	return 0;
}

static int run_phase(struct run_ctx *c, const struct phase *ph, hf_error *err)
{
	int w, n = phase_waves(c->p, ph), rc = 0;

	for (w = 0; rc == 0 && w < n; w++) {
		if ((rc = stopped(c, err)) < 0)
			break;
		rc = run_wave(c, ph, w, err);
		if (rc == 0)
			rc = stopped(c, err);
		if (c->o->progress &&
		    c->o->progress(c->o->payload, ++c->done, c->waves,
		                   c->stats->applied, c->total) &&
		    rc == 0)
			rc = hf_error_set(err, HF_ERR, "stopped");
	}
	return rc;
}

/* ---- the group phase ---------------------------------------------------- */

/* One GraphQL write on the apply's branch, alone; 0 when it said ok. */
static int write_one(struct run_ctx *c, const char *query, json_t *vars,
                     const char *field, json_t **res, hf_error *err)
{
	struct hf_tx_request rq = HF_TX_REQUEST_INIT;
	json_t *data = NULL, *errors = NULL, *r;
	const char *why;
	int rc;

	if (res)
		*res = NULL;
	if (!vars)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	rq.branch = c->o->branch;
	rq.query = query;
	rq.variables = vars;
	/* an upsert matched by name, and membership edits, repeat safely */
	rq.flags = HF_TX_RETRY;
	c->stats->requests++;
	rc = hf_transport_call(c->t, &rq, &data, &errors, NULL, err);
	json_decref(vars);
	r = json_object_get(data, field);
	why = hf_tx_error_message(json_array_get(errors, 0));
	if (rc == 0 && !json_is_true(json_object_get(r, "ok")))
		rc = hf_error_set(err, HF_ESERVER, "%s",
		                  why ? why
		                      : "the server did "
		                        "not answer ok");
	else if (rc == 0 && res)
		*res = json_incref(r);
	json_decref(data);
	json_decref(errors);
	return rc;
}

/* The group's id: the plan's, or that of the group made now (*made). */
static int ensure_group(struct run_ctx *c, const char *name, char **id,
                        hf_error *err)
{
	const char *stack = hf_plan_meta_c(c->p)->stack;
	const char *planned = hf_plan_meta_c(c->p)->group_id;
	json_t *res = NULL;
	char desc[300];
	const char *s;
	int rc;

	*id = NULL;
	if (planned) {
		*id = hf_strdup(planned);
		return *id ? 0 : hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	snprintf(desc, sizeof(desc), "hubform stack %s",
	         stack && *stack ? stack : "default");
	/* CoreStandardGroup has no HFID: its Upsert matches by name */
	rc = write_one(c,
	               "mutation ($g: " HF_STACK_GROUP_KIND
	               "UpsertInput!) { " HF_STACK_GROUP_KIND
	               "Upsert(data: $g) { ok object { id } } }",
	               json_pack("{s:{s:{s:s}, s:{s:s}}}", "g", "name", "value",
	                         name, "description", "value", desc),
	               HF_STACK_GROUP_KIND "Upsert", &res, err);
	s = json_string_value(
	        json_object_get(json_object_get(res, "object"), "id"));
	if (rc == 0 && (!s || !*s))
		rc = hf_error_set(err, HF_ESERVER,
		                  "the answer to creating group "
		                  "'%s' gave no id",
		                  name);
	else if (rc == 0 && !(*id = hf_strdup(s)))
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	json_decref(res);
	return rc;
}

/*
 * What the group edit does for change i: 1 add (a create that made its
 * object and did not join in its own mutation, an adopted object), -1
 * remove (a forget), 0 nothing. A delete needs no edit: deleting a node
 * deletes its relationships, its membership of the group with them (as
 * its cascades' always did); 10,000 deletes saved 10 edits of 1,000
 * members, one after another, a second under cost=20,2.
 */
static int membership(const struct run_ctx *c, size_t i)
{
	const struct hf_change *ch = hf_plan_at(c->p, i);

	if (ch->action == HF_ACT_CREATE)
		return ch->status == HF_CH_APPLIED && c->created[i] &&
		       !(c->gid && joins_on_create(c->s, ch));
	if (ch->adopt)
		return ch->status == HF_CH_APPLIED ||
		       (ch->action == HF_ACT_NOOP &&
		        ch->status == HF_CH_PENDING);
	if (ch->action == HF_ACT_FORGET && ch->status == HF_CH_PENDING)
		return -1;
	return 0;
}

/* A change whose whole work is the group edit: a forget, an adopted no-op. */
static int group_only(const struct hf_change *ch)
{
	return ch->action == HF_ACT_FORGET ||
	       (ch->action == HF_ACT_NOOP && ch->adopt);
}

/* The group edit of idx[0..n) went (rc 0) or not: settle those it was all of.
 */
static void settle_members(struct run_ctx *c, const size_t *idx, size_t n,
                           int rc, const char *why)
{
	struct hf_change *ch;
	size_t i;

	for (i = 0; i < n; i++) {
		ch = hf_plan_at(c->p, idx[i]);
		if (!group_only(ch))
			continue;
		ch->finished = now();
		if (rc == 0) {
			ch->status = HF_CH_APPLIED;
			c->stats->applied++;
			continue;
		}
		ch->status = HF_CH_FAILED;
		hf_free(ch->error);
		ch->error = hf_strdup(why);
		c->stats->failed++;
	}
}

/*
 * The group edits: RelationshipAdd / RelationshipRemove on `members`, up
 * to group_chunk nodes a request (one operation whatever the number of
 * nodes, so not bound to batch_size). They all write the group node, so
 * they go one at a time (never two writes to one node at once): each
 * answer submits the next edit.
 */
struct edit {
	const size_t *idx;
	size_t n;
	int add;
};

struct edit_ctx {
	struct run_ctx *c;
	const char *gid; /* the group's id */
	const char *name; /* and name */
	struct edit *es;
	size_t ne, next; /* edits, the next to submit */
	int failed;
	hf_error first; /* the first failure, as the phase's error */
};

/* Why edit `e` failed ("cannot add 3 objects to group X: why"); settles. */
static void edit_failed(struct edit_ctx *x, const struct edit *e,
                        const char *why)
{
	hf_error msg = HF_ERROR_INIT;

	hf_error_set(&msg, HF_ESERVER, "cannot %s %zu object%s %s group %s: %s",
	             e->add ? "add" : "remove", e->n, e->n == 1 ? "" : "s",
	             e->add ? "to" : "from", x->name, why);
	settle_members(x->c, e->idx, e->n, HF_ESERVER, msg.msg);
	if (!x->failed++)
		x->first = msg;
}

/* Queue edit `e` of the group; its nodes' started times set. */
static int submit_edit(struct edit_ctx *x, struct edit *e, hf_error *err)
{
	struct run_ctx *c = x->c;
	struct hf_tx_request rq = HF_TX_REQUEST_INIT;
	json_t *nodes = json_array(), *vars = NULL;
	struct hf_change *ch;
	size_t i;
	int rc = nodes ? 0 : HF_ENOMEM;

	for (i = 0; rc == 0 && i < e->n; i++) {
		ch = hf_plan_at(c->p, e->idx[i]);
		if (json_array_append_new(
		            nodes, json_pack("{s:s}", "id",
		                             ch->action == HF_ACT_CREATE
		                                     ? c->created[e->idx[i]]
		                                     : ch->node_id)) < 0)
			rc = HF_ENOMEM;
	}
	if (rc == 0)
		vars = json_pack("{s:{s:s, s:s, s:O}}", "m", "id", x->gid,
		                 "name", "members", "nodes", nodes);
	json_decref(nodes);
	if (!vars)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	rq.branch = c->o->branch;
	rq.query = e->add ? "mutation ($m: RelationshipNodesInput!) { "
	                    "RelationshipAdd(data: $m) { ok } }"
	                  : "mutation ($m: RelationshipNodesInput!) { "
	                    "RelationshipRemove(data: $m) { ok } }";
	rq.variables = vars;
	rq.user = e;
	rq.flags = HF_TX_RETRY; /* membership edits repeat safely */
	rc = hf_transport_submit(c->t, &rq, err);
	json_decref(vars);
	for (i = 0; rc == 0 && i < e->n; i++)
		hf_plan_at(c->p, e->idx[i])->started = now();
	if (rc == 0)
		c->stats->requests++;
	return rc;
}

/* Submit the next edit, if any; a failure to build it fails the phase. */
static void next_edit(struct edit_ctx *x)
{
	hf_error e = HF_ERROR_INIT;
	struct edit *ed;

	if (x->next >= x->ne)
		return;
	ed = &x->es[x->next++];
	if (submit_edit(x, ed, &e) < 0 && !x->failed++)
		x->first =
		        e; /* never sent: its changes are settled as skipped */
}

/*
 * An edit's answer: {"Relationship<Add|Remove>": {"ok": true}} exactly;
 * any other shape (ok false, null, a string, missing) is a failure
 * naming what came back, never taken as done.
 */
static void on_edit(hf_transport *t, const struct hf_tx_result *r,
                    void *payload)
{
	struct edit_ctx *x = payload;
	const struct edit *e = r->user;
	const char *field = e->add ? "RelationshipAdd" : "RelationshipRemove";
	const json_t *res = json_object_get(r->data, field);
	const char *why = hf_tx_error_message(json_array_get(r->errors, 0));

	if (r->attempts == 0 && r->rc)
		return; /* never sent (stopped): settled as skipped later */
	if (r->rc)
		edit_failed(x, e, r->err->msg);
	else if (!json_is_object(res))
		edit_failed(x, e,
		            why ? why
		                : "malformed answer: the result is not "
		                  "an object");
	else if (!json_is_true(json_object_get(res, "ok")))
		edit_failed(x, e,
		            why ? why
		            : json_is_boolean(json_object_get(res, "ok"))
		                    ? "the server did not answer ok"
		                    : "malformed answer: ok is not a boolean");
	else
		settle_members(x->c, e->idx, e->n, 0, NULL);
	if (x->failed || (x->c->o->stop && *x->c->o->stop))
		hf_transport_stop(t);
	else
		next_edit(x);
}

/* The chunk size of group edits. */
static size_t group_chunk(const struct run_ctx *c)
{
	return c->o->group_chunk > 0 ? (size_t)c->o->group_chunk
	                             : HF_APPLY_GROUP_CHUNK;
}

/* Every add, then every remove, group_chunk nodes a request. */
static int edit_members(struct run_ctx *c, const char *gid, const char *name,
                        hf_error *err)
{
	size_t np = hf_plan_count(c->p), i, n = 0, start, len;
	size_t *idx = hf_calloc(np + 1, sizeof(*idx));
	struct edit_ctx x;
	int add, rc = 0;

	memset(&x, 0, sizeof(x));
	x.c = c;
	x.gid = gid;
	x.name = name;
	x.es = hf_calloc(np + 1, sizeof(*x.es));
	if (!idx || !x.es) {
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
		goto out;
	}
	for (add = 1; add >= 0; add--) {
		start = n;
		for (i = 0; i < np; i++)
			if (membership(c, i) == (add ? 1 : -1))
				idx[n++] = i;
		for (; start < n; start += len) {
			len = n - start < group_chunk(c) ? n - start
			                                 : group_chunk(c);
			x.es[x.ne].idx = idx + start;
			x.es[x.ne].n = len;
			x.es[x.ne++].add = add;
		}
	}
	if (!x.ne)
		goto out;
	if ((rc = submit_edit(&x, &x.es[x.next++], err)) < 0)
		goto out;
	if ((rc = hf_transport_run(c->t, on_edit, &x, err)) < 0)
		goto out;
	if (x.failed)
		rc = hf_error_set(err, x.first.code ? x.first.code : HF_ESERVER,
		                  "%s", x.first.msg);
	else
		rc = stopped(c, err);
out:
	hf_free(idx);
	hf_free(x.es);
	return rc;
}

/*
 * The ownership phase: the group (made when the plan had none), what
 * joins it, what leaves it; all on the apply's branch.
 */
static int own(struct run_ctx *c, hf_error *err)
{
	char *name, *gid = NULL;
	int rc;

	if (!hf_apply_touches_group(c->p))
		return 0;
	if ((rc = stopped(c, err)) < 0)
		return rc;
	if (!(name = group_name(c->p)))
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	rc = c->gid ? 0 : ensure_group(c, name, &gid, err);
	if (rc == 0)
		rc = edit_members(c, c->gid ? c->gid : gid, name, err);
	hf_free(name);
	hf_free(gid);
	return rc;
}

/*
 * When creates can join the stack group in their own mutations
 * (joins_on_create()), the group is made, or its planned id taken, before
 * the first wave: no membership edit is then needed for them, a request
 * less per group_chunk creates, each written one after the other on the
 * group's node. A create whose Upsert meets an object made since the plan
 * sets that object's groups to the files' and the stack's; the staleness
 * check before the branch is cut looks for such objects first.
 */
static int group_first(struct run_ctx *c, hf_error *err)
{
	const struct hf_change *ch;
	char *name;
	size_t i;
	int rc;

	for (i = 0; i < hf_plan_count(c->p); i++) {
		ch = hf_plan_at(c->p, i);
		if (ch->status == HF_CH_PENDING && joins_on_create(c->s, ch))
			break;
	}
	if (i == hf_plan_count(c->p))
		return 0;
	if ((rc = stopped(c, err)) < 0)
		return rc;
	if (!(name = group_name(c->p)))
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	rc = ensure_group(c, name, &c->gid, err);
	if (rc == 0)
		c->gname = name;
	else
		hf_free(name);
	return rc;
}

/* ---- cascades ----------------------------------------------------------- */

/* The sent delete a cascade comes from (through cascades), or NULL. */
static const struct hf_change *cascade_root(const struct run_ctx *c,
                                            const struct hf_change *ch)
{
	int depth;

	for (depth = 0; ch && ch->cascade_of && depth < 64; depth++)
		ch = change_by_id(c->p, c->index, ch->cascade_of);
	return ch && !ch->cascade_of ? ch : NULL;
}

static void settle_cascade(struct run_ctx *c, struct hf_change *ch,
                           const json_t *present)
{
	const struct hf_change *root = cascade_root(c, ch);
	hf_buf b = HF_BUF_INIT;
	const json_t *e;
	size_t i;

	json_array_foreach(present, i, e)
	{
		const char *id = json_string_value(
		        json_object_get(json_object_get(e, "node"), "id"));

		if (id && !strcmp(id, ch->node_id))
			break;
	}
	ch->finished = now();
	if (i == json_array_size(present)) {
		ch->status = HF_CH_APPLIED;
		c->stats->applied++;
		c->stats->cascaded++;
		return;
	}
	hf_buf_addf(&b,
	            "still present after the delete of %s %s: the server "
	            "did not cascade",
	            root ? root->kind : "?",
	            root && root->node_id ? root->node_id : "?");
	ch->status = HF_CH_FAILED;
	hf_free(ch->error);
	ch->error = hf_buf_detach(&b);
	hf_buf_release(&b);
	c->stats->failed++;
}

/* Look the cascades of `kind` whose root was deleted up on the branch. */
static int check_cascade_kind(struct run_ctx *c, const char *kind,
                              hf_error *err)
{
	struct hf_tx_request rq = HF_TX_REQUEST_INIT;
	json_t *ids = json_array(), *vars = NULL, *data = NULL, *edges;
	struct hf_change *ch;
	hf_buf q = HF_BUF_INIT;
	size_t i;
	int rc = ids ? 0 : HF_ENOMEM;

	for (i = 0; rc == 0 && i < hf_plan_count(c->p); i++) {
		ch = hf_plan_at(c->p, i);
		if (ch->cascade_of && ch->status == HF_CH_PENDING &&
		    !strcmp(ch->kind, kind) &&
		    json_array_append_new(ids, json_string(ch->node_id)) < 0)
			rc = HF_ENOMEM;
	}
	hf_buf_addf(
	        &q,
	        "query ($ids: [ID]) { %s(ids: $ids) { edges { node { id } } } }",
	        kind);
	if (rc == 0)
		vars = json_pack("{s:O}", "ids", ids);
	if (rc < 0 || !vars || hf_buf_failed(&q)) {
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
		goto out;
	}
	rq.branch = c->o->branch;
	rq.query = q.ptr;
	rq.variables = vars;
	c->stats->requests++;
	if ((rc = hf_transport_call(c->t, &rq, &data, NULL, NULL, err)) < 0)
		goto out;
	edges = json_object_get(json_object_get(data, kind), "edges");
	if (!json_is_array(edges)) {
		rc = hf_error_set(err, HF_ESERVER,
		                  "malformed answer to the check of "
		                  "the %s cascades: no %s.edges",
		                  kind, kind);
		goto out;
	}
	for (i = 0; i < json_array_size(edges); i++) {
		const char *id = json_string_value(json_object_get(
		        json_object_get(json_array_get(edges, i), "node"),
		        "id"));

		/* a node the answer does not name cannot be taken for gone */
		if (!id || !*id) {
			rc = hf_error_set(
			        err, HF_ESERVER,
			        "malformed answer to the "
			        "check of the %s cascades: a node without "
			        "an id",
			        kind);
			goto out;
		}
	}
	for (i = 0; i < hf_plan_count(c->p); i++) {
		ch = hf_plan_at(c->p, i);
		if (ch->cascade_of && ch->status == HF_CH_PENDING &&
		    !strcmp(ch->kind, kind))
			settle_cascade(c, ch, edges);
	}
out:
	json_decref(ids);
	json_decref(vars);
	json_decref(data);
	hf_buf_release(&q);
	return rc;
}

/*
 * The cascades: those whose delete did not apply are skipped; the others
 * must be gone from the branch now.
 */
static int check_cascades(struct run_ctx *c, hf_error *err)
{
	const struct hf_change *root;
	struct hf_change *ch;
	size_t i;
	int rc = 0;

	for (i = 0; i < hf_plan_count(c->p); i++) {
		ch = hf_plan_at(c->p, i);
		root = ch->cascade_of ? cascade_root(c, ch) : NULL;
		if (!ch->cascade_of || ch->status != HF_CH_PENDING ||
		    (root && root->status == HF_CH_APPLIED))
			continue;
		ch->status = HF_CH_SKIPPED;
		hf_free(ch->error);
		ch->error = hf_strdup(
		        "skipped: the delete it cascades from did not apply");
		c->stats->skipped++;
	}
	for (i = 0; rc == 0 && i < hf_plan_count(c->p); i++) {
		ch = hf_plan_at(c->p, i);
		if (ch->cascade_of && ch->status == HF_CH_PENDING) {
			if ((rc = stopped(c, err)) == 0)
				rc = check_cascade_kind(c, ch->kind, err);
		}
	}
	return rc;
}

/* ---- the whole run ------------------------------------------------------ */

static void free_ids(char **ids, size_t n)
{
	size_t i;

	for (i = 0; ids && i < n; i++)
		hf_free(ids[i]);
	hf_free(ids);
}

int hf_apply_waves(hf_plan *p, const hf_schema *s, hf_transport *t,
                   const struct hf_apply_opts *o, struct hf_apply_stats *stats,
                   hf_error *err)
{
	struct run_ctx c = {
		p, s, t, o, stats, NULL, 0, 0, 0, NULL, NULL, NULL
	};
	size_t i;
	int rc;

	memset(stats, 0, sizeof(*stats));
	c.total = (long)hf_apply_work(p);
	c.waves = phase_waves(p, &upserts) + phase_waves(p, &deletes);
	c.created = hf_calloc(hf_plan_count(p) + 1, sizeof(*c.created));
	c.index = c.created ? index_changes(p) : NULL;
	if (!c.index) {
		hf_free(c.created);
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	rc = group_first(&c, err);
	if (rc == 0)
		rc = run_phase(&c, &upserts, err);
	if (rc == 0)
		rc = own(&c, err);
	if (rc == 0)
		rc = run_phase(&c, &deletes, err);
	if (rc == 0)
		rc = check_cascades(&c, err);
	if (rc == 0 && stats->failed)
		rc = hf_error_set(err, HF_ESERVER, "%ld change%s failed",
		                  stats->failed, stats->failed == 1 ? "" : "s");
	for (i = 0; rc != 0 && i < hf_plan_count(p); i++) {
		struct hf_change *ch = hf_plan_at(p, i);

		if ((ch->action != HF_ACT_NOOP || ch->adopt) &&
		    ch->status == HF_CH_PENDING) {
			ch->status = HF_CH_SKIPPED;
			stats->skipped++;
		}
	}
	free_ids(c.created, hf_plan_count(p));
	json_decref(c.index);
	hf_free(c.gid);
	hf_free(c.gname);
	return rc;
}
