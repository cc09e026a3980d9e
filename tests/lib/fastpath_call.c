/*
 * tracer_fastpath's marker again, built with the plain call of
 * marker_fire() (the way of i386 sites and of MARKERS_NO_FIRE_STUB units):
 * the probes' va_list entry, where the unit's own sites take the stub.
 */
#define MARKERS_NO_FIRE_STUB
#include <errno.h>
#include <markers.h>

__attribute__((visibility("default"))) int fastpath_call_fire(int a, int b, const char *s)
{
	trace_mark(fp_both, "a %d b %d s %s", a, b, s);
	return errno;
}
