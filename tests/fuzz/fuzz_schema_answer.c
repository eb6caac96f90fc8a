/*
 * libFuzzer harness: the engine reading a server's answer. The input is
 * the body of GET /api/schema as a hostile or broken server might send
 * it; it is decoded as the client does (jansson, bounded depth) and
 * handed to hf_schema_parse, which must refuse what it cannot use
 * without crashing.
 */
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hf/schema.h"
#include "fuzz.h"

HF_FUZZ_ENTRY(fuzz_schema_answer)(const uint8_t *data, size_t size)
{
	hf_error err = HF_ERROR_INIT;
	hf_schema *s = NULL;
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	size_t i, n;

	if (!j)
		return 0;
	if (hf_schema_parse(&s, j, &err) == 0) {
		n = hf_schema_count(s);
		for (i = 0; i < n; i++)
			(void)hf_schema_at(s, i);
		hf_schema_free(s);
	}
	json_decref(j);
	return 0;
}
