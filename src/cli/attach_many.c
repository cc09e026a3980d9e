/*
 * attach_many.c - `markers record -p PID[,PID...]` and `markers record --all`:
 * running processes into one recording, a trace each below DIR
 * (DIR/NAME-PID-YYYYMMDD-HHMMSS, the layout of a recorded process tree),
 * through their control channels.  Joined while it records: with -p, the
 * named processes' descendants that use libmarkers (a forked child has a
 * control socket of its own); with --all, every process of this user that
 * starts.  A new control socket is seen at once (inotify on the sockets'
 * directory; a listing every second as a fallback, every 250 ms without
 * inotify); what a process fires before it is joined is not recorded, and
 * a process that ends before it could be joined is named in the summary.
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
#include <sys/types.h>
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
#define LIST_WATCHED_S 1.0 /* the fallback listing, when inotify watches the sockets */
#define MAX_MISSED 16

struct target {
	pid_t pid;
	int owner; /* -1: ended, or never started */
	char dir[PATH_MAX];
};

/* Processes that appeared while recording and ended before they could be joined. */
struct missed {
	size_t n, total; /* named, and all of them */
	struct {
		pid_t pid;
		char comm[32];
	} v[MAX_MISSED];
	/* Joined, but ended with nothing recorded: their empty traces are removed (record_tree.h). */
	size_t nempty, empty_total;
	long empty[MAX_MISSED];
};

/* After rt_finish_dead(): the empty traces it removed. */
static void note_pruned(struct missed *ms, const struct rt_totals *tot)
{
	for (unsigned i = 0; i < tot->pruned; i++) {
		ms->empty_total++;
		if (i < sizeof(tot->pruned_pids) / sizeof(tot->pruned_pids[0]) && ms->nempty < MAX_MISSED)
			ms->empty[ms->nempty++] = tot->pruned_pids[i];
	}
}


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

/*
 * Start recording @pid; adds it to @t (also when it fails, so that it is
 * tried once).  @tries: a process whose socket just appeared may not listen
 * yet (bind comes before listen): try again, a few ms apart, while it lives.
 */
static int join(struct target **t, size_t *n, pid_t pid, const struct attach_options *o,
		int quiet, int tries)
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
	for (int i = 0; i < tries && x->owner < 0; i++) {
		if (i)
			poll(NULL, 0, 2);
		x->owner = attach_start(pid, x->dir, o, quiet || i + 1 < tries);
		if (kill(pid, 0) < 0 && errno == ESRCH)
			break;
	}
	if (x->owner < 0) {
		/* Its trace began, and it ended meanwhile: rt_finish_dead() finishes it. */
		if (rmdir(x->dir) < 0 && errno == ENOTEMPTY && kill(pid, 0) < 0 && errno == ESRCH)
			return 0;
		return -1; /* nothing recorded: no empty trace */
	}
	return 0;
}

/* The parent of @pid (/proc/PID/stat), or -1. */
static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	int ppid = -1;
	size_t len;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = 0;
	p = strrchr(buf, ')'); /* the name may hold spaces and parentheses */
	if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

static int known(const struct target *t, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].pid == pid)
			return 1;
	return 0;
}

/* Is @pid a descendant of a process recorded (or tried) here?  Its ancestors, up to init. */
static int descends(const struct target *t, size_t n, pid_t pid)
{
	for (int depth = 0; depth < 64 && (pid = parent_of(pid)) > 1; depth++)
		if (known(t, n, pid))
			return 1;
	return 0;
}

/*
 * A process with a control socket, seen now (@fresh: it started while we
 * record): join it if it is ours to record (--all: any; -p: a descendant
 * of one recorded).  A fresh one that could not be joined (most often: it
 * ended first) goes into @ms, to be named.  Returns 1 if it was joined.
 */
static void note_missed(struct missed *ms, pid_t pid, const char *comm)
{
	ms->total++;
	if (ms->n < MAX_MISSED) {
		ms->v[ms->n].pid = pid;
		snprintf(ms->v[ms->n].comm, sizeof(ms->v[0].comm), "%s", comm);
		ms->n++;
	}
}

static int consider(struct target **t, size_t *n, pid_t pid, int fresh, int all,
		    const struct attach_options *o, struct missed *ms)
{
	char comm[32];

	if (known(*t, *n, pid) || (!all && !descends(*t, *n, pid)))
		return 0;
	proc_comm(pid, comm, sizeof(comm)); /* now: once it is gone, nobody can say */
	if (join(t, n, pid, o, 1, fresh ? 10 : 1) == 0)
		return 1;
	if (fresh)
		note_missed(ms, pid, comm);
	return 0;
}

/* Name the processes that came and went unrecorded: their events are not in the recording. */
static void say_missed(const struct missed *ms)
{
	if (ms->empty_total) {
		fprintf(stderr, "%s record: %zu process%s ended with no event recorded after %s joined "
			"(no trace kept):", cli_progname, ms->empty_total,
			ms->empty_total == 1 ? "" : "es", ms->empty_total == 1 ? "it was" : "they were");
		for (size_t i = 0; i < ms->nempty; i++)
			fprintf(stderr, " %ld%s", ms->empty[i], i + 1 < ms->nempty ? "," : "");
		fprintf(stderr, "%s\n", ms->empty_total > ms->nempty ? ", ..." : "");
	}
	if (!ms->total)
		return;
	fprintf(stderr, "%s record: %zu process%s started while recording and could not be "
		"joined in time: not in the recording:", cli_progname, ms->total,
		ms->total == 1 ? "" : "es");
	for (size_t i = 0; i < ms->n; i++)
		fprintf(stderr, " %d (%s)%s", (int)ms->v[i].pid, ms->v[i].comm,
			i + 1 < ms->n ? "," : "");
	fprintf(stderr, "%s\n", ms->total > ms->n ? ", ..." : "");
}

int attach_record_many(const pid_t *pids, size_t npids, int all, const struct attach_options *o)
{
	struct stop_signals sigs;
	int progress = o->progress < 0 ? isatty(2) : o->progress, rec_fd, ret = 0;
	struct target *t = NULL;
	size_t n = 0, started = 0;
	struct rt_totals tot = {0};
	struct missed ms = {0};
	uint64_t peak = 0;
	double t0 = now_s(), next_list = 0, next_tick = 0;
	int wfd;

	rec_fd = rt_begin(o->dir, NULL);
	if (rec_fd < 0)
		return 1;
	stop_signals_catch(&sigs);
	/* Watch first: a process that starts between the listing and the watch is seen. */
	wfd = ctl_watch();
	for (size_t i = 0; i < npids; i++)
		started += join(&t, &n, pids[i], o, 0, 1) == 0;
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
		pid_t fresh[256];
		int nf = wfd >= 0 ? ctl_watch_read(wfd, fresh, 256) : 0;

		for (int i = 0; i < nf; i++)
			started += consider(&t, &n, fresh[i], 1, all, o, &ms);
		if (now_s() >= next_list) {
			pid_t *now = NULL;
			int k = ctl_list_pids(&now);

			/* After the first listing, any pid not seen before started meanwhile. */
			for (int i = 0; i < k; i++)
				started += consider(&t, &n, now[i], next_list > 0, all, o, &ms);
			free(now);
			next_list = now_s() + (wfd >= 0 ? LIST_WATCHED_S : TICK_MS / 1000.0);
		}
		if (now_s() < next_tick) {
			struct pollfd p = {.fd = wfd, .events = POLLIN};
			double until = next_tick;

			if (o->duration > 0 && t0 + o->duration < until)
				until = t0 + o->duration;
			poll(&p, wfd >= 0, (int)((until - now_s()) * 1000) + 1);
			continue;
		}
		next_tick = now_s() + TICK_MS / 1000.0;
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
		note_pruned(&ms, &tot);
		if (tot.live_buffers > peak)
			peak = tot.live_buffers;
		if (progress) {
			char ev[32], lost[32];

			format_count(tot.recorded, ev, sizeof(ev));
			format_count(tot.discarded, lost, sizeof(lost));
			fprintf(stderr, "\r\033[Krecording %zu process%s: %s events, %s lost, %.0f s",
				live, live == 1 ? "" : "es", ev, lost, now_s() - t0);
		}
	}
	if (progress)
		fprintf(stderr, "\r\033[K");
	/* Sockets created since the last look: started while recording, not joined. */
	{
		pid_t fresh[256];
		char comm[32];
		int nf = wfd >= 0 ? ctl_watch_read(wfd, fresh, 256) : 0;

		for (int i = 0; i < nf; i++)
			if (!known(t, n, fresh[i]) && (all || descends(t, n, fresh[i]))) {
				proc_comm(fresh[i], comm, sizeof(comm));
				note_missed(&ms, fresh[i], comm);
			}
	}
	for (size_t i = 0; i < n; i++)
		if (t[i].owner >= 0)
			ret |= attach_stop(t[i].owner, t[i].pid, t[i].dir);
	rt_finish_dead(o->dir, &tot);
	note_pruned(&ms, &tot);
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
	say_missed(&ms);
out:
	if (wfd >= 0)
		close(wfd);
	rt_end(rec_fd, o->dir, "finished");
	if (!started) { /* nothing recorded: no .record either, so that DIR can go */
		char path[PATH_MAX + 16];

		snprintf(path, sizeof(path), "%s/.record", o->dir);
		unlink(path);
	}
	stop_signals_restore(&sigs);
	free(t);
	return ret;
}
