/*
 * pairs.c - BEGIN/END matching (pairs.h): a hash of keys, each a stack of
 * open BEGINs copied out of the reader's buffers.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pairs.h"

#define NBUCKETS 4096

struct open_begin {
	struct open_begin *below; /* the stack of one key */
	struct pair_event ev;
	/* The copy: nodes, then their names and strings. */
	struct tr_node nodes[];
};

struct slot {
	struct slot *next; /* in its bucket */
	char *key;
	struct open_begin *top;
};

struct pair_matcher {
	const struct pair_spec *spec;
	struct slot *buckets[NBUCKETS];
	struct open_begin *done; /* the BEGIN of the last match, freed at the next feed */
	struct pair_counts c;
};

int pair_spec_parse(const char *arg, struct pair_spec *spec, char *err, size_t errlen)
{
	const char *comma = strchr(arg, ','), *colon;

	memset(spec, 0, sizeof(*spec));
	colon = comma ? strchr(comma, ':') : NULL;
	if (!comma || comma == arg || comma[1] == 0 || comma + 1 == colon ||
	    (colon && !colon[1]) || strchr(comma + 1, ',')) {
		snprintf(err, errlen, "--pair '%s': give BEGIN,END or BEGIN,END:KEY", arg);
		return -1;
	}
	spec->begin = strndup(arg, (size_t)(comma - arg));
	spec->end = colon ? strndup(comma + 1, (size_t)(colon - comma - 1)) : strdup(comma + 1);
	spec->key = colon ? strdup(colon + 1) : NULL;
	if (!spec->begin || !spec->end || (colon && !spec->key)) {
		pair_spec_free(spec);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

void pair_spec_free(struct pair_spec *spec)
{
	free(spec->begin);
	free(spec->end);
	free(spec->key);
	memset(spec, 0, sizeof(*spec));
}

struct pair_matcher *pair_matcher_new(const struct pair_spec *spec)
{
	struct pair_matcher *pm = calloc(1, sizeof(*pm));

	if (pm)
		pm->spec = spec;
	return pm;
}

/* A field of the marker's arguments (not of the contexts). */
static const struct tr_node *find_field(const struct tr_event *ev, const char *name)
{
	for (size_t i = ev->ncontext; i < ev->nfields; i++)
		if (ev->fields[i].name && !strcmp(ev->fields[i].name, name))
			return &ev->fields[i];
	return NULL;
}

/* The key of @ev: its process and KEY value, or its thread (or CPU).  NULL: no KEY field. */
static char *event_key(struct pair_matcher *pm, const struct tr_event *ev, int64_t pid,
		       int64_t tid, int *nomem)
{
	char *key = NULL;
	int n;

	*nomem = 0;
	if (pm->spec->key) {
		const struct tr_node *k = find_field(ev, pm->spec->key);

		if (!k)
			return NULL;
		if (k->kind == TR_STRING)
			n = asprintf(&key, "%" PRId64 "\x1fs%.*s", pid, (int)k->len, k->str);
		else if (k->kind == TR_SIGNED || k->kind == TR_ENUM)
			n = asprintf(&key, "%" PRId64 "\x1fi%" PRId64, pid, k->s);
		else if (k->kind == TR_UNSIGNED)
			n = asprintf(&key, "%" PRId64 "\x1fi%" PRIu64, pid, k->u);
		else if (k->kind == TR_FLOAT)
			n = asprintf(&key, "%" PRId64 "\x1f" "f%.17g", pid, k->d);
		else
			return NULL; /* a struct or an array: not a key */
	} else if (tid >= 0) {
		n = asprintf(&key, "t%" PRId64 ".%" PRId64, pid, tid);
	} else {
		n = asprintf(&key, "c%" PRId64 ".%" PRId64, pid, ev->cpu);
	}
	if (n < 0) {
		*nomem = 1;
		return NULL;
	}
	return key;
}

static size_t hash(const char *s)
{
	size_t h = 1469598103u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % NBUCKETS;
}

static struct slot *find_slot(struct pair_matcher *pm, const char *key, int create)
{
	size_t b = hash(key);
	struct slot *s;

	for (s = pm->buckets[b]; s; s = s->next)
		if (!strcmp(s->key, key))
			return s;
	if (!create)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->key = strdup(key))) {
		free(s);
		return NULL;
	}
	s->next = pm->buckets[b];
	pm->buckets[b] = s;
	return s;
}

/* A deep copy of @ev: one allocation, nodes then names and strings. */
static struct open_begin *copy_event(const struct tr_event *ev, int64_t pid, int64_t tid)
{
	size_t bytes = strlen(ev->name) + 1;
	struct open_begin *o;
	char *p;

	for (size_t i = 0; i < ev->nfields; i++) {
		const struct tr_node *n = &ev->fields[i];

		bytes += (n->name ? strlen(n->name) + 1 : 0) + (n->str ? n->len + 1 : 0);
	}
	o = malloc(sizeof(*o) + ev->nfields * sizeof(struct tr_node) + bytes);
	if (!o)
		return NULL;
	p = (char *)(o->nodes + ev->nfields);
	memcpy(o->nodes, ev->fields, ev->nfields * sizeof(struct tr_node));
	for (size_t i = 0; i < ev->nfields; i++) {
		struct tr_node *n = &o->nodes[i];

		if (n->name) {
			size_t l = strlen(n->name) + 1;

			memcpy(p, n->name, l);
			n->name = p;
			p += l;
		}
		if (n->str) {
			memcpy(p, n->str, n->len);
			p[n->len] = 0;
			n->str = p;
			p += n->len + 1;
		}
	}
	strcpy(p, ev->name);
	o->ev = (struct pair_event){.ts = ev->ts, .cpu = ev->cpu, .pid = pid, .tid = tid,
				    .proc = ev->proc,
				    .name = p, .fields = o->nodes, .nfields = ev->nfields,
				    .ncontext = ev->ncontext};
	o->below = NULL;
	return o;
}

int pair_feed(struct pair_matcher *pm, const struct tr_event *ev, struct pair_match *out)
{
	int is_begin, is_end, nomem;
	int64_t pid, tid;
	struct slot *s;
	char *key;

	free(pm->done);
	pm->done = NULL;
	if (ev->kind != TR_EVENT)
		return 0;
	is_begin = !strcmp(ev->name, pm->spec->begin);
	is_end = !strcmp(ev->name, pm->spec->end);
	if (!is_begin && !is_end)
		return 0;
	pid = ev->pid;
	tid = ev->tid;
	key = event_key(pm, ev, pid, tid, &nomem);
	if (!key) {
		if (nomem)
			return -1;
		pm->c.missing_key++;
		return 0;
	}
	/* BEGIN and END the same marker (a "tick"): each closes the previous one. */
	if (is_end) {
		s = find_slot(pm, key, 0);
		if (s && s->top) {
			struct open_begin *o = s->top;

			s->top = o->below;
			pm->c.open_begins--;
			pm->c.matched++;
			pm->done = o;
			out->begin = &o->ev;
			out->end = ev;
			out->pid = pid;
			out->tid = tid;
			out->latency_ns = ev->ts - o->ev.ts;
			if (is_begin)
				goto push; /* and opens the next */
			free(key);
			return 1;
		}
		if (!is_begin) {
			pm->c.orphan_ends++;
			free(key);
			return 0;
		}
	}
push:;
	struct open_begin *o = copy_event(ev, pid, tid);

	s = o ? find_slot(pm, key, 1) : NULL;
	free(key);
	if (!s) {
		free(o);
		return -1;
	}
	o->below = s->top;
	s->top = o;
	pm->c.open_begins++;
	return is_end && pm->done ? 1 : 0;
}

void pair_counts(const struct pair_matcher *pm, struct pair_counts *c)
{
	*c = pm->c;
}

void pair_matcher_free(struct pair_matcher *pm)
{
	if (!pm)
		return;
	for (size_t b = 0; b < NBUCKETS; b++)
		while (pm->buckets[b]) {
			struct slot *s = pm->buckets[b];

			pm->buckets[b] = s->next;
			while (s->top) {
				struct open_begin *o = s->top;

				s->top = o->below;
				free(o);
			}
			free(s->key);
			free(s);
		}
	free(pm->done);
	free(pm);
}
