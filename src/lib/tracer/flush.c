/*
 * flush.c - from ring buffers to CTF packets in the stream files.
 *
 * The same code serves the consumer thread (complete sub-buffers, while
 * writers run), marker_tracer_stop() (what is left, writers quiesced) and
 * marker_tracer_recover() (what is left, writers dead: some slices may be
 * reserved and never committed).
 *
 * Crash consistency: a packet is in the stream file once the buffer's
 * `consumed` moved past its sub-buffer (one store).  A process killed
 * between the write and that store leaves a packet that recovery finds
 * beyond the expected count and cuts off (scan_stream), then writes again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "tracer_int.h"
#include "warn.h"

/* The declaration of @id, or NULL. */
static const struct tr_decl *decl_of(const struct tr_session_hdr *sh, uint32_t id)
{
	uint32_t off;

	if (id >= TR_MAX_IDS)
		return NULL;
	off = __atomic_load_n(&sh->rec_off[id], __ATOMIC_ACQUIRE);
	if (!off || off - 1 + sizeof(struct tr_decl) > TR_ARENA_SIZE)
		return NULL;
	return (const struct tr_decl *)(sh->arena + off - 1);
}

static const char *decl_types(const struct tr_decl *d)
{
	return d->strings + strlen(d->strings) + 1;
}

/*
 * Decode @data as events: check each header's id is declared and each
 * payload fits; stop at the first that does not, or after @len bytes.
 * Returns the bytes of valid events; *events their number; *ts the time
 * of the last one (start it at the packet's timestamp_begin).
 */
static size_t walk(const struct tr_session_hdr *sh, const char *data, size_t len,
		   uint64_t *events, uint64_t *ts)
{
	size_t at = 0;
	uint64_t n = 0, t = *ts;

	while (at + TR_HDR_COMPACT <= len) {
		uint32_t w, id;
		size_t p = at;
		const struct tr_decl *d;

		memcpy(&w, data + p, 4);
		id = w & 31;
		if (id == TR_COMPACT_IDS) {
			uint64_t full;

			if ((w & 0xff) >> 5 || p + TR_HDR_EXTENDED > len)
				break;
			memcpy(&id, data + p + 1, 4);
			memcpy(&full, data + p + 5, 8);
			if (full < t)
				break;
			t = full;
			p += TR_HDR_EXTENDED;
		} else {
			p += TR_HDR_COMPACT;
			uint64_t low = w >> 5, m = (1ull << TR_TS_BITS) - 1;
			uint64_t nt = (t & ~m) | low;

			if (nt < t)
				nt += 1ull << TR_TS_BITS;
			t = nt;
		}
		d = decl_of(sh, id);
		if (!d)
			break;
		p += TR_CONTEXT;
		for (const char *c = decl_types(d); *c && *c != MARKER_TYPE_UNKNOWN; c++) {
			if (*c == MARKER_TYPE_STRING) {
				const char *z = p < len ? memchr(data + p, 0, len - p) : NULL;

				if (!z || z - (data + p) > TR_STRING_MAX) {
					p = len + 1;
					break;
				}
				p = (size_t)(z - data) + 1;
			} else {
				p += marker__tr_type_size(*c);
			}
		}
		if (p > len)
			break;
		at = p;
		n++;
		*ts = t;
	}
	*events = n;
	return at;
}

size_t marker__tr_walk(const struct tr_session *s, const char *data, size_t len,
		       uint64_t *events)
{
	uint64_t ts = 0;

	return walk(s->sh, data, len, events, &ts);
}

/*
 * Make sure @len bytes past the end of @b's stream file, and the tail
 * reserve after them, are allocated: a write into allocated blocks cannot
 * fail for lack of space (ENOSPC, EDQUOT), so a full disk refuses the
 * whole packet here instead of leaving half of it in the file.
 */
int marker__tr_reserve(struct tr_buf *b, uint64_t len)
{
	if (b->no_falloc)
		return 0;
	if (!fallocate(b->stream.fd, FALLOC_FL_KEEP_SIZE, (off_t)b->file_end,
		       (off_t)(len + TR_TAIL_RESERVE)))
		return 0;
	if (errno == EOPNOTSUPP || errno == ENOSYS) {
		b->no_falloc = 1; /* then a failed write is cut back instead */
		return 0;
	}
	return -errno;
}

/*
 * Append @iov to the stream file at file_end: all of it, or nothing.  A
 * short or failed write is cut back to the last whole packet, so that the
 * file stays a sequence of whole packets that readers can take.
 */
static int write_all(struct tr_buf *b, struct iovec *iov, int n)
{
	uint64_t at = b->file_end;
	int err = 0;

	while (n) {
		ssize_t w = pwritev(b->stream.fd, iov, n, (off_t)at);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			err = w < 0 ? -errno : -ENOSPC;
			break;
		}
		at += (uint64_t)w;
		while (n && (size_t)w >= iov->iov_len) {
			w -= iov->iov_len;
			iov++;
			n--;
		}
		if (n) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= w;
		}
	}
	if (!err) {
		b->file_end = at;
		return 0;
	}
	if (at != b->file_end && ftruncate(b->stream.fd, (off_t)b->file_end)) {
		/* Cannot cut it: the stream's end is garbage, the error says so already. */
	}
	marker__tr_reserve(b, 0); /* the cut may have freed the tail reserve too */
	return err;
}

/* Remember the first write error of the session, for .stats and stop (docs/trace-format.md). */
void marker__tr_note_error(struct tr_session *s, int err)
{
	uint32_t none = 0;

	if (__atomic_compare_exchange_n(&s->sh->write_err, &none, (uint32_t)-err, 0,
					__ATOMIC_RELAXED, __ATOMIC_RELAXED))
		marker__warn("tracer: writing into %s: %s; the events that cannot be written "
			     "are counted as discarded",
			     s->dir, strerror(-err));
}

/* A write-back error: what was written may not be on the disk, and no count says how much. */
void marker__tr_note_sync_error(struct tr_session *s, int err)
{
	marker__tr_note_error(s, err);
	__atomic_fetch_or(&s->sh->write_err, TR_ERR_SYNC, __ATOMIC_RELAXED);
}

/* One CTF packet: header and context (docs/trace-format.md), then @len bytes of events. */
static int write_packet(struct tr_session *s, struct tr_buf *b, uint64_t seq, uint64_t ts_begin,
			uint64_t ts_end, const char *data, size_t len, uint64_t discarded)
{
	unsigned char hdr[TR_PACKET_HDR];
	uint32_t magic = 0xC1FC1FC1u, stream_id = 0, cpu = b->h->cpu;
	uint64_t bits = (uint64_t)(TR_PACKET_HDR + len) * 8;
	struct iovec iov[2] = {{hdr, sizeof(hdr)}, {(void *)data, len}};
	int err;

	/*
	 * The program may have closed the stream's descriptor, and opened a
	 * file of its own on the number (kept_fd.h): found again by name, or
	 * -1, on which every call below fails (EBADF) and the packet is lost,
	 * counted.
	 */
	if (!marker__kept_ours(&b->stream))
		marker__tr_reclaim_fds(s);
	/*
	 * Declarations first: every event in this packet was committed after
	 * its declaration was published (and we acquired the commit), so a
	 * metadata file written now declares them all, before any reader can
	 * see the packet.  An empty packet (the final counts) needs none.
	 */
	if (len) {
		/*
		 * New declarations: on the disk before any packet that needs
		 * them.  New thread names only: the consumer's write-back step
		 * waits for them (writeback.c), so that a thread pool that keeps
		 * starting threads costs one fdatasync per period at most.
		 */
		int decls = __atomic_load_n(&s->sh->ndecl, __ATOMIC_ACQUIRE) != s->metadata_ndecl;

		if ((decls || __atomic_load_n(&s->sh->threads_gen, __ATOMIC_ACQUIRE) !=
				      s->metadata_threads_gen) &&
		    (err = marker__tr_write_metadata(s, decls)) < 0)
			return err;
	}
	/* The empty packet goes into the tail reserve; others reserve their space first. */
	if (len && (err = marker__tr_reserve(b, TR_PACKET_HDR + len)) < 0)
		return err;
	if (ts_end < ts_begin)
		ts_end = ts_begin;
	memcpy(hdr, &magic, 4);
	memcpy(hdr + 4, s->sh->uuid, 16);
	memcpy(hdr + 20, &stream_id, 4);
	memcpy(hdr + 24, &ts_begin, 8);
	memcpy(hdr + 32, &ts_end, 8);
	memcpy(hdr + 40, &bits, 8);
	memcpy(hdr + 48, &bits, 8);
	memcpy(hdr + 56, &seq, 8);
	memcpy(hdr + 64, &discarded, 8);
	memcpy(hdr + 72, &cpu, 4);
	err = write_all(b, iov, len ? 2 : 1);
	if (!err) {
		s->stream_bytes += TR_PACKET_HDR + len;
		b->last_end = ts_end;
		b->last_disc = discarded;
	}
	return err;
}

static char *sb_data(struct tr_session *s, struct tr_buf *b, uint64_t pos)
{
	return b->data + (pos / s->sbsize % s->nsubbufs) * s->sbsize;
}

long marker__tr_drain(struct tr_session *s, struct tr_buf *b)
{
	struct tr_buf_hdr *h = b->h;
	long moved = 0;

	if (s->overwrite)
		return 0; /* a flight recorder is written at the end only */
	for (;;) {
		uint64_t pos = h->consumed;
		struct tr_sb *sb = &h->sb[pos / s->sbsize % s->nsubbufs];
		/* Pairs with the writers' release adds: their slices are written. */
		uint64_t c = __atomic_load_n(&sb->commit, __ATOMIC_ACQUIRE);
		int err;

		if ((uint32_t)c != s->sbsize + 1)
			break;
		/*
		 * The losses up to its close (tr_sb.disc), never fewer than the
		 * last packet's: two closers may read `discarded` out of order.
		 */
		uint64_t disc = sb->disc > b->last_disc ? sb->disc : b->last_disc;

		/* A packet that live.c opened starts with sb->skip bytes of nothing. */
		err = write_packet(s, b, pos / s->sbsize - h->dropped, sb->ts_begin, sb->ts_end,
				   sb_data(s, b, pos) + sb->skip, sb->data_end - sb->skip, disc);
		if (err) {
			/*
			 * Not in the file (disk full, I/O error): its events are
			 * lost, and counted so; the sub-buffer is handed back all
			 * the same, and the next packets try again.
			 */
			marker__tr_note_error(s, err);
			__atomic_fetch_add(&h->discarded, c >> 32, __ATOMIC_RELAXED);
		} else {
			h->written_events += c >> 32;
			s->packet_events += c >> 32;
			moved += (long)(c >> 32);
		}
		__atomic_store_n(&sb->commit, 0, __ATOMIC_RELAXED);
		sb->skip = 0; /* a writer that opens it next knows nothing of skip */
		/* Hand the sub-buffer back: pairs with the writers' acquire of consumed. */
		__atomic_store_n(&h->consumed, pos + s->sbsize, __ATOMIC_RELEASE);
		/*
		 * After consumed: a process killed between the two stores leaves
		 * one packet fewer in the file than recovery expects, which it
		 * recognises (marker__tr_drain_final); the other order would make
		 * it cut a good packet.
		 */
		if (err)
			h->dropped++;
	}
	return moved;
}

/*
 * Keep the whole packets of the stream file whose sequence numbers are
 * below @npackets; cut the rest (a packet written by a process killed
 * before it could record that).  Returns the events_discarded of the last
 * packet kept, its end time in *ts_end.
 */
static uint64_t scan_stream(struct tr_buf *b, uint64_t npackets, uint64_t *kept,
			    uint64_t *ts_end, uint64_t *bytes)
{
	unsigned char hdr[TR_PACKET_HDR];
	off_t at = 0, size = lseek(b->stream.fd, 0, SEEK_END);
	uint64_t seq = 0, disc = 0;

	while (seq < npackets && at + TR_PACKET_HDR <= size) {
		uint64_t bits, pseq;
		uint32_t magic;

		if (pread(b->stream.fd, hdr, sizeof(hdr), at) != sizeof(hdr))
			break;
		memcpy(&magic, hdr, 4);
		memcpy(&bits, hdr + 48, 8);
		memcpy(&pseq, hdr + 56, 8);
		if (magic != 0xC1FC1FC1u || pseq != seq || bits % 8 || bits / 8 < TR_PACKET_HDR ||
		    at + (off_t)(bits / 8) > size)
			break;
		memcpy(ts_end, hdr + 32, 8);
		memcpy(&disc, hdr + 64, 8);
		at += bits / 8;
		seq++;
	}
	if (at != size && ftruncate(b->stream.fd, at)) {
		/* Reported by the writes that follow, if the file is unusable. */
	}
	*kept = seq;
	*bytes = (uint64_t)at;
	return disc;
}

/* Bytes ever committed to the sub-buffer starting at @p (in its cycle) given the end @r. */
static uint64_t cycle_bytes(struct tr_session *s, uint64_t p, uint64_t r)
{
	if (p >= r)
		return 0;
	return r > p + s->sbsize ? s->sbsize + 1 : r - p;
}

/*
 * Overwrite mode: is every slice reserved in the lap of sub-buffer @pos
 * committed, given its commit word @c and the final position @r?  Earlier
 * laps of it are complete (ring.c opens a lap only then), each sbsize + 1
 * bytes; this one holds r - pos bytes, or sbsize + 1 once closed.
 */
static int lap_committed(const struct tr_session *s, uint64_t c, uint64_t pos, uint64_t r)
{
	uint64_t n = pos / s->sbsize / s->nsubbufs;
	uint64_t bytes = r > pos + s->sbsize ? s->sbsize + 1 : r - pos;

	return (uint32_t)(c - n * (s->sbsize + 1)) == bytes;
}

/*
 * The end time of a stream's last packet, which carries the final count: its
 * discards have no time of their own, and a full buffer discards after its
 * last event.  They happened before now, when the process finishes its own
 * trace; in a recovery (the process is dead, and this one's clock may not be
 * its), no later than the last reservation on any CPU, or after it (unknown).
 */
static uint64_t final_end(struct tr_session *s, uint64_t t)
{
	if (s->sh->pid == getpid()) {
		uint64_t now = marker__tr_clock();

		return now > t ? now : t;
	}
	for (unsigned i = 0; i < s->nbufs; i++) {
		uint64_t l = __atomic_load_n(&s->bufs[i].h->last_ts, __ATOMIC_RELAXED);

		if (l > t)
			t = l;
	}
	return t ? t : marker__tr_clock(); /* nothing ever recorded: any time */
}

int marker__tr_drain_final(struct tr_session *s, struct tr_buf *b)
{
	struct tr_buf_hdr *h = b->h;
	uint64_t r = __atomic_load_n(&h->reserve, __ATOMIC_ACQUIRE);
	uint64_t first, seq, bytes, lost = 0, total = 0, kept = 0;
	int err = 0;

	/* The stream file as far as `consumed` says; then what the consumer did not do. */
	seq = s->overwrite ? 0 : h->consumed / s->sbsize - h->dropped;
	b->last_disc = scan_stream(b, seq, &kept, &b->last_end, &bytes);
	s->stream_bytes += bytes;
	b->file_end = bytes;
	if (kept + 1 == seq && s->sh->write_err)
		h->dropped++; /* killed between a dropped packet's two stores (marker__tr_drain) */
	else if (kept != seq)
		return -EIO; /* the stream file lost packets: not ours to fix */
	/* What it holds must be on the disk before more goes after it (writeback.c). */
	if (marker__tr_writeback_wait(s, b, kept)) {
		uint64_t cut_bytes;

		seq = kept = h->durable_packets;
		b->last_disc = scan_stream(b, seq, &kept, &b->last_end, &cut_bytes);
		if (kept != seq)
			return -EIO;
	}
	marker__tr_reserve(b, 0); /* for the final counts: the cut may have freed it */
	if (!s->overwrite) {
		long n = marker__tr_drain(s, b);

		if (n < 0)
			return (int)n;
		first = h->consumed;
		seq = first / s->sbsize - h->dropped; /* the drain wrote packets too */
	} else {
		/*
		 * Overwrite: the newest nsubbufs - 1 closed sub-buffers and the
		 * open one survive; every other event ever committed was
		 * overwritten.  Commit words only grew: per sub-buffer, the
		 * total is bytes + (events << 32), and the bytes are known
		 * from the final position, so the events are too.
		 */
		uint64_t cur = r ? (r - 1) / s->sbsize : 0;

		first = (cur >= s->nsubbufs - 1 ? cur - (s->nsubbufs - 1) : 0) * s->sbsize;
		for (unsigned k = 0; k < s->nsubbufs; k++) {
			uint64_t c = __atomic_load_n(&h->sb[k].commit, __ATOMIC_ACQUIRE), nb = 0;

			for (uint64_t p = (uint64_t)k * s->sbsize; p < r;
			     p += s->sbsize * s->nsubbufs)
				nb += cycle_bytes(s, p, r);
			total += (c - nb + (1ull << 31)) >> 32;
		}
	}
	/* What is left: from `first` to the last reserved byte, one packet per sub-buffer. */
	uint64_t np = r > first ? (r - first + s->sbsize - 1) / s->sbsize : 0;
	struct left {
		uint64_t pos, len, n, ts;
	} left[np ? np : 1];
	uint64_t survivors = 0, unwritten = 0, final;

	/* Pass 1: validate and count, so that every packet written carries the final count. */
	for (uint64_t i = 0; i < np; i++) {
		uint64_t pos = first + i * s->sbsize;
		struct tr_sb *sb = &h->sb[pos / s->sbsize % s->nsubbufs];
		uint64_t c = __atomic_load_n(&sb->commit, __ATOMIC_ACQUIRE), len;

		left[i] = (struct left){pos, 0, 0, sb->ts_begin};
		if (sb->pos != pos) {
			/* Its opener died before writing it down: nothing usable. */
			lost += s->overwrite ? 0 : c >> 32;
			continue;
		}
		if (s->overwrite && !lap_committed(s, c, pos, r)) {
			/*
			 * A writer died holding a slice here: its bytes are the
			 * previous lap's, and what follows it cannot be told from
			 * them.  Nothing of this sub-buffer is delivered; its
			 * events count as lost (total - survivors).
			 */
			continue;
		}
		len = r > pos + s->sbsize ? sb->data_end : r - pos;
		if (len > s->sbsize)
			len = s->sbsize;
		/*
		 * Committed bytes bound the walk in discard mode (a slice
		 * reserved by a writer that died is garbage, and whatever
		 * follows it cannot be found); the walk checks every event.
		 */
		if (!s->overwrite && (uint32_t)c < len)
			len = (uint32_t)c;
		if (sb->skip > len)
			len = sb->skip; /* opened by live.c, nothing after */
		left[i].len = walk(s->sh, sb_data(s, b, pos) + sb->skip, len - sb->skip, &left[i].n,
				   &left[i].ts);
		survivors += left[i].n;
		if (!s->overwrite && (c >> 32) > left[i].n)
			lost += (c >> 32) - left[i].n;
	}
	if (s->overwrite)
		lost = total > survivors ? total - survivors : 0;
	final = __atomic_load_n(&h->discarded, __ATOMIC_RELAXED) + lost;

	/*
	 * Pass 2: the packets.  One that cannot be written adds its events to
	 * the final count.  A closed one carries the losses up to its close, as
	 * the drain does; the last one the final count, until final_end().
	 */
	for (uint64_t i = 0; i < np; i++) {
		struct tr_sb *sb = &h->sb[left[i].pos / s->sbsize % s->nsubbufs];
		uint64_t disc = final, end = left[i].ts;

		if (i + 1 < np) {
			disc = sb->disc > b->last_disc ? sb->disc : b->last_disc;
			disc = disc < final ? disc : final;
			end = sb->pos == left[i].pos && sb->ts_end > end ? sb->ts_end : end;
		} else {
			end = final_end(s, end);
		}
		err = write_packet(s, b, seq, sb->ts_begin, end,
				   sb_data(s, b, left[i].pos) + sb->skip, left[i].len, disc);
		if (err) {
			marker__tr_note_error(s, err);
			unwritten += left[i].n;
			continue;
		}
		seq++;
		h->written_events += left[i].n;
		s->packet_events += left[i].n;
	}
	final += unwritten; /* the events that could not be written are discarded ones */
	/*
	 * The final count, in an empty packet if the last one does not carry it,
	 * at final_end(), never before the end of the last packet in the file
	 * (the drain above may have written some): time never goes backwards.
	 */
	if (b->last_disc != final) {
		uint64_t t = final_end(s, b->last_end);

		err = write_packet(s, b, seq++, t, t, NULL, 0, final);
		if (err)
			marker__tr_note_error(s, err); /* .stats still has the count */
	}
	/*
	 * The tail reserve goes back to the file system; the data must reach
	 * the disk: a write-back error (EIO) shows there, not at write().
	 */
	if (!b->no_falloc)
		fallocate(b->stream.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			  (off_t)b->file_end, (off_t)(s->sbsize + 2 * TR_TAIL_RESERVE));
	final += marker__tr_writeback_final(s, b);
	/*
	 * A second run (recovery killed, run again) finds these packets beyond
	 * `consumed`, cuts them and writes them again: the same result.
	 */
	s->final_discarded += final;
	return 0;
}
