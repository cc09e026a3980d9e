/*
 * markers/impl/site.h - the parts every trace_mark() site is made of:
 * the descriptor and its strings, the compile-time format check, the
 * out-of-line call, the generic site, and the per-object registration.
 * Not API: included by markers.h, which documents the macros.
 *
 * Names: macros MARKER__*, functions and variables marker__*, so that none
 * is reserved to the implementation (no leading underscore) and none
 * collides with a program's own names.  The @... of every site macro is
 * the user's (format, args...): see args.h.
 */
#ifndef MARKERS_IMPL_SITE_H
#define MARKERS_IMPL_SITE_H

#include "../abi.h"
#include "../export.h"
#include "args.h"

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
 * with the same sections are counted, not repeated.  @begin of unregister
 * is the object's key: its first descriptor, or its first site record when
 * it has no descriptors in __markers (an object of C++ sites only).
 */
MARKER_API void marker_abi_register_object(struct marker *begin, struct marker *end,
					   struct marker_site_record *sites_begin,
					   struct marker_site_record *sites_end);
MARKER_API void marker_abi_unregister_object(struct marker *begin);

/* Never called: lets gcc and clang check the arguments against the format. */
static inline __attribute__((format(printf, 1, 2), unused)) void
marker__check_format(const char *fmt, ...)
{
	(void)fmt;
}

#ifdef __cplusplus
}
#endif

/*
 * Where a descriptor and its strings go.  In C: sections __markers and
 * __markers_strings, which the library walks.  In C++ that cannot work:
 * the static locals of inline functions, class-body methods and templates
 * are COMDAT (one copy kept per linked object), gcc refuses COMDAT and
 * plain variables in one named section ("section type conflict"), and g++
 * ignores the section attribute of a template's static locals altogether.
 * So in C++ the descriptor and its strings are ordinary statics, and every
 * site, generic included, names its descriptor in a site record
 * (MARKER__CXX_RECORD below): the library and `markers list` find C++
 * descriptors through the records only.
 */
#ifdef __cplusplus
#define MARKER__SECTION(name)
#else
#define MARKER__SECTION(name) __attribute__((section(name)))
#endif

/*
 * The descriptor @var of a site of kind @kind: the name, format and file
 * in one string ("name\0format\0file"), the type codes in another.
 */
#define MARKER__DECLARE(var, kind, name, ...)                                              \
	static const char var##_str[] MARKER__SECTION("__markers_strings") =                \
		#name "\0" MARKER__FORMAT(__VA_ARGS__) "\0" __FILE__;                       \
	static const char var##_types[] MARKER__SECTION("__markers_strings") = {            \
		MARKER__TYPES(__VA_ARGS__) 0};                                              \
	static struct marker var MARKER__SECTION("__markers") __attribute__((aligned(8), used)) = { \
		MARKER_ABI_VERSION, kind, MARKER__NARGS(__VA_ARGS__), MARKER__USDT_FLAG, var##_str, \
		var##_str + sizeof(#name), var##_types,                                     \
		var##_str + sizeof(#name) + sizeof(MARKER__FORMAT(__VA_ARGS__)), __LINE__, 0, \
		0, 0, 0, 0}

/*
 * An asm operand that names the descriptor as a bare symbol, whatever the
 * code model (PIC, PIE, static; i386 included), so that a site record can
 * hold its address: the linker, not the code, resolves it.  Checked -O0 to
 * -O3, C and C++, on the static locals of plain and inline functions,
 * methods and templates: x86 with gcc's "X" printed by %p and clang's "s"
 * by %c; aarch64 with "S" printed by %c (gcc and clang).  A compiler that
 * chose a register instead would fail to assemble the record: never a
 * silent miscompile.  Elsewhere no operand is known (see MARKER__CXX_RECORD).
 */
#if defined(__x86_64__) || defined(__i386__)
#ifdef __clang__
#define MARKER__DESC_OPERAND(var) [marker__desc] "s"(&var)
#define MARKER__DESC_REF "%c[marker__desc]"
#else
#define MARKER__DESC_OPERAND(var) [marker__desc] "X"(&var)
#define MARKER__DESC_REF "%p[marker__desc]"
#endif
#elif defined(__aarch64__)
#define MARKER__DESC_OPERAND(var) [marker__desc] "S"(&var)
#define MARKER__DESC_REF "%c[marker__desc]"
#endif

#if __SIZEOF_POINTER__ == 8
#define MARKER__ASM_PTR ".balign 8\n\t.quad "
#else
#define MARKER__ASM_PTR ".balign 4\n\t.long "
#endif

/*
 * The section of the site records.  In C++ with the "?" flag: the records
 * join the COMDAT group of the code they describe (the out-of-line copy of
 * an inline function, a template instance), so that when the linker drops
 * a duplicate copy it drops its records too, instead of keeping records of
 * code that is not there.  A record of code in a plain section stays in a
 * plain section.  The descriptor, in a group of its own, is named by
 * symbol: the linker points the record at the copy it kept.
 */
#ifdef __cplusplus
#define MARKER__SITES_SECTION ".pushsection __markers_sites,\"aw?\"\n\t"
#else
#define MARKER__SITES_SECTION ".pushsection __markers_sites,\"aw\"\n\t"
#endif

/*
 * The memory flag, read with a relaxed atomic load: a plain load on every
 * architecture, and a read that thread sanitizers know is meant to race.
 */
#define MARKER__STATE(var) __atomic_load_n(&(var).state, __ATOMIC_RELAXED)

/* Format check in dead code: the arguments are never evaluated here. */
#define MARKER__CHECK(...)                                               \
	do {                                                             \
		if (0)                                                   \
			marker__check_format(__VA_ARGS__);               \
	} while (0)

/* The out-of-line call: marker_fire(&var, args...). */
#define MARKER__FIRE(var, ...) MARKER__CALL(marker_fire, &(var), __VA_ARGS__)

/*
 * The record of a C++ generic site: the address of a label at the site
 * (for listings), no target, the descriptor.  Zero instructions; the
 * library tells it from the record of an optimized site by the
 * descriptor's kind.  C needs none: its descriptors are in __markers.
 */
#ifdef __cplusplus
#ifdef MARKER__DESC_OPERAND
#define MARKER__CXX_RECORD(var)                                                     \
	__asm__ volatile("1:\n\t" MARKER__SITES_SECTION MARKER__ASM_PTR            \
			 "1b, 0, " MARKER__DESC_REF "\n\t.popsection"                 \
			 : : MARKER__DESC_OPERAND(var))
#else
/* Refused at compile time rather than a marker that silently never fires. */
#define MARKER__CXX_RECORD(var)                                                     \
	static_assert(sizeof(var) == 0, "markers: C++ sites are not supported on this " \
					"architecture (no asm operand to name the descriptor)")
#endif
#else
#define MARKER__CXX_RECORD(var) do {} while (0)
#endif

#include "usdt.h"

/* The generic site: a load of the memory flag and an unlikely branch. */
#define MARKER__GENERIC(name, ...)                                                   \
	do {                                                                         \
		MARKER__DECLARE(marker__desc_##name, MARKER_KIND_GENERIC, name, __VA_ARGS__); \
		MARKER__CHECK(__VA_ARGS__);                                          \
		MARKER__CXX_RECORD(marker__desc_##name);                             \
		unsigned char marker__st = MARKER__STATE(marker__desc_##name);       \
		if (__builtin_expect(marker__st, 0))                                 \
			MARKER__BLOCK(marker__desc_##name, marker__st, name, __VA_ARGS__); \
	} while (0)

/*
 * Registration of this object's markers.  The linker defines the
 * __start_/__stop_ symbols of each section in each object (hidden, so
 * every shared object sees its own); weak, so an object without markers
 * links and registers nothing.  Priority 101 runs before the program's
 * own constructors, so markers in constructors are known in time.
 *
 * The __start_SECTION and __stop_SECTION names are the linker's: the one
 * place where these headers use names reserved to the implementation.
 *
 * The library knows an object by a key: its first descriptor, or, in an
 * object with site records but no __markers section (C++ only), its first
 * site record.  Every translation unit of one object computes the same key.
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
static __attribute__((constructor(101), used)) void marker__register_this_object(void)
{
	marker_abi_register_object(__start___markers, __stop___markers,
				   __start___markers_sites, __stop___markers_sites);
}
static __attribute__((destructor(101), used)) void marker__unregister_this_object(void)
{
	/* As integers: the two symbols are distinct arrays to the compiler. */
	if ((uintptr_t)__start___markers < (uintptr_t)__stop___markers)
		marker_abi_unregister_object(__start___markers);
	else
		marker_abi_unregister_object((struct marker *)(void *)__start___markers_sites);
}
#endif

#endif /* MARKERS_IMPL_SITE_H */
