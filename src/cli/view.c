/*
 * view.c - `markers view DIR`: the events of a recording as text, one a
 * line, in timestamp order across CPUs and processes.
 *
 *	13:01:02.123456789 cpu1 4242/4245 request_done id=3 status="cached" latency_ns=1234
 *	13:01:02.200000000 cpu0 4242 *** lost 42 events
 */
#define _GNU_SOURCE
#include <fnmatch.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "proc_select.h"
#include "trace_format.h"
#include "trace_reader.h"
#include "trace_summary.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: %s view [--name GLOB]... [--pid PID[,PID...]] [--limit N] [--seconds] DIR\n"
		   "\n"
		   "Print the events of the recording in DIR as text, one a line, merged across\n"
		   "CPUs and processes in timestamp order: time, cpu, pid/tid (? where the trace\n"
		   "does not say), marker name, then field=value for each argument.  Events the\n"
		   "tracer had to drop show as '*** lost N events' where they were lost.\n"
		   "\n"
		   "  -n, --name GLOB   only markers whose name matches GLOB (fnmatch); repeatable\n"
		   "  -p, --pid PIDS    only these processes (comma-separated; repeatable)\n"
		   "  -l, --limit N     stop after N events\n"
		   "  -s, --seconds     time as seconds since the Epoch, not the local time of day\n"
		   "  -h, --help        this help\n",
		   cli_progname);
}

static void put_string(FILE *f, const char *s, size_t len)
{
	putc_unlocked('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\') {
			putc_unlocked('\\', f);
			putc_unlocked(c, f);
		} else if (c == '\n') {
			fputs("\\n", f);
		} else if (c == '\t') {
			fputs("\\t", f);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\x%02x", c);
		} else {
			putc_unlocked(c, f);
		}
	}
	putc_unlocked('"', f);
}

/* Decimal digits of @v without printf: the view prints millions of them. */
static void put_u64(FILE *f, uint64_t v)
{
	char buf[24], *p = buf + sizeof(buf);

	do
		*--p = '0' + v % 10;
	while (v /= 10);
	fwrite_unlocked(p, 1, buf + sizeof(buf) - p, f);
}

static void put_s64(FILE *f, int64_t v)
{
	if (v < 0) {
		putc_unlocked('-', f);
		put_u64(f, -(uint64_t)v);
	} else {
		put_u64(f, (uint64_t)v);
	}
}

static void put_int(FILE *f, const struct tr_node *n)
{
	switch (n->base) {
	case 16:
		fprintf(f, "0x%" PRIx64, n->u);
		break;
	case 8:
		fprintf(f, "0%" PRIo64, n->u);
		break;
	case 2: {
		int i = 63;

		while (i > 0 && !((n->u >> i) & 1))
			i--;
		fputs("0b", f);
		for (; i >= 0; i--)
			putc_unlocked('0' + ((n->u >> i) & 1), f);
		break;
	}
	default:
		if (n->kind == TR_SIGNED)
			put_s64(f, n->s);
		else
			put_u64(f, n->u);
	}
}

/* Print the nodes from @i; returns the index after the value printed. */
static size_t put_value(FILE *f, const struct tr_node *n, size_t i, size_t count)
{
	const struct tr_node *v = &n[i];
	int first = 1;

	switch (v->kind) {
	case TR_SIGNED:
	case TR_UNSIGNED:
		put_int(f, v);
		return i + 1;
	case TR_FLOAT: {
		char buf[40];

		tr_format_double(v->d, v->base == 32, buf, sizeof(buf));
		fputs(buf, f);
		return i + 1;
	}
	case TR_STRING:
		put_string(f, v->str, v->len);
		return i + 1;
	case TR_ENUM:
		if (v->str)
			fputs_unlocked(v->str, f);
		else if (v->is_signed)
			put_s64(f, v->s);
		else
			put_u64(f, v->u);
		return i + 1;
	case TR_BEGIN_STRUCT:
	case TR_BEGIN_ARRAY:
		putc_unlocked(v->kind == TR_BEGIN_STRUCT ? '{' : '[', f);
		for (i++; i < count && n[i].kind != TR_END;) {
			if (!first)
				fputs(", ", f);
			first = 0;
			if (n[i].name) {
				fputs_unlocked(n[i].name, f);
				putc_unlocked('=', f);
			}
			i = put_value(f, n, i, count);
		}
		putc_unlocked(v->kind == TR_BEGIN_STRUCT ? '}' : ']', f);
		return i + 1;
	case TR_END:
		break;
	}
	return i + 1;
}

/*
 * The time of @ns: "HH:MM:SS.nnnnnnnnn" (local), or seconds since the
 * Epoch.  The date part is worked out once per second, not once per event.
 */
static void put_time(FILE *f, int64_t ns, int seconds)
{
	static int64_t cached_sec = INT64_MIN;
	static char prefix[56];
	int64_t sec = ns / 1000000000, frac = ns % 1000000000;
	char digits[9];

	if (frac < 0) {
		frac += 1000000000;
		sec--;
	}
	if (sec != cached_sec) {
		char buf[48], *dot;

		tr_format_time(sec * 1000000000, seconds, buf, sizeof(buf));
		dot = strrchr(buf, '.');
		if (dot)
			*dot = 0;
		snprintf(prefix, sizeof(prefix), "%s.", buf);
		cached_sec = sec;
	}
	fputs_unlocked(prefix, f);
	for (int i = 8; i >= 0; i--, frac /= 10)
		digits[i] = '0' + frac % 10;
	fwrite_unlocked(digits, 1, 9, f);
}

/* Context fields that the pid/tid column shows already. */
static int is_id_field(const struct tr_node *n)
{
	return (n->kind == TR_SIGNED || n->kind == TR_UNSIGNED) && n->name &&
	       (!strcmp(n->name, "vtid") || !strcmp(n->name, "tid") ||
		!strcmp(n->name, "vpid") || !strcmp(n->name, "pid"));
}

static void put_event(FILE *f, const struct tr_event *ev, int seconds)
{
	put_time(f, ev->ts, seconds);
	if (ev->cpu >= 0) {
		fputs_unlocked(" cpu", f);
		put_s64(f, ev->cpu);
		putc_unlocked(' ', f);
	} else {
		fputs_unlocked(" cpu? ", f);
	}
	if (ev->pid >= 0)
		put_s64(f, ev->pid);
	else
		putc_unlocked('?', f);
	if (ev->kind == TR_LOST) {
		fputs(" ***", f);
		if (ev->lost_events)
			fprintf(f, " lost %" PRIu64 " event%s", ev->lost_events,
				ev->lost_events == 1 ? "" : "s");
		if (ev->lost_packets)
			fprintf(f, "%s lost %" PRIu64 " packet%s", ev->lost_events ? "," : "",
				ev->lost_packets, ev->lost_packets == 1 ? "" : "s");
		putc_unlocked('\n', f);
		return;
	}
	putc_unlocked('/', f);
	if (ev->tid >= 0)
		put_s64(f, ev->tid);
	else
		putc_unlocked('?', f);
	putc_unlocked(' ', f);
	fputs_unlocked(ev->name, f);
	for (size_t i = 0; i < ev->nfields;) {
		if (i < ev->ncontext && is_id_field(&ev->fields[i])) {
			i++;
			continue;
		}
		putc_unlocked(' ', f);
		if (ev->fields[i].name) {
			fputs_unlocked(ev->fields[i].name, f);
			putc_unlocked('=', f);
		}
		i = put_value(f, ev->fields, i, ev->nfields);
	}
	putc_unlocked('\n', f);
}

static int matches(const char *name, char **globs, size_t nglobs)
{
	if (!nglobs)
		return 1;
	for (size_t i = 0; i < nglobs; i++)
		if (!fnmatch(globs[i], name, 0))
			return 1;
	return 0;
}

int cmd_view(int argc, char **argv)
{
	static const struct option opts[] = {
		{"name", required_argument, NULL, 'n'},
		{"pid", required_argument, NULL, 'p'},
		{"limit", required_argument, NULL, 'l'},
		{"seconds", no_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	static char outbuf[1 << 18];
	char **globs = calloc(argc, sizeof(*globs)), err[600], *end;
	size_t nglobs = 0;
	struct pid_list pids = {0};
	unsigned long long limit = 0, shown = 0;
	int seconds = 0, opt, rc = 0, status = 2;
	struct tr_trace *t;
	struct tr_event ev;

	if (!globs)
		return 1;
	char *pos[argc];
	size_t npos = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "-n:p:l:sh", opts, NULL)) != -1) {
		switch (opt) {
		case 1: /* a positional argument, wherever it is (options may follow) */
			pos[npos++] = optarg;
			break;
		case 'n':
			globs[nglobs++] = optarg;
			break;
		case 'p':
			if (pid_list_parse(&pids, optarg, "view") < 0)
				goto out;
			break;
		case 'l':
			limit = strtoull(optarg, &end, 10);
			if (*end || !*optarg || optarg[0] == '-') {
				fprintf(stderr, "%s view: bad --limit '%s'\n", cli_progname, optarg);
				goto out;
			}
			break;
		case 's':
			seconds = 1;
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
	if (npos != 1) {
		fprintf(stderr, "%s view: %s\n", cli_progname,
			!npos ? "which trace? (markers view DIR)" : "one trace at a time");
		goto out;
	}
	status = 1;
	if (tr_open(pos[0], &t, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s view: %s\n", cli_progname, err);
		goto out;
	}
	if (pids.n && tr_select(t, pids.v, pids.n) < (int)pids.n) {
		pid_list_missing(&pids, t, "view", pos[0]);
		tr_close(t);
		goto out;
	}
	status = 0;
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	while ((!limit || shown < limit) && (rc = tr_next(t, &ev)) > 0) {
		if (ev.kind == TR_EVENT && !matches(ev.name, globs, nglobs))
			continue;
		put_event(stdout, &ev, seconds);
		shown += ev.kind == TR_EVENT;
	}
	fflush(stdout);
	if ((!limit || shown < limit) && rc < 0) {
		fprintf(stderr, "%s view: %s\n", cli_progname, tr_error(t));
		status = 1;
	}
	if (ferror(stdout)) {
		fprintf(stderr, "%s view: cannot write the output\n", cli_progname);
		status = 1;
	}
	if (!limit || shown < limit)
		warn_unfinished(t, "view");
	tr_close(t);
out:
	free(pids.v);
	free(globs);
	return status;
}
