/*
 * print_probe.c - the seed's MF_PRINTK: "name: formatted arguments" lines.
 *
 * MARKERS_PRINT=glob[,glob...] connects it at start-up; the lines go to
 * stderr, or to MARKERS_PRINT_FILE (appended).  Each line is formatted on
 * the stack and written with one write(2), so lines from several threads
 * and from signal handlers do not interleave.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "print_probe.h"
#include "registry.h"
#include "warn.h"

static int print_fd = 2;
static dev_t print_dev; /* MARKERS_PRINT_FILE's, when print_fd is it */
static ino_t print_ino;

/*
 * The descriptor to write to: MARKERS_PRINT_FILE's while it is still that
 * file.  A program that closes every descriptor (closefrom(3)) may open a
 * file of its own on the number (kept_fd.h): the lines go to stderr from
 * then on, never into the program's file.
 */
static int print_target(void)
{
	int fd = __atomic_load_n(&print_fd, __ATOMIC_RELAXED);
	struct stat st;

	if (fd == 2 || (fstat(fd, &st) == 0 && st.st_dev == print_dev && st.st_ino == print_ino))
		return fd;
	if (__atomic_exchange_n(&print_fd, 2, __ATOMIC_RELAXED) != 2)
		marker__warn("MARKERS_PRINT_FILE: its descriptor was closed by the program; "
			     "printing to stderr");
	return 2;
}

/*
 * The length of a line of @cap bytes after a snprintf() at @len that
 * returned @n: what it wrote, not what it wanted to.
 */
static size_t grown(size_t len, int n, size_t cap)
{
	size_t room = cap - len - 1; /* snprintf keeps one byte for the NUL */

	if (n < 0)
		return len;
	return len + ((size_t)n < room ? (size_t)n : room);
}

void marker__print_probe(const struct marker *marker, void *priv, const char *fmt,
			 va_list *args)
{
	char line[1024];
	size_t cap = sizeof(line) - 1; /* the last byte is for the newline */
	size_t len = 0;

	(void)priv;
	len = grown(len, snprintf(line, cap, "%s", marker->name), cap);
	/* A marker without arguments (MARK_NOARGS) prints its name alone. */
	if (strcmp(fmt, MARK_NOARGS)) {
		len = grown(len, snprintf(line + len, cap - len, ": "), cap);
		len = grown(len, vsnprintf(line + len, cap - len, fmt, *args), cap);
	}
	line[len++] = '\n';
	while (write(print_target(), line, len) < 0 && errno == EINTR)
		;
}

/*
 * Open MARKERS_PRINT_FILE for appending, never through a symbolic link (one
 * planted in a shared directory would make us append to a file of the
 * victim's), and never into a regular file that is not ours alone (a hard
 * link, or another user's file in /tmp).  A device or a FIFO is fine.
 * Returns the descriptor or -errno.
 */
static int open_print_file(const char *file)
{
	struct stat st;
	int fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 ||
	    (S_ISREG(st.st_mode) && (st.st_uid != geteuid() || st.st_nlink != 1))) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

int marker__print_probe_setup(const char *globs, const char *file)
{
	char *copy, *save = NULL;
	int count = 0;

	if (file && *file) {
		int fd = open_print_file(file);

		if (fd < 0)
			marker__warn("MARKERS_PRINT_FILE=%s: %s; printing to stderr", file,
				     fd == -ELOOP ? "a symbolic link, not followed" : strerror(-fd));
		else {
			struct stat st;

			fstat(fd, &st); /* open_print_file() did it: it works */
			print_dev = st.st_dev;
			print_ino = st.st_ino;
			print_fd = fd;
		}
	}
	copy = strdup(globs);
	if (!copy)
		return -ENOMEM;
	for (char *g = strtok_r(copy, ",", &save); g; g = strtok_r(NULL, ",", &save)) {
		int n = marker_probe_register_glob(g, marker__print_probe, NULL);

		if (n > 0)
			count += n;
	}
	free(copy);
	return count;
}
