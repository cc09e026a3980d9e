/*
 * threads.c - who fired an event: thread ids and thread names.
 *
 * Every event carries the id of the thread that recorded it (the stream's
 * event context, `vtid`).  The id is read once per thread with gettid() and
 * cached in a thread-local; the cache is tied to a session by its `gen`, so
 * the first event a thread records in a session takes the slow path once:
 * it reads its name (prctl(PR_GET_NAME): no allocation, async-signal-safe)
 * and appends (tid, name) to the session's thread table, which lives in the
 * shared session file and reaches the metadata's `env` block
 * (docs/trace-format.md).  Renames are seen by the consumer, which re-reads
 * /proc/self/task/TID/comm of the threads in the table a few at a time
 * (marker__tr_poll_names), and by stop, for the threads still alive.
 *
 * fork(): the child's only thread has a new tid; session.c's child handler
 * calls marker__tr_thread_forget().  A signal handler that records while its
 * thread announces itself finds `busy` set and records with the tid alone.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tracer_int.h"

__thread struct tr_self marker__tr_self __attribute__((tls_model("initial-exec")));

void marker__tr_thread_forget(void)
{
	marker__tr_self.tid = 0;
	marker__tr_self.session = 0;
	marker__tr_self.busy = 0;
}

int32_t marker__tr_announce(struct tr_session *s)
{
	struct tr_self *me = &marker__tr_self;
	struct tr_session_hdr *sh = s->sh;
	char name[TR_THREAD_NAME] = "";
	uint32_t i;

	if (!me->tid)
		me->tid = (int32_t)syscall(SYS_gettid);
	if (me->busy)
		return me->tid; /* a handler inside our own announcement */
	me->busy = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (prctl(PR_GET_NAME, name, 0, 0, 0))
		name[0] = 0;
	name[TR_THREAD_NAME - 1] = 0;
	i = __atomic_fetch_add(&sh->nthreads, 1, __ATOMIC_RELAXED);
	if (i < TR_MAX_THREADS) {
		struct tr_thread_ent *t = &sh->threads[i];

		memcpy(t->name, name, sizeof(name));
		/* Pairs with the acquire loads of the metadata writer and the poller. */
		__atomic_store_n(&t->tid, me->tid, __ATOMIC_RELEASE);
		__atomic_fetch_add(&sh->threads_gen, 1, __ATOMIC_RELEASE);
	}
	/* A full table: the events still carry the tid, the name is not known. */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	me->session = s->gen;
	me->busy = 0;
	return me->tid;
}

/* The name of thread @tid of this process from /proc, or -1 (exited). */
static int read_comm(int32_t tid, char name[TR_THREAD_NAME])
{
	char path[64], buf[TR_THREAD_NAME + 1];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	memset(name, 0, TR_THREAD_NAME);
	memcpy(name, buf, strnlen(buf, TR_THREAD_NAME - 1));
	return 0;
}

/*
 * Called by one thread at a time (the consumer, or stop with writers gone):
 * the only writer of existing entries' names.  Each call checks @budget
 * entries, round-robin, so that a process of thousands of threads pays a
 * bounded cost per period.
 */
int marker__tr_poll_names(struct tr_session *s, unsigned budget)
{
	struct tr_session_hdr *sh = s->sh;
	uint32_t n = __atomic_load_n(&sh->nthreads, __ATOMIC_ACQUIRE);
	int changed = 0;

	if (n > TR_MAX_THREADS)
		n = TR_MAX_THREADS;
	for (unsigned k = 0; k < budget && k < n; k++) {
		uint32_t i = s->name_poll++ % n;
		struct tr_thread_ent *t = &sh->threads[i];
		int32_t tid = __atomic_load_n(&t->tid, __ATOMIC_ACQUIRE);
		char name[TR_THREAD_NAME];

		if (!tid || t->gone)
			continue;
		if (read_comm(tid, name)) {
			t->gone = 1;
			continue;
		}
		if (memcmp(name, t->name, sizeof(name))) {
			memcpy(t->name, name, sizeof(name));
			changed = 1;
		}
	}
	if (changed)
		__atomic_fetch_add(&sh->threads_gen, 1, __ATOMIC_RELEASE);
	return changed;
}
