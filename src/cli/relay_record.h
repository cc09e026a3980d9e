/*
 * relay_record.h - `markers record --relay URL [--live[=PERIOD]] [--name
 * NAME]`: what record.c calls to stream a recording to an lttng-relayd.
 *
 * In record.c, in this order:
 *   getopt_long   RELAY_RECORD_OPTIONS in the table; relay_record_option()
 *                 for their letters;
 *   before the trace directory is made: relay_record_dir() (without -o,
 *                 a private temporary directory replaces the default);
 *   once it is:   relay_record_start() (connects; exit 1 if it says so);
 *   the child's environment: relay_record_env() (the live period);
 *   at the end:   relay_record_finish() (the rest of the trace, the summary).
 */
#ifndef MARKERS_CLI_RELAY_RECORD_H
#define MARKERS_CLI_RELAY_RECORD_H

#include <limits.h>
#include <stdio.h>

#include "relay.h"

#define RELAY_OPT_RELAY 0x1001
#define RELAY_OPT_LIVE 0x1002
#define RELAY_OPT_NAME 0x1003

/* Entries of record's getopt_long table. */
#define RELAY_RECORD_OPTIONS                                                                       \
	{"relay", required_argument, NULL, RELAY_OPT_RELAY},                                       \
		{"live", optional_argument, NULL, RELAY_OPT_LIVE},                                 \
		{"name", required_argument, NULL, RELAY_OPT_NAME}

struct relay_feed;

struct relay_record {
	const char *url;         /* --relay; NULL: not streaming */
	struct relay_url where;  /* parsed */
	unsigned live_period_ms; /* --live; 0: not live */
	const char *name;        /* --name */
	int local;               /* -o was given: the local copy stays */
	char tmpdir[PATH_MAX];   /* without -o: where the trace is written meanwhile */
	struct relay_feed *feed; /* NULL when not streaming (or fell back to local) */
	char session[512];
};

/* Handle one of our options; returns 0, or 2 after a usage message. */
int relay_record_option(struct relay_record *rr, int opt, const char *arg);

/* The usage lines of our options. */
void relay_record_usage(FILE *f);

/*
 * relay_record_dir - checks once the options are all read.  *@dir is -o's
 * (NULL if none); without -o, when streaming, it becomes a new temporary
 * directory.  @program (or else /proc/@pid/comm) names the default
 * session.  Returns 0, or the exit status after printing why.
 */
int relay_record_dir(struct relay_record *rr, const char **dir, int overwrite,
		     const char *program, int pid);

/*
 * relay_record_start - connect to the relayd and create the session, for
 * the trace directory @dir.  Returns 0 (streaming, or with -o a loud
 * fallback to the local copy), or 1 after printing why.
 */
int relay_record_start(struct relay_record *rr, const char *dir);

/* The live period to ask of the tracer (ms), 0 when not streaming live. */
unsigned relay_record_live(const struct relay_record *rr);

/* MARKERS_RECORD_LIVE_PERIOD=MS for the child, or NULL (malloc'ed). */
char *relay_record_env(const struct relay_record *rr);

/*
 * relay_record_finish - after the recording: send the rest, print what
 * reached the relay, remove the temporary directory.  @status is record's
 * exit status so far; returns the final one (1 if the relay lost events
 * and @status was 0).
 */
int relay_record_finish(struct relay_record *rr, const char *dir, int quiet, int status);

#endif
