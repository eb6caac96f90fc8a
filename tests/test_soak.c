/*
 * A 5-second soak as a ctest: 32 concurrent writers and readers against
 * `hubform serve` (tests/bench/soak.c, whose main is the benchmark: run
 * `test_soak 60` or the soak binary for the full minute). No error, no
 * lost write: every acknowledged create is readable afterwards, the
 * count equals the acknowledged creates, every owned site holds its last
 * acknowledged description, and no reader sees the count go down.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

#define HF_SOAK_NO_MAIN
#include "bench/soak.c"

static double soak_seconds = 5;

static void test_soak__32_threads(void **state)
{
	struct hf_served srv;
	struct soak_result r;

	(void)state;
	assert_int_equal(soak_serve(&srv, hf_test_tmpdir("soak")), 0);
	assert_int_equal(soak_run(srv.url, soak_seconds, 32, &r), 0);
	soak_print(stderr, &r, 32);
	assert_int_equal(hf_serve_stop(&srv), 0);
	assert_int_equal(r.errors, 0);
	assert_int_equal(r.lost, 0);
	assert_int_equal(r.extra, 0);
	assert_int_equal(r.regress, 0);
	assert_true(r.creates > 0);
	assert_true(r.updates > 0);
	assert_true(r.reads > 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_soak__32_threads),
	};

	if (argc > 1)
		soak_seconds = strtod(argv[1], NULL);
	hf_alloc_init();
	curl_global_init(CURL_GLOBAL_ALL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
