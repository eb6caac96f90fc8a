/*
 * The GraphQL request driver: parse, validate, pick the operation, coerce
 * variables, then run the top-level fields. Queries write straight into
 * one output buffer. A mutation operation runs in one transaction; each
 * mutation field gets its own savepoint, so a failing field leaves null
 * and an entry in errors[] while the others still run.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "exec_int.h"
#include "hf/alloc.h"
#include "pool.h"

#include "hf/banned.h"

#define VERSION "1.0.0"

/* ---- schema cache -------------------------------------------------------- */

static void retire(struct hfs_exec *x, hfs_schema *s)
{
	hfs_schema **v;

	if (!s)
		return;
	v = hf_reallocarray(x->retired, x->nretired + 1, sizeof(*v));
	if (!v) {
		/* cannot defer: nothing may still use it at this point */
		hfs_schema_free(s);
		return;
	}
	x->retired = v;
	x->retired[x->nretired++] = s;
}

void xs_retired_free(struct hfs_exec *x)
{
	size_t i;

	for (i = 0; i < x->nretired; i++)
		hfs_schema_free(x->retired[i]);
	hf_free(x->retired);
	x->retired = NULL;
	x->nretired = 0;
}

int xs_get(struct hfs_exec *x, const char *branch, const hfs_schema **out,
           hf_error *err)
{
	hfs_schema *s = xmap_get(&x->schemas, branch);
	char key[300], *text = NULL;
	int rc;

	*out = s;
	if (s)
		return 0;
	snprintf(key, sizeof(key), "schema:%s", branch);
	rc = hfs_db_meta_get(x->db, key, &text, err);
	if (rc < 0 && rc != HF_ENOTFOUND)
		return rc;
	rc = hfs_schema_new(&s, text, err);
	hf_free(text);
	if (rc < 0)
		return rc;
	if (xmap_put(&x->schemas, branch, s) < 0) {
		hfs_schema_free(s);
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	*out = s;
	return 0;
}

void xs_drop(struct hfs_exec *x, const char *branch)
{
	hfs_schema *s = xmap_get(&x->schemas, branch);

	if (!s)
		return;
	xmap_del(&x->schemas, branch, s);
	retire(x, s);
}

void xs_set(struct hfs_exec *x, const char *branch, hfs_schema *s)
{
	xs_drop(x, branch);
	if (xmap_put(&x->schemas, branch, s) < 0)
		retire(x, s);
}

static void schema_free_cb(const char *key, void *val, void *payload)
{
	(void)key;
	(void)payload;
	hfs_schema_free(val);
}

/* ---- lifecycle ----------------------------------------------------------- */

static int deployment_id(struct hfs_exec *x, hf_error *err)
{
	char *text = NULL;
	int rc;

	hfs_db_lock(x->db);
	rc = hfs_db_meta_get(x->db, "deployment_id", &text, err);
	if (rc == 0 && text && hfs_db_is_uuid(text)) {
		snprintf(x->deployment_id, sizeof(x->deployment_id), "%s",
		         text);
	} else if (rc == 0 || rc == HF_ENOTFOUND) {
		hfs_db_uuid(x->deployment_id);
		rc = hfs_db_meta_set(x->db, "deployment_id", x->deployment_id,
		                     err);
	}
	hfs_db_unlock(x->db);
	hf_free(text);
	return rc;
}

int hfs_exec_new(hfs_exec **out, struct hfs_db *db,
                 const struct hf_server_faults *faults, hf_error *err)
{
	struct hfs_exec *x;
	int rc;

	*out = NULL;
	x = hf_calloc(1, sizeof(*x));
	if (!x)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	x->db = db;
	x->fail_at = faults ? faults->fail_mutation : 0;
	if (faults)
		x->faults = *faults;
	atomic_init(&x->waiting, 0);
	atomic_init(&x->max_waiting, 0);
	rc = deployment_id(x, err);
	if (rc < 0) {
		hfs_exec_free(x);
		return rc;
	}
	*out = x;
	return 0;
}

void hfs_exec_free(hfs_exec *x)
{
	if (!x)
		return;
	xc_release(&x->cache);
	xmap_each(&x->schemas, schema_free_cb, NULL);
	xmap_release(&x->schemas);
	xs_retired_free(x);
	hf_free(x);
}

int hfs_exec_branch_exists(hfs_exec *x, const char *branch, hf_error *err)
{
	json_t *br = NULL;
	int rc = hfs_db_branch_get(x->db, branch, &br, err);

	json_decref(br);
	if (rc == HF_ENOTFOUND)
		return 0;
	return rc < 0 ? rc : 1;
}

int hfs_exec_kind_count(hfs_exec *x, const char *branch, const char *kind,
                        size_t *out, hf_error *err)
{
	const hfs_schema *s;
	const struct hfs_kind *k;
	struct xbranch *b;
	struct xkind *xk;
	size_t i, nk;
	int rc;

	*out = 0;
	rc = xs_get(x, branch, &s, err);
	k = rc == 0 ? hfs_schema_kind(s, kind) : NULL;
	if (!k)
		return rc;
	rc = xc_branch(&x->cache, x->db, branch, s, &b, err);
	nk = k->is_generic ? k->used_by.n : 1;
	for (i = 0; rc == 0 && i < nk; i++) {
		xk = xb_kind(b, k->is_generic ? k->used_by.v[i] : k->kind);
		*out += xk ? xk->n - xk->dead : 0;
	}
	return rc;
}

/* ---- cost model ---------------------------------------------------------- */

long hfs_exec_cost_ms(const struct hf_server_faults *f, long nops)
{
	if (!f || (f->cost_request_ms <= 0 && f->cost_op_ms <= 0))
		return 0;
	return f->cost_request_ms + (nops > 0 ? nops : 0) * f->cost_op_ms;
}

void hfs_exec_costs_get(hfs_exec *x, struct hfs_exec_costs *out)
{
	*out = x->costs;
	out->max_overlap = atomic_load(&x->max_waiting);
}

unsigned long long hfs_exec_examined(hfs_exec *x)
{
	return x->examined;
}

unsigned long long hfs_exec_mirror_loads(hfs_exec *x)
{
	return x->cache.loads;
}

static void sleep_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0)
		;
}

void xcost_wait(struct hfs_exec *x, long nops)
{
	long ms = hfs_exec_cost_ms(&x->faults, nops), now, max;

	if (x->faults.cost_request_ms <= 0 && x->faults.cost_op_ms <= 0)
		return;
	x->costs.requests++;
	x->costs.ops += nops > 0 ? nops : 0;
	x->costs.last_ms = ms;
	x->costs.total_ms += ms;
	hfs_db_unlock(x->db);
	now = atomic_fetch_add(&x->waiting, 1) + 1;
	max = atomic_load(&x->max_waiting);
	while (now > max &&
	       !atomic_compare_exchange_weak(&x->max_waiting, &max, now))
		;
	if (ms > 0)
		sleep_ms(ms);
	atomic_fetch_sub(&x->waiting, 1);
	hfs_db_lock(x->db);
}

/* Operations of a request for cost=: its top-level fields but __typename. */
static long count_ops(const struct hfs_gql_fields *f)
{
	long n = 0;
	size_t i;

	for (i = 0; i < f->count; i++)
		n += strcmp(f->groups[i].fields[0]->name, "__typename") != 0;
	return n;
}

/* ---- request helpers ----------------------------------------------------- */

int xr_branch(struct xreq *r, hf_error *err)
{
	return xc_branch(&r->x->cache, r->db, r->branch, r->s, &r->b, err);
}

void xr_error(struct xreq *r, const struct hfs_gql_selection *at,
              const char *key, const char *msg)
{
	json_t *e = json_pack("{ss}", "message", msg);

	if (!e)
		return;
	if (at)
		json_object_set_new(e, "locations",
		                    json_pack("[{sisi}]", "line", at->line,
		                              "column", at->col));
	if (key)
		json_object_set_new(e, "path", json_pack("[s]", key));
	json_array_append_new(r->errors, e);
}

static int match_type(const char *cond, const char *concrete, void *payload)
{
	struct xreq *r = payload;

	if (!strcmp(cond, concrete))
		return 1;
	return hfs_schema_is_a(r->s, concrete, cond);
}

static void memo_free(const char *key, void *val, void *payload)
{
	(void)key;
	(void)payload;
	hfs_gql_fields_release(val);
	hf_free(val);
}

int xr_collect(struct xreq *r, const char *type,
               const struct hfs_gql_field_group *g,
               const struct hfs_gql_selection *sel,
               const struct hfs_gql_fields **out, hf_error *err)
{
	struct hfs_gql_collect_opts o = { r->doc, type, match_type, r,
		                          r->vars };
	struct hfs_gql_fields *f;
	char key[400];
	int rc;

	snprintf(key, sizeof(key), "%p|%p|%s", (const void *)g,
	         (const void *)sel, type);
	*out = f = xmap_get(&r->memo, key);
	if (f)
		return 0;
	f = hf_calloc(1, sizeof(*f));
	if (!f)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	rc = g ? hfs_gql_collect_group(f, &o, g, err)
	       : hfs_gql_collect(f, &o, sel, err);
	if (rc == 0 && xmap_put(&r->memo, key, f) < 0)
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	if (rc < 0) {
		memo_free(key, f, NULL);
		return rc;
	}
	*out = f;
	return 0;
}

json_t *xr_arg(struct xreq *r, const struct hfs_gql_field_group *g,
               const char *name)
{
	json_t *v = NULL;

	if (hfs_gql_arg_json(&v, g->fields[0], name, r->vars, NULL) < 0)
		return NULL;
	return v;
}

/* ---- top level ----------------------------------------------------------- */

static void write_info(struct xreq *r, const struct hfs_gql_field_group *g)
{
	const struct hfs_gql_fields *f;
	hf_error err = HF_ERROR_INIT;
	size_t i;
	int first = 1;

	if (xr_collect(r, "Info", g, NULL, &f, &err) < 0) {
		hf_buf_add(&r->out, "null");
		return;
	}
	hf_buf_addch(&r->out, '{');
	for (i = 0; i < f->count; i++) {
		const char *n = f->groups[i].fields[0]->name;

		xw_key(&r->out, &first, f->groups[i].key);
		if (!strcmp(n, "version"))
			xw_str(&r->out, VERSION);
		else if (!strcmp(n, "deployment_id"))
			xw_str(&r->out, r->x->deployment_id);
		else if (!strcmp(n, "__typename"))
			xw_str(&r->out, "Info");
		else
			hf_buf_add(&r->out, "null");
	}
	hf_buf_addch(&r->out, '}');
}

static int query_field(struct xreq *r, const struct hfs_gql_field_group *g,
                       hf_error *err)
{
	const char *name = g->fields[0]->name;

	if (!strcmp(name, "__typename")) {
		xw_str(&r->out, "Query");
		return 0;
	}
	if (!strcmp(name, "InfrahubInfo")) {
		write_info(r, g);
		return 0;
	}
	if (!strcmp(name, "Branch"))
		return xbr_query(r, g, err);
	if (xp_is_query(name))
		return xp_query(r, g, err);
	return xq_field(r, g, err);
}

static void field_failed(struct xreq *r, const struct hfs_gql_field_group *g,
                         size_t mark, const hf_error *err)
{
	hf_buf_setlen(&r->out, mark);
	hf_buf_add(&r->out, "null");
	xr_error(r, g->fields[0], g->key,
	         err->msg[0] ? err->msg : "internal error");
}

static int run_query(struct xreq *r, const struct hfs_gql_fields *f)
{
	size_t i, mark;
	int first = 1, rc;

	hf_buf_addch(&r->out, '{');
	for (i = 0; i < f->count; i++) {
		hf_error err = HF_ERROR_INIT;

		xw_key(&r->out, &first, f->groups[i].key);
		mark = r->out.len;
		rc = query_field(r, &f->groups[i], &err);
		if (rc == HF_ENOMEM)
			return rc;
		if (rc < 0)
			field_failed(r, &f->groups[i], mark, &err);
	}
	hf_buf_addch(&r->out, '}');
	return 0;
}

/*
 * Infrahub 1.8 freezes a branch once merged: data mutations on it fail
 * (core/branch/merged_status.py). The branch object says so through its
 * status ("MERGED").
 */
static int frozen(struct xreq *r, hf_error *err)
{
	json_t *br = NULL;
	const char *status;
	int rc = 0;

	if (!r->frozen_checked) {
		rc = hfs_db_branch_get(r->db, r->branch, &br, err);
		status = json_string_value(json_object_get(br, "status"));
		r->frozen_checked =
		        status && !strcmp(status, "MERGED") ? -1 : 1;
		json_decref(br);
		if (rc < 0) {
			r->frozen_checked = 0;
			return rc;
		}
	}
	if (r->frozen_checked > 0)
		return 0;
	return hf_error_set(err, HF_EINVAL,
	                    "Branch '%s' has been merged and is read-only. "
	                    "No modifications are allowed.",
	                    r->branch);
}

static int mutation_one(struct xreq *r, const struct hfs_gql_field_group *g,
                        hf_error *err)
{
	const char *name = g->fields[0]->name;
	int rc;

	if (!strcmp(name, "__typename")) {
		xw_str(&r->out, "Mutation");
		return 1;
	}
	r->x->nmutations++;
	if (r->x->fail_at > 0 && r->x->nmutations == r->x->fail_at)
		return hf_error_set(err, HF_EINVAL,
		                    "injected fault: fail-mutation=%ld",
		                    r->x->fail_at);
	if (xbr_is_mutation(name)) {
		r->frozen_checked = 0; /* a merge may freeze the branch */
		return xbr_mutation(r, g, err);
	}
	rc = frozen(r, err);
	if (rc < 0)
		return rc;
	if (xp_is_mutation(name))
		return xp_mutation(r, g, err);
	return xm_field(r, g, err);
}

/* One mutation field inside its own savepoint. */
static int mutation_field(struct xreq *r, const struct hfs_gql_field_group *g,
                          int *ok)
{
	hf_error err = HF_ERROR_INIT;
	size_t mark = r->out.len;
	int rc;

	rc = hfs_db_savepoint(r->db, "hfs_field", &err);
	if (rc == 0)
		rc = mutation_one(r, g, &err);
	if (rc >= 0) {
		rc = hfs_db_release(r->db, "hfs_field", &err);
		if (rc == 0)
			(*ok)++;
	}
	if (rc < 0) {
		(void)hfs_db_rollback_to(r->db, "hfs_field", NULL);
		/* the mirrors may hold what was just undone */
		xc_drop_all(&r->x->cache);
		r->b = NULL;
		field_failed(r, g, mark, &err);
	}
	return rc == HF_ENOMEM ? rc : 0;
}

static int run_mutation(struct xreq *r, const struct hfs_gql_fields *f)
{
	hf_error err = HF_ERROR_INIT;
	size_t i;
	int first = 1, ok = 0, rc;

	rc = hfs_db_begin(r->db, &err);
	if (rc < 0)
		return rc;
	hf_buf_addch(&r->out, '{');
	for (i = 0; rc == 0 && i < f->count; i++) {
		xw_key(&r->out, &first, f->groups[i].key);
		rc = mutation_field(r, &f->groups[i], &ok);
	}
	hf_buf_addch(&r->out, '}');
	if (rc == 0)
		rc = hfs_db_commit(r->db, &err);
	if (rc < 0) {
		hfs_db_rollback(r->db);
		xc_drop_all(&r->x->cache);
		r->b = NULL;
		return rc;
	}
	r->mutated = ok > 0;
	return 0;
}

/* ---- errors before execution --------------------------------------------- */

static void early_error(struct xreq *r, const hf_error *err)
{
	json_t *e = json_pack("{ss}", "message", err->msg);

	if (e && err->line > 0)
		json_object_set_new(e, "locations",
		                    json_pack("[{sisi}]", "line", err->line,
		                              "column", err->col));
	if (e)
		json_array_append_new(r->errors, e);
}

static int prepare(struct xreq *r, json_t *body,
                   const struct hfs_gql_operation **op, hfs_gql_doc **doc,
                   hf_error *err)
{
	const char *query = json_string_value(json_object_get(body, "query"));
	const char *opname =
	        json_string_value(json_object_get(body, "operationName"));
	json_t *vars = json_object_get(body, "variables");
	int rc;

	if (!query)
		return hf_error_set(err, HF_EINVAL,
		                    "Must provide query string.");
	rc = hfs_gql_parse(doc, query,
	                   json_string_length(json_object_get(body, "query")),
	                   err);
	if (rc == 0)
		rc = hfs_gql_validate(*doc, err);
	if (rc == 0)
		rc = hfs_gql_operation_find(op, *doc, opname, err);
	if (rc < 0)
		return rc;
	r->doc = *doc;
	if ((*op)->kind == HFS_GQL_SUBSCRIPTION)
		return hf_error_set(err, HF_EINVAL,
		                    "Subscriptions are not supported over "
		                    "HTTP.");
	if (xt_validate(r, *op) > 0)
		return 1;
	return hfs_gql_vars_coerce(&r->vars, *op,
	                           json_is_object(vars) ? vars : NULL, err);
}

static int execute(struct xreq *r, const struct hfs_gql_operation *op,
                   hf_error *err)
{
	const struct hfs_gql_fields *f;
	int mut = op->kind == HFS_GQL_MUTATION;
	int rc;

	rc = xr_collect(r, mut ? "Mutation" : "Query", NULL, op->selections, &f,
	                err);
	if (rc < 0)
		return rc;
	r->nops = count_ops(f);
	return mut ? run_mutation(r, f) : run_query(r, f);
}

static char *finish(struct xreq *r, int have_data)
{
	hf_buf body = HF_BUF_INIT;

	hf_buf_add(&body, "{\"data\":");
	if (have_data)
		hf_buf_addn(&body, r->out.ptr, r->out.len);
	else
		hf_buf_add(&body, "null");
	if (json_array_size(r->errors)) {
		hf_buf_add(&body, ",\"errors\":");
		xw_json(&body, r->errors);
	}
	hf_buf_addch(&body, '}');
	return hf_buf_detach(&body);
}

int hfs_exec_graphql(hfs_exec *x, const char *branch, json_t *body, char **out,
                     int *mutated, hf_error *err)
{
	struct xreq r;
	const struct hfs_gql_operation *op = NULL;
	hfs_gql_doc *doc = NULL;
	hf_error e2 = HF_ERROR_INIT;
	int rc, have_data = 0;

	*out = NULL;
	*mutated = 0;
	memset(&r, 0, sizeof(r));
	r.x = x;
	r.db = x->db;
	r.branch = branch;
	hf_buf_init(&r.out, 0);
	r.errors = json_array();
	xnow(r.now, sizeof(r.now));
	rc = r.errors ? xs_get(x, branch, &r.s, err) : HF_ENOMEM;
	if (rc < 0)
		goto out;
	rc = prepare(&r, body, &op, &doc, &e2);
	if (rc == HF_ENOMEM)
		goto out;
	if (rc < 0)
		early_error(&r, &e2);
	if (rc == 0) {
		rc = execute(&r, op, &e2);
		if (rc == HF_ENOMEM)
			goto out;
		have_data = rc == 0;
		if (rc < 0)
			early_error(&r, &e2);
	}
	*mutated = r.mutated;
	*out = finish(&r, have_data);
	rc = *out ? 0 : hf_error_set(err, HF_ENOMEM, "out of memory");
out:
	if (rc == HF_ENOMEM)
		hf_error_set(err, HF_ENOMEM, "out of memory");
	xmap_each(&r.memo, memo_free, NULL);
	xmap_release(&r.memo);
	hf_buf_release(&r.out);
	json_decref(r.errors);
	json_decref(r.vars);
	hfs_gql_doc_free(doc);
	xs_retired_free(x);
	xcost_wait(x, r.nops);
	return rc;
}

/* ---- built-in objects ---------------------------------------------------- */

/*
 * The access objects a new Infrahub creates at its first start (1.x,
 * core/initialization.py; the docs' "default setup" of users, groups and
 * roles): the "Super Administrator" role with global super_admin, the
 * "General Access" role of ordinary users (view everything, any action
 * outside the default branch, manage repositories), and the groups
 * "Super Administrators" and "Infrahub Users" holding them. Repositories
 * name these (a group with roles ["General Access"]). The admin account
 * itself is left out: this endpoint has no login. Decisions: 1 deny,
 * 2 allow on the default branch, 4 allow on other branches, 6 allow all.
 */
static const struct seed {
	const char *kind;
	const char *data; /* mutation-shaped input */
} seeds[] = {
	{ "CoreGlobalPermission",
	  "{\"action\": {\"value\": \"super_admin\"}, \"decision\": {\"value\": 6},"
	  " \"description\": {\"value\": \"Super administrator\"}}" },
	{ "CoreGlobalPermission",
	  "{\"action\": {\"value\": \"manage_repositories\"}, \"decision\": {\"value\": 6}}" },
	{ "CoreObjectPermission",
	  "{\"namespace\": {\"value\": \"*\"}, \"name\": {\"value\": \"*\"},"
	  " \"action\": {\"value\": \"view\"}, \"decision\": {\"value\": 6}}" },
	{ "CoreObjectPermission",
	  "{\"namespace\": {\"value\": \"*\"}, \"name\": {\"value\": \"*\"},"
	  " \"action\": {\"value\": \"any\"}, \"decision\": {\"value\": 4}}" },
	{ "CoreAccountRole",
	  "{\"name\": {\"value\": \"Super Administrator\"}, \"permissions\":"
	  " [{\"hfid\": [\"super_admin\", \"6\"]}]}" },
	{ "CoreAccountRole",
	  "{\"name\": {\"value\": \"General Access\"}, \"permissions\":"
	  " [{\"hfid\": [\"*\", \"*\", \"view\", \"6\"]},"
	  " {\"hfid\": [\"*\", \"*\", \"any\", \"4\"]},"
	  " {\"hfid\": [\"manage_repositories\", \"6\"]}]}" },
	{ "CoreAccountGroup",
	  "{\"name\": {\"value\": \"Super Administrators\"}, \"roles\":"
	  " [{\"hfid\": [\"Super Administrator\"]}]}" },
	{ "CoreAccountGroup",
	  "{\"name\": {\"value\": \"Infrahub Users\"}, \"roles\":"
	  " [{\"hfid\": [\"General Access\"]}]}" },
};

/* Create the seeds once: when the "General Access" role is not there yet. */
static int seed_access(struct xreq *r, hf_error *err)
{
	const struct hfs_kind *role = hfs_schema_kind(r->s, "CoreAccountRole");
	struct xnode *found = NULL;
	json_t *name, *data;
	size_t i;
	int rc;

	if (!role)
		return 0;
	name = json_string("General Access");
	rc = name ? xb_find_value(r->b, role, "name", name, &found, err)
	          : HF_ENOMEM;
	json_decref(name);
	if (rc < 0 || found)
		return rc;
	for (i = 0; rc == 0 && i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		const struct hfs_kind *k = hfs_schema_kind(r->s, seeds[i].kind);

		if (!k)
			continue;
		data = json_loads(seeds[i].data, 0, NULL);
		rc = data ? xm_create(r, k, data, &found, err)
		          : hf_error_set(err, HF_ENOMEM, "out of memory");
		json_decref(data);
	}
	return rc;
}

/* The default IP namespace, created when missing. */
static int seed_namespace(struct xreq *r, hf_error *err)
{
	const struct hfs_kind *k = hfs_schema_kind(r->s, "IpamNamespace");
	struct xnode *found = NULL;
	json_t *name, *data;
	int rc;

	if (!k)
		return 0;
	name = json_string("default");
	rc = name ? xb_find_value(r->b, k, "name", name, &found, err)
	          : HF_ENOMEM;
	json_decref(name);
	if (rc < 0 || found)
		return rc;
	data = json_pack("{s{ss}}", "name", "value", "default");
	if (data && hfs_kind_attr(k, "default"))
		json_object_set_new(data, "default",
		                    json_pack("{sb}", "value", 1));
	if (!data)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	rc = xm_create(r, k, data, &found, err);
	json_decref(data);
	return rc;
}

int hfs_exec_bootstrap(hfs_exec *x, hf_error *err)
{
	struct xreq r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.x = x;
	r.db = x->db;
	r.branch = hfs_db_main(x->db);
	r.internal = 1;
	xnow(r.now, sizeof(r.now));
	rc = xs_get(x, hfs_db_main(x->db), &r.s, err);
	if (rc == 0)
		rc = xr_branch(&r, err);
	if (rc == 0)
		rc = hfs_db_begin(r.db, err);
	if (rc < 0)
		return rc;
	rc = seed_namespace(&r, err);
	if (rc == 0)
		rc = seed_access(&r, err);
	if (rc == 0)
		rc = hfs_db_commit(r.db, err);
	if (rc < 0) {
		hfs_db_rollback(r.db);
		xc_drop_all(&x->cache);
	}
	xs_retired_free(x);
	return rc;
}
