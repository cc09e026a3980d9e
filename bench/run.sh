#!/bin/sh
# run.sh BUILD_DIR - run every benchmark, print name=... lines as they come,
# then write the table of ratios to BENCHMARKS.md.  Called by `make bench`.
# BENCH_QUICK=1: fewer rounds (to try the harness; not for publishing).
#
# Nothing here fails on a time: a missing piece prints status=n/a and the
# table says so.  Root is needed for the LTTng half (its session daemon).
set -u
bb=$1
here=$(cd "$(dirname "$0")" && pwd)
out=${BENCH_OUT:-BENCHMARKS.md}
results=$bb/results.txt
tmp=$(mktemp -d "${TMPDIR:-/tmp}/markers-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	rounds=5 off_iters=1000000 events=20000 starts=30
else
	rounds=21 off_iters=4000000 events=50000 starts=300
fi
: >"$results"
emit() { tee -a "$results"; }
note() { echo "== $*" >&2; }

# callgrind_cost FILE FUNC: "Ir Dr" of FUNC, self cost or (-i) inclusive.
callgrind_cost() {
	incl=no
	[ "$1" = -i ] && { incl=yes; shift; }
	callgrind_annotate --inclusive=$incl --show=Ir,Dr "$1" 2>/dev/null |
		awk -v f="$2" '{ gsub(",", "") }
			$0 ~ (":" f " ") && $1 ~ /^[0-9]+$/ {
				dr = ($3 ~ /^[0-9]+$/) ? $3 : ($4 ~ /^[0-9]+$/ ? $4 : 0)
				print $1, dr; exit }'
}

note "off: ns per site, pinned, $rounds rounds"
"$bb/off" -r $rounds -n $off_iters | emit
LTTNG_UST_REGISTER_TIMEOUT=0 "$bb/off-lttng" -r $rounds -n $off_iters | grep -v '^name=off.setup' | emit

note "off: callgrind instructions and data reads per site"
if command -v valgrind >/dev/null; then
	for n in 10000 20000; do
		valgrind --tool=callgrind --cache-sim=yes --callgrind-out-file="$tmp/cg-off-$n.out" \
			"$bb/off" -c $n >/dev/null 2>&1
		LTTNG_UST_REGISTER_TIMEOUT=0 valgrind --tool=callgrind --cache-sim=yes \
			--callgrind-out-file="$tmp/cg-offl-$n.out" "$bb/off-lttng" -c $n >/dev/null 2>&1
	done
	# The sparse loop runs 16 n iterations of one site, the dense one n of 16:
	# both 16 n sites.  Differences of two lengths cancel the fixed costs.
	for d in 1 16; do for k in flag sdt sdtsem lttng generic immediate jump; do
		f=off
		[ $k = lttng ] && f=offl
		set -- $(callgrind_cost "$tmp/cg-$f-10000.out" loop_none_$d) \
			$(callgrind_cost "$tmp/cg-$f-20000.out" loop_none_$d)
		bir=$(( $3 - $1 )) bdr=$(( $4 - $2 ))
		set -- $(callgrind_cost "$tmp/cg-$f-10000.out" loop_${k}_$d) \
			$(callgrind_cost "$tmp/cg-$f-20000.out" loop_${k}_$d)
		[ $# -eq 4 ] || { echo "name=off.$k.$d.cg status=n/a"; continue; }
		awk -v k=$k -v d=$d -v ir=$(( $3 - $1 - bir )) -v dr=$(( $4 - $2 - bdr )) \
			'BEGIN { printf "name=off.%s.%d.cg ir_per_site=%.2f dr_per_site=%.2f\n",
				 k, d, ir / 160000, dr / 160000 }'
	done; done | emit
else
	echo "name=off.cg status=n/a (valgrind not installed)" | emit
fi

note "reference: rdtsc + 32-byte copy floor, clock_gettime"
"$bb/on" -m refs -n 1000000 -r $rounds | emit

note "on: our tracer, 1 and 2 threads"
for t in 1 2; do
	"$bb/on" -m ours -t $t -n $events -r $rounds -d "$tmp/ours-t$t" | emit
	if [ -f "$tmp/ours-t$t/metadata" ]; then
		n=$(babeltrace2 "$tmp/ours-t$t" -c sink.utils.counter 2>"$tmp/bt2-ours-t$t.err" |
			awk '/ Event messages?$/ { n = $1 } END { print n + 0 }')
		w=$(grep -ci warn "$tmp/bt2-ours-t$t.err")
		echo "name=on.ours.t$t.babeltrace2 events=$n warnings=$w" | emit
	fi
done
for t in 1 2; do
	"$bb/on" -m rate -t $t -d "$tmp/ours-rate-t$t" | emit
done
"$bb/on" -m small -d "$tmp/ours-small" | emit
if [ -f "$tmp/ours-small/metadata" ]; then
	n=$(babeltrace2 "$tmp/ours-small" -c sink.utils.counter 2>/dev/null |
		awk '/ Event messages?$/ { n = $1 } / Discarded event messages?$/ { d = $1 }
		     END { printf "events=%d discarded_msgs=%d", n, d }')
	echo "name=on.ours.small.babeltrace2 $n" | emit
fi
if command -v valgrind >/dev/null; then
	for n in 10000 30000; do
		valgrind --tool=callgrind --cache-sim=yes --callgrind-out-file="$tmp/cg-ours-$n.out" \
			"$bb/on" -m ours -C $n -d "$tmp/ours-cg$n" >/dev/null 2>&1
		valgrind --tool=callgrind --cache-sim=yes --callgrind-out-file="$tmp/cg-ours2-$n.out" \
			"$bb/on" -m ours -C $n -t 2 -d "$tmp/ours2-cg$n" >/dev/null 2>&1
	done
fi

note "filters: an event rejected, and one accepted, against the same event unfiltered"
"$bb/filter" "$tmp/ours-filter" | emit

note "switching ours: 1, 100, 10,000 sites with a busy thread"
"$bb/switch" -r $(( rounds / 2 + 1 )) | emit

note "start and exit: none, ours, SDT, LTTng-UST without a session daemon"
# No daemon can answer LTTng-UST here: a HOME of its own, and root's /run/lttng
# only exists while lttng.sh runs (in its own mount namespace when possible).
HOME=$tmp/no-lttng-home "$bb/startup" -n $starts none="$bb/startup-none" ours="$bb/startup-ours" \
	ours_noctl="$bb/startup-ours,MARKERS_CONTROL=0" sdt="$bb/startup-sdt" \
	lttng="$bb/startup-lttng,LTTNG_HOME=$tmp/no-lttng-home" | emit
if command -v valgrind >/dev/null; then
	# Instructions of one start+exit, every thread: "name=startup.LABEL.cg instructions=N".
	for k in none ours ours_noctl sdt lttng; do
		prog=$bb/startup-${k%_noctl}
		set -- env
		[ $k = ours_noctl ] && set -- env MARKERS_CONTROL=0
		HOME=$tmp/no-lttng-home LTTNG_HOME=$tmp/no-lttng-home "$@" valgrind --tool=callgrind \
			--callgrind-out-file="$tmp/cg-start-$k.out" "$prog" >/dev/null 2>"$tmp/cg-start-$k.err"
		ir=$(awk '/Collected :/ { print $NF }' "$tmp/cg-start-$k.err")
		echo "name=startup.$k.cg instructions=${ir:-0}"
	done | emit
fi

note "fork child of a recorded tree: fork to its first event, recorded or not"
"$bb/fork_child" -n $(( starts / 2 )) -d "$tmp/fork-child" | emit
rm -rf "$tmp/fork-child"

note "LTTng-UST: own session daemon, private /run"
mkdir -p "$tmp/run"
if [ "$(id -u)" != 0 ]; then
	echo "name=lttng status=n/a (needs root for lttng-sessiond)" | emit
elif unshare -m sh -c "mount --bind '$tmp/run' /run" 2>/dev/null; then
	unshare -m sh -c "mount --bind '$tmp/run' /run && exec '$here/lttng.sh' '$bb' '$tmp' $rounds $events $starts" |
		emit
else
	# No mount namespace here: use the machine's /run, unless a daemon is there.
	if [ -e /run/lttng/lttng-sessiond.pid ]; then
		echo "name=lttng status=n/a (a session daemon is already running)" | emit
	else
		"$here/lttng.sh" "$bb" "$tmp" $rounds $events $starts | emit
	fi
fi

note "streaming to lttng-relayd on localhost, next to a local recording"
"$here/relay.sh" "$bb" "$tmp" "$([ "${BENCH_QUICK:-0}" = 1 ] && echo 1 || echo 3)" | emit

note "resident memory: uninstrumented, ours idle and recording, LTTng-UST idle"
"$bb/rss-none" -n 1000000 | emit
"$bb/rss-ours" -n 1000000 | emit
MARKERS_RECORD='*' MARKERS_RECORD_DIR="$tmp/rss-trace" "$bb/rss-ours" -n 1000000 -t recording | emit
LTTNG_UST_REGISTER_TIMEOUT=0 HOME=$tmp/no-lttng-home "$bb/rss-lttng" -n 1000000 | emit

note "markers export of that recording: Chrome JSON and Perfetto protobuf"
"$here/export.sh" "$tmp/rss-trace" "$tmp" | emit

note "a real program off: lz4 none / markers / SDT / flag / markers with the plain call, both directions"
"$here/real/lz4.sh" "$bb" "$tmp" "$rounds" | emit

note "instructions per recorded event (callgrind, inclusive, two lengths)"
for who in ours lttng; do
	a=$(callgrind_cost -i "$tmp/cg-$who-10000.out" loop_$who 2>/dev/null | cut -d' ' -f1)
	b=$(callgrind_cost -i "$tmp/cg-$who-30000.out" loop_$who 2>/dev/null | cut -d' ' -f1)
	if [ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt "$a" ]; then
		echo "name=on.$who.cg ir_per_event=$(( (b - a) / 20000 ))"
	else
		echo "name=on.$who.cg status=n/a"
	fi
done | emit
# Two threads, N events each: the loop's cost summed over both (callgrind runs one at a time).
a=$(callgrind_cost -i "$tmp/cg-ours2-10000.out" loop_ours 2>/dev/null | cut -d' ' -f1)
b=$(callgrind_cost -i "$tmp/cg-ours2-30000.out" loop_ours 2>/dev/null | cut -d' ' -f1)
if [ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt "$a" ]; then
	echo "name=on.ours.cg.t2 ir_per_event=$(( (b - a) / 40000 ))"
else
	echo "name=on.ours.cg.t2 status=n/a"
fi | emit

note "the library's dispatch alone: one empty probe (RCU read side, errno, va_list)"
"$bb/fire" -n 1000000 -r $rounds | emit
"$bb/fire-call" -n 1000000 -r $rounds | grep -v '^name=fire.direct' | emit
if command -v valgrind >/dev/null; then
	# fire_site's inclusive cost: the site, the way into the library, the
	# probe; the largest of its lines (callgrind also lists the share of
	# each source file inlined into it).
	site_ir() {
		callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null |
			awk '{ gsub(",", "") } $0 ~ /:fire_site( |$)/ && $1 + 0 > m { m = $1 + 0 }
			     END { if (m) print m }'
	}
	for kind in site call; do
		bin=$bb/fire
		[ $kind = call ] && bin=$bb/fire-call
		for n in 10000 30000; do
			valgrind --tool=callgrind --callgrind-out-file="$tmp/cg-fire-$kind-$n.out" \
				"$bin" -C $n >/dev/null 2>&1
		done
		a=$(site_ir "$tmp/cg-fire-$kind-10000.out") b=$(site_ir "$tmp/cg-fire-$kind-30000.out")
		if [ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt "$a" ]; then
			echo "name=fire.$kind.cg ir_per_fire=$(( (b - a) / 20000 ))"
		else
			echo "name=fire.$kind.cg status=n/a"
		fi
	done | emit
fi

note "writing $out"
python3 "$here/report.py" "$results" >"$out.tmp" && mv "$out.tmp" "$out"
cat "$out"
