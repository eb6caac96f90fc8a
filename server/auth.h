#ifndef HFS_AUTH_H
#define HFS_AUTH_H

/*
 * Username/password login for the local endpoint, with Infrahub's JWTs
 * (infrahub-api.md 1.2; SRV backend/infrahub/auth.py): POST
 * /api/auth/login {"username", "password"} -> {"access_token",
 * "refresh_token"}; POST /api/auth/refresh with the refresh token as
 * "Authorization: Bearer" -> {"access_token"}; POST /api/auth/logout
 * with an access token invalidates its session. Tokens are HS256 JWTs
 * with Infrahub's claims (sub, iat, nbf, exp, fresh, type, session_id),
 * signed with a random key made at start (tokens do not survive a
 * restart). The access token lives 3600 s, the refresh token 30 days,
 * as in Infrahub. Errors use Infrahub's messages and shapes: 401
 * "Expired Signature" for an expired token (what clients look for to
 * refresh), "Invalid token", "Incorrect password", 404 "That login user
 * doesn't exist in the system", 422 FastAPI bodies for a bad request.
 *
 * Users come from a spec "NAME:PASSWORD[,NAME:PASSWORD...]" (`hubform
 * serve` takes it from $HUBFORM_SERVE_USERS): a name is non-empty and
 * holds no ':' or ','; a password is non-empty, printable, without ','.
 * Passwords are kept only as SHA-256 digests, compared in constant time.
 *
 * Times are passed in (seconds since the epoch) so tests can move the
 * clock. Thread-safe: sessions are guarded by a mutex.
 */
#include <jansson.h>
#include <stddef.h>

#include "hf/error.h"

typedef struct hfs_auth hfs_auth;

#define HFS_AUTH_ACCESS_LIFETIME  3600L
#define HFS_AUTH_REFRESH_LIFETIME 2592000L

/*
 * Parse `users` (NULL or "": no users) into *out (caller frees with
 * hfs_auth_free). HF_EINVAL names the bad entry by its position (never
 * the password); HF_ENOMEM.
 */
int hfs_auth_new(hfs_auth **out, const char *users, hf_error *err);
void hfs_auth_free(hfs_auth *a);
size_t hfs_auth_user_count(const hfs_auth *a);
/* Token lifetimes in seconds (> 0), for tests. */
void hfs_auth_set_lifetimes(hfs_auth *a, long access, long refresh);

/* Whether `path` is one of the /api/auth endpoints. */
int hfs_auth_is_endpoint(const char *path);

/*
 * Answer a request to an /api/auth endpoint. `authorization` is the
 * Authorization header or NULL. *status and *body (a new reference) are
 * the answer. 0, or HF_ENOMEM.
 */
int hfs_auth_rest(hfs_auth *a, const char *method, const char *path,
                  const char *authorization, const char *body, size_t len,
                  long now, int *status, json_t **out);

/*
 * Check the credentials of a request: `authorization` is the
 * Authorization header or NULL. 0 when it carries a valid access token;
 * 1 when it carries none; -1 when it carries a bad one, with Infrahub's
 * message in *msg (static).
 */
int hfs_auth_check(hfs_auth *a, const char *authorization, long now,
                   const char **msg);

#endif
