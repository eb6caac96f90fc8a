/*
 * cmd/output.c: stdout and stderr never interleave mid-line. With both
 * going to one file (a CI log, `2>&1 | less`), data written before a
 * message must come before it, although stdout is buffered.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hf/alloc.h"
#include "output.h"
#include "testutil.h"

static void test_output__stdout_flushed_before_stderr(void **state)
{
	char path[700], *text;
	FILE *f;
	pid_t pid;
	int st;

	(void)state;
	snprintf(path, sizeof(path), "%s/both.txt", hf_test_tmpdir("output"));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		f = freopen(path, "w", stdout);
		if (!f || dup2(fileno(stdout), 2) < 0)
			_exit(2);
		/* a file: stdout is fully buffered, stderr is not */
		out_data("Plan: 1 to create");
		out_error("something went wrong");
		out_data(", 0 to update.\n");
		_exit(out_finish() ? 1 : 0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	text = hf_read_file(path, NULL);
	assert_non_null(text);
	assert_string_equal(text, "Plan: 1 to createhubform: error: something went wrong\n"
				  ", 0 to update.\n");
	hf_free(text);
}

/* Server and file text cannot drive the terminal or forge a line. */
static void test_output__control_characters_escaped(void **state)
{
	char path[700], *text;
	FILE *f;
	pid_t pid;
	int st;

	(void)state;
	snprintf(path, sizeof(path), "%s/esc.txt", hf_test_tmpdir("output2"));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		f = freopen(path, "w", stderr);
		if (!f)
			_exit(2);
		out_error("server: %s", "\033[31mred\033[0m\r\nhubform: apply "
			  "complete\xc2\x9b" "2J\ttab");
		_exit(out_finish() ? 1 : 0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	text = hf_read_file(path, NULL);
	assert_non_null(text);
	assert_string_equal(text, "hubform: error: server: \\x1b[31mred\\x1b[0m"
				  "\\x0d\\x0ahubform: apply complete\\u009b2J tab\n");
	hf_free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output__stdout_flushed_before_stderr),
		cmocka_unit_test(test_output__control_characters_escaped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
