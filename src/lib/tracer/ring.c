/*
 * ring.c - the recording probe: event ids, reserve, write, commit.
 *
 * Lock-free and async-signal-safe: no system call, no lock, no allocation.
 * A thread records into the buffer of the CPU it read at the start
 * (sched_getcpu: glibc reads it from rseq, no system call).  It may be
 * preempted, migrate, or be interrupted by a signal handler that records
 * too at any point: the reservation is a CAS on the buffer's position, so
 * two writers on one buffer (a migrated thread and the CPU's new occupant,
 * or a handler and the code it interrupted) get disjoint slices, and a
 * sub-buffer is handed to the consumer only when every slice in it is
 * committed (tracer_int.h explains the commit word).
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdarg.h>
#include <string.h>

#include "tracer_int.h"

unsigned marker__tr_type_size(char c)
{
	switch (c) {
	case MARKER_TYPE_S8:
	case MARKER_TYPE_U8:
		return 1;
	case MARKER_TYPE_S16:
	case MARKER_TYPE_U16:
		return 2;
	case MARKER_TYPE_S32:
	case MARKER_TYPE_U32:
	case MARKER_TYPE_FLOAT:
		return 4;
	case MARKER_TYPE_S64:
	case MARKER_TYPE_U64:
	case MARKER_TYPE_DOUBLE:
	case MARKER_TYPE_LDOUBLE:
		return 8;
	case MARKER_TYPE_POINTER:
		return sizeof(void *);
	default:
		return 0;
	}
}

static uint64_t hash48(const char *name, const char *types)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull; /* separator no name contains */
	for (const char *p = types; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	h &= (1ull << 48) - 1;
	return h ? h : 1;
}

/* Copy @src into @dst (at most @cap bytes with the NUL); returns bytes written. */
static size_t put_str(char *dst, const char *src, size_t cap)
{
	size_t n = strnlen(src ? src : "", cap - 1);

	memcpy(dst, src ? src : "", n);
	dst[n] = 0;
	return n + 1;
}

/*
 * The event id of (name, types), declared in the session's table on first
 * use.  Lock-free: a thread takes a fresh id, then claims the hash slot
 * with a CAS of (hash, id); if another thread claimed it first with the same
 * hash, the winner's id is the event's and the fresh id is never declared
 * (a gap).  The winner writes the declaration record, then publishes its
 * offset: until then the id is not usable by others (they drop the event,
 * counted), so that no committed event can precede its declaration.
 * Returns the id, or -1: table full, or declaration not yet published.
 */
static long event_id(struct tr_session *s, const struct marker *m)
{
	struct tr_session_hdr *sh = s->sh;
	uint64_t h = hash48(m->name, m->types);
	uint32_t i = (uint32_t)(h % TR_NSLOTS);

	for (unsigned probes = 0; probes < TR_NSLOTS; probes++, i = (i + 1) % TR_NSLOTS) {
		uint64_t key = __atomic_load_n(&sh->slots[i], __ATOMIC_ACQUIRE);
		uint32_t id, len, off;
		struct tr_decl *d;
		char *p;

		if (key && key >> 16 != h)
			continue;
		if (key)
			goto found;
		id = __atomic_fetch_add(&sh->next_id, 1, __ATOMIC_RELAXED);
		if (id >= TR_MAX_IDS)
			return -1;
		if (!__atomic_compare_exchange_n(&sh->slots[i], &key, h << 16 | id, 0,
						 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			if (key >> 16 != h)
				continue; /* another (name, types) took it: probe on */
			goto found;
		}
		/* We own the id: write its record, then publish it. */
		len = sizeof(*d) + strlen(m->name) + strlen(m->types) + 2 +
		      strnlen(m->format ? m->format : "", 1023) + 1 +
		      strnlen(m->file ? m->file : "", 511) + 1;
		len = (len + 7) & ~7u;
		off = __atomic_fetch_add(&sh->arena_used, len, __ATOMIC_RELAXED);
		if (off + len > TR_ARENA_SIZE)
			return -1;
		d = (struct tr_decl *)(sh->arena + off);
		d->len = len;
		d->id = id;
		d->line = m->line;
		p = d->strings;
		p += put_str(p, m->name, 65536);
		p += put_str(p, m->types, MARKER_MAX_ARGS + 1);
		p += put_str(p, m->format, 1024);
		put_str(p, m->file, 512);
		__atomic_store_n(&sh->rec_off[id], off + 1, __ATOMIC_RELEASE);
		__atomic_fetch_add(&sh->ndecl, 1, __ATOMIC_RELEASE);
		return id;
found:
		id = (uint32_t)(key & 0xffff);
		return __atomic_load_n(&sh->rec_off[id], __ATOMIC_ACQUIRE) ? (long)id : -1;
	}
	return -1;
}

static struct tr_cache_ent *lookup(struct tr_session *s, const struct marker *m)
{
	uintptr_t k = (uintptr_t)m;
	unsigned i = (unsigned)((k >> 3) * 0x9E3779B1u) % TR_CACHE;

	for (unsigned n = 0; n < 8; n++, i = (i + 1) % TR_CACHE) {
		struct tr_cache_ent *e = &s->cache[i];
		const struct marker *d = __atomic_load_n(&e->desc, __ATOMIC_ACQUIRE);

		if (d == m) {
			if (!__atomic_load_n(&e->ready, __ATOMIC_ACQUIRE) || e->name != m->name ||
			    e->types != m->types)
				return NULL;
			return e;
		}
		if (d)
			continue;
		/* Empty: claim it and fill it, or let the claimer do it. */
		if (!__atomic_compare_exchange_n(&e->desc, &d, m, 0, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE)) {
			if (d == m)
				return NULL; /* being filled; use the slow path meanwhile */
			continue;
		}
		long id = event_id(s, m);
		unsigned fixed = 0, nrec = 0, strings = 0;

		if (id < 0) {
			/* Not declared yet: free the slot so that a later hit retries. */
			__atomic_store_n(&e->desc, NULL, __ATOMIC_RELEASE);
			return NULL;
		}
		for (const char *t = m->types; *t && *t != MARKER_TYPE_UNKNOWN; t++, nrec++) {
			fixed += marker__tr_type_size(*t);
			strings |= *t == MARKER_TYPE_STRING;
		}
		e->name = m->name;
		e->types = m->types;
		e->id = (uint32_t)id;
		e->fixed = fixed;
		e->nrec = (uint8_t)nrec;
		e->strings = (uint8_t)strings;
		__atomic_store_n(&e->ready, 1, __ATOMIC_RELEASE);
		return e;
	}
	return NULL;
}

static inline void count_discard(struct tr_buf *b)
{
	__atomic_fetch_add(&b->h->discarded, 1, __ATOMIC_RELAXED);
}

void marker__tr_probe(const struct marker *m, void *priv, const char *fmt, va_list *args)
{
	struct tr_session *s = priv;
	struct tr_cache_ent *e, slow;
	const char *str[MARKER_MAX_ARGS];
	unsigned slen[MARKER_MAX_ARGS];
	struct tr_buf *b;
	struct tr_buf_hdr *h;
	uint64_t old, begin, end, ts, mask, payload;
	unsigned hsize, nrec;
	int cpu, ext;
	char *p;

	(void)fmt;
	if (__builtin_expect(!s->active, 0))
		return;
	cpu = sched_getcpu();
	b = &s->bufs[(unsigned)(cpu < 0 ? 0 : cpu) % s->nbufs];
	h = b->h;
	e = lookup(s, m);
	if (__builtin_expect(!e, 0)) {
		/* Cache full or being filled: the table itself (slower, same result). */
		long id = event_id(s, m);

		if (id < 0) {
			count_discard(b);
			return;
		}
		slow.id = (uint32_t)id;
		slow.fixed = 0;
		slow.nrec = 0;
		slow.strings = 0;
		for (const char *t = m->types; *t && *t != MARKER_TYPE_UNKNOWN; t++, slow.nrec++) {
			slow.fixed += marker__tr_type_size(*t);
			slow.strings |= *t == MARKER_TYPE_STRING;
		}
		e = &slow;
	}

	/*
	 * One pass over the arguments, before the reservation: each is written
	 * into a staging area on the stack in its declared width (the payload
	 * of a typical event fits), and string lengths are measured, so that
	 * the size is known and the copy into the ring is one memcpy.
	 */
	char stage[256], *q = stage;
	int big = 0;

	payload = e->fixed;
	nrec = e->nrec;
	{
		va_list ap;

		va_copy(ap, *args);
		for (unsigned i = 0; i < nrec; i++) {
			union {
				uint8_t u8;
				uint16_t u16;
				uint32_t u32;
				uint64_t u64;
				float f;
				double d;
				void *p;
			} v;
			unsigned w;

			switch (m->types[i]) {
			case MARKER_TYPE_S8:
			case MARKER_TYPE_U8:
				v.u8 = (uint8_t)va_arg(ap, int);
				w = 1;
				break;
			case MARKER_TYPE_S16:
			case MARKER_TYPE_U16:
				v.u16 = (uint16_t)va_arg(ap, int);
				w = 2;
				break;
			case MARKER_TYPE_S64:
			case MARKER_TYPE_U64:
				v.u64 = (uint64_t)va_arg(ap, long long);
				w = 8;
				break;
			case MARKER_TYPE_FLOAT:
				v.f = (float)va_arg(ap, double);
				w = 4;
				break;
			case MARKER_TYPE_DOUBLE:
				v.d = va_arg(ap, double);
				w = 8;
				break;
			case MARKER_TYPE_LDOUBLE:
				v.d = (double)va_arg(ap, long double);
				w = 8;
				break;
			case MARKER_TYPE_POINTER:
				v.p = va_arg(ap, void *);
				w = sizeof(void *);
				break;
			case MARKER_TYPE_STRING:
				str[i] = va_arg(ap, const char *);
				if (!str[i])
					str[i] = "(null)";
				slen[i] = (unsigned)strnlen(str[i], TR_STRING_MAX);
				payload += slen[i] + 1;
				if (!big && q + slen[i] + 1 <= stage + sizeof(stage)) {
					memcpy(q, str[i], slen[i]);
					q[slen[i]] = 0;
					q += slen[i] + 1;
				} else {
					big = 1;
				}
				continue;
			default:
				v.u32 = (uint32_t)va_arg(ap, int);
				w = 4;
			}
			if (!big && q + w <= stage + sizeof(stage)) {
				memcpy(q, &v, w);
				q += w;
			} else {
				big = 1;
			}
		}
		va_end(ap);
	}

	/*
	 * Reserve.  The timestamp is read inside the loop, after the position:
	 * a successful CAS means no slice was reserved since that load, so
	 * timestamps grow in reservation (= stream) order, which the 27-bit
	 * compact timestamps need.  last_ts may lag (a slower writer stores an
	 * older value later): that only makes the compact test more cautious.
	 */
	mask = s->sbsize - 1;
	/*
	 * Acquire/release on the position: the opener of a sub-buffer
	 * acquired `consumed` (the consumer's writes out of it are done); a
	 * writer that reserves after it in the same sub-buffer must see that
	 * too, through the opener's release CAS.  Free on x86.
	 */
	old = __atomic_load_n(&h->reserve, __ATOMIC_ACQUIRE);
	for (;;) {
		uint64_t off;

		ts = marker__tr_clock();
		begin = old;
		off = begin & mask;
		ext = off == 0 || e->id >= TR_COMPACT_IDS ||
		      ts - __atomic_load_n(&h->last_ts, __ATOMIC_RELAXED) >= (1u << TR_TS_BITS);
		hsize = ext ? TR_HDR_EXTENDED : TR_HDR_COMPACT;
		if (off && off + hsize + payload > s->sbsize) {
			/* Does not fit: pad to the next sub-buffer and open it. */
			begin += s->sbsize - off;
			ext = 1;
			hsize = TR_HDR_EXTENDED;
		}
		if (hsize + payload > s->sbsize) {
			count_discard(b); /* larger than a sub-buffer */
			return;
		}
		if (!s->overwrite && (begin & mask) == 0 &&
		    begin - __atomic_load_n(&h->consumed, __ATOMIC_ACQUIRE) >=
			    s->sbsize * s->nsubbufs) {
			count_discard(b); /* discard mode, full */
			return;
		}
		end = begin + hsize + payload;
		if (__atomic_compare_exchange_n(&h->reserve, &old, end, 1, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			break;
	}
	__atomic_store_n(&h->last_ts, ts, __ATOMIC_RELAXED);

	struct tr_sb *sb = &h->sb[(begin / s->sbsize) % s->nsubbufs];

	if ((begin & mask) == 0) {
		/*
		 * We open this sub-buffer: its begin time, and the close of the
		 * previous one (its end time, its length, the close token with
		 * the padding) which makes the previous one complete.
		 */
		sb->ts_begin = ts;
		sb->pos = begin;
		if (begin) {
			struct tr_sb *prev = &h->sb[(begin / s->sbsize + s->nsubbufs - 1) %
						    s->nsubbufs];
			uint64_t prev_start = begin - s->sbsize;

			prev->ts_end = ts;
			prev->data_end = old - prev_start;
			/* Pairs with the consumer's acquire load of the commit word. */
			__atomic_fetch_add(&prev->commit, begin - old + 1, __ATOMIC_RELEASE);
		}
	}

	/* Write the event: header, then the arguments in their declared widths. */
	p = b->data + (begin / s->sbsize % s->nsubbufs) * s->sbsize + (begin & mask);
	if (ext) {
		uint32_t id = e->id;

		/* The 5-bit escape; TSDL aligns the next field to a byte. */
		*p = TR_COMPACT_IDS;
		memcpy(p + 1, &id, 4);
		memcpy(p + 5, &ts, 8);
		p += TR_HDR_EXTENDED;
	} else {
		uint32_t w = e->id | (uint32_t)ts << 5;

		memcpy(p, &w, 4);
		p += 4;
	}
	if (__builtin_expect(!big, 1)) {
		memcpy(p, stage, payload);
		goto commit;
	}
	/* Larger than the staging area: the arguments again, straight into the ring. */
	for (unsigned i = 0; i < nrec; i++) {
		switch (m->types[i]) {
		case MARKER_TYPE_S8:
		case MARKER_TYPE_U8:
			*p++ = (char)va_arg(*args, int);
			break;
		case MARKER_TYPE_S16:
		case MARKER_TYPE_U16: {
			uint16_t v = (uint16_t)va_arg(*args, int);

			memcpy(p, &v, 2);
			p += 2;
			break;
		}
		case MARKER_TYPE_S32:
		case MARKER_TYPE_U32: {
			uint32_t v = (uint32_t)va_arg(*args, int);

			memcpy(p, &v, 4);
			p += 4;
			break;
		}
		case MARKER_TYPE_S64:
		case MARKER_TYPE_U64: {
			uint64_t v = (uint64_t)va_arg(*args, long long);

			memcpy(p, &v, 8);
			p += 8;
			break;
		}
		case MARKER_TYPE_FLOAT: {
			float v = (float)va_arg(*args, double);

			memcpy(p, &v, 4);
			p += 4;
			break;
		}
		case MARKER_TYPE_DOUBLE: {
			double v = va_arg(*args, double);

			memcpy(p, &v, 8);
			p += 8;
			break;
		}
		case MARKER_TYPE_LDOUBLE: {
			double v = (double)va_arg(*args, long double);

			memcpy(p, &v, 8);
			p += 8;
			break;
		}
		case MARKER_TYPE_POINTER: {
			void *v = va_arg(*args, void *);

			memcpy(p, &v, sizeof(v));
			p += sizeof(v);
			break;
		}
		case MARKER_TYPE_STRING:
			(void)va_arg(*args, const char *);
			memcpy(p, str[i], slen[i]);
			p[slen[i]] = 0;
			p += slen[i] + 1;
			break;
		}
	}

commit:
	/* Commit: this slice's bytes and one event; pairs with the consumer's acquire. */
	__atomic_fetch_add(&sb->commit, (end - begin) + (1ull << 32), __ATOMIC_RELEASE);
}
