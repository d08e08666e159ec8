#!/usr/bin/env bash
# Builds the Debian 12 root the package tests install into (debootstrap
# minbase with systemd, adduser and init-system-helpers, about a minute) and
# keeps it as a tarball: $1, default <cache>/debian-bookworm-minbase-systemd.tar
# where <cache> is testenv.CacheDir(). Does nothing when the tarball exists.
# Root only. DEBIAN_MIRROR overrides the mirror.
set -euo pipefail
cache="${PROBITY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/probity}"
out=${1:-$cache/debian-bookworm-minbase-systemd.tar}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
if [ -f "$out" ]; then
	echo "mkrootfs: $out exists"
	exit 0
fi
mkdir -p "$(dirname "$out")"
tmp=$(mktemp -d "$(dirname "$out")/rootfs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
debootstrap --variant=minbase --include=systemd,adduser,init-system-helpers \
	bookworm "$tmp/root" "$mirror" >"$tmp/log" 2>&1 || { tail -20 "$tmp/log" >&2; exit 1; }
# The downloaded .debs are not needed to install into the root.
rm -f "$tmp"/root/var/cache/apt/archives/*.deb
tar --numeric-owner -C "$tmp/root" -cf "$tmp/rootfs.tar" .
mv "$tmp/rootfs.tar" "$out"
echo "mkrootfs: $out ($(du -h "$out" | cut -f1))"
