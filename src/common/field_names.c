/*
 * field_names.c - the names that a trace gives the arguments of a marker.
 *
 * Written without stdio and ctype: the tracer's probe calls it (through
 * filter binding) in any thread and in signal handlers.
 */
#include <string.h>

#include "field_names.h"

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_ident(char c)
{
	return is_alpha(c) || is_digit(c) || c == '_';
}

/* "argK" into @out. */
static void default_name(char *out, unsigned k)
{
	char digits[12];
	int n = 0;

	do
		digits[n++] = (char)('0' + k % 10);
	while ((k /= 10));
	memcpy(out, "arg", 3);
	out += 3;
	while (n)
		*out++ = digits[--n];
	*out = 0;
}

/*
 * For each argument, the identifier right before its conversion, over
 * spaces, '=' and ':' ("len %zu from %s": len, from), else "argK"
 * (docs/trace-format.md, "Field names").  The identifier lies wholly in the
 * literal text after the previous conversion: in "%d %s" the 'd' ends a
 * conversion, it names nothing.  "%%" is literal text.  A '*' width or
 * precision takes an argument of its own (argK).  A name that two
 * arguments would share is given to neither.
 */
void marker__field_names(const char *fmt, unsigned nargs, char names[][MARKER__FIELD_NAME_MAX])
{
	const char *text = fmt; /* where the literal text before the next conversion starts */
	unsigned k = 0;

	for (unsigned i = 0; i < nargs; i++)
		default_name(names[i], i);
	for (const char *p = fmt; p && *p && k < nargs; p++) {
		const char *q, *end;
		char word[MARKER__FIELD_NAME_MAX] = "";

		if (*p != '%')
			continue;
		if (p[1] == '%') {
			p++;
			continue; /* literal: the text goes on after it */
		}
		/* The identifier before it, over spaces, '=' and ':'. */
		end = p;
		while (end > text && (end[-1] == ' ' || end[-1] == '=' || end[-1] == ':'))
			end--;
		q = end;
		while (q > text && is_ident(q[-1]))
			q--;
		if (q < end && !is_digit(*q) && end - q < 60) {
			memcpy(word, q, (size_t)(end - q));
			word[end - q] = 0;
		}
		/* Its stars, then the conversion letter. */
		for (p++; *p && !is_alpha(*p) && *p != '%'; p++)
			if (*p == '*' && k < nargs)
				k++;
		while (*p && strchr("hlLqjzt", *p))
			p++;
		if (!*p)
			break;
		text = p + 1;
		if (k < nargs && word[0]) {
			int dup = 0;

			for (unsigned j = 0; j < k; j++)
				dup |= !strcmp(names[j], word);
			for (unsigned j = k + 1; j < nargs; j++)
				dup |= !strcmp(names[j], word);
			if (!dup)
				memcpy(names[k], word, strlen(word) + 1);
		}
		k++;
	}
}
