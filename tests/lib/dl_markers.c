/* An instrumented library that the tests dlopen and dlclose. */
#include <markers.h>

int dl_markers_fire(int n)
{
	for (int i = 0; i < n; i++)
		trace_mark(dl_marker, "i %d of %d", i, n);
	return n;
}

void dl_markers_generic(int v)
{
	trace_mark_generic(dl_generic, "v %d", v);
}
