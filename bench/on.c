/*
 * on.c - what a recorded event costs, ours against LTTng-UST, and the floor.
 *
 *	on -m ours  -t THREADS -n EVENTS -r ROUNDS -d DIR   our tracer
 *	on -m lttng -t THREADS -n EVENTS -r ROUNDS          LTTng-UST (session set up by run.sh)
 *	on -m floor | floor_clock | rdtsc | clock -n N -r R  reference costs
 *	on -m rate  -t THREADS -d DIR   ours at 10^6 events/s per thread for a second,
 *				default buffers, each burst of 100 timed (and the floor so)
 *	on -m small -d DIR      ours with tiny buffers: every event accounted for?
 *	on -m lttng_switch -s SESSION -c CHANNEL -r R   `lttng enable-event` until seen
 *	on -m ours|lttng -C N [-t T]   N events per thread and nothing else, for callgrind
 *
 * Every event carries the same payload: two ints and a 16-byte string.
 * Threads are pinned one per CPU and start each round together; between
 * rounds the program sleeps so that the consumer (ours or LTTng's daemon)
 * can drain, as it would in a real program that does not trace flat out.
 * Nothing here judges the numbers.
 *
 * Built twice: `on` without LTTng-UST and `on-lttng` with it (-DBENCH_LTTNG).
 * LTTng-UST starts threads that block every signal, and our patcher rightly
 * will not rewrite code while a thread blocks SIGTRAP, so our sites are
 * measured in a process of their own, as a program that uses only us.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <markers.h>
#include <markers/tracer.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <x86intrin.h>
#include "bench_util.h"
#ifdef BENCH_LTTNG
#include "bench_tp.h"
#endif

/*
 * The tracer may not be in the library yet: weak references are NULL
 * then, and the benchmark says "n/a" instead of failing to link or run.
 */
#pragma weak marker_tracer_start
#pragma weak marker_tracer_enable
#pragma weak marker_tracer_stop
#pragma weak marker_tracer_get_stats

extern char **environ;

static const char payload[] = "payload-16bytes";	/* 15 chars + NUL: 16 bytes */

/* The floor: call + rdtsc + a 32-byte copy into a per-thread ring. */
struct slot {
	uint64_t ts;
	int32_t a, b;
	char s[16];
};
#define RING 4096
static __thread struct slot ring[RING];
static __thread unsigned ring_pos;

__attribute__((noinline)) void floor_rdtsc(int a, int b, const char *s)
{
	struct slot *e = &ring[ring_pos++ & (RING - 1)];

	e->ts = __rdtsc();
	e->a = a;
	e->b = b;
	memcpy(e->s, s, 16);
}

__attribute__((noinline)) void floor_clock(int a, int b, const char *s)
{
	struct slot *e = &ring[ring_pos++ & (RING - 1)];

	e->ts = bench_now_ns();
	e->a = a;
	e->b = b;
	memcpy(e->s, s, 16);
}

__attribute__((noinline)) uint64_t only_rdtsc(void)
{
	return __rdtsc();
}

__attribute__((noinline)) uint64_t only_clock(void)
{
	return bench_now_ns();
}

/* The loops; noinline so that callgrind can count one of them inclusively. */
__attribute__((noinline)) void loop_ours(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		trace_mark(bench_on, "%d %d %s", (int)i, (int)(i >> 3), payload);
}

#ifdef BENCH_LTTNG
__attribute__((noinline)) void loop_lttng(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		tracepoint(bench, on, (int)i, (int)(i >> 3), payload);
}
#endif

static volatile uint64_t sink;

static void loop_floor(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		floor_rdtsc((int)i, (int)(i >> 3), payload);
}

static void loop_floor_clock(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		floor_clock((int)i, (int)(i >> 3), payload);
}

static void loop_rdtsc(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		sink = only_rdtsc();
}

static void loop_clock(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		sink = only_clock();
}

struct run {
	void (*loop)(uint64_t);
	int threads, rounds;
	uint64_t events;
	pthread_barrier_t start, done;
	double *ns; /* [thread * rounds + round]: ns per event */
};

struct worker {
	struct run *run;
	int index;
};

static void *worker(void *arg)
{
	struct worker *w = arg;
	struct run *run = w->run;

	if (run->threads > 1)
		bench_pin(w->index % bench_ncpus());
	else
		bench_pin_last_cpu();
	for (int r = 0; r < run->rounds; r++) {
		pthread_barrier_wait(&run->start);
		uint64_t t0 = bench_now_ns();
		run->loop(run->events);
		run->ns[w->index * run->rounds + r] =
			(double)(bench_now_ns() - t0) / (double)run->events;
		pthread_barrier_wait(&run->done);
	}
	return NULL;
}

/* Run @loop on @threads threads for @rounds rounds; returns the median ns per event. */
static struct bench_stats run_loop(void (*loop)(uint64_t), int threads, uint64_t events,
				   int rounds)
{
	struct run run;
	pthread_t tid[64];
	struct worker w[64];

	memset(&run, 0, sizeof(run));
	run.loop = loop;
	run.threads = threads;
	run.rounds = rounds;
	run.events = events;
	run.ns = calloc((size_t)threads * rounds, sizeof(double));
	pthread_barrier_init(&run.start, NULL, threads + 1);
	pthread_barrier_init(&run.done, NULL, threads + 1);
	for (int t = 0; t < threads; t++) {
		w[t] = (struct worker){&run, t};
		pthread_create(&tid[t], NULL, worker, &w[t]);
	}
	for (int r = 0; r < rounds; r++) {
		pthread_barrier_wait(&run.start);
		pthread_barrier_wait(&run.done);
		usleep(20000); /* let the consumer drain between rounds */
	}
	for (int t = 0; t < threads; t++)
		pthread_join(tid[t], NULL);
	struct bench_stats s = bench_stats(run.ns, threads * rounds);
	free(run.ns);
	return s;
}

static int tracer_present(void)
{
	return marker_tracer_start && marker_tracer_enable && marker_tracer_stop &&
	       marker_tracer_get_stats;
}

static int ours_start(const char *dir, size_t subbuf, unsigned nsubbufs)
{
	struct marker_tracer_options o = {
		.size = sizeof(o), .dir = dir, .subbuf_size = subbuf, .nsubbufs = nsubbufs};
	int err;

	if (!tracer_present())
		return -ENOSYS;
	err = marker_tracer_start(&o);
	if (err < 0)
		return err;
	err = marker_tracer_enable("bench_on");
	if (err < 0)
		marker_tracer_stop();
	return err < 0 ? err : 0;
}

static void ours_stop(const char *what, uint64_t emitted)
{
	struct marker_tracer_stats st = {.size = sizeof(st)};
	int err = marker_tracer_stop();

	if (err == 0)
		err = marker_tracer_get_stats(&st);
	if (err < 0) {
		printf("name=%s status=error err=%d (%s)\n", what, err, strerror(-err));
		return;
	}
	printf("name=%s emitted=%llu recorded=%llu discarded=%llu bytes=%llu "
	       "bytes_per_event=%.2f\n",
	       what, (unsigned long long)emitted, (unsigned long long)st.recorded,
	       (unsigned long long)st.discarded, (unsigned long long)st.bytes,
	       st.recorded ? (double)st.bytes / (double)st.recorded : 0.0);
}

static int mode_ours(const char *dir, int threads, uint64_t events, int rounds)
{
	char what[64];
	/* The floor with the same threads, events and rounds, in this run: the ratio's baseline. */
	struct bench_stats fl = run_loop(loop_floor, threads, events, rounds);
	int err = ours_start(dir, 0, 0);

	snprintf(what, sizeof(what), "on.ours.t%d", threads);
	if (err < 0) {
		printf("name=%s status=n/a err=%d (%s)\n", what, err,
		       err == -ENOSYS ? "tracer not implemented yet" : strerror(-err));
		return 0;
	}
	struct bench_stats s = run_loop(loop_ours, threads, events, rounds);
	printf("name=%s ns_per_op=%.2f ns_iqr=%.2f floor_ns=%.2f ratio_vs_baseline=%.2f\n", what,
	       s.median, s.q3 - s.q1, fl.median, fl.median > 0 ? s.median / fl.median : 0.0);
	snprintf(what, sizeof(what), "on.ours.t%d.counts", threads);
	ours_stop(what, (uint64_t)threads * events * rounds);
	return 0;
}

#ifdef BENCH_LTTNG
static int mode_lttng(int threads, uint64_t events, int rounds)
{
	char what[64];

	snprintf(what, sizeof(what), "on.lttng.t%d", threads);
	if (!tracepoint_enabled(bench, on)) {
		printf("name=%s status=n/a (bench:on not enabled: no session?)\n", what);
		return 0;
	}
	struct bench_stats s = run_loop(loop_lttng, threads, events, rounds);
	printf("name=%s ns_per_op=%.2f ns_iqr=%.2f emitted=%llu\n", what, s.median,
	       s.q3 - s.q1, (unsigned long long)threads * events * rounds);
	return 0;
}

#endif

/*
 * The sustained rate: 10^6 events per second per thread for one second, in
 * bursts of 100 every 100 µs, each burst timed (ns per event: the median
 * over bursts and threads).  The floor is timed the same way first, in this
 * run.  Counts as for the burst rounds.
 */
struct rate_run {
	void (*loop)(uint64_t);
	int threads;
	pthread_barrier_t start;
	double *ns; /* [thread * RATE_BURSTS + burst] */
};
#define RATE_BURSTS 10000
#define RATE_EVENTS 100

struct rate_worker {
	struct rate_run *run;
	int index;
};

static void *rate_worker(void *arg)
{
	struct rate_worker *w = arg;
	struct rate_run *run = w->run;

	if (run->threads > 1)
		bench_pin(w->index % bench_ncpus());
	else
		bench_pin_last_cpu();
	pthread_barrier_wait(&run->start);
	uint64_t t0 = bench_now_ns();
	for (int burst = 0; burst < RATE_BURSTS; burst++) {
		uint64_t b0 = bench_now_ns();

		run->loop(RATE_EVENTS);
		run->ns[w->index * RATE_BURSTS + burst] =
			(double)(bench_now_ns() - b0) / RATE_EVENTS;
		while (bench_now_ns() < t0 + (uint64_t)(burst + 1) * 100000)
			;
	}
	return NULL;
}

static struct bench_stats rate_loop(void (*loop)(uint64_t), int threads)
{
	struct rate_run run = {.loop = loop, .threads = threads};
	pthread_t tid[64];
	struct rate_worker w[64];

	run.ns = calloc((size_t)threads * RATE_BURSTS, sizeof(double));
	pthread_barrier_init(&run.start, NULL, threads);
	for (int t = 0; t < threads; t++) {
		w[t] = (struct rate_worker){&run, t};
		pthread_create(&tid[t], NULL, rate_worker, &w[t]);
	}
	for (int t = 0; t < threads; t++)
		pthread_join(tid[t], NULL);
	struct bench_stats s = bench_stats(run.ns, threads * RATE_BURSTS);
	free(run.ns);
	return s;
}

static int mode_rate(const char *dir, int threads)
{
	struct bench_stats fl = rate_loop(loop_floor, threads);
	int err = ours_start(dir, 0, 0);
	char what[64];

	snprintf(what, sizeof(what), "on.ours.sustained.t%d", threads);
	if (err < 0) {
		printf("name=%s status=n/a err=%d\n", what, err);
		return 0;
	}
	struct bench_stats s = rate_loop(loop_ours, threads);
	printf("name=%s ns_per_op=%.2f ns_iqr=%.2f floor_ns=%.2f ratio_vs_baseline=%.2f\n", what,
	       s.median, s.q3 - s.q1, fl.median, fl.median > 0 ? s.median / fl.median : 0.0);
	/* The 1-thread counts keep their name: the zero-loss row reads it. */
	ours_stop(threads == 1 ? "on.ours.rate1M" : "on.ours.rate1M.t2",
		  (uint64_t)threads * RATE_BURSTS * RATE_EVENTS);
	return 0;
}

/* Buffers far too small: emitted must equal recorded + discarded exactly. */
static int mode_small(const char *dir)
{
	int err = ours_start(dir, 4096, 2);

	if (err < 0) {
		printf("name=on.ours.small status=n/a err=%d\n", err);
		return 0;
	}
	bench_pin_last_cpu();
	loop_ours(200000);
	ours_stop("on.ours.small", 200000);
	return 0;
}

#ifdef BENCH_LTTNG
static volatile int busy_stop;

static void *busy_lttng(void *arg)
{
	bench_pin_last_cpu();
	while (!busy_stop)
		for (int i = 0; i < 1000; i++)
			tracepoint(bench, sw, i, i, payload);
	return arg;
}

/*
 * `lttng enable-event` on a running session, from the command's start until
 * this process sees the tracepoint on; then the same for disable-event.
 */
static int mode_lttng_switch(const char *session, const char *channel, int rounds)
{
	char ev[] = "bench:sw";
	char *on_argv[] = {"lttng", "-q", "enable-event", "-u", ev, "-s", (char *)session,
			   "-c", (char *)channel, NULL};
	char *off_argv[] = {"lttng", "-q", "disable-event", "-u", ev, "-s", (char *)session,
			    "-c", (char *)channel, NULL};
	double *on_ns = calloc(rounds, sizeof(double)), *off_ns = calloc(rounds, sizeof(double));
	pthread_t busy;
	int ok = 0;

	pthread_create(&busy, NULL, busy_lttng, NULL);
	bench_pin(0);
	for (int r = 0; r < rounds; r++) {
		pid_t pid;
		int status;
		uint64_t t0 = bench_now_ns(), t1;

		/* Spawn, then spin: the command's own start-up is part of the cost. */
		if (posix_spawnp(&pid, "lttng", NULL, NULL, on_argv, environ) != 0)
			break;
		while (!tracepoint_enabled(bench, sw) && bench_now_ns() - t0 < 5000000000u)
			;
		t1 = bench_now_ns();
		waitpid(pid, &status, 0);
		if (!tracepoint_enabled(bench, sw))
			break;
		on_ns[r] = (double)(t1 - t0);
		t0 = bench_now_ns();
		if (posix_spawnp(&pid, "lttng", NULL, NULL, off_argv, environ) != 0)
			break;
		while (tracepoint_enabled(bench, sw) && bench_now_ns() - t0 < 5000000000u)
			;
		t1 = bench_now_ns();
		waitpid(pid, &status, 0);
		off_ns[r] = (double)(t1 - t0);
		ok++;
	}
	busy_stop = 1;
	pthread_join(busy, NULL);
	if (ok < rounds) {
		printf("name=switch.lttng status=n/a (the app never saw bench:sw %s)\n",
		       ok ? "go off" : "go on");
		return 0;
	}
	struct bench_stats on = bench_stats(on_ns, rounds), off = bench_stats(off_ns, rounds);
	printf("name=switch.lttng.on ns_per_op=%.0f ns_iqr=%.0f\n", on.median, on.q3 - on.q1);
	printf("name=switch.lttng.off ns_per_op=%.0f ns_iqr=%.0f\n", off.median, off.q3 - off.q1);
	return 0;
}
#endif

int main(int argc, char **argv)
{
	const char *mode = "floor", *dir = "trace", *session = "bench", *channel = "bench";
	int threads = 1, rounds = 11, opt;
	uint64_t events = 200000, cg = 0;

	while ((opt = getopt(argc, argv, "m:t:n:r:d:s:c:C:")) != -1) {
		switch (opt) {
		case 'm': mode = optarg; break;
		case 't': threads = atoi(optarg); break;
		case 'n': events = strtoull(optarg, NULL, 0); break;
		case 'r': rounds = atoi(optarg); break;
		case 'd': dir = optarg; break;
		case 's': session = optarg; break;
		case 'c': channel = optarg; break;
		case 'C': cg = strtoull(optarg, NULL, 0); break;
		default: fprintf(stderr, "on: see the comment at the top of bench/on.c\n"); return 2;
		}
	}
	if (threads < 1 || threads > 64 || rounds < 1 || events < 1)
		return 2;
	(void)session;
	(void)channel;
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (cg) {
		/* Under callgrind: count the loop inclusively, nothing else timed. */
		if (strcmp(mode, "ours") == 0) {
			if (ours_start(dir, 0, 0) < 0)
				return 0;
			if (threads > 1)
				run_loop(loop_ours, threads, cg, 1); /* loop_ours counts all threads */
			else
				loop_ours(cg);
			marker_tracer_stop();
#ifdef BENCH_LTTNG
		} else if (strcmp(mode, "lttng") == 0) {
			loop_lttng(cg);
#endif
		} else {
			loop_floor(cg);
		}
		return 0;
	}
	if (strcmp(mode, "ours") == 0)
		return mode_ours(dir, threads, events, rounds);
#ifdef BENCH_LTTNG
	if (strcmp(mode, "lttng") == 0)
		return mode_lttng(threads, events, rounds);
	if (strcmp(mode, "lttng_switch") == 0)
		return mode_lttng_switch(session, channel, rounds);
#endif
	if (strcmp(mode, "rate") == 0)
		return mode_rate(dir, threads);
	if (strcmp(mode, "small") == 0)
		return mode_small(dir);

	static const struct {
		const char *name;
		void (*loop)(uint64_t);
	} refs[] = {
		{"floor", loop_floor},
		{"floor_clock", loop_floor_clock},
		{"rdtsc", loop_rdtsc},
		{"clock", loop_clock},
	};
	for (unsigned i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
		if (strcmp(mode, refs[i].name) != 0 && strcmp(mode, "refs") != 0)
			continue;
		struct bench_stats s = run_loop(refs[i].loop, 1, events, rounds);
		printf("name=ref.%s ns_per_op=%.2f ns_iqr=%.2f\n", refs[i].name, s.median,
		       s.q3 - s.q1);
	}
	return 0;
}
