#!/bin/bash
# cli_export_perfetto.t - `markers export --format=perfetto`: a real recording
# becomes a protobuf trace that protoc decodes against the schema subset in
# docs/perfetto/, with one instant event per recorded event (same names, same
# values), declared tracks, slices for NAME_start/NAME_done, interned names
# that are defined before use; a damaged trace still gives a valid protobuf;
# a trace larger than the exporter's memory is streamed.
set -u
export LC_ALL=C
M=${MARKERS_STAGE:?}/bin/markers
HERE=$(cd "$(dirname "$0")" && pwd)
PROTO_DIR=$HERE/../docs/perfetto
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
. "$HERE/tap.sh"

if ! command -v protoc >/dev/null; then
	echo "1..0 # SKIP protoc not installed (Debian: protobuf-compiler; ./scripts/deps.sh)"
	exit 0
fi

cat >"$W/jobs.c" <<'EOF'
/* jobs N [B]: N jobs on 2 threads, each a job_start and a job_done with its
 * id, plus a note with a string that is not all UTF-8; then B blobs of 1000
 * bytes each, at a pace the recording keeps up with. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <markers.h>

static int n;

static void *worker(void *arg)
{
	for (int i = (int)(size_t)arg; i < n; i += 2) {
		trace_mark(job_start, "id %d", i);
		trace_mark(note, "id %d text %s ratio %f neg %ld", i,
			   "a \"quoted\"\tline\n\\ caf\xc3\xa9 \xff", i / 4.0, -1000000000000L * i);
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
	if (argc > 2) {
		static char blob[1001];

		for (int i = 0; i < 1000; i++)
			blob[i] = 'a' + i % 26;
		for (int i = 0; i < atoi(argv[2]); i++) {
			trace_mark(blob, "i %d data %s", i, blob);
			if (i % 256 == 255)
				usleep(2000);
		}
	}
	return 0;
}
EOF
build_prog jobs -lpthread

# check.py PFTRACE.txt JOBS [--damaged] [--no-pairs]: the decoded trace against
# what jobs emitted.  protoc's text format is parsed into dicts of lists.
cat >"$W/check.py" <<'EOF'
import codecs, collections, re, sys

def parse(text):
    toks = re.findall(r'"(?:[^"\\]|\\.)*"|[{}]|[\w.+-]+:?', text)
    pos = 0
    def msg():
        nonlocal pos
        m = collections.defaultdict(list)
        while pos < len(toks) and toks[pos] != "}":
            key = toks[pos].rstrip(":"); pos += 1
            if toks[pos] == "{":
                pos += 1; m[key].append(msg()); pos += 1
            else:
                v = toks[pos]; pos += 1
                if v.startswith('"'):
                    v = codecs.escape_decode(v[1:-1].encode())[0].decode("utf-8")
                elif re.fullmatch(r"-?\d+", v):
                    v = int(v)
                elif re.fullmatch(r"-?[\d.e+-]+|inf|-inf|nan", v):
                    v = float(v)
                m[key].append(v)
        return m
    return msg()

args = sys.argv[3:]
jobs = int(sys.argv[2])
trace = parse(open(sys.argv[1]).read())
pk = trace["packet"]
assert pk, "no packets"
assert pk[0]["sequence_flags"] == [1], "the first packet clears the incremental state"
names, fields, cats, tracks = {}, {}, {}, {}
inst = collections.defaultdict(list)
begins, ends, lost = {}, {}, 0
for p in pk:
    assert p["trusted_packet_sequence_id"] == [1], p
    for d in p.get("interned_data", []):
        for kind, table in (("event_names", names), ("debug_annotation_names", fields),
                            ("event_categories", cats)):
            for e in d.get(kind, []):
                assert e["iid"][0] not in table, ("iid defined twice", kind, e)
                table[e["iid"][0]] = e["name"][0]
    for d in p.get("track_descriptor", []):
        u = d["uuid"][0]
        assert u not in tracks, ("track declared twice", u)
        if "parent_uuid" in d:
            assert d["parent_uuid"][0] in tracks, "parent declared first"
        tracks[u] = d
    for te in p.get("track_event", []):
        assert p["sequence_flags"] == [2], "interned names need the incremental state"
        assert te["track_uuid"][0] in tracks, "every event on a declared track"
        ts = p["timestamp"][0]
        def value(a):
            for k in ("int_value", "uint_value", "double_value", "string_value", "pointer_value"):
                if k in a:
                    return a[k][0]
            if "dict_entries" in a:
                return {fields[e["name_iid"][0]]: value(e) for e in a["dict_entries"]}
            assert False, a
        ann = {fields[a["name_iid"][0]]: value(a) for a in te.get("debug_annotations", [])}
        t = te["type"][0]
        if t == "TYPE_INSTANT":
            cat = cats[te["category_iids"][0]]
            name = names[te["name_iid"][0]]
            if cat == "lost":
                assert name == "lost events" and ann["events"] >= 0
                lost += ann["events"]
                continue
            assert cat == "markers"
            inst[name].append((ts, ann, te["track_uuid"][0]))
        elif t == "TYPE_SLICE_BEGIN":
            u = te["track_uuid"][0]
            assert u not in begins or len(begins[u]) == len(ends.get(u, [])), "lanes never nest"
            begins.setdefault(u, []).append((ts, names[te["name_iid"][0]], ann))
        elif t == "TYPE_SLICE_END":
            ends.setdefault(te["track_uuid"][0], []).append((ts, ann))
        else:
            assert False, t

procs = [d for d in tracks.values() if "process" in d]
assert len(procs) == 1 and procs[0]["process"][0]["process_name"] == ["jobs"], procs
pid = procs[0]["process"][0]["pid"][0]
threads = {u: d for u, d in tracks.items() if "thread" in d}
for u, d in threads.items():
    assert d["thread"][0]["pid"] == [pid] and d["parent_uuid"] == [procs[0]["uuid"][0]], d
if threads:  # the tracer records thread ids: the two workers' events on two thread tracks
    job_tracks = {u for name in ("job_start", "note", "job_done") for ts, a, u in inst.get(name, [])}
    assert job_tracks <= set(threads), job_tracks
    # What comes before the damage may be one worker's only.
    assert len(job_tracks) == 2 or "--damaged" in args, job_tracks
# Every event the program emitted: recorded here, or counted as lost.
n = sum(len(v) for v in inst.values())
want = {"job_start": jobs, "note": jobs, "job_done": jobs}
if len(args) and args[0].isdigit():
    want["blob"] = int(args.pop(0))
if "--damaged" not in args:
    assert n + lost == sum(want.values()), (n, lost, {k: len(v) for k, v in inst.items()})
    assert set(inst) == set(want), set(inst)
else:
    assert 0 < n < sum(want.values()), n
for name, evs in inst.items():
    for ts, a, u in evs:
        if name == "note":
            assert a["text"] == 'a "quoted"\tline\n\\ caf\u00e9 \ufffd', repr(a["text"])
            assert a["ratio"] == a["id"] / 4.0 and a["neg"] == -1000000000000 * a["id"], a
        if name == "job_done":
            assert a["ptr"] == 0x1000 + a["id"], a
        if name == "blob":
            assert a["data"] == "".join(chr(97 + i % 26) for i in range(1000)), a
        else:
            assert 0 <= a["id"] < jobs
    ids = [a.get("id", a.get("i")) for ts, a, u in evs]
    assert len(set(ids)) == len(ids), ("an event twice", name)
# Slices: one per job_start/job_done pair in the trace, same times, and each
# lane's slices one after the other.
starts = {a["id"]: ts for ts, a, u in inst.get("job_start", [])}
dones = {a["id"]: ts for ts, a, u in inst.get("job_done", [])}
nslices = 0
for u, bs in begins.items():
    es = ends[u]
    assert len(bs) == len(es) and tracks[u]["name"] == ["job"], (u, tracks[u])
    prev = -1
    for (b, name, ba), (e, a) in zip(bs, es):
        assert name == "job" and prev < b <= e, (prev, b, e)
        if "--pair" in args:  # both events' fields, as dicts
            assert ba["begin"]["id"] == a["end"]["id"] and "ptr" in a["end"], (ba, a)
            a = a["end"]
        assert starts[a["id"]] == b and dones[a["id"]] == e, a
        prev = e
        nslices += 1
if "--no-pairs" in args:
    assert nslices == 0
elif "--damaged" not in args:
    assert nslices == len(set(starts) & set(dones)) > 0, (nslices, len(starts), len(dones))
print("# %d instant events on %d tracks, %d slices, %d lost" % (n, len(tracks), nslices, lost))
said = [a for a in args if a.startswith("said=")]
if said:
    want = "%d events, %d slices, %d lost" % (n, nslices, lost)
    assert said[0].endswith(want), (said[0], want)
EOF

decode() {
	protoc --decode=perfetto.protos.Trace -I"$PROTO_DIR" trace_subset.proto <"$1" >"$1.txt" 2>"$1.err" &&
		! [ -s "$1.err" ]
}

echo "1..11"
"$M" record -q -o "$W/t" -- "$W/jobs" 500 >/dev/null 2>&1
ok $? "record the jobs"
"$M" export --format=perfetto "$W/t" >"$W/t.pftrace" 2>"$W/err"
ok $? "export --format=perfetto: $(cat "$W/err")"
decode "$W/t.pftrace"
ok $? "protoc decodes it against docs/perfetto/trace_subset.proto, no warning"
python3 "$W/check.py" "$W/t.pftrace.txt" 500
ok $? "every event with its values on a declared track, names interned first, every slice"
python3 "$W/check.py" "$W/t.pftrace.txt" 500 "said=$(cat "$W/err")" >/dev/null
ok $? "the counts said on stderr are those in the file"
"$M" export --format=perfetto --no-pairs -o "$W/np.pftrace" "$W/t" 2>/dev/null &&
	decode "$W/np.pftrace" && python3 "$W/check.py" "$W/np.pftrace.txt" 500 --no-pairs
ok $? "--no-pairs and -o FILE: no slices"
"$M" export --format=perfetto --pair job_start,job_done:id -o "$W/pair.pftrace" "$W/t" 2>"$W/err" &&
	grep -q "pair job_start,job_done: 500 slices, 0 job_start without job_done, 0 job_done without job_start" "$W/err" &&
	decode "$W/pair.pftrace" && python3 "$W/check.py" "$W/pair.pftrace.txt" 500 --pair
ok $? "--pair job_start,job_done:id: a slice per pair with both events' fields"

# A damaged trace: status 1, one line, and still a valid protobuf of what came
# before (small packets, so that some come before the damage).
"$M" record -q --subbuf-size 4K -b 1M -o "$W/bad" -- "$W/jobs" 500 >/dev/null 2>&1
for f in $(find "$W/bad" -type f -name 'cpu*'); do
	[ -s "$f" ] && truncate -s $(($(stat -c %s "$f") - 7)) "$f"
done
"$M" export --format=perfetto "$W/bad" >"$W/bad.pftrace" 2>"$W/err"
rc=$?
[ $rc = 1 ] && [ "$(wc -l <"$W/err")" = 1 ] && decode "$W/bad.pftrace" &&
	python3 "$W/check.py" "$W/bad.pftrace.txt" 500 --damaged
ok $? "a truncated trace: status 1, one line, a valid protobuf of what could be read"

# Bounded memory: a trace several times larger than the exporter's peak RSS.
"$M" record -q -b 16M -o "$W/big" -- "$W/jobs" 200 40000 >/dev/null 2>&1
size=$(du -sk "$W/big" | cut -f1)
# GNU time: a small parent (a child's peak RSS counts the memory it was forked with).
# In a sanitizer build the runtime's own memory (shadow, allocator) counts
# too: what must stay small is what the big trace adds to the export of a
# small one; ASan's quarantine, which keeps freed memory, is off for both.
base=0
[ -z "${MARKERS_SANFLAGS:-}" ] || {
	ASAN_OPTIONS="quarantine_size_mb=0 ${ASAN_OPTIONS:-}" /usr/bin/time -f "%M" -o "$W/rss0" \
		"$M" export --format=perfetto "$W/t" >/dev/null 2>&1
	base=$(tail -1 "$W/rss0")
}
ASAN_OPTIONS="quarantine_size_mb=0 ${ASAN_OPTIONS:-}" \
	/usr/bin/time -f "%M" -o "$W/rss" "$M" export --format=perfetto "$W/big" >"$W/big.pftrace" 2>"$W/err"
rc=$?
rss=$(( $(tail -1 "$W/rss") - base ))
echo "# trace ${size} KiB, export ${rss} KiB peak RSS$([ $base = 0 ] || echo " over a small trace's ${base}"), $(cat "$W/err")"
case ${MARKERS_SANFLAGS:-} in
*sanitize=thread*) # TSan's shadow is 4 bytes per byte touched: of the mapped trace too
	skip "TSan: its shadow of every byte of the trace read counts in the RSS" ;;
*)
	[ $rc = 0 ] && [ "$size" -gt 20000 ] && [ "$rss" -lt $((size / 3)) ] && [ "$rss" -lt 16000 ]
	ok $? "a ${size} KiB trace exports in ${rss} KiB peak RSS (streamed)" ;;
esac
decode "$W/big.pftrace" && python3 "$W/check.py" "$W/big.pftrace.txt" 200 40000
ok $? "the large export decodes, every event and slice checked"
"$M" export --format=protobuf "$W/t" >/dev/null 2>&1
ok $([ $? = 2 ]; echo $?) "an unknown format: status 2"
exit $((fails > 0))
