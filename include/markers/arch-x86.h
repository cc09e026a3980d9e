/*
 * markers/arch-x86.h - immediate and jump sites for x86-64 and i386.
 *
 * Both kinds are written in their "taken" form: the object file branches to
 * the out-of-line block, and the block tests the marker's memory flag before
 * calling the probes.  A site therefore works from the flag until the
 * library has adopted it (rewritten it to "not taken"), and forever if its
 * code cannot be patched.  The library's patcher (src/lib/arch/) rewrites:
 *
 *   immediate: movl $1,%reg (b8+r imm32, 41 b8+r imm32 for r8d-r15d)
 *              <-> movl $0,%reg: only the low byte of imm32 flips.  The 32-bit
 *              form: the seed's movb stalls on a partial register.
 *   jump:      jmp rel32 (e9 rel32, always 5 bytes, written as bytes so that
 *              no assembler shortens it) <-> 5-byte nop (0f 1f 44 00 00).
 *
 * Each site leaves a struct marker_site_record in __markers_sites: the
 * instruction's address, the jump's target, the descriptor, named through
 * site.h's __MARKER_DESC_OPERAND (gcc's "X" printed with %p, clang's "s"
 * with %c: a bare symbol under PIC, PIE and i386, C and C++ alike).
 */
#ifndef MARKERS_ARCH_X86_H
#define MARKERS_ARCH_X86_H

#define __MARKER_X86_OPERAND(name) __MARKER_DESC_OPERAND(__marker_##name)
#define __MARKER_X86_DESC __MARKER_DESC_REF

#if __SIZEOF_POINTER__ == 8
#define __MARKER_X86_PTR ".quad "
#define __MARKER_X86_ALIGN ".balign 8\n\t"
#else
#define __MARKER_X86_PTR ".long "
#define __MARKER_X86_ALIGN ".balign 4\n\t"
#endif

/* The site record of the instruction at local label 1. */
#define __MARKER_X86_RECORD(target, desc)                                        \
	__MARKER_SITES_SECTION __MARKER_X86_ALIGN                                  \
	__MARKER_X86_PTR "1b, " target ", " desc "\n\t"                           \
	".popsection\n\t"

#define __MARKER_IMMEDIATE(name, format, ...) __MARKER_X86_IMMEDIATE(name, format, ##__VA_ARGS__)
#define __MARKER_JUMP(name, format, ...) __MARKER_X86_JUMP(name, format, ##__VA_ARGS__)

/*
 * Immediate: the compiler tests the register; the block tests the flag too,
 * so that a site still in its taken form fires only while the marker is on.
 */
#define __MARKER_X86_IMMEDIATE(name, format, ...)                                           \
	do {                                                                                \
		unsigned int __marker_on;                                                   \
		__MARKER_DECLARE(__marker_##name, MARKER_KIND_IMMEDIATE, name, format,       \
				 ##__VA_ARGS__);                                            \
		__MARKER_CHECK(format, ##__VA_ARGS__);                                      \
		__asm__ volatile("1:\tmovl $1, %k[__mon]\n\t"                               \
				 __MARKER_X86_RECORD("0", __MARKER_X86_DESC)                \
				 : [__mon] "=r"(__marker_on) : __MARKER_X86_OPERAND(name)); \
		if (__builtin_expect(__marker_on, 0) &&                                     \
		    __builtin_expect(__MARKER_STATE(__marker_##name), 1))                 \
			marker_fire(&__marker_##name, ##__VA_ARGS__);                       \
	} while (0)

/* Jump: a jmp rel32 to the block (taken) or a 5-byte nop. */
#define __MARKER_X86_JUMP(name, format, ...)                                                \
	do {                                                                                \
		__label__ __marker_taken;                                                   \
		__MARKER_DECLARE(__marker_##name, MARKER_KIND_JUMP, name, format,            \
				 ##__VA_ARGS__);                                            \
		__MARKER_CHECK(format, ##__VA_ARGS__);                                      \
		__asm__ goto("1:\t.byte 0xe9\n\t.long %l[__marker_taken] - (1b + 5)\n\t"    \
			     __MARKER_X86_RECORD("%l[__marker_taken]", __MARKER_X86_DESC)   \
			     : : __MARKER_X86_OPERAND(name) : : __marker_taken);            \
		if (0) {                                                                    \
		__marker_taken:                                                             \
			if (__builtin_expect(__MARKER_STATE(__marker_##name), 1))         \
				marker_fire(&__marker_##name, ##__VA_ARGS__);               \
		}                                                                           \
	} while (0)

/*
 * Chosen by measurement: off, per site over the same loop without it
 * (callgrind, gcc -O2): jump +1 instruction and 0 data reads, immediate +3
 * and 0, generic +3 and 1; the brief's timings agree (+0.021 ns for the
 * nop, +0.074 for movl, +0.071 for the flag).
 */
#define MARKER_ARCH_DEFAULT_KIND MARKER_KIND_JUMP

#endif /* MARKERS_ARCH_X86_H */
