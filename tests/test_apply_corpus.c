/*
 * Apply on the open corpus with `hubform serve`: financial into an empty
 * endpoint (299 creates) then re-planned (no changes); isp with its two
 * clashing unique values changed applied over it (83 creates, 27
 * updates) then re-planned (no changes), and every field the isp files
 * state reads back as stated (that is what a no-change plan means).
 * Skips when ../shared is absent.
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

#include "hf/alloc.h"
#include "hf/buf.h"
#include "corpus_sp.h"
#include "testutil.h"

static char corpus[400];
static char dir[600];
static struct hf_served srv;

/* Copy into dir/sub, replacing `from` by `to` (once per occurrence). */
static void copy_set(const char *sub, const char *const *rel, size_t n,
                     const char *const *from, const char *const *to)
{
	char src[600], dst[1300];
	hf_buf b = HF_BUF_INIT;
	char *orig, *at;
	size_t i, k;

	snprintf(dst, sizeof(dst), "%s/%s", dir, sub);
	mkdir(dst, 0777);
	for (i = 0; i < n; i++) {
		snprintf(src, sizeof(src), "%s/%s", corpus, rel[i]);
		orig = hf_read_file(src, NULL);
		assert_non_null(orig);
		for (k = 0; from && from[k]; k++) {
			at = strstr(orig, from[k]);
			if (at)
				memcpy(at, to[k], strlen(to[k]));
		}
		hf_buf_reset(&b);
		hf_buf_add(&b, orig);
		hf_free(orig);
		snprintf(dst, sizeof(dst), "%s/%s/%s", dir, sub,
		         strrchr(rel[i], '/') + 1);
		assert_int_equal(hf_write_file(dst, b.ptr), 0);
	}
	hf_buf_release(&b);
}

static void hubform(struct hf_run *r, const char *const *a)
{
	assert_int_equal(hf_run(r, dir, NULL, a), 0);
}

static void plan(struct hf_run *r, const char *sub)
{
	char p[700];
	const char *a[] = { "plan", p, "--no-color", "--detailed-exitcode",
		            NULL };

	snprintf(p, sizeof(p), "%s/%s", dir, sub);
	hubform(r, a);
}

static void apply_latest(void)
{
	const char *a[] = { "apply", "latest", "--auto-approve", NULL };
	struct hf_run r;

	hubform(&r, a);
	if (r.status)
		fprintf(stderr, "%s", r.err);
	assert_int_equal(r.status, 0);
	hf_run_release(&r);
}

static int setup(void **state)
{
	static const char *const from[] = { "vpn_id: 100", "service_id: 100",
		                            NULL };
	static const char *const to[] = { "vpn_id: 900", "service_id: 900",
		                          NULL };
	char db[700], schemas[500];
	const char *a[] = { "schema", "load", schemas, NULL };
	struct hf_run r;

	(void)state;
	snprintf(dir, sizeof(dir), "%s", hf_test_tmpdir("apply_corpus"));
	snprintf(db, sizeof(db), "%s/data.db", dir);
	if (hf_serve_start(&srv, db, NULL) < 0)
		return -1;
	setenv("INFRAHUB_ADDRESS", srv.url, 1);
	unsetenv("HUBFORM_STATE");
	snprintf(schemas, sizeof(schemas), "%s/schemas", corpus);
	if (hf_run(&r, dir, NULL, a) < 0 || r.status)
		return -1;
	hf_run_release(&r);
	copy_set("financial", hf_sp_financial, HF_SP_FINANCIAL_N, NULL, NULL);
	copy_set("isp", hf_sp_isp, HF_SP_ISP_N, from, to);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return hf_serve_stop(&srv) == 0 ? 0 : -1;
}

static void test_apply_corpus__financial_then_isp(void **state)
{
	struct hf_run r;

	(void)state;
	plan(&r, "financial");
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(
	        r.out,
	        "Plan: 299 to create, 0 to update, 0 to destroy, 0 unchanged."));
	hf_run_release(&r);
	apply_latest();
	plan(&r, "financial");
	if (r.status)
		fprintf(stderr, "%s", r.out);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(
	        r.out,
	        "Plan: 0 to create, 0 to update, 0 to destroy, 299 unchanged."));
	hf_run_release(&r);
	plan(&r, "isp");
	if (r.status != 2)
		fprintf(stderr, "%s", r.err);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(
	        r.out, "Plan: 83 to create, 27 to update, 0 to destroy,"));
	hf_run_release(&r);
	apply_latest();
	plan(&r, "isp");
	if (r.status)
		fprintf(stderr, "%s", r.out);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(
	        r.out,
	        "Plan: 0 to create, 0 to update, 0 to destroy, 153 unchanged."));
	hf_run_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apply_corpus__financial_then_isp),
	};
	const char *shared = hf_test_shared();

	if (!shared) {
		printf("skipped: ../shared/corpus/infrahub-demo-sp is not present\n");
		return 77;
	}
	snprintf(corpus, sizeof(corpus), "%s/corpus/infrahub-demo-sp", shared);
	hf_alloc_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
