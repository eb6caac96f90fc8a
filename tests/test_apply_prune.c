/*
 * Ownership, prune and destroy applied end to end against `hubform serve`
 * (issue 11): apply records what it creates in the stack's group
 * hubform-<stack>; `plan --prune` + apply deletes what left the files
 * (the device and, by cascade, its interfaces), never what hubform did not
 * create; a re-plan is empty; --max-deletes on apply refuses; an object
 * two stacks own is only forgotten; `--destroy` empties the stack; and
 * every fault (a failed mutation at each position, lost answers, 503s,
 * SIGINT, --recover after a kill) leaves main either untouched or fully
 * pruned, never in between.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	char db[800];
	char state[800];
};

static void start(struct env *e, const char *const *extra)
{
	snprintf(e->db, sizeof(e->db), "%s/data%d.db", dir, ++counter);
	snprintf(e->state, sizeof(e->state), "%s/plans%d.db", dir, counter);
	assert_int_equal(hf_serve_start(&e->srv, e->db, extra), 0);
	assert_int_equal(hf_test_load_schema(e->srv.url), 0);
	setenv("INFRAHUB_ADDRESS", e->srv.url, 1);
}

/*
 * The same data served again, on the same port (the plans name the
 * address), with `fault` (counted from this start).
 */
static void restart(struct env *e, const char *fault)
{
	char listen[64];
	const char *extra[] = { "--listen", listen, "--fault", fault, NULL };
	int port = e->srv.port;

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	hf_serve_stop(&e->srv);
	assert_int_equal(hf_serve_start(&e->srv, e->db, extra), 0);
	assert_int_equal(e->srv.port, port);
	setenv("INFRAHUB_ADDRESS", e->srv.url, 1);
}

/* Write object file `name` in the scratch dir; its path in `out`. */
static void file(char *out, size_t n, const char *name, const char *text)
{
	snprintf(out, n, "%s/%s", dir, name);
	assert_int_equal(hf_write_file(out, text), 0);
}

static const char site_text[] =
        "---\napiVersion: infrahub.app/v1\nkind: Object\nspec:\n  kind: TestSite\n"
        "  data:\n    - name: paris\n      description: hq\n";

static const char device_text[] =
        "---\napiVersion: infrahub.app/v1\nkind: Object\nspec:\n  kind: TestDevice\n"
        "  data:\n    - name: core1\n      role: core\n      asn: 65001\n"
        "      site: paris\n      interfaces:\n        kind: TestInterface\n"
        "        data:\n          - name: eth0\n          - name: eth1\n"
        "            mtu: 9000\n";

/* hubform ARGS... --state STATE (args NULL-terminated, at most 12). */
static void hubform(struct hf_run *r, struct env *e, const char *const *args)
{
	const char *a[16];
	int i = 0;

	while (i < 12 && args[i]) {
		a[i] = args[i];
		i++;
	}
	a[i++] = "--state";
	a[i++] = e->state;
	a[i] = NULL;
	assert_int_equal(hf_run(r, dir, NULL, a), 0);
}

/* Run and expect `status`; stderr shown when it differs. */
static void expect(struct env *e, int status, const char *const *args)
{
	struct hf_run r;

	hubform(&r, e, args);
	if (r.status != status)
		fprintf(stderr, "%s: exit %d, expected %d\n%s%s", args[0],
		        r.status, status, r.out, r.err);
	assert_int_equal(r.status, status);
	hf_run_release(&r);
}

static json_t *gql(struct env *e, const char *q)
{
	json_t *res = hf_gql(e->srv.url, NULL, NULL, q, NULL);

	assert_non_null(json_object_get(res, "data"));
	return res;
}

/* Main's objects and groups, as one text: the "full dump". */
static char *dump(struct env *e)
{
	json_t *res = gql(
	        e,
	        "{ TestSite { edges { node { id hfid description { value } } } }"
	        " TestDevice { edges { node { id hfid } } }"
	        " TestInterface { edges { node { id hfid mtu { value } } } }"
	        " BuiltinTag { edges { node { id name { value } } } }"
	        " CoreStandardGroup { edges { node { id name { value }"
	        " members { edges { node { id } } } } } } }");
	char *t = json_dumps(json_object_get(res, "data"), JSON_SORT_KEYS);

	json_decref(res);
	return t;
}

static long count(struct env *e, const char *kind)
{
	char q[200];
	json_t *res;
	long n;

	snprintf(q, sizeof(q), "{ %s { count } }", kind);
	res = gql(e, q);
	n = (long)json_integer_value(json_object_get(
	        json_object_get(json_object_get(res, "data"), kind), "count"));
	json_decref(res);
	return n;
}

/* How many members group `name` has on main; -1 when there is no such group. */
static long members(struct env *e, const char *name)
{
	json_t *vars = json_pack("{s:s}", "n", name), *res, *edges;
	long n;

	res = hf_gql(
	        e->srv.url, NULL, NULL,
	        "query ($n: String) { CoreStandardGroup("
	        "name__value: $n) { edges { node { members { count } } } } }",
	        vars);
	json_decref(vars);
	edges = json_object_get(json_object_get(json_object_get(res, "data"),
	                                        "CoreStandardGroup"),
	                        "edges");
	n = json_array_size(edges)
	            ? (long)json_integer_value(json_object_get(
	                      json_object_get(
	                              json_object_get(json_array_get(edges, 0),
	                                              "node"),
	                              "members"),
	                      "count"))
	            : -1;
	json_decref(res);
	return n;
}

static int branch_count(struct env *e)
{
	json_t *res = gql(e, "{ Branch { name } }");
	int n = (int)json_array_size(
	        json_object_get(json_object_get(res, "data"), "Branch"));

	json_decref(res);
	return n;
}

static char site[700], device[700];

/*
 * A served world where stack s1 applied site paris, device core1 and its
 * two interfaces, and a site "outside" made without hubform; then a plan
 * --prune of the files without the device, saved as latest.
 */
static void applied_then_pruned(struct env *e, const char *const *extra)
{
	const char *plan_all[] = {
		"plan", site, device, "--stack", "s1", NULL
	};
	const char *apply[] = { "apply", "latest", "--auto-approve", NULL };
	const char *prune[] = { "plan", site,      "--stack",
		                "s1",   "--prune", "--detailed-exitcode",
		                NULL };
	json_t *res;

	start(e, extra);
	file(site, sizeof(site), "site.yml", site_text);
	file(device, sizeof(device), "device.yml", device_text);
	res = gql(
	        e,
	        "mutation { TestSiteCreate(data: {name: {value: \"outside\"}}) { ok } }");
	json_decref(res);
	expect(e, 0, plan_all);
	expect(e, 0, apply);
	expect(e, 2, prune);
}

/* Main after the prune: paris and outside, no device, no interface. */
static void assert_pruned(struct env *e)
{
	assert_int_equal(count(e, "TestSite"), 2);
	assert_int_equal(count(e, "TestDevice"), 0);
	assert_int_equal(count(e, "TestInterface"), 0);
	assert_int_equal(members(e, "hubform-s1"), 1);
}

static void test_apply_prune__prune_then_nothing_left(void **state)
{
	const char *apply[] = { "apply", "latest", "--auto-approve", NULL };
	const char *again[] = { "plan", site,      "--stack",
		                "s1",   "--prune", "--detailed-exitcode",
		                NULL };
	const char *other[] = { "plan", site,        "--stack",
		                "s2",   "--destroy", "--detailed-exitcode",
		                NULL };
	struct env e;
	struct hf_run r;

	(void)state;
	applied_then_pruned(&e, NULL);
	/* the first apply recorded exactly what it created */
	assert_int_equal(members(&e, "hubform-s1"), 4);
	hubform(&r, &e, apply);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.err, "apply complete: 3 changes"));
	hf_run_release(&r);
	assert_pruned(&e);
	assert_int_equal(branch_count(&e), 1);
	expect(&e, 0, again);
	/* a stack that owns nothing destroys nothing */
	expect(&e, 0, other);
	hf_serve_stop(&e.srv);
}

/* --destroy then apply: only what the stack did not own is left. */
static void test_apply_prune__destroy(void **state)
{
	const char *destroy[] = { "plan", "--stack", "s1", "--destroy", NULL };
	const char *apply[] = { "apply", "latest", "--auto-approve", NULL };
	struct env e;

	(void)state;
	applied_then_pruned(&e, NULL);
	expect(&e, 0, destroy);
	expect(&e, 0, apply);
	assert_int_equal(count(&e, "TestSite"), 1); /* "outside" */
	assert_int_equal(count(&e, "TestDevice"), 0);
	assert_int_equal(count(&e, "TestInterface"), 0);
	assert_int_equal(members(&e, "hubform-s1"), 0);
	hf_serve_stop(&e.srv);
}

/* apply --max-deletes N: a plan with more deletes is refused, untouched. */
static void test_apply_prune__max_deletes(void **state)
{
	const char *refused[] = { "apply",         "latest", "--auto-approve",
		                  "--max-deletes", "2",      NULL };
	const char *zero[] = { "apply",         "latest", "--auto-approve",
		               "--max-deletes", "0",      NULL };
	const char *enough[] = { "apply",         "latest", "--auto-approve",
		                 "--max-deletes", "3",      NULL };
	struct env e;
	struct hf_run r;
	char *before, *after;

	(void)state;
	applied_then_pruned(&e, NULL);
	before = dump(&e);
	hubform(&r, &e, refused);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err,
	                       "deletes 3 objects, more than the 2 allowed; "
	                       "nothing was written"));
	hf_run_release(&r);
	expect(&e, 1, zero);
	after = dump(&e);
	assert_string_equal(before, after);
	assert_int_equal(branch_count(&e), 1);
	/* still planned: a big enough limit applies it */
	expect(&e, 0, enough);
	assert_pruned(&e);
	hf_free(before);
	hf_free(after);
	hf_serve_stop(&e.srv);
}

/*
 * A failed mutation at every position of the prune's apply: the lock,
 * the branch, the group edit, the delete, the merge, the cleanup. Main is
 * untouched whenever the apply failed, and fully pruned when it succeeded.
 */
static void test_apply_prune__fault_at_every_position(void **state)
{
	static const char *const apply[] = { "apply", "latest",
		                             "--auto-approve", NULL };
	char fault[64], *before, *after;
	struct env e;
	struct hf_run r;
	int n, failures = 0;

	(void)state;
	/*
	 * 1 lock, 2 branch, 3 delete (the deleted nodes leave the group with
	 * their relationships: no group edit), 4 merge, 5 branch delete, 6
	 * unlock
	 */
	for (n = 1; n <= 6; n++) {
		applied_then_pruned(&e, NULL);
		before = dump(&e);
		snprintf(fault, sizeof(fault), "fail-mutation=%d", n);
		restart(&e, fault);
		hubform(&r, &e, apply);
		fprintf(stderr, "[%s] exit %d\n%s", fault, r.status, r.err);
		after = dump(&e);
		if (r.status) {
			failures++;
			assert_int_equal(r.status, 1);
			assert_non_null(strstr(r.err, "injected fault"));
			assert_string_equal(before, after);
		} else {
			assert_pruned(&e);
		}
		/* no work branch is left behind, but one merged and then not
		 * deleted (said) */
		if (!strstr(r.err, "could not delete branch")) {
			json_t *res = gql(&e, "{ Branch { name } }"), *b;
			size_t i;

			json_array_foreach(
			        json_object_get(json_object_get(res, "data"),
			                        "Branch"),
			        i, b)
			{
				const char *name = json_string_value(
				        json_object_get(b, "name"));

				assert_true(
				        !strcmp(name, "main") ||
				        !strncmp(name, "hubform-lock-", 13));
			}
			json_decref(res);
		}
		hf_run_release(&r);
		hf_free(before);
		hf_free(after);
		hf_serve_stop(&e.srv);
	}
	/* lock, branch, delete and merge each failed the apply */
	assert_true(failures >= 4);
}

/* Lost answers and 503s are ridden out: pruned once, no error. */
static void test_apply_prune__faults_ridden_out(void **state)
{
	const char *apply[] = { "apply", "latest", "--auto-approve", NULL };
	const char *again[] = { "plan", site,      "--stack",
		                "s1",   "--prune", "--detailed-exitcode",
		                NULL };
	char fault[64];
	struct env e;
	struct hf_run r;
	int n, gone = 0;

	(void)state;
	for (n = 0; n < 6; n++) {
		applied_then_pruned(&e, NULL);
		/* mutating requests 2..5 (the 4th is the delete), then 503s */
		if (n < 4)
			snprintf(fault, sizeof(fault), "drop-after-commit=%d",
			         n + 2);
		else
			snprintf(fault, sizeof(fault), "http-503=%d",
			         n == 4 ? 3 : 6);
		restart(&e, fault);
		hubform(&r, &e, apply);
		if (r.status)
			fprintf(stderr, "[%s] %s", fault, r.err);
		assert_int_equal(r.status, 0);
		/* the delete whose answer was lost is found gone on the retry
		 */
		gone += strstr(r.err, "1 object to delete was already gone") !=
		        NULL;
		hf_run_release(&r);
		assert_pruned(&e);
		expect(&e, 0, again);
		hf_serve_stop(&e.srv);
	}
	assert_true(gone >= 1);
}

/* SIGINT once the deletes' wave is reported: rolled back, main untouched. */
static void test_apply_prune__sigint_rolls_back(void **state)
{
	char line[512], *before, *after;
	struct env e;
	size_t n = 0;
	int pfd[2], st, waves = 0, rolled = 0;
	pid_t pid;
	char c;

	(void)state;
	applied_then_pruned(&e, NULL);
	restart(&e, "latency=200");
	before = dump(&e);
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 2);
		close(pfd[0]);
		if (chdir(dir) < 0)
			_exit(126);
		execl(hf_test_bin(), hf_test_bin(), "apply", "latest",
		      "--auto-approve", "--state", e.state, (char *)NULL);
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
		if (strstr(line, "wave 1/") && !waves++)
			kill(pid, SIGINT);
		rolled += strstr(line, "apply failed: interrupted") &&
		          strstr(line, "was deleted");
	}
	close(pfd[0]);
	waitpid(pid, &st, 0);
	assert_int_equal(waves, 1);
	assert_int_equal(rolled, 1);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);
	after = dump(&e);
	assert_string_equal(before, after);
	assert_int_equal(branch_count(&e), 1);
	hf_free(before);
	hf_free(after);
	hf_serve_stop(&e.srv);
}

/*
 * What a kill -9 mid-prune leaves: the plan 'applying', its branch with
 * the device deleted, the lock. --recover deletes the branch, breaks the
 * lock, marks the plan failed; main still has the device.
 */
static void test_apply_prune__recover_a_killed_prune(void **state)
{
	const char *recover[] = { "apply", "latest", "--recover", NULL };
	struct env e;
	struct hf_run r;
	hf_store *st;
	hf_plan *p;
	char id[16], q[600], *before, *after;
	json_t *res, *vars;

	(void)state;
	applied_then_pruned(&e, NULL);
	before = dump(&e);
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
	json_decref(gql(&e, q));
	snprintf(q, sizeof(q), "hubform-%s", id);
	res = hf_gql(e.srv.url, q, NULL,
	             "mutation { TestDeviceDelete(data: {hfid: "
	             "[\"core1\"]}) { ok } }",
	             NULL);
	json_decref(res);
	snprintf(
	        q, sizeof(q),
	        "{\"hubform_lock\": 1, \"holder\": \"ci@box:1.0a1b2c3d\","
	        " \"user\": \"ci\", \"host\": \"box\", \"pid\": 1, \"plan\": \"%s\","
	        " \"since\": \"2026-12-03T01:00:00Z\"}",
	        id);
	vars = json_pack("{s:s}", "d", q);
	res = hf_gql(e.srv.url, NULL, NULL,
	             "mutation ($d: String) { BranchCreate(data: "
	             "{name: \"hubform-lock-main\", description: $d}) { ok } }",
	             vars);
	json_decref(vars);
	json_decref(res);
	assert_int_equal(branch_count(&e), 3);
	hubform(&r, &e, recover);
	if (r.status)
		fprintf(stderr, "%s", r.err);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.err, "did not land"));
	assert_non_null(strstr(r.err, "broke the apply lock"));
	hf_run_release(&r);
	assert_int_equal(branch_count(&e), 1);
	after = dump(&e);
	assert_string_equal(before, after);
	hf_free(before);
	hf_free(after);
	hf_serve_stop(&e.srv);
}

/* An object to delete changed since the plan: stale, exit 3, nothing written.
 */
static void test_apply_prune__changed_since_the_plan_is_stale(void **state)
{
	const char *apply[] = { "apply", "latest", "--auto-approve", NULL };
	struct env e;
	struct hf_run r;
	char *before, *after;

	(void)state;
	applied_then_pruned(&e, NULL);
	json_decref(gql(&e,
	                "mutation { TestDeviceUpdate(data: {hfid: [\"core1\"], "
	                "asn: {value: 65099}}) { ok } }"));
	before = dump(&e);
	hubform(&r, &e, apply);
	if (r.status != 3)
		fprintf(stderr, "%s", r.err);
	assert_int_equal(r.status, 3);
	assert_non_null(strstr(
	        r.err, "stale: TestDevice [\"core1\"]: changed in "
	               "Infrahub since the plan was made (changed: asn)"));
	hf_run_release(&r);
	after = dump(&e);
	assert_string_equal(before, after);
	assert_int_equal(count(&e, "TestDevice"), 1);
	hf_free(before);
	hf_free(after);
	hf_serve_stop(&e.srv);
}

static const char tags_ab[] =
        "---\napiVersion: infrahub.app/v1\nkind: Object\nspec:\n  kind: BuiltinTag\n"
        "  data:\n    - name: red\n    - name: blue\n";
static const char tags_b[] =
        "---\napiVersion: infrahub.app/v1\nkind: Object\nspec:\n  kind: BuiltinTag\n"
        "  data:\n    - name: blue\n";
static const char tags_red[] =
        "---\napiVersion: infrahub.app/v1\nkind: Object\nspec:\n  kind: BuiltinTag\n"
        "  data:\n    - name: red\n";

/*
 * Two stacks declare tag red (the second adopts it); the first prunes it:
 * red only leaves the first stack's group and stays in Infrahub.
 */
static void test_apply_prune__shared_object_is_forgotten(void **state)
{
	char ab[700], b[700], red[700];
	const char *plan_a[] = { "plan", ab, "--stack", "a", NULL };
	const char *plan_r[] = { "plan", red, "--stack", "r", NULL };
	const char *prune_a[] = { "plan", b,         "--stack",
		                  "a",    "--prune", "--detailed-exitcode",
		                  NULL };
	const char *again[] = { "plan", b,         "--stack",
		                "a",    "--prune", "--detailed-exitcode",
		                NULL };
	const char *apply[] = { "apply", "latest", "--auto-approve", NULL };
	struct env e;
	long tags;

	(void)state;
	start(&e, NULL);
	file(ab, sizeof(ab), "tags-ab.yml", tags_ab);
	file(b, sizeof(b), "tags-b.yml", tags_b);
	file(red, sizeof(red), "tags-red.yml", tags_red);
	expect(&e, 0, plan_a);
	expect(&e, 0, apply);
	assert_int_equal(members(&e, "hubform-a"), 2);
	/* adoption: red exists, stack r declares it and takes it in */
	expect(&e, 0, plan_r);
	expect(&e, 0, apply);
	assert_int_equal(members(&e, "hubform-r"), 1);
	tags = count(&e, "BuiltinTag");
	expect(&e, 2, prune_a);
	expect(&e, 0, apply);
	assert_int_equal(count(&e, "BuiltinTag"), tags);
	assert_int_equal(members(&e, "hubform-a"), 1);
	assert_int_equal(members(&e, "hubform-r"), 1);
	expect(&e, 0, again);
	hf_serve_stop(&e.srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apply_prune__prune_then_nothing_left),
		cmocka_unit_test(test_apply_prune__destroy),
		cmocka_unit_test(test_apply_prune__max_deletes),
		cmocka_unit_test(test_apply_prune__fault_at_every_position),
		cmocka_unit_test(test_apply_prune__faults_ridden_out),
		cmocka_unit_test(test_apply_prune__sigint_rolls_back),
		cmocka_unit_test(test_apply_prune__recover_a_killed_prune),
		cmocka_unit_test(
		        test_apply_prune__changed_since_the_plan_is_stale),
		cmocka_unit_test(test_apply_prune__shared_object_is_forgotten),
	};

	snprintf(dir, sizeof(dir), "%s", hf_test_tmpdir("apply_prune"));
	unsetenv("INFRAHUB_API_TOKEN");
	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
