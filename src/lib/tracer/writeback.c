/*
 * writeback.c - knowing which packets of a stream file reached the disk.
 *
 * write() only fills the page cache.  The device answers later, when the
 * pages are written back: EIO from a failing disk, ENOSPC from a thin or
 * loop device whose backing store is full.  The kernel keeps that answer
 * per file (errseq) and tells it once to each open file description, at
 * the first fsync/fdatasync/sync_file_range that waits on it; a file
 * whose inode leaves memory forgets it.  So the descriptor that writes a
 * stream (flush.c) is the one that waits on it, as the stream grows:
 *
 *   each consumer period   wait for the range handed to write-back last
 *                          period, then hand over what came since
 *                          (sync_file_range: the consumer rarely blocks);
 *   at the end             wait for the rest, write the final packets,
 *                          fdatasync.
 *
 * The buffer header's durable_* mark is the end of the packets that came
 * back without an error.  An error cuts the stream file back to that mark
 * and counts every event after it as discarded: the file stays a sequence
 * of whole packets that all came back from write-back, and every event
 * emitted is either in one or counted.  Yet a file system whose device
 * fails writes may also have failed its own (extent maps, bitmaps)
 * without telling this file (measured: ext4 without a journal on a full
 * loop device kept stale blocks that no fdatasync reported), so a
 * write-back error is always also a loss no count can be sure to cover:
 * marker__tr_note_sync_error, state "write-error" in .stats, and
 * `markers record` says data may be missing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "tracer_int.h"

/* Write back bytes [@from, @to) of @fd and wait: 0, or the error write-back met (errseq). */
static int wait_range(int fd, uint64_t from, uint64_t to)
{
	/* (A length of 0 would mean "to the end of the file".) */
	if (to <= from)
		return 0;
	if (!sync_file_range(fd, (off_t)from, (off_t)(to - from),
			     SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
				     SYNC_FILE_RANGE_WAIT_AFTER))
		return 0;
	if (errno != EINVAL && errno != ENOSYS && errno != ESPIPE && errno != EOPNOTSUPP)
		return -errno;
	/* No ranges here: the whole file then. */
	return fdatasync(fd) && errno != EINVAL ? -errno : 0;
}

/*
 * Write-back error @err in @b's stream: cut it back to the durable mark
 * and count the events cut as discarded.
 */
static void cut(struct tr_session *s, struct tr_buf *b, int err)
{
	struct tr_buf_hdr *h = b->h;
	uint64_t lost = h->written_events - h->durable_events;
	uint64_t in_file = h->consumed / s->sbsize - h->dropped;

	marker__tr_note_sync_error(s, err);
	/*
	 * The counts first, then the cut: a process killed in between leaves
	 * packets beyond the ones recovery expects, and recovery cuts those
	 * (flush.c, scan_stream): the same cut.  In discard mode the file
	 * holds consumed / subbuf_size - dropped packets; overwrite mode
	 * writes at the end only (its mark is 0).
	 */
	__atomic_fetch_add(&h->discarded, lost, __ATOMIC_RELAXED);
	h->written_events = h->durable_events;
	s->packet_events = s->packet_events > lost ? s->packet_events - lost : 0;
	if (!s->overwrite && in_file > h->durable_packets)
		h->dropped += in_file - h->durable_packets;
	if (b->file_end > h->durable_end)
		s->stream_bytes -= b->file_end - h->durable_end;
	b->file_end = h->durable_end;
	b->wb_end = 0;
	if (ftruncate(b->stream.fd, (off_t)b->file_end))
		marker__tr_note_sync_error(s, -errno);
	marker__tr_reserve(b, 0); /* the tail reserve went with the cut */
}

static void set_durable(struct tr_buf_hdr *h, uint64_t end, uint64_t events, uint64_t packets)
{
	/*
	 * Read only by the process that meets an error (this one, or recovery
	 * after it died): a death between these stores leaves a mark that
	 * scan_stream finds wrong, and recovery then keeps the buffers and
	 * says so (-EIO) rather than miscount.
	 */
	h->durable_events = events;
	h->durable_packets = packets;
	h->durable_end = end;
}

void marker__tr_writeback(struct tr_session *s, struct tr_buf *b)
{
	struct tr_buf_hdr *h = b->h;
	int err;

	if (s->overwrite)
		return; /* nothing is written before the end */
	/* Step 2 of 2, for the range handed over last period: wait for it. */
	if (b->wb_end > h->durable_end) {
		err = wait_range(b->stream.fd, h->durable_end, b->wb_end);
		if (err < 0) {
			cut(s, b, err);
			return;
		}
		set_durable(h, b->wb_end, b->wb_events, b->wb_packets);
	}
	/* Step 1 of 2: hand what came since to write-back, without waiting. */
	if (b->file_end > h->durable_end) {
		b->wb_end = b->file_end;
		b->wb_events = h->written_events;
		b->wb_packets = h->consumed / s->sbsize - h->dropped;
		if (sync_file_range(b->stream.fd, (off_t)h->durable_end,
				    (off_t)(b->file_end - h->durable_end), SYNC_FILE_RANGE_WRITE) &&
		    errno != EINVAL && errno != ENOSYS && errno != ESPIPE && errno != EOPNOTSUPP)
			cut(s, b, -errno);
	}
}

int marker__tr_writeback_wait(struct tr_session *s, struct tr_buf *b, uint64_t packets)
{
	struct tr_buf_hdr *h = b->h;
	int err;

	if (b->file_end <= h->durable_end) {
		/* (Shorter than the mark: a mark torn by a death; what is there is the truth.) */
		set_durable(h, b->file_end, h->written_events, packets);
		return 0;
	}
	err = wait_range(b->stream.fd, h->durable_end, b->file_end);
	if (!err) {
		set_durable(h, b->file_end, h->written_events, packets);
		return 0;
	}
	cut(s, b, err);
	return 1;
}

uint64_t marker__tr_writeback_final(struct tr_session *s, struct tr_buf *b)
{
	struct tr_buf_hdr *h = b->h;
	uint64_t lost;

	if (!fdatasync(b->stream.fd) || errno == EINVAL)
		return 0;
	lost = h->written_events - h->durable_events;
	cut(s, b, -errno);
	/* The cut must reach the disk too, or nothing can be said of this file. */
	if (fdatasync(b->stream.fd) && errno != EINVAL)
		marker__tr_note_sync_error(s, -errno);
	return lost;
}

void marker__tr_writeback_metadata(struct tr_session *s)
{
	int fd;

	if (!s->metadata_unsynced)
		return;
	s->metadata_unsynced = 0;
	fd = openat(s->dir_fd.fd, "metadata", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	/* It replaced a durable version: if it is not on the disk, no packet is readable. */
	if (fd < 0 || (fdatasync(fd) && errno != EINVAL))
		marker__tr_note_sync_error(s, -errno);
	if (fd >= 0)
		close(fd);
}
