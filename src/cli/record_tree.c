/*
 * record_tree.c - the process traces of a recording directory, from the
 * recorder's side (record_tree.h).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "proc_select.h"
#include "progress.h"
#include "record_tree.h"

typedef int recover_fn(const char *dir);

/*
 * The library's functions the CLI calls (marker_tracer_recover, _gc) live
 * in libmarkers.  The CLI does not link it: its constructors would start a
 * recording or a control channel in every `markers` command.  Load it from
 * ../lib beside this executable (as installed), else from the loader's
 * path, once, with the environment that starts either taken away first
 * (only our own copy of it).
 */
void *rt_lib_sym(const char *name)
{
	static void *h;
	static int tried;

	if (!tried) {
		char exe[PATH_MAX], lib[PATH_MAX + 32];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

		tried = 1;
		unsetenv("MARKERS_RECORD");
		unsetenv("MARKERS_PRINT");
		setenv("MARKERS_CONTROL", "0", 1);
		if (n > 0) {
			char *slash;

			exe[n] = 0;
			slash = strrchr(exe, '/');
			if (slash) {
				*slash = 0;
				snprintf(lib, sizeof(lib), "%s/../lib/libmarkers.so.1", exe);
				h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
			}
		}
		if (!h)
			h = dlopen("libmarkers.so.1", RTLD_NOW | RTLD_LOCAL);
		/* Left open: the library's threads may be running. */
	}
	return h ? dlsym(h, name) : NULL;
}

int rt_recover_one(const char *dir, const char **why)
{
	recover_fn *fn = (recover_fn *)rt_lib_sym("marker_tracer_recover");

	if (!fn) {
		*why = "libmarkers.so.1 with marker_tracer_recover() not found";
		return -ENOENT;
	}
	return fn(dir);
}

static int exists_at(const char *dir, const char *name)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return !access(path, F_OK);
}

/* Remove an empty process trace: its regular files, then the directory. */
static void remove_trace(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_type == DT_REG || de->d_type == DT_UNKNOWN)
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	rmdir(dir);
}

/* Finish @dir if its process is gone; account for it in @t. */
static void finish_one(const char *dir, struct rt_totals *t)
{
	struct live_stats ls;
	const char *why = NULL;
	int rc, was_recording = 0;

	/*
	 * .stats exists once the tracer holds the buffers' lock: before that,
	 * a starting process must not find its lock taken by us.
	 */
	if (live_stats_read(dir, &ls) < 0)
		return;
	if (exists_at(dir, ".buffers")) {
		rc = rt_recover_one(dir, &why);
		if (rc == -EBUSY) {
			if (t->live < sizeof(t->live_pids) / sizeof(t->live_pids[0]))
				t->live_pids[t->live] = ls.pid;
			t->live++;
			t->procs++;
			t->recorded += ls.recorded;
			t->discarded += ls.discarded;
			t->bytes += ls.bytes;
			t->live_buffers += ls.buffers;
			return;
		}
		was_recording = 1;
		if (live_stats_read(dir, &ls) < 0)
			return;
		/* A full disk or a write error is said by record_incomplete(), with its count. */
		if (rc < 0 && rc != -ENOENT && rc != -EINVAL && !ls.error[0]) {
			fprintf(stderr, "%s record: cannot finish the trace in %s: %s\n",
				cli_progname, dir, why ? why : strerror(-rc));
			t->failed = 1;
		}
	}
	if (was_recording && !ls.recorded && !ls.discarded && !ls.filtered && !ls.error[0] &&
	    !strcmp(ls.state, "recovered")) {
		remove_trace(dir);
		if (t->pruned < sizeof(t->pruned_pids) / sizeof(t->pruned_pids[0]))
			t->pruned_pids[t->pruned] = ls.pid;
		t->pruned++;
		return;
	}
	t->procs++;
	t->recorded += ls.recorded;
	t->discarded += ls.discarded;
	t->bytes += ls.bytes;
}

void rt_finish_dead(const char *root, struct rt_totals *t)
{
	DIR *d;
	struct dirent *de;

	memset(t, 0, sizeof(*t));
	if (exists_at(root, ".stats")) { /* one trace, not a tree */
		finish_one(root, t);
		return;
	}
	d = opendir(root);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[PATH_MAX];

		if (de->d_name[0] == '.' || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", root, de->d_name) >= sizeof(path))
			continue;
		finish_one(path, t);
	}
	closedir(d);
}

static int write_record(int fd, const char *state, char *const *argv)
{
	FILE *f;
	int dup_fd = dup(fd), err;

	if (dup_fd < 0 || ftruncate(fd, 0) || !(f = fdopen(dup_fd, "w"))) {
		if (dup_fd >= 0)
			close(dup_fd);
		return -1;
	}
	fseek(f, 0, SEEK_SET);
	fprintf(f, "recorder %ld\nstate %s\n", (long)getpid(), state);
	if (argv) {
		fprintf(f, "command");
		for (; *argv; argv++)
			fprintf(f, " %s", *argv);
		fprintf(f, "\n");
	}
	err = fclose(f);
	return err ? -1 : 0;
}

int rt_begin(const char *root, char *const *argv)
{
	char path[PATH_MAX + 16];
	int fd;

	snprintf(path, sizeof(path), "%s/.record", root);
	/* A new file, never through a link another user planted (docs/trace-format.md). */
	if (unlink(path) < 0 && errno != ENOENT)
		fd = -1;
	else
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) || write_record(fd, "recording", argv)) {
		fprintf(stderr, "%s record: cannot write %s: %m\n", cli_progname, path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

void rt_end(int fd, const char *root, const char *state)
{
	char path[PATH_MAX + 16];
	int own = fd < 0;

	if (own) {
		snprintf(path, sizeof(path), "%s/.record", root);
		fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return;
	}
	/* The command line stays: only the state changes. */
	{
		char buf[4096];
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
		char *cmd;
		FILE *f;

		buf[n > 0 ? n : 0] = 0;
		cmd = strstr(buf, "\ncommand ");
		if (ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0 &&
		    (f = fdopen(dup(fd), "w"))) {
			long pid = 0;

			sscanf(buf, "recorder %ld", &pid);
			fprintf(f, "recorder %ld\nstate %s\n%s", pid ? pid : (long)getpid(), state,
				cmd ? cmd + 1 : "");
			fclose(f);
		}
	}
	close(fd);
}

int rt_recover_cmd(const char *dir)
{
	struct rt_totals t;
	char count[32], lost[32];
	long pid;
	struct stat st;

	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "%s record: --recover %s: %s\n", cli_progname, dir,
			errno ? strerror(errno) : "not a directory");
		return 1;
	}
	rt_finish_dead(dir, &t);
	if (t.failed)
		return 1;
	if (recording_state(dir, &pid) == 2)
		rt_end(-1, dir, "recovered");
	format_count(t.recorded, count, sizeof(count));
	format_count(t.discarded, lost, sizeof(lost));
	fprintf(stderr, "%s record: %s: %u process%s, %s events, %s lost", cli_progname, dir,
		t.procs, t.procs == 1 ? "" : "es", count, lost);
	if (t.live)
		fprintf(stderr, "; %u still recording (pid %ld%s)", t.live, t.live_pids[0],
			t.live > 1 ? ", ..." : "");
	fprintf(stderr, "\n");
	return 0;
}
