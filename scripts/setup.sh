#!/usr/bin/env bash
# Installs the Debian packages cogent needs that are missing (Debian 12). Safe to run again.
#   bash scripts/setup.sh           # to build, test and benchmark
#   bash scripts/setup.sh --bench   # also the optional benchmark peers: Go and gevent
set -euo pipefail

packages=(g++ cmake make pkg-config liburing-dev libev-dev catch2 libbenchmark-dev
          libboost1.81-dev libboost-context1.81-dev python3 curl dpkg-dev file gnuplot-nox)
[[ ${1:-} == --bench ]] && packages+=(golang-go python3-gevent)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends \
    "${missing[@]}"
fi
