/*
 * rcu_churn - threads come and go while a writer runs grace periods, in
 * each RCU mode.  Short-lived threads read and exit every way a thread can:
 * returning; pthread_exit() inside a section (as a probe might); cancelled
 * inside a section; a raw exit system call, inside a section and outside
 * one, which runs no destructor at all; some register from a signal
 * handler, their first section there.  What would catch the bugs:
 *  - a grace period that waits forever for a gone thread (the writer must
 *    keep making progress; a watchdog ends the test);
 *  - slots never given back (the registry must not grow with the churn);
 *  - a retired object seen by a reader (poisoned, as in rcu_stress).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include "rcu_util.h"
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#endif

enum how { RETURN, EXIT_INSIDE, CANCEL_INSIDE, RAW_EXIT_INSIDE, RAW_EXIT_OUTSIDE, FROM_HANDLER, NHOW };

static int stop;
static unsigned long grace_periods, handler_first;

static void on_signal(int sig)
{
	(void)sig;
	if (!marker__rcu_self)
		__atomic_fetch_add(&handler_first, 1, __ATOMIC_RELAXED);
	read_once(10);
}

static void *writer(void *arg)
{
	(void)arg;
	write_until(&stop, &grace_periods);
	return NULL;
}

/*
 * Cancellation unwinds the thread's frames without returning through them,
 * so ASan never unpoisons their stack redzones; its own thread teardown,
 * which later runs on that stack, would then report them.  The exit path
 * tells ASan that the frames above are gone, as a noreturn call does.
 */
static void cancelled(void *arg)
{
	(void)arg;
#ifdef __SANITIZE_ADDRESS__
	__asan_handle_no_return();
#endif
}

static void *short_lived(void *arg)
{
	enum how how = (enum how)(uintptr_t)arg;
	struct marker__rcu_reader *r;

	if (how == FROM_HANDLER)
		raise(SIGUSR1); /* the thread's first section, in the handler */
	for (int i = 0; i < 20; i++)
		read_once(10);
	r = marker__rcu_reader();
	switch (how) {
	case EXIT_INSIDE:
		marker__rcu_read_lock_r(r);
		obj_check(marker__rcu_load(rcu_cur), 10);
		pthread_exit(NULL);
	case CANCEL_INSIDE:
		marker__rcu_read_lock_r(r);
		obj_check(marker__rcu_load(rcu_cur), 10);
		pthread_cleanup_push(cancelled, NULL);
		for (;;)
			pause(); /* a cancellation point */
		pthread_cleanup_pop(0);
	case RAW_EXIT_INSIDE:
		marker__rcu_read_lock_r(r);
		obj_check(marker__rcu_load(rcu_cur), 10);
		syscall(SYS_exit, 0); /* no destructor, no unwinding: the kernel ends the thread */
		break;
	case RAW_EXIT_OUTSIDE:
		syscall(SYS_exit, 0);
		break;
	default:
		break;
	}
	return NULL;
}

/* Waits for @th, which may have left by a raw exit (the kernel still clears its tid). */
static void reap(pthread_t th)
{
	pthread_join(th, NULL);
}

/* A grace period must end within a few seconds, whatever the threads did. */
static int progress_within(unsigned long from, int seconds)
{
	for (int i = 0; i < seconds * 100; i++) {
		if (__atomic_load_n(&grace_periods, __ATOMIC_RELAXED) > from + 2)
			return 1;
		nanosleep(&(struct timespec){0, 10000000}, NULL);
	}
	return 0;
}

static void body(const char *mode)
{
	pthread_t w;
	struct sigaction sa;
	long rounds = scale(strcmp(mode, "global") ? 40 : 10); /* global: ~100 ms a round */
	int stuck = 0, max_readers = 0, raw = 0;

	/*
	 * A thread that exits by a raw system call leaves glibc's and the
	 * sanitizers' books open: skip that way under sanitizers.
	 */
	raw = !getenv("MARKERS_SANFLAGS") || !*getenv("MARKERS_SANFLAGS");
	plan(5);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGUSR1, &sa, NULL);
	rcu_cur = obj_new(0);
	pthread_create(&w, NULL, writer, NULL);
	for (long round = 0; round < rounds; round++) {
		pthread_t th[NHOW * 2];
		int n = 0;

		for (int how = 0; how < NHOW; how++) {
			if (!raw && (how == RAW_EXIT_INSIDE || how == RAW_EXIT_OUTSIDE))
				continue;
			for (int k = 0; k < 2; k++)
				if (pthread_create(&th[n], NULL, short_lived, (void *)(uintptr_t)how) == 0)
					n++;
		}
		nanosleep(&(struct timespec){0, 2000000}, NULL);
		for (int i = 0; i < n; i++)
			pthread_cancel(th[i]); /* the CANCEL_INSIDE ones wait for it; others are gone */
		for (int i = 0; i < n; i++)
			reap(th[i]);
		if (!progress_within(__atomic_load_n(&grace_periods, __ATOMIC_RELAXED), 20))
			stuck++;
		if (marker__rcu_nreaders() > max_readers)
			max_readers = marker__rcu_nreaders();
		if (stuck)
			break;
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	is_int(stuck, 0, "%s: grace periods kept ending through %ld rounds of thread churn", mode,
	       rounds);
	if (stuck) {
		fflush(stdout);
		_exit(1); /* the writer waits forever: nothing else to learn */
	}
	pthread_join(w, NULL);
	is_int(rcu_bad, 0, "%s: no reader found a retired object", mode);
	ok(handler_first > 0, "%s: threads registered from a signal handler (%lu)", mode,
	   handler_first);
	/*
	 * Destructors give slots back at once; the slots of raw exits come
	 * back when a registration finds none free: never more than one
	 * chunk (63) plus the threads alive at once.
	 */
	ok(max_readers <= 63 + NHOW * 2, "%s: the registry stays bounded (at most %d slots in use)",
	   mode, max_readers);
	/* A last grace period finds the raw exits' slots and frees the ones inside sections. */
	marker__rcu_synchronize();
	ok(marker__rcu_nreaders() <= 63, "%s: %d slots in use after the churn", mode,
	   marker__rcu_nreaders());
	diag("%s: %lu grace periods, raw exits %s", mode, grace_periods, raw ? "tested" : "skipped");
}

int main(int argc, char **argv)
{
	alarm(240); /* the watchdog: a stuck grace period is a failure, not a hang */
	return rcu_test_main(argc, argv, body);
}
