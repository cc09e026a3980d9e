/*
 * patch_build - sites of a function inlined at several places, checked the
 * way the patcher sees them.  tests/patch.mk builds this file many ways
 * (gcc and clang, C and C++, -O0 to -O3, PIE or not, static, gc-sections,
 * the sites in a -fPIC shared library); every build checks itself: each
 * optimized site is patched, not taken when off, taken when on, and the
 * probe runs once per site run.
 *
 * PB_LIB_ONLY: only the sites (for the shared library); PB_MAIN_ONLY: only main.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "patch_util.h"
#include "tap.h"

#ifdef __cplusplus
extern "C" {
#endif
void pb_fire(int v);
#ifdef __cplusplus
}
#endif

#ifndef PB_MAIN_ONLY
static inline void pb_inline(int v)
{
	trace_mark_jump(pb_inl_jump, "v %d", v);
	trace_mark_immediate(pb_inl_imm, "v %d", v);
}

void pb_fire(int v)
{
	/* Three calls: at -O1 and above, three copies of each site. */
	pb_inline(v);
	pb_inline(v + 1);
	pb_inline(v + 2);
	trace_mark_jump(pb_jump, "v %d s %s", v, "str");
	trace_mark_immediate(pb_imm, "v %d", v);
	trace_mark(pb_default, "v %d", v);
}
#endif

#ifndef PB_LIB_ONLY
static const char *names[] = {"pb_inl_jump", "pb_inl_imm", "pb_jump", "pb_imm", "pb_default"};
static const int runs[] = {3, 3, 1, 1, 1}; /* site runs per pb_fire() */
#define NNAMES 5

/*
 * PB_EXPECT_FALLBACK=1: the program runs where the library must not patch
 * (under a debugger): every optimized site falls back, and still works.
 */
static int fallback_ok(void)
{
	int bad = 0;

	for (int i = 0; i < NNAMES; i++)
		bad |= pu_check_fallback(names[i]);
	return !bad;
}

int main(void)
{
	long hits[NNAMES] = {0};
	int optimized = MARKER_ARCH_DEFAULT_KIND != MARKER_KIND_GENERIC;
	const char *fb = getenv("PB_EXPECT_FALLBACK");

	plan(5);
	if (fb && *fb == '1') {
		optimized = 0;
		ok(fallback_ok(), "every optimized site falls back, taken, with a reason");
	} else if (optimized) {
		int bad = 0;

		for (int i = 0; i < NNAMES; i++)
			bad |= pu_check_sites(names[i], 0);
		ok(!bad, "every optimized site is patched, not taken");
	} else {
		ok(1, "# SKIP no optimized sites in this build");
	}
	pb_fire(1);
	for (int i = 0; i < NNAMES; i++)
		marker_probe_register(names[i], NULL, pu_count_probe, &hits[i]);
	if (optimized) {
		int bad = 0;

		for (int i = 0; i < NNAMES; i++)
			bad |= pu_check_sites(names[i], 1);
		ok(!bad, "on: every site is taken");
	} else {
		ok(1, "# SKIP no optimized sites in this build");
	}
	for (int k = 0; k < 100; k++)
		pb_fire(k);
	{
		int bad = 0;

		for (int i = 0; i < NNAMES; i++)
			if (hits[i] != 100 * runs[i]) {
				printf("# %s: %ld hits, want %d\n", names[i], hits[i], 100 * runs[i]);
				bad = 1;
			}
		ok(!bad, "on: the probes ran once per site run");
	}
	for (int i = 0; i < NNAMES; i++)
		marker_probe_unregister(names[i], pu_count_probe, &hits[i]);
	pb_fire(1);
	ok(hits[0] == 300 && hits[2] == 100, "off again: no probe runs");
	if (optimized) {
		int bad = 0;

		for (int i = 0; i < NNAMES; i++)
			bad |= pu_check_sites(names[i], 0);
		ok(!bad, "off again: not taken");
	} else {
		ok(1, "# SKIP no optimized sites in this build");
	}
	return done();
}
#endif
