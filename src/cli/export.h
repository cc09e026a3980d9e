/*
 * export.h - what the exporters share: export.c (`markers export`, Chrome
 * JSON) and export_perfetto.c (Perfetto protobuf).
 */
#ifndef MARKERS_CLI_EXPORT_H
#define MARKERS_CLI_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include "pairs.h"
#include "trace_reader.h"

/*
 * Slices from markers that pair by name: NAME_start with NAME_done (also
 * _begin/_enter/_entry with _end/_stop/_exit/_finish/_return), matched by
 * an `id`-like field when they have one, else innermost-first on the same
 * thread (CPU when events carry no thread id).  Memory: one entry per slice
 * still open.
 */
enum pair_role { PAIR_NONE, PAIR_START, PAIR_END };

struct open_slice;
struct slice_start {
	int64_t ts;
	int64_t pid, tid; /* the start's: tr_event's, else its trace's number and its CPU */
	unsigned proc;    /* tr_event.proc */
};
struct pairs {
	struct open_slice **buckets;
	size_t nbuckets;
	uint64_t emitted; /* slices closed so far */
};

/* Returns 0, or -1 (out of memory). */
int pairs_init(struct pairs *p);
void pairs_free(struct pairs *p);
/* Whether the marker @name starts or ends a slice; @prefix: the slice's name length. */
enum pair_role pair_role(const char *name, size_t *prefix);
/* Returns 0, or -1 (out of memory). */
int pair_start(struct pairs *p, const struct tr_event *ev, size_t prefix);
/*
 * pair_end - close the slice that @ev ends.
 * Returns 1 with its @start, 0 when its start is not in the trace, -1 (out
 * of memory).
 */
int pair_end(struct pairs *p, const struct tr_event *ev, size_t prefix, struct slice_start *start);

/* The --pair options: each a spec and its matcher. */
#define MAX_PAIRS 8
struct pair_opts {
	struct pair_spec spec[MAX_PAIRS];
	struct pair_matcher *pm[MAX_PAIRS];
	size_t n;
};

/* One line per --pair on stderr: slices made, BEGINs and ENDs left unmatched. */
void pair_opts_report(const struct pair_opts *po);

/*
 * export_perfetto - write @t to @f as a Perfetto protobuf trace (a stream of
 * Trace.packet fields), with slices when @pairs_on (those of @po when it has
 * any, else the NAME_start/NAME_done guess); @dir names the trace in
 * messages.  Returns the exit status (messages printed on stderr).
 */
int export_perfetto(struct tr_trace *t, FILE *f, const char *dir, int pairs_on,
		    const struct pair_opts *po);

#endif /* MARKERS_CLI_EXPORT_H */
