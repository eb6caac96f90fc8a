/*
 * libFuzzer harness: listing pages read from their text (hf/listing.h)
 * against the general reading. The input is an answer's body. Whatever
 * it is, hf_listing_read() returns a status without crashing or leaking;
 * and when it reads the page, jansson (strict, as the client decodes)
 * must read the text too, and the page's JSON tree must say exactly what
 * the reader took: count, ids, types, HFIDs, values and references.
 * Anything else aborts: the two readings of a page would differ.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "hf/alloc.h"
#include "hf/listing.h"
#include "hf/model.h"
#include "fuzz.h"

static const struct hf_listing_field listing_fields[] = {
	{ "name", HF_FIELD_ATTR },
	{ "meta", HF_FIELD_ATTR },
	{ "location", HF_FIELD_ONE },
	{ "tags", HF_FIELD_MANY },
};

static void listing_expect(int ok)
{
	if (!ok)
		abort();
}

/* NULL and absent alike, else equal JSON. */
static int listing_same(const json_t *a, const json_t *b)
{
	return (!a && !b) || (a && b && json_equal(a, b));
}

/* A string member, or NULL. */
static const char *listing_str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* The tree's HFID (null and absent alike) and the page's. */
static void listing_hfid(const struct hf_listing_page *pg,
                         const struct hf_listing_hfid *h, const json_t *tree)
{
	json_t *mine = NULL;

	listing_expect(hf_listing_hfid_json(pg, h, &mine) == 0);
	listing_expect(listing_same(mine, json_is_null(tree) ? NULL : tree));
	json_decref(mine);
}

static void listing_ref(const struct hf_listing_page *pg,
                        const struct hf_listing_ref *r, const json_t *node)
{
	listing_expect(!strcmp(r->id, listing_str(node, "id")));
	listing_expect(!strcmp(r->type, listing_str(node, "__typename")));
	listing_hfid(pg, &r->hfid, json_object_get(node, "hfid"));
}

static void listing_field(const struct hf_listing_page *pg,
                          const struct hf_listing_field *f,
                          const struct hf_listing_value *v, const json_t *j)
{
	const json_t *node, *edges;
	json_t *mine = NULL;
	size_t i;

	switch (f->type) {
	case HF_FIELD_ATTR:
		listing_expect(hf_listing_json(v, &mine) == 0);
		listing_expect(listing_same(mine, json_object_get(j, "value")));
		json_decref(mine);
		return;
	case HF_FIELD_ONE:
		node = json_object_get(j, "node");
		listing_expect(v->nrefs == (json_is_object(node) ? 1u : 0u));
		if (v->nrefs)
			listing_ref(pg, &v->refs[0], node);
		return;
	default:
		edges = json_object_get(j, "edges");
		listing_expect(v->nrefs == json_array_size(edges));
		for (i = 0; i < v->nrefs; i++)
			listing_ref(pg, &v->refs[i],
			            json_object_get(json_array_get(edges, i),
			                            "node"));
	}
}

static void listing_compare(struct hf_listing_page *pg, const json_t *tree)
{
	const json_t *res =
	        json_object_get(json_object_get(tree, "data"), "NetDevice");
	const json_t *edges = json_object_get(res, "edges"), *node;
	const char *type;
	size_t i, j;

	listing_expect(pg->count ==
	               json_integer_value(json_object_get(res, "count")));
	listing_expect(pg->n == json_array_size(edges));
	for (i = 0; i < pg->n; i++) {
		node = json_object_get(json_array_get(edges, i), "node");
		type = listing_str(node, "__typename");
		listing_expect(
		        !strcmp(pg->nodes[i].id, listing_str(node, "id")));
		listing_expect((!type && !pg->nodes[i].type) ||
		               (type && pg->nodes[i].type &&
		                !strcmp(type, pg->nodes[i].type)));
		listing_hfid(pg, &pg->nodes[i].hfid,
		             json_object_get(node, "hfid"));
		for (j = 0; j < pg->nf; j++)
			listing_field(
			        pg, &listing_fields[j],
			        hf_listing_value(pg, i, j),
			        json_object_get(node, listing_fields[j].name));
	}
}

HF_FUZZ_ENTRY(fuzz_listing)(const uint8_t *data, size_t size)
{
	struct hf_listing_page pg;
	json_t *tree;
	int rc;

	hf_alloc_init();
	rc = hf_listing_read(&pg, (const char *)data, size, "NetDevice",
	                     listing_fields, 4);
	if (rc == 1) {
		tree = json_loadb((const char *)data, size,
		                  JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
		                  NULL);
		listing_expect(tree != NULL);
		listing_compare(&pg, tree);
		json_decref(tree);
	}
	hf_listing_release(&pg);
	return 0;
}
