/*
 * Branch queries and operations over the transport. Query text is fixed;
 * names travel as variables.
 */
#include <stdio.h>
#include <string.h>

#include "hf/branch.h"
#include "hf/banned.h"

static const char q_list[] = "query { Branch { name is_default } }";

int hf_branch_info(hf_transport *t, const char *name,
		   struct hf_branch_info *out, hf_error *err)
{
	struct hf_tx_request rq = HF_TX_REQUEST_INIT;
	json_t *data = NULL, *list, *b;
	const char *n;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	/* the simple call goes to the client's branch; ask the server's own */
	rq.query = q_list;
	rq.flags = HF_TX_SERVER_DEFAULT;
	rc = hf_transport_call(t, &rq, &data, NULL, NULL, err);
	if (rc < 0)
		return rc;
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

/*
 * The operation's outcome from the answer: ok, or the first error's
 * meaning (hf_tx_error_code) with the server's message.
 */
static int outcome(enum hf_branch_op op, const char *name, int rc,
		   const json_t *data, const json_t *errors, hf_error *err)
{
	const json_t *e = json_array_get(errors, 0);
	const char *msg = hf_tx_error_message(e);

	if (rc == 0 &&
	    json_is_true(json_object_get(json_object_get(data, op_name(op)), "ok")))
		return 0;
	if (rc < 0 && rc != HF_ESERVER)
		return rc; /* the transport's failure, its message in err */
	if (!e)
		return hf_error_set(err, HF_ESERVER, "%s %s: %s", op_name(op), name,
				    "the server did not say ok");
	if (rc < 0 && !msg)
		return rc; /* refused, in words the transport already gave */
	return hf_error_set(err, hf_tx_error_code(e), "%s %s: %s", op_name(op),
			    name, msg ? msg : "the server did not say ok");
}

int hf_branch_op(hf_transport *t, enum hf_branch_op op, const char *name,
		 hf_error *err)
{
	struct hf_tx_request rq = HF_TX_REQUEST_INIT;
	json_t *vars = json_pack("{s:s}", "name", name), *data = NULL;
	json_t *errors = NULL;
	int rc;

	if (!vars)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	rq.query = op_query(op);
	rq.variables = vars;
	rq.flags = HF_TX_RETRY | HF_TX_SERVER_DEFAULT;
	rc = hf_transport_call(t, &rq, &data, &errors, NULL, err);
	json_decref(vars);
	rc = outcome(op, name, rc, data, errors, err);
	json_decref(data);
	json_decref(errors);
	return rc;
}

int hf_branch_status(hf_transport *t, const char *name, char *status,
		     size_t n, int *exists, hf_error *err)
{
	struct hf_tx_request rq = HF_TX_REQUEST_INIT;
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
	rq.flags = HF_TX_SERVER_DEFAULT;
	rc = hf_transport_call(t, &rq, &data, NULL, NULL, err);
	json_decref(vars);
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
