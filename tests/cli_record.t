#!/bin/bash
# cli_record.t - `markers record -- CMD` end to end with real processes: the
# trace holds exactly what the program emitted (checked by `markers view` and
# by babeltrace2), exit statuses and signals pass through, a program killed
# by SIGKILL still leaves its events, lost events are counted, and bad
# input is one line and a non-zero status.  Also `markers stats`.
set -u
export LC_ALL=C
M=${MARKERS_STAGE:?}/bin/markers
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
. "$(dirname "$0")/tap.sh"
one_line_error() { # CMD... : status 1 and exactly one line on stderr
	"$@" >/dev/null 2>"$W/err" </dev/null
	local rc=$?
	[ $rc = 1 ] && [ "$(wc -l <"$W/err")" = 1 ] || { echo "# status $rc: $(head -c 300 "$W/err")"; return 1; }
}

cat >"$W/emit.c" <<'EOF'
/* emit N MODE: N rounds of markers with values the test can check, then by MODE:
 * "exit3" exit(3); "kill" SIGKILL itself; "wait" run until SIGTERM, then exit(7). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <markers.h>

static volatile sig_atomic_t term;
static void on_term(int sig) { term = sig; }

int main(int argc, char **argv)
{
	static const char *const names[] = {"alpha", "beta", "", "gamma delta"};
	int n = atoi(argv[1]);
	const char *mode = argc > 2 ? argv[2] : "";

	if (!strcmp(mode, "wait"))
		signal(SIGTERM, on_term);
	for (int i = 0; i < n || (!strcmp(mode, "wait") && !term); i++) {
		trace_mark(t_pair, "i %d sq %llu", i, (unsigned long long)i * i);
		trace_mark(t_str, "i %d name %s", i, names[i % 4]);
		trace_mark(t_dbl, "x %f neg %hd", i * 0.5, (short)-i);
		if (i % 10 == 0) {
			trace_mark(job_start, "id %d", i);
			trace_mark(job_done, "id %d", i);
		}
		if (!strcmp(mode, "wait")) {
			if (i == 0)
				close(creat(argv[3], 0644));
			usleep(1000);
		}
	}
	if (!strcmp(mode, "kill"))
		raise(SIGKILL);
	if (!strcmp(mode, "exit3"))
		return 3;
	if (!strcmp(mode, "wait"))
		return term == SIGTERM ? 7 : 1;
	return 0;
}
EOF
build_prog emit

# count FILE NAME: lines of that marker in a view output
count() { grep -c " $2\( \|\$\)" "$1"; }

echo "1..29"

# A plain run: everything emitted is in the trace.
"$M" record -o "$W/t1" -- "$W/emit" 1000 >"$W/out" 2>"$W/sum"
ok $? "record -- emit 1000: status 0"
# The tracer may drop an event, but never silently: recorded + lost = emitted.
lost1=$(sed -n 's/.* events, \([0-9,]*\) lost.*/\1/p' "$W/sum" | tr -d ,)
[ -n "$lost1" ] && grep -q "t_pair *[0-9,]*" "$W/sum" && grep -q "markers view" "$W/sum"
ok $? "the summary: events per marker, lost ($lost1), where the trace is"
"$M" view --seconds "$W/t1" >"$W/v1"
python3 - "$W/v1" "${lost1:-0}" <<'EOF'
import collections, re, sys
c, lost = collections.Counter(), 0
for line in open(sys.argv[1]):
    m = re.match(r"\S+ cpu\d+ \S+ (\*\*\* lost (\d+)|\w+)", line)
    if m.group(2):
        lost += int(m.group(2))
    else:
        c[m.group(1)] += 1
want = {"t_pair": 1000, "t_str": 1000, "t_dbl": 1000, "job_start": 100, "job_done": 100}
assert set(c) == set(want) and lost == int(sys.argv[2]), (c, lost)
assert sum(c.values()) + lost == 3200 and all(want[k] - lost <= c[k] <= want[k] for k in c), (c, lost)
if lost:
    print("# the tracer lost %d events, and the trace says so" % lost)
EOF
ok $? "view: every marker emitted, as many times as emitted (or counted lost)"
python3 - "$W/v1" "${lost1:-0}" <<'EOF'
import re, sys
seen = set()
names = ["alpha", "beta", "", "gamma delta"]
for line in open(sys.argv[1]):
    m = re.search(r" t_pair i=(\d+) sq=(\d+)$", line)
    if m:
        i, sq = int(m.group(1)), int(m.group(2))
        assert sq == i * i, line
        assert i not in seen, "twice: " + line
        seen.add(i)
    m = re.search(r' t_str i=(\d+) name="(.*)"$', line)
    if m:
        assert m.group(2) == names[int(m.group(1)) % 4], line
    m = re.search(r" t_dbl x=(\S+) neg=(-?\d+)$", line)
    if m:
        assert float(m.group(1)) == -int(m.group(2)) * 0.5, line
assert seen <= set(range(1000)) and len(seen) >= 1000 - int(sys.argv[2]), "t_pair values"
EOF
ok $? "view: the values are the ones emitted (ints, strings, doubles, shorts)"
babeltrace2 --clock-seconds --no-delta "$W/t1" >"$W/b1" 2>"$W/b1.err"
ok $? "babeltrace2 reads the trace"
python3 - "$W/v1" "$W/b1" <<'EOF'
import re, sys
def fields(s):
    return [(k, v.strip('"')) for k, v in re.findall(r'(\w+) ?= ?("(?:[^"\\]|\\.)*"|[^ ,}]+)', s)]
view, bt2 = [], []
for line in open(sys.argv[1]):
    m = re.match(r"^(\d+\.\d{9}) cpu(\d+) \S+ (\w+)(.*)$", line.rstrip("\n"))
    if not m:
        continue  # a lost-events notice
    view.append((m.group(1), m.group(2), m.group(3), fields(m.group(4))))
for line in open(sys.argv[2]):
    m = re.match(r"^\[(\d+\.\d{9})\] \S+ (\w+): \{ cpu_id = (\d+) \}, (?:\{ vtid = \d+ \}, )?\{ ?(.*?) ?\}$", line.rstrip("\n"))
    if not m:
        continue
    bt2.append((m.group(1), m.group(3), m.group(2), fields(m.group(4))))
assert len(view) == len(bt2), (len(view), len(bt2))
def same(a, b):
    # babeltrace2 2.0.4 shows an empty string as the previous event's value.
    if a[:3] != b[:3] or len(a[3]) != len(b[3]):
        return False
    for (k1, v1), (k2, v2) in zip(a[3], b[3]):
        if k1 != k2:
            return False
        if v1 == v2 or v1 == "":
            continue
        try:
            if abs(float(v1) - float(v2)) <= 1e-5 * max(abs(float(v1)), 1):
                continue
        except ValueError:
            pass
        return False
    return True
key = lambda e: (e[0], e[1], e[2], repr(e[3]))
for a, b in zip(sorted(view, key=key), sorted(bt2, key=key)):
    assert same(a, b), (a, b)
print("# %d events: same time, cpu, name and values" % len(view))
EOF
ok $? "view and babeltrace2 agree on every event, to the nanosecond"

# Exit statuses and signals.
"$M" record -q -o "$W/t2" -- "$W/emit" 10 exit3 >/dev/null 2>&1
ok $([ $? = 3 ]; echo $?) "CMD's exit status (3) is returned"
[ "$("$M" view "$W/t2" | wc -l)" = 32 ]
ok $? "... and its trace is complete"

"$M" record -o "$W/t3" -- "$W/emit" 500 kill >/dev/null 2>"$W/sum3"
ok $([ $? = 137 ]; echo $?) "CMD killed by SIGKILL: status 128+9"
grep -q "killed by signal 9" "$W/sum3"
ok $? "... reported as killed by signal 9"
"$M" view "$W/t3" >"$W/v3" 2>"$W/v3.err"
ok $? "... and the trace reads cleanly: $(head -c 200 "$W/v3.err")"
[ "$(count "$W/v3" t_pair)" = 500 ] && [ "$(count "$W/v3" job_done)" = 50 ]
ok $? "... with every event committed before the kill (recovered)"
[ ! -e "$W/t3/.buffers" ] && babeltrace2 "$W/t3" >/dev/null 2>&1
ok $? "... finished: no .buffers left, babeltrace2 reads it"

"$M" record -q -o "$W/t4" -- "$W/emit" 0 wait "$W/ready" >/dev/null 2>&1 &
rec=$!
for _ in $(seq 200); do [ -e "$W/ready" ] && break; sleep 0.05; done
kill -TERM $rec
wait $rec
ok $([ $? = 7 ]; echo $?) "SIGTERM sent to record reaches CMD (which exits 7)"
[ "$(count <("$M" view "$W/t4") t_pair)" -gt 0 ]
ok $? "... and the trace up to then is there"

# On a terminal, a live line of counters (script(1) gives record a pseudo-terminal).
rm -f "$W/ready"
script -qec "'$M' record -o '$W/t9' -- '$W/emit' 0 wait '$W/ready' & sleep 0.8; kill -TERM \$!; wait" \
	/dev/null </dev/null | tr '\r' '\n' >"$W/tty"
grep -Eq '^.*recording\.\.\. [0-9.]+ s: [0-9,]+ events, .*, [0-9,]+ lost' "$W/tty"
ok $? "on a terminal: a live progress line (events, bytes, lost)"

# Lost events are counted: with buffers too small, recorded + lost = emitted.
"$M" record -q --buffer-size 8K --subbuf-size 4K -o "$W/t5" -- "$W/emit" 20000 >/dev/null 2>&1
"$M" stats "$W/t5" >"$W/s5"
python3 - "$W/s5" <<'EOF'
import re, sys
s = open(sys.argv[1]).read()
m = re.search(r"events +([\d,]+).*?, ([\d,]+) lost", s)
ev, lost = (int(x.replace(",", "")) for x in m.groups())
emitted = 20000 * 3 + 2000 * 2
assert lost > 0, "nothing lost with 8K buffers?"
assert ev + lost == emitted, (ev, lost, emitted)
print("# %d recorded + %d lost = %d emitted" % (ev, lost, emitted))
EOF
ok $? "discard mode, tiny buffers: stats says recorded + lost = emitted"
grep -c '\*\*\* lost' <("$M" view "$W/t5") | grep -qv '^0$'
ok $? "view shows where events were lost"

"$M" record -q --overwrite --buffer-size 8K --subbuf-size 4K -o "$W/t6" -- "$W/emit" 20000 >/dev/null 2>&1
"$M" view "$W/t6" | grep ' t_pair ' | tail -1 | grep -q 'i=19999 '
ok $? "--overwrite keeps the newest events"

# Selection.
"$M" record -q -e 't_p*' -e job_done -o "$W/t7" -- "$W/emit" 100 >/dev/null 2>&1
"$M" view "$W/t7" | awk '{print $4}' | sort -u | tr '\n' ' ' | grep -qx 'job_done t_pair '
ok $? "-e GLOB records only the matching markers"

# stats
"$M" stats --rows 7 "$W/t1" >"$W/s1"
grep -q 't_pair *1,000' "$W/s1" && grep -q 'job_start *100' "$W/s1" && grep -q ', 0 lost' "$W/s1"
ok $? "stats: count per marker, lost"
[ "$(grep -c '^  +.* s |' "$W/s1")" -le 7 ] && [ "$(grep -c '^  +.* s |' "$W/s1")" -ge 4 ] &&
	[ "$(grep '^  +.* s |' "$W/s1" | awk '{gsub(",","",$NF); s+=$NF} END {print s}')" = 3200 ]
ok $? "stats: a histogram over time that adds up to every event"

# Bad input.
mkdir "$W/full" && touch "$W/full/x"
one_line_error "$M" record -o "$W/full" -- "$W/emit" 1 && grep -q 'not empty' "$W/err"
ok $? "a non-empty output directory is refused"
touch "$W/afile"
one_line_error "$M" record -o "$W/afile/sub" -- "$W/emit" 1 && grep -q 'cannot create' "$W/err"
ok $? "an output directory that cannot be made: one line, status 1"
one_line_error "$M" record -o "$W/t8" -- "$W/no-such-program" && grep -q 'cannot run' "$W/err" &&
	[ ! -e "$W/t8" ]
ok $? "a command that does not exist: one line, status 1, no directory left"
one_line_error "$M" record -p 999999 -o "$W/t10" && [ ! -e "$W/t10" ]
ok $? "-p with no such process: one line, status 1, no directory left"
"$M" record --help | grep -q 'usage: markers record'
ok $? "--help"
"$M" record --bogus -- true >/dev/null 2>&1
ok $([ $? = 2 ]; echo $?) "an unknown option: status 2"
"$M" record >/dev/null 2>&1
ok $([ $? = 2 ]; echo $?) "no command: status 2"
exit $((fails > 0))
