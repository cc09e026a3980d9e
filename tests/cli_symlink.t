#!/bin/bash
# cli_symlink.t - another user plants links where the tracer creates files.
# As root (the worst victim), with `nobody` as the attacker: a trace
# directory of theirs, or one they may write into, is refused (library:
# no recording; CLI: one line, status 1); in a sticky directory every name
# the tracer creates may be planted as a link to a file of the victim, and
# the trace is still written and the file untouched; recovery follows only
# the links it made; the control directory and MARKERS_PRINT_FILE follow no
# link either.
set -u
export LC_ALL=C
M=${MARKERS_STAGE:?}/bin/markers
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
. "$(dirname "$0")/tap.sh"

if [ "$(id -u)" != 0 ] || ! id nobody >/dev/null 2>&1 || ! command -v setpriv >/dev/null; then
	echo "1..0 # SKIP needs root, the user nobody and setpriv to act as a second user"
	exit 0
fi
chmod 755 "$W"
as_nobody() { setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups -- "$@"; }
ncpu=$(getconf _NPROCESSORS_CONF)

cat >"$W/emit.c" <<'EOF'
/* emit N [MS]: N events, then sleep MS milliseconds. */
#include <stdlib.h>
#include <unistd.h>
#include <markers.h>

int main(int argc, char **argv)
{
	int n = atoi(argv[1]);

	for (int i = 0; i < n; i++)
		trace_mark(t_sym, "i %d", i);
	if (argc > 2)
		usleep(atoi(argv[2]) * 1000);
	return 0;
}
EOF
cat >"$W/recover.c" <<'EOF'
/* recover DIR: print marker_tracer_recover(DIR). */
#include <stdio.h>
#include <markers/tracer.h>

int main(int argc, char **argv)
{
	printf("%d\n", marker_tracer_recover(argv[1]));
	return 0;
}
EOF
for p in emit recover; do
	build_prog $p
done
victim() { printf 'precious\n' >"$W/victim"; chmod 644 "$W/victim"; }
victim_intact() { [ -f "$W/victim" ] && [ ! -L "$W/victim" ] && [ "$(cat "$W/victim")" = precious ]; }
# plant DIR: links to the victim under every name the tracer creates in DIR
plant() {
	local d=$1
	as_nobody ln -s "$W/victim" "$d/.stats.tmp"
	as_nobody ln -s "$W/victim" "$d/.metadata.tmp"
	as_nobody ln -s "$W/victim" "$d/metadata"
	as_nobody ln -s "$W/victim" "$d/.stats"
	for ((i = 0; i < ncpu; i++)); do as_nobody ln -s "$W/victim" "$d/cpu$i"; done
}
# record_env DIR [ENV...]: the program records by itself into DIR
record_env() {
	local d=$1
	shift
	env MARKERS_RECORD='*' MARKERS_RECORD_DIR="$d" MARKERS_VERBOSE=1 "$@" "$W/emit" 1000 \
		>"$W/out" 2>"$W/err"
}
echo "1..17"

# The issue's attack: DIR is nobody's (mode 777); .stats.tmp links to root's file.
victim
mkdir "$W/theirs" && chown nobody "$W/theirs" && chmod 777 "$W/theirs"
plant "$W/theirs"
record_env "$W/theirs"
rc=$?
victim_intact && [ $rc = 0 ] && [ -z "$(find "$W/theirs" -user root)" ]
ok $? "a directory of another user's: not used, root's file untouched (status $rc; $(cat "$W/victim" | head -c 50))"
grep -q "cannot record into $W/theirs: Operation not permitted" "$W/err"
ok $? "... and MARKERS_VERBOSE says why: $(head -1 "$W/err")"

# Ours, but writable by others without the sticky bit.
victim
mkdir "$W/open" && chmod 777 "$W/open"
plant "$W/open"
record_env "$W/open"
victim_intact && [ -z "$(find "$W/open" -user root ! -path "$W/open")" ]
ok $? "a directory of ours that others may write (no sticky bit): not used, the file untouched"

# markers record says it in one line, status 1, for both; nothing is created.
rm -rf "$W/theirs"/* "$W/theirs"/.[!.]* "$W/open"/* "$W/open"/.[!.]*
"$M" record -q -o "$W/theirs" -- "$W/emit" 10 >/dev/null 2>"$W/err"
rc=$?
[ $rc = 1 ] && [ "$(wc -l <"$W/err")" = 1 ] && grep -q "belongs to another user" "$W/err" &&
	[ -z "$(ls -A "$W/theirs")" ]
ok $? "markers record -o (another user's directory): status $rc, one line: $(cat "$W/err")"
"$M" record -q -o "$W/open" -- "$W/emit" 10 >/dev/null 2>"$W/err"
rc=$?
[ $rc = 1 ] && [ "$(wc -l <"$W/err")" = 1 ] && grep -q "can be written by other users" "$W/err"
ok $? "markers record -o (writable by others): status $rc, one line: $(cat "$W/err")"
ln -s "$W/theirs" "$W/link-to-theirs"
"$M" record -q -o "$W/link-to-theirs" -- "$W/emit" 10 >/dev/null 2>"$W/err"
[ $? = 1 ] && grep -q "belongs to another user" "$W/err"
ok $? "markers record -o (a link to another user's directory): refused: $(cat "$W/err")"

# A sticky directory of ours: others may add names, the tracer removes them, follows none.
victim
mkdir "$W/sticky" && chmod 1777 "$W/sticky"
mkdir "$W/victimdir" && echo keep >"$W/victimdir/file"
plant "$W/sticky"
as_nobody ln -s "$W/victimdir" "$W/sticky/.buffers"
record_env "$W/sticky"
rc=$?
victim_intact && [ "$(ls -A "$W/victimdir")" = file ]
ok $? "sticky directory, every name planted as a link to root's file: the file untouched (status $rc)"
cnt=$("$M" view "$W/sticky" 2>"$W/verr" | grep -c ' t_sym ')
[ "$cnt" = 1000 ] && [ -z "$(find "$W/sticky" -type l)" ]
ok $? "... and the trace is whole: $cnt of 1000 events, no link left ($(head -c 200 "$W/verr"))"
babeltrace2 "$W/sticky" >/dev/null 2>&1
ok $? "... babeltrace2 reads it"
# .buffers planted as a directory of theirs: refused, nothing written.
victim
rm -rf "$W/sticky"/* "$W/sticky"/.[!.]*
as_nobody mkdir -m 777 "$W/sticky/.buffers"
as_nobody ln -s "$W/victim" "$W/sticky/.buffers/lock"
as_nobody ln -s "$W/victim" "$W/sticky/.buffers/session"
record_env "$W/sticky"
victim_intact && [ ! -e "$W/sticky/metadata" ]
ok $? "sticky directory, .buffers/ planted as another user's directory: not used, the file untouched"

# Recovery follows only the links the tracer makes, in a directory of ours.
victim
mkdir -p "$W/fake/.buffers" && chmod 700 "$W/fake/.buffers"
ln -s "$W/victim" "$W/fake/.buffers/session"
for ((i = 0; i < ncpu; i++)); do ln -s "$W/victim" "$W/fake/.buffers/cpu$i"; done
r=$("$W/recover" "$W/fake")
victim_intact && [ "$r" = -22 ]
ok $? "recovery of a directory whose buffer links point elsewhere: -EINVAL ($r), the file kept"
mkdir -p "$W/fake2/.buffers" && chmod 700 "$W/fake2/.buffers" && ln -s "$W/victim" "$W/fake2/.buffers/session"
chown -R nobody "$W/fake2"
r=$("$W/recover" "$W/fake2")
victim_intact && [ "$r" = -1 ]
ok $? "recovery of another user's directory: -EPERM ($r), the file kept"

# The control directory: a planted link or another user's directory is not used.
mkdir -m 700 "$W/ctl-target" && chown nobody "$W/ctl-target"
ln -s "$W/ctl-target" "$W/ctl-link"
MARKERS_CONTROL_DIR="$W/ctl-link" MARKERS_VERBOSE=1 "$W/emit" 10 300 2>"$W/err"
[ -z "$(ls -A "$W/ctl-target")" ] && grep -q "control channel off" "$W/err"
ok $? "control directory planted as a link: not used ($(head -1 "$W/err"))"
MARKERS_CONTROL_DIR="$W/ctl-target" MARKERS_VERBOSE=1 "$W/emit" 10 300 2>"$W/err"
[ -z "$(ls -A "$W/ctl-target")" ] && grep -q "control channel off" "$W/err"
ok $? "control directory of another user: not used ($(head -1 "$W/err"))"

# MARKERS_PRINT_FILE: a planted link, another user's file: stderr instead.
victim
mkdir "$W/pshared" && chmod 1777 "$W/pshared"
as_nobody ln -s "$W/victim" "$W/pshared/print.log"
MARKERS_PRINT='t_sym' MARKERS_PRINT_FILE="$W/pshared/print.log" "$W/emit" 5 2>"$W/err"
victim_intact && [ "$(grep -c '^t_sym: i ' "$W/err")" = 5 ]
ok $? "MARKERS_PRINT_FILE planted as a link: not followed, the lines on stderr"
as_nobody sh -c "echo theirs >'$W/pshared/other.log'; chmod 666 '$W/pshared/other.log'"
MARKERS_PRINT='t_sym' MARKERS_PRINT_FILE="$W/pshared/other.log" "$W/emit" 5 2>"$W/err"
[ "$(cat "$W/pshared/other.log")" = theirs ] && [ "$(grep -c '^t_sym: i ' "$W/err")" = 5 ]
ok $? "MARKERS_PRINT_FILE another user's file: not written into, the lines on stderr"
MARKERS_PRINT='t_sym' MARKERS_PRINT_FILE="$W/mine.log" "$W/emit" 5 2>"$W/err"
[ "$(grep -c '^t_sym: i ' "$W/mine.log")" = 5 ]
ok $? "MARKERS_PRINT_FILE of ours: the lines are there"
exit $((fails > 0))
