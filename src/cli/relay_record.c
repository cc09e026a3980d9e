/*
 * relay_record.c - the --relay, --live and --name options of `markers
 * record` (relay_record.h): from the command line to a relay_feed
 * (relay_stream.h), and the summary of what reached the relayd.
 *
 * The recording itself does not change: the tracer writes the trace into
 * a directory (-o's, else a private temporary one that goes away at the
 * end), and a thread of this process sends it on.  So a relayd that is
 * slow, stalls or dies costs the traced program nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "progress.h"
#include "relay_record.h"
#include "relay_stream.h"
#include "trace_summary.h"

#define DEFAULT_LIVE_MS 1000

/* "1", "0.5", "250ms", "2s" -> milliseconds; 0 on error. */
static unsigned parse_period(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || v <= 0)
		return 0;
	if (!strcmp(end, "ms"))
		v /= 1000;
	else if (*end && strcmp(end, "s"))
		return 0;
	if (v < 0.01 || v > 3600)
		return 0;
	return (unsigned)(v * 1000 + 0.5);
}

int relay_record_option(struct relay_record *rr, int opt, const char *arg)
{
	switch (opt) {
	case RELAY_OPT_RELAY: {
		char err[300];

		if (relay_url_parse(arg, &rr->where, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s record: %s\n", cli_progname, err);
			return 2;
		}
		rr->url = arg;
		return 0;
	}
	case RELAY_OPT_LIVE:
		rr->live_period_ms = arg ? parse_period(arg) : DEFAULT_LIVE_MS;
		if (!rr->live_period_ms) {
			fprintf(stderr,
				"%s record: bad live period '%s' (seconds, like 1, 0.5 or 250ms; "
				"10ms to 1h)\n",
				cli_progname, arg);
			return 2;
		}
		return 0;
	case RELAY_OPT_NAME:
		if (!*arg || strchr(arg, '/') || strlen(arg) > 200) {
			fprintf(stderr, "%s record: bad session name '%s' (no '/', 200 bytes at most)\n",
				cli_progname, arg);
			return 2;
		}
		rr->name = arg;
		return 0;
	}
	return 2;
}

void relay_record_usage(FILE *f)
{
	fputs("\nStreaming to an lttng-relayd (LTTng's collector; README: tracing a fleet):\n"
	      "      --relay URL        stream the recording to an lttng-relayd at URL:\n"
	      "                         net://HOST[:CONTROL_PORT[:DATA_PORT]] (5342, 5343),\n"
	      "                         net6://[ADDR]... for IPv6; with -o a local copy too\n"
	      "      --live[=PERIOD]    with --relay: close packets every PERIOD seconds\n"
	      "                         (default 1) for live readers (babeltrace2 -i lttng-live)\n"
	      "      --name NAME        with --relay: the session's name (default\n"
	      "                         markers-PROGRAM)\n",
	      f);
}

int relay_record_dir(struct relay_record *rr, const char **dir, int overwrite,
		     const char *program, int pid)
{
	static char defname[256];
	const char *tmp = getenv("TMPDIR");
	char comm[64] = "process";

	if (!rr->url) {
		if (rr->live_period_ms || rr->name) {
			fprintf(stderr, "%s record: --live and --name go with --relay URL\n",
				cli_progname);
			return 2;
		}
		return 0;
	}
	if (rr->live_period_ms && overwrite) {
		fprintf(stderr,
			"%s record: --live and --overwrite: a flight recorder writes its packets "
			"at the end only\n",
			cli_progname);
		return 2;
	}
	if (!rr->name) {
		const char *base = program ? strrchr(program, '/') : NULL;

		if (!program && pid > 0) {
			char path[64];
			FILE *f;

			snprintf(path, sizeof(path), "/proc/%d/comm", pid);
			if ((f = fopen(path, "re"))) {
				if (fgets(comm, sizeof(comm), f))
					comm[strcspn(comm, "\n")] = 0;
				fclose(f);
			}
		}
		snprintf(defname, sizeof(defname), "markers-%s",
			 base ? base + 1 : program ? program : comm);
		for (char *p = defname; *p; p++)
			if (*p == ' ' || *p == '/')
				*p = '_';
		rr->name = defname;
	}
	if (*dir) {
		rr->local = 1;
		return 0;
	}
	snprintf(rr->tmpdir, sizeof(rr->tmpdir), "%s/markers-relay-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(rr->tmpdir)) {
		fprintf(stderr, "%s record: cannot make a temporary directory in %s: %m\n",
			cli_progname, tmp && *tmp ? tmp : "/tmp");
		rr->tmpdir[0] = 0;
		return 1;
	}
	*dir = rr->tmpdir;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

static void remove_tree(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int relay_record_start(struct relay_record *rr, const char *dir)
{
	struct relay_feed_opts fo = {.name = rr->name, .live_period_ms = rr->live_period_ms};
	const char *timeout = getenv("MARKERS_RELAY_TIMEOUT");
	char err[512];
	int rc;

	if (!rr->url)
		return 0;
	/* How long a stalled relayd may hold a send or a reply before it counts as gone. */
	if (timeout && *timeout) {
		double t = atof(timeout);

		if (t >= 0.01 && t <= 3600)
			fo.timeout_ms = (int)(t * 1000);
		else
			fprintf(stderr, "%s record: MARKERS_RELAY_TIMEOUT=%s is not seconds; using 5\n",
				cli_progname, timeout);
	}
	fo.url = rr->where;
	fo.punch = !rr->local; /* no local copy: what was sent needs no disk */
	rc = relay_feed_start(&fo, dir, &rr->feed, err, sizeof(err));
	if (rc == 0)
		return 0;
	if (rr->local) {
		fprintf(stderr,
			"%s record: WARNING: %s; recording into %s only, nothing goes to the relay\n",
			cli_progname, err, dir);
		return 0;
	}
	fprintf(stderr, "%s record: %s\n", cli_progname, err);
	if (rr->tmpdir[0])
		remove_tree(rr->tmpdir);
	return 1;
}

unsigned relay_record_live(const struct relay_record *rr)
{
	return rr->feed ? rr->live_period_ms : 0;
}

char *relay_record_env(const struct relay_record *rr)
{
	char *s = NULL;

	if (rr->feed && rr->live_period_ms &&
	    asprintf(&s, "MARKERS_RECORD_LIVE_PERIOD=%u", rr->live_period_ms) < 0)
		return NULL;
	return s;
}

/* Events of the traces in @root (the feed's list), read from their packets. */
static int count(const struct relay_feed *f, const char *root, uint64_t *events)
{
	*events = 0;
	for (size_t i = 0; i < relay_feed_ntraces(f); i++) {
		char dir[PATH_MAX * 2], err[600];
		struct tr_trace *t;
		struct tr_summary s;
		int rc;

		snprintf(dir, sizeof(dir), "%s/%s", root, relay_feed_trace(f, i));
		if (tr_open(dir, &t, err, sizeof(err)) < 0)
			return -1;
		rc = tr_summarize(t, &s);
		*events += s.events;
		tr_summary_free(&s);
		tr_close(t);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/*
 * The final counts of the traces in @root, from their .stats (the stream
 * files may have holes where packets were sent: relay_feed_opts.punch).
 */
static int totals(const struct relay_feed *f, const char *root, uint64_t *recorded,
		  uint64_t *discarded)
{
	*recorded = *discarded = 0;
	for (size_t i = 0; i < relay_feed_ntraces(f); i++) {
		char dir[PATH_MAX * 2];
		struct live_stats ls;

		snprintf(dir, sizeof(dir), "%s/%s", root, relay_feed_trace(f, i));
		if (live_stats_read(dir, &ls) < 0)
			return -1;
		*recorded += ls.recorded;
		*discarded += ls.discarded;
	}
	return 0;
}

int relay_record_finish(struct relay_record *rr, const char *dir, int quiet, int status)
{
	struct relay_feed_result r;
	uint64_t events = 0, discarded = 0, unsent = 0;
	char size[32], n1[32], n2[32], copy[PATH_MAX + 16];
	int counted;

	if (!rr->feed)
		return status;
	relay_feed_finish(rr->feed, &r);
	counted = totals(rr->feed, dir, &events, &discarded) == 0;
	if (r.failed && counted && r.packets_unsent) {
		/* What the relayd did not get: its packets, counted in a copy of their own. */
		snprintf(copy, sizeof(copy), "%s/.relay-unsent", rr->local ? dir : rr->tmpdir);
		if (relay_feed_copy_unsent(rr->feed, copy) < 0 || count(rr->feed, copy, &unsent) < 0 ||
		    unsent > events)
			counted = 0;
		remove_tree(copy);
	}
	format_size(r.bytes_sent, size, sizeof(size));
	format_count(events - unsent, n1, sizeof(n1));
	if (!quiet || r.failed) {
		if (counted)
			fprintf(stderr,
				"%s record: relay: %s events (%s, %llu packets) reached the relay, "
				"session %s (protocol 2.%u)\n",
				cli_progname, n1, size, (unsigned long long)r.packets_sent,
				r.session_path, r.minor);
		else
			fprintf(stderr,
				"%s record: relay: %s in %llu packets reached the relay, session "
				"%s (protocol 2.%u)\n",
				cli_progname, size, (unsigned long long)r.packets_sent,
				r.session_path, r.minor);
	}
	if (!rr->local && !quiet)
		fprintf(stderr, "%s record: relay: no local copy was kept (-o DIR keeps one)\n",
			cli_progname);
	if (discarded && !rr->local && (!quiet || r.failed)) {
		format_count(discarded, n2, sizeof(n2));
		fprintf(stderr,
			"%s record: relay: %s events were lost in the tracer's buffers (counted in "
			"the trace): a bigger --buffer-size would keep them\n",
			cli_progname, n2);
	}
	if (r.failed) {
		format_count(unsent, n2, sizeof(n2));
		format_size(r.bytes_unsent, size, sizeof(size));
		fprintf(stderr,
			"%s record: relay: LOST %s events (%s, %llu packets) that did not reach the "
			"relay: %s%s%s\n",
			cli_progname, counted ? n2 : "some", size,
			(unsigned long long)r.packets_unsent, r.why,
			rr->local ? "; they are in " : "", rr->local ? dir : "");
		if (status == 0)
			status = 1;
	}
	relay_feed_free(rr->feed);
	rr->feed = NULL;
	if (rr->tmpdir[0])
		remove_tree(rr->tmpdir);
	return status;
}
