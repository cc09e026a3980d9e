#!/bin/sh
# gdb attaches to a running program between two of its switches, while two
# threads fire its sites (tests/unit/patch_attach.c): the patcher must see
# the tracer and put its switches off (an int3 of ours would stop the
# program with a SIGTRAP that gdb does not pass on, and then resume the
# thread inside an instruction), and patch again once gdb has left.
build=${MARKERS_BUILD:?run from make check}
prog=$build/tests/unit/patch_attach
if ! command -v gdb >/dev/null 2>&1; then
	echo "1..0 # SKIP no gdb"
	exit 0
fi
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$dir"' EXIT
# No control thread (see patch_gdb.t); no leak check under ptrace.
ASAN_OPTIONS=detect_leaks=0 MARKERS_CONTROL=0 PA_GDB=1 "$prog" >"$dir/prog" 2>&1 &
pid=$!
for _ in $(seq 300); do
	grep -q "waiting for gdb" "$dir/prog" && break
	sleep 0.1
done
gdb -batch -nx -ex 'set debuginfod enabled off' -p "$pid" -ex 'set var pa_attached = 1' \
	-ex 'break pa_detach_here' -ex continue -ex delete -ex detach >"$dir/gdb" 2>&1
if grep -q "ptrace: Operation not permitted" "$dir/gdb"; then
	echo "1..0 # SKIP gdb may not attach here (ptrace_scope or no CAP_SYS_PTRACE)"
	exit 0
fi
wait "$pid"
status=$?
pid=
echo "1..3"
if grep -q "Breakpoint 1, .*pa_detach_here" "$dir/gdb" && ! grep -q "received signal" "$dir/gdb"; then
	echo "ok 1 - gdb attached, the program ran to gdb's breakpoint, no signal stopped it"
else
	echo "not ok 1 - gdb attached, the program ran to gdb's breakpoint, no signal stopped it"
fi
if [ "$status" -eq 0 ] && grep -q "^ok 8" "$dir/prog" && ! grep -q "^not ok" "$dir/prog"; then
	echo "ok 2 - switches under gdb were put off, and patched again after it left"
else
	echo "not ok 2 - switches under gdb were put off, and patched again after it left (exit $status)"
fi
if grep -q "^ok 4 - gdb attached" "$dir/prog"; then
	echo "ok 3 - the attach came between two switches"
else
	echo "not ok 3 - the attach came between two switches"
fi
grep -E "^(not ok|#)|received signal|Breakpoint|exited|Detaching" "$dir/prog" "$dir/gdb" | sed 's/^/# /'
