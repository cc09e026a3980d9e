/*
 * patch_rawfork.c - a child made without fork()'s atfork handlers
 * (_Fork(), or a raw clone) switches a marker: the patcher must write the
 * child's own text, not the parent's through the parent's /proc/self/mem,
 * which the child inherits.  The parent's site keeps its form.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tap.h"
#include "unit/patch_util.h"

static long hits; /* pu_count_probe() counts here */

__attribute__((noinline)) static void fire(int x)
{
	trace_mark_immediate(rf_imm, "x %d", x);
	trace_mark_jump(rf_jmp, "x %d", x);
}

/* A child without atfork handlers. */
static pid_t raw_fork(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	return _Fork();
#else
	return (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
#endif
}

static int sites(int on)
{
	return pu_check_sites("rf_imm", on) == 0 && pu_check_sites("rf_jmp", on) == 0;
}

int main(int argc, char **argv)
{
	int patched = pu_sites("rf_imm").kind != MARKER_KIND_GENERIC, status = -1;
	pid_t child;

	(void)argc;
	/*
	 * No thread of the library may hold its lock at the fork, which no
	 * handler takes here: no control listener.
	 */
	if (!getenv("MARKERS_CONTROL")) {
		setenv("MARKERS_CONTROL", "0", 1);
		execv("/proc/self/exe", argv);
	}
	plan(4);
	/* A switch in the parent first: its /proc/self/mem is open. */
	ok(marker_probe_register("rf_imm", NULL, pu_count_probe, &hits) == 0 &&
		   marker_probe_unregister("rf_imm", pu_count_probe, &hits) == 0 &&
		   (!patched || sites(0)),
	   "the parent switched once; its sites are off");
	child = raw_fork();
	if (child == 0) {
		int good = marker_probe_register("rf_imm", NULL, pu_count_probe, &hits) == 0 &&
			   marker_probe_register("rf_jmp", NULL, pu_count_probe, &hits) == 0 &&
			   (!patched || sites(1));

		fire(1);
		_exit(good && hits == 2 ? 0 : 1);
	}
	ok(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) &&
		   WEXITSTATUS(status) == 0,
	   "the child switched its markers on; both probes ran there");
	ok(!patched || sites(0), "the parent's sites kept their off form");
	fire(1);
	ok(hits == 0 && marker_probe_register("rf_imm", NULL, pu_count_probe, &hits) == 0 &&
		   (fire(1), hits == 1),
	   "the parent's probes did not run, and its own switch works");
	return done();
}
