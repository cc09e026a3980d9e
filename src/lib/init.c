/*
 * init.c - library start-up: environment, fork handling, warnings.
 *
 * Start-up happens on the first call into the library, which is usually the
 * constructor that registers the program's own markers, before main() and
 * before the program's constructors: MARKERS_PRINT therefore catches
 * markers from the first instruction of the program's code.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hooks.h"
#include "patch.h"
#include "print_probe.h"
#include "rcu.h"
#include "registry.h"
#include "thread.h"
#include "warn.h"

int marker__verbose;

void marker__warn(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	if (!marker__verbose)
		return;
	n = snprintf(line, sizeof(line), "markers: ");
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(2, line, n) < 0) {
		/* Nothing better to do with a warning that cannot be written. */
	}
}

/*
 * fork: the one path.  The child must not inherit a lock held by another
 * thread of the parent: every lock of the library is taken around fork(),
 * in the lock order (registry.h), and let go in the reverse order, each
 * subsystem through its hooks (hooks.h); the RCU's grace-period lock is the
 * exception, re-initialized in the child (rcu.c says why).  Markers that are on stay on in
 * the child with the same probes; the child starts its own control
 * listener, and its own recording when the environment records a process
 * tree.
 */
static void before_fork(void)
{
	marker__control_before_fork();
	marker__tracer_before_fork();
	marker__lock_acquire();
}

static void after_fork_parent(void)
{
	marker__lock_release();
	marker__tracer_after_fork_parent();
	marker__control_after_fork_parent();
}

static void after_fork_child(void)
{
	marker__thread_after_fork_child();
	marker__patch_after_fork_child();
	marker__rcu_after_fork_child();
	marker__lock_release();
	marker__tracer_after_fork_child();
	marker__control_after_fork_child();
}

static pthread_once_t core_once = PTHREAD_ONCE_INIT;

static void core_init(void)
{
	const char *v = getenv("MARKERS_VERBOSE");

	marker__verbose = v && *v && strcmp(v, "0");
	marker__patch_init(); /* before any thread of ours */
	if (pthread_atfork(before_fork, after_fork_parent, after_fork_child))
		marker__warn("pthread_atfork failed: fork() while markers change may deadlock");
}

void marker__init(void)
{
	static int env_done;
	const char *print;

	pthread_once(&core_once, core_init);
	/*
	 * The environment's probes register through the public API, which
	 * calls marker__init() again: the flag, not pthread_once, lets that
	 * recursion through.  The first caller does it, once.
	 */
	if (__atomic_exchange_n(&env_done, 1, __ATOMIC_ACQ_REL))
		return;
	print = getenv("MARKERS_PRINT");
	if (print && *print)
		marker__print_probe_setup(print, getenv("MARKERS_PRINT_FILE"));
	marker__tracer_init_from_env();
	marker__control_init();
}

__attribute__((constructor)) static void library_init(void)
{
	marker__init();
}
