#!/bin/sh
# gdb's backtrace from inside a probe: through the site's way into the
# probes (the register-preserving stub on x86, whose unwind table says
# where its return address is) up to the site's function, its caller and
# main; in tests/unit/fire_stub and its C++ and clang builds
# (tests/fire_stub.mk), for the build's target (native or i386).  And the
# stub's unwind table instruction by instruction: a bt after each of 50
# nexti from its entry (all of it, and back into the site's function) must
# reach main every time, as a profiler's or a signal's unwinding would.
build=${MARKERS_BUILD:?run from make check}
progs=""
for p in "$build/tests/unit/fire_stub" "$build/tests/fire_stub/fire_stub-cxx" \
	"$build/tests/fire_stub/fire_stub-clang"; do
	[ -x "$p" ] && progs="$progs $p"
done
if ! command -v gdb >/dev/null 2>&1; then
	echo "1..0 # SKIP no gdb"
	exit 0
fi
out=$(mktemp) steps=$(mktemp)
trap 'rm -f "$out" "$steps"' EXIT
cat >"$steps" <<'EOF'
set debuginfod enabled off
set startup-with-shell off
set breakpoint pending on
break marker_abi_fire_stub
run
set $n = 0
while $n < 50
  bt
  nexti
  set $n = $n + 1
end
delete
continue
EOF
set -- $progs
echo "1..$((3 * $#))"
n=0
for prog; do
	name=${prog##*/}
	# No control thread (see patch_gdb.t); no leak check under ptrace.
	ASAN_OPTIONS=detect_leaks=0 MARKERS_CONTROL=0 gdb -batch -nx -ex 'set debuginfod enabled off' \
		-ex 'set startup-with-shell off' -ex 'break bt_probe' -ex run -ex bt -ex delete \
		-ex continue --args "$prog" >"$out" 2>&1
	n=$((n + 1))
	if grep -q "in bt_site " "$out" && grep -q "in fs_outer " "$out" && grep -q "in main " "$out" &&
		! grep -q "Backtrace stopped" "$out"; then
		echo "ok $n - $name: gdb's bt from a probe reaches the site's function, its caller and main"
	else
		echo "not ok $n - $name: gdb's bt from a probe reaches the site's function, its caller and main"
	fi
	n=$((n + 1))
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$out" | head -1)
	if [ -n "$plan" ] && [ "$(grep -c '^ok ' "$out")" = "$plan" ] && ! grep -q "^not ok" "$out" &&
		grep -q "exited normally" "$out"; then
		echo "ok $n - $name: the program goes on after the breakpoint, all $plan checks passing"
	else
		echo "not ok $n - $name: the program goes on after the breakpoint, all checks passing"
	fi
	grep -E "^#[0-9]|^(not ok|#)|received signal|exited|Backtrace" "$out" | sed "s/^/# $name: /"

	n=$((n + 1))
	ASAN_OPTIONS=detect_leaks=0 MARKERS_CONTROL=0 gdb -batch -nx -x "$steps" --args "$prog" >"$out" 2>&1
	bts=$(grep -c '^#0 ' "$out") mains=$(grep -c ' in main ' "$out")
	if [ "$bts" = 0 ] && ! grep -q "Breakpoint 1," "$out"; then
		echo "ok $n - $name: # SKIP no register-preserving stub on this target"
	elif [ "$bts" = 50 ] && [ "$mains" = 50 ] && ! grep -q "Backtrace stopped" "$out" &&
		grep -q "exited normally" "$out"; then
		echo "ok $n - $name: bt reaches main from each of 50 instructions from the stub's entry"
	else
		echo "not ok $n - $name: bt reaches main from each of 50 instructions from the stub's entry ($mains of $bts)"
		grep -B3 -E "Backtrace stopped|^#0 " "$out" | head -40 | sed "s/^/# $name: /"
	fi
done
