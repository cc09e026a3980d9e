/*
 * off.c - what a site costs while it is off, for every kind of site.
 *
 *	off [-r REPS] [-n ITERS]	timed: ns per site over the bare loop
 *	off -c ITERS			one pass of every loop, for callgrind
 *
 * Timed mode pins itself to one CPU, runs every loop once per round (the
 * kinds interleaved, so that a slow moment of the machine hits them all
 * alike), and for each round takes the difference with the uninstrumented
 * loop of the same round.  It prints the median difference per site and the
 * interquartile range of the rounds.  Nothing here judges the numbers.
 */
#define _GNU_SOURCE
#include <markers.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bench_markers.h"
#include "bench_util.h"
#include "off_kinds.h"

/* The plain flag kind's flags and its never-called probe. */
int bench_flag[17];
void bench_flag_probe(int a, int b, const char *s)
{
	printf("%d %d %s\n", a, b, s);
}

struct loop {
	const char *kind;
	int sites;
	uint64_t (*fn)(uint64_t);
	double *ns; /* per round: ns per iteration */
};

/*
 * Built twice: `off` with every kind but LTTng-UST's, and `off-lttng` with
 * the bare loop and LTTng-UST's (-DBENCH_LTTNG).  LTTng-UST starts threads
 * that block every signal, and our patcher will not rewrite code while a
 * thread blocks SIGTRAP: in one process our optimized sites would stay in
 * their fallback form and we would measure that instead.
 */
#define ENTRY(kind) {#kind, 1, loop_##kind##_1, NULL}, {#kind, 16, loop_##kind##_16, NULL},
#ifdef BENCH_LTTNG
static struct loop loops[] = {ENTRY(none) ENTRY(lttng)};
#else
static struct loop loops[] = {ENTRY(none) ENTRY(flag) ENTRY(sdt) ENTRY(sdtsem) ENTRY(generic)
				      ENTRY(immediate) ENTRY(jump)};
#endif
#define NLOOPS (sizeof(loops) / sizeof(loops[0]))

/* Which kind the site of @name really compiled to (today's headers may fall back). */
struct kind_query {
	const char *name;
	int kind;
	enum marker_site_mode mode;
	const char *reason;
};

static __attribute__((unused)) int find_kind(const struct marker_info *info, void *arg)
{
	struct kind_query *q = arg;

	if (strcmp(info->name, q->name) == 0 && info->nsites > 0) {
		q->kind = info->sites[0].marker->kind;
		q->mode = info->sites[0].mode;
		q->reason = info->sites[0].reason;
		return 1;
	}
	return 0;
}

static __attribute__((unused)) void report_kinds(void)
{
	static const char *names[] = {"generic", "immediate", "jump"};

	for (unsigned i = 0; i < 3; i++) {
		char name[64];
		struct kind_query q = {name, -1, MARKER_MODE_FLAG, NULL};

		snprintf(name, sizeof(name), "%s_off_0", names[i]);
		marker_foreach(find_kind, &q);
		/* An optimized site that was not adopted stays taken: it costs more. */
		printf("name=off.%s.compiled_kind kind=%s mode=%s%s%s\n", names[i],
		       q.kind < 0 ? "missing" : marker_kind_name(q.kind), marker_mode_name(q.mode),
		       q.reason ? " reason=" : "", q.reason ? q.reason : "");
	}
}

int main(int argc, char **argv)
{
	uint64_t iters = 4000000, citers = 0;
	int reps = 21, opt;
	volatile uint64_t sink;

	while ((opt = getopt(argc, argv, "r:n:c:")) != -1) {
		switch (opt) {
		case 'r': reps = atoi(optarg); break;
		case 'n': iters = strtoull(optarg, NULL, 0); break;
		case 'c': citers = strtoull(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: off [-r REPS] [-n ITERS] | -c ITERS\n");
			return 2;
		}
	}
	if (citers) {
		/*
		 * Under callgrind: one pass each; the script diffs two counts.
		 * The library's thread rewrites the start-up's sites within a
		 * fraction of a millisecond natively; valgrind runs one thread
		 * at a time, so a listing does it first, as report_kinds() does
		 * in the timed runs.
		 */
#ifndef BENCH_LTTNG
		bench_settle_sites();
#endif
		for (unsigned l = 0; l < NLOOPS; l++)
			sink = loops[l].fn(loops[l].sites == 1 ? citers * 16 : citers);
		return 0;
	}

#ifndef BENCH_LTTNG
	report_kinds();
#endif
	int cpu = bench_pin_last_cpu();
	printf("name=off.setup cpu=%d reps=%d iters=%llu\n", cpu, reps,
	       (unsigned long long)iters);

	for (unsigned l = 0; l < NLOOPS; l++)
		loops[l].ns = calloc(reps, sizeof(double));
	/* Warm up caches, predictors and the CPU's clock. */
	for (unsigned l = 0; l < NLOOPS; l++)
		sink = loops[l].fn(iters / 4);
	for (int r = 0; r < reps; r++) {
		for (unsigned l = 0; l < NLOOPS; l++) {
			/* The sparse loop runs 16 times as many iterations: same site count. */
			uint64_t n = loops[l].sites == 1 ? iters * 16 : iters;
			uint64_t t0 = bench_now_ns();

			sink = loops[l].fn(n);
			loops[l].ns[r] = (double)(bench_now_ns() - t0) / (double)n;
		}
	}
	(void)sink;

	for (unsigned l = 0; l < NLOOPS; l++) {
#ifdef BENCH_LTTNG
		if (l < 2)
			continue; /* `off` prints the bare loop */
#endif
		const struct loop *base = &loops[l & 1u]; /* none, same density */
		double *d = calloc(reps, sizeof(double));
		double *it = calloc(reps, sizeof(double));

		for (int r = 0; r < reps; r++) {
			d[r] = (loops[l].ns[r] - base->ns[r]) / loops[l].sites;
			it[r] = loops[l].ns[r] / base->ns[r];
		}
		struct bench_stats s = bench_stats(d, reps);
		struct bench_stats ratio = bench_stats(it, reps);
		struct bench_stats abs = bench_stats(loops[l].ns, reps);

		printf("name=off.%s.%d ns_per_op=%.3f ratio_vs_baseline=%.3f "
		       "site_ns=%+.4f site_ns_iqr=%.4f\n",
		       loops[l].kind, loops[l].sites, abs.median, ratio.median, s.median,
		       s.q3 - s.q1);
		free(d);
		free(it);
	}
	return 0;
}
