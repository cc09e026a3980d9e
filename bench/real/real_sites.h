/*
 * real_sites.h - the instrumentation put into a real program's hottest
 * per-item points (bench/real/), one way per build, chosen by -DKIND_<kind>:
 * none, markers (trace_mark, the default site kind), sdt (sys/sdt.h), flag
 * (a relaxed load of a global and a call), call (trace_mark() with the
 * out-of-line block's ordinary call to marker_fire(), MARKERS_NO_FIRE_STUB).
 * Each site passes one value, the item at hand.  Included ahead of the
 * program's source (-include), so the program's text is patched only where
 * a site goes.
 */
#ifndef BENCH_REAL_SITES_H
#define BENCH_REAL_SITES_H

#if defined(KIND_none)
#define REAL_SITE(name, v) do { } while (0)

#elif defined(KIND_markers)
#include <markers.h>
#define REAL_SITE(name, v) trace_mark(name, "v %u", (unsigned)(v))

#elif defined(KIND_sdt)
#include <sys/sdt.h>
#define REAL_SITE(name, v) STAP_PROBE1(real, name, (unsigned)(v))

#elif defined(KIND_flag)
extern int real_flag;
void real_flag_probe(unsigned v);
#define REAL_SITE(name, v)                                                        \
	do {                                                                      \
		if (__builtin_expect(__atomic_load_n(&real_flag, __ATOMIC_RELAXED), 0)) \
			real_flag_probe((unsigned)(v));                           \
	} while (0)

#elif defined(KIND_call)
/* trace_mark() as it was: the out-of-line block calls marker_fire() itself. */
#define MARKERS_NO_FIRE_STUB
#include <markers.h>
#define REAL_SITE(name, v) trace_mark(name, "v %u", (unsigned)(v))

#else
#error "define KIND_<kind>"
#endif

#endif
