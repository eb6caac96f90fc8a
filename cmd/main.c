/*
 * hubform: the command table and the dispatcher, nothing else. Commands are
 * looked up by exact name only: for a tool that mutates infrastructure,
 * "ap" must not silently mean "apply".
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf/alloc.h"
#include "cmd.h"
#include "cmd_doc.h"
#include "hugepages.h"
#include "opt.h"
#include "output.h"
#include "pipeline.h"
#include "hf/banned.h"

/* clang-format off */
const struct hf_cmd cli_commands[] = {
	/* name        fn               needs                     summary */
	{ "apply",      cmd_apply,       NEED_TARGET | NEED_STORE, "apply a stored plan inside a branch" },
	{ "branch",     cmd_branch,      NEED_TARGET,              "list, create or delete Infrahub branches" },
	{ "completion", cmd_completion,  NEED_NONE,                "print a shell completion script (bash, zsh, fish)" },
	{ "help",       cmd_help,        NEED_NONE,                "show help for hubform or a command" },
	{ "lock",       cmd_lock,        NEED_TARGET,              "show or break the apply lock of a target" },
	{ "menu",       cmd_menu,        NEED_TARGET,              "load Infrahub menu files into the target" },
	{ "plan",       cmd_plan,        NEED_TARGET | NEED_STORE, "compute and store what would change" },
	{ "plans",      cmd_plans,       NEED_STORE,               "list stored plans" },
	{ "schema",     cmd_schema,      NEED_TARGET,              "load Infrahub schema files into the target" },
	{ "serve",      cmd_serve,       NEED_NONE,                "run the local Infrahub-compatible endpoint" },
	{ "show",       cmd_show,        NEED_STORE,               "print a stored plan (text, json, markdown)" },
	{ "validate",   cmd_validate,    NEED_TARGET,              "check object files; no writes" },
	{ "version",    cmd_version,     NEED_NONE,                "print the version" },
	{ NULL, NULL, 0, NULL },
};
/* clang-format on */

/* Set up what the command's row declares, run it, tear it all down. */
static int run(const struct hf_cmd *cmd, int argc, char **argv)
{
	struct hf_pipeline pl;
	struct hf_ctx ctx;
	int rc;

	if (cli_ctx_setup(&ctx, cmd->name, cmd->needs, &pl) < 0)
		return HF_EXIT_ERROR;
	rc = cmd->fn(&ctx, argc, argv);
	cli_ctx_teardown(&ctx);
	return rc;
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
	/*
	 * SQLite's memory statistics take a process-wide lock on every one
	 * of its allocations; nothing here reads them.
	 */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (argc < 2) {
		cli_main_usage(1);
		return HF_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-help") ||
	    !strcmp(argv[1], "-h")) {
		cli_main_usage(0);
		return out_finish() ? HF_EXIT_ERROR : HF_EXIT_OK;
	}
	cmd = cli_cmd_lookup(is_version(argv[1]) ? "version" : argv[1]);
	if (!cmd)
		return cli_cmd_not_found(argv[1]);
	/* the commands that read repositories, plans or a database */
	if (cmd->needs != NEED_NONE || cmd->fn == cmd_serve) {
		cli_hugepages(argv); /* may start hubform again */
		if (getenv("HUBFORM_TIMING"))
			out_info("timing: heap     huge pages %s",
			         cli_hugepages_state());
	}
	rc = run(cmd, argc - 2, argv + 2);
	if (out_finish() && rc == HF_EXIT_OK)
		rc = HF_EXIT_ERROR;
	return rc;
}
