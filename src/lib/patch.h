/*
 * patch.h - rewriting the code of immediate and jump sites (private).
 *
 * A site of an optimized kind exists in two code forms: "taken" (the branch
 * goes to the out-of-line block, which tests marker->state and calls the
 * probes) and "not taken" (nothing happens).  The object file holds the
 * taken form, so that a site works from the memory flag until the patcher
 * has adopted it; the patcher then keeps the code in the form matching
 * marker->state.  A site whose code cannot be patched stays taken and
 * works from the flag (MARKER_MODE_FALLBACK, with a reason).
 *
 * All functions but marker__patch_init() are called with marker__lock held.  Where patching does not
 * exist (other architectures) they only set the modes.
 */
#ifndef MARKERS_PATCH_H
#define MARKERS_PATCH_H

#include <stddef.h>
#include "registry.h"

/*
 * Start-up, before the library starts any thread of its own: what is cheap
 * only while the process has one thread (registering for membarrier
 * SYNC_CORE waits for an RCU grace period of the kernel, milliseconds, once
 * a second thread exists).  Not under marker__lock; idempotent.
 */
void marker__patch_init(void);

/*
 * New optimized sites of a loading object: verify their bytes, adopt them,
 * set each mode (PATCHED or FALLBACK).  A site already REFUSED keeps that
 * mode; its state stays 0, so either code form keeps it off.
 */
void marker__patch_adopt_locked(struct marker__site **sites, size_t n);

/*
 * Adopt now what marker__patch_adopt_locked() put off while a thread of the
 * library was starting (waiting for it would cost every short-lived program
 * its start-up time): called when that thread runs, before a switch, before
 * a listing.  The _locked form with marker__lock held, the other without.
 */
void marker__patch_adopt_deferred(void);
void marker__patch_adopt_deferred_locked(void);

/*
 * From now until the next marker__patch_adopt_deferred*(), every adoption
 * waits for it: a thread of ours is about to start that calls it first
 * thing (the control listener), so the main thread does not pay for the
 * rewrite; its sites work from the flag meanwhile.  Any thread, no lock.
 */
void marker__patch_defer_adoption(void);

/*
 * Bring the code of these adopted sites in line with marker->state.  A
 * switch that cannot be done now (a thread blocks SIGTRAP: see
 * ready_locked in arch/x86_patch.c) is put off: the sites keep their
 * code, say why (marker__site::reason), and switch at the next call that
 * can, or when a thread of the patcher tries them again (every 100 ms
 * while any wait).  Returns how many of these sites are
 * on but not in their taken form (their probes do not run there yet).
 * @sites is reordered.
 */
size_t marker__patch_apply_locked(struct marker__site **sites, size_t n);

/* In the child of fork(), with marker__lock held (see init.c). */
void marker__patch_after_fork_child(void);

/*
 * Sites of an unloading object (the whole array; generic sites included):
 * forget them before their text goes away.  Cannot fail.
 */
void marker__patch_forget_locked(struct marker__site *sites, size_t n);

#endif /* MARKERS_PATCH_H */
