/*
 * markers/tracer.h - the built-in tracer: record markers into per-CPU ring
 * buffers and write CTF 1.8 traces (babeltrace2, Trace Compass).
 *
 * One recording session per process at a time.  The environment can start
 * one before main() (MARKERS_RECORD and friends, docs/trace-format.md,
 * which also describes the files); the control channel starts one for
 * `markers record -p PID`.
 *
 * Concurrency: every function here is thread-safe, none is async-signal-safe,
 * none may be called from a probe.  Recording itself (the probe) is
 * lock-free and async-signal-safe, with no system call.
 *
 * fork(): the child does not record into its parent's session; it may
 * start its own (marker_tracer_start() drops the inherited one).
 */
#ifndef MARKERS_TRACER_H
#define MARKERS_TRACER_H

#include <stddef.h>
#include <stdint.h>
#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Bounds of the buffer sizes, per CPU (the buffers are files in /dev/shm,
 * allocated in full at start): beyond them marker_tracer_start() answers
 * -EINVAL at once, instead of taking seconds and gigabytes.
 */
#define MARKER_TRACER_MAX_SUBBUF_SIZE (64u << 20)  /* bytes per sub-buffer */
#define MARKER_TRACER_MAX_NSUBBUFS 4096u           /* sub-buffers per CPU */
#define MARKER_TRACER_MAX_BUFFER_SIZE (256u << 20) /* sub-buffer size x count, per CPU */

struct marker_tracer_options {
	size_t size;        /* sizeof(struct marker_tracer_options): lets the struct grow */
	const char *dir;    /* trace directory, created if missing; NULL: ./markers-trace-PID */
	size_t subbuf_size; /* bytes per sub-buffer (one CTF packet), a power of two
			       >= 4096; 0: 256 KiB */
	unsigned nsubbufs;  /* sub-buffers per CPU, >= 2; 0: 8 */
	int overwrite;      /* 0: discard new events when full (counted); 1: flight recorder */
	unsigned live_period_ms; /* 0: a packet is written when its sub-buffer is full;
				    else also every this many ms, full or not (live readers;
				    discard mode only) */
};

/*
 * marker_tracer_start - create the trace directory's files and the buffers
 * (one per possible CPU) and start the consumer thread.  Records nothing
 * until marker_tracer_enable().  A previous trace in @dir is replaced.
 * Returns 0, -EBUSY (a session runs in this process, or another process
 * records into @dir), -EINVAL (sizes: see the bounds above), -ENOMEM (the
 * buffers of all CPUs would take more than half the memory), -EPERM (@dir belongs to
 * another user, or others may write into it and it has no sticky bit: they
 * could plant links where the trace's files go), -ELOOP (@dir is a
 * symbolic link), or -errno of the I/O (-ENOSPC: no room for the buffers,
 * which are allocated in full here).
 */
MARKER_API int marker_tracer_start(const struct marker_tracer_options *opts);

/*
 * Record the markers matching @glob (fnmatch), now and as objects load.
 * Returns how many markers matched now (>= 0), -ENOENT (no session),
 * -EINVAL, -ENOMEM.  Enabling the same glob twice is not an error.
 */
MARKER_API int marker_tracer_enable(const char *glob);
/*
 * marker_tracer_enable_filter - record the markers matching @glob whose
 * events pass @filter, an expression on their fields (README.md, "Filters":
 * `len > 512 && peer == "10.*"`), tested before the event takes room in a
 * buffer; events that fail it are counted in marker_tracer_stats.filtered,
 * not as discarded.  A marker that several enabled globs match is recorded
 * when any of their filters (or a glob enabled without one) accepts the
 * event.  @filter NULL or "": no filter.  Returns how many markers matched now (>= 0), -ENOENT (no
 * session), -EINVAL (@filter does not parse, or names a field that a
 * loaded marker matching @glob does not have, or compares it with the
 * wrong type; a marker loaded later that lacks the field records nothing),
 * -ENOSPC (1024 globs in the session), -ENOMEM.
 */
MARKER_API int marker_tracer_enable_filter(const char *glob, const char *filter);
/* Undo marker_tracer_enable(@glob) (and every filter given with it).  Returns 0 or -ENOENT. */
MARKER_API int marker_tracer_disable(const char *glob);

/*
 * marker_tracer_stop - disconnect the probe, wait until no thread records,
 * write every buffer out, finish metadata and .stats, remove the buffers.
 * Returns 0, -ENOENT (no session), or -errno of the I/O: the first write
 * that failed while recording or now (-ENOSPC on a full disk, -EDQUOT,
 * -EIO).  Even then the trace is finished: the stream files hold whole
 * packets only, and every event that could not be written is counted as
 * discarded (docs/trace-format.md).
 */
MARKER_API int marker_tracer_stop(void);

/*
 * marker_tracer_recover - finish the trace in @dir of a process that died
 * while recording (even by kill -9): every event it committed is written.
 * Returns 0 (also when there was nothing to recover), -EBUSY (a live
 * process still records there), -ENOENT (no such directory), -EINVAL (not
 * a trace of ours, or a buffer link that the tracer did not make), -EPERM
 * (@dir or its files are not the caller's, as for marker_tracer_start), or
 * -errno of the I/O.
 */
MARKER_API int marker_tracer_recover(const char *dir);

/*
 * marker_tracer_gc - remove the caller's buffer files in /dev/shm that no
 * recovery can use any more: the process that recorded into them is gone
 * (the pid and start time in their names match no live process) and its
 * trace directory no longer links to them (deleted without
 * marker_tracer_recover).  A live process's buffers are never touched, nor
 * those a trace directory still links to (recover it), nor anything but a
 * regular file of the caller's (a symbolic link is never followed).
 * @report, if not NULL, is called for each file removed with its path and
 * the trace directory it belonged to ("" if unknown).
 * Returns the number of files removed, or -errno (-ENOMEM, or of /dev/shm).
 */
MARKER_API int marker_tracer_gc(void (*report)(const char *path, const char *dir, void *arg),
				void *arg);

struct marker_tracer_stats {
	size_t size;          /* sizeof(struct marker_tracer_stats) */
	uint64_t recorded;    /* events committed into buffers */
	uint64_t discarded;   /* events lost (buffer full, or overwritten) */
	uint64_t bytes;       /* trace bytes written to the stream files */
	uint64_t filtered;    /* events that no filter accepted (not lost: not recorded by choice) */
};
/*
 * marker_tracer_snapshot - write the events that the buffers of the running
 * recording hold now as a trace of its own in @dir (created if missing),
 * while the recording goes on; as often as wanted.  For a flight recorder
 * (overwrite = 1): the snapshot holds the newest events, whole (an event
 * still being written is left out with its sub-buffer).  @stats (NULL, or
 * its size set): recorded = events in the snapshot, discarded = events of
 * the recording that it does not hold.
 * Returns 0, -ENOENT (no recording), -EINVAL (not in overwrite mode; @dir
 * NULL), -EEXIST (@dir holds a trace), -ENOMEM, or -errno of the I/O.
 */
MARKER_API int marker_tracer_snapshot(const char *dir, struct marker_tracer_stats *stats);

/*
 * The counters of the running session, or the exact final ones of the
 * last session stopped in this process (recorded + discarded = every event
 * the probe was called for).  Set stats->size first.  Returns 0 or -EINVAL.
 */
MARKER_API int marker_tracer_get_stats(struct marker_tracer_stats *stats);

#ifdef __cplusplus
}
#endif
#endif /* MARKERS_TRACER_H */
