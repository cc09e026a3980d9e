/*
 * attach.c - one process of `markers record -p` or `--all`: the target's own
 * libmarkers records (its tracer writes the trace); this side asks it to
 * start, and to stop (attach_many.c runs the recording).
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
