/*
 * markers/arch.h - the optimized site kinds of this architecture.
 *
 * Defines __MARKER_IMMEDIATE, __MARKER_JUMP and MARKER_ARCH_DEFAULT_KIND.
 * Where no optimized kind exists they are the generic site.
 */
#ifndef MARKERS_ARCH_H
#define MARKERS_ARCH_H

#if (defined(__x86_64__) || defined(__i386__)) && !defined(MARKERS_GENERIC_ONLY)
#include "arch-x86.h"
#endif

#ifndef __MARKER_IMMEDIATE
#define __MARKER_IMMEDIATE(name, format, ...) __MARKER_GENERIC(name, format, ##__VA_ARGS__)
#endif
#ifndef __MARKER_JUMP
#define __MARKER_JUMP(name, format, ...) __MARKER_GENERIC(name, format, ##__VA_ARGS__)
#endif
#ifndef MARKER_ARCH_DEFAULT_KIND
#define MARKER_ARCH_DEFAULT_KIND MARKER_KIND_GENERIC
#endif

#endif /* MARKERS_ARCH_H */
