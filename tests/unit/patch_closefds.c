/*
 * patch_closefds.c - a program that closes every descriptor it did not
 * open itself (closefrom(3), as daemons do) and then opens files of its
 * own, which take the numbers the patcher's descriptors had.  The next
 * switch must write the program's text, not the program's files, and see
 * its threads, not whatever directory now has that number.
 */
#define _GNU_SOURCE
#include "unit/closefds_util.h"
#include "unit/patch_util.h"

static long hits; /* pu_count_probe() counts here */

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
		return marker_probe_register("cf_imm", NULL, pu_count_probe, &hits) == 0 &&
		       marker_probe_register("cf_jmp", NULL, pu_count_probe, &hits) == 0;
	return marker_probe_unregister("cf_imm", pu_count_probe, &hits) == 0 &&
	       marker_probe_unregister("cf_jmp", pu_count_probe, &hits) == 0;
}

int main(int argc, char **argv)
{
	int patched = pu_sites("cf_imm").kind != MARKER_KIND_GENERIC;
	char dir[] = "/tmp/markers-closefds-XXXXXX", cmd[64];
	int fds[CF_NFILES], intact, closed;

	(void)argc;
	/* No listener: its socket is another story (control.c: POLLNVAL). */
	if (!getenv("MARKERS_CONTROL")) {
		setenv("MARKERS_CONTROL", "0", 1);
		execv("/proc/self/exe", argv);
	}
	plan(5);
	if (!mkdtemp(dir))
		cf_bail_out("mkdtemp");
	/* Two switches: the patcher's descriptors are open. */
	ok(switch_both(1) && (fire(1), hits == 2) && switch_both(0) && (!patched || sites(0)),
	   "switched on and off before the program closes its descriptors");

	closed = cf_close_all();
	cf_open_mine(dir, fds);
	diag("closed %d descriptors; the program's now take %d..%d", closed, fds[0],
	     fds[CF_NFILES - 1]);

	hits = 0;
	ok(switch_both(1), "switched on after the program closed them");
	ok(!patched || sites(1), "the sites are in their taken form");
	fire(1);
	ok(hits == 2 && switch_both(0) && (!patched || sites(0)),
	   "both probes ran, and the sites went back off");

	intact = cf_mine_intact(fds);
	ok(intact, "no byte written into the program's files");

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		diag("could not remove %s", dir);
	return done();
}
