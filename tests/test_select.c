/*
 * Targeting: parsing --target/--exclude addresses, matching objects by
 * kind, Kind[hfid] and object file, limiting a set of desired objects to
 * the targets and what they depend on, and which owned objects a
 * targeted plan may prune.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/select.h"
#include "testutil.h"

static hf_select *sel(const char *t1, const char *t2, const char *x1)
{
	const char *t[2] = { NULL, NULL }, *x[1] = { NULL };
	size_t nt = 0, nx = 0;
	hf_error err = HF_ERROR_INIT;
	hf_select *s = NULL;

	if (t1)
		t[nt++] = t1;
	if (t2)
		t[nt++] = t2;
	if (x1)
		x[nx++] = x1;
	assert_int_equal(hf_select_new(&s, t, nt, x, nx, &err), 0);
	return s;
}

static void test_select__addresses_parse(void **state)
{
	hf_error err = HF_ERROR_INIT;
	const char *bad[] = { "" };
	const char *odd[] = { "not a kind!" };
	const char *empty[] = { "DcimDevice[]" };
	hf_select *s = NULL;

	(void)state;
	assert_int_equal(hf_select_new(&s, bad, 1, NULL, 0, &err), HF_EINVAL);
	assert_null(s);
	assert_non_null(strstr(err.msg, "--target"));
	assert_int_equal(hf_select_new(&s, NULL, 0, odd, 1, &err), HF_EINVAL);
	assert_non_null(strstr(err.msg, "--exclude 'not a kind!'"));
	assert_int_equal(hf_select_new(&s, empty, 1, NULL, 0, &err), HF_EINVAL);
	assert_non_null(strstr(err.msg, "DcimDevice[]"));
	s = sel(NULL, NULL, NULL);
	assert_false(hf_select_active(s));
	assert_true(hf_select_match(s, NULL, "DcimDevice", NULL, NULL));
	hf_select_free(s);
	s = sel("DcimDevice", NULL, NULL);
	assert_true(hf_select_active(s));
	hf_select_free(s);
}

static void test_select__kind_and_hfid(void **state)
{
	json_t *edge = json_pack("[s]", "atl1-edge1");
	json_t *core = json_pack("[s]", "atl1-core1");
	json_t *ifc = json_pack("[s,s]", "atl1-edge1", "Ethernet1");
	hf_select *s;

	(void)state;
	s = sel("DcimDevice[atl1-edge1]",
	        "InfraInterface[atl1-edge1__Ethernet1]", NULL);
	assert_true(hf_select_match(s, NULL, "DcimDevice", edge, NULL));
	assert_false(hf_select_match(s, NULL, "DcimDevice", core, NULL));
	assert_true(hf_select_match(s, NULL, "InfraInterface", ifc, NULL));
	assert_false(hf_select_match(s, NULL, "InfraInterface", edge, NULL));
	assert_false(hf_select_match(s, NULL, "LocationSite", edge, NULL));
	hf_select_free(s);
	s = sel("DcimDevice", NULL, "DcimDevice[atl1-core1]");
	assert_true(hf_select_match(s, NULL, "DcimDevice", edge, NULL));
	assert_false(hf_select_match(s, NULL, "DcimDevice", core, NULL));
	assert_false(hf_select_match(s, NULL, "InfraInterface", ifc, NULL));
	hf_select_free(s);
	json_decref(edge);
	json_decref(core);
	json_decref(ifc);
}

static void test_select__object_file(void **state)
{
	char a[700], b[700], dirbuf[600];
	const char *dir = hf_test_tmpdir("select");
	hf_select *s;

	(void)state;
	snprintf(dirbuf, sizeof(dirbuf), "%s", dir);
	snprintf(a, sizeof(a), "%s/a.yml", dirbuf);
	snprintf(b, sizeof(b), "%s/b.yml", dirbuf);
	assert_int_equal(hf_write_file(a, "---\n"), 0);
	assert_int_equal(hf_write_file(b, "---\n"), 0);
	s = sel(a, NULL, NULL);
	assert_true(hf_select_match(s, NULL, "DcimDevice", NULL, a));
	assert_false(hf_select_match(s, NULL, "DcimDevice", NULL, b));
	assert_false(hf_select_match(s, NULL, "DcimDevice", NULL, NULL));
	/* a file never names what it no longer declares */
	assert_false(hf_select_prunable(s, NULL, "DcimDevice", NULL));
	hf_select_free(s);
	/* a directory: every file under it */
	s = sel(dirbuf, NULL, NULL);
	assert_true(hf_select_match(s, NULL, "DcimDevice", NULL, a));
	assert_true(hf_select_match(s, NULL, "DcimDevice", NULL, b));
	hf_select_free(s);
	/* excluded by file */
	s = sel(NULL, NULL, b);
	assert_true(hf_select_match(s, NULL, "DcimDevice", NULL, a));
	assert_false(hf_select_match(s, NULL, "DcimDevice", NULL, b));
	hf_select_free(s);
}

static void test_select__prunable(void **state)
{
	json_t *edge = json_pack("[s]", "atl1-edge1");
	json_t *core = json_pack("[s]", "atl1-core1");
	hf_select *s;

	(void)state;
	assert_true(hf_select_prunable(NULL, NULL, "DcimDevice", edge));
	s = sel("DcimDevice[atl1-edge1]", NULL, NULL);
	/* before the HFID is known: it may be the one */
	assert_true(hf_select_prunable(s, NULL, "DcimDevice", NULL));
	assert_false(hf_select_prunable(s, NULL, "LocationSite", NULL));
	assert_true(hf_select_prunable(s, NULL, "DcimDevice", edge));
	assert_false(hf_select_prunable(s, NULL, "DcimDevice", core));
	hf_select_free(s);
	s = sel(NULL, NULL, "DcimDevice[atl1-edge1]");
	assert_true(hf_select_prunable(s, NULL, "DcimDevice", NULL));
	assert_false(hf_select_prunable(s, NULL, "DcimDevice", edge));
	assert_true(hf_select_prunable(s, NULL, "DcimDevice", core));
	hf_select_free(s);
	json_decref(edge);
	json_decref(core);
}

/* A desired object with one reference field `rel` to (kind, name). */
static void add_obj(hf_objset *set, const char *kind, const char *name,
                    const char *file, const char *rkind, const char *rname)
{
	struct hf_object o;
	struct hf_field f;

	memset(&o, 0, sizeof(o));
	o.kind = hf_name(kind);
	o.hfid = json_pack("[s]", name);
	o.file = file;
	if (rkind) {
		memset(&f, 0, sizeof(f));
		f.name = hf_name("peer");
		f.type = HF_FIELD_ONE;
		f.refs = hf_calloc(1, sizeof(*f.refs));
		f.refs[0].kind = hf_name(rkind);
		f.refs[0].hfid = json_pack("[s]", rname);
		f.nrefs = 1;
		assert_int_equal(hf_object_add_field(&o, &f), 0);
	}
	assert_int_equal(hf_objset_add(set, &o, NULL), 0);
}

static hf_objset *sample(void)
{
	hf_objset *set;

	assert_int_equal(hf_objset_new(&set), 0);
	add_obj(set, "Site", "paris", "sites.yml", NULL, NULL);
	add_obj(set, "Rack", "r1", "racks.yml", "Site", "paris");
	add_obj(set, "Device", "d1", "devices.yml", "Rack", "r1");
	add_obj(set, "Device", "d2", "devices.yml", "Site", "lyon");
	add_obj(set, "Site", "lyon", "sites.yml", NULL, NULL);
	add_obj(set, "Tag", "red", "tags.yml", NULL, NULL);
	return set;
}

static int has(const hf_objset *set, const char *kind, const char *name)
{
	json_t *h = json_pack("[s]", name);
	long at = hf_objset_find(set, kind, h);

	json_decref(h);
	return at >= 0;
}

static void test_select__filter_keeps_dependencies(void **state)
{
	hf_objset *set = sample();
	hf_error err = HF_ERROR_INIT;
	hf_select *s = sel("Device[d1]", NULL, NULL);

	(void)state;
	assert_int_equal(hf_select_filter(s, NULL, &set, &err), 0);
	assert_int_equal(hf_objset_count(set), 3);
	assert_true(has(set, "Device", "d1"));
	assert_true(has(set, "Rack", "r1"));
	assert_true(has(set, "Site", "paris"));
	assert_false(has(set, "Site", "lyon"));
	hf_select_free(s);
	hf_objset_free(set);

	/* a kind target, and an exclude that takes one object out */
	set = sample();
	s = sel("Device", NULL, "Site[lyon]");
	assert_int_equal(hf_select_filter(s, NULL, &set, &err), 0);
	assert_true(has(set, "Device", "d1"));
	assert_true(has(set, "Device", "d2"));
	assert_true(has(set, "Site", "paris"));
	assert_false(has(set, "Site", "lyon"));
	assert_false(has(set, "Tag", "red"));
	assert_int_equal(hf_objset_count(set), 4);
	hf_select_free(s);
	hf_objset_free(set);

	/* excludes only: everything else */
	set = sample();
	s = sel(NULL, NULL, "Tag");
	assert_int_equal(hf_select_filter(s, NULL, &set, &err), 0);
	assert_int_equal(hf_objset_count(set), 5);
	assert_false(has(set, "Tag", "red"));
	hf_select_free(s);
	hf_objset_free(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_select__addresses_parse),
		cmocka_unit_test(test_select__kind_and_hfid),
		cmocka_unit_test(test_select__object_file),
		cmocka_unit_test(test_select__prunable),
		cmocka_unit_test(test_select__filter_keeps_dependencies),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
