/*
 * Switching every site kind, in the program, in a linked shared library and
 * in a dlopen'd one, off->on and on->off; each case in its own child process
 * so that a crash is one failed case.  Checks the probe counts and the code
 * bytes of each site (not taken after adoption, taken while on).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "patch_util.h"
#include "tap.h"

void patch_shared_fire(int kind, int i);

static void exe_fire(int kind, int i)
{
	switch (kind) {
	case MARKER_KIND_IMMEDIATE:
		trace_mark_immediate(exe_imm, "i %d", i);
		break;
	case MARKER_KIND_JUMP:
		trace_mark_jump(exe_jmp, "i %d", i);
		break;
	default:
		trace_mark_generic(exe_gen, "i %d", i);
	}
}

enum where { EXE, SHARED, DLOPEN };
static const char *where_name[] = {"executable", "shared library", "dlopen'd library"};
static const char *prefix[] = {"exe", "so", "dl"};
static const char *kind_suffix[] = {"gen", "imm", "jmp"};

typedef void fire_func(int kind, int i);

static void *open_dl(void)
{
	return dlopen(test_lib("patch_dl"), RTLD_NOW);
}

/* The body of one case, in a child. */
static void run_case(int kind, enum where w, int off_to_on)
{
	char name[32];
	fire_func *fire = exe_fire;
	void *dl = NULL;
	long hits = 0;
	const int n = 1000;

	snprintf(name, sizeof(name), "%s_%s", prefix[w], kind_suffix[kind]);
	if (w == SHARED)
		fire = patch_shared_fire;
	if (w == DLOPEN) {
		dl = open_dl();
		CHECK(dl, "dlopen: %s", dlerror());
		fire = (fire_func *)dlsym(dl, "patch_dl_fire");
		CHECK(fire, "dlsym: %s", dlerror());
	}
	/* Adopted: not taken, and silent. */
	CHECK(pu_check_sites(name, 0) == 0, "%s not adopted", name);
	if (!off_to_on) {
		CHECK(marker_probe_register(name, "i %d", pu_count_probe, &hits) == 0, "register");
		CHECK(pu_check_sites(name, 1) == 0, "%s not taken after register", name);
		for (int i = 0; i < n; i++)
			fire(kind, i);
		CHECK(hits == n, "on: %ld hits, want %d", hits, n);
		CHECK(marker_probe_unregister(name, pu_count_probe, &hits) == 0, "unregister");
		marker_synchronize_unregister();
		CHECK(pu_check_sites(name, 0) == 0, "%s not off after unregister", name);
		for (int i = 0; i < n; i++)
			fire(kind, i);
		CHECK(hits == n, "off: %ld hits, want %d", hits, n);
	} else {
		for (int i = 0; i < n; i++)
			fire(kind, i);
		CHECK(hits == 0, "off: %ld hits", hits);
		CHECK(marker_probe_register(name, "i %d", pu_count_probe, &hits) == 0, "register");
		CHECK(pu_check_sites(name, 1) == 0, "%s not taken after register", name);
		for (int i = 0; i < n; i++)
			fire(kind, i);
		CHECK(hits == n, "on: %ld hits, want %d", hits, n);
	}
	if (dl) {
		/* Unload while on, load again: the new copy is adopted and on. */
		CHECK(dlclose(dl) == 0, "dlclose");
		dl = open_dl();
		CHECK(dl, "dlopen again: %s", dlerror());
		fire = (fire_func *)dlsym(dl, "patch_dl_fire");
		hits = 0;
		if (!off_to_on) {
			CHECK(pu_check_sites(name, 0) == 0, "%s not off after reload", name);
			fire(kind, 1);
			CHECK(hits == 0, "reloaded off: %ld hits", hits);
		} else {
			CHECK(pu_check_sites(name, 1) == 0, "%s not on after reload", name);
			fire(kind, 1);
			CHECK(hits == 1, "reloaded on: %ld hits", hits);
		}
		dlclose(dl);
	}
	_exit(0);
}

int main(void)
{
	static const int kinds[] = {MARKER_KIND_IMMEDIATE, MARKER_KIND_JUMP, MARKER_KIND_GENERIC};

	plan(3 * 3 * 2);
	for (int k = 0; k < 3; k++)
		for (int w = EXE; w <= DLOPEN; w++)
			for (int d = 0; d < 2; d++) {
				int status = 0;
				pid_t pid;

				fflush(stdout);
				pid = fork();
				if (pid == 0)
					run_case(kinds[k], (enum where)w, d);
				waitpid(pid, &status, 0);
				ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
				   "%s site in the %s, %s%s", marker_kind_name(kinds[k]),
				   where_name[w], d ? "off->on" : "on->off",
				   WIFSIGNALED(status) ? " (killed by a signal)" : "");
			}
	return done();
}
