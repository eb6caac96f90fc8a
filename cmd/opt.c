/*
 * Option parsing from a declarative table. Values are borrowed from argv;
 * only list arrays are allocated.
 *
 * Besides "--name", a single-dash word longer than two characters whose
 * name (before any '=') is exactly a long name is that long option, as
 * Terraform users type it: "-auto-approve", "-out=FILE". Any other
 * single-dash word must be a valid use of short options ("-vx", "-o FILE",
 * "-ofile", "-o=file") or it is a usage error naming the whole word, with
 * a suggestion when a long name is close: nothing is silently read as
 * something the user did not mean.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "opt.h"
#include "hf/banned.h"

int cli_strlist_push(struct hf_strlist *l, const char *s)
{
	const char **p;
	size_t ncap;

	if (l->n == l->cap) {
		ncap = l->cap ? l->cap * 2 : 8;
		p = hf_reallocarray(l->items, ncap, sizeof(*p));
		if (!p)
			return HF_ENOMEM;
		l->items = p;
		l->cap = ncap;
	}
	l->items[l->n++] = s;
	return 0;
}

void cli_strlist_release(struct hf_strlist *l)
{
	hf_free(l->items);
	l->items = NULL;
	l->n = 0;
	l->cap = 0;
}

static const struct hf_opt *find_long(const struct hf_opt *opts,
                                      const char *name, size_t len)
{
	for (; opts->type != HF_OPT_END; opts++)
		if (strlen(opts->name) == len &&
		    !strncmp(opts->name, name, len))
			return opts;
	return NULL;
}

static const struct hf_opt *find_short(const struct hf_opt *opts, char c)
{
	for (; opts->type != HF_OPT_END; opts++)
		if (opts->shortname && opts->shortname == c)
			return opts;
	return NULL;
}

static int set_int(const struct hf_opt *o, const char *v, hf_error *err)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end)
		return hf_error_set(err, HF_EINVAL,
		                    "option '--%s' expects a number, not '%s'",
		                    o->name, v);
	if (n < o->min || n > o->max)
		return hf_error_set(err, HF_EINVAL,
		                    "option '--%s' must be between %ld and %ld",
		                    o->name, o->min, o->max);
	*(long *)o->value = n;
	return 0;
}

static int set_value(const struct hf_opt *o, const char *v, hf_error *err)
{
	switch (o->type) {
	case HF_OPT_STRING:
		*(const char **)o->value = v;
		return 0;
	case HF_OPT_INT:
		return set_int(o, v, err);
	case HF_OPT_LIST:
		if (cli_strlist_push(o->value, v) < 0)
			return hf_error_set(err, HF_ENOMEM, "out of memory");
		return 0;
	default:
		*(int *)o->value = 1;
		return 0;
	}
}

/*
 * One option at argv[*i]. `inl` is the value given after '=' (long) or
 * glued to a short option, or NULL.
 */
static int take(const struct hf_opt *o, const char *shown, const char *inl,
                int argc, char **argv, int *i, hf_error *err)
{
	if (o->type == HF_OPT_BOOL) {
		if (inl)
			return hf_error_set(err, HF_EINVAL,
			                    "option '%s' takes no value",
			                    shown);
		return set_value(o, NULL, err);
	}
	if (inl)
		return set_value(o, inl, err);
	if (*i + 1 >= argc)
		return hf_error_set(err, HF_EINVAL,
		                    "option '%s' requires a value", shown);
	*i += 1;
	return set_value(o, argv[*i], err);
}

/* Longest word cli_opt_distance compares; longer ones are never close. */
#define DIST_MAX 64

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;

	return m < c ? m : c;
}

/*
 * Optimal string alignment distance: Levenshtein plus a swap of two
 * neighbours as one edit. Three rolling rows on the stack, so suggesting
 * a name never allocates and never fails.
 */
size_t cli_opt_distance(const char *a, size_t alen, const char *b)
{
	size_t rows[3][DIST_MAX + 1];
	size_t blen = strlen(b), i, j, sub;
	size_t *cur, *prev, *prev2;

	if (alen > DIST_MAX || blen > DIST_MAX)
		return (size_t)-1;
	for (j = 0; j <= blen; j++)
		rows[0][j] = j;
	for (i = 1; i <= alen; i++) {
		cur = rows[i % 3];
		prev = rows[(i + 2) % 3];
		prev2 = rows[(i + 1) % 3];
		cur[0] = i;
		for (j = 1; j <= blen; j++) {
			sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, sub);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < cur[j])
				cur[j] = prev2[j - 2] + 1;
		}
	}
	return rows[alen % 3][blen];
}

int cli_opt_near(const char *word, size_t len, const char *name)
{
	size_t limit = strlen(name) / 3;

	if (limit < 1)
		limit = 1;
	if (limit > 2)
		limit = 2;
	return cli_opt_distance(word, len, name) <= limit;
}

/*
 * The closest long name (or "help") to name[0..len), or NULL when none is
 * close. With `first` set, only names starting with that letter count.
 */
static const char *suggest(const struct hf_opt *opts, const char *name,
                           size_t len, char first)
{
	const char *best = NULL;
	size_t d, bestd = (size_t)-1;

	for (; opts->type != HF_OPT_END; opts++) {
		if (first && opts->name[0] != first)
			continue;
		d = cli_opt_distance(name, len, opts->name);
		if (d < bestd && cli_opt_near(name, len, opts->name)) {
			best = opts->name;
			bestd = d;
		}
	}
	if (!best && (!first || first == 'h') &&
	    cli_opt_near(name, len, "help"))
		best = "help";
	return best;
}

static int unknown(hf_error *err, const char *word, int wlen,
                   const char *dashes, const char *hint)
{
	if (hint)
		return hf_error_set(err, HF_EINVAL,
		                    "unknown option '%.*s'; "
		                    "did you mean '%s%s'?",
		                    wlen, word, dashes, hint);
	return hf_error_set(err, HF_EINVAL, "unknown option '%.*s'", wlen,
	                    word);
}

static int parse_long(const struct hf_opt *opts, int argc, char **argv, int *i,
                      hf_error *err)
{
	const char *name = argv[*i] + 2;
	const char *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct hf_opt *o;

	if (len == 4 && !strncmp(name, "help", 4))
		return HF_OPT_HELP;
	o = find_long(opts, name, len);
	if (!o)
		return unknown(err, argv[*i], (int)len + 2, "--",
		               suggest(opts, name, len, 0));
	return take(o, argv[*i], eq ? eq + 1 : NULL, argc, argv, i, err);
}

/* How a single-dash word reads as short options (check_cluster). */
enum cluster {
	CLUSTER_OK,
	CLUSTER_HELP,
	CLUSTER_UNKNOWN, /* a letter that is no short option */
	CLUSTER_EQ, /* glued value with '=' inside: "-ofoo=bar" */
	CLUSTER_NEAR, /* glued value, but the word is a long-name typo */
};

/*
 * The glued value of the short option at *p, without the '=' of
 * "-b=main"; empty when the value is the next word.
 */
static const char *glued(const char *p)
{
	return p[1] == '=' ? p + 2 : p + 1;
}

/*
 * Decide, before setting anything, whether `word` is a valid cluster of
 * short options. *at is the letter that takes a value, or NULL.
 */
static enum cluster check_cluster(const struct hf_opt *opts, const char *word,
                                  const char **at)
{
	const struct hf_opt *o;
	const char *p;

	*at = NULL;
	for (p = word + 1; *p; p++) {
		if (*p == 'h')
			return CLUSTER_HELP;
		o = find_short(opts, *p);
		if (!o)
			return CLUSTER_UNKNOWN;
		if (o->type == HF_OPT_BOOL)
			continue;
		*at = p;
		if (strchr(glued(p), '='))
			return CLUSTER_EQ;
		/*
		 * "-outt" could be -o "utt", but a near miss of a long name
		 * that starts with the same letter is far more likely a typo.
		 */
		if (p[1] && p[1] != '=' &&
		    suggest(opts, word + 1, strlen(word + 1), word[1]))
			return CLUSTER_NEAR;
		return CLUSTER_OK;
	}
	return CLUSTER_OK;
}

static int take_cluster(const struct hf_opt *opts, int argc, char **argv,
                        int *i, hf_error *err)
{
	const struct hf_opt *o;
	const char *p;
	char shown[3] = { '-', 0, 0 };
	int rc;

	for (p = argv[*i] + 1; *p; p++) {
		o = find_short(opts, *p);
		shown[1] = *p;
		if (o->type != HF_OPT_BOOL)
			return take(o, shown, p[1] ? glued(p) : NULL, argc,
			            argv, i, err);
		rc = set_value(o, NULL, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int bad_single(const struct hf_opt *opts, const char *word,
                      enum cluster how, const char *at, hf_error *err)
{
	const char *name = word + 1;
	size_t len = strcspn(name, "=");
	const char *hint = suggest(opts, name, len, 0);

	if (how == CLUSTER_EQ && !hint)
		return hf_error_set(err, HF_EINVAL,
		                    "unknown option '%s'; a value containing "
		                    "'=' goes in the next word: '-%c %s'",
		                    word, *at, glued(at));
	return unknown(err, word, (int)strlen(word), "-", hint);
}

static int parse_single(const struct hf_opt *opts, int argc, char **argv,
                        int *i, hf_error *err)
{
	const char *word = argv[*i];
	const char *name = word + 1;
	size_t len = strcspn(name, "=");
	const struct hf_opt *o;
	const char *at;
	enum cluster how;

	if (strlen(word) > 2) {
		if (len == 4 && !strncmp(name, "help", 4))
			return HF_OPT_HELP;
		o = find_long(opts, name, len);
		if (o)
			return take(o, word, name[len] ? name + len + 1 : NULL,
			            argc, argv, i, err);
	}
	how = check_cluster(opts, word, &at);
	if (how == CLUSTER_HELP)
		return HF_OPT_HELP;
	if (how == CLUSTER_OK)
		return take_cluster(opts, argc, argv, i, err);
	return bad_single(opts, word, how, at, err);
}

int cli_opt_parse(const struct hf_opt *opts, int argc, char **argv,
                  struct hf_strlist *args, hf_error *err)
{
	int i, rc, only_args = 0;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (only_args || a[0] != '-' || !a[1]) {
			rc = cli_strlist_push(args, a) < 0 ? HF_ENOMEM : 0;
		} else if (!strcmp(a, "--")) {
			only_args = 1;
			rc = 0;
		} else if (a[1] == '-') {
			rc = parse_long(opts, argc, argv, &i, err);
		} else {
			rc = parse_single(opts, argc, argv, &i, err);
		}
		if (rc == HF_ENOMEM)
			return hf_error_set(err, HF_ENOMEM, "out of memory");
		if (rc != 0)
			return rc;
	}
	return 0;
}

static void usage_line(hf_buf *b, const struct hf_opt *o)
{
	size_t start = b->len;

	hf_buf_add(b, "  ");
	if (o->shortname)
		hf_buf_addf(b, "-%c, ", o->shortname);
	else
		hf_buf_add(b, "    ");
	hf_buf_addf(b, "--%s", o->name);
	if (o->argname)
		hf_buf_addf(b, " %s", o->argname);
	if (b->len - start < 30)
		hf_buf_addf(b, "%*s", (int)(30 - (b->len - start)), "");
	else
		hf_buf_add(b, "\n                              ");
	hf_buf_addf(b, "%s\n", o->help);
}

/*
 * One closing line saying that long options also take one dash, with
 * examples from this table; nothing when it has no options.
 */
static void single_dash_line(hf_buf *b, const struct hf_opt *opts)
{
	const struct hf_opt *valued = NULL, *flag = NULL;

	for (; opts && opts->type != HF_OPT_END; opts++) {
		if (opts->type == HF_OPT_BOOL && !flag)
			flag = opts;
		else if (opts->type != HF_OPT_BOOL && !valued)
			valued = opts;
	}
	if (!valued && !flag)
		return;
	hf_buf_add(b, "Long options also work with one dash, as in ");
	if (valued)
		hf_buf_addf(b, "-%s=%s%s", valued->name,
		            valued->argname ? valued->argname : "VALUE",
		            flag ? " or " : "");
	if (flag)
		hf_buf_addf(b, "-%s", flag->name);
	hf_buf_add(b, ".\n");
}

char *cli_opt_usage(const char *usage, const char *summary,
                    const struct hf_opt *opts)
{
	hf_buf b = HF_BUF_INIT;
	const struct hf_opt *o;

	hf_buf_addf(&b, "usage: %s\n", usage);
	if (summary)
		hf_buf_addf(&b, "\n%s\n", summary);
	hf_buf_add(&b, "\noptions:\n");
	for (o = opts; o && o->type != HF_OPT_END; o++)
		usage_line(&b, o);
	hf_buf_add(&b, "  -h, --help                  show this help\n");
	single_dash_line(&b, opts);
	return hf_buf_detach(&b);
}
