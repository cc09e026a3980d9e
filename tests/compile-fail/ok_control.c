/* The control: the same kinds of markers, correct, must compile cleanly. */
#include <stddef.h>
#include <stdint.h>
#include <markers.h>
void f(int x, long l, const char *s, size_t z, double d, void *p, uint64_t u)
{
	trace_mark(cf_marker, "name %s", s);
	trace_mark(cf_two, "a %d b %ld", x, l);
	trace_mark_generic(cf_three, "z %zu d %f p %p", z, d, p);
	trace_mark_immediate(cf_four, "u %llu", (unsigned long long)u);
	trace_mark_jump(cf_five, MARK_NOARGS);
	trace_mark(cf_six, "no conversions");
}
void g(void)
{
	trace_mark_generic(cf_seven, MARK_NOARGS);
	trace_mark_immediate(cf_seven, MARK_NOARGS);
	trace_mark(cf_seven, MARK_NOARGS);
	trace_mark(cf_seven, MARK_NOARGS);	/* two sites of one marker in one function */
}
