/* thread.h - the library's own threads (private). */
#ifndef MARKERS_THREAD_H
#define MARKERS_THREAD_H

#include <pthread.h>

/*
 * marker__thread_start - pthread_create() for a thread of the library (the
 * control listener, the tracer's consumer).  It starts with every signal of
 * the program blocked, since their handlers are not ours to run, except the
 * synchronous ones (a fault must stay a fault) and SIGTRAP: the patcher
 * refuses to write int3 while any thread blocks it.  The caller's mask is
 * unchanged.  Before @fn, the new thread adopts the sites whose adoption
 * waited for it (marker__patch_adopt_deferred).  Returns 0 or a negative
 * errno.
 */
int marker__thread_start(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *),
			 void *arg);

/*
 * The same for a thread that calls marker__patch_adopt_deferred() itself,
 * when it sees fit (the control listener: a little after start-up).
 */
int marker__thread_start_lazy(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *),
			      void *arg);

/* How many threads marker__thread_start() created do not run their function yet. */
unsigned marker__thread_starting(void);

/*
 * Wait until every thread started by marker__thread_start() runs with its
 * own mask (at most ~100 ms).  Any thread, any lock held.
 */
void marker__thread_wait_started(void);

/* In the child of fork(), before the library starts threads there. */
void marker__thread_after_fork_child(void);

#endif /* MARKERS_THREAD_H */
