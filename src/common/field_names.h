/*
 * field_names.h - the names that a trace gives the arguments of a marker
 * (private to the library and the CLI, which share it).
 *
 * One rule, in one place: the tracer names the fields of its metadata
 * with it, and filters (filter.h) find fields by the same names, so a
 * filter says what `markers view` and babeltrace2 show.
 */
#ifndef MARKERS_FIELD_NAMES_H
#define MARKERS_FIELD_NAMES_H

#define MARKER__FIELD_NAME_MAX 64

/*
 * marker__field_names - the field names of a marker whose format is @fmt
 * and which records @nargs arguments, into @names[0 .. @nargs-1].
 * Async-signal-safe: no allocation, no lock, no locale.
 */
void marker__field_names(const char *fmt, unsigned nargs, char names[][MARKER__FIELD_NAME_MAX]);

#endif /* MARKERS_FIELD_NAMES_H */
