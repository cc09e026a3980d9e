/*
 * bench_markers.h - what the benchmarks that link the markers library share
 * about it (the others include bench_util.h only).
 */
#ifndef BENCH_MARKERS_H
#define BENCH_MARKERS_H

#include <markers.h>

static int bench_no_marker(const struct marker_info *m, void *arg)
{
	(void)m;
	(void)arg;
	return 0;
}

/*
 * List the markers, doing nothing with them.  The library's thread rewrites
 * the start-up's sites within a fraction of a millisecond natively; under
 * valgrind, which runs one thread at a time, maybe only after the measured
 * calls.  A listing rewrites them at once, so that every run measures the
 * sites as they stay.
 */
static inline void bench_settle_sites(void)
{
	marker_foreach(bench_no_marker, NULL);
}

#endif
