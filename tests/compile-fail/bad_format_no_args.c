/* A conversion without its argument, in a marker that has no arguments at all. */
#include <markers.h>
void f(void)
{
	trace_mark(cf_marker, "a %d");
}
