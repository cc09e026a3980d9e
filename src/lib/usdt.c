/*
 * usdt.c - switching sites on while a USDT tool is attached to them.
 *
 * Every site built with this version's headers is also a USDT probe
 * (markers/impl/usdt.h): a note that gdb, bpftrace, perf and SystemTap read,
 * whose semaphore is the descriptor's usdt_semaphore.  A tool increments the
 * semaphore while attached (the kernel does it for uprobes registered with
 * a reference counter; bpftrace and gdb write it through /proc/PID/mem).
 * Nothing tells the process: the library looks, at most once a second
 * (marker__usdt_poll(), from the control channel's thread), and sets or
 * clears MARKER_STATE_USDT in the state of each site whose semaphore went
 * from zero to non-zero or back, then brings the code of the patched sites
 * in line with their state, as marker_probe_register() does.  The state's
 * other bit belongs to the probes (probes.c, registry.c): the two switch
 * independently, and a site is on while either is set.
 *
 * Cost while nothing is attached: one wake-up of the control thread per
 * second, and one 16-bit load and compare per USDT site of the process,
 * under the library lock (bench/usdt_poll.c measures it).  The control
 * channel off (MARKERS_CONTROL=0), nothing polls: USDT tools then see the
 * sites only while markers' own probes switch them on.
 */
#include <stddef.h>
#include <stdlib.h>

#include "patch.h"
#include "registry.h"
#include "usdt.h"
#include "warn.h"

/* The notes name the semaphore as descriptor + this offset (usdt.h's MARKER__USDT_SEMOFF). */
_Static_assert(offsetof(struct marker, usdt_semaphore) == 4 * sizeof(void *) + 14,
	       "the USDT semaphore's offset differs from the one the headers write");

/*
 * The descriptors of each object's USDT sites, in one array per object, so
 * that the poll reads them in address order (C descriptors are contiguous
 * in __markers) without touching the registry's site records.  Under
 * marker__lock.
 */
struct usdt_object {
	const struct marker__object *obj;
	struct marker **descs;
	size_t n;
	struct usdt_object *next;
};
static struct usdt_object *objects;
static size_t nusdt; /* USDT descriptors registered; under marker__lock, read without it */
static int retry;    /* a poll ran out of memory: bring the code in line next time */

static int usdt_site(const struct marker__site *s)
{
	return s->entry && s->mode != MARKER_MODE_REFUSED && (s->desc->flags & MARKER_FLAG_USDT);
}

/* Set @d's USDT bit from its semaphore; returns 1 if the state changed. */
static int sync_desc_locked(struct marker *d)
{
	uint8_t st = __atomic_load_n(&d->state, __ATOMIC_RELAXED);
	uint8_t want = __atomic_load_n(&d->usdt_semaphore, __ATOMIC_RELAXED) ? MARKER_STATE_USDT : 0;

	if ((st & MARKER_STATE_USDT) == want)
		return 0;
	__atomic_store_n(&d->state, (uint8_t)((st & ~MARKER_STATE_USDT) | want), __ATOMIC_RELEASE);
	return 1;
}

void marker__usdt_adopt_locked(struct marker__object *o)
{
	struct usdt_object *u = calloc(1, sizeof(*u));
	size_t n = 0;

	for (size_t i = 0; i < o->nsites; i++)
		n += usdt_site(&o->sites[i]);
	if (!u || !n || !(u->descs = malloc(n * sizeof(*u->descs)))) {
		if (n)
			marker__warn("out of memory: USDT tools cannot switch on the markers of %s",
				     o->path ? o->path : "an object");
		free(u);
		return;
	}
	u->obj = o;
	for (size_t i = 0; i < o->nsites; i++)
		if (usdt_site(&o->sites[i])) {
			u->descs[u->n++] = o->sites[i].desc;
			sync_desc_locked(o->sites[i].desc);
		}
	u->next = objects;
	objects = u;
	__atomic_add_fetch(&nusdt, u->n, __ATOMIC_RELAXED);
}

void marker__usdt_forget_locked(struct marker__object *o)
{
	for (struct usdt_object **pp = &objects; *pp; pp = &(*pp)->next) {
		struct usdt_object *u = *pp;

		if (u->obj != o)
			continue;
		*pp = u->next;
		__atomic_sub_fetch(&nusdt, u->n, __ATOMIC_RELAXED);
		free(u->descs);
		free(u);
		return;
	}
}

int marker__usdt_wanted(void)
{
	return __atomic_load_n(&nusdt, __ATOMIC_RELAXED) != 0;
}

int marker__usdt_poll(void)
{
	struct marker__site **v = NULL;
	size_t n = 0, cap = 0;
	int changed = 0;

	if (!marker__usdt_wanted())
		return 0;
	marker__lock_acquire();
	for (struct usdt_object *u = objects; u; u = u->next)
		for (size_t i = 0; i < u->n; i++)
			changed += sync_desc_locked(u->descs[i]);
	if (!changed && !retry)
		goto out;
	retry = 0;
	/*
	 * The patcher keeps only the sites whose code differs from their
	 * state: hand it every patched USDT site (C++ sites of several objects
	 * may share one descriptor, so "changed" is not a per-site fact).
	 */
	for (struct marker__object *o = marker__objects; o; o = o->next)
		for (size_t i = 0; i < o->nsites; i++) {
			struct marker__site *s = &o->sites[i];

			if (!usdt_site(s) || s->mode != MARKER_MODE_PATCHED)
				continue;
			if (n == cap) {
				size_t c = cap ? 2 * cap : 64;
				struct marker__site **nv = realloc(v, c * sizeof(*nv));

				if (!nv) {
					retry = 1; /* until then, such sites follow their flag only */
					goto apply;
				}
				v = nv;
				cap = c;
			}
			v[n++] = s;
		}
apply:
	if (n)
		marker__patch_apply_locked(v, n);
out:
	marker__lock_release();
	free(v);
	return changed;
}
