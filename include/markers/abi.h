/*
 * markers/abi.h - what a trace_mark() site leaves in the object file.
 *
 * This layout is an ABI: the library reads it from every loaded object at
 * run time, and `markers list` reads it from ELF files offline.  Change it
 * only by bumping MARKER_ABI_VERSION; readers skip records of versions they
 * do not know.
 *
 * Sections (each named so that the linker defines __start_ and __stop_):
 *   __markers          struct marker, one per trace_mark() in the source
 *   __markers_strings  the strings a struct marker points to (kept apart so
 *                      that disabled markers share no cache line with hot data)
 *   __markers_sites    struct marker_site_record, one per patchable instruction
 *                      (immediate and jump sites; a marker inlined or unrolled
 *                      by the compiler has several)
 */
#ifndef MARKERS_ABI_H
#define MARKERS_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MARKER_ABI_VERSION 1

/*
 * How a site tests whether its marker is on; chosen at compile time.
 * Plain numbers, so that the preprocessor can select a site macro by kind.
 */
#define MARKER_KIND_GENERIC 0   /* load of marker->state and a branch: every arch */
#define MARKER_KIND_IMMEDIATE 1 /* a mov-immediate (the 2007 design's): the state is in the code */
#define MARKER_KIND_JUMP 2      /* a 5-byte nop that becomes a jmp */

/*
 * Type codes, one per argument, in struct marker::types.  They name the
 * argument's declared type; a probe reading the va_list must read the
 * promoted type: int for b B h H i I, long long for l L (int64_t), double
 * for f d, long double for D, const char * for s, void * for p.  '?' is a
 * type the tracer cannot record (a struct, a union...).
 */
#define MARKER_TYPE_S8 'b'
#define MARKER_TYPE_U8 'B'
#define MARKER_TYPE_S16 'h'
#define MARKER_TYPE_U16 'H'
#define MARKER_TYPE_S32 'i'
#define MARKER_TYPE_U32 'I'
#define MARKER_TYPE_S64 'l'
#define MARKER_TYPE_U64 'L'
#define MARKER_TYPE_FLOAT 'f'
#define MARKER_TYPE_DOUBLE 'd'
#define MARKER_TYPE_LDOUBLE 'D'
#define MARKER_TYPE_STRING 's'
#define MARKER_TYPE_POINTER 'p'
#define MARKER_TYPE_UNKNOWN '?'

#define MARKER_MAX_ARGS 12

/* Bits of struct marker::flags. */
#define MARKER_FLAG_USDT 0x1 /* the site also is a USDT probe (a .note.stapsdt entry) */

/* Bits of struct marker::state: why the site is on (any bit: on). */
#define MARKER_STATE_PROBES 0x1 /* probes are connected: call marker_fire() */
#define MARKER_STATE_USDT 0x2   /* a USDT tool is attached: reach the USDT probe */

/*
 * One per trace_mark() in the source, in section __markers.  The first
 * fields are constant and describe the site; the last ones belong to the
 * library at run time (they are zero in the file).
 *
 * The size is a multiple of 8 on every ABI and the records are aligned to 8,
 * so the section is an array; a reader still steps over zero padding.
 */
struct marker {
	uint32_t abi_version; /* MARKER_ABI_VERSION */
	uint8_t kind;         /* MARKER_KIND_* */
	uint8_t nargs;        /* strlen(types) */
	uint16_t flags;       /* MARKER_FLAG_* */
	const char *name;
	const char *format;   /* printf format, checked by the compiler */
	const char *types;    /* nargs type codes, NUL-terminated */
	const char *file;     /* __FILE__ */
	uint32_t line;        /* __LINE__ */
	/*
	 * The memory flag: non-zero while the site is on, MARKER_STATE_* say
	 * why.  Generic sites test it; the out-of-line block of immediate and
	 * jump sites tests it too, so that such a site whose code cannot be
	 * patched still works from it.  A block of an object built before the
	 * USDT bit existed calls marker_fire() for any non-zero state, which
	 * finds no probes: harmless.
	 */
	volatile uint8_t state;
	uint8_t reserved;     /* 0 */
	/*
	 * The USDT semaphore of the site's .note.stapsdt entry (flags has
	 * MARKER_FLAG_USDT): tools that attach to the probe increment it, the
	 * library reads it (at most once a second) and sets MARKER_STATE_USDT.
	 * Zero in objects built before it existed, which is "no tool": the
	 * layout and version 1 are unchanged.
	 */
	volatile uint16_t usdt_semaphore;
	void *probes; /* library-private: the probe array, published with RCU */
	void *entry;  /* library-private: the marker this site belongs to */
} __attribute__((aligned(8)));

/*
 * One per patchable instruction, in section __markers_sites, written by the
 * site's inline assembly with pointer-sized words (.dc.a).
 */
struct marker_site_record {
	void *site;             /* first byte of the patchable instruction */
	void *target;           /* jump: where the jmp goes; immediate: NULL */
	struct marker *marker;  /* the descriptor of this site */
};

#ifdef __cplusplus
}
#endif
#endif /* MARKERS_ABI_H */
