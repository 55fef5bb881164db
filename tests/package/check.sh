#!/usr/bin/env bash
# Installs the built project into a scratch prefix, then builds and runs a consumer against it
# three ways: find_package with the shared and the static library, and pkg-config.
set -euo pipefail
build=$1 scratch=$2 here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$scratch" && mkdir -p "$scratch"
cmake --install "$build" --prefix "$scratch/prefix" >/dev/null
cmake -S "$here/consumer" -B "$scratch/consumer" -DCMAKE_PREFIX_PATH="$scratch/prefix" >/dev/null
cmake --build "$scratch/consumer" >/dev/null
LD_LIBRARY_PATH="$scratch/prefix/lib" "$scratch/consumer/consumer"
"$scratch/consumer/consumer_static"
export PKG_CONFIG_PATH="$scratch/prefix/lib/pkgconfig"
# shellcheck disable=SC2046
g++ -std=c++20 "$here/consumer/main.cpp" $(pkg-config --cflags --libs cogent) -o "$scratch/pc"
LD_LIBRARY_PATH="$scratch/prefix/lib" "$scratch/pc"
echo "package check passed"
