/*
 * Username/password login, as the SDK does it (infrahub-api.md 1.2):
 * POST /api/auth/login {"username", "password"} gives an access and a
 * refresh token; the access token goes out as "Authorization: Bearer";
 * a 401 "Expired Signature" is answered by POST /api/auth/refresh with
 * the refresh token as Bearer (a new login when that is refused too),
 * then the request is sent once more.
 *
 * Login and refresh are single blocking transfers on an easy handle of
 * their own, read by the same answer_settle() as every other request, so
 * their failures read like the others and go through the redaction of
 * client_error(). They happen at most once per expiry, not per request:
 * a request sent with an older access token than the current one is sent
 * again without another refresh.
 */
#include <stdio.h>
#include <string.h>

#include "client_int.h"
#include "hf/alloc.h"
#include "hf/banned.h"

static void wipe(char **s)
{
	if (!*s)
		return;
	memset(*s, 0, strlen(*s));
	hf_free(*s);
	*s = NULL;
}

void client_secrets(const hf_client *c, const char *out[5])
{
	size_t n = 0;

	if (c->token && *c->token)
		out[n++] = c->token;
	if (c->password && *c->password)
		out[n++] = c->password;
	if (c->access && *c->access)
		out[n++] = c->access;
	if (c->refresh && *c->refresh)
		out[n++] = c->refresh;
	out[n] = NULL;
}

int client_auth_init(hf_client *c, const struct hf_client_options *o,
                     hf_error *err)
{
	int user = o->username && *o->username;
	int pass = o->password && *o->password;

	if (!user && !pass)
		return 0;
	if (user != pass)
		return hf_error_set(err, HF_EINVAL,
		                    "a %s without a %s: give both or neither",
		                    user ? "username" : "password",
		                    user ? "password" : "username");
	if (o->token && *o->token)
		return hf_error_set(err, HF_EINVAL,
		                    "both an API token and a username and "
		                    "password are set: use one of them");
	c->username = hf_strdup(o->username);
	c->password = hf_strdup(o->password);
	if (!c->username || !c->password)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	return 0;
}

void client_auth_free(hf_client *c)
{
	hf_free(c->username);
	c->username = NULL;
	wipe(&c->password);
	wipe(&c->access);
	wipe(&c->refresh);
}

/* A copy of the client's headers plus "Authorization: Bearer <jwt>". */
static int bearer_headers(hf_client *c, const char *jwt,
                          struct curl_slist **out)
{
	struct curl_slist *l = NULL, *n;
	const struct curl_slist *h;
	hf_buf b = HF_BUF_INIT;
	int rc = 0;

	*out = NULL;
	for (h = c->headers; h; h = h->next) {
		n = curl_slist_append(l, h->data);
		if (!n)
			goto oom;
		l = n;
	}
	if (hf_buf_addf(&b, "Authorization: Bearer %s", jwt) < 0)
		goto oom;
	n = curl_slist_append(l, b.ptr);
	if (!n)
		goto oom;
	*out = n;
	goto out;
oom:
	curl_slist_free_all(l);
	rc = HF_ENOMEM;
out:
	if (b.len)
		memset(b.ptr, 0, b.len);
	hf_buf_release(&b);
	return rc;
}

int client_auth_headers(hf_client *c, struct creq *r)
{
	curl_slist_free_all(r->hdrs);
	r->hdrs = NULL;
	r->auth_gen = c->auth_gen;
	if (!c->access)
		return 0;
	return bearer_headers(c, c->access, &r->hdrs);
}

/* A token we can put in a header: printable ASCII, no spaces. */
static int usable_token(const char *t)
{
	if (!t || !*t)
		return 0;
	for (; *t; t++)
		if ((unsigned char)*t < 0x21 || (unsigned char)*t > 0x7e)
			return 0;
	return 1;
}

/*
 * POST {address}{path} alone, blocking, with `body` (JSON text) and, when
 * `bearer`, that token as Bearer. The answer is settled into r as any
 * other (r->rc, r->err, r->data); the caller frees r.
 */
static int auth_call(hf_client *c, struct creq *r, const char *path,
                     const char *body, const char *bearer)
{
	hf_buf url = HF_BUF_INIT;
	CURLcode cc;
	CURL *e;

	hf_buf_init(&r->resp, c->max_response);
	hf_buf_addf(&url, "%s%s", c->address, path);
	r->kind = CREQ_REST;
	r->method = "POST";
	r->url = hf_buf_detach(&url);
	r->body = hf_strdup(body);
	r->body_len = r->body ? strlen(r->body) : 0;
	r->timeout_ms = c->timeout_ms;
	if (!r->url || !r->body ||
	    (bearer && bearer_headers(c, bearer, &r->hdrs) < 0))
		return client_error(c, &r->err, HF_ENOMEM, "out of memory");
	e = curl_easy_init();
	if (!e)
		return client_error(c, &r->err, HF_ENOMEM, "out of memory");
	client_easy_setup(c, r, e);
	r->attempts = 1;
	c->stats.requests++;
	cc = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
	c->stats.bytes += (long long)r->resp.len;
	curl_easy_cleanup(e);
	answer_settle(c, r, cc);
	return r->rc;
}

/* Take the tokens of a login or refresh answer; the refresh may be absent. */
static int take_tokens(hf_client *c, struct creq *r, const char *what,
                       int want_refresh, hf_error *err)
{
	const char *a =
	        json_string_value(json_object_get(r->data, "access_token"));
	const char *f =
	        json_string_value(json_object_get(r->data, "refresh_token"));
	char *na, *nf = NULL;

	if (!usable_token(a) || (want_refresh && !usable_token(f)))
		return client_error(c, err, HF_ESERVER,
		                    "the %s answer from %s has no usable %s",
		                    what, c->address,
		                    usable_token(a) ? "refresh_token"
		                                    : "access_token");
	na = hf_strdup(a);
	if (want_refresh)
		nf = hf_strdup(f);
	if (!na || (want_refresh && !nf)) {
		wipe(&na);
		wipe(&nf);
		return client_error(c, err, HF_ENOMEM, "out of memory");
	}
	wipe(&c->access);
	c->access = na;
	if (want_refresh) {
		wipe(&c->refresh);
		c->refresh = nf;
	}
	c->auth_gen++;
	return 0;
}

int client_auth_login(hf_client *c, hf_error *err)
{
	json_t *body = json_pack("{s:s, s:s}", "username", c->username,
	                         "password", c->password);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct creq *r = hf_calloc(1, sizeof(*r));
	int rc;

	json_decref(body); /* jansson keeps no copy we could wipe */
	if (!text || !r) {
		rc = client_error(c, err, HF_ENOMEM, "out of memory");
	} else if ((rc = auth_call(c, r, "/api/auth/login", text, NULL)) < 0) {
		rc = client_error(c, err, rc, "login as '%s' failed: %s",
		                  c->username, r->err.msg);
	} else {
		rc = take_tokens(c, r, "login", 1, err);
	}
	if (text)
		memset(text, 0, strlen(text));
	hf_free(text);
	if (r && r->body)
		memset(r->body, 0, r->body_len);
	creq_free(r);
	return rc;
}

/* A new access token from the refresh token, or from a new login. */
static int renew(hf_client *c, hf_error *err)
{
	struct creq *r = c->refresh ? hf_calloc(1, sizeof(*r)) : NULL;
	int rc = HF_EAUTH;

	if (r && auth_call(c, r, "/api/auth/refresh", "", c->refresh) == 0)
		rc = take_tokens(c, r, "refresh", 0, err);
	creq_free(r);
	if (rc == 0)
		return 0;
	/* the refresh token expired or was invalidated: log in again */
	return client_auth_login(c, err);
}

int client_auth_renew(hf_client *c, struct creq *r)
{
	char msg[sizeof(r->err.msg)];
	hf_error e = HF_ERROR_INIT;

	if (!c->username || r->auth_retried)
		return 0;
	r->auth_retried = 1;
	if (r->auth_gen != c->auth_gen)
		return 1; /* another request renewed it meanwhile */
	if (renew(c, &e) == 0)
		return 1;
	snprintf(msg, sizeof(msg), "%s", r->err.msg);
	client_error(c, &r->err, r->rc, "%s; renewing the login failed: %s",
	             msg, e.msg);
	return 0;
}
