/*
 * handlers.c - what the control channel's commands do inside the process.
 *
 * enable/disable act on the recording when one is running (the tracer's
 * own globs), else on the print probe, which writes to the process's
 * stderr or MARKERS_PRINT_FILE.  The print probe is connected by glob, as
 * MARKERS_PRINT does, so that objects loaded later follow; disabling part
 * of a glob turns the rest of it into per-name connections.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "markers.h"
#include "markers/tracer.h"
#include "control.h"
#include "print_probe.h"
#include "tracer/tr_filter.h"
#include "proto.h"

/*
 * Weak: the control channel builds and answers list/enable/disable even in
 * a library built without the tracer; trace-* then answer -ENOSYS.
 */
#pragma weak marker_tracer_start
#pragma weak marker_tracer_stop
#pragma weak marker_tracer_enable
#pragma weak marker_tracer_disable
#pragma weak marker_tracer_get_stats
#pragma weak marker__tr_enable_filter
#pragma weak marker_tracer_snapshot

static int owner_conn = -1;

void marker__strbuf_printf(struct marker__strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->nomem)
		return;
	for (;;) {
		size_t room = b->cap - b->n;

		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->n : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->nomem = 1;
			return;
		}
		if ((size_t)n < room) {
			b->n += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap - b->n <= (size_t)n)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p || cap > MARKER__CTL_REPLY_MAX) {
			free(p);
			b->p = NULL;
			b->nomem = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
}

/*
 * Is a recording running in this process (ours, or MARKERS_RECORD's)?
 * The tracer's API has no direct question for it; its contract answers
 * -ENOENT to enable without a session, so enable a glob that no marker
 * name can match ('/' is not an identifier character) and take it back.
 */
static int recording(struct marker_tracer_stats *st)
{
	static const char never[] = "/";
	int n;

	if (!marker_tracer_enable || !marker_tracer_disable || !marker_tracer_get_stats)
		return 0;
	n = marker_tracer_enable(never);
	if (n < 0)
		return 0;
	marker_tracer_disable(never);
	if (st) {
		memset(st, 0, sizeof(*st));
		st->size = sizeof(*st);
		if (marker_tracer_get_stats(st) < 0)
			return 0;
	}
	return 1;
}

/* A short name for a probe: "print", "tracer", or its symbol and object. */
static void describe_probe(marker_probe_func *f, char *out, size_t cap)
{
	Dl_info self, info;

	if (f == marker__print_probe) {
		snprintf(out, cap, "print");
		return;
	}
	if (dladdr((void *)f, &info) && info.dli_fname) {
		const char *base = strrchr(info.dli_fname, '/');

		base = base ? base + 1 : info.dli_fname;
		/* The library's probes are the print probe and the tracer's. */
		if (dladdr((void *)marker__control_handle, &self) && self.dli_fname &&
		    !strcmp(self.dli_fname, info.dli_fname)) {
			snprintf(out, cap, "tracer");
		} else if (info.dli_sname && info.dli_saddr == (void *)f) {
			snprintf(out, cap, "%s (%s)", info.dli_sname, *base ? base : "program");
		} else {
			snprintf(out, cap, "%p (%s)", (void *)f, *base ? base : "program");
		}
		return;
	}
	snprintf(out, cap, "%p", (void *)f);
}

struct listing {
	struct marker__strbuf *b;
	int n;
};

static int list_one(const struct marker_info *m, void *arg)
{
	struct listing *l = arg;
	struct marker__strbuf *b = l->b;
	char e1[1024], e2[1024], e3[1024], e4[1024];

	marker__strbuf_printf(b, "M\t%s\t%s\t%s\t%d\t%zu\t%zu\n",
			      marker__ctl_escape(m->name, e1, sizeof(e1)),
			      marker__ctl_escape(m->format ? m->format : "", e2, sizeof(e2)),
			      marker__ctl_escape(m->types ? m->types : "", e3, sizeof(e3)),
			      m->enabled, m->nsites, m->nprobes);
	l->n++;
	for (size_t i = 0; i < m->nsites; i++) {
		const struct marker_site_info *s = &m->sites[i];

		marker__strbuf_printf(
			b, "S\t%s\t%s\t%s\t%s\t%u\t%p\t%s\n", marker_kind_name(s->marker->kind),
			marker_mode_name(s->mode),
			marker__ctl_escape(s->object && *s->object ? s->object : "(program)", e1,
					   sizeof(e1)),
			marker__ctl_escape(s->marker->file, e2, sizeof(e2)), s->marker->line,
			s->address, marker__ctl_escape(s->reason ? s->reason : "", e3, sizeof(e3)));
	}
	for (size_t i = 0; i < m->nprobes; i++) {
		describe_probe(m->probes[i].probe, e4, sizeof(e4));
		marker__strbuf_printf(b, "P\t%s\t%s\n", marker__ctl_escape(e4, e1, sizeof(e1)),
				      marker__ctl_escape(m->probes[i].glob ? m->probes[i].glob : "",
							 e2, sizeof(e2)));
	}
	return 0;
}

static int do_list(struct marker__strbuf *b)
{
	struct marker_tracer_stats st;
	struct listing l = {b, 0};
	int err;

	if (recording(&st))
		marker__strbuf_printf(b, "R\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\n", st.recorded,
				      st.discarded, st.bytes);
	err = marker_foreach(list_one, &l);
	return err < 0 ? err : l.n;
}

/* What the print-probe commands need to know of one marker. */
struct pmark {
	char *name;
	char *glob; /* the print probe's registration: a pattern, or NULL by name */
	int on;     /* the print probe is connected */
	int match;  /* the name matches the command's glob */
	int loaded; /* has sites */
};

struct pscan {
	const char *glob;
	struct pmark *v;
	size_t n;
	int nomem;
};

static int scan_one(const struct marker_info *m, void *arg)
{
	struct pscan *s = arg;
	struct pmark pm = {0}, *v;

	pm.match = !fnmatch(s->glob, m->name, 0);
	pm.loaded = m->nsites > 0;
	for (size_t i = 0; i < m->nprobes; i++) {
		if (m->probes[i].probe != marker__print_probe || m->probes[i].probe_private)
			continue;
		pm.on = 1;
		pm.glob = m->probes[i].glob ? strdup(m->probes[i].glob) : NULL;
		if (m->probes[i].glob && !pm.glob)
			s->nomem = 1;
	}
	if (!pm.match && !pm.on)
		return 0;
	pm.name = strdup(m->name);
	v = realloc(s->v, (s->n + 1) * sizeof(*v));
	if (!pm.name || !v) {
		free(pm.name);
		free(pm.glob);
		s->nomem = 1;
		if (v)
			s->v = v;
		return 0;
	}
	s->v = v;
	s->v[s->n++] = pm;
	return 0;
}

static void pscan_free(struct pscan *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].name);
		free(s->v[i].glob);
	}
	free(s->v);
}

static int print_switch(const char *glob, int on, struct marker__strbuf *b)
{
	struct pscan s = {.glob = glob};
	size_t matched = 0, changed = 0;
	int err = marker_foreach(scan_one, &s);

	if (!err && s.nomem)
		err = -ENOMEM;
	for (size_t i = 0; i < s.n && !err; i++) {
		if (!s.v[i].match || !s.v[i].loaded)
			continue;
		matched++;
		changed += on ? !s.v[i].on : s.v[i].on;
	}
	if (err || !matched)
		goto out;
	if (on) {
		err = marker_probe_register_glob(glob, marker__print_probe, NULL);
		if (err == -EEXIST)
			err = 0;
		goto out;
	}
	/*
	 * Off: drop every print registration that reaches a matching marker.
	 * A glob that also reaches markers that stay on is replaced by
	 * per-name registrations of those.
	 */
	for (size_t i = 0; i < s.n; i++) {
		struct pmark *p = &s.v[i];

		if (!p->on || !p->match)
			continue;
		if (!p->glob) {
			marker_probe_unregister(p->name, marker__print_probe, NULL);
			continue;
		}
		if (marker_probe_unregister_glob(p->glob, marker__print_probe, NULL) < 0)
			continue; /* done for an earlier marker of the same glob */
		for (size_t k = 0; k < s.n; k++)
			if (s.v[k].on && !s.v[k].match && s.v[k].glob &&
			    !strcmp(s.v[k].glob, p->glob))
				marker_probe_register(s.v[k].name, NULL, marker__print_probe,
						      NULL);
	}
	marker_synchronize_unregister();
out:
	pscan_free(&s);
	if (err < 0)
		return err;
	marker__strbuf_printf(b, "print\t%zu\n", changed);
	return (int)matched;
}

/* How many loaded markers match @glob. */
static int count_one(const struct marker_info *m, void *arg)
{
	struct pscan *s = arg;

	if (m->nsites && !fnmatch(s->glob, m->name, 0))
		s->n++;
	return 0;
}

static int do_switch(const char *glob, int on, const char *filter, struct marker__strbuf *b)
{
	struct pscan s = {.glob = glob};
	char why[256] = "";
	int n, err;

	if (filter && (!recording(NULL) || !marker__tr_enable_filter)) {
		marker__strbuf_printf(b, "filters apply to a recording (markers record); the print "
					 "probe prints every event");
		return -EOPNOTSUPP;
	}
	if (!recording(NULL))
		return print_switch(glob, on, b);
	if (on) {
		n = filter ? marker__tr_enable_filter(glob, filter, why, sizeof(why))
			   : marker_tracer_enable(glob);
		if (n < 0 && *why) {
			marker__strbuf_printf(b, "%s", why); /* the reason, for the user */
			return n;
		}
		/* Nothing matched: the command fails, so leave nothing behind. */
		if (n == 0)
			marker_tracer_disable(glob);
		if (n >= 0)
			marker__strbuf_printf(b, "recording\t%d\n", n);
		return n;
	}
	/*
	 * The tracer takes back exactly the globs it was given: disabling
	 * one marker of a recorded glob is refused (-ENOENT), not done halfway.
	 */
	err = marker_foreach(count_one, &s);
	if (err < 0)
		return err;
	if (!s.n)
		return 0;
	err = marker_tracer_disable(glob);
	if (err < 0)
		return err;
	marker__strbuf_printf(b, "recording\t%zu\n", s.n);
	return (int)s.n;
}

static int parse_num(const char *s, unsigned long long max, unsigned long long *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || end == s || *end || *s == '-' || *v > max ? -EINVAL : 0;
}

static int do_trace_start(const struct marker__ctl_req *req, int conn)
{
	struct marker_tracer_options o = {.size = sizeof(o)};
	unsigned long long v;
	int err;

	if (!marker_tracer_start)
		return -ENOSYS;
	for (int i = 1; i < req->argc; i++) {
		const char *a = req->argv[i];

		if (!strncmp(a, "dir=", 4) && a[4] == '/') {
			o.dir = a + 4;
		} else if (!strncmp(a, "subbuf=", 7) && !parse_num(a + 7, SIZE_MAX, &v)) {
			o.subbuf_size = (size_t)v;
		} else if (!strncmp(a, "nsubbufs=", 9) && !parse_num(a + 9, 1u << 20, &v)) {
			o.nsubbufs = (unsigned)v;
		} else if (!strncmp(a, "overwrite=", 10) && !parse_num(a + 10, 1, &v)) {
			o.overwrite = (int)v;
		} else if (!strncmp(a, "live=", 5) && !parse_num(a + 5, 3600000, &v)) {
			o.live_period_ms = (unsigned)v; /* record --relay --live */
		} else {
			return -EINVAL;
		}
	}
	err = marker_tracer_start(&o);
	if (err == 0)
		owner_conn = conn;
	return err;
}

static int do_trace_stats(struct marker__strbuf *b)
{
	struct marker_tracer_stats st;

	if (!marker_tracer_get_stats)
		return -ENOSYS;
	if (!recording(&st))
		return -ENOENT;
	marker__strbuf_printf(b, "recorded %" PRIu64 "\ndiscarded %" PRIu64 "\nbytes %" PRIu64 "\n"
				 "filtered %" PRIu64 "\n",
			      st.recorded, st.discarded, st.bytes, st.filtered);
	return 0;
}

/* Stop; the reply carries the final counts (after the flush, if the tracer still has them). */
static int do_trace_stop(struct marker__strbuf *b)
{
	struct marker_tracer_stats before, after;
	int err;

	if (!marker_tracer_stop)
		return -ENOSYS;
	if (!recording(&before))
		return -ENOENT;
	err = marker_tracer_stop();
	if (err < 0)
		return err;
	owner_conn = -1;
	memset(&after, 0, sizeof(after));
	after.size = sizeof(after);
	if (marker_tracer_get_stats(&after) == 0 && after.recorded >= before.recorded)
		before = after;
	marker__strbuf_printf(b, "recorded %" PRIu64 "\ndiscarded %" PRIu64 "\nbytes %" PRIu64 "\n"
				 "filtered %" PRIu64 "\n",
			      before.recorded, before.discarded, before.bytes, before.filtered);
	return 0;
}

/* A flight recorder's snapshot into DIR (marker_tracer_snapshot()). */
static int do_trace_snapshot(const struct marker__ctl_req *req, struct marker__strbuf *b)
{
	struct marker_tracer_stats st = {.size = sizeof(st)};
	int err;

	if (!marker_tracer_snapshot)
		return -ENOSYS;
	if (req->argc != 2 || strncmp(req->argv[1], "dir=/", 5))
		return -EINVAL;
	err = marker_tracer_snapshot(req->argv[1] + 4, &st);
	if (err < 0)
		return err;
	marker__strbuf_printf(b, "recorded %" PRIu64 "\ndiscarded %" PRIu64 "\n", st.recorded,
			      st.discarded);
	return 0;
}

int marker__control_handle(const struct marker__ctl_req *req, int conn,
			   struct marker__strbuf *out)
{
	const char *cmd = req->argv[0];

	if (!strcmp(cmd, "ping") && req->argc == 1)
		return (int)getpid();
	if (!strcmp(cmd, "list") && req->argc == 1)
		return do_list(out);
	if ((!strcmp(cmd, "enable") || !strcmp(cmd, "disable")) && req->argc == 2)
		return do_switch(req->argv[1], cmd[0] == 'e', NULL, out);
	if (!strcmp(cmd, "enable") && req->argc == 3 && !strncmp(req->argv[2], "filter=", 7))
		return do_switch(req->argv[1], 1, req->argv[2] + 7, out);
	if (!strcmp(cmd, "trace-start"))
		return do_trace_start(req, conn);
	if (!strcmp(cmd, "trace-snapshot"))
		return do_trace_snapshot(req, out);
	if (!strcmp(cmd, "trace-stats") && req->argc == 1)
		return do_trace_stats(out);
	if (!strcmp(cmd, "trace-stop") && req->argc == 1)
		return do_trace_stop(out);
	return -EINVAL;
}

int marker__control_owner(void)
{
	return owner_conn;
}

void marker__control_owner_gone(int conn)
{
	if (conn < 0) {
		owner_conn = -1;
		return;
	}
	if (conn != owner_conn)
		return;
	owner_conn = -1;
	/* The recorder went away without stopping: finish the trace for it. */
	if (marker_tracer_stop)
		marker_tracer_stop(); /* -ENOENT if it was stopped otherwise: fine */
}
