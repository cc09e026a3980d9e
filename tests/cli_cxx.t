#!/bin/bash
# cli_cxx.t - `markers list` on C++ programs and libraries: the markers of
# inline functions, methods and templates, whose descriptors are not in
# __markers but in ordinary data sections, found through their site
# records; with g++ and clang++, an object of C++ sites only, and an
# aarch64 cross build (RELA relocations left to the loader).
set -u
export LC_ALL=C
M=${MARKERS_STAGE:?}/bin/markers
B=${MARKERS_BUILD:?}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
. "$(dirname "$0")/tap.sh"
echo "1..15"

cat >"$W/inl.cc" <<'EOF2'
#include <markers.h>
inline int f(int x) { trace_mark(inl_m, "x %d", x); return x; }
template <typename T> T g(T x) { trace_mark_generic(tpl_m, "x %d", (int)x); return x; }
struct S { int m(int x) { trace_mark_immediate(meth_m, "x %d", x); return x; } };
static void h(int x) { trace_mark(plain_m, "x %d", x); }
int main() { S s; h(1); return f(1) + g(2) + g(3L) + s.m(1); }
EOF2

# list_ok FILE DESCRIPTION: the four markers, tpl_m with its two instances.
list_ok() {
	"$M" list "$1" >"$W/out" 2>"$W/err"
	ok $? "list $2"
	grep -q '^4 markers' "$W/out" &&
		grep -Eq '^inl_m +[a-z]+ +1 +s32 +"x %d" +inl.cc:2$' "$W/out" &&
		grep -Eq '^tpl_m +generic +2 +s32 +"x %d" +inl.cc:3, inl.cc:3$' "$W/out" &&
		grep -Eq '^meth_m +[a-z]+ +1 +s32 +"x %d" +inl.cc:4$' "$W/out" &&
		grep -Eq '^plain_m +[a-z]+ +1 +s32 +"x %d" +inl.cc:5$' "$W/out"
	local r=$?
	ok $r "$2: inline, template (two instances), method and static markers, sites counted"
	[ $r = 0 ] || sed 's/^/#   /' "$W/out" "$W/err"
}

# The programs run against the staged library: built with its sanitizers.
SAN=${MARKERS_SANFLAGS:-}
build() { # build COMPILER OUT FLAGS...
	local c=$1 out=$2
	shift 2
	(cd "$W" && $c -O2 $SAN "$@" -I"$MARKERS_STAGE/include" -o "$out" inl.cc \
		-L"$MARKERS_STAGE/lib" -Wl,-rpath,"$MARKERS_STAGE/lib" -lmarkers) 2>"$W/err"
}

CXX=${MARKERS_CXX:-g++}
build "$CXX" inl-gxx
ok $? "g++: one unit with inline, template, method and plain markers builds"
MARKERS_PRINT='*' "$W/inl-gxx" >"$W/run" 2>&1
[ "$(sort "$W/run" | tr '\n' ' ')" = "inl_m: x 1 meth_m: x 1 plain_m: x 1 tpl_m: x 2 tpl_m: x 3 " ]
ok $? "g++: every marker fires, the template's for both instances"
list_ok "$W/inl-gxx" "the g++ program"
"$M" list --json "$W/inl-gxx" | python3 -c '
import json, sys
m = {x["name"]: x for x in json.load(sys.stdin)[0]["markers"]}
assert m["tpl_m"]["sites"] == 2 and m["inl_m"]["sites"] == 1, m
'
ok $? "--json: the same counts"

# clang's sanitizer runtimes are not gcc's, which a sanitizer build's library uses.
if command -v clang++ >/dev/null && [ -z "$SAN" ]; then
	build clang++ inl-clang
	ok $? "clang++: the same unit builds"
	MARKERS_PRINT='*' "$W/inl-clang" 2>&1 | grep -c . | grep -qx 5
	ok $? "clang++: every marker fires"
	list_ok "$W/inl-clang" "the clang++ program"
else
	for i in 1 2 3 4; do skip "no clang++ (or a sanitizer build)"; done
fi

# Only C++ sites: no __markers section at all.
readelf -SW "$W/inl-gxx" >"$W/secs"
! grep -q ' __markers ' "$W/secs" && grep -q ' __markers_sites ' "$W/secs"
ok $? "a C++ object has site records and no __markers section"

# A C++ shared library of the unit tests.
LIB=$B/tests/lib/libcxx_dl.so
if [ -e "$LIB" ]; then
	"$M" list "$LIB" >"$W/lib" 2>&1
	grep -Eq '^cxx_dl_only +[a-z]+ +1 ' "$W/lib" && grep -Eq '^cxx_tpl_gen +generic +2 ' "$W/lib"
	ok $? "a C++ shared library: descriptors named by symbol, two template instances"
else
	skip "no test library"
fi

# aarch64: RELA relocations the linker does not apply in place.
if command -v aarch64-linux-gnu-g++ >/dev/null; then
	(cd "$W" && aarch64-linux-gnu-g++ -O2 -fPIE -pie -I"$MARKERS_STAGE/include" -o inl-a64 \
		inl.cc -Wl,--unresolved-symbols=ignore-all) 2>"$W/err"
	ok $? "aarch64-linux-gnu-g++ builds it (never run)"
	list_ok "$W/inl-a64" "the aarch64 program"
	grep -q '(aarch64, 64-bit)' "$W/out"; ok $? "it is an aarch64 program"
else
	for i in 1 2 3 4; do skip "no aarch64 cross compiler"; done
fi
