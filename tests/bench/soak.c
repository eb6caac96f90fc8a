/*
 * Soak: 32 concurrent writers and readers against one `hubform serve`
 * for a while (default 60 s; `soak SECONDS [THREADS]`). Half the threads
 * write: each creates TestSite objects with names of its own and keeps
 * updating the description of one site it owns; the other half read:
 * the count (never going down as one reader sees it) and a site some
 * writer was told was created (it must be there). At the end every
 * acknowledged create is read back, exactly once, the count equals the
 * acknowledged creates, and each owned site holds its last acknowledged
 * description. Any error, lost or extra write fails the run (exit 1).
 *
 * tests/test_soak.c includes this file (HF_SOAK_NO_MAIN) for a 5-second
 * ctest; this main is the benchmark.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hf/alloc.h"
#include "testutil.h"

#define SOAK_MAX_THREADS 256

struct soak_result {
	long creates; /* acknowledged */
	long updates; /* acknowledged */
	long reads;
	long errors; /* failed requests or answers with errors */
	long lost; /* acknowledged writes not found afterwards */
	long extra; /* objects found that no writer was told about */
	long regress; /* a reader saw the count go down */
	double seconds;
	char first_error[512];
};

struct soak {
	const char *url;
	double until;
	int writers;
	atomic_long acked[SOAK_MAX_THREADS]; /* creates per writer */
	atomic_long version[SOAK_MAX_THREADS]; /* last acked description */
	atomic_long reads, errors, regress, lost_live, updates;
	pthread_mutex_t lock; /* first_error */
	char first_error[512];
};

struct soak_thread {
	struct soak *s;
	int index;
	CURL *curl;
	char endpoint[256];
	unsigned seed;
};

static double soak_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void soak_error(struct soak *s, const char *fmt, const char *detail)
{
	atomic_fetch_add(&s->errors, 1);
	pthread_mutex_lock(&s->lock);
	if (!s->first_error[0])
		snprintf(s->first_error, sizeof(s->first_error), "%s: %.400s",
		         fmt, detail ? detail : "");
	pthread_mutex_unlock(&s->lock);
}

struct soak_buf {
	char *p;
	size_t n;
};

static size_t soak_collect(char *p, size_t size, size_t n, void *payload)
{
	struct soak_buf *b = payload;
	size_t add = size * n;
	char *t = realloc(b->p, b->n + add + 1);

	if (!t)
		return 0;
	memcpy(t + b->n, p, add);
	b->n += add;
	t[b->n] = '\0';
	b->p = t;
	return add;
}

/* One GraphQL request on the thread's connection; the answer's data. */
static json_t *soak_gql(struct soak_thread *t, const char *query, json_t *vars)
{
	json_t *body = json_pack("{s:s, s:o}", "query", query, "variables",
	                         vars ? json_incref(vars) : json_object());
	json_t *res, *data;
	struct soak_buf buf = { NULL, 0 };
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: "
	                                               "application/json");
	char *text = json_dumps(body, JSON_COMPACT);
	long status = 0;
	CURLcode rc;

	curl_easy_setopt(t->curl, CURLOPT_URL, t->endpoint);
	curl_easy_setopt(t->curl, CURLOPT_POSTFIELDS, text);
	curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(t->curl, CURLOPT_WRITEFUNCTION, soak_collect);
	curl_easy_setopt(t->curl, CURLOPT_WRITEDATA, &buf);
	curl_easy_setopt(t->curl, CURLOPT_TIMEOUT, 60L);
	rc = curl_easy_perform(t->curl);
	curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
	res = rc == CURLE_OK && buf.p ? json_loads(buf.p, 0, NULL) : NULL;
	data = json_incref(json_object_get(res, "data"));
	if (rc != CURLE_OK)
		soak_error(t->s, "transport", curl_easy_strerror(rc));
	else if (status != 200 || !json_is_object(data) ||
	         json_object_get(res, "errors"))
		soak_error(t->s, "answer", buf.p);
	if (json_object_get(res, "errors")) {
		json_decref(data);
		data = NULL;
	}
	json_decref(res);
	free(buf.p);
	json_decref(body);
	json_decref(vars);
	free(text);
	curl_slist_free_all(h);
	return data;
}

static void soak_name(char *out, size_t n, int writer, long i)
{
	snprintf(out, n, "soak-w%03d-%07ld", writer, i);
}

static int soak_ok(const json_t *data, const char *op)
{
	return json_is_true(json_object_get(json_object_get(data, op), "ok"));
}

static void soak_write_once(struct soak_thread *t, long *i, long *ver)
{
	static const char create[] =
	        "mutation ($n: String!) { TestSiteCreate(data: {name: {value: "
	        "$n}}) { ok object { id } } }";
	static const char update[] =
	        "mutation ($n: String!, $d: String!) { TestSiteUpsert(data: "
	        "{name: {value: $n}, description: {value: $d}}) { ok } }";
	char name[64], desc[32];
	json_t *d;

	if (*i > 0 &&
	    *i % 4 == 0) { /* the site this writer owns: soak-wNNN-0 */
		soak_name(name, sizeof(name), t->index, 0);
		snprintf(desc, sizeof(desc), "v%ld", *ver + 1);
		d = soak_gql(t, update,
		             json_pack("{s:s, s:s}", "n", name, "d", desc));
		if (soak_ok(d, "TestSiteUpsert")) {
			++*ver;
			atomic_store(&t->s->version[t->index], *ver);
			atomic_fetch_add(&t->s->updates, 1);
		} else if (d) {
			soak_error(t->s, "update not ok", name);
		}
		json_decref(d);
	}
	soak_name(name, sizeof(name), t->index, *i);
	d = soak_gql(t, create, json_pack("{s:s}", "n", name));
	if (soak_ok(d, "TestSiteCreate")) {
		++*i;
		atomic_store(&t->s->acked[t->index], *i);
	} else if (d) {
		soak_error(t->s, "create not ok", name);
	}
	json_decref(d);
}

static void soak_read_once(struct soak_thread *t, long *last_count)
{
	static const char count[] = "query { TestSite { count } }";
	static const char one[] =
	        "query ($n: String) { TestSite(name__value: $n) { count } }";
	char name[64];
	json_t *d;
	long c, acked;
	int w = (int)(rand_r(&t->seed) % (unsigned)t->s->writers);

	atomic_fetch_add(&t->s->reads, 1);
	if (rand_r(&t->seed) % 2) {
		d = soak_gql(t, count, NULL);
		c = (long)json_integer_value(json_object_get(
		        json_object_get(d, "TestSite"), "count"));
		if (d && c < *last_count)
			atomic_fetch_add(&t->s->regress, 1);
		if (d)
			*last_count = c;
		json_decref(d);
		return;
	}
	acked = atomic_load(&t->s->acked[w]);
	if (!acked)
		return;
	soak_name(name, sizeof(name), w,
	          (long)(rand_r(&t->seed) % (unsigned)acked));
	d = soak_gql(t, one, json_pack("{s:s}", "n", name));
	if (d && json_integer_value(json_object_get(
	                 json_object_get(d, "TestSite"), "count")) != 1) {
		atomic_fetch_add(&t->s->lost_live, 1);
		soak_error(t->s, "an acknowledged create is not readable",
		           name);
	}
	json_decref(d);
}

static void *soak_thread_main(void *arg)
{
	struct soak_thread *t = arg;
	long i = 0, ver = 0, last_count = 0;

	while (soak_now() < t->s->until) {
		if (t->index < t->s->writers)
			soak_write_once(t, &i, &ver);
		else
			soak_read_once(t, &last_count);
	}
	return NULL;
}

/*
 * Every TestSite on main, page by page, into `seen` (name -> its
 * description, "" when none); names seen twice counted in *dups.
 */
static int soak_list(struct soak_thread *t, json_t *seen, long *count,
                     long *dups)
{
	static const char page[] =
	        "query ($o: Int, $l: Int) { TestSite(offset: $o, limit: $l) { "
	        "count edges { node { name { value } description { value } } } } }";
	json_t *d, *edges, *e, *node;
	const char *n, *dv;
	long off = 0;
	size_t i, got;

	for (;;) {
		d = soak_gql(t, page,
		             json_pack("{s:I, s:I}", "o", (json_int_t)off, "l",
		                       (json_int_t)1000));
		if (!d)
			return -1;
		*count = (long)json_integer_value(json_object_get(
		        json_object_get(d, "TestSite"), "count"));
		edges = json_object_get(json_object_get(d, "TestSite"),
		                        "edges");
		json_array_foreach(edges, i, e)
		{
			node = json_object_get(e, "node");
			n = json_string_value(json_object_get(
			        json_object_get(node, "name"), "value"));
			dv = json_string_value(json_object_get(
			        json_object_get(node, "description"), "value"));
			if (n && json_object_get(seen, n))
				++*dups;
			else if (n)
				json_object_set_new(seen, n,
				                    json_string(dv ? dv : ""));
		}
		got = json_array_size(edges);
		off += (long)got;
		json_decref(d);
		if (!got || off >= *count)
			return 0;
	}
}

/* After the run: every acknowledged write is there, once; nothing else. */
static void soak_verify(struct soak *s, struct soak_thread *t,
                        struct soak_result *r)
{
	json_t *seen = json_object(), *v;
	char name[64], want[32];
	long count = 0, total = 0, dups = 0, i;
	int w;

	if (soak_list(t, seen, &count, &dups) < 0) {
		r->lost = -1;
		json_decref(seen);
		return;
	}
	for (w = 0; w < s->writers; w++) {
		long acked = atomic_load(&s->acked[w]);

		total += acked;
		for (i = 0; i < acked; i++) {
			soak_name(name, sizeof(name), w, i);
			v = json_object_get(seen, name);
			if (!v)
				r->lost++;
		}
		if (acked) {
			soak_name(name, sizeof(name), w, 0);
			snprintf(want, sizeof(want), "v%ld",
			         atomic_load(&s->version[w]));
			v = json_object_get(seen, name);
			if (atomic_load(&s->version[w]) &&
			    (!json_is_string(v) ||
			     strcmp(json_string_value(v), want)))
				r->lost++;
		}
	}
	/* more objects than acknowledged creates, or one name twice */
	r->extra = count - total + dups;
	if ((long)json_object_size(seen) + dups != count)
		r->extra++; /* the pages did not add up to the count */
	json_decref(seen);
}

static int soak_thread_init(struct soak_thread *t, struct soak *s, int i)
{
	t->s = s;
	t->index = i;
	t->seed = (unsigned)i * 2654435761u + 1;
	snprintf(t->endpoint, sizeof(t->endpoint), "%s/graphql/main", s->url);
	t->curl = curl_easy_init();
	return t->curl ? 0 : -1;
}

/* Run `threads` threads (half writers) for `seconds` against `url`. */
static int soak_run(const char *url, double seconds, int threads,
                    struct soak_result *r)
{
	struct soak *s = calloc(1, sizeof(*s));
	struct soak_thread *t = calloc((size_t)threads + 1, sizeof(*t));
	pthread_t *th = calloc((size_t)threads, sizeof(*th));
	double t0 = soak_now();
	int i, rc = 0;

	memset(r, 0, sizeof(*r));
	if (!s || !t || !th || threads < 2 || threads > SOAK_MAX_THREADS) {
		free(s);
		free(t);
		free(th);
		return -1;
	}
	s->url = url;
	s->writers = threads / 2;
	s->until = t0 + seconds;
	pthread_mutex_init(&s->lock, NULL);
	for (i = 0; i <= threads && rc == 0; i++)
		rc = soak_thread_init(&t[i], s, i);
	for (i = 0; i < threads && rc == 0; i++)
		rc = pthread_create(&th[i], NULL, soak_thread_main, &t[i]);
	while (i-- > 0)
		pthread_join(th[i], NULL);
	r->seconds = soak_now() - t0;
	if (rc == 0)
		soak_verify(s, &t[threads], r);
	for (i = 0; i < threads; i++)
		r->creates += atomic_load(&s->acked[i]);
	r->updates = atomic_load(&s->updates);
	r->reads = atomic_load(&s->reads);
	r->errors = atomic_load(&s->errors);
	r->regress = atomic_load(&s->regress);
	r->lost += atomic_load(&s->lost_live);
	snprintf(r->first_error, sizeof(r->first_error), "%s", s->first_error);
	for (i = 0; i <= threads; i++)
		if (t[i].curl)
			curl_easy_cleanup(t[i].curl);
	pthread_mutex_destroy(&s->lock);
	free(s);
	free(t);
	free(th);
	return rc;
}

/* Start an endpoint over a fresh database and load the test schema. */
static int soak_serve(struct hf_served *srv, const char *dir)
{
	char db[1024], path[1024], url[300], *body, *resp = NULL;
	long status = 0;
	const char *data = hf_test_data();

	snprintf(db, sizeof(db), "%s/soak.db", dir);
	if (!data || hf_serve_start(srv, db, NULL) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/server/schema.json", data);
	body = hf_read_file(path, NULL);
	snprintf(url, sizeof(url), "%s/api/schema/load", srv->url);
	if (!body || hf_http("POST", url, body, NULL, &status, &resp) < 0 ||
	    status != 200) {
		hf_free(body);
		hf_free(resp);
		hf_serve_stop(srv);
		return -1;
	}
	hf_free(body);
	hf_free(resp);
	return 0;
}

static void soak_print(FILE *f, const struct soak_result *r, int threads)
{
	fprintf(f,
	        "soak: %d threads, %.1f s: %ld creates, %ld updates, %ld reads "
	        "(%.0f requests/s); errors %ld, lost %ld, extra %ld, count "
	        "regressions %ld\n",
	        threads, r->seconds, r->creates, r->updates, r->reads,
	        (double)(r->creates + r->updates + r->reads) / r->seconds,
	        r->errors, r->lost, r->extra, r->regress);
	if (r->first_error[0])
		fprintf(f, "soak: first error: %s\n", r->first_error);
}

#ifndef HF_SOAK_NO_MAIN
static int soak_clean(const struct soak_result *r)
{
	return !r->errors && !r->lost && !r->extra && !r->regress && r->creates;
}

int main(int argc, char **argv)
{
	struct hf_served srv;
	struct soak_result r;
	double seconds = argc > 1 ? strtod(argv[1], NULL) : 60;
	int threads = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 32;

	hf_alloc_init();
	curl_global_init(CURL_GLOBAL_ALL);
	if (seconds <= 0 || soak_serve(&srv, hf_test_tmpdir("soak")) < 0) {
		fprintf(stderr, "usage: soak [SECONDS [THREADS]] (needs "
		                "HUBFORM_BIN and HF_TEST_DATA)\n");
		return 2;
	}
	if (soak_run(srv.url, seconds, threads, &r) < 0) {
		fprintf(stderr, "soak: cannot start %d threads\n", threads);
		hf_serve_stop(&srv);
		return 2;
	}
	soak_print(stdout, &r, threads);
	hf_serve_stop(&srv);
	curl_global_cleanup();
	return soak_clean(&r) ? 0 : 1;
}
#endif
