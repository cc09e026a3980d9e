#!/bin/bash
# cli_control.t - `markers list -p`, `enable -p`, `disable -p` against real
# processes through their control channels; and every way that can go
# wrong: no such process, no libmarkers, channel off, an unsafe directory,
# another user, a peer that hangs, hangs up, dies or talks garbage.
set -u
export LC_ALL=C
M=${MARKERS_STAGE:?}/bin/markers
B=${MARKERS_BUILD:?}
BUSY=$B/tests/control/busy
W=$(mktemp -d)
export MARKERS_CONTROL_DIR=$W/ctl
mkdir -m 700 "$MARKERS_CONTROL_DIR"
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
. "$(dirname "$0")/tap.sh"
# wait_for COND-COMMAND...: up to 5 s.
wait_for() {
	for _ in $(seq 100); do "$@" && return 0; sleep 0.05; done
	return 1
}
# start NAME [ARGS]: busy in the background; sets PID; its stderr in $W/NAME.err.
start() {
	local name=$1
	shift
	"$BUSY" "$@" >"$W/$name.out" 2>"$W/$name.err" &
	PID=$!
	PIDS="$PIDS $PID"
	wait_for grep -qs '^ready' "$W/$name.out"
}
have_socket() { [ -S "${2:-$MARKERS_CONTROL_DIR}/$1" ]; }
# one_line_fail STATUS ERRFILE PATTERN: exit 1 and exactly one line matching PATTERN.
one_line_fail() {
	[ "$1" -eq 1 ] && [ "$(wc -l <"$2")" -eq 1 ] && grep -q -- "$3" "$2" ||
		{ echo "#   status $1, stderr:"; sed 's/^/#   /' "$2"; return 1; }
}

# The socket is bound by the library's thread, a little after start: a client
# that comes first waits for it.  Right after start (main has run), no wait.
start early
"$M" list -p $PID >"$W/l0" 2>"$W/err"
[ $? -eq 0 ] && grep -q "^process $PID: 4 markers" "$W/l0"
ok $? "list -p right after start (it waits for the socket)"
"$BUSY" -s 5 >"$W/early2.out" 2>/dev/null &
EP=$!
PIDS="$PIDS $EP"
for _ in $(seq 200); do grep -qs /libmarkers.so "/proc/$EP/maps" && break; sleep 0.01; done
"$M" list -p $EP >"$W/l0b" 2>"$W/err"
[ $? -eq 0 ] && grep -q "^process $EP: 4 markers" "$W/l0b"
ok $? "list -p as soon as libmarkers is mapped, before main"

start main
ok $? "an instrumented program runs"
wait_for have_socket $PID; ok $? "it opened its control socket, named by its pid"
[ "$(stat -c %a "$MARKERS_CONTROL_DIR")" = 700 ]; ok $? "in a directory only its user can open"

"$M" list -p $PID >"$W/l1" 2>"$W/err"
ok $? "list -p"
grep -q "^process $PID: 4 markers" "$W/l1" && grep -Eq '^busy_jump +off ' "$W/l1" &&
	grep -Eq '^busy_immediate +off ' "$W/l1" && grep -Eq 'site +generic +flag +.*busy.c:' "$W/l1"
ok $? "every marker, off, with its sites"

"$M" enable -p $PID 'busy_[gj]*' >"$W/e1" 2>"$W/err"
ok $? "enable -p a glob"
grep -q "^busy_\[gj\]\*: 2 markers matched, 2 switched on" "$W/e1"; ok $? "it says how many matched"
wait_for grep -qs '^busy_jump: tag \(odd\|even\)$' "$W/main.err"
ok $? "the print probe writes the process's events to its stderr"
grep -q '^busy_generic: n [0-9]*$' "$W/main.err" && ! grep -q busy_immediate "$W/main.err"
ok $? "only the markers that matched"
"$M" list -p $PID >"$W/l2"
grep -Eq '^busy_generic +on ' "$W/l2" && grep -q 'probe print  via busy_\[gj\]\*' "$W/l2" &&
	grep -Eq '^busy_immediate +off ' "$W/l2"
ok $? "list -p shows them on, with the probe and its glob"

"$M" disable -p $PID busy_jump >"$W/d1" 2>"$W/err"
[ $? -eq 0 ] && grep -q '^busy_jump: 1 marker matched, 1 switched off' "$W/d1"
ok $? "disable -p one marker of the glob"
"$M" list -p $PID >"$W/l3"
grep -Eq '^busy_jump +off ' "$W/l3" && grep -Eq '^busy_generic +on ' "$W/l3"
ok $? "the rest of the glob stays on"
sleep 0.2
j1=$(grep -c busy_jump "$W/main.err"); g1=$(grep -c busy_generic "$W/main.err")
sleep 0.3
j2=$(grep -c busy_jump "$W/main.err"); g2=$(grep -c busy_generic "$W/main.err")
[ "$j1" = "$j2" ] && [ "$g2" -gt "$g1" ]; ok $? "busy_jump printed no more, busy_generic still does ($j1=$j2, $g1<$g2)"

"$M" enable -p $PID no_such_marker >"$W/out" 2>"$W/err"
one_line_fail $? "$W/err" "no marker of process $PID matches 'no_such_marker'"
ok $? "a glob that matches nothing: one line, exit 1"
"$M" enable -p $PID busy_immediate 'zz*' >"$W/out" 2>"$W/err"
[ $? -eq 1 ] && grep -q '^busy_immediate: 1 marker matched' "$W/out"
ok $? "one good glob and one that matches nothing: the good one applies, exit 1"

"$M" list --json -p $PID >"$W/json"
python3 - "$W/json" $PID <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["pid"] == int(sys.argv[2])
m = {x["name"]: x for x in d["markers"]}
assert set(m) == {"busy_generic", "busy_immediate", "busy_jump", "busy_exit"}, m.keys()
assert m["busy_generic"]["enabled"] and not m["busy_jump"]["enabled"]
assert m["busy_immediate"]["probes"][0]["probe"] == "print"
assert m["busy_jump"]["args"] == ["string"] and m["busy_immediate"]["types"] == "Ii"
for x in m.values():
    for s in x["sites"]:
        assert s["kind"] in ("generic", "immediate", "jump") and s["line"] > 0, s
EOF
ok $? "list --json -p: JSON with states, sites and probes"

"$M" disable -p $PID '*' >"$W/out" 2>"$W/err"
[ $? -eq 0 ] && grep -q "^\*: 4 markers matched, 2 switched off" "$W/out"
ok $? "disable -p '*'"
sleep 0.2; c1=$(wc -l <"$W/main.err"); sleep 0.3; c2=$(wc -l <"$W/main.err")
[ "$c1" = "$c2" ]; ok $? "nothing prints any more"

# fork: the child gets its own channel; switching it leaves the parent alone.
"$BUSY" -f >"$W/fork.out" 2>"$W/fork.err" &
FP=$!
PIDS="$PIDS $FP"
wait_for grep -qs '^forked' "$W/fork.out"
CP=$(sed -n 's/^forked //p' "$W/fork.out")
PIDS="$PIDS $CP"
wait_for have_socket "$CP"; ok $? "a fork child opens a channel of its own"
"$M" enable -p "$CP" busy_immediate >/dev/null 2>&1 &&
	wait_for grep -qs '^busy_immediate: n ' "$W/fork.err" &&
	"$M" list -p "$FP" | grep -Eq '^busy_immediate +off ' &&
	"$M" list -p "$CP" | grep -Eq '^busy_immediate +on '
ok $? "enable in the child: on there, off in the parent"

# Exit removes the socket; a dead process's socket is removed by the next start.
start short -s 1
SP=$PID
wait_for have_socket $SP
wait $SP
! have_socket $SP; ok $? "the socket goes away when the process exits"
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' \
	"$MARKERS_CONTROL_DIR/$SP"
have_socket $SP && start stale && wait_for have_socket $PID &&
	wait_for eval "! have_socket $SP"
ok $? "a socket left by a dead process is cleaned up by the next one"

# Processes that cannot answer.
true & DEAD=$!; wait $DEAD
"$M" list -p $DEAD >/dev/null 2>"$W/err"
one_line_fail $? "$W/err" "no process with pid $DEAD"; ok $? "an unknown pid"
sleep 30 & SL=$!; PIDS="$PIDS $SL"
"$M" enable -p $SL '*' >/dev/null 2>"$W/err"
one_line_fail $? "$W/err" "process $SL does not use libmarkers"; ok $? "a process without libmarkers"
MARKERS_CONTROL=0 start off
"$M" list -p $PID >/dev/null 2>"$W/err"
one_line_fail $? "$W/err" "no control channel"; ok $? "a process with MARKERS_CONTROL=0"
! have_socket $PID; ok $? "... which opens no socket"

mkdir -m 777 "$W/open"
MARKERS_CONTROL_DIR=$W/open start unsafe
sleep 0.2
[ -z "$(ls "$W/open")" ]; ok $? "a directory open to others: the library opens no socket there"

# Fake peers: a socket under a pid's name that misbehaves.
cat >"$W/fake.py" <<'EOF'
import os, socket, sys, time
mode, d = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX)
s.bind(os.path.join(d, str(os.getpid())))
s.listen(1)
print("ready", flush=True)
c, _ = s.accept()
req = c.recv(4096)
if mode == "garbage":
    c.sendall(b"HTTP/1.0 200 OK\r\n\r\n")
elif mode == "huge":
    c.sendall(b"MKC1\xff\xff\xff\xff")
elif mode == "nul":
    c.sendall(b"MKC1\x08\x00\x00\x00\x01\x00\x00\x00a\x00b\x00")
elif mode == "short":
    c.sendall(b"MKC1\x40\x00\x00\x00\x01\x00")
    c.close()
elif mode == "die":
    os._exit(0)
elif mode == "hang":
    time.sleep(30)
time.sleep(1)
EOF
fake() { # fake MODE DIR: sets FP
	python3 "$W/fake.py" "$1" "$2" >"$W/fake-$1-$(basename "$2").out" 2>/dev/null &
	FP=$!
	PIDS="$PIDS $FP"
	wait_for grep -qs ready "$W/fake-$1-$(basename "$2").out"
}
fake garbage "$MARKERS_CONTROL_DIR"
timeout 20 "$M" list -p $FP >/dev/null 2>"$W/err"
one_line_fail $? "$W/err" "malformed reply from process $FP"; ok $? "a peer that answers garbage"
fake huge "$MARKERS_CONTROL_DIR"
timeout 20 "$M" enable -p $FP x >/dev/null 2>"$W/err"
one_line_fail $? "$W/err" "malformed reply"; ok $? "a peer that announces a 4 GiB reply"
fake nul "$MARKERS_CONTROL_DIR"
timeout 20 "$M" list -p $FP >/dev/null 2>"$W/err"
one_line_fail $? "$W/err" "malformed reply"; ok $? "a reply with a NUL in its text"
fake short "$MARKERS_CONTROL_DIR"
timeout 20 "$M" list -p $FP >/dev/null 2>"$W/err"
one_line_fail $? "$W/err" "closed its control connection\|exited during"
ok $? "a peer that hangs up in the middle of its reply"
fake die "$MARKERS_CONTROL_DIR"
timeout 20 "$M" disable -p $FP x >/dev/null 2>"$W/err"
one_line_fail $? "$W/err" "closed its control connection\|exited during"
ok $? "a peer that dies during the command"
fake hang "$MARKERS_CONTROL_DIR"
t0=$(date +%s)
MARKERS_CONTROL_TIMEOUT=1 timeout 20 "$M" list -p $FP >/dev/null 2>"$W/err"
st=$?
one_line_fail $st "$W/err" "no answer from process $FP within 1 s" && [ $(($(date +%s) - t0)) -lt 5 ]
ok $? "a peer that never answers: a timeout, not a hang"
fake garbage "$W/open"
MARKERS_CONTROL_DIR=$W/open timeout 20 "$M" list -p $FP >/dev/null 2>"$W/err"
one_line_fail $? "$W/err" "open to others; refusing"; ok $? "the CLI refuses a socket in a directory open to others"

# Another user: the CLI as nobody, against our process.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
	setpriv --reuid=65534 --regid=65534 --clear-groups "$M" --version >/dev/null 2>&1; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$M" list -p $$ >/dev/null 2>"$W/err"
	one_line_fail $? "$W/err" "belongs to another user"; ok $? "another user's process"
else
	skip "needs root, setpriv, and a CLI that uid 65534 can run"
fi

# The default directory ($XDG_RUNTIME_DIR/markers or /tmp/markers-UID).
(unset MARKERS_CONTROL_DIR; start dflt; echo $PID >"$W/dflt.pid")
DP=$(cat "$W/dflt.pid"); PIDS="$PIDS $DP"
(unset MARKERS_CONTROL_DIR; wait_for "$M" list -p "$DP" >"$W/out" 2>&1)
grep -q "^process $DP: 4 markers" "$W/out"; ok $? "the default directory, found by the CLI"

# record -p: the target's tracer records; enable -p goes to the recording meanwhile.
start rec
RP=$PID
"$M" record -p $RP -d 3 -o "$W/t1" -e 'busy_[gi]*' >"$W/r1.out" 2>"$W/r1.err" &
R1=$!
PIDS="$PIDS $R1"
wait_for sh -c "'$M' list -p $RP | grep -q '^process $RP: 4 markers; recording: '"
ok $? "list -p shows the recording of record -p"
"$M" enable -p $RP busy_jump >"$W/out" 2>"$W/err"
[ $? -eq 0 ] && grep -q '^busy_jump: 1 marker matched; recorded for the recording' "$W/out"
ok $? "enable -p while record -p runs: for the recording"
"$M" disable -p $RP busy_immediate >/dev/null 2>"$W/err"
one_line_fail $? "$W/err" "not one of the globs it records"
ok $? "disable -p of part of a recorded glob: refused in one line"
"$M" record -p $RP -d 1 -o "$W/t2" >/dev/null 2>"$W/err"
one_line_fail $? "$W/err" "already recording"; ok $? "a second record -p: refused"
wait $R1
[ $? -eq 0 ] && grep -Eq "^markers record: [1-9][0-9,]* events, 0 lost, " "$W/r1.err" &&
	[ "$(ls "$W/t1")" = "$(ls "$W/t1" | grep -x "busy-$RP-[0-9]\{8\}-[0-9]\{6\}")" ]
ok $? "record -p -d 3: exit 0, a summary, the trace in DIR/NAME-PID-DATE"
"$M" view "$W/t1" >"$W/v1" 2>&1
grep -q ' busy_generic n=' "$W/v1" && grep -q ' busy_immediate n=' "$W/v1" &&
	grep -q ' busy_jump tag=' "$W/v1"
ok $? "the trace has the recorded markers, busy_jump from the moment it was enabled"
! grep -q busy "$W/rec.err"; ok $? "... and nothing went to the print probe"
"$M" list -p $RP >"$W/out"
grep -q "^process $RP: 4 markers\$" "$W/out" && grep -Eq '^busy_generic +off ' "$W/out"
ok $? "after record -p: no recording, markers off"

"$M" record -p $RP -o "$W/t3" >"$W/r3.out" 2>&1 &
R3=$!
PIDS="$PIDS $R3"
wait_for sh -c "'$M' list -p $RP | grep -q 'recording: '"
sleep 0.3
kill -INT $R3
wait $R3
[ $? -eq 0 ] && grep -Eq '^markers record: [1-9][0-9,]* events' "$W/r3.out"; ok $? "record -p stops on Ctrl-C with a summary"
"$M" record -p $RP -o "$W/t4" >/dev/null 2>&1 &
R4=$!
wait_for sh -c "'$M' list -p $RP | grep -q 'recording: '"
exec 3>&2 2>/dev/null # no "Killed" notice from the shell
kill -KILL $R4
wait $R4
exec 2>&3 3>&-
wait_for sh -c "'$M' list -p $RP | grep -q '^process $RP: 4 markers\$'"
ok $? "record -p killed by SIGKILL: the target stops the recording itself"
"$M" record -p $SL -d 1 -o "$W/t5" >/dev/null 2>"$W/err"
one_line_fail $? "$W/err" "does not use libmarkers"; ok $? "record -p of a process without libmarkers"

"$M" enable --help >"$W/out"; [ $? -eq 0 ] && grep -q 'usage: markers enable -p PID\[,PID...\] GLOB' "$W/out"
ok $? "enable --help"
"$M" disable --help >"$W/out"; [ $? -eq 0 ] && grep -q 'usage: markers disable' "$W/out"
ok $? "disable --help"
"$M" enable 'x*' >/dev/null 2>&1; [ $? -eq 2 ]; ok $? "enable without -p: exit 2"
"$M" disable -p $DP >/dev/null 2>&1; [ $? -eq 2 ]; ok $? "disable without a glob: exit 2"
echo "1..$n"
