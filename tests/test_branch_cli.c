/*
 * hubform branch list|create|delete against `hubform serve`: the table
 * and the JSON, create with a description, refusals with exit 1 (an
 * existing name, the default branch, an unknown branch), usage errors
 * with 64, and a username/password login instead of a token.
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf/alloc.h"
#include "testutil.h"

static struct hf_served srv;

static int setup(void **state)
{
	const char *dir = hf_test_tmpdir("branch_cli");
	char db[600];

	(void)state;
	snprintf(db, sizeof(db), "%s/b.db", dir);
	setenv("HUBFORM_SERVE_USERS", "alice:s3cret-pw", 1);
	if (hf_serve_start(&srv, db, NULL) < 0)
		return -1;
	unsetenv("HUBFORM_SERVE_USERS");
	setenv("INFRAHUB_ADDRESS", srv.url, 1);
	setenv("INFRAHUB_USERNAME", "alice", 1);
	setenv("INFRAHUB_PASSWORD", "s3cret-pw", 1);
	unsetenv("INFRAHUB_API_TOKEN");
	unsetenv("INFRAHUB_DEFAULT_BRANCH");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unsetenv("INFRAHUB_ADDRESS");
	unsetenv("INFRAHUB_USERNAME");
	unsetenv("INFRAHUB_PASSWORD");
	return hf_serve_stop(&srv) == 0 ? 0 : -1;
}

static void run(struct hf_run *r, int want, const char *const *args)
{
	assert_int_equal(
	        hf_run(r, hf_test_tmpdir("branch_cli_run"), NULL, args), 0);
	if (r->status != want)
		fail_msg("exit %d, want %d; stderr: %s", r->status, want,
		         r->err);
	/* the password never shows */
	assert_null(strstr(r->out, "s3cret-pw"));
	assert_null(strstr(r->err, "s3cret-pw"));
}

static void test_branch_cli__create_list_delete(void **state)
{
	const char *create[] = { "branch",        "create",   "change/42",
		                 "--description", "new site", NULL };
	const char *list[] = { "branch", "list", NULL };
	const char *json[] = { "branch", "list", "--format", "json", NULL };
	const char *del[] = { "branch", "delete", "change/42", NULL };
	struct hf_run r;
	json_t *j, *b;

	(void)state;
	run(&r, 0, create);
	assert_non_null(strstr(r.err, "created branch 'change/42'"));
	hf_run_release(&r);
	run(&r, 0, list);
	assert_memory_equal(r.out, "NAME       ORIGIN  DEFAULT  STATUS", 34);
	assert_non_null(strstr(r.out, "\nmain       main    yes      OPEN"));
	assert_non_null(strstr(r.out, "\nchange/42  main    no       OPEN"));
	hf_run_release(&r);
	run(&r, 0, json);
	j = json_loads(r.out, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "branches")), 2);
	b = json_array_get(json_object_get(j, "branches"), 1);
	assert_string_equal(json_string_value(json_object_get(b, "name")),
	                    "change/42");
	assert_string_equal(
	        json_string_value(json_object_get(b, "description")),
	        "new site");
	assert_true(json_is_false(json_object_get(b, "is_default")));
	assert_true(json_is_false(json_object_get(b, "sync_with_git")));
	assert_string_equal(
	        json_string_value(json_object_get(b, "origin_branch")), "main");
	json_decref(j);
	hf_run_release(&r);
	run(&r, 0, del);
	assert_non_null(strstr(r.err, "deleted branch 'change/42'"));
	hf_run_release(&r);
	run(&r, 0, list);
	assert_null(strstr(r.out, "change/42"));
	hf_run_release(&r);
}

static void test_branch_cli__refusals(void **state)
{
	const char *create[] = { "branch", "create", "dup", "--sync-with-git",
		                 NULL };
	const char *del_main[] = { "branch", "delete", "main", NULL };
	const char *del_none[] = { "branch", "delete", "nope", NULL };
	const char *bad_name[] = { "branch", "create", "a..b", NULL };
	struct hf_run r;

	(void)state;
	run(&r, 0, create);
	hf_run_release(&r);
	run(&r, 1, create);
	assert_non_null(strstr(r.err, "branch 'dup' already exists"));
	hf_run_release(&r);
	run(&r, 1, del_main);
	assert_non_null(strstr(r.err, "'main' is the default branch"));
	hf_run_release(&r);
	run(&r, 1, del_none);
	assert_non_null(strstr(r.err, "branch 'nope' does not exist"));
	hf_run_release(&r);
	run(&r, 1, bad_name);
	assert_non_null(strstr(r.err, "invalid"));
	hf_run_release(&r);
}

static void test_branch_cli__usage(void **state)
{
	const char *none[] = { "branch", NULL };
	const char *extra[] = { "branch", "list", "x", NULL };
	const char *noname[] = { "branch", "create", NULL };
	const char *fmt[] = { "branch", "list", "--format", "yaml", NULL };
	const char *desc[] = { "branch",        "delete", "x",
		               "--description", "d",      NULL };
	struct hf_run r;

	(void)state;
	run(&r, 64, none);
	hf_run_release(&r);
	run(&r, 64, extra);
	hf_run_release(&r);
	run(&r, 64, noname);
	assert_non_null(strstr(r.err, "takes one branch name"));
	hf_run_release(&r);
	run(&r, 64, fmt);
	assert_non_null(strstr(r.err, "--format must be text or json"));
	hf_run_release(&r);
	run(&r, 64, desc);
	hf_run_release(&r);
}

/* A wrong password, or none, is refused with a hint; nothing leaks. */
static void test_branch_cli__login_refused(void **state)
{
	const char *list[] = { "branch", "list", NULL };
	struct hf_run r;

	(void)state;
	setenv("INFRAHUB_PASSWORD", "wrong-pw", 1);
	run(&r, 1, list);
	assert_non_null(
	        strstr(r.err, "login as 'alice' failed: Incorrect password"));
	assert_non_null(strstr(r.err, "hint: the login as 'alice'"));
	assert_null(strstr(r.err, "wrong-pw"));
	hf_run_release(&r);
	unsetenv("INFRAHUB_PASSWORD");
	run(&r, 1, list);
	assert_non_null(strstr(r.err, "a username without a password"));
	hf_run_release(&r);
	unsetenv("INFRAHUB_USERNAME");
	run(&r, 1, list);
	assert_non_null(strstr(r.err, "Authentication is required"));
	assert_non_null(strstr(r.err, "hint: no credentials are set"));
	hf_run_release(&r);
	setenv("INFRAHUB_USERNAME", "alice", 1);
	setenv("INFRAHUB_PASSWORD", "s3cret-pw", 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_branch_cli__create_list_delete),
		cmocka_unit_test(test_branch_cli__refusals),
		cmocka_unit_test(test_branch_cli__usage),
		cmocka_unit_test(test_branch_cli__login_refused),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
