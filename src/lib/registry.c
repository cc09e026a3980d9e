/*
 * registry.c - objects, sites and entries: what is loaded, under which name.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patch.h"
#include "rcu.h"
#include "registry.h"
#include "usdt.h"
#include "warn.h"

pthread_mutex_t marker__lock = PTHREAD_MUTEX_INITIALIZER;
struct marker__glob *marker__globs;
struct marker__object *marker__objects;

#define NBUCKETS 4096
static struct marker__entry *buckets[NBUCKETS];
static size_t nentries;

/*
 * Every entry sorted by name, rebuilt when entries came or went since: a
 * glob reaches the markers of its literal prefix by a binary search instead
 * of a walk of every entry (most of a 10,000-marker switch, in a process of
 * 30,000 markers).
 */
static struct marker__entry **by_name;
static size_t nby_name;
static int by_name_stale = 1;

unsigned long marker__lock_owner; /* pthread_self() of the holder, 0 if none */

void marker__lock_acquire(void)
{
	if (pthread_mutex_lock(&marker__lock))
		abort();
	__atomic_store_n(&marker__lock_owner, (unsigned long)pthread_self(), __ATOMIC_RELAXED);
}

void marker__lock_release(void)
{
	__atomic_store_n(&marker__lock_owner, 0, __ATOMIC_RELAXED);
	if (pthread_mutex_unlock(&marker__lock))
		abort();
}

static unsigned hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % NBUCKETS;
}

struct marker__entry *marker__entry_find_locked(const char *name)
{
	marker__assert_locked();
	for (struct marker__entry *e = buckets[hash(name)]; e; e = e->hnext)
		if (!strcmp(e->name, name))
			return e;
	return NULL;
}

struct marker__entry *marker__entry_get_locked(const char *name)
{
	struct marker__entry *e = marker__entry_find_locked(name);
	unsigned h;

	if (e)
		return e;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->name = strdup(name);
	if (!e->name) {
		free(e);
		return NULL;
	}
	h = hash(name);
	e->hnext = buckets[h];
	buckets[h] = e;
	nentries++;
	by_name_stale = 1;
	return e;
}

/* An entry lives while it has sites or probes that were asked for by name. */
void marker__entry_free_if_unused_locked(struct marker__entry *e)
{
	struct marker__entry **pp;

	if (e->nsites)
		return;
	if (e->probes) {
		for (size_t i = 0; i < e->probes->n; i++)
			if (!e->probes->p[i].glob)
				return;
		/* Only glob probes: they come back when a site of this name loads. */
		marker__probe_array_retire(marker__entry_set_probes_locked(e, NULL, NULL));
	}
	for (pp = &buckets[hash(e->name)]; *pp != e; pp = &(*pp)->hnext)
		;
	*pp = e->hnext;
	nentries--;
	by_name_stale = 1;
	free(e->name);
	free(e->format);
	free(e);
}

int marker__entry_foreach_locked(marker__entry_func *fn, void *arg)
{
	marker__assert_locked();
	for (size_t b = 0; b < NBUCKETS; b++) {
		struct marker__entry *e, *next;

		for (e = buckets[b]; e; e = next) {
			int ret;

			next = e->hnext;
			ret = fn(e, arg);
			if (ret)
				return ret;
		}
	}
	return 0;
}

static int cmp_entry_name(const void *a, const void *b)
{
	return strcmp((*(struct marker__entry *const *)a)->name,
		      (*(struct marker__entry *const *)b)->name);
}

static int collect_entry(struct marker__entry *e, void *arg)
{
	struct marker__entry ***p = arg;

	*(*p)++ = e;
	return 0;
}

static int glob_rest_match(const struct marker__glob *g, const char *name);

int marker__entry_foreach_glob_locked(const struct marker__glob *g, marker__entry_func *fn,
				      void *arg)
{
	size_t lo = 0, hi;

	if (by_name_stale) {
		struct marker__entry **v = malloc((nentries ? nentries : 1) * sizeof(*v)), **p = v;

		if (!v) {
			/* The slow way: every entry. */
			for (size_t b = 0; b < NBUCKETS; b++)
				for (struct marker__entry *e = buckets[b], *next; e; e = next) {
					int ret;

					next = e->hnext;
					if (marker__glob_match(g, e->name) && (ret = fn(e, arg)))
						return ret;
				}
			return 0;
		}
		marker__entry_foreach_locked(collect_entry, &p);
		qsort(v, nentries, sizeof(*v), cmp_entry_name);
		free(by_name);
		by_name = v;
		nby_name = nentries;
		by_name_stale = 0;
	}
	/* The first name >= the literal prefix, then those that start with it. */
	hi = nby_name;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strncmp(by_name[mid]->name, g->pattern, g->literal) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	/*
	 * Entries freed by @fn stay in the array until the next rebuild, which
	 * the freeing marks due; only the current one can be freed (put).
	 */
	for (size_t i = lo; i < nby_name && !strncmp(by_name[i]->name, g->pattern, g->literal);
	     i++) {
		int ret;

		if (glob_rest_match(g, by_name[i]->name) && (ret = fn(by_name[i], arg)))
			return ret;
	}
	return 0;
}

size_t marker__entry_count_locked(void)
{
	return nentries;
}

static int batch_push(struct marker__batch *b, struct marker__site *s)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		struct marker__site **v = realloc(b->v, cap * sizeof(*v));

		if (!v) {
			b->nomem = 1;
			return -ENOMEM;
		}
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n++] = s;
	return 0;
}

void marker__batch_add_entry(struct marker__batch *b, struct marker__entry *e)
{
	for (struct marker__site *s = e->sites; s; s = s->next_in_entry)
		if (s->mode == MARKER_MODE_PATCHED)
			batch_push(b, s);
}

size_t marker__batch_flush_locked(struct marker__batch *b)
{
	size_t bad = 0;

	marker__assert_locked();
	/*
	 * Sites whose adoption was put off were not in the batch: their turn
	 * now.  Except for a loading object with nothing to switch: its sites
	 * keep the code of their file, which works from the flag, until the
	 * put-off adoption (patch.h) -- else every program would pay for it
	 * at start-up.
	 */
	if (!b->loading || b->n)
		marker__patch_adopt_deferred_locked();
	if (b->n)
		bad = marker__patch_apply_locked(b->v, b->n);
	free(b->v);
	b->v = NULL;
	b->n = b->cap = 0;
	return bad;
}

/* ---- objects ---- */

static const char *object_path(const void *addr)
{
	Dl_info info;

	if (dladdr(addr, &info) && info.dli_fname)
		return info.dli_fname;
	return "";
}

/* Descriptors are an array of 8-aligned records; step over padding and unknown versions. */
static struct marker *next_desc(struct marker *m, struct marker *end)
{
	char *p = (char *)m;

	if (m->abi_version == MARKER_ABI_VERSION)
		p += sizeof(*m);
	else
		p += 8;
	return (struct marker *)p < end ? (struct marker *)p : end;
}

static int desc_valid(const struct marker *m, const struct marker *end)
{
	return (const char *)m + sizeof(*m) <= (const char *)end &&
	       m->abi_version == MARKER_ABI_VERSION && m->name && m->format && m->types;
}

/* Attach a new site to its entry; refuse it when the formats disagree. */
static int attach_site_locked(struct marker__site *s)
{
	struct marker__entry *e = marker__entry_get_locked(s->desc->name);

	if (!e)
		return -ENOMEM;
	if (!e->format) {
		e->format = strdup(s->desc->format);
		if (!e->format)
			return -ENOMEM;
	} else if (strcmp(e->format, s->desc->format)) {
		s->mode = MARKER_MODE_REFUSED;
		s->reason = "format differs from the marker's";
		marker__warn("marker %s at %s:%u: format \"%s\" differs from \"%s\"; "
			     "this site stays off",
			     s->desc->name, s->desc->file, s->desc->line, s->desc->format,
			     e->format);
	}
	s->entry = e;
	s->next_in_entry = e->sites;
	e->sites = s;
	e->nsites++;
	return 0;
}

/*
 * Does a site other than @s (in any object) still name @s's descriptor?
 * Only asked for another object's descriptor (C++), which sites of several
 * objects may share.
 */
static int desc_in_use_locked(const struct marker__entry *e, const struct marker__site *s)
{
	for (const struct marker__site *o = e->sites; o; o = o->next_in_entry)
		if (o != s && o->desc == s->desc)
			return 1;
	return 0;
}

static void detach_site_locked(struct marker__site *s)
{
	struct marker__entry *e = s->entry;
	struct marker__site **pp;

	if (!e)
		return;
	/*
	 * A C++ descriptor of another object, which stays loaded (the dynamic
	 * linker keeps an object that others are bound to): when its last
	 * site goes, turn it off, so that no stale state or probe array is
	 * left for a site of an object loaded later.  The object's own
	 * descriptors go with it (it outlives the objects bound to it).
	 */
	if (s->foreign && !desc_in_use_locked(e, s)) {
		__atomic_store_n(&s->desc->state, 0, __ATOMIC_RELEASE);
		marker__rcu_publish(s->desc->probes, NULL);
	}
	for (pp = &e->sites; *pp != s; pp = &(*pp)->next_in_entry)
		;
	*pp = s->next_in_entry;
	e->nsites--;
	s->entry = NULL;
	marker__entry_free_if_unused_locked(e);
}

void marker__glob_prepare(struct marker__glob *g)
{
	g->literal = strcspn(g->pattern, "*?[\\");
}

/* After the literal prefix matched: does the rest of the pattern match? */
static int glob_rest_match(const struct marker__glob *g, const char *name)
{
	const char *rest = g->pattern + g->literal;

	/* "prefix*", the common glob: fnmatch was a sixth of a 10,000-marker switch. */
	if (rest[0] == '*' && !rest[1])
		return 1;
	return !fnmatch(g->pattern, name, 0);
}

int marker__glob_match(const struct marker__glob *g, const char *name)
{
	if (strncmp(g->pattern, name, g->literal))
		return 0;
	return glob_rest_match(g, name);
}

/* Connect the glob probes that match @e and are not connected yet. */
static void connect_globs_locked(struct marker__entry *e, struct marker__batch *b)
{
	size_t n = e->probes ? e->probes->n : 0, add = 0;
	struct marker__probe_array *next;

	for (struct marker__glob *g = marker__globs; g; g = g->next)
		if (marker__glob_match(g, e->name))
			add++;
	if (!add)
		return;
	next = malloc(sizeof(*next) + (n + add) * sizeof(next->p[0]));
	if (!next)
		return;
	next->n = 0;
	for (size_t i = 0; i < n; i++)
		marker__probe_copy(&next->p[next->n++], &e->probes->p[i]);
	for (struct marker__glob *g = marker__globs; g; g = g->next) {
		int dup = 0;

		if (!marker__glob_match(g, e->name))
			continue;
		for (size_t i = 0; i < next->n; i++)
			dup |= next->p[i].func == g->func && next->p[i].priv == g->priv;
		if (!dup)
			next->p[next->n++] =
				(struct marker__probe){g->func, g->priv, g, g->area, NULL};
	}
	if (next->n == n) {
		free(next);
		return;
	}
	marker__probe_array_retire(marker__entry_set_probes_locked(e, next, b));
}

static void object_free(struct marker__object *o)
{
	free(o->sites);
	free(o->path);
	free(o);
}

/* ---- descriptors found through site records (C++) ---- */

/*
 * A C++ descriptor is an ordinary static, not in __markers: in .data of
 * this object, or of another one when the linkers chose another copy of a
 * vague-linkage static (an inline function's or a template's; the dynamic
 * linker binds every object to one copy).  The site record is its only
 * trace, so before reading one check that it is plausible: 8-aligned and
 * wholly inside a writable loaded segment of some object, then its version
 * and fields.  A record of a discarded or unresolved copy points to 0.
 */
struct seg {
	uintptr_t lo, hi;
	const void *obj; /* the object's program headers: an identity */
};

static int find_writable(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct seg *want = arg; /* in: [lo, hi) to look up; out: the segment */

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W) && want->lo >= lo &&
		    want->hi <= hi && want->lo < want->hi) {
			*want = (struct seg){lo, hi, info->dlpi_phdr};
			return 1;
		}
	}
	return 0;
}

/*
 * The writable segment of a loaded object that holds [@a, @a + @len), or
 * NULL.  @cache: the segments found last, as the records of one object
 * point into few (its own data, the program's).
 */
#define NCACHE 4
static const struct seg *seg_of(uintptr_t a, size_t len, struct seg *cache, unsigned *next)
{
	struct seg want = {a, a + len, NULL};

	for (unsigned i = 0; i < NCACHE; i++)
		if (a >= cache[i].lo && a + len <= cache[i].hi && a + len > a)
			return &cache[i];
	if (!dl_iterate_phdr(find_writable, &want))
		return NULL;
	cache[*next % NCACHE] = want;
	return &cache[(*next)++ % NCACHE];
}

/* 1 and the object that holds it (@obj) if @m is plausibly a descriptor. */
static int record_desc_valid(const struct marker *m, struct seg *cache, unsigned *next,
			     const void **obj)
{
	const struct seg *sg;

	if (!m || (uintptr_t)m % 8 || !(sg = seg_of((uintptr_t)m, sizeof(*m), cache, next)))
		return 0;
	*obj = sg->obj;
	return m->abi_version == MARKER_ABI_VERSION && m->kind <= MARKER_KIND_JUMP && m->name &&
	       m->format && m->types;
}

static int site_cmp(const void *a, const void *b)
{
	const struct marker__site *x = a, *y = b;

	if (x->desc != y->desc)
		return (uintptr_t)x->desc < (uintptr_t)y->desc ? -1 : 1;
	return (uintptr_t)x->addr < (uintptr_t)y->addr ? -1 : (uintptr_t)x->addr > (uintptr_t)y->addr;
}

/*
 * Sort the sites found through records and drop duplicates: one site per
 * (descriptor, address), however many records say so.  Returns the new count.
 */
static size_t unique_sites(struct marker__site *v, size_t n)
{
	size_t k = 0;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), site_cmp);
	for (size_t i = 1; i < n; i++)
		if (site_cmp(&v[i], &v[k]))
			v[++k] = v[i];
	return k + 1;
}

/*
 * The patcher finds an object's code through the object of the first
 * site's descriptor (arch/x86_patch.c): put first a site whose descriptor
 * is the loading object's own, not another object's copy.  When all are
 * copies of others, the sites stay in their taken form and work from the
 * flag (FALLBACK).
 */
static void own_desc_first(struct marker__site **opt, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (opt[0]->foreign && !opt[i]->foreign) {
			struct marker__site *t = opt[0];

			opt[0] = opt[i];
			opt[i] = t;
			return;
		}
}

static int object_load_locked(struct marker__object *o, struct marker_site_record *rb,
			      struct marker_site_record *re)
{
	struct marker__batch batch = {.loading = 1};
	struct marker__site **opt = NULL;
	struct seg cache[NCACHE] = {{0, 0, NULL}};
	const struct seg *own;
	const void *own_obj = NULL; /* the object of the records: the loading one */
	unsigned next = 0;
	size_t n = 0, nopt = 0, first_rec, first_cxx;

	for (struct marker *m = o->begin; m < o->end; m = next_desc(m, o->end))
		if (desc_valid(m, o->end) && m->kind == MARKER_KIND_GENERIC)
			n++;
	for (struct marker_site_record *r = rb; r && r < re; r++)
		n++;
	if (rb && rb < re && (own = seg_of((uintptr_t)rb, sizeof(*rb), cache, &next)))
		own_obj = own->obj;
	o->sites = calloc(n ? n : 1, sizeof(*o->sites));
	opt = calloc(n ? n : 1, sizeof(*opt));
	if (!o->sites || !opt) {
		free(opt);
		return -ENOMEM;
	}
	for (struct marker *m = o->begin; m < o->end; m = next_desc(m, o->end)) {
		if (!desc_valid(m, o->end) || m->kind != MARKER_KIND_GENERIC)
			continue;
		o->sites[o->nsites++] = (struct marker__site){.desc = m, .obj = o};
	}
	/* Records of descriptors in __markers (C), as always. */
	first_rec = o->nsites;
	for (struct marker_site_record *r = rb; r && r < re; r++) {
		if (!(r->marker >= o->begin && r->marker < o->end && desc_valid(r->marker, o->end)))
			continue;
		o->sites[o->nsites++] = (struct marker__site){
			.desc = r->marker, .addr = r->site, .target = r->target, .obj = o};
	}
	/*
	 * Records of descriptors elsewhere (C++): a generic kind makes a
	 * generic site, whose address is only where it is (for listings).
	 */
	first_cxx = o->nsites;
	for (struct marker_site_record *r = rb; r && r < re; r++) {
		const void *obj;

		if (r->marker >= o->begin && r->marker < o->end)
			continue;
		if (!r->site || !record_desc_valid(r->marker, cache, &next, &obj))
			continue;
		o->sites[o->nsites++] = (struct marker__site){
			.desc = r->marker, .addr = r->site,
			.target = r->marker->kind == MARKER_KIND_GENERIC ? NULL : r->target,
			.obj = o, .foreign = !own_obj || obj != own_obj};
	}
	o->nsites = first_cxx + unique_sites(o->sites + first_cxx, o->nsites - first_cxx);
	for (size_t i = first_rec; i < o->nsites; i++)
		if (i < first_cxx || o->sites[i].desc->kind != MARKER_KIND_GENERIC)
			opt[nopt++] = &o->sites[i];
	for (size_t i = 0; i < o->nsites; i++)
		if (attach_site_locked(&o->sites[i]) < 0)
			o->sites[i].mode = MARKER_MODE_REFUSED, o->sites[i].reason = "out of memory";
	if (nopt) {
		own_desc_first(opt, nopt);
		marker__patch_adopt_locked(opt, nopt);
	}
	free(opt);

	/*
	 * Switch on the new sites of markers that have probes or a USDT tool
	 * attached, connect glob probes to new names.  One patch batch for
	 * the whole object.
	 */
	marker__usdt_adopt_locked(o);
	for (size_t i = 0; i < o->nsites; i++) {
		struct marker__entry *e = o->sites[i].entry;

		if (!e)
			continue;
		connect_globs_locked(e, &batch);
		if (e->probes && o->sites[i].mode != MARKER_MODE_REFUSED) {
			marker__rcu_publish(o->sites[i].desc->probes, (void *)e->probes);
			__atomic_or_fetch(&o->sites[i].desc->state, MARKER_STATE_PROBES,
					  __ATOMIC_RELEASE);
			if (o->sites[i].mode == MARKER_MODE_PATCHED)
				batch_push(&batch, &o->sites[i]);
		} else if (o->sites[i].desc->state && o->sites[i].mode == MARKER_MODE_PATCHED) {
			batch_push(&batch, &o->sites[i]); /* on for a USDT tool only */
		}
	}
	marker__batch_flush_locked(&batch);
	return 0;
}

/*
 * An object is known by its key: its first descriptor, or, when it has
 * none in __markers (an object of C++ sites only), its first site record;
 * markers/impl/site.h's destructor passes the same key to unregister.
 */
void marker_abi_register_object(struct marker *begin, struct marker *end,
				struct marker_site_record *sites_begin,
				struct marker_site_record *sites_end)
{
	struct marker__object *o;
	const void *key;

	if (!begin || begin >= end)
		begin = end = NULL;
	if (!sites_begin || sites_begin >= sites_end)
		sites_begin = sites_end = NULL;
	key = begin ? (const void *)begin : (const void *)sites_begin;
	if (!key)
		return;
	marker__init();
	marker__lock_acquire();
	for (o = marker__objects; o; o = o->next)
		if (o->key == key) {
			o->refs++;
			goto out;
		}
	o = calloc(1, sizeof(*o));
	if (!o)
		goto out;
	o->key = key;
	o->begin = begin;
	o->end = end;
	o->refs = 1;
	o->path = strdup(object_path(key));
	if (!o->path || object_load_locked(o, sites_begin, sites_end) < 0) {
		for (size_t i = 0; i < o->nsites; i++)
			detach_site_locked(&o->sites[i]);
		object_free(o);
		marker__warn("out of memory registering the markers of %s", object_path(key));
		goto out;
	}
	o->next = marker__objects;
	marker__objects = o;
out:
	marker__lock_release();
	marker__probe_array_reclaim();
}

void marker_abi_unregister_object(struct marker *begin)
{
	struct marker__object **pp, *o;

	if (!begin)
		return;
	marker__lock_acquire();
	for (pp = &marker__objects; *pp && (*pp)->key != (const void *)begin; pp = &(*pp)->next)
		;
	o = *pp;
	if (!o || --o->refs) {
		marker__lock_release();
		return;
	}
	*pp = o->next;
	marker__usdt_forget_locked(o);
	marker__patch_forget_locked(o->sites, o->nsites);
	for (size_t i = 0; i < o->nsites; i++)
		detach_site_locked(&o->sites[i]);
	marker__lock_release();
	object_free(o);
	marker__probe_array_reclaim();
}
