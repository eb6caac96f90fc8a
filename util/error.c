/*
 * Error records. Messages follow git's rules (lower case, no full stop);
 * the caller decides how to print them.
 */
#include <stdio.h>
#include <string.h>

#include "hf/error.h"
#include "hf/banned.h"

void hf_error_clear(hf_error *err)
{
	if (!err)
		return;
	err->code = 0;
	err->line = 0;
	err->col = 0;
	err->where[0] = '\0';
	err->msg[0] = '\0';
}

/*
 * A message longer than the record ends at a word (never inside a word or
 * a UTF-8 sequence) with a marker saying that it was shortened.
 */
static void shorten(char *msg, size_t size)
{
	static const char mark[] = " [...]";
	size_t cut = size - sizeof(mark);

	while (cut > 0 && msg[cut] != ' ')
		cut--;
	if (cut == 0) {
		cut = size - sizeof(mark);
		while (cut > 0 && ((unsigned char)msg[cut] & 0xC0) == 0x80)
			cut--;
	}
	memcpy(msg + cut, mark, sizeof(mark));
}

int hf_error_setv(hf_error *err, int code, const char *fmt, va_list ap)
{
	int n;

	if (!err)
		return code;
	err->code = code;
	n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (n >= (int)sizeof(err->msg))
		shorten(err->msg, sizeof(err->msg));
	return code;
}

int hf_error_set(hf_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->where[0] = '\0';
	err->line = 0;
	err->col = 0;
	va_start(ap, fmt);
	hf_error_setv(err, code, fmt, ap);
	va_end(ap);
	return code;
}

int hf_error_at(hf_error *err, int code, const char *where, int line, int col,
                const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	snprintf(err->where, sizeof(err->where), "%s", where ? where : "");
	err->line = line;
	err->col = col;
	va_start(ap, fmt);
	hf_error_setv(err, code, fmt, ap);
	va_end(ap);
	return code;
}

const char *hf_status_str(int code)
{
	switch (code) {
	case HF_OK:
		return "success";
	case HF_ENOMEM:
		return "out of memory";
	case HF_EINVAL:
		return "invalid input";
	case HF_ENOTFOUND:
		return "not found";
	case HF_ECONFLICT:
		return "conflict";
	case HF_ENET:
		return "network error";
	case HF_ESERVER:
		return "server error";
	case HF_EAUTH:
		return "authentication failed";
	default:
		return "error";
	}
}
