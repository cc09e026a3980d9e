#!/bin/bash
# relay.sh BUILD_DIR TMP SECONDS - the relay rows of `make bench`: events and
# bytes per second that reach an lttng-relayd on localhost through `markers
# record --relay` (and --live), next to the same recording into a local
# directory, in the same run.  Two rates: 10^6 events/s and as fast as the
# program can emit.  lost = emitted - events in the trace that was written
# (the tracer's discards, plus what the relay did not get).  The wall time
# runs from the start of `markers record` to its return, so it includes
# sending what was left at the end.
set -u
bb=$1 tmp=$2 secs=$3
M=$(cd "$(dirname "$0")/.." && pwd)/build/native/stage/bin/markers
[ -x "$M" ] || M=markers
if ! command -v lttng-relayd >/dev/null; then
	echo "name=relay status=n/a (lttng-relayd not installed)"
	exit 0
fi
read -r CP DP LP < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
mkdir -p "$tmp/relay-home" "$tmp/relay-out"
LTTNG_HOME=$tmp/relay-home lttng-relayd -C tcp://127.0.0.1:$CP -D tcp://127.0.0.1:$DP \
	-L tcp://127.0.0.1:$LP -o "$tmp/relay-out" >"$tmp/relayd.log" 2>&1 &
relayd=$!
trap 'kill $relayd 2>/dev/null; wait $relayd 2>/dev/null' EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$CP) 2>/dev/null && break; sleep 0.05; done

count() { # DIR: events in the trace (babeltrace2's counter)
	babeltrace2 "$1" -c sink.utils.counter 2>/dev/null |
		awk '/ Event messages?$/ { n = $1 } END { print n + 0 }'
}
stream_bytes() { # DIR: bytes of its stream files (one trace per process, below DIR)
	find "$1" -type f -name 'cpu[0-9]*' ! -name '*.idx' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'
}
now() { date +%s.%N; }

for rate in 1000000 0; do
	rname=$([ $rate = 0 ] && echo max || echo 1M)
	for mode in local relay live; do
		name=b-$mode-$rname
		case $mode in
		local) args=(-o "$tmp/$name") ;;
		relay) args=(--relay "net://127.0.0.1:$CP:$DP" --name "$name") ;;
		live) args=(--relay "net://127.0.0.1:$CP:$DP" --live --name "$name") ;;
		esac
		t0=$(now)
		"$M" record -q "${args[@]}" -- "$bb/relay-emit" "$secs" $rate >"$tmp/$name.out" 2>"$tmp/$name.err"
		rc=$?
		t1=$(now)
		dir=$tmp/$name
		# The relayd's copy: HOST/SESSION-DATE/, a trace per process below it.
		[ $mode = local ] || dir=$(ls -d "$tmp/relay-out"/*/"$name"-* 2>/dev/null | tail -1)
		emitted=$(sed -n 's/^emitted=\([0-9]*\).*/\1/p' "$tmp/$name.out")
		if [ $rc != 0 ] || [ -z "$emitted" ] || [ -z "$dir" ]; then
			echo "name=relay.$mode.$rname status=n/a rc=$rc $(head -c 200 "$tmp/$name.err" | tr '\n ' '|_')"
			continue
		fi
		ev=$(count "$dir")
		bytes=$(stream_bytes "$dir")
		awk -v n="relay.$mode.$rname" -v e="$emitted" -v ev="$ev" -v b="$bytes" -v t0="$t0" -v t1="$t1" \
			'BEGIN { s = t1 - t0; printf "name=%s emitted=%d events=%d lost=%d secs=%.3f events_per_s=%.0f bytes_per_s=%.0f\n",
				 n, e, ev, e - ev, s, ev / s, b / s }'
		rm -rf "$tmp/$name" "$dir"
	done
done
