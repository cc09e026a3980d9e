/*
 * markers/impl/fire-i386.h - the out-of-line call of an i386 site: through
 * the stub that preserves every register (fire-x86.h says why).  Not API:
 * included by fire-x86.h, which defines the common parts (the declaration
 * of marker_abi_fire_stub, MARKER__X86_FITn).
 *
 * The block stores the descriptor, the stub's address and the arguments
 * in a per-site area on the stack, in 4-byte words, the arguments laid out
 * as the stack arguments of a variadic call (cdecl) after the default
 * promotions: a word for integers up to 32 bits, enums and pointers, two
 * for 64-bit integers and for float and double (as a double).  An i386
 * va_list is a pointer to the next argument, so the library hands the
 * probes a pointer to area[2]: they read what marker_fire() hands them.
 *
 *	area[0]		the descriptor
 *	area[1]		the stub's address
 *	area[2..]	the arguments, the first first
 *
 * The asm is one instruction, `call *4(%reg)`, the area in any register
 * (the stub reads which from the call's ModRM byte):
 *   - the stub's address comes from the compiler (through the GOT under
 *     PIC, with whatever register it keeps the GOT in; an absolute address
 *     otherwise), so the asm needs no %ebx and no PLT;
 *   - the i386 ABI has no red zone, so the call's push of the return
 *     address below %esp overwrites nothing the function keeps, and the
 *     function's unwind table stays true: %esp is the same before and
 *     after the asm, and while the stub runs its own table says where the
 *     return address is, as for any call;
 *   - a call and its ret: a shadow stack (CET) sees a matched pair, and
 *     the stub starts with endbr32 for indirect-branch tracking.
 * Which register is the compiler's choice with gcc, %ecx with clang, by
 * measurement on lz4 in bench/real (callgrind, -O3 -m32, instructions over
 * the uninstrumented build, compress / decompress):
 *   gcc:   any register -0.34 % / +3.99 %; %eax, %ecx or %edx -0.34 % /
 *          +7.98 % to +9.98 % (the decoder's loop kept a value on the
 *          stack); the plain call +3.04 % / +3.99 %;
 *   clang: %ecx +3.41 % / +2.11 %; any register +4.55 % / +14.50 %; %eax,
 *          %edx, %ebx, %esi, %edi +3.41 % to +4.76 % / +4.17 % to +14.43 %;
 *          the plain call +2.03 % / +2.09 %, SDT +17.35 % / +8.30 %.
 * The stub preserves every general register; the flags, the x87 stack
 * and the vector registers are clobbers, as with a call (no callee keeps
 * them in the i386 ABI either).
 */
#ifndef MARKERS_IMPL_FIRE_I386_H
#define MARKERS_IMPL_FIRE_I386_H

/* The words argument k (temporary marker__ak) takes: 2 for 64-bit integers, float, double. */
#define MARKER__I386_W(k)                                                                   \
	((MARKER__TC_(marker__a##k) == MARKER_TYPE_S64 ||                                   \
	  MARKER__TC_(marker__a##k) == MARKER_TYPE_U64 ||                                   \
	  MARKER__TC_(marker__a##k) == MARKER_TYPE_FLOAT ||                                 \
	  MARKER__TC_(marker__a##k) == MARKER_TYPE_DOUBLE) ? 2 : 1)
/* MARKER__I386_Nk: the words of the temporaries marker__a1..marker__ak (the last k arguments). */
#define MARKER__I386_N1 MARKER__I386_W(1)
#define MARKER__I386_N2 MARKER__I386_W(2) + MARKER__I386_N1
#define MARKER__I386_N3 MARKER__I386_W(3) + MARKER__I386_N2
#define MARKER__I386_N4 MARKER__I386_W(4) + MARKER__I386_N3
#define MARKER__I386_N5 MARKER__I386_W(5) + MARKER__I386_N4
#define MARKER__I386_N6 MARKER__I386_W(6) + MARKER__I386_N5
#define MARKER__I386_N7 MARKER__I386_W(7) + MARKER__I386_N6
#define MARKER__I386_N8 MARKER__I386_W(8) + MARKER__I386_N7
#define MARKER__I386_N9 MARKER__I386_W(9) + MARKER__I386_N8
#define MARKER__I386_N10 MARKER__I386_W(10) + MARKER__I386_N9
#define MARKER__I386_N11 MARKER__I386_W(11) + MARKER__I386_N10
#define MARKER__I386_N12 MARKER__I386_W(12) + MARKER__I386_N11

/*
 * Stores argument @a, whose type code is @tc, at @p: a double for float and
 * double, 8 bytes for 64-bit integers, else a word.  Types that take the
 * ordinary call still compile here (to nothing that runs).
 */
#ifndef __cplusplus
#define MARKER__I386_INT(a) (__builtin_classify_type(a) == 1 || __builtin_classify_type(a) == 3)
#define MARKER__I386_WORDLIKE(a) (__builtin_classify_type(a) >= 1 && __builtin_classify_type(a) <= 5)
#define MARKER__I386_PUT(p, a, tc)                                                          \
	do {                                                                                \
		if ((tc) == MARKER_TYPE_FLOAT || (tc) == MARKER_TYPE_DOUBLE) {              \
			double marker__v =                                                  \
				(double)__builtin_choose_expr(__builtin_classify_type(a) == 8, (a), 0); \
			__builtin_memcpy((p), &marker__v, 8);                               \
		} else if ((tc) == MARKER_TYPE_S64 || (tc) == MARKER_TYPE_U64) {            \
			unsigned long long marker__v = (unsigned long long)                 \
				__builtin_choose_expr(MARKER__I386_INT(a), (a), 0);         \
			__builtin_memcpy((p), &marker__v, 8);                               \
		} else {                                                                    \
			*(p) = (unsigned int)(uintptr_t)                                    \
				__builtin_choose_expr(MARKER__I386_WORDLIKE(a), (a), 0);    \
		}                                                                           \
	} while (0)
#else
template <typename T>
inline typename std::enable_if<std::is_floating_point<T>::value>::type
marker__i386_put(unsigned int *p, T v)
{
	double d = (double)v;

	__builtin_memcpy(p, &d, 8);
}
template <typename T>
inline typename std::enable_if<std::is_integral<T>::value || std::is_enum<T>::value>::type
marker__i386_put(unsigned int *p, T v)
{
	if (sizeof(T) == 8) {
		unsigned long long u = (unsigned long long)v;

		__builtin_memcpy(p, &u, 8);
	} else {
		*p = (unsigned int)v;
	}
}
template <typename T>
inline typename std::enable_if<std::is_pointer<T>::value>::type
marker__i386_put(unsigned int *p, T v)
{
	*p = (unsigned int)(uintptr_t)v;
}
template <typename T>
inline typename std::enable_if<std::is_same<T, std::nullptr_t>::value>::type
marker__i386_put(unsigned int *p, T)
{
	*p = 0;
}
template <typename T>
inline typename std::enable_if<!std::is_scalar<T>::value || std::is_member_pointer<T>::value>::type
marker__i386_put(unsigned int *, const T &)
{
}
#define MARKER__I386_PUT(p, a, tc) marker__i386_put((p), (a))
#endif

/*
 * The stores: temporary marker__ak is argument n+1-k; the arguments before
 * it (temporaries k+1..n) take N(n) - N(k) words.
 */
#define MARKER__I386_P(n, k)                                                                \
	MARKER__I386_PUT(marker__area + 2 + (MARKER__CAT(MARKER__I386_N, n)) -              \
				 (MARKER__I386_N##k),                                       \
			 marker__a##k, MARKER__TC_(marker__a##k));
#define MARKER__I386_P1(n) MARKER__I386_P(n, 1)
#define MARKER__I386_P2(n) MARKER__I386_P(n, 2) MARKER__I386_P1(n)
#define MARKER__I386_P3(n) MARKER__I386_P(n, 3) MARKER__I386_P2(n)
#define MARKER__I386_P4(n) MARKER__I386_P(n, 4) MARKER__I386_P3(n)
#define MARKER__I386_P5(n) MARKER__I386_P(n, 5) MARKER__I386_P4(n)
#define MARKER__I386_P6(n) MARKER__I386_P(n, 6) MARKER__I386_P5(n)
#define MARKER__I386_P7(n) MARKER__I386_P(n, 7) MARKER__I386_P6(n)
#define MARKER__I386_P8(n) MARKER__I386_P(n, 8) MARKER__I386_P7(n)
#define MARKER__I386_P9(n) MARKER__I386_P(n, 9) MARKER__I386_P8(n)
#define MARKER__I386_P10(n) MARKER__I386_P(n, 10) MARKER__I386_P9(n)
#define MARKER__I386_P11(n) MARKER__I386_P(n, 11) MARKER__I386_P10(n)
#define MARKER__I386_P12(n) MARKER__I386_P(n, 12) MARKER__I386_P11(n)

/*
 * The vector registers exist for the compiler only where the translation
 * unit is built for them (gcc refuses to name %xmm0 without SSE): a
 * function given an SSE or AVX-512 target attribute in a unit built
 * without must define MARKERS_NO_FIRE_STUB.
 */
#ifdef __SSE__
#define MARKER__I386_CLOBBER_SSE                                                            \
	, "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7"
#else
#define MARKER__I386_CLOBBER_SSE
#endif
#ifdef __AVX512F__
#define MARKER__I386_CLOBBER_512 , "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"
#else
#define MARKER__I386_CLOBBER_512
#endif

/* The area's register (measured: see above). */
#ifdef __clang__
#define MARKER__I386_AREA "c"
#else
#define MARKER__I386_AREA "r"
#endif

/*
 * The call of the stub.  Input: the area; it preserves every general
 * register.  Clobbered: "cc" and "memory" because it runs arbitrary probes,
 * the vector registers (%xmmN names %ymmN and %zmmN too) and the x87
 * stack (and so the MMX registers).
 */
#define MARKER__I386_STUB_CALL(nwords)                                                      \
	__asm__ volatile("call *4(%[marker__p])"                                            \
			 : : [marker__p] MARKER__I386_AREA(marker__area),                                 \
			   "m"(*(const unsigned int(*)[nwords])marker__area)                \
			 : "memory", "cc", "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)",  \
			   "st(6)", "st(7)" MARKER__I386_CLOBBER_SSE MARKER__I386_CLOBBER_512)

#define MARKER__I386_HEAD(var)                                                              \
	marker__area[0] = (unsigned int)(uintptr_t)&(var);                                  \
	marker__area[1] = (unsigned int)(uintptr_t)&marker_abi_fire_stub

#define MARKER__FIRE_NOARGS(var)                                                            \
	do {                                                                                \
		unsigned int marker__area[2];                                               \
		MARKER__I386_HEAD(var);                                                     \
		MARKER__I386_STUB_CALL(2);                                                  \
	} while (0)

/*
 * With n arguments in the temporaries marker__an..marker__a1.  The test is
 * a constant: the compiler keeps one of the two branches.
 */
#define MARKER__FIRE_ARGS(var, n)                                                           \
	do {                                                                                \
		if (MARKER__CAT(MARKER__X86_FIT, n)) {                                      \
			unsigned int marker__area[2 + (MARKER__CAT(MARKER__I386_N, n))];    \
			MARKER__I386_HEAD(var);                                             \
			MARKER__CAT(MARKER__I386_P, n)(n)                                   \
			MARKER__I386_STUB_CALL(2 + (MARKER__CAT(MARKER__I386_N, n)));       \
		} else {                                                                    \
			marker_fire(&(var), MARKER__CAT(MARKER__N, n));                     \
		}                                                                           \
	} while (0)

#endif /* MARKERS_IMPL_FIRE_I386_H */
