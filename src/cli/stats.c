/*
 * stats.c - `markers stats DIR`: per process its events and losses; per
 * marker count, rate and share; events lost, per CPU; a text histogram of
 * events over time.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "pair_stats.h"
#include "proc_select.h"
#include "progress.h"
#include "trace_format.h"
#include "trace_reader.h"
#include "trace_summary.h"

#define BAR 50

static void usage(FILE *f)
{
	fprintf(f, "usage: %s stats [--rows N] [--pid PIDS] DIR\n"
		   "       %s stats --pair BEGIN,END[:KEY] [--pid PIDS] DIR\n"
		   "\n"
		   "Summarize the recording in DIR: for each process its events and losses; for\n"
		   "each marker its count, rate and share of the events; events the tracer lost,\n"
		   "per CPU; and a histogram of events over time.  Lost events are counted per\n"
		   "CPU buffer, not per marker: a dropped event is never decoded.  A process\n"
		   "whose trace was never finished has an unknown end: its losses show as '?'.\n"
		   "\n"
		   "  -r, --rows N     rows of the histogram at most (default 20)\n"
		   "  -p, --pid PIDS   only these processes (comma-separated; repeatable)\n"
		   "  -P, --pair BEGIN,END[:KEY]\n"
		   "                   instead, the latency from each BEGIN event to its END:\n"
		   "                   count, min, p50, p90, p99, max and a histogram; they pair\n"
		   "                   by the field KEY within a process, or without KEY by\n"
		   "                   thread, innermost first; unmatched ones are counted\n"
		   "  -h, --help       this help\n",
		   cli_progname, cli_progname);
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

/* One row per process: what its events say, and what its tracer counted. */
static void print_process_table(FILE *f, struct tr_trace *t, const struct tr_summary *s)
{
	/* A filtered column only when a filter rejected something. */
	int filt = tr_summary_filtered(t, s) != 0;

	fprintf(f, "%8s  %-16s %12s %10s%s %12s  %s\n", "pid", "process", "events", "lost",
		filt ? "   filtered" : "", "buffers", "time");
	for (size_t i = 0; i < s->nprocs; i++) {
		const struct tr_proc_count *pc = &s->procs[i];
		const struct tr_process *pi = tr_proc(t, pc->proc);
		char ev[32], lost[32], buf[32], a[48], b[48], fc[32], fcol[40] = "";

		format_proc_cells(t, pc, ev, lost, buf);
		if (filt) {
			format_count(pi->filtered, fc, sizeof(fc));
			snprintf(fcol, sizeof(fcol), " %10s", fc);
		}
		fprintf(f, "%8" PRId64 "  %-16.16s %12s %10s%s %12s", pi->pid, pi->name, ev, lost,
			fcol, buf);
		if (pc->first <= pc->last) {
			tr_format_time(pc->first, 0, a, sizeof(a));
			tr_format_time(pc->last, 0, b, sizeof(b));
			fprintf(f, "  %s to %s", a, b);
		}
		if (tr_proc_unfinished(pi))
			fprintf(f, "  (unfinished: end unknown)");
		fputc('\n', f);
	}
	fputc('\n', f);
}

int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{"rows", required_argument, NULL, 'r'},
		{"pid", required_argument, NULL, 'p'},
		{"pair", required_argument, NULL, 'P'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct pid_list pids = {0};
	struct tr_summary s;
	struct tr_trace *t = NULL;
	char err[600], buf[64], buf2[64];
	unsigned long rows = 20;
	int opt, rc, status = 2, unfinished = 0;
	char *end;
	const char *pair = NULL;

	char *pos[argc];
	size_t npos = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "-r:p:P:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'P':
			pair = optarg;
			break;
		case 1: /* a positional argument, wherever it is (options may follow) */
			pos[npos++] = optarg;
			break;
		case 'r':
			rows = strtoul(optarg, &end, 10);
			if (*end || !rows || rows > 1000) {
				fprintf(stderr, "%s stats: --rows wants 1 to 1000\n", cli_progname);
				goto out;
			}
			break;
		case 'p':
			if (pid_list_parse(&pids, optarg, "stats") < 0)
				goto out;
			break;
		case 'h':
			usage(stdout);
			status = 0;
			goto out;
		default:
			usage(stderr);
			goto out;
		}
	}
	while (optind < argc) /* after "--" */
		pos[npos++] = argv[optind++];
	if (npos != 1) {
		fprintf(stderr, "%s stats: %s\n", cli_progname,
			!npos ? "which trace? (markers stats DIR)" : "one trace at a time");
		goto out;
	}
	if (pair) {
		status = pair_stats_print(pos[0], pair, pids.v, pids.n);
		goto out;
	}
	status = 1;
	if (tr_open(pos[0], &t, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s stats: %s\n", cli_progname, err);
		goto out;
	}
	if (pids.n && tr_select(t, pids.v, pids.n) < (int)pids.n) {
		pid_list_missing(&pids, t, "stats", pos[0]);
		goto out;
	}
	status = 0;
	rc = tr_summarize(t, &s);
	if (rc < 0) {
		/* A damaged trace: say where, and summarize what came before. */
		fprintf(stderr, "%s stats: %s\n", cli_progname, tr_error(t));
		status = 1;
	}
	for (size_t i = 0; i < s.nprocs; i++)
		unfinished += tr_proc_unfinished(tr_proc(t, s.procs[i].proc));
	printf("trace     %s\n", pos[0]);
	if (s.nprocs == 1) {
		const struct tr_process *pi = tr_proc(t, s.procs[0].proc);

		printf("process   %s", pi->name);
		if (pi->pid >= 0)
			printf(" (pid %" PRId64 ")", pi->pid);
		printf("\n");
	} else {
		printf("processes %zu\n", s.nprocs);
	}
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
	if (s.lost_events && s.nprocs == 1) {
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
	if (unfinished)
		printf(" + unknown (%d process%s unfinished)", unfinished,
		       unfinished == 1 ? "" : "es");
	if (s.lost_packets)
		printf(", %" PRIu64 " packets missing", s.lost_packets);
	if (tr_summary_filtered(t, &s)) {
		format_count(tr_summary_filtered(t, &s), buf, sizeof(buf));
		printf(", %s filtered out", buf);
	}
	printf("\n");
	format_size(tr_size(t), buf, sizeof(buf));
	printf("size      %s in %zu streams", buf, tr_nstreams(t));
	if (s.events)
		printf(" (%.1f bytes per event)", (double)tr_size(t) / s.events);
	printf("\n\n");
	if (s.nprocs > 1 || unfinished)
		print_process_table(stdout, t, &s);
	if (s.events) {
		print_marker_table(stdout, &s, 0);
		print_histogram(stdout, &s, rows);
	} else {
		printf("no events\n");
	}
	fflush(stdout);
	warn_unfinished(t, "stats");
	tr_summary_free(&s);
out:
	tr_close(t);
	free(pids.v);
	return status;
}
