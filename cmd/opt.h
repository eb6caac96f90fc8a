#ifndef HF_CMD_OPT_H
#define HF_CMD_OPT_H

#include <stddef.h>

#include "hf/error.h"

/*
 * Declarative per-command options (git's OPT_*, tmux's args template). The
 * same table parses argv and prints --help, so usage cannot drift from
 * the parser. Exact names only: no unique-prefix matching.
 */
enum hf_opt_type {
	HF_OPT_END = 0,
	HF_OPT_BOOL, /* int *: set to 1 */
	HF_OPT_STRING, /* const char **: last one wins */
	HF_OPT_INT, /* long *: decimal, range-checked */
	HF_OPT_LIST, /* struct hf_strlist *: repeatable */
};

struct hf_strlist {
	const char **items; /* borrowed from argv; array owned */
	size_t n;
	size_t cap;
};

struct hf_opt {
	enum hf_opt_type type;
	const char *name; /* long name without "--" */
	char shortname; /* 0 for none */
	const char *argname;
	const char *help;
	void *value;
	long min, max; /* HF_OPT_INT bounds */
};

/* clang-format off */
#define HF_OPT_BOOL(s, l, v, h)        { HF_OPT_BOOL, l, s, NULL, h, v, 0, 0 }
#define HF_OPT_STRING(s, l, a, v, h)   { HF_OPT_STRING, l, s, a, h, v, 0, 0 }
#define HF_OPT_INT(s, l, a, v, lo, hi, h) { HF_OPT_INT, l, s, a, h, v, lo, hi }
#define HF_OPT_LIST(s, l, a, v, h)     { HF_OPT_LIST, l, s, a, h, v, 0, 0 }
#define HF_OPT_END()                   { HF_OPT_END, NULL, 0, NULL, NULL, NULL, 0, 0 }
/* clang-format on */

/* Result of cli_opt_parse besides 0 / negative status. */
#define HF_OPT_HELP 1

/*
 * Parse argv[0..argc) (argv[0] is the first argument, not the command
 * name). Options and positional arguments may be mixed; "--" ends the
 * options; "-" alone is positional. Positional arguments are appended to
 * `args`.
 *
 * "--name", "--name=V" and "--name V" are long options. A single-dash
 * word longer than two characters whose name (before any '=') is exactly
 * a long name means the same ("-auto-approve", "-out=FILE", "-out FILE").
 * Otherwise a single-dash word is short options: a cluster of booleans
 * ("-vx"), ending with at most one option that takes a value, glued
 * ("-ofile", "-o=file") or in the next word ("-o file"). A glued value
 * may not contain '=' (after the one of "-o=file"), and a glued value
 * that makes the word a near miss of a long name starting with the same
 * letter ("-outt") is refused as a typo. Unknown options are reported
 * with the whole word and, when a long name is close, a suggestion.
 *
 * Returns 0, HF_OPT_HELP when -h/-help/--help was given, HF_ENOMEM, or
 * HF_EINVAL with `err` saying what is wrong (usage error).
 */
int cli_opt_parse(const struct hf_opt *opts, int argc, char **argv,
                  struct hf_strlist *args, hf_error *err);

/*
 * Edit distance (optimal string alignment: a swap of neighbours is one
 * edit) between a[0..alen) and the string b; (size_t)-1 when either is
 * longer than 64 characters. Never allocates.
 */
size_t cli_opt_distance(const char *a, size_t alen, const char *b);

/*
 * Whether word[0..len) is close enough to `name` to suggest it: at most
 * one edit per three characters of `name`, at least 1 and at most 2.
 */
int cli_opt_near(const char *word, size_t len, const char *name);

/* Render "usage: ..." plus the option table into a new string (hf_free). */
char *cli_opt_usage(const char *usage, const char *summary,
                    const struct hf_opt *opts);

int cli_strlist_push(struct hf_strlist *l, const char *s);
void cli_strlist_release(struct hf_strlist *l);

#endif
