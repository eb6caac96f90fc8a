#ifndef HF_OWNER_H
#define HF_OWNER_H

/*
 * Stack ownership as Infrahub records it: a stack NAME owns the members
 * of the CoreStandardGroup named "hubform-NAME" (relationship `members`).
 * This module reads that record on the transport's branch: the stack's
 * group and its members (id and concrete kind), and the ids and names of
 * the other stacks' groups (every CoreStandardGroup named "hubform-*"),
 * so that an object another stack also owns can be told apart. No
 * writes: apply adds and removes members.
 *
 * Requests carry fixed text; the group name travels as a variable.
 */
#include <jansson.h>
#include <stddef.h>

#include "hf/error.h"
#include "hf/model.h"
#include "hf/transport.h"

#define HF_OWNER_GROUP_PREFIX "hubform-"

typedef struct hf_owner hf_owner;

/*
 * A stack name: 1 to 64 characters of [A-Za-z0-9_.-], starting with a
 * letter or digit (it becomes part of a group name). 0, or HF_EINVAL
 * naming the name and what is wrong.
 */
int hf_owner_stack_check(const char *stack, hf_error *err);

/*
 * Read the ownership record of `stack` through `tr` (GraphQL on the
 * transport's default branch). Members are read in pages of
 * `page_size` (0: 5000). *out is the caller's (hf_owner_free). A stack
 * without a group yet owns nothing (hf_owner_group_id() NULL). Returns
 * 0, HF_EINVAL (a malformed answer, naming what), or the transport's
 * failure.
 */
int hf_owner_read(hf_owner **out, hf_transport *tr, const char *stack,
                  long page_size, hf_error *err);

/* An empty record of `stack` (no group): --destroy of nothing, tests. */
int hf_owner_new(hf_owner **out, const char *stack, hf_error *err);
void hf_owner_free(hf_owner *o); /* NULL-safe */

/*
 * Record a member / another stack's group (tests, and the reader). The
 * reader indexes the members by id when it has them all, dropping a
 * member listed twice; before that hf_owner_owns() looks through them.
 */
int hf_owner_add_member(hf_owner *o, const char *id, const char *kind);
int hf_owner_add_group(hf_owner *o, const char *id, const char *stack);
int hf_owner_set_group_id(hf_owner *o, const char *id);

const char *hf_owner_stack(const hf_owner *o);
/* Id of the stack's group, or NULL when there is none yet. Borrowed. */
const char *hf_owner_group_id(const hf_owner *o);

/* The members, in the order the server listed them. Borrowed. */
size_t hf_owner_count(const hf_owner *o);
const char *hf_owner_id_at(const hf_owner *o, size_t i);
const char *hf_owner_kind_at(const hf_owner *o, size_t i);

/* Whether the stack owns the node with this id. */
int hf_owner_owns(const hf_owner *o, const char *node_id);
/* Where that node is among the members (hf_owner_id_at()), or -1. */
long hf_owner_find(const hf_owner *o, const char *node_id);

/*
 * The stack name of another stack's group with this id ("ops" for the
 * group hubform-ops), or NULL when `group_id` is no other stack's group.
 * Borrowed.
 */
const char *hf_owner_other_stack(const hf_owner *o, const char *group_id);

/*
 * Ownership is not the files' business: a declared object that states
 * its `member_of_groups` keeps the stack groups (CoreStandardGroup
 * "hubform-*") its live counterpart in `have` is a member of. Those
 * references are added to the desired field, so the diff sees no change
 * and an update of the field does not drop the object from a stack.
 * 0 or HF_ENOMEM.
 */
int hf_owner_keep_memberships(hf_objset *want, const hf_objset *have);

#endif
