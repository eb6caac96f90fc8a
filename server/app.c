/*
 * The application behind the HTTP layer: opens the database and the
 * executor, then routes each decoded request to GraphQL or REST. Every
 * request's work runs under the database lock (the store and the
 * executor's caches are shared by all HTTP threads); decoding the body
 * happens before taking it.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "exec_int.h"
#include "gql.h"
#include "hf/alloc.h"
#include "hf/banned.h"

#define ALLOW_GRAPHQL "GET, POST, OPTIONS"

struct hfs_app {
	hfs_db *db;
	hfs_exec *x;
	size_t max_answer;
	unsigned long long max_cost;
	char refuse_query[128]; /* the fault: "" for none */
};

int hfs_app_open(hfs_app **out, const struct hf_server_options *opts,
                 hf_error *err)
{
	hfs_app *app;
	int rc;

	*out = NULL;
	app = hf_calloc(1, sizeof(*app));
	if (!app)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	app->max_answer =
	        opts->max_answer ? opts->max_answer : HF_SERVER_MAX_ANSWER;
	app->max_cost = opts->max_cost ? opts->max_cost : HF_SERVER_MAX_COST;
	memcpy(app->refuse_query, opts->faults.refuse_query,
	       sizeof(app->refuse_query));
	app->refuse_query[sizeof(app->refuse_query) - 1] = '\0';
	rc = hfs_db_open_named(&app->db, opts->data ? opts->data : ":memory:",
	                       opts->default_branch, err);
	if (rc == 0)
		rc = hfs_exec_new(&app->x, app->db, &opts->faults, err);
	if (rc == 0) {
		hfs_db_lock(app->db);
		rc = hfs_exec_bootstrap(app->x, err);
		hfs_db_unlock(app->db);
	}
	if (rc < 0) {
		hfs_app_close(app);
		return rc;
	}
	*out = app;
	return 0;
}

unsigned long long hfs_app_mirror_loads(hfs_app *app)
{
	unsigned long long n;

	hfs_db_lock(app->db);
	n = hfs_exec_mirror_loads(app->x);
	hfs_db_unlock(app->db);
	return n;
}

void hfs_app_close(hfs_app *app)
{
	if (!app)
		return;
	hfs_exec_free(app->x);
	hfs_db_close(app->db);
	hf_free(app);
}

/* ---- responses ----------------------------------------------------------- */

static void respond(struct hfs_response *rs, int status, char *body)
{
	rs->status = body || status == 405 || status == 200 ? status : 500;
	rs->body = body;
	rs->content_type = "application/json";
}

static void respond_json(struct hfs_response *rs, int status, json_t *v)
{
	hf_buf b = HF_BUF_INIT;

	xw_json(&b, v);
	respond(rs, status, hf_buf_detach(&b));
	json_decref(v);
}

/* {"errors": ["msg"]}: the graphql app's plain-string error bodies. */
static void respond_strings(struct hfs_response *rs, int status,
                            const char *msg)
{
	respond_json(rs, status, json_pack("{s:[s]}", "errors", msg));
}

/* ---- GraphQL: work limits ----------------------------------------------- */

/*
 * The work of a query, estimated before it runs: for each top-level field,
 * the fields selected beneath it (fragments expanded) times the objects it
 * can return: the kind's objects on the branch (for a generic, all its
 * kinds'), less `offset`, at most `limit`; a lookup narrowed by any other
 * argument (ids, hfid, a filter) counts as one object, and nested
 * relationships are not multiplied. Arguments are read as the executor
 * reads them: a literal, or the request's variable (its default when not
 * given); a null or absent one narrows nothing. What the estimate misses,
 * the answer size cap catches after the run.
 */
#define COST_MAX_DEPTH 256

struct cost {
	const hfs_gql_doc *doc;
	const hfs_schema *schema;
	const json_t *vars; /* the request's variables, coerced */
	hfs_app *app;
	const char *branch;
	/*
	 * The branch's in-memory nodes, made on the first kind counted: a
	 * request that lists no kind (Branch, InfrahubInfo) does not build
	 * them (after a merge, the Branch query that followed took 140 ms
	 * making main's anew for 10k nodes).
	 */
	struct xbranch *mirror;
	int no_mirror; /* it could not be made: the cost is not told */
	unsigned long long cap; /* counting stops past it */
	const char *last_kind; /* memo: aliases of one kind come together */
	size_t last_count;
};

static unsigned long long sat_add(unsigned long long a, unsigned long long b)
{
	return a + b < a ? ~0ull : a + b;
}

static unsigned long long sat_mul(unsigned long long a, unsigned long long b)
{
	return a && b > ~0ull / a ? ~0ull : a * b;
}

/* Fields in `sel` and below, spreads expanded; past c->cap, stops. */
static unsigned long long
sel_fields(const struct cost *c, const struct hfs_gql_selection *sel, int depth)
{
	const struct hfs_gql_fragment *fr;
	unsigned long long n = 0;

	if (depth > COST_MAX_DEPTH)
		return 0; /* the validator refuses it: let it say why */
	for (; sel && n <= c->cap; sel = sel->next) {
		if (sel->kind == HFS_GQL_FIELD) {
			n = sat_add(n, 1);
			n = sat_add(n,
			            sel_fields(c, sel->selections, depth + 1));
		} else if (sel->kind == HFS_GQL_INLINE_FRAGMENT) {
			n = sat_add(n,
			            sel_fields(c, sel->selections, depth + 1));
		} else {
			fr = hfs_gql_doc_fragment(c->doc, sel->name);
			if (fr)
				n = sat_add(n, sel_fields(c, fr->selections,
				                          depth + 1));
		}
	}
	return n;
}

/* Whether an argument only pages or orders (does not narrow). */
static int arg_pages(const char *name)
{
	return !strcmp(name, "offset") || !strcmp(name, "limit") ||
	       !strcmp(name, "order") || !strcmp(name, "partial_match") ||
	       !strncmp(name, "include_", 8);
}

/*
 * Argument `name` of `f` as the executor will see it: a new reference, or
 * NULL when absent or null (and on OOM: then it narrows nothing, which
 * errs on the side of a higher cost).
 */
static json_t *arg_value(const struct cost *c,
                         const struct hfs_gql_selection *f, const char *name)
{
	json_t *v = NULL;

	if (hfs_gql_arg_json(&v, f, name, c->vars, NULL) < 0)
		return NULL;
	if (json_is_null(v)) {
		json_decref(v);
		return NULL;
	}
	return v;
}

/* A non-negative JSON integer into *out; other values leave it. */
static void take_count(const json_t *v, unsigned long long *out)
{
	if (json_is_integer(v) && json_integer_value(v) >= 0)
		*out = (unsigned long long)json_integer_value(v);
}

/* The objects of kind `k` on the branch (memoised for runs of aliases). */
static unsigned long long kind_rows(struct cost *c, const struct hfs_kind *k,
                                    const char *name)
{
	hf_error err = HF_ERROR_INIT;
	struct xnode **v;
	size_t n = 0, nv, i;

	if (c->last_kind && !strcmp(c->last_kind, name))
		return c->last_count;
	if (!c->mirror && !c->no_mirror &&
	    xc_branch(&c->app->x->cache, c->app->db, c->branch, c->schema,
	              &c->mirror, &err) < 0)
		c->no_mirror = 1;
	if (!c->mirror)
		return 0;
	for (i = 0; i < (k->is_generic ? k->used_by.n : 1); i++) {
		xb_kind_nodes(c->mirror,
		              k->is_generic ? k->used_by.v[i] : k->kind, &v,
		              &nv);
		n += nv;
	}
	c->last_kind = name;
	c->last_count = n;
	return n;
}

/* Objects a top-level field can return; 1 for non-kind fields. */
static unsigned long long field_rows(struct cost *c,
                                     const struct hfs_gql_selection *f)
{
	const struct hfs_kind *k = hfs_schema_kind(c->schema, f->name);
	const struct hfs_gql_arg *a;
	unsigned long long limit = ~0ull, offset = 0, n;
	json_t *v;
	int narrow = 0;

	if (!k)
		return 1;
	for (a = f->args; a && !narrow; a = a->next) {
		v = arg_value(c, f, a->name);
		if (!v)
			continue; /* absent or null: the executor ignores it */
		if (!arg_pages(a->name))
			narrow = 1;
		else if (!strcmp(a->name, "limit"))
			take_count(v, &limit);
		else if (!strcmp(a->name, "offset"))
			take_count(v, &offset);
		json_decref(v);
	}
	if (narrow)
		return 1;
	n = kind_rows(c, k, f->name);
	n = n > offset ? n - offset : 0;
	return n < limit ? n : limit;
}

static unsigned long long
top_cost(struct cost *c, const struct hfs_gql_selection *sel, int depth)
{
	const struct hfs_gql_fragment *fr;
	unsigned long long total = 0, fields;

	if (depth > COST_MAX_DEPTH)
		return 0; /* the validator refuses it: let it say why */
	for (; sel && total <= c->cap; sel = sel->next) {
		if (sel->kind == HFS_GQL_FIELD) {
			fields = sat_add(1, sel_fields(c, sel->selections, 0));
			total = sat_add(total,
			                sat_mul(fields, field_rows(c, sel)));
		} else if (sel->kind == HFS_GQL_INLINE_FRAGMENT) {
			total = sat_add(
			        total, top_cost(c, sel->selections, depth + 1));
		} else {
			fr = hfs_gql_doc_fragment(c->doc, sel->name);
			if (fr)
				total = sat_add(
				        total,
				        top_cost(c, fr->selections, depth + 1));
		}
	}
	return total;
}

/*
 * The query's parsed document and its coerced variables (*vars, the
 * caller's), or NULL when the executor is to judge.
 */
static hfs_gql_doc *cost_parse(const json_t *body,
                               const struct hfs_gql_operation **op,
                               json_t **vars)
{
	const json_t *q = json_object_get(body, "query");
	const json_t *given = json_object_get(body, "variables");
	const char *name =
	        json_string_value(json_object_get(body, "operationName"));
	hf_error err = HF_ERROR_INIT;
	hfs_gql_doc *doc = NULL;

	*vars = NULL;
	if (!json_is_string(q) ||
	    hfs_gql_parse(&doc, json_string_value(q), json_string_length(q),
	                  &err) < 0)
		return NULL;
	if (hfs_gql_operation_find(op, doc, name, &err) < 0 ||
	    (*op)->kind != HFS_GQL_QUERY ||
	    hfs_gql_vars_coerce(vars, *op, json_is_object(given) ? given : NULL,
	                        &err) < 0) {
		hfs_gql_doc_free(doc);
		return NULL;
	}
	return doc;
}

/*
 * Under the lock: the estimated cost of `op` on `branch`, or 0 when it
 * cannot be told (the executor then reports the problem).
 */
static unsigned long long query_cost(hfs_app *app, const char *branch,
                                     const hfs_gql_doc *doc,
                                     const struct hfs_gql_operation *op,
                                     const json_t *vars)
{
	struct cost c;
	hf_error err = HF_ERROR_INIT;
	unsigned long long total;

	memset(&c, 0, sizeof(c));
	c.doc = doc;
	c.vars = vars;
	c.cap = app->max_cost;
	c.app = app;
	c.branch = branch;
	if (xs_get(app->x, branch, &c.schema, &err) < 0)
		return 0;
	total = top_cost(&c, op->selections, 0);
	return c.no_mirror ? 0 : total;
}

static char *gql_error_body(const char *msg)
{
	json_t *v =
	        json_pack("{s:n, s:[{s:s}]}", "data", "errors", "message", msg);
	hf_buf b = HF_BUF_INIT;

	if (!v)
		return NULL;
	xw_json(&b, v);
	json_decref(v);
	return hf_buf_detach(&b);
}

static void respond_cost(struct hfs_response *rs, unsigned long long cost,
                         unsigned long long max)
{
	char msg[300];

	snprintf(msg, sizeof(msg),
	         "Query cost of at least %llu exceeds the limit of %llu "
	         "(fields selected "
	         "x objects they can return): narrow it with filters or page "
	         "it with limit and offset",
	         cost, max);
	respond(rs, 200, gql_error_body(msg));
}

/* Replace an answer over the size cap by an error (queries only). */
static char *cap_answer(hfs_app *app, char *out, int mutated)
{
	char msg[300];
	size_t len;

	if (!out || mutated)
		return out;
	len = strlen(out);
	if (len <= app->max_answer)
		return out;
	hf_free(out);
	snprintf(msg, sizeof(msg),
	         "Answer of %zu bytes exceeds the limit of %zu bytes: page "
	         "the query with limit and offset",
	         len, app->max_answer);
	return gql_error_body(msg);
}

/* ---- GraphQL ------------------------------------------------------------- */

/* The fault refuse-query: a query whose text holds the fault's text. */
static int refused(const hfs_app *app, const json_t *body)
{
	const char *q = json_string_value(json_object_get(body, "query"));

	return app->refuse_query[0] && q && strstr(q, app->refuse_query);
}

static void graphql_post(hfs_app *app, const char *branch,
                         const struct hfs_request *rq, struct hfs_response *rs)
{
	hf_error err = HF_ERROR_INIT;
	json_error_t je;
	json_t *body, *vars = NULL;
	char *out = NULL, msg[300];
	const struct hfs_gql_operation *op = NULL;
	hfs_gql_doc *doc;
	unsigned long long cost = 0;
	int rc, exists, mutated = 0;

	body = json_loadb(rq->body ? rq->body : "", rq->body_len, 0, &je);
	if (!body || !(json_is_object(body) || json_is_array(body))) {
		json_decref(body);
		respond_strings(rs, 400, "Request body is not a valid JSON");
		return;
	}
	if (json_is_array(body)) {
		json_decref(body);
		respond_strings(rs, 400,
		                "This server does not support batching");
		return;
	}
	if (refused(app, body)) {
		json_decref(body);
		respond_json(rs, 200,
		             json_pack("{s:n, s:[{s:s}]}", "data", "errors",
		                       "message",
		                       "refused (the endpoint's fault "
		                       "refuse-query)"));
		return;
	}
	doc = cost_parse(body, &op, &vars); /* outside the lock */
	hfs_db_lock(app->db);
	exists = hfs_exec_branch_exists(app->x, branch, &err);
	rc = exists;
	if (exists == 1 && doc)
		cost = query_cost(app, branch, doc, op, vars);
	if (exists == 1 && cost <= app->max_cost)
		rc = hfs_exec_graphql(app->x, branch, body, &out, &mutated,
		                      &err);
	hfs_db_unlock(app->db);
	hfs_gql_doc_free(doc);
	json_decref(vars);
	json_decref(body);
	if (exists == 1 && cost > app->max_cost) {
		respond_cost(rs, cost, app->max_cost);
		return;
	}
	out = cap_answer(app, out, mutated);
	if (exists == 0) {
		snprintf(msg, sizeof(msg), "Branch: %s not found.", branch);
		respond_strings(rs, 404, msg);
		return;
	}
	if (rc < 0) {
		respond_strings(rs, 500,
		                err.msg[0] ? err.msg : "internal error");
		return;
	}
	respond(rs, 200, out);
	rs->mutated = mutated;
}

static void graphql(hfs_app *app, const char *branch,
                    const struct hfs_request *rq, struct hfs_response *rs)
{
	hf_error err = HF_ERROR_INIT;
	char msg[300];
	int rc;

	if (!*branch)
		branch = hfs_db_main(app->db);
	if (!strcmp(rq->method, "POST")) {
		graphql_post(app, branch, rq, rs);
		return;
	}
	hfs_db_lock(app->db);
	rc = hfs_exec_branch_exists(app->x, branch, &err);
	hfs_db_unlock(app->db);
	if (rc == 0) {
		snprintf(msg, sizeof(msg), "Branch: %s not found.", branch);
		respond_strings(rs, 404, msg);
	} else if (rc < 0) {
		respond_strings(rs, 500, err.msg);
	} else if (!strcmp(rq->method, "OPTIONS")) {
		respond(rs, 200, NULL);
		rs->allow = ALLOW_GRAPHQL;
	} else {
		respond(rs, 405, NULL);
	}
}

/* ---- REST ---------------------------------------------------------------- */

static void rest(hfs_app *app, const struct hfs_request *rq,
                 struct hfs_response *rs)
{
	const char *ns[33];
	struct hfs_rest res;
	hf_error err = HF_ERROR_INIT;
	size_t i, n = rq->nnamespaces < 32 ? rq->nnamespaces : 32;
	int rc;

	for (i = 0; i < n; i++)
		ns[i] = rq->namespaces[i];
	ns[n] = NULL;
	hfs_db_lock(app->db);
	rc = hfs_exec_rest(app->x, rq->method, rq->path, rq->branch, ns,
	                   rq->body, rq->body_len, &res, &err);
	hfs_db_unlock(app->db);
	if (rc < 0) {
		respond_json(rs, 500,
		             json_pack("{s:n, s:[{s:s}]}", "data", "errors",
		                       "message", err.msg));
		return;
	}
	respond_json(rs, res.status, res.body);
}

/* Length of the UTF-8 sequence at s (strict: no overlong forms, no
 * surrogates, at most U+10FFFF), or 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s)
{
	unsigned c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f))
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80 || (c == 0xf0 && s[1] < 0x90) ||
		    (c == 0xf4 && s[1] > 0x8f))
			return 0;
		return 4;
	}
	return 0;
}

/* Valid UTF-8 without control characters (NULL is fine). */
static int clean_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	while (p && *p) {
		if (*p < 0x20 || *p == 0x7f)
			return 0;
		n = utf8_seq(p);
		if (!n)
			return 0;
		p += n;
	}
	return 1;
}

static int clean_request(const struct hfs_request *rq)
{
	size_t i;

	if (rq->bad_url || !clean_text(rq->path) || !clean_text(rq->branch))
		return 0;
	for (i = 0; i < rq->nnamespaces; i++)
		if (!clean_text(rq->namespaces[i]))
			return 0;
	return 1;
}

void hfs_app_handle(hfs_app *app, const struct hfs_request *rq,
                    struct hfs_response *rs)
{
	const char *p = rq->path ? rq->path : "";

	memset(rs, 0, sizeof(*rs));
	if (!clean_request(rq))
		respond_json(rs, 400,
		             json_pack("{s:n, s:[{s:s}]}", "data", "errors",
		                       "message",
		                       "The request URL is not valid UTF-8 or "
		                       "holds control characters"));
	else if (!strcmp(p, "/graphql") || !strcmp(p, "/graphql/"))
		graphql(app, "", rq, rs);
	else if (!strncmp(p, "/graphql/", 9))
		graphql(app, p + 9, rq, rs);
	else if (!strncmp(p, "/api/", 5) || !strcmp(p, "/api"))
		rest(app, rq, rs);
	else
		respond_json(rs, 404,
		             json_pack("{s:s}", "detail", "Not Found"));
}
