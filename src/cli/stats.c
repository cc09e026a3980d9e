/*
 * stats.c - `markers stats DIR`: per marker count, rate and share; events
 * lost, per CPU; a text histogram of events over time.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "progress.h"
#include "trace_reader.h"

#define BAR 50

static void usage(FILE *f)
{
	fprintf(f, "usage: %s stats [--rows N] DIR\n"
		   "\n"
		   "Summarize the trace in DIR: for each marker its count, rate and share of the\n"
		   "events; events the tracer lost, per CPU; and a histogram of events over time.\n"
		   "Lost events are counted per CPU buffer, not per marker: a dropped event is\n"
		   "never decoded.\n"
		   "\n"
		   "  -r, --rows N   rows of the histogram (default 20)\n"
		   "  -h, --help     this help\n",
		   cli_progname);
}

static void print_duration(FILE *f, double secs)
{
	if (secs >= 1)
		fprintf(f, "%.3f s", secs);
	else if (secs >= 1e-3)
		fprintf(f, "%.3f ms", secs * 1e3);
	else
		fprintf(f, "%.3f us", secs * 1e6);
}

static void print_histogram(FILE *f, const struct tr_summary *s, size_t rows)
{
	size_t group = (s->nhist + rows - 1) / rows, n = (s->nhist + group - 1) / group;
	uint64_t max = 1;

	for (size_t r = 0; r < n; r++) {
		uint64_t sum = 0;

		for (size_t k = r * group; k < (r + 1) * group && k < s->nhist; k++)
			sum += s->hist[k];
		if (sum > max)
			max = sum;
	}
	fprintf(f, "\nevents over time, ");
	print_duration(f, (double)group * s->width / 1e9);
	fprintf(f, " per row:\n");
	for (size_t r = 0; r < n; r++) {
		uint64_t sum = 0, lost = 0;
		char bar[BAR + 1], count[32];
		size_t len;

		for (size_t k = r * group; k < (r + 1) * group && k < s->nhist; k++) {
			sum += s->hist[k];
			lost += s->hist_lost[k];
		}
		len = (size_t)((double)sum * BAR / max + 0.5);
		if (sum && !len)
			len = 1;
		memset(bar, '#', len);
		memset(bar + len, ' ', BAR - len);
		bar[BAR] = 0;
		format_count(sum, count, sizeof(count));
		fprintf(f, "  +%10.6f s |%s| %s", (double)r * group * s->width / 1e9, bar, count);
		if (lost)
			fprintf(f, "  (lost %" PRIu64 ")", lost);
		fputc('\n', f);
	}
}

int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{"rows", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const struct tm_trace *meta;
	const struct tm_env *procname, *vpid;
	struct tr_summary s;
	struct tr_trace *t;
	char err[600], buf[64], buf2[64];
	unsigned long rows = 20;
	int opt, rc, status = 0;
	char *end;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+r:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			rows = strtoul(optarg, &end, 10);
			if (*end || !rows || rows > 1000) {
				fprintf(stderr, "%s stats: --rows wants 1 to 1000\n", cli_progname);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "%s stats: %s\n", cli_progname,
			optind == argc ? "which trace? (markers stats DIR)" : "one trace at a time");
		return 2;
	}
	if (tr_open(argv[optind], &t, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s stats: %s\n", cli_progname, err);
		return 1;
	}
	rc = tr_summarize(t, &s);
	if (rc < 0) {
		/* A damaged trace: say where, and summarize what came before. */
		fprintf(stderr, "%s stats: %s\n", cli_progname, tr_error(t));
		status = 1;
	}
	meta = tr_metadata(t);
	procname = tm_env_find(meta, "procname");
	vpid = tm_env_find(meta, "vpid");
	printf("trace     %s\n", argv[optind]);
	if (procname && procname->str)
		printf("process   %s", procname->str);
	if (vpid && !vpid->str)
		printf(" (pid %" PRId64 ")", vpid->num);
	if (procname && procname->str)
		printf("\n");
	if (s.events || s.lost_events) {
		tr_format_time(s.first, 0, buf, sizeof(buf));
		tr_format_time(s.last, 0, buf2, sizeof(buf2));
		printf("time      %s to %s (", buf, buf2);
		print_duration(stdout, (s.last - s.first) / 1e9);
		printf(")\n");
	}
	format_count(s.events, buf, sizeof(buf));
	printf("events    %s", buf);
	if (s.last > s.first)
		printf(" (%.1f/s)", s.events / ((s.last - s.first) / 1e9));
	format_count(s.lost_events, buf, sizeof(buf));
	printf(", %s lost", buf);
	if (s.lost_events) {
		const char *sep = " (";

		for (size_t i = 0; i < tr_nstreams(t); i++)
			if (s.stream_lost[i]) {
				if (s.stream_cpu[i] >= 0)
					printf("%scpu%" PRId64 " %" PRIu64, sep, s.stream_cpu[i],
					       s.stream_lost[i]);
				else
					printf("%s%s %" PRIu64, sep, tr_stream_name(t, i),
					       s.stream_lost[i]);
				sep = ", ";
			}
		printf(")");
	}
	if (s.lost_packets)
		printf(", %" PRIu64 " packets missing", s.lost_packets);
	printf("\n");
	format_size(tr_size(t), buf, sizeof(buf));
	printf("size      %s in %zu streams", buf, tr_nstreams(t));
	if (s.events)
		printf(" (%.1f bytes per event)", (double)tr_size(t) / s.events);
	printf("\n\n");
	if (s.events) {
		print_marker_table(stdout, &s, 0);
		print_histogram(stdout, &s, rows);
	} else {
		printf("no events\n");
	}
	tr_summary_free(&s);
	tr_close(t);
	return status;
}
