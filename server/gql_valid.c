/*
 * hfs_gql_validate(): the checks on a parsed document that need no schema
 * (unique and known names, fragment cycles, unused fragments and
 * variables, graphql-core's messages), and our depth and size limits on
 * the operations once fragments are expanded. The fragment graph, whose
 * shape the parser does not bound, is walked without recursion.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/array.h"
#include "gql_int.h"
#include "hf/banned.h"

#define VALIDATE_MAX_WORK ((size_t)HFS_GQL_MAX_NODES * 8)

struct vfrag {
	unsigned char state; /* 0 new, 1 on the DFS stack, 2 measured */
	unsigned char used;
	int depth;
	size_t fields;
	size_t off; /* its spreads: v->spreads[off .. off + n) */
	size_t n;
	size_t cursor;
	size_t epoch;
};

struct vctx {
	const hfs_gql_doc *doc;
	hf_error *err;
	struct vfrag *frags; /* indexed like doc->frag_tab */
	const struct hfs_gql_selection **spreads;
	size_t nspreads;
	size_t cap;
	size_t *stack;
	size_t sp;
	size_t work;
	/* per operation, while checking its variables */
	const struct hfs_gql_operation *op;
	hf_map vars; /* name -> 1 + index of its definition */
	unsigned char *var_used;
};

static int verr(struct vctx *v, int line, int col, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static int verr(struct vctx *v, int line, int col, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return hf_error_at(v->err, HF_EINVAL, NULL, line, col, "%s", msg);
}

static int duplicate_op(struct vctx *v, const struct hfs_gql_operation *op)
{
	const struct hfs_gql_operation *first = v->doc->ops;

	/* graphql-core lists the first one first. */
	while (!first->name || strcmp(first->name, op->name))
		first = first->next;
	return verr(v, first->name_line, first->name_col,
	            "There can be only one operation named '%s'.", op->name);
}

static int check_operations(struct vctx *v)
{
	const struct hfs_gql_operation *op;
	hf_map names = HF_MAP_INIT;
	int rc = 0;

	for (op = v->doc->ops; op && rc == 0; op = op->next) {
		if (!op->name && v->doc->nops > 1)
			rc = verr(v, op->line, op->col,
			          "This anonymous operation must be the only "
			          "defined operation.");
		else if (!op->name)
			continue;
		else if (hf_map_find(&names, op->name, strlen(op->name)))
			rc = duplicate_op(v, op);
		else if (hf_map_add(&names, op->name, strlen(op->name), NULL) <
		         0)
			rc = hf_error_set(v->err, HF_ENOMEM, "out of memory");
	}
	hf_map_release(&names);
	return rc;
}

static int unknown_fragment(struct vctx *v, const struct hfs_gql_selection *s)
{
	return verr(v, s->name_line, s->name_col, "Unknown fragment '%s'.",
	            s->name);
}

/* Append the fragment spreads of a selection tree to v->spreads. */
static int gather_spreads(struct vctx *v, const struct hfs_gql_selection *s)
{
	for (; s; s = s->next) {
		if (s->kind != HFS_GQL_FRAGMENT_SPREAD) {
			if (gather_spreads(v, s->selections) < 0)
				return HF_ENOMEM;
			continue;
		}
		if (HF_ARRAY_GROW(v->spreads, v->cap, v->nspreads + 1) < 0)
			return hf_error_set(v->err, HF_ENOMEM, "out of memory");
		v->spreads[v->nspreads++] = s;
	}
	return 0;
}

static int gather_all_spreads(struct vctx *v)
{
	const hfs_gql_doc *doc = v->doc;
	struct vfrag *vf;
	size_t i;
	size_t k;

	for (i = 0; i < doc->frag_tab_size; i++) {
		if (!doc->frag_tab[i])
			continue;
		vf = &v->frags[i];
		vf->off = v->nspreads;
		if (gather_spreads(v, doc->frag_tab[i]->selections) < 0)
			return HF_ENOMEM;
		vf->n = v->nspreads - vf->off;
		for (k = vf->off; k < v->nspreads; k++)
			if (hfs_gql_frag_slot(doc, v->spreads[k]->name) < 0)
				return unknown_fragment(v, v->spreads[k]);
	}
	return 0;
}

static size_t sat_add(size_t a, size_t b)
{
	size_t lim = (size_t)HFS_GQL_MAX_EXPANDED + 1;

	return a + b > lim ? lim : a + b;
}

/*
 * Fields and field depth of a selection tree with fragments expanded, from
 * the measures of the fragments it spreads (already known).
 */
static int measure(struct vctx *v, const struct hfs_gql_selection *s,
                   size_t *fields, int *depth)
{
	size_t f;
	int d;
	long slot;

	*fields = 0;
	*depth = 0;
	for (; s; s = s->next) {
		f = 0;
		d = 0;
		if (s->kind == HFS_GQL_FRAGMENT_SPREAD) {
			slot = hfs_gql_frag_slot(v->doc, s->name);
			if (slot < 0)
				return unknown_fragment(v, s);
			f = v->frags[slot].fields;
			d = v->frags[slot].depth;
		} else if (measure(v, s->selections, &f, &d) < 0) {
			return HF_EINVAL;
		}
		if (s->kind == HFS_GQL_FIELD) {
			f = sat_add(f, 1);
			d = d < HFS_GQL_MAX_DEPTH * 2 ? d + 1 : d;
		}
		*fields = sat_add(*fields, f);
		*depth = d > *depth ? d : *depth;
	}
	return 0;
}

static int cycle_error(struct vctx *v, const struct hfs_gql_selection *s,
                       size_t target)
{
	char via[300] = "";
	size_t used = 0;
	size_t k = v->sp;
	int n;

	while (k > 0 && v->stack[k - 1] != target)
		k--;
	/* The path starts at the spread `target` is expanding now. */
	if (k > 0)
		s = v->spreads[v->frags[target].off + v->frags[target].cursor -
		               1];
	for (; k < v->sp && used < sizeof(via); k++) {
		n = snprintf(via + used, sizeof(via) - used, "%s'%s'",
		             used ? ", " : " via ",
		             v->doc->frag_tab[v->stack[k]]->name);
		used += n > 0 ? (size_t)n : 0;
	}
	return verr(v, s->line, s->col,
	            "Cannot spread fragment '%s' within itself%s.",
	            v->doc->frag_tab[target]->name, via);
}

/* Depth-first over the fragment graph, without recursion. */
static int walk_fragments_from(struct vctx *v, size_t root)
{
	const struct hfs_gql_selection *s;
	struct vfrag *top;
	size_t j;

	v->sp = 0;
	v->stack[v->sp++] = root;
	v->frags[root].state = 1;
	while (v->sp) {
		top = &v->frags[v->stack[v->sp - 1]];
		if (top->cursor == top->n) {
			if (measure(v,
			            v->doc->frag_tab[v->stack[v->sp - 1]]
			                    ->selections,
			            &top->fields, &top->depth) < 0)
				return HF_EINVAL;
			top->state = 2;
			v->sp--;
			continue;
		}
		s = v->spreads[top->off + top->cursor++];
		j = (size_t)hfs_gql_frag_slot(v->doc, s->name);
		if (v->frags[j].state == 1)
			return cycle_error(v, s, j);
		if (v->frags[j].state == 0) {
			v->frags[j].state = 1;
			v->stack[v->sp++] = j;
		}
	}
	return 0;
}

static int check_fragments(struct vctx *v)
{
	const hfs_gql_doc *doc = v->doc;
	const struct hfs_gql_fragment *first;
	const struct hfs_gql_fragment *f;
	size_t slot;
	int rc;

	if (doc->dup_frag) {
		first = hfs_gql_doc_fragment(doc, doc->dup_frag->name);
		return verr(v, first->name_line, first->name_col,
		            "There can be only one fragment named '%s'.",
		            first->name);
	}
	rc = gather_all_spreads(v);

	if (rc < 0)
		return rc;
	/* In document order, so a cycle is reported as graphql-core does. */
	for (f = doc->frags; f; f = f->next) {
		slot = (size_t)hfs_gql_frag_slot(doc, f->name);
		if (v->frags[slot].state == 0 &&
		    walk_fragments_from(v, slot) < 0)
			return HF_EINVAL;
	}
	return 0;
}

/* Mark a fragment used, and queue it to mark what it spreads. */
static void mark_frag(struct vctx *v, const char *name)
{
	long slot = hfs_gql_frag_slot(v->doc, name);

	if (slot >= 0 && !v->frags[slot].used) {
		v->frags[slot].used = 1;
		v->stack[v->sp++] = (size_t)slot;
	}
}

/* Mark fragments spread (directly) in a selection tree as used. */
static void mark_used(struct vctx *v, const struct hfs_gql_selection *s)
{
	for (; s; s = s->next) {
		if (s->kind == HFS_GQL_FRAGMENT_SPREAD)
			mark_frag(v, s->name);
		else
			mark_used(v, s->selections);
	}
}

static int check_usage_and_size(struct vctx *v)
{
	const struct hfs_gql_operation *op;
	const struct hfs_gql_fragment *f;
	struct vfrag *vf;
	size_t fields;
	size_t k;
	int depth;

	v->sp = 0;
	for (op = v->doc->ops; op; op = op->next) {
		if (measure(v, op->selections, &fields, &depth) < 0)
			return HF_EINVAL;
		if (depth > HFS_GQL_MAX_DEPTH)
			return verr(v, op->line, op->col,
			            "Query depth exceeds the limit of %d.",
			            HFS_GQL_MAX_DEPTH);
		if (fields > HFS_GQL_MAX_EXPANDED)
			return verr(v, op->line, op->col,
			            "Query size exceeds the limit of %d "
			            "fields.",
			            HFS_GQL_MAX_EXPANDED);
		mark_used(v, op->selections);
	}
	while (v->sp) {
		vf = &v->frags[v->stack[--v->sp]];
		for (k = vf->off; k < vf->off + vf->n; k++)
			mark_frag(v, v->spreads[k]->name);
	}
	for (f = v->doc->frags; f; f = f->next)
		if (!v->frags[hfs_gql_frag_slot(v->doc, f->name)].used)
			return verr(v, f->line, f->col,
			            "Fragment '%s' is never used.", f->name);
	return 0;
}

static int too_complex(struct vctx *v)
{
	return hf_error_set(v->err, HF_EINVAL, "Query is too complex.");
}

static int use_value(struct vctx *v, const struct hfs_gql_value *val)
{
	const struct hfs_gql_value *item;
	const struct hfs_gql_arg *f;
	uintptr_t def;

	if (++v->work > VALIDATE_MAX_WORK)
		return too_complex(v);
	if (val->kind == HFS_GQL_LIST) {
		for (item = val->items; item; item = item->next)
			if (use_value(v, item) < 0)
				return HF_EINVAL;
	} else if (val->kind == HFS_GQL_OBJECT) {
		for (f = val->fields; f; f = f->next)
			if (use_value(v, f->value) < 0)
				return HF_EINVAL;
	} else if (val->kind == HFS_GQL_VARIABLE) {
		def = (uintptr_t)hf_map_get(&v->vars, val->str,
		                            strlen(val->str));
		if (!def && v->op->name)
			return verr(v, val->line, val->col,
			            "Variable '$%s' is not defined by "
			            "operation '%s'.",
			            val->str, v->op->name);
		if (!def)
			return verr(v, val->line, val->col,
			            "Variable '$%s' is not defined.", val->str);
		v->var_used[def - 1] = 1;
	}
	return 0;
}

static int use_args(struct vctx *v, const struct hfs_gql_arg *a)
{
	for (; a; a = a->next)
		if (use_value(v, a->value) < 0)
			return HF_EINVAL;
	return 0;
}

static int use_directives(struct vctx *v, const struct hfs_gql_directive *d)
{
	for (; d; d = d->next)
		if (use_args(v, d->args) < 0)
			return HF_EINVAL;
	return 0;
}

/* Variables used in a tree; spread fragments are queued (once per op). */
static int use_tree(struct vctx *v, const struct hfs_gql_selection *s,
                    size_t epoch)
{
	long slot;

	for (; s; s = s->next) {
		if (++v->work > VALIDATE_MAX_WORK)
			return too_complex(v);
		if (use_args(v, s->args) < 0 ||
		    use_directives(v, s->directives) < 0)
			return HF_EINVAL;
		if (s->kind != HFS_GQL_FRAGMENT_SPREAD) {
			if (use_tree(v, s->selections, epoch) < 0)
				return HF_EINVAL;
			continue;
		}
		slot = hfs_gql_frag_slot(v->doc, s->name);
		if (slot >= 0 && v->frags[slot].epoch != epoch) {
			v->frags[slot].epoch = epoch;
			v->stack[v->sp++] = (size_t)slot;
		}
	}
	return 0;
}

static int op_vars_used(struct vctx *v, size_t epoch)
{
	const struct hfs_gql_fragment *f;

	v->sp = 0;
	if (use_directives(v, v->op->directives) < 0 ||
	    use_tree(v, v->op->selections, epoch) < 0)
		return HF_EINVAL;
	while (v->sp) {
		f = v->doc->frag_tab[v->stack[--v->sp]];
		if (use_directives(v, f->directives) < 0 ||
		    use_tree(v, f->selections, epoch) < 0)
			return HF_EINVAL;
	}
	return 0;
}

static int unused_var(struct vctx *v, const struct hfs_gql_vardef *d)
{
	if (v->op->name)
		return verr(v, d->line, d->col,
		            "Variable '$%s' is never used in operation '%s'.",
		            d->name, v->op->name);
	return verr(v, d->line, d->col, "Variable '$%s' is never used.",
	            d->name);
}

static int duplicate_var(struct vctx *v, const struct hfs_gql_vardef *d)
{
	const struct hfs_gql_vardef *first = v->op->vars;

	while (strcmp(first->name, d->name))
		first = first->next;
	return verr(v, first->name_line, first->name_col,
	            "There can be only one variable named '$%s'.", d->name);
}

static int check_op_vars(struct vctx *v, const struct hfs_gql_operation *op,
                         size_t epoch)
{
	const struct hfs_gql_vardef *d;
	size_t n = 0;
	int rc = 0;

	v->op = op;
	for (d = op->vars; d; d = d->next)
		n++;
	v->var_used = hf_calloc(n + 1, 1);
	if (!v->var_used)
		rc = hf_error_set(v->err, HF_ENOMEM, "out of memory");
	for (n = 0, d = op->vars; rc == 0 && d; d = d->next, n++) {
		if (hf_map_find(&v->vars, d->name, strlen(d->name)))
			rc = duplicate_var(v, d);
		else if (hf_map_add(&v->vars, d->name, strlen(d->name),
		                    (void *)(uintptr_t)(n + 1)) < 0)
			rc = hf_error_set(v->err, HF_ENOMEM, "out of memory");
	}
	if (rc == 0)
		rc = op_vars_used(v, epoch);
	for (n = 0, d = op->vars; rc == 0 && d; d = d->next, n++)
		if (!v->var_used[n])
			rc = unused_var(v, d);
	hf_map_release(&v->vars);
	hf_free(v->var_used);
	v->var_used = NULL;
	return rc;
}

int hfs_gql_validate(const hfs_gql_doc *doc, hf_error *err)
{
	const struct hfs_gql_operation *op;
	struct vctx v;
	size_t epoch = 0;
	int rc;

	memset(&v, 0, sizeof(v));
	v.doc = doc;
	v.err = err;
	v.frags = hf_calloc(doc->frag_tab_size + 1, sizeof(*v.frags));
	v.stack = hf_calloc(doc->frag_tab_size + 1, sizeof(*v.stack));
	if (!v.frags || !v.stack) {
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
		goto out;
	}
	rc = check_operations(&v);
	if (rc == 0)
		rc = check_fragments(&v);
	if (rc == 0)
		rc = check_usage_and_size(&v);
	for (op = doc->ops; rc == 0 && op; op = op->next)
		rc = check_op_vars(&v, op, ++epoch);
out:
	hf_free(v.frags);
	hf_free(v.stack);
	hf_free(v.spreads);
	return rc;
}
