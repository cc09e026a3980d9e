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
 *	trace_mark_immediate()	the seed's mov-immediate (x86; else generic)
 *	trace_mark_jump()	a 5-byte nop that becomes a jmp (x86; else generic)
 * Define MARKER_DEFAULT_KIND (to MARKER_KIND_GENERIC, _IMMEDIATE or _JUMP) before including this
 * header to make trace_mark() generic in a translation unit.
 *
 * Probes connect to markers by name (markers/probe.h); the built-in tracer
 * is in markers/tracer.h.  Link with libmarkers (pkg-config markers).
 */
#ifndef MARKERS_H
#define MARKERS_H

#include "markers/site.h"
#include "markers/probe.h"
#include "markers/arch.h"

/* The seed's spelling of a marker without arguments. */
#define MARK_NOARGS " "

#define trace_mark_generic(name, format, ...) __MARKER_GENERIC(name, format, ##__VA_ARGS__)
#define trace_mark_immediate(name, format, ...) \
	__MARKER_IMMEDIATE(name, format, ##__VA_ARGS__)
#define trace_mark_jump(name, format, ...) __MARKER_JUMP(name, format, ##__VA_ARGS__)

#ifndef MARKER_DEFAULT_KIND
#define MARKER_DEFAULT_KIND MARKER_ARCH_DEFAULT_KIND
#endif

#define __MARKER_SITE_0 __MARKER_GENERIC
#define __MARKER_SITE_1 __MARKER_IMMEDIATE
#define __MARKER_SITE_2 __MARKER_JUMP
#define trace_mark(name, format, ...) \
	__MARKER_CAT(__MARKER_SITE_, MARKER_DEFAULT_KIND)(name, format, ##__VA_ARGS__)

#endif /* MARKERS_H */
