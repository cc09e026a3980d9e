/*
 * busy - a long-running instrumented program for the live CLI tests.
 *
 *	busy [-s SECONDS] [-f]
 *
 * Fires a generic, an immediate and a jump marker about every millisecond
 * from a worker thread, prints "ready PID" on stdout once running (and,
 * with -f, "child PID" for a forked child that does the same), and exits
 * normally after SECONDS (default 30), so that a failed test leaves no
 * process behind for long.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <markers.h>

static volatile int stop;

static void *work(void *arg)
{
	struct timespec ms = {0, 1000000};
	unsigned n = 0;

	(void)arg;
	while (!stop) {
		trace_mark_generic(busy_generic, "n %u", n);
		trace_mark_immediate(busy_immediate, "n %u half %d", n, (int)(n / 2));
		trace_mark_jump(busy_jump, "tag %s", n % 2 ? "odd" : "even");
		n++;
		nanosleep(&ms, NULL);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	double seconds = 30;
	int forkit = 0, opt;
	pthread_t th;
	pid_t child = 0;

	while ((opt = getopt(argc, argv, "s:f")) != -1) {
		if (opt == 's')
			seconds = atof(optarg);
		else if (opt == 'f')
			forkit = 1;
		else
			return 2;
	}
	if (forkit) {
		fflush(stdout);
		child = fork();
		if (child < 0)
			return 1;
	}
	pthread_create(&th, NULL, work, NULL);
	if (child > 0)
		printf("child %d\n", (int)child);
	printf("%s %d\n", child == 0 && forkit ? "forked" : "ready", (int)getpid());
	fflush(stdout);
	usleep((useconds_t)(seconds * 1e6));
	stop = 1;
	pthread_join(th, NULL);
	trace_mark(busy_exit, MARK_NOARGS);
	if (child > 0)
		waitpid(child, NULL, 0);
	return 0;
}
