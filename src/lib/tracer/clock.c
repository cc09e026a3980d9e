/*
 * clock.c - the trace clock: rdtsc where the TSC is constant and does not
 * stop (x86 with constant_tsc and nonstop_tsc), else CLOCK_MONOTONIC in ns.
 *
 * rdtsc costs 9 ns here against 21 ns for clock_gettime, which is half the
 * budget of an event.  Its frequency is not published by the kernel, so the
 * session calibrates it against CLOCK_REALTIME: a pair (tsc, realtime) at
 * start, and a later pair refreshed by the consumer; the metadata's clock
 * uses the slope between them and anchors the Epoch offset at the first
 * pair, so that an error on the slope only shifts times far from the start.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tracer_int.h"

int marker__tr_use_tsc;

void marker__tr_clock_init(void)
{
#if defined(__x86_64__) || defined(__i386__)
	char line[4096];
	int constant = 0, nonstop = 0;
	FILE *f = fopen("/proc/cpuinfo", "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		constant = strstr(line, " constant_tsc") != NULL;
		nonstop = strstr(line, " nonstop_tsc") != NULL;
		break;
	}
	fclose(f);
	marker__tr_use_tsc = constant && nonstop;
#endif
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
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while ((seq & 1) || seq != __atomic_load_n(&sh->cal_seq, __ATOMIC_RELAXED));
	if (!sh->clock_tsc || r1 - r0 < 1000000 || c1 <= c0)
		f = (double)sh->nominal_freq;
	else
		f = (double)(c1 - c0) * 1e9 / (double)(r1 - r0);
	if (f < 1) /* killed before its first calibration: no event; any valid clock */
		f = 1e9;
	*freq = (uint64_t)(f + 0.5);
	/* Realtime at clock value 0, so that realtime = epoch + value / freq. */
	epoch_ns = r0 - (int64_t)((double)c0 * 1e9 / f);
	*offset_s = epoch_ns / 1000000000;
	*offset_cycles = (uint64_t)((double)(epoch_ns % 1000000000) * f / 1e9);
}
