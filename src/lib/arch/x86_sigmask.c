/*
 * arch/x86_sigmask.c - SIGTRAP stays deliverable in every thread.
 *
 * An int3 in a thread that blocks SIGTRAP kills the process (the kernel
 * forces a synchronous trap through, with the default action), so the
 * patcher writes none while any thread blocks it; yet many programs block
 * every signal in some thread, the signal thread of sigwait() first of
 * all, and a marker switched on there would never fire.  SIGTRAP is a
 * synchronous trap signal, whose blocking POSIX leaves undefined for the
 * traps themselves: we keep it out of the masks the program sets.
 *
 * pthread_sigmask() and sigprocmask() never block SIGTRAP (a SIG_BLOCK or
 * SIG_SETMASK set loses it; the rest of the call is what glibc does, which
 * also never blocks its two internal signals); sigaction() never puts it in
 * a handler's sa_mask, except SIGTRAP's own handler (the kernel blocks a
 * signal during its own handler anyway).  The old masks reported are the
 * kernel's.  What changes for the program: a SIGTRAP sent by kill() arrives
 * at once instead of waiting, and sigwait() cannot wait for SIGTRAP.
 *
 * How they take the program's calls: in libmarkers.so each is defined with
 * the symbol version glibc gives it, as a non-default version (one "@").
 * The static linker never binds a program to a non-default version, so
 * programs keep depending on glibc; the dynamic linker, looking up
 * "pthread_sigmask@GLIBC_2.32" in load order, finds ours first (libmarkers
 * comes before libc.so.6).  In libmarkers.a the plain names are strong
 * definitions, which win over libc.a's weak ones.  Threads that block
 * SIGTRAP some other way (a raw system call, a mask set before libmarkers
 * was loaded) are still seen by the patcher, which then puts the switch
 * off and says why (x86_patch.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "x86.h"

/* The kernel's sigset: the first 64 bits of glibc's. */
#define KSET_SIZE 8
#define BIT(sig) ((uint64_t)1 << ((sig)-1))
#define GLIBC_INTERNAL (BIT(32) | BIT(33)) /* SIGCANCEL, SIGSETXID */

/* glibc's sigaction under its other exported name (what ours calls). */
extern int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);

/* rt_sigprocmask with SIGTRAP kept deliverable.  Returns 0 or an errno. */
static int set_mask(int how, const sigset_t *set, sigset_t *old)
{
	uint64_t k = 0;

	if (set) {
		memcpy(&k, set, KSET_SIZE);
		k &= ~GLIBC_INTERNAL;
		if (how == SIG_BLOCK || how == SIG_SETMASK)
			k &= ~BIT(SIGTRAP);
	}
	if (syscall(SYS_rt_sigprocmask, how, set ? &k : NULL, old, KSET_SIZE) < 0)
		return errno;
	return 0;
}

static int mk_pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	return set_mask(how, set, old);
}

static int mk_sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	int err = set_mask(how, set, old);

	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

static int mk_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	struct sigaction a;

	if (!act || sig == SIGTRAP || !sigismember(&act->sa_mask, SIGTRAP))
		return __sigaction(sig, act, old);
	a = *act;
	sigdelset(&a.sa_mask, SIGTRAP);
	return __sigaction(sig, &a, old);
}

#define EXPORT __attribute__((visibility("default"), used))

/*
 * libmarkers.a: the plain names, strong definitions that win over libc.a's
 * weak ones.  In libmarkers.so the version script keeps them local (only
 * the library's own calls reach them there).
 */
EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	return mk_pthread_sigmask(how, set, old);
}
EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	return mk_sigprocmask(how, set, old);
}
EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	return mk_sigaction(sig, act, old);
}

/* libmarkers.so: glibc's names and versions, as non-default versions. */
#ifdef __x86_64__
#define GLIBC_OLD "GLIBC_2.2.5"
#else
#define GLIBC_OLD "GLIBC_2.0"
#endif
EXPORT int x86sig_pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	return mk_pthread_sigmask(how, set, old);
}
EXPORT int x86sig_pthread_sigmask_old(int how, const sigset_t *set, sigset_t *old)
{
	return mk_pthread_sigmask(how, set, old);
}
EXPORT int x86sig_sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	return mk_sigprocmask(how, set, old);
}
EXPORT int x86sig_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	return mk_sigaction(sig, act, old);
}
__asm__(".symver x86sig_pthread_sigmask, pthread_sigmask@GLIBC_2.32");
__asm__(".symver x86sig_pthread_sigmask_old, pthread_sigmask@" GLIBC_OLD);
__asm__(".symver x86sig_sigprocmask, sigprocmask@" GLIBC_OLD);
__asm__(".symver x86sig_sigaction, sigaction@" GLIBC_OLD);
