/*
 * `hubform plan` end to end against `hubform serve` with the project's
 * own schema: a plan and its re-plan, show in every format, plans,
 * --out, --detailed-exitcode, and every kind of bad input, each of which
 * must give a clear error, exit 1 and store nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hf/alloc.h"
#include "sdkload.h"
#include "testutil.h"

static struct hf_served srv;
static char dir[600];

static int setup(void **state)
{
	char db[700];

	(void)state;
	snprintf(dir, sizeof(dir), "%s", hf_test_tmpdir("plan_cli"));
	snprintf(db, sizeof(db), "%s/data.db", dir);
	if (hf_serve_start(&srv, db, NULL) < 0)
		return -1;
	assert_int_equal(hf_test_load_schema(srv.url), 0);
	setenv("INFRAHUB_ADDRESS", srv.url, 1);
	unsetenv("INFRAHUB_API_TOKEN");
	unsetenv("HUBFORM_STATE");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return hf_serve_stop(&srv) == 0 ? 0 : -1;
}

/* Run hubform in the scratch directory with a data file argument. */
static void run(struct hf_run *r, const char *a0, const char *file,
                const char *a2, const char *a3)
{
	char p[700];
	const char *a[6] = { a0, NULL, NULL, NULL, NULL, NULL };
	int i = 1;

	if (file) {
		snprintf(p, sizeof(p), "%s/plan/%s", hf_test_data(), file);
		a[i++] = p;
	}
	a[i++] = a2;
	if (a2)
		a[i++] = a3;
	assert_int_equal(hf_run(r, dir, NULL, a), 0);
}

static int stored_plans(void)
{
	struct hf_run r;
	json_t *j;
	int n;

	run(&r, "plans", NULL, "--json", NULL);
	j = json_loads(r.out, 0, NULL);
	n = j ? (int)json_array_size(j) : -1;
	json_decref(j);
	hf_run_release(&r);
	return n;
}

static void expect_failure(const char *file, const char *opt,
                           const char *needle)
{
	struct hf_run r;
	int before = stored_plans();

	run(&r, "plan", file, opt, NULL);
	if (r.status != 1 || !strstr(r.err, needle))
		fprintf(stderr, "%s: exit %d\n%s\n", file, r.status, r.err);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, needle));
	assert_int_equal(stored_plans(), before);
	hf_run_release(&r);
}

static void test_plan_cli__plan_show_and_replan(void **state)
{
	struct hf_run r;
	json_t *j;

	(void)state;
	run(&r, "plan", "good.yml", "--detailed-exitcode", NULL);
	if (r.status != 2)
		fprintf(stderr, "%s", r.err);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.out, "+ TestDevice core1"));
	assert_non_null(strstr(r.out, "+ TestInterface core1 / eth1"));
	assert_non_null(strstr(
	        r.out,
	        "Plan: 4 to create, 0 to update, 0 to destroy, 0 unchanged."));
	assert_non_null(strstr(r.err, "saved"));
	hf_run_release(&r);
	run(&r, "show", NULL, "--format", "json");
	assert_int_equal(r.status, 0);
	j = json_loads(r.out, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "changes")), 4);
	assert_string_equal(json_string_value(json_object_get(j, "status")),
	                    "planned");
	json_decref(j);
	hf_run_release(&r);
	run(&r, "show", NULL, "--format", "markdown");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "### TestDevice"));
	assert_non_null(strstr(r.out, "<details>"));
	hf_run_release(&r);
	run(&r, "show", NULL, "--format", "yaml");
	assert_int_equal(r.status, 64);
	hf_run_release(&r);
}

static void test_plan_cli__no_changes_after_the_objects_exist(void **state)
{
	json_t *res;
	struct hf_run r;

	(void)state;
	res = hf_gql(
	        srv.url, NULL, NULL,
	        "mutation { s: TestSiteUpsert(data: {name: {value: \"paris\"},"
	        " description: {value: \"hq\"}}) { ok }"
	        " d: TestDeviceUpsert(data: {name: {value: \"core1\"}, role: {value: \"core\"},"
	        " asn: {value: 65001}, site: {hfid: [\"paris\"]}}) { ok }"
	        " i: TestInterfaceUpsert(data: {name: {value: \"eth0\"}, device: {hfid: [\"core1\"]}}) { ok }"
	        " j: TestInterfaceUpsert(data: {name: {value: \"eth1\"}, mtu: {value: 9000},"
	        " device: {hfid: [\"core1\"]}}) { ok } }",
	        NULL);
	assert_null(json_object_get(res, "errors"));
	json_decref(res);
	/* made outside hubform: the plan adopts them, and that is a change */
	run(&r, "plan", "good.yml", "--detailed-exitcode", NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.out,
	                       "Plan: 0 to create, 0 to update, 0 to destroy, "
	                       "4 to adopt, 4 unchanged."));
	hf_run_release(&r);
	run(&r, "apply", NULL, "latest", "--auto-approve");
	assert_int_equal(r.status, 0);
	hf_run_release(&r);
	run(&r, "plan", "good.yml", "--detailed-exitcode", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "No changes."));
	assert_non_null(strstr(
	        r.out,
	        "Plan: 0 to create, 0 to update, 0 to destroy, 4 unchanged."));
	hf_run_release(&r);
	/* one edit upstream: an update of exactly that field */
	res = hf_gql(
	        srv.url, NULL, NULL,
	        "mutation { TestSiteUpdate(data: {hfid: [\"paris\"], description: {value: \"x\"}}) { ok } }",
	        NULL);
	json_decref(res);
	run(&r, "plan", "good.yml", NULL, NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "~ description: \"x\" -> \"hq\""));
	assert_non_null(strstr(
	        r.out,
	        "Plan: 0 to create, 1 to update, 0 to destroy, 3 unchanged."));
	hf_run_release(&r);
}

/* The schema files cached in `sub` (the plan store's directory). */
static int cached_schemas(const char *sub)
{
	char path[800];
	struct dirent *d;
	DIR *dh;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	dh = opendir(path);
	if (!dh)
		return 0;
	while ((d = readdir(dh)))
		n += !strncmp(d->d_name, "schema-", 7);
	closedir(dh);
	return n;
}

/*
 * The schema is read through the cache beside the plan store: a second
 * plan with the schema unchanged reads it from there, not the server.
 */
static void test_plan_cli__unchanged_schema_is_read_from_the_cache(void **state)
{
	char sub[700];
	struct hf_run r;

	(void)state;
	snprintf(sub, sizeof(sub), "%s/cache", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	setenv("HUBFORM_TIMING", "1", 1);
	run(&r, "plan", "good.yml", "--state", "cache/plans.db");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.err, "timing: schema   fetched and cached"));
	hf_run_release(&r);
	assert_int_equal(cached_schemas("cache"), 1);
	run(&r, "plan", "good.yml", "--state", "cache/plans.db");
	unsetenv("HUBFORM_TIMING");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.err, "timing: schema   read from the cache"));
	assert_null(strstr(r.err, "fetched"));
	assert_non_null(strstr(r.out, "Plan: "));
	hf_run_release(&r);
	assert_int_equal(cached_schemas("cache"), 1);
}

/*
 * The live pages are read ahead while the files are resolved (TestSite:
 * TestDevice and its interfaces, nested, are left to the fetch), as far
 * as the resolve lasts (here, not long: the read-ahead is cancelled when
 * it ends, test_fetch says what is taken), and the plan is the one made
 * without reading ahead.
 */
static void test_plan_cli__pages_read_ahead(void **state)
{
	struct hf_run r, r0;
	const char *t;
	long used = -1, pages = -1;

	(void)state;
	setenv("HUBFORM_TIMING", "1", 1);
	run(&r, "plan", "good.yml", NULL, NULL);
	setenv("HUBFORM_PREFETCH", "0", 1);
	run(&r0, "plan", "good.yml", NULL, NULL);
	unsetenv("HUBFORM_PREFETCH");
	unsetenv("HUBFORM_TIMING");
	assert_int_equal(r.status, 0);
	assert_int_equal(r0.status, 0);
	t = strstr(r.err, "timing: prefetch ");
	assert_non_null(t);
	t = strstr(t, ", ");
	assert_non_null(t);
	assert_int_equal(sscanf(t, ", %ld of %ld page", &used, &pages), 2);
	assert_true(pages >= 0 && pages <= 1 && used <= pages);
	assert_null(strstr(r0.err, "timing: prefetch"));
	t = strstr(r.out, "Plan: ");
	assert_non_null(t);
	assert_non_null(strstr(r0.out, t));
	assert_non_null(strstr(r.out, "~ description: \"x\" -> \"hq\""));
	assert_non_null(strstr(r0.out, "~ description: \"x\" -> \"hq\""));
	hf_run_release(&r);
	hf_run_release(&r0);
}

static void test_plan_cli__bad_input(void **state)
{
	(void)state;
	expect_failure(
	        "unknown_kind.yml", NULL,
	        "unknown_kind.yml:5:9: unknown kind 'TestSit'; did you mean 'TestSite'?");
	expect_failure(
	        "unknown_attr.yml", NULL,
	        "unknown_attr.yml:8:7: 'descripton' is not a valid attribute or relationship for TestSite; did you mean 'description'?");
	expect_failure("bad_dropdown.yml", NULL, "bad_dropdown.yml:8:13:");
	expect_failure("bad_dropdown.yml", NULL, "spine");
	expect_failure("missing_required.yml", NULL,
	               "role is mandatory for TestDevice");
	expect_failure(
	        "unresolvable.yml", NULL,
	        "unresolvable.yml:9:13: unresolvable reference: no TestSite [\"mars\"]");
	expect_failure(
	        "repeat.yml", "--strict",
	        "repeat.yml:10:20: TestSite [\"paris\"]: field 'description' set to \"hq\"");
	expect_failure("cycle.yml", NULL, "dependency cycle");
	expect_failure("good.yml", "--branch=no-such-branch", "no-such-branch");
}

static void test_plan_cli__unreachable_and_unauthorised(void **state)
{
	const char *extra[] = { "--token", "s3cret", NULL };
	struct hf_served locked;
	char db[700];

	(void)state;
	setenv("INFRAHUB_ADDRESS", "http://127.0.0.1:1", 1);
	expect_failure("good.yml", NULL, "127.0.0.1:1");
	snprintf(db, sizeof(db), "%s/locked.db", dir);
	assert_int_equal(hf_serve_start(&locked, db, extra), 0);
	setenv("INFRAHUB_ADDRESS", locked.url, 1);
	expect_failure("good.yml", NULL, "Authentication is required");
	setenv("INFRAHUB_API_TOKEN", "wrong-token-value", 1);
	{
		struct hf_run r;

		run(&r, "plan", "good.yml", NULL, NULL);
		assert_int_equal(r.status, 1);
		/* the token never appears in output */
		assert_null(strstr(r.err, "wrong-token-value"));
		assert_null(strstr(r.out, "wrong-token-value"));
		hf_run_release(&r);
	}
	unsetenv("INFRAHUB_API_TOKEN");
	hf_serve_stop(&locked);
	setenv("INFRAHUB_ADDRESS", srv.url, 1);
}

/*
 * The stack's group is read on a thread of its own, beside the schema
 * and the files: when Infrahub refuses it, the plan fails saying so, and
 * no plan is stored.
 */
static void test_plan_cli__group_refused(void **state)
{
	const char *extra[] = { "--fault", "refuse-query=CoreStandardGroup",
		                NULL };
	struct hf_served refusing;
	char db[700];

	(void)state;
	snprintf(db, sizeof(db), "%s/refusing.db", dir);
	assert_int_equal(hf_serve_start(&refusing, db, extra), 0);
	assert_int_equal(hf_test_load_schema(refusing.url), 0);
	setenv("INFRAHUB_ADDRESS", refusing.url, 1);
	expect_failure("good.yml", NULL, "cannot read the stack's group from");
	expect_failure("good.yml", NULL, "refuse-query");
	hf_serve_stop(&refusing);
	setenv("INFRAHUB_ADDRESS", srv.url, 1);
}

/* A plan of a broken file against `address`: both problems named. */
static void broken_file_named(const char *address, const char *says)
{
	struct hf_run r;

	setenv("INFRAHUB_ADDRESS", address, 1);
	run(&r, "plan", "malformed.yml", NULL, NULL);
	setenv("INFRAHUB_ADDRESS", srv.url, 1);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, says));
	assert_non_null(strstr(r.err, "malformed.yml:9:18: invalid yaml"));
	hf_run_release(&r);
}

/*
 * Against a remote target the files load while hubform connects and reads
 * the stack's group: the connection's stage ends first, and a broken file
 * is named even when the server cannot be reached or its address is wrong.
 */
static void test_plan_cli__files_load_while_connecting(void **state)
{
	const char *load, *schema;
	struct hf_run r;

	(void)state;
	setenv("HUBFORM_TIMING", "1", 1);
	run(&r, "plan", "good.yml", NULL, NULL);
	unsetenv("HUBFORM_TIMING");
	assert_int_equal(r.status, 0);
	load = strstr(r.err, "timing: load ");
	schema = strstr(r.err, "timing: schema ");
	assert_non_null(load);
	assert_non_null(schema);
	assert_true(schema < load);
	hf_run_release(&r);
	/* nor when the server cannot be reached, or its address is wrong */
	broken_file_named("http://127.0.0.1:1", "127.0.0.1:1");
	broken_file_named("ftp://x", "must start with http://");
}

static void test_plan_cli__validate_with_schema_files(void **state)
{
	char schema[700], a1[700], a2[700];
	const char *good[] = { "validate", a1, "--schema", schema, NULL };
	const char *bad[] = { "validate", a1, a2, "--schema", schema, NULL };
	struct hf_run r;
	int cached = cached_schemas(".hubform");

	(void)state;
	unsetenv("INFRAHUB_ADDRESS");
	snprintf(schema, sizeof(schema), "%s/plan/schema.yml", hf_test_data());
	snprintf(a1, sizeof(a1), "%s/plan/good.yml", hf_test_data());
	assert_int_equal(hf_run(&r, dir, NULL, good), 0);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.err, "4 objects resolved"));
	hf_run_release(&r);
	/* validate writes nothing: not even a schema cache */
	assert_int_equal(cached_schemas(".hubform"), cached);
	snprintf(a1, sizeof(a1), "%s/plan/unknown_attr.yml", hf_test_data());
	snprintf(a2, sizeof(a2), "%s/plan/bad_dropdown.yml", hf_test_data());
	assert_int_equal(hf_run(&r, dir, NULL, bad), 0);
	assert_int_equal(r.status, 1);
	/* every error of the run, each with its position */
	assert_non_null(strstr(r.err, "unknown_attr.yml:8:7: 'descripton'"));
	assert_non_null(strstr(
	        r.err,
	        "bad_dropdown.yml:8:13: \"spine\" is not a valid choice"));
	hf_run_release(&r);
	setenv("INFRAHUB_ADDRESS", srv.url, 1);
}

/* A peer that answers every request with 200 and a body that is not JSON. */
static int garbage_fd = -1;

static void *garbage_peer(void *arg)
{
	static const char reply[] =
	        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	        "Content-Length: 17\r\nConnection: close\r\n\r\n<html>oops</html>";
	char buf[8192];
	int c;

	(void)arg;
	while ((c = accept(garbage_fd, NULL, NULL)) >= 0) {
		if (read(c, buf, sizeof(buf)) > 0 &&
		    write(c, reply, sizeof(reply) - 1) < 0)
			(void)0;
		close(c);
	}
	return NULL;
}

static void test_plan_cli__garbage_answer(void **state)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	char url[64];
	pthread_t t;

	(void)state;
	garbage_fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(garbage_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(garbage_fd, 16), 0);
	getsockname(garbage_fd, (struct sockaddr *)&a, &len);
	pthread_create(&t, NULL, garbage_peer, NULL);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(a.sin_port));
	setenv("INFRAHUB_ADDRESS", url, 1);
	expect_failure("good.yml", NULL,
	               "invalid JSON answer from http://127.0.0.1:");
	setenv("INFRAHUB_ADDRESS", srv.url, 1);
	shutdown(garbage_fd, SHUT_RDWR);
	close(garbage_fd);
	pthread_join(t, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_cli__plan_show_and_replan),
		cmocka_unit_test(
		        test_plan_cli__no_changes_after_the_objects_exist),
		cmocka_unit_test(
		        test_plan_cli__unchanged_schema_is_read_from_the_cache),
		cmocka_unit_test(test_plan_cli__pages_read_ahead),
		cmocka_unit_test(test_plan_cli__bad_input),
		cmocka_unit_test(test_plan_cli__unreachable_and_unauthorised),
		cmocka_unit_test(test_plan_cli__group_refused),
		cmocka_unit_test(test_plan_cli__files_load_while_connecting),
		cmocka_unit_test(test_plan_cli__validate_with_schema_files),
		cmocka_unit_test(test_plan_cli__garbage_answer),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
