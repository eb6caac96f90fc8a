/*
 * Branch queries and operations over the client. Query text is fixed;
 * names travel as variables.
 */
#include <stdio.h>
#include <string.h>

#include "hf/branch.h"
#include "hf/banned.h"

static const char q_list[] = "query { Branch { name is_default } }";

struct one {
	json_t *data;
	json_t *errors;
	int rc;
	hf_error err;
};

static void one_done(hf_client *c, const struct hf_client_result *r, void *payload)
{
	struct one *o = payload;

	(void)c;
	o->rc = r->rc;
	o->err = *r->err;
	o->data = json_incref(r->data);
	o->errors = json_incref(r->errors);
}

/*
 * Run the one submitted request; *data and *errors are new references
 * (either may be NULL). Returns the request's own status.
 */
static int run_one(hf_client *c, json_t **data, json_t **errors, hf_error *err)
{
	struct one o;
	int rc;

	memset(&o, 0, sizeof(o));
	rc = hf_client_run(c, one_done, &o, err);
	if (rc == 0 && o.rc < 0) {
		*err = o.err;
		rc = o.rc;
	}
	*data = o.data;
	if (errors)
		*errors = o.errors;
	else
		json_decref(o.errors);
	return rc;
}

int hf_branch_info(hf_client *c, const char *name, struct hf_branch_info *out,
		   hf_error *err)
{
	struct hf_client_request rq = HF_CLIENT_REQUEST_INIT;
	json_t *data = NULL, *list, *b;
	const char *n;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	/* the simple call goes to the client's branch; ask the server's own */
	rq.query = q_list;
	rq.flags = HF_CLIENT_SERVER_DEFAULT;
	rc = hf_client_submit(c, &rq, err);
	if (rc == 0)
		rc = run_one(c, &data, NULL, err);
	if (rc < 0) {
		json_decref(data);
		return rc;
	}
	list = json_object_get(data, "Branch");
	if (!json_is_array(list)) {
		json_decref(data);
		return hf_error_set(err, HF_ESERVER,
				    "the server's answer to the branch list is "
				    "not a list of branches");
	}
	json_array_foreach(list, i, b)
	{
		n = json_string_value(json_object_get(b, "name"));
		if (!n)
			continue;
		if (json_is_true(json_object_get(b, "is_default")))
			snprintf(out->default_name, sizeof(out->default_name), "%s", n);
		if (name && !strcmp(n, name))
			out->exists = 1;
	}
	if (!out->default_name[0])
		snprintf(out->default_name, sizeof(out->default_name), "main");
	json_decref(data);
	return 0;
}

static const char *op_name(enum hf_branch_op op)
{
	return op == HF_BRANCH_CREATE ? "BranchCreate" :
	       op == HF_BRANCH_MERGE  ? "BranchMerge" :
					"BranchDelete";
}

static const char *op_query(enum hf_branch_op op)
{
	switch (op) {
	case HF_BRANCH_CREATE:
		return "mutation ($name: String!) { BranchCreate("
		       "background_execution: false, data: {name: $name, "
		       "sync_with_git: false, description: \"hubform apply\"}) "
		       "{ ok } }";
	case HF_BRANCH_MERGE:
		return "mutation ($name: String!) { BranchMerge(data: {name: "
		       "$name}) { ok } }";
	default:
		return "mutation ($name: String!) { BranchDelete(data: {name: "
		       "$name}) { ok } }";
	}
}

/* Infrahub's words for "nothing to do": the branch is already there / gone. */
static int harmless(enum hf_branch_op op, const char *msg)
{
	if (!msg)
		return 0;
	if (op == HF_BRANCH_CREATE)
		return strstr(msg, "already exist") != NULL;
	if (op == HF_BRANCH_DELETE)
		return strstr(msg, "not found") != NULL ||
		       strstr(msg, "Unable to find") != NULL;
	return 0;
}

int hf_branch_op(hf_client *c, enum hf_branch_op op, const char *name,
		 hf_error *err)
{
	struct hf_client_request rq = HF_CLIENT_REQUEST_INIT;
	json_t *vars = json_pack("{s:s}", "name", name), *data = NULL;
	json_t *errors = NULL;
	const char *msg;
	int rc;

	if (!vars)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	rq.query = op_query(op);
	rq.variables = vars;
	rq.flags = HF_CLIENT_RETRY | HF_CLIENT_SERVER_DEFAULT;
	rc = hf_client_submit(c, &rq, err);
	json_decref(vars);
	if (rc == 0)
		rc = run_one(c, &data, &errors, err);
	msg = json_string_value(json_object_get(json_array_get(errors, 0), "message"));
	if ((rc == 0 || rc == HF_ESERVER) && harmless(op, msg)) {
		hf_error_clear(err);
		rc = 0;
	} else if (rc == 0 &&
		   !json_is_true(json_object_get(json_object_get(data, op_name(op)), "ok"))) {
		rc = hf_error_set(err, HF_ESERVER, "%s %s: %s", op_name(op), name,
				  msg ? msg : "the server did not say ok");
	}
	json_decref(data);
	json_decref(errors);
	return rc;
}

int hf_branch_status(hf_client *c, const char *name, char *status, size_t n,
		     int *exists, hf_error *err)
{
	struct hf_client_request rq = HF_CLIENT_REQUEST_INIT;
	json_t *vars = json_pack("{s:s}", "n", name), *data = NULL, *b;
	const char *st;
	int rc;

	*exists = 0;
	if (n)
		status[0] = '\0';
	if (!vars)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	rq.query = "query ($n: String) { Branch(name: $n) { name status } }";
	rq.variables = vars;
	rq.flags = HF_CLIENT_SERVER_DEFAULT;
	rc = hf_client_submit(c, &rq, err);
	json_decref(vars);
	if (rc == 0)
		rc = run_one(c, &data, NULL, err);
	b = json_array_get(json_object_get(data, "Branch"), 0);
	if (rc == 0 && b) {
		*exists = 1;
		st = json_string_value(json_object_get(b, "status"));
		if (n)
			snprintf(status, n, "%s", st ? st : "");
	}
	json_decref(data);
	return rc;
}
