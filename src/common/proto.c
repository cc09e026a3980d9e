/*
 * proto.c - the control channel's frames: strict parsers for what comes
 * off the socket (fuzzed: tests/fuzz/fuzz_proto.c), builders for what goes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "proto.h"

static uint32_t le32(const unsigned char *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void marker__ctl_header(unsigned char hdr[MARKER__CTL_HDR], uint32_t len)
{
	memcpy(hdr, MARKER__CTL_MAGIC, 4);
	for (int i = 0; i < 4; i++)
		hdr[4 + i] = (unsigned char)(len >> (8 * i));
}

long marker__ctl_parse_header(const unsigned char hdr[MARKER__CTL_HDR], uint32_t max)
{
	uint32_t len;

	if (memcmp(hdr, MARKER__CTL_MAGIC, 4))
		return -EPROTO;
	len = le32(hdr + 4);
	return len > max ? -EPROTO : (long)len;
}

int marker__ctl_parse_request(const char *buf, size_t len, struct marker__ctl_req *req)
{
	size_t start = 0;

	req->argc = 0;
	if (!len || len > MARKER__CTL_REQ_MAX || buf[len - 1])
		return -EPROTO;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c) {
			if (c < 0x20 || c > 0x7e)
				return -EPROTO;
			continue;
		}
		/* An empty field, or one too many, is malformed. */
		if (i == start || req->argc == MARKER__CTL_MAX_ARGS)
			return -EPROTO;
		req->argv[req->argc++] = buf + start;
		start = i + 1;
	}
	return 0;
}

long marker__ctl_build_request(unsigned char *out, size_t cap, int argc,
			       const char *const *argv)
{
	size_t len = 0;

	if (argc < 1 || argc > MARKER__CTL_MAX_ARGS)
		return -EINVAL;
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);

		if (!n)
			return -EINVAL;
		for (size_t k = 0; k < n; k++)
			if ((unsigned char)argv[i][k] < 0x20 || (unsigned char)argv[i][k] > 0x7e)
				return -EINVAL;
		if (len + n + 1 > MARKER__CTL_REQ_MAX || MARKER__CTL_HDR + len + n + 1 > cap)
			return -EINVAL;
		memcpy(out + MARKER__CTL_HDR + len, argv[i], n + 1);
		len += n + 1;
	}
	marker__ctl_header(out, (uint32_t)len);
	return (long)(MARKER__CTL_HDR + len);
}

int marker__ctl_parse_reply(const unsigned char *buf, size_t len, int32_t *status,
			    const char **text, size_t *textlen)
{
	if (len < 4 || len > MARKER__CTL_REPLY_MAX || memchr(buf + 4, 0, len - 4))
		return -EPROTO;
	*status = (int32_t)le32(buf);
	*text = (const char *)buf + 4;
	*textlen = len - 4;
	return 0;
}

char *marker__ctl_escape(const char *s, char *out, size_t cap)
{
	size_t o = 0;

	if (!cap)
		return out;
	for (; s && *s && o + 5 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\\' || c == '\t' || c == '\n') {
			out[o++] = '\\';
			out[o++] = c == '\\' ? '\\' : c == '\t' ? 't' : 'n';
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = 0;
	return out;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

char *marker__ctl_unescape(char *s)
{
	char *o = s;

	for (char *p = s; *p; p++) {
		if (*p != '\\' || !p[1]) {
			*o++ = *p;
			continue;
		}
		p++;
		if (*p == 't') {
			*o++ = '\t';
		} else if (*p == 'n') {
			*o++ = '\n';
		} else if (*p == 'x' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0 &&
			   (hexval(p[1]) << 4 | hexval(p[2]))) {
			*o++ = (char)(hexval(p[1]) << 4 | hexval(p[2]));
			p += 2;
		} else {
			*o++ = *p;
		}
	}
	*o = 0;
	return s;
}
