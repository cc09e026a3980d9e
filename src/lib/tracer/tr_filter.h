/*
 * tr_filter.h - filters of a recording session (private): which globs are
 * recorded with which filter, and the test the probe makes before it
 * reserves room for an event (filter.h has the language).
 *
 * A marker is recorded when any enabled (glob, filter) whose glob matches
 * its name accepts the event; a glob enabled without a filter accepts all.
 * Events that no filter accepts are counted (per CPU) as filtered, never
 * as lost.
 *
 * Concurrency: add/remove/free run under the tracer's lock (session.c);
 * marker__tr_filter_pass runs in the probe, lock-free and async-signal-safe,
 * concurrently with add and remove: specs are appended and never freed
 * before the session is, and a generation number makes each marker's cached
 * binding stale when the set changes.
 */
#ifndef MARKERS_TR_FILTER_H
#define MARKERS_TR_FILTER_H

#include <stddef.h>
#include <stdint.h>

struct tr_session;
struct tr_cache_ent;
struct marker;

/*
 * Record @glob in @s's filter set with @filter (NULL: unfiltered).  With a
 * filter, every loaded marker that @glob matches must have its fields:
 * -EINVAL with @err (a line naming the column or the field and the
 * marker's fields), else 0.  -ENOMEM, -ENOSPC (more than 1024 globs).
 * Call before registering the probe for @glob.
 */
int marker__tr_filter_add(struct tr_session *s, const char *glob, const char *filter,
			  char *err, size_t errlen);
/* Loaded markers that @glob matches. */
int marker__tr_glob_count(const char *glob);
/*
 * marker_tracer_enable_filter() with the reason of an -EINVAL in @err
 * (@errlen bytes; @err may be NULL): the control channel's `enable`.
 */
int marker__tr_enable_filter(const char *glob, const char *filter, char *err, size_t errlen);
/*
 * The further groups of globs of the environment, each with its filter:
 * MARKERS_RECORD_1=GLOBS with MARKERS_RECORD_FILTER_1=EXPR, _2..., up to
 * the first number not set (16 at most).  Problems go to marker__warn.
 */
void marker__tr_filter_env_groups(void);
/* @glob is no longer recorded (every filter given with it). */
void marker__tr_filter_remove(struct tr_session *s, const char *glob);
/* Free the set; no probe may run any more. */
void marker__tr_filter_free(struct tr_session *s);
/* Events rejected by filters so far (all CPUs). */
uint64_t marker__tr_filtered(const struct tr_session *s);

/*
 * In the probe, once s->filters is set: 1 if the event of @m whose
 * arguments were read into @val/@slen (ring.c's read_args) is to be
 * recorded, 0 if it was filtered out (and counted on CPU @cpu).
 * @e is the marker's cache entry, or NULL (no cache).
 */
int marker__tr_filter_pass(struct tr_session *s, const struct marker *m, struct tr_cache_ent *e,
			   unsigned cpu, const uint64_t *val, const unsigned *slen);

#endif /* MARKERS_TR_FILTER_H */
