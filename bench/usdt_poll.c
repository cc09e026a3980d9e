/*
 * usdt_poll.c - what the library's once-a-second look at the USDT
 * semaphores costs, with no tool attached.
 *
 *	usdt_poll [-r ROUNDS]
 *
 * The process holds 30,303 sites (10,101 of each kind, bench/gen_sites.sh),
 * every one a USDT probe.  We time marker__usdt_poll(), the call the control
 * thread makes once a second, against its floor: taking and releasing the
 * library lock (the poll takes it once).  Linked with the static library,
 * where the two internal functions are visible.  ns_per_op is per call;
 * the per-site figure and the share of one CPU at one call a second follow.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <markers.h>
#include "bench_util.h"

int marker__usdt_poll(void);
void marker__lock_acquire(void);
void marker__lock_release(void);

void sw_generic_fire(int x);
void sw_immediate_fire(int x);
void sw_jump_fire(int x);

static int count_sites(const struct marker_info *mi, void *arg)
{
	for (size_t i = 0; i < mi->nsites; i++)
		*(size_t *)arg += !!(mi->sites[i].marker->flags & MARKER_FLAG_USDT);
	return 0;
}

int main(int argc, char **argv)
{
	int rounds = 21, calls = 200;
	double poll[64], lock[64];
	size_t nsites = 0;
	struct bench_stats p, l;

	if (argc > 2 && !strcmp(argv[1], "-r"))
		rounds = atoi(argv[2]);
	if (rounds < 1 || rounds > 64)
		rounds = 21;
	bench_pin_last_cpu();
	sw_generic_fire(0), sw_immediate_fire(0), sw_jump_fire(0);
	marker_foreach(count_sites, &nsites);
	for (int r = 0; r < rounds; r++) {
		uint64_t t0 = bench_now_ns();

		for (int i = 0; i < calls; i++)
			if (marker__usdt_poll() != 0) {
				fprintf(stderr, "usdt_poll: a site switched with no tool attached\n");
				return 1;
			}
		poll[r] = (double)(bench_now_ns() - t0) / calls;
		t0 = bench_now_ns();
		for (int i = 0; i < calls; i++) {
			marker__lock_acquire();
			marker__lock_release();
		}
		lock[r] = (double)(bench_now_ns() - t0) / calls;
	}
	p = bench_stats(poll, rounds);
	l = bench_stats(lock, rounds);
	printf("name=usdt.lock ns_per_op=%.1f ratio_vs_baseline=1.00 sites=%zu\n", l.median, nsites);
	printf("name=usdt.poll ns_per_op=%.1f ratio_vs_baseline=%.2f sites=%zu ns_per_site=%.2f "
	       "cpu_share_at_1hz=%.6f%%\n",
	       p.median, p.median / (l.median > 0 ? l.median : 1), nsites,
	       nsites ? p.median / (double)nsites : 0, p.median / 1e9 * 100);
	return 0;
}
