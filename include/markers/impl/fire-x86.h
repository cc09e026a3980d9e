/*
 * markers/impl/fire-x86.h - the out-of-line call of an x86 site: through
 * a stub that preserves every register.  Not API: included by arch-x86.h.
 * This file describes x86-64; fire-i386.h, included from here, i386.
 *
 * Why: a plain call to marker_fire() in the out-of-line block clobbers the
 * caller-saved registers, so the compiler keeps the values that live across
 * the site in callee-saved registers (saved and restored by the function)
 * or spills them around it: work done on the path taken while the marker
 * is off.  Here the compiler sees no call, only an asm statement that reads
 * one register and memory, and the stub (src/lib/arch/x86_fire.c) saves and
 * restores every general register.  The vector registers are declared
 * clobbered instead: no callee keeps them in the x86-64 ABI, so a plain
 * call costs the same there (the compiler saves what is live around the
 * site, in the block), integer code keeps nothing in them across a site,
 * and the enabled path stays free of 32 vector moves (and of saving 256-
 * and 512-bit state, whose upper halves may or may not be in use).  lz4 in
 * bench/real: decompress adds half the instructions of a plain call.
 *
 * The block stores the descriptor and the arguments in a per-site area on
 * the stack, 8 bytes a slot, laid out as the x86-64 ABI lays out stack
 * arguments of a variadic call after the default promotions (integers and
 * pointers widened to 8 bytes, float to double); the library hands the
 * probes a va_list over it, so they read what marker_fire() would hand them.
 *
 *	area[0]		the descriptor
 *	area[1]		the address to return to
 *	area[2]		%r11 while the stub runs (it carries the area)
 *	area[3..]	the arguments, the first first
 *
 * The asm never moves %rsp, so the function's own unwind table stays true
 * at every instruction and its red zone is left alone: it stores the return
 * address in the area, puts the area in %r11 and jumps (an indirect jmp
 * through the GOT: no PLT, no lazy binding, PIC or not); the stub steps
 * below the red zone itself, its unwind table says where the return
 * address is, and it jumps back through area[1].  No call/ret pair is
 * split, so a shadow stack (CET) sees none; with -fcf-protection the return
 * point carries an endbr64.  The area's address is handed to the asm in
 * %rcx, chosen by measurement (bench/real's lz4 and bench/off's loops,
 * against %rdi, %rsi, %rax, %rbx, %rdx and "any legacy register").
 *
 * The ordinary call remains where the stub cannot describe an argument:
 * long double (16-byte slots), types the tracer marks '?' (structs,
 * complex, __int128), and where MARKERS_NO_FIRE_STUB is defined before
 * markers.h.  Registers that exist only with AVX-512 (%xmm16-31, %k0-7)
 * are named in the clobbers when the translation unit is built for it: a
 * function given an AVX-512 target attribute in a unit built without must
 * define MARKERS_NO_FIRE_STUB.
 */
#ifndef MARKERS_IMPL_FIRE_X86_H
#define MARKERS_IMPL_FIRE_X86_H

#if (defined(__x86_64__) || defined(__i386__)) && !defined(MARKERS_NO_FIRE_STUB) && \
	MARKER__USDT_FLAG

#ifdef __cplusplus
extern "C" {
#endif
/*
 * The stub: on x86-64 entered by jmp, %r11 = the area; on i386 called
 * through the area (fire-i386.h).  Never call it from C.
 */
MARKER_API void marker_abi_fire_stub(void);
#ifdef __cplusplus
}
#endif

/* Argument k (temporary marker__ak) fits a slot: neither long double nor '?'. */
#define MARKER__X86_FITS(k)                                                                 \
	(MARKER__TC_(marker__a##k) != MARKER_TYPE_LDOUBLE && MARKER__TC_(marker__a##k) != MARKER_TYPE_UNKNOWN)
#define MARKER__X86_FIT1 MARKER__X86_FITS(1)
#define MARKER__X86_FIT2 MARKER__X86_FITS(2) && MARKER__X86_FIT1
#define MARKER__X86_FIT3 MARKER__X86_FITS(3) && MARKER__X86_FIT2
#define MARKER__X86_FIT4 MARKER__X86_FITS(4) && MARKER__X86_FIT3
#define MARKER__X86_FIT5 MARKER__X86_FITS(5) && MARKER__X86_FIT4
#define MARKER__X86_FIT6 MARKER__X86_FITS(6) && MARKER__X86_FIT5
#define MARKER__X86_FIT7 MARKER__X86_FITS(7) && MARKER__X86_FIT6
#define MARKER__X86_FIT8 MARKER__X86_FITS(8) && MARKER__X86_FIT7
#define MARKER__X86_FIT9 MARKER__X86_FITS(9) && MARKER__X86_FIT8
#define MARKER__X86_FIT10 MARKER__X86_FITS(10) && MARKER__X86_FIT9
#define MARKER__X86_FIT11 MARKER__X86_FITS(11) && MARKER__X86_FIT10
#define MARKER__X86_FIT12 MARKER__X86_FITS(12) && MARKER__X86_FIT11

#ifdef __i386__
#include "fire-i386.h"
#else
#if defined(__CET__) && (__CET__ & 1)
#define MARKER__X86_ENDBR "endbr64\n\t"
#else
#define MARKER__X86_ENDBR ""
#endif

/* One slot: what va_arg() reads for the argument's promoted type. */
union marker__x86_slot {
	unsigned long long u;
	double d;
};

/*
 * slot = value, as promoted: a double for float and double, the value
 * widened to 64 bits for integers, enums and pointers.  Types that take the
 * ordinary call still compile here (to nothing).
 */
#ifndef __cplusplus
/* __builtin_classify_type: 1 integer, 2 char, 3 enum, 4 bool, 5 pointer, 8 real. */
#define MARKER__X86_INTLIKE(a) (__builtin_classify_type(a) >= 1 && __builtin_classify_type(a) <= 5)
#define MARKER__X86_PUT(s, a)                                                               \
	do {                                                                                \
		if (__builtin_classify_type(a) == 8)                                        \
			(s).d = (double)__builtin_choose_expr(__builtin_classify_type(a) == 8, (a), 0); \
		else                                                                        \
			(s).u = (unsigned long long)__builtin_choose_expr(MARKER__X86_INTLIKE(a), \
									   (a), 0);         \
	} while (0)
#else
template <typename T>
inline typename std::enable_if<std::is_floating_point<T>::value>::type
marker__x86_put(union marker__x86_slot &s, T v)
{
	s.d = (double)v;
}
template <typename T>
inline typename std::enable_if<std::is_integral<T>::value || std::is_enum<T>::value ||
			       std::is_pointer<T>::value>::type
marker__x86_put(union marker__x86_slot &s, T v)
{
	s.u = (unsigned long long)v;
}
template <typename T>
inline typename std::enable_if<std::is_same<T, std::nullptr_t>::value>::type
marker__x86_put(union marker__x86_slot &s, T)
{
	s.u = 0;
}
template <typename T>
inline typename std::enable_if<!std::is_scalar<T>::value || std::is_member_pointer<T>::value>::type
marker__x86_put(union marker__x86_slot &, const T &)
{
}
#define MARKER__X86_PUT(s, a) marker__x86_put((s), (a))
#endif

/* The stores: temporary marker__ak is argument n+1-k, in slot n+3-k. */
#define MARKER__X86_P(n, k) MARKER__X86_PUT(marker__area[(n) + 3 - (k)], marker__a##k);
#define MARKER__X86_P1(n) MARKER__X86_P(n, 1)
#define MARKER__X86_P2(n) MARKER__X86_P(n, 2) MARKER__X86_P1(n)
#define MARKER__X86_P3(n) MARKER__X86_P(n, 3) MARKER__X86_P2(n)
#define MARKER__X86_P4(n) MARKER__X86_P(n, 4) MARKER__X86_P3(n)
#define MARKER__X86_P5(n) MARKER__X86_P(n, 5) MARKER__X86_P4(n)
#define MARKER__X86_P6(n) MARKER__X86_P(n, 6) MARKER__X86_P5(n)
#define MARKER__X86_P7(n) MARKER__X86_P(n, 7) MARKER__X86_P6(n)
#define MARKER__X86_P8(n) MARKER__X86_P(n, 8) MARKER__X86_P7(n)
#define MARKER__X86_P9(n) MARKER__X86_P(n, 9) MARKER__X86_P8(n)
#define MARKER__X86_P10(n) MARKER__X86_P(n, 10) MARKER__X86_P9(n)
#define MARKER__X86_P11(n) MARKER__X86_P(n, 11) MARKER__X86_P10(n)
#define MARKER__X86_P12(n) MARKER__X86_P(n, 12) MARKER__X86_P11(n)

#ifdef __AVX512F__
#define MARKER__X86_CLOBBER_512                                                             \
	, "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24",  \
	"xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31", "k0", "k1", "k2",   \
	"k3", "k4", "k5", "k6", "k7"
#else
#define MARKER__X86_CLOBBER_512
#endif

/*
 * The jump to the stub and back.  Input: the area.  The stub preserves
 * every general register but %r11, which it returns holding the area, and
 * which the asm restores from area[2]; clobbered:
 * "cc" and "memory" because it runs arbitrary probes, the vector
 * registers (whole: %xmmN names %ymmN and %zmmN too) and the x87 stack.
 */
#define MARKER__X86_STUB_CALL(nslots)                                                       \
	__asm__ volatile("movq %%r11, 16(%[marker__p])\n\t"                                \
			 "leaq 995f(%%rip), %%r11\n\t"                                      \
			 "movq %%r11, 8(%[marker__p])\n\t"                                  \
			 "movq %[marker__p], %%r11\n\t"                                     \
			 "jmp *marker_abi_fire_stub@GOTPCREL(%%rip)\n"                      \
			 "995:\t" MARKER__X86_ENDBR                                         \
			 "movq 16(%%r11), %%r11"                                            \
			 : : [marker__p] "c"(marker__area),                                 \
			   "m"(*(const union marker__x86_slot(*)[nslots])marker__area)      \
			 : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5",     \
			   "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", \
			   "xmm14", "xmm15", "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", \
			   "st(6)", "st(7)" MARKER__X86_CLOBBER_512)

#define MARKER__FIRE_NOARGS(var)                                                            \
	do {                                                                                \
		union marker__x86_slot marker__area[3];                                     \
		marker__area[0].u = (unsigned long long)(uintptr_t)&(var);                  \
		MARKER__X86_STUB_CALL(3);                                                   \
	} while (0)

/*
 * With n arguments in the temporaries marker__an..marker__a1.  The test is
 * a constant: the compiler keeps one of the two branches.
 */
#define MARKER__FIRE_ARGS(var, n)                                                           \
	do {                                                                                \
		if (MARKER__CAT(MARKER__X86_FIT, n)) {                                      \
			union marker__x86_slot marker__area[(n) + 3];                       \
			marker__area[0].u = (unsigned long long)(uintptr_t)&(var);          \
			MARKER__CAT(MARKER__X86_P, n)(n)                                    \
			MARKER__X86_STUB_CALL((n) + 3);                                     \
		} else {                                                                    \
			marker_fire(&(var), MARKER__CAT(MARKER__N, n));                     \
		}                                                                           \
	} while (0)

#endif /* i386 or x86-64 */

#endif /* the stub */

#endif /* MARKERS_IMPL_FIRE_X86_H */
