#include <markers.h>
void f(const char *s)
{
	trace_mark_jump(cf_marker, "a %u", s);
}
