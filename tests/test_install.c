/*
 * Installation (cmake/install.cmake): `cmake --install` of this build
 * tree into a scratch DESTDIR puts the binary, one manual page per
 * command (which `man -l` renders), the bash/zsh/fish completions in
 * their standard directories and schemas/ in place, for prefix /usr and
 * /usr/local; CPack builds hubform_<ver>_<arch>.deb whose Depends name
 * the Debian packages of the linked libraries. Skips (77) without cmake.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "testutil.h"

static char build[1024];

static void exists(const char *root, const char *rel, int exec)
{
	char path[2200];
	struct stat sb;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	if (stat(path, &sb) != 0)
		fail_msg("not installed: %s", rel);
	assert_true(S_ISREG(sb.st_mode));
	assert_true(sb.st_size > 0);
	if (exec)
		assert_true(sb.st_mode & S_IXUSR);
}

static void install(const char *dest, const char *prefix)
{
	char script[6000], *out;
	int rc;

	snprintf(script, sizeof(script),
	         "DESTDIR='%s' cmake --install '%s' --prefix '%s'", dest, build,
	         prefix);
	rc = hf_sh(NULL, script, &out);
	if (rc)
		fprintf(stderr, "%s\n", out);
	assert_int_equal(rc, 0);
	hf_free(out);
}

static void test_install__usr(void **state)
{
	const char *dest = hf_test_tmpdir("install_usr");
	char d[1024], script[6000], *out;
	static const char *const files[] = {
		"/usr/share/man/man1/hubform.1",
		"/usr/share/man/man1/hubform-plan.1",
		"/usr/share/man/man1/hubform-apply.1",
		"/usr/share/man/man1/hubform-show.1",
		"/usr/share/man/man1/hubform-completion.1",
		"/usr/share/bash-completion/completions/hubform",
		"/usr/share/zsh/vendor-completions/_hubform",
		"/usr/share/fish/vendor_completions.d/hubform.fish",
		"/usr/share/hubform/schemas/plan.schema.json",
		"/usr/share/hubform/schemas/plan-store.sql",
		NULL,
	};
	size_t i;

	(void)state;
	snprintf(d, sizeof(d), "%s", dest);
	install(d, "/usr");
	exists(d, "/usr/bin/hubform", 1);
	for (i = 0; files[i]; i++)
		exists(d, files[i], 0);
	/* the installed binary runs, and its page renders */
	snprintf(script, sizeof(script), "'%s/usr/bin/hubform' version", d);
	assert_int_equal(hf_sh(NULL, script, &out), 0);
	assert_memory_equal(out, "hubform ", 8);
	hf_free(out);
	if (hf_have("man")) {
		snprintf(
		        script, sizeof(script),
		        "MANWIDTH=80 man -l '%s/usr/share/man/man1/hubform-plan.1'",
		        d);
		assert_int_equal(hf_sh(NULL, script, &out), 0);
		assert_non_null(strstr(out, "--detailed-exitcode"));
		hf_free(out);
	}
	snprintf(script, sizeof(script),
	         "bash -n '%s/usr/share/bash-completion/completions/hubform'",
	         d);
	assert_int_equal(hf_sh(NULL, script, &out), 0);
	hf_free(out);
}

static void test_install__usr_local_zsh(void **state)
{
	const char *dest = hf_test_tmpdir("install_local");
	char d[1024];

	(void)state;
	snprintf(d, sizeof(d), "%s", dest);
	install(d, "/usr/local");
	exists(d, "/usr/local/bin/hubform", 1);
	exists(d, "/usr/local/share/man/man1/hubform.1", 0);
	exists(d, "/usr/local/share/zsh/site-functions/_hubform", 0);
}

static void test_install__deb(void **state)
{
	const char *dest = hf_test_tmpdir("install_deb");
	char d[1024], script[6000], *out;
	static const char *const deps[] = {
		"libcurl4",        "libyaml-0-2", "libjansson4", "libsqlite3-0",
		"libmicrohttpd12", "libssl3",     NULL
	};
	size_t i;

	(void)state;
	if (!hf_have("cpack") || !hf_have("dpkg-deb"))
		skip();
	snprintf(d, sizeof(d), "%s", dest);
	snprintf(
	        script, sizeof(script),
	        "cpack -G DEB -B '%s' --config '%s/CPackConfig.cmake' >/dev/null && "
	        "dpkg-deb -I '%s'/hubform_*_*.deb && dpkg-deb -c '%s'/hubform_*_*.deb",
	        d, build, d, d);
	if (hf_sh(NULL, script, &out) != 0)
		fail_msg("cpack: %s", out);
	assert_non_null(strstr(out, "Package: hubform"));
	for (i = 0; deps[i]; i++)
		if (!strstr(out, deps[i]))
			fail_msg("Depends lacks %s:\n%s", deps[i], out);
	assert_non_null(strstr(out, "./usr/bin/hubform"));
	assert_non_null(strstr(out, "./usr/share/man/man1/hubform-plan.1"));
	assert_non_null(
	        strstr(out, "./usr/share/zsh/vendor-completions/_hubform"));
	hf_free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_install__usr),
		cmocka_unit_test(test_install__usr_local_zsh),
		cmocka_unit_test(test_install__deb),
	};
	char bin[1024], manifest[1200];
	struct stat sb;

	if (!hf_have("cmake")) {
		fprintf(stderr,
		        "test_install: skipped: cmake is not in PATH\n");
		return 77;
	}
	snprintf(bin, sizeof(bin), "%s", hf_test_bin());
	snprintf(build, sizeof(build), "%s", dirname(bin));
	snprintf(manifest, sizeof(manifest), "%s/generated/man/hubform.1",
	         build);
	if (stat(manifest, &sb) != 0) {
		fprintf(stderr,
		        "test_install: skipped: no generated pages in %s "
		        "(cmake/install.cmake not part of this build)\n",
		        build);
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
