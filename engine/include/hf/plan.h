#ifndef HF_PLAN_H
#define HF_PLAN_H

/*
 * A plan: the changes that would make Infrahub match the object files,
 * with what is needed to review them and to apply exactly them later.
 * Pure data, no I/O: the store (store.h) persists it, the renderers show
 * it, the executor applies it.
 */
#include <jansson.h>
#include <stddef.h>

#include "hf/buf.h"
#include "hf/error.h"

enum hf_action {
	HF_ACT_NOOP = 0,
	HF_ACT_CREATE,
	HF_ACT_UPDATE,
	HF_ACT_DELETE, /* "delete": delete the live object (node_id set, hfid
	                  when the kind has one, before = the live managed
	                  fields, after = NULL, fingerprint of the live fields)
	                */
	HF_ACT_FORGET, /* "forget": also owned by another stack: only leave
	                  this stack's group, never delete */
};

enum hf_change_status {
	HF_CH_PENDING = 0,
	HF_CH_APPLIED,
	HF_CH_FAILED,
	HF_CH_SKIPPED,
};

/*
 * One change. Every pointer is owned by the plan once added: strings are
 * hf_alloc'ed, json_t values are references the plan holds.
 */
struct hf_change {
	char id[17]; /* stable: hash of action, kind and HFID */
	enum hf_action action;
	char *kind;
	json_t *hfid; /* array of strings: the identity */
	char *node_id; /* live id (update, no-op); NULL for create */
	json_t *before; /* managed fields as read; NULL for create */
	json_t *after; /* managed fields as the files state them */
	json_t *changed; /* array of changed field names */
	json_t *deps; /* array of change ids this one needs first */
	int wave; /* 0-based; a change's deps are in earlier waves */
	char fingerprint[65]; /* of the live managed fields; "" for create */
	int adopt; /* 1: an existing declared object this stack does
	              not own yet: apply adds it to the stack's
	              group (no-op or update). 0 for creates (they
	              are always added). */
	char *cascade_of; /* delete only: id of the delete change whose
	                     on_delete=cascade removes this object on the
	                     server (apply sends no mutation, checks it is
	                     gone); NULL otherwise */
	json_t *sources; /* array of {"file": path, "line": N}: where the
	                    files declare the object (create, update,
	                    no-op); NULL for delete/forget */
	/*
	 * The one declaration the planner records, when `sources` is NULL:
	 * its file (hf_name()) and line; NULL when none. A million changes
	 * do not hold a JSON array each; hf_change_sources() gives either
	 * form as the array.
	 */
	const char *src_file;
	int src_line;
	/*
	 * A no-op as the diff makes it: the canonical text (sorted keys,
	 * compact) of its managed fields, which before and after both are;
	 * those two stay NULL until hf_change_expand() makes them trees (a
	 * large plan holds one short string per unchanged object, not two
	 * views of a tree). NULL otherwise. The checksum, the store and the
	 * renderers read either form alike.
	 */
	char *text;
	/* apply results */
	enum hf_change_status status;
	char *error;
	double started; /* Unix time, 0 when not started */
	double finished;
};

#define HF_PLAN_ID_LEN 12

struct hf_plan_meta {
	char id[HF_PLAN_ID_LEN + 1]; /* set by hf_plan_finish() */
	char created_at[32]; /* "2026-11-23T22:14:41Z" */
	char *address; /* the target: normalised address (never
	                  a token) or local:/abs/path/local.db */
	char *branch; /* target branch */
	int branch_is_default; /* branch was the server's default then */
	char schema_hash[65];
	char manifest_digest[65];
	char checksum[65]; /* over the plan's content; set by finish */
	char status[16]; /* planned|applying|applied|failed|stale */
	size_t n_create, n_update, n_noop;
	char *stack; /* the stack name ("default" when not given) */
	char *group_id; /* id of CoreStandardGroup "hubform-<stack>" in the
	                   target branch when planned; NULL: apply creates it */
	int partial; /* 1: --target/--exclude limited the plan */
	size_t n_delete, n_forget, n_adopt;
};

typedef struct hf_plan hf_plan;

/* An empty plan, status "planned", stack "default", group_id NULL.
 * Caller frees with hf_plan_free(). */
int hf_plan_new(hf_plan **out, const char *address, const char *branch,
                hf_error *err);
void hf_plan_free(hf_plan *p); /* NULL-safe */

/*
 * Set the stack name and the ownership group's id (NULL: none yet).
 * Copies both. HF_ENOMEM on failure (the meta keeps its old values).
 */
int hf_plan_set_stack(hf_plan *p, const char *stack, const char *group_id,
                      hf_error *err);

/*
 * Add a change. The plan takes ownership of the change's contents, even
 * on failure (then they are freed). The change's id is computed here:
 * hf_plan_change_id(action, kind, hfid), or, for a delete or forget of
 * an object whose kind has no HFID (hfid NULL), with the JSON string
 * node_id in place of the hfid.
 */
int hf_plan_add(hf_plan *p, struct hf_change *c, hf_error *err);

/*
 * The stable id a change of (action, kind, hfid) gets: 16 hex + NUL.
 * 0, or HF_ENOMEM (out is then "").
 */
int hf_plan_change_id(char out[17], enum hf_action a, const char *kind,
                      const json_t *hfid);

/*
 * Make a change's before and after trees from its text (a no-op the diff
 * made); a no-op for any other change. 0, or HF_ENOMEM (the change is
 * left as it was).
 */
int hf_change_expand(struct hf_change *c);
/* hf_change_expand() on every change (a plan whose no-ops must be trees). */
int hf_plan_expand(hf_plan *p);
/* Whether the change is a no-op in text form (hf_change.text, no trees). */
int hf_change_is_text(const struct hf_change *c);
/*
 * A change's after as a tree, whatever its form: a new reference (the
 * caller's, json_decref), NULL when it has none (or out of memory).
 */
json_t *hf_change_after_json(const struct hf_change *c);

/*
 * The change's declarations as the JSON array `sources` says them, from
 * either form: *out is a new reference, NULL when there are none.
 * 0 or HF_ENOMEM.
 */
int hf_change_sources(const struct hf_change *c, json_t **out);

/*
 * The same array's text appended to `b` (hf_json_write() `flags`), with
 * no tree built: 1 when written, 0 when there are none (nothing added),
 * or what building or writing the tree would fail with.
 */
int hf_change_sources_write(const struct hf_change *c, hf_buf *b, int flags);

size_t hf_plan_count(const hf_plan *p);

/*
 * The changes' positions in the order of their ids (strcmp): as
 * hf_plan_finish() found it, valid until the next hf_plan_add() (NULL
 * before, or when finish could not keep it); hf_plan_sort_by_id() sorts
 * anew into an array the caller frees (NULL when out of memory).
 */
const size_t *hf_plan_by_id(const hf_plan *p);
size_t *hf_plan_sort_by_id(const hf_plan *p);
/* Borrowed: valid until the plan is freed. */
struct hf_change *hf_plan_at(const hf_plan *p, size_t i);
/* The change with this id, or NULL. */
struct hf_change *hf_plan_find(const hf_plan *p, const char *id);
struct hf_plan_meta *hf_plan_meta(hf_plan *p);
const struct hf_plan_meta *hf_plan_meta_c(const hf_plan *p);

/*
 * Close a plan: check dependencies (unknown id: HF_EINVAL; a cycle:
 * HF_EINVAL naming the changes), assign waves (the longest dependency
 * path: a change runs one wave after its last dependency), count
 * actions, and compute the checksum and the plan id. Changes keep the
 * order they were added in.
 */
int hf_plan_finish(hf_plan *p, hf_error *err);

/*
 * hf_plan_finish() but the checksum, for a caller that computes it beside
 * other work (hf_plan_compute_checksum() only reads the plan): the id is
 * 12 random hex digits instead of the checksum's first, and the checksum
 * is "" until hf_plan_set_checksum(). (Without random bytes from the
 * system, hf_plan_finish().) A plan is saved, shown or applied only with
 * its checksum.
 */
int hf_plan_finish_unsummed(hf_plan *p, hf_error *err);
void hf_plan_set_checksum(hf_plan *p, const char sum[65]);

/* Number of waves (max wave + 1; 0 for an empty plan). */
int hf_plan_waves(const hf_plan *p);

/*
 * Whether applying the plan would change anything in Infrahub: any
 * create, update, delete, forget, or adopt (after hf_plan_finish or
 * hf_plan_from_json: reads the counts). Drives --detailed-exitcode (2)
 * and "No changes".
 */
int hf_plan_has_changes(const hf_plan *p);

/*
 * The plan as JSON (schemas/plan.schema.json): a new reference. Keys are
 * emitted in a stable order. NULL on OOM.
 */
json_t *hf_plan_to_json(const hf_plan *p);
/* The same, one piece at a time: "changes" empty, and one change's. */
json_t *hf_plan_meta_to_json(const hf_plan *p);
json_t *hf_change_to_json(const struct hf_change *c);
/*
 * Rebuild a plan from that JSON; checks the checksum (HF_EINVAL). A plan
 * written before stacks existed (no "stack", "group_id", "partial",
 * "adopt", "cascade_of", "sources") reads as stack "default", group_id
 * NULL, partial 0, adopt 0; its checksum still verifies, because the
 * checksum covers those fields only where they differ from these
 * defaults.
 */
int hf_plan_from_json(hf_plan **out, const json_t *j, hf_error *err);

/*
 * The same, a piece at a time, for a reader that builds the changes
 * itself (the store, from its rows): a plan with the metadata of `j`
 * (hf_plan_from_json()'s object; "changes" is not read); then each
 * change in the plan's order, taken as hf_plan_add() takes it, whose
 * computed id must be `id` (`i` names it in the error); then the counts
 * and the checksum, which must be the metadata's. A no-op may come as
 * text (hf_change.text: its before and after, when they are the same
 * text); when the checksum does not hold with the text as it is, it is
 * tried once more with such no-ops read as trees. On failure the caller
 * frees the plan.
 */
int hf_plan_load_begin(hf_plan **out, const json_t *j, hf_error *err);
int hf_plan_load_change(hf_plan *p, struct hf_change *c, const char *id,
                        size_t i, hf_error *err);
int hf_plan_load_end(hf_plan *p, hf_error *err);

/* Free the contents of a change that is not in a plan (not the struct). */
void hf_change_release(struct hf_change *c);

/* The checksum the plan's content gives now (to detect tampering). */
int hf_plan_compute_checksum(const hf_plan *p, char out[65]);

const char *hf_action_str(enum hf_action a);
int hf_action_parse(const char *s, enum hf_action *out);
const char *hf_change_status_str(enum hf_change_status s);
int hf_change_status_parse(const char *s, enum hf_change_status *out);

#endif
