#!/bin/bash
# cli_pairs.t - `markers stats --pair` and `markers export --pair` on known
# events (tests/analysis/numbered.c, "pairs"): requests matched by a key while
# four are open at once and end out of order; calls nested three deep on two
# threads, matched by thread; unmatched events of every kind counted; the
# latencies checked against the timestamps babeltrace2 reads.
set -u
export LC_ALL=C
M=${MARKERS_STAGE:?}/bin/markers
P=${MARKERS_BUILD:?}/tests/analysis/numbered
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
. "$(dirname "$0")/tap.sh"

"$M" record -q -o "$W/t" -- "$P" pairs
ok $? "record the pairs program"

"$M" stats --pair req_start,req_done:id "$W/t" >"$W/s" 2>"$W/err"
rc=$?
grep -q '^matched   100$' "$W/s" &&
	grep -q '^unmatched 3 req_start without req_done, 2 req_done without req_start, 0 without field id$' "$W/s" &&
	grep -q '^events    103 req_start, 102 req_done$' "$W/s"
ok $(( rc || $? )) "by key: 100 matched, 3 starts and 2 ends unmatched"

# The same figures from babeltrace2's timestamps.
babeltrace2 --clock-seconds "$W/t" >"$W/bt"
python3 - "$W/bt" "$W/s" <<'PY'
import re, sys
opened, lat = {}, []
for line in open(sys.argv[1]):
    m = re.match(r'\[(\d+)\.(\d+)\].* (req_start|req_done): .*\{ id = (-?\d+)', line)
    if not m:
        continue
    ts = int(m.group(1)) * 10**9 + int(m.group(2))
    if m.group(3) == 'req_start':
        opened.setdefault(m.group(4), []).append(ts)
    elif opened.get(m.group(4)):
        lat.append(ts - opened[m.group(4)].pop())
lat.sort()
def fmt(ns):
    if ns < 1000: return '%d ns' % ns
    if ns < 10**6: return '%.3f us' % (ns / 1e3)
    if ns < 10**9: return '%.3f ms' % (ns / 1e6)
    return '%.3f s' % (ns / 1e9)
import math
pct = lambda p: lat[max(1, math.ceil(p / 100 * len(lat))) - 1]
want = 'latency   min %s  p50 %s  p90 %s  p99 %s  max %s' % (fmt(lat[0]), fmt(pct(50)), fmt(pct(90)), fmt(pct(99)), fmt(lat[-1]))
got = [l for l in open(sys.argv[2]) if l.startswith('latency   ')]
ok = len(lat) == 100 and got and got[0].startswith(want)
if not ok:
    print('# want: ' + want); print('# got:  ' + (got[0] if got else 'nothing'))
sys.exit(0 if ok else 1)
PY
ok $? "min, p50, p90, p99 and max are babeltrace2's"
hist=$(sed -n '/^latency histogram:/,$p' "$W/s" | grep -o '| [0-9]*$' | tr -d '| ' | paste -sd+ | bc)
[ "$hist" = 100 ]
ok $? "the histogram holds the 100 latencies (sum $hist)"

"$M" stats --pair req_start,req_done:nosuch "$W/t" >"$W/s2"
grep -q '^matched   0$' "$W/s2" && grep -q '205 without field nosuch' "$W/s2"
ok $? "a KEY the events do not have: every event counted as without it"

# Nesting by thread: each call_out closes the innermost call_in of its thread.
# A tracer that records no thread id leaves only the CPU to pair by, which
# two threads share: then these checks cannot hold, and are skipped.
tids=yes
grep -q 'vtid = ' "$W/bt" || tids=
"$M" stats --pair call_in,call_out "$W/t" >"$W/s3"
if [ "$tids" ]; then
	grep -q '^matched   60$' "$W/s3" && grep -q '^unmatched 0 call_in without call_out, 1 call_out without call_in$' "$W/s3"
	ok $? "by thread: 60 matched, the stray call_out counted"
else
	n=$((n + 1)); echo "ok $n # SKIP the trace has no thread ids (vtid)"
fi

"$M" export --format=chrome --pair req_start,req_done:id --pair call_in,call_out -o "$W/t.json" "$W/t" 2>"$W/exerr"
rc=$?
python3 - "$W/t.json" "$tids" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
x = [e for e in d['traceEvents'] if e['ph'] == 'X']
req = [e for e in x if e['name'] == 'req']
call = [e for e in x if e['name'] == 'call_in']
bad = [e for e in req if e['args']['begin']['id'] != e['args']['end']['id'] or e['dur'] < 0]
badc = [e for e in call if e['args']['begin']['depth'] != e['args']['end']['depth']]
be = [e for e in d['traceEvents'] if e['ph'] in 'be']
print('# %d req slices, %d call slices, %d mismatched, %d b/e' % (len(req), len(call), len(bad) + len(badc), len(be)))
if not sys.argv[2]:
    call, badc = [0] * 60, []  # no thread ids: nesting is not checked
sys.exit(0 if len(req) == 100 and len(call) == 60 and not bad and not badc and not be else 1)
PY
ok $(( rc || $? )) "export --pair: 160 complete slices, each with its own id (and depth), no guessed pairs"
grep -q 'pair req_start,req_done: 100 slices, 3 req_start without req_done, 2 req_done without req_start' "$W/exerr"
ok $? "export --pair counts the unmatched events"

"$M" export --format=chrome -o "$W/g.json" "$W/t" 2>/dev/null
python3 -c "
import json, sys
d = json.load(open('$W/g.json'))
sys.exit(0 if [e for e in d['traceEvents'] if e['ph'] == 'b'] and not [e for e in d['traceEvents'] if e['ph'] == 'X'] else 1)"
ok $? "without --pair the export still guesses NAME_start/NAME_done"

for bad in 'req_start' 'req_start,' ',req_done' 'a,b:' 'a,b,c'; do
	"$M" stats --pair "$bad" "$W/t" >/dev/null 2>"$W/err"
	rc=$?
	[ $rc = 2 ] && [ "$(wc -l <"$W/err")" = 1 ] && grep -q 'BEGIN,END' "$W/err"
	ok $? "--pair '$bad': exit 2, one line"
done
"$M" stats --pair nothing_start,nothing_done "$W/t" >/dev/null 2>"$W/err"
[ $? = 1 ] && grep -q 'no nothing_start or nothing_done event' "$W/err"
ok $? "markers that are not in the trace: exit 1, said so"

echo "1..$n"
exit $((fails > 0))
