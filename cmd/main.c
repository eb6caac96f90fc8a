/*
 * hubform: the command table and the dispatcher, nothing else. Commands are
 * looked up by exact name only: for a tool that mutates infrastructure,
 * "ap" must not silently mean "apply".
 */
#include <stdio.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/client.h"
#include "cmd.h"
#include "cmd_doc.h"
#include "opt.h"
#include "output.h"
#include "hf/banned.h"

/* clang-format off */
const struct hf_cmd hf_commands[] = {
	/* name        fn             needs      summary */
	{ "apply",     cmd_apply,     NEED_NONE, "apply a stored plan inside a branch" },
	{ "branch",    cmd_branch,    NEED_NONE, "list, create or delete Infrahub branches" },
	{ "completion", cmd_completion, NEED_NONE, "print a shell completion script (bash, zsh, fish)" },
	{ "help",      cmd_help,      NEED_NONE, "show help for hubform or a command" },
	{ "lock",      cmd_lock,      NEED_NONE, "show or break the apply lock of a target" },
	{ "menu",      cmd_menu,      NEED_NONE, "load Infrahub menu files into the target" },
	{ "plan",      cmd_plan,      NEED_NONE, "compute and store what would change" },
	{ "plans",     cmd_plans,     NEED_NONE, "list stored plans" },
	{ "schema",    cmd_schema,    NEED_NONE, "load Infrahub schema files into the target" },
	{ "serve",     cmd_serve,     NEED_NONE, "run the local Infrahub-compatible endpoint" },
	{ "show",      cmd_show,      NEED_NONE, "print a stored plan (text, json, markdown)" },
	{ "validate",  cmd_validate,  NEED_NONE, "check object files; no writes" },
	{ "version",   cmd_version,   NEED_NONE, "print the version" },
	{ NULL, NULL, 0, NULL },
};
/* clang-format on */

static int run(const struct hf_cmd *cmd, int argc, char **argv)
{
	struct hf_ctx ctx = { cmd->name, cmd->needs };

	return cmd->fn(&ctx, argc, argv);
}

/* "--version" and Terraform's "-version" mean the version command. */
static int is_version(const char *arg)
{
	return !strcmp(arg, "--version") || !strcmp(arg, "-version");
}

int main(int argc, char **argv)
{
	const struct hf_cmd *cmd;
	int rc;

	hf_alloc_init();
	if (argc < 2) {
		hf_main_usage(1);
		return HF_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-help") ||
	    !strcmp(argv[1], "-h")) {
		hf_main_usage(0);
		return out_finish() ? HF_EXIT_ERROR : HF_EXIT_OK;
	}
	cmd = hf_cmd_lookup(is_version(argv[1]) ? "version" : argv[1]);
	if (!cmd)
		return hf_cmd_not_found(argv[1]);
	/* process-wide set-up, before any command starts a thread */
	if (hf_client_global_init() < 0) {
		out_error("cannot initialise libcurl");
		return HF_EXIT_ERROR;
	}
	rc = run(cmd, argc - 2, argv + 2);
	hf_client_global_cleanup();
	if (out_finish() && rc == HF_EXIT_OK)
		rc = HF_EXIT_ERROR;
	return rc;
}
