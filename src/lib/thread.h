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
 * unchanged.  Returns 0 or a negative errno.
 */
int marker__thread_start(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *),
			 void *arg);

#endif /* MARKERS_THREAD_H */
