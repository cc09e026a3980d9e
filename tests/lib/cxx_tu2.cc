/*
 * cxx_tu2.cc - the second translation unit of tests/unit/cxx_markers: the
 * same inline function, template and method as the first (the linker keeps
 * one copy of each, and of its descriptors), one instantiation of its own,
 * and a static function.
 */
#include "cxx_inline.h"

static CXX_NOINLINE void tu2_static(int x)
{
	trace_mark(cxx_tu2_static, "x %d", x);
}

extern "C" int cxx_tu2(int x)
{
	cxx_obj o = {10};

	tu2_static(x);
	return cxx_inl(x) + cxx_tpl<int>(x) + (int)cxx_tpl<short>((short)x) + o.meth(x);
}
