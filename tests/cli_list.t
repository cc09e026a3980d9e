#!/bin/bash
# cli_list.t - `markers list FILE...` offline: the bundled example, an
# instrumented shared library, a -m32 program (if gcc-multilib is there),
# --json, and files that are not ELF, truncated, stripped of the marker
# sections, of an unsupported architecture, or crafted to mislead.
set -u
export LC_ALL=C
M=${MARKERS_STAGE:?}/bin/markers
B=${MARKERS_BUILD:?}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
. "$(dirname "$0")/tap.sh"
# fails_with FILE PATTERN DESCRIPTION: exit 1, exactly one line on stderr matching PATTERN.
fails_with() {
	"$M" list "$1" >"$W/out" 2>"$W/err"
	local rc=$?
	local lines
	lines=$(wc -l <"$W/err")
	[ $rc -eq 1 ] && [ "$lines" -eq 1 ] && grep -q -- "$2" "$W/err" && [ ! -s "$W/out" ]
	local r=$?
	ok $r "$3"
	[ $r = 0 ] || { echo "#   rc=$rc stderr:"; sed 's/^/#   /' "$W/err"; }
}

SVC=$B/examples/service
LIB=$B/tests/lib/libdl_markers.so

"$M" list "$SVC" >"$W/svc" 2>"$W/err"
ok $? "list the bundled example"
grep -q '^11 markers (x86-64, 64-bit)' "$W/svc"; ok $? "it has 11 markers"
grep -Eq '^db_query +[a-z]+ +1 +u32,s32 +"key %u rows %d" +examples/service.c:[0-9]+$' "$W/svc"
ok $? "db_query: kind, one site, argument types, format, file:line"
grep -Eq '^request_done .* u32,string,u64 ' "$W/svc"; ok $? "a string and a u64 argument"
line=$(grep -n 'trace_mark(db_query' "${SVC%/build/*}/examples/service.c" 2>/dev/null | cut -d: -f1)
[ -z "$line" ] && line=$(grep -n 'trace_mark(db_query' examples/service.c | cut -d: -f1)
grep -q "service.c:$line\$" "$W/svc"; ok $? "the line is the line of the source (service.c:$line)"

"$M" list --json "$SVC" >"$W/json"
python3 - "$W/json" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
m = {x["name"]: x for x in doc[0]["markers"]}
assert doc[0]["machine"] == "x86-64" and doc[0]["class"] == 64, doc[0]
assert m["db_query"]["args"] == ["u32", "s32"], m["db_query"]
assert m["db_query"]["format"] == "key %u rows %d"
assert m["request_done"]["types"] == "IsL", m["request_done"]
assert all(x["sites"] >= 1 and x["locations"][0]["line"] > 0 for x in m.values())
assert len(m) == 11
EOF
ok $? "--json is JSON with the same markers, types and lines"

if [ -e "$LIB" ]; then
	"$M" list "$LIB" "$SVC" >"$W/two" 2>"$W/err"
	ok $? "a shared library and a program in one command"
	grep -q "^$LIB:" "$W/two" && grep -q "^$SVC:" "$W/two"; ok $? "each file has its heading"
else
	ok 0 "# SKIP no test library"
	ok 0 "# SKIP no test library"
fi

# Every site kind, in a PIE and, if the toolchain can, a -m32 program.
cat >"$W/kinds.c" <<'EOF'
#include <markers.h>
int main(int argc, char **argv)
{
	trace_mark_generic(k_generic, "a %d", argc);
	trace_mark_immediate(k_immediate, "s %s", argv[0]);
	trace_mark_jump(k_jump, "x %llu y %hhd", 1ull, (signed char)2);
	for (int i = 0; i < 2; i++)
		trace_mark_generic(k_generic, "a %d", i);
	return 0;
}
EOF
cc -O2 -I"$MARKERS_STAGE/include" -o "$W/kinds" "$W/kinds.c" -L"$MARKERS_STAGE/lib" -lmarkers 2>"$W/err"
ok $? "build a program with all three site kinds"
"$M" list "$W/kinds" >"$W/k" 2>&1
grep -Eq '^k_generic +generic +2 +s32 ' "$W/k" && grep -Eq '^k_immediate +[a-z]+ +[1-9] +string ' "$W/k" &&
	grep -Eq '^k_jump +[a-z]+ +[1-9] +u64,s8 ' "$W/k"
ok $? "generic (2 sites), immediate and jump sites with their types"
[ "$(grep -c 'kinds.c:' "$W/k")" = 3 ]; ok $? "two generic sites listed with both lines"

if echo 'int main(void){return 0;}' | gcc -m32 -x c -o "$W/m32probe" - 2>/dev/null; then
	# Never run: it only has to be linked, so libmarkers' symbols may stay undefined.
	gcc -m32 -O2 -fPIE -pie -I"$MARKERS_STAGE/include" -o "$W/kinds32" "$W/kinds.c" \
		-Wl,--unresolved-symbols=ignore-all 2>"$W/err"
	"$M" list "$W/kinds32" >"$W/k32" 2>&1
	grep -q '(i386, 32-bit)' "$W/k32" && grep -Eq '^k_jump +[a-z]+ +[1-9] +u64,s8 +"x %llu y %hhd"' "$W/k32" &&
		grep -Eq '^k_generic +generic +2 ' "$W/k32"
	ok $? "a -m32 PIE: i386, 32-bit fields and REL relocations"
	gcc -m32 -O2 -no-pie -I"$MARKERS_STAGE/include" -o "$W/kinds32s" "$W/kinds.c" \
		-Wl,--unresolved-symbols=ignore-all 2>"$W/err"
	"$M" list "$W/kinds32s" | grep -Eq '^k_immediate +[a-z]+ +[1-9] +string'
	ok $? "a -m32 non-PIE program"
else
	ok 0 "# SKIP no gcc-multilib"
	ok 0 "# SKIP no gcc-multilib"
fi

# Broken and hostile files.
printf 'root:x:0:0::/root:/bin/sh\n' >"$W/text"
fails_with "$W/text" ': not an ELF file$' "a text file: not an ELF file"
: >"$W/empty"
fails_with "$W/empty" 'not an ELF file' "an empty file"
fails_with "$W/nonexistent" 'No such file' "a missing file"
head -c 3000 "$SVC" >"$W/trunc"
fails_with "$W/trunc" 'truncated' "a truncated program"
head -c 40 "$SVC" >"$W/trunc2"
fails_with "$W/trunc2" 'truncated' "a file cut inside its ELF header"
objcopy --remove-section=__markers --remove-section=__markers_strings \
	--remove-section=__markers_sites "$SVC" "$W/stripped" 2>/dev/null
fails_with "$W/stripped" 'no markers' "stripped of the marker sections"
fails_with /bin/true 'no markers' "a program without markers"
fails_with "$MARKERS_STAGE/lib/libmarkers.a" 'not an ELF file' "an archive"

# Crafted files: edit the example through its section headers.
cat >"$W/craft.py" <<'EOF'
import struct, sys
src, dst, what = sys.argv[1:4]
b = bytearray(open(src, "rb").read())
shoff, = struct.unpack_from("<Q", b, 0x28)
shentsize, shnum, shstrndx = struct.unpack_from("<HHH", b, 0x3a)
def sh(i):
    return struct.unpack_from("<IIQQQQIIQQ", b, shoff + i * shentsize)
stroff = sh(shstrndx)[4]
secs = {}
for i in range(shnum):
    s = sh(i)
    name = b[stroff + s[0]:b.index(0, stroff + s[0])].decode()
    secs[name] = (i, s)
mi, m = secs["__markers"]
si, s = secs["__markers_strings"]
if what == "machine":
    struct.pack_into("<H", b, 18, 40)             # EM_ARM
elif what == "name-outside":
    struct.pack_into("<Q", b, m[4] + 8, 0xdeadbeef000)
elif what == "unterminated":
    b[s[4]:s[4] + s[5]] = b"A" * s[5]
elif what == "huge":
    struct.pack_into("<Q", b, shoff + mi * shentsize + 32, 1 << 60)   # sh_size
elif what == "nargs":
    b[m[4] + 5] = 200
elif what == "kind":
    b[m[4] + 4] = 9
elif what == "site-pointer":
    ti, t = secs["__markers_sites"]
    struct.pack_into("<Q", b, t[4] + 16, m[3] + 4)      # into a descriptor, misaligned
elif what == "nobits":
    struct.pack_into("<I", b, shoff + si * shentsize + 4, 8)   # SHT_NOBITS
open(dst, "wb").write(b)
EOF
craft() { python3 "$W/craft.py" "$SVC" "$W/$1" "$1"; }
craft machine && fails_with "$W/machine" 'unsupported architecture' "another architecture (ARM)"
craft name-outside && fails_with "$W/name-outside" 'outside __markers_strings' \
	"a name pointer outside the strings section"
craft unterminated && fails_with "$W/unterminated" 'unterminated' "strings without a NUL"
craft huge && fails_with "$W/huge" 'truncated\|implausibl' "a section size of 2^60"
craft nargs && fails_with "$W/nargs" 'corrupt marker section' "200 arguments"
craft kind && fails_with "$W/kind" 'site kind 9' "an unknown site kind"
if python3 "$W/craft.py" "$SVC" "$W/site-pointer" site-pointer 2>/dev/null; then
	fails_with "$W/site-pointer" 'not to a descriptor' "a site record pointing into a descriptor"
else
	ok 0 "# SKIP the example has no patchable sites"
fi
craft nobits && fails_with "$W/nobits" 'has no bytes' "a strings section without bytes"

# One bad file among good ones: the good ones are listed, the status is 1.
"$M" list "$SVC" "$W/text" >"$W/out" 2>"$W/err"
[ $? -eq 1 ] && grep -q '^11 markers' "$W/out" && [ "$(wc -l <"$W/err")" -eq 1 ]
ok $? "a bad file among good ones: the others listed, exit 1"

"$M" list --help >"$W/out"; [ $? -eq 0 ] && grep -q 'usage: markers list' "$W/out"
ok $? "--help, exit 0"
"$M" list >/dev/null 2>&1; [ $? -eq 2 ]; ok $? "no file: usage, exit 2"
"$M" list --bogus "$SVC" >/dev/null 2>&1; [ $? -eq 2 ]; ok $? "an unknown option: exit 2"
"$M" list -p 12x >/dev/null 2>"$W/err"; [ $? -eq 2 ] && grep -q 'not a process id' "$W/err"
ok $? "-p with a bad pid: exit 2"
echo "1..$n"
