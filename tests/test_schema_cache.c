/*
 * The schema cache: answers kept by schema hash, used only while the
 * server reports that hash; a missing summary endpoint or a bad cached
 * file costs only the cache.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "hf/schema_cache.h"
#include "fake_transport.h"
#include "schemahelp.h"
#include "testutil.h"

#define HASH_A "0123456789abcdef0123456789abcdef"
#define HASH_B "fedcba9876543210fedcba9876543210"

static const char answer_fmt[] =
        "{\"main\": \"%s\", \"nodes\": [{\"namespace\": \"Test\", \"name\": \"%s\","
        " \"human_friendly_id\": [\"name__value\"],"
        " \"attributes\": [{\"name\": \"name\", \"kind\": \"Text\"}]}]}";

/* A fake whose summary says `hash` (NULL: no summary endpoint). */
static hf_fake *server(const char *hash, const char *kind_name)
{
	hf_fake *f = hf_fake_new();
	char text[1024];

	assert_non_null(f);
	if (hash) {
		snprintf(text, sizeof(text),
		         "{\"main\": \"%s\", \"nodes\": {}}", hash);
		assert_int_equal(
		        hf_fake_answer(f, "/api/schema/summary", -1, text), 0);
	} else {
		assert_int_equal(hf_fake_fail(f, "/api/schema/summary", -1,
		                              HF_ESERVER, "404 Not Found"),
		                 0);
	}
	snprintf(text, sizeof(text), answer_fmt, hash ? hash : HASH_A,
	         kind_name);
	assert_int_equal(hf_fake_answer(f, "/api/schema", -1, text), 0);
	return f;
}

/* Requests for the whole schema (not the summary). */
static size_t full_reads(const hf_fake *f)
{
	size_t i, n = 0;

	for (i = 0; i < hf_fake_count(f); i++)
		n += hf_fake_at(f, i)->path &&
		     !strcmp(hf_fake_at(f, i)->path, "/api/schema");
	return n;
}

static const char *cache_dir(const char *name)
{
	static char dir[600];

	snprintf(dir, sizeof(dir), "%s/cache", hf_test_tmpdir(name));
	return dir;
}

static void fetch(hf_fake *f, const char *dir, const char *kind,
                  struct hf_schema_cache_info *info)
{
	hf_schema *s = NULL;
	hf_error err = HF_ERROR_INIT;

	assert_int_equal(hf_schema_cache_fetch(&s, hf_fake_transport(f), "main",
	                                       dir, info, &err),
	                 0);
	assert_non_null(hf_schema_kind(s, kind));
	hf_schema_free(s);
}

static void test_schema_cache__second_read_skips_the_schema(void **state)
{
	const char *dir = cache_dir("schema_cache_hit");
	struct hf_schema_cache_info info;
	char path[700];
	struct stat sb;
	hf_fake *f;

	(void)state;
	f = server(HASH_A, "Site");
	fetch(f, dir, "TestSite", &info);
	assert_int_equal(info.hit, 0);
	assert_int_equal(info.stored, 1);
	assert_string_equal(info.hash, HASH_A);
	assert_int_equal(full_reads(f), 1);
	snprintf(path, sizeof(path), "%s/schema-%s.json", dir, HASH_A);
	assert_int_equal(stat(path, &sb), 0);
	hf_fake_free(f);
	/* the same hash again: the summary only, the schema from the cache */
	f = server(HASH_A, "Other");
	fetch(f, dir, "TestSite", &info);
	assert_int_equal(info.hit, 1);
	assert_int_equal(full_reads(f), 0);
	assert_int_equal(hf_fake_count(f), 1);
	hf_fake_free(f);
}

static void test_schema_cache__a_new_hash_reads_the_schema(void **state)
{
	const char *dir = cache_dir("schema_cache_new");
	struct hf_schema_cache_info info;
	hf_fake *f;

	(void)state;
	f = server(HASH_A, "Site");
	fetch(f, dir, "TestSite", &info);
	hf_fake_free(f);
	f = server(HASH_B, "Rack");
	fetch(f, dir, "TestRack", &info);
	assert_int_equal(info.hit, 0);
	assert_int_equal(info.stored, 1);
	assert_int_equal(full_reads(f), 1);
	hf_fake_free(f);
}

static void test_schema_cache__bad_files_are_read_again(void **state)
{
	const char *dir = cache_dir("schema_cache_bad");
	struct hf_schema_cache_info info;
	char path[700], text[1024];
	hf_fake *f;

	(void)state;
	f = server(HASH_A, "Site");
	fetch(f, dir, "TestSite", &info);
	hf_fake_free(f);
	snprintf(path, sizeof(path), "%s/schema-%s.json", dir, HASH_A);
	/* cut short */
	assert_int_equal(
	        hf_write_file(path, "{\"main\": \"" HASH_A "\", \"nod"), 0);
	f = server(HASH_A, "Site");
	fetch(f, dir, "TestSite", &info);
	assert_int_equal(info.hit, 0);
	assert_int_equal(info.stored, 1);
	hf_fake_free(f);
	/* another schema's answer under this hash's name */
	snprintf(text, sizeof(text), answer_fmt, HASH_B, "Rack");
	assert_int_equal(hf_write_file(path, text), 0);
	f = server(HASH_A, "Site");
	fetch(f, dir, "TestSite", &info);
	assert_int_equal(info.hit, 0);
	assert_int_equal(full_reads(f), 1);
	hf_fake_free(f);
	/* rewritten: a hit now */
	f = server(HASH_A, "Other");
	fetch(f, dir, "TestSite", &info);
	assert_int_equal(info.hit, 1);
	hf_fake_free(f);
}

static void test_schema_cache__without_summary_or_dir(void **state)
{
	const char *dir = cache_dir("schema_cache_nosummary");
	struct hf_schema_cache_info info;
	hf_fake *f;

	(void)state;
	f = server(NULL, "Site");
	fetch(f, dir, "TestSite", &info);
	assert_int_equal(info.hit, 0);
	assert_int_equal(info.stored, 0);
	assert_string_equal(info.hash, "");
	hf_fake_free(f);
	/* no cache directory: not even the summary is asked for */
	f = server(HASH_A, "Site");
	fetch(f, NULL, "TestSite", &info);
	assert_int_equal(hf_fake_count(f), 1);
	assert_int_equal(info.stored, 0);
	hf_fake_free(f);
}

/* A hash that is not hex never becomes a file name. */
static void test_schema_cache__odd_hashes_are_not_file_names(void **state)
{
	const char *dir = cache_dir("schema_cache_odd");
	struct hf_schema_cache_info info;
	hf_fake *f;

	(void)state;
	f = server("../../etc/x", "Site");
	fetch(f, dir, "TestSite", &info);
	assert_int_equal(info.stored, 0);
	assert_string_equal(info.hash, "");
	hf_fake_free(f);
}

static size_t cached_files(const char *dir)
{
	struct dirent *d;
	size_t n = 0;
	DIR *dh = opendir(dir);

	assert_non_null(dh);
	while ((d = readdir(dh)))
		n += !strncmp(d->d_name, "schema-", 7);
	closedir(dh);
	return n;
}

static void test_schema_cache__keeps_a_few(void **state)
{
	const char *dir = cache_dir("schema_cache_keep");
	struct hf_schema_cache_info info;
	char hash[33];
	hf_fake *f;
	int i;

	(void)state;
	for (i = 0; i < HF_SCHEMA_CACHE_KEEP + 3; i++) {
		snprintf(hash, sizeof(hash), "%032x", i + 1);
		f = server(hash, "Site");
		fetch(f, dir, "TestSite", &info);
		assert_int_equal(info.stored, 1);
		hf_fake_free(f);
	}
	assert_int_equal(cached_files(dir), HF_SCHEMA_CACHE_KEEP);
}

/*
 * An answer with every key hf_schema_unread_keys names, at every level,
 * beside everything the model reads. The cached file drops them, and
 * the schema read from it is the one the answer gave.
 */
static const char full_answer[] =
        "{\"main\": \"" HASH_A "\", \"description\": \"x\","
        " \"nodes\": [{\"namespace\": \"Dcim\", \"name\": \"Device\","
        "  \"label\": \"Device\", \"description\": \"A device\","
        "  \"documentation\": \"/d\", \"icon\": \"mdi:server\","
        "  \"menu_placement\": \"DcimGeneric\", \"include_in_menu\": true,"
        "  \"order_weight\": 1000, \"hash\": \"h1\", \"branch\": \"aware\","
        "  \"default_filter\": \"name__value\","
        "  \"human_friendly_id\": [\"name__value\"],"
        "  \"display_labels\": [\"name__value\"],"
        "  \"order_by\": [\"name__value\"], \"inherit_from\": [\"DcimGeneric\"],"
        "  \"uniqueness_constraints\": [[\"name__value\"]],"
        "  \"attributes\": [{\"name\": \"name\", \"kind\": \"Text\","
        "    \"label\": \"Name\", \"unique\": true, \"description\": \"d\","
        "    \"order_weight\": 1, \"deprecation\": null,"
        "    \"allow_override\": \"any\", \"regex\": \"^[a-z]+$\","
        "    \"min_length\": 2, \"max_length\": 40},"
        "   {\"name\": \"role\", \"kind\": \"Dropdown\", \"optional\": true,"
        "    \"choices\": [{\"name\": \"edge\", \"description\": \"d\","
        "    \"color\": \"#fff\"}], \"default_value\": \"edge\"},"
        "   {\"name\": \"status\", \"kind\": \"Text\", \"optional\": true,"
        "    \"enum\": [\"up\", \"down\"], \"read_only\": true,"
        "    \"computed_attribute\": {\"kind\": \"Jinja2\","
        "     \"jinja2_template\": \"{{ name__value }}\"}}],"
        "  \"relationships\": [{\"name\": \"site\", \"peer\": \"DcimSite\","
        "    \"cardinality\": \"one\", \"kind\": \"Attribute\","
        "    \"optional\": false, \"identifier\": \"device__site\","
        "    \"direction\": \"outbound\", \"on_delete\": \"no-action\","
        "    \"min_count\": 1, \"max_count\": 1, \"description\": \"d\","
        "    \"filters\": [{\"name\": \"name__value\", \"kind\": \"Text\","
        "     \"enum\": null, \"object_kind\": null, \"description\": null}],"
        "    \"order_weight\": 5, \"allow_override\": \"none\"}]}],"
        " \"generics\": [{\"namespace\": \"Dcim\", \"name\": \"Generic\","
        "  \"description\": \"g\", \"used_by\": [\"DcimDevice\"],"
        "  \"attributes\": [{\"name\": \"name\", \"kind\": \"Text\"}],"
        "  \"relationships\": [{\"name\": \"tags\", \"peer\": \"BuiltinTag\","
        "    \"filters\": [{\"name\": \"ids\", \"kind\": \"Text\"}]}]}],"
        " \"profiles\": [], \"templates\": []}";

static void test_schema_cache__keeps_what_the_parser_reads(void **state)
{
	const char *dir = cache_dir("schema_cache_trim");
	struct hf_schema_cache_info info;
	hf_error err = HF_ERROR_INIT;
	hf_schema *fetched = NULL, *cached = NULL;
	char path[700], *text, *a, *b;
	hf_fake *f;
	size_t i;

	(void)state;
	f = hf_fake_new();
	assert_non_null(f);
	assert_int_equal(hf_fake_answer(f, "/api/schema/summary", -1,
	                                "{\"main\": \"" HASH_A "\"}"),
	                 0);
	assert_int_equal(hf_fake_answer(f, "/api/schema", -1, full_answer), 0);
	assert_int_equal(hf_schema_cache_fetch(&fetched, hf_fake_transport(f),
	                                       "main", dir, &info, &err),
	                 0);
	assert_int_equal(info.stored, 1);
	assert_int_equal(hf_schema_cache_fetch(&cached, hf_fake_transport(f),
	                                       "main", dir, &info, &err),
	                 0);
	assert_int_equal(info.hit, 1);
	assert_int_equal(full_reads(f), 1);
	/* the file holds none of the unread keys */
	snprintf(path, sizeof(path), "%s/schema-%s.json", dir, HASH_A);
	text = hf_read_file(path, NULL);
	assert_non_null(text);
	for (i = 0; hf_schema_unread_keys[i]; i++) {
		char quoted[64];

		snprintf(quoted, sizeof(quoted),
		         "\"%s\":", hf_schema_unread_keys[i]);
		assert_null(strstr(text, quoted));
	}
	assert_non_null(strstr(text, "\"computed_attribute\":"));
	hf_free(text);
	/* and gives the same model */
	a = hf_test_schema_dump(fetched);
	b = hf_test_schema_dump(cached);
	assert_string_equal(a, b);
	assert_non_null(strstr(a, "regex=^[a-z]+$"));
	hf_free(a);
	hf_free(b);
	hf_schema_free(fetched);
	hf_schema_free(cached);
	hf_fake_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		        test_schema_cache__second_read_skips_the_schema),
		cmocka_unit_test(
		        test_schema_cache__a_new_hash_reads_the_schema),
		cmocka_unit_test(test_schema_cache__bad_files_are_read_again),
		cmocka_unit_test(test_schema_cache__without_summary_or_dir),
		cmocka_unit_test(
		        test_schema_cache__odd_hashes_are_not_file_names),
		cmocka_unit_test(test_schema_cache__keeps_a_few),
		cmocka_unit_test(
		        test_schema_cache__keeps_what_the_parser_reads),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
