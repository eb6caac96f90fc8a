/*
 * Benchmark of reading a schema (not a test): the time to decode a
 * `GET /api/schema` answer (jansson) and to build hubform's schema from
 * it (hf_schema_parse), best of 5 runs each, for
 *
 *   - the real payloads in $HF_SHARED_DIR/fixtures/infrahub (every
 *     node of rest_schema_kind_node_*.json and generic of
 *     rest_schema_kind_generic_*.json, and the sdk_schema_*.json
 *     answers; skipped when absent), and
 *   - the local endpoint's own schema, Infrahub's built-in kinds (when
 *     HUBFORM_BIN names a hubform to run `hubform serve` from), and
 *   - N generated kinds (default 500) shaped like the real IpamIPAddress
 *     node when that fixture is present (every key a live server sends),
 *     else a plain node: 12 attributes and 4 relationships each, 20
 *     generics they inherit from.
 *
 *   build/tests/bench_schema [N]
 *
 * Each also gives the decode time of its cached form, what a plan
 * decodes when the schema hash is unchanged (hf_schema_answer_trim).
 *
 * Target (issue 12): a large repository's schema under 100 ms.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hf/alloc.h"
#include "hf/schema.h"
#include "testutil.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static json_t *fixture(const char *name)
{
	char path[1024];
	const char *dir = hf_test_shared();

	if (!dir)
		return NULL;
	snprintf(path, sizeof(path), "%s/fixtures/infrahub/%s", dir, name);
	return json_load_file(path, 0, NULL);
}

/* A node named Gen<i> in namespace Bench, copied from `model` when given. */
static json_t *gen_node(const json_t *model, long i, long ngen)
{
	char name[32], kind[64], peer[64];
	json_t *n, *attrs, *rels, *a, *r;
	long j;

	snprintf(name, sizeof(name), "Kind%ld", i);
	snprintf(kind, sizeof(kind), "Bench%s", name);
	n = model ? json_deep_copy(model) : json_object();
	json_object_set_new(n, "name", json_string(name));
	json_object_set_new(n, "namespace", json_string("Bench"));
	json_object_set_new(n, "kind", json_string(kind));
	json_object_set_new(n, "human_friendly_id",
	                    json_pack("[s]", "name__value"));
	snprintf(peer, sizeof(peer), "BenchGeneric%ld", i % ngen);
	json_object_set_new(n, "inherit_from", json_pack("[s]", peer));
	attrs = json_array();
	for (j = 0; j < 12; j++) {
		char an[32];

		snprintf(an, sizeof(an), j ? "attr%ld" : "name", j);
		a = json_pack(
		        "{s:s, s:s, s:b, s:b, s:s, s:n, s:n, s:n, s:n, s:n,"
		        " s:b, s:b, s:s, s:i}",
		        "name", an, "kind", j % 3 ? "Text" : "Number", "unique",
		        j == 0, "optional", j != 0, "branch", "aware",
		        "default_value", "regex", "min_length", "max_length",
		        "enum", "read_only", 0, "inherited", 0, "label", an,
		        "order_weight", (int)(1000 + j));
		json_array_append_new(attrs, a);
	}
	json_object_set_new(n, "attributes", attrs);
	rels = json_array();
	for (j = 0; j < 4; j++) {
		char rn[32];

		snprintf(rn, sizeof(rn), "rel%ld", j);
		snprintf(peer, sizeof(peer), "BenchKind%ld", (i + j + 1) % 500);
		r = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:n, s:b}",
		              "name", rn, "peer", peer, "cardinality",
		              j % 2 ? "many" : "one", "kind", "Generic",
		              "optional", 1, "direction", "bidirectional",
		              "branch", "aware", "identifier", "inherited", 0);
		json_array_append_new(rels, r);
	}
	json_object_set_new(n, "relationships", rels);
	return n;
}

static json_t *generated(long nkinds)
{
	json_t *model = fixture("rest_schema_kind_node_IpamIPAddress.json");
	json_t *nodes = json_array(), *generics = json_array(), *g;
	long i, ngen = 20;
	char name[32];

	for (i = 0; i < ngen; i++) {
		snprintf(name, sizeof(name), "Generic%ld", i);
		g = json_pack("{s:s, s:s, s:[], s:[], s:[]}", "name", name,
		              "namespace", "Bench", "attributes",
		              "relationships", "used_by");
		json_array_append_new(generics, g);
	}
	for (i = 0; i < nkinds; i++)
		json_array_append_new(nodes, gen_node(model, i, ngen));
	json_decref(model);
	return json_pack("{s:s, s:o, s:o}", "main", "0123456789abcdef", "nodes",
	                 nodes, "generics", generics);
}

/* The best of 5 decodes of `text`, in seconds; -1 when it is not JSON. */
static double decode_time(const char *text)
{
	double best = 1e9, t0;
	json_t *j;
	int k;

	for (k = 0; k < 5; k++) {
		t0 = now();
		j = json_loads(text, 0, NULL);
		if (now() - t0 < best)
			best = now() - t0;
		if (!j)
			return -1;
		json_decref(j);
	}
	return best;
}

/*
 * What a cache hit decodes: the answer without the keys the parser never
 * reads (hf_schema_answer_trim), as .hubform/schema-<hash>.json holds it.
 */
static void measure_cached(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);
	char *small;

	hf_schema_answer_trim(j);
	small = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (small)
		printf("%-48s cached form %zu KiB: decode %.1f ms\n", "",
		       strlen(small) / 1024, decode_time(small) * 1e3);
	free(small);
}

/* Best of 5: decode `text`, then build the schema from the decoded answer. */
static int measure(const char *label, const char *text)
{
	double best_load = decode_time(text), best_parse = 1e9, t0;
	hf_error err = HF_ERROR_INIT;
	json_t *j = json_loads(text, 0, NULL);
	hf_schema *s;
	int k;

	for (k = 0; j && best_load >= 0 && k < 5; k++) {
		t0 = now();
		s = NULL;
		if (hf_schema_parse(&s, j, &err) < 0) {
			fprintf(stderr, "%s: %s\n", label, err.msg);
			break;
		}
		if (now() - t0 < best_parse)
			best_parse = now() - t0;
		if (k == 0)
			printf("%-48s %zu kinds, %zu KiB: ", label,
			       hf_schema_count(s), strlen(text) / 1024);
		hf_schema_free(s);
	}
	json_decref(j);
	if (k < 5)
		return -1;
	printf("decode %.1f ms, parse %.1f ms\n", best_load * 1e3,
	       best_parse * 1e3);
	measure_cached(text);
	return 0;
}

static int measure_json(const char *label, json_t *answer)
{
	char *text = answer ? json_dumps(answer, JSON_COMPACT) : NULL;
	int rc = text ? measure(label, text) : -1;

	free(text);
	json_decref(answer);
	return rc;
}

/* The real payloads: sdk answers, and the node and generic of a live one. */
static int real_payloads(void)
{
	static const char *const answers[] = { "sdk_schema_01.json",
		                               "sdk_schema_02.json" };
	json_t *node = fixture("rest_schema_kind_node_IpamIPAddress.json");
	json_t *gen =
	        fixture("rest_schema_kind_generic_CoreGenericAccount.json");
	size_t i;
	int rc = 0;

	if (!node || !gen) {
		printf("real payloads: skipped (no HF_SHARED_DIR fixtures)\n");
		json_decref(node);
		json_decref(gen);
		return 0;
	}
	for (i = 0; rc == 0 && i < sizeof(answers) / sizeof(answers[0]); i++)
		rc = measure_json(answers[i], fixture(answers[i]));
	if (rc == 0)
		rc = measure_json("IpamIPAddress + CoreGenericAccount (live)",
		                  json_pack("{s:[o], s:[o]}", "nodes", node,
		                            "generics", gen));
	else {
		json_decref(node);
		json_decref(gen);
	}
	return rc;
}

/* The local endpoint's own schema (Infrahub's built-in kinds). */
static int endpoint_schema(void)
{
	struct hf_served srv;
	char db[700], url[400];
	const char *dir;
	char *text = NULL;
	long status = 0;
	int rc;

	if (!getenv("HUBFORM_BIN")) {
		printf("local endpoint's schema: skipped (HUBFORM_BIN not set)\n");
		return 0;
	}
	dir = hf_test_tmpdir("bench_schema");
	if (!dir)
		return -1;
	snprintf(db, sizeof(db), "%s/data.db", dir);
	if (hf_serve_start(&srv, db, NULL) < 0)
		return -1;
	snprintf(url, sizeof(url), "%s/api/schema", srv.url);
	rc = hf_http("GET", url, NULL, NULL, &status, &text) == 0 &&
	                     status == 200
	             ? measure("the local endpoint's schema (built-in kinds)",
	                       text)
	             : -1;
	hf_free(text);
	hf_serve_stop(&srv);
	return rc;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 500;
	char label[64];

	hf_alloc_init();
	if (real_payloads() < 0 || endpoint_schema() < 0)
		return 1;
	snprintf(label, sizeof(label), "%ld generated kinds", n);
	return measure_json(label, generated(n)) < 0 ? 1 : 0;
}
