#!/bin/sh
# deps.sh [TIER...] - install the Debian 12 packages a tier needs (as root).
# Tiers: base (build and fast tests), i386, aarch64, san, bench.
# Installs only what is missing; an index that fails to download does not
# stop us when the packages themselves install.
set -e
tiers=${*:-base}
pkgs=""
for t in $tiers; do
	case $t in
	base) pkgs="$pkgs gcc g++ make perl pkg-config liburcu-dev libelf-dev babeltrace2 clang python3 gdb" ;;
	i386) pkgs="$pkgs gcc-multilib g++-multilib liburcu-dev:i386" ;;
	aarch64) pkgs="$pkgs gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user liburcu-dev:arm64" ;;
	san) pkgs="$pkgs libclang-rt-14-dev" ;;
	bench) pkgs="$pkgs valgrind liblttng-ust-dev lttng-tools systemtap-sdt-dev" ;;
	*) echo "deps.sh: unknown tier $t" >&2; exit 2 ;;
	esac
done
missing=""
for p in $pkgs; do
	dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
case "$tiers" in *i386*) dpkg --add-architecture i386 ;; esac
case "$tiers" in *aarch64*) dpkg --add-architecture arm64 ;; esac
if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null 2>&1 || echo "deps.sh: apt-get update reported errors; trying anyway" >&2
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
