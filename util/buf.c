/*
 * Growable strings with a cap and sticky failure: curl's dynbuf "toobig",
 * libgit2's sticky OOM and git's never-NULL slop buffer in one.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "hf/error.h"
#include "hf/banned.h"

char hf_buf_slop[1];

void hf_buf_init(hf_buf *b, size_t max)
{
	b->ptr = hf_buf_slop;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->failed = 0;
}

static int grow(hf_buf *b, size_t extra)
{
	size_t need, ncap;
	char *p;

	if (b->failed)
		return HF_ENOMEM;
	if (extra > SIZE_MAX - b->len - 1)
		goto fail;
	need = b->len + extra + 1;
	if (b->max && need > b->max + 1)
		goto fail;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	p = hf_realloc(b->cap ? b->ptr : NULL, ncap);
	if (!p)
		goto fail;
	if (!b->cap)
		p[0] = '\0';
	b->ptr = p;
	b->cap = ncap;
	return 0;
fail:
	b->failed = 1;
	return HF_ENOMEM;
}

int hf_buf_addn(hf_buf *b, const void *data, size_t n)
{
	if (grow(b, n) < 0)
		return HF_ENOMEM;
	if (n)
		memcpy(b->ptr + b->len, data, n);
	b->len += n;
	b->ptr[b->len] = '\0';
	return 0;
}

int hf_buf_add(hf_buf *b, const char *s)
{
	return hf_buf_addn(b, s, strlen(s));
}

int hf_buf_addch(hf_buf *b, char c)
{
	return hf_buf_addn(b, &c, 1);
}

/*
 * Formatted once when the text fits the room the buffer has (most
 * appends, once it has grown), twice only when it must grow first.
 */
int hf_buf_addf(hf_buf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	int n;

	if (b->failed)
		return HF_ENOMEM;
	room = b->cap > b->len ? b->cap - b->len : 0;
	va_start(ap, fmt);
	n = room ? vsnprintf(b->ptr + b->len, room, fmt, ap)
	         : vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || grow(b, (size_t)n) < 0) {
		if (room)
			b->ptr[b->len] = '\0'; /* what the first try wrote */
		b->failed = 1;
		return HF_ENOMEM;
	}
	if ((size_t)n >= room) {
		va_start(ap, fmt);
		vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
	return 0;
}

void hf_buf_reset(hf_buf *b)
{
	b->len = 0;
	b->failed = 0;
	if (b->cap)
		b->ptr[0] = '\0';
}

void hf_buf_setlen(hf_buf *b, size_t len)
{
	if (len > b->len)
		return;
	b->len = len;
	if (b->cap)
		b->ptr[len] = '\0';
}

int hf_buf_failed(const hf_buf *b)
{
	return b->failed;
}

char *hf_buf_detach(hf_buf *b)
{
	char *p;

	if (b->failed) {
		hf_buf_release(b);
		return NULL;
	}
	p = b->cap ? b->ptr : hf_strdup("");
	b->ptr = hf_buf_slop;
	b->len = 0;
	b->cap = 0;
	return p;
}

void hf_buf_release(hf_buf *b)
{
	if (!b)
		return;
	if (b->cap)
		hf_free(b->ptr);
	hf_buf_init(b, b->max);
}
