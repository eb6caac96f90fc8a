/*
 * Branch queries and operations over the transport. Query text is fixed;
 * names travel as variables.
 */
#include <stdio.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/branch.h"
#include "hf/banned.h"

static const char q_list[] = "query { Branch { name is_default } }";

/*
 * One entry of a Branch answer: an object with a non-empty string name,
 * its other members (when present and not null) of their types. 0, or
 * HF_ESERVER naming `what` (the query) and the entry.
 */
static int check_entry(const json_t *b, size_t i, const char *what,
                       hf_error *err)
{
	static const char *const text[] = { "id", "description",
		                            "origin_branch", "branched_from",
		                            "status" };
	static const char *const flags[] = { "is_default", "sync_with_git",
		                             "has_schema_changes" };
	const char *name = json_string_value(json_object_get(b, "name"));
	const json_t *v;
	size_t k;

	if (!json_is_object(b) || !name || !*name)
		return hf_error_set(err, HF_ESERVER,
		                    "malformed answer to the %s: entry %zu is "
		                    "not a branch with a name",
		                    what, i);
	for (k = 0; k < sizeof(text) / sizeof(*text); k++) {
		v = json_object_get(b, text[k]);
		if (v && !json_is_null(v) && !json_is_string(v))
			return hf_error_set(err, HF_ESERVER,
			                    "malformed answer to the %s: "
			                    "branch '%s': %s is not a string",
			                    what, name, text[k]);
	}
	for (k = 0; k < sizeof(flags) / sizeof(*flags); k++) {
		v = json_object_get(b, flags[k]);
		if (v && !json_is_null(v) && !json_is_boolean(v))
			return hf_error_set(err, HF_ESERVER,
			                    "malformed answer to the %s: "
			                    "branch '%s': %s is not a boolean",
			                    what, name, flags[k]);
	}
	return 0;
}

/*
 * Every entry checked; a name given twice is malformed, and so is a list
 * of all branches (`all`) without exactly one default branch.
 */
static int check_list(const json_t *list, const char *what, int all,
                      hf_error *err)
{
	const json_t *b, *o;
	const char *name;
	size_t i, j, defaults = 0;
	int rc;

	json_array_foreach(list, i, b)
	{
		rc = check_entry(b, i, what, err);
		if (rc < 0)
			return rc;
		name = json_string_value(json_object_get(b, "name"));
		defaults += json_is_true(json_object_get(b, "is_default"));
		for (j = 0; j < i; j++) {
			o = json_array_get(list, j);
			if (!strcmp(name, json_string_value(
			                          json_object_get(o, "name"))))
				return hf_error_set(err, HF_ESERVER,
				                    "malformed answer to the "
				                    "%s: branch '%s' is listed "
				                    "twice",
				                    what, name);
		}
	}
	if (all && defaults != 1)
		return hf_error_set(err, HF_ESERVER,
		                    "malformed answer to the %s: %zu default "
		                    "branches (is_default), not one",
		                    what, defaults);
	return 0;
}

/*
 * Ask the server's own default branch endpoint for `q` (a Branch query):
 * *data is the answer (the caller decrefs) and *list its Branch array.
 * The errors[] of a refused query go to *errors when it is not NULL.
 */
static int branch_query(hf_transport *t, const char *q, json_t **data,
                        json_t **list, json_t **errors, hf_error *err)
{
	struct hf_tx_request rq = HF_TX_REQUEST_INIT;
	int rc;

	/* the simple call goes to the client's branch; ask the server's own */
	rq.query = q;
	rq.flags = HF_TX_SERVER_DEFAULT;
	rc = hf_transport_call(t, &rq, data, errors, NULL, err);
	if (rc < 0)
		return rc;
	*list = json_object_get(*data, "Branch");
	rc = json_is_array(*list)
	             ? check_list(*list, "Branch query", 1, err)
	             : hf_error_set(err, HF_ESERVER,
	                            "malformed answer to the Branch "
	                            "query: Branch is not a list of "
	                            "branches");
	if (rc == 0)
		return 0;
	json_decref(*data);
	*data = NULL;
	return rc;
}

int hf_branch_info(hf_transport *t, const char *name,
                   struct hf_branch_info *out, hf_error *err)
{
	json_t *data = NULL, *list, *b;
	const char *n;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = branch_query(t, q_list, &data, &list, NULL, err);
	if (rc < 0)
		return rc;
	json_array_foreach(list, i, b)
	{
		n = json_string_value(json_object_get(b, "name"));
		if (json_is_true(json_object_get(b, "is_default")))
			snprintf(out->default_name, sizeof(out->default_name),
			         "%s", n);
		if (name && !strcmp(n, name))
			out->exists = 1;
	}
	json_decref(data);
	return 0;
}

int hf_branch_choose(hf_transport *t, const char *named,
                     struct hf_branch_info *out, char *chosen, size_t n,
                     hf_error *err)
{
	int rc;

	if (named && !*named)
		named = NULL;
	rc = hf_branch_info(t, named, out, err);
	if (rc < 0)
		return rc;
	if (named && !out->exists)
		return hf_error_set(err, HF_ENOTFOUND,
		                    "branch '%s' does not "
		                    "exist (the default branch is '%s')",
		                    named, out->default_name);
	if (chosen != named) /* `chosen` may be the buffer `named` is in */
		snprintf(chosen, n, "%s", named ? named : out->default_name);
	return 0;
}

static const char *op_name(enum hf_branch_op op)
{
	return op == HF_BRANCH_CREATE  ? "BranchCreate"
	       : op == HF_BRANCH_MERGE ? "BranchMerge"
	                               : "BranchDelete";
}

static const char *op_query(enum hf_branch_op op)
{
	switch (op) {
	case HF_BRANCH_CREATE:
		return "mutation ($name: String!, $description: String, "
		       "$sync: Boolean) { BranchCreate(background_execution: "
		       "false, data: {name: $name, description: $description, "
		       "sync_with_git: $sync}) { ok } }";
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

	if (rc == 0 && json_is_true(json_object_get(
	                       json_object_get(data, op_name(op)), "ok")))
		return 0;
	if (rc < 0 && rc != HF_ESERVER)
		return rc; /* the transport's failure, its message in err */
	if (!e)
		return hf_error_set(err, HF_ESERVER, "%s %s: %s", op_name(op),
		                    name, "the server did not say ok");
	if (rc < 0 && !msg)
		return rc; /* refused, in words the transport already gave */
	return hf_error_set(err, hf_tx_error_code(e), "%s %s: %s", op_name(op),
	                    name, msg ? msg : "the server did not say ok");
}

/* The operation with `vars` ($name, and for a create the other fields). */
static int branch_call(hf_transport *t, enum hf_branch_op op, const char *name,
                       json_t *vars, hf_error *err)
{
	struct hf_tx_request rq = HF_TX_REQUEST_INIT;
	json_t *data = NULL, *errors = NULL;
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

int hf_branch_create(hf_transport *t, const char *name, const char *description,
                     int sync_with_git, hf_error *err)
{
	return branch_call(t, HF_BRANCH_CREATE, name,
	                   json_pack("{s:s, s:s?, s:b}", "name", name,
	                             "description", description, "sync",
	                             sync_with_git),
	                   err);
}

int hf_branch_op(hf_transport *t, enum hf_branch_op op, const char *name,
                 hf_error *err)
{
	if (op == HF_BRANCH_CREATE)
		return hf_branch_create(t, name, "hubform apply", 0, err);
	return branch_call(t, op, name, json_pack("{s:s}", "name", name), err);
}

/* ---- the list ---- */

static const char q_full[] =
        "query { Branch { id name description origin_branch branched_from "
        "is_default sync_with_git has_schema_changes status } }";
static const char q_old[] =
        "query { Branch { id name description origin_branch branched_from "
        "is_default sync_with_git has_schema_changes } }";

static void copy_str(char *dst, size_t n, const json_t *obj, const char *key)
{
	const char *v = json_string_value(json_object_get(obj, key));

	snprintf(dst, n, "%s", v ? v : "");
}

static int branch_from_json(struct hf_branch *b, const json_t *j)
{
	const char *d = json_string_value(json_object_get(j, "description"));

	memset(b, 0, sizeof(*b));
	copy_str(b->name, sizeof(b->name), j, "name");
	copy_str(b->origin, sizeof(b->origin), j, "origin_branch");
	copy_str(b->branched_from, sizeof(b->branched_from), j,
	         "branched_from");
	copy_str(b->status, sizeof(b->status), j, "status");
	b->is_default = json_is_true(json_object_get(j, "is_default"));
	b->sync_with_git = json_is_true(json_object_get(j, "sync_with_git"));
	b->has_schema_changes =
	        json_is_true(json_object_get(j, "has_schema_changes"));
	b->description = hf_strdup(d ? d : "");
	return b->description ? 0 : HF_ENOMEM;
}

/* Whether a failed list failed only because the server lacks `status`. */
static int lacks_status(int rc, const json_t *errors)
{
	const char *m = hf_tx_error_message(json_array_get(errors, 0));

	return rc == HF_ESERVER && m && strstr(m, "status");
}

int hf_branch_list(hf_transport *t, struct hf_branch **out, size_t *n,
                   hf_error *err)
{
	json_t *data = NULL, *errors = NULL, *list, *b;
	size_t i;
	int rc;

	*out = NULL;
	*n = 0;
	rc = branch_query(t, q_full, &data, &list, &errors, err);
	if (lacks_status(rc, errors))
		rc = branch_query(t, q_old, &data, &list, NULL, err);
	json_decref(errors);
	if (rc < 0)
		return rc;
	*out = hf_calloc(json_array_size(list) + 1, sizeof(**out));
	if (!*out) {
		json_decref(data);
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	json_array_foreach(list, i, b)
	{
		rc = branch_from_json(&(*out)[*n], b);
		++*n;
		if (rc < 0)
			break;
	}
	json_decref(data);
	if (rc < 0) {
		hf_branch_list_free(*out, *n);
		*out = NULL;
		*n = 0;
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	return 0;
}

void hf_branch_list_free(struct hf_branch *b, size_t n)
{
	size_t i;

	for (i = 0; b && i < n; i++)
		hf_free(b[i].description);
	hf_free(b);
}

/*
 * The entry of branch `name` in the answer to Branch(name: $n): *b NULL
 * when it is not there. The list must be one of branches, every entry
 * that branch (a server that ignores the filter lists others) at most
 * once.
 */
static int status_entry(const json_t *data, const char *name, const json_t **b,
                        hf_error *err)
{
	const json_t *list = json_object_get(data, "Branch");
	char what[HF_BRANCH_NAME_MAX + 40];
	const char *n;
	int rc;

	*b = NULL;
	snprintf(what, sizeof(what), "Branch(name: '%s') query", name);
	if (!json_is_array(list))
		return hf_error_set(err, HF_ESERVER,
		                    "malformed answer to the %s: Branch is "
		                    "not a list of branches",
		                    what);
	rc = check_list(list, what, 0, err);
	if (rc < 0)
		return rc;
	if (json_array_size(list) > 1)
		return hf_error_set(err, HF_ESERVER,
		                    "malformed answer to the %s: %zu "
		                    "branches",
		                    what, json_array_size(list));
	*b = json_array_get(list, 0);
	n = json_string_value(json_object_get(*b, "name"));
	if (*b && strcmp(n, name))
		return hf_error_set(err, HF_ESERVER,
		                    "malformed answer to the %s: it lists "
		                    "branch '%s'",
		                    what, n);
	return 0;
}

int hf_branch_status(hf_transport *t, const char *name, char *status, size_t n,
                     int *exists, hf_error *err)
{
	struct hf_tx_request rq = HF_TX_REQUEST_INIT;
	json_t *vars = json_pack("{s:s}", "n", name), *data = NULL;
	const json_t *b = NULL;
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
	if (rc == 0)
		rc = status_entry(data, name, &b, err);
	if (rc == 0 && b) {
		*exists = 1;
		st = json_string_value(json_object_get(b, "status"));
		if (n)
			snprintf(status, n, "%s", st ? st : "");
	}
	json_decref(data);
	return rc;
}
