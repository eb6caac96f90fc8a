#ifndef HF_MENU_H
#define HF_MENU_H

/*
 * Infrahub menu files, loaded as `infrahubctl menu load` does (SDK
 * spec/menu.py on top of spec/object.py). A menu file is a YAML
 * document `apiVersion: infrahub.app/v1`, `kind: Menu`, whose
 * `spec.data` lists CoreMenuItem items (`spec.kind` defaults to
 * CoreMenuItem, the only kind allowed); an item's `children`, written
 * `{data: [...]}` or `[{kind?, data: {...}}, ...]`, nests items under it.
 *
 * Every item is checked before anything is written, against the
 * CoreMenuItem schema the target serves: a mapping; each key an
 * attribute or `children`; attribute values scalars, lists or mappings;
 * mandatory attributes (namespace, name) present. Items are then
 * enriched as the SDK does: `path` "/objects/<kind>" when the item names
 * a `kind` and no `path`; a nested item without `order_weight` gets
 * (position in its list) * 1000. Loading upserts each item in file
 * order, a parent before its children, with the parent's id in the
 * child's `parent` (the SDK's order for a hierarchy), matched by the
 * HFID [namespace, name]: loading the same files twice changes nothing.
 *
 * Problems are hf_error records naming file, line and column, with the
 * SDK's item position in the message ("1.children.2: name is
 * mandatory").
 */
#include <jansson.h>
#include <stddef.h>

#include "hf/error.h"
#include "hf/manifest.h"
#include "hf/transport.h"

typedef struct hf_menu hf_menu;

/* Receives each problem found (borrowed for the call). */
typedef void (*hf_menu_diag_fn)(void *payload, const hf_error *e);

/*
 * The CoreMenuItem schema of `branch` (NULL: the server's default), as
 * GET /api/schema/CoreMenuItem returns it; *out is a new reference.
 * Returns 0 or the transport's failure (HF_ENOTFOUND: no such kind).
 */
int hf_menu_schema(hf_transport *t, const char *branch, json_t **out,
                   hf_error *err);

/*
 * The items of every document of `m` (loaded by the caller), checked
 * against `schema` (hf_menu_schema()). A document that is not a menu is
 * a problem. Each problem goes to `diag`; returns the number of problems
 * (0: *out is ready to load), or HF_ENOMEM. *out is owned by the caller
 * (hf_menu_free) whatever the result.
 */
int hf_menu_build(hf_menu **out, const hf_manifest *m, const json_t *schema,
                  hf_menu_diag_fn diag, void *payload);
void hf_menu_free(hf_menu *mn);

/* Items built, and menu documents read. */
size_t hf_menu_count(const hf_menu *mn);
size_t hf_menu_doc_count(const hf_menu *mn);

/*
 * Upsert every item in order on `branch` (NULL: the transport's default
 * branch). Stops at the first failure, with `err` naming the item
 * (FILE:LINE:COL in where/line/col) and the server's message; *loaded
 * counts the items written before it. Returns 0 or the failure.
 */
int hf_menu_load(hf_menu *mn, hf_transport *t, const char *branch,
                 size_t *loaded, hf_error *err);

#endif
