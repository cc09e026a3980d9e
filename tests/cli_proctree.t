#!/bin/bash
# cli_proctree.t - `markers record -- CMD` records the whole process tree:
# programs run in sequence, in parallel and in a pipeline under a shell,
# forked children (a trace each, from the fork on), a program that execs
# another, posix_spawn and system(), a daemon that double-forks, 50
# short-lived processes, a child killed by SIGKILL, the recorder killed by
# SIGKILL.  Every check is against what the programs say they emitted (a
# log line "PID COUNT" per process), counted by `markers view` and by
# babeltrace2 reading the whole directory.
set -u
export LC_ALL=C
M=${MARKERS_STAGE:?}/bin/markers
W=$(mktemp -d)
trap 'kill $(cat "$W"/*.pid 2>/dev/null) 2>/dev/null; rm -rf "$W"' EXIT
. "$(dirname "$0")/tap.sh"

cat >"$W/pt.c" <<'EOF'
/* pt MODE ARGS: emit events "pt_ev i=I pid=PID" and append "PID COUNT" to $PT_LOG per process. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <markers.h>

extern char **environ;

static int pace_us; /* fork's 4th argument: a pause of that many us every 1000 events */

static void emit(int n)
{
	char line[64];
	int fd = open(getenv("PT_LOG"), O_WRONLY | O_APPEND | O_CREAT, 0644);

	for (int i = 0; i < n; i++) {
		trace_mark(pt_ev, "i %d pid %d", i, (int)getpid());
		if (pace_us && i % 1000 == 999)
			usleep(pace_us);
	}
	snprintf(line, sizeof(line), "%d %d\n", (int)getpid(), n);
	if (fd < 0 || write(fd, line, strlen(line)) < 0)
		exit(99);
	close(fd);
}

int main(int argc, char **argv)
{
	const char *mode = argv[1];
	int n = argc > 2 ? atoi(argv[2]) : 1;

	if (!strcmp(mode, "emit")) {
		emit(n);
	} else if (!strcmp(mode, "fork")) { /* fork C N [US]: C children of N events, parent 2 */
		int c = n, k = atoi(argv[3]);

		pace_us = argc > 4 ? atoi(argv[4]) : 0;

		trace_mark(pt_ev, "i %d pid %d", -1, (int)getpid());
		for (int j = 0; j < c; j++)
			if (fork() == 0) {
				emit(k);
				if (j % 2)
					_exit(0); /* no atexit: the recorder finishes its trace */
				exit(0);
			}
		while (wait(NULL) > 0)
			;
		emit(1);
		/* the event before the forks, counted once */
		{
			char line[64];
			int fd = open(getenv("PT_LOG"), O_WRONLY | O_APPEND);

			snprintf(line, sizeof(line), "%d 1\n", (int)getpid());
			if (write(fd, line, strlen(line)) < 0)
				return 99;
			close(fd);
		}
	} else if (!strcmp(mode, "exec")) { /* exec N PROG ARGS...: N events, then exec */
		emit(n);
		execv(argv[3], argv + 3);
		return 127;
	} else if (!strcmp(mode, "spawn")) { /* spawn N: posix_spawn and system() of "emit N" */
		char *args[] = {argv[0], "emit", argv[2], NULL}, cmd[4200];
		pid_t p;

		if (posix_spawn(&p, argv[0], NULL, NULL, args, environ))
			return 98;
		waitpid(p, NULL, 0);
		snprintf(cmd, sizeof(cmd), "'%s' emit %d", argv[0], n + 1);
		if (system(cmd))
			return 97;
		emit(n + 2);
	} else if (!strcmp(mode, "daemon")) { /* daemon N: the grandchild emits N after we exit */
		if (fork() == 0) {
			setsid();
			if (fork() == 0) {
				usleep(300 * 1000);
				emit(n);
				exit(0);
			}
			_exit(0);
		}
		wait(NULL);
	} else if (!strcmp(mode, "killchild")) { /* killchild N: a child emits N, then SIGKILL */
		pid_t p = fork();

		if (p == 0) {
			emit(n);
			raise(SIGKILL);
		}
		waitpid(p, NULL, 0);
		emit(1);
	} else if (!strcmp(mode, "wait")) { /* wait N FILE: emit N, create FILE, wait to be killed */
		emit(n);
		close(creat(argv[3], 0644));
		for (;;)
			pause();
	}
	return 0;
}
EOF
build_prog pt
export PT_LOG
P=$W/pt

# same NAME: the events per pid in $W/NAME.log (what was emitted), in `markers
# view` and in babeltrace2 of the directory $W/NAME, agree, and each event's
# pid field is the pid its trace says.  Prints a note on mismatch.
same() {
	local d=$W/$1
	"$M" view "$d" >"$d.view" 2>"$d.view.err" || { echo "# view failed: $(head -c 300 "$d.view.err")"; return 1; }
	babeltrace2 "$d" >"$d.bt" 2>"$d.bt.err" || { echo "# babeltrace2 failed"; return 1; }
	[ ! -s "$d.bt.err" ] || { echo "# babeltrace2 warned: $(head -c 300 "$d.bt.err")"; return 1; }
	python3 - "$d.log" "$d.view" "$d.bt" <<'EOF'
import collections, re, sys
want = collections.Counter()
for line in open(sys.argv[1]):
    pid, n = line.split()
    want[int(pid)] += int(n)
view = collections.Counter()
for line in open(sys.argv[2]):
    m = re.match(r"^\S+ cpu\d+ (\d+)/\S+ pt_ev i=-?\d+ pid=(\d+)$", line.rstrip("\n"))
    assert m, "view line: " + line
    assert m.group(1) == m.group(2), "an event in the trace of another process: " + line
    view[int(m.group(1))] += 1
bt = collections.Counter(int(p) for p in re.findall(r" pt_ev: .*pid = (\d+)", open(sys.argv[3]).read()))
assert view == want, ("view", sorted(view.items()), "emitted", sorted(want.items()))
assert bt == want, ("babeltrace2", sorted(bt.items()), "emitted", sorted(want.items()))
print("# %d processes, %d events: view and babeltrace2 match what was emitted" % (len(want), sum(want.values())))
EOF
}
# rec NAME CMD...: record CMD into $W/NAME with its log at $W/NAME.log
rec() {
	local name=$1
	shift
	PT_LOG=$W/$name.log "$M" record -o "$W/$name" -- "$@" >"$W/$name.out" 2>"$W/$name.err"
}
ntraces() { find "$W/$1" -mindepth 1 -maxdepth 1 -type d | wc -l; }

echo "1..23"

rec seq sh -c "'$P' emit 100; '$P' emit 200; '$P' emit 300"
ok $? "record -- sh -c 'a; b; c': status 0"
same seq && [ "$(ntraces seq)" = 3 ]
ok $? "three programs in sequence under a shell: three traces, every event (the shell absent)"
grep -q '^markers record: 3 processes, 600 events, 0 lost' "$W/seq.err" &&
	[ "$(grep -cE '^ +[0-9]+  pt +(100|200|300) +0 ' "$W/seq.err")" = 3 ]
ok $? "the summary: a row per process (pid, name, events, lost) and the total"

rec par sh -c "'$P' emit 3000 & '$P' emit 4000 & '$P' emit 5000; wait" && same par
ok $? "three programs at the same time"

rec pipe sh -c "'$P' emit 700 | '$P' emit 800 | cat >/dev/null" && same pipe
ok $? "a pipeline"

rec fork "$P" fork 5 40 && same fork && [ "$(ntraces fork)" = 6 ]
ok $? "a program that forks 5 children (some leave by _exit): a trace each, every event in its own"

rec exec "$P" exec 11 "$P" exec 12 "$P" emit 13 && same exec && [ "$(ntraces exec)" = 3 ]
ok $? "exec and exec again: one pid, three traces (a pid never mixes two programs)"

rec spawn "$P" spawn 20 && same spawn && [ "$(ntraces spawn)" = 3 ]
ok $? "posix_spawn and system(): the programs they run record too"

case ${MARKERS_SANFLAGS:-} in
*sanitize=address*)
	# GCC 12's ASan does not lock its allocator around fork() (LLVM's does
	# since 18): the first child forks while the threads the library starts
	# in it are allocating, and the grandchild inherits a taken lock and hangs.
	skip "ASan (GCC 12): a fork child's fork inherits the allocator's lock, taken by a starting thread" ;;
*)
	rec daemon "$P" daemon 25 # its parent records too: 0 events
	rc=$?
	[ $rc = 0 ] && same daemon && [ "$(ntraces daemon)" = 2 ]
	ok $? "a daemon that double-forks and emits after its parent is gone: record waits for it" ;;
esac

PT_LOG=$W/many.log "$M" record -q -o "$W/many" -- sh -c "for i in \$(seq 50); do '$P' emit 7; done" &&
	same many && [ "$(ntraces many)" = 50 ]
ok $? "50 short-lived processes under one recording: 50 traces, 350 events"
"$M" stats "$W/many" >"$W/many.stats" && grep -q '^processes 50' "$W/many.stats" &&
	grep -q '^events    350 ' "$W/many.stats" && [ "$(grep -cE '^ +[0-9]+  pt +7 +0 ' "$W/many.stats")" = 50 ]
ok $? "stats: 50 processes, a row each"

rec kill "$P" killchild 333 && same kill
ok $? "a child killed by SIGKILL: every event it committed is in the trace"

# Losses, per process: recorded + lost = emitted, in each process and in total.
PT_LOG=$W/lost.log "$M" record -o "$W/lost" -b 8K --subbuf-size 4K -- sh -c "'$P' emit 30000 & '$P' emit 20000; wait" \
	>/dev/null 2>"$W/lost.err"
"$M" stats "$W/lost" >"$W/lost.stats"
python3 - "$W/lost.log" "$W/lost.stats" <<'EOF'
import re, sys
want = dict(map(int, l.split()) for l in open(sys.argv[1]))
rows = {int(p): (int(e.replace(",", "")), int(l.replace(",", ""))) for p, e, l in
        re.findall(r"^ +(\d+)  pt +([\d,]+) +([\d,]+) ", open(sys.argv[2]).read(), re.M)}
assert set(rows) == set(want), (rows, want)
for p, (ev, lost) in rows.items():
    assert ev + lost == want[p], (p, ev, lost, want[p])
assert sum(l for e, l in rows.values()) > 0, "nothing lost with 8K buffers?"
print("# per process, recorded + lost = emitted: %s" % rows)
EOF
ok $? "tiny buffers: per process, recorded + lost = emitted"

# view/stats/export --pid: one process of the recording.
pid=$(head -1 "$W/seq.log" | cut -d' ' -f1)
"$M" view --pid "$pid" "$W/seq" | grep -c ' pt_ev ' | grep -qx 100 &&
	"$M" export --format=chrome "$W/seq" --pid "$pid" | python3 -c '
import json, sys
ev = json.load(sys.stdin)["traceEvents"]
assert {e["pid"] for e in ev} == {'"$pid"'}, "other processes exported"
assert len([e for e in ev if e.get("name") == "pt_ev"]) == 100'
ok $? "view --pid and export --pid: one process"
"$M" export --format=chrome -o "$W/seq.json" "$W/seq" 2>/dev/null && python3 - "$W/seq.json" "$W/seq.log" <<'EOF'
import json, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
pids = {int(l.split()[0]) for l in open(sys.argv[2])}
names = {e["pid"]: e["args"]["name"] for e in ev if e.get("name") == "process_name"}
assert set(names) == pids and set(names.values()) == {"pt"}, names
assert {e["pid"] for e in ev if e.get("name") == "pt_ev"} == pids
EOF
ok $? "export: a named Chrome process per traced process"

# The recorder killed by SIGKILL: the processes go on and finish their own
# traces; the recording says its end is unknown.
PT_LOG=$W/rk.log "$M" record -q -o "$W/rk" -- sh -c "'$P' emit 10; sleep 0.7; '$P' emit 20" >/dev/null 2>&1 &
rpid=$!
sleep 0.3
{ kill -9 $rpid; wait $rpid; } 2>/dev/null
sleep 1.2
"$M" view "$W/rk" >/dev/null 2>"$W/rk.err"
[ $? = 0 ] && grep -q "the recorder (pid $rpid) died before it finished: the recording's end is unknown" "$W/rk.err" && same rk
ok $? "the recorder killed: what was committed reads, and the recording's end is unknown"

# Recorder and program killed: the program's trace is unfinished, its losses unknown
# ("?", never 0), until record --recover writes out what it committed.
PT_LOG=$W/all.log "$M" record -q -o "$W/all" -- "$P" wait 4321 "$W/all.ready" >/dev/null 2>&1 &
rpid=$!
for i in $(seq 100); do [ -e "$W/all.ready" ] && break; sleep 0.05; done
{ kill -9 $rpid $(cut -d' ' -f1 "$W/all.log"); wait $rpid; } 2>/dev/null
sleep 0.2
"$M" stats "$W/all" >"$W/all.stats" 2>"$W/all.err"
grep -qE '^ +[0-9]+  pt +[0-9,]+ +\? ' "$W/all.stats" && grep -q 'lost + unknown' "$W/all.stats" &&
	grep -q "died and its trace was not finished" "$W/all.err" && ! grep -q ', 0 lost$' "$W/all.stats"
ok $? "recorder and program killed: stats says the losses are unknown, not 0"
"$M" record --recover "$W/all" 2>"$W/all.rec" && same all && "$M" stats "$W/all" 2>&1 >/dev/null | grep -c . | grep -qx 0
ok $? "record --recover: every committed event, and nothing unknown left ($(cat "$W/all.rec"))"

# Uninstrumented processes are simply absent; a command without libmarkers: no trace, said.
"$M" record -o "$W/none" -- sh -c 'true | cat' >/dev/null 2>"$W/none.err"
[ $? = 0 ] && grep -q "does not use libmarkers" "$W/none.err"
ok $? "no instrumented process: status 0, and the summary says there is no trace"
# Thread ids: 3 named threads and the main one, each event's tid as gettid() said.
cat >"$W/th.c" <<'EOF'
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include <markers.h>

static void *run(void *a)
{
	char name[16];

	snprintf(name, sizeof(name), "worker-%ld", (long)a);
	pthread_setname_np(pthread_self(), name);
	for (int i = 0; i < 50; i++)
		trace_mark(th_ev, "tid %d i %d", (int)gettid(), i);
	return NULL;
}

int main(void)
{
	pthread_t t[3];

	for (long i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, run, (void *)i);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	trace_mark(th_ev, "tid %d i %d", (int)gettid(), -1);
	return 0;
}
EOF
cc_prog th -lpthread || echo "# cannot build th"
"$M" record -q -o "$W/th.t" -- "$W/th" && "$M" view "$W/th.t" >"$W/th.view" &&
	babeltrace2 "$W/th.t" >"$W/th.bt" && python3 - "$W/th.view" "$W/th.bt" <<'EOF'
import collections, re, sys
v = [re.match(r"^\S+ cpu\d+ (\d+)/(\d+) th_ev tid=(\d+) i=(-?\d+)$", l.rstrip("\n")) for l in open(sys.argv[1])]
assert all(v) and len(v) == 151, len(v)
assert all(m.group(2) == m.group(3) for m in v), "a tid that is not gettid()'s"
tids = collections.Counter(m.group(2) for m in v)
pid = [m.group(3) for m in v if m.group(4) == "-1"][0]
assert all(m.group(1) == pid for m in v), "the pid column"
assert len(tids) == 4 and tids[pid] == 1 and sorted(tids.values()) == [1, 50, 50, 50], tids
b = re.findall(r"\{ vtid = (\d+) \}, \{ tid = (\d+),", open(sys.argv[2]).read())
assert len(b) == 151 and all(x == y for x, y in b), "babeltrace2's vtid"
EOF
ok $? "3 threads: distinct thread ids, each the thread's gettid(), in view and babeltrace2"
"$M" export --format=chrome "$W/th.t" 2>/dev/null | python3 -c '
import json, sys
ev = json.load(sys.stdin)["traceEvents"]
names = {e["tid"]: e["args"]["name"] for e in ev if e.get("name") == "thread_name"}
tracks = {e["tid"] for e in ev if e.get("name") == "th_ev"}
assert set(names) == tracks and len(tracks) == 4, (names, tracks)
assert sorted(n.split()[0] for n in names.values()) == ["th", "worker-0", "worker-1", "worker-2"], names'
ok $? "export: a track per thread, named as the thread named itself"
# The bundled example's prefork mode (what make demo records): a master and 3 workers.
SVC=${MARKERS_BUILD:?}/examples/service
case ${MARKERS_SANFLAGS:-} in
*sanitize=thread*) # its workers are fork children of a threaded process, which start threads
	skip "TSan: a fork child of a threaded process cannot start threads (dup thread with used id)" ;;
*)
	"$M" record -o "$W/svc" -- "$SVC" -n 600 -t 2 -w 3 >/dev/null 2>"$W/svc.err" &&
		grep -q '^markers record: 4 processes, ' "$W/svc.err" && [ "$(ntraces svc)" = 4 ] &&
		[ "$("$M" view "$W/svc" | grep -c ' request_done ')" = 600 ] &&
		[ "$(babeltrace2 "$W/svc" | grep -c ' request_done: ')" = 600 ] &&
		[ "$("$M" view "$W/svc" | awk '$4 == "worker_start" {print $3}' | cut -d/ -f1 | sort -u | wc -l)" = 3 ]
	ok $? "service -w 3: the master and its 3 workers, 600 requests served and recorded" ;;
esac
# Attack: kill -9 a random process of a busy tree at a random moment, several times, with
# buffers small enough that every child loses events.  Checked against what each process
# said it emitted (a killed one says nothing):
# - view and babeltrace2 hold the same events, and babeltrace2 warns of nothing but losses;
# - each process's events are a run i=0,1,2... whose holes are exactly its counted losses
#   (recorded + lost = emitted; a killed process: holes <= lost, the rest was never emitted);
# - each loss babeltrace2 reports lies where it says, between the two packet ends it gives
#   (a count taken when the consumer wrote the packet instead of when the sub-buffer closed
#   once put a full buffer's losses on its first packet, whose events had no hole).
cat >"$W/atk.py" <<'EOF'
import collections, re, sys
log, view, bt, bterr = sys.argv[1:5]
emitted, runlen = collections.Counter(), collections.Counter()
for line in open(log):
    pid, n = map(int, line.split())
    emitted[pid] += n
    runlen[pid] = max(runlen[pid], n)  # the run i=0..n-1 (the parent's i=-1 apart)
lost, vev = collections.Counter(), collections.Counter()
for line in open(view):
    m = re.match(r"^\S+ cpu\d+ (\d+)/\S+ pt_ev i=(-?\d+) pid=(\d+)$", line.rstrip("\n"))
    if m:
        assert m.group(1) == m.group(3), "an event in another process's trace: " + line
        vev[(int(m.group(1)), int(m.group(2)))] += 1
        continue
    m = re.match(r"^\S+ cpu\d+ (\d+) \*\*\* lost (\d+) events?$", line.rstrip("\n"))
    assert m, "view line: " + line
    lost[int(m.group(1))] += int(m.group(2))
def secs(t):
    h, m, s = t.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)
run = collections.defaultdict(list)  # pid -> [(ts, i)] in babeltrace2's order
bev = collections.Counter()
for line in open(bt):
    m = re.match(r"^\[(\S+)\] .* pt_ev: .*\{ i = (-?\d+), pid = (\d+) \}$", line.rstrip("\n"))
    assert m, "babeltrace2 line: " + line
    p, i = int(m.group(3)), int(m.group(2))
    bev[(p, i)] += 1
    if i >= 0:
        run[p].append((secs(m.group(1)), i))
assert vev == bev, "view and babeltrace2 differ: %s" % (set(vev.items()) ^ set(bev.items()))
assert max(vev.values()) == 1, "an event twice"
for p, r in run.items():
    seq = [i for _, i in r]
    assert seq == sorted(seq), "process %d: events out of order" % p
    holes = seq[0] + sum(y - x - 1 for x, y in zip(seq, seq[1:]))
    if p in emitted:
        holes += runlen[p] - 1 - seq[-1]
        assert holes == lost[p], "process %d: %d missing, %d counted lost" % (p, holes, lost[p])
    else:
        assert holes <= lost[p], "process %d (killed): %d missing, %d counted lost" % (p, holes, lost[p])
for p in emitted:
    got = sum(1 for q in vev if q[0] == p)
    assert got + lost[p] == emitted[p], "process %d: %d recorded + %d lost != %d emitted" % (
        p, got, lost[p], emitted[p])
for line in open(bterr):
    if not re.match(r"^(WARNING|ERROR)", line):
        continue
    m = re.match(r'^WARNING: Tracer (may have discarded events|discarded (\d+) events?) between '
                 r'\[(\S+)\] and \[(\S+)\] in trace "[^"]*-(\d+)-\d{8}-\d{6}', line)
    assert m, "babeltrace2: " + line
    if not m.group(2):
        continue
    n, a, b, p = int(m.group(2)), secs(m.group(3)), secs(m.group(4)), int(m.group(5))
    # The holes between the events of the window (one packet's, and the next packet's
    # first, whose time is this packet's end); before the first event of all; after the last.
    seq = [i for t, i in run[p] if a <= t <= b]
    gap = sum(y - x - 1 for x, y in zip(seq, seq[1:]))
    if seq and not any(t < a for t, _ in run[p]):
        gap += seq[0]
    if not any(t > b for t, _ in run[p]):
        last = max([i for _, i in run[p]] or [-1])
        gap += runlen[p] - 1 - last if p in emitted else n
    assert gap >= n, "process %d: %d lost between [%s] and [%s], where %d are missing" % (
        p, n, m.group(3), m.group(4), gap)
print("# %d processes (%d killed), %d events, %d lost: every hole counted, where it is" % (
    len(run), len(set(run) - set(emitted)), len(vev), sum(lost.values())))
EOF
bad=0
# fast tier: 2 attacks on children of 30,000 events paced in bursts of 1,000 with 16 KiB
# buffers; long tier: 6 x the scale, children of 100,000 events at full speed, default buffers.
scale=${MARKERS_TEST_SCALE:-1}
if [ "$scale" -gt 1 ]; then
	attacks=$((6 * scale)) atk_args="3 100000" atk_opts=""
else
	attacks=2 atk_args="3 30000 3000" atk_opts="--child-buffer-size 16K --subbuf-size 4K"
fi
for k in $(seq 1 $attacks); do
	rm -rf "$W/atk" "$W/atk.log"
	PT_LOG=$W/atk.log "$M" record -q $atk_opts -o "$W/atk" -- "$P" fork $atk_args >/dev/null 2>&1 &
	rpid=$!
	sleep 0.0$((RANDOM % 9 + 1))
	victim=$(pgrep -P "$(pgrep -P $rpid | head -1)" 2>/dev/null | shuf -n 1)
	[ -n "$victim" ] && kill -9 "$victim" 2>/dev/null
	wait $rpid 2>/dev/null
	"$M" view "$W/atk" >"$W/atk.view" 2>"$W/atk.err" && babeltrace2 "$W/atk" >"$W/atk.bt" 2>"$W/atk.bt.err" &&
		[ ! -s "$W/atk.err" ] && python3 "$W/atk.py" "$W/atk.log" "$W/atk.view" "$W/atk.bt" "$W/atk.bt.err" ||
		{ bad=$((bad + 1)); echo "# attack $k: victim ${victim:-none}: $(head -c 300 "$W/atk.err" "$W/atk.bt.err" | tr '\n' ' ')"; }
done
ok $bad "kill -9 of a random process of a busy tree losing events, $attacks times: every hole counted, where it is"
exit $((fails > 0))
