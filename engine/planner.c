/*
 * Planning with ownership: the diff of the files against Infrahub, then
 * adoption, what left the files and the deletes, the selection, and the
 * plan's meta. Values and codes only; the CLI words them.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "hf/owner.h"
#include "hf/planner.h"
#include "hf/prune.h"
#include "hf/select.h"

#include "hf/banned.h"

struct hf_planner {
	char *stack;
	int prune, destroy, no_adopt;
	hf_select *sel;
	hf_owner *owner; /* read by hf_planner_read() */
	const hf_schema *schema; /* borrowed */
	hf_transport *tr; /* borrowed */
	size_t orphans;
	size_t unowned;
	hf_buf names; /* the first unowned objects, for the refusal */
};

static int nomem(hf_error *err)
{
	return hf_error_set(err, HF_ENOMEM, "out of memory");
}

int hf_planner_new(hf_planner **out, const struct hf_planner_opts *o,
                   hf_error *err)
{
	hf_planner *p;
	int rc;

	*out = p = hf_calloc(1, sizeof(*p));
	if (!p)
		return nomem(err);
	hf_buf_init(&p->names, 0);
	if ((rc = hf_owner_stack_check(o->stack, err)) < 0)
		return rc;
	if (!(p->stack = hf_strdup(o->stack)))
		return nomem(err);
	p->prune = o->prune;
	p->destroy = o->destroy;
	p->no_adopt = o->no_adopt;
	return hf_select_new(&p->sel, o->targets, o->n_targets, o->excludes,
	                     o->n_excludes, err);
}

void hf_planner_free(hf_planner *p)
{
	if (!p)
		return;
	hf_owner_free(p->owner);
	hf_select_free(p->sel);
	hf_buf_release(&p->names);
	hf_free(p->stack);
	hf_free(p);
}

static int fail(enum hf_planner_step *step, enum hf_planner_step at, int rc)
{
	*step = at;
	return rc;
}

int hf_planner_check(hf_planner *p, const hf_schema *schema, hf_transport *tr,
                     hf_error *err)
{
	p->schema = schema;
	p->tr = tr;
	return hf_select_check(p->sel, schema, err);
}

const char *hf_planner_stack(const hf_planner *p)
{
	return p->stack;
}

void hf_planner_own(hf_planner *p, hf_owner *o)
{
	hf_owner_free(p->owner);
	p->owner = o;
}

int hf_planner_read(hf_planner *p, const hf_schema *schema, hf_transport *tr,
                    enum hf_planner_step *step, hf_error *err)
{
	hf_owner *o;
	int rc;

	*step = HF_PLANNER_OK;
	if ((rc = hf_planner_check(p, schema, tr, err)) < 0)
		return fail(step, HF_PLANNER_SELECT, rc);
	if ((rc = hf_owner_read(&o, tr, p->stack, 0, err)) < 0)
		return fail(step, HF_PLANNER_OWNER, rc);
	hf_planner_own(p, o);
	return 0;
}

int hf_planner_filter(const hf_planner *p, hf_objset **want, hf_error *err)
{
	if (!hf_select_active(p->sel))
		return 0;
	return hf_select_filter(p->sel, p->schema, want, err);
}

/* Where the files declare each change's object: change i is want[i]. */
static int add_sources(hf_plan *plan, const hf_objset *want)
{
	const struct hf_object *o;
	struct hf_change *c;
	size_t i;

	if (hf_plan_count(plan) != hf_objset_count(want))
		return 0;
	for (i = 0; i < hf_plan_count(plan); i++) {
		o = hf_objset_at(want, i);
		c = hf_plan_at(plan, i);
		if (!o->file || strcmp(o->kind, c->kind))
			continue;
		/* one declaration: the compact form, not an array a change */
		c->src_file = hf_name(o->file);
		c->src_line = o->line;
		if (!c->src_file)
			return HF_ENOMEM;
	}
	return 0;
}

/* "Kind 'a__b'" after ", " when not the first. */
static void add_name(hf_buf *b, const struct hf_change *c)
{
	json_t *part;
	size_t i;

	hf_buf_addf(b, "%s%s '", b->len ? ", " : "", c->kind);
	json_array_foreach(c->hfid, i, part)
	{
		hf_buf_addf(b, "%s%s", i ? "__" : "",
		            json_string_value(part) ? json_string_value(part)
		                                    : "");
	}
	hf_buf_addch(b, '\'');
}

/*
 * Declared objects that exist but the stack does not own: apply adopts
 * them; no_adopt refuses the plan instead (HF_ECONFLICT), naming them.
 */
static int mark_adoption(hf_planner *p, hf_plan *plan)
{
	struct hf_change *c;
	size_t i;

	p->unowned = 0;
	hf_buf_reset(&p->names);
	for (i = 0; i < hf_plan_count(plan); i++) {
		c = hf_plan_at(plan, i);
		if (!c->node_id ||
		    (c->action != HF_ACT_UPDATE && c->action != HF_ACT_NOOP) ||
		    hf_owner_owns(p->owner, c->node_id))
			continue;
		c->adopt = 1;
		if (++p->unowned <= HF_PLANNER_NAMES_MAX)
			add_name(&p->names, c);
	}
	if (hf_buf_failed(&p->names))
		return HF_ENOMEM;
	return p->no_adopt && p->unowned ? HF_ECONFLICT : 0;
}

static int keep_member(void *payload, const char *kind, const json_t *hfid)
{
	const hf_planner *p = payload;

	return hf_select_prunable(p->sel, p->schema, kind, hfid);
}

/* The owned objects that left the files (all of them for destroy). */
static json_t *doomed_of(const hf_planner *p, const hf_plan *plan)
{
	json_t *all = hf_prune_orphans(plan, p->owner), *out, *e;
	size_t i;

	if (!all || !hf_select_active(p->sel))
		return all;
	out = json_array();
	json_array_foreach(all, i, e)
	{
		if (out &&
		    keep_member((void *)(uintptr_t)p,
		                json_string_value(json_object_get(e, "kind")),
		                NULL) &&
		    json_array_append(out, e) < 0) {
			json_decref(out);
			out = NULL;
		}
	}
	json_decref(all);
	return out;
}

/* Ownership: adoption, what left the files, and prune/destroy. */
static int plan_ownership(hf_planner *p, hf_plan *plan,
                          enum hf_planner_step *step, hf_error *err)
{
	json_t *doomed;
	int rc;

	rc = mark_adoption(p, plan);
	if (rc == HF_ECONFLICT)
		return fail(step, HF_PLANNER_ADOPT,
		            hf_error_set(err, HF_ECONFLICT,
		                         "%zu declared object%s "
		                         "not owned by stack '%s'",
		                         p->unowned, p->unowned == 1 ? "" : "s",
		                         p->stack));
	if (rc < 0 || !(doomed = doomed_of(p, plan)))
		return fail(step, HF_PLANNER_PLAN, nomem(err));
	p->orphans = json_array_size(doomed);
	rc = 0;
	if (p->prune || p->destroy)
		rc = hf_prune_plan(plan, doomed, p->owner, p->schema, p->tr,
		                   keep_member, p, err);
	json_decref(doomed);
	if (rc < 0)
		return fail(step, HF_PLANNER_PRUNE, rc);
	rc = hf_plan_set_stack(plan, p->stack, hf_owner_group_id(p->owner),
	                       err);
	if (rc < 0)
		return fail(step, HF_PLANNER_PLAN, rc);
	hf_plan_meta(plan)->partial = hf_select_active(p->sel);
	return 0;
}

/* What the plan records of the schema, the files and the branch. */
static void fill_meta(hf_plan *plan, const hf_planner *p,
                      const struct hf_planner_input *in)
{
	struct hf_plan_meta *m = hf_plan_meta(plan);
	const char *hash = hf_schema_hash(p->schema);

	snprintf(m->schema_hash, sizeof(m->schema_hash), "%s",
	         hash ? hash : "");
	m->branch_is_default =
	        in->default_branch && !strcmp(in->branch, in->default_branch);
	hf_manifest_digest(in->manifest, m->manifest_digest);
}

static int build(hf_planner *p, const struct hf_planner_input *in,
                 hf_plan *plan, enum hf_planner_step *step, hf_error *err)
{
	struct hf_diff_opts dopts = HF_DIFF_OPTS_INIT;
	int rc;

	dopts.schema = p->schema;
	dopts.progress = in->progress;
	dopts.payload = in->payload;
	dopts.consume = in->consume;
	dopts.ahead = in->ahead;
	if (hf_owner_keep_memberships(in->want, in->have) < 0)
		return fail(step, HF_PLANNER_PLAN, nomem(err));
	if (!p->destroy &&
	    (rc = hf_diff_ext(plan, in->want, in->have, &dopts, err)) < 0)
		return fail(step, HF_PLANNER_PLAN, rc);
	if (add_sources(plan, in->want) < 0)
		return fail(step, HF_PLANNER_PLAN, nomem(err));
	if ((rc = plan_ownership(p, plan, step, err)) < 0)
		return rc;
	fill_meta(plan, p, in);
	if ((rc = in->unsummed ? hf_plan_finish_unsummed(plan, err)
	                       : hf_plan_finish(plan, err)) < 0)
		return fail(step, HF_PLANNER_PLAN, rc);
	return 0;
}

int hf_planner_build(hf_planner *p, const struct hf_planner_input *in,
                     hf_plan **out, enum hf_planner_step *step, hf_error *err)
{
	hf_plan *plan = NULL;
	int rc;

	*out = NULL;
	*step = HF_PLANNER_OK;
	if (!p->owner)
		return fail(step, HF_PLANNER_PLAN,
		            hf_error_set(err, HF_EINVAL,
		                         "the stack's group was not read"));
	rc = hf_plan_new(&plan, in->address, in->branch, err);
	if (rc < 0)
		return fail(step, HF_PLANNER_PLAN, rc);
	rc = build(p, in, plan, step, err);
	if (rc < 0) {
		hf_plan_free(plan);
		return rc;
	}
	*out = plan;
	return 0;
}

size_t hf_planner_orphans(const hf_planner *p)
{
	return p->orphans;
}

size_t hf_planner_unowned(const hf_planner *p, const char **names)
{
	*names = p->names.ptr ? p->names.ptr : "";
	return p->unowned;
}
