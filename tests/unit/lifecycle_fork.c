/*
 * fork(): markers on in the parent stay on in the child and its probes run;
 * no deadlock when another thread holds the library's lock (or is inside
 * a grace period) at the moment of fork.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <markers.h>
#include "tap.h"

static int hits;
static int stop;

static void probe(const struct marker *m, void *p, const char *fmt, va_list *args)
{
	(void)m, (void)p, (void)fmt, (void)args;
	__atomic_fetch_add(&hits, 1, __ATOMIC_RELAXED);
}

static void fire(void)
{
	trace_mark(fork_marker, "pid %d", (int)getpid());
}

static void churn_probe(const struct marker *m, void *p, const char *fmt, va_list *args)
{
	(void)m, (void)p, (void)fmt, (void)args;
}

/* Keeps the library's lock and grace periods busy while main forks. */
static void *churn(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		marker_probe_register("churn_marker", "x %d", churn_probe, NULL);
		trace_mark(churn_marker, "x %d", 1);
		marker_probe_unregister("churn_marker", churn_probe, NULL);
		marker_synchronize_unregister();
	}
	return NULL;
}

/* In the child: the marker still on, its probe runs; the API still works. */
static int child(void)
{
	int before = hits;

	fire();
	if (hits != before + 1)
		return 10;
	if (marker_probe_register("churn_marker", "x %d", probe, NULL) ||
	    marker_probe_unregister("churn_marker", probe, NULL))
		return 11;
	marker_synchronize_unregister();
	return 0;
}

static int wait_child(pid_t pid)
{
	int status;

	/* A deadlocked child is killed by its alarm; we see the signal. */
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(void)
{
	long forks = scale(200);
	int failed = 0, first = 0;
	pthread_t th;

	plan(4);
	is_int(marker_probe_register("fork_marker", NULL, probe, NULL), 0, "probe connected");
	fire();
	is_int(hits, 1, "fires in the parent");

	pid_t pid = fork();
	if (pid == 0)
		_exit(child());
	is_int(wait_child(pid), 0, "in a child the marker is still on and its probe runs");

	pthread_create(&th, NULL, churn, NULL);
	for (long i = 0; i < forks; i++) {
		pid = fork();
		if (pid == 0) {
			alarm(5);
			_exit(child());
		}
		int st = wait_child(pid);
		if (st) {
			failed++;
			if (!first)
				first = st;
		}
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	ok(failed == 0, "%ld forks while another thread registers probes: no deadlock, probes run "
	   "(%d failed, first status %d)", forks, failed, first);
	return done();
}
