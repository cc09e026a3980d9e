/*
 * session.c - the recording session: start, enable, stop, stats, recovery,
 * the consumer thread, and fork.
 *
 * Locking: tr_lock serializes the functions of markers/tracer.h; it is taken
 * before marker__lock (through the probe API), never after.  The probe
 * takes no lock: it reaches the session through its private pointer, which
 * stays valid until stop has unregistered it and waited a grace period.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "registry.h"
#include "hooks.h"
#include "thread.h"
#include "snapshot.h"
#include "tr_filter.h"
#include "tracer_int.h"
#include "warn.h"

static pthread_mutex_t tr_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tr_cond = PTHREAD_COND_INITIALIZER;
static struct tr_session *cur;
static struct marker_tracer_stats last_stats; /* of the last session stopped */

static void lock(void)
{
	if (pthread_mutex_lock(&tr_lock))
		abort();
}

static void unlock(void)
{
	if (pthread_mutex_unlock(&tr_lock))
		abort();
}

/* Bytes committed to the sub-buffer cycle starting at @p, given the position @r. */
static uint64_t cycle_bytes(const struct tr_session *s, uint64_t p, uint64_t r)
{
	if (p >= r)
		return 0;
	return r > p + s->sbsize ? s->sbsize + 1 : r - p;
}

void marker__tr_stats(struct tr_session *s, struct marker_tracer_stats *st)
{
	uint64_t rec = 0, disc = 0;

	for (unsigned i = 0; i < s->nbufs; i++) {
		struct tr_buf_hdr *h = s->bufs[i].h;
		uint64_t r = __atomic_load_n(&h->reserve, __ATOMIC_ACQUIRE);

		disc += __atomic_load_n(&h->discarded, __ATOMIC_RELAXED);
		rec += h->written_events;
		if (!s->overwrite) {
			/* Committed, not yet moved: the events of the sub-buffers in use. */
			for (uint64_t p = h->consumed; p < r; p += s->sbsize)
				rec += __atomic_load_n(&h->sb[p / s->sbsize % s->nsubbufs].commit,
						       __ATOMIC_ACQUIRE) >> 32;
			continue;
		}
		for (unsigned k = 0; k < s->nsubbufs; k++) {
			uint64_t c = __atomic_load_n(&h->sb[k].commit, __ATOMIC_ACQUIRE), nb = 0;

			for (uint64_t p = (uint64_t)k * s->sbsize; p < r; p += s->sbsize * s->nsubbufs)
				nb += cycle_bytes(s, p, r);
			rec += (c - nb + (1ull << 31)) >> 32;
		}
	}
	st->recorded = rec;
	st->discarded = disc;
	st->bytes = s->stream_bytes;
	st->filtered = marker__tr_filtered(s);
}

/*
 * The consumer: every 10 ms, move complete sub-buffers to the stream files
 * (the metadata first when new events were declared: write_packet sees to
 * it); every 100 ms, refresh the calibration and .stats.  Default buffers
 * (8 x 256 KiB per CPU) hold about 85 ms of events at 10^6 events/s of 24
 * bytes, so a 10 ms period leaves a wide margin.
 */
static void *consumer(void *arg)
{
	struct tr_session *s = arg;
	unsigned tick = 0, live_ticks = 0;

	lock();
	while (!s->consumer_stop) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 10 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&tr_cond, &tr_lock, &ts);
		if (s->consumer_stop)
			break;
		unlock();
		/* Live: close the packets being filled, then the drain below writes them (live.c). */
		if (s->live_period_ms && ++live_ticks * 10 >= s->live_period_ms) {
			live_ticks = 0;
			for (unsigned i = 0; i < s->nbufs; i++)
				marker__tr_live_flush(s, &s->bufs[i]);
		}
		for (unsigned i = 0; i < s->nbufs; i++) {
			long n = marker__tr_drain(s, &s->bufs[i]);

			if (n < 0)
				marker__warn("tracer: writing %s/cpu%u: %s", s->dir, i, strerror((int)-n));
		}
		if (++tick % 10 == 0) {
			struct marker_tracer_stats st;

			marker__tr_clock_update(s->sh);
			/*
			 * The lock, and what write-back syncs: the program may
			 * have closed them (kept_fd.h).  Writes check their own.
			 */
			marker__tr_reclaim_fds(s);
			/* Is what was written on the disk?  An error cuts it back, counted (writeback.c). */
			for (unsigned i = 0; i < s->nbufs; i++)
				marker__tr_writeback(s, &s->bufs[i]);
			marker__tr_writeback_metadata(s);
			/* Renamed threads: the next packet rewrites the metadata. */
			marker__tr_poll_names(s, 64);
			marker__tr_stats(s, &st);
			marker__tr_write_stats(s, &st, 0);
		}
		lock();
	}
	unlock();
	return NULL;
}

static size_t parse_default(size_t v, size_t def)
{
	return v ? v : def;
}

static void session_free(struct tr_session *s)
{
	marker__tr_filter_free(s);
	marker__tr_unmap(s);
	for (size_t i = 0; i < s->nglobs; i++)
		free(s->globs[i]);
	free(s->globs);
	free(s->dir);
	free(s);
}

int marker_tracer_start(const struct marker_tracer_options *opts)
{
	struct tr_session *s;
	char dflt[64];
	size_t sb, n;
	int err;

	if (!opts || opts->size < sizeof(size_t) + sizeof(const char *))
		return -EINVAL;
	/* Fields past the caller's size are zero (its older, shorter struct). */
	struct marker_tracer_options o = {0};

	memcpy(&o, opts, opts->size < sizeof(o) ? opts->size : sizeof(o));
	sb = parse_default(o.subbuf_size, TR_DEFAULT_SUBBUF);
	n = parse_default(o.nsubbufs, TR_DEFAULT_NSUBBUFS);
	/* Bounded: a request for 10^6 sub-buffers would take gigabytes and seconds. */
	if (sb < 4096 || sb > MARKER_TRACER_MAX_SUBBUF_SIZE || (sb & (sb - 1)) || n < 2 ||
	    n > MARKER_TRACER_MAX_NSUBBUFS || (uint64_t)sb * n > MARKER_TRACER_MAX_BUFFER_SIZE)
		return -EINVAL;
	{
		struct sysinfo si;
		uint64_t total = (uint64_t)sb * n * (unsigned)get_nprocs_conf();

		if (!sysinfo(&si) && total > (uint64_t)si.totalram * si.mem_unit / 2)
			return -ENOMEM;
	}
	marker__init();
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->dir_fd.fd = s->lock_fd.fd = s->bufs_fd.fd = -1;
	s->sbsize = sb;
	s->nsubbufs = (unsigned)n;
	s->overwrite = !!o.overwrite;
	s->live_period_ms = o.live_period_ms;
	s->nbufs = (unsigned)get_nprocs_conf();
	if (!s->nbufs)
		s->nbufs = 1;
	snprintf(dflt, sizeof(dflt), "markers-trace-%d", (int)getpid());
	s->dir = strdup(o.dir && *o.dir ? o.dir : dflt);
	s->state = "recording";
	if (!s->dir) {
		free(s);
		return -ENOMEM;
	}

	lock();
	if (cur && !cur->active) {
		/* The parent's session, inherited by fork: drop our copy, start ours. */
		for (size_t i = 0; i < cur->nglobs; i++)
			marker_probe_unregister_glob(cur->globs[i], marker__tr_probe, cur);
		marker_synchronize_unregister();
		session_free(cur);
		cur = NULL;
	}
	if (cur) {
		err = -EBUSY;
		goto err_unlock;
	}
	err = marker__tr_map(s, 1);
	if (err < 0)
		goto err_unlock;
	if (getrandom(s->sh->uuid, sizeof(s->sh->uuid), 0) != sizeof(s->sh->uuid)) {
		for (unsigned i = 0; i < 16; i++) /* no entropy: time and pid are unique enough */
			s->sh->uuid[i] = (uint8_t)(marker__tr_realtime_ns() >> (i % 8 * 8) ^ getpid());
	}
	s->sh->uuid[6] = (s->sh->uuid[6] & 0x0f) | 0x40; /* version 4 */
	s->sh->uuid[8] = (s->sh->uuid[8] & 0x3f) | 0x80;
	s->sh->pid = getpid();
	snprintf(s->sh->procname, sizeof(s->sh->procname), "%s", program_invocation_short_name);
	marker__tr_clock_start(s->sh);
	err = marker__tr_write_metadata(s, 0); /* declares nothing yet: no need to wait for the disk */
	if (!err) {
		struct marker_tracer_stats st = {0};

		err = marker__tr_write_stats(s, &st, 0);
	}
	if (err)
		goto err_remove;
	if (!s->overwrite) {
		/* Signals of the program stay out of it: see marker__thread_start. */
		err = marker__thread_start(&s->consumer, NULL, consumer, s);
		if (err)
			goto err_remove;
		s->consumer_running = 1;
	}
	static uint32_t gens;
	/* 0 is what a thread that never recorded holds; TR_GEN_SLOW is fast_gen's. */
	gens = (gens + 1) & (TR_GEN_SLOW - 1);
	s->gen = gens ? gens : ++gens;
	s->active = 1;
	marker__tr_fast_update(s);
	cur = s;
	unlock();
	return 0;

err_remove:
	marker__tr_remove_buffers(s);
err_unlock:
	unlock();
	session_free(s);
	return err;
}

void marker__tr_fast_update(struct tr_session *s)
{
	int fast = __atomic_load_n(&s->active, __ATOMIC_RELAXED) &&
		   !__atomic_load_n(&s->filters, __ATOMIC_RELAXED) && s->ring_mask &&
		   s->sh->clock_tsc;

	__atomic_store_n(&s->fast_gen, fast ? s->gen : s->gen | TR_GEN_SLOW, __ATOMIC_RELAXED);
}

int marker__tr_enable_filter(const char *glob, const char *filter, char *err, size_t errlen)
{
	char **v;
	int n;

	if (!glob || !*glob)
		return -EINVAL;
	if (filter && !*filter)
		filter = NULL;
	lock();
	if (!cur) {
		unlock();
		return -ENOENT;
	}
	v = realloc(cur->globs, (cur->nglobs + 1) * sizeof(*v));
	if (!v || !(v[cur->nglobs] = strdup(glob))) {
		if (v)
			cur->globs = v;
		unlock();
		return -ENOMEM;
	}
	cur->globs = v;
	/* Filtered, or once filters are in use: the filter set knows every glob. */
	n = filter || cur->filters ? marker__tr_filter_add(cur, glob, filter, err, errlen) : 0;
	if (n < 0) {
		free(v[cur->nglobs]);
		unlock();
		return n;
	}
	/* The stub's sites call the area entry (ring.c); unregistered by (glob, probe, cur). */
	n = marker__probe_register_glob_area(glob, marker__tr_probe, MARKER__TR_PROBE_AREA, cur);
	if (n >= 0 || n == -EAGAIN) /* -EAGAIN: connected, some sites switch later */
		cur->nglobs++;
	else
		free(v[cur->nglobs]);
	if (n == -EEXIST)
		n = marker__tr_glob_count(glob); /* the same glob again, another filter */
	unlock();
	return n;
}

int marker_tracer_enable(const char *glob)
{
	return marker__tr_enable_filter(glob, NULL, NULL, 0);
}

int marker_tracer_enable_filter(const char *glob, const char *filter)
{
	return marker__tr_enable_filter(glob, filter, NULL, 0);
}

int marker_tracer_disable(const char *glob)
{
	int err = -ENOENT;

	if (!glob)
		return -EINVAL;
	lock();
	for (size_t i = 0; cur && i < cur->nglobs; i++) {
		if (strcmp(cur->globs[i], glob))
			continue;
		err = marker_probe_unregister_glob(glob, marker__tr_probe, cur);
		marker__tr_filter_remove(cur, glob);
		free(cur->globs[i]);
		cur->globs[i] = cur->globs[--cur->nglobs];
		break;
	}
	unlock();
	return err;
}

/*
 * Write everything left, finish the files; writers must be gone.  Write
 * errors (a full disk) do not stop it: what cannot be written is counted
 * as discarded, the buffers go, and the first error is returned.
 */
static int finish(struct tr_session *s, const char *state)
{
	int err = 0, e, keep = 0;

	s->final_discarded = 0;
	s->stream_bytes = 0; /* drain_final counts each stream file whole */
	marker__tr_reclaim_fds(s); /* the program may have closed them (kept_fd.h) */
	for (unsigned i = 0; i < s->nbufs; i++) {
		e = marker__tr_drain_final(s, &s->bufs[i]);
		if (e && !err)
			err = e;
		keep |= e < 0; /* a stream file we cannot make sense of: the buffers stay */
	}
	marker__tr_clock_update(s->sh);
	/*
	 * On a full disk, or when it cannot be written back, the previous
	 * metadata stays: it is on the disk and declares every event written
	 * (files.c: each version is, before the packets that need it).
	 */
	e = marker__tr_write_metadata(s, 1);
	if (e && !err)
		err = e;
	s->state = state;
	last_stats = (struct marker_tracer_stats){.size = sizeof(last_stats)};
	last_stats.discarded = s->final_discarded;
	last_stats.bytes = s->stream_bytes;
	last_stats.filtered = marker__tr_filtered(s);
	for (unsigned i = 0; i < s->nbufs; i++)
		last_stats.recorded += s->bufs[i].h->written_events;
	/* The new files' names must reach the disk too: a lost entry is a lost file. */
	if (fsync(s->dir_fd.fd) && errno != EINVAL)
		marker__tr_note_sync_error(s, -errno);
	e = marker__tr_write_stats(s, &last_stats, 1);
	if (e < 0) {
		/*
		 * Not on the disk: the copy in memory, which `markers record`
		 * reads now, must not say all is well.
		 */
		marker__tr_note_sync_error(s, e);
		marker__tr_write_stats(s, &last_stats, 0);
	}
	if (e && !err)
		err = e;
	if (!keep && s->sh->write_err)
		err = -TR_ERRNO(s->sh->write_err); /* the cause, before its consequences */
	if (!keep && (e = marker__tr_remove_buffers(s)) < 0 && !err)
		err = e;
	return err;
}

int marker_tracer_stop(void)
{
	struct tr_session *s;
	int err = 0;

	lock();
	s = cur;
	if (!s) {
		unlock();
		return -ENOENT;
	}
	/* No new probe call, then none running: writers are gone after this. */
	for (size_t i = 0; i < s->nglobs; i++)
		marker_probe_unregister_glob(s->globs[i], marker__tr_probe, s);
	marker_synchronize_unregister();
	cur = NULL;
	if (s->consumer_running) {
		s->consumer_stop = 1;
		pthread_cond_broadcast(&tr_cond);
		unlock();
		pthread_join(s->consumer, NULL);
		lock();
	}
	if (s->active) {
		/* Renames since the consumer's last look, of the threads still alive. */
		marker__tr_poll_names(s, TR_MAX_THREADS);
		err = finish(s, "stopped");
	}
	/* else: a forked child's copy of its parent's session; the parent finishes it. */
	unlock();
	session_free(s);
	return err;
}

int marker_tracer_snapshot(const char *dir, struct marker_tracer_stats *stats)
{
	struct marker_tracer_stats st = {0};
	int err;

	if (!dir || !*dir || (stats && stats->size < sizeof(size_t)))
		return -EINVAL;
	lock();
	if (!cur || !cur->active)
		err = -ENOENT;
	else if (!cur->overwrite)
		err = -EINVAL;
	else
		err = marker__tr_snapshot(cur, dir, &st.recorded, &st.discarded);
	unlock();
	if (!err && stats) {
		size_t size = stats->size < sizeof(st) ? stats->size : sizeof(st);

		st.size = size;
		memcpy(stats, &st, size);
	}
	return err;
}

int marker_tracer_get_stats(struct marker_tracer_stats *stats)
{
	struct marker_tracer_stats st = {0};
	size_t size;

	if (!stats || stats->size < sizeof(size_t))
		return -EINVAL;
	size = stats->size < sizeof(st) ? stats->size : sizeof(st);
	lock();
	if (cur)
		marker__tr_stats(cur, &st);
	else
		st = last_stats;
	unlock();
	st.size = size;
	memcpy(stats, &st, size);
	return 0;
}

int marker_tracer_recover(const char *dir)
{
	struct tr_session *s;
	int err;

	if (!dir)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->dir = strdup(dir))) {
		free(s);
		return -ENOMEM;
	}
	s->dir_fd.fd = s->lock_fd.fd = s->bufs_fd.fd = -1;
	s->active = 1;
	lock();
	err = marker__tr_map(s, 0);
	if (err == -ENOENT && s->dir_fd.fd >= 0 && faccessat(s->dir_fd.fd, ".buffers", F_OK, 0))
		err = 0; /* nothing to recover: a finished trace, or none */
	else if (!err)
		err = finish(s, "recovered");
	unlock();
	session_free(s);
	return err;
}

/*
 * fork: the child must not write into its parent's buffers, nor wait for
 * tr_lock (init.c calls these in the library's lock order).
 */
void marker__tracer_before_fork(void)
{
	lock();
}

void marker__tracer_after_fork_parent(void)
{
	unlock();
}

void marker__tracer_env_after_fork(void);

void marker__tracer_after_fork_child(void)
{
	marker__tr_thread_forget(); /* the child's one thread has a tid of its own */
	if (cur) {
		__atomic_store_n(&cur->active, 0, __ATOMIC_RELAXED);
		marker__tr_fast_update(cur);
		cur->consumer_running = 0; /* threads do not survive fork */
	}
	unlock();
	/* In a recorded process tree, the child's own trace from here (tracer_env.c). */
	marker__tracer_env_after_fork();
}
