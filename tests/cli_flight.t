#!/bin/bash
# cli_flight.t - the flight recorder: `markers snapshot -p PID` while a program
# records in overwrite mode (its events numbered, each with a check value),
# taken again and again: each snapshot a trace babeltrace2 reads, in order, no
# torn event, ending with recent numbers; the recording goes on.  Then
# recovery of the last events after SIGKILL, SIGSEGV, abort() and a crash
# inside a probe: `markers recover DIR` for a program started from the
# environment, `markers record --overwrite` for its own child.
set -u
export LC_ALL=C
M=${MARKERS_STAGE:?}/bin/markers
P=${MARKERS_BUILD:?}/tests/analysis/numbered
W=$(mktemp -d)
pids=
trap 'for p in $pids; do kill -9 $p 2>/dev/null; done; rm -rf "$W"' EXIT
. "$(dirname "$0")/tap.sh"

# check TRACE: babeltrace2 reads it cleanly; prints "COUNT FIRST LAST" of the
# tick numbers in time order; fails on a torn event, a number out of order or
# twice, and (with CONTIGUOUS=N) on a gap among the last N events.
check() {
	babeltrace2 "$1" >"$W/bt" 2>"$W/bterr" || { echo "# babeltrace2 failed: $(head -c 300 "$W/bterr")"; return 1; }
	[ -s "$W/bterr" ] && grep -v -i 'discard\|overwritten\|lost' "$W/bterr" | grep -q . &&
		{ echo "# babeltrace2 warns: $(head -c 300 "$W/bterr")"; return 1; }
	python3 - "$W/bt" "${CONTIGUOUS:-0}" <<'PY'
import re, sys
seqs = []
for line in open(sys.argv[1]):
    if ' tick: ' not in line:
        continue
    m = re.search(r'\{ seq = (\d+), check = (\d+) \}', line)
    if not m or int(m.group(2)) != (int(m.group(1)) * 2654435761) % 2**64:
        print('# torn event: ' + line.strip()); sys.exit(1)
    seqs.append(int(m.group(1)))
if not seqs:
    print('# no tick event'); sys.exit(1)
bad = [i for i in range(1, len(seqs)) if seqs[i] <= seqs[i - 1]]
if bad:
    print('# out of order or twice at %d: %s' % (bad[0], seqs[bad[0] - 2:bad[0] + 2])); sys.exit(1)
n = int(sys.argv[2])
tail = seqs[-n:] if n else []
if tail and tail[-1] - tail[0] != len(tail) - 1:
    print('# a gap among the last %d: %s' % (n, tail)); sys.exit(1)
print(len(seqs), seqs[0], seqs[-1])
PY
}

# A flight recorder started from the environment, small buffers that wrap.
MARKERS_RECORD=tick MARKERS_RECORD_MODE=overwrite MARKERS_RECORD_DIR="$W/rec" \
	MARKERS_RECORD_BUFFER_SIZE=64K MARKERS_RECORD_SUBBUF_SIZE=8K "$P" loop >"$W/ready" &
lp=$!
disown $lp # its end by kill -9 is the test's: no job notice
pids="$pids $lp"
for _ in $(seq 200); do grep -q ready "$W/ready" && break; sleep 0.05; done
sleep 0.3
last=0
for k in 1 2 3; do
	"$M" snapshot -p $lp -o "$W/s$k" >"$W/out" 2>&1
	rc=$?
	r=$(check "$W/s$k")
	crc=$?
	set -- $r
	# Recent: beyond the last snapshot's numbers (about 20 a millisecond since).
	[ $rc = 0 ] && [ $crc = 0 ] && [ "${3:-0}" -gt $((last + 1000)) ] && grep -q "^snapshot of process $lp: $1 events" "$W/out"
	ok $? "snapshot $k while recording: $1 events, in order, none torn, ending at ${3:-?} (> $last + 1000)"
	[ "${3:-}" ] && last=$3
	sleep 0.3
done
"$M" snapshot -p $lp -o "$W/s1" >/dev/null 2>"$W/err"
[ $? = 1 ] && grep -q 'holds a trace already' "$W/err"
ok $? "a snapshot never mixes with an older one in the same directory"
kill -9 $lp
for _ in $(seq 100); do kill -0 $lp 2>/dev/null || break; sleep 0.05; done
"$M" recover "$W/rec" >/dev/null 2>"$W/err"
rc=$?
r=$(CONTIGUOUS=500 check "$W/rec")
crc=$?
set -- $r
[ $rc = 0 ] && [ $crc = 0 ] && [ "${3:-0}" -gt "$last" ]
ok $? "SIGKILL, then markers recover: $1 events, the last 500 without a gap, ending at ${3:-?} (> $last)"

# Crashes at a known number: the trace ends exactly there.  (ASan catches
# SIGSEGV itself and exits 1: in a sanitizer build any failure status counts.)
died() { [ "$1" -gt 128 ] || { [ -n "${MARKERS_SANFLAGS:-}" ] && [ "$1" != 0 ]; }; }
crash() { # MODE LAST DESCRIPTION
	local mode=$1 want=$2 what=$3
	rm -rf "$W/c"
	(MARKERS_RECORD=tick MARKERS_RECORD_MODE=overwrite MARKERS_RECORD_DIR="$W/c" \
		MARKERS_RECORD_BUFFER_SIZE=64K MARKERS_RECORD_SUBBUF_SIZE=8K "$P" loop "$mode"; exit $?) \
		>/dev/null 2>&1
	local st=$?
	"$M" recover "$W/c" >/dev/null 2>"$W/err"
	local rc=$?
	r=$(CONTIGUOUS=1000 check "$W/c")
	local crc=$?
	set -- $r
	died $st && [ $rc = 0 ] && [ $crc = 0 ] && [ "${3:-}" = "$want" ]
	ok $? "$what: status $st, recovered ${1:-0} events, the last 1000 without a gap, ending at ${3:-?} (want $want)"
}
crash segv 20000 "SIGSEGV"
crash abort 20000 "abort()"
crash probe 20000 "SIGSEGV inside a probe (at 20000, after the tracer's)"

# markers record --overwrite does it for its own child.
rm -rf "$W/r"
"$M" record -q --overwrite -b 64K --subbuf-size 8K -o "$W/r" -e tick -- "$P" loop segv >/dev/null 2>&1
st=$?
r=$(CONTIGUOUS=1000 check "$W/r")
crc=$?
set -- $r
{ [ $st = 139 ] || { [ -n "${MARKERS_SANFLAGS:-}" ] && died $st; }; } && [ $crc = 0 ] && [ "${3:-}" = 20000 ]
ok $? "markers record --overwrite: the child's SIGSEGV, $1 events ending at ${3:-?}"

# Misuse: one line, exit status.
"$P" loop >"$W/ready2" &
dp=$!
pids="$pids $dp"
for _ in $(seq 200); do grep -q ready "$W/ready2" && break; sleep 0.05; done
"$M" snapshot -p $dp -o "$W/none" >/dev/null 2>"$W/err"
[ $? = 1 ] && grep -q "is not recording" "$W/err" && [ ! -e "$W/none" ]
ok $? "snapshot of a process that does not record: exit 1, said so, no directory left"
kill $dp
"$M" snapshot -o "$W/x" >/dev/null 2>&1
ok $(( $? != 2 )) "snapshot without -p: exit 2"
"$M" recover >/dev/null 2>&1
ok $(( $? != 2 )) "recover without a directory: exit 2"

echo "1..$n"
exit $((fails > 0))
