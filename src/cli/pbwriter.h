/*
 * pbwriter.h - a small protobuf encoder: one message at a time, into a
 * growing buffer that the caller writes out and resets.
 *
 *	struct pbw w;
 *	pbw_init(&w);
 *	pbw_begin(&w, 1);		// a nested message, field 1
 *	pbw_uint(&w, 8, ts);		// varint field 8
 *	pbw_str(&w, 23, "name");
 *	pbw_end(&w);
 *	if (w.error) ...		// -ENOMEM or -E2BIG, sticky until pbw_reset()
 *	fwrite(w.buf, 1, w.len, f);
 *	pbw_reset(&w);
 *
 * Nested messages get their length when they end: the content moves by the
 * length's size, so the output is the canonical encoding (no padded
 * varints).  Memory is the largest message written between two resets.
 * Not thread-safe; a struct pbw belongs to one writer.
 */
#ifndef MARKERS_CLI_PBWRITER_H
#define MARKERS_CLI_PBWRITER_H

#include <stddef.h>
#include <stdint.h>

#define PBW_MAX_DEPTH 32

struct pbw {
	unsigned char *buf;
	size_t len, cap;
	size_t open[PBW_MAX_DEPTH]; /* where each open message's content starts */
	unsigned depth;
	int error; /* 0, -ENOMEM, -E2BIG (nested deeper than PBW_MAX_DEPTH) */
};

void pbw_init(struct pbw *w);
void pbw_free(struct pbw *w);
/* Empty the buffer (keeps its memory), forget any error and open message. */
void pbw_reset(struct pbw *w);

/* Varint fields: uint32/64, bool, enum; pbw_int for int32/int64 (two's complement). */
void pbw_uint(struct pbw *w, unsigned field, uint64_t v);
void pbw_int(struct pbw *w, unsigned field, int64_t v);
/* 64-bit fields: double, fixed64. */
void pbw_double(struct pbw *w, unsigned field, double v);
void pbw_fixed64(struct pbw *w, unsigned field, uint64_t v);
/* Length-delimited fields: bytes, and strings as given. */
void pbw_bytes(struct pbw *w, unsigned field, const void *p, size_t len);
void pbw_str(struct pbw *w, unsigned field, const char *s);
/* A string field that is valid UTF-8: each byte of @s that does not start a
 * valid sequence becomes U+FFFD (protobuf strings must be UTF-8). */
void pbw_utf8(struct pbw *w, unsigned field, const char *s, size_t len);

/* A nested message in @field: everything until the matching pbw_end(). */
void pbw_begin(struct pbw *w, unsigned field);
void pbw_end(struct pbw *w);

#endif /* MARKERS_CLI_PBWRITER_H */
