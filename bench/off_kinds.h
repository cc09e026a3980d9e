/* off_kinds.h - the ways the off-cost workload is instrumented, in table order. */
#ifndef BENCH_OFF_KINDS_H
#define BENCH_OFF_KINDS_H

#include <stdint.h>

#define BENCH_OFF_KINDS(X)  \
	X(none)             \
	X(flag)             \
	X(sdt)              \
	X(sdtsem)           \
	X(lttng)            \
	X(generic)          \
	X(immediate)        \
	X(jump)

#define BENCH_OFF_DECLARE(kind)              \
	uint64_t loop_##kind##_1(uint64_t n); \
	uint64_t loop_##kind##_16(uint64_t n);
BENCH_OFF_KINDS(BENCH_OFF_DECLARE)

#endif
