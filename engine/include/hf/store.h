#ifndef HF_STORE_H
#define HF_STORE_H

/*
 * The plan store: one SQLite file whose tables are documented in
 * schemas/plan-store.sql. Plans are saved whole, read back checked
 * against their checksum, and move between statuses atomically so that
 * two applies can never run the same plan.
 */
#include "hf/error.h"
#include "hf/plan.h"

typedef struct hf_store hf_store;

enum hf_store_mode {
	HF_STORE_CREATE = 0, /* read-write; created (tables too) when missing */
	HF_STORE_EXISTING, /* read-write; the file must be a plan store */
	HF_STORE_READONLY, /* read-only; nothing is created or upgraded */
};

/*
 * Open the store at `path` (HF_STORE_CREATE). On success *out is owned by
 * the caller (hf_store_close()). HF_EINVAL when the file is not a plan
 * store; with EXISTING or READONLY, HF_ENOTFOUND when there is no file.
 * A store written by an older hubform is upgraded in place (read-write
 * modes only).
 */
int hf_store_open(hf_store **out, const char *path, hf_error *err);
int hf_store_open_mode(hf_store **out, const char *path,
                       enum hf_store_mode mode, hf_error *err);
void hf_store_close(hf_store *st); /* NULL-safe */

/*
 * 1 when `path` is a plan store or a plan file written by `plan --out`,
 * judged by content alone (the SQLite header, then the plans table),
 * never by name; 0 otherwise. Opens nothing for writing.
 */
int hf_store_is_plan_file(const char *path);

/* The path the store was opened with; borrowed. */
const char *hf_store_path(const hf_store *st);

/*
 * The id of the newest plan made for target `address` on `branch`, or,
 * with branch NULL, on whatever branch was the server's default when it
 * was planned. HF_ENOTFOUND when there is none.
 */
int hf_store_latest_for(hf_store *st, const char *address, const char *branch,
                        char id[HF_PLAN_ID_LEN + 1], hf_error *err);

/* 1 when plan `id` is in the store. */
int hf_store_has(hf_store *st, const char *id);

/* Save a finished plan (a plan with that id already there: HF_EINVAL). */
int hf_store_save(hf_store *st, const hf_plan *p, hf_error *err);

/*
 * hf_store_save() in two steps, for a plan whose checksum is computed
 * meanwhile (hf_plan_finish_unsummed()): begin writes the plan in a
 * transaction it leaves open; commit writes the checksum the plan has by
 * then (refused when it has none) and commits; abort rolls back. No
 * other call on the store between them.
 */
int hf_store_save_begin(hf_store *st, const hf_plan *p, hf_error *err);
int hf_store_save_commit(hf_store *st, const hf_plan *p, hf_error *err);
void hf_store_save_abort(hf_store *st);

/*
 * Load a plan by id, by a unique id prefix (at least 4 characters), or
 * "latest" (the newest). The checksum is verified (HF_EINVAL when the
 * stored plan was altered). HF_ENOTFOUND when there is none.
 */
int hf_store_load(hf_store *st, const char *ref, hf_plan **out, hf_error *err);

/* A plans row, for listings. Borrowed for the callback only. */
struct hf_plan_row {
	const char *id;
	const char *created_at;
	const char *address;
	const char *branch;
	const char *status;
	long n_create, n_update, n_noop;
	const char *error; /* NULL if none */
	long n_delete, n_forget, n_adopt;
	const char *stack; /* "default" for plans from before stacks */
};

typedef int (*hf_store_list_cb)(const struct hf_plan_row *row, void *payload);

/* Every plan, newest first. A callback returning nonzero stops. */
int hf_store_list(hf_store *st, hf_store_list_cb cb, void *payload,
                  hf_error *err);

/*
 * Move plan `id` from status `from` to `to` in one statement, so that of
 * two processes racing only one wins. HF_ECONFLICT (with the plan's
 * actual status in the message) when it is not in `from`.
 */
int hf_store_transition(hf_store *st, const char *id, const char *from,
                        const char *to, hf_error *err);

/* Record one change's apply outcome (status, error, timings). */
int hf_store_update_change(hf_store *st, const char *plan_id,
                           const struct hf_change *c, hf_error *err);

/*
 * Another plan for the same target (address and branch) that is being
 * applied: its id in `id` and 1, or 0 when there is none.
 */
int hf_store_find_applying(hf_store *st, const char *address,
                           const char *branch, const char *except,
                           char id[HF_PLAN_ID_LEN + 1]);

/* Record the outcome of every change of `p` in one transaction. */
int hf_store_update_changes(hf_store *st, const hf_plan *p, hf_error *err);

/* Record apply facts on the plan row; NULL/-1 leave a column as it is. */
int hf_store_set_apply(hf_store *st, const char *id, const char *branch,
                       const char *started_at, const char *finished_at,
                       long requests_sent, const char *error, hf_error *err);

/*
 * A plan's status. The store keeps the text form ("planned", ...) on disk
 * and in hf_plan_meta.status; code decides on the enum.
 *
 *   planned -> applying -> applied | failed     (an apply)
 *   planned -> stale                            (changed since the plan)
 *   applying -> applied | failed                (--recover)
 */
enum hf_plan_status {
	HF_PLAN_PLANNED = 0,
	HF_PLAN_APPLYING,
	HF_PLAN_APPLIED,
	HF_PLAN_FAILED,
	HF_PLAN_STALE,
};

/* "planned", "applying"...; never NULL. */
const char *hf_plan_status_str(enum hf_plan_status s);
/* The enum of a status text: 0, or HF_EINVAL for an unknown one. */
int hf_plan_status_parse(const char *s, enum hf_plan_status *out);

/* hf_store_transition() with statuses as the enum. */
int hf_store_move(hf_store *st, const char *id, enum hf_plan_status from,
                  enum hf_plan_status to, hf_error *err);

#endif
