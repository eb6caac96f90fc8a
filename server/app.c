/*
 * The application behind the HTTP layer: opens the database and the
 * executor, then routes each decoded request to GraphQL or REST. Every
 * request's work runs under the database lock (the store and the
 * executor's caches are shared by all HTTP threads); decoding the body
 * happens before taking it.
 */
#include <string.h>

#include "app.h"
#include "exec_int.h"
#include "hf/alloc.h"
#include "hf/banned.h"

#define ALLOW_GRAPHQL "GET, POST, OPTIONS"

struct hfs_app {
	hfs_db *db;
	hfs_exec *x;
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

/* ---- GraphQL ------------------------------------------------------------- */

static void graphql_post(hfs_app *app, const char *branch,
                         const struct hfs_request *rq, struct hfs_response *rs)
{
	hf_error err = HF_ERROR_INIT;
	json_error_t je;
	json_t *body;
	char *out = NULL, msg[300];
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
	hfs_db_lock(app->db);
	exists = hfs_exec_branch_exists(app->x, branch, &err);
	rc = exists;
	if (exists == 1)
		rc = hfs_exec_graphql(app->x, branch, body, &out, &mutated,
		                      &err);
	hfs_db_unlock(app->db);
	json_decref(body);
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

void hfs_app_handle(hfs_app *app, const struct hfs_request *rq,
                    struct hfs_response *rs)
{
	const char *p = rq->path ? rq->path : "";

	memset(rs, 0, sizeof(*rs));
	if (!strcmp(p, "/graphql") || !strcmp(p, "/graphql/"))
		graphql(app, "", rq, rs);
	else if (!strncmp(p, "/graphql/", 9))
		graphql(app, p + 9, rq, rs);
	else if (!strncmp(p, "/api/", 5) || !strcmp(p, "/api"))
		rest(app, rq, rs);
	else
		respond_json(rs, 404,
		             json_pack("{s:s}", "detail", "Not Found"));
}
