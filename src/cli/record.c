/*
 * record.c - `markers record -- CMD`: run CMD with the tracer configured by
 * its environment, so that markers record from CMD's first instruction in
 * CMD and in every process of its tree that loads libmarkers, and finish
 * the traces however they end.  `-p PID` attaches instead (attach.c).
 *
 * No daemon: each process's own libmarkers records into a trace of its own
 * below DIR (DIR/NAME-PID-DATE/, tracer_env.c).  This process only sets the
 * environment, forwards signals, becomes the subreaper of CMD's tree (so
 * that daemons that double-fork stay its children), shows the live counters
 * that the tracers publish in their .stats, finishes the trace of every
 * process that died without finishing it (even by SIGKILL: record_tree.c),
 * and waits until the whole tree is gone.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "attach.h"
#include "markers/tracer.h"
#include "commands.h"
#include "control_client.h"
#include "filter_opts.h"
#include "progress.h"
#include "record_summary.h"
#include "record_tree.h"
#include "stop_signals.h"
#include "relay_record.h"
#include "trace_summary.h"

extern char **environ;

struct record_opts {
	struct filter_set fs; /* -e and --filter */
	const char *dir;
	int overwrite, quiet;
	uint64_t buffer_size, subbuf_size, child_buffer_size;
	double duration;
	pid_t pid, *pids; /* -p: the first, all of them */
	size_t npids;
	int all;          /* --all */
	struct relay_record relay; /* --relay, --live, --name: relay_record.c */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s record [OPTIONS] -- CMD [ARGS...]\n"
		"       %s record [OPTIONS] -p PID[,PID...] | --all [--duration SECONDS]\n"
		"       %s record --recover DIR\n"
		"\n"
		"Record a trace of CMD and of every process of its tree that uses libmarkers\n"
		"(the programs it runs, the children it forks, daemons), markers on from their\n"
		"first instruction; or of running processes until Ctrl-C.  No daemon, no root:\n"
		"each traced process's libmarkers writes its own trace (CTF 1.8) into\n"
		"DIR/NAME-PID-DATE/.  Shows live counters on a terminal and a summary per\n"
		"process at the end; waits for the whole tree; returns CMD's exit status.\n"
		"\n"
		"  -e, --event GLOB       record the markers matching GLOB (fnmatch; default '*');\n"
		"                         repeatable\n"
		"      --filter EXPR      record only the events that pass EXPR, e.g.\n"
		"                         'len > 512 && peer == \"10.*\"'; it applies to the -e\n"
		"                         given since the previous --filter (none: every marker)\n"
		"  -o, --output DIR       the recording's directory; a new or empty one\n"
		"                         (default ./markers-trace-YYYYMMDD-HHMMSS)\n"
		"      --overwrite        flight recorder: keep the newest events when the buffers\n"
		"                         are full (default: keep the oldest, count the others)\n"
		"  -b, --buffer-size SIZE buffer bytes per CPU of CMD (suffix K, M, G; default 2M,\n"
		"                         at most 256M)\n"
		"      --child-buffer-size SIZE\n"
		"                         buffer bytes per CPU of every other process of the tree\n"
		"                         (default 256K, or -b if smaller)\n"
		"      --subbuf-size SIZE bytes per sub-buffer, one CTF packet (suffix K, M; at\n"
		"                         most 64M, and 4096 sub-buffers)\n"
		"  -p, --pid PID[,PID...] attach to running processes instead of running CMD, and\n"
		"                         to the children they fork while recording (a trace each\n"
		"                         below DIR)\n"
		"      --all              every process of yours that uses libmarkers (markers ps),\n"
		"                         and those that start while recording\n"
		"  -d, --duration SECS    with -p or --all: stop after SECS seconds (default: Ctrl-C)\n"
		"      --recover DIR      finish the traces in DIR of processes that died while\n"
		"                         nobody recorded them (the recorder was killed)\n"
		"  -q, --quiet            no progress line and no summary\n"
		"  -h, --help             this help\n"
		"\n"
		"Then: markers view DIR, markers stats DIR, markers export --format=chrome DIR.\n",
		cli_progname, cli_progname, cli_progname);
	relay_record_usage(f);
}

/* "64K", "2M", "1G", "4096" -> bytes; 0 on error. */
static uint64_t parse_size(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return 0;
	switch (*end) {
	case 'k':
	case 'K':
		v <<= 10, end++;
		break;
	case 'm':
	case 'M':
		v <<= 20, end++;
		break;
	case 'g':
	case 'G':
		v <<= 30, end++;
		break;
	}
	if (*end == 'i' && end[1] == 'B')
		end += 2;
	else if (*end == 'B')
		end++;
	return *end ? 0 : v;
}

/* ---- the output directory ---- */

static int dir_is_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int empty = 1;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = 0;
	closedir(d);
	return empty;
}

static int mkdir_p(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(path, 0777) < 0 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	/* The trace directory itself: closed to others, as the tracer requires. */
	return mkdir(path, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

/*
 * The tracer refuses a directory that another user owns, or that others
 * may write into without the sticky bit: they could plant links under the
 * names it creates (docs/trace-format.md).  Say so before running CMD.
 * Returns 0, or 1 after printing why not.
 */
static int dir_is_safe(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "%s record: %s: %m\n", cli_progname, path);
		return 1;
	}
	if (st.st_uid != geteuid()) {
		fprintf(stderr,
			"%s record: %s belongs to another user (uid %u); a trace goes only into a "
			"directory of yours\n",
			cli_progname, path, (unsigned)st.st_uid);
		return 1;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
		fprintf(stderr,
			"%s record: %s can be written by other users (mode %04o, no sticky bit); a "
			"trace goes only into a directory they cannot write\n",
			cli_progname, path, (unsigned)(st.st_mode & 07777));
		return 1;
	}
	return 0;
}

/*
 * Create the trace directory, or accept an empty one; refuse one with
 * something in it (an old trace would mix with the new one).  Fills @abs
 * with its absolute path, and *@made_out with whether it was made here.
 * Returns 0, or 1 after printing why not.
 */
static int prepare_dir(const char *dir, int is_default, char *abs, size_t len, int *made_out)
{
	char path[PATH_MAX];
	struct stat st;
	int made = 0;

	snprintf(path, sizeof(path), "%s", dir);
	for (int n = 2; is_default && stat(path, &st) == 0 && n < 100; n++)
		snprintf(path, sizeof(path), "%s-%d", dir, n); /* two records in one second */
	if (stat(path, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			fprintf(stderr, "%s record: %s exists and is not a directory\n", cli_progname,
				path);
			return 1;
		}
		if (dir_is_empty(path) != 1) {
			fprintf(stderr,
				"%s record: %s is not empty; give a new directory with -o, or remove "
				"it\n",
				cli_progname, path);
			return 1;
		}
	} else {
		if (mkdir_p(path) < 0) {
			fprintf(stderr, "%s record: cannot create %s: %m\n", cli_progname, path);
			return 1;
		}
		made = 1;
	}
	if (dir_is_safe(path)) {
		if (made)
			rmdir(path);
		return 1;
	}
	if (access(path, W_OK | X_OK) < 0) {
		fprintf(stderr, "%s record: cannot write into %s: %m\n", cli_progname, path);
		if (made)
			rmdir(path);
		return 1;
	}
	/*
	 * A trace needs a few blocks whatever happens (metadata, .stats, and
	 * room kept for each stream's final counts): on a file system without
	 * them the recording could not even start, and nothing would say so.
	 */
	struct statvfs vfs;
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	uint64_t need = (uint64_t)((ncpu > 0 ? ncpu : 1) + 4) * 4096;

	if (statvfs(path, &vfs) == 0 && (uint64_t)vfs.f_bavail * vfs.f_frsize < need) {
		fprintf(stderr, "%s record: no space left in %s (%llu bytes free)\n", cli_progname,
			path, (unsigned long long)vfs.f_bavail * vfs.f_frsize);
		if (made)
			rmdir(path);
		return 1;
	}
	if (!realpath(path, abs) || strlen(abs) >= len) {
		fprintf(stderr, "%s record: %s: %m\n", cli_progname, path);
		return 1;
	}
	*made_out = made;
	return 0;
}

static void unlink_record_file(const char *dir)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/.record", dir);
	unlink(path);
}

static void default_dir(char *buf, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(buf, len, "markers-trace-%Y%m%d-%H%M%S", &tm);
}

/* ---- the child's environment ---- */

#define DEFAULT_CHILD_BUFFER (256u << 10)

/*
 * Per CPU, the buffers of each process but CMD itself: --child-buffer-size,
 * else 256 KiB, or -b if smaller.  A tree of many processes then costs
 * 256 KiB x CPUs each, not 2 MiB x CPUs (docs/trace-format.md).
 */
static uint64_t child_buffer_size(const struct record_opts *o)
{
	if (o->child_buffer_size)
		return o->child_buffer_size;
	if (o->buffer_size && o->buffer_size < DEFAULT_CHILD_BUFFER)
		return o->buffer_size;
	return DEFAULT_CHILD_BUFFER;
}

static char **child_env(const struct record_opts *o, const char *dir)
{
	size_t n = 0, k = 0;
	char **env, buf[64];

	while (environ[n])
		n++;
	env = calloc(n + 12 + 2 * o->fs.n, sizeof(*env));
	if (!env)
		return NULL;
	/* Our settings replace any the user had exported. */
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "MARKERS_RECORD", 14))
			env[k++] = environ[i];
	/* MARKERS_RECORD, and with filters MARKERS_RECORD_FILTER and the numbered groups. */
	if (filter_env(&o->fs, env, &k) < 0)
		return NULL;
	if (asprintf(&env[k++], "MARKERS_RECORD_DIR=%s", dir) < 0)
		return NULL;
	env[k++] = strdup(o->overwrite ? "MARKERS_RECORD_MODE=overwrite" : "MARKERS_RECORD_MODE=discard");
	if (o->buffer_size) {
		snprintf(buf, sizeof(buf), "MARKERS_RECORD_BUFFER_SIZE=%" PRIu64, o->buffer_size);
		env[k++] = strdup(buf);
	}
	if (o->subbuf_size) {
		snprintf(buf, sizeof(buf), "MARKERS_RECORD_SUBBUF_SIZE=%" PRIu64, o->subbuf_size);
		env[k++] = strdup(buf);
	}
	if ((env[k] = relay_record_env(&o->relay)))
		k++;
	/*
	 * Every process of the tree in a trace of its own below DIR; the
	 * others' buffers smaller.  The relay streams each of these traces.
	 */
	env[k++] = strdup("MARKERS_RECORD_LAYOUT=process");
	snprintf(buf, sizeof(buf), "MARKERS_RECORD_CHILD_BUFFER_SIZE=%" PRIu64, child_buffer_size(o));
	env[k++] = strdup(buf);
	env[k] = NULL; /* spawn() adds MARKERS_RECORD_ROOT_PID here, in the child */
	return env;
}

/* Frees what child_env() allocated: the array and our MARKERS_RECORD* strings. */
static void free_child_env(char **env)
{
	for (char **e = env; *e; e++)
		if (!strncmp(*e, "MARKERS_RECORD", 14))
			free(*e);
	free(env);
}

/* ---- signals ---- */

static volatile sig_atomic_t child_pid, stop_waiting;

/*
 * A signal that a process sent us (kill, a supervisor) goes on to CMD.  One
 * from the terminal (Ctrl-C) reached CMD already, as it is in our process
 * group: sending it again would count twice for a program that stops on a
 * second Ctrl-C.  Either way we stay, to finish the traces after CMD.  Once
 * CMD is gone, any of them ends the wait for the rest of its tree.
 */
static void forward(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (child_pid > 0 && si->si_code != SI_KERNEL)
		kill(child_pid, sig);
	else if (child_pid == 0)
		stop_waiting = 1;
}

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

/* ---- running CMD ---- */

static void show_progress(const struct rt_totals *t, double t0)
{
	char ev[32], lost[32], size[32];

	format_count(t->recorded, ev, sizeof(ev));
	format_count(t->discarded, lost, sizeof(lost));
	format_size(t->bytes, size, sizeof(size));
	fprintf(stderr, "\r\033[Krecording... %.1f s: %s events, %s, %s lost", now_s() - t0, ev,
		size, lost);
	if (t->procs > 1 || t->live > 1)
		fprintf(stderr, ", %u processes (%u live)", t->procs, t->live);
}

/* Fork and exec; returns the child's pid, or -1 after printing why. */
static pid_t spawn(char **argv, char **env)
{
	int pfd[2], err = 0;
	pid_t pid;
	ssize_t r;

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		fprintf(stderr, "%s record: pipe: %m\n", cli_progname);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "%s record: fork: %m\n", cli_progname);
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
			signal(forwarded[i], SIG_DFL);
		char root[64];
		size_t k = 0;

		while (env[k])
			k++;
		snprintf(root, sizeof(root), "MARKERS_RECORD_ROOT_PID=%d", (int)getpid());
		env[k] = root;
		environ = env;
		execvp(argv[0], argv);
		err = errno;
		if (write(pfd[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	close(pfd[1]);
	/* The pipe closes on a successful exec; else it brings the errno. */
	do
		r = read(pfd[0], &err, sizeof(err));
	while (r < 0 && errno == EINTR);
	close(pfd[0]);
	if (r == sizeof(err)) {
		waitpid(pid, NULL, 0);
		fprintf(stderr, "%s record: cannot run %s: %s\n", cli_progname, argv[0],
			strerror(err));
		return -1;
	}
	return pid;
}

static int run(const struct record_opts *o, char **argv, const char *dir, int made)
{
	struct sigaction sa = {.sa_sigaction = forward, .sa_flags = SA_SIGINFO | SA_RESTART};
	int progress = !o->quiet && isatty(STDERR_FILENO), status = 0, exit_status, failed;
	int cmd_done = 0, announced = 0, rec_fd;
	sigset_t chld, old;
	char **env = child_env(o, dir);
	double t0 = now_s(), next = t0;
	struct rt_totals tot = {0};
	uint64_t peak = 0;
	pid_t pid;

	if (!env) {
		fprintf(stderr, "%s record: out of memory\n", cli_progname);
		return 1;
	}
	rec_fd = rt_begin(dir, argv);
	if (rec_fd < 0) {
		free_child_env(env);
		return 1;
	}
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaction(forwarded[i], &sa, NULL);
	/* Orphans of CMD's tree (daemons that double-fork) become our children, to wait for. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	pid = spawn(argv, env);
	free_child_env(env);
	if (pid < 0) {
		close(rec_fd);
		unlink_record_file(dir);
		if (made && dir_is_empty(dir) == 1)
			rmdir(dir);
		return 1;
	}
	child_pid = pid;
	for (;;) {
		struct timespec ts = {0, 250 * 1000 * 1000};
		int st, descendants = 1;
		pid_t w;

		while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
			if (w == pid) {
				status = st;
				cmd_done = 1;
				child_pid = 0;
			}
		}
		if (w < 0 && errno == ECHILD)
			descendants = 0;
		else if (w < 0 && errno != EINTR) {
			fprintf(stderr, "%s record: waitpid: %m\n", cli_progname);
			break;
		}
		if (now_s() >= next || (cmd_done && !descendants)) {
			/* Finish the traces of the processes that are gone; count the rest. */
			rt_finish_dead(dir, &tot);
			if (tot.live_buffers > peak)
				peak = tot.live_buffers;
			if (progress)
				show_progress(&tot, t0);
			next = now_s() + 0.25;
		}
		if (cmd_done && (!descendants || stop_waiting))
			break;
		if (cmd_done && !announced && !o->quiet) {
			announced = 1;
			fprintf(stderr,
				"%s%s record: %s exited; waiting for the rest of its processes "
				"(Ctrl-C stops waiting)\n",
				progress ? "\r\033[K" : "", cli_progname, argv[0]);
		}
		/* Wakes on SIGCHLD, on a forwarded signal, or for the next progress line. */
		sigtimedwait(&chld, NULL, &ts);
	}
	if (progress)
		fprintf(stderr, "\r\033[K");
	rt_finish_dead(dir, &tot);
	failed = tot.failed;
	if (tot.live)
		fprintf(stderr,
			"%s record: %u process%s of the tree still record%s into %s (pid %ld%s); each "
			"finishes its trace when it exits\n",
			cli_progname, tot.live, tot.live == 1 ? "" : "es", tot.live == 1 ? "s" : "",
			dir, tot.live_pids[0], tot.live > 1 ? ", ..." : "");
	rt_end(rec_fd, dir, "finished");
	if (WIFSIGNALED(status)) {
		exit_status = 128 + WTERMSIG(status);
		fprintf(stderr, "%s record: %s was killed by signal %d (%s)\n", cli_progname,
			argv[0], WTERMSIG(status), strsignal(WTERMSIG(status)));
	} else {
		exit_status = WEXITSTATUS(status);
		if (exit_status && !o->quiet)
			fprintf(stderr, "%s record: %s exited with status %d\n", cli_progname,
				argv[0], exit_status);
	}
	/* A full disk: the trace is whole up to where it stopped, and the losses are counted. */
	failed |= record_incomplete(dir);
	if (!o->quiet && (!o->relay.url || o->relay.local))
		record_summary(dir, argv[0], now_s() - t0, failed, peak);
	sigprocmask(SIG_SETMASK, &old, NULL);
	/* CMD's own failure first; else the trace's. */
	return exit_status ? exit_status : failed;
}

int cmd_record(int argc, char **argv)
{
	static const struct option opts[] = {
		{"event", required_argument, NULL, 'e'},
		{"filter", required_argument, NULL, 'F'},
		{"output", required_argument, NULL, 'o'},
		{"overwrite", no_argument, NULL, 'O'},
		{"buffer-size", required_argument, NULL, 'b'},
		{"subbuf-size", required_argument, NULL, 'S'},
		{"child-buffer-size", required_argument, NULL, 'C'},
		{"recover", required_argument, NULL, 'R'},
		{"pid", required_argument, NULL, 'p'},
		{"all", no_argument, NULL, 'A'},
		{"duration", required_argument, NULL, 'd'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		RELAY_RECORD_OPTIONS,
		{0},
	};
	struct record_opts o = {0};
	char defdir[64], abs[PATH_MAX], *end;
	int opt, rc, made = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+e:o:b:p:d:qh", opts, NULL)) != -1) {
		switch (opt) {
		case 'e':
			if (strchr(optarg, ',')) {
				fprintf(stderr, "%s record: a glob cannot hold ',': give -e twice\n",
					cli_progname);
				goto usage_error;
			}
			if (filter_set_glob(&o.fs, optarg, "record"))
				goto fail;
			break;
		case 'F':
			rc = filter_set_filter(&o.fs, optarg, "record");
			if (rc) {
				filter_set_free(&o.fs);
				return rc;
			}
			break;
		case 'o':
			o.dir = optarg;
			break;
		case 'O':
			o.overwrite = 1;
			break;
		case 'b':
		case 'S':
		case 'C':
			if (!parse_size(optarg)) {
				fprintf(stderr, "%s record: bad size '%s' (like 4M, 256K)\n",
					cli_progname, optarg);
				goto usage_error;
			}
			*(opt == 'b' ? &o.buffer_size
				     : opt == 'S' ? &o.subbuf_size : &o.child_buffer_size) =
				parse_size(optarg);
			break;
		case 'R':
			filter_set_free(&o.fs);
			if (optind != argc) {
				fprintf(stderr, "%s record: --recover DIR takes nothing else\n",
					cli_progname);
				return 2;
			}
			return rt_recover_cmd(optarg);
		case 'p':
			if (ctl_parse_pids(optarg, &o.pids, &o.npids) < 0) {
				fprintf(stderr, "%s record: bad PID '%s' (or list: 12,34)\n",
					cli_progname, optarg);
				goto usage_error;
			}
			o.pid = o.pids[0];
			break;
		case 'A':
			o.all = 1;
			break;
		case 'd':
			o.duration = strtod(optarg, &end);
			if (*end || o.duration <= 0) {
				fprintf(stderr, "%s record: bad duration '%s'\n", cli_progname, optarg);
				goto usage_error;
			}
			break;
		case 'q':
			o.quiet = 1;
			break;
		case RELAY_OPT_RELAY:
		case RELAY_OPT_LIVE:
		case RELAY_OPT_NAME:
			if (relay_record_option(&o.relay, opt, optarg))
				goto usage_error;
			break;
		case 'h':
			usage(stdout);
			filter_set_free(&o.fs);
			return 0;
		default:
			usage(stderr);
			filter_set_free(&o.fs);
			return 2;
		}
	}
	if (o.all && o.pid) {
		fprintf(stderr, "%s record: -p PID or --all: one or the other\n", cli_progname);
		goto usage_error;
	}
	if (o.pid || o.all ? optind != argc : optind == argc) {
		fprintf(stderr, "%s record: %s\n", cli_progname,
			o.pid || o.all ? "-p PID (or --all) and a command: one or the other"
				       : "what should run? (markers record -- CMD [ARGS...])");
		goto usage_error;
	}
	if (o.duration > 0 && !o.pid && !o.all) {
		fprintf(stderr, "%s record: --duration is for -p PID; CMD ends by itself\n",
			cli_progname);
		goto usage_error;
	}
	/* The tracer's bounds (markers/tracer.h): said here, not found missing after the run. */
	if (o.subbuf_size > MARKER_TRACER_MAX_SUBBUF_SIZE ||
	    o.buffer_size > MARKER_TRACER_MAX_BUFFER_SIZE ||
	    o.child_buffer_size > MARKER_TRACER_MAX_BUFFER_SIZE ||
	    o.buffer_size / (o.subbuf_size ? o.subbuf_size : 256 * 1024) > MARKER_TRACER_MAX_NSUBBUFS) {
		fprintf(stderr,
			"%s record: buffers too big: at most %uM per CPU, sub-buffers of at most "
			"%uM, %u of them\n",
			cli_progname, MARKER_TRACER_MAX_BUFFER_SIZE >> 20,
			MARKER_TRACER_MAX_SUBBUF_SIZE >> 20, MARKER_TRACER_MAX_NSUBBUFS);
		goto usage_error;
	}
	/* Filters against the markers known now: nothing starts if one cannot apply. */
	rc = 0;
	for (size_t i = 0; i < o.npids && !rc; i++)
		rc = filter_check_pid(&o.fs, o.pids[i], "record");
	/* (--all: each process joined checks them itself, and refuses what cannot apply) */
	if (!o.pid && !o.all)
		rc = filter_check_program(&o.fs, argv[optind], "record");
	if (rc) {
		filter_set_free(&o.fs);
		free(o.pids);
		return rc;
	}
	rc = relay_record_dir(&o.relay, &o.dir, o.overwrite, o.pid ? NULL : argv[optind], o.pid);
	if (rc) {
		filter_set_free(&o.fs);
		free(o.pids);
		return rc;
	}
	if (!o.dir)
		default_dir(defdir, sizeof(defdir));
	if (prepare_dir(o.dir ? o.dir : defdir, !o.dir, abs, sizeof(abs), &made) ||
	    relay_record_start(&o.relay, abs)) {
		filter_set_free(&o.fs);
		free(o.pids);
		return 1;
	}
	if (o.pid || o.all) {
		struct attach_options ao = {
			.size = sizeof(ao),
			.dir = abs,
			.globs = o.fs.globs,
			.filters = o.fs.filters,
			.nglobs = o.fs.n,
			.subbuf_size = o.subbuf_size,
			.overwrite = o.overwrite,
			.duration = o.duration,
			.progress = o.quiet ? 0 : -1,
			.live_period_ms = relay_record_live(&o.relay),
		};

		if (o.buffer_size) {
			size_t sb = o.subbuf_size ? o.subbuf_size : 256 * 1024;

			ao.nsubbufs = o.buffer_size / sb < 2 ? 2 : (unsigned)(o.buffer_size / sb);
		}
		/* One layout for every -p: a trace per process below DIR, descendants too. */
		rc = attach_record_many(o.pids, o.npids, o.all, &ao);
		if (rc && made && dir_is_empty(abs) == 1)
			rmdir(abs); /* nothing was recorded: leave no trace behind */
	} else {
		rc = run(&o, argv + optind, abs, made);
	}
	rc = relay_record_finish(&o.relay, abs, o.quiet, rc);
	filter_set_free(&o.fs);
	free(o.pids);
	return rc;
usage_error:
	filter_set_free(&o.fs);
	free(o.pids);
	return 2;
fail:
	filter_set_free(&o.fs);
	free(o.pids);
	return 1;
}
