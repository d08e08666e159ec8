#!/usr/bin/env bash
# Installs the system packages the integration tests use (Debian 12, as
# root). Safe to run again: apt skips what is installed.
set -euo pipefail
pkgs=(iproute2 iptables nftables iputils-ping ca-certificates iperf3 ethtool snmpd snmp snmpsim e2guardian dnsmasq-base chromium poppler-utils curl debootstrap qemu-user-static openssh-server postgresql)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup-test: need root to install: ${missing[*]} (or install them yourself)" >&2
    exit 1
  fi
  echo "setup-test: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "setup-test: system packages present: ${pkgs[*]}"

# axe-core, the accessibility checker the browser tests run inside Chromium,
# from the npm registry (no Node.js needed), pinned by version and hash.
axe_version=4.14.1
axe_sha256=e6b0ce02b84d892e2e33e403485e7f3d6c29e2be6df65daf44d89ba564139745
axe_dir="${PROBITY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/probity}/axe-core-$axe_version"
if [ ! -f "$axe_dir/axe.min.js" ]; then
  tmp=$(mktemp -d)
  curl -fsSL "https://registry.npmjs.org/axe-core/-/axe-core-$axe_version.tgz" -o "$tmp/axe.tgz"
  echo "$axe_sha256  $tmp/axe.tgz" | sha256sum -c --quiet
  mkdir -p "$axe_dir"
  tar -xzf "$tmp/axe.tgz" -C "$tmp"
  cp "$tmp/package/axe.min.js" "$tmp/package/LICENSE" "$axe_dir/"
  rm -rf "$tmp"
fi
echo "setup-test: axe-core $axe_version in $axe_dir"

# InfluxDB 1.8.10 for the InfluxDB sink and dashboard tests, built from the
# Go module proxy (the newest 1.x that builds without Rust; about a minute
# cold, cached after). Tests find it in $cache/bin (testenv.CacheDir).
cache="${PROBITY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/probity}"
influxd_version=1.8.10
if ! "$cache/bin/influxd" version 2>/dev/null | grep -q "v$influxd_version"; then
  echo "setup-test: building influxd $influxd_version (about a minute)"
  CGO_ENABLED=0 GOBIN="$cache/bin" go install \
    -ldflags "-s -w -X main.version=$influxd_version -X main.branch=1.8 -X main.commit=v$influxd_version" \
    "github.com/influxdata/influxdb/cmd/influxd@v$influxd_version"
fi
echo "setup-test: $("$cache/bin/influxd" version) in $cache/bin"

# Telegraf 1.37.2 with only the plugins the compatibility test uses (its
# influxdb_v2 output against the collector's /api/v2/write), about 40 s cold.
telegraf_version=1.37.2
if ! "$cache/bin/telegraf" --version 2>/dev/null | grep -q "$telegraf_version"; then
  echo "setup-test: building telegraf $telegraf_version (custom build, under a minute)"
  GOBIN="$cache/bin" go install -tags "custom,inputs.internal,inputs.mem,outputs.influxdb_v2" \
    -ldflags "-X github.com/influxdata/telegraf/internal.Version=$telegraf_version" \
    "github.com/influxdata/telegraf/cmd/telegraf@v$telegraf_version"
fi
echo "setup-test: $("$cache/bin/telegraf" --version) in $cache/bin"

# A Debian 12 root (debootstrap minbase with systemd) the package tests
# install the .deb files into, in a chroot; about a minute, cached.
if [ "$(id -u)" = 0 ]; then "$(dirname "$0")/../deploy/testdata/mkrootfs.sh"; fi
