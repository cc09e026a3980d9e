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

#define _LGPL_SOURCE
#include <urcu/urcu-bp.h>
#include <urcu/pointer.h>

#define marker__rcu_read_lock() urcu_bp_read_lock()
#define marker__rcu_read_unlock() urcu_bp_read_unlock()
#define marker__rcu_synchronize() urcu_bp_synchronize_rcu()

#endif /* MARKERS_RCU_H */
