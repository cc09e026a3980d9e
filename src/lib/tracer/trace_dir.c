/*
 * trace_dir.c - the trace directory and the files in it, opened without
 * trusting anything another user could have put there.
 *
 * The threat: a directory that another user can write into, where they
 * plant a name we are about to create as a symbolic link (or a hard link)
 * to a file of ours, or of root when root records.  Opening that name with
 * O_CREAT | O_TRUNC, as a plain program would, overwrites the file.  So:
 *
 *   - the directory is opened once, with O_NOFOLLOW, and every file is
 *     reached relative to that descriptor: renaming a path component
 *     afterwards changes nothing;
 *   - it must belong to us (the effective uid), and nobody else may write
 *     into it unless it has the sticky bit (then others can add names, but
 *     not remove or rename ours, and we, its owner, can remove theirs);
 *   - a file is created by removing the name, then O_CREAT | O_EXCL |
 *     O_NOFOLLOW; a file that must exist already is opened O_NOFOLLOW and
 *     must be a regular file of ours with one link;
 *   - a link from .buffers/ into /dev/shm is followed (and its target
 *     removed) only when it has exactly the form the tracer creates.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace_dir.h"

int marker__tr_dir_ok(const struct stat *st)
{
	if (!S_ISDIR(st->st_mode))
		return -ENOTDIR;
	if (st->st_uid != geteuid())
		return -EPERM;
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(st->st_mode & S_ISVTX))
		return -EPERM;
	return 0;
}

int marker__tr_open_dir(const char *path)
{
	char copy[4096];
	size_t len = strlen(path);
	struct stat st;
	int fd, err;

	/* "dir/" would follow a symbolic link "dir" whatever the flags say. */
	if (len >= sizeof(copy))
		return -ENAMETOOLONG;
	memcpy(copy, path, len + 1);
	while (len > 1 && copy[len - 1] == '/')
		copy[--len] = 0;
	fd = open(copy, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOTDIR && !fstatat(AT_FDCWD, copy, &st, AT_SYMLINK_NOFOLLOW) &&
			       S_ISLNK(st.st_mode)
			       ? -ELOOP
			       : -errno;
	if (fstat(fd, &st) < 0)
		err = -errno;
	else
		err = marker__tr_dir_ok(&st);
	if (err < 0) {
		close(fd);
		return err;
	}
	return fd;
}

int marker__tr_open_private_dir(int dir_fd, const char *name, int create)
{
	struct stat st;
	int fd;

	if (create) {
		/* Something planted under the name (a link, a file) goes; a directory stays. */
		if (!fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) && !S_ISDIR(st.st_mode) &&
		    unlinkat(dir_fd, name, 0) < 0)
			return -errno;
		if (mkdirat(dir_fd, name, 0700) < 0 && errno != EEXIST)
			return -errno;
	}
	fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOTDIR ? -ELOOP : -errno;
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 077)) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

int marker__tr_create(int dir_fd, const char *name, int flags, mode_t mode)
{
	int fd;

	if (unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT)
		return -errno;
	fd = openat(dir_fd, name, flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	/* EEXIST: planted again since the unlink; ours to refuse, not to follow. */
	return fd < 0 ? -errno : fd;
}

int marker__tr_check_own(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_nlink != 1)
		return -EPERM;
	return 0;
}

int marker__tr_open_own(int dir_fd, const char *name, int flags)
{
	int fd = openat(dir_fd, name, flags | O_NOFOLLOW | O_CLOEXEC, 0644), err;

	if (fd < 0)
		return -errno;
	err = marker__tr_check_own(fd);
	if (err < 0) {
		close(fd);
		return err;
	}
	return fd;
}

/* Past the decimal digits at @p (1 to 20 of them) and a '-', or NULL. */
static const char *digits_dash(const char *p)
{
	int n = 0;

	while (*p >= '0' && *p <= '9' && n < 21)
		p++, n++;
	return n >= 1 && n <= 20 && *p == '-' ? p + 1 : NULL;
}

int marker__tr_shm_target_ok(const char *target, const char *name)
{
	static const char prefix[] = "/dev/shm/markers-";
	const char *p = target + sizeof(prefix) - 1;

	/* /dev/shm/markers-PID-START-TAG-NAME (tracer_int.h) */
	if (strncmp(target, prefix, sizeof(prefix) - 1) || !(p = digits_dash(p)) ||
	    !(p = digits_dash(p)))
		return 0;
	for (int i = 0; i < 16; i++, p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return *p == '-' && !strcmp(p + 1, name);
}
