/*
 * trace_summary.h - totals of a whole recording, for `markers stats` and
 * the summary of `markers record`: per marker, per process, per stream, and
 * events over time.
 */
#ifndef MARKERS_CLI_TRACE_SUMMARY_H
#define MARKERS_CLI_TRACE_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "trace_reader.h"

#define TR_HIST_BUCKETS 1024

struct tr_marker_count {
	const char *name;
	uint64_t count;
	int64_t first, last; /* ns */
};

/* One process of the recording, as its events and its .stats say. */
struct tr_proc_count {
	unsigned proc;       /* tr_proc() index */
	uint64_t events, lost_events, lost_packets;
	int64_t first, last; /* ns; first > last when it has no event */
};

struct tr_summary {
	uint64_t events, lost_events, lost_packets;
	int64_t first, last; /* ns; first > last when there is no event */
	struct tr_marker_count *markers; /* by count, most first */
	size_t nmarkers;
	struct tr_proc_count *procs; /* in tr_proc() order, selected processes only */
	size_t nprocs;
	uint64_t *stream_lost; /* per stream (tr_stream_name()) */
	int64_t *stream_cpu;   /* per stream: its cpu_id, or -1 */
	/*
	 * Events over time: hist[i] counts [first + i*width, first + (i+1)*width),
	 * for i < nhist; the last bucket in use holds the last event.
	 */
	uint64_t hist[TR_HIST_BUCKETS], hist_lost[TR_HIST_BUCKETS];
	int64_t width;
	size_t nhist;
};

/*
 * tr_summarize - read all of @t (from where it is) into @s.
 * Returns 0, or -1: the trace is damaged (tr_error()), or out of memory;
 * @s then holds what came before.  Free with tr_summary_free().
 */
int tr_summarize(struct tr_trace *t, struct tr_summary *s);
void tr_summary_free(struct tr_summary *s);

/*
 * Is the end of process trace @p unknown?  True when its .stats (our
 * tracer's) still says "recording": its process died, or is still running,
 * and nobody finished its trace: what it committed after the last packet
 * written out, and how many events it dropped since, nobody counted.
 */
int tr_proc_unfinished(const struct tr_process *p);

/*
 * The events the filters of @s's processes rejected (their .stats
 * `filtered`): neither recorded nor lost, so emitted = events + lost +
 * filtered.  0 when no filter rejected anything, or no .stats says.
 */
uint64_t tr_summary_filtered(const struct tr_trace *t, const struct tr_summary *s);

#endif /* MARKERS_CLI_TRACE_SUMMARY_H */
