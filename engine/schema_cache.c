/*
 * Schema answers cached by hash: the summary's "main" hash names a file
 * that holds the whole answer; a hit skips the server's work and the
 * transfer of the full schema.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "hf/schema_cache.h"
#include "hf/banned.h"

/* A hash is a file name only when it is hex (server text goes no further). */
static int hash_ok(const char *h)
{
	size_t i, n = h ? strlen(h) : 0;

	if (n < 8 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!((h[i] >= '0' && h[i] <= '9') ||
		      (h[i] >= 'a' && h[i] <= 'f')))
			return 0;
	return 1;
}

/* GET /api/schema/summary's "main", or "" (older server, odd answer). */
static void summary_hash(hf_transport *t, const char *branch, char out[65])
{
	struct hf_tx_request rq = HF_TX_REQUEST_INIT;
	json_t *answer = NULL;
	hf_error e = HF_ERROR_INIT;
	const char *h;

	out[0] = '\0';
	rq.kind = HF_TX_GET;
	rq.path = "/api/schema/summary";
	rq.branch = branch;
	if (hf_transport_call(t, &rq, &answer, NULL, NULL, &e) == 0) {
		h = json_string_value(json_object_get(answer, "main"));
		if (hash_ok(h))
			snprintf(out, 65, "%s", h);
	}
	json_decref(answer);
}

/* Whether `answer` says it is the schema of `hash`. */
static int same_hash(const json_t *answer, const char *hash)
{
	const char *h = json_string_value(json_object_get(answer, "main"));

	return h && !strcmp(h, hash);
}

static void cache_path(hf_buf *b, const char *dir, const char *hash)
{
	hf_buf_reset(b);
	hf_buf_addf(b, "%s/schema-%s.json", dir, hash);
}

/* The cached answer for `hash`, or NULL. */
static json_t *cache_read(const char *dir, const char *hash)
{
	hf_buf p = HF_BUF_INIT;
	json_t *j = NULL;

	cache_path(&p, dir, hash);
	if (!hf_buf_failed(&p))
		j = json_load_file(p.ptr, 0, NULL);
	hf_buf_release(&p);
	if (j && !same_hash(j, hash)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

/*
 * Remove cached answers beyond HF_SCHEMA_CACHE_KEEP, oldest first, never
 * `keep` (the answer just written).
 */
static void cache_prune(const char *dir, const char *keep)
{
	struct dirent *d;
	hf_buf p = HF_BUF_INIT;
	struct stat sb;
	char *oldest = NULL;
	time_t at = 0;
	int n, pass;
	DIR *dh;

	for (pass = 0; pass < 64; pass++) {
		dh = opendir(dir);
		if (!dh)
			return;
		n = 0;
		while ((d = readdir(dh))) {
			size_t len = strlen(d->d_name);

			if (strncmp(d->d_name, "schema-", 7) || len < 12 ||
			    strcmp(d->d_name + len - 5, ".json"))
				continue;
			n++;
			hf_buf_reset(&p);
			hf_buf_addf(&p, "%s/%s", dir, d->d_name);
			if (hf_buf_failed(&p) || !strcmp(p.ptr, keep) ||
			    stat(p.ptr, &sb) < 0)
				continue;
			if (!oldest || sb.st_mtime < at) {
				hf_free(oldest);
				oldest = hf_strdup(p.ptr);
				at = sb.st_mtime;
			}
		}
		closedir(dh);
		if (n > HF_SCHEMA_CACHE_KEEP && oldest)
			unlink(oldest);
		hf_free(oldest);
		oldest = NULL;
		if (n <= HF_SCHEMA_CACHE_KEEP)
			break;
	}
	hf_buf_release(&p);
}

/*
 * Write `answer` (parsed already) as the cached answer for `hash`, less
 * what the parser never reads: a large answer's filter lists and
 * descriptions are most of its bytes, and of the time a hit takes to
 * decode. `answer` is trimmed in place. 0, or -1 (no cache).
 */
static int cache_write(const char *dir, const char *hash, json_t *answer)
{
	hf_buf tmp = HF_BUF_INIT, p = HF_BUF_INIT;
	int rc = -1;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -1;
	hf_schema_answer_trim(answer);
	cache_path(&p, dir, hash);
	hf_buf_addf(&tmp, "%s.%ld.tmp", p.ptr, (long)getpid());
	if (!hf_buf_failed(&p) && !hf_buf_failed(&tmp) &&
	    json_dump_file(answer, tmp.ptr, JSON_COMPACT) == 0) {
		rc = rename(tmp.ptr, p.ptr) == 0 ? 0 : -1;
		if (rc < 0)
			unlink(tmp.ptr);
	}
	if (rc == 0)
		cache_prune(dir, p.ptr);
	hf_buf_release(&tmp);
	hf_buf_release(&p);
	return rc;
}

static int parse(hf_schema **out, json_t *answer, const char *branch,
                 hf_error *err)
{
	hf_error perr = HF_ERROR_INIT;

	if (hf_schema_parse(out, answer, &perr) == 0)
		return 0;
	return hf_error_set(
	        err, HF_ESERVER,
	        "the schema answer of branch '%s' is not usable: %s",
	        branch ? branch : "", perr.msg);
}

int hf_schema_cache_fetch(hf_schema **out, hf_transport *t, const char *branch,
                          const char *dir, struct hf_schema_cache_info *info,
                          hf_error *err)
{
	struct hf_schema_cache_info dummy;
	struct hf_tx_request rq = HF_TX_REQUEST_INIT;
	json_t *answer = NULL;
	int rc;

	*out = NULL;
	info = info ? info : &dummy;
	memset(info, 0, sizeof(*info));
	if (dir)
		summary_hash(t, branch, info->hash);
	if (info->hash[0]) {
		answer = cache_read(dir, info->hash);
		if (answer) {
			rc = parse(out, answer, branch, err);
			json_decref(answer);
			if (rc == 0) {
				info->hit = 1;
				return 0;
			}
			hf_error_clear(err);
			answer = NULL; /* a bad cached file: ask the server */
		}
	}
	rq.kind = HF_TX_GET;
	rq.path = "/api/schema";
	rq.branch = branch;
	rc = hf_transport_call(t, &rq, &answer, NULL, NULL, err);
	if (rc == 0)
		rc = parse(out, answer, branch, err);
	/* the answer is cached under its own hash, which the summary named */
	if (rc == 0 && info->hash[0] && same_hash(answer, info->hash))
		info->stored = cache_write(dir, info->hash, answer) == 0;
	json_decref(answer);
	return rc;
}
