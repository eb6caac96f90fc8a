/*
 * libFuzzer harness: the plan store's parts (engine/store_part.c) and the
 * JSON text checks they rest on (hf/jsontext.h). The input is a part's
 * text, or any text. hf_json_valid() must say what jansson's decoder
 * says of the same bytes, hf_json_value_len() stay within them, and the
 * part reader return a status for every line without crashing or
 * leaking; a change it reads must have what a part's line promises.
 * Anything else aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "hf/jsontext.h"
#include "hf/plan.h"
#include "../../engine/store_int.h"
#include "fuzz.h"

static void part_expect(int ok)
{
	if (!ok)
		abort();
}

HF_FUZZ_ENTRY(fuzz_part)(const uint8_t *data, size_t size)
{
	const char *t = (const char *)data;
	struct hf_part_reader r;
	struct hf_change c;
	json_t *j = json_loadb(t, size, JSON_DECODE_ANY, NULL);
	json_t *empty = json_array();
	long long seq;
	char id[17];
	int rc;

	/*
	 * jansson stops reading at a NUL byte outside a string, and takes
	 * what came before; hf_json_valid() refuses it: stricter, never
	 * laxer.
	 */
	if (memchr(t, '\0', size))
		part_expect(!hf_json_valid(t, size) || j);
	else
		part_expect(hf_json_valid(t, size) == (j != NULL));
	json_decref(j);
	part_expect(hf_json_value_len(t, size) <= size);
	if (!empty)
		return 0;
	if (hf_part_begin(&r, t, size) == 0) {
		while ((rc = hf_part_next(&r, empty, &seq, id, &c)) == 1) {
			part_expect(c.action == HF_ACT_NOOP && c.kind &&
			            c.text && c.text[0] == '{' &&
			            strlen(id) == 16 && seq >= 0);
			part_expect(hf_json_valid(c.text, strlen(c.text)));
			hf_change_release(&c);
		}
		hf_change_release(&c);
	}
	json_decref(empty);
	return 0;
}
