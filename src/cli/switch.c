/*
 * switch.c - `markers enable -p PID[,PID...] GLOB...` and `markers disable
 * ...` (or --all): switch markers of running processes, for the recording
 * attached to each if one runs, else for its print probe (its stderr or
 * MARKERS_PRINT_FILE).
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
	int en = !strcmp(cmd, "enable");

	fprintf(f,
		"usage: markers %s -p PID[,PID...] GLOB...%s\n"
		"       markers %s --all GLOB...%s\n"
		"\n"
		"Switch %s the markers of running processes whose names match each GLOB\n"
		"(fnmatch: 'db_*', 'request_?one', '*').  While `markers record -p PID` (or\n"
		"MARKERS_RECORD) records a process, this changes what is recorded; otherwise\n"
		"the markers print to the process's stderr (or its MARKERS_PRINT_FILE).\n"
		"\n"
		"  -p, --pid PIDS  the processes (comma-separated; repeatable; each must use\n"
		"                  libmarkers; same user, or root)\n"
		"      --all       every process of yours that uses libmarkers (markers ps);\n"
		"                  a GLOB then needs to match in one of them only\n"
		"%s"
		"  -h, --help      this text\n"
		"\n"
		"Exit status: 0 every GLOB matched a marker, 1 a GLOB matched none or the\n"
		"process could not be reached, 2 bad usage.\n",
		cmd, en ? " [--filter EXPR]" : "", cmd, en ? " [--filter EXPR]" : "",
		en ? "on" : "off",
		en ? "      --filter EXPR  record only the events that pass EXPR (a\n"
		     "                     recording must run; see README.md, Filters)\n"
		   : "");
}

/*
 * Switch @glob in @pid (with @filter, for enable: the events recorded must
 * pass it).  Returns how many markers matched (>= 0), or -1 after one line
 * on stderr (when @quiet_gone, a process gone is silent), -2 when the
 * process refused the filter.
 */
static int switch_one(pid_t pid, const char *cmd, const char *glob, int on, int quiet_gone,
		      int several, const char *filter)
{
	char who[32] = "", *farg = NULL;
	const char *req[] = {cmd, glob, NULL};
	struct ctl_reply r;
	char err[512], target[32] = "print";
	long changed = -1;
	int n, rc;

	if (filter && asprintf(&farg, "filter=%s", filter) < 0)
		return -1;
	req[2] = farg;
	rc = ctl_request(pid, filter ? 3 : 2, req, &r, err, sizeof(err));
	free(farg);
	if (rc < 0) {
		if (!quiet_gone)
			fprintf(stderr, "%s %s: %s\n", cli_progname, cmd, err);
		return -1;
	}
	if (r.status == -ENOENT && !on) {
		fprintf(stderr,
			"%s %s: process %d is recording, and '%s' is not one of the globs it "
			"records (disable takes back a glob given to enable)\n",
			cli_progname, cmd, (int)pid, glob);
		free(r.text);
		return -1;
	}
	if (r.status == -EAGAIN) {
		fprintf(stderr,
			"%s %s: process %d: '%s': on, but some sites cannot be switched yet "
			"(a thread keeps SIGTRAP blocked; '%s list -p %d' shows which and "
			"why); they switch as soon as they can\n",
			cli_progname, cmd, (int)pid, glob, cli_progname, (int)pid);
		free(r.text);
		return -1;
	}
	if (r.status < 0) {
		fprintf(stderr, "%s %s: process %d: '%s': %s\n", cli_progname, cmd, (int)pid, glob,
			*r.text ? r.text : strerror(-r.status));
		free(r.text);
		/* The filter does not apply to a marker of the process: a usage error. */
		return filter && r.status == -EINVAL ? -2 : -1;
	}
	if (sscanf(r.text, "%31[a-z]\t%ld", target, &changed) < 1) {
		fprintf(stderr, "%s %s: malformed reply from process %d\n", cli_progname, cmd,
			(int)pid);
		free(r.text);
		return -1;
	}
	n = r.status;
	if (several) /* which process, when there are several */
		snprintf(who, sizeof(who), "%d: ", (int)pid);
	if (n > 0 && !strcmp(target, "recording"))
		printf("%s%s: %d marker%s matched; %s for the recording\n", who, glob, n,
		       n == 1 ? "" : "s", on ? "recorded" : "no longer recorded");
	else if (n > 0)
		printf("%s%s: %d marker%s matched, %ld switched %s (print probe)\n", who, glob, n,
		       n == 1 ? "" : "s", changed < 0 ? 0 : changed, on ? "on" : "off");
	free(r.text);
	return n;
}

static int run(int argc, char **argv, int on)
{
	static const struct option opts[] = {
		{"pid", required_argument, NULL, 'p'},
		{"all", no_argument, NULL, 'a'},
		{"filter", required_argument, NULL, 'F'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *cmd = on ? "enable" : "disable", *filter = NULL;
	char *globs[argc];
	size_t nglobs = 0, npids = 0;
	pid_t *pids = NULL;
	int c, status = 2, all = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "-p:h", opts, NULL)) != -1) {
		switch (c) {
		case 1: /* a glob, wherever it is (options may follow) */
			globs[nglobs++] = optarg;
			break;
		case 'p':
			if (ctl_parse_pids(optarg, &pids, &npids) < 0) {
				fprintf(stderr, "%s %s: '%s' is not a process id (or a list: 12,34)\n",
					cli_progname, cmd, optarg);
				goto out;
			}
			break;
		case 'a':
			all = 1;
			break;
		case 'F':
			if (!on || filter) {
				fprintf(stderr, "%s %s: %s\n", cli_progname, cmd,
					on ? "one --filter; it applies to every GLOB"
					   : "--filter is for enable");
				goto out;
			}
			filter = optarg;
			break;
		case 'h':
			usage(stdout, cmd);
			status = 0;
			goto out;
		default:
			usage(stderr, cmd);
			goto out;
		}
	}
	while (optind < argc) /* after "--": a glob that starts with '-' */
		globs[nglobs++] = argv[optind++];
	if ((!npids && !all) || (npids && all) || !nglobs) {
		fprintf(stderr, "%s %s: %s (see '%s %s --help')\n", cli_progname, cmd,
			!npids && !all ? "which process? -p PID or --all is required"
			: npids && all ? "-p PID or --all: one or the other"
				       : "no GLOB given",
			cli_progname, cmd);
		goto out;
	}
	if (all) {
		int n = ctl_list_pids(&pids);

		if (n <= 0) {
			fprintf(stderr, "%s %s: %s\n", cli_progname, cmd,
				n < 0 ? "out of memory"
				      : "no process of yours uses libmarkers (see markers ps)");
			status = 1;
			goto out;
		}
		npids = (size_t)n;
	}
	if (filter) {
		/* Checked here first against what each process has loaded: then sent. */
		struct filter_set fs = {0};
		int c2 = 0;

		for (size_t g = 0; g < nglobs && !c2; g++)
			c2 = filter_set_glob(&fs, globs[g], cmd);
		if (!c2)
			c2 = filter_set_filter(&fs, filter, cmd);
		for (size_t i = 0; i < npids && !c2; i++)
			c2 = filter_check_pid(&fs, pids[i], cmd);
		filter_set_free(&fs);
		if (c2) {
			status = c2;
			goto out;
		}
	}
	status = 0;
	for (size_t g = 0; g < nglobs; g++) {
		int matched = 0, reached = 0;

		for (size_t i = 0; i < npids; i++) {
			int n = switch_one(pids[i], cmd, globs[g], on, all, all || npids > 1, filter);

			if (n == -2) {
				status = 2;
				goto out;
			}
			if (n < 0 && !all)
				status = 1;
			reached += n >= 0;
			matched += n > 0;
			if (n == 0 && !all)
				fprintf(stderr,
					"%s %s: no marker of process %d matches '%s' (see '%s list -p "
					"%d')\n",
					cli_progname, cmd, (int)pids[i], globs[g], cli_progname,
					(int)pids[i]);
			if (n == 0 && !all)
				status = 1;
		}
		if (all && !matched) {
			fprintf(stderr, "%s %s: no marker of your %d process%s matches '%s'\n",
				cli_progname, cmd, reached, reached == 1 ? "" : "es", globs[g]);
			status = 1;
		}
	}
out:
	free(pids);
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
