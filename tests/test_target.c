/*
 * The plan is a contract: a plan is applied to exactly the target it was
 * made for, end to end against two `hubform serve` endpoints. A plan for
 * A applied while the environment names B is refused and neither
 * changes; with no override it lands on A; a plan for a branch never
 * writes to the default branch; plan files are recognised by content;
 * Terraform spellings; the server's default branch; and the messages a
 * user acts on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hf/alloc.h"
#include "hf/store.h"
#include "sdkload.h"
#include "target.h"
#include "testutil.h"

static char dir[600];
static int counter;

struct ep {
	struct hf_served srv;
	char db[800];
};

static void start(struct ep *e, const char *const *extra, int schema)
{
	snprintf(e->db, sizeof(e->db), "%s/ep%d.db", dir, ++counter);
	assert_int_equal(hf_serve_start(&e->srv, e->db, extra), 0);
	if (schema)
		assert_int_equal(hf_test_load_schema(e->srv.url), 0);
}

static void stop(struct ep *e)
{
	assert_int_equal(hf_serve_stop(&e->srv), 0);
}

static const char *good(void)
{
	static char p[700];

	snprintf(p, sizeof(p), "%s/plan/good.yml", hf_test_data());
	return p;
}

/* hubform ARGS... (NULL-terminated) in `cwd`; prints stderr on surprise. */
static void run(struct hf_run *r, const char *cwd, int want, ...)
{
	const char *a[24];
	va_list ap;
	int n = 0;

	va_start(ap, want);
	while (n < 23 && (a[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	a[n] = NULL;
	assert_int_equal(hf_run(r, cwd, NULL, a), 0);
	if (want >= 0 && r->status != want)
		fprintf(stderr,
		        "hubform %s: exit %d, want %d\nstdout: %s\nstderr: %s\n",
		        a[0], r->status, want, r->out, r->err);
	if (want >= 0)
		assert_int_equal(r->status, want);
}

/* How many TestSite objects a branch holds (NULL: the default). */
static int sites(const struct ep *e, const char *branch)
{
	json_t *res = hf_gql(e->srv.url, branch, NULL, "{ TestSite { count } }",
	                     NULL);
	int n = (int)json_integer_value(json_object_get(
	        json_object_get(json_object_get(res, "data"), "TestSite"),
	        "count"));

	json_decref(res);
	return n;
}

/* The id of the newest stored plan, from `hubform plans --json`. */
static void newest_plan(const char *cwd, char id[16], char status[16])
{
	struct hf_run r;
	json_t *j, *p;

	run(&r, cwd, 0, "plans", "--json", NULL);
	j = json_loads(r.out, 0, NULL);
	p = json_array_get(j, 0);
	assert_non_null(p);
	snprintf(id, 16, "%s", json_string_value(json_object_get(p, "id")));
	snprintf(status, 16, "%s",
	         json_string_value(json_object_get(p, "status")));
	json_decref(j);
	hf_run_release(&r);
}

static const char *scratch(const char *name)
{
	static char d[700];

	snprintf(d, sizeof(d), "%s/%s", dir, name);
	mkdir(d, 0777);
	return d;
}

static void test_target__plan_for_a_is_never_applied_to_b(void **state)
{
	struct ep a, b;
	struct hf_run r;
	char id[16], status[16];
	const char *cwd = scratch("two");

	(void)state;
	start(&a, NULL, 1);
	start(&b, NULL, 1);
	setenv("INFRAHUB_ADDRESS", a.srv.url, 1);
	run(&r, cwd, 0, "plan", good(), NULL);
	hf_run_release(&r);
	newest_plan(cwd, id, status);
	/* the environment names B: refused before any request */
	setenv("INFRAHUB_ADDRESS", b.srv.url, 1);
	run(&r, cwd, 1, "apply", id, "--auto-approve", NULL);
	assert_non_null(strstr(r.err, "refusing"));
	assert_non_null(strstr(r.err, a.srv.url));
	assert_non_null(strstr(r.err, b.srv.url));
	assert_non_null(strstr(r.err, "INFRAHUB_ADDRESS"));
	hf_run_release(&r);
	/* --address naming B: the same */
	unsetenv("INFRAHUB_ADDRESS");
	run(&r, cwd, 1, "apply", id, "--auto-approve", "--address", b.srv.url,
	    NULL);
	assert_non_null(strstr(r.err, "--address"));
	hf_run_release(&r);
	assert_int_equal(sites(&a, NULL), 0);
	assert_int_equal(sites(&b, NULL), 0);
	newest_plan(cwd, id, status);
	assert_string_equal(status, "planned");
	/* the same address spelt differently is the same target */
	{
		char alt[200];

		snprintf(alt, sizeof(alt), "HTTP://127.0.0.1:%d/", a.srv.port);
		setenv("INFRAHUB_ADDRESS", alt, 1);
		run(&r, cwd, 1, "apply", id, "--auto-approve", "--branch",
		    "other", NULL);
		assert_non_null(strstr(r.err, "--branch"));
		hf_run_release(&r);
	}
	/* no override: it goes to A, the plan's own target */
	unsetenv("INFRAHUB_ADDRESS");
	run(&r, cwd, 0, "apply", id, "--auto-approve", NULL);
	assert_non_null(strstr(r.err, "apply complete: 4 changes"));
	hf_run_release(&r);
	assert_int_equal(sites(&a, NULL), 1);
	assert_int_equal(sites(&b, NULL), 0);
	newest_plan(cwd, id, status);
	assert_string_equal(status, "applied");
	stop(&a);
	stop(&b);
}

static void test_target__latest_is_for_the_current_target(void **state)
{
	struct ep a, b;
	struct hf_run r;
	const char *cwd = scratch("latest");

	(void)state;
	start(&a, NULL, 1);
	start(&b, NULL, 1);
	setenv("INFRAHUB_ADDRESS", a.srv.url, 1);
	run(&r, cwd, 0, "plan", good(), NULL);
	hf_run_release(&r);
	/* the newest plan overall is for B */
	setenv("INFRAHUB_ADDRESS", b.srv.url, 1);
	run(&r, cwd, 0, "plan", good(), NULL);
	hf_run_release(&r);
	setenv("INFRAHUB_ADDRESS", a.srv.url, 1);
	run(&r, cwd, 0, "apply", "latest", "-auto-approve", NULL);
	hf_run_release(&r);
	assert_int_equal(sites(&a, NULL), 1);
	assert_int_equal(sites(&b, NULL), 0);
	/* a target with no plan: no plan of another target is taken */
	run(&r, cwd, 1, "apply", "latest", "--auto-approve", "--address",
	    "http://127.0.0.1:9", NULL);
	assert_non_null(strstr(r.err, "no plan for http://127.0.0.1:9"));
	assert_non_null(strstr(r.err, "hint: the newest plan"));
	hf_run_release(&r);
	/* show latest follows the same rule */
	setenv("INFRAHUB_ADDRESS", b.srv.url, 1);
	run(&r, cwd, 0, "show", NULL);
	assert_non_null(strstr(r.out, b.srv.url));
	assert_non_null(strstr(r.out, "status planned"));
	hf_run_release(&r);
	unsetenv("INFRAHUB_ADDRESS");
	stop(&a);
	stop(&b);
}

static void test_target__branch_plan_never_writes_default(void **state)
{
	struct ep a;
	struct hf_run r;
	char id[16], status[16];
	json_t *res;
	const char *cwd = scratch("branch");

	(void)state;
	start(&a, NULL, 1);
	res = hf_gql(
	        a.srv.url, NULL, NULL,
	        "mutation { BranchCreate(data: {name: \"demo-cloud\"}) { ok } }",
	        NULL);
	json_decref(res);
	setenv("INFRAHUB_ADDRESS", a.srv.url, 1);
	run(&r, cwd, 0, "plan", good(), "-b", "demo-cloud", NULL);
	assert_non_null(strstr(r.out, "branch demo-cloud"));
	hf_run_release(&r);
	newest_plan(cwd, id, status);
	/* applied with the id alone: it means demo-cloud, not main */
	run(&r, cwd, 1, "apply", id, "--auto-approve", NULL);
	assert_non_null(strstr(r.err, "pass --direct"));
	hf_run_release(&r);
	run(&r, cwd, 1, "apply", id, "--auto-approve", "--branch", "main",
	    NULL);
	assert_non_null(strstr(r.err, "refusing"));
	hf_run_release(&r);
	run(&r, cwd, 0, "apply", id, "--auto-approve", "--direct", NULL);
	assert_non_null(strstr(r.err, "applied directly to 'demo-cloud'"));
	hf_run_release(&r);
	assert_int_equal(sites(&a, NULL), 0);
	assert_int_equal(sites(&a, "demo-cloud"), 1);
	/* a branch that does not exist is named as such */
	run(&r, cwd, 1, "plan", good(), "--branch", "no-such", NULL);
	assert_non_null(strstr(
	        r.err, "branch 'no-such' (from --branch) does not exist"));
	hf_run_release(&r);
	unsetenv("INFRAHUB_ADDRESS");
	stop(&a);
}

static void test_target__plan_files(void **state)
{
	struct ep a;
	struct hf_run r;
	char path[800], store[800];
	const char *cwd = scratch("files");
	json_t *j;

	(void)state;
	start(&a, NULL, 1);
	setenv("INFRAHUB_ADDRESS", a.srv.url, 1);
	snprintf(path, sizeof(path), "%s/p.hfplan", cwd);
	/* Terraform's spelling: -out=FILE, never a file named "ut=..." */
	run(&r, cwd, 2, "plan", good(), "-out=p.hfplan", "-detailed-exitcode",
	    NULL);
	assert_non_null(
	        strstr(r.err, "apply it with 'hubform apply p.hfplan'"));
	hf_run_release(&r);
	assert_int_equal(access(path, F_OK), 0);
	snprintf(store, sizeof(store), "%s/ut=p.hfplan", cwd);
	assert_int_not_equal(access(store, F_OK), 0);
	run(&r, cwd, 0, "show", "p.hfplan", "--format", "json", NULL);
	j = json_loads(r.out, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "status")),
	                    "planned");
	json_decref(j);
	hf_run_release(&r);
	run(&r, cwd, 0, "apply", "p.hfplan", "-auto-approve", NULL);
	hf_run_release(&r);
	assert_int_equal(sites(&a, NULL), 1);
	/* the outcome is in the file and in the plan store */
	run(&r, cwd, 0, "show", "p.hfplan", NULL);
	assert_non_null(strstr(r.out, "status applied"));
	hf_run_release(&r);
	run(&r, cwd, 0, "plans", NULL);
	assert_non_null(strstr(r.out, "applied"));
	hf_run_release(&r);
	/* applied once: a second apply of the file is refused */
	run(&r, cwd, 1, "apply", "p.hfplan", "--auto-approve", NULL);
	assert_non_null(strstr(r.err, "is applied"));
	hf_run_release(&r);
	/* an object file is never taken for a plan, nor overwritten by one */
	run(&r, cwd, 1, "show", good(), NULL);
	assert_non_null(strstr(r.err, "is not a plan file"));
	hf_run_release(&r);
	run(&r, cwd, 1, "plan", good(), "--out", good(), NULL);
	assert_non_null(strstr(r.err, "not a plan file"));
	hf_run_release(&r);
	unsetenv("INFRAHUB_ADDRESS");
	stop(&a);
}

static void test_target__embedded_default_is_its_database(void **state)
{
	struct hf_run r;
	char db[800], want[900], sch[700];
	const char *cwd = scratch("embedded");
	struct stat sb;

	(void)state;
	unsetenv("INFRAHUB_ADDRESS");
	/* read-only commands create nothing */
	run(&r, cwd, 0, "plans", NULL);
	hf_run_release(&r);
	run(&r, cwd, 1, "show", NULL);
	hf_run_release(&r);
	snprintf(db, sizeof(db), "%s/.hubform", cwd);
	assert_int_not_equal(stat(db, &sb), 0);
	snprintf(sch, sizeof(sch), "%s/plan/schema.yml", hf_test_data());
	run(&r, cwd, 0, "schema", "load", sch, NULL);
	hf_run_release(&r);
	run(&r, cwd, 0, "plan", good(), NULL);
	snprintf(want, sizeof(want), "local:%s/.hubform/local.db", cwd);
	assert_non_null(strstr(r.out, want));
	hf_run_release(&r);
	/* another run, another port: still the same target */
	run(&r, cwd, 0, "apply", "latest", "--auto-approve", NULL);
	assert_non_null(strstr(r.err, "merged into 'main'"));
	hf_run_release(&r);
	run(&r, cwd, 0, "plan", good(), NULL);
	assert_non_null(strstr(r.out, "No changes."));
	assert_null(strstr(r.err, "apply it with"));
	hf_run_release(&r);
}

static void test_target__server_default_branch(void **state)
{
	const char *extra[] = { "--default-branch", "trunk", NULL };
	struct ep a;
	struct hf_run r;
	const char *cwd = scratch("trunk");

	(void)state;
	start(&a, extra, 1);
	setenv("INFRAHUB_ADDRESS", a.srv.url, 1);
	run(&r, cwd, 0, "plan", good(), NULL);
	assert_non_null(strstr(r.out, "branch trunk"));
	hf_run_release(&r);
	run(&r, cwd, 0, "apply", "latest", "--auto-approve", NULL);
	assert_non_null(strstr(r.err, "merged into 'trunk'"));
	hf_run_release(&r);
	assert_int_equal(sites(&a, "trunk"), 1);
	run(&r, cwd, 0, "plan", good(), "--detailed-exitcode", NULL);
	hf_run_release(&r);
	unsetenv("INFRAHUB_ADDRESS");
	stop(&a);
}

static void test_target__messages(void **state)
{
	const char *locked_opts[] = { "--token", "s3cret", NULL };
	struct ep a, locked, empty, f;
	struct hf_run r;
	char file[700];
	const char *cwd = scratch("messages");
	const char *p;
	int n, k, found;

	(void)state;
	/* 401 names the variable to fix */
	start(&locked, locked_opts, 0);
	setenv("INFRAHUB_ADDRESS", locked.srv.url, 1);
	unsetenv("INFRAHUB_API_TOKEN");
	run(&r, cwd, 1, "plan", good(), NULL);
	assert_non_null(strstr(
	        r.err, "no credentials are set: set INFRAHUB_API_TOKEN"));
	hf_run_release(&r);
	setenv("INFRAHUB_API_TOKEN", "wrong", 1);
	run(&r, cwd, 1, "plan", good(), NULL);
	assert_non_null(
	        strstr(r.err, "refused the API token (INFRAHUB_API_TOKEN"));
	assert_null(strstr(r.err, "wrong"));
	hf_run_release(&r);
	unsetenv("INFRAHUB_API_TOKEN");
	stop(&locked);
	/* a target without the schema: unknown kinds hint `schema load` */
	start(&empty, NULL, 0);
	setenv("INFRAHUB_ADDRESS", empty.srv.url, 1);
	run(&r, cwd, 1, "plan", good(), NULL);
	assert_non_null(strstr(r.err, "hubform schema load"));
	assert_non_null(strstr(r.err, "no schema of its own"));
	hf_run_release(&r);
	stop(&empty);
	/* errors counted as printed: copies made by a range are shown once */
	start(&a, NULL, 1);
	setenv("INFRAHUB_ADDRESS", a.srv.url, 1);
	snprintf(file, sizeof(file), "%s/plan/range_bad.yml", hf_test_data());
	run(&r, cwd, 1, "plan", file, NULL);
	for (n = 0, p = r.err; (p = strstr(p, "range_bad.yml:")); p++)
		n++;
	assert_non_null(strstr(r.err, n == 1 ? "1 error in the object files"
	                                     : "errors in the object files"));
	{
		char want[64];

		snprintf(want, sizeof(want), "%d error%s in the object files",
		         n, n == 1 ? "" : "s");
		assert_non_null(strstr(r.err, want));
	}
	hf_run_release(&r);
	/* unresolvable references are the files' fault, said so */
	snprintf(file, sizeof(file), "%s/plan/unresolvable.yml",
	         hf_test_data());
	run(&r, cwd, 1, "plan", file, NULL);
	assert_non_null(strstr(r.err, "unresolvable reference"));
	assert_null(strstr(r.err, "live state has problems"));
	hf_run_release(&r);
	stop(&a);
	/*
	 * A request that fails as a whole fails every change in it: its
	 * message is printed once, naming how many changes it hit. The
	 * request to fail is found by trying each in turn (the count of
	 * requests before it is not this test's business).
	 */
	for (k = 8, found = 0; k < 40 && !found; k++) {
		char spec[32];
		const char *fail_opts[] = { "--fault", spec, NULL };

		snprintf(spec, sizeof(spec), "http-503=%d", k);
		start(&f, fail_opts, 1);
		setenv("INFRAHUB_ADDRESS", f.srv.url, 1);
		/*
		 * The plan's read-ahead sends as many requests as the
		 * resolve leaves it time for: without it the plan sends the
		 * same ones every time, and the apply's requests keep their
		 * places from one try to the next.
		 */
		setenv("HUBFORM_PREFETCH", "0", 1);
		run(&r, cwd, -1, "plan", good(), "--retries", "0", NULL);
		unsetenv("HUBFORM_PREFETCH");
		hf_run_release(&r);
		run(&r, cwd, -1, "apply", "latest", "--auto-approve",
		    "--retries", "0", NULL);
		if (strstr(r.err, "(and 1 more change) failed: ")) {
			found = 1;
			assert_int_equal(r.status, 1);
			for (n = 0, p = r.err; (p = strstr(p, "HTTP 503")); p++)
				n++;
			assert_int_equal(n, 1); /* once, not once per change */
			for (n = 0, p = r.err; (p = strstr(p, " failed: "));
			     p++)
				n++;
			assert_int_equal(n, 2);
			assert_non_null(strstr(
			        r.err, "apply failed: 2 changes failed"));
			assert_non_null(strstr(r.err, "was deleted"));
		}
		hf_run_release(&r);
		stop(&f);
	}
	assert_true(found);
	unsetenv("INFRAHUB_ADDRESS");
}

/* serve reads its token from a file, so it is not in /proc/PID/cmdline. */
static void test_target__serve_token_file(void **state)
{
	char file[800];
	const char *extra[] = { "--token-file", file, NULL };
	struct ep a;
	struct hf_run r;
	const char *cwd = scratch("tokfile");

	(void)state;
	snprintf(file, sizeof(file), "%s/token", cwd);
	assert_int_equal(hf_write_file(file, "t0ken-from-file\n"), 0);
	start(&a, extra, 0);
	setenv("INFRAHUB_ADDRESS", a.srv.url, 1);
	run(&r, cwd, 1, "plan", good(), NULL);
	assert_non_null(strstr(
	        r.err, "no credentials are set: set INFRAHUB_API_TOKEN"));
	hf_run_release(&r);
	setenv("INFRAHUB_API_TOKEN", "t0ken-from-file", 1);
	run(&r, cwd, 1, "plan", good(), NULL);
	/* authenticated: now it is the schema that is missing */
	assert_non_null(strstr(r.err, "hubform schema load"));
	hf_run_release(&r);
	unsetenv("INFRAHUB_API_TOKEN");
	unsetenv("INFRAHUB_ADDRESS");
	stop(&a);
	/* an empty token file is refused */
	assert_int_equal(hf_write_file(file, "\n"), 0);
	{
		const char *a2[] = { "serve",  "--listen", "127.0.0.1:0",
			             "--data", ":memory:", "--token-file",
			             file,     NULL };

		assert_int_equal(hf_run(&r, cwd, NULL, a2), 0);
		assert_int_equal(r.status, 1);
		assert_non_null(strstr(r.err, "the token is empty"));
		hf_run_release(&r);
	}
}

/* --allow-unkeyed: each item is its own object, through apply too. */
static void test_target__unkeyed_kind_applies(void **state)
{
	struct ep a;
	struct hf_run r;
	char sch[700], notes[700];
	const char *cwd = scratch("unkeyed");
	json_t *res;

	(void)state;
	start(&a, NULL, 0);
	setenv("INFRAHUB_ADDRESS", a.srv.url, 1);
	snprintf(sch, sizeof(sch), "%s/unkeyed/schema.yml", hf_test_data());
	snprintf(notes, sizeof(notes), "%s/unkeyed/notes.yml", hf_test_data());
	run(&r, cwd, 0, "schema", "load", sch, NULL);
	hf_run_release(&r);
	run(&r, cwd, 1, "plan", notes, NULL);
	assert_non_null(strstr(r.err, "--allow-unkeyed"));
	hf_run_release(&r);
	run(&r, cwd, 0, "apply", notes, "--auto-approve", "--allow-unkeyed",
	    NULL);
	assert_non_null(strstr(r.err, "3 changes"));
	assert_null(strstr(r.err, "hunter2"));
	assert_null(strstr(r.out, "hunter2"));
	hf_run_release(&r);
	res = hf_gql(a.srv.url, NULL, NULL, "{ TestNote { count } }", NULL);
	assert_int_equal(json_integer_value(json_object_get(
	                         json_object_get(json_object_get(res, "data"),
	                                         "TestNote"),
	                         "count")),
	                 3);
	json_decref(res);
	unsetenv("INFRAHUB_ADDRESS");
	stop(&a);
}

/* Progress: one line per stage in a log; nothing for a short plan. */
static void test_target__plan_progress(void **state)
{
	struct ep a;
	struct hf_run r;
	const char *cwd = scratch("progress");

	(void)state;
	start(&a, NULL, 1);
	setenv("INFRAHUB_ADDRESS", a.srv.url, 1);
	/* (a short plan shows none either, but "short" depends on the load) */
	setenv("HUBFORM_PROGRESS", "0", 1);
	run(&r, cwd, 0, "plan", good(), NULL);
	assert_null(strstr(r.err, "fetch: "));
	hf_run_release(&r);
	setenv("HUBFORM_PROGRESS", "1", 1);
	run(&r, cwd, 0, "plan", good(), NULL);
	assert_non_null(
	        strstr(r.err, "fetch: 3/3 kinds, 0 live objects read, "));
	assert_non_null(strstr(r.err, "diff: 4/4 objects compared"));
	assert_null(strstr(r.err, "\r"));
	hf_run_release(&r);
	unsetenv("HUBFORM_PROGRESS");
	unsetenv("INFRAHUB_ADDRESS");
	stop(&a);
}

static void test_target__one_change_one_request(void **state)
{
	struct ep a;
	struct hf_run r;
	char file[800];
	const char *p;
	long n;
	const char *cwd = scratch("one");

	(void)state;
	start(&a, NULL, 1);
	setenv("INFRAHUB_ADDRESS", a.srv.url, 1);
	snprintf(file, sizeof(file), "%s/one.yml", cwd);
	assert_int_equal(
	        hf_write_file(
	                file,
	                "apiVersion: infrahub.app/v1\nkind: Object\nspec:\n  kind: TestSite\n"
	                "  data:\n    - name: lyon\n"),
	        0);
	run(&r, cwd, 0, "apply", file, "--auto-approve", NULL);
	/*
	 * The change's own request, plus at most the two writes of
	 * ownership (the stack's group upsert and its membership), which
	 * the apply counts as requests too.
	 */
	p = strstr(r.err, "apply complete: 1 change in ");
	assert_non_null(p);
	n = strtol(p + strlen("apply complete: 1 change in "), NULL, 10);
	assert_true(n >= 1 && n <= 3);
	hf_run_release(&r);
	unsetenv("INFRAHUB_ADDRESS");
	stop(&a);
}

/* -lock-timeout: wait for another apply of the same target, then refuse. */
static void test_target__lock_timeout(void **state)
{
	struct ep a;
	struct hf_run r;
	char id[16], status[16], store[800];
	const char *cwd = scratch("lock");
	hf_store *st;

	(void)state;
	start(&a, NULL, 1);
	setenv("INFRAHUB_ADDRESS", a.srv.url, 1);
	run(&r, cwd, 0, "plan", good(), NULL);
	hf_run_release(&r);
	newest_plan(cwd, id, status);
	/* as if another process were applying it */
	snprintf(store, sizeof(store), "%s/.hubform/plans.db", cwd);
	assert_int_equal(hf_store_open(&st, store, NULL), 0);
	assert_int_equal(
	        hf_store_transition(st, id, "planned", "applying", NULL), 0);
	run(&r, cwd, 0, "plan", good(), NULL);
	hf_run_release(&r);
	run(&r, cwd, 1, "apply", "latest", "--auto-approve", "-lock-timeout=1",
	    NULL);
	assert_non_null(strstr(r.err, "waiting for plan"));
	assert_non_null(strstr(r.err, "is being applied to the same target"));
	hf_run_release(&r);
	assert_int_equal(sites(&a, NULL), 0);
	hf_store_close(st);
	unsetenv("INFRAHUB_ADDRESS");
	stop(&a);
}

/* Infrahub 1.8: a merged branch is frozen; its status says MERGED. */
static void test_target__merged_branch_is_read_only(void **state)
{
	struct ep a;
	json_t *res;
	const char *msg;

	(void)state;
	start(&a, NULL, 1);
	res = hf_gql(
	        a.srv.url, NULL, NULL,
	        "mutation { BranchCreate(data: {name: \"feat-x\"}) { ok } }",
	        NULL);
	json_decref(res);
	res = hf_gql(
	        a.srv.url, "feat-x", NULL,
	        "mutation { TestSiteCreate(data: {name: {value: \"lyon\"}}) { ok } }",
	        NULL);
	assert_null(json_object_get(res, "errors"));
	json_decref(res);
	res = hf_gql(
	        a.srv.url, NULL, NULL,
	        "mutation { BranchMerge(data: {name: \"feat-x\"}) { ok } }",
	        NULL);
	assert_null(json_object_get(res, "errors"));
	json_decref(res);
	res = hf_gql(a.srv.url, NULL, NULL,
	             "{ Branch(name: \"feat-x\") { name status } }", NULL);
	assert_string_equal(
	        json_string_value(json_object_get(
	                json_array_get(
	                        json_object_get(json_object_get(res, "data"),
	                                        "Branch"),
	                        0),
	                "status")),
	        "MERGED");
	json_decref(res);
	res = hf_gql(
	        a.srv.url, "feat-x", NULL,
	        "mutation { TestSiteCreate(data: {name: {value: \"nice\"}}) { ok } }",
	        NULL);
	msg = json_string_value(json_object_get(
	        json_array_get(json_object_get(res, "errors"), 0), "message"));
	assert_non_null(msg);
	assert_non_null(strstr(msg, "has been merged and is read-only"));
	json_decref(res);
	assert_int_equal(sites(&a, NULL), 1);
	stop(&a);
}

/*
 * Two branches that each created the same unique value (two applies at
 * once): the first merge lands, the second is refused, main holds one.
 */
static void test_target__merge_rechecks_uniqueness(void **state)
{
	static const char *const names[] = { "apply-a", "apply-b" };
	struct ep a;
	json_t *res;
	char q[200];
	const char *msg;
	int i;

	(void)state;
	start(&a, NULL, 1);
	for (i = 0; i < 2; i++) {
		snprintf(q, sizeof(q),
		         "mutation { BranchCreate(data: {name: \"%s\"})"
		         " { ok } }",
		         names[i]);
		json_decref(hf_gql(a.srv.url, NULL, NULL, q, NULL));
		res = hf_gql(
		        a.srv.url, names[i], NULL,
		        "mutation { TestSiteCreate(data: {name: {value: \"paris\"}})"
		        " { ok } }",
		        NULL);
		assert_null(json_object_get(res, "errors"));
		json_decref(res);
	}
	res = hf_gql(
	        a.srv.url, NULL, NULL,
	        "mutation { BranchMerge(data: {name: \"apply-a\"}) { ok } }",
	        NULL);
	assert_null(json_object_get(res, "errors"));
	json_decref(res);
	res = hf_gql(
	        a.srv.url, NULL, NULL,
	        "mutation { BranchMerge(data: {name: \"apply-b\"}) { ok } }",
	        NULL);
	msg = json_string_value(json_object_get(
	        json_array_get(json_object_get(res, "errors"), 0), "message"));
	assert_non_null(msg);
	assert_non_null(strstr(msg, "Unable to merge the branch 'apply-b'"));
	assert_non_null(strstr(msg, "TestSite.name must be unique"));
	json_decref(res);
	assert_int_equal(sites(&a, NULL), 1);
	stop(&a);
}

/* The objects of plan/good.yml, written as the apply would have. */
static const char good_objects[] =
        "mutation { s: TestSiteUpsert(data: {name: {value: \"paris\"},"
        " description: {value: \"hq\"}}) { ok }"
        " d: TestDeviceUpsert(data: {name: {value: \"core1\"}, role: {value: \"core\"},"
        " asn: {value: 65001}, site: {hfid: [\"paris\"]}}) { ok }"
        " i: TestInterfaceUpsert(data: {name: {value: \"eth0\"}, device: {hfid: [\"core1\"]}}) { ok }"
        " j: TestInterfaceUpsert(data: {name: {value: \"eth1\"}, mtu: {value: 9000},"
        " device: {hfid: [\"core1\"]}}) { ok } }";

/*
 * --recover after a kill between the merge and the status update: the
 * merge landed, so the plan is applied (whether the branch is still there,
 * MERGED, or already deleted); a branch that never merged means failed.
 */
static void test_target__recover_finds_the_truth(void **state)
{
	struct ep a;
	struct hf_run r;
	char id[16], status[16], store[800], q[300], br[64];
	const char *cwd = scratch("recover");
	hf_store *st;
	json_t *res;
	int round;

	(void)state;
	for (round = 0; round < 3; round++) {
		start(&a, NULL, 1);
		setenv("INFRAHUB_ADDRESS", a.srv.url, 1);
		run(&r, cwd, 0, "plan", good(), NULL);
		hf_run_release(&r);
		newest_plan(cwd, id, status);
		snprintf(store, sizeof(store), "%s/.hubform/plans.db", cwd);
		assert_int_equal(hf_store_open(&st, store, NULL), 0);
		assert_int_equal(hf_store_transition(st, id, "planned",
		                                     "applying", NULL),
		                 0);
		hf_store_close(st);
		/* what the killed apply had done: its branch, written */
		snprintf(br, sizeof(br), "hubform-%s", id);
		snprintf(q, sizeof(q),
		         "mutation { BranchCreate(data: {name: \"%s\"})"
		         " { ok } }",
		         br);
		json_decref(hf_gql(a.srv.url, NULL, NULL, q, NULL));
		res = hf_gql(a.srv.url, br, NULL, good_objects, NULL);
		assert_null(json_object_get(res, "errors"));
		json_decref(res);
		if (round <
		    2) { /* ... and merged (round 1: branch deleted too) */
			snprintf(q, sizeof(q),
			         "mutation { BranchMerge(data: {name: \"%s\"})"
			         " { ok } }",
			         br);
			json_decref(hf_gql(a.srv.url, NULL, NULL, q, NULL));
		}
		if (round == 1) {
			snprintf(q, sizeof(q),
			         "mutation { BranchDelete(data: {name: \"%s\"})"
			         " { ok } }",
			         br);
			json_decref(hf_gql(a.srv.url, NULL, NULL, q, NULL));
		}
		run(&r, cwd, 0, "apply", id, "--recover", NULL);
		assert_non_null(strstr(r.err, round < 2 ? "marked applied"
		                                        : "marked failed"));
		hf_run_release(&r);
		newest_plan(cwd, id, status);
		assert_string_equal(status, round < 2 ? "applied" : "failed");
		assert_int_equal(sites(&a, NULL), round < 2 ? 1 : 0);
		unsetenv("INFRAHUB_ADDRESS");
		stop(&a);
	}
}

/* One target, one identity, however its address is spelt. */
static void test_target__normalize(void **state)
{
	static const char *const same[][2] = {
		{ "http://Infrahub.Example.com:80/",
		  "http://infrahub.example.com" },
		{ "HTTPS://infrahub:443", "https://infrahub" },
		{ "https://infrahub:8443//", "https://infrahub:8443" },
		{ "http://[::1]:8000/", "http://[::1]:8000" },
		{ "http://h/Prefix/", "http://h/Prefix" },
		{ "http://h:80", "http://h" },
	};
	static const char *const bad[] = { "infrahub:8000",    "ftp://h",
		                           "http://user:pw@h", "http://h/?x=1",
		                           "http://",          "http://h:8a" };
	char out[300];
	hf_error err = HF_ERROR_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		assert_int_equal(cli_target_normalize(same[i][0], out,
		                                      sizeof(out), &err),
		                 0);
		assert_string_equal(out, same[i][1]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(
		        cli_target_normalize(bad[i], out, sizeof(out), &err),
		        HF_EINVAL);
	/* credentials in an address are refused and never echoed */
	assert_int_equal(cli_target_normalize("http://u:s3cret@h", out,
	                                      sizeof(out), &err),
	                 HF_EINVAL);
	assert_null(strstr(err.msg, "s3cret"));
}

/* The address a plan recorded, from `hubform plans --json`. */
static void newest_address(const char *cwd, char *out, size_t n)
{
	struct hf_run r;
	json_t *j;

	run(&r, cwd, 0, "plans", "--json", NULL);
	j = json_loads(r.out, 0, NULL);
	snprintf(out, n, "%s",
	         json_string_value(
	                 json_object_get(json_array_get(j, 0), "address")));
	json_decref(j);
	hf_run_release(&r);
}

/* snprintf then hf_write_file, into `path`. */
#define write_toml(path, ...)                                    \
	do {                                                     \
		char text_[1200];                                \
		snprintf(text_, sizeof(text_), __VA_ARGS__);     \
		assert_int_equal(hf_write_file(path, text_), 0); \
	} while (0)

/*
 * infrahubctl.toml: the address and token an infrahubctl user already
 * has configured, below --address and $INFRAHUB_ADDRESS; tables and other
 * keys ignored; $INFRAHUBCTL_CONFIG names another file; a bad file is an
 * error naming FILE:LINE:COL. The token is used and never printed.
 */
static void test_target__infrahubctl_toml(void **state)
{
	static const char *const tok[] = { "--token", "ctl-s3cret", NULL };
	struct ep a, b, t;
	struct hf_run r;
	const char *cwd = scratch("ctl");
	char toml[800], other[800], got[300], sch[700];

	(void)state;
	unsetenv("INFRAHUB_ADDRESS");
	start(&a, NULL, 1);
	start(&b, NULL, 1);
	start(&t, tok, 0);
	snprintf(toml, sizeof(toml), "%s/infrahubctl.toml", cwd);
	write_toml(toml,
	           "# infrahubctl\nserver_address = \"%s\" # here\n"
	           "extra = [\n  \"x\",\n]\n[table]\nserver_address = \"%s\"\n",
	           a.srv.url, b.srv.url);
	run(&r, cwd, 0, "plan", good(), NULL);
	hf_run_release(&r);
	newest_address(cwd, got, sizeof(got));
	assert_string_equal(got, a.srv.url);
	/* the environment wins over the file */
	setenv("INFRAHUB_ADDRESS", b.srv.url, 1);
	run(&r, cwd, 0, "plan", good(), NULL);
	hf_run_release(&r);
	newest_address(cwd, got, sizeof(got));
	assert_string_equal(got, b.srv.url);
	unsetenv("INFRAHUB_ADDRESS");
	/* INFRAHUBCTL_CONFIG names the file instead */
	snprintf(other, sizeof(other), "%s/other.toml", dir);
	write_toml(other, "server_address = '%s'\n", b.srv.url);
	setenv("INFRAHUBCTL_CONFIG", other, 1);
	run(&r, cwd, 0, "plan", good(), NULL);
	hf_run_release(&r);
	newest_address(cwd, got, sizeof(got));
	assert_string_equal(got, b.srv.url);
	/* the token from the file reaches a server that requires it */
	snprintf(sch, sizeof(sch), "%s/plan/schema.yml", hf_test_data());
	write_toml(other, "server_address = \"%s\"\n", t.srv.url);
	run(&r, cwd, 1, "schema", "load", sch, NULL);
	hf_run_release(&r);
	write_toml(other, "server_address = \"%s\"\napi_token = \"%s\"\n",
	           t.srv.url, "ctl-s3cret");
	run(&r, cwd, 0, "schema", "load", sch, NULL);
	hf_run_release(&r);
	run(&r, cwd, 0, "plan", good(), NULL);
	assert_null(strstr(r.out, "ctl-s3cret"));
	assert_null(strstr(r.err, "ctl-s3cret"));
	hf_run_release(&r);
	/* a bad file: FILE:LINE:COL */
	write_toml(other, "%s", "# x\nserver_address = 42\n");
	run(&r, cwd, 1, "plan", good(), NULL);
	assert_non_null(
	        strstr(r.err, "other.toml:2:18: expected a one-line string"));
	hf_run_release(&r);
	unlink(other);
	run(&r, cwd, 1, "plan", good(), NULL);
	assert_non_null(strstr(r.err, "cannot read INFRAHUBCTL_CONFIG"));
	hf_run_release(&r);
	unsetenv("INFRAHUBCTL_CONFIG");
	stop(&a);
	stop(&b);
	stop(&t);
}

/*
 * INFRAHUB_TIMEOUT is the default of --timeout (checked), and
 * HUBFORM_IN_AUTOMATION=1 drops the hint meant for a person.
 */
static void test_target__automation_env(void **state)
{
	struct ep a;
	struct hf_run r;
	const char *cwd = scratch("automation");

	(void)state;
	start(&a, NULL, 1);
	setenv("INFRAHUB_ADDRESS", a.srv.url, 1);
	setenv("INFRAHUB_TIMEOUT", "soon", 1);
	run(&r, cwd, 1, "plan", good(), NULL);
	assert_non_null(strstr(r.err, "INFRAHUB_TIMEOUT 'soon'"));
	hf_run_release(&r);
	setenv("INFRAHUB_TIMEOUT", "30", 1);
	run(&r, cwd, 0, "plan", good(), NULL);
	assert_non_null(strstr(r.err, "apply it with"));
	hf_run_release(&r);
	setenv("HUBFORM_IN_AUTOMATION", "1", 1);
	run(&r, cwd, 0, "plan", good(), NULL);
	assert_null(strstr(r.err, "apply it with"));
	assert_non_null(strstr(r.err, " saved"));
	hf_run_release(&r);
	unsetenv("HUBFORM_IN_AUTOMATION");
	unsetenv("INFRAHUB_TIMEOUT");
	unsetenv("INFRAHUB_ADDRESS");
	stop(&a);
}

/*
 * A username and password instead of a token: from the environment or
 * infrahubctl.toml, a JWT login to a server with users; a token, when
 * set, wins; one without the other is an error; nothing is printed.
 */
static void test_target__login_credentials(void **state)
{
	static const char *const tok[] = { "--token", "tok-s3cret", NULL };
	struct hf_target t;
	struct hf_target_opts o = { "http://h.example", NULL, NULL, 0 };
	struct ep a;
	struct hf_run r;
	const char *cwd = scratch("login");
	char toml[800];

	(void)state;
	/* resolution, in-process (no infrahubctl.toml here) */
	setenv("INFRAHUB_USERNAME", "alice", 1);
	setenv("INFRAHUB_PASSWORD", "pw-s3cret", 1);
	assert_int_equal(cli_target_resolve(&t, &o), 0);
	assert_string_equal(t.username, "alice");
	assert_string_equal(t.password, "pw-s3cret");
	assert_null(t.token);
	setenv("INFRAHUB_API_TOKEN", "tok-s3cret", 1);
	assert_int_equal(cli_target_resolve(&t, &o), 0);
	assert_null(t.username); /* the token wins */
	unsetenv("INFRAHUB_API_TOKEN");
	unsetenv("INFRAHUB_PASSWORD");
	/* end to end, against a server with users and a token */
	setenv("HUBFORM_SERVE_USERS", "alice:pw-s3cret", 1);
	start(&a, tok, 0);
	unsetenv("HUBFORM_SERVE_USERS");
	setenv("INFRAHUB_ADDRESS", a.srv.url, 1);
	run(&r, cwd, 1, "branch", "list", NULL);
	assert_non_null(strstr(r.err, "INFRAHUB_USERNAME/INFRAHUB_PASSWORD: a "
	                              "username without a password"));
	hf_run_release(&r);
	setenv("INFRAHUB_PASSWORD", "pw-s3cret", 1);
	run(&r, cwd, 0, "branch", "list", NULL);
	assert_non_null(strstr(r.out, "main"));
	hf_run_release(&r);
	unsetenv("INFRAHUB_USERNAME");
	unsetenv("INFRAHUB_PASSWORD");
	/* infrahubctl.toml's username and password */
	snprintf(toml, sizeof(toml), "%s/infrahubctl.toml", cwd);
	write_toml(toml, "username = \"alice\"\npassword = \"%s\"\n",
	           "pw-s3cret");
	run(&r, cwd, 0, "branch", "list", NULL);
	assert_null(strstr(r.err, "pw-s3cret"));
	hf_run_release(&r);
	write_toml(toml, "username = \"alice\"\npassword = \"%s\"\n", "wrong");
	run(&r, cwd, 1, "branch", "list", NULL);
	assert_non_null(strstr(r.err, "Incorrect password"));
	assert_non_null(strstr(r.err, "infrahubctl.toml)"));
	hf_run_release(&r);
	/* with the API token too, the token is what is sent */
	setenv("INFRAHUB_API_TOKEN", "tok-s3cret", 1);
	run(&r, cwd, 0, "branch", "list", NULL);
	assert_null(strstr(r.err, "tok-s3cret"));
	hf_run_release(&r);
	unsetenv("INFRAHUB_API_TOKEN");
	unlink(toml);
	unsetenv("INFRAHUB_ADDRESS");
	stop(&a);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "%s", hf_test_tmpdir("target"));
	unsetenv("INFRAHUB_API_TOKEN");
	unsetenv("INFRAHUB_USERNAME");
	unsetenv("INFRAHUB_PASSWORD");
	unsetenv("INFRAHUB_DEFAULT_BRANCH");
	unsetenv("HUBFORM_STATE");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_target__normalize),
		cmocka_unit_test(test_target__lock_timeout),
		cmocka_unit_test(test_target__merged_branch_is_read_only),
		cmocka_unit_test(test_target__merge_rechecks_uniqueness),
		cmocka_unit_test(test_target__recover_finds_the_truth),
		cmocka_unit_test(test_target__plan_for_a_is_never_applied_to_b),
		cmocka_unit_test(test_target__latest_is_for_the_current_target),
		cmocka_unit_test(test_target__branch_plan_never_writes_default),
		cmocka_unit_test(test_target__plan_files),
		cmocka_unit_test(test_target__embedded_default_is_its_database),
		cmocka_unit_test(test_target__server_default_branch),
		cmocka_unit_test(test_target__messages),
		cmocka_unit_test(test_target__one_change_one_request),
		cmocka_unit_test(test_target__plan_progress),
		cmocka_unit_test(test_target__serve_token_file),
		cmocka_unit_test(test_target__unkeyed_kind_applies),
		cmocka_unit_test(test_target__infrahubctl_toml),
		cmocka_unit_test(test_target__automation_env),
		cmocka_unit_test(test_target__login_credentials),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
