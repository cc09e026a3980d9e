/*
 * replay.c - run a fuzz target over its regression corpus, without
 * libFuzzer (any compiler, any sanitizer build): one TAP line per input.
 *
 *	replay [DIR...]		default: the directory compiled in as CORPUS
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	const char *dirs[16] = {CORPUS};
	int ndirs = 1;
	char *files[4096];
	size_t n = 0;

	if (argc > 1) {
		ndirs = argc - 1 < 16 ? argc - 1 : 16;
		for (int i = 0; i < ndirs; i++)
			dirs[i] = argv[i + 1];
	}
	for (int d = 0; d < ndirs; d++) {
		DIR *dir = opendir(dirs[d]);
		struct dirent *e;

		if (!dir) {
			printf("1..0 # SKIP no corpus at %s\n", dirs[d]);
			return 0;
		}
		while ((e = readdir(dir)) && n < sizeof(files) / sizeof(files[0])) {
			char path[4096];

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirs[d], e->d_name);
			files[n++] = strdup(path);
		}
		closedir(dir);
	}
	qsort(files, n, sizeof(files[0]), by_name);
	plan((int)n);
	for (size_t i = 0; i < n; i++) {
		FILE *f = fopen(files[i], "rb");
		unsigned char *buf = NULL;
		size_t len = 0, cap = 0, r;

		if (!f) {
			ok(0, "%s: cannot open", files[i]);
			continue;
		}
		do {
			if (len == cap) {
				cap = cap ? cap * 2 : 65536;
				buf = realloc(buf, cap);
				if (!buf)
					abort();
			}
			r = fread(buf + len, 1, cap - len, f);
			len += r;
		} while (r);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, len);
		ok(1, "%s", files[i]);
		free(buf);
		free(files[i]);
	}
	return 0;
}
