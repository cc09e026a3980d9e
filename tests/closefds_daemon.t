#!/bin/bash
# closefds_daemon.t - a program that closes every descriptor it did not
# open (closefrom(3), as daemons do) and opens files of its own on those
# numbers: the control channel must not read, write or spin on them (a
# regular file polls ready at once, for ever), and opens anew, so that
# `markers list -p` and `enable -p` still reach the program; the print
# probe's MARKERS_PRINT_FILE lines go to stderr, not into its files.
# (The tracer and the patcher: tests/unit/tracer_closefds.c, patch_closefds.c.)
set -u
export LC_ALL=C
M=${MARKERS_STAGE:?}/bin/markers
W=$(mktemp -d)
pid=
trap 'kill $pid 2>/dev/null; rm -rf "$W"' EXIT
. "$(dirname "$0")/tap.sh"

cat >"$W/daemon.c" <<'EOF'
/* daemon DIR: close 3..1023, open files and directories in DIR, say so, tick 3 s. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <markers.h>

#define TEXT "the program's own file\n"

int main(int argc, char **argv)
{
	char path[4096];
	int fds[32], intact = 1, ticks = 0;
	struct rusage ru;
	struct timespec t0, t;

	(void)argc;
	usleep(300 * 1000); /* the listener is up */
	trace_mark(cf_tick, "i %d", ticks++);
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	for (int i = 0; i < 32; i++) {
		snprintf(path, sizeof(path), "%s/%d", argv[1], i);
		if (i % 4 == 3) {
			mkdir(path, 0700);
			fds[i] = open(path, O_RDONLY | O_DIRECTORY);
		} else {
			fds[i] = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
			if (write(fds[i], TEXT, strlen(TEXT)) != (ssize_t)strlen(TEXT))
				return 2;
		}
	}
	snprintf(path, sizeof(path), "%s/ready", argv[1]);
	close(open(path, O_WRONLY | O_CREAT, 0600));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		trace_mark(cf_tick, "i %d", ticks++);
		usleep(10 * 1000);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec < 4);
	for (int i = 0; i < 32; i++) {
		struct stat st;

		if (i % 4 != 3 && (fstat(fds[i], &st) || st.st_size != (off_t)strlen(TEXT)))
			intact = 0;
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("intact=%d cpu_ms=%ld\n", intact,
	       (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
		       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000);
	return 0;
}
EOF
case "${MARKERS_SANFLAGS:-}" in
*thread*)
	# The program's close() of the listener's socket under its poll() is the race this test makes.
	echo "1..0 # SKIP TSan: closing the library's descriptors under its listener is the race this test makes"
	exit 0
	;;
esac
build_prog daemon
echo "1..6"

mkdir -m 700 "$W/ctl" "$W/mine"
MARKERS_CONTROL_DIR="$W/ctl" MARKERS_PRINT=cf_tick MARKERS_PRINT_FILE="$W/print.log" \
	"$W/daemon" "$W/mine" >"$W/out" 2>"$W/err" &
pid=$!
for _ in $(seq 200); do [ -e "$W/mine/ready" ] && break; sleep 0.05; done
# The listener looks at its socket when poll() returns: within a second.
sleep 1.5
MARKERS_CONTROL_DIR="$W/ctl" "$M" list -p "$pid" >"$W/list" 2>&1
grep -q cf_tick "$W/list"
ok $? "list -p reaches the program after it closed every descriptor"
MARKERS_CONTROL_DIR="$W/ctl" "$M" enable -p "$pid" cf_tick >/dev/null 2>&1
ok $? "enable -p too"
wait "$pid"
pid=
grep -q "intact=1" "$W/out"
ok $? "nothing written into the program's files ($(cat "$W/out"))"
cpu=$(sed -n 's/.*cpu_ms=\([0-9]*\).*/\1/p' "$W/out")
# A listener polling a regular file spins: a whole CPU for the 4 s.
[ -n "$cpu" ] && [ "$cpu" -lt 1500 ]
ok $? "the listener does not spin on the program's file (CPU ${cpu:-?} ms in 4 s)"
grep -q "^cf_tick: i 0$" "$W/print.log"
ok $? "the print probe wrote to MARKERS_PRINT_FILE before"
last=$(grep -c "^cf_tick" "$W/err")
[ "$last" -gt 100 ]
ok $? "and to stderr after the program closed it ($last lines)"
exit $((fails > 0))
