/*
 * pairs.h - match BEGIN and END events of a trace into pairs (latency,
 * slices): `markers stats --pair`, `markers export --pair`, and any
 * exporter that turns pairs into slices.
 *
 *	struct pair_spec spec;
 *	struct pair_matcher *pm;
 *	struct pair_match m;
 *	if (pair_spec_parse("req_start,req_done:id", &spec, err, sizeof(err)) < 0) ...
 *	pm = pair_matcher_new(&spec);
 *	while (tr_next(t, &ev) > 0)
 *		if (pair_feed(pm, &ev, &m) > 0)
 *			use(m.begin, m.end, m.end->ts - m.begin->ts);
 *	pair_counts(pm, &counts);	// matched, unmatched begins and ends
 *	pair_matcher_free(pm);
 *
 * How events pair:
 *   - with KEY: a BEGIN and the next END of the same process whose field
 *     KEY has the same value (an integer or a string);
 *   - without KEY: a BEGIN and the next END of the same thread, innermost
 *     first (nesting: BEGIN BEGIN END END pairs the inner two first).
 * Several BEGINs open with one key (or one thread) pair last-in first-out.
 * The thread and the process are the reader's (tr_event.tid and .pid: the
 * vtid and vpid contexts, or the trace's pid); a trace without thread ids
 * pairs by CPU.  KEY is looked up in the marker's fields.  Unmatched: ENDs with no open BEGIN, BEGINs still open at the end,
 * and events whose KEY field is missing (counted apart).
 *
 * Not thread-safe: one matcher per reader.
 */
#ifndef MARKERS_CLI_PAIRS_H
#define MARKERS_CLI_PAIRS_H

#include <stddef.h>
#include <stdint.h>

#include "trace_reader.h"

struct pair_spec {
	char *begin, *end; /* marker names */
	char *key;         /* field name, or NULL: by thread and nesting */
};

/*
 * pair_spec_parse - "BEGIN,END" or "BEGIN,END:KEY" into @spec (free with
 * pair_spec_free).  Returns 0, or -1 with one line in @err.
 */
int pair_spec_parse(const char *arg, struct pair_spec *spec, char *err, size_t errlen);
void pair_spec_free(struct pair_spec *spec);

/* A BEGIN event kept until its END comes: a deep copy of what tr_next gave. */
struct pair_event {
	int64_t ts;
	int64_t cpu;
	int64_t pid, tid; /* -1 when the trace has none */
	unsigned proc;    /* the process trace (tr_proc()) */
	const char *name;
	const struct tr_node *fields; /* the contexts' (ncontext of them), then the payload */
	size_t nfields, ncontext;
};

struct pair_match {
	const struct pair_event *begin; /* valid until the next pair_feed() */
	const struct tr_event *end;     /* the event just fed */
	int64_t pid, tid;               /* of the END (-1: unknown) */
	int64_t latency_ns;             /* end->ts - begin->ts */
};

struct pair_counts {
	uint64_t matched;
	uint64_t open_begins;   /* BEGINs never ended (so far) */
	uint64_t orphan_ends;   /* ENDs with no open BEGIN */
	uint64_t missing_key;   /* BEGINs or ENDs without the KEY field */
};

struct pair_matcher;

/* A matcher for @spec (which must outlive it).  NULL: no memory. */
struct pair_matcher *pair_matcher_new(const struct pair_spec *spec);

/*
 * Feed the next event, in time order.  Returns 1 with @out filled when
 * @ev is an END that closes a pair, 0 otherwise, -1 out of memory.
 */
int pair_feed(struct pair_matcher *pm, const struct tr_event *ev, struct pair_match *out);

void pair_counts(const struct pair_matcher *pm, struct pair_counts *c);
void pair_matcher_free(struct pair_matcher *pm);

#endif /* MARKERS_CLI_PAIRS_H */
