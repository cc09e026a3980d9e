/*
 * list.c - `markers list`: the markers of ELF files (offline), or of a
 * running process (-p PID, through its control channel).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <markers/abi.h>

#include "commands.h"
#include "control_client.h"
#include "elf_markers.h"
#include "proto.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: markers list [--json] FILE...\n"
		"       markers list [--json] -p PID[,PID...] | --all\n"
		"\n"
		"List markers: read from the marker sections of ELF executables and shared\n"
		"libraries (nothing is run), or the live view of a running process: each\n"
		"marker's state, its sites (kind, how they are switched, and why a site\n"
		"falls back to the memory flag) and the probes connected to it.\n"
		"\n"
		"  -p, --pid PIDS  list the markers of running processes (comma-separated;\n"
		"                  repeatable)\n"
		"      --all       of every process of yours that uses libmarkers (markers ps)\n"
		"      --json      one JSON document on stdout (one a line per process)\n"
		"  -h, --help      this text\n"
		"\n"
		"Exit status: 0 listed, 1 a file or process could not be read, 2 bad usage.\n");
}

static const char *type_name(char c)
{
	switch (c) {
	case MARKER_TYPE_S8: return "s8";
	case MARKER_TYPE_U8: return "u8";
	case MARKER_TYPE_S16: return "s16";
	case MARKER_TYPE_U16: return "u16";
	case MARKER_TYPE_S32: return "s32";
	case MARKER_TYPE_U32: return "u32";
	case MARKER_TYPE_S64: return "s64";
	case MARKER_TYPE_U64: return "u64";
	case MARKER_TYPE_FLOAT: return "float";
	case MARKER_TYPE_DOUBLE: return "double";
	case MARKER_TYPE_LDOUBLE: return "long-double";
	case MARKER_TYPE_STRING: return "string";
	case MARKER_TYPE_POINTER: return "pointer";
	}
	return "?";
}

static void print_args(const char *types, char *out, size_t cap)
{
	size_t o = 0;

	out[0] = 0;
	for (const char *t = types; t && *t && o < cap; t++)
		o += (size_t)snprintf(out + o, cap - o, "%s%s", o ? "," : "", type_name(*t));
	if (!o)
		snprintf(out, cap, "-");
}

static void json_str(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_args(const char *types)
{
	putchar('[');
	for (const char *t = types; t && *t; t++) {
		printf("%s", t == types ? "" : ",");
		json_str(type_name(*t));
	}
	putchar(']');
}

static const char *kinds_name(const struct elf_marker *m)
{
	if (m->kinds & (m->kinds - 1))
		return "mixed";
	return m->kind == MARKER_KIND_IMMEDIATE ? "immediate"
	       : m->kind == MARKER_KIND_JUMP	? "jump"
						: "generic";
}

/* Read a whole file into memory (mapped privately: libelf only reads it). */
static int map_file(const char *path, void **buf, size_t *size, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "not a regular file");
		close(fd);
		return -1;
	}
	*size = (size_t)st.st_size;
	*buf = *size ? mmap(NULL, *size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
	close(fd);
	if (*size && *buf == MAP_FAILED) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	return 0;
}

static void offline_text(const char *path, const struct elf_markers *m, int many)
{
	int wn = 4, wa = 4, wf = 6;
	char args[256];

	for (size_t i = 0; i < m->n; i++) {
		print_args(m->v[i].types, args, sizeof(args));
		wn = (int)strlen(m->v[i].name) > wn ? (int)strlen(m->v[i].name) : wn;
		wa = (int)strlen(args) > wa ? (int)strlen(args) : wa;
		wf = (int)strlen(m->v[i].format) + 2 > wf ? (int)strlen(m->v[i].format) + 2 : wf;
	}
	wf = wf > 48 ? 48 : wf;
	if (many)
		printf("%s:\n", path);
	printf("%zu marker%s (%s, %d-bit)\n", m->n, m->n == 1 ? "" : "s", m->machine, m->elfclass);
	if (!m->n)
		return;
	printf("%-*s  %-9s  %5s  %-*s  %-*s  %s\n", wn, "NAME", "KIND", "SITES", wa, "ARGS", wf,
	       "FORMAT", "LOCATION");
	for (size_t i = 0; i < m->n; i++) {
		const struct elf_marker *e = &m->v[i];
		int n;

		print_args(e->types, args, sizeof(args));
		printf("%-*s  %-9s  %5zu  %-*s  \"%s\"%n", wn, e->name, kinds_name(e), e->nsites, wa,
		       args, e->format, &n);
		n = (int)strlen(e->format) + 2;
		printf("%*s", n < wf ? wf - n : 0, "");
		for (size_t k = 0; k < e->nlocs; k++)
			printf("%s%s:%u", k ? ", " : "  ", e->locs[k].file, e->locs[k].line);
		if (e->format_mismatch)
			printf("  (sites disagree on the format: the others stay off)");
		putchar('\n');
	}
	if (m->nskipped)
		printf("(%zu descriptor%s of an unknown ABI version skipped)\n", m->nskipped,
		       m->nskipped == 1 ? "" : "s");
}

static void offline_json(const char *path, const struct elf_markers *m)
{
	printf("{\"file\":");
	json_str(path);
	printf(",\"machine\":\"%s\",\"class\":%d,\"markers\":[", m->machine, m->elfclass);
	for (size_t i = 0; i < m->n; i++) {
		const struct elf_marker *e = &m->v[i];

		printf("%s{\"name\":", i ? "," : "");
		json_str(e->name);
		printf(",\"format\":");
		json_str(e->format);
		printf(",\"types\":");
		json_str(e->types);
		printf(",\"args\":");
		json_args(e->types);
		printf(",\"kind\":\"%s\",\"sites\":%zu,\"format_mismatch\":%s,\"locations\":[",
		       kinds_name(e), e->nsites, e->format_mismatch ? "true" : "false");
		for (size_t k = 0; k < e->nlocs; k++) {
			printf("%s{\"file\":", k ? "," : "");
			json_str(e->locs[k].file);
			printf(",\"line\":%u}", e->locs[k].line);
		}
		printf("]}");
	}
	printf("]}");
}

static int list_files(int n, char **files, int json)
{
	int status = 0, printed = 0;

	if (json)
		putchar('[');
	for (int i = 0; i < n; i++) {
		struct elf_markers m;
		char err[256];
		void *buf = NULL;
		size_t size = 0;

		if (map_file(files[i], &buf, &size, err, sizeof(err)) < 0 ||
		    elf_markers_read(buf, size, &m, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s list: %s: %s\n", cli_progname, files[i], err);
			status = 1;
		} else {
			if (json) {
				printf("%s", printed ? "," : "");
				offline_json(files[i], &m);
			} else {
				printf("%s", printed ? "\n" : "");
				offline_text(files[i], &m, n > 1);
			}
			printed = 1;
			elf_markers_free(&m);
		}
		if (buf && size)
			munmap(buf, size);
	}
	if (json)
		printf("]\n");
	return status;
}

/* The live view: the reply's lines, see src/common/proto.h. */
#define MAXF 8

static int split(char *line, char **f)
{
	int n = 0;

	/* Escaped fields hold no raw tab: cut first, then unescape each field. */
	for (char *p = line; p && n < MAXF;) {
		char *tab = strchr(p, '\t');

		if (tab)
			*tab = 0;
		f[n++] = marker__ctl_unescape(p);
		p = tab ? tab + 1 : NULL;
	}
	for (int i = n; i < MAXF; i++)
		f[i] = "";
	return n;
}

struct live_marker {
	char *f[MAXF];
	int nf;
	int fallback, refused;
};

static const char *live_state(const struct live_marker *m, int nsites)
{
	if (!nsites)
		return "waiting"; /* probes know the name; no loaded object has it yet */
	if (strcmp(m->f[4], "1"))
		return "off";
	return m->fallback ? "on(flag)" : "on";
}

static int list_live(pid_t pid, int json)
{
	struct ctl_reply r;
	char err[512], *save = NULL, *lines[1 << 16];
	const char *argv[] = {"list"};
	size_t nl = 0;
	int rec = -1;

	if (ctl_request(pid, 1, argv, &r, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s list: %s\n", cli_progname, err);
		return 1;
	}
	if (r.status < 0) {
		fprintf(stderr, "%s list: process %d: %s\n", cli_progname, (int)pid,
			strerror(-r.status));
		free(r.text);
		return 1;
	}
	/* Lines are split in place; fields are split and unescaped as they are used. */
	for (char *l = strtok_r(r.text, "\n", &save); l && nl < sizeof(lines) / sizeof(*lines);
	     l = strtok_r(NULL, "\n", &save))
		lines[nl++] = l;
	for (size_t i = 0; i < nl; i++)
		if (lines[i][0] == 'R')
			rec = (int)i;
	if (json) {
		printf("{\"pid\":%d,\"recording\":", (int)pid);
	} else {
		printf("process %d: %d marker%s", (int)pid, r.status, r.status == 1 ? "" : "s");
	}
	if (rec >= 0) {
		char *f[MAXF];
		int n = split(lines[rec], f);

		if (n >= 4)
			printf(json ? "{\"recorded\":%s,\"discarded\":%s,\"bytes\":%s}"
				    : "; recording: %s events, %s lost, %s bytes",
			       f[1], json ? f[2] : f[2], f[3]);
		else if (json)
			printf("null");
	} else if (json) {
		printf("null");
	}
	printf(json ? ",\"markers\":[" : "\n");
	int first = 1;
	for (size_t i = 0; i < nl; i++) {
		struct live_marker m = {0};
		size_t k;
		int nsites = 0;
		char args[256];

		if (lines[i][0] != 'M')
			continue;
		m.nf = split(lines[i], m.f);
		if (m.nf < 7) {
			fprintf(stderr, "%s list: malformed reply from process %d\n", cli_progname,
				(int)pid);
			free(r.text);
			return 1;
		}
		/* Its S and P lines follow it. */
		for (k = i + 1; k < nl && lines[k][0] != 'M' && lines[k][0] != 'R'; k++) {
			if (lines[k][0] == 'S') {
				nsites++;
				m.fallback |= strstr(lines[k], "\tfallback\t") != NULL;
				m.refused |= strstr(lines[k], "\trefused\t") != NULL;
			}
		}
		print_args(m.f[3], args, sizeof(args));
		if (json) {
			printf("%s{\"name\":", first ? "" : ",");
			json_str(m.f[1]);
			printf(",\"format\":");
			json_str(m.f[2]);
			printf(",\"types\":");
			json_str(m.f[3]);
			printf(",\"args\":");
			json_args(m.f[3]);
			printf(",\"state\":\"%s\",\"enabled\":%s,\"sites\":[", live_state(&m, nsites),
			       strcmp(m.f[4], "1") ? "false" : "true");
		} else {
			printf("%-24s %-8s %s  \"%s\"\n", m.f[1], live_state(&m, nsites), args,
			       m.f[2]);
		}
		first = 0;
		int fs = 1, fp = 1;
		for (size_t j = i + 1; j < k; j++) {
			char *f[MAXF];
			int n = lines[j][0] == 'S' ? split(lines[j], f) : 0;

			if (n >= 8) {
				if (json) {
					printf("%s{\"kind\":", fs ? "" : ",");
					json_str(f[1]);
					printf(",\"mode\":");
					json_str(f[2]);
					printf(",\"object\":");
					json_str(f[3]);
					printf(",\"file\":");
					json_str(f[4]);
					printf(",\"line\":%ld,\"address\":", strtol(f[5], NULL, 10));
					json_str(f[6]);
					printf(",\"reason\":");
					json_str(f[7]);
					printf("}");
					fs = 0;
				} else {
					printf("    site  %-9s %-8s %s:%s  %s%s%s\n", f[1], f[2], f[4],
					       f[5], f[3], *f[7] ? "  -- " : "", f[7]);
				}
			}
		}
		if (json)
			printf("],\"probes\":[");
		for (size_t j = i + 1; j < k; j++) {
			char *f[MAXF];
			int n = lines[j][0] == 'P' ? split(lines[j], f) : 0;

			if (n >= 3) {
				if (json) {
					printf("%s{\"probe\":", fp ? "" : ",");
					json_str(f[1]);
					printf(",\"glob\":");
					*f[2] ? json_str(f[2]) : (void)printf("null");
					printf("}");
					fp = 0;
				} else {
					printf("    probe %s%s%s\n", f[1], *f[2] ? "  via " : "", f[2]);
				}
			}
		}
		if (json)
			printf("]}");
		i = k - 1;
	}
	if (json)
		printf("]}\n");
	free(r.text);
	return 0;
}

int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"pid", required_argument, NULL, 'p'},
		{"all", no_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	char *pos[argc];
	size_t npos = 0, npids = 0;
	pid_t *pids = NULL;
	int json = 0, all = 0, c, status = 2;

	optind = 1;
	while ((c = getopt_long(argc, argv, "-p:h", opts, NULL)) != -1) {
		switch (c) {
		case 1: /* a file, wherever it is (options may follow) */
			pos[npos++] = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'p':
			if (ctl_parse_pids(optarg, &pids, &npids) < 0) {
				fprintf(stderr, "%s list: '%s' is not a process id (or a list: 12,34)\n",
					cli_progname, optarg);
				goto out;
			}
			break;
		case 'a':
			all = 1;
			break;
		case 'h':
			usage(stdout);
			status = 0;
			goto out;
		default:
			usage(stderr);
			goto out;
		}
	}
	while (optind < argc) /* after "--" */
		pos[npos++] = argv[optind++];
	if (npids || all) {
		if (npos) {
			fprintf(stderr, "%s list: -p PID and --all take no files\n", cli_progname);
			goto out;
		}
		if (all && npids) {
			fprintf(stderr, "%s list: -p PID or --all: one or the other\n", cli_progname);
			goto out;
		}
		if (all) {
			int n = ctl_list_pids(&pids);

			if (n < 0) {
				fprintf(stderr, "%s list: out of memory\n", cli_progname);
				status = 1;
				goto out;
			}
			npids = (size_t)n;
		}
		status = 0;
		for (size_t i = 0; i < npids; i++) {
			if (i && !json)
				putchar('\n');
			/* With --all, a process that ended meanwhile is no failure. */
			if (list_live(pids[i], json) && !all)
				status = 1;
		}
		goto out;
	}
	if (!npos) {
		usage(stderr);
		goto out;
	}
	status = list_files((int)npos, pos, json);
out:
	free(pids);
	return status;
}
