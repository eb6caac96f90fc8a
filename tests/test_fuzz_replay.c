/*
 * The fuzz harnesses (tests/fuzz) without libFuzzer: every seed of
 * tests/fuzz/corpus/<harness>/ and every saved finding of
 * tests/fuzz/regressions/<harness>/ is run through the harness's entry
 * point, so that an ordinary (ASan/UBSan, valgrind) build replays them on
 * each `make test`. A harness returns normally on any input; a crash, a
 * leak or a sanitizer report is the failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <unistd.h>

#define HF_FUZZ_REPLAY
#include "fuzz/fuzz_fetch.c"
#include "fuzz/fuzz_gql.c"
#include "fuzz/fuzz_listing.c"
#include "fuzz/fuzz_manifest.c"
#include "fuzz/fuzz_part.c"
#include "fuzz/fuzz_plan.c"
#include "fuzz/fuzz_schema_answer.c"
#include "fuzz/replay.h"

static void replay(const char *harness, hf_fuzz_fn fn)
{
	char path[1024];
	long n;

	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/%s", HF_SOURCE_DIR,
	         harness);
	n = hf_fuzz_replay_path(path, fn);
	assert_true(n > 0); /* a harness without seeds is a mistake */
	snprintf(path, sizeof(path), "%s/tests/fuzz/regressions/%s",
	         HF_SOURCE_DIR, harness);
	/* git keeps no empty directory: a harness without findings has none */
	if (access(path, F_OK) == 0)
		assert_true(hf_fuzz_replay_path(path, fn) >= 0);
}

static void test_fuzz_replay__manifest(void **state)
{
	(void)state;
	replay("manifest", fuzz_manifest);
}

static void test_fuzz_replay__gql(void **state)
{
	(void)state;
	replay("gql", fuzz_gql);
}

static void test_fuzz_replay__schema_answer(void **state)
{
	(void)state;
	replay("schema_answer", fuzz_schema_answer);
}

static void test_fuzz_replay__fetch(void **state)
{
	(void)state;
	replay("fetch", fuzz_fetch);
}

static void test_fuzz_replay__listing(void **state)
{
	(void)state;
	replay("listing", fuzz_listing);
}

static void test_fuzz_replay__plan(void **state)
{
	(void)state;
	replay("plan", fuzz_plan);
}

static void test_fuzz_replay__part(void **state)
{
	(void)state;
	replay("part", fuzz_part);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fuzz_replay__manifest),
		cmocka_unit_test(test_fuzz_replay__gql),
		cmocka_unit_test(test_fuzz_replay__schema_answer),
		cmocka_unit_test(test_fuzz_replay__plan),
		cmocka_unit_test(test_fuzz_replay__part),
		cmocka_unit_test(test_fuzz_replay__fetch),
		cmocka_unit_test(test_fuzz_replay__listing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
