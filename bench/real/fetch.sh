#!/bin/sh
# fetch.sh PACKAGE DIR - the upstream source of a Debian source package,
# unpacked into DIR (its top directory stripped), for the real-program rows
# of `make bench`.  Never part of our repository: fetched at bench time.
#
# Uses `apt-get source --download-only`; when apt has no deb-src entry, adds
# the twin of Debian's own entry (Types: deb-src, same URIs, suites and
# components) and updates the index once (root only).
set -eu
pkg=$1 dir=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/markers-src.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

download() { (cd "$tmp" && apt-get source --download-only "$pkg" >/dev/null 2>&1); }

if ! download; then
	src=/etc/apt/sources.list.d/debian.sources
	twin=/etc/apt/sources.list.d/markers-bench-src.sources
	if [ "$(id -u)" != 0 ] || [ ! -r "$src" ] || [ -e "$twin" ]; then
		echo "fetch.sh: cannot download the source of $pkg (no deb-src entry in apt?)" >&2
		exit 1
	fi
	# Debian's deb822 entries, each as deb-src (the security suite too).
	sed 's/^Types: deb$/Types: deb-src/' "$src" >"$twin"
	apt-get update -q >/dev/null 2>&1 || true
	download || { echo "fetch.sh: cannot download the source of $pkg" >&2; exit 1; }
fi
orig=$(ls "$tmp"/*.orig.tar.* 2>/dev/null | head -1)
[ -n "$orig" ] || { echo "fetch.sh: no upstream tarball for $pkg" >&2; exit 1; }
rm -rf "$dir"
mkdir -p "$dir"
tar -xf "$orig" -C "$dir" --strip-components=1
echo "fetch.sh: $(basename "$orig") into $dir" >&2
