/*
 * progress.h - what `markers record` and `markers stats` print about a
 * trace: the live line while recording, the table of markers after.
 */
#ifndef MARKERS_CLI_PROGRESS_H
#define MARKERS_CLI_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

#include "trace_summary.h"

/* The live counters of a recording, from DIR/.stats (docs/trace-format.md). */
struct live_stats {
	uint64_t recorded, discarded, bytes;
	char state[32]; /* "recording", "stopped", "recovered", "disk-full", "write-error",
			   "failed" (could not start), or "" */
	char error[32]; /* errno name of the first failed write ("ENOSPC"), or "" */
	long pid;
	uint64_t buffers; /* bytes of buffer memory the session holds while it records */
	uint64_t filtered; /* events its filters rejected */
};

/* Read DIR/.stats.  Returns 0, or -errno (no such file yet: -ENOENT). */
int live_stats_read(const char *dir, struct live_stats *ls);

/*
 * A trace whose recording could not write everything (a full disk, an I/O
 * error: DIR/.stats says so) gets one line on stderr, after "PROG record: ".
 * Returns 1 then, else 0.
 */
int trace_incomplete(const char *dir);

/* "1.5 KiB", "12.0 MiB"... */
void format_size(uint64_t bytes, char *buf, size_t len);

/* "1,234,567" */
void format_count(uint64_t n, char *buf, size_t len);

/*
 * The cells of process @pc's row in a summary: its events, its losses ("?"
 * while its trace is unfinished: never 0 for events nobody counted), and
 * its buffer memory ("-" when the trace does not say).
 */
void format_proc_cells(const struct tr_trace *t, const struct tr_proc_count *pc, char ev[32],
		       char lost[32], char buf[32]);

/*
 * The markers of @s, most frequent first: count, rate, share; at most
 * @max_rows rows (0: all), then one "... N more" row.
 */
void print_marker_table(FILE *f, const struct tr_summary *s, size_t max_rows);

#endif /* MARKERS_CLI_PROGRESS_H */
