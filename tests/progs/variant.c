/*
 * variant - one instrumented program that tests/variants.mk builds many
 * ways (PIE and not, static, --gc-sections, -O0/-O3, gcc and clang, as C
 * and as C++, strict ISO C11/C17 and C++11 to C++20 under -pedantic
 * -Werror).  Each build checks itself and prints TAP.
 */
#include <stdio.h>
#include <string.h>
#include <markers.h>
#include "tap.h"

static int hits[3], ctor_hits, noargs_hits, str_hits;

static void probe(const struct marker *m, void *p, const char *fmt, va_list *args)
{
	(void)m, (void)fmt;
	*(int *)p += va_arg(*args, int);
}

/* Counts the calls of a marker without arguments. */
static void count(const struct marker *m, void *p, const char *fmt, va_list *args)
{
	(void)m, (void)fmt, (void)args;
	++*(int *)p;
}

/* A string and an integer: counts calls whose arguments arrived intact. */
static void check_str(const struct marker *m, void *p, const char *fmt, va_list *args)
{
	const char *s = va_arg(*args, const char *);
	int v = va_arg(*args, int);

	(void)m, (void)fmt;
	if (m->nargs == 2 && m->types[0] == 's' && m->types[1] == 'i' && !strcmp(s, "str") && v == 7)
		++*(int *)p;
}

static void fire(int v)
{
	trace_mark_generic(variant_generic, "v %d", v);
	trace_mark_immediate(variant_immediate, "v %d", v);
	trace_mark_jump(variant_jump, "v %d", v);
}

/* One site of each kind without arguments, and the default kind with a string. */
static void fire_others(void)
{
	trace_mark_generic(variant_noargs, MARK_NOARGS);
	trace_mark_immediate(variant_noargs, MARK_NOARGS);
	trace_mark_jump(variant_noargs, MARK_NOARGS);
	trace_mark(variant_str, "s %s v %d", "str", 7);
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

	plan(12);
	is_int(ctor_hits, 1, "a marker fired in a constructor before main reached its probe");
	fire(1);
	fire_others();
	ok(hits[0] + hits[1] + hits[2] + noargs_hits + str_hits == 0, "all kinds off: no probe runs");
	for (int k = 0; k < 3; k++)
		marker_probe_register(names[k], "v %d", probe, &hits[k]);
	marker_probe_register("variant_noargs", MARK_NOARGS, count, &noargs_hits);
	marker_probe_register("variant_str", "s %s v %d", check_str, &str_hits);
	fire(2);
	fire(3);
	fire_others();
	for (int k = 0; k < 3; k++)
		is_int(hits[k], 5, "%s on: its probe sees every fire", names[k]);
	is_int(noargs_hits, 3, "a marker without arguments fires from its three kinds of site");
	is_int(str_hits, 1, "a string and an integer reach the probe intact");
	for (int k = 0; k < 3; k++)
		marker_probe_unregister(names[k], probe, &hits[k]);
	marker_probe_unregister("variant_noargs", count, &noargs_hits);
	marker_probe_unregister("variant_str", check_str, &str_hits);
	fire(4);
	fire_others();
	ok(hits[0] == 5 && hits[1] == 5 && hits[2] == 5, "all kinds off again");
	ok(noargs_hits == 3 && str_hits == 1, "the markers without and with a string off again");
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
