/*
 * fire.c - what the library's dispatch costs: one enabled site, one empty
 * probe.  All of it is the call into the library: the RCU read-side
 * section, the probe array's load, errno kept, the probe's va_list.
 *
 *	fire -n CALLS -r ROUNDS   ns per fire against a direct call of the same probe
 *	fire -C CALLS             one pass of CALLS fires and nothing else, for callgrind
 *
 * Built twice: `fire` as sites are by default (on x86-64 the register-
 * preserving stub, then marker__fire_area), `fire-call` with
 * MARKERS_NO_FIRE_STUB (a plain call of marker_fire).  Prints
 * name=fire.KIND ns_per_op=... ratio_vs_baseline=... (the baseline calls the
 * probe directly, through a pointer, with the same arguments).  Nothing
 * here judges the numbers.
 */
#define _GNU_SOURCE
#include <markers.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "bench_util.h"

#ifdef MARKERS_NO_FIRE_STUB
#define KIND "call"
#else
#define KIND "site"
#endif

static void empty_probe(const struct marker *m, void *priv, const char *fmt, va_list *args)
{
}

static void (*volatile direct)(const struct marker *, void *, const char *, va_list *) = empty_probe;

__attribute__((noinline)) static void fire_site(int i)
{
	trace_mark_generic(bench_fire, "i %d", i);
}

static void direct_va(int i, ...)
{
	va_list ap;

	va_start(ap, i);
	direct(NULL, NULL, "i %d", &ap);
	va_end(ap);
}

__attribute__((noinline)) static void direct_site(int i)
{
	direct_va(i, i);
}

int main(int argc, char **argv)
{
	long calls = 1000000, cg = 0;
	int rounds = 11, opt;

	while ((opt = getopt(argc, argv, "n:r:C:")) != -1) {
		switch (opt) {
		case 'n': calls = atol(optarg); break;
		case 'r': rounds = atoi(optarg); break;
		case 'C': cg = atol(optarg); break;
		default:
			fprintf(stderr, "usage: fire [-n CALLS -r ROUNDS | -C CALLS]\n");
			return 2;
		}
	}
	if (marker_probe_register("bench_fire", "i %d", empty_probe, NULL) < 0) {
		printf("name=fire.%s status=n/a (cannot connect the probe)\n", KIND);
		return 0;
	}
	if (cg) {
		for (long i = 0; i < cg; i++)
			fire_site((int)i);
		return 0;
	}
	bench_pin_last_cpu();
	double *on = calloc((size_t)rounds, sizeof(double)), *base = calloc((size_t)rounds, sizeof(double));

	if (!on || !base)
		return 1;
	for (int r = 0; r < rounds; r++) {
		uint64_t t0 = bench_now_ns();

		for (long i = 0; i < calls; i++)
			direct_site((int)i);
		uint64_t t1 = bench_now_ns();

		for (long i = 0; i < calls; i++)
			fire_site((int)i);
		uint64_t t2 = bench_now_ns();

		base[r] = (double)(t1 - t0) / (double)calls;
		on[r] = (double)(t2 - t1) / (double)calls;
	}
	struct bench_stats s = bench_stats(on, rounds), b = bench_stats(base, rounds);

	printf("name=fire.direct ns_per_op=%.2f\n", b.median);
	printf("name=fire.%s ns_per_op=%.2f ratio_vs_baseline=%.2f iqr=%.2f\n", KIND, s.median,
	       b.median > 0 ? s.median / b.median : 0, s.q3 - s.q1);
	free(on);
	free(base);
	return 0;
}
