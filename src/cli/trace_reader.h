/*
 * trace_reader.h - read a recording without babeltrace2: one CTF 1.8 trace,
 * or a directory of them (one per process: DIR/NAME-PID-DATE/, as
 * `markers record` writes a process tree), every stream file mapped,
 * decoded by the types of its own trace's metadata, and the events of all
 * streams of all processes merged in timestamp order.
 *
 *	struct tr_trace *t;
 *	struct tr_event ev;
 *	if (tr_open(dir, &t, err, sizeof(err)) < 0) ...
 *	tr_select(t, pids, npids);			(optional: some processes only)
 *	while ((rc = tr_next(t, &ev)) > 0) {
 *		ev.name, ev.ts, ev.cpu, ev.pid, ev.tid, tr_proc(t, ev.proc)->name,
 *		ev.fields[ev.ncontext .. ev.nfields)	(the marker's arguments)
 *	}
 *	if (rc < 0) ... tr_error(t) ...
 *	tr_close(t);
 *
 * Built for our tracer's traces, but written against the metadata rather
 * than against one layout, so it reads other CTF 1.8 writers' traces too
 * (LTTng-UST's per-PID directories among them).  A corrupted or truncated
 * trace is an error with a reason, never a crash: every read is checked
 * against its packet's content size.
 *
 * Summaries over a whole recording are in trace_summary.h; time and number
 * formatting in trace_format.h.
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
	unsigned proc;   /* the process trace, see tr_proc() */
	int64_t pid;     /* a vpid/pid context field, else the trace's env vpid, else -1 */
	int64_t tid;     /* a vtid/tid context field, else -1 */
	/* TR_EVENT */
	const char *name;
	uint64_t id;
	const struct tm_event *cls;
	/*
	 * Every decoded field: first the @ncontext nodes of the stream's and the
	 * event's contexts (vtid, when the tracer records it), then the payload,
	 * the marker's arguments.
	 */
	const struct tr_node *fields;
	size_t nfields, ncontext;
	/* TR_LOST */
	uint64_t lost_events;  /* from events_discarded */
	uint64_t lost_packets; /* from gaps in packet_seq_num */
};

/* One process's trace in a recording (a directory holding a metadata file). */
struct tr_process {
	const char *dir;  /* its directory */
	const char *name; /* env procname, else the directory's name */
	int64_t pid;      /* env vpid, or -1 */
	const struct tm_trace *meta;
	unsigned first_stream, nstreams; /* its streams: a range of tr_stream_name()'s */
	uint64_t size;    /* bytes of its metadata and stream files */
	/* DIR/.stats as the tracer left it (docs/trace-format.md), when has_stats */
	int has_stats;
	char state[32]; /* "recording" (or died while recording), "stopped", "recovered" */
	uint64_t recorded, discarded, buffers;
	uint64_t filtered; /* rejected by the recording's filters: neither recorded nor lost */
	int selected; /* by tr_select() */
};

struct tr_trace;

/*
 * tr_open - open the recording in @dir: @dir itself when it holds a metadata
 * file, else every directory below it that does (up to 4 levels, hidden
 * ones and symbolic links skipped), as one recording.
 * Returns 0, or -1 with one line in @err ("DIR: not a trace (no metadata ...)").
 */
int tr_open(const char *dir, struct tr_trace **out, char *err, size_t errlen);

/*
 * tr_select - read only the processes whose pid is one of @pids (@npids of
 * them; 0: all again).  Call before the first tr_next().
 * Returns how many processes are selected, or -1 after tr_next() began.
 */
int tr_select(struct tr_trace *t, const int64_t *pids, size_t npids);
/* Was tr_select() called with pids (tr_process.selected says which)? */
int tr_select_active(const struct tr_trace *t);

/*
 * tr_next - the next event in timestamp order over every selected process
 * (ties: stream order).  @ev and what it points to stay valid until the
 * next call.  Returns 1, 0 at the end, -1 on a corrupted or truncated
 * trace (tr_error()).
 */
int tr_next(struct tr_trace *t, struct tr_event *ev);

const char *tr_error(const struct tr_trace *t);
/* Set what tr_error() says (layers above the reader: "out of memory"); returns -1. */
int tr_set_error(struct tr_trace *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The metadata of the first process trace (the only one of a single trace). */
const struct tm_trace *tr_metadata(const struct tr_trace *t);
size_t tr_nprocs(const struct tr_trace *t);
const struct tr_process *tr_proc(const struct tr_trace *t, unsigned i); /* NULL past the end */
size_t tr_nstreams(const struct tr_trace *t);
const char *tr_stream_name(const struct tr_trace *t, unsigned i);
unsigned tr_stream_proc(const struct tr_trace *t, unsigned i);
uint64_t tr_size(const struct tr_trace *t); /* bytes of the metadata and stream files */
void tr_close(struct tr_trace *t);

#endif /* MARKERS_CLI_TRACE_READER_H */
