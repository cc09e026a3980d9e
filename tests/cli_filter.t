#!/bin/bash
# cli_filter.t - `markers record --filter` and `markers enable --filter`: every
# operator and type against known events, exact counts checked in the trace by
# `markers view` and by babeltrace2; filters per group of -e; bad expressions
# and unknown fields are one line naming the column or the field, exit 2, and
# nothing recorded; filters sent to a running process (record -p, enable -p).
set -u
export LC_ALL=C
M=${MARKERS_STAGE:?}/bin/markers
P=${MARKERS_BUILD:?}/tests/analysis/numbered
W=$(mktemp -d)
pids=
trap 'for p in $pids; do kill -9 $p 2>/dev/null; done; rm -rf "$W"' EXIT
. "$(dirname "$0")/tap.sh"
N=1000

# What `numbered filter N` emits, event i of N (tests/analysis/numbered.c).
expect() { # PYTHON-PREDICATE: how many events satisfy it
	python3 -c "
words = ['GET /a', 'GET /b.html', 'POST /a', 'PUT x*y']
import fnmatch
def m(s, p):  # the filter's '*' wildcard ('\\\\*' a star), as a regex
    import re
    rx = ''.join('.*' if t == '*' else re.escape(t[-1]) for t in re.findall(r'\\\\\\\\.|\\*|.', p))
    return re.fullmatch(rx, s, re.S) is not None
n = 0
for k in range($N):
    i, u, big, x, s, c = k - $N // 2, k, k * 10**9, k / 4.0, words[k % 4], k & 0xff
    n += bool($1)
print(n)"
}

cases=(
	'i == 0 ## i == 0'
	'i != 0 ## i != 0'
	'i < -100 ## i < -100'
	'i <= -100 ## i <= -100'
	'i > 250 ## i > 250'
	'i >= 250 ## i >= 250'
	'-100 > i ## -100 > i'
	'u < 0x10 ## u < 0x10'
	'u == 0x3e7 ## u == 999'
	'big >= 900000000000 ## big >= 900000000000'
	'big > 0xffffffff ## big > 0xffffffff'
	'x > 100.5 ## x > 100.5'
	'x <= 2.25 ## x <= 2.25'
	'x == 0.25 ## x == 0.25'
	'x != 1e2 ## x != 100'
	'i > -1.5 ## i > -1.5'
	'c == 255 ## c == 255'
	'c >= 250 ## c >= 250'
	's == "GET*" ## m(s, "GET*")'
	's != "GET*" ## not m(s, "GET*")'
	's == "*.html" ## m(s, "*.html")'
	's == "*/a" ## m(s, "*/a")'
	's == "PUT x\*y" ## s == "PUT x*y"'
	's == "PUT \*" ## False'
	's == "POST /a" ## s == "POST /a"'
	'"G*" == s ## m(s, "G*")'
	'(i > 0  ||  u < 10) && !(s == "POST*") ## (i > 0 or u < 10) and not m(s, "POST*")'
	'u > 100 && u < 200  ||  c == 7 ## u > 100 and u < 200 or c == 7'
	'!(u < 500) ## not u < 500'
	'u ## u != 0'
	'!c ## c == 0'
	'x > i ## x > i'
)
for c in "${cases[@]}"; do
	expr=${c%% ## *}
	py=${c#* ## }
	want=$(expect "$py")
	rm -rf "$W/t"
	"$M" record -q -o "$W/t" -e fev --filter "$expr" -- "$P" filter $N 2>"$W/err"
	rc=$?
	got=$("$M" view "$W/t" 2>/dev/null | grep -c ' fev ')
	bt=$(babeltrace2 "$W/t" 2>/dev/null | grep -c ' fev: ')
	[ $rc = 0 ] && [ "$got" = "$want" ] && [ "$bt" = "$want" ]
	ok $? "--filter '$expr': $want events (view $got, babeltrace2 $bt)"
done

# The values themselves: every recorded event passes, in babeltrace2's words.
rm -rf "$W/t"
"$M" record -q -o "$W/t" -e fev --filter 'u >= 990 && s == "GET*"' -- "$P" filter $N
babeltrace2 "$W/t" | grep -o 'u = [0-9]*' | tr '\n' ' ' >"$W/u"
[ "$(cat "$W/u")" = "u = 992 u = 993 u = 996 u = 997 " ]
ok $? "the recorded values pass: u = 992 993 996 997 ($(cat "$W/u"))"
rm -rf "$W/t"
"$M" record -q -o "$W/t" --filter 'u >= 990' -- "$P" filter $N 2>"$W/err"
[ $? = 2 ] && grep -q "marker 'call_in' has no field 'u' (its fields: depth)" "$W/err" && [ ! -e "$W/t" ]
ok $? "a --filter with no -e applies to every marker, and every one must have its fields"

# Groups: each --filter applies to the -e given since the previous one.
rm -rf "$W/t"
"$M" record -q -o "$W/t" -e fev --filter 'u < 10' -e 'f*' --filter 'u >= 995' -- "$P" filter $N
got=$("$M" view "$W/t" | grep -c ' fev ')
[ "$got" = 15 ]
ok $? "two groups: u < 10 or u >= 995: 15 events (got $got)"
rm -rf "$W/t"
"$M" record -q -o "$W/t" -e fev --filter 'u < 10' -e 'fe*' -- "$P" filter $N
got=$("$M" view "$W/t" | grep -c ' fev ')
[ "$got" = $N ]
ok $? "a glob after the last --filter records unfiltered: $N events (got $got)"

# From the environment alone (a program started by a supervisor).
rm -rf "$W/t"
MARKERS_RECORD=fev MARKERS_RECORD_DIR="$W/t" MARKERS_RECORD_FILTER='c == 1' \
	MARKERS_RECORD_1=fev MARKERS_RECORD_FILTER_1='c == 2' "$P" filter $N
got=$("$M" view "$W/t" | grep -c ' fev ')
[ "$got" = 8 ]
ok $? "MARKERS_RECORD_FILTER and MARKERS_RECORD_FILTER_1: 8 events (got $got)"

# The filtered events are counted: per process and in total, in .stats, the summary and
# stats, and emitted = recorded + lost + filtered.
rm -rf "$W/t"
"$M" record -o "$W/t" -e fev --filter 'u < 10' -- "$P" filter $N >/dev/null 2>"$W/sum"
grep -q "^markers record: 10 events, 0 lost, 990 filtered out, " "$W/sum" &&
	grep -qx 'filtered 990' "$W"/t/*/.stats && grep -qx 'recorded 10' "$W"/t/*/.stats &&
	"$M" stats "$W/t" | grep -q '^events    10 .*, 0 lost, 990 filtered out$'
ok $? "990 filtered out of $N: in .stats, the summary and stats ($(grep 'record: 10' "$W/sum"))"
rm -rf "$W/t"
"$M" record -o "$W/t" -e fev --filter 'u < 10' -- sh -c "'$P' filter $N & '$P' filter 500; wait" \
	>/dev/null 2>"$W/sum"
"$M" stats "$W/t" >"$W/st"
grep -q "^markers record: 2 processes, 20 events, 0 lost, 1,480 filtered out, " "$W/sum" &&
	grep -q '   filtered ' "$W/sum" && [ "$(grep -cE '^ +[0-9]+  numbered +10 +0 +(990|490) ' "$W/sum")" = 2 ] &&
	[ "$(grep -cE '^ *[0-9]+  numbered +10 +0 +(990|490) ' "$W/st")" = 2 ] &&
	grep -q ', 1,480 filtered out$' "$W/st" && ! grep -q 'accounts for' "$W/sum"
ok $? "two processes: a filtered column per process, the total, and the sums hold"

# Bad expressions and fields: one line, exit 2, nothing recorded.
bad() { # EXPR STATUS MESSAGE-PART
	rm -rf "$W/t"
	"$M" record -q -o "$W/t" -e fev --filter "$1" -- "$P" filter 10 >/dev/null 2>"$W/err"
	local rc=$?
	[ $rc = "$2" ] && [ "$(wc -l <"$W/err")" = 1 ] && grep -qF -- "$3" "$W/err" && [ ! -e "$W/t" ] ||
		{ echo "# status $rc: $(cat "$W/err")"; return 1; }
}
bad 'u >' 2 "--filter 'u >': column 4: expected a field, a number or a string"
ok $? "a missing operand: exit 2, the column"
bad 'u = 3' 2 "column 3"
ok $? "'=' for '==': exit 2, the column"
bad '(u > 3' 2 "column 7: expected ')'"
ok $? "an open parenthesis: exit 2, the column"
bad 's < "a"' 2 "column 3: '<': strings compare only with == and !="
ok $? "a string with '<': exit 2"
bad 'size > 3' 2 "marker 'fev' has no field 'size' (its fields: i, u, big, x, s, c)"
ok $? "an unknown field: exit 2, the marker's fields"
bad 's == 3' 2 "field 's' of marker 'fev' is a string"
ok $? "a string field against a number: exit 2"
bad 'u == 0x' 2 "column 6"
ok $? "a bad hexadecimal number: exit 2"

# A running process: record -p with a filter, then enable --filter while it records.
"$P" loop >"$W/ready" 2>/dev/null &
lp=$!
pids="$pids $lp"
for _ in $(seq 100); do grep -q ready "$W/ready" && break; sleep 0.05; done
"$M" record -p $lp -o "$W/p1" -e tick --filter 'seq > 99999999999' -d 0.5 >"$W/out" 2>"$W/err"
rc=$?
grep -qE '^markers record: 0 events, 0 lost, [1-9][0-9,]* filtered out, ' "$W/err"
ok $(( rc || $? )) "record -p --filter: nothing passes, 0 events recorded, the rest filtered out ($(grep 'record: 0' "$W/err"))"
"$M" record -p $lp -o "$W/p2" -e tick --filter 'nope > 1' -d 0.5 >/dev/null 2>"$W/err"
rc=$?
[ $rc = 2 ] && grep -q "marker 'tick' has no field 'nope' (its fields: seq, check)" "$W/err" && [ ! -e "$W/p2" ]
ok $? "record -p with an unknown field: exit 2 before recording ($(cat "$W/err"))"
"$M" record -p $lp -o "$W/p3" -e tick --filter 'seq < 0' -d 1.5 >"$W/out3" 2>/dev/null &
rp=$!
sleep 0.5
"$M" enable -p $lp tick --filter 'seq >= 0' >"$W/en" 2>&1
rc1=$?
"$M" enable -p $lp tick --filter 'seq >' >"$W/en2" 2>&1
rc2=$?
wait $rp
got=$("$M" view "$W/p3" 2>/dev/null | grep -c ' tick ')
[ $rc1 = 0 ] && [ $rc2 = 2 ] && [ "$got" -gt 100 ] && grep -q 'column 6' "$W/en2"
ok $? "enable -p --filter during a recording adds a filter (seq < 0, then seq >= 0: $got events), a bad one exit 2"
kill $lp 2>/dev/null
"$M" enable -p $$ tick --filter 'seq > 1' >/dev/null 2>&1
ok $(( $? == 0 )) "enable --filter on a process without libmarkers fails"

echo "1..$n"
exit $((fails > 0))
