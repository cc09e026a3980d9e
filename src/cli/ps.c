/*
 * ps.c - `markers ps`: this user's processes that have libmarkers and its
 * control channel: pid, name, markers, how many are on, whether each is
 * recording, and the tracer's buffer memory in it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "control_client.h"
#include "progress.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: %s ps [--json]\n"
		   "\n"
		   "List your processes that use libmarkers with its control channel on: pid,\n"
		   "name, markers, how many are on, whether it records (events, lost), and the\n"
		   "memory of its tracer's buffers.  These are what record --all records, and\n"
		   "what list/enable/disable -p PID and --all reach.\n"
		   "\n"
		   "  -j, --json   one JSON object per process, one a line\n"
		   "  -h, --help   this help\n",
		   cli_progname);
}

/* The program name of @pid (/proc/PID/comm), or "?". */
void proc_comm(int pid, char *out, unsigned long cap)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f || !fgets(out, (int)cap, f))
		snprintf(out, cap, "?");
	else
		out[strcspn(out, "\n")] = 0;
	if (f)
		fclose(f);
}

/* Bytes @pid maps of tracer buffer files (.buffers/, or their /dev/shm targets). */
static uint64_t buffer_memory(pid_t pid)
{
	char path[64], line[4096];
	uint64_t total = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long lo, hi;

		if ((strstr(line, "/dev/shm/markers-") || strstr(line, "/.buffers/")) &&
		    sscanf(line, "%llx-%llx", &lo, &hi) == 2 && hi > lo)
			total += hi - lo;
	}
	fclose(f);
	return total;
}

struct ps_row {
	int markers, on, recording;
	uint64_t recorded, discarded;
};

/* Ask @pid for its list.  Returns 0, or -errno with @err filled. */
static int query(pid_t pid, struct ps_row *row, char *err, size_t errlen)
{
	const char *argv[] = {"list"};
	struct ctl_reply r;
	char *save = NULL;
	int rc = ctl_request(pid, 1, argv, &r, err, errlen);

	memset(row, 0, sizeof(*row));
	if (rc < 0)
		return rc;
	if (r.status < 0) {
		snprintf(err, errlen, "process %d: %s", (int)pid, strerror(-r.status));
		free(r.text);
		return r.status;
	}
	for (char *l = strtok_r(r.text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *f[8] = {0};
		int n = 0;

		for (char *p = l; n < 8; n++) {
			f[n] = p;
			p = strchr(p, '\t');
			if (!p) {
				n++;
				break;
			}
			*p++ = 0;
		}
		if (!strcmp(f[0], "R") && n >= 3) {
			row->recording = 1;
			row->recorded = strtoull(f[1], NULL, 10);
			row->discarded = strtoull(f[2], NULL, 10);
		} else if (!strcmp(f[0], "M") && n >= 5) {
			row->markers++;
			row->on += !strcmp(f[4], "1");
		}
	}
	free(r.text);
	return 0;
}

int cmd_ps(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int opt, json = 0, n, shown = 0;
	pid_t *pids;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s ps: no arguments (see '%s ps --help')\n", cli_progname,
			cli_progname);
		return 2;
	}
	n = ctl_list_pids(&pids);
	if (n < 0) {
		fprintf(stderr, "%s ps: out of memory\n", cli_progname);
		return 1;
	}
	if (!json)
		printf("%8s  %-16s %8s %6s  %-26s %10s\n", "PID", "NAME", "MARKERS", "ON",
		       "RECORDING", "BUFFERS");
	for (int i = 0; i < n; i++) {
		struct ps_row row;
		char name[64], err[512], rec[96], mem[32];
		uint64_t bytes;

		/* A process that ended meanwhile, or a stale socket: not a row. */
		if (query(pids[i], &row, err, sizeof(err)) < 0)
			continue;
		proc_comm(pids[i], name, sizeof(name));
		bytes = buffer_memory(pids[i]);
		shown++;
		if (json) {
			printf("{\"pid\":%d,\"name\":\"", (int)pids[i]);
			for (const char *c = name; *c; c++)
				printf(*c == '"' || *c == '\\' ? "\\%c" : (unsigned char)*c < 0x20 ? "?" : "%c", *c);
			printf("\",\"markers\":%d,\"on\":%d,\"recording\":%s", row.markers, row.on,
			       row.recording ? "true" : "false");
			if (row.recording)
				printf(",\"recorded\":%" PRIu64 ",\"discarded\":%" PRIu64, row.recorded,
				       row.discarded);
			printf(",\"buffer_bytes\":%" PRIu64 "}\n", bytes);
			continue;
		}
		if (row.recording) {
			char a[32], b[32];

			format_count(row.recorded, a, sizeof(a));
			format_count(row.discarded, b, sizeof(b));
			snprintf(rec, sizeof(rec), "yes: %s ev, %s lost", a, b);
		} else {
			snprintf(rec, sizeof(rec), "no");
		}
		if (bytes)
			format_size(bytes, mem, sizeof(mem));
		else
			snprintf(mem, sizeof(mem), "-");
		printf("%8d  %-16.16s %8d %6d  %-26s %10s\n", (int)pids[i], name, row.markers, row.on,
		       rec, mem);
	}
	if (!json && !shown)
		printf("(no process of yours uses libmarkers with its control channel on)\n");
	free(pids);
	return 0;
}
