/*
 * libFuzzer harness: the plan reader. A plan is stored as JSON (plan
 * files, the plan store's rows); the input is such a document, read back
 * with hf_plan_from_json. A plan that loads is written out and read
 * again, and its checksum computed, as `show` and `apply` do.
 */
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hf/plan.h"
#include "fuzz.h"

HF_FUZZ_ENTRY(fuzz_plan)(const uint8_t *data, size_t size)
{
	hf_error err = HF_ERROR_INIT;
	hf_plan *p = NULL, *again = NULL;
	json_t *j = json_loadb((const char *)data, size, 0, NULL), *out;
	char sum[65];

	if (!j)
		return 0;
	if (hf_plan_from_json(&p, j, &err) == 0) {
		(void)hf_plan_compute_checksum(p, sum);
		out = hf_plan_to_json(p);
		if (out && hf_plan_from_json(&again, out, &err) == 0)
			hf_plan_free(again);
		json_decref(out);
		hf_plan_free(p);
	}
	json_decref(j);
	return 0;
}
