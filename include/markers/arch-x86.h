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
 * instruction's address, the jump's target, the descriptor.  The record
 * names the descriptor with an "i" operand ("s" for clang on i386), except for gcc on i386 with
 * -fPIC/-fPIE, which accepts no symbolic operand there: the descriptor then
 * gets a unique assembler name (marker name, line, __COUNTER__) and the
 * record uses that name.  In C++ that name could collide between template
 * instances, so g++ on i386 PIC compiles optimized sites as generic ones.
 */
#ifndef MARKERS_ARCH_X86_H
#define MARKERS_ARCH_X86_H

#if defined(__i386__) && (defined(__PIC__) || defined(__PIE__)) && !defined(__clang__)
#if defined(__cplusplus)
#define __MARKER_X86_NONE 1 /* no way to name the descriptor: generic sites */
#else
#define __MARKER_X86_ASMNAME 1
#endif
#endif

#ifndef __MARKER_X86_NONE

/* clang on i386 PIC refuses "i" for an address but takes "s" (symbolic). */
#if defined(__i386__) && defined(__clang__)
#define __MARKER_X86_SYM "s"
#else
#define __MARKER_X86_SYM "i"
#endif

#if __SIZEOF_POINTER__ == 8
#define __MARKER_X86_PTR ".quad "
#define __MARKER_X86_ALIGN ".balign 8\n\t"
#else
#define __MARKER_X86_PTR ".long "
#define __MARKER_X86_ALIGN ".balign 4\n\t"
#endif

/* The site record of the instruction at local label 1. */
#define __MARKER_X86_RECORD(target, desc)                                        \
	".pushsection __markers_sites,\"aw\"\n\t" __MARKER_X86_ALIGN              \
	__MARKER_X86_PTR "1b, " target ", " desc "\n\t"                           \
	".popsection\n\t"

#define __MARKER_X86_STR2(x) #x
#define __MARKER_X86_STR(x) __MARKER_X86_STR2(x)

#ifdef __MARKER_X86_ASMNAME
/*
 * The name must be spelled twice (declaration and asm) with one
 * __COUNTER__ value: a helper level receives it once.
 */
#define __MARKER_X86_SYMNAME(name)                                                         \
	"__marker_" #name "_" __MARKER_X86_STR(__LINE__) "_" __MARKER_X86_STR(__COUNTER__)
#define __MARKER_IMMEDIATE(name, format, ...) \
	__MARKER_X86_IMM2(name, __MARKER_X86_SYMNAME(name), format, ##__VA_ARGS__)
#define __MARKER_X86_IMM2(name, sym, format, ...) \
	__MARKER_X86_IMMEDIATE(name, __asm__(sym), sym, , format, ##__VA_ARGS__)
#define __MARKER_JUMP(name, format, ...) \
	__MARKER_X86_JMP2(name, __MARKER_X86_SYMNAME(name), format, ##__VA_ARGS__)
#define __MARKER_X86_JMP2(name, sym, format, ...) \
	__MARKER_X86_JUMP(name, __asm__(sym), sym, , format, ##__VA_ARGS__)
#else
#define __MARKER_X86_OPERAND(name) [__mdesc] __MARKER_X86_SYM(&__marker_##name)
#define __MARKER_IMMEDIATE(name, format, ...)                                              \
	__MARKER_X86_IMMEDIATE(name, , "%c[__mdesc]", __MARKER_X86_OPERAND(name), format,   \
			       ##__VA_ARGS__)
#define __MARKER_JUMP(name, format, ...)                                                   \
	__MARKER_X86_JUMP(name, , "%c[__mdesc]", __MARKER_X86_OPERAND(name), format,        \
			  ##__VA_ARGS__)
#endif

/*
 * Immediate: the compiler tests the register; the block tests the flag too,
 * so that a site still in its taken form fires only while the marker is on.
 */
#define __MARKER_X86_IMMEDIATE(name, asmname, descref, operand, format, ...)                \
	do {                                                                                \
		unsigned int __marker_on;                                                   \
		__MARKER_DECLARE_AS(__marker_##name, asmname, MARKER_KIND_IMMEDIATE, name,   \
				    format, ##__VA_ARGS__);                                 \
		__MARKER_CHECK(format, ##__VA_ARGS__);                                      \
		__asm__ volatile("1:\tmovl $1, %k[__mon]\n\t"                               \
				 __MARKER_X86_RECORD("0", descref)                          \
				 : [__mon] "=r"(__marker_on) : operand);                    \
		if (__builtin_expect(__marker_on, 0) &&                                     \
		    __builtin_expect(__MARKER_STATE(__marker_##name), 1))                 \
			marker_fire(&__marker_##name, ##__VA_ARGS__);                       \
	} while (0)

/* Jump: a jmp rel32 to the block (taken) or a 5-byte nop. */
#define __MARKER_X86_JUMP(name, asmname, descref, operand, format, ...)                     \
	do {                                                                                \
		__label__ __marker_taken;                                                   \
		__MARKER_DECLARE_AS(__marker_##name, asmname, MARKER_KIND_JUMP, name,        \
				    format, ##__VA_ARGS__);                                 \
		__MARKER_CHECK(format, ##__VA_ARGS__);                                      \
		__asm__ goto("1:\t.byte 0xe9\n\t.long %l[__marker_taken] - (1b + 5)\n\t"    \
			     __MARKER_X86_RECORD("%l[__marker_taken]", descref)             \
			     : : operand : : __marker_taken);                               \
		if (0) {                                                                    \
		__marker_taken:                                                             \
			if (__builtin_expect(__MARKER_STATE(__marker_##name), 1))         \
				marker_fire(&__marker_##name, ##__VA_ARGS__);               \
		}                                                                           \
	} while (0)

/* Chosen by measurement (the brief's table): one nop, no data read. */
#define MARKER_ARCH_DEFAULT_KIND MARKER_KIND_JUMP

#endif /* !__MARKER_X86_NONE */
#endif /* MARKERS_ARCH_X86_H */
