/*
 * trace_reader.c - decode CTF 1.8 stream files by their metadata, and merge
 * the streams in timestamp order.
 *
 * Each stream file is mapped whole.  A stream keeps a cursor in bits inside
 * its current packet; every read is checked against the packet's content
 * size, so garbage in a file becomes an error message, never a read past
 * the mapping.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
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
	const uint8_t *pkt;
	uint64_t bit, content_end;  /* bits from pkt */
	uint64_t pkt_index, npackets;
	const struct tm_stream *sc;
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

struct tr_trace {
	char *dir;
	struct tm_trace meta;
	char *meta_text;
	size_t meta_size;
	struct stream *streams;
	size_t nstreams;
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

static int be_of(const struct tr_trace *t, const struct tm_type *ty)
{
	enum tm_byte_order o = ty->byte_order == TM_NATIVE ? t->meta.byte_order : ty->byte_order;

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
	v = rd_bits(s->pkt, s->bit, ty->size, be_of(t, ty));
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
		v = rd_bits(s->pkt, s->bit, ty->size, be_of(t, ty));
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
	s->pkt = s->map + s->pkt_off;
	s->bit = 0;
	/* Until the context says how big the packet is: the rest of the file. */
	s->content_end = (uint64_t)(s->size - s->pkt_off) * 8;
	s->nscope = 0;
	s->nnodes = 0;
	s->emit = 0;
	s->in_header = 0;
	if (t->meta.packet_header && decode(t, s, t->meta.packet_header, NULL, 1))
		return -1;
	e = recall(s, "magic");
	if (e && e->v != CTF_MAGIC)
		return serr(s, "bad magic 0x%08llx (not a CTF stream, or garbled)",
			    (unsigned long long)e->v);
	e = recall(s, "stream_id");
	s->sc = e ? tm_stream_find(&t->meta, e->v) : &t->meta.streams[0];
	if (!s->sc)
		return serr(s, "unknown stream id %llu", (unsigned long long)e->v);
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
		s->ev.ts = to_ns(&t->meta.clock, s->clock);
		s->ev.cpu = s->cpu;
		s->ev.name = NULL;
		s->ev.nfields = 0;
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
	if (cls->fields && decode(t, s, cls->fields, NULL, 1))
		return -1;
	s->ev.kind = TR_EVENT;
	s->ev.cycles = s->clock;
	s->ev.ts = to_ns(&t->meta.clock, s->clock);
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

static int cmp_name(const void *a, const void *b)
{
	const struct stream *x = a, *y = b;
	size_t lx = strlen(x->name), ly = strlen(y->name);

	/* cpu2 before cpu10 */
	return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x->name, y->name);
}

static int map_streams(struct tr_trace *t)
{
	DIR *d = opendir(t->dir);
	struct dirent *de;
	size_t cap = 0;

	if (!d) {
		snprintf(t->err, sizeof(t->err), "%s: %s", t->dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		struct stream *s;
		struct stat st;
		char path[4096];
		int fd;

		if (de->d_name[0] == '.' || !strcmp(de->d_name, "metadata"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", t->dir, de->d_name);
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (t->nstreams == cap) {
			struct stream *m;

			cap = cap ? cap * 2 : 16;
			m = realloc(t->streams, cap * sizeof(*m));
			if (!m)
				goto nomem;
			t->streams = m;
		}
		s = &t->streams[t->nstreams];
		memset(s, 0, sizeof(*s));
		s->name = strdup(de->d_name);
		if (!s->name)
			goto nomem;
		t->nstreams++;
		s->size = st.st_size;
		t->size += st.st_size;
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
	qsort(t->streams, t->nstreams, sizeof(*t->streams), cmp_name);
	t->heap = calloc(t->nstreams + 1, sizeof(*t->heap));
	if (!t->heap)
		goto nomem_open;
	return 0;
nomem:
	closedir(d);
nomem_open:
	snprintf(t->err, sizeof(t->err), "out of memory");
	return -1;
}

int tr_open(const char *dir, struct tr_trace **out, char *err, size_t errlen)
{
	struct tr_trace *t = calloc(1, sizeof(*t));
	char path[4096], merr[300];
	struct stat st;
	int rc;

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
	snprintf(path, sizeof(path), "%s/metadata", dir);
	rc = read_file(path, &t->meta_text, &t->meta_size);
	if (rc == -ENOENT) {
		snprintf(err, errlen, "%s: not a trace (no metadata file)", dir);
		goto fail;
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		goto fail;
	}
	t->size = t->meta_size;
	if (tm_parse(t->meta_text, t->meta_size, &t->meta, merr, sizeof(merr)) < 0) {
		snprintf(err, errlen, "%s: %s", path, merr);
		goto fail;
	}
	if (map_streams(t) < 0) {
		snprintf(err, errlen, "%s", t->err);
		goto fail;
	}
	*out = t;
	return 0;
fail:
	tr_close(t);
	return -1;
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
	free(t->streams);
	free(t->heap);
	tm_free(&t->meta);
	free(t->meta_text);
	free(t->dir);
	free(t);
}

const char *tr_error(const struct tr_trace *t)
{
	return t->err;
}

const struct tm_trace *tr_metadata(const struct tr_trace *t)
{
	return &t->meta;
}

size_t tr_nstreams(const struct tr_trace *t)
{
	return t->nstreams;
}

const char *tr_stream_name(const struct tr_trace *t, unsigned i)
{
	return i < t->nstreams ? t->streams[i].name : "?";
}

uint64_t tr_size(const struct tr_trace *t)
{
	return t->size;
}

void tr_format_time(int64_t ns, int seconds, char *buf, size_t len)
{
	int64_t sec = ns / 1000000000, frac = ns % 1000000000;
	time_t tt;
	struct tm tm;

	if (frac < 0) {
		frac += 1000000000;
		sec--;
	}
	if (seconds) {
		snprintf(buf, len, "%lld.%09lld", (long long)sec, (long long)frac);
		return;
	}
	tt = (time_t)sec;
	if (!localtime_r(&tt, &tm)) {
		snprintf(buf, len, "%lld.%09lld", (long long)sec, (long long)frac);
		return;
	}
	snprintf(buf, len, "%02d:%02d:%02d.%09lld", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (long long)frac);
}

void tr_format_double(double d, int is_float32, char *buf, size_t len)
{
	if (isnan(d)) {
		snprintf(buf, len, "nan");
		return;
	}
	if (isinf(d)) {
		snprintf(buf, len, d < 0 ? "-inf" : "inf");
		return;
	}
	for (int digits = is_float32 ? 6 : 15;; digits++) {
		snprintf(buf, len, "%.*g", digits, d);
		if (digits >= (is_float32 ? 9 : 17) ||
		    (is_float32 ? strtof(buf, NULL) == (float)d : strtod(buf, NULL) == d))
			return;
	}
}

/* ---- summary ---- */

static int cmp_count(const void *a, const void *b)
{
	const struct tr_marker_count *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Put @ts in a bucket; when past the last one, double the width (events come in order). */
static void hist_add(struct tr_summary *s, int64_t ts, uint64_t events, uint64_t lost)
{
	uint64_t i;

	if (ts < s->first)
		ts = s->first;
	for (;;) {
		i = (uint64_t)(ts - s->first) / (uint64_t)s->width;
		if (i < TR_HIST_BUCKETS)
			break;
		for (size_t k = 0; k < TR_HIST_BUCKETS / 2; k++) {
			s->hist[k] = s->hist[2 * k] + s->hist[2 * k + 1];
			s->hist_lost[k] = s->hist_lost[2 * k] + s->hist_lost[2 * k + 1];
		}
		memset(s->hist + TR_HIST_BUCKETS / 2, 0, sizeof(s->hist) / 2);
		memset(s->hist_lost + TR_HIST_BUCKETS / 2, 0, sizeof(s->hist_lost) / 2);
		s->width *= 2;
	}
	s->hist[i] += events;
	s->hist_lost[i] += lost;
	if (i + 1 > s->nhist)
		s->nhist = i + 1;
}

int tr_summarize(struct tr_trace *t, struct tr_summary *s)
{
	const struct tm_trace *m = &t->meta;
	size_t *slot; /* per event class (m->events), its index in s->markers */
	struct tr_event ev;
	int rc;

	memset(s, 0, sizeof(*s));
	s->first = INT64_MAX;
	s->last = INT64_MIN;
	s->width = 1000; /* 1 us, doubled as needed */
	s->markers = calloc(m->nevents + 1, sizeof(*s->markers));
	s->stream_lost = calloc(t->nstreams + 1, sizeof(*s->stream_lost));
	s->stream_cpu = calloc(t->nstreams + 1, sizeof(*s->stream_cpu));
	slot = calloc(m->nevents + 1, sizeof(*slot));
	if (!s->markers || !s->stream_lost || !s->stream_cpu || !slot) {
		free(slot);
		snprintf(t->err, sizeof(t->err), "out of memory");
		return -1;
	}
	/* One row per name: several declarations may share one (different types). */
	for (size_t i = 0; i < m->nevents; i++) {
		size_t k;

		for (k = 0; k < s->nmarkers; k++)
			if (!strcmp(s->markers[k].name, m->events[i]->name))
				break;
		if (k == s->nmarkers) {
			s->markers[k].name = m->events[i]->name;
			s->nmarkers++;
		}
		slot[i] = k;
	}
	for (size_t i = 0; i < t->nstreams; i++)
		s->stream_cpu[i] = -1;
	while ((rc = tr_next(t, &ev)) > 0) {
		if (s->first == INT64_MAX)
			s->first = ev.ts;
		if (ev.ts > s->last)
			s->last = ev.ts;
		s->stream_cpu[ev.stream] = ev.cpu;
		if (ev.kind == TR_LOST) {
			s->lost_events += ev.lost_events;
			s->lost_packets += ev.lost_packets;
			s->stream_lost[ev.stream] += ev.lost_events;
			hist_add(s, ev.ts, 0, ev.lost_events);
			continue;
		}
		struct tr_marker_count *c = &s->markers[slot[ev.cls->index]];

		if (!c->count)
			c->first = ev.ts;
		c->count++;
		c->last = ev.ts;
		s->events++;
		hist_add(s, ev.ts, 1, 0);
	}
	free(slot);
	qsort(s->markers, s->nmarkers, sizeof(*s->markers), cmp_count);
	return rc < 0 ? -1 : 0;
}

void tr_summary_free(struct tr_summary *s)
{
	free(s->markers);
	free(s->stream_lost);
	free(s->stream_cpu);
	memset(s, 0, sizeof(*s));
}
