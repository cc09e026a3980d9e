/*
 * patch_child.h - what the signal tests of the patcher share (patch_trap.c,
 * patch_sigmask.c): each case in a child process with a time limit, and a
 * signal thread that blocks every signal until it is told to go.
 */
#ifndef MARKERS_TESTS_PATCH_CHILD_H
#define MARKERS_TESTS_PATCH_CHILD_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * The wait status of @fn run in a child (which must _exit()); -1 if it was
 * still running after @limit_ms (then it is killed).
 */
static inline int pc_run(void (*fn)(void), int limit_ms)
{
	int status = 0;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0)
		fn();
	for (int ms = 0; waitpid(pid, &status, WNOHANG) == 0; ms += 10) {
		if (ms >= limit_ms) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			printf("# the child hung: killed\n");
			return -1;
		}
		usleep(10000);
	}
	return status;
}

/* A TAP line: @fn, run in a child, exited with status 0 within @limit_ms. */
#define PC_RUN_OK(fn, limit_ms, what)                                                 \
	do {                                                                          \
		int st_ = pc_run(fn, limit_ms);                                       \
		ok(st_ != -1 && WIFEXITED(st_) && WEXITSTATUS(st_) == 0, "%s (status %#x)", \
		   what, st_);                                                        \
	} while (0)

/*
 * A program's signal thread: it blocks every signal and waits in sigwait()
 * for SIGUSR1.  @raw: it blocks them with the system call itself, where the
 * library cannot see it coming (so SIGTRAP is blocked too); otherwise with
 * pthread_sigmask(), which the library keeps from blocking SIGTRAP.
 */
struct pc_blocker {
	pthread_t th;
	int raw;
	int ready; /* 1 once its mask is set: 2 if SIGTRAP is in it */
};

static inline void *pc_blocker_main(void *arg)
{
	struct pc_blocker *b = (struct pc_blocker *)arg;
	sigset_t all, usr1, cur;
	int sig;

	sigfillset(&all);
	if (b->raw) {
		uint64_t k = ~(uint64_t)0;

		syscall(SYS_rt_sigprocmask, SIG_BLOCK, &k, NULL, sizeof(k));
	} else {
		pthread_sigmask(SIG_BLOCK, &all, NULL);
	}
	sigemptyset(&cur);
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &cur, sizeof(uint64_t));
	__atomic_store_n(&b->ready, sigismember(&cur, SIGTRAP) ? 2 : 1, __ATOMIC_RELEASE);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigwait(&usr1, &sig);
	return NULL;
}

/* Start it; returns once its mask is set. */
static inline void pc_blocker_start(struct pc_blocker *b, int raw)
{
	b->raw = raw;
	b->ready = 0;
	pthread_create(&b->th, NULL, pc_blocker_main, b);
	while (!__atomic_load_n(&b->ready, __ATOMIC_ACQUIRE))
		usleep(1000);
}

/* SIGUSR1 to it: it leaves sigwait() and exits; returns once it is gone. */
static inline void pc_blocker_stop(struct pc_blocker *b)
{
	pthread_kill(b->th, SIGUSR1);
	pthread_join(b->th, NULL);
}

#endif
