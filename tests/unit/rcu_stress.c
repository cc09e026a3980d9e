/*
 * rcu_stress - the library's RCU under load, in each of its modes: reader
 * threads (some nesting sections three deep) and signal handlers (some on
 * an alternate stack, interrupting readers in and out of their sections)
 * check the published object while two writers publish and retire objects
 * as fast as grace periods allow.  A retired object is poisoned: a grace
 * period that ends too early is a poisoned read (or, under ASan, a read
 * after free).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include "rcu_util.h"

#define NREADERS 4
#define NWRITERS 2

static int stop;
static unsigned long reads, handler_reads, grace_periods;
static pthread_t readers[NREADERS];

/*
 * Sleeps @k times the cost of a grace period with no reader to wait for
 * (measured before the readers start): long enough that a grace period that
 * did not wait would retire the object under the sleeper, not so long that
 * the correct ones crawl.
 */
static unsigned long gp0_ns;

static void sleep_grace_periods(int k)
{
	unsigned long ns = gp0_ns * (unsigned long)k;

	if (ns < 200000)
		ns = 200000;
	if (ns > 100000000)
		ns = 100000000;
	struct timespec until;

	/* To a deadline: the signaller's signals interrupt the sleep again and again. */
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += (long)ns;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR)
		;
}

static void on_signal(int sig)
{
	int saved = errno;

	(void)sig;
	read_once(50); /* nested inside the interrupted thread's section, or not */
	__atomic_fetch_add(&handler_reads, 1, __ATOMIC_RELAXED);
	errno = saved;
}

static void *reader(void *arg)
{
	long id = (long)arg;
	unsigned long n = 0;
	stack_t ss;

	if (id % 2) { /* half the readers take the signal on an alternate stack */
		ss.ss_sp = malloc(SIGSTKSZ * 4);
		ss.ss_size = SIGSTKSZ * 4;
		ss.ss_flags = 0;
		if (!ss.ss_sp || sigaltstack(&ss, NULL))
			abort();
	}
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		if (id == 0) {
			/* Three deep: the outer object must stay alive throughout. */
			struct marker__rcu_reader *r = marker__rcu_reader();
			struct obj *o;

			marker__rcu_read_lock_r(r);
			o = marker__rcu_load(rcu_cur);
			read_once(20);
			marker__rcu_read_lock_r(r);
			read_once(20);
			marker__rcu_read_unlock_r(r);
			obj_check(o, 20);
			marker__rcu_read_unlock_r(r);
		} else if (n % 8 == 0) {
			/*
			 * A long section: preempted (yield), asleep or long
			 * (spin), across many of the writers' grace periods.
			 */
			struct marker__rcu_reader *r = marker__rcu_reader();
			struct obj *o;
			int sleep_later;

			marker__rcu_read_lock_r(r);
			o = marker__rcu_load(rcu_cur);
			if (id == 1)
				sched_yield();
			if (id >= 2 && n % 16 == 0)
				sleep_grace_periods((int)id);
			sleep_later = id >= 2 && n % 16 == 0;
			obj_check(o, id == 1 ? 0 : 20000);
			marker__rcu_read_unlock_r(r);
			if (sleep_later) /* as long outside: grace periods can end */
				sleep_grace_periods((int)id);
		} else {
			read_once(id * 40);
		}
		if (++n % 16 == 0)
			sched_yield(); /* room for the writers on a loaded machine */
	}
	__atomic_fetch_add(&reads, n, __ATOMIC_RELAXED);
	if (id % 2) {
		ss.ss_flags = SS_DISABLE;
		sigaltstack(&ss, NULL);
		free(ss.ss_sp);
	}
	return NULL;
}

static void *writer(void *arg)
{
	unsigned long seq = (unsigned long)(uintptr_t)arg * 1000000000UL;

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		write_once(++seq);
		__atomic_fetch_add(&grace_periods, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void *signaller(void *arg)
{
	(void)arg;
	for (unsigned i = 0; !__atomic_load_n(&stop, __ATOMIC_RELAXED); i++) {
		pthread_kill(readers[i % NREADERS], SIGUSR1);
		if (i % 4 == 0) /* a signal every ~10 us: readers must get on too */
			nanosleep(&(struct timespec){0, 20000}, NULL);
	}
	return NULL;
}

static void body(const char *mode)
{
	pthread_t w[NWRITERS], sig;
	struct sigaction sa;
	/* At least this long and this much done; at most a minute (a loaded machine). */
	long ms = scale(500);
	unsigned long min_gp = (unsigned long)scale(10), min_handler = (unsigned long)scale(200);
	struct timespec ts = {0, 10000000L};
	int before = marker__rcu_nreaders();

	plan(5);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_ONSTACK | SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	rcu_cur = obj_new(0);
	for (int i = 0; i < 3; i++) {
		struct timespec t0, t1;
		unsigned long ns;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		write_once(0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ns = (unsigned long)((t1.tv_sec - t0.tv_sec) * 1000000000L + t1.tv_nsec - t0.tv_nsec);
		if (!gp0_ns || ns < gp0_ns)
			gp0_ns = ns;
	}
	diag("%s: a grace period with no reader: %lu us", mode, gp0_ns / 1000);
	for (long i = 0; i < NREADERS; i++)
		pthread_create(&readers[i], NULL, reader, (void *)i);
	for (long i = 0; i < NWRITERS; i++)
		pthread_create(&w[i], NULL, writer, (void *)(i + 1));
	pthread_create(&sig, NULL, signaller, NULL);
	for (long waited = 0; waited < 60000; waited += 10) {
		if (waited >= ms && __atomic_load_n(&grace_periods, __ATOMIC_RELAXED) >= min_gp &&
		    __atomic_load_n(&handler_reads, __ATOMIC_RELAXED) >= min_handler)
			break;
		nanosleep(&ts, NULL);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	pthread_join(sig, NULL);
	for (int i = 0; i < NREADERS; i++)
		pthread_join(readers[i], NULL);
	for (int i = 0; i < NWRITERS; i++)
		pthread_join(w[i], NULL);

	is_int(rcu_bad, 0, "%s: no reader found a retired object (%lu reads, %lu in handlers)",
	       mode, reads, handler_reads);
	ok(grace_periods >= min_gp, "%s: the writers made progress (%lu grace periods)",
	   mode, grace_periods);
	ok(reads > 1000 && handler_reads >= min_handler,
	   "%s: readers ran in threads and in handlers", mode);
	ok(!(marker__rcu_gp & MARKER__RCU_FENCE) == !!strcmp(mode, "fences"),
	   "%s: readers fence in the fences mode only", mode);
	/* The readers' slots are freed by their exit destructor; the writers' too. */
	is_int(marker__rcu_nreaders(), before, "%s: every exited thread's slot is free again", mode);
}

int main(int argc, char **argv)
{
	return rcu_test_main(argc, argv, body);
}
