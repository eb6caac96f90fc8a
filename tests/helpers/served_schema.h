#ifndef HF_SERVED_SCHEMA_H
#define HF_SERVED_SCHEMA_H

/*
 * Test helper: the schema a running endpoint serves (GET URL/api/schema),
 * parsed by the engine. The test fails when it cannot be read or parsed.
 * Links the engine: only tests that link hf_cli use it.
 */
#include "hf/schema.h"

/* The caller's (hf_schema_free). */
hf_schema *hf_test_served_schema(const char *url);

#endif
