/*
 * warn.h - the library's only words on its own: problems the user asked
 * to hear about with MARKERS_VERBOSE=1 in the environment (private).
 */
#ifndef MARKERS_WARN_H
#define MARKERS_WARN_H

extern int marker__verbose;
void marker__warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* MARKERS_WARN_H */
