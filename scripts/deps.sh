#!/bin/sh
# deps.sh [TIER...] - install the Debian 12 packages a tier needs (as root).
# Tiers: base (build and fast tests), i386, aarch64, san, bench.
# Installs only what is missing; an index that fails to download does not
# stop us when the packages themselves install.
set -e
tiers=${*:-base}
pkgs=""
# Libraries that may also be present for another architecture are named
# with the native one, or dpkg cannot tell which is meant.
arch=$(dpkg --print-architecture)
for t in $tiers; do
	case $t in
	base) pkgs="$pkgs gcc g++ make perl pkg-config libelf-dev:$arch babeltrace2 clang python3 gdb lttng-tools protobuf-compiler time bpftrace mount e2fsprogs btrfs-progs" ;;
	i386) pkgs="$pkgs gcc-multilib g++-multilib" ;;
	aarch64) pkgs="$pkgs gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user" ;;
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
if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null 2>&1 || echo "deps.sh: apt-get update reported errors; trying anyway" >&2
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
