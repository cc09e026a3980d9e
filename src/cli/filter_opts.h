/*
 * filter_opts.h - the -e GLOB and --filter EXPR options of `markers record`
 * and `markers enable`, checked before anything is recorded.
 *
 * Each --filter applies to the -e globs given since the previous --filter
 * (or since the start); a --filter with no -e before it applies to every
 * marker ('*').  Globs given after the last --filter are recorded
 * unfiltered.  So `-e 'db_*' --filter 'ms > 10' -e 'net_*'` records db_*
 * events slower than 10 ms and every net_* event.
 *
 * Errors are printed as one line, "markers CMD: --filter 'EXPR': ...",
 * naming the column, or the field and the marker's fields; the functions
 * then return 2 (the exit status of bad usage).
 */
#ifndef MARKERS_CLI_FILTER_OPTS_H
#define MARKERS_CLI_FILTER_OPTS_H

#include <stddef.h>
#include <sys/types.h>

struct filter_set {
	const char **globs;   /* in order */
	const char **filters; /* for each glob, its filter or NULL */
	size_t n, cap;
	size_t pending;       /* globs since the last --filter */
	int any;              /* a --filter was given */
	int nfilters;         /* --filter options, 16 at most */
};

/* An -e GLOB.  Returns 0, or 1 (out of memory, printed). */
int filter_set_glob(struct filter_set *s, const char *glob, const char *cmd);
/* A --filter EXPR: parsed now.  Returns 0, or 2 after printing where it is wrong. */
int filter_set_filter(struct filter_set *s, const char *expr, const char *cmd);
void filter_set_free(struct filter_set *s);

/*
 * Check each filter against one marker (@name, @format, @types as in
 * markers/abi.h) that its globs match.  Returns 0, or 2 after printing.
 */
int filter_check_marker(const struct filter_set *s, const char *name, const char *format,
			const char *types, const char *cmd);
/*
 * ... against the markers of the program @prog (found in $PATH as execvp
 * would) read offline: its own markers (those of libraries it loads are
 * checked as they load, by the library).  Returns 0, or 2 after printing.
 * A program that cannot be read is not an error here.
 */
int filter_check_program(const struct filter_set *s, const char *prog, const char *cmd);
/* ... against the markers process @pid has loaded.  Returns 0, 1 (cannot ask), or 2. */
int filter_check_pid(const struct filter_set *s, pid_t pid, const char *cmd);

/*
 * The environment that makes a program record @s from its start
 * (MARKERS_RECORD, MARKERS_RECORD_FILTER, MARKERS_RECORD_1 and
 * MARKERS_RECORD_FILTER_1, ...: see README.md).  Appends malloc'ed
 * "NAME=VALUE" strings at @env[*@k] (room for 2 + 2 * s->n).  Returns 0 or
 * -ENOMEM.
 */
int filter_env(const struct filter_set *s, char **env, size_t *k);

#endif /* MARKERS_CLI_FILTER_OPTS_H */
