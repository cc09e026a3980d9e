/*
 * probes.c - connecting probes to markers, and calling them.
 *
 * The fast path (marker_fire) takes no lock: inside an RCU read-side section
 * it loads the site's probe array, which is immutable once published.  A
 * change builds a new array, publishes it to every site of the marker
 * (a release store: the array's contents are visible before the
 * pointer), flips the sites' state, and frees the old array only after a
 * grace period, when no thread can still be reading it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_va.h"
#include "rcu.h"
#include "registry.h"

/*
 * Every probe of @marker, each handed its own copy of @args, errno saved
 * around them all.  Area probes are reached through their va_list entry
 * here, which reads the same slots when the arguments are where the
 * tracer's fast path expects them (tracer/ring.c).
 */
static inline void fire_list(const struct marker *marker, va_list args)
{
	struct marker__probe_array *pa;
	int saved_errno = errno; /* a site may sit between a failing call and its errno check */
	struct marker__rcu_reader *r = marker__rcu_reader();

	/* NULL: no memory to register the thread (said with MARKERS_VERBOSE) */
	if (__builtin_expect(r != NULL, 1)) {
		marker__rcu_read_lock_r(r);
		pa = marker__rcu_load(((struct marker *)marker)->probes);
		for (size_t i = 0; pa && i < pa->n; i++) {
			va_list a;

			va_copy(a, args);
			pa->p[i].func(marker, pa->p[i].priv, marker->format, &a);
			va_end(a);
		}
		marker__rcu_read_unlock_r(r);
	}
	errno = saved_errno;
}

/* The plain call's way in (sites with long double arguments, units built with MARKERS_NO_FIRE_STUB). */
void marker_fire(const struct marker *marker, ...)
{
	va_list args;

	va_start(args, marker);
	fire_list(marker, args);
	va_end(args);
}

#ifdef __x86_64__
/* The first section of a thread registers it (system calls): errno as it was. */
static __attribute__((noinline, cold)) struct marker__rcu_reader *reader_keep_errno(void)
{
	int saved_errno = errno;
	struct marker__rcu_reader *r = marker__rcu_register();

	errno = saved_errno;
	return r;
}

/*
 * Every probe of @pa, in a read-side section: an area probe (the tracer)
 * takes the slots as they are and keeps errno itself; a va_list probe gets
 * a va_list over them, errno saved around it.
 */
static __attribute__((noinline)) void fire_all(const struct marker *marker,
					       struct marker__probe_array *pa, const uint64_t *slots)
{
	int saved_errno = 0, saved = 0;

	for (size_t i = 0; i < pa->n; i++) {
		struct marker__probe *p = &pa->p[i];
		va_list a;

		if (p->area) {
			p->area(marker, p, slots);
			continue;
		}
		if (!saved) {
			saved_errno = errno; /* a site may sit between a failing call and its errno check */
			saved = 1;
		}
		marker__x86_va_slots(a, slots);
		p->func(marker, p->priv, marker->format, &a);
		va_end(a);
	}
	if (saved)
		errno = saved_errno;
}

/*
 * Called by marker_abi_fire_stub (arch/x86_fire.c) only: area[0] the
 * descriptor, area[3...] the arguments in 8-byte slots.  Most markers have
 * one probe, the tracer's area entry: called here with nothing kept across
 * the call (no callee-saved register to save: the reader is read again
 * after it), and errno left to it.  Any other array: fire_all().
 */
void marker__fire_area(const uint64_t *area) __attribute__((used));
void marker__fire_area(const uint64_t *area)
{
	struct marker__rcu_reader *r = marker__rcu_self;
	const struct marker *marker;
	struct marker__probe_array *pa;

	if (__builtin_expect(!r, 0)) {
		r = reader_keep_errno();
		if (!r)
			return; /* no memory to register the thread (said with MARKERS_VERBOSE) */
	}
	marker__rcu_read_lock_r(r);
	marker = (const struct marker *)(uintptr_t)area[0];
	pa = marker__rcu_load(((struct marker *)marker)->probes);
	if (__builtin_expect(pa && pa->n == 1 && pa->p[0].area, 1))
		pa->p[0].area(marker, &pa->p[0], area + 3);
	else if (pa)
		fire_all(marker, pa, area + 3);
	marker__rcu_read_unlock_r(marker__rcu_self);
}
#elif defined(__i386__)
/*
 * Called by the i386 marker_abi_fire_stub (arch/x86_fire.c) only: area[0]
 * the descriptor, area[2...] the arguments in 4-byte words, as the stack
 * arguments of marker_fire(); every probe through its va_list entry, as
 * there.
 */
void marker__fire_area(const uint32_t *area) __attribute__((used));
void marker__fire_area(const uint32_t *area)
{
	va_list args;

	marker__i386_va_words(&args, area + 2);
	fire_list((const struct marker *)(uintptr_t)area[0], args);
	va_end(args);
}
#endif

/*
 * Old probe arrays wait on this list for a grace period.  The next
 * marker_synchronize_unregister() frees them, after its own wait; so does
 * the end of a public call that finds RETIRED_MAX of them waiting (once per
 * call, never under the lock), so that memory stays bounded when nobody
 * synchronizes.  The list is lock-free
 * (push by compare-and-swap, take all by exchange: no ABA, as nothing is
 * ever popped alone), so fork() can never find it locked.
 */
#define RETIRED_MAX 4096
static struct marker__probe_array *retired;
static size_t nretired;

static struct marker__probe_array *take_retired(void)
{
	__atomic_store_n(&nretired, 0, __ATOMIC_RELAXED);
	return __atomic_exchange_n(&retired, NULL, __ATOMIC_ACQUIRE);
}

/* Frees @list: every array on it was unpublished before the caller's grace period. */
static void free_retired(struct marker__probe_array *list)
{
	while (list) {
		struct marker__probe_array *next = list->next_retired;

		free(list);
		list = next;
	}
}

void marker__probe_array_retire(struct marker__probe_array *a)
{
	if (!a)
		return;
	a->next_retired = __atomic_load_n(&retired, __ATOMIC_RELAXED);
	while (!__atomic_compare_exchange_n(&retired, &a->next_retired, a, 1, __ATOMIC_RELEASE,
					    __ATOMIC_RELAXED))
		;
	__atomic_add_fetch(&nretired, 1, __ATOMIC_RELAXED);
}

void marker__probe_array_reclaim(void)
{
	if (__atomic_load_n(&nretired, __ATOMIC_RELAXED) >= RETIRED_MAX)
		marker_synchronize_unregister();
}

struct marker__probe_array *marker__entry_set_probes_locked(struct marker__entry *e,
							     struct marker__probe_array *next,
							     struct marker__batch *b)
{
	struct marker__probe_array *old = e->probes;
	int on = next && next->n;

	if (next && !next->n) {
		free(next);
		next = NULL;
	}
	e->probes = next;
	for (struct marker__site *s = e->sites; s; s = s->next_in_entry) {
		if (s->mode == MARKER_MODE_REFUSED)
			continue;
		/*
		 * On: the array before the state, so that a site that sees
		 * its probes bit finds probes.  Off: the state first.
		 * marker_fire copes with a NULL array either way.  The USDT
		 * bit is usdt.c's.
		 */
		if (on) {
			marker__rcu_publish(s->desc->probes, (void *)next);
			__atomic_or_fetch(&s->desc->state, MARKER_STATE_PROBES, __ATOMIC_RELEASE);
		} else {
			__atomic_and_fetch(&s->desc->state, ~MARKER_STATE_PROBES, __ATOMIC_RELEASE);
			marker__rcu_publish(s->desc->probes, NULL);
		}
	}
	if (b)
		marker__batch_add_entry(b, e);
	return old;
}

/* A copy of @e's probes with one more slot, or without the one at @skip. */
static struct marker__probe_array *array_copy(const struct marker__probe_array *a,
					      size_t extra, size_t skip)
{
	size_t n = a ? a->n : 0;
	struct marker__probe_array *c = malloc(sizeof(*c) + (n + extra) * sizeof(c->p[0]));

	if (!c)
		return NULL;
	c->n = 0;
	for (size_t i = 0; i < n; i++)
		if (i != skip)
			marker__probe_copy(&c->p[c->n++], &a->p[i]);
	return c;
}

static long find_probe(const struct marker__probe_array *a, marker_probe_func *probe,
		       void *priv)
{
	for (size_t i = 0; a && i < a->n; i++)
		if (a->p[i].func == probe && a->p[i].priv == priv)
			return (long)i;
	return -1;
}

static int add_probe_locked(struct marker__entry *e, marker_probe_func *probe,
			    marker__area_func *area, void *priv,
			    const struct marker__glob *glob, struct marker__batch *b,
			    struct marker__probe_array **old)
{
	struct marker__probe_array *next;

	if (find_probe(e->probes, probe, priv) >= 0)
		return -EEXIST;
	next = array_copy(e->probes, 1, (size_t)-1);
	if (!next)
		return -ENOMEM;
	next->p[next->n++] = (struct marker__probe){probe, priv, glob, area, NULL};
	*old = marker__entry_set_probes_locked(e, next, b);
	return 0;
}

int marker_probe_register(const char *name, const char *format, marker_probe_func *probe,
			  void *probe_private)
{
	struct marker__batch batch = {0};
	struct marker__probe_array *old = NULL;
	struct marker__entry *e;
	int err;

	if (!name || !probe)
		return -EINVAL;
	marker__init();
	marker__lock_acquire();
	e = marker__entry_get_locked(name);
	if (!e) {
		err = -ENOMEM;
		goto out;
	}
	if (format && e->format && strcmp(format, e->format)) {
		err = -EPERM;
		goto out_put;
	}
	if (format && !e->format) {
		e->format = strdup(format);
		if (!e->format) {
			err = -ENOMEM;
			goto out_put;
		}
	}
	err = add_probe_locked(e, probe, NULL, probe_private, NULL, &batch, &old);
	if (marker__batch_flush_locked(&batch) && !err)
		err = -EAGAIN;
out_put:
	marker__entry_free_if_unused_locked(e);
out:
	marker__lock_release();
	marker__probe_array_retire(old);
	marker__probe_array_reclaim();
	return err;
}

static int remove_probe_locked(struct marker__entry *e, marker_probe_func *probe, void *priv,
			       const struct marker__glob *glob, struct marker__batch *b,
			       struct marker__probe_array **old)
{
	long i = find_probe(e->probes, probe, priv);
	struct marker__probe_array *next;

	if (i < 0 || e->probes->p[i].glob != glob)
		return -ENOENT;
	next = array_copy(e->probes, 0, (size_t)i);
	if (!next)
		return -ENOMEM;
	*old = marker__entry_set_probes_locked(e, next, b);
	return 0;
}

int marker_probe_unregister(const char *name, marker_probe_func *probe, void *probe_private)
{
	struct marker__batch batch = {0};
	struct marker__probe_array *old = NULL;
	struct marker__entry *e;
	int err = -ENOENT;

	if (!name || !probe)
		return -EINVAL;
	marker__lock_acquire();
	e = marker__entry_find_locked(name);
	if (e) {
		err = remove_probe_locked(e, probe, probe_private, NULL, &batch, &old);
		marker__batch_flush_locked(&batch);
		marker__entry_free_if_unused_locked(e);
	}
	marker__lock_release();
	marker__probe_array_retire(old);
	marker__probe_array_reclaim();
	return err;
}

/* ---- globs ---- */

struct glob_op {
	struct marker__glob *g;
	struct marker__batch batch;
	int count, err;
};

static int glob_connect(struct marker__entry *e, void *arg)
{
	struct glob_op *op = arg;
	struct marker__probe_array *old = NULL;
	int err;

	if (!e->nsites || !marker__glob_match(op->g, e->name))
		return 0;
	err = add_probe_locked(e, op->g->func, op->g->area, op->g->priv, op->g, &op->batch, &old);
	if (err == -ENOMEM)
		op->err = err;
	if (!err)
		op->count++;
	marker__probe_array_retire(old);
	return 0;
}

static int glob_disconnect(struct marker__entry *e, void *arg)
{
	struct glob_op *op = arg;
	struct marker__probe_array *old = NULL;

	if (remove_probe_locked(e, op->g->func, op->g->priv, op->g, &op->batch, &old) == 0) {
		marker__probe_array_retire(old);
		marker__entry_free_if_unused_locked(e);
	}
	return 0;
}

static int register_glob(const char *glob, marker_probe_func *probe, marker__area_func *area,
			 void *probe_private)
{
	struct glob_op op = {0};
	struct marker__glob *g;

	if (!glob || !probe)
		return -EINVAL;
	marker__init();
	marker__lock_acquire();
	for (g = marker__globs; g; g = g->next)
		if (!strcmp(g->pattern, glob) && g->func == probe && g->priv == probe_private) {
			marker__lock_release();
			return -EEXIST;
		}
	g = calloc(1, sizeof(*g));
	if (!g || !(g->pattern = strdup(glob))) {
		free(g);
		marker__lock_release();
		return -ENOMEM;
	}
	marker__glob_prepare(g);
	g->func = probe;
	g->area = area;
	g->priv = probe_private;
	g->next = marker__globs;
	marker__globs = g;
	op.g = g;
	marker__entry_foreach_glob_locked(g, glob_connect, &op);
	if (marker__batch_flush_locked(&op.batch) && !op.err)
		op.err = -EAGAIN;
	marker__lock_release();
	marker__probe_array_reclaim();
	return op.err ? op.err : op.count;
}

int marker_probe_register_glob(const char *glob, marker_probe_func *probe, void *probe_private)
{
	return register_glob(glob, probe, NULL, probe_private);
}

int marker__probe_register_glob_area(const char *glob, marker_probe_func *probe,
				     marker__area_func *area, void *priv)
{
	return register_glob(glob, probe, area, priv);
}

int marker_probe_unregister_glob(const char *glob, marker_probe_func *probe, void *probe_private)
{
	struct glob_op op = {0};
	struct marker__glob **pp, *g;

	if (!glob || !probe)
		return -EINVAL;
	marker__lock_acquire();
	for (pp = &marker__globs; (g = *pp); pp = &g->next)
		if (!strcmp(g->pattern, glob) && g->func == probe && g->priv == probe_private)
			break;
	if (!g) {
		marker__lock_release();
		return -ENOENT;
	}
	*pp = g->next;
	op.g = g;
	marker__entry_foreach_glob_locked(g, glob_disconnect, &op);
	marker__batch_flush_locked(&op.batch);
	marker__lock_release();
	marker__probe_array_reclaim();
	free(g->pattern);
	free(g);
	return 0;
}

void marker_synchronize_unregister(void)
{
	struct marker__probe_array *list = take_retired();

	marker__rcu_synchronize();
	free_retired(list);
}
