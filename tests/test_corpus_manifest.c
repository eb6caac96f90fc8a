/*
 * The loader on real object files: $HF_SHARED_DIR/corpus/infrahub-demo-sp
 * (OpsMill's demo). The expected numbers come from the corpus README
 * ("Declared" objects per file, kinds, nested blocks) and the document
 * counts from PyYAML's safe_load_all on the same files.
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
#include "hf/manifest.h"
#include "testutil.h"

struct corpus_file {
	const char *path; /* under objects/ */
	size_t docs;
	size_t declared;
	const char *kinds; /* "Kind n, Kind n" or NULL: not checked */
};

/* clang-format off */
static const struct corpus_file files[] = {
	{ "00_manufacturers.yml", 1, 5, "OrganizationManufacturer 5" },
	{ "10_locations.yml", 2, 5, "LocationRegion 1, LocationSite 4" },
	{ "30_platforms.yml", 1, 6, "DcimPlatform 6" },
	{ "40_device_types.yml", 1, 6, "DcimDeviceType 6" },
	{ "50_pools.yml", 4, 9, "IpamPrefix 3, CoreNumberPool 3, "
	  "CoreIPAddressPool 1, CoreIPPrefixPool 2" },
	{ "55_groups.yml", 1, 12, "CoreStandardGroup 12" },
	{ "datasets/financial/02_organizations.yml", 2, 9,
	  "OrganizationProvider 1, OrganizationTenant 8" },
	{ "datasets/financial/12_locations.yml", 1, 4, "LocationSite 4" },
	{ "datasets/financial/20_asns.yml", 1, 1, "RoutingAutonomousSystem 1" },
	{ "datasets/financial/52_vlan_pools.yml", 1, 2, "CoreNumberPool 2" },
	{ "datasets/financial/60_backbone.yml", 8, 199,
	  "DcimDevice 8, InterfaceVirtual 8, InterfacePhysical 50, "
	  "IpamIPAddress 38, IpamPrefix 15, MplsIsisProcess 8, "
	  "MplsLdpProcess 8, MplsBgpProcess 8, RoutingBGPSession 56" },
	{ "datasets/financial/65_ce.yml", 4, 21,
	  "IpamPrefix 1, DcimDevice 4, InterfaceVirtual 4, "
	  "InterfacePhysical 8, IpamIPAddress 4" },
	{ "datasets/financial/70_topology.yml", 1, 1,
	  "TopologyMplsBackbone 1" },
	{ "datasets/financial/80_l3vpn.yml", 3, 14,
	  "IpamNamespace 2, IpamPrefix 4, ServiceL3Vpn 2, "
	  "ServiceL3VpnSite 4, OrganizationTenant 2" },
	{ "datasets/financial/90_sdwan.yml", 2, 8,
	  "IpamPrefix 3, ServiceSdwan 1, ServiceSdwanSite 3, "
	  "OrganizationTenant 1" },
	{ "datasets/isp/02_organizations.yml", 2, 9,
	  "OrganizationProvider 1, OrganizationTenant 8" },
	{ "datasets/isp/20_asns.yml", 1, 1, "RoutingAutonomousSystem 1" },
	{ "datasets/isp/60_backbone.yml", 8, 82,
	  "DcimDevice 4, InterfaceVirtual 4, InterfacePhysical 28, "
	  "IpamIPAddress 16, IpamPrefix 6, MplsIsisProcess 4, "
	  "MplsLdpProcess 4, MplsBgpProcess 4, RoutingBGPSession 12" },
	{ "datasets/isp/70_topology.yml", 1, 1, "TopologyMplsBackbone 1" },
	{ "datasets/isp/80_l3vpn.yml", 3, 11,
	  "IpamNamespace 1, IpamPrefix 4, ServiceL3Vpn 1, "
	  "ServiceL3VpnSite 4, OrganizationTenant 1" },
	{ "datasets/isp/90_sdwan.yml", 2, 8,
	  "IpamPrefix 3, ServiceSdwan 1, ServiceSdwanSite 3, "
	  "OrganizationTenant 1" },
	{ "events/00_triggers.yml", 3, 4, NULL },
	{ "git-repo/github.yml", 1, 1, "CoreReadOnlyRepository 1" },
	{ "git-repo/local-dev.yml", 1, 1, "CoreRepository 1" },
};
/* clang-format on */

#define NFILES (sizeof(files) / sizeof(files[0]))

static char objects_dir[4096];

static int setup(void **state)
{
	const char *shared = hf_test_shared();

	(void)state;
	snprintf(objects_dir, sizeof(objects_dir),
	         "%s/corpus/infrahub-demo-sp/objects", shared ? shared : "");
	return 0;
}

static const char *rel(const char *path)
{
	size_t n = strlen(objects_dir);

	assert_memory_equal(path, objects_dir, n);
	assert_int_equal(path[n], '/');
	return path + n + 1;
}

/* Count this file's objects of `kind` (the manifest's "Kind n" list). */
static size_t count_kind(const hf_manifest *m, const hf_mfile *f,
                         const char *kind, size_t klen)
{
	const hf_mdoc *d;
	const hf_mobj *o;
	const char *k;
	size_t i, j, first, n = 0;

	for (i = 0; i < hf_mfile_doc_count(f); i++) {
		d = hf_mfile_doc_at(f, i);
		first = hf_mdoc_object_first(d);
		for (j = 0; j < hf_mdoc_object_count(d); j++) {
			o = hf_manifest_object_at(m, first + j);
			k = hf_mobj_kind(o);
			n += k && strlen(k) == klen && !memcmp(k, kind, klen);
		}
	}
	return n;
}

static void check_kinds(const hf_manifest *m, const hf_mfile *f,
                        const char *kinds)
{
	const char *p = kinds, *sp;
	size_t want, sum = 0;
	char *end;

	while (*p) {
		sp = strchr(p, ' ');
		assert_non_null(sp);
		want = strtoul(sp + 1, &end, 10);
		if (count_kind(m, f, p, (size_t)(sp - p)) != want)
			fail_msg("%s: %.*s: got %zu, want %zu",
			         hf_mfile_path(f), (int)(sp - p), p,
			         count_kind(m, f, p, (size_t)(sp - p)), want);
		sum += want;
		p = end;
		p += strspn(p, ", ");
	}
	assert_int_equal(sum, hf_mfile_object_count(f));
}

static void test_corpus_manifest__declared_per_file(void **state)
{
	hf_error err = HF_ERROR_INIT;
	const hf_mfile *f;
	hf_manifest *m;
	size_t i;

	(void)state;
	assert_int_equal(hf_manifest_new(&m), 0);
	assert_int_equal(hf_manifest_add_path(m, objects_dir, &err), 0);
	assert_int_equal(hf_manifest_diag_count(m), 0);
	assert_int_equal(hf_manifest_file_count(m), NFILES);
	for (i = 0; i < NFILES; i++) {
		f = hf_manifest_file_at(m, i);
		assert_string_equal(rel(hf_mfile_path(f)), files[i].path);
		if (hf_mfile_doc_count(f) != files[i].docs ||
		    hf_mfile_object_count(f) != files[i].declared)
			fail_msg("%s: %zu documents, %zu objects; want %zu %zu",
			         files[i].path, hf_mfile_doc_count(f),
			         hf_mfile_object_count(f), files[i].docs,
			         files[i].declared);
		if (files[i].kinds)
			check_kinds(m, f, files[i].kinds);
	}
	assert_int_equal(hf_manifest_doc_count(m), 55);
	assert_int_equal(hf_manifest_object_count(m), 420);
	hf_manifest_free(m);
}

/* The README's dataset totals: files, documents, objects declared. */
static void check_dataset(const char *dataset, size_t nf, size_t nd, size_t no)
{
	hf_buf p = HF_BUF_INIT;
	hf_manifest *m;
	size_t i;

	assert_int_equal(hf_manifest_new(&m), 0);
	for (i = 0; i < NFILES; i++) {
		if (strchr(files[i].path, '/') &&
		    strncmp(files[i].path, "datasets/", 9))
			continue; /* events/, git-repo/: not loaded */
		if (!strncmp(files[i].path, "datasets/", 9) &&
		    strncmp(files[i].path + 9, dataset, strlen(dataset)))
			continue;
		hf_buf_reset(&p);
		hf_buf_addf(&p, "%s/%s", objects_dir, files[i].path);
		assert_int_equal(hf_manifest_add_path(m, p.ptr, NULL), 0);
	}
	assert_int_equal(hf_manifest_file_count(m), nf);
	assert_int_equal(hf_manifest_doc_count(m), nd);
	assert_int_equal(hf_manifest_object_count(m), no);
	hf_manifest_free(m);
	hf_buf_release(&p);
}

static void test_corpus_manifest__dataset_totals(void **state)
{
	(void)state;
	check_dataset("financial/", 15, 33, 302);
	check_dataset("isp/", 12, 27, 155);
}

/*
 * "64 nested blocks and 78 child objects across all 24 files": the 64 are
 * the {kind, data: [...]} blocks; the 5 one-object blocks (`tenant:
 * {kind, data: {...}}`) are counted apart in the README.
 */
static void test_corpus_manifest__nested_blocks(void **state)
{
	size_t i, j, blocks = 0, ones = 0, children = 0, viaf = 0;
	const hf_mobj *o;
	const hf_mfield *f;
	hf_manifest *m;

	(void)state;
	assert_int_equal(hf_manifest_new(&m), 0);
	assert_int_equal(hf_manifest_add_path(m, objects_dir, NULL), 0);
	for (i = 0; i < hf_manifest_object_count(m); i++) {
		o = hf_manifest_object_at(m, i);
		children += hf_mobj_parent(o) != NULL;
		for (j = 0; j < hf_mobj_field_count(o); j++) {
			f = hf_mobj_field_at(o, j);
			blocks += hf_mfield_nest(f) == HF_MNEST_MANY_DICT;
			ones += hf_mfield_nest(f) == HF_MNEST_ONE;
			viaf += hf_mfield_child_count(f);
		}
	}
	assert_int_equal(blocks, 64);
	assert_int_equal(ones, 5);
	assert_int_equal(children, 78);
	assert_int_equal(viaf, 78);
	hf_manifest_free(m);
}

static void test_corpus_manifest__validate_exits_0(void **state)
{
	const char *a[] = { "validate", objects_dir, NULL };
	struct hf_run r;

	(void)state;
	assert_int_equal(hf_run(&r, NULL, NULL, a), 0);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "24 files, 55 documents, 420 objects\n");
	hf_run_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus_manifest__declared_per_file),
		cmocka_unit_test(test_corpus_manifest__dataset_totals),
		cmocka_unit_test(test_corpus_manifest__nested_blocks),
		cmocka_unit_test(test_corpus_manifest__validate_exits_0),
	};

	struct stat st;

	setup(NULL);
	if (!hf_test_shared() || stat(objects_dir, &st) < 0 ||
	    !S_ISDIR(st.st_mode)) {
		printf("skipped: corpus/infrahub-demo-sp/objects under "
		       "$HF_SHARED_DIR (../shared) not present\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, NULL);
}
