/*
 * Plan model: changes, dependency waves, checksum, JSON form. No I/O.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "hf/alloc.h"
#include "hf/array.h"
#include "hf/buf.h"
#include "hf/hex.h"
#include "hf/plan.h"
#include "hf/jsontext.h"
#include "hf/sha256.h"
#include "hf/banned.h"

/*
 * Changes live in chunks of PLAN_CHUNK (15 KB), allocated as the plan
 * grows: a change never moves once added, and a large plan never needs
 * one block of its whole size (a million changes are 230 MB) while the
 * objects it is made from are still alive, nor a copy of it to grow; a
 * chunk this small fits in the memory the diff gives back as it frees
 * the objects' fields (chunks of 4096 changes left a 100k plan's peak
 * 11 MB higher).
 */
#define PLAN_CHUNK 64

struct hf_plan {
	struct hf_plan_meta meta;
	struct hf_change **chunks;
	size_t nchunks, chunks_cap;
	size_t n;
	size_t *by_id; /* from hf_plan_finish() until the next add */
};

static struct hf_change *at(const hf_plan *p, size_t i)
{
	return &p->chunks[i / PLAN_CHUNK][i % PLAN_CHUNK];
}

#define N_ACTIONS 5
static const char *const action_names[N_ACTIONS] = { "no-op", "create",
	                                             "update", "delete",
	                                             "forget" };
static const char *const status_names[] = { "pending", "applied", "failed",
	                                    "skipped" };

const char *hf_action_str(enum hf_action a)
{
	return (unsigned)a < N_ACTIONS ? action_names[a] : "?";
}

const char *hf_change_status_str(enum hf_change_status s)
{
	return (unsigned)s < 4 ? status_names[s] : "?";
}

int hf_change_status_parse(const char *s, enum hf_change_status *out)
{
	int i;

	for (i = 0; i < 4; i++) {
		if (!strcmp(s, status_names[i])) {
			*out = (enum hf_change_status)i;
			return 0;
		}
	}
	return HF_EINVAL;
}

static int parse_action(const char *s, enum hf_action *out)
{
	int i;

	for (i = 0; i < N_ACTIONS; i++) {
		if (s && !strcmp(s, action_names[i])) {
			*out = (enum hf_action)i;
			return 0;
		}
	}
	return HF_EINVAL;
}

int hf_action_parse(const char *s, enum hf_action *out)
{
	return parse_action(s, out);
}

static void now_iso(char out[32])
{
	struct timeval tv;
	struct tm tm;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	if (strftime(out, 20, "%Y-%m-%dT%H:%M:%S", &tm) != 19)
		out[0] = '\0';
	else
		snprintf(out + 19, 13, ".%06ldZ", (long)tv.tv_usec % 1000000L);
}

int hf_plan_new(hf_plan **out, const char *address, const char *branch,
                hf_error *err)
{
	hf_plan *p;

	*out = NULL;
	p = hf_calloc(1, sizeof(*p));
	if (!p)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	p->meta.address = hf_strdup(address ? address : "");
	p->meta.branch = hf_strdup(branch ? branch : "main");
	p->meta.stack = hf_strdup("default");
	if (!p->meta.address || !p->meta.branch || !p->meta.stack) {
		hf_plan_free(p);
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	snprintf(p->meta.status, sizeof(p->meta.status), "planned");
	now_iso(p->meta.created_at);
	*out = p;
	return 0;
}

void hf_change_release(struct hf_change *c)
{
	hf_free(c->kind);
	hf_free(c->node_id);
	hf_free(c->error);
	hf_free(c->cascade_of);
	json_decref(c->sources);
	json_decref(c->hfid);
	json_decref(c->before);
	json_decref(c->after);
	json_decref(c->changed);
	json_decref(c->deps);
	hf_free(c->text);
	memset(c, 0, sizeof(*c));
}

json_t *hf_change_after_json(const struct hf_change *c)
{
	if (c->after)
		return json_incref(c->after);
	return c->text ? json_loads(c->text, JSON_REJECT_DUPLICATES, NULL)
	               : NULL;
}

int hf_change_is_text(const struct hf_change *c)
{
	return c->text && !c->after;
}

int hf_change_expand(struct hf_change *c)
{
	json_t *t;

	if (!hf_change_is_text(c))
		return 0;
	t = hf_change_after_json(c);
	if (!t)
		return HF_ENOMEM; /* the text is the diff's own: never bad */
	json_decref(c->before);
	c->after = t;
	c->before = json_incref(t);
	hf_free(c->text);
	c->text = NULL;
	return 0;
}

int hf_plan_expand(hf_plan *p)
{
	size_t i;
	int rc;

	for (i = 0; i < p->n; i++)
		if ((rc = hf_change_expand(at(p, i))) < 0)
			return rc;
	return 0;
}

void hf_plan_free(hf_plan *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n; i++)
		hf_change_release(at(p, i));
	for (i = 0; i < p->nchunks; i++)
		hf_free(p->chunks[i]);
	hf_free(p->chunks);
	hf_free(p->by_id);
	hf_free(p->meta.address);
	hf_free(p->meta.branch);
	hf_free(p->meta.stack);
	hf_free(p->meta.group_id);
	hf_free(p);
}

int hf_plan_set_stack(hf_plan *p, const char *stack, const char *group_id,
                      hf_error *err)
{
	char *s = hf_strdup(stack ? stack : "default");
	char *g = group_id ? hf_strdup(group_id) : NULL;

	if (!s || (group_id && !g)) {
		hf_free(s);
		hf_free(g);
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	hf_free(p->meta.stack);
	hf_free(p->meta.group_id);
	p->meta.stack = s;
	p->meta.group_id = g;
	return 0;
}

int hf_plan_change_id(char out[17], enum hf_action a, const char *kind,
                      const json_t *hfid)
{
	hf_buf b = HF_BUF_INIT;
	char hex[65];
	size_t at;
	int rc = 0;

	hf_buf_addf(&b, "%s", hf_action_str(a));
	hf_buf_addch(&b, '\0');
	hf_buf_add(&b, kind ? kind : "");
	hf_buf_addch(&b, '\0');
	at = b.len;
	if (hfid)
		rc = hf_json_write(&b, hfid, 0);
	/* what json_dumps() gave for no or no printable value: "null" */
	if (!hfid || rc == HF_EINVAL) {
		hf_buf_setlen(&b, at);
		hf_buf_add(&b, "null");
		rc = 0;
	}
	if (rc == 0 && hf_buf_failed(&b))
		rc = HF_ENOMEM;
	if (rc == 0) {
		hf_sha256_hex(b.ptr, b.len, hex);
		memcpy(out, hex, 16);
	}
	out[rc == 0 ? 16 : 0] = '\0';
	hf_buf_release(&b);
	return rc;
}

/* A delete or forget of an object without an HFID is known by its id. */
static int change_id(struct hf_change *c)
{
	json_t *key;
	int rc;

	if (c->hfid || !c->node_id ||
	    (c->action != HF_ACT_DELETE && c->action != HF_ACT_FORGET))
		return hf_plan_change_id(c->id, c->action, c->kind, c->hfid);
	key = json_string(c->node_id);
	rc = key ? hf_plan_change_id(c->id, c->action, c->kind, key)
	         : HF_ENOMEM;
	json_decref(key);
	return rc;
}

int hf_change_sources(const struct hf_change *c, json_t **out)
{
	*out = NULL;
	if (c->sources)
		*out = json_incref(c->sources);
	else if (c->src_file)
		*out = json_pack("[{s:s, s:i}]", "file", c->src_file, "line",
		                 c->src_line);
	else
		return 0;
	return *out ? 0 : HF_ENOMEM;
}

/*
 * ,"line":N}] by hand: a save writes it for every change, and printf's
 * machinery was a tenth of a large plan's save.
 */
static void add_line(hf_buf *b, int line)
{
	char digits[12];
	unsigned v = line < 0 ? 0U - (unsigned)line : (unsigned)line;
	size_t i = sizeof(digits);

	do
		digits[--i] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	if (line < 0)
		digits[--i] = '-';
	hf_buf_add(b, ",\"line\":");
	hf_buf_addn(b, digits + i, sizeof(digits) - i);
	hf_buf_add(b, "}]");
}

/*
 * The same array's text, appended to `b` without building it: 1 when
 * written, 0 when there are none, or what hf_json_write() or
 * hf_change_sources() fail with (HF_ENOMEM also for a file name that is
 * not UTF-8, which json_pack() refuses). "file" comes before "line" in
 * both key orders.
 */
int hf_change_sources_write(const struct hf_change *c, hf_buf *b, int flags)
{
	int rc;

	if (c->sources) {
		rc = hf_json_write(b, c->sources, flags);
		return rc < 0 ? rc : 1;
	}
	if (!c->src_file)
		return 0;
	hf_buf_add(b, "[{\"file\":");
	if (hf_json_write_string(b, c->src_file, strlen(c->src_file)) < 0)
		return HF_ENOMEM;
	add_line(b, c->src_line);
	return hf_buf_failed(b) ? HF_ENOMEM : 1;
}

/* Room for one more change: 0 or HF_ENOMEM. */
static int room(hf_plan *p)
{
	struct hf_change *chunk;

	if (p->n < p->nchunks * PLAN_CHUNK)
		return 0;
	if (HF_ARRAY_GROW(p->chunks, p->chunks_cap, p->nchunks + 1) < 0)
		return HF_ENOMEM;
	chunk = hf_calloc(PLAN_CHUNK, sizeof(*chunk));
	if (!chunk)
		return HF_ENOMEM;
	p->chunks[p->nchunks++] = chunk;
	return 0;
}

int hf_plan_add(hf_plan *p, struct hf_change *c, hf_error *err)
{
	if (room(p) < 0) {
		hf_change_release(c);
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	if (!c->changed)
		c->changed = json_array();
	if (!c->deps)
		c->deps = json_array();
	if (!c->changed || !c->deps || change_id(c) < 0) {
		hf_change_release(c);
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	*at(p, p->n) = *c;
	p->n++;
	hf_free(p->by_id);
	p->by_id = NULL;
	memset(c, 0, sizeof(*c));
	return 0;
}

size_t hf_plan_count(const hf_plan *p)
{
	return p->n;
}

struct hf_change *hf_plan_at(const hf_plan *p, size_t i)
{
	return i < p->n ? at(p, i) : NULL;
}

struct hf_change *hf_plan_find(const hf_plan *p, const char *id)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (!strcmp(at(p, i)->id, id))
			return at(p, i);
	return NULL;
}

struct hf_plan_meta *hf_plan_meta(hf_plan *p)
{
	return &p->meta;
}

const struct hf_plan_meta *hf_plan_meta_c(const hf_plan *p)
{
	return &p->meta;
}

int hf_plan_waves(const hf_plan *p)
{
	int w = -1;
	size_t i;

	for (i = 0; i < p->n; i++)
		if (at(p, i)->wave > w)
			w = at(p, i)->wave;
	return w + 1;
}

/*
 * Index of change `id` among the plan's changes, by binary search on a
 * sorted index array; -1 when unknown. Each entry carries the id's first
 * eight bytes as a number (big-endian: numbers compare as strcmp compares
 * those bytes), so sorting a million changes compares integers, not
 * strings read all over the plan's memory; only equal prefixes compare
 * the strings.
 */
struct idx {
	uint64_t key;
	const char *id;
	size_t at;
};

static uint64_t id_key(const char *id)
{
	uint64_t k = 0;
	int i;

	for (i = 0; i < 8; i++) {
		k <<= 8;
		if (*id)
			k |= (unsigned char)*id++;
	}
	return k;
}

static int idx_cmp(const void *a, const void *b)
{
	const struct idx *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return strcmp(x->id, y->id);
}

static long idx_find(const struct idx *ix, size_t n, const char *id)
{
	struct idx key = { id_key(id), id, 0 };
	const struct idx *r = bsearch(&key, ix, n, sizeof(*ix), idx_cmp);

	return r ? (long)r->at : -1;
}

/* The changes' index, sorted by id; NULL when out of memory. */
static struct idx *sorted_index(const hf_plan *p)
{
	struct idx *ix = hf_calloc(p->n ? p->n : 1, sizeof(*ix));
	size_t i;

	if (!ix)
		return NULL;
	for (i = 0; i < p->n; i++) {
		ix[i].id = at(p, i)->id;
		ix[i].key = id_key(ix[i].id);
		ix[i].at = i;
	}
	qsort(ix, p->n, sizeof(*ix), idx_cmp);
	return ix;
}

static size_t *order_of(const struct idx *ix, size_t n)
{
	size_t *o = hf_calloc(n ? n : 1, sizeof(*o));
	size_t i;

	for (i = 0; o && i < n; i++)
		o[i] = ix[i].at;
	return o;
}

const size_t *hf_plan_by_id(const hf_plan *p)
{
	return p->by_id;
}

size_t *hf_plan_sort_by_id(const hf_plan *p)
{
	struct idx *ix = sorted_index(p);
	size_t *o = ix ? order_of(ix, p->n) : NULL;

	hf_free(ix);
	return o;
}

static int cycle_error(const hf_plan *p, const int *done, hf_error *err)
{
	hf_buf b = HF_BUF_INIT;
	size_t i, shown = 0;
	char *h;
	int rc;

	for (i = 0; i < p->n && shown < 5; i++) {
		if (done[i])
			continue;
		h = json_dumps(at(p, i)->hfid, JSON_COMPACT | JSON_ENCODE_ANY);
		hf_buf_addf(&b, "%s%s %s", shown ? ", " : "", at(p, i)->kind,
		            h ? h : "?");
		hf_free(h);
		shown++;
	}
	rc = hf_error_set(err, HF_EINVAL, "dependency cycle between %s",
	                  hf_buf_failed(&b) ? "objects" : b.ptr);
	hf_buf_release(&b);
	return rc;
}

/*
 * Waves by repeated relaxation: a change's wave is one more than its
 * deepest dependency. n passes at most; anything still unsettled after
 * that sits on a cycle.
 */
static int assign_waves(hf_plan *p, const struct idx *ix, hf_error *err)
{
	int *done = hf_calloc(p->n ? p->n : 1, sizeof(int));
	size_t i, j, settled = 0, pass;
	int rc = 0, w, ok;
	long d;

	if (!done)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	for (pass = 0; settled < p->n && pass <= p->n; pass++) {
		for (i = 0; i < p->n; i++) {
			if (done[i])
				continue;
			w = 0;
			ok = 1;
			for (j = 0; j < json_array_size(at(p, i)->deps); j++) {
				d = idx_find(ix, p->n,
				             json_string_value(json_array_get(
				                     at(p, i)->deps, j)));
				if (!done[d]) {
					ok = 0;
					break;
				}
				if (at(p, d)->wave + 1 > w)
					w = at(p, d)->wave + 1;
			}
			if (ok) {
				at(p, i)->wave = w;
				done[i] = 1;
				settled++;
			}
		}
	}
	if (settled < p->n)
		rc = cycle_error(p, done, err);
	hf_free(done);
	return rc;
}

static int check_deps(const hf_plan *p, const struct idx *ix, hf_error *err)
{
	const char *d;
	size_t i, j;

	for (i = 0; i < p->n; i++) {
		for (j = 0; j < json_array_size(at(p, i)->deps); j++) {
			d = json_string_value(
			        json_array_get(at(p, i)->deps, j));
			if (!d || idx_find(ix, p->n, d) < 0)
				return hf_error_set(
				        err, HF_EINVAL,
				        "change %s depends on unknown change '%s'",
				        at(p, i)->id, d ? d : "?");
		}
	}
	return 0;
}

static void count(hf_plan *p)
{
	struct hf_plan_meta *m = &p->meta;
	size_t i;

	m->n_create = m->n_update = m->n_noop = 0;
	m->n_delete = m->n_forget = m->n_adopt = 0;
	for (i = 0; i < p->n; i++) {
		switch (at(p, i)->action) {
		case HF_ACT_CREATE:
			m->n_create++;
			break;
		case HF_ACT_UPDATE:
			m->n_update++;
			break;
		case HF_ACT_DELETE:
			m->n_delete++;
			break;
		case HF_ACT_FORGET:
			m->n_forget++;
			break;
		case HF_ACT_NOOP:
		default:
			m->n_noop++;
			break;
		}
		if (at(p, i)->adopt)
			m->n_adopt++;
	}
}

int hf_plan_has_changes(const hf_plan *p)
{
	const struct hf_plan_meta *m = &p->meta;

	return m->n_create || m->n_update || m->n_delete || m->n_forget ||
	       m->n_adopt;
}

static int finish(hf_plan *p, int summed, hf_error *err);

int hf_plan_finish(hf_plan *p, hf_error *err)
{
	return finish(p, 1, err);
}

int hf_plan_finish_unsummed(hf_plan *p, hf_error *err)
{
	return finish(p, 0, err);
}

void hf_plan_set_checksum(hf_plan *p, const char sum[65])
{
	memcpy(p->meta.checksum, sum, 65);
	p->meta.checksum[64] = '\0';
}

static int finish(hf_plan *p, int summed, hf_error *err)
{
	struct idx *ix = sorted_index(p);
	size_t i;
	int rc;

	hf_free(p->by_id);
	p->by_id = NULL;
	if (!ix)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	for (i = 1; i < p->n; i++) {
		/* different first bytes: different ids, the strings unread */
		if (ix[i].key == ix[i - 1].key &&
		    !strcmp(ix[i].id, ix[i - 1].id)) {
			rc = hf_error_set(err, HF_EINVAL,
			                  "two changes share the id %s",
			                  ix[i].id);
			goto out;
		}
	}
	rc = check_deps(p, ix, err);
	if (rc == 0)
		rc = assign_waves(p, ix, err);
	if (rc < 0)
		goto out;
	count(p);
	p->meta.checksum[0] = '\0';
	/* unsummed: an id of 48 random bits, the checksum comes later */
	if (!summed && hf_random_hex(p->meta.id, HF_PLAN_ID_LEN / 2) == 0)
		goto done;
	rc = hf_plan_compute_checksum(p, p->meta.checksum);
	if (rc < 0) {
		rc = hf_error_set(err, rc, "out of memory");
		goto out;
	}
	memcpy(p->meta.id, p->meta.checksum, HF_PLAN_ID_LEN);
	p->meta.id[HF_PLAN_ID_LEN] = '\0';
done:
	p->by_id = order_of(ix, p->n); /* NULL: the store sorts again */
out:
	hf_free(ix);
	return rc;
}

/*
 * The reviewed content only: what apply will do, not how it went. The
 * ownership fields are there only where they differ from what a plan
 * made before stacks existed means (adopt 0, no cascade, no sources), so
 * that such a plan's checksum still verifies.
 */
static json_t *change_content(const struct hf_change *c)
{
	json_t *t = hf_change_is_text(c) ? hf_change_after_json(c) : NULL;
	json_t *j, *src;

	if (hf_change_is_text(c) && !t)
		return NULL;
	j = json_pack(
	        "{s:s, s:s, s:s, s:O?, s:s?, s:O?, s:O?, s:O, s:O, s:i, s:s}",
	        "id", c->id, "action", hf_action_str(c->action), "kind",
	        c->kind, "hfid", c->hfid, "node_id", c->node_id, "before",
	        t ? t : c->before, "after", t ? t : c->after, "changed",
	        c->changed, "deps", c->deps, "wave", c->wave, "fingerprint",
	        c->fingerprint);
	json_decref(t);

	if (!j)
		return NULL;
	if ((c->adopt && json_object_set_new(j, "adopt", json_true()) < 0) ||
	    (c->cascade_of &&
	     json_object_set_new(j, "cascade_of", json_string(c->cascade_of)) <
	             0) ||
	    hf_change_sources(c, &src) < 0 ||
	    (src && json_object_set_new(j, "sources", src) < 0)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* As change_content: the stack fields only where not the defaults. */
static json_t *meta_content(const struct hf_plan_meta *m)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "created_at",
	                      m->created_at, "address", m->address, "branch",
	                      m->branch, "schema_hash", m->schema_hash,
	                      "manifest_digest", m->manifest_digest);

	if (!j)
		return NULL;
	if ((m->stack && strcmp(m->stack, "default") &&
	     json_object_set_new(j, "stack", json_string(m->stack)) < 0) ||
	    (m->group_id &&
	     json_object_set_new(j, "group_id", json_string(m->group_id)) <
	             0) ||
	    (m->partial &&
	     json_object_set_new(j, "partial", json_true()) < 0)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/*
 * SHA-256 over the canonical JSON of the meta part, then of each change's
 * reviewed content in order, streamed so that a large plan is never
 * serialised whole.
 */
static int hash_json(struct hf_sha256 *h, hf_buf *b, json_t *j)
{
	int rc;

	hf_buf_reset(b);
	rc = j ? hf_json_write(b, j, HF_JSON_SORTED) : HF_ENOMEM;
	json_decref(j);
	if (rc < 0)
		return rc;
	hf_sha256_update(h, b->ptr, b->len + 1);
	return 0;
}

/* `key` then the canonical text of `j`, or null when `j` is NULL. */
static int put_json(hf_buf *b, const char *key, const json_t *j)
{
	hf_buf_add(b, key);
	if (!j)
		return hf_buf_add(b, "null") < 0 ? HF_ENOMEM : 0;
	return hf_json_write(b, j, HF_JSON_SORTED);
}

static int put_str(hf_buf *b, const char *key, const char *s)
{
	hf_buf_add(b, key);
	if (!s)
		return hf_buf_add(b, "null") < 0 ? HF_ENOMEM : 0;
	return hf_json_write_string(b, s, strlen(s));
}

/*
 * The text hash_json(change_content(c)) hashes, written without building
 * the tree: the same keys in sorted order (test_plan compares the two).
 */
static int change_text(hf_buf *b, const struct hf_change *c)
{
	size_t mark;
	int rc;

	/* change_content() cannot pack a change without these */
	if (!c->kind || !c->changed || !c->deps)
		return HF_ENOMEM;
	hf_buf_reset(b);
	if ((rc = put_str(b, "{\"action\":", hf_action_str(c->action))) < 0)
		return rc;
	if (c->adopt && hf_buf_add(b, ",\"adopt\":true") < 0)
		return HF_ENOMEM;
	if (hf_change_is_text(c)) {
		/* a no-op in text form: after and before are the text */
		hf_buf_add(b, ",\"after\":");
		hf_buf_add(b, c->text);
		hf_buf_add(b, ",\"before\":");
		hf_buf_add(b, c->text);
	} else if ((rc = put_json(b, ",\"after\":", c->after)) < 0 ||
	           (rc = put_json(b, ",\"before\":", c->before)) < 0) {
		return rc;
	}
	if (c->cascade_of &&
	    (rc = put_str(b, ",\"cascade_of\":", c->cascade_of)) < 0)
		return rc;
	if ((rc = put_json(b, ",\"changed\":", c->changed)) < 0 ||
	    (rc = put_json(b, ",\"deps\":", c->deps)) < 0 ||
	    (rc = put_str(b, ",\"fingerprint\":", c->fingerprint)) < 0 ||
	    (rc = put_json(b, ",\"hfid\":", c->hfid)) < 0 ||
	    (rc = put_str(b, ",\"id\":", c->id)) < 0 ||
	    (rc = put_str(b, ",\"kind\":", c->kind)) < 0 ||
	    (rc = put_str(b, ",\"node_id\":", c->node_id)) < 0)
		return rc;
	mark = b->len;
	hf_buf_add(b, ",\"sources\":");
	rc = hf_change_sources_write(c, b, HF_JSON_SORTED);
	if (rc < 0)
		return rc;
	if (rc == 0)
		hf_buf_setlen(b, mark); /* no sources: no key */
	hf_buf_addf(b, ",\"wave\":%d}", c->wave);
	return hf_buf_failed(b) ? HF_ENOMEM : 0;
}

int hf_plan_compute_checksum(const hf_plan *p, char out[65])
{
	hf_buf b = HF_BUF_INIT;
	struct hf_sha256 h;
	unsigned char d[32];
	size_t i;
	int rc;

	hf_sha256_init(&h);
	rc = hash_json(&h, &b, meta_content(&p->meta));
	for (i = 0; rc == 0 && i < p->n; i++) {
		rc = change_text(&b, at(p, i));
		if (rc == 0)
			hf_sha256_update(&h, b.ptr, b.len + 1);
	}
	hf_buf_release(&b);
	if (rc < 0) {
		hf_sha256_release(&h);
		return rc;
	}
	hf_sha256_final(&h, d);
	hf_hex(d, sizeof(d), out);
	return 0;
}

json_t *hf_change_to_json(const struct hf_change *c)
{
	json_t *j = change_content(c), *src;

	if (!j)
		return NULL;
	json_object_set_new(j, "status",
	                    json_string(hf_change_status_str(c->status)));
	json_object_set_new(j, "error",
	                    c->error ? json_string(c->error) : json_null());
	if (!c->hfid)
		json_object_set_new(j, "hfid", json_null());
	if (!c->node_id)
		json_object_set_new(j, "node_id", json_null());
	if (!c->before && !c->text)
		json_object_set_new(j, "before", json_null());
	if (!c->after && !c->text)
		json_object_set_new(j, "after", json_null());
	json_object_set_new(j, "adopt", json_boolean(c->adopt));
	json_object_set_new(j, "cascade_of",
	                    c->cascade_of ? json_string(c->cascade_of)
	                                  : json_null());
	if (hf_change_sources(c, &src) < 0) {
		json_decref(j);
		return NULL;
	}
	json_object_set_new(j, "sources", src ? src : json_null());
	return j;
}

json_t *hf_plan_meta_to_json(const hf_plan *p)
{
	const struct hf_plan_meta *m = &p->meta;
	json_t *j;

	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:b,"
	              " s:{s:I, s:I, s:I, s:I, s:I, s:I}, s:i, s:[]}",
	              "id", m->id, "created_at", m->created_at, "address",
	              m->address, "branch", m->branch, "schema_hash",
	              m->schema_hash, "manifest_digest", m->manifest_digest,
	              "checksum", m->checksum, "status", m->status, "stack",
	              m->stack ? m->stack : "default", "group_id", m->group_id,
	              "partial", m->partial, "counts", "create",
	              (json_int_t)m->n_create, "update",
	              (json_int_t)m->n_update, "no-op", (json_int_t)m->n_noop,
	              "delete", (json_int_t)m->n_delete, "forget",
	              (json_int_t)m->n_forget, "adopt", (json_int_t)m->n_adopt,
	              "waves", hf_plan_waves(p), "changes");
	if (j && !m->group_id)
		json_object_set_new(j, "group_id", json_null());
	return j;
}

json_t *hf_plan_to_json(const hf_plan *p)
{
	json_t *j = hf_plan_meta_to_json(p), *arr;
	size_t i;

	if (!j)
		return NULL;
	arr = json_object_get(j, "changes");
	for (i = 0; i < p->n; i++) {
		if (json_array_append_new(arr, hf_change_to_json(at(p, i))) <
		    0) {
			json_decref(j);
			return NULL;
		}
	}
	return j;
}

static int copy_str(char *dst, size_t n, const json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));

	if (!s || strlen(s) >= n)
		return HF_EINVAL;
	snprintf(dst, n, "%s", s);
	return 0;
}

static json_t *get_opt(const json_t *j, const char *key)
{
	json_t *v = json_object_get(j, key);

	return v && !json_is_null(v) ? json_incref(v) : NULL;
}

static int change_from_json(struct hf_change *c, const json_t *j)
{
	const char *s;

	memset(c, 0, sizeof(*c));
	if (parse_action(json_string_value(json_object_get(j, "action")),
	                 &c->action) < 0)
		return HF_EINVAL;
	c->kind = hf_strdup(json_string_value(json_object_get(j, "kind")));
	s = json_string_value(json_object_get(j, "node_id"));
	c->node_id = s ? hf_strdup(s) : NULL;
	c->hfid = get_opt(j, "hfid");
	c->before = get_opt(j, "before");
	c->after = get_opt(j, "after");
	c->changed = get_opt(j, "changed");
	c->deps = get_opt(j, "deps");
	c->wave = (int)json_integer_value(json_object_get(j, "wave"));
	c->adopt = json_is_true(json_object_get(j, "adopt"));
	s = json_string_value(json_object_get(j, "cascade_of"));
	c->cascade_of = s ? hf_strdup(s) : NULL;
	c->sources = get_opt(j, "sources");
	if ((c->sources && !json_is_array(c->sources)) || (s && !c->cascade_of))
		return HF_EINVAL;
	s = json_string_value(json_object_get(j, "error"));
	c->error = s ? hf_strdup(s) : NULL;
	s = json_string_value(json_object_get(j, "status"));
	if (s && hf_change_status_parse(s, &c->status) < 0)
		return HF_EINVAL;
	if (!c->kind || copy_str(c->fingerprint, sizeof(c->fingerprint), j,
	                         "fingerprint") < 0)
		return HF_EINVAL;
	return 0;
}

/* A plan from before stacks: stack "default", no group, not partial. */
static int stack_from_json(struct hf_plan_meta *m, const json_t *j)
{
	json_t *s = json_object_get(j, "stack");
	json_t *g = json_object_get(j, "group_id");
	json_t *part = json_object_get(j, "partial");

	if ((s && !json_is_null(s) && !json_is_string(s)) ||
	    (g && !json_is_null(g) && !json_is_string(g)) ||
	    (part && !json_is_boolean(part)))
		return HF_EINVAL;
	m->partial = json_is_true(part);
	if (json_is_string(s)) {
		hf_free(m->stack);
		m->stack = hf_strdup(json_string_value(s));
		if (!m->stack)
			return HF_ENOMEM;
	}
	if (json_is_string(g)) {
		m->group_id = hf_strdup(json_string_value(g));
		if (!m->group_id)
			return HF_ENOMEM;
	}
	return 0;
}

static int meta_from_json(struct hf_plan_meta *m, const json_t *j)
{
	if (copy_str(m->id, sizeof(m->id), j, "id") < 0 ||
	    copy_str(m->created_at, sizeof(m->created_at), j, "created_at") <
	            0 ||
	    copy_str(m->schema_hash, sizeof(m->schema_hash), j, "schema_hash") <
	            0 ||
	    copy_str(m->manifest_digest, sizeof(m->manifest_digest), j,
	             "manifest_digest") < 0 ||
	    copy_str(m->checksum, sizeof(m->checksum), j, "checksum") < 0 ||
	    copy_str(m->status, sizeof(m->status), j, "status") < 0)
		return HF_EINVAL;
	/* only the store passes it; the plan's JSON form does not carry it */
	m->branch_is_default =
	        json_is_true(json_object_get(j, "branch_is_default"));
	return stack_from_json(m, j);
}

int hf_plan_load_begin(hf_plan **out, const json_t *j, hf_error *err)
{
	hf_plan *p = NULL;
	int rc;

	*out = NULL;
	rc = hf_plan_new(&p, json_string_value(json_object_get(j, "address")),
	                 json_string_value(json_object_get(j, "branch")), err);
	if (rc < 0)
		return rc;
	if (meta_from_json(&p->meta, j) < 0) {
		hf_plan_free(p);
		return hf_error_set(err, HF_EINVAL, "malformed plan");
	}
	*out = p;
	return 0;
}

int hf_plan_load_change(hf_plan *p, struct hf_change *c, const char *id,
                        size_t i, hf_error *err)
{
	int rc = hf_plan_add(p, c, err);

	if (rc < 0)
		return rc;
	if (strcmp(at(p, p->n - 1)->id, id ? id : ""))
		return hf_error_set(err, HF_EINVAL,
		                    "plan change %zu has a wrong id", i);
	return 0;
}

/* 1 when the plan's content gives its checksum, 0 when not, or HF_ENOMEM. */
static int checksum_is(const hf_plan *p)
{
	char sum[65];
	int rc = hf_plan_compute_checksum(p, sum);

	return rc < 0 ? rc : !strcmp(sum, p->meta.checksum);
}

static int has_text(const hf_plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (at(p, i)->text)
			return 1;
	return 0;
}

int hf_plan_load_end(hf_plan *p, hf_error *err)
{
	int rc;

	count(p);
	rc = checksum_is(p);
	/*
	 * A no-op read as text whose text is not the canonical one (a row
	 * written from a tree, keys in another order): as trees, as
	 * the checksum was made from them.
	 */
	if (rc == 0 && has_text(p)) {
		rc = hf_plan_expand(p);
		/* text that is not JSON: not what the checksum was made on */
		rc = rc < 0 ? 0 : checksum_is(p);
	}
	if (rc == HF_ENOMEM)
		return hf_error_set(err, rc, "out of memory");
	if (rc > 0)
		return 0;
	return hf_error_set(err, HF_EINVAL,
	                    "plan %s fails its checksum: it was changed "
	                    "after it was made",
	                    p->meta.id);
}

int hf_plan_from_json(hf_plan **out, const json_t *j, hf_error *err)
{
	hf_plan *p = NULL;
	struct hf_change c;
	json_t *arr, *e;
	size_t i;
	int rc;

	*out = NULL;
	rc = hf_plan_load_begin(&p, j, err);
	if (rc < 0)
		return rc;
	arr = json_object_get(j, "changes");
	json_array_foreach(arr, i, e)
	{
		if (change_from_json(&c, e) < 0) {
			hf_change_release(&c);
			rc = hf_error_set(err, HF_EINVAL,
			                  "plan change %zu is malformed", i);
			goto fail;
		}
		rc = hf_plan_load_change(
		        p, &c, json_string_value(json_object_get(e, "id")), i,
		        err);
		if (rc < 0)
			goto fail;
	}
	rc = hf_plan_load_end(p, err);
	if (rc < 0)
		goto fail;
	hf_error_clear(err);
	*out = p;
	return 0;
fail:
	hf_plan_free(p);
	return rc;
}
