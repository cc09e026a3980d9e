/*
 * attach.h - `markers record -p PID`: record a running process through its
 * control channel (no daemon, no ptrace: the target's own libmarkers runs
 * the tracer and writes the trace).
 */
#ifndef MARKERS_CLI_ATTACH_H
#define MARKERS_CLI_ATTACH_H

#include <stddef.h>
#include <sys/types.h>

struct attach_options {
	size_t size;              /* sizeof(struct attach_options): lets the struct grow */
	const char *dir;          /* trace directory; made absolute before it is sent,
				   * since the target resolves it in its own cwd */
	const char *const *globs; /* markers to record (fnmatch); NULL or none: "*" */
	const char *const *filters; /* NULL, or for each glob its filter (NULL: none) */
	size_t nglobs;
	size_t subbuf_size;       /* bytes per sub-buffer; 0: the tracer's default */
	unsigned nsubbufs;        /* sub-buffers per CPU; 0: the tracer's default */
	int overwrite;            /* 1: flight recorder; 0: discard when full */
	double duration;          /* seconds; <= 0: until Ctrl-C (SIGINT/SIGTERM) */
	int progress;             /* -1: a live line when stderr is a terminal; 0 off; 1 on */
	unsigned live_period_ms;  /* 0, or close packets this often (record --relay --live) */
};

/*
 * attach_start - start a recording of @pid into @dir (absolute) and enable
 * @o's globs.  Returns the owner connection (closing it stops the
 * recording in the target), or -1 after one line on stderr (with @quiet,
 * only for a process that records already).
 */
int attach_start(pid_t pid, const char *dir, const struct attach_options *o, int quiet);

/* Stop the recording of attach_start(), close @owner.  Returns 0, or 1 (said). */
int attach_stop(int owner, pid_t pid, const char *dir);

/*
 * attach_record_many - `record -p PID,PID...` and `record --all`: record
 * each process into a trace of its own below @o->dir (NAME-PID-DATE, as a
 * process tree is), with --all (@all) every process of this user that has
 * a control channel, joining the ones that start, until Ctrl-C or
 * @o->duration; then the summary per process.  Returns the exit status.
 */
int attach_record_many(const pid_t *pids, size_t npids, int all, const struct attach_options *o);

#endif /* MARKERS_CLI_ATTACH_H */
