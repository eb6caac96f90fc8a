/*
 * libFuzzer harness: the endpoint's GraphQL front half, which every
 * unauthenticated request reaches when no token is set. The input is a
 * query document; it is parsed, validated (fragment cycles, depth and
 * size limits), and its operation picked as the executor does.
 */
#include <stddef.h>
#include <stdint.h>

#include "../../server/gql.h"
#include "fuzz.h"

HF_FUZZ_ENTRY(fuzz_gql)(const uint8_t *data, size_t size)
{
	const struct hfs_gql_operation *op = NULL;
	hf_error err = HF_ERROR_INIT;
	hfs_gql_doc *doc = NULL;
	json_t *vars = NULL;

	if (hfs_gql_parse(&doc, (const char *)data, size, &err) < 0)
		return 0;
	(void)hfs_gql_doc_nodes(doc);
	if (hfs_gql_validate(doc, &err) == 0 &&
	    hfs_gql_operation_find(&op, doc, NULL, &err) == 0 &&
	    hfs_gql_vars_coerce(&vars, op, NULL, &err) == 0)
		json_decref(vars);
	hfs_gql_doc_free(doc);
	return 0;
}
