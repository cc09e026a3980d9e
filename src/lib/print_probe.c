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
#include <unistd.h>

#include "print_probe.h"
#include "registry.h"
#include "warn.h"

static int print_fd = 2;

void marker__print_probe(const struct marker *marker, void *priv, const char *fmt,
			 va_list *args)
{
	char line[1024];
	size_t len, room;
	int n;

	(void)priv;
	/* A marker without arguments (MARK_NOARGS) prints its name alone. */
	if (!strcmp(fmt, MARK_NOARGS)) {
		n = snprintf(line, sizeof(line) - 1, "%s", marker->name);
	} else {
		n = snprintf(line, sizeof(line) - 1, "%s: ", marker->name);
		len = n < 0 ? 0 : (size_t)n;
		if (len < sizeof(line) - 1) {
			room = sizeof(line) - 1 - len;
			n = vsnprintf(line + len, room, fmt, *args);
			n = n < 0 ? (int)len : (size_t)n < room ? (int)(len + n) : (int)(len + room - 1);
		}
	}
	len = n < 0 ? 0 : (size_t)n < sizeof(line) - 1 ? (size_t)n : sizeof(line) - 2;
	line[len++] = '\n';
	while (write(print_fd, line, len) < 0 && errno == EINTR)
		;
}

int marker__print_probe_setup(const char *globs, const char *file)
{
	char *copy, *save = NULL;
	int count = 0;

	if (file && *file) {
		int fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		if (fd < 0) {
			marker__warn("MARKERS_PRINT_FILE=%s: %s; printing to stderr", file,
				     strerror(errno));
		} else {
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
