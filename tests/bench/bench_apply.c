/*
 * Benchmark of `hubform apply` (not a test): N creates, then N updates,
 * on a fresh local endpoint, with hubform's defaults and, in the same
 * run, with --batch-size 1 --parallelism 10 (one request per object at
 * concurrency 10, the pattern the Infrahub SDK documentation teaches).
 * Reports wall time, requests the server saw, peak RSS, and the ratio.
 *
 * The endpoint runs with `--fault cost=REQUEST_MS,PER_OP_MS` (default
 * 20,2): a delay per request plus one per mutation or lookup in it, not
 * holding the database lock, as a model of a real Infrahub, where a
 * request costs tens of milliseconds and each mutation several. Without
 * it (COST "0,0") the local endpoint answers in about a millisecond and
 * the comparison says little about batching.
 *
 *   build/tests/bench_apply [N] [COST]     (defaults 10000 20,2)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hf/alloc.h"
#include "testutil.h"

static const char schema[] =
	"{\"schemas\":[{\"version\":\"1.0\",\"nodes\":["
	"{\"name\":\"Device\",\"namespace\":\"Bench\",\"human_friendly_id\":[\"name__value\"],"
	"\"attributes\":[{\"name\":\"name\",\"kind\":\"Text\",\"unique\":true},"
	"{\"name\":\"serial\",\"kind\":\"Text\",\"optional\":true},"
	"{\"name\":\"asn\",\"kind\":\"Number\",\"optional\":true}]}]}]}";

static int write_files(const char *dir, long n, int round)
{
	char path[900];
	FILE *f;
	long i;

	mkdir(dir, 0777);
	snprintf(path, sizeof(path), "%s/devices.yml", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "---\napiVersion: infrahub.app/v1\nkind: Object\nspec:\n"
		   "  kind: BenchDevice\n  data:\n");
	for (i = 0; i < n; i++)
		fprintf(f, "    - name: dev%07ld\n      serial: SN%ld-%d\n      asn: %ld\n",
			i, i, round, 64512 + (i + round) % 1000);
	return fclose(f) == 0 ? 0 : -1;
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

/* plan + apply one round; prints the apply's figures. batch 0: defaults. */
static double step(const char *dir, const char *log, const char *objs,
		   const char *label, long batch)
{
	char b[32];
	const char *plan[] = { "plan", objs, NULL };
	const char *apply[] = { "apply", "latest", "--auto-approve", "--batch-size", b,
				"--parallelism", "10", NULL };
	struct hf_run r;
	long before;
	double t;

	snprintf(b, sizeof(b), "%ld", batch);
	if (batch == 0)
		apply[3] = NULL; /* hubform's defaults */
	if (hf_run(&r, dir, NULL, plan) < 0 || r.status != 0)
		return -1;
	hf_run_release(&r);
	before = count_lines(log);
	if (hf_run(&r, dir, NULL, apply) < 0 || r.status != 0) {
		fprintf(stderr, "%s", r.err);
		return -1;
	}
	t = r.seconds;
	printf("%-28s %.3f s, %ld requests, peak RSS %ld KiB\n", label, t,
	       count_lines(log) - before, r.maxrss_kb);
	fflush(stdout);
	hf_run_release(&r);
	return t;
}

static int bench(long n, long batch, const char *cost, double *creates,
		 double *updates)
{
	const char *dir = hf_test_tmpdir(batch == 1 ? "bench_apply1" : "bench_apply");
	char db[700], log[700], objs[700], url[300], label[64], fault[64];
	char *resp = NULL;
	const char *extra[] = { "--log", log, "--fault", fault, NULL };
	struct hf_served s;
	long status;

	snprintf(db, sizeof(db), "%s/data.db", dir);
	snprintf(log, sizeof(log), "%s/requests.log", dir);
	snprintf(objs, sizeof(objs), "%s/objects", dir);
	snprintf(fault, sizeof(fault), "cost=%s", cost);
	if (hf_serve_start(&s, db, extra) < 0)
		return -1;
	snprintf(url, sizeof(url), "%s/api/schema/load", s.url);
	hf_http("POST", url, schema, NULL, &status, &resp);
	hf_free(resp);
	setenv("INFRAHUB_ADDRESS", s.url, 1);
	write_files(objs, n, 0);
	snprintf(label, sizeof(label), "N=%ld creates, %s:", n,
		 batch ? "batch 1" : "defaults");
	*creates = step(dir, log, objs, label, batch);
	write_files(objs, n, 1);
	snprintf(label, sizeof(label), "N=%ld updates, %s:", n,
		 batch ? "batch 1" : "defaults");
	*updates = step(dir, log, objs, label, batch);
	hf_serve_stop(&s);
	return *creates > 0 && *updates > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 10000;
	const char *cost = argc > 2 ? argv[2] : "20,2";
	double cd, ud, c1, u1;

	hf_alloc_init();
	printf("endpoint cost model: cost=%s (ms per request, per operation)\n", cost);
	if (bench(n, 0, cost, &cd, &ud) < 0 || bench(n, 1, cost, &c1, &u1) < 0)
		return 1;
	printf("defaults vs one request per object at concurrency 10 (cost=%s):"
	       " creates %.1fx, updates %.1fx faster\n", cost, c1 / cd, u1 / ud);
	return 0;
}
