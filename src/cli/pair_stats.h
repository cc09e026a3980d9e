/*
 * pair_stats.h - `markers stats --pair BEGIN,END[:KEY] DIR` (pairs.h says
 * how events pair).
 */
#ifndef MARKERS_CLI_PAIR_STATS_H
#define MARKERS_CLI_PAIR_STATS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Print the latency report of @pair_arg's pairs in the recording @dir (of
 * the processes @pids only, when @npids) on stdout.  Returns the exit status: 0, 1 (the trace cannot be read or is
 * damaged, or has neither marker; one line on stderr), 2 (@pair_arg is
 * malformed).
 */
int pair_stats_print(const char *dir, const char *pair_arg, const int64_t *pids, size_t npids);

#endif /* MARKERS_CLI_PAIR_STATS_H */
