/* A library dlopen'd while recording: its markers appear after the session started. */
#include <markers.h>

__attribute__((visibility("default"))) void tracer_dl_fire(int i, const char *s)
{
	trace_mark(tracer_dl_event, "n %d tag %s", i, s);
}
