/*
 * Listing pages read from their text (engine/listing.c): what the reader
 * takes, what it declines, and -- through hf_fetch() over a scripted
 * transport -- that a page read from text gives the very live objects,
 * or the very error, that the same page decoded as a JSON tree gives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "hf/fetch.h"
#include "hf/listing.h"
#include "hf/model.h"
#include "hf/schema.h"
#include "fake_transport.h"
#include "schemahelp.h"

static const struct hf_listing_field dev_fields[] = {
	{ "name", HF_FIELD_ATTR },
	{ "meta", HF_FIELD_ATTR },
	{ "location", HF_FIELD_ONE },
	{ "tags", HF_FIELD_MANY },
};
#define NDEV (sizeof(dev_fields) / sizeof(dev_fields[0]))

static int read_page(struct hf_listing_page *pg, const char *text)
{
	return hf_listing_read(pg, text, strlen(text), "NetDevice", dev_fields,
	                       NDEV);
}

static void test_listing__reads_a_page(void **state)
{
	static const char text[] =
	        " {\"data\": {\"NetDevice\": {\"edges\": [\n"
	        "  {\"node\": {\"id\": \"u1\", \"hfid\": [\"d\\u00e9v\\\"1\"],"
	        "   \"__typename\": \"NetDevice\","
	        "   \"name\": {\"value\": \"caf\xc3\xa9 \\ud83d\\ude00\\n\"},"
	        "   \"meta\": {\"value\": {\"a\": [1, 2.5, {\"b\": null}]}},"
	        "   \"location\": {\"node\": {\"id\": \"s1\", \"hfid\": [\"paris\"],"
	        "    \"__typename\": \"NetSite\"}},"
	        "   \"tags\": {\"edges\": [{\"node\": {\"id\": \"t1\", \"hfid\": null,"
	        "    \"__typename\": \"NetTag\"}}, {\"node\": {\"id\": \"t2\","
	        "    \"__typename\": \"NetTag\"}}]}}},\n"
	        "  {\"node\": {\"id\": \"u2\", \"hfid\": null, \"name\": null,"
	        "   \"meta\": {\"value\": -0}, \"location\": {\"node\": null},"
	        "   \"tags\": null}}],\n"
	        " \"count\": 1002}}}\r\n\t";
	struct hf_listing_page pg;
	struct hf_listing_value *v;
	json_t *j;
	char *dumped;

	(void)state;
	assert_int_equal(read_page(&pg, text), 1);
	assert_int_equal(pg.count, 1002);
	assert_int_equal(pg.n, 2);
	assert_string_equal(pg.nodes[0].id, "u1");
	assert_string_equal(pg.nodes[0].type, "NetDevice");
	assert_int_equal(hf_listing_hfid_json(&pg, &pg.nodes[0].hfid, &j), 0);
	dumped = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
	assert_string_equal(dumped, "[\"d\\u00E9v\\\"1\"]");
	hf_free(dumped);
	json_decref(j);
	v = hf_listing_value(&pg, 0, 0);
	assert_int_equal(v->kind, HF_LV_STRING);
	assert_int_equal(hf_listing_json(v, &j), 0);
	assert_string_equal(json_string_value(j),
	                    "caf\xc3\xa9 \xf0\x9f\x98\x80\n");
	json_decref(j);
	v = hf_listing_value(&pg, 0, 1);
	assert_int_equal(v->kind, HF_LV_JSON);
	dumped = json_dumps(v->value, JSON_COMPACT);
	assert_string_equal(dumped, "{\"a\":[1,2.5,{\"b\":null}]}");
	hf_free(dumped);
	v = hf_listing_value(&pg, 0, 2);
	assert_int_equal(v->nrefs, 1);
	assert_string_equal(v->refs[0].id, "s1");
	assert_string_equal(v->refs[0].type, "NetSite");
	assert_int_equal(v->refs[0].hfid.present, 1);
	assert_int_equal(v->refs[0].hfid.n, 1);
	v = hf_listing_value(&pg, 0, 3);
	assert_int_equal(v->nrefs, 2);
	assert_int_equal(v->refs[0].hfid.present, 0);
	assert_int_equal(v->refs[1].hfid.present, 0);
	assert_string_equal(v->refs[1].id, "t2");
	/* the second node: no HFID, type or values; nulls everywhere */
	assert_int_equal(pg.nodes[1].hfid.present, 0);
	assert_null(pg.nodes[1].type);
	assert_int_equal(hf_listing_value(&pg, 1, 0)->kind, HF_LV_ABSENT);
	v = hf_listing_value(&pg, 1, 1);
	assert_int_equal(v->kind, HF_LV_INT);
	assert_int_equal(v->i, 0);
	assert_int_equal(hf_listing_value(&pg, 1, 2)->nrefs, 0);
	assert_null(hf_listing_value(&pg, 1, 3)->refs);
	hf_listing_release(&pg);
}

/*
 * A many relationship of 37 peers, beside a node of a few: its list grows
 * past its first room (4) several times, every peer kept, in order, and
 * the other node's list untouched by the moves.
 */
static void test_listing__many_peers_all_kept(void **state)
{
	hf_buf t = HF_BUF_INIT;
	struct hf_listing_page pg;
	struct hf_listing_value *v;
	char id[16];
	int i;

	(void)state;
	hf_buf_add(&t, "{\"data\": {\"NetDevice\": {\"count\": 2, \"edges\": ["
	               "{\"node\": {\"id\": \"u1\", \"tags\": {\"edges\": [");
	for (i = 0; i < 37; i++)
		hf_buf_addf(
		        &t,
		        "%s{\"node\": {\"id\": \"t%d\", \"hfid\": [\"tag%d\"],"
		        " \"__typename\": \"NetTag\"}}",
		        i ? ", " : "", i, i);
	hf_buf_add(
	        &t,
	        "]}}}, {\"node\": {\"id\": \"u2\", \"tags\": {\"edges\":"
	        " [{\"node\": {\"id\": \"x\", \"__typename\": \"NetTag\"}},"
	        " {\"node\": {\"id\": \"y\", \"__typename\": \"NetTag\"}}]}}}"
	        "]}}}");
	assert_false(hf_buf_failed(&t));
	assert_int_equal(read_page(&pg, t.ptr), 1);
	v = hf_listing_value(&pg, 0, 3);
	assert_int_equal(v->nrefs, 37);
	for (i = 0; i < 37; i++) {
		snprintf(id, sizeof(id), "t%d", i);
		assert_string_equal(v->refs[i].id, id);
		assert_string_equal(v->refs[i].type, "NetTag");
		assert_int_equal(v->refs[i].hfid.present, 1);
		assert_int_equal(v->refs[i].hfid.n, 1);
		snprintf(id, sizeof(id), "tag%d", i);
		assert_int_equal(pg.parts[v->refs[i].hfid.at].n, strlen(id));
		assert_memory_equal(pg.parts[v->refs[i].hfid.at].s, id,
		                    strlen(id));
	}
	v = hf_listing_value(&pg, 1, 3);
	assert_int_equal(v->nrefs, 2);
	assert_string_equal(v->refs[0].id, "x");
	assert_string_equal(v->refs[1].id, "y");
	hf_listing_release(&pg);
	hf_buf_release(&t);
}

/* What hf_listing_members() gave: "id:type," for each member. */
struct got_members {
	hf_buf b;
	int stop_at; /* the member whose callback returns stop_rc (0: none) */
	int stop_rc;
	int n;
};

static int got_member(void *payload, const char *id, size_t idn,
                      const char *type, size_t typen)
{
	struct got_members *g = payload;

	if (++g->n == g->stop_at)
		return g->stop_rc;
	hf_buf_addf(&g->b, "%.*s:%.*s,", (int)idn, id, (int)typen, type);
	return 0;
}

static int read_members(const char *text, struct got_members *g, long *count)
{
	hf_buf_reset(&g->b);
	g->n = 0;
	return hf_listing_members(text, strlen(text), got_member, g, count);
}

/*
 * A page of a group's members: each member in order, the count; keys in
 * any order. Shapes it does not know, errors, strings with escapes and
 * anything but one group decline (the general reading then judges); a
 * callback's error stops the reading.
 */
static void test_listing__group_members(void **state)
{
	static const char page[] =
	        " {\"data\": {\"CoreStandardGroup\": {\"edges\": [{\"node\":"
	        " {\"id\": \"g1\", \"members\": {\"count\": 7, \"edges\": ["
	        "{\"node\": {\"id\": \"m1\", \"__typename\": \"NetDevice\"}},"
	        " {\"node\": {\"__typename\": \"NetSite\", \"id\": \"m2\"}}"
	        "]}}}]}}}\n";
	static const char reordered[] =
	        "{\"data\": {\"CoreStandardGroup\": {\"edges\": [{\"node\":"
	        " {\"members\": {\"edges\": [], \"count\": 0}, \"id\": \"g1\"}}"
	        "]}}}";
	static const char *const declined_pages[] = {
		/* errors beside the data */
		"{\"data\": {\"CoreStandardGroup\": {\"edges\": []}},"
		" \"errors\": [{\"message\": \"no\"}]}",
		/* no group, two groups */
		"{\"data\": {\"CoreStandardGroup\": {\"edges\": []}}}",
		"{\"data\": {\"CoreStandardGroup\": {\"edges\": [{\"node\":"
		" {\"id\": \"g1\", \"members\": {\"count\": 0, \"edges\": []}}},"
		" {\"node\": {\"id\": \"g2\", \"members\": {\"count\": 0,"
		" \"edges\": []}}}]}}}",
		/* a member without its type, with another field, escaped */
		"{\"data\": {\"CoreStandardGroup\": {\"edges\": [{\"node\":"
		" {\"id\": \"g1\", \"members\": {\"count\": 1, \"edges\":"
		" [{\"node\": {\"id\": \"m1\"}}]}}}]}}}",
		"{\"data\": {\"CoreStandardGroup\": {\"edges\": [{\"node\":"
		" {\"id\": \"g1\", \"members\": {\"count\": 1, \"edges\":"
		" [{\"node\": {\"id\": \"m1\", \"__typename\": \"T\","
		" \"hfid\": null}}]}}}]}}}",
		"{\"data\": {\"CoreStandardGroup\": {\"edges\": [{\"node\":"
		" {\"id\": \"g1\", \"members\": {\"count\": 1, \"edges\":"
		" [{\"node\": {\"id\": \"m\\u0031\", \"__typename\": \"T\"}}]}}}]}}}",
		/* the count missing, or not a count */
		"{\"data\": {\"CoreStandardGroup\": {\"edges\": [{\"node\":"
		" {\"id\": \"g1\", \"members\": {\"edges\": []}}}]}}}",
		"{\"data\": {\"CoreStandardGroup\": {\"edges\": [{\"node\":"
		" {\"id\": \"g1\", \"members\": {\"count\": -1, \"edges\": []}}}]}}}",
		/* another kind, text after the answer, a NUL byte */
		"{\"data\": {\"BuiltinTag\": {\"edges\": []}}}",
		"{\"data\": {\"CoreStandardGroup\": {\"edges\": [{\"node\":"
		" {\"id\": \"g1\", \"members\": {\"count\": 0, \"edges\": []}}}]}}} x",
	};
	struct got_members g = { HF_BUF_INIT, 0, 0, 0 };
	long count;
	size_t i;

	(void)state;
	assert_int_equal(read_members(page, &g, &count), 1);
	assert_int_equal(count, 7);
	assert_string_equal(g.b.ptr, "m1:NetDevice,m2:NetSite,");
	assert_int_equal(read_members(reordered, &g, &count), 1);
	assert_int_equal(count, 0);
	assert_int_equal(g.n, 0);
	for (i = 0; i < sizeof(declined_pages) / sizeof(declined_pages[0]);
	     i++) {
		if (read_members(declined_pages[i], &g, &count) != 0)
			fail_msg("read, not declined: %s", declined_pages[i]);
		assert_int_equal(count, -1);
	}
	assert_int_equal(hf_listing_members("{\"data\": null}\0", 16,
	                                    got_member, &g, &count),
	                 0);
	/* the callback's error stops it; its refusal declines */
	g.stop_at = 2;
	g.stop_rc = HF_ENOMEM;
	assert_int_equal(read_members(page, &g, &count), HF_ENOMEM);
	assert_string_equal(g.b.ptr, "m1:NetDevice,");
	assert_int_equal(count, -1);
	g.stop_rc = 1;
	assert_int_equal(read_members(page, &g, &count), 0);
	assert_int_equal(count, -1);
	g.stop_at = 0;
	hf_buf_release(&g.b);
}

/* Pages the reader leaves to the general decoder, and why. */
static const char *const declined[] = {
	/* the answer carries errors */
	"{\"data\": {\"NetDevice\": {\"count\": 0, \"edges\": []}},"
	" \"errors\": [{\"message\": \"partial\"}]}",
	/* a key twice (jansson refuses the text) */
	"{\"data\": {\"NetDevice\": {\"count\": 0, \"count\": 0, \"edges\": []}}}",
	"{\"data\": {\"NetDevice\": {\"count\": 1, \"edges\": [{\"node\":"
	" {\"id\": \"u1\", \"id\": \"u2\"}}]}}}",
	"{\"data\": {\"NetDevice\": {\"count\": 1, \"edges\": [{\"node\":"
	" {\"id\": \"u1\", \"meta\": {\"value\": {\"a\": 1, \"a\": 2}}}}]}}}",
	/* a member not asked for, another kind */
	"{\"data\": {\"NetDevice\": {\"count\": 1, \"edges\": [{\"node\":"
	" {\"id\": \"u1\", \"mtu\": {\"value\": 1}}}]}}}",
	"{\"data\": {\"NetSite\": {\"count\": 0, \"edges\": []}}}",
	/* shapes the general reading judges */
	"{\"data\": {\"NetDevice\": {\"count\": \"1\", \"edges\": []}}}",
	"{\"data\": {\"NetDevice\": {\"count\": -1, \"edges\": []}}}",
	"{\"data\": {\"NetDevice\": {\"count\": 1.0, \"edges\": []}}}",
	"{\"data\": {\"NetDevice\": {\"count\": 0}}}",
	"{\"data\": {\"NetDevice\": {\"count\": 1, \"edges\": [{\"node\": null}]}}}",
	"{\"data\": {\"NetDevice\": {\"count\": 1, \"edges\": [{\"node\":"
	" {\"id\": \"\"}}]}}}",
	"{\"data\": {\"NetDevice\": {\"count\": 1, \"edges\": [{\"node\":"
	" {\"id\": \"u1\", \"hfid\": [1]}}]}}}",
	"{\"data\": {\"NetDevice\": {\"count\": 1, \"edges\": [{\"node\":"
	" {\"id\": \"u1\", \"name\": \"plain\"}}]}}}",
	/* text jansson refuses */
	"{\"data\": {\"NetDevice\": {\"count\": 0, \"edges\": []}}} x",
	"{\"data\": {\"NetDevice\": {\"count\": 0, \"edges\": [],}}}",
	"{\"data\": {\"NetDevice\": {\"count\": 01, \"edges\": []}}}",
	"{\"data\": {\"NetDevice\": {\"count\": 99999999999999999999,"
	" \"edges\": []}}}",
	"{\"data\": {\"NetDevice\": {\"count\": 1, \"edges\": [{\"node\":"
	" {\"id\": \"u\\u0000\"}}]}}}",
	"{\"data\": {\"NetDevice\": {\"count\": 1, \"edges\": [{\"node\":"
	" {\"id\": \"\\ud800x\"}}]}}}",
	"{\"data\": {\"NetDevice\": {\"count\": 1, \"edges\": [{\"node\":"
	" {\"id\": \"\xc0\xaf\"}}]}}}",
	"{\"data\": {\"NetDevice\": {\"count\": 1, \"edges\": [{\"node\":"
	" {\"id\": \"\xed\xa0\x80\"}}]}}}",
	"{\"data\": {\"NetDevice\": {\"count\": 1, \"edges\": [{\"node\":"
	" {\"id\": \"a\tb\"}}]}}}",
	"{\"data\": {\"NetDevice\": {\"count\": 1, \"edges\": [{\"node\":"
	" {\"id\": \"u1\", \"meta\": {\"value\": 1e400}}}]}}}",
	"{\"data\": {\"NetDevice\": {\"count\": 1, \"edges\": [{\"node\":"
	" {\"id\": \"u1\", \"meta\": {\"value\": tru}}}]}}}",
	"{\"data\": {\"NetDevice\": {\"count\": 0, \"edges\": []}}",
	"",
	"\xef\xbb\xbf{\"data\": {\"NetDevice\": {\"count\": 0, \"edges\": []}}}",
};

static void test_listing__declines_what_it_does_not_know(void **state)
{
	struct hf_listing_page pg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(declined) / sizeof(declined[0]); i++) {
		if (read_page(&pg, declined[i]) != 0)
			fail_msg("page %zu was read: %s", i, declined[i]);
		assert_int_equal(pg.n, 0);
		assert_null(pg.nodes);
	}
}

/*
 * A NUL byte after a number or keyword in a JSON value: jansson skips it
 * and counts the value one byte short, so a reader resuming after the
 * value would take its closing brace twice; such a body is declined (it
 * is no JSON text either).
 */
static void test_listing__declines_nul_bytes(void **state)
{
	static const char text[] =
	        "{\"data\":{\"NetDevice\":{\"count\":1,\"edges\":[{\"node\":"
	        "{\"id\":\"a\",\"hfid\":[\"a\"],\"meta\":{\"value\":"
	        "{\"d\":1\0}}}]}}}";
	struct hf_listing_page pg;

	(void)state;
	assert_null(json_loadb(text, sizeof(text) - 1, JSON_REJECT_DUPLICATES,
	                       NULL));
	assert_int_equal(hf_listing_read(&pg, text, sizeof(text) - 1,
	                                 "NetDevice", dev_fields, NDEV),
	                 0);
	assert_null(pg.nodes);
}

/* jansson refuses values nested deeper than 2048; a page holds 7 levels. */
static void test_listing__nesting_as_deep_as_jansson(void **state)
{
	struct hf_listing_page pg;
	json_error_t je;
	hf_buf b = HF_BUF_INIT;
	json_t *j;
	int depth, i, got;

	(void)state;
	for (depth = 2038; depth <= 2044; depth++) {
		hf_buf_reset(&b);
		hf_buf_add(&b, "{\"data\": {\"NetDevice\": {\"count\": 1, "
		               "\"edges\": [{\"node\": {\"id\": \"u1\", "
		               "\"meta\": {\"value\": ");
		for (i = 0; i < depth; i++)
			hf_buf_add(&b, "[");
		hf_buf_add(&b, "1");
		for (i = 0; i < depth; i++)
			hf_buf_add(&b, "]");
		hf_buf_add(&b, "}}}]}}}");
		assert_false(hf_buf_failed(&b));
		j = json_loadb(b.ptr, b.len, JSON_REJECT_DUPLICATES, &je);
		got = read_page(&pg, b.ptr);
		/* read only what jansson reads too */
		if (got)
			assert_non_null(j);
		json_decref(j);
		hf_listing_release(&pg);
	}
	hf_buf_release(&b);
}

/* ---- the two readings through hf_fetch() -------------------------------- */

static const char schema_text[] =
        "{\"nodes\": ["
        " {\"namespace\": \"Net\", \"name\": \"Site\","
        "  \"human_friendly_id\": [\"name__value\"],"
        "  \"attributes\": [{\"name\": \"name\", \"kind\": \"Text\","
        "   \"unique\": true}]},"
        " {\"namespace\": \"Net\", \"name\": \"Tag\","
        "  \"human_friendly_id\": [\"name__value\"],"
        "  \"attributes\": [{\"name\": \"name\", \"kind\": \"Text\","
        "   \"unique\": true}]},"
        " {\"namespace\": \"Net\", \"name\": \"Device\","
        "  \"human_friendly_id\": [\"name__value\"],"
        "  \"attributes\": ["
        "   {\"name\": \"name\", \"kind\": \"Text\", \"unique\": true},"
        "   {\"name\": \"mtu\", \"kind\": \"Number\", \"optional\": true},"
        "   {\"name\": \"enabled\", \"kind\": \"Boolean\", \"optional\": true},"
        "   {\"name\": \"meta\", \"kind\": \"JSON\", \"optional\": true},"
        "   {\"name\": \"address\", \"kind\": \"IPHost\", \"optional\": true},"
        "   {\"name\": \"labels\", \"kind\": \"List\", \"optional\": true},"
        "   {\"name\": \"seen\", \"kind\": \"DateTime\", \"optional\": true},"
        "   {\"name\": \"mac\", \"kind\": \"MacAddress\", \"optional\": true}],"
        "  \"relationships\": ["
        "   {\"name\": \"location\", \"peer\": \"NetSite\","
        "    \"cardinality\": \"one\", \"optional\": true},"
        "   {\"name\": \"tags\", \"peer\": \"NetTag\","
        "    \"cardinality\": \"many\", \"optional\": true}]}]}";

#define PAGE_HEAD "{\"data\": {\"NetDevice\": {\"count\": 2, \"edges\": ["
#define PAGE_TAIL "]}}}"
#define D1                                                                    \
	"{\"node\": {\"id\": \"u1\", \"hfid\": [\"d1\"], \"__typename\":"     \
	" \"NetDevice\", \"name\": {\"value\": \"d1\"}, \"mtu\": {\"value\":" \
	" 1500}, \"enabled\": {\"value\": true}, \"meta\": {\"value\":"       \
	" {\"a\": [1, 2]}}, \"address\": {\"value\": \"10.0.0.1/32\"},"       \
	" \"labels\": {\"value\": [\"x\"]}, \"seen\": {\"value\":"            \
	" \"2024-05-01T02:00:00+02:00\"}, \"mac\": {\"value\":"               \
	" \"AA:BB:CC:DD:EE:FF\"}, \"location\": {\"node\": {\"id\":"          \
	" \"s1\", \"hfid\": [\"paris\"], \"__typename\": \"NetSite\"}},"      \
	" \"tags\": {\"edges\": [{\"node\": {\"id\": \"t1\", \"hfid\":"       \
	" [\"red\"], \"__typename\": \"NetTag\"}}]}}}"

/* Device pages: each is read both ways and must come out the same. */
#define D2                                                                \
	"{\"node\": {\"id\": \"u2\", \"hfid\": [\"d2\"], \"__typename\":" \
	" \"NetDevice\", \"name\": {\"value\": \"d2\"}}}"

static const char *const pages[] = {
	/* d1 as the files want it, d2 all different */
	PAGE_HEAD D1
	", {\"node\": {\"id\": \"u2\", \"hfid\": [\"d2\"],"
	" \"__typename\": \"NetDevice\", \"name\": {\"value\": \"d2\"},"
	" \"mtu\": {\"value\": -0}, \"enabled\": {\"value\": false},"
	" \"meta\": {\"value\": 1.5}, \"address\": {\"value\": \"10.0.0.2\"},"
	" \"labels\": {\"value\": null}, \"location\": {\"node\": null},"
	" \"tags\": {\"edges\": []}}}" PAGE_TAIL,
	/* escapes, raw UTF-8, nulls and absences, other orders */
	"{\"data\":{\"NetDevice\":{\"edges\":[" D1
	",{\"node\":{\"__typename\":\"NetDevice\",\"hfid\":[\"d\\u00e9\\\\2\"],"
	"\"id\":\"u\\/2\",\"name\":{\"value\":\"d\xc3\xa9\\\\2\"},\"mtu\":null,"
	"\"enabled\":{},\"location\":null,\"tags\":null,\"meta\":{\"value\":"
	"\"\\ud83d\\ude00\\t\"}}}],\"count\":2}}}",
	/* nodes without HFID or type; refs without HFID */
	PAGE_HEAD D1
	", {\"node\": {\"id\": \"u3\", \"hfid\": null,"
	" \"name\": {\"value\": \"x\"}, \"location\": {\"node\": {\"id\":"
	" \"s9\", \"__typename\": \"NetSite\"}}, \"tags\": {\"edges\":"
	" [{\"node\": {\"id\": \"t9\", \"hfid\": null, \"__typename\":"
	" \"NetTag\"}}]}}}" PAGE_TAIL,
	/* partial answer: errors beside data */
	"{\"data\": {\"NetDevice\": {\"count\": 2, \"edges\": [" D1 ", " D2
	"]}}, \"errors\": [{\"message\": \"something\"}]}",
	/* members the general reading ignores */
	"{\"data\": {\"NetDevice\": {\"count\": 2, \"edges\": [" D1 ", " D2
	"], \"pageInfo\": {}}}, \"extensions\": {}}",
	/* malformed pages: every one an error, the same both ways */
	PAGE_HEAD D1 PAGE_TAIL, /* count says 2 */
	/* one object less than the kind counted: it changed while read */
	"{\"data\": {\"NetDevice\": {\"count\": 1, \"edges\": [" D1 "]}}}",
	PAGE_HEAD D1 ", " D1 PAGE_TAIL, /* one id twice */
	"{\"data\": {\"NetDevice\": {\"count\": 1.0, \"edges\": [" D1 "]}}}",
	"{\"data\": {\"NetDevice\": {\"count\": 1, \"count\": 1, \"edges\":"
	" [" D1 "]}}}",
	"{\"data\": {\"NetDevice\": {\"count\": 1, \"edges\": [" D1 "]}}}}",
	"{\"data\": {\"NetDevice\": {\"count\": 1, \"edges\": [" D1 "]}}",
	"{\"data\": {\"NetDevice\": {\"count\": 1, \"edges\": [{\"node\":"
	" {\"id\": \"u\xff\", \"hfid\": [\"d1\"]}}]}}}",
	"{\"data\": {\"NetDevice\": {\"count\": 1, \"edges\": [{\"node\":"
	" {\"id\": \"u1\", \"hfid\": [\"d1\"], \"__typename\": null}}]}}}",
	"{\"data\": {\"NetDevice\": {\"count\": 1, \"edges\": [{\"node\":"
	" {\"id\": \"u1\", \"hfid\": \"d1\"}}]}}}",
	"{\"data\": null, \"errors\": [{\"message\": \"refused\"}]}",
	"{\"data\": {\"NetDevice\": {\"count\": 1, \"edges\": [{\"node\":"
	" {\"id\": \"u1\", \"hfid\": [\"d1\"], \"mtu\": {\"value\": 1e999}}}]}}}",
};

static void dump_json(hf_buf *b, const json_t *v)
{
	char *t;

	if (!v) {
		hf_buf_add(b, "NULL");
		return;
	}
	t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
	hf_buf_add(b, t ? t : "?");
	hf_free(t);
}

/*
 * Everything a live object holds, as text, and what it shares with its
 * desired twin in `want` (H: the HFID, S: a value, by pointer).
 */
static char *dump(const hf_objset *s, const hf_objset *want)
{
	const struct hf_object *o, *twin;
	const struct hf_field *f, *tf;
	hf_buf b = HF_BUF_INIT;
	size_t i, j, k;
	long at;

	for (i = 0; s && i < hf_objset_count(s); i++) {
		o = hf_objset_at(s, i);
		at = hf_objset_find(want, o->kind, o->hfid);
		twin = at >= 0 ? hf_objset_at(want, (size_t)at) : NULL;
		hf_buf_addf(&b, "%s|%s|%s", o->kind, o->id ? o->id : "-",
		            twin && twin->hfid == o->hfid ? "H" : "");
		dump_json(&b, o->hfid);
		for (j = 0; j < o->nfields; j++) {
			f = &o->fields[j];
			tf = twin ? hf_object_field(twin, f->name) : NULL;
			hf_buf_addf(
			        &b, " %s:%d:%d=%s", f->name, f->type, f->akind,
			        tf && f->value && tf->value == f->value ? "S"
			                                                : "");
			dump_json(&b, f->value);
			hf_buf_addf(&b, "%s[", f->refs ? "R" : "");
			for (k = 0; k < f->nrefs; k++) {
				hf_buf_addf(&b, "(%s %s ", f->refs[k].kind,
				            f->refs[k].id ? f->refs[k].id
				                          : "-");
				dump_json(&b, f->refs[k].hfid);
				hf_buf_add(&b, ")");
			}
			hf_buf_add(&b, "]");
		}
		hf_buf_add(&b, "\n");
	}
	hf_buf_add(&b, "");
	return hf_buf_detach(&b);
}

static struct hf_object obj(const char *kind, const char *name)
{
	struct hf_object o;
	struct hf_field f;

	memset(&o, 0, sizeof(o));
	o.kind = hf_name(kind);
	o.hfid = json_pack("[s]", name);
	memset(&f, 0, sizeof(f));
	f.name = hf_name("name");
	f.akind = HF_ATTR_TEXT;
	f.value = json_string(name);
	assert_int_equal(hf_object_add_field(&o, &f), 0);
	return o;
}

static void attr(struct hf_object *o, const char *name, enum hf_attr_kind k,
                 json_t *v)
{
	struct hf_field f;

	memset(&f, 0, sizeof(f));
	f.name = hf_name(name);
	f.akind = (unsigned char)k;
	f.value = v;
	assert_int_equal(hf_object_add_field(o, &f), 0);
}

static void ref(struct hf_object *o, const char *name, int many,
                const char *kind, const char *hfid)
{
	struct hf_field f;

	memset(&f, 0, sizeof(f));
	f.name = hf_name(name);
	f.type = many ? HF_FIELD_MANY : HF_FIELD_ONE;
	f.refs = hf_calloc(1, sizeof(*f.refs));
	f.nrefs = 1;
	f.refs[0].kind = hf_name(kind);
	f.refs[0].hfid = json_pack("[s]", hfid);
	assert_int_equal(hf_object_add_field(o, &f), 0);
}

static hf_objset *wanted(void)
{
	hf_objset *want;
	struct hf_object d1 = obj("NetDevice", "d1");
	struct hf_object d2 = obj("NetDevice", "d2");
	struct hf_object site = obj("NetSite", "paris");
	struct hf_object tag = obj("NetTag", "red");

	attr(&d1, "mtu", HF_ATTR_NUMBER, json_integer(1500));
	attr(&d1, "enabled", HF_ATTR_BOOLEAN, json_true());
	attr(&d1, "meta", HF_ATTR_JSON, json_pack("{s:[i,i]}", "a", 1, 2));
	attr(&d1, "address", HF_ATTR_IPHOST, json_string("10.0.0.1/32"));
	attr(&d1, "labels", HF_ATTR_LIST, json_pack("[s]", "x"));
	/*
	 * Not in normal form, as the resolver would never leave it: a page
	 * saying the same text must still be normalised (an instant is
	 * rewritten), not take the twin's value as it is.
	 */
	attr(&d1, "seen", HF_ATTR_DATETIME,
	     json_string("2024-05-01T02:00:00+02:00"));
	attr(&d1, "mac", HF_ATTR_MAC_ADDRESS, json_string("AA:BB:CC:DD:EE:FF"));
	ref(&d1, "location", 0, "NetSite", "paris");
	ref(&d1, "tags", 1, "NetTag", "red");
	attr(&d2, "mtu", HF_ATTR_NUMBER, json_integer(9000));
	attr(&d2, "meta", HF_ATTR_JSON, json_null());
	ref(&d2, "tags", 1, "NetTag", "red");
	assert_int_equal(hf_objset_new(&want), 0);
	assert_int_equal(hf_objset_add(want, &d1, NULL), 0);
	assert_int_equal(hf_objset_add(want, &d2, NULL), 0);
	assert_int_equal(hf_objset_add(want, &site, NULL), 0);
	assert_int_equal(hf_objset_add(want, &tag, NULL), 0);
	return want;
}

struct reading {
	int rc;
	char msg[1024];
	char *objects;
};

/* hf_fetch() of wanted() with `page` as the devices' page. */
static struct reading fetch_with(const hf_schema *s, const char *page,
                                 int general)
{
	struct hf_fetch_opts o = HF_FETCH_OPTS_INIT;
	hf_objset *want = wanted(), *have = NULL;
	hf_error err = HF_ERROR_INIT;
	hf_fake *f = hf_fake_new();
	struct reading r;

	assert_non_null(f);
	o.general = general;
	assert_int_equal(
	        hf_fake_answer(
	                f, "{ count }", -1,
	                "{\"data\": {\"NetDevice\": {\"count\": 2},"
	                " \"NetSite\": {\"count\": 1}, \"NetTag\": {\"count\": 1}}}"),
	        0);
	assert_int_equal(
	        hf_fake_answer(
	                f, "NetSite(offset", -1,
	                "{\"data\": {\"NetSite\": {\"count\": 1, \"edges\": ["
	                "{\"node\": {\"id\": \"s1\", \"hfid\": [\"paris\"],"
	                " \"__typename\": \"NetSite\", \"name\": {\"value\":"
	                " \"paris\"}}}]}}}"),
	        0);
	assert_int_equal(
	        hf_fake_answer(
	                f, "NetTag(offset", -1,
	                "{\"data\": {\"NetTag\": {\"count\": 1, \"edges\": ["
	                "{\"node\": {\"id\": \"t1\", \"hfid\": [\"red\"],"
	                " \"__typename\": \"NetTag\", \"name\": {\"value\":"
	                " \"red\"}}}]}}}"),
	        0);
	/* a kind whose page lists an object without HFID is probed */
	assert_int_equal(
	        hf_fake_answer(f, "p0: NetDevice(name__value", -1,
	                       "{\"data\": {\"p0\": {\"edges\": []}}}"),
	        0);
	assert_int_equal(hf_fake_answer_text(f, "NetDevice(offset", -1, page,
	                                     strlen(page)),
	                 0);
	r.rc = hf_fetch(&have, want, s, &o, hf_fake_transport(f), NULL, NULL,
	                NULL, &err);
	snprintf(r.msg, sizeof(r.msg), "%s", err.msg);
	r.objects = dump(have, want);
	hf_objset_free(have);
	hf_objset_free(want);
	hf_fake_free(f);
	return r;
}

static void test_listing__both_readings_agree(void **state)
{
	hf_schema *s = hf_test_schema_text(schema_text);
	struct reading tree, text;
	size_t i;

	(void)state;
	assert_non_null(s);
	for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		tree = fetch_with(s, pages[i], 1);
		text = fetch_with(s, pages[i], 0);
		if (tree.rc != text.rc || strcmp(tree.msg, text.msg) ||
		    strcmp(tree.objects, text.objects))
			fail_msg("page %zu read two ways:\n tree %d %s\n%s\n"
			         " text %d %s\n%s",
			         i, tree.rc, tree.msg, tree.objects, text.rc,
			         text.msg, text.objects);
		/* the first five are good pages, the rest malformed */
		if ((i < 5) != (tree.rc == 0))
			fail_msg("page %zu: %d %s", i, tree.rc, tree.msg);
		if (i == 6 && !strstr(text.msg, "NetDevice changed while it "
		                                "was read (2 objects counted, "
		                                "a page counts 1)"))
			fail_msg("page 6: %s", text.msg);
		/*
		 * d1 as the files want it holds its twin's HFID and values;
		 * the instant is normalised, not taken as the twin wrote it
		 */
		if (i == 0 && (!strstr(text.objects, "u1|H[") ||
		               !strstr(text.objects, " name:0:1=S\"d1\"") ||
		               !strstr(text.objects, " mtu:0:13=S1500") ||
		               !strstr(text.objects, " mac:0:11=S") ||
		               !strstr(text.objects, " seen:0:10=\"2024-05-"
		                                     "01T00:00:00Z\"")))
			fail_msg("page 0 shares too little:\n%s", text.objects);
		hf_free(tree.objects);
		hf_free(text.objects);
	}
	hf_schema_free(s);
}

/* The good pages are read from text, not left to the tree. */
static void test_listing__good_pages_are_read_from_text(void **state)
{
	static const struct hf_listing_field all[] = {
		{ "name", HF_FIELD_ATTR },    { "mtu", HF_FIELD_ATTR },
		{ "enabled", HF_FIELD_ATTR }, { "meta", HF_FIELD_ATTR },
		{ "address", HF_FIELD_ATTR }, { "labels", HF_FIELD_ATTR },
		{ "seen", HF_FIELD_ATTR },    { "mac", HF_FIELD_ATTR },
		{ "location", HF_FIELD_ONE }, { "tags", HF_FIELD_MANY },
	};
	struct hf_listing_page pg;
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		if (hf_listing_read(&pg, pages[i], strlen(pages[i]),
		                    "NetDevice", all, 10) != 1)
			fail_msg("page %zu declined", i);
		hf_listing_release(&pg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listing__reads_a_page),
		cmocka_unit_test(test_listing__many_peers_all_kept),
		cmocka_unit_test(test_listing__group_members),
		cmocka_unit_test(test_listing__declines_what_it_does_not_know),
		cmocka_unit_test(test_listing__declines_nul_bytes),
		cmocka_unit_test(test_listing__nesting_as_deep_as_jansson),
		cmocka_unit_test(test_listing__both_readings_agree),
		cmocka_unit_test(test_listing__good_pages_are_read_from_text),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
