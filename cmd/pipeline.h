#ifndef HF_CMD_PIPELINE_H
#define HF_CMD_PIPELINE_H

/*
 * The stages plan (and later apply) share, wired: object files -> target
 * -> schema -> resolve -> fetch -> the engine's planner (hf/planner.h).
 * The engine decides; this prints its diagnostics, progress and words.
 */
#include "hf/client.h"
#include "hf/manifest.h"
#include "hf/model.h"
#include "hf/plan.h"
#include "hf/schema.h"
#include "opt.h"
#include "target.h"

struct hf_pipeline_opts {
	const char *address;
	const char *branch;
	int insecure;
	long timeout;
	long parallelism;
	int strict;
	int allow_unkeyed;
	const char *data; /* embedded endpoint database (NULL: default) */
	int embedded; /* force the embedded endpoint */
	long deadline; /* seconds for a whole client run; 0: none */
	long retries; /* retries of transient failures */
	/* ownership (issue 11) */
	const char *stack; /* NULL: $HUBFORM_STACK, else "default" */
	int prune; /* plan deletes of owned objects not declared */
	int destroy; /* plan deletes of everything the stack owns */
	int no_adopt; /* refuse declared objects the stack does not own */
	struct hf_strlist targets; /* --target ADDR (repeatable) */
	struct hf_strlist excludes; /* --exclude ADDR (repeatable) */
	const char *state; /* --state: the schema cache is in its directory */
	int no_cache; /* write no schema cache (validate writes nothing) */
	int unsummed; /* the plan is built without its checksum, which the
	                 caller computes (cli_pipeline_save()) */
};

/* clang-format off */
#define HF_PIPELINE_OPTS_INIT { NULL, NULL, 0, 60, 10, 0, 0, NULL, 0, 0, 3, \
	NULL, 0, 0, 0, { NULL, 0, 0 }, { NULL, 0, 0 }, NULL, 0, 0 }
/* clang-format on */

/*
 * The ownership options of a command that plans (plan, apply PATH...);
 * cli_pipeline_opts_release() frees the lists they fill.
 */
#define HF_PIPELINE_OWNER_OPTIONS(po)                                                     \
	HF_OPT_STRING(0, "stack", "NAME", &(po).stack,                                    \
	              "the stack: owns the members of group hubform-NAME "                \
	              "(default $HUBFORM_STACK or default)"),                             \
	        HF_OPT_BOOL(                                                              \
	                0, "prune", &(po).prune,                                          \
	                "also delete owned objects the files no longer declare"),         \
	        HF_OPT_BOOL(0, "destroy", &(po).destroy,                                  \
	                    "delete everything the stack owns"),                          \
	        HF_OPT_BOOL(                                                              \
	                0, "no-adopt", &(po).no_adopt,                                    \
	                "refuse declared objects that exist but the stack does not own"), \
	        HF_OPT_LIST(                                                              \
	                0, "target", "ADDR", &(po).targets,                               \
	                "limit the plan to Kind, Kind[hfid] or an object file, and "      \
	                "what they depend on (repeatable)"),                              \
	        HF_OPT_LIST(                                                              \
	                0, "exclude", "ADDR", &(po).excludes,                             \
	                "leave Kind, Kind[hfid] or an object file out (repeatable)")

void cli_pipeline_opts_release(struct hf_pipeline_opts *po);

/* The options every command talking to Infrahub takes. */
#define HF_PIPELINE_OPTIONS(po)                                                      \
	HF_OPT_STRING(0, "address", "URL", &(po).address,                            \
	              "Infrahub address (default $INFRAHUB_ADDRESS; none: "          \
	              "the embedded local endpoint)"),                               \
	        HF_OPT_STRING(                                                       \
	                'b', "branch", "BRANCH", &(po).branch,                       \
	                "target branch (default $INFRAHUB_DEFAULT_BRANCH or main)"), \
	        HF_OPT_BOOL(0, "insecure", &(po).insecure,                           \
	                    "do not verify the server's TLS certificate"),           \
	        HF_OPT_INT(0, "timeout", "S", &(po).timeout, 1, 3600,                \
	                   "seconds per request (default 60)"),                      \
	        HF_OPT_INT(0, "parallelism", "N", &(po).parallelism, 1, 256,         \
	                   "requests in flight (default 10)"),                       \
	        HF_OPT_INT(                                                          \
	                0, "retries", "N", &(po).retries, 0, 20,                     \
	                "retries of connection errors, 5xx and 429 (default 3)"),    \
	        HF_OPT_BOOL(                                                         \
	                0, "strict", &(po).strict,                                   \
	                "a field declared twice with different values is an error"), \
	        HF_OPT_BOOL(0, "allow-unkeyed", &(po).allow_unkeyed,                 \
	                    "accept kinds without HFID or unique attribute")

/* Diagnostics printed so far: each once, errors counted. */
struct hf_diags {
	json_t *printed; /* "file:line:col:msg" keys seen */
	int errors;
};

struct hf_pipeline {
	struct hf_target target;
	struct hf_diags diags;
	char cache_dir[1024]; /* the schema cache's; "": none */
	hf_client *client;
	hf_schema *schema;
	hf_manifest *manifest;
	hf_objset *want;
	hf_objset *have;
	hf_plan *plan;
	/*
	 * After cli_pipeline_plan(): how many owned objects are no longer in
	 * the files (within the target of a partial plan), whether or not
	 * the plan deletes them (--prune). The caller words the hint.
	 */
	size_t orphans;
	double stage_at; /* HUBFORM_TIMING: when the last stage ended */
	double stage_cpu; /* HUBFORM_TIMING: processor time by then */
};

/*
 * HUBFORM_TIMING=1: print the time since the last stage ended and the peak
 * memory so far as the stage `name` (cli_pipeline_plan's stages, then the
 * caller's own). Nothing otherwise.
 */
void cli_pipeline_stage(struct hf_pipeline *pl, const char *name);

/*
 * After a manifest's diagnostics are printed: 0 when its files can be
 * used, -1 when any is an error, or when loading ran out of memory
 * (said here: the files are then incomplete without a diagnostic).
 */
int cli_manifest_usable(const hf_manifest *m);

/*
 * Read object files (or, with schema_files, schema files: no warning for
 * schema documents); prints diagnostics. 0, or -1 when any error.
 */
int cli_pipeline_load(struct hf_pipeline *pl, const char *const *paths,
                      size_t n, int schema_files);
/*
 * Target (from options and environment), client, the branch (the one
 * named, or the server's default) and that branch's schema, read through
 * the schema cache in the plan store's directory (po->state, else
 * $HUBFORM_STATE, else .hubform/; none with po->no_cache). libcurl's
 * process-wide set-up is main's (NEED_TARGET). 0 or -1.
 */
int cli_pipeline_connect(struct hf_pipeline *pl,
                         const struct hf_pipeline_opts *po);
/*
 * The same for a target already in pl->target (a plan's): the embedded
 * endpoint's database is created only when `create`. 0 or -1.
 */
int cli_pipeline_attach(struct hf_pipeline *pl,
                        const struct hf_pipeline_opts *po, int create);
/* Print a failure to talk to the target, with hints (401: the token). */
void cli_pipeline_fail(const struct hf_pipeline *pl, const char *what,
                       const hf_error *e);
/* Read the target's schema again (after a schema load). 0 or -1. */
int cli_pipeline_connect_schema(struct hf_pipeline *pl);
/*
 * Everything up to a finished plan: with the stack's ownership read
 * (adoption marked, --no-adopt refused), and --prune / --destroy deletes
 * and --target / --exclude limits as po says. `paths` may be empty with
 * po->destroy. 0 or -1 (printed).
 */
int cli_pipeline_plan(struct hf_pipeline *pl, const struct hf_pipeline_opts *po,
                      const char *const *paths, size_t n);
/* Schema documents of YAML files as a JSON array (*out). 0 or -1. */
int cli_pipeline_schema_files(json_t **out, const char *const *paths, size_t n);
/* Load them into the target branch (hf_schema_send). 0 or -1. */
int cli_pipeline_schema_load(struct hf_pipeline *pl, json_t *schemas,
                             int quiet);
/*
 * Resolve the loaded files against the schema; prints diagnostics.
 * `consume`: the files' documents are dropped on the way (the manifest
 * keeps file names and digest), as hf_resolve_opts.consume says.
 */
int cli_pipeline_resolve(struct hf_pipeline *pl,
                         const struct hf_pipeline_opts *po, int consume);
void cli_pipeline_release(struct hf_pipeline *pl);

/*
 * Save pl->plan into st: a plan built unsummed (hf_pipeline_opts) gets
 * its checksum on a thread of its own while the store writes the rest
 * (0.09 s of a 100k plan's 0.25 s save and checksum), set before the
 * store commits. 0, or -1 with the error printed.
 */
int cli_pipeline_save(struct hf_pipeline *pl, struct hf_store *st);

#endif
