#!/usr/bin/env bash
# Installs the system packages the integration tests use (Debian 12, as
# root). Safe to run again: apt skips what is installed.
set -euo pipefail
pkgs=(iproute2 iptables nftables iputils-ping ca-certificates iperf3 ethtool snmpd snmp snmpsim e2guardian dnsmasq-base)
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
