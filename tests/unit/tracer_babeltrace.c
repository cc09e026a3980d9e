/*
 * The tracer end to end: every argument type, several threads, a marker
 * from a library dlopen'd while recording; then the real babeltrace2 reads
 * the trace, and every event it prints must be one we emitted, with the
 * same values and the id of the thread that fired it (gettid()), each
 * thread's events in order, no warning on stderr.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <markers.h>
#include <markers/tracer.h>
#include "tap.h"

#define NTHREADS 3
#define PER_THREAD 2000

static int tids[NTHREADS];

/* What we emitted, as babeltrace2 prints the payload. */
static char **expect;
static size_t nexpect;
static pthread_mutex_t expect_lock = PTHREAD_MUTEX_INITIALIZER;

static void expect_add(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void expect_add(const char *fmt, ...)
{
	va_list ap;
	char *s;

	char *body, *colon;

	va_start(ap, fmt);
	if (vasprintf(&body, fmt, ap) < 0)
		abort();
	va_end(ap);
	/* "NAME: { vtid = TID }, { fields }": the thread that fired it, as the kernel knows it. */
	colon = strstr(body, ": ");
	if (!colon || asprintf(&s, "%.*s: { vtid = %d }, %s", (int)(colon - body), body,
			       (int)gettid(), colon + 2) < 0)
		abort();
	free(body);
	pthread_mutex_lock(&expect_lock);
	expect = realloc(expect, (nexpect + 1) * sizeof(*expect));
	expect[nexpect++] = s;
	pthread_mutex_unlock(&expect_lock);
}

static void *worker(void *arg)
{
	int t = (int)(intptr_t)arg;
	char name[32];

	snprintf(name, sizeof(name), "bt-worker-%d", t);
	pthread_setname_np(pthread_self(), name);
	tids[t] = (int)gettid();

	for (int i = 0; i < PER_THREAD; i++) {
		snprintf(name, sizeof(name), "t%d-%d", t, i);
		trace_mark_generic(bt_ints, "thread %d seq %d name %s", t, i, name);
		expect_add("bt_ints: { thread = %d, seq = %d, name = \"%s\" }", t, i, name);
	}
	return NULL;
}

/* Whether the metadata's env names thread @tid @name. */
static int names_thread(const char *dir, int tid, const char *name)
{
	char path[600], line[256], want[128];
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/metadata", dir);
	snprintf(want, sizeof(want), "\tthread_name_%d = \"%s\";\n", tid, name);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		found |= !strcmp(line, want);
	if (f)
		fclose(f);
	return found;
}

static void emit_types(void)
{
	signed char c = -5;
	unsigned char uc = 250;
	short sh = -1234;
	unsigned short ush = 65000;
	int i = -70000;
	unsigned u = 4000000000u;
	long long ll = -(1ll << 40);
	unsigned long long ull = 18000000000000000000ull;
	float f = 2.5f;
	double d = -0.125;
	void *p = (void *)(uintptr_t)0x1234;
	const char *nul = NULL;

	trace_mark_generic(bt_types, "c %hhd uc %hhu sh %hd ush %hu i %d u %u ll %lld ull %llu",
			   c, uc, sh, ush, i, u, ll, ull);
	expect_add("bt_types: { c = -5, uc = 250, sh = -1234, ush = 65000, i = -70000, "
		   "u = 4000000000, ll = -1099511627776, ull = 18000000000000000000 }");
	trace_mark_generic(bt_floats, "f %f d %f p %p s %s empty %s", f, d, p, nul, "");
	expect_add("bt_floats: { f = 2.5, d = -0.125, p = 0x1234, s = \"(null)\", empty = \"\" }");
	/* Larger than the probe's staging area, and than the string limit (cut to 1023). */
	{
		char longs[1500];

		memset(longs, 'x', sizeof(longs) - 1);
		longs[sizeof(longs) - 1] = 0;
		trace_mark_generic(bt_long, "i %d s %s j %d", 7, longs, 8);
		longs[1023] = 0;
		expect_add("bt_long: { i = 7, s = \"%s\", j = 8 }", longs);
	}
	trace_mark_generic(bt_noargs, MARK_NOARGS);
	expect_add("bt_noargs: { }");
	/* No word before the conversions: argK. */
	trace_mark_generic(bt_anon, "%d/%d", 1, 2);
	expect_add("bt_anon: { arg0 = 1, arg1 = 2 }");
	/*
	 * The letters of a conversion name nothing ("%d %s": not "d"); "%%" is
	 * text; "%.*s" is two arguments, the precision (argK) and the string.
	 */
	trace_mark_generic(bt_names, "%d %s pct %d%% tag %.*s%d", 1, "a", 2, 3, "xyzw", 4);
	expect_add("bt_names: { arg0 = 1, arg1 = \"a\", pct = 2, arg3 = 3, tag = \"xyzw\", arg5 = 4 }");
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/markers-bt-XXXXXX", cmd[2048], line[8192], errpath[600];
	struct marker_tracer_options o = {.size = sizeof(o), .dir = dir, .subbuf_size = 65536};
	struct marker_tracer_stats st = {.size = sizeof(st)};
	pthread_t th[NTHREADS];
	char **got = NULL;
	size_t ngot = 0, match = 0;
	int last_seq[NTHREADS], order_ok = 1, ret;
	long long t_first = 0;
	struct timespec now;
	void *dl;
	FILE *f;

	(void)argc;
	plan(14);
	for (int t = 0; t < NTHREADS; t++)
		last_seq[t] = -1;
	if (!mkdtemp(dir))
		return 1;
	is_int(marker_tracer_start(&o), 0, "start");
	is_int(marker_tracer_start(&o), -EBUSY, "a second session is refused");
	ok(marker_tracer_enable("bt_*") >= 0, "enable bt_*");
	ok(marker_tracer_enable("tracer_dl_*") >= 0, "enable tracer_dl_* before it loads");
	clock_gettime(CLOCK_REALTIME, &now);
	emit_types();
	for (int t = 0; t < NTHREADS; t++)
		pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t);
	for (int t = 0; t < NTHREADS; t++)
		pthread_join(th[t], NULL);
	dl = dlopen(test_lib("tracer_dl"), RTLD_NOW);
	if (!ok(dl != NULL, "dlopen a library with markers while recording"))
		diag("%s", dlerror());
	if (dl) {
		void (*fire)(int, const char *) = (void (*)(int, const char *))dlsym(dl, "tracer_dl_fire");

		for (int i = 0; i < 3; i++) {
			fire(i, "late");
			expect_add("tracer_dl_event: { n = %d, tag = \"late\" }", i);
		}
	}
	/* A rename after the thread's first event: stop sees it. */
	prctl(PR_SET_NAME, "bt-main-late");
	is_int(marker_tracer_stop(), 0, "stop");
	marker_tracer_get_stats(&st);
	{
		int named = names_thread(dir, (int)getpid(), "bt-main-late");

		ok(named, "the metadata names the main thread, renamed after its first event");
		named = 1;
		for (int t = 0; t < NTHREADS; t++) {
			char want[32];

			snprintf(want, sizeof(want), "bt-worker-%d", t);
			named &= names_thread(dir, tids[t], want);
		}
		ok(named, "the metadata names each worker thread by its tid");
	}
	is_int(st.recorded, nexpect, "recorded every event");
	is_int(st.discarded, 0, "nothing discarded");

	snprintf(errpath, sizeof(errpath), "%s.err", dir);
	snprintf(cmd, sizeof(cmd), "babeltrace2 --clock-seconds '%s' 2>'%s'", dir, errpath);
	f = popen(cmd, "r");
	while (f && fgets(line, sizeof(line), f)) {
		char *name, *fields, *colon;
		int t, seq;

		line[strcspn(line, "\n")] = 0;
		if (!t_first)
			t_first = atoll(line + 1);
		/* "[secs] (+delta) proc:(pid) NAME: { cpu_id = N }, { fields }" */
		fields = strstr(line, "}, {");
		colon = strstr(line, ": { cpu_id");
		if (!fields || !colon)
			continue;
		*colon = 0;
		name = strrchr(line, ' ') + 1;
		got = realloc(got, (ngot + 1) * sizeof(*got));
		if (asprintf(&got[ngot++], "%s: %s", name, fields + 3) < 0)
			break;
		if (strstr(fields + 3, "}, {") &&
		    sscanf(strstr(fields + 3, "}, {") + 3, "{ thread = %d, seq = %d", &t, &seq) == 2 && t >= 0 &&
		    t < NTHREADS) {
			if (seq != last_seq[t] + 1)
				order_ok = 0;
			last_seq[t] = seq;
		}
	}
	ret = f ? pclose(f) : -1;
	is_int(ret, 0, "babeltrace2 reads the trace");
	{
		struct stat sb;

		ok(stat(errpath, &sb) == 0 && sb.st_size == 0, "babeltrace2 says nothing on stderr");
		if (sb.st_size) {
			snprintf(cmd, sizeof(cmd), "head -5 '%s' | sed 's/^/# /'", errpath);
			if (system(cmd)) {
			}
		}
	}
	qsort(expect, nexpect, sizeof(*expect), cmp);
	qsort(got, ngot, sizeof(*got), cmp);
	for (size_t i = 0; i < ngot && i < nexpect; i++) {
		if (!strcmp(got[i], expect[i])) {
			match++;
		} else if (match + 5 > i) {
			diag("got    %s", got[i]);
			diag("wanted %s", expect[i]);
		}
	}
	ok(ngot == nexpect && match == nexpect, "every event, with its values (%zu of %zu, %zu read)",
	   match, nexpect, ngot);
	ok(order_ok && t_first >= now.tv_sec - 2 && t_first <= now.tv_sec + 5,
	   "each thread's events in order, times on the wall clock (%lld vs %lld)", t_first,
	   (long long)now.tv_sec);
	for (size_t i = 0; i < ngot; i++)
		free(got[i]);
	for (size_t i = 0; i < nexpect; i++)
		free(expect[i]);
	free(got);
	free(expect);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", dir, errpath);
	if (system(cmd)) {
	}
	(void)argv;
	return done();
}
