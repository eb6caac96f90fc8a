#ifndef HF_CMD_H
#define HF_CMD_H

/* Named exit codes: the command-line contract (DESIGN.md). */
enum hf_exit {
	HF_EXIT_OK = 0, /* success; plan: no changes */
	HF_EXIT_ERROR = 1, /* runtime error */
	HF_EXIT_CHANGES = 2, /* plan has changes (--detailed-exitcode) */
	HF_EXIT_STALE = 3, /* plan is stale: apply refused, nothing written */
	HF_EXIT_USAGE = 64, /* usage error (EX_USAGE) */
};

/*
 * Preconditions the dispatcher satisfies for a command (git's RUN_SETUP):
 * what the table row declares, main.c sets up once and tears down after
 * the command returns. A command asks for them through cli_ctx_*() after
 * parsing its options, and may ask only for what its row declares.
 */
enum hf_cmd_needs {
	NEED_NONE = 0,
	NEED_TARGET = 1 << 0, /* talks to Infrahub: libcurl's process-wide
	                         set-up before any thread, a pipeline */
	NEED_STORE = 1 << 1, /* reads or writes the plan store */
};

struct hf_opt;
struct hf_pipeline;
struct hf_store;

struct hf_ctx {
	const char *name; /* the command's name */
	unsigned needs;
	struct hf_pipeline *pl; /* NEED_TARGET: main's, released by main */
	struct hf_store *store; /* NEED_STORE: opened by cli_ctx_store() */
	int store_writable;
	/*
	 * Documentation capture, for the man-page and completion generators:
	 * when set, --help hands it the usage line, the summary and the
	 * option table (valid only during the call) instead of printing, so
	 * a command run with --help under capture yields the very table its
	 * parser uses.
	 */
	void (*capture)(void *payload, const char *usage, const char *summary,
	                const struct hf_opt *opts);
	void *capture_payload;
};

/*
 * The pipeline of a NEED_TARGET command: target, client, schema and plan,
 * empty until the command connects it (cli_pipeline_connect/attach);
 * main releases it. Borrowed. Aborts for a command without NEED_TARGET.
 */
struct hf_pipeline *cli_ctx_pipeline(struct hf_ctx *ctx);

/*
 * The plan store of a NEED_STORE command, opened on the first call: --state
 * `state_opt`, else $HUBFORM_STATE, else .hubform/plans.db. `writable`
 * creates it (and .hubform/) when missing; read-only creates nothing.
 * *out is borrowed: main closes it. Returns 0; HF_ENOTFOUND (read-only,
 * nothing printed) when there is no store yet; or -1 after printing an
 * error. Aborts for a command without NEED_STORE.
 */
int cli_ctx_store(struct hf_ctx *ctx, const char *state_opt, int writable,
                  struct hf_store **out);

/* What main.c sets up for `needs` (0 or -1 printed) and tears down. */
int cli_ctx_setup(struct hf_ctx *ctx, const char *name, unsigned needs,
                  struct hf_pipeline *pl);
void cli_ctx_teardown(struct hf_ctx *ctx);

struct hf_cmd {
	const char *name;
	int (*fn)(struct hf_ctx *ctx, int argc, char **argv);
	unsigned needs; /* enum hf_cmd_needs bits */
	const char *summary;
};

/* The command table (main.c). Terminated by a NULL name. */
extern const struct hf_cmd cli_commands[];
const struct hf_cmd *cli_cmd_lookup(const char *name);
/* "'x' is not a hubform command", with the closest one; returns 64. */
int cli_cmd_not_found(const char *name);

/*
 * Helper for commands: parse options, printing help (exit 0) or a usage
 * error (exit 64). Returns -1 to continue, or the exit code to return.
 */
struct hf_strlist;
int cli_cmd_parse(struct hf_ctx *ctx, const char *usage, const char *summary,
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
void cli_main_usage(int to_stderr);

#endif
