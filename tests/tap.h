/*
 * tap.h - a minimal TAP producer for the tests (read by prove).
 *
 *	plan(3); ok(x == 1, "x is one"); is_int(got, want, "count"); return done();
 */
#ifndef MARKERS_TESTS_TAP_H
#define MARKERS_TESTS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int tap_n, tap_failed;

static inline void plan(int n)
{
	printf("1..%d\n", n);
	fflush(stdout);
}

static inline __attribute__((format(printf, 2, 3))) int ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		tap_failed++;
	return cond;
}

#define is_int(got, want, ...)                                                         \
	do {                                                                           \
		long long g_ = (long long)(got), w_ = (long long)(want);               \
		if (!ok(g_ == w_, __VA_ARGS__))                                        \
			printf("#   got %lld, want %lld (%s:%d)\n", g_, w_, __FILE__, __LINE__); \
	} while (0)

#define is_str(got, want, ...)                                                         \
	do {                                                                           \
		const char *g_ = (got), *w_ = (want);                                  \
		if (!ok(g_ && w_ && !strcmp(g_, w_), __VA_ARGS__))                     \
			printf("#   got \"%s\", want \"%s\" (%s:%d)\n", g_ ? g_ : "(null)", \
			       w_ ? w_ : "(null)", __FILE__, __LINE__);                \
	} while (0)

static inline void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* Exit status for the end of main(). */
static inline int done(void)
{
	fflush(stdout);
	return tap_failed ? 1 : 0;
}

/* MARKERS_TEST_SCALE multiplies iteration counts (the long tier sets it). */
static inline long scale(long n)
{
	const char *s = getenv("MARKERS_TEST_SCALE");

	return s && atol(s) > 0 ? n * atol(s) : n;
}

/*
 * Absolute path of a test library (tests/lib/NAME.c, built next to the test
 * programs): dlopen must not depend on the caller's RUNPATH, which the
 * sanitizers' dlopen interceptors hide.
 */
static inline const char *test_lib(const char *name)
{
	static char path[4096];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	char *slash;

	if (n <= 0)
		return name;
	path[n] = 0;
	for (int i = 0; i < 2 && (slash = strrchr(path, '/')); i++)
		*slash = 0; /* .../tests/unit/prog -> .../tests */
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "/lib/lib%s.so", name);
	return path;
}

#endif
