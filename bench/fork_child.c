/*
 * fork_child.c - what recording a process tree adds to a fork child's start.
 *
 *	fork_child [-n ROUNDS] -d DIR
 *
 * Forks ROUNDS children one after the other; each fires one marker at once
 * and exits.  Times, from just before fork() in the parent: the return of
 * the child's first trace_mark (the child's own session starts in fork's
 * child handler, so it is in there), and the end of waitpid() (the child's
 * exit, its trace finished).  First with no recording (the baseline), then
 * the program runs itself again recording every process of the tree into
 * DIR (MARKERS_RECORD='*', one trace per process, as `markers record`
 * does), and prints both:
 *	name=fork_child.LABEL ns_per_op=... q1_ns=... q3_ns=... exit_ns=...
 *	    ratio_vs_baseline=...
 * with LABEL none or recorded; ns_per_op is fork to first event.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <markers.h>

#include "bench_util.h"

static int run(int rounds, double *first, double *done)
{
	for (int r = 0; r < rounds; r++) {
		int fds[2], st;
		uint64_t t0, t1 = 0;
		pid_t pid;

		if (pipe(fds) < 0)
			return -1;
		t0 = bench_now_ns();
		pid = fork();
		if (pid < 0)
			return -1;
		if (pid == 0) {
			trace_mark(fork_child_first, "round %d", r);
			t1 = bench_now_ns();
			if (write(fds[1], &t1, sizeof(t1)) != sizeof(t1))
				_exit(1);
			exit(0); /* the destructors finish the child's trace */
		}
		close(fds[1]);
		if (read(fds[0], &t1, sizeof(t1)) != sizeof(t1) || waitpid(pid, &st, 0) != pid ||
		    !WIFEXITED(st) || WEXITSTATUS(st))
			return -1;
		done[r] = (double)(bench_now_ns() - t0);
		first[r] = (double)(t1 - t0);
		close(fds[0]);
	}
	return 0;
}

int main(int argc, char **argv)
{
	int rounds = 200, opt;
	const char *dir = NULL, *base = getenv("FORK_CHILD_BASE");
	double *first, *done;
	struct bench_stats f, d;

	while ((opt = getopt(argc, argv, "n:d:")) != -1) {
		if (opt == 'n')
			rounds = atoi(optarg) > 0 ? atoi(optarg) : 1;
		else if (opt == 'd')
			dir = optarg;
		else
			return 2;
	}
	if (!dir) {
		fprintf(stderr, "usage: fork_child [-n ROUNDS] -d DIR\n");
		return 2;
	}
	first = calloc((size_t)rounds, sizeof(*first));
	done = calloc((size_t)rounds, sizeof(*done));
	if (!first || !done || run(rounds, first, done) < 0) {
		printf("name=fork_child.%s status=n/a (a child failed)\n", base ? "recorded" : "none");
		return 1;
	}
	f = bench_stats(first, rounds);
	d = bench_stats(done, rounds);
	printf("name=fork_child.%s ns_per_op=%.0f q1_ns=%.0f q3_ns=%.0f exit_ns=%.0f "
	       "ratio_vs_baseline=%.3f\n",
	       base ? "recorded" : "none", f.median, f.q1, f.q3, d.median,
	       base ? f.median / atof(base) : 1.0);
	fflush(stdout);
	if (!base) {
		char b[32];

		/* Again, recording the tree, as `markers record -- CMD` sets it up. */
		snprintf(b, sizeof(b), "%.0f", f.median);
		setenv("FORK_CHILD_BASE", b, 1);
		setenv("MARKERS_RECORD", "*", 1);
		setenv("MARKERS_RECORD_DIR", dir, 1);
		setenv("MARKERS_RECORD_LAYOUT", "process", 1);
		/* The root keeps the default buffers, the children 256 KiB: `record`'s defaults. */
		snprintf(b, sizeof(b), "%d", (int)getpid());
		setenv("MARKERS_RECORD_ROOT_PID", b, 1);
		setenv("MARKERS_RECORD_CHILD_BUFFER_SIZE", "256k", 1);
		execv("/proc/self/exe", argv);
		printf("name=fork_child.recorded status=n/a (exec failed)\n");
		return 1;
	}
	return 0;
}
