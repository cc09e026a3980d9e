/*
 * off_sites.c - one workload, instrumented in one way per build.
 *
 * Compiled once per kind with -DKIND_<kind> -DKIND=<kind>: the loop is the
 * same text every time and only SITE() differs, so the difference between
 * two builds is the cost of the instrumentation and nothing else.  Each
 * build defines loop_<kind>_1 (one site per iteration) and loop_<kind>_16
 * (16 sites per iteration: dense code, where a site's cost can no longer
 * hide behind the loop's own latency).  The loops are noinline so that
 * callgrind can attribute instructions to them, and nothing is called in
 * them while the instrumentation is off.
 *
 * Every site gets the same arguments: two ints and a 16-byte string.
 */
#include <stdint.h>
#include "off_kinds.h"

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define CAT3(a, b, c) CAT(CAT(a, b), c)

static const char payload[] __attribute__((unused)) = "payload-16bytes"; /* 15 chars + NUL */

#if defined(KIND_none)
#define SITE(k, a, b) do { } while (0)

#elif defined(KIND_flag)
/* What a careful program does by hand: a relaxed load of a global. */
extern int bench_flag[17];
void bench_flag_probe(int a, int b, const char *s);
#define SITE(k, a, b)                                                           \
	do {                                                                    \
		if (__builtin_expect(__atomic_load_n(&bench_flag[k], __ATOMIC_RELAXED), 0)) \
			bench_flag_probe(a, b, payload);                        \
	} while (0)

#elif defined(KIND_sdt)
#include <sys/sdt.h>
#define SITE(k, a, b) STAP_PROBE3(bench, CAT(off_, k), a, b, payload)

#elif defined(KIND_sdtsem)
/*
 * SDT with a semaphore: the note records the counter's address and a
 * tracer (bpftrace, perf, gdb) increments it when it attaches, so that
 * the arguments are computed only then.  Defined here as dtrace -G would.
 */
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
#define SEM(k) CAT3(bench_off_, k, _semaphore)
#define SEMDEF(k) \
	__extension__ volatile unsigned short SEM(k) __attribute__((section(".probes"), used));
SEMDEF(0) SEMDEF(1) SEMDEF(2) SEMDEF(3) SEMDEF(4) SEMDEF(5) SEMDEF(6) SEMDEF(7)
SEMDEF(8) SEMDEF(9) SEMDEF(10) SEMDEF(11) SEMDEF(12) SEMDEF(13) SEMDEF(14) SEMDEF(15)
SEMDEF(16)
#define SITE(k, a, b)                                                   \
	do {                                                            \
		if (__builtin_expect(SEM(k), 0))                        \
			STAP_PROBE3(bench, CAT(off_, k), a, b, payload); \
	} while (0)

#elif defined(KIND_lttng)
#include "bench_tp.h"
#define SITE(k, a, b) tracepoint(bench, CAT(off_, k), a, b, payload)

#elif defined(KIND_generic) || defined(KIND_immediate) || defined(KIND_jump)
#include <markers.h>
#define SITE(k, a, b) \
	CAT(trace_mark_, KIND)(CAT3(KIND, _off_, k), "%d %d %s", a, b, payload)

#else
#error "define KIND_<kind>"
#endif

/* LTTng's sparse-loop event is named off_s; every other kind uses index 16. */
#ifdef KIND_lttng
#define SPARSE s
#else
#define SPARSE 16
#endif

/* The loop's own work: a short dependency chain the compiler cannot fold. */
#define WORK(acc, i)                                    \
	do {                                            \
		acc += (i) ^ (acc >> 7);                \
		__asm__ volatile("" : "+r"(acc));       \
	} while (0)

__attribute__((noinline)) uint64_t CAT3(loop_, KIND, _1)(uint64_t n)
{
	uint64_t acc = 1;

	for (uint64_t i = 0; i < n; i++) {
		WORK(acc, i);
		SITE(SPARSE, (int)i, (int)acc);
	}
	return acc;
}

__attribute__((noinline)) uint64_t CAT3(loop_, KIND, _16)(uint64_t n)
{
	uint64_t acc = 1;

	for (uint64_t i = 0; i < n; i++) {
		WORK(acc, i);
		SITE(0, (int)i, (int)acc);
		SITE(1, (int)i, (int)acc + 1);
		SITE(2, (int)i, (int)acc + 2);
		SITE(3, (int)i, (int)acc + 3);
		SITE(4, (int)i, (int)acc + 4);
		SITE(5, (int)i, (int)acc + 5);
		SITE(6, (int)i, (int)acc + 6);
		SITE(7, (int)i, (int)acc + 7);
		SITE(8, (int)i, (int)acc + 8);
		SITE(9, (int)i, (int)acc + 9);
		SITE(10, (int)i, (int)acc + 10);
		SITE(11, (int)i, (int)acc + 11);
		SITE(12, (int)i, (int)acc + 12);
		SITE(13, (int)i, (int)acc + 13);
		SITE(14, (int)i, (int)acc + 14);
		SITE(15, (int)i, (int)acc + 15);
	}
	return acc;
}
