/*
 * rcu.h - the library's own RCU: lock-free readers, a writer that waits for
 * them (private).  rcu.c explains the algorithm and why it is correct.
 *
 * Who may call what, at the same time:
 *
 *   marker__rcu_reader()        any thread, any time, in signal handlers (on
 *   marker__rcu_read_lock_r()   an alternate stack too), nested up to 65,535
 *   marker__rcu_read_unlock_r() deep; async-signal-safe; never blocks.  A
 *                               thread's first marker__rcu_reader() registers
 *                               it (a few system calls, once per thread); the
 *                               program calls nothing per thread.
 *   marker__rcu_synchronize()   any thread outside a read-side section (it
 *                               aborts inside one: it would wait for itself);
 *                               blocks until every section that was running
 *                               when it was called has ended; not
 *                               async-signal-safe.  Callers are serialized by
 *                               rcu.c's own lock, the last in registry.h's
 *                               lock order; no other lock is needed.
 *   marker__rcu_after_fork_child()  init.c's atfork child handler only.
 *
 * A section is:
 *
 *	struct marker__rcu_reader *r = marker__rcu_reader();
 *
 *	if (!r)
 *		... no memory to register this thread: do without the section's data
 *	marker__rcu_read_lock_r(r);
 *	p = marker__rcu_load(ptr);	... use *p, not after the unlock
 *	marker__rcu_read_unlock_r(r);
 */
#ifndef MARKERS_RCU_H
#define MARKERS_RCU_H

#include "tsan.h"

/*
 * A reader's ctr, and the grace-period word marker__rcu_gp: the low 16 bits
 * count the thread's nested sections (0: not reading), PHASE is the
 * grace-period phase its outermost section started in, FENCE says that the
 * process has no membarrier() and readers fence for themselves.  The
 * grace-period word holds a count of 1, so that the outermost lock copies it
 * into ctr with one store.
 */
#define MARKER__RCU_NEST_MASK 0xffffUL
#define MARKER__RCU_PHASE 0x10000UL
#define MARKER__RCU_FENCE 0x20000UL

/* One registered thread; a cache line of its own (the writer reads it). */
struct marker__rcu_reader {
	unsigned long ctr; /* written by its thread only (and fork, and a dead thread's reaper) */
	int owner;	   /* kernel thread id; 0: free slot */
} __attribute__((aligned(64)));

/* Hidden: a direct %rip-relative load, not one through the GOT. */
extern unsigned long marker__rcu_gp __attribute__((visibility("hidden")));

/*
 * The thread's reader, in the library's own initial-exec thread-local: a
 * %fs-relative load, no __tls_get_addr call.  In a library that may be
 * dlopen'ed, the 8 bytes come from glibc's static TLS surplus, kept for
 * this use; dlopen fails cleanly if it is exhausted.
 */
extern __thread struct marker__rcu_reader *marker__rcu_self
	__attribute__((tls_model("initial-exec")));

/* Registers the calling thread.  Returns its reader, or NULL (no memory). */
struct marker__rcu_reader *marker__rcu_register(void);

static inline struct marker__rcu_reader *marker__rcu_reader(void)
{
	struct marker__rcu_reader *r = marker__rcu_self;

	if (__builtin_expect(!r, 0))
		r = marker__rcu_register();
	return r;
}

#ifdef MARKERS_TSAN
/*
 * ThreadSanitizer does not see membarrier(): a grace period is told to it
 * as what it is, a happens-before edge from the end of every read-side
 * section to the return of synchronize.
 */
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
extern char marker__rcu_tsan_clock;
#define marker__rcu_tsan_release() __tsan_release(&marker__rcu_tsan_clock)
#else
#define marker__rcu_tsan_release() ((void)0)
#endif
/*
 * A full fence (tsan.h).  The ordering it gives, section end before
 * synchronize's return, is told to TSan by marker__rcu_tsan_release() and
 * synchronize's __tsan_acquire().
 */
#define marker__rcu_fence() marker__fence(__ATOMIC_SEQ_CST)

/*
 * Readers order nothing but the compiler (signal fences): membarrier() in
 * the writer puts a full barrier into every running thread when it needs
 * one (rcu.c).  Without membarrier() the FENCE bit is set and readers fence
 * after the outermost lock's store and before the unlock's.  The ctr is
 * accessed atomically (plain moves) only so that sanitizers see no race.
 */
static inline void marker__rcu_read_lock_r(struct marker__rcu_reader *r)
{
	unsigned long c = __atomic_load_n(&r->ctr, __ATOMIC_RELAXED);

	if (__builtin_expect(!(c & MARKER__RCU_NEST_MASK), 1)) {
		c = __atomic_load_n(&marker__rcu_gp, __ATOMIC_RELAXED);
		__atomic_store_n(&r->ctr, c, __ATOMIC_RELAXED);
		if (__builtin_expect(c & MARKER__RCU_FENCE, 0))
			marker__rcu_fence();
	} else {
		/*
		 * Nested (a probe's own section, or a signal handler that
		 * interrupted one).  A handler that runs between our load and
		 * this store leaves ctr as it found it.
		 */
		__atomic_store_n(&r->ctr, c + 1, __ATOMIC_RELAXED);
	}
	__atomic_signal_fence(__ATOMIC_SEQ_CST); /* the section's loads after the store */
}

static inline void marker__rcu_read_unlock_r(struct marker__rcu_reader *r)
{
	unsigned long c;

	__atomic_signal_fence(__ATOMIC_SEQ_CST); /* the section's loads before the store */
	c = __atomic_load_n(&r->ctr, __ATOMIC_RELAXED);
	if (__builtin_expect(c & MARKER__RCU_FENCE, 0))
		marker__rcu_fence();
	marker__rcu_tsan_release();
	__atomic_store_n(&r->ctr, c - 1, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/*
 * Waits until every read-side section that had started when it was called
 * has ended.  Must not be called inside a section (abort()).
 */
void marker__rcu_synchronize(void);

/*
 * Publication of a pointer to readers, and its read: a release store and an
 * acquire load (plain moves on x86), which thread sanitizers understand,
 * unlike the consume loads of the classic rcu_dereference.
 */
#define marker__rcu_publish(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define marker__rcu_load(p) __atomic_load_n(&(p), __ATOMIC_ACQUIRE)

/*
 * How the writer makes readers' memory accesses visible and ordered
 * (rcu.c): chosen once, at the first registration or grace period.
 */
enum marker__rcu_mode {
	MARKER__RCU_UNDECIDED,
	MARKER__RCU_EXPEDITED, /* membarrier PRIVATE_EXPEDITED: IPIs to our running threads */
	MARKER__RCU_GLOBAL,    /* membarrier GLOBAL: slower (a kernel grace period) */
	MARKER__RCU_FENCES,    /* no membarrier: readers fence */
};

/* The mode in use (deciding it if not yet). */
enum marker__rcu_mode marker__rcu_mode(void);

/*
 * For tests: use @mode instead of the best one available.  Returns 0,
 * -EBUSY (already decided: call it before any section or grace period),
 * -ENOSYS (this kernel cannot do @mode), -EINVAL.
 */
int marker__rcu_force_mode(enum marker__rcu_mode mode);

/* For tests and diagnostics: registered threads (slots in use). */
int marker__rcu_nreaders(void);

/*
 * init.c's atfork child handler: the registry of readers holds the child's
 * one thread.  Nothing is taken before fork (rcu.c says why).
 */
void marker__rcu_after_fork_child(void);

#endif /* MARKERS_RCU_H */
