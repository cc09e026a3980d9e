/*
 * control.h - the per-process control channel (private).
 *
 * A listener thread, started at library start-up and again in a fork
 * child, answers `markers list -p`, `enable -p`, `disable -p` and
 * `record -p` on a UNIX stream socket named by the process's pid in a
 * directory only its user can open:
 *
 *   $MARKERS_CONTROL_DIR, else $XDG_RUNTIME_DIR/markers, else /tmp/markers-UID
 *
 * The directory is created with mode 0700 and used only if it is a real
 * directory owned by the process's effective uid with no group or other
 * permissions.  A peer is answered only if SO_PEERCRED says it runs as the
 * same uid or as root.  MARKERS_CONTROL=0 in the environment turns the
 * channel off.  The wire format is in proto.h.
 */
#ifndef MARKERS_CONTROL_H
#define MARKERS_CONTROL_H

#include <stddef.h>

/*
 * marker__control_dir - the directory for this process's socket in @out
 * (@cap bytes), created if missing and checked as above.
 * Returns 0, -ENAMETOOLONG, -EPERM (exists but unsafe), or -errno of mkdir.
 */
int marker__control_dir(char *out, size_t cap);

/*
 * Answer one parsed request: the status goes in *status, text in the
 * caller's buffer (see handlers.c).  Called by the listener with its mutex
 * held; @conn identifies the connection (for the recording's owner).
 */
struct marker__ctl_req;
struct marker__strbuf {
	char *p;
	size_t n, cap;
	int nomem;
};
void marker__strbuf_printf(struct marker__strbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int marker__control_handle(const struct marker__ctl_req *req, int conn,
			   struct marker__strbuf *out);

/* The connection (fd) that owns the recording this channel started, or -1. */
int marker__control_owner(void);
/* @conn closed: if it owned the recording, stop it.  @conn -1: forget the owner (fork child). */
void marker__control_owner_gone(int conn);

#endif /* MARKERS_CONTROL_H */
