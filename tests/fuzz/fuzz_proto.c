/*
 * fuzz_proto.c - libFuzzer target: the control channel's parsers, as the
 * listener (requests) and the CLI (replies, list lines) run them on bytes
 * from a socket.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct marker__ctl_req req;
	const char *text;
	size_t textlen;
	int32_t status;
	char *copy;
	long len;

	if (size >= MARKER__CTL_HDR) {
		len = marker__ctl_parse_header(data, MARKER__CTL_REQ_MAX);
		if (len >= 0 && (size_t)len <= size - MARKER__CTL_HDR) {
			copy = malloc((size_t)len + 1);
			if (!copy)
				return 0;
			memcpy(copy, data + MARKER__CTL_HDR, (size_t)len);
			if (marker__ctl_parse_request(copy, (size_t)len, &req) == 0) {
				for (int i = 0; i < req.argc; i++)
					if (!*req.argv[i] || strlen(req.argv[i]) >= (size_t)len)
						abort();
			}
			free(copy);
		}
	}
	if (marker__ctl_parse_reply(data, size, &status, &text, &textlen) == 0) {
		copy = malloc(textlen + 1);
		if (!copy)
			return 0;
		memcpy(copy, text, textlen);
		copy[textlen] = 0;
		/* Unescaping never grows a string, and escaping what it gives must fit. */
		size_t before = strlen(copy);
		marker__ctl_unescape(copy);
		if (strlen(copy) > before)
			abort();
		char out[256];
		marker__ctl_escape(copy, out, sizeof(out));
		if (strlen(out) >= sizeof(out))
			abort();
		free(copy);
	}
	return 0;
}
