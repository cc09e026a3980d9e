/*
 * markers/site.h - the parts every trace_mark() site is made of:
 * the descriptor and its strings, the compile-time format check, the
 * out-of-line call, the generic site, and the per-object registration.
 */
#ifndef MARKERS_SITE_H
#define MARKERS_SITE_H

#include "abi.h"
#include "types.h"
#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * marker_fire - call the probes connected to @marker with the site's
 * arguments.  Called by trace_mark() sites only, when the marker is on.
 * Async-signal-safe and lock-free (an RCU read-side section).
 */
MARKER_API void marker_fire(const struct marker *marker, ...);

/*
 * Called by the constructor and destructor that markers.h puts in every
 * translation unit: they hand the library this object's sections.  Calls
 * with the same sections are counted, not repeated.
 */
MARKER_API void marker_abi_register_object(struct marker *begin, struct marker *end,
					   struct marker_site_record *sites_begin,
					   struct marker_site_record *sites_end);
MARKER_API void marker_abi_unregister_object(struct marker *begin);

/* Never called: lets gcc and clang check the arguments against the format. */
static inline __attribute__((format(printf, 1, 2), unused)) void
__marker_check_format(const char *fmt, ...)
{
	(void)fmt;
}

#ifdef __cplusplus
}
#endif

/*
 * The descriptor @var of a site of kind @kind: the name, format and file
 * in one string ("name\0format\0file"), the type codes in another.
 */
#define __MARKER_DECLARE(var, kind, name, format, ...)                               \
	static const char var##_str[]                                                 \
		__attribute__((section("__markers_strings"))) = #name "\0" format "\0" __FILE__; \
	static const char var##_types[] __attribute__((section("__markers_strings"))) = { \
		__MARKER_TYPES(__VA_ARGS__) 0};                                       \
	static struct marker var __attribute__((section("__markers"), aligned(8), used)) = { \
		MARKER_ABI_VERSION, kind, __MARKER_NARGS(__VA_ARGS__), 0, var##_str,   \
		var##_str + sizeof(#name), var##_types,                               \
		var##_str + sizeof(#name) + sizeof(format), __LINE__, 0, {0, 0, 0}, 0, 0}

/*
 * The memory flag, read with a relaxed atomic load: a plain load on every
 * architecture, and a read that thread sanitizers know is meant to race.
 */
#define __MARKER_STATE(var) __atomic_load_n(&(var).state, __ATOMIC_RELAXED)

/* Format check in dead code: the arguments are never evaluated here. */
#define __MARKER_CHECK(format, ...)                                      \
	do {                                                             \
		if (0)                                                   \
			__marker_check_format(format, ##__VA_ARGS__);    \
	} while (0)

/* The generic site: a load of the memory flag and an unlikely branch. */
#define __MARKER_GENERIC(name, format, ...)                                          \
	do {                                                                         \
		__MARKER_DECLARE(__marker_##name, MARKER_KIND_GENERIC, name, format,  \
				 ##__VA_ARGS__);                                     \
		__MARKER_CHECK(format, ##__VA_ARGS__);                               \
		if (__builtin_expect(__MARKER_STATE(__marker_##name), 0))            \
			marker_fire(&__marker_##name, ##__VA_ARGS__);                \
	} while (0)

/*
 * Registration of this object's markers.  The linker defines the
 * __start_/__stop_ symbols of each section in each object (hidden, so
 * every shared object sees its own); weak, so an object without markers
 * links and registers nothing.  Priority 101 runs before the program's
 * own constructors, so markers in constructors are known in time.
 */
#ifndef MARKERS_NO_AUTO_REGISTER
#ifdef __cplusplus
extern "C" {
#endif
extern struct marker __start___markers[] __attribute__((weak, visibility("hidden")));
extern struct marker __stop___markers[] __attribute__((weak, visibility("hidden")));
extern struct marker_site_record __start___markers_sites[]
	__attribute__((weak, visibility("hidden")));
extern struct marker_site_record __stop___markers_sites[]
	__attribute__((weak, visibility("hidden")));
#ifdef __cplusplus
}
#endif
static __attribute__((constructor(101), used)) void __marker_register_this_object(void)
{
	marker_abi_register_object(__start___markers, __stop___markers,
				   __start___markers_sites, __stop___markers_sites);
}
static __attribute__((destructor(101), used)) void __marker_unregister_this_object(void)
{
	marker_abi_unregister_object(__start___markers);
}
#endif

#endif /* MARKERS_SITE_H */
