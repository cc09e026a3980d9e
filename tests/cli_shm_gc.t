#!/bin/bash
# cli_shm_gc.t - buffer files left in /dev/shm by a process that died while
# recording, whose trace directory was then deleted without `markers
# recover`: `markers recover --gc` finds them by the pid and start time in
# their names and removes them, saying so.  It never touches a live
# process's buffers (even with its directory gone), nor those a trace
# directory still links to (they are recovered afterwards), nor another
# user's file or a symbolic link with such a name (never followed), and a
# pid that a new process reuses does not keep an orphan alive.  In a
# private mount namespace with a /dev/shm of its own, so that the counts are
# exact and no other recording is looked at.
set -u
export LC_ALL=C
M=${MARKERS_STAGE:?}/bin/markers
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
. "$(dirname "$0")/tap.sh"

if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null || ! id nobody >/dev/null 2>&1; then
	echo "1..0 # SKIP needs root (a /dev/shm of its own: unshare -m) and the user nobody (a second user)"
	exit 0
fi

cat >"$W/prog.c" <<'EOF'
/* prog N kill|sleep: N events, then SIGKILL itself, or sleep until killed. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <markers.h>

int main(int argc, char **argv)
{
	int n = atoi(argv[1]);

	for (int i = 0; i < n; i++)
		trace_mark(t_gc, "i %d", i);
	if (!strcmp(argv[2], "kill"))
		raise(SIGKILL);
	for (;;)
		pause();
}
EOF
build_prog prog

cat >"$W/inside.sh" <<'EOF'
set -u
W=$1 M=$2
rec() { MARKERS_RECORD='*' MARKERS_RECORD_DIR="$W/$1" "$W/prog" 1000 "$2"; }
# A dead process whose directory is deleted: an orphan.
rec gone kill 2>/dev/null
ls /dev/shm >"$W/gone.shm"
rm -rf "$W/gone"
# A dead process whose directory stays: recoverable, kept.
rec kept kill 2>/dev/null
ls -d "$W/kept"/* >"$W/kept.dirs"
# A live process whose directory is deleted: kept while it lives.
# ($! must be the program's own pid: no function or subshell in between)
MARKERS_RECORD='*' MARKERS_RECORD_DIR="$W/live" "$W/prog" 1000 sleep >/dev/null 2>&1 &
live=$!
echo $live >"$W/live.pid"
for i in $(seq 100); do [ -e "$W/live" ] && ls "$W/live"/*/.stats >/dev/null 2>&1 && break; sleep 0.05; done
# (it writes .stats every 100 ms: rm may meet a new name, and must try again)
for i in 1 2 3 4 5; do rm -rf "$W/live" 2>/dev/null && break; done
ls /dev/shm | grep -c "^markers-$live-" >"$W/live.n"
# Planted: another user's file, and a link to a file of ours, with names of a dead process.
echo victim >"$W/victim"
setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups -- \
	sh -c 'echo theirs >/dev/shm/markers-999999-5-0123456789abcdef-session'
ln -s "$W/victim" /dev/shm/markers-999999-5-fedcba9876543210-session
ln -s "$W/victim" /dev/shm/markers-999999-5-fedcba9876543210-cpu0
# A pid a live process has now (this shell's), with another start time: its process is gone.
echo stale >"/dev/shm/markers-$$-1-00000000000000aa-session"
echo $$ >"$W/shell.pid"
ls /dev/shm | sort >"$W/before"
"$M" recover --gc >"$W/gc.out" 2>"$W/gc.err"
echo $? >"$W/gc.rc"
ls /dev/shm | sort >"$W/after"
cat "$W/victim" >"$W/victim.after"
# The kept trace is recovered, from its buffers, and they go.
"$M" recover "$W/kept" >/dev/null 2>"$W/recover.err"
echo $? >"$W/recover.rc"
"$M" view "$W/kept" 2>/dev/null | grep -c ' t_gc ' >"$W/kept.view"
# The live process is killed: now its buffers are orphans too.
{ kill -KILL $live; wait $live; } 2>/dev/null
"$M" recover --gc >"$W/gc2.out" 2>&1
ls /dev/shm | sort >"$W/end"
"$M" recover --gc >"$W/gc3.out" 2>&1
exit 0
EOF
in_private_mounts "$W/inside.sh" "$W" "$M"
rc=$?
if [ $rc != 0 ]; then
	echo "1..0 # SKIP cannot mount a tmpfs over /dev/shm in a private mount namespace (status $rc)"
	exit 0
fi

echo "1..9"
gone_pid=$(sed -n 's/^markers-\([0-9]*\)-.*-session$/\1/p' "$W/gone.shm")
ngone=$(grep -c '^markers-' "$W/gone.shm")
[ -n "$gone_pid" ] && [ "$ngone" -ge 2 ] && grep -q "^markers-$gone_pid-[0-9]*-[0-9a-f]\{16\}-cpu0$" "$W/gone.shm"
ok $? "buffer files are named markers-PID-START-TAG-NAME: $(head -c 200 "$W/gone.shm" | tr '\n' ' ')"
[ "$(cat "$W/gc.rc")" = 0 ] && [ "$(grep -c "^removed /dev/shm/markers-$gone_pid-" "$W/gc.out")" = "$ngone" ] &&
	! grep "^markers-$gone_pid-" "$W/after"
ok $? "the dead process's $ngone files whose trace directory is gone are removed, each one said: $(head -c 300 "$W/gc.out")"
grep -q "^removed /dev/shm/markers-$gone_pid-.*: its process is gone, and its trace directory $W/gone no longer links to it$" "$W/gc.out"
ok $? "... and the directory they belonged to is named"
sp=$(cat "$W/shell.pid")
grep -q "^removed /dev/shm/markers-$sp-1-00000000000000aa-session" "$W/gc.out" && ! grep -q "^markers-$sp-1-" "$W/after"
ok $? "a pid that another process has now, with another start time, keeps nothing"
live=$(cat "$W/live.pid")
gone_names=$(comm -23 "$W/before" "$W/after" | grep -v "^markers-$gone_pid-\|^markers-$sp-1-00000000000000aa-session$")
[ "$(cat "$W/live.n")" -ge 2 ] && [ "$(grep -c "^markers-$live-" "$W/after")" = "$(cat "$W/live.n")" ] &&
	[ "$(grep -vc "^markers-$live-\|^markers-999999-" "$W/after")" -ge 2 ] && [ -z "$gone_names" ]
ok $? "a live process's buffers (its directory deleted) and a dead one's still linked from its directory are kept"
grep -qx 'markers-999999-5-0123456789abcdef-session' "$W/after" &&
	grep -qx 'markers-999999-5-fedcba9876543210-session' "$W/after" &&
	grep -qx 'markers-999999-5-fedcba9876543210-cpu0' "$W/after" && [ "$(cat "$W/victim.after")" = victim ]
ok $? "another user's file and symbolic links with such names: neither followed nor removed"
[ "$(cat "$W/recover.rc")" = 0 ] && [ "$(cat "$W/kept.view")" = 1000 ]
ok $? "the kept buffers recover their trace: $(cat "$W/kept.view") of 1000 events ($(head -c 200 "$W/recover.err"))"
[ "$(grep -c "^removed /dev/shm/markers-$live-" "$W/gc2.out")" = "$(cat "$W/live.n")" ] &&
	[ -z "$(grep '^markers-' "$W/end" | grep -v '^markers-999999-')" ]
ok $? "once the live process is killed, its buffers go too; nothing of ours is left: $(grep '^markers-' "$W/end" | grep -v '^markers-999999-' | head -3 | tr '\n' ' ')"
grep -q '^0 orphaned buffer files removed' "$W/gc3.out"
ok $? "a last pass removes nothing: $(cat "$W/gc3.out")"
exit $((fails > 0))
