/*
 * Stack ownership: read the hubform-<stack> group and its members, and
 * the other stacks' groups, through the transport seam.
 */
#include <stdint.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/arena.h"
#include "hf/array.h"
#include "hf/listing.h"
#include "hf/map.h"
#include "hf/model.h"
#include "hf/owner.h"
#include "hf/banned.h"

/* 16 bytes a member, its id in the arena, its kind shared (hf_name()). */
struct member {
	const char *id;
	const char *kind;
};

struct hf_owner {
	char *stack;
	char *group_id;
	struct member *m;
	size_t n, cap;
	hf_arena strs; /* the members' ids */
	/*
	 * The members by id, once indexed: open addressing over their
	 * positions plus one (0: empty), 4-byte slots at most half full: 8
	 * to 16 bytes a member (a hash map of them took 60 at its load, the
	 * sorted copy it gave way to 16 and a dozen string compares a
	 * look-up).
	 */
	uint32_t *slots;
	size_t nslots; /* a power of two, or 0 */
	size_t nindexed; /* n when indexed, else stale */
	json_t *others; /* other stacks' group id -> stack name */
};

static const char q_groups[] =
        "query ($name: String) { CoreStandardGroup(name__value: $name, "
        "partial_match: true) { count edges { node { id name { value } } } } }";

/*
 * Members a page when the caller says nothing. A member is an id and a
 * type name, a tenth of what an object's page carries, so its pages are
 * larger than the fetch's 1000: a 100k-member record took 100 requests
 * (320 ms at 20 ms a request, ten at a time), 20 now. Infrahub has no
 * largest page, and pages of a relationship far into it cost it more
 * the further they go: fewer, larger ones cost it less.
 */
#define MEMBER_PAGE 5000

static const char q_members[] =
        "query ($ids: [ID], $offset: Int, $limit: Int) { CoreStandardGroup("
        "ids: $ids) { edges { node { id members(offset: $offset, limit: "
        "$limit) { count edges { node { id __typename } } } } } } }";

int hf_owner_stack_check(const char *stack, hf_error *err)
{
	size_t i, n = stack ? strlen(stack) : 0;
	char c;

	if (n == 0 || n > 64)
		return hf_error_set(
		        err, HF_EINVAL,
		        "stack name '%s' must be 1 to 64 characters",
		        stack ? stack : "");
	for (i = 0; i < n; i++) {
		c = stack[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (i > 0 && strchr("_.-", c)))
			continue;
		return hf_error_set(err, HF_EINVAL,
		                    "stack name '%s': character %zu is not "
		                    "allowed (letters, digits, '_', '.', '-'; "
		                    "a letter or digit first)",
		                    stack, i + 1);
	}
	return 0;
}

int hf_owner_new(hf_owner **out, const char *stack, hf_error *err)
{
	hf_owner *o = hf_calloc(1, sizeof(*o));

	*out = NULL;
	if (o) {
		o->stack = hf_strdup(stack ? stack : "default");
		hf_arena_init(&o->strs, 0);
		o->others = json_object();
	}
	if (!o || !o->stack || !o->others) {
		hf_owner_free(o);
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	*out = o;
	return 0;
}

void hf_owner_free(hf_owner *o)
{
	if (!o)
		return;
	hf_free(o->m);
	hf_free(o->stack);
	hf_free(o->group_id);
	hf_free(o->slots);
	hf_arena_release(&o->strs);
	json_decref(o->others);
	hf_free(o);
}

/* A member whose id is `idn` bytes and whose kind is a hf_name(). */
static int add_member(hf_owner *o, const char *id, size_t idn, const char *kind)
{
	struct member *m;

	if (HF_ARRAY_GROW(o->m, o->cap, o->n + 1) < 0)
		return HF_ENOMEM;
	m = &o->m[o->n];
	m->id = hf_arena_strndup(&o->strs, id, idn);
	m->kind = kind;
	if (!m->id || !m->kind)
		return HF_ENOMEM; /* the arena's copy goes with the owner */
	o->n++;
	return 0;
}

int hf_owner_add_member(hf_owner *o, const char *id, const char *kind)
{
	return add_member(o, id, strlen(id), hf_name(kind));
}

/* Members are counted in 32 bits in the index. */
#define MEMBERS_MAX (UINT32_MAX - 1)

static size_t home(const hf_owner *o, const char *id)
{
	return hf_map_hash(id, strlen(id)) & (o->nslots - 1);
}

/* Where member `id` is in o->m among those indexed so far, or -1. */
static long find(const hf_owner *o, const char *id)
{
	size_t i = home(o, id);
	uint32_t at;

	while ((at = o->slots[i]) != 0) {
		if (!strcmp(o->m[at - 1].id, id))
			return (long)(at - 1);
		i = (i + 1) & (o->nslots - 1);
	}
	return -1;
}

static void insert(hf_owner *o, size_t at)
{
	size_t i = home(o, o->m[at].id);

	while (o->slots[i] != 0)
		i = (i + 1) & (o->nslots - 1);
	o->slots[i] = (uint32_t)(at + 1);
}

/*
 * Index the members; a member listed twice is kept once, where it came
 * first (the group changed between pages: the caller's count check says
 * so). 0 or HF_ENOMEM.
 */
static int index_members(hf_owner *o)
{
	size_t i, j, want = 16;

	if (o->n > MEMBERS_MAX)
		return HF_ENOMEM;
	while (want < 2 * o->n)
		want *= 2;
	hf_free(o->slots);
	o->slots = hf_calloc(want, sizeof(*o->slots));
	o->nslots = o->slots ? want : 0;
	o->nindexed = 0;
	if (!o->slots)
		return HF_ENOMEM;
	for (i = j = 0; i < o->n; i++) {
		o->m[j] = o->m[i];
		if (find(o, o->m[j].id) >= 0)
			continue; /* a repeat: dropped */
		insert(o, j++);
	}
	o->n = j;
	o->nindexed = o->n;
	return 0;
}

int hf_owner_add_group(hf_owner *o, const char *id, const char *stack)
{
	return json_object_set_new(o->others, id, json_string(stack)) < 0
	               ? HF_ENOMEM
	               : 0;
}

int hf_owner_set_group_id(hf_owner *o, const char *id)
{
	char *g = id ? hf_strdup(id) : NULL;

	if (id && !g)
		return HF_ENOMEM;
	hf_free(o->group_id);
	o->group_id = g;
	return 0;
}

const char *hf_owner_stack(const hf_owner *o)
{
	return o->stack;
}

const char *hf_owner_group_id(const hf_owner *o)
{
	return o->group_id;
}

size_t hf_owner_count(const hf_owner *o)
{
	return o->n;
}

const char *hf_owner_id_at(const hf_owner *o, size_t i)
{
	return i < o->n ? o->m[i].id : NULL;
}

const char *hf_owner_kind_at(const hf_owner *o, size_t i)
{
	return i < o->n ? o->m[i].kind : NULL;
}

long hf_owner_find(const hf_owner *o, const char *node_id)
{
	size_t i;

	if (!node_id)
		return -1;
	if (o->nindexed == o->n && o->slots)
		return find(o, node_id);
	for (i = 0; i < o->n; i++) /* not indexed (a record being made) */
		if (!strcmp(o->m[i].id, node_id))
			return (long)i;
	return -1;
}

int hf_owner_owns(const hf_owner *o, const char *node_id)
{
	return hf_owner_find(o, node_id) >= 0;
}

const char *hf_owner_other_stack(const hf_owner *o, const char *group_id)
{
	return group_id
	               ? json_string_value(json_object_get(o->others, group_id))
	               : NULL;
}

static int bad(hf_error *err, const char *what)
{
	return hf_error_set(err, HF_EINVAL,
	                    "malformed answer reading the stack groups: %s",
	                    what);
}

/* The stack's group, and every other hubform-* group by id. */
static int take_groups(hf_owner *o, const json_t *data, hf_error *err)
{
	const json_t *edges = json_object_get(
	        json_object_get(data, "CoreStandardGroup"), "edges");
	const size_t plen = strlen(HF_OWNER_GROUP_PREFIX);
	const char *id, *name;
	json_t *e, *node;
	size_t i;
	int rc = 0;

	if (!json_is_array(edges))
		return bad(err, "CoreStandardGroup.edges is not a list");
	json_array_foreach(edges, i, e)
	{
		node = json_object_get(e, "node");
		id = json_string_value(json_object_get(node, "id"));
		name = json_string_value(json_object_get(
		        json_object_get(node, "name"), "value"));
		if (!id || !name)
			return bad(err, "a group without id or name");
		/* the filter is a substring match: keep the true prefix */
		if (strncmp(name, HF_OWNER_GROUP_PREFIX, plen))
			continue;
		if (!strcmp(name + plen, o->stack))
			rc = hf_owner_set_group_id(o, id);
		else
			rc = hf_owner_add_group(o, id, name + plen);
		if (rc < 0)
			return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	return 0;
}

/* One page of members; *got: how many it held, *total: the count. */
static int take_members(hf_owner *o, const json_t *data, size_t *got,
                        long *total, hf_error *err)
{
	const json_t *mem = json_object_get(
	        json_object_get(
	                json_array_get(
	                        json_object_get(
	                                json_object_get(data,
	                                                "CoreStandardGroup"),
	                                "edges"),
	                        0),
	                "node"),
	        "members");
	const json_t *edges = json_object_get(mem, "edges");
	const char *id, *kind;
	json_t *e, *node;
	size_t i;

	if (!json_is_array(edges) ||
	    !json_is_integer(json_object_get(mem, "count")))
		return bad(err, "the group's members are not a counted list");
	*total = (long)json_integer_value(json_object_get(mem, "count"));
	*got = json_array_size(edges);
	json_array_foreach(edges, i, e)
	{
		node = json_object_get(e, "node");
		id = json_string_value(json_object_get(node, "id"));
		kind = json_string_value(json_object_get(node, "__typename"));
		if (!id || !kind)
			return bad(err, "a member without id or __typename");
		if (hf_owner_add_member(o, id, kind) < 0)
			return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	return 0;
}

static int gql(hf_transport *tr, const char *query, json_t *vars, json_t **data,
               hf_error *err)
{
	struct hf_tx_request r = HF_TX_REQUEST_INIT;
	json_t *errors = NULL;
	int rc;

	r.query = query;
	r.variables = vars;
	r.flags = HF_TX_RETRY;
	rc = hf_transport_call(tr, &r, data, &errors, NULL, err);
	json_decref(vars);
	if (rc == 0 && errors && json_array_size(errors)) {
		const char *msg =
		        hf_tx_error_message(json_array_get(errors, 0));

		rc = hf_error_set(
		        err, HF_ESERVER, "reading the stack groups: %s",
		        msg ? msg : "the server answered with errors");
		json_decref(*data);
		*data = NULL;
	}
	json_decref(errors);
	return rc;
}

static json_t *member_vars(const hf_owner *o, long offset, long limit)
{
	return json_pack("{s:[s], s:I, s:I}", "ids", o->group_id, "offset",
	                 (json_int_t)offset, "limit", (json_int_t)limit);
}

/* The pages after the first, read concurrently as they arrive. */
struct pages {
	hf_owner *o;
	long total; /* the count the first page gave */
	long page; /* members a page */
	long taken; /* pages taken */
	int rc;
	hf_error *err;
	const char *kind; /* the last member's kind: they come in runs */
};

/*
 * The page at `offset` held `got` members of `total`: what the first page
 * counted, and as many as asked, or the group changed between pages.
 */
static int page_fits(struct pages *pg, long offset, long total, size_t got)
{
	long want =
	        pg->total - offset < pg->page ? pg->total - offset : pg->page;

	/* members that came or went between pages: some were read twice
	   or missed, and what the stack owns is not known */
	if (total != pg->total || (long)got != want)
		return hf_error_set(
		        pg->err, HF_ECONFLICT,
		        "the stack's group changed while it was "
		        "read (%ld members, then %ld; %zu at offset "
		        "%ld where %ld were expected): plan again",
		        pg->total, total, got, offset, want);
	pg->taken++;
	return 0;
}

static int take_member(void *payload, const char *id, size_t idn,
                       const char *type, size_t typen)
{
	struct pages *pg = payload;
	const char *kind = pg->kind;
	char *t;

	if (!kind || strlen(kind) != typen || memcmp(kind, type, typen)) {
		t = hf_strndup(type, typen);
		kind = t ? hf_name(t) : NULL;
		hf_free(t);
		if (!kind)
			return HF_ENOMEM;
		pg->kind = kind;
	}
	return add_member(pg->o, id, idn, kind);
}

/*
 * A page read from its text (hf_listing_members()), not decoded into a
 * tree of 5000 members first: 1 when taken, its failure in pg->rc; 0
 * when declined, for on_page() to take as usual.
 */
static int scan_page(void *user, const char *body, size_t len, void *payload)
{
	struct pages *pg = payload;
	long offset = (long)(intptr_t)user, total = 0;
	size_t end = pg->o->n, got;
	int rc;

	if (pg->rc < 0)
		return 1; /* stopped: taken, not decoded for nothing */
	/* each page in its place (room was made for them all) */
	pg->o->n = (size_t)offset;
	rc = hf_listing_members(body, len, take_member, pg, &total);
	got = pg->o->n - (size_t)offset;
	pg->o->n = rc == 0 || end > pg->o->n ? end : pg->o->n;
	if (rc == 0)
		return 0;
	if (rc > 0)
		rc = page_fits(pg, offset, total, got);
	else
		rc = hf_error_set(pg->err, rc, "out of memory");
	if (rc < 0)
		pg->rc = rc;
	return 1;
}

static void on_page(hf_transport *t, const struct hf_tx_result *r,
                    void *payload)
{
	struct pages *pg = payload;
	const char *msg = hf_tx_error_message(json_array_get(r->errors, 0));
	long offset = (long)(intptr_t)r->user, total = 0;
	size_t got = 0, end;
	int rc;

	if (r->scanned) {
		if (pg->rc < 0)
			hf_transport_stop(t);
		return;
	}
	if (pg->rc < 0)
		return;
	if (r->rc < 0) {
		if (pg->err)
			*pg->err = *r->err;
		rc = r->rc;
	} else if (r->errors && json_array_size(r->errors)) {
		rc = hf_error_set(
		        pg->err, HF_ESERVER,
		        "reading the members of the stack's group "
		        "from offset %ld: %s",
		        offset, msg ? msg : "the server answered with errors");
	} else {
		/* each page in its place: the members in the server's order,
		   whatever order the pages come in (room made for them all) */
		end = pg->o->n;
		pg->o->n = (size_t)offset;
		rc = take_members(pg->o, r->data, &got, &total, pg->err);
		pg->o->n = end > pg->o->n ? end : pg->o->n;
		if (rc == 0)
			rc = page_fits(pg, offset, total, got);
	}
	if (rc < 0) {
		pg->rc = rc;
		hf_transport_stop(t);
	}
}

/*
 * The first page gives the count; the others are then read at once,
 * the transport keeping its parallelism in flight (a group of 100,000
 * members took 4.7 s a page after the other against a server spending
 * 20 ms a request).
 */
static int read_members(hf_owner *o, hf_transport *tr, long page, long *total,
                        hf_error *err)
{
	struct hf_tx_request rq = HF_TX_REQUEST_INIT;
	struct pages pg = { o, 0, page, 0, 0, err, NULL };
	json_t *data = NULL, *vars;
	long offset, asked = 0;
	size_t got = 0;
	int rc;

	rc = gql(tr, q_members, member_vars(o, 0, page), &data, err);
	if (rc == 0)
		rc = take_members(o, data, &got, &pg.total, err);
	json_decref(data);
	*total = pg.total;
	if (rc == 0 && got == 0 && pg.total > 0)
		return bad(err, "the group counts members but lists none");
	if (rc < 0 || (long)got >= pg.total)
		return rc;
	if (HF_ARRAY_GROW(o->m, o->cap, (size_t)pg.total) < 0)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	/* a server that gives fewer than asked sets the page size */
	if ((long)got < page)
		pg.page = page = (long)got;
	rq.query = q_members;
	rq.flags = HF_TX_RETRY;
	rq.scan = scan_page;
	for (offset = (long)got; rc == 0 && offset < pg.total; offset += page) {
		vars = member_vars(o, offset, page);
		rq.variables = vars;
		rq.user = (void *)(intptr_t)offset;
		rc = vars ? hf_transport_submit(tr, &rq, err)
		          : hf_error_set(err, HF_ENOMEM, "out of memory");
		json_decref(vars);
		asked++;
	}
	if (rc < 0) {
		hf_transport_drop(tr);
		return rc;
	}
	rc = hf_transport_run(tr, on_page, &pg, err);
	if (rc == 0 && pg.rc == 0 && pg.taken != asked)
		return hf_error_set(err, HF_ESERVER,
		                    "%ld of %ld pages of the stack's group's "
		                    "members came back",
		                    pg.taken, asked);
	return rc < 0 ? rc : pg.rc;
}

int hf_owner_read(hf_owner **out, hf_transport *tr, const char *stack,
                  long page_size, hf_error *err)
{
	json_t *data = NULL;
	hf_owner *o;
	long total = 0;
	int rc;

	*out = NULL;
	rc = hf_owner_stack_check(stack, err);
	if (rc == 0)
		rc = hf_owner_new(&o, stack, err);
	if (rc < 0)
		return rc;
	rc = gql(tr, q_groups,
	         json_pack("{s:s}", "name", HF_OWNER_GROUP_PREFIX), &data, err);
	if (rc == 0)
		rc = take_groups(o, data, err);
	json_decref(data);
	if (rc == 0 && o->group_id)
		rc = read_members(o, tr,
		                  page_size > 0 ? page_size : MEMBER_PAGE,
		                  &total, err);
	if (rc == 0 && index_members(o) < 0)
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	/* a member listed twice: the group moved between pages, and one
	   may be missing in its place */
	if (rc == 0 && o->group_id && (long)o->n != total)
		rc = hf_error_set(err, HF_ECONFLICT,
		                  "the stack's group changed while it was read "
		                  "(%ld members counted, %zu different ones "
		                  "listed): plan again",
		                  total, o->n);
	if (rc < 0) {
		hf_owner_free(o);
		return rc;
	}
	*out = o;
	return 0;
}

/* A reference to a stack group: CoreStandardGroup["hubform-..."]. */
static int stack_group_ref(const struct hf_ref *r)
{
	const char *name = json_string_value(json_array_get(r->hfid, 0));

	return r->kind && !strcmp(r->kind, "CoreStandardGroup") && name &&
	       !strncmp(name, HF_OWNER_GROUP_PREFIX,
	                strlen(HF_OWNER_GROUP_PREFIX)) &&
	       json_array_size(r->hfid) == 1;
}

static int has_ref(const struct hf_field *f, const struct hf_ref *r)
{
	size_t i;

	for (i = 0; i < f->nrefs; i++)
		if (f->refs[i].hfid && json_equal(f->refs[i].hfid, r->hfid) &&
		    f->refs[i].kind && !strcmp(f->refs[i].kind, r->kind))
			return 1;
	return 0;
}

static int copy_ref(struct hf_field *f, const struct hf_ref *r)
{
	struct hf_ref *n = hf_realloc(f->refs, (f->nrefs + 1) * sizeof(*n));

	if (!n)
		return HF_ENOMEM;
	f->refs = n;
	n = &f->refs[f->nrefs];
	memset(n, 0, sizeof(*n));
	n->kind = hf_name(r->kind);
	n->hfid = json_deep_copy(r->hfid);
	n->id = r->id ? hf_strdup(r->id) : NULL;
	n->file = f->file;
	n->line = f->line;
	n->col = f->col;
	if (!n->kind || !n->hfid || (r->id && !n->id)) {
		hf_ref_release(n);
		return HF_ENOMEM;
	}
	f->nrefs++;
	return 0;
}

int hf_owner_keep_memberships(hf_objset *want, const hf_objset *have)
{
	const struct hf_field *lf;
	struct hf_object *w;
	struct hf_field *wf;
	size_t i, j;
	long at;

	for (i = 0; i < hf_objset_count(want); i++) {
		w = hf_objset_at(want, i);
		wf = hf_object_field(w, "member_of_groups");
		if (!wf || wf->type != HF_FIELD_MANY)
			continue;
		at = hf_objset_find(have, w->kind, w->hfid);
		lf = at < 0 ? NULL
		            : hf_object_field(hf_objset_at(have, (size_t)at),
		                              "member_of_groups");
		for (j = 0; lf && j < lf->nrefs; j++) {
			if (!stack_group_ref(&lf->refs[j]) ||
			    has_ref(wf, &lf->refs[j]))
				continue;
			if (copy_ref(wf, &lf->refs[j]) < 0)
				return HF_ENOMEM;
		}
	}
	return 0;
}
