/*
 * The plan pipeline as the commands run it. Words for the user are
 * chosen here; the engine only returns values and diagnostics.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "hf/diff.h"
#include "hf/fetch.h"
#include "hf/resolve.h"
#include "hf/sha256.h"
#include "hf/yjson.h"
#include "output.h"
#include "pipeline.h"
#include "hf/banned.h"

/*
 * Print a diagnostic once: objects made by range expansion share their
 * nodes, so one bad value would otherwise be reported once per copy.
 */
static json_t *printed;

static int seen_before(const hf_error *e)
{
	char key[1024];

	if (!printed)
		printed = json_object();
	snprintf(key, sizeof(key), "%s:%d:%d:%s", e->where, e->line, e->col, e->msg);
	if (!printed || json_object_get(printed, key))
		return printed != NULL;
	json_object_set_new(printed, key, json_true());
	return 0;
}

static void print_diag(const hf_error *e, int warning)
{
	if (seen_before(e))
		return;
	if (e->where[0] && e->line > 0)
		out_info("%s:%d:%d: %s%s", e->where, e->line, e->col,
			 warning ? "warning: " : "", e->msg);
	else if (e->where[0])
		out_info("%s: %s%s", e->where, warning ? "warning: " : "", e->msg);
	else if (warning)
		out_warn("%s", e->msg);
	else
		out_error("%s", e->msg);
}

int hf_pipeline_load(struct hf_pipeline *pl, const char *const *paths,
		     size_t n, int schema_files)
{
	enum hf_mdiag_level lvl;
	size_t i;

	if (hf_manifest_new(&pl->manifest) < 0) {
		out_error("out of memory");
		return -1;
	}
	for (i = 0; i < n; i++)
		hf_manifest_add_path(pl->manifest, paths[i], NULL);
	for (i = 0; i < hf_manifest_diag_count(pl->manifest); i++) {
		const hf_error *e = hf_manifest_diag_at(pl->manifest, i, &lvl);

		/* schema files are what `schema load` expects to read */
		if (schema_files && lvl == HF_MDIAG_WARNING)
			continue;
		print_diag(e, lvl == HF_MDIAG_WARNING);
	}
	return hf_manifest_error_count(pl->manifest) ? -1 : 0;
}

/* Percent-encode a query-string value (RFC 3986 unreserved kept). */
static char *escape(const char *s)
{
	hf_buf b = HF_BUF_INIT;

	for (; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("-._~", *s))
			hf_buf_addch(&b, *s);
		else
			hf_buf_addf(&b, "%%%02X", (unsigned char)*s);
	}
	return hf_buf_detach(&b);
}

static char *read_all(const char *path, size_t *len)
{
	hf_buf b = HF_BUF_INIT;
	char tmp[65536];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (!f)
		return NULL;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		hf_buf_addn(&b, tmp, n);
	fclose(f);
	*len = b.len;
	return hf_buf_detach(&b);
}

static int fetch_schema(struct hf_pipeline *pl)
{
	hf_error err = HF_ERROR_INIT;
	json_t *answer = NULL;
	char path[600], *b;
	long status;
	int rc;

	b = escape(pl->target.branch);
	snprintf(path, sizeof(path), "/api/schema?branch=%s", b ? b : "main");
	hf_free(b);
	rc = hf_client_get(pl->client, path, &answer, &status, &err);
	if (rc == 0 && status != 200) {
		out_error("cannot read the schema of branch '%s' from %s (HTTP %ld)",
			  pl->target.branch, pl->target.address, status);
		rc = -1;
	} else if (rc < 0) {
		out_error("cannot read the schema from %s: %s",
			  pl->target.address, err.msg);
	} else if (hf_schema_parse(&pl->schema, answer, &err) < 0) {
		out_error("the schema answer of %s is not usable: %s",
			  pl->target.address, err.msg);
		rc = -1;
	}
	json_decref(answer);
	return rc < 0 ? -1 : 0;
}

int hf_pipeline_connect_schema(struct hf_pipeline *pl)
{
	hf_schema_free(pl->schema);
	pl->schema = NULL;
	return fetch_schema(pl);
}

int hf_pipeline_connect(struct hf_pipeline *pl,
			const struct hf_pipeline_opts *po)
{
	struct hf_target_opts to = { po->address, po->branch, po->data,
				     po->embedded };
	struct hf_client_options co = HF_CLIENT_OPTIONS_INIT;
	hf_error err = HF_ERROR_INIT;

	if (hf_target_open(&pl->target, &to) < 0)
		return -1;
	pl->connected = 1;
	hf_client_global_init();
	co.address = pl->target.address;
	co.token = pl->target.token;
	co.branch = pl->target.branch;
	co.insecure = po->insecure;
	co.timeout = po->timeout;
	co.parallelism = po->parallelism;
	co.deadline_ms = po->deadline * 1000;
	co.retries = po->retries;
	if (hf_client_new(&pl->client, &co, &err) < 0) {
		out_error("%s", err.msg);
		return -1;
	}
	return fetch_schema(pl);
}

/* HUBFORM_TIMING=1 prints how long each stage took, on stderr. */
static void stage(const char *name)
{
	static double last;
	struct timespec ts;
	double now;

	if (!getenv("HUBFORM_TIMING"))
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	if (last > 0) {
		struct rusage ru;

		getrusage(RUSAGE_SELF, &ru);
		out_info("timing: %-8s %.3f s, peak RSS %ld KiB", name,
			 now - last, ru.ru_maxrss);
	}
	last = now;
}

static void resolve_diag(void *payload, enum hf_mdiag_level lvl,
			 const hf_error *e)
{
	(void)payload;
	print_diag(e, lvl == HF_MDIAG_WARNING);
}

static void fetch_diag(void *payload, const hf_error *e)
{
	(void)payload;
	print_diag(e, 0);
}

static void digest(struct hf_pipeline *pl, char out[65])
{
	struct hf_sha256 c;
	unsigned char d[32];
	size_t i, len;
	char *text;
	const char *path;

	hf_sha256_init(&c);
	for (i = 0; i < hf_manifest_file_count(pl->manifest); i++) {
		path = hf_mfile_path(hf_manifest_file_at(pl->manifest, i));
		text = read_all(path, &len);
		hf_sha256_update(&c, path, strlen(path) + 1);
		if (text)
			hf_sha256_update(&c, text, len);
		hf_free(text);
	}
	hf_sha256_final(&c, d);
	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static int build_plan(struct hf_pipeline *pl)
{
	hf_error err = HF_ERROR_INIT;
	struct hf_plan_meta *m;

	if (hf_plan_new(&pl->plan, pl->target.address, pl->target.branch, &err) < 0 ||
	    hf_diff(pl->plan, pl->want, pl->have, pl->schema, &err) < 0) {
		out_error("%s", err.msg);
		return -1;
	}
	m = hf_plan_meta(pl->plan);
	snprintf(m->schema_hash, sizeof(m->schema_hash), "%s",
		 hf_schema_hash(pl->schema) ? hf_schema_hash(pl->schema) : "");
	digest(pl, m->manifest_digest);
	if (hf_plan_finish(pl->plan, &err) < 0) {
		out_error("%s", err.msg);
		return -1;
	}
	return 0;
}

int hf_pipeline_plan(struct hf_pipeline *pl, const struct hf_pipeline_opts *po,
		     const char *const *paths, size_t n)
{
	struct hf_fetch_opts fo = HF_FETCH_OPTS_INIT;
	hf_error err = HF_ERROR_INIT;
	int rc;

	stage("start");
	if (hf_pipeline_load(pl, paths, n, 0) < 0)
		return -1;
	stage("load");
	if (hf_pipeline_connect(pl, po) < 0)
		return -1;
	stage("schema");
	if (hf_pipeline_resolve(pl, po) < 0)
		return -1;
	stage("resolve");
	rc = hf_fetch(&pl->have, pl->want, pl->schema, &fo, hf_client_batch,
		      pl->client, fetch_diag, NULL, NULL, &err);
	if (rc < 0) {
		out_error("%s", err.msg);
		return -1;
	}
	stage("fetch");
	rc = build_plan(pl);
	stage("diff");
	/* The plan holds what it needs; give the rest back before saving. */
	hf_objset_free(pl->want);
	hf_objset_free(pl->have);
	pl->want = pl->have = NULL;
	return rc;
}

void hf_pipeline_release(struct hf_pipeline *pl)
{
	hf_plan_free(pl->plan);
	hf_objset_free(pl->want);
	hf_objset_free(pl->have);
	hf_schema_free(pl->schema);
	hf_manifest_free(pl->manifest);
	hf_client_free(pl->client);
	if (pl->connected) {
		hf_target_close(&pl->target);
		hf_client_global_cleanup();
	}
	memset(pl, 0, sizeof(*pl));
	json_decref(printed);
	printed = NULL;
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
			out_info("%s:%d:%d: %s", err.where, err.line, err.col, err.msg);
			json_decref(all);
			return NULL;
		}
		json_array_append_new(all, j);
	}
	return all;
}

static void print_422(const json_t *res)
{
	json_t *e, *errs = json_object_get(res, "errors");
	size_t i;
	char *loc;

	json_array_foreach(json_object_get(res, "detail"), i, e)
	{
		loc = json_dumps(json_object_get(e, "loc"), JSON_COMPACT);
		out_error("%s at %s", json_string_value(json_object_get(e, "msg")),
			  loc ? loc : "?");
		hf_free(loc);
	}
	json_array_foreach(errs, i, e)
	{
		out_error("%s", json_string_value(json_object_get(e, "message")));
	}
}

int hf_pipeline_schema_load(struct hf_pipeline *pl, json_t *schemas, int quiet)
{
	json_t *body = json_pack("{s:O}", "schemas", schemas), *res = NULL;
	hf_error err = HF_ERROR_INIT;
	char path[512];
	long status;
	int rc;

	snprintf(path, sizeof(path), "/api/schema/load?branch=%s", pl->target.branch);
	rc = hf_client_post_json(pl->client, path, body, &res, &status, &err);
	json_decref(body);
	if (rc < 0) {
		out_error("%s", err.msg);
		return -1;
	}
	if (status != 200) {
		out_error("Infrahub refused the schema (HTTP %ld)", status);
		print_422(res);
		json_decref(res);
		return -1;
	}
	if (!quiet)
		out_info("schema %s: %zu document%s loaded into %s (branch %s), hash %s",
		 json_is_true(json_object_get(res, "schema_updated")) ? "updated" :
									 "unchanged",
		 json_array_size(schemas), json_array_size(schemas) == 1 ? "" : "s",
		 pl->target.address, pl->target.branch,
		 json_string_value(json_object_get(res, "hash")));
	json_decref(res);
	return 0;
}

int hf_pipeline_schema_files(json_t **out, const char *const *paths, size_t n)
{
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
			print_diag(e, 0);
	}
	if (!hf_manifest_error_count(m))
		*out = collect(m);
	if (*out && !json_array_size(*out)) {
		out_error("no schema documents (version: with nodes, generics "
			  "or extensions) found");
		json_decref(*out);
		*out = NULL;
	}
	rc = *out ? 0 : -1;
	hf_manifest_free(m);
	return rc;
}

int hf_pipeline_resolve(struct hf_pipeline *pl, const struct hf_pipeline_opts *po)
{
	struct hf_resolve_opts ro = HF_RESOLVE_OPTS_INIT;
	hf_error err = HF_ERROR_INIT;

	ro.strict = po->strict;
	ro.allow_unkeyed = po->allow_unkeyed;
	if (hf_resolve(&pl->want, pl->manifest, pl->schema, &ro, resolve_diag,
		       NULL, &err) < 0) {
		out_error("%s", err.msg);
		return -1;
	}
	return 0;
}
