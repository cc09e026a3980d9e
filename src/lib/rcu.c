/*
 * rcu.c - the library's RCU: readers that only count, a writer that waits.
 *
 * What it is for.  marker_fire() reads a site's probe array with no lock; a
 * change publishes a new array and may free the old one only when no thread
 * can still be reading it: after a grace period, marker__rcu_synchronize().
 *
 * The algorithm is the classic user-space RCU with two grace-period phases
 * (the "memb" flavour of liburcu, after Desnoyers, McKenney et al., "User-
 * Level Implementations of Read-Copy Update", IEEE TPDS 2012), with the
 * registration of liburcu's "bulletproof" flavour (a thread registers on its
 * first section, the program calls nothing), written here from the paper:
 *
 *  - Each thread that reads has a reader slot: ctr counts its nested
 *    sections and holds the grace-period phase its outermost section began
 *    in.  The outermost lock copies the global word marker__rcu_gp (phase,
 *    count 1) into ctr; a nested lock or an unlock adds or subtracts 1.
 *    Only the thread writes its ctr (plus, in a child of fork and for a dead
 *    thread, code that knows the thread cannot run).  A signal handler that
 *    runs a section between the thread's load and store of ctr leaves ctr
 *    as it found it, so the interrupted store is still right.
 *  - A reader is "old" if it is inside a section (count > 0) that began in
 *    the other phase than the current one.
 *  - synchronize: a barrier in every thread; flip the phase; wait until no
 *    reader is old; flip again; wait again; a barrier in every thread.
 *
 * Memory ordering.  Readers use compiler barriers only.  The writer's
 * "barrier in every thread" is membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED):
 * when it returns, every other running thread of the process has executed a
 * full memory barrier at some point of its instruction stream (a sleeping
 * one crosses one when it is switched out and in).  So, for any reader and
 * each such call, every access the reader made before that point is
 * visible to the writer after the call, and every access the reader makes
 * after it sees what the writer stored before the call.  This makes the
 * compiler's ordering of the reader's own accesses enough:
 *
 *  1. The first barrier.  The writer has unpublished the old pointer
 *     before calling.  A reader section whose pointer load comes after the
 *     barrier point sees the new pointer: it does not matter.  One whose
 *     load comes before it stored its ctr before the load (program order,
 *     compiler barrier), so the writer sees that ctr: it will wait for it.
 *  2. Why two phases.  The outermost lock loads the phase, then stores
 *     ctr: a reader can load phase P, be preempted, and store ctr = P much
 *     later, after the writer has looked at it (and found it idle) and
 *     flipped.  One flip could then leave such a reader looking "current"
 *     while its section read the old pointer.  With two flips and a wait
 *     after each, a reader whose ctr carries either phase, stored before
 *     the writer's look, is waited for by one of the two waits: after the
 *     first flip the current phase is one of {P, not P}, after the second
 *     the other.  The writer's loads of ctr are ordered after its store of
 *     the phase by a full fence (the atomic xor).
 *  3. The last barrier.  A reader's unlock stores ctr - 1; its section's
 *     loads come before that store in program order, but a weakly ordered
 *     CPU could complete them later.  The writer, having seen the store,
 *     calls membarrier again: the reader's barrier point comes after its
 *     store, so after its loads; when membarrier returns, those loads are
 *     done, and the caller may free.
 *
 * Fallbacks, chosen once (marker__rcu_mode()): without PRIVATE_EXPEDITED
 * (kernels before 4.14, or registration refused), MEMBARRIER_CMD_GLOBAL,
 * the same guarantee through a kernel grace period (milliseconds); with no
 * membarrier at all (seccomp, some emulators), the FENCE bit in the
 * grace-period word, which every outermost lock copies into ctr: readers
 * then execute a full fence after the lock's store and before the unlock's,
 * and the writer a fence where the barriers were.  A child of fork()
 * registers PRIVATE_EXPEDITED again if its new mm needs it.
 *
 * Readers' slots live in chunks of our own that are never freed (the
 * first one static), so the writer may read any slot at any time, even one
 * whose thread has gone.  A thread's slot is freed by a pthread key's
 * destructor at its exit (also when it exits inside a section, by
 * pthread_exit() or cancellation in a probe: it reads nothing any more).
 * A thread that exits without running destructors (a raw exit system
 * call) leaves its slot marked with its thread id: the writer, waiting on
 * such a slot, and a registration that finds no free slot, check with
 * tgkill(pid, tid, 0) and free the slots of threads that no longer exist.
 *
 * Registration takes no lock (a slot is claimed by compare-and-swap of its
 * owner field from 0 to the thread id, a chunk is linked by compare-and-
 * swap), with every signal blocked while it runs: so a signal handler can
 * register its thread even if it interrupted a writer, and never finds its
 * own thread half-registered.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "rcu.h"
#include "warn.h"

unsigned long marker__rcu_gp = 1; /* phase 0, count 1 */
__thread struct marker__rcu_reader *marker__rcu_self __attribute__((tls_model("initial-exec")));
#ifdef MARKERS_TSAN
char marker__rcu_tsan_clock;
#endif

/* A chunk of slots: one page on 64-byte cache lines. */
#define CHUNK_READERS 63
struct chunk {
	struct marker__rcu_reader r[CHUNK_READERS];
	struct chunk *next;
} __attribute__((aligned(64)));

static struct chunk first_chunk;
static int mode;		/* enum marker__rcu_mode */
static pthread_mutex_t gp_lock = PTHREAD_MUTEX_INITIALIZER;
static int reap_busy;		/* one reaper of dead threads' slots at a time */

static pthread_key_t exit_key;
static int exit_key_state;	/* 0 none, 1 being created, 2 ready, -1 failed */

static long sys_membarrier(int cmd)
{
	return syscall(__NR_membarrier, cmd, 0, 0);
}

static int sys_gettid(void)
{
	return (int)syscall(SYS_gettid);
}

/* Does thread @tid of this process still exist? */
static int thread_alive(int tid)
{
	return syscall(SYS_tgkill, getpid(), tid, 0) == 0 || errno != ESRCH;
}

/* ---- the mode ---- */

static enum marker__rcu_mode best_mode(void)
{
	long q = sys_membarrier(MEMBARRIER_CMD_QUERY);

	if (q >= 0 && (q & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
	    sys_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0)
		return MARKER__RCU_EXPEDITED;
	if (q >= 0 && (q & MEMBARRIER_CMD_GLOBAL))
		return MARKER__RCU_GLOBAL;
	return MARKER__RCU_FENCES;
}

/* Every outermost section from now on fences for itself: before any reader may rely on it. */
static enum marker__rcu_mode mode_in_effect(enum marker__rcu_mode m)
{
	if (m == MARKER__RCU_FENCES &&
	    !(__atomic_load_n(&marker__rcu_gp, __ATOMIC_ACQUIRE) & MARKER__RCU_FENCE))
		__atomic_or_fetch(&marker__rcu_gp, MARKER__RCU_FENCE, __ATOMIC_SEQ_CST);
	return m;
}

static enum marker__rcu_mode set_mode(enum marker__rcu_mode m)
{
	int expected = MARKER__RCU_UNDECIDED;

	if (!__atomic_compare_exchange_n(&mode, &expected, (int)m, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		m = (enum marker__rcu_mode)expected;
	return mode_in_effect(m);
}

enum marker__rcu_mode marker__rcu_mode(void)
{
	int m = __atomic_load_n(&mode, __ATOMIC_ACQUIRE);

	if (m != MARKER__RCU_UNDECIDED)
		return mode_in_effect((enum marker__rcu_mode)m);
	m = set_mode(best_mode());
	if (m == MARKER__RCU_GLOBAL)
		marker__warn("membarrier PRIVATE_EXPEDITED unavailable: grace periods use "
			     "MEMBARRIER_CMD_GLOBAL (slower probe disconnect)");
	else if (m == MARKER__RCU_FENCES)
		marker__warn("membarrier unavailable: probe calls fence for themselves");
	return (enum marker__rcu_mode)m;
}

int marker__rcu_force_mode(enum marker__rcu_mode m)
{
	long q = sys_membarrier(MEMBARRIER_CMD_QUERY);

	switch (m) {
	case MARKER__RCU_EXPEDITED:
		if (q < 0 || !(q & MEMBARRIER_CMD_PRIVATE_EXPEDITED) ||
		    sys_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) < 0)
			return -ENOSYS;
		break;
	case MARKER__RCU_GLOBAL:
		if (q < 0 || !(q & MEMBARRIER_CMD_GLOBAL))
			return -ENOSYS;
		break;
	case MARKER__RCU_FENCES:
		break;
	default:
		return -EINVAL;
	}
	return set_mode(m) == m ? 0 : -EBUSY;
}

/*
 * A full memory barrier in every thread of the process that is running
 * (and ours).  The expedited command needs the mm registered: a child of
 * fork() may have to register again.
 */
static void barrier_all(enum marker__rcu_mode m)
{
	switch (m) {
	case MARKER__RCU_EXPEDITED:
		if (sys_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0)
			return;
		if (errno == EPERM &&
		    sys_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0 &&
		    sys_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0)
			return;
		/* The readers have no fences; GLOBAL gives the same guarantee. */
		__attribute__((fallthrough));
	case MARKER__RCU_GLOBAL:
		if (sys_membarrier(MEMBARRIER_CMD_GLOBAL) == 0)
			return;
		/* membarrier worked when the mode was chosen; it cannot go away. */
		abort();
	default:
		marker__rcu_fence();
	}
}

/* ---- the registry of readers ---- */

/*
 * Frees @r if its owner, @tid, no longer exists.  Returns 1 if it did.
 * The slot is first marked REAPING (not free: nobody claims it), so that
 * its ctr is cleared only while it is still the dead thread's.
 */
#define REAPING (-1)
static int reap_if_dead(struct marker__rcu_reader *r, int tid)
{
	int expected = tid;

	if (tid <= 0 || thread_alive(tid))
		return 0;
	if (!__atomic_compare_exchange_n(&r->owner, &expected, REAPING, 0, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED))
		return 0;
	/* The thread is gone: nothing else writes this ctr. */
	__atomic_store_n(&r->ctr, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&r->owner, 0, __ATOMIC_RELEASE);
	return 1;
}

/*
 * Frees the slots of threads that exited without their destructor.  One
 * reaper at a time (a slot's owner id could otherwise be freed, reused by
 * a new thread of the same id, and freed again by a slower reaper); the
 * others skip, never wait: a registration may run in a signal handler.
 */
static int reap_dead(struct marker__rcu_reader *only)
{
	int n = 0;

	if (__atomic_exchange_n(&reap_busy, 1, __ATOMIC_ACQUIRE))
		return 0;
	if (only) {
		n = reap_if_dead(only, __atomic_load_n(&only->owner, __ATOMIC_ACQUIRE));
	} else {
		for (struct chunk *c = &first_chunk; c; c = __atomic_load_n(&c->next, __ATOMIC_ACQUIRE))
			for (int i = 0; i < CHUNK_READERS; i++)
				n += reap_if_dead(&c->r[i],
						  __atomic_load_n(&c->r[i].owner, __ATOMIC_ACQUIRE));
	}
	__atomic_store_n(&reap_busy, 0, __ATOMIC_RELEASE);
	return n;
}

static struct marker__rcu_reader *claim(int tid)
{
	for (struct chunk *c = &first_chunk; c; c = __atomic_load_n(&c->next, __ATOMIC_ACQUIRE))
		for (int i = 0; i < CHUNK_READERS; i++) {
			int expected = 0;

			if (!__atomic_load_n(&c->r[i].owner, __ATOMIC_RELAXED) &&
			    __atomic_compare_exchange_n(&c->r[i].owner, &expected, tid, 0,
							__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
				return &c->r[i];
		}
	return NULL;
}

/* Links a new chunk at the end of the list.  Returns 0 or -ENOMEM. */
static int grow(void)
{
	struct chunk *n = mmap(NULL, sizeof(*n), PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct chunk *c = &first_chunk, *expected;

	if (n == MAP_FAILED)
		return -ENOMEM;
	for (;;) {
		expected = NULL;
		if (__atomic_compare_exchange_n(&c->next, &expected, n, 0, __ATOMIC_RELEASE,
						__ATOMIC_ACQUIRE))
			return 0;
		c = expected;
	}
}

/*
 * The pthread key's destructor: the thread is exiting, its sections (if it
 * exits inside one, from a probe) are over.  If a later destructor fires a
 * marker, the thread registers again and glibc calls us again.
 */
static void reader_exit(void *arg)
{
	struct marker__rcu_reader *r = arg;

	marker__rcu_self = NULL;
	marker__rcu_tsan_release();
	__atomic_store_n(&r->ctr, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&r->owner, 0, __ATOMIC_RELEASE);
}

/* Creates the exit key once; lock-free (another thread may be creating it). */
static int exit_key_ready(void)
{
	int s = __atomic_load_n(&exit_key_state, __ATOMIC_ACQUIRE), expected = 0;

	if (s == 0 && __atomic_compare_exchange_n(&exit_key_state, &expected, 1, 0,
						  __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		s = pthread_key_create(&exit_key, reader_exit) == 0 ? 2 : -1;
		__atomic_store_n(&exit_key_state, s, __ATOMIC_RELEASE);
	}
	while ((s = __atomic_load_n(&exit_key_state, __ATOMIC_ACQUIRE)) == 1)
		sched_yield();
	return s == 2;
}

struct marker__rcu_reader *marker__rcu_register(void)
{
	struct marker__rcu_reader *r;
	sigset_t all, old;
	int saved_errno = errno, tid;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = marker__rcu_self;
	if (r)
		goto out; /* cannot happen with signals blocked; cheap to check */
	marker__rcu_mode(); /* the FENCE bit, if any, before our first section */
	tid = sys_gettid();
	while (!(r = claim(tid))) {
		if (!reap_dead(NULL) && grow() < 0)
			break;
	}
	if (!r) {
		marker__warn("no memory to register a thread: its probe calls are skipped");
		goto out;
	}
	/*
	 * Without the key (no key left) the slot is freed when a writer or a
	 * registration finds the thread gone.
	 */
	if (exit_key_ready())
		pthread_setspecific(exit_key, r);
	marker__rcu_self = r;
out:
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved_errno;
	return r;
}

int marker__rcu_nreaders(void)
{
	int n = 0;

	for (struct chunk *c = &first_chunk; c; c = __atomic_load_n(&c->next, __ATOMIC_ACQUIRE))
		for (int i = 0; i < CHUNK_READERS; i++)
			n += __atomic_load_n(&c->r[i].owner, __ATOMIC_RELAXED) != 0;
	return n;
}

/* ---- grace periods ---- */

/*
 * Waiting for one reader: spin briefly (sections are short), then yield,
 * then sleep; while sleeping, now and then, check that its thread still
 * exists.
 */
static void wait_reader(struct marker__rcu_reader *r, unsigned long gp)
{
	for (unsigned n = 0;; n++) {
		unsigned long c = __atomic_load_n(&r->ctr, __ATOMIC_ACQUIRE);

		if (!(c & MARKER__RCU_NEST_MASK) || !((c ^ gp) & MARKER__RCU_PHASE))
			return;
		if (n < 100) {
#if defined(__x86_64__) || defined(__i386__)
			__builtin_ia32_pause();
#endif
		} else if (n < 200) {
			sched_yield();
		} else {
			struct timespec ts = {0, n < 300 ? 100000 : 1000000};

			nanosleep(&ts, NULL);
			if (n % 32 == 0)
				reap_dead(r);
		}
	}
}

static void wait_old_readers(unsigned long gp)
{
	for (struct chunk *c = &first_chunk; c; c = __atomic_load_n(&c->next, __ATOMIC_ACQUIRE))
		for (int i = 0; i < CHUNK_READERS; i++)
			wait_reader(&c->r[i], gp);
}

void marker__rcu_synchronize(void)
{
	enum marker__rcu_mode m = marker__rcu_mode();
	struct marker__rcu_reader *self = marker__rcu_self;

	/* Inside a section we would wait for ourselves forever: a caller's bug. */
	if (self && (__atomic_load_n(&self->ctr, __ATOMIC_RELAXED) & MARKER__RCU_NEST_MASK))
		abort();
	if (pthread_mutex_lock(&gp_lock))
		abort();
	barrier_all(m); /* 1: the caller's unpublish before readers' later loads */
	for (int flip = 0; flip < 2; flip++) {
		/* 2: a full fence (locked xor): the store before our loads of ctr */
		unsigned long gp = __atomic_xor_fetch(&marker__rcu_gp, MARKER__RCU_PHASE,
						      __ATOMIC_SEQ_CST);

		wait_old_readers(gp);
	}
	barrier_all(m); /* 3: the waited-for sections' loads are done */
	pthread_mutex_unlock(&gp_lock);
#ifdef MARKERS_TSAN
	__tsan_acquire(&marker__rcu_tsan_clock);
#endif
}

/* ---- fork ---- */

/*
 * fork() does not take gp_lock before: a thread may fork inside its own
 * section (from a probe) while a grace period waits for that section to
 * end, and would wait for itself.  A grace period running in another
 * thread at the fork has no thread in the child: the child takes gp_lock
 * over afresh; the grace-period word, whatever phase it is in, stays valid.
 *
 * The child has one thread, the one that forked: every other slot belongs
 * to a thread that does not exist here (and may have been inside a section:
 * its count would block every grace period).  Our own slot stays, count
 * included (fork() may be called from a probe), under our new thread id.
 */
void marker__rcu_after_fork_child(void)
{
	struct marker__rcu_reader *self = marker__rcu_self;

	for (struct chunk *c = &first_chunk; c; c = c->next)
		for (int i = 0; i < CHUNK_READERS; i++) {
			struct marker__rcu_reader *r = &c->r[i];

			if (r == self) {
				__atomic_store_n(&r->owner, sys_gettid(), __ATOMIC_RELAXED);
				continue;
			}
			__atomic_store_n(&r->ctr, 0, __ATOMIC_RELAXED);
			__atomic_store_n(&r->owner, 0, __ATOMIC_RELAXED);
		}
	__atomic_store_n(&reap_busy, 0, __ATOMIC_RELAXED);
	pthread_mutex_init(&gp_lock, NULL);
}
