/*
 * The two open corpora of current Infrahub repositories, end to end with
 * `hubform serve`, in each repository's own load order:
 *
 * - infrahub-demo-service-catalog: object templates with component
 *   templates, instantiation, profiles, all three pool kinds, allocation
 *   at instantiation, a location hierarchy, an extension of a core kind.
 * - infrahub-demo-reachability-check: TransformPython and Jinja2
 *   expressions, accounts and permissions.
 *
 * For each: schema load, plan and apply of every load step (exit 0), then
 * a re-plan of everything shows no changes (--detailed-exitcode 0) and a
 * second apply writes nothing; the state holds the declared objects plus
 * what the server adds. Skips when ../shared is absent.
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
#include "sdkload.h"
#include "testutil.h"

static char dir[600];

static void run(struct hf_run *r, const char *cwd, int want,
                const char *const *a)
{
	assert_int_equal(hf_run(r, cwd, NULL, a), 0);
	if (want >= 0 && r->status != want)
		fprintf(stderr, "hubform %s %s: exit %d, want %d\n%s\n%s\n",
		        a[0], a[1] ? a[1] : "", r->status, want, r->out,
		        r->err);
	if (want >= 0)
		assert_int_equal(r->status, want);
}

static long count(const struct hf_served *s, const char *kind)
{
	char q[200];
	json_t *res;
	long n;

	snprintf(q, sizeof(q), "{ %s { count } }", kind);
	res = hf_gql(s->url, NULL, NULL, q, NULL);
	n = (long)json_integer_value(json_object_get(
	        json_object_get(json_object_get(res, "data"), kind), "count"));
	json_decref(res);
	return n;
}

/* Apply each file in order, then re-plan and re-apply all of them. */
static void load_steps(const char *cwd, const char *base,
                       const char *const *files, size_t n)
{
	char paths[16][700];
	const char *a[24];
	struct hf_run r;
	size_t i;

	assert_true(n <= 16);
	for (i = 0; i < n; i++) {
		const char *step[] = { "apply", paths[i], "--auto-approve",
			               NULL };

		snprintf(paths[i], sizeof(paths[i]), "%s/%s", base, files[i]);
		run(&r, cwd, 0, step);
		hf_run_release(&r);
	}
	/* everything again: no changes, and a second apply writes nothing */
	a[0] = "plan";
	for (i = 0; i < n; i++)
		a[i + 1] = paths[i];
	a[n + 1] = "--detailed-exitcode";
	a[n + 2] = "--no-color";
	a[n + 3] = NULL;
	run(&r, cwd, 0, a);
	assert_non_null(strstr(r.out, "No changes."));
	hf_run_release(&r);
	a[0] = "apply";
	a[n + 1] = "--auto-approve";
	a[n + 2] = NULL;
	run(&r, cwd, 0, a);
	assert_non_null(strstr(r.err, "nothing to apply"));
	hf_run_release(&r);
}

static void test_corpus__service_catalog(void **state)
{
	static const char *const steps[] = {
		"data/01_location.yml",        "data/02_groups_tags.yml",
		"data/03_ipam_domain.yml",     "data/04_manufacturer.yml",
		"data/04_profiles.yml",        "data/04_provider.yml",
		"data/05_resource_pools.yml",  "data/06_device_type.yml",
		"data/07_device_template.yml", "data/08_device.yml",
	};
	char base[500], db[700], cwd[700], s1[600], s2[600], s3[600], s4[600];
	const char *load[] = { "schema", "load", s1, s2, s3, s4, NULL };
	struct hf_served srv;
	struct hf_run r;
	json_t *res;

	(void)state;
	snprintf(base, sizeof(base), "%s/corpus/infrahub-demo-service-catalog",
	         hf_test_shared());
	snprintf(cwd, sizeof(cwd), "%s/catalog", dir);
	mkdir(cwd, 0777);
	snprintf(db, sizeof(db), "%s/catalog.db", dir);
	assert_int_equal(hf_serve_start(&srv, db, NULL), 0);
	setenv("INFRAHUB_ADDRESS", srv.url, 1);
	/* the four schema folders of .infrahub.yml, in one request */
	snprintf(s1, sizeof(s1), "%s/schemas/base", base);
	snprintf(s2, sizeof(s2), "%s/schemas/location_minimal", base);
	snprintf(s3, sizeof(s3), "%s/schemas/vlan", base);
	snprintf(s4, sizeof(s4), "%s/schemas/service", base);
	run(&r, cwd, 0, load);
	hf_run_release(&r);
	load_steps(cwd, base, steps, sizeof(steps) / sizeof(steps[0]));
	/* declared */
	assert_int_equal(count(&srv, "DcimDevice"), 16);
	assert_int_equal(count(&srv, "TemplateDcimInterfaceL2"), 6);
	assert_int_equal(count(&srv, "TemplateDcimInterfaceL3"), 5);
	assert_int_equal(count(&srv, "ProfileDcimInterfaceL3"), 2);
	assert_int_equal(count(&srv, "LocationSite"), 4);
	/* added by the server: components of the templates, pool allocations */
	assert_int_equal(count(&srv, "DcimInterfaceL2"), 48);
	assert_int_equal(count(&srv, "DcimInterfaceL3"), 40);
	assert_int_equal(count(&srv, "IpamIPAddress"), 16);
	/* with the template's values */
	res = hf_gql(
	        srv.url, NULL, NULL,
	        "{ DcimInterfaceL2(name__value: \"Ethernet4\") { count edges"
	        " { node { speed { value } enabled { value } } } } }",
	        NULL);
	{
		json_t *l2 = json_object_get(json_object_get(res, "data"),
		                             "DcimInterfaceL2");
		json_t *node = json_object_get(
		        json_array_get(json_object_get(l2, "edges"), 0),
		        "node");

		assert_int_equal(
		        json_integer_value(json_object_get(l2, "count")), 8);
		assert_int_equal(
		        json_integer_value(json_object_get(
		                json_object_get(node, "speed"), "value")),
		        1000);
		assert_true(json_is_false(json_object_get(
		        json_object_get(node, "enabled"), "value")));
	}
	json_decref(res);
	unsetenv("INFRAHUB_ADDRESS");
	assert_int_equal(hf_serve_stop(&srv), 0);
}

static void test_corpus__reachability_check(void **state)
{
	static const char *const steps[] = {
		"demo-seed/data/01-asns.yml",
		"demo-seed/data/02-devices.yml",
		"demo-seed/data/03-bgp-sessions.yml",
		"demo-seed/data/04-users.yml",
	};
	char base[500], db[700], cwd[700], s1[600], s2[600];
	const char *load1[] = { "schema", "load", s1, NULL };
	const char *load2[] = { "schema", "load", s2, NULL };
	struct hf_served srv;
	struct hf_run r;

	(void)state;
	snprintf(base, sizeof(base),
	         "%s/corpus/infrahub-demo-reachability-check",
	         hf_test_shared());
	snprintf(cwd, sizeof(cwd), "%s/reach", dir);
	mkdir(cwd, 0777);
	snprintf(db, sizeof(db), "%s/reach.db", dir);
	assert_int_equal(hf_serve_start(&srv, db, NULL), 0);
	setenv("INFRAHUB_ADDRESS", srv.url, 1);
	/* two requests, as the repository's seeding script does */
	snprintf(s1, sizeof(s1), "%s/demo-seed/schemas/network.yml", base);
	snprintf(s2, sizeof(s2), "%s/schemas/reachability.yml", base);
	run(&r, cwd, 0, load1);
	hf_run_release(&r);
	run(&r, cwd, 0, load2);
	hf_run_release(&r);
	load_steps(cwd, base, steps, sizeof(steps) / sizeof(steps[0]));
	assert_int_equal(count(&srv, "InfraAutonomousSystem"), 4);
	assert_int_equal(count(&srv, "InfraBGPSession"), 4);
	assert_int_equal(count(&srv, "InfraDevice"), 3);
	assert_int_equal(count(&srv, "CoreObjectPermission") >= 6, 1);
	unsetenv("INFRAHUB_ADDRESS");
	assert_int_equal(hf_serve_stop(&srv), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "%s", hf_test_tmpdir("corpus_current"));
	unsetenv("INFRAHUB_API_TOKEN");
	unsetenv("INFRAHUB_DEFAULT_BRANCH");
	unsetenv("HUBFORM_STATE");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus__service_catalog),
		cmocka_unit_test(test_corpus__reachability_check),
	};

	if (!hf_test_shared()) {
		fprintf(stderr,
		        "skipped: ../shared (the open corpora) is absent\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, NULL);
}
