#!/bin/sh
# Under gdb: an int3 of the patcher would stop the program (gdb takes the
# SIGTRAP and by default does not pass it on), so the library does not
# patch while a debugger is attached: every optimized site stays in its
# taken form and works from the flag.  gdb's own breakpoints keep working,
# on a function full of marker sites.
build=${MARKERS_BUILD:?run from make check}
prog=$build/tests/unit/patch_build
if ! command -v gdb >/dev/null 2>&1; then
	echo "1..0 # SKIP no gdb"
	exit 0
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "1..3"
# No control thread: gdb can lose track of a thread that exits while the
# process exits ("Couldn't get registers"), which made this test flaky.
# LeakSanitizer cannot run under ptrace (an ASan build).
ASAN_OPTIONS=detect_leaks=0 MARKERS_CONTROL=0 PB_EXPECT_FALLBACK=1 gdb -batch -nx -ex 'set debuginfod enabled off' \
	-ex 'set startup-with-shell off' -ex 'break pb_fire' -ex run -ex delete \
	-ex continue --args "$prog" >"$out" 2>&1
if grep -q "Breakpoint 1, .*pb_fire" "$out"; then
	echo "ok 1 - gdb stops at its breakpoint in a function of marker sites"
else
	echo "not ok 1 - gdb stops at its breakpoint in a function of marker sites"
fi
if grep -q "^ok 5" "$out" && ! grep -q "^not ok" "$out"; then
	echo "ok 2 - under gdb the sites fall back and every probe count is right"
else
	echo "not ok 2 - under gdb the sites fall back and every probe count is right"
fi
if grep -q "exited normally" "$out" && ! grep -q "received signal" "$out"; then
	echo "ok 3 - the program ends normally, no signal stopped it"
else
	echo "not ok 3 - the program ends normally, no signal stopped it"
fi
grep -E "^(not ok|#)|received signal|exited" "$out" | sed 's/^/# /'
