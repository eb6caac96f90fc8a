/*
 * Benchmark of the local endpoint (not a test): N creates sent as batches
 * of aliased mutations, then the same N nodes listed in pages, then
 * lookups of one node by attribute value among the N, sent as aliased
 * queries like hubform's probes: by a unique attribute (name__value,
 * answered from the uniqueness index), by a plain one (description__value,
 * a value index built on first use), and the same values with
 * partial_match, which no index serves: a scan of the kind per lookup,
 * what every exact filter cost before the indexes. Reports mutations/s,
 * nodes/s, lookups/s and the server's peak RSS.
 *
 *   build/tests/bench_server [N] [BATCH] [PAGE]   (defaults 10000 100 500)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "sdkload.h"
#include "testutil.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_rss_kb(int pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmHWM:", 6))
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return kb;
}

static int create_batches(const struct hf_served *s, long n, long batch)
{
	hf_buf q = HF_BUF_INIT;
	json_t *res;
	long i, j;

	for (i = 0; i < n; i += batch) {
		hf_buf_reset(&q);
		hf_buf_add(&q, "mutation {");
		for (j = i; j < i + batch && j < n; j++)
			hf_buf_addf(
			        &q,
			        " m%ld: BuiltinTagCreate(data: {name: {value: \"tag-%06ld\"},"
			        " description: {value: \"bench %ld\"}}) { ok object { id } }",
			        j, j, j);
		hf_buf_add(&q, " }");
		res = hf_gql(s->url, NULL, NULL, q.ptr, NULL);
		if (!res || json_object_get(res, "errors")) {
			fprintf(stderr, "create failed at %ld\n", i);
			json_decref(res);
			hf_buf_release(&q);
			return -1;
		}
		json_decref(res);
	}
	hf_buf_release(&q);
	return 0;
}

static long list_pages(const struct hf_served *s, long page)
{
	char q[512];
	json_t *res, *kind;
	long offset = 0, seen = 0, total;

	do {
		snprintf(
		        q, sizeof(q),
		        "{ BuiltinTag(offset: %ld, limit: %ld) { count edges { node {"
		        " id hfid display_label __typename name { value }"
		        " description { value } } } } }",
		        offset, page);
		res = hf_gql(s->url, NULL, NULL, q, NULL);
		if (!res || json_object_get(res, "errors")) {
			json_decref(res);
			return -1;
		}
		kind = json_object_get(json_object_get(res, "data"),
		                       "BuiltinTag");
		total = (long)json_integer_value(
		        json_object_get(kind, "count"));
		seen += (long)json_array_size(json_object_get(kind, "edges"));
		json_decref(res);
		offset += page;
	} while (offset < total);
	return seen;
}

/*
 * `count` lookups of single nodes by `attr`, `per` aliases to a request,
 * values spread over the N nodes; returns lookups/s, or -1 when one
 * did not find exactly its node.
 */
static double lookups(const struct hf_served *s, long n, long count, long per,
                      const char *attr, const char *prefix, int width,
                      int partial)
{
	hf_buf q = HF_BUF_INIT;
	json_t *res, *data, *v;
	const char *key;
	double t0 = now(), t;
	long i, j, bad = 0;

	for (i = 0; i < count; i += per) {
		hf_buf_reset(&q);
		hf_buf_add(&q, "{");
		for (j = i; j < i + per && j < count; j++) {
			hf_buf_addf(&q, " l%ld: BuiltinTag(%s__value: \"", j,
			            attr);
			hf_buf_addf(&q, "%s%0*ld", prefix, width,
			            (j * 7919) % n);
			hf_buf_addf(&q, "\"%s) { count edges { node { id } } }",
			            partial ? ", partial_match: true" : "");
		}
		hf_buf_add(&q, " }");
		res = hf_gql(s->url, NULL, NULL, q.ptr, NULL);
		data = json_object_get(res, "data");
		if (!res || json_object_get(res, "errors") || !data)
			bad++;
		json_object_foreach(data, key, v) bad +=
		        json_integer_value(json_object_get(v, "count")) != 1;
		json_decref(res);
	}
	t = now() - t0;
	hf_buf_release(&q);
	if (bad) {
		fprintf(stderr, "lookups by %s: %ld wrong answers\n", attr,
		        bad);
		return -1;
	}
	return (double)count / t;
}

static int report_lookups(const struct hf_served *s, long n)
{
	long fast = n < 5000 ? n : 5000;
	long slow = n <= 10000 ? 200 : 2000000 / n; /* scans: bounded time */
	double unique, plain, scan, t0, build;

	unique = lookups(s, n, fast, 50, "name", "tag-", 6, 0);
	t0 = now();
	if (lookups(s, n, 1, 1, "description", "bench ", 0, 0) < 0)
		return -1;
	build = now() - t0;
	plain = lookups(s, n, fast, 50, "description", "bench ", 0, 0);
	scan = lookups(s, n, slow < 1 ? 1 : slow, 50, "name", "tag-", 6, 1);
	if (unique < 0 || plain < 0 || scan < 0)
		return -1;
	printf("lookup:  among %ld nodes, 50 aliases a request: name__value %.0f/s,"
	       " description__value %.0f/s (first one, building its index: %.3f s);"
	       " scan (partial_match) %.1f/s: index %.0fx faster\n",
	       n, unique, plain, build, scan, unique / scan);
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 10000;
	long batch = argc > 2 ? strtol(argv[2], NULL, 10) : 100;
	long page = argc > 3 ? strtol(argv[3], NULL, 10) : 500;
	const char *dir = hf_test_tmpdir("bench_server");
	struct hf_served s;
	char db[512];
	double t0, t1, t2;
	long seen;

	hf_alloc_init();
	snprintf(db, sizeof(db), "%s/data.db", dir);
	if (hf_serve_start(&s, db, NULL) < 0) {
		fprintf(stderr, "cannot start hubform serve (HUBFORM_BIN?)\n");
		return 1;
	}
	t0 = now();
	if (create_batches(&s, n, batch) < 0)
		return 1;
	t1 = now();
	seen = list_pages(&s, page);
	t2 = now();
	printf("creates: %ld in %.3f s = %.0f mutations/s (batches of %ld)\n",
	       n, t1 - t0, (double)n / (t1 - t0), batch);
	printf("list:    %ld nodes in %.3f s = %.0f nodes/s (pages of %ld)\n",
	       seen, t2 - t1, (double)seen / (t2 - t1), page);
	if (report_lookups(&s, n) < 0)
		seen = -1;
	printf("server peak RSS: %ld KiB\n", peak_rss_kb(s.pid));
	hf_serve_stop(&s);
	return seen == n ? 0 : 1;
}
