/* thread.c - starting the library's own threads. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "patch.h"
#include "thread.h"

/*
 * Threads of ours created but not yet running their function: glibc starts
 * a thread with every signal blocked and sets its mask just before calling
 * the function, so until then the patcher would see a thread that blocks
 * SIGTRAP.  A futex word: the patcher sleeps on it instead of polling.
 */
static unsigned starting;

struct start {
	void *(*fn)(void *);
	void *arg;
	int adopt; /* adopt the deferred sites before fn */
	int used;  /* a slot of slots[] in use */
};

/*
 * The new thread's arguments, in a static slot rather than malloc'd: a
 * thread's first malloc() or free() makes glibc create its arena (four
 * system calls and a 64 MiB reservation), which a listener that sleeps
 * until the program exits never needs.  malloc() when every slot is taken.
 */
static struct start slots[4];

static struct start *start_alloc(void)
{
	for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++)
		if (!__atomic_exchange_n(&slots[i].used, 1, __ATOMIC_ACQUIRE))
			return &slots[i];
	return malloc(sizeof(struct start));
}

static void start_free(struct start *st)
{
	if (st >= slots && st < slots + sizeof(slots) / sizeof(slots[0]))
		__atomic_store_n(&st->used, 0, __ATOMIC_RELEASE);
	else
		free(st);
}

static void *trampoline(void *p)
{
	struct start st = *(struct start *)p;

	start_free(p);
	/* Our mask is in force now; pairs with the acquire load in the waiter. */
	__atomic_sub_fetch(&starting, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &starting, FUTEX_WAKE_PRIVATE, 0x7fffffff, NULL, NULL, 0);
	if (st.adopt)
		marker__patch_adopt_deferred();
	return st.fn(st.arg);
}

static int start(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg,
		 int adopt)
{
	struct start *st = start_alloc();
	sigset_t all, old;
	int err;

	if (!st)
		return -ENOMEM;
	*st = (struct start){fn, arg, adopt, 1};
	/* The new thread inherits the mask in force at pthread_create(). */
	sigfillset(&all);
	sigdelset(&all, SIGTRAP);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGFPE);
	__atomic_add_fetch(&starting, 1, __ATOMIC_RELAXED);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(th, attr, trampoline, st);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		start_free(st);
		__atomic_sub_fetch(&starting, 1, __ATOMIC_RELEASE);
		syscall(SYS_futex, &starting, FUTEX_WAKE_PRIVATE, 0x7fffffff, NULL, NULL, 0);
	}
	return -err;
}

int marker__thread_start(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *),
			 void *arg)
{
	return start(th, attr, fn, arg, 1);
}

int marker__thread_start_lazy(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *),
			      void *arg)
{
	return start(th, attr, fn, arg, 0);
}

unsigned marker__thread_starting(void)
{
	return __atomic_load_n(&starting, __ATOMIC_ACQUIRE);
}

void marker__thread_wait_started(void)
{
	struct timespec step = {0, 10 * 1000 * 1000};
	unsigned v;

	/* At most ~100 ms: a thread that does not run by then is the patcher's problem. */
	for (int i = 0; i < 10 && (v = __atomic_load_n(&starting, __ATOMIC_ACQUIRE)); i++)
		syscall(SYS_futex, &starting, FUTEX_WAIT_PRIVATE, v, &step, NULL, 0);
}

void marker__thread_after_fork_child(void)
{
	/* The threads the parent was starting are not ours to wait for. */
	__atomic_store_n(&starting, 0, __ATOMIC_RELAXED);
	for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++)
		slots[i].used = 0;
}
