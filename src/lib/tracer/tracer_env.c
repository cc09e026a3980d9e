/*
 * tracer_env.c - recording configured by the environment, from the first
 * instruction of the program (docs/trace-format.md lists the variables).
 *
 * Called once by marker__init(), on the library's first use: usually the
 * priority-101 constructor that registers the program's markers, before
 * main() and the program's own constructors.  The globs are registered
 * before those markers are, and connect to them as they load.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hooks.h"
#include "tracer_int.h"
#include "warn.h"

void marker__tracer_atfork(void);

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
	if (*end == 'k' || *end == 'K')
		n <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		n <<= 20, end++;
	else if (*end == 'g' || *end == 'G')
		n <<= 30, end++;
	if (errno || *end || !n) {
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

static void stop_at_exit(void)
{
	int err = marker_tracer_stop();

	if (err && err != -ENOENT)
		marker__warn("tracer: finishing the trace: %s", strerror(-err));
}

void marker__tracer_init_from_env(void)
{
	const char *globs = getenv("MARKERS_RECORD");
	const char *mode = getenv("MARKERS_RECORD_MODE");
	const char *live;
	struct marker_tracer_options o = {.size = sizeof(o)};
	size_t sb, n, total;
	char *copy, *save = NULL;
	int err;

	marker__tracer_atfork();
	if (!globs || !*globs)
		return;
	o.dir = getenv("MARKERS_RECORD_DIR");
	sb = env_size("MARKERS_RECORD_SUBBUF_SIZE");
	n = env_size("MARKERS_RECORD_NSUBBUFS");
	total = env_size("MARKERS_RECORD_BUFFER_SIZE");
	if (sb)
		o.subbuf_size = pow2_up(sb);
	if (n)
		o.nsubbufs = n < 2 ? 2 : (unsigned)n;
	if (total && !n) {
		size_t s = o.subbuf_size ? o.subbuf_size : TR_DEFAULT_SUBBUF;

		/* A small total with the default sub-buffer: smaller sub-buffers, 2 at least. */
		if (!o.subbuf_size && total / s < 2)
			s = o.subbuf_size = pow2_up(total / 2 > 4096 ? total / 2 : 4096);
		o.nsubbufs = total / s < 2 ? 2 : (unsigned)(total / s);
	}
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
	err = marker_tracer_start(&o);
	if (err) {
		marker__warn("MARKERS_RECORD: cannot record into %s: %s",
			     o.dir ? o.dir : "markers-trace-PID", strerror(-err));
		return;
	}
	copy = strdup(globs);
	for (char *g = copy ? strtok_r(copy, ",", &save) : NULL; g; g = strtok_r(NULL, ",", &save)) {
		err = marker_tracer_enable(g);
		if (err < 0)
			marker__warn("MARKERS_RECORD: %s: %s", g, strerror(-err));
	}
	free(copy);
	atexit(stop_at_exit);
}
