/*
 * kept_fd.h - a descriptor the library keeps open across calls, and which
 * file it is.
 *
 * A program may close every descriptor it did not open itself
 * (closefrom(3), as daemons do) and open files of its own, which take
 * those numbers.  Written through blindly, such a number puts our bytes
 * (code, trace packets) into the program's file; read, it gives us the
 * program's directory for ours.  So a kept descriptor carries its device
 * and inode, and is checked (fstat: about 0.2 us) before a use that could
 * harm; one that is not ours any more is forgotten, never closed: the
 * number is the program's now.  A program that closes descriptors in one
 * thread while another works through ours races with itself; the check
 * narrows that to the instant between fstat and use.
 */
#ifndef MARKERS_KEPT_FD_H
#define MARKERS_KEPT_FD_H

#include <sys/stat.h>
#include <unistd.h>

struct marker__kept_fd {
	int fd; /* -1: none */
	dev_t dev;
	ino_t ino;
};

#define MARKER__KEPT_NONE {-1, 0, 0}

/* @k takes @fd (just opened, or -1): returns @fd, or -1 (closed) if fstat fails. */
static inline int marker__kept_set(struct marker__kept_fd *k, int fd)
{
	struct stat st;

	k->fd = -1;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	*k = (struct marker__kept_fd){fd, st.st_dev, st.st_ino};
	return fd;
}

/* Is @k open and still the file it was opened on?  If not, it is forgotten. */
static inline int marker__kept_ours(struct marker__kept_fd *k)
{
	struct stat st;

	if (k->fd < 0)
		return 0;
	if (fstat(k->fd, &st) == 0 && st.st_dev == k->dev && st.st_ino == k->ino)
		return 1;
	k->fd = -1;
	return 0;
}

/*
 * @fd, opened anew by name after @k was found not ours, becomes @k again
 * if it is the same file (device and inode); else it is closed.  Returns
 * 1 if @k is open again.
 */
static inline int marker__kept_again(struct marker__kept_fd *k, int fd)
{
	struct stat st;

	if (fd < 0)
		return 0;
	if (fstat(fd, &st) == 0 && st.st_dev == k->dev && st.st_ino == k->ino) {
		k->fd = fd;
		return 1;
	}
	close(fd);
	return 0;
}

/* Closes @k if it is still ours; forgets it either way. */
static inline void marker__kept_close(struct marker__kept_fd *k)
{
	if (marker__kept_ours(k))
		close(k->fd);
	k->fd = -1;
}

#endif /* MARKERS_KEPT_FD_H */
