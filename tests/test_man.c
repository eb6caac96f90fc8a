/*
 * Manual pages: `hubform help --man [CMD]` renders roff from the same
 * option tables that print --help. Every option a command's --help lists
 * is in its page (with ASCII \- dashes); the pages have the sections a
 * man page needs; `man -l` renders them (when man is installed) and
 * groff reports no warnings; --man-dir writes one page per command.
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

static void run(struct hf_run *r, const char *const *args)
{
	assert_int_equal(hf_run(r, NULL, NULL, args), 0);
}

/* The command names listed by `hubform --help`, NULL-terminated. */
static char **commands(void)
{
	const char *a[] = { "--help", NULL };
	char **names = hf_calloc(64, sizeof(*names)), *p, *line;
	struct hf_run r;
	size_t n = 0, len;

	run(&r, a);
	p = strstr(r.out, "commands:\n");
	assert_non_null(p);
	for (line = strchr(p, '\n') + 1; !strncmp(line, "  ", 2) && n < 63;
	     line = strchr(line, '\n') + 1) {
		len = strcspn(line + 2, " \n");
		names[n++] = hf_strndup(line + 2, len);
	}
	hf_run_release(&r);
	assert_true(n >= 8);
	return names;
}

static void free_names(char **names)
{
	size_t i;

	for (i = 0; names[i]; i++)
		hf_free(names[i]);
	hf_free(names);
}

/* Each "--name" in a --help text's option lines, as roff "\-\-name". */
static void check_options_in_page(const char *help, const char *page,
                                  const char *cmd)
{
	const char *line, *dd;
	char want[160], *w;
	size_t len, i, n = 0;

	for (line = help; line && *line;
	     line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		if (strncmp(line, "  -", 3))
			continue;
		dd = strstr(line, "--");
		if (!dd || dd > strchr(line, '\n'))
			continue;
		len = strcspn(dd + 2, " \n");
		w = want + snprintf(want, sizeof(want), "\\fB\\-\\-");
		for (i = 0; i < len && w < want + sizeof(want) - 4; i++) {
			if (dd[2 + i] == '-')
				*w++ = '\\';
			*w++ = dd[2 + i];
		}
		*w = '\0';
		if (!strstr(page, want))
			fail_msg("hubform-%s(1) lacks option %.*s", cmd,
			         (int)len + 2, dd);
		n++;
	}
	assert_true(n >= 1); /* at least --help */
}

static void test_man__every_option_in_its_page(void **state)
{
	char **names = commands();
	struct hf_run h, m;
	size_t i;

	(void)state;
	for (i = 0; names[i]; i++) {
		const char *ha[] = { names[i], "--help", NULL };
		const char *ma[] = { "help", "--man", names[i], NULL };

		if (!strcmp(names[i], "help"))
			ha[0] = "help", ha[1] = "help";
		run(&h, ha);
		run(&m, ma);
		assert_int_equal(m.status, 0);
		assert_string_equal(m.err, "");
		assert_memory_equal(m.out, ".TH HUBFORM-", 12);
		assert_non_null(strstr(m.out, ".SH NAME\nhubform\\-"));
		assert_non_null(strstr(m.out, ".SH SYNOPSIS"));
		assert_non_null(strstr(m.out, ".SH OPTIONS"));
		assert_non_null(strstr(m.out, ".SH EXIT STATUS"));
		assert_non_null(strstr(m.out, ".SH SEE ALSO"));
		if (strcmp(names[i], "help"))
			check_options_in_page(h.out, m.out, names[i]);
		hf_run_release(&h);
		hf_run_release(&m);
	}
	free_names(names);
}

static void test_man__main_page(void **state)
{
	const char *a[] = { "help", "--man", NULL };
	char **names = commands(), want[100];
	struct hf_run r;
	size_t i;

	(void)state;
	run(&r, a);
	assert_int_equal(r.status, 0);
	assert_memory_equal(r.out, ".TH HUBFORM 1", 13);
	for (i = 0; names[i]; i++) {
		snprintf(want, sizeof(want), ".B %s\n", names[i]);
		assert_non_null(strstr(r.out, want));
	}
	/* environment and exit codes are documented */
	assert_non_null(strstr(r.out, ".B INFRAHUB_ADDRESS\n"));
	assert_non_null(strstr(r.out, ".B INFRAHUB_API_TOKEN\n"));
	assert_non_null(strstr(r.out, ".B HUBFORM_STATE\n"));
	assert_non_null(strstr(r.out, ".B HUBFORM_IN_AUTOMATION\n"));
	assert_non_null(strstr(r.out, ".B 3\n"));
	assert_non_null(strstr(r.out, ".B 64\n"));
	assert_non_null(strstr(r.out, ".hubform/plans.db"));
	hf_run_release(&r);
	free_names(names);
}

static void test_man__renders(void **state)
{
	char script[1200], *out;
	int rc;

	(void)state;
	if (!hf_have("groff") && !hf_have("man"))
		skip();
	if (hf_have("groff")) {
		snprintf(script, sizeof(script),
		         "'%s' help --man plan | groff -man -ww -z 2>&1",
		         hf_test_bin());
		rc = hf_sh(NULL, script, &out);
		assert_int_equal(rc, 0);
		assert_string_equal(out, "");
		hf_free(out);
	}
	if (hf_have("man")) {
		snprintf(
		        script, sizeof(script),
		        "'%s' help --man plan > plan.1 && MANWIDTH=80 man -l plan.1",
		        hf_test_bin());
		rc = hf_sh(hf_test_tmpdir("man_render"), script, &out);
		assert_int_equal(rc, 0);
		assert_non_null(strstr(out, "NAME"));
		assert_non_null(
		        strstr(out, "hubform-plan - compute and store"));
		assert_non_null(strstr(out, "--detailed-exitcode"));
		assert_non_null(strstr(out, "EXIT STATUS"));
		hf_free(out);
	}
}

static void test_man__man_dir_and_errors(void **state)
{
	const char *dir = hf_test_tmpdir("man_dir");
	const char *a[] = { "help", "--man-dir", dir, NULL };
	const char *bad[] = { "help", "--man", "plann", NULL };
	char **names = commands(), path[1200];
	struct hf_run r;
	struct stat sb;
	size_t i;

	(void)state;
	run(&r, a);
	assert_int_equal(r.status, 0);
	hf_run_release(&r);
	snprintf(path, sizeof(path), "%s/hubform.1", dir);
	assert_int_equal(stat(path, &sb), 0);
	for (i = 0; names[i]; i++) {
		snprintf(path, sizeof(path), "%s/hubform-%s.1", dir, names[i]);
		assert_int_equal(stat(path, &sb), 0);
		assert_true(sb.st_size > 200);
	}
	run(&r, bad);
	assert_int_equal(r.status, 64);
	assert_non_null(strstr(r.err, "did you mean 'plan'"));
	hf_run_release(&r);
	free_names(names);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_man__every_option_in_its_page),
		cmocka_unit_test(test_man__main_page),
		cmocka_unit_test(test_man__renders),
		cmocka_unit_test(test_man__man_dir_and_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
