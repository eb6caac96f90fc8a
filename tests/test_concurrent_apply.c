/*
 * Two runners, one target (issue 13, finding 1): two plans of the same
 * files, made in two plan stores (two directories, as two CI runners
 * would), applied at the same moment against one `hubform serve --fault
 * latency=200`. The apply lock in Infrahub (engine/lock.c) lets exactly
 * one apply; the other exits 1 naming the holder's plan, or with
 * --lock-timeout waits and then finds its plan stale. Either way main
 * holds every device once and no hubform-* branch is left.
 */
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
#include <unistd.h>

#include "hf/alloc.h"
#include "hf/plan.h"
#include "hf/store.h"
#include "sdkload.h"
#include "testutil.h"

#define DEVICES 12

struct runner {
	char dir[700];
	char state[800];
	char id[HF_PLAN_ID_LEN + 1];
	pid_t pid;
	int status;
	char *err;
};

static char files[800];

/* One site and DEVICES devices, in a file both runners read. */
static void write_files(const char *dir)
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
		o += (size_t)snprintf(text + o, sizeof(text) - o,
		                      "    - name: dev%02d\n      role: edge\n"
		                      "      site: paris\n",
		                      i);
	snprintf(files, sizeof(files), "%s/devices.yml", dir);
	assert_int_equal(hf_write_file(files, text), 0);
}

static void make_plan(struct runner *r, const char *base, const char *name,
                      const struct hf_served *s)
{
	const char *a[] = { "plan",    files,    "--address", s->url,
		            "--state", r->state, NULL };
	struct hf_run run;
	hf_store *st;
	hf_plan *p;

	snprintf(r->dir, sizeof(r->dir), "%s/%s", base, name);
	assert_int_equal(mkdir(r->dir, 0700), 0);
	snprintf(r->state, sizeof(r->state), "%s/plans.db", r->dir);
	assert_int_equal(hf_run(&run, r->dir, NULL, a), 0);
	if (run.status)
		fprintf(stderr, "plan: %s", run.err);
	assert_int_equal(run.status, 0);
	hf_run_release(&run);
	assert_int_equal(hf_store_open(&st, r->state, NULL), 0);
	assert_int_equal(hf_store_load(st, "latest", &p, NULL), 0);
	snprintf(r->id, sizeof(r->id), "%s", hf_plan_meta(p)->id);
	hf_plan_free(p);
	hf_store_close(st);
}

/* Start `hubform apply ID --auto-approve` in the runner's directory. */
static void start_apply(struct runner *r, const char *lock_timeout)
{
	char errpath[900];
	int fd;

	snprintf(errpath, sizeof(errpath), "%s/apply.err", r->dir);
	r->pid = fork();
	assert_true(r->pid >= 0);
	if (r->pid == 0) {
		fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 2) < 0 || chdir(r->dir) < 0)
			_exit(126);
		unsetenv("INFRAHUB_ADDRESS");
		if (lock_timeout)
			execl(hf_test_bin(), hf_test_bin(), "apply", r->id,
			      "--auto-approve", "--state", r->state,
			      "--lock-timeout", lock_timeout, (char *)NULL);
		else
			execl(hf_test_bin(), hf_test_bin(), "apply", r->id,
			      "--auto-approve", "--state", r->state,
			      (char *)NULL);
		_exit(127);
	}
}

static void finish_apply(struct runner *r)
{
	char errpath[900];
	int st;

	assert_int_equal(waitpid(r->pid, &st, 0), r->pid);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	snprintf(errpath, sizeof(errpath), "%s/apply.err", r->dir);
	r->err = hf_read_file(errpath, NULL);
	assert_non_null(r->err);
	fprintf(stderr, "[%s exit %d] %s", r->id, r->status, r->err);
}

static const char *status_of(const struct runner *r)
{
	static char out[32];
	hf_store *st;
	hf_plan *p;

	assert_int_equal(hf_store_open(&st, r->state, NULL), 0);
	assert_int_equal(hf_store_load(st, r->id, &p, NULL), 0);
	snprintf(out, sizeof(out), "%s", hf_plan_meta(p)->status);
	hf_plan_free(p);
	hf_store_close(st);
	return out;
}

/* Main holds one site and DEVICES devices, each name once. */
static void check_main(const struct hf_served *s)
{
	json_t *res = hf_gql(s->url, NULL, NULL,
	                     "{ TestSite { count } TestDevice { count edges { "
	                     "node { name { value } } } } }",
	                     NULL);
	json_t *data = json_object_get(res, "data"), *edges, *e;
	json_t *seen = json_object();
	const char *name;
	size_t i;

	assert_non_null(data);
	assert_int_equal(json_integer_value(json_object_get(
	                         json_object_get(data, "TestSite"), "count")),
	                 1);
	assert_int_equal(json_integer_value(json_object_get(
	                         json_object_get(data, "TestDevice"), "count")),
	                 DEVICES);
	edges = json_object_get(json_object_get(data, "TestDevice"), "edges");
	assert_int_equal(json_array_size(edges), DEVICES);
	json_array_foreach(edges, i, e)
	{
		name = json_string_value(json_object_get(
		        json_object_get(json_object_get(e, "node"), "name"),
		        "value"));
		assert_non_null(name);
		assert_null(json_object_get(seen, name));
		json_object_set_new(seen, name, json_true());
	}
	json_decref(seen);
	json_decref(res);
}

/* No branch but main: no work branch, no lock branch. */
static void check_branches(const struct hf_served *s)
{
	json_t *res = hf_gql(s->url, NULL, NULL, "{ Branch { name } }", NULL);
	json_t *list = json_object_get(json_object_get(res, "data"), "Branch"),
	       *b;
	size_t i;

	assert_true(json_is_array(list));
	json_array_foreach(list, i, b)
	{
		const char *n = json_string_value(json_object_get(b, "name"));

		if (strcmp(n, "main"))
			fprintf(stderr, "left over: branch %s\n", n);
		assert_string_equal(n, "main");
	}
	json_decref(res);
}

struct pair {
	struct hf_served srv;
	struct runner a, b;
};

/* The endpoint of the running test, stopped by teardown if still up. */
static struct hf_served *live;

static int teardown(void **state)
{
	(void)state;
	if (live)
		hf_serve_stop(live);
	live = NULL;
	return 0;
}

static void setup_pair(struct pair *p, const char *name)
{
	const char *extra[] = { "--fault", "latency=200", NULL };
	const char *dir = hf_test_tmpdir(name);
	char db[800], base[700];

	memset(p, 0, sizeof(*p));
	snprintf(base, sizeof(base), "%s", dir);
	write_files(base);
	snprintf(db, sizeof(db), "%s/infrahub.db", base);
	assert_int_equal(hf_serve_start(&p->srv, db, extra), 0);
	live = &p->srv;
	assert_int_equal(hf_test_load_schema(p->srv.url), 0);
	/* two runners plan the same files against the same, empty, main */
	make_plan(&p->a, base, "runner-a", &p->srv);
	make_plan(&p->b, base, "runner-b", &p->srv);
	assert_string_not_equal(p->a.id, p->b.id);
}

static void release_pair(struct pair *p)
{
	hf_free(p->a.err);
	hf_free(p->b.err);
	live = NULL;
	assert_int_equal(hf_serve_stop(&p->srv), 0);
}

/* Sort the two runners into winner and loser by exit status. */
static void winner_loser(struct pair *p, struct runner **w, struct runner **l)
{
	assert_true((p->a.status == 0) != (p->b.status == 0));
	*w = p->a.status == 0 ? &p->a : &p->b;
	*l = p->a.status == 0 ? &p->b : &p->a;
	assert_string_equal(status_of(*w), "applied");
}

static void test_concurrent__one_applies_other_refused(void **state)
{
	struct pair p;
	struct runner *w, *l;

	(void)state;
	setup_pair(&p, "concurrent-refused");
	start_apply(&p.a, NULL);
	start_apply(&p.b, NULL);
	finish_apply(&p.a);
	finish_apply(&p.b);
	winner_loser(&p, &w, &l);
	/* the loser wrote nothing and names who holds the lock */
	assert_int_equal(l->status, 1);
	assert_non_null(strstr(l->err, "lock"));
	assert_non_null(strstr(l->err, w->id));
	assert_string_equal(status_of(l), "planned");
	check_main(&p.srv);
	check_branches(&p.srv);
	release_pair(&p);
}

static void test_concurrent__waiter_finds_plan_stale(void **state)
{
	struct pair p;
	struct runner *w, *l;

	(void)state;
	setup_pair(&p, "concurrent-wait");
	start_apply(&p.a, "120");
	start_apply(&p.b, "120");
	finish_apply(&p.a);
	finish_apply(&p.b);
	winner_loser(&p, &w, &l);
	/* it waited for the lock, then found main had changed */
	assert_int_equal(l->status, 3);
	assert_string_equal(status_of(l), "stale");
	check_main(&p.srv);
	check_branches(&p.srv);
	release_pair(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(
		        test_concurrent__one_applies_other_refused, teardown),
		cmocka_unit_test_teardown(
		        test_concurrent__waiter_finds_plan_stale, teardown),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
