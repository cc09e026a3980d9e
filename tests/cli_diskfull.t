#!/bin/bash
# cli_diskfull.t - recording onto a full disk, for real: a 1 MiB tmpfs as the
# trace's file system, and a tmpfs of our own over /dev/shm, both mounted in
# a private mount namespace (unshare -m) so nothing is seen outside.  The disk
# fills mid-recording (discard and overwrite modes, a clean exit and a
# SIGKILL), or is full from the start.  Each time: every event emitted is
# either in the trace or counted as discarded, the trace reads whole in
# babeltrace2 and `markers view/stats`, .stats says the disk filled,
# `markers record` exits non-zero with one line, nothing stays in /dev/shm,
# and the traced program never dies of SIGBUS.  And write-back errors (a
# loop device that fails writes the page cache had accepted): never a
# silent success, the stream files cut back to whole packets.
set -u
export LC_ALL=C
M=${MARKERS_STAGE:?}/bin/markers
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
. "$(dirname "$0")/tap.sh"

if ! unshare -m true 2>/dev/null; then
	echo "1..0 # SKIP needs root (or CAP_SYS_ADMIN) to mount a small tmpfs: unshare -m failed"
	exit 0
fi

cat >"$W/emit.c" <<'EOF'
/*
 * emit N [kill|pace]: N events of one marker, then exit 0 or SIGKILL
 * itself; pace: 20 ms of sleep every 2,000 events, so that the recorder
 * keeps up and meets the disk's errors while recording.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <markers.h>

int main(int argc, char **argv)
{
	int n = atoi(argv[1]), pace = argc > 2 && !strcmp(argv[2], "pace");

	for (int i = 0; i < n; i++) {
		trace_mark(t_fill, "i %d sq %llu name %s", i, (unsigned long long)i * i, "filler");
		if (pace && i % 2000 == 1999)
			usleep(20000);
	}
	if (argc > 2 && !strcmp(argv[2], "kill"))
		raise(SIGKILL);
	return 0;
}
EOF
build_prog emit

# Everything below runs in a private mount namespace; the results come back in files.
cat >"$W/inside.sh" <<'EOF'
set -u
W=$1 M=$2
# run NAME SIZE_MB RECORD-ARGS... -- CMD: a fresh tmpfs of SIZE at $W/NAME.mnt
run() {
	local name=$1 size=$2
	shift 2
	tmpfs_at "$W/$name.mnt" "${size}m"
	record_in "$name" "$W/$name.mnt/t" "$@"
}
# record_in NAME DIR RECORD-ARGS... -- CMD: record into DIR (as $AS, if set), look at the result
record_in() {
	local name=$1 t=$2
	shift 2
	${AS:-} "$M" record -q -o "$t" "$@" >"$W/$name.out" 2>"$W/$name.err" </dev/null
	echo $? >"$W/$name.rc"
	ls -A /dev/shm >"$W/$name.shm"
	# One process: its trace is the one directory below the recording's.
	ls -A "$t"/*/ >"$W/$name.ls" 2>&1
	cp "$t"/*/.stats "$W/$name.stats" 2>/dev/null
	"$M" view "$t" 2>"$W/$name.view.err" | grep -c ' t_fill ' >"$W/$name.view"
	echo "${PIPESTATUS[0]}" >"$W/$name.view.rc"
	"$M" stats "$t" >"$W/$name.stats.out" 2>&1
	echo $? >"$W/$name.stats.rc"
	babeltrace2 "$t" 2>"$W/$name.bt.err" | grep -c ' t_fill: ' >"$W/$name.bt"
	echo "${PIPESTATUS[0]}" >"$W/$name.bt.rc"
}
run mid 1 -- "$W/emit" 1600000
run ovw 1 --overwrite -b 2M -- "$W/emit" 1600000
run kill 1 -- "$W/emit" 1600000 kill
# Full before the start: `markers record` refuses, a program recording by itself goes on.
tmpfs_at "$W/full.mnt" 1m
dd if=/dev/zero of="$W/full.mnt/fill" bs=64k 2>/dev/null
mkdir -p "$W/full.mnt/t"
"$M" record -q -o "$W/full.mnt/t" -- "$W/emit" 1000 >/dev/null 2>"$W/full.err" </dev/null
echo $? >"$W/full.rc"
# The library alone (no CLI): its start fails, the program runs to its end, no SIGBUS.
rm -f "$W/full.mnt/fill"
dd if=/dev/zero of="$W/full.mnt/fill" bs=4k count=240 2>/dev/null
MARKERS_RECORD='*' MARKERS_RECORD_DIR="$W/full.mnt/lib" "$W/emit" 100000
echo $? >"$W/lib.rc"
ls -A /dev/shm >"$W/lib.shm"
# /dev/shm too small for the buffers: they go to the trace directory, which has room.
umount /dev/shm && mount -t tmpfs -o size=64k tmpfs /dev/shm || exit 10
run shm 32 -- "$W/emit" 30000
ls -A "$W/shm.mnt/t"/*/.buffers >"$W/shm.buffers" 2>&1
# ... and when neither has room, the start fails cleanly.
MARKERS_RECORD='*' MARKERS_RECORD_DIR="$W/full.mnt/lib2" "$W/emit" 100000
echo $? >"$W/lib2.rc"
ls -A /dev/shm >"$W/lib2.shm"
ls -A "$W/full.mnt/lib2" >"$W/lib2.ls" 2>&1
umount /dev/shm && mount -t tmpfs -o size=16m tmpfs /dev/shm || exit 10
# kill -9 at random moments while the disk fills (MARKERS_TEST_SCALE: more rounds):
# whatever the moment, the trace reads whole and what it holds is what .stats says.
rounds=$((6 * ${MARKERS_TEST_SCALE:-1}))
: >"$W/rk.res"
for ((k = 0; k < rounds; k++)); do
	tmpfs_at "$W/rk.mnt" 1m
	d=0.0$((RANDOM % 8 + 2))
	"$M" record -q -o "$W/rk.mnt/t" -- timeout -s KILL $d "$W/emit" 100000000 >/dev/null 2>&1 </dev/null
	st=$(ls "$W/rk.mnt/t"/*/.stats 2>/dev/null | head -1)
	if [ -n "$st" ]; then
		rec=$(sed -n 's/^recorded //p' "$st")
		v=$("$M" view "$W/rk.mnt/t" 2>/dev/null | grep -c ' t_fill ')
		babeltrace2 "$W/rk.mnt/t" >/dev/null 2>"$W/rk.bt"
		bt=$?
		[ "$v" = "$rec" ] && [ $bt = 0 ] && [ -z "$(ls -A /dev/shm)" ] && r=ok || r=bad
		echo "$r after $d s: $(tr "\n" " " <"$st"), view $v, babeltrace2 status $bt $(grep -m1 -o 'timestamp is less[^:]*' "$W/rk.bt")" >>"$W/rk.res"
	fi
	umount "$W/rk.mnt"
done
# Write-back errors: ext4 on a loop device whose backing file lives in a
# 1 MiB tmpfs, about 650 KiB of it free after mkfs.  write() succeeds into
# the page cache; the device's ENOSPC comes at write-back, seen by
# sync_file_range/fdatasync only.  Whatever the recorder keeps up with, the
# trace is larger than that (the buffers alone hold 2 MiB once the program
# outruns it), so the error always comes: once at the end (wb: the program
# outruns the recorder) and while recording (wbp: paced, 1.6 MB in 0.6 s,
# so that the first periods' packets reach the disk and stay).  (A 3 MiB
# tmpfs, as this case once had, let a trace of which the recorder had
# discarded most events fit: no error then, and none to report.)
wb() {
	local name=$1 n=$2
	shift 2
	mkdir -p "$W/$name.mnt"
	loop_attach "$W/$name.back" 1m 64M 2>"$W/$name.skip" || return
	if mkfs.ext4 -q -F -O ^has_journal -E lazy_itable_init=1 "$LOOP_DEV" >/dev/null 2>"$W/$name.skip" &&
		mount -o errors=continue "$LOOP_DEV" "$W/$name.mnt" 2>"$W/$name.skip"; then
		"$M" record -q -o "$W/$name.mnt/t" -- "$W/emit" "$n" "$@" >/dev/null 2>"$W/$name.err" </dev/null
		echo $? >"$W/$name.rc"
		cp "$W/$name.mnt/t"/*/.stats "$W/$name.stats" 2>/dev/null
		ls -A /dev/shm >"$W/$name.shm"
		babeltrace2 "$W/$name.mnt/t" 2>"$W/$name.bt.err" | grep -c ' t_fill: ' >"$W/$name.bt"
		echo "${PIPESTATUS[0]}" >"$W/$name.bt.rc"
		umount "$W/$name.mnt"
	fi
	loop_detach "$W/$name.back"
}
if [ -e /dev/loop-control ] && command -v losetup >/dev/null && command -v mkfs.ext4 >/dev/null; then
	wb wb 400000
	wb wbp 60000 pace
else
	echo "no loop devices (/dev/loop-control), losetup or mkfs.ext4" >"$W/wb.skip"
fi
# A quota (EDQUOT): a btrfs qgroup of 1 MiB on the subvolume nobody records
# into.  (Per-user ext4 and XFS quotas need a kernel built with QFMT_V2 or
# XFS_QUOTA, which not every kernel has; qgroups come with btrfs.)
AS="setpriv --reuid=nobody --regid=nogroup --clear-groups"
if ! command -v mkfs.btrfs >/dev/null || ! [ -e /dev/loop-control ]; then
	echo "no mkfs.btrfs (btrfs-progs) or no loop devices" >"$W/quota.skip"
elif ! $AS "$M" help >/dev/null 2>&1; then
	echo "user nobody cannot run $M (a directory on its path is closed to others)" >"$W/quota.skip"
else
	mkdir -p "$W/q.mnt"
	if ! loop_attach "$W/q.back" 64m 128M 2>"$W/quota.skip"; then
		:
	elif ! { mkfs.btrfs -q -f "$LOOP_DEV" && mount "$LOOP_DEV" "$W/q.mnt" && btrfs quota enable "$W/q.mnt" &&
		btrfs subvolume create "$W/q.mnt/q" && btrfs qgroup limit 1M "$W/q.mnt/q"; } >"$W/quota.skip" 2>&1; then
		umount "$W/q.mnt" 2>/dev/null
		loop_detach "$W/q.back"
	else
		rm "$W/quota.skip"
		chown nobody "$W/q.mnt/q"
		# (nobody must reach the directory and the program: $W is closed, 0700)
		chmod 755 "$W"
		mkdir -p "$W/q.mnt/bin" && cp "$W/emit" "$W/q.mnt/bin/" && chmod -R a+rX "$W/q.mnt/bin"
		record_in quota "$W/q.mnt/q/t" -- "$W/q.mnt/bin/emit" 400000
		umount "$W/q.mnt"
		loop_detach "$W/q.back"
	fi
fi
AS=
exit 0
EOF
in_private_mounts -s 8m "$W/inside.sh" "$W" "$M"
rc=$?
if [ $rc != 0 ]; then
	echo "1..0 # SKIP cannot mount a tmpfs in a private mount namespace (status $rc)"
	exit 0
fi

commas() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
key() { sed -n "s/^$2 //p" "$W/$1.stats" 2>/dev/null; }
# check NAME EMITTED: the checks of a recording that filled the disk
check() {
	local name=$1 emitted=$2 want_rc=$3 e=${4:-ENOSPC} rec disc
	rec=$(key "$name" recorded)
	disc=$(key "$name" discarded)
	# (and the line saying the program was killed, when it was)
	[ "$(cat "$W/$name.rc")" = "$want_rc" ] &&
		[ "$(grep -vc 'was killed by signal' "$W/$name.err")" = 1 ] &&
		grep -q "incomplete: the disk is full ($e)" "$W/$name.err"
	ok $? "$name: exit status $want_rc and one line: $(head -c 300 "$W/$name.err")"
	[ "$(key "$name" state)" = disk-full ] && [ "$(key "$name" error)" = "$e" ]
	ok $? "$name: .stats finished, state disk-full, error $e"
	[ -n "$rec" ] && [ -n "$disc" ] && [ "$disc" -gt 0 ] && [ $((rec + disc)) = "$emitted" ]
	ok $? "$name: recorded $rec + discarded $disc = emitted $emitted"
	[ "$(cat "$W/$name.view.rc")" = 0 ] && [ "$(cat "$W/$name.view")" = "$rec" ]
	ok $? "$name: markers view reads the trace: $(cat "$W/$name.view") events ($(head -c 200 "$W/$name.view.err"))"
	[ "$(cat "$W/$name.stats.rc")" = 0 ] &&
		grep -q "$(commas "$disc") lost" "$W/$name.stats.out"
	ok $? "markers stats: the trace's lost events are the discarded ones: $(grep '^events' "$W/$name.stats.out")"
	[ "$(cat "$W/$name.bt.rc")" = 0 ] && [ "$(cat "$W/$name.bt")" = "$rec" ]
	ok $? "$name: babeltrace2 reads it: $(cat "$W/$name.bt") events, status $(cat "$W/$name.bt.rc")"
	[ ! -s "$W/$name.shm" ] && ! grep -q '^\.buffers$' "$W/$name.ls"
	ok $? "$name: nothing left in /dev/shm ($(head -c 200 "$W/$name.shm")) nor in .buffers/"
}

echo "1..43"
check mid 1600000 1
check ovw 1600000 1
check kill 1600000 137
[ "$(cat "$W/full.rc")" = 1 ] && [ "$(wc -l <"$W/full.err")" = 1 ] && grep -q "no space left" "$W/full.err"
ok $? "full before the start: markers record refuses in one line: $(cat "$W/full.err")"
[ "$(cat "$W/lib.rc")" = 0 ] && [ ! -s "$W/lib.shm" ]
ok $? "full before the start, the library alone: no SIGBUS (status $(cat "$W/lib.rc")), nothing in /dev/shm"
[ "$(cat "$W/shm.rc")" = 0 ] && [ "$(key shm discarded)" = 0 ] && [ "$(key shm recorded)" = 30000 ] &&
	[ "$(cat "$W/shm.view")" = 30000 ] && [ "$(cat "$W/shm.bt")" = 30000 ]
ok $? "/dev/shm too small: buffers in the trace directory, all 30000 events recorded ($(key shm recorded), view $(cat "$W/shm.view"), babeltrace2 $(cat "$W/shm.bt"))"
[ "$(cat "$W/lib2.rc")" = 0 ] && [ ! -s "$W/lib2.shm" ] && ! grep -q '^\.buffers$' "$W/lib2.ls"
ok $? "no room anywhere for the buffers: the start fails, no SIGBUS (status $(cat "$W/lib2.rc")), nothing left behind ($(cat "$W/lib2.ls" "$W/lib2.shm" | tr '\n' ' '))"
! grep -q '^bad' "$W/rk.res" && grep -q '^ok' "$W/rk.res"
ok $? "kill -9 at random moments on a full disk: $(grep -c '^ok' "$W/rk.res") traces whole $(grep -m1 '^bad' "$W/rk.res")"
# wbcheck NAME EMITTED: a write-back error is never a silent success
wbcheck() {
	local name=$1 emitted=$2 rec disc
	if [ ! -e "$W/$name.rc" ]; then
		for k in 1 2 3 4 5; do
			skip "write-back errors need a loop device: $(head -c 200 "$W/$name.skip")"
		done
		return
	fi
	rec=$(key "$name" recorded)
	disc=$(key "$name" discarded)
	[ "$(cat "$W/$name.rc")" = 1 ] && [ "$(wc -l <"$W/$name.err")" = 1 ] &&
		grep -q "may be incomplete: a write failed (E[A-Z]*); .* events counted as lost" "$W/$name.err"
	ok $? "$name: write-back error: status $(cat "$W/$name.rc"), one line: $(cat "$W/$name.err")"
	[ "$(key "$name" state)" = write-error ] && grep -Eqx 'error (ENOSPC|EIO)' "$W/$name.stats"
	ok $? "$name: .stats state $(key "$name" state), error $(key "$name" error)"
	[ -n "$rec" ] && [ -n "$disc" ] && [ "$disc" -gt 0 ] && [ $((rec + disc)) = "$emitted" ]
	ok $? "$name: recorded $rec + discarded $disc = emitted $emitted"
	# What stays in the stream files is whole packets, as many events as .stats says.
	[ "$(cat "$W/$name.bt.rc")" = 0 ] && [ "$(cat "$W/$name.bt")" = "$rec" ]
	ok $? "$name: babeltrace2 reads $(cat "$W/$name.bt") events, status $(cat "$W/$name.bt.rc") $(grep -m1 ' E ' "$W/$name.bt.err" | head -c 200)"
	[ ! -s "$W/$name.shm" ]
	ok $? "$name: nothing left in /dev/shm ($(head -c 200 "$W/$name.shm"))"
}
wbcheck wb 400000
wbcheck wbp 60000
if [ -e "$W/quota.rc" ]; then
	check quota 400000 1 EDQUOT
else
	for k in 1 2 3 4 5 6 7; do
		skip "a quota (btrfs qgroup on a loop device): $(tail -c 200 "$W/quota.skip")"
	done
fi
exit $((fails > 0))
