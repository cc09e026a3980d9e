/*
 * proto.h - the control channel's wire format, shared by the library (the
 * server, in each process) and the CLI (the client).  Private to both.
 *
 * A frame is the 4 bytes "MKC1", a 32-bit little-endian payload length, and
 * the payload.  One request per connection, one reply:
 *
 *   request payload  1 to MARKER__CTL_MAX_ARGS fields, each printable ASCII
 *                    (0x20-0x7e) and terminated by a NUL; the first field is
 *                    the command.  At most MARKER__CTL_REQ_MAX bytes.
 *   reply payload    a 32-bit little-endian signed status (a count, or a
 *                    negative errno), then text without NUL bytes.  At most
 *                    MARKER__CTL_REPLY_MAX bytes.
 *
 * Commands (status; text):
 *   list                     number of markers; lines of tab-separated fields,
 *                            escaped with marker__ctl_escape():
 *                              R recorded discarded bytes     (while recording)
 *                              M name format types enabled nsites nprobes
 *                              S kind mode object file line address reason
 *                              P description glob
 *   enable GLOB              markers matched; "recording" or "print", TAB, how
 *   disable GLOB             many changed state
 *   enable GLOB filter=EXPR  the same, recording only the events that pass EXPR
 *                            (src/common/filter.h); -EINVAL with the reason as
 *                            text, -EOPNOTSUPP when no recording runs
 *   trace-start [dir=PATH] [subbuf=N] [nsubbufs=N] [overwrite=0|1] [live=MS]
 *                            0; the connection that started a recording owns it:
 *                            when it closes, the recording stops
 *   trace-stats              0; "recorded N\ndiscarded N\nbytes N\nfiltered N\n"
 *   trace-stop               0; the final counts, as trace-stats
 *   trace-snapshot dir=PATH  0; "recorded N\ndiscarded N\n": the events that an
 *                            overwrite-mode recording holds now, written as a
 *                            trace in PATH (-EINVAL in discard mode, -EEXIST
 *                            when PATH holds a trace)
 *   (trace-stats, trace-stop: -ENOENT when no recording runs)
 *   ping                     the server's pid
 * Anything else is answered -EINVAL.  A malformed frame closes the connection.
 */
#ifndef MARKERS_CONTROL_PROTO_H
#define MARKERS_CONTROL_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define MARKER__CTL_MAGIC "MKC1"
#define MARKER__CTL_HDR 8
#define MARKER__CTL_REQ_MAX 4096
#define MARKER__CTL_REPLY_MAX (16u << 20)
#define MARKER__CTL_MAX_ARGS 8

struct marker__ctl_req {
	int argc;
	const char *argv[MARKER__CTL_MAX_ARGS];
};

/* Fill @hdr for a payload of @len bytes. */
void marker__ctl_header(unsigned char hdr[MARKER__CTL_HDR], uint32_t len);

/* The payload length a header announces, or -EPROTO (bad magic, over @max). */
long marker__ctl_parse_header(const unsigned char hdr[MARKER__CTL_HDR], uint32_t max);

/*
 * Parse a request payload in place: @req->argv points into @buf.
 * Returns 0 or -EPROTO.
 */
int marker__ctl_parse_request(const char *buf, size_t len, struct marker__ctl_req *req);

/*
 * Build a request frame (header and payload) into @out (@cap bytes).
 * Returns its length, or -EINVAL (a field not printable, too many or too long).
 */
long marker__ctl_build_request(unsigned char *out, size_t cap, int argc,
			       const char *const *argv);

/* Split a reply payload.  Returns 0 or -EPROTO (short, or a NUL in the text). */
int marker__ctl_parse_reply(const unsigned char *buf, size_t len, int32_t *status,
			    const char **text, size_t *textlen);

/* Write @s into @out (@cap bytes) with \\, \t, \n and other controls escaped; returns @out. */
char *marker__ctl_escape(const char *s, char *out, size_t cap);
/* Undo marker__ctl_escape() in place; returns @s. */
char *marker__ctl_unescape(char *s);

#endif /* MARKERS_CONTROL_PROTO_H */
