/*
 * How long switching takes, with another thread busy on a core: one
 * marker with 1 site, 100 sites and 10,000 sites, on (register) and off
 * (unregister).  Prints the times; asserts
 * only that the sites switched.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "patch_util.h"
#include "tap.h"

#define X10(s) s s s s s s s s s s

static inline __attribute__((always_inline)) void s100(int i)
{
	X10(X10(trace_mark_jump(sw_100, "i %d", i);))
}

/* 10,000 sites in 100 functions: one huge function takes the compiler long. */
#define S100K(n)                                                              \
	static __attribute__((noinline)) void s10k_##n(int i)                 \
	{                                                                     \
		X10(X10(trace_mark_jump(sw_10k, "i %d", i);))                 \
	}
#define S1000K(n) S100K(n##0) S100K(n##1) S100K(n##2) S100K(n##3) S100K(n##4) \
	S100K(n##5) S100K(n##6) S100K(n##7) S100K(n##8) S100K(n##9)
S1000K(0) S1000K(1) S1000K(2) S1000K(3) S1000K(4) S1000K(5) S1000K(6) S1000K(7) S1000K(8)
S1000K(9)

static __attribute__((noinline)) void sw_fire1(int i)
{
	trace_mark_jump(sw_1, "i %d", i);
}

static __attribute__((noinline)) void sw_fire100(int i)
{
	s100(i);
}

#define C10(n) s10k_##n##0(i); s10k_##n##1(i); s10k_##n##2(i); s10k_##n##3(i); s10k_##n##4(i); \
	s10k_##n##5(i); s10k_##n##6(i); s10k_##n##7(i); s10k_##n##8(i); s10k_##n##9(i);
static __attribute__((noinline)) void sw_fire10k(int i)
{
	C10(0) C10(1) C10(2) C10(3) C10(4) C10(5) C10(6) C10(7) C10(8) C10(9)
}

static int stop;

/* The busy thread: runs sites in a loop, like a service would. */
static void *busy(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED))
		sw_fire100(1);
	sw_fire1(0);
	sw_fire10k(0);
	return NULL;
}

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#define MAXREPS 200

static void measure(const char *name, int nsites, int reps)
{
	double on[MAXREPS], off[MAXREPS];
	static long hits; /* the busy thread's probe may still run after unregister */
	int good = 1;

	for (int r = 0; r < reps; r++) {
		double t0 = now_us(), t1, t2;

		marker_probe_register(name, "i %d", pu_count_probe, &hits);
		t1 = now_us();
		good &= pu_check_sites(name, 1) == 0;
		t2 = now_us();
		marker_probe_unregister(name, pu_count_probe, &hits);
		off[r] = now_us() - t2;
		on[r] = t1 - t0;
		good &= pu_check_sites(name, 0) == 0;
	}
	marker_synchronize_unregister();
	qsort(on, reps, sizeof(double), cmp_double);
	qsort(off, reps, sizeof(double), cmp_double);
	ok(good, "%s: %d sites switched on and off %d times", name, nsites, reps);
	diag("name=switch_on_%d_sites median_us=%.1f min_us=%.1f max_us=%.1f us_per_site=%.3f",
	     nsites, on[reps / 2], on[0], on[reps - 1], on[reps / 2] / nsites);
	diag("name=switch_off_%d_sites median_us=%.1f", nsites, off[reps / 2]);
}

int main(void)
{
	pthread_t th;

	plan(3);
	pthread_create(&th, NULL, busy, NULL);
	measure("sw_1", 1, 200);
	measure("sw_100", 100, 50);
	measure("sw_10k", 10000, 10);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	return done();
}
