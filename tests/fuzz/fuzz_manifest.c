/*
 * libFuzzer harness: the object-file loader. The input is one YAML file's
 * text; it goes through hf_manifest_add_buffer (YAML parse, document
 * types, ranges), then every object's fields are turned into JSON as the
 * resolver does. Any outcome but a crash, a leak or a sanitizer report is
 * fine: bad input gets diagnostics.
 */
#include <stddef.h>
#include <stdint.h>

#include "hf/manifest.h"
#include "hf/yjson.h"
#include "fuzz.h"

static void fuzz_manifest_objects(const hf_manifest *m)
{
	size_t i, n = hf_manifest_object_count(m);
	json_t *j;

	for (i = 0; i < n && i < 1000; i++) {
		const hf_mobj *o = hf_manifest_object_at(m, i);
		hf_error err = HF_ERROR_INIT;

		j = NULL;
		(void)hf_mobj_expand_range(o);
		if (hf_yval_json(&j, hf_mobj_node(o), &err) == 0)
			json_decref(j);
	}
}

HF_FUZZ_ENTRY(fuzz_manifest)(const uint8_t *data, size_t size)
{
	hf_manifest *m = NULL;
	char hex[65];
	size_t i;

	if (hf_manifest_new(&m) < 0)
		return 0;
	(void)hf_manifest_add_buffer(m, "fuzz.yml", (const char *)data, size,
	                             NULL);
	hf_manifest_digest(m, hex);
	for (i = 0; i < hf_manifest_doc_count(m); i++)
		(void)hf_mdoc_expand_range(hf_manifest_doc_at(m, i));
	fuzz_manifest_objects(m);
	for (i = 0; i < hf_manifest_diag_count(m); i++)
		(void)hf_manifest_diag_at(m, i, NULL);
	hf_manifest_free(m);
	return 0;
}
