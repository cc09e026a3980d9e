/*
 * control_client.c - find, check and talk to a process's control channel.
 *
 * The socket is looked for where the process's library puts it (see
 * src/lib/control/control.h), for the process's effective uid; it is used
 * only from a directory owned by that uid and closed to everyone else, and
 * only if the peer at the other end (SO_PEERCRED) is that very process.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control_client.h"
#include "proto.h"

#define TIMEOUT_S 10
#define START_WAIT_MS 3000 /* for the socket of a process that is starting */

/* Seconds to wait for a process's answer: MARKERS_CONTROL_TIMEOUT, else TIMEOUT_S. */
static int timeout_s(void)
{
	const char *e = getenv("MARKERS_CONTROL_TIMEOUT");
	int v = e ? atoi(e) : 0;

	return v > 0 && v <= 3600 ? v : TIMEOUT_S;
}

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return code;
}

pid_t ctl_parse_pid(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > 0x3fffffff)
		return -EINVAL;
	return (pid_t)v;
}

/* The effective uid of @pid from /proc, or -errno. */
static long proc_euid(pid_t pid)
{
	char path[64], line[256];
	unsigned long ruid, euid;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Uid: %lu %lu", &ruid, &euid) == 2) {
			fclose(f);
			return (long)euid;
		}
	}
	fclose(f);
	return -EIO;
}

/* Does @pid map libmarkers?  1, 0, or -1 when its maps cannot be read. */
static int maps_libmarkers(pid_t pid)
{
	char path[64], line[4096];
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, "/libmarkers.so") != NULL;
	fclose(f);
	return found;
}

/*
 * Does @pid mean to open a control channel?  It maps libmarkers and was not
 * started with MARKERS_CONTROL=0.  Its library binds the socket from a
 * thread of its own, a little after the process starts: worth waiting for.
 */
static int channel_expected(pid_t pid)
{
	char path[64], buf[65536];
	ssize_t n;
	int fd;

	if (maps_libmarkers(pid) != 1)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 1;
	buf[n] = 0; /* the variables are NUL-separated */
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1)
		if (!strcmp(buf + i, "MARKERS_CONTROL=0"))
			return 0;
	return 1;
}

/* Sleep a little before looking again; 0 once @waited_ms passed START_WAIT_MS. */
static int wait_a_little(int *waited_ms)
{
	struct timespec ts = {0, 2 * 1000 * 1000};

	if (*waited_ms >= START_WAIT_MS)
		return 0;
	nanosleep(&ts, NULL);
	*waited_ms += 2;
	return 1;
}

/* A safe directory for @uid's sockets: real, owned by @uid, closed to others. */
static int dir_ok(const char *dir, uid_t uid)
{
	struct stat st;

	return lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == uid &&
	       !(st.st_mode & 077);
}

/* Find @pid's socket.  Returns 1 with @path filled, 0 if none, -EPERM for an unsafe place. */
static int find_socket(pid_t pid, uid_t uid, char *path, size_t cap)
{
	const char *env = getenv("MARKERS_CONTROL_DIR"), *xdg = getenv("XDG_RUNTIME_DIR");
	char dirs[4][256];
	int nd = 0, unsafe = 0;
	struct stat st;

	if (env && *env)
		snprintf(dirs[nd++], sizeof(dirs[0]), "%s", env);
	if (xdg && xdg[0] == '/' && uid == geteuid())
		snprintf(dirs[nd++], sizeof(dirs[0]), "%s/markers", xdg);
	snprintf(dirs[nd++], sizeof(dirs[0]), "/run/user/%u/markers", (unsigned)uid);
	snprintf(dirs[nd++], sizeof(dirs[0]), "/tmp/markers-%u", (unsigned)uid);
	for (int i = 0; i < nd; i++) {
		if ((size_t)snprintf(path, cap, "%s/%d", dirs[i], (int)pid) >= cap)
			continue;
		if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
			continue;
		if (!dir_ok(dirs[i], uid) || st.st_uid != uid) {
			unsafe = 1;
			continue;
		}
		return 1;
	}
	return unsafe ? -EPERM : 0;
}

int ctl_connect(pid_t pid, char *err, size_t errlen)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct timeval tv = {timeout_s(), 0};
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	long uid;
	int fd, found, waited_ms = 0;

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return fail(err, errlen, -ESRCH, "no process with pid %d", (int)pid);
	uid = proc_euid(pid);
	if (uid < 0)
		return fail(err, errlen, -ESRCH, "no process with pid %d", (int)pid);
	if (geteuid() != 0 && (uid_t)uid != geteuid())
		return fail(err, errlen, -EPERM,
			    "process %d belongs to another user (uid %ld): only that user or root "
			    "can control it",
			    (int)pid, uid);
again:
	found = find_socket(pid, (uid_t)uid, addr.sun_path, sizeof(addr.sun_path));
	if (!found && channel_expected(pid) && wait_a_little(&waited_ms))
		goto again;
	if (found == -EPERM)
		return fail(err, errlen, -EPERM,
			    "process %d: its control socket is in a directory not owned by uid "
			    "%ld or open to others; refusing to use it",
			    (int)pid, uid);
	if (!found) {
		if (maps_libmarkers(pid) == 0)
			return fail(err, errlen, -ENOENT,
				    "process %d does not use libmarkers (no control channel)",
				    (int)pid);
		return fail(err, errlen, -ENOENT,
			    "process %d has no control channel (no libmarkers in it, or "
			    "MARKERS_CONTROL=0)",
			    (int)pid);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(err, errlen, -errno, "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int e = errno;

		close(fd);
		/* Bound but not listening yet, or about to be bound anew after an exec. */
		if ((e == ECONNREFUSED || e == ENOENT) && channel_expected(pid) &&
		    wait_a_little(&waited_ms))
			goto again;
		if (e == ECONNREFUSED)
			return fail(err, errlen, -ECONNREFUSED,
				    "process %d does not answer on its control channel (it exited, "
				    "or exec'd a program without libmarkers)",
				    (int)pid);
		return fail(err, errlen, -e, "process %d: connect: %s", (int)pid, strerror(e));
	}
	/* The file could be anyone's socket under that name: the peer must be @pid. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 || cred.pid != pid ||
	    cred.uid != (uid_t)uid) {
		close(fd);
		return fail(err, errlen, -EPERM,
			    "the control socket of process %d is held by another process (%d); "
			    "refusing it",
			    (int)pid, (int)cred.pid);
	}
	return fd;
}

static int io_fail(pid_t pid, int e, char *err, size_t errlen)
{
	if (e == EAGAIN || e == EWOULDBLOCK)
		return fail(err, errlen, -ETIMEDOUT, "no answer from process %d within %d s",
			    (int)pid, timeout_s());
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return fail(err, errlen, -ESRCH, "process %d exited during the command", (int)pid);
	return fail(err, errlen, -EPIPE, "process %d closed its control connection%s%s",
		    (int)pid, e ? ": " : "", e ? strerror(e) : "");
}

static int read_full(int fd, void *p, size_t n)
{
	while (n) {
		ssize_t r = recv(fd, p, n, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EPIPE;
		p = (char *)p + r;
		n -= (size_t)r;
	}
	return 0;
}

int ctl_call(int fd, pid_t pid, int argc, const char *const *argv, struct ctl_reply *r,
	     char *err, size_t errlen)
{
	unsigned char req[MARKER__CTL_HDR + MARKER__CTL_REQ_MAX], hdr[MARKER__CTL_HDR];
	const char *text;
	unsigned char *buf;
	long n = marker__ctl_build_request(req, sizeof(req), argc, argv);
	int e;

	memset(r, 0, sizeof(*r));
	if (n < 0)
		return fail(err, errlen, -EINVAL,
			    "request too long or not printable ASCII (globs and paths must be)");
	for (long off = 0; off < n;) {
		ssize_t w = send(fd, req + off, (size_t)(n - off), MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return io_fail(pid, errno, err, errlen);
		off += w;
	}
	e = read_full(fd, hdr, sizeof(hdr));
	if (e < 0)
		return io_fail(pid, e == -EPIPE ? 0 : -e, err, errlen);
	n = marker__ctl_parse_header(hdr, MARKER__CTL_REPLY_MAX);
	if (n < 0)
		return fail(err, errlen, -EPROTO, "malformed reply from process %d", (int)pid);
	buf = malloc((size_t)n + 1);
	if (!buf)
		return fail(err, errlen, -ENOMEM, "out of memory");
	e = read_full(fd, buf, (size_t)n);
	if (e < 0) {
		free(buf);
		return io_fail(pid, e == -EPIPE ? 0 : -e, err, errlen);
	}
	if (marker__ctl_parse_reply(buf, (size_t)n, &r->status, &text, &r->len) < 0) {
		free(buf);
		return fail(err, errlen, -EPROTO, "malformed reply from process %d", (int)pid);
	}
	/* The text moves to the front and gets its NUL. */
	memmove(buf, text, r->len);
	buf[r->len] = 0;
	r->text = (char *)buf;
	return 0;
}

int ctl_request(pid_t pid, int argc, const char *const *argv, struct ctl_reply *r, char *err,
		size_t errlen)
{
	int fd = ctl_connect(pid, err, errlen), ret;

	memset(r, 0, sizeof(*r));
	if (fd < 0)
		return fd;
	ret = ctl_call(fd, pid, argc, argv, r, err, errlen);
	close(fd);
	return ret;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return x < y ? -1 : x > y;
}

/* The places this user's sockets are in; returns how many. */
static int socket_dirs(char dirs[4][256], uid_t uid)
{
	const char *env = getenv("MARKERS_CONTROL_DIR"), *xdg = getenv("XDG_RUNTIME_DIR");
	int nd = 0;

	/* MARKERS_CONTROL_DIR names the one place (a set of processes kept apart). */
	if (env && *env) {
		snprintf(dirs[nd++], 256, "%s", env);
	} else {
		if (xdg && xdg[0] == '/')
			snprintf(dirs[nd++], 256, "%s/markers", xdg);
		snprintf(dirs[nd++], 256, "/run/user/%u/markers", (unsigned)uid);
		snprintf(dirs[nd++], 256, "/tmp/markers-%u", (unsigned)uid);
	}
	return nd;
}

int ctl_watch(void)
{
	char dirs[4][256];
	uid_t uid = geteuid();
	int nd = socket_dirs(dirs, uid), fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC), watched = 0;

	for (int i = 0; fd >= 0 && i < nd; i++)
		if (dir_ok(dirs[i], uid) &&
		    inotify_add_watch(fd, dirs[i], IN_CREATE | IN_MOVED_TO | IN_ONLYDIR) >= 0)
			watched++;
	if (fd >= 0 && !watched) {
		close(fd);
		fd = -1;
	}
	return fd;
}

int ctl_watch_read(int fd, pid_t *out, int cap)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int n = 0;
	ssize_t len;

	while ((len = read(fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + len;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			pid_t pid = ev->len ? ctl_parse_pid(ev->name) : -1;

			if (pid > 0 && pid != getpid() && n < cap)
				out[n++] = pid;
			p += sizeof(*ev) + ev->len;
		}
	}
	return n;
}

int ctl_list_pids(pid_t **out)
{
	uid_t uid = geteuid();
	char dirs[4][256];
	pid_t *v = NULL;
	size_t n = 0, cap = 0;
	int nd = socket_dirs(dirs, uid);

	for (int i = 0; i < nd; i++) {
		DIR *d = dir_ok(dirs[i], uid) ? opendir(dirs[i]) : NULL;
		struct dirent *de;

		while (d && (de = readdir(d))) {
			pid_t pid = ctl_parse_pid(de->d_name);
			int dup = 0;

			/* A socket left by a process that died is skipped: its pid is gone or another's. */
			if (pid <= 0 || pid == getpid() || proc_euid(pid) != (long)uid)
				continue;
			for (size_t k = 0; k < n; k++)
				dup |= v[k] == pid;
			if (dup)
				continue;
			if (n == cap) {
				pid_t *m = realloc(v, (cap = cap ? cap * 2 : 32) * sizeof(*m));

				if (!m) {
					closedir(d);
					free(v);
					return -ENOMEM;
				}
				v = m;
			}
			v[n++] = pid;
		}
		if (d)
			closedir(d);
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_pid);
	*out = v;
	return (int)n;
}

int ctl_parse_pids(const char *s, pid_t **v, size_t *n)
{
	const char *p = s;

	for (;;) {
		size_t len = strcspn(p, ",");
		char one[24];
		pid_t pid, *m;

		if (!len || len >= sizeof(one))
			return -EINVAL;
		memcpy(one, p, len);
		one[len] = 0;
		pid = ctl_parse_pid(one);
		if (pid < 0)
			return -EINVAL;
		m = realloc(*v, (*n + 1) * sizeof(*m));
		if (!m)
			return -ENOMEM;
		*v = m;
		(*v)[(*n)++] = pid;
		if (!p[len])
			return 0;
		p += len + 1;
	}
}
