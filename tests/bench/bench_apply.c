/*
 * Benchmark of `hubform apply` (not a test): N creates, then N updates,
 * on a fresh local endpoint, with the defaults (batches of 50, 10 in
 * flight) and, in the same run, with --batch-size 1 --parallelism 10
 * (one request per object, the pattern the Infrahub SDK documentation
 * teaches). Reports wall time, requests the server saw, peak RSS.
 *
 *   build/tests/bench_apply [N]      (default 10000)
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

/* plan + apply one round; prints the apply's figures. */
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

static int bench(long n, long batch, double *creates, double *updates)
{
	const char *dir = hf_test_tmpdir(batch == 1 ? "bench_apply1" : "bench_apply");
	char db[700], log[700], objs[700], url[300], label[64], *resp = NULL;
	const char *extra[] = { "--log", log, NULL };
	struct hf_served s;
	long status;

	snprintf(db, sizeof(db), "%s/data.db", dir);
	snprintf(log, sizeof(log), "%s/requests.log", dir);
	snprintf(objs, sizeof(objs), "%s/objects", dir);
	if (hf_serve_start(&s, db, extra) < 0)
		return -1;
	snprintf(url, sizeof(url), "%s/api/schema/load", s.url);
	hf_http("POST", url, schema, NULL, &status, &resp);
	hf_free(resp);
	setenv("INFRAHUB_ADDRESS", s.url, 1);
	write_files(objs, n, 0);
	snprintf(label, sizeof(label), "N=%ld creates, batch %ld:", n, batch);
	*creates = step(dir, log, objs, label, batch);
	write_files(objs, n, 1);
	snprintf(label, sizeof(label), "N=%ld updates, batch %ld:", n, batch);
	*updates = step(dir, log, objs, label, batch);
	hf_serve_stop(&s);
	return *creates > 0 && *updates > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 10000;
	double c50, u50, c1, u1;

	hf_alloc_init();
	if (bench(n, 50, &c50, &u50) < 0 || bench(n, 1, &c1, &u1) < 0)
		return 1;
	printf("speed-up of batching: creates %.1fx, updates %.1fx\n", c1 / c50, u1 / u50);
	return 0;
}
