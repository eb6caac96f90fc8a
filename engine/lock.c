/*
 * The apply lock of a target as a branch in Infrahub (see hf/lock.h).
 * Query text is fixed; names and the holder's description travel as
 * variables.
 */
#include <openssl/rand.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hf/alloc.h"
#include "hf/branch.h"
#include "hf/lock.h"
#include "hf/sha256.h"

#include "hf/banned.h"

struct hf_lock {
	hf_transport *tx; /* borrowed */
	char name[HF_LOCK_NAME_MAX];
	char branch[HF_BRANCH_NAME_MAX];
	char holder[HF_LOCK_HOLDER_MAX];
};

static const char q_create[] =
        "mutation ($name: String!, $description: String!) { BranchCreate("
        "background_execution: false, data: {name: $name, description: "
        "$description, sync_with_git: false}) { ok } }";

static const char q_read[] =
        "query ($name: String) { Branch(name: $name) { name description } }";

/* Infrahub's longest branch name (infrahub-api.md 4.3). */
#define BRANCH_NAME_LIMIT 250

/* ---- names and identity ------------------------------------------------ */

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && !strcmp(s + n - t, tail);
}

int hf_lock_name(const char *branch, char *out, size_t n, hf_error *err)
{
	char hex[65];
	int len;

	if (!branch || !branch[0])
		return hf_error_set(err, HF_EINVAL,
		                    "the lock needs a branch name");
	if (strlen(HF_LOCK_PREFIX) + strlen(branch) <= BRANCH_NAME_LIMIT &&
	    !ends_with(branch, ".lock")) {
		len = snprintf(out, n, "%s%s", HF_LOCK_PREFIX, branch);
	} else {
		hf_sha256_hex(branch, strlen(branch), hex);
		len = snprintf(out, n, "%sh-%.32s", HF_LOCK_PREFIX, hex);
	}
	if (len < 0 || (size_t)len >= n)
		return hf_error_set(err, HF_EINVAL, "lock name too long");
	return 0;
}

static void user_name(const char *given, char *out, size_t n)
{
	struct passwd pw, *res = NULL;
	char buf[1024];
	const char *u = given && given[0] ? given : getenv("USER");

	if (!u || !u[0]) {
		if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) == 0 &&
		    res)
			u = res->pw_name;
	}
	snprintf(out, n, "%s", u && u[0] ? u : "unknown");
}

static void host_name(const char *given, char *out, size_t n)
{
	if (given && given[0]) {
		snprintf(out, n, "%s", given);
		return;
	}
	if (gethostname(out, n) != 0 || !out[0])
		snprintf(out, n, "unknown");
	out[n - 1] = '\0';
}

/*
 * A user or host name as it goes into a holder id: control characters,
 * spaces and the id's separators ('@', ':') become '_', so that every id
 * can be typed back to `hubform lock --break`.
 */
static void tame(char *s)
{
	unsigned char *p = (unsigned char *)s;

	for (; *p; p++)
		if (*p <= 0x20 || *p == 0x7f || *p == '@' || *p == ':')
			*p = '_';
}

/* 8 random hex digits; 0 or HF_ERR. */
static int nonce(char out[9], hf_error *err)
{
	unsigned char b[4];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return hf_error_set(err, HF_ERR,
		                    "no random bytes for the lock id");
	snprintf(out, 9, "%02x%02x%02x%02x", b[0], b[1], b[2], b[3]);
	return 0;
}

static void now_iso(char *out, size_t n)
{
	struct tm tm;
	time_t t = time(NULL);

	if (!gmtime_r(&t, &tm) || !strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, n, "unknown");
}

/* Our identity as recorded: info fields plus the holder id. */
static int self_info(const struct hf_lock_owner *who, struct hf_lock_info *me,
                     hf_error *err)
{
	char nc[9];
	int len, rc;

	memset(me, 0, sizeof(*me));
	user_name(who ? who->user : NULL, me->user, sizeof(me->user));
	host_name(who ? who->host : NULL, me->host, sizeof(me->host));
	tame(me->user);
	tame(me->host);
	me->pid = who && who->pid ? who->pid : (long)getpid();
	if (who && who->plan_id)
		snprintf(me->plan_id, sizeof(me->plan_id), "%s", who->plan_id);
	now_iso(me->since, sizeof(me->since));
	rc = nonce(nc, err);
	if (rc < 0)
		return rc;
	len = snprintf(me->holder_id, sizeof(me->holder_id), "%s@%s:%ld.%s",
	               me->user, me->host, me->pid, nc);
	if (len < 0 || (size_t)len >= sizeof(me->holder_id))
		return hf_error_set(err, HF_EINVAL,
		                    "user or host name too long "
		                    "for the lock");
	me->held = 1;
	return 0;
}

/* The description we store: JSON text (hf_free), or NULL on OOM. */
static char *describe(const struct hf_lock_info *me)
{
	json_t *j =
	        json_pack("{s:i, s:s, s:s, s:s, s:I, s:s, s:s}", "hubform_lock",
	                  1, "holder", me->holder_id, "user", me->user, "host",
	                  me->host, "pid", (json_int_t)me->pid, "plan",
	                  me->plan_id, "since", me->since);
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	char *copy = s ? hf_strdup(s) : NULL;

	free(s);
	json_decref(j);
	return copy;
}

/* ---- reading ----------------------------------------------------------- */

static void copy_field(char *dst, size_t n, const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	snprintf(dst, n, "%s", v ? v : "");
}

/*
 * Whether a description that says it is ours has the types we write:
 * strings (or absent) for the text fields, a non-negative integer (or
 * absent) for the pid. A tampered one is not ours: foreign.
 */
static int well_typed(const json_t *j)
{
	static const char *const text[] = { "user", "host", "plan", "since" };
	const json_t *v, *pid = json_object_get(j, "pid");
	size_t i;

	for (i = 0; i < sizeof(text) / sizeof(*text); i++) {
		v = json_object_get(j, text[i]);
		if (v && !json_is_string(v))
			return 0;
	}
	return !pid || (json_is_integer(pid) && json_integer_value(pid) >= 0);
}

/* Fill `out` (held already set) from a lock branch's description. */
static void parse_description(const char *desc, struct hf_lock_info *out)
{
	json_t *j =
	        desc ? json_loads(desc, JSON_REJECT_DUPLICATES, NULL) : NULL;
	const json_t *pid = json_object_get(j, "pid");

	if (!json_is_object(j) ||
	    !json_is_integer(json_object_get(j, "hubform_lock")) ||
	    json_integer_value(json_object_get(j, "hubform_lock")) != 1 ||
	    !json_is_string(json_object_get(j, "holder")) ||
	    !json_string_length(json_object_get(j, "holder")) ||
	    !well_typed(j)) {
		out->foreign = 1;
		snprintf(out->holder_id, sizeof(out->holder_id), "unknown");
		json_decref(j);
		return;
	}
	copy_field(out->holder_id, sizeof(out->holder_id), j, "holder");
	copy_field(out->user, sizeof(out->user), j, "user");
	copy_field(out->host, sizeof(out->host), j, "host");
	copy_field(out->plan_id, sizeof(out->plan_id), j, "plan");
	copy_field(out->since, sizeof(out->since), j, "since");
	out->pid = json_is_integer(pid) ? (long)json_integer_value(pid) : 0;
	json_decref(j);
}

static int bad_list(hf_error *err, const char *what, const char *name)
{
	return hf_error_set(err, HF_ESERVER,
	                    "malformed answer to the lock query (Branch "
	                    "name %s): %s",
	                    name, what);
}

/*
 * Find branch `name` in an answer's Branch list; NULL when absent. Every
 * entry must be a branch object with a string name, and `name` may come
 * once: anything else is a malformed answer (*bad), never "not held".
 */
static const json_t *find_branch(const json_t *data, const char *name,
                                 hf_error *err, int *bad)
{
	const json_t *list = json_object_get(data, "Branch"), *b, *hit = NULL;
	const char *n;
	size_t i;

	*bad = 0;
	if (!json_is_array(list)) {
		*bad = bad_list(err, "Branch is not a list of branches", name);
		return NULL;
	}
	json_array_foreach(list, i, b)
	{
		n = json_string_value(json_object_get(b, "name"));
		if (!json_is_object(b) || !n) {
			*bad = bad_list(err, "an entry without a string name",
			                name);
			return NULL;
		}
		if (strcmp(n, name))
			continue;
		if (hit) {
			*bad = bad_list(err, "the branch is listed twice",
			                name);
			return NULL;
		}
		hit = b;
	}
	return hit;
}

static int read_name(hf_transport *tx, const char *name,
                     struct hf_lock_info *out, hf_error *err)
{
	struct hf_tx_request rq = HF_TX_REQUEST_INIT;
	json_t *vars = json_pack("{s:s}", "name", name), *data = NULL;
	const json_t *b, *d;
	int rc, bad;

	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", name);
	if (!vars)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	rq.query = q_read;
	rq.variables = vars;
	rq.flags = HF_TX_SERVER_DEFAULT;
	rc = hf_transport_call(tx, &rq, &data, NULL, NULL, err);
	json_decref(vars);
	if (rc < 0)
		return rc;
	b = find_branch(data, name, err, &bad);
	if (b) {
		out->held = 1;
		d = json_object_get(b, "description");
		if (!json_is_null(d) && d && !json_is_string(d))
			bad = hf_error_set(err, HF_ESERVER,
			                   "the lock branch %s has "
			                   "a description that is not a string",
			                   name);
		else
			parse_description(json_string_value(d), out);
	}
	json_decref(data);
	return bad ? bad : 0;
}

int hf_lock_read(hf_transport *tx, const char *branch, struct hf_lock_info *out,
                 hf_error *err)
{
	char name[HF_LOCK_NAME_MAX];
	int rc = hf_lock_name(branch, name, sizeof(name), err);

	if (rc < 0) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	return read_name(tx, name, out, err);
}

/* ---- acquiring --------------------------------------------------------- */

/*
 * One BranchCreate of the lock branch. 0 created, HF_ECONFLICT when the
 * name exists, else the refusal or the transport's failure.
 */
static int try_create(hf_transport *tx, const char *name, const char *desc,
                      hf_error *err)
{
	struct hf_tx_request rq = HF_TX_REQUEST_INIT;
	json_t *vars =
	        json_pack("{s:s, s:s}", "name", name, "description", desc);
	json_t *data = NULL, *errors = NULL;
	const json_t *e;
	const char *msg;
	int rc;

	if (!vars)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	rq.query = q_create;
	rq.variables = vars;
	/* a repeat is recognised: "already exists" with our holder id */
	rq.flags = HF_TX_RETRY | HF_TX_SERVER_DEFAULT;
	rc = hf_transport_call(tx, &rq, &data, &errors, NULL, err);
	json_decref(vars);
	e = json_array_get(errors, 0);
	msg = hf_tx_error_message(e);
	if (rc == 0 && !e &&
	    json_is_true(json_object_get(json_object_get(data, "BranchCreate"),
	                                 "ok")))
		rc = 0;
	else if (e && (rc == 0 || rc == HF_ESERVER))
		rc = hf_error_set(err, hf_tx_error_code(e),
		                  "BranchCreate %s: %s", name,
		                  msg ? msg : "refused");
	else if (rc == 0)
		rc = hf_error_set(err, HF_ESERVER,
		                  "BranchCreate %s: the server "
		                  "did not say ok",
		                  name);
	json_decref(data);
	json_decref(errors);
	return rc;
}

static void say_held(const struct hf_lock_info *in, const char *branch,
                     hf_error *err)
{
	if (in->foreign)
		hf_error_set(err, HF_ECONFLICT,
		             "the apply lock of branch '%s' is "
		             "held: branch %s exists but was not made by "
		             "hubform (holder 'unknown')",
		             branch, in->name);
	else
		hf_error_set(err, HF_ECONFLICT,
		             "the apply lock of branch '%s' is "
		             "held by %s (plan %s, since %s)",
		             branch, in->holder_id,
		             in->plan_id[0] ? in->plan_id : "none",
		             in->since[0] ? in->since : "unknown");
}

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int stopped(const struct hf_lock_owner *who)
{
	return who && who->stop && *who->stop;
}

/* Sleep `s` seconds in short steps, ending early on stop. */
static void pause_for(double s, const struct hf_lock_owner *who)
{
	double end = mono_now() + s, left;
	struct timespec ts;

	while (!stopped(who) && (left = end - mono_now()) > 0) {
		if (left > 0.1)
			left = 0.1;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(left * 1e9);
		nanosleep(&ts, NULL);
	}
}

static int new_lock(hf_transport *tx, const char *name, const char *branch,
                    const char *holder, struct hf_lock **out, hf_error *err)
{
	struct hf_lock *l = hf_calloc(1, sizeof(*l));

	if (!l)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	l->tx = tx;
	snprintf(l->name, sizeof(l->name), "%s", name);
	snprintf(l->branch, sizeof(l->branch), "%s", branch);
	snprintf(l->holder, sizeof(l->holder), "%s", holder);
	*out = l;
	return 0;
}

/*
 * One attempt: create, or find out who holds it. 0 when it is ours now
 * (created, or created by an earlier attempt whose answer was lost);
 * HF_ECONFLICT with *held filled when someone else has it; 1 when it
 * vanished meanwhile (try again at once); else a failure.
 */
static int attempt(hf_transport *tx, const struct hf_lock_info *me,
                   const char *desc, struct hf_lock_info *held, hf_error *err)
{
	int rc = try_create(tx, me->name, desc, err);

	if (rc != HF_ECONFLICT)
		return rc;
	rc = read_name(tx, me->name, held, err);
	if (rc < 0)
		return rc;
	if (!held->held)
		return 1;
	if (!held->foreign && !strcmp(held->holder_id, me->holder_id))
		return 0;
	return HF_ECONFLICT;
}

static int acquire_loop(hf_transport *tx, const char *branch,
                        const struct hf_lock_owner *who, long wait_s,
                        const struct hf_lock_info *me, const char *desc,
                        hf_error *err)
{
	double end = mono_now() + (double)(wait_s > 0 ? wait_s : 0);
	double delay = 0.25, left;
	struct hf_lock_info held;
	int rc, vanished = 0;

	for (;;) {
		rc = attempt(tx, me, desc, &held, err);
		if (rc == 1 && ++vanished < 16)
			continue;
		if (rc == 1)
			memset(&held, 0, sizeof(held)); /* flapping: wait */
		else if (rc != HF_ECONFLICT)
			return rc;
		left = end - mono_now();
		if (stopped(who))
			return hf_error_set(err, HF_ERR,
			                    "interrupted while waiting "
			                    "for the apply lock of branch '%s'",
			                    branch);
		if (left <= 0) {
			say_held(&held, branch, err);
			return HF_ECONFLICT;
		}
		pause_for(delay < left ? delay : left, who);
		delay = delay * 2 > 5 ? 5 : delay * 2;
		vanished = 0;
	}
}

int hf_lock_acquire(hf_transport *tx, const char *branch,
                    const struct hf_lock_owner *who, long wait_s,
                    struct hf_lock **out, hf_error *err)
{
	struct hf_lock_info me;
	char *desc;
	int rc;

	*out = NULL;
	rc = self_info(who, &me, err);
	if (rc == 0)
		rc = hf_lock_name(branch, me.name, sizeof(me.name), err);
	if (rc < 0)
		return rc;
	desc = describe(&me);
	if (!desc)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	rc = acquire_loop(tx, branch, who, wait_s, &me, desc, err);
	hf_free(desc);
	if (rc < 0)
		return rc;
	rc = new_lock(tx, me.name, branch, me.holder_id, out, err);
	if (rc < 0) /* we hold it but cannot say so: give it back */
		(void)hf_branch_op(tx, HF_BRANCH_DELETE, me.name, NULL);
	return rc;
}

const char *hf_lock_holder(const struct hf_lock *l)
{
	return l->holder;
}

const char *hf_lock_branch(const struct hf_lock *l)
{
	return l->name;
}

/* ---- releasing and breaking ------------------------------------------- */

/*
 * Delete lock branch `name` if its holder is `holder`. 0, HF_ENOTFOUND
 * (nobody holds it), HF_ECONFLICT (someone else does; `err` names them),
 * or the transport's failure.
 */
static int delete_if(hf_transport *tx, const char *name, const char *branch,
                     const char *holder, hf_error *err)
{
	struct hf_lock_info in;
	hf_error why = HF_ERROR_INIT;
	int rc = read_name(tx, name, &in, err);

	if (rc < 0)
		return rc;
	if (!in.held)
		return hf_error_set(err, HF_ENOTFOUND,
		                    "no apply holds the lock of "
		                    "branch '%s'",
		                    branch);
	if (strcmp(in.holder_id, holder) != 0) {
		say_held(&in, branch, &why);
		return hf_error_set(err, HF_ECONFLICT, "%s, not by %s", why.msg,
		                    holder);
	}
	rc = hf_branch_op(tx, HF_BRANCH_DELETE, name, err);
	if (rc == HF_ENOTFOUND)
		return hf_error_set(err, HF_ENOTFOUND,
		                    "no apply holds the lock of "
		                    "branch '%s'",
		                    branch);
	return rc;
}

int hf_lock_release(struct hf_lock *l, hf_error *err)
{
	hf_error e = HF_ERROR_INIT;
	int rc;

	if (!l)
		return 0;
	rc = delete_if(l->tx, l->name, l->branch, l->holder, &e);
	if (rc == HF_ECONFLICT)
		hf_error_set(err, rc, "%s", e.msg);
	else if (rc == HF_ENOTFOUND)
		hf_error_set(err, rc,
		             "the apply lock of branch '%s' was already "
		             "gone (broken while held by %s)",
		             l->branch, l->holder);
	else if (rc < 0 && rc != HF_ECONFLICT)
		hf_error_set(
		        err, rc,
		        "the apply lock %s of branch '%s' was not "
		        "released (%s); break it with hubform lock --break "
		        "%s",
		        l->name, l->branch, e.msg, l->holder);
	hf_free(l);
	return rc;
}

int hf_lock_break(hf_transport *tx, const char *branch, const char *holder_id,
                  hf_error *err)
{
	char name[HF_LOCK_NAME_MAX];
	int rc = hf_lock_name(branch, name, sizeof(name), err);

	if (rc < 0)
		return rc;
	if (!holder_id || !holder_id[0])
		return hf_error_set(err, HF_EINVAL,
		                    "breaking a lock needs the "
		                    "holder's id");
	return delete_if(tx, name, branch, holder_id, err);
}
