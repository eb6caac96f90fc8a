/*
 * cmd/output.c: stdout and stderr never interleave mid-line. With both
 * going to one file (a CI log, `2>&1 | less`), data written before a
 * message must come before it, although stdout is buffered.
 *
 * And what `hubform show` prints for tools, end to end against `hubform
 * serve`: the JSON's versions, applyable and errored before and after an
 * apply, each change's address and actions (docs/json-format.md), and a
 * delete planned through the address the JSON gave, in every format.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "hf/alloc.h"
#include "output.h"
#include "testutil.h"

static void test_output__stdout_flushed_before_stderr(void **state)
{
	char path[700], *text;
	FILE *f;
	pid_t pid;
	int st;

	(void)state;
	snprintf(path, sizeof(path), "%s/both.txt", hf_test_tmpdir("output"));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		f = freopen(path, "w", stdout);
		if (!f || dup2(fileno(stdout), 2) < 0)
			_exit(2);
		/* a file: stdout is fully buffered, stderr is not */
		out_data("Plan: 1 to create");
		out_error("something went wrong");
		out_data(", 0 to update.\n");
		_exit(out_finish() ? 1 : 0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	text = hf_read_file(path, NULL);
	assert_non_null(text);
	assert_string_equal(
	        text, "Plan: 1 to createhubform: error: something went wrong\n"
	              ", 0 to update.\n");
	hf_free(text);
}

/* Server and file text cannot drive the terminal or forge a line. */
static void test_output__control_characters_escaped(void **state)
{
	char path[700], *text;
	FILE *f;
	pid_t pid;
	int st;

	(void)state;
	snprintf(path, sizeof(path), "%s/esc.txt", hf_test_tmpdir("output2"));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		f = freopen(path, "w", stderr);
		if (!f)
			_exit(2);
		out_error("server: %s", "\033[31mred\033[0m\r\nhubform: apply "
		                        "complete\xc2\x9b"
		                        "2J\ttab");
		_exit(out_finish() ? 1 : 0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	text = hf_read_file(path, NULL);
	assert_non_null(text);
	assert_string_equal(text,
	                    "hubform: error: server: \\x1b[31mred\\x1b[0m"
	                    "\\x0d\\x0ahubform: apply complete\\u009b2J tab\n");
	hf_free(text);
}

/* ---- show --format json, end to end -------------------------------- */

static const char sites_yml[] = "---\n"
                                "apiVersion: infrahub.app/v1\n"
                                "kind: Object\n"
                                "spec:\n"
                                "  kind: TestSite\n"
                                "  data:\n"
                                "    - name: paris\n"
                                "      description: hq\n"
                                "    - name: lyon\n";

static struct hf_served srv;
static char dir[700];

/* `hubform serve` with the tests' schema, addressed by INFRAHUB_ADDRESS. */
static int serve(void **state)
{
	char path[800];
	int ok;

	(void)state;
	snprintf(dir, sizeof(dir), "%s", hf_test_tmpdir("output_show"));
	snprintf(path, sizeof(path), "%s/data.db", dir);
	if (hf_serve_start(&srv, path, NULL) < 0)
		return -1;
	ok = hf_test_load_schema(srv.url) == 0;
	setenv("INFRAHUB_ADDRESS", srv.url, 1);
	unsetenv("INFRAHUB_API_TOKEN");
	unsetenv("HUBFORM_STATE");
	return ok ? 0 : -1;
}

static int unserve(void **state)
{
	(void)state;
	return hf_serve_stop(&srv) == 0 ? 0 : -1;
}

/* Run hubform in `cwd`; assert it exits `want`. */
static void hubform(struct hf_run *r, const char *cwd, int want,
                    const char *const *args)
{
	assert_int_equal(hf_run(r, cwd, NULL, args), 0);
	if (r->status != want)
		fprintf(stderr, "exit %d\n%s%s", r->status, r->out, r->err);
	assert_int_equal(r->status, want);
}

/* `hubform show --format json` of the latest plan, parsed. */
static json_t *show_json(const char *cwd)
{
	const char *const args[] = { "show", "--format", "json", NULL };
	struct hf_run r;
	json_t *j;

	hubform(&r, cwd, 0, args);
	j = json_loads(r.out, 0, NULL);
	assert_non_null(j);
	hf_run_release(&r);
	return j;
}

static const char *str_of(json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));

	assert_non_null(s);
	return s;
}

/* The change for TestSite `name`. */
static json_t *site(json_t *plan, const char *name)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(plan, "changes"), i, c)
	{
		if (!strcmp(str_of(c, "kind"), "TestSite") &&
		    !strcmp(json_string_value(json_array_get(
		                    json_object_get(c, "hfid"), 0)),
		            name))
			return c;
	}
	fail_msg("no change for TestSite %s", name);
	return NULL;
}

/*
 * Lyon leaves the files; a plan that prunes just the object at `addr`
 * (an address as show printed it, given to --target) deletes it, and
 * every format says so.
 */
static void prune_one(const char *cwd, const char *addr)
{
	char path[800], target[300];
	const char *const plan[] = { "plan",    "sites.yml",
		                     "--prune", "--target",
		                     target,    "--detailed-exitcode",
		                     NULL };
	const char *const md[] = { "show", "--format", "markdown", NULL };
	struct hf_run r;
	json_t *j, *c;

	snprintf(target, sizeof(target), "%s", addr);
	snprintf(path, sizeof(path), "%s/sites.yml", cwd);
	assert_int_equal(hf_write_file(path,
	                               "---\napiVersion: infrahub.app/v1\n"
	                               "kind: Object\nspec:\n  kind: TestSite\n"
	                               "  data:\n    - name: paris\n"
	                               "      description: hq\n"),
	                 0);
	hubform(&r, cwd, 2, plan);
	assert_non_null(strstr(r.out, "Partial plan"));
	assert_non_null(strstr(r.out, "\ndeletes, wave 1:\n  - TestSite lyon\n"
	                              "      - name = \"lyon\"\n"));
	assert_non_null(strstr(
	        r.out, "Plan: 0 to create, 0 to update, 1 to destroy, "));
	assert_null(strstr(r.out, "No changes"));
	hf_run_release(&r);
	j = show_json(cwd);
	assert_true(json_is_true(json_object_get(j, "partial")));
	assert_true(json_is_true(json_object_get(j, "applyable")));
	assert_int_equal(json_integer_value(json_object_get(
	                         json_object_get(j, "counts"), "delete")),
	                 1);
	c = site(j, "lyon");
	assert_string_equal(str_of(c, "address"), addr);
	assert_string_equal(str_of(c, "action"), "delete");
	assert_string_equal(json_string_value(json_array_get(
	                            json_object_get(c, "actions"), 0)),
	                    "delete");
	assert_string_equal(str_of(json_object_get(c, "before"), "name"),
	                    "lyon");
	assert_true(json_is_null(json_object_get(c, "after")));
	assert_true(json_is_null(json_object_get(c, "sources")));
	json_decref(j);
	hubform(&r, cwd, 0, md);
	assert_non_null(strstr(r.out, "1 to destroy"));
	assert_non_null(strstr(r.out, "\n### Deletes\n"));
	assert_non_null(strstr(r.out, "| delete | TestSite lyon |"));
	assert_non_null(strstr(r.out, "> **Warning:** Partial plan"));
	hf_run_release(&r);
}

static void test_output__show_json_for_tools(void **state)
{
	const char *const version[] = { "version", NULL };
	const char *const plan[] = { "plan", "sites.yml", "--detailed-exitcode",
		                     NULL };
	const char *const apply[] = { "apply", "latest", "--auto-approve",
		                      NULL };
	const char *const text[] = { "show", NULL };
	char path[800], want[64];
	struct hf_run r;
	json_t *j, *c, *src, *d;
	size_t i;

	(void)state;
	snprintf(path, sizeof(path), "%s/sites.yml", dir);
	assert_int_equal(hf_write_file(path, sites_yml), 0);

	hubform(&r, dir, 0, version);
	snprintf(want, sizeof(want), "hubform %s\n", HF_VERSION);
	assert_int_equal(strncmp(r.out, want, strlen(want)), 0);
	hf_run_release(&r);
	hubform(&r, dir, 2, plan);
	hf_run_release(&r);

	j = show_json(dir);
	assert_string_equal(str_of(j, "format_version"), "1.0");
	assert_string_equal(str_of(j, "hubform_version"), HF_VERSION);
	assert_string_equal(str_of(j, "status"), "planned");
	assert_true(json_is_true(json_object_get(j, "applyable")));
	assert_true(json_is_false(json_object_get(j, "errored")));
	assert_string_equal(str_of(j, "stack"), "default");
	assert_int_equal(json_integer_value(json_object_get(
	                         json_object_get(j, "counts"), "delete")),
	                 0);
	c = site(j, "paris");
	assert_string_equal(str_of(c, "address"), "TestSite[paris]");
	assert_string_equal(str_of(c, "action"), "create");
	assert_string_equal(json_string_value(json_array_get(
	                            json_object_get(c, "actions"), 0)),
	                    "create");
	assert_true(json_is_null(json_object_get(c, "before")));
	assert_true(json_is_false(json_object_get(c, "adopt")));
	assert_true(json_is_null(json_object_get(c, "cascade_of")));
	/* where the files declare it, once the plan records that */
	src = json_object_get(c, "sources");
	assert_true(json_is_null(src) || json_is_array(src));
	json_array_foreach(src, i, d)
	{
		assert_non_null(strstr(str_of(d, "file"), "sites.yml"));
		assert_int_equal(json_integer_value(json_object_get(d, "line")),
		                 7);
	}
	json_decref(j);

	hubform(&r, dir, 0, apply);
	hf_run_release(&r);
	/* applied: nothing left to apply, nothing failed */
	j = show_json(dir);
	assert_string_equal(str_of(j, "status"), "applied");
	assert_true(json_is_false(json_object_get(j, "applyable")));
	assert_true(json_is_false(json_object_get(j, "errored")));
	json_decref(j);

	/* planned again: nothing to do, so not applyable either */
	hubform(&r, dir, 0, plan);
	assert_non_null(strstr(r.out, "No changes."));
	assert_non_null(strstr(r.out,
	                       "Plan: 0 to create, 0 to update, 0 to destroy, "
	                       "2 unchanged.\n"));
	hf_run_release(&r);
	j = show_json(dir);
	assert_string_equal(str_of(j, "status"), "planned");
	assert_true(json_is_false(json_object_get(j, "applyable")));
	assert_string_equal(str_of(site(j, "lyon"), "action"), "no-op");
	hubform(&r, dir, 0, text);
	assert_non_null(strstr(r.out,
	                       "Plan: 0 to create, 0 to update, 0 to destroy, "
	                       "2 unchanged.\n"));
	hf_run_release(&r);
	prune_one(dir, str_of(site(j, "lyon"), "address"));
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output__stdout_flushed_before_stderr),
		cmocka_unit_test(test_output__control_characters_escaped),
		cmocka_unit_test_setup_teardown(
		        test_output__show_json_for_tools, serve, unserve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
