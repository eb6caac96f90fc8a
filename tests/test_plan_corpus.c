/*
 * `hubform plan` on the open corpus against `hubform serve`: financial
 * written the way the SDK writes it, then planned again (no changes);
 * isp planned over it (the two uniqueness clashes reported, exit 1); and
 * isp with those two values changed (83 creates, 27 updates, exit 2 with
 * --detailed-exitcode). Skips when ../shared is absent.
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
#include "sdkload.h"
#include "corpus_sp.h"
#include "testutil.h"

static char corpus[400];
static struct hf_served srv;
static char dir[600];

static const char *const schema_dirs[] = { "schemas" };

static void paths(const char **out, const char *const *rel, size_t n,
                  char (*buf)[512])
{
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(buf[i], 512, "%s/%s", corpus, rel[i]);
		out[i] = buf[i];
	}
}

/* Copy files into `sub`, replacing `from` by `to` in their text. */
static void copy_set(const char *sub, const char *const *rel, size_t n,
                     const char *from, const char *to)
{
	char src[600], dst[1200];
	hf_buf b = HF_BUF_INIT;
	char *text, *at, *orig;
	size_t i;

	snprintf(dst, sizeof(dst), "%s/%s", dir, sub);
	mkdir(dst, 0777);
	for (i = 0; i < n; i++) {
		snprintf(src, sizeof(src), "%s/%s", corpus, rel[i]);
		text = orig = hf_read_file(src, NULL);
		assert_non_null(text);
		hf_buf_reset(&b);
		for (at = text; from && (at = strstr(text, from));
		     text = at + strlen(from)) {
			hf_buf_addn(&b, text, (size_t)(at - text));
			hf_buf_add(&b, to);
		}
		hf_buf_add(&b, text);
		hf_free(orig);
		snprintf(dst, sizeof(dst), "%s/%s/%s", dir, sub,
		         strrchr(rel[i], '/') + 1);
		assert_int_equal(hf_write_file(dst, b.ptr), 0);
	}
	hf_buf_release(&b);
}

static int setup(void **state)
{
	char db[700], buf[16][512];
	const char *files[16];
	struct hf_sdkload l;
	json_t *res;
	long status;

	(void)state;
	snprintf(dir, sizeof(dir), "%s", hf_test_tmpdir("plan_corpus"));
	snprintf(db, sizeof(db), "%s/data.db", dir);
	if (hf_serve_start(&srv, db, NULL) < 0)
		return -1;
	setenv("INFRAHUB_ADDRESS", srv.url, 1);
	paths(files, schema_dirs, 1, buf);
	{
		/* every schema file in one request */
		struct hf_run r;
		const char *a[] = { "schema", "load", files[0], NULL };

		if (hf_run(&r, dir, NULL, a) < 0 || r.status != 0)
			return -1;
		hf_run_release(&r);
	}
	memset(&l, 0, sizeof(l));
	l.url = srv.url;
	paths(files, hf_sp_financial, HF_SP_FINANCIAL_N, buf);
	if (hf_sdkload_files(&l, files, HF_SP_FINANCIAL_N) < 0 || l.failures)
		return -1;
	hf_sdkload_release(&l);
	(void)res;
	(void)status;
	copy_set("financial", hf_sp_financial, HF_SP_FINANCIAL_N, NULL, NULL);
	copy_set("isp", hf_sp_isp, HF_SP_ISP_N, NULL, NULL);
	copy_set("isp-fixed", hf_sp_isp, HF_SP_ISP_N, "vpn_id: 100",
	         "vpn_id: 1100");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return hf_serve_stop(&srv) == 0 ? 0 : -1;
}

static void plan(struct hf_run *r, const char *sub, int detailed)
{
	char p[700];
	const char *a[] = { "plan", p, "--no-color",
		            detailed ? "--detailed-exitcode" : NULL, NULL };

	snprintf(p, sizeof(p), "%s/%s", dir, sub);
	assert_int_equal(hf_run(r, dir, NULL, a), 0);
}

static void test_plan_corpus__financial_over_itself_has_no_changes(void **state)
{
	struct hf_run r;

	(void)state;
	plan(&r, "financial", 1);
	if (r.status != 2)
		fprintf(stderr, "%s\n%s", r.err, r.out);
	/* loaded by the SDK, not by hubform: nothing to write but adoption */
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.out,
	                       "Plan: 0 to create, 0 to update, 0 to destroy, "
	                       "299 to adopt, 299 unchanged."));
	hf_run_release(&r);
}

static void test_plan_corpus__isp_over_financial_reports_clashes(void **state)
{
	struct hf_run r;

	(void)state;
	plan(&r, "isp", 1);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(
	        r.err, "unique vpn_id = 100 already belongs to ServiceL3Vpn"));
	assert_non_null(strstr(
	        r.err,
	        "unique service_id = 100 already belongs to ServiceSdwan"));
	assert_non_null(strstr(r.err, "80_l3vpn.yml:"));
	hf_run_release(&r);
}

static void
test_plan_corpus__isp_fixed_gives_83_creates_27_updates(void **state)
{
	struct hf_run r;
	char p[700];

	(void)state;
	/* the second clash: service_id in 90_sdwan.yml */
	snprintf(p, sizeof(p), "%s/isp-fixed/90_sdwan.yml", dir);
	{
		char *t = hf_read_file(p, NULL),
		     *at = t ? strstr(t, "service_id: 100") : NULL;

		assert_non_null(at);
		memcpy(at, "service_id: 901", 15);
		assert_int_equal(hf_write_file(p, t), 0);
		hf_free(t);
	}
	plan(&r, "isp-fixed", 1);
	if (r.status != 2)
		fprintf(stderr, "%s\n", r.err);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(
	        r.out, "Plan: 83 to create, 27 to update, 0 to destroy,"));
	hf_run_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		        test_plan_corpus__financial_over_itself_has_no_changes),
		cmocka_unit_test(
		        test_plan_corpus__isp_over_financial_reports_clashes),
		cmocka_unit_test(
		        test_plan_corpus__isp_fixed_gives_83_creates_27_updates),
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
