/*
 * Shell completion: `hubform completion bash` is sourced by bash and
 * completes commands, each command's options (from its option table),
 * fixed option values, and plan ids from the store; zsh and fish scripts
 * carry the same options and pass `zsh -n` / `fish -n` when those shells
 * are installed. Skips (77) without bash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "testutil.h"

/*
 * COMPREPLY for "hubform WORDS" (the last word being completed), in `cwd`,
 * as "a b c". The first word is the binary under test, as a user's
 * "./build/hubform" would be.
 */
static char *complete(const char *cwd, const char *words)
{
	char script[2000], *out;
	int rc;

	snprintf(
	        script, sizeof(script),
	        "bash -c 'source <(\"$0\" completion bash) || exit 9; "
	        "COMP_WORDS=(\"$0\" %s); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); "
	        "_hubform; echo \"${COMPREPLY[*]}\"' '%s'",
	        words, hf_test_bin());
	rc = hf_sh(cwd, script, &out);
	if (rc)
		fprintf(stderr, "%s\n", out);
	assert_int_equal(rc, 0);
	out[strcspn(out, "\n")] = '\0';
	return out;
}

static void expect(const char *cwd, const char *words, const char *want)
{
	char *got = complete(cwd, words);

	if (strcmp(got, want))
		fail_msg("completing [%s]: got '%s', want '%s'", words, got,
		         want);
	hf_free(got);
}

static void test_completion__bash_commands_and_options(void **state)
{
	char *out, script[600];

	(void)state;
	snprintf(script, sizeof(script), "'%s' completion bash | bash -n",
	         hf_test_bin());
	assert_int_equal(hf_sh(NULL, script, &out), 0);
	hf_free(out);
	expect(NULL, "pl", "plan plans");
	expect(NULL, "plan --det", "--detailed-exitcode");
	expect(NULL, "branch --for", "--format");
	expect(NULL, "branch --format j", "json");
	expect(NULL, "menu --add", "--address");
	expect(NULL, "branch d", "delete");
	expect(NULL, "menu l", "load");
	expect(NULL, "plan --address http://x --no-c", "--no-color");
	expect(NULL, "show --format m", "markdown");
	expect(NULL, "apply --auto", "--auto-approve");
	expect(NULL, "serve --tok", "--token --token-file");
	expect(NULL, "help vers", "version");
	expect(NULL, "completion f", "fish");
	expect(NULL, "ver", "version");
	/* a value that is not a path completes nothing */
	expect(NULL, "plan --address \\\"\\\"", "");
}

static void test_completion__plan_ids_from_the_store(void **state)
{
	const char *cwd = hf_test_tmpdir("completion_ids");
	char script[1600], *out, id[32], want[64];
	const char *data = hf_test_data();
	int rc;

	(void)state;
	snprintf(
	        script, sizeof(script),
	        "unset INFRAHUB_ADDRESS; '%s' schema load '%s/plan/schema.yml' "
	        ">/dev/null 2>&1 && '%s' plan '%s/plan/good.yml' >/dev/null 2>&1 "
	        "&& '%s' plans --quiet",
	        hf_test_bin(), data, hf_test_bin(), data, hf_test_bin());
	rc = hf_sh(cwd, script, &out);
	assert_int_equal(rc, 0);
	assert_true(strlen(out) > 4);
	snprintf(id, sizeof(id), "%.*s", (int)strcspn(out, "\n"), out);
	hf_free(out);
	/* the id a user would type the first letters of */
	snprintf(want, sizeof(want), "show %.3s", id);
	out = complete(cwd, want);
	assert_non_null(strstr(out, id));
	hf_free(out);
	out = complete(cwd, "apply la");
	assert_string_equal(out, "latest");
	hf_free(out);
}

static void test_completion__zsh_and_fish(void **state)
{
	char script[600], *out;
	const char *const shells[] = { "zsh", "fish" };
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		snprintf(script, sizeof(script), "'%s' completion %s",
		         hf_test_bin(), shells[i]);
		assert_int_equal(hf_sh(NULL, script, &out), 0);
		assert_non_null(strstr(out, "detailed-exitcode"));
		assert_non_null(strstr(out, "auto-approve"));
		assert_non_null(strstr(out, "plans --quiet"));
		hf_free(out);
		if (!hf_have(shells[i]))
			continue;
		snprintf(script, sizeof(script), "'%s' completion %s | %s -n",
		         hf_test_bin(), shells[i], shells[i]);
		assert_int_equal(hf_sh(NULL, script, &out), 0);
		hf_free(out);
	}
	snprintf(script, sizeof(script), "'%s' completion tcsh", hf_test_bin());
	assert_int_equal(hf_sh(NULL, script, &out), 64);
	assert_non_null(strstr(out, "unknown shell 'tcsh'"));
	hf_free(out);
}

/*
 * Kinds for --target and --exclude, from the newest schema answer the
 * schema cache keeps in .hubform/ (or beside $HUBFORM_STATE); nothing,
 * and no error, without a cache. Never asks a server.
 */
static void test_completion__kinds_from_the_schema_cache(void **state)
{
	const char *cwd = hf_test_tmpdir("completion_kinds");
	char path[900], script[1200], *out;

	(void)state;
	expect(cwd, "plan --target Bu", "");
	snprintf(path, sizeof(path), "%s/.hubform", cwd);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/.hubform/schema-0123456789abcdef.json",
	         cwd);
	assert_int_equal(
	        hf_write_file(
	                path,
	                "{\"main\":\"0123456789abcdef\",\"nodes\":[{\"kind\":\"BuiltinTag\"},"
	                "{\"kind\":\"TestSite\"}],\"generics\":[{\"kind\":\"BuiltinThing\"}]}"),
	        0);
	expect(cwd, "plan --target Bu", "BuiltinTag BuiltinThing");
	expect(cwd, "plan --exclude Te", "TestSite");
	snprintf(script, sizeof(script), "'%s' completion kinds",
	         hf_test_bin());
	assert_int_equal(hf_sh(cwd, script, &out), 0);
	assert_string_equal(out, "BuiltinTag\nBuiltinThing\nTestSite\n");
	hf_free(out);
	/* a newer cache beside $HUBFORM_STATE wins */
	snprintf(path, sizeof(path), "%s/state", cwd);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/state/schema-fedcba9876543210.json",
	         cwd);
	assert_int_equal(
	        hf_write_file(
	                path,
	                "{\"main\":\"fedcba9876543210\",\"nodes\":[{\"kind\":\"DcimDevice\"}]}"),
	        0);
	snprintf(script, sizeof(script),
	         "HUBFORM_STATE=state/plans.db '%s' completion kinds",
	         hf_test_bin());
	assert_int_equal(hf_sh(cwd, script, &out), 0);
	assert_string_equal(out, "DcimDevice\n");
	hf_free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_completion__bash_commands_and_options),
		cmocka_unit_test(test_completion__plan_ids_from_the_store),
		cmocka_unit_test(test_completion__zsh_and_fish),
		cmocka_unit_test(test_completion__kinds_from_the_schema_cache),
	};

	if (!hf_have("bash")) {
		fprintf(stderr,
		        "test_completion: skipped: bash is not installed\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
