#!/bin/bash
# cli_fork_order.t - a fork child's trace against its parent's, in time.
#
# A parent and its fork child play ping-pong over two pipes, each event
# fired only after the other side's previous one (a chain of happens-before
# across the two processes): under `markers record`, the child records into
# a trace of its own, started in fork (its clock calibration inherited from
# the parent's).  Every event of both must be there, and babeltrace2 and
# `markers view` reading the directory merged by time must give them in the
# order they happened, with no warning.  Twice: the parent's first session
# (its clock measured at start), and a child forked right away and after a
# while (the estimate refined by the parent's consumer meanwhile).
set -u
export LC_ALL=C
M=${MARKERS_STAGE:?}/bin/markers
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
. "$(dirname "$0")/tap.sh"

# ThreadSanitizer's thread registry breaks in a child forked from a threaded
# process ("dup thread with used id"), and the library starts its threads
# again in every fork child: the child dies before its first event.
case ${MARKERS_SANFLAGS:-} in *sanitize=thread*)
	echo "1..0 # SKIP TSan: a fork child of a threaded process cannot start threads (dup thread with used id)"
	exit 0 ;;
esac

cat >"$W/pp.c" <<'EOF'
/* pp ROUNDS DELAY_MS: ping-pong between a parent and its fork child; "seq" counts both. */
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <markers.h>

int main(int argc, char **argv)
{
	int rounds = atoi(argv[1]), to_child[2], to_parent[2], seq = 0, st;
	struct timespec d = {0, atoi(argv[2]) * 1000000L};
	pid_t pid;

	if (pipe(to_child) || pipe(to_parent))
		return 1;
	trace_mark(pp_start, "pid %d", (int)getpid());
	nanosleep(&d, NULL);
	pid = fork();
	if (pid < 0)
		return 1;
	/* Each side keeps only its own ends: a side that dies is an EOF, not a hang. */
	close(pid > 0 ? to_child[0] : to_child[1]);
	close(pid > 0 ? to_parent[1] : to_parent[0]);
	for (int i = 0; i < rounds; i++) {
		if (pid > 0) {
			trace_mark(pp_ev, "seq %d", seq);
			if (write(to_child[1], &seq, sizeof(seq)) != sizeof(seq) ||
			    read(to_parent[0], &seq, sizeof(seq)) != sizeof(seq))
				return 1;
			seq++;
		} else {
			if (read(to_child[0], &seq, sizeof(seq)) != sizeof(seq))
				_exit(1);
			seq++;
			trace_mark(pp_ev, "seq %d", seq);
			if (write(to_parent[1], &seq, sizeof(seq)) != sizeof(seq))
				_exit(1);
		}
	}
	if (pid == 0)
		exit(0);
	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : 1;
}
EOF
build_prog pp

# check NAME ROUNDS: both processes' pp_ev events, merged by time, are seq 0..2*ROUNDS-1 in order.
check() {
	local d=$W/$1 n=$(( 2 * $2 ))
	babeltrace2 "$d" >"$d.bt" 2>"$d.bt.err" || { echo "# babeltrace2 failed"; return 1; }
	[ ! -s "$d.bt.err" ] || { echo "# babeltrace2 warned: $(head -c 300 "$d.bt.err")"; return 1; }
	"$M" view "$d" >"$d.view" 2>"$d.view.err" || { echo "# markers view failed"; return 1; }
	python3 - "$d.bt" "$d.view" "$n" <<'PY'
import re, sys
n = int(sys.argv[3])
for path, what in ((sys.argv[1], "babeltrace2"), (sys.argv[2], "markers view")):
    seqs, pids = [], set()
    for line in open(path):
        if "pp_ev" not in line:
            continue
        m = re.search(r"seq\s*[=:]\s*(\d+)", line)
        assert m, (what, line)
        seqs.append(int(m.group(1)))
    assert len(seqs) == n, (what, "events", len(seqs), "emitted", n)
    bad = [i for i in range(n) if seqs[i] != i]
    assert not bad, (what, "out of order at", bad[:5], seqs[max(0, bad[0] - 3):bad[0] + 4])
print("# %d events of a parent and its fork child, in the order they happened" % n)
PY
}

"$M" record -q -o "$W/a" -- "$W/pp" 200 0 >/dev/null 2>"$W/a.err"
[ $? -eq 0 ] && [ "$(find "$W/a" -name metadata | wc -l)" -eq 2 ] && check a 200
ok $? "fork at once: every event of the parent and of its child, merged in the order they happened"

"$M" record -q -o "$W/b" -- "$W/pp" 200 250 >/dev/null 2>"$W/b.err"
[ $? -eq 0 ] && [ "$(find "$W/b" -name metadata | wc -l)" -eq 2 ] && check b 200
ok $? "fork after 250 ms: the same"

echo "1..$n"
exit $((fails > 0))
