#!/bin/sh
# A format that does not match the arguments is a compile error under
# -Werror=format, with gcc and clang, in C and C++; the correct control
# compiles cleanly with the same flags (so a broken header fails here too),
# and in every strict ISO mode markers.h promises, under -pedantic -Werror.
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
c_stds="c11 c17 gnu11"
cxx_stds="c++11 c++14 c++17 c++20"
count=$(( $(ls "$dir"/*.c | wc -l) * $(echo $compilers | wc -w) ))
for pair in $compilers; do
	case ${pair#*|} in c) count=$((count + 3)) ;; *) count=$((count + 4)) ;; esac
done
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

# The control alone, strict: no diagnostic at all, in C and C++ of every
# standard, with the markers of every kind and without arguments.
for pair in $compilers; do
	comp=${pair%|*}
	lang=${pair#*|}
	case $lang in c) stds=$c_stds ;; *) stds=$cxx_stds ;; esac
	for std in $stds; do
		n=$((n + 1))
		$comp -x $lang -std=$std -c -o /dev/null -Wall -Wextra -pedantic -Werror \
			-I"$stage/include" "$dir/ok_control.c" >"$out" 2>&1
		if [ $? = 0 ] && [ ! -s "$out" ]; then
			echo "ok $n - $comp -std=$std -pedantic: ok_control compiles without a diagnostic"
		else
			echo "not ok $n - $comp -std=$std -pedantic: ok_control should compile cleanly"
			sed 's/^/# /' "$out" | head -20
		fi
	done
done
