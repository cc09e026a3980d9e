/*
 * The flight recorder under preemption: 16 threads (and signal handlers
 * inside them) record events whose fields all derive from one counter into
 * tiny overwrite buffers (2 sub-buffers of 4 KiB per CPU), with two
 * CPU-bound processes beside them and sched_yield() between events, so
 * that writers are often preempted holding a reserved slice while others
 * lap the buffer.  Events of both of the probe's paths (ring.c), interleaved.  Rounds end with a clean stop or with kill -9 of the
 * recording process and marker_tracer_recover().  Then the real babeltrace2
 * reads the trace: no warning or error (it refuses a stream whose time goes
 * backwards), every event's fields agree with each other (none torn, none
 * from another lap), no event twice, and per stream (CPU) the cycles of
 * consecutive events never decrease.
 *
 * Every fourth set of rounds runs in discard mode: its recovery after
 * kill -9 must not deliver a stale event either.
 *
 * MARKERS_TEST_SCALE multiplies the rounds (the long tier).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <markers.h>
#include <markers/tracer.h>
#include "tap.h"

#define NTHREADS 16
#define STRMAX 24

static long counter;
static volatile int stop_signals, ndone, finish;

/*
 * How a round ends.  The signal handler records while the code it
 * interrupted may hold a reserved slice not yet written (a thread that was
 * preempted anywhere takes its signal there).
 */
enum round_kind {
	R_STOP,      /* signals every 200 us, each a burst of more than a lap; stop */
	R_LAP_STOP,  /* one signal: a burst of more than a lap, then stop at once */
	R_KILL_SELF, /* one signal: 3 events, then SIGKILL of the whole process */
	R_KILL,      /* signals every 200 us; SIGKILL from the test at a random time */
	R_KINDS
};
static const char *kind_names[R_KINDS] = {"stop", "lap+stop", "kill -9 in a handler",
					  "kill -9"};
static enum round_kind kind;
static int overwrite; /* else discard mode, whose recovery after kill -9 must not deliver stale events either */

/* One event from the counter's value @x: b = 3x, c = -x, s = 1 + x % 23 letters 'a' + x % 26. */
static void fire(long x)
{
	char s[STRMAX + 1];
	int n = 1 + (int)(x % (STRMAX - 1)); /* babeltrace2 2.0 misprints "" */

	memset(s, 'a' + (int)(x % 26), (size_t)n);
	s[n] = 0;
	/* Both of the probe's paths: 64-bit fields take the general one, 32-bit ints the fast one. */
	if (x & 1)
		trace_mark_generic(ow_ev, "a %ld b %ld c %ld s %s", x, 3 * x, -x, s);
	else
		trace_mark_generic(ow_fast, "a %d b %d c %d s %s", (int)x, (int)(3 * x), (int)-x, s);
}

static void on_signal(int sig)
{
	int saved = errno, n = kind == R_KILL_SELF ? 3 : 300;

	(void)sig;
	for (int i = 0; i < n; i++)
		fire(__atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
	if (kind == R_KILL_SELF)
		kill(getpid(), SIGKILL);
	if (kind == R_LAP_STOP)
		__atomic_store_n(&finish, 1, __ATOMIC_RELEASE);
	errno = saved;
}

static long per_thread;
static int ready_fd; /* the recording process says on it that it records */

static void *worker(void *arg)
{
	unsigned r = (unsigned)(uintptr_t)arg * 2654435761u;

	for (long i = 0; i < per_thread && !__atomic_load_n(&finish, __ATOMIC_ACQUIRE); i++) {
		fire(__atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
		r = r * 1103515245u + 12345u;
		if ((r >> 16) % 4096 == 0)
			sched_yield();
	}
	/* Stay a target for pthread_kill until the signals stop. */
	__atomic_fetch_add(&ndone, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&stop_signals, __ATOMIC_ACQUIRE))
		usleep(100);
	return NULL;
}

static void *signaller(void *arg)
{
	pthread_t *th = arg;
	unsigned k = (unsigned)getpid();

	if (kind == R_LAP_STOP || kind == R_KILL_SELF) {
		usleep(1000 + k % 8000);
		pthread_kill(th[k % NTHREADS], SIGUSR1);
	}
	while (!__atomic_load_n(&stop_signals, __ATOMIC_RELAXED)) {
		if (kind == R_STOP || kind == R_KILL)
			pthread_kill(th[k++ % NTHREADS], SIGUSR1);
		usleep(200);
	}
	return NULL;
}

/* The recording process: never returns. */
static void record(const char *dir, long events)
{
	struct marker_tracer_options o = {.size = sizeof(o), .dir = dir, .subbuf_size = 4096,
					  .nsubbufs = 2, .overwrite = overwrite};
	struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
	pthread_t th[NTHREADS], sig;

	sigaction(SIGUSR1, &sa, NULL);
	if (marker_tracer_start(&o) < 0 || marker_tracer_enable("ow_*") < 0)
		_exit(3);
	if (write(ready_fd, "r", 1) != 1)
		_exit(5);
	per_thread = events;
	for (int t = 0; t < NTHREADS; t++)
		pthread_create(&th[t], NULL, worker, (void *)(uintptr_t)(t + 1));
	pthread_create(&sig, NULL, signaller, th);
	while (__atomic_load_n(&ndone, __ATOMIC_ACQUIRE) < NTHREADS)
		usleep(100);
	__atomic_store_n(&stop_signals, 1, __ATOMIC_RELEASE);
	pthread_join(sig, NULL);
	for (int t = 0; t < NTHREADS; t++)
		pthread_join(th[t], NULL);
	_exit(marker_tracer_stop() ? 4 : 0);
}

struct check {
	long events, torn, dups, backwards, bad_lines;
	char first_bad[1100];
};

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

static int all_of(const char *s, long ch)
{
	for (; *s; s++)
		if (*s != ch)
			return 0;
	return 1;
}

static void bad(struct check *c, const char *line)
{
	if (!c->first_bad[0])
		snprintf(c->first_bad, sizeof(c->first_bad), "%s", line);
}

/* babeltrace2 --clock-cycles over @dir: returns its status; *errs its stderr's bytes. */
static int check_trace(const char *dir, struct check *c, long *errs)
{
	char cmd[1024], line[1024], errpath[600];
	unsigned long long last[64] = {0};
	long *seen = NULL, nseen = 0, cap = 0;
	FILE *f;
	int status;

	memset(c, 0, sizeof(*c));
	snprintf(errpath, sizeof(errpath), "%s.err", dir);
	snprintf(cmd, sizeof(cmd), "babeltrace2 --clock-cycles '%s' 2>'%s'", dir, errpath);
	f = popen(cmd, "r");
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long long cyc;
		long a, b, cc;
		unsigned cpu;
		int tid, n = 0;
		char s[64] = "";

		line[strcspn(line, "\n")] = 0;
		if (sscanf(line, "[%llu] %*s %*s %*s { cpu_id = %u }, { vtid = %d }, "
				 "{ a = %ld, b = %ld, c = %ld, s = \"%63[^\"]\" }",
			   &cyc, &cpu, &tid, &a, &b, &cc, s) < 6 ||
		    cpu >= 64) {
			c->bad_lines++;
			bad(c, line);
			continue;
		}
		c->events++;
		n = (int)strlen(s);
		if (b != 3 * a || cc != -a || a < 0 || n != 1 + a % (STRMAX - 1) || !all_of(s, 'a' + a % 26)) {
			c->torn++;
			bad(c, line);
		}
		if (cyc < last[cpu]) {
			c->backwards++;
			bad(c, line);
		}
		last[cpu] = cyc;
		if (nseen == cap) {
			cap = cap ? 2 * cap : 4096;
			seen = realloc(seen, (size_t)cap * sizeof(*seen));
		}
		seen[nseen++] = a;
	}
	status = f ? pclose(f) : -1;
	if (nseen) /* a round killed before its first event reads none: qsort(NULL) is undefined */
		qsort(seen, (size_t)nseen, sizeof(*seen), cmp_long);
	for (long i = 1; i < nseen; i++)
		c->dups += seen[i] == seen[i - 1];
	free(seen);
	/* Overwritten events are discarded ones: babeltrace2 rightly warns of those. */
	f = fopen(errpath, "r");
	*errs = 0;
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (strstr(line, "may have discarded events") ||
		    (strstr(line, "Tracer discarded ") && strstr(line, " between [")))
			continue;
		if (!c->first_bad[0])
			snprintf(c->first_bad, sizeof(c->first_bad), "stderr: %s", line);
		++*errs;
	}
	if (f)
		fclose(f);
	unlink(errpath);
	return status;
}

static pid_t hog(void)
{
	pid_t p = fork();

	if (p == 0) {
		for (volatile unsigned long i = 0;; i++) {
		}
	}
	return p;
}

int main(void)
{
	long rounds = scale(32), failed_rounds = 0, total = 0, kills = 0;
	struct check sum = {0};
	char first_bad[1200] = "";
	long stderr_bytes = 0, bt_fail = 0, rec_fail = 0;
	pid_t hogs[2];

	plan(6);
	hogs[0] = hog();
	hogs[1] = hog();
	for (long r = 0; r < rounds; r++) {
		char dir[] = "/tmp/markers-ow-XXXXXX", cmd[600], ready;
		int st, pfd[2];
		struct check c;
		long errs;
		pid_t p;

		kind = (enum round_kind)(r % R_KINDS);
		overwrite = r / R_KINDS % 4 != 3; /* every fourth set of rounds in discard mode */
		if (!mkdtemp(dir))
			return 1;
		if (pipe(pfd))
			return 1;
		p = fork();
		if (p == 0) {
			close(pfd[0]);
			ready_fd = pfd[1];
			record(dir, kind == R_STOP ? 6000 : 1000000);
		}
		close(pfd[1]);
		/* Killed while it records, not while the session starts. */
		if (read(pfd[0], &ready, 1) != 1)
			diag("round %ld: the recording process did not start", r);
		close(pfd[0]);
		if (kind == R_KILL) {
			struct timespec d = {0, (5 + (r * 37) % 60) * 1000000L};

			nanosleep(&d, NULL);
			kill(p, SIGKILL);
		}
		waitpid(p, &st, 0);
		if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL &&
		    (kind == R_KILL || kind == R_KILL_SELF)) {
			kills++;
			if (marker_tracer_recover(dir) < 0)
				rec_fail++;
		} else if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			diag("round %ld: recording process status 0x%x", r, st);
			rec_fail++;
		}
		if ((st = check_trace(dir, &c, &errs)) != 0) {
			bt_fail++;
			diag("round %ld (%s): babeltrace2 status 0x%x: %s", r, kind_names[kind], st,
			     c.first_bad);
		}
		stderr_bytes += errs;
		total += c.events;
		sum.torn += c.torn;
		sum.dups += c.dups;
		sum.backwards += c.backwards;
		sum.bad_lines += c.bad_lines;
		if (c.torn || c.dups || c.backwards || c.bad_lines || errs) {
			failed_rounds++;
			diag("round %ld (%s, %s): %ld torn, %ld twice, %ld backwards, %ld errors", r,
			     kind_names[kind], overwrite ? "overwrite" : "discard", c.torn, c.dups, c.backwards, errs + c.bad_lines);
			if (!first_bad[0])
				snprintf(first_bad, sizeof(first_bad), "round %ld (%s): %s", r,
					 kind_names[kind], c.first_bad);
		}
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd)) {
		}
	}
	kill(hogs[0], SIGKILL);
	kill(hogs[1], SIGKILL);
	waitpid(hogs[0], NULL, 0);
	waitpid(hogs[1], NULL, 0);
	diag("%ld rounds (%ld killed), %ld events read, %ld rounds with a defect", rounds, kills,
	     total, failed_rounds);
	if (first_bad[0])
		diag("first: %s", first_bad);
	is_int(rec_fail, 0, "every recording stopped or was recovered");
	ok(bt_fail == 0 && stderr_bytes == 0 && sum.bad_lines == 0,
	   "babeltrace2 reads every trace: no error, no warning but overwritten events (%ld failed, %ld lines)", bt_fail,
	   stderr_bytes);
	ok(total > rounds * 50, "the traces hold events (%ld)", total);
	is_int(sum.torn, 0, "no torn or stale event: fields agree");
	is_int(sum.dups, 0, "no event twice");
	is_int(sum.backwards, 0, "per stream, time never goes backwards");
	return done();
}
