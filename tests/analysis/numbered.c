/*
 * numbered - instrumented program with known events, for the tests of
 * filters, latency pairs, snapshots and recovery.
 *
 *	numbered filter N      N events of "fev": i = 0..N-1, see below
 *	numbered pairs         req_start/req_done by key (interleaved), call_in/call_out
 *	                       nested on two threads, and unmatched ones (counts below)
 *	numbered loop [CRASH]  "tick seq N check N*2654435761" from 0 up, about 100 per
 *	                       millisecond, until killed; prints "ready PID" once
 *	                       ticking.  CRASH: after tick 20000, "segv" raises SIGSEGV,
 *	                       "abort" calls abort(); "probe" connects a probe to tick
 *	                       that dereferences NULL at tick 20000
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <markers.h>
#include <markers/probe.h>

static const char *const words[] = {"GET /a", "GET /b.html", "POST /a", "PUT x*y"};

static void filter_events(long n)
{
	for (long i = 0; i < n; i++)
		trace_mark(fev, "i %d u %u big %lld x %f s %s c %hhu", (int)(i - n / 2),
			   (unsigned)i, (long long)i * 1000000000ll, i / 4.0, words[i % 4],
			   (unsigned char)(i & 0xff));
}

static void spin_us(long us)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	do
		clock_gettime(CLOCK_MONOTONIC, &b);
	while ((b.tv_sec - a.tv_sec) * 1000000 + (b.tv_nsec - a.tv_nsec) / 1000 < us);
}

/* Nested calls on this thread: call_in/call_out depth 3, 10 times. */
static void *nested(void *arg)
{
	long base = (long)arg;

	for (int r = 0; r < 10; r++) {
		trace_mark(call_in, "depth %d", 0);
		spin_us(base);
		trace_mark(call_in, "depth %d", 1);
		spin_us(base);
		trace_mark(call_in, "depth %d", 2);
		spin_us(base);
		trace_mark(call_out, "depth %d", 2);
		trace_mark(call_out, "depth %d", 1);
		trace_mark(call_out, "depth %d", 0);
	}
	return NULL;
}

static void pairs(void)
{
	pthread_t a, b;

	/* 100 requests, 4 open at a time, finishing out of order: key id. */
	for (int i = 0; i < 100; i += 4) {
		for (int k = 0; k < 4; k++)
			trace_mark(req_start, "id %d path %s", i + k, words[k]);
		spin_us(100);
		for (int k = 3; k >= 0; k--) {
			trace_mark(req_done, "id %d status %d", i + k, 200);
			spin_us(50);
		}
	}
	/* Unmatched: 3 starts without end, 2 ends without start. */
	trace_mark(req_start, "id %d path %s", 1000, "lost");
	trace_mark(req_start, "id %d path %s", 1001, "lost");
	trace_mark(req_start, "id %d path %s", 1002, "lost");
	trace_mark(req_done, "id %d status %d", 2000, 500);
	trace_mark(req_done, "id %d status %d", 2001, 500);
	pthread_create(&a, NULL, nested, (void *)100L);
	pthread_create(&b, NULL, nested, (void *)300L);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	/* One call_out with no call_in on this thread. */
	trace_mark(call_out, "depth %d", 9);
}

/* A probe that crashes: the recording must survive it (its buffers outlive the process). */
static void crashing_probe(const struct marker *m, void *priv, const char *fmt, va_list *args)
{
	(void)m, (void)priv, (void)fmt;
	if (va_arg(*args, unsigned long long) == 20000)
		*(volatile int *)priv = 1; /* priv is NULL */
}

static void loop(const char *crash)
{
	unsigned long long seq = 0;

	if (crash && !strcmp(crash, "probe"))
		marker_probe_register("tick", NULL, crashing_probe, NULL);
	for (;;) {
		trace_mark(tick, "seq %llu check %llu", seq, seq * 2654435761ull);
		if (seq == 1000) {
			printf("ready %d\n", (int)getpid());
			fflush(stdout);
		}
		if (crash && seq == 20000) {
			if (!strcmp(crash, "segv"))
				raise(SIGSEGV);
			if (!strcmp(crash, "abort"))
				abort();
		}
		if (++seq % 100 == 0)
			usleep(1000);
	}
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "filter"))
		filter_events(atol(argv[2]));
	else if (argc >= 2 && !strcmp(argv[1], "pairs"))
		pairs();
	else if (argc >= 2 && !strcmp(argv[1], "loop"))
		loop(argc >= 3 ? argv[2] : NULL);
	else
		return 2;
	return 0;
}
