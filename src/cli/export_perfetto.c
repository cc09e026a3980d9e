/*
 * export_perfetto.c - `markers export --format=perfetto DIR`: Perfetto's
 * native trace format, a stream of TracePacket messages (a `Trace` message
 * written one `packet` field at a time), which ui.perfetto.dev and
 * trace_processor open.  The fields used are in docs/perfetto/trace_subset.proto.
 *
 * What is written, on one packet sequence:
 *   - a first packet that clears the sequence's incremental state;
 *   - a process track per traced process (pid and name), and below it a
 *     thread track per thread id when events carry one (the tracer's `vtid`
 *     context), else a track per CPU;
 *   - each event: an instant TrackEvent on its track, named after the
 *     marker, category "markers", its fields as debug annotations;
 *   - each slice (--pair's, else export.h's guess from the names): a begin
 *     and an end on a slice track below its process, one track per
 *     overlapping slice ("lanes", merged by name in the UI), so slices never
 *     have to nest;
 *   - lost events: an instant "lost events" event, category "lost", with
 *     the counts, where the tracer reported them.
 * Marker, slice and field names are interned (sent once, then by number).
 *
 * Memory: one packet at a time, plus tables that grow with the distinct
 * names, threads, CPUs, lanes and open slices, not with the events.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "export.h"
#include "pbwriter.h"
#include "proc_select.h"

/* Field numbers: Perfetto's protos (see docs/perfetto/trace_subset.proto). */
enum {
	TRACE_PACKET = 1,
	/* TracePacket */
	PKT_TIMESTAMP = 8,
	PKT_SEQUENCE_ID = 10,
	PKT_TRACK_EVENT = 11,
	PKT_INTERNED_DATA = 12,
	PKT_SEQUENCE_FLAGS = 13,
	PKT_TRACK_DESCRIPTOR = 60,
	SEQ_INCREMENTAL_STATE_CLEARED = 1,
	SEQ_NEEDS_INCREMENTAL_STATE = 2,
	/* TrackDescriptor */
	TD_UUID = 1,
	TD_NAME = 2,
	TD_PROCESS = 3,
	TD_THREAD = 4,
	TD_PARENT_UUID = 5,
	PD_PID = 1,
	PD_PROCESS_NAME = 6,
	THD_PID = 1,
	THD_TID = 2,
	THD_THREAD_NAME = 5,
	/* TrackEvent */
	TE_CATEGORY_IIDS = 3,
	TE_DEBUG_ANNOTATIONS = 4,
	TE_TYPE = 9,
	TE_NAME_IID = 10,
	TE_TRACK_UUID = 11,
	TYPE_SLICE_BEGIN = 1,
	TYPE_SLICE_END = 2,
	TYPE_INSTANT = 3,
	/* DebugAnnotation */
	DA_NAME_IID = 1,
	DA_UINT = 3,
	DA_INT = 4,
	DA_DOUBLE = 5,
	DA_STRING = 6,
	DA_POINTER = 7,
	DA_DICT_ENTRIES = 11,
	DA_ARRAY_VALUES = 12,
	/* InternedData, and its entries' (iid = 1, name = 2) */
	ID_EVENT_CATEGORIES = 1,
	ID_EVENT_NAMES = 2,
	ID_DEBUG_ANNOTATION_NAMES = 3,
	INTERNED_IID = 1,
	INTERNED_NAME = 2,
};

enum { CAT_MARKERS = 1, CAT_LOST = 2 };

/* Our one packet sequence; any nonzero number. */
#define SEQUENCE_ID 1

/* Track uuids: a kind in the top byte, the number below. */
#define UUID_PROCESS(pid) (1ull << 56 | (uint32_t)(pid))
#define UUID_THREAD(tid) (2ull << 56 | ((uint64_t)(tid) & 0xffffffffffffull))
#define UUID_CPU(proc, cpu) (3ull << 56 | (uint64_t)(proc) << 24 | ((uint64_t)(cpu) & 0xffffff))
#define UUID_LANE(n) (4ull << 56 | (n))

/* ---- interned strings: one table per kind, iids from 1 ---- */

struct intern {
	char **keys; /* open addressing, NULL: free */
	uint64_t *iids;
	size_t cap, n;
};

/* The iid of @s (@len bytes), and 1 in *@fresh when it is new. 0: out of memory. */
static uint64_t intern(struct intern *in, const char *s, size_t len, int *fresh)
{
	size_t h = 1469598103u, i;

	*fresh = 0;
	if (2 * (in->n + 1) > in->cap) {
		size_t cap = in->cap ? in->cap * 2 : 256;
		char **keys = calloc(cap, sizeof(*keys));
		uint64_t *iids = calloc(cap, sizeof(*iids));

		if (!keys || !iids) {
			free(keys);
			free(iids);
			return 0;
		}
		for (i = 0; i < in->cap; i++) {
			size_t j, g = 1469598103u;

			if (!in->keys[i])
				continue;
			for (const char *p = in->keys[i]; *p; p++)
				g = (g ^ (unsigned char)*p) * 16777619u;
			for (j = g & (cap - 1); keys[j]; j = (j + 1) & (cap - 1))
				;
			keys[j] = in->keys[i];
			iids[j] = in->iids[i];
		}
		free(in->keys);
		free(in->iids);
		in->keys = keys;
		in->iids = iids;
		in->cap = cap;
	}
	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	for (i = h & (in->cap - 1); in->keys[i]; i = (i + 1) & (in->cap - 1))
		if (!strncmp(in->keys[i], s, len) && !in->keys[i][len])
			return in->iids[i];
	if (!(in->keys[i] = strndup(s, len)))
		return 0;
	in->iids[i] = ++in->n;
	*fresh = 1;
	return in->iids[i];
}

static void intern_free(struct intern *in)
{
	for (size_t i = 0; i < in->cap; i++)
		free(in->keys[i]);
	free(in->keys);
	free(in->iids);
}

/* ---- tracks seen: a set of uuids ---- */

struct uuid_set {
	uint64_t *v; /* open addressing, 0: free */
	size_t cap, n;
};

static size_t uuid_slot(const struct uuid_set *s, uint64_t u)
{
	size_t i = (u * 0x9e3779b97f4a7c15ull) >> 40 & (s->cap - 1);

	while (s->v[i] && s->v[i] != u)
		i = (i + 1) & (s->cap - 1);
	return i;
}

static int uuid_has(const struct uuid_set *s, uint64_t u)
{
	return s->cap && s->v[uuid_slot(s, u)] == u;
}

/* 1 if @u was there, 0 if added now, -1 out of memory. */
static int uuid_seen(struct uuid_set *s, uint64_t u)
{
	size_t i;

	if (2 * (s->n + 1) > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		uint64_t *v = calloc(cap, sizeof(*v));

		if (!v)
			return -1;
		struct uuid_set old = *s;

		s->v = v;
		s->cap = cap;
		for (i = 0; i < old.cap; i++)
			if (old.v[i])
				s->v[uuid_slot(s, old.v[i])] = old.v[i];
		free(old.v);
	}
	i = uuid_slot(s, u);
	if (s->v[i] == u)
		return 1;
	s->v[i] = u;
	s->n++;
	return 0;
}

/* ---- slice lanes: per slice name, tracks whose slices never overlap ---- */

struct lane {
	uint64_t uuid;
	int64_t pid; /* its process */
	int64_t last_end;
};

struct lanes {
	struct lane *v;
	size_t n, cap;
};

/* ---- the exporter's state ---- */

struct pf {
	FILE *f;
	struct pbw w;
	struct intern names, fields; /* event names, debug annotation names */
	struct uuid_set tracks;
	struct lanes *lanes; /* indexed by the slice name's iid */
	size_t nlanes_names;
	uint64_t next_lane;
	/* Interned since the last packet went out: sent in the next one's interned_data. */
	struct {
		unsigned kind; /* ID_EVENT_NAMES or ID_DEBUG_ANNOTATION_NAMES */
		uint64_t iid;
		const char *s;
		size_t len;
	} pending[256];
	size_t npending;
	struct tr_trace *t;
	int oom;
};

static uint64_t name_iid(struct pf *pf, unsigned kind, const char *s, size_t len)
{
	struct intern *in = kind == ID_EVENT_NAMES ? &pf->names : &pf->fields;
	int fresh;
	uint64_t iid = intern(in, s, len, &fresh);

	if (!iid) {
		pf->oom = 1;
		return 0;
	}
	if (fresh) {
		/* More new names than fit in one packet: a field repeated only. */
		if (pf->npending == sizeof(pf->pending) / sizeof(pf->pending[0])) {
			pf->oom = 1;
			return 0;
		}
		pf->pending[pf->npending].kind = kind;
		pf->pending[pf->npending].iid = iid;
		pf->pending[pf->npending].s = s;
		pf->pending[pf->npending].len = len;
		pf->npending++;
	}
	return iid;
}

/* Start a packet: Trace.packet, with our sequence. */
static void packet_begin(struct pf *pf, int64_t ts, unsigned flags)
{
	pbw_reset(&pf->w);
	pbw_begin(&pf->w, TRACE_PACKET);
	if (ts >= 0)
		pbw_uint(&pf->w, PKT_TIMESTAMP, (uint64_t)ts);
	pbw_uint(&pf->w, PKT_SEQUENCE_ID, SEQUENCE_ID);
	if (flags)
		pbw_uint(&pf->w, PKT_SEQUENCE_FLAGS, flags);
}

/* End the packet: its new interned names, then out to the file. */
static int packet_end(struct pf *pf)
{
	struct pbw *w = &pf->w;

	if (pf->npending) {
		pbw_begin(w, PKT_INTERNED_DATA);
		for (size_t i = 0; i < pf->npending; i++) {
			pbw_begin(w, pf->pending[i].kind);
			pbw_uint(w, INTERNED_IID, pf->pending[i].iid);
			pbw_utf8(w, INTERNED_NAME, pf->pending[i].s, pf->pending[i].len);
			pbw_end(w);
		}
		pbw_end(w);
	}
	pbw_end(w);
	if (w->error || pf->oom)
		return -1;
	pf->npending = 0;
	fwrite(w->buf, 1, w->len, pf->f);
	return 0;
}

/* A TrackDescriptor packet. */
static int track(struct pf *pf, uint64_t uuid, uint64_t parent, const char *name, int64_t pid,
		 int64_t tid)
{
	struct pbw *w = &pf->w;

	packet_begin(pf, -1, 0);
	pbw_begin(w, PKT_TRACK_DESCRIPTOR);
	pbw_uint(w, TD_UUID, uuid);
	if (parent)
		pbw_uint(w, TD_PARENT_UUID, parent);
	if (tid >= 0) {
		pbw_begin(w, TD_THREAD);
		pbw_int(w, THD_PID, pid);
		pbw_int(w, THD_TID, tid);
		if (name)
			pbw_utf8(w, THD_THREAD_NAME, name, strlen(name));
		pbw_end(w);
	} else if (!parent) {
		pbw_begin(w, TD_PROCESS);
		pbw_int(w, PD_PID, pid);
		if (name)
			pbw_utf8(w, PD_PROCESS_NAME, name, strlen(name));
		pbw_end(w);
	} else if (name) {
		pbw_utf8(w, TD_NAME, name, strlen(name));
	}
	pbw_end(w);
	return packet_end(pf);
}

/* One value as a DebugAnnotation (its name already written); returns the next node. */
static size_t annotation_value(struct pf *pf, const struct tr_node *n, size_t i, size_t count);

static size_t annotation(struct pf *pf, unsigned field, const struct tr_node *n, size_t i,
			 size_t count)
{
	pbw_begin(&pf->w, field);
	if (n[i].name)
		pbw_uint(&pf->w, DA_NAME_IID,
			 name_iid(pf, ID_DEBUG_ANNOTATION_NAMES, n[i].name, strlen(n[i].name)));
	i = annotation_value(pf, n, i, count);
	pbw_end(&pf->w);
	return i;
}

static size_t annotation_value(struct pf *pf, const struct tr_node *n, size_t i, size_t count)
{
	const struct tr_node *v = &n[i];
	struct pbw *w = &pf->w;

	switch (v->kind) {
	case TR_SIGNED:
		pbw_int(w, DA_INT, v->s);
		break;
	case TR_UNSIGNED:
		pbw_uint(w, v->base == 16 ? DA_POINTER : DA_UINT, v->u);
		break;
	case TR_FLOAT:
		pbw_double(w, DA_DOUBLE, v->d);
		break;
	case TR_STRING:
		pbw_utf8(w, DA_STRING, v->str, v->len);
		break;
	case TR_ENUM:
		if (v->str)
			pbw_utf8(w, DA_STRING, v->str, strlen(v->str));
		else if (v->is_signed)
			pbw_int(w, DA_INT, v->s);
		else
			pbw_uint(w, DA_UINT, v->u);
		break;
	case TR_BEGIN_STRUCT:
	case TR_BEGIN_ARRAY:
		for (i++; i < count && n[i].kind != TR_END;)
			i = annotation(pf, v->kind == TR_BEGIN_STRUCT ? DA_DICT_ENTRIES
								      : DA_ARRAY_VALUES,
				       n, i, count);
		break;
	case TR_END:
		break;
	}
	return i + 1;
}

/* ---- where an event goes ---- */

/* The process of @ev: its pid, else a number for its trace (as the JSON export). */
static int64_t ev_pid(const struct tr_event *ev)
{
	return ev->pid >= 0 ? ev->pid : (int64_t)ev->proc + 1;
}

/* The process track of @pid, declared on first use; 0: out of memory. */
static uint64_t process_track(struct pf *pf, int64_t pid, unsigned proc)
{
	uint64_t uuid = UUID_PROCESS(pid);
	int seen = uuid_seen(&pf->tracks, uuid);

	if (seen < 0 || (!seen && track(pf, uuid, 0, tr_proc(pf->t, proc)->name, pid, -1) < 0))
		return 0;
	return uuid;
}

/* The track of @ev: its thread's, else its CPU's; declared on first use. */
static uint64_t event_track(struct pf *pf, const struct tr_event *ev)
{
	int64_t pid = ev_pid(ev);
	uint64_t proc = process_track(pf, pid, ev->proc), uuid;
	const char *pname = tr_proc(pf->t, ev->proc)->name;
	char name[40];
	int seen;

	if (!proc)
		return 0;
	if (ev->tid >= 0) {
		/* Threads are named after their process, as the kernel names them. */
		uuid = UUID_THREAD(ev->tid);
		seen = uuid_seen(&pf->tracks, uuid);
		if (!seen && track(pf, uuid, proc, pname, pid, ev->tid) < 0)
			return 0;
	} else {
		uuid = UUID_CPU(ev->proc, ev->cpu);
		snprintf(name, sizeof(name), "cpu %" PRId64, ev->cpu);
		seen = uuid_seen(&pf->tracks, uuid);
		if (!seen && track(pf, uuid, proc, name, pid, -1) < 0)
			return 0;
	}
	return seen < 0 ? 0 : uuid;
}

/*
 * The fields of @ev as debug annotations (@field: TrackEvent's, or a dict's
 * entries), but the ids that are its track already.
 */
static void fields(struct pf *pf, unsigned field, const struct tr_event *ev)
{
	for (size_t i = 0; i < ev->nfields;) {
		const struct tr_node *n = &ev->fields[i];

		if (i < ev->ncontext && n->name && (n->kind == TR_SIGNED || n->kind == TR_UNSIGNED) &&
		    (!strcmp(n->name, "vtid") || !strcmp(n->name, "vpid"))) {
			i++;
			continue;
		}
		i = annotation(pf, field, ev->fields, i, ev->nfields);
	}
}

static void annotations(struct pf *pf, const struct tr_event *ev)
{
	fields(pf, TE_DEBUG_ANNOTATIONS, ev);
}

/* The fields of @ev as one annotation, a dict named @name. */
static void annotation_dict(struct pf *pf, const char *name, const struct tr_event *ev)
{
	pbw_begin(&pf->w, TE_DEBUG_ANNOTATIONS);
	pbw_uint(&pf->w, DA_NAME_IID, name_iid(pf, ID_DEBUG_ANNOTATION_NAMES, name, strlen(name)));
	fields(pf, DA_DICT_ENTRIES, ev);
	pbw_end(&pf->w);
}

/* The instant event of @ev on @uuid: its payload as debug annotations. */
static int instant(struct pf *pf, const struct tr_event *ev, uint64_t uuid)
{
	struct pbw *w = &pf->w;

	packet_begin(pf, ev->ts, SEQ_NEEDS_INCREMENTAL_STATE);
	pbw_begin(w, PKT_TRACK_EVENT);
	pbw_uint(w, TE_TYPE, TYPE_INSTANT);
	pbw_uint(w, TE_TRACK_UUID, uuid);
	pbw_uint(w, TE_CATEGORY_IIDS, CAT_MARKERS);
	pbw_uint(w, TE_NAME_IID, name_iid(pf, ID_EVENT_NAMES, ev->name, strlen(ev->name)));
	annotations(pf, ev);
	pbw_end(w);
	return packet_end(pf);
}

static int lost(struct pf *pf, const struct tr_event *ev, uint64_t uuid)
{
	static const char *const keys[] = {"events", "packets", "cpu"};
	struct pbw *w = &pf->w;
	int64_t vals[3] = {(int64_t)ev->lost_events, (int64_t)ev->lost_packets, ev->cpu};

	packet_begin(pf, ev->ts, SEQ_NEEDS_INCREMENTAL_STATE);
	pbw_begin(w, PKT_TRACK_EVENT);
	pbw_uint(w, TE_TYPE, TYPE_INSTANT);
	pbw_uint(w, TE_TRACK_UUID, uuid);
	pbw_uint(w, TE_CATEGORY_IIDS, CAT_LOST);
	pbw_uint(w, TE_NAME_IID, name_iid(pf, ID_EVENT_NAMES, "lost events", 11));
	for (int i = 0; i < 3; i++) {
		pbw_begin(w, TE_DEBUG_ANNOTATIONS);
		pbw_uint(w, DA_NAME_IID,
			 name_iid(pf, ID_DEBUG_ANNOTATION_NAMES, keys[i], strlen(keys[i])));
		pbw_int(w, DA_INT, vals[i]);
		pbw_end(w);
	}
	pbw_end(w);
	return packet_end(pf);
}

/*
 * A slice of process @pid (trace @procn) from @start to @ev's time, named
 * @sname (@prefix bytes), on the first lane of that name whose last slice ended
 * before @start.  Slices come in the order of their ends, so a lane's last
 * slice ends last.  With @begin (--pair), both events' fields go with it as
 * the dicts "begin" and "end"; else the end's fields, as they are.
 */
static int slice(struct pf *pf, const char *sname, size_t prefix, int64_t start, int64_t pid,
		 unsigned procn, const struct tr_event *begin, const struct tr_event *ev)
{
	struct pbw *w = &pf->w;
	uint64_t iid, proc = process_track(pf, pid, procn);
	struct lanes *ls;
	struct lane *l = NULL;
	char *name;
	int rc;

	/* Interned outside a packet: goes out with the next packet, the lane's or the begin's. */
	if (!proc || !(iid = name_iid(pf, ID_EVENT_NAMES, sname, prefix)))
		return -1;
	if (iid >= pf->nlanes_names) {
		size_t n = iid * 2;
		struct lanes *m = realloc(pf->lanes, n * sizeof(*m));

		if (!m)
			return -1;
		memset(m + pf->nlanes_names, 0, (n - pf->nlanes_names) * sizeof(*m));
		pf->lanes = m;
		pf->nlanes_names = n;
	}
	ls = &pf->lanes[iid];
	for (size_t i = 0; i < ls->n; i++)
		if (ls->v[i].pid == pid && ls->v[i].last_end < start) {
			l = &ls->v[i];
			break;
		}
	if (!l) {
		if (ls->n == ls->cap) {
			size_t cap = ls->cap ? ls->cap * 2 : 4;
			struct lane *m = realloc(ls->v, cap * sizeof(*m));

			if (!m)
				return -1;
			ls->v = m;
			ls->cap = cap;
		}
		l = &ls->v[ls->n++];
		l->uuid = UUID_LANE(++pf->next_lane);
		l->pid = pid;
		if (!(name = strndup(sname, prefix)))
			return -1;
		rc = track(pf, l->uuid, proc, name, pid, -1);
		free(name);
		if (rc < 0)
			return -1;
	}
	l->last_end = ev->ts;
	packet_begin(pf, start, SEQ_NEEDS_INCREMENTAL_STATE);
	pbw_begin(w, PKT_TRACK_EVENT);
	pbw_uint(w, TE_TYPE, TYPE_SLICE_BEGIN);
	pbw_uint(w, TE_TRACK_UUID, l->uuid);
	pbw_uint(w, TE_CATEGORY_IIDS, CAT_MARKERS);
	pbw_uint(w, TE_NAME_IID, iid);
	if (begin)
		annotation_dict(pf, "begin", begin);
	pbw_end(w);
	if (packet_end(pf) < 0)
		return -1;
	packet_begin(pf, ev->ts, SEQ_NEEDS_INCREMENTAL_STATE);
	pbw_begin(w, PKT_TRACK_EVENT);
	pbw_uint(w, TE_TYPE, TYPE_SLICE_END);
	pbw_uint(w, TE_TRACK_UUID, l->uuid);
	if (begin)
		annotation_dict(pf, "end", ev);
	else
		annotations(pf, ev); /* the end's fields become the slice's arguments */
	pbw_end(w);
	return packet_end(pf);
}

/* The first packet: a cleared sequence, the categories; then the processes. */
static int start(struct pf *pf)
{
	static const char *const cats[] = {NULL, "markers", "lost"};
	struct pbw *w = &pf->w;

	packet_begin(pf, -1, SEQ_INCREMENTAL_STATE_CLEARED);
	pbw_begin(w, PKT_INTERNED_DATA);
	for (unsigned i = CAT_MARKERS; i <= CAT_LOST; i++) {
		pbw_begin(w, ID_EVENT_CATEGORIES);
		pbw_uint(w, INTERNED_IID, i);
		pbw_str(w, INTERNED_NAME, cats[i]);
		pbw_end(w);
	}
	pbw_end(w);
	if (packet_end(pf) < 0)
		return -1;
	for (unsigned p = 0; p < tr_nprocs(pf->t); p++) {
		const struct tr_process *pi = tr_proc(pf->t, p);

		if ((!tr_select_active(pf->t) || pi->selected) &&
		    !process_track(pf, pi->pid >= 0 ? pi->pid : (int64_t)p + 1, p))
			return -1;
	}
	return 0;
}

/* A pair of --pair: a slice named after its BEGIN (less a _start-like suffix). */
static int pair_slice(struct pf *pf, const struct pair_match *m)
{
	const struct pair_event *b = m->begin;
	struct tr_event be = {.pid = b->pid, .tid = b->tid, .cpu = b->cpu, .proc = b->proc,
			      .ts = b->ts, .name = b->name, .fields = b->fields,
			      .nfields = b->nfields, .ncontext = b->ncontext};
	size_t prefix;

	if (pair_role(b->name, &prefix) != PAIR_START)
		prefix = strlen(b->name);
	return slice(pf, b->name, prefix, b->ts, ev_pid(&be), b->proc, &be, m->end);
}

int export_perfetto(struct tr_trace *t, FILE *f, const char *dir, int pairs_on,
		    const struct pair_opts *po)
{
	struct pf pf = {.f = f, .t = t};
	struct pairs p;
	uint64_t nevents = 0, nlost = 0;
	struct tr_event ev;
	int rc = 0, status = 0;

	pbw_init(&pf.w);
	if (pairs_init(&p) < 0 || start(&pf) < 0)
		goto oom;
	while ((rc = tr_next(t, &ev)) > 0) {
		struct slice_start ss;
		size_t prefix;
		uint64_t uuid;

		if (ev.kind == TR_LOST) {
			/* On the CPU's track if there is one, else the process's. */
			uuid = UUID_CPU(ev.proc, ev.cpu);
			if (!uuid_has(&pf.tracks, uuid))
				uuid = process_track(&pf, ev_pid(&ev), ev.proc);
			if (!uuid || lost(&pf, &ev, uuid) < 0)
				goto oom;
			nlost += ev.lost_events;
			continue;
		}
		nevents++;
		if (!(uuid = event_track(&pf, &ev)) || instant(&pf, &ev, uuid) < 0)
			goto oom;
		if (!pairs_on)
			continue;
		/* --pair: these pairs, and no guess from the names. */
		for (size_t i = 0; i < po->n && rc >= 0; i++) {
			struct pair_match m;

			rc = pair_feed(po->pm[i], &ev, &m);
			if (rc > 0 && (rc = pair_slice(&pf, &m)) == 0)
				p.emitted++;
		}
		if (rc < 0)
			goto oom;
		switch (po->n ? PAIR_NONE : pair_role(ev.name, &prefix)) {
		case PAIR_START:
			rc = pair_start(&p, &ev, prefix);
			break;
		case PAIR_END:
			rc = pair_end(&p, &ev, prefix, &ss);
			if (rc > 0)
				rc = slice(&pf, ev.name, prefix, ss.ts, ss.pid, ss.proc, NULL, &ev);
			break;
		case PAIR_NONE:
			break;
		}
		if (rc < 0)
			goto oom;
	}
	if (rc < 0) {
		/* Every packet written is whole: the output is a valid trace of what was read. */
		fprintf(stderr, "%s export: %s\n", cli_progname, tr_error(t));
		status = 1;
	} else {
		fprintf(stderr, "%s export: %" PRIu64 " events, %" PRIu64 " slices, %" PRIu64
				" lost\n",
			cli_progname, nevents, p.emitted, nlost);
		pair_opts_report(po);
	}
	warn_unfinished(t, "export");
	goto out;
oom:
	fprintf(stderr, "%s export: out of memory (%s)\n", cli_progname, dir);
	status = 1;
out:
	pairs_free(&p);
	pbw_free(&pf.w);
	intern_free(&pf.names);
	intern_free(&pf.fields);
	free(pf.tracks.v);
	for (size_t i = 0; i < pf.nlanes_names; i++)
		free(pf.lanes[i].v);
	free(pf.lanes);
	return status;
}
