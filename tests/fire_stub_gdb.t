#!/bin/sh
# gdb's backtrace from inside a probe: through the site's way into the
# probes (the register-preserving stub on x86, whose unwind table says
# where its return address is) up to the site's function, its caller and
# main; in tests/unit/fire_stub and its C++ and clang builds
# (tests/fire_stub.mk), for the build's target (native or i386).
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
out=$(mktemp)
trap 'rm -f "$out"' EXIT
set -- $progs
echo "1..$((2 * $#))"
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
done
