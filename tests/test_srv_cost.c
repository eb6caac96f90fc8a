/*
 * The cost= fault of the local endpoint, the benchmarks' model of a real
 * Infrahub: parsing "cost=REQUEST_MS,PER_OP_MS", the delay asked for a
 * request (REQUEST_MS + PER_OP_MS per mutation field or top-level query
 * field/alias), the counters, and that the delay does not hold the
 * database lock nor an HTTP worker (concurrent costed requests
 * overlap). Durations are checked through the counters; over HTTP only
 * that the delay happened (no wall-clock upper bounds).
 */
/* clang-format off: cmocka needs these first, in this order */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "../server/db.h"
#include "../server/exec.h"
#include "hf/alloc.h"
#include "hf/server.h"
#include "testutil.h"

/* ---- parsing ------------------------------------------------------------- */

static void test_srv_cost__parse(void **state)
{
	struct hf_server_faults f;
	hf_error err = HF_ERROR_INIT;
	static const char *const bad[] = {
		"cost=20",    "cost=",    "cost=a,2", "cost=-1,2", "cost=20,-2",
		"cost=20,2x", "cost=20,", "cost=,2",  "cost=20;2",
	};
	size_t i;

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_int_equal(hf_server_fault_parse(&f, "cost=20,2", &err), 0);
	assert_int_equal(f.cost_request_ms, 20);
	assert_int_equal(f.cost_op_ms, 2);
	assert_int_equal(hf_server_fault_parse(&f, "cost=0,5", &err), 0);
	assert_int_equal(f.cost_request_ms, 0);
	assert_int_equal(f.cost_op_ms, 5);
	/* the other faults still parse, and leave cost alone */
	assert_int_equal(hf_server_fault_parse(&f, "latency=7", &err), 0);
	assert_int_equal(f.latency_ms, 7);
	assert_int_equal(f.cost_op_ms, 5);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		hf_error e = HF_ERROR_INIT;

		assert_int_equal(hf_server_fault_parse(&f, bad[i], &e),
		                 HF_EINVAL);
		assert_non_null(strstr(e.msg, bad[i]));
		assert_non_null(strstr(e.msg, "REQUEST_MS,PER_OP_MS"));
	}
	assert_int_equal(f.cost_request_ms, 0);
	assert_int_equal(f.cost_op_ms, 5);
	assert_int_equal(hf_server_fault_parse(&f, "costs=1,2", &err),
	                 HF_EINVAL);
	assert_non_null(strstr(err.msg, "cost=REQUEST_MS,PER_OP_MS"));
}

static void test_srv_cost__formula(void **state)
{
	struct hf_server_faults f;

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_int_equal(hfs_exec_cost_ms(&f, 5), 0); /* off */
	assert_int_equal(hfs_exec_cost_ms(NULL, 5), 0);
	f.cost_request_ms = 20;
	f.cost_op_ms = 2;
	assert_int_equal(hfs_exec_cost_ms(&f, 0), 20);
	assert_int_equal(hfs_exec_cost_ms(&f, 1), 22);
	assert_int_equal(hfs_exec_cost_ms(&f, 100), 220);
	f.cost_request_ms = 0;
	assert_int_equal(hfs_exec_cost_ms(&f, 3), 6);
}

/* ---- the executor -------------------------------------------------------- */

struct fx {
	hfs_db *db;
	hfs_exec *x;
};

static struct fx *fx_open(long req_ms, long op_ms)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct hf_server_faults faults;
	hf_error err = HF_ERROR_INIT;

	memset(&faults, 0, sizeof(faults));
	faults.cost_request_ms = req_ms;
	faults.cost_op_ms = op_ms;
	assert_non_null(f);
	assert_int_equal(hfs_db_open(&f->db, ":memory:", &err), 0);
	assert_int_equal(hfs_exec_new(&f->x, f->db, &faults, &err), 0);
	hfs_db_lock(f->db);
	assert_int_equal(hfs_exec_bootstrap(f->x, &err), 0);
	hfs_db_unlock(f->db);
	return f;
}

static void fx_close(struct fx *f)
{
	hfs_exec_free(f->x);
	hfs_db_close(f->db);
	free(f);
}

/* One GraphQL request as app.c runs it (under the lock); the body text. */
static char *run_gql(struct fx *f, const char *query)
{
	json_t *body = json_pack("{ss}", "query", query);
	hf_error err = HF_ERROR_INIT;
	char *out = NULL;
	int mutated, rc;

	hfs_db_lock(f->db);
	rc = hfs_exec_graphql(f->x, "main", body, &out, &mutated, &err);
	hfs_db_unlock(f->db);
	json_decref(body);
	assert_int_equal(rc, 0);
	assert_non_null(out);
	return out;
}

static void run_rest(struct fx *f, const char *method, const char *path)
{
	struct hfs_rest res;
	hf_error err = HF_ERROR_INIT;

	hfs_db_lock(f->db);
	assert_int_equal(hfs_exec_rest(f->x, method, path, NULL, NULL, NULL, 0,
	                               &res, &err),
	                 0);
	hfs_db_unlock(f->db);
	assert_int_equal(res.status, 200);
	json_decref(res.body);
}

static void costs(struct fx *f, struct hfs_exec_costs *c)
{
	hfs_db_lock(f->db);
	hfs_exec_costs_get(f->x, c);
	hfs_db_unlock(f->db);
}

static void expect(struct fx *f, long requests, long ops, long last_ms,
                   long total_ms)
{
	struct hfs_exec_costs c;

	costs(f, &c);
	assert_int_equal(c.requests, requests);
	assert_int_equal(c.ops, ops);
	assert_int_equal(c.last_ms, last_ms);
	assert_int_equal(c.total_ms, total_ms);
}

static void test_srv_cost__counted(void **state)
{
	struct fx *f = fx_open(20, 2);
	char *t;

	(void)state;
	expect(f, 0, 0, 0, 0);
	/* two lookups (aliases of one kind); __typename is no lookup */
	t = run_gql(f, "{ a: BuiltinTag { count } b: BuiltinTag { count }"
	               " __typename }");
	assert_null(strstr(t, "errors"));
	hf_free(t);
	expect(f, 1, 2, 24, 24);
	/* three mutation fields, one of which fails: still three */
	t = run_gql(
	        f,
	        "mutation {"
	        " x: BuiltinTagCreate(data: {name: {value: \"x\"}}) { ok }"
	        " y: BuiltinTagCreate(data: {name: {value: \"y\"}}) { ok }"
	        " z: BuiltinTagCreate(data: {name: {value: \"x\"}}) { ok } }");
	assert_non_null(strstr(t, "errors"));
	hf_free(t);
	expect(f, 2, 5, 26, 50);
	/* a request that does not parse still costs the request */
	t = run_gql(f, "{ BuiltinTag { count ");
	assert_non_null(strstr(t, "errors"));
	hf_free(t);
	expect(f, 3, 5, 20, 70);
	/* fragments: the fields they bring are counted once each */
	t = run_gql(f, "query { ...F } fragment F on Query {"
	               " c: BuiltinTag { count } d: BuiltinTag { count } }");
	hf_free(t);
	expect(f, 4, 7, 24, 94);
	/* REST requests cost the request */
	run_rest(f, "GET", "/api/config");
	expect(f, 5, 7, 20, 114);
	fx_close(f);
}

static void test_srv_cost__off(void **state)
{
	struct fx *f = fx_open(0, 0);
	char *t;

	(void)state;
	t = run_gql(f, "{ BuiltinTag { count } }");
	hf_free(t);
	run_rest(f, "GET", "/api/config");
	expect(f, 0, 0, 0, 0);
	fx_close(f);
}

static void *overlap_thread(void *arg)
{
	hf_free(run_gql(arg, "{ BuiltinTag { count } }"));
	return NULL;
}

/*
 * Both requests are in their delay at the same time: impossible if the
 * delay held the database lock (the second could only start its work
 * once the first had finished sleeping).
 */
static void test_srv_cost__no_lock_held(void **state)
{
	struct fx *f = fx_open(1000, 0);
	struct hfs_exec_costs c;
	pthread_t t1, t2;

	(void)state;
	assert_int_equal(pthread_create(&t1, NULL, overlap_thread, f), 0);
	assert_int_equal(pthread_create(&t2, NULL, overlap_thread, f), 0);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	costs(f, &c);
	assert_int_equal(c.requests, 2);
	assert_int_equal(c.max_overlap, 2);
	fx_close(f);
}

/* ---- over HTTP ----------------------------------------------------------- */

static const char *overlap_url;

static void *http_thread(void *p)
{
	long *status = p;
	char *resp = NULL;

	if (hf_http("POST", overlap_url,
	            "{\"query\": \"{ BuiltinTag { count } }\"}", NULL, status,
	            &resp) < 0)
		*status = -1;
	hf_free(resp);
	return NULL;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Ten concurrent requests on ten connections to a server at cost=MS,0. */
static double ten_requests_ms(long cost_ms)
{
	struct hf_server_options o = HF_SERVER_OPTIONS_INIT;
	hf_error err = HF_ERROR_INIT;
	hf_server *s = NULL;
	char url[160];
	pthread_t t[10];
	long status[10];
	double t0, ms;
	int i;

	o.listen = "127.0.0.1:0";
	o.data = ":memory:";
	o.faults.cost_request_ms = cost_ms;
	assert_int_equal(hf_server_start(&s, &o, &err), 0);
	snprintf(url, sizeof(url), "%s/graphql", hf_server_url(s));
	overlap_url = url;
	t0 = now_ms();
	for (i = 0; i < 10; i++)
		assert_int_equal(
		        pthread_create(&t[i], NULL, http_thread, &status[i]),
		        0);
	for (i = 0; i < 10; i++)
		pthread_join(t[i], NULL);
	ms = now_ms() - t0;
	for (i = 0; i < 10; i++)
		assert_int_equal(status[i], 200);
	hf_server_stop(s);
	return ms;
}

/*
 * Over HTTP the delay is really applied: ten concurrent requests costed
 * 300 ms each cannot all be answered in under 300 ms. Whether they
 * overlap is the counters' business (test_srv_cost__no_lock_held): a
 * wall-clock upper bound would flake on a busy machine, so the figures
 * are only printed here.
 */
static void test_srv_cost__http_delay_applied(void **state)
{
	double bare, costed;

	(void)state;
	bare = ten_requests_ms(0);
	costed = ten_requests_ms(300);
	printf("ten concurrent requests: %.0f ms, at cost=300,0: %.0f ms\n",
	       bare, costed);
	assert_true(costed >= 300.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_srv_cost__parse),
		cmocka_unit_test(test_srv_cost__formula),
		cmocka_unit_test(test_srv_cost__counted),
		cmocka_unit_test(test_srv_cost__off),
		cmocka_unit_test(test_srv_cost__no_lock_held),
		cmocka_unit_test(test_srv_cost__http_delay_applied),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
