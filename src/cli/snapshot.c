/*
 * snapshot.c - `markers snapshot -p PID [-o DIR]`: the flight recorder's
 * snapshot.  The process's tracer copies what its buffers hold now into a
 * trace of its own in DIR (marker_tracer_snapshot()), while it goes on
 * recording; it can be asked again and again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "control_client.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s snapshot -p PID [-o DIR]\n"
		"\n"
		"Write the events that the buffers of process PID hold now, as a trace in\n"
		"DIR, while its recording goes on.  The process must record in overwrite\n"
		"mode, as a flight recorder: `markers record --overwrite -p PID`, `markers\n"
		"record --overwrite -- CMD`, or MARKERS_RECORD_MODE=overwrite from its start.\n"
		"\n"
		"  -p, --pid PID      the process\n"
		"  -o, --output DIR   a new or empty directory\n"
		"                     (default ./markers-snapshot-PID-YYYYMMDD-HHMMSS)\n"
		"  -h, --help         this help\n"
		"\n"
		"Then: markers view DIR, babeltrace2 DIR.  After a crash: markers recover DIR.\n",
		cli_progname);
}

static const char *why(int status, pid_t pid, char *buf, size_t len)
{
	switch (-status) {
	case ENOENT:
		snprintf(buf, len, "process %d is not recording (start it as a flight recorder: "
				   "markers record --overwrite -p %d)", (int)pid, (int)pid);
		return buf;
	case EINVAL:
		snprintf(buf, len, "process %d records in discard mode: snapshots are of a flight "
				   "recorder (markers record --overwrite)", (int)pid);
		return buf;
	case EEXIST:
		return "the directory holds a trace already";
	case ENOSYS:
		return "its libmarkers has no tracer";
	}
	return strerror(-status);
}

int cmd_snapshot(int argc, char **argv)
{
	static const struct option opts[] = {
		{"pid", required_argument, NULL, 'p'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *pid_arg = NULL, *out = NULL;
	char def[80], abs[PATH_MAX], arg[PATH_MAX + 8], err[512], msg[256];
	unsigned long long events = 0, lost = 0;
	struct ctl_reply r;
	const char *req[2];
	int opt, made = 0;
	pid_t pid;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "p:o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			pid_arg = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!pid_arg || optind != argc) {
		fprintf(stderr, "%s snapshot: %s (see '%s snapshot --help')\n", cli_progname,
			!pid_arg ? "which process? -p PID is required" : "unexpected argument",
			cli_progname);
		return 2;
	}
	pid = ctl_parse_pid(pid_arg);
	if (pid < 0) {
		fprintf(stderr, "%s snapshot: '%s' is not a process id\n", cli_progname, pid_arg);
		return 2;
	}
	if (!out) {
		time_t now = time(NULL);
		struct tm tm;
		size_t n;

		localtime_r(&now, &tm);
		n = (size_t)snprintf(def, sizeof(def), "markers-snapshot-%d-", (int)pid);
		strftime(def + n, sizeof(def) - n, "%Y%m%d-%H%M%S", &tm);
		out = def;
	}
	/* The process resolves the path in its own directory: an absolute one. */
	if (mkdir(out, 0755) == 0)
		made = 1;
	else if (errno != EEXIST) {
		fprintf(stderr, "%s snapshot: cannot create %s: %m\n", cli_progname, out);
		return 1;
	}
	if (!realpath(out, abs)) {
		fprintf(stderr, "%s snapshot: %s: %m\n", cli_progname, out);
		return 1;
	}
	snprintf(arg, sizeof(arg), "dir=%s", abs);
	req[0] = "trace-snapshot";
	req[1] = arg;
	if (ctl_request(pid, 2, req, &r, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s snapshot: %s\n", cli_progname, err);
		if (made)
			rmdir(abs);
		return 1;
	}
	if (r.status < 0) {
		fprintf(stderr, "%s snapshot: %s\n", cli_progname, why(r.status, pid, msg, sizeof(msg)));
		free(r.text);
		if (made)
			rmdir(abs);
		return 1;
	}
	sscanf(r.text, "recorded %llu\ndiscarded %llu", &events, &lost);
	free(r.text);
	printf("snapshot of process %d: %llu events (%llu older ones not kept) in %s\n", (int)pid,
	       events, lost, abs);
	return 0;
}
