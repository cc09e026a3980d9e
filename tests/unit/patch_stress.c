/*
 * Code rewriting under load: 4 threads run 1,536 sites of all kinds in a
 * tight loop, a thread loads, runs and unloads an instrumented library,
 * while the main thread switches random batches (glob probes) on and off
 * and opens "windows": a marker switched on for a while, in which its probe
 * must run on every call, exactly.
 *
 * How a window is counted: the firing threads pass the epoch they read
 * before each round of calls as an argument; the main thread opens a
 * window by connecting its probe and then publishing a new epoch, and
 * closes it by publishing the next epoch and waiting until every thread
 * has seen it (so that all its calls with the old one are finished).  The
 * probe counts calls whose epoch argument is the window's; each thread
 * counts the rounds it ran with that epoch.
 *
 * MARKERS_TEST_SCALE multiplies the number of windows, and when it is
 * above 1 there are 24 random batches per window instead of 4: the long
 * tier (scale 100) makes 4,000 windows and 104,000 switches.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "patch_util.h"
#include "tap.h"

#define NTHREADS 4
#define COPIES 32 /* fire_all runs each marker at this many sites */

#define ST(kind, k, n) trace_mark_##kind(st_##k##n, "t %d e %d", t, e);
#define ST16(kind, k)                                                                    \
	ST(kind, k, 0) ST(kind, k, 1) ST(kind, k, 2) ST(kind, k, 3) ST(kind, k, 4)       \
	ST(kind, k, 5) ST(kind, k, 6) ST(kind, k, 7) ST(kind, k, 8) ST(kind, k, 9)       \
	ST(kind, k, 10) ST(kind, k, 11) ST(kind, k, 12) ST(kind, k, 13) ST(kind, k, 14) \
	ST(kind, k, 15)

static inline __attribute__((always_inline)) void fire48(int t, int e)
{
	ST16(immediate, i)
	ST16(jump, j)
	ST16(generic, g)
}

#define X4(s) s s s s
static __attribute__((noinline)) void fire_all(int t, int e)
{
	X4(X4(fire48(t, e);) X4(fire48(t, e);))
}

static int epoch, stop;
static int seen[NTHREADS];
static long rounds[NTHREADS][4]; /* rounds run with epoch e, at [e % 4] */
static long hits;		  /* window probe: calls with the window's epoch */
static int window_epoch = -1;

static void window_probe(const struct marker *m, void *priv, const char *fmt, va_list *args)
{
	int t, e;

	(void)m, (void)priv, (void)fmt;
	t = va_arg(*args, int);
	e = va_arg(*args, int);
	(void)t;
	if (e == __atomic_load_n(&window_epoch, __ATOMIC_RELAXED))
		__atomic_fetch_add(&hits, 1, __ATOMIC_RELAXED);
}

static void noise_probe(const struct marker *m, void *priv, const char *fmt, va_list *args)
{
	(void)m, (void)priv, (void)fmt, (void)args;
}

static void *firing(void *arg)
{
	int t = (int)(long)arg, mine = -1;

	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		int e = __atomic_load_n(&epoch, __ATOMIC_ACQUIRE);

		if (e != mine) {
			/* The rounds of the old epoch are final before others see this. */
			__atomic_store_n(&rounds[t][e % 4], 0, __ATOMIC_RELAXED);
			__atomic_store_n(&seen[t], e, __ATOMIC_RELEASE);
			mine = e;
		}
		fire_all(t, e);
		__atomic_store_n(&rounds[t][e % 4], rounds[t][e % 4] + 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static long dl_loads;

/* Loads the instrumented library, runs its sites, unloads it; again. */
static void *dl_churn(void *arg)
{
	const char *path = test_lib("patch_dl");

	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		void *h = dlopen(path, RTLD_NOW);
		void (*loop)(int);

		if (!h) {
			fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
			abort();
		}
		loop = (void (*)(int))dlsym(h, "patch_dl_loop");
		for (int i = 0; i < 2000; i++)
			loop(i);
		dlclose(h);
		dl_loads++;
	}
	return NULL;
}

/* Wait until every firing thread has run with epoch @e. */
static void wait_seen(int e)
{
	for (int t = 0; t < NTHREADS; t++)
		while (__atomic_load_n(&seen[t], __ATOMIC_ACQUIRE) != e)
			sched_yield();
}

static const char *globs[] = {"st_i*", "st_j*", "st_g*", "st_?1*", "st_?[2-5]", "*7",
			      "dl_*", "st_*"};
#define NGLOBS (sizeof(globs) / sizeof(globs[0]))

int main(void)
{
	pthread_t th[NTHREADS], dlt;
	int on[NGLOBS] = {0};
	long windows = scale(40), noise = scale(1) > 1 ? 24 : 4;
	long bad = 0, switches = 0, batches_total = 0;
	struct timespec t0, t1;
	unsigned seed = 12345;
	const char *kinds = "ijg";

	plan(5);
	ok(pu_check_sites("st_i0", 0) == 0 && pu_check_sites("st_j15", 0) == 0,
	   "the stress sites are adopted");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long t = 0; t < NTHREADS; t++)
		pthread_create(&th[t], NULL, firing, (void *)t);
	pthread_create(&dlt, NULL, dl_churn, NULL);
	wait_seen(0);

	for (long w = 0; w < windows; w++) {
		char name[16];
		long want = 0;
		int e;

		snprintf(name, sizeof(name), "st_%c%d", kinds[rand_r(&seed) % 3],
			 rand_r(&seed) % 16);
		/*
		 * Open: count the epoch no thread has yet, connect the probe,
		 * then publish the epoch.
		 */
		e = __atomic_load_n(&epoch, __ATOMIC_RELAXED) + 1;
		__atomic_store_n(&window_epoch, e, __ATOMIC_RELAXED);
		__atomic_store_n(&hits, 0, __ATOMIC_RELAXED);
		if (marker_probe_register(name, "t %d e %d", window_probe, NULL)) {
			bad++;
			continue;
		}
		__atomic_store_n(&epoch, e, __ATOMIC_RELEASE);
		/* Random batches while the window is open. */
		for (long k = 0; k < noise; k++) {
			size_t g = (size_t)rand_r(&seed) % NGLOBS;

			if (on[g])
				marker_probe_unregister_glob(globs[g], noise_probe, NULL);
			else
				marker_probe_register_glob(globs[g], noise_probe, NULL);
			on[g] = !on[g];
			switches++;
		}
		wait_seen(e);
		/* Close: a new epoch, and every thread past the old one. */
		__atomic_store_n(&epoch, e + 1, __ATOMIC_RELEASE);
		wait_seen(e + 1);
		for (int t = 0; t < NTHREADS; t++)
			want += COPIES * __atomic_load_n(&rounds[t][e % 4], __ATOMIC_RELAXED);
		if (__atomic_load_n(&hits, __ATOMIC_RELAXED) != want) {
			if (bad++ < 5)
				diag("window %ld on %s: %ld probe calls, %ld site runs", w, name,
				     __atomic_load_n(&hits, __ATOMIC_RELAXED), want);
		}
		/*
		 * No grace period needed: a call still in the probe passed an
		 * older epoch, and the probe counts only the current one.
		 */
		marker_probe_unregister(name, window_probe, NULL);
		switches += 2;
		batches_total += want;
		/* Off now: a whole epoch of rounds, and not one call may reach the probe. */
		__atomic_store_n(&window_epoch, e + 2, __ATOMIC_RELAXED);
		__atomic_store_n(&hits, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&epoch, e + 2, __ATOMIC_RELEASE);
		wait_seen(e + 2);
		while (!__atomic_load_n(&rounds[NTHREADS - 1][(e + 2) % 4], __ATOMIC_RELAXED))
			sched_yield();
		if (__atomic_load_n(&hits, __ATOMIC_RELAXED)) {
			if (bad++ < 5)
				diag("window %ld: %s off, yet its probe ran", w, name);
		}
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (int t = 0; t < NTHREADS; t++)
		pthread_join(th[t], NULL);
	pthread_join(dlt, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (size_t g = 0; g < NGLOBS; g++)
		if (on[g])
			marker_probe_unregister_glob(globs[g], noise_probe, NULL);

	ok(bad == 0, "%ld windows: the probe ran on every call while on, never while off", windows);
	ok(batches_total > 0, "the firing threads ran in the windows (%ld counted calls)",
	   batches_total);
	ok(dl_loads > 0, "the instrumented library came and went %ld times", dl_loads);
	ok(pu_check_sites("st_i0", 0) == 0 && pu_check_sites("st_j15", 0) == 0 &&
		   pu_check_sites("st_g3", 0) == 0,
	   "all off again: sites not taken");
	diag("%ld switches in %.2f s", switches,
	     (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return done();
}
