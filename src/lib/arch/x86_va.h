/*
 * arch/x86_va.h - a va_list over an argument area (x86-64, i386), for the
 * register-preserving stub's way into the probes (x86_fire.c, probes.c).
 */
#ifndef MARKERS_ARCH_X86_VA_H
#define MARKERS_ARCH_X86_VA_H

#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#ifdef __x86_64__
/*
 * Sets @ap to read @slots: 8-byte slots laid out as a variadic call's stack
 * arguments after the default promotions (markers/impl/fire-x86.h).  The
 * x86-64 ABI's va_list with both register areas marked used up, so that
 * va_arg() reads every argument from the "stack" area.
 */
static inline void marker__x86_va_slots(va_list ap, const uint64_t *slots)
{
	struct {
		unsigned int gp_offset, fp_offset;
		const void *overflow_arg_area, *reg_save_area;
	} v = {48, 176, slots, NULL};

	_Static_assert(sizeof(va_list) == sizeof(v), "the x86-64 va_list");
	memcpy(ap, &v, sizeof(v));
}
#elif defined(__i386__)
/*
 * Sets *@ap to read @words: 4-byte words laid out as a variadic call's
 * stack arguments (markers/impl/fire-i386.h).  An i386 va_list is the
 * address of the next argument.
 */
static inline void marker__i386_va_words(va_list *ap, const uint32_t *words)
{
	_Static_assert(sizeof(va_list) == sizeof(words), "the i386 va_list");
	memcpy(ap, &words, sizeof(words));
}
#endif

#endif /* MARKERS_ARCH_X86_VA_H */
