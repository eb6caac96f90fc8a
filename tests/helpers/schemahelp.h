#ifndef HF_SCHEMAHELP_H
#define HF_SCHEMAHELP_H

/*
 * Test helpers: schemas parsed by the engine, the test failing when one
 * cannot be read or parsed. Only tests that link the engine use them.
 */
#include "hf/schema.h"

/* The schema a running endpoint serves (GET URL/api/schema). */
hf_schema *hf_test_served_schema(const char *url);

/* A schema answer given as JSON text. */
hf_schema *hf_test_schema_text(const char *text);

/* Both: the caller's (hf_schema_free). */

/*
 * Everything the model says of every kind, attribute and relationship,
 * as text (hf_free): two schemas the engine cannot tell apart dump alike.
 */
char *hf_test_schema_dump(const hf_schema *s);

#endif
