#!/bin/bash
# cli_view.t - `markers view` against babeltrace2 on traces written to the
# documented layout (docs/trace-format.md) by an independent generator, and
# on broken traces: truncated, garbled, not a trace at all.
set -u
export LC_ALL=C
M=${MARKERS_STAGE:?}/bin/markers
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
. "$(dirname "$0")/tap.sh"
# The command ended by itself with a status (0 or 1), not by a signal or a timeout.
clean_exit() { [ "$1" -eq 0 ] || [ "$1" -eq 1 ]; }

cat >"$W/gen.py" <<'EOF'
# gen.py DIR NEV SEED [LOST_AT] - a CTF 1.8 trace in the tracer's layout,
# every event also printed to DIR.expect as "ts cpu name k=v..." lines.
import os, random, struct, sys, uuid

d, nev, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
lost_at = int(sys.argv[4]) if len(sys.argv) > 4 else -1
rnd = random.Random(seed)
uid = uuid.UUID(int=rnd.getrandbits(128))
events = [("request_start", [("id", "I"), ("key", "I")]),
          ("request_done", [("id", "I"), ("status", "s"), ("latency_ns", "L")]),
          ("tick", []),
          ("mixed", [("a", "b"), ("b", "h"), ("c", "l"), ("f", "f"), ("d", "d"), ("p", "p"),
                     ("u8", "B"), ("u16", "H"), ("neg", "i")])]
events += [("ev%d" % k, [("v", "i")]) for k in range(36)]  # ids >= 31: extended headers
tname = dict(b="int8_t", B="uint8_t", h="int16_t", H="uint16_t", i="int32_t", I="uint32_t",
             l="int64_t", L="uint64_t", f="float32_t", d="float64_t", p="xptr64_t", s="string")
fmt = dict(b="<b", B="<B", h="<h", H="<H", i="<i", I="<I", l="<q", L="<Q", f="<f", d="<d", p="<Q")
bits = dict(b=8, B=8, h=16, H=16, i=32, I=32, l=64, L=64, p=64)
md = ["/* CTF 1.8 */\n\n"]
for name, size, signed in [("int8_t", 8, 1), ("uint8_t", 8, 0), ("int16_t", 16, 1),
                           ("uint16_t", 16, 0), ("int32_t", 32, 1), ("uint32_t", 32, 0),
                           ("int64_t", 64, 1), ("uint64_t", 64, 0)]:
    md.append("typealias integer { size = %d; align = 8; signed = %s; } := %s;\n"
              % (size, "true" if signed else "false", name))
md.append("""typealias integer { size = 5; align = 1; signed = false; } := uint5_t;
typealias integer { size = 64; align = 8; signed = false; base = 16; } := xptr64_t;
typealias floating_point { exp_dig = 8; mant_dig = 24; align = 8; } := float32_t;
typealias floating_point { exp_dig = 11; mant_dig = 53; align = 8; } := float64_t;

trace {
	major = 1;
	minor = 8;
	uuid = "%s";
	byte_order = le;
	packet.header := struct {
		uint32_t magic;
		uint8_t uuid[16];
		uint32_t stream_id;
	};
};

env {
	tracer_name = "markers";
	procname = "gen";
	vpid = 4242;
};

clock {
	name = "markers";
	freq = 1000000000;
	offset_s = 1700000000;
	offset = 0;
	absolute = true;
};

typealias integer { size = 27; align = 1; signed = false; map = clock.markers.value; } := uint27_clock_t;
typealias integer { size = 64; align = 8; signed = false; map = clock.markers.value; } := uint64_clock_t;

struct packet_context {
	uint64_clock_t timestamp_begin;
	uint64_clock_t timestamp_end;
	uint64_t content_size;
	uint64_t packet_size;
	uint64_t packet_seq_num;
	uint64_t events_discarded;
	uint32_t cpu_id;
} align(8);

struct event_header_compact {
	enum : uint5_t { compact = 0 ... 30, extended = 31 } id;
	variant <id> {
		struct {
			uint27_clock_t timestamp;
		} compact;
		struct {
			uint32_t id;
			uint64_clock_t timestamp;
		} extended;
	} v;
} align(8);

stream {
	id = 0;
	event.header := struct event_header_compact;
	packet.context := struct packet_context;
};
""" % uid)
for i, (name, fields) in enumerate(events):
    md.append('\nevent {\n\tname = "%s";\n\tid = %d;\n\tstream_id = 0;\n\tloglevel = 13;\n'
              '\tmodel.emf.uri = "gen.c:%d";\n\tfields := struct {\n' % (name, i, i))
    md += ["\t\t%s _%s;\n" % (tname[t], f) for f, t in fields]
    md.append("\t};\n};\n")
os.makedirs(d, exist_ok=True)
open(os.path.join(d, "metadata"), "w").write("".join(md))
expect = []
for cpu in range(2):
    t, out, cur, seq, disc, tb, first = 1000 + cpu * 7, bytearray(), [], 0, 0, 1000, True
    for k in range(nev):
        t += rnd.choice([1, 5, 100, 3000, 1 << 20]) if k % 97 else (1 << 28) + 5
        ei = rnd.randrange(len(events))
        name, fields = events[ei]
        payload, vals = b"", []
        for f, c in fields:
            if c == "s":
                v = rnd.choice(["cached", "fetched", "", 'quo"te\\', "tab\there"])
                payload += v.encode() + b"\0"
            elif c in "fd":
                v = rnd.choice([0.5, -1.25, 3.141592653589793, 0.1, 1e30])
                payload += struct.pack(fmt[c], v)
                v = struct.unpack(fmt[c], struct.pack(fmt[c], v))[0]
            else:
                lo = -(1 << (bits[c] - 1)) if c in "bhil" else 0
                v = rnd.randrange(lo, lo + (1 << bits[c]))
                payload += struct.pack(fmt[c], v)
            vals.append((f, v))
        if first or ei >= 31 or t - prev >= 1 << 27:
            hdr = struct.pack("<BIQ", 31, ei, t)
        else:
            hdr = struct.pack("<I", ei | (t & ((1 << 27) - 1)) << 5)
        first, prev = False, t
        cur.append(hdr + payload)
        expect.append((t, cpu, name, vals))
        if len(cur) == 50 or k == nev - 1:
            if seq == lost_at:
                disc += 17
            body = b"".join(cur)
            size = (76 + len(body)) * 8
            out += struct.pack("<I", 0xC1FC1FC1) + uid.bytes + struct.pack("<I", 0)
            out += struct.pack("<QQQQQQI", tb, t, size, size, seq, disc, cpu) + body
            seq, cur, tb, first = seq + 1, [], t + 1, True
    open(os.path.join(d, "cpu%d" % cpu), "wb").write(out)
with open(d + ".expect", "w") as f:
    for t, cpu, name, vals in sorted(expect, key=lambda e: (e[0], e[1])):
        f.write("%d %d %s %s\n" % (t, cpu, name, " ".join("%s=%r" % kv for kv in vals)))
EOF

cat >"$W/cmp.py" <<'EOF'
# cmp.py VIEW BT2 [EXPECT] - the same events with the same values in the output of
# `markers view --seconds`, of `babeltrace2 --clock-seconds`, and (if given) the generator.
import re, sys

def num(s):
    s = s.strip()
    if s.startswith('"'):
        return bytes(s[1:-1], "utf-8").decode("unicode_escape")
    if s.lower().startswith("0x"):
        return int(s, 16)
    try:
        return int(s)
    except ValueError:
        return float(s)

def same(a, b, bt2=False):
    # babeltrace2 2.0 shows an empty string as the previous event's value of
    # the field (fixed upstream after 2.0.4, the version of Debian 12).
    if bt2 and a == "" and isinstance(b, str):
        return True
    if isinstance(a, float) or isinstance(b, float):
        return abs(a - b) <= 1e-5 * max(abs(a), abs(b), 1e-300)
    return a == b

val = r'("(?:[^"\\]|\\.)*"|[^ ,]+)'
def view(path):
    out = []
    for line in open(path):
        m = re.match(r"^(\d+)\.(\d{9}) cpu(\d+) \S+ (\S+)(.*)$", line.rstrip("\n"))
        if not m or m.group(4) == "***":
            continue
        fields = [(k, num(v)) for k, v in re.findall(r" (\w+)=" + val, m.group(5))]
        out.append((int(m.group(1)) * 10**9 + int(m.group(2)), int(m.group(3)), m.group(4), fields))
    return out

def bt2(path):
    out = []
    for line in open(path):
        m = re.match(r"^\[(\d+)\.(\d{9})\] (?:\S+ )?(\w+): \{ cpu_id = (\d+) \}(?:, \{ ?(.*?) ?\})?$",
                     line.rstrip("\n"))
        if not m:
            continue
        fields = [(k, num(v)) for k, v in re.findall(r"(\w+) = " + val, m.group(5) or "")]
        out.append((int(m.group(1)) * 10**9 + int(m.group(2)), int(m.group(4)), m.group(3), fields))
    return out

def gen(path):
    out = []
    for line in open(path):
        t, cpu, name, rest = (line.rstrip("\n").split(" ", 3) + [""])[:4]
        fields = [(k, eval(v)) for k, v in re.findall(r"(\w+)=('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|\S+)", rest)]
        out.append((1700000000 * 10**9 + int(t), int(cpu), name, fields))
    return out

def key(e):
    return (e[0], e[1], e[2], repr(e[3]))

def compare(a, b, what):
    if len(a) != len(b):
        sys.exit("%s: %d events against %d" % (what, len(a), len(b)))
    for x, y in zip(sorted(a, key=key), sorted(b, key=key)):
        if x[:3] != y[:3] or len(x[3]) != len(y[3]) or any(
                k1 != k2 or not same(v1, v2, "babeltrace2" in what) for (k1, v1), (k2, v2) in zip(x[3], y[3])):
            sys.exit("%s: differ:\n  %r\n  %r" % (what, x, y))

v = view(sys.argv[1])
if not v:
    sys.exit("no events in the view")
compare(v, bt2(sys.argv[2]), "view vs babeltrace2")
if len(sys.argv) > 3:
    compare(v, gen(sys.argv[3]), "view vs generator")
print("# %d events agree" % len(v))
EOF

echo "1..26"

T=$W/t1
python3 "$W/gen.py" "$T" 400 1 1
"$M" view --seconds "$T" >"$W/view.txt" 2>"$W/view.err"
ok $? "view reads a generated trace"
babeltrace2 --clock-seconds --no-delta "$T" >"$W/bt2.txt" 2>/dev/null
python3 "$W/cmp.py" "$W/view.txt" "$W/bt2.txt" "$T.expect"
ok $? "view and babeltrace2 print the same events with the same values"
[ "$(grep -c '\*\*\* lost 17 events' "$W/view.txt")" = 2 ]
ok $? "a lost-events notice per stream, from events_discarded"
sort -c -k1,1n "$W/view.txt" 2>/dev/null
ok $? "merged in timestamp order"
[ "$(wc -l <"$W/view.txt")" = $((800 + 2)) ]
ok $? "every event once"

"$M" view --name 'request_*' --name tick "$T" >"$W/f.txt"
want=$(grep -cE ' (request_[a-z]+|tick)( |$)' "$W/view.txt")
got=$(grep -cE ' (request_[a-z]+|tick)( |$)' "$W/f.txt")
[ "$want" -gt 0 ] && [ "$want" = "$got" ] && ! grep -q ' ev[0-9]' "$W/f.txt"
ok $? "--name keeps only the matching markers ($got)"
[ "$("$M" view --limit 7 "$T" | wc -l)" = 7 ]
ok $? "--limit 7 prints 7 events"

"$M" view --help >"$W/help" && grep -q 'usage: markers view' "$W/help"
ok $? "--help"
"$M" view --bogus "$T" >/dev/null 2>&1
[ $? = 2 ]
ok $? "an unknown option is a usage error (2)"
"$M" view >/dev/null 2>&1
[ $? = 2 ]
ok $? "no trace is a usage error (2)"

one_line_error() { # CMD... : status 1 and exactly one line on stderr
	"$@" >/dev/null 2>"$W/err"
	local rc=$?
	[ $rc = 1 ] && [ "$(wc -l <"$W/err")" = 1 ] || { echo "# status $rc: $(head -c 300 "$W/err")"; return 1; }
}
one_line_error "$M" view "$W/nonexistent"
ok $? "a missing directory: one line, status 1"
mkdir "$W/empty"
one_line_error "$M" view "$W/empty" && grep -q 'not a trace' "$W/err"
ok $? "a directory without metadata: not a trace"

cp -r "$T" "$W/trunc"
truncate -s $(($(stat -c %s "$W/trunc/cpu0") - 100)) "$W/trunc/cpu0"
one_line_error "$M" view "$W/trunc" && grep -q truncated "$W/err"
ok $? "a truncated stream: one line naming it, status 1"

cp -r "$T" "$W/magic"
printf '\xde\xad\xbe\xef' | dd of="$W/magic/cpu1" bs=1 seek=0 conv=notrunc 2>/dev/null
one_line_error "$M" view "$W/magic" && grep -q magic "$W/err"
ok $? "a garbled packet header: bad magic, status 1"

cp -r "$T" "$W/meta"
head -c 2000 "$T/metadata" >"$W/meta/metadata"
one_line_error "$M" view "$W/meta" && grep -q metadata "$W/err"
ok $? "truncated metadata: one line, status 1"

cp -r "$T" "$W/meta2"
sed -i 's/minor = 8;/minor = 9;/' "$W/meta2/metadata"
one_line_error "$M" view "$W/meta2"
ok $? "metadata of another CTF version: status 1"

cp -r "$T" "$W/ids"
sed -i 's/name = "tick";/name = "tick";\n\tid = 1;/; s/\tid = 2;//' "$W/ids/metadata"
one_line_error "$M" view "$W/ids"
ok $? "metadata with a duplicate event id: status 1"

cp -r "$T" "$W/noev"
: >"$W/noev/cpu0"
: >"$W/noev/cpu1"
[ -z "$("$M" view "$W/noev")" ]
ok $? "empty stream files: no events, status 0"

# Random damage: every run must end by itself with 0 or 1, within a few seconds.
bad=0
for i in $(seq 1 60); do
	rm -rf "$W/fz" && cp -r "$T" "$W/fz"
	python3 - "$W/fz" "$i" <<'EOF'
import os, random, sys
d, r = sys.argv[1], random.Random(int(sys.argv[2]))
f = os.path.join(d, r.choice(["cpu0", "cpu1", "cpu0", "cpu1", "metadata"]))
b = bytearray(open(f, "rb").read())
for _ in range(r.choice([1, 4, 32])):
    b[r.randrange(len(b))] = r.randrange(256)
if r.random() < 0.3:
    b = b[:r.randrange(len(b))]
open(f, "wb").write(b)
EOF
	timeout 20 "$M" view "$W/fz" >/dev/null 2>"$W/err"
	rc=$?
	clean_exit $rc || { bad=$((bad + 1)); echo "# damage $i: status $rc $(head -c 200 "$W/err")"; }
done
ok $bad "60 randomly damaged traces: never a crash or a hang"

# Packetized metadata (as LTTng writes it) reads the same.
python3 - "$T" "$W/pk" <<'EOF'
import os, shutil, struct, sys
src, dst = sys.argv[1], sys.argv[2]
shutil.copytree(src, dst)
text = open(os.path.join(src, "metadata"), "rb").read()
out = b""
for i in range(0, len(text), 1000):
    chunk = text[i:i + 1000]
    size = (37 + len(chunk)) * 8
    out += struct.pack("<I16sIIIBBBBB", 0x75D11D57, b"\0" * 16, 0, size, size + 64, 0, 0, 0, 1, 8)
    out += chunk + b"\0" * 8
open(os.path.join(dst, "metadata"), "wb").write(out)
EOF
"$M" view --seconds "$W/pk" | cmp -s - "$W/view.txt"
ok $? "packetized metadata reads the same"
# A recording of several processes: one trace per process below DIR, read as one.
mkdir -p "$W/multi/gen-4242-1" "$W/multi/sub/other-777-2"
cp -r "$T"/metadata "$T"/cpu* "$W/multi/gen-4242-1/"
python3 "$W/gen.py" "$W/t2" 300 7
sed 's/vpid = 4242;/vpid = 777;/; s/procname = "gen";/procname = "other";/' "$W/t2/metadata" >"$W/multi/sub/other-777-2/metadata"
cp "$W/t2"/cpu* "$W/multi/sub/other-777-2/"
"$M" view --seconds "$W/multi" >"$W/multi.txt" 2>"$W/multi.err"
[ $? = 0 ] && [ ! -s "$W/multi.err" ] &&
	[ "$(grep -c ' 4242/' "$W/multi.txt")" = "$(grep -vc '\*\*\*' "$W/view.txt")" ] &&
	[ "$(grep -c ' 777/' "$W/multi.txt")" = 600 ] && sort -c -k1,1n "$W/multi.txt"
ok $? "a directory of two process traces: every event of both, merged in time order"
babeltrace2 "$W/multi" 2>"$W/bt.err" | wc -l >"$W/btn"
[ "$(cat "$W/btn")" = "$(grep -vc '\*\*\*' "$W/multi.txt")" ] && ! grep -v 'Tracer discarded 17 events' "$W/bt.err"
ok $? "babeltrace2 reads the same directory: as many events, no warning but the losses"
"$M" view "$W/multi" --pid 777 --seconds >"$W/p777.txt" &&
	[ "$(wc -l <"$W/p777.txt")" = 600 ] && ! grep -q ' 4242' "$W/p777.txt"
ok $? "view DIR --pid: one process (options after the directory)"
"$M" stats "$W/multi" >"$W/ms.txt" && grep -q '^processes 2' "$W/ms.txt" &&
	grep -qE '^ +777  other +600 ' "$W/ms.txt" && grep -qE '^ +4242  gen ' "$W/ms.txt"
ok $? "stats: a row per process"
"$M" stats -p 9 "$W/multi" >/dev/null 2>"$W/err"
[ $? = 1 ] && grep -q 'no process 9' "$W/err"
ok $? "--pid of a process not in the recording: status 1, says which"
# The histogram ends with the trace: its last row holds the last event.
"$M" stats "$W/t2" --rows 20 >"$W/h.txt"
last=$(grep '^  +.* s |' "$W/h.txt" | tail -1 | awk '{print $NF}')
[ "$(grep -c '^  +.* s |' "$W/h.txt")" -le 20 ] && [ "${last:-0}" != 0 ]
ok $? "stats histogram: no empty rows past the end"
exit $((fails > 0))
