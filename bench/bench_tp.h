/*
 * bench_tp.h - the LTTng-UST 2.13 tracepoint provider of the benchmarks.
 *
 * LTTng-UST generates its probes by including this header several times
 * (TRACEPOINT_HEADER_MULTI_READ): that is its documented way, kept here as
 * a user of LTTng would write it, so the comparison is with LTTng as shipped.
 * Every event has the benchmark's payload: two ints and a string.
 */
#undef TRACEPOINT_PROVIDER
#define TRACEPOINT_PROVIDER bench

#undef TRACEPOINT_INCLUDE
#define TRACEPOINT_INCLUDE "./bench_tp.h"

#if !defined(BENCH_TP_H) || defined(TRACEPOINT_HEADER_MULTI_READ)
#define BENCH_TP_H

#include <lttng/tracepoint.h>

TRACEPOINT_EVENT_CLASS(bench, payload,
	TP_ARGS(int, a, int, b, const char *, s),
	TP_FIELDS(ctf_integer(int, a, a) ctf_integer(int, b, b) ctf_string(s, s)))

#define BENCH_TP(name) \
	TRACEPOINT_EVENT_INSTANCE(bench, payload, name, TP_ARGS(int, a, int, b, const char *, s))

BENCH_TP(on)	/* the recorded event */
BENCH_TP(sw)	/* switched on and off by `lttng enable-event` */
BENCH_TP(off_s)	/* the one site of the sparse loop */
BENCH_TP(off_0) BENCH_TP(off_1) BENCH_TP(off_2) BENCH_TP(off_3)
BENCH_TP(off_4) BENCH_TP(off_5) BENCH_TP(off_6) BENCH_TP(off_7)
BENCH_TP(off_8) BENCH_TP(off_9) BENCH_TP(off_10) BENCH_TP(off_11)
BENCH_TP(off_12) BENCH_TP(off_13) BENCH_TP(off_14) BENCH_TP(off_15)

#endif /* BENCH_TP_H */

#include <lttng/tracepoint-event.h>
