/*
 * The scenario on the open corpus (infrahub-demo-sp, dataset
 * financial) with `hubform serve`: apply it under stack "fin"; remove a
 * tenant and a CE device (with the interfaces, address and VPN site
 * declared for it) from a copy of the files; `plan --prune --detailed-exitcode`
 * exits 2 with exactly those deletes (the interfaces as cascades of the device)
 * and touches nothing they referred to; apply; re-plan exits 0. Then `plan
 * --destroy` and apply: everything the stack owned is gone (pools before their
 * prefixes, referrers before what they need), an object made by hand stays.
 * Skips (77) when ../shared/corpus is absent.
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
static char dir[600];
static struct hf_served srv;

/*
 * Cut from the start of the line `back` lines above the one holding
 * `from` to the end of the line holding the first `to` after it.
 */
static void cut(char *text, const char *from, int back, const char *to)
{
	char *a = strstr(text, from), *b, *nl;

	assert_non_null(a);
	while (a > text && a[-1] != '\n')
		a--;
	while (back-- > 0 && a > text) {
		a--;
		while (a > text && a[-1] != '\n')
			a--;
	}
	b = strstr(a + 1, to);
	assert_non_null(b);
	nl = strchr(b, '\n');
	b = nl ? nl + 1 : b + strlen(b);
	memmove(a, b, strlen(b) + 1);
}

/* Copy the files into dir/sub; `edit` changes the copy of file i. */
static void copy_set(const char *sub, int edit)
{
	char src[600], dst[1300];
	char *text;
	size_t i;

	snprintf(dst, sizeof(dst), "%s/%s", dir, sub);
	mkdir(dst, 0777);
	for (i = 0; i < HF_SP_FINANCIAL_N; i++) {
		snprintf(src, sizeof(src), "%s/%s", corpus, hf_sp_financial[i]);
		text = hf_read_file(src, NULL);
		assert_non_null(text);
		if (edit && strstr(hf_sp_financial[i], "02_organizations"))
			cut(text, "    - name: asset-management", 0,
			    "Asset Management");
		if (edit && strstr(hf_sp_financial[i], "65_ce")) {
			cut(text, "    - name: ce-ib-lon\n", 0, "- ces");
			cut(text, "      device: ce-ib-lon\n      ip_addresses",
			    5, "description: ce-ib-lon loopback");
			cut(text,
			    "{name: Ethernet1, description: To pe-01 Ethernet4",
			    0, "device: ce-ib-lon");
			cut(text, "      description: Deal floor LAN — London",
			    1, "device: ce-ib-lon");
		}
		/* the VPN site on that CE goes with it */
		if (edit && strstr(hf_sp_financial[i], "80_l3vpn"))
			cut(text, "          - name: ib-london", 0,
			    "routing_protocol");
		snprintf(dst, sizeof(dst), "%s/%s/%02zu_%s", dir, sub, i,
		         strrchr(hf_sp_financial[i], '/') + 1);
		assert_int_equal(hf_write_file(dst, text), 0);
		hf_free(text);
	}
}

static void hf(struct hf_run *r, int want, const char *const *a)
{
	assert_int_equal(hf_run(r, dir, NULL, a), 0);
	if (r->status != want)
		fprintf(stderr, "hubform %s %s: exit %d, want %d\n%s\n%s\n",
		        a[0], a[1] ? a[1] : "", r->status, want, r->out,
		        r->err);
	assert_int_equal(r->status, want);
}

static int setup(void **state)
{
	char db[700], schemas[500];
	const char *a[] = { "schema", "load", schemas, NULL };
	struct hf_run r;

	(void)state;
	snprintf(dir, sizeof(dir), "%s", hf_test_tmpdir("prune_corpus"));
	snprintf(db, sizeof(db), "%s/data.db", dir);
	if (hf_serve_start(&srv, db, NULL) < 0)
		return -1;
	setenv("INFRAHUB_ADDRESS", srv.url, 1);
	unsetenv("HUBFORM_STATE");
	unsetenv("HUBFORM_STACK");
	snprintf(schemas, sizeof(schemas), "%s/schemas", corpus);
	if (hf_run(&r, dir, NULL, a) < 0 || r.status)
		return -1;
	hf_run_release(&r);
	copy_set("all", 0);
	copy_set("less", 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return hf_serve_stop(&srv) == 0 ? 0 : -1;
}

static long live_count(const char *kind, const char *filter, const char *value)
{
	char q[300];
	json_t *res, *vars = json_pack("{s:s}", "v", value);
	long n;

	snprintf(q, sizeof(q), "query ($v: String) { %s(%s: $v) { count } }",
	         kind, filter);
	res = hf_gql(srv.url, NULL, NULL, q, vars);
	json_decref(vars);
	n = (long)json_integer_value(json_object_get(
	        json_object_get(json_object_get(res, "data"), kind), "count"));
	json_decref(res);
	return n;
}

/* Every delete of the latest plan as "Kind name..." lines, sorted. */
static void deletes(json_t *plan, hf_buf *b, int *cascades)
{
	json_t *c, *part;
	size_t i, j;

	*cascades = 0;
	json_array_foreach(json_object_get(plan, "changes"), i, c)
	{
		if (strcmp(json_string_value(json_object_get(c, "action")),
		           "delete"))
			continue;
		hf_buf_addf(b, "%s",
		            json_string_value(json_object_get(c, "kind")));
		json_array_foreach(json_object_get(c, "hfid"), j, part)
		{
			hf_buf_addf(b, " %s", json_string_value(part));
		}
		hf_buf_add(b, "\n");
		*cascades += json_is_string(json_object_get(c, "cascade_of"));
	}
}

static void
test_prune_corpus__financial_minus_a_tenant_and_a_device(void **state)
{
	char all[700], less[700];
	const char *plan_all[] = { "plan", all,          "--stack",
		                   "fin",  "--no-color", NULL };
	const char *apply[] = { "apply", "latest", "--auto-approve", NULL };
	const char *plan_less[] = { "plan",       less,
		                    "--stack",    "fin",
		                    "--prune",    "--detailed-exitcode",
		                    "--no-color", NULL };
	const char *show[] = { "show", "latest", "--format", "json", NULL };
	hf_buf got = HF_BUF_INIT;
	struct hf_run r;
	json_t *p;
	int cascades;

	(void)state;
	snprintf(all, sizeof(all), "%s/all", dir);
	snprintf(less, sizeof(less), "%s/less", dir);
	hf(&r, 0, plan_all);
	hf_run_release(&r);
	hf(&r, 0, apply);
	hf_run_release(&r);
	hf(&r, 2, plan_less);
	hf_run_release(&r);
	hf(&r, 0, show);
	p = json_loads(r.out, 0, NULL);
	hf_run_release(&r);
	assert_non_null(p);
	deletes(p, &got, &cascades);
	fprintf(stderr, "deletes:\n%s", got.ptr ? got.ptr : "");
	assert_int_equal(json_integer_value(json_object_get(
	                         json_object_get(p, "counts"), "create")),
	                 0);
	assert_int_equal(json_integer_value(json_object_get(
	                         json_object_get(p, "counts"), "update")),
	                 0);
	assert_non_null(
	        strstr(got.ptr, "OrganizationTenant asset-management\n"));
	assert_non_null(strstr(got.ptr, "DcimDevice ce-ib-lon\n"));
	assert_non_null(
	        strstr(got.ptr, "InterfaceVirtual ce-ib-lon Loopback0\n"));
	assert_non_null(
	        strstr(got.ptr, "InterfacePhysical ce-ib-lon Ethernet1\n"));
	assert_non_null(
	        strstr(got.ptr, "InterfacePhysical ce-ib-lon Ethernet2\n"));
	assert_non_null(strstr(got.ptr, "IpamIPAddress"));
	assert_non_null(strstr(got.ptr, "ServiceL3VpnSite"));
	/* exactly those seven, the three interfaces going with the device */
	assert_int_equal(json_integer_value(json_object_get(
	                         json_object_get(p, "counts"), "delete")),
	                 7);
	assert_int_equal(cascades, 3);
	json_decref(p);
	hf_buf_release(&got);
	hf(&r, 0, apply);
	hf_run_release(&r);
	assert_int_equal(live_count("OrganizationTenant", "name__value",
	                            "asset-management"),
	                 0);
	assert_int_equal(live_count("DcimDevice", "name__value", "ce-ib-lon"),
	                 0);
	/* what they referred to is untouched */
	assert_int_equal(live_count("DcimDevice", "name__value", "ce-ib-zrh"),
	                 1);
	assert_int_equal(live_count("LocationSite", "shortname__value", "lon"),
	                 1);
	assert_int_equal(live_count("OrganizationTenant", "name__value",
	                            "investment-banking"),
	                 1);
	hf(&r, 0, plan_less);
	hf_run_release(&r);
}

static void
test_prune_corpus__destroy_leaves_what_the_stack_did_not_own(void **state)
{
	const char *destroy[] = { "plan", "--destroy",           "--stack",
		                  "fin",  "--detailed-exitcode", "--no-color",
		                  NULL };
	const char *apply[] = { "apply", "latest", "--auto-approve", NULL };
	struct hf_run r;
	json_t *res;

	(void)state;
	res = hf_gql(srv.url, NULL, NULL,
	             "mutation { BuiltinTagCreate(data: {name:"
	             " {value: \"made-by-hand\"}}) { ok } }",
	             NULL);
	assert_null(json_object_get(res, "errors"));
	json_decref(res);
	/* every owned object, in reverse dependency order, cascades included */
	hf(&r, 2, destroy);
	hf_run_release(&r);
	hf(&r, 0, apply);
	hf_run_release(&r);
	assert_int_equal(live_count("DcimDevice", "name__value", "ce-ib-zrh"),
	                 0);
	assert_int_equal(live_count("OrganizationTenant", "name__value",
	                            "investment-banking"),
	                 0);
	assert_int_equal(live_count("LocationSite", "shortname__value", "lon"),
	                 0);
	assert_int_equal(
	        live_count("BuiltinTag", "name__value", "made-by-hand"), 1);
	hf(&r, 0, destroy);
	hf_run_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		        test_prune_corpus__financial_minus_a_tenant_and_a_device),
		cmocka_unit_test(
		        test_prune_corpus__destroy_leaves_what_the_stack_did_not_own),
	};
	const char *shared = hf_test_shared();
	struct stat sb;

	if (shared)
		snprintf(corpus, sizeof(corpus), "%s/corpus/infrahub-demo-sp",
		         shared);
	if (!shared || stat(corpus, &sb) < 0) {
		printf("skipped: ../shared/corpus/infrahub-demo-sp is not present\n");
		return 77;
	}
	hf_alloc_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
