/* A shared library linked by the patching tests: one marker of each kind. */
#include <markers.h>

void patch_shared_fire(int kind, int i)
{
	switch (kind) {
	case MARKER_KIND_IMMEDIATE:
		trace_mark_immediate(so_imm, "i %d", i);
		break;
	case MARKER_KIND_JUMP:
		trace_mark_jump(so_jmp, "i %d", i);
		break;
	default:
		trace_mark_generic(so_gen, "i %d", i);
	}
}
