/*
 * hubform help [COMMAND] [--man] | hubform help --man-dir DIR: the
 * top-level usage, or a command's own --help (produced by running the
 * command with --help, so there is one source of truth: its option
 * table); with --man, the same as a manual page in roff.
 */
#include <string.h>

#include "hf/buf.h"
#include "cmd.h"
#include "cmd_doc.h"
#include "opt.h"
#include "output.h"
#include "hf/banned.h"

static int print_man(const struct hf_cmd *cmd)
{
	hf_buf b = HF_BUF_INIT;
	int rc = cli_man_render(&b, cmd);

	if (rc < 0) {
		out_error("cannot render the manual page");
		hf_buf_release(&b);
		return HF_EXIT_ERROR;
	}
	out_datan(b.ptr, b.len);
	hf_buf_release(&b);
	return HF_EXIT_OK;
}

int cmd_help(struct hf_ctx *ctx, int argc, char **argv)
{
	const struct hf_cmd *cmd = NULL;
	struct hf_strlist args = { 0 };
	const char *man_dir = NULL;
	struct hf_ctx sub;
	static char help_flag[] = "--help";
	char *help[] = { help_flag, NULL };
	int man = 0;
	const struct hf_opt opts[] = {
		HF_OPT_BOOL(
		        0, "man", &man,
		        "print the manual page in roff ('| man -l -' shows it)"),
		HF_OPT_STRING(0, "man-dir", "DIR", &man_dir,
		              "write hubform.1 and hubform-COMMAND.1 for every "
		              "command into DIR"),
		HF_OPT_END(),
	};
	int rc;

	rc = cli_cmd_parse(ctx,
	                   "hubform help [COMMAND] [--man] | "
	                   "hubform help --man-dir DIR",
	                   "Show help for hubform or a command.", opts, argc,
	                   argv, &args);
	if (rc >= 0)
		goto out;
	rc = HF_EXIT_USAGE;
	if (args.n > 1) {
		out_error("'help' takes at most one command");
		goto out;
	}
	if (args.n && !(cmd = cli_cmd_lookup(args.items[0]))) {
		rc = cli_cmd_not_found(args.items[0]);
		goto out;
	}
	if (man_dir) {
		if (args.n || man) {
			out_error("--man-dir writes every page; it takes no "
			          "command and no --man");
			goto out;
		}
		rc = cli_man_write_dir(man_dir) < 0 ? HF_EXIT_ERROR
		                                    : HF_EXIT_OK;
		goto out;
	}
	if (man) {
		rc = print_man(cmd);
		goto out;
	}
	rc = HF_EXIT_OK;
	if (!cmd || cmd->fn == cmd_help) {
		cli_main_usage(0);
		goto out;
	}
	/* --help only: nothing set up, the command returns before using any */
	memset(&sub, 0, sizeof(sub));
	sub.name = cmd->name;
	rc = cmd->fn(&sub, 1, help);
out:
	cli_strlist_release(&args);
	return rc;
}
