/*
 * Benchmark of `hubform apply` (not a test): N creates, then N updates,
 * then N deletes (`plan --destroy`), on a fresh local endpoint per
 * configuration: hubform's defaults, any other batch sizes asked for,
 * and --batch-size 1 --parallelism 10 (one request per object at
 * concurrency 10, the pattern the Infrahub SDK documentation teaches).
 * Reports, per step, the apply's wall time, the requests the server saw
 * and peak RSS, then a table and the ratios defaults / one per object.
 *
 * The endpoint runs with `--fault cost=REQUEST_MS,PER_OP_MS` (default
 * 20,2): a delay per request plus one per mutation or lookup in it, not
 * holding the database lock, as a model of a real Infrahub, where a
 * request costs tens of milliseconds and each mutation several. Without
 * it (COST "0,0") the local endpoint answers in about a millisecond and
 * the comparison says little about batching. Under the model, N
 * mutations at equal parallelism cost N * (R + P) one per request and
 * N * (P + R / B) in requests of B: the ratio cannot exceed (R + P) /
 * (P + R / B) (9.2x for 20,2 at B = 50, 10x at B = 100), and the fixed
 * part of an apply (process start, schema, plan load, lock, checks,
 * branch, merge) lowers it further for small N; the bench prints that
 * ceiling next to the measured ratios.
 *
 *   build/tests/bench_apply [N] [COST] [BATCH,...]
 *     defaults 10000 20,2 (no extra batch size); e.g. 2000 20,2 100
 *     also runs --batch-size 100 for comparison with the default 50.
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
		fprintf(f,
		        "    - name: dev%07ld\n      serial: SN%ld-%d\n      asn: %ld\n",
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

/* One step's figures. */
struct fig {
	double seconds;
	long requests;
	long rss_kb;
};

/* A configuration's three steps. */
struct config {
	const char *label;
	long batch; /* 0: hubform's defaults */
	struct fig f[3];
};

static const char *const step_names[3] = { "creates", "updates", "deletes" };

/* plan (`destroy`: --destroy) + apply one round into *out. */
static int step(const char *dir, const char *log, const char *objs,
                const struct config *c, int which, struct fig *out)
{
	char b[32], label[96];
	const char *plan[] = { "plan", objs, NULL, NULL };
	const char *apply[] = { "apply",        "latest", "--auto-approve",
		                "--batch-size", b,        "--parallelism",
		                "10",           NULL };
	struct hf_run r;
	long before;

	snprintf(b, sizeof(b), "%ld", c->batch);
	if (c->batch == 0)
		apply[3] = NULL; /* hubform's defaults */
	if (which == 2) {
		plan[1] = "--destroy";
		plan[2] = objs;
	}
	if (hf_run(&r, dir, NULL, plan) < 0 || r.status != 0) {
		fprintf(stderr, "plan failed: %s", r.err ? r.err : "");
		hf_run_release(&r);
		return -1;
	}
	hf_run_release(&r);
	before = count_lines(log);
	if (hf_run(&r, dir, NULL, apply) < 0 || r.status != 0) {
		fprintf(stderr, "apply failed: %s", r.err ? r.err : "");
		hf_run_release(&r);
		return -1;
	}
	out->seconds = r.seconds;
	out->requests = count_lines(log) - before;
	out->rss_kb = r.maxrss_kb;
	snprintf(label, sizeof(label), "%s, %s:", step_names[which], c->label);
	printf("  %-34s %8.3f s %7ld requests  peak RSS %ld KiB\n", label,
	       out->seconds, out->requests, out->rss_kb);
	fflush(stdout);
	hf_run_release(&r);
	return 0;
}

/* Creates, updates and deletes of n objects on a fresh endpoint. */
static int bench(long n, const char *cost, struct config *c, int at)
{
	char name[64];
	const char *dir;
	char db[700], log[700], objs[700], url[300], fault[64];
	char *resp = NULL;
	const char *extra[] = { "--log", log, "--fault", fault, NULL };
	struct hf_served s;
	long status;
	int which, rc = 0;

	snprintf(name, sizeof(name), "bench_apply%d", at);
	dir = hf_test_tmpdir(name);
	if (!dir)
		return -1;
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
	for (which = 0; rc == 0 && which < 3; which++) {
		if (which < 2)
			write_files(objs, n, which);
		rc = step(dir, log, objs, c, which, &c->f[which]);
	}
	hf_serve_stop(&s);
	return rc;
}

static void table(long n, const char *cost, const struct config *c, size_t nc)
{
	const struct config *base = &c[nc - 1];
	double req_ms = strtod(cost, NULL), op_ms = 0;
	const char *comma = strchr(cost, ',');
	size_t i;
	int w;

	if (comma)
		op_ms = strtod(comma + 1, NULL);
	printf("\nN=%ld, cost=%s     %-22s %-22s %-22s\n", n, cost, "creates",
	       "updates", "deletes");
	for (i = 0; i < nc; i++) {
		printf("%-24s", c[i].label);
		for (w = 0; w < 3; w++)
			printf(" %8.2f s %6ld req ", c[i].f[w].seconds,
			       c[i].f[w].requests);
		printf("\n");
	}
	for (i = 0; i + 1 < nc; i++) {
		printf("ratio %-18s", c[i].label);
		for (w = 0; w < 3; w++)
			printf(" %8.1fx faster      ",
			       base->f[w].seconds / c[i].f[w].seconds);
		if (op_ms > 0 || req_ms > 0)
			printf(" (cost-model ceiling at equal parallelism: %.1fx)",
			       (req_ms + op_ms) /
			               (op_ms +
			                req_ms / (double)(c[i].batch
			                                          ? c[i].batch
			                                          : 50)));
		printf("\n");
	}
	printf("defaults vs one request per object at concurrency 10 (cost=%s):"
	       " creates %.1fx, updates %.1fx, deletes %.1fx faster\n",
	       cost, base->f[0].seconds / c[0].f[0].seconds,
	       base->f[1].seconds / c[0].f[1].seconds,
	       base->f[2].seconds / c[0].f[2].seconds);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 10000;
	const char *cost = argc > 2 ? argv[2] : "20,2";
	const char *more = argc > 3 ? argv[3] : "";
	static char labels[8][48];
	struct config c[8];
	size_t nc = 0, i;
	char *end;
	long b;

	hf_alloc_init();
	memset(c, 0, sizeof(c));
	c[nc++].label = "defaults";
	while (*more && nc < 6) {
		b = strtol(more, &end, 10);
		if (end == more || b < 1)
			break;
		snprintf(labels[nc], sizeof(labels[nc]), "--batch-size %ld", b);
		c[nc].label = labels[nc];
		c[nc++].batch = b;
		more = *end == ',' ? end + 1 : end;
	}
	c[nc].label = "batch 1 (SDK pattern)";
	c[nc++].batch = 1;
	printf("endpoint cost model: cost=%s (ms per request, per operation); "
	       "--parallelism 10\n",
	       cost);
	for (i = 0; i < nc; i++) {
		printf("%s:\n", c[i].label);
		if (bench(n, cost, &c[i], (int)i) < 0)
			return 1;
	}
	table(n, cost, c, nc);
	return 0;
}
