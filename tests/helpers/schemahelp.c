/*
 * Schemas for tests, parsed by the engine (schemahelp.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "hf/alloc.h"
#include "schemahelp.h"
#include "testutil.h"
#include "hf/banned.h"

hf_schema *hf_test_served_schema(const char *url)
{
	char path[512];
	char *resp = NULL;
	hf_schema *s = NULL;
	json_t *answer;
	long status = 0;

	snprintf(path, sizeof(path), "%s/api/schema", url);
	assert_int_equal(hf_http("GET", path, NULL, NULL, &status, &resp), 0);
	assert_int_equal(status, 200);
	answer = json_loads(resp, 0, NULL);
	hf_free(resp);
	assert_non_null(answer);
	assert_int_equal(hf_schema_parse(&s, answer, NULL), 0);
	json_decref(answer);
	return s;
}

hf_schema *hf_test_schema_text(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);
	hf_schema *s = NULL;

	assert_non_null(j);
	assert_int_equal(hf_schema_parse(&s, j, NULL), 0);
	json_decref(j);
	return s;
}
