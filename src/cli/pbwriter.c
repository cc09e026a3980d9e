/*
 * pbwriter.c - the protobuf wire format, the part an exporter needs:
 * varint (wire type 0), 64-bit (1) and length-delimited (2) fields.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pbwriter.h"

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2 };

void pbw_init(struct pbw *w)
{
	memset(w, 0, sizeof(*w));
}

void pbw_free(struct pbw *w)
{
	free(w->buf);
	pbw_init(w);
}

void pbw_reset(struct pbw *w)
{
	w->len = 0;
	w->depth = 0;
	w->error = 0;
}

/* Room for @n more bytes; 0, or -1 with w->error set. */
static int room(struct pbw *w, size_t n)
{
	size_t cap;
	unsigned char *m;

	if (w->error)
		return -1;
	if (w->len + n <= w->cap)
		return 0;
	for (cap = w->cap ? w->cap : 256; cap < w->len + n; cap *= 2)
		;
	m = realloc(w->buf, cap);
	if (!m) {
		w->error = -ENOMEM;
		return -1;
	}
	w->buf = m;
	w->cap = cap;
	return 0;
}

static size_t varint_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* @v at @p (room checked by the caller); returns the bytes written. */
static size_t put_varint(unsigned char *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return n;
}

static void tag(struct pbw *w, unsigned field, unsigned wt)
{
	if (room(w, 5) == 0)
		w->len += put_varint(w->buf + w->len, (uint64_t)field << 3 | wt);
}

void pbw_uint(struct pbw *w, unsigned field, uint64_t v)
{
	tag(w, field, WT_VARINT);
	if (room(w, 10) == 0)
		w->len += put_varint(w->buf + w->len, v);
}

void pbw_int(struct pbw *w, unsigned field, int64_t v)
{
	pbw_uint(w, field, (uint64_t)v);
}

void pbw_fixed64(struct pbw *w, unsigned field, uint64_t v)
{
	tag(w, field, WT_I64);
	if (room(w, 8))
		return;
	for (int i = 0; i < 8; i++)
		w->buf[w->len++] = (unsigned char)(v >> (8 * i)); /* little-endian */
}

void pbw_double(struct pbw *w, unsigned field, double v)
{
	uint64_t u;

	memcpy(&u, &v, sizeof(u));
	pbw_fixed64(w, field, u);
}

void pbw_bytes(struct pbw *w, unsigned field, const void *p, size_t len)
{
	tag(w, field, WT_LEN);
	if (room(w, 10 + len))
		return;
	w->len += put_varint(w->buf + w->len, len);
	if (len)
		memcpy(w->buf + w->len, p, len);
	w->len += len;
}

void pbw_str(struct pbw *w, unsigned field, const char *s)
{
	pbw_bytes(w, field, s, strlen(s));
}

/* The length of the valid UTF-8 sequence at @p (before @e), or 0. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *e)
{
	unsigned c = *p;
	size_t n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if ((size_t)(e - p) < n)
		return 0;
	for (i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	/* Overlong forms, surrogates and code points past U+10FFFF are not UTF-8. */
	if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0) ||
	    (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90))
		return 0;
	return n;
}

void pbw_utf8(struct pbw *w, unsigned field, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + len;

	pbw_begin(w, field); /* same wire form as a message: tag, length, bytes */
	/* Worst case: every byte becomes the 3 bytes of U+FFFD. */
	if (room(w, 3 * len))
		return;
	while (p < e) {
		size_t n = utf8_seq(p, e);

		if (n) {
			memcpy(w->buf + w->len, p, n);
			w->len += n;
			p += n;
		} else {
			memcpy(w->buf + w->len, "\xef\xbf\xbd", 3);
			w->len += 3;
			p++;
		}
	}
	pbw_end(w);
}

void pbw_begin(struct pbw *w, unsigned field)
{
	tag(w, field, WT_LEN);
	if (w->depth == PBW_MAX_DEPTH) {
		w->error = -E2BIG;
		return;
	}
	/* One byte for the length, the usual case; pbw_end() makes more room. */
	if (room(w, 1))
		return;
	w->len++;
	w->open[w->depth++] = w->len;
}

void pbw_end(struct pbw *w)
{
	size_t start, clen, n;

	if (w->error || !w->depth)
		return;
	start = w->open[--w->depth];
	clen = w->len - start;
	n = varint_size(clen);
	if (n > 1) {
		if (room(w, n - 1))
			return;
		memmove(w->buf + start + n - 1, w->buf + start, clen);
		w->len += n - 1;
	}
	put_varint(w->buf + start - 1, clen);
}
