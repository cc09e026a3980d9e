/* print_probe.h - the plain-text probe (private). */
#ifndef MARKERS_PRINT_PROBE_H
#define MARKERS_PRINT_PROBE_H

#include "markers.h"

marker_probe_func marker__print_probe;

/* Connect the print probe to each comma-separated glob; write to @file or stderr. */
int marker__print_probe_setup(const char *globs, const char *file);

#endif /* MARKERS_PRINT_PROBE_H */
