#ifndef HF_CMD_H
#define HF_CMD_H

/* Named exit codes: the command-line contract (DESIGN.md). */
enum hf_exit {
	HF_EXIT_OK = 0,      /* success; plan: no changes */
	HF_EXIT_ERROR = 1,   /* runtime error */
	HF_EXIT_CHANGES = 2, /* plan has changes (--detailed-exitcode) */
	HF_EXIT_STALE = 3,   /* plan is stale: apply refused, nothing written */
	HF_EXIT_USAGE = 64,  /* usage error (EX_USAGE) */
};

/*
 * Preconditions the dispatcher satisfies before calling a command (git's
 * RUN_SETUP). Commands never repeat this setup.
 */
enum hf_cmd_needs {
	NEED_NONE = 0,
};

struct hf_ctx {
	const char *name; /* the command's name */
	unsigned needs;
};

struct hf_cmd {
	const char *name;
	int (*fn)(struct hf_ctx *ctx, int argc, char **argv);
	unsigned needs;
	const char *summary;
};

/* The command table (main.c). Terminated by a NULL name. */
extern const struct hf_cmd hf_commands[];
const struct hf_cmd *hf_cmd_lookup(const char *name);
/* "'x' is not a hubform command", with the closest one; returns 64. */
int hf_cmd_not_found(const char *name);

/*
 * Helper for commands: parse options, printing help (exit 0) or a usage
 * error (exit 64). Returns -1 to continue, or the exit code to return.
 */
struct hf_opt;
struct hf_strlist;
int hf_cmd_parse(const char *name, const char *usage, const char *summary,
		 const struct hf_opt *opts, int argc, char **argv,
		 struct hf_strlist *args);

int cmd_apply(struct hf_ctx *ctx, int argc, char **argv);
int cmd_branch(struct hf_ctx *ctx, int argc, char **argv);
int cmd_lock(struct hf_ctx *ctx, int argc, char **argv);
int cmd_menu(struct hf_ctx *ctx, int argc, char **argv);
int cmd_help(struct hf_ctx *ctx, int argc, char **argv);
int cmd_plan(struct hf_ctx *ctx, int argc, char **argv);
int cmd_plans(struct hf_ctx *ctx, int argc, char **argv);
int cmd_schema(struct hf_ctx *ctx, int argc, char **argv);
int cmd_serve(struct hf_ctx *ctx, int argc, char **argv);
int cmd_show(struct hf_ctx *ctx, int argc, char **argv);
int cmd_validate(struct hf_ctx *ctx, int argc, char **argv);
int cmd_version(struct hf_ctx *ctx, int argc, char **argv);

/* Print the top-level usage to stdout (help) or stderr (error). */
void hf_main_usage(int to_stderr);

#endif
