/*
 * cxx_dl.cc - a C++ library that tests/unit/cxx_markers dlopens: the
 * vague-linkage markers of cxx_inline.h (whose descriptors the dynamic
 * linker may bind to the program's copies), and markers of its own.
 */
#include "cxx_inline.h"

inline CXX_NOINLINE int dl_only(int x)
{
	trace_mark_jump(cxx_dl_only, "x %d", x);
	trace_mark_generic(cxx_dl_only_gen, "x %d", x);
	return x;
}

extern "C" int cxx_dl_run(int x)
{
	cxx_obj o = {100};

	return dl_only(x) + cxx_inl(x) + cxx_tpl<int>(x) + (int)cxx_tpl<char>((char)x) +
	       o.meth(x);
}
