# tap.sh - TAP for the shell tests, sourced: ok STATUS DESCRIPTION prints
# "ok N - ..." when STATUS is 0, else "not ok N - ..." and counts it in
# $fails (a test may end with `exit $((fails > 0))`).
n=0
fails=0
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		fails=$((fails + 1))
	fi
}

# skip DESCRIPTION: "ok N # SKIP DESCRIPTION", a planned test not run here.
skip() {
	n=$((n + 1))
	echo "ok $n # SKIP $1"
}

# cc_prog NAME [ARGS...]: compile $W/NAME.c against the staged library into
# $W/NAME (ARGS: more libraries, flags); the compiler's status.
cc_prog() {
	local name=$1
	shift
	${MARKERS_CC:-cc} -O2 -I"$MARKERS_STAGE/include" -o "$W/$name" "$W/$name.c" \
		-L"$MARKERS_STAGE/lib" -Wl,-rpath,"$MARKERS_STAGE/lib" -lmarkers "$@"
}

# build_prog NAME [ARGS...]: cc_prog, and a test that cannot do without the
# program bails out if it does not build.
build_prog() {
	cc_prog "$@" || { echo "Bail out! cannot build $1"; exit 1; }
}
