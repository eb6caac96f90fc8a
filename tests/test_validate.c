/* End-to-end: `hubform validate` exit codes and what it prints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "testutil.h"

static char *case_path(const char *kind, const char *name)
{
	hf_buf p = HF_BUF_INIT;

	hf_buf_addf(&p, "%s/manifests/%s/%s/input.yaml", hf_test_data(), kind,
	            name);
	assert_false(hf_buf_failed(&p));
	return hf_buf_detach(&p);
}

static void run(struct hf_run *r, const char *const *args)
{
	assert_int_equal(hf_run(r, NULL, NULL, args), 0);
}

/* stderr holds the line `path` + `tail` */
static void assert_line(const char *err, const char *path, const char *tail)
{
	hf_buf want = HF_BUF_INIT;

	hf_buf_addf(&want, "%s%s\n", path ? path : "", tail);
	if (!strstr(err, want.ptr))
		fail_msg("stderr lacks '%s'; it is:\n%s", want.ptr, err);
	hf_buf_release(&want);
}

/* Validate one invalid case: exit 1 and the problem at its position. */
static void check_invalid(const char *name, const char *tail)
{
	char *path = case_path("invalid", name);
	const char *a[] = { "validate", path, NULL };
	struct hf_run r;

	run(&r, a);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	assert_line(r.err, path, tail);
	assert_line(r.err, NULL, "1 file, 0 documents, 0 objects, 1 error");
	hf_run_release(&r);
	hf_free(path);
}

static void test_validate__tab_indentation(void **state)
{
	(void)state;
	check_invalid("tab_indent",
	              ":7:1: invalid yaml: found character that cannot start "
	              "any token (while scanning for the next token); indent "
	              "with spaces, not tabs");
}

static void test_validate__kind_objects(void **state)
{
	char *path = case_path("invalid", "kind_objects");
	const char *a[] = { "validate", path, NULL };
	struct hf_run r;

	(void)state;
	run(&r, a);
	assert_int_equal(r.status, 1);
	assert_line(r.err, path,
	            ":2:7: unknown document kind 'Objects', expected 'Object'");
	assert_line(r.err, NULL, "1 file, 1 document, 1 object, 1 error");
	hf_run_release(&r);
	hf_free(path);
}

static void test_validate__data_as_mapping(void **state)
{
	char *path = case_path("invalid", "data_mapping");
	const char *a[] = { "validate", path, NULL };
	struct hf_run r;

	(void)state;
	run(&r, a);
	assert_int_equal(r.status, 1);
	assert_line(r.err, path,
	            ":7:5: spec.data must be a list of objects, found a "
	            "mapping");
	hf_run_release(&r);
	hf_free(path);
}

static void test_validate__clean_file(void **state)
{
	char *path = case_path("valid", "basic");
	const char *a[] = { "validate", path, NULL };
	struct hf_run r;

	(void)state;
	run(&r, a);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "1 file, 1 document, 2 objects\n");
	hf_run_release(&r);
	hf_free(path);
}

static void test_validate__nonexistent_path(void **state)
{
	const char *a[] = { "validate", "x.yml", NULL };
	struct hf_run r;

	(void)state;
	run(&r, a);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.err,
	                    "hubform: error: cannot open 'x.yml': No such file "
	                    "or directory\n"
	                    "0 files, 0 documents, 0 objects, 1 error\n");
	hf_run_release(&r);
}

static void test_validate__usage(void **state)
{
	const char *none[] = { "validate", NULL };
	const char *bad[] = { "validate", "--frobnicate", "x.yml", NULL };
	const char *help[] = { "validate", "--help", NULL };
	struct hf_run r;

	(void)state;
	run(&r, none);
	assert_int_equal(r.status, 64);
	assert_string_equal(r.out, "");
	assert_non_null(strstr(r.err, "usage: hubform validate PATH..."));
	hf_run_release(&r);
	run(&r, bad);
	assert_int_equal(r.status, 64);
	hf_run_release(&r);
	run(&r, help);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "usage: hubform validate PATH..."));
	hf_run_release(&r);
}

static void write_in(const char *dir, const char *name, const char *text)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(hf_write_file(path, text), 0);
}

static const char ok_doc[] = "kind: Object\n"
                             "spec: {kind: BuiltinTag, data: [{name: x}]}\n";

/* A folder is walked sorted by name; every problem of every file shows. */
static void test_validate__folder(void **state)
{
	const char *dir = hf_test_tmpdir("validate_folder");
	const char *a[] = { "validate", dir, "x.yml", NULL };
	char sub[512];
	struct hf_run r;
	const char *p10, *p2, *psub;

	(void)state;
	snprintf(sub, sizeof(sub), "%s/20_sub", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	write_in(dir, "2_b.yml", "kind: Objects\nspec: {kind: T, data: []}\n");
	write_in(dir, "10_a.yml", "kind: Object\nspec: {kind: T, data: {}}\n");
	write_in(dir, "20_sub/ok.yml", ok_doc);
	write_in(dir, "20_sub/bad.yaml", "kind: Object\n\tspec: x\n");
	write_in(dir, "README.md", "# not yaml: [");
	run(&r, a);
	assert_int_equal(r.status, 1);
	p10 = strstr(r.err, "/10_a.yml:2:23: spec.data must be a list of "
	                    "objects, found a mapping\n");
	p2 = strstr(r.err, "/2_b.yml:1:7: unknown document kind 'Objects', "
	                   "expected 'Object'\n");
	psub = strstr(r.err, "/20_sub/bad.yaml:2:1: invalid yaml: ");
	assert_non_null(p10);
	assert_non_null(p2);
	assert_non_null(psub);
	/* strcmp order: "20_sub" < "2_b.yml" ('0' < '_') */
	assert_true(p10 < psub && psub < p2);
	assert_non_null(strstr(r.err, "hubform: error: cannot open 'x.yml'"));
	assert_line(r.err, NULL, "4 files, 3 documents, 1 object, 4 errors");
	hf_run_release(&r);
}

static void test_validate__schema_folder_warns(void **state)
{
	const char *dir = hf_test_tmpdir("validate_schemas");
	const char *a[] = { "validate", dir, NULL };
	struct hf_run r;

	(void)state;
	write_in(dir, "dcim.yml",
	         "# a schema\nversion: \"1.0\"\nnodes:\n  - name: Device\n");
	run(&r, a);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.err, "/dcim.yml:2:1: warning: schema "
	                              "document, not an object file; "
	                              "skipped\n"));
	assert_non_null(
	        strstr(r.err, "hubform: warning: no object files in '"));
	assert_line(r.err, NULL, "1 file, 1 document, 0 objects, 2 warnings");
	hf_run_release(&r);
}

static void test_validate__every_invalid_case_fails(void **state)
{
	static const char *const names[] = {
		"bad_api_version",  "bad_range",           "empty_file",
		"item_not_mapping", "missing_spec",        "missing_spec_data",
		"range_mismatch",   "one_params_not_bool", "too_deep",
		"invalid_utf8",     "unknown_anchor",
	};
	const char *a[] = { "validate", NULL, NULL };
	struct hf_run r;
	char *path;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		path = case_path("invalid", names[i]);
		a[1] = path;
		run(&r, a);
		if (r.status != 1 || !strstr(r.err, path))
			fail_msg("%s: exit %d\n%s", names[i], r.status, r.err);
		hf_run_release(&r);
		hf_free(path);
	}
}

/*
 * Templates and profiles declared in the same run as the objects that use
 * them (through object_template, a CoreObjectTemplate and a CoreProfile
 * peer), unkeyed items of an expand_range list and a write-only secret:
 * `validate --schema` and `plan` agree, on the embedded local endpoint.
 */
static void test_validate__schema_and_plan_agree(void **state)
{
	const char *dir = hf_test_tmpdir("validate_templates");
	char schema[512], objects[512];
	const char *v[] = { "validate",        "--schema", schema,
		            "--allow-unkeyed", objects,    NULL };
	const char *load[] = { "schema", "load", schema, NULL };
	const char *plan[] = { "plan", "--allow-unkeyed", objects, NULL };
	struct hf_run r;

	(void)state;
	snprintf(schema, sizeof(schema), "%s/resolve/templates/schema.yml",
	         hf_test_data());
	snprintf(objects, sizeof(objects), "%s/resolve/templates/objects.yml",
	         hf_test_data());
	unsetenv("INFRAHUB_ADDRESS");
	unsetenv("HUBFORM_STATE");
	run(&r, v);
	if (r.status != 0)
		fail_msg("validate: exit %d\n%s", r.status, r.err);
	assert_line(r.err, NULL,
	            "9 objects resolved against the schema of the "
	            "--schema files");
	hf_run_release(&r);
	assert_int_equal(hf_run(&r, dir, NULL, load), 0);
	assert_int_equal(r.status, 0);
	hf_run_release(&r);
	assert_int_equal(hf_run(&r, dir, NULL, plan), 0);
	if (r.status != 0)
		fail_msg("plan: exit %d\n%s", r.status, r.err);
	assert_non_null(strstr(
	        r.out, "      + template = TemplateTestDevice[leaf]\n"
	               "      + profile = [ProfileTestInterface[jumbo]]\n"));
	assert_non_null(strstr(
	        r.out, "      + object_template = TemplateTestDevice[leaf]\n"));
	assert_non_null(
	        strstr(r.out, "objects.yml:48:7#3\n      # declared at "));
	assert_non_null(
	        strstr(r.out, "/objects.yml:48\n      + label = \"t3\"\n"));
	assert_non_null(strstr(r.out, "      + secret = (sensitive)\n"));
	assert_null(strstr(r.out, "correct-horse"));
	assert_null(strstr(r.err, "correct-horse"));
	assert_non_null(strstr(
	        r.out,
	        "Plan: 9 to create, 0 to update, 0 to destroy, 0 unchanged.\n"));
	hf_run_release(&r);
}

static const char user_doc[] = "apiVersion: infrahub.app/v1\nkind: Object\n"
                               "spec:\n  kind: TestUser\n  data:\n"
                               "    - {name: sofia, secret: %s}\n";

static void write_user(const char *dir, const char *secret)
{
	char text[256];

	snprintf(text, sizeof(text), user_doc, secret);
	write_in(dir, "u.yml", text);
}

/* What the endpoint over `db` holds as TestUser secrets. */
static char *stored_secrets(const char *db)
{
	static const char q[] = "{\"query\": \"{ TestUser { edges { node { "
	                        "secret { value } } } } }\"}";
	const char *const h[] = { "Content-Type: application/json", NULL };
	struct hf_served srv;
	char url[256], *resp = NULL;
	long status = 0;

	assert_int_equal(hf_serve_start(&srv, db, NULL), 0);
	snprintf(url, sizeof(url), "%s/graphql", srv.url);
	assert_int_equal(hf_http("POST", url, q, h, &status, &resp), 0);
	hf_serve_stop(&srv);
	assert_int_equal(status, 200);
	return resp;
}

/*
 * A write-only secret: apply writes the value (unwrapped from the plan,
 * hf/value.h) without ever printing it, and a later change to it in the
 * file is no change for the plan.
 */
static void test_validate__secret_is_written_once(void **state)
{
	const char *dir = hf_test_tmpdir("validate_secret");
	char schema[512], db[600], *got;
	const char *load[] = { "schema", "load", schema, NULL };
	const char *apply[] = { "apply", "u.yml", "--auto-approve", NULL };
	const char *plan[] = { "plan", "u.yml", NULL };
	const char *show[] = { "show", "latest", NULL };
	struct hf_run r;

	(void)state;
	snprintf(schema, sizeof(schema), "%s/resolve/templates/schema.yml",
	         hf_test_data());
	snprintf(db, sizeof(db), "%s/.hubform/local.db", dir);
	unsetenv("INFRAHUB_ADDRESS");
	unsetenv("HUBFORM_STATE");
	write_user(dir, "correct-horse-battery");
	assert_int_equal(hf_run(&r, dir, NULL, load), 0);
	assert_int_equal(r.status, 0);
	hf_run_release(&r);
	assert_int_equal(hf_run(&r, dir, NULL, apply), 0);
	if (r.status != 0)
		fail_msg("apply: exit %d\n%s", r.status, r.err);
	assert_null(strstr(r.out, "correct-horse"));
	assert_null(strstr(r.err, "correct-horse"));
	hf_run_release(&r);
	assert_int_equal(hf_run(&r, dir, NULL, show), 0);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "+ secret = (sensitive)\n"));
	assert_null(strstr(r.out, "correct-horse"));
	hf_run_release(&r);
	/* what Infrahub got is the value, not the plan's wrapper */
	got = stored_secrets(db);
	assert_non_null(strstr(got, "correct-horse-battery"));
	assert_null(strstr(got, "$sensitive"));
	hf_free(got);
	write_user(dir, "another-secret");
	assert_int_equal(hf_run(&r, dir, NULL, plan), 0);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(
	        r.out,
	        "Plan: 0 to create, 0 to update, 0 to destroy, 1 unchanged.\n"));
	hf_run_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate__tab_indentation),
		cmocka_unit_test(test_validate__kind_objects),
		cmocka_unit_test(test_validate__data_as_mapping),
		cmocka_unit_test(test_validate__clean_file),
		cmocka_unit_test(test_validate__nonexistent_path),
		cmocka_unit_test(test_validate__usage),
		cmocka_unit_test(test_validate__folder),
		cmocka_unit_test(test_validate__schema_folder_warns),
		cmocka_unit_test(test_validate__every_invalid_case_fails),
		cmocka_unit_test(test_validate__schema_and_plan_agree),
		cmocka_unit_test(test_validate__secret_is_written_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
