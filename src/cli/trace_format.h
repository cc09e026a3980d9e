/*
 * trace_format.h - times and floating-point values of a trace as text.
 */
#ifndef MARKERS_CLI_TRACE_FORMAT_H
#define MARKERS_CLI_TRACE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* @ns as "HH:MM:SS.nnnnnnnnn" in local time (@seconds: "SSSSSSSSSS.nnnnnnnnn"). */
void tr_format_time(int64_t ns, int seconds, char *buf, size_t len);

/*
 * @d as the shortest %g that reads back as the same value: 6 to 9 digits for
 * a float (@is_float32), 15 to 17 for a double; "nan", "inf", "-inf".
 */
void tr_format_double(double d, int is_float32, char *buf, size_t len);

#endif /* MARKERS_CLI_TRACE_FORMAT_H */
