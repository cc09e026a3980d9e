#!/bin/sh
# Every marker is also a USDT probe: gdb and bpftrace see the probes of an
# executable and of a shared library; bpftrace attached by pid switches the
# markers on (the library polls the semaphores once a second), sees every
# event with its arguments while a markers probe is connected to the same
# marker, and the markers go off after bpftrace exits; gdb stops at a probe
# and reads its arguments.
. "$(dirname "$0")/tap.sh"
stage=${MARKERS_STAGE:?run from make check}
cc=${MARKERS_CC:-cc}
src=$(dirname "$0")/usdt
W=$(mktemp -d)
trap 'kill $bt_pid $prog_pid 2>/dev/null; rm -rf "$W"' EXIT
echo "1..12"

$cc -O2 -g -fPIC -shared -I"$stage/include" -o "$W/libusdt_lib.so" "$src/usdt_lib.c" \
	-L"$stage/lib" -Wl,-rpath,"$stage/lib" -lmarkers &&
$cc -O2 -g -I"$stage/include" -o "$W/usdt_prog" "$src/usdt_prog.c" -L"$W" -lusdt_lib \
	-L"$stage/lib" -Wl,-rpath,"$stage/lib" -Wl,-rpath,"$W" -lmarkers
ok $? "the program and its library build"
prog=$W/usdt_prog
lib=$W/libusdt_lib.so

# 1. gdb lists the probes of each object, offline.
gdb -batch -nx -ex 'info probes' "$prog" >"$W/gdb-prog" 2>&1
ok $(awk '$1 == "stap" && $2 == "markers" { n[$3]++ } END {
	exit !(n["usdt_tick"] && n["usdt_gen"] && n["usdt_imm"]) }' "$W/gdb-prog"; echo $?) \
	"gdb 'info probes' lists the executable's markers as provider markers"
gdb -batch -nx -ex 'info probes' "$lib" >"$W/gdb-lib" 2>&1
ok $(awk '$1 == "stap" && $2 == "markers" && $3 == "usdt_lib" { f = 1 } END { exit !f }' \
	"$W/gdb-lib"; echo $?) "gdb 'info probes' lists the shared library's marker"

if ! command -v bpftrace >/dev/null 2>&1; then
	for i in 4 5 6 7 8 9 10; do echo "ok $i # SKIP no bpftrace"; done
else
	bpftrace -l "usdt:$prog:*" >"$W/bt-list" 2>/dev/null
	bpftrace -l "usdt:$lib:*" >>"$W/bt-list" 2>/dev/null
	missing=$(for p in usdt_tick usdt_gen usdt_imm; do
		grep -qx "usdt:$prog:markers:$p" "$W/bt-list" || echo "$p"; done
		grep -qx "usdt:$lib:markers:usdt_lib" "$W/bt-list" || echo usdt_lib)
	ok $([ -z "$missing" ]; echo $?) "bpftrace -l lists every marker of the executable and the library"

	"$prog" wait 1000 >"$W/prog-out" 2>&1 &
	prog_pid=$!
	bpftrace -p $prog_pid -e "
		usdt:$prog:markers:usdt_tick { @tick = count(); @isum = sum(arg0); @s[str(arg1)] = count(); @nsum = sum(-arg2); }
		usdt:$prog:markers:usdt_gen { @gen = count(); @usum = sum(arg0); }
		usdt:$prog:markers:usdt_imm { @imm = count(); }
		usdt:$lib:markers:usdt_lib { @lib = count(); @lsum = sum(arg0); }" >"$W/bt-out" 2>&1 &
	bt_pid=$!
	attached= fired=
	for i in $(seq 600); do
		[ -z "$attached" ] && grep -q '^Attaching' "$W/bt-out" && attached=$(date +%s%3N)
		grep -q '^fired' "$W/prog-out" && fired=1 && break
		kill -0 $bt_pid 2>/dev/null || break
		kill -0 $prog_pid 2>/dev/null || break
		sleep 0.05
	done
	if [ -z "$attached" ]; then
		reason=$(grep -m1 -i 'error' "$W/bt-out" | tr -d '\n' | cut -c1-100)
		for i in 5 6 7 8 9 10; do echo "ok $i # SKIP bpftrace cannot attach uprobes here: $reason"; done
	else
		kill -INT $bt_pid
		wait $bt_pid
		wait $prog_pid
		prog_rc=$?
		sed 's/^/# prog: /' "$W/prog-out"
		grep -E '^@' "$W/bt-out" | sed 's/^/# bpftrace: /'
		on=$(awk '/^on at/ { print $3 }' "$W/prog-out")
		echo "# switched on $((on - attached)) ms after bpftrace said it was attaching"
		ok $([ -n "$on" ] && [ $((on - attached)) -lt 5000 ]; echo $?) \
			"the markers switch on when bpftrace attaches (the library looks once a second)"
		v() { awk -v k="$1" '$1 == k { print $2 }' "$W/bt-out"; }
		ok $([ "$(v @tick:)" = 1000 ] && [ "$(v @gen:)" = 1000 ] && [ "$(v @imm:)" = 1000 ] &&
			[ "$(v @lib:)" = 1000 ]; echo $?) \
			"bpftrace counts every event of the jump, generic, immediate and library sites"
		ok $([ "$(v @isum:)" = 499500 ] && [ "$(v @nsum:)" = 499500 ] &&
			[ "$(v @usum:)" = 499500 ] && [ "$(v @lsum:)" = 499500 ] &&
			[ "$(v '@s[hello]:')" = 1000 ]; echo $?) \
			"bpftrace reads the arguments: int, negative int, unsigned, string"
		ok $(grep -q '^fired 1000 probe 1000$' "$W/prog-out"; echo $?) \
			"a markers probe on the same marker saw every event at the same time"
		ok $(grep -q '^off at' "$W/prog-out" && [ $prog_rc = 0 ]; echo $?) \
			"the markers go off after bpftrace exits"
		ok $(grep -q 'Lost\|WARNING' "$W/bt-out"; [ $? != 0 ]; echo $?) \
			"bpftrace reports no lost events"
	fi
fi

# gdb: a breakpoint on a probe sets its semaphore, the marker goes on, gdb
# stops there and reads the arguments.
ASAN_OPTIONS=detect_leaks=0 timeout 60 gdb -batch -nx -ex 'set debuginfod enabled off' \
	-ex 'set startup-with-shell off' -ex 'break -probe-stap markers:usdt_tick' -ex run \
	-ex 'print $_probe_argc' -ex 'print $_probe_arg2 + $_probe_arg0' -ex 'x/s $_probe_arg1' \
	-ex kill --args "$prog" loop >"$W/gdb-run" 2>&1
sed -n '/Breakpoint 1,/,$p' "$W/gdb-run" | head -5 | sed 's/^/# gdb: /'
ok $(grep -q 'Breakpoint 1, ' "$W/gdb-run"; echo $?) "gdb stops at a marker's probe"
ok $(grep -q '^\$1 = 3$' "$W/gdb-run" && grep -q '^\$2 = 0$' "$W/gdb-run" &&
	grep -q '"hello"' "$W/gdb-run"; echo $?) "gdb reads the probe's three arguments"
exit $((fails > 0))
