/*
 * markers/impl/arch.h - the optimized site kinds of this architecture.
 * Not API: included by markers.h.
 *
 * Defines MARKER__IMMEDIATE, MARKER__JUMP, MARKER_ARCH_DEFAULT_KIND and the
 * out-of-line call, MARKER__FIRE_NOARGS and MARKER__FIRE_ARGS (usdt.h).
 * Where no optimized kind exists they are the generic site.
 */
#ifndef MARKERS_IMPL_ARCH_H
#define MARKERS_IMPL_ARCH_H

#if (defined(__x86_64__) || defined(__i386__)) && !defined(MARKERS_GENERIC_ONLY)
#include "arch-x86.h"
#endif

#ifndef MARKER__IMMEDIATE
#define MARKER__IMMEDIATE MARKER__GENERIC
#endif
#ifndef MARKER__JUMP
#define MARKER__JUMP MARKER__GENERIC
#endif
/* The call of the out-of-line block (usdt.h): marker_fire() unless the arch has its own. */
#ifndef MARKER__FIRE_ARGS
#define MARKER__FIRE_NOARGS(var) marker_fire(&(var))
#define MARKER__FIRE_ARGS(var, n) marker_fire(&(var), MARKER__CAT(MARKER__N, n))
#endif
#ifndef MARKER_ARCH_DEFAULT_KIND
#define MARKER_ARCH_DEFAULT_KIND MARKER_KIND_GENERIC
#endif

#endif /* MARKERS_IMPL_ARCH_H */
