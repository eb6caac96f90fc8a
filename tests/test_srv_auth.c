/*
 * The local endpoint's JWT login (server/auth.c), with a clock the test
 * moves: login, refresh, logout, token checks, Infrahub's messages and
 * shapes, and the users spec. One test drives `hubform serve` over HTTP
 * with $HUBFORM_SERVE_USERS.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../server/auth.h"
#include "hf/alloc.h"
#include "testutil.h"

#define T0 1800000000L

static hfs_auth *users(const char *spec)
{
	hfs_auth *a = NULL;
	hf_error err = HF_ERROR_INIT;

	assert_int_equal(hfs_auth_new(&a, spec, &err), 0);
	return a;
}

/* POST path with body/authorization at `now`; the answer into *out. */
static int call(hfs_auth *a, const char *path, const char *authz,
                const char *body, long now, json_t **out)
{
	int status = 0;

	assert_int_equal(hfs_auth_rest(a, "POST", path, authz, body,
	                               body ? strlen(body) : 0, now, &status,
	                               out),
	                 0);
	return status;
}

static const char *message(const json_t *j)
{
	return json_string_value(json_object_get(
	        json_array_get(json_object_get(j, "errors"), 0), "message"));
}

static char *bearer(const json_t *j, const char *key)
{
	char *b = hf_alloc(4096);

	snprintf(b, 4096, "Bearer %s",
	         json_string_value(json_object_get(j, key)));
	return b;
}

/* Log alice in at `now`: her access and refresh headers. */
static void login(hfs_auth *a, long now, char **acc, char **ref)
{
	json_t *j = NULL;

	assert_int_equal(
	        call(a, "/api/auth/login", NULL,
	             "{\"username\":\"alice\",\"password\":\"s3cret\"}", now,
	             &j),
	        200);
	*acc = bearer(j, "access_token");
	*ref = bearer(j, "refresh_token");
	json_decref(j);
}

static void test_srv_auth__users_spec(void **state)
{
	hfs_auth *a = NULL;
	hf_error err = HF_ERROR_INIT;

	(void)state;
	a = users(NULL);
	assert_int_equal((int)hfs_auth_user_count(a), 0);
	hfs_auth_free(a);
	a = users("alice:s3cret,bob:p:w");
	assert_int_equal((int)hfs_auth_user_count(a), 2);
	hfs_auth_free(a);
	assert_int_equal(hfs_auth_new(&a, "alice", &err), HF_EINVAL);
	assert_string_equal(err.msg,
	                    "user 1: expected NAME:PASSWORD, both non-empty");
	assert_int_equal(hfs_auth_new(&a, "a:x,b:", &err), HF_EINVAL);
	assert_non_null(strstr(err.msg, "user 2"));
	assert_int_equal(hfs_auth_new(&a, "a:secretpw,a:other", &err),
	                 HF_EINVAL);
	assert_non_null(strstr(err.msg, "'a' is given twice"));
	assert_null(strstr(err.msg, "secretpw"));
	assert_null(a);
}

static void test_srv_auth__login(void **state)
{
	hfs_auth *a = users("alice:s3cret");
	json_t *j = NULL;
	const char *msg = NULL;
	char *acc, *ref;

	(void)state;
	assert_int_equal(call(a, "/api/auth/login", NULL,
	                      "{\"username\":\"alice\",\"password\":\"nope\"}",
	                      T0, &j),
	                 401);
	assert_string_equal(message(j), "Incorrect password");
	assert_int_equal(
	        json_integer_value(json_object_get(
	                json_object_get(
	                        json_array_get(json_object_get(j, "errors"), 0),
	                        "extensions"),
	                "code")),
	        401);
	json_decref(j);
	assert_int_equal(call(a, "/api/auth/login", NULL,
	                      "{\"username\":\"zed\",\"password\":\"x\"}", T0,
	                      &j),
	                 404);
	assert_string_equal(message(j),
	                    "That login user doesn't exist in the system");
	json_decref(j);
	assert_int_equal(call(a, "/api/auth/login", NULL,
	                      "{\"username\":\"alice\"}", T0, &j),
	                 422);
	assert_string_equal(
	        json_string_value(json_object_get(
	                json_array_get(json_object_get(j, "detail"), 0),
	                "type")),
	        "missing");
	json_decref(j);
	assert_int_equal(call(a, "/api/auth/login", NULL, "{nope", T0, &j),
	                 422);
	json_decref(j);
	login(a, T0, &acc, &ref);
	assert_int_equal(hfs_auth_check(a, acc, T0 + 10, &msg), 0);
	assert_int_equal(hfs_auth_check(a, NULL, T0, &msg), 1);
	assert_int_equal(hfs_auth_check(a, "Basic abc", T0, &msg), 1);
	hf_free(acc);
	hf_free(ref);
	hfs_auth_free(a);
}

static void test_srv_auth__expiry_and_refresh(void **state)
{
	hfs_auth *a = users("alice:s3cret");
	json_t *j = NULL;
	const char *msg = NULL;
	char *acc, *ref, *acc2;

	(void)state;
	login(a, T0, &acc, &ref);
	/* the access token lives 3600 s, as in Infrahub */
	assert_int_equal(hfs_auth_check(a, acc, T0 + 3599, &msg), 0);
	assert_int_equal(hfs_auth_check(a, acc, T0 + 3600, &msg), -1);
	assert_string_equal(msg, "Expired Signature");
	/* a refresh token is not an access token, and the reverse */
	assert_int_equal(hfs_auth_check(a, ref, T0, &msg), -1);
	assert_string_equal(
	        msg, "Invalid token, current token is not an access token");
	assert_int_equal(call(a, "/api/auth/refresh", acc, NULL, T0, &j), 401);
	assert_string_equal(
	        message(j),
	        "Invalid token, current token is not a refresh token");
	json_decref(j);
	assert_int_equal(call(a, "/api/auth/refresh", NULL, NULL, T0, &j), 401);
	assert_string_equal(message(j), "A JWT refresh token is required to "
	                                "perform this operation.");
	json_decref(j);
	/* refresh after the access token expired: a new one, same session */
	assert_int_equal(call(a, "/api/auth/refresh", ref, NULL, T0 + 4000, &j),
	                 200);
	assert_null(json_object_get(j, "refresh_token"));
	acc2 = bearer(j, "access_token");
	json_decref(j);
	assert_int_equal(hfs_auth_check(a, acc2, T0 + 4000, &msg), 0);
	/* the refresh token lives 30 days */
	assert_int_equal(call(a, "/api/auth/refresh", ref, NULL,
	                      T0 + HFS_AUTH_REFRESH_LIFETIME, &j),
	                 401);
	assert_string_equal(message(j), "Expired Signature");
	json_decref(j);
	/* logout ends the session: its refresh token is refused */
	assert_int_equal(call(a, "/api/auth/logout", acc2, NULL, T0 + 4001, &j),
	                 200);
	json_decref(j);
	assert_int_equal(call(a, "/api/auth/refresh", ref, NULL, T0 + 4002, &j),
	                 401);
	assert_string_equal(message(j), "The provided refresh token has been "
	                                "invalidated in the database");
	json_decref(j);
	hf_free(acc);
	hf_free(acc2);
	hf_free(ref);
	hfs_auth_free(a);
}

/* Tampered, foreign, unsigned and malformed tokens are all invalid. */
static void test_srv_auth__bad_tokens(void **state)
{
	hfs_auth *a = users("alice:s3cret"), *other = users("alice:s3cret");
	const char *msg = NULL;
	char *acc, *ref, *acc_o, *ref_o, bad[4096], *dot;

	(void)state;
	login(a, T0, &acc, &ref);
	login(other, T0, &acc_o, &ref_o);
	/* another server's key */
	assert_int_equal(hfs_auth_check(a, acc_o, T0, &msg), -1);
	assert_string_equal(msg, "Invalid token");
	/* a changed payload */
	snprintf(bad, sizeof(bad), "%s", acc);
	dot = strchr(bad, '.');
	dot[3] = dot[3] == 'A' ? 'B' : 'A';
	assert_int_equal(hfs_auth_check(a, bad, T0, &msg), -1);
	assert_string_equal(msg, "Invalid token");
	/* alg none, the signature left empty */
	dot = strchr(acc, '.');
	snprintf(bad, sizeof(bad),
	         "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.%.*s.",
	         (int)(strrchr(acc, '.') - dot - 1), dot + 1);
	assert_int_equal(hfs_auth_check(a, bad, T0, &msg), -1);
	assert_string_equal(msg, "Invalid token");
	assert_int_equal(hfs_auth_check(a, "Bearer x.y", T0, &msg), -1);
	assert_int_equal(hfs_auth_check(a, "Bearer a.b.c.d", T0, &msg), -1);
	assert_int_equal(hfs_auth_check(a, "Bearer !!.??.**", T0, &msg), -1);
	assert_string_equal(msg, "Invalid token");
	/* a server without users knows no token at all */
	assert_int_equal(hfs_auth_check(NULL, acc, T0, &msg), -1);
	hf_free(acc);
	hf_free(ref);
	hf_free(acc_o);
	hf_free(ref_o);
	hfs_auth_free(a);
	hfs_auth_free(other);
}

static void test_srv_auth__method(void **state)
{
	hfs_auth *a = users("alice:s3cret");
	json_t *j = NULL;
	int status = 0;

	(void)state;
	assert_int_equal(hfs_auth_rest(a, "GET", "/api/auth/login", NULL, NULL,
	                               0, T0, &status, &j),
	                 0);
	assert_int_equal(status, 405);
	assert_string_equal(json_string_value(json_object_get(j, "detail")),
	                    "Method Not Allowed");
	json_decref(j);
	assert_true(hfs_auth_is_endpoint("/api/auth/refresh"));
	assert_false(hfs_auth_is_endpoint("/api/auth/other"));
	hfs_auth_free(a);
}

/* Over HTTP: `hubform serve` with users requires a login, accepts it. */
static void test_srv_auth__serve(void **state)
{
	const char *dir = hf_test_tmpdir("srv_auth");
	const char *hdr[2] = { NULL, NULL };
	struct hf_served s;
	char db[600], url[300], h[4200], *resp = NULL;
	json_t *j;
	long status = 0;

	(void)state;
	snprintf(db, sizeof(db), "%s/a.db", dir);
	setenv("HUBFORM_SERVE_USERS", "alice:s3cret", 1);
	assert_int_equal(hf_serve_start(&s, db, NULL), 0);
	unsetenv("HUBFORM_SERVE_USERS");
	snprintf(url, sizeof(url), "%s/api/info", s.url);
	assert_int_equal(hf_http("GET", url, NULL, NULL, &status, &resp), 0);
	assert_int_equal(status, 401);
	assert_non_null(strstr(resp, "Authentication is required"));
	hf_free(resp);
	snprintf(url, sizeof(url), "%s/api/auth/login", s.url);
	assert_int_equal(
	        hf_http("POST", url,
	                "{\"username\":\"alice\",\"password\":\"s3cret\"}",
	                NULL, &status, &resp),
	        0);
	assert_int_equal(status, 200);
	j = json_loads(resp, 0, NULL);
	hf_free(resp);
	snprintf(h, sizeof(h), "Authorization: Bearer %s",
	         json_string_value(json_object_get(j, "access_token")));
	json_decref(j);
	hdr[0] = h;
	snprintf(url, sizeof(url), "%s/graphql", s.url);
	assert_int_equal(hf_http("POST", url,
	                         "{\"query\":\"{ BuiltinTag { count } }\"}",
	                         hdr, &status, &resp),
	                 0);
	assert_int_equal(status, 200);
	assert_non_null(strstr(resp, "\"count\":0"));
	hf_free(resp);
	/* a broken signature: one of its characters changed, whatever it was */
	h[strlen(h) - 2] = h[strlen(h) - 2] == 'x' ? 'y' : 'x';
	assert_int_equal(hf_http("POST", url,
	                         "{\"query\":\"{ BuiltinTag { count } }\"}",
	                         hdr, &status, &resp),
	                 0);
	assert_int_equal(status, 401);
	assert_non_null(strstr(resp, "Invalid token"));
	hf_free(resp);
	assert_int_equal(hf_serve_stop(&s), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_srv_auth__users_spec),
		cmocka_unit_test(test_srv_auth__login),
		cmocka_unit_test(test_srv_auth__expiry_and_refresh),
		cmocka_unit_test(test_srv_auth__bad_tokens),
		cmocka_unit_test(test_srv_auth__method),
		cmocka_unit_test(test_srv_auth__serve),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
