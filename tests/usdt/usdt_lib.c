/* usdt_lib - a shared library with a marker, for tests/usdt.t. */
#include <markers.h>

void usdt_lib_fire(int i)
{
	trace_mark(usdt_lib, "i %d", i);
}
