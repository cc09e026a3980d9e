/*
 * clock.c - the trace clock: rdtsc where the TSC is constant and does not
 * stop (x86 with an invariant TSC), else CLOCK_MONOTONIC in ns.
 *
 * rdtsc costs 9 ns here against 21 ns for clock_gettime, which is half the
 * budget of an event.  Its frequency is not published by the kernel, so the
 * session calibrates it against CLOCK_REALTIME: a pair (tsc, realtime) at
 * start, and a later pair refreshed by the consumer; the metadata's clock
 * uses the slope between them and anchors the Epoch offset at the first
 * pair, so that an error on the slope only shifts times far from the start.
 *
 * Every session of a process, and of its fork children (same machine,
 * same TSC: they inherit it with the memory), takes the same first pair,
 * the anchor, measured by the first session of the process tree.  So all
 * their traces map the clock to time alike: events of a parent and of its
 * fork child merge in the order they happened (with pairs of their own, a
 * slope measured over a short life put them microseconds apart).  The
 * later pair of a session that starts after the anchor is taken at once;
 * until it is 1 ms from the anchor, the slope is the nominal frequency,
 * which only the first session measures (over 1 ms); later ones start from
 * the best estimate so far, refined by the consumers as they recalibrate.
 * A fork child recording a process tree so starts without the 1 ms wait.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "tracer_int.h"
#include "tsan.h"

int marker__tr_use_tsc;

/* Hz, and the span in ns it was measured over; 0 until a session measured it. */
static uint64_t known_freq, known_span_ns;
/* The first pair of every session; anchor_real 0 until the first session (under tr_lock). */
static uint64_t anchor_clock;
static int64_t anchor_real;

static void clock_init(void)
{
#if defined(__x86_64__) || defined(__i386__)
	unsigned a, b, c, d;

	/*
	 * The invariant TSC bit (CPUID 0x80000007, EDX bit 8): what the
	 * kernel's constant_tsc and nonstop_tsc flags both derive from on
	 * every CPU that has it, without reading /proc/cpuinfo.
	 */
	if (__get_cpuid_max(0x80000000, NULL) >= 0x80000007 &&
	    __get_cpuid(0x80000007, &a, &b, &c, &d))
		marker__tr_use_tsc = (d >> 8) & 1;
#endif
}

/* A (clock, realtime) pair read as close together as we can: the middle of two reads. */
static void calibrate(uint64_t *clock, int64_t *real)
{
	int64_t best = INT64_MAX;

	for (int i = 0; i < 5; i++) {
		int64_t a = marker__tr_realtime_ns();
		uint64_t c = marker__tr_clock();
		int64_t b = marker__tr_realtime_ns();

		if (b - a < best) {
			best = b - a;
			*clock = c;
			*real = a + (b - a) / 2;
		}
	}
}

/* Keep the estimate of the frequency measured over the longest span. */
static void learn(uint64_t c0, int64_t r0, uint64_t c1, int64_t r1)
{
	if (r1 <= r0 || c1 <= c0 || (uint64_t)(r1 - r0) <= __atomic_load_n(&known_span_ns,
									   __ATOMIC_RELAXED))
		return;
	/* Read by a fork in another thread: each word alone is enough (a fresh estimate). */
	__atomic_store_n(&known_freq, (uint64_t)((double)(c1 - c0) * 1e9 / (double)(r1 - r0) + 0.5),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&known_span_ns, (uint64_t)(r1 - r0), __ATOMIC_RELAXED);
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

void marker__tr_clock_start(struct tr_session_hdr *sh)
{
	uint64_t f;

	pthread_once(&init_once, clock_init);
	sh->clock_tsc = (uint32_t)marker__tr_use_tsc;
	if (!marker__tr_use_tsc) {
		calibrate(&sh->cal_clock0, &sh->cal_real0);
		sh->cal_clock1 = sh->cal_clock0;
		sh->cal_real1 = sh->cal_real0;
		sh->nominal_freq = 1000000000;
		return;
	}
	f = __atomic_load_n(&known_freq, __ATOMIC_RELAXED);
	if (anchor_real && f) {
		sh->cal_clock0 = anchor_clock;
		sh->cal_real0 = anchor_real;
		calibrate(&sh->cal_clock1, &sh->cal_real1);
		sh->nominal_freq = f;
		learn(anchor_clock, anchor_real, sh->cal_clock1, sh->cal_real1);
		return;
	}
	/* The first session of the process tree: the anchor, and an estimate over 1 ms. */
	calibrate(&sh->cal_clock0, &sh->cal_real0);
	do
		calibrate(&sh->cal_clock1, &sh->cal_real1);
	while (sh->cal_real1 - sh->cal_real0 < 1000000);
	sh->nominal_freq = (uint64_t)((double)(sh->cal_clock1 - sh->cal_clock0) * 1e9 /
				      (double)(sh->cal_real1 - sh->cal_real0));
	learn(sh->cal_clock0, sh->cal_real0, sh->cal_clock1, sh->cal_real1);
	anchor_clock = sh->cal_clock0;
	anchor_real = sh->cal_real0;
}

void marker__tr_clock_update(struct tr_session_hdr *sh)
{
	uint64_t c;
	int64_t r;

	/* A recovering process may never have started a session: the same clock as the trace's. */
	pthread_once(&init_once, clock_init);
	if (sh->clock_tsc != (uint32_t)marker__tr_use_tsc)
		return; /* another machine's trace, or another clock: its pairs stay */
	calibrate(&c, &r);
	__atomic_store_n(&sh->cal_seq, sh->cal_seq + 1, __ATOMIC_RELAXED);
	marker__fence(__ATOMIC_RELEASE);
	sh->cal_clock1 = c;
	sh->cal_real1 = r;
	__atomic_store_n(&sh->cal_seq, sh->cal_seq + 1, __ATOMIC_RELEASE);
	if (sh->clock_tsc)
		learn(sh->cal_clock0, sh->cal_real0, c, r);
}

int64_t marker__tr_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void marker__tr_clock_params(const struct tr_session_hdr *sh, uint64_t *freq, int64_t *offset_s,
			     uint64_t *offset_cycles)
{
	uint64_t c0 = sh->cal_clock0, c1;
	int64_t r0 = sh->cal_real0, r1, epoch_ns;
	uint32_t seq;
	double f;

	do {
		seq = __atomic_load_n(&sh->cal_seq, __ATOMIC_ACQUIRE);
		c1 = sh->cal_clock1;
		r1 = sh->cal_real1;
		marker__fence(__ATOMIC_ACQUIRE);
	} while ((seq & 1) || seq != __atomic_load_n(&sh->cal_seq, __ATOMIC_RELAXED));
	if (!sh->clock_tsc || r1 - r0 < 1000000 || c1 <= c0)
		f = (double)sh->nominal_freq;
	else
		f = (double)(c1 - c0) * 1e9 / (double)(r1 - r0);
	if (f < 1) /* killed before its first calibration: no event; any valid clock */
		f = 1e9;
	/*
	 * The metadata declares whole Hz: the offset must be worked out with
	 * that very frequency.  With the unrounded one, the rounding (up to
	 * 0.5 Hz) shifted every time by c0 / f * 0.5 / f: microseconds, after
	 * hours of uptime, between two traces of one tree.
	 */
	*freq = (uint64_t)(f + 0.5);
	f = (double)*freq;
	/* Realtime at clock value 0, so that realtime = epoch + value / freq. */
	epoch_ns = r0 - (int64_t)((double)c0 * 1e9 / f);
	*offset_s = epoch_ns / 1000000000;
	*offset_cycles = (uint64_t)((double)(epoch_ns % 1000000000) * f / 1e9);
}
