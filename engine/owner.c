/*
 * Stack ownership: read the hubform-<stack> group and its members, and
 * the other stacks' groups, through the transport seam.
 */
#include <string.h>

#include "hf/alloc.h"
#include "hf/array.h"
#include "hf/model.h"
#include "hf/owner.h"
#include "hf/banned.h"

struct member {
	char *id;
	char *kind;
};

struct hf_owner {
	char *stack;
	char *group_id;
	struct member *m;
	size_t n, cap;
	json_t *ids; /* member id -> true */
	json_t *others; /* other stacks' group id -> stack name */
};

static const char q_groups[] =
        "query ($name: String) { CoreStandardGroup(name__value: $name, "
        "partial_match: true) { count edges { node { id name { value } } } } }";

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
		o->ids = json_object();
		o->others = json_object();
	}
	if (!o || !o->stack || !o->ids || !o->others) {
		hf_owner_free(o);
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	*out = o;
	return 0;
}

void hf_owner_free(hf_owner *o)
{
	size_t i;

	if (!o)
		return;
	for (i = 0; i < o->n; i++) {
		hf_free(o->m[i].id);
		hf_free(o->m[i].kind);
	}
	hf_free(o->m);
	hf_free(o->stack);
	hf_free(o->group_id);
	json_decref(o->ids);
	json_decref(o->others);
	hf_free(o);
}

int hf_owner_add_member(hf_owner *o, const char *id, const char *kind)
{
	struct member *m;

	if (json_object_get(o->ids, id))
		return 0;
	if (HF_ARRAY_GROW(o->m, o->cap, o->n + 1) < 0)
		return HF_ENOMEM;
	m = &o->m[o->n];
	m->id = hf_strdup(id);
	m->kind = hf_strdup(kind);
	if (!m->id || !m->kind ||
	    json_object_set_new(o->ids, id, json_true()) < 0) {
		hf_free(m->id);
		hf_free(m->kind);
		return HF_ENOMEM;
	}
	o->n++;
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

int hf_owner_owns(const hf_owner *o, const char *node_id)
{
	return node_id && json_object_get(o->ids, node_id) != NULL;
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

static int read_members(hf_owner *o, hf_transport *tr, long page, hf_error *err)
{
	json_t *data = NULL;
	long offset = 0, total = 0;
	size_t got = 0;
	int rc;

	for (;;) {
		rc = gql(tr, q_members,
		         json_pack("{s:[s], s:I, s:I}", "ids", o->group_id,
		                   "offset", (json_int_t)offset, "limit",
		                   (json_int_t)page),
		         &data, err);
		if (rc == 0)
			rc = take_members(o, data, &got, &total, err);
		json_decref(data);
		data = NULL;
		if (rc < 0)
			return rc;
		offset += (long)got;
		if (got == 0 || offset >= total)
			return 0;
	}
}

int hf_owner_read(hf_owner **out, hf_transport *tr, const char *stack,
                  long page_size, hf_error *err)
{
	json_t *data = NULL;
	hf_owner *o;
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
		rc = read_members(o, tr, page_size > 0 ? page_size : 1000, err);
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
