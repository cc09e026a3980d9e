/*
 * real_sites.h - the instrumentation put into a real program's hottest
 * per-item points (bench/real/), one way per build, chosen by -DKIND_<kind>:
 * none, markers (trace_mark, the default site kind), sdt (sys/sdt.h), flag
 * (a relaxed load of a global and a call), stub (a prototype, below).  Each site passes one value, the
 * item at hand.  Included ahead of the program's source (-include), so the
 * program's text is patched only where a site goes.
 */
#ifndef BENCH_REAL_SITES_H
#define BENCH_REAL_SITES_H

#if defined(KIND_none)
#define REAL_SITE(name, v) do { } while (0)

#elif defined(KIND_markers)
#include <markers.h>
#define REAL_SITE(name, v) trace_mark(name, "v %u", (unsigned)(v))

#elif defined(KIND_sdt)
#include <sys/sdt.h>
#define REAL_SITE(name, v) STAP_PROBE1(real, name, (unsigned)(v))

#elif defined(KIND_flag)
extern int real_flag;
void real_flag_probe(unsigned v);
#define REAL_SITE(name, v)                                                        \
	do {                                                                      \
		if (__builtin_expect(__atomic_load_n(&real_flag, __ATOMIC_RELAXED), 0)) \
			real_flag_probe((unsigned)(v));                           \
	} while (0)

#elif defined(KIND_stub)
/*
 * A prototype, measured here only (bench/real/fire_stub.S): the jump site,
 * whose out-of-line block is a cold label that calls marker_fire through
 * an assembly stub preserving every register.  The compiler sees no call in
 * the hot function, so its register allocation is left alone.  One integer
 * argument (rsi); x86-64 only.  Built on the headers' internal macros.
 */
#include <markers.h>
void real_fire_stub(void);
#define REAL_SITE(name, v)                                                                   \
	do {                                                                                 \
		MARKER__DECLARE(marker__desc_##name, MARKER_KIND_JUMP, name, "v %u", (unsigned)(v)); \
		__extension__({                                                              \
			__label__ marker__taken;                                             \
			__asm__ goto("1:\t.byte 0xe9\n\t.long %l[marker__taken] - (1b + 5)\n\t" \
				     MARKER__X86_RECORD("%l[marker__taken]", MARKER__X86_DESC)  \
				     : : MARKER__X86_OPERAND(name) : : marker__taken);       \
			if (0) {                                                             \
			marker__taken: __attribute__((cold));                                \
				/* Below the red zone: the function may be a leaf. */        \
				if (__builtin_expect(MARKER__STATE(marker__desc_##name), 1)) \
					__asm__ volatile("lea -128(%%rsp), %%rsp\n\t"      \
							 "call real_fire_stub\n\t"          \
							 "lea 128(%%rsp), %%rsp"              \
							 : : "D"(&marker__desc_##name),       \
							   "S"((unsigned long)(unsigned)(v))  \
							 : "memory", "cc");                   \
			}                                                                    \
		});                                                                          \
	} while (0)

#else
#error "define KIND_<kind>"
#endif

#endif
