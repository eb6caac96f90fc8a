/*
 * Menu files (engine/menu.c) and `hubform menu load`: items checked
 * against the CoreMenuItem schema with positions, the SDK's enrichment
 * (path from kind, order_weight by place), parents before children,
 * upserts that make a second load change nothing, and the menus real
 * repositories ship (from $HF_SHARED_DIR when present).
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_transport.h"
#include "hf/alloc.h"
#include "hf/manifest.h"
#include "hf/menu.h"
#include "testutil.h"

/* The parts of GET /api/schema/CoreMenuItem the loader reads. */
static const char schema_text[] =
        "{\"kind\":\"CoreMenuItem\",\"attributes\":["
        "{\"name\":\"namespace\",\"optional\":false,\"default_value\":null},"
        "{\"name\":\"name\",\"optional\":false,\"default_value\":null},"
        "{\"name\":\"label\",\"optional\":true,\"default_value\":null},"
        "{\"name\":\"kind\",\"optional\":true,\"default_value\":null},"
        "{\"name\":\"path\",\"optional\":true,\"default_value\":null},"
        "{\"name\":\"icon\",\"optional\":true,\"default_value\":null},"
        "{\"name\":\"protected\",\"optional\":false,\"default_value\":false},"
        "{\"name\":\"order_weight\",\"optional\":false,\"default_value\":2000}],"
        "\"relationships\":[{\"name\":\"parent\"},{\"name\":\"children\"},"
        "{\"name\":\"member_of_groups\"}]}";

static const char good[] = "---\n"
                           "apiVersion: infrahub.app/v1\n"
                           "kind: Menu\n"
                           "spec:\n"
                           "  data:\n"
                           "    - namespace: Dcim\n"
                           "      name: DeviceMenu\n"
                           "      label: Devices\n"
                           "      icon: \"mdi:server\"\n"
                           "      children:\n"
                           "        data:\n"
                           "          - namespace: Dcim\n"
                           "            name: Device\n"
                           "            kind: DcimDevice\n"
                           "          - namespace: Dcim\n"
                           "            name: Interface\n"
                           "            kind: DcimInterface\n"
                           "            path: /custom\n"
                           "            order_weight: 50\n"
                           "    - namespace: Ipam\n"
                           "      name: Prefix\n"
                           "      kind: IpamPrefix\n";

struct diags {
	char text[8192];
	int n;
};

static void on_diag(void *payload, const hf_error *e)
{
	struct diags *d = payload;
	size_t len = strlen(d->text);

	snprintf(d->text + len, sizeof(d->text) - len, "%s:%d:%d: %s\n",
	         e->where, e->line, e->col, e->msg);
	d->n++;
}

/* Build the menu of `text` read as FILE.yml; the problems into *d. */
static int build(const char *text, hf_menu **mn, struct diags *d,
                 hf_manifest **m)
{
	json_t *schema = json_loads(schema_text, 0, NULL);
	int rc;

	memset(d, 0, sizeof(*d));
	assert_int_equal(hf_manifest_new(m), 0);
	hf_manifest_add_buffer(*m, "FILE.yml", text, strlen(text), NULL);
	rc = hf_menu_build(mn, *m, schema, on_diag, d);
	json_decref(schema);
	return rc;
}

/* The $data of the i-th request the fake received. */
static json_t *sent_data(const hf_fake *f, size_t i)
{
	return json_object_get(hf_fake_at(f, i)->variables, "data");
}

static void test_menu__build_and_enrich(void **state)
{
	hf_fake *f;
	struct diags d;
	hf_manifest *m;
	hf_menu *mn;
	hf_error err = HF_ERROR_INIT;
	size_t loaded = 0, i;
	json_t *in;

	(void)state;
	assert_int_equal(build(good, &mn, &d, &m), 0);
	assert_int_equal((int)hf_menu_count(mn), 4);
	assert_int_equal((int)hf_menu_doc_count(mn), 1);
	f = hf_fake_new();
	assert_non_null(f);
	for (i = 0; i < 4; i++) {
		char ans[200];

		snprintf(ans, sizeof(ans),
		         "{\"data\":{\"CoreMenuItemUpsert\":{\"ok\":true,"
		         "\"object\":{\"id\":\"id-%zu\"}}}}",
		         i);
		assert_int_equal(
		        hf_fake_answer(f, "CoreMenuItemUpsert", 1, ans), 0);
	}
	assert_int_equal(
	        hf_menu_load(mn, hf_fake_transport(f), NULL, &loaded, &err), 0);
	assert_int_equal((int)loaded, 4);
	/* the parent first, then its children pointing at its id */
	in = sent_data(f, 0);
	assert_string_equal(json_string_value(json_object_get(
	                            json_object_get(in, "name"), "value")),
	                    "DeviceMenu");
	assert_null(json_object_get(in, "order_weight")); /* top level: none */
	assert_null(json_object_get(in, "path")); /* no kind: no path */
	assert_int_equal(json_array_size(json_object_get(in, "hfid")), 2);
	in = sent_data(f, 1);
	assert_string_equal(json_string_value(json_object_get(
	                            json_object_get(in, "parent"), "id")),
	                    "id-0");
	assert_string_equal(json_string_value(json_object_get(
	                            json_object_get(in, "path"), "value")),
	                    "/objects/DcimDevice");
	assert_int_equal(json_integer_value(json_object_get(
	                         json_object_get(in, "order_weight"), "value")),
	                 1000);
	in = sent_data(f, 2);
	/* given values win over the enrichment */
	assert_string_equal(json_string_value(json_object_get(
	                            json_object_get(in, "path"), "value")),
	                    "/custom");
	assert_int_equal(json_integer_value(json_object_get(
	                         json_object_get(in, "order_weight"), "value")),
	                 50);
	in = sent_data(f, 3);
	assert_null(json_object_get(in, "parent"));
	assert_string_equal(json_string_value(json_object_get(
	                            json_object_get(in, "path"), "value")),
	                    "/objects/IpamPrefix");
	hf_fake_free(f);
	hf_menu_free(mn);
	hf_manifest_free(m);
}

static void test_menu__problems_with_positions(void **state)
{
	static const char bad[] = "apiVersion: infrahub.app/v1\n"
	                          "kind: Menu\n"
	                          "spec:\n"
	                          "  data:\n"
	                          "    - namespace: Dcim\n"
	                          "      label: no name\n"
	                          "      colour: red\n"
	                          "      member_of_groups: [a]\n"
	                          "      children:\n"
	                          "        data:\n"
	                          "          - name: Child\n"
	                          "            namespace: Dcim\n"
	                          "            icon: ~\n"
	                          "          - just a string\n"
	                          "    - namespace: X\n"
	                          "      name: Y\n"
	                          "      children:\n"
	                          "        - kind: BuiltinTag\n"
	                          "          data: {name: t}\n"
	                          "---\n"
	                          "apiVersion: infrahub.app/v1\n"
	                          "kind: Object\n"
	                          "spec:\n"
	                          "  kind: BuiltinTag\n"
	                          "  data: []\n"
	                          "---\n"
	                          "apiVersion: infrahub.app/v1\n"
	                          "kind: Menu\n"
	                          "spec:\n"
	                          "  kind: BuiltinTag\n"
	                          "  data: []\n";
	struct diags d;
	hf_manifest *m;
	hf_menu *mn;

	(void)state;
	assert_int_equal(build(bad, &mn, &d, &m), 8);
	assert_non_null(strstr(d.text, "FILE.yml:5:7: 1: name is mandatory\n"));
	assert_non_null(strstr(d.text,
	                       "FILE.yml:7:7: 1: colour is not a valid "
	                       "attribute or relationship for CoreMenuItem\n"));
	assert_non_null(strstr(d.text,
	                       "FILE.yml:8:7: 1: member_of_groups: only "
	                       "children"));
	assert_non_null(strstr(d.text,
	                       "FILE.yml:13:19: 1.children.1: icon must be "
	                       "a string, int, float, bool, list, or dict\n"));
	assert_non_null(strstr(d.text,
	                       "FILE.yml:14:13: 1.children.2: a menu item "
	                       "must be a mapping, found a string\n"));
	assert_non_null(strstr(d.text,
	                       "FILE.yml:18:17: 2.children: the children "
	                       "of a menu item are CoreMenuItem, not "
	                       "'BuiltinTag'\n"));
	assert_non_null(strstr(d.text,
	                       "FILE.yml:22:7: not a menu file: an object "
	                       "file, expected 'kind: Menu'\n"));
	assert_non_null(strstr(d.text,
	                       "FILE.yml:30:9: spec.kind of a menu must be "
	                       "CoreMenuItem\n"));
	hf_menu_free(mn);
	hf_manifest_free(m);
}

/* A refusal from the server names the item's place; nothing after it. */
static void test_menu__load_failure_names_the_item(void **state)
{
	hf_fake *f;
	struct diags d;
	hf_manifest *m;
	hf_menu *mn;
	hf_error err = HF_ERROR_INIT;
	size_t loaded = 9;

	(void)state;
	assert_int_equal(build(good, &mn, &d, &m), 0);
	f = hf_fake_new();
	assert_non_null(f);
	hf_fake_answer(f, "CoreMenuItemUpsert", 1,
	               "{\"data\":{\"CoreMenuItemUpsert\":{\"ok\":true,"
	               "\"object\":{\"id\":\"p\"}}}}");
	hf_fake_answer(f, "CoreMenuItemUpsert", 1,
	               "{\"data\":{\"CoreMenuItemUpsert\":null},\"errors\":"
	               "[{\"message\":\"x is not a valid Text at icon\"}]}");
	assert_int_equal(
	        hf_menu_load(mn, hf_fake_transport(f), "b1", &loaded, &err),
	        HF_ESERVER);
	assert_int_equal((int)loaded, 1);
	assert_string_equal(err.where, "FILE.yml");
	assert_int_equal(err.line, 12);
	assert_string_equal(err.msg,
	                    "1.children.1: x is not a valid Text at icon");
	assert_int_equal((int)hf_fake_count(f), 2);
	assert_string_equal(hf_fake_at(f, 1)->branch, "b1");
	hf_fake_free(f);
	hf_menu_free(mn);
	hf_manifest_free(m);
}

/* ---- end to end ---- */

/* The menu items on the server; their hfid, order, path, parent in *body. */
static long menu_count(const struct hf_served *s, char **body)
{
	char url[300];
	long status = 0;
	json_t *j;
	long n;

	snprintf(url, sizeof(url), "%s/graphql", s->url);
	assert_int_equal(
	        hf_http("POST", url,
	                "{\"query\":\"{ CoreMenuItem { count edges { node "
	                "{ hfid order_weight { value } path { value } "
	                "parent { node { hfid } } } } } }\"}",
	                NULL, &status, body),
	        0);
	assert_int_equal(status, 200);
	j = json_loads(*body, 0, NULL);
	n = (long)json_integer_value(json_object_get(
	        json_object_get(json_object_get(j, "data"), "CoreMenuItem"),
	        "count"));
	json_decref(j);
	return n;
}

static void test_menu__cli_load_twice(void **state)
{
	const char *dir = hf_test_tmpdir("menu_cli");
	char db[600], file[600], *body = NULL;
	const char *args[] = { "menu", "load", file, NULL };
	const char *bad[] = { "menu", "load", db, NULL };
	const char *usage[] = { "menu", "lod", file, NULL };
	struct hf_served s;
	struct hf_run r;
	long before;

	(void)state;
	snprintf(db, sizeof(db), "%s/m.db", dir);
	snprintf(file, sizeof(file), "%s/menu.yml", dir);
	assert_int_equal(hf_write_file(file, good), 0);
	assert_int_equal(hf_serve_start(&s, db, NULL), 0);
	setenv("INFRAHUB_ADDRESS", s.url, 1);
	before = menu_count(&s, &body);
	hf_free(body);
	assert_int_equal(hf_run(&r, dir, NULL, args), 0);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.err, "loaded 4 of 4 menu items from 1 menu "
	                              "document"));
	hf_run_release(&r);
	assert_int_equal(menu_count(&s, &body), before + 4);
	assert_non_null(strstr(body,
	                       "\"hfid\":[\"Dcim\",\"Device\"],"
	                       "\"order_weight\":{\"value\":1000},"
	                       "\"path\":{\"value\":\"/objects/DcimDevice\"},"
	                       "\"parent\":{\"node\":{\"hfid\":[\"Dcim\","
	                       "\"DeviceMenu\"]}}"));
	hf_free(body);
	/* again: upserts by [namespace, name], nothing new */
	assert_int_equal(hf_run(&r, dir, NULL, args), 0);
	assert_int_equal(r.status, 0);
	hf_run_release(&r);
	assert_int_equal(menu_count(&s, &body), before + 4);
	hf_free(body);
	/* not YAML at all: the file's problem, nothing sent */
	assert_int_equal(hf_write_file(db, "a: [\n"), 0);
	snprintf(db, sizeof(db), "%s/broken.yml", dir);
	assert_int_equal(hf_write_file(db, "kind: Menu\nspec: [\n"), 0);
	assert_int_equal(hf_run(&r, dir, NULL, bad), 0);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "broken.yml:"));
	hf_run_release(&r);
	assert_int_equal(hf_run(&r, dir, NULL, usage), 0);
	assert_int_equal(r.status, 64);
	hf_run_release(&r);
	unsetenv("INFRAHUB_ADDRESS");
	assert_int_equal(hf_serve_stop(&s), 0);
}

/* The menus of the demo repositories load as they are. */
static void test_menu__corpus(void **state)
{
	const char *shared = hf_test_shared();
	const char *dir = hf_test_tmpdir("menu_corpus");
	char a[900], b[900], db[600], *body = NULL;
	const char *args[] = { "menu", "load", a, b, NULL };
	struct hf_served s;
	struct hf_run r;

	(void)state;
	if (!shared) {
		fprintf(stderr,
		        "HF_SHARED_DIR not set: corpus menus skipped\n");
		skip();
	}
	snprintf(a, sizeof(a),
	         "%s/corpus/infrahub-demo-service-catalog/menu.yml", shared);
	snprintf(b, sizeof(b),
	         "%s/corpus/infrahub-demo-reachability-check/menus", shared);
	snprintf(db, sizeof(db), "%s/c.db", dir);
	assert_int_equal(hf_serve_start(&s, db, NULL), 0);
	setenv("INFRAHUB_ADDRESS", s.url, 1);
	assert_int_equal(hf_run(&r, dir, NULL, args), 0);
	if (r.status)
		fail_msg("menu load: %s", r.err);
	assert_non_null(strstr(r.err, "loaded 16 of 16 menu items from 2 menu "
	                              "documents"));
	hf_run_release(&r);
	assert_true(menu_count(&s, &body) >= 16);
	assert_non_null(strstr(body, "[\"Topology\",\"ReachabilityMenu\"]"));
	hf_free(body);
	unsetenv("INFRAHUB_ADDRESS");
	assert_int_equal(hf_serve_stop(&s), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_menu__build_and_enrich),
		cmocka_unit_test(test_menu__problems_with_positions),
		cmocka_unit_test(test_menu__load_failure_names_the_item),
		cmocka_unit_test(test_menu__cli_load_twice),
		cmocka_unit_test(test_menu__corpus),
	};

	hf_alloc_init();
	unsetenv("INFRAHUB_API_TOKEN");
	unsetenv("INFRAHUB_USERNAME");
	unsetenv("INFRAHUB_PASSWORD");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
