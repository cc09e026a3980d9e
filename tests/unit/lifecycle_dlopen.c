/*
 * dlopen/dlclose cycles of an instrumented library while probes stay
 * connected (by name and by glob) and another thread connects and
 * disconnects a probe of the same library.  Run under ASan (make check
 * SAN=address) it also checks that nothing leaks; the long tier does
 * 30,000 cycles.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <markers.h>
#include "tap.h"

static long named, globbed, churned;
static int stop;

static void count(const struct marker *m, void *p, const char *fmt, va_list *args)
{
	(void)m, (void)fmt, (void)args;
	__atomic_fetch_add((long *)p, 1, __ATOMIC_RELAXED);
}

static void *churn(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		marker_probe_register("dl_generic", NULL, count, &churned);
		marker_probe_unregister("dl_generic", count, &churned);
	}
	marker_synchronize_unregister();
	return NULL;
}

int main(void)
{
	long cycles = scale(300), bad = 0;
	pthread_t th;

	plan(4);
	is_int(marker_probe_register("dl_marker", "i %d of %d", count, &named), 0, "named probe");
	is_int(marker_probe_register_glob("dl_*", count, &globbed), 0,
	       "glob probe, before anything matches");
	pthread_create(&th, NULL, churn, NULL);
	for (long c = 0; c < cycles; c++) {
		void *lib = dlopen(test_lib("dl_markers"), RTLD_NOW | RTLD_LOCAL);
		long n0 = named, g0 = globbed;

		if (!lib) {
			bad++;
			continue;
		}
		((int (*)(int))dlsym(lib, "dl_markers_fire"))(3);
		((void (*)(int))dlsym(lib, "dl_markers_generic"))(1);
		if (named - n0 != 3 || globbed - g0 != 4)
			bad++;
		dlclose(lib);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	is_int(bad, 0, "%ld dlopen/fire/dlclose cycles: every fire reached both probes", cycles);
	marker_probe_unregister("dl_marker", count, &named);
	marker_probe_unregister_glob("dl_*", count, &globbed);
	marker_synchronize_unregister();
	is_int(named, 3 * cycles, "the named probe counted every fire");
	return done();
}
