/*
 * Output helpers: the only place in cmd/ that writes to stdout or stderr.
 */
#include <stdarg.h>
#include <stdio.h>

#include "output.h"
#include "hf/banned.h"

static int write_failed;
static int progress_pending; /* a progress line is on the terminal, unended */

static void end_progress(void)
{
	if (progress_pending && fputc('\n', stderr) == EOF)
		write_failed = 1;
	progress_pending = 0;
}

static void vout(FILE *f, const char *prefix, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void vout(FILE *f, const char *prefix, const char *fmt, va_list ap)
{
	/* whatever stdout holds goes out first: the two never mix mid-line */
	if (f == stderr && fflush(stdout) == EOF)
		write_failed = 1;
	end_progress();
	if (prefix && fputs(prefix, f) < 0)
		write_failed = 1;
	if (vfprintf(f, fmt, ap) < 0)
		write_failed = 1;
	if (f == stderr && fputc('\n', f) == EOF)
		write_failed = 1;
}

void out_data(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vout(stdout, NULL, fmt, ap);
	va_end(ap);
}

void out_datan(const char *s, size_t n)
{
	if (n && fwrite(s, 1, n, stdout) != n)
		write_failed = 1;
}

void out_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vout(stderr, "hubform: error: ", fmt, ap);
	va_end(ap);
}

void out_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vout(stderr, "hubform: warning: ", fmt, ap);
	va_end(ap);
}

void out_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vout(stderr, NULL, fmt, ap);
	va_end(ap);
}

void out_error_rec(const hf_error *err)
{
	if (err->where[0] && err->line > 0)
		out_info("%s:%d:%d: %s", err->where, err->line, err->col,
			 err->msg);
	else if (err->where[0])
		out_info("%s: %s", err->where, err->msg);
	else
		out_error("%s", err->msg[0] ? err->msg : hf_status_str(err->code));
}

void out_progress(const char *line)
{
	if (fflush(stdout) == EOF)
		write_failed = 1;
	/* rewrite the line in place: carriage return, erase to its end */
	if (fprintf(stderr, "\r\033[K%s", line) < 0 || fflush(stderr) == EOF)
		write_failed = 1;
	progress_pending = 1;
}

void out_progress_end(void)
{
	end_progress();
}

int out_finish(void)
{
	end_progress();
	if (fflush(stdout) == EOF || ferror(stdout))
		write_failed = 1;
	return write_failed;
}
