/* thread.c - starting the library's own threads. */
#include <signal.h>

#include "thread.h"

int marker__thread_start(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *),
			 void *arg)
{
	sigset_t all, old;
	int err;

	/* The new thread inherits the mask in force at pthread_create(). */
	sigfillset(&all);
	sigdelset(&all, SIGTRAP);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGFPE);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(th, attr, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -err;
}
