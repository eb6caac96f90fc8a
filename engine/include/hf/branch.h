#ifndef HF_BRANCH_H
#define HF_BRANCH_H

/*
 * Infrahub branches as the apply transaction needs them: which branch is
 * the server's default (Branch.is_default: it need not be called "main"),
 * whether a branch exists, and the create / merge / delete operations.
 * Branch-management mutations go to the server's default branch endpoint
 * (POST /graphql), as the official SDK sends them.
 */
#include <stddef.h>

#include "hf/error.h"
#include "hf/transport.h"

#define HF_BRANCH_NAME_MAX 256

struct hf_branch_info {
	char default_name[HF_BRANCH_NAME_MAX]; /* the branch with is_default */
	int exists; /* the branch asked about exists (1) or not (0) */
};

/*
 * Read the server's branch list: the default branch's name and whether
 * `name` (may be NULL) exists. A server that marks no branch as default
 * gives "main", the name Infrahub starts with. Returns 0, or the transport's
 * failure (HF_ENET, HF_EAUTH, HF_ESERVER...); HF_ESERVER when the answer
 * is not a list of branches.
 */
int hf_branch_info(hf_transport *t, const char *name,
                   struct hf_branch_info *out, hf_error *err);

/*
 * The branch a command works on: `named` (NULL or "": none), which must
 * exist, else the server's default (Branch.is_default), whatever it is
 * called. `chosen` (n bytes; may be `named` itself) gets the branch to
 * use and `out` what
 * hf_branch_info() read. 0; HF_ENOTFOUND when `named` does not exist
 * (out->default_name set, `chosen` untouched); or hf_branch_info()'s
 * failure (out->default_name "").
 */
int hf_branch_choose(hf_transport *t, const char *named,
                     struct hf_branch_info *out, char *chosen, size_t n,
                     hf_error *err);

enum hf_branch_op {
	HF_BRANCH_CREATE, /* from the default branch */
	HF_BRANCH_MERGE, /* into the default branch */
	HF_BRANCH_DELETE,
};

/*
 * One branch operation. Transient failures are retried like reads (the
 * caller treats "already exists" after a create and "not found" after a
 * delete as done, so a repeat is harmless). Returns 0; HF_ECONFLICT when
 * a branch of that name already exists (create); HF_ENOTFOUND when there
 * is no such branch (merge, delete); HF_ESERVER with the server's whole
 * message for any other refusal; or the transport's failure. The meaning
 * is read from the server's answer once, in hf_tx_error_code().
 */
int hf_branch_op(hf_transport *t, enum hf_branch_op op, const char *name,
                 hf_error *err);

/* One branch as the server describes it (Branch query, section 4.1). */
struct hf_branch {
	char name[HF_BRANCH_NAME_MAX];
	char origin[HF_BRANCH_NAME_MAX]; /* origin_branch; "" when null */
	char branched_from[64]; /* timestamp; "" when null */
	char status[32]; /* "OPEN", "MERGED"...; "" when the server is too old
	                    to have the field */
	char *description; /* owned (hf_branch_list_free); "" when null */
	int is_default;
	int sync_with_git;
	int has_schema_changes;
};

/*
 * Every branch, in the server's order. A server without Branch.status
 * (SRV-2024) is asked again without it. *out is an array of *n branches,
 * freed with hf_branch_list_free(). Returns 0, HF_ESERVER when the answer
 * is not a list of branches, HF_ENOMEM, or the transport's failure.
 */
int hf_branch_list(hf_transport *t, struct hf_branch **out, size_t *n,
                   hf_error *err);
void hf_branch_list_free(struct hf_branch *b, size_t n);

/*
 * BranchCreate from the default branch with a description (NULL: none)
 * and sync_with_git. Results as hf_branch_op(HF_BRANCH_CREATE), which is
 * this with the description "hubform apply" and no git sync.
 */
int hf_branch_create(hf_transport *t, const char *name, const char *description,
                     int sync_with_git, hf_error *err);

/*
 * Whether branch `name` exists and its status ("OPEN", "MERGED"; Infrahub
 * 1.8 freezes a merged branch). A server too old to know the status field
 * answers with an error: the caller then falls back on other evidence.
 */
int hf_branch_status(hf_transport *t, const char *name, char *status, size_t n,
                     int *exists, hf_error *err);

#endif
