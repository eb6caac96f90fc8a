/*
 * The apply lock (engine/lock.c): first through a small stateful fake of
 * Infrahub's branch operations (tests/helpers/fake_transport.h with a
 * handler that keeps branches and their descriptions), then against a
 * real `hubform serve` with many threads racing for one lock.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_transport.h"
#include "hf/alloc.h"
#include "hf/branch.h"
#include "hf/client.h"
#include "hf/lock.h"
#include "testutil.h"

/* ---- a fake of Infrahub's branches ------------------------------------- */

struct infra {
	json_t *branches; /* name -> description */
	int creates, reads, deletes;
	int vanish_at_read; /* on this read (1-based), delete every lock */
	int lost_answer; /* creates commit but answer "already exist" */
	int read_not_list; /* Branch answers a string */
	int read_fails; /* reads fail with HF_ENET */
	volatile int *stop_at_read; /* set *stop_at_read on the 2nd read */
};

static json_t *gql_error(int exists, const char *name)
{
	char msg[512];

	if (exists)
		snprintf(msg, sizeof(msg), "The branch %s, already exist",
		         name);
	else
		snprintf(msg, sizeof(msg), "Branch: %s not found.", name);
	return json_pack("{s:n, s:[{s:s}]}", "data", "errors", "message", msg);
}

static json_t *on_create(struct infra *in, const json_t *v)
{
	const char *name = json_string_value(json_object_get(v, "name"));
	const char *desc = json_string_value(json_object_get(v, "description"));

	in->creates++;
	assert_non_null(name);
	assert_non_null(desc);
	if (json_object_get(in->branches, name))
		return gql_error(1, name);
	json_object_set_new(in->branches, name, json_string(desc));
	if (in->lost_answer)
		return gql_error(1, name);
	return json_pack("{s:{s:{s:b}}}", "data", "BranchCreate", "ok", 1);
}

static json_t *on_delete(struct infra *in, const json_t *v)
{
	const char *name = json_string_value(json_object_get(v, "name"));

	in->deletes++;
	if (!json_object_get(in->branches, name))
		return gql_error(0, name);
	json_object_del(in->branches, name);
	return json_pack("{s:{s:{s:b}}}", "data", "BranchDelete", "ok", 1);
}

static json_t *on_read(struct infra *in, const json_t *v)
{
	const char *name = json_string_value(json_object_get(v, "name"));
	json_t *list, *d;

	in->reads++;
	if (in->stop_at_read && in->reads == 2)
		*in->stop_at_read = 1;
	if (in->vanish_at_read && in->reads == in->vanish_at_read)
		json_object_clear(in->branches);
	if (in->read_not_list)
		return json_pack("{s:{s:s}}", "data", "Branch", "nope");
	list = json_array();
	d = name ? json_object_get(in->branches, name) : NULL;
	if (d)
		json_array_append_new(list, json_pack("{s:s, s:O}", "name",
		                                      name, "description", d));
	/* another branch, to show the lock is found by name */
	json_array_append_new(list, json_pack("{s:s, s:s}", "name", "main",
	                                      "description", ""));
	return json_pack("{s:{s:o}}", "data", "Branch", list);
}

static int handler(void *payload, const struct hf_fake_req *r, json_t **answer,
                   hf_error *err)
{
	struct infra *in = payload;

	/* users' values travel as variables, never in the document */
	assert_null(strstr(r->query, "hubform-lock"));
	assert_true(r->flags & HF_TX_SERVER_DEFAULT);
	if (strstr(r->query, "BranchCreate("))
		*answer = on_create(in, r->variables);
	else if (strstr(r->query, "BranchDelete("))
		*answer = on_delete(in, r->variables);
	else if (strstr(r->query, "Branch(name")) {
		if (in->read_fails) {
			in->reads++;
			return hf_error_set(err, HF_ENET, "connection refused");
		}
		*answer = on_read(in, r->variables);
	} else
		return hf_error_set(err, HF_ESERVER, "unexpected %s", r->query);
	return 0;
}

struct fx {
	hf_fake *fake;
	hf_transport *tx;
	struct infra in;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->fake = hf_fake_new();
	assert_non_null(f->fake);
	f->tx = hf_fake_transport(f->fake);
	f->in.branches = json_object();
	assert_int_equal(hf_fake_handler(f->fake, NULL, -1, handler, &f->in),
	                 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	hf_fake_free(f->fake);
	json_decref(f->in.branches);
	free(f);
	return 0;
}

static struct hf_lock_owner owner(const char *user, const char *plan)
{
	struct hf_lock_owner w = HF_LOCK_OWNER_INIT;

	w.user = user;
	w.host = "ci-host";
	w.pid = 4242;
	w.plan_id = plan;
	return w;
}

/* Plant a lock held by someone else, as another runner would. */
static void plant(struct fx *f, const char *name, const char *holder)
{
	char desc[512];

	snprintf(desc, sizeof(desc),
	         "{\"hubform_lock\":1,\"holder\":\"%s\",\"user\":\"bob\","
	         "\"host\":\"other\",\"pid\":7,\"plan\":\"0123abcd4567\","
	         "\"since\":\"2026-12-03T01:00:00Z\"}",
	         holder);
	json_object_set_new(f->in.branches, name, json_string(desc));
}

/* The holder recorded in the fake's lock branch of main is `holder`. */
static void assert_holder(struct fx *f, const char *holder)
{
	const char *desc = json_string_value(
	        json_object_get(f->in.branches, "hubform-lock-main"));
	json_t *d = desc ? json_loads(desc, 0, NULL) : NULL;

	assert_non_null(d);
	assert_string_equal(json_string_value(json_object_get(d, "holder")),
	                    holder);
	json_decref(d);
}

/* ---- unit tests -------------------------------------------------------- */

static void test_name(void **state)
{
	char out[HF_LOCK_NAME_MAX], long_branch[300];
	hf_error err = HF_ERROR_INIT;

	(void)state;
	assert_int_equal(hf_lock_name("main", out, sizeof(out), &err), 0);
	assert_string_equal(out, "hubform-lock-main");
	assert_int_equal(hf_lock_name("feature/new-dc", out, sizeof(out), &err),
	                 0);
	assert_string_equal(out, "hubform-lock-feature/new-dc");
	/* a name ending in .lock is not a valid branch name: hashed */
	assert_int_equal(hf_lock_name("x.lock", out, sizeof(out), &err), 0);
	assert_true(!strncmp(out, "hubform-lock-h-", 15));
	assert_int_equal(strlen(out), 15 + 32);
	memset(long_branch, 'a', 249);
	long_branch[249] = '\0';
	assert_int_equal(hf_lock_name(long_branch, out, sizeof(out), &err), 0);
	assert_true(strlen(out) <= 250);
	assert_true(!strncmp(out, "hubform-lock-h-", 15));
	long_branch[0] = 'b'; /* another branch, another lock */
	{
		char other[HF_LOCK_NAME_MAX];

		assert_int_equal(
		        hf_lock_name(long_branch, other, sizeof(other), &err),
		        0);
		assert_string_not_equal(out, other);
	}
	assert_int_equal(hf_lock_name("", out, sizeof(out), &err), HF_EINVAL);
}

static void test_acquire_read_release(void **state)
{
	struct fx *f = *state;
	struct hf_lock_owner w = owner("alice", "3f2e1d0c9b8a");
	struct hf_lock *l = NULL;
	struct hf_lock_info info;
	hf_error err = HF_ERROR_INIT;
	json_t *d;
	const char *desc;

	assert_int_equal(hf_lock_read(f->tx, "main", &info, &err), 0);
	assert_false(info.held);
	assert_int_equal(hf_lock_acquire(f->tx, "main", &w, 0, &l, &err), 0);
	assert_non_null(l);
	assert_string_equal(hf_lock_branch(l), "hubform-lock-main");
	assert_true(!strncmp(hf_lock_holder(l), "alice@ci-host:4242.", 19));
	assert_int_equal(strlen(hf_lock_holder(l)), 19 + 8);
	assert_int_equal(f->in.creates, 1);

	/* the description is JSON naming holder, plan and time */
	desc = json_string_value(
	        json_object_get(f->in.branches, "hubform-lock-main"));
	assert_non_null(desc);
	d = json_loads(desc, 0, NULL);
	assert_non_null(d);
	assert_string_equal(json_string_value(json_object_get(d, "holder")),
	                    hf_lock_holder(l));
	assert_string_equal(json_string_value(json_object_get(d, "plan")),
	                    "3f2e1d0c9b8a");
	json_decref(d);

	assert_int_equal(hf_lock_read(f->tx, "main", &info, &err), 0);
	assert_true(info.held);
	assert_false(info.foreign);
	assert_string_equal(info.holder_id, hf_lock_holder(l));
	assert_string_equal(info.user, "alice");
	assert_string_equal(info.host, "ci-host");
	assert_int_equal(info.pid, 4242);
	assert_string_equal(info.plan_id, "3f2e1d0c9b8a");
	assert_int_equal(strlen(info.since), 20);
	assert_int_equal(info.since[10], 'T');

	assert_int_equal(hf_lock_release(l, &err), 0);
	assert_int_equal(f->in.deletes, 1);
	assert_int_equal(json_object_size(f->in.branches), 0);
	assert_int_equal(hf_lock_release(NULL, &err), 0);
}

static void test_two_acquisitions_differ(void **state)
{
	struct fx *f = *state;
	struct hf_lock_owner w = owner("alice", NULL);
	struct hf_lock *a = NULL, *b = NULL;
	hf_error err = HF_ERROR_INIT;
	char first[HF_LOCK_HOLDER_MAX];

	assert_int_equal(hf_lock_acquire(f->tx, "main", &w, 0, &a, &err), 0);
	snprintf(first, sizeof(first), "%s", hf_lock_holder(a));
	/* the same user, host and pid again: still refused (a new nonce) */
	assert_int_equal(hf_lock_acquire(f->tx, "main", &w, 0, &b, &err),
	                 HF_ECONFLICT);
	assert_null(b);
	assert_non_null(strstr(err.msg, first));
	assert_int_equal(hf_lock_release(a, &err), 0);
	assert_int_equal(hf_lock_acquire(f->tx, "main", &w, 0, &b, &err), 0);
	assert_string_not_equal(hf_lock_holder(b), first);
	assert_int_equal(hf_lock_release(b, &err), 0);
}

static void test_busy_names_holder(void **state)
{
	struct fx *f = *state;
	struct hf_lock_owner w = owner("alice", "aaaaaaaaaaaa");
	struct hf_lock *l = (struct hf_lock *)&w; /* must become NULL */
	hf_error err = HF_ERROR_INIT;

	plant(f, "hubform-lock-main", "bob@other:7.deadbeef");
	assert_int_equal(hf_lock_acquire(f->tx, "main", &w, 0, &l, &err),
	                 HF_ECONFLICT);
	assert_null(l);
	assert_non_null(strstr(err.msg, "bob@other:7.deadbeef"));
	assert_non_null(strstr(err.msg, "0123abcd4567"));
	assert_non_null(strstr(err.msg, "2026-12-03T01:00:00Z"));
	assert_non_null(strstr(err.msg, "'main'"));
	assert_int_equal(f->in.creates, 1); /* no wait: one attempt */
	/* the other's lock is untouched */
	assert_int_equal(f->in.deletes, 0);
	assert_non_null(json_object_get(f->in.branches, "hubform-lock-main"));
	/* a lock of another branch is another lock */
	assert_int_equal(hf_lock_acquire(f->tx, "feature/x", &w, 0, &l, &err),
	                 0);
	assert_int_equal(hf_lock_release(l, &err), 0);
}

static void test_wait_until_released(void **state)
{
	struct fx *f = *state;
	struct hf_lock_owner w = owner("alice", NULL);
	struct hf_lock *l = NULL;
	hf_error err = HF_ERROR_INIT;

	plant(f, "hubform-lock-main", "bob@other:7.deadbeef");
	f->in.vanish_at_read = 3; /* bob releases while we poll */
	assert_int_equal(hf_lock_acquire(f->tx, "main", &w, 30, &l, &err), 0);
	assert_non_null(l);
	assert_true(f->in.creates >= 3);
	assert_holder(f, hf_lock_holder(l));
	assert_int_equal(hf_lock_release(l, &err), 0);
}

static void test_wait_times_out(void **state)
{
	struct fx *f = *state;
	struct hf_lock_owner w = owner("alice", NULL);
	struct hf_lock *l = NULL;
	hf_error err = HF_ERROR_INIT;

	plant(f, "hubform-lock-main", "bob@other:7.deadbeef");
	assert_int_equal(hf_lock_acquire(f->tx, "main", &w, 1, &l, &err),
	                 HF_ECONFLICT);
	assert_null(l);
	/* polled with backoff: 0.25 s then 0.5 s then the rest */
	assert_true(f->in.creates >= 2 && f->in.creates <= 5);
	assert_non_null(strstr(err.msg, "bob@other:7.deadbeef"));
}

static void test_wait_stopped(void **state)
{
	struct fx *f = *state;
	volatile int stop = 0;
	struct hf_lock_owner w = owner("alice", NULL);
	struct hf_lock *l = NULL;
	hf_error err = HF_ERROR_INIT;

	w.stop = &stop;
	f->in.stop_at_read = &stop;
	plant(f, "hubform-lock-main", "bob@other:7.deadbeef");
	assert_int_equal(hf_lock_acquire(f->tx, "main", &w, 3600, &l, &err),
	                 HF_ERR);
	assert_null(l);
	assert_non_null(strstr(err.msg, "interrupted"));
}

/* The create committed but its answer was lost: the retry says "exists". */
static void test_lost_answer_is_ours(void **state)
{
	struct fx *f = *state;
	struct hf_lock_owner w = owner("alice", NULL);
	struct hf_lock *l = NULL;
	hf_error err = HF_ERROR_INIT;

	f->in.lost_answer = 1;
	assert_int_equal(hf_lock_acquire(f->tx, "main", &w, 0, &l, &err), 0);
	assert_non_null(l);
	assert_int_equal(f->in.creates, 1);
	assert_int_equal(hf_lock_release(l, &err), 0);
	assert_int_equal(json_object_size(f->in.branches), 0);
}

static void test_foreign_branch(void **state)
{
	struct fx *f = *state;
	struct hf_lock_owner w = owner("alice", NULL);
	struct hf_lock *l = NULL;
	struct hf_lock_info info;
	hf_error err = HF_ERROR_INIT;

	json_object_set_new(f->in.branches, "hubform-lock-main",
	                    json_string("made by hand"));
	assert_int_equal(hf_lock_read(f->tx, "main", &info, &err), 0);
	assert_true(info.held);
	assert_true(info.foreign);
	assert_string_equal(info.holder_id, "unknown");
	assert_int_equal(hf_lock_acquire(f->tx, "main", &w, 0, &l, &err),
	                 HF_ECONFLICT);
	assert_non_null(strstr(err.msg, "not made by hubform"));
	assert_int_equal(hf_lock_break(f->tx, "main", "someone", &err),
	                 HF_ECONFLICT);
	assert_int_equal(hf_lock_break(f->tx, "main", "unknown", &err), 0);
	assert_int_equal(json_object_size(f->in.branches), 0);
}

static void test_break(void **state)
{
	struct fx *f = *state;
	struct hf_lock_info info;
	hf_error err = HF_ERROR_INIT;

	assert_int_equal(
	        hf_lock_break(f->tx, "main", "bob@other:7.deadbeef", &err),
	        HF_ENOTFOUND);
	assert_non_null(strstr(err.msg, "no apply holds"));
	plant(f, "hubform-lock-main", "bob@other:7.deadbeef");
	/* a near miss is refused and names the real holder */
	assert_int_equal(hf_lock_break(f->tx, "main", "bob@other:7", &err),
	                 HF_ECONFLICT);
	assert_non_null(strstr(err.msg, "bob@other:7.deadbeef"));
	assert_int_equal(f->in.deletes, 0);
	assert_int_equal(hf_lock_break(f->tx, "main", "", &err), HF_EINVAL);
	assert_int_equal(hf_lock_break(f->tx, "main", NULL, &err), HF_EINVAL);
	assert_int_equal(
	        hf_lock_break(f->tx, "main", "bob@other:7.deadbeef", &err), 0);
	assert_int_equal(hf_lock_read(f->tx, "main", &info, &err), 0);
	assert_false(info.held);
}

static void test_release_after_break(void **state)
{
	struct fx *f = *state;
	struct hf_lock_owner w = owner("alice", NULL);
	struct hf_lock *l = NULL;
	hf_error err = HF_ERROR_INIT;
	char holder[HF_LOCK_HOLDER_MAX];

	/* broken meanwhile: gone */
	assert_int_equal(hf_lock_acquire(f->tx, "main", &w, 0, &l, &err), 0);
	snprintf(holder, sizeof(holder), "%s", hf_lock_holder(l));
	assert_int_equal(hf_lock_break(f->tx, "main", holder, &err), 0);
	assert_int_equal(hf_lock_release(l, &err), HF_ENOTFOUND);
	assert_non_null(strstr(err.msg, "already gone"));

	/* broken and taken by another: that lock stays */
	assert_int_equal(hf_lock_acquire(f->tx, "main", &w, 0, &l, &err), 0);
	snprintf(holder, sizeof(holder), "%s", hf_lock_holder(l));
	assert_int_equal(hf_lock_break(f->tx, "main", holder, &err), 0);
	plant(f, "hubform-lock-main", "bob@other:7.deadbeef");
	f->in.deletes = 0;
	assert_int_equal(hf_lock_release(l, &err), HF_ECONFLICT);
	assert_non_null(strstr(err.msg, "bob@other:7.deadbeef"));
	assert_int_equal(f->in.deletes, 0);
	assert_non_null(json_object_get(f->in.branches, "hubform-lock-main"));
}

static void test_transport_failures(void **state)
{
	struct fx *f = *state;
	struct hf_lock_owner w = owner("alice", NULL);
	struct hf_lock *l = (struct hf_lock *)&w;
	struct hf_lock_info info;
	hf_error err = HF_ERROR_INIT;

	f->in.read_not_list = 1;
	assert_int_equal(hf_lock_read(f->tx, "main", &info, &err), HF_ESERVER);
	assert_non_null(strstr(err.msg, "not a list"));
	f->in.read_not_list = 0;

	/* the lock exists, the read fails: the failure, not "free" */
	plant(f, "hubform-lock-main", "bob@other:7.deadbeef");
	f->in.read_fails = 1;
	assert_int_equal(hf_lock_acquire(f->tx, "main", &w, 0, &l, &err),
	                 HF_ENET);
	assert_null(l);
	assert_int_equal(
	        hf_lock_break(f->tx, "main", "bob@other:7.deadbeef", &err),
	        HF_ENET);
	assert_non_null(json_object_get(f->in.branches, "hubform-lock-main"));
}

static void test_create_refused(void **state)
{
	hf_fake *fake = hf_fake_new();
	struct hf_lock_owner w = owner("alice", NULL);
	struct hf_lock *l = NULL;
	hf_error err = HF_ERROR_INIT;

	(void)state;
	assert_non_null(fake);
	assert_int_equal(
	        hf_fake_answer(fake, "BranchCreate", -1,
	                       "{\"data\": null, \"errors\": [{\"message\":"
	                       " \"permission denied\"}]}"),
	        0);
	assert_int_equal(hf_lock_acquire(hf_fake_transport(fake), "main", &w, 5,
	                                 &l, &err),
	                 HF_ESERVER);
	assert_null(l);
	assert_non_null(strstr(err.msg, "permission denied"));
	assert_int_equal(hf_fake_count(fake), 1); /* no waiting on a refusal */
	hf_fake_clear_log(fake);
	hf_fake_free(fake);

	fake = hf_fake_new();
	assert_int_equal(hf_fake_fail(fake, "BranchCreate", -1, HF_ENET,
	                              "connection refused"),
	                 0);
	assert_int_equal(hf_lock_acquire(hf_fake_transport(fake), "main", &w, 5,
	                                 &l, &err),
	                 HF_ENET);
	assert_null(l);
	hf_fake_free(fake);
}

/* ---- against hubform serve --------------------------------------------- */

struct racer {
	const char *url;
	int index;
	int got;
	int rc;
	char holder[sizeof(((hf_error *)0)->msg)];
	pthread_barrier_t *start;
	pthread_barrier_t *held; /* everyone has tried before release */
};

static hf_client *client_for(const char *url)
{
	struct hf_client_options o = HF_CLIENT_OPTIONS_INIT;
	hf_client *c = NULL;
	hf_error err = HF_ERROR_INIT;

	o.address = url;
	o.timeout = 30;
	assert_int_equal(hf_client_new(&c, &o, &err), 0);
	return c;
}

static void *race(void *arg)
{
	struct racer *r = arg;
	hf_client *c = client_for(r->url);
	char user[32];
	struct hf_lock_owner w = HF_LOCK_OWNER_INIT;
	struct hf_lock *l = NULL;
	hf_error err = HF_ERROR_INIT;

	snprintf(user, sizeof(user), "runner%d", r->index);
	w.user = user;
	pthread_barrier_wait(r->start);
	r->rc = hf_lock_acquire(hf_client_transport(c), "main", &w, 0, &l,
	                        &err);
	r->got = r->rc == 0;
	if (l)
		snprintf(r->holder, sizeof(r->holder), "%s", hf_lock_holder(l));
	else
		snprintf(r->holder, sizeof(r->holder), "%s", err.msg);
	pthread_barrier_wait(r->held);
	if (l)
		r->rc = hf_lock_release(l, &err);
	hf_client_free(c);
	return NULL;
}

#define RACERS 12

static void test_serve_race(void **state)
{
	const char *dir = hf_test_tmpdir("lock-race");
	const char *const extra[] = { "--fault", "latency=20", NULL };
	struct hf_served s;
	struct racer r[RACERS];
	pthread_t th[RACERS];
	pthread_barrier_t start, held;
	char db[1024];
	int i, winners = 0, round;
	struct hf_lock_info info;
	hf_client *c;
	hf_error err = HF_ERROR_INIT;

	(void)state;
	snprintf(db, sizeof(db), "%s/race.db", dir);
	assert_int_equal(hf_serve_start(&s, db, extra), 0);
	for (round = 0; round < 3; round++) {
		pthread_barrier_init(&start, NULL, RACERS);
		pthread_barrier_init(&held, NULL, RACERS);
		for (i = 0; i < RACERS; i++) {
			memset(&r[i], 0, sizeof(r[i]));
			r[i].url = s.url;
			r[i].index = i;
			r[i].start = &start;
			r[i].held = &held;
			assert_int_equal(
			        pthread_create(&th[i], NULL, race, &r[i]), 0);
		}
		winners = 0;
		for (i = 0; i < RACERS; i++)
			pthread_join(th[i], NULL);
		for (i = 0; i < RACERS; i++) {
			if (r[i].got) {
				winners++;
				assert_int_equal(r[i].rc, 0); /* released */
			} else {
				assert_int_equal(r[i].rc, HF_ECONFLICT);
				assert_non_null(
				        strstr(r[i].holder, "held by runner"));
			}
		}
		assert_int_equal(winners, 1);
		pthread_barrier_destroy(&start);
		pthread_barrier_destroy(&held);
	}
	c = client_for(s.url);
	assert_int_equal(
	        hf_lock_read(hf_client_transport(c), "main", &info, &err), 0);
	assert_false(info.held);
	hf_client_free(c);
	assert_int_equal(hf_serve_stop(&s), 0);
}

/* Read, break and hold through the real endpoint; the lock is a branch. */
static void test_serve_read_break(void **state)
{
	const char *dir = hf_test_tmpdir("lock-break");
	struct hf_served s;
	struct hf_lock_owner w = HF_LOCK_OWNER_INIT;
	struct hf_lock *l = NULL, *l2 = NULL;
	struct hf_lock_info info;
	struct hf_branch_info bi;
	hf_error err = HF_ERROR_INIT;
	char db[1024], holder[HF_LOCK_HOLDER_MAX];
	hf_client *c;
	hf_transport *tx;

	(void)state;
	snprintf(db, sizeof(db), "%s/b.db", dir);
	assert_int_equal(hf_serve_start(&s, db, NULL), 0);
	c = client_for(s.url);
	tx = hf_client_transport(c);
	w.plan_id = "0123456789ab";
	assert_int_equal(hf_lock_acquire(tx, "main", &w, 0, &l, &err), 0);
	snprintf(holder, sizeof(holder), "%s", hf_lock_holder(l));
	assert_int_equal(hf_branch_info(tx, "hubform-lock-main", &bi, &err), 0);
	assert_true(bi.exists);
	assert_int_equal(hf_lock_read(tx, "main", &info, &err), 0);
	assert_true(info.held);
	assert_string_equal(info.holder_id, holder);
	assert_string_equal(info.plan_id, "0123456789ab");
	/* waiting one second for a lock nobody releases */
	assert_int_equal(hf_lock_acquire(tx, "main", &w, 1, &l2, &err),
	                 HF_ECONFLICT);
	assert_non_null(strstr(err.msg, holder));
	assert_int_equal(hf_lock_break(tx, "main", "nobody", &err),
	                 HF_ECONFLICT);
	assert_int_equal(hf_lock_break(tx, "main", holder, &err), 0);
	assert_int_equal(hf_lock_release(l, &err), HF_ENOTFOUND);
	assert_int_equal(hf_branch_info(tx, "hubform-lock-main", &bi, &err), 0);
	assert_false(bi.exists);
	hf_client_free(c);
	assert_int_equal(hf_serve_stop(&s), 0);
}

/* `hubform lock`: show the holder, refuse a wrong --break, break it. */
static void test_cli_lock(void **state)
{
	const char *dir = hf_test_tmpdir("lock-cli");
	struct hf_served s;
	struct hf_lock_owner w = HF_LOCK_OWNER_INIT;
	struct hf_lock *l = NULL;
	struct hf_run r;
	hf_error err = HF_ERROR_INIT;
	char db[1024], holder[HF_LOCK_HOLDER_MAX];
	const char *show[] = { "lock", "--address", NULL, NULL };
	const char *brk[] = {
		"lock", "--address", NULL, "--break", NULL, NULL
	};
	const char *bad_branch[] = { "lock",     "--address", NULL,
		                     "--branch", "nope",      NULL };
	hf_client *c;

	(void)state;
	snprintf(db, sizeof(db), "%s/cli.db", dir);
	assert_int_equal(hf_serve_start(&s, db, NULL), 0);
	show[2] = brk[2] = bad_branch[2] = s.url;
	unsetenv("INFRAHUB_ADDRESS");

	assert_int_equal(hf_run(&r, dir, NULL, show), 0);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "no apply holds the lock of"));
	hf_run_release(&r);

	c = client_for(s.url);
	w.user = "carol\033 x:y@z"; /* an id any shell can give back */
	w.plan_id = "feed\033face"; /* what the server holds: escaped */
	assert_int_equal(hf_lock_acquire(hf_client_transport(c), "main", &w, 0,
	                                 &l, &err),
	                 0);
	snprintf(holder, sizeof(holder), "%s", hf_lock_holder(l));
	assert_int_equal(hf_run(&r, dir, NULL, show), 0);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "is held"));
	assert_non_null(strstr(r.out, "plan:        feed\\x1bface"));
	assert_non_null(strstr(r.out, "holder:      carol__x_y_z@"));
	assert_null(strchr(r.out, '\033'));
	hf_run_release(&r);

	brk[4] = "carol@elsewhere:1.00000000";
	assert_int_equal(hf_run(&r, dir, NULL, brk), 0);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "nothing broken"));
	hf_run_release(&r);

	assert_int_equal(hf_run(&r, dir, NULL, bad_branch), 0);
	assert_int_equal(r.status, 1);
	hf_run_release(&r);

	brk[4] = holder;
	assert_int_equal(hf_run(&r, dir, NULL, brk), 0);
	if (r.status)
		fprintf(stderr, "%s", r.err);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.err, "broke the apply lock"));
	hf_run_release(&r);
	assert_int_equal(hf_run(&r, dir, NULL, brk), 0);
	assert_int_equal(r.status, 1); /* nothing left to break */
	hf_run_release(&r);
	assert_int_equal(hf_run(&r, dir, NULL, show), 0);
	assert_non_null(strstr(r.out, "no apply holds the lock of"));
	hf_run_release(&r);
	assert_int_equal(hf_lock_release(l, &err), HF_ENOTFOUND);
	hf_client_free(c);
	assert_int_equal(hf_serve_stop(&s), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name),
		cmocka_unit_test_setup_teardown(test_acquire_read_release,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_acquisitions_differ,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_names_holder, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_wait_until_released, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_wait_times_out, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_wait_stopped, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_lost_answer_is_ours, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_foreign_branch, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_break, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_after_break, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_transport_failures, setup,
		                                teardown),
		cmocka_unit_test(test_create_refused),
		cmocka_unit_test(test_serve_race),
		cmocka_unit_test(test_serve_read_break),
		cmocka_unit_test(test_cli_lock),
	};

	hf_alloc_init();
	if (hf_client_global_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
