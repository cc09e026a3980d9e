/*
 * relay_emit - the workload of the relay rows (bench/relay.sh): run under
 * `markers record`, which records it from the environment.
 *
 *	relay_emit SECONDS RATE      RATE events per second (bursts of 100 every
 *	                             100/RATE s), or as fast as it can with RATE 0
 *
 * Each event: 2 ints and a 16-byte string (as bench/on.c).  Prints
 * "emitted=N secs=S".
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <markers.h>

#include "bench_util.h"

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1;
	double rate = argc > 2 ? atof(argv[2]) : 0;
	uint64_t t0 = bench_now_ns(), end = t0 + (uint64_t)(secs * 1e9), emitted = 0, now;

	for (uint64_t burst = 0; (now = bench_now_ns()) < end; burst++) {
		for (int i = 0; i < 100; i++)
			trace_mark(bench_relay, "a %d b %d s %s", i, (int)burst, "0123456789abcdef");
		emitted += 100;
		if (rate > 0)
			while (bench_now_ns() < t0 + (uint64_t)((burst + 1) * 100 / rate * 1e9))
				;
	}
	printf("emitted=%llu secs=%.3f\n", (unsigned long long)emitted, (now - t0) / 1e9);
	return 0;
}
