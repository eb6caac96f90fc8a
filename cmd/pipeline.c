/*
 * The plan pipeline as the commands run it. Words for the user are
 * chosen here; the engine only returns values and diagnostics.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/resource.h>
#include <time.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/branch.h"
#include "hf/buf.h"
#include "hf/diff.h"
#include "hf/fetch.h"
#include "hf/owner.h"
#include "hf/planner.h"
#include "hf/resolve.h"
#include "hf/schema_cache.h"
#include "hf/schema_io.h"
#include "hf/store.h"
#include "hf/yjson.h"
#include "output.h"
#include "pipeline.h"
#include "state.h"
#include "hf/banned.h"

/*
 * Print a diagnostic once: objects made by range expansion share their
 * nodes, so one bad value would otherwise be reported once per copy.
 * Errors printed are counted, so that a summary says what the user saw.
 */
static int seen_before(struct hf_diags *d, const hf_error *e)
{
	hf_buf key = HF_BUF_INIT;
	json_t *printed;
	int seen;

	if (!d->printed && !(d->printed = json_object()))
		return 0;
	printed = d->printed;
	hf_buf_addf(&key, "%s:%d:%d:%s", e->where, e->line, e->col, e->msg);
	if (hf_buf_failed(&key)) {
		hf_buf_release(&key);
		return 0;
	}
	seen = json_object_get(printed, key.ptr) != NULL;
	if (!seen)
		json_object_set_new(printed, key.ptr, json_true());
	hf_buf_release(&key);
	return seen;
}

static void print_diag(struct hf_diags *d, const hf_error *e, int warning)
{
	if (seen_before(d, e))
		return;
	if (!warning)
		d->errors++;
	if (e->where[0] && e->line > 0)
		out_info("%s:%d:%d: %s%s", e->where, e->line, e->col,
		         warning ? "warning: " : "", e->msg);
	else if (e->where[0])
		out_info("%s: %s%s", e->where, warning ? "warning: " : "",
		         e->msg);
	else if (warning)
		out_warn("%s", e->msg);
	else
		out_error("%s", e->msg);
}

/* What a failure talking to the target means for the user. */
void cli_pipeline_fail(const struct hf_pipeline *pl, const char *what,
                       const hf_error *e)
{
	char t[HF_TARGET_IDENT_MAX + 300];

	cli_target_describe(pl->target.ident, pl->target.branch, t, sizeof(t));
	out_error("%s %s: %s", what, t, e->msg);
	if (e->code == HF_ENET && pl->target.address_from)
		out_info("hint: is %s right? it names %s",
		         pl->target.address_from, pl->target.ident);
	if (e->code == HF_EAUTH)
		out_info("hint: %s", cli_target_auth_hint(&pl->target));
}

static int load_new(struct hf_pipeline *pl)
{
	if (hf_manifest_new(&pl->manifest) < 0) {
		out_error("out of memory");
		return -1;
	}
	return 0;
}

/*
 * One heap for all of a plan's threads: what a thread keeps and another
 * frees (the read-ahead's answers, the loaded documents) is then reused
 * by what comes after; in heaps of their own it would stay resident
 * beside it (the 100k plan peaked 18 MB higher with the read-ahead's,
 * 60 MB higher with the loader's).
 */
static void one_heap(void)
{
#if defined(__GLIBC__) && defined(M_ARENA_MAX)
	mallopt(M_ARENA_MAX, 1);
#endif
}

/* Files loaded at most this many at once. */
#define LOAD_THREADS 4

struct load_part {
	hf_manifest_load *job;
	size_t k;
};

static void *load_part_main(void *arg)
{
	struct load_part *lp = arg;

	hf_manifest_load_part(lp->job, lp->k);
	return NULL;
}

/*
 * The files, loaded on as many threads as there are processors (up to
 * LOAD_THREADS), each a run of them into a manifest of its own, then put
 * together in order (hf_manifest_load_new()): parsing YAML is the
 * slowest part of loading, and a plan waits for it (100k objects: 0.35 s
 * on one thread). One thread, or no memory to list them: one after the
 * other, as before.
 */
static void load_paths(hf_manifest *m, const char *const *paths, size_t n)
{
	struct load_part lp[LOAD_THREADS];
	pthread_t t[LOAD_THREADS];
	int started[LOAD_THREADS] = { 0 };
	hf_manifest_load *job;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t i, parts;

	parts = cpus < 2              ? 1
	        : cpus > LOAD_THREADS ? LOAD_THREADS
	                              : (size_t)cpus;
	if (parts < 2 || hf_manifest_load_new(&job, m, paths, n, parts) < 0) {
		for (i = 0; i < n; i++)
			hf_manifest_add_path(m, paths[i], NULL);
		return;
	}
	parts = hf_manifest_load_parts(job);
	one_heap();
	for (i = 1; i < parts; i++) {
		lp[i].job = job;
		lp[i].k = i;
		started[i] = pthread_create(&t[i], NULL, load_part_main,
		                            &lp[i]) == 0;
	}
	hf_manifest_load_part(job, 0);
	for (i = 1; i < parts; i++) {
		if (started[i])
			pthread_join(t[i], NULL);
		else
			hf_manifest_load_part(job, i);
	}
	hf_manifest_load_end(job);
}

/* What loading the files found, in words; -1 when any of it is an error. */
static int load_said(struct hf_pipeline *pl, int schema_files)
{
	enum hf_mdiag_level lvl;
	size_t i;

	for (i = 0; i < hf_manifest_diag_count(pl->manifest); i++) {
		const hf_error *e = hf_manifest_diag_at(pl->manifest, i, &lvl);

		/* schema files are what `schema load` expects to read */
		if (schema_files && lvl == HF_MDIAG_WARNING)
			continue;
		print_diag(&pl->diags, e, lvl == HF_MDIAG_WARNING);
	}
	return cli_manifest_usable(pl->manifest);
}

int cli_manifest_usable(const hf_manifest *m)
{
	/* some files or objects were never read: nothing to plan from */
	if (hf_manifest_failed(m)) {
		out_error("out of memory while loading the files");
		return -1;
	}
	return hf_manifest_error_count(m) ? -1 : 0;
}

int cli_pipeline_load(struct hf_pipeline *pl, const char *const *paths,
                      size_t n, int schema_files)
{
	if (load_new(pl) < 0)
		return -1;
	load_paths(pl->manifest, paths, n);
	return load_said(pl, schema_files);
}

static int fetch_schema(struct hf_pipeline *pl)
{
	struct hf_schema_cache_info info;
	hf_error err = HF_ERROR_INIT;

	if (hf_schema_cache_fetch(&pl->schema, hf_client_transport(pl->client),
	                          pl->target.branch,
	                          pl->cache_dir[0] ? pl->cache_dir : NULL,
	                          &info, &err) < 0) {
		cli_pipeline_fail(pl, "cannot read the schema of", &err);
		return -1;
	}
	if (getenv("HUBFORM_TIMING"))
		out_info("timing: schema   %s (hash %s)",
		         info.hit      ? "read from the cache"
		         : info.stored ? "fetched and cached"
		                       : "fetched",
		         info.hash[0] ? info.hash : "none");
	return 0;
}

int cli_pipeline_connect_schema(struct hf_pipeline *pl)
{
	hf_schema_free(pl->schema);
	pl->schema = NULL;
	return fetch_schema(pl);
}

/*
 * Which branch: the one named, which must exist, or the server's default
 * (Branch.is_default), whatever it is called.
 */
static int pick_branch(struct hf_pipeline *pl)
{
	struct hf_target *t = &pl->target;
	struct hf_branch_info bi;
	hf_error err = HF_ERROR_INIT;
	int rc;

	rc = hf_branch_choose(hf_client_transport(pl->client), t->branch, &bi,
	                      t->branch, sizeof(t->branch), &err);
	if (rc == HF_ENOTFOUND && bi.default_name[0]) {
		out_error("branch '%s'%s%s%s does not exist on %s (its default "
		          "branch is '%s'); create it in Infrahub first",
		          t->branch, t->branch_from ? " (from " : "",
		          t->branch_from ? t->branch_from : "",
		          t->branch_from ? ")" : "", t->ident, bi.default_name);
		return -1;
	}
	if (rc < 0) {
		cli_pipeline_fail(pl, "cannot read the branches of", &err);
		return -1;
	}
	snprintf(t->default_branch, sizeof(t->default_branch), "%s",
	         bi.default_name);
	if (hf_client_set_branch(pl->client, t->branch) < 0) {
		out_error("out of memory");
		return -1;
	}
	return 0;
}

static void client_options(const struct hf_pipeline *pl,
                           const struct hf_pipeline_opts *po,
                           struct hf_client_options *co)
{
	cli_target_client_options(&pl->target, co);
	co->insecure = po->insecure;
	co->timeout = po->timeout;
	co->parallelism = po->parallelism;
	co->deadline_ms = po->deadline * 1000;
	co->retries = po->retries;
}

/* The client, on the branch chosen: cli_pipeline_attach() but the schema. */
static int attach_client(struct hf_pipeline *pl,
                         const struct hf_pipeline_opts *po, int create)
{
	struct hf_client_options co = HF_CLIENT_OPTIONS_INIT;
	hf_error err = HF_ERROR_INIT;

	/* the schema cache: the plan store's directory */
	pl->cache_dir[0] = '\0';
	if (!po->no_cache)
		cli_cmd_state_dir(po->state, pl->cache_dir,
		                  sizeof(pl->cache_dir));
	if (cli_target_start(&pl->target, create) < 0)
		return -1;
	client_options(pl, po, &co);
	if (hf_client_new(&pl->client, &co, &err) < 0) {
		out_error("%s", err.msg);
		return -1;
	}
	return pick_branch(pl);
}

int cli_pipeline_attach(struct hf_pipeline *pl,
                        const struct hf_pipeline_opts *po, int create)
{
	if (attach_client(pl, po, create) < 0)
		return -1;
	return fetch_schema(pl);
}

int cli_pipeline_connect(struct hf_pipeline *pl,
                         const struct hf_pipeline_opts *po)
{
	struct hf_target_opts to = { po->address, po->branch, po->data,
		                     po->embedded };

	if (cli_target_resolve(&pl->target, &to) < 0)
		return -1;
	return cli_pipeline_attach(pl, po, 1);
}

/*
 * Progress of a long plan (over PROGRESS_AFTER seconds): on a terminal, a
 * line rewritten in place while fetch and diff run (kinds done, objects
 * read, requests); elsewhere one line per stage when it ends, for logs.
 * HUBFORM_PROGRESS=1 shows it for short plans too, =0 never.
 */
#define PROGRESS_AFTER 2.0

struct progress {
	struct timespec start;
	int tty;
	int mode; /* -1 never, 0 after PROGRESS_AFTER, 1 always */
	double last; /* when the terminal line was last written */
	char stage[32]; /* the stage the line describes */
	char line[256];
};

static double since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) +
	       (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void progress_init(struct progress *pg)
{
	const char *e = getenv("HUBFORM_PROGRESS");

	memset(pg, 0, sizeof(*pg));
	clock_gettime(CLOCK_MONOTONIC, &pg->start);
	pg->tty = isatty(2);
	pg->mode = !e || !*e ? 0 : !strcmp(e, "0") ? -1 : 1;
}

static int progress_due(const struct progress *pg)
{
	return pg->mode > 0 ||
	       (pg->mode == 0 && since(&pg->start) > PROGRESS_AFTER);
}

/* The stage is over: end the terminal line, or log the stage's last state. */
static void progress_flush(struct progress *pg)
{
	if (!pg->line[0])
		return;
	if (pg->tty && pg->last > 0)
		out_progress_end();
	else if (!pg->tty && progress_due(pg))
		out_info("%s (%.1fs)", pg->line, since(&pg->start));
	pg->line[0] = '\0';
	pg->last = 0;
}

static void progress_set(struct progress *pg, const char *stage)
{
	double now;

	snprintf(pg->stage, sizeof(pg->stage), "%s", stage);
	if (!pg->tty || !progress_due(pg))
		return;
	now = since(&pg->start);
	if (pg->last > 0 && now - pg->last < 0.1)
		return;
	pg->last = now;
	out_progress(pg->line);
}

static void fetch_progress(void *payload, const struct hf_fetch_progress *p)
{
	struct progress *pg = payload;

	if (strcmp(pg->stage, "fetch") && pg->line[0])
		progress_flush(pg);
	snprintf(pg->line, sizeof(pg->line),
	         "fetch: %ld/%ld kind%s, %ld live object%s read, %ld request%s",
	         p->kinds_done, p->kinds_total, p->kinds_total == 1 ? "" : "s",
	         p->live_objects, p->live_objects == 1 ? "" : "s", p->requests,
	         p->requests == 1 ? "" : "s");
	progress_set(pg, "fetch");
}

static void diff_progress(void *payload, size_t done, size_t total)
{
	struct progress *pg = payload;

	if (strcmp(pg->stage, "diff"))
		progress_flush(pg);
	snprintf(pg->line, sizeof(pg->line), "diff: %zu/%zu object%s compared",
	         done, total, total == 1 ? "" : "s");
	progress_set(pg, "diff");
}

static double seconds(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

/*
 * HUBFORM_TIMING=1 prints how long each stage took, on stderr: wall
 * time, and the processor time of all hubform's threads in it (less than
 * the wall time while it waits for the server, more while threads work
 * side by side).
 */
void cli_pipeline_stage(struct hf_pipeline *pl, const char *name)
{
	struct timespec ts;
	struct rusage ru;
	double now, cpu;

	if (!getenv("HUBFORM_TIMING"))
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	getrusage(RUSAGE_SELF, &ru);
	now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	cpu = seconds(&ru.ru_utime) + seconds(&ru.ru_stime);
	if (pl->stage_at > 0)
		out_info("timing: %-8s %.3f s (cpu %.3f s), peak RSS %ld KiB",
		         name, now - pl->stage_at, cpu - pl->stage_cpu,
		         ru.ru_maxrss);
	pl->stage_at = now;
	pl->stage_cpu = cpu;
}

static void resolve_diag(void *payload, enum hf_mdiag_level lvl,
                         const hf_error *e)
{
	print_diag(payload, e, lvl == HF_MDIAG_WARNING);
}

static void fetch_diag(void *payload, const hf_error *e)
{
	print_diag(payload, e, 0);
}

/* The --no-adopt refusal, in words. */
static void say_unowned(const hf_planner *p, const char *stack)
{
	const char *names;
	size_t n = hf_planner_unowned(p, &names);

	out_error("%zu object%s in the files already exist%s in Infrahub but "
	          "stack '%s' does not own %s (--no-adopt): %s%s",
	          n, n == 1 ? "" : "s", n == 1 ? "s" : "", stack,
	          n == 1 ? "it" : "them", names,
	          n > HF_PLANNER_NAMES_MAX ? ", ..." : "");
}

/* The engine's planner, in words for each step that failed. */
static int build_plan(struct hf_pipeline *pl, struct progress *pg,
                      hf_planner *p, const char *stack,
                      const struct hf_pipeline_opts *po)
{
	const struct hf_planner_input in = {
		.manifest = pl->manifest,
		.want = pl->want,
		.have = pl->have,
		.address = pl->target.ident,
		.branch = pl->target.branch,
		.default_branch = pl->target.default_branch,
		.progress = diff_progress,
		.payload = pg,
		.consume = 1, /* freed after the plan is built */
		.unsummed = po->unsummed,
		.ahead = 1,
	};
	enum hf_planner_step step;
	hf_error err = HF_ERROR_INIT;
	int rc;

	rc = hf_planner_build(p, &in, &pl->plan, &step, &err);
	pl->orphans = hf_planner_orphans(p);
	if (rc == 0)
		return 0;
	if (step == HF_PLANNER_ADOPT)
		say_unowned(p, stack);
	else if (step == HF_PLANNER_PRUNE && rc == HF_EINVAL)
		out_error("cannot plan the deletes: %s", err.msg);
	else if (step == HF_PLANNER_PRUNE)
		cli_pipeline_fail(pl, "cannot read the objects to delete from",
		                  &err);
	else
		out_error("%s", err.msg);
	return -1;
}

void cli_pipeline_opts_release(struct hf_pipeline_opts *po)
{
	cli_strlist_release(&po->targets);
	cli_strlist_release(&po->excludes);
}

/* --stack, else $HUBFORM_STACK, else "default"; checked. NULL: printed. */
static const char *stack_name(const struct hf_pipeline_opts *po)
{
	const char *env = getenv("HUBFORM_STACK");
	const char *s = po->stack ? po->stack : env && *env ? env : "default";
	hf_error err = HF_ERROR_INIT;

	if (hf_owner_stack_check(s, &err) < 0) {
		out_error("%s%s", err.msg,
		          po->stack ? "" : " (from HUBFORM_STACK)");
		return NULL;
	}
	return s;
}

/* The planner from the options, before the files are read. */
static int own_start(const struct hf_pipeline_opts *po, hf_planner **out,
                     const char **stack)
{
	hf_error err = HF_ERROR_INIT;

	*out = NULL;
	if (po->prune && po->destroy) {
		out_error("--prune and --destroy do not go together: --destroy "
		          "deletes everything the stack owns");
		return -1;
	}
	if (!(*stack = stack_name(po)))
		return -1;
	if (hf_planner_new(out,
	                   &(const struct hf_planner_opts){
	                           .stack = *stack,
	                           .prune = po->prune,
	                           .destroy = po->destroy,
	                           .no_adopt = po->no_adopt,
	                           .targets = po->targets.items,
	                           .n_targets = po->targets.n,
	                           .excludes = po->excludes.items,
	                           .n_excludes = po->excludes.n },
	                   &err) < 0) {
		out_error("%s", err.msg);
		return -1;
	}
	return 0;
}

static void own_failed(struct hf_pipeline *pl, const hf_error *err)
{
	cli_pipeline_fail(pl, "cannot read the stack's group from", err);
}

/*
 * The stack's ownership record is needed only when the plan is built:
 * it is read on a thread of its own, over a client of its own, from the
 * moment the branch is known, beside the schema's (100k members are 20
 * pages: 0.16 s against a server spending 20 ms a request, while a
 * schema fetched, not cached, takes as long to decode). own_join() hands
 * it to the planner.
 */
struct own {
	hf_client *client;
	const char *stack;
	pthread_t thread;
	int started;
	hf_owner *owner;
	int rc;
	hf_error err;
};

static void *own_main(void *arg)
{
	struct own *ow = arg;

	ow->rc = hf_owner_read(&ow->owner, hf_client_transport(ow->client),
	                       ow->stack, 0, &ow->err);
	return NULL;
}

/* The thread and its client started, or nothing (own_check() reads). */
static void own_begin(struct hf_pipeline *pl, const struct hf_pipeline_opts *po,
                      const hf_planner *p, struct own *ow)
{
	struct hf_client_options co = HF_CLIENT_OPTIONS_INIT;
	hf_error err = HF_ERROR_INIT;

	client_options(pl, po, &co);
	if (hf_client_new(&ow->client, &co, &err) < 0)
		return;
	ow->stack = hf_planner_stack(p);
	ow->err = (hf_error)HF_ERROR_INIT;
	if (hf_client_set_branch(ow->client, pl->target.branch) == 0) {
		one_heap();
		ow->started =
		        pthread_create(&ow->thread, NULL, own_main, ow) == 0;
	}
	if (!ow->started) {
		hf_client_free(ow->client);
		ow->client = NULL;
	}
}

/*
 * The addresses against the schema, and the stack's ownership record
 * when no thread reads it: 0, or -1 said.
 */
static int own_check(struct hf_pipeline *pl, hf_planner *p,
                     const struct own *ow)
{
	enum hf_planner_step step;
	hf_error err = HF_ERROR_INIT;
	hf_transport *tr = hf_client_transport(pl->client);

	if (ow->started) {
		if (hf_planner_check(p, pl->schema, tr, &err) == 0)
			return 0;
		out_error("%s", err.msg);
		return -1;
	}
	if (hf_planner_read(p, pl->schema, tr, &step, &err) == 0)
		return 0;
	if (step == HF_PLANNER_OWNER)
		own_failed(pl, &err);
	else
		out_error("%s", err.msg);
	return -1;
}

/* Connected, the record's thread started, the schema read and checked. */
static int attach_own(struct hf_pipeline *pl, const struct hf_pipeline_opts *po,
                      hf_planner *p, struct own *ow)
{
	if (attach_client(pl, po, 1) < 0)
		return -1;
	own_begin(pl, po, p, ow);
	if (fetch_schema(pl) < 0)
		return -1;
	return own_check(pl, p, ow);
}

/*
 * The record read on its thread, to the planner: 0, or -1 said. With no
 * planner (the plan failed before) it is only waited for and dropped.
 */
static int own_join(struct hf_pipeline *pl, hf_planner *p, struct own *ow)
{
	int rc = 0;

	if (!ow->started)
		return 0;
	pthread_join(ow->thread, NULL);
	ow->started = 0;
	hf_client_free(ow->client);
	ow->client = NULL;
	if (ow->rc < 0 && p) {
		own_failed(pl, &ow->err);
		rc = -1;
	} else if (p) {
		hf_planner_own(p, ow->owner);
		ow->owner = NULL;
	}
	hf_owner_free(ow->owner);
	ow->owner = NULL;
	return rc;
}

/*
 * Reading ahead (hf_fetch_warm_new()): the pages of the kinds the files
 * name are read on a thread of their own while the files are resolved,
 * which needs no server; the fetch then takes them. Not for partial
 * plans (--target, --exclude) nor --destroy, which read less, nor with
 * HUBFORM_PREFETCH=0.
 */
struct warm {
	hf_fetch_warm *w;
	hf_transport *tr;
	pthread_t thread;
	int started;
	int rc;
	hf_error err;
};

static void *warm_main(void *arg)
{
	struct warm *wm = arg;

	wm->rc = hf_fetch_warm_run(wm->w, wm->tr, &wm->err);
	return NULL;
}

static void warm_start(struct warm *wm, struct hf_pipeline *pl,
                       const struct hf_pipeline_opts *po,
                       const struct hf_fetch_opts *fo)
{
	const char *env = getenv("HUBFORM_PREFETCH");
	hf_error err = HF_ERROR_INIT;

	memset(wm, 0, sizeof(*wm));
	if (po->targets.n || po->excludes.n || po->destroy ||
	    (env && !strcmp(env, "0")))
		return;
	if (hf_fetch_warm_new(&wm->w, pl->manifest, pl->schema, fo, 0, &err) <
	    0)
		return; /* out of memory: the fetch reads everything itself */
	wm->tr = hf_client_transport(pl->client);
	one_heap();
	wm->started = pthread_create(&wm->thread, NULL, warm_main, wm) == 0;
	if (!wm->started) {
		hf_fetch_warm_free(wm->w);
		wm->w = NULL;
	}
}

/* The read-ahead stopped and over; the transport free again. */
static void warm_join(struct warm *wm)
{
	if (!wm->started)
		return;
	hf_fetch_warm_cancel(wm->w);
	pthread_join(wm->thread, NULL);
	wm->started = 0;
}

static void warm_report(const struct warm *wm)
{
	struct hf_fetch_warm_stats st;

	if (!wm->w || !getenv("HUBFORM_TIMING"))
		return;
	hf_fetch_warm_stats(wm->w, &st);
	out_info("timing: prefetch %ld request%s, %ld of %ld page%s used "
	         "(%ld kind%s)%s%s",
	         st.requests, st.requests == 1 ? "" : "s", st.used, st.pages,
	         st.pages == 1 ? "" : "s", st.kinds, st.kinds == 1 ? "" : "s",
	         wm->rc < 0 ? "; stopped: " : "",
	         wm->rc < 0 ? wm->err.msg : "");
}

/* Resolve, limit to the target, fetch the live counterparts. */
static int read_live(struct hf_pipeline *pl, const struct hf_pipeline_opts *po,
                     const hf_planner *p, struct hf_fetch_opts *fo)
{
	hf_error err = HF_ERROR_INIT;
	struct warm wm;
	int rc;

	warm_start(&wm, pl, po, fo);
	/*
	 * The desired objects hold copies: the resolver drops the documents
	 * once it has built them (consume); only file names and digest stay.
	 */
	rc = cli_pipeline_resolve(pl, po, 1);
	/* the answers in flight are kept; the fetch asks for the rest */
	warm_join(&wm);
	if (rc < 0)
		goto out;
	cli_pipeline_stage(pl, "resolve");
	rc = -1;
	if (hf_planner_filter(p, &pl->want, &err) < 0) {
		out_error("%s", err.msg);
		goto out;
	}
	fo->warm = wm.w;
	rc = hf_fetch(&pl->have, pl->want, pl->schema, fo,
	              hf_client_transport(pl->client), fetch_diag, &pl->diags,
	              NULL, &err);
	fo->warm = NULL;
	warm_report(&wm);
	if (rc == HF_EINVAL)
		out_error("%s", err.msg);
	else if (rc < 0)
		cli_pipeline_fail(pl, "cannot read the live objects of", &err);
	rc = rc < 0 ? -1 : 0;
out:
	hf_fetch_warm_free(wm.w);
	return rc;
}

/*
 * Loading the files needs no server, and connecting and reading the
 * stack's group need no files: against a remote target the files load on
 * a thread of their own meanwhile. The engine prints nothing; what the
 * files say is printed once both are done.
 */
struct loader {
	hf_manifest *m;
	const char *const *paths;
	size_t n;
};

static void *loader_main(void *arg)
{
	struct loader *ld = arg;

	load_paths(ld->m, ld->paths, ld->n);
	return NULL;
}

static int load_and_connect(struct hf_pipeline *pl,
                            const struct hf_pipeline_opts *po,
                            hf_planner *planner, struct own *ow,
                            const char *const *paths, size_t n)
{
	struct loader ld = { NULL, paths, n };
	pthread_t t;
	int threaded, rc;

	if (load_new(pl) < 0)
		return -1;
	ld.m = pl->manifest;
	one_heap();
	threaded = pthread_create(&t, NULL, loader_main, &ld) == 0;
	if (!threaded)
		load_paths(pl->manifest, paths, n);
	rc = attach_own(pl, po, planner, ow);
	cli_pipeline_stage(pl, "schema");
	if (threaded)
		pthread_join(t, NULL);
	cli_pipeline_stage(pl, "load");
	/* the files' errors count even when the server failed too */
	return load_said(pl, 0) < 0 || rc < 0 ? -1 : 0;
}

/* The files, the target's schema and the stack's ownership record. */
static int read_inputs(struct hf_pipeline *pl,
                       const struct hf_pipeline_opts *po, hf_planner *planner,
                       struct own *ow, const char *const *paths, size_t n)
{
	struct hf_target_opts to = { po->address, po->branch, po->data,
		                     po->embedded };

	if (cli_target_resolve(&pl->target, &to) < 0) {
		/* what is wrong with the files is said all the same */
		cli_pipeline_load(pl, paths, n, 0);
		return -1;
	}
	/*
	 * The embedded endpoint answers at once and is made on first use:
	 * no files, no database.
	 */
	if (!pl->target.data[0])
		return load_and_connect(pl, po, planner, ow, paths, n);
	if (cli_pipeline_load(pl, paths, n, 0) < 0)
		return -1;
	cli_pipeline_stage(pl, "load");
	if (attach_own(pl, po, planner, ow) < 0)
		return -1;
	cli_pipeline_stage(pl, "schema");
	return 0;
}

int cli_pipeline_plan(struct hf_pipeline *pl, const struct hf_pipeline_opts *po,
                      const char *const *paths, size_t n)
{
	struct hf_fetch_opts fo = HF_FETCH_OPTS_INIT;
	hf_planner *planner = NULL;
	struct own ow = { 0 };
	const char *stack;
	struct progress pg;
	int rc = -1;

	progress_init(&pg);
	fo.progress = fetch_progress;
	fo.progress_payload = &pg;
	cli_pipeline_stage(pl, "start");
	if (own_start(po, &planner, &stack) < 0)
		goto out;
	if (read_inputs(pl, po, planner, &ow, paths, n) < 0)
		goto out;
	if (read_live(pl, po, planner, &fo) < 0)
		goto out;
	progress_flush(&pg);
	if (own_join(pl, planner, &ow) < 0)
		goto out;
	cli_pipeline_stage(pl, "fetch");
	rc = build_plan(pl, &pg, planner, stack, po);
	progress_flush(&pg);
	cli_pipeline_stage(pl, "diff");
	/* The plan holds what it needs; give the rest back before saving. */
	hf_objset_free(pl->want);
	hf_objset_free(pl->have);
	pl->want = pl->have = NULL;
out:
	/* a failure before: the record is only waited for */
	own_join(pl, NULL, &ow);
	hf_planner_free(planner);
	return rc;
}

/*
 * A large plan is not freed change by change when the command is over:
 * the process gives its memory back whole a moment later, and freeing
 * the 100k changes of a no-change plan took 50-60 ms of its 1.7 s. It is
 * kept where leak checkers see it reachable (git's UNLEAK), and freed
 * when another takes its place.
 */
#define PLAN_KEPT_FROM 10000

static hf_plan *kept_plan;

static void plan_release(hf_plan *p)
{
	if (!p || hf_plan_count(p) < PLAN_KEPT_FROM) {
		hf_plan_free(p);
		return;
	}
	hf_plan_free(kept_plan);
	kept_plan = p;
}

void cli_pipeline_release(struct hf_pipeline *pl)
{
	plan_release(pl->plan);
	hf_objset_free(pl->want);
	hf_objset_free(pl->have);
	hf_schema_free(pl->schema);
	hf_manifest_free(pl->manifest);
	hf_client_free(pl->client);
	cli_target_close(&pl->target);
	json_decref(pl->diags.printed);
	memset(pl, 0, sizeof(*pl));
}

struct summing {
	const hf_plan *plan;
	char sum[65];
	int rc;
};

static void *sum_main(void *arg)
{
	struct summing *sm = arg;

	sm->rc = hf_plan_compute_checksum(sm->plan, sm->sum);
	return NULL;
}

int cli_pipeline_save(struct hf_pipeline *pl, hf_store *st)
{
	struct summing sm = { pl->plan, "", 0 };
	hf_error err = HF_ERROR_INIT;
	pthread_t t;
	int threaded = 0, rc;

	if (hf_plan_meta_c(pl->plan)->checksum[0])
		rc = hf_store_save(st, pl->plan, &err);
	else {
		/* both only read the plan */
		one_heap();
		threaded = pthread_create(&t, NULL, sum_main, &sm) == 0;
		rc = hf_store_save_begin(st, pl->plan, &err);
		if (threaded)
			pthread_join(t, NULL);
		else
			sum_main(&sm);
		if (rc == 0 && sm.rc < 0)
			rc = hf_error_set(&err, sm.rc, "out of memory");
		if (rc == 0) {
			hf_plan_set_checksum(pl->plan, sm.sum);
			rc = hf_store_save_commit(st, pl->plan, &err);
		} else {
			hf_store_save_abort(st);
		}
	}
	if (rc < 0)
		out_error("%s", err.msg);
	return rc < 0 ? -1 : 0;
}

/* Every schema document of the files, as JSON. */
static json_t *collect(hf_manifest *m)
{
	json_t *all = json_array(), *j;
	const hf_mdoc *d;
	hf_error err = HF_ERROR_INIT;
	size_t i;

	for (i = 0; all && i < hf_manifest_doc_count(m); i++) {
		d = hf_manifest_doc_at(m, i);
		if (hf_mdoc_type(d) != HF_MDOC_SCHEMA)
			continue;
		if (hf_yval_json(&j, hf_mdoc_root(d), &err) < 0) {
			out_info("%s:%d:%d: %s", err.where, err.line, err.col,
			         err.msg);
			json_decref(all);
			return NULL;
		}
		json_array_append_new(all, j);
	}
	return all;
}

int cli_pipeline_schema_load(struct hf_pipeline *pl, json_t *schemas, int quiet)
{
	struct hf_schema_load_result res;
	hf_error err = HF_ERROR_INIT;

	if (hf_schema_send(hf_client_transport(pl->client), pl->target.branch,
	                   schemas, &res, &err) < 0) {
		cli_pipeline_fail(pl, "cannot load the schema into", &err);
		return -1;
	}
	if (!quiet)
		out_info(
		        "schema %s: %zu document%s loaded into %s (branch %s), hash %s",
		        res.updated ? "updated" : "unchanged",
		        json_array_size(schemas),
		        json_array_size(schemas) == 1 ? "" : "s",
		        pl->target.ident, pl->target.branch, res.hash);
	return 0;
}

int cli_pipeline_schema_files(json_t **out, const char *const *paths, size_t n)
{
	struct hf_diags diags = { NULL, 0 };
	hf_manifest *m = NULL;
	enum hf_mdiag_level lvl;
	size_t i;
	int rc = -1;

	*out = NULL;
	if (hf_manifest_new(&m) < 0)
		return -1;
	for (i = 0; i < n; i++)
		hf_manifest_add_path(m, paths[i], NULL);
	for (i = 0; i < hf_manifest_diag_count(m); i++) {
		const hf_error *e = hf_manifest_diag_at(m, i, &lvl);

		if (lvl == HF_MDIAG_ERROR)
			print_diag(&diags, e, 0);
	}
	if (cli_manifest_usable(m) == 0)
		*out = collect(m);
	if (*out && !json_array_size(*out)) {
		out_error("no schema documents (version: with nodes, generics "
		          "or extensions) found");
		json_decref(*out);
		*out = NULL;
	}
	rc = *out ? 0 : -1;
	hf_manifest_free(m);
	json_decref(diags.printed);
	return rc;
}

/* Namespaces of Infrahub's own kinds (and the kinds it generates). */
static int builtin_kind(const hf_kind *k)
{
	static const char *const ns[] = { "Account",  "Branch",     "Builtin",
		                          "Core",     "Deprecated", "Diff",
		                          "Infrahub", "Internal",   "Lineage",
		                          "Schema",   "Profile",    "Template",
		                          NULL };
	const char *n = hf_schema_kind_namespace(k);
	size_t i;

	if (!n || !strcmp(hf_schema_kind_name(k), "IpamNamespace"))
		return 1;
	for (i = 0; ns[i]; i++)
		if (!strcmp(n, ns[i]))
			return 1;
	return 0;
}

/*
 * Files that name kinds the target does not know: most often the
 * repository's schema was never loaded there. Say so, and how.
 */
static void hint_unknown_kinds(const struct hf_pipeline *pl)
{
	json_t *unknown = json_object();
	const char *kind, *key;
	hf_buf list = HF_BUF_INIT;
	size_t i, user = 0;
	json_t *v;

	for (i = 0; unknown && i < hf_manifest_object_count(pl->manifest);
	     i++) {
		kind = hf_mobj_kind(hf_manifest_object_at(pl->manifest, i));
		if (kind && !hf_schema_kind(pl->schema, kind))
			json_object_set_new(unknown, kind, json_true());
	}
	for (i = 0; i < hf_schema_count(pl->schema); i++)
		user += !builtin_kind(hf_schema_at(pl->schema, i));
	if (json_object_size(unknown)) {
		json_object_foreach(unknown, key, v)
		{
			hf_buf_addf(&list, "%s%s", list.len ? ", " : "", key);
		}
		out_info("hint: %s of %s: %s",
		         json_object_size(unknown) == 1
		                 ? "this kind is not in the schema"
		                 : "these kinds are not in the schema",
		         pl->target.ident, list.ptr ? list.ptr : "");
		out_info(
		        "hint: %s; load the repository's schema files first: "
		        "hubform schema load PATH...",
		        user ? "check the spelling, or the schema is not loaded yet"
		             : "the target has no schema of its own yet, only "
		               "Infrahub's built-in kinds");
	}
	hf_buf_release(&list);
	json_decref(unknown);
}

int cli_pipeline_resolve(struct hf_pipeline *pl,
                         const struct hf_pipeline_opts *po, int consume)
{
	struct hf_resolve_opts ro = HF_RESOLVE_OPTS_INIT;
	hf_error err = HF_ERROR_INIT;
	int rc;

	ro.strict = po->strict;
	ro.allow_unkeyed = po->allow_unkeyed;
	ro.consume = consume;
	pl->diags.errors = 0;
	rc = hf_resolve(&pl->want, pl->manifest, pl->schema, &ro, resolve_diag,
	                &pl->diags, &err);
	if (rc == HF_EINVAL) {
		/* count what was printed: repeated copies were shown once */
		out_error("%d error%s in the object files", pl->diags.errors,
		          pl->diags.errors == 1 ? "" : "s");
		hint_unknown_kinds(pl);
		return -1;
	}
	if (rc < 0) {
		out_error("%s", err.msg);
		return -1;
	}
	return 0;
}
