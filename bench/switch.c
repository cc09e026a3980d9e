/*
 * switch.c - how long switching markers on and off takes, with a busy thread.
 *
 *	switch [-r ROUNDS] [-k KIND]
 *
 * For each kind (generic, immediate, jump) a generated object holds 10,101
 * sites: one marker alone, 100 markers under one glob and 10,000 under
 * another (bench/gen_sites.sh).  A second thread, pinned to the other CPU,
 * runs all of them in a loop the whole time, so that the patcher meets a
 * thread executing the very code it rewrites.  We time the calls a user
 * makes: marker_probe_register() for one marker, marker_probe_register_glob()
 * for 100 and 10,000, and their unregister counterparts.  When they return,
 * the change is visible to every thread (that is their contract); the
 * benchmark also checks that the busy thread's probe hits start and stop.
 *
 * Beside them, in the same run: one membarrier(SYNC_CORE), the unit the
 * patching protocol is made of, two ways: back to back, 1,001 times
 * (switch.membarrier), and once right before each timed switch, after the
 * same wait (switch.membarrier.before_switch): on a virtual machine the
 * first system calls after a thread ran in user space for a while cost
 * several times more than back-to-back ones, and a switch pays those.
 * ratio_vs_membarrier is against the second.  cpu_ns: the median CPU
 * time of the switching thread in the call, which other programs running
 * meanwhile do not inflate.  Then the immediate and jump rows again with
 * 100 more threads, idle, in the process (rows switch.KIND.N.t100.*).
 */
#define _GNU_SOURCE
#include <linux/membarrier.h>
#include <markers.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "bench_util.h"

void sw_generic_fire(int x);
void sw_immediate_fire(int x);
void sw_jump_fire(int x);

static const struct kind {
	const char *name;
	void (*fire)(int);
} kinds[] = {
	{"generic", sw_generic_fire},
	{"immediate", sw_immediate_fire},
	{"jump", sw_jump_fire},
};

static unsigned long hits;
static void (*volatile busy_fire)(int);
static volatile int busy_stop;
static unsigned long busy_loops;
static double membarrier_ns; /* median of back-to-back SYNC_CORE membarriers, this phase */
static double *mb_before;     /* one membarrier before each timed switch, this run */
static int nmb_before, cap_mb_before;
static const char *tag = ""; /* ".t100" with the idle threads */

static void probe(const struct marker *m, void *priv, const char *fmt, va_list *args)
{
	__atomic_fetch_add(&hits, 1, __ATOMIC_RELAXED);
}

static void *busy(void *arg)
{
	bench_pin_last_cpu();
	while (!busy_stop) {
		busy_fire(1);
		__atomic_fetch_add(&busy_loops, 1, __ATOMIC_RELAXED);
	}
	return arg;
}

/* Two full passes of the busy loop (1 s at most). */
static void wait_passes(void)
{
	uint64_t deadline = bench_now_ns() + 1000000000u;
	unsigned long l0 = __atomic_load_n(&busy_loops, __ATOMIC_RELAXED);

	while (__atomic_load_n(&busy_loops, __ATOMIC_RELAXED) < l0 + 2 && bench_now_ns() < deadline)
		;
}

/* Wait until the probe's hit count moves (@moving) or stays still; 1 s at most. */
static int wait_hits(int moving)
{
	uint64_t deadline = bench_now_ns() + 1000000000u;

	while (bench_now_ns() < deadline) {
		unsigned long h0 = __atomic_load_n(&hits, __ATOMIC_RELAXED);
		unsigned long l0 = __atomic_load_n(&busy_loops, __ATOMIC_RELAXED);

		/* Two full passes of the busy loop, so every site ran at least once. */
		while (__atomic_load_n(&busy_loops, __ATOMIC_RELAXED) < l0 + 2 &&
		       bench_now_ns() < deadline)
			;
		int moved = __atomic_load_n(&hits, __ATOMIC_RELAXED) != h0;
		if (moved == moving)
			return 1;
	}
	return 0;
}

struct mode_query {
	const char *name;
	const char *mode, *reason;
};

static int find_mode(const struct marker_info *info, void *arg)
{
	struct mode_query *q = arg;

	if (strcmp(info->name, q->name) != 0 || info->nsites == 0)
		return 0;
	q->mode = marker_mode_name(info->sites[0].mode);
	q->reason = info->sites[0].reason;
	return 1;
}

/*
 * CPU time of this thread: on a loaded machine the wall time of a switch
 * also holds the time other programs ran; this is the switch's own work,
 * its system calls and its spins waiting for the other CPU included.
 */
static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static long sys_membarrier(int cmd)
{
	return syscall(__NR_membarrier, cmd, 0, 0);
}

/* One membarrier, timed, kept for the median of switch.membarrier.before_switch. */
static void membarrier_sample(void)
{
	uint64_t t0 = bench_now_ns();

	if (sys_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE) < 0)
		return;
	if (nmb_before == cap_mb_before) {
		cap_mb_before = cap_mb_before ? 2 * cap_mb_before : 256;
		mb_before = realloc(mb_before, cap_mb_before * sizeof(double));
	}
	mb_before[nmb_before++] = (double)(bench_now_ns() - t0);
	/* Then the busy thread runs a while again, as before the switch. */
	wait_passes();
}

/* Register (glob or name) and unregister @rounds times; print the medians. */
static void measure(const struct kind *k, const char *what, int nmarkers, int rounds)
{
	char name[64], first[64];
	double *on = calloc(rounds, sizeof(double)), *off = calloc(rounds, sizeof(double));
	double *con = calloc(rounds, sizeof(double)), *coff = calloc(rounds, sizeof(double));
	int seen_on = 1, seen_off = 1, glob = nmarkers > 1;
	struct mode_query q = {first, "?", NULL};
	int mb0 = nmb_before;
	double mb;

	snprintf(name, sizeof(name), glob ? "sw_%s_%s_*" : "sw_%s_%s", k->name, what);
	snprintf(first, sizeof(first), glob ? "sw_%s_%s_%0*d" : "sw_%s_%s", k->name, what,
		 nmarkers == 100 ? 3 : 5, 0);
	for (int r = 0; r < rounds; r++) {
		uint64_t t0, c0;
		int err;

		membarrier_sample();
		c0 = thread_cpu_ns();
		t0 = bench_now_ns();
		err = glob ? marker_probe_register_glob(name, probe, NULL)
			       : marker_probe_register(name, NULL, probe, NULL);
		uint64_t t1 = bench_now_ns();

		con[r] = (double)(thread_cpu_ns() - c0);

		if (err < 0) {
			printf("name=switch.%s.%d status=error err=%d\n", k->name, nmarkers, err);
			return;
		}
		on[r] = (double)(t1 - t0);
		if (r == 0)
			marker_foreach(find_mode, &q);
		seen_on &= wait_hits(1);

		membarrier_sample();
		c0 = thread_cpu_ns();
		t0 = bench_now_ns();
		err = glob ? marker_probe_unregister_glob(name, probe, NULL)
			   : marker_probe_unregister(name, probe, NULL);
		t1 = bench_now_ns();
		coff[r] = (double)(thread_cpu_ns() - c0);
		off[r] = (double)(t1 - t0);
		marker_synchronize_unregister();
		seen_off &= wait_hits(0);
	}
	struct bench_stats s_on = bench_stats(on, rounds), s_off = bench_stats(off, rounds);
	/* The membarriers timed right before these very switches. */
	mb = nmb_before > mb0 ? bench_stats(mb_before + mb0, nmb_before - mb0).median : 0;
	if (mb <= 0)
		mb = 1; /* no membarrier here: the ratios say so by their size */
	printf("name=switch.%s.%d%s.on ns_per_op=%.0f ns_iqr=%.0f cpu_ns=%.0f membarrier_ns=%.0f "
	       "ratio_vs_membarrier=%.2f mode=%s seen=%s%s%s\n",
	       k->name, nmarkers, tag, s_on.median, s_on.q3 - s_on.q1, bench_stats(con, rounds).median,
	       mb, s_on.median / mb, q.mode, seen_on ? "yes" : "no", q.reason ? " reason=" : "",
	       q.reason ? q.reason : "");
	printf("name=switch.%s.%d%s.off ns_per_op=%.0f ns_iqr=%.0f cpu_ns=%.0f membarrier_ns=%.0f "
	       "ratio_vs_membarrier=%.2f seen=%s\n",
	       k->name, nmarkers, tag, s_off.median, s_off.q3 - s_off.q1,
	       bench_stats(coff, rounds).median, mb, s_off.median / mb, seen_off ? "yes" : "no");
	free(on);
	free(off);
	free(con);
	free(coff);
}

/* One membarrier(SYNC_CORE) round trip, median of @n, with the busy thread running. */
static double time_membarrier(int n)
{
	double *v = calloc(n, sizeof(double));
	struct bench_stats st;

	syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0);
	for (int i = 0; i < n; i++) {
		uint64_t t0 = bench_now_ns();

		if (syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0) < 0) {
			free(v);
			return -1;
		}
		v[i] = (double)(bench_now_ns() - t0);
	}
	st = bench_stats(v, n);
	free(v);
	return st.median;
}

static void *idle(void *arg)
{
	for (;;)
		pause();
	return arg;
}

/* Each kind with its busy thread: @all also 100 markers and the generic kind. */
static void run_kinds(const char *only, int rounds, int all)
{
	for (unsigned i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const struct kind *k = &kinds[i];
		pthread_t tid;

		if ((only && strcmp(only, k->name) != 0) || (!all && k->fire == sw_generic_fire))
			continue;
		busy_stop = 0;
		busy_loops = 0;
		busy_fire = k->fire;
		pthread_create(&tid, NULL, busy, NULL);
		/*
		 * Start when the busy thread runs its loop: a thread being
		 * created runs with every signal blocked for a moment, and the
		 * patcher rightly declines to patch while one blocks SIGTRAP.
		 */
		while (__atomic_load_n(&busy_loops, __ATOMIC_RELAXED) < 2)
			;
		if (k->fire != sw_generic_fire && !membarrier_ns) {
			membarrier_ns = time_membarrier(1001);
			printf("name=switch.membarrier%s ns_per_op=%.0f\n", tag, membarrier_ns);
		}
		measure(k, "one", 1, rounds * 2);
		if (all)
			measure(k, "b", 100, rounds);
		measure(k, "c", 10000, rounds);
		busy_stop = 1;
		pthread_join(tid, NULL);
	}
	if (nmb_before)
		printf("name=switch.membarrier.before_switch%s ns_per_op=%.0f samples=%d\n", tag,
		       bench_stats(mb_before, nmb_before).median, nmb_before);
	nmb_before = 0;
	membarrier_ns = 0;
}

int main(int argc, char **argv)
{
	int rounds = 11, opt;
	const char *only = NULL;

	while ((opt = getopt(argc, argv, "r:k:")) != -1) {
		switch (opt) {
		case 'r': rounds = atoi(optarg); break;
		case 'k': only = optarg; break;
		default: fprintf(stderr, "usage: switch [-r ROUNDS] [-k KIND]\n"); return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	bench_pin(0);
	run_kinds(only, rounds, 1);
	/* 100 idle threads more: what a thread costs a switch. */
	for (int i = 0; i < 100; i++) {
		pthread_t th;

		if (pthread_create(&th, NULL, idle, NULL) == 0)
			pthread_detach(th);
	}
	usleep(100000); /* every one of them out of its start-up */
	tag = ".t100";
	run_kinds(only, rounds, 0);
	return 0;
}
