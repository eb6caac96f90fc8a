/*
 * JWT login, refresh and logout for the local endpoint (see auth.h).
 * HS256 with libcrypto's HMAC; base64url without padding as JWTs use it.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "hf/alloc.h"
#include "hf/buf.h"
#include "hf/banned.h"

#define KEY_LEN      32
#define SESSIONS_MAX 10000

struct user {
	char *name;
	char id[37]; /* the account's id: the token's "sub" */
	unsigned char pw[32]; /* SHA-256 of the password */
};

struct session {
	char id[37];
	long exp;
};

struct hfs_auth {
	struct user *users;
	size_t nusers;
	unsigned char key[KEY_LEN];
	long access_life;
	long refresh_life;
	pthread_mutex_t lock; /* guards sessions */
	struct session *sessions;
	size_t nsessions;
};

static const char msg_expired[] = "Expired Signature";
static const char msg_invalid[] = "Invalid token";

/* ---- base64url ----------------------------------------------------------- */

static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void b64url(hf_buf *b, const unsigned char *p, size_t n)
{
	size_t i;
	unsigned v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		hf_buf_addch(b, b64[v >> 18]);
		hf_buf_addch(b, b64[(v >> 12) & 63]);
		hf_buf_addch(b, b64[(v >> 6) & 63]);
		hf_buf_addch(b, b64[v & 63]);
	}
	if (n - i == 1) {
		v = (unsigned)p[i] << 16;
		hf_buf_addch(b, b64[v >> 18]);
		hf_buf_addch(b, b64[(v >> 12) & 63]);
	} else if (n - i == 2) {
		v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
		hf_buf_addch(b, b64[v >> 18]);
		hf_buf_addch(b, b64[(v >> 12) & 63]);
		hf_buf_addch(b, b64[(v >> 6) & 63]);
	}
}

static int b64val(char c)
{
	const char *p = c ? strchr(b64, c) : NULL;

	return p ? (int)(p - b64) : -1;
}

/* Decode s[0..n) into b; -1 on a character outside the alphabet. */
static int unb64url(hf_buf *b, const char *s, size_t n)
{
	unsigned acc = 0;
	int bits = 0, v;
	size_t i;

	if (n % 4 == 1)
		return -1;
	for (i = 0; i < n; i++) {
		v = b64val(s[i]);
		if (v < 0)
			return -1;
		acc = acc << 6 | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			hf_buf_addch(b, (char)((acc >> bits) & 0xff));
		}
	}
	return hf_buf_failed(b) ? -1 : 0;
}

/* ---- users -----------------------------------------------------------------
 */

static void sha256(const char *s, size_t n, unsigned char out[32])
{
	unsigned int len = 0;

	EVP_Digest(s, n, out, &len, EVP_sha256(), NULL);
}

/* A UUID (version 4 layout) from 16 bytes. */
static void uuid_text(const unsigned char *b, char out[37])
{
	unsigned char u[16];

	memcpy(u, b, 16);
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
	snprintf(out, 37,
	         "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	         "%02x%02x%02x%02x%02x%02x",
	         u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
	         u[10], u[11], u[12], u[13], u[14], u[15]);
}

static int add_user(hfs_auth *a, const char *e, size_t n, size_t pos,
                    hf_error *err)
{
	const char *colon = memchr(e, ':', n);
	struct user *u;
	unsigned char h[32];
	hf_buf id = HF_BUF_INIT;
	size_t i, nl;

	if (!colon || colon == e || colon + 1 == e + n)
		return hf_error_set(err, HF_EINVAL,
		                    "user %zu: expected NAME:PASSWORD, both "
		                    "non-empty",
		                    pos);
	nl = (size_t)(colon - e);
	for (i = 0; i < n; i++)
		if ((unsigned char)e[i] < 0x20 || e[i] == 0x7f)
			return hf_error_set(err, HF_EINVAL,
			                    "user %zu: control character", pos);
	for (i = 0; i < a->nusers; i++)
		if (strlen(a->users[i].name) == nl &&
		    !memcmp(a->users[i].name, e, nl))
			return hf_error_set(err, HF_EINVAL,
			                    "user %zu: '%.*s' is given twice",
			                    pos, (int)nl, e);
	u = hf_realloc(a->users, (a->nusers + 1) * sizeof(*u));
	if (!u)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	a->users = u;
	u = &a->users[a->nusers];
	memset(u, 0, sizeof(*u));
	u->name = hf_strndup(e, nl);
	if (!u->name)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	sha256(colon + 1, n - nl - 1, u->pw);
	hf_buf_addf(&id, "hubform-account:%s", u->name);
	sha256(id.ptr ? id.ptr : "", id.len, h);
	hf_buf_release(&id);
	uuid_text(h, u->id);
	a->nusers++;
	return 0;
}

static int parse_users(hfs_auth *a, const char *spec, hf_error *err)
{
	const char *p = spec, *end;
	size_t pos = 1;
	int rc;

	while (p && *p) {
		end = p + strcspn(p, ",");
		rc = add_user(a, p, (size_t)(end - p), pos++, err);
		if (rc < 0)
			return rc;
		p = *end ? end + 1 : end;
	}
	return 0;
}

int hfs_auth_new(hfs_auth **out, const char *users, hf_error *err)
{
	hfs_auth *a = hf_calloc(1, sizeof(*a));
	int rc;

	*out = NULL;
	if (!a)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	pthread_mutex_init(&a->lock, NULL);
	a->access_life = HFS_AUTH_ACCESS_LIFETIME;
	a->refresh_life = HFS_AUTH_REFRESH_LIFETIME;
	if (RAND_bytes(a->key, sizeof(a->key)) != 1) {
		hfs_auth_free(a);
		return hf_error_set(err, HF_ERR, "no random bytes for the key");
	}
	rc = parse_users(a, users, err);
	if (rc < 0) {
		hfs_auth_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

void hfs_auth_free(hfs_auth *a)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->nusers; i++)
		hf_free(a->users[i].name);
	OPENSSL_cleanse(a->key, sizeof(a->key));
	hf_free(a->users);
	hf_free(a->sessions);
	pthread_mutex_destroy(&a->lock);
	hf_free(a);
}

size_t hfs_auth_user_count(const hfs_auth *a)
{
	return a ? a->nusers : 0;
}

void hfs_auth_set_lifetimes(hfs_auth *a, long access, long refresh)
{
	if (access > 0)
		a->access_life = access;
	if (refresh > 0)
		a->refresh_life = refresh;
}

/* ---- sessions (Infrahub's refresh-token nodes) ----------------------------
 */

static int session_new(hfs_auth *a, long now, char id[37])
{
	unsigned char r[16];
	struct session *s;
	size_t i, j = 0;
	int rc = 0;

	if (RAND_bytes(r, sizeof(r)) != 1)
		return HF_ERR;
	uuid_text(r, id);
	pthread_mutex_lock(&a->lock);
	for (i = 0; i < a->nsessions; i++) /* forget the expired ones */
		if (a->sessions[i].exp > now)
			a->sessions[j++] = a->sessions[i];
	a->nsessions = j;
	if (a->nsessions >= SESSIONS_MAX) { /* the oldest goes */
		memmove(a->sessions, a->sessions + 1,
		        (a->nsessions - 1) * sizeof(*a->sessions));
		a->nsessions--;
	}
	s = hf_realloc(a->sessions, (a->nsessions + 1) * sizeof(*s));
	if (!s) {
		rc = HF_ENOMEM;
	} else {
		a->sessions = s;
		memcpy(s[a->nsessions].id, id, 37);
		s[a->nsessions].exp = now + a->refresh_life;
		a->nsessions++;
	}
	pthread_mutex_unlock(&a->lock);
	return rc;
}

/* Whether session `id` is live; `drop` ends it. */
static int session_use(hfs_auth *a, const char *id, long now, int drop)
{
	size_t i;
	int found = 0;

	pthread_mutex_lock(&a->lock);
	for (i = 0; i < a->nsessions && !found; i++) {
		if (strcmp(a->sessions[i].id, id) || a->sessions[i].exp <= now)
			continue;
		found = 1;
		if (drop)
			a->sessions[i] = a->sessions[--a->nsessions];
	}
	pthread_mutex_unlock(&a->lock);
	return found;
}

/* ---- tokens ----------------------------------------------------------------
 */

static void sign(const hfs_auth *a, const char *msg, size_t n,
                 unsigned char out[32])
{
	unsigned int len = 32;

	HMAC(EVP_sha256(), a->key, sizeof(a->key), (const unsigned char *)msg,
	     n, out, &len);
}

/* A signed token of `type` ("access", "refresh") into *out (hf_free). */
static int token_new(const hfs_auth *a, const struct user *u,
                     const char *session, const char *type, long now, long life,
                     char **out)
{
	static const char head[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	json_t *claims =
	        json_pack("{s:s, s:I, s:I, s:I, s:b, s:s, s:s}", "sub", u->id,
	                  "iat", (json_int_t)now, "nbf", (json_int_t)now, "exp",
	                  (json_int_t)(now + life), "fresh", 0, "type", type,
	                  "session_id", session);
	char *text =
	        claims ? json_dumps(claims, JSON_COMPACT | JSON_PRESERVE_ORDER)
	               : NULL;
	unsigned char mac[32];
	hf_buf b = HF_BUF_INIT;

	json_decref(claims);
	*out = NULL;
	if (!text)
		return HF_ENOMEM;
	b64url(&b, (const unsigned char *)head, strlen(head));
	hf_buf_addch(&b, '.');
	b64url(&b, (const unsigned char *)text, strlen(text));
	hf_free(text);
	if (hf_buf_failed(&b)) {
		hf_buf_release(&b);
		return HF_ENOMEM;
	}
	sign(a, b.ptr, b.len, mac);
	hf_buf_addch(&b, '.');
	b64url(&b, mac, sizeof(mac));
	*out = hf_buf_detach(&b);
	return *out ? 0 : HF_ENOMEM;
}

/* A decoded JSON part of a token, or NULL. */
static json_t *part_json(const char *s, size_t n)
{
	hf_buf b = HF_BUF_INIT;
	json_t *j = NULL;

	if (unb64url(&b, s, n) == 0)
		j = json_loadb(b.ptr ? b.ptr : "", b.len, 0, NULL);
	hf_buf_release(&b);
	return json_is_object(j) ? j : (json_decref(j), NULL);
}

static int signature_ok(const hfs_auth *a, const char *tok, size_t signed_len,
                        const char *sig, size_t n)
{
	unsigned char mac[32];
	hf_buf b = HF_BUF_INIT;
	int ok;

	sign(a, tok, signed_len, mac);
	ok = unb64url(&b, sig, n) == 0 && b.len == sizeof(mac) &&
	     CRYPTO_memcmp(b.ptr, mac, sizeof(mac)) == 0;
	hf_buf_release(&b);
	return ok;
}

/*
 * Verify a token as PyJWT does (HS256 only; exp and nbf checked), into
 * *claims. 0, or -1 with Infrahub's message.
 */
static int token_verify(const hfs_auth *a, const char *tok, long now,
                        json_t **claims, const char **msg)
{
	const char *d1 = strchr(tok, '.'),
	           *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	json_t *head, *c;
	json_int_t exp, nbf;
	int ok;

	*claims = NULL;
	*msg = msg_invalid;
	if (!d1 || !d2 || strchr(d2 + 1, '.'))
		return -1;
	head = part_json(tok, (size_t)(d1 - tok));
	ok = head && json_is_string(json_object_get(head, "alg")) &&
	     !strcmp(json_string_value(json_object_get(head, "alg")), "HS256");
	json_decref(head);
	if (!ok ||
	    !signature_ok(a, tok, (size_t)(d2 - tok), d2 + 1, strlen(d2 + 1)))
		return -1;
	c = part_json(d1 + 1, (size_t)(d2 - d1 - 1));
	if (!c)
		return -1;
	exp = json_integer_value(json_object_get(c, "exp"));
	nbf = json_integer_value(json_object_get(c, "nbf"));
	if (!json_is_integer(json_object_get(c, "exp")) || exp <= now) {
		if (json_is_integer(json_object_get(c, "exp")))
			*msg = msg_expired;
		json_decref(c);
		return -1;
	}
	if ((json_object_get(c, "nbf") && nbf > now) ||
	    !json_is_string(json_object_get(c, "sub")) ||
	    !json_is_string(json_object_get(c, "session_id"))) {
		json_decref(c);
		return -1;
	}
	*claims = c;
	return 0;
}

/* "Bearer <token>" into the token, or NULL. */
static const char *bearer(const char *authorization)
{
	if (!authorization || strncasecmp(authorization, "Bearer ", 7))
		return NULL;
	authorization += 7;
	while (*authorization == ' ')
		authorization++;
	return *authorization ? authorization : NULL;
}

static int of_type(const json_t *claims, const char *type)
{
	const char *t = json_string_value(json_object_get(claims, "type"));

	return t && !strcmp(t, type);
}

int hfs_auth_check(hfs_auth *a, const char *authorization, long now,
                   const char **msg)
{
	const char *tok = bearer(authorization);
	json_t *claims;
	int ok;

	*msg = NULL;
	if (!tok)
		return 1;
	if (!a || token_verify(a, tok, now, &claims, msg) < 0) {
		if (!*msg)
			*msg = msg_invalid;
		return -1;
	}
	ok = of_type(claims, "access");
	json_decref(claims);
	if (!ok) {
		*msg = "Invalid token, current token is not an access token";
		return -1;
	}
	return 0;
}

/* ---- the endpoints ------------------------------------------------------- */

static json_t *error_body(int code, const char *msg)
{
	return json_pack("{s:n, s:[{s:s, s:{s:i}}]}", "data", "errors",
	                 "message", msg, "extensions", "code", code);
}

static void fail(int *status, json_t **out, int code, const char *msg)
{
	*status = code;
	*out = error_body(code, msg);
}

/* FastAPI's 422 for a body field: missing or not a string. */
static void field_error(int *status, json_t **out, const char *field,
                        const json_t *body)
{
	const json_t *v = json_object_get(body, field);

	*status = 422;
	if (!v)
		*out = json_pack("{s:[{s:s, s:[s,s], s:s, s:O}]}", "detail",
		                 "type", "missing", "loc", "body", field, "msg",
		                 "Field required", "input", body);
	else
		*out = json_pack("{s:[{s:s, s:[s,s], s:s, s:O}]}", "detail",
		                 "type", "string_type", "loc", "body", field,
		                 "msg", "Input should be a valid string",
		                 "input", v);
}

static const struct user *find_user(const hfs_auth *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->nusers; i++)
		if (!strcmp(a->users[i].name, name))
			return &a->users[i];
	return NULL;
}

static const struct user *find_id(const hfs_auth *a, const char *id)
{
	size_t i;

	for (i = 0; i < a->nusers; i++)
		if (!strcmp(a->users[i].id, id))
			return &a->users[i];
	return NULL;
}

static int password_ok(const struct user *u, const char *pw)
{
	unsigned char h[32];

	sha256(pw, strlen(pw), h);
	return CRYPTO_memcmp(h, u->pw, sizeof(h)) == 0;
}

static int tokens_answer(hfs_auth *a, const struct user *u, long now,
                         json_t **out)
{
	char session[37], *acc = NULL, *ref = NULL;
	int rc = session_new(a, now, session);

	if (rc == 0)
		rc = token_new(a, u, session, "access", now, a->access_life,
		               &acc);
	if (rc == 0)
		rc = token_new(a, u, session, "refresh", now, a->refresh_life,
		               &ref);
	if (rc == 0)
		*out = json_pack("{s:s, s:s}", "access_token", acc,
		                 "refresh_token", ref);
	hf_free(acc);
	hf_free(ref);
	return rc;
}

static int login(hfs_auth *a, const char *body, size_t len, long now,
                 int *status, json_t **out)
{
	json_error_t je;
	json_t *req = json_loadb(body ? body : "", len, 0, &je);
	const char *name, *pw;
	const struct user *u;
	int rc = 0;

	if (!req) {
		*status = 422;
		*out = json_pack("{s:[{s:s, s:[s,i], s:s, s:{}, s:{s:s}}]}",
		                 "detail", "type", "json_invalid", "loc",
		                 "body", (int)je.position, "msg",
		                 "JSON decode error", "input", "ctx", "error",
		                 je.text);
		return 0;
	}
	name = json_string_value(json_object_get(req, "username"));
	pw = json_string_value(json_object_get(req, "password"));
	if (!name || !pw) {
		field_error(status, out, name ? "password" : "username", req);
	} else if (!(u = find_user(a, name))) {
		fail(status, out, 404,
		     "That login user doesn't exist in the system");
	} else if (!password_ok(u, pw)) {
		fail(status, out, 401, "Incorrect password");
	} else {
		*status = 200;
		rc = tokens_answer(a, u, now, out);
	}
	json_decref(req);
	return rc;
}

/*
 * The verified claims of the request's Bearer token into *claims (the
 * caller decrefs), or *claims NULL and the 401 answer made: `what` names
 * the token the endpoint needs.
 */
static void bearer_claims(hfs_auth *a, const char *authorization,
                          const char *what, long now, int *status, json_t **out,
                          json_t **claims)
{
	const char *tok = bearer(authorization), *msg;
	char m[100];

	*claims = NULL;
	if (!tok) {
		snprintf(
		        m, sizeof(m),
		        "A JWT %s token is required to perform this operation.",
		        what);
		fail(status, out, 401, m);
	} else if (token_verify(a, tok, now, claims, &msg) < 0) {
		fail(status, out, 401, msg);
	}
}

static int refresh(hfs_auth *a, const char *authorization, long now,
                   int *status, json_t **out)
{
	const struct user *u;
	json_t *claims;
	char *acc = NULL;
	int rc = 0;

	bearer_claims(a, authorization, "refresh", now, status, out, &claims);
	if (!claims)
		return 0;
	u = find_id(a, json_string_value(json_object_get(claims, "sub")));
	if (!of_type(claims, "refresh"))
		fail(status, out, 401,
		     "Invalid token, current token is not a refresh token");
	else if (!session_use(a,
	                      json_string_value(
	                              json_object_get(claims, "session_id")),
	                      now, 0))
		fail(status, out, 401,
		     "The provided refresh token has been invalidated in the "
		     "database");
	else if (!u)
		fail(status, out, 404,
		     "That login user doesn't exist in the system");
	else if ((rc = token_new(a, u,
	                         json_string_value(
	                                 json_object_get(claims, "session_id")),
	                         "access", now, a->access_life, &acc)) == 0) {
		*status = 200;
		*out = json_pack("{s:s}", "access_token", acc);
	}
	hf_free(acc);
	json_decref(claims);
	return rc;
}

static int logout(hfs_auth *a, const char *authorization, long now, int *status,
                  json_t **out)
{
	json_t *claims;

	bearer_claims(a, authorization, "access", now, status, out, &claims);
	if (!claims)
		return 0;
	if (!of_type(claims, "access")) {
		fail(status, out, 401,
		     "Invalid token, current token is not an access token");
	} else {
		session_use(a,
		            json_string_value(
		                    json_object_get(claims, "session_id")),
		            now, 1);
		*status = 200;
		*out = json_null();
	}
	json_decref(claims);
	return 0;
}

int hfs_auth_is_endpoint(const char *path)
{
	return !strcmp(path, "/api/auth/login") ||
	       !strcmp(path, "/api/auth/refresh") ||
	       !strcmp(path, "/api/auth/logout");
}

int hfs_auth_rest(hfs_auth *a, const char *method, const char *path,
                  const char *authorization, const char *body, size_t len,
                  long now, int *status, json_t **out)
{
	int rc = 0;

	*out = NULL;
	if (strcmp(method, "POST")) {
		*status = 405;
		*out = json_pack("{s:s}", "detail", "Method Not Allowed");
	} else if (!strcmp(path, "/api/auth/login")) {
		rc = login(a, body, len, now, status, out);
	} else if (!strcmp(path, "/api/auth/refresh")) {
		rc = refresh(a, authorization, now, status, out);
	} else {
		rc = logout(a, authorization, now, status, out);
	}
	if (rc < 0)
		return rc;
	return *out ? 0 : HF_ENOMEM;
}
