/* markers/export.h - the one macro that makes a symbol part of the ABI. */
#ifndef MARKERS_EXPORT_H
#define MARKERS_EXPORT_H
#define MARKER_API __attribute__((visibility("default")))
#endif
