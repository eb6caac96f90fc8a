#ifndef HF_SELECT_H
#define HF_SELECT_H

/*
 * Targeting: --target ADDR and --exclude ADDR limit a plan. An address
 * is one of
 *   Kind             every object of the kind (or of a kind that
 *                    inherits it, for a generic)
 *   Kind[hfid]       one object; the HFID's parts joined with "__" as
 *                    Infrahub prints them: DcimDevice[atl1-edge1],
 *                    InfraInterface[atl1-edge1__Ethernet1]
 *   a path           the objects an object file declares (a directory:
 *                    every file under it); recognised by a '/' or a
 *                    .yml/.yaml ending, or because it exists
 * With targets, a plan holds the targeted objects and the declared
 * objects they depend on (references, transitively); excludes then take
 * out the objects they match (their dependents stay, their references
 * then resolve against Infrahub). Deletes are planned only for owned
 * objects an address matches by kind or HFID: a file does not name what
 * it no longer declares, so a file target never prunes.
 */
#include <jansson.h>
#include <stddef.h>

#include "hf/error.h"
#include "hf/model.h"
#include "hf/schema.h"

typedef struct hf_select hf_select;

/*
 * Parse the addresses (copied). An empty address, or an unbalanced
 * "Kind[" is HF_EINVAL naming it. *out is the caller's (hf_select_free),
 * also when both lists are empty (then it selects everything).
 */
int hf_select_new(hf_select **out, const char *const *targets, size_t nt,
                  const char *const *excludes, size_t ne, hf_error *err);
void hf_select_free(hf_select *s); /* NULL-safe */

/* Whether any address was given (the plan is then partial). */
int hf_select_active(const hf_select *s);

/*
 * Every Kind and Kind[hfid] address names a kind of `schema`: 0, or
 * HF_EINVAL naming the address (with a "did you mean").
 */
int hf_select_check(const hf_select *s, const hf_schema *schema, hf_error *err);

/*
 * Whether the object (kind, hfid, declared in `file`, NULL when not
 * declared) is selected: some target matches (or there are none) and no
 * exclude does. `hfid` may be NULL (matches Kind addresses only).
 */
int hf_select_match(const hf_select *s, const hf_schema *schema,
                    const char *kind, const json_t *hfid, const char *file);

/*
 * Whether an owned object that left the files may be pruned: a Kind or
 * Kind[hfid] target matches it (any target when there is none) and no
 * Kind or Kind[hfid] exclude does. With `hfid` NULL (not read yet):
 * whether it may be (a Kind[hfid] target of its kind counts, a
 * Kind[hfid] exclude does not).
 */
int hf_select_prunable(const hf_select *s, const hf_schema *schema,
                       const char *kind, const json_t *hfid);

/*
 * Limit *want to the selected objects and the desired objects they
 * depend on: *want is replaced by a new set (the old one is freed).
 * 0, or HF_ENOMEM (*want unchanged).
 */
int hf_select_filter(const hf_select *s, const hf_schema *schema,
                     hf_objset **want, hf_error *err);

#endif
