#include <markers.h>
void f(int x)
{
	trace_mark(cf_marker, "a %d b %d", x);
}
