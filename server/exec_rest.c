/*
 * The REST side of the endpoint: /api/schema (read, summary, one kind,
 * load, check), /api/info and /api/config. Bodies follow SRV-2024;
 * errors use Infrahub's {"data": null, "errors": [{message, extensions:
 * {code}}]} shape.
 */
#include <stdio.h>
#include <string.h>

#include "exec_int.h"
#include "hf/alloc.h"
#include "hf/banned.h"

#define VERSION "1.0.0"

static void set_error(struct hfs_rest *res, int code, const char *msg)
{
	res->status = code;
	res->body = json_pack("{s:n, s:[{s:s, s:{s:i}}]}", "data", "errors",
	                      "message", msg, "extensions", "code", code);
}

static void not_found(struct hfs_rest *res, const char *path)
{
	char msg[600];

	snprintf(msg, sizeof(msg), "The requested endpoint %s does not exist",
	         path);
	set_error(res, 404, msg);
}

static json_t *config_body(void)
{
	return json_pack(
	        "{s:{s:b, s:b, s:n, s:i, s:s}, s:{s:{s:b}}, s:{s:b, s:n, s:n},"
	        " s:{s:b, s:b}, s:{s:[], s:b}}",
	        "main", "allow_anonymous_access", 1, "telemetry_optout", 1,
	        "telemetry_endpoint", "telemetry_interval", 86400,
	        "docs_index_path", "", "logging", "remote", "enable", 0,
	        "analytics", "enable", 0, "address", "api_key",
	        "experimental_features", "pull_request", 0, "graphql_enums", 0,
	        "sso", "providers", "enabled", 0);
}

/* FastAPI's answer to a body that is not JSON. */
static json_t *json_invalid(const json_error_t *je)
{
	return json_pack("{s:[{s:s, s:[s,i], s:s, s:{}, s:{s:s}}]}", "detail",
	                 "type", "json_invalid", "loc", "body",
	                 (int)je->position, "msg", "JSON decode error", "input",
	                 "ctx", "error", je->text);
}

static int persist(struct hfs_exec *x, const char *branch, const hfs_schema *s,
                   int changed, hf_error *err)
{
	char key[300], *text = hfs_schema_persist(s);
	int rc;

	if (!text)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	snprintf(key, sizeof(key), "schema:%s", branch);
	rc = hfs_db_begin(x->db, err);
	if (rc == 0)
		rc = hfs_db_meta_set(x->db, key, text, err);
	if (rc == 0 && changed && strcmp(branch, hfs_db_main(x->db)))
		rc = hfs_db_branch_set_schema_changed(x->db, branch, 1, err);
	if (rc == 0)
		rc = hfs_db_commit(x->db, err);
	if (rc < 0)
		hfs_db_rollback(x->db);
	hf_free(text);
	return rc;
}

static int schema_load(struct hfs_exec *x, const char *branch, const char *body,
                       size_t len, int dry, struct hfs_rest *res, hf_error *err)
{
	const hfs_schema *base;
	hfs_schema *next = NULL;
	json_error_t je;
	json_t *req;
	int rc, changed;

	req = json_loadb(body ? body : "", len, 0, &je);
	if (!req) {
		res->status = 422;
		res->body = json_invalid(&je);
		return 0;
	}
	rc = xs_get(x, branch, &base, err);
	if (rc == 0)
		rc = hfs_schema_load(&next, base, req, dry, &res->body,
		                     &res->status, err);
	json_decref(req);
	if (dry) {
		hfs_schema_free(next);
		next = NULL;
	}
	if (rc < 0 || !next)
		return rc;
	changed = strcmp(hfs_schema_hash(next), hfs_schema_hash(base)) != 0;
	rc = persist(x, branch, next, changed, err);
	if (rc < 0) {
		hfs_schema_free(next);
		return rc;
	}
	xs_set(x, branch, next);
	xc_drop(&x->cache, branch);
	return 0;
}

static int schema_get(struct hfs_exec *x, const char *branch, const char *rest,
                      const char *const *ns, struct hfs_rest *res,
                      hf_error *err)
{
	const hfs_schema *s;
	char msg[400];
	size_t n = 0;
	int rc = xs_get(x, branch, &s, err);

	if (rc < 0)
		return rc;
	res->status = 200;
	if (!*rest) {
		while (ns && ns[n])
			n++;
		res->body = hfs_schema_api(s, ns, n);
	} else if (!strcmp(rest, "/summary")) {
		res->body = hfs_schema_summary(s);
	} else if (rest[0] == '/' && !strchr(rest + 1, '/')) {
		res->body = hfs_schema_api_kind(s, rest + 1);
		if (!res->body) {
			snprintf(
			        msg, sizeof(msg),
			        "Unable to find the schema %s in the database.",
			        rest + 1);
			set_error(res, 422, msg);
		}
	} else {
		return 1;
	}
	return 0;
}

static int route(struct hfs_exec *x, const char *method, const char *path,
                 const char *branch, const char *const *ns, const char *body,
                 size_t len, struct hfs_rest *res, hf_error *err)
{
	int get = !strcmp(method, "GET"), post = !strcmp(method, "POST");

	if (!strncmp(path, "/api/schema", 11) &&
	    (path[11] == '\0' || path[11] == '/')) {
		if (post && !strcmp(path + 11, "/load"))
			return schema_load(x, branch, body, len, 0, res, err);
		if (post && !strcmp(path + 11, "/check"))
			return schema_load(x, branch, body, len, 1, res, err);
		if (get)
			return schema_get(x, branch, path + 11, ns, res, err);
		return 1;
	}
	if (get && !strcmp(path, "/api/info")) {
		res->status = 200;
		res->body = json_pack("{s:s, s:s}", "deployment_id",
		                      x->deployment_id, "version", VERSION);
		return 0;
	}
	if (get && !strcmp(path, "/api/config")) {
		res->status = 200;
		res->body = config_body();
		return 0;
	}
	return 1;
}

int hfs_exec_rest(hfs_exec *x, const char *method, const char *path,
                  const char *branch, const char *const *namespaces,
                  const char *body, size_t body_len, struct hfs_rest *res,
                  hf_error *err)
{
	char msg[400];
	int rc;

	memset(res, 0, sizeof(*res));
	if (!branch || !*branch)
		branch = hfs_db_main(x->db);
	rc = hfs_exec_branch_exists(x, branch, err);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		snprintf(msg, sizeof(msg), "Branch: %s not found.", branch);
		set_error(res, 400, msg);
	} else {
		rc = route(x, method, path, branch, namespaces, body, body_len,
		           res, err);
		if (rc < 0)
			return rc;
		if (rc == 1)
			not_found(res, path);
	}
	xs_retired_free(x);
	xcost_wait(x, 0);
	if (!res->body)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	return 0;
}
