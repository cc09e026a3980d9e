/*
 * Threads that block every signal, the way programs do it, and markers
 * that must fire anyway: a sigwait() signal thread, a thread created with
 * every signal blocked, a handler whose sa_mask is full, sigprocmask().
 * Exact counts, each case in a child process (a hang is killed and fails).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "patch_child.h"
#include "patch_util.h"
#include "tap.h"

#if defined(__x86_64__) || defined(__i386__)

#define N 1000

static __attribute__((noinline)) void fire_j(int i)
{
	trace_mark_jump(mask_j, "i %d", i);
}

static __attribute__((noinline)) void fire_i(int i)
{
	trace_mark_immediate(mask_i, "i %d", i);
}

static long hits;

/* Switch both markers on (0 expected), fire each N times; return the hits. */
static long on_and_fire(void)
{
	int ej = marker_probe_register("mask_j", "i %d", pu_count_probe, &hits);
	int ei = marker_probe_register("mask_i", "i %d", pu_count_probe, &hits);

	CHECK(ej == 0 && ei == 0, "register: %d, %d", ej, ei);
	CHECK(pu_check_sites("mask_j", 1) == 0 && pu_check_sites("mask_i", 1) == 0,
	      "both sites patched on");
	hits = 0;
	for (int i = 0; i < N; i++) {
		fire_j(i);
		fire_i(i);
	}
	marker_probe_unregister("mask_j", pu_count_probe, &hits);
	marker_probe_unregister("mask_i", pu_count_probe, &hits);
	CHECK(pu_check_sites("mask_j", 0) == 0 && pu_check_sites("mask_i", 0) == 0,
	      "both sites patched off");
	return hits;
}

/* A signal thread: every signal blocked (pthread_sigmask), sigwait() for SIGUSR1. */
static void case_sigwait(void)
{
	struct pc_blocker b;
	long n;

	pc_blocker_start(&b, 0);
	CHECK(b.ready == 1, "the signal thread blocks SIGTRAP");
	n = on_and_fire();
	CHECK(n == 2 * N, "with the signal thread waiting: %ld of %d hits", n, 2 * N);
	pc_blocker_stop(&b);
	n = on_and_fire();
	CHECK(n == 2 * N, "after the signal thread left: %ld of %d hits", n, 2 * N);
	_exit(0);
}

static int waiter_ready;

static void *idle_thread(void *arg)
{
	sigset_t cur;

	(void)arg;
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	__atomic_store_n(&waiter_ready, sigismember(&cur, SIGTRAP) ? 2 : 1, __ATOMIC_RELEASE);
	pause();
	return NULL;
}

/* A thread created while its creator blocked every signal (sigprocmask this time). */
static void case_created_blocked(void)
{
	sigset_t all, old;
	pthread_t th;
	long n;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pthread_create(&th, NULL, idle_thread, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	while (!__atomic_load_n(&waiter_ready, __ATOMIC_ACQUIRE))
		usleep(1000);
	CHECK(waiter_ready == 1, "the new thread blocks SIGTRAP");
	n = on_and_fire();
	CHECK(n == 2 * N, "%ld of %d hits", n, 2 * N);
	_exit(0);
}

static volatile sig_atomic_t in_handler;

static void fire_in_handler(int sig)
{
	(void)sig;
	in_handler++;
	fire_j(-1);
	fire_i(-1);
}

/* A handler installed with every signal in its mask fires both markers. */
static void case_handler_mask(void)
{
	struct sigaction sa = {0};
	int ej, ei;

	sa.sa_handler = fire_in_handler;
	sigfillset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	ej = marker_probe_register("mask_j", "i %d", pu_count_probe, &hits);
	ei = marker_probe_register("mask_i", "i %d", pu_count_probe, &hits);
	CHECK(ej == 0 && ei == 0, "register: %d, %d", ej, ei);
	for (int i = 0; i < N; i++)
		raise(SIGUSR2);
	CHECK(in_handler == N && hits == 2 * N, "%d handler runs, %ld of %d hits", (int)in_handler,
	      hits, 2 * N);
	/* Switches while the handler runs, from another thread: int3 inside it. */
	marker_probe_unregister("mask_j", pu_count_probe, &hits);
	marker_probe_unregister("mask_i", pu_count_probe, &hits);
	_exit(0);
}

static void *toggler(void *arg)
{
	long *stop = arg;

	while (!__atomic_load_n(stop, __ATOMIC_ACQUIRE)) {
		marker_probe_register("mask_j", "i %d", pu_count_probe, &hits);
		marker_probe_unregister("mask_j", pu_count_probe, &hits);
	}
	return NULL;
}

/* Sites in a full-mask handler while another thread keeps switching them. */
static void case_handler_switching(void)
{
	struct sigaction sa = {0};
	long stop = 0;
	pthread_t th;

	sa.sa_handler = fire_in_handler;
	sigfillset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	pthread_create(&th, NULL, toggler, &stop);
	for (int i = 0; i < 20 * N; i++)
		raise(SIGUSR2);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	CHECK(in_handler == 20 * N, "%d handler runs", (int)in_handler);
	_exit(0);
}

int main(void)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	/*
	 * A sanitizer's interceptors take pthread_sigmask(), sigprocmask() and
	 * sigaction() first and call glibc's through dlsym(RTLD_NEXT), which
	 * finds default symbol versions only: the library's never run there
	 * (a blocking thread then gets the -EAGAIN path, patch_trap tests it).
	 */
	printf("1..0 # SKIP sanitizer interceptors call glibc's signal-mask functions directly\n");
	return 0;
#endif
	plan(4);
	PC_RUN_OK(case_sigwait, 30000, "a sigwait() thread blocks every signal: markers fire, "
			     "before and after it exits");
	PC_RUN_OK(case_created_blocked, 30000, "a thread created with every signal blocked");
	PC_RUN_OK(case_handler_mask, 30000, "a handler whose sa_mask is full fires patched markers");
	PC_RUN_OK(case_handler_switching, 30000, "... while another thread switches them");
	return done();
}
#else
int main(void)
{
	printf("1..0 # SKIP no code patching on this architecture\n");
	return 0;
}
#endif
