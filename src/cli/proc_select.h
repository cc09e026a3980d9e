/*
 * proc_select.h - choosing the processes of a recording (`--pid` of view,
 * stats and export; `-p PID,PID` of record, list, enable, disable), and
 * saying which of them left a trace whose end is unknown.
 */
#ifndef MARKERS_CLI_PROC_SELECT_H
#define MARKERS_CLI_PROC_SELECT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "trace_reader.h"

struct pid_list {
	int64_t *v;
	size_t n, cap;
};

/*
 * Add the PIDs of @arg ("1234" or "1234,5678"; repeated options add up) to
 * @l.  Returns 0, or -1 after one line on stderr ("markers @cmd: bad PID").
 */
int pid_list_parse(struct pid_list *l, const char *arg, const char *cmd);

/* Print one line naming the PIDs of @l that no process of @t has. */
void pid_list_missing(const struct pid_list *l, const struct tr_trace *t, const char *cmd,
		      const char *dir);

/*
 * The state of the recording in @dir as its recorder left it in DIR/.record:
 * 0 finished or no recorder file (a trace the library wrote by itself),
 * 1 the recorder still runs, 2 it died before finishing.  @pid gets the
 * recorder's pid when there is a file.
 */
int recording_state(const char *dir, long *pid);

/*
 * Lines on stderr for what nobody accounted for: a recorder that died, and
 * each selected process whose trace was never finished (its process died
 * and nobody recovered its buffers, or it is still recording).  Returns how
 * many processes are unfinished.
 */
int warn_unfinished(const struct tr_trace *t, const char *cmd);

#endif /* MARKERS_CLI_PROC_SELECT_H */
