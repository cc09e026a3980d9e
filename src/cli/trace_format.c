/*
 * trace_format.c - how the CLI writes times and floating-point values of a
 * trace, shared by view, stats, export and the summary of record.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "trace_format.h"

void tr_format_time(int64_t ns, int seconds, char *buf, size_t len)
{
	int64_t sec = ns / 1000000000, frac = ns % 1000000000;
	time_t tt;
	struct tm tm;

	if (frac < 0) {
		frac += 1000000000;
		sec--;
	}
	if (seconds) {
		snprintf(buf, len, "%lld.%09lld", (long long)sec, (long long)frac);
		return;
	}
	tt = (time_t)sec;
	if (!localtime_r(&tt, &tm)) {
		snprintf(buf, len, "%lld.%09lld", (long long)sec, (long long)frac);
		return;
	}
	snprintf(buf, len, "%02d:%02d:%02d.%09lld", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (long long)frac);
}

void tr_format_double(double d, int is_float32, char *buf, size_t len)
{
	if (isnan(d)) {
		snprintf(buf, len, "nan");
		return;
	}
	if (isinf(d)) {
		snprintf(buf, len, d < 0 ? "-inf" : "inf");
		return;
	}
	for (int digits = is_float32 ? 6 : 15;; digits++) {
		snprintf(buf, len, "%.*g", digits, d);
		if (digits >= (is_float32 ? 9 : 17) ||
		    (is_float32 ? strtof(buf, NULL) == (float)d : strtod(buf, NULL) == d))
			return;
	}
}

