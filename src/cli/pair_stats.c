/*
 * pair_stats.c - `markers stats --pair BEGIN,END[:KEY] DIR`: the latency
 * between matched BEGIN and END events (pairs.h): count, min, percentiles,
 * max, and a histogram in powers of two; unmatched events counted.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "pair_stats.h"
#include "pairs.h"
#include "trace_reader.h"

#define BAR 40

static void fmt_ns(int64_t ns, char *buf, size_t len)
{
	double v = (double)ns;

	if (ns < 0)
		snprintf(buf, len, "%" PRId64 " ns", ns);
	else if (ns < 1000)
		snprintf(buf, len, "%" PRId64 " ns", ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.3f us", v / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.3f ms", v / 1e6);
	else
		snprintf(buf, len, "%.3f s", v / 1e9);
}

/* A power of two of nanoseconds, short: "512 ns", "64 us", "2 s". */
static void fmt_pow2(int k, char *buf, size_t len)
{
	uint64_t v = 1ull << k;

	if (v < 1024)
		snprintf(buf, len, "%" PRIu64 " ns", v);
	else if (v < 1024 * 1024)
		snprintf(buf, len, "%" PRIu64 " us", (v * 1000 / 1024) / 1000 ? v / 1000 : 1);
	else if (v < 1024ull * 1024 * 1024)
		snprintf(buf, len, "%.3g ms", v / 1e6);
	else
		snprintf(buf, len, "%.3g s", v / 1e9);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The nearest-rank percentile @p of the @n sorted values. */
static int64_t percentile(const int64_t *v, size_t n, double p)
{
	size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999999);

	if (rank < 1)
		rank = 1;
	return v[rank > n ? n - 1 : rank - 1];
}

static int log2_bucket(int64_t ns)
{
	int k = 0;

	if (ns <= 0)
		return -1; /* the bucket of 0 and (clock-skewed) negatives */
	while (k < 62 && (1ll << (k + 1)) <= ns)
		k++;
	return k;
}

static void print_histogram(const int64_t *v, size_t n)
{
	uint64_t counts[64] = {0}, zero = 0, max = 1;
	int lo = 63, hi = -1;

	for (size_t i = 0; i < n; i++) {
		int k = log2_bucket(v[i]);

		if (k < 0) {
			zero++;
			continue;
		}
		counts[k]++;
		lo = k < lo ? k : lo;
		hi = k > hi ? k : hi;
	}
	for (int k = lo; k <= hi; k++)
		max = counts[k] > max ? counts[k] : max;
	max = zero > max ? zero : max;
	printf("\nlatency histogram:\n");
	if (zero)
		printf("  %-22s |%-*s| %" PRIu64 "\n", "<= 0 ns", BAR, "#", zero);
	for (int k = lo; k <= hi; k++) {
		char a[24], b[24], range[56], bar[BAR + 1];
		size_t len = (size_t)((double)counts[k] * BAR / (double)max + 0.5);

		if (counts[k] && !len)
			len = 1;
		memset(bar, '#', len);
		bar[len] = 0;
		fmt_pow2(k, a, sizeof(a));
		fmt_pow2(k + 1, b, sizeof(b));
		snprintf(range, sizeof(range), "[%s, %s)", a, b);
		printf("  %-22s |%-*s| %" PRIu64 "\n", range, BAR, bar, counts[k]);
	}
}

int pair_stats_print(const char *dir, const char *pair_arg, const int64_t *pids, size_t npids)
{
	struct pair_spec spec;
	struct pair_matcher *pm = NULL;
	struct pair_counts c;
	struct pair_match m;
	struct tr_trace *t;
	struct tr_event ev;
	int64_t *lat = NULL;
	size_t n = 0, cap = 0;
	uint64_t nbegin = 0, nend = 0;
	char err[600];
	int rc, status = 0;

	if (pair_spec_parse(pair_arg, &spec, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s stats: %s\n", cli_progname, err);
		return 2;
	}
	if (tr_open(dir, &t, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s stats: %s\n", cli_progname, err);
		pair_spec_free(&spec);
		return 1;
	}
	if (npids && tr_select(t, pids, npids) < (int)npids) {
		fprintf(stderr, "%s stats: %s: not every --pid is a process of this recording\n",
			cli_progname, dir);
		tr_close(t);
		pair_spec_free(&spec);
		return 1;
	}
	pm = pair_matcher_new(&spec);
	while (pm && (rc = tr_next(t, &ev)) > 0) {
		if (ev.kind == TR_EVENT) {
			nbegin += !strcmp(ev.name, spec.begin);
			nend += !strcmp(ev.name, spec.end);
		}
		rc = pair_feed(pm, &ev, &m);
		if (rc < 0)
			break;
		if (!rc)
			continue;
		if (n == cap) {
			int64_t *l = realloc(lat, (cap = cap ? cap * 2 : 1024) * sizeof(*l));

			if (!l) {
				rc = -1;
				break;
			}
			lat = l;
		}
		lat[n++] = m.latency_ns;
	}
	if (!pm || rc < 0) {
		fprintf(stderr, "%s stats: %s\n", cli_progname,
			!pm || rc == -1 ? "out of memory" : tr_error(t));
		status = 1; /* the figures below are of what came before */
		if (!pm)
			goto out;
	}
	pair_counts(pm, &c);
	printf("pair      %s -> %s, %s%s\n", spec.begin, spec.end,
	       spec.key ? "by field " : "by thread, innermost first", spec.key ? spec.key : "");
	printf("events    %" PRIu64 " %s, %" PRIu64 " %s\n", nbegin, spec.begin, nend, spec.end);
	printf("matched   %" PRIu64 "\n", c.matched);
	printf("unmatched %" PRIu64 " %s without %s, %" PRIu64 " %s without %s", c.open_begins,
	       spec.begin, spec.end, c.orphan_ends, spec.end, spec.begin);
	if (spec.key)
		printf(", %" PRIu64 " without field %s", c.missing_key, spec.key);
	printf("\n");
	if (n) {
		char v[7][32];
		double sum = 0;

		qsort(lat, n, sizeof(*lat), cmp_i64);
		for (size_t i = 0; i < n; i++)
			sum += (double)lat[i];
		fmt_ns(lat[0], v[0], sizeof(v[0]));
		fmt_ns(percentile(lat, n, 50), v[1], sizeof(v[1]));
		fmt_ns(percentile(lat, n, 90), v[2], sizeof(v[2]));
		fmt_ns(percentile(lat, n, 99), v[3], sizeof(v[3]));
		fmt_ns(lat[n - 1], v[4], sizeof(v[4]));
		fmt_ns((int64_t)(sum / (double)n), v[5], sizeof(v[5]));
		printf("latency   min %s  p50 %s  p90 %s  p99 %s  max %s  mean %s\n", v[0], v[1],
		       v[2], v[3], v[4], v[5]);
		print_histogram(lat, n);
	}
	if (!nbegin && !nend && !status) {
		fprintf(stderr, "%s stats: no %s or %s event in %s\n", cli_progname, spec.begin,
			spec.end, dir);
		status = 1;
	}
out:
	free(lat);
	pair_matcher_free(pm);
	tr_close(t);
	pair_spec_free(&spec);
	return status;
}
