/*
 * The kill -9 matrix (issue 13): a slow apply (`hubform serve --fault
 * latency=...`) is killed with SIGKILL right after the k-th request the
 * endpoint logged (--log), for every other k of the apply and each of
 * its last three requests, and half-way into some requests; the
 * endpoint itself is killed at a few points and restarted on the same
 * database. Then `hubform apply PLAN --recover`.
 * Every time: main is either the old state or the whole plan, never in
 * between; no hubform-* branch is left; the plan says `applied` exactly
 * when the merge landed.
 *
 * Every point starts from a copy of one template (database and plan
 * store, planned once), on one fixed port: the plan records its target's
 * address, so the restarted endpoint must be found where it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hf/alloc.h"
#include "hf/plan.h"
#include "hf/store.h"
#include "sdkload.h"
#include "testutil.h"

#define LATENCY "latency=30"
#define DEVICES 6

static char dir[700];
static char url[128];
static int port;
static char plan_id[HF_PLAN_ID_LEN + 1];
static char *old_dump, *full_dump;
static int apply_requests; /* requests a whole apply makes */

/* ---- the endpoint, on a fixed port (a plan records its target) -------- */

/*
 * The endpoint now running, whoever started it: a failed assertion
 * jumps out, and what follows (or teardown) must not find an old
 * endpoint still holding the port.
 */
static struct hf_served *live;

/* Start serve on `port` over `db`; wait for its readiness line. */
static void srv_start(struct hf_served *s, const char *db, const char *latency,
                      const char *log)
{
	const char *extra[5];
	int i = 0;

	if (latency) {
		extra[i++] = "--fault";
		extra[i++] = latency;
	}
	if (log) {
		extra[i++] = "--log";
		extra[i++] = log;
	}
	extra[i] = NULL;
	if (hf_serve_start_at(s, port, db, extra) < 0)
		fail_msg("hubform serve did not start on port %d", port);
	live = s;
}

/* SIGTERM (a clean stop) or SIGKILL (a crash), and wait. */
static void srv_stop(struct hf_served *s, int sig)
{
	hf_serve_kill(s, sig);
	live = NULL;
}

/* Stop whatever endpoint a failed point left behind. */
static void stop_leftover(void)
{
	if (live)
		srv_stop(live, SIGKILL);
}

/* ---- state of the target ------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Main as one text without ids: every node of every kind, its fields and
 * its peers by name, sorted. Two applies of one plan dump the same.
 */
static char *dump(void)
{
	json_t *res =
	        hf_gql(url, NULL, NULL,
	               "{ TestSite { edges { node { name { value } "
	               "description { value } } } } TestDevice { edges { "
	               "node { name { value } role { value } site { node { "
	               "name { value } } } } } } TestInterface { edges { "
	               "node { name { value } mtu { value } device { node "
	               "{ name { value } } } } } } }",
	               NULL);
	json_t *data = json_object_get(res, "data"), *kind, *e;
	const char *k;
	char **items = NULL, *out;
	size_t n = 0, i, len = 1, o = 0;

	assert_non_null(data);
	json_object_foreach(data, k, kind)
	{
		json_array_foreach(json_object_get(kind, "edges"), i, e)
		{
			items = realloc(items, (n + 1) * sizeof(*items));
			assert_non_null(items);
			items[n] = json_dumps(json_object_get(e, "node"),
			                      JSON_SORT_KEYS | JSON_COMPACT);
			assert_non_null(items[n]);
			len += strlen(items[n]) + strlen(k) + 2;
			n++;
		}
	}
	if (n > 1)
		qsort(items, n, sizeof(*items), cmp_str);
	out = hf_alloc(len);
	assert_non_null(out);
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		o += (size_t)snprintf(out + o, len - o, "%s\n", items[i]);
		free(items[i]);
	}
	free(items);
	json_decref(res);
	return out;
}

static char *branches(void)
{
	json_t *res = hf_gql(url, NULL, NULL, "{ Branch { name } }", NULL);
	json_t *list = json_object_get(json_object_get(res, "data"), "Branch"),
	       *b;
	char buf[4096] = "";
	size_t i, o = 0;

	assert_true(json_is_array(list));
	json_array_foreach(list, i, b) o +=
	        (size_t)snprintf(buf + o, sizeof(buf) - o, "%s ",
	                         json_string_value(json_object_get(b, "name")));
	json_decref(res);
	return hf_strdup(buf);
}

/* The plan's status in `state` ("planned", "applied"...); static storage. */
static const char *status_in(const char *state)
{
	static char s[32];
	hf_store *st;
	hf_plan *p;

	assert_int_equal(hf_store_open(&st, state, NULL), 0);
	assert_int_equal(hf_store_load(st, plan_id, &p, NULL), 0);
	snprintf(s, sizeof(s), "%s", hf_plan_meta(p)->status);
	hf_plan_free(p);
	hf_store_close(st);
	return s;
}

/* ---- files -------------------------------------------------------------- */

static void copy(const char *from, const char *to)
{
	char cmd[8192], *out = NULL;

	snprintf(cmd, sizeof(cmd),
	         "cp '%s' '%s' && for x in -wal -shm; do rm -f '%s'$x; "
	         "[ -f '%s'$x ] && cp '%s'$x '%s'$x; done; true",
	         from, to, to, from, from, to);
	assert_int_equal(hf_sh(NULL, cmd, &out), 0);
	hf_free(out);
}

static void write_files(const char *path)
{
	char text[8192];
	size_t o;
	int i;

	o = (size_t)snprintf(text, sizeof(text),
	                     "---\napiVersion: infrahub.app/v1\nkind: Object\n"
	                     "spec:\n  kind: TestSite\n  data:\n"
	                     "    - name: paris\n      description: hq\n"
	                     "---\napiVersion: infrahub.app/v1\nkind: Object\n"
	                     "spec:\n  kind: TestDevice\n  data:\n");
	for (i = 0; i < DEVICES; i++)
		o += (size_t)snprintf(
		        text + o, sizeof(text) - o,
		        "    - name: dev%d\n      role: edge\n"
		        "      site: paris\n      interfaces:\n"
		        "        kind: TestInterface\n        data:\n"
		        "          - name: eth0\n"
		        "          - name: eth1\n            mtu: 9000\n",
		        i);
	assert_int_equal(hf_write_file(path, text), 0);
}

static long lines_of(const char *path)
{
	char *t = hf_read_file(path, NULL), *p;
	long n = 0;

	if (!t)
		return 0;
	for (p = t; *p; p++)
		n += *p == '\n';
	hf_free(t);
	return n;
}

/* ---- one point of the matrix -------------------------------------------- */

struct point {
	int k; /* kill once the endpoint logged k requests */
	long extra_ms; /* ... and this much later */
	int endpoint; /* kill the endpoint, not hubform */
};

static pid_t start_apply(const char *state, int retries1)
{
	pid_t pid = fork();
	int fd;

	assert_true(pid >= 0);
	if (pid == 0) {
		fd = open("/dev/null", O_WRONLY);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0 ||
		    chdir(dir) < 0)
			_exit(126);
		unsetenv("INFRAHUB_ADDRESS");
		execl(hf_test_bin(), hf_test_bin(), "apply", plan_id,
		      "--auto-approve", "--state", state, "--batch-size", "3",
		      "--parallelism", "2", "--retries", retries1 ? "1" : "3",
		      (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Wait until `log` has k lines or `pid` ended; 1 when it ended. */
static int wait_for(const char *log, int k, pid_t pid, int *st)
{
	for (;;) {
		if (waitpid(pid, st, WNOHANG) == pid)
			return 1;
		if (lines_of(log) >= k)
			return 0;
		pause_ms(2);
	}
}

static void recover(const char *state, const char *what)
{
	const char *a[] = { "apply",   plan_id, "--recover",
		            "--state", state,   NULL };
	struct hf_run r;

	assert_int_equal(hf_run(&r, dir, NULL, a), 0);
	if (r.status)
		fprintf(stderr, "[%s] recover exit %d: %s", what, r.status,
		        r.err);
	hf_run_release(&r);
}

static void check(const char *state, const char *what)
{
	char *now = dump(), *br = branches();
	const char *st = status_in(state);
	int full = !strcmp(now, full_dump);

	fprintf(stderr, "[%s] main %s, plan %s, branches: %s\n", what,
	        full                     ? "= plan"
	        : !strcmp(now, old_dump) ? "= old"
	                                 : "IN BETWEEN",
	        st, br);
	assert_true(full || !strcmp(now, old_dump));
	/* no work branch and no lock left behind, whatever the point */
	assert_string_equal(br, "main ");
	if (full)
		assert_string_equal(st, "applied");
	else
		assert_true(!strcmp(st, "failed") || !strcmp(st, "planned"));
	hf_free(now);
	hf_free(br);
}

static void run_point(const struct point *pt)
{
	char db[900], state[900], log[900], what[64], tdb[900], tstate[900];
	static struct hf_served s;
	pid_t pid;
	int st, ended;

	stop_leftover();
	snprintf(what, sizeof(what), "%s k=%d +%ldms",
	         pt->endpoint ? "endpoint" : "hubform", pt->k, pt->extra_ms);
	snprintf(tdb, sizeof(tdb), "%s/template.db", dir);
	snprintf(tstate, sizeof(tstate), "%s/template-plans.db", dir);
	snprintf(db, sizeof(db), "%s/point.db", dir);
	snprintf(state, sizeof(state), "%s/point-plans.db", dir);
	snprintf(log, sizeof(log), "%s/point.log", dir);
	copy(tdb, db);
	copy(tstate, state);
	unlink(log);
	srv_start(&s, db, LATENCY, log);
	pid = start_apply(state, pt->endpoint);
	ended = wait_for(log, pt->k, pid, &st);
	if (!ended && pt->extra_ms)
		pause_ms(pt->extra_ms);
	if (pt->endpoint) {
		srv_stop(&s, SIGKILL);
		if (!ended)
			waitpid(pid, &st, 0); /* it fails against no endpoint */
		srv_start(&s, db, NULL, NULL);
	} else if (!ended) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	recover(state, what);
	check(state, what);
	srv_stop(&s, SIGTERM);
}

/* ---- the template and the reference run --------------------------------- */

static int setup(void **state)
{
	char db[900], tstate[900], files[900], log[900];
	const char *a[] = { "plan",    files,  "--address", url,
		            "--state", tstate, NULL };
	struct hf_run r;
	static struct hf_served s;
	hf_store *st;
	hf_plan *p;
	pid_t pid;
	int ws;

	(void)state;
	snprintf(dir, sizeof(dir), "%s", hf_test_tmpdir("crash-matrix"));
	port = hf_free_port();
	assert_true(port > 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	snprintf(db, sizeof(db), "%s/template.db", dir);
	snprintf(tstate, sizeof(tstate), "%s/template-plans.db", dir);
	snprintf(files, sizeof(files), "%s/objects.yml", dir);
	write_files(files);
	srv_start(&s, db, NULL, NULL);
	assert_int_equal(hf_test_load_schema(url), 0);
	assert_int_equal(hf_run(&r, dir, NULL, a), 0);
	if (r.status)
		fprintf(stderr, "plan: %s", r.err);
	assert_int_equal(r.status, 0);
	hf_run_release(&r);
	assert_int_equal(hf_store_open(&st, tstate, NULL), 0);
	assert_int_equal(hf_store_load(st, "latest", &p, NULL), 0);
	snprintf(plan_id, sizeof(plan_id), "%s", hf_plan_meta(p)->id);
	hf_plan_free(p);
	hf_store_close(st);
	old_dump = dump();
	srv_stop(&s, SIGTERM);

	/* the reference: a whole apply, its requests counted */
	snprintf(db, sizeof(db), "%s/ref.db", dir);
	snprintf(tstate, sizeof(tstate), "%s/ref-plans.db", dir);
	snprintf(log, sizeof(log), "%s/ref.log", dir);
	{
		char t1[900], t2[900];

		snprintf(t1, sizeof(t1), "%s/template.db", dir);
		snprintf(t2, sizeof(t2), "%s/template-plans.db", dir);
		copy(t1, db);
		copy(t2, tstate);
	}
	srv_start(&s, db, LATENCY, log);
	pid = start_apply(tstate, 0);
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws), 0);
	full_dump = dump();
	apply_requests = (int)lines_of(log);
	assert_string_equal(status_in(tstate), "applied");
	srv_stop(&s, SIGTERM);
	assert_string_not_equal(old_dump, full_dump);
	fprintf(stderr, "a whole apply makes %d requests\n", apply_requests);
	assert_true(apply_requests >= 6);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	stop_leftover();
	hf_free(old_dump);
	hf_free(full_dump);
	return 0;
}

static void test_crash__kill_hubform_after_each_request(void **state)
{
	struct point pt = { 0, 0, 0 };

	(void)state;
	/* every other request, and each of the last three (merge, status, lock)
	 */
	for (pt.k = 1; pt.k <= apply_requests;
	     pt.k += pt.k < apply_requests - 3 ? 2 : 1)
		run_point(&pt);
}

static void test_crash__kill_hubform_mid_request(void **state)
{
	struct point pt = { 0, 15, 0 };

	(void)state;
	/* half the latency later: a request is in the endpoint's hands */
	for (pt.k = 2; pt.k <= apply_requests; pt.k += 6)
		run_point(&pt);
}

static void test_crash__kill_the_endpoint(void **state)
{
	struct point pt = { 0, 0, 1 };
	int ks[] = { 2, apply_requests / 2, apply_requests - 3,
		     apply_requests - 1 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
		pt.k = ks[i] > 0 ? ks[i] : 1;
		run_point(&pt);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crash__kill_hubform_after_each_request),
		cmocka_unit_test(test_crash__kill_hubform_mid_request),
		cmocka_unit_test(test_crash__kill_the_endpoint),
	};

	hf_alloc_init();
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
