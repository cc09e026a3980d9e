#!/bin/bash
# cli_bounds.t - buffer sizes are bounded (markers/tracer.h): a control
# request for huge buffers is answered -EINVAL at once and allocates nothing,
# the channel answers the next request; environment sizes beyond the bounds
# are clamped (with a word under MARKERS_VERBOSE) or, when they wrap, ignored;
# `markers record -b` beyond them is a usage error.
set -u
export LC_ALL=C
M=${MARKERS_STAGE:?}/bin/markers
W=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$W"' EXIT
pid=
. "$(dirname "$0")/tap.sh"

cat >"$W/emit.c" <<'EOF'
/* emit N [MS]: N events, then sleep MS milliseconds. */
#include <stdlib.h>
#include <unistd.h>
#include <markers.h>

int main(int argc, char **argv)
{
	int n = atoi(argv[1]);

	for (int i = 0; i < n; i++)
		trace_mark(t_bound, "i %d", i);
	if (argc > 2)
		usleep(atoi(argv[2]) * 1000);
	return 0;
}
EOF
build_prog emit

# ask SOCKET FIELD...: one request, prints the reply's status
cat >"$W/ask.py" <<'EOF'
import socket, struct, sys
payload = b"".join(a.encode() + b"\0" for a in sys.argv[2:])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b"MKC1" + struct.pack("<I", len(payload)) + payload)
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
    if len(data) >= 8 and len(data) >= 8 + struct.unpack("<I", data[4:8])[0]:
        break
print(struct.unpack("<i", data[8:12])[0])
EOF
echo "1..9"

mkdir -m 700 "$W/ctl"
MARKERS_CONTROL_DIR="$W/ctl" "$W/emit" 10 20000 &
pid=$!
for _ in $(seq 100); do [ -S "$W/ctl/$pid" ] && break; sleep 0.05; done
sock="$W/ctl/$pid"
ask() { python3 "$W/ask.py" "$sock" "$@"; }

r=$(ask trace-start "dir=$W/huge" nsubbufs=1048576)
[ "$r" = -22 ] && [ ! -e "$W/huge/.buffers" ]
ok $? "trace-start nsubbufs=1048576: -EINVAL ($r), nothing allocated"
r=$(ask trace-start "dir=$W/huge" subbuf=1073741824 nsubbufs=2)
[ "$r" = -22 ] && [ ! -e "$W/huge/.buffers" ]
ok $? "trace-start with 1 GiB sub-buffers: -EINVAL ($r)"
r=$(ask trace-start "dir=$W/huge" subbuf=67108864 nsubbufs=8)
[ "$r" = -22 ]
ok $? "trace-start with 512 MiB per CPU (64 MiB x 8): -EINVAL ($r)"
r=$(ask ping)
[ "$r" = "$pid" ]
ok $? "the channel answers the next request at once (ping: $r)"
kill $pid 2>/dev/null
wait $pid 2>/dev/null

# The environment: clamped with a word, and the recording happens.
MARKERS_RECORD='*' MARKERS_RECORD_DIR="$W/env1" MARKERS_RECORD_BUFFER_SIZE=100G MARKERS_VERBOSE=1 \
	MARKERS_CONTROL=0 "$W/emit" 1000 2>"$W/err"
n1=$("$M" view "$W/env1" 2>/dev/null | grep -c ' t_bound ')
grep -q "at most 268435456 bytes" "$W/err" && [ "$n1" = 1000 ]
ok $? "MARKERS_RECORD_BUFFER_SIZE=100G: clamped ($(head -1 "$W/err")), $n1 of 1000 events recorded"
MARKERS_RECORD='*' MARKERS_RECORD_DIR="$W/env2" MARKERS_RECORD_NSUBBUFS=4294967298 MARKERS_VERBOSE=1 \
	MARKERS_CONTROL=0 "$W/emit" 1000 2>"$W/err"
n2=$("$M" view "$W/env2" 2>/dev/null | grep -c ' t_bound ')
grep -q "sub-buffers" "$W/err" && [ "$n2" = 1000 ]
ok $? "MARKERS_RECORD_NSUBBUFS=2^32+2 is not 2: clamped ($(head -1 "$W/err")), $n2 events"
MARKERS_RECORD='*' MARKERS_RECORD_DIR="$W/env3" MARKERS_RECORD_BUFFER_SIZE=17179869184G MARKERS_VERBOSE=1 \
	MARKERS_CONTROL=0 "$W/emit" 1000 2>"$W/err"
n3=$("$M" view "$W/env3" 2>/dev/null | grep -c ' t_bound ')
grep -q "not a size" "$W/err" && [ "$n3" = 1000 ]
ok $? "MARKERS_RECORD_BUFFER_SIZE that wraps in 64 bits: not a size, the default ($(head -1 "$W/err"))"

# The CLI: a usage error, one line.
"$M" record -q -b 1G -o "$W/cli1" -- "$W/emit" 10 >/dev/null 2>"$W/err"
rc=$?
[ $rc = 2 ] && [ "$(wc -l <"$W/err")" = 1 ] && grep -q "too big" "$W/err" && [ ! -e "$W/cli1" ]
ok $? "record -b 1G: status $rc, one line: $(cat "$W/err")"
"$M" record -q -b 256M --subbuf-size 4K -o "$W/cli2" -- "$W/emit" 10 >/dev/null 2>"$W/err"
rc=$?
[ $rc = 2 ] && grep -q "too big" "$W/err"
ok $? "record -b 256M --subbuf-size 4K (65,536 sub-buffers): status $rc"
exit $((fails > 0))
