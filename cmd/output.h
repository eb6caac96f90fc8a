#ifndef HF_CMD_OUTPUT_H
#define HF_CMD_OUTPUT_H

#include <stdio.h>

#include "hf/error.h"

/*
 * All printing goes through here (curl's tool_msgs.c). stdout carries data
 * only; stderr carries everything else. Write errors (EPIPE, full disk) are
 * remembered and turned into exit status 1 by out_finish().
 */
void out_data(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void out_datan(const char *s, size_t n);
/*
 * out_datan() as a renderer's flush (hf_render_opts.flush): -1 once a
 * write to stdout failed (the render stops; out_finish() says why).
 */
int out_piece(void *payload, const char *s, size_t n);
/* "hubform: error: ..." on stderr */
void out_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "hubform: warning: ..." on stderr */
void out_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Plain line on stderr (progress, summaries, announcements). */
void out_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An error record: "FILE:LINE:COL: message", or "hubform: error: message". */
void out_error_rec(const hf_error *err);
/*
 * A progress line on a terminal's stderr, rewritten in place by the next
 * call; any other stderr output (or out_progress_end) ends it first.
 */
void out_progress(const char *line);
void out_progress_end(void);
/*
 * Flush stdout; returns nonzero if any write to stdout/stderr failed,
 * having said on stderr why stdout could not be written.
 */
int out_finish(void);

#endif
