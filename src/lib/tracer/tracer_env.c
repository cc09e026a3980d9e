/*
 * tracer_env.c - recording configured by the environment, from the first
 * instruction of the program (docs/trace-format.md lists the variables).
 *
 * Called once by marker__init(), on the library's first use: usually the
 * priority-101 constructor that registers the program's markers, before
 * main() and the program's own constructors.  The globs are registered
 * before those markers are, and connect to them as they load.
 *
 * Process trees (MARKERS_RECORD_LAYOUT=process, what `markers record --
 * CMD` sets): MARKERS_RECORD_DIR is the recording's directory, and each
 * process records into a trace of its own below it,
 * DIR/NAME-PID-YYYYMMDD-HHMMSS (UTC; "-2", "-3"... if taken, so that a
 * reused pid never shares a trace).  The environment reaches every program
 * exec'd below CMD; a child that fork() makes starts its own trace from the
 * fork on (marker__tracer_env_after_fork(), from the tracer's child
 * handler), with the same globs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hooks.h"
#include "tr_filter.h"
#include "tracer_int.h"
#include "warn.h"


/* "256k", "2M", "4096": bytes, or 0 when unset or invalid (with a warning). */
static size_t env_size(const char *name)
{
	const char *v = getenv(name);
	char *end;
	unsigned long long n;

	if (!v || !*v)
		return 0;
	errno = 0;
	n = strtoull(v, &end, 0);
	if (*end && strchr("kKmMgG", *end)) {
		unsigned shift = *end == 'k' || *end == 'K' ? 10 : *end == 'm' || *end == 'M' ? 20 : 30;

		if (n > (~0ull >> shift)) /* would wrap to a small size */
			errno = ERANGE;
		n <<= shift;
		end++;
	}
	if (errno || *end || !n || n > SIZE_MAX) {
		marker__warn("%s=%s: not a size; using the default", name, v);
		return 0;
	}
	return (size_t)n;
}

static size_t pow2_up(size_t n)
{
	size_t p = 4096;

	while (p < n && p < (1u << 30))
		p <<= 1;
	return p;
}

/*
 * What the environment asked for, kept for the children fork() makes: they
 * start their own trace in the child handler, where reading the
 * environment again is no better than this copy.
 */
static struct {
	int on;          /* the environment's session is this process's */
	int per_process; /* MARKERS_RECORD_LAYOUT=process */
	char *root;      /* MARKERS_RECORD_DIR, absolute or as given */
	char *globs;     /* MARKERS_RECORD */
	struct marker_tracer_options opts, child_opts;
} env;

static void stop_at_exit(void)
{
	int err;

	if (!env.on)
		return;
	err = marker_tracer_stop();
	if (err && err != -ENOENT)
		marker__warn("tracer: finishing the trace: %s", strerror(-err));
}

/*
 * Buffer sizes from @prefix_BUFFER_SIZE, _SUBBUF_SIZE, _NSUBBUFS.  A total
 * alone keeps the default sub-buffer when at least 2 fit, else halves it;
 * with @eighths, a total alone is cut in 8 sub-buffers (children: small
 * totals, still 8 packets in flight).
 */
static void sizes(struct marker_tracer_options *o, const char *total_var, const char *sb_var,
		  const char *n_var, int eighths)
{
	size_t sb = sb_var ? env_size(sb_var) : 0, n = n_var ? env_size(n_var) : 0;
	size_t total = env_size(total_var);

	size_t most;

	if (sb)
		o->subbuf_size = pow2_up(sb);
	if (n) /* past the bound: clamped below, not cut to 32 bits */
		o->nsubbufs = n < 2 ? 2 : n > MARKER_TRACER_MAX_NSUBBUFS ? MARKER_TRACER_MAX_NSUBBUFS + 1
								: (unsigned)n;
	if (total && !n) {
		size_t s = o->subbuf_size ? o->subbuf_size : TR_DEFAULT_SUBBUF;

		if (!o->subbuf_size && eighths)
			s = o->subbuf_size = pow2_up(total / 8 > 4096 ? total / 8 : 4096);
		/* A small total with the default sub-buffer: smaller sub-buffers, 2 at least. */
		if (!o->subbuf_size && total / s < 2)
			s = o->subbuf_size = pow2_up(total / 2 > 4096 ? total / 2 : 4096);
		o->nsubbufs = total / s < 2 ? 2 : total / s > MARKER_TRACER_MAX_NSUBBUFS
						   ? MARKER_TRACER_MAX_NSUBBUFS + 1
						   : (unsigned)(total / s);
	}
	/* Within the tracer's bounds (markers/tracer.h), with a word when clamped. */
	if (o->subbuf_size > MARKER_TRACER_MAX_SUBBUF_SIZE) {
		marker__warn("%s: at most %u bytes; using that", sb_var ? sb_var : total_var,
			     MARKER_TRACER_MAX_SUBBUF_SIZE);
		o->subbuf_size = MARKER_TRACER_MAX_SUBBUF_SIZE;
	}
	sb = o->subbuf_size ? o->subbuf_size : TR_DEFAULT_SUBBUF;
	most = MARKER_TRACER_MAX_BUFFER_SIZE / sb;
	if (most > MARKER_TRACER_MAX_NSUBBUFS)
		most = MARKER_TRACER_MAX_NSUBBUFS;
	if ((o->nsubbufs ? o->nsubbufs : TR_DEFAULT_NSUBBUFS) > most) {
		marker__warn("%s: buffers of at most %u bytes and %u sub-buffers per CPU; using %zu "
			     "sub-buffers of %zu bytes",
			     total_var, MARKER_TRACER_MAX_BUFFER_SIZE, MARKER_TRACER_MAX_NSUBBUFS, most,
			     sb);
		o->nsubbufs = (unsigned)most;
	}
}

/* @name with anything but [A-Za-z0-9._+-] as '_', at most 32 bytes: a safe file name part. */
static void safe_name(const char *name, char *out, size_t cap)
{
	size_t k = 0;

	for (; name && *name && k + 1 < cap && k < 32; name++)
		out[k++] = (*name >= 'a' && *name <= 'z') || (*name >= 'A' && *name <= 'Z') ||
				   (*name >= '0' && *name <= '9') || strchr("._+-", *name)
			   ? *name
			   : '_';
	if (!k || out[0] == '.')
		out[k ? 0 : k++] = '_';
	out[k] = 0;
}

/*
 * Make this process's trace directory below @root, with mkdir() alone:
 * no lock, no locale, nothing that a fork child of a threaded program
 * could find held (the date is worked out by hand, in UTC).  Returns 0 with
 * @out filled, or -errno.
 */
static int make_process_dir(const char *root, char *out, size_t cap)
{
	time_t now = time(NULL);
	long long days = now / 86400, secs = now % 86400, y, m, d, era, doe, yoe, doy, mp;
	char name[40];

	/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm). */
	days += 719468;
	era = days / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	safe_name(program_invocation_short_name, name, sizeof(name));
	if (mkdir(root, 0755) && errno != EEXIST)
		return -errno;
	for (int n = 1; n < 1000; n++) {
		char suffix[16] = "";

		if (n > 1)
			snprintf(suffix, sizeof(suffix), "-%d", n);
		if ((size_t)snprintf(out, cap, "%s/%s-%d-%04lld%02lld%02lld-%02lld%02lld%02lld%s", root,
				     name, (int)getpid(), y, m, d, secs / 3600, secs / 60 % 60,
				     secs % 60, suffix) >= cap)
			return -ENAMETOOLONG;
		if (!mkdir(out, 0755))
			return 0;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

/* Start the session of @o in this process (its own directory in a process tree) and enable the globs. */
static int start(struct marker_tracer_options *o)
{
	char dir[4096], *copy, *save = NULL;
	int err;

	if (env.per_process) {
		err = make_process_dir(env.root, dir, sizeof(dir));
		if (err) {
			marker__warn("MARKERS_RECORD: cannot make a trace directory in %s: %s",
				     env.root, strerror(-err));
			return err;
		}
		o->dir = dir;
	}
	err = marker_tracer_start(o);
	if (err) {
		marker__warn("MARKERS_RECORD: cannot record into %s: %s",
			     o->dir ? o->dir : "markers-trace-PID", strerror(-err));
		if (env.per_process)
			rmdir(dir);
		o->dir = env.root;
		return err;
	}
	o->dir = env.root;
	copy = strdup(env.globs);
	for (char *g = copy ? strtok_r(copy, ",", &save) : NULL; g; g = strtok_r(NULL, ",", &save)) {
		char why[256] = "";

		err = marker__tr_enable_filter(g, getenv("MARKERS_RECORD_FILTER"), why, sizeof(why));
		if (err < 0)
			marker__warn("MARKERS_RECORD: %s: %s", g, *why ? why : strerror(-err));
	}
	free(copy);
	marker__tr_filter_env_groups(); /* MARKERS_RECORD_1 and MARKERS_RECORD_FILTER_1, ... */
	return 0;
}

void marker__tracer_env_after_fork(void)
{
	/* The inherited session was the parent's: marker_tracer_start() drops our copy. */
	if (!env.on || !env.per_process)
		return;
	env.on = !start(&env.child_opts);
}

void marker__tracer_init_from_env(void)
{
	const char *globs = getenv("MARKERS_RECORD");
	const char *mode = getenv("MARKERS_RECORD_MODE");
	const char *layout = getenv("MARKERS_RECORD_LAYOUT");
	const char *root_pid = getenv("MARKERS_RECORD_ROOT_PID");
	const char *live;
	struct marker_tracer_options o = {.size = sizeof(o)};

	if (!globs || !*globs)
		return;
	env.globs = strdup(globs);
	o.dir = getenv("MARKERS_RECORD_DIR");
	if (layout && *layout) {
		if (!strcmp(layout, "process") && o.dir && *o.dir)
			env.per_process = 1;
		else if (strcmp(layout, "single"))
			marker__warn("MARKERS_RECORD_LAYOUT=%s: not 'process' (with "
				     "MARKERS_RECORD_DIR) or 'single'; single", layout);
	}
	if (o.dir)
		o.dir = env.root = strdup(o.dir);
	if (!env.globs || (o.dir && !env.root))
		return;
	if (mode && *mode) {
		if (!strcasecmp(mode, "overwrite"))
			o.overwrite = 1;
		else if (strcasecmp(mode, "discard"))
			marker__warn("MARKERS_RECORD_MODE=%s: not discard or overwrite; discarding",
				     mode);
	}
	live = getenv("MARKERS_RECORD_LIVE_PERIOD");
	if (live && *live) {
		char *end;
		unsigned long ms = strtoul(live, &end, 10);

		if (*end || !ms || ms > 3600000)
			marker__warn("MARKERS_RECORD_LIVE_PERIOD=%s: not milliseconds; not live", live);
		else
			o.live_period_ms = (unsigned)ms;
	}
	env.child_opts = o;
	sizes(&o, "MARKERS_RECORD_BUFFER_SIZE", "MARKERS_RECORD_SUBBUF_SIZE",
	      "MARKERS_RECORD_NSUBBUFS", 0);
	/*
	 * The other processes of a tree (all but MARKERS_RECORD_ROOT_PID, the
	 * command itself) may have smaller buffers: MARKERS_RECORD_CHILD_BUFFER_SIZE.
	 */
	if (env.per_process && getenv("MARKERS_RECORD_CHILD_BUFFER_SIZE"))
		sizes(&env.child_opts, "MARKERS_RECORD_CHILD_BUFFER_SIZE", NULL, NULL, 1);
	else
		env.child_opts = o;
	if (env.per_process && root_pid && atol(root_pid) != (long)getpid())
		o = env.child_opts;
	env.opts = o;
	if (start(&env.opts))
		return;
	env.on = 1;
	atexit(stop_at_exit);
}
