/*
 * control_client.h - talk to a process's control channel (the server is
 * src/lib/control/; the wire format src/common/proto.h).
 *
 * Every failure comes back as a negative errno and one line in @err, ready
 * for the user: no such process, another user's process, no libmarkers in
 * it, no answer within the timeout, the process died mid-command, a
 * malformed reply.  Nothing here can hang: the socket has send and receive
 * timeouts.
 */
#ifndef MARKERS_CLI_CONTROL_CLIENT_H
#define MARKERS_CLI_CONTROL_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ctl_reply {
	int32_t status; /* a count, or a negative errno from the process */
	char *text;     /* NUL-terminated, owned: free() it */
	size_t len;
};

/* Parse a PID argument.  Returns it, or -EINVAL. */
pid_t ctl_parse_pid(const char *s);

/*
 * Add the PIDs of @s ("1234" or "1234,5678") to the array *@v of *@n.
 * Returns 0, -EINVAL (not a list of PIDs), -ENOMEM.
 */
int ctl_parse_pids(const char *s, pid_t **v, size_t *n);

/* Open a connection to @pid's channel.  Returns an fd, or -errno with @err filled. */
int ctl_connect(pid_t pid, char *err, size_t errlen);

/* Send one request on @fd and read its reply.  Returns 0 or -errno with @err filled. */
int ctl_call(int fd, pid_t pid, int argc, const char *const *argv, struct ctl_reply *r,
	     char *err, size_t errlen);

/*
 * ctl_list_pids - this user's processes that have a control channel (a
 * socket in one of the places the library puts it, a live process of this
 * effective uid that maps libmarkers), in pid order, this one excepted.
 * Returns how many (*@out malloc'ed, free() it), or -ENOMEM.
 */
int ctl_list_pids(pid_t **out);

/*
 * ctl_watch - an inotify descriptor (non-blocking) that becomes readable
 * when a control socket is created in one of the places ctl_list_pids()
 * looks, those that exist now; or -1 (none exists, or no inotify): then
 * poll ctl_list_pids().  ctl_watch_read - the pids of the sockets created
 * since the last read, at most @cap of them into @out; returns how many.
 * A socket appears at the library's start, before main(): a process is
 * seen as soon as it can be spoken to.
 */
int ctl_watch(void);
int ctl_watch_read(int fd, pid_t *out, int cap);

/* ctl_connect + ctl_call + close. */
int ctl_request(pid_t pid, int argc, const char *const *argv, struct ctl_reply *r, char *err,
		size_t errlen);

#endif /* MARKERS_CLI_CONTROL_CLIENT_H */
