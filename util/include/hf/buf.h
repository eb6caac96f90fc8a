#ifndef HF_BUF_H
#define HF_BUF_H

#include <stddef.h>

/*
 * A growable string. `ptr` is never NULL and always NUL-terminated (it
 * points at a static empty string until the first append). Failure is
 * sticky: after an allocation failure or an append past `max`, every later
 * append is a no-op, so a series of appends is checked once with
 * hf_buf_failed(). Outside buf.c, read `ptr` and `len` but never write
 * `len`, `cap` or `max`.
 */
typedef struct hf_buf {
	char *ptr;
	size_t len;
	size_t cap;
	size_t max; /* 0: no cap */
	int failed;
} hf_buf;

extern char hf_buf_slop[];

#define HF_BUF_INIT                     \
	{                               \
		hf_buf_slop, 0, 0, 0, 0 \
	}

/* Initialise with a size cap (0 for none). No allocation. */
void hf_buf_init(hf_buf *b, size_t max);

/* Appends return 0 or HF_ENOMEM (also for going past the cap). */
int hf_buf_add(hf_buf *b, const char *s);
int hf_buf_addn(hf_buf *b, const void *data, size_t n);
int hf_buf_addch(hf_buf *b, char c);
int hf_buf_addf(hf_buf *b, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Empty the buffer, keeping its memory; clears a sticky failure. */
void hf_buf_reset(hf_buf *b);
/* Truncate to `len` (<= current length). */
void hf_buf_setlen(hf_buf *b, size_t len);

/* Whether any append failed since the last reset. */
__attribute__((warn_unused_result)) int hf_buf_failed(const hf_buf *b);

/*
 * Hand the string out: the caller owns it and frees it with hf_free(). The
 * buffer is left empty. Returns NULL if the buffer has failed (and releases
 * it); an empty buffer detaches as an allocated "".
 */
__attribute__((warn_unused_result)) char *hf_buf_detach(hf_buf *b);

/* Free the memory and re-initialise (keeping the cap). NULL-safe. */
void hf_buf_release(hf_buf *b);

#endif
