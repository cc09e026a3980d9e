/*
 * trace_reader.c - decode CTF 1.8 stream files by their metadata, and merge
 * the streams in timestamp order.
 *
 * Each stream file is mapped whole.  A stream keeps a cursor in bits inside
 * its current packet; every read is checked against the packet's content
 * size, so garbage in a file becomes an error message, never a read past
 * the mapping.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace_reader.h"

#define CTF_MAGIC 0xC1FC1FC1u
#define MAX_SCOPE 256     /* integers remembered per event, for variant tags and lengths */
#define MAX_NODES 65536   /* decoded values per event */

struct scope_ent {
	const char *name;
	uint64_t v;
	const char *label; /* enums */
};

struct stream {
	char *name;
	const uint8_t *map;
	size_t size;
	size_t pkt_off, next_off; /* bytes: the current packet, the next one */
	size_t dropped;           /* bytes before this are read and their pages given back */
	const uint8_t *pkt;
	uint64_t bit, content_end;  /* bits from pkt */
	uint64_t pkt_index, npackets;
	const struct tm_stream *sc;
	const struct tm_trace *meta; /* of the process trace the stream belongs to */
	unsigned proc;
	int64_t cpu;
	uint64_t clock; /* the stream's clock value, in cycles */
	uint64_t discarded;
	uint64_t seq;
	int have_seq;
	int in_packet, done;
	int in_header; /* decoding the event header: clock fields update the clock */
	int emit;      /* decoding fields that the event shows */
	unsigned depth;
	struct scope_ent scope[MAX_SCOPE];
	size_t nscope, nscope_packet;
	struct tr_event ev; /* the stream's next event */
	struct tr_node *nodes;
	size_t nnodes, cap;
	char err[256];
};

/* One process's trace (a directory with a metadata file). */
struct proc {
	struct tr_process info;
	struct tm_trace meta;
	char *meta_text;
	size_t meta_size;
};

struct tr_trace {
	char *dir;
	struct proc *procs;
	size_t nprocs;
	size_t proc_cap;
	struct stream *streams;
	size_t nstreams, cap;
	int selecting; /* tr_select() was called */
	unsigned *heap; /* streams with an event, by (ts, index) */
	size_t nheap;
	int started;
	unsigned last; /* the stream whose event was returned last */
	uint64_t size;
	char err[512];
};

/* ---- bits ---- */

static uint64_t rd_bits(const uint8_t *p, uint64_t bit, unsigned len, int be)
{
	const uint8_t *b = p + bit / 8;
	unsigned off = bit % 8, got = 0;
	uint64_t v = 0;

	if (!off && !be && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) {
		uint32_t x32;

		switch (len) {
		case 8:
			return b[0];
		case 16:
			return (uint64_t)b[0] | (uint64_t)b[1] << 8;
		case 32:
			memcpy(&x32, b, 4);
			return x32;
		case 64:
			memcpy(&v, b, 8);
			return v;
		}
	}
	while (got < len) {
		unsigned take = 8 - off < len - got ? 8 - off : len - got;
		uint64_t chunk;

		if (be) {
			chunk = (*b >> (8 - off - take)) & ((1u << take) - 1);
			v = take == 64 ? chunk : v << take | chunk;
		} else {
			chunk = (*b >> off) & ((1u << take) - 1);
			v |= chunk << got;
		}
		got += take;
		off += take;
		if (off == 8) {
			off = 0;
			b++;
		}
	}
	return v;
}

/* ---- errors ---- */

static __attribute__((format(printf, 2, 3))) int serr(struct stream *s, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(s->err, sizeof(s->err), "%s: packet %llu at byte %zu: ", s->name,
			 (unsigned long long)s->pkt_index, s->pkt_off);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < sizeof(s->err))
		vsnprintf(s->err + n, sizeof(s->err) - n, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- decoding ---- */

static struct tr_node *node(struct stream *s, enum tr_node_kind kind, const char *name)
{
	struct tr_node *n;

	if (s->nnodes == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct tr_node *m;

		if (cap > MAX_NODES)
			return NULL;
		m = realloc(s->nodes, cap * sizeof(*m));
		if (!m)
			return NULL;
		s->nodes = m;
		s->cap = cap;
	}
	n = &s->nodes[s->nnodes++];
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	if (name && name[0] == '_')
		name++;
	n->name = name;
	return n;
}

static void remember(struct stream *s, const char *name, uint64_t v, const char *label)
{
	if (!name || s->nscope == MAX_SCOPE)
		return;
	s->scope[s->nscope].name = name;
	s->scope[s->nscope].v = v;
	s->scope[s->nscope++].label = label;
}

/*
 * The integer named by the last component of @path that was decoded most
 * recently, at or after scope entry @from.  Good enough for the paths of
 * real metadata (`id`, `stream.event.header.id`, `_len`).
 */
static const struct scope_ent *recall_from(const struct stream *s, size_t from, const char *path)
{
	const char *last = strrchr(path, '.');

	last = last ? last + 1 : path;
	for (size_t i = s->nscope; i-- > from;)
		if (!strcmp(s->scope[i].name, last))
			return &s->scope[i];
	return NULL;
}

static const struct scope_ent *recall(const struct stream *s, const char *path)
{
	return recall_from(s, 0, path);
}

static int be_of(const struct stream *s, const struct tm_type *ty)
{
	enum tm_byte_order o = ty->byte_order == TM_NATIVE ? s->meta->byte_order : ty->byte_order;

	return o == TM_BE;
}

static int need(struct stream *s, uint64_t bits)
{
	if (s->bit > s->content_end || bits > s->content_end - s->bit)
		return serr(s, "truncated event (%llu bits past the packet's content)",
			    (unsigned long long)(s->bit + bits - s->content_end));
	return 0;
}

static void align_to(struct stream *s, unsigned a)
{
	s->bit = (s->bit + a - 1) / a * a;
}

static int decode(const struct tr_trace *t, struct stream *s, const struct tm_type *ty,
		  const char *name, int top);

static int decode_int(const struct tr_trace *t, struct stream *s, const struct tm_type *ty,
		      const char *name, uint64_t *out)
{
	uint64_t v;

	align_to(s, ty->align);
	if (need(s, ty->size))
		return -1;
	v = rd_bits(s->pkt, s->bit, ty->size, be_of(s, ty));
	s->bit += ty->size;
	if (ty->is_signed && ty->size < 64 && (v >> (ty->size - 1)) & 1)
		v |= ~0ull << ty->size;
	if (s->in_header && (ty->clock_map || (name && !strcmp(name, "timestamp")))) {
		/* CTF: a clock field narrower than 64 bits holds the low bits. */
		if (ty->size >= 64) {
			s->clock = v;
		} else {
			uint64_t mask = (1ull << ty->size) - 1, n = (s->clock & ~mask) | v;

			if (n < s->clock)
				n += mask + 1;
			s->clock = n;
		}
	}
	*out = v;
	return 0;
}

static int decode_array(const struct tr_trace *t, struct stream *s, const struct tm_type *ty,
			const char *name, uint64_t n)
{
	const struct tm_type *e = ty->elem;
	struct tr_node *nd;

	if (n && e->kind != TM_STRUCT && (e->size ? n > (s->content_end - s->bit) / e->size
						  : n > s->content_end - s->bit))
		return serr(s, "array '%s' of %llu elements runs past the packet", name,
			    (unsigned long long)n);
	if (e->kind == TM_INT && e->size == 8 && e->encoded) {
		/* Text: a string up to its first NUL. */
		const uint8_t *p;

		align_to(s, e->align);
		if (need(s, n * 8))
			return -1;
		p = s->pkt + s->bit / 8;
		if (s->emit) {
			const uint8_t *z = memchr(p, 0, n);

			if (!(nd = node(s, TR_STRING, name)))
				return serr(s, "too many fields");
			nd->str = (const char *)p;
			nd->len = z ? (size_t)(z - p) : n;
		}
		s->bit += n * 8;
		return 0;
	}
	if (s->emit && !(nd = node(s, TR_BEGIN_ARRAY, name)))
		return serr(s, "too many fields");
	for (uint64_t i = 0; i < n; i++)
		if (decode(t, s, e, NULL, 0))
			return -1;
	if (s->emit && !node(s, TR_END, NULL))
		return serr(s, "too many fields");
	return 0;
}

static int decode(const struct tr_trace *t, struct stream *s, const struct tm_type *ty,
		  const char *name, int top)
{
	struct tr_node *nd;
	uint64_t v;

	switch (ty->kind) {
	case TM_INT:
		if (decode_int(t, s, ty, name, &v))
			return -1;
		remember(s, name, v, NULL);
		if (s->emit) {
			if (!(nd = node(s, ty->is_signed ? TR_SIGNED : TR_UNSIGNED, name)))
				return serr(s, "too many fields");
			nd->u = v;
			nd->base = ty->base;
		}
		return 0;
	case TM_ENUM: {
		const char *label = NULL;

		if (decode_int(t, s, ty->container, name, &v))
			return -1;
		for (size_t i = 0; i < ty->nmaps && !label; i++) {
			const struct tm_enum_map *m = &ty->maps[i];

			if (ty->container->is_signed ? (int64_t)v >= m->lo && (int64_t)v <= m->hi
						     : v >= (uint64_t)m->lo && v <= (uint64_t)m->hi)
				label = m->label;
		}
		remember(s, name, v, label);
		if (s->emit) {
			if (!(nd = node(s, TR_ENUM, name)))
				return serr(s, "too many fields");
			nd->u = v;
			nd->str = label;
			nd->len = label ? strlen(label) : 0;
			nd->is_signed = ty->container->is_signed;
		}
		return 0;
	}
	case TM_FLOAT:
		align_to(s, ty->align);
		if (need(s, ty->size))
			return -1;
		v = rd_bits(s->pkt, s->bit, ty->size, be_of(s, ty));
		s->bit += ty->size;
		if (s->emit) {
			if (!(nd = node(s, TR_FLOAT, name)))
				return serr(s, "too many fields");
			nd->base = ty->size;
			if (ty->size == 32) {
				uint32_t u = (uint32_t)v;
				float f;

				memcpy(&f, &u, 4);
				nd->d = f;
			} else {
				memcpy(&nd->d, &v, 8);
			}
		}
		return 0;
	case TM_STRING: {
		const uint8_t *p, *z;

		align_to(s, 8);
		if (need(s, 8))
			return -1;
		p = s->pkt + s->bit / 8;
		z = memchr(p, 0, s->content_end / 8 - s->bit / 8);
		if (!z)
			return serr(s, "unterminated string '%s'", name ? name : "");
		if (s->emit) {
			if (!(nd = node(s, TR_STRING, name)))
				return serr(s, "too many fields");
			nd->str = (const char *)p;
			nd->len = z - p;
		}
		s->bit += (uint64_t)(z - p + 1) * 8;
		return 0;
	}
	case TM_STRUCT:
		align_to(s, ty->align);
		if (!top && s->emit && !node(s, TR_BEGIN_STRUCT, name))
			return serr(s, "too many fields");
		for (size_t i = 0; i < ty->nfields; i++)
			if (decode(t, s, ty->fields[i].type, ty->fields[i].name, 0))
				return -1;
		if (!top && s->emit && !node(s, TR_END, NULL))
			return serr(s, "too many fields");
		return 0;
	case TM_VARIANT: {
		const struct scope_ent *tag = ty->tag ? recall(s, ty->tag) : NULL;

		if (!tag || !tag->label)
			return serr(s, "variant '%s': no enum tag '%s'", name ? name : "",
				    ty->tag ? ty->tag : "");
		for (size_t i = 0; i < ty->nfields; i++)
			if (!strcmp(ty->fields[i].name, tag->label))
				return decode(t, s, ty->fields[i].type, name, 0);
		return serr(s, "variant '%s' has no option '%s'", name ? name : "", tag->label);
	}
	case TM_ARRAY:
		return decode_array(t, s, ty, name, ty->length);
	case TM_SEQUENCE: {
		const struct scope_ent *len = recall(s, ty->length_ref);

		if (!len)
			return serr(s, "sequence '%s': no length '%s'", name ? name : "",
				    ty->length_ref);
		return decode_array(t, s, ty, name, len->v);
	}
	}
	return serr(s, "unknown type");
}

/* Cycles to ns as babeltrace2 does it (a double, truncated), so both tools agree to the ns. */
static uint64_t cycles_ns(uint64_t freq, uint64_t v)
{
	double d;

	if (freq == 1000000000)
		return v;
	d = 1e9 * (double)v / (double)freq;
	return d >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)d;
}

static int64_t to_ns(const struct tm_clock *c, uint64_t cycles)
{
	/* The offset in cycles is first brought into [0, 1 s), the rest into offset_s. */
	int64_t s = c->offset_s, off = c->offset, freq = (int64_t)c->freq;

	if (off < 0) {
		int64_t k = (-(off + 1)) / freq + 1;

		s -= k;
		off += k * freq;
	}
	s += off / freq;
	off %= freq;
	return s * 1000000000 + (int64_t)cycles_ns(c->freq, (uint64_t)off) +
	       (int64_t)cycles_ns(c->freq, cycles);
}

/* Open the packet at s->next_off, or mark the stream done. */
static int open_packet(struct tr_trace *t, struct stream *s, int *lost)
{
	const struct scope_ent *e;
	uint64_t psize, csize;

	*lost = 0;
	s->in_packet = 0;
	if (s->next_off >= s->size) {
		s->done = 1;
		return 0;
	}
	s->pkt_index = s->npackets++;
	s->pkt_off = s->next_off;
	/*
	 * Packets behind us are never read again: give their pages back (they
	 * come from the file again if they were), so that a trace of any size
	 * is read in bounded memory.  A megabyte at a time.
	 */
	if (s->pkt_off - s->dropped >= (1u << 20)) {
		size_t to = s->pkt_off & ~((size_t)sysconf(_SC_PAGESIZE) - 1);

		madvise((void *)(s->map + s->dropped), to - s->dropped, MADV_DONTNEED);
		s->dropped = to;
	}
	s->pkt = s->map + s->pkt_off;
	s->bit = 0;
	/* Until the context says how big the packet is: the rest of the file. */
	s->content_end = (uint64_t)(s->size - s->pkt_off) * 8;
	s->nscope = 0;
	s->nnodes = 0;
	s->emit = 0;
	s->in_header = 0;
	if (s->meta->packet_header && decode(t, s, s->meta->packet_header, NULL, 1))
		return -1;
	e = recall(s, "magic");
	if (e && e->v != CTF_MAGIC)
		return serr(s, "bad magic 0x%08llx (not a CTF stream, or garbled)",
			    (unsigned long long)e->v);
	e = recall(s, "stream_id");
	s->sc = e ? tm_stream_find(s->meta, e->v) : s->meta->nstreams ? &s->meta->streams[0] : NULL;
	if (!s->sc)
		return serr(s, "unknown stream id %llu", e ? (unsigned long long)e->v : 0ull);
	if (s->sc->packet_context && decode(t, s, s->sc->packet_context, NULL, 1))
		return -1;
	e = recall(s, "packet_size");
	psize = e ? e->v : (uint64_t)(s->size - s->pkt_off) * 8;
	e = recall(s, "content_size");
	csize = e ? e->v : psize;
	if (psize % 8 || !psize || csize > psize || csize < s->bit)
		return serr(s, "bad packet size %llu / content size %llu bits",
			    (unsigned long long)psize, (unsigned long long)csize);
	if (psize / 8 > s->size - s->pkt_off)
		return serr(s, "truncated: the packet has %llu bytes, the file %zu after it",
			    (unsigned long long)psize / 8, s->size - s->pkt_off);
	s->content_end = csize;
	s->next_off = s->pkt_off + psize / 8;
	e = recall(s, "cpu_id");
	s->cpu = e ? (int64_t)e->v : -1;
	e = recall(s, "timestamp_begin");
	if (e)
		s->clock = e->v;
	e = recall(s, "events_discarded");
	s->ev.lost_events = s->ev.lost_packets = 0;
	if (e) {
		if (e->v > s->discarded)
			s->ev.lost_events = e->v - s->discarded;
		s->discarded = e->v;
	}
	e = recall(s, "packet_seq_num");
	if (e) {
		if (s->have_seq && e->v > s->seq + 1)
			s->ev.lost_packets = e->v - s->seq - 1;
		s->seq = e->v;
		s->have_seq = 1;
	}
	s->nscope_packet = s->nscope;
	s->in_packet = 1;
	if (s->ev.lost_events || s->ev.lost_packets) {
		s->ev.kind = TR_LOST;
		s->ev.cycles = s->clock;
		s->ev.ts = to_ns(&s->meta->clock, s->clock);
		s->ev.cpu = s->cpu;
		s->ev.name = NULL;
		s->ev.nfields = s->ev.ncontext = 0;
		s->ev.tid = -1;
		s->ev.pid = t->procs[s->proc].info.pid;
		*lost = 1;
	}
	return 0;
}

/* Decode the stream's next event into s->ev.  Returns 1, 0 at its end, -1. */
static int advance(struct tr_trace *t, struct stream *s)
{
	const struct tm_stream *sc;
	const struct tm_event *cls;
	const struct scope_ent *e;
	int lost;

	for (;;) {
		if (s->done)
			return 0;
		if (!s->in_packet) {
			if (open_packet(t, s, &lost))
				return -1;
			if (lost)
				return 1;
			continue;
		}
		sc = s->sc;
		if (sc->event_header)
			align_to(s, sc->event_header->align);
		if (s->bit >= s->content_end) {
			s->in_packet = 0;
			continue;
		}
		break;
	}
	s->nscope = s->nscope_packet;
	s->nnodes = 0;
	s->emit = 0;
	s->in_header = 1;
	if (sc->event_header && decode(t, s, sc->event_header, NULL, 1))
		return -1;
	s->in_header = 0;
	e = recall_from(s, s->nscope_packet, "id");
	if (e)
		cls = tm_event_find(sc, e->v);
	else
		cls = sc->nevents == 1 ? sc->events[0] : NULL;
	if (!cls)
		return serr(s, "event id %llu is not declared in the metadata",
			    e ? (unsigned long long)e->v : 0ull);
	s->emit = 1;
	if (sc->event_context && decode(t, s, sc->event_context, NULL, 1))
		return -1;
	if (cls->context && decode(t, s, cls->context, NULL, 1))
		return -1;
	s->ev.ncontext = s->nnodes;
	s->ev.tid = -1;
	s->ev.pid = t->procs[s->proc].info.pid;
	for (size_t i = 0; i < s->nnodes; i++) {
		const struct tr_node *n = &s->nodes[i];

		if (n->kind != TR_SIGNED && n->kind != TR_UNSIGNED)
			continue;
		if (!n->name)
			continue;
		if (!strcmp(n->name, "vtid") || !strcmp(n->name, "tid"))
			s->ev.tid = n->s;
		else if (!strcmp(n->name, "vpid") || !strcmp(n->name, "pid"))
			s->ev.pid = n->s;
	}
	if (cls->fields && decode(t, s, cls->fields, NULL, 1))
		return -1;
	s->ev.kind = TR_EVENT;
	s->ev.cycles = s->clock;
	s->ev.ts = to_ns(&s->meta->clock, s->clock);
	s->ev.cpu = s->cpu;
	s->ev.name = cls->name;
	s->ev.id = cls->id;
	s->ev.cls = cls;
	s->ev.fields = s->nodes;
	s->ev.nfields = s->nnodes;
	return 1;
}

/* ---- the merge: a binary min-heap of stream indexes ---- */

static int before(const struct tr_trace *t, unsigned a, unsigned b)
{
	const struct tr_event *x = &t->streams[a].ev, *y = &t->streams[b].ev;

	return x->ts != y->ts ? x->ts < y->ts : a < b;
}

static void sift_down(struct tr_trace *t, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		unsigned tmp;

		if (l < t->nheap && before(t, t->heap[l], t->heap[m]))
			m = l;
		if (l + 1 < t->nheap && before(t, t->heap[l + 1], t->heap[m]))
			m = l + 1;
		if (m == i)
			return;
		tmp = t->heap[i];
		t->heap[i] = t->heap[m];
		t->heap[m] = tmp;
		i = m;
	}
}

static int fail_stream(struct tr_trace *t, struct stream *s)
{
	snprintf(t->err, sizeof(t->err), "%s", s->err);
	return -1;
}

int tr_next(struct tr_trace *t, struct tr_event *ev)
{
	int rc;

	if (!t->started) {
		t->started = 1;
		for (unsigned i = 0; i < t->nstreams; i++) {
			if (t->selecting && !t->procs[t->streams[i].proc].info.selected)
				continue;
			rc = advance(t, &t->streams[i]);
			if (rc < 0)
				return fail_stream(t, &t->streams[i]);
			if (rc)
				t->heap[t->nheap++] = i;
		}
		for (size_t i = t->nheap / 2 + 1; i-- > 0;)
			sift_down(t, i);
	} else if (t->nheap) {
		struct stream *s = &t->streams[t->last];

		rc = advance(t, s);
		if (rc < 0)
			return fail_stream(t, s);
		if (!rc)
			t->heap[0] = t->heap[--t->nheap];
		sift_down(t, 0);
	}
	if (!t->nheap)
		return 0;
	t->last = t->heap[0];
	*ev = t->streams[t->last].ev;
	ev->stream = t->last;
	ev->proc = t->streams[t->last].proc;
	return 1;
}

/* ---- opening ---- */

static int read_file(const char *path, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf;
	size_t n = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	buf = malloc(st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, st.st_size - n);

		if (r <= 0)
			break;
		n += r;
	}
	close(fd);
	buf[n] = 0;
	*out = buf;
	*len = n;
	return 0;
}

static int cmp_stream(const void *a, const void *b)
{
	const struct stream *x = a, *y = b;
	size_t lx = strlen(x->name), ly = strlen(y->name);

	if (x->proc != y->proc)
		return x->proc < y->proc ? -1 : 1;
	/* cpu2 before cpu10 */
	return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x->name, y->name);
}

/* Map the stream files of process trace @p (every regular, non-hidden file but metadata). */
static int map_streams(struct tr_trace *t, unsigned p)
{
	const char *dir = t->procs[p].info.dir;
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d) {
		snprintf(t->err, sizeof(t->err), "%.400s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		struct stream *s;
		struct stat st;
		char path[4096];
		int fd;

		if (de->d_name[0] == '.' || !strcmp(de->d_name, "metadata"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (t->nstreams == t->cap) {
			size_t cap = t->cap ? t->cap * 2 : 16;
			struct stream *m = realloc(t->streams, cap * sizeof(*m));

			if (!m)
				goto nomem;
			t->streams = m;
			t->cap = cap;
		}
		s = &t->streams[t->nstreams];
		memset(s, 0, sizeof(*s));
		s->name = strdup(de->d_name);
		if (!s->name)
			goto nomem;
		s->proc = p;
		t->nstreams++;
		s->size = st.st_size;
		t->size += st.st_size;
		t->procs[p].info.size += st.st_size;
		if (!s->size)
			continue;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			snprintf(t->err, sizeof(t->err), "%.400s: %s", path, strerror(errno));
			closedir(d);
			return -1;
		}
		s->map = mmap(NULL, s->size, PROT_READ, MAP_PRIVATE, fd, 0);
		close(fd);
		if (s->map == MAP_FAILED) {
			s->map = NULL;
			snprintf(t->err, sizeof(t->err), "%.400s: %s", path, strerror(errno));
			closedir(d);
			return -1;
		}
		madvise((void *)s->map, s->size, MADV_SEQUENTIAL);
	}
	closedir(d);
	return 0;
nomem:
	closedir(d);
	snprintf(t->err, sizeof(t->err), "out of memory");
	return -1;
}

/* The counters of DIR/.stats (docs/trace-format.md); unknown keys are skipped. */
static void read_stats(struct tr_process *p)
{
	char path[4096], *text, *line, *save = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/.stats", p->dir);
	if (read_file(path, &text, &len) < 0)
		return;
	p->has_stats = 1;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char key[32], val[32];
		unsigned long long v;

		if (sscanf(line, "%31s %31s", key, val) != 2)
			continue;
		v = strtoull(val, NULL, 10);
		if (!strcmp(key, "state"))
			snprintf(p->state, sizeof(p->state), "%s", val);
		else if (!strcmp(key, "recorded"))
			p->recorded = v;
		else if (!strcmp(key, "discarded"))
			p->discarded = v;
		else if (!strcmp(key, "buffers"))
			p->buffers = v;
		else if (!strcmp(key, "filtered"))
			p->filtered = v;
	}
	free(text);
}

/* Parse @dir/metadata as process trace number t->nprocs.  Returns 0, or -1 with t->err. */
static int add_proc(struct tr_trace *t, const char *dir, const char *base)
{
	struct proc *p;
	char path[4096], merr[300];
	const struct tm_env *e;
	int rc;

	if (t->nprocs == t->proc_cap) {
		size_t cap = t->proc_cap ? t->proc_cap * 2 : 8;
		struct proc *m = realloc(t->procs, cap * sizeof(*m));

		if (!m) {
			snprintf(t->err, sizeof(t->err), "out of memory");
			return -1;
		}
		t->procs = m;
		t->proc_cap = cap;
	}
	p = &t->procs[t->nprocs];
	memset(p, 0, sizeof(*p));
	p->info.pid = -1;
	if (!(p->info.dir = strdup(dir))) {
		snprintf(t->err, sizeof(t->err), "out of memory");
		return -1;
	}
	t->nprocs++;
	snprintf(path, sizeof(path), "%s/metadata", dir);
	rc = read_file(path, &p->meta_text, &p->meta_size);
	if (rc < 0) {
		snprintf(t->err, sizeof(t->err), "%.400s: %s", path, strerror(-rc));
		return -1;
	}
	t->size += p->meta_size;
	p->info.size = p->meta_size;
	if (tm_parse(p->meta_text, p->meta_size, &p->meta, merr, sizeof(merr)) < 0) {
		snprintf(t->err, sizeof(t->err), "%.200s: %s", path, merr);
		return -1;
	}
	/* info.meta and a fallback name are set once t->procs stops moving (tr_open). */
	(void)base;
	e = tm_env_find(&p->meta, "procname");
	p->info.name = e && e->str ? e->str : NULL;
	e = tm_env_find(&p->meta, "vpid");
	if (e && !e->str)
		p->info.pid = e->num;
	read_stats(&p->info);
	return 0;
}

/* Names with numbers in numeric order: "app-998-..." before "app-1001-...". */
static int cmp_str(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;

	while (*x && *y) {
		if (*x >= '0' && *x <= '9' && *y >= '0' && *y <= '9') {
			size_t nx = strspn(x, "0123456789"), ny = strspn(y, "0123456789");
			int c;

			while (*x == '0' && nx > 1)
				x++, nx--;
			while (*y == '0' && ny > 1)
				y++, ny--;
			if (nx != ny)
				return nx < ny ? -1 : 1;
			c = strncmp(x, y, nx);
			if (c)
				return c;
			x += nx;
			y += ny;
			continue;
		}
		if (*x != *y)
			return (unsigned char)*x < (unsigned char)*y ? -1 : 1;
		x++, y++;
	}
	return (unsigned char)*x - (unsigned char)*y;
}

/*
 * Find the process traces under @dir: each directory holding a metadata
 * file is one (its subdirectories are not searched).  Hidden entries are
 * skipped, symbolic links are not followed, and the depth is bounded.
 */
static int find_procs(struct tr_trace *t, const char *dir, const char *base, int depth)
{
	char path[4096], **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/metadata", dir);
	if (!stat(path, &st))
		return add_proc(t, dir, base);
	if (depth >= 4 || !(d = opendir(dir)))
		return 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) || !S_ISDIR(st.st_mode))
			continue;
		if (n == cap) {
			char **m = realloc(names, (cap = cap ? cap * 2 : 16) * sizeof(*m));

			if (!m)
				break;
			names = m;
		}
		if (!(names[n] = strdup(de->d_name)))
			break;
		n++;
	}
	closedir(d);
	if (n) /* names is NULL in a directory of no directories */
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (!rc) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			rc = find_procs(t, path, names[i], depth + 1);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int tr_open(const char *dir, struct tr_trace **out, char *err, size_t errlen)
{
	struct tr_trace *t = calloc(1, sizeof(*t));
	const char *base;
	struct stat st;

	*out = NULL;
	if (!t || !(t->dir = strdup(dir))) {
		free(t);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (stat(dir, &st) < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a trace directory", dir);
		goto fail;
	}
	base = strrchr(dir, '/');
	base = base && base[1] ? base + 1 : dir;
	if (find_procs(t, dir, base, 0) < 0) {
		snprintf(err, errlen, "%s", t->err);
		goto fail;
	}
	if (!t->nprocs) {
		snprintf(err, errlen, "%s: not a trace (no metadata file in it or below it)", dir);
		goto fail;
	}
	for (unsigned p = 0; p < t->nprocs; p++) {
		struct tr_process *pi = &t->procs[p].info;

		pi->meta = &t->procs[p].meta;
		if (!pi->name) {
			const char *slash = strrchr(pi->dir, '/');

			pi->name = slash && slash[1] ? slash + 1 : pi->dir;
		}
		if (map_streams(t, p) < 0) {
			snprintf(err, errlen, "%s", t->err);
			goto fail;
		}
	}
	if (t->nstreams) /* streams is NULL in a trace of none */
		qsort(t->streams, t->nstreams, sizeof(*t->streams), cmp_stream);
	for (size_t i = 0; i < t->nstreams; i++) {
		struct tr_process *pi = &t->procs[t->streams[i].proc].info;

		t->streams[i].meta = &t->procs[t->streams[i].proc].meta;
		if (!pi->nstreams)
			pi->first_stream = (unsigned)i;
		pi->nstreams++;
	}
	t->heap = calloc(t->nstreams + 1, sizeof(*t->heap));
	if (!t->heap) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	*out = t;
	return 0;
fail:
	tr_close(t);
	return -1;
}

int tr_select(struct tr_trace *t, const int64_t *pids, size_t npids)
{
	int n = 0;

	if (t->started)
		return -1;
	for (size_t p = 0; p < t->nprocs; p++) {
		int want = !npids;

		for (size_t k = 0; k < npids; k++)
			want |= t->procs[p].info.pid == pids[k];
		t->procs[p].info.selected = want;
		n += want;
	}
	t->selecting = npids > 0;
	return n;
}

int tr_select_active(const struct tr_trace *t)
{
	return t->selecting;
}

void tr_close(struct tr_trace *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nstreams; i++) {
		if (t->streams[i].map)
			munmap((void *)t->streams[i].map, t->streams[i].size);
		free(t->streams[i].name);
		free(t->streams[i].nodes);
	}
	for (size_t p = 0; p < t->nprocs; p++) {
		tm_free(&t->procs[p].meta);
		free(t->procs[p].meta_text);
		free((char *)t->procs[p].info.dir);
	}
	free(t->procs);
	free(t->streams);
	free(t->heap);
	free(t->dir);
	free(t);
}

const char *tr_error(const struct tr_trace *t)
{
	return t->err;
}

int tr_set_error(struct tr_trace *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->err, sizeof(t->err), fmt, ap);
	va_end(ap);
	return -1;
}

const struct tm_trace *tr_metadata(const struct tr_trace *t)
{
	return &t->procs[0].meta;
}

size_t tr_nprocs(const struct tr_trace *t)
{
	return t->nprocs;
}

const struct tr_process *tr_proc(const struct tr_trace *t, unsigned i)
{
	return i < t->nprocs ? &t->procs[i].info : NULL;
}

size_t tr_nstreams(const struct tr_trace *t)
{
	return t->nstreams;
}

const char *tr_stream_name(const struct tr_trace *t, unsigned i)
{
	return i < t->nstreams ? t->streams[i].name : "?";
}

unsigned tr_stream_proc(const struct tr_trace *t, unsigned i)
{
	return i < t->nstreams ? t->streams[i].proc : 0;
}

uint64_t tr_size(const struct tr_trace *t)
{
	return t->size;
}
