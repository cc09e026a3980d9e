/*
 * tracer_closefds.c - a program that records, then closes every descriptor
 * it did not open itself (closefrom(3), as daemons do) and opens files and
 * directories of its own, which take the numbers of the tracer's stream
 * files and trace directory.  The tracer must not write a byte into them
 * (packets, metadata, .stats), must not remove anything from them, and
 * must count every event it can no longer write: stop says so.
 */
#define _GNU_SOURCE
#include <markers.h>
#include <markers/tracer.h>
#include "unit/closefds_util.h"

#define PER 3000

static void emit(int n)
{
	for (int i = 0; i < n; i++)
		trace_mark(cf_event, "i %d s %s", i, "sixteen-byte-str");
}

/* Events babeltrace2 reads in @dir, or -1. */
static long bt_events(const char *dir)
{
	char cmd[256];
	long n = -1;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "babeltrace2 '%s' 2>/dev/null | wc -l", dir);
	f = popen(cmd, "r");
	if (f && fscanf(f, "%ld", &n) != 1)
		n = -1;
	if (f)
		pclose(f);
	return n;
}

/*
 * Record, close every descriptor from 3, let the program open its own, go
 * on recording, stop.  @move: the trace directory is renamed meanwhile, so
 * that the tracer cannot find its files again.
 */
static void round_(int move)
{
	char trace[] = "/tmp/markers-closefds-trace-XXXXXX";
	char mine[] = "/tmp/markers-closefds-mine-XXXXXX", moved[64], cmd[256];
	struct marker_tracer_options o = {.size = sizeof(o), .dir = trace, .subbuf_size = 4096,
					  .nsubbufs = 4};
	struct marker_tracer_stats st = {.size = sizeof(st)};
	int fds[CF_NFILES], err;

	if (!mkdtemp(trace) || !mkdtemp(mine))
		cf_bail_out("mkdtemp");
	snprintf(moved, sizeof(moved), "%s.moved", trace);
	is_int(marker_tracer_start(&o), 0, "start, 4 x 4 KiB per CPU");
	ok(marker_tracer_enable("cf_*") >= 0, "cf_* on");
	emit(PER);
	usleep(100 * 1000); /* the consumer writes the full sub-buffers */

	if (move && rename(trace, moved))
		cf_bail_out("rename");
	cf_close_all();
	cf_open_mine(mine, fds);
	emit(PER);
	usleep(100 * 1000);
	err = marker_tracer_stop();
	marker_tracer_get_stats(&st);
	is_int(st.recorded + st.discarded, 2 * PER, "emitted = recorded + discarded (%llu + %llu)",
	       (unsigned long long)st.recorded, (unsigned long long)st.discarded);
	ok(cf_mine_intact(fds), "nothing written into, or removed from, the program's files");
	if (!move) {
		is_int(err, 0, "stop: the tracer found its files again");
		is_int(bt_events(trace), (long)st.recorded, "babeltrace2 reads every recorded event");
	} else {
		ok(err < 0, "stop says the trace could not be finished (%s)", strerror(-err));
		/* The buffers stayed for that: where the directory went, recovery finishes it. */
		is_int(marker_tracer_recover(moved), -EBADF,
		       "the moved trace recovers, and says the cause it met");
		ok(bt_events(moved) > 0, "babeltrace2 reads it (%ld events)", bt_events(moved));
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s' '%s'", trace, moved, mine);
	if (system(cmd))
		diag("could not remove %s", trace);
}

#if defined(__SANITIZE_THREAD__)
#define TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TSAN 1
#endif
#endif

int main(int argc, char **argv)
{
	(void)argc;
#ifdef TSAN
	/*
	 * ThreadSanitizer sees the program's close() of the tracer's
	 * descriptors, and its open() of the same numbers, as races with the
	 * consumer thread's fstat() of them: they are, and they are the attack
	 * this test makes.
	 */
	(void)round_;
	printf("1..0 # SKIP TSan: closing the tracer's descriptors under its consumer is the race this test makes\n");
	return 0;
#endif
	/* No listener: its socket is another story (control.c: POLLNVAL). */
	if (!getenv("MARKERS_CONTROL")) {
		setenv("MARKERS_CONTROL", "0", 1);
		execv("/proc/self/exe", argv);
	}
	plan(13);
	round_(0);
	round_(1);
	return done();
}
