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

#endif
