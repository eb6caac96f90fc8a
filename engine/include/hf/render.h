#ifndef HF_RENDER_H
#define HF_RENDER_H

/*
 * Plans for people (text like Terraform's), scripts (JSON, described by
 * schemas/plan.schema.json) and pull requests (Markdown under GitHub's
 * 65,536-character comment limit). Renderers append to an hf_buf; the
 * CLI prints it.
 */
#include "hf/buf.h"
#include "hf/plan.h"

/*
 * Values are always shown whole, so that the plan a reviewer reads is
 * what apply writes: strings as JSON strings (quoted, with newlines and
 * other control characters escaped as \n, \t, \u0001...), references as
 * Kind[hfid], null as (null).
 */
struct hf_render_opts {
	int color; /* ANSI colours (the CLI decides: TTY, no NO_COLOR) */
	int verbose; /* also list unchanged objects */
	/*
	 * Text: line width for wrapping values; 0 keeps every value on one
	 * line. A value that does not fit continues on the next lines,
	 * indented to the column where it starts; a break falls before a
	 * space (which stays, at the start of the next line) or, in a word
	 * longer than the line, between two characters, never inside a
	 * UTF-8 sequence; the lines joined give the value exactly. When an
	 * update's "before -> after" does not fit on one line, "-> after"
	 * goes on its own line under the before value. Each line keeps at
	 * least 30 columns for the value, even past `width` after a long
	 * field name.
	 */
	size_t width;
	size_t max_chars; /* Markdown size limit */
	/*
	 * Text and JSON: when set, the text goes to `flush` in pieces of about
	 * HF_RENDER_PIECE bytes as it is made, and `b` is empty at the end,
	 * instead of the whole text held at once (a plan of a million
	 * changes is hundreds of megabytes of text). A failure then leaves a
	 * prefix of the text said; a flush that returns -1 stops the render
	 * (HF_ERR).
	 */
	int (*flush)(void *payload, const char *text, size_t len);
	void *flush_payload;
};

#define HF_RENDER_PIECE ((size_t)64 << 10)

#define HF_RENDER_OPTS_INIT                  \
	{                                    \
		0, 0, 100, 65000, NULL, NULL \
	}

/*
 * The version of what hf_render_json prints ("format_version"): the
 * minor number grows when keys are added, the major one when a key
 * changes meaning or goes away. docs/json-format.md describes it.
 */
#define HF_PLAN_FORMAT_VERSION "1.0"

/*
 * Each renderer appends to `b` and returns 0 or HF_ENOMEM (then the
 * caller prints nothing: what `b` holds may say less than the plan);
 * the text and JSON ones hand it out in pieces instead when opts.flush
 * is set (HF_ERR: the flush refused a piece; JSON also HF_EINVAL should
 * jansson's layout ever change, never a plan cut short).
 *
 * Text: the creates and updates wave by wave, then the deletes and
 * forgets wave by wave (apply runs them last), each change's
 * declarations ("# declared at file:line"), "No changes." only when
 * applying would change nothing, and the counts: "Plan: N to create, M
 * to update, D to destroy[, F to forget][, A to adopt], K unchanged."
 */
int hf_render_text(hf_buf *b, const hf_plan *p, const struct hf_render_opts *o);
/*
 * JSON (schemas/plan.schema.json, docs/json-format.md): the plan's JSON
 * (hf_plan_to_json) with format_version, hubform_version, applyable
 * (status planned and something to do) and errored (its apply, or a
 * change, failed), and per change a Terraform-like "address" (the form
 * --target takes) and "actions"; keys in a fixed order; secrets masked.
 */
int hf_render_json(hf_buf *b, const hf_plan *p);
/*
 * The same bytes, built one change at a time (never the whole document
 * as a tree) and, with opts->flush, handed out in pieces as for text.
 */
int hf_render_json_ext(hf_buf *b, const hf_plan *p,
                       const struct hf_render_opts *o);
/*
 * Markdown: the counts (and a warning for a partial plan), every delete
 * and forget in one table first, then a table per kind of the other
 * changes, then each change's fields whole in a diff block (deletes
 * first). Tables stop, and whole changes' details are left out (each
 * saying how many), to stay within max_chars; deletes are never left
 * out for other sections. Only a list of deletes that alone would pass
 * max_chars is cut, under a warning that gives the totals.
 */
int hf_render_markdown(hf_buf *b, const hf_plan *p,
                       const struct hf_render_opts *o);

#endif
