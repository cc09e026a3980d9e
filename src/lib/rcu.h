/*
 * rcu.h - the grace-period flavour the library uses (private).
 *
 * liburcu's "bulletproof" flavour: a thread registers itself on its first
 * read-side section, so the host program calls nothing, and read-side
 * sections nest and may run in signal handlers (registration blocks all
 * signals while it holds the registry lock).  _LGPL_SOURCE inlines the
 * read side: a thread-local counter, no atomic instruction.
 */
#ifndef MARKERS_RCU_H
#define MARKERS_RCU_H

#if defined(__SANITIZE_THREAD__)
#define MARKERS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MARKERS_TSAN 1
#endif
#endif

/*
 * Under ThreadSanitizer liburcu is called, not inlined: its own accesses
 * stay in the uninstrumented library, and the grace period is told to TSan
 * below as what it is, a happens-before edge from the end of every read-side
 * section to the return of synchronize.
 */
#ifndef MARKERS_TSAN
#define _LGPL_SOURCE
#endif
#include <urcu/urcu-bp.h>
#include <urcu/pointer.h>

#ifndef MARKERS_TSAN
/*
 * The read side, given the thread's reader.  liburcu-bp's own inline read
 * side reaches its reader through a thread-local pointer of liburcu-bp.so,
 * a global-dynamic TLS variable: four calls of __tls_get_addr per section
 * (measured: 44 of the ~500 instructions of a recorded event).  We find the
 * address of that pointer once per thread and keep it in a thread-local of
 * our own, initial-exec (a %fs-relative load), then read the reader through
 * it once per section: the address of a thread's TLS variable never changes,
 * and liburcu-bp.so stays loaded as long as we are (a dependency of ours).
 * What the pointer points to may change (NULL after the thread's reader is
 * unregistered at thread exit, a new reader after urcu_bp_register()), so
 * it is read anew at every section.
 *
 * This relies on liburcu-bp's internals (its TLS reader and urcu_bp_gp).
 * Measured with callgrind, one marker_fire() with an empty probe: 97
 * instructions with this read side, 149 with liburcu-bp's public inline
 * read side (urcu_bp_read_lock() under _LGPL_SOURCE: __tls_get_addr
 * calls), 159 with its called one.  The way out that keeps the 97 is a
 * small RCU of our own (per-thread counters in our own initial-exec TLS,
 * tested under TSan), which would also drop liburcu-bp's load at every
 * process start; not done yet.
 *
 * Initial-exec in a library that may be dlopen'ed: the 8 bytes come from
 * glibc's static TLS surplus, kept for this use (libc's own errno is
 * initial-exec); dlopen fails cleanly if the surplus is exhausted.
 *
 * The protocol is liburcu-bp's (urcu/static/urcu-bp.h): the nesting count
 * in the reader's ctr, the grace-period phase copied in by the outermost
 * lock; only where the reader comes from differs.  A signal handler that
 * nests a section between our load and store of ctr leaves ctr as it found
 * it, so the store stays right.
 */
extern __thread struct urcu_bp_reader **marker__rcu_reader_slot
	__attribute__((tls_model("initial-exec")));

static inline struct urcu_bp_reader *marker__rcu_reader(void)
{
	struct urcu_bp_reader **slot = marker__rcu_reader_slot;

	if (caa_unlikely(!slot))
		slot = marker__rcu_reader_slot = &URCU_TLS(urcu_bp_reader);
	if (caa_unlikely(!*slot))
		urcu_bp_register(); /* first section of this thread */
	return *slot;
}

static inline void marker__rcu_read_lock_r(struct urcu_bp_reader *r)
{
	unsigned long tmp;

	cmm_barrier();
	tmp = r->ctr;
	if (caa_likely(!(tmp & URCU_BP_GP_CTR_NEST_MASK))) {
		_CMM_STORE_SHARED(r->ctr, _CMM_LOAD_SHARED(urcu_bp_gp.ctr));
		urcu_bp_smp_mb_slave();
	} else {
		_CMM_STORE_SHARED(r->ctr, tmp + URCU_BP_GP_COUNT);
	}
}

static inline void marker__rcu_read_unlock_r(struct urcu_bp_reader *r)
{
	unsigned long tmp = r->ctr;

	urcu_bp_smp_mb_slave(); /* the section's reads are done before the count drops */
	_CMM_STORE_SHARED(r->ctr, tmp - URCU_BP_GP_COUNT);
	cmm_barrier();
}

#define marker__rcu_synchronize() urcu_bp_synchronize_rcu()
#else
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
extern char marker__rcu_tsan_clock;
struct urcu_bp_reader;
#define marker__rcu_reader() ((struct urcu_bp_reader *)0)
#define marker__rcu_read_lock_r(r) urcu_bp_read_lock()
#define marker__rcu_read_unlock_r(r)                     \
	do {                                             \
		__tsan_release(&marker__rcu_tsan_clock); \
		urcu_bp_read_unlock();                   \
	} while (0)
#define marker__rcu_synchronize()                        \
	do {                                             \
		urcu_bp_synchronize_rcu();               \
		__tsan_acquire(&marker__rcu_tsan_clock); \
	} while (0)
#endif

/*
 * Publication of a pointer to readers, and its read: a release store and an
 * acquire load (plain moves on x86), which thread sanitizers understand,
 * unlike the consume loads of rcu_dereference.
 */
#define marker__rcu_publish(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define marker__rcu_load(p) __atomic_load_n(&(p), __ATOMIC_ACQUIRE)

#endif /* MARKERS_RCU_H */
