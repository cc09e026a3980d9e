/*
 * record_summary.c - the summary at the end of `markers record`
 * (record_summary.h).
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "progress.h"
#include "record_summary.h"
#include "trace_summary.h"

#define MAX_PROC_ROWS 20

int record_incomplete(const char *dir)
{
	struct tr_trace *t;
	char err[600];
	int n = 0;

	if (tr_open(dir, &t, err, sizeof(err)) < 0)
		return trace_incomplete(dir);
	for (unsigned p = 0; p < tr_nprocs(t); p++)
		n |= trace_incomplete(tr_proc(t, p)->dir);
	tr_close(t);
	return n;
}

/* The table of processes: one row each (the busiest first when there are many). */
static void print_processes(struct tr_trace *t, const struct tr_summary *s)
{
	size_t order[MAX_PROC_ROWS], shown = 0;
	uint64_t rest_events = 0, rest_lost = 0;

	/* The first MAX_PROC_ROWS processes by events, kept in recording order. */
	for (size_t i = 0; i < s->nprocs; i++) {
		size_t k = shown;

		if (shown < MAX_PROC_ROWS) {
			order[shown++] = i;
			continue;
		}
		for (size_t j = 0; j < shown; j++)
			if (s->procs[order[j]].events < s->procs[i].events &&
			    (k == shown || s->procs[order[j]].events < s->procs[order[k]].events))
				k = j;
		if (k == shown) {
			rest_events += s->procs[i].events;
			rest_lost += s->procs[i].lost_events;
			continue;
		}
		rest_events += s->procs[order[k]].events;
		rest_lost += s->procs[order[k]].lost_events;
		memmove(&order[k], &order[k + 1], (shown - k - 1) * sizeof(order[0]));
		order[shown - 1] = i;
	}
	/* A filtered column only when a filter rejected something. */
	int filt = tr_summary_filtered(t, s) != 0;

	fprintf(stderr, "  %8s  %-16s %12s %10s%s %10s\n", "pid", "process", "events", "lost",
		filt ? "   filtered" : "", "buffers");
	for (size_t j = 0; j < shown; j++) {
		const struct tr_proc_count *pc = &s->procs[order[j]];
		const struct tr_process *pi = tr_proc(t, pc->proc);
		char ev[32], lost[32], buf[32], fc[32], f[40] = "";

		format_proc_cells(t, pc, ev, lost, buf);
		if (filt) {
			format_count(pi->filtered, fc, sizeof(fc));
			snprintf(f, sizeof(f), " %10s", fc);
		}
		fprintf(stderr, "  %8" PRId64 "  %-16.16s %12s %10s%s %10s%s\n", pi->pid, pi->name, ev,
			lost, f, buf, tr_proc_unfinished(pi) ? "  (still recording)" : "");
	}
	if (shown < s->nprocs) {
		char ev[32], lost[32];

		format_count(rest_events, ev, sizeof(ev));
		format_count(rest_lost, lost, sizeof(lost));
		fprintf(stderr, "  %8s  %-16s %12s %10s\n", "...",
			"(more processes)", ev, lost);
	}
}

/*
 * Per process, what the trace holds against what its tracer counted:
 * recorded + discarded + filtered is every event the process emitted, and
 * the trace must hold exactly recorded events and discarded losses (the
 * filtered ones are only counted).
 */
static void check_accounting(struct tr_trace *t, const struct tr_summary *s)
{
	for (size_t i = 0; i < s->nprocs; i++) {
		const struct tr_proc_count *pc = &s->procs[i];
		const struct tr_process *pi = tr_proc(t, pc->proc);

		if (!pi->has_stats || tr_proc_unfinished(pi) || !strcmp(pi->state, "disk-full") ||
		    !strcmp(pi->state, "write-error"))
			continue;
		if (pc->events + pc->lost_events != pi->recorded + pi->discarded)
			fprintf(stderr,
				"%s record: %s (pid %" PRId64 ") counted %" PRIu64 " events emitted "
				"(%" PRIu64 " recorded, %" PRIu64 " lost, %" PRIu64 " filtered out), "
				"its trace accounts for %" PRIu64 "\n",
				cli_progname, pi->name, pi->pid,
				pi->recorded + pi->discarded + pi->filtered, pi->recorded,
				pi->discarded, pi->filtered,
				pc->events + pc->lost_events + pi->filtered);
	}
}

/*
 * The most buffer memory of processes whose events overlap in time: the
 * live sampling (every 250 ms) misses processes that come and go between
 * two looks.  Each process counts from its first event to its last.
 */
static uint64_t overlap_peak(struct tr_trace *t, const struct tr_summary *s)
{
	uint64_t peak = 0;

	for (size_t i = 0; i < s->nprocs; i++) {
		const struct tr_proc_count *a = &s->procs[i];
		uint64_t sum = 0;

		if (a->first > a->last)
			continue;
		/* At a's first event: every process alive then. */
		for (size_t j = 0; j < s->nprocs; j++) {
			const struct tr_proc_count *b = &s->procs[j];

			if (b->first <= a->first && a->first <= b->last)
				sum += tr_proc(t, b->proc)->buffers;
		}
		if (sum > peak)
			peak = sum;
	}
	return peak;
}

void record_summary(const char *dir, const char *cmd, double secs, int incomplete, uint64_t peak)
{
	struct tr_trace *t;
	struct tr_summary s;
	char err[600], count[32], lost[32], size[32], mem[32], filt[48] = "";
	uint64_t buffers = 0;
	size_t unfinished = 0;

	if (tr_open(dir, &t, err, sizeof(err)) < 0) {
		fprintf(stderr,
			"%s record: no trace in %s: %s does not use libmarkers, or none of its "
			"markers matched\n",
			cli_progname, dir, cmd);
		return;
	}
	if (tr_summarize(t, &s) < 0)
		fprintf(stderr, "%s record: the trace is damaged: %s\n", cli_progname, tr_error(t));
	for (size_t i = 0; i < s.nprocs; i++) {
		const struct tr_process *pi = tr_proc(t, s.procs[i].proc);

		buffers += pi->buffers;
		unfinished += tr_proc_unfinished(pi);
		if (pi->buffers > peak) /* the sampling missed it: it lived less than 250 ms */
			peak = pi->buffers;
	}
	if (overlap_peak(t, &s) > peak)
		peak = overlap_peak(t, &s);
	if (s.nprocs > 1)
		print_processes(t, &s);
	check_accounting(t, &s);
	format_count(s.events, count, sizeof(count));
	format_count(s.lost_events, lost, sizeof(lost));
	format_size(tr_size(t), size, sizeof(size));
	if (tr_summary_filtered(t, &s)) {
		char n[32];

		format_count(tr_summary_filtered(t, &s), n, sizeof(n));
		snprintf(filt, sizeof(filt), ", %s filtered out", n);
	}
	fprintf(stderr, "%s record: ", cli_progname);
	if (s.nprocs > 1)
		fprintf(stderr, "%zu processes, ", s.nprocs);
	fprintf(stderr, "%s events, %s lost%s%s, %.3f s, %s in %s\n", count, lost,
		unfinished ? " (and those of the processes still recording)" : "", filt, secs,
		size, dir);
	if (buffers) {
		format_size(buffers, mem, sizeof(mem));
		fprintf(stderr, "%s record: buffer memory: %s", cli_progname, mem);
		if (s.nprocs > 1) {
			format_size(peak, mem, sizeof(mem));
			fprintf(stderr, " for %zu processes, at most %s seen in use at once", s.nprocs,
				mem);
		}
		fprintf(stderr, " (%ld CPUs)\n", sysconf(_SC_NPROCESSORS_CONF));
	}
	if (s.lost_events && !incomplete)
		fprintf(stderr,
			"%s record: events were lost: a bigger --buffer-size, or fewer markers "
			"(-e), would keep them\n",
			cli_progname);
	if (s.events)
		print_marker_table(stderr, &s, 15);
	fprintf(stderr, "%s record: see the events with: %s view %s\n", cli_progname,
		cli_progname, dir);
	tr_summary_free(&s);
	tr_close(t);
}
