/*
 * switch.c - `markers enable -p PID GLOB...` and `markers disable -p PID GLOB...`:
 * switch markers of a running process, for the recording attached to it
 * if one runs, else for its print probe (its stderr or MARKERS_PRINT_FILE).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "control_client.h"
#include "filter_opts.h"

static void usage(FILE *f, const char *cmd)
{
	fprintf(f,
		"usage: markers %s -p PID GLOB...%s\n"
		"\n"
		"Switch %s the markers of a running process whose names match each GLOB\n"
		"(fnmatch: 'db_*', 'request_?one', '*').  While `markers record -p PID` (or\n"
		"MARKERS_RECORD) records the process, this changes what is recorded; otherwise\n"
		"the markers print to the process's stderr (or its MARKERS_PRINT_FILE).\n"
		"\n"
		"  -p, --pid PID   the process (it must use libmarkers; same user, or root)\n"
		"%s"
		"  -h, --help      this text\n"
		"\n"
		"Exit status: 0 every GLOB matched a marker, 1 a GLOB matched none or the\n"
		"process could not be reached, 2 bad usage.\n",
		cmd, strcmp(cmd, "enable") ? "" : " [--filter EXPR]", strcmp(cmd, "enable") ? "off" : "on",
		strcmp(cmd, "enable") ? ""
				      : "      --filter EXPR  record only the events that pass EXPR (a\n"
					"                     recording must run; see README.md, Filters)\n");
}

static int run(int argc, char **argv, int on)
{
	static const struct option opts[] = {
		{"pid", required_argument, NULL, 'p'},
		{"filter", required_argument, NULL, 'F'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *cmd = on ? "enable" : "disable", *pid_arg = NULL, *filter = NULL;
	struct filter_set fs = {0};
	int c, status = 0;
	pid_t pid;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			pid_arg = optarg;
			break;
		case 'F':
			if (!on || filter) {
				fprintf(stderr, "%s %s: %s\n", cli_progname, cmd,
					on ? "one --filter; it applies to every GLOB"
					   : "--filter is for enable");
				return 2;
			}
			filter = optarg;
			break;
		case 'h':
			usage(stdout, cmd);
			return 0;
		default:
			usage(stderr, cmd);
			return 2;
		}
	}
	if (!pid_arg || optind == argc) {
		fprintf(stderr, "%s %s: %s (see '%s %s --help')\n", cli_progname, cmd,
			!pid_arg ? "which process? -p PID is required" : "no GLOB given",
			cli_progname, cmd);
		return 2;
	}
	pid = ctl_parse_pid(pid_arg);
	if (pid < 0) {
		fprintf(stderr, "%s %s: '%s' is not a process id\n", cli_progname, cmd, pid_arg);
		return 2;
	}
	if (filter) {
		/* Checked here first against what the process has loaded: then sent. */
		for (int i = optind; i < argc; i++)
			if (filter_set_glob(&fs, argv[i], cmd))
				return 1;
		c = filter_set_filter(&fs, filter, cmd);
		if (!c)
			c = filter_check_pid(&fs, pid, cmd);
		filter_set_free(&fs);
		if (c)
			return c;
	}
	for (int i = optind; i < argc; i++) {
		char *farg = NULL;
		const char *req[] = {cmd, argv[i], NULL};
		struct ctl_reply r;
		char err[512], target[32] = "print";
		long changed = -1;

		if (filter && asprintf(&farg, "filter=%s", filter) < 0)
			return 1;
		req[2] = farg;
		c = ctl_request(pid, filter ? 3 : 2, req, &r, err, sizeof(err));
		free(farg);
		if (c < 0) {
			fprintf(stderr, "%s %s: %s\n", cli_progname, cmd, err);
			return 1;
		}
		if (r.status == -ENOENT && !on) {
			fprintf(stderr,
				"%s %s: process %d is recording, and '%s' is not one of the globs it "
				"records (disable takes back a glob given to enable)\n",
				cli_progname, cmd, (int)pid, argv[i]);
			free(r.text);
			return 1;
		}
		if (r.status == -EAGAIN) {
			fprintf(stderr,
				"%s %s: process %d: '%s': on, but some sites cannot be switched yet "
				"(a thread keeps SIGTRAP blocked; '%s list -p %d' shows which and "
				"why); they switch as soon as they can\n",
				cli_progname, cmd, (int)pid, argv[i], cli_progname, (int)pid);
			free(r.text);
			return 1;
		}
		if (r.status < 0) {
			fprintf(stderr, "%s %s: process %d: '%s': %s\n", cli_progname, cmd, (int)pid,
				argv[i], *r.text ? r.text : strerror(-r.status));
			if (filter && r.status == -EINVAL) {
				free(r.text);
				return 2; /* the filter does not apply to a marker of the process */
			}
			free(r.text);
			return 1;
		}
		if (sscanf(r.text, "%31[a-z]\t%ld", target, &changed) < 1) {
			fprintf(stderr, "%s %s: malformed reply from process %d\n", cli_progname, cmd,
				(int)pid);
			free(r.text);
			return 1;
		}
		if (r.status == 0) {
			fprintf(stderr, "%s %s: no marker of process %d matches '%s' (see '%s list -p %d')\n",
				cli_progname, cmd, (int)pid, argv[i], cli_progname, (int)pid);
			status = 1;
		} else if (!strcmp(target, "recording")) {
			printf("%s: %d marker%s matched; %s for the recording\n", argv[i], r.status,
			       r.status == 1 ? "" : "s", on ? "recorded" : "no longer recorded");
		} else {
			printf("%s: %d marker%s matched, %ld switched %s (print probe)\n", argv[i],
			       r.status, r.status == 1 ? "" : "s", changed < 0 ? 0 : changed,
			       on ? "on" : "off");
		}
		free(r.text);
	}
	return status;
}

int cmd_enable(int argc, char **argv)
{
	return run(argc, argv, 1);
}

int cmd_disable(int argc, char **argv)
{
	return run(argc, argv, 0);
}
