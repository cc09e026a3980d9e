/*
 * rcu_fork - fork() while readers read and writers run grace periods, in
 * each RCU mode.  The child has one thread: the readers' slots it inherits
 * (some inside sections, their counts frozen) belong to threads it does not
 * have, and a grace period in the child must not wait for them.  Some forks
 * happen inside the forking thread's own section.  In each child: a grace
 * period ends, the registry holds only the child's thread, a new thread
 * reads and synchronizes, and a retired object is never seen.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include "rcu_util.h"

#define NREADERS 3

static int stop;
static unsigned long grace_periods;

static void *reader(void *arg)
{
	long id = (long)arg;

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		struct marker__rcu_reader *r = marker__rcu_reader();

		/* Long sections: a fork is likely to find some reader inside one. */
		marker__rcu_read_lock_r(r);
		obj_check(marker__rcu_load(rcu_cur), 2000 * (int)(id + 1));
		marker__rcu_read_unlock_r(r);
	}
	return NULL;
}

static void *writer(void *arg)
{
	(void)arg;
	write_until(&stop, &grace_periods);
	return NULL;
}

static void *child_thread(void *arg)
{
	(void)arg;
	for (int i = 0; i < 100; i++)
		read_once(10);
	write_once(2);
	return NULL;
}

/* The child's checks; its exit status says which failed (0: none). */
static int child(int inside)
{
	struct marker__rcu_reader *r = marker__rcu_self;
	pthread_t th;

	alarm(20); /* a grace period waiting for the parent's threads: killed, a failure */
	if (inside) {
		if (!r || (r->ctr & MARKER__RCU_NEST_MASK) != 1)
			return 10; /* our own section came along */
		marker__rcu_read_unlock_r(r);
	}
	if (marker__rcu_nreaders() != 1)
		return 11; /* only this thread's slot remains */
	write_once(1);
	read_once(10);
	if (pthread_create(&th, NULL, child_thread, NULL))
		return 12;
	pthread_join(th, NULL);
	write_once(3);
	if (marker__rcu_nreaders() != 1)
		return 13;
	return rcu_bad ? 14 : 0;
}

static void body(const char *mode)
{
	pthread_t rd[NREADERS], w;
	long forks = scale(strcmp(mode, "global") ? 20 : 6); /* global: ~100 ms per child */
	int bad = 0, inside_forks = 0;

	plan(3);
	rcu_cur = obj_new(0);
	read_once(0); /* this thread has a slot too */
	for (long i = 0; i < NREADERS; i++)
		pthread_create(&rd[i], NULL, reader, (void *)i);
	pthread_create(&w, NULL, writer, NULL);
	for (long i = 0; i < forks; i++) {
		struct marker__rcu_reader *r = marker__rcu_reader();
		int inside = i % 2, status;
		pid_t pid;

		if (inside) {
			marker__rcu_read_lock_r(r);
			inside_forks++;
		}
		pid = fork();
		if (pid == 0)
			_exit(child(inside));
		if (inside)
			marker__rcu_read_unlock_r(r);
		if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status)) {
			if (pid > 0 && WIFEXITED(status))
				diag("%s: child %ld failed check %d", mode, i, WEXITSTATUS(status));
			else if (pid > 0)
				diag("%s: child %ld killed by signal %d", mode, i,
				     WIFSIGNALED(status) ? WTERMSIG(status) : 0);
			bad++;
		}
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < NREADERS; i++)
		pthread_join(rd[i], NULL);
	pthread_join(w, NULL);
	is_int(bad, 0, "%s: %ld children (%d forked inside a section) ended their grace periods",
	       mode, forks, inside_forks);
	is_int(rcu_bad, 0, "%s: no reader of the parent found a retired object", mode);
	ok(grace_periods > 0, "%s: the parent's writer ran through the forks (%lu grace periods)",
	   mode, grace_periods);
}

int main(int argc, char **argv)
{
#ifdef MARKERS_TSAN
	/*
	 * ThreadSanitizer's thread registry breaks in a child forked from a
	 * threaded process: the child's pthread_create() stops at "dup thread
	 * with used id", before any check of ours (rcu_stress and rcu_churn
	 * run the RCU under TSan).
	 */
	(void)argc, (void)argv, (void)body;
	printf("1..0 # SKIP TSan: a fork child of a threaded process cannot start threads (dup thread with used id)\n");
	return 0;
#endif
	return rcu_test_main(argc, argv, body);
}
