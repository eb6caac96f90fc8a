/*
 * libFuzzer harness: the engine reading live state from a hostile or
 * broken server. hf_fetch runs over a scripted transport whose answers
 * are the input: a JSON array of GraphQL response bodies handed out in
 * turn (another JSON value: that one body for every request). The desired
 * objects are fixed (sites, devices with interfaces, a reference to a
 * site that only the server may hold) over the schema of
 * corpus/schema_answer/api_schema_test.json. Whatever the answers, fetch
 * must return a status, never crash, leak or read "no objects" into UB.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "hf/fetch.h"
#include "hf/manifest.h"
#include "hf/model.h"
#include "hf/resolve.h"
#include "hf/schema.h"
#include "hf/transport.h"
#include "fuzz.h"

#define FETCH_MAX_REQUESTS 256

static const char fetch_files[] = "---\n"
                                  "apiVersion: infrahub.app/v1\n"
                                  "kind: Object\n"
                                  "spec:\n"
                                  "  kind: TestSite\n"
                                  "  data:\n"
                                  "    - name: paris\n"
                                  "      description: hq\n"
                                  "    - name: lyon\n"
                                  "---\n"
                                  "apiVersion: infrahub.app/v1\n"
                                  "kind: Object\n"
                                  "spec:\n"
                                  "  kind: TestDevice\n"
                                  "  data:\n"
                                  "    - name: core1\n"
                                  "      role: core\n"
                                  "      asn: 65001\n"
                                  "      site: paris\n"
                                  "      interfaces:\n"
                                  "        kind: TestInterface\n"
                                  "        data:\n"
                                  "          - name: eth0\n"
                                  "          - name: eth1\n"
                                  "            mtu: 9000\n"
                                  "    - name: edge1\n"
                                  "      role: edge\n"
                                  "      site: berlin\n";

/* A transport answering each request with the next scripted body. */
struct fetch_tx {
	hf_transport base;
	void *user[FETCH_MAX_REQUESTS];
	hf_tx_scan_fn scan[FETCH_MAX_REQUESTS];
	size_t nq; /* queued, not yet answered */
	size_t served; /* answered so far */
	const json_t *answers;
	int stopped;
};

static int fetch_submit(hf_transport *t, const struct hf_tx_request *r,
                        hf_error *err)
{
	struct fetch_tx *f = (struct fetch_tx *)t;

	if (f->nq == FETCH_MAX_REQUESTS)
		return hf_error_set(err, HF_ENOMEM, "too many requests");
	f->scan[f->nq] = r->scan;
	f->user[f->nq++] = r->user;
	return 0;
}

/* The answer's text offered to the request's scan, as the client does. */
static int fetch_scanned(hf_tx_scan_fn scan, void *user, const json_t *a,
                         void *payload)
{
	char *text = json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY);
	int took = text ? scan(user, text, strlen(text), payload) : 0;

	hf_free(text);
	return took;
}

static void fetch_answer(struct fetch_tx *f, struct hf_tx_result *res,
                         hf_error *e, hf_tx_scan_fn scan, void *payload)
{
	const json_t *a = json_is_array(f->answers)
	                          ? json_array_get(f->answers, f->served)
	                          : f->answers;

	res->status = 200;
	res->attempts = 1;
	if (f->stopped) {
		res->attempts = 0;
		res->rc = hf_error_set(e, HF_ERR, "not sent");
	} else if (f->served >= FETCH_MAX_REQUESTS || !a) {
		res->rc = hf_error_set(e, HF_ENET, "connection refused");
	} else if (scan && fetch_scanned(scan, res->user, a, payload)) {
		res->scanned = 1;
	} else {
		res->data = json_object_get(a, "data");
		res->errors = json_object_get(a, "errors");
		if (json_is_null(res->data))
			res->data = NULL;
		res->rc =
		        res->data ? 0 : hf_error_set(e, HF_ESERVER, "no data");
	}
	f->served++;
}

static int fetch_run(hf_transport *t, hf_tx_done_fn done, void *payload,
                     hf_error *err)
{
	struct fetch_tx *f = (struct fetch_tx *)t;

	(void)err;
	while (f->nq) {
		struct hf_tx_result res;
		hf_error e = HF_ERROR_INIT;
		size_t i;

		hf_tx_scan_fn scan = f->scan[0];

		memset(&res, 0, sizeof(res));
		res.user = f->user[0];
		for (i = 1; i < f->nq; i++) {
			f->user[i - 1] = f->user[i];
			f->scan[i - 1] = f->scan[i];
		}
		f->nq--;
		fetch_answer(f, &res, &e, scan, payload);
		res.err = &e;
		done(t, &res, payload);
	}
	f->stopped = 0;
	return 0;
}

static void fetch_stop(hf_transport *t)
{
	((struct fetch_tx *)t)->stopped = 1;
}

static void fetch_drop(hf_transport *t)
{
	((struct fetch_tx *)t)->nq = 0;
}

static const struct hf_transport_ops fetch_ops = {
	fetch_submit, fetch_run, fetch_stop, fetch_drop, NULL,
};

static hf_schema *fetch_schema(void)
{
	static hf_schema *s;
	hf_error err = HF_ERROR_INIT;
	json_t *j;

	if (s)
		return s;
	j = json_load_file(
	        HF_SOURCE_DIR
	        "/tests/fuzz/corpus/schema_answer/api_schema_test.json",
	        0, NULL);
	if (!j || hf_schema_parse(&s, j, &err) < 0) {
		fprintf(stderr, "fuzz_fetch: no schema: %s\n", err.msg);
		abort();
	}
	json_decref(j);
	return s;
}

static void fetch_quiet(void *payload, const hf_error *diag)
{
	(void)payload;
	(void)diag;
}

static void fetch_quiet_resolve(void *payload, enum hf_mdiag_level level,
                                const hf_error *diag)
{
	(void)payload;
	(void)level;
	(void)diag;
}

/* A JSON value into `b` (compact, sorted keys), NULL as NULL. */
static void fetch_dump_json(hf_buf *b, const json_t *v)
{
	char *t = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
	                                    JSON_SORT_KEYS)
	            : NULL;

	hf_buf_add(b, t ? t : "NULL");
	hf_free(t);
}

/* Everything the live objects hold, as text. */
static void fetch_dump(hf_buf *b, const hf_objset *have)
{
	const struct hf_object *o;
	const struct hf_field *f;
	size_t i, j, k;

	for (i = 0; have && i < hf_objset_count(have); i++) {
		o = hf_objset_at(have, i);
		hf_buf_addf(b, "%s|%s|", o->kind, o->id ? o->id : "-");
		fetch_dump_json(b, o->hfid);
		for (j = 0; j < o->nfields; j++) {
			f = &o->fields[j];
			hf_buf_addf(b, " %s:%d:%d=", f->name, f->type,
			            f->akind);
			fetch_dump_json(b, f->value);
			hf_buf_addf(b, "%s", f->refs ? "[" : "(");
			for (k = 0; k < f->nrefs; k++) {
				hf_buf_addf(b, " %s %s ", f->refs[k].kind,
				            f->refs[k].id ? f->refs[k].id
				                          : "-");
				fetch_dump_json(b, f->refs[k].hfid);
			}
		}
		hf_buf_add(b, "\n");
	}
}

/*
 * One fetch of the fixed files over `answers`: its status, message and
 * live objects into `out`. `general`: pages read as JSON trees.
 */
static void fetch_once(const json_t *answers, int general, hf_buf *out)
{
	struct hf_resolve_opts ro = HF_RESOLVE_OPTS_INIT;
	struct hf_fetch_opts fo = HF_FETCH_OPTS_INIT;
	struct hf_fetch_stats st;
	struct fetch_tx tx;
	hf_error err = HF_ERROR_INIT;
	hf_manifest *m = NULL;
	hf_objset *want = NULL, *have = NULL;
	hf_schema *s = fetch_schema();
	int rc;

	memset(&tx, 0, sizeof(tx));
	tx.base.ops = &fetch_ops;
	tx.answers = answers;
	fo.page_size = 2; /* several pages from few objects */
	fo.batch_aliases = 2;
	fo.general = general;
	if (hf_manifest_new(&m) == 0 &&
	    hf_manifest_add_buffer(m, "fetch.yml", fetch_files,
	                           sizeof(fetch_files) - 1, NULL) == 0 &&
	    hf_resolve(&want, m, s, &ro, fetch_quiet_resolve, NULL, &err) ==
	            0) {
		rc = hf_fetch(&have, want, s, &fo, &tx.base, fetch_quiet, NULL,
		              &st, &err);
		hf_buf_addf(out, "%d %s\n", rc, err.msg);
		fetch_dump(out, have);
		hf_objset_free(have);
	}
	hf_objset_free(want);
	hf_manifest_free(m);
}

/*
 * Pages read from their text (hf/listing.h) and as JSON trees must give
 * the same status, message and objects: any difference aborts.
 */
HF_FUZZ_ENTRY(fuzz_fetch)(const uint8_t *data, size_t size)
{
	json_t *answers =
	        json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	hf_buf text = HF_BUF_INIT, tree = HF_BUF_INIT;

	if (!answers)
		return 0;
	fetch_once(answers, 0, &text);
	fetch_once(answers, 1, &tree);
	if (!hf_buf_failed(&text) && !hf_buf_failed(&tree) &&
	    (text.len != tree.len || memcmp(text.ptr, tree.ptr, text.len))) {
		fprintf(stderr,
		        "fuzz_fetch: the readings differ\ntext: %s\ntree: %s\n",
		        text.ptr, tree.ptr);
		abort();
	}
	hf_buf_release(&text);
	hf_buf_release(&tree);
	json_decref(answers);
	return 0;
}
