/*
 * cxx_markers.cc - markers in C++ (with tests/lib/cxx_tu2.cc, a second
 * translation unit, and tests/lib/cxx_dl.cc, a dlopen'd library): inline
 * functions, class-body methods, function templates of several
 * instantiations and a static function, every site kind, in one
 * translation unit.  The descriptors of the first three are COMDAT: g++
 * refused them in a named section next to a plain one, and silently
 * dropped a template's, which then never fired.
 *
 * Each marker must fire with its arguments, be listed by marker_foreach
 * with one site per copy of its code (COMDAT duplicates of the two
 * translation units merged), be patched where its kind is patchable, and
 * survive dlopen/dlclose of a library that shares its descriptors.
 */
#include <dlfcn.h>
#include <stdint.h>
#include "lib/cxx_inline.h"
#include "tap.h"

#ifndef CXX_DL_LIB
#define CXX_DL_LIB "cxx_dl"
#endif

extern "C" int cxx_tu2(int x);

static volatile int one = 1; /* no constant propagation into the functions under test */
static int dl_resident;      /* the library stayed loaded after dlclose */

static CXX_NOINLINE void plain(int x)
{
	trace_mark(cxx_plain, "x %d", x);
}

static int run(int x)
{
	cxx_obj o = {0};

	plain(x);
	return cxx_inl(x) + cxx_tpl<int>(x) + (int)cxx_tpl<long>(x) + o.meth(x);
}

struct counter {
	const char *name;
	long n, sum;
	size_t sites_exe, sites_dl; /* expected: the program alone, plus the library */
	long fires_exe, fires_dl;   /* per run() + cxx_tu2(), per cxx_dl_run() */
};

static counter counters[] = {
	{"cxx_plain", 0, 0, 1, 0, 1, 0},
	{"cxx_tu2_static", 0, 0, 1, 0, 1, 0},
	{"cxx_inl_jump", 0, 0, 1, 1, 2, 1},
	{"cxx_inl_imm", 0, 0, 1, 1, 2, 1},
	{"cxx_inl_gen", 0, 0, 1, 1, 2, 1},
	{"cxx_tpl_gen", 0, 0, 3, 2, 4, 2}, /* <int> <long> <short>; the library <int> <char> */
	{"cxx_tpl", 0, 0, 3, 2, 4, 2},
	{"cxx_meth", 0, 0, 1, 1, 2, 1},
	{"cxx_meth_gen", 0, 0, 1, 1, 2, 1},
	{"cxx_dl_only", 0, 0, 0, 1, 0, 1},
	{"cxx_dl_only_gen", 0, 0, 0, 1, 0, 1},
};
#define NCOUNTERS (sizeof(counters) / sizeof(counters[0]))

static int bad_name;

static void probe(const struct marker *m, void *priv, const char *fmt, va_list *args)
{
	counter *c = (counter *)priv;

	(void)fmt;
	if (strcmp(m->name, c->name))
		__atomic_store_n(&bad_name, 1, __ATOMIC_RELAXED);
	c->n++;
	c->sum += m->types[0] == 'l' ? va_arg(*args, long long) : va_arg(*args, int);
}

struct site_count {
	const char *name;
	size_t n;
	int bad_mode; /* a site in a mode its kind does not allow */
};

static int count_sites(const struct marker_info *info, void *arg)
{
	site_count *sc = (site_count *)arg;

	if (strcmp(info->name, sc->name))
		return 0;
	sc->n = info->nsites;
	for (size_t i = 0; i < info->nsites; i++) {
		const struct marker_site_info *s = &info->sites[i];
		unsigned kind = s->marker->kind;

		if (s->mode == MARKER_MODE_REFUSED || strcmp(s->marker->name, sc->name))
			sc->bad_mode = 1;
		if (kind == MARKER_KIND_GENERIC && (s->mode != MARKER_MODE_FLAG || !s->address))
			sc->bad_mode = 1; /* a C++ generic site has the address of its label */
#if defined(__x86_64__) || defined(__i386__)
		/* Optimized sites are adopted, unless their descriptor is another object's. */
		if (kind != MARKER_KIND_GENERIC && s->mode != MARKER_MODE_PATCHED &&
		    !strstr(s->object, "cxx_dl"))
			sc->bad_mode = 1;
#endif
	}
	return 1;
}

static site_count sites_of(const char *name)
{
	site_count sc = {name, 0, 0};

	marker_foreach(count_sites, &sc);
	return sc;
}

/* Every counter's sites as expected, with or without the library. */
static int check_sites(int with_dl, const char *when)
{
	int good = 1;

	for (size_t i = 0; i < NCOUNTERS; i++) {
		counter *c = &counters[i];
		site_count sc = sites_of(c->name);
		size_t want = c->sites_exe + (with_dl ? c->sites_dl : 0);

		if (sc.n != want || sc.bad_mode) {
			diag("%s: %s has %zu sites (want %zu)%s", when, c->name, sc.n, want,
			     sc.bad_mode ? ", one in a wrong mode" : "");
			good = 0;
		}
	}
	return good;
}

static void reset(void)
{
	for (size_t i = 0; i < NCOUNTERS; i++)
		counters[i].n = counters[i].sum = 0;
}

/* Counts of the program's functions (and the library's, @dl times). */
static int check_counts(long times, long dl, const char *when)
{
	int good = 1;

	for (size_t i = 0; i < NCOUNTERS; i++) {
		counter *c = &counters[i];
		long want = times * c->fires_exe + dl * c->fires_dl;

		if (c->n != want) {
			diag("%s: %s fired %ld times (want %ld)", when, c->name, c->n, want);
			good = 0;
		}
	}
	return good;
}

int main(void)
{
	int x = one, regs = 0;
	long loops = scale(50), bad_cycles = 0;

	plan(13);
	ok(check_sites(0, "loaded"), "every marker listed with one site per copy of its code");

	run(x);
	cxx_tu2(x);
	ok(check_counts(0, 0, "off"), "nothing fires while off");

	for (size_t i = 0; i < NCOUNTERS; i++)
		regs += marker_probe_register(counters[i].name, NULL, probe, &counters[i]) == 0;
	is_int(regs, NCOUNTERS, "a probe on each marker (known or not yet loaded)");
	ok(check_sites(0, "on"), "switching on keeps the sites and their modes");

	for (long i = 0; i < loops; i++) {
		run(x);
		cxx_tu2(x);
	}
	ok(check_counts(loops, 0, "on"),
	   "inline, template (each instance), method and static markers of both units fire");
	is_int(counters[0].sum, loops * x, "cxx_plain saw its argument");
	is_int(counters[7].sum, loops * (2 * x + 10), "cxx_meth saw this->base + x in both units");
	is_int(counters[5].sum, loops * 4 * x, "cxx_tpl_gen saw a long from every instance");
	ok(!bad_name, "every probe call came from a descriptor of its own name");

	/* A library sharing the vague-linkage descriptors; a few dlopen cycles. */
	for (long c = 0; c < 5; c++) {
		void *lib = dlopen(test_lib(CXX_DL_LIB), RTLD_NOW | RTLD_LOCAL);
		int (*dl_run)(int);

		if (!lib) {
			diag("dlopen: %s", dlerror());
			bad_cycles++;
			continue;
		}
		dl_run = (int (*)(int))dlsym(lib, "cxx_dl_run");
		reset();
		if (!check_sites(1, "dlopen'd"))
			bad_cycles++;
		run(x);
		cxx_tu2(x);
		if (dl_run)
			dl_run(x);
		if (!dl_run || !check_counts(1, 1, "dlopen'd"))
			bad_cycles++;
		dlclose(lib);
		/*
		 * A library with gcc's unique symbols (static locals of inline
		 * functions) is never unloaded; one that is takes its sites along.
		 */
		lib = dlopen(test_lib(CXX_DL_LIB), RTLD_NOW | RTLD_NOLOAD);
		if (lib) {
			dl_resident = 1;
			dlclose(lib);
		} else if (!check_sites(0, "dlclose'd"))
			bad_cycles++;
		reset();
		run(x);
		cxx_tu2(x);
		if (!check_counts(1, 0, "after dlclose"))
			bad_cycles++;
	}
	is_int(bad_cycles, 0, "dlopen/dlclose of a C++ library: its sites come and go, "
			      "shared descriptors keep working");

	regs = 0;
	for (size_t i = 0; i < NCOUNTERS; i++)
		regs += marker_probe_unregister(counters[i].name, probe, &counters[i]) == 0;
	is_int(regs, NCOUNTERS, "every probe unregistered");
	marker_synchronize_unregister();
	reset();
	run(x);
	cxx_tu2(x);
	ok(check_counts(0, 0, "off again"), "nothing fires once off again");
	ok(check_sites(dl_resident, "off again"), "the sites stay, in their modes");
	return done();
}
