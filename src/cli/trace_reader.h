/*
 * trace_reader.h - read a CTF 1.8 trace directory without babeltrace2:
 * every stream file mapped, decoded by the types of its metadata, and the
 * events of all streams merged in timestamp order.
 *
 *	struct tr_trace *t;
 *	struct tr_event ev;
 *	if (tr_open(dir, &t, err, sizeof(err)) < 0) ...
 *	while ((rc = tr_next(t, &ev)) > 0) ...
 *	if (rc < 0) ... tr_error(t) ...
 *	tr_close(t);
 *
 * Built for our tracer's traces, but written against the metadata rather
 * than against one layout, so it reads other CTF 1.8 writers' traces too.
 * A corrupted or truncated trace is an error with a reason, never a crash:
 * every read is checked against its packet's content size.
 */
#ifndef MARKERS_CLI_TRACE_READER_H
#define MARKERS_CLI_TRACE_READER_H

#include <stddef.h>
#include <stdint.h>

#include "trace_metadata.h"

/*
 * The fields of an event, flattened in order: the stream's event context,
 * the event's context, then its payload.  A struct or an array is a
 * TR_BEGIN_* node, its members, and a TR_END node.
 */
enum tr_node_kind {
	TR_SIGNED,
	TR_UNSIGNED,
	TR_FLOAT,
	TR_STRING, /* str, len (not NUL-terminated) */
	TR_ENUM,   /* str: the label (NULL when no mapping matches), s or u the value */
	TR_BEGIN_STRUCT,
	TR_BEGIN_ARRAY,
	TR_END,
};

struct tr_node {
	enum tr_node_kind kind;
	const char *name; /* NULL in an array; a leading '_' of CTF names removed */
	int base;         /* integers: 2, 8, 10, 16; TR_FLOAT: 32 or 64 bits */
	int is_signed;    /* TR_ENUM */
	union {
		int64_t s;
		uint64_t u;
		double d;
	};
	const char *str;
	size_t len;
};

enum tr_kind {
	TR_EVENT,
	TR_LOST, /* the tracer discarded events, or whole packets went missing, here */
};

struct tr_event {
	enum tr_kind kind;
	int64_t ts;      /* ns from the clock's origin (the Unix epoch for our tracer) */
	uint64_t cycles; /* the raw clock value */
	int64_t cpu;     /* packet context cpu_id, or -1 */
	unsigned stream; /* index, see tr_stream_name() */
	/* TR_EVENT */
	const char *name;
	uint64_t id;
	const struct tm_event *cls;
	const struct tr_node *fields;
	size_t nfields;
	/* TR_LOST */
	uint64_t lost_events;  /* from events_discarded */
	uint64_t lost_packets; /* from gaps in packet_seq_num */
};

struct tr_trace;

/*
 * tr_open - open the trace in @dir: parse its metadata, map its streams.
 * Returns 0, or -1 with one line in @err ("DIR: not a trace (no metadata)").
 */
int tr_open(const char *dir, struct tr_trace **out, char *err, size_t errlen);

/*
 * tr_next - the next event in timestamp order (ties: stream order).
 * @ev and what it points to stay valid until the next call.
 * Returns 1, 0 at the end, -1 on a corrupted or truncated trace (tr_error()).
 */
int tr_next(struct tr_trace *t, struct tr_event *ev);

const char *tr_error(const struct tr_trace *t);
const struct tm_trace *tr_metadata(const struct tr_trace *t);
size_t tr_nstreams(const struct tr_trace *t);
const char *tr_stream_name(const struct tr_trace *t, unsigned i);
uint64_t tr_size(const struct tr_trace *t); /* bytes of the metadata and stream files */
void tr_close(struct tr_trace *t);

/* @ns as "HH:MM:SS.nnnnnnnnn" in local time (@seconds: "SSSSSSSSSS.nnnnnnnnn"). */
void tr_format_time(int64_t ns, int seconds, char *buf, size_t len);

/* Totals of a whole trace, for `markers stats` and the summary of `markers record`. */
#define TR_HIST_BUCKETS 1024

struct tr_marker_count {
	const char *name;
	uint64_t count;
	int64_t first, last; /* ns */
};

struct tr_summary {
	uint64_t events, lost_events, lost_packets;
	int64_t first, last; /* ns; first > last when there is no event */
	struct tr_marker_count *markers; /* by count, most first */
	size_t nmarkers;
	uint64_t *stream_lost; /* per stream (tr_stream_name()) */
	int64_t *stream_cpu;   /* per stream: its cpu_id, or -1 */
	/* Events over time: hist[i] counts [first + i*width, first + (i+1)*width). */
	uint64_t hist[TR_HIST_BUCKETS], hist_lost[TR_HIST_BUCKETS];
	int64_t width;
	size_t nhist; /* buckets in use */
};

/*
 * tr_summarize - read all of @t (from where it is) into @s.
 * Returns 0, or -1: the trace is damaged (tr_error()), or out of memory;
 * @s then holds what came before.  Free with tr_summary_free().
 */
int tr_summarize(struct tr_trace *t, struct tr_summary *s);
void tr_summary_free(struct tr_summary *s);

/*
 * @d as the shortest %g that reads back as the same value: 6 to 9 digits for
 * a float (@is_float32), 15 to 17 for a double; "nan", "inf", "-inf".
 */
void tr_format_double(double d, int is_float32, char *buf, size_t len);

#endif /* MARKERS_CLI_TRACE_READER_H */
