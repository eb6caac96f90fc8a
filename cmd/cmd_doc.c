/*
 * The prose of the manual pages, and the capture that reads a command's
 * option table (the options themselves are never written down here).
 */
#include <stdint.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/error.h"
#include "cmd_doc.h"
#include "hf/banned.h"

struct capture {
	struct hf_cmd_spec *spec;
	int got;
	int oom;
};

static char *dup_or_null(const char *s, int *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = hf_strdup(s);
	if (!d)
		*oom = 1;
	return d;
}

static void on_capture(void *payload, const char *usage, const char *summary,
                       const struct hf_opt *opts)
{
	struct capture *c = payload;
	struct hf_cmd_spec *s = c->spec;
	size_t i, n = 0;

	if (c->got)
		return;
	c->got = 1;
	while (opts && opts[n].type != HF_OPT_END)
		n++;
	s->usage = dup_or_null(usage, &c->oom);
	s->summary = dup_or_null(summary, &c->oom);
	s->opts = hf_calloc(n + 1, sizeof(*s->opts));
	if (!s->opts) {
		c->oom = 1;
		return;
	}
	for (i = 0; i < n; i++) {
		s->opts[i] = opts[i];
		s->opts[i].value = NULL;
		s->opts[i].name = dup_or_null(opts[i].name, &c->oom);
		s->opts[i].argname = dup_or_null(opts[i].argname, &c->oom);
		s->opts[i].help = dup_or_null(opts[i].help, &c->oom);
	}
	s->n = n;
}

int cli_cmd_spec_get(const struct hf_cmd *cmd, struct hf_cmd_spec *spec)
{
	static char help_flag[] = "--help";
	char *argv[] = { help_flag, NULL };
	struct capture c = { spec, 0, 0 };
	/* --help only: nothing set up, the command returns before using any */
	struct hf_ctx ctx = { cmd->name, NEED_NONE,  NULL, NULL,
		              0,         on_capture, &c };

	memset(spec, 0, sizeof(*spec));
	cmd->fn(&ctx, 1, argv);
	if (c.oom || (c.got && (!spec->usage || !spec->opts))) {
		cli_cmd_spec_release(spec);
		return HF_ENOMEM;
	}
	return c.got ? 0 : HF_ENOTFOUND;
}

void cli_cmd_spec_release(struct hf_cmd_spec *spec)
{
	size_t i;

	for (i = 0; spec->opts && i < spec->n; i++) {
		hf_free((char *)(uintptr_t)spec->opts[i].name);
		hf_free((char *)(uintptr_t)spec->opts[i].argname);
		hf_free((char *)(uintptr_t)spec->opts[i].help);
	}
	hf_free(spec->opts);
	hf_free(spec->usage);
	hf_free(spec->summary);
	memset(spec, 0, sizeof(*spec));
}

/* ---- environment ---- */

struct env_doc {
	const char *name;
	const char *text;
};

static const struct env_doc envs[] = {
	{ "INFRAHUB_ADDRESS",
	  "The Infrahub to talk to, as http(s)://host[:port]. --address wins "
	  "over it; infrahubctl.toml's server_address is used when neither is "
	  "set. With none of them, hubform uses the embedded local endpoint "
	  "over .hubform/local.db." },
	{ "INFRAHUB_API_TOKEN",
	  "API token sent as X-INFRAHUB-KEY. Never printed, logged or stored. "
	  "Falls back to infrahubctl.toml's api_token." },
	{ "INFRAHUB_DEFAULT_BRANCH",
	  "Target branch when --branch is not given (then infrahubctl.toml's "
	  "default_branch, then the server's default branch)." },
	{ "INFRAHUB_USERNAME",
	  "With INFRAHUB_PASSWORD and no API token: log in to Infrahub "
	  "(its REST login, auth/login) and send the access token as "
	  "'Authorization: Bearer'; an expired access token is refreshed "
	  "and the request sent once more. Falls back to infrahubctl.toml's "
	  "username." },
	{ "INFRAHUB_PASSWORD",
	  "The password for INFRAHUB_USERNAME. Never printed, logged or "
	  "stored. Falls back to infrahubctl.toml's password." },
	{ "INFRAHUB_TIMEOUT",
	  "Seconds per request when --timeout is not given (default 60)." },
	{ "INFRAHUBCTL_CONFIG",
	  "Path of the infrahubctl configuration file to read instead of "
	  "./infrahubctl.toml." },
	{ "HUBFORM_STATE",
	  "Plan store when --state is not given (default .hubform/plans.db)." },
	{ "HUBFORM_IN_AUTOMATION",
	  "Set to 1 in CI: hubform leaves out the hints meant for a person at "
	  "a terminal (such as \"apply it with ...\")." },
	{ "HUBFORM_PROGRESS",
	  "1 shows the progress line for short runs too, 0 never shows it." },
	{ "HUBFORM_TIMING",
	  "When set, print how long each stage took, on standard error." },
	{ "HUBFORM_PREFETCH",
	  "0: a plan does not read ahead. By default, while it resolves the "
	  "files, a plan reads the pages of the kinds the files name on a "
	  "thread of its own, and the fetch takes those that are what it "
	  "asks for." },
	{ "HUBFORM_HUGEPAGES",
	  "Where the kernel's transparent huge pages are in madvise mode and "
	  "glibc is 2.35 or later, a command whose files, plan file or "
	  "database weigh 64 MiB or more (plan stores do not count) starts "
	  "once more with glibc.malloc.hugetlb=1 added to GLIBC_TUNABLES (a "
	  "hugetlb tunable already there is left alone), for about 30 ms of "
	  "start-up. 1 does so whatever the size, 0 never." },
	{ "HUBFORM_SERVE_TOKEN",
	  "Token that hubform serve requires as X-INFRAHUB-KEY when neither "
	  "--token nor --token-file is given." },
	{ "HUBFORM_SERVE_USERS",
	  "Users of the local endpoint's login (auth/login), as "
	  "NAME:PASSWORD[,NAME:PASSWORD...] (a password cannot hold a "
	  "comma). With users, every request needs credentials: the token, "
	  "or a JWT access token from the login (valid 3600 seconds; "
	  "auth/refresh gives a new one). Read by hubform serve and by "
	  "the embedded endpoint." },
	{ "NO_COLOR", "When set, never colour the output." },
	{ NULL, NULL },
};

const char *const hf_doc_env_all[] = {
	"INFRAHUB_ADDRESS",
	"INFRAHUB_API_TOKEN",
	"INFRAHUB_USERNAME",
	"INFRAHUB_PASSWORD",
	"INFRAHUB_DEFAULT_BRANCH",
	"INFRAHUB_TIMEOUT",
	"INFRAHUBCTL_CONFIG",
	"HUBFORM_STATE",
	"HUBFORM_IN_AUTOMATION",
	"HUBFORM_PROGRESS",
	"HUBFORM_TIMING",
	"HUBFORM_PREFETCH",
	"HUBFORM_HUGEPAGES",
	"HUBFORM_SERVE_TOKEN",
	"HUBFORM_SERVE_USERS",
	"NO_COLOR",
	NULL,
};

const char *cli_cmd_doc_env(const char *name)
{
	const struct env_doc *e;

	for (e = envs; e->name; e++)
		if (!strcmp(e->name, name))
			return e->text;
	return NULL;
}

/* ---- per command ---- */

#define TARGET_ENV                                                     \
	"INFRAHUB_ADDRESS", "INFRAHUB_API_TOKEN", "INFRAHUB_USERNAME", \
	        "INFRAHUB_PASSWORD", "INFRAHUB_DEFAULT_BRANCH",        \
	        "INFRAHUB_TIMEOUT", "INFRAHUBCTL_CONFIG"

static const char *const plan_env[] = {
	TARGET_ENV,          "HUBFORM_STATE",  "HUBFORM_IN_AUTOMATION",
	"HUBFORM_PROGRESS",  "HUBFORM_TIMING", "HUBFORM_PREFETCH",
	"HUBFORM_HUGEPAGES", "NO_COLOR",       NULL
};
static const char *const apply_env[] = { TARGET_ENV,
	                                 "HUBFORM_STATE",
	                                 "HUBFORM_IN_AUTOMATION",
	                                 "HUBFORM_PROGRESS",
	                                 "HUBFORM_HUGEPAGES",
	                                 "NO_COLOR",
	                                 NULL };
static const char *const show_env[] = {
	"INFRAHUB_ADDRESS",   "INFRAHUB_DEFAULT_BRANCH",
	"INFRAHUBCTL_CONFIG", "HUBFORM_STATE",
	"NO_COLOR",           NULL
};
static const char *const plans_env[] = { "HUBFORM_STATE", NULL };
static const char *const remote_env[] = { TARGET_ENV, NULL };
static const char *const serve_env[] = { "HUBFORM_SERVE_TOKEN",
	                                 "HUBFORM_SERVE_USERS", NULL };
static const char *const remote_hint_env[] = { TARGET_ENV,
	                                       "HUBFORM_IN_AUTOMATION", NULL };
static const char *const lock_env[] = { TARGET_ENV, "HUBFORM_STATE",
	                                "HUBFORM_IN_AUTOMATION", NULL };
static const char *const no_env[] = { NULL };

static const char *const plan_ex[] = {
	"Plan a directory of object files against $INFRAHUB_ADDRESS, keep the "
	"plan in its own file, and exit 2 when there are changes:",
	"hubform plan objects/ --out plan.hfplan --detailed-exitcode",
	"Plan against a branch of a given Infrahub:",
	"hubform plan objects/ --address https://infrahub.example.com -b change-42",
	NULL,
};
static const char *const apply_ex[] = {
	"Apply the plan file a reviewer approved (exit 3 when it went stale):",
	"hubform apply plan.hfplan",
	"Apply the newest plan for the current target without a question:",
	"hubform apply latest --auto-approve",
	"Plan and apply in one step:",
	"hubform apply objects/ --auto-approve",
	NULL,
};
static const char *const show_ex[] = {
	"The Markdown of a plan file, for a pull-request comment:",
	"hubform show plan.hfplan --format markdown",
	"The newest plan as JSON:",
	"hubform show --format json",
	NULL,
};
static const char *const plans_ex[] = {
	"List stored plans; print only their ids:",
	"hubform plans; hubform plans --quiet",
	NULL,
};
static const char *const validate_ex[] = {
	"Check object files against local schema files, without a server:",
	"hubform validate objects/ --schema schemas/",
	NULL,
};
static const char *const schema_ex[] = {
	"Load a directory of schema files into the target:",
	"hubform schema load schemas/",
	NULL,
};
static const char *const branch_ex[] = {
	"List the branches of the target as a table, then as JSON:",
	"hubform branch list; hubform branch list --format json",
	"Create a branch for a change, then delete it:",
	"hubform branch create change-42 --description 'new site'; "
	"hubform branch delete change-42",
	"Log in with a username and password instead of an API token:",
	"INFRAHUB_USERNAME=admin INFRAHUB_PASSWORD=... hubform branch list",
	NULL,
};
static const char *const menu_ex[] = {
	"Load the menu a repository ships, as infrahubctl menu load does:",
	"hubform menu load menus/",
	"Load it on a branch of a given Infrahub:",
	"hubform menu load menu.yml --address https://infrahub.example.com -b change-42",
	NULL,
};
static const char *const lock_ex[] = {
	"Show who holds the apply lock of the target's default branch:",
	"hubform lock",
	"Break a lock left by a crashed apply, naming its holder as shown:",
	"hubform lock --break HOLDER",
	NULL,
};
static const char *const serve_ex[] = {
	"Run the local endpoint on a free port over a scratch database:",
	"hubform serve --listen 127.0.0.1:0 --data /tmp/hub.db",
	"Require a login (users for the auth/login endpoint):",
	"HUBFORM_SERVE_USERS='admin:s3cret' hubform serve",
	NULL,
};
static const char *const help_ex[] = {
	"Read this manual without installing it:",
	"hubform help --man plan | man -l -",
	"Write every page into a directory:",
	"hubform help --man-dir man/",
	NULL,
};
static const char *const completion_ex[] = {
	"Enable completion in the current bash:",
	"source <(hubform completion bash)",
	"Install it for zsh and fish:",
	"hubform completion zsh > \"${fpath[1]}/_hubform\"; "
	"hubform completion fish > ~/.config/fish/completions/hubform.fish",
	NULL,
};
static const char *const version_ex[] = {
	"Print the version and the library versions:",
	"hubform version",
	NULL,
};

/* clang-format off */
static const struct hf_cmd_doc docs[] = {
	{ "apply",
	  "Apply exactly a reviewed plan (an id, a unique prefix, 'latest', or "
	  "a file written by 'hubform plan --out') inside a throw-away branch "
	  "hubform-ID. The branch is merged when every change succeeded and "
	  "deleted otherwise, so the target never sees half an apply.\n\n"
	  "Before writing anything, hubform re-reads every object the plan "
	  "touches. When one of them changed since the plan was made, the plan "
	  "is stale: nothing is written and the exit status is 3. Make a new "
	  "plan and review it again.\n\n"
	  "With object files or directories and --auto-approve, apply plans and "
	  "applies in one step.",
	  apply_ex, apply_env, "01364" },
	{ "branch",
	  "Manage the target's Infrahub branches, as 'infrahubctl branch' "
	  "does. 'list' prints each branch's name, origin, whether it is the "
	  "default branch, status and creation time (--format json: every "
	  "field as JSON, for tools). 'create NAME' makes a branch from the "
	  "default branch, with --description and --sync-with-git. 'delete "
	  "NAME' deletes a branch, never the default one.\n\n"
	  "Errors exit 1: an existing name on create, an unknown branch or the "
	  "default branch on delete, a server that refuses.",
	  branch_ex, remote_hint_env, "0164" },
	{ "completion",
	  "Print a completion script for bash, zsh or fish. It completes "
	  "command names, each command's options (from the same tables that "
	  "parse them), plan ids from the plan store (through 'hubform plans "
	  "--quiet') where a command takes a plan, and kinds for --target and "
	  "--exclude from the newest schema cached in .hubform/ (through "
	  "'hubform completion kinds', which never contacts a server).",
	  completion_ex, no_env, "0164" },
	{ "help",
	  "Print the usage of hubform or of one command. With --man, print the "
	  "manual page in roff instead; both are produced from the option "
	  "tables the commands parse their arguments with.",
	  help_ex, no_env, "0164" },
	{ "lock",
	  "Show who holds the apply lock of the target (the branch and "
	  "--branch name it): user, host, process, plan and since when. An "
	  "apply takes the lock before it writes and gives it back at the end, "
	  "so two applies to one target never run at once.\n\n"
	  "With --break HOLDER the lock is broken, but only when HOLDER names "
	  "the current holder exactly as shown, so a lock taken again in the "
	  "meantime is never broken by mistake.",
	  lock_ex, lock_env, "0164" },
	{ "menu",
	  "Load Infrahub menu files (apiVersion infrahub.app/v1, kind: Menu; "
	  "files or directories) into the target, as 'infrahubctl menu load' "
	  "does. Every item is checked against the target's CoreMenuItem "
	  "schema before anything is written; each problem is one line "
	  "FILE:LINE:COL: message with the item's position (1.children.2). "
	  "Items are upserted by [namespace, name], parents before their "
	  "children, so loading the same files again changes nothing. An "
	  "item naming a kind gets the path /objects/KIND; nested items "
	  "without order_weight are ordered 1000, 2000, ... as listed.",
	  menu_ex, remote_hint_env, "0164" },
	{ "plan",
	  "Read the object files (YAML, as infrahubctl object load takes them; "
	  "directories are read recursively), fetch the matching objects from "
	  "Infrahub, compute what would be created or updated, store the plan in "
	  "the plan store and print it with its id. Nothing is written to "
	  "Infrahub.\n\n"
	  "With --out FILE the plan is also written to a file of its own, which "
	  "is what a CI job keeps as an artifact and applies after review.",
	  plan_ex, plan_env, "01264" },
	{ "plans",
	  "List the stored plans, newest first: id, creation time, status "
	  "(planned, applying, applied, failed, stale), counts and target.",
	  plans_ex, plans_env, "0164" },
	{ "schema",
	  "Send Infrahub schema files to the target in one request, as "
	  "'infrahubctl schema load' does, and report whether the schema changed.",
	  schema_ex, remote_env, "0164" },
	{ "serve",
	  "Run the local Infrahub-compatible endpoint (GraphQL and the schema "
	  "API over SQLite). It prints 'listening on http://HOST:PORT' on "
	  "standard error once ready, and stops on SIGINT or SIGTERM.",
	  serve_ex, serve_env, "0164" },
	{ "show",
	  "Print a stored plan as text, JSON or Markdown. Markdown is meant for "
	  "a pull-request comment and stays under GitHub's size limit.",
	  show_ex, show_env, "0164" },
	{ "validate",
	  "Check object files without writing anything: their structure "
	  "always, and against a schema with --schema or when an address is "
	  "configured. Each problem is one line FILE:LINE:COL: message.",
	  validate_ex, remote_env, "0164" },
	{ "version",
	  "Print the hubform version and the versions of the libraries it runs "
	  "with.",
	  version_ex, no_env, "064" },
	{ NULL, NULL, NULL, NULL, NULL },
};
/* clang-format on */

const struct hf_cmd_doc *cli_cmd_doc_lookup(const char *name)
{
	const struct hf_cmd_doc *d;

	for (d = docs; d->name; d++)
		if (!strcmp(d->name, name))
			return d;
	return NULL;
}
