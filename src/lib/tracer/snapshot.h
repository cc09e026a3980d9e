/*
 * snapshot.h - the flight recorder's snapshot (private; snapshot.c says how
 * the copy stays whole while writers go on).
 */
#ifndef MARKERS_TR_SNAPSHOT_H
#define MARKERS_TR_SNAPSHOT_H

#include <stdint.h>

struct tr_session;

/*
 * Write what the buffers of @live (an overwrite-mode session) hold now as a
 * trace in @dir (created if missing).  Called with the tracer's lock held.
 * Returns 0 with *@events written and *@discarded (the session's events
 * that the snapshot does not hold: overwritten, lost, or in a sub-buffer
 * that writers kept changing), -EEXIST (@dir holds a trace), -ENOMEM, or
 * -errno of the I/O.
 */
int marker__tr_snapshot(struct tr_session *live, const char *dir, uint64_t *events,
			uint64_t *discarded);

#endif /* MARKERS_TR_SNAPSHOT_H */
