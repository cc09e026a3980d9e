/*
 * tr_filter.c - filters of a recording session (tr_filter.h).
 *
 * Each enabled glob is a spec: (glob, parsed filter or NULL), appended to
 * an array that only grows while the session lives.  The probe needs, per
 * marker, the programs of the live specs whose glob matches the marker,
 * bound to its fields.  It binds them once and keeps them in a pool of
 * programs, remembered in the marker's cache entry as one 64-bit word:
 *
 *   bits 63..32  generation of the spec set it was computed for
 *   bit  31      an unfiltered glob matches: accept every event
 *   bits 30..24  programs (at most MAX_BOUND)
 *   bits 23..0   index of the first program in the pool
 *
 * When the word is stale (specs added or removed since), or there is no
 * cache entry, or the pool is full, the probe binds each matching spec on
 * its stack and evaluates it there: slower, same answer.  A binding left
 * in the pool by a stale word is not reused: the pool is sized for a few
 * changes of the set for every marker, and only grows at the first use.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "markers/probe.h"
#include "tr_filter.h"
#include "tracer_int.h"
#include "warn.h"

#define MAX_SPECS 1024
#define MAX_BOUND 127
#define POOL_PROGS 4096

struct spec {
	char *glob;
	struct marker__filter *f; /* NULL: unfiltered */
	int dead;                 /* atomic: disabled */
};

struct tr_filters {
	struct spec *spec[MAX_SPECS];
	uint32_t nspec;     /* atomic: published specs */
	uint32_t gen;       /* atomic: bumped on every change, never 0 */
	uint32_t pool_used; /* atomic: programs taken */
	struct marker__filter_prog *pool;
};

/* fnmatch(3) without flags, for the ASCII names of markers, async-signal-safe. */
static int glob_match(const char *p, const char *s)
{
	const char *star_p = NULL, *star_s = NULL;

	for (;;) {
		if (*p == '*') {
			star_p = ++p;
			star_s = s;
			continue;
		}
		if (!*s) {
			if (!*p)
				return 1;
			goto backtrack;
		}
		if (*p == '?') {
			p++, s++;
			continue;
		}
		if (*p == '[') {
			const char *q = p + 1;
			int neg = *q == '!' || *q == '^', hit = 0;

			if (neg)
				q++;
			/* A ']' first in the set is one of its characters. */
			do {
				char lo = *q, hi;

				if (!lo)
					goto literal; /* no closing ']': a plain '[' */
				if (lo == '\\' && q[1])
					lo = *++q;
				hi = lo;
				if (q[1] == '-' && q[2] && q[2] != ']') {
					hi = q[2] == '\\' && q[3] ? q[3] : q[2];
					q += q[2] == '\\' && q[3] ? 3 : 2;
				}
				hit |= *s >= lo && *s <= hi;
				q++;
			} while (*q != ']');
			if (hit != neg) {
				p = q + 1, s++;
				continue;
			}
			goto backtrack;
		}
literal:
		if (*p == '\\' && p[1])
			p++;
		if (*p == *s) {
			p++, s++;
			continue;
		}
backtrack:
		if (!star_p || !*star_s)
			return 0;
		p = star_p;
		s = ++star_s;
	}
}

/* ---- the set (under the tracer's lock) ---- */

struct check {
	const struct marker__filter *f;
	const char *glob;
	struct marker__filter_err err;
	const char *name;
	int rc, n;
};

static int check_one(const struct marker_info *m, void *arg)
{
	struct check *c = arg;
	struct marker__filter_prog prog;

	if (!m->nsites || !m->types || !glob_match(c->glob, m->name))
		return 0;
	c->n++;
	c->rc = marker__filter_bind(c->f, m->name, m->format, m->types, &prog, &c->err);
	return c->rc ? 1 : 0;
}

int marker__tr_filter_add(struct tr_session *s, const char *glob, const char *filter,
			  char *err, size_t errlen)
{
	struct tr_filters *t = s->filters;
	struct marker__filter *f = NULL;
	struct marker__filter_err fe;
	struct spec *sp;
	int rc;

	if (filter) {
		rc = marker__filter_parse(filter, &f, &fe);
		if (rc) {
			if (err && rc == -EINVAL)
				snprintf(err, errlen, "column %u: %s", fe.column, fe.msg);
			return rc;
		}
		struct check c = {.f = f, .glob = glob};

		rc = marker_foreach(check_one, &c);
		if (rc < 0 || c.rc) {
			if (err && c.rc)
				snprintf(err, errlen, "%s", c.err.msg);
			marker__filter_free(f);
			return c.rc ? -EINVAL : rc;
		}
	}
	/*
	 * No marker name holds a '/': such a glob (the control channel's
	 * "is a recording running?" probe) changes nothing, and must not make
	 * every marker bind its filters again.
	 */
	if (!filter && strchr(glob, '/'))
		return 0;
	if (!t) {
		if (!filter)
			return 0; /* no filter yet: nothing to keep */
		t = calloc(1, sizeof(*t));
		if (t) {
			t->pool = calloc(POOL_PROGS, sizeof(*t->pool));
			t->gen = 1;
		}
		if (!t || !t->pool) {
			if (t)
				free(t->pool);
			free(t);
			marker__filter_free(f);
			return -ENOMEM;
		}
		/* The globs enabled before, unfiltered: they accept everything. */
		for (size_t i = 0; i < s->nglobs && t->nspec < MAX_SPECS; i++) {
			sp = calloc(1, sizeof(*sp));
			if (!sp || !(sp->glob = strdup(s->globs[i]))) {
				free(sp);
				continue; /* (cannot happen often; the glob then stays filtered) */
			}
			t->spec[t->nspec++] = sp;
		}
	}
	/* The same (glob, filter) again, maybe disabled since: the same spec. */
	for (unsigned i = 0; i < t->nspec; i++) {
		sp = t->spec[i];
		if (strcmp(sp->glob, glob) || !sp->f != !f ||
		    (f && strcmp(marker__filter_source(sp->f), filter)))
			continue;
		marker__filter_free(f);
		__atomic_store_n(&sp->dead, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&t->gen, t->gen + 1, __ATOMIC_RELEASE);
		return 0;
	}
	if (t->nspec >= MAX_SPECS) {
		marker__filter_free(f);
		return -ENOSPC;
	}
	sp = calloc(1, sizeof(*sp));
	if (!sp || !(sp->glob = strdup(glob))) {
		free(sp);
		marker__filter_free(f);
		return -ENOMEM;
	}
	sp->f = f;
	t->spec[t->nspec] = sp;
	/* The spec, then its count, then the generation: pairs with the probe's acquires. */
	__atomic_store_n(&t->nspec, t->nspec + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&t->gen, t->gen + 1, __ATOMIC_RELEASE);
	if (!s->filters) {
		__atomic_store_n(&s->filters, t, __ATOMIC_RELEASE);
		marker__tr_fast_update(s); /* the probe's fast path knows no filter */
	}
	return 0;
}

static int count_one(const struct marker_info *m, void *arg)
{
	struct check *c = arg;

	c->n += m->nsites && glob_match(c->glob, m->name);
	return 0;
}

int marker__tr_glob_count(const char *glob)
{
	struct check c = {.glob = glob};
	int rc = marker_foreach(count_one, &c);

	return rc < 0 ? rc : c.n;
}

void marker__tr_filter_remove(struct tr_session *s, const char *glob)
{
	struct tr_filters *t = s->filters;
	int changed = 0;

	if (!t)
		return;
	for (unsigned i = 0; i < t->nspec; i++)
		if (!strcmp(t->spec[i]->glob, glob) && !t->spec[i]->dead) {
			__atomic_store_n(&t->spec[i]->dead, 1, __ATOMIC_RELEASE);
			changed = 1;
		}
	if (changed) /* else the bindings stay good */
		__atomic_store_n(&t->gen, t->gen + 1, __ATOMIC_RELEASE);
}

void marker__tr_filter_free(struct tr_session *s)
{
	struct tr_filters *t = s->filters;

	if (!t)
		return;
	for (unsigned i = 0; i < t->nspec; i++) {
		free(t->spec[i]->glob);
		marker__filter_free(t->spec[i]->f);
		free(t->spec[i]);
	}
	free(t->pool);
	free(t);
	s->filters = NULL;
}

uint64_t marker__tr_filtered(const struct tr_session *s)
{
	uint64_t n = 0;

	for (unsigned i = 0; s->bufs && i < s->nbufs; i++)
		n += __atomic_load_n(&s->bufs[i].h->filtered, __ATOMIC_RELAXED);
	return n;
}

void marker__tr_filter_env_groups(void)
{
	for (int k = 1; k <= 16; k++) {
		char name[40], fname[40], *copy, *save = NULL;
		const char *globs, *filter;

		snprintf(name, sizeof(name), "MARKERS_RECORD_%d", k);
		snprintf(fname, sizeof(fname), "MARKERS_RECORD_FILTER_%d", k);
		globs = getenv(name);
		filter = getenv(fname);
		if (!globs)
			break;
		copy = strdup(globs);
		for (char *g = copy ? strtok_r(copy, ",", &save) : NULL; g;
		     g = strtok_r(NULL, ",", &save)) {
			char why[256] = "";
			int err = marker__tr_enable_filter(g, filter && *filter ? filter : NULL, why,
							   sizeof(why));

			if (err < 0)
				marker__warn("%s: %s: %s", name, g, *why ? why : strerror(-err));
		}
		free(copy);
	}
}

/* ---- the probe's side ---- */

/*
 * Bind every live spec matching @m into the pool.  Returns the binding
 * word for @gen, or 0 (pool full, or a spec cannot be bound... then the
 * slow path decides, each time).
 */
static uint64_t bind_marker(struct tr_filters *t, const struct marker *m, uint32_t gen,
			    unsigned nspec)
{
	unsigned nprog = 0, first;
	int all = 0;

	for (unsigned i = 0; i < nspec; i++) {
		const struct spec *sp = t->spec[i];

		if (__atomic_load_n(&sp->dead, __ATOMIC_ACQUIRE) || !glob_match(sp->glob, m->name))
			continue;
		if (!sp->f)
			all = 1;
		else
			nprog++;
	}
	if (all || !nprog)
		return (uint64_t)gen << 32 | (uint64_t)all << 31;
	if (nprog > MAX_BOUND || __atomic_load_n(&t->pool_used, __ATOMIC_RELAXED) >= POOL_PROGS)
		return 0;
	first = __atomic_fetch_add(&t->pool_used, nprog, __ATOMIC_RELAXED);
	if (first + nprog > POOL_PROGS)
		return 0;
	for (unsigned i = 0, k = 0; i < nspec && k < nprog; i++) {
		const struct spec *sp = t->spec[i];

		if (__atomic_load_n(&sp->dead, __ATOMIC_ACQUIRE) || !sp->f ||
		    !glob_match(sp->glob, m->name))
			continue;
		if (marker__filter_bind(sp->f, m->name, m->format, m->types, &t->pool[first + k],
					NULL))
			t->pool[first + k].n = 0; /* a field it lacks: this filter rejects all */
		k++;
	}
	return (uint64_t)gen << 32 | (uint64_t)nprog << 24 | first;
}

static int eval_bound(const struct marker__filter_prog *p, const uint64_t *val,
		      const unsigned *slen)
{
	return p->n && marker__filter_eval(p, val, slen);
}

/* No usable binding: each matching spec, bound on the stack. */
static int pass_slow(struct tr_filters *t, const struct marker *m, unsigned nspec,
		     const uint64_t *val, const unsigned *slen)
{
	struct marker__filter_prog prog;

	for (unsigned i = 0; i < nspec; i++) {
		const struct spec *sp = t->spec[i];

		if (__atomic_load_n(&sp->dead, __ATOMIC_ACQUIRE) || !glob_match(sp->glob, m->name))
			continue;
		if (!sp->f)
			return 1;
		if (!marker__filter_bind(sp->f, m->name, m->format, m->types, &prog, NULL) &&
		    marker__filter_eval(&prog, val, slen))
			return 1;
	}
	return 0;
}

int marker__tr_filter_pass(struct tr_session *s, const struct marker *m, struct tr_cache_ent *e,
			   unsigned cpu, const uint64_t *val, const unsigned *slen)
{
	struct tr_filters *t = __atomic_load_n(&s->filters, __ATOMIC_ACQUIRE);
	uint32_t gen = __atomic_load_n(&t->gen, __ATOMIC_ACQUIRE);
	unsigned nspec = __atomic_load_n(&t->nspec, __ATOMIC_ACQUIRE);
	uint64_t w = e ? __atomic_load_n(&e->filter, __ATOMIC_ACQUIRE) : 0;
	int pass = 0;

	if (e && (uint32_t)(w >> 32) != gen) {
		w = bind_marker(t, m, gen, nspec);
		/* Pairs with the acquire above: the programs are written before the word. */
		__atomic_store_n(&e->filter, w, __ATOMIC_RELEASE);
	}
	if (!w) {
		pass = pass_slow(t, m, nspec, val, slen);
	} else if (w >> 31 & 1) {
		return 1;
	} else {
		unsigned first = (unsigned)(w & 0xffffff), n = (unsigned)(w >> 24 & 0x7f);

		for (unsigned i = 0; i < n && !pass; i++)
			pass = eval_bound(&t->pool[first + i], val, slen);
	}
	if (!pass)
		__atomic_fetch_add(&s->bufs[cpu < s->nbufs ? cpu : 0].h->filtered, 1,
				   __ATOMIC_RELAXED);
	return pass;
}
