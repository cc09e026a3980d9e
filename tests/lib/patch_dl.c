/*
 * A library that the patching tests dlopen and dlclose: one marker of each
 * kind, and a loop of many sites for the stress test.
 */
#include <markers.h>

void patch_dl_fire(int kind, int i)
{
	switch (kind) {
	case MARKER_KIND_IMMEDIATE:
		trace_mark_immediate(dl_imm, "i %d", i);
		break;
	case MARKER_KIND_JUMP:
		trace_mark_jump(dl_jmp, "i %d", i);
		break;
	default:
		trace_mark_generic(dl_gen, "i %d", i);
	}
}

/* Markers dl_m0..dl_m3 in each kind, once per call. */
void patch_dl_loop(int i)
{
	trace_mark_immediate(dl_m0, "i %d", i);
	trace_mark_jump(dl_m1, "i %d", i);
	trace_mark_generic(dl_m2, "i %d", i);
	trace_mark(dl_m3, "i %d", i);
}
