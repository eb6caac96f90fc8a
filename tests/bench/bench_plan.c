/*
 * Benchmark of `hubform plan` with no changes (not a test). For each N:
 * a fresh local endpoint, a small schema with relationships, N devices
 * (plus N/50 sites) written into it and into object files, the stack
 * made their owner (one plan and apply, which adopts them: otherwise
 * every plan would adopt them all), then `hubform plan` over those
 * files. Reports wall time, requests the server saw and
 * hubform's peak RSS; then, in the same run, the same objects fetched one
 * request per object at concurrency 10 (the pattern the Infrahub SDK
 * documentation teaches) for the speed ratio.
 *
 * The plan and the baseline run against the endpoint restarted with
 * `--fault cost=REQUEST_MS,PER_OP_MS` (default 20,2; seeding runs
 * without it): a delay per request plus one per lookup (top-level query
 * field or alias) in it, not holding the database lock, as a model of a
 * real Infrahub's time per request and per operation. "--cost 0,0"
 * measures the bare local endpoint.
 *
 * The plan runs twice: first in a fresh directory (the schema fetched and
 * cached), then again (the schema read from the cache, as in the usual
 * case of plans in a row against an unchanged schema).
 *
 * Also reported: the endpoint alone paging through the same objects with
 * the same selection (1000 a page, 10 in flight, answers not parsed),
 * the floor a plan can reach. BENCH_NO_BASELINE=1 skips the (long)
 * one-request-per-object baseline; HUBFORM_TIMING=1 shows the plan's
 * stage times. Last, the growth of each from one size to the next.
 *
 *   build/tests/bench_plan [--cost R,O] [N...]   (default: 1000 10000 100000)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "sdkload.h"
#include "testutil.h"

static const char schema[] =
        "{\"schemas\":[{\"version\":\"1.0\",\"nodes\":["
        "{\"name\":\"Site\",\"namespace\":\"Bench\",\"human_friendly_id\":[\"name__value\"],"
        "\"attributes\":[{\"name\":\"name\",\"kind\":\"Text\",\"unique\":true},"
        "{\"name\":\"city\",\"kind\":\"Text\",\"optional\":true}]},"
        "{\"name\":\"Device\",\"namespace\":\"Bench\",\"human_friendly_id\":[\"name__value\"],"
        "\"attributes\":[{\"name\":\"name\",\"kind\":\"Text\",\"unique\":true},"
        "{\"name\":\"serial\",\"kind\":\"Text\",\"optional\":true},"
        "{\"name\":\"asn\",\"kind\":\"Number\",\"optional\":true},"
        "{\"name\":\"role\",\"kind\":\"Dropdown\",\"choices\":[{\"name\":\"core\"},{\"name\":\"edge\"}]}],"
        "\"relationships\":[{\"name\":\"site\",\"peer\":\"BenchSite\",\"cardinality\":\"one\","
        "\"optional\":false,\"kind\":\"Attribute\"},"
        "{\"name\":\"tags\",\"peer\":\"BuiltinTag\",\"cardinality\":\"many\",\"optional\":true}]}"
        "]}]}";

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int post_schema(const struct hf_served *s)
{
	char url[256], *resp = NULL;
	long status = 0;

	snprintf(url, sizeof(url), "%s/api/schema/load", s->url);
	hf_http("POST", url, schema, NULL, &status, &resp);
	hf_free(resp);
	return status == 200 ? 0 : -1;
}

static int mutate(const struct hf_served *s, hf_buf *q)
{
	json_t *res;
	int rc;

	if (q->len <= strlen("mutation {"))
		return 0; /* nothing batched since the last request */
	hf_buf_add(q, " }");
	res = hf_gql(s->url, NULL, NULL, q->ptr, NULL);
	rc = res && !json_object_get(res, "errors") ? 0 : -1;
	if (rc < 0) {
		char *t = res ? json_dumps(json_object_get(res, "errors"), 0)
		              : NULL;

		fprintf(stderr, "seeding failed: %.500s\n",
		        t ? t : "no answer");
		free(t);
	}
	json_decref(res);
	hf_buf_reset(q);
	hf_buf_add(q, "mutation {");
	return rc;
}

static int seed(const struct hf_served *s, long n)
{
	hf_buf q = HF_BUF_INIT;
	long i, sites = n / 50 + 1;
	int rc = 0;

	hf_buf_add(
	        &q,
	        "mutation { t: BuiltinTagCreate(data: {name: {value: \"bench\"}}) { ok }");
	for (i = 0; rc == 0 && i < sites; i++) {
		hf_buf_addf(
		        &q,
		        " s%ld: BenchSiteCreate(data: {name: {value: \"site%ld\"},"
		        " city: {value: \"city %ld\"}}) { ok }",
		        i, i, i % 7);
		if (i % 100 == 99)
			rc = mutate(s, &q);
	}
	rc = rc ? rc : mutate(s, &q);
	for (i = 0; rc == 0 && i < n; i++) {
		hf_buf_addf(
		        &q,
		        " d%ld: BenchDeviceCreate(data: {name: {value: \"dev%07ld\"},"
		        " serial: {value: \"SN%ld\"}, asn: {value: %ld}, role: {value: \"%s\"},"
		        " site: {hfid: [\"site%ld\"]}, tags: [{id: \"bench\"}]}) { ok }",
		        i, i, i * 7919, 64512 + i % 1000,
		        i % 2 ? "edge" : "core", i / 50);
		if (i % 100 == 99)
			rc = mutate(s, &q);
	}
	rc = rc ? rc : mutate(s, &q);
	hf_buf_release(&q);
	return rc;
}

static int write_files(const char *dir, long n)
{
	char path[1024];
	long i, sites = n / 50 + 1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/00_sites.yml", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f,
	        "---\napiVersion: infrahub.app/v1\nkind: Object\nspec:\n  kind: BenchSite\n  data:\n");
	for (i = 0; i < sites; i++)
		fprintf(f, "    - name: site%ld\n      city: city %ld\n", i,
		        i % 7);
	fclose(f);
	for (i = 0; i < n; i++) {
		if (i % 10000 == 0) {
			if (i)
				fclose(f);
			snprintf(path, sizeof(path), "%s/10_devices_%04ld.yml",
			         dir, i / 10000);
			f = fopen(path, "w");
			if (!f)
				return -1;
			fprintf(f,
			        "---\napiVersion: infrahub.app/v1\nkind: Object\nspec:\n"
			        "  kind: BenchDevice\n  data:\n");
		}
		fprintf(f,
		        "    - name: dev%07ld\n      serial: SN%ld\n      asn: %ld\n"
		        "      role: %s\n      site: site%ld\n      tags: [bench]\n",
		        i, i * 7919, 64512 + i % 1000, i % 2 ? "edge" : "core",
		        i / 50);
	}
	if (n)
		fclose(f);
	return 0;
}

struct worker {
	const struct hf_served *s;
	long from, to, step;
	long ok;
};

/* The SDK-documentation pattern: one get() per object. */
static void *one_by_one(void *arg)
{
	struct worker *w = arg;
	char q[512];
	json_t *res;
	long i;

	for (i = w->from; i < w->to; i += w->step) {
		snprintf(
		        q, sizeof(q),
		        "{ BenchDevice(hfid: [\"dev%07ld\"]) { count edges { node { id hfid"
		        " name { value } serial { value } asn { value } role { value }"
		        " site { node { id hfid } } tags { edges { node { id hfid } } } } } } }",
		        i);
		res = hf_gql(w->s->url, NULL, NULL, q, NULL);
		if (res && !json_object_get(res, "errors"))
			w->ok++;
		json_decref(res);
	}
	return NULL;
}

/*
 * The endpoint alone: every page of the devices and sites (the selection
 * hubform sends, 1000 objects a page), 10 requests in flight, answers
 * received but not parsed. The floor any client's plan can reach.
 */
struct pager {
	const struct hf_served *s;
	const char *kind, *sel;
	long pages, first, step;
	long ok;
};

static void *page_worker(void *arg)
{
	struct pager *w = arg;
	char url[256], *resp = NULL;
	hf_buf q = HF_BUF_INIT;
	long i, status;

	snprintf(url, sizeof(url), "%s/graphql", w->s->url);
	for (i = w->first; i < w->pages; i += w->step) {
		hf_buf_reset(&q);
		hf_buf_addf(
		        &q,
		        "{\"query\": \"query ($offset: Int, $limit: Int) "
		        "{ %s(offset: $offset, limit: $limit) { count edges { "
		        "node { id hfid __typename%s } } } }\", \"variables\": "
		        "{\"offset\": %ld, \"limit\": 1000}}",
		        w->kind, w->sel, i * 1000);
		/* an error answer (a refused page) is not a page read */
		if (hf_http("POST", url, q.ptr, NULL, &status, &resp) == 0 &&
		    status == 200 && resp && !strstr(resp, "\"errors\""))
			w->ok++;
		hf_free(resp);
		resp = NULL;
	}
	hf_buf_release(&q);
	return NULL;
}

static double paging(const struct hf_served *s, long n)
{
	static const char dev[] =
	        " name { value } serial { value } asn { value }"
	        " role { value } site { node { id hfid __typename } } tags { edges"
	        " { node { id hfid __typename } } }";
	static const char site[] = " name { value } city { value }";
	struct pager w[10];
	pthread_t t[10];
	double t0 = now();
	long ok = 0, pages = 0;
	int i, k;

	for (k = 0; k < 2; k++) {
		long np = ((k ? n / 50 + 1 : n) + 999) / 1000;

		for (i = 0; i < 10; i++) {
			w[i] = (struct pager){ s,
				               k ? "BenchSite" : "BenchDevice",
				               k ? site : dev,
				               np,
				               i,
				               10,
				               0 };
			pthread_create(&t[i], NULL, page_worker, &w[i]);
		}
		for (i = 0; i < 10; i++) {
			pthread_join(t[i], NULL);
			ok += w[i].ok;
		}
		pages += np;
	}
	if (ok != pages)
		fprintf(stderr, "paging: %ld of %ld pages answered\n", ok,
		        pages);
	return now() - t0;
}

static double baseline(const struct hf_served *s, long n)
{
	struct worker w[10];
	pthread_t t[10];
	double t0 = now();
	long ok = 0;
	int i;

	for (i = 0; i < 10; i++) {
		w[i] = (struct worker){ s, i, n, 10, 0 };
		pthread_create(&t[i], NULL, one_by_one, &w[i]);
	}
	for (i = 0; i < 10; i++) {
		pthread_join(t[i], NULL);
		ok += w[i].ok;
	}
	if (ok != n)
		fprintf(stderr, "baseline: %ld of %ld answered\n", ok, n);
	return now() - t0;
}

static long count_lines(const char *path)
{
	size_t len = 0, i;
	char *text = hf_read_file(path, &len);
	long n = 0;

	for (i = 0; text && i < len; i++)
		n += text[i] == '\n';
	hf_free(text);
	return n;
}

/* One size's times, for the growth from one size to the next. */
struct times {
	long n;
	double plan, again, paging;
};

/*
 * The stack adopts what the seeding made (a plan and its apply, with a
 * store of their own), so that the plans measured change nothing.
 */
static int adopt(const char *dir, const char *objs)
{
	char state[700];
	const char *plan[] = { "plan", objs, "--state", state, NULL };
	const char *apply[] = { "apply", "latest",         "--state",
		                state,   "--auto-approve", NULL };
	struct hf_run r;
	int rc;

	snprintf(state, sizeof(state), "%s/adopt", dir);
	mkdir(state, 0777);
	snprintf(state, sizeof(state), "%s/adopt/plans.db", dir);
	rc = hf_run(&r, NULL, NULL, plan) < 0 || r.status != 0 ? -1 : 0;
	if (rc < 0)
		fprintf(stderr, "adopting plan failed: %s", r.err ? r.err : "");
	hf_run_release(&r);
	if (rc == 0) {
		rc = hf_run(&r, NULL, NULL, apply) < 0 || r.status != 0 ? -1
		                                                        : 0;
		if (rc < 0)
			fprintf(stderr, "adopting apply failed: %s",
			        r.err ? r.err : "");
		hf_run_release(&r);
	}
	return rc;
}

static int bench(long n, const char *cost, struct times *t)
{
	const char *dir = hf_test_tmpdir("bench_plan");
	char db[600], log[600], objs[600], state[600], fault[64];
	const char *extra[] = { "--log", log, "--fault", fault, NULL };
	const char *args[] = { "plan", objs, "--state", state, NULL };
	struct hf_served s;
	struct hf_run r, again;
	long before;
	double base, pages;
	char env[256];

	snprintf(db, sizeof(db), "%s/data.db", dir);
	snprintf(log, sizeof(log), "%s/requests.log", dir);
	snprintf(objs, sizeof(objs), "%s/objects", dir);
	snprintf(state, sizeof(state), "%s/plans.db", dir);
	mkdir(objs, 0777);
	snprintf(fault, sizeof(fault), "cost=%s", cost);
	/* seed without the cost model, then restart the endpoint with it */
	if (hf_serve_start(&s, db, NULL) < 0 || post_schema(&s) < 0 ||
	    seed(&s, n) < 0 || write_files(objs, n) < 0 ||
	    setenv("INFRAHUB_ADDRESS", s.url, 1) < 0 || adopt(dir, objs) < 0 ||
	    hf_serve_stop(&s) != 0 || hf_serve_start(&s, db, extra) < 0) {
		fprintf(stderr, "bench setup failed for N=%ld\n", n);
		return -1;
	}
	snprintf(env, sizeof(env), "%s", s.url);
	setenv("INFRAHUB_ADDRESS", env, 1);
	before = count_lines(log);
	if (hf_run(&r, NULL, NULL, args) < 0)
		return -1;
	printf("N=%-7ld plan: %.3f s, exit %d, %ld requests, peak RSS %ld KiB\n",
	       n, r.seconds, r.status, count_lines(log) - before, r.maxrss_kb);
	if (r.status != 0 || getenv("HUBFORM_TIMING"))
		fprintf(stderr, "%s", r.err);
	/* the usual case: the schema unchanged since the last plan */
	before = count_lines(log);
	if (hf_run(&again, NULL, NULL, args) < 0)
		return -1;
	printf("N=%-7ld plan again, schema from the cache: %.3f s, exit %d, "
	       "%ld requests, peak RSS %ld KiB\n",
	       n, again.seconds, again.status, count_lines(log) - before,
	       again.maxrss_kb);
	if (again.status != 0 || getenv("HUBFORM_TIMING"))
		fprintf(stderr, "%s", again.err);
	pages = paging(&s, n);
	*t = (struct times){ n, r.seconds, again.seconds, pages };
	printf("N=%-7ld endpoint alone paging through the objects: %.3f s "
	       "(plan takes %.1fx that, again %.1fx)\n",
	       n, pages, r.seconds / pages, again.seconds / pages);
	fflush(stdout);
	base = getenv("BENCH_NO_BASELINE") ? 0 : baseline(&s, n);
	if (base > 0)
		printf("N=%-7ld one request per object at concurrency 10: %.3f s "
		       "(plan is %.1fx faster, again %.1fx)\n",
		       n, base, base / r.seconds, base / again.seconds);
	fflush(stdout);
	hf_run_release(&r);
	hf_run_release(&again);
	hf_serve_stop(&s);
	return 0;
}

int main(int argc, char **argv)
{
	long sizes[8] = { 1000, 10000, 100000 };
	struct times t[8];
	const char *cost = "20,2";
	int i = 1, n = 3;

	hf_alloc_init();
	if (argc > 2 && !strcmp(argv[1], "--cost")) {
		cost = argv[2];
		i = 3;
	}
	if (argc > i) {
		for (n = 0; i < argc && n < 8; i++)
			sizes[n++] = strtol(argv[i], NULL, 10);
	}
	printf("endpoint cost model: cost=%s (ms per request, per operation)\n",
	       cost);
	for (i = 0; i < n; i++)
		if (bench(sizes[i], cost, &t[i]) < 0)
			return 1;
	/*
	 * Growth from each size to the next, beside the endpoint's own
	 * paging over the same step: paging is linear work, so where it
	 * grows faster than N the machine was slower for the larger size
	 * (it is shared), and the plan's growth is read against it.
	 */
	for (i = 1; i < n; i++)
		printf("growth N=%ld -> %ld (x%.1f): plan x%.1f (again x%.1f), "
		       "endpoint paging x%.1f\n",
		       t[i - 1].n, t[i].n, (double)t[i].n / (double)t[i - 1].n,
		       t[i].plan / t[i - 1].plan, t[i].again / t[i - 1].again,
		       t[i].paging / t[i - 1].paging);
	return 0;
}
