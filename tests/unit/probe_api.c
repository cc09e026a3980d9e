/* The probe API: connect, disconnect, formats, globs, pending probes, types. */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <markers.h>
#include "tap.h"

struct hits {
	int n;
	long long last_i;
	char last_s[32];
	char types[MARKER_MAX_ARGS + 1];
};

/* Reads the arguments from the type codes, without the format. */
static void count_probe(const struct marker *m, void *priv, const char *fmt, va_list *args)
{
	struct hits *h = priv;

	(void)fmt;
	h->n++;
	snprintf(h->types, sizeof(h->types), "%s", m->types);
	for (const char *t = m->types; *t; t++) {
		switch (*t) {
		case 'b': case 'B': case 'h': case 'H': case 'i': case 'I':
			h->last_i = va_arg(*args, int);
			break;
		case 'l': case 'L':
			h->last_i = va_arg(*args, long long);
			break;
		case 'f': case 'd':
			(void)va_arg(*args, double);
			break;
		case 's':
			snprintf(h->last_s, sizeof(h->last_s), "%s", va_arg(*args, const char *));
			break;
		default:
			(void)va_arg(*args, void *);
		}
	}
}

static void fire_basic(int i, const char *s)
{
	trace_mark(test_basic, "i %d s %s", i, s);
}

static int evaluated;
static int side_effect(void)
{
	return ++evaluated;
}

static void fire_lazy(void)
{
	trace_mark(test_lazy, "v %d", side_effect());
}

static void fire_types(void)
{
	signed char c = -1;
	unsigned short us = 2;
	long l = -3;
	unsigned long long ull = 4;
	float f = 1.5f;
	void *p = &c;
	char buf[8] = "buf";
	size_t z = 5;
	trace_mark(test_types, "%hhd %hu %ld %llu %f %p %s %zu %c", c, us, l, ull, f, p, buf, z, 'x');
}

static void fire_dup(int which)
{
	if (which)
		trace_mark(test_dup, "a %d", 1);
	else
		trace_mark(test_dup, "a %u", 2u);
}

static void fire_globs(void)
{
	trace_mark(test_g1, MARK_NOARGS);
	trace_mark_generic(test_g2, "no conversions");
}

struct find {
	const char *name;
	struct marker_info info;
	int refused, found;
	unsigned line;
};

static int find_cb(const struct marker_info *mi, void *arg)
{
	struct find *f = arg;

	if (strcmp(mi->name, f->name))
		return 0;
	f->found = 1;
	f->info = *mi;
	f->refused = 0;
	for (size_t i = 0; i < mi->nsites; i++) {
		f->refused += mi->sites[i].mode == MARKER_MODE_REFUSED;
		f->line = mi->sites[i].marker->line;
	}
	f->info.sites = NULL;
	f->info.probes = NULL;
	return 0;
}

int main(void)
{
	struct hits h = {0}, h2 = {0}, hd = {0}, hg = {0};
	struct find f = {.name = "test_basic"};

	plan(34);

	fire_basic(1, "x");
	is_int(h.n, 0, "a marker with no probe does not fire");
	is_int(marker_probe_register("test_basic", "i %d s %s", count_probe, &h), 0, "register");
	fire_basic(7, "seven");
	is_int(h.n, 1, "the probe runs");
	is_int(h.last_i, 7, "the probe reads the integer");
	is_str(h.last_s, "seven", "the probe reads the string");
	is_str(h.types, "is", "type signature of (int, const char *)");
	is_int(marker_probe_register("test_basic", "i %d", count_probe, &h2), -EPERM,
	       "a different format is refused");
	is_int(marker_probe_register("test_basic", NULL, count_probe, &h), -EEXIST,
	       "the same probe twice is refused");
	is_int(marker_probe_register("test_basic", NULL, count_probe, &h2), 0,
	       "a second probe, adopting the format");
	fire_basic(8, "eight");
	ok(h.n == 2 && h2.n == 1, "both probes run (%d, %d)", h.n, h2.n);
	is_int(marker_probe_unregister("test_basic", count_probe, &h), 0, "unregister");
	is_int(marker_probe_unregister("test_basic", count_probe, &h), -ENOENT,
	       "unregister twice is -ENOENT");
	fire_basic(9, "nine");
	ok(h.n == 2 && h2.n == 2, "only the remaining probe runs");
	marker_probe_unregister("test_basic", count_probe, &h2);
	fire_basic(10, "ten");
	is_int(h2.n, 2, "the marker is off with its last probe");
	marker_synchronize_unregister();

	fire_lazy();
	is_int(evaluated, 0, "arguments of an off marker are not evaluated");
	marker_probe_register("test_lazy", NULL, count_probe, &h);
	fire_lazy();
	is_int(evaluated, 1, "arguments of an on marker are evaluated once");
	marker_probe_unregister("test_lazy", count_probe, &h);

	marker_probe_register("test_types", NULL, count_probe, &h);
	fire_types();
	is_str(h.types, sizeof(long) == 8 ? "bHlLfpsLi" : "bHiLfpsIi",
	       "type signature of (schar, ushort, long, ullong, float, void *, char[], size_t, an int character constant)");
	marker_probe_unregister("test_types", count_probe, &h);

	is_int(marker_foreach(find_cb, &f), 0, "foreach");
	ok(f.found && f.info.nsites == 1, "test_basic has one site");
	is_str(f.info.format, "i %d s %s", "its format");
	ok(f.line > 0, "its line is recorded (%u)", f.line);
	is_int(f.info.enabled, 0, "it is off");

	f = (struct find){.name = "test_dup"};
	marker_foreach(find_cb, &f);
	ok(f.info.nsites == 2 && f.refused == 1,
	   "two sites, different formats: one is refused (%zu sites, %d refused)", f.info.nsites,
	   f.refused);
	marker_probe_register("test_dup", NULL, count_probe, &hd);
	fire_dup(0);
	fire_dup(1);
	is_int(hd.n, 1, "only the site with the marker's format fires");
	marker_probe_unregister("test_dup", count_probe, &hd);

	is_int(marker_probe_register_glob("test_g*", count_probe, &hg), 2, "a glob connects two markers");
	fire_globs();
	is_int(hg.n, 2, "both fire");
	is_int(marker_probe_unregister_glob("test_g*", count_probe, &hg), 0, "glob unregistered");
	fire_globs();
	is_int(hg.n, 2, "neither fires after");

	/* A probe registered before its marker loads. */
	memset(&h, 0, sizeof(h));
	is_int(marker_probe_register("dl_marker", "i %d of %d", count_probe, &h), 0,
	       "a probe for a marker not loaded yet is kept");
	void *lib = dlopen(test_lib("dl_markers"), RTLD_NOW);
	ok(lib != NULL, "dlopen an instrumented library (%s)", lib ? "" : dlerror());
	int (*fire)(int) = lib ? (int (*)(int))dlsym(lib, "dl_markers_fire") : NULL;
	if (fire)
		fire(5);
	is_int(h.n, 5, "it is connected when the library loads");
	is_int(h.last_i, 5, "and reads the library's arguments (the last is n)");
	if (lib)
		dlclose(lib);
	f = (struct find){.name = "dl_marker"};
	marker_foreach(find_cb, &f);
	ok(f.found && f.info.nsites == 0 && f.info.nprobes == 1,
	   "after dlclose the marker has no site and keeps its probe");
	marker_probe_unregister("dl_marker", count_probe, &h);
	/* A NULL argument is -EINVAL everywhere. */
	ok(marker_probe_register(NULL, NULL, count_probe, NULL) == -EINVAL &&
		   marker_probe_register("api_one", NULL, NULL, NULL) == -EINVAL &&
		   marker_probe_unregister(NULL, count_probe, NULL) == -EINVAL &&
		   marker_probe_unregister("api_one", NULL, NULL) == -EINVAL &&
		   marker_probe_register_glob(NULL, count_probe, NULL) == -EINVAL &&
		   marker_probe_register_glob("api_*", NULL, NULL) == -EINVAL &&
		   marker_probe_unregister_glob(NULL, count_probe, NULL) == -EINVAL &&
		   marker_probe_unregister_glob("api_*", NULL, NULL) == -EINVAL &&
		   marker_foreach(NULL, NULL) == -EINVAL,
	   "NULL arguments: -EINVAL");
	return done();
}
