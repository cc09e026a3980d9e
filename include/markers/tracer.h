/*
 * markers/tracer.h - the built-in tracer: record markers into per-CPU ring
 * buffers and write CTF 1.8 traces (babeltrace2, Trace Compass).
 *
 * One recording session per process at a time.  The environment can start
 * one before main() (see the README: MARKERS_RECORD and friends); the
 * control channel starts one for `markers record -p PID`.
 *
 * Concurrency: start/stop/enable/disable are thread-safe, not
 * async-signal-safe.  Recording itself (the probe) is lock-free and
 * async-signal-safe.
 */
#ifndef MARKERS_TRACER_H
#define MARKERS_TRACER_H

#include <stddef.h>
#include <stdint.h>
#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

struct marker_tracer_options {
	size_t size;        /* sizeof(struct marker_tracer_options): lets the struct grow */
	const char *dir;    /* trace directory; created if missing */
	size_t subbuf_size; /* bytes per sub-buffer (one CTF packet); 0: default */
	unsigned nsubbufs;  /* sub-buffers per CPU; 0: default */
	int overwrite;      /* 0: discard new events when full (counted); 1: flight recorder */
};

/* Start a session.  Returns 0, -EBUSY (one is running), -EINVAL, or -errno of the I/O. */
MARKER_API int marker_tracer_start(const struct marker_tracer_options *opts);

/* Record the markers matching @glob (fnmatch).  Returns how many matched now, or -errno. */
MARKER_API int marker_tracer_enable(const char *glob);
MARKER_API int marker_tracer_disable(const char *glob);

/* Stop: flush every buffer, finish the trace files.  Returns 0 or -errno. */
MARKER_API int marker_tracer_stop(void);

struct marker_tracer_stats {
	size_t size;          /* sizeof(struct marker_tracer_stats) */
	uint64_t recorded;    /* events written into buffers */
	uint64_t discarded;   /* events lost (buffer full, or overwritten) */
	uint64_t bytes;       /* trace bytes written to files */
};
MARKER_API int marker_tracer_get_stats(struct marker_tracer_stats *stats);

#ifdef __cplusplus
}
#endif
#endif /* MARKERS_TRACER_H */
