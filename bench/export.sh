#!/bin/sh
# export.sh TRACE TMP - `markers export` speed: the same trace to Chrome JSON
# and to Perfetto protobuf, best of 3 runs each, with the output size and
# the exporter's peak RSS.  ns_per_op: CPU time (user + system; the export
# is one thread, and CPU time leaves out a busy machine's waits) per event;
# wall seconds beside it.  ratio_vs_baseline: Perfetto / JSON.
set -u
trace=$1 tmp=$2
M=$(cd "$(dirname "$0")/.." && pwd)/build/native/stage/bin/markers
[ -x "$M" ] || M=markers
if [ ! -d "$trace" ] || ! command -v /usr/bin/time >/dev/null; then
	echo "name=export status=n/a (no trace, or no GNU time)"
	exit 0
fi
events=$("$M" stats "$trace" 2>/dev/null | awk '/^events/ { gsub(",", "", $2); print $2; exit }')
for fmt in chrome perfetto; do
	best=
	for i in 1 2 3; do
		/usr/bin/time -f "%U %S %e %M" -o "$tmp/export.time" \
			"$M" export --format=$fmt -o "$tmp/export.out" "$trace" 2>/dev/null ||
			{ echo "name=export.$fmt status=failed"; continue 2; }
		set -- $(tail -1 "$tmp/export.time")
		cpu=$(awk -v u="$1" -v s="$2" 'BEGIN { print u + s }')
		if [ -z "$best" ] || awk -v a="$cpu" -v b="$best" 'BEGIN { exit !(a < b) }'; then
			best=$cpu wall=$3 rss=$4
		fi
	done
	echo "$fmt $best $rss $(stat -c %s "$tmp/export.out") $wall"
done | awk -v n="${events:-0}" -v tsize="$(du -sk "$trace" | cut -f1)" '
	$1 == "chrome" { base = $2 }
	{
		line = sprintf("name=export.%s cpu_seconds=%s wall_seconds=%s events=%d ns_per_op=%.1f out_mb=%.1f trace_mb=%.1f peak_rss_kb=%d",
			       $1, $2, $5, n, n ? $2 * 1e9 / n : 0, $4 / 1048576, tsize / 1024, $3)
		if ($1 != "chrome" && base > 0)
			line = line sprintf(" ratio_vs_baseline=%.3f", $2 / base)
		print line
	}'
