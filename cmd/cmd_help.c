/*
 * hubform help [COMMAND]: the top-level usage, or a command's own --help
 * (produced by running the command with --help, so there is one source of
 * truth: its option table).
 */
#include "cmd.h"
#include "output.h"
#include "hf/banned.h"

int cmd_help(struct hf_ctx *ctx, int argc, char **argv)
{
	const struct hf_cmd *cmd;
	struct hf_ctx sub;
	static char help_flag[] = "--help";
	char *help[] = { help_flag, NULL };

	(void)ctx;
	if (argc == 0) {
		hf_main_usage(0);
		return HF_EXIT_OK;
	}
	if (argc > 1) {
		out_error("'help' takes at most one command");
		return HF_EXIT_USAGE;
	}
	cmd = hf_cmd_lookup(argv[0]);
	if (!cmd)
		return hf_cmd_not_found(argv[0]);
	if (cmd->fn == cmd_help) {
		hf_main_usage(0);
		return HF_EXIT_OK;
	}
	sub.name = cmd->name;
	sub.needs = cmd->needs;
	return cmd->fn(&sub, 1, help);
}
