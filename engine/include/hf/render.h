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

struct hf_render_opts {
	int color;    /* ANSI colours (the CLI decides: TTY, no NO_COLOR) */
	int verbose;  /* also list unchanged objects */
	size_t width; /* longest value shown before "..." */
	size_t max_chars; /* Markdown size limit */
};

#define HF_RENDER_OPTS_INIT { 0, 0, 60, 65000 }

int hf_render_text(hf_buf *b, const hf_plan *p, const struct hf_render_opts *o);
int hf_render_json(hf_buf *b, const hf_plan *p);
int hf_render_markdown(hf_buf *b, const hf_plan *p,
		       const struct hf_render_opts *o);

#endif
