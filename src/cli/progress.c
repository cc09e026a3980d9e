/*
 * progress.c - live counters of a recording, and tables about a trace.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "progress.h"

int live_stats_read(const char *dir, struct live_stats *ls)
{
	char path[4096], key[64], val[64];
	FILE *f;

	memset(ls, 0, sizeof(*ls));
	snprintf(path, sizeof(path), "%s/.stats", dir);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	/* The file is replaced by rename: this handle reads one whole version. */
	while (fscanf(f, "%63s %63s", key, val) == 2) {
		if (!strcmp(key, "recorded"))
			ls->recorded = strtoull(val, NULL, 10);
		else if (!strcmp(key, "discarded"))
			ls->discarded = strtoull(val, NULL, 10);
		else if (!strcmp(key, "bytes"))
			ls->bytes = strtoull(val, NULL, 10);
		else if (!strcmp(key, "buffers"))
			ls->buffers = strtoull(val, NULL, 10);
		else if (!strcmp(key, "filtered"))
			ls->filtered = strtoull(val, NULL, 10);
		else if (!strcmp(key, "pid"))
			ls->pid = strtol(val, NULL, 10);
		else if (!strcmp(key, "state"))
			snprintf(ls->state, sizeof(ls->state), "%.31s", val);
		else if (!strcmp(key, "error"))
			snprintf(ls->error, sizeof(ls->error), "%.31s", val);
	}
	fclose(f);
	return 0;
}

int trace_incomplete(const char *dir)
{
	struct live_stats ls;
	char lost[32];

	if (live_stats_read(dir, &ls) < 0 || !ls.error[0])
		return 0;
	if (!strcmp(ls.state, "failed")) {
		fprintf(stderr, "%s record: the recording could not start in %s: %s (%s)\n",
			cli_progname, dir, strcmp(ls.error, "ENOSPC") && strcmp(ls.error, "EDQUOT")
				? "an error" : "no space left", ls.error);
		return 1;
	}
	format_count(ls.discarded, lost, sizeof(lost));
	if (!strcmp(ls.state, "disk-full"))
		fprintf(stderr,
			"%s record: the trace in %s is incomplete: the disk is full (%s); %s events "
			"lost, every one counted\n",
			cli_progname, dir, ls.error, lost);
	else
		fprintf(stderr,
			"%s record: the trace in %s may be incomplete: a write failed (%s); %s events "
			"counted as lost, and data the file system could not write back may be "
			"missing\n",
			cli_progname, dir, ls.error, lost);
	return 1;
}

void format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
	double v = bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(buf, len, "%" PRIu64 " bytes", bytes);
		return;
	}
	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f %s", v, units[u]);
}

void format_count(uint64_t n, char *buf, size_t len)
{
	char tmp[32];
	int digits = snprintf(tmp, sizeof(tmp), "%" PRIu64, n);
	size_t o = 0;

	for (int i = 0; i < digits && o + 2 < len; i++) {
		if (i && (digits - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = 0;
}

void print_marker_table(FILE *f, const struct tr_summary *s, size_t max_rows)
{
	double secs = s->last > s->first ? (s->last - s->first) / 1e9 : 0;
	size_t width = 6, rows = 0;

	for (size_t i = 0; i < s->nmarkers; i++)
		if (s->markers[i].count && strlen(s->markers[i].name) > width)
			width = strlen(s->markers[i].name);
	if (width > 48)
		width = 48;
	fprintf(f, "  %-*s %14s %12s %7s\n", (int)width, "marker", "count", "rate/s", "share");
	for (size_t i = 0; i < s->nmarkers; i++) {
		const struct tr_marker_count *m = &s->markers[i];
		char count[32], rate[32];

		if (!m->count)
			continue;
		if (max_rows && rows == max_rows) {
			size_t more = 0;

			for (; i < s->nmarkers; i++)
				more += s->markers[i].count != 0;
			fprintf(f, "  ... %zu more (markers stats shows all)\n", more);
			break;
		}
		format_count(m->count, count, sizeof(count));
		if (secs > 0 && m->count / secs >= 1000)
			format_count((uint64_t)(m->count / secs + 0.5), rate, sizeof(rate));
		else if (secs > 0)
			snprintf(rate, sizeof(rate), "%.1f", m->count / secs);
		else
			snprintf(rate, sizeof(rate), "-");
		fprintf(f, "  %-*s %14s %12s %6.1f%%\n", (int)width, m->name, count, rate,
			100.0 * m->count / (s->events ? s->events : 1));
		rows++;
	}
}

void format_proc_cells(const struct tr_trace *t, const struct tr_proc_count *pc, char ev[32],
		       char lost[32], char buf[32])
{
	const struct tr_process *pi = tr_proc(t, pc->proc);

	format_count(pc->events, ev, 32);
	if (tr_proc_unfinished(pi))
		snprintf(lost, 32, "?");
	else
		format_count(pc->lost_events, lost, 32);
	if (pi->buffers)
		format_size(pi->buffers, buf, 32);
	else
		snprintf(buf, 32, "-");
}
