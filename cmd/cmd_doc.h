#ifndef HF_CMD_DOC_H
#define HF_CMD_DOC_H

/*
 * Documentation shared by the man-page and completion generators. The
 * options come from each command's own table, read by running the command
 * with --help under a capture (struct hf_ctx's; one source of truth: the
 * table that parses argv); the prose the table cannot hold (description,
 * examples, environment) is in cmd_doc.c.
 */
#include <stddef.h>

#include "cmd.h"
#include "opt.h"

/* What a command's --help shows, copied out of its table. */
struct hf_cmd_spec {
	char *usage; /* owned */
	char *summary; /* owned; may be NULL */
	struct hf_opt *opts; /* owned, HF_OPT_END-terminated; strings owned,
	                        value pointers NULL */
	size_t n; /* options before the end marker */
};

/*
 * Fill `spec` from `cmd`'s option table by running it with --help under
 * capture (nothing is printed). 0; HF_ENOTFOUND when the command never
 * reached its table; HF_ENOMEM. Release with cli_cmd_spec_release().
 */
int cli_cmd_spec_get(const struct hf_cmd *cmd, struct hf_cmd_spec *spec);
void cli_cmd_spec_release(struct hf_cmd_spec *spec);

/* Prose for a command's manual page. Static strings. */
struct hf_cmd_doc {
	const char *name;
	const char *description; /* paragraphs separated by "\n\n" */
	const char *const *examples; /* pairs: what, command line; NULL end */
	const char *const *env; /* environment variables it reads */
	const char
	        *exit_codes; /* the codes it uses: "0" "1" "2" "3", "6" = 64 */
};

/* The prose for `name`, or NULL. */
const struct hf_cmd_doc *cli_cmd_doc_lookup(const char *name);

/* One environment variable and what it does; NULL for an unknown name. */
const char *cli_cmd_doc_env(const char *name);
/* Every documented environment variable, NULL-terminated. */
extern const char *const hf_doc_env_all[];

/*
 * Manual pages (man.c), roff, into `b`: hubform(1) when `cmd` is NULL,
 * else hubform-CMD(1). 0 or a negative HF_E* status.
 */
struct hf_buf;
int cli_man_render(struct hf_buf *b, const struct hf_cmd *cmd);

/*
 * Write hubform.1 and hubform-CMD.1 for every command into `dir` (which
 * must exist). 0, or -1 after printing the error.
 */
int cli_man_write_dir(const char *dir);

/* hubform completion bash|zsh|fish (cmd_completion.c). */
int cmd_completion(struct hf_ctx *ctx, int argc, char **argv);

#endif
