/*
 * live.c - close the packets being filled, every live period, so that a
 * reader (`markers record --relay --live`, and through lttng-relayd,
 * babeltrace2's lttng-live source) sees events within that period even
 * when the sub-buffers fill slowly.
 *
 * Consumer side only: the writers' hot path (ring.c) is unchanged.  The
 * consumer closes a CPU's current sub-buffer the way a writer does when
 * its event does not fit, with the writers' own marker__tr_sb_open()
 * (tracer_int.h: the reservation moves to the next sub-buffer, and its
 * opener closes the previous one: end time, length, close token), except
 * that the consumer has no event to write.  So it
 * opens the next sub-buffer with a reservation of LIVE_FILL bytes that
 * hold nothing: they keep the next writer from seeing offset 0 (which
 * would make it open, and close the previous sub-buffer, a second time),
 * and the drain skips them (tr_sb.skip).  Its commit counts them, with no
 * event.
 *
 * An empty sub-buffer is closed too: each CPU then writes one packet per
 * period, events or not, whose timestamps tell a live reader that nothing
 * happened on that CPU until then (LTTng's consumer sends "beacons" for
 * this).
 *
 * The first writer after the consumer's opening may use a compact header:
 * its time is decoded from the packet's timestamp_begin (the consumer's
 * time, which is also last_ts), as CTF decodes the first event of a packet.
 */
#include "tracer_int.h"

#define LIVE_FILL 8

/*
 * The clock, read only once every instruction before it is done: the load
 * of the position (or the failed CAS that reloaded it).  A writer reads its
 * time before its CAS (ring.c), whose store takes effect only once that read
 * has retired; if our CAS succeeds after that writer's, we saw its position,
 * and a time read after seeing it is not earlier than the writer's: its
 * event cannot lie after the end we give its packet.  Without the fences
 * RDTSC may run ahead of a load still waiting for the line (the writer's CPU
 * holds it), by as long as that takes.  The second fence keeps the read
 * before our CAS, as close as may be to the next writer's.  Consumer only:
 * writers read the clock unfenced.
 */
static uint64_t clock_after_loads(void)
{
#if defined(__x86_64__) || defined(__i386__)
	if (marker__tr_use_tsc) {
		uint64_t t;

		__asm__ __volatile__("lfence" ::: "memory");
		t = __builtin_ia32_rdtsc();
		__asm__ __volatile__("lfence" ::: "memory");
		return t;
	}
#endif
	return marker__tr_clock(); /* clock_gettime() orders its own read */
}

void marker__tr_live_flush(struct tr_session *s, struct tr_buf *b)
{
	struct tr_buf_hdr *h = b->h;
	uint64_t mask = s->sbsize - 1, old, begin, ts;
	struct tr_sb *sb;

	if (s->overwrite)
		return; /* nothing consumes while recording */
	old = __atomic_load_n(&h->reserve, __ATOMIC_ACQUIRE);
	for (;;) {
		ts = clock_after_loads();
		/* The next sub-buffer, or this one if nobody opened it yet (offset 0). */
		begin = old & mask ? old + s->sbsize - (old & mask) : old;
		/* Discard mode: that sub-buffer must be free, as for a writer. */
		if (begin - __atomic_load_n(&h->consumed, __ATOMIC_ACQUIRE) >=
		    s->sbsize * s->nsubbufs)
			return; /* full: the writers close packets fast enough */
		/* Same ordering as a writer's reservation (ring.c): acq_rel on success. */
		if (__atomic_compare_exchange_n(&h->reserve, &old, begin + LIVE_FILL, 1,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			break;
	}
	__atomic_store_n(&h->last_ts, ts, __ATOMIC_RELAXED);
	/* We open it, and close the previous one, as a writer reserving at its offset 0 would. */
	sb = marker__tr_sb_open(s, h, begin, old, ts);
	/*
	 * Before our commit below, which this sub-buffer's completion needs:
	 * the drain cannot read skip earlier.
	 */
	sb->skip = LIVE_FILL;
	/* Our bytes, no event; publishes ts_begin, pos and skip with them. */
	__atomic_fetch_add(&sb->commit, LIVE_FILL, __ATOMIC_RELEASE);
}
