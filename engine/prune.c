/*
 * Delete planning for --prune and --destroy: read the doomed objects,
 * follow on_delete cascades, order referrers first, refuse a delete
 * that would leave a surviving object's mandatory relationship without
 * its peer. See hf/prune.h.
 */
#include <string.h>

#include "hf/alloc.h"
#include "hf/array.h"
#include "hf/buf.h"
#include "hf/diff.h"
#include "hf/fetch.h"
#include "hf/model.h"
#include "hf/prune.h"
#include "hf/banned.h"

#define IDS_PER_REQUEST 500
#define MAX_PROBLEMS    20

struct pn {
	char *id;
	char *kind;
	long live; /* index in the live set; -1: not read (gone) */
	long parent; /* the node whose cascade takes this one, or -1 */
	int forget; /* another stack owns it too */
	int kept; /* a member `keep` left alone: it stays */
	const char *other; /* that stack (borrowed from the owner) */
	char cid[17]; /* its change id */
	json_t *deps; /* change ids */
};

struct pctx {
	hf_plan *plan;
	const hf_owner *own;
	const hf_schema *s;
	hf_transport *tr;
	hf_objset *live;
	struct pn *v;
	size_t n, cap, loaded;
	json_t *index; /* node id -> index into v */
	json_t *declared; /* node id -> index of its update/no-op change */
	json_t *refs; /* "Kind\x1fa\x1fb" -> [change index, field] that
	                 the files point at */
	hf_buf problems;
	size_t nproblems;
	hf_prune_keep_fn keep;
	void *payload;
};

json_t *hf_prune_orphans(const hf_plan *plan, const hf_owner *owner)
{
	size_t i, n = hf_owner_count(owner);
	unsigned char *declared = hf_calloc(n ? n : 1, 1);
	json_t *out = json_array();
	const struct hf_change *c;
	long at;
	int rc = declared && out ? 0 : -1;

	/* the members the plan declares, by their place in the record */
	for (i = 0; rc == 0 && i < hf_plan_count(plan); i++) {
		c = hf_plan_at(plan, i);
		if (c->node_id &&
		    (c->action == HF_ACT_UPDATE || c->action == HF_ACT_NOOP) &&
		    (at = hf_owner_find(owner, c->node_id)) >= 0)
			declared[at] = 1;
	}
	for (i = 0; rc == 0 && i < n; i++) {
		if (declared[i])
			continue;
		rc = json_array_append_new(
		        out,
		        json_pack("{s:s, s:s}", "id", hf_owner_id_at(owner, i),
		                  "kind", hf_owner_kind_at(owner, i)));
	}
	hf_free(declared);
	if (rc < 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}

static int is_group_rel(const struct hf_schema_rel *r)
{
	return r->kind == HF_REL_GROUP || r->kind == HF_REL_PROFILE ||
	       r->kind == HF_REL_TEMPLATE;
}

/* What to read of a doomed object of kind k: name -> attr|one|many. */
static json_t *field_types(const hf_kind *k)
{
	json_t *t = json_object();
	const struct hf_schema_attr *a;
	const struct hf_schema_rel *r;
	size_t i;

	for (i = 0; t && i < hf_schema_attr_count(k); i++) {
		a = hf_schema_attr_at(k, i);
		if (!hf_attr_kind_is_secret(a->kind) &&
		    json_object_set_new(t, a->name, json_string("attr")) < 0)
			goto oom;
	}
	for (i = 0; t && i < hf_schema_rel_count(k); i++) {
		r = hf_schema_rel_at(k, i);
		if (is_group_rel(r) && strcmp(r->name, "member_of_groups"))
			continue;
		if (json_object_set_new(
		            t, r->name,
		            json_string(r->cardinality == HF_CARDINALITY_ONE
		                                ? "one"
		                                : "many")) < 0)
			goto oom;
	}
	return t;
oom:
	json_decref(t);
	return NULL;
}

/* Start one more problem's text: NULL when enough are listed already. */
static hf_buf *problem(struct pctx *c)
{
	c->nproblems++;
	if (c->nproblems > MAX_PROBLEMS)
		return NULL;
	if (c->problems.len)
		hf_buf_add(&c->problems, "; ");
	return &c->problems;
}

/* "Kind 'a__b'" (the HFID as Infrahub prints it) or "Kind <id>". */
static char *name_of(const char *kind, const json_t *hfid, const char *id)
{
	hf_buf b = HF_BUF_INIT;
	json_t *part;
	size_t i;

	hf_buf_addf(&b, "%s ", kind);
	if (json_is_array(hfid) && json_array_size(hfid)) {
		hf_buf_addch(&b, '\'');
		json_array_foreach(hfid, i, part)
		{
			hf_buf_addf(&b, "%s%s", i ? "__" : "",
			            json_string_value(part)
			                    ? json_string_value(part)
			                    : "");
		}
		hf_buf_addch(&b, '\'');
	} else {
		hf_buf_addf(&b, "%s", id ? id : "?");
	}
	return hf_buf_failed(&b) ? NULL : hf_buf_detach(&b);
}

static char *node_name(const struct pctx *c, size_t i)
{
	const struct pn *p = &c->v[i];

	return name_of(p->kind,
	               p->live >= 0
	                       ? hf_objset_at(c->live, (size_t)p->live)->hfid
	                       : NULL,
	               p->id);
}

static long node_index(const struct pctx *c, const char *id)
{
	json_t *v = id ? json_object_get(c->index, id) : NULL;

	return v ? (long)json_integer_value(v) : -1;
}

static int node_add(struct pctx *c, const char *id, const char *kind,
                    long parent)
{
	struct pn *p;

	if (HF_ARRAY_GROW(c->v, c->cap, c->n + 1) < 0)
		return HF_ENOMEM;
	p = &c->v[c->n];
	memset(p, 0, sizeof(*p));
	p->id = hf_strdup(id);
	p->kind = hf_strdup(kind);
	p->deps = json_array();
	p->live = -1;
	p->parent = parent;
	if (!p->id || !p->kind || !p->deps ||
	    json_object_set_new(c->index, id, json_integer((json_int_t)c->n)) <
	            0) {
		hf_free(p->id);
		hf_free(p->kind);
		json_decref(p->deps);
		return HF_ENOMEM;
	}
	c->n++;
	return 0;
}

/* Read the nodes [from, to) of one kind, IDS_PER_REQUEST at a time. */
static int load_kind(struct pctx *c, const char *kind, size_t from, size_t to,
                     hf_error *err)
{
	const hf_kind *k = hf_schema_kind(c->s, kind);
	json_t *types, *ids = NULL;
	size_t i;
	int rc = 0;

	hf_buf *pb;

	if (!k) {
		if ((pb = problem(c)))
			hf_buf_addf(pb,
			            "%s %s is owned but its kind is not in "
			            "the schema",
			            kind, c->v[from].id);
		return 0;
	}
	if (!hf_schema_kind_hfid(k).n) {
		if ((pb = problem(c)))
			hf_buf_addf(pb,
			            "%s %s cannot be deleted by hubform: the "
			            "kind has no human-friendly id",
			            kind, c->v[from].id);
		return 0;
	}
	types = field_types(k);
	if (!types)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	for (i = from; rc == 0 && i < to; i++) {
		if (strcmp(c->v[i].kind, kind))
			continue;
		if (!ids && !(ids = json_array()))
			rc = hf_error_set(err, HF_ENOMEM, "out of memory");
		if (rc == 0 &&
		    json_array_append_new(ids, json_string(c->v[i].id)) < 0)
			rc = hf_error_set(err, HF_ENOMEM, "out of memory");
		if (rc == 0 && json_array_size(ids) == IDS_PER_REQUEST) {
			rc = hf_fetch_by_ids(c->live, c->s, kind, types, ids,
			                     c->tr, err);
			json_decref(ids);
			ids = NULL;
		}
	}
	if (rc == 0 && ids)
		rc = hf_fetch_by_ids(c->live, c->s, kind, types, ids, c->tr,
		                     err);
	json_decref(ids);
	json_decref(types);
	return rc;
}

/* Read every node added since the last load, kind by kind. */
static int load_pending(struct pctx *c, hf_error *err)
{
	size_t from = c->loaded, to = c->n, i, j;
	int rc = 0;

	for (i = from; rc == 0 && i < to; i++) {
		for (j = from; j < i; j++)
			if (!strcmp(c->v[j].kind, c->v[i].kind))
				break;
		if (j == i)
			rc = load_kind(c, c->v[i].kind, i, to, err);
	}
	for (i = from; rc == 0 && i < to; i++)
		c->v[i].live = hf_objset_find_id(c->live, c->v[i].id);
	c->loaded = to;
	return rc;
}

/* The other stack that owns node i too, or NULL. */
static const char *other_owner(const struct pctx *c, size_t i)
{
	const struct hf_field *f;
	const char *s;
	size_t j;

	if (c->v[i].live < 0)
		return NULL;
	f = hf_object_field(hf_objset_at(c->live, (size_t)c->v[i].live),
	                    "member_of_groups");
	for (j = 0; f && j < f->nrefs; j++)
		if ((s = hf_owner_other_stack(c->own, f->refs[j].id)))
			return s;
	return NULL;
}

/* Whether a is b or one of the nodes whose cascade takes b. */
static int is_ancestor(const struct pctx *c, long a, long b)
{
	size_t steps;

	for (steps = 0; b >= 0 && steps <= c->n; steps++) {
		if (a == b)
			return 1;
		b = c->v[b].parent;
	}
	return 0;
}

/* A cascade from node i reaches peer `id` of kind `kind`. */
static int cascade_to(struct pctx *c, size_t i, const struct hf_ref *r,
                      const char *rel)
{
	long at = node_index(c, r->id);
	char *who, *what;
	hf_buf *pb;

	if (at == (long)i)
		return 0;
	if (at >= 0 && c->v[at].forget) {
		who = node_name(c, i);
		what = node_name(c, (size_t)at);
		if ((pb = problem(c)))
			hf_buf_addf(pb,
			            "deleting %s would also delete %s "
			            "(on_delete: cascade of its relationship "
			            "'%s'), which stack '%s' owns too",
			            who ? who : "?", what ? what : "?", rel,
			            c->v[at].other);
		hf_free(who);
		hf_free(what);
		return 0;
	}
	if (at >= 0) {
		if (!c->v[at].forget && c->v[at].parent < 0 &&
		    !is_ancestor(c, at, (long)i)) {
			c->v[at].parent = (long)i;
			c->v[at].kept = 0; /* the server deletes it anyway */
		}
		return 0;
	}
	if (json_object_get(c->declared, r->id)) {
		who = node_name(c, i);
		what = name_of(r->kind, r->hfid, r->id);
		if ((pb = problem(c)))
			hf_buf_addf(pb,
			            "deleting %s would also delete %s "
			            "(on_delete: cascade of its relationship "
			            "'%s'), which the files declare",
			            who ? who : "?", what ? what : "?", rel);
		hf_free(who);
		hf_free(what);
		return 0;
	}
	return node_add(c, r->id, r->kind && r->kind[0] ? r->kind : "?",
	                (long)i);
}

static int cascades_of(struct pctx *c, size_t i)
{
	const struct hf_object *o = hf_objset_at(c->live, (size_t)c->v[i].live);
	const hf_kind *k = hf_schema_kind(c->s, c->v[i].kind);
	const struct hf_schema_rel *r;
	const struct hf_field *f;
	size_t j, m;
	int rc = 0;

	for (j = 0; k && rc == 0 && j < hf_schema_rel_count(k); j++) {
		r = hf_schema_rel_at(k, j);
		if (!r->on_delete || strcmp(r->on_delete, "cascade") ||
		    !(f = hf_object_field(o, r->name)))
			continue;
		for (m = 0; rc == 0 && m < f->nrefs; m++)
			rc = cascade_to(c, i, &f->refs[m], r->name);
	}
	return rc;
}

/* Shared roots only leave the group; a shared cascade is a problem. */
static void mark_shared(struct pctx *c, size_t from, size_t to)
{
	const char *other;
	char *who, *root;
	hf_buf *pb;
	size_t i;

	for (i = from; i < to; i++) {
		other = other_owner(c, i);
		if (!other)
			continue;
		if (c->v[i].kept)
			continue;
		if (c->v[i].parent < 0) {
			c->v[i].forget = 1;
			c->v[i].other = other;
			continue;
		}
		who = node_name(c, i);
		root = node_name(c, (size_t)c->v[i].parent);
		if ((pb = problem(c)))
			hf_buf_addf(pb,
			            "deleting %s would also delete %s "
			            "(on_delete: cascade), which stack '%s' "
			            "owns too",
			            root ? root : "?", who ? who : "?", other);
		hf_free(who);
		hf_free(root);
	}
}

/* Members the caller leaves alone (outside a --target). */
static void mark_kept(struct pctx *c, size_t from, size_t to)
{
	size_t i;

	for (i = from; c->keep && i < to; i++)
		if (c->v[i].parent < 0 && c->v[i].live >= 0 &&
		    !c->keep(c->payload, c->v[i].kind,
		             hf_objset_at(c->live, (size_t)c->v[i].live)->hfid))
			c->v[i].kept = 1;
}

static int gather(struct pctx *c, hf_error *err)
{
	size_t from, to, i;
	int rc = 0;

	while (rc == 0 && c->loaded < c->n) {
		from = c->loaded;
		rc = load_pending(c, err);
		to = c->loaded;
		if (rc < 0)
			break;
		mark_kept(c, from, to);
		mark_shared(c, from, to);
		for (i = from; rc == 0 && i < to; i++)
			if (!c->v[i].forget && !c->v[i].kept &&
			    c->v[i].live >= 0)
				rc = cascades_of(c, i);
		if (rc < 0)
			rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	return rc;
}

static json_t *hfid_of(const struct pctx *c, size_t i)
{
	const hf_kind *k = hf_schema_kind(c->s, c->v[i].kind);

	return k && hf_schema_kind_hfid(k).n
	               ? hf_objset_at(c->live, (size_t)c->v[i].live)->hfid
	               : NULL;
}

static int is_delete(const struct pctx *c, long i)
{
	return i >= 0 && c->v[i].live >= 0 && !c->v[i].forget && !c->v[i].kept;
}

static int compute_ids(struct pctx *c)
{
	json_t *key;
	size_t i;
	int rc;

	for (i = 0; i < c->n; i++) {
		if (c->v[i].live < 0 || c->v[i].kept)
			continue;
		key = hfid_of(c, i) ? json_incref(hfid_of(c, i))
		                    : json_string(c->v[i].id);
		rc = key ? hf_plan_change_id(c->v[i].cid,
		                             c->v[i].forget ? HF_ACT_FORGET
		                                            : HF_ACT_DELETE,
		                             c->v[i].kind, key)
		         : HF_ENOMEM;
		json_decref(key);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int dep_add(json_t *deps, const char *id)
{
	json_t *d;
	size_t i;

	json_array_foreach(deps, i, d)
	{
		if (!strcmp(json_string_value(d), id))
			return 0;
	}
	return json_array_append_new(deps, json_string(id));
}

/*
 * The holder of relationship `a` (whose other end is `b`, maybe NULL:
 * the peer's kind does not show it) refers to its peer: it must be
 * deleted first. A mandatory end refers (the server refuses to delete
 * the peer of a mandatory relationship first); else a cardinality-one
 * end does, unless both are.
 */
static int refers(const struct hf_schema_rel *a, const struct hf_schema_rel *b)
{
	if (!a->optional && (!b || b->optional))
		return 1;
	if (b && !b->optional && a->optional)
		return 0;
	if (a->cardinality != HF_CARDINALITY_ONE)
		return 0;
	return !b || b->cardinality == HF_CARDINALITY_MANY;
}

/* The delete whose mutation removes node i: itself, or its cascade root. */
static long root_of(const struct pctx *c, long i)
{
	size_t steps;

	for (steps = 0; c->v[i].parent >= 0 && steps <= c->n; steps++)
		i = c->v[i].parent;
	return i;
}

/*
 * Node `waiter` goes after node `first`: the delete that removes the
 * waiter (its cascade root) depends on first's. Nothing within one
 * cascade: the server deletes it all at once.
 */
static int must_wait(struct pctx *c, long waiter, long first)
{
	long r = root_of(c, waiter);

	if (r == root_of(c, first))
		return 0;
	return dep_add(c->v[r].deps, c->v[first].cid);
}

/* The plan updates relationship `rel` of the surviving node `id`. */
static int repointed(const struct pctx *c, const char *id, const char *rel)
{
	json_t *at = json_object_get(c->declared, id), *n;
	const struct hf_change *ch;
	size_t i;

	if (!at)
		return 0;
	ch = hf_plan_at(c->plan, (size_t)json_integer_value(at));
	if (ch->action != HF_ACT_UPDATE)
		return 0;
	json_array_foreach(ch->changed, i, n)
	{
		if (!strcmp(json_string_value(n), rel))
			return 1;
	}
	return 0;
}

static void dangling(struct pctx *c, size_t i, const struct hf_ref *y,
                     const struct hf_schema_rel *back)
{
	char *who = node_name(c, i), *dep = name_of(y->kind, y->hfid, y->id);
	hf_buf *pb = problem(c);

	if (pb)
		hf_buf_addf(pb,
		            "cannot delete %s: %s, which is not deleted, "
		            "needs it (its mandatory relationship '%s')",
		            who ? who : "?", dep ? dep : "?", back->name);
	hf_free(who);
	hf_free(dep);
}

static int order_peer(struct pctx *c, size_t i, const struct hf_schema_rel *r,
                      const struct hf_schema_rel *back, const struct hf_ref *y)
{
	long yi = node_index(c, y->id);

	if (yi >= 0 && c->v[yi].live < 0)
		return 0; /* gone already */
	if (is_delete(c, yi)) {
		if (is_ancestor(c, (long)i, yi) || is_ancestor(c, yi, (long)i))
			return 0;
		if (refers(r, back))
			return must_wait(c, yi, (long)i);
		if (back && refers(back, r))
			return must_wait(c, (long)i, yi);
		return 0;
	}
	if (back && !back->optional && !repointed(c, y->id, back->name))
		dangling(c, i, y, back);
	return 0;
}

static void still_referred(struct pctx *c, size_t i);

static int order(struct pctx *c)
{
	const struct hf_schema_rel *r, *back;
	const struct hf_object *o;
	const hf_kind *k;
	size_t i, j, m;
	int rc = 0;

	for (i = 0; rc == 0 && i < c->n; i++) {
		if (!is_delete(c, (long)i))
			continue;
		if (c->v[i].parent >= 0)
			rc = dep_add(c->v[i].deps, c->v[c->v[i].parent].cid);
		still_referred(c, i);
		o = hf_objset_at(c->live, (size_t)c->v[i].live);
		k = hf_schema_kind(c->s, c->v[i].kind);
		for (j = 0; k && rc == 0 && j < o->nfields; j++) {
			if (o->fields[j].type == HF_FIELD_ATTR)
				continue;
			r = hf_schema_rel_find(k, o->fields[j].name);
			if (!r || is_group_rel(r))
				continue;
			back = hf_schema_rel_reverse(c->s, k, r);
			for (m = 0; rc == 0 && m < o->fields[j].nrefs; m++)
				rc = order_peer(c, i, r, back,
				                &o->fields[j].refs[m]);
		}
	}
	return rc;
}

/* The live attributes and cardinality-one relationships. */
static json_t *before_of(const struct hf_object *o, const hf_kind *k)
{
	const struct hf_schema_rel *r;
	json_t *b = json_object();
	size_t i;

	for (i = 0; b && i < o->nfields; i++) {
		if (o->fields[i].type == HF_FIELD_MANY)
			continue;
		r = hf_schema_rel_find(k, o->fields[i].name);
		if (r && is_group_rel(r))
			continue;
		if (json_object_set_new(b, o->fields[i].name,
		                        hf_field_json(&o->fields[i])) < 0) {
			json_decref(b);
			return NULL;
		}
	}
	return b;
}

static int add_change(struct pctx *c, size_t i, hf_error *err)
{
	const struct hf_object *o = hf_objset_at(c->live, (size_t)c->v[i].live);
	const json_t *h = hfid_of(c, i);
	struct hf_change ch;
	int rc;

	memset(&ch, 0, sizeof(ch));
	ch.action = c->v[i].forget ? HF_ACT_FORGET : HF_ACT_DELETE;
	ch.kind = hf_strdup(c->v[i].kind);
	ch.hfid = h ? json_deep_copy(h) : NULL;
	ch.node_id = hf_strdup(c->v[i].id);
	ch.before = before_of(o, hf_schema_kind(c->s, c->v[i].kind));
	ch.deps = json_incref(c->v[i].deps);
	if (c->v[i].parent >= 0)
		ch.cascade_of = hf_strdup(c->v[c->v[i].parent].cid);
	rc = ch.kind && ch.node_id && ch.before && (!h || ch.hfid) &&
	                     (c->v[i].parent < 0 || ch.cascade_of)
	             ? hf_diff_fingerprint_fields(ch.fingerprint, o, ch.before)
	             : HF_ENOMEM;
	if (rc < 0) {
		hf_free(ch.kind);
		hf_free(ch.node_id);
		hf_free(ch.cascade_of);
		json_decref(ch.hfid);
		json_decref(ch.before);
		json_decref(ch.deps);
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	return hf_plan_add(c->plan, &ch, err);
}

/* The identity key of (kind, hfid), as the files' references name it. */
static char *ref_key(const char *kind, const json_t *hfid)
{
	hf_buf b = HF_BUF_INIT;

	if (hf_identity_key(&b, kind, hfid) < 0 || hf_buf_failed(&b)) {
		hf_buf_release(&b);
		return NULL;
	}
	return hf_buf_detach(&b);
}

static int index_ref(struct pctx *c, size_t at, const char *field,
                     const json_t *v)
{
	const char *kind = json_string_value(json_object_get(v, "kind"));
	const json_t *h = json_object_get(v, "hfid");
	char *key;
	int rc = 0;

	if (!kind || !json_is_array(h))
		return 0;
	key = ref_key(kind, h);
	if (!key)
		return 0;
	if (!json_object_get(c->refs, key))
		rc = json_object_set_new(
		        c->refs, key,
		        json_pack("[I, s]", (json_int_t)at, field));
	hf_free(key);
	return rc;
}

/* What the declared objects refer to, by identity. */
static int index_refs(struct pctx *c)
{
	const struct hf_change *ch;
	const char *field;
	json_t *after, *v, *e;
	size_t i, j;
	int rc = 0;

	for (i = 0; rc == 0 && i < hf_plan_count(c->plan); i++) {
		ch = hf_plan_at(c->plan, i);
		if (ch->action == HF_ACT_DELETE || ch->action == HF_ACT_FORGET)
			continue;
		/* a no-op in text form is read as a tree for a moment */
		after = hf_change_after_json(ch);
		if (!after && (ch->after || ch->text))
			return HF_ENOMEM;
		json_object_foreach(after, field, v)
		{
			if (json_is_array(v)) {
				json_array_foreach(v, j, e)
				{
					if (rc == 0)
						rc = index_ref(c, i, field, e);
				}
			} else if (rc == 0) {
				rc = index_ref(c, i, field, v);
			}
		}
		json_decref(after);
	}
	return rc;
}

/* A delete of an object the files still refer to is a problem. */
static void still_referred(struct pctx *c, size_t i)
{
	const struct hf_object *o = hf_objset_at(c->live, (size_t)c->v[i].live);
	const struct hf_change *ch;
	const json_t *first;
	json_t *hit, *src = NULL;
	char *key = ref_key(c->v[i].kind, o->hfid), *who, *by;
	hf_buf *pb;

	hit = key ? json_object_get(c->refs, key) : NULL;
	hf_free(key);
	if (!hit)
		return;
	ch = hf_plan_at(c->plan,
	                (size_t)json_integer_value(json_array_get(hit, 0)));
	/* the first declaration, either form (NULL when out of memory) */
	if (hf_change_sources(ch, &src) < 0)
		src = NULL;
	first = json_array_get(src, 0);
	who = node_name(c, i);
	by = name_of(ch->kind, ch->hfid, ch->node_id);
	if ((pb = problem(c))) {
		hf_buf_addf(pb,
		            "cannot delete %s: the files still refer to it "
		            "(%s of %s",
		            who ? who : "?",
		            json_string_value(json_array_get(hit, 1)),
		            by ? by : "?");
		if (json_string_value(json_object_get(first, "file")))
			hf_buf_addf(pb, ", declared at %s:%lld",
			            json_string_value(
			                    json_object_get(first, "file")),
			            (long long)json_integer_value(
			                    json_object_get(first, "line")));
		hf_buf_add(pb, ")");
	}
	json_decref(src);
	hf_free(who);
	hf_free(by);
}

static int index_declared(struct pctx *c)
{
	const struct hf_change *ch;
	size_t i;

	for (i = 0; i < hf_plan_count(c->plan); i++) {
		ch = hf_plan_at(c->plan, i);
		if (ch->node_id &&
		    (ch->action == HF_ACT_UPDATE ||
		     ch->action == HF_ACT_NOOP) &&
		    json_object_set_new(c->declared, ch->node_id,
		                        json_integer((json_int_t)i)) < 0)
			return HF_ENOMEM;
	}
	return 0;
}

static void ctx_release(struct pctx *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		hf_free(c->v[i].id);
		hf_free(c->v[i].kind);
		json_decref(c->v[i].deps);
	}
	hf_free(c->v);
	hf_objset_free(c->live);
	json_decref(c->index);
	json_decref(c->declared);
	json_decref(c->refs);
	hf_buf_release(&c->problems);
}

static int seed(struct pctx *c, const json_t *doomed)
{
	const char *id, *kind;
	json_t *e;
	size_t i;
	int rc = 0;

	json_array_foreach(doomed, i, e)
	{
		id = json_string_value(json_object_get(e, "id"));
		kind = json_string_value(json_object_get(e, "kind"));
		if (rc == 0 && id && kind && node_index(c, id) < 0)
			rc = node_add(c, id, kind, -1);
	}
	return rc;
}

static int report(struct pctx *c, hf_error *err)
{
	if (!c->nproblems)
		return 0;
	if (hf_buf_failed(&c->problems))
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	if (c->nproblems > MAX_PROBLEMS)
		return hf_error_set(err, HF_EINVAL, "%s; and %zu more",
		                    c->problems.ptr,
		                    c->nproblems - MAX_PROBLEMS);
	return hf_error_set(err, HF_EINVAL, "%s", c->problems.ptr);
}

int hf_prune_plan(hf_plan *plan, const json_t *doomed, const hf_owner *owner,
                  const hf_schema *schema, hf_transport *tr,
                  hf_prune_keep_fn keep, void *payload, hf_error *err)
{
	struct pctx c;
	size_t i;
	int rc;

	memset(&c, 0, sizeof(c));
	c.plan = plan;
	c.own = owner;
	c.s = schema;
	c.tr = tr;
	c.keep = keep;
	c.payload = payload;
	c.index = json_object();
	c.declared = json_object();
	c.refs = json_object();
	rc = c.index && c.declared && c.refs && hf_objset_new(&c.live) == 0 &&
	                     index_declared(&c) == 0 && index_refs(&c) == 0 &&
	                     seed(&c, doomed) == 0
	             ? 0
	             : hf_error_set(err, HF_ENOMEM, "out of memory");
	if (rc == 0)
		rc = gather(&c, err);
	if (rc == 0 && (compute_ids(&c) < 0 || order(&c) < 0))
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	if (rc == 0)
		rc = report(&c, err);
	for (i = 0; rc == 0 && i < c.n; i++)
		if (c.v[i].live >= 0 && !c.v[i].kept)
			rc = add_change(&c, i, err);
	ctx_release(&c);
	return rc;
}
