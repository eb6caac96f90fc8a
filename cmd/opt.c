/*
 * Option parsing from a declarative table. Values are borrowed from argv;
 * only list arrays are allocated.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "opt.h"
#include "hf/banned.h"

int hf_strlist_push(struct hf_strlist *l, const char *s)
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

void hf_strlist_release(struct hf_strlist *l)
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
		if (strlen(opts->name) == len && !strncmp(opts->name, name, len))
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
		if (hf_strlist_push(o->value, v) < 0)
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
					    "option '%s' takes no value", shown);
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

static int parse_long(const struct hf_opt *opts, int argc, char **argv,
		      int *i, hf_error *err)
{
	const char *name = argv[*i] + 2;
	const char *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct hf_opt *o;

	if (len == 4 && !strncmp(name, "help", 4))
		return HF_OPT_HELP;
	o = find_long(opts, name, len);
	if (!o)
		return hf_error_set(err, HF_EINVAL, "unknown option '--%.*s'",
				    (int)len, name);
	return take(o, argv[*i], eq ? eq + 1 : NULL, argc, argv, i, err);
}

static int parse_short(const struct hf_opt *opts, int argc, char **argv,
		       int *i, hf_error *err)
{
	const char *p = argv[*i] + 1;
	const struct hf_opt *o;
	char shown[3] = { '-', 0, 0 };
	int rc;

	for (; *p; p++) {
		if (*p == 'h')
			return HF_OPT_HELP;
		shown[1] = *p;
		o = find_short(opts, *p);
		if (!o)
			return hf_error_set(err, HF_EINVAL,
					    "unknown option '-%c'", *p);
		if (o->type != HF_OPT_BOOL)
			return take(o, shown, p[1] ? p + 1 : NULL, argc, argv,
				    i, err);
		rc = set_value(o, NULL, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int hf_opt_parse(const struct hf_opt *opts, int argc, char **argv,
		 struct hf_strlist *args, hf_error *err)
{
	int i, rc, only_args = 0;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (only_args || a[0] != '-' || !a[1]) {
			rc = hf_strlist_push(args, a) < 0 ? HF_ENOMEM : 0;
		} else if (!strcmp(a, "--")) {
			only_args = 1;
			rc = 0;
		} else if (a[1] == '-') {
			rc = parse_long(opts, argc, argv, &i, err);
		} else {
			rc = parse_short(opts, argc, argv, &i, err);
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

char *hf_opt_usage(const char *usage, const char *summary,
		   const struct hf_opt *opts)
{
	hf_buf b = HF_BUF_INIT;

	hf_buf_addf(&b, "usage: %s\n", usage);
	if (summary)
		hf_buf_addf(&b, "\n%s\n", summary);
	hf_buf_add(&b, "\noptions:\n");
	for (; opts && opts->type != HF_OPT_END; opts++)
		usage_line(&b, opts);
	hf_buf_add(&b, "  -h, --help                  show this help\n");
	return hf_buf_detach(&b);
}
