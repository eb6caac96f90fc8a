#ifndef HFS_POOL_H
#define HFS_POOL_H

/*
 * Infrahub's resource manager for the local endpoint: CoreIPAddressPool,
 * CoreIPPrefixPool and CoreNumberPool allocation, the reservations that
 * make an allocation idempotent by identifier, the
 * InfrahubIP{Address,Prefix}PoolGetResource mutations and the
 * InfrahubIP{Address,Prefix}GetNextAvailable queries.
 *
 * Reservations live in the metadata table ("pool:<pool id>"), outside any
 * branch, as Infrahub keeps its IS_RESERVED edges on the global branch: an
 * identifier gets the same resource on every branch, and what one branch
 * allocated is not handed out again on another. They are written inside
 * the mutation's transaction, so a failed mutation leaves none behind.
 *
 * Private to server/exec*.c; everything runs under hfs_db_lock().
 */
#include <jansson.h>

#include "exec_int.h"

/* What one allocation asks for (everything borrowed, NULL: unset). */
struct xp_req {
	const char *identifier;
	const json_t *data; /* attribute values of the node to create */
	long prefixlen; /* 0: unset */
	const char *member_type;
	const char *prefix_type;
	const char *address_type;
	const char *peer_kind; /* the allocated node must be one of these */
};

/* The options of a from_pool input object ({id, identifier, data, ...}). */
void xp_req_from_input(struct xp_req *q, const json_t *from_pool);

/*
 * A pool by id (a UUID, or a name through the default filter) or by HFID,
 * among the nodes of `kind` (a generic such as CoreResourcePool is fine).
 * *out is borrowed from the mirror. HF_ENOTFOUND with Infrahub's message.
 */
int xp_find(struct xreq *r, const char *kind, const json_t *id,
            const json_t *hfid, struct xnode **out, hf_error *err);

/*
 * Allocate from an IP address or IP prefix pool: the node reserved for
 * q->identifier when there is one, else a new address/prefix node (the
 * next free one in the pool's resources). *out is borrowed.
 */
int xp_allocate(struct xreq *r, struct xnode *pool, const struct xp_req *q,
                struct xnode **out, hf_error *err);

/*
 * A number from a CoreNumberPool for attribute `attr` of `kind`: the one
 * reserved for `identifier`, else the lowest free one in the range.
 */
int xp_number(struct xreq *r, struct xnode *pool, const char *kind,
              const char *attr, const char *identifier, json_int_t *out,
              hf_error *err);

/* The pool mutations and queries, by field name. */
int xp_is_mutation(const char *name);
int xp_mutation(struct xreq *r, const struct hfs_gql_field_group *g,
                hf_error *err);
int xp_is_query(const char *name);
int xp_query(struct xreq *r, const struct hfs_gql_field_group *g,
             hf_error *err);

/*
 * Field rules of the pool types for validation (exec_types.c): the type
 * of field `name` of a top-level pool field (t NULL: the field itself as
 * a Query or Mutation field) or of a pool type. 0 when there is none.
 */
int xp_field_of(const struct xtype *t, const char *name, int mutation,
                struct xtype *out);
/* Whether `arg` is an argument of the top-level pool field `field`. */
int xp_arg_ok(const char *field, const char *arg);

#endif
