/*
 * variant - one instrumented program that tests/variants.mk builds many
 * ways (PIE and not, static, --gc-sections, -O0/-O3, gcc and clang, as C
 * and as C++).  Each build checks itself and prints TAP.
 */
#include <stdio.h>
#include <string.h>
#include <markers.h>
#include "tap.h"

static int hits[3], ctor_hits;

static void probe(const struct marker *m, void *p, const char *fmt, va_list *args)
{
	(void)m, (void)fmt;
	*(int *)p += va_arg(*args, int);
}

static void fire(int v)
{
	trace_mark_generic(variant_generic, "v %d", v);
	trace_mark_immediate(variant_immediate, "v %d", v);
	trace_mark_jump(variant_jump, "v %d", v);
}

/*
 * Runs after the library registered this program's markers (priority 101)
 * and before main: markers work in constructors.
 */
__attribute__((constructor(200))) static void early(void)
{
	marker_probe_register("variant_ctor", NULL, probe, &ctor_hits);
	trace_mark(variant_ctor, "v %d", 1);
	marker_probe_unregister("variant_ctor", probe, &ctor_hits);
}

struct seen {
	int kinds[3], sites;
};

static int look(const struct marker_info *mi, void *arg)
{
	struct seen *s = (struct seen *)arg;

	if (strncmp(mi->name, "variant_", 8))
		return 0;
	for (size_t i = 0; i < mi->nsites; i++) {
		s->sites++;
		if (mi->sites[i].marker->kind < 3)
			s->kinds[mi->sites[i].marker->kind]++;
	}
	return 0;
}

int main(void)
{
	static const char *names[3] = {"variant_generic", "variant_immediate", "variant_jump"};
	struct seen seen;

	plan(9);
	is_int(ctor_hits, 1, "a marker fired in a constructor before main reached its probe");
	fire(1);
	ok(hits[0] + hits[1] + hits[2] == 0, "all kinds off: no probe runs");
	for (int k = 0; k < 3; k++)
		marker_probe_register(names[k], "v %d", probe, &hits[k]);
	fire(2);
	fire(3);
	for (int k = 0; k < 3; k++)
		is_int(hits[k], 5, "%s on: its probe sees every fire", names[k]);
	for (int k = 0; k < 3; k++)
		marker_probe_unregister(names[k], probe, &hits[k]);
	fire(4);
	ok(hits[0] == 5 && hits[1] == 5 && hits[2] == 5, "all kinds off again");
	memset(&seen, 0, sizeof(seen));
	marker_foreach(look, &seen);
	ok(seen.sites >= 4, "the program's sites are registered (%d)", seen.sites);
	ok(seen.kinds[0] >= 1, "generic sites are listed as generic");
#if MARKER_ARCH_DEFAULT_KIND != MARKER_KIND_GENERIC
	ok(seen.kinds[1] >= 1 && seen.kinds[2] >= 1,
	   "immediate and jump sites are listed as such (%d, %d)", seen.kinds[1], seen.kinds[2]);
#else
	ok(seen.kinds[1] == 0 && seen.kinds[2] == 0, "no optimized kinds in this build");
#endif
	return done();
}
