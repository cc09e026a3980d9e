/*
 * proc_select.c - choosing the processes of a recording, and what is
 * unfinished in it (proc_select.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "commands.h"
#include "proc_select.h"
#include "trace_summary.h"

int pid_list_parse(struct pid_list *l, const char *arg, const char *cmd)
{
	const char *p = arg;

	for (;;) {
		char *end;
		long long v;

		errno = 0;
		v = strtoll(p, &end, 10);
		if (errno || end == p || v <= 0 || v > INT32_MAX || (*end && *end != ',')) {
			fprintf(stderr, "%s %s: bad PID list '%s' (like 1234 or 1234,5678)\n",
				cli_progname, cmd, arg);
			return -1;
		}
		if (l->n == l->cap) {
			size_t cap = l->cap ? l->cap * 2 : 8;
			int64_t *m = realloc(l->v, cap * sizeof(*m));

			if (!m) {
				fprintf(stderr, "%s %s: out of memory\n", cli_progname, cmd);
				return -1;
			}
			l->v = m;
			l->cap = cap;
		}
		l->v[l->n++] = v;
		if (!*end)
			return 0;
		p = end + 1;
	}
}

void pid_list_missing(const struct pid_list *l, const struct tr_trace *t, const char *cmd,
		      const char *dir)
{
	for (size_t k = 0; k < l->n; k++) {
		int found = 0;

		for (unsigned p = 0; p < tr_nprocs(t); p++)
			found |= tr_proc(t, p)->pid == l->v[k];
		if (!found) {
			fprintf(stderr, "%s %s: no process %" PRId64 " in %s (see: %s stats %s)\n",
				cli_progname, cmd, l->v[k], dir, cli_progname, dir);
			return;
		}
	}
}

int recording_state(const char *dir, long *pid)
{
	char path[4096], line[128];
	int state = 0, fd;
	FILE *f;

	*pid = 0;
	snprintf(path, sizeof(path), "%s/.record", dir);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char val[64];

		if (sscanf(line, "recorder %ld", pid) == 1)
			continue;
		if (sscanf(line, "state %63s", val) == 1)
			state = !strcmp(val, "recording");
	}
	fclose(f);
	if (state != 1)
		return 0;
	/* The recorder holds a lock on .record while it runs. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 2;
	if (!flock(fd, LOCK_SH | LOCK_NB)) {
		close(fd);
		return 2;
	}
	close(fd);
	return 1;
}

/* Does a live process hold the trace's buffers (docs/trace-format.md)? */
static int held(const char *dir)
{
	char path[4096];
	int fd, rc;

	snprintf(path, sizeof(path), "%s/.buffers/lock", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	rc = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return rc;
}

int warn_unfinished(const struct tr_trace *t, const char *cmd)
{
	const struct tr_process *top = tr_proc(t, 0);
	char root[4096];
	long rpid;
	int n = 0, st;

	/* The recording's directory: the one above a process trace, when there are several. */
	snprintf(root, sizeof(root), "%s", top->dir);
	if (access(strcat(root, "/.record"), F_OK)) {
		char *slash = strrchr(top->dir, '/');

		snprintf(root, sizeof(root), "%.*s", slash ? (int)(slash - top->dir) : 1,
			 slash ? top->dir : ".");
	} else {
		snprintf(root, sizeof(root), "%s", top->dir);
	}
	st = recording_state(root, &rpid);
	if (st == 1)
		fprintf(stderr, "%s %s: still recording (markers record, pid %ld): this is what "
			"was written so far\n", cli_progname, cmd, rpid);
	else if (st == 2)
		fprintf(stderr, "%s %s: the recorder (pid %ld) died before it finished: the "
			"recording's end is unknown\n", cli_progname, cmd, rpid);
	for (unsigned p = 0; p < tr_nprocs(t); p++) {
		const struct tr_process *pi = tr_proc(t, p);

		if ((tr_select_active(t) && !pi->selected) || !tr_proc_unfinished(pi))
			continue;
		n++;
		if (held(pi->dir))
			fprintf(stderr, "%s %s: %s (pid %" PRId64 ") is still recording\n",
				cli_progname, cmd, pi->name, pi->pid);
		else
			fprintf(stderr,
				"%s %s: %s (pid %" PRId64 ") died and its trace was not finished: "
				"its end and its lost events are unknown (%s recover %s "
				"writes out what its buffers hold)\n",
				cli_progname, cmd, pi->name, pi->pid, cli_progname, pi->dir);
	}
	return n;
}
