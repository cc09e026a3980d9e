/*
 * enumerate.c - marker_foreach(): what tools (the CLI, tests) see.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "patch.h"
#include "registry.h"

static int collect(struct marker__entry *e, void *arg)
{
	struct marker__entry ***pp = arg;

	*(*pp)++ = e;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp((*(struct marker__entry *const *)a)->name,
		      (*(struct marker__entry *const *)b)->name);
}

static int describe(struct marker__entry *e, marker_foreach_func *cb, void *arg)
{
	struct marker_info info = {.name = e->name, .format = e->format};
	struct marker_site_info *sites;
	struct marker_probe_info *probes;
	size_t i = 0;
	int ret;

	sites = calloc(e->nsites ? e->nsites : 1, sizeof(*sites));
	probes = calloc(e->probes ? e->probes->n : 1, sizeof(*probes));
	if (!sites || !probes) {
		free(sites);
		free(probes);
		return -ENOMEM;
	}
	for (struct marker__site *s = e->sites; s; s = s->next_in_entry, i++) {
		sites[i] = (struct marker_site_info){s->desc, s->addr, s->obj->path, s->mode,
						     s->reason};
		if (!info.types)
			info.types = s->desc->types;
	}
	for (i = 0; e->probes && i < e->probes->n; i++)
		probes[i] = (struct marker_probe_info){
			e->probes->p[i].func, e->probes->p[i].priv,
			e->probes->p[i].glob ? e->probes->p[i].glob->pattern : NULL};
	info.nsites = e->nsites;
	info.sites = sites;
	info.nprobes = e->probes ? e->probes->n : 0;
	info.probes = probes;
	info.enabled = e->probes && e->nsites;
	ret = cb(&info, arg);
	free(sites);
	free(probes);
	return ret;
}

int marker_foreach(marker_foreach_func *cb, void *arg)
{
	struct marker__entry **all, **p;
	size_t n;
	int ret = 0;

	if (!cb)
		return -EINVAL;
	marker__init();
	marker__lock_acquire();
	marker__patch_adopt_deferred_locked(); /* list what the sites will stay */
	n = marker__entry_count_locked();
	all = p = calloc(n ? n : 1, sizeof(*all));
	if (!all) {
		marker__lock_release();
		return -ENOMEM;
	}
	marker__entry_foreach_locked(collect, &p);
	qsort(all, n, sizeof(*all), by_name);
	for (size_t i = 0; i < n && !ret; i++)
		ret = describe(all[i], cb, arg);
	marker__lock_release();
	free(all);
	return ret;
}

const char *marker_kind_name(unsigned kind)
{
	switch (kind) {
	case MARKER_KIND_GENERIC:
		return "generic";
	case MARKER_KIND_IMMEDIATE:
		return "immediate";
	case MARKER_KIND_JUMP:
		return "jump";
	}
	return "unknown";
}

const char *marker_mode_name(enum marker_site_mode mode)
{
	switch (mode) {
	case MARKER_MODE_FLAG:
		return "flag";
	case MARKER_MODE_PATCHED:
		return "patched";
	case MARKER_MODE_FALLBACK:
		return "fallback";
	case MARKER_MODE_REFUSED:
		return "refused";
	}
	return "unknown";
}
