#!/bin/sh
# gdb's backtrace from inside a probe: through marker_fire's caller (on
# x86-64 the register-preserving stub, whose unwind table says where its
# return address is) up to the site's function, its caller and main.
build=${MARKERS_BUILD:?run from make check}
prog=$build/tests/unit/fire_stub
if ! command -v gdb >/dev/null 2>&1; then
	echo "1..0 # SKIP no gdb"
	exit 0
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "1..2"
# No control thread (see patch_gdb.t); no leak check under ptrace.
ASAN_OPTIONS=detect_leaks=0 MARKERS_CONTROL=0 gdb -batch -nx -ex 'set debuginfod enabled off' \
	-ex 'set startup-with-shell off' -ex 'break bt_probe' -ex run -ex bt -ex delete \
	-ex continue --args "$prog" >"$out" 2>&1
if grep -q "in bt_site " "$out" && grep -q "in fs_outer " "$out" && grep -q "in main " "$out" &&
	! grep -q "Backtrace stopped" "$out"; then
	echo "ok 1 - gdb's bt from a probe reaches the site's function, its caller and main"
else
	echo "not ok 1 - gdb's bt from a probe reaches the site's function, its caller and main"
fi
if grep -q "^ok 9" "$out" && ! grep -q "^not ok" "$out" && grep -q "exited normally" "$out"; then
	echo "ok 2 - the program goes on after the breakpoint, every check passing"
else
	echo "not ok 2 - the program goes on after the breakpoint, every check passing"
fi
grep -E "^#[0-9]|^(not ok|#)|received signal|exited|Backtrace" "$out" | sed 's/^/# /'
