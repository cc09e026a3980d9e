#!/bin/sh
# lz4.sh BUILD_DIR TMP ROUNDS - the real-program rows: lz4's compressor and
# decompressor, uninstrumented and with a site at each sequence four ways
# (markers, SDT, a flag, and markers with marker_fire() called from the
# out-of-line block, "call"), all off.  Per direction and kind: the median
# thread-CPU ns per input byte over ROUNDS, and the instructions of
# LZ4_compress_default / LZ4_decompress_safe (callgrind, inclusive), each
# with its ratio to the uninstrumented build.  Built by `make bench-real`
# (rows real.lz4.*) and, for i386, `make bench-real-i386` (real.lz4.i386.*).
set -u
bb=$1 tmp=$2 rounds=$3
real=$bb/real
kinds="none markers sdt flag call"

# rows BINARY_PREFIX NAME_PREFIX
rows() {
	bin=$1 name=$2
	for k in $kinds; do
		if [ ! -x "$real/$bin$k" ]; then
			echo "name=$name status=n/a (not built: make bench-real, bench-real-i386)"
			return 0
		fi
	done
	for k in $kinds; do
		"$real/$bin$k" -r "$rounds" >"$tmp/$bin$k.time" || echo "name=$name.$k status=failed"
		if command -v valgrind >/dev/null; then
			valgrind --tool=callgrind --callgrind-out-file="$tmp/$bin$k.cg" "$real/$bin$k" -c \
				>/dev/null 2>&1
		fi
	done
	for d in compress decompress; do
		f=LZ4_compress_default
		[ $d = decompress ] && f=LZ4_decompress_safe
		for k in $kinds; do
			ns=$(awk -v d=$d '$1 == d { sub("ns_per_byte=", "", $2); print $2 }' "$tmp/$bin$k.time")
			ir=$(callgrind_annotate --inclusive=yes "$tmp/$bin$k.cg" 2>/dev/null |
				awk -v f=":$f " '{ gsub(",", "") } index($0, f) && $1 ~ /^[0-9]+$/ { print $1; exit }')
			echo "$d $k ${ns:-n/a} ${ir:-n/a}"
		done
	done | awk -v name="$name" '
		$2 == "none" { bns[$1] = $3; bir[$1] = $4 }
		{
			line = sprintf("name=%s.%s.%s ns_per_byte=%s ir=%s", name, $1, $2, $3, $4)
			if ($2 != "none" && bns[$1] + 0 > 0 && $3 + 0 > 0)
				line = line sprintf(" ratio_vs_baseline=%.4f", $3 / bns[$1])
			if ($2 != "none" && bir[$1] + 0 > 0 && $4 + 0 > 0)
				line = line sprintf(" ir_ratio=%.4f ir_added_pct=%.2f", $4 / bir[$1],
						    100 * ($4 - bir[$1]) / bir[$1])
			print line
		}'
}

rows lz4- real.lz4
rows lz4-i386- real.lz4.i386
