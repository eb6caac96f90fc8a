/*
 * Ownership, --prune, --destroy, --max-deletes, adoption, --no-adopt,
 * shared objects and --target/--exclude, end to end: `hubform plan` and
 * `hubform apply` against `hubform serve` (a fresh one per test) with
 * the project's test schema and object files this test writes.
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

static struct hf_served srv;
static char dir[600];
static int seq;

static const char sites_yml[] =
        "---\napiVersion: infrahub.app/v1\nkind: Object\nspec:\n"
        "  kind: TestSite\n  data:\n"
        "    - name: paris\n      description: hq\n"
        "    - name: lyon\n";

static const char paris_only_yml[] =
        "---\napiVersion: infrahub.app/v1\nkind: Object\nspec:\n"
        "  kind: TestSite\n  data:\n"
        "    - name: paris\n      description: hq\n";

static const char devices_yml[] =
        "---\napiVersion: infrahub.app/v1\nkind: Object\nspec:\n"
        "  kind: TestDevice\n  data:\n"
        "    - name: core1\n      role: core\n      site: paris\n"
        "      interfaces:\n        kind: TestInterface\n        data:\n"
        "          - name: eth0\n          - name: eth1\n"
        "    - name: edge1\n      role: edge\n      site: lyon\n";

static const char core_only_yml[] =
        "---\napiVersion: infrahub.app/v1\nkind: Object\nspec:\n"
        "  kind: TestDevice\n  data:\n"
        "    - name: core1\n      role: core\n      site: paris\n"
        "      interfaces:\n        kind: TestInterface\n        data:\n"
        "          - name: eth0\n          - name: eth1\n";

static const char tags_yml[] =
        "---\napiVersion: infrahub.app/v1\nkind: Object\nspec:\n"
        "  kind: BuiltinTag\n  data:\n    - name: red\n";

static const char blue_yml[] =
        "---\napiVersion: infrahub.app/v1\nkind: Object\nspec:\n"
        "  kind: BuiltinTag\n  data:\n    - name: blue\n";

static void write(const char *name, const char *text)
{
	char p[700];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_int_equal(hf_write_file(p, text), 0);
}

static int setup(void **state)
{
	char name[64], db[700];

	(void)state;
	snprintf(name, sizeof(name), "prune_cli%d", seq++);
	snprintf(dir, sizeof(dir), "%s", hf_test_tmpdir(name));
	snprintf(db, sizeof(db), "%s/data.db", dir);
	if (hf_serve_start(&srv, db, NULL) < 0)
		return -1;
	assert_int_equal(hf_test_load_schema(srv.url), 0);
	setenv("INFRAHUB_ADDRESS", srv.url, 1);
	unsetenv("INFRAHUB_API_TOKEN");
	unsetenv("HUBFORM_STATE");
	unsetenv("HUBFORM_STACK");
	write("sites.yml", sites_yml);
	write("paris.yml", paris_only_yml);
	write("devices.yml", devices_yml);
	write("core.yml", core_only_yml);
	write("tags.yml", tags_yml);
	write("blue.yml", blue_yml);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return hf_serve_stop(&srv) == 0 ? 0 : -1;
}

/* hubform ARGS... (NULL-terminated) in dir; checks the exit status. */
static void hf(struct hf_run *r, int want, ...)
{
	const char *a[32];
	va_list ap;
	int n = 0;

	va_start(ap, want);
	while (n < 31 && (a[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	a[n] = NULL;
	assert_int_equal(hf_run(r, dir, NULL, a), 0);
	if (r->status != want)
		fprintf(stderr, "hubform %s %s: exit %d, want %d\n%s\n%s\n",
		        a[0], a[1] ? a[1] : "", r->status, want, r->out,
		        r->err);
	assert_int_equal(r->status, want);
}

static void hf_ok(int want, ...)
{
	const char *a[32];
	struct hf_run r;
	va_list ap;
	int n = 0;

	va_start(ap, want);
	while (n < 31 && (a[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	a[n] = NULL;
	assert_int_equal(hf_run(&r, dir, NULL, a), 0);
	if (r.status != want)
		fprintf(stderr, "hubform %s %s: exit %d, want %d\n%s\n%s\n",
		        a[0], a[1] ? a[1] : "", r.status, want, r.out, r.err);
	assert_int_equal(r.status, want);
	hf_run_release(&r);
}

/* The latest plan as JSON (new reference). */
static json_t *latest(void)
{
	struct hf_run r;
	json_t *j;

	hf(&r, 0, "show", "latest", "--format", "json", NULL);
	j = json_loads(r.out, 0, NULL);
	assert_non_null(j);
	hf_run_release(&r);
	return j;
}

static long count_of(const json_t *plan, const char *what)
{
	return (long)json_integer_value(
	        json_object_get(json_object_get(plan, "counts"), what));
}

/* The change of `action` for (kind, first HFID part), or NULL. */
static json_t *change(const json_t *plan, const char *action, const char *kind,
                      const char *name)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(plan, "changes"), i, c)
	{
		json_t *h = json_object_get(c, "hfid");

		if (!strcmp(json_string_value(json_object_get(c, "action")),
		            action) &&
		    !strcmp(json_string_value(json_object_get(c, "kind")),
		            kind) &&
		    !strcmp(json_string_value(
		                    json_array_get(h, json_array_size(h) - 1)),
		            name))
			return c;
	}
	return NULL;
}

static long live_count(const char *kind, const char *name)
{
	char q[300];
	json_t *res;
	long n;

	snprintf(q, sizeof(q), "{ %s(name__value: \"%s\") { count } }", kind,
	         name);
	res = hf_gql(srv.url, NULL, NULL, q, NULL);
	n = (long)json_integer_value(json_object_get(
	        json_object_get(json_object_get(res, "data"), kind), "count"));
	json_decref(res);
	return n;
}

static long members(const char *group)
{
	char q[300];
	json_t *res, *e;
	long n;

	snprintf(q, sizeof(q),
	         "{ CoreStandardGroup(name__value: \"%s\") { edges"
	         " { node { members { count } } } } }",
	         group);
	res = hf_gql(srv.url, NULL, NULL, q, NULL);
	e = json_array_get(
	        json_object_get(json_object_get(json_object_get(res, "data"),
	                                        "CoreStandardGroup"),
	                        "edges"),
	        0);
	n = e ? (long)json_integer_value(json_object_get(
	                json_object_get(json_object_get(e, "node"), "members"),
	                "count"))
	      : -1;
	json_decref(res);
	return n;
}

static void gql_ok(const char *q)
{
	json_t *res = hf_gql(srv.url, NULL, NULL, q, NULL);

	assert_non_null(res);
	assert_null(json_object_get(res, "errors"));
	json_decref(res);
}

static void test_prune_cli__prune_deletes_what_left_the_files(void **state)
{
	struct hf_run r;
	json_t *p;

	(void)state;
	hf_ok(0, "plan", "sites.yml", "devices.yml", "tags.yml", "--stack",
	      "fin", NULL);
	hf_ok(0, "apply", "latest", "--auto-approve", NULL);
	assert_int_equal(members("hubform-fin"), 7);
	/* the same files: nothing to do, nothing left out */
	hf(&r, 0, "plan", "sites.yml", "devices.yml", "tags.yml", "--stack",
	   "fin", "--detailed-exitcode", NULL);
	assert_null(strstr(r.err, "no longer in the files"));
	hf_run_release(&r);
	/* edge1 leaves the files: a hint, no delete without --prune */
	hf(&r, 0, "plan", "sites.yml", "core.yml", "tags.yml", "--stack", "fin",
	   "--detailed-exitcode", NULL);
	assert_non_null(strstr(r.err,
	                       "1 owned object is no longer in the files; "
	                       "plan with --prune to delete it"));
	hf_run_release(&r);
	/* the hint is per stack: stack "default" owns nothing */
	hf(&r, 2, "plan", "sites.yml", "core.yml", "tags.yml",
	   "--detailed-exitcode", NULL);
	assert_null(strstr(r.err, "no longer in the files"));
	hf_run_release(&r);
	hf(&r, 2, "plan", "sites.yml", "core.yml", "tags.yml", "--stack", "fin",
	   "--prune", "--detailed-exitcode", NULL);
	hf_run_release(&r);
	p = latest();
	assert_int_equal(count_of(p, "delete"), 1);
	assert_non_null(change(p, "delete", "TestDevice", "edge1"));
	/* what only edge1 referred to stays */
	assert_non_null(change(p, "no-op", "TestSite", "lyon"));
	assert_string_equal(json_string_value(json_object_get(p, "stack")),
	                    "fin");
	assert_true(json_is_string(json_object_get(p, "group_id")));
	assert_true(json_is_false(json_object_get(p, "partial")));
	json_decref(p);
	/* --max-deletes refuses, and stores nothing */
	hf(&r, 1, "plan", "sites.yml", "core.yml", "tags.yml", "--stack", "fin",
	   "--prune", "--max-deletes", "0", NULL);
	assert_non_null(strstr(r.err, "more than --max-deletes 0"));
	hf_run_release(&r);
	hf_ok(0, "plan", "sites.yml", "core.yml", "tags.yml", "--stack", "fin",
	      "--prune", "--max-deletes", "1", NULL);
	hf_ok(0, "apply", "latest", "--auto-approve", NULL);
	assert_int_equal(live_count("TestDevice", "edge1"), 0);
	assert_int_equal(live_count("TestSite", "lyon"), 1);
	assert_int_equal(members("hubform-fin"), 6);
	hf_ok(0, "plan", "sites.yml", "core.yml", "tags.yml", "--stack", "fin",
	      "--prune", "--detailed-exitcode", NULL);
	/* HUBFORM_STACK names the stack too */
	setenv("HUBFORM_STACK", "fin", 1);
	hf(&r, 2, "plan", "paris.yml", "core.yml", "tags.yml", "--prune",
	   "--detailed-exitcode", NULL);
	hf_run_release(&r);
	unsetenv("HUBFORM_STACK");
	p = latest();
	assert_non_null(change(p, "delete", "TestSite", "lyon"));
	json_decref(p);
}

static void test_prune_cli__cascades_and_dangling_references(void **state)
{
	struct hf_run r;
	json_t *p, *dev, *eth;

	(void)state;
	hf_ok(0, "plan", "sites.yml", "devices.yml", "--stack", "fin", NULL);
	hf_ok(0, "apply", "latest", "--auto-approve", NULL);
	/* removing core1 takes its interfaces along (components: cascade) */
	write("edge.yml",
	      "---\napiVersion: infrahub.app/v1\nkind: Object\nspec:\n"
	      "  kind: TestDevice\n  data:\n"
	      "    - name: edge1\n      role: edge\n      site: lyon\n");
	hf(&r, 2, "plan", "sites.yml", "edge.yml", "--stack", "fin", "--prune",
	   "--detailed-exitcode", NULL);
	hf_run_release(&r);
	p = latest();
	assert_int_equal(count_of(p, "delete"), 3);
	dev = change(p, "delete", "TestDevice", "core1");
	eth = change(p, "delete", "TestInterface", "eth0");
	assert_non_null(dev);
	assert_non_null(eth);
	assert_string_equal(
	        json_string_value(json_object_get(eth, "cascade_of")),
	        json_string_value(json_object_get(dev, "id")));
	json_decref(p);
	/* a device made outside hubform needs lyon: the delete is refused */
	gql_ok("mutation { TestDeviceCreate(data: {name: {value: \"ext1\"},"
	       " role: {value: \"edge\"}, site: {hfid: [\"lyon\"]}}) { ok } }");
	hf(&r, 1, "plan", "paris.yml", "core.yml", "--stack", "fin", "--prune",
	   NULL);
	assert_non_null(strstr(r.err, "cannot delete TestSite 'lyon'"));
	assert_non_null(strstr(r.err, "TestDevice 'ext1'"));
	assert_non_null(strstr(r.err, "mandatory relationship 'site'"));
	hf_run_release(&r);
	/* --destroy deletes what the stack owns, and only that */
	hf_ok(1, "plan", "--destroy", "--stack", "fin", NULL);
	gql_ok("mutation { TestDeviceDelete(data: {hfid: [\"ext1\"]}) { ok } }");
	gql_ok("mutation { BuiltinTagCreate(data: {name: {value: \"mine\"}}) { ok } }");
	hf(&r, 2, "plan", "--destroy", "--stack", "fin", "--detailed-exitcode",
	   NULL);
	hf_run_release(&r);
	p = latest();
	assert_int_equal(count_of(p, "delete"), 6);
	assert_int_equal(count_of(p, "create") + count_of(p, "update"), 0);
	json_decref(p);
	hf_ok(0, "apply", "latest", "--auto-approve", NULL);
	assert_int_equal(live_count("TestSite", "paris"), 0);
	assert_int_equal(live_count("TestDevice", "core1"), 0);
	assert_int_equal(live_count("BuiltinTag", "mine"), 1);
	hf_ok(0, "plan", "--destroy", "--stack", "fin", "--detailed-exitcode",
	      NULL);
}

static void test_prune_cli__shared_objects_are_only_forgotten(void **state)
{
	struct hf_run r;
	json_t *p;

	(void)state;
	hf_ok(0, "plan", "paris.yml", "tags.yml", "--stack", "a", NULL);
	hf_ok(0, "apply", "latest", "--auto-approve", NULL);
	/* stack b declares the same tag: it adopts it */
	hf(&r, 2, "plan", "tags.yml", "--stack", "b", "--detailed-exitcode",
	   NULL);
	hf_run_release(&r);
	p = latest();
	assert_int_equal(count_of(p, "adopt"), 1);
	assert_true(json_is_true(json_object_get(
	        change(p, "no-op", "BuiltinTag", "red"), "adopt")));
	json_decref(p);
	hf_ok(0, "apply", "latest", "--auto-approve", NULL);
	assert_int_equal(members("hubform-b"), 1);
	/* stack a drops the tag: it only leaves a's group */
	hf(&r, 2, "plan", "paris.yml", "--stack", "a", "--prune",
	   "--detailed-exitcode", NULL);
	hf_run_release(&r);
	p = latest();
	assert_non_null(change(p, "forget", "BuiltinTag", "red"));
	assert_int_equal(count_of(p, "delete"), 0);
	json_decref(p);
	hf_ok(0, "apply", "latest", "--auto-approve", NULL);
	assert_int_equal(live_count("BuiltinTag", "red"), 1);
	assert_int_equal(members("hubform-a"), 1);
	hf_ok(0, "plan", "tags.yml", "--stack", "b", "--prune",
	      "--detailed-exitcode", NULL);
	hf_ok(0, "plan", "paris.yml", "--stack", "a", "--prune",
	      "--detailed-exitcode", NULL);
}

static void test_prune_cli__adoption_and_no_adopt(void **state)
{
	struct hf_run r;
	json_t *p;

	(void)state;
	gql_ok("mutation { BuiltinTagCreate(data: {name: {value: \"blue\"}}) { ok } }");
	hf(&r, 1, "plan", "blue.yml", "tags.yml", "--no-adopt", NULL);
	assert_non_null(strstr(r.err, "BuiltinTag 'blue'"));
	assert_non_null(strstr(r.err, "does not own it"));
	hf_run_release(&r);
	hf(&r, 2, "plan", "blue.yml", "tags.yml", "--detailed-exitcode", NULL);
	hf_run_release(&r);
	p = latest();
	assert_int_equal(count_of(p, "adopt"), 1);
	assert_int_equal(count_of(p, "create"), 1);
	assert_true(json_is_array(json_object_get(
	        change(p, "no-op", "BuiltinTag", "blue"), "sources")));
	json_decref(p);
	hf_ok(0, "apply", "latest", "--auto-approve", NULL);
	assert_int_equal(members("hubform-default"), 2);
	hf_ok(0, "plan", "blue.yml", "tags.yml", "--detailed-exitcode",
	      "--no-adopt", NULL);
	/* bad stack names and option clashes are errors before any request */
	hf(&r, 1, "plan", "tags.yml", "--stack", "no spaces", NULL);
	assert_non_null(strstr(r.err, "stack name"));
	hf_run_release(&r);
	hf(&r, 64, "plan", "tags.yml", "--prune", "--destroy", NULL);
	assert_non_null(strstr(r.err, "--prune and --destroy"));
	hf_run_release(&r);
}

static void test_prune_cli__target_and_exclude(void **state)
{
	struct hf_run r;
	json_t *p;

	(void)state;
	hf_ok(0, "plan", "sites.yml", "devices.yml", "tags.yml", "--stack",
	      "fin", NULL);
	hf_ok(0, "apply", "latest", "--auto-approve", NULL);
	/* edits: paris' description and core1's role; edge1 leaves the files */
	write("paris2.yml",
	      "---\napiVersion: infrahub.app/v1\nkind: Object\n"
	      "spec:\n  kind: TestSite\n  data:\n"
	      "    - name: paris\n      description: head office\n"
	      "    - name: lyon\n");
	write("core2.yml",
	      "---\napiVersion: infrahub.app/v1\nkind: Object\n"
	      "spec:\n  kind: TestDevice\n  data:\n"
	      "    - name: core1\n      role: edge\n      site: paris\n");
	hf(&r, 2, "plan", "paris2.yml", "core2.yml", "tags.yml", "--stack",
	   "fin", "--prune", "--target", "TestDevice[core1]",
	   "--detailed-exitcode", NULL);
	hf_run_release(&r);
	p = latest();
	assert_true(json_is_true(json_object_get(p, "partial")));
	assert_non_null(change(p, "update", "TestDevice", "core1"));
	/* what it depends on is in the plan */
	assert_non_null(change(p, "update", "TestSite", "paris"));
	/* nothing outside the target: no tag, no prune of edge1 */
	assert_null(change(p, "no-op", "BuiltinTag", "red"));
	assert_int_equal(count_of(p, "delete"), 0);
	json_decref(p);
	/* a kind target prunes within the kind (edge1), not the rest */
	hf(&r, 2, "plan", "paris2.yml", "core2.yml", "tags.yml", "--stack",
	   "fin", "--prune", "--target", "TestDevice", "--detailed-exitcode",
	   NULL);
	hf_run_release(&r);
	p = latest();
	assert_non_null(change(p, "delete", "TestDevice", "edge1"));
	assert_int_equal(count_of(p, "delete"), 1);
	json_decref(p);
	/* an exclude leaves the kind out, prunes included */
	hf(&r, 2, "plan", "paris2.yml", "core2.yml", "tags.yml", "--stack",
	   "fin", "--prune", "--exclude", "TestDevice", "--exclude",
	   "TestInterface", "--detailed-exitcode", NULL);
	hf_run_release(&r);
	p = latest();
	assert_true(json_is_true(json_object_get(p, "partial")));
	assert_null(change(p, "update", "TestDevice", "core1"));
	assert_non_null(change(p, "update", "TestSite", "paris"));
	assert_int_equal(count_of(p, "delete"), 0);
	json_decref(p);
	/* an object file target: what that file declares */
	hf(&r, 2, "plan", "paris2.yml", "core2.yml", "tags.yml", "--stack",
	   "fin", "--target", "paris2.yml", "--detailed-exitcode", NULL);
	hf_run_release(&r);
	p = latest();
	assert_non_null(change(p, "update", "TestSite", "paris"));
	assert_null(change(p, "update", "TestDevice", "core1"));
	json_decref(p);
	/* an unknown kind is named */
	hf(&r, 1, "plan", "tags.yml", "--target", "TestDevise", NULL);
	assert_non_null(strstr(r.err, "'TestDevise'"));
	assert_non_null(strstr(r.err, "TestDevice"));
	hf_run_release(&r);
}

/*
 * apply PATH... plans and applies in one step, with the options plan
 * takes: --stack owns what it creates; a stored plan refuses them.
 */
static void test_prune_cli__apply_paths_takes_the_stack(void **state)
{
	struct hf_run r;

	(void)state;
	hf_ok(0, "apply", "sites.yml", "devices.yml", "tags.yml", "--stack",
	      "fin", "--auto-approve", NULL);
	assert_int_equal(members("hubform-fin"), 7);
	assert_int_equal(members("hubform-default"), -1);
	hf_ok(0, "plan", "sites.yml", "devices.yml", "tags.yml", "--stack",
	      "fin", "--detailed-exitcode", NULL);
	hf_ok(0, "apply", "sites.yml", "core.yml", "tags.yml", "--stack", "fin",
	      "--prune", "--auto-approve", NULL);
	assert_int_equal(live_count("TestDevice", "edge1"), 0);
	assert_int_equal(members("hubform-fin"), 6);
	hf(&r, 64, "apply", "latest", "--stack", "fin", "--auto-approve", NULL);
	assert_non_null(strstr(r.err, "give them with object files"));
	hf_run_release(&r);
	hf(&r, 64, "apply", "sites.yml", "--prune", "--destroy",
	   "--auto-approve", NULL);
	assert_non_null(strstr(r.err, "do not go together"));
	hf_run_release(&r);
	/* as plan --destroy: no files needed */
	hf_ok(0, "apply", "--destroy", "--stack", "fin", "--auto-approve",
	      NULL);
	assert_int_equal(live_count("TestDevice", "core1"), 0);
	assert_int_equal(live_count("TestSite", "paris"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		        test_prune_cli__prune_deletes_what_left_the_files,
		        setup, teardown),
		cmocka_unit_test_setup_teardown(
		        test_prune_cli__cascades_and_dangling_references, setup,
		        teardown),
		cmocka_unit_test_setup_teardown(
		        test_prune_cli__shared_objects_are_only_forgotten,
		        setup, teardown),
		cmocka_unit_test_setup_teardown(
		        test_prune_cli__adoption_and_no_adopt, setup, teardown),
		cmocka_unit_test_setup_teardown(
		        test_prune_cli__target_and_exclude, setup, teardown),
		cmocka_unit_test_setup_teardown(
		        test_prune_cli__apply_paths_takes_the_stack, setup,
		        teardown),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
