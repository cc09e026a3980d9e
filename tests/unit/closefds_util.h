/*
 * closefds_util.h - what the tests of programs that close every descriptor
 * share: the program's closefrom(3), its own files and directories on the
 * freed numbers, and the check that none was written into or emptied.
 */
#ifndef MARKERS_TESTS_CLOSEFDS_UTIL_H
#define MARKERS_TESTS_CLOSEFDS_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tap.h"

#define CF_NFILES 32
#define CF_TEXT "the program's own file\n"

static inline void cf_bail_out(const char *what)
{
	printf("Bail out! %s: %s\n", what, strerror(errno));
	exit(1);
}

/* closefrom(3), by hand (tap.h writes to stdout, which stays); how many were open. */
static inline int cf_close_all(void)
{
	int closed = 0;

	for (int fd = 3; fd < 1024; fd++)
		closed += close(fd) == 0;
	return closed;
}

/* The program's files (every fourth a directory) in @dir, on the lowest free numbers. */
static inline void cf_open_mine(const char *dir, int *fds)
{
	char path[256];

	for (int i = 0; i < CF_NFILES; i++) {
		snprintf(path, sizeof(path), "%s/%d", dir, i);
		if (i % 4 == 3) {
			mkdir(path, 0700);
			fds[i] = open(path, O_RDONLY | O_DIRECTORY);
		} else {
			fds[i] = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
			if (fds[i] >= 0 &&
			    write(fds[i], CF_TEXT, strlen(CF_TEXT)) != (ssize_t)strlen(CF_TEXT))
				cf_bail_out("write");
		}
		if (fds[i] < 0)
			cf_bail_out("open");
	}
}

/* Entries of directory @fd besides . and .., or -1. */
static inline int cf_entries(int fd)
{
	int n = 0, d = dup(fd);
	DIR *dp = d >= 0 ? fdopendir(d) : NULL;
	struct dirent *de;

	if (!dp)
		return -1;
	while ((de = readdir(dp)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(dp);
	return n;
}

/*
 * 1 if every file of cf_open_mine() kept its bytes and every directory is
 * still empty, still open as the program's; closes them.
 */
static inline int cf_mine_intact(int *fds)
{
	int intact = 1;

	for (int i = 0; i < CF_NFILES; i++) {
		struct stat sb;

		if (i % 4 == 3) {
			int n = cf_entries(fds[i]);

			if (n != 0) {
				diag("directory %d (descriptor %d) has %d entries", i, fds[i], n);
				intact = 0;
			}
		} else if (fstat(fds[i], &sb) < 0 || sb.st_size != (off_t)strlen(CF_TEXT)) {
			diag("file %d (descriptor %d): %s, size %lld", i, fds[i], strerror(errno),
			     (long long)sb.st_size);
			intact = 0;
		}
		close(fds[i]);
	}
	return intact;
}

#endif /* MARKERS_TESTS_CLOSEFDS_UTIL_H */
