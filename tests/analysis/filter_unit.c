/*
 * filter_unit.c - the filter language (src/common/filter.c) against a table:
 * every operator and type, exact results, and the errors with their columns.
 */
#include <stdint.h>
#include <string.h>

#include "filter.h"
#include "markers/abi.h"
#include "tap.h"

/* One event of the marker "ev" with format "a %d b %u c %lld d %llu x %f s %s p %p". */
static const char FMT[] = "a %d b %u c %lld d %llu x %f s %s p %p h %hhd";
static const char TYPES[] = "iIlLdspb";

struct event {
	int a;
	unsigned b;
	long long c;
	unsigned long long d;
	double x;
	const char *s;
	uintptr_t p;
	signed char h;
};

/* The values as the tracer's probe reads them (filter.h). */
static void load(const struct event *e, uint64_t *v, unsigned *slen)
{
	v[0] = (uint32_t)e->a;
	v[1] = e->b;
	v[2] = (uint64_t)e->c;
	v[3] = e->d;
	memcpy(&v[4], &e->x, 8);
	v[5] = (uintptr_t)e->s;
	slen[5] = (unsigned)strlen(e->s);
	v[6] = e->p;
	v[7] = (uint32_t)(int)e->h;
}

static int run(const char *expr, const struct event *e)
{
	struct marker__filter *f;
	struct marker__filter_prog prog;
	struct marker__filter_err err;
	uint64_t v[MARKER_MAX_ARGS];
	unsigned slen[MARKER_MAX_ARGS];

	if (marker__filter_parse(expr, &f, &err)) {
		diag("parse '%s': column %u: %s", expr, err.column, err.msg);
		return -1;
	}
	if (marker__filter_bind(f, "ev", FMT, TYPES, &prog, &err)) {
		diag("bind '%s': %s", expr, err.msg);
		marker__filter_free(f);
		return -2;
	}
	load(e, v, slen);
	int r = marker__filter_eval(&prog, v, slen);

	marker__filter_free(f);
	return r;
}

static const struct event E = {
	.a = -5, .b = 4000000000u, .c = -9000000000ll, .d = 18446744073709551615ull,
	.x = 2.5, .s = "GET /index.html", .p = 0x1000, .h = -3,
};

static const struct {
	const char *expr;
	int want;
} cases[] = {
	{"a == -5", 1}, {"a != -5", 0}, {"a < 0", 1}, {"a <= -5", 1}, {"a > -6", 1},
	{"a >= -4", 0}, {"a == 0xfffffffb", 0}, {"-5 == a", 1}, {"0 > a", 1},
	{"b == 4000000000", 1}, {"b > 0x7fffffff", 1}, {"b < -1", 0}, {"b > -1", 1},
	{"c == -9000000000", 1}, {"c < -8999999999", 1}, {"c >= 0", 0},
	{"d == 0xffffffffffffffff", 1}, {"d == 18446744073709551615", 1}, {"d > 0", 1},
	{"d > -1", 1}, {"d < 1", 0}, {"d == -1", 0},
	{"x == 2.5", 1}, {"x > 2", 1}, {"x < 2.4999", 0}, {"x >= 25e-1", 1}, {"x != 2.5", 0},
	{"x <= 3", 1}, {"a < 2.5", 1}, {"a > -5.5", 1}, {"a == -5.0", 1},
	{"s == \"GET /index.html\"", 1}, {"s == \"GET*\"", 1}, {"s == \"*.html\"", 1},
	{"s == \"*index*\"", 1}, {"s == \"G*T*x*l\"", 1}, {"s == \"GET\"", 0},
	{"s != \"POST*\"", 1}, {"s == \"*\"", 1}, {"s == \"GET \\*\"", 0}, {"\"GET*\" == s", 1},
	{"p == 0x1000", 1}, {"p", 1}, {"!p", 0}, {"h == -3", 1}, {"h < 0", 1},
	{"a < 0 && b > 0", 1}, {"a > 0 && b > 0", 0}, {"a > 0 || b > 0", 1},
	{"a > 0 || b == 0", 0}, {"!(a > 0)", 1}, {"!a", 0}, {"a", 1},
	{"(a > 0 || x == 2.5) && s == \"GET*\"", 1}, {"a > 0 || x == 2.5 && s == \"X*\"", 0},
	{"!!(a == -5)", 1}, {"a == a", 1}, {"b > a", 1}, {"x > a", 1}, {"1", 1}, {"0", 0},
	{"  a==-5&&b  ", 1},
};

static const struct {
	const char *expr;
	int rc;        /* -1 parse, -2 bind */
	unsigned column;
	const char *msg; /* a part of the message */
} errors[] = {
	{"a ==", -1, 5, "expected a field"},
	{"a = 5", -1, 3, "'=='"},
	{"(a == 5", -1, 8, "expected ')'"},
	{"a == 5)", -1, 7, "expected '&&'"},
	{"a == 5 & b", -1, 8, "'&&'"},
	{"a == 5 | b", -1, 8, "'||'"},
	{"s < \"x\"", -1, 3, "strings compare only"},
	{"a == \"x", -1, 6, "closing"},
	{"a == 0x", -1, 6, "hexadecimal"},
	{"a == 12abc", -1, 8, "in a number"},
	{"a == 99999999999999999999", -1, 6, "64 bits"},
	{"\"x\"", -1, 1, "not a condition"},
	{"", -1, 1, "empty"},
	{"$ctx.vtid == 1", -1, 1, "context"},
	{"a == - b", -1, 6, "'-'"},
	{"nosuch > 1", -2, 8, "no field 'nosuch' (its fields: a, b, c, d, x, s, p, h)"},
	{"s > 1", -2, 3, "is a string"},
	{"s == 1", -2, 3, "is a string"},
	{"a == \"x\"", -2, 3, "is a number"},
	{"s", -2, 1, "is a string"},
	{"((((((((((((((((((a))))))))))))))))))", -1, 17, "nested"},
};

int main(void)
{
	size_t nc = sizeof(cases) / sizeof(cases[0]), ne = sizeof(errors) / sizeof(errors[0]);

	plan((int)(nc + 2 * ne + 6));
	for (size_t i = 0; i < nc; i++)
		is_int(run(cases[i].expr, &E), cases[i].want, "%s", cases[i].expr);
	for (size_t i = 0; i < ne; i++) {
		struct marker__filter *f;
		struct marker__filter_prog prog;
		struct marker__filter_err err = {0};
		int rc = marker__filter_parse(errors[i].expr, &f, &err) ? -1 : 0;

		if (!rc) {
			rc = marker__filter_bind(f, "ev", FMT, TYPES, &prog, &err) ? -2 : 0;
			marker__filter_free(f);
		}
		is_int(rc, errors[i].rc, "'%s' fails where it should", errors[i].expr);
		if (!ok(err.column == errors[i].column && strstr(err.msg, errors[i].msg),
			"'%s': column %u, '%s'", errors[i].expr, errors[i].column, errors[i].msg))
			diag("got column %u: %s", err.column, err.msg);
	}
	/* The wildcard matcher on its own. */
	ok(marker__filter_strmatch("a*b*c", 5, "aXbYc", 5), "a*b*c matches aXbYc");
	ok(!marker__filter_strmatch("a*b*c", 5, "aXbY", 4), "a*b*c does not match aXbY");
	ok(marker__filter_strmatch("\\*x", 3, "*x", 2), "\\* is a star");
	ok(!marker__filter_strmatch("\\*x", 3, "ax", 2), "\\* is not a wildcard");
	ok(marker__filter_strmatch("**", 2, "", 0), "** matches the empty string");
	ok(marker__filter_strmatch("*aab", 4, "aaaab", 5), "backtracking");
	return done();
}
