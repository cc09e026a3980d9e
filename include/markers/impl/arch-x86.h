/*
 * markers/impl/arch-x86.h - immediate and jump sites for x86-64 and i386.
 * Not API: included by markers.h.
 *
 * Both kinds are written in their "taken" form: the object file branches to
 * the out-of-line block, and the block tests the marker's memory flag before
 * calling the probes.  A site therefore works from the flag until the
 * library has adopted it (rewritten it to "not taken"), and forever if its
 * code cannot be patched.  The library's patcher (src/lib/arch/) rewrites:
 *
 *   immediate: movl $1,%reg (b8+r imm32, 41 b8+r imm32 for r8d-r15d)
 *              <-> movl $0,%reg: only the low byte of imm32 flips.  The
 *              2007 Linux Kernel Markers used movb, which stalls on a
 *              partial register; the 32-bit form does not.
 *   jump:      jmp rel32 (e9 rel32, always 5 bytes, written as bytes so that
 *              no assembler shortens it) <-> 5-byte nop (0f 1f 44 00 00).
 *
 * Each site leaves a struct marker_site_record in __markers_sites: the
 * instruction's address, the jump's target, the descriptor, named through
 * site.h's MARKER__DESC_OPERAND (gcc's "X" printed with %p, clang's "s"
 * with %c: a bare symbol under PIC, PIE and i386, C and C++ alike).
 */
#ifndef MARKERS_IMPL_ARCH_X86_H
#define MARKERS_IMPL_ARCH_X86_H

#define MARKER__X86_OPERAND(name) MARKER__DESC_OPERAND(marker__desc_##name)
#define MARKER__X86_DESC MARKER__DESC_REF

#if __SIZEOF_POINTER__ == 8
#define MARKER__X86_PTR ".quad "
#define MARKER__X86_ALIGN ".balign 8\n\t"
#else
#define MARKER__X86_PTR ".long "
#define MARKER__X86_ALIGN ".balign 4\n\t"
#endif

/* The site record of the instruction at local label 1. */
#define MARKER__X86_RECORD(target, desc)                                         \
	MARKER__SITES_SECTION MARKER__X86_ALIGN                                  \
	MARKER__X86_PTR "1b, " target ", " desc "\n\t"                           \
	".popsection\n\t"

#include "fire-x86.h"

#define MARKER__IMMEDIATE MARKER__X86_IMMEDIATE
#define MARKER__JUMP MARKER__X86_JUMP

/*
 * Immediate: the compiler tests the register; the block tests the flag too,
 * so that a site still in its taken form fires only while the marker is on.
 */
#define MARKER__X86_IMMEDIATE(name, ...)                                                    \
	do {                                                                                \
		unsigned int marker__on;                                                    \
		MARKER__DECLARE(marker__desc_##name, MARKER_KIND_IMMEDIATE, name, __VA_ARGS__); \
		MARKER__CHECK(__VA_ARGS__);                                                 \
		__asm__ volatile("1:\tmovl $1, %k[marker__on]\n\t"                          \
				 MARKER__X86_RECORD("0", MARKER__X86_DESC)                  \
				 : [marker__on] "=r"(marker__on) : MARKER__X86_OPERAND(name)); \
		if (__builtin_expect(marker__on, 0)) {                                      \
			unsigned char marker__st = MARKER__STATE(marker__desc_##name);      \
			if (__builtin_expect(marker__st, 1))                                \
				MARKER__BLOCK(marker__desc_##name, marker__st, name, __VA_ARGS__); \
		}                                                                           \
	} while (0)

/*
 * Jump: a jmp rel32 to the block (taken) or a 5-byte nop.  The block's label
 * is local to a statement expression (__label__), so that a function may hold
 * many sites; __extension__ says that both GNU C features are meant, which
 * keeps -pedantic quiet.  The format check stays outside, where -pedantic
 * still sees the arguments.  The block's test of the flag is marked
 * unlikely although a taken jump usually means "on": so the compiler lays
 * the block out, and allocates registers, as the rarely run code it is
 * (measured on lz4 in bench/real: fewer instructions on the path taken
 * while off than gcc's cold label, which clang lacks anyway).
 */
#define MARKER__X86_JUMP(name, ...)                                                         \
	do {                                                                                \
		MARKER__DECLARE(marker__desc_##name, MARKER_KIND_JUMP, name, __VA_ARGS__);  \
		MARKER__CHECK(__VA_ARGS__);                                                 \
		__extension__({                                                             \
			__label__ marker__taken;                                            \
			__asm__ goto("1:\t.byte 0xe9\n\t.long %l[marker__taken] - (1b + 5)\n\t" \
				     MARKER__X86_RECORD("%l[marker__taken]", MARKER__X86_DESC) \
				     : : MARKER__X86_OPERAND(name) : : marker__taken);      \
			if (0) {                                                            \
			marker__taken: {                                                    \
				unsigned char marker__st = MARKER__STATE(marker__desc_##name); \
				if (__builtin_expect(marker__st, 0))                        \
					MARKER__BLOCK(marker__desc_##name, marker__st, name, __VA_ARGS__); \
			}                                                                   \
			}                                                                   \
		});                                                                         \
	} while (0)

/*
 * Chosen by measurement: off, per site over the same loop without it
 * (callgrind, gcc -O2): jump +1 instruction and 0 data reads, immediate +3
 * and 0, generic +3 and 1 (BENCHMARKS.md has the timings).
 */
#define MARKER_ARCH_DEFAULT_KIND MARKER_KIND_JUMP

#endif /* MARKERS_IMPL_ARCH_X86_H */
