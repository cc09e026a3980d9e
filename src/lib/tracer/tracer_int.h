/*
 * tracer_int.h - the recording tracer's private structures (private).
 *
 * A session owns a trace directory DIR.  Its state lives in files mapped
 * MAP_SHARED under DIR/.buffers/, so that whatever was committed survives
 * the death of the process (docs/trace-format.md):
 *
 * (each a symbolic link to a file in /dev/shm when there is one: files.c)
 *   session   struct tr_session_hdr, then the event table: a hash of
 *             (name, types) -> event id, the id -> record offset array,
 *             and an arena of declaration records
 *   cpuN      struct tr_buf_hdr, per-sub-buffer control, then the data
 *
 * Who touches what, and when (positions are absolute byte counts that only
 * grow; a position p lies in sub-buffer (p / sbsize) % nsubbufs):
 *
 *   field                 writers (probe)               consumer / stop / recover
 *   buf.reserve           CAS, any thread, any CPU      read
 *   buf.last_ts           relaxed store after reserve   -
 *   buf.consumed          acquire load (full check)     release store after a packet
 *   buf.discarded         atomic add                    read
 *   sb.commit             atomic add (release)          acquire load; reset to 0
 *   sb.ts_begin, .pos     the sub-buffer's opener       read once complete
 *   sb.ts_end, .data_end  the sub-buffer's closer       read once complete
 *   sh.threads[i]         the announcing thread, once   consumer: name on rename
 *                         (tid release-stored last)     metadata: acquire tid
 *
 * A sub-buffer's commit word is bytes + (events << 32) added by every event
 * in it, plus one "close token" (padding + 1 byte) added by the writer that
 * moves on to the next sub-buffer: it is complete, for the consumer, when
 * its low 32 bits equal sbsize + 1.  In discard mode the consumer resets it
 * before handing the sub-buffer back; in overwrite mode nothing consumes
 * while recording and the words only grow (see flush.c).
 */
#ifndef MARKERS_TRACER_INT_H
#define MARKERS_TRACER_INT_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include "markers.h"
#include "markers/tracer.h"
#include "../kept_fd.h"

/*
 * Everything declared below is the library's own: hidden, so that the
 * probe reaches these variables and functions directly, not through the
 * GOT and the PLT as it must for symbols that another object could
 * interpose (the build hides their definitions; this tells the callers).
 */
#pragma GCC visibility push(hidden)

#define TR_SESSION_MAGIC 0x4d4b5253u /* "SRKM" */
#define TR_BUF_MAGIC 0x4d4b5242u
#define TR_VERSION 3 /* 3: the trace directory in the session header (shm_gc.c) */

#define TR_NSLOTS 8192   /* (name, types) hash slots */
#define TR_MAX_IDS 65536 /* event ids */
#define TR_ARENA_SIZE (1u << 20)
#define TR_STRING_MAX 1023

#define TR_COMPACT_IDS 31 /* ids below this fit the compact header */
#define TR_TS_BITS 27
#define TR_HDR_COMPACT 4
#define TR_HDR_EXTENDED 13 /* 5-bit escape padded to a byte, 32-bit id, 64-bit time */
#define TR_CONTEXT 4 /* stream event context after the header: int32_t vtid */
#define TR_PACKET_HDR 76 /* packet header + context, bytes */
/*
 * Space kept allocated past the end of every stream file (fallocate,
 * FALLOC_FL_KEEP_SIZE), so that the empty packet carrying the final
 * discarded count can be written when the disk is full.
 */
#define TR_TAIL_RESERVE 4096
/* In write_err: a write-back failed (fdatasync), so data may be missing that no count covers. */
#define TR_ERR_SYNC (1u << 16)
#define TR_ERRNO(w) ((int)((w) & 0xffff))

#define TR_DIR_MAX 4096
/*
 * A buffer file in /dev/shm: markers-PID-START-TAG-NAME, PID and START (in
 * clock ticks after boot, /proc/PID/stat) the owning process's, TAG 16 hex
 * digits of the session's, NAME "session" or "cpuN" (shm_gc.c).
 */
#define TR_SHM_DIR "/dev/shm"
#define TR_SHM_PREFIX "markers-"

#define TR_DEFAULT_SUBBUF (256u << 10)
#define TR_DEFAULT_NSUBBUFS 8

/*
 * One thread that recorded, in the session's thread table.  The thread
 * appends its entry the first time it records (claiming a slot with an
 * atomic add, then release-storing @tid); the consumer refreshes @name
 * when the thread renames itself (session.c); the metadata writer lists
 * the newest entry of each tid.  A tid the kernel reuses gets a new entry.
 */
#define TR_MAX_THREADS 4096
#define TR_THREAD_NAME 16 /* TASK_COMM_LEN */
struct tr_thread_ent {
	int32_t tid;   /* 0 until published */
	uint32_t gone; /* consumer: the thread has exited, no more refreshes */
	uint64_t pad;
	char name[TR_THREAD_NAME];
};

/* A declaration record in the arena: header, then name\0types\0format\0file\0. */
struct tr_decl {
	uint32_t len; /* whole record, bytes */
	uint32_t id;
	uint32_t line;
	uint32_t pad;
	char strings[];
};

struct tr_session_hdr {
	uint32_t magic, version;
	uint8_t uuid[16];
	uint32_t nbufs, nsubbufs;
	uint64_t subbuf_size;
	uint32_t overwrite;
	uint32_t clock_tsc; /* 1: rdtsc; 0: CLOCK_MONOTONIC in ns */
	int64_t pid;
	char procname[64];
	/*
	 * Calibration: (clock, CLOCK_REALTIME ns) at start, and a later pair
	 * refreshed by the consumer under cal_seq (odd while writing).
	 */
	uint64_t cal_clock0;
	int64_t cal_real0;
	uint32_t cal_seq, pad0;
	uint64_t cal_clock1;
	int64_t cal_real1;
	uint64_t nominal_freq; /* Hz; 1e9 for CLOCK_MONOTONIC */
	/* The event table. */
	uint32_t next_id;    /* atomic: ids handed out (some never declared) */
	uint32_t arena_used; /* atomic: bytes of the arena taken */
	uint32_t ndecl;      /* atomic: declarations published */
	uint32_t write_err;  /* errno of the first failed trace write, 0: none; | TR_ERR_SYNC (flush.c) */
	/* The thread table. */
	uint32_t nthreads;     /* atomic: entries claimed (may exceed TR_MAX_THREADS) */
	uint32_t threads_gen;  /* atomic: bumped by every new entry or renamed thread */
	uint32_t pad1;
	/*
	 * The trace directory, absolute: an orphaned buffer file in /dev/shm
	 * is one whose directory no longer links to it (shm_gc.c).
	 */
	char dir[TR_DIR_MAX];
	struct tr_thread_ent threads[TR_MAX_THREADS];
	uint64_t slots[TR_NSLOTS]; /* 0, or (hash48 << 16) | id */
	uint32_t rec_off[TR_MAX_IDS]; /* id -> arena offset + 1 of its record, 0: none */
	char arena[TR_ARENA_SIZE];
};

struct tr_sb {
	uint64_t commit;
	uint64_t ts_begin, ts_end;
	uint64_t data_end; /* bytes of events in the closed sub-buffer */
	uint64_t pos;      /* position of its first byte, for this cycle */
	uint64_t skip;     /* bytes at its start that hold no event (live.c), reset by the drain */
	/*
	 * The buffer's `discarded` when this sub-buffer was closed: its
	 * packet's events_discarded.  Taken at the close, not when the
	 * consumer writes the packet: a reader places the losses between the
	 * previous packet's end and this one's, and discards made after the
	 * close (a full buffer) belong to a later packet.
	 */
	uint64_t disc;
} __attribute__((aligned(64)));

struct tr_buf_hdr {
	uint32_t magic, cpu;
	uint64_t subbuf_size;
	uint32_t nsubbufs, pad;
	uint64_t data_offset; /* of the data in the file, page-aligned */
	/* Writers' line. */
	uint64_t reserve __attribute__((aligned(64)));
	uint64_t last_ts;
	/* Consumer's line: one store of consumed says "this packet is in the stream file". */
	uint64_t consumed __attribute__((aligned(64)));
	uint64_t written_events; /* events moved to the stream file */
	/*
	 * Sub-buffers that could not be written (disk full, I/O error): their
	 * events were added to `discarded`.  The stream file holds
	 * consumed / subbuf_size - dropped packets (flush.c).
	 */
	uint64_t dropped;
	/*
	 * What is known to be on the disk (flush.c, write-back): the stream
	 * file's first durable_end bytes, durable_packets whole packets of
	 * durable_events events, came back from write-back without an error.
	 */
	uint64_t durable_end, durable_events, durable_packets;
	uint64_t discarded __attribute__((aligned(64)));
	/*
	 * Events the session's filters rejected on this CPU (tr_filter.c):
	 * here, not in the process's memory, so that a recovery counts them.
	 */
	uint64_t filtered;
	struct tr_sb sb[];
};

/* One mapped buffer, as the process sees it. */
struct tr_buf {
	struct tr_buf_hdr *h;
	char *data;
	size_t map_size;
	struct marker__kept_fd stream; /* DIR/cpuN, checked before each write (kept_fd.h) */
	uint64_t file_end; /* bytes of whole packets in it: where the next one goes */
	uint64_t last_end, last_disc; /* timestamp_end, events_discarded of its last packet */
	int no_falloc;     /* its file system cannot reserve space ahead (fallocate) */
	/* The range handed to write-back last period, not yet waited for (flush.c). */
	uint64_t wb_end, wb_events, wb_packets;
};

/* Process-private cache: descriptor -> event id, filled lock-free. */
struct tr_session;
struct tr_cache_ent {
	const struct marker *desc; /* CAS from NULL claims the slot */
	const char *name, *types;  /* checked: a new object may reuse the address */
	uint32_t id;
	uint32_t fixed;   /* payload bytes of the non-string arguments */
	uint8_t nrec;     /* arguments recorded (stops at the first '?') */
	uint8_t strings;  /* has string arguments */
	uint8_t ints;     /* 32-bit ints, then at most a string, nothing else: their count + 1, else 0 */
	uint8_t ready;    /* release-stored once the fields above are set */
	uint8_t fast;     /* release-stored last: 1 if of that shape with at most 5 arguments (ring.c) */
	uint64_t filter;  /* the marker's filter binding (tr_filter.c), 0: none yet */
	/* x86-64: the area entry's fast path for that shape (ring.c), set with the fields above. */
	void (*fast_fn)(struct tr_session *s, const struct tr_cache_ent *e, const uint64_t *slots);
};
#define TR_CACHE 4096

struct tr_session {
	int active; /* 0 in a forked child: the probe returns */
	uint32_t gen; /* unique per session in this process: threads announce themselves once */
	/*
	 * The probe's fast path is allowed for threads whose tr_self.session
	 * equals this: gen while the session is active, has no filter, a
	 * power-of-two ring and the TSC clock; else gen | TR_GEN_SLOW, which
	 * no thread holds.
	 * One load and compare for all of it (marker__tr_fast_update).
	 */
	uint32_t fast_gen;
	char *dir;
	/* Checked before what writes through them (kept_fd.h). */
	struct marker__kept_fd dir_fd, lock_fd;
	struct marker__kept_fd bufs_fd; /* DIR/.buffers (trace_dir.c: everything relative to checked descriptors) */
	uint8_t tag[8]; /* names the buffer files in /dev/shm */
	int overwrite;
	uint64_t sbsize;
	uint64_t sbmask;  /* sbsize - 1 */
	unsigned nsubbufs, nbufs;
	unsigned sbshift; /* log2(sbsize) */
	int nsb_pow2;     /* nsubbufs is a power of two (the default): no division */
	uint64_t ring_mask; /* nsb_pow2: nsubbufs * sbsize - 1, position -> offset in the data; else 0 */
	struct tr_session_hdr *sh;
	size_t sh_size;
	struct tr_buf *bufs;
	struct tr_cache_ent cache[TR_CACHE];
	/* Globs the probe is registered for. */
	char **globs;
	size_t nglobs;
	/* Consumer. */
	pthread_t consumer;
	int consumer_running, consumer_stop;
	uint32_t metadata_ndecl; /* declarations in the metadata file */
	uint32_t metadata_threads_gen; /* threads_gen the metadata file lists */
	int metadata_unsynced; /* written without waiting for the disk (writeback.c waits) */
	uint32_t name_poll;            /* next thread table entry to check for a rename */
	uint64_t stream_bytes;
	uint64_t packet_events;  /* events written to stream files */
	const char *state;
	uint64_t final_discarded; /* sum of the streams' final counts, after stop */
	unsigned live_period_ms;  /* 0, or close packets this often (live.c) */
	struct tr_filters *filters; /* NULL until a glob is enabled with a filter (tr_filter.c) */
};

/* ---- clock (clock.c) ---- */
extern int marker__tr_use_tsc; /* set by the first marker__tr_clock_start() */
/* A new session's clock: the choice of clock, the first calibration pair, the nominal frequency. */
void marker__tr_clock_start(struct tr_session_hdr *sh);
/* The later calibration pair, now (the consumer; the end of a session). */
void marker__tr_clock_update(struct tr_session_hdr *sh);
static inline uint64_t marker__tr_clock(void)
{
#if defined(__x86_64__) || defined(__i386__)
	if (__builtin_expect(marker__tr_use_tsc, 1))
		return __builtin_ia32_rdtsc();
#endif
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}
int64_t marker__tr_realtime_ns(void);
/* Frequency and Epoch offset of the trace clock from the calibration pairs. */
void marker__tr_clock_params(const struct tr_session_hdr *sh, uint64_t *freq, int64_t *offset_s,
			     uint64_t *offset_cycles);

/*
 * The sub-buffer of position @pos.  A 64-bit division costs tens of cycles
 * here, several per event: the shift and the mask take none.
 */
static inline unsigned marker__tr_sb_index(const struct tr_session *s, uint64_t pos)
{
	uint64_t n = pos >> s->sbshift;

	return (unsigned)(__builtin_expect(s->nsb_pow2, 1) ? n & (s->nsubbufs - 1)
							     : n % s->nsubbufs);
}

/*
 * Open the sub-buffer of @begin (its offset 0), which the caller has just
 * reserved at time @ts with a reservation that moved the position from
 * @old: its begin time and position, then the close of the previous one
 * (its end time, the length of its events, the discarded count of its
 * packet, and the close token, padding + 1 byte, which completes it for
 * the consumer: see the top of this file).
 * The one way to do it, for writers (ring.c) and the live consumer
 * (live.c) alike.  Returns the opened sub-buffer.
 */
static inline struct tr_sb *marker__tr_sb_open(const struct tr_session *s, struct tr_buf_hdr *h,
					       uint64_t begin, uint64_t old, uint64_t ts)
{
	unsigned idx = marker__tr_sb_index(s, begin);
	struct tr_sb *sb = &h->sb[idx];

	sb->ts_begin = ts;
	sb->pos = begin;
	if (begin) {
		struct tr_sb *prev = &h->sb[idx ? idx - 1 : s->nsubbufs - 1];

		prev->ts_end = ts;
		prev->data_end = old - (begin - s->sbsize);
		prev->disc = __atomic_load_n(&h->discarded, __ATOMIC_RELAXED);
		/* Pairs with the consumer's acquire load of the commit word. */
		__atomic_fetch_add(&prev->commit, begin - old + 1, __ATOMIC_RELEASE);
	}
	return sb;
}

/* ---- thread identity (threads.c) ---- */
/*
 * What this thread knows of itself, per thread (initial-exec: one load, no
 * call).  @tid is gettid(), read once; @session is the gen of the session
 * this thread has announced itself in (its table entry written).
 */
struct tr_self {
	int32_t tid;
	uint32_t session;
	uint32_t busy; /* announcing: a signal handler that records meanwhile skips it */
	uint32_t declaring; /* writing an event's declaration (ring.c's event_id) */
	/*
	 * Without rseq (ring.c's current_cpu): the CPU last asked (low 16
	 * bits) and the events left before asking again (high 16 bits), one
	 * word that the fast path reads and counts down.
	 */
	uint32_t cpu_hint;
};
extern __thread struct tr_self marker__tr_self __attribute__((tls_model("initial-exec")));
/* Slow path of marker__tr_tid(): read the tid, enter the thread table. */
int32_t marker__tr_announce(struct tr_session *s);
/* The calling thread's id, announced in @s's thread table. */
static inline int32_t marker__tr_tid(struct tr_session *s)
{
	if (__builtin_expect(marker__tr_self.session == s->gen, 1))
		return marker__tr_self.tid;
	return marker__tr_announce(s);
}

/* ---- recording (ring.c) ---- */
extern uint64_t marker__tr_hash_mask; /* bits of the event-table hash kept; tests force collisions */
/* The probe: its va_list entry (marker_fire), and its area entry (the stub's sites, x86-64). */
void marker__tr_probe(const struct marker *m, void *priv, const char *fmt, va_list *args);
struct marker__probe;
#if defined(__x86_64__) && defined(__LP64__)
void marker__tr_probe_area(const struct marker *m, struct marker__probe *p, const uint64_t *slots);
#define MARKER__TR_PROBE_AREA marker__tr_probe_area
#else
#define MARKER__TR_PROBE_AREA NULL
#endif
/* Session gens stay below this bit; fast_gen has it set while the fast path is not allowed. */
#define TR_GEN_SLOW 0x80000000u
/* Recompute @s->fast_gen from its state; after any change of active, filters, ring_mask. */
void marker__tr_fast_update(struct tr_session *s);
/* Forget this thread's cached id (the child of fork() is a new thread). */
void marker__tr_thread_forget(void);
/* Re-read the names of up to @budget threads of the table; returns 1 if one changed. */
int marker__tr_poll_names(struct tr_session *s, unsigned budget);
/* Payload bytes of one argument of type code @c, 0 for strings and unknown. */
unsigned marker__tr_type_size(char c);

/* ---- files (flush.c) ---- */
/* Move complete sub-buffers of @b to its stream file; returns events moved or -errno. */
long marker__tr_drain(struct tr_session *s, struct tr_buf *b);
/* Write what is left in @b (writers quiesced or dead), ending with the final counts. */
int marker__tr_drain_final(struct tr_session *s, struct tr_buf *b);
/* Note the session's first write error (-errno) for .stats; _sync: a loss no count covers. */
void marker__tr_note_error(struct tr_session *s, int err);
void marker__tr_note_sync_error(struct tr_session *s, int err);
/* Keep @len bytes past the stream's end and the tail reserve allocated; 0 or -errno. */
int marker__tr_reserve(struct tr_buf *b, uint64_t len);

/* ---- orphaned buffer files (shm_gc.c) ---- */
/* The start time of process @pid (clock ticks after boot), or 0 if it is gone or unknown. */
unsigned long long marker__tr_proc_start(long pid);
/* DIR/.buffers/@name's file in /dev/shm, for this process and session: its path into @out. */
void marker__tr_shm_name(const struct tr_session *s, const char *name, char *out, size_t len);

/* ---- write-back (writeback.c) ---- */
/* Consumer, each period: wait for the range started last time, start the next. */
void marker__tr_writeback(struct tr_session *s, struct tr_buf *b);
/* Consumer, each period: wait for a metadata file written without waiting. */
void marker__tr_writeback_metadata(struct tr_session *s);
/*
 * Before the final packets: wait for the stream file's @packets whole
 * packets; on a write-back error cut it to the durable mark, counting what
 * goes.  Returns 1 if it cut, else 0.
 */
int marker__tr_writeback_wait(struct tr_session *s, struct tr_buf *b, uint64_t packets);
/*
 * After them: fdatasync; on an error cut back to the mark again.  Returns
 * the events cut (to add to the final discarded count).
 */
uint64_t marker__tr_writeback_final(struct tr_session *s, struct tr_buf *b);
/* Write DIR/metadata; @durable: on the disk before it replaces the previous one, or not at all. */
int marker__tr_write_metadata(struct tr_session *s, int durable);
/* Write .stats; @durable: and wait for it to reach the disk (the last one). */
int marker__tr_write_stats(struct tr_session *s, const struct marker_tracer_stats *st,
			   int durable);
/* Counters of @s now (recorded includes committed events not yet moved). */
void marker__tr_stats(struct tr_session *s, struct marker_tracer_stats *st);
/* Map DIR/.buffers/ of an existing session (recovery) or create it (start). */
int marker__tr_map(struct tr_session *s, int create);
void marker__tr_unmap(struct tr_session *s);
/* The session's descriptors still ours, or found again (files.c); 0 or -EBADF. */
int marker__tr_reclaim_fds(struct tr_session *s);
int marker__tr_remove_buffers(struct tr_session *s);
/* Close the packet being filled in @b, events or not (live.c; consumer thread only). */
void marker__tr_live_flush(struct tr_session *s, struct tr_buf *b);
/* Count and validate the events in @len bytes of @data; returns the valid prefix's length. */
size_t marker__tr_walk(const struct tr_session *s, const char *data, size_t len,
		       uint64_t *events);

#pragma GCC visibility pop

#endif /* MARKERS_TRACER_INT_H */
