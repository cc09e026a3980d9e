/*
 * patch_closefds.c - a program that closes every descriptor it did not
 * open itself (closefrom(3), as daemons do) and then opens files of its
 * own, which take the numbers the patcher's descriptors had.  The next
 * switch must write the program's text, not the program's files, and see
 * its threads, not whatever directory now has that number.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tap.h"
#include "unit/patch_util.h"

#define NFILES 24
#define TEXT "the program's own file\n"

static int hits;

static void bail_out(const char *what)
{
	printf("Bail out! %s: %s\n", what, strerror(errno));
	exit(1);
}

static void probe(const struct marker *m, void *priv, const char *fmt, va_list *args)
{
	(void)m, (void)priv, (void)fmt, (void)args;
	hits++;
}

__attribute__((noinline)) static void fire(int x)
{
	trace_mark_immediate(cf_imm, "x %d", x);
	trace_mark_jump(cf_jmp, "x %d", x);
}

static int sites(int on)
{
	return pu_check_sites("cf_imm", on) == 0 && pu_check_sites("cf_jmp", on) == 0;
}

static int switch_both(int on)
{
	if (on)
		return marker_probe_register("cf_imm", NULL, probe, NULL) == 0 &&
		       marker_probe_register("cf_jmp", NULL, probe, NULL) == 0;
	return marker_probe_unregister("cf_imm", probe, NULL) == 0 &&
	       marker_probe_unregister("cf_jmp", probe, NULL) == 0;
}

int main(int argc, char **argv)
{
	int patched = pu_sites("cf_imm").kind != MARKER_KIND_GENERIC;
	char dir[] = "/tmp/markers-closefds-XXXXXX", path[sizeof(dir) + 16];
	int fds[NFILES], intact = 1, closed = 0;

	(void)argc;
	/* No listener: its socket is another story (control.c: POLLNVAL). */
	if (!getenv("MARKERS_CONTROL")) {
		setenv("MARKERS_CONTROL", "0", 1);
		execv("/proc/self/exe", argv);
	}
	plan(5);
	if (!mkdtemp(dir))
		bail_out("mkdtemp");
	/* Two switches: the patcher's descriptors are open. */
	ok(switch_both(1) && (fire(1), hits == 2) && switch_both(0) && (!patched || sites(0)),
	   "switched on and off before the program closes its descriptors");

	/* closefrom(3), by hand (tap.h writes to stdout, which stays). */
	for (int fd = 3; fd < 1024; fd++)
		closed += close(fd) == 0;
	/* Files and directories of the program's, on the lowest numbers. */
	for (int i = 0; i < NFILES; i++) {
		snprintf(path, sizeof(path), "%s/%d", dir, i);
		if (i % 4 == 3) {
			mkdir(path, 0700);
			fds[i] = open(path, O_RDONLY | O_DIRECTORY);
		} else {
			fds[i] = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
			if (fds[i] >= 0 && write(fds[i], TEXT, strlen(TEXT)) != (ssize_t)strlen(TEXT))
				bail_out("write");
		}
		if (fds[i] < 0)
			bail_out("open");
	}
	diag("closed %d descriptors; the program's now take %d..%d", closed, fds[0],
	     fds[NFILES - 1]);

	hits = 0;
	ok(switch_both(1), "switched on after the program closed them");
	ok(!patched || sites(1), "the sites are in their taken form");
	fire(1);
	ok(hits == 2 && switch_both(0) && (!patched || sites(0)),
	   "both probes ran, and the sites went back off");

	for (int i = 0; i < NFILES; i++) {
		struct stat st;

		if (i % 4 == 3)
			continue;
		if (fstat(fds[i], &st) < 0 || st.st_size != (off_t)strlen(TEXT)) {
			diag("file %d (descriptor %d): size %lld", i, fds[i], (long long)st.st_size);
			intact = 0;
		}
	}
	ok(intact, "no byte written into the program's files");

	for (int i = 0; i < NFILES; i++) {
		snprintf(path, sizeof(path), "%s/%d", dir, i);
		close(fds[i]);
		if (i % 4 == 3)
			rmdir(path);
		else
			unlink(path);
	}
	rmdir(dir);
	return done();
}
