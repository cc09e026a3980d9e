/*
 * The tracer and processes: started by the environment before main() (a
 * constructor's marker is recorded), stopped at exit(); a forked child does
 * not write into its parent's trace but may record its own; kill -9 of a
 * recording process, then marker_tracer_recover(): every event committed
 * before the kill is in the trace.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <markers.h>
#include <markers/tracer.h>
#include "tap.h"

__attribute__((constructor)) static void early(void)
{
	trace_mark_generic(proc_ctor, "pid %d", (int)getpid());
}

/* The program run with MARKERS_RECORD: records from its constructor to exit(). */
static int env_child(const char *dir2)
{
	pid_t pid;

	for (int i = 0; i < 100; i++)
		trace_mark_generic(proc_main, "seq %d", i);
	pid = fork();
	if (pid == 0) {
		/* Not into the parent's trace... */
		for (int i = 0; i < 10; i++)
			trace_mark_generic(proc_forked, "seq %d", i);
		/* ...but into one of its own (TSan cannot start threads after such a fork). */
		struct marker_tracer_options o = {.size = sizeof(o), .dir = dir2};
		const char *san = getenv("MARKERS_SANFLAGS");

		if (san && strstr(san, "thread"))
			exit(0);
		if (marker_tracer_start(&o) || marker_tracer_enable("proc_*") < 0)
			_exit(3);
		for (int i = 0; i < 10; i++)
			trace_mark_generic(proc_forked, "seq %d", i);
		exit(marker_tracer_stop() ? 4 : 0);
	}
	int status;

	waitpid(pid, &status, 0);
	exit(WIFEXITED(status) ? WEXITSTATUS(status) : 5);
}

/* Records until killed; says so on @fd after 20001 events. */
static int kill_child(const char *dir, int fd)
{
	struct marker_tracer_options o = {.size = sizeof(o), .dir = dir};

	if (marker_tracer_start(&o) || marker_tracer_enable("proc_kill") < 0)
		return 3;
	for (long i = 0;; i++) {
		trace_mark_generic(proc_kill, "seq %ld", i);
		if (i == 20000 && write(fd, "x", 1) != 1)
			return 4;
		if (i % 64 == 63)
			usleep(20); /* a pace the consumer keeps up with */
	}
}

/* Lines of babeltrace2's output containing @what; -1 if it fails or warns. */
static long count_events(const char *dir, const char *what, long *first_seq, long *last_seq,
			 int *contiguous)
{
	char cmd[1024], line[1024];
	long n = 0, prev = -1;
	FILE *f;
	int err;

	snprintf(cmd, sizeof(cmd), "babeltrace2 '%s' 2>&1", dir);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	*contiguous = 1;
	while (fgets(line, sizeof(line), f)) {
		char *p;
		long seq;

		if (strstr(line, "WARNING") || strstr(line, "ERROR"))
			n = -1000000;
		if (!strstr(line, what))
			continue;
		n++;
		p = strstr(line, "seq = ");
		if (p && sscanf(p, "seq = %ld", &seq) == 1) {
			if (prev < 0 && first_seq)
				*first_seq = seq;
			if (prev >= 0 && seq != prev + 1)
				*contiguous = 0;
			prev = seq;
		}
	}
	if (last_seq)
		*last_seq = prev;
	err = pclose(f);
	return err ? -1 : n;
}

static int exists(const char *dir, const char *name)
{
	char path[600];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/markers-proc-XXXXXX", dir2[600], dir3[600], cmd[2048];
	long first = -1, last = -1, n;
	int status, contiguous, fds[2];
	pid_t pid;

	if (argc == 3 && !strcmp(argv[1], "env-child"))
		return env_child(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "kill-child"))
		return kill_child(argv[2], atoi(argv[3]));
	if (getenv("MARKERS_SANFLAGS") && strstr(getenv("MARKERS_SANFLAGS"), "thread")) {
		/* TSan dies when a child forked from a threaded process starts a thread. */
		printf("1..0 # SKIP fork and threads under TSan\n");
		return 0;
	}
	if (getenv("MARKERS_RUN") && *getenv("MARKERS_RUN")) {
		/* qemu-user hangs or aborts when such a child starts a thread. */
		printf("1..0 # SKIP fork and threads under user-mode emulation\n");
		return 0;
	}
	plan(14);
	if (!mkdtemp(dir))
		return 1;
	snprintf(dir2, sizeof(dir2), "%s/forked", dir);
	snprintf(dir3, sizeof(dir3), "%s/killed", dir);

	/* 1. The environment starts recording before main(); exit() finishes the trace. */
	pid = fork();
	if (pid == 0) {
		setenv("MARKERS_RECORD", "proc_ctor,proc_main,proc_forked", 1);
		setenv("MARKERS_RECORD_DIR", dir, 1);
		setenv("MARKERS_RECORD_BUFFER_SIZE", "64k", 1);
		execl("/proc/self/exe", argv[0], "env-child", dir2, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the program and its forked child exit");
	is_int(count_events(dir, "proc_ctor:", NULL, NULL, &contiguous), 1,
	       "a constructor's marker is recorded (before main)");
	n = count_events(dir, "proc_main:", &first, &last, &contiguous);
	ok(n == 100 && first == 0 && last == 99 && contiguous, "main's 100 events, in order");
	is_int(count_events(dir, "proc_forked:", NULL, NULL, &contiguous), 0,
	       "the forked child wrote nothing into its parent's trace");
	ok(!exists(dir, ".buffers") && exists(dir, ".stats"), "exit() finished the trace");
	if (getenv("MARKERS_SANFLAGS") && strstr(getenv("MARKERS_SANFLAGS"), "thread"))
		ok(1, "# SKIP TSan: no threads in a child forked from a threaded process");
	else
		is_int(count_events(dir2, "proc_forked:", NULL, NULL, &contiguous), 10,
		       "the forked child recorded its own trace");

	/* 2. kill -9 while recording; recovery writes every committed event. */
	if (pipe(fds))
		return 1;
	pid = fork();
	if (pid == 0) {
		char fd[16];

		snprintf(fd, sizeof(fd), "%d", fds[1]);
		execl("/proc/self/exe", argv[0], "kill-child", dir3, fd, (char *)NULL);
		_exit(127);
	}
	char c;

	ok(read(fds[0], &c, 1) == 1, "the child recorded 20001 events");
	is_int(marker_tracer_recover(dir3), -EBUSY, "no recovery while it records");
	usleep(30000);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	ok(WIFSIGNALED(status), "killed with -9");
	ok(exists(dir3, ".buffers"), "its buffers are left behind");
	is_int(marker_tracer_recover(dir3), 0, "recover");
	n = count_events(dir3, "proc_kill:", &first, &last, &contiguous);
	ok(n > 20000 && first == 0 && last == n - 1 && contiguous,
	   "every event up to the kill, in order, nothing missing (%ld, last %ld)", n, last);
	ok(!exists(dir3, ".buffers"), "recovery removed the buffers");
	is_int(marker_tracer_recover(dir3), 0, "recovering again is harmless");

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd)) {
	}
	return done();
}
