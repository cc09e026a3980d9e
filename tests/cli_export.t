#!/bin/bash
# cli_export.t - `markers export --format=chrome`: a real recording becomes
# JSON that python3 parses, with one instant event per recorded event (same
# names, same values), per-CPU tracks, and slices for NAME_start/NAME_done.
set -u
export LC_ALL=C
M=${MARKERS_STAGE:?}/bin/markers
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
. "$(dirname "$0")/tap.sh"

cat >"$W/jobs.c" <<'EOF'
/* jobs N: N jobs on 2 threads, each a job_start and a job_done with its id,
 * plus a note with a string that JSON must escape. */
#include <pthread.h>
#include <stdlib.h>
#include <markers.h>

static int n;

static void *worker(void *arg)
{
	for (int i = (int)(size_t)arg; i < n; i += 2) {
		trace_mark(job_start, "id %d", i);
		trace_mark(note, "id %d text %s ratio %f", i, "a \"quoted\"\tline\n\\ caf\xc3\xa9 \xff",
			   i / 4.0);
		trace_mark(job_done, "id %d ptr %p", i, (void *)(size_t)(0x1000 + i));
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[2];

	n = atoi(argv[1]);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, worker, (void *)(size_t)i);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	return 0;
}
EOF
build_prog jobs -lpthread

echo "1..9"
"$M" record -q -o "$W/t" -- "$W/jobs" 500 >/dev/null 2>&1
ok $? "record the jobs"
"$M" export --format=chrome "$W/t" >"$W/trace.json" 2>"$W/err"
ok $? "export --format=chrome: $(cat "$W/err")"
python3 - "$W/trace.json" <<'EOF'
import collections, json, sys
d = json.load(open(sys.argv[1]))
ev = d["traceEvents"]
inst = [e for e in ev if e["ph"] == "i" and e.get("cat") == "markers"]
# The tracer may drop an event (counted): then recorded + lost = emitted.
lost = sum(e["args"]["events"] for e in ev if e["ph"] == "i" and e.get("cat") == "lost")
c = collections.Counter(e["name"] for e in inst)
assert len(inst) + lost == 1500 and set(c) == {"job_start", "note", "job_done"}, (c, lost)
assert all(500 - lost <= k <= 500 for k in c.values()), (c, lost)
ids = set(e["args"]["id"] for e in inst if e["name"] == "job_done")
assert ids <= set(range(500)) and len(ids) == c["job_done"], "ids"
if lost:
    print("# %d lost, and shown as lost" % lost)
for e in inst:
    a = e["args"]
    if e["name"] == "note":
        assert a["text"] == 'a "quoted"\tline\n\\ caf\u00e9 \ufffd', repr(a["text"])
        assert a["ratio"] == a["id"] / 4.0, a
    if e["name"] == "job_done":
        assert int(a["ptr"], 16) == 0x1000 + a["id"], a
    assert isinstance(e["ts"], (int, float)) and e["ts"] >= 0
    assert e["s"] == "t" and isinstance(e["pid"], int) and isinstance(e["tid"], int)
print("# %d instant events, names, ids, strings, doubles and pointers as emitted" % len(inst))
EOF
ok $? "valid JSON: one instant event per event, with the emitted values"
python3 - "$W/trace.json" <<'EOF'
import json, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
lost = sum(e["args"]["events"] for e in ev if e["ph"] == "i" and e.get("cat") == "lost")
b = {e["id"]: e for e in ev if e["ph"] == "b"}
e = {x["id"]: x for x in ev if x["ph"] == "e"}
assert 500 - lost <= len(b) <= 500 and b.keys() == e.keys(), (len(b), len(e), lost)
for k in b:
    assert b[k]["name"] == e[k]["name"] == "job" and b[k]["ts"] <= e[k]["ts"]
print("# %d job slices" % len(b))
EOF
ok $? "job_start/job_done pairs become a slice each, named job, none backwards"
python3 - "$W/trace.json" <<'EOF'
import json, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
tids = {e["tid"] for e in ev if e["ph"] == "i"}
named = {e["tid"] for e in ev if e["ph"] == "M" and e["name"] == "thread_name"}
assert tids <= named, (tids, named)
assert any(e["ph"] == "M" and e["name"] == "process_name" and e["args"]["name"] == "jobs" for e in ev)
EOF
ok $? "a named track per CPU, the process named after the program"
"$M" export --format=chrome --no-pairs -o "$W/np.json" "$W/t" 2>/dev/null &&
	python3 -c 'import json,sys; ev=json.load(open(sys.argv[1]))["traceEvents"]; assert not [e for e in ev if e["ph"] in "be"]' "$W/np.json"
ok $? "--no-pairs and -o FILE"

# A damaged trace: status 1, one line, and still a valid JSON of what came before.
cp -r "$W/t" "$W/bad"
for f in "$W"/bad/*/cpu*; do [ -s "$f" ] && truncate -s $(($(stat -c %s "$f") - 7)) "$f"; done
"$M" export --format=chrome "$W/bad" >"$W/bad.json" 2>"$W/err"
rc=$?
[ $rc = 1 ] && [ "$(wc -l <"$W/err")" = 1 ] && python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$W/bad.json"
ok $? "a truncated trace: status 1, one line, the JSON still parses"
"$M" export --format=svg "$W/t" >/dev/null 2>&1
ok $([ $? = 2 ]; echo $?) "an unknown format: status 2"
"$M" export --help | grep -q 'usage: markers export'
ok $? "--help"
exit $((fails > 0))
