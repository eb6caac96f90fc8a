/*
 * Output helpers: the only place in cmd/ that writes to stdout or stderr.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hf/alloc.h"
#include "output.h"
#include "hf/banned.h"

static int write_failed;
static int stdout_errno; /* the first failed write to stdout's errno */

/* A write to stdout failed: remembered, with why, for out_finish(). */
static void stdout_failed(void)
{
	if (!stdout_errno)
		stdout_errno = errno ? errno : EIO;
	write_failed = 1;
}
static int progress_pending; /* a progress line is on the terminal, unended */

static void end_progress(void)
{
	if (progress_pending && fputc('\n', stderr) == EOF)
		write_failed = 1;
	progress_pending = 0;
}

static void vout(FILE *f, const char *prefix, const char *fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));

/*
 * Put one message line on stderr with every control character escaped:
 * text from servers and files must not move the cursor, recolour the
 * terminal or forge a line of its own ("\x1b[...", "\n", "\r"). C1
 * controls (U+0080..U+009F, UTF-8 C2 80..C2 9F) too.
 */
static void put_safe(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int rc = 0;

	for (; *p && rc >= 0; p++) {
		if (*p == '\t')
			rc = fputc(' ', f);
		else if (*p < 0x20 || *p == 0x7f)
			rc = fprintf(f, "\\x%02x", *p);
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			rc = fprintf(f, "\\u%04x", *++p);
		else
			rc = fputc(*p, f);
	}
	if (rc < 0)
		write_failed = 1;
}

static void vout(FILE *f, const char *prefix, const char *fmt, va_list ap)
{
	char small[1024], *big = NULL;
	const char *text = small;
	va_list cp;
	int n;

	if (f == stdout) {
		if (vfprintf(f, fmt, ap) < 0)
			stdout_failed();
		return;
	}
	/* whatever stdout holds goes out first: the two never mix mid-line */
	if (fflush(stdout) == EOF)
		write_failed = 1;
	end_progress();
	va_copy(cp, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	if (n >= (int)sizeof(small) && (big = hf_calloc((size_t)n + 1, 1))) {
		vsnprintf(big, (size_t)n + 1, fmt, cp);
		text = big;
	}
	va_end(cp);
	if (n < 0)
		text = "(unprintable message)";
	if (prefix && fputs(prefix, f) < 0)
		write_failed = 1;
	put_safe(f, text);
	if (fputc('\n', f) == EOF)
		write_failed = 1;
	hf_free(big);
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
		stdout_failed();
}

int out_piece(void *payload, const char *s, size_t n)
{
	(void)payload;
	out_datan(s, n);
	/* stdout full or gone: rendering the rest would write nothing */
	return stdout_errno ? -1 : 0;
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
		out_error("%s",
		          err->msg[0] ? err->msg : hf_status_str(err->code));
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
		stdout_failed();
	/* said once, on stderr (which may still work) */
	if (stdout_errno &&
	    fprintf(stderr,
	            "hubform: error: cannot write to standard output: "
	            "%s\n",
	            strerror(stdout_errno)) < 0)
		write_failed = 1;
	stdout_errno = 0;
	if (fflush(stderr) == EOF || ferror(stderr))
		write_failed = 1;
	return write_failed;
}
