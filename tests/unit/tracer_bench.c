/*
 * Numbers of the tracer (printed, never asserted: a benchmark, not a timed
 * test).  name=... ns_per_op=... lines like bench/:
 *   - ns per recorded event, 2 ints + a 16-byte string, 1 and 2 threads,
 *     against the floor of rdtsc + a 32-byte copy into a per-thread ring;
 *   - trace bytes per event (2 ints + an 11-character string);
 *   - events lost at a sustained 10^6 events/s with the default buffers.
 * MARKERS_TEST_SCALE makes the runs longer.  The only assertions are that
 * the recording worked.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <markers.h>
#include <markers/tracer.h>
#include "tap.h"

static long iters;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void *loop(void *arg)
{
	const char *s = "0123456789abcdef"; /* 16 bytes */

	(void)arg;
	for (long i = 0; i < iters; i++)
		trace_mark(bench_ev, "a %d b %d s %s", (int)i, (int)(i >> 3), s);
	return NULL;
}

/* The floor: rdtsc (or the clock) and a 32-byte copy into a per-thread ring. */
static __thread char ring[1 << 16];
static __attribute__((noinline)) void floor_event(long i, const char *s)
{
	static __thread size_t at;
	struct {
		uint64_t ts;
		int a, b;
		char s[16];
	} ev;

#if defined(__x86_64__) || defined(__i386__)
	ev.ts = __builtin_ia32_rdtsc();
#else
	ev.ts = (uint64_t)now_ns();
#endif
	ev.a = (int)i;
	ev.b = (int)(i >> 3);
	memcpy(ev.s, s, 16);
	memcpy(ring + at, &ev, sizeof(ev));
	at = (at + sizeof(ev)) & (sizeof(ring) - 1);
	__asm__ volatile("" ::: "memory");
}

static double run_threads(int n)
{
	pthread_t th[8];
	double t0 = now_ns();

	for (int i = 0; i < n; i++)
		pthread_create(&th[i], NULL, loop, NULL);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	return (now_ns() - t0) / iters;
}

int main(void)
{
	char dir[] = "/tmp/markers-bench-XXXXXX", cmd[600];
	struct marker_tracer_options o = {.size = sizeof(o), .dir = dir,
					  .subbuf_size = 1 << 20, .nsubbufs = 32};
	struct marker_tracer_stats st = {.size = sizeof(st)};
	double floor_ns, ns1, ns2, t0;
	const char *eleven = "hello world";
	long rate_events;

	plan(4);
	iters = scale(200000);
	if (!mkdtemp(dir))
		return 1;

	t0 = now_ns();
	for (long i = 0; i < iters; i++)
		floor_event(i, "0123456789abcdef");
	floor_ns = (now_ns() - t0) / iters;
	printf("# name=floor_rdtsc_copy32 ns_per_op=%.1f\n", floor_ns);

	/* Big buffers: the cost of recording, not of discarding. */
	is_int(marker_tracer_start(&o), 0, "start");
	marker_tracer_enable("bench_ev");
	ns1 = run_threads(1);
	ns2 = run_threads(2);
	marker_tracer_stop();
	marker_tracer_get_stats(&st);
	printf("# name=tracer_2int_str16_1thread ns_per_op=%.1f ratio_vs_floor=%.2f\n", ns1,
	       ns1 / floor_ns);
	printf("# name=tracer_2int_str16_2threads ns_per_op=%.1f (wall per event per thread)\n",
	       ns2);
	printf("# recorded %llu discarded %llu\n", (unsigned long long)st.recorded,
	       (unsigned long long)st.discarded);
	ok(st.recorded + st.discarded == (uint64_t)iters * 3, "every event accounted for");

	/* Bytes per event: 2 ints + an 11-character string. */
	o.subbuf_size = 0;
	o.nsubbufs = 0;
	marker_tracer_start(&o);
	marker_tracer_enable("bench_sz");
	for (int i = 0; i < 100000; i++)
		trace_mark(bench_sz, "a %d b %d s %s", i, -i, eleven);
	marker_tracer_stop();
	marker_tracer_get_stats(&st);
	printf("# name=tracer_bytes_per_event_2int_str11 bytes=%.2f (packet headers included)\n",
	       (double)st.bytes / (double)st.recorded);
	ok(st.recorded + st.discarded == 100000, "size run accounted for");

	/* Sustained 10^6 events/s with the default buffers, for 0.5 s (x scale). */
	marker_tracer_start(&o);
	marker_tracer_enable("bench_rate");
	rate_events = scale(500000);
	t0 = now_ns();
	for (long i = 0; i < rate_events; i++) {
		/* Paced in bursts of 100: each event at its due time. */
		if (i % 100 == 0)
			while (now_ns() - t0 < i * 1000.0)
				;
		trace_mark(bench_rate, "a %d b %d s %s", (int)i, 0, eleven);
	}
	marker_tracer_stop();
	marker_tracer_get_stats(&st);
	printf("# name=tracer_loss_at_1M_per_s events=%ld lost=%llu\n", rate_events,
	       (unsigned long long)st.discarded);
	ok(st.recorded + st.discarded == (uint64_t)rate_events, "rate run accounted for");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd)) {
	}
	return done();
}
