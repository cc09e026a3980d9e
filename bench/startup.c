/*
 * startup.c - what instrumentation adds to a process's start and exit.
 *
 *	startup [-n ROUNDS] LABEL=PROGRAM[,VAR=VALUE...] ...
 *
 * Runs each program ROUNDS times, the programs in turn within a round (so
 * that a change of the machine's load falls on all of them alike), and
 * times each run from posix_spawn() to the end of wait4(); also the CPU
 * time the process used (user + system, all its threads), which the load
 * of the machine disturbs less.  The first program is the baseline.
 * Prints per program the medians and the wall time's quartiles:
 *	name=startup.LABEL ns_per_op=... q1_ns=... q3_ns=... extra_ns=... cpu_ns=...
 *	    cpu_extra_ns=... ratio_vs_baseline=...
 */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"

extern char **environ;

struct prog {
	const char *label;
	char *path;
	char **env;
	double *ns, *cpu;
};

/* LABEL=PROGRAM[,VAR=VALUE...]: the environment is ours plus the VAR=VALUEs. */
static int parse(char *arg, struct prog *p, int rounds)
{
	char *eq = strchr(arg, '='), *tok, *save;
	size_t n = 0, extra = 0;

	if (!eq)
		return -1;
	*eq = 0;
	p->label = arg;
	for (char *c = eq + 1; *c; c++)
		extra += *c == ',';
	while (environ[n])
		n++;
	p->env = calloc(n + extra + 1, sizeof(*p->env));
	p->ns = calloc((size_t)rounds, sizeof(*p->ns));
	p->cpu = calloc((size_t)rounds, sizeof(*p->cpu));
	if (!p->env || !p->ns || !p->cpu)
		return -1;
	memcpy(p->env, environ, n * sizeof(*p->env));
	p->path = strtok_r(eq + 1, ",", &save);
	while ((tok = strtok_r(NULL, ",", &save))) {
		size_t k = strcspn(tok, "=");

		/* Replace the variable if we have it, else add it. */
		for (size_t i = 0; i <= n; i++) {
			if (i == n) {
				p->env[n++] = tok;
				break;
			}
			if (!strncmp(p->env[i], tok, k) && p->env[i][k] == '=') {
				p->env[i] = tok;
				break;
			}
		}
	}
	return p->path ? 0 : -1;
}

/* One run of @p: wall time into @p->ns[@r], CPU time into @p->cpu[@r].  Returns 0 or -1. */
static int run_once(const struct prog *p, int r)
{
	char *argv[] = {p->path, NULL};
	uint64_t t0 = bench_now_ns();
	struct rusage ru;
	int status;
	pid_t pid;

	if (posix_spawn(&pid, p->path, NULL, NULL, argv, p->env) != 0)
		return -1;
	if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		return -1;
	p->ns[r] = (double)(bench_now_ns() - t0);
	p->cpu[r] = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9 +
		    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
	return 0;
}

int main(int argc, char **argv)
{
	int rounds = 200, np = 0, opt;
	struct prog *progs;
	double base = 0, base_cpu = 0;

	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt != 'n') {
			fprintf(stderr, "usage: startup [-n ROUNDS] LABEL=PROGRAM[,VAR=VALUE...] ...\n");
			return 2;
		}
		rounds = atoi(optarg) > 0 ? atoi(optarg) : 1;
	}
	progs = calloc((size_t)(argc - optind + 1), sizeof(*progs));
	if (!progs)
		return 1;
	for (int i = optind; i < argc; i++, np++)
		if (parse(argv[i], &progs[np], rounds) < 0) {
			fprintf(stderr, "startup: bad program %s\n", argv[i]);
			return 2;
		}
	for (int r = 0; r < rounds; r++)
		for (int i = 0; i < np; i++) {
			if (run_once(&progs[i], r) < 0) {
				printf("name=startup.%s status=n/a (%s did not run)\n", progs[i].label,
				       progs[i].path);
				return 1;
			}
		}
	for (int i = 0; i < np; i++) {
		struct bench_stats s = bench_stats(progs[i].ns, rounds);
		struct bench_stats c = bench_stats(progs[i].cpu, rounds);

		if (i == 0)
			base = s.median, base_cpu = c.median;
		printf("name=startup.%s ns_per_op=%.0f q1_ns=%.0f q3_ns=%.0f extra_ns=%.0f "
		       "cpu_ns=%.0f cpu_extra_ns=%.0f ratio_vs_baseline=%.3f\n",
		       progs[i].label, s.median, s.q1, s.q3, s.median - base, c.median,
		       c.median - base_cpu, base > 0 ? s.median / base : 0);
	}
	return 0;
}
