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
#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <stdarg.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "arch/x86_va.h"
#include "registry.h"
#include "tr_filter.h"
#include "tracer_int.h"

/*
 * The fast path reads the integer arguments straight from the va_list, as
 * consecutive 8-byte slots, where the x86-64 System V ABI (section 3.5.7)
 * puts them: va_list is an array of one { gp_offset, fp_offset,
 * overflow_arg_area, reg_save_area }; the six integer registers fill the
 * first 48 bytes of the register save area, gp_offset being where the next
 * one is, and the arguments beyond them are 8-byte slots at
 * overflow_arg_area.  Two cases have them all in one place: a call to
 * marker_fire() with at most 5 arguments (the descriptor takes the first
 * register), all in the save area; and the register-preserving stub's
 * va_list (arch/x86_va.h), which marks the registers used up (gp_offset
 * 48) and has every argument in the overflow area.  Elsewhere, or mixed,
 * the general path reads them with va_arg.
 */
#if defined(__x86_64__) && defined(__LP64__)
#define TR_VA_ARGS 5
struct tr_va {
	unsigned gp_offset, fp_offset;
	const uint64_t *overflow_arg_area;
	const char *reg_save_area;
};
#else
#define TR_VA_ARGS 0
#endif

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

/* The bits of the hash kept; a test sets fewer to force collisions (tracer_ids.c). */
uint64_t marker__tr_hash_mask = (1ull << 48) - 1;

static uint64_t hash48(const char *name, const char *types)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull; /* separator no name contains */
	for (const char *p = types; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	h &= marker__tr_hash_mask;
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
 * hash and the same (name, types), as its declaration says, the winner's id
 * is the event's and the fresh id is never declared (a gap).  A hash is not
 * an identity: a different pair with the same hash probes on.  The winner
 * writes the declaration record, then publishes its offset: until then the
 * id is not usable by others (they drop the event, counted), so that no
 * committed event can precede its declaration.
 * Returns the id, or -1: table full, or declaration not yet published.
 */
/* How long a thread waits for another's declaration: spins, then yields. */
#define DECL_WAIT_SPINS 4096
#define DECL_WAIT_YIELDS 20000

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
		/* Before the claim: a handler interrupting us must not wait for us. */
		__atomic_store_n(&marker__tr_self.declaring, 1, __ATOMIC_RELAXED);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		if (!__atomic_compare_exchange_n(&sh->slots[i], &key, h << 16 | id, 0,
						 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			__atomic_store_n(&marker__tr_self.declaring, 0, __ATOMIC_RELAXED);
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
		if (off + len > TR_ARENA_SIZE) {
			__atomic_store_n(&marker__tr_self.declaring, 0, __ATOMIC_RELAXED);
			return -1;
		}
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
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		__atomic_store_n(&marker__tr_self.declaring, 0, __ATOMIC_RELAXED);
		return id;
found:
		/*
		 * Same hash: the same event only if its declaration says the
		 * same (name, types); another pair whose hash collides probes on.
		 * Until the declaration is published nobody can tell: -1.
		 */
		id = (uint32_t)(key & 0xffff);
		off = __atomic_load_n(&sh->rec_off[id], __ATOMIC_ACQUIRE);
		/*
		 * The winner is writing the record: a few hundred nanoseconds,
		 * so wait rather than lose the first events of every thread that
		 * fires the marker at once.  Spin first; then, as the winner may
		 * have been preempted (a timeslice of CPU-bound neighbours is
		 * milliseconds), yield the CPU to it, up to DECL_WAIT_YIELDS
		 * times.  Never when this thread is itself declaring: then we are
		 * a signal handler that interrupted the winner, which cannot
		 * finish before we return, and the event is dropped (counted).
		 */
		for (unsigned spin = 0; !off && spin < DECL_WAIT_SPINS + DECL_WAIT_YIELDS; spin++) {
			if (__atomic_load_n(&marker__tr_self.declaring, __ATOMIC_RELAXED))
				break;
			if (spin < DECL_WAIT_SPINS) {
#if defined(__x86_64__) || defined(__i386__)
				__builtin_ia32_pause();
#endif
			} else {
				sched_yield();
			}
			off = __atomic_load_n(&sh->rec_off[id], __ATOMIC_ACQUIRE);
		}
		if (!off)
			return -1;
		d = (struct tr_decl *)(sh->arena + off - 1);
		if (strcmp(d->strings, m->name) ||
		    strcmp(d->strings + strlen(d->strings) + 1, m->types))
			continue;
		return id;
	}
	return -1;
}

/*
 * The shape most markers have: 32-bit ints, then at most one string, last.
 * Such an event is read and written without going through the types (see
 * the probe).  Returns the count of ints + 1, or 0 for any other shape.
 */
static uint8_t ints_shape(const char *types, unsigned nrec)
{
	unsigned n = 0;

	while (n < nrec && (types[n] == MARKER_TYPE_S32 || types[n] == MARKER_TYPE_U32))
		n++;
	if (n == nrec || (n + 1 == nrec && types[n] == MARKER_TYPE_STRING))
		return (uint8_t)(n + 1);
	return 0;
}

#if TR_VA_ARGS
/* The area entry's fast path, per event shape (defined at the end). */
typedef void tr_fast_func(struct tr_session *s, const struct tr_cache_ent *e,
			  const uint64_t *slots);
#define TR_SHAPES 11 /* 0 to 5 ints, 0 to 4 and a string */
static tr_fast_func *const fast_funcs[TR_SHAPES];
#endif

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
		e->ints = ints_shape(m->types, nrec);
#if TR_VA_ARGS
		e->fast_fn = e->ints && nrec <= TR_VA_ARGS
				     ? fast_funcs[(e->ints - 1) * 2 + (nrec >= e->ints)]
				     : NULL;
#endif
		__atomic_store_n(&e->ready, 1, __ATOMIC_RELEASE);
		/* After the fields it vouches for: fast_entry() acquires it alone. */
		__atomic_store_n(&e->fast, e->ints && nrec <= TR_VA_ARGS, __ATOMIC_RELEASE);
		return e;
	}
	return NULL;
}

/*
 * Overwrite mode: may the sub-buffer of @begin (its first byte) start a new
 * lap?  Only once every slice of its previous lap is committed: a writer
 * preempted (or interrupted by a signal handler that records) between its
 * reservation and its commit still writes into that slice, and a new lap
 * there would have it write over newer events (torn, stale, time going
 * backwards).  Every complete lap added exactly sbsize + 1 bytes to the
 * commit word (the close token included), and a lap opens only after the
 * previous one is complete, so laps 0..n-1 are complete iff the bytes equal
 * n (sbsize + 1): the low 32 bits of the difference are zero.  Once per
 * sub-buffer, so the division does not matter.
 */
static int lap_done(const struct tr_session *s, struct tr_buf_hdr *h, uint64_t begin)
{
	uint64_t n = (begin >> s->sbshift) / s->nsubbufs;
	uint64_t c;

	if (!n)
		return 1;
	c = __atomic_load_n(&h->sb[marker__tr_sb_index(s, begin)].commit, __ATOMIC_ACQUIRE);
	return (uint32_t)(c - n * (s->sbsize + 1)) == 0;
}

static inline void count_discard(struct tr_buf *b)
{
	__atomic_fetch_add(&b->h->discarded, 1, __ATOMIC_RELAXED);
}

/*
 * The CPU this thread runs on.  glibc 2.35 and later register rseq for
 * every thread and publish where its area lies (__rseq_offset from the
 * thread pointer); the kernel keeps the area's cpu_id current, so reading
 * it is one load (sched_getcpu() reads the same field, behind a call).
 * Weak: with an older glibc, or none registered (__rseq_size 0, e.g. under
 * valgrind), sched_getcpu().  A stale answer is harmless: the buffers take
 * writers from any CPU.
 */
extern const ptrdiff_t __rseq_offset __attribute__((weak));
extern const unsigned int __rseq_size __attribute__((weak));

/* Offset of this thread's rseq cpu_id from the thread pointer, 0: no rseq. */
static ptrdiff_t rseq_cpu;
/* Without rseq: how often a thread asks sched_getcpu(), in events; tr_self.cpu_hint. */
#define TR_CPU_ASK 256u
#define TR_CPU_USE 0x10000u

/* glibc registers rseq before any constructor runs. */
static __attribute__((constructor)) void rseq_init(void)
{
#if (defined(__x86_64__) || defined(__i386__) || defined(__aarch64__)) && \
	(defined(__clang__) || __GNUC__ >= 11)
	if (&__rseq_size != NULL && __rseq_size != 0)
		rseq_cpu = __rseq_offset + 4; /* struct rseq.cpu_id */
#endif
}

static inline unsigned current_cpu(unsigned nbufs)
{
	int cpu = -1;

#if (defined(__x86_64__) || defined(__i386__) || defined(__aarch64__)) && \
	(defined(__clang__) || __GNUC__ >= 11)
	if (__builtin_expect(rseq_cpu != 0, 1))
		cpu = *(volatile const int32_t *)((char *)__builtin_thread_pointer() + rseq_cpu);
#endif
	if (__builtin_expect(cpu < 0, 0)) {
		/*
		 * No rseq: sched_getcpu() is a call, a system call under some
		 * kernels and under valgrind; ask it every TR_CPU_ASK events
		 * only (the fast path counts them too: fast_cpu).  Interleaved
		 * with a signal handler's event, the worst is a stale hint.
		 */
		struct tr_self *me = &marker__tr_self;
		uint32_t hint = me->cpu_hint;

		if (hint < TR_CPU_USE) {
			int saved_errno = errno; /* the area probe keeps it (ring.c's end) */
			int c = sched_getcpu();

			errno = saved_errno;
			hint = (uint32_t)(c < 0 ? 0 : c & 0xffff) | TR_CPU_ASK * TR_CPU_USE;
		}
		me->cpu_hint = hint - TR_CPU_USE;
		cpu = (int)(hint & 0xffff);
	}
	return __builtin_expect((unsigned)cpu < nbufs, 1) ? (unsigned)cpu : (unsigned)cpu % nbufs;
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TR_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TR_SANITIZED 1
#endif
#endif

/*
 * strnlen(@str, @max), inline: the libc call cost 4 ns of a 30 ns event
 * (16-byte string).  A word at a time, with aligned loads: an aligned
 * 8-byte load never crosses a page, so reading the rest of the word past
 * the NUL cannot fault.  Sanitizers would rightly see those bytes read:
 * their builds call strnlen().
 */
static inline size_t str_len(const char *str, size_t max)
{
#if defined(__SSE2__) && !defined(TR_SANITIZED)
	/* The same, 16 bytes at a time (aligned: never across a page): 38 -> ~15 instructions. */
	uintptr_t a = (uintptr_t)str;
	const __m128i *w = (const __m128i *)(a & ~(uintptr_t)15);
	const __m128i zero = _mm_setzero_si128();
	unsigned z = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_load_si128(w), zero)) >> (a & 15);
	size_t n = 0;

	if (z) {
		n = (size_t)__builtin_ctz(z);
		return n < max ? n : max;
	}
	n = 16 - (a & 15);
	while (n < max) {
		z = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_load_si128(++w), zero));
		if (z) {
			n += (size_t)__builtin_ctz(z);
			return n < max ? n : max;
		}
		n += 16;
	}
	return max;
#elif __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && !defined(TR_SANITIZED)
	typedef uint64_t __attribute__((may_alias)) word;
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	uintptr_t a = (uintptr_t)str;
	const word *w = (const word *)(a & ~(uintptr_t)7);
	/* The bytes before @str, in the first word, set non-zero. */
	uint64_t v = *w | ((1ull << (a & 7) * 8) - 1);

	for (;;) {
		uint64_t z = (v - ones) & ~v & highs;
		size_t n;

		if (z) {
			n = (size_t)((const char *)w - str) + (size_t)__builtin_ctzll(z) / 8;
			return n < max ? n : max;
		}
		n = (size_t)((const char *)(w + 1) - str);
		if (n >= max)
			return max;
		v = *++w;
	}
#else
	return strnlen(str, max);
#endif
}

/*
 * memcpy(@dst, @src, @n) without a call, for strings: a call anywhere in
 * the fast path makes the compiler keep its values in callee-saved
 * registers, saved and restored by every event.
 */
static inline void copy_short(char *dst, const char *src, size_t n)
{
	if (n >= 8 && n <= 16) {
		uint64_t a, b;

		memcpy(&a, src, 8);
		memcpy(&b, src + n - 8, 8);
		memcpy(dst, &a, 8);
		memcpy(dst + n - 8, &b, 8);
	} else if (n >= 4 && n < 8) {
		uint32_t a, b;

		memcpy(&a, src, 4);
		memcpy(&b, src + n - 4, 4);
		memcpy(dst, &a, 4);
		memcpy(dst + n - 4, &b, 4);
	} else if (n < 4) {
		for (size_t i = 0; i < n; i++)
			dst[i] = src[i];
	} else {
		/* 16 bytes a step, the last step ending at the end (overlapping). */
		uint64_t a, b;

		for (size_t i = 0; i + 16 < n; i += 16) {
			memcpy(&a, src + i, 8);
			memcpy(&b, src + i + 8, 8);
			memcpy(dst + i, &a, 8);
			memcpy(dst + i + 8, &b, 8);
		}
		memcpy(&a, src + n - 16, 8);
		memcpy(&b, src + n - 8, 8);
		memcpy(dst + n - 16, &a, 8);
		memcpy(dst + n - 8, &b, 8);
	}
}

/*
 * Read the @nrec first arguments from @args: each value into @v, already in
 * its recorded width (little-endian, low bytes first), strings as pointers
 * measured into @slen.  Returns the strings' bytes (NULs included).  One
 * pass of va_arg; the write into the slice reads only @v.
 */
static inline uint64_t read_args(const char *types, unsigned nrec, va_list *args,
				 uint64_t *v, unsigned *slen)
{
	uint64_t bytes = 0;

	for (unsigned i = 0; i < nrec; i++) {
		switch (types[i]) {
		case MARKER_TYPE_S64:
		case MARKER_TYPE_U64:
			v[i] = (uint64_t)va_arg(*args, long long);
			break;
		case MARKER_TYPE_FLOAT: {
			float f = (float)va_arg(*args, double);
			uint32_t u;

			memcpy(&u, &f, 4);
			v[i] = u;
			break;
		}
		case MARKER_TYPE_DOUBLE: {
			double d = va_arg(*args, double);

			memcpy(&v[i], &d, 8);
			break;
		}
		case MARKER_TYPE_LDOUBLE: {
			double d = (double)va_arg(*args, long double);

			memcpy(&v[i], &d, 8);
			break;
		}
		case MARKER_TYPE_POINTER:
			v[i] = (uintptr_t)va_arg(*args, void *);
			break;
		case MARKER_TYPE_STRING: {
			const char *str = va_arg(*args, const char *);

			if (!str)
				str = "(null)";
			v[i] = (uintptr_t)str;
			slen[i] = (unsigned)str_len(str, TR_STRING_MAX);
			bytes += slen[i] + 1;
			break;
		}
		default: /* 8, 16 and 32 bits: promoted to int */
			v[i] = (uint32_t)va_arg(*args, int);
		}
	}
	return bytes;
}

/* Write the values read by read_args() at @p in their declared widths. */
static inline void write_args(char *p, const char *types, unsigned nrec, const uint64_t *v,
			      const unsigned *slen)
{
	for (unsigned i = 0; i < nrec; i++) {
		switch (types[i]) {
		case MARKER_TYPE_S8:
		case MARKER_TYPE_U8:
			*p++ = (char)v[i];
			break;
		case MARKER_TYPE_S16:
		case MARKER_TYPE_U16:
			memcpy(p, &v[i], 2);
			p += 2;
			break;
		case MARKER_TYPE_S64:
		case MARKER_TYPE_U64:
		case MARKER_TYPE_DOUBLE:
		case MARKER_TYPE_LDOUBLE:
			memcpy(p, &v[i], 8);
			p += 8;
			break;
		case MARKER_TYPE_POINTER:
			memcpy(p, &v[i], sizeof(void *));
			p += sizeof(void *);
			break;
		case MARKER_TYPE_STRING:
			copy_short(p, (const char *)(uintptr_t)v[i], slen[i]);
			p[slen[i]] = 0;
			p += slen[i] + 1;
			break;
		default: /* S32, U32, FLOAT */
			memcpy(p, &v[i], 4);
			p += 4;
		}
	}
}

/* Any event, any shape, any state of the buffer: the probe's general path. */
static __attribute__((noinline)) void record(struct tr_session *s, const struct marker *m,
					     va_list *args)
{
	struct tr_cache_ent *e, slow;
	uint64_t val[MARKER_MAX_ARGS];
	unsigned slen[MARKER_MAX_ARGS];
	struct tr_buf *b;
	struct tr_buf_hdr *h;
	struct tr_sb *sb;
	uint64_t old, begin, end, ts, mask, payload;
	unsigned hsize, nrec, idx, nints, tail_len = 0;
	uint32_t ints[MARKER_MAX_ARGS];
	const char *tail = NULL;
	int32_t tid;
	int ext;
	char *p;

	if (__builtin_expect(!s->active, 0))
		return;
	tid = marker__tr_tid(s);
	b = &s->bufs[current_cpu(s->nbufs)];
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
		slow.ints = 0;
		for (const char *t = m->types; *t && *t != MARKER_TYPE_UNKNOWN; t++, slow.nrec++) {
			slow.fixed += marker__tr_type_size(*t);
			slow.strings |= *t == MARKER_TYPE_STRING;
		}
		e = &slow;
	}

	/*
	 * One pass over the arguments: their values, and the strings' lengths
	 * for the size to reserve.  They are written into the slice from there.
	 */
	nrec = e->nrec;
	payload = e->fixed;
	nints = e->ints - 1; /* -1 (as unsigned: huge) when not of that shape */
	if (e->ints && __builtin_expect(s->filters == NULL, 1)) {
		/* Ints and a last string: no switch on the types, one copy of the ints. */
		for (unsigned i = 0; i < nints; i++)
			ints[i] = (uint32_t)va_arg(*args, int);
		if (nrec > nints) {
			tail = va_arg(*args, const char *);
			if (!tail)
				tail = "(null)";
			tail_len = (unsigned)str_len(tail, TR_STRING_MAX);
			payload += tail_len + 1;
		}
	} else if (nrec) {
		nints = ~0u;
		payload += read_args(m->types, nrec, args, val, slen);
	}
	/* Filters decide on the values before any room is taken (tr_filter.h). */
	if (__builtin_expect(__atomic_load_n(&s->filters, __ATOMIC_RELAXED) != NULL, 0) &&
	    !marker__tr_filter_pass(s, m, e == &slow ? NULL : e, (unsigned)(b - s->bufs), val,
				    slen))
		return;

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
		hsize = (ext ? TR_HDR_EXTENDED : TR_HDR_COMPACT) + TR_CONTEXT;
		if (off && off + hsize + payload > s->sbsize) {
			/* Does not fit: pad to the next sub-buffer and open it. */
			begin += s->sbsize - off;
			ext = 1;
			hsize = TR_HDR_EXTENDED + TR_CONTEXT;
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
		if (s->overwrite && (begin & mask) == 0 && !lap_done(s, h, begin)) {
			count_discard(b); /* overwrite mode: a slower writer still holds a slice */
			return;
		}
		end = begin + hsize + payload;
		if (__atomic_compare_exchange_n(&h->reserve, &old, end, 1, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			break;
	}
	__atomic_store_n(&h->last_ts, ts, __ATOMIC_RELAXED);

	idx = marker__tr_sb_index(s, begin);
	sb = &h->sb[idx];
	if ((begin & mask) == 0)
		marker__tr_sb_open(s, h, begin, old, ts); /* we open it, and close the previous one */

	/* Write the event: header, context (vtid), then the arguments in their declared widths. */
	p = b->data + ((uint64_t)idx << s->sbshift) + (begin & mask);
	/*
	 * The lock-prefixed commit below waits until every store before it,
	 * ours to the slice included, is in the cache: a slice in a line not
	 * yet there waits for that line to come from memory (the buffer is
	 * 2 MiB, and the consumer's write() of it evicts it).  Asking now for
	 * a line a few events ahead, for writing, makes that wait rare:
	 * measured on a 2-core Xeon guest, 48 -> 42 ns per event.  A prefetch
	 * past the mapping cannot fault.
	 */
	__builtin_prefetch(p + 256, 1, 3);
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
	memcpy(p, &tid, 4);
	p += TR_CONTEXT;
	if (nints != ~0u) {
		copy_short(p, (const char *)ints, nints * 4);
		if (tail) {
			p += nints * 4;
			copy_short(p, tail, tail_len);
			p[tail_len] = 0;
		}
	} else {
		write_args(p, m->types, nrec, val, slen);
	}

	/* Commit: this slice's bytes and one event; pairs with the consumer's acquire. */
	__atomic_fetch_add(&sb->commit, (end - begin) + (1ull << 32), __ATOMIC_RELEASE);
}

#if TR_VA_ARGS
/*
 * The cache entry of @m if it is in its first slot, filled, and of the
 * fast shape; else NULL (record() does the full lookup, and the filling).
 */
static inline const struct tr_cache_ent *fast_entry(const struct tr_session *s,
						     const struct marker *m)
{
	uintptr_t k = (uintptr_t)m;
	const struct tr_cache_ent *e = &s->cache[(unsigned)((k >> 3) * 0x9E3779B1u) % TR_CACHE];

	if (__atomic_load_n(&e->desc, __ATOMIC_RELAXED) != m ||
	    !__atomic_load_n(&e->fast, __ATOMIC_ACQUIRE) || e->name != m->name ||
	    e->types != m->types)
		return NULL;
	return e;
}

/*
 * This thread's CPU for the fast path, without a call: rseq's cpu_id, or
 * without rseq the CPU record() last asked, while it is fresh (current_cpu
 * says how often it asks).  -1 (as unsigned: huge) sends the event to
 * record(), which asks.
 */
static inline unsigned fast_cpu(void)
{
	if (__builtin_expect(rseq_cpu != 0, 1)) {
#ifdef __SEG_FS
		return (unsigned)*(volatile const int32_t __seg_fs *)rseq_cpu;
#else
		return (unsigned)*(volatile const int32_t *)((char *)__builtin_thread_pointer() +
							     rseq_cpu);
#endif
	}
	uint32_t hint = marker__tr_self.cpu_hint;

	if (__builtin_expect(hint < TR_CPU_USE, 0))
		return ~0u;
	marker__tr_self.cpu_hint = hint - TR_CPU_USE;
	return hint & 0xffff;
}

/*
 * The fast path: an event of @e's shape (32-bit ints and at most a last
 * string, TR_VA_ARGS arguments at most), its arguments in the 8-byte slots
 * @a, into a slice inside the sub-buffer being filled, which needs no
 * opening, no full check and no close.  It reserves, writes and commits
 * exactly as record() does.  Returns 1 when recorded; 0 when the event
 * needs record(): nothing was changed then.  The caller checked the
 * session's fast_gen (the thread is announced, no filter, the TSC clock).
 * A leaf: no call, so that the compiler needs no callee-saved register.
 */
static inline __attribute__((always_inline)) int record_fast_shape(struct tr_session *s,
								   const struct tr_cache_ent *e,
								   const uint64_t *a,
								   unsigned nints, int has_str)
{
	const char *str = NULL;
	struct tr_buf *b;
	struct tr_buf_hdr *h;
	uint64_t old, ts, off, end, size, ring;
	unsigned slen = 0, cpu;
	uint32_t id = e->id;
	int ext;
	char *p;

	size = TR_HDR_COMPACT + TR_CONTEXT + 4 * nints;
	if (has_str) {
		str = (const char *)(uintptr_t)a[nints];
		if (__builtin_expect(!str, 0))
			return 0; /* record() writes "(null)" */
		slen = (unsigned)str_len(str, TR_STRING_MAX);
		size += slen + 1;
	}
	cpu = fast_cpu();
	if (__builtin_expect(cpu >= s->nbufs, 0))
		return 0;
	b = &s->bufs[cpu];
	h = b->h;
	/* Reserve: record() explains the order of the loads and the clock. */
	old = __atomic_load_n(&h->reserve, __ATOMIC_ACQUIRE);
	do {
		ts = __builtin_ia32_rdtsc();
		off = old & s->sbmask;
		ext = id >= TR_COMPACT_IDS ||
		      ts - __atomic_load_n(&h->last_ts, __ATOMIC_RELAXED) >= (1u << TR_TS_BITS);
		end = old + size + (ext ? TR_HDR_EXTENDED - TR_HDR_COMPACT : 0);
		/* Opens a sub-buffer, or does not fit in this one: the general path. */
		if (__builtin_expect(!off || off + (end - old) > s->sbsize, 0))
			return 0;
	} while (!__atomic_compare_exchange_n(&h->reserve, &old, end, 1, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	__atomic_store_n(&h->last_ts, ts, __ATOMIC_RELAXED);

	ring = old & s->ring_mask; /* offset in the data: sub-buffer index, then offset in it */
	p = b->data + ring;
	__builtin_prefetch(p + 256, 1, 3); /* record() says why */
	if (!ext) {
		uint32_t w = id | (uint32_t)ts << 5;

		memcpy(p, &w, 4);
		p += TR_HDR_COMPACT;
	} else {
		*p = TR_COMPACT_IDS;
		memcpy(p + 1, &id, 4);
		memcpy(p + 5, &ts, 8);
		p += TR_HDR_EXTENDED;
	}
	memcpy(p, &marker__tr_self.tid, 4);
	p += TR_CONTEXT;
	/* The ints' low halves (little-endian), pairs in one store. */
	switch (nints) {
	case 5:
	case 4: {
		uint64_t w = (uint32_t)a[2] | a[3] << 32;

		memcpy(p + 8, &w, 8);
	}
		/* fall through */
	case 3:
	case 2: {
		uint64_t w = (uint32_t)a[0] | a[1] << 32;

		memcpy(p, &w, 8);
		break;
	}
	}
	if (nints & 1)
		memcpy(p + 4 * (nints - 1), &a[nints - 1], 4);
	p += 4 * nints;
	if (str) {
		copy_short(p, str, slen);
		p[slen] = 0;
	}
	/* Commit: record() says what. */
	__atomic_fetch_add(&h->sb[ring >> s->sbshift].commit, (end - old) + (1ull << 32),
			   __ATOMIC_RELEASE);
	return 1;
}

/* record_fast_shape() with @e's counts read at run time: the va_list entry's. */
static inline __attribute__((always_inline)) int record_fast(struct tr_session *s,
							     const struct tr_cache_ent *e,
							     const uint64_t *a)
{
	unsigned nints = e->ints - 1u;

	return record_fast_shape(s, e, a, nints, e->nrec > nints);
}
#endif

/*
 * The probe, as marker_fire() calls it.  Most events take the fast path
 * (record_fast): a marker of the fast shape (its cache entry says,
 * computed once per marker from the descriptor's types: nothing is parsed
 * per event) whose arguments are all in one place of the va_list.
 * Anything else - the first event of a thread, a sub-buffer boundary, a
 * filter, another shape - goes to record(), before anything was changed.
 */
void marker__tr_probe(const struct marker *m, void *priv, const char *fmt, va_list *args)
{
#if TR_VA_ARGS
	struct tr_session *s = priv;
	const struct tr_va *va = (const struct tr_va *)*args;
	const struct tr_cache_ent *e;
	const uint64_t *a;
	unsigned gp;

	(void)fmt;
	if (__builtin_expect(marker__tr_self.session != __atomic_load_n(&s->fast_gen,
									 __ATOMIC_RELAXED), 0))
		goto general;
	e = fast_entry(s, m);
	if (__builtin_expect(!e, 0))
		goto general;
	gp = va->gp_offset;
	if (gp == 48)
		a = va->overflow_arg_area; /* the stub's, or no register argument left */
	else if (__builtin_expect(gp + 8 * e->nrec <= 48, 1))
		a = (const uint64_t *)(va->reg_save_area + gp);
	else
		goto general; /* some in registers, some beyond */
	if (__builtin_expect(record_fast(s, e, a), 1))
		return;
general:
#endif
	record(priv, m, args);
}

#if TR_VA_ARGS
/*
 * The area probe's way out of its fast path: errno kept, as the area
 * entry promises (record() may make system calls: the thread's first
 * event, a declaration that waits), and, given @p, its hint set once the
 * marker's cache entry is filled and of the fast shape.
 */
static __attribute__((noinline)) void record_area(struct tr_session *s, const struct marker *m,
						  struct marker__probe *p, const uint64_t *slots)
{
	int saved_errno = errno;
	const struct tr_cache_ent *e;
	va_list args;

	marker__x86_va_slots(args, slots);
	record(s, m, &args);
	va_end(args);
	if (p && (e = fast_entry(s, m)) != NULL)
		__atomic_store_n(&p->hint, (void *)e, __ATOMIC_RELEASE); /* the probe says why */
	errno = saved_errno;
}

/*
 * The area entry's fast path, one function per shape it takes (TR_VA_ARGS
 * arguments at most: 0 to 5 ints, 0 to 4 and a string), each with its
 * counts known to the compiler and its own frame: no count kept in a
 * register nor switched on, and only the registers its shape needs saved.
 * A miss goes to record_area() (the hint is right).  lookup() sets the
 * cache entry's fast_fn to its shape's.
 */
#define TR_FAST(n, str)                                                                     \
	static __attribute__((noinline)) void fast_##n##_##str(                             \
		struct tr_session *s, const struct tr_cache_ent *e, const uint64_t *slots)  \
	{                                                                                   \
		if (__builtin_expect(!record_fast_shape(s, e, slots, n, str), 0))           \
			record_area(s, e->desc, NULL, slots);                               \
	}
TR_FAST(0, 0) TR_FAST(1, 0) TR_FAST(2, 0) TR_FAST(3, 0) TR_FAST(4, 0) TR_FAST(5, 0)
TR_FAST(0, 1) TR_FAST(1, 1) TR_FAST(2, 1) TR_FAST(3, 1) TR_FAST(4, 1)
#undef TR_FAST
/* Numbered ints * 2 + (a string): lookup() sets e->fast_fn from here. */
static tr_fast_func *const fast_funcs[TR_SHAPES] = {
	fast_0_0, fast_0_1, fast_1_0, fast_1_1, fast_2_0, fast_2_1,
	fast_3_0, fast_3_1, fast_4_0, fast_4_1, fast_5_0,
};

/*
 * The probe, as the register-preserving stub's dispatch calls it
 * (probes.c: marker__area_func): the slots as they are, no va_list, and
 * the marker's cache entry from @p's hint, so that no hash is computed.
 * The hint belongs to the marker's probe array, which one marker's
 * descriptors reach: it is checked as fast_entry() checks an entry, by
 * the address and the types (an object loaded where an unloaded one was
 * may put another descriptor there), the name being the marker's.
 * Leaves errno as it found it.
 */
void marker__tr_probe_area(const struct marker *m, struct marker__probe *p,
			   const uint64_t *slots)
{
	struct tr_session *s = p->priv;
	/*
	 * Acquire, paired with the release stores below: the thread that set
	 * the hint had acquired the entry's `fast`, stored after its fields,
	 * so they are visible here too (plain moves on x86).
	 */
	const struct tr_cache_ent *e = __atomic_load_n(&p->hint, __ATOMIC_ACQUIRE);

	if (__builtin_expect(marker__tr_self.session != __atomic_load_n(&s->fast_gen,
									 __ATOMIC_RELAXED), 0))
		goto general;
	if (__builtin_expect(!e || __atomic_load_n(&e->desc, __ATOMIC_RELAXED) != m ||
			     e->types != m->types, 0)) {
		/* Another descriptor of the marker than last time, or the first event. */
		e = fast_entry(s, m);
		if (!e)
			goto general;
		__atomic_store_n(&p->hint, (void *)e, __ATOMIC_RELEASE);
	}
	e->fast_fn(s, e, slots);
	return;
general:
	record_area(s, m, p, slots);
}
#endif
