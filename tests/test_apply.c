/*
 * `hubform apply` end to end against `hubform serve`: apply then re-plan
 * (nothing left), a failing mutation at the first, a middle and the last
 * position (exit 1, main unchanged, branch gone, outcomes recorded), a
 * stale plan (exit 3, nothing written), a plan that is not 'planned'
 * refused, and --keep-branch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hf/alloc.h"
#include "hf/store.h"
#include "sdkload.h"
#include "testutil.h"

static char dir[600];
static int counter;

struct env {
	struct hf_served srv;
	char state[800];
};

static void start(struct env *e, const char *const *extra)
{
	char db[800];

	snprintf(db, sizeof(db), "%s/data%d.db", dir, ++counter);
	snprintf(e->state, sizeof(e->state), "%s/plans%d.db", dir, counter);
	assert_int_equal(hf_serve_start(&e->srv, db, extra), 0);
	assert_int_equal(hf_test_load_schema(e->srv.url), 0);
	setenv("INFRAHUB_ADDRESS", e->srv.url, 1);
}

static void hubform(struct hf_run *r, struct env *e, const char *a0,
                    const char *a1, const char *a2)
{
	char file[700];
	const char *a[8] = { a0, NULL };
	int i = 1;

	if (a1 && !strcmp(a1, "good.yml")) {
		snprintf(file, sizeof(file), "%s/plan/good.yml",
		         hf_test_data());
		a[i++] = file;
	} else if (a1) {
		a[i++] = a1;
	}
	if (a2)
		a[i++] = a2;
	a[i++] = "--state";
	a[i++] = e->state;
	assert_int_equal(hf_run(r, dir, NULL, a), 0);
}

/* Every object on a branch, as one JSON text: the "full dump". */
static char *dump(struct env *e, const char *branch)
{
	json_t *res = hf_gql(
	        e->srv.url, branch, NULL,
	        "{ TestSite { edges { node { id hfid description { value } } } }"
	        " TestDevice { edges { node { id hfid asn { value } site { node { id } } } } }"
	        " TestInterface { edges { node { id hfid mtu { value } } } }"
	        " CoreStandardGroup { edges { node { id name { value }"
	        " members { edges { node { id } } } } } } }",
	        NULL);
	char *t = json_dumps(json_object_get(res, "data"), JSON_SORT_KEYS);

	json_decref(res);
	return t;
}

static int branch_count(struct env *e)
{
	json_t *res =
	        hf_gql(e->srv.url, NULL, NULL, "{ Branch { name } }", NULL);
	int n = (int)json_array_size(
	        json_object_get(json_object_get(res, "data"), "Branch"));

	json_decref(res);
	return n;
}

static void plan(struct env *e)
{
	struct hf_run r;

	hubform(&r, e, "plan", "good.yml", NULL);
	assert_int_equal(r.status, 0);
	hf_run_release(&r);
}

static void test_apply__apply_then_nothing_left(void **state)
{
	struct env e;
	struct hf_run r;

	(void)state;
	start(&e, NULL);
	plan(&e);
	hubform(&r, &e, "apply", "latest", "--auto-approve");
	if (r.status)
		fprintf(stderr, "apply: %s", r.err);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.err, "apply complete: 4 changes"));
	hf_run_release(&r);
	assert_int_equal(branch_count(&e), 1);
	hubform(&r, &e, "plan", "good.yml", "--detailed-exitcode");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(
	        r.out,
	        "Plan: 0 to create, 0 to update, 0 to destroy, 4 unchanged."));
	hf_run_release(&r);
	/* an applied plan is not applied again */
	hubform(&r, &e, "apply", "latest", "--auto-approve");
	assert_int_equal(r.status, 0); /* the newest plan has nothing to do */
	hf_run_release(&r);
	hf_serve_stop(&e.srv);
}

static void failing(const char *fault, int with_batch1, int nfailed)
{
	const char *extra[] = { "--fault", fault, NULL };
	char *before, *after;
	struct env e;
	struct hf_run r;
	json_t *j;

	start(&e, extra);
	plan(&e);
	before = dump(&e, NULL);
	{
		const char *a[] = { "apply",
			            "latest",
			            "--auto-approve",
			            "--batch-size",
			            with_batch1 ? "1" : "50",
			            "--state",
			            e.state,
			            NULL };

		assert_int_equal(hf_run(&r, dir, NULL, a), 0);
	}
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "injected fault"));
	assert_non_null(strstr(r.err, "was deleted"));
	hf_run_release(&r);
	after = dump(&e, NULL);
	assert_string_equal(before, after);
	assert_int_equal(branch_count(&e), 1);
	hubform(&r, &e, "show", "latest", "--format=json");
	j = json_loads(r.out, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "status")),
	                    "failed");
	{
		size_t i, failed = 0;
		json_t *c;

		json_array_foreach(json_object_get(j, "changes"), i, c)
		        failed +=
		        !strcmp(json_string_value(json_object_get(c, "status")),
		                "failed");
		assert_int_equal(failed, nfailed);
	}
	json_decref(j);
	hf_run_release(&r);
	hf_free(before);
	hf_free(after);
	hf_serve_stop(&e.srv);
}

static void test_apply__failures_roll_back(void **state)
{
	(void)state;
	/*
	 * mutation 1 takes the apply lock, 2 is the BranchCreate, 3 makes the
	 * stack's group (first: the 4 creates join it in their own
	 * mutations, no membership edit follows), the changes are 4..7
	 */
	failing("fail-mutation=3", 1, 0); /* the group: no change failed */
	failing("fail-mutation=4", 0, 1); /* the first change */
	failing("fail-mutation=6", 1, 1); /* a middle one, one per request */
	failing("fail-mutation=7", 1, 1); /* the last one */
}

static void test_apply__stale_plan_writes_nothing(void **state)
{
	struct env e;
	struct hf_run r;
	json_t *res;
	char *before, *after;

	(void)state;
	start(&e, NULL);
	res = hf_gql(
	        e.srv.url, NULL, NULL,
	        "mutation { TestSiteCreate(data: {name: {value: \"paris\"}, description: {value: \"old\"}}) { ok } }",
	        NULL);
	json_decref(res);
	plan(&e);
	/* edited between plan and apply */
	res = hf_gql(
	        e.srv.url, NULL, NULL,
	        "mutation { TestSiteUpdate(data: {hfid: [\"paris\"], description: {value: \"meddled\"}}) { ok } }",
	        NULL);
	json_decref(res);
	before = dump(&e, NULL);
	hubform(&r, &e, "apply", "latest", "--auto-approve");
	assert_int_equal(r.status, 3);
	assert_non_null(strstr(
	        r.err,
	        "stale: TestSite [\"paris\"]: changed in Infrahub since the plan was made (changed: description)"));
	hf_run_release(&r);
	after = dump(&e, NULL);
	assert_string_equal(before, after);
	/* a stale plan stays refused */
	hubform(&r, &e, "apply", "latest", "--auto-approve");
	assert_int_equal(r.status, 1);
	assert_non_null(
	        strstr(r.err, "is stale; only a planned plan can be applied"));
	hf_run_release(&r);
	/* a create that appeared meanwhile */
	plan(&e);
	res = hf_gql(
	        e.srv.url, NULL, NULL,
	        "mutation { TestDeviceCreate(data: {name: {value: \"core1\"}, role: {value: \"edge\"}, site: {hfid: [\"paris\"]}}) { ok } }",
	        NULL);
	json_decref(res);
	hubform(&r, &e, "apply", "latest", "--auto-approve");
	assert_int_equal(r.status, 3);
	assert_non_null(strstr(
	        r.err,
	        "TestDevice [\"core1\"]: planned as a create, but it exists now"));
	hf_run_release(&r);
	hf_free(before);
	hf_free(after);
	hf_serve_stop(&e.srv);
}

static void test_apply__keep_branch(void **state)
{
	struct env e;
	struct hf_run r;
	char *main_dump;

	(void)state;
	start(&e, NULL);
	plan(&e);
	main_dump = dump(&e, NULL);
	/* never without asking: no terminal and no --auto-approve */
	hubform(&r, &e, "apply", "latest", "--keep-branch");
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "pass --auto-approve"));
	hf_run_release(&r);
	{
		const char *a[] = { "apply",
			            "latest",
			            "--auto-approve",
			            "--keep-branch",
			            "--state",
			            e.state,
			            NULL };

		assert_int_equal(hf_run(&r, dir, NULL, a), 0);
	}
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.err, "left unmerged"));
	hf_run_release(&r);
	assert_int_equal(branch_count(&e), 2);
	{
		char *m = dump(&e, NULL);

		assert_string_equal(m, main_dump);
		hf_free(m);
	}
	hf_free(main_dump);
	hf_serve_stop(&e.srv);
}

static void test_apply__recover_a_killed_apply(void **state)
{
	struct env e;
	struct hf_run r;
	hf_store *st;
	hf_plan *p;
	char id[16], q[200];
	json_t *res;

	(void)state;
	start(&e, NULL);
	plan(&e);
	/* what a killed apply leaves: the plan 'applying', its branch */
	assert_int_equal(hf_store_open(&st, e.state, NULL), 0);
	assert_int_equal(hf_store_load(st, "latest", &p, NULL), 0);
	snprintf(id, sizeof(id), "%s", hf_plan_meta(p)->id);
	assert_int_equal(
	        hf_store_transition(st, id, "planned", "applying", NULL), 0);
	hf_plan_free(p);
	hf_store_close(st);
	snprintf(
	        q, sizeof(q),
	        "mutation { BranchCreate(data: {name: \"hubform-%s\"}) { ok } }",
	        id);
	res = hf_gql(e.srv.url, NULL, NULL, q, NULL);
	json_decref(res);
	assert_int_equal(branch_count(&e), 2);
	/* a second apply of it is refused while it is 'applying' */
	hubform(&r, &e, "apply", id, "--auto-approve");
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "is applying"));
	hf_run_release(&r);
	hubform(&r, &e, "apply", id, "--recover");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.err, "deleted branch 'hubform-"));
	hf_run_release(&r);
	assert_int_equal(branch_count(&e), 1);
	hubform(&r, &e, "plans", "--json", NULL);
	assert_non_null(strstr(r.out, "\"status\": \"failed\""));
	hf_run_release(&r);
	hf_serve_stop(&e.srv);
}

/* Run apply in the background; SIGINT it once the first wave is reported. */
static int interrupt_apply(struct env *e)
{
	char line[512];
	size_t n = 0;
	int pfd[2], st;
	pid_t pid;
	char c;

	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 2);
		close(pfd[0]);
		if (chdir(dir) < 0)
			_exit(126);
		execl(hf_test_bin(), hf_test_bin(), "apply", "latest",
		      "--auto-approve", "--state", e->state, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	while (read(pfd[0], &c, 1) == 1) {
		if (c != '\n') {
			if (n + 1 < sizeof(line))
				line[n++] = c;
			continue;
		}
		line[n] = '\0';
		n = 0;
		fprintf(stderr, "[apply] %s\n", line);
		if (strstr(line, "wave 1/"))
			kill(pid, SIGINT);
	}
	close(pfd[0]);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void test_apply__sigint_rolls_back(void **state)
{
	const char *extra[] = { "--fault", "latency=200", NULL };
	struct env e;
	char *before, *after;

	(void)state;
	start(&e, extra);
	plan(&e);
	before = dump(&e, NULL);
	assert_int_equal(interrupt_apply(&e), 1);
	after = dump(&e, NULL);
	assert_string_equal(before, after);
	assert_int_equal(branch_count(&e), 1);
	hf_free(before);
	hf_free(after);
	hf_serve_stop(&e.srv);
}

/* A fault the apply must ride out: retried safely, nothing duplicated. */
static void survives(const char *fault)
{
	const char *extra[] = { "--fault", fault, NULL };
	struct env e;
	struct hf_run r;
	json_t *res;

	start(&e, extra);
	plan(&e);
	hubform(&r, &e, "apply", "latest", "--auto-approve");
	if (r.status)
		fprintf(stderr, "%s: %s", fault, r.err);
	assert_int_equal(r.status, 0);
	hf_run_release(&r);
	hubform(&r, &e, "plan", "good.yml", "--detailed-exitcode");
	assert_int_equal(r.status, 0);
	hf_run_release(&r);
	res = hf_gql(e.srv.url, NULL, NULL,
	             "{ TestInterface { count } TestDevice { count } }", NULL);
	assert_int_equal(json_integer_value(json_object_get(
	                         json_object_get(json_object_get(res, "data"),
	                                         "TestInterface"),
	                         "count")),
	                 2);
	assert_int_equal(json_integer_value(json_object_get(
	                         json_object_get(json_object_get(res, "data"),
	                                         "TestDevice"),
	                         "count")),
	                 1);
	json_decref(res);
	assert_int_equal(branch_count(&e), 1);
	hf_serve_stop(&e.srv);
}

static void test_apply__faults_retried_without_duplicates(void **state)
{
	(void)state;
	/* requests: schema, plan's reads..., then the apply's own */
	survives("http-503=9");
	/* a write commits, its answer is lost: the stack's group, then the
	   first wave's */
	survives("drop-after-commit=3");
	survives("drop-after-commit=4");
	survives("latency=20");
}

static void test_apply__keep_going_reports_every_failure(void **state)
{
	/* mutation 4 is the site (3 the stack group): the device needs it,
	 * the interfaces the device */
	const char *extra[] = { "--fault", "fail-mutation=4", NULL };
	const char *a[] = {
		"apply", "latest", "--auto-approve", "--keep-going", "--state",
		NULL,    NULL
	};
	struct env e;
	struct hf_run r;
	char *before, *after;

	(void)state;
	start(&e, extra);
	plan(&e);
	before = dump(&e, NULL);
	a[5] = e.state;
	assert_int_equal(hf_run(&r, dir, NULL, a), 0);
	assert_int_equal(r.status, 1);
	hf_run_release(&r);
	hubform(&r, &e, "show", "latest", "--format=json");
	assert_non_null(
	        strstr(r.out, "skipped: a change it depends on did not apply"));
	hf_run_release(&r);
	after = dump(&e, NULL);
	assert_string_equal(before, after);
	assert_int_equal(branch_count(&e), 1);
	hf_free(before);
	hf_free(after);
	hf_serve_stop(&e.srv);
}

static void test_apply__schema_change_makes_stale(void **state)
{
	static const char more[] =
	        "{\"schemas\":[{\"version\":\"1.0\",\"nodes\":[{\"name\":\"Rack\","
	        "\"namespace\":\"Test\",\"attributes\":[{\"name\":\"name\",\"kind\":"
	        "\"Text\",\"unique\":true}]}]}]}";
	struct env e;
	struct hf_run r;
	char url[300], *resp = NULL;
	long status;

	(void)state;
	start(&e, NULL);
	plan(&e);
	snprintf(url, sizeof(url), "%s/api/schema/load", e.srv.url);
	assert_int_equal(hf_http("POST", url, more, NULL, &status, &resp), 0);
	assert_int_equal(status, 200);
	hf_free(resp);
	hubform(&r, &e, "apply", "latest", "--auto-approve");
	assert_int_equal(r.status, 3);
	assert_non_null(strstr(r.err, "schema"));
	hf_run_release(&r);
	assert_int_equal(branch_count(&e), 1);
	hf_serve_stop(&e.srv);
}

static void test_apply__direct_to_another_branch(void **state)
{
	char file[700];
	const char *pl[] = { "plan",    file, "--branch", "dev-team",
		             "--state", NULL, NULL };
	const char *ap[] = { "apply",    "latest",   "--auto-approve",
		             "--branch", "dev-team", "--state",
		             NULL,       NULL,       NULL };
	struct env e;
	struct hf_run r;
	char *main_before, *main_after, *dev;
	json_t *res;

	(void)state;
	start(&e, NULL);
	res = hf_gql(
	        e.srv.url, NULL, NULL,
	        "mutation { BranchCreate(data: {name: \"dev-team\"}) { ok } }",
	        NULL);
	json_decref(res);
	snprintf(file, sizeof(file), "%s/plan/good.yml", hf_test_data());
	pl[5] = e.state;
	ap[6] = e.state;
	assert_int_equal(hf_run(&r, dir, NULL, pl), 0);
	assert_int_equal(r.status, 0);
	hf_run_release(&r);
	main_before = dump(&e, NULL);
	assert_int_equal(hf_run(&r, dir, NULL, ap), 0);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "pass --direct"));
	hf_run_release(&r);
	ap[7] = "--direct";
	assert_int_equal(hf_run(&r, dir, NULL, ap), 0);
	if (r.status)
		fprintf(stderr, "%s", r.err);
	assert_int_equal(r.status, 0);
	/* says where the changes went, and never claims a merge */
	assert_non_null(strstr(r.err, "applied directly to 'dev-team'"));
	assert_null(strstr(r.err, "merge"));
	hf_run_release(&r);
	main_after = dump(&e, NULL);
	assert_string_equal(main_before, main_after);
	dev = dump(&e, "dev-team");
	assert_non_null(strstr(dev, "eth1"));
	hf_free(main_before);
	hf_free(main_after);
	hf_free(dev);
	hf_serve_stop(&e.srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apply__apply_then_nothing_left),
		cmocka_unit_test(test_apply__failures_roll_back),
		cmocka_unit_test(test_apply__stale_plan_writes_nothing),
		cmocka_unit_test(test_apply__keep_branch),
		cmocka_unit_test(test_apply__recover_a_killed_apply),
		cmocka_unit_test(test_apply__sigint_rolls_back),
		cmocka_unit_test(test_apply__faults_retried_without_duplicates),
		cmocka_unit_test(test_apply__keep_going_reports_every_failure),
		cmocka_unit_test(test_apply__schema_change_makes_stale),
		cmocka_unit_test(test_apply__direct_to_another_branch),
	};

	snprintf(dir, sizeof(dir), "%s", hf_test_tmpdir("apply"));
	unsetenv("INFRAHUB_API_TOKEN");
	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
