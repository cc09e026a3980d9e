/*
 * attach_many.c - `markers record -p PID,PID...` and `markers record --all`:
 * several running processes into one recording, a trace each below DIR
 * (DIR/NAME-PID-YYYYMMDD-HHMMSS, the layout of a recorded process tree),
 * through their control channels.  With --all, the processes of this user
 * that start while it records are joined too (polled every 250 ms: events
 * a new process fires before it is joined are not in the recording).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "stop_signals.h"
#include "commands.h"
#include "control_client.h"
#include "progress.h"
#include "record_summary.h"
#include "record_tree.h"

#define TICK_MS 250

struct target {
	pid_t pid;
	int owner; /* -1: ended, or never started */
	char dir[PATH_MAX];
};


/* Make @root/NAME-PID-DATE for @pid (a free name).  Returns 0, or -1 (said). */
static int make_trace_dir(const char *root, pid_t pid, char *out, size_t cap)
{
	char comm[64], name[40];
	time_t now = time(NULL);
	struct tm tm;
	size_t k = 0;

	proc_comm(pid, comm, sizeof(comm));
	for (const char *c = comm; *c && k < 32; c++)
		name[k++] = strchr("._+-", *c) || (*c >= '0' && *c <= '9') ||
					    (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')
				    ? *c
				    : '_';
	if (!k || name[0] == '.')
		name[k ? 0 : k++] = '_';
	name[k] = 0;
	gmtime_r(&now, &tm);
	for (int n = 1; n < 1000; n++) {
		char suffix[16] = "";

		if (n > 1)
			snprintf(suffix, sizeof(suffix), "-%d", n);
		if ((size_t)snprintf(out, cap, "%s/%s-%d-%04d%02d%02d-%02d%02d%02d%s", root, name,
				     (int)pid, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
				     tm.tm_hour, tm.tm_min, tm.tm_sec, suffix) >= cap)
			break;
		if (!mkdir(out, 0755))
			return 0;
		if (errno != EEXIST)
			break;
	}
	fprintf(stderr, "%s record: cannot make a trace directory for process %d in %s: %m\n",
		cli_progname, (int)pid, root);
	return -1;
}

/* Start recording @pid; adds it to @t (also when it fails, so that --all tries once). */
static int join(struct target **t, size_t *n, pid_t pid, const struct attach_options *o,
		int quiet)
{
	struct target *m = realloc(*t, (*n + 1) * sizeof(**t)), *x;

	if (!m)
		return -1;
	*t = m;
	x = &m[(*n)++];
	x->pid = pid;
	x->owner = -1;
	if (make_trace_dir(o->dir, pid, x->dir, sizeof(x->dir)) < 0)
		return -1;
	x->owner = attach_start(pid, x->dir, o, quiet);
	if (x->owner < 0) {
		rmdir(x->dir); /* nothing recorded: no empty trace */
		return -1;
	}
	return 0;
}

static int known(const struct target *t, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].pid == pid)
			return 1;
	return 0;
}

int attach_record_many(const pid_t *pids, size_t npids, int all, const struct attach_options *o)
{
	struct stop_signals sigs;
	int progress = o->progress < 0 ? isatty(2) : o->progress, rec_fd, ret = 0;
	struct target *t = NULL;
	size_t n = 0, started = 0;
	struct rt_totals tot = {0};
	uint64_t peak = 0;
	double t0 = now_s();

	rec_fd = rt_begin(o->dir, NULL);
	if (rec_fd < 0)
		return 1;
	stop_signals_catch(&sigs);
	for (size_t i = 0; i < npids; i++)
		started += join(&t, &n, pids[i], o, 0) == 0;
	if (!all && !started) {
		ret = 1;
		goto out;
	}
	if (!progress)
		fprintf(stderr, "recording %s into %s (%s)\n",
			all ? "every process of yours with libmarkers" : "the processes", o->dir,
			o->duration > 0 ? "until the duration ends" : "Ctrl-C to stop");
	while (!stop_requested && !(o->duration > 0 && now_s() - t0 >= o->duration)) {
		size_t live = 0;

		if (all) {
			pid_t *now = NULL;
			int k = ctl_list_pids(&now);

			for (int i = 0; i < k; i++)
				if (!known(t, n, now[i]))
					started += join(&t, &n, now[i], o, 1) == 0;
			free(now);
		}
		for (size_t i = 0; i < n; i++) {
			struct pollfd p = {.fd = t[i].owner, .events = POLLIN};

			if (t[i].owner < 0)
				continue;
			/* The owner connection carries nothing more: readable means the process ended. */
			if (poll(&p, 1, 0) > 0 || (kill(t[i].pid, 0) < 0 && errno == ESRCH)) {
				close(t[i].owner);
				t[i].owner = -1;
				continue;
			}
			live++;
		}
		if (!all && !live)
			break; /* every process ended */
		rt_finish_dead(o->dir, &tot);
		if (tot.live_buffers > peak)
			peak = tot.live_buffers;
		if (progress) {
			char ev[32], lost[32];

			format_count(tot.recorded, ev, sizeof(ev));
			format_count(tot.discarded, lost, sizeof(lost));
			fprintf(stderr, "\r\033[Krecording %zu process%s: %s events, %s lost, %.0f s",
				live, live == 1 ? "" : "es", ev, lost, now_s() - t0);
		}
		poll(NULL, 0, TICK_MS);
	}
	if (progress)
		fprintf(stderr, "\r\033[K");
	for (size_t i = 0; i < n; i++)
		if (t[i].owner >= 0)
			ret |= attach_stop(t[i].owner, t[i].pid, t[i].dir);
	rt_finish_dead(o->dir, &tot);
	ret |= tot.failed;
	if (!started) {
		fprintf(stderr, "%s record: no process of yours with libmarkers %s\n", cli_progname,
			all ? "appeared" : "could be recorded");
		ret = 1;
		goto out;
	}
	ret |= record_incomplete(o->dir);
	if (o->progress)
		record_summary(o->dir, "the processes", now_s() - t0, ret, peak);
out:
	rt_end(rec_fd, o->dir, "finished");
	stop_signals_restore(&sigs);
	free(t);
	return ret;
}
