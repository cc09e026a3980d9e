/*
 * Probes connected and disconnected while markers fire in other threads and
 * in signal handlers.  What would catch the bugs we fear:
 *  - a fire that starts after registration returned must reach the probe
 *    (exact per-thread counts over the "on" windows);
 *  - a probe's private data freed after marker_synchronize_unregister()
 *    must never be touched again (it is poisoned, then freed: ASan sees it);
 *  - no crash, no deadlock, under TSan no race report.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <markers.h>
#include "tap.h"

#define NTHREADS 4
#define LIVE 0x600dda7aU
#define DEAD 0xdeadbeefU

struct priv {
	volatile unsigned magic;
};

static unsigned long gen; /* 4k+1: probe registered and stable */
static int stop;
static _Thread_local unsigned long called; /* set by the probe: the gen it was fired with */
static unsigned long bad_magic;
static unsigned long signal_fires;

static void probe(const struct marker *m, void *p, const char *fmt, va_list *args)
{
	struct priv *pv = p;
	unsigned long g = va_arg(*args, unsigned long);

	(void)fmt;
	if (pv->magic != LIVE)
		__atomic_fetch_add(&bad_magic, 1, __ATOMIC_RELAXED);
	if (m->name[5] == 'm') /* race_marker, not race_signal */
		called = g;
}

static void fire(unsigned long g)
{
	trace_mark(race_marker, "gen %lu", g);
}

static void on_signal(int sig)
{
	(void)sig;
	/* Fires from a signal handler, possibly nested inside the probe. */
	trace_mark_generic(race_signal, "gen %lu", __atomic_load_n(&gen, __ATOMIC_ACQUIRE));
	__atomic_fetch_add(&signal_fires, 1, __ATOMIC_RELAXED);
}

struct worker {
	pthread_t th;
	unsigned long expected, got;
};

/* GCC does not instrument fences under TSan (-Wtsan): the runtime's call, as clang emits. */
#ifdef __SANITIZE_THREAD__
void __tsan_atomic_thread_fence(int order);
#define acquire_fence() __tsan_atomic_thread_fence(__ATOMIC_ACQUIRE)
#else
#define acquire_fence() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#endif

static void *work(void *arg)
{
	struct worker *w = arg;

	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		unsigned long g = __atomic_load_n(&gen, __ATOMIC_ACQUIRE);

		called = 0;
		fire(g);
		/*
		 * Count the fire as "on" only if the window was still open after
		 * it: gen moves to 4k+2 before the unregistration starts, and the
		 * fence orders our loads in fire() before this re-read.
		 */
		acquire_fence();
		if (g % 4 == 1 && __atomic_load_n(&gen, __ATOMIC_ACQUIRE) == g) {
			w->expected++;
			w->got += called == g;
		}
	}
	return NULL;
}

int main(void)
{
	struct worker w[NTHREADS];
	long cycles = scale(300);
	unsigned long expected = 0, got = 0;
	struct sigaction sa = {.sa_handler = on_signal};
	int err = 0;

	plan(5);
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	for (int i = 0; i < NTHREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		pthread_create(&w[i].th, NULL, work, &w[i]);
	}
	for (long c = 0; c < cycles; c++) {
		struct priv *pv = malloc(sizeof(*pv));
		struct priv *ps = malloc(sizeof(*ps));

		pv->magic = LIVE;
		ps->magic = LIVE;
		err |= marker_probe_register("race_marker", "gen %lu", probe, pv);
		err |= marker_probe_register("race_signal", NULL, probe, ps);
		__atomic_store_n(&gen, 4 * c + 1, __ATOMIC_RELEASE);
		for (int i = 0; i < NTHREADS; i++)
			pthread_kill(w[i].th, SIGUSR1);
		usleep(200);
		__atomic_store_n(&gen, 4 * c + 2, __ATOMIC_RELEASE);
		err |= marker_probe_unregister("race_marker", probe, pv);
		err |= marker_probe_unregister("race_signal", probe, ps);
		marker_synchronize_unregister();
		/* No thread may be in the probe with pv now: poison, then free. */
		pv->magic = DEAD;
		ps->magic = DEAD;
		free(pv);
		free(ps);
		__atomic_store_n(&gen, 4 * c + 4, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(w[i].th, NULL);
		expected += w[i].expected;
		got += w[i].got;
	}
	is_int(err, 0, "%ld register/unregister cycles succeed", cycles);
	ok(expected > 0, "fires happened while the probe was on (%lu)", expected);
	is_int(got, expected, "every fire in an on window reached the probe");
	is_int(bad_magic, 0, "no probe ran with data freed after synchronize");
	ok(signal_fires > 0, "markers fired from signal handlers (%lu)", signal_fires);
	return done();
}
