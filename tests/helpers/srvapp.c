/*
 * In-process requests to the local endpoint for the server tests; see
 * srvapp.h.
 */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../server/app.h"
#include "hf/alloc.h"
#include "srvapp.h"
#include "testutil.h"

void srv_send(struct hfs_app *app, struct srv_call *c)
{
	struct hfs_request rq = { 0 };
	struct hfs_response rs = { 0 };

	rq.method = c->method;
	rq.path = c->path;
	rq.branch = c->branch;
	rq.body = c->body;
	rq.body_len = c->body ? strlen(c->body) : 0;
	hfs_app_handle(app, &rq, &rs);
	c->status = rs.status;
	c->mutated = rs.mutated;
	c->allow = rs.allow;
	c->reply = rs.body;
}

hfs_app *srv_app_open(const struct hf_server_options *o)
{
	hf_error err = HF_ERROR_INIT;
	hfs_app *app = NULL;

	if (hfs_app_open(&app, o, &err) < 0)
		fprintf(stderr, "open: %s\n", err.msg);
	return app;
}

void *srv_fx_new_with(size_t size, const struct hf_server_options *o)
{
	hfs_app **fx = size >= sizeof(hfs_app *) ? calloc(1, size) : NULL;

	if (!fx)
		return NULL;
	*fx = srv_app_open(o);
	if (!*fx) {
		free(fx);
		return NULL;
	}
	return fx;
}

void *srv_fx_new(size_t size, const char *data)
{
	struct hf_server_options o = HF_SERVER_OPTIONS_INIT;

	o.data = data;
	return srv_fx_new_with(size, &o);
}

int srv_fx_teardown(void **state)
{
	hfs_app **fx = *state;

	hfs_app_close(*fx);
	free(fx);
	return 0;
}

json_t *srv_rest(struct hfs_app *app, const char *method, const char *path,
                 const char *branch, const char *body, int *status)
{
	struct srv_call c = { 0 };
	json_t *res = NULL;

	c.method = method;
	c.path = path;
	c.branch = branch;
	c.body = body;
	srv_send(app, &c);
	*status = c.status;
	if (c.reply && *c.reply)
		res = json_loads(c.reply, JSON_DECODE_ANY, NULL);
	hf_free(c.reply);
	return res;
}

void srv_load_schema(struct hfs_app *app, const char *text)
{
	struct srv_call c = { 0 };

	c.method = "POST";
	c.path = "/api/schema/load";
	c.body = text;
	srv_send(app, &c);
	if (c.status != 200)
		fprintf(stderr, "schema load: %d %s\n", c.status,
		        c.reply ? c.reply : "");
	hf_free(c.reply);
	assert_int_equal(c.status, 200);
}

void srv_load_schema_file(struct hfs_app *app, const char *rel_path)
{
	char path[512], *text;

	snprintf(path, sizeof(path), "%s/%s", hf_test_data(), rel_path);
	text = hf_read_file(path, NULL);
	if (!text)
		fprintf(stderr, "cannot read %s\n", path);
	assert_non_null(text);
	srv_load_schema(app, text);
	hf_free(text);
}

char *srv_gql_text(struct hfs_app *app, const char *branch, const char *q,
                   json_t *vars, int *mutated)
{
	struct srv_call c = { 0 };
	json_t *body = json_pack("{ss}", "query", q);
	char path[256], *text;

	assert_non_null(body);
	if (vars)
		json_object_set_new(body, "variables", vars);
	text = json_dumps(body, 0);
	json_decref(body);
	assert_non_null(text);
	snprintf(path, sizeof(path), "/graphql%s%s", branch ? "/" : "",
	         branch ? branch : "");
	c.method = "POST";
	c.path = path;
	c.body = text;
	srv_send(app, &c);
	free(text);
	if (c.status != 200) {
		fprintf(stderr, "HTTP %d for %s\n%s\n", c.status, q,
		        c.reply ? c.reply : "");
		hf_free(c.reply);
		c.reply = NULL;
	}
	assert_int_equal(c.status, 200);
	if (mutated)
		*mutated = c.mutated;
	return c.reply;
}

json_t *srv_gql(struct hfs_app *app, const char *branch, const char *q,
                json_t *vars)
{
	char *text = srv_gql_text(app, branch, q, vars, NULL);
	json_t *res = text ? json_loads(text, 0, NULL) : NULL;

	if (!res)
		fprintf(stderr, "bad JSON: %s\n", text ? text : "(none)");
	hf_free(text);
	assert_non_null(res);
	return res;
}

/* Print the whole answer to q, with what was expected of it. */
static void show(const char *what, const char *q, json_t *res)
{
	char *t = json_dumps(res, 0);

	fprintf(stderr, "%s for %s\n%s\n", what, q, t ? t : "?");
	free(t);
}

json_t *srv_ok(struct hfs_app *app, const char *branch, const char *q)
{
	json_t *res = srv_gql(app, branch, q, NULL), *data;

	if (json_object_get(res, "errors")) {
		show("unexpected errors", q, res);
		json_decref(res);
		fail();
	}
	data = json_incref(json_object_get(res, "data"));
	json_decref(res);
	return data;
}

void srv_run(struct hfs_app *app, const char *branch, const char *q)
{
	json_decref(srv_ok(app, branch, q));
}

const char *srv_err_of(struct hfs_app *app, const char *branch, const char *q)
{
	static char msg[2048];
	json_t *res = srv_gql(app, branch, q, NULL);
	json_t *e = json_array_get(json_object_get(res, "errors"), 0);
	const char *m = json_string_value(json_object_get(e, "message"));

	if (!e) {
		show("expected an error", q, res);
		json_decref(res);
		fail();
	}
	snprintf(msg, sizeof(msg), "%s", m ? m : "");
	json_decref(res);
	return msg;
}

void srv_q_str(struct hfs_app *app, const char *branch, const char *q,
               const char *path, char *out, size_t len)
{
	json_t *d = srv_ok(app, branch, q);
	const char *s = srv_str_at(d, path);

	if (!s)
		fprintf(stderr, "no string at %s for %s\n", path, q);
	assert_non_null(s);
	snprintf(out, len, "%s", s);
	json_decref(d);
}

const char *srv_id_of(struct hfs_app *app, const char *branch, const char *kind,
                      const char *name)
{
	static char id[8][64];
	static int next;
	char q[256];
	json_t *d;
	const char *s;
	char *out = id[next++ % 8];

	snprintf(q, sizeof(q),
	         "{ %s(name__value: \"%s\") { edges { node { id } } } }", kind,
	         name);
	d = srv_ok(app, branch, q);
	s = srv_str_at(json_object_get(d, kind), "edges.0.node.id");
	if (!s)
		fprintf(stderr, "no %s named %s\n", kind, name);
	assert_non_null(s);
	snprintf(out, 64, "%s", s);
	json_decref(d);
	return out;
}

long long srv_count_of(struct hfs_app *app, const char *branch,
                       const char *kind)
{
	char q[256];
	json_t *d;
	long long n;

	snprintf(q, sizeof(q), "{ %s { count } }", kind);
	d = srv_ok(app, branch, q);
	n = json_integer_value(srv_at(json_object_get(d, kind), "count"));
	json_decref(d);
	return n;
}

void srv_branch_op(struct hfs_app *app, const char *op, const char *name)
{
	char q[512];

	snprintf(q, sizeof(q),
	         "mutation { Branch%s(data: {name: \"%s\"}) { ok } }", op,
	         name);
	srv_run(app, NULL, q);
}

json_t *srv_at(json_t *v, const char *path)
{
	char buf[512], *p, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = strtok_r(buf, ".", &save); p && v;
	     p = strtok_r(NULL, ".", &save)) {
		if (json_is_array(v))
			v = json_array_get(v, (size_t)strtoul(p, NULL, 10));
		else
			v = json_object_get(v, p);
	}
	return v;
}

const char *srv_str_at(json_t *v, const char *path)
{
	return json_string_value(srv_at(v, path));
}

long long srv_int_at(json_t *v, const char *path)
{
	return json_integer_value(srv_at(v, path));
}

int srv_null_at(json_t *v, const char *path)
{
	json_t *x = srv_at(v, path);

	return !x || json_is_null(x);
}

void srv_contains(const char *hay, const char *needle)
{
	const char *hit = hay && needle ? strstr(hay, needle) : NULL;

	if (!hit)
		fprintf(stderr, "'%s' lacks '%s'\n", hay ? hay : "(null)",
		        needle ? needle : "(null)");
	assert_non_null(hit);
}
