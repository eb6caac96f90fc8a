/*
 * The object-file loader: data-driven cases under data/manifests/ (valid
 * cases check counts and fields with a small line language, invalid ones
 * the exact "LINE:COL message" list), the directory walk, the API, an
 * allocation-failure torture run and a large input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "failalloc.h"
#include "hf/alloc.h"
#include "hf/buf.h"
#include "hf/manifest.h"
#include "testutil.h"

/* ---- helpers ---- */

static char *data_path(const char *a, const char *b, const char *c)
{
	hf_buf p = HF_BUF_INIT;

	hf_buf_addf(&p, "%s/manifests/%s", hf_test_data(), a);
	if (b)
		hf_buf_addf(&p, "/%s", b);
	if (c)
		hf_buf_addf(&p, "/%s", c);
	assert_false(hf_buf_failed(&p));
	return hf_buf_detach(&p);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted case names under manifests/<kind>; caller frees. */
static char **list_cases(const char *kind, size_t *n)
{
	char *dir = data_path(kind, NULL, NULL), **v = NULL;
	struct dirent *de;
	DIR *dp = opendir(dir);

	*n = 0;
	assert_non_null(dp);
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		v = realloc(v, (*n + 1) * sizeof(*v));
		assert_non_null(v);
		v[(*n)++] = hf_strdup(de->d_name);
	}
	closedir(dp);
	hf_free(dir);
	qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

static void free_cases(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		hf_free(v[i]);
	free(v);
}

static hf_manifest *load_path(const char *path)
{
	hf_manifest *m;

	assert_int_equal(hf_manifest_new(&m), 0);
	(void)hf_manifest_add_path(m, path, NULL);
	return m;
}

static hf_manifest *load_text(const char *text)
{
	hf_manifest *m;

	assert_int_equal(hf_manifest_new(&m), 0);
	(void)hf_manifest_add_buffer(m, "t.yml", text, strlen(text), NULL);
	return m;
}

static void print_diags(const hf_manifest *m)
{
	enum hf_mdiag_level lv;
	const hf_error *e;
	size_t i;

	for (i = 0; i < hf_manifest_diag_count(m); i++) {
		e = hf_manifest_diag_at(m, i, &lv);
		print_error("  %s:%d:%d: %s%s\n", e->where, e->line, e->col,
		            lv == HF_MDIAG_WARNING ? "warning: " : "", e->msg);
	}
}

/* ---- the valid-case language ---- */

struct vcase {
	const char *name;
	const hf_manifest *m;
	int failed;
};

__attribute__((format(printf, 2, 3))) static void vfail(struct vcase *c,
                                                        const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	print_error("valid/%s: %s\n", c->name, msg);
	c->failed = 1;
}

static const hf_mobj *obj(struct vcase *c, const char *idx)
{
	const hf_mobj *o = hf_manifest_object_at(c->m, strtoul(idx, NULL, 10));

	if (!o)
		vfail(c, "no object %s", idx);
	return o;
}

static const hf_mfield *field(struct vcase *c, const char *idx,
                              const char *name)
{
	const hf_mobj *o = obj(c, idx);
	const hf_mfield *f = o ? hf_mobj_field(o, name) : NULL;

	if (o && !f)
		vfail(c, "object %s has no field '%s'", idx, name);
	return f;
}

static const hf_yval *value(struct vcase *c, const char *idx, const char *name)
{
	const hf_mfield *f = field(c, idx, name);

	return f ? hf_mfield_value(f) : NULL;
}

static void expect_num(struct vcase *c, const char *what, size_t got,
                       const char *want)
{
	if (got != strtoul(want, NULL, 10))
		vfail(c, "%s: got %zu, want %s", what, got, want);
}

static void expect_str(struct vcase *c, const char *what, const char *got,
                       const char *want)
{
	if (!got)
		got = "-";
	if (strcmp(got, want))
		vfail(c, "%s: got '%s', want '%s'", what, got, want);
}

static void expect_pos(struct vcase *c, const char *what, const hf_yval *v,
                       const char *want)
{
	char got[32];

	snprintf(got, sizeof(got), "%d:%d", hf_yval_line(v), hf_yval_col(v));
	expect_str(c, what, got, want);
}

/* "\n" in expected text is a newline */
static char *unescape_nl(const char *s)
{
	hf_buf b = HF_BUF_INIT;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] == 'n') {
			hf_buf_addch(&b, '\n');
			s++;
		} else {
			hf_buf_addch(&b, *s);
		}
	}
	return hf_buf_detach(&b);
}

static const char *const res_names[] = { "none",  "null",      "bool", "int",
	                                 "float", "timestamp", "str" };
static const char *const type_names[] = { "null", "scalar", "seq", "map" };
static const char *const style_names[] = { "plain",   "single", "double",
	                                   "literal", "folded", "flow",
	                                   "block" };
static const char *const nest_names[] = { "none", "one", "many_dict",
	                                  "many_list" };
static const char *const doc_names[] = { "invalid", "object", "menu",
	                                 "schema" };

static void check_value_line(struct vcase *c, char **t, const char *rest)
{
	const hf_yval *v = value(c, t[1], t[2]);
	long long ll;
	char *want;
	int b;

	if (!v)
		return;
	if (!strcmp(t[0], "field")) {
		want = unescape_nl(rest);
		expect_str(c, "field", hf_yval_text(v, NULL), want);
		hf_free(want);
	} else if (!strcmp(t[0], "style")) {
		expect_str(c, "style", style_names[hf_yval_style(v)], t[3]);
	} else if (!strcmp(t[0], "resolve")) {
		expect_str(c, "resolve", res_names[hf_yval_resolve(v)], t[3]);
	} else if (!strcmp(t[0], "type")) {
		expect_str(c, "type", type_names[hf_yval_type(v)], t[3]);
	} else if (!strcmp(t[0], "int")) {
		if (hf_yval_as_int(v, &ll) || ll != strtoll(t[3], NULL, 10))
			vfail(c, "int %s %s: not %s", t[1], t[2], t[3]);
	} else if (!strcmp(t[0], "bool")) {
		if (hf_yval_as_bool(v, &b) || b != atoi(t[3]))
			vfail(c, "bool %s %s: not %s", t[1], t[2], t[3]);
	} else if (!strcmp(t[0], "valpos")) {
		expect_pos(c, "valpos", v, t[3]);
	} else {
		vfail(c, "unknown directive '%s'", t[0]);
	}
}

static void check_field_line(struct vcase *c, char **t)
{
	const hf_mfield *f = field(c, t[1], t[2]);
	const hf_yval *k;

	if (!f)
		return;
	k = hf_mfield_nest_kind(f);
	if (!strcmp(t[0], "nest"))
		expect_str(c, "nest", nest_names[hf_mfield_nest(f)], t[3]);
	else if (!strcmp(t[0], "children"))
		expect_num(c, "children", hf_mfield_child_count(f), t[3]);
	else if (!strcmp(t[0], "nestkind"))
		expect_str(c, "nestkind", k ? hf_yval_text(k, NULL) : NULL,
		           t[3]);
	else if (!strcmp(t[0], "keypos"))
		expect_pos(c, "keypos", hf_mfield_key(f), t[3]);
	else
		check_value_line(c, t, NULL);
}

static void check_object_line(struct vcase *c, char **t)
{
	const hf_mobj *o = obj(c, t[1]), *p;
	const hf_mfield *pf;
	char buf[32];

	if (!o)
		return;
	p = hf_mobj_parent(o);
	pf = hf_mobj_parent_field(o);
	snprintf(buf, sizeof(buf), "%zu", p ? hf_mobj_index(p) : 0);
	if (!strcmp(t[0], "kind"))
		expect_str(c, "kind", hf_mobj_kind(o), t[2]);
	else if (!strcmp(t[0], "parent"))
		expect_str(c, "parent", p ? buf : NULL, t[2]);
	else if (!strcmp(t[0], "parentfield"))
		expect_str(c, "parentfield", pf ? hf_mfield_name(pf) : NULL,
		           t[2]);
	else if (!strcmp(t[0], "pos"))
		expect_pos(c, "pos", hf_mobj_node(o), t[2]);
	else if (!strcmp(t[0], "index"))
		expect_num(c, "index", hf_mobj_item_index(o), t[2]);
	else if (!strcmp(t[0], "fields"))
		expect_num(c, "fields", hf_mobj_field_count(o), t[2]);
	else if (!strcmp(t[0], "expandobj"))
		expect_num(c, "expandobj", (size_t)hf_mobj_expand_range(o),
		           t[2]);
	else
		vfail(c, "unknown directive '%s'", t[0]);
}

static void check_doc_line(struct vcase *c, char **t)
{
	const hf_mdoc *d = hf_manifest_doc_at(c->m, strtoul(t[1], NULL, 10));

	if (!d) {
		vfail(c, "no document %s", t[1]);
		return;
	}
	if (!strcmp(t[0], "expand")) {
		expect_num(c, "expand", (size_t)hf_mdoc_expand_range(d), t[2]);
	} else if (!strcmp(t[0], "doctype")) {
		expect_str(c, "doctype", doc_names[hf_mdoc_type(d)], t[2]);
	} else {
		expect_num(c, "docobjs first", hf_mdoc_object_first(d), t[2]);
		expect_num(c, "docobjs count", hf_mdoc_object_count(d), t[3]);
	}
}

static void check_line(struct vcase *c, char *line)
{
	const hf_manifest *m = c->m;
	char none[1] = "", *t[5] = { none, none, none, none, none };
	char *rest = NULL, *p = line;
	int n = 0;

	while (n < 5 && *p && !rest) {
		t[n++] = p;
		p += strcspn(p, " ");
		if (*p)
			*p++ = '\0';
		if (n == 3 && !strcmp(t[0], "field"))
			rest = p;
	}
	if (!strcmp(t[0], "documents"))
		expect_num(c, "documents", hf_manifest_doc_count(m), t[1]);
	else if (!strcmp(t[0], "objects"))
		expect_num(c, "objects", hf_manifest_object_count(m), t[1]);
	else if (!strcmp(t[0], "warnings"))
		expect_num(c, "warnings", hf_manifest_warning_count(m), t[1]);
	else if (!strcmp(t[0], "field"))
		check_value_line(c, t, rest);
	else if (!strcmp(t[0], "expand") || !strcmp(t[0], "doctype") ||
	         !strcmp(t[0], "docobjs"))
		check_doc_line(c, t);
	else if (*t[3])
		check_field_line(c, t);
	else
		check_object_line(c, t);
}

static int run_valid_case(const char *name)
{
	char *in = data_path("valid", name, "input.yaml");
	char *ex = data_path("valid", name, "expected");
	char *text = hf_read_file(ex, NULL), *line, *next;
	struct vcase c = { name, NULL, 0 };
	hf_manifest *m = load_path(in);

	assert_non_null(text);
	c.m = m;
	if (hf_manifest_error_count(m) ||
	    (!strstr(text, "warnings ") && hf_manifest_warning_count(m)))
		vfail(&c, "unexpected problems");
	for (line = text; *line; line = next) {
		next = line + strcspn(line, "\n");
		if (*next)
			*next++ = '\0';
		if (*line && *line != '#')
			check_line(&c, line);
	}
	if (c.failed)
		print_diags(m);
	hf_manifest_free(m);
	hf_free(text);
	hf_free(in);
	hf_free(ex);
	return c.failed;
}

static void test_manifest__valid_cases(void **state)
{
	size_t n, i;
	char **cases = list_cases("valid", &n);
	int failed = 0;

	(void)state;
	assert_true(n >= 10);
	for (i = 0; i < n; i++)
		failed += run_valid_case(cases[i]);
	free_cases(cases, n);
	assert_int_equal(failed, 0);
}

/* ---- invalid cases: the exact list of problems ---- */

static void render_diags(hf_buf *b, const hf_manifest *m, const char *in)
{
	enum hf_mdiag_level lv;
	const hf_error *e;
	size_t i;

	for (i = 0; i < hf_manifest_diag_count(m); i++) {
		e = hf_manifest_diag_at(m, i, &lv);
		if (strcmp(e->where, in))
			hf_buf_addf(b, "(where '%s') ", e->where);
		hf_buf_addf(b, "%d:%d %s%s\n", e->line, e->col,
		            lv == HF_MDIAG_WARNING ? "warning: " : "", e->msg);
	}
}

static int run_invalid_case(const char *name)
{
	char *in = data_path("invalid", name, "input.yaml");
	char *ex = data_path("invalid", name, "expected");
	char *want = hf_read_file(ex, NULL);
	hf_buf got = HF_BUF_INIT;
	hf_error err = HF_ERROR_INIT;
	hf_manifest *m;
	int failed = 0, rc;

	assert_non_null(want);
	assert_int_equal(hf_manifest_new(&m), 0);
	rc = hf_manifest_add_path(m, in, &err);
	render_diags(&got, m, in);
	if (strcmp(got.ptr, want)) {
		print_error("invalid/%s: got\n%s-- want\n%s", name, got.ptr,
		            want);
		failed = 1;
	}
	if (rc != HF_EINVAL || !hf_manifest_error_count(m) ||
	    err.code != HF_EINVAL || strcmp(err.where, in) || !err.line) {
		print_error("invalid/%s: rc %d, first error '%s'\n", name, rc,
		            err.msg);
		failed = 1;
	}
	hf_manifest_free(m);
	hf_buf_release(&got);
	hf_free(want);
	hf_free(in);
	hf_free(ex);
	return failed;
}

static void test_manifest__invalid_cases(void **state)
{
	size_t n, i;
	char **cases = list_cases("invalid", &n);
	int failed = 0;

	(void)state;
	assert_true(n >= 15);
	for (i = 0; i < n; i++)
		failed += run_invalid_case(cases[i]);
	free_cases(cases, n);
	assert_int_equal(failed, 0);
}

/* ---- API ---- */

static const char two_docs[] = "apiVersion: infrahub.app/v1\n"
                               "kind: Object\n"
                               "metadata: {owner: me}\n"
                               "spec:\n"
                               "  kind: BuiltinTag\n"
                               "  parameters: {expand_range: false}\n"
                               "  data:\n"
                               "    - {name: a}\n"
                               "---\n"
                               "apiVersion: infrahub.app/v1\n"
                               "kind: Object\n"
                               "spec:\n"
                               "  kind: LocationSite\n"
                               "  data:\n"
                               "    - name: s\n"
                               "      devices:\n"
                               "        data: [{name: d1}, {name: d2}]\n";

static void test_manifest__iteration_api(void **state)
{
	hf_manifest *m = load_text(two_docs);
	const hf_mfile *f;
	const hf_mdoc *d;
	const hf_mobj *o;
	const hf_mfield *fl;

	(void)state;
	assert_int_equal(hf_manifest_error_count(m), 0);
	assert_int_equal(hf_manifest_file_count(m), 1);
	f = hf_manifest_file_at(m, 0);
	assert_string_equal(hf_mfile_path(f), "t.yml");
	assert_int_equal(hf_mfile_doc_count(f), 2);
	assert_int_equal(hf_mfile_object_count(f), 4);
	d = hf_mfile_doc_at(f, 1);
	assert_ptr_equal(d, hf_manifest_doc_at(m, 1));
	assert_ptr_equal(hf_mdoc_file(d), f);
	assert_int_equal(hf_mdoc_index(d), 1);
	assert_string_equal(hf_mdoc_kind(d), "LocationSite");
	assert_int_equal(hf_yval_line(hf_mdoc_kind_node(d)), 13);
	assert_null(hf_mdoc_parameters(d));
	assert_null(hf_mdoc_metadata(d));
	d = hf_manifest_doc_at(m, 0);
	assert_string_equal(
	        hf_yval_text(hf_yval_get(hf_mdoc_metadata(d), "owner"), NULL),
	        "me");
	assert_non_null(hf_mdoc_parameters(d));
	assert_int_equal(hf_yval_type(hf_mdoc_root(d)), HF_YVAL_MAP);
	assert_null(hf_mfile_doc_at(f, 2));
	assert_null(hf_manifest_object_at(m, 4));

	o = hf_manifest_object_at(m, 3);
	assert_null(hf_mobj_kind(o));
	assert_null(hf_mobj_kind_node(o));
	assert_string_equal(hf_mobj_file(o), "t.yml");
	assert_int_equal(hf_mobj_line(o), 17);
	assert_ptr_equal(hf_mobj_doc(o), hf_manifest_doc_at(m, 1));
	fl = hf_mobj_parent_field(o);
	assert_string_equal(hf_mfield_name(fl), "devices");
	assert_ptr_equal(hf_mfield_child_at(fl, 1), o);
	assert_null(hf_mfield_child_at(fl, 2));
	assert_null(hf_mobj_field_at(o, 1));
	assert_null(hf_mobj_field(o, "nope"));
	/* the schema stage fills in kinds of children without kind: */
	assert_int_equal(hf_manifest_set_object_kind(m, 3, "DcimDevice"), 0);
	assert_string_equal(hf_mobj_kind(o), "DcimDevice");
	assert_int_equal(hf_manifest_set_object_kind(m, 9, "X"), HF_EINVAL);
	hf_manifest_free(m);
}

/*
 * After the documents go, the files, their names (the same pointers the
 * objects gave out), the diagnostics and the digest stay; the documents
 * and objects are gone, and the manifest can still be freed.
 */
static void test_manifest__drop_documents_keeps_files(void **state)
{
	hf_manifest *m = load_text(two_docs);
	const char *name = hf_mobj_file(hf_manifest_object_at(m, 3));
	char before[65], after[65];

	(void)state;
	hf_manifest_digest(m, before);
	assert_int_equal(hf_manifest_object_count(m), 4);
	hf_manifest_drop_documents(m);
	assert_int_equal(hf_manifest_object_count(m), 0);
	assert_int_equal(hf_manifest_doc_count(m), 0);
	assert_null(hf_manifest_object_at(m, 0));
	assert_int_equal(hf_manifest_file_count(m), 1);
	assert_ptr_equal(hf_mfile_path(hf_manifest_file_at(m, 0)), name);
	assert_string_equal(name, "t.yml");
	assert_int_equal(hf_mfile_doc_count(hf_manifest_file_at(m, 0)), 0);
	assert_null(hf_mfile_doc_at(hf_manifest_file_at(m, 0), 0));
	hf_manifest_digest(m, after);
	assert_string_equal(before, after);
	hf_manifest_drop_documents(m); /* twice is harmless */
	hf_manifest_free(m);
}

static void test_manifest__yval_accessors(void **state)
{
	hf_manifest *m = load_text("kind: Object\n"
	                           "spec:\n"
	                           "  kind: K\n"
	                           "  data:\n"
	                           "    - list: [1, \"two\", {three: 3}]\n"
	                           "      big: 99999999999999999999\n"
	                           "      n: -0x10\n"
	                           "      nul: \"a\\0b\"\n");
	const hf_mobj *o = hf_manifest_object_at(m, 0);
	const hf_yval *l = hf_mfield_value(hf_mobj_field(o, "list")), *v;
	long long ll;
	size_t len;

	(void)state;
	assert_int_equal(hf_yval_count(l), 3);
	assert_string_equal(hf_yval_describe(l), "a list");
	assert_string_equal(hf_yval_describe(hf_yval_item(l, 0)), "an integer");
	assert_string_equal(hf_yval_describe(hf_yval_item(l, 1)), "a string");
	v = hf_yval_item(l, 2);
	assert_string_equal(hf_yval_describe(v), "a mapping");
	assert_string_equal(hf_yval_text(hf_yval_key(v, 0), NULL), "three");
	assert_string_equal(hf_yval_text(hf_yval_value(v, 0), NULL), "3");
	assert_null(hf_yval_key(v, 1));
	assert_null(hf_yval_item(v, 0));
	assert_null(hf_yval_item(l, 3));
	assert_null(hf_yval_text(v, &len));
	assert_int_equal(len, 0);
	assert_int_equal(hf_yval_style(l), HF_YSTYLE_FLOW);
	/* an int too large for long long still resolves as an int */
	v = hf_mfield_value(hf_mobj_field(o, "big"));
	assert_int_equal(hf_yval_resolve(v), HF_YRES_INT);
	assert_int_equal(hf_yval_as_int(v, &ll), HF_EINVAL);
	assert_int_equal(
	        hf_yval_as_int(hf_mfield_value(hf_mobj_field(o, "n")), &ll), 0);
	assert_int_equal(ll, -16);
	assert_int_equal(hf_yval_as_int(hf_yval_item(l, 1), &ll), HF_EINVAL);
	v = hf_mfield_value(hf_mobj_field(o, "nul"));
	assert_non_null(hf_yval_text(v, &len));
	assert_int_equal(len, 3);
	assert_null(hf_yval_get(l, "x"));
	assert_int_equal(hf_yval_type(NULL), HF_YVAL_NULL);
	hf_manifest_free(m);
}

/*
 * Tags: kept on the few nodes that have one (beside the node), resolving
 * as YAML says; those the SDK cannot read are refused.
 */
static void test_manifest__tags(void **state)
{
	hf_manifest *m = load_text("kind: Object\n"
	                           "spec:\n"
	                           "  kind: K\n"
	                           "  data:\n"
	                           "    - s: !!str 123\n"
	                           "      i: 123\n"
	                           "      l: !!seq [a]\n"
	                           "      m: !!map {a: 1}\n"
	                           "      r: x[1-2]\n");
	const hf_mobj *o = hf_manifest_object_at(m, 0);
	const hf_yval *v;
	size_t i;
	int bad = 0;

	(void)state;
	assert_int_equal(hf_manifest_error_count(m), 0);
	v = hf_mfield_value(hf_mobj_field(o, "s"));
	assert_string_equal(hf_yval_tag(v), "tag:yaml.org,2002:str");
	assert_int_equal(hf_yval_resolve(v), HF_YRES_STR);
	assert_string_equal(hf_yval_text(v, NULL), "123");
	v = hf_mfield_value(hf_mobj_field(o, "i"));
	assert_null(hf_yval_tag(v));
	assert_int_equal(hf_yval_resolve(v), HF_YRES_INT);
	v = hf_mfield_value(hf_mobj_field(o, "l"));
	assert_string_equal(hf_yval_tag(v), "tag:yaml.org,2002:seq");
	assert_int_equal(hf_yval_count(v), 1);
	v = hf_mfield_value(hf_mobj_field(o, "m"));
	assert_string_equal(hf_yval_tag(v), "tag:yaml.org,2002:map");
	assert_string_equal(hf_yval_text(hf_yval_get(v, "a"), NULL), "1");
	hf_manifest_free(m);
	m = load_text("kind: Object\nspec:\n  kind: K\n  data:\n"
	              "    - f: !include other.yml\n");
	for (i = 0; i < hf_manifest_diag_count(m); i++)
		bad += strstr(hf_manifest_diag_at(m, i, NULL)->msg,
		              "unsupported tag '!include'") != NULL;
	assert_int_equal(bad, 1);
	hf_manifest_free(m);
}

static void test_manifest__every_error_reported(void **state)
{
	hf_buf b = HF_BUF_INIT;
	hf_manifest *m;
	int i;

	(void)state;
	hf_buf_add(&b, "kind: Object\nspec:\n  kind: K\n  data:\n");
	for (i = 0; i < 50; i++)
		hf_buf_add(&b, "    - bad\n");
	m = load_text(b.ptr);
	assert_int_equal(hf_manifest_error_count(m), 50);
	assert_int_equal(hf_manifest_diag_count(m), 50);
	assert_int_equal(hf_manifest_diag_at(m, 49, NULL)->line, 54);
	assert_null(hf_manifest_diag_at(m, 50, NULL));
	hf_manifest_free(m);
	/* more than are stored are still counted */
	for (i = 0; i < 1100; i++)
		hf_buf_add(&b, "    - bad\n");
	m = load_text(b.ptr);
	assert_int_equal(hf_manifest_error_count(m), 1150);
	assert_int_equal(hf_manifest_diag_count(m), 1000);
	hf_manifest_free(m);
	hf_buf_release(&b);
}

static void test_manifest__missing_path(void **state)
{
	hf_error err = HF_ERROR_INIT;
	enum hf_mdiag_level lv;
	hf_manifest *m;

	(void)state;
	assert_int_equal(hf_manifest_new(&m), 0);
	assert_int_equal(hf_manifest_add_path(m, "no/such.yml", &err),
	                 HF_ENOTFOUND);
	assert_string_equal(err.msg,
	                    "cannot open 'no/such.yml': No such file or "
	                    "directory");
	assert_int_equal(hf_manifest_diag_count(m), 1);
	assert_string_equal(hf_manifest_diag_at(m, 0, &lv)->where, "");
	assert_int_equal(lv, HF_MDIAG_ERROR);
	assert_int_equal(hf_manifest_file_count(m), 0);
	hf_manifest_free(m);
}

static void write_in(const char *dir, const char *name, const char *text)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(hf_write_file(path, text), 0);
}

static const char tag_doc[] = "kind: Object\n"
                              "spec: {kind: BuiltinTag, data: [{name: x}]}\n";

static void test_manifest__directory_walk_is_sorted(void **state)
{
	const char *dir = hf_test_tmpdir("manifest_walk");
	static const char *const want[] = {
		"/10_b.yml",     "/1_a.yaml", "/2_dir/x.yml",
		"/2_dir/y.json", "/3.yml",
	};
	char sub[512];
	hf_manifest *m;
	size_t i, dl = strlen(dir);
	const char *p;

	(void)state;
	snprintf(sub, sizeof(sub), "%s/2_dir", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(sub, sizeof(sub), "%s/.hidden", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	write_in(dir, "3.yml", tag_doc);
	write_in(dir, "1_a.yaml", tag_doc);
	write_in(dir, "10_b.yml", tag_doc);
	write_in(dir, "2_dir/y.json",
	         "{\"kind\": \"Object\", \"spec\": {\"kind\": \"T\", "
	         "\"data\": [{\"name\": \"j\"}]}}");
	write_in(dir, "2_dir/x.yml", tag_doc);
	write_in(dir, "notes.txt", "not: yaml: at: all");
	write_in(dir, ".skip.yml", "bad: [");
	write_in(dir, ".hidden/h.yml", "bad: [");
	m = load_path(dir);
	print_diags(m);
	assert_int_equal(hf_manifest_diag_count(m), 0);
	assert_int_equal(hf_manifest_file_count(m), 5);
	assert_int_equal(hf_manifest_object_count(m), 5);
	for (i = 0; i < 5; i++) {
		p = hf_mfile_path(hf_manifest_file_at(m, i));
		assert_memory_equal(p, dir, dl);
		assert_string_equal(p + dl, want[i]);
	}
	hf_manifest_free(m);
}

static void test_manifest__dir_without_objects_warns(void **state)
{
	const char *dir = hf_test_tmpdir("manifest_noobj");
	enum hf_mdiag_level lv;
	const hf_error *e;
	hf_buf want = HF_BUF_INIT;
	hf_manifest *m;

	(void)state;
	write_in(dir, "schema.yml", "version: '1.0'\ngenerics: []\n");
	m = load_path(dir);
	assert_int_equal(hf_manifest_error_count(m), 0);
	assert_int_equal(hf_manifest_warning_count(m), 2);
	e = hf_manifest_diag_at(m, 0, &lv);
	assert_int_equal(lv, HF_MDIAG_WARNING);
	assert_string_equal(e->msg,
	                    "schema document, not an object file; skipped");
	assert_int_equal(e->line, 1);
	e = hf_manifest_diag_at(m, 1, &lv);
	hf_buf_addf(&want, "no object files in '%s'", dir);
	assert_string_equal(e->msg, want.ptr);
	assert_string_equal(e->where, "");
	assert_int_equal(hf_manifest_doc_count(m), 1);
	assert_int_equal(hf_manifest_object_count(m), 0);
	hf_manifest_free(m);
	hf_buf_release(&want);
}

/* ---- loading in parts (hf_manifest_load_new()) ---- */

/* Every file, document, object and diagnostic of b is a's, in order. */
static void assert_same_load(const hf_manifest *a, const hf_manifest *b)
{
	enum hf_mdiag_level la, lb;
	const hf_error *ea, *eb;
	const hf_mobj *oa, *ob;
	const hf_mdoc *da, *db;
	char ha[65], hb[65];
	size_t i, k;

	assert_int_equal(hf_manifest_diag_count(b), hf_manifest_diag_count(a));
	assert_int_equal(hf_manifest_error_count(b),
	                 hf_manifest_error_count(a));
	assert_int_equal(hf_manifest_warning_count(b),
	                 hf_manifest_warning_count(a));
	for (i = 0; i < hf_manifest_diag_count(a); i++) {
		ea = hf_manifest_diag_at(a, i, &la);
		eb = hf_manifest_diag_at(b, i, &lb);
		assert_int_equal(lb, la);
		assert_string_equal(eb->where, ea->where);
		assert_int_equal(eb->line, ea->line);
		assert_int_equal(eb->col, ea->col);
		assert_string_equal(eb->msg, ea->msg);
	}
	assert_int_equal(hf_manifest_file_count(b), hf_manifest_file_count(a));
	for (i = 0; i < hf_manifest_file_count(a); i++) {
		assert_string_equal(hf_mfile_path(hf_manifest_file_at(b, i)),
		                    hf_mfile_path(hf_manifest_file_at(a, i)));
		assert_int_equal(
		        hf_mfile_object_count(hf_manifest_file_at(b, i)),
		        hf_mfile_object_count(hf_manifest_file_at(a, i)));
		assert_int_equal(hf_mfile_doc_count(hf_manifest_file_at(b, i)),
		                 hf_mfile_doc_count(hf_manifest_file_at(a, i)));
		/* a file's documents are its own, numbered from 0 */
		for (k = 0; k < hf_mfile_doc_count(hf_manifest_file_at(b, i));
		     k++) {
			db = hf_mfile_doc_at(hf_manifest_file_at(b, i), k);
			assert_ptr_equal(hf_mdoc_file(db),
			                 hf_manifest_file_at(b, i));
			assert_int_equal(hf_mdoc_index(db), k);
		}
	}
	assert_int_equal(hf_manifest_doc_count(b), hf_manifest_doc_count(a));
	for (i = 0; i < hf_manifest_doc_count(a); i++) {
		da = hf_manifest_doc_at(a, i);
		db = hf_manifest_doc_at(b, i);
		assert_int_equal(hf_mdoc_type(db), hf_mdoc_type(da));
		assert_int_equal(hf_mdoc_index(db), hf_mdoc_index(da));
		assert_int_equal(hf_mdoc_object_first(db),
		                 hf_mdoc_object_first(da));
		assert_int_equal(hf_mdoc_object_count(db),
		                 hf_mdoc_object_count(da));
		assert_string_equal(hf_mfile_path(hf_mdoc_file(db)),
		                    hf_mfile_path(hf_mdoc_file(da)));
	}
	assert_int_equal(hf_manifest_object_count(b),
	                 hf_manifest_object_count(a));
	for (i = 0; i < hf_manifest_object_count(a); i++) {
		oa = hf_manifest_object_at(a, i);
		ob = hf_manifest_object_at(b, i);
		assert_int_equal(hf_mobj_index(ob), i);
		assert_string_equal(hf_mobj_kind(ob) ? hf_mobj_kind(ob) : "-",
		                    hf_mobj_kind(oa) ? hf_mobj_kind(oa) : "-");
		assert_string_equal(hf_mobj_file(ob), hf_mobj_file(oa));
		assert_int_equal(hf_mobj_line(ob), hf_mobj_line(oa));
		assert_int_equal(hf_mobj_col(ob), hf_mobj_col(oa));
		assert_int_equal(hf_mobj_field_count(ob),
		                 hf_mobj_field_count(oa));
		assert_int_equal(hf_mobj_item_index(ob),
		                 hf_mobj_item_index(oa));
		assert_int_equal(hf_mobj_parent(ob) != NULL,
		                 hf_mobj_parent(oa) != NULL);
		/* within its document's range of objects */
		db = hf_mobj_doc(ob);
		assert_true(hf_mdoc_object_first(db) <= i &&
		            i < hf_mdoc_object_first(db) +
		                            hf_mdoc_object_count(db));
	}
	hf_manifest_digest(a, ha);
	hf_manifest_digest(b, hb);
	assert_string_equal(hb, ha);
}

struct part_arg {
	hf_manifest_load *job;
	size_t k;
};

static void *part_main(void *arg)
{
	struct part_arg *pa = arg;

	hf_manifest_load_part(pa->job, pa->k);
	return NULL;
}

/* The paths loaded in at most `parts` parts, on threads or not. */
static hf_manifest *load_in_parts(const char *const *paths, size_t n,
                                  size_t parts, int threads)
{
	struct part_arg pa[8];
	pthread_t t[8];
	hf_manifest_load *job;
	hf_manifest *m;
	size_t i, np;

	assert_int_equal(hf_manifest_new(&m), 0);
	assert_int_equal(hf_manifest_load_new(&job, m, paths, n, parts), 0);
	np = hf_manifest_load_parts(job);
	assert_true(np >= 1 && np <= parts && np <= 8);
	for (i = 0; i < np; i++) {
		pa[i].job = job;
		pa[i].k = np - 1 - i; /* the last part first */
		if (threads)
			assert_int_equal(
			        pthread_create(&t[i], NULL, part_main, &pa[i]),
			        0);
		else
			part_main(&pa[i]);
	}
	for (i = 0; threads && i < np; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	hf_manifest_load_end(job);
	return m;
}

/*
 * Loading in parts, on threads or not, gives what loading the paths one
 * after the other gives: the same files in the same order, documents,
 * objects (numbered in order, their documents' ranges moved with them),
 * diagnostics in order (the walk's among the files', a missing path, a
 * directory without object files, a YAML error, an empty file, a
 * warning), and the same digest.
 */
static void test_manifest__loading_in_parts(void **state)
{
	const char *dir = hf_test_tmpdir("manifest_parts");
	char a[512], missing[512], b[512], noobj[512], sub[512];
	const char *paths[4] = { a, missing, b, noobj };
	hf_manifest *one, *m;
	size_t i, parts;
	int threads;

	(void)state;
	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(missing, sizeof(missing), "%s/missing", dir);
	snprintf(b, sizeof(b), "%s/b.yml", dir);
	snprintf(noobj, sizeof(noobj), "%s/noobj", dir);
	assert_int_equal(mkdir(a, 0755), 0);
	assert_int_equal(mkdir(noobj, 0755), 0);
	snprintf(sub, sizeof(sub), "%s/a/sub", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	write_in(dir, "a/01.yml",
	         "kind: Object\nspec:\n  kind: BuiltinTag\n  data:\n"
	         "    - {name: red, name: blue}\n    - {name: green}\n"
	         "---\nkind: Object\nspec: {kind: BuiltinTag, data: "
	         "[{name: x}]}\n");
	write_in(dir, "a/02_bad.yml", "kind: Object\nspec: [\n");
	write_in(dir, "a/03_empty.yml", "");
	write_in(dir, "a/sub/04.yml",
	         "kind: Object\nspec:\n  kind: DcimDevice\n"
	         "  parameters: {expand_range: true}\n  data:\n"
	         "    - name: leaf[1-2]\n      interfaces:\n"
	         "        kind: InterfacePhysical\n        data:\n"
	         "          - {name: 'Ethernet[1-3]'}\n"
	         "      sites: [{kind: S, data: {name: s1}}]\n");
	write_in(dir, "a/sub/05.json",
	         "{\"kind\": \"Object\", \"spec\": {\"kind\": \"T\", "
	         "\"data\": [{\"name\": \"j\"}]}}");
	write_in(dir, "a/sub/06_schema.yml", "version: '1.0'\nnodes: []\n");
	write_in(dir, "a/07.yaml", tag_doc);
	write_in(dir, "b.yml", tag_doc);
	write_in(dir, "noobj/schema.yml", "version: '1.0'\ngenerics: []\n");
	assert_int_equal(hf_manifest_new(&one), 0);
	for (i = 0; i < 4; i++)
		(void)hf_manifest_add_path(one, paths[i], NULL);
	assert_int_equal(hf_manifest_file_count(one), 9);
	assert_true(hf_manifest_error_count(one) >= 3);
	assert_true(hf_manifest_warning_count(one) >= 3);
	for (parts = 1; parts <= 8; parts++)
		for (threads = 0; threads < 2; threads++) {
			m = load_in_parts(paths, 4, parts, threads);
			assert_same_load(one, m);
			hf_manifest_free(m);
		}
	/*
	 * A path twice, a file twice (a directory and a file in it), and
	 * past MAX_DIAGS: what one thread says of a repeat depends on what
	 * it said before, so these load on one thread, and match.
	 */
	{
		char many[512], f01[512];
		const char *twice[3] = { a, b, a };
		const char *inside[2] = { a, f01 };
		const char *loud[2] = { many, b };
		hf_buf t = HF_BUF_INIT;
		const char *const *sets[3] = { twice, inside, loud };
		const size_t nset[3] = { 3, 2, 2 };
		size_t s;

		snprintf(f01, sizeof(f01), "%s/a/01.yml", dir);
		snprintf(many, sizeof(many), "%s/many.yml", dir);
		hf_buf_add(&t, "kind: Object\nspec:\n  kind: K\n  data:\n");
		for (i = 0; i < 1100; i++)
			hf_buf_add(&t, "    - {a: 1, a: 2}\n");
		write_in(dir, "many.yml", t.ptr);
		hf_buf_release(&t);
		for (s = 0; s < 3; s++) {
			hf_manifest_free(one);
			assert_int_equal(hf_manifest_new(&one), 0);
			for (i = 0; i < nset[s]; i++)
				(void)hf_manifest_add_path(one, sets[s][i],
				                           NULL);
			m = load_in_parts(sets[s], nset[s], 4, 1);
			assert_same_load(one, m);
			hf_manifest_free(m);
		}
		assert_int_equal(hf_manifest_warning_count(one), 1100);
	}
	/* no paths, or nothing in them */
	m = load_in_parts(paths + 1, 1, 3, 1);
	assert_int_equal(hf_manifest_file_count(m), 0);
	assert_int_equal(hf_manifest_error_count(m), 1);
	hf_manifest_free(m);
	m = load_in_parts(paths, 0, 3, 0);
	assert_int_equal(hf_manifest_diag_count(m), 0);
	hf_manifest_free(m);
	hf_manifest_free(one);
}

static void test_manifest__bad_file_does_not_stop_next(void **state)
{
	hf_error err = HF_ERROR_INIT;
	hf_manifest *m;

	(void)state;
	assert_int_equal(hf_manifest_new(&m), 0);
	assert_int_equal(hf_manifest_add_buffer(m, "a.yml", "x: [", 4, &err),
	                 HF_EINVAL);
	assert_string_equal(err.where, "a.yml");
	assert_int_equal(hf_manifest_add_buffer(m, "b.yml", tag_doc,
	                                        strlen(tag_doc), &err),
	                 0);
	assert_int_equal(hf_manifest_add_buffer(m, "c.yml", "", 0, &err),
	                 HF_EINVAL);
	assert_string_equal(err.msg, "empty file");
	assert_int_equal(hf_manifest_file_count(m), 3);
	assert_int_equal(hf_manifest_object_count(m), 1);
	assert_int_equal(hf_manifest_error_count(m), 2);
	hf_manifest_free(m);
}

/* ---- allocation failures ---- */

static const char torture_doc[] =
        "apiVersion: infrahub.app/v1\n"
        "kind: Object\n"
        "spec:\n"
        "  kind: DcimDevice\n"
        "  parameters: {expand_range: true}\n"
        "  data:\n"
        "    - &d\n"
        "      name: leaf[1-2]\n"
        "      role: leaf\n"
        "      role: spine\n"
        "      interfaces:\n"
        "        kind: InterfacePhysical\n"
        "        data:\n"
        "          - {name: 'Ethernet[1-3]', speed: 1000}\n"
        "      tenant: {data: {name: t}}\n"
        "      sites: [{kind: S, data: {name: s1}}]\n"
        "    - <<: *d\n"
        "      name: spine\n"
        "    - {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9,\n"
        "       j: 1, k: 1, l: 1, m: 1, n: 1, o: 1, p: 1, q: 1, a: 2}\n"
        "---\n"
        "kind: Objects\n"
        "spec: {kind: X, data: [1]}\n";

static void test_manifest__allocation_failures(void **state)
{
	hf_manifest *m;
	long fail_n;
	int rc;

	(void)state;
	for (fail_n = 1;; fail_n++) {
		m = NULL;
		hf_failalloc_nth(fail_n);
		rc = hf_manifest_new(&m);
		if (!rc)
			rc = hf_manifest_add_buffer(m, "t.yml", torture_doc,
			                            sizeof(torture_doc) - 1,
			                            NULL);
		hf_failalloc_reset();
		if (rc == HF_EINVAL) {
			/* the allocation never failed: the full result */
			assert_false(hf_failalloc_failed());
			assert_int_equal(hf_manifest_object_count(m), 19);
			assert_int_equal(hf_manifest_error_count(m), 2);
			assert_false(hf_manifest_failed(m));
			hf_manifest_free(m);
			break;
		}
		assert_int_equal(rc, HF_ENOMEM);
		if (m) {
			/* still safe to query, and says it is incomplete */
			(void)hf_manifest_object_count(m);
			(void)hf_manifest_diag_count(m);
			assert_true(hf_manifest_failed(m));
		}
		hf_manifest_free(m);
	}
	assert_true(fail_n > 20);
}

/* ---- size ---- */

static void test_manifest__large_input(void **state)
{
	hf_buf b = HF_BUF_INIT;
	hf_manifest *m;
	const hf_mobj *o;
	const hf_yval *v;
	int i;

	(void)state;
	hf_buf_add(&b, "kind: Object\nspec:\n  kind: K\n  data:\n");
	for (i = 0; i < 100000; i++)
		hf_buf_addf(&b, "    - {name: n%d, k: [a, {b: c}]}\n", i);
	hf_buf_add(&b, "    - {");
	for (i = 0; i < 100000; i++)
		hf_buf_addf(&b, "%sf%d: %d", i ? ", " : "", i, i);
	hf_buf_add(&b, ", f5: dup}\n");
	assert_false(hf_buf_failed(&b));
	m = load_text(b.ptr);
	assert_int_equal(hf_manifest_error_count(m), 0);
	assert_int_equal(hf_manifest_warning_count(m), 1);
	assert_int_equal(hf_manifest_object_count(m), 100001);
	o = hf_manifest_object_at(m, 100000);
	assert_int_equal(hf_mobj_field_count(o), 100000);
	v = hf_mfield_value(hf_mobj_field_at(o, 5));
	assert_string_equal(hf_yval_text(v, NULL), "dup");
	hf_manifest_free(m);
	hf_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifest__valid_cases),
		cmocka_unit_test(test_manifest__invalid_cases),
		cmocka_unit_test(test_manifest__iteration_api),
		cmocka_unit_test(test_manifest__drop_documents_keeps_files),
		cmocka_unit_test(test_manifest__yval_accessors),
		cmocka_unit_test(test_manifest__tags),
		cmocka_unit_test(test_manifest__every_error_reported),
		cmocka_unit_test(test_manifest__missing_path),
		cmocka_unit_test(test_manifest__directory_walk_is_sorted),
		cmocka_unit_test(test_manifest__loading_in_parts),
		cmocka_unit_test(test_manifest__dir_without_objects_warns),
		cmocka_unit_test(test_manifest__bad_file_does_not_stop_next),
		cmocka_unit_test(test_manifest__allocation_failures),
		cmocka_unit_test(test_manifest__large_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
