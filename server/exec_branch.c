/*
 * Branch query and the Branch* mutations, all synchronous. The branch
 * rows live in the database; here the caches are kept honest: a new
 * branch gets main's schema, a merge or rebase drops the mirrors and
 * schemas it changed.
 */
#include <stdio.h>
#include <string.h>

#include "exec_int.h"
#include "hf/alloc.h"
#include "hf/banned.h"

static const char *const ops[] = {
	"BranchCreate", "BranchDelete",   "BranchMerge", "BranchUpdate",
	"BranchRebase", "BranchValidate", NULL
};

int xbr_is_mutation(const char *name)
{
	size_t i;

	for (i = 0; ops[i]; i++) {
		if (!strcmp(ops[i], name))
			return 1;
	}
	return 0;
}

void xbr_write(struct xreq *r, const json_t *br,
               const struct hfs_gql_field_group *g)
{
	const struct hfs_gql_fields *f;
	size_t i;
	int first = 1;

	if (!br || xr_collect(r, "Branch", g, NULL, &f, NULL) < 0) {
		hf_buf_add(&r->out, "null");
		return;
	}
	hf_buf_addch(&r->out, '{');
	for (i = 0; i < f->count; i++) {
		const char *name = f->groups[i].fields[0]->name;

		xw_key(&r->out, &first, f->groups[i].key);
		if (!strcmp(name, "__typename"))
			xw_str(&r->out, "Branch");
		else
			xw_json(&r->out, json_object_get(br, name));
	}
	hf_buf_addch(&r->out, '}');
}

static int wanted(const json_t *br, const json_t *ids, const json_t *name)
{
	const char *id = json_string_value(json_object_get(br, "id"));
	size_t i;

	if (json_is_string(name) &&
	    strcmp(json_string_value(name),
	           json_string_value(json_object_get(br, "name"))))
		return 0;
	if (!json_is_array(ids))
		return 1;
	for (i = 0; i < json_array_size(ids); i++) {
		const char *want = json_string_value(json_array_get(ids, i));

		if (want && id && !strcmp(want, id))
			return 1;
	}
	return 0;
}

int xbr_query(struct xreq *r, const struct hfs_gql_field_group *g,
              hf_error *err)
{
	json_t *list = NULL, *ids = xr_arg(r, g, "ids");
	json_t *name = xr_arg(r, g, "name"), *br;
	size_t i;
	int rc, n = 0;

	rc = hfs_db_branch_list(r->db, &list, err);
	if (rc == 0) {
		hf_buf_addch(&r->out, '[');
		json_array_foreach(list, i, br)
		{
			if (!wanted(br, ids, name))
				continue;
			if (n++)
				hf_buf_addch(&r->out, ',');
			xbr_write(r, br, g);
		}
		hf_buf_addch(&r->out, ']');
	}
	json_decref(list);
	json_decref(ids);
	json_decref(name);
	return rc;
}

/* ---- mutations ----------------------------------------------------------- */

struct bres {
	json_t *object; /* branch object or NULL */
	json_t *messages; /* BranchValidate */
	int ok;
};

static int copy_schema(struct xreq *r, const char *from, const char *to,
                       hf_error *err)
{
	char key[300], *text = NULL;
	int rc;

	snprintf(key, sizeof(key), "schema:%s", from);
	rc = hfs_db_meta_get(r->db, key, &text, err);
	if (rc == HF_ENOTFOUND)
		return 0;
	snprintf(key, sizeof(key), "schema:%s", to);
	if (rc == 0)
		rc = hfs_db_meta_set(r->db, key, text, err);
	hf_free(text);
	return rc;
}

static int branch_create(struct xreq *r, const json_t *d, struct bres *res,
                         hf_error *err)
{
	struct hfs_branch_input in = HFS_BRANCH_INPUT_INIT;
	json_t *sync = json_object_get(d, "sync_with_git");
	char msg[sizeof(err->msg)];
	int rc;

	in.id = json_string_value(json_object_get(d, "id"));
	in.name = json_string_value(json_object_get(d, "name"));
	in.description = json_string_value(json_object_get(d, "description"));
	in.origin_branch =
	        json_string_value(json_object_get(d, "origin_branch"));
	if (json_is_boolean(sync))
		in.sync_with_git = json_is_true(sync);
	rc = hfs_db_branch_create(r->db, &in, &res->object, err);
	if (rc < 0 && err && !strncmp(err->msg, "Branch name contains", 20)) {
		snprintf(msg, sizeof(msg), "%s", err->msg);
		return hf_error_set(err, rc,
		                    "invalid field name: Value error, %s", msg);
	}
	if (rc == 0)
		rc = copy_schema(r, hfs_db_main(r->db), in.name, err);
	xs_drop(r->x, in.name);
	xc_drop(&r->x->cache, in.name);
	return rc;
}

/* Forget what a branch operation changed under the caches. */
static void forget(struct xreq *r, const char *name, int main_too)
{
	xc_drop(&r->x->cache, name);
	xs_drop(r->x, name);
	if (main_too) {
		xc_drop(&r->x->cache, hfs_db_main(r->db));
		xs_drop(r->x, hfs_db_main(r->db));
	}
	r->b = NULL;
}

/*
 * Merging re-checks uniqueness against the default branch as it is now,
 * as Infrahub validates constraints at merge: two branches that each
 * created a node with the same unique value (two applies at once) must
 * not both land. A node the branch wrote whose unique attribute value is
 * held by another node on main refuses the merge.
 */
static int merge_unique(struct xreq *r, const char *name, hf_error *err)
{
	const char *main_name = hfs_db_main(r->db);
	const hfs_schema *s = NULL;
	struct xbranch *b = NULL, *m = NULL;
	struct xnode *n, *other;
	const struct hfs_kind *k;
	json_t *ids = NULL, *id, *v;
	size_t i, j;
	int rc;

	rc = hfs_db_branch_written(r->db, name, &ids, err);
	if (rc < 0 || !json_array_size(ids)) {
		json_decref(ids);
		return rc; /* nothing written (or no such branch: merge says) */
	}
	rc = xs_get(r->x, name, &s, err);
	if (rc == 0)
		rc = xc_branch(&r->x->cache, r->db, name, s, &b, err);
	if (rc == 0)
		rc = xc_branch(&r->x->cache, r->db, main_name, s, &m, err);
	json_array_foreach(ids, i, id)
	{
		n = rc == 0 ? xb_node(b, json_string_value(id)) : NULL;
		k = n ? hfs_schema_kind(s, n->kind) : NULL;
		for (j = 0; k && rc == 0 && j < k->nattrs; j++) {
			if (!k->attrs[j].unique)
				continue;
			v = json_object_get(
			        json_object_get(n->data, k->attrs[j].name),
			        "value");
			if (!v || json_is_null(v))
				continue;
			other = NULL;
			rc = xb_find_value(m, k, k->attrs[j].name, v, &other,
			                   err);
			if (rc == 0 && other && strcmp(other->id, n->id)) {
				char *t = json_dumps(v, JSON_ENCODE_ANY);

				rc = hf_error_set(
				        err, HF_EINVAL,
				        "Unable to merge the branch '%s', "
				        "validation failed: %s.%s must be "
				        "unique: %s is already used by %s "
				        "on '%s'",
				        name, n->kind, k->attrs[j].name,
				        t ? t : "?", other->id, main_name);
				hf_free(t);
			}
		}
	}
	json_decref(ids);
	return rc;
}

/*
 * The same for the multi-field uniqueness constraints and the HFID of
 * every kind the branch wrote: a constraint's key is its attribute
 * values and its relationships' peer ids (ids are the same on every
 * branch). Main's nodes of those kinds are keyed once, leaving out the
 * nodes the branch itself wrote (the branch's version replaces them at
 * the merge); then each node the branch wrote is looked up.
 */
#define KSEP "\x1f"

/* 0 with the key in `key`, 1 when a part is missing (no key), < 0. */
static int cons_key(struct xbranch *b, const struct hfs_kind *k,
                    const struct xnode *n, size_t c, hf_buf *key, hf_error *err)
{
	const struct hfs_strv *paths = c < k->nuniq ? &k->uniq[c] : &k->hfid;
	const struct hfs_attr *a;
	const struct hfs_rel *rel;
	struct xnode *peer;
	struct xsplit sp;
	json_t *v;
	size_t i;
	int rc;

	hf_buf_reset(key);
	hf_buf_addf(key, "%s" KSEP "%zu", k->kind, c);
	for (i = 0; i < paths->n; i++) {
		xsplit_path(&sp, paths->v[i]);
		a = hfs_kind_attr(k, sp.p[0]);
		if (a) {
			v = xn_value(n, a);
			if (!v || json_is_null(v))
				return 1;
			hf_buf_add(key, KSEP);
			xval_key(key, v);
			continue;
		}
		rel = hfs_kind_rel(k, sp.p[0]);
		if (!rel || rel->many)
			return 1;
		rc = xb_peer_one(b, n, rel, &peer, NULL, err);
		if (rc < 0)
			return rc;
		if (!peer)
			return 1;
		hf_buf_addf(key, KSEP "p%s", peer->id);
	}
	return hf_buf_failed(key)
	               ? hf_error_set(err, HF_ENOMEM, "out of memory")
	               : 0;
}

static size_t cons_count(const struct hfs_kind *k)
{
	return k->nuniq + (k->hfid.n ? 1 : 0);
}

/* Key main's nodes of kind k that the branch did not write. */
static int cons_index_main(struct xbranch *m, const struct hfs_kind *k,
                           const struct xmap *written, struct xmap *keys,
                           hf_error *err)
{
	struct xnode **v;
	hf_buf key = HF_BUF_INIT;
	size_t i, c, nv;
	int rc = 0;

	xb_kind_nodes(m, k->kind, &v, &nv);
	for (i = 0; rc >= 0 && i < nv; i++) {
		if (xmap_get(written, v[i]->id))
			continue;
		for (c = 0; rc >= 0 && c < cons_count(k); c++) {
			rc = cons_key(m, k, v[i], c, &key, err);
			if (rc == 0 && xmap_put(keys, key.ptr, v[i]) < 0)
				rc = hf_error_set(err, HF_ENOMEM,
				                  "out of memory");
		}
	}
	hf_buf_release(&key);
	return rc < 0 ? rc : 0;
}

static int cons_error(const char *name, const char *main_name,
                      const struct hfs_kind *k, size_t c, const struct xnode *n,
                      const struct xnode *other, hf_error *err)
{
	const struct hfs_strv *paths = c < k->nuniq ? &k->uniq[c] : &k->hfid;
	hf_buf what = HF_BUF_INIT;
	size_t i;
	int rc;

	for (i = 0; i < paths->n; i++)
		hf_buf_addf(&what, "%s%s", i ? ", " : "", paths->v[i]);
	rc = hf_error_set(err, HF_EINVAL,
	                  "Unable to merge the branch '%s', validation "
	                  "failed: %s %s violates %s [%s]: the same values "
	                  "are already used by %s on '%s'",
	                  name, n->kind, n->id,
	                  c < k->nuniq ? "uniqueness constraint"
	                               : "human_friendly_id",
	                  what.ptr, other->id, main_name);
	hf_buf_release(&what);
	return rc;
}

/* Check the nodes of branch b listed in ids against main's keys. */
static int cons_check(const char *name, const char *main_name,
                      struct xbranch *b, const hfs_schema *s, const json_t *ids,
                      const struct xmap *keys, hf_error *err)
{
	const struct hfs_kind *k;
	struct xnode *n, *other;
	hf_buf key = HF_BUF_INIT;
	const json_t *id;
	size_t i, c;
	int rc = 0;

	json_array_foreach(ids, i, id)
	{
		n = rc >= 0 ? xb_node(b, json_string_value(id)) : NULL;
		k = n ? hfs_schema_kind(s, n->kind) : NULL;
		for (c = 0; k && rc >= 0 && c < cons_count(k); c++) {
			rc = cons_key(b, k, n, c, &key, err);
			other = rc == 0 ? xmap_get(keys, key.ptr) : NULL;
			if (other)
				rc = cons_error(name, main_name, k, c, n, other,
				                err);
		}
	}
	hf_buf_release(&key);
	return rc < 0 ? rc : 0;
}

static int merge_constraints(struct xreq *r, const char *name, hf_error *err)
{
	const char *main_name = hfs_db_main(r->db);
	struct xmap written = XMAP_INIT, kinds = XMAP_INIT, keys = XMAP_INIT;
	const hfs_schema *s = NULL;
	struct xbranch *b = NULL, *m = NULL;
	const struct hfs_kind *k;
	struct xnode *n;
	json_t *ids = NULL, *id;
	size_t i;
	int rc;

	rc = hfs_db_branch_written(r->db, name, &ids, err);
	if (rc < 0 || !json_array_size(ids)) {
		json_decref(ids);
		return rc;
	}
	rc = xs_get(r->x, name, &s, err);
	if (rc == 0)
		rc = xc_branch(&r->x->cache, r->db, name, s, &b, err);
	if (rc == 0)
		rc = xc_branch(&r->x->cache, r->db, main_name, s, &m, err);
	json_array_foreach(ids, i, id)
	{
		if (rc == 0 &&
		    xmap_put(&written, json_string_value(id), (void *)1) < 0)
			rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	json_array_foreach(ids, i, id)
	{
		n = rc == 0 ? xb_node(b, json_string_value(id)) : NULL;
		k = n ? hfs_schema_kind(s, n->kind) : NULL;
		if (!k || !cons_count(k) || xmap_get(&kinds, k->kind))
			continue;
		if (xmap_put(&kinds, k->kind, (void *)1) < 0)
			rc = hf_error_set(err, HF_ENOMEM, "out of memory");
		else
			rc = cons_index_main(m, k, &written, &keys, err);
	}
	if (rc == 0)
		rc = cons_check(name, main_name, b, s, ids, &keys, err);
	xmap_release(&keys);
	xmap_release(&kinds);
	xmap_release(&written);
	json_decref(ids);
	return rc;
}

static int branch_op(struct xreq *r, const char *op, const json_t *d,
                     struct bres *res, hf_error *err)
{
	const char *name = json_string_value(json_object_get(d, "name"));
	int rc = 0;

	res->ok = 1;
	if (!strcmp(op, "BranchCreate"))
		return branch_create(r, d, res, err);
	if (!name)
		return hf_error_set(err, HF_EINVAL,
		                    "Field 'name' of required type 'String!' "
		                    "was not provided.");
	if (!strcmp(op, "BranchDelete")) {
		rc = hfs_db_branch_delete(r->db, name, err);
		forget(r, name, 0);
		return rc;
	}
	if (!strcmp(op, "BranchUpdate")) {
		rc = hfs_db_branch_update(
		        r->db, name,
		        json_string_value(json_object_get(d, "description")),
		        err);
	} else if (!strcmp(op, "BranchMerge")) {
		rc = merge_unique(r, name, err);
		if (rc == 0)
			rc = merge_constraints(r, name, err);
		if (rc == 0)
			rc = hfs_db_branch_merge(r->db, name, err);
		forget(r, name, 1);
	} else if (!strcmp(op, "BranchRebase")) {
		rc = hfs_db_branch_rebase(r->db, name, err);
		forget(r, name, 0);
	} else if (!strcmp(op, "BranchValidate")) {
		rc = hfs_db_branch_validate(r->db, name, &res->messages, err);
		res->ok = rc == 0 && json_array_size(res->messages) == 0;
	}
	if (rc == 0)
		rc = hfs_db_branch_get(r->db, name, &res->object, err);
	return rc;
}

static void write_result(struct xreq *r, const struct hfs_gql_field_group *g,
                         const struct bres *res)
{
	const struct hfs_gql_fields *f;
	size_t i;
	int first = 1;

	if (xr_collect(r, g->fields[0]->name, g, NULL, &f, NULL) < 0) {
		hf_buf_add(&r->out, "null");
		return;
	}
	hf_buf_addch(&r->out, '{');
	for (i = 0; i < f->count; i++) {
		const char *name = f->groups[i].fields[0]->name;

		xw_key(&r->out, &first, f->groups[i].key);
		if (!strcmp(name, "ok"))
			hf_buf_add(&r->out, res->ok ? "true" : "false");
		else if (!strcmp(name, "object"))
			xbr_write(r, res->object, &f->groups[i]);
		else if (!strcmp(name, "messages") && res->messages)
			xw_json(&r->out, res->messages);
		else if (!strcmp(name, "messages"))
			hf_buf_add(&r->out, "[]");
		else if (!strcmp(name, "__typename"))
			xw_str(&r->out, g->fields[0]->name);
		else
			hf_buf_add(&r->out, "null");
	}
	hf_buf_addch(&r->out, '}');
}

int xbr_mutation(struct xreq *r, const struct hfs_gql_field_group *g,
                 hf_error *err)
{
	struct bres res = { NULL, NULL, 0 };
	json_t *d = xr_arg(r, g, "data");
	int rc;

	if (!json_is_object(d))
		rc = hf_error_set(err, HF_EINVAL,
		                  "Field '%s' argument 'data' is required",
		                  g->fields[0]->name);
	else
		rc = branch_op(r, g->fields[0]->name, d, &res, err);
	if (rc == 0)
		write_result(r, g, &res);
	json_decref(res.object);
	json_decref(res.messages);
	json_decref(d);
	return rc;
}
