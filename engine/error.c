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

int hf_error_setv(hf_error *err, int code, const char *fmt, va_list ap)
{
	if (!err)
		return code;
	err->code = code;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
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

int hf_error_at(hf_error *err, int code, const char *where, int line,
		int col, const char *fmt, ...)
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
