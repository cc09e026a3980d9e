/*
 * record_summary.h - what `markers record` prints when it is done: the
 * processes of the recording (pid, name, events, lost, buffer memory), the
 * totals, and the markers.
 */
#ifndef MARKERS_CLI_RECORD_SUMMARY_H
#define MARKERS_CLI_RECORD_SUMMARY_H

#include <stdint.h>

/*
 * The summary of the recording in @dir of @cmd, on stderr.  @incomplete:
 * a trace could not be written whole (said already; no advice about buffer
 * sizes then).  @peak: the most buffer memory seen in use at once, bytes.
 */
void record_summary(const char *dir, const char *cmd, double secs, int incomplete, uint64_t peak);

/*
 * One line for each process trace in @dir that could not be written whole
 * (a full disk, an I/O error).  Returns 1 if there was one, else 0.
 */
int record_incomplete(const char *dir);

#endif /* MARKERS_CLI_RECORD_SUMMARY_H */
