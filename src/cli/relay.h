/*
 * relay.h - a client of lttng-relayd's streaming protocol (lttng-tools
 * 2.11 and later), as lttng-consumerd speaks it: what `markers record
 * --relay` uses to send a trace to a relay host.
 *
 * Two TCP connections: control (commands, replies, metadata, indexes) and
 * data (packets).  Every integer on the wire is big-endian; the trace bytes
 * themselves go as they are.  One session per client, one trace chunk
 * (id 0, the session's directory), streams added at any time.
 *
 * Every call blocks at most the timeout given to relay_connect() per
 * socket operation; a relayd that stalls longer is an error (-ETIMEDOUT),
 * one that went away -EPIPE or -ECONNRESET.  After any error but -EINVAL
 * the connection is unusable: close it.  Not thread-safe: one thread uses
 * a connection at a time.
 */
#ifndef MARKERS_CLI_RELAY_H
#define MARKERS_CLI_RELAY_H

#include <stddef.h>
#include <stdint.h>

#define RELAY_DEFAULT_CONTROL_PORT 5342
#define RELAY_DEFAULT_DATA_PORT 5343
#define RELAY_DEFAULT_LIVE_PORT 5344

/* The protocol version we speak; a relayd below 2.11 is refused. */
#define RELAY_PROTO_MAJOR 2
#define RELAY_PROTO_MINOR 13
#define RELAY_PROTO_MINOR_MIN 11

struct relay_url {
	int ipv6;            /* net6:// */
	char host[256];      /* name or address, without brackets */
	uint16_t control_port, data_port;
};

/*
 * relay_url_parse - LTTng's syntax: net://HOST[:CONTROL_PORT[:DATA_PORT]],
 * net6://HOST or net6://[ADDR]:PORT:PORT (tcp:// and tcp6:// too, as
 * lttng accepts them).  Returns 0, or -EINVAL with the reason in @err.
 */
int relay_url_parse(const char *url, struct relay_url *u, char *err, size_t errlen);

struct relay_conn;

/*
 * relay_connect - open both connections and agree on a version.
 * @timeout_ms bounds the connect and every later send or receive.
 * Returns 0, -EPROTO (the relayd speaks an incompatible version: @err
 * says which), or -errno (resolution, connect, I/O), with @err set.
 */
int relay_connect(const struct relay_url *u, int timeout_ms, struct relay_conn **out, char *err,
		  size_t errlen);
/* The protocol version agreed on: 2.minor. */
unsigned relay_minor(const struct relay_conn *c);

/*
 * relay_create_session - the session @name from @hostname; the relayd
 * writes it under OUTPUT/HOSTNAME/NAME-DATE (returned in @path).
 * @live_timer_us: 0 for a session that live readers cannot attach to,
 * else the period at which packets are closed (a hint for readers).
 * Also creates the trace chunk every stream is added to.
 * Returns 0, -EREMOTEIO (refused by the relayd), -errno.
 */
int relay_create_session(struct relay_conn *c, const char *name, const char *hostname,
			 uint32_t live_timer_us, char *path, size_t pathlen);

/*
 * relay_add_stream - a stream file @channel (e.g. "cpu0", "metadata") in
 * the trace directory @pathname (relative to the session's).  Returns 0
 * and its handle in *@handle, -EREMOTEIO, -errno.  Streams added become
 * visible to live readers at the next relay_streams_sent().
 */
int relay_add_stream(struct relay_conn *c, const char *channel, const char *pathname,
		     uint64_t *handle);
int relay_streams_sent(struct relay_conn *c);

/* Append @len bytes of TSDL text to the metadata stream @handle. */
int relay_send_metadata(struct relay_conn *c, uint64_t handle, const void *buf, size_t len);

/*
 * relay_reset_metadata - the metadata stream @handle starts again, empty
 * (its text @version, 1, 2...).  Refused (-EREMOTEIO) in a live session:
 * live readers parse the text as it grows.
 */
int relay_reset_metadata(struct relay_conn *c, uint64_t handle, uint64_t version);

/*
 * relay_send_packet - one whole CTF packet of stream @handle, numbered
 * @net_seq (0, 1, 2... per stream), on the data connection, then its
 * index on the control connection (the relayd pairs them by @net_seq).
 */
struct relay_index {
	uint64_t packet_size, content_size; /* bits */
	uint64_t timestamp_begin, timestamp_end;
	uint64_t events_discarded;
	uint64_t stream_id;          /* CTF stream class id */
	uint64_t stream_instance_id; /* which stream of the class: the CPU */
	uint64_t packet_seq_num;
};
int relay_send_packet(struct relay_conn *c, uint64_t handle, uint64_t net_seq, const void *buf,
		      size_t len, const struct relay_index *ix);

/* relay_close_stream - no more packets after @last_net_seq (-1: none was sent). */
int relay_close_stream(struct relay_conn *c, uint64_t handle, uint64_t last_net_seq);

/* Close both connections and free @c (NULL is fine). */
void relay_close(struct relay_conn *c);

#endif
