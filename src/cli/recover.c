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

#include "commands.h"
#include "record_tree.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s recover DIR\n"
		"\n"
		"Write out the events that processes which died while recording into DIR\n"
		"(MARKERS_RECORD_DIR) left in their buffers: every event they committed, the\n"
		"newest ones of a flight recorder.  Processes still recording are left alone.\n"
		"Then: markers view DIR, babeltrace2 DIR.\n"
		"\n"
		"  -h, --help   this help\n",
		cli_progname);
}

int cmd_recover(int argc, char **argv)
{
	static const struct option opts[] = {
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (opt == 'h') {
			usage(stdout);
			return 0;
		}
		usage(stderr);
		return 2;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "%s recover: %s\n", cli_progname,
			optind == argc ? "which directory? (markers recover DIR)"
				       : "one directory at a time");
		return 2;
	}
	return rt_recover_cmd(argv[optind]);
}
