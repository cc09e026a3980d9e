/*
 * The patcher and the rest of the process: SIGTRAP that is not ours reaches
 * the program's handler (or its default action), a thread that blocks
 * SIGTRAP makes the patcher fall back instead of crashing, and a child of
 * fork() patches its own code, not its parent's.  Each case in a child.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "patch_child.h"
#include "patch_util.h"
#include "tap.h"

#if defined(__x86_64__) || defined(__i386__)

static __attribute__((noinline)) void fire_j(int i)
{
	trace_mark_jump(trap_j, "i %d", i);
}

static __attribute__((noinline)) void fire_i(int i)
{
	trace_mark_immediate(trap_i, "i %d", i);
}

static __attribute__((noinline)) void fire_k(int i)
{
	trace_mark_jump(trap_k, "i %d", i);
}

static volatile sig_atomic_t user_traps, user_kernel_traps;

static void user_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	user_traps++;
	if (si->si_code == SI_KERNEL)
		user_kernel_traps++;
}

static void install_user_handler(void)
{
	struct sigaction sa = {0};

	sa.sa_sigaction = user_handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGTRAP, &sa, NULL);
}

/* The program installs its handler after the library: raise() and int3 still reach it. */
static void case_chain(void)
{
	long hits = 0;

	install_user_handler();
	raise(SIGTRAP);
	CHECK(user_traps == 1, "raise before any switch: %d", (int)user_traps);
	/* A switch puts the library's handler back in front of the program's. */
	CHECK(marker_probe_register("trap_j", "i %d", pu_count_probe, &hits) == 0, "register");
	CHECK(pu_check_sites("trap_j", 1) == 0, "trap_j on");
	fire_j(1);
	CHECK(hits == 1, "hits %ld", hits);
	raise(SIGTRAP);
	CHECK(user_traps == 2, "raise after a switch: %d calls of the program's handler",
	      (int)user_traps);
	__asm__ volatile("int3");
	CHECK(user_traps == 3 && user_kernel_traps == 1, "a foreign int3: %d/%d",
	      (int)user_traps, (int)user_kernel_traps);
	marker_probe_unregister("trap_j", pu_count_probe, &hits);
	CHECK(pu_check_sites("trap_j", 0) == 0, "trap_j off");
	_exit(0);
}

/*
 * A crash reporter's handler, installed after the library's: it records the
 * trap (a byte into a pipe the parent counts), then chains to the handler it
 * replaced, as crash reporters do.
 */
static int reporter_pipe[2] = {-1, -1};
static struct sigaction reporter_old;

static void reporter(int sig, siginfo_t *si, void *uc)
{
	if (write(reporter_pipe[1], "t", 1) < 0)
		_exit(3);
	if (reporter_old.sa_flags & SA_SIGINFO) {
		reporter_old.sa_sigaction(sig, si, uc);
	} else if (reporter_old.sa_handler == SIG_DFL) {
		signal(sig, SIG_DFL);
		raise(sig);
	} else if (reporter_old.sa_handler != SIG_IGN) {
		reporter_old.sa_handler(sig);
	}
}

static void install_reporter(void)
{
	struct sigaction sa = {0};

	sa.sa_sigaction = reporter;
	sa.sa_flags = SA_SIGINFO;
	sigfillset(&sa.sa_mask);
	sigaction(SIGTRAP, &sa, &reporter_old);
}

/*
 * The library's handler is installed, the reporter chains to it, a switch
 * puts the library's back in front (chaining to the reporter): a trap must
 * run the reporter once, then the default action, never loop between the two.
 * @how: 0 raise(), 1 a foreign int3, 2 raise() with no switch after the
 * reporter came.
 */
static void chain_loop(int how)
{
	long hits = 0;

	CHECK(marker_probe_register("trap_j", "i %d", pu_count_probe, &hits) == 0, "register");
	install_reporter();
	CHECK(reporter_old.sa_flags & SA_SIGINFO, "the library's handler was installed");
	if (how != 2) {
		CHECK(marker_probe_unregister("trap_j", pu_count_probe, &hits) == 0, "switch");
		fire_j(1);
		CHECK(hits == 0, "hits %ld", hits);
	}
	if (how == 1)
		__asm__ volatile("int3");
	else
		raise(SIGTRAP);
	_exit(0); /* not reached: the default action ends the process */
}

static void case_chain_loop_raise(void)
{
	chain_loop(0);
}

static void case_chain_loop_int3(void)
{
	chain_loop(1);
}

static void case_chain_loop_noswitch(void)
{
	chain_loop(2);
}

/* No handler of the program: raise(SIGTRAP) ends the process as it would without us. */
static void case_default(void)
{
	long hits = 0;

	marker_probe_register("trap_j", "i %d", pu_count_probe, &hits);
	marker_probe_unregister("trap_j", pu_count_probe, &hits);
	raise(SIGTRAP);
	_exit(0); /* not reached */
}

static void *open_dl(void)
{
	return dlopen(test_lib("patch_dl"), RTLD_NOW);
}

/*
 * A thread blocks SIGTRAP: no int3 is written.  Sites loaded meanwhile stay
 * taken and work from the flag; a switch on of adopted sites is put off,
 * the caller gets -EAGAIN and the site says why; once the thread is gone,
 * the library switches it by itself, and it fires every time.
 */
static void case_blocked(void)
{
	long hits = 0, dl_hits = 0;
	struct pc_blocker blocker;
	struct pu_sites s;
	void (*dl_fire)(int, int);
	void *dl;
	int err;

	/*
	 * SIGTRAP blocked where the library cannot see it coming: by the
	 * system call itself (pthread_sigmask and sigprocmask keep SIGTRAP
	 * out, see patch_sigmask.c).
	 */
	pc_blocker_start(&blocker, 1);
	CHECK(blocker.ready == 2, "the signal thread blocks SIGTRAP");
	/* Loaded now: never adopted, taken, works from the flag. */
	dl = open_dl();
	CHECK(dl, "dlopen: %s", dlerror());
	dl_fire = (void (*)(int, int))dlsym(dl, "patch_dl_fire");
	s = pu_sites("dl_jmp");
	CHECK(s.n == 1 && s.mode[0] == MARKER_MODE_FALLBACK && s.reason[0] &&
		      strstr(s.reason[0], "SIGTRAP") && pu_form(s.kind, s.addr[0]) == 1,
	      "dl_jmp loaded while SIGTRAP is blocked: mode %s, reason %s",
	      marker_mode_name(s.mode[0]), s.reason[0] ? s.reason[0] : "none");
	dl_fire(MARKER_KIND_JUMP, 0);
	CHECK(marker_probe_register("dl_jmp", "i %d", pu_count_probe, &dl_hits) == 0, "register");
	for (int i = 0; i < 1000; i++)
		dl_fire(MARKER_KIND_JUMP, 0);
	CHECK(dl_hits == 1000, "dl_jmp from the flag: %ld of 1000 hits", dl_hits);
	marker_probe_unregister("dl_jmp", pu_count_probe, &dl_hits);
	dl_fire(MARKER_KIND_JUMP, 0);
	CHECK(dl_hits == 1000, "dl_jmp off: %ld hits", dl_hits);

	/* Adopted before: the switch is put off, the caller and the site say so. */
	err = marker_probe_register("trap_i", "i %d", pu_count_probe, &hits);
	CHECK(err == -EAGAIN, "register while SIGTRAP is blocked: %d, want -EAGAIN", err);
	s = pu_sites("trap_i");
	CHECK(s.n == 1 && s.reason[0] && strstr(s.reason[0], "SIGTRAP") &&
		      pu_form(s.kind, s.addr[0]) == 0,
	      "trap_i switched while SIGTRAP is blocked: mode %s, reason %s",
	      marker_mode_name(s.mode[0]), s.reason[0] ? s.reason[0] : "none");
	/* The thread goes: no call of ours, yet the site switches. */
	pc_blocker_stop(&blocker);
	for (int ms = 0; pu_form(s.kind, s.addr[0]) != 1; ms += 10) {
		CHECK(ms < 10000, "trap_i still not switched 10 s after the thread left");
		usleep(10000);
	}
	CHECK(pu_check_sites("trap_i", 1) == 0, "patched once no thread blocks SIGTRAP");
	hits = 0;
	for (int i = 0; i < 1000; i++)
		fire_i(1);
	CHECK(hits == 1000, "%ld of 1000 hits", hits);
	CHECK(marker_probe_register("trap_k", "i %d", pu_count_probe, &hits) == 0, "register");
	fire_k(1);
	CHECK(hits == 1001, "hits %ld", hits);
	dlclose(dl);
	_exit(0);
}

/*
 * The patcher remembers the threads it looked at: a thread that came after
 * the last switch is looked at all the same, even when another one left
 * meanwhile (the same number of threads).
 */
static int plain_go;

static void *plain_thread(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&plain_go, __ATOMIC_ACQUIRE))
		usleep(1000);
	return NULL;
}

static void case_blocked_later(void)
{
	struct pc_blocker blocking;
	pthread_t plain;
	long hits = 0;
	int err;

	pthread_create(&plain, NULL, plain_thread, NULL);
	CHECK(marker_probe_register("trap_i", "i %d", pu_count_probe, &hits) == 0, "register");
	CHECK(marker_probe_unregister("trap_i", pu_count_probe, &hits) == 0, "unregister");
	__atomic_store_n(&plain_go, 1, __ATOMIC_RELEASE);
	pthread_join(plain, NULL);
	pc_blocker_start(&blocking, 1);
	err = marker_probe_register("trap_i", "i %d", pu_count_probe, &hits);
	CHECK(err == -EAGAIN, "a new thread blocks SIGTRAP, one left: register %d, want -EAGAIN",
	      err);
	pc_blocker_stop(&blocking);
	CHECK(marker_probe_unregister("trap_i", pu_count_probe, &hits) == 0, "unregister");
	CHECK(pu_check_sites("trap_i", 0) == 0, "trap_i off");
	_exit(0);
}

/* A child of fork() writes its own text, never its parent's. */
static void case_fork(void)
{
	long hits = 0;
	int status;
	pid_t pid;

	/* The parent patched before: its /proc/self/mem is open. */
	marker_probe_register("trap_j", "i %d", pu_count_probe, &hits);
	marker_probe_unregister("trap_j", pu_count_probe, &hits);
	pid = fork();
	if (pid == 0) {
		CHECK(marker_probe_register("trap_j", "i %d", pu_count_probe, &hits) == 0,
		      "register in the child");
		CHECK(pu_check_sites("trap_j", 1) == 0, "child: trap_j on");
		fire_j(1);
		CHECK(hits == 1, "child hits %ld", hits);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child failed");
	CHECK(pu_check_sites("trap_j", 0) == 0, "the parent's site was written by the child");
	fire_j(1);
	CHECK(hits == 0, "parent hits %ld", hits);
	_exit(0);
}

/* Run a chain_loop case: it must die of SIGTRAP after one call of the reporter. */
static void check_chain_loop(void (*fn)(void), const char *what)
{
	char buf[64];
	ssize_t n;
	int st;

	if (pipe(reporter_pipe) < 0)
		abort();
	st = pc_run(fn, 10000);
	close(reporter_pipe[1]);
	n = read(reporter_pipe[0], buf, sizeof(buf));
	close(reporter_pipe[0]);
	ok(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGTRAP && n == 1,
	   "a chaining handler installed after ours, %s: it ran %zd time(s), then the "
	   "default action (status %#x)",
	   what, n, st);
}

int main(void)
{
	int st;

	plan(8);
	PC_RUN_OK(case_chain, 10000, "raise(SIGTRAP) and a foreign int3 reach the program's handler");
	check_chain_loop(case_chain_loop_raise, "raise()");
	check_chain_loop(case_chain_loop_int3, "a foreign int3");
	check_chain_loop(case_chain_loop_noswitch, "raise() before the next switch");
	st = pc_run(case_default, 10000);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGTRAP,
	   "without a handler of the program, raise(SIGTRAP) still ends it");
	PC_RUN_OK(case_blocked, 10000,
		  "a thread blocking SIGTRAP (system call): -EAGAIN with a reason, switched once "
		  "it is gone");
	PC_RUN_OK(case_blocked_later, 10000,
		  "a thread that blocks SIGTRAP, created after the last switch as another left");
	PC_RUN_OK(case_fork, 10000, "fork: the child patches only its own code");
	return done();
}
#else
/* Code patching, and so the library's SIGTRAP handler, exist on x86 only. */
int main(void)
{
	printf("1..0 # SKIP no code patching on this architecture\n");
	return 0;
}
#endif
