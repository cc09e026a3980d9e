/*
 * relay_stream.c - feed a recording's trace files to an lttng-relayd
 * (relay_stream.h), from a thread of `markers record`.
 *
 * A pass (pass()):
 *   1. note each stream file's size (stream files grow by whole packets,
 *      but a packet's bytes may land in more than one write), for the
 *      traces known, then for those that appeared;
 *   2. read each trace's `metadata`: the tracer replaces it, before writing
 *      any packet that needs a new declaration, by one that declares it; so
 *      a metadata read after step 1 declares every event of the bytes
 *      counted there;
 *   3. send the new metadata, add the streams that join (join_trace), then
 *      send every packet that lies whole within the sizes of step 1, each
 *      with its CTF index (docs/trace-format.md gives the packet header's
 *      layout, which is all this file reads); live, close the streams of a
 *      trace whose process has finished it.
 *
 * The relayd keeps the metadata as one append-only text (live readers
 * parse it as it grows), while our tracer rewrites the file: the first
 * version goes whole, later ones by what they add at the end, or, if an
 * earlier part changed (a clock calibration refined), by their event
 * declarations that were not sent yet.  Each piece goes in a metadata
 * packet of its own (CTF 1.8's packetized metadata, as LTTng sends it): a
 * live reader decodes each piece it fetches by itself, and babeltrace2
 * 2.0 takes a plain-text piece only if it starts with the CTF 1.8
 * signature comment, which a declaration added later does not.
 *
 * The first error from the relayd ends the feeding: the connection is
 * dropped, the reason kept, and what was not sent is counted at the end.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"
#include "relay_stream.h"

#define PKT_HDR 76 /* packet header + context of our tracer */
#define PKT_MAGIC 0xC1FC1FC1u
#define MAX_STREAMS 4096
#define MAX_TRACES 1024
/* The root's trace goes here, under the session's directory (the relayd refuses ""). */
#define ROOT_PATH "trace"

struct feed_stream {
	char name[NAME_MAX + 1];
	int fd;
	uint64_t handle;
	int added;
	uint64_t size;     /* as noted at step 1 of this pass */
	uint64_t sent_off; /* bytes of whole packets sent */
	uint64_t net_seq;  /* packets sent */
	int damaged;       /* a packet header that is not ours: stop here */
};

struct feed_trace {
	char rel[PATH_MAX]; /* relative to the root; "" for the root itself */
	char dir[2 * PATH_MAX + 2];
	int meta_added;
	uint64_t meta_handle;
	char *meta_last; /* the metadata text as last read */
	int meta_diverged; /* what the relayd has is not meta_last: an earlier part changed */
	uint64_t meta_version;
	size_t meta_blocks; /* event declarations sent */
	struct feed_stream *streams;
	size_t nstreams;
	int final;  /* live: its process had finished its trace when this pass began */
	int closed; /* live: its streams were closed after their last packet */
};

struct relay_feed {
	struct relay_feed_opts o;
	char root[PATH_MAX];
	struct relay_conn *conn;
	struct feed_trace *traces;
	size_t ntraces;
	char *buf; /* one packet */
	size_t bufcap;
	pthread_t thread;
	int thread_running;
	pthread_mutex_t lock; /* everything above, between the thread and finish */
	pthread_cond_t cond;
	int stop;
	struct relay_feed_result r;
};

/* The first relayd error ends the feeding; keep why. */
static int fail(struct relay_feed *f, int err, const char *what)
{
	if (!f->r.failed) {
		f->r.failed = 1;
		snprintf(f->r.why, sizeof(f->r.why), "%s: %s", what,
			 err == -EREMOTEIO ? "refused by the relayd" : strerror(-err));
	}
	relay_close(f->conn);
	f->conn = NULL;
	return err;
}

/* ---- metadata ---- */

static char *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *s;
	ssize_t r;
	size_t got = 0;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !(s = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size && (r = read(fd, s + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)r;
	close(fd);
	s[got] = 0;
	*len = got;
	return s;
}

/* The trace's UUID in a TSDL text of our tracer (its first `uuid = "..."`), else zeros. */
static void trace_uuid(const char *text, uint8_t uuid[16])
{
	const char *p = strstr(text, "uuid = \"");
	unsigned v;

	memset(uuid, 0, 16);
	if (!p)
		return;
	p += 8;
	for (int i = 0; i < 16 && *p; i++) {
		if (*p == '-')
			p++;
		if (sscanf(p, "%2x", &v) != 1)
			return;
		uuid[i] = (uint8_t)v;
		p += 2;
	}
}

/*
 * Send @len bytes of TSDL text as one metadata packet: the header of CTF
 * 1.8's packetized metadata (magic 0x75d11d57, the trace's UUID, no
 * checksum, compression nor encryption, version 1.8), then the text.
 */
static int send_metadata(struct relay_feed *f, struct feed_trace *t, const char *text, size_t len)
{
	struct {
		uint32_t magic;
		uint8_t uuid[16];
		uint32_t checksum, content_size, packet_size;
		uint8_t compression, encryption, checksum_scheme, major, minor;
	} __attribute__((packed)) h = {.magic = 0x75d11d57u, .major = 1, .minor = 8};
	char *pkt;
	int err;

	if ((uint64_t)(sizeof(h) + len) * 8 > UINT32_MAX)
		return -EFBIG;
	pkt = malloc(sizeof(h) + len);
	if (!pkt)
		return -ENOMEM;
	trace_uuid(t->meta_last ? t->meta_last : text, h.uuid);
	h.content_size = h.packet_size = (uint32_t)((sizeof(h) + len) * 8);
	memcpy(pkt, &h, sizeof(h));
	memcpy(pkt + sizeof(h), text, len);
	err = relay_send_metadata(f->conn, t->meta_handle, pkt, sizeof(h) + len);
	free(pkt);
	return err;
}

/* The event declarations of a TSDL text: each starts with "event {" at a line start. */
static const char *nth_block(const char *text, size_t n, size_t *count)
{
	const char *p = text, *found = NULL;
	size_t k = 0;

	while ((p = strstr(p, "event {"))) {
		if (p == text || p[-1] == '\n') {
			if (k == n)
				found = p;
			k++;
		}
		p += 7;
	}
	*count = k;
	return found;
}

static int feed_metadata(struct relay_feed *f, struct feed_trace *t)
{
	char path[3 * PATH_MAX];
	size_t len, last_len, blocks;
	const char *send;
	char *text;
	int err;

	snprintf(path, sizeof(path), "%s/metadata", t->dir);
	text = read_file(path, &len);
	if (!text || !len || (t->meta_last && !strcmp(text, t->meta_last))) {
		free(text);
		return 0;
	}
	if (!t->meta_added) {
		err = relay_add_stream(f->conn, "metadata", *t->rel ? t->rel : ROOT_PATH, &t->meta_handle);
		if (err) {
			free(text);
			return fail(f, err, "adding the metadata stream");
		}
		t->meta_added = 1;
	}
	last_len = t->meta_last ? strlen(t->meta_last) : 0;
	if (!t->meta_last) {
		send = text; /* the first version, whole */
	} else if (!strncmp(text, t->meta_last, last_len)) {
		send = text + last_len; /* it grew at the end */
	} else {
		/* An earlier part changed: the relayd keeps the first; add the new declarations. */
		send = nth_block(text, t->meta_blocks, &blocks);
		if (!send)
			send = text + len;
		t->meta_diverged = 1;
	}
	err = *send ? send_metadata(f, t, send, strlen(send)) : 0;
	if (err) {
		free(text);
		return fail(f, err, "sending the metadata");
	}
	nth_block(text, 0, &t->meta_blocks);
	free(t->meta_last);
	t->meta_last = text;
	return 0;
}

/* ---- streams ---- */

static struct feed_stream *find_stream(struct feed_trace *t, const char *name)
{
	for (size_t i = 0; i < t->nstreams; i++)
		if (!strcmp(t->streams[i].name, name))
			return &t->streams[i];
	return NULL;
}

/* Step 1: every stream file of @t and its size now. */
static void note_streams(struct relay_feed *f, struct feed_trace *t)
{
	DIR *d = opendir(t->dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		struct feed_stream *s;
		struct stat st;
		char path[3 * PATH_MAX];

		if (de->d_name[0] == '.' || !strcmp(de->d_name, "metadata"))
			continue;
		s = find_stream(t, de->d_name);
		if (!s) {
			void *n;

			snprintf(path, sizeof(path), "%s/%s", t->dir, de->d_name);
			if (t->nstreams >= MAX_STREAMS || lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
				continue;
			n = realloc(t->streams, (t->nstreams + 1) * sizeof(*t->streams));
			if (!n)
				continue;
			t->streams = n;
			s = &t->streams[t->nstreams];
			memset(s, 0, sizeof(*s));
			snprintf(s->name, sizeof(s->name), "%s", de->d_name);
			s->fd = open(path, (f->o.punch ? O_RDWR : O_RDONLY) | O_CLOEXEC);
			if (s->fd < 0)
				continue;
			t->nstreams++;
		}
		if (fstat(s->fd, &st) == 0)
			s->size = (uint64_t)st.st_size;
	}
	closedir(d);
}

/* The packet at @off of @s: its whole size, 0 if incomplete, -1 if damaged. */
static int64_t packet_at(struct feed_stream *s, uint64_t off, unsigned char hdr[PKT_HDR])
{
	uint64_t bits;
	uint32_t magic;

	if (off + PKT_HDR > s->size)
		return 0;
	if (pread(s->fd, hdr, PKT_HDR, (off_t)off) != PKT_HDR)
		return 0;
	memcpy(&magic, hdr, 4);
	memcpy(&bits, hdr + 48, 8);
	if (magic != PKT_MAGIC || bits % 8 || bits / 8 < PKT_HDR || bits / 8 > (1u << 31))
		return -1;
	return off + bits / 8 <= s->size ? (int64_t)(bits / 8) : 0;
}

/*
 * Without a local copy, a packet the relayd has (its index was answered)
 * needs no disk: free its blocks, but keep the header's page, which the
 * tracer reads back when it finishes the trace.  A failure only costs space.
 */
static void punch(int fd, uint64_t off, uint64_t len)
{
	uint64_t from = (off + PKT_HDR + 4095) & ~4095ull, to = (off + len) & ~4095ull;

	if (to > from)
		(void)fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)from,
				(off_t)(to - from));
}

static int send_packets(struct relay_feed *f, struct feed_stream *s)
{
	unsigned char hdr[PKT_HDR];
	int64_t len;

	while (!s->damaged && (len = packet_at(s, s->sent_off, hdr)) != 0) {
		struct relay_index ix;
		uint32_t stream_id, cpu;
		int err;

		if (len < 0) {
			s->damaged = 1;
			break;
		}
		if ((size_t)len > f->bufcap) {
			char *n = realloc(f->buf, (size_t)len);

			if (!n)
				return fail(f, -ENOMEM, "reading a packet");
			f->buf = n;
			f->bufcap = (size_t)len;
		}
		if (pread(s->fd, f->buf, (size_t)len, (off_t)s->sent_off) != len)
			break;
		memcpy(&stream_id, hdr + 20, 4);
		memcpy(&ix.timestamp_begin, hdr + 24, 8);
		memcpy(&ix.timestamp_end, hdr + 32, 8);
		memcpy(&ix.content_size, hdr + 40, 8);
		memcpy(&ix.packet_size, hdr + 48, 8);
		memcpy(&ix.packet_seq_num, hdr + 56, 8);
		memcpy(&ix.events_discarded, hdr + 64, 8);
		memcpy(&cpu, hdr + 72, 4);
		ix.stream_id = stream_id;
		ix.stream_instance_id = cpu;
		err = relay_send_packet(f->conn, s->handle, s->net_seq, f->buf, (size_t)len, &ix);
		if (err)
			return fail(f, err, "sending a packet");
		if (f->o.punch)
			punch(s->fd, s->sent_off, (uint64_t)len);
		s->net_seq++;
		s->sent_off += (uint64_t)len;
		f->r.packets_sent++;
		f->r.bytes_sent += (uint64_t)len;
	}
	return 0;
}

/*
 * Step 3 for @t: the new metadata, then the streams that join.  Not live: a
 * stream joins when its first packet is whole (a reader waits on a stream
 * that has none, and an idle CPU's may get its first one only at the end).
 * Live: every stream of the trace at once, as soon as its metadata is there
 * (the tracer made all its stream files before: files.c), packets or not:
 * every CPU gets a packet each period.  A live reader merges the streams it
 * knows by time, and has passed the end of the packets it read; a stream
 * that joined later would start before that.  An idle CPU's first packet
 * begins when the consumer opened it, a few hundred nanoseconds before it
 * closed the busy CPU's first packet, and is whole one period later; a
 * process that starts during the recording has events before the end of
 * the packets its parent's trace sent meanwhile.  babeltrace2 stops there
 * ("timestamp is less than the last returned").  Sets *@added when a
 * stream joined.
 */
static int join_trace(struct relay_feed *f, struct feed_trace *t, int *added)
{
	unsigned char hdr[PKT_HDR];
	int err;

	if ((err = feed_metadata(f, t)))
		return err;
	if (!t->meta_added)
		return 0; /* no metadata yet: no packet can be read */
	for (size_t i = 0; i < t->nstreams; i++) {
		struct feed_stream *s = &t->streams[i];

		if (s->added || (!f->o.live_period_ms && packet_at(s, 0, hdr) == 0))
			continue;
		err = relay_add_stream(f->conn, s->name, *t->rel ? t->rel : ROOT_PATH, &s->handle);
		if (err)
			return fail(f, err, "adding a stream");
		s->added = 1;
		*added = 1;
	}
	return 0;
}

/* ---- traces under the root ---- */

static void add_trace(struct relay_feed *f, const char *rel)
{
	struct feed_trace *t;
	void *n;

	for (size_t i = 0; i < f->ntraces; i++)
		if (!strcmp(f->traces[i].rel, rel))
			return;
	if (f->ntraces >= MAX_TRACES)
		return;
	n = realloc(f->traces, (f->ntraces + 1) * sizeof(*f->traces));
	if (!n)
		return;
	f->traces = n;
	t = &f->traces[f->ntraces++];
	memset(t, 0, sizeof(*t));
	snprintf(t->rel, sizeof(t->rel), "%s", rel);
	snprintf(t->dir, sizeof(t->dir), "%s%s%s", f->root, *rel ? "/" : "", rel);
}

static int has_metadata(const char *dir)
{
	char path[3 * PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/metadata", dir);
	return access(path, R_OK) == 0;
}

/* The root, and its subdirectories, that hold a trace. */
static void find_traces(struct relay_feed *f)
{
	DIR *d;
	struct dirent *de;

	if (has_metadata(f->root))
		add_trace(f, "");
	d = opendir(f->root);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[3 * PATH_MAX];
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", f->root, de->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && has_metadata(path))
			add_trace(f, de->d_name);
	}
	closedir(d);
}

/*
 * Live: has the process of @t finished its trace (.stats says so, which the
 * tracer writes after the last packet and the last metadata)?  Then its
 * streams close after their last packet: a live reader waits for a packet
 * of every open stream before it goes past the others' time, so one that
 * no process writes any more would hold it until the recording ends.
 */
static int trace_final(const struct relay_feed *f, const struct feed_trace *t)
{
	struct live_stats ls;

	return f->o.live_period_ms && live_stats_read(t->dir, &ls) == 0 && ls.state[0] &&
	       strcmp(ls.state, "recording") != 0;
}

/* @t's streams are closed if it is final and every whole packet was sent. */
static void close_if_final(struct relay_feed *f, struct feed_trace *t)
{
	unsigned char hdr[PKT_HDR];
	int err;

	if (!t->final || !t->meta_added)
		return;
	for (size_t k = 0; k < t->nstreams; k++) {
		struct feed_stream *s = &t->streams[k];

		if (!s->added || (!s->damaged && packet_at(s, s->sent_off, hdr) != 0))
			return; /* not joined, or not all sent yet: a later pass */
	}
	for (size_t k = 0; k < t->nstreams && f->conn; k++)
		if ((err = relay_close_stream(f->conn, t->streams[k].handle, t->streams[k].net_seq - 1)))
			fail(f, err, "closing a stream");
	t->closed = 1;
}

/* Step 1 for @t: whether it is final, then its stream files' sizes. */
static void note_trace(struct relay_feed *f, struct feed_trace *t)
{
	t->final = trace_final(f, t);
	note_streams(f, t);
}

/*
 * One pass over every trace; returns whether it sent any packet.  The
 * sizes of the known traces' stream files first, then the traces that
 * appeared, whose streams join before any packet is sent: a trace found
 * after the sizes were noted had its metadata written after them, so its
 * events come after the end of every packet sent in this pass, and a live
 * reader knows its streams before it reads those packets (join_trace says
 * why that matters).
 */
static int pass(struct relay_feed *f)
{
	uint64_t before = f->r.packets_sent;
	size_t known = f->ntraces;
	int added = 0, err;

	if (!f->conn)
		return 0;
	for (size_t i = 0; i < known; i++)
		if (!f->traces[i].closed)
			note_trace(f, &f->traces[i]);
	find_traces(f);
	for (size_t i = known; i < f->ntraces; i++)
		note_trace(f, &f->traces[i]);
	for (size_t i = 0; i < f->ntraces && f->conn; i++)
		if (!f->traces[i].closed)
			join_trace(f, &f->traces[i], &added);
	if (added && f->conn && (err = relay_streams_sent(f->conn)))
		fail(f, err, "announcing the streams");
	for (size_t i = 0; i < f->ntraces && f->conn; i++) {
		struct feed_trace *t = &f->traces[i];

		if (t->closed)
			continue;
		for (size_t k = 0; k < t->nstreams && f->conn; k++)
			if (t->streams[k].added)
				send_packets(f, &t->streams[k]);
		if (f->conn)
			close_if_final(f, t);
	}
	return f->r.packets_sent != before;
}

static void *feeder(void *arg)
{
	struct relay_feed *f = arg;
	/* Live: a few looks per period, so that a closed packet leaves soon. */
	long ms = f->o.live_period_ms ? f->o.live_period_ms / 4 : 200;

	if (ms < 20)
		ms = 20;
	if (ms > 250)
		ms = 250;
	pthread_mutex_lock(&f->lock);
	while (!f->stop) {
		struct timespec ts;

		if (pass(f))
			continue; /* busy: look again at once, so as to keep up */
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += ms * 1000000;
		ts.tv_sec += ts.tv_nsec / 1000000000;
		ts.tv_nsec %= 1000000000;
		if (!f->stop)
			pthread_cond_timedwait(&f->cond, &f->lock, &ts);
	}
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

int relay_feed_start(const struct relay_feed_opts *o, const char *dir, struct relay_feed **out,
		     char *err, size_t errlen)
{
	struct relay_feed *f = calloc(1, sizeof(*f));
	char host[256];
	int rc;

	if (!f)
		return -ENOMEM;
	f->o = *o;
	if (!f->o.timeout_ms)
		f->o.timeout_ms = 5000;
	snprintf(f->root, sizeof(f->root), "%s", dir);
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	rc = relay_connect(&o->url, f->o.timeout_ms, &f->conn, err, errlen);
	if (rc)
		goto fail;
	f->r.minor = relay_minor(f->conn);
	if (o->hostname) {
		snprintf(host, sizeof(host), "%s", o->hostname);
	} else if (gethostname(host, sizeof(host)) < 0) {
		snprintf(host, sizeof(host), "localhost");
	}
	host[sizeof(host) - 1] = 0;
	rc = relay_create_session(f->conn, o->name, host, o->live_period_ms * 1000,
				  f->r.session_path, sizeof(f->r.session_path));
	if (rc) {
		snprintf(err, errlen, "the relayd at %s:%u did not create session '%s': %s",
			 o->url.host, o->url.control_port, o->name,
			 rc == -EREMOTEIO ? "refused (see its log)" : strerror(-rc));
		goto fail;
	}
	rc = pthread_create(&f->thread, NULL, feeder, f);
	if (rc) {
		snprintf(err, errlen, "cannot start a thread: %s", strerror(rc));
		rc = -rc;
		goto fail;
	}
	f->thread_running = 1;
	*out = f;
	return 0;
fail:
	relay_feed_free(f);
	return rc;
}

/* Whole packets of @s past what was sent. */
static void count_unsent(struct relay_feed *f, struct feed_stream *s)
{
	unsigned char hdr[PKT_HDR];
	uint64_t off = s->sent_off;
	int64_t len;

	while ((len = packet_at(s, off, hdr)) > 0) {
		f->r.packets_unsent++;
		f->r.bytes_unsent += (uint64_t)len;
		off += (uint64_t)len;
	}
}

void relay_feed_finish(struct relay_feed *f, struct relay_feed_result *r)
{
	pthread_mutex_lock(&f->lock);
	f->stop = 1;
	pthread_cond_signal(&f->cond);
	pthread_mutex_unlock(&f->lock);
	if (f->thread_running)
		pthread_join(f->thread, NULL);
	f->thread_running = 0;
	/* The files are final now: the last packets, then the end of every stream. */
	pass(f);
	for (size_t i = 0; i < f->ntraces; i++) {
		struct feed_trace *t = &f->traces[i];
		int err;

		note_streams(f, t);
		for (size_t k = 0; k < t->nstreams; k++) {
			struct feed_stream *s = &t->streams[k];

			count_unsent(f, s);
			if (s->added && !t->closed && f->conn &&
			    (err = relay_close_stream(f->conn, s->handle, s->net_seq - 1)))
				fail(f, err, "closing a stream");
		}
		/*
		 * Not live: the relayd's metadata can be the final text whole (a
		 * live session's cannot be reset; its readers keep the first clock
		 * calibration, which the final one refines by a few ppm).
		 */
		if (t->meta_diverged && !f->o.live_period_ms && f->conn &&
		    ((err = relay_reset_metadata(f->conn, t->meta_handle, ++t->meta_version)) ||
		     (err = send_metadata(f, t, t->meta_last, strlen(t->meta_last)))))
			fail(f, err, "sending the final metadata");
		if (t->meta_added && f->conn && (err = relay_close_stream(f->conn, t->meta_handle, -1)))
			fail(f, err, "closing the metadata stream");
	}
	relay_close(f->conn);
	f->conn = NULL;
	*r = f->r;
}

/* Bytes @from to @to of @src into the new file @path. */
static int copy_range(int src, const char *path, uint64_t from, uint64_t to)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	loff_t in = (loff_t)from;
	int err = 0;

	if (fd < 0)
		return -errno;
	while ((uint64_t)in < to) {
		ssize_t n = copy_file_range(src, &in, fd, NULL, to - (uint64_t)in, 0);

		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			break;
		}
	}
	close(fd);
	return err;
}

int relay_feed_copy_unsent(const struct relay_feed *f, const char *out)
{
	if (mkdir(out, 0700) < 0)
		return -errno;
	for (size_t i = 0; i < f->ntraces; i++) {
		const struct feed_trace *t = &f->traces[i];
		char dir[PATH_MAX * 2], path[PATH_MAX * 3];
		int mfd, err;

		snprintf(dir, sizeof(dir), "%s/%s", out, t->rel);
		if (*t->rel && mkdir(dir, 0700) < 0)
			return -errno;
		snprintf(path, sizeof(path), "%s/metadata", t->dir);
		mfd = open(path, O_RDONLY | O_CLOEXEC);
		if (mfd < 0)
			return -errno;
		snprintf(path, sizeof(path), "%s/metadata", dir);
		err = copy_range(mfd, path, 0, (uint64_t)lseek(mfd, 0, SEEK_END));
		close(mfd);
		for (size_t k = 0; !err && k < t->nstreams; k++) {
			const struct feed_stream *s = &t->streams[k];

			snprintf(path, sizeof(path), "%s/%s", dir, s->name);
			err = copy_range(s->fd, path, s->sent_off, s->size);
		}
		if (err)
			return err;
	}
	return 0;
}

size_t relay_feed_ntraces(const struct relay_feed *f)
{
	return f->ntraces;
}

const char *relay_feed_trace(const struct relay_feed *f, size_t i)
{
	return f->traces[i].rel;
}

void relay_feed_free(struct relay_feed *f)
{
	if (!f)
		return;
	relay_close(f->conn);
	for (size_t i = 0; i < f->ntraces; i++) {
		for (size_t k = 0; k < f->traces[i].nstreams; k++)
			close(f->traces[i].streams[k].fd);
		free(f->traces[i].streams);
		free(f->traces[i].meta_last);
	}
	free(f->traces);
	free(f->buf);
	pthread_mutex_destroy(&f->lock);
	pthread_cond_destroy(&f->cond);
	free(f);
}
