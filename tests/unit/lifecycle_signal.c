/*
 * Markers in signal handlers: a probe interrupted by a signal whose handler
 * fires the same marker (nesting), and a thread whose very first marker
 * fires inside a signal handler.
 */
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include <markers.h>
#include "tap.h"

static _Thread_local int depth, max_depth;
static int total;

static void fire(int from_handler)
{
	trace_mark(sig_marker, "from handler %d", from_handler);
}

static void on_signal(int sig)
{
	(void)sig;
	fire(1);
}

static void probe(const struct marker *m, void *p, const char *fmt, va_list *args)
{
	int from_handler = va_arg(*args, int);

	(void)m, (void)p, (void)fmt;
	depth++;
	if (depth > max_depth)
		max_depth = depth;
	__atomic_fetch_add(&total, 1, __ATOMIC_RELAXED);
	/* The outer call raises the signal: the handler fires again, nested. */
	if (!from_handler)
		raise(SIGUSR1);
	depth--;
}

static void *first_in_handler(void *arg)
{
	(void)arg;
	/* This thread's first fire happens in the handler. */
	raise(SIGUSR1);
	return (void *)(long)max_depth;
}

int main(void)
{
	struct sigaction sa = {.sa_handler = on_signal};
	pthread_t th;
	void *ret;
	long n = scale(1000);

	plan(4);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	marker_probe_register("sig_marker", NULL, probe, NULL);
	for (long i = 0; i < n; i++)
		fire(0);
	is_int(total, 2 * n, "each fire ran the probe, and the nested fire in its handler too");
	is_int(max_depth, 2, "the probe was re-entered from the handler");
	total = 0;
	pthread_create(&th, NULL, first_in_handler, NULL);
	pthread_join(th, &ret);
	is_int(total, 1, "a thread's first fire, in a signal handler, runs the probe");
	is_int(marker_probe_unregister("sig_marker", probe, NULL), 0, "unregister");
	marker_synchronize_unregister();
	return done();
}
