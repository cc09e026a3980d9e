/*
 * markers/impl/fire-x86.h - the out-of-line call of an x86-64 site: through
 * a stub that preserves every register.  Not API: included by arch-x86.h.
 *
 * Why: a plain call to marker_fire() in the out-of-line block clobbers the
 * caller-saved registers, so the compiler keeps the values that live across
 * the site in callee-saved registers (saved and restored by the function)
 * or spills them around it: work done on the path taken while the marker
 * is off.  Here the compiler sees no call, only an asm statement that reads
 * one register and memory; the stub (src/lib/arch/x86_fire.c) saves and
 * restores everything the ABI lets a callee clobber.  Per lz4 sequence in
 * bench/real: a third of the added instructions of a plain call.
 *
 * The block stores the descriptor and the arguments in a per-site area on
 * the stack, 8 bytes a slot, laid out as the x86-64 ABI lays out stack
 * arguments of a variadic call after the default promotions (integers and
 * pointers widened to 8 bytes, float to double); the library hands the
 * probes a va_list over it, so they read what marker_fire() would hand them.
 *
 *	area[0]		the descriptor
 *	area[1]		%r11 while the stub runs (it carries the return address)
 *	area[2..]	the arguments, the first first
 *
 * The asm never moves %rsp, so the function's own unwind table stays true
 * at every instruction and its red zone is left alone: it loads the return
 * address into %r11 and jumps (an indirect jmp through the GOT: no PLT,
 * no lazy binding, PIC or not); the stub steps below the red zone itself,
 * and its unwind table says where the return address is.  No call/ret pair
 * is split, so a shadow stack (CET) sees none; with -fcf-protection the
 * return point carries an endbr64.
 *
 * The ordinary call remains where the stub cannot describe an argument or
 * protect a register: long double (16-byte slots), types the tracer marks
 * '?' (structs, complex, __int128), code compiled for AVX-512 (whose zmm16
 * to zmm31 and mask registers the stub does not save), i386 (measured: see
 * BENCHMARKS.md), and MARKERS_NO_FIRE_STUB defined before markers.h.  A
 * function given an AVX-512 target attribute in a translation unit built
 * without AVX-512 must define that macro.  x87 registers are declared
 * clobbered: the compiler keeps nothing on the x87 stack across the site.
 */
#ifndef MARKERS_IMPL_FIRE_X86_H
#define MARKERS_IMPL_FIRE_X86_H

#if defined(__x86_64__) && !defined(__AVX512F__) && !defined(MARKERS_NO_FIRE_STUB) && \
	MARKER__USDT_FLAG

#ifdef __cplusplus
extern "C" {
#endif
/* The stub: entered by jmp, %rdi = the area, %r11 = where to return.  Never call it. */
MARKER_API void marker_abi_fire_stub(void);
#ifdef __cplusplus
}
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

/* The stores: temporary marker__ak is argument n+1-k, in slot n+2-k. */
#define MARKER__X86_P(n, k) MARKER__X86_PUT(marker__area[(n) + 2 - (k)], marker__a##k);
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

#if defined(__CET__) && (__CET__ & 1)
#define MARKER__X86_ENDBR "endbr64\n\t"
#else
#define MARKER__X86_ENDBR ""
#endif

/*
 * The jump to the stub and back.  Inputs: the area in %rdi.  The stub
 * preserves every general register (%r11 through area[1]), the SSE and
 * AVX registers and the flags' consumers; "cc" and "memory" because it
 * runs arbitrary probes, the x87 stack because a probe may use it.
 */
#define MARKER__X86_STUB_CALL(nslots)                                                       \
	__asm__ volatile("movq %%r11, 8(%%rdi)\n\t"                                         \
			 "leaq 995f(%%rip), %%r11\n\t"                                      \
			 "jmp *marker_abi_fire_stub@GOTPCREL(%%rip)\n"                      \
			 "995:\t" MARKER__X86_ENDBR                                         \
			 "movq 8(%%rdi), %%r11"                                             \
			 : : "D"(marker__area),                                             \
			   "m"(*(const union marker__x86_slot(*)[nslots])marker__area)      \
			 : "memory", "cc", "st", "st(1)", "st(2)", "st(3)", "st(4)",         \
			   "st(5)", "st(6)", "st(7)")

#define MARKER__FIRE_NOARGS(var)                                                            \
	do {                                                                                \
		union marker__x86_slot marker__area[2];                                     \
		marker__area[0].u = (unsigned long long)(uintptr_t)&(var);                  \
		MARKER__X86_STUB_CALL(2);                                                   \
	} while (0)

/*
 * With n arguments in the temporaries marker__an..marker__a1.  The test is
 * a constant: the compiler keeps one of the two branches.
 */
#define MARKER__FIRE_ARGS(var, n)                                                           \
	do {                                                                                \
		if (MARKER__CAT(MARKER__X86_FIT, n)) {                                      \
			union marker__x86_slot marker__area[(n) + 2];                       \
			marker__area[0].u = (unsigned long long)(uintptr_t)&(var);          \
			MARKER__CAT(MARKER__X86_P, n)(n)                                    \
			MARKER__X86_STUB_CALL((n) + 2);                                     \
		} else {                                                                    \
			marker_fire(&(var), MARKER__CAT(MARKER__N, n));                     \
		}                                                                           \
	} while (0)

#endif /* x86-64 without AVX-512 */

#endif /* MARKERS_IMPL_FIRE_X86_H */
