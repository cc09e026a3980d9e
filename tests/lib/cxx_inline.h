/*
 * cxx_inline.h - C++ markers of vague linkage, shared by the translation
 * units of tests/unit/cxx_markers.cc and by the library tests/lib/cxx_dl.cc:
 * an inline function, a function template and a class-body method, with
 * every site kind.  Their descriptors are COMDAT (one copy per linked
 * object, and the dynamic linker may bind every object to one of them).
 *
 * No inlining and, with gcc, no clones (noipa: IPA-SRA would add a copy
 * of the code, and so a site, where the return value is unused): one copy
 * of each function per object, so the site counts are exact.
 */
#ifndef MARKERS_TESTS_CXX_INLINE_H
#define MARKERS_TESTS_CXX_INLINE_H

#include <markers.h>

#ifdef __clang__
#define CXX_NOINLINE __attribute__((noinline))
#else
#define CXX_NOINLINE __attribute__((noipa))
#endif

inline CXX_NOINLINE int cxx_inl(int x)
{
	trace_mark_jump(cxx_inl_jump, "x %d", x);
	trace_mark_immediate(cxx_inl_imm, "x %d", x);
	trace_mark_generic(cxx_inl_gen, "x %d", x);
	return x;
}

template <typename T> CXX_NOINLINE T cxx_tpl(T x)
{
	trace_mark_generic(cxx_tpl_gen, "x %ld", (long)x);
	trace_mark(cxx_tpl, "x %ld size %d", (long)x, (int)sizeof(T));
	return x;
}

struct cxx_obj {
	int base;

	CXX_NOINLINE int meth(int x)
	{
		trace_mark_immediate(cxx_meth, "x %d", base + x);
		trace_mark_generic(cxx_meth_gen, "x %d", base + x);
		return x;
	}
};

#endif
