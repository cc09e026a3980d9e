/*
 * export.c - `markers export --format=chrome DIR`: the Chrome trace-event
 * JSON that chrome://tracing, Perfetto (ui.perfetto.dev) and speedscope open;
 * `--format=perfetto` is export_perfetto.c.
 *
 * Every event becomes an instant event ("ph":"i") with its fields as args,
 * on the track of its thread, inside its process (one Chrome "pid" per
 * traced process, named after it; one "tid" per thread).  A trace without
 * thread ids (an older tracer) gets a track per CPU instead.  Markers that
 * pair by name, NAME_start with NAME_done (also _begin/_enter/_entry with
 * _end/_stop/_exit/_finish/_return), become async slices ("ph":"b"/"e")
 * too, matched by an `id`-like field when they have one, else
 * innermost-first on the same track.  Async slices, unlike complete events,
 * need no nesting, which a thread that migrates between the two markers
 * would break.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "export.h"
#include "pairs.h"
#include "proc_select.h"
#include "trace_format.h"
#include "trace_reader.h"
#include "trace_summary.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: %s export --format=chrome|perfetto [-o FILE] [--pid PIDS] [--no-pairs] DIR\n"
		   "       %s export --format=chrome|perfetto --pair BEGIN,END[:KEY]... [-o FILE] DIR\n"
		   "\n"
		   "Convert the recording in DIR, on standard output or into FILE, to Chrome\n"
		   "trace-event JSON (chrome://tracing, ui.perfetto.dev) or to Perfetto's own\n"
		   "protobuf format (ui.perfetto.dev, trace_processor).  Each event is an instant\n"
		   "event with its fields as args, on the track of its thread, grouped by\n"
		   "process; NAME_start/NAME_done pairs (and _begin/_end, _enter/_exit...) also\n"
		   "become slices named NAME.\n"
		   "\n"
		   "  -f, --format FMT  chrome (JSON) or perfetto (protobuf, binary)\n"
		   "  -o, --output FILE write to FILE instead of standard output\n"
		   "  -p, --pid PIDS    only these processes (comma-separated; repeatable)\n"
		   "      --no-pairs    no slices, instant events only\n"
		   "      --pair BEGIN,END[:KEY]\n"
		   "                    instead of the guess by names, each BEGIN and its END\n"
		   "                    (by the field KEY within a process, or by thread and\n"
		   "                    nesting) become one slice (chrome: on BEGIN's thread)\n"
		   "                    with both events' fields; repeatable\n"
		   "  -h, --help        this help\n",
		   cli_progname, cli_progname);
}

/* ---- JSON ---- */

/* A JSON string: escapes, and bytes that are not UTF-8 as U+FFFD. */
static void json_str(FILE *f, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + len;

	putc_unlocked('"', f);
	while (p < e) {
		unsigned c = *p, n = 0;

		if (c == '"' || c == '\\') {
			putc_unlocked('\\', f);
			putc_unlocked(c, f);
			p++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			p++;
			continue;
		}
		if (c < 0x80) {
			putc_unlocked(c, f);
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3;
		if (n && (size_t)(e - p) > n) {
			unsigned i;

			for (i = 1; i <= n && (p[i] & 0xc0) == 0x80; i++)
				;
			/* Overlong or surrogate forms are not UTF-8 either. */
			if (i > n && !(c == 0xe0 && p[1] < 0xa0) && !(c == 0xed && p[1] >= 0xa0) &&
			    !(c == 0xf0 && p[1] < 0x90) && !(c == 0xf4 && p[1] >= 0x90)) {
				fwrite(p, 1, n + 1, f);
				p += n + 1;
				continue;
			}
		}
		fputs("\\ufffd", f);
		p++;
	}
	putc_unlocked('"', f);
}

static void json_cstr(FILE *f, const char *s)
{
	json_str(f, s, strlen(s));
}

/*
 * Integers beyond 2^53 are strings: JavaScript viewers would round them.
 * Pointers and other hexadecimal fields are "0x..." strings.
 */
static void json_int(FILE *f, const struct tr_node *n)
{
	if (n->base == 16)
		fprintf(f, "\"0x%" PRIx64 "\"", n->u);
	else if (n->kind == TR_SIGNED && (n->s > (1ll << 53) || n->s < -(1ll << 53)))
		fprintf(f, "\"%" PRId64 "\"", n->s);
	else if (n->kind == TR_SIGNED)
		fprintf(f, "%" PRId64, n->s);
	else if (n->u > (1ull << 53))
		fprintf(f, "\"%" PRIu64 "\"", n->u);
	else
		fprintf(f, "%" PRIu64, n->u);
}

static size_t json_value(FILE *f, const struct tr_node *n, size_t i, size_t count)
{
	const struct tr_node *v = &n[i];
	char buf[40];
	int first = 1;

	switch (v->kind) {
	case TR_SIGNED:
	case TR_UNSIGNED:
		json_int(f, v);
		break;
	case TR_FLOAT:
		tr_format_double(v->d, v->base == 32, buf, sizeof(buf));
		/* JSON has no NaN or infinity. */
		fputs(strchr(buf, 'n') ? "null" : buf, f);
		break;
	case TR_STRING:
		json_str(f, v->str, v->len);
		break;
	case TR_ENUM:
		if (v->str)
			json_cstr(f, v->str);
		else
			fprintf(f, v->is_signed ? "%" PRId64 : "%" PRIu64, v->u);
		break;
	case TR_BEGIN_STRUCT:
	case TR_BEGIN_ARRAY:
		putc_unlocked(v->kind == TR_BEGIN_STRUCT ? '{' : '[', f);
		for (i++; i < count && n[i].kind != TR_END;) {
			if (!first)
				putc_unlocked(',', f);
			first = 0;
			if (v->kind == TR_BEGIN_STRUCT) {
				json_cstr(f, n[i].name ? n[i].name : "");
				putc_unlocked(':', f);
			}
			i = json_value(f, n, i, count);
		}
		putc_unlocked(v->kind == TR_BEGIN_STRUCT ? '}' : ']', f);
		break;
	case TR_END:
		break;
	}
	return i + 1;
}

/* The fields of @ev as the members of a JSON object (no braces). */
static void json_fields(FILE *f, const struct tr_event *ev, int first)
{
	for (size_t i = 0; i < ev->nfields;) {
		const struct tr_node *n = &ev->fields[i];

		/* The thread and process ids are the track already. */
		if (i < ev->ncontext && n->name &&
		    (n->kind == TR_SIGNED || n->kind == TR_UNSIGNED) &&
		    (!strcmp(n->name, "vtid") || !strcmp(n->name, "vpid"))) {
			i++;
			continue;
		}
		if (!first)
			putc_unlocked(',', f);
		first = 0;
		json_cstr(f, ev->fields[i].name ? ev->fields[i].name : "");
		putc_unlocked(':', f);
		i = json_value(f, ev->fields, i, ev->nfields);
	}
}

/* ---- pairing NAME_start with NAME_done (export.h) ---- */

static const char *const start_suffixes[] = {"_start", "_begin", "_enter", "_entry", NULL};
static const char *const end_suffixes[] = {"_done", "_end", "_stop", "_exit", "_finish",
					   "_return", NULL};

/* The length of @name without a suffix of @list, or 0. */
static size_t strip(const char *name, const char *const *list)
{
	size_t n = strlen(name);

	for (; *list; list++) {
		size_t k = strlen(*list);

		if (n > k && !strcmp(name + n - k, *list))
			return n - k;
	}
	return 0;
}

enum pair_role pair_role(const char *name, size_t *prefix)
{
	if ((*prefix = strip(name, start_suffixes)))
		return PAIR_START;
	if ((*prefix = strip(name, end_suffixes)))
		return PAIR_END;
	return PAIR_NONE;
}

struct open_slice {
	struct open_slice *next; /* in its bucket, newest first */
	char *key;
	struct slice_start start;
};

/* The Chrome process of @ev: its pid, else a number for its trace. */
static int64_t chrome_pid(const struct tr_event *ev)
{
	return ev->pid >= 0 ? ev->pid : (int64_t)ev->proc + 1;
}

/* The Chrome thread of @ev: its tid, else (no thread ids) its CPU. */
static int64_t chrome_tid(const struct tr_event *ev)
{
	return ev->tid >= 0 ? ev->tid : ev->cpu;
}

/*
 * The key of a slice: its name, and the value of its first `id` or `*_id`
 * field, or failing that its track.
 */
static char *slice_key(const struct tr_event *ev, size_t prefix)
{
	char *key = NULL;
	size_t len;
	FILE *f = open_memstream(&key, &len);

	if (!f)
		return NULL;
	fprintf(f, "%.*s", (int)prefix, ev->name);
	for (size_t i = 0; i < ev->nfields; i++) {
		const struct tr_node *n = &ev->fields[i];
		size_t l = n->name ? strlen(n->name) : 0;

		if ((n->kind == TR_SIGNED || n->kind == TR_UNSIGNED || n->kind == TR_STRING) &&
		    l && (!strcmp(n->name, "id") || (l > 3 && !strcmp(n->name + l - 3, "_id")))) {
			fprintf(f, "\x1f%s=", n->name);
			if (n->kind == TR_STRING)
				fwrite(n->str, 1, n->len, f);
			else
				fprintf(f, "%" PRIu64, n->u);
			fclose(f);
			return key;
		}
	}
	fprintf(f, "\x1f@%" PRId64 "/%" PRId64, chrome_pid(ev), chrome_tid(ev));
	fclose(f);
	return key;
}

static size_t hash(const char *s, size_t n)
{
	size_t h = 1469598103u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % n;
}

int pairs_init(struct pairs *p)
{
	memset(p, 0, sizeof(*p));
	p->nbuckets = 4096;
	p->buckets = calloc(p->nbuckets, sizeof(*p->buckets));
	return p->buckets ? 0 : -1;
}

int pair_start(struct pairs *p, const struct tr_event *ev, size_t prefix)
{
	struct open_slice *o = malloc(sizeof(*o));
	size_t b;

	if (!o || !(o->key = slice_key(ev, prefix))) {
		free(o);
		return -1;
	}
	o->start.ts = ev->ts;
	o->start.pid = chrome_pid(ev);
	o->start.tid = chrome_tid(ev);
	o->start.proc = ev->proc;
	b = hash(o->key, p->nbuckets);
	o->next = p->buckets[b];
	p->buckets[b] = o;
	return 0;
}

int pair_end(struct pairs *p, const struct tr_event *ev, size_t prefix, struct slice_start *start)
{
	char *key = slice_key(ev, prefix);
	struct open_slice **pp, *o;

	if (!key)
		return -1;
	for (pp = &p->buckets[hash(key, p->nbuckets)]; (o = *pp); pp = &o->next)
		if (!strcmp(o->key, key))
			break;
	free(key);
	if (!o)
		return 0; /* its start is not in the trace */
	*pp = o->next;
	*start = o->start;
	p->emitted++;
	free(o->key);
	free(o);
	return 1;
}

void pairs_free(struct pairs *p)
{
	for (size_t i = 0; i < p->nbuckets; i++)
		while (p->buckets[i]) {
			struct open_slice *o = p->buckets[i];

			p->buckets[i] = o->next;
			free(o->key);
			free(o);
		}
	free(p->buckets);
	p->buckets = NULL;
}

static void ts_us(FILE *f, int64_t ns, int64_t t0)
{
	int64_t d = ns - t0;

	fprintf(f, "%s%" PRId64 ".%03" PRId64, d < 0 ? "-" : "", (d < 0 ? -d : d) / 1000,
		(d < 0 ? -d : d) % 1000);
}

/* An async slice from @o to @ev, which ends it. */
static void chrome_slice(FILE *f, const struct tr_event *ev, size_t prefix,
			 const struct slice_start *o, uint64_t id, int64_t t0)
{
	fprintf(f, ",\n{\"ph\":\"b\",\"cat\":\"markers\",\"name\":\"%.*s\",\"id\":%" PRIu64
		   ",\"pid\":%" PRId64 ",\"tid\":%" PRId64 ",\"ts\":",
		(int)prefix, ev->name, id, o->pid, o->tid);
	ts_us(f, o->ts, t0);
	fprintf(f, "}");
	fprintf(f, ",\n{\"ph\":\"e\",\"cat\":\"markers\",\"name\":\"%.*s\",\"id\":%" PRIu64
		   ",\"pid\":%" PRId64 ",\"tid\":%" PRId64 ",\"ts\":",
		(int)prefix, ev->name, id, o->pid, o->tid);
	ts_us(f, ev->ts, t0);
	fprintf(f, ",\"args\":{");
	json_fields(f, ev, 1);
	fprintf(f, "}}");
}

/* ---- the export ---- */

/* Tracks already described (process and thread metadata written). */
struct tracks {
	struct track {
		int64_t pid, tid;
	} *v;
	size_t n, cap;
};

static int track_seen(struct tracks *t, int64_t pid, int64_t tid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].pid == pid && t->v[i].tid == tid)
			return 1;
	if (t->n == t->cap) {
		struct track *m = realloc(t->v, (t->cap ? t->cap * 2 : 16) * sizeof(*m));

		if (!m)
			return 1;
		t->v = m;
		t->cap = t->cap ? t->cap * 2 : 16;
	}
	t->v[t->n].pid = pid;
	t->v[t->n++].tid = tid;
	return 0;
}

/* Name each process (pid) once, sorted in the order of the recording. */
static void describe_processes(struct tr_trace *t, FILE *f)
{
	int first = 1;

	for (unsigned p = 0; p < tr_nprocs(t); p++) {
		const struct tr_process *pi = tr_proc(t, p);
		int64_t pid = pi->pid >= 0 ? pi->pid : (int64_t)p + 1;

		if (tr_select_active(t) && !pi->selected)
			continue;
		fprintf(f, "%s\n{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%" PRId64
			   ",\"tid\":0,\"args\":{\"name\":",
			first ? "" : ",", pid);
		first = 0;
		json_cstr(f, pi->name);
		fprintf(f, "}},\n{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":%" PRId64
			   ",\"tid\":0,\"args\":{\"sort_index\":%u}}",
			pid, p);
	}
}

/* Name the track of @ev: "THREADNAME TID", or "cpu N" in a trace without thread ids. */
static void describe_track(struct tr_trace *t, FILE *f, const struct tr_event *ev)
{
	int64_t pid = chrome_pid(ev), tid = chrome_tid(ev);
	const char *pname = tr_proc(t, ev->proc)->name;

	fprintf(f, ",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%" PRId64
		   ",\"tid\":%" PRId64 ",\"args\":{\"name\":",
		pid, tid);
	if (ev->tid < 0) {
		fprintf(f, "\"cpu %" PRId64 "\"", ev->cpu);
	} else {
		/* The thread's name from the trace (env thread_name_TID), else the process's. */
		const struct tm_env *e;
		char key[48], name[96];

		snprintf(key, sizeof(key), "thread_name_%" PRId64, ev->tid);
		e = tm_env_find(tr_proc(t, ev->proc)->meta, key);
		if (e && e->str && *e->str)
			snprintf(name, sizeof(name), "%.64s %" PRId64, e->str, ev->tid);
		else
			snprintf(name, sizeof(name), "%.64s %" PRId64, pname, ev->tid);
		json_cstr(f, name);
	}
	/* The main thread first, then by thread id (or CPU). */
	fprintf(f, "}},\n{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":%" PRId64
		   ",\"tid\":%" PRId64 ",\"args\":{\"sort_index\":%" PRId64 "}}",
		pid, tid, ev->tid >= 0 && ev->tid == ev->pid ? -1 : tid);
}

/*
 * A pair of --pair: one complete slice ("ph":"X") on the BEGIN's thread,
 * from BEGIN to END, named after BEGIN (without its _start-like suffix),
 * with both events' fields as args "begin" and "end".
 */
static void pair_slice(FILE *f, const struct pair_match *m, int64_t t0)
{
	const struct pair_event *b = m->begin;
	struct tr_event be = {.pid = b->pid, .tid = b->tid, .cpu = b->cpu, .proc = b->proc,
			      .fields = b->fields, .nfields = b->nfields, .ncontext = b->ncontext};
	size_t prefix = strip(b->name, start_suffixes);

	fprintf(f, ",\n{\"ph\":\"X\",\"cat\":\"markers\",\"name\":\"%.*s\",\"pid\":%" PRId64
		   ",\"tid\":%" PRId64 ",\"ts\":",
		(int)(prefix ? prefix : strlen(b->name)), b->name, chrome_pid(&be), chrome_tid(&be));
	ts_us(f, b->ts, t0);
	fprintf(f, ",\"dur\":");
	ts_us(f, m->end->ts, b->ts);
	fprintf(f, ",\"args\":{\"begin\":{");
	json_fields(f, &be, 1);
	fprintf(f, "},\"end\":{");
	json_fields(f, m->end, 1);
	fprintf(f, "}}}");
}

void pair_opts_report(const struct pair_opts *po)
{
	for (size_t i = 0; i < po->n; i++) {
		struct pair_counts c;

		pair_counts(po->pm[i], &c);
		fprintf(stderr, "%s export: pair %s,%s: %" PRIu64 " slices, %" PRIu64
				" %s without %s, %" PRIu64 " %s without %s\n",
			cli_progname, po->spec[i].begin, po->spec[i].end, c.matched, c.open_begins,
			po->spec[i].begin, po->spec[i].end, c.orphan_ends, po->spec[i].end,
			po->spec[i].begin);
	}
}

static int export_chrome(struct tr_trace *t, FILE *f, const char *dir, int pairs_on,
			 struct pair_opts *po)
{
	int64_t t0 = 0;
	struct pairs p;
	struct tracks tracks = {0};
	uint64_t nevents = 0, nlost = 0;
	struct tr_event ev;
	int rc, first = 1, status = 0;

	if (pairs_init(&p) < 0) {
		fprintf(stderr, "%s export: out of memory\n", cli_progname);
		return 1;
	}
	fprintf(f, "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"trace\":");
	json_cstr(f, dir);
	fprintf(f, ",\"exporter\":\"markers\"},\n\"traceEvents\":[");
	describe_processes(t, f);
	while ((rc = tr_next(t, &ev)) > 0) {
		int64_t pid = chrome_pid(&ev), tid = chrome_tid(&ev);
		struct slice_start start;
		size_t prefix;

		if (first) {
			t0 = ev.ts; /* microseconds from here: a double keeps the nanoseconds */
			first = 0;
		}
		if (!track_seen(&tracks, pid, tid))
			describe_track(t, f, &ev);
		if (ev.kind == TR_LOST) {
			fprintf(f, ",\n{\"ph\":\"i\",\"s\":\"p\",\"cat\":\"lost\",\"name\":\"lost "
				   "events\",\"pid\":%" PRId64 ",\"tid\":%" PRId64 ",\"ts\":",
				pid, tid);
			ts_us(f, ev.ts, t0);
			fprintf(f, ",\"args\":{\"events\":%" PRIu64 ",\"packets\":%" PRIu64
				   ",\"cpu\":%" PRId64 "}}",
				ev.lost_events, ev.lost_packets, ev.cpu);
			nlost += ev.lost_events;
			continue;
		}
		nevents++;
		fprintf(f, ",\n{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"markers\",\"name\":");
		json_cstr(f, ev.name);
		fprintf(f, ",\"pid\":%" PRId64 ",\"tid\":%" PRId64 ",\"ts\":", pid, tid);
		ts_us(f, ev.ts, t0);
		fprintf(f, ",\"args\":{");
		json_fields(f, &ev, 1);
		fprintf(f, "}}");
		if (!pairs_on)
			continue;
		/* --pair: these pairs, and no guess from the names. */
		for (size_t i = 0; i < po->n && rc >= 0; i++) {
			struct pair_match m;

			rc = pair_feed(po->pm[i], &ev, &m);
			if (rc > 0) {
				pair_slice(f, &m, t0);
				p.emitted++;
			}
		}
		switch (po->n ? PAIR_NONE : pair_role(ev.name, &prefix)) {
		case PAIR_START:
			rc = pair_start(&p, &ev, prefix);
			break;
		case PAIR_END:
			rc = pair_end(&p, &ev, prefix, &start);
			if (rc > 0)
				chrome_slice(f, &ev, prefix, &start, p.emitted - 1, t0);
			break;
		case PAIR_NONE:
			break;
		}
		if (rc < 0) {
			fprintf(stderr, "%s export: out of memory\n", cli_progname);
			status = 1;
			break;
		}
	}
	/* Close the JSON even after an error: what was read stays usable. */
	fprintf(f, "\n]}\n");
	if (rc < 0 && !status) {
		fprintf(stderr, "%s export: %s\n", cli_progname, tr_error(t));
		status = 1;
	}
	if (!status)
		fprintf(stderr, "%s export: %" PRIu64 " events, %" PRIu64 " slices, %" PRIu64
				" lost\n",
			cli_progname, nevents, p.emitted, nlost);
	if (!status)
		pair_opts_report(po);
	warn_unfinished(t, "export");
	pairs_free(&p);
	free(tracks.v);
	return status;
}

int cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{"format", required_argument, NULL, 'f'},
		{"output", required_argument, NULL, 'o'},
		{"pid", required_argument, NULL, 'p'},
		{"no-pairs", no_argument, NULL, 'P'},
		{"pair", required_argument, NULL, 'A'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	static char outbuf[1 << 16];
	const char *format = NULL, *output = NULL;
	struct pid_list pids = {0};
	struct pair_opts po = {0};
	int opt, pairs_on = 1, status = 2;
	struct tr_trace *t = NULL;
	char err[600];
	FILE *f = stdout;

	char *pos[argc];
	size_t npos = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "-f:o:p:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'A':
			if (po.n == MAX_PAIRS) {
				fprintf(stderr, "%s export: at most %d --pair\n", cli_progname,
					MAX_PAIRS);
				goto out;
			}
			if (pair_spec_parse(optarg, &po.spec[po.n], err, sizeof(err)) < 0) {
				fprintf(stderr, "%s export: %s\n", cli_progname, err);
				goto out;
			}
			po.pm[po.n] = pair_matcher_new(&po.spec[po.n]);
			if (!po.pm[po.n++]) {
				fprintf(stderr, "%s export: out of memory\n", cli_progname);
				goto out;
			}
			break;
		case 1: /* a positional argument, wherever it is (options may follow) */
			pos[npos++] = optarg;
			break;
		case 'f':
			format = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'p':
			if (pid_list_parse(&pids, optarg, "export") < 0)
				goto out;
			break;
		case 'P':
			pairs_on = 0;
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
	if (!format || (strcmp(format, "chrome") && strcmp(format, "perfetto"))) {
		fprintf(stderr, "%s export: %s (--format=chrome or --format=perfetto)\n",
			cli_progname, format ? "unknown format" : "which format?");
		goto out;
	}
	if (!strcmp(format, "perfetto") && !output && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "%s export: the Perfetto format is binary: redirect standard "
				"output or use -o FILE\n",
			cli_progname);
		goto out;
	}
	while (optind < argc) /* after "--" */
		pos[npos++] = argv[optind++];
	if (npos != 1) {
		fprintf(stderr, "%s export: %s\n", cli_progname,
			!npos ? "which trace? (markers export --format=chrome DIR)"
				       : "one trace at a time");
		goto out;
	}
	status = 1;
	if (tr_open(pos[0], &t, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s export: %s\n", cli_progname, err);
		goto out;
	}
	if (pids.n && tr_select(t, pids.v, pids.n) < (int)pids.n) {
		pid_list_missing(&pids, t, "export", pos[0]);
		goto out;
	}
	if (output && !(f = fopen(output, "w"))) {
		fprintf(stderr, "%s export: cannot write %s: %m\n", cli_progname, output);
		goto out;
	}
	setvbuf(f, outbuf, _IOFBF, sizeof(outbuf));
	if (po.n && !pairs_on) {
		fprintf(stderr, "%s export: --pair and --no-pairs contradict each other\n",
			cli_progname);
		status = 2;
		goto out;
	}
	if (!strcmp(format, "perfetto"))
		status = export_perfetto(t, f, pos[0], pairs_on, &po);
	else
		status = export_chrome(t, f, pos[0], pairs_on, &po);
	if ((fflush(f) || ferror(f) || (output && fclose(f))) && !status) {
		fprintf(stderr, "%s export: cannot write %s\n", cli_progname,
			output ? output : "the output");
		status = 1;
	}
out:
	for (size_t i = 0; i < po.n; i++) {
		pair_matcher_free(po.pm[i]);
		pair_spec_free(&po.spec[i]);
	}
	tr_close(t);
	free(pids.v);
	return status;
}
