#!/bin/sh
# lttng.sh BUILD_DIR TMPDIR ROUNDS EVENTS STARTS - the LTTng-UST half of the benchmark.
#
# Starts its own lttng-sessiond (root; kernel tracing off) and stops it at
# the end.  run.sh runs us in a private mount namespace with a fresh /run,
# so that the daemon's sockets (always under /run/lttng for root) belong
# to this run alone and a sessiond of the machine, if any, is left alone.
# Prints name=... lines like the other benchmarks.
set -u
bb=$1 tmp=$2 rounds=$3 events=$4 starts=${5:-100}
export LTTNG_HOME=$tmp/lttng-home
# The application waits this long at start-up for the daemon to enable its events.
export LTTNG_UST_REGISTER_TIMEOUT=5000
mkdir -p "$LTTNG_HOME"
log=$tmp/lttng.log

if ! command -v lttng-sessiond >/dev/null || ! command -v lttng >/dev/null; then
	echo "name=lttng status=n/a (lttng-tools not installed)"
	exit 0
fi
if ! lttng-sessiond --daemonize --no-kernel >>"$log" 2>&1; then
	echo "name=lttng status=n/a (lttng-sessiond did not start; see $log)"
	exit 0
fi
pidfile=/run/lttng/lttng-sessiond.pid
cleanup() {
	lttng destroy -a >>"$log" 2>&1
	if [ -r $pidfile ]; then
		pid=$(cat $pidfile)
		kill "$pid" 2>/dev/null
		# The daemon takes its consumer daemons down with it.
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
	fi
}
trap cleanup EXIT

# session NAME DIR EVENT: a session with the default channel attributes
# (per-user buffers, 4 x 512 KiB per CPU) and the vtid context, started.
# Our events carry the thread id (vtid) too, so both record the same fields.
session() {
	lttng create "$1" --output="$2" >>"$log" 2>&1 &&
		lttng enable-channel -u -s "$1" bench >>"$log" 2>&1 &&
		lttng add-context -u -s "$1" -c bench -t vtid >>"$log" 2>&1 &&
		lttng enable-event -u -s "$1" -c bench "$3" >>"$log" 2>&1 &&
		lttng start "$1" >>"$log" 2>&1
}

# count DIR: events in the trace, and the discarded-event notices babeltrace2
# saw (the counter prints running totals; the last ones are final).
count() {
	babeltrace2 "$1" -c sink.utils.counter 2>>"$log" |
		awk '/ Event messages?$/ { n = $1 }
		     / Discarded event messages?$/ { d = $1 }
		     END { printf "recorded=%s discarded_msgs=%s", n + 0, d + 0 }'
}

# Bytes of the stream files: everything but the metadata and the index.
stream_bytes() {
	find "$1" -type f ! -name metadata ! -path '*/index/*' -printf '%s\n' |
		awk '{ s += $1 } END { print s + 0 }'
}

for t in 1 2; do
	dir=$tmp/lttng-t$t
	if ! session on$t "$dir" bench:on; then
		echo "name=on.lttng.t$t status=n/a (session setup failed; see $log)"
		continue
	fi
	out=$("$bb/on-lttng" -m lttng -t $t -n "$events" -r "$rounds")
	echo "$out"
	lttng stop on$t >>"$log" 2>&1
	# lttng prints the channel's discarded count when it stops; keep its words.
	disc=$(lttng list on$t -u 2>/dev/null | sed -n 's/.*[Dd]iscarded events: *\([0-9]*\).*/\1/p' |
		awk '{ s += $1 } END { print s + 0 }')
	lttng destroy on$t >>"$log" 2>&1
	emitted=$(echo "$out" | sed -n 's/.*emitted=\([0-9]*\).*/\1/p')
	bytes=$(stream_bytes "$dir")
	counts=$(count "$dir")
	rec=$(echo "$counts" | sed -n 's/.*recorded=\([0-9]*\).*/\1/p')
	echo "name=on.lttng.t$t.counts emitted=${emitted:-0} $counts discarded=$disc bytes=$bytes" \
		"bytes_per_event=$(awk -v b="$bytes" -v n="${rec:-0}" 'BEGIN { printf "%.2f", n ? b / n : 0 }')"
done

# Instructions per recorded event: callgrind, inclusive cost of the loop, two lengths.
if command -v valgrind >/dev/null; then
	for n in 10000 30000; do
		session cg$n "$tmp/lttng-cg$n" bench:on || break
		valgrind --tool=callgrind --cache-sim=yes --callgrind-out-file="$tmp/cg-lttng-$n.out" \
			"$bb/on-lttng" -m lttng -C $n >>"$log" 2>&1
		lttng destroy cg$n >>"$log" 2>&1
	done
fi

# Start and exit with the daemon running (and its default registration
# timeout: the application waits until the daemon has registered it).
env -u LTTNG_UST_REGISTER_TIMEOUT "$bb/startup" -n "$starts" daemon_none="$bb/startup-none" \
	lttng_daemon="$bb/startup-lttng"

# Switching: the app runs with bench:on enabled (so it is registered and
# the session is live); it times `lttng enable-event bench:sw` until it sees it.
if session sw "$tmp/lttng-sw" bench:on; then
	"$bb/on-lttng" -m lttng_switch -s sw -c bench -r "$rounds"
	lttng destroy sw >>"$log" 2>&1
else
	echo "name=switch.lttng status=n/a (session setup failed; see $log)"
fi
