/*
 * shm_gc.c - buffer files in /dev/shm that nobody can use any more.
 *
 * A session's buffers live in /dev/shm (files.c) and outlive its process,
 * so that `markers recover DIR` can finish the trace of a process killed
 * while recording.  When the trace directory is deleted instead, nothing
 * links to them any more and they would stay until the next boot.  Their
 * names say whose they are: markers-PID-START-TAG-NAME, START the process's
 * start time (clock ticks after boot, field 22 of /proc/PID/stat), which a
 * later process given the same pid does not share.  A file is an orphan
 * when both:
 *
 *   - its process is gone: no /proc/PID, or one that started at another
 *     time (a live process's buffers are never touched, whatever else);
 *   - its trace directory (in the session file's header) no longer links
 *     to it: the directory or its .buffers/ link is gone, or the session
 *     file itself is (then no recovery can use the others either).
 *
 * Only regular files of the caller's with one link are looked at, through
 * lstat: a symbolic link or another user's file with a name of this form is
 * neither followed nor removed.  /dev/shm is sticky, so a file of ours that
 * passed the check can be removed or renamed by us alone until we unlink it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tracer_int.h"

unsigned long long marker__tr_proc_start(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	/* After the command name, which may hold spaces and parentheses: field 3 on. */
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	p++;
	for (int field = 3; field <= 22 && p; field++) {
		p = strchr(p + 1, ' ');
		if (p && field == 21)
			start = strtoull(p + 1, NULL, 10);
	}
	return start;
}

void marker__tr_shm_name(const struct tr_session *s, const char *name, char *out, size_t len)
{
	/* Per process: a fork child, which starts a session of its own, reads its own. */
	static long pid;
	static unsigned long long start;
	const uint8_t *t = s->tag;

	if (pid != (long)getpid()) {
		pid = (long)getpid();
		start = marker__tr_proc_start(pid);
	}
	snprintf(out, len, TR_SHM_DIR "/" TR_SHM_PREFIX "%ld-%llu-%02x%02x%02x%02x%02x%02x%02x%02x-%s",
		 pid, start, t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], name);
}

/* NAME = markers-PID-START-TAG-REST: its PID, START, and the length of "markers-PID-START-TAG-". */
static int parse(const char *name, long *pid, unsigned long long *start, size_t *group_len)
{
	const char *p = name + strlen(TR_SHM_PREFIX);
	char *end;

	if (strncmp(name, TR_SHM_PREFIX, strlen(TR_SHM_PREFIX)) || *p < '0' || *p > '9')
		return -1;
	*pid = strtol(p, &end, 10);
	if (*end != '-' || end[1] < '0' || end[1] > '9' || *pid <= 0)
		return -1;
	*start = strtoull(end + 1, &end, 10);
	if (*end != '-')
		return -1;
	p = end + 1;
	for (int i = 0; i < 16; i++, p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return -1;
	if (*p != '-' || !p[1])
		return -1;
	*group_len = (size_t)(p + 1 - name);
	return 0;
}

/* A regular file of ours with one link, seen without following a link: 1, else 0. */
static int ours(int shm_fd, const char *name)
{
	struct stat st;

	return !fstatat(shm_fd, name, &st, AT_SYMLINK_NOFOLLOW) && S_ISREG(st.st_mode) &&
	       st.st_uid == geteuid() && st.st_nlink == 1;
}

/*
 * Does the trace directory of session file @group "session" still link to
 * it?  1 if so (keep: `markers recover DIR` needs it), 0 if not; @dir gets
 * the directory's name, or "" when the session file does not say.
 */
static int still_linked(int shm_fd, const char *group, char *dir, size_t dir_len)
{
	char name[NAME_MAX + 1], target[TR_DIR_MAX + 16], expect[PATH_MAX + 16];
	struct tr_session_hdr h;
	int fd, bufs;
	ssize_t n;

	dir[0] = 0;
	snprintf(name, sizeof(name), "%ssession", group);
	if (!ours(shm_fd, name))
		return 0;
	fd = openat(shm_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = pread(fd, &h, offsetof(struct tr_session_hdr, threads), 0);
	close(fd);
	if (n != (ssize_t)offsetof(struct tr_session_hdr, threads) || h.magic != TR_SESSION_MAGIC ||
	    h.version != TR_VERSION || h.dir[0] != '/' || !memchr(h.dir, 0, sizeof(h.dir)))
		return 0;
	snprintf(dir, dir_len, "%s", h.dir);
	snprintf(target, sizeof(target), "%s/.buffers", h.dir);
	bufs = open(target, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (bufs < 0)
		return errno != ENOENT && errno != ENOTDIR; /* cannot tell: keep it */
	n = readlinkat(bufs, "session", target, sizeof(target) - 1);
	close(bufs);
	if (n < 0)
		return 0;
	target[n] = 0;
	snprintf(expect, sizeof(expect), TR_SHM_DIR "/%s", name);
	return !strcmp(target, expect);
}

struct group {
	char *prefix; /* markers-PID-START-TAG- */
	long pid;
	unsigned long long start;
};

static int by_prefix(const void *a, const void *b)
{
	return strcmp(((const struct group *)a)->prefix, ((const struct group *)b)->prefix);
}

int marker_tracer_gc(void (*report)(const char *path, const char *dir, void *arg), void *arg)
{
	struct group *g = NULL;
	size_t ng = 0, cap = 0;
	struct dirent *de;
	int shm_fd, removed = 0, err = 0;
	DIR *d;

	shm_fd = open(TR_SHM_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (shm_fd < 0)
		return -errno;
	d = fdopendir(dup(shm_fd));
	if (!d) {
		err = -errno;
		close(shm_fd);
		return err;
	}
	/* Pass 1: the sessions (groups of files) that are ours. */
	while ((de = readdir(d))) {
		long pid;
		unsigned long long start;
		size_t len;

		if (parse(de->d_name, &pid, &start, &len) || !ours(shm_fd, de->d_name))
			continue;
		if (ng && !strncmp(g[ng - 1].prefix, de->d_name, len) && !g[ng - 1].prefix[len])
			continue;
		if (ng == cap) {
			struct group *ng2 = realloc(g, (cap = cap ? 2 * cap : 16) * sizeof(*g));

			if (!ng2) {
				err = -ENOMEM;
				break;
			}
			g = ng2;
		}
		if (!(g[ng].prefix = strndup(de->d_name, len))) {
			err = -ENOMEM;
			break;
		}
		g[ng].pid = pid;
		g[ng++].start = start;
	}
	if (ng)
		qsort(g, ng, sizeof(*g), by_prefix);
	/* Pass 2: each session once; an orphan's files go. */
	for (size_t i = 0; !err && i < ng; i++) {
		char dir[TR_DIR_MAX], path[PATH_MAX + 16];

		if (i && !strcmp(g[i].prefix, g[i - 1].prefix))
			continue;
		if (marker__tr_proc_start(g[i].pid) == g[i].start)
			continue; /* alive: never */
		if (still_linked(shm_fd, g[i].prefix, dir, sizeof(dir)))
			continue; /* dead, but its trace can be recovered */
		rewinddir(d);
		while ((de = readdir(d))) {
			if (strncmp(de->d_name, g[i].prefix, strlen(g[i].prefix)) ||
			    !ours(shm_fd, de->d_name))
				continue;
			if (unlinkat(shm_fd, de->d_name, 0)) {
				if (errno != ENOENT && !err)
					err = -errno;
				continue;
			}
			removed++;
			if (report) {
				snprintf(path, sizeof(path), TR_SHM_DIR "/%s", de->d_name);
				report(path, dir, arg);
			}
		}
	}
	for (size_t i = 0; i < ng; i++)
		free(g[i].prefix);
	free(g);
	closedir(d);
	close(shm_fd);
	return err ? err : removed;
}
