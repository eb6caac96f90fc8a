#ifndef HF_ERROR_H
#define HF_ERROR_H

#include <stdarg.h>

/* Status codes: 0 is success, failures are negative. */
enum hf_status {
	HF_OK = 0,
	HF_ERR = -1, /* generic */
	HF_ENOMEM = -2, /* out of memory */
	HF_EINVAL = -3, /* bad input: manifest, arguments, schema */
	HF_ENOTFOUND = -4, /* no such file, object, plan, branch */
	HF_ECONFLICT = -5, /* remote changed since the plan */
	HF_ENET = -6, /* connection, timeout, HTTP failure */
	HF_ESERVER = -7, /* the server answered with errors[] */
	HF_EAUTH = -8, /* 401 / 403 */
};

/*
 * An error record, filled by the callee, owned by the caller. Fixed size
 * like json_error_t, so reporting OOM needs no allocation. `where` is a
 * file name or object description; line and col are 1-based, 0 when
 * unknown.
 */
typedef struct hf_error {
	int code;
	int line;
	int col;
	char where[256];
	char msg[1024];
} hf_error;

#define HF_ERROR_INIT           \
	{                       \
		0, 0, 0, "", "" \
	}

void hf_error_clear(hf_error *err);

/*
 * Record an error and return `code`, so failure sites are one line:
 * return hf_error_set(err, HF_EINVAL, "unknown kind '%s'", k);
 * `err` may be NULL. A message too long for the record is shortened at a
 * word boundary and ends with " [...]"; it never overflows.
 */
int hf_error_set(hf_error *err, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
int hf_error_setv(hf_error *err, int code, const char *fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));

/* Like hf_error_set, with a position: `where` (file) line and column. */
int hf_error_at(hf_error *err, int code, const char *where, int line, int col,
                const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Short name of a status, e.g. "invalid input"; never NULL. */
const char *hf_status_str(int code);

#endif
