/*
 * Stack ownership read from `hubform serve` (through the fake transport,
 * which forwards every request to it): the stack's group and its members
 * in pages, the other stacks' groups, a stack without a group, a
 * malformed answer, stack names, and keeping stack groups in a declared
 * member_of_groups.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "hf/owner.h"
#include "fake_transport.h"
#include "sdkload.h"
#include "testutil.h"

static struct hf_served srv;
static hf_fake *fake;
static json_t *ids; /* name -> node id */

static int served(void *payload, const struct hf_fake_req *r, json_t **answer,
                  hf_error *err)
{
	(void)payload;
	*answer = hf_gql(srv.url, NULL, NULL, r->query, r->variables);
	return *answer ? 0 : hf_error_set(err, HF_ENET, "no answer");
}

/* A fake with nothing scripted yet, in place of the last. */
static void fresh_fake(void)
{
	hf_fake_free(fake);
	fake = hf_fake_new();
	assert_non_null(fake);
}

static hf_transport *via_server(void)
{
	hf_fake_free(fake);
	fake = hf_fake_new();
	assert_non_null(fake);
	assert_int_equal(hf_fake_handler(fake, NULL, -1, served, NULL), 0);
	return hf_fake_transport(fake);
}

static json_t *gql(const char *q, json_t *vars)
{
	json_t *res = hf_gql(srv.url, NULL, NULL, q, vars);

	assert_non_null(res);
	if (json_object_get(res, "errors")) {
		char *t = json_dumps(res, 0);

		fprintf(stderr, "%s\n", t);
		free(t);
	}
	assert_null(json_object_get(res, "errors"));
	json_decref(vars);
	return res;
}

static const char *create(const char *kind, const char *name)
{
	char q[300];
	json_t *res;

	snprintf(q, sizeof(q),
	         "mutation ($n: String!) { %sCreate(data: {name: {value: $n}})"
	         " { object { id } } }",
	         kind);
	res = gql(q, json_pack("{s:s}", "n", name));
	snprintf(q, sizeof(q), "%sCreate", kind);
	json_object_set(
	        ids, name,
	        json_object_get(
	                json_object_get(
	                        json_object_get(json_object_get(res, "data"),
	                                        q),
	                        "object"),
	                "id"));
	assert_non_null(json_object_get(ids, name));
	json_decref(res);
	return json_string_value(json_object_get(ids, name));
}

static void add_members(const char *group, const char *const *names)
{
	json_t *nodes = json_array();

	for (; *names; names++)
		json_array_append_new(
		        nodes, json_pack("{s:s}", "id",
		                         json_string_value(json_object_get(
		                                 ids, *names))));
	json_decref(
	        gql("mutation ($g: String!, $n: [RelatedNodeInput]) {"
	            " RelationshipAdd(data: {id: $g, name: \"members\","
	            " nodes: $n}) { ok } }",
	            json_pack("{s:s, s:o}", "g",
	                      json_string_value(json_object_get(ids, group)),
	                      "n", nodes)));
}

static int setup(void **state)
{
	char db[512];
	static const char *const fin[] = { "red", "blue", "green", "paris",
		                           NULL };
	static const char *const ops[] = { "red", NULL };
	static const char *const other[] = { "blue", NULL };

	(void)state;
	snprintf(db, sizeof(db), "%s/data.db", hf_test_tmpdir("owner"));
	if (hf_serve_start(&srv, db, NULL) < 0)
		return -1;
	ids = json_object();
	create("BuiltinTag", "red");
	create("BuiltinTag", "blue");
	create("BuiltinTag", "green");
	create("BuiltinTag", "paris");
	create("CoreStandardGroup", "hubform-fin");
	create("CoreStandardGroup", "hubform-ops");
	create("CoreStandardGroup", "not-hubform-x");
	create("CoreStandardGroup", "hubform-empty");
	add_members("hubform-fin", fin);
	add_members("hubform-ops", ops);
	add_members("not-hubform-x", other);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hf_fake_free(fake);
	fake = NULL;
	json_decref(ids);
	return hf_serve_stop(&srv) == 0 ? 0 : -1;
}

static const char *id_of(const char *name)
{
	return json_string_value(json_object_get(ids, name));
}

static void test_owner__reads_the_stack_group_in_pages(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hf_owner *o = NULL;
	size_t i;

	(void)state;
	assert_int_equal(hf_owner_read(&o, via_server(), "fin", 3, &err), 0);
	assert_string_equal(hf_owner_stack(o), "fin");
	assert_string_equal(hf_owner_group_id(o), id_of("hubform-fin"));
	assert_int_equal(hf_owner_count(o), 4);
	for (i = 0; i < hf_owner_count(o); i++)
		assert_string_equal(hf_owner_kind_at(o, i), "BuiltinTag");
	assert_true(hf_owner_owns(o, id_of("red")));
	assert_true(hf_owner_owns(o, id_of("paris")));
	assert_false(hf_owner_owns(o, id_of("hubform-ops")));
	assert_false(hf_owner_owns(o, NULL));
	/* two pages of members: 3, then 1, read from its text */
	assert_int_equal(hf_fake_sent(fake, "members(offset"), 2);
	assert_int_equal(hf_fake_count(fake), 3);
	assert_true(hf_fake_at(fake, 2)->scanned);
	/* the other stacks, not a group that only contains the prefix */
	assert_string_equal(hf_owner_other_stack(o, id_of("hubform-ops")),
	                    "ops");
	assert_string_equal(hf_owner_other_stack(o, id_of("hubform-empty")),
	                    "empty");
	assert_null(hf_owner_other_stack(o, id_of("not-hubform-x")));
	assert_null(hf_owner_other_stack(o, id_of("hubform-fin")));
	/* the group name travels as a variable */
	assert_null(strstr(hf_fake_at(fake, 0)->query, "hubform-"));
	hf_owner_free(o);
}

/* The server, giving one member a page whatever the limit. */
static int capped(void *payload, const struct hf_fake_req *r, json_t **answer,
                  hf_error *err)
{
	json_t *vars = json_deep_copy(r->variables);
	json_t *limit = json_object_get(vars, "limit");

	(void)payload;
	if (json_is_integer(limit) && json_integer_value(limit) > 1)
		json_object_set_new(vars, "limit", json_integer(1));
	*answer = hf_gql(srv.url, NULL, NULL, r->query, vars);
	json_decref(vars);
	return *answer ? 0 : hf_error_set(err, HF_ENET, "no answer");
}

/* The server, where `paris` joins hubform-grow after its first page. */
static int growing(void *payload, const struct hf_fake_req *r, json_t **answer,
                   hf_error *err)
{
	static const char *const joins[] = { "paris", NULL };
	int *pages = payload;

	*answer = hf_gql(srv.url, NULL, NULL, r->query, r->variables);
	if (strstr(r->query, "members(offset") && ++*pages == 1)
		add_members("hubform-grow", joins);
	return *answer ? 0 : hf_error_set(err, HF_ENET, "no answer");
}

/*
 * After the first page, which gives the count, the others are asked for
 * at once; a server that gives fewer than asked sets the page size, and
 * a group that changes between pages is an error (what the stack owns
 * is then not known), never a partial list.
 */
static void test_owner__member_pages_after_the_first(void **state)
{
	static const char *const grow[] = { "red", "blue", "green", NULL };
	hf_error err = HF_ERROR_INIT;
	hf_owner *o = NULL, *one = NULL;
	size_t i;
	int pages = 0;

	(void)state;
	assert_int_equal(hf_owner_read(&one, via_server(), "fin", 0, &err), 0);
	/* no page size given: 5000 members a page, an id and a type each */
	assert_int_equal(hf_fake_count(fake), 2);
	assert_non_null(strstr(hf_fake_at(fake, 1)->query, "members(offset"));
	assert_int_equal(json_integer_value(json_object_get(
	                         hf_fake_at(fake, 1)->variables, "limit")),
	                 5000);
	assert_int_equal(hf_owner_read(&o, via_server(), "fin", 1, &err), 0);
	assert_int_equal(hf_owner_count(o), 4);
	assert_int_equal(hf_fake_sent(fake, "members(offset"), 4);
	/* in the server's order, as one page lists them */
	for (i = 0; i < 4; i++)
		assert_string_equal(hf_owner_id_at(o, i),
		                    hf_owner_id_at(one, i));
	hf_owner_free(one);
	hf_owner_free(o);

	hf_fake_free(fake);
	fake = hf_fake_new();
	assert_int_equal(hf_fake_handler(fake, NULL, -1, capped, NULL), 0);
	assert_int_equal(
	        hf_owner_read(&o, hf_fake_transport(fake), "fin", 3, &err), 0);
	assert_int_equal(hf_owner_count(o), 4);
	assert_true(hf_owner_owns(o, id_of("paris")));
	assert_int_equal(hf_fake_sent(fake, "members(offset"), 4);
	hf_owner_free(o);

	create("CoreStandardGroup", "hubform-grow");
	add_members("hubform-grow", grow);
	hf_fake_free(fake);
	fake = hf_fake_new();
	assert_int_equal(hf_fake_handler(fake, NULL, -1, growing, &pages), 0);
	assert_int_equal(
	        hf_owner_read(&o, hf_fake_transport(fake), "grow", 1, &err),
	        HF_ECONFLICT);
	assert_null(o);
	assert_non_null(strstr(err.msg, "changed while it was read"));
}

/*
 * A member listed twice: the group moved while it was read (another may
 * be missing in its place), an error, never a partial record; the same
 * for a group that counts members and lists none.
 */
/* A fresh fake: stack x's group g1, whose members' page is `edges`. */
static hf_transport *group_x(long count, const char *edges)
{
	char members[1024];

	fresh_fake();
	assert_int_equal(
	        hf_fake_answer(
	                fake, "name__value", 1,
	                "{\"data\": {\"CoreStandardGroup\": {\"count\": 1,"
	                " \"edges\": [{\"node\": {\"id\": \"g1\","
	                " \"name\": {\"value\": \"hubform-x\"}}}]}}}"),
	        0);
	snprintf(members, sizeof(members),
	         "{\"data\": {\"CoreStandardGroup\": {\"edges\": [{\"node\":"
	         " {\"id\": \"g1\", \"members\": {\"count\": %ld, \"edges\":"
	         " [%s]}}}]}}}",
	         count, edges);
	assert_int_equal(hf_fake_answer(fake, "members(offset", 1, members), 0);
	return hf_fake_transport(fake);
}

static void test_owner__group_moving_while_read(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hf_owner *o = NULL;

	(void)state;
	assert_int_equal(
	        hf_owner_read(&o,
	                      group_x(3, "{\"node\": {\"id\": \"b\", "
	                                 "\"__typename\": \"T\"}}, {\"node\": "
	                                 "{\"id\": \"a\", \"__typename\": "
	                                 "\"T\"}}, {\"node\": {\"id\": \"b\", "
	                                 "\"__typename\": \"T\"}}"),
	                      "x", 0, &err),
	        HF_ECONFLICT);
	assert_null(o);
	assert_non_null(strstr(err.msg, "3 members counted, 2 different"));
	assert_int_equal(hf_owner_read(&o, group_x(3, ""), "x", 0, &err),
	                 HF_EINVAL);
	assert_non_null(strstr(err.msg, "counts members but lists none"));
}

static void test_owner__stack_without_group_owns_nothing(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hf_owner *o = NULL;

	(void)state;
	assert_int_equal(hf_owner_read(&o, via_server(), "new", 0, &err), 0);
	assert_null(hf_owner_group_id(o));
	assert_int_equal(hf_owner_count(o), 0);
	assert_string_equal(hf_owner_other_stack(o, id_of("hubform-fin")),
	                    "fin");
	assert_int_equal(hf_fake_sent(fake, "members("), 0);
	hf_owner_free(o);
	/* an empty group: its id, no members */
	assert_int_equal(hf_owner_read(&o, via_server(), "empty", 0, &err), 0);
	assert_string_equal(hf_owner_group_id(o), id_of("hubform-empty"));
	assert_int_equal(hf_owner_count(o), 0);
	hf_owner_free(o);
}

static void test_owner__malformed_answer_and_failure(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hf_owner *o = NULL;

	(void)state;
	fresh_fake();
	assert_int_equal(
	        hf_fake_answer(fake, NULL, -1,
	                       "{\"data\": {\"CoreStandardGroup\": {}}}"),
	        0);
	assert_int_equal(
	        hf_owner_read(&o, hf_fake_transport(fake), "fin", 0, &err),
	        HF_EINVAL);
	assert_null(o);
	assert_non_null(strstr(err.msg, "stack groups"));
	hf_fake_free(fake);
	fake = hf_fake_new();
	assert_int_equal(
	        hf_fake_fail(fake, NULL, -1, HF_ENET, "connection refused"), 0);
	assert_int_equal(
	        hf_owner_read(&o, hf_fake_transport(fake), "fin", 0, &err),
	        HF_ENET);
	assert_null(o);
}

static void test_owner__stack_names(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hf_owner *o = NULL;
	char long_name[80];

	(void)state;
	assert_int_equal(hf_owner_stack_check("fin", &err), 0);
	assert_int_equal(hf_owner_stack_check("prod-eu_1.a", &err), 0);
	assert_int_equal(hf_owner_stack_check("", &err), HF_EINVAL);
	assert_int_equal(hf_owner_stack_check("-x", &err), HF_EINVAL);
	assert_int_equal(hf_owner_stack_check("a b", &err), HF_EINVAL);
	assert_non_null(strstr(err.msg, "'a b'"));
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(hf_owner_stack_check(long_name, &err), HF_EINVAL);
	/* checked before any request */
	assert_int_equal(hf_owner_read(&o, via_server(), "a b", 0, &err),
	                 HF_EINVAL);
	assert_int_equal(hf_fake_count(fake), 0);
}

static struct hf_object obj_with_groups(const char *const *groups)
{
	struct hf_object o;
	struct hf_field f;
	size_t n = 0;

	memset(&o, 0, sizeof(o));
	o.kind = hf_name("DcimDevice");
	o.hfid = json_pack("[s]", "d1");
	memset(&f, 0, sizeof(f));
	f.name = hf_name("member_of_groups");
	f.type = HF_FIELD_MANY;
	while (groups[n])
		n++;
	f.refs = hf_calloc(n ? n : 1, sizeof(*f.refs));
	for (f.nrefs = 0; f.nrefs < n; f.nrefs++) {
		f.refs[f.nrefs].kind = hf_name("CoreStandardGroup");
		f.refs[f.nrefs].hfid = json_pack("[s]", groups[f.nrefs]);
	}
	assert_int_equal(hf_object_add_field(&o, &f), 0);
	return o;
}

static void test_owner__declared_groups_keep_stack_groups(void **state)
{
	static const char *const declared[] = { "generic", NULL };
	static const char *const live[] = { "generic", "hubform-fin", "other",
		                            NULL };
	hf_objset *want, *have;
	struct hf_object o;
	const struct hf_field *f;

	(void)state;
	assert_int_equal(hf_objset_new(&want), 0);
	assert_int_equal(hf_objset_new(&have), 0);
	o = obj_with_groups(declared);
	assert_int_equal(hf_objset_add(want, &o, NULL), 0);
	o = obj_with_groups(live);
	o.id = hf_strdup("id-d1");
	assert_int_equal(hf_objset_add(have, &o, NULL), 0);
	assert_int_equal(hf_owner_keep_memberships(want, have), 0);
	f = hf_object_field(hf_objset_at(want, 0), "member_of_groups");
	assert_int_equal(f->nrefs, 2);
	assert_string_equal(
	        json_string_value(json_array_get(f->refs[1].hfid, 0)),
	        "hubform-fin");
	/* twice: no duplicate */
	assert_int_equal(hf_owner_keep_memberships(want, have), 0);
	assert_int_equal(f->nrefs, 2);
	hf_objset_free(want);
	hf_objset_free(have);
}

/*
 * hf_owner_find() gives a member's place in the server's order, through
 * the index the reader makes, and by looking through a record being made
 * (not indexed); hf_prune_orphans() marks the declared members by it.
 */
static void test_owner__find_gives_the_members_place(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hf_owner *o = NULL, *made = NULL;
	size_t i;

	(void)state;
	assert_int_equal(hf_owner_read(&o, via_server(), "fin", 3, &err), 0);
	assert_int_equal(hf_owner_count(o), 4);
	for (i = 0; i < hf_owner_count(o); i++)
		assert_int_equal(hf_owner_find(o, hf_owner_id_at(o, i)),
		                 (long)i);
	assert_int_equal(hf_owner_find(o, id_of("hubform-ops")), -1);
	assert_int_equal(hf_owner_find(o, "no-such-id"), -1);
	assert_int_equal(hf_owner_find(o, NULL), -1);

	assert_int_equal(hf_owner_new(&made, "fin", &err), 0);
	assert_int_equal(hf_owner_add_member(made, "b-id", "BuiltinTag"), 0);
	assert_int_equal(hf_owner_add_member(made, "a-id", "BuiltinTag"), 0);
	assert_int_equal(hf_owner_find(made, "a-id"), 1);
	assert_int_equal(hf_owner_find(made, "b-id"), 0);
	assert_int_equal(hf_owner_find(made, "c-id"), -1);
	assert_true(hf_owner_owns(made, "a-id"));
	hf_owner_free(made);
	hf_owner_free(o);
}

/*
 * A record of many members, read in pages: every member is found at its
 * place through the index, whose slots then collide and wrap.
 */
static void test_owner__find_among_many(void **state)
{
	enum { N = 700 };
	static char names[N][16];
	const char *list[N + 1];
	hf_error err = HF_ERROR_INIT;
	hf_owner *o = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "many%04zu", i);
		create("BuiltinTag", names[i]);
		list[i] = names[i];
	}
	list[N] = NULL;
	create("CoreStandardGroup", "hubform-many");
	add_members("hubform-many", list);
	assert_int_equal(hf_owner_read(&o, via_server(), "many", 300, &err), 0);
	assert_int_equal(hf_owner_count(o), N);
	for (i = 0; i < N; i++)
		assert_int_equal(hf_owner_find(o, hf_owner_id_at(o, i)),
		                 (long)i);
	for (i = 0; i < N; i++)
		assert_true(hf_owner_owns(o, id_of(names[i])));
	assert_false(hf_owner_owns(o, id_of("red")));
	assert_int_equal(hf_owner_find(o, "many0001"), -1); /* a name */
	hf_owner_free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_owner__reads_the_stack_group_in_pages),
		cmocka_unit_test(test_owner__member_pages_after_the_first),
		cmocka_unit_test(test_owner__group_moving_while_read),
		cmocka_unit_test(test_owner__stack_without_group_owns_nothing),
		cmocka_unit_test(test_owner__malformed_answer_and_failure),
		cmocka_unit_test(test_owner__stack_names),
		cmocka_unit_test(test_owner__declared_groups_keep_stack_groups),
		cmocka_unit_test(test_owner__find_gives_the_members_place),
		cmocka_unit_test(test_owner__find_among_many),
	};

	hf_alloc_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
