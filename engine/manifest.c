/*
 * The object-file loader: libyaml events -> a position-carrying value tree
 * (hf/yval.h) -> documents and objects (hf/manifest.h).
 *
 * The tree is built from events with an explicit stack rather than
 * recursion, so a deeply nested file cannot overflow the C stack; nesting
 * is capped at MAX_DEPTH anyway, which bounds the recursion of the later
 * walks. Children of open collections wait on one shared scratch stack
 * and are copied into the arena when the collection ends, so building is
 * linear. Everything the manifest owns lives in one arena, which makes
 * aliases (shared nodes) free and the teardown trivial.
 *
 * Problems are recorded as diagnostics and loading carries on: a libyaml
 * error ends its file only, a bad document does not stop the next one.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "hf/alloc.h"
#include "hf/arena.h"
#include "hf/array.h"
#include "hf/buf.h"
#include "hf/hex.h"
#include "hf/manifest.h"
#include "hf/map.h"
#include "hf/range.h"
#include "hf/sha256.h"
#include "yval_int.h"
#include "hf/banned.h"

#define MAX_DEPTH     256 /* YAML nesting */
#define MAX_DIR_DEPTH 64 /* directory recursion */
#define MAX_DIAGS     1000 /* stored; all are counted */
#define MAX_OBJECTS   4000000 /* guards against alias bombs */
#define MAX_FIELDS    32000000
#define MAX_FILE_SIZE (256u << 20)
#define SMALL_MAP     16 /* below this, duplicate keys by scan */
#define DIAG_DEDUP    64 /* recent diagnostics checked for repeats */

#define API_VERSION "infrahub.app/v1"

struct pvec {
	void **v;
	size_t n, cap;
};

struct diag {
	hf_error e;
	int level;
};

/*
 * A field: 24 bytes, as a repository has millions. Its name is its key's
 * text; the rare field holding nested objects has them on the side.
 */
struct hf_mnested {
	int nest; /* enum hf_mnest, never HF_MNEST_NONE */
	const hf_yval *kind; /* its `kind:`, when it has one */
	size_t nchild;
	const hf_mobj **child;
};

struct hf_mfield {
	const hf_yval *key;
	const hf_yval *value;
	struct hf_mnested *nested; /* NULL: plain value */
};

_Static_assert(sizeof(struct hf_mfield) == 3 * sizeof(void *),
               "struct hf_mfield grew");

struct hf_mobj {
	size_t index;
	const char *kind;
	const hf_yval *kind_node;
	const hf_mdoc *doc;
	const hf_yval *node;
	const hf_mobj *parent;
	const hf_mfield *pfield;
	size_t item_index;
	int expand;
	size_t nfield;
	hf_mfield *fields;
};

struct hf_mdoc {
	int type;
	const hf_mfile *file;
	size_t index;
	const hf_yval *root;
	const char *kind;
	const hf_yval *kind_node;
	const hf_yval *params;
	const hf_yval *metadata;
	int expand;
	size_t first, count;
};

struct hf_mfile {
	const hf_manifest *m;
	const char *path;
	size_t first_doc, ndoc;
	size_t nobj;
	unsigned char hash[32]; /* of the bytes parsed */
};

struct hf_manifest {
	hf_arena arena; /* documents, objects and their YAML values */
	hf_arena names; /* the files and their names: outlive the documents */
	struct pvec files, docs, objs;
	struct diag *diags;
	size_t ndiag, diag_cap;
	size_t nerr, nwarn;
	size_t nfields;
	int oom;
	int too_many;
	size_t object_docs; /* object documents loaded so far */
	/* over each file's name and the hash of the bytes parsed */
	struct hf_sha256 digest;
};

/* ---- small helpers ---- */

static int pvec_push(struct pvec *p, void *x)
{
	if (HF_ARRAY_GROW(p->v, p->cap, p->n + 1) < 0)
		return HF_ENOMEM;
	p->v[p->n++] = x;
	return 0;
}

static void pvec_release(struct pvec *p)
{
	hf_free(p->v);
	p->v = NULL;
	p->n = 0;
	p->cap = 0;
}

static int nomem(hf_manifest *m)
{
	m->oom = 1;
	return HF_ENOMEM;
}

/* Keep a diagnostic (counted by the caller), up to MAX_DIAGS. */
static void keep_diag(hf_manifest *m, const struct diag *d)
{
	if (m->ndiag >= MAX_DIAGS)
		return;
	if (HF_ARRAY_GROW(m->diags, m->diag_cap, m->ndiag + 1) < 0) {
		m->oom = 1;
		return;
	}
	m->diags[m->ndiag++] = *d;
}

__attribute__((format(printf, 6, 0))) static void
vdiag(hf_manifest *m, int level, const char *file, int line, int col,
      const char *fmt, va_list ap)
{
	struct diag nd = { HF_ERROR_INIT, level };
	hf_error *e = &nd.e;
	const struct diag *d;
	size_t i;

	snprintf(e->where, sizeof(e->where), "%s", file ? file : "");
	e->line = line;
	e->col = col;
	hf_error_setv(e, level == HF_MDIAG_ERROR ? HF_EINVAL : HF_OK, fmt, ap);
	/*
	 * A node shared by aliases, or copied by range expansion, is checked
	 * once per use: say the same thing at the same place only once.
	 */
	for (i = m->ndiag; i > 0 && i + DIAG_DEDUP > m->ndiag; i--) {
		d = &m->diags[i - 1];
		if (d->level == level && d->e.line == line && d->e.col == col &&
		    !strcmp(d->e.where, e->where) && !strcmp(d->e.msg, e->msg))
			return;
	}
	if (level == HF_MDIAG_ERROR)
		m->nerr++;
	else
		m->nwarn++;
	keep_diag(m, &nd);
}

__attribute__((format(printf, 6, 7))) static void
diag_pos(hf_manifest *m, int level, const char *file, int line, int col,
         const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(m, level, file, line, col, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 4, 5))) static void
diag_at(hf_manifest *m, int level, const hf_yval *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(m, level, at->file, at->line, at->col, fmt, ap);
	va_end(ap);
}

#define error_at(m, at, ...)   diag_at(m, HF_MDIAG_ERROR, at, __VA_ARGS__)
#define warning_at(m, at, ...) diag_at(m, HF_MDIAG_WARNING, at, __VA_ARGS__)

static int is_scalar(const hf_yval *v)
{
	return v && (v->type == HF_YVAL_SCALAR || v->type == HF_YVAL_NULL);
}

static int text_is(const hf_yval *v, const char *s)
{
	return is_scalar(v) && v->len == strlen(s) &&
	       !memcmp(v->text, s, v->len);
}

/* ---- building the value tree from events ---- */

struct frame {
	hf_yval *node;
	size_t base; /* first child in the scratch stack */
	const char *anchor;
};

struct parser {
	hf_manifest *m;
	hf_mfile *file;
	const char *name; /* arena copy of the file name */
	const char *text;
	size_t len;
	yaml_parser_t yp;
	struct frame *stack;
	size_t depth, stack_cap;
	hf_yval **scratch;
	size_t ns, scratch_cap;
	hf_map anchors;
	hf_yval *root;
	size_t docs_seen; /* non-empty documents in this file */
};

static int clamp(size_t n)
{
	return n >= (size_t)INT_MAX ? INT_MAX : (int)n + 1;
}

/* A node, with its tag when it has one (NULL: out of memory). */
static hf_yval *new_node(struct parser *P, int type, yaml_mark_t mark,
                         const yaml_char_t *tag)
{
	struct hf_yval_tagged *t = NULL;
	hf_yval *v;

	if (tag) {
		t = hf_arena_alloc_ptr(&P->m->arena, sizeof(*t));
		v = t ? &t->v : NULL;
	} else {
		v = hf_arena_alloc_ptr(&P->m->arena, sizeof(*v));
	}
	if (!v)
		return NULL;
	if (t) {
		t->tag = hf_arena_strndup(&P->m->arena, (const char *)tag,
		                          strlen((const char *)tag));
		if (!t->tag)
			return NULL;
		v->tagged = 1;
	}
	v->type = (unsigned char)type;
	v->file = P->name;
	v->line = clamp(mark.line);
	v->col = clamp(mark.column);
	return v;
}

static const char *copy_str(struct parser *P, const yaml_char_t *s)
{
	if (!s)
		return NULL;
	return hf_arena_strndup(&P->m->arena, (const char *)s,
	                        strlen((const char *)s));
}

static int scratch_push(struct parser *P, hf_yval *v)
{
	if (HF_ARRAY_GROW(P->scratch, P->scratch_cap, P->ns + 1) < 0)
		return nomem(P->m);
	P->scratch[P->ns++] = v;
	return 0;
}

/* A complete node: register its anchor, hand it to its parent. */
static int add_node(struct parser *P, hf_yval *v, const char *anchor)
{
	if (anchor && hf_map_put(&P->anchors, anchor, strlen(anchor), v) < 0)
		return nomem(P->m);
	if (!P->depth) {
		P->root = v;
		return 0;
	}
	return scratch_push(P, v);
}

static int style_of(yaml_scalar_style_t s)
{
	switch (s) {
	case YAML_SINGLE_QUOTED_SCALAR_STYLE:
		return HF_YSTYLE_SINGLE;
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
		return HF_YSTYLE_DOUBLE;
	case YAML_LITERAL_SCALAR_STYLE:
		return HF_YSTYLE_LITERAL;
	case YAML_FOLDED_SCALAR_STYLE:
		return HF_YSTYLE_FOLDED;
	default:
		return HF_YSTYLE_PLAIN;
	}
}

/*
 * PyYAML's safe_load refuses any tag it has no constructor for, so the SDK
 * cannot read a file that uses one (e.g. `!include`).
 */
static void check_tag(struct parser *P, const hf_yval *v)
{
	static const char *const known[] = {
		"null",  "bool", "int", "float", "binary", "timestamp", "omap",
		"pairs", "set",  "str", "seq",   "map",    "merge",     NULL,
	};
	static const char prefix[] = "tag:yaml.org,2002:";
	const char *const *k;
	const char *tag = yval_tag(v);

	if (!tag || !strcmp(tag, "!"))
		return;
	if (!strncmp(tag, prefix, sizeof(prefix) - 1))
		for (k = known; *k; k++)
			if (!strcmp(tag + sizeof(prefix) - 1, *k))
				return;
	error_at(P->m, v, "unsupported tag '%s'", tag);
}

static int on_scalar(struct parser *P, const yaml_event_t *ev)
{
	hf_yval *v = new_node(P, HF_YVAL_SCALAR, ev->start_mark,
	                      ev->data.scalar.tag);
	const char *anchor;

	if (!v)
		return nomem(P->m);
	v->style = (unsigned char)style_of(ev->data.scalar.style);
	v->len = ev->data.scalar.length;
	v->text = hf_arena_strndup(&P->m->arena,
	                           (const char *)ev->data.scalar.value, v->len);
	anchor = copy_str(P, ev->data.scalar.anchor);
	if (!v->text || (ev->data.scalar.anchor && !anchor))
		return nomem(P->m);
	if (hf_yval_resolve(v) == HF_YRES_NULL)
		v->type = HF_YVAL_NULL;
	check_tag(P, v);
	/*
	 * "\0" in a double-quoted scalar: C strings, SQLite text and
	 * Infrahub's database all end a value there, so it could never
	 * round-trip. Refused here, where the user can see it.
	 */
	if (memchr(v->text, '\0', v->len))
		error_at(P->m, v,
		         "a value must not contain a NUL character "
		         "(\\0): Infrahub cannot store it");
	return add_node(P, v, anchor);
}

static int on_start(struct parser *P, const yaml_event_t *ev, int type)
{
	const yaml_char_t *anchor, *tag;
	struct frame *f;
	int flow;

	if (P->depth >= MAX_DEPTH) {
		diag_pos(P->m, HF_MDIAG_ERROR, P->name,
		         clamp(ev->start_mark.line),
		         clamp(ev->start_mark.column),
		         "nesting deeper than %d levels", MAX_DEPTH);
		return HF_EINVAL;
	}
	if (HF_ARRAY_GROW(P->stack, P->stack_cap, P->depth + 1) < 0)
		return nomem(P->m);
	if (type == HF_YVAL_SEQ) {
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		flow = ev->data.sequence_start.style ==
		       YAML_FLOW_SEQUENCE_STYLE;
	} else {
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
		flow = ev->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE;
	}
	f = &P->stack[P->depth];
	f->node = new_node(P, type, ev->start_mark, tag);
	f->anchor = copy_str(P, anchor);
	if (!f->node || (anchor && !f->anchor))
		return nomem(P->m);
	f->node->style = flow ? HF_YSTYLE_FLOW : HF_YSTYLE_BLOCK;
	check_tag(P, f->node);
	f->base = P->ns;
	P->depth++;
	return 0;
}

static int finish_seq(struct parser *P, hf_yval *v, size_t base)
{
	size_t n = P->ns - base;

	v->n = n;
	if (!n)
		return 0;
	v->items = hf_arena_calloc(&P->m->arena, n, sizeof(*v->items));
	if (!v->items)
		return nomem(P->m);
	memcpy(v->items, P->scratch + base, n * sizeof(*v->items));
	return 0;
}

/*
 * Mapping construction: scalar keys only, later duplicates replace the
 * value of the first (PyYAML's dict), `<<` merges whatever is not set.
 */
struct mapb {
	hf_yval **out; /* pairs */
	size_t n;
	int use_tab;
	hf_map tab; /* key -> 1 + pair index */
};

static size_t find_pair(const struct mapb *mb, const hf_yval *key)
{
	size_t i;

	if (mb->use_tab)
		return (size_t)(uintptr_t)hf_map_get(&mb->tab, key->text,
		                                     key->len);
	for (i = 0; i < mb->n; i++)
		if (mb->out[2 * i]->len == key->len &&
		    !memcmp(mb->out[2 * i]->text, key->text, key->len))
			return i + 1;
	return 0;
}

static int add_pair(struct parser *P, struct mapb *mb, hf_yval *k, hf_yval *v,
                    int explicit)
{
	size_t at;

	if (!is_scalar(k)) {
		error_at(P->m, k, "mapping key must be a scalar, found %s",
		         hf_yval_describe(k));
		return 0;
	}
	at = find_pair(mb, k);
	if (at) {
		if (!explicit)
			return 0;
		warning_at(P->m, k, "duplicate key '%s' (the last one wins)",
		           k->text);
		mb->out[2 * (at - 1) + 1] = v;
		return 0;
	}
	mb->out[2 * mb->n] = k;
	mb->out[2 * mb->n + 1] = v;
	mb->n++;
	if (mb->use_tab &&
	    hf_map_put(&mb->tab, k->text, k->len, (void *)(uintptr_t)mb->n) < 0)
		return nomem(P->m);
	return 0;
}

static int is_merge_key(const hf_yval *k)
{
	if (!text_is(k, "<<") || k->style != HF_YSTYLE_PLAIN)
		return 0;
	return !yval_tag(k) || !strcmp(yval_tag(k), "tag:yaml.org,2002:merge");
}

/* Pairs a merge value brings: its mapping, or the mappings it lists. */
static size_t merge_size(const hf_yval *v)
{
	size_t n = 0, i;

	if (v->type == HF_YVAL_MAP)
		return v->n;
	if (v->type != HF_YVAL_SEQ)
		return 0;
	for (i = 0; i < v->n; i++)
		if (v->items[i]->type == HF_YVAL_MAP)
			n += v->items[i]->n;
	return n;
}

static int merge_one(struct parser *P, struct mapb *mb, const hf_yval *src)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < src->n && !rc; i++)
		rc = add_pair(P, mb, src->items[2 * i], src->items[2 * i + 1],
		              0);
	return rc;
}

static int merge(struct parser *P, struct mapb *mb, const hf_yval *v)
{
	size_t i;
	int rc = 0;

	if (v->type == HF_YVAL_MAP)
		return merge_one(P, mb, v);
	for (i = 0; v->type == HF_YVAL_SEQ && i < v->n && !rc; i++) {
		if (v->items[i]->type != HF_YVAL_MAP)
			break;
		rc = merge_one(P, mb, v->items[i]);
	}
	if (!rc && (v->type != HF_YVAL_SEQ || i < v->n))
		error_at(P->m, v,
		         "merge value must be a mapping or a list of mappings");
	return rc;
}

static int finish_map(struct parser *P, hf_yval *v, size_t base)
{
	hf_yval **in;
	size_t npairs = (P->ns - base) / 2, cap = 0, i;
	struct mapb mb = { NULL, 0, 0, HF_MAP_INIT };
	int rc = 0;

	if (!npairs)
		return 0; /* "{}": scratch may not exist yet */
	in = P->scratch + base;
	for (i = 0; i < npairs; i++)
		cap += is_merge_key(in[2 * i]) ? merge_size(in[2 * i + 1]) : 1;
	if (!cap)
		return 0;
	mb.out = hf_arena_calloc(&P->m->arena, cap, 2 * sizeof(*mb.out));
	if (!mb.out)
		return nomem(P->m);
	mb.use_tab = cap > SMALL_MAP;
	for (i = 0; i < npairs && !rc; i++)
		if (!is_merge_key(in[2 * i]))
			rc = add_pair(P, &mb, in[2 * i], in[2 * i + 1], 1);
	for (i = 0; i < npairs && !rc; i++)
		if (is_merge_key(in[2 * i]))
			rc = merge(P, &mb, in[2 * i + 1]);
	hf_map_release(&mb.tab);
	v->items = mb.out;
	v->n = mb.n;
	return rc;
}

static int on_end(struct parser *P)
{
	struct frame *f = &P->stack[--P->depth];
	int rc;

	if (f->node->type == HF_YVAL_SEQ)
		rc = finish_seq(P, f->node, f->base);
	else
		rc = finish_map(P, f->node, f->base);
	P->ns = f->base;
	if (rc < 0)
		return rc;
	return add_node(P, f->node, f->anchor);
}

static int on_alias(struct parser *P, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	hf_yval *v = hf_map_get(&P->anchors, name, strlen(name));

	if (v)
		return add_node(P, v, NULL);
	v = new_node(P, HF_YVAL_NULL, ev->start_mark, NULL);
	if (!v)
		return nomem(P->m);
	v->text = "";
	error_at(P->m, v, "unknown anchor '%s'", name);
	return add_node(P, v, NULL);
}

/* ---- documents ---- */

static int process_document(struct parser *P);

/* line and column of a byte offset, for reader errors */
static void offset_pos(const struct parser *P, size_t off, int *line, int *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off && i < P->len; i++) {
		if (P->text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static void yaml_failed(struct parser *P)
{
	const yaml_parser_t *yp = &P->yp;
	const char *problem = yp->problem ? yp->problem : "error";
	const char *hint = "";
	size_t off;
	int line, col;

	if (yp->error == YAML_MEMORY_ERROR) {
		nomem(P->m);
		return;
	}
	if (yp->error == YAML_READER_ERROR) {
		off = yp->problem_offset;
		offset_pos(P, off, &line, &col);
	} else {
		off = yp->problem_mark.index;
		line = clamp(yp->problem_mark.line);
		col = clamp(yp->problem_mark.column);
	}
	if (off < P->len && P->text[off] == '\t')
		hint = "; indent with spaces, not tabs";
	if (yp->context)
		diag_pos(P->m, HF_MDIAG_ERROR, P->name, line, col,
		         "invalid yaml: %s (%s)%s", problem, yp->context, hint);
	else
		diag_pos(P->m, HF_MDIAG_ERROR, P->name, line, col,
		         "invalid yaml: %s%s", problem, hint);
}

static int on_event(struct parser *P, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		hf_map_reset(&P->anchors);
		P->root = NULL;
		return 0;
	case YAML_DOCUMENT_END_EVENT:
		return process_document(P);
	case YAML_SCALAR_EVENT:
		return on_scalar(P, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_start(P, ev, HF_YVAL_SEQ);
	case YAML_MAPPING_START_EVENT:
		return on_start(P, ev, HF_YVAL_MAP);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_end(P);
	case YAML_ALIAS_EVENT:
		return on_alias(P, ev);
	default:
		return 0;
	}
}

/* Parse the whole stream; a libyaml error ends this file only. */
static int parse_stream(struct parser *P)
{
	yaml_event_t ev;
	int rc = 0, done = 0;

	while (!done && !rc) {
		if (!yaml_parser_parse(&P->yp, &ev)) {
			yaml_failed(P);
			return P->m->oom ? HF_ENOMEM : HF_EINVAL;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		rc = on_event(P, &ev);
		yaml_event_delete(&ev);
	}
	return rc;
}

/* ---- objects ---- */

/* Where a list of objects goes and what its objects inherit. */
struct bctx {
	hf_mdoc *doc;
	const char *kind;
	const hf_yval *kind_node;
	hf_mobj *parent;
	hf_mfield *pfield;
	int expand; /* expand ranges in this list */
	int inherit; /* what nested blocks inherit */
	struct pvec *out; /* collects children, NULL at the top */
	size_t next; /* item index of the last object made */
};

/* One expanding field of an item: its values. */
struct xfield {
	size_t field;
	char **vals;
	size_t n;
};

static int build_list(hf_manifest *m, struct bctx *c, const hf_yval *list);

static int string_text(const hf_yval *v)
{
	return hf_yval_is_string(v) && v->len > 0;
}

/*
 * A `parameters` mapping: its expand_range, when given, replaces *expand.
 * Reports problems; returns 1 when the parameters are valid.
 */
static int check_params(hf_manifest *m, const hf_yval *params, const char *what,
                        int *expand)
{
	const hf_yval *er;
	int b;

	if (!params || params->type == HF_YVAL_NULL)
		return 1;
	if (params->type != HF_YVAL_MAP) {
		error_at(m, params, "%s must be a mapping, found %s", what,
		         hf_yval_describe(params));
		return 0;
	}
	er = hf_yval_get(params, "expand_range");
	if (!er)
		return 1;
	if (hf_yval_as_bool(er, &b) < 0) {
		error_at(m, er, "%s.expand_range must be a boolean, found %s",
		         what, hf_yval_describe(er));
		return 0;
	}
	*expand = b;
	return 1;
}

static const hf_yval *subst(hf_manifest *m, const hf_yval *orig,
                            const char *text)
{
	struct hf_yval_tagged *t = hf_arena_alloc_ptr(&m->arena, sizeof(*t));
	hf_yval *v = t ? &t->v : NULL;

	if (!v)
		return NULL;
	*v = *orig;
	v->len = strlen(text);
	v->text = hf_arena_strndup(&m->arena, text, v->len);
	/* The SDK's expanded values are str, whatever they look like. */
	v->tagged = 1;
	t->tag = "tag:yaml.org,2002:str";
	return v->text ? v : NULL;
}

static int detect_nest(const hf_yval *v, const hf_yval **data)
{
	const hf_yval *d;
	size_t i;

	*data = NULL;
	if (v->type == HF_YVAL_MAP) {
		d = hf_yval_get(v, "data");
		if (d && d->type == HF_YVAL_MAP) {
			*data = d;
			return HF_MNEST_ONE;
		}
		if (!d || d->type != HF_YVAL_SEQ)
			return HF_MNEST_NONE;
		for (i = 0; i < d->n; i++)
			if (d->items[i]->type != HF_YVAL_MAP)
				return HF_MNEST_NONE;
		*data = d;
		return HF_MNEST_MANY_DICT;
	}
	if (v->type != HF_YVAL_SEQ || !v->n)
		return HF_MNEST_NONE;
	for (i = 0; i < v->n; i++) {
		d = hf_yval_get(v->items[i], "data");
		if (!d || d->type != HF_YVAL_MAP)
			return HF_MNEST_NONE;
	}
	*data = v;
	return HF_MNEST_MANY_LIST;
}

/* The `kind:` of a nested block: a non-empty string, or NULL. */
static const hf_yval *nested_kind(hf_manifest *m, const hf_yval *block)
{
	const hf_yval *k = hf_yval_get(block, "kind");

	if (!k || string_text(k))
		return k;
	error_at(m, k, "kind must be a string, found %s", hf_yval_describe(k));
	return NULL;
}

static int make_object(hf_manifest *m, struct bctx *c, const hf_yval *item,
                       const struct xfield *xf, size_t nx, size_t k);

static int copy_children(hf_manifest *m, hf_mfield *f, struct pvec *kids)
{
	if (!kids->n)
		return 0;
	f->nested->child =
	        hf_arena_calloc(&m->arena, kids->n, sizeof(*f->nested->child));
	if (!f->nested->child)
		return nomem(m);
	memcpy(f->nested->child, kids->v, kids->n * sizeof(*f->nested->child));
	f->nested->nchild = kids->n;
	return 0;
}

static int build_list_form(hf_manifest *m, struct bctx *cc, const hf_yval *list)
{
	const hf_yval *kn;
	int inherit = cc->inherit, rc = 0;
	size_t i;

	for (i = 0; i < list->n && !rc && !m->too_many; i++) {
		kn = nested_kind(m, list->items[i]);
		cc->kind = kn ? kn->text : NULL;
		cc->kind_node = kn;
		cc->next = i;
		cc->inherit = inherit;
		check_params(m, hf_yval_get(list->items[i], "parameters"),
		             "parameters", &cc->inherit);
		rc = make_object(m, cc, hf_yval_get(list->items[i], "data"),
		                 NULL, 0, 0);
	}
	return rc;
}

/* Children of a field that has the shape of nested objects. */
static int build_nested(hf_manifest *m, const struct bctx *c, hf_mobj *o,
                        hf_mfield *f)
{
	struct pvec kids = { NULL, 0, 0 };
	struct bctx cc = { c->doc, NULL, NULL, o, f, 0, c->inherit, &kids, 0 };
	const hf_yval *data, *kn = NULL;
	int nest, rc;

	nest = detect_nest(f->value, &data);
	if (nest == HF_MNEST_NONE)
		return 0;
	f->nested = hf_arena_alloc(&m->arena, sizeof(*f->nested));
	if (!f->nested)
		return nomem(m);
	f->nested->nest = nest;
	if (nest != HF_MNEST_MANY_LIST) {
		kn = nested_kind(m, f->value);
		cc.kind = kn ? kn->text : NULL;
		cc.kind_node = kn;
		f->nested->kind = kn;
	}
	/*
	 * A one-object block or list item holds a single object, so its
	 * `parameters` (expand_range) can only be for the lists nested in
	 * that object, which inherit them.
	 */
	if (nest == HF_MNEST_ONE) {
		check_params(m, hf_yval_get(f->value, "parameters"),
		             "parameters", &cc.inherit);
		rc = make_object(m, &cc, data, NULL, 0, 0);
	} else if (nest == HF_MNEST_MANY_DICT) {
		check_params(m, hf_yval_get(f->value, "parameters"),
		             "parameters", &cc.inherit);
		cc.expand = cc.inherit;
		rc = build_list(m, &cc, data);
	} else {
		rc = build_list_form(m, &cc, data);
	}
	if (!rc)
		rc = copy_children(m, f, &kids);
	pvec_release(&kids);
	return rc;
}

static int new_object(hf_manifest *m, const struct bctx *c, const hf_yval *item,
                      hf_mobj **out)
{
	hf_mobj *o;

	*out = NULL;
	if (m->objs.n >= MAX_OBJECTS || m->nfields + item->n > MAX_FIELDS) {
		if (!m->too_many)
			error_at(m, item,
			         "too many objects (the limit is %d "
			         "objects and %d fields); giving up",
			         MAX_OBJECTS, MAX_FIELDS);
		m->too_many = 1;
		return 0;
	}
	o = hf_arena_alloc(&m->arena, sizeof(*o));
	if (!o)
		return nomem(m);
	if (item->n) {
		o->fields =
		        hf_arena_calloc(&m->arena, item->n, sizeof(*o->fields));
		if (!o->fields)
			return nomem(m);
	}
	o->index = m->objs.n;
	if (pvec_push(&m->objs, o) < 0 || (c->out && pvec_push(c->out, o) < 0))
		return nomem(m);
	m->nfields += item->n;
	*out = o;
	return 0;
}

static int make_object(hf_manifest *m, struct bctx *c, const hf_yval *item,
                       const struct xfield *xf, size_t nx, size_t k)
{
	hf_mobj *o;
	hf_mfield *f;
	size_t i, j;
	int rc;

	rc = new_object(m, c, item, &o);
	if (rc < 0 || !o)
		return rc;
	o->kind = c->kind;
	o->kind_node = c->kind_node;
	o->doc = c->doc;
	o->node = item;
	o->parent = c->parent;
	o->pfield = c->pfield;
	o->item_index = ++c->next;
	o->expand = c->expand;
	o->nfield = item->n;
	for (i = 0; i < item->n; i++) {
		f = &o->fields[i];
		f->key = item->items[2 * i];
		f->value = item->items[2 * i + 1];
		for (j = 0; j < nx; j++)
			if (xf[j].field == i)
				f->value = subst(m, f->value, xf[j].vals[k]);
		if (!f->value)
			return nomem(m);
	}
	for (i = 0; i < o->nfield && !rc && !m->too_many; i++)
		rc = build_nested(m, c, o, &o->fields[i]);
	return rc;
}

static void free_xfields(struct xfield *xf, size_t nx)
{
	size_t i;

	for (i = 0; i < nx; i++)
		hf_range_free(xf[i].vals, xf[i].n);
	hf_free(xf);
}

static int expands(const hf_yval *v)
{
	return v->type == HF_YVAL_SCALAR && hf_range_has_group(v->text, v->len);
}

static void mismatch(hf_manifest *m, const hf_yval *item,
                     const struct xfield *xf, size_t nx)
{
	hf_buf b = HF_BUF_INIT;
	size_t i;

	for (i = 0; i < nx; i++)
		hf_buf_addf(&b, "%s%zu", i ? ", " : "", xf[i].n);
	if (hf_buf_failed(&b))
		nomem(m);
	else
		error_at(m, item,
		         "range expansion mismatch: fields expanded "
		         "to different lengths: [%s]",
		         b.ptr);
	hf_buf_release(&b);
}

/* Expand the item's range fields; *count is how many objects it makes. */
static int expand_fields(hf_manifest *m, const hf_yval *item,
                         struct xfield **out, size_t *nx, size_t *count)
{
	hf_error err = HF_ERROR_INIT;
	struct xfield *xf;
	const hf_yval *v;
	size_t i, n = 0;
	int rc;

	*out = NULL;
	*nx = 0;
	*count = 1;
	for (i = 0; i < item->n; i++)
		n += expands(item->items[2 * i + 1]);
	if (!n)
		return 0;
	xf = hf_calloc(n, sizeof(*xf));
	if (!xf)
		return nomem(m);
	for (i = 0, n = 0; i < item->n; i++) {
		v = item->items[2 * i + 1];
		if (!expands(v))
			continue;
		rc = hf_range_expand(&xf[n].vals, &xf[n].n, v->text, v->len, 0,
		                     &err);
		if (rc == HF_ENOMEM) {
			free_xfields(xf, n);
			return nomem(m);
		}
		if (rc < 0) {
			error_at(m, v, "%s", err.msg);
			continue;
		}
		xf[n++].field = i;
	}
	for (i = 1; i < n && xf[i].n == xf[0].n; i++)
		;
	if (i < n) {
		mismatch(m, item, xf, n);
		free_xfields(xf, n);
		return 0;
	}
	*out = xf;
	*nx = n;
	*count = n ? xf[0].n : 1;
	return 0;
}

static int build_item(hf_manifest *m, struct bctx *c, const hf_yval *item)
{
	struct xfield *xf = NULL;
	size_t nx = 0, count = 1, k;
	int rc = 0;

	if (item->type != HF_YVAL_MAP) {
		error_at(m, item, "object must be a mapping, found %s",
		         hf_yval_describe(item));
		return 0;
	}
	if (c->expand)
		rc = expand_fields(m, item, &xf, &nx, &count);
	for (k = 0; k < count && !rc && !m->too_many; k++)
		rc = make_object(m, c, item, xf, nx, k);
	free_xfields(xf, nx);
	return rc;
}

static int build_list(hf_manifest *m, struct bctx *c, const hf_yval *list)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < list->n && !rc && !m->too_many; i++)
		rc = build_item(m, c, list->items[i]);
	return rc;
}

/* ---- document checks ---- */

static int is_schema(const hf_yval *root)
{
	return hf_yval_get(root, "version") &&
	       (hf_yval_get(root, "nodes") || hf_yval_get(root, "generics") ||
	        hf_yval_get(root, "extensions"));
}

static const char *shown(const hf_yval *v)
{
	return is_scalar(v) ? v->text : hf_yval_describe(v);
}

/* apiVersion and kind; returns the document type it claims. */
static int check_header(hf_manifest *m, const hf_yval *root, int *bad)
{
	const hf_yval *api = hf_yval_get(root, "apiVersion");
	const hf_yval *kind = hf_yval_get(root, "kind");

	if (api && !(hf_yval_is_string(api) && text_is(api, API_VERSION))) {
		error_at(m, api, "unsupported apiVersion '%s', expected '%s'",
		         shown(api), API_VERSION);
		*bad = 1;
	}
	if (!kind) {
		error_at(m, root, "missing 'kind', expected 'Object'");
		*bad = 1;
	} else if (text_is(kind, "Menu")) {
		warning_at(m, kind, "not an object file (menu); skipped");
		return HF_MDOC_MENU;
	} else if (!text_is(kind, "Object")) {
		error_at(m, kind,
		         "unknown document kind '%s', expected 'Object'",
		         shown(kind));
		*bad = 1;
	}
	return HF_MDOC_OBJECT;
}

static void check_spec_kind(hf_manifest *m, hf_mdoc *d, const hf_yval *spec,
                            int *bad)
{
	const hf_yval *kind = hf_yval_get(spec, "kind");

	if (!kind) {
		error_at(m, spec, "missing 'spec.kind'");
	} else if (!hf_yval_is_string(kind)) {
		error_at(m, kind, "spec.kind must be a string, found %s",
		         hf_yval_describe(kind));
	} else if (!kind->len) {
		error_at(m, kind, "spec.kind must not be empty");
	} else {
		d->kind = kind->text;
		d->kind_node = kind;
		return;
	}
	*bad = 1;
}

/* spec.data: the list of objects, or NULL after saying why not */
static const hf_yval *spec_data(hf_manifest *m, const hf_yval *spec)
{
	const hf_yval *data = hf_yval_get(spec, "data");

	if (!data)
		error_at(m, spec, "missing 'spec.data'");
	else if (data->type != HF_YVAL_SEQ)
		error_at(m, data,
		         "spec.data must be a list of objects, found %s",
		         hf_yval_describe(data));
	else
		return data;
	return NULL;
}

static int check_spec(hf_manifest *m, hf_mdoc *d, int *bad)
{
	const hf_yval *spec = hf_yval_get(d->root, "spec"), *data;
	struct bctx c = { d, NULL, NULL, NULL, NULL, 0, 0, NULL, 0 };

	if (!spec || spec->type != HF_YVAL_MAP) {
		if (spec)
			error_at(m, spec, "spec must be a mapping, found %s",
			         hf_yval_describe(spec));
		else
			error_at(m, d->root, "missing 'spec'");
		*bad = 1;
		return 0;
	}
	check_spec_kind(m, d, spec, bad);
	d->params = hf_yval_get(spec, "parameters");
	if (!check_params(m, d->params, "spec.parameters", &d->expand))
		*bad = 1;
	data = spec_data(m, spec);
	if (!data) {
		*bad = 1;
		return 0;
	}
	c.kind = d->kind;
	c.kind_node = d->kind_node;
	c.expand = c.inherit = d->expand;
	return build_list(m, &c, data);
}

static int check_document(hf_manifest *m, hf_mdoc *d)
{
	const hf_yval *root = d->root, *meta;
	size_t nerr = m->nerr;
	int bad = 0, rc;

	d->type = HF_MDOC_INVALID;
	if (root->type != HF_YVAL_MAP) {
		error_at(m, root, "document must be a mapping, found %s",
		         hf_yval_describe(root));
		return 0;
	}
	if (!hf_yval_get(root, "kind") && is_schema(root)) {
		warning_at(m, root,
		           "schema document, not an object file; skipped");
		d->type = HF_MDOC_SCHEMA;
		return 0;
	}
	if (check_header(m, root, &bad) == HF_MDOC_MENU) {
		d->type = HF_MDOC_MENU;
		return 0;
	}
	meta = hf_yval_get(root, "metadata");
	if (meta && meta->type != HF_YVAL_MAP && meta->type != HF_YVAL_NULL) {
		error_at(m, meta, "metadata must be a mapping, found %s",
		         hf_yval_describe(meta));
		bad = 1;
	}
	d->metadata = meta;
	rc = check_spec(m, d, &bad);
	if (!bad && m->nerr == nerr)
		d->type = HF_MDOC_OBJECT;
	return rc;
}

static int process_document(struct parser *P)
{
	hf_manifest *m = P->m;
	hf_mdoc *d;
	int rc;

	if (!P->root || P->root->type == HF_YVAL_NULL)
		return 0;
	d = hf_arena_alloc(&m->arena, sizeof(*d));
	if (!d || pvec_push(&m->docs, d) < 0)
		return nomem(m);
	d->file = P->file;
	d->index = P->file->ndoc++;
	d->root = P->root;
	d->first = m->objs.n;
	rc = check_document(m, d);
	d->count = m->objs.n - d->first;
	P->file->nobj += d->count;
	if (d->type == HF_MDOC_OBJECT)
		m->object_docs++;
	return rc == HF_ENOMEM ? rc : 0;
}

/* ---- files and directories ---- */

static void parser_release(struct parser *P)
{
	yaml_parser_delete(&P->yp);
	hf_free(P->stack);
	hf_free(P->scratch);
	hf_map_release(&P->anchors);
}

/*
 * The file's hash, and the manifest's digest over each file's name and
 * hash (not its bytes: files loaded apart, hf_manifest_load_part(), give
 * the same digest once in order).
 */
static void digest_file(hf_manifest *m, const hf_mfile *f)
{
	hf_sha256_update(&m->digest, f->path, strlen(f->path) + 1);
	hf_sha256_update(&m->digest, f->hash, sizeof(f->hash));
}

static void file_hash(hf_manifest *m, hf_mfile *f, const char *text, size_t len)
{
	struct hf_sha256 c;

	hf_sha256_init(&c);
	hf_sha256_update(&c, text, len);
	hf_sha256_final(&c, f->hash);
	digest_file(m, f);
}

static int load_text(hf_manifest *m, const char *name, const char *text,
                     size_t len)
{
	struct parser P;
	hf_mfile *f;
	int rc;

	memset(&P, 0, sizeof(P));
	f = hf_arena_alloc(&m->names, sizeof(*f));
	if (!f)
		return nomem(m);
	f->m = m;
	f->path = hf_arena_strndup(&m->names, name, strlen(name));
	f->first_doc = m->docs.n;
	if (!f->path || pvec_push(&m->files, f) < 0)
		return nomem(m);
	file_hash(m, f, text, len);
	P.m = m;
	P.file = f;
	P.name = f->path;
	P.text = text;
	P.len = len;
	if (!yaml_parser_initialize(&P.yp))
		return nomem(m);
	yaml_parser_set_input_string(&P.yp, (const unsigned char *)text, len);
	rc = parse_stream(&P);
	if (!rc && !f->ndoc)
		diag_pos(m, HF_MDIAG_ERROR, f->path, 1, 1, "empty file");
	parser_release(&P);
	return m->oom ? HF_ENOMEM : 0;
}

static void errno_diag(hf_manifest *m, const char *what, const char *path,
                       int e)
{
	char buf[128];

	if (strerror_r(e, buf, sizeof(buf)))
		snprintf(buf, sizeof(buf), "error %d", e);
	diag_pos(m, HF_MDIAG_ERROR, "", 0, 0, "cannot %s '%s': %s", what, path,
	         buf);
}

static int read_all(hf_manifest *m, FILE *fp, const char *path, hf_buf *b)
{
	char tmp[16384];
	size_t n;

	while ((n = fread(tmp, 1, sizeof(tmp), fp)) > 0)
		if (hf_buf_addn(b, tmp, n) < 0)
			break;
	if (ferror(fp)) {
		errno_diag(m, "read", path, errno);
		return HF_EINVAL;
	}
	if (hf_buf_failed(b)) {
		if (b->len + sizeof(tmp) >= MAX_FILE_SIZE)
			diag_pos(m, HF_MDIAG_ERROR, "", 0, 0,
			         "cannot read '%s': larger than %u bytes", path,
			         MAX_FILE_SIZE);
		else
			return nomem(m);
		return HF_EINVAL;
	}
	return 0;
}

static int load_file(hf_manifest *m, const char *path)
{
	hf_buf b = HF_BUF_INIT;
	FILE *fp;
	int rc;

	fp = fopen(path, "rb");
	if (!fp) {
		errno_diag(m, "open", path, errno);
		return HF_ENOTFOUND;
	}
	hf_buf_init(&b, MAX_FILE_SIZE);
	rc = read_all(m, fp, path, &b);
	fclose(fp);
	if (!rc)
		rc = load_text(m, path, b.ptr, b.len);
	hf_buf_release(&b);
	return rc == HF_ENOMEM ? rc : 0;
}

static int has_ext(const char *name)
{
	static const char *const exts[] = { ".yml", ".yaml", ".json", NULL };
	size_t len = strlen(name), el;
	const char *const *e;

	for (e = exts; *e; e++) {
		el = strlen(*e);
		if (len > el && !strcmp(name + len - el, *e))
			return 1;
	}
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The directories being walked, to stop at symlink loops; with a job,
 * the files are listed for it, not loaded.
 */
struct walk {
	dev_t dev[MAX_DIR_DEPTH];
	ino_t ino[MAX_DIR_DEPTH];
	size_t depth;
	hf_manifest_load *job;
};

static int job_file(hf_manifest_load *job, const char *path, off_t size);

static int walk_dir(hf_manifest *m, const char *dir, struct walk *w);

static int list_dir(hf_manifest *m, const char *dir, struct pvec *names)
{
	struct dirent *de;
	char *s;
	DIR *dp;
	int rc = 0;

	dp = opendir(dir);
	if (!dp) {
		errno_diag(m, "open", dir, errno);
		return 0;
	}
	while (!rc && (de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		s = hf_strdup(de->d_name);
		if (!s || pvec_push(names, s) < 0) {
			hf_free(s);
			rc = nomem(m);
		}
	}
	closedir(dp);
	if (names->n)
		qsort(names->v, names->n, sizeof(*names->v), cmp_names);
	return rc;
}

static int visit(hf_manifest *m, const char *path, const char *name,
                 struct walk *w)
{
	struct stat st;
	size_t i;

	if (stat(path, &st) < 0) {
		errno_diag(m, "open", path, errno);
		return 0;
	}
	if (!S_ISDIR(st.st_mode) && !(S_ISREG(st.st_mode) && has_ext(name)))
		return 0;
	if (!S_ISDIR(st.st_mode))
		return w->job ? job_file(w->job, path, st.st_size)
		              : load_file(m, path);
	for (i = 0; i < w->depth; i++)
		if (w->dev[i] == st.st_dev && w->ino[i] == st.st_ino)
			return 0; /* a symlink loop: been there */
	if (w->depth == MAX_DIR_DEPTH) {
		diag_pos(m, HF_MDIAG_ERROR, "", 0, 0,
		         "cannot read '%s': directories nested too deep", path);
		return 0;
	}
	w->dev[w->depth] = st.st_dev;
	w->ino[w->depth] = st.st_ino;
	return walk_dir(m, path, w);
}

/* Walk directory `path` (st its stat): load its files, or list them. */
static int walk_top(hf_manifest *m, const char *path, const struct stat *st,
                    hf_manifest_load *job)
{
	struct walk w;

	w.depth = 0;
	w.dev[0] = st->st_dev;
	w.ino[0] = st->st_ino;
	w.job = job;
	return walk_dir(m, path, &w);
}

/* A directory walked without finding an object document in it. */
static void no_objects(hf_manifest *m, const char *dir)
{
	diag_pos(m, HF_MDIAG_WARNING, "", 0, 0, "no object files in '%s'", dir);
}

static int walk_dir(hf_manifest *m, const char *dir, struct walk *w)
{
	struct pvec names = { NULL, 0, 0 };
	hf_buf path = HF_BUF_INIT;
	size_t i, dl = strlen(dir);
	int rc;

	w->depth++;
	rc = list_dir(m, dir, &names);
	for (i = 0; i < names.n && !rc; i++) {
		hf_buf_reset(&path);
		hf_buf_add(&path, dir);
		if (dl && dir[dl - 1] != '/')
			hf_buf_addch(&path, '/');
		hf_buf_add(&path, names.v[i]);
		if (hf_buf_failed(&path))
			rc = nomem(m);
		else
			rc = visit(m, path.ptr, names.v[i], w);
	}
	for (i = 0; i < names.n; i++)
		hf_free(names.v[i]);
	pvec_release(&names);
	hf_buf_release(&path);
	w->depth--;
	return rc;
}

/* The result of one add call: status, and its first error in err. */
static int add_result(hf_manifest *m, size_t d0, size_t e0, int rc,
                      hf_error *err)
{
	size_t i;

	if (m->oom || rc == HF_ENOMEM)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	if (m->nerr == e0)
		return 0;
	for (i = d0; i < m->ndiag; i++) {
		if (m->diags[i].level != HF_MDIAG_ERROR)
			continue;
		if (err)
			*err = m->diags[i].e;
		break;
	}
	rc = rc == HF_ENOTFOUND ? rc : HF_EINVAL;
	if (err)
		err->code = rc;
	return rc;
}

int hf_manifest_add_path(hf_manifest *m, const char *path, hf_error *err)
{
	size_t d0 = m->ndiag, e0 = m->nerr, docs = m->object_docs;
	struct stat st;
	int rc;

	if (m->oom)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	if (stat(path, &st) < 0) {
		errno_diag(m, "open", path, errno);
		return add_result(m, d0, e0, HF_ENOTFOUND, err);
	}
	if (!S_ISDIR(st.st_mode))
		return add_result(m, d0, e0, load_file(m, path), err);
	rc = walk_top(m, path, &st, NULL);
	if (!rc && m->object_docs == docs)
		no_objects(m, path);
	return add_result(m, d0, e0, rc, err);
}

int hf_manifest_add_buffer(hf_manifest *m, const char *name, const char *text,
                           size_t len, hf_error *err)
{
	size_t d0 = m->ndiag, e0 = m->nerr;

	if (m->oom)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	return add_result(m, d0, e0, load_text(m, name, text, len), err);
}

/* ---- loading on several threads (hf_manifest_load_new()) ---- */

/* The listing, in order: paths begun and ended, files, the walk's say. */
enum { JE_BEGIN, JE_FILE, JE_DIAGS, JE_END };

struct jentry {
	int type;
	int dir; /* BEGIN, END: the path is a directory */
	int rc; /* END: how its walk went */
	const char *path; /* BEGIN, FILE: in the job's names */
	size_t d0, d1; /* DIAGS: the walk's diagnostics kept */
	size_t nerr, nwarn; /* DIAGS: counted, kept or not */
	size_t file; /* FILE: its number among the files */
};

/* What loading one file added to its part's manifest. */
struct jfile {
	const char *path;
	off_t size;
	size_t diag0, diag1, nerr, nwarn;
	size_t file0, file1, doc0, doc1, obj0, obj1, object_docs;
};

struct jpart {
	hf_manifest *m;
	size_t from, to; /* the job's files [from, to) */
};

struct hf_manifest_load {
	hf_manifest *m;
	hf_manifest *walk; /* what the walk said */
	size_t said, said_err, said_warn; /* of it, in entries so far */
	struct jentry *e;
	size_t ne, ecap;
	struct jfile *f;
	size_t nf, fcap;
	struct jpart *parts;
	size_t nparts;
	const char **paths; /* as given, for loading on one thread */
	size_t npaths;
	hf_arena names;
};

static int job_push(hf_manifest_load *job, const struct jentry *e)
{
	if (HF_ARRAY_GROW(job->e, job->ecap, job->ne + 1) < 0)
		return nomem(job->walk);
	job->e[job->ne++] = *e;
	return 0;
}

/* What the walk said since the last entry, as an entry. */
static int job_said(hf_manifest_load *job)
{
	hf_manifest *w = job->walk;
	struct jentry e = { .type = JE_DIAGS };

	if (w->nerr == job->said_err && w->nwarn == job->said_warn)
		return 0;
	e.d0 = job->said;
	e.d1 = w->ndiag;
	e.nerr = w->nerr - job->said_err;
	e.nwarn = w->nwarn - job->said_warn;
	job->said = w->ndiag;
	job->said_err = w->nerr;
	job->said_warn = w->nwarn;
	return job_push(job, &e);
}

static int job_file(hf_manifest_load *job, const char *path, off_t size)
{
	struct jentry e = { .type = JE_FILE };
	struct jfile *f;

	if (job_said(job) < 0 ||
	    HF_ARRAY_GROW(job->f, job->fcap, job->nf + 1) < 0)
		return nomem(job->walk);
	f = &job->f[job->nf];
	memset(f, 0, sizeof(*f));
	f->path = hf_arena_strdup(&job->names, path);
	f->size = size;
	if (!f->path)
		return nomem(job->walk);
	e.path = f->path;
	e.file = job->nf++;
	return job_push(job, &e);
}

/* One path (in the job's names), as hf_manifest_add_path() walks it. */
static int job_path(hf_manifest_load *job, const char *path)
{
	struct jentry e = { .type = JE_BEGIN };
	struct stat st;
	int rc = 0, found;

	e.path = path;
	found = stat(path, &st) == 0;
	if (!found)
		errno_diag(job->walk, "open", path, errno);
	e.dir = found && S_ISDIR(st.st_mode);
	if (job_push(job, &e) < 0)
		return HF_ENOMEM;
	if (found && !e.dir) {
		rc = job_file(job, path, st.st_size);
	} else if (e.dir) {
		rc = walk_top(job->walk, path, &st, job);
	}
	e.type = JE_END;
	e.rc = rc;
	if (job_said(job) < 0 || job_push(job, &e) < 0)
		return HF_ENOMEM;
	return rc == HF_ENOMEM || job->walk->oom ? HF_ENOMEM : 0;
}

/* The files in runs of about equal size, one a part. */
static void job_deal(hf_manifest_load *job, size_t nparts)
{
	double total = 0, sum = 0;
	size_t i, k = 0;

	for (i = 0; i < job->nf; i++)
		total += (double)job->f[i].size + 1;
	if (nparts > job->nf)
		nparts = job->nf ? job->nf : 1;
	job->nparts = nparts;
	for (i = 0; i < job->nf; i++) {
		job->parts[k].to = i + 1;
		sum += (double)job->f[i].size + 1;
		if (k + 1 < nparts &&
		    sum >= total * (double)(k + 1) / (double)nparts) {
			k++;
			job->parts[k].from = i + 1;
			job->parts[k].to = i + 1;
		}
	}
}

static void job_free(hf_manifest_load *job)
{
	size_t i;

	for (i = 0; job->parts && i < job->nparts; i++)
		hf_manifest_free(job->parts[i].m);
	hf_free(job->parts);
	hf_free(job->paths);
	hf_manifest_free(job->walk);
	hf_free(job->e);
	hf_free(job->f);
	hf_arena_release(&job->names);
	hf_free(job);
}

int hf_manifest_load_new(hf_manifest_load **out, hf_manifest *m,
                         const char *const *paths, size_t n, size_t nparts)
{
	hf_manifest_load *job = hf_calloc(1, sizeof(*job));
	size_t i;
	int rc = job ? hf_manifest_new(&job->walk) : HF_ENOMEM;

	*out = NULL;
	if (nparts < 1)
		nparts = 1;
	if (rc == 0) {
		job->m = m;
		job->parts = hf_calloc(nparts, sizeof(*job->parts));
		job->paths = hf_calloc(n ? n : 1, sizeof(*job->paths));
		rc = job->parts && job->paths ? 0 : HF_ENOMEM;
	}
	for (i = 0; rc == 0 && i < n; i++) {
		job->paths[i] = hf_arena_strdup(&job->names, paths[i]);
		rc = job->paths[i] ? job_path(job, job->paths[i]) : HF_ENOMEM;
		job->npaths += rc == 0;
	}
	if (rc == 0)
		job_deal(job, nparts);
	for (i = 0; rc == 0 && i < job->nparts; i++)
		rc = hf_manifest_new(&job->parts[i].m);
	if (rc < 0) {
		if (job)
			job_free(job);
		return HF_ENOMEM;
	}
	*out = job;
	return 0;
}

size_t hf_manifest_load_parts(const hf_manifest_load *job)
{
	return job->nparts;
}

void hf_manifest_load_part(hf_manifest_load *job, size_t k)
{
	hf_manifest *p = job->parts[k].m;
	struct jfile *f;
	size_t i;

	for (i = job->parts[k].from; i < job->parts[k].to && !p->oom; i++) {
		f = &job->f[i];
		f->diag0 = p->ndiag;
		f->nerr = p->nerr;
		f->nwarn = p->nwarn;
		f->file0 = p->files.n;
		f->doc0 = p->docs.n;
		f->obj0 = p->objs.n;
		f->object_docs = p->object_docs;
		load_file(p, f->path);
		f->diag1 = p->ndiag;
		f->nerr = p->nerr - f->nerr;
		f->nwarn = p->nwarn - f->nwarn;
		f->file1 = p->files.n;
		f->doc1 = p->docs.n;
		f->obj1 = p->objs.n;
		f->object_docs = p->object_docs - f->object_docs;
	}
}

static void take_diags(hf_manifest *m, const hf_manifest *from, size_t d0,
                       size_t d1, size_t nerr, size_t nwarn)
{
	size_t i;

	for (i = d0; i < d1; i++)
		keep_diag(m, &from->diags[i]);
	m->nerr += nerr;
	m->nwarn += nwarn;
}

/* File f of part p into m, where m's own loading would have put it. */
static int take_file(hf_manifest *m, const hf_manifest *p,
                     const struct jfile *f)
{
	size_t i, obj = m->objs.n, doc = m->docs.n;
	hf_mfile *mf;
	hf_mdoc *d;
	hf_mobj *o;

	take_diags(m, p, f->diag0, f->diag1, f->nerr, f->nwarn);
	for (i = f->file0; i < f->file1; i++) {
		mf = p->files.v[i];
		mf->m = m;
		mf->first_doc = doc + (mf->first_doc - f->doc0);
		if (pvec_push(&m->files, mf) < 0)
			return nomem(m);
		digest_file(m, mf);
	}
	for (i = f->doc0; i < f->doc1; i++) {
		d = p->docs.v[i];
		d->first = obj + (d->first - f->obj0);
		if (pvec_push(&m->docs, d) < 0)
			return nomem(m);
	}
	for (i = f->obj0; i < f->obj1; i++) {
		o = p->objs.v[i];
		o->index = m->objs.n;
		if (pvec_push(&m->objs, o) < 0)
			return nomem(m);
	}
	m->object_docs += f->object_docs;
	return 0;
}

/* Whether a string is there twice (or no memory to tell: 1). */
static int repeats(const char **v, size_t n, size_t stride)
{
	const char **s = hf_calloc(n ? n : 1, sizeof(*s));
	size_t i;
	int twice = 0;

	if (!s)
		return 1;
	for (i = 0; i < n; i++)
		s[i] = *(const char *const *)((const char *)v + i * stride);
	qsort(s, n, sizeof(*s), cmp_names);
	for (i = 1; i < n && !twice; i++)
		twice = !strcmp(s[i - 1], s[i]);
	hf_free(s);
	return twice;
}

/* The diagnostics `p` counted, all kept (none past MAX_DIAGS). */
static int all_kept(const hf_manifest *p)
{
	return p->nerr + p->nwarn == p->ndiag;
}

/*
 * Whether the parts put together are what one thread gives. Not when a
 * part ran out of memory or stopped at the limits, or together they go
 * past them; nor where a thread's diagnostics would not be the same: a
 * diagnostic said again at the same place is said once, among the last
 * ones kept, which a part does not see when a file or path is read
 * twice, or past MAX_DIAGS, or after what m held before. Then the
 * paths are loaded again, on one thread.
 */
static int parts_usable(const hf_manifest_load *job)
{
	const hf_manifest *m = job->m, *p;
	size_t i, objs = m->objs.n, fields = m->nfields, kept;

	if (m->too_many || m->nerr + m->nwarn || job->walk->oom ||
	    !all_kept(job->walk))
		return 0;
	kept = job->walk->ndiag + job->npaths; /* and a warning a path */
	for (i = 0; i < job->nparts; i++) {
		p = job->parts[i].m;
		if (p->oom || p->too_many || !all_kept(p))
			return 0;
		objs += p->objs.n;
		fields += p->nfields;
		kept += p->ndiag;
	}
	return objs <= MAX_OBJECTS && fields <= MAX_FIELDS &&
	       kept < MAX_DIAGS &&
	       (job->npaths < 2 ||
	        !repeats(job->paths, job->npaths, sizeof(*job->paths))) &&
	       (job->nf < 2 ||
	        !repeats(&job->f[0].path, job->nf, sizeof(*job->f)));
}

void hf_manifest_load_end(hf_manifest_load *job)
{
	hf_manifest *m = job->m;
	const struct jentry *e;
	size_t i, k = 0, docs = 0;
	int rc;

	if (!parts_usable(job)) {
		/* their memory given back first: m may need it all */
		for (i = 0; i < job->nparts; i++) {
			hf_manifest_free(job->parts[i].m);
			job->parts[i].m = NULL;
		}
		for (i = 0; i < job->npaths && !m->oom; i++)
			(void)hf_manifest_add_path(m, job->paths[i], NULL);
		job_free(job);
		return;
	}
	for (i = 0; i < job->ne && !m->oom; i++) {
		e = &job->e[i];
		switch (e->type) {
		case JE_BEGIN:
			docs = m->object_docs;
			break;
		case JE_DIAGS:
			take_diags(m, job->walk, e->d0, e->d1, e->nerr,
			           e->nwarn);
			break;
		case JE_FILE:
			while (k + 1 < job->nparts &&
			       e->file >= job->parts[k].to)
				k++;
			rc = take_file(m, job->parts[k].m, &job->f[e->file]);
			(void)rc; /* a failure is m->oom */
			break;
		case JE_END:
			if (e->dir && e->rc == 0 && m->object_docs == docs)
				no_objects(m, e->path);
			break;
		}
	}
	for (i = 0; i < job->nparts; i++) {
		hf_arena_adopt(&m->arena, &job->parts[i].m->arena);
		hf_arena_adopt(&m->names, &job->parts[i].m->names);
		m->nfields += job->parts[i].m->nfields;
	}
	job_free(job);
}

/* ---- lifecycle and accessors ---- */

int hf_manifest_new(hf_manifest **out)
{
	*out = hf_calloc(1, sizeof(**out));
	if (!*out)
		return HF_ENOMEM;
	hf_sha256_init(&(*out)->digest);
	return 0;
}

void hf_manifest_free(hf_manifest *m)
{
	if (!m)
		return;
	hf_sha256_release(&m->digest);
	pvec_release(&m->files);
	pvec_release(&m->docs);
	pvec_release(&m->objs);
	hf_free(m->diags);
	hf_arena_release(&m->arena);
	hf_arena_release(&m->names);
	hf_free(m);
}

void hf_manifest_drop_documents(hf_manifest *m)
{
	size_t i;
	hf_mfile *f;

	pvec_release(&m->docs);
	pvec_release(&m->objs);
	hf_arena_release(&m->arena);
	for (i = 0; i < m->files.n; i++) {
		f = m->files.v[i];
		f->first_doc = f->ndoc = f->nobj = 0;
	}
}

size_t hf_manifest_diag_count(const hf_manifest *m)
{
	return m->ndiag;
}

const hf_error *hf_manifest_diag_at(const hf_manifest *m, size_t i,
                                    enum hf_mdiag_level *level)
{
	if (i >= m->ndiag)
		return NULL;
	if (level)
		*level = (enum hf_mdiag_level)m->diags[i].level;
	return &m->diags[i].e;
}

size_t hf_manifest_error_count(const hf_manifest *m)
{
	return m->nerr;
}

int hf_manifest_failed(const hf_manifest *m)
{
	return m->oom;
}

size_t hf_manifest_warning_count(const hf_manifest *m)
{
	return m->nwarn;
}

void hf_manifest_digest(const hf_manifest *m, char hex[65])
{
	struct hf_sha256 c;
	unsigned char d[32];

	hf_sha256_copy(&c, &m->digest);
	hf_sha256_final(&c, d);
	hf_hex(d, sizeof(d), hex);
}

size_t hf_manifest_file_count(const hf_manifest *m)
{
	return m->files.n;
}

size_t hf_manifest_doc_count(const hf_manifest *m)
{
	return m->docs.n;
}

size_t hf_manifest_object_count(const hf_manifest *m)
{
	return m->objs.n;
}

const hf_mfile *hf_manifest_file_at(const hf_manifest *m, size_t i)
{
	return i < m->files.n ? m->files.v[i] : NULL;
}

const hf_mdoc *hf_manifest_doc_at(const hf_manifest *m, size_t i)
{
	return i < m->docs.n ? m->docs.v[i] : NULL;
}

const hf_mobj *hf_manifest_object_at(const hf_manifest *m, size_t i)
{
	return i < m->objs.n ? m->objs.v[i] : NULL;
}

int hf_manifest_set_object_kind(hf_manifest *m, size_t i, const char *kind)
{
	hf_mobj *o;
	char *k;

	if (i >= m->objs.n)
		return HF_EINVAL;
	o = m->objs.v[i];
	k = hf_arena_strndup(&m->arena, kind, strlen(kind));
	if (!k)
		return HF_ENOMEM;
	o->kind = k;
	return 0;
}

const char *hf_mfile_path(const hf_mfile *f)
{
	return f->path;
}

size_t hf_mfile_doc_count(const hf_mfile *f)
{
	return f->ndoc;
}

size_t hf_mfile_object_count(const hf_mfile *f)
{
	return f->nobj;
}

const hf_mdoc *hf_mfile_doc_at(const hf_mfile *f, size_t i)
{
	return i < f->ndoc ? hf_manifest_doc_at(f->m, f->first_doc + i) : NULL;
}

enum hf_mdoc_type hf_mdoc_type(const hf_mdoc *d)
{
	return (enum hf_mdoc_type)d->type;
}

const hf_mfile *hf_mdoc_file(const hf_mdoc *d)
{
	return d->file;
}

size_t hf_mdoc_index(const hf_mdoc *d)
{
	return d->index;
}

const hf_yval *hf_mdoc_root(const hf_mdoc *d)
{
	return d->root;
}

const char *hf_mdoc_kind(const hf_mdoc *d)
{
	return d->kind;
}

const hf_yval *hf_mdoc_kind_node(const hf_mdoc *d)
{
	return d->kind_node;
}

const hf_yval *hf_mdoc_parameters(const hf_mdoc *d)
{
	return d->params;
}

const hf_yval *hf_mdoc_metadata(const hf_mdoc *d)
{
	return d->metadata;
}

int hf_mdoc_expand_range(const hf_mdoc *d)
{
	return d->expand;
}

size_t hf_mdoc_object_first(const hf_mdoc *d)
{
	return d->first;
}

size_t hf_mdoc_object_count(const hf_mdoc *d)
{
	return d->count;
}

size_t hf_mobj_index(const hf_mobj *o)
{
	return o->index;
}

const char *hf_mobj_kind(const hf_mobj *o)
{
	return o->kind;
}

const hf_yval *hf_mobj_kind_node(const hf_mobj *o)
{
	return o->kind_node;
}

const hf_mdoc *hf_mobj_doc(const hf_mobj *o)
{
	return o->doc;
}

const char *hf_mobj_file(const hf_mobj *o)
{
	return o->node->file;
}

int hf_mobj_line(const hf_mobj *o)
{
	return o->node->line;
}

int hf_mobj_col(const hf_mobj *o)
{
	return o->node->col;
}

const hf_yval *hf_mobj_node(const hf_mobj *o)
{
	return o->node;
}

const hf_mobj *hf_mobj_parent(const hf_mobj *o)
{
	return o->parent;
}

const hf_mfield *hf_mobj_parent_field(const hf_mobj *o)
{
	return o->pfield;
}

size_t hf_mobj_item_index(const hf_mobj *o)
{
	return o->item_index;
}

int hf_mobj_expand_range(const hf_mobj *o)
{
	return o->expand;
}

size_t hf_mobj_field_count(const hf_mobj *o)
{
	return o->nfield;
}

const hf_mfield *hf_mobj_field_at(const hf_mobj *o, size_t i)
{
	return i < o->nfield ? &o->fields[i] : NULL;
}

const hf_mfield *hf_mobj_field(const hf_mobj *o, const char *name)
{
	size_t i;

	for (i = 0; i < o->nfield; i++)
		if (!strcmp(o->fields[i].key->text, name))
			return &o->fields[i];
	return NULL;
}

const char *hf_mfield_name(const hf_mfield *f)
{
	return f->key->text;
}

const hf_yval *hf_mfield_key(const hf_mfield *f)
{
	return f->key;
}

const hf_yval *hf_mfield_value(const hf_mfield *f)
{
	return f->value;
}

enum hf_mnest hf_mfield_nest(const hf_mfield *f)
{
	return f->nested ? (enum hf_mnest)f->nested->nest : HF_MNEST_NONE;
}

const hf_yval *hf_mfield_nest_kind(const hf_mfield *f)
{
	return f->nested ? f->nested->kind : NULL;
}

size_t hf_mfield_child_count(const hf_mfield *f)
{
	return f->nested ? f->nested->nchild : 0;
}

const hf_mobj *hf_mfield_child_at(const hf_mfield *f, size_t i)
{
	return f->nested && i < f->nested->nchild ? f->nested->child[i] : NULL;
}
