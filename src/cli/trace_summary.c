/*
 * trace_summary.c - totals of a whole recording (trace_summary.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace_summary.h"

static int cmp_count(const void *a, const void *b)
{
	const struct tr_marker_count *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * Put @ts in a bucket; when past the last one, halve the resolution (events
 * come in order): pairs of buckets merge, and so do the buckets in use.
 */
static void hist_add(struct tr_summary *s, int64_t ts, uint64_t events, uint64_t lost)
{
	uint64_t i;

	if (ts < s->first)
		ts = s->first;
	for (;;) {
		i = (uint64_t)(ts - s->first) / (uint64_t)s->width;
		if (i < TR_HIST_BUCKETS)
			break;
		for (size_t k = 0; k < TR_HIST_BUCKETS / 2; k++) {
			s->hist[k] = s->hist[2 * k] + s->hist[2 * k + 1];
			s->hist_lost[k] = s->hist_lost[2 * k] + s->hist_lost[2 * k + 1];
		}
		memset(s->hist + TR_HIST_BUCKETS / 2, 0, sizeof(s->hist) / 2);
		memset(s->hist_lost + TR_HIST_BUCKETS / 2, 0, sizeof(s->hist_lost) / 2);
		s->width *= 2;
		s->nhist = (s->nhist + 1) / 2;
	}
	s->hist[i] += events;
	s->hist_lost[i] += lost;
	if (i + 1 > s->nhist)
		s->nhist = i + 1;
}

int tr_proc_unfinished(const struct tr_process *p)
{
	return p->has_stats && !strcmp(p->state, "recording");
}

int tr_summarize(struct tr_trace *t, struct tr_summary *s)
{
	size_t nprocs = tr_nprocs(t), nstreams = tr_nstreams(t), nclasses = 0;
	size_t **slot;    /* per process, per event class: its index in s->markers */
	size_t *proc_row; /* per process: its index in s->procs, or SIZE_MAX */
	struct tr_event ev;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	s->first = INT64_MAX;
	s->last = INT64_MIN;
	s->width = 1000; /* 1 us, doubled as needed */
	for (unsigned p = 0; p < nprocs; p++)
		nclasses += tr_proc(t, p)->meta->nevents;
	s->markers = calloc(nclasses + 1, sizeof(*s->markers));
	s->procs = calloc(nprocs + 1, sizeof(*s->procs));
	s->stream_lost = calloc(nstreams + 1, sizeof(*s->stream_lost));
	s->stream_cpu = calloc(nstreams + 1, sizeof(*s->stream_cpu));
	slot = calloc(nprocs + 1, sizeof(*slot));
	proc_row = calloc(nprocs + 1, sizeof(*proc_row));
	if (!s->markers || !s->procs || !s->stream_lost || !s->stream_cpu || !slot || !proc_row)
		goto nomem;
	/* One row per name: several declarations (processes, types) may share one. */
	for (unsigned p = 0; p < nprocs; p++) {
		const struct tr_process *pi = tr_proc(t, p);
		const struct tm_trace *m = pi->meta;

		proc_row[p] = SIZE_MAX;
		if (pi->selected || !tr_select_active(t)) {
			proc_row[p] = s->nprocs;
			s->procs[s->nprocs].proc = p;
			s->procs[s->nprocs].first = INT64_MAX;
			s->procs[s->nprocs++].last = INT64_MIN;
		}
		slot[p] = calloc(m->nevents + 1, sizeof(**slot));
		if (!slot[p])
			goto nomem;
		for (size_t i = 0; i < m->nevents; i++) {
			size_t k;

			for (k = 0; k < s->nmarkers; k++)
				if (!strcmp(s->markers[k].name, m->events[i]->name))
					break;
			if (k == s->nmarkers) {
				s->markers[k].name = m->events[i]->name;
				s->nmarkers++;
			}
			slot[p][i] = k;
		}
	}
	for (size_t i = 0; i < nstreams; i++)
		s->stream_cpu[i] = -1;
	while ((rc = tr_next(t, &ev)) > 0) {
		struct tr_proc_count *pc = &s->procs[proc_row[ev.proc]];

		if (s->first == INT64_MAX)
			s->first = ev.ts;
		if (ev.ts > s->last)
			s->last = ev.ts;
		if (pc->first == INT64_MAX)
			pc->first = ev.ts;
		if (ev.ts > pc->last)
			pc->last = ev.ts;
		s->stream_cpu[ev.stream] = ev.cpu;
		if (ev.kind == TR_LOST) {
			s->lost_events += ev.lost_events;
			s->lost_packets += ev.lost_packets;
			pc->lost_events += ev.lost_events;
			pc->lost_packets += ev.lost_packets;
			s->stream_lost[ev.stream] += ev.lost_events;
			hist_add(s, ev.ts, 0, ev.lost_events);
			continue;
		}
		struct tr_marker_count *c = &s->markers[slot[ev.proc][ev.cls->index]];

		if (!c->count)
			c->first = ev.ts;
		c->count++;
		c->last = ev.ts;
		s->events++;
		pc->events++;
		hist_add(s, ev.ts, 1, 0);
	}
	/* Markers that only unselected processes declared are not rows. */
	{
		size_t k = 0;

		for (size_t i = 0; i < s->nmarkers; i++)
			if (s->markers[i].count || !tr_select_active(t))
				s->markers[k++] = s->markers[i];
		s->nmarkers = k;
	}
	qsort(s->markers, s->nmarkers, sizeof(*s->markers), cmp_count);
	rc = rc < 0 ? -1 : 0;
	goto out;
nomem:
	tr_set_error(t, "out of memory");
out:
	for (size_t p = 0; slot && p < nprocs; p++)
		free(slot[p]);
	free(slot);
	free(proc_row);
	return rc;
}

void tr_summary_free(struct tr_summary *s)
{
	free(s->markers);
	free(s->procs);
	free(s->stream_lost);
	free(s->stream_cpu);
	memset(s, 0, sizeof(*s));
}

uint64_t tr_summary_filtered(const struct tr_trace *t, const struct tr_summary *s)
{
	uint64_t n = 0;

	for (size_t i = 0; i < s->nprocs; i++)
		n += tr_proc(t, s->procs[i].proc)->filtered;
	return n;
}
