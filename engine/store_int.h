#ifndef HF_STORE_INT_H
#define HF_STORE_INT_H

/*
 * Inside the plan store (store.c): the text of the `unchanged` table's
 * parts (store_part.c). Unchanged objects that apply will not touch are
 * saved HF_PART_CHANGES to a row, not a row each of `changes`: a
 * no-change plan of 100k objects spent 0.2 s of its 0.33 s save in
 * SQLite's work per row (inserting 100 parts of the same text takes
 * 0.04 s). A part is a JSON array, one change to a line (compact JSON
 * holds no newline):
 *
 *   [
 *   [seq, id, kind, hfid, node_id, fields, fingerprint, wave, sources],
 *   ...
 *   ]
 *
 * The view all_changes shows them as rows (schemas/plan-store.sql).
 */
#include <jansson.h>

#include "hf/buf.h"
#include "hf/plan.h"

#define HF_PART_CHANGES 1024

/*
 * Whether c goes into a part: a no-op in text form with nothing apply
 * records (hf_store_update_changes() writes changes that are not no-ops,
 * and no-ops that adopt) and nothing a part's line leaves out.
 */
int hf_part_takes(const struct hf_change *c);

/*
 * Append c, the plan's change `seq`, to the part in b (empty: a new part)
 * as one line. 0, HF_ENOMEM or HF_EINVAL (a value JSON cannot say).
 */
int hf_part_add(hf_buf *b, size_t seq, const struct hf_change *c);

/* Close the part in b: its text is then whole. 0 or HF_ENOMEM. */
int hf_part_close(hf_buf *b);

/* Reading a part back, one change at a time. */
struct hf_part_reader {
	const char *p, *end;
};

/* HF_EINVAL when t is not framed as a part. */
int hf_part_begin(struct hf_part_reader *r, const char *t, size_t n);

/*
 * The next change into *c (cleared first; the caller releases it either
 * way), its place in the plan into *seq and its id into id: 1, 0 at the
 * end, HF_EINVAL for a line that does not read as a change, HF_ENOMEM.
 * changed and deps take a reference to `empty`, the array they share.
 */
int hf_part_next(struct hf_part_reader *r, json_t *empty, long long *seq,
                 char id[17], struct hf_change *c);

/*
 * A change's sources from their tree t (taken; NULL: none): one
 * declaration as its file (hf_name()) and line, as the planner records
 * it, not a tree per change; anything else as the tree. 0, HF_EINVAL
 * (not an array), HF_ENOMEM.
 */
int hf_part_sources(struct hf_change *c, json_t *t);

#endif
