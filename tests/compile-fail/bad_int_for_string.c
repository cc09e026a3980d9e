#include <markers.h>
void f(int x)
{
	trace_mark(cf_marker, "name %s", x);
}
