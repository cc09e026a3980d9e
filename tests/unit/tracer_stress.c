/*
 * The tracer under pressure: threads recording while signal handlers record
 * inside them (nesting), into buffers far too small, in discard mode, then
 * the same while the consumer also closes packets every live period
 * (live.c opens sub-buffers as writers do); then the flight recorder.
 * Events of both of the probe's paths: 32-bit ints and a last string (the
 * fast path) and a 64-bit field (the general one), interleaved.  Exact
 * accounting: emitted = recorded + discarded, the trace (read by
 * babeltrace2) holds exactly the recorded events, each once, each thread's
 * in order, and the streams' final events_discarded add up to the
 * discarded count.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <markers.h>
#include <markers/tracer.h>
#include "tap.h"

#define NTHREADS 4

static long per_thread;
static __thread int my_id = -1;
static __thread volatile int sig_seq;
static long sig_total[NTHREADS];
static volatile int running;

static volatile int released, ndone;

static void on_signal(int sig)
{
	int saved = errno;

	(void)sig;
	if (my_id >= 0) {
		trace_mark_generic(st_sig, "t %d seq %d", my_id, sig_seq);
		sig_seq++;
	}
	errno = saved;
}

static void *worker(void *arg)
{
	my_id = (int)(intptr_t)arg;
	for (long i = 0; i < per_thread; i++) {
		if (i & 1)
			trace_mark_generic(st_ev, "t %d seq %ld pad %s", my_id, i, "0123456789");
		else
			trace_mark_generic(st_fast, "t %d seq %d pad %s", my_id, (int)i, "0123");
		/* Paced, so that the consumer and the signals meet the writers. */
		if (i % 256 == 255)
			usleep(100);
	}
	/* Stay alive (a target for pthread_kill) until the signals stop. */
	__atomic_fetch_add(&ndone, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&released, __ATOMIC_ACQUIRE))
		usleep(100);
	sig_total[my_id] = sig_seq;
	my_id = -1;
	return NULL;
}

static void *killer(void *arg)
{
	pthread_t *th = arg;

	while (__atomic_load_n(&running, __ATOMIC_RELAXED))
		for (int t = 0; t < NTHREADS; t++) {
			pthread_kill(th[t], SIGUSR1);
			usleep(50);
		}
	return NULL;
}

/* Sum of the last packet's events_discarded over the stream files of @dir. */
static long long streams_discarded(const char *dir, long long *packets)
{
	long long sum = 0;

	*packets = 0;
	for (int cpu = 0; cpu < 1024; cpu++) {
		char path[512];
		unsigned char h[76];
		long long last = 0, bits;
		off_t at = 0;
		int fd;

		snprintf(path, sizeof(path), "%s/cpu%d", dir, cpu);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			break;
		while (pread(fd, h, sizeof(h), at) == sizeof(h)) {
			memcpy(&bits, h + 48, 8);
			memcpy(&last, h + 64, 8);
			at += bits / 8;
			++*packets;
		}
		close(fd);
		sum += last;
	}
	return sum;
}

struct seen {
	long count, dup_or_order;
	long last[2][NTHREADS];
};

/* Read the trace with babeltrace2; count events, check each thread's order. */
static int read_trace(const char *dir, struct seen *s, int *stderr_lines)
{
	char cmd[1024], line[1024];
	FILE *f;

	memset(s, 0, sizeof(*s));
	for (int k = 0; k < 2; k++)
		for (int t = 0; t < NTHREADS; t++)
			s->last[k][t] = -1;
	snprintf(cmd, sizeof(cmd), "babeltrace2 '%s' 2>/dev/null", dir);
	f = popen(cmd, "r");
	*stderr_lines = 0;
	while (f && fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "}, { t = ");
		int t, k;
		long seq;

		if (!strncmp(line, "WARNING", 7)) {
			++*stderr_lines;
			continue;
		}
		if (!p || sscanf(p, "}, { t = %d, seq = %ld", &t, &seq) != 2 || t < 0 ||
		    t >= NTHREADS)
			continue;
		k = strstr(line, " st_sig: ") != NULL;
		if (seq <= s->last[k][t])
			s->dup_or_order++;
		s->last[k][t] = seq;
		s->count++;
	}
	return f ? pclose(f) : -1;
}

/* Discard mode, tiny buffers, nesting; the consumer closes packets every @live_ms too. */
static void discard_round(char *dir, unsigned live_ms)
{
	struct marker_tracer_options o = {.size = sizeof(o), .dir = dir, .subbuf_size = 4096,
					  .nsubbufs = 2, .live_period_ms = live_ms};
	struct marker_tracer_stats st = {.size = sizeof(st)};
	pthread_t th[NTHREADS], k;
	long long emitted = 0, packets, disc;
	struct seen s;
	int warn;

	ndone = 0;
	released = 0;
	is_int(marker_tracer_start(&o), 0, "start: 2 x 4 KiB per CPU, discard, live period %u ms",
	       live_ms);
	ok(marker_tracer_enable("st_*") >= 0, "enable");
	running = 1;
	for (int t = 0; t < NTHREADS; t++)
		pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t);
	pthread_create(&k, NULL, killer, th);
	while (__atomic_load_n(&ndone, __ATOMIC_ACQUIRE) < NTHREADS)
		usleep(100);
	__atomic_store_n(&running, 0, __ATOMIC_RELAXED);
	pthread_join(k, NULL);
	__atomic_store_n(&released, 1, __ATOMIC_RELEASE);
	for (int t = 0; t < NTHREADS; t++)
		pthread_join(th[t], NULL);
	is_int(marker_tracer_stop(), 0, "stop");
	for (int t = 0; t < NTHREADS; t++)
		emitted += per_thread + sig_total[t];
	marker_tracer_get_stats(&st);
	diag("emitted %lld (%lld in signal handlers), recorded %llu, discarded %llu", emitted,
	     emitted - NTHREADS * per_thread, (unsigned long long)st.recorded,
	     (unsigned long long)st.discarded);
	ok(emitted > NTHREADS * per_thread, "signal handlers recorded inside recording threads");
	is_int(st.recorded + st.discarded, emitted, "emitted = recorded + discarded");
	ok(st.discarded > 0, "tiny buffers discard");
	disc = streams_discarded(dir, &packets);
	is_int(disc, st.discarded, "the streams' events_discarded add up (%lld packets)", packets);
	is_int(read_trace(dir, &s, &warn), 0, "babeltrace2 reads it");
	is_int(s.count, st.recorded, "the trace holds every recorded event");
	is_int(s.dup_or_order, 0, "each once, each thread's in order");
}

int main(void)
{
	char dir[] = "/tmp/markers-stress-XXXXXX", cmd[600];
	struct marker_tracer_options o = {.size = sizeof(o), .dir = dir, .subbuf_size = 4096,
					  .nsubbufs = 2};
	struct marker_tracer_stats st = {.size = sizeof(st)};
	struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
	struct seen s;
	int warn;

	plan(23);
	per_thread = scale(50000);
	if (!mkdtemp(dir))
		return 1;
	sigaction(SIGUSR1, &sa, NULL);

	discard_round(dir, 0);
	discard_round(dir, 1);

	/* Overwrite: one thread, the newest events survive, contiguous. */
	long n = scale(100000);

	o.overwrite = 1;
	is_int(marker_tracer_start(&o), 0, "start: overwrite");
	marker_tracer_enable("st_ow*");
	for (long i = 0; i < n; i++) {
		if (i & 1)
			trace_mark_generic(st_ow, "t %d seq %ld", 0, i);
		else
			trace_mark_generic(st_ow_fast, "t %d seq %d", 0, (int)i);
	}
	marker_tracer_stop();
	marker_tracer_get_stats(&st);
	read_trace(dir, &s, &warn);
	diag("overwrite: %ld emitted, %llu kept, %llu overwritten", n,
	     (unsigned long long)st.recorded, (unsigned long long)st.discarded);
	ok(s.count > 0 && s.count == (long)st.recorded && s.last[0][0] == n - 1 &&
	   !s.dup_or_order,
	   "overwrite keeps the newest, through the last one (last %ld, %ld events)", s.last[0][0],
	   s.count);
	is_int(st.recorded + st.discarded, n, "emitted = kept + overwritten");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd)) {
	}
	return done();
}
