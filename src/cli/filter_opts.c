/*
 * filter_opts.c - -e and --filter for `markers record` and `markers enable`
 * (filter_opts.h): grouping, checks before anything records, environment.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "control_client.h"
#include "elf_markers.h"
#include "filter.h"
#include "filter_opts.h"
#include "proto.h"

static int grow(struct filter_set *s, const char *cmd)
{
	size_t cap = s->cap ? s->cap * 2 : 8;
	const char **g, **f;

	if (s->n < s->cap)
		return 0;
	g = realloc(s->globs, cap * sizeof(*g));
	if (g)
		s->globs = g;
	f = realloc(s->filters, cap * sizeof(*f));
	if (f)
		s->filters = f;
	if (!g || !f) {
		fprintf(stderr, "%s %s: out of memory\n", cli_progname, cmd);
		return 1;
	}
	s->cap = cap;
	return 0;
}

int filter_set_glob(struct filter_set *s, const char *glob, const char *cmd)
{
	if (grow(s, cmd))
		return 1;
	s->globs[s->n] = glob;
	s->filters[s->n++] = NULL;
	s->pending++;
	return 0;
}

int filter_set_filter(struct filter_set *s, const char *expr, const char *cmd)
{
	struct marker__filter *f;
	struct marker__filter_err err;
	int rc = marker__filter_parse(expr, &f, &err);

	if (rc == -ENOMEM) {
		fprintf(stderr, "%s %s: out of memory\n", cli_progname, cmd);
		return 1;
	}
	if (rc) {
		if (err.column)
			fprintf(stderr, "%s %s: --filter '%s': column %u: %s\n", cli_progname, cmd,
				expr, err.column, err.msg);
		else
			fprintf(stderr, "%s %s: --filter '%s': %s\n", cli_progname, cmd, expr,
				err.msg);
		return 2;
	}
	marker__filter_free(f);
	if (++s->nfilters > 16) {
		fprintf(stderr, "%s %s: at most 16 --filter options\n", cli_progname, cmd);
		return 2;
	}
	if (!s->pending) {
		if (filter_set_glob(s, "*", cmd))
			return 1;
	}
	for (size_t i = s->n - s->pending; i < s->n; i++)
		s->filters[i] = expr;
	s->pending = 0;
	s->any = 1;
	return 0;
}

void filter_set_free(struct filter_set *s)
{
	free(s->globs);
	free(s->filters);
	memset(s, 0, sizeof(*s));
}

int filter_check_marker(const struct filter_set *s, const char *name, const char *format,
			const char *types, const char *cmd)
{
	for (size_t i = 0; i < s->n; i++) {
		struct marker__filter *f;
		struct marker__filter_prog prog;
		struct marker__filter_err err;
		int rc;

		if (!s->filters[i] || fnmatch(s->globs[i], name, 0))
			continue;
		/* The same filter for several globs: check it once per marker. */
		if (i && s->filters[i - 1] == s->filters[i] && !fnmatch(s->globs[i - 1], name, 0))
			continue;
		if (marker__filter_parse(s->filters[i], &f, &err))
			return 2; /* checked when given */
		rc = marker__filter_bind(f, name, format, types, &prog, &err);
		marker__filter_free(f);
		if (rc) {
			fprintf(stderr, "%s %s: --filter '%s': %s\n", cli_progname, cmd, s->filters[i],
				err.msg);
			return 2;
		}
	}
	return 0;
}

/* $PATH search as execvp does; @out gets the path. */
static int find_program(const char *prog, char *out, size_t cap)
{
	const char *path = getenv("PATH");

	if (strchr(prog, '/')) {
		snprintf(out, cap, "%s", prog);
		return access(out, X_OK);
	}
	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		const char *colon = strchrnul(p, ':');

		snprintf(out, cap, "%.*s%s%s", (int)(colon - p), p, colon > p ? "/" : "", prog);
		if (!access(out, X_OK))
			return 0;
		p = *colon ? colon + 1 : colon;
	}
	return -1;
}

int filter_check_program(const struct filter_set *s, const char *prog, const char *cmd)
{
	char path[PATH_MAX], err[256];
	struct elf_markers m;
	struct stat st;
	void *buf;
	int fd, rc = 0;

	if (!s->any || find_program(prog, path, sizeof(path)))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !st.st_size) {
		close(fd);
		return 0;
	}
	buf = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (buf == MAP_FAILED)
		return 0;
	if (elf_markers_read(buf, (size_t)st.st_size, &m, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < m.n && !rc; i++)
			rc = filter_check_marker(s, m.v[i].name, m.v[i].format, m.v[i].types, cmd);
		elf_markers_free(&m);
	}
	munmap(buf, (size_t)st.st_size);
	return rc;
}

int filter_check_pid(const struct filter_set *s, pid_t pid, const char *cmd)
{
	const char *argv[] = {"list"};
	struct ctl_reply r;
	char err[512], *save = NULL;
	int rc = 0;

	if (!s->any)
		return 0;
	if (ctl_request(pid, 1, argv, &r, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s %s: %s\n", cli_progname, cmd, err);
		return 1;
	}
	/* M lines: name, format, types, ... (src/common/proto.h), escaped. */
	for (char *l = strtok_r(r.text, "\n", &save); l && !rc; l = strtok_r(NULL, "\n", &save)) {
		char *f[5] = {0}, *p = l;
		int n = 0;

		if (l[0] != 'M')
			continue;
		while (p && n < 5) {
			char *tab = strchr(p, '\t');

			if (tab)
				*tab = 0;
			f[n++] = marker__ctl_unescape(p);
			p = tab ? tab + 1 : NULL;
		}
		if (n >= 4 && *f[3])
			rc = filter_check_marker(s, f[1], f[2], f[3], cmd);
	}
	free(r.text);
	return rc;
}

static int add_var(char **env, size_t *k, const char *name, const char *value)
{
	if (asprintf(&env[*k], "%s=%s", name, value) < 0)
		return -ENOMEM;
	(*k)++;
	return 0;
}

/* The globs of @s whose filter is @f (pointer identity: one --filter), joined by ','. */
static char *join(const struct filter_set *s, const char *f)
{
	size_t len = 1;
	char *out;

	for (size_t i = 0; i < s->n; i++)
		if (s->filters[i] == f)
			len += strlen(s->globs[i]) + 1;
	out = calloc(1, len);
	for (size_t i = 0; out && i < s->n; i++) {
		if (s->filters[i] != f)
			continue;
		if (*out)
			strcat(out, ",");
		strcat(out, s->globs[i]);
	}
	return out;
}

int filter_env(const struct filter_set *s, char **env, size_t *k)
{
	int unfiltered = 0, group = 0, err = 0;
	char *g;

	if (!s->n)
		return add_var(env, k, "MARKERS_RECORD", "*");
	for (size_t i = 0; i < s->n; i++)
		unfiltered |= !s->filters[i];
	if (unfiltered) {
		g = join(s, NULL);
		err = g ? add_var(env, k, "MARKERS_RECORD", g) : -ENOMEM;
		free(g);
	}
	for (size_t i = 0; i < s->n && !err; i++) {
		char name[48], fname[48];
		int seen = 0;

		if (!s->filters[i])
			continue;
		for (size_t j = 0; j < i; j++)
			seen |= s->filters[j] == s->filters[i];
		if (seen)
			continue;
		/*
		 * The library records only when MARKERS_RECORD is set: with no
		 * unfiltered glob, the first group is MARKERS_RECORD itself.
		 */
		if (!unfiltered && !group) {
			snprintf(name, sizeof(name), "MARKERS_RECORD");
			snprintf(fname, sizeof(fname), "MARKERS_RECORD_FILTER");
		} else {
			snprintf(name, sizeof(name), "MARKERS_RECORD_%d", group + unfiltered);
			snprintf(fname, sizeof(fname), "MARKERS_RECORD_FILTER_%d", group + unfiltered);
		}
		g = join(s, s->filters[i]);
		err = g ? add_var(env, k, name, g) : -ENOMEM;
		if (!err)
			err = add_var(env, k, fname, s->filters[i]);
		free(g);
		group++;
	}
	return err;
}
