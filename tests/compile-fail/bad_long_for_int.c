#include <markers.h>
void f(long x)
{
	trace_mark_generic(cf_marker, "a %d", x);
}
