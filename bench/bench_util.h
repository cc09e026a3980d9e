/* bench_util.h - clocks, CPU pinning and robust statistics for the benchmarks. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Pin the calling thread to @cpu.  Returns 0 or -1 (then it runs unpinned). */
static inline int bench_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) == 0 ? 0 : -1;
}

/* Pin to the highest CPU we may run on (CPU 0 takes most interrupts). */
static inline int bench_pin_last_cpu(void)
{
	cpu_set_t set;
	int last = -1;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return -1;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			last = c;
	return last >= 0 && bench_pin(last) == 0 ? last : -1;
}

static inline int bench_ncpus(void)
{
	cpu_set_t set;

	return sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
}

struct bench_stats {
	double median, q1, q3, min, max;
};

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median and quartiles (nearest rank) of @n values; @v is left untouched. */
static inline struct bench_stats bench_stats(const double *v, int n)
{
	struct bench_stats s = {0, 0, 0, 0, 0};
	double *c = malloc(sizeof(double) * (size_t)n);

	if (!c || n <= 0) {
		free(c);
		return s;
	}
	memcpy(c, v, sizeof(double) * (size_t)n);
	qsort(c, (size_t)n, sizeof(double), bench_cmp_double);
	s.median = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
	s.q1 = c[n / 4];
	s.q3 = c[(3 * n) / 4 < n ? (3 * n) / 4 : n - 1];
	s.min = c[0];
	s.max = c[n - 1];
	free(c);
	return s;
}

#endif /* BENCH_UTIL_H */
