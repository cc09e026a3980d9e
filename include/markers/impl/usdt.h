/*
 * markers/impl/usdt.h - every site is also a USDT probe, for gdb, bpftrace,
 * perf and SystemTap.  Not API: included by markers.h.
 *
 * A USDT probe is a nop in the code and an ELF note that describes it
 * (the format that <sys/sdt.h> writes and the tools read): in section
 * .note.stapsdt, a note of type 3 named "stapsdt" whose description holds
 *
 *	the nop's address, the address of .stapsdt.base, the semaphore's
 *	address (pointer-sized words, link-time values); the provider
 *	("markers"), the probe's name (the marker's), and the arguments'
 *	specs, each "[-]SIZE[f]@OPERAND" (signed, size in bytes, floating
 *	point, where the value is: "-4@%eax", "8@16(%rsp)", "4@$7"),
 *	separated by spaces, as NUL-terminated strings.
 *
 * Tools compare the address of the section .stapsdt.base in the file with
 * the one in the note to correct for prelinking; every object that has
 * notes defines it (one byte, in a COMDAT group shared with <sys/sdt.h>'s).
 * The semaphore is the descriptor's usdt_semaphore (abi.h): a tool
 * increments it while attached, the library notices within a second and
 * switches the site on with MARKER_STATE_USDT.  bcc (bpftrace) turns a
 * semaphore's address into a file offset through the section .probes,
 * where <sys/sdt.h> puts its semaphores: so every object with notes also
 * has a .probes (two bytes, one per object, kept by --gc-sections), in the
 * same writable segment as __markers and the C++ descriptors.
 *
 * The nop sits in the site's out-of-line block, reached only while the
 * site is on, where the arguments have been evaluated: the path taken
 * while off has nothing more.  The compiler places each argument (asm
 * constraint "nor": an immediate, a memory operand or a register) and the
 * note records where; its size and signedness come from its type code.
 */
#ifndef MARKERS_IMPL_USDT_H
#define MARKERS_IMPL_USDT_H

#include "args.h"

#if defined(MARKER__DESC_OPERAND) && (defined(__x86_64__) || defined(__i386__) || \
				      defined(__aarch64__))
#define MARKER__USDT_FLAG MARKER_FLAG_USDT

#define MARKER__STR_(x) #x
#define MARKER__STR(x) MARKER__STR_(x)

/* Sign and size of an argument from its type code: the "-4" of "-4@%eax". */
#define MARKER__USDT_SIZE(c)                                                                \
	((c) == 'b' ? -1 : (c) == 'B' ? 1 : (c) == 'h' ? -2 : (c) == 'H' ? 2 :             \
	 (c) == 'i' ? -4 : (c) == 'I' ? 4 : (c) == 'l' ? -8 : (c) == 'L' ? 8 :              \
	 (c) == 'f' ? (int)sizeof(float) : (c) == 'd' ? (int)sizeof(double) :               \
	 (c) == 'D' ? (int)sizeof(long double) : (int)sizeof(void *))
#define MARKER__USDT_FLOAT(c) ((c) == 'f' || (c) == 'd' || (c) == 'D')

/*
 * The value handed to the note: the argument itself, or 0 for a type
 * that no spec can describe (a struct: the marker's type code '?').
 * Constants are forced through a template argument in C++, so that they
 * are constants at -O0 too.
 */
#ifndef __cplusplus
#define MARKER__USDT_CONST(x) (x)
#define MARKER__USDT_VAL(v)                                                                 \
	__builtin_choose_expr(__builtin_classify_type(v) == 12 || __builtin_classify_type(v) == 13 || \
			      __builtin_classify_type(v) == 9, 0, (v))
#else
#define MARKER__USDT_CONST(x) (std::integral_constant<int, (x)>::value)
template <typename T>
inline typename std::enable_if<std::is_scalar<T>::value && !std::is_same<T, std::nullptr_t>::value,
			       T>::type
marker__usdt_val(T v)
{
	return v;
}
template <typename T>
inline typename std::enable_if<!std::is_scalar<T>::value || std::is_same<T, std::nullptr_t>::value,
			       int>::type
marker__usdt_val(T)
{
	return 0;
}
#define MARKER__USDT_VAL(v) marker__usdt_val(v)
#endif

/* The temporaries marker__aN (N = n for the first argument, down to 1). */
#ifndef __cplusplus
#define MARKER__TEMP(t, a) __typeof__(((void)0, (a))) t = (a);
#else
#define MARKER__TEMP(t, a) auto t = (a);
#endif
#define MARKER__D1(f, a) MARKER__TEMP(marker__a1, a)
#define MARKER__D2(f, a, ...) MARKER__TEMP(marker__a2, a) MARKER__D1(f, __VA_ARGS__)
#define MARKER__D3(f, a, ...) MARKER__TEMP(marker__a3, a) MARKER__D2(f, __VA_ARGS__)
#define MARKER__D4(f, a, ...) MARKER__TEMP(marker__a4, a) MARKER__D3(f, __VA_ARGS__)
#define MARKER__D5(f, a, ...) MARKER__TEMP(marker__a5, a) MARKER__D4(f, __VA_ARGS__)
#define MARKER__D6(f, a, ...) MARKER__TEMP(marker__a6, a) MARKER__D5(f, __VA_ARGS__)
#define MARKER__D7(f, a, ...) MARKER__TEMP(marker__a7, a) MARKER__D6(f, __VA_ARGS__)
#define MARKER__D8(f, a, ...) MARKER__TEMP(marker__a8, a) MARKER__D7(f, __VA_ARGS__)
#define MARKER__D9(f, a, ...) MARKER__TEMP(marker__a9, a) MARKER__D8(f, __VA_ARGS__)
#define MARKER__D10(f, a, ...) MARKER__TEMP(marker__a10, a) MARKER__D9(f, __VA_ARGS__)
#define MARKER__D11(f, a, ...) MARKER__TEMP(marker__a11, a) MARKER__D10(f, __VA_ARGS__)
#define MARKER__D12(f, a, ...) MARKER__TEMP(marker__a12, a) MARKER__D11(f, __VA_ARGS__)

#define MARKER__N1 marker__a1
#define MARKER__N2 marker__a2, MARKER__N1
#define MARKER__N3 marker__a3, MARKER__N2
#define MARKER__N4 marker__a4, MARKER__N3
#define MARKER__N5 marker__a5, MARKER__N4
#define MARKER__N6 marker__a6, MARKER__N5
#define MARKER__N7 marker__a7, MARKER__N6
#define MARKER__N8 marker__a8, MARKER__N7
#define MARKER__N9 marker__a9, MARKER__N8
#define MARKER__N10 marker__a10, MARKER__N9
#define MARKER__N11 marker__a11, MARKER__N10
#define MARKER__N12 marker__a12, MARKER__N11

/* Two operands per argument: its spec's size, its value. */
#define MARKER__OP(k)                                                                       \
	[marker__s##k] "n"(MARKER__USDT_CONST(MARKER__USDT_SIZE(MARKER__TC_(marker__a##k)))), \
	[marker__v##k] "nor"(MARKER__USDT_VAL(marker__a##k))
#define MARKER__O1 MARKER__OP(1)
#define MARKER__O2 MARKER__OP(2), MARKER__O1
#define MARKER__O3 MARKER__OP(3), MARKER__O2
#define MARKER__O4 MARKER__OP(4), MARKER__O3
#define MARKER__O5 MARKER__OP(5), MARKER__O4
#define MARKER__O6 MARKER__OP(6), MARKER__O5
#define MARKER__O7 MARKER__OP(7), MARKER__O6
#define MARKER__O8 MARKER__OP(8), MARKER__O7
#define MARKER__O9 MARKER__OP(9), MARKER__O8
#define MARKER__O10 MARKER__OP(10), MARKER__O9
#define MARKER__O11 MARKER__OP(11), MARKER__O10
#define MARKER__O12 MARKER__OP(12), MARKER__O11

/* Bit k of one more operand: argument k is floating point ("8f@..."). */
#define MARKER__FB(k) (MARKER__USDT_FLOAT(MARKER__TC_(marker__a##k)) ? 1 << k : 0)
#define MARKER__F1 MARKER__FB(1)
#define MARKER__F2 MARKER__FB(2) | MARKER__F1
#define MARKER__F3 MARKER__FB(3) | MARKER__F2
#define MARKER__F4 MARKER__FB(4) | MARKER__F3
#define MARKER__F5 MARKER__FB(5) | MARKER__F4
#define MARKER__F6 MARKER__FB(6) | MARKER__F5
#define MARKER__F7 MARKER__FB(7) | MARKER__F6
#define MARKER__F8 MARKER__FB(8) | MARKER__F7
#define MARKER__F9 MARKER__FB(9) | MARKER__F8
#define MARKER__F10 MARKER__FB(10) | MARKER__F9
#define MARKER__F11 MARKER__FB(11) | MARKER__F10
#define MARKER__F12 MARKER__FB(12) | MARKER__F11

/*
 * The spec of argument k, as assembler directives.  i386 names the 32-bit
 * register (%k), as <sys/sdt.h> does: a 64-bit value in a register pair is
 * described by its low half only.
 */
#ifdef __i386__
#define MARKER__USDT_REG(k) "%k[marker__v" #k "]"
#else
#define MARKER__USDT_REG(k) "%[marker__v" #k "]"
#endif
#define MARKER__SPEC(k)                                                                     \
	".ascii \"%c[marker__s" #k "]\"\n\t"                                                \
	".if (%c[marker__fl] >> " #k ") & 1\n\t.ascii \"f\"\n\t.endif\n\t"                  \
	".ascii \"@" MARKER__USDT_REG(k) "\"\n\t"
#define MARKER__SP " .ascii \" \"\n\t"
#define MARKER__S1 MARKER__SPEC(1)
#define MARKER__S2 MARKER__SPEC(2) MARKER__SP MARKER__S1
#define MARKER__S3 MARKER__SPEC(3) MARKER__SP MARKER__S2
#define MARKER__S4 MARKER__SPEC(4) MARKER__SP MARKER__S3
#define MARKER__S5 MARKER__SPEC(5) MARKER__SP MARKER__S4
#define MARKER__S6 MARKER__SPEC(6) MARKER__SP MARKER__S5
#define MARKER__S7 MARKER__SPEC(7) MARKER__SP MARKER__S6
#define MARKER__S8 MARKER__SPEC(8) MARKER__SP MARKER__S7
#define MARKER__S9 MARKER__SPEC(9) MARKER__SP MARKER__S8
#define MARKER__S10 MARKER__SPEC(10) MARKER__SP MARKER__S9
#define MARKER__S11 MARKER__SPEC(11) MARKER__SP MARKER__S10
#define MARKER__S12 MARKER__SPEC(12) MARKER__SP MARKER__S11

#if __SIZEOF_POINTER__ == 8
#define MARKER__USDT_ADDR ".8byte "
#define MARKER__USDT_SEMOFF "46" /* offsetof(struct marker, usdt_semaphore); usdt.c checks */
#else
#define MARKER__USDT_ADDR ".4byte "
#define MARKER__USDT_SEMOFF "30"
#endif
#ifdef __cplusplus
#define MARKER__USDT_GROUP "?" /* the note joins the COMDAT group of its code */
#else
#define MARKER__USDT_GROUP ""
#endif

/*
 * The probe of descriptor @var named @name, with the argument specs @specs
 * of the operands that follow.  The nop at label 990 is the probe; the
 * note describes it; .stapsdt.base is defined once per assembly file.
 */
#define MARKER__USDT_ASM(var, name, specs)                                                  \
	"990:\tnop\n\t"                                                                     \
	".pushsection .note.stapsdt,\"" MARKER__USDT_GROUP "\",\"note\"\n\t"                \
	".balign 4\n\t"                                                                     \
	".4byte 992f-991f, 994f-993f, 3\n"                                                  \
	"991:\t.asciz \"stapsdt\"\n"                                                        \
	"992:\t.balign 4\n"                                                                 \
	"993:\t" MARKER__USDT_ADDR "990b\n\t"                                               \
	MARKER__USDT_ADDR "_.stapsdt.base\n\t"                                              \
	MARKER__USDT_ADDR MARKER__DESC_REF "+" MARKER__USDT_SEMOFF "\n\t"                   \
	".asciz \"markers\"\n\t"                                                            \
	".asciz \"" #name "\"\n\t"                                                          \
	specs                                                                               \
	".byte 0\n"                                                                         \
	"994:\t.balign 4\n\t"                                                               \
	".popsection\n\t"                                                                   \
	".ifndef marker__usdt_probes\n\t"                                                   \
	".pushsection .probes,\"awRG\",\"progbits\",marker__usdt_probes,comdat\n\t"           \
	".weak marker__usdt_probes\n\t"                                                    \
	".hidden marker__usdt_probes\n"                                                    \
	"marker__usdt_probes:\t.space 2\n\t"                                               \
	".popsection\n\t"                                                                   \
	".endif\n\t"                                                                        \
	".ifndef _.stapsdt.base\n\t"                                                        \
	".pushsection .stapsdt.base,\"aG\",\"progbits\",.stapsdt.base,comdat\n\t"           \
	".weak _.stapsdt.base\n\t"                                                          \
	".hidden _.stapsdt.base\n"                                                          \
	"_.stapsdt.base:\t.space 1\n\t"                                                     \
	".size _.stapsdt.base, 1\n\t"                                                       \
	".popsection\n\t"                                                                   \
	".endif\n"

#define MARKER__USDT_PROBE0(var, name)                                                      \
	__asm__ volatile(MARKER__USDT_ASM(var, name, "") : : MARKER__DESC_OPERAND(var))
#define MARKER__USDT_PROBEN(var, name, n)                                                   \
	__asm__ volatile(MARKER__USDT_ASM(var, name, MARKER__CAT(MARKER__S, n))             \
			 : : MARKER__DESC_OPERAND(var),                                     \
			   [marker__fl] "n"(MARKER__USDT_CONST(MARKER__CAT(MARKER__F, n))),  \
			   MARKER__CAT(MARKER__O, n))

#else /* no USDT on this architecture */
#define MARKER__USDT_FLAG 0
#endif

/*
 * The out-of-line block of a site whose state @st is non-zero: the USDT
 * probe while a tool is attached, the probes while connected.  The
 * arguments are evaluated once, into temporaries, for both.  The probes
 * are called by MARKER__FIRE_NOARGS(var) and MARKER__FIRE_ARGS(var, n)
 * (n temporaries): marker_fire(), or the architecture's register-preserving
 * form (fire-x86.h); arch.h picks.
 */
#define MARKER__BLOCK(var, st, name, ...)                                                   \
	MARKER__CAT(MARKER__BLOCK_, MARKER__HAS_ARGS(__VA_ARGS__))(var, st, name, __VA_ARGS__)

#if MARKER__USDT_FLAG
#define MARKER__BLOCK_0(var, st, name, format)                                              \
	do {                                                                                \
		if ((st) & MARKER_STATE_USDT)                                               \
			MARKER__USDT_PROBE0(var, name);                                     \
		if (__builtin_expect((st) & MARKER_STATE_PROBES, 1))                        \
			MARKER__FIRE_NOARGS(var);                                           \
	} while (0)
#define MARKER__BLOCK_1(var, st, name, ...)                                                 \
	do {                                                                                \
		MARKER__CAT(MARKER__D, MARKER__NARGS(__VA_ARGS__))(__VA_ARGS__)             \
		if ((st) & MARKER_STATE_USDT)                                               \
			MARKER__USDT_PROBEN(var, name, MARKER__NARGS(__VA_ARGS__));         \
		if (__builtin_expect((st) & MARKER_STATE_PROBES, 1))                        \
			MARKER__FIRE_ARGS(var, MARKER__NARGS(__VA_ARGS__));                 \
	} while (0)
#else
#define MARKER__BLOCK_0(var, st, name, format)                                              \
	do {                                                                                \
		if (__builtin_expect((st) & MARKER_STATE_PROBES, 1))                        \
			marker_fire(&(var));                                                \
	} while (0)
#define MARKER__BLOCK_1(var, st, name, ...)                                                 \
	do {                                                                                \
		if (__builtin_expect((st) & MARKER_STATE_PROBES, 1))                        \
			MARKER__FIRE(var, __VA_ARGS__);                                     \
	} while (0)
#endif

#endif /* MARKERS_IMPL_USDT_H */
