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

# ---- mounts of a test's own (root: unshare -m; bash) ----

# in_private_mounts [-s SIZE] SCRIPT [ARGS...]: bash SCRIPT ARGS in a mount
# namespace of its own, where nothing it mounts is seen outside, over a
# fresh /dev/shm (a tmpfs of SIZE, default the kernel's), with the helpers
# of this file.  The script's status, or 10: the namespace or the tmpfs
# could not be had.
in_private_mounts() {
	local size= tap
	if [ "$1" = -s ]; then
		size=$2
		shift 2
	fi
	tap=$(cd "$(dirname "$0")" && pwd)/tap.sh # beside every test
	unshare -m bash -c '. "$1" && mount -t tmpfs ${2:+-o size=$2} tmpfs /dev/shm || exit 10
		shift 2
		. "$@"' in_private_mounts "$tap" "$size" "$@"
}

# tmpfs_at DIR SIZE: a tmpfs of SIZE (as mount's size=) mounted at DIR, made
# if need be; exits 11 (the caller's script) when it cannot be.
tmpfs_at() {
	mkdir -p "$1" && mount -t tmpfs -o size="$2" tmpfs "$1" || exit 11
}

# loop_attach DIR SIZE IMG_SIZE: an image file of IMG_SIZE in tmpfs_at DIR
# SIZE, on a free loop device, whose name goes in $LOOP_DEV; status 1 (DIR
# unmounted again, losetup's message on stderr) when there is none.
loop_attach() {
	tmpfs_at "$1" "$2"
	truncate -s "$3" "$1/img" || exit 11
	LOOP_DEV=$(losetup -f --show "$1/img") && return 0
	umount "$1"
	return 1
}

# loop_detach DIR: the loop device of loop_attach DIR, and its tmpfs, gone.
loop_detach() {
	losetup -d "$LOOP_DEV"
	umount "$1"
}
