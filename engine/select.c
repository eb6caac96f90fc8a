/*
 * --target / --exclude: which objects a plan covers. See hf/select.h.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hf/alloc.h"
#include "hf/array.h"
#include "hf/buf.h"
#include "hf/select.h"
#include "hf/banned.h"

enum addr_type { A_KIND, A_HFID, A_PATH };

struct addr {
	enum addr_type type;
	char *text; /* as given */
	char *kind; /* A_KIND, A_HFID */
	char *hfid; /* A_HFID: parts joined with "__" */
	char *path; /* A_PATH: resolved (realpath when it exists) */
	int is_dir;
};

struct hf_select {
	struct addr *t, *x;
	size_t nt, nx;
	json_t *real; /* object file name -> its realpath (a cache) */
};

static void addr_release(struct addr *a)
{
	hf_free(a->text);
	hf_free(a->kind);
	hf_free(a->hfid);
	hf_free(a->path);
}

void hf_select_free(hf_select *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nt; i++)
		addr_release(&s->t[i]);
	for (i = 0; i < s->nx; i++)
		addr_release(&s->x[i]);
	hf_free(s->t);
	hf_free(s->x);
	json_decref(s->real);
	hf_free(s);
}

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);

	return n >= m && !strcmp(s + n - m, tail);
}

static int looks_like_path(const char *s)
{
	struct stat sb;

	return strchr(s, '/') || ends_with(s, ".yml") ||
	       ends_with(s, ".yaml") || stat(s, &sb) == 0;
}

static int is_kind_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 ||
	    !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

static int parse_path(struct addr *a, const char *s)
{
	char buf[PATH_MAX];
	struct stat sb;

	a->type = A_PATH;
	a->path = hf_strdup(realpath(s, buf) ? buf : s);
	a->is_dir = stat(s, &sb) == 0 && S_ISDIR(sb.st_mode);
	return a->path ? 0 : HF_ENOMEM;
}

static int parse_addr(struct addr *a, const char *s, const char *opt,
                      hf_error *err)
{
	const char *br = strchr(s, '[');
	size_t n = strlen(s);

	memset(a, 0, sizeof(*a));
	if (!(a->text = hf_strdup(s)))
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	if (n == 0)
		return hf_error_set(err, HF_EINVAL, "%s: an empty address",
		                    opt);
	if (br && s[n - 1] == ']' && is_kind_name(s, (size_t)(br - s))) {
		a->type = A_HFID;
		a->kind = hf_strdup(s);
		a->hfid = hf_strdup(br + 1);
		if (!a->kind || !a->hfid)
			return hf_error_set(err, HF_ENOMEM, "out of memory");
		a->kind[br - s] = '\0';
		a->hfid[strlen(a->hfid) - 1] = '\0';
		if (!a->hfid[0])
			return hf_error_set(err, HF_EINVAL,
			                    "%s '%s': the brackets hold no "
			                    "human-friendly id",
			                    opt, s);
		return 0;
	}
	if (is_kind_name(s, n)) {
		a->type = A_KIND;
		a->kind = hf_strdup(s);
		return a->kind ? 0
		               : hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	if (looks_like_path(s))
		return parse_path(a, s) < 0
		               ? hf_error_set(err, HF_ENOMEM, "out of memory")
		               : 0;
	return hf_error_set(err, HF_EINVAL,
	                    "%s '%s' is neither a kind, Kind[hfid] nor an "
	                    "object file path",
	                    opt, s);
}

static int parse_list(struct addr **out, size_t *nout, const char *const *v,
                      size_t n, const char *opt, hf_error *err)
{
	size_t i;
	int rc;

	*out = n ? hf_calloc(n, sizeof(**out)) : NULL;
	if (n && !*out)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		*nout = i + 1;
		rc = parse_addr(&(*out)[i], v[i], opt, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int hf_select_new(hf_select **out, const char *const *targets, size_t nt,
                  const char *const *excludes, size_t ne, hf_error *err)
{
	hf_select *s = hf_calloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	if (!s || !(s->real = json_object())) {
		hf_free(s);
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	rc = parse_list(&s->t, &s->nt, targets, nt, "--target", err);
	if (rc == 0)
		rc = parse_list(&s->x, &s->nx, excludes, ne, "--exclude", err);
	if (rc < 0) {
		hf_select_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int hf_select_active(const hf_select *s)
{
	return s && (s->nt || s->nx);
}

static int check_list(const struct addr *a, size_t n, const hf_schema *schema,
                      const char *opt, hf_error *err)
{
	const char *hint;
	size_t i;

	for (i = 0; i < n; i++) {
		if (a[i].type == A_PATH || hf_schema_kind(schema, a[i].kind))
			continue;
		hint = hf_schema_suggest_kind(schema, a[i].kind);
		return hf_error_set(err, HF_EINVAL,
		                    "%s '%s': kind '%s' is not in the target's "
		                    "schema%s%s%s",
		                    opt, a[i].text, a[i].kind,
		                    hint ? "; did you mean '" : "",
		                    hint ? hint : "", hint ? "'?" : "");
	}
	return 0;
}

int hf_select_check(const hf_select *s, const hf_schema *schema, hf_error *err)
{
	int rc = check_list(s->t, s->nt, schema, "--target", err);

	return rc ? rc : check_list(s->x, s->nx, schema, "--exclude", err);
}

static int kind_match(const hf_schema *schema, const char *want,
                      const char *kind)
{
	const hf_kind *k;

	if (!strcmp(want, kind))
		return 1;
	k = schema ? hf_schema_kind(schema, kind) : NULL;
	return k && strcmp(want, "CoreNode") && hf_schema_is_a(schema, k, want);
}

static int hfid_match(const char *joined, const json_t *hfid)
{
	hf_buf b = HF_BUF_INIT;
	json_t *part;
	size_t i;
	int ok;

	if (!json_is_array(hfid))
		return 0;
	json_array_foreach(hfid, i, part)
	{
		hf_buf_addf(&b, "%s%s", i ? "__" : "",
		            json_string_value(part) ? json_string_value(part)
		                                    : "");
	}
	ok = !hf_buf_failed(&b) && !strcmp(b.ptr ? b.ptr : "", joined);
	hf_buf_release(&b);
	return ok;
}

/* The object file's realpath, cached (the name itself when it fails). */
static const char *real_of(const hf_select *s, const char *file)
{
	char buf[PATH_MAX];
	json_t *v = json_object_get(s->real, file);

	if (v)
		return json_string_value(v);
	v = json_string(realpath(file, buf) ? buf : file);
	if (!v || json_object_set_new(s->real, file, v) < 0)
		return file;
	return json_string_value(v);
}

static int path_match(const hf_select *s, const struct addr *a,
                      const char *file)
{
	const char *r;
	size_t n;

	if (!file)
		return 0;
	r = real_of(s, file);
	if (!a->is_dir)
		return !strcmp(r, a->path);
	n = strlen(a->path);
	return !strncmp(r, a->path, n) &&
	       (r[n] == '/' || a->path[n - 1] == '/');
}

static int addr_match(const hf_select *s, const struct addr *a,
                      const hf_schema *schema, const char *kind,
                      const json_t *hfid, const char *file)
{
	switch (a->type) {
	case A_KIND:
		return kind_match(schema, a->kind, kind);
	case A_HFID:
		return kind_match(schema, a->kind, kind) &&
		       hfid_match(a->hfid, hfid);
	case A_PATH:
	default:
		return path_match(s, a, file);
	}
}

static int any_match(const hf_select *s, const struct addr *a, size_t n,
                     const hf_schema *schema, const char *kind,
                     const json_t *hfid, const char *file)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (addr_match(s, &a[i], schema, kind, hfid, file))
			return 1;
	}
	return 0;
}

int hf_select_match(const hf_select *s, const hf_schema *schema,
                    const char *kind, const json_t *hfid, const char *file)
{
	if (!s)
		return 1;
	if (s->nt && !any_match(s, s->t, s->nt, schema, kind, hfid, file))
		return 0;
	return !any_match(s, s->x, s->nx, schema, kind, hfid, file);
}

/*
 * Kind and Kind[hfid] addresses only. Without an HFID, a Kind[hfid]
 * address matches when `may` (a target: the object may be the one).
 */
static int prune_any(const hf_select *s, const struct addr *a, size_t n,
                     const hf_schema *schema, const char *kind,
                     const json_t *hfid, int may)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (a[i].type == A_PATH)
			continue;
		if (a[i].type == A_HFID && !hfid) {
			if (may && kind_match(schema, a[i].kind, kind))
				return 1;
			continue;
		}
		if (addr_match(s, &a[i], schema, kind, hfid, NULL))
			return 1;
	}
	return 0;
}

int hf_select_prunable(const hf_select *s, const hf_schema *schema,
                       const char *kind, const json_t *hfid)
{
	if (!s)
		return 1;
	if (s->nt && !prune_any(s, s->t, s->nt, schema, kind, hfid, 1))
		return 0;
	return !prune_any(s, s->x, s->nx, schema, kind, hfid, 0);
}

/* The desired object a reference names, or -1 (generic peers too). */
static long ref_target(const hf_objset *want, const hf_schema *schema,
                       const struct hf_ref *r)
{
	const hf_kind *k, *const *impl;
	size_t i, n;
	long at;

	if (!r->kind || !r->hfid)
		return -1;
	at = hf_objset_find(want, r->kind, r->hfid);
	if (at >= 0 || !schema || !(k = hf_schema_kind(schema, r->kind)))
		return at;
	n = hf_schema_implementations(schema, k, &impl);
	for (i = 0; i < n && at < 0; i++)
		at = hf_objset_find(want, hf_schema_kind_name(impl[i]),
		                    r->hfid);
	return at;
}

/* Mark what the marked objects depend on, transitively. */
static int close_deps(const hf_objset *want, const hf_schema *schema,
                      char *mark)
{
	size_t n = hf_objset_count(want), top = 0, i, j, k;
	size_t *stack = hf_calloc(n ? n : 1, sizeof(*stack));
	const struct hf_object *o;
	long at;

	if (!stack)
		return HF_ENOMEM;
	for (i = 0; i < n; i++)
		if (mark[i])
			stack[top++] = i;
	while (top) {
		o = hf_objset_at(want, stack[--top]);
		for (j = 0; j < o->nfields; j++) {
			for (k = 0; k < o->fields[j].nrefs; k++) {
				at = ref_target(want, schema,
				                &o->fields[j].refs[k]);
				if (at < 0 || mark[at])
					continue;
				mark[at] = 1;
				stack[top++] = (size_t)at;
			}
		}
	}
	hf_free(stack);
	return 0;
}

int hf_select_filter(const hf_select *s, const hf_schema *schema,
                     hf_objset **want, hf_error *err)
{
	size_t n = hf_objset_count(*want), i;
	char *mark = hf_calloc(n ? n : 1, 1);
	hf_objset *out = NULL;
	struct hf_object *o;
	int rc = 0;

	if (!mark || hf_objset_new(&out) < 0) {
		hf_free(mark);
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++) {
		o = hf_objset_at(*want, i);
		mark[i] = !s->nt || any_match(s, s->t, s->nt, schema, o->kind,
		                              o->hfid, o->file);
	}
	if (s->nt)
		rc = close_deps(*want, schema, mark);
	for (i = 0; rc == 0 && i < n; i++) {
		o = hf_objset_at(*want, i);
		if (mark[i] && !any_match(s, s->x, s->nx, schema, o->kind,
		                          o->hfid, o->file))
			rc = hf_objset_add(out, o, err);
	}
	hf_free(mark);
	if (rc < 0) {
		/* objects already moved are lost with `out`: report OOM */
		hf_objset_free(out);
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	hf_objset_free(*want);
	*want = out;
	return 0;
}
