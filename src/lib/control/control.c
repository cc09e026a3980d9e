/*
 * control.c - the control channel's listener thread.
 *
 * Cheap and invisible to the program: one thread that sleeps in poll(),
 * the program's signals blocked in it, every descriptor close-on-exec.  At
 * start-up the caller only creates the thread; the thread makes the
 * directory and binds the socket, so the program's main thread never waits
 * for the file system, and a client that comes before the socket exists
 * waits for it (the CLI does, while the process maps libmarkers).  A
 * short-lived program pays one thread creation and the socket's unlink at
 * exit.  The listener rewrites the sites of the objects that loaded at
 * start-up first (see patch.h).  What can wait does, ADOPT_DELAY_MS, so
 * that a program that lives a few milliseconds never pays it: the first
 * look at the USDT semaphores, the removal of sockets left by dead
 * processes.  At most MAX_CONN connections at
 * once, each answered once and closed, except the one that started a
 * recording (see proto.h); a connection that sends no complete request
 * within IDLE_MS is dropped, and a reply is written with a send timeout,
 * so a stuck client cannot stall the channel for long.
 *
 * fork(): the child gets no thread of its own from fork, so an atfork
 * handler starts a new listener there, bound to the child's pid.  The
 * prepare handler takes the channel's mutex, which the listener holds while
 * it answers, so the child never inherits a half-handled request.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "../kept_fd.h"
#include "../usdt.h"
#include "hooks.h"
#include "patch.h"
#include "thread.h"
#include "proto.h"
#include "warn.h"

#define MAX_CONN 8
#define IDLE_MS 5000
#define SEND_TIMEOUT_S 2
#define ADOPT_DELAY_MS 20

struct conn {
	struct marker__kept_fd k; /* checked before each use (kept_fd.h) */
	size_t got;
	long long deadline_ms; /* drop when idle past this; 0 for the recording's owner */
	unsigned char *buf;    /* bufs[its index] */
};

static pthread_mutex_t ctl_lock = PTHREAD_MUTEX_INITIALIZER;
static struct marker__kept_fd listen_sock = MARKER__KEPT_NONE;
/*
 * Apart: the slots fit in one page, which start-up touches; the 33 KiB of
 * buffers are only touched by connections that use them.
 */
static struct conn conns[MAX_CONN];
static unsigned char bufs[MAX_CONN][MARKER__CTL_HDR + MARKER__CTL_REQ_MAX];
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static pid_t sock_pid; /* the process that bound sock_path; only it removes it */
static int enabled;
static int exiting; /* the destructor ran: bind nothing more (under ctl_lock) */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int marker__control_dir(char *out, size_t cap)
{
	const char *env = getenv("MARKERS_CONTROL_DIR"), *xdg = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	int n;

	if (env && *env)
		n = snprintf(out, cap, "%s", env);
	else if (xdg && xdg[0] == '/')
		n = snprintf(out, cap, "%s/markers", xdg);
	else
		n = snprintf(out, cap, "/tmp/markers-%u", (unsigned)geteuid());
	if (n < 0 || (size_t)n >= cap)
		return -ENAMETOOLONG;
	if (mkdir(out, 0700) < 0 && errno != EEXIST)
		return -errno;
	/* Not a symlink, ours, and closed to everyone else: else someone could listen in. */
	if (lstat(out, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077))
		return -EPERM;
	return 0;
}

/* Remove sockets left by processes that died without running their destructors. */
static void remove_stale(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[sizeof(sock_path)];

	if (!d)
		return;
	while ((e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);

		if (*end || pid <= 0 || e->d_name[0] == '0')
			continue;
		if (kill((pid_t)pid, 0) < 0 && errno == ESRCH &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < sizeof(path))
			unlink(path);
	}
	closedir(d);
}

static int open_socket(void)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	char dir[sizeof(sock_path)];
	int fd, err, n;

	err = marker__control_dir(dir, sizeof(dir) - 16);
	if (err < 0) {
		marker__warn("control channel off: directory %s: %s", dir, strerror(-err));
		return err;
	}
	n = snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%d", dir, (int)getpid());
	if (n < 0 || (size_t)n >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* A socket of our pid can only be a dead process's, or ours before exec(). */
	unlink(addr.sun_path);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, MAX_CONN) < 0) {
		err = -errno;
		marker__warn("control channel off: %s: %s", addr.sun_path, strerror(-err));
		close(fd);
		return err;
	}
	memcpy(sock_path, addr.sun_path, sizeof(sock_path));
	sock_pid = getpid();
	return fd;
}

static int peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || len != sizeof(cred))
		return 0;
	return cred.uid == geteuid() || cred.uid == 0;
}

static void conn_close(struct conn *c)
{
	int fd = c->k.fd;

	c->k.fd = -1;
	c->got = 0;
	if (fd < 0)
		return;
	close(fd);
	marker__control_owner_gone(fd);
}

/*
 * Is @c's descriptor still ours?  A program that closes every descriptor
 * may open a file of its own on the number (kept_fd.h): then @c is
 * forgotten, never closed, and a recording it started is finished, since
 * nobody would hear its recorder stop it.
 */
static int conn_ours(struct conn *c)
{
	int fd = c->k.fd;

	if (marker__kept_ours(&c->k))
		return 1;
	c->got = 0;
	if (fd >= 0)
		marker__control_owner_gone(fd);
	return 0;
}

static void accept_all(void)
{
	for (;;) {
		int fd = accept4(listen_sock.fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct conn *c = NULL;

		if (fd < 0)
			return;
		for (int i = 0; i < MAX_CONN && !c; i++)
			if (conns[i].k.fd < 0)
				c = &conns[i];
		if (!c || !peer_allowed(fd)) {
			close(fd);
			continue;
		}
		if (marker__kept_set(&c->k, fd) < 0)
			continue;
		c->got = 0;
		c->deadline_ms = now_ms() + IDLE_MS;
	}
}

static int send_all(int fd, const void *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p = (const char *)p + w;
		n -= (size_t)w;
	}
	return 0;
}

static void reply(struct conn *c, int status, struct marker__strbuf *text)
{
	struct timeval tv = {SEND_TIMEOUT_S, 0};
	unsigned char hdr[MARKER__CTL_HDR + 4];
	size_t len = text->nomem ? 0 : text->n;

	if (text->nomem)
		status = -ENOMEM;
	marker__ctl_header(hdr, (uint32_t)(4 + len));
	for (int i = 0; i < 4; i++)
		hdr[MARKER__CTL_HDR + i] = (unsigned char)((uint32_t)status >> (8 * i));
	/* Blocking with a timeout for the reply: it may be larger than the socket buffer. */
	setsockopt(c->k.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* A client that went away gets no reply; there is nobody to tell. */
	if (send_all(c->k.fd, hdr, sizeof(hdr)) == 0 && len)
		send_all(c->k.fd, text->p, len);
}

/* Read what is there; answer a complete request.  Returns 0 to keep the connection. */
static int serve(struct conn *c)
{
	struct marker__ctl_req req;
	struct marker__strbuf text = {0};
	long want = MARKER__CTL_HDR;
	int status;

	for (;;) {
		ssize_t r;

		if (c->got >= MARKER__CTL_HDR) {
			want = marker__ctl_parse_header(c->buf, MARKER__CTL_REQ_MAX);
			if (want < 0)
				return -1;
			want += MARKER__CTL_HDR;
		}
		if ((long)c->got == want)
			break;
		r = recv(c->k.fd, c->buf + c->got, (size_t)want - c->got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (r <= 0)
			return -1; /* closed, or broken */
		c->got += (size_t)r;
	}
	if (marker__ctl_parse_request((const char *)c->buf + MARKER__CTL_HDR,
				      c->got - MARKER__CTL_HDR, &req) < 0)
		return -1;
	status = marker__control_handle(&req, c->k.fd, &text);
	reply(c, status, &text);
	free(text.p);
	c->got = 0;
	if (marker__control_owner() == c->k.fd) {
		c->deadline_ms = 0;
		return 0;
	}
	return -1;
}

/* The socket, in the listener: under ctl_lock, unless the process is exiting. */
static int bind_socket(void)
{
	int fd = -1;

	pthread_mutex_lock(&ctl_lock);
	if (!exiting)
		fd = marker__kept_set(&listen_sock, open_socket());
	pthread_mutex_unlock(&ctl_lock);
	return fd;
}

/* The socket's directory, without the name: for remove_stale. */
static void remove_stale_later(void)
{
	char dir[sizeof(sock_path)], *slash;

	pthread_mutex_lock(&ctl_lock);
	memcpy(dir, sock_path, sizeof(dir));
	pthread_mutex_unlock(&ctl_lock);
	slash = strrchr(dir, '/');
	if (!slash)
		return;
	*slash = 0;
	remove_stale(dir);
}

static void *listener(void *arg)
{
	struct pollfd pfd[MAX_CONN + 1];
	int idx[MAX_CONN + 1];
	long long adopt_at = now_ms() + ADOPT_DELAY_MS, next_usdt = adopt_at;

	(void)arg;
	/*
	 * The start-up's sites first, off the main thread but without delay:
	 * until adopted they test their flag in memory, which the hot loops of
	 * even a short-lived program would pay (BENCHMARKS.md's off rows).
	 */
	marker__patch_adopt_deferred();
	if (bind_socket() < 0)
		return NULL; /* no channel: nothing to listen to, nobody to poll for */
	for (;;) {
		long long now = now_ms(), wait = adopt_at ? adopt_at - now : -1;
		int n = 1;

		if (adopt_at && wait <= 0) {
			remove_stale_later();
			adopt_at = 0;
			wait = -1;
		}
		/*
		 * USDT tools attach without a word: look at their semaphores
		 * once a second (usdt.c; nothing to do without USDT sites).
		 */
		if (now >= next_usdt) {
			marker__usdt_poll();
			next_usdt = now + 1000;
		}
		if (wait < 0 || next_usdt - now < wait)
			wait = next_usdt - now;

		pfd[0] = (struct pollfd){.fd = listen_sock.fd, .events = POLLIN};
		for (int i = 0; i < MAX_CONN; i++) {
			if (conns[i].k.fd < 0)
				continue;
			pfd[n] = (struct pollfd){.fd = conns[i].k.fd, .events = POLLIN};
			idx[n++] = i;
			if (conns[i].deadline_ms) {
				long long left = conns[i].deadline_ms - now;

				left = left < 0 ? 0 : left;
				wait = wait < 0 || left < wait ? left : wait;
			}
		}
		if (poll(pfd, (nfds_t)n, (int)wait) < 0 && errno != EINTR)
			continue;
		pthread_mutex_lock(&ctl_lock);
		if ((pfd[0].revents & POLLNVAL) || !marker__kept_ours(&listen_sock)) {
			/*
			 * The program closed our socket (a daemon closing every
			 * descriptor), and may have opened a file of its own on
			 * the number, which poll() would find ready at once, for
			 * ever.  Nothing is closed (kept_fd.h); the channel opens
			 * anew, the connections the program closed are forgotten.
			 */
			listen_sock.fd = -1;
			for (int i = 0; i < MAX_CONN; i++)
				conn_ours(&conns[i]);
			pthread_mutex_unlock(&ctl_lock);
			if (bind_socket() < 0)
				return NULL;
			continue;
		}
		now = now_ms();
		for (int k = 1; k < n; k++) {
			struct conn *c = &conns[idx[k]];

			if (!conn_ours(c))
				continue;
			if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR)) {
				if (serve(c) < 0)
					conn_close(c);
			} else if (c->deadline_ms && now >= c->deadline_ms) {
				conn_close(c);
			}
		}
		if (pfd[0].revents & POLLIN)
			accept_all();
		pthread_mutex_unlock(&ctl_lock);
	}
	return NULL;
}

/* The thread, which opens the socket.  Called with no thread of ours listening. */
static void start_listener(void)
{
	pthread_attr_t attr;
	pthread_t th;

	for (int i = 0; i < MAX_CONN; i++)
		conns[i] = (struct conn){.k = MARKER__KEPT_NONE, .buf = bufs[i]};
	/* The listener adopts the start-up's sites (see the top of this file). */
	marker__patch_defer_adoption();
	/* This thread never runs a marker site; see marker__thread_start. */
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	if (marker__thread_start_lazy(&th, &attr, listener, NULL)) {
		marker__warn("control channel off: cannot start its thread");
		marker__patch_adopt_deferred();
	}
	pthread_attr_destroy(&attr);
}

/* fork (init.c calls these in the library's lock order). */
void marker__control_before_fork(void)
{
	pthread_mutex_lock(&ctl_lock);
}

void marker__control_after_fork_parent(void)
{
	pthread_mutex_unlock(&ctl_lock);
}

void marker__control_after_fork_child(void)
{
	if (!enabled) {
		pthread_mutex_unlock(&ctl_lock);
		return;
	}
	/* The parent's connections and socket: copies we must close, never unlink. */
	for (int i = 0; i < MAX_CONN; i++)
		marker__kept_close(&conns[i].k);
	marker__kept_close(&listen_sock);
	sock_path[0] = 0;
	exiting = 0; /* a new process, whatever its parent was doing */
	marker__control_owner_gone(-1);
	pthread_mutex_unlock(&ctl_lock);
	start_listener();
}

void marker__control_init(void)
{
	const char *env = getenv("MARKERS_CONTROL");

	if (env && !strcmp(env, "0"))
		return;
	/*
	 * The listener runs the library's code: libmarkers.so is linked with
	 * -z nodelete, so that a dlclose() of the last object that needed it
	 * cannot unmap it under the listener (or under the SIGTRAP handler).
	 */
	enabled = 1;
	start_listener();
}

__attribute__((destructor)) static void control_exit(void)
{
	/*
	 * The listener may still run; the socket file is all we take away.
	 * The listener writes sock_path under ctl_lock, which it never holds
	 * for long (not while it waits in poll).
	 */
	if (!enabled)
		return;
	pthread_mutex_lock(&ctl_lock);
	exiting = 1;
	if (sock_path[0] && sock_pid == getpid())
		unlink(sock_path);
	pthread_mutex_unlock(&ctl_lock);
}
