/*
 * snapshot.c - the flight recorder's snapshot: write the events that the
 * buffers of the running session hold now as a trace of its own, while
 * the recording goes on (marker_tracer_snapshot()).
 *
 * Writers keep writing during the copy, so the copy is taken sub-buffer by
 * sub-buffer and kept only where it is provably whole:
 *
 *   1. r0 = the buffer's reserve position; then, per sub-buffer, its commit
 *      word (acquire), then its position and times;
 *   2. the data, all of it;
 *   3. r1 = the reserve position again.
 *
 * A sub-buffer's copy is whole when its commit word accounts for every byte
 * reserved in it up to r0 (tracer_int.h: bytes + close tokens, modulo 2^32)
 * - no slice in it was still being written when the word was read, and the
 * acquire made their bytes visible to the data copy that follows - and when
 * no writer could have come back to it during the copy: r1 stays below the
 * position where its next cycle starts.  The open sub-buffer is copied up to
 * r0 only, and taken when r0 == r1 (no reservation during the copy) or its
 * word shows every slice up to r0 committed.  A sub-buffer that is not whole
 * after a few tries is left out (its position is spoiled in the copy, which
 * the flush then skips), and its events count as discarded in the
 * snapshot.  The flush then walks every event of what is kept (flush.c).
 *
 * The copy is made of everything the flush reads: the session header (the
 * event table, after the buffers, so that it declares every event copied),
 * each buffer's header and data.  The live session is only read.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot.h"
#include "tracer_int.h"
#include "tsan.h"

#define TRIES 64

/*
 * The copy reads what writers may be writing (the data, and the positions
 * and times that an opener stores plainly): by design, since only what the
 * commit words prove whole is kept, and a race to ThreadSanitizer, which
 * cannot see that proof.  It does not watch this thread's reads and writes
 * during the copy; the acquire loads of the commit words still synchronize.
 */
#define racy_copy_begin() marker__tsan_ignore_begin()
#define racy_copy_end() marker__tsan_ignore_end()

/* Bytes ever committed to sub-buffer @k (close tokens included) once every slice below @r is. */
static uint64_t expected_bytes(const struct tr_session *s, unsigned k, uint64_t r)
{
	uint64_t n = 0;

	for (uint64_t p = (uint64_t)k * s->sbsize; p < r; p += s->sbsize * s->nsubbufs)
		n += r > p + s->sbsize ? s->sbsize + 1 : r - p;
	return n;
}

/* Where the cycle of sub-buffer @k that holds positions below @r starts (its last one). */
static uint64_t cycle_start(const struct tr_session *s, unsigned k, uint64_t r)
{
	uint64_t ring = s->sbsize * s->nsubbufs, p = (uint64_t)k * s->sbsize;

	if (r <= p)
		return p;
	return p + (r - 1 - p) / ring * ring;
}

/*
 * One try: copy every sub-buffer of @lb into @fb and mark in @ok those that
 * are whole (see the top of the file).  Returns 1 when the open one is.
 */
static int copy_once(struct tr_session *s, const struct tr_buf *lb, struct tr_buf *fb, char *ok)
{
	const struct tr_buf_hdr *lh = lb->h;
	struct tr_buf_hdr *fh = fb->h;
	unsigned n = s->nsubbufs, open;
	uint64_t r0, r1, c[n];

	/*
	 * The position, then at once the open sub-buffer's word: every slice
	 * below r0 in it is committed when the word counts r0's bytes (a slice
	 * reserved between the two loads can only make it count more).
	 */
	r0 = __atomic_load_n(&lh->reserve, __ATOMIC_ACQUIRE);
	open = r0 ? marker__tr_sb_index(s, r0 - 1) : 0;
	c[open] = __atomic_load_n(&lh->sb[open].commit, __ATOMIC_ACQUIRE);
	racy_copy_begin();
	for (unsigned k = 0; k < n; k++) {
		if (k != open)
			c[k] = __atomic_load_n(&lh->sb[k].commit, __ATOMIC_ACQUIRE);
		fh->sb[k].commit = c[k];
		fh->sb[k].pos = __atomic_load_n(&lh->sb[k].pos, __ATOMIC_RELAXED);
		fh->sb[k].ts_begin = __atomic_load_n(&lh->sb[k].ts_begin, __ATOMIC_RELAXED);
		fh->sb[k].ts_end = __atomic_load_n(&lh->sb[k].ts_end, __ATOMIC_RELAXED);
		fh->sb[k].data_end = __atomic_load_n(&lh->sb[k].data_end, __ATOMIC_RELAXED);
		memcpy(fb->data + (size_t)k * s->sbsize, lb->data + (size_t)k * s->sbsize, s->sbsize);
	}
	racy_copy_end();
	r1 = __atomic_load_n(&lh->reserve, __ATOMIC_ACQUIRE);
	fh->reserve = r0;
	for (unsigned k = 0; k < n; k++) {
		uint64_t start = cycle_start(s, k, r0);

		ok[k] = (uint32_t)c[k] == (uint32_t)expected_bytes(s, k, r0) && /* all committed */
			r1 <= start + s->sbsize * n && /* no writer came back to it */
			(r0 <= start || fh->sb[k].pos == start); /* its opener wrote its position */
	}
	return !r0 || ok[open];
}

/*
 * Copy the live buffer @lb into @fb (allocated here), sub-buffers that are
 * not whole left out.  Returns 0, -ENOMEM.  *@dropped counts those left out.
 */
static int freeze(struct tr_session *s, const struct tr_buf *lb, struct tr_buf *fb,
		  unsigned *dropped)
{
	const struct tr_buf_hdr *lh = lb->h;
	size_t hsize = lh->data_offset, dsize = s->sbsize * s->nsubbufs;
	char *ok = calloc(s->nsubbufs, 1);
	struct tr_buf_hdr *fh = malloc(hsize + dsize);

	if (!ok || !fh) {
		free(ok);
		free(fh);
		return -ENOMEM;
	}
	memset(fh, 0, hsize);
	memcpy(fh, lh, sizeof(*fh)); /* the constants; the rest is read below */
	fb->h = fh;
	fb->data = (char *)fh + hsize;
	fb->map_size = hsize + dsize;
	/* A writer interrupted in the middle of a slice: let it finish, and try again. */
	for (int t = 0; t < TRIES && !copy_once(s, lb, fb, ok); t++)
		sched_yield();
	/* The flush skips a sub-buffer whose position is wrong: so is each one not whole. */
	for (unsigned k = 0; k < s->nsubbufs; k++)
		if (!ok[k]) {
			fh->sb[k].pos = ~0ull;
			(*dropped)++;
		}
	fh->discarded = __atomic_load_n(&lh->discarded, __ATOMIC_RELAXED);
	fh->written_events = 0;
	free(ok);
	return 0;
}

/* A (clock, realtime) pair for the copy's calibration: the time scale up to now. */
static void calibrate_now(struct tr_session_hdr *sh)
{
	int64_t a = marker__tr_realtime_ns();
	uint64_t c = marker__tr_clock();
	int64_t b = marker__tr_realtime_ns();

	sh->cal_seq = 0;
	sh->cal_clock1 = c;
	sh->cal_real1 = a + (b - a) / 2;
}

int marker__tr_snapshot(struct tr_session *live, const char *dir, uint64_t *events,
			uint64_t *discarded)
{
	struct tr_session *s = calloc(1, sizeof(*s));
	unsigned dropped = 0;
	int err = 0;

	if (!s)
		return -ENOMEM;
	/*
	 * Sizes and layout; everything they point to is replaced below.  Not
	 * the event cache, which writers fill meanwhile: the copy's stays empty.
	 */
	memcpy(s, live, offsetof(struct tr_session, cache));
	memcpy((char *)s + offsetof(struct tr_session, cache) + sizeof(s->cache),
	       (char *)live + offsetof(struct tr_session, cache) + sizeof(s->cache),
	       sizeof(*s) - offsetof(struct tr_session, cache) - sizeof(s->cache));
	s->dir = (char *)dir;
	s->dir_fd.fd = s->lock_fd.fd = -1;
	s->bufs = NULL;
	s->sh = NULL;
	s->filters = NULL;
	s->metadata_ndecl = 0;
	s->metadata_threads_gen = 0;
	s->stream_bytes = s->packet_events = s->final_discarded = 0;
	s->consumer_running = 0;
	s->state = "snapshot";
	if (mkdir(dir, 0755) && errno != EEXIST) {
		err = -errno;
		goto out;
	}
	if (marker__kept_set(&s->dir_fd, open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		err = -errno;
		goto out;
	}
	if (!faccessat(s->dir_fd.fd, "metadata", F_OK, 0)) {
		err = -EEXIST; /* never mix two traces */
		goto out;
	}
	s->bufs = calloc(s->nbufs, sizeof(*s->bufs));
	if (!s->bufs) {
		err = -ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < s->nbufs; i++) {
		char name[32];

		s->bufs[i].stream.fd = -1;
		err = freeze(s, &live->bufs[i], &s->bufs[i], &dropped);
		if (err)
			goto out;
		snprintf(name, sizeof(name), "cpu%u", i);
		if (marker__kept_set(&s->bufs[i].stream,
				     openat(s->dir_fd.fd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
					    0644)) < 0) {
			err = errno == EEXIST ? -EEXIST : -errno;
			goto out;
		}
		s->bufs[i].no_falloc = 1; /* a snapshot is written once: no room to keep */
	}
	/* The event table after the buffers: it declares every event they hold. */
	s->sh = malloc(live->sh_size);
	if (!s->sh) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(s->sh, live->sh, live->sh_size);
	s->sh->write_err = 0;
	calibrate_now(s->sh);
	for (unsigned i = 0; i < s->nbufs && !err; i++)
		err = marker__tr_drain_final(s, &s->bufs[i]);
	if (!err)
		err = marker__tr_write_metadata(s, 0);
	if (!err) {
		struct marker_tracer_stats st = {.size = sizeof(st)};

		st.recorded = s->packet_events;
		st.discarded = s->final_discarded;
		st.bytes = s->stream_bytes;
		err = marker__tr_write_stats(s, &st, 0);
	}
	*events = s->packet_events;
	*discarded = s->final_discarded;
out:
	for (unsigned i = 0; s->bufs && i < s->nbufs; i++) {
		marker__kept_close(&s->bufs[i].stream);
		free(s->bufs[i].h);
	}
	free(s->bufs);
	free(s->sh);
	marker__kept_close(&s->dir_fd);
	free(s);
	return err;
}
