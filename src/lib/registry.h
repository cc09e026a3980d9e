/*
 * registry.h - the library's view of loaded markers (private).
 *
 * An object (the program, a shared library) hands its __markers sections to
 * the library when it loads (marker_abi_register_object).  Each descriptor
 * becomes one or more sites; sites with the same name form one entry (a
 * "marker"), which carries the probes connected to it.
 *
 * Locking: everything here is protected by marker__lock, except what the
 * fast path reads: struct marker::state and ::probes (see probes.c), and
 * the patcher's own lookup table (see patch.h).
 */
#ifndef MARKERS_REGISTRY_H
#define MARKERS_REGISTRY_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include "markers.h"

struct marker__glob;
struct marker__probe;

/*
 * A probe that takes the register-preserving stub's argument area as it is
 * (x86-64): @slots the arguments in 8-byte slots, as markers/impl/fire-x86.h
 * lays them out, no va_list.  @p is its own entry in the probe array: its
 * priv, and a hint it may keep there.  It must leave errno as it found it
 * (its slow paths save and restore it), so that the dispatch saves errno
 * only around va_list probes.  The library's own probes only (the
 * tracer's); set through marker__probe_register_glob_area().
 */
typedef void marker__area_func(const struct marker *m, struct marker__probe *p,
			       const uint64_t *slots);

struct marker__probe {
	marker_probe_func *func;	 /* always set: marker_fire() calls it */
	void *priv;
	const struct marker__glob *glob; /* the glob registration it came from */
	marker__area_func *area;	 /* NULL: the va_list probe only */
	/*
	 * The area probe's: what it found for this marker the last time, or
	 * NULL.  The one field that changes in a published array: atomic
	 * loads and stores only (the tracer's order them: tracer/ring.c); a
	 * copy of the array starts with NULL.
	 */
	void *hint;
};

/* *@dst = @src, but for the hint, which a copy starts without. */
static inline void marker__probe_copy(struct marker__probe *dst, const struct marker__probe *src)
{
	*dst = (struct marker__probe){src->func, src->priv, src->glob, src->area, NULL};
}

/* Immutable once published to the sites' descriptors; freed after a grace period. */
struct marker__probe_array {
	struct marker__probe_array *next_retired; /* on the list of arrays awaiting a grace period */
	size_t n;
	struct marker__probe p[];
};

struct marker__object;
struct marker__entry;

struct marker__site {
	struct marker *desc;
	void *addr;   /* patchable instruction, NULL for generic sites */
	void *target; /* jump sites: the jmp's destination */
	struct marker__object *obj;
	struct marker__entry *entry;
	struct marker__site *next_in_entry;
	enum marker_site_mode mode;
	/*
	 * 1: the descriptor, found through a site record (C++), is another
	 * object's copy (vague linkage), maybe shared with sites of other
	 * objects (see registry.c).
	 */
	uint8_t foreign;
	const char *reason; /* static string or owned by the patcher */
	uint8_t arch[16];   /* patcher-private: decoded instruction */
};

struct marker__object {
	const void *key;            /* begin, or the first site record when no __markers */
	struct marker *begin, *end; /* NULL, NULL: no __markers (C++ sites only) */
	unsigned refs;
	char *path;
	struct marker__site *sites;
	size_t nsites;
	struct marker__object *next;
};

struct marker__entry {
	char *name;
	char *format;                       /* NULL until a site or a probe sets it */
	struct marker__site *sites;         /* list through next_in_entry */
	size_t nsites;
	struct marker__probe_array *probes; /* current array, NULL when none */
	struct marker__entry *hnext;
};

struct marker__glob {
	char *pattern;
	size_t literal; /* length of the pattern's prefix without wildcards */
	marker_probe_func *func;
	marker__area_func *area; /* NULL but for the library's own probes */
	void *priv;
	struct marker__glob *next;
};

/*
 * Does @name match @g?  fnmatch(3), after a cheap test of the pattern's
 * literal prefix: a glob is matched against every marker of the process.
 */
int marker__glob_match(const struct marker__glob *g, const char *name);
/* Sets g->literal from g->pattern. */
void marker__glob_prepare(struct marker__glob *g);

/*
 * The library's locks, in the one order they nest (take a later one while
 * holding an earlier one, never the reverse):
 *
 *   1. ctl_lock (control/control.c): the listener holds it while it answers
 *      a request, which calls the public API (and so 2 and 3);
 *   2. tr_lock (tracer/session.c): the tracer holds it while it connects
 *      its probe (marker_probe_register_glob: 3);
 *   3. marker__lock (here): every registry, probe and patcher change; the
 *      _locked functions need it held;
 *   4. gp_lock (rcu.c): one grace period at a time, held inside
 *      marker__rcu_synchronize() only; reader registration takes no lock.
 *
 * fork() takes the first three in this order and lets them go in reverse
 * (init.c, hooks.h), so a child never inherits one held.  Not gp_lock: a
 * thread may fork inside a read-side section that a grace period waits
 * for; the child re-initializes it (rcu.c).  marker__lock is not
 * recursive.  The trap handler and marker_fire() take none.
 */
extern pthread_mutex_t marker__lock;
void marker__lock_acquire(void);
void marker__lock_release(void);

/*
 * marker__assert_locked() - abort() unless the calling thread holds
 * marker__lock: at the top of _locked functions.  Compiled in unless
 * NDEBUG; costs a thread-pointer read and a compare.
 */
extern unsigned long marker__lock_owner;
#ifndef NDEBUG
#define marker__assert_locked()                                                      \
	do {                                                                         \
		if (__atomic_load_n(&marker__lock_owner, __ATOMIC_RELAXED) !=        \
		    (unsigned long)pthread_self())                                   \
			abort();                                                     \
	} while (0)
#else
#define marker__assert_locked() ((void)0)
#endif

/* Library start-up (environment, fork handlers); idempotent, thread-safe. */
void marker__init(void);

/* Entries. */
struct marker__entry *marker__entry_find_locked(const char *name);
struct marker__entry *marker__entry_get_locked(const char *name);
/* Free @e if nothing keeps it: no site, no probe asked for by name. */
void marker__entry_free_if_unused_locked(struct marker__entry *e);
typedef int marker__entry_func(struct marker__entry *e, void *arg);
int marker__entry_foreach_locked(marker__entry_func *fn, void *arg);
size_t marker__entry_count_locked(void);
/*
 * @fn for each entry whose name matches @g, in name order, until it returns
 * non-zero (returned).  @fn may put (free) the entry it is given, no other.
 */
int marker__entry_foreach_glob_locked(const struct marker__glob *g, marker__entry_func *fn,
				      void *arg);
extern struct marker__glob *marker__globs;
extern struct marker__object *marker__objects;

/*
 * A batch of sites whose code must be brought in line with their
 * descriptor's state; filled while entries change, flushed once at the end
 * of the public call, so that a glob that enables 10,000 markers costs one
 * patch batch.
 */
struct marker__batch {
	struct marker__site **v;
	size_t n, cap;
	int nomem;
	int loading; /* a loading object's batch: empty, it leaves put-off adoptions be */
};
void marker__batch_add_entry(struct marker__batch *b, struct marker__entry *e);
/*
 * Returns how many sites are on but could not be switched yet (see
 * marker__patch_apply_locked): the public calls then return -EAGAIN.
 */
size_t marker__batch_flush_locked(struct marker__batch *b);

/*
 * Replace @e's probe array by @next (may be NULL), publish it to every
 * site, switch the sites' state, queue patchable sites in @b.  The old array
 * is returned for the caller to free after a grace period.
 */
struct marker__probe_array *marker__entry_set_probes_locked(struct marker__entry *e,
							     struct marker__probe_array *next,
							     struct marker__batch *b);
/*
 * Free @a (may be NULL) after a grace period: queued, not waited for, so
 * that switching a marker off does not wait for readers (a grace period
 * with a busy reader lasts milliseconds).  Thread-safe, any lock held or not.
 */
void marker__probe_array_retire(struct marker__probe_array *a);
/* If many arrays are waiting, a grace period and free them.  Not under marker__lock. */
void marker__probe_array_reclaim(void);

/*
 * marker_probe_register_glob() for the library's own probes, with @area,
 * the entry the stub's sites call instead of @probe (marker__area_func).
 * Same returns; marker_probe_unregister_glob(@glob, @probe, @priv) undoes it.
 */
int marker__probe_register_glob_area(const char *glob, marker_probe_func *probe,
				     marker__area_func *area, void *priv);

#endif /* MARKERS_REGISTRY_H */
