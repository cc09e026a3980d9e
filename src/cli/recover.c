/*
 * recover.c - `markers recover DIR`: finish the traces that processes left
 * in DIR when they died while recording (SIGKILL, SIGSEGV, abort), from
 * their buffers, which outlive them; discard and overwrite (flight
 * recorder) modes alike.  `markers record` does it by itself for the
 * processes it started; this is for those started from the environment
 * (MARKERS_RECORD) by something else.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "markers/tracer.h"
#include "commands.h"
#include "record_tree.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s recover DIR\n"
		"       %s recover --gc\n"
		"\n"
		"Write out the events that processes which died while recording into DIR\n"
		"(MARKERS_RECORD_DIR) left in their buffers: every event they committed, the\n"
		"newest ones of a flight recorder.  Processes still recording are left alone.\n"
		"Then: markers view DIR, babeltrace2 DIR.\n"
		"\n"
		"  --gc         remove your buffer files in /dev/shm that nothing can recover:\n"
		"               their process is gone and so is their trace directory (deleted\n"
		"               without `markers recover`); says each one it removes\n"
		"  -h, --help   this help\n",
		cli_progname, cli_progname);
}

static void removed(const char *path, const char *dir, void *arg)
{
	(void)arg;
	if (*dir)
		printf("removed %s: its process is gone, and its trace directory %s no longer "
		       "links to it\n", path, dir);
	else
		printf("removed %s: its process is gone, and no trace directory is known for it\n",
		       path);
}

/* markers recover --gc */
static int gc(void)
{
	typeof(marker_tracer_gc) *fn = (typeof(marker_tracer_gc) *)rt_lib_sym("marker_tracer_gc");
	int n;

	if (!fn) {
		fprintf(stderr, "%s recover --gc: libmarkers.so.1 with marker_tracer_gc() not found\n",
			cli_progname);
		return 1;
	}
	n = fn(removed, NULL);
	if (n < 0) {
		fprintf(stderr, "%s recover --gc: cannot look into /dev/shm: %s\n", cli_progname,
			strerror(-n));
		return 1;
	}
	printf("%d orphaned buffer file%s removed\n", n, n == 1 ? "" : "s");
	return 0;
}

int cmd_recover(int argc, char **argv)
{
	static const struct option opts[] = {
		{"gc", no_argument, NULL, 'g'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int opt, want_gc = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (opt == 'g') {
			want_gc = 1;
			continue;
		}
		if (opt == 'h') {
			usage(stdout);
			return 0;
		}
		usage(stderr);
		return 2;
	}
	if (want_gc) {
		if (optind != argc) {
			fprintf(stderr, "%s recover: --gc takes no directory\n", cli_progname);
			return 2;
		}
		return gc();
	}
	if (optind != argc - 1) {
		fprintf(stderr, "%s recover: %s\n", cli_progname,
			optind == argc ? "which directory? (markers recover DIR)"
				       : "one directory at a time");
		return 2;
	}
	return rt_recover_cmd(argv[optind]);
}
