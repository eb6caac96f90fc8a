/*
 * Shared by the commands: lookup in the table, top-level usage, and the
 * option-parsing wrapper that turns parse results into exit codes.
 */
#include <string.h>

#include "hf/alloc.h"
#include "cmd.h"
#include "opt.h"
#include "output.h"
#include "hf/banned.h"

const struct hf_cmd *hf_cmd_lookup(const char *name)
{
	const struct hf_cmd *c;

	for (c = hf_commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

/* The closest command name to `name`, or NULL when none is close. */
static const char *suggest(const char *name)
{
	const struct hf_cmd *c, *best = NULL;
	size_t d, bestd = (size_t)-1, len = strlen(name);

	for (c = hf_commands; c->name; c++) {
		d = hf_opt_distance(name, len, c->name);
		if (d < bestd && hf_opt_near(name, len, c->name)) {
			best = c;
			bestd = d;
		}
	}
	return best ? best->name : NULL;
}

int hf_cmd_not_found(const char *name)
{
	const char *hint = suggest(name);

	if (hint)
		out_error("'%s' is not a hubform command; did you mean '%s'?",
			  name, hint);
	else
		out_error("'%s' is not a hubform command; see 'hubform --help'",
			  name);
	return HF_EXIT_USAGE;
}

void hf_main_usage(int to_stderr)
{
	const struct hf_cmd *c;

	if (to_stderr) {
		out_info("usage: hubform COMMAND [ARGS...]; see 'hubform --help'");
		return;
	}
	out_data("usage: hubform COMMAND [ARGS...]\n\n"
		 "A declarative plan/apply tool for Infrahub.\n\n"
		 "commands:\n");
	for (c = hf_commands; c->name; c++)
		out_data("  %-12s %s\n", c->name, c->summary);
	out_data("\nRun 'hubform help COMMAND' or 'hubform COMMAND --help' "
		 "for a command's options.\n"
		 "Exit codes: 0 success, 1 error, 2 changes "
		 "(--detailed-exitcode), 3 stale plan, 64 usage error.\n");
}

int hf_cmd_parse(const char *name, const char *usage, const char *summary,
		 const struct hf_opt *opts, int argc, char **argv,
		 struct hf_strlist *args)
{
	hf_error err = HF_ERROR_INIT;
	char *text;
	int rc;

	rc = hf_opt_parse(opts, argc, argv, args, &err);
	if (rc == HF_OPT_HELP) {
		text = hf_opt_usage(usage, summary, opts);
		if (text)
			out_data("%s", text);
		hf_free(text);
		return HF_EXIT_OK;
	}
	if (rc < 0) {
		out_error("%s", err.msg);
		out_info("usage: %s", usage);
		return rc == HF_ENOMEM ? HF_EXIT_ERROR : HF_EXIT_USAGE;
	}
	(void)name;
	return -1;
}
