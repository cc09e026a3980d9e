/*
 * filter.c - what a filter costs in the recording probe: an event that the
 * filter rejects (it never takes room in a buffer), one that it accepts
 * (then recorded), against the same event recorded without a filter, in
 * one process, one thread.  Each row's marker is recorded alone:
 *
 *	unfiltered         -e f_plain                         (the baseline)
 *	filter_accepted    -e f_acc --filter 'a >= 0 && b < 1000000000'
 *	filter_rejected    -e f_rej --filter 'a < 0'
 *	filter_str_reject  -e f_str --filter 's == "GET *"'
 *
 * Every event carries two ints and a 16-byte string, as in on.c.  Prints
 * name=... ns_per_op=... ratio_vs_baseline=... (medians of the rounds);
 * nothing here judges the numbers.
 */
#define _GNU_SOURCE
#include <markers.h>
#include <markers/tracer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bench_util.h"

static const char payload[] = "payload-16bytes";

__attribute__((noinline)) static void loop_plain(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		trace_mark(f_plain, "a %d b %d s %s", (int)i, (int)(i >> 3), payload);
}

__attribute__((noinline)) static void loop_acc(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		trace_mark(f_acc, "a %d b %d s %s", (int)i, (int)(i >> 3), payload);
}

__attribute__((noinline)) static void loop_rej(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		trace_mark(f_rej, "a %d b %d s %s", (int)i, (int)(i >> 3), payload);
}

__attribute__((noinline)) static void loop_str(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		trace_mark(f_str, "a %d b %d s %s", (int)i, (int)(i >> 3), payload);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median ns per event of @rounds rounds of @n events; the consumer drains between them. */
static double measure(void (*loop)(uint64_t), uint64_t n, int rounds)
{
	double v[64];

	loop(n / 10); /* warm: the event's declaration, its filter's binding */
	usleep(30000);
	for (int r = 0; r < rounds; r++) {
		uint64_t t0 = bench_now_ns();

		loop(n);
		v[r] = (double)(bench_now_ns() - t0) / (double)n;
		usleep(30000);
	}
	qsort(v, (size_t)rounds, sizeof(v[0]), cmp_double);
	return v[rounds / 2];
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp/markers-bench-filter";
	int quick = getenv("BENCH_QUICK") != NULL, rounds = quick ? 5 : 21;
	uint64_t n = quick ? 20000 : 100000;
	struct marker_tracer_options o = {.size = sizeof(o), .dir = dir,
					  .subbuf_size = 1 << 20, .nsubbufs = 8};
	static const struct {
		const char *name, *glob, *filter;
		void (*loop)(uint64_t);
	} rows[] = {
		{"unfiltered", "f_plain", NULL, loop_plain},
		{"filter_accepted", "f_acc", "a >= 0 && b < 1000000000", loop_acc},
		{"filter_rejected", "f_rej", "a < 0", loop_rej},
		{"filter_str_reject", "f_str", "s == \"GET *\"", loop_str},
	};
	double base = 0;

	if (marker_tracer_start(&o) < 0) {
		fprintf(stderr, "filter: cannot record into %s\n", dir);
		return 1;
	}
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc = rows[i].filter ? marker_tracer_enable_filter(rows[i].glob, rows[i].filter)
					: marker_tracer_enable(rows[i].glob);
		double ns;

		if (rc < 0) {
			fprintf(stderr, "filter: enabling %s: %s\n", rows[i].glob, strerror(-rc));
			return 1;
		}
		ns = measure(rows[i].loop, n, rounds);
		if (!i)
			base = ns;
		printf("name=%s ns_per_op=%.2f ratio_vs_baseline=%.3f\n", rows[i].name, ns, ns / base);
		marker_tracer_disable(rows[i].glob);
	}
	struct marker_tracer_stats st = {.size = sizeof(st)};

	marker_tracer_get_stats(&st);
	printf("# recorded %llu, filtered %llu, discarded %llu\n", (unsigned long long)st.recorded,
	       (unsigned long long)st.filtered, (unsigned long long)st.discarded);
	marker_tracer_stop();
	return 0;
}
