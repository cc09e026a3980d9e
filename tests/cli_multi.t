#!/bin/bash
# cli_multi.t - several running processes: `markers ps`, `record -p PID,PID`,
# `record --all` catching a process that starts mid-recording, and list,
# enable and disable over several PIDs and --all.  The processes here keep
# their control sockets in a directory of the test's own
# (MARKERS_CONTROL_DIR), so --all sees them and nothing else.
set -u
export LC_ALL=C
M=${MARKERS_STAGE:?}/bin/markers
W=$(mktemp -d)
trap 'kill $(cat "$W"/*.pid 2>/dev/null) 2>/dev/null; rm -rf "$W"' EXIT
. "$(dirname "$0")/tap.sh"
mkdir -m 700 "$W/ctl"
export MARKERS_CONTROL_DIR=$W/ctl

cat >"$W/tk.c" <<'EOF'
/* tk N LOG: N ticks 10 ms apart ("tk_tick i=I pid=PID"), then "PID N" into LOG. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <markers.h>

int main(int argc, char **argv)
{
	int n = atoi(argv[1]);
	FILE *f;

	for (int i = 0; i < n; i++) {
		trace_mark(tk_tick, "i %d pid %d", i, (int)getpid());
		trace_mark(tk_other, "i %d", i);
		usleep(10000);
	}
	f = fopen(argv[2], "a");
	if (!f)
		return 1;
	fprintf(f, "%d %d\n", (int)getpid(), n);
	return fclose(f) ? 1 : 0;
}
EOF
build_prog tk
cat >"$W/fk.c" <<'EOF'
/* fk GO LOG: when the file GO exists, fork 2 children that tick 40 times 10 ms apart,
 * wait for them, tick 5 times; each process then writes "PID N" into LOG. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <markers.h>

static void ticks(int n, const char *log)
{
	FILE *f;

	for (int i = 0; i < n; i++) {
		trace_mark(tk_tick, "i %d pid %d", i, (int)getpid());
		usleep(10000);
	}
	f = fopen(log, "a");
	if (!f || fprintf(f, "%d %d\n", (int)getpid(), n) < 0 || fclose(f))
		exit(1);
}

int main(int argc, char **argv)
{
	(void)argc;
	while (access(argv[1], F_OK))
		usleep(5000);
	for (int c = 0; c < 2; c++)
		if (fork() == 0) {
			ticks(40, argv[2]);
			return 0;
		}
	while (wait(NULL) > 0)
		;
	ticks(5, argv[2]);
	return 0;
}
EOF
build_prog fk
# wait_sock PID: until its control socket is there
wait_sock() { for i in $(seq 200); do [ -S "$W/ctl/$1" ] && return 0; sleep 0.02; done; return 1; }
# tail_ok DIR LOG TO_END NPROCS: per pid, the trace holds a contiguous run i=K.. of what it
# emitted (N in LOG; up to N-1 with TO_END=1), for NPROCS processes
tail_ok() {
	"$M" view "$1" | python3 -c '
import collections, re, sys
want = dict(map(int, l.split()) for l in open(sys.argv[1]))
seen = collections.defaultdict(list)
for line in sys.stdin:
    m = re.match(r"^\S+ cpu\d+ (\d+)/\d+ tk_tick i=(\d+) pid=(\d+)$", line.rstrip("\n"))
    if m:
        assert m.group(1) == m.group(3), line
        seen[int(m.group(1))].append(int(m.group(2)))
assert set(seen) <= set(want) and seen, (sorted(seen), want)
for p, v in seen.items():
    assert v == list(range(v[0], v[0] + len(v))), "not contiguous: %d" % p
    if sys.argv[2] == "1":
        assert v[-1] == want[p] - 1, "not up to the end: %d %d" % (p, v[-1])
print("# " + ", ".join("%d: i=%d..%d" % (p, v[0], v[-1]) for p, v in sorted(seen.items())))
sys.exit(0 if len(seen) == int(sys.argv[3]) else 1)
' "$2" "$3" "$4"
}

echo "1..14"

"$W/tk" 300 "$W/a.log" & echo $! >"$W/a.pid"
"$W/tk" 300 "$W/a.log" & echo $! >"$W/b.pid"
a=$(cat "$W/a.pid") b=$(cat "$W/b.pid")
wait_sock $a && wait_sock $b
"$M" ps >"$W/ps" && grep -qE "^ +$a  tk +2 +0  no " "$W/ps" && grep -qE "^ +$b  tk +2 +0  no " "$W/ps" &&
	[ "$(grep -c ' tk ' "$W/ps")" = 2 ]
ok $? "ps: both processes, 2 markers, none on, not recording"

"$M" list -p "$a,$b" >"$W/list" && grep -q "^process $a: 2 markers" "$W/list" && grep -q "^process $b: 2 markers" "$W/list"
ok $? "list -p A,B: both"
"$M" enable --all tk_other >"$W/en" && grep -q "^$a: tk_other: 1 marker matched, 1 switched on" "$W/en" &&
	grep -q "^$b: tk_other: 1 marker matched, 1 switched on" "$W/en"
ok $? "enable --all: in every process, a line each"
"$M" disable -p "$a" -p "$b" tk_other >/dev/null && "$M" list --all | grep -c '^tk_other *off' | grep -qx 2
ok $? "disable -p A -p B; list --all shows them off"
"$M" enable --all no_such_marker >/dev/null 2>"$W/err"
[ $? = 1 ] && grep -q "no marker of your 2 processes matches 'no_such_marker'" "$W/err"
ok $? "enable --all of a glob that matches nothing: status 1, one line"

"$M" record -o "$W/two" -p "$a,$b" -e 'tk_t*' --duration 0.8 >"$W/two.out" 2>"$W/two.err" &&
	[ "$(find "$W/two" -mindepth 1 -maxdepth 1 -type d | wc -l)" = 2 ] &&
	grep -q '^markers record: 2 processes, ' "$W/two.err"
ok $? "record -p A,B: a trace each, the summary per process"
wait $a $b
tail_ok "$W/two" "$W/a.log" 0 2 && ! "$M" view "$W/two" | grep -q tk_other
ok $? "record -p A,B: each trace a contiguous run of what its process emitted, only the -e markers"

# --all, and a process that starts while it records.
"$M" record -o "$W/all" --all --duration 3 >"$W/all.out" 2>"$W/all.err" &
echo $! >"$W/rec.pid"
sleep 0.5
"$W/tk" 100 "$W/c.log"
wait "$(cat "$W/rec.pid")"
rc=$?
c=$(cut -d' ' -f1 "$W/c.log")
[ $rc = 0 ] && ls "$W/all" | grep -q "^tk-$c-" && tail_ok "$W/all" "$W/c.log" 1 1
ok $? "record --all: a process started mid-recording is joined, its events up to its end"
"$M" stats "$W/all" >/dev/null 2>"$W/all.stats.err" && [ ! -s "$W/all.stats.err" ]
ok $? "the --all recording is finished: nothing unknown"

# -p PID: the same layout as -p A,B (DIR/NAME-PID-DATE), and the children it forks while
# recording are joined as their control sockets appear, each in a trace of its own.
"$W/fk" "$W/go" "$W/fk.log" & echo $! >"$W/fk.pid"
f=$(cat "$W/fk.pid")
wait_sock $f
"$M" record -o "$W/fork" -p $f --duration 30 >/dev/null 2>"$W/fork.err" &
echo $! >"$W/rec.pid"
for i in $(seq 200); do ls "$W/fork" 2>/dev/null | grep -q "^fk-$f-" && break; sleep 0.02; done
touch "$W/go"
wait "$(cat "$W/rec.pid")"
rc=$?
[ $rc = 0 ] && [ "$(ls "$W/fork" | grep -c "^fk-[0-9]*-")" = 3 ] && tail_ok "$W/fork" "$W/fk.log" 1 3
ok $? "record -p PARENT: it and the 2 children it forks, a trace each, every event from the join to the end"
grep -q '^markers record: 3 processes, ' "$W/fork.err" && "$M" stats "$W/fork" | grep -q '^processes 3'
ok $? "record -p PARENT: the summary and stats count the 3 processes; record ended with them"

# --all: a process that starts, fires and ends within 50 ms is joined when its control
# socket appears (inotify), so its events from then on are recorded, to its end; one that
# could not be joined in time is named, never silently absent (one joined after its last
# event is in the summary with 0 events).
"$M" record -o "$W/fast" --all >/dev/null 2>"$W/fast.err" &
echo $! >"$W/rec.pid"
for i in $(seq 200); do [ -e "$W/fast/.record" ] && break; sleep 0.02; done
sleep 0.2
for i in 1 2 3; do "$W/tk" 5 "$W/fast.log"; done
"$W/tk" 1 "$W/one.log"
sleep 0.3
kill -INT "$(cat "$W/rec.pid")"
wait "$(cat "$W/rec.pid")"
rc=$?
named=0 recorded=0 late=0
cat "$W/fast.log" "$W/one.log" >"$W/both.log"
for p in $(cut -d' ' -f1 "$W/fast.log"); do
	if ls "$W/fast" | grep -q "^tk-$p-"; then
		if "$M" view --pid $p "$W/fast" | grep -q ' tk_tick '; then
			recorded=$((recorded + 1))
		else
			grep -qE "^ +$p  tk +0 +0 " "$W/fast.err" && late=$((late + 1))
		fi
	elif grep -q "started while recording and could not be joined.* $p (" "$W/fast.err"; then
		named=$((named + 1))
	fi
done
# every process with events: a contiguous run from its join to its end
withev=$("$M" view "$W/fast" | awk '$4 == "tk_tick" {print $3}' | sort -u | wc -l)
[ $rc = 0 ] && [ $((named + recorded + late)) = 3 ] && { [ $withev = 0 ] || tail_ok "$W/fast" "$W/both.log" 1 $withev; }
ok $? "record --all: 3 processes of 50 ms, each recorded to its end or named ($recorded recorded, $named named, $late joined after their last event)"
p=$(cut -d' ' -f1 "$W/one.log")
ls "$W/fast" | grep -q "^tk-$p-" || grep -q "started while recording and could not be joined.* $p (" "$W/fast.err" ||
	grep -qE "ended with no event recorded after it was joined .*:( [0-9]+,)* $p(,|$)" "$W/fast.err"
ok $? "record --all: a process that fires once and ends at once: joined or named ($(grep -oE '(could not be joined|ended with no event).*' "$W/fast.err" | tr '\n' ' '))"

"$M" record --all -p 1 >/dev/null 2>&1
[ $? = 2 ]
ok $? "record --all and -p: usage error"
exit $((fails > 0))
