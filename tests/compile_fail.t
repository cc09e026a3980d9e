#!/bin/sh
# A format that does not match the arguments is a compile error under
# -Werror=format, with gcc and clang, in C and C++; the correct control
# compiles cleanly with the same flags (so a broken header fails here too).
stage=${MARKERS_STAGE:?run from make check}
# The compilers alone: sanitizer flags in MARKERS_CC change nothing here.
cc=$(echo "${MARKERS_CC:-cc}" | cut -d' ' -f1)
cxx=$(echo "${MARKERS_CXX:-c++}" | cut -d' ' -f1)
dir=$(dirname "$0")/compile-fail
compilers="$cc|c $cxx|c++"
command -v clang >/dev/null && compilers="$compilers clang|c clang++|c++"
n=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
count=$(( $(ls "$dir"/*.c | wc -l) * $(echo $compilers | wc -w) ))
echo "1..$count"
for pair in $compilers; do
	comp=${pair%|*}
	lang=${pair#*|}
	for src in "$dir"/*.c; do
		n=$((n + 1))
		name=$(basename "$src" .c)
		$comp -x $lang -c -o /dev/null -Wall -Wextra -Werror=format -I"$stage/include" \
			"$src" >"$out" 2>&1
		rc=$?
		case $name in
		ok_*)
			if [ $rc = 0 ] && [ ! -s "$out" ]; then
				echo "ok $n - $comp ($lang): $name compiles without a diagnostic"
			else
				echo "not ok $n - $comp ($lang): $name should compile cleanly"
				sed 's/^/# /' "$out" | head -20
			fi ;;
		*)
			if [ $rc != 0 ] && grep -q "format" "$out"; then
				echo "ok $n - $comp ($lang): $name is a format error"
			else
				echo "not ok $n - $comp ($lang): $name should fail with a format error (rc $rc)"
				sed 's/^/# /' "$out" | head -20
			fi ;;
		esac
	done
done
