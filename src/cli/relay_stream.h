/*
 * relay_stream.h - feed the traces that a recording writes into a
 * directory to an lttng-relayd (relay.h), while they are written.
 *
 * The traced program never talks to the relayd: its tracer writes the
 * trace files as always, and a thread of `markers record` reads them and
 * sends what is complete (whole packets, with their CTF indexes, and the
 * metadata before the packets that need it).  A relayd that stalls or dies
 * only stops this thread; what it did not get is counted.
 *
 * Every directory holding a `metadata` file, the root or one level below
 * it, is one trace; it goes to the relayd under the same relative path.
 */
#ifndef MARKERS_CLI_RELAY_STREAM_H
#define MARKERS_CLI_RELAY_STREAM_H

#include <stdint.h>

#include "relay.h"

struct relay_feed;

struct relay_feed_opts {
	struct relay_url url;
	const char *name;          /* session name */
	const char *hostname;      /* NULL: this host's name */
	unsigned live_period_ms;   /* 0: not a live session */
	int timeout_ms;            /* per socket operation; 0: 5000 */
	int punch;                 /* free the disk blocks of what was sent (no local copy
				      is kept): only packet headers stay, which is all the
				      tracer reads back (its recovery checks them) */
};

/*
 * relay_feed_start - connect, create the session, start feeding @dir.
 * Returns 0, or a negative errno with one line in @err (unreachable,
 * refused, incompatible version: -EPROTO).
 */
int relay_feed_start(const struct relay_feed_opts *o, const char *dir, struct relay_feed **out,
		     char *err, size_t errlen);

/* What reached the relayd, for the summary. */
struct relay_feed_result {
	char session_path[512]; /* HOSTNAME/NAME-DATE under the relayd's output */
	unsigned minor;         /* protocol 2.minor */
	uint64_t packets_sent, bytes_sent;
	uint64_t packets_unsent, bytes_unsent; /* complete packets the relayd did not get */
	int failed;                            /* the relayd stopped taking data */
	char why[256];                         /* why, when failed */
};

/*
 * relay_feed_finish - the recording is over and its files final: send
 * what is left, close the streams and the connections.
 */
void relay_feed_finish(struct relay_feed *f, struct relay_feed_result *r);

/*
 * relay_feed_copy_unsent - after relay_feed_finish(): a copy, in the new
 * directory @out, of the traces' metadata and of the packets that did not
 * reach the relayd, to count their events.  Returns 0 or -errno.
 */
int relay_feed_copy_unsent(const struct relay_feed *f, const char *out);

/* The traces found: their paths relative to the root ("" for the root). */
size_t relay_feed_ntraces(const struct relay_feed *f);
const char *relay_feed_trace(const struct relay_feed *f, size_t i);

void relay_feed_free(struct relay_feed *f);

#endif
