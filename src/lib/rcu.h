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
#define marker__rcu_read_lock() urcu_bp_read_lock()
#define marker__rcu_read_unlock() urcu_bp_read_unlock()
#define marker__rcu_synchronize() urcu_bp_synchronize_rcu()
#else
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
extern char marker__rcu_tsan_clock;
#define marker__rcu_read_lock() urcu_bp_read_lock()
#define marker__rcu_read_unlock()                        \
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
