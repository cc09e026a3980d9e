/*
 * record_tree.h - the recorder's side of a recording directory that holds
 * one trace per process (DIR/NAME-PID-DATE/, written by each process's own
 * libmarkers): which of them still record, finishing the traces of the
 * processes that died, and DIR/.record, which says whether the recorder
 * itself finished (docs/trace-format.md).
 */
#ifndef MARKERS_CLI_RECORD_TREE_H
#define MARKERS_CLI_RECORD_TREE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The sum over the process traces of a recording, as their .stats say. */
struct rt_totals {
	unsigned procs, live;            /* traces; those a live process still records */
	uint64_t recorded, discarded, bytes;
	uint64_t live_buffers;           /* buffer memory of the live ones, bytes */
	long live_pids[8];               /* the first few live ones */
	unsigned pruned;                 /* empty traces removed (see rt_finish_dead) */
	long pruned_pids[8];             /* the first few of them */
	int failed;                      /* a trace could not be finished (said on stderr) */
};

/*
 * rt_finish_dead - finish the trace of every process below @root that is
 * gone (no live process holds its buffers): its committed events are
 * written out (marker_tracer_recover()).  A trace that a process left with
 * nothing recorded and nothing lost (a fork child that exec'd, or died,
 * before its first event) is removed: it is no process of the workload.
 * Fills @t with the totals after that.  Quiet, but for a trace it cannot
 * finish (one line on stderr).
 */
void rt_finish_dead(const char *root, struct rt_totals *t);

/*
 * DIR/.record: "recorder PID", "state recording|finished|recovered",
 * "command ...".  rt_begin() writes it and keeps it locked (flock) while
 * this process lives, so that readers tell a running recorder from a dead
 * one; returns the fd to give rt_end(), or -1 (said on stderr).
 */
int rt_begin(const char *root, char *const *argv);
void rt_end(int fd, const char *root, const char *state);

/*
 * `markers record --recover DIR`: finish every trace in DIR (one, or one
 * per process) whose process is gone, and mark the recording recovered.
 * Returns the exit status.
 */
int rt_recover_cmd(const char *dir);
/* @name in libmarkers.so.1, loaded once without starting anything (record_tree.c), or NULL. */
void *rt_lib_sym(const char *name);

/* Finish the one trace in @dir (dlopen'ing libmarkers).  Returns 0 or -errno, @why set. */
int rt_recover_one(const char *dir, const char **why);

#endif /* MARKERS_CLI_RECORD_TREE_H */
