/*
 * attach.c - `markers record -p PID`: the target's own libmarkers records
 * (its tracer writes the trace); this side asks it to start, shows
 * progress, and asks it to stop.
 *
 * The connection that started the recording stays open until the end: if
 * this command dies in any way (even SIGKILL), the target sees it close and
 * stops the recording itself, so no recording outlives its recorder.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "stop_signals.h"
#include "progress.h"
#include "commands.h"
#include "control_client.h"

#define TICK_MS 250


struct counts {
	uint64_t recorded, discarded, bytes, filtered;
};

/* The counters of a control reply; `filtered` is absent from older libraries' (0). */
static int parse_counts(const char *text, struct counts *c)
{
	c->filtered = 0;
	return sscanf(text, "recorded %" SCNu64 "\ndiscarded %" SCNu64 "\nbytes %" SCNu64
			    "\nfiltered %" SCNu64,
		      &c->recorded, &c->discarded, &c->bytes, &c->filtered) >= 3
		       ? 0
		       : -EPROTO;
}

/* An absolute path for @dir, since the target resolves it in its own cwd. */
static int absolute_dir(const char *dir, pid_t pid, char *out, size_t cap)
{
	char cwd[PATH_MAX], def[64];
	int n;

	if (!dir || !*dir) {
		time_t t = time(NULL);
		struct tm tm;

		localtime_r(&t, &tm);
		snprintf(def, sizeof(def), "markers-%d-", (int)pid);
		strftime(def + strlen(def), sizeof(def) - strlen(def), "%Y%m%d-%H%M%S", &tm);
		dir = def;
	}
	if (dir[0] == '/')
		n = snprintf(out, cap, "%s", dir);
	else if (getcwd(cwd, sizeof(cwd)))
		n = snprintf(out, cap, "%s/%s", cwd, dir);
	else
		return -errno;
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static const char *start_error(int status)
{
	switch (-status) {
	case EBUSY:
		return "it is already recording (another markers record -p, or MARKERS_RECORD); "
		       "stop that first";
	case ENOSYS:
		return "its libmarkers has no tracer";
	}
	return strerror(-status);
}

static void fmt_bytes(uint64_t b, char *out, size_t cap)
{
	if (b >= 10ull << 20)
		snprintf(out, cap, "%.1f MiB", b / 1048576.0);
	else if (b >= 10ull << 10)
		snprintf(out, cap, "%.1f KiB", b / 1024.0);
	else
		snprintf(out, cap, "%" PRIu64 " B", b);
}

/* Ask for the current counts on a connection of its own.  Returns 0 or -errno. */
static int get_counts(pid_t pid, struct counts *c)
{
	const char *argv[] = {"trace-stats"};
	struct ctl_reply r;
	char err[256];
	int ret = ctl_request(pid, 1, argv, &r, err, sizeof(err));

	if (ret < 0)
		return ret;
	ret = r.status < 0 ? r.status : parse_counts(r.text, c);
	free(r.text);
	return ret;
}

/* Enable every glob for the recording.  Returns markers matched, or -1 (printed). */
static int enable_globs(pid_t pid, const struct attach_options *o)
{
	static const char *const all[] = {"*"};
	const char *const *globs = o->nglobs ? o->globs : all;
	size_t n = o->nglobs ? o->nglobs : 1;
	int total = 0;

	for (size_t i = 0; i < n; i++) {
		const char *filter = o->nglobs && o->filters ? o->filters[i] : NULL;
		char *farg = NULL;
		const char *argv[] = {"enable", globs[i], NULL};
		struct ctl_reply r;
		char err[512];

		if (filter && asprintf(&farg, "filter=%s", filter) < 0)
			return -1;
		argv[2] = farg;
		if (ctl_request(pid, filter ? 3 : 2, argv, &r, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s record: %s\n", cli_progname, err);
			free(farg);
			return -1;
		}
		free(farg);
		if (r.status < 0) {
			/* A filter's problem comes with its reason. */
			fprintf(stderr, "%s record: process %d: '%s': %s\n", cli_progname, (int)pid,
				globs[i], r.text && *r.text ? r.text : strerror(-r.status));
			free(r.text);
			return -1;
		}
		free(r.text);
		if (r.status == 0)
			fprintf(stderr, "%s record: warning: no marker of process %d matches '%s'\n",
				cli_progname, (int)pid, globs[i]);
		total += r.status;
	}
	return total;
}

/* Wait until Ctrl-C, the duration, or the target's end.  Returns 1 if the target went away. */
static int wait_for_end(int owner, pid_t pid, const struct attach_options *o, int progress,
			double t0)
{
	struct counts c = {0};

	for (;;) {
		struct pollfd p = {.fd = owner, .events = POLLIN};
		double now = now_s();
		int r;

		if (stop_requested)
			return 0;
		if (o->duration > 0 && now - t0 >= o->duration)
			return 0;
		r = poll(&p, 1, TICK_MS);
		/* The owner connection carries nothing more: readable means closed. */
		if (r > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)))
			return 1;
		if (kill(pid, 0) < 0 && errno == ESRCH)
			return 1;
		if (progress && get_counts(pid, &c) == 0) {
			char b[32];

			fmt_bytes(c.bytes, b, sizeof(b));
			fprintf(stderr, "\r\033[Krecording %d: %" PRIu64 " events, %s, %" PRIu64
					" lost, %.0f s",
				(int)pid, c.recorded, b, c.discarded, now_s() - t0);
		}
	}
}

int attach_start(pid_t pid, const char *dir, const struct attach_options *o, int quiet)
{
	char darg[PATH_MAX + 8], sub[48], nsub[48], ow[16], live[32], err[512];
	const char *argv[6];
	struct ctl_reply r;
	int owner, argc = 5;

	snprintf(darg, sizeof(darg), "dir=%s", dir);
	snprintf(sub, sizeof(sub), "subbuf=%zu", o->subbuf_size);
	snprintf(nsub, sizeof(nsub), "nsubbufs=%u", o->nsubbufs);
	snprintf(ow, sizeof(ow), "overwrite=%d", !!o->overwrite);
	argv[0] = "trace-start", argv[1] = darg, argv[2] = sub, argv[3] = nsub, argv[4] = ow;
	if (o->live_period_ms) { /* only then: a process of an older library refuses it */
		snprintf(live, sizeof(live), "live=%u", o->live_period_ms);
		argv[argc++] = live;
	}
	owner = ctl_connect(pid, err, sizeof(err));
	if (owner < 0) {
		if (!quiet)
			fprintf(stderr, "%s record: %s\n", cli_progname, err);
		return -1;
	}
	if (ctl_call(owner, pid, argc, argv, &r, err, sizeof(err)) < 0) {
		if (!quiet)
			fprintf(stderr, "%s record: %s\n", cli_progname, err);
		close(owner);
		return -1;
	}
	free(r.text);
	if (r.status < 0) {
		if (!quiet || r.status == -EBUSY)
			fprintf(stderr, "%s record: process %d cannot record into %s: %s\n",
				cli_progname, (int)pid, dir, start_error(r.status));
		close(owner);
		return -1;
	}
	if (enable_globs(pid, o) <= 0) {
		/* Closing the owner connection stops the recording in the target. */
		close(owner);
		return -1;
	}
	return owner;
}

int attach_stop(int owner, pid_t pid, const char *dir)
{
	const char *argv[] = {"trace-stop"};
	struct ctl_reply r;
	char err[512];
	int ret = 0;

	if (ctl_call(owner, pid, 1, argv, &r, err, sizeof(err)) < 0) {
		/* Gone meanwhile: its library finished the trace, or the recorder recovers it. */
		close(owner);
		return 0;
	}
	if (r.status < 0 && !trace_incomplete(dir)) {
		fprintf(stderr, "%s record: process %d could not stop the recording: %s\n",
			cli_progname, (int)pid, strerror(-r.status));
		ret = 1;
	} else if (r.status < 0) {
		ret = 1;
	}
	free(r.text);
	close(owner);
	return ret;
}

int attach_record(pid_t pid, const struct attach_options *o)
{
	char dir[PATH_MAX + 8], sub[48], nsub[48], ow[16], live[32], err[512], b[32];
	const char *argv[6];
	int argc = 5;
	struct stop_signals sigs;
	struct ctl_reply r;
	struct counts c = {0};
	int owner, progress, gone, ret = 1;
	double t0;

	if (!o || o->size < sizeof(*o)) {
		fprintf(stderr, "%s record: internal error: attach options too old\n", cli_progname);
		return 1;
	}
	memcpy(dir, "dir=", 4);
	if (absolute_dir(o->dir, pid, dir + 4, sizeof(dir) - 4) < 0) {
		fprintf(stderr, "%s record: output directory name too long\n", cli_progname);
		return 1;
	}
	snprintf(sub, sizeof(sub), "subbuf=%zu", o->subbuf_size);
	snprintf(nsub, sizeof(nsub), "nsubbufs=%u", o->nsubbufs);
	snprintf(ow, sizeof(ow), "overwrite=%d", !!o->overwrite);
	argv[0] = "trace-start", argv[1] = dir, argv[2] = sub, argv[3] = nsub, argv[4] = ow;
	if (o->live_period_ms) { /* only then: a process of an older library refuses it */
		snprintf(live, sizeof(live), "live=%u", o->live_period_ms);
		argv[argc++] = live;
	}

	/* Until the recording starts, a failure leaves no empty directory behind. */
	owner = ctl_connect(pid, err, sizeof(err));
	if (owner < 0) {
		fprintf(stderr, "%s record: %s\n", cli_progname, err);
		rmdir(dir + 4);
		return 1;
	}
	if (ctl_call(owner, pid, argc, argv, &r, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s record: %s\n", cli_progname, err);
		close(owner);
		rmdir(dir + 4);
		return 1;
	}
	free(r.text);
	if (r.status < 0) {
		fprintf(stderr, "%s record: process %d cannot record into %s: %s\n", cli_progname,
			(int)pid, dir + 4, start_error(r.status));
		close(owner);
		rmdir(dir + 4);
		return 1;
	}
	stop_signals_catch(&sigs);
	t0 = now_s();
	if (enable_globs(pid, o) <= 0) {
		if (!stop_requested)
			fprintf(stderr, "%s record: nothing to record in process %d\n", cli_progname,
				(int)pid);
		goto stop;
	}
	progress = o->progress < 0 ? isatty(2) : o->progress;
	if (!progress)
		fprintf(stderr, "recording process %d into %s (%s)\n", (int)pid, dir + 4,
			o->duration > 0 ? "until the duration ends" : "Ctrl-C to stop");
	gone = wait_for_end(owner, pid, o, progress, t0);
	if (progress)
		fprintf(stderr, "\r\033[K");
	if (gone) {
		printf("process %d ended; the recording ended with it: %s\n", (int)pid, dir + 4);
		ret = trace_incomplete(dir + 4);
		goto out;
	}
	ret = 0;
stop:
	argv[0] = "trace-stop";
	if (ctl_call(owner, pid, 1, argv, &r, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s record: stopping: %s\n", cli_progname, err);
		ret = 1;
		goto out;
	}
	if (r.status < 0 || parse_counts(r.text, &c) < 0) {
		if (r.status < 0 && trace_incomplete(dir + 4))
			; /* said: a full disk */
		else if (r.status < 0)
			fprintf(stderr, "%s record: process %d could not stop the recording: %s\n",
				cli_progname, (int)pid, strerror(-r.status));
		else
			fprintf(stderr, "%s record: malformed reply from process %d\n", cli_progname,
				(int)pid);
		free(r.text);
		ret = 1;
		goto out;
	}
	free(r.text);
	if (ret == 0) {
		fmt_bytes(c.bytes, b, sizeof(b));
		printf("recorded %" PRIu64 " events (%s, %" PRIu64 " lost", c.recorded, b,
		       c.discarded);
		if (c.filtered)
			printf(", %" PRIu64 " filtered out", c.filtered);
		printf(") from process %d in %.1f s\ntrace: %s  (markers view %s)\n", (int)pid,
		       now_s() - t0, dir + 4, dir + 4);
	}
out:
	close(owner);
	stop_signals_restore(&sigs);
	return ret;
}
