/*
 * Manual pages in roff, built from the commands' own option tables (read
 * through cli_cmd_spec_get) and the prose in cmd_doc.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "cmd_doc.h"
#include "output.h"
#include "hf/banned.h"

/*
 * Text as roff: backslashes escaped, hyphens as \- (so that options copy
 * and paste as ASCII), and a line that would start with '.' or '\''
 * protected with \&.
 */
static void roff(hf_buf *b, const char *s)
{
	int bol = b->len == 0 || b->ptr[b->len - 1] == '\n';

	for (; *s; s++) {
		if (bol && (*s == '.' || *s == '\''))
			hf_buf_add(b, "\\&");
		bol = *s == '\n';
		if (*s == '\\')
			hf_buf_add(b, "\\e");
		else if (*s == '-')
			hf_buf_add(b, "\\-");
		else
			hf_buf_addn(b, s, 1);
	}
}

/* Paragraphs separated by a blank line become .PP blocks. */
static void paragraphs(hf_buf *b, const char *text)
{
	const char *p = text, *end;
	char *para;

	while (*p) {
		end = strstr(p, "\n\n");
		if (!end)
			end = p + strlen(p);
		para = hf_strndup(p, (size_t)(end - p));
		if (!para)
			return;
		hf_buf_add(b, ".PP\n");
		roff(b, para);
		hf_buf_add(b, "\n");
		hf_free(para);
		p = *end ? end + 2 : end;
	}
}

static void header(hf_buf *b, const char *page, const char *name,
                   const char *summary)
{
	hf_buf_addf(b,
	            ".TH %s 1 \"\" \"hubform %s\" \"hubform manual\"\n"
	            ".nh\n.ad l\n",
	            page, HF_VERSION);
	hf_buf_add(b, ".SH NAME\n");
	roff(b, name);
	hf_buf_add(b, " \\- ");
	roff(b, summary);
	hf_buf_add(b, "\n");
}

static void option(hf_buf *b, const struct hf_opt *o)
{
	hf_buf_add(b, ".TP\n");
	if (o->shortname)
		hf_buf_addf(b, "\\fB\\-%c\\fR, ", o->shortname);
	hf_buf_add(b, "\\fB\\-\\-");
	roff(b, o->name);
	hf_buf_add(b, "\\fR");
	if (o->argname) {
		hf_buf_add(b, " \\fI");
		roff(b, o->argname);
		hf_buf_add(b, "\\fR");
	}
	hf_buf_add(b, "\n");
	roff(b, o->help);
	if (o->type == HF_OPT_LIST)
		hf_buf_add(b, " (repeatable)");
	if (o->type == HF_OPT_INT && b->len && b->ptr[b->len - 1] == ')') {
		hf_buf_setlen(b,
		              b->len - 1); /* "(default 60)": one parenthesis */
		hf_buf_addf(b, "; %ld to %ld)", o->min, o->max);
	} else if (o->type == HF_OPT_INT) {
		hf_buf_addf(b, " (%ld to %ld)", o->min, o->max);
	}
	hf_buf_add(b, "\n");
}

static void options(hf_buf *b, const struct hf_cmd_spec *s)
{
	size_t i;

	hf_buf_add(b, ".SH OPTIONS\n");
	for (i = 0; i < s->n; i++)
		option(b, &s->opts[i]);
	hf_buf_add(b, ".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nshow the usage "
	              "and options, and exit 0\n.PP\nLong options also work "
	              "with one dash (\\fB\\-out=FILE\\fR, "
	              "\\fB\\-auto\\-approve\\fR), as in Terraform. Option "
	              "names are exact: there is no prefix matching.\n");
}

static const char *const exit_text[] = {
	"0",
	"success (plan: no changes, or changes without \\-\\-detailed\\-exitcode)",
	"1",
	"error",
	"2",
	"plan: the plan has changes (with \\-\\-detailed\\-exitcode)",
	"3",
	"apply: the plan is stale (the target changed since it was made); nothing was written",
	"6",
	"usage error (EX_USAGE)",
	NULL,
};

static void exit_status(hf_buf *b, const char *codes)
{
	size_t i;

	hf_buf_add(b, ".SH EXIT STATUS\n");
	for (i = 0; exit_text[i]; i += 2) {
		if (codes && !strchr(codes, exit_text[i][0]))
			continue;
		hf_buf_addf(b, ".TP\n.B %s\n%s\n",
		            exit_text[i][0] == '6' ? "64" : exit_text[i],
		            exit_text[i + 1]);
	}
}

static void environment(hf_buf *b, const char *const *names)
{
	const char *text;

	if (!names || !names[0])
		return;
	hf_buf_add(b, ".SH ENVIRONMENT\n");
	for (; *names; names++) {
		text = cli_cmd_doc_env(*names);
		hf_buf_addf(b, ".TP\n.B %s\n", *names);
		roff(b, text ? text : "");
		hf_buf_add(b, "\n");
	}
}

static void files(hf_buf *b)
{
	hf_buf_add(b,
	           ".SH FILES\n"
	           ".TP\n.I .hubform/plans.db\nthe plan store (SQLite): every "
	           "plan made in this directory and its outcome\n"
	           ".TP\n.I .hubform/local.db\nthe embedded local endpoint's "
	           "database, used when no address is configured\n"
	           ".TP\n.I infrahubctl.toml\ninfrahubctl's configuration "
	           "(server_address, api_token, default_branch), read from "
	           "the current directory or $INFRAHUBCTL_CONFIG, below "
	           "options and environment\n");
}

static void examples(hf_buf *b, const char *const *ex)
{
	if (!ex || !ex[0])
		return;
	hf_buf_add(b, ".SH EXAMPLES\n");
	for (; ex[0] && ex[1]; ex += 2) {
		hf_buf_add(b, ".PP\n");
		roff(b, ex[0]);
		hf_buf_add(b, "\n.PP\n.RS 4\n.nf\n");
		roff(b, ex[1]);
		hf_buf_add(b, "\n.fi\n.RE\n");
	}
}

static void see_also(hf_buf *b, const char *self)
{
	const struct hf_cmd *c;
	int first = 1;

	hf_buf_add(b, ".SH SEE ALSO\n");
	if (self) {
		hf_buf_add(b, ".BR hubform (1)");
		first = 0;
	}
	for (c = cli_commands; c->name; c++) {
		if (self && !strcmp(c->name, self))
			continue;
		hf_buf_add(b, first ? "" : ",\n");
		hf_buf_add(b, ".BR hubform\\-");
		roff(b, c->name);
		hf_buf_add(b, " (1)");
		first = 0;
	}
	hf_buf_add(b, "\n");
}

static int main_page(hf_buf *b)
{
	const struct hf_cmd *c;

	header(b, "HUBFORM", "hubform", "declarative plan/apply for Infrahub");
	hf_buf_add(b,
	           ".SH SYNOPSIS\n.B hubform\n.I COMMAND\n[\\fIARGS\\fR...]\n"
	           ".SH DESCRIPTION\n");
	paragraphs(
	        b,
	        "hubform reads object files (the YAML that "
	        "'infrahubctl object load' takes), computes what would change "
	        "in Infrahub, stores that plan, and applies exactly a reviewed "
	        "plan inside a throw-away branch that is merged only when "
	        "every change succeeded.\n\n"
	        "Commands are matched by their exact name. Each has its own "
	        "page, hubform-COMMAND(1), and its own --help.");
	hf_buf_add(b, ".SH COMMANDS\n");
	for (c = cli_commands; c->name; c++) {
		hf_buf_add(b, ".TP\n.B ");
		roff(b, c->name);
		hf_buf_add(b, "\n");
		roff(b, c->summary);
		hf_buf_add(b, "\n");
	}
	exit_status(b, NULL);
	environment(b, hf_doc_env_all);
	files(b);
	examples(b, (const char *const[]){
	                    "Review, then apply, a change to Infrahub:",
	                    "hubform plan objects/ --out plan.hfplan\n"
	                    "hubform show plan.hfplan --format markdown\n"
	                    "hubform apply plan.hfplan",
	                    NULL });
	see_also(b, NULL);
	return b->failed ? HF_ENOMEM : 0;
}

static void page_name(char *page, size_t n, const char *name)
{
	size_t i;

	for (i = 0; name[i] && i + 1 < n; i++)
		page[i] = name[i] >= 'a' && name[i] <= 'z'
		                  ? (char)(name[i] - 'a' + 'A')
		                  : name[i];
	page[i] = '\0';
}

/* The page of a command whose options could not be read. */
static int bare_page(hf_buf *b, const struct hf_cmd *cmd)
{
	const struct hf_cmd_doc *doc = cli_cmd_doc_lookup(cmd->name);
	char page[64], name[64];

	snprintf(name, sizeof(name), "hubform-%s", cmd->name);
	page_name(page, sizeof(page), name);
	header(b, page, name, cmd->summary);
	hf_buf_add(b, ".SH SYNOPSIS\n.B hubform ");
	roff(b, cmd->name);
	hf_buf_add(b, "\n[\\fIARGS\\fR...]\n.SH DESCRIPTION\n");
	if (doc)
		paragraphs(b, doc->description);
	hf_buf_add(b, ".SH OPTIONS\nSee\n.B hubform ");
	roff(b, cmd->name);
	hf_buf_add(b, " \\-\\-help\n");
	exit_status(b, doc ? doc->exit_codes : NULL);
	environment(b, doc ? doc->env : NULL);
	see_also(b, cmd->name);
	return b->failed ? HF_ENOMEM : 0;
}

int cli_man_render(hf_buf *b, const struct hf_cmd *cmd)
{
	const struct hf_cmd_doc *doc;
	struct hf_cmd_spec spec;
	char page[64], name[64];
	int rc;

	if (!cmd)
		return main_page(b);
	rc = cli_cmd_spec_get(cmd, &spec);
	if (rc == HF_ENOTFOUND) /* a command that reads no option table */
		return bare_page(b, cmd);
	if (rc < 0)
		return rc;
	doc = cli_cmd_doc_lookup(cmd->name);
	snprintf(name, sizeof(name), "hubform-%s", cmd->name);
	page_name(page, sizeof(page), name);
	header(b, page, name, cmd->summary);
	hf_buf_add(b, ".SH SYNOPSIS\n.nf\n");
	roff(b, spec.usage);
	hf_buf_add(b, "\n.fi\n.SH DESCRIPTION\n");
	if (spec.summary)
		paragraphs(b, spec.summary);
	if (doc)
		paragraphs(b, doc->description);
	options(b, &spec);
	exit_status(b, doc ? doc->exit_codes : NULL);
	environment(b, doc ? doc->env : NULL);
	files(b);
	examples(b, doc ? doc->examples : NULL);
	see_also(b, cmd->name);
	cli_cmd_spec_release(&spec);
	return b->failed ? HF_ENOMEM : 0;
}

static int write_page(const char *dir, const struct hf_cmd *cmd)
{
	hf_buf b = HF_BUF_INIT;
	char path[4096];
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/hubform%s%s.1", dir, cmd ? "-" : "",
	         cmd ? cmd->name : "");
	rc = cli_man_render(&b, cmd);
	if (rc < 0) {
		out_error("cannot render the page for '%s'",
		          cmd ? cmd->name : "hubform");
		hf_buf_release(&b);
		return -1;
	}
	f = fopen(path, "w");
	if (!f || fwrite(b.ptr, 1, b.len, f) != b.len) {
		out_error("cannot write '%s': %s", path, strerror(errno));
		if (f)
			fclose(f);
		hf_buf_release(&b);
		return -1;
	}
	hf_buf_release(&b);
	if (fclose(f) != 0) {
		out_error("cannot write '%s': %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int cli_man_write_dir(const char *dir)
{
	const struct hf_cmd *c;

	if (write_page(dir, NULL) < 0)
		return -1;
	for (c = cli_commands; c->name; c++)
		if (write_page(dir, c) < 0)
			return -1;
	return 0;
}
