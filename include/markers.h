/*
 * markers.h - static instrumentation that costs (almost) nothing when off.
 *
 *	#include <markers.h>
 *
 *	trace_mark(net_rx, "len %zu from %s", len, peer);
 *	trace_mark(tick, MARK_NOARGS);		(or any format without conversions)
 *
 * The name is an identifier-like token; the format a string literal that the
 * compiler checks against the arguments (-Werror=format makes a mismatch an
 * error).  The arguments are evaluated only while the marker is on.  At most
 * MARKER_MAX_ARGS arguments.  Several sites may share a name: they are one
 * marker, and their formats must agree.
 *
 * Site kinds (see markers/abi.h):
 *	trace_mark()		the build's default kind, MARKER_DEFAULT_KIND
 *	trace_mark_generic()	a load of a flag in memory: every architecture,
 *				and code that the library's trap handler may run
 *	trace_mark_immediate()	a mov-immediate whose operand is the flag, as in
 *				the 2007 Linux Kernel Markers (x86; else generic)
 *	trace_mark_jump()	a 5-byte nop that becomes a jmp (x86; else generic)
 * Define MARKER_DEFAULT_KIND (to MARKER_KIND_GENERIC, _IMMEDIATE or _JUMP)
 * before including this header to choose the kind of trace_mark() in a
 * translation unit.
 *
 * Strict ISO: the header and every site compile without a diagnostic under
 * -std=c11/c17 (or gnu11) and C++11 to C++20 with -Wall -Wextra -pedantic,
 * gcc and clang.  The GNU extensions it needs (asm, attributes, a statement
 * expression) are spelled so that -pedantic accepts them.
 *
 * Probes connect to markers by name (markers/probe.h); the built-in tracer
 * is in markers/tracer.h.  Link with libmarkers (pkg-config markers).
 * What the macros expand to is in markers/impl/, which is not API.
 */
#ifndef MARKERS_H
#define MARKERS_H

#include "markers/probe.h"
#include "markers/impl/site.h"
#include "markers/impl/arch.h"

/* A marker without arguments: a format without conversions. */
#define MARK_NOARGS " "

/*
 * trace_mark(name, format, args...) and the kinds: the format is the first
 * of the variadic arguments, so that a marker without arguments is ISO C.
 */
#define trace_mark_generic(name, ...) MARKER__GENERIC(name, __VA_ARGS__)
#define trace_mark_immediate(name, ...) MARKER__IMMEDIATE(name, __VA_ARGS__)
#define trace_mark_jump(name, ...) MARKER__JUMP(name, __VA_ARGS__)

#ifndef MARKER_DEFAULT_KIND
#define MARKER_DEFAULT_KIND MARKER_ARCH_DEFAULT_KIND
#endif

#define MARKER__SITE_0 MARKER__GENERIC
#define MARKER__SITE_1 MARKER__IMMEDIATE
#define MARKER__SITE_2 MARKER__JUMP
#define trace_mark(name, ...) MARKER__CAT(MARKER__SITE_, MARKER_DEFAULT_KIND)(name, __VA_ARGS__)

#endif /* MARKERS_H */
