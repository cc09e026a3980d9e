/*
 * relay.c - the lttng-relayd streaming protocol, client side (relay.h).
 *
 * Written from the protocol as lttng-tools 2.13 defines it
 * (src/common/sessiond-comm/relayd.h): every control command is a 24-byte
 * header {circuit_id u64, data_size u64, cmd u32, cmd_version u32}, then
 * data_size bytes; most get a reply of a status word.  Data packets go on
 * the other connection after a 32-byte header {circuit_id u64, stream_id
 * u64, net_seq_num u64, data_size u32, padding_size u32}.
 *
 * The session (2.11 form) is announced by a sessiond UUID and session id
 * of our own (random: a relayd keys its trace chunk registry by them), then
 * one trace chunk, id 0, with an empty path: the chunk is the session's
 * directory itself, where the streams' paths are rooted.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "relay.h"

enum {
	CMD_ADD_STREAM = 1,
	CMD_CREATE_SESSION = 2,
	CMD_VERSION = 5,
	CMD_SEND_METADATA = 6,
	CMD_CLOSE_STREAM = 7,
	CMD_SEND_INDEX = 13,
	CMD_STREAMS_SENT = 16,
	CMD_RESET_METADATA = 17,
	CMD_CREATE_TRACE_CHUNK = 19,
};

#define LTTNG_OK 10 /* lttng-tools' success code in replies */
#define RELAY_PATH_MAX 4096

struct relay_conn {
	int ctl, data;
	unsigned minor;
	int timeout_ms;
};

/* ---- the URL ---- */

static int port_of(const char *s, uint16_t *port)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int relay_url_parse(const char *url, struct relay_url *u, char *err, size_t errlen)
{
	const char *p, *rest;
	char ports[64];
	size_t hl;

	memset(u, 0, sizeof(*u));
	u->control_port = RELAY_DEFAULT_CONTROL_PORT;
	u->data_port = RELAY_DEFAULT_DATA_PORT;
	if (!strncmp(url, "net://", 6) || !strncmp(url, "tcp://", 6)) {
		p = url + 6;
	} else if (!strncmp(url, "net6://", 7) || !strncmp(url, "tcp6://", 7)) {
		p = url + 7;
		u->ipv6 = 1;
	} else {
		snprintf(err, errlen, "'%s': a relay URL is net://HOST[:CONTROL_PORT[:DATA_PORT]]",
			 url);
		return -EINVAL;
	}
	if (*p == '[') {
		const char *close = strchr(p, ']');

		if (!close) {
			snprintf(err, errlen, "'%s': no ']' after the IPv6 address", url);
			return -EINVAL;
		}
		hl = (size_t)(close - p - 1);
		p++;
		rest = close + 1;
	} else {
		rest = p + strcspn(p, ":/");
		hl = (size_t)(rest - p);
	}
	if (!hl || hl >= sizeof(u->host)) {
		snprintf(err, errlen, "'%s': no host", url);
		return -EINVAL;
	}
	memcpy(u->host, p, hl);
	if (*rest == '/' && !rest[1])
		rest++; /* a trailing slash */
	if (!*rest)
		return 0;
	if (*rest != ':' || strlen(rest + 1) >= sizeof(ports)) {
		snprintf(err, errlen, "'%s': expected :CONTROL_PORT[:DATA_PORT] after the host",
			 url);
		return -EINVAL;
	}
	strcpy(ports, rest + 1);
	char *colon = strchr(ports, ':');

	if (colon)
		*colon = 0;
	if (port_of(ports, &u->control_port) || (colon && port_of(colon + 1, &u->data_port))) {
		snprintf(err, errlen, "'%s': a port is a number from 1 to 65535", url);
		return -EINVAL;
	}
	return 0;
}

/* ---- sockets with a deadline ---- */

static int connect_one(const struct relay_url *u, uint16_t port, int timeout_ms, char *err,
		       size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	char service[8];
	int fd = -1, rc, e = ECONNREFUSED;

	hints.ai_family = u->ipv6 ? AF_INET6 : AF_INET;
	snprintf(service, sizeof(service), "%u", port);
	rc = getaddrinfo(u->host, service, &hints, &res);
	if (rc) {
		snprintf(err, errlen, "cannot resolve %s: %s", u->host, gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		struct pollfd pfd;
		socklen_t sl = sizeof(e);
		int one = 1;

		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0) {
			e = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
			e = errno;
			goto next;
		}
		pfd = (struct pollfd){.fd = fd, .events = POLLOUT};
		do
			rc = poll(&pfd, 1, timeout_ms);
		while (rc < 0 && errno == EINTR);
		if (rc == 0) {
			e = ETIMEDOUT;
			goto next;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) < 0 || e)
			goto next;
		/* Back to blocking, with the deadline on every send and receive. */
		struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};

		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		freeaddrinfo(res);
		return fd;
	next:
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	snprintf(err, errlen, "cannot connect to %s port %u: %s", u->host, port, strerror(e));
	return -e;
}

/* Send all of @iov; -ETIMEDOUT when the peer does not take it in time. */
static int send_iov(int fd, struct iovec *iov, int n)
{
	while (n) {
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
		ssize_t w = sendmsg(fd, &mh, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		}
		while (n && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

static int recv_all(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = recv(fd, (char *)buf + got, len - got, 0);

		if (r == 0)
			return -ECONNRESET;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		}
		got += (size_t)r;
	}
	return 0;
}

/* ---- commands ---- */

struct cmd_hdr {
	uint64_t circuit_id, data_size;
	uint32_t cmd, cmd_version;
} __attribute__((packed));

/* One command: header, @a then @b (either may be empty). */
static int command(struct relay_conn *c, uint32_t cmd, const void *a, size_t alen, const void *b,
		   size_t blen)
{
	struct cmd_hdr h = {0, htobe64(alen + blen), htobe32(cmd), 0};
	struct iovec iov[3] = {{&h, sizeof(h)}, {(void *)a, alen}, {(void *)b, blen}};

	return send_iov(c->ctl, iov, blen ? 3 : alen ? 2 : 1);
}

/* The common reply: a status word; anything but LTTNG_OK is a refusal. */
static int status_reply(struct relay_conn *c)
{
	uint32_t st;
	int err = recv_all(c->ctl, &st, sizeof(st));

	if (err)
		return err;
	return be32toh(st) == LTTNG_OK ? 0 : -EREMOTEIO;
}

int relay_connect(const struct relay_url *u, int timeout_ms, struct relay_conn **out, char *err,
		  size_t errlen)
{
	struct relay_conn *c = calloc(1, sizeof(*c));
	struct {
		uint32_t major, minor;
	} v = {htobe32(RELAY_PROTO_MAJOR), htobe32(RELAY_PROTO_MINOR)};
	int rc;

	if (!c)
		return -ENOMEM;
	c->ctl = c->data = -1;
	c->timeout_ms = timeout_ms;
	rc = connect_one(u, u->control_port, timeout_ms, err, errlen);
	if (rc < 0)
		goto fail;
	c->ctl = rc;
	rc = command(c, CMD_VERSION, &v, sizeof(v), NULL, 0);
	if (!rc)
		rc = recv_all(c->ctl, &v, sizeof(v));
	if (rc) {
		snprintf(err, errlen, "%s:%u does not answer as an lttng-relayd (%s)", u->host,
			 u->control_port, strerror(-rc));
		goto fail;
	}
	v.major = be32toh(v.major);
	v.minor = be32toh(v.minor);
	/* The relayd answers with its own version; both sides use the lower minor. */
	if (v.major != RELAY_PROTO_MAJOR || v.minor < RELAY_PROTO_MINOR_MIN) {
		snprintf(err, errlen,
			 "the relayd at %s:%u speaks protocol %u.%u; markers needs %u.%u or later "
			 "(lttng-tools 2.11+)",
			 u->host, u->control_port, v.major, v.minor, RELAY_PROTO_MAJOR,
			 RELAY_PROTO_MINOR_MIN);
		rc = -EPROTO;
		goto fail;
	}
	c->minor = v.minor < RELAY_PROTO_MINOR ? v.minor : RELAY_PROTO_MINOR;
	rc = connect_one(u, u->data_port, timeout_ms, err, errlen);
	if (rc < 0)
		goto fail;
	c->data = rc;
	*out = c;
	return 0;
fail:
	relay_close(c);
	return rc;
}

unsigned relay_minor(const struct relay_conn *c)
{
	return c->minor;
}

int relay_create_session(struct relay_conn *c, const char *name, const char *hostname,
			 uint32_t live_timer_us, char *path, size_t pathlen)
{
	struct {
		uint32_t name_len, host_len, base_len, live_timer;
		uint8_t snapshot, name_has_time;
		uint8_t sessiond_uuid[16];
		uint64_t session_id, creation_time;
		uint8_t chunk_is_set;
		uint64_t chunk_id;
	} __attribute__((packed)) m = {0};
	struct {
		uint64_t session_id;
		uint32_t ret_code, path_len;
	} __attribute__((packed)) r;
	struct {
		uint64_t chunk_id, creation_time;
		uint32_t name_len;
	} __attribute__((packed)) ch = {0};
	size_t nl = strlen(name) + 1, hl = strlen(hostname) + 1;
	char *names = malloc(nl + hl + 1), rpath[RELAY_PATH_MAX];
	uint64_t sid;
	int err;

	if (!names)
		return -ENOMEM;
	memcpy(names, name, nl);
	memcpy(names + nl, hostname, hl);
	names[nl + hl] = 0; /* no base path: OUTPUT/HOSTNAME/NAME-DATE */
	m.name_len = htobe32((uint32_t)nl);
	m.host_len = htobe32((uint32_t)hl);
	m.base_len = htobe32(1);
	m.live_timer = htobe32(live_timer_us);
	/* A nil UUID means "pre-2.11 peer" to the relayd: ours is random. */
	if (getrandom(m.sessiond_uuid, sizeof(m.sessiond_uuid), 0) != sizeof(m.sessiond_uuid) ||
	    getrandom(&sid, sizeof(sid), 0) != sizeof(sid)) {
		free(names);
		return -EIO;
	}
	m.sessiond_uuid[6] = (m.sessiond_uuid[6] & 0x0f) | 0x40;
	m.sessiond_uuid[8] = (m.sessiond_uuid[8] & 0x3f) | 0x80;
	m.session_id = htobe64(sid >> 1);
	m.creation_time = htobe64((uint64_t)time(NULL));
	err = command(c, CMD_CREATE_SESSION, &m, sizeof(m), names, nl + hl + 1);
	free(names);
	if (!err)
		err = recv_all(c->ctl, &r, sizeof(r));
	if (err)
		return err;
	r.path_len = be32toh(r.path_len);
	if (r.path_len > sizeof(rpath))
		return -EPROTO;
	if (r.path_len && (err = recv_all(c->ctl, rpath, r.path_len)))
		return err;
	if (be32toh(r.ret_code) != LTTNG_OK)
		return -EREMOTEIO;
	rpath[r.path_len ? r.path_len - 1 : 0] = 0;
	snprintf(path, pathlen, "%s", rpath);

	/* The one trace chunk: id 0, named by the relayd, rooted at the session's directory. */
	ch.creation_time = m.creation_time;
	err = command(c, CMD_CREATE_TRACE_CHUNK, &ch, sizeof(ch), NULL, 0);
	return err ? err : status_reply(c);
}

int relay_add_stream(struct relay_conn *c, const char *channel, const char *pathname,
		     uint64_t *handle)
{
	struct {
		uint32_t channel_len, path_len;
		uint64_t tracefile_size, tracefile_count, chunk_id;
	} __attribute__((packed)) m = {0};
	struct {
		uint64_t handle;
		uint32_t ret_code;
	} __attribute__((packed)) r;
	size_t cl = strlen(channel) + 1, pl = strlen(pathname) + 1;
	char names[2 * 300];
	int err;

	if (cl + pl > sizeof(names))
		return -ENAMETOOLONG;
	memcpy(names, channel, cl);
	memcpy(names + cl, pathname, pl);
	m.channel_len = htobe32((uint32_t)cl);
	m.path_len = htobe32((uint32_t)pl);
	err = command(c, CMD_ADD_STREAM, &m, sizeof(m), names, cl + pl);
	if (!err)
		err = recv_all(c->ctl, &r, sizeof(r));
	if (err)
		return err;
	if (be32toh(r.ret_code) != LTTNG_OK)
		return -EREMOTEIO;
	*handle = be64toh(r.handle);
	return 0;
}

int relay_streams_sent(struct relay_conn *c)
{
	int err = command(c, CMD_STREAMS_SENT, NULL, 0, NULL, 0);

	return err ? err : status_reply(c);
}

int relay_send_metadata(struct relay_conn *c, uint64_t handle, const void *buf, size_t len)
{
	struct {
		uint64_t stream_id;
		uint32_t padding;
	} __attribute__((packed)) m = {htobe64(handle), 0};

	/* No reply: the relayd just appends the text to the stream's file. */
	return command(c, CMD_SEND_METADATA, &m, sizeof(m), buf, len);
}

int relay_reset_metadata(struct relay_conn *c, uint64_t handle, uint64_t version)
{
	struct {
		uint64_t stream_id, version;
	} __attribute__((packed)) m = {htobe64(handle), htobe64(version)};
	int err = command(c, CMD_RESET_METADATA, &m, sizeof(m), NULL, 0);

	return err ? err : status_reply(c);
}

int relay_send_packet(struct relay_conn *c, uint64_t handle, uint64_t net_seq, const void *buf,
		      size_t len, const struct relay_index *ix)
{
	struct {
		uint64_t circuit_id, stream_id, net_seq_num;
		uint32_t data_size, padding_size;
	} __attribute__((packed)) h = {0, htobe64(handle), htobe64(net_seq), htobe32((uint32_t)len),
				       0};
	struct {
		uint64_t relay_stream_id, net_seq_num;
		uint64_t packet_size, content_size, timestamp_begin, timestamp_end;
		uint64_t events_discarded, stream_id, stream_instance_id, packet_seq_num;
	} __attribute__((packed)) m = {
		htobe64(handle),
		htobe64(net_seq),
		htobe64(ix->packet_size),
		htobe64(ix->content_size),
		htobe64(ix->timestamp_begin),
		htobe64(ix->timestamp_end),
		htobe64(ix->events_discarded),
		htobe64(ix->stream_id),
		htobe64(ix->stream_instance_id),
		htobe64(ix->packet_seq_num),
	};
	struct iovec iov[2] = {{&h, sizeof(h)}, {(void *)buf, len}};
	int err;

	if (len > UINT32_MAX)
		return -EINVAL;
	/* Data first, then the index (lttng-consumerd's order). */
	err = send_iov(c->data, iov, 2);
	if (!err)
		err = command(c, CMD_SEND_INDEX, &m, sizeof(m), NULL, 0);
	return err ? err : status_reply(c);
}

int relay_close_stream(struct relay_conn *c, uint64_t handle, uint64_t last_net_seq)
{
	struct {
		uint64_t stream_id, last_net_seq_num;
	} __attribute__((packed)) m = {htobe64(handle), htobe64(last_net_seq)};
	int err = command(c, CMD_CLOSE_STREAM, &m, sizeof(m), NULL, 0);

	return err ? err : status_reply(c);
}

void relay_close(struct relay_conn *c)
{
	if (!c)
		return;
	if (c->ctl >= 0)
		close(c->ctl);
	if (c->data >= 0)
		close(c->data);
	free(c);
}
