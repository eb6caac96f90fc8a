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
#include "hf/resolve.h"
#include "hf/banned.h"

static double now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
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
	json_t *v;

	json_object_foreach(c->after, name, v)
	{
		rel = k ? hf_schema_rel_find(k, name) : NULL;
		if (json_object_set_new(types, name, json_string(
			!rel ? "attr" : rel->cardinality == HF_CARDINALITY_ONE ? "one" : "many")) < 0)
			return HF_ENOMEM;
	}
	return 0;
}

static void say(hf_fetch_diag_fn report, void *payload, const char *msg)
{
	hf_error e = HF_ERROR_INIT;

	hf_error_set(&e, HF_ECONFLICT, "%s", msg);
	if (report)
		report(payload, &e);
}

static char *ident(const struct hf_change *c)
{
	hf_buf b = HF_BUF_INIT;
	char *h = json_dumps(c->hfid, JSON_COMPACT);

	hf_buf_addf(&b, "%s %s", c->kind, h ? h : "?");
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
	json_t *was, *is;
	int n = 0;

	json_object_foreach(c->before, name, was)
	{
		const struct hf_field *f = hf_object_field(live, name);

		is = f ? hf_field_json(f) : json_null();
		if (!json_equal(was, is))
			hf_buf_addf(b, "%s%s", n++ ? ", " : " (changed: ", name);
		json_decref(is);
	}
	if (n)
		hf_buf_add(b, ")");
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
 * Every planned create must still be absent: aliased HFID lookups, PROBES to
 * a request, run concurrently.
 */
#define PROBES 500

static int check_creates(hf_plan *p, const hf_schema *s, hf_transport *t,
			 hf_fetch_diag_fn report,
			 void *payload, int *stale, hf_error *err)
{
	size_t n = hf_plan_count(p), i, k, ncalls = 0, *idx;
	struct hf_gql_call *calls;
	char **texts, name[32], *who, msg[700];
	hf_buf q = HF_BUF_INIT, head = HF_BUF_INIT;
	struct hf_change *ch;
	json_t *vars = NULL, *hit;
	int rc = 0;

	idx = hf_calloc(n + 1, sizeof(*idx));
	calls = hf_calloc(n / PROBES + 2, sizeof(*calls));
	texts = hf_calloc(n / PROBES + 2, sizeof(*texts));
	if (!idx || !calls || !texts) {
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0, k = 0; i <= n; i++) {
		ch = i < n ? hf_plan_at(p, i) : NULL;
		/* an unkeyed kind cannot be looked up by HFID: nothing to probe */
		if (ch && (ch->action != HF_ACT_CREATE ||
			   hf_resolve_unkeyed(s, ch->kind)))
			continue;
		if (ch) {
			if (!vars && !(vars = json_object())) {
				rc = hf_error_set(err, HF_ENOMEM, "out of memory");
				goto out;
			}
			idx[i] = k;
			hf_buf_addf(&head, "%s$h%zu: [String]", head.len ? ", " : "", i);
			hf_buf_addf(&q, " a%zu: %s(hfid: $h%zu) { count }", i, ch->kind, i);
			snprintf(name, sizeof(name), "h%zu", i);
			if (json_object_set(vars, name, ch->hfid) < 0) {
				rc = hf_error_set(err, HF_ENOMEM, "out of memory");
				goto out;
			}
			k++;
		}
		if (vars && (!ch || k % PROBES == 0)) {
			hf_buf b = HF_BUF_INIT;

			hf_buf_addf(&b, "query (%s) {%s }", head.ptr, q.ptr);
			texts[ncalls] = hf_buf_failed(&q) || hf_buf_failed(&head) ?
						NULL : hf_buf_detach(&b);
			hf_buf_release(&b);
			if (!texts[ncalls]) {
				rc = hf_error_set(err, HF_ENOMEM, "out of memory");
				goto out;
			}
			calls[ncalls].query = texts[ncalls];
			calls[ncalls].vars = vars;
			ncalls++;
			vars = NULL;
			hf_buf_reset(&q);
			hf_buf_reset(&head);
		}
	}
	rc = ncalls ? hf_transport_batch(t, calls, ncalls, err) : 0;
	for (i = 0; rc == 0 && i < ncalls; i++)
		if (calls[i].rc < 0) {
			*err = calls[i].err;
			rc = calls[i].rc;
		}
	for (i = 0; rc == 0 && i < n; i++) {
		ch = hf_plan_at(p, i);
		if (ch->action != HF_ACT_CREATE)
			continue;
		snprintf(name, sizeof(name), "a%zu", i);
		hit = json_object_get(calls[idx[i] / PROBES].data, name);
		if (json_integer_value(json_object_get(hit, "count")) > 0) {
			who = ident(ch);
			snprintf(msg, sizeof(msg), "%s: planned as a create, but it exists now",
				 who ? who : ch->kind);
			hf_free(who);
			say(report, payload, msg);
			*stale = 1;
		}
	}
out:
	for (i = 0; calls && i < ncalls; i++) {
		hf_free(texts[i]);
		json_decref(calls[i].vars);
		json_decref(calls[i].data);
		json_decref(calls[i].errors);
	}
	json_decref(vars);
	hf_free(calls);
	hf_free(texts);
	hf_free(idx);
	hf_buf_release(&q);
	hf_buf_release(&head);
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
	struct hf_object names;
	struct hf_field f;
	const char *key;
	json_t *v;
	int rc = 0;

	memset(&names, 0, sizeof(names));
	json_object_foreach(c->after, key, v)
	{
		memset(&f, 0, sizeof(f));
		f.name = hf_strdup(key);
		if (!f.name || hf_object_add_field(&names, &f) < 0)
			rc = HF_ENOMEM;
	}
	if (rc == 0)
		rc = hf_diff_fingerprint(out, live, &names);
	hf_object_release(&names);
	return rc;
}

int hf_apply_check_stale(hf_plan *p, const hf_schema *s, hf_transport *t,
			 hf_fetch_diag_fn report, void *payload, hf_error *err)
{
	hf_objset *live = NULL;
	struct hf_change *ch;
	char fp[65], *who;
	hf_buf msg = HF_BUF_INIT;
	long at;
	size_t i, j;
	int rc, stale = 0;

	if (hf_objset_new(&live) < 0)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	for (i = 0, rc = 0; rc == 0 && i < hf_plan_count(p); i++) {
		ch = hf_plan_at(p, i);
		for (j = 0; j < i; j++)
			if (!strcmp(hf_plan_at(p, j)->kind, ch->kind))
				break;
		if (j == i)
			rc = check_kind(p, s, t, ch->kind, live, err);
	}
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
			hf_buf_addf(&msg, "%s: deleted since the plan was made", who);
		} else if (fingerprint_of(fp, hf_objset_at(live, (size_t)at), ch) == 0 &&
			   strcmp(fp, ch->fingerprint)) {
			hf_buf_addf(&msg, "%s: changed in Infrahub since the plan was made", who);
			describe_change(&msg, ch, hf_objset_at(live, (size_t)at));
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
	hf_buf_release(&msg);
	hf_objset_free(live);
	if (rc == 0 && stale)
		rc = hf_error_set(err, HF_ECONFLICT, "the plan is stale");
	return rc;
}

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
};

static const char *alias_error(const json_t *errors, const char *alias)
{
	const json_t *e;
	size_t i;

	json_array_foreach(errors, i, e)
	{
		const char *p0 = json_string_value(json_array_get(json_object_get(e, "path"), 0));

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
	json_t *v;

	hf_buf_add(&b, why);
	json_object_foreach(ch->after, key, v)
	{
		sv = json_string_value(hf_value_sensitive_get(v));
		if (sv && *sv && !hf_buf_failed(&b))
			hide(&b, sv);
	}
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

static void on_done(hf_transport *t, const struct hf_tx_result *r,
		    void *payload)
{
	struct wave_ctx *w = payload;
	struct batch *b = r->user;
	char alias[32];
	json_t *res;
	size_t i;

	for (i = 0; i < b->n; i++) {
		snprintf(alias, sizeof(alias), "c%zu", i);
		res = r->rc == 0 ? json_object_get(r->data, alias) : NULL;
		settle(w, hf_plan_at(w->p, b->idx[i]),
		       res && json_is_true(json_object_get(res, "ok")),
		       r->attempts > 0,
		       r->rc ? r->err->msg : alias_error(r->errors, alias));
	}
	if ((w->failed && !w->keep_going) || (w->stop && *w->stop))
		hf_transport_stop(t);
}

/* ---- building mutations ------------------------------------------------ */

/*
 * Every builder returns a new reference, or NULL when any part of it could
 * not be allocated: a mutation is sent whole or not at all.
 */
static json_t *ref_input(const hf_schema *s, const json_t *ref, const char *peer)
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
		if (json_array_append_new(list, ref_input(s, e, rel->peer)) < 0) {
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
	return json_object_set_new(data, name, field_input(s, k, name, v)) < 0 ?
		       HF_ENOMEM : 0;
}

static json_t *mutation_input(const hf_schema *s, const struct hf_change *c)
{
	const hf_kind *k = hf_schema_kind(s, c->kind);
	json_t *data = json_object(), *v;
	const char *name;
	size_t i;
	int rc = data ? 0 : HF_ENOMEM;

	if (!k || rc < 0)
		return data;
	if (c->action == HF_ACT_UPDATE) {
		if (json_object_set_new(data, "id", json_string(c->node_id)) < 0)
			rc = HF_ENOMEM;
		for (i = 0; rc == 0 && i < json_array_size(c->changed); i++) {
			name = json_string_value(json_array_get(c->changed, i));
			rc = set_field(data, s, k, name, json_object_get(c->after, name));
		}
	} else {
		json_object_foreach(c->after, name, v)
		{
			if (rc == 0)
				rc = set_field(data, s, k, name, v);
		}
	}
	if (rc < 0) {
		json_decref(data);
		return NULL;
	}
	return data;
}

/*
 * The mutation of each action: creates are Upserts keyed by HFID, updates
 * go by id. A later delete action adds its verb here and a phase below.
 */
static const char *verb(enum hf_action a)
{
	return a == HF_ACT_CREATE ? "Upsert" : "Update";
}

/*
 * Build the whole request for batch `b`, then submit it: on any failure
 * nothing is submitted.
 */
static int submit_batch(hf_plan *p, const hf_schema *s, hf_transport *t,
			const struct hf_apply_opts *o, struct batch *b,
			hf_error *err)
{
	struct hf_tx_request rq = HF_TX_REQUEST_INIT;
	hf_buf q = HF_BUF_INIT, head = HF_BUF_INIT;
	json_t *vars = json_object();
	struct hf_change *ch;
	char name[32];
	size_t i;
	int rc = vars ? 0 : HF_ENOMEM;

	for (i = 0; rc == 0 && i < b->n; i++) {
		ch = hf_plan_at(p, b->idx[i]);
		hf_buf_addf(&head, "%s$d%zu: %s%sInput!", i ? ", " : "", i, ch->kind,
			    verb(ch->action));
		hf_buf_addf(&q, " c%zu: %s%s(data: $d%zu) { ok object { id } }", i,
			    ch->kind, verb(ch->action), i);
		snprintf(name, sizeof(name), "d%zu", i);
		if (json_object_set_new(vars, name, mutation_input(s, ch)) < 0)
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
		rq.branch = o->branch;
		rq.query = q.ptr;
		rq.variables = vars;
		rq.user = b;
		/* Upserts keyed by HFID and updates by id repeat safely. */
		rq.flags = HF_TX_RETRY;
		rc = hf_transport_submit(t, &rq, err);
	}
	for (i = 0; rc == 0 && i < b->n; i++)
		hf_plan_at(p, b->idx[i])->started = now();
	b->sent = rc == 0;
	hf_buf_release(&q);
	hf_buf_release(&head);
	json_decref(vars);
	return rc;
}

/* Whether a change this one depends on failed or was skipped. */
static int deps_failed(const hf_plan *p, const struct hf_change *ch)
{
	const struct hf_change *d;
	size_t i;

	for (i = 0; i < json_array_size(ch->deps); i++) {
		d = hf_plan_find(p, json_string_value(json_array_get(ch->deps, i)));
		if (d && (d->status == HF_CH_FAILED || d->status == HF_CH_SKIPPED))
			return 1;
	}
	return 0;
}

/* ---- phases and waves -------------------------------------------------- */

/*
 * The changes run in phases, each over the plan's waves: creates and
 * updates first, in dependency order. Deletes (prune) will be a second
 * phase, in reverse waves, so that a referencing object goes before the
 * object it references.
 */
struct phase {
	int (*wants)(const struct hf_change *c);
	int reverse;
};

static int is_upsert(const struct hf_change *c)
{
	return c->action == HF_ACT_CREATE || c->action == HF_ACT_UPDATE;
}

static const struct phase phases[] = {
	{ is_upsert, 0 },
};

#define NPHASES (sizeof(phases) / sizeof(phases[0]))

/* The changes of wave `wave` that `ph` runs, into idx; skips marked. */
static size_t wave_changes(hf_plan *p, const struct phase *ph, int wave,
			   size_t *idx, struct hf_apply_stats *stats)
{
	size_t i, n = 0;

	for (i = 0; i < hf_plan_count(p); i++) {
		struct hf_change *ch = hf_plan_at(p, i);

		if (ch->wave != wave || !ph->wants(ch))
			continue;
		if (deps_failed(p, ch)) {
			ch->status = HF_CH_SKIPPED;
			hf_free(ch->error);
			ch->error = hf_strdup("skipped: a change it depends on did not apply");
			stats->skipped++;
			continue;
		}
		idx[n++] = i;
	}
	return n;
}

static int run_wave(hf_plan *p, const hf_schema *s, hf_transport *t,
		    const struct hf_apply_opts *o, const struct phase *ph,
		    int wave, struct hf_apply_stats *stats, hf_error *err)
{
	struct wave_ctx w = { p, stats, 0, o->stop, o->keep_going };
	struct batch *bs = hf_calloc(hf_plan_count(p) + 1, sizeof(*bs));
	size_t *idx = hf_calloc(hf_plan_count(p) + 1, sizeof(*idx));
	size_t n, nb = 0, start;
	int rc = 0;

	if (!bs || !idx) {
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
		goto out;
	}
	n = wave_changes(p, ph, wave, idx, stats);
	for (start = 0; rc == 0 && start < n; start += (size_t)o->batch_size) {
		bs[nb].idx = idx + start;
		bs[nb].n = n - start < (size_t)o->batch_size ? n - start : (size_t)o->batch_size;
		rc = submit_batch(p, s, t, o, &bs[nb++], err);
	}
	if (rc < 0) {
		/* a wave is sent whole or not at all */
		hf_transport_drop(t);
		goto out;
	}
	stats->requests += (long)nb;
	if (nb)
		rc = hf_transport_run(t, on_done, &w, err);
	if (rc == 0 && w.failed && !o->keep_going)
		rc = hf_error_set(err, HF_ESERVER, "%ld change%s failed", stats->failed,
				  stats->failed == 1 ? "" : "s");
out:
	hf_free(bs);
	hf_free(idx);
	return rc;
}

/* Waves of the phase that have something to run, in the phase's order. */
static int phase_waves(const hf_plan *p, const struct phase *ph)
{
	size_t i;

	for (i = 0; i < hf_plan_count(p); i++)
		if (ph->wants(hf_plan_at(p, i)))
			return hf_plan_waves(p);
	return 0;
}

int hf_apply_waves(hf_plan *p, const hf_schema *s, hf_transport *t,
		   const struct hf_apply_opts *o, struct hf_apply_stats *stats,
		   hf_error *err)
{
	int w, n, waves = 0, done = 0, rc = 0;
	long total = 0;
	size_t i, ph;

	memset(stats, 0, sizeof(*stats));
	for (i = 0; i < hf_plan_count(p); i++)
		total += hf_plan_at(p, i)->action != HF_ACT_NOOP;
	for (ph = 0; ph < NPHASES; ph++)
		waves += phase_waves(p, &phases[ph]);
	for (ph = 0; rc == 0 && ph < NPHASES; ph++) {
		n = phase_waves(p, &phases[ph]);
		for (w = 0; rc == 0 && w < n; w++) {
			if (o->stop && *o->stop) {
				rc = hf_error_set(err, HF_ERR, "interrupted");
				break;
			}
			rc = run_wave(p, s, t, o, &phases[ph],
				      phases[ph].reverse ? n - 1 - w : w, stats, err);
			if (rc == 0 && o->stop && *o->stop)
				rc = hf_error_set(err, HF_ERR, "interrupted");
			if (o->progress && o->progress(o->payload, ++done, waves,
						       stats->applied, total) && rc == 0)
				rc = hf_error_set(err, HF_ERR, "stopped");
		}
	}
	if (rc == 0 && stats->failed)
		rc = hf_error_set(err, HF_ESERVER, "%ld change%s failed", stats->failed,
				  stats->failed == 1 ? "" : "s");
	for (i = 0; rc != 0 && i < hf_plan_count(p); i++) {
		struct hf_change *ch = hf_plan_at(p, i);

		if (ch->action != HF_ACT_NOOP && ch->status == HF_CH_PENDING) {
			ch->status = HF_CH_SKIPPED;
			stats->skipped++;
		}
	}
	return rc;
}
